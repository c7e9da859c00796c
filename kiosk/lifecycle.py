"""The one owner of a study's life: every state change, with what it implies, in one transaction.

``found → copied → matched | unscheduled → coerced → queued → sent →
committed``, plus ``failed``, ``quarantined`` and ``discarded``. Each function
here is one transition: it checks it (:data:`kiosk.store.studies.ALLOWED`),
and commits it together with its outbox rows and its audit events, so that a
crash leaves the study either before or after the step, never between. The
importer, the sender, the back office, the CLI and the window call these; no
other code sets a study's state (a test holds the code to that).

Work outside the database (copying, coercing files) happens before the
transition that records it, and its files are on disk (fsynced) by then.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from kiosk import audit, tags
from kiosk.errors import UsageError
from kiosk.store import commitments, outbox, studies
from kiosk.store import corrections as store_corrections
from kiosk.store.db import transaction
from kiosk.store.outbox import OutboxState
from kiosk.store.studies import StudyRecord, StudyState
from reconcile.model import TargetIdentity

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who acts, and at which station (recorded in the audit trail).

    ``recheck`` asks again whether the actor may still act (raises if not): a
    change that first waits for a send in flight (:func:`discard`,
    :func:`attach_order`) calls it once the wait is over, so that a role taken
    away meanwhile refuses the change.
    """

    user: str
    station: str
    recheck: Callable[[sqlite3.Connection], object] | None = field(
        default=None, compare=False, repr=False
    )

    def still_allowed(self, conn: sqlite3.Connection) -> None:
        """Run :attr:`recheck`, if any (it raises when the actor may no longer act)."""
        if self.recheck is not None:
            self.recheck(conn)


@dataclass(frozen=True)
class CoercedInstance:
    """One instance coerced on the way out (see :mod:`kiosk.coercion`).

    ``header`` is sent, then the original at ``path`` from ``tail_at`` on;
    ``digest`` is the header's (:mod:`kiosk.digest`).
    """

    instance_id: int
    path: str
    digest: str
    sop_instance_uid: str
    refused: str = ""  # why it must not be sent (quarantined at once); empty when fine
    header: bytes = b""
    tail_at: int = 0


@dataclass(frozen=True)
class CoercedStudy:
    """A study's coerced instances and the Study Instance UID they carry."""

    new_study_instance_uid: str
    instances: tuple[CoercedInstance, ...]
    new_uids: bool


@dataclass(frozen=True)
class Correction:
    """A study sent under one identity and corrected to another (IHE IRWF / IOCM).

    ``instances`` are (Series, SOP Class, SOP Instance UID) of the old copy at
    the PACS; ``old_identity`` the patient and study it was sent under.
    """

    destination: str
    old_study_instance_uid: str
    old_mrn: str
    old_accession: str
    new_mrn: str
    new_accession: str
    instances: tuple[tuple[str, str, str], ...]
    old_identity: dict[str, str]
    rejection_note: str  # "pending" (a note will be sent) or "flagged" (administrator only)


@dataclass(frozen=True)
class MediumGaps:
    """What the medium lacked of a study when it was imported: ``unread`` files of the
    disc (or its index) that could not be read and may be its images, ``clashing`` images
    of it left out because another image of it has their SOP Instance UID."""

    unread: int = 0
    clashing: int = 0

    def columns(self) -> dict[str, int]:
        """The study's columns that record them (not told yet, when there is anything)."""
        return {
            "unread_on_medium": self.unread,
            "clashing_on_medium": self.clashing,
            "gaps_told": int(not self),
        }

    def __bool__(self) -> bool:
        return bool(self.unread or self.clashing)


NO_GAPS = MediumGaps()


def target_json(target: TargetIdentity) -> str:
    """Return the stored form of a confirmed identity."""
    return json.dumps(dataclasses.asdict(target), sort_keys=True)


def target_of(record: StudyRecord) -> TargetIdentity | None:
    """Return the identity confirmed for a study, or ``None`` when none was recorded."""
    if not record.target:
        return None
    return TargetIdentity(**json.loads(record.target))


def _audit(
    conn: sqlite3.Connection,
    actor: Actor,
    action: str,
    record: StudyRecord,
    detail: str,
    outcome: str = "ok",
) -> None:
    audit.record(
        conn,
        user=actor.user,
        station=actor.station,
        action=action,
        study_instance_uid=record.study_instance_uid,
        outcome=outcome,
        detail=f"study {record.id}: {detail}",
    )


