"""The back office attaches an order to a study that arrived without one.

The study's untouched originals in the spool are coerced again, now with the
order (accession, requested procedure), and queued again for its
destination; when the study had already been sent, the resend carries the
corrected tags and the audit trail records it as a correction.
"""

from __future__ import annotations

import contextlib
import io
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pydicom

from kiosk import corrections, faults, lifecycle
from kiosk.config import Config
from kiosk.errors import AnotherPatientError, SafetyError, UsageError
from kiosk.importer import (
    ImportOutcome,
    check_demographics,
    finish_import,
    order_identity,
    outcome_of,
)
from kiosk.lifecycle import Actor, Correction
from kiosk.store import outbox, studies
from kiosk.store.studies import StudyRecord, StudyState
from reconcile.model import TargetIdentity, WorklistItem

log = logging.getLogger(__name__)

_RECONCILABLE = {
    StudyState.MATCHED,  # a reconciliation a crash interrupted
    StudyState.UNSCHEDULED,
    StudyState.COERCED,
    StudyState.QUEUED,
    StudyState.SENT,
    StudyState.COMMITTED,
    StudyState.FAILED,
    StudyState.QUARANTINED,
}


def find_one(conn: sqlite3.Connection, study_uid: str) -> StudyRecord:
    """Return the live study with that (original or new) Study Instance UID.

    Raises
    ------
    UsageError
        If no such study is in the store, or it is ambiguous.
    """
    found = [
        s
        for s in studies.find_studies(conn, study_instance_uid=study_uid)
        if s.state is not StudyState.DISCARDED
    ]
    if not found:
        raise UsageError(f"study {study_uid} is not in the kiosk's store; check the UID")
    if len(found) > 1:
        ids = ", ".join(str(s.id) for s in found)
        raise UsageError(
            f"study {study_uid} was imported {len(found)} times (internal ids {ids}); "
            "ask support to pick one"
        )
    return found[0]


def attach_order(
    conn: sqlite3.Connection,
    config: Config,
    study_uid: str,
    item: WorklistItem,
    *,
    mrn: str = "",
    issuer: str | None = None,
    user: str = "",
    confirmed_mismatch: bool = False,
    recheck: Callable[[sqlite3.Connection], object] | None = None,
) -> ImportOutcome:
    """Attach the worklist order ``item`` to a stored study and queue it again.

    A patient is an MRN of an issuer: an order of the study's MRN under another
    issuer is another patient's, moved only when ``mrn`` and ``issuer`` name it.

    Parameters
    ----------
    item
        The order, as the worklist returned it for the accession.
    mrn
        The MRN the back office expects; when given it must be the order's.
    issuer
        The issuer of patient ID the back office expects (``""``: none); when given it
        must be the order's (with our configured issuer for an order that names none).
    confirmed_mismatch
        A person checked the patient although the disc's birth date or sex
        differs from the order's.
    recheck
        Asks again whether the user may reconcile, once a send in flight is
        waited for (:attr:`kiosk.lifecycle.Actor.recheck`).

    Raises
    ------
    SafetyError
        If the order belongs to another patient than the study, or than
        ``mrn``, or its demographics contradict the disc's unconfirmed.
    UsageError
        If the study is not in a state that can be reconciled.
    """
    record = find_one(conn, study_uid)
    if record.state not in _RECONCILABLE:
        raise UsageError(
            f"study {study_uid} is {record.state} (internal id {record.id}); "
            "it can be reconciled once its copy is complete"
        )
    if not record.spool_dir:
        raise UsageError(
            f"study {study_uid}'s spool copy was removed after its retention period; "
            "import the disc again to correct it"
        )
    new = order_identity(config, item)
    if mrn and item.mrn != mrn:
        raise SafetyError(
            f"accession {item.accession_number} belongs to MRN {item.mrn}, not {mrn}; "
            "check the order"
        )
    if issuer is not None and new.issuer != issuer:
        raise SafetyError(
            f"accession {item.accession_number} belongs to MRN {item.mrn} of issuer "
            f"{new.issuer or '(none)'}, not of {issuer}; check the order"
        )
    old_issuer = _issuer_of(record)
    if record.mrn and item.mrn != record.mrn and not mrn:
        raise AnotherPatientError(
            f"accession {item.accession_number} belongs to MRN {item.mrn} but the study was "
            f"imported as MRN {record.mrn}; to move it to another patient give --mrn {item.mrn}",
            mrn=item.mrn,
            issuer=new.issuer,
            was=(record.mrn, old_issuer),
        )
    moved = (record.mrn, old_issuer) != (new.mrn, new.issuer)
    if record.mrn and item.mrn == record.mrn and new.issuer != old_issuer and issuer is None:
        named = new.issuer or '""'
        raise AnotherPatientError(
            f"accession {item.accession_number} belongs to MRN {item.mrn} of issuer "
            f"{new.issuer or '(none)'}, but the study was imported as MRN {record.mrn} of "
            f"issuer {old_issuer or '(none)'}: another patient's record with the same number; "
            f"to move it to that patient give --mrn {item.mrn} --issuer {named}",
            mrn=item.mrn,
            issuer=new.issuer,
            was=(record.mrn, old_issuer),
        )
    check_demographics(
        record,
        item.birth_date,
        item.sex,
        whose="the order's patient",
        confirmed=confirmed_mismatch,
    )
    actor = Actor(user, config.station, recheck=recheck)
    try:
        correction = _correction(conn, config, record, new, moved=moved)
        _attach(conn, record, new, correction, actor, confirmed_mismatch)
    except BaseException:
        outbox.release_quiesced(conn, record.id)  # not attached: it goes on as it was
        raise
    faults.point("reconcile.attached")
    try:
        finish_import(conn, config, record.id, actor)
    except BaseException:
        with contextlib.suppress(Exception):  # recovery may finish it (kiosk send)
            lifecycle.let_go(conn, record.id)
        raise
    log.info("study %s (id %d) reconciled", record.study_instance_uid, record.id)
    return outcome_of(conn, record.id)


