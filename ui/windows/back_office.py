"""The radiology back office: studies without an order, held, refused, failed; resend, discard.

It also lists the corrections: studies sent under one identity and corrected
to another, with the old and new MRN and accession and what became of the
old copy at the PACS (IOCM rejection note, or flagged for its administrator).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.back_office import (
    FLAGGED,
    NONE,
    PENDING,
    SENT,
    QueueRow,
    QueueView,
    ResendAll,
    back_office_view,
    resend_everything,
    resend_study,
)
from kiosk.app.discard_study import discard_study
from kiosk.app.reconcile_study import reconcile_study
from kiosk.app.tagging import TagChoice, current_tags, tag_study
from kiosk.app.values import (
    CorrectionRecord,
    ImportOutcome,
    StudyRecord,
    StudyState,
    TagChange,
    TagRecord,
)
from kiosk.config import Config
from kiosk.errors import AnotherPatientError, IdentityMismatchError
from ui.models.studies import state_text, tag_text
from ui.models.tables import ListTableModel, format_date, local_time
from ui.operations import Op, Runner, one_line
from ui.widgets.tag_dialog import TagDialog
from ui.windows.second_reads import SecondReadsPanel

log = logging.getLogger(__name__)

FILTERS = (
    ("Without an order", "unscheduled"),
    ("Held, refused or failed", "attention"),
    ("Not delivered", "undelivered"),
    ("Discarded", "discarded"),
    ("All", "all"),
)
#: What became of the old copy of a corrected study, in words.
REJECTION_NOTE = {
    PENDING: "rejection note to send",
    SENT: "rejection note sent",
    FLAGGED: "flagged for the PACS administrator",
    NONE: "replaced (same patient)",
}


def queue_model(tag: Callable[[QueueRow], str] | None = None) -> ListTableModel[QueueRow]:
    """The back office's table; ``tag`` shows a study's tag (default: the tag alone)."""
    return ListTableModel(
        [
            ("Id", lambda r: str(r.record.id)),
            ("State", lambda r: state_text(r.record)),
            ("MRN", lambda r: r.record.mrn),
            ("Accession", lambda r: r.record.accession_number or "— none —"),
            ("Study date", lambda r: format_date(r.record.study_date)),
            ("Type", lambda r: r.record.modalities),
            ("Description", lambda r: r.record.study_description),
            ("To", lambda r: r.record.destination),
            ("Tag", tag or (lambda r: tag_text(r.record.tag))),
            ("Sent", lambda r: f"{r.outcome.sent}/{r.outcome.queued}"),
            ("Why", lambda r: r.reason),
            ("Imported", lambda r: format_date(r.record.created_at[:10].replace("-", ""))),
            ("Study UID", lambda r: r.record.study_instance_uid),
        ]
    )


def corrections_model() -> ListTableModel[CorrectionRecord]:
    """Studies sent under one identity and corrected to another (``kiosk queue`` corrections)."""
    return ListTableModel(
        [
            ("Id", lambda c: str(c.study_id)),
            ("To", lambda c: c.destination),
            ("Old MRN", lambda c: c.old_mrn or "—"),
            ("Old accession", lambda c: c.old_accession or "— none —"),
            ("New MRN", lambda c: c.new_mrn),
            ("New accession", lambda c: c.new_accession or "— none —"),
            ("Images", lambda c: str(c.instances)),
            ("Old copy", lambda c: REJECTION_NOTE.get(c.rejection_note, c.rejection_note)),
            ("Sent as", lambda c: c.old_study_instance_uid),
            ("Detail", lambda c: c.detail),
        ]
    )


class BackOfficeWindow(QWidget):
    """Reconcile studies that arrived without an order; resend what did not arrive."""

    def __init__(
        self, config: Config, runner: Runner, user: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.runner = runner
        self.user = user
        self.show_error: Callable[[str], None] = lambda m: QMessageBox.warning(
            self, "Cannot do that", m
        )
        runner.on_failure = self._show_failure
        #: Asks a yes/no question; replaced in tests.
        self.confirm: Callable[[str, str], bool] = self._ask
        #: Asks for a line of text (None: cancelled); replaced in tests.
        self.ask_text: Callable[[str, str], str | None] = self._ask_text
        #: Asks the physician for a tag (None: cancelled); replaced in tests.
        self.ask_tag: Callable[[str, TagChoice | None], TagChoice | None] = self._ask_tag
        self.setWindowTitle("Back office — reconciliation queue")
        outer = QVBoxLayout(self)
        self.tabs = QTabWidget()
        outer.addWidget(self.tabs)
        queue_page = QWidget()
        layout = QVBoxLayout(queue_page)
        self.tabs.addTab(queue_page, "Studies")
        self.second_reads = SecondReadsPanel(config, runner, user)
        self.tabs.addTab(self.second_reads, "Second reads")
        top = QHBoxLayout()
        top.addWidget(QLabel("Show:"))
        self.filter_box = QComboBox()
        for label, value in FILTERS:
            self.filter_box.addItem(label, value)
        self.filter_box.currentIndexChanged.connect(self.refresh)
        top.addWidget(self.filter_box)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        top.addWidget(self.refresh_button)
        top.addStretch(1)
        layout.addLayout(top)
        self.health_label = QLabel("")  # destinations that cannot be reached, if any
        self.health_label.setWordWrap(True)
        self.health_label.setStyleSheet("color: #a00; font-weight: bold;")
        self.health_label.hide()
        layout.addWidget(self.health_label)

        #: Study id -> its current tag with who asked and why.
        self.tags: dict[int, TagRecord] = {}
        self.rows = queue_model(self._tag_of)
        self.view = QTableView()
        self.view.setModel(self.rows)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.verticalHeader().setVisible(False)
        self.view.horizontalHeader().setStretchLastSection(True)
        # Why a study waits can be long (a refusal names both MRNs): wrapped, in full as tooltip.
        why = [t for t, _ in self.rows.columns].index("Why")
        self.view.horizontalHeader().setSectionResizeMode(why, QHeaderView.ResizeMode.Interactive)
        self.view.setColumnWidth(why, 360)
        self.view.setWordWrap(True)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)

        fixes = QGroupBox("Corrections: studies sent under one identity, corrected to another")
        fixes_box = QVBoxLayout(fixes)
        self.corrections = corrections_model()
        self.corrections_view = QTableView()
        self.corrections_view.setModel(self.corrections)
        self.corrections_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.corrections_view.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        self.corrections_view.horizontalHeader().setStretchLastSection(True)
        self.corrections_view.verticalHeader().setVisible(False)
        fixes_box.addWidget(self.corrections_view)
        split.addWidget(fixes)
        split.setSizes([420, 160])
        layout.addWidget(split, 1)

        actions = QHBoxLayout()
        actions.addWidget(QLabel("Accession:"))
        self.accession_edit = QLineEdit()
        self.accession_edit.setPlaceholderText("the order's accession number")
        self.accession_edit.returnPressed.connect(self.attach)
        actions.addWidget(self.accession_edit)
        self.attach_button = QPushButton("Attach order and send")
        self.attach_button.clicked.connect(self.attach)
        actions.addWidget(self.attach_button)
        self.resend_button = QPushButton("Resend what is not delivered")
        self.resend_button.clicked.connect(self.resend)
        actions.addWidget(self.resend_button)
        self.resend_all_button = QPushButton("Resend everything waiting")
        self.resend_all_button.setToolTip("After an outage: every undelivered image, to every PACS")
        self.resend_all_button.clicked.connect(self.resend_all)
        actions.addWidget(self.resend_all_button)
        self.discard_button = QPushButton("Discard…")
        self.discard_button.setToolTip("Never send the study (asks for the reason)")
        self.discard_button.clicked.connect(self.discard)
        actions.addWidget(self.discard_button)
        self.tag_button = QPushButton("Tag…")
        self.tag_button.setToolTip("Physician: tag the study, with who asked and why")
        self.tag_button.clicked.connect(self.tag)
        actions.addWidget(self.tag_button)
        layout.addLayout(actions)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._last_result = ""
        self.resize(1280, 720)

    def refresh(self, *_: Any) -> None:
        """Reload the tables from the store."""
        which, config = str(self.filter_box.currentData()), self.config
        Op(lambda _events: current_tags(config), self._show_tags).run_in(self.runner)
        Op(lambda _events: back_office_view(config, which), self._show).run_in(self.runner)
        self.second_reads.refresh()

    def _show_tags(self, tags: dict[int, TagRecord]) -> None:
        self.tags = tags
        self.rows.refresh()

    def _tag_of(self, row: QueueRow) -> str:
        found = self.tags.get(row.record.id)
        if found is None:
            return tag_text(row.record.tag)
        return tag_text(found.tag, found.requested_by)

    def tag(self) -> None:
        """Tag the selected study (audited; a second read is requested for billing)."""
        row = self.selected()
        if row is None:
            self.status.setText("Select a study first.")
            return
        record = row.record
        what = (
            f"Study {record.id}: {format_date(record.study_date)} {record.modalities} "
            f"{record.study_description} (MRN {record.mrn})"
        )
        found = self.tags.get(record.id)
        current = (
            TagChoice(found.tag, found.requested_by, found.reason)
            if found is not None
            else TagChoice(record.tag)
        )
        choice = self.ask_tag(what, current)
        if choice is None:
            return
        config, user = self.config, self.user
        Op(
            lambda _events: tag_study(config, choice, study_id=record.id, user=user),
            self._tagged,
            refresh=(self.refresh,),
        ).run_in(self.runner)

    def _tagged(self, change: TagChange) -> None:
        read = change.second_read
        self._last_result = f"Study {change.study_id}: {tag_text(change.tag) or 'no tag'}" + (
            f"; second read {read.id} {read.state}." if read is not None else "."
        )
        self.status.setText(self._last_result)

    def _ask_tag(self, what: str, current: TagChoice | None) -> TagChoice | None:
        dialog = TagDialog(what, current, self)
        return dialog.choice() if dialog.exec() == TagDialog.DialogCode.Accepted else None

    def _show(self, loaded: QueueView) -> None:
        rows, down, fixes = loaded.rows, loaded.down, loaded.corrections
        self.corrections.set_rows(fixes)
        lines = []
        for record in down:
            name = self.config.label_of(record.destination)
            attempts = f"{record.failures} failed attempt{'s' if record.failures != 1 else ''}"
            lines.append(
                f"{name} cannot be reached since {local_time(record.down_since, dated=True)} "
                f"({attempts}). The next automatic try is at "
                f"{local_time(record.next_attempt_at)}; "
                '"Resend everything waiting" tries at once. '
                f"Last error: {record.last_error}"
            )
        self.health_label.setText("\n".join(lines))
        self.health_label.setVisible(bool(lines))
        self.rows.set_rows(rows)
        count = f"{len(rows)} stud{'y' if len(rows) == 1 else 'ies'} listed."
        self.status.setText(f"{self._last_result} {count}".strip())
        self._last_result = ""

    def selected(self) -> QueueRow | None:
        """The chosen row."""
        chosen = self.view.selectionModel().selectedRows()
        return self.rows.rows[chosen[0].row()] if chosen else None

    def attach(self) -> None:
        """Attach the typed accession to the selected study, coerce again and send."""
        row = self.selected()
        accession = self.accession_edit.text().strip()
        if row is None or not accession:
            self.status.setText("Select a study and type the accession number.")
            return
        self._attach(row.record.study_instance_uid, accession, confirmed_mismatch=False)

    def _attach(
        self,
        uid: str,
        accession: str,
        *,
        confirmed_mismatch: bool,
        move_to: tuple[str, str] | None = None,
    ) -> None:
        """Attach ``accession``; ``move_to``: the (MRN, issuer) a person agreed to move it to."""
        config, user = self.config, self.user
        mrn, issuer = move_to if move_to is not None else ("", None)

        def work(_events: object) -> ImportOutcome:
            return reconcile_study(
                config,
                uid,
                accession,
                mrn=mrn,
                issuer=issuer,
                user=user,
                confirmed_mismatch=confirmed_mismatch,
            )

        def failed(exc: Exception) -> None:
            if isinstance(exc, AnotherPatientError) and move_to is None:
                if self.confirm("Move the study to another patient?", _move_question(exc)):
                    self._attach(
                        uid,
                        accession,
                        confirmed_mismatch=confirmed_mismatch,
                        move_to=(exc.mrn, exc.issuer),
                    )
                else:
                    self.status.setText("Not attached: the study stays with its patient.")
                return
            if isinstance(exc, IdentityMismatchError) and not confirmed_mismatch:
                question = (
                    "The disc's birth date/sex differs from the order's patient: "
                    f"{exc}. Attach anyway?"
                )
                if self.confirm("Check the patient", question):
                    self._attach(uid, accession, confirmed_mismatch=True, move_to=move_to)
                else:
                    self.status.setText("Not attached: check the patient first.")
                return
            self._failed(exc)

        Op(work, self._done, failure=failed, refresh=(self.refresh,)).run_in(self.runner)

    def discard(self) -> None:
        """Discard the selected study, with a reason: what was not delivered is never sent."""
        row = self.selected()
        if row is None:
            self.status.setText("Select a study first.")
            return
        record = row.record
        if record.state is StudyState.DISCARDED:
            self.status.setText(f"Study {record.id} is already discarded.")
            return
        delivered = (
            f" The {row.outcome.sent} images already delivered stay in the PACS."
            if row.outcome.sent
            else ""
        )
        reason = self.ask_text(
            "Discard a study",
            f"Study {record.id} ({record.study_instance_uid}, {record.state.value}): its images "
            f"that were not delivered will never be sent.{delivered}\n\nWhy is it discarded?",
        )
        if reason is None:
            self.status.setText("Not discarded.")
            return
        if not reason.strip():
            self.status.setText("Not discarded: a reason is required.")
            return
        config, user, why = self.config, self.user, reason.strip()
        Op(
            lambda _events: discard_study(config, why, study_id=record.id, user=user)[0],
            self._discarded,
            refresh=(self.refresh,),
        ).run_in(self.runner)

    def _discarded(self, record: StudyRecord) -> None:
        self._last_result = (
            f"Study {record.id} discarded ({record.hold_reason}); nothing more of it is sent."
        )
        self.status.setText(self._last_result)

    def resend(self) -> None:
        """Send again what the outbox still holds for the selected study (failed ones too)."""
        row = self.selected()
        if row is None:
            self.status.setText("Select a study first.")
            return
        config, user, study_id = self.config, self.user, row.record.id
        Op(
            lambda _events: resend_study(config, study_id, user=user),
            self._done,
            refresh=(self.refresh,),
        ).run_in(self.runner)

    def resend_all(self) -> None:
        """Send now everything the outbox holds, failed images too (after an outage)."""
        config, user = self.config, self.user
        Op(
            lambda _events: resend_everything(config, user=user),
            self._all_done,
            refresh=(self.refresh,),
        ).run_in(self.runner)

    def _all_done(self, result: ResendAll) -> None:
        sent, waiting, unreachable = result.sent, result.waiting, result.unreachable
        text = f"{sent} image{'s' if sent != 1 else ''} delivered"
        if waiting:
            text += f"; {waiting} still waiting"
        names = [self.config.label_of(name) for name in unreachable]
        if names:
            text += f" ({', '.join(names)} not reachable)"
        self._last_result = text + "."
        self.status.setText(self._last_result)

    def _done(self, outcome: ImportOutcome) -> None:
        self._last_result = (
            f"Study {outcome.study_id}: {outcome.sent}/{outcome.queued} images delivered to "
            f"{outcome.destination} ({outcome.state})."
        )
        self.status.setText(self._last_result)
        self.accession_edit.clear()

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_text(self, title: str, text: str) -> str | None:
        value, ok = QInputDialog.getText(self, title, text)
        return str(value) if ok else None

    def _failed(self, exc: Exception) -> None:
        self._show_failure(one_line(exc))

    def _show_failure(self, message: str) -> None:
        self.status.setText(message)
        self.show_error(message)


def _move_question(exc: AnotherPatientError) -> str:
    """What the back office is asked before a study moves to the order's patient."""
    (old_mrn, old_issuer), none = exc.was, "no issuer"
    return (
        f"This order belongs to MRN {exc.mrn} ({exc.issuer or none}), another patient than "
        f"the study's, MRN {old_mrn} ({old_issuer or none}).\n\n"
        f"Move the study to MRN {exc.mrn}? It is sent again under that patient with new "
        "UIDs; what was already sent under the old MRN is flagged to the PACS administrator "
        "(or rejected where the PACS accepts rejection notes)."
    )