def begin_import(
    conn: sqlite3.Connection,
    *,
    study_instance_uid: str,
    original_patient_id: str,
    original_issuer: str,
    original_birth_date: str,
    original_sex: str,
    source: str,
    destination: str,
    tag: str,
    reason: str,
    study_date: str,
    study_description: str,
    modalities: str,
    target: TargetIdentity,
    expected_instances: int,
    hold_reason: str,
    actor: Actor,
    gaps: MediumGaps = NO_GAPS,
) -> int:
    """Record a study found on a medium and the identity the user confirmed; return its id.

    The confirmed identity (and what the medium lacked of the study, ``gaps``)
    is stored now, so that a crash after the copy can be finished from the
    spool alone (:func:`kiosk.recovery.recover`) and say what the import would.
    """
    with transaction(conn):
        study_id = studies.add_study(
            conn,
            study_instance_uid=study_instance_uid,
            original_patient_id=original_patient_id,
            original_issuer=original_issuer,
            source=source,
            station=actor.station,
            user=actor.user,
            destination=destination,
            tag=tag,
            reason=reason,
            study_date=study_date,
            study_description=study_description,
            modalities=modalities,
            mrn=target.mrn,
            accession_number=target.accession_number,
            target=target_json(target),
            expected_instances=expected_instances,
            original_birth_date=original_birth_date,
            original_sex=original_sex,
        )
        studies.set_state(
            conn,
            study_id,
            StudyState.FOUND,
            hold_reason=hold_reason,
            worker=outbox.worker_id(),
            **gaps.columns(),
        )
        record = studies.get_study(conn, study_id)
        _audit(conn, actor, "found", record, f"{expected_instances} instances on {source}")
    return study_id


def resume_import(
    conn: sqlite3.Connection,
    study_id: int,
    *,
    destination: str,
    tag: str,
    target: TargetIdentity,
    expected_instances: int,
    hold_reason: str,
    source: str,
    actor: Actor,
    gaps: MediumGaps = NO_GAPS,
) -> None:
    """Record that an interrupted copy of a study goes on (the same disc is back)."""
    with transaction(conn):
        studies.set_state(
            conn,
            study_id,
            StudyState.FOUND,
            destination=destination,
            tag=tag,
            mrn=target.mrn,
            accession_number=target.accession_number,
            target=target_json(target),
            expected_instances=expected_instances,
            hold_reason=hold_reason,
            worker=outbox.worker_id(),
            **gaps.columns(),
        )
        record = studies.get_study(conn, study_id)
        _audit(conn, actor, "resume", record, f"copy resumed from {source}")


def copy_stopped(
    conn: sqlite3.Connection, study_id: int, *, copied: int, expected: int, why: str, actor: Actor
) -> None:
    """Record a copy that stopped part way (the study stays ``found``: insert the disc again)."""
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        studies.set_state(conn, study_id, StudyState.FOUND, worker="")
        _audit(
            conn,
            actor,
            "copy",
            record,
            f"{copied} of {expected} files copied: {why}",
            outcome="incomplete",
        )


def take_over(conn: sqlite3.Connection, record: StudyRecord) -> bool:
    """Make this process the study's worker, unless another took it since ``record`` was read.

    The recovery sweep of two processes at once then finishes a study once.
    """
    return studies.take_worker(conn, record.id, record.worker, outbox.worker_id())


def let_go(conn: sqlite3.Connection, study_id: int) -> None:
    """This process no longer works on the study (its step failed): recovery may take it over."""
    studies.release_worker(conn, study_id, outbox.worker_id())


def record_copied(
    conn: sqlite3.Connection, study_id: int, *, spool_dir: str, reused: int, actor: Actor
) -> None:
    """Record a complete, verified copy and the match the user confirmed.

    ``found → copied → matched`` (an order) or ``→ unscheduled`` (none), in one transaction.
    """
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        count = len(studies.instances_of(conn, study_id))
        studies.set_state(conn, study_id, StudyState.COPIED, spool_dir=spool_dir)
        _audit(
            conn,
            actor,
            "copy",
            record,
            f"{count} instances copied, checksummed and on disk"
            + (f" ({reused} kept from an earlier, interrupted copy)" if reused else ""),
        )
        scheduled = bool(record.accession_number)
        studies.set_state(
            conn, study_id, StudyState.MATCHED if scheduled else StudyState.UNSCHEDULED
        )
        _audit(conn, actor, "match" if scheduled else "unscheduled", record, "identity confirmed")


_COPYING = frozenset(
    {StudyState.FOUND, StudyState.COPIED, StudyState.MATCHED, StudyState.UNSCHEDULED}
)


