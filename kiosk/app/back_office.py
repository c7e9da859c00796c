"""Use cases of the back office: the queue and why each study waits, corrections, resend."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kiosk import access, corrections
from kiosk.app.attention import (
    DISCARDED,
    FAILED,
    HELD,
    INCOMPLETE,
    QUARANTINED,
    REFUSED,
    kind_of,
)
from kiosk.config import Config
from kiosk.corrections import CorrectionRecord
from kiosk.importer import ImportOutcome, outcome_of
from kiosk.progress import Listener
from kiosk.send.deliver import deliver
from kiosk.store import db, health, outbox
from kiosk.store.health import DestinationDown
from kiosk.store.studies import StudyRecord, find_studies

#: What became of the old copy of a corrected study (``rejection_note`` of a correction).
PENDING, SENT, FLAGGED, NONE = (
    corrections.PENDING,
    corrections.SENT,
    corrections.FLAGGED,
    corrections.NONE,
)

#: The back office's filters of :func:`back_office_view`.
FILTERS = ("unscheduled", "attention", "undelivered", "discarded", "all")

_ATTENTION = (HELD, REFUSED, QUARANTINED, FAILED, INCOMPLETE)


@dataclass(frozen=True)
class QueueRow:
    """A study of the store with its delivery counts and why it waits."""

    record: StudyRecord
    outcome: ImportOutcome
    reason: str = ""
    #: Its failed and quarantined images: sop_instance_uid, state, status, error (the
    #: PACS's Error Comment included).
    errors: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True)
class QueueView:
    """The studies listed, the destinations that are down, the corrections."""

    rows: list[QueueRow]
    down: list[DestinationDown]
    corrections: list[CorrectionRecord]


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


def _kept(which: str, record: StudyRecord, outcome: ImportOutcome | None) -> bool:
    kind = kind_of(record.state, record.hold_reason)
    discarded = kind == DISCARDED
    if which == "discarded":
        return discarded
    if which == "attention":
        return kind in _ATTENTION
    if which == "unscheduled":
        return not (record.accession_number or discarded)
    if which == "undelivered" and outcome is not None:
        return not (discarded or (outcome.sent == outcome.queued and kind not in _ATTENTION))
    return True


def back_office_view(config: Config, which: str = "all") -> QueueView:
    """The back office's table for one of :data:`FILTERS`, with the outages and corrections."""
    with db.opened(config.database_path) as conn:
        rows = []
        for record in find_studies(conn):
            if not _kept(which, record, None):
                continue
            outcome = outcome_of(conn, record.id)
            if which == "undelivered" and not _kept(which, record, outcome):
                continue
            rows.append(QueueRow(record, outcome, _reason(conn, record)))
        return QueueView(rows, health.down(conn), corrections.listed(conn))


def queue(config: Config, *, state: str = "", destination: str = "") -> QueueView:
    """The studies of the store (of a state, for a destination), as ``kiosk queue`` lists them."""
    with db.opened(config.database_path) as conn:
        fixes = [
            c for c in corrections.listed(conn) if not destination or c.destination == destination
        ]
        down = [d for d in health.down(conn) if not destination or d.destination == destination]
        records = find_studies(conn, state=state or None, destination=destination or None)
        rows = [
            QueueRow(r, outcome_of(conn, r.id), errors=_errors(conn, r.id, destination))
            for r in records
        ]
        return QueueView(rows, down, fixes)


def _errors(
    conn: sqlite3.Connection, study_id: int, destination: str
) -> tuple[dict[str, str], ...]:
    """A study's failed and quarantined images, with the reason each one has."""
    return tuple(
        {
            "sop_instance_uid": p["sop_instance_uid"],
            "state": p["state"],
            "status": p["last_status"],
            "error": p["last_error"],
        }
        for p in outbox.problems(conn, study_id)
        if not destination or p["destination"] == destination
    )


def resend_study(
    config: Config, study_id: int, *, user: str = "", on_event: Listener | None = None
) -> ImportOutcome:
    """Send again what the outbox holds for one study (failed images too)."""
    with db.opened(config.database_path) as conn:
        user = access.require(conn, access.Action.RESEND, user=user, station=config.station).user
        deliver(conn, config, study_id=study_id, retry_failed=True, user=user, on_event=on_event)
        return outcome_of(conn, study_id)


@dataclass(frozen=True)
class ResendAll:
    """What "resend everything waiting" did."""

    sent: int
    waiting: int
    #: Destinations that could not be reached: name -> the error.
    unreachable: dict[str, str]


def resend_everything(
    config: Config, *, user: str = "", on_event: Listener | None = None
) -> ResendAll:
    """Send now everything the outbox holds, failed images too (after an outage)."""
    with db.opened(config.database_path) as conn:
        user = access.require(conn, access.Action.RESEND, user=user, station=config.station).user
        report = deliver(conn, config, retry_failed=True, user=user, on_event=on_event)
        return ResendAll(report.sent, outbox.remaining(conn), dict(report.unreachable))
