"""The physician's tag dialog: the tag, the requesting physician, the reason."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from kiosk.app.tagging import TagChoice
from ui.models.studies import TAG_LABELS


class TagDialog(QDialog):
    """Choose a tag for one or more studies, with who asked for it and why.

    A tag needs a reason; a second read also needs the requesting physician
    (billing asks who ordered it). OK stays disabled until both are there.
    """

    def __init__(
        self, what: str, current: TagChoice | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Tag studies")
        form = QFormLayout(self)
        heading = QLabel(what)
        heading.setWordWrap(True)
        form.addRow(heading)
        self.tag_box = QComboBox()
        for value, label in TAG_LABELS.items():
            self.tag_box.addItem(label, value)
        self.requested_edit = QLineEdit()
        self.requested_edit.setPlaceholderText("the physician who asked for it")
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setPlaceholderText("why (e.g. compare with the CT of next week)")
        self.reason_edit.setFixedHeight(80)
        form.addRow("Tag", self.tag_box)
        form.addRow("Requested by", self.requested_edit)
        form.addRow("Reason", self.reason_edit)
        self.hint = QLabel("")
        self.hint.setStyleSheet("color: #8a4b00;")
        form.addRow(self.hint)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        if current is not None:
            self.tag_box.setCurrentIndex(max(0, self.tag_box.findData(current.tag)))
            self.requested_edit.setText(current.requested_by)
            self.reason_edit.setPlainText(current.reason)
        self.tag_box.currentIndexChanged.connect(self._check)
        self.requested_edit.textChanged.connect(self._check)
        self.reason_edit.textChanged.connect(self._check)
        self._check()

    def choice(self) -> TagChoice:
        """What the physician chose."""
        return TagChoice(
            str(self.tag_box.currentData() or ""),
            self.requested_edit.text().strip(),
            " ".join(self.reason_edit.toPlainText().split()),
        )

    def _check(self, *_: object) -> None:
        choice = self.choice()
        missing = ""
        if choice.tag and not choice.reason:
            missing = "Give the reason."
        elif choice.tag == "second-read" and not choice.requested_by:
            missing = "A second read needs the requesting physician (for billing)."
        self.hint.setText(missing)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(not missing)