def queue_while_copying(
    conn: sqlite3.Connection, study_id: int, instances: Sequence[CoercedInstance]
) -> bool:
    """Queue coerced instances of a study this process is still copying; True if queued.

    The import's pipeline (:mod:`kiosk.early_send`): what is copied (on disk
    and recorded) goes while the rest is copied. Only a study of this process
    not queued yet (``found``, ``copied``, ``matched`` or ``unscheduled``) and
    not held (an identity the back office must look at first is never sent
    early) is queued; its state does not change until :func:`record_queued`,
    which queues the rest. An instance whose file must not be sent
    (``refused``) is quarantined with its reason. One transaction.
    """
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        if (
            record.state not in _COPYING
            or record.hold_reason
            or record.worker != outbox.worker_id()
        ):
            return False
        studies.record_coerced(
            conn,
            [
                (i.instance_id, i.path, i.digest, i.sop_instance_uid, i.header, i.tail_at)
                for i in instances
            ],
        )
        # every row first, so that a refused one is quarantined (with its reason), not lost
        outbox.enqueue_many(conn, [i.instance_id for i in instances], record.destination, False)
        _quarantine_rows(conn, record.destination, [i for i in instances if i.refused])
    return True


def record_queued(
    conn: sqlite3.Connection,
    study_id: int,
    coerced: CoercedStudy,
    *,
    actor: Actor,
    queued_early: Collection[int] = (),
) -> StudyState:
    """Record a study's coerced headers and queue them (or hold them), in one transaction.

    ``→ coerced → queued``, or ``→ coerced → unscheduled`` with the rows held
    when the study's ``hold_reason`` says why the back office must look first
    (recorded when the import began). An instance
    whose file must not be sent (``refused``) is quarantined with its reason.
    ``queued_early``: instances :func:`queue_while_copying` queued (their rows,
    perhaps sent by now, are left as they are). Returns the new state.
    """
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        studies.record_coerced(
            conn,
            [
                (i.instance_id, i.path, i.digest, i.sop_instance_uid, i.header, i.tail_at)
                for i in coerced.instances
            ],
        )
        studies.set_state(
            conn,
            study_id,
            StudyState.COERCED,
            new_study_instance_uid=coerced.new_study_instance_uid,
        )
        _audit(
            conn,
            actor,
            "coerce",
            record,
            "IRWF.b coercion"
            + (
                f", new Study Instance UID {coerced.new_study_instance_uid}"
                if coerced.new_uids
                else ""
            ),
        )
        hold_reason = record.hold_reason
        held = bool(hold_reason)
        outbox.enqueue_many(
            conn,
            [i.instance_id for i in coerced.instances if i.instance_id not in queued_early],
            record.destination,
            held=held,
        )
        refused = [inst for inst in coerced.instances if inst.refused]
        _quarantine_rows(
            conn, record.destination, [i for i in refused if i.instance_id not in queued_early]
        )
        if held:
            new = StudyState.UNSCHEDULED
            studies.set_state(conn, study_id, new, hold_reason=hold_reason, worker="")
            _audit(conn, actor, "hold", record, f"held for the back office: {hold_reason}")
        else:
            new = StudyState.QUEUED
            studies.set_state(conn, study_id, new, worker="")
            _audit(
                conn,
                actor,
                "queue",
                record,
                f"{len(coerced.instances)} instances for {record.destination}"
                + (f", {len(refused)} quarantined" if refused else ""),
            )
            if queued_early or (refused and len(refused) == len(coerced.instances)):
                # Sent while it was copied, or nothing to send (all quarantined).
                new = record_delivery(conn, study_id, actor)
    log.info("study %s (id %d): %s", record.study_instance_uid, study_id, new)
    return new


def _quarantine_rows(
    conn: sqlite3.Connection, destination: str, refused: Sequence[CoercedInstance]
) -> None:
    for inst in refused:
        outbox.quarantine(conn, inst.instance_id, destination, inst.refused)


def _add_correction(conn: sqlite3.Connection, study_id: int, c: Correction) -> None:
    store_corrections.add(
        conn,
        study_id,
        destination=c.destination,
        old_study_instance_uid=c.old_study_instance_uid,
        old_mrn=c.old_mrn,
        old_accession=c.old_accession,
        new_mrn=c.new_mrn,
        new_accession=c.new_accession,
        instances=c.instances,
        old_identity=c.old_identity,
        rejection_note=c.rejection_note,
    )


