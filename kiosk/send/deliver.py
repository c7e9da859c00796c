"""Deliver what the outbox holds: claim, send, record, and move study states on."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk import audit
from kiosk.config import Config
from kiosk.errors import PeerError
from kiosk.send import policy
from kiosk.send.sender import SendJob, SendResult, send
from kiosk.store import outbox, studies
from kiosk.store.outbox import OutboxItem, OutboxState
from kiosk.store.studies import StudyState

log = logging.getLogger(__name__)

BATCH = 500


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retry: int = 0
    quarantined: int = 0
    failed: int = 0
    unreachable: dict[str, str] = field(default_factory=dict)
    studies: set[int] = field(default_factory=set)

    @property
    def undelivered(self) -> int:
        """Instances that this run could not deliver."""
        return self.retry + self.quarantined + self.failed


def deliver(
    conn: sqlite3.Connection,
    config: Config,
    *,
    destination: str | None = None,
    retry_failed: bool = False,
    study_id: int | None = None,
    user: str = "",
    on_progress: Callable[[int, int], None] | None = None,
) -> DeliveryReport:
    """Send queued instances until nothing deliverable is left, or a destination is down.

    Parameters
    ----------
    destination
        Only this destination's queue; ``None`` for all.
    retry_failed
        Also send instances that had failed for good.
    study_id
        Only this study's instances.
    on_progress
        Called with (instances sent so far, instances tried so far).
    """
    report = DeliveryReport()
    tried = 0
    while True:
        names = [destination] if destination else list(config.destinations)
        dests = [d for d in names if d not in report.unreachable]
        claimed_any = False
        for name in dests:
            items = outbox.claim(
                conn,
                destination=name,
                limit=BATCH,
                retry_failed=retry_failed,
                study_id=study_id,
            )
            if not items:
                continue
            claimed_any = True
            retries_before = report.retry
            by_key = {item.id: item for item in items}
            if name not in config.destinations:
                for item in items:
                    outbox.finish(
                        conn, item.id, OutboxState.FAILED, error=f"destination {name!r} unknown"
                    )
                    report.failed += 1
                continue
            dest = config.destinations[name]

            def on_result(result: SendResult, by_key: dict[int, OutboxItem] = by_key) -> None:
                nonlocal tried
                item = by_key.pop(result.key)
                tried += 1
                outcome = policy.classify(result.status)
                status = "" if result.status is None else f"0x{result.status:04X}"
                note = result.note or policy.describe(result.status)
                report.studies.add(item.study_id)
                if outcome is policy.Outcome.STORED:
                    outbox.finish(conn, item.id, OutboxState.SENT, status)
                    report.sent += 1
                elif outcome is policy.Outcome.QUARANTINE:
                    outbox.finish(conn, item.id, OutboxState.QUARANTINED, status, note)
                    report.quarantined += 1
                    log.warning("instance %s quarantined: %s", item.sop_instance_uid, note)
                elif item.attempts >= policy.MAX_ATTEMPTS:
                    outbox.finish(conn, item.id, OutboxState.FAILED, status, note)
                    report.failed += 1
                else:
                    outbox.finish(conn, item.id, OutboxState.QUEUED, status, note)
                    report.retry += 1
                if on_progress is not None:
                    on_progress(report.sent, tried)

            jobs = [
                SendJob(i.id, i.path, i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax_uid)
                for i in items
            ]
            try:
                send(dest, config.ae_title, jobs, on_result)
            except PeerError as exc:
                report.unreachable[name] = str(exc)
                for item in list(by_key.values()):
                    outbox.finish(conn, item.id, OutboxState.QUEUED, error=str(exc))
                    report.studies.add(item.study_id)
                    report.retry += 1
                by_key.clear()
                log.warning("destination %s unreachable: %s", name, exc)
            for item in list(by_key.values()):  # not reported: keep it queued
                outbox.finish(conn, item.id, OutboxState.QUEUED, error="not sent")
                report.retry += 1
            if report.retry > retries_before and name not in report.unreachable:
                # Retryable failures on a reachable destination: stop this run, retry later.
                report.unreachable[name] = "some instances must be retried later"
        if not claimed_any:
            break
    for sid in report.studies:
        update_study_state(conn, sid, user=user, station=config.station)
    return report


def update_study_state(conn: sqlite3.Connection, study_id: int, *, user: str, station: str) -> None:
    """Move a queued study to ``sent`` once all its instances are delivered (and audit it)."""
    study = studies.get_study(conn, study_id)
    counts = outbox.counts_for_study(conn, study_id)
    total = sum(counts.values())
    if total and counts.get("sent", 0) == total and study.state is StudyState.QUEUED:
        studies.set_state(conn, study_id, StudyState.SENT)
        audit.record(
            conn,
            user=user,
            station=station,
            action="send",
            study_instance_uid=study.new_study_instance_uid,
            outcome="ok",
            detail=f"study {study_id}: {total} instances to {study.destination}",
        )
    elif counts.get("quarantined", 0) or counts.get("failed", 0):
        audit.record(
            conn,
            user=user,
            station=station,
            action="send",
            study_instance_uid=study.new_study_instance_uid,
            outcome="partial",
            detail=f"study {study_id}: {counts}",
        )
