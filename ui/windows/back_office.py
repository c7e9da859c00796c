"""The radiology back office: studies without an order, held, refused, failed; resend, discard.

It also lists the corrections: studies sent under one identity and corrected
to another, with the old and new MRN and accession and what became of the
old copy at the PACS (IOCM rejection note, or flagged for its administrator).
"""

from __future__ import annotations

import logging
import sqlite3
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
    QVBoxLayout,
    QWidget,
)

from kiosk import corrections
from kiosk.config import Config
from kiosk.errors import IdentityMismatchError, KioskError
from kiosk.importer import ImportOutcome, outcome_of
from kiosk.lifecycle import Actor, discard
from kiosk.reconciliation import attach_order
from kiosk.send.deliver import deliver
from kiosk.store import db, health, outbox
from kiosk.store.studies import StudyRecord, StudyState, find_studies
from kiosk.worklist import find_order
from ui.models.studies import (
    DISCARDED,
    FAILED,
    HELD,
    INCOMPLETE,
    QUARANTINED,
    REFUSED,
    kind_of,
    state_text,
)
from ui.models.tables import ListTableModel, format_date, local_time
from ui.workers import Progress, TaskRunner

log = logging.getLogger(__name__)

FILTERS = (
    ("Without an order", "unscheduled"),
    ("Held, refused or failed", "attention"),
    ("Not delivered", "undelivered"),
    ("Discarded", "discarded"),
    ("All", "all"),
)
_ATTENTION = (HELD, REFUSED, QUARANTINED, FAILED, INCOMPLETE)

#: What became of the old copy of a corrected study, in words.
REJECTION_NOTE = {
    corrections.PENDING: "rejection note to send",
    corrections.SENT: "rejection note sent",
    corrections.FLAGGED: "flagged for the PACS administrator",
    corrections.NONE: "replaced (same patient)",
}


class QueueRow:
    """A study of the store with its delivery counts and why it waits, for the table."""

    def __init__(self, record: StudyRecord, outcome: ImportOutcome, reason: str = "") -> None:
        self.record = record
        self.outcome = outcome
        self.reason = reason


def queue_model() -> ListTableModel[QueueRow]:
    """The back office's table."""
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
            ("Sent", lambda r: f"{r.outcome.sent}/{r.outcome.queued}"),
            ("Why", lambda r: r.reason),
            ("Imported", lambda r: format_date(r.record.created_at[:10].replace("-", ""))),
            ("Study UID", lambda r: r.record.study_instance_uid),
        ]
    )


def corrections_model() -> ListTableModel[dict[str, Any]]:
    """Studies sent under one identity and corrected to another (``kiosk queue`` corrections)."""
    return ListTableModel(
        [
            ("Id", lambda c: str(c["study_id"])),
            ("To", lambda c: str(c["destination"])),
            ("Old MRN", lambda c: str(c["old_mrn"]) or "—"),
            ("Old accession", lambda c: str(c["old_accession"]) or "— none —"),
            ("New MRN", lambda c: str(c["new_mrn"])),
            ("New accession", lambda c: str(c["new_accession"]) or "— none —"),
            ("Images", lambda c: str(c["instances"])),
            ("Old copy", lambda c: REJECTION_NOTE.get(c["rejection_note"], c["rejection_note"])),
            ("Sent as", lambda c: str(c["old_study_instance_uid"])),
            ("Detail", lambda c: str(c["detail"] or "")),
        ]
    )


def _reason(conn: sqlite3.Connection, record: StudyRecord) -> str:
    """Why a study waits, in one line: the hold reason, or its images' last errors."""
    kind = kind_of(record.state, record.hold_reason)
    if kind == INCOMPLETE:
        return "the copy from the disc did not finish: insert the disc again and import the study"
    if record.hold_reason:
        return record.hold_reason
    if kind in (QUARANTINED, FAILED):
        problems = outbox.problems(conn, record.id)
        errors = list(dict.fromkeys(str(p["last_error"]) for p in problems if p["last_error"]))
        if problems:
            return f"{len(problems)} image{'s' if len(problems) != 1 else ''} {kind}: " + (
                "; ".join(errors[:2]) or "no reason recorded"
            )
    if kind == HELD:
        return "no order attached yet"
    return ""


def load_rows(config: Config, which: str) -> list[QueueRow]:
    """Read the studies of the store for a filter (runs off the GUI thread)."""
    with db.opened(config.database_path) as conn:
        rows = []
        for record in find_studies(conn):
            kind = kind_of(record.state, record.hold_reason)
            discarded = kind == DISCARDED
            if which == "discarded" and not discarded:
                continue
            if which == "attention" and kind not in _ATTENTION:
                continue
            if which == "unscheduled" and (record.accession_number or discarded):
                continue
            outcome = outcome_of(conn, record.id)
            if which == "undelivered" and (
                discarded or (outcome.sent == outcome.queued and kind not in _ATTENTION)
            ):
                continue
            rows.append(QueueRow(record, outcome, _reason(conn, record)))
        return rows


def load_corrections(config: Config) -> list[dict[str, Any]]:
    """Read every correction, newest first (runs off the GUI thread)."""
    with db.opened(config.database_path) as conn:
        return corrections.listed(conn)


