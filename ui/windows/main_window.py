"""The front desk's main window: pick a disc, find the patient, send the studies."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtGui import QFont, QImage, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.attention import FAILED, INCOMPLETE, QUARANTINED, REFUSED
from kiosk.app.check_connection import echo_destination
from kiosk.app.deliver_due import CommitmentService, OutboxState, outbox_state
from kiosk.app.find_patient import Lookup, candidates_for, lookup_by_name, lookup_scanned
from kiosk.app.housekeeping import record_view
from kiosk.app.import_disc import import_disc
from kiosk.app.preflight import Preflight, preflight
from kiosk.app.priors import PriorChoice, relevant_priors
from kiosk.app.scan_disc import (
    StudyKey,
    earlier_imports,
    preview,
    scan_disc,
    study_key,
    verify_disc,
)
from kiosk.app.sign_in import Action, Session, authorize
from kiosk.app.tagging import TagChoice, tag_study
from kiosk.app.values import (
    DuplicateCheck,
    EchoResult,
    ImportOutcome,
    ImportRequest,
    IncompleteStudy,
    Recovery,
    StudyRecord,
    StudyState,
)
from kiosk.app.watch_media import media_watcher, mounted
from kiosk.config import Config, Destination
from kiosk.errors import IdentityMismatchError, KioskError
from kiosk.media.model import IdentityConflict, MediaScan, StudySummary
from kiosk.media.problems import PLAIN_WORDS
from kiosk.media.watch import EventKind, MediaWatcher, MediumEvent
from kiosk.progress import Event, Milestone, MilestoneKind, Phase
from reconcile.match import Decision, Outcome
from reconcile.model import WorklistItem
from reconcile.names import groups
from reconcile.scripts import is_latin
from ui.models.studies import outcome_status, outcome_summary, state_text, tag_text
from ui.models.tables import (
    CandidateRow,
    format_date,
    format_name,
    local_time,
    study_model,
    worklist_model,
)
from ui.operations import Op, Runners, one_line
from ui.widgets.tag_dialog import TagDialog

log = logging.getLogger(__name__)

BIG = 14  # point size of the front desk's main controls


def _big(widget: QWidget, bold: bool = False) -> QWidget:
    font = QFont(widget.font())
    font.setPointSize(BIG)
    font.setBold(bold)
    widget.setFont(font)
    widget.setMinimumHeight(44)
    return widget


def _table(model: Any) -> QTableView:
    view = QTableView()
    font = QFont(view.font())
    font.setPointSize(12)
    view.setFont(font)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(36)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setStretchLastSection(True)
    return view


def problems_summary(scan: MediaScan) -> str:
    """One plain sentence about a disc's problems, for the front desk ('' when none)."""
    if not scan.problems:
        return ""
    counts: dict[str, int] = {}
    for problem in scan.problems:
        counts[problem.code] = counts.get(problem.code, 0) + 1
    first = PLAIN_WORDS.get(scan.problems[0].code, scan.problems[0].message).lower()
    n = len(scan.problems)
    kinds = len(counts)
    return (
        f"This disc has {n} problem{'s' if n != 1 else ''} "
        f"({kinds} kind{'s' if kinds != 1 else ''}), e.g. {first}. "
        "All readable images are listed; nothing was skipped silently."
    )


def _other_patients(check: DuplicateCheck, mrn: str, label: str) -> str:
    """A warning when the PACS holds the study under another patient (it will be refused)."""
    held_by = check.present.patient_ids if check.present else frozenset()
    others = sorted(p for p in held_by if p and p != mrn)
    if not others:
        return ""
    return (
        f" Careful: {label} holds it under MRN {', '.join(others)}, not {mrn}; it will not be "
        "sent but held for the back office to check both patients."
    )


def conflicts_summary(conflicts: list[IdentityConflict]) -> str:
    """The disc's identity conflicts in plain words: UIDs and outside PatientIDs, never names."""
    if not conflicts:
        return ""
    lines = [f"• {c.message}" for c in conflicts]
    n = len(conflicts)
    head = (
        f"Careful: {n} identifier{'s are' if n != 1 else ' is'} used for more than one "
        "patient on this disc. Import each patient's study on its own, and tell the back office."
    )
    return "\n".join([head, *lines])


def earlier_text(record: StudyRecord) -> str:
    """The status column of a study the kiosk imported before."""
    day = record.created_at[:10]
    if record.state is StudyState.FOUND:
        return f"copy interrupted {day}: import again to resume"
    return f"imported {day} ({state_text(record)}, {record.destination})"


def outbox_text(config: Config, check: OutboxState) -> str:
    """The outbox line: never "everything delivered" while a study needs a person."""
    parts = []
    if check.waiting:
        text = f"{check.waiting} image{'s' if check.waiting != 1 else ''} waiting"
        for record in check.down:
            name = config.label_of(record.destination)
            text += f"; {name} unreachable, next try {local_time(record.next_attempt_at)}"
        parts.append(text + " (sent automatically; see Back office)")
    if check.attention:
        parts.append(", ".join(check.attention.words()) + " (see Back office)")
    if not parts:
        return "Outbox: everything delivered"
    return "Outbox: " + "; ".join(parts)


SEND_MISSING = "Send only the missing images"
SEND_ALL = "Send everything again"


