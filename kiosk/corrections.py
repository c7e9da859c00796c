"""Old copies of corrected studies: flagged for the PACS administrator, rejected the IOCM way.

When the back office moves a study that was already sent to another patient
or order, the corrected study is sent (with new UIDs when the patient
changed), and the old instances at the PACS are recorded here with both
identities, for the PACS administrator (``kiosk queue --json`` key
``corrections``, the back office). Where the destination takes them
(``rejection_notes = true``: dcm4chee, Orthanc stores them), an IOCM
rejection note, a Key Object Selection "Incorrect Modality Worklist Entry"
naming the old instances, is sent too, durably: it stays ``pending`` until
the PACS accepts it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from kiosk import audit
from kiosk.config import Config, Destination
from kiosk.lifecycle import Actor
from kiosk.store import corrections as table
from kiosk.store.db import transaction

log = logging.getLogger(__name__)

PENDING = "pending"
SENT = "sent"
FLAGGED = "flagged"  # no note for this PACS: its administrator removes the old copy
NONE = "none"  # same patient, same UIDs: the corrected copy replaces the old one


@dataclass(frozen=True)
class CorrectionRecord:
    """A study sent under one identity and corrected to another, as the back office sees it."""

    id: int
    study_id: int
    study_instance_uid: str
    old_study_instance_uid: str
    destination: str
    old_mrn: str
    old_accession: str
    new_mrn: str
    new_accession: str
    #: How many instances the old copy at the PACS holds.
    instances: int
    #: What became of the old copy: :data:`PENDING`, :data:`SENT`, :data:`FLAGGED`, :data:`NONE`.
    rejection_note: str
    detail: str

    def to_json(self) -> dict[str, Any]:
        """Return the ``kiosk queue --json`` form (key ``corrections``)."""
        return dataclasses.asdict(self)


def listed(conn: sqlite3.Connection) -> list[CorrectionRecord]:
    """Every correction, newest first."""
    return [
        CorrectionRecord(
            id=r["id"],
            study_id=r["study_id"],
            study_instance_uid=r["study_instance_uid"],
            old_study_instance_uid=r["old_study_instance_uid"],
            destination=r["destination"],
            old_mrn=r["old_mrn"],
            old_accession=r["old_accession"],
            new_mrn=r["new_mrn"],
            new_accession=r["new_accession"],
            instances=len(json.loads(r["instances"])),
            rejection_note=r["rejection_note"],
            detail=r["detail"],
        )
        for r in table.every(conn)
    ]


def send_pending(conn: sqlite3.Connection, config: Config, dest: Destination, actor: Actor) -> int:
    """Send the rejection notes pending for ``dest``; return how many the PACS accepted.

    Raises
    ------
    PeerError
        If the destination cannot be reached (the notes stay pending).
    """
    rows = table.with_note(conn, dest.name, PENDING)
    if not rows:
        return 0
    from kiosk.send.rejection import build_rejection_note, send_dataset

    accepted = 0
    for row in rows:
        old = json.loads(row["old_identity"])
        note = build_rejection_note(
            patient_id=row["old_mrn"],
            issuer=old.get("issuer", ""),
            patient_name=old.get("patient_name", ""),
            birth_date=old.get("birth_date", ""),
            sex=old.get("sex", ""),
            study_instance_uid=row["old_study_instance_uid"],
            accession_number=row["old_accession"],
            instances=[tuple(i) for i in json.loads(row["instances"])],
            institution=config.institution_name,
            station=config.station,
        )
        status = send_dataset(dest, config.ae_title, note)
        ok = status is not None and (status == 0 or 0xB000 <= status <= 0xBFFF)
        detail = (
            f"rejection note {note.SOPInstanceUID} accepted"
            if ok
            else f"rejection note refused (status {status if status is None else hex(status)})"
        )
        with transaction(conn):
            table.set_note(conn, row["id"], SENT if ok else PENDING, detail)
            audit.record(
                conn,
                user=actor.user,
                station=actor.station,
                action="reject-old-copy",
                study_instance_uid=row["old_study_instance_uid"],
                outcome="ok" if ok else "failed",
                detail=f"study {row['study_id']}: {detail}",
            )
        accepted += ok
    return accepted
