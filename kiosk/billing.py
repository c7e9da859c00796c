"""Second reads for billing: the CSV, the HL7 outbox and its delivery over MLLP.

The outbox guarantees what the DICOM outbox does: each message is built once
and stored before it is sent (its MSH-10 never changes); it is claimed, sent,
and marked ``acked`` in the database as soon as an AA comes back, so an
acknowledged message is never sent again. A process killed between sending
and recording the ACK leaves the message claimed by a dead process; the next
run sends it again with the same MSH-10, which the receiver's duplicate check
recognises. AR and no (or a garbled) answer are retried with backoff; AE
(the receiver refused the content) stops that message for the back office.
"""

from __future__ import annotations

import csv
import io
import logging
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from hl7apy.exceptions import HL7apyException

from kiosk import audit, faults, hl7
from kiosk.config import Config, Hl7Receiver
from kiosk.errors import Hl7Error, UsageError
from kiosk.lifecycle import target_of
from kiosk.store import second_reads as store
from kiosk.store import studies
from kiosk.store.db import transaction
from kiosk.store.second_reads import Hl7Row, SecondReadRecord
from kiosk.tags import ReadState

log = logging.getLogger(__name__)

ORDER, CHARGE = "order", "charge"
CSV_COLUMNS = (
    "id",
    "study_instance_uid",
    "mrn",
    "accession",
    "requested_by",
    "reason",
    "requested_at",
    "state",
    "updated_at",
)