def record_delivery(conn: sqlite3.Connection, study_id: int, actor: Actor) -> StudyState:
    """Move a study on after a delivery run, from its outbox rows; return its state.

    All sent: ``sent``. Nothing left to try and some failed: ``failed``; some
    quarantined: ``quarantined`` (the back office sees why). Rows queued again
    after a failure: ``queued``.
    """
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        counts = outbox.counts_for_study(conn, study_id)
        counts.pop(OutboxState.DISCARDED.value, None)
        total = sum(counts.values())
        pending = counts.get("queued", 0) + counts.get("sending", 0)
        state = record.state
        if state not in (
            StudyState.QUEUED,
            StudyState.SENT,
            StudyState.FAILED,
            StudyState.QUARANTINED,
        ) or counts.get("held", 0):
            return state
        if total and counts.get("sent", 0) == total:
            new = StudyState.SENT
            outcome, detail = "ok", f"{total} instances to {record.destination}"
        elif pending:
            new = StudyState.QUEUED
            outcome, detail = "partial", f"{pending} of {total} instances still queued: {counts}"
        elif counts.get("failed", 0):
            new = StudyState.FAILED
            outcome, detail = "failed", f"{counts}; the back office can resend"
        elif counts.get("quarantined", 0):
            new = StudyState.QUARANTINED
            outcome, detail = "quarantined", f"{counts}; the back office sees why"
        else:
            return state
        if new is state:
            return state
        if new is StudyState.SENT and state is StudyState.SENT:
            return state
        studies.set_state(conn, study_id, new)
        audit.record(
            conn,
            user=actor.user,
            station=actor.station,
            action="send",
            study_instance_uid=record.new_study_instance_uid,
            outcome=outcome,
            detail=f"study {study_id}: {detail}",
        )
    return new


def record_committed(
    conn: sqlite3.Connection, study_id: int, detail: str, actor: Actor, *, transaction_uid: str
) -> bool:
    """Record the destination's storage commitment for every instance of a sent study.

    The request ``transaction_uid`` is answered ``committed`` in the same
    transaction. A study that is no longer ``sent`` (sent again since, or
    reconciled) is not moved: the answer is recorded, and False returned.
    """
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        commitments.answer(conn, transaction_uid, commitments.COMMITTED, 0, "")
        if record.state is not StudyState.SENT:
            return False
        studies.set_state(conn, study_id, StudyState.COMMITTED)
        audit.record(
            conn,
            user=actor.user,
            station=actor.station,
            action="commit",
            study_instance_uid=record.new_study_instance_uid,
            detail=f"study {study_id}: {detail}",
        )
    return True


def record_spool_cleaned(conn: sqlite3.Connection, study_id: int, days: int, actor: Actor) -> None:
    """Record that a committed study's spool copy was removed after the retention period."""
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        studies.set_state(conn, study_id, StudyState.COMMITTED, spool_dir="")
        _audit(
            conn, actor, "spool-clean", record, f"committed, spool copy removed after {days} days"
        )


def attach_order(
    conn: sqlite3.Connection,
    study_id: int,
    target: TargetIdentity,
    *,
    actor: Actor,
    detail: str,
    correction: Correction | None = None,
) -> StudyRecord:
    """Attach a confirmed order (and patient) to a study: ``→ matched``; return the old record.

    Rows not sent yet are held until the study is coerced and queued again, so
    that no sender takes an instance with the old identity meanwhile. The audit
    event names the old and the new MRN and accession. A ``correction`` (the
    study was sent under the old identity) is recorded in the same transaction,
    so that a crash before the resend still resends it as a correction; what
    was delivered is then forgotten (it was delivered under the old identity).
    Without one, a correction recorded before (the corrected copy never went)
    is given the new identity: the old copy at the PACS is still the one it names.
    """
    actor.still_allowed(conn)  # after the wait for a send in flight (the caller's)
    with transaction(conn):
        old = _back_to_matched(conn, study_id, target, hold_reason="")
        tags.follow_study(conn, study_id, user=actor.user, station=actor.station)
        if correction is not None:
            _add_correction(conn, study_id, correction)
            outbox.forget_deliveries(conn, study_id)
        elif store_corrections.retarget_latest(
            conn, study_id, target.mrn, target.accession_number
        ):  # corrected again before the corrected copy went: the old copy is the first one
            detail += "; the earlier correction now names this identity"
        was = target_of(old)
        issuers = (
            f" (issuer {was.issuer or '-'} -> {target.issuer or '-'})"
            if was is not None and was.issuer != target.issuer
            else ""
        )
        _audit(
            conn,
            actor,
            "reconcile",
            old,
            f"MRN {old.mrn or '-'} -> {target.mrn}{issuers}, accession "
            f"{old.accession_number or '-'} -> {target.accession_number or '-'}; {detail}",
        )
    return old


