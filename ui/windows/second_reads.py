"""The back office's "Second reads" tab: requests for billing, their orders and states."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.second_reads import (
    Hl7Run,
    billing_csv,
    list_second_reads,
    send_hl7,
    set_billing_state,
)
from kiosk.app.values import SecondReadRecord
from kiosk.config import Config
from ui.models.tables import ListTableModel, local_time
from ui.operations import Op, Runner, one_line

FILTERS = (
    ("Order needed", "order needed"),
    ("Open (not billed)", "open"),
    ("All", "all"),
)


def second_reads_model() -> ListTableModel[SecondReadRecord]:
    """The second reads, as the back office and billing read them."""
    return ListTableModel(
        [
            ("Id", lambda r: str(r.id)),
            ("Billing state", lambda r: r.state),
            ("MRN", lambda r: r.mrn),
            ("Accession", lambda r: r.accession or "— order needed —"),
            ("Requested by", lambda r: r.requested_by),
            ("Reason", lambda r: r.reason),
            ("Requested", lambda r: local_time(r.requested_at, dated=True)),
            ("Study UID", lambda r: r.study_instance_uid),
        ]
    )


def _kept(which: str, read: SecondReadRecord) -> bool:
    if which == "order needed":
        return read.state == "order needed"
    if which == "open":
        return read.state not in ("billed", "cancelled")
    return True


class SecondReadsPanel(QWidget):
    """List second reads; attach the order; mark read, billed; send to billing; export CSV."""

    def __init__(
        self, config: Config, runner: Runner, user: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.runner = runner
        self.user = user
        #: Asks where to save the CSV (None: cancelled); replaced in tests.
        self.ask_path: Callable[[], Path | None] = self._ask_path
        #: Shows an error to the user; replaced in tests.
        self.show_error: Callable[[str], None] = lambda m: QMessageBox.warning(
            self, "Cannot do that", m
        )
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        self.filter_box = QComboBox()
        for label, value in FILTERS:
            self.filter_box.addItem(label, value)
        self.filter_box.currentIndexChanged.connect(self.refresh)
        top.addWidget(self.filter_box)
        self.flag_label = QLabel("")
        self.flag_label.setStyleSheet("color: #a00; font-weight: bold;")
        top.addWidget(self.flag_label, 1)
        layout.addLayout(top)
        self.rows = second_reads_model()
        self.view = QTableView()
        self.view.setModel(self.rows)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.horizontalHeader().setStretchLastSection(True)
        self.view.verticalHeader().setVisible(False)
        layout.addWidget(self.view, 1)
        actions = QHBoxLayout()
        actions.addWidget(QLabel("Accession:"))
        self.accession_edit = QLineEdit()
        self.accession_edit.setPlaceholderText("the signed order's accession number")
        self.accession_edit.returnPressed.connect(self.attach_order)
        actions.addWidget(self.accession_edit)
        self.attach_button = QPushButton("Attach order")
        self.attach_button.clicked.connect(self.attach_order)
        actions.addWidget(self.attach_button)
        self.read_button = QPushButton("Mark read")
        self.read_button.clicked.connect(lambda: self.move("read"))
        actions.addWidget(self.read_button)
        self.billed_button = QPushButton("Mark billed")
        self.billed_button.clicked.connect(lambda: self.move("billed"))
        actions.addWidget(self.billed_button)
        self.cancel_button = QPushButton("Cancel request")
        self.cancel_button.clicked.connect(lambda: self.move("cancelled"))
        actions.addWidget(self.cancel_button)
        self.send_button = QPushButton("Send to billing (HL7)")
        self.send_button.setEnabled(config.hl7 is not None)
        self.send_button.setToolTip(
            "Order requests and charges over MLLP to the [hl7] receiver"
            if config.hl7 is not None
            else "No [hl7] receiver is configured"
        )
        self.send_button.clicked.connect(self.send)
        actions.addWidget(self.send_button)
        self.csv_button = QPushButton("Export CSV…")
        self.csv_button.clicked.connect(self.export_csv)
        actions.addWidget(self.csv_button)
        layout.addLayout(actions)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    def refresh(self, *_: Any) -> None:
        """Reload the second reads from the store."""
        config = self.config
        Op(lambda _events: list_second_reads(config), self._show).run_in(self.runner)

    def _show(self, reads: list[SecondReadRecord]) -> None:
        which = str(self.filter_box.currentData())
        self.rows.set_rows([r for r in reads if _kept(which, r)])
        needed = sum(1 for r in reads if r.state == "order needed")
        self.flag_label.setText(
            f"{needed} second read{'s' if needed != 1 else ''} need{'s' if needed == 1 else ''} "
            "a signed order in the EMR"
            if needed
            else ""
        )

    def selected(self) -> SecondReadRecord | None:
        """The chosen second read."""
        chosen = self.view.selectionModel().selectedRows()
        return self.rows.rows[chosen[0].row()] if chosen else None

    def attach_order(self) -> None:
        """Attach the typed accession to the selected request: ``ordered``."""
        accession = self.accession_edit.text().strip()
        if self.selected() is None or not accession:
            self.status.setText("Select a second read and type the order's accession number.")
            return
        self.move("ordered", accession)

    def move(self, state: str, accession: str = "") -> None:
        """Move the selected second read to ``state`` (the service checks the step)."""
        read = self.selected()
        if read is None:
            self.status.setText("Select a second read first.")
            return
        config, user = self.config, self.user
        Op(
            lambda _events: set_billing_state(
                config, read.id, state, accession=accession, user=user
            ),
            self._moved,
            failure=self._failed,
            refresh=(self.refresh,),
        ).run_in(self.runner)

    def _moved(self, read: SecondReadRecord) -> None:
        self.accession_edit.clear()
        self.status.setText(
            f"Second read {read.id}: {read.state}"
            + (f", accession {read.accession}." if read.accession else ".")
        )

    def send(self) -> None:
        """Deliver the order requests and charges to the billing interface engine."""
        config = self.config
        Op(
            lambda _events: send_hl7(config),
            self._sent,
            failure=self._failed,
            refresh=(self.refresh,),
        ).run_in(self.runner)

    def _sent(self, run: Hl7Run) -> None:
        report = run.report
        assert report is not None  # send_hl7 always delivers
        text = f"{report.acked} message{'s' if report.acked != 1 else ''} acknowledged by billing"
        if report.waiting:
            text += f"; {report.waiting} wait" + (
                " (the receiver cannot be reached)" if report.down else ""
            )
        if report.refused:
            text += f"; {len(report.refused)} refused: {next(iter(report.refused.values()))}"
        elif report.refused_waiting:
            text += f"; {report.refused_waiting} refused before wait for the back office"
        if run.unbuilt:
            text += f"; not sent: {run.unbuilt[0]} (correct the order in the worklist)"
        self.status.setText(text + ".")

    def export_csv(self) -> None:
        """Write the billing office's CSV where the user chooses."""
        path = self.ask_path()
        if path is None:
            return
        config = self.config

        def work(_events: object) -> Path:
            path.write_text(billing_csv(config), encoding="utf-8")
            return path

        Op(
            work, lambda p: self.status.setText(f"CSV written to {p}."), failure=self._failed
        ).run_in(self.runner)

    def _failed(self, exc: Exception) -> None:
        message = one_line(exc)
        self.status.setText(message)
        self.show_error(message)

    def _ask_path(self) -> Path | None:
        name, _ = QFileDialog.getSaveFileName(
            self, "Export second reads", "second-reads.csv", "CSV (*.csv)"
        )
        return Path(name) if name else None