class MainWindow(QMainWindow):
    """Disc on the left, patient lookup and sending on the right."""

    def __init__(
        self,
        config: Config,
        runners: Runners | None = None,
        user: str = "",
        parent: QWidget | None = None,
        watcher: MediaWatcher | None = None,
    ) -> None:
        super().__init__(parent)
        self.config = config
        #: Foreground (the clerk waits: controls disabled) and background (never disables).
        self.runners = runners or Runners(parent=self)
        self.runner = self.runners.foreground
        self.background = self.runners.background
        self.user = user
        self.scan: MediaScan | None = None
        self.viewers: list[QWidget] = []
        self.outcomes: list[ImportOutcome] = []
        self.conflicts: list[IdentityConflict] = []
        #: Copies that an earlier run left unfinished (found by the recovery sweep at start).
        self.incomplete: list[IncompleteStudy] = []
        #: Studies a background delivery refused: internal id -> why (while still refused).
        self.refused: dict[int, str] = {}
        self.recovery: Recovery | None = None
        #: Discs an import was killed before it could say were not all read (told once).
        self.not_all_read: list[str] = []
        self.back_office: Any = None
        self.settings: Any = None
        self._last_request: tuple[list[StudySummary], WorklistItem, bool] | None = None
        #: Asks the user a yes/no question; replaced in tests.
        self.confirm: Callable[[str, str], bool] = self._ask
        #: Asks the user to pick one of several answers (None: cancel); replaced in tests.
        self.choose: Callable[[str, str, list[str]], str | None] = self._choose
        #: Shows an error to the user; replaced in tests.
        self.show_error: Callable[[str], None] = self._error_box
        #: What the destination was asked before the last send (handed to the import).
        self._preflight: Preflight | None = None
        #: The app's storage commitment service (set by the app; none in tests).
        self.commitments: CommitmentService | None = None
        #: Tags chosen for the disc's studies (by Study UID), applied when they are imported.
        self.disc_tags: dict[str, TagChoice] = {}
        #: The disc's studies the store holds (imported before or now): key -> internal id.
        self.in_store: dict[StudyKey, int] = {}
        #: Relevant priors for the chosen order: Study UID -> the scoring's answer.
        self.priors: dict[str, PriorChoice] = {}
        self._priors_for: tuple[str, str] | None = None
        #: Asks the physician for a tag (None: cancelled); replaced in tests.
        self.ask_tag: Callable[[str, TagChoice | None], TagChoice | None] = self._ask_tag
        self.setWindowTitle(f"Outside media import — {config.station}")
        self._build()
        self.runner.busy_changed.connect(self._set_busy)
        self.runner.on_failure = self._show_failure
        #: Notices discs, USB sticks and drop-folder entries coming and going.
        self.watcher = watcher or media_watcher(
            config.media.drop_folder, config.media.drop_settle_seconds
        )
        self.watch_timer = QTimer(self)
        self.watch_timer.timeout.connect(self.poll_media)
        self._look_again = False
        #: The Study UIDs this window is importing now (their copy is under way, not stopped).
        self._importing: set[str] = set()
        self.outbox_timer = QTimer(self)
        self.outbox_timer.timeout.connect(self.deliver_pending)
        self.refresh_media()

    # ---- layout -------------------------------------------------------
    def _build(self) -> None:
        central = QWidget()
        outer = QVBoxLayout(central)

        top = QHBoxLayout()
        top.addWidget(_big(QLabel("Disc:")))
        self.medium_box = QComboBox()
        self.medium_box.setMinimumWidth(420)
        top.addWidget(_big(self.medium_box), 1)
        self.read_button = QPushButton("Read disc")
        self.read_button.clicked.connect(self.read_selected_medium)
        top.addWidget(_big(self.read_button))
        self.folder_button = QPushButton("Open folder…")
        self.folder_button.clicked.connect(self.pick_folder)
        top.addWidget(_big(self.folder_button))
        self.back_office_button = QPushButton("Back office…")
        self.back_office_button.clicked.connect(self.open_back_office)
        top.addWidget(_big(self.back_office_button))
        self.settings_button = QPushButton("Settings…")
        self.settings_button.clicked.connect(self.open_settings)
        top.addWidget(_big(self.settings_button))
        self.lock_button = QPushButton("Lock")
        self.lock_button.setVisible(False)  # shown once someone signed in (Station connects it)
        top.addWidget(_big(self.lock_button))
        outer.addLayout(top)
        #: Who is signed in, or that the station runs open (no user yet).
        self.session_label = QLabel("")
        self.session_label.setVisible(False)
        outer.addWidget(self.session_label)

        split = QSplitter(Qt.Orientation.Horizontal)
        left = QWidget()
        left_box = QVBoxLayout(left)
        self.disc_label = _big(QLabel("No disc read yet. Insert a disc or open a folder."))
        left_box.addWidget(self.disc_label)
        self.study_status: dict[StudyKey, str] = {}
        self.studies = study_model(self._status_of, self._tag_of, self._why_of)
        self.study_view = _table(self.studies)
        # Why a study is (not) a relevant prior is long: a wide column, in full as tooltip.
        self.study_view.horizontalHeader().setStretchLastSection(False)
        why = [title for title, _ in self.studies.columns].index("Why")
        self.study_view.horizontalHeader().setSectionResizeMode(
            why, QHeaderView.ResizeMode.Interactive
        )
        self.study_view.setColumnWidth(why, 620)
        self.study_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.study_view.selectionModel().selectionChanged.connect(self._study_selection_changed)
        self.study_view.doubleClicked.connect(lambda index: self.open_viewer(index.row()))
        left_box.addWidget(self.study_view, 3)
        preview = QHBoxLayout()
        self.thumbnail = QLabel()
        self.thumbnail.setFixedSize(256, 256)
        self.thumbnail.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.thumbnail.setStyleSheet("background: black; color: #bbb;")
        self.thumbnail.setText("no image")
        preview.addWidget(self.thumbnail)
        self.study_details = QLabel()
        self.study_details.setWordWrap(True)
        details_font = QFont(self.study_details.font())
        details_font.setPointSize(12)
        self.study_details.setFont(details_font)
        self.study_details.setAlignment(Qt.AlignmentFlag.AlignTop)
        preview.addWidget(self.study_details, 1)
        left_box.addLayout(preview, 2)
        self.conflict_label = QLabel()
        self.conflict_label.setWordWrap(True)
        self.conflict_label.setStyleSheet("color: #a00; font-weight: bold;")
        self.conflict_label.setTextFormat(Qt.TextFormat.PlainText)
        self.conflict_label.setVisible(False)
        left_box.addWidget(self.conflict_label)
        problems_row = QHBoxLayout()
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet("color: #8a4b00;")
        problems_row.addWidget(self.problems_label, 1)
        self.problems_button = QPushButton("Show all problems")
        self.problems_button.clicked.connect(self.show_problems)
        self.problems_button.setVisible(False)
        problems_row.addWidget(self.problems_button)
        self.view_button = QPushButton("View…")
        self.view_button.setToolTip("Open the selected study in the viewer (or double-click it)")
        self.view_button.clicked.connect(lambda: self.open_viewer())
        problems_row.addWidget(self.view_button)
        left_box.addLayout(problems_row)
        split.addWidget(left)

        right = QWidget()
        right_box = QVBoxLayout(right)
        find_group = QGroupBox("1. Find the patient in our worklist")
        find_group.setStyleSheet("QGroupBox { font-size: 13pt; font-weight: bold; }")
        form = QFormLayout(find_group)
        self.scan_edit = QLineEdit()
        self.scan_edit.setPlaceholderText("Scan or type MRN or accession, then Enter")
        self.scan_edit.returnPressed.connect(self.lookup_scanned)
        form.addRow(_big(QLabel("MRN / accession")), _big(self.scan_edit))
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("FAMILY^Given (* allowed)")
        self.name_edit.returnPressed.connect(self.lookup_by_name)
        form.addRow(_big(QLabel("Name")), _big(self.name_edit))
        self.dob_edit = QLineEdit()
        self.dob_edit.setPlaceholderText("YYYYMMDD")
        self.dob_edit.returnPressed.connect(self.lookup_by_name)
        form.addRow(_big(QLabel("Born")), _big(self.dob_edit))
        buttons = QHBoxLayout()
        self.search_button = QPushButton("Search")
        self.search_button.clicked.connect(self.lookup_by_name)
        buttons.addWidget(_big(self.search_button))
        self.from_disc_button = QPushButton("Find this patient")
        self.from_disc_button.clicked.connect(self.fill_from_disc)
        buttons.addWidget(_big(self.from_disc_button))
        form.addRow(buttons)
        right_box.addWidget(find_group)

        self.candidates = worklist_model()
        self.candidate_view = _table(self.candidates)
        self.candidate_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.candidate_view.selectionModel().selectionChanged.connect(self._update_send_button)
        self.candidate_view.selectionModel().selectionChanged.connect(self._order_chosen)
        right_box.addWidget(self.candidate_view, 1)

        send_group = QGroupBox("2. Send")
        send_group.setStyleSheet("QGroupBox { font-size: 13pt; font-weight: bold; }")
        send_form = QFormLayout(send_group)
        self.dest_box = QComboBox()
        for name, dest in self.config.destinations.items():
            self.dest_box.addItem(dest.label or name, name)
        dest_row = QHBoxLayout()
        dest_row.addWidget(_big(self.dest_box), 1)
        self.test_dest_button = QPushButton("Test connection")
        self.test_dest_button.clicked.connect(self.test_destination)
        dest_row.addWidget(_big(self.test_dest_button))
        send_form.addRow(_big(QLabel("To")), dest_row)
        tag_row = QHBoxLayout()
        self.tag_label = QLabel("No tag")
        self.tag_label.setWordWrap(True)
        tag_row.addWidget(_big(self.tag_label), 1)
        self.tag_button = QPushButton("Tag…")
        self.tag_button.setToolTip(
            "Physician: tag the selected studies (reference, second read, archive) "
            "with who asked and why"
        )
        self.tag_button.clicked.connect(self.tag_selected)
        tag_row.addWidget(_big(self.tag_button))
        send_form.addRow(_big(QLabel("Tag")), tag_row)
        self.unscheduled_check = QCheckBox("No order yet (back office attaches it later)")
        self.unscheduled_check.toggled.connect(self._update_send_button)
        send_form.addRow(self.unscheduled_check)
        #: The disc's PDF/JPEG reports (outside DICOM), wrapped and sent with one chosen study.
        self.reports_check = QCheckBox("Add the disc's reports to the study")
        self.reports_check.setVisible(False)
        send_form.addRow(self.reports_check)
        self.send_button = QPushButton("Send")
        self.send_button.setStyleSheet(
            "QPushButton { background: #1b7f3b; color: white; padding: 8px; }"
            "QPushButton:disabled { background: #9fbfa9; }"
        )
        self.send_button.clicked.connect(self.send_selected)
        send_form.addRow(_big(self.send_button, bold=True))
        right_box.addWidget(send_group)
        split.addWidget(right)
        split.setSizes([820, 580])
        outer.addWidget(split, 1)

        #: What a person must know from earlier runs: unfinished copies, refused studies.
        self.notice_label = QLabel("")
        self.notice_label.setWordWrap(True)
        self.notice_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notice_label.setStyleSheet("color: #a00; font-weight: bold;")
        self.notice_label.setVisible(False)
        outer.addWidget(self.notice_label)
        bottom = QHBoxLayout()
        self.status = QLabel("Ready.")
        self.status.setWordWrap(True)
        bottom.addWidget(_big(self.status), 1)
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(300)
        self.progress.setVisible(False)
        bottom.addWidget(self.progress)
        self.outbox_label = QLabel("")
        self.outbox_label.setStyleSheet("color: #555;")
        self.outbox_label.setWordWrap(True)
        self.outbox_label.setMinimumWidth(240)
        self.outbox_label.setMaximumWidth(460)
        bottom.addWidget(self.outbox_label)
        outer.addLayout(bottom)
        self.setCentralWidget(central)
        QShortcut(QKeySequence("F5"), self, activated=self.read_selected_medium)
        self._update_send_button()

    # ---- media --------------------------------------------------------
    def start_watching(self) -> None:
        """Poll for media every ``[media] poll_interval`` seconds (off the GUI thread)."""
        self.watch_timer.start(int(self.config.media.poll_interval * 1000))
        self.poll_media()

    def start_outbox(self, every_seconds: int = 60) -> None:
        """Deliver what the outbox holds now (after a crash or an outage) and then regularly."""
        self.outbox_timer.start(every_seconds * 1000)
        self.deliver_pending()

    def deliver_pending(self) -> None:
        """Send queued instances whose retry time has come, off the GUI thread.

        The first run (at start) begins with the recovery sweep: imports a crash
        interrupted are finished from the spool (and so delivered by this same
        run), copies that did not finish are named for the clerk.
        """
        self._check_outbox(send=True)

    def _check_outbox(self, *, send: bool) -> None:
        """Deliver (``send``) or only look, then show the outbox line and the notices."""
        if self.background.running("outbox"):
            self._look_again = True  # the run under way may have looked before this change
            return
        self._look_again = False
        sweep = send and self.recovery is None
        config, user, commitments = self.config, self.user, self.commitments
        Op(
            lambda _events: outbox_state(
                config, send=send, sweep=sweep, user=user, commitments=commitments
            ),
            self._outbox_done,
            failure=self._outbox_failed,
            kind="outbox",
        ).run_in(self.background)

    def _outbox_done(self, check: OutboxState) -> None:
        if self._importing:  # a copy under way is not one that stopped
            check = replace(check, attention=check.attention.without(INCOMPLETE, self._importing))
        if check.recovery is not None:
            self.recovery = check.recovery
            self.incomplete = list(check.recovery.incomplete)
            for study_id in check.recovery.finished:
                log.info("recovery: study %d finished from the spool", study_id)
        # What still needs a person: only as long as the store says so.
        self.incomplete = [
            i for i in self.incomplete if i.study_id in check.attention.ids(INCOMPLETE)
        ]
        self.not_all_read += check.not_all_read
        self.refused.update(check.refused)
        still = check.attention.ids(REFUSED)
        self.refused = {k: v for k, v in self.refused.items() if k in still}
        self._show_notices()
        self.outbox_label.setText(outbox_text(self.config, check))
        urgent = check.down or any(
            check.attention.of(kind) for kind in (REFUSED, QUARANTINED, FAILED, INCOMPLETE)
        )
        # Something a person must look at is dark red instead of grey.
        self.outbox_label.setStyleSheet("color: #a00;" if urgent else "color: #555;")
        if check.sent:
            log.info("outbox: %d instances delivered in the background", check.sent)
        if self._look_again:
            self._check_outbox(send=False)

    def _show_notices(self) -> None:
        lines = [f"An earlier copy did not finish: {i.message}." for i in self.incomplete]
        lines += [f"Refused, nothing sent: {m}." for _id, m in sorted(self.refused.items())]
        lines += [f"Not all of a disc was read: {m}." for m in self.not_all_read]
        if self.recovery is not None:
            lines += [
                f"An interrupted import could not be finished: {e}" for e in self.recovery.errors
            ]

        self.notice_label.setText("\n".join(lines))
        self.notice_label.setVisible(bool(lines))

    def _outbox_failed(self, exc: Exception) -> None:
        self._look_again = False
        self.outbox_label.setText("Outbox: cannot check the queue (see the log)")
        self.outbox_label.setStyleSheet("color: #a00;")
        log.warning("outbox delivery failed: %s", exc)

    def poll_media(self) -> None:
        """Look once for inserted or removed media; a new disc is read at once."""
        watcher = self.watcher
        Op(
            lambda _events: watcher.poll(),
            self._media_events,
            failure=self._watch_failed,
            kind="media",
        ).run_in(self.background)

    def _watch_failed(self, exc: Exception) -> None:
        log.warning("watching media failed: %s", exc)

    def _media_events(self, events: list[MediumEvent]) -> None:
        if not events:
            return
        self.refresh_media()
        for event in events:
            where = str(event.medium.mountpoint)
            if event.kind is EventKind.REMOVED:
                if self.scan is not None and str(self.scan.source) == where:
                    self.status.setText(
                        "The disc was taken out. Studies already sent are safe; "
                        "insert it again to continue."
                    )
            elif not self.runner.busy or self.runner.synchronous:
                self.status.setText(f"New medium: {event.medium.label}. Reading it …")
                self.open_medium(event.medium.mountpoint)

    def refresh_media(self) -> None:
        """List mounted discs (and drop-folder entries) in the picker."""
        current = self.medium_box.currentData()
        self.medium_box.clear()
        for medium in self.watcher.present.values() or mounted():
            self.medium_box.addItem(medium.label, str(medium.mountpoint))
        if current and self.medium_box.findData(current) < 0:
            self.medium_box.addItem(f"Folder {current}", current)
        if current:
            self.medium_box.setCurrentIndex(self.medium_box.findData(current))

    def pick_folder(self) -> None:
        """Let the user choose a folder that holds a disc's files."""
        folder = QFileDialog.getExistingDirectory(self, "Open a folder with the disc's files")
        if folder:
            self.open_medium(Path(folder))

    def read_selected_medium(self) -> None:
        """Read the medium chosen in the picker."""
        data = self.medium_box.currentData()
        if data:
            self.open_medium(Path(data))
        else:
            self.status.setText("Insert a disc, or open a folder.")

    def open_medium(self, path: Path) -> None:
        """Read a medium off the GUI thread and show its studies."""
        if self.medium_box.findData(str(path)) < 0:
            self.medium_box.addItem(f"Folder {path}", str(path))
        self.medium_box.setCurrentIndex(self.medium_box.findData(str(path)))
        self.status.setText(f"Reading {path} …")
        # The quick scan trusts the DICOMDIR for the tree, so the studies show at once;
        # then every image's own header is read, and that (the truth) replaces it.
        Op(lambda _events: scan_disc(path, quick=True), self._show_quick).run_in(self.runner)

    def _show_quick(self, scan: MediaScan) -> None:
        self._show_scan(scan)
        config = self.config
        Op(lambda _events: earlier_imports(config, scan), self._show_earlier).run_in(self.runner)
        if not scan.verified:
            self.status.setText("Checking every image on the disc …")
            Op(lambda _events: verify_disc(scan), self._show_scan).run_in(self.runner)

    def _show_scan(self, scan: MediaScan) -> None:
        previous = {study_key(s) for s in self.selected_studies()}
        if self.scan is None or self.scan.source != scan.source:
            self._forget_patient()  # another disc: the last patient's candidates must go
            self.disc_tags = {}
            self.in_store = {}
        self.scan = scan
        self.conflicts = scan.conflicts
        self.studies.set_rows(scan.studies)
        patients = len(scan.patients)
        self.disc_label.setText(
            f"{len(scan.studies)} studies of {patients} patient{'s' if patients != 1 else ''}, "
            f"{len(scan.instances)} images"
        )
        self.problems_label.setText(problems_summary(scan))
        self.problems_button.setVisible(bool(scan.problems))
        self.conflict_label.setText(conflicts_summary(self.conflicts))
        self.conflict_label.setVisible(bool(self.conflicts))
        if self.conflicts:
            self.status.setText(
                "This disc uses one identifier for two patients (see the warning): select one "
                "patient's study, then find the patient."
            )
        else:
            self.status.setText("Select the studies to import, then find the patient.")
        rows = [i for i, s in enumerate(scan.studies) if study_key(s) in previous]
        if rows:
            for row in rows:
                self.study_view.selectionModel().select(
                    self.studies.index(row, 0),
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        elif scan.studies:
            self.study_view.selectRow(0)

    def _forget_patient(self) -> None:
        """Clear the worklist search and its candidates (a new disc is another patient)."""
        self.priors = {}
        self._priors_for = None
        self.candidates.set_rows([])
        self.candidate_view.clearSelection()
        self.name_edit.clear()
        self.dob_edit.clear()
        self.unscheduled_check.setChecked(False)
        self._update_send_button()

    def _status_of(self, study: StudySummary) -> str:
        """The status column: what happened to this study, or a conflict to check."""
        status = self.study_status.get(study_key(study)) or self.study_status.get(
            ("", study.study_instance_uid)
        )
        if status:
            return status
        if any(c.kind == "study" and c.uid == study.study_instance_uid for c in self.conflicts):
            return "conflict: the Study UID is also another patient's"
        shared = {c.uid for c in self.conflicts if c.kind in ("series", "instance")}
        if any(
            series.series_instance_uid in shared
            or any(i.sop_instance_uid in shared for i in series.instances)
            for series in study.series
        ):
            return "conflict: an image or series is also another patient's; held for a check"
        return ""

    def _show_earlier(self, known: dict[StudyKey, StudyRecord]) -> None:
        for key, record in known.items():
            self.study_status.setdefault(key, earlier_text(record))
            if key[0]:  # imported from a disc of this patient: a tag goes to the store
                self.in_store[key] = record.id
        self.studies.refresh()
        if known:
            self.status.setText(
                f"This disc was seen before: {len(known)} of its studies are already in the "
                "kiosk (see Status). Select studies to import, then find the patient."
            )

    def show_problems(self) -> None:
        """List every problem of the disc, in plain words, with the file it concerns."""
        if self.scan is None:
            return
        lines = [f"• {p.plain}" for p in self.scan.problems]
        box = QMessageBox(self)
        box.setWindowTitle("Problems found on this disc")
        box.setText(problems_summary(self.scan))
        box.setDetailedText("\n".join(lines))
        box.open()
        self.problems_box = box

    def selected_studies(self) -> list[StudySummary]:
        """The studies the user selected."""
        rows = sorted({i.row() for i in self.study_view.selectionModel().selectedRows()})
        return [self.studies.rows[r] for r in rows]

    def _tag_of(self, study: StudySummary) -> str:
        choice = self.disc_tags.get(study.study_instance_uid)
        return tag_text(choice.tag, choice.requested_by) if choice else ""

    def _why_of(self, study: StudySummary) -> str:
        prior = self.priors.get(study.study_instance_uid)
        if prior is None:
            return ""
        return ("relevant: " if prior.relevant else "not preselected: ") + prior.why

    def _study_selection_changed(self, *_: Any) -> None:
        chosen = self.selected_studies()
        self._show_tag(chosen)
        self._update_send_button()
        if not chosen or self.scan is None:
            self.study_details.setText("")
            return
        study = chosen[0]
        self.study_details.setText(
            f"<b>{format_name(study.patient_name)}</b><br>"
            f"Born {format_date(study.birth_date) or '?'}, sex {study.sex or '?'}<br>"
            f"Outside ID {study.patient_id} {study.issuer_of_patient_id}<br>"
            f"{format_date(study.study_date)} {'/'.join(study.modalities)}: "
            f"{study.study_description}<br>"
            f"{len(study.series)} series, {len(study.instances)} images"
            + _lost_note(self.scan, study)
        )
        scan = self.scan
        Op(
            lambda _events: preview(scan, study), self._show_thumbnail, failure=self._no_thumbnail
        ).run_in(self.runner)

    def _show_thumbnail(self, pixels: Any) -> None:
        height, width = pixels.shape[:2]
        if pixels.ndim == 3:
            image = QImage(
                pixels.tobytes(), width, height, 3 * width, QImage.Format.Format_RGB888
            ).copy()
        else:
            image = QImage(
                pixels.tobytes(), width, height, width, QImage.Format.Format_Grayscale8
            ).copy()
        self.thumbnail.setPixmap(
            QPixmap.fromImage(image).scaled(
                self.thumbnail.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def _no_thumbnail(self, exc: Exception) -> None:
        self.thumbnail.setText(f"no preview\n({exc})")

    # ---- tags ---------------------------------------------------------
    def _show_tag(self, chosen: list[StudySummary]) -> None:
        tags = {self._tag_of(s) for s in chosen}
        if not chosen:
            self.tag_label.setText("No study selected")
        elif len(tags) > 1:
            self.tag_label.setText("Different tags")
        else:
            self.tag_label.setText(tags.pop() or "No tag")

    def tag_selected(self) -> None:
        """Tag the selected studies: remembered until they are imported, or in the store.

        A study this window imported already is tagged in the store at once
        (audited; a second read is requested); the others get their tag when
        they are imported.
        """
        chosen = self.selected_studies()
        if not chosen:
            self.status.setText("Select the studies to tag first.")
            return
        current = self.disc_tags.get(chosen[0].study_instance_uid)
        what = (
            f"{len(chosen)} stud{'y' if len(chosen) == 1 else 'ies'} of "
            f"{format_name(chosen[0].patient_name)}: "
            + ", ".join(
                f"{format_date(s.study_date)} {'/'.join(s.modalities)} {s.study_description}"
                for s in chosen[:3]
            )
        )
        choice = self.ask_tag(what, current)
        if choice is None:
            return
        in_store = [self.in_store[study_key(s)] for s in chosen if study_key(s) in self.in_store]
        for study in chosen:
            if choice.tag:
                self.disc_tags[study.study_instance_uid] = choice
            else:
                self.disc_tags.pop(study.study_instance_uid, None)
        self.studies.refresh()
        self._show_tag(chosen)
        if not in_store:
            self.status.setText(
                f"Tag {tag_text(choice.tag) or 'removed'}: it is recorded when the studies are "
                "imported."
            )
            return
        config, user = self.config, self.user

        def work(_events: object) -> int:
            for study_id in in_store:
                tag_study(config, choice, study_id=study_id, user=user)
            return len(in_store)

        Op(
            work,
            lambda n: self.status.setText(
                f"Tag {tag_text(choice.tag) or 'removed'} recorded for {n} imported "
                f"stud{'y' if n == 1 else 'ies'}."
            ),
        ).run_in(self.runner)

    def _ask_tag(self, what: str, current: TagChoice | None) -> TagChoice | None:
        dialog = TagDialog(what, current, self)
        return dialog.choice() if dialog.exec() == TagDialog.DialogCode.Accepted else None

    # ---- relevant priors ----------------------------------------------
    def _order_chosen(self, *_: Any) -> None:
        """An order was picked: score the patient's studies on the disc against it."""
        item = self.selected_candidate()
        chosen = self.selected_studies()
        if item is None or not chosen or self.scan is None:
            return
        patient = chosen[0].patient_key
        key = (item.accession_number or item.mrn, "|".join(patient))
        if key == self._priors_for:
            return  # scored already: the user's own choice since then stays
        self._priors_for = key
        studies = [s for s in self.scan.studies if s.patient_key == patient]
        # Studies of two disc patients chosen: the import must see (and refuse) that choice.
        keep = len({s.patient_key for s in chosen}) > 1
        config, dest = self.config, str(self.dest_box.currentData() or "")
        Op(
            lambda _events: relevant_priors(config, studies, item, destination=dest)[0],
            lambda found: self._show_priors(studies, found, preselect=not keep),
        ).run_in(self.background)

    def _show_priors(
        self, studies: list[StudySummary], found: list[PriorChoice], *, preselect: bool = True
    ) -> None:
        """Preselect the relevant priors (the user may change the choice) and say why."""
        self.priors.update({p.study_instance_uid: p for p in found})
        self.studies.refresh()
        relevant = {p.study_instance_uid for p in found if p.relevant}
        if not relevant or not preselect:
            return
        selection = self.study_view.selectionModel()
        selection.clearSelection()
        for row, study in enumerate(self.studies.rows):
            if study in studies and study.study_instance_uid in relevant:
                selection.select(
                    self.studies.index(row, 0),
                    QItemSelectionModel.SelectionFlag.Select
                    | QItemSelectionModel.SelectionFlag.Rows,
                )
        held = sum(1 for p in found if p.on_pacs)
        self.status.setText(
            f"{len(relevant)} relevant stud{'y' if len(relevant) == 1 else 'ies'} preselected "
            "for this order (see Why); change the choice if needed."
            + (f" {held} already in the PACS." if held else "")
        )

    # ---- worklist -----------------------------------------------------
    def fill_from_disc(self) -> None:
        """Find the worklist candidates of the selected study's patient, ranked by the matcher.

        A candidate is preselected only when the match is ``auto``: unique,
        strong and with an equal birth date. Otherwise a person picks.
        """
        chosen = self.selected_studies()
        if not chosen:
            self.status.setText("Select a study first.")
            return
        study = chosen[0]
        first_group = next(iter(groups(study.patient_name).values()), "")
        family = first_group.split("^")[0].strip()
        if family and not is_latin(family):
            self.name_edit.setText(f"*{family}*")  # found in any group of the worklist's name
        else:
            self.name_edit.setText(f"{family}*" if family else "")
        self.dob_edit.setText(study.birth_date)
        self.status.setText("Searching the worklist for this patient …")
        config, scan = self.config, self.scan
        Op(lambda _events: candidates_for(config, study, scan), self._show_decision).run_in(
            self.runner
        )

    def _show_decision(self, decision: Decision) -> None:
        rows = [CandidateRow(c.item, c.score, c.reasons) for c in decision.candidates]
        self.candidates.set_rows(rows)
        self.candidate_view.clearSelection()
        if decision.outcome is Outcome.AUTO:
            self.candidate_view.selectRow(0)
            self.status.setText(f"Match found ({decision.why}). Check it, then press Send.")
        elif rows:
            self.status.setText(
                f"{len(rows)} possible patient{'s' if len(rows) != 1 else ''}: "
                f"pick the right one ({decision.why})."
            )
        elif decision.look_alikes:
            shown = ", ".join(
                f"{c.item.mrn} {format_name(c.item.patient_name)}" for c in decision.look_alikes
            )
            self.status.setText(
                f"No plausible patient on the worklist. Not proposed: {shown}, the same family "
                "name with another given name (a relative or twin?). Scan such an MRN only if "
                "it is this patient's; else scan the MRN or search by name."
            )
        else:
            self.status.setText(
                "No plausible patient on the worklist: scan the MRN or search by name."
            )
        self._update_send_button()

    def lookup_scanned(self) -> None:
        """Look up what the barcode scanner (or the user) typed: an MRN or an accession."""
        raw = self.scan_edit.text()
        if not raw.strip():
            return
        self.status.setText("Searching the worklist …")
        config, study = self.config, self._chosen_study()
        Op(lambda _events: lookup_scanned(config, raw, study), self._show_items).run_in(self.runner)
        self.scan_edit.selectAll()  # the next scan replaces it

    def lookup_by_name(self) -> None:
        """Look up by name and/or birth date."""
        name = self.name_edit.text().strip()
        dob = self.dob_edit.text().strip()
        if not name and not dob:
            self.status.setText("Type a name or a birth date to search.")
            return
        self.status.setText("Searching the worklist …")
        config, study = self.config, self._chosen_study()
        Op(lambda _events: lookup_by_name(config, name, dob, study), self._show_items).run_in(
            self.runner
        )

    def _chosen_study(self) -> StudySummary | None:
        chosen = self.selected_studies()
        return chosen[0] if chosen else None

    def _show_items(self, found: Lookup) -> None:
        """Show search results (scored against the selected study's patient when there is one)."""
        by_identifier = found.by_identifier
        rows = [CandidateRow(c.item, c.score, c.reasons) for c in found.candidates]
        self.candidates.set_rows(rows)
        self.candidate_view.clearSelection()
        if not rows:
            self.status.setText("No worklist entry found. Check the number, or search by name.")
        elif len(rows) == 1 and by_identifier:
            self.candidate_view.selectRow(0)
            self.status.setText("One worklist entry found: check it, then press Send.")
        else:
            self.status.setText(f"{len(rows)} worklist entries: pick the right one.")
        self._update_send_button()

    def selected_candidate(self) -> WorklistItem | None:
        """The worklist entry the user picked."""
        rows = self.candidate_view.selectionModel().selectedRows()
        return self.candidates.rows[rows[0].row()].item if rows else None

    # ---- sending ------------------------------------------------------
    def disc_reports(self) -> list[str]:
        """The PDF and JPEG files of the disc outside DICOM (as the scan lists them)."""
        if self.scan is None:
            return []
        return [
            rel for rel in self.scan.non_dicom if rel.lower().endswith((".pdf", ".jpg", ".jpeg"))
        ]

    def _update_send_button(self, *_: Any) -> None:
        studies = self.selected_studies()
        item = self.selected_candidate()
        dest = self.dest_box.currentText()
        ok = bool(studies) and item is not None and not self.runner.busy
        self.send_button.setEnabled(ok)
        reports = self.disc_reports()
        self.reports_check.setVisible(bool(reports))
        self.reports_check.setEnabled(len(studies) == 1)
        self.reports_check.setToolTip(
            "Wrapped into DICOM (a series of its own) and sent with the one chosen study: "
            + ", ".join(reports)
        )
        count = len(studies)
        self.send_button.setText(
            f"Send {count} stud{'y' if count == 1 else 'ies'} to {dest}" if count else "Send"
        )

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.read_button, self.folder_button, self.search_button):
            widget.setEnabled(not busy)
        self.progress.setVisible(busy)
        if busy:
            self.progress.setRange(0, 0)
        self._update_send_button()

    def send_selected(self) -> None:
        """Ask the destination what it already holds, confirm with the user, then send."""
        studies = self.selected_studies()
        item = self.selected_candidate()
        if not studies or item is None or self.scan is None:
            return
        dest = str(self.dest_box.currentData())
        self.config.destination(dest)
        self.status.setText(f"Asking {self.dest_box.currentText()} what it already holds …")
        config = self.config
        Op(
            lambda _events: preflight(config, dest, studies, item.mrn),
            lambda found: self._confirm_send(studies, item, found),
        ).run_in(self.runner)

    def _confirm_send(
        self, studies: list[StudySummary], item: WorklistItem, found_before: Preflight
    ) -> None:
        unscheduled = self.unscheduled_check.isChecked()
        label = self.dest_box.currentText()
        order = "no order (back office)" if unscheduled else f"accession {item.accession_number}"
        text = (
            f"{len(studies)} stud{'y' if len(studies) == 1 else 'ies'} from the disc "
            f"({format_name(studies[0].patient_name)}, born {format_date(studies[0].birth_date)})"
            f"\n\nwill be filed as {format_name(item.patient_name)}, "
            f"born {format_date(item.birth_date)}, MRN {item.mrn}, {order}\n\n"
            f"and sent to {label}."
        )
        if found_before.down is not None:  # the outbox knows it is down: say so before
            text += (
                f"\n\n{label} cannot be reached since "
                f"{local_time(found_before.down.down_since, dated=True)}: the studies wait in "
                "the outbox and are sent automatically when it answers."
            )
        found = [
            c.describe(len(s.instances), label) + _other_patients(c, item.mrn, label)
            for s, c in zip(studies, found_before.checks, strict=True)
            if c is not None and c.anything
        ]
        missing_only = False
        if found:
            answer = self.choose(
                "Already on the PACS?",
                text + "\n\n" + "\n".join(found),
                [SEND_MISSING, SEND_ALL],
            )
            if answer is None:
                self.status.setText("Not sent.")
                return
            missing_only = answer == SEND_MISSING
        elif not self.confirm("Send these studies?", text):
            self.status.setText("Not sent.")
            return
        self._preflight = found_before
        self._import(studies, item, missing_only=missing_only, confirmed_mismatch=False)

    def _import(
        self,
        studies: list[StudySummary],
        item: WorklistItem,
        *,
        missing_only: bool,
        confirmed_mismatch: bool,
    ) -> None:
        """Import and send; the preflight's answers go with it (the PACS is not asked again)."""
        scan = self.scan
        assert scan is not None
        unscheduled = self.unscheduled_check.isChecked()
        # The clerk picks studies by outside patient and study: a Study UID that the disc
        # holds under two patients is imported as the chosen patient has it. Studies of two
        # patients are passed without one, and the importer refuses them (SafetyError).
        outside = {s.patient_id for s in studies}
        request = ImportRequest(
            study_uids=tuple(s.study_instance_uid for s in studies),
            mrn=item.mrn,
            accession="" if unscheduled else item.accession_number,
            destination=str(self.dest_box.currentData()),
            worklist_item=item,
            user=self.user,
            confirmed_mismatch=confirmed_mismatch,
            missing_only=missing_only,
            outside_patient_id=next(iter(outside)) if len(outside) == 1 else None,
            reports=(
                tuple(self.disc_reports())
                if self.reports_check.isChecked() and len(studies) == 1
                else ()
            ),
        )
        self._last_request = (studies, item, missing_only)
        self._importing = set(request.study_uids)
        self.status.setText("Copying and sending …")

        config, checked = self.config, self._preflight
        tags = {
            s.study_instance_uid: self.disc_tags[s.study_instance_uid]
            for s in studies
            if s.study_instance_uid in self.disc_tags
        }
        Op(
            lambda events: import_disc(
                config, scan, request, preflight=checked, on_event=events, tags=tags
            ),
            self._sent,
            failure=self._send_failed,
            progress=self._on_progress,
        ).run_in(self.runner)

    def _on_progress(self, event: Event) -> None:
        """Show an import's progress as the use case reports it (nothing is computed here)."""
        if isinstance(event, Milestone):
            if event.kind is MilestoneKind.DISC_RELEASED:
                self.status.setText("The disc is copied and checked: you can return it. Sending …")
            return
        self.progress.setRange(0, max(event.bytes_total, 1) // 2**10)
        self.progress.setValue(event.bytes_done // 2**10)
        left = "" if event.seconds_left is None else f", about {event.seconds_left:.0f} s left"
        megabytes = f"{event.bytes_done / 2**20:.0f} of {event.bytes_total / 2**20:.0f} MB"
        rate = f", {event.bytes_per_second / 2**20:.0f} MB/s" if event.bytes_per_second else ""
        if event.phase is Phase.COPY:
            self.status.setText(f"Copying from the disc: {megabytes}{left} …")
        else:
            self.status.setText(
                f"Sending to {self.dest_box.currentText()}: {event.done} of {event.total} images "
                f"({megabytes}){rate}{left} …"
            )

    def _sent(self, outcomes: list[ImportOutcome]) -> None:
        self._importing = set()
        self.outcomes.extend(outcomes)
        patient = self._last_request[0][0].patient_id if self._last_request else ""
        for o in outcomes:
            self.study_status[(patient, o.study_instance_uid)] = outcome_status(o)
            self.in_store[(patient, o.study_instance_uid)] = o.study_id
        self.studies.refresh()
        text = outcome_summary(outcomes, self.dest_box.currentText())
        self.status.setText(text)
        refused = [o for o in outcomes if o.state == StudyState.QUARANTINED and o.hold_reason]
        self.refused.update({o.study_id: o.hold_reason for o in refused})
        self._check_outbox(send=False)  # the outbox line counts this import too
        if refused:  # the PACS holds the study under another patient: a person must know
            self.show_error(text)

    def _send_failed(self, exc: Exception) -> None:
        self._importing = set()
        if isinstance(exc, IdentityMismatchError):
            if self.confirm("The disc and the worklist disagree", f"{exc}\n\nImport anyway?"):
                assert self._last_request is not None
                studies, item, missing_only = self._last_request
                self._import(studies, item, missing_only=missing_only, confirmed_mismatch=True)
            else:
                self.status.setText("Not sent: check the patient.")
            return
        self._failed(exc)

    def test_destination(self) -> None:
        """C-ECHO the chosen destination and say whether it answers."""
        name = str(self.dest_box.currentData())
        label = self.dest_box.currentText()
        self.status.setText(f"Testing the connection to {label} …")

        def done(answer: tuple[Destination, EchoResult]) -> None:
            result = answer[1]
            if result.status == 0:
                self.status.setText(
                    f"{label} answers ({result.seconds * 1000:.0f} ms): ready to receive."
                )
            else:
                self.status.setText(f"{label} answered with status 0x{result.status:04X}.")

        config = self.config
        Op(lambda _events: echo_destination(config, name), done).run_in(self.runner)

    # ---- back office ------------------------------------------------------
    def open_back_office(self) -> None:
        """Open the reconciliation queue (studies without an order, undelivered ones)."""
        from ui.windows.back_office import BackOfficeWindow

        if self.back_office is None:
            self.back_office = BackOfficeWindow(
                self.config, self.runners.office(self), user=self.user
            )
        self.back_office.show()
        self.back_office.raise_()
        self.back_office.refresh()

    def set_session(self, session: Session | None, open_station: bool) -> None:
        """Act as ``session``'s user from now on; show who it is (or that the station is open).

        A role that may not change settings does not get the Settings button.
        """
        self.user = session.user if session is not None else ""
        self.settings_button.setEnabled(session is not None and session.may(Action.SETTINGS))
        self.lock_button.setVisible(session is not None and not open_station)
        if open_station:
            self.session_label.setText(
                "Open station: no user is set up, so everyone acts as admin. "
                "Add the first user, an admin, with 'kiosk users add NAME --role admin'."
            )
            self.session_label.setStyleSheet("background: #fff3cd; color: #664d03; padding: 4px;")
        elif session is not None:
            self.session_label.setText(f"Signed in: {session.user} ({session.role})")
            self.session_label.setStyleSheet("color: #555; padding: 4px;")
        else:
            self.session_label.setText("")
        self.session_label.setVisible(bool(self.session_label.text()))
        for child in (self.back_office, self.settings):  # made for the last user
            if child is not None:
                child.close()
        self.back_office = self.settings = None

    def lock(self) -> None:
        """Hide what the last user saw (the windows besides this one close)."""
        for child in (self.back_office, self.settings):
            if child is not None:
                child.close()
        self.back_office = self.settings = None

    def open_viewer(self, row: int | None = None) -> None:
        """Open a study (row ``row``, else the first selected) in a viewer window of its own."""
        from kiosk.app.view_study import study_view
        from ui.viewer.window import ViewerWindow

        rows = self.studies.rows
        chosen = (
            [rows[row]] if row is not None and 0 <= row < len(rows) else self.selected_studies()
        )
        if not chosen or self.scan is None:
            self.status.setText("Select a study to view.")
            return
        viewer = ViewerWindow(study_view(self.scan, chosen[0]), self.runners.office(self))
        study_uid, user, config = chosen[0].study_instance_uid, self.user, self.config
        Op(  # who looked at which study (the audit trail)
            lambda _events: record_view(config, study_uid, user=user, detail="outside disc"),
        ).run_in(self.background)
        viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.viewers = [v for v in self.viewers if shiboken6.isValid(v)] + [viewer]
        viewer.show()

    def open_settings(self) -> None:
        """Show the configuration and test the connection to each peer (admins only)."""
        from ui.windows.settings import SettingsWindow

        try:
            authorize(self.config, Action.SETTINGS, user=self.user)
        except KioskError as exc:
            self.show_error(str(exc))
            return

        if self.settings is None:
            self.settings = SettingsWindow(self.config, self.runners.office(self))
        self.settings.show()
        self.settings.raise_()

    # ---- errors and questions -------------------------------------------
    def _failed(self, exc: Exception) -> None:
        self._show_failure(one_line(exc))

    def _show_failure(self, message: str) -> None:
        """What a failed operation shows: its one-line message, in the status and a box."""
        self.status.setText(message)
        self.show_error(message)

    def _error_box(self, message: str) -> None:
        QMessageBox.warning(self, "Cannot do that", message)

    def _choose(self, title: str, text: str, options: list[str]) -> str | None:
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        buttons = {box.addButton(o, QMessageBox.ButtonRole.AcceptRole): o for o in options}
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        return buttons.get(box.clickedButton())

    def _ask(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes


def _lost_note(scan: MediaScan | None, study: StudySummary) -> str:
    """What the clerk must know of images the DICOMDIR lists under the study and the disc
    cannot give: they are not sent (the import names them as quarantined)."""
    lost = len(scan.lost_of(study)) if scan is not None else 0
    if not lost:
        return ""
    return (
        f"<br><b>{lost} more image{'s' if lost != 1 else ''} listed on the disc cannot be "
        "read</b>: not sent; clean the disc or ask for another copy"
    )