def reopen(
    conn: sqlite3.Connection,
    study_id: int,
    target: TargetIdentity,
    *,
    hold_reason: str,
    source: str,
    actor: Actor,
    gaps: MediumGaps = NO_GAPS,
) -> None:
    """The same disc is imported again for a study imported before: ``→ matched``.

    Its rows are held until it is coerced and queued again (then all of it is
    sent again, or with ``--missing-only`` what the PACS lacks), so a second
    import never makes a second study row that would later block reconciliation.
    """
    with transaction(conn):
        record = _back_to_matched(conn, study_id, target, hold_reason=hold_reason)
        studies.set_state(conn, study_id, StudyState.MATCHED, **gaps.columns())
        tags.follow_study(conn, study_id, user=actor.user, station=actor.station)
        _audit(conn, actor, "reimport", record, f"was {record.state}; imported again from {source}")


def _back_to_matched(
    conn: sqlite3.Connection, study_id: int, target: TargetIdentity, *, hold_reason: str
) -> StudyRecord:
    """Hold every row of a study and give it ``target``: ``→ matched``; return the old record.

    Held rows are taken by no sender (one in flight is not recorded as sent,
    :func:`kiosk.store.outbox.finish_many`) until the study is coerced again
    and queued (:func:`record_queued`). Runs inside the caller's transaction.
    """
    old = studies.get_study(conn, study_id)
    outbox.hold_study(conn, study_id)
    studies.set_state(
        conn,
        study_id,
        StudyState.MATCHED,
        mrn=target.mrn,
        accession_number=target.accession_number,
        target=target_json(target),
        hold_reason=hold_reason,
        worker=outbox.worker_id(),
    )
    return old


def refuse(
    conn: sqlite3.Connection, study_id: int, pacs: str, others: Sequence[str], actor: Actor
) -> str:
    """Hold a study the destination ``pacs`` holds under ``others`` MRNs (none: under ours,
    as another person): ``→ quarantined``.

    Nothing of it is sent; the back office reconciles or discards it. Returns
    the reason, which names both patients by MRN.
    """
    record = studies.get_study(conn, study_id)
    reason = (
        f"{pacs} already holds study {record.new_study_instance_uid} under MRN "
        f"{', '.join(others)}, not under our MRN {record.mrn}; nothing was sent: "
        "check both patients, then reconcile or discard the study"
        if others
        else f"{pacs} already holds study {record.new_study_instance_uid} under our MRN "
        f"{record.mrn} as another person (another birth date, sex or given name); nothing "
        "was sent: check the patient with the PACS administrator, then reconcile or discard "
        "the study"
    )
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        outbox.hold_unsent(conn, study_id, reason)
        studies.set_state(conn, study_id, StudyState.QUARANTINED, hold_reason=reason)
        _audit(conn, actor, "refuse", record, reason, outcome="refused")
    return reason


def discard(conn: sqlite3.Connection, study_id: int, reason: str, actor: Actor) -> StudyRecord:
    """Discard a study with a reason: ``→ discarded``; what was not delivered is never sent.

    A ``kiosk send`` running now finishes the instances it holds first (they are
    counted as sent); nothing else of the study goes after the discard.

    Raises
    ------
    UsageError
        If no reason is given, or the study is already discarded.
    LocalError
        If a send still holds instances of the study after two minutes.
    """
    if not reason.strip():
        raise UsageError("a reason is required to discard a study: give --reason TEXT")
    outbox.quiesce(conn, study_id)  # a send running now finishes what it holds, counted
    try:
        actor.still_allowed(conn)  # the wait may have been long
        with transaction(conn):
            record = studies.get_study(conn, study_id)
            if record.state is StudyState.DISCARDED:
                raise UsageError(f"study {study_id} is already discarded")
            outbox.discard_unsent(conn, study_id, reason)
            studies.set_state(conn, study_id, StudyState.DISCARDED, hold_reason=reason)
            tags.follow_study(conn, study_id, user=actor.user, station=actor.station)
            _audit(conn, actor, "discard", record, f"was {record.state}; reason: {reason}")
    except BaseException:
        outbox.release_quiesced(conn, study_id)  # not discarded: it goes on as it was
        raise
    return studies.get_study(conn, study_id)