Loaded = tuple[list[QueueRow], list[health.DestinationDown], list[dict[str, Any]]]


class BackOfficeWindow(QWidget):
    """Reconcile studies that arrived without an order; resend what did not arrive."""

    def __init__(
        self, config: Config, runner: TaskRunner, user: str = "", parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.config = config
        self.runner = runner
        self.user = user
        self.show_error: Callable[[str], None] = lambda m: QMessageBox.warning(
            self, "Cannot do that", m
        )
        #: Asks a yes/no question; replaced in tests.
        self.confirm: Callable[[str, str], bool] = self._ask
        #: Asks for a line of text (None: cancelled); replaced in tests.
        self.ask_text: Callable[[str, str], str | None] = self._ask_text
        self.setWindowTitle("Back office — reconciliation queue")
        layout = QVBoxLayout(self)
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

        self.rows = queue_model()
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
        layout.addLayout(actions)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._last_result = ""
        self.resize(1280, 720)

    def refresh(self, *_: Any) -> None:
        """Reload the table from the store."""
        which = str(self.filter_box.currentData())

        def work(_p: Progress) -> Loaded:
            rows = load_rows(self.config, which)
            fixes = load_corrections(self.config)
            with db.opened(self.config.database_path) as conn:
                return rows, health.down(conn), fixes

        self.runner.run(work, self._show, self._failed)

    def _show(self, loaded: Loaded) -> None:
        rows, down, fixes = loaded
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

    def _attach(self, uid: str, accession: str, *, confirmed_mismatch: bool) -> None:
        def work(_p: Progress) -> ImportOutcome:
            order = find_order(self.config.worklist, self.config.ae_title, accession)
            with db.opened(self.config.database_path) as conn:
                outcome = attach_order(
                    conn,
                    self.config,
                    uid,
                    order,
                    user=self.user,
                    confirmed_mismatch=confirmed_mismatch,
                )
                deliver(conn, self.config, study_id=outcome.study_id, user=self.user)
                return outcome_of(conn, outcome.study_id)

        def failed(exc: Exception) -> None:
            if isinstance(exc, IdentityMismatchError) and not confirmed_mismatch:
                question = (
                    "The disc's birth date/sex differs from the order's patient: "
                    f"{exc}. Attach anyway?"
                )
                if self.confirm("Check the patient", question):
                    self._attach(uid, accession, confirmed_mismatch=True)
                else:
                    self.status.setText("Not attached: check the patient first.")
                return
            self._failed(exc)

        self.runner.run(work, self._done, failed)

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
        actor = Actor(self.user, self.config.station)

        def work(_p: Progress) -> StudyRecord:
            with db.opened(self.config.database_path) as conn:
                return discard(conn, record.id, reason.strip(), actor)

        self.runner.run(work, self._discarded, self._failed)

    def _discarded(self, record: StudyRecord) -> None:
        self._last_result = (
            f"Study {record.id} discarded ({record.hold_reason}); nothing more of it is sent."
        )
        self.status.setText(self._last_result)
        self.refresh()

    def resend(self) -> None:
        """Send again what the outbox still holds for the selected study (failed ones too)."""
        row = self.selected()
        if row is None:
            self.status.setText("Select a study first.")
            return
        study_id = row.record.id

        def work(_p: Progress) -> ImportOutcome:
            with db.opened(self.config.database_path) as conn:
                deliver(conn, self.config, study_id=study_id, retry_failed=True, user=self.user)
                return outcome_of(conn, study_id)

        self.runner.run(work, self._done, self._failed)

    def resend_all(self) -> None:
        """Send now everything the outbox holds, failed images too (after an outage)."""

        def work(_p: Progress) -> tuple[int, int, dict[str, str]]:
            with db.opened(self.config.database_path) as conn:
                report = deliver(conn, self.config, retry_failed=True, user=self.user)
                return report.sent, outbox.remaining(conn), report.unreachable

        self.runner.run(work, self._all_done, self._failed)

    def _all_done(self, result: tuple[int, int, dict[str, str]]) -> None:
        sent, waiting, unreachable = result
        text = f"{sent} image{'s' if sent != 1 else ''} delivered"
        if waiting:
            text += f"; {waiting} still waiting"
        names = [self.config.label_of(name) for name in unreachable]
        if names:
            text += f" ({', '.join(names)} not reachable)"
        self._last_result = text + "."
        self.status.setText(self._last_result)
        self.refresh()

    def _done(self, outcome: ImportOutcome) -> None:
        self._last_result = (
            f"Study {outcome.study_id}: {outcome.sent}/{outcome.queued} images delivered to "
            f"{outcome.destination} ({outcome.state})."
        )
        self.status.setText(self._last_result)
        self.accession_edit.clear()
        self.refresh()

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    def _ask_text(self, title: str, text: str) -> str | None:
        value, ok = QInputDialog.getText(self, title, text)
        return str(value) if ok else None

    def _failed(self, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, KioskError) else f"Unexpected error: {exc}"
        if not isinstance(exc, KioskError):
            log.error("unexpected error", exc_info=exc)
        self.status.setText(message)
        self.show_error(message)
