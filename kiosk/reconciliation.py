"""The back office attaches an order to a study that arrived without one.

The study's untouched originals in the spool are coerced again, now with the
order (accession, requested procedure), and queued again for its
destination; when the study had already been sent, the resend carries the
corrected tags and the audit trail records it as a correction.
"""

from __future__ import annotations

import logging
import sqlite3

from kiosk import audit
from kiosk.config import Config
from kiosk.errors import SafetyError, UsageError
from kiosk.importer import ImportOutcome, coerce_and_queue, order_identity, outcome_of
from kiosk.store import studies
from kiosk.store.studies import StudyRecord, StudyState
from reconcile.model import WorklistItem

log = logging.getLogger(__name__)

_RECONCILABLE = {
    StudyState.UNSCHEDULED,
    StudyState.QUEUED,
    StudyState.SENT,
    StudyState.COMMITTED,
    StudyState.FAILED,
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
    user: str = "",
) -> ImportOutcome:
    """Attach the worklist order ``item`` to a stored study and queue it again.

    Parameters
    ----------
    item
        The order, as the worklist returned it for the accession.
    mrn
        The MRN the back office expects; when given it must be the order's.

    Raises
    ------
    SafetyError
        If the order belongs to another patient than the study, or than ``mrn``.
    """
    record = find_one(conn, study_uid)
    if record.state not in _RECONCILABLE:
        raise UsageError(
            f"study {study_uid} is {record.state} (internal id {record.id}); "
            "it can be reconciled once it is queued, held or sent"
        )
    if mrn and item.mrn != mrn:
        raise SafetyError(
            f"accession {item.accession_number} belongs to MRN {item.mrn}, not {mrn}; "
            "check the order"
        )
    if record.mrn and item.mrn != record.mrn and not mrn:
        raise SafetyError(
            f"accession {item.accession_number} belongs to MRN {item.mrn} but the study was "
            f"imported as MRN {record.mrn}; to move it to another patient give --mrn {item.mrn}"
        )
    was_sent = record.state in (StudyState.SENT, StudyState.COMMITTED)
    target = order_identity(config, item)
    studies.set_state(
        conn, record.id, StudyState.MATCHED, mrn=item.mrn, accession_number=item.accession_number
    )
    audit.record(
        conn,
        user=user,
        station=config.station,
        action="reconcile",
        study_instance_uid=record.study_instance_uid,
        detail=f"study {record.id}: order attached"
        + ("; already sent, corrected copy will be resent" if was_sent else ""),
    )
    coerce_and_queue(
        conn, config, record.id, target, user=user, reason="CORRECT" if was_sent else None
    )
    log.info("study %s (id %d) reconciled", record.study_instance_uid, record.id)
    return outcome_of(conn, record.id)
