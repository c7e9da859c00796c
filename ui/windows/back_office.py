"""The radiology back office: studies without an order, failed deliveries, resend."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
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

from kiosk.config import Config
from kiosk.errors import KioskError
from kiosk.importer import ImportOutcome, outcome_of
from kiosk.reconciliation import attach_order
from kiosk.send.deliver import deliver
from kiosk.store import db, health, outbox
from kiosk.store.studies import StudyRecord, find_studies
from kiosk.worklist import find_order
from ui.models.tables import ListTableModel, format_date, local_time
from ui.workers import Progress, TaskRunner

log = logging.getLogger(__name__)

FILTERS = (
    ("Without an order", "unscheduled"),
    ("Not delivered", "undelivered"),
    ("All", "all"),
)


class QueueRow:
    """A study of the store with its delivery counts, for the table."""

    def __init__(self, record: StudyRecord, outcome: ImportOutcome) -> None:
        self.record = record
        self.outcome = outcome


def queue_model() -> ListTableModel[QueueRow]:
    """The back office's table."""
    return ListTableModel(
        [
            ("Id", lambda r: str(r.record.id)),
            ("State", lambda r: r.record.state.value),
            ("MRN", lambda r: r.record.mrn),
            ("Accession", lambda r: r.record.accession_number or "— none —"),
            ("Study date", lambda r: format_date(r.record.study_date)),
            ("Type", lambda r: r.record.modalities),
            ("Description", lambda r: r.record.study_description),
            ("To", lambda r: r.record.destination),
            ("Sent", lambda r: f"{r.outcome.sent}/{r.outcome.queued}"),
            ("Imported", lambda r: format_date(r.record.created_at[:10].replace("-", ""))),
            ("Study UID", lambda r: r.record.study_instance_uid),
        ]
    )


def load_rows(config: Config, which: str) -> list[QueueRow]:
    """Read the studies of the store for a filter (runs off the GUI thread)."""
    with db.opened(config.database_path) as conn:
        rows = []
        for record in find_studies(conn):
            outcome = outcome_of(conn, record.id)
            if which == "unscheduled" and record.accession_number:
                continue
            if which == "undelivered" and outcome.sent == outcome.queued:
                continue
            rows.append(QueueRow(record, outcome))
        return rows


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
        layout.addWidget(self.view, 1)

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
        layout.addLayout(actions)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._last_result = ""
        self.resize(1100, 600)

    def refresh(self, *_: Any) -> None:
        """Reload the table from the store."""
        which = str(self.filter_box.currentData())

        def work(_p: Progress) -> tuple[list[QueueRow], list[health.DestinationDown]]:
            rows = load_rows(self.config, which)
            with db.opened(self.config.database_path) as conn:
                return rows, health.down(conn)

        self.runner.run(work, self._show, self._failed)

    def _show(self, loaded: tuple[list[QueueRow], list[health.DestinationDown]]) -> None:
        rows, down = loaded
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
        uid = row.record.study_instance_uid

        def work(_p: Progress) -> ImportOutcome:
            order = find_order(self.config.worklist, self.config.ae_title, accession)
            with db.opened(self.config.database_path) as conn:
                outcome = attach_order(conn, self.config, uid, order, user=self.user)
                deliver(conn, self.config, study_id=outcome.study_id, user=self.user)
                return outcome_of(conn, outcome.study_id)

        self.runner.run(work, self._done, self._failed)

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

    def _failed(self, exc: Exception) -> None:
        message = str(exc) if isinstance(exc, KioskError) else f"Unexpected error: {exc}"
        if not isinstance(exc, KioskError):
            log.error("unexpected error", exc_info=exc)
        self.status.setText(message)
        self.show_error(message)