def _attach(
    conn: sqlite3.Connection,
    record: StudyRecord,
    target: TargetIdentity,
    correction: Correction | None,
    actor: Actor,
    confirmed_mismatch: bool,
) -> None:
    """Record the order (and the correction) in the study's life, with the audit's detail."""
    detail = "order attached"
    if correction is not None:
        detail += "; already sent, corrected copy will be resent"
        if correction.rejection_note != corrections.NONE:
            detail += f", old copy {correction.rejection_note} for the PACS administrator"
    if confirmed_mismatch:
        detail += "; demographics mismatch confirmed by the user"
    lifecycle.attach_order(
        conn, record.id, target, actor=actor, detail=detail, correction=correction,
    )  # fmt: skip


def _correction(
    conn: sqlite3.Connection,
    config: Config,
    record: StudyRecord,
    target: TargetIdentity,
    *,
    moved: bool,
) -> Correction | None:
    """What was sent under the old identity, when the study is being corrected after sending
    (``moved``: to another patient, another MRN or issuer, as ``target`` is)."""
    outbox.quiesce(conn, record.id)  # what a send running now delivers counts too
    rows = outbox.delivered_instances(conn, record.id, record.destination)
    if not rows:
        return None
    instances: list[tuple[str, str, str]] = []
    old: dict[str, str] = {}
    for row in rows:
        header = _header(row["coerced_path"], bytes(row["coerced_header"]))
        series = str(header.get("SeriesInstanceUID", "")) if header is not None else ""
        instances.append((series, str(row["sop_class_uid"]), str(row["sop_instance_uid"])))
        if header is not None and not old:
            old = {
                "issuer": str(header.get("IssuerOfPatientID", "")),
                "patient_name": str(header.get("PatientName", "")),
                "birth_date": str(header.get("PatientBirthDate", "")),
                "sex": str(header.get("PatientSex", "")),
            }
    destination = config.destination(record.destination)
    if not moved:
        note = corrections.NONE
    else:
        note = corrections.PENDING if destination.rejection_notes else corrections.FLAGGED
    return Correction(
        destination=record.destination,
        old_study_instance_uid=record.new_study_instance_uid,
        old_mrn=record.mrn,
        old_accession=record.accession_number,
        new_mrn=target.mrn,
        new_accession=target.accession_number,
        instances=tuple(instances),
        old_identity=old,
        rejection_note=note,
    )


def _issuer_of(record: StudyRecord) -> str:
    """The issuer of the patient the study was confirmed for (the disc's, if none was)."""
    target = lifecycle.target_of(record)
    return target.issuer if target is not None else record.original_issuer


def _header(path: str, coerced: bytes = b"") -> pydicom.Dataset | None:
    """The identity part of an instance as it was sent (None when it cannot be read).

    ``coerced`` is its coerced header (coercion on the way out); without one,
    the file at ``path`` is what was sent.
    """
    source: str | io.BytesIO = io.BytesIO(coerced) if coerced else path
    if not coerced and (not path or not Path(path).is_file()):
        return None
    try:
        return pydicom.dcmread(
            source,
            stop_before_pixels=True,
            specific_tags=[
                "SeriesInstanceUID",
                "IssuerOfPatientID",
                "PatientName",
                "PatientBirthDate",
                "PatientSex",
            ],
        )
    except Exception:  # a damaged file: the correction still names the instance
        log.warning("cannot read the header of %s", path)
        return None
