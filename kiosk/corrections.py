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

from kiosk.store import corrections as table
from kiosk.store.corrections import FLAGGED, NONE, PENDING, SENT

log = logging.getLogger(__name__)

__all__ = ["FLAGGED", "NONE", "PENDING", "SENT", "CorrectionRecord", "listed"]


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