def csv_text(reads: list[SecondReadRecord]) -> str:
    """The billing office's CSV: one line per second read (accession or "order needed")."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in reads:
        writer.writerow(
            [
                r.id,
                _cell(r.study_instance_uid),
                _cell(r.mrn),
                _cell(r.accession) or "order needed",
                _cell(r.requested_by),
                _cell(r.reason),
                r.requested_at,
                r.state,
                r.updated_at,
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _receiver(config: Config) -> Hl7Receiver:
    if config.hl7 is None:
        raise UsageError(f"no [hl7] receiver is configured in {config.path}; add one")
    return config.hl7


def _facts(conn: sqlite3.Connection, config: Config, read: SecondReadRecord) -> hl7.SecondReadFacts:
    record = studies.get_study(conn, read.study_id)
    target = target_of(record)
    if target is not None and target.birth_date and not hl7.valid_date(target.birth_date):
        log.warning(
            "second read %d: the order's birth date is not a date; PID-7 is left out", read.id
        )
    return hl7.SecondReadFacts(
        read_id=read.id,
        mrn=read.mrn,
        # The issuer of our MRN: the order's (worklist), else the site's.
        issuer=(target.issuer if target is not None else "") or config.issuer_of_patient_id,
        accession=read.accession,
        study_instance_uid=record.new_study_instance_uid or record.study_instance_uid,
        requested_by=read.requested_by,
        reason=read.reason,
        requested_at=read.requested_at,
        patient_name=(target.patient_name or "") if target is not None else "",
        birth_date=(target.birth_date or "") if target is not None else "",
        sex=(target.sex or "") if target is not None else "",
    )


def queue_messages(
    conn: sqlite3.Connection, config: Config, reads: list[SecondReadRecord]
) -> list[str]:
    """Put in the HL7 outbox what the reads' states call for; return what could not be built.

    An order request for every read that has an order (``ordered`` and on), a
    charge for every read that was read, and for a ``cancelled`` read the
    reversal of each of its messages billing acknowledged (the order
    cancelled, the charge credited: :func:`kiosk.hl7.reversal`). Built once: a
    message already in the outbox is kept as it is. A read whose message
    cannot be built is named in the list (one line each) and logged; the
    other reads' messages are queued all the same.
    """
    receiver = _receiver(config)
    problems: list[str] = []
    for read in reads:
        try:
            _queue_read(conn, config, receiver, read)
        except (HL7apyException, ValueError) as exc:
            problem = f"second read {read.id}: its HL7 message cannot be built ({exc})"
            log.warning("%s", problem)
            problems.append(problem)
    return problems


def _queue_read(
    conn: sqlite3.Connection, config: Config, receiver: Hl7Receiver, read: SecondReadRecord
) -> None:
    rows = store.hl7_of_read(conn, read.id)
    queued = {row.kind for row in rows}  # built once: never built again
    if read.state == ReadState.CANCELLED:
        for row in rows:
            reverse = hl7.REVERSALS.get(row.kind)
            if row.state != "acked" or reverse is None or reverse in queued:
                continue
            control_id = uuid.uuid4().hex[:20]
            store.hl7_enqueue(
                conn,
                read.id,
                kind=reverse,
                message_type=row.message_type,
                control_id=control_id,
                message=hl7.reversal(row.message, row.kind, control_id),
            )
        return
    kinds = {
        ReadState.ORDERED: (ORDER,),
        ReadState.READ: (ORDER, CHARGE),
        ReadState.BILLED: (ORDER, CHARGE),
    }.get(ReadState(read.state), ())
    for kind in kinds:
        if kind in queued:
            continue
        control_id = uuid.uuid4().hex[:20]
        facts = _facts(conn, config, read)
        if kind == ORDER:
            kind_type = receiver.order_message
            text = hl7.order_message(facts, receiver, control_id, kind_type, receiver.service_code)
        else:
            kind_type = hl7.CHARGE_TYPE
            text = hl7.charge_message(facts, receiver, control_id, receiver.service_code)
        store.hl7_enqueue(
            conn, read.id, kind=kind, message_type=kind_type, control_id=control_id, message=text
        )


@dataclass
class Hl7Report:
    """What one delivery run did."""

    acked: int = 0
    #: Messages the receiver refused (AE): control id -> its text.
    refused: dict[str, str] = field(default_factory=dict)
    #: Messages still queued (receiver down, AR, no answer, garbage).
    waiting: int = 0
    #: The receiver could not be reached at all.
    down: bool = False
    errors: list[str] = field(default_factory=list)
    #: Messages refused (AE), in this run or before, that wait for the back office (--retry).
    refused_waiting: int = 0


def _backoff(receiver: Hl7Receiver, attempts: int) -> str:
    """When a message that failed ``attempts`` times may be tried again (at most an hour)."""
    delay = min(3600.0, max(receiver.backoff, 1.0) * 2 ** min(attempts, 12))
    due = datetime.now(UTC) + timedelta(seconds=delay)
    if due.microsecond:  # written to the second: rounded up, so that no wait is cut short
        due = due.replace(microsecond=0) + timedelta(seconds=1)
    return due.isoformat(timespec="seconds")


def deliver(
    conn: sqlite3.Connection, config: Config, *, retry_failed: bool = False, due_only: bool = False
) -> Hl7Report:
    """Send what the HL7 outbox holds, oldest first, each until it is acknowledged.

    A receiver that cannot be reached stops the run (the rest stay queued).
    ``due_only`` leaves the messages whose retry time has not come (scheduled
    runs); otherwise everything queued is tried now.
    """
    store.hl7_release_gone(conn)
    if retry_failed:
        store.hl7_requeue_failed(conn)
    report = Hl7Report()
    known = store.hl7_messages(conn)
    _deliver_rows(conn, config, known, report, due_only=due_only)
    if report.acked and not report.down:  # an order or charge of a cancelled read was just
        # acknowledged (a send killed before its ACK was recorded): its reversal goes now
        cancelled = [r for r in store.second_reads(conn) if r.state == ReadState.CANCELLED]
        queue_messages(conn, config, cancelled)
        ids = {row.id for row in known}
        new = [row for row in store.hl7_messages(conn) if row.id not in ids]
        _deliver_rows(conn, config, new, report, due_only=False)
    report.refused_waiting = sum(1 for r in store.hl7_messages(conn) if r.state == "failed")
    return report


def _deliver_rows(
    conn: sqlite3.Connection,
    config: Config,
    rows: list[Hl7Row],
    report: Hl7Report,
    *,
    due_only: bool,
) -> None:
    receiver = _receiver(config)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for row in rows:
        if row.state != "queued":
            continue
        if due_only and row.next_attempt_at > now:
            report.waiting += 1
            continue
        if report.down:  # the receiver is down: the rest wait for its retry time too
            store.hl7_postpone(conn, row.id, _backoff(receiver, row.attempts))
            report.waiting += 1
            continue
        if not store.hl7_claim(conn, row.id):
            continue
        _send_one(conn, config, row, report)


def _audit(conn: sqlite3.Connection, config: Config, row: Hl7Row, outcome: str, note: str) -> None:
    read = store.get_second_read(conn, row.second_read_id)
    audit.record(
        conn,
        user="",
        station=config.station,
        action="billing-send",
        study_instance_uid=read.study_instance_uid if read is not None else "",
        outcome=outcome,
        detail=f"second read {row.second_read_id}: {row.kind} {row.message_type} "
        f"{row.control_id} {note}",
    )


def _send_one(conn: sqlite3.Connection, config: Config, row: Hl7Row, report: Hl7Report) -> None:
    receiver = _receiver(config)
    last = ""
    for attempt in range(receiver.tries):
        if attempt:
            time.sleep(receiver.backoff * 2 ** (attempt - 1))
        try:
            ack = hl7.exchange(receiver, row.message, row.control_id, receiver.timeout)
        except Hl7Error as exc:
            last = str(exc)
            log.info("HL7 message %s (%s): %s", row.control_id, row.message_type, exc)
            if exc.down:
                report.down = True
                break
            continue
        if ack.code in ("AA", "CA"):
            with transaction(conn):
                store.hl7_finish(conn, row.id, state="acked", ack_code=ack.code)
                _audit(conn, config, row, "ok", f"acknowledged ({ack.code})")
            faults.point("hl7.acked")
            report.acked += 1
            return
        if ack.code in ("AE", "CE"):
            error = f"the receiver refused message {row.control_id} ({ack.code}): {ack.text}"
            with transaction(conn):
                store.hl7_finish(conn, row.id, state="failed", ack_code=ack.code, error=error)
                _audit(conn, config, row, "refused", f"refused ({ack.code}): {ack.text}")
            report.refused[row.control_id] = error
            return
        last = f"the receiver rejected message {row.control_id} for now ({ack.code}): {ack.text}"
    store.hl7_finish(
        conn,
        row.id,
        state="queued",
        error=last,
        next_attempt_at=_backoff(receiver, row.attempts + 1),
    )
    report.waiting += 1
    report.errors.append(last)


def messages(conn: sqlite3.Connection, reads: list[SecondReadRecord]) -> list[Hl7Row]:
    """The HL7 outbox's messages of these second reads."""
    return store.hl7_messages(conn, [r.id for r in reads])
