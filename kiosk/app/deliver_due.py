"""Use case: deliver what the outbox holds (after a crash, an outage, or on schedule).

:func:`deliver_due` is ``kiosk send``; :func:`outbox_state` is the window's
background delivery, which also tells what needs a person.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from kiosk import access
from kiosk.app.attention import FAILED, QUARANTINED, REFUSED, WATCHED_STATES, Attention, sort_out
from kiosk.app.housekeeping import export_audit
from kiosk.config import Config
from kiosk.lifecycle import Actor
from kiosk.progress import Listener
from kiosk.recovery import Recovery, recover
from kiosk.send.commitment import CommitmentService
from kiosk.send.deliver import DeliveryReport, deliver
from kiosk.store import db, health, outbox
from kiosk.store.health import DestinationDown
from kiosk.store.studies import (
    StudyRecord,
    StudyState,
    find_studies,
    mark_gaps_told,
    untold_gaps,
)


@dataclass(frozen=True)
class DeliveryRun:
    """What one ``kiosk send`` did: the recovery sweep, then the delivery."""

    recovery: Recovery
    report: DeliveryReport
    #: Instances still queued or failed.
    remaining: int
    #: Studies refused (now or before): internal id -> why; still not in the PACS.
    refused: dict[int, str]
    #: Studies held for the back office (no order) with a reason.
    held: list[StudyRecord]
    #: Studies whose storage commitment came while this run listened.
    committed: set[int] = field(default_factory=set)
    #: For each study whose disc was not all read and whose import could not say so (it
    #: was killed), the line the import would have ended with (:func:`tell_gaps`).
    not_all_read: list[str] = field(default_factory=list)


def deliver_due(
    config: Config,
    *,
    destination: str | None = None,
    retry_failed: bool = False,
    due_only: bool = False,
    user: str = "",
    on_event: Listener | None = None,
) -> DeliveryRun:
    """Finish what a crash interrupted, deliver what is queued, then ask for commitments.

    The storage commitment listener runs for the whole run (answers to earlier
    requests are recorded as they come); after delivering, the commitment of
    every sent study that is due is asked, and the answers are awaited at most
    ``commitment_wait`` seconds: delivery itself never waits on commitment.

    Raises
    ------
    UsageError
        If ``destination`` is not configured.
    """
    if destination:
        config.destination(destination)
    with db.opened(config.database_path) as conn:
        action = access.Action.RESEND if retry_failed else access.Action.SEND
        user = access.require(conn, action, user=user, station=config.station).user
    service = CommitmentService(config, user=user)
    with db.opened(config.database_path) as conn, service:
        recovery = recover(conn, config, Actor(user, config.station))
        report = deliver(
            conn,
            config,
            destination=destination,
            retry_failed=retry_failed,
            due_only=due_only,
            user=user,
            on_event=on_event,
        )
        asked = service.request_due(conn)
        service.wait(conn, asked, config.commitment_wait)
        remaining = outbox.remaining(conn, destination)
        refused = dict(report.refused)
        for record in find_studies(conn, state="quarantined", destination=destination):
            if record.hold_reason:  # refused before: still not in the PACS
                refused.setdefault(record.id, record.hold_reason)
        held = [
            r
            for r in find_studies(conn, state="unscheduled", destination=destination)
            if r.hold_reason
        ]
        not_all_read = tell_gaps(conn)
    export_audit(config, strict=False)  # the audit collector gets what this run recorded
    return DeliveryRun(
        recovery, report, remaining, refused, held, set(service.committed), not_all_read
    )


def tell_gaps(conn: sqlite3.Connection) -> list[str]:
    """What the media of studies lacked that no import could tell (it was killed after the
    copy), one line each with what to do; each is told once.

    A study still being copied, or imported by a live process, is left to that import.
    """
    lines = []
    told = []
    for record in untold_gaps(conn):
        if record.state in (StudyState.FOUND, StudyState.DISCARDED) or (
            record.worker and not outbox.claimant_is_gone(record.worker, record.updated_at)
        ):
            continue
        lines.append(gaps_line(record))
        told.append(record.id)
    if told:
        mark_gaps_told(conn, told)
    return lines


def gaps_line(record: StudyRecord) -> str:
    """What the medium lacked of a study, in one line with what to do."""
    parts = []
    if n := record.unread_on_medium:
        parts.append(f"{n} file{'s' if n != 1 else ''} of its disc could not be read")
    if n := record.clashing_on_medium:
        parts.append(
            f"{n} image{'s' if n != 1 else ''} of it shared a SOP Instance UID with another "
            "image and went unsent"
        )
    return (
        f"study {record.study_instance_uid} (internal id {record.id}) was imported, but "
        f"{' and '.join(parts)}; keep the disc and tell the back office ('kiosk scan --json' "
        "names them)"
    )


@dataclass(frozen=True)
class OutboxState:
    """What one background delivery found (or one look at the outbox)."""

    sent: int
    #: Instances waiting to be sent automatically (not those that wait for a person).
    waiting: int
    down: list[DestinationDown]
    attention: Attention
    refused: dict[int, str] = field(default_factory=dict)
    recovery: Recovery | None = None
    #: As :attr:`DeliveryRun.not_all_read`.
    not_all_read: list[str] = field(default_factory=list)


def commitment_service(config: Config, *, user: str = "") -> CommitmentService:
    """Start the app's storage commitment service (listening until it is closed)."""
    service = CommitmentService(config, user=user)
    service.start()
    return service


def outbox_state(
    config: Config,
    *,
    send: bool,
    sweep: bool = False,
    user: str = "",
    on_event: Listener | None = None,
    commitments: CommitmentService | None = None,
) -> OutboxState:
    """Deliver what is due (``send``), or only look; tell what waits and what needs a person.

    Parameters
    ----------
    sweep
        Begin with the recovery sweep (the first run after start): imports a
        crash interrupted are finished from the spool, unfinished copies named.
    commitments
        The app's storage commitment service: after delivering, the commitment
        of the sent studies that are due is asked (never awaited: the service
        records the answers when they come).
    """
    actor = Actor(user, config.station)
    with db.opened(config.database_path) as conn:
        recovery = recover(conn, config, actor) if sweep else None
        report = (
            deliver(conn, config, due_only=True, user=user, on_event=on_event) if send else None
        )
        if send and commitments is not None:
            commitments.request_due(conn)
        if send:
            export_audit(config, strict=False)  # the ATNA collector gets the new records
        found = sort_out([r for s in WATCHED_STATES for r in find_studies(conn, state=s.value)])
        # Failed and quarantined images wait for the back office, not for the outbox.
        stuck = sum(
            len(outbox.problems(conn, r.id))
            for r in found.of(FAILED) + found.of(QUARANTINED) + found.of(REFUSED)
        )
        return OutboxState(
            sent=report.sent if report else 0,
            waiting=max(outbox.remaining(conn) - stuck, 0),
            down=health.down(conn),
            attention=found,
            refused=dict(report.refused) if report else {},
            recovery=recovery,
            not_all_read=tell_gaps(conn),
        )
