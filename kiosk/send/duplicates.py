"""Does the destination already hold the study? C-FIND at study and image level.

Before sending, the kiosk can ask the PACS (Study Root C-FIND, by Study
Instance UID) whether it already holds the study and how many instances, and
(at image level, where the PACS answers it) which SOP Instance UIDs; the
caller then shows it and may skip the study or send only the missing
instances (:func:`skip_present`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StudyRootQueryRetrieveInformationModelFind,
)

from kiosk.config import Destination
from kiosk.errors import PeerError
from kiosk.send.sender import open_association
from kiosk.store import outbox
from kiosk.store.outbox import OutboxState

_PENDING = (0xFF00, 0xFF01)


@dataclass(frozen=True)
class StudyOnPacs:
    """What the PACS says it holds of one study."""

    study_instance_uid: str
    instances: int | None  # NumberOfStudyRelatedInstances, if the PACS gives it
    sop_instance_uids: frozenset[str] | None = field(default=None)  # None: no image level


def _find(assoc: Any, query: Dataset) -> list[Dataset]:
    found = []
    for status, identifier in assoc.send_c_find(query, StudyRootQueryRetrieveInformationModelFind):
        if status is None or "Status" not in status:
            raise PeerError("the PACS stopped answering the query; try again later")
        code = int(status.Status)
        if code in _PENDING and identifier is not None:
            found.append(identifier)
        elif code != 0x0000:
            raise PeerError(f"the PACS refused the query (status 0x{code:04X})")
    return found


@contextmanager
def _query_association(destination: Destination, calling_ae: str) -> Iterator[Any]:
    """An association for Study Root C-FIND, released afterwards."""
    assoc = open_association(
        destination, calling_ae, [build_context(StudyRootQueryRetrieveInformationModelFind)]
    )
    try:
        if not assoc.accepted_contexts:
            raise PeerError(
                f"{destination.label or destination.name} does not answer study queries (C-FIND)"
            )
        yield assoc
    finally:
        if assoc.is_established:
            assoc.release()


def find_study(
    destination: Destination, calling_ae: str, study_instance_uid: str, *, images: bool = True
) -> StudyOnPacs | None:
    """Ask the destination whether it holds a study; ``None`` when it does not.

    Raises
    ------
    PeerError
        If the destination cannot be reached or refuses the query.
    """
    with _query_association(destination, calling_ae) as assoc:
        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.StudyInstanceUID = study_instance_uid
        query.NumberOfStudyRelatedInstances = ""
        studies = _find(assoc, query)
        if not studies:
            return None
        count_text = str(studies[0].get("NumberOfStudyRelatedInstances", "") or "")
        count = int(count_text) if count_text.strip().isdigit() else None
        uids: frozenset[str] | None = None
        if images:
            query = Dataset()
            query.QueryRetrieveLevel = "IMAGE"
            query.StudyInstanceUID = study_instance_uid
            query.SeriesInstanceUID = ""
            query.SOPInstanceUID = ""
            try:
                uids = frozenset(str(ds.SOPInstanceUID) for ds in _find(assoc, query))
            except PeerError:
                uids = None  # no image level at this PACS: the count must do
        return StudyOnPacs(study_instance_uid, count, uids)


def find_similar(
    destination: Destination,
    calling_ae: str,
    *,
    mrn: str,
    study_date: str,
    modalities: list[str],
) -> list[str]:
    """Study Instance UIDs the destination holds for our MRN on that date and modality.

    Finds the same study sent before under other UIDs (another import of the
    same disc, or the outside hospital's own resend).

    Raises
    ------
    PeerError
        If the destination cannot be reached or refuses the query.
    """
    with _query_association(destination, calling_ae) as assoc:
        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.PatientID = mrn
        query.StudyDate = study_date
        query.StudyInstanceUID = ""
        query.ModalitiesInStudy = ""
        found = []
        wanted = set(modalities)
        for ds in _find(assoc, query):
            held = ds.get("ModalitiesInStudy") or []
            held = {str(held)} if isinstance(held, str) else {str(m) for m in held}
            if not wanted or not held or wanted & held:
                found.append(str(ds.get("StudyInstanceUID", "")))
        return [uid for uid in found if uid]


def skip_present(
    conn: sqlite3.Connection, study_id: int, destination: str, present: frozenset[str]
) -> int:
    """Mark queued instances the PACS already holds as sent; return how many."""
    rows = conn.execute(
        "SELECT o.id FROM outbox o JOIN instances i ON i.id = o.instance_id"
        " WHERE i.study_id = ? AND o.destination = ? AND o.state IN ('queued','failed')"
        f" AND i.sop_instance_uid IN ({','.join('?' for _ in present) or 'NULL'})",
        (study_id, destination, *sorted(present)),
    ).fetchall()
    outbox.finish_many(
        conn,
        [
            outbox.Outcome(r[0], OutboxState.SENT, error="already on the PACS; not sent again")
            for r in rows
        ],
    )
    return len(rows)


@dataclass(frozen=True)
class DuplicateCheck:
    """What the destination already holds of a study about to be sent."""

    present: StudyOnPacs | None
    similar: tuple[str, ...]  # other Study Instance UIDs, same MRN, date and modality

    @property
    def anything(self) -> bool:
        """True when the person should be asked before sending."""
        return self.present is not None or bool(self.similar)

    def describe(self, ours: int, label: str) -> str:
        """One or two plain sentences for the clerk."""
        parts = []
        if self.present is not None:
            held = self.present.sop_instance_uids
            count = len(held) if held is not None else self.present.instances
            parts.append(
                f"{label} already holds this study"
                + (f" ({count} of {ours} images)." if count is not None else ".")
            )
        if self.similar:
            parts.append(
                f"{label} holds {len(self.similar)} other stud"
                f"{'y' if len(self.similar) == 1 else 'ies'} of this patient from the same "
                "day and modality (perhaps sent before under other UIDs)."
            )
        return " ".join(parts)


def check(
    destination: Destination,
    calling_ae: str,
    *,
    study_instance_uid: str,
    mrn: str,
    study_date: str,
    modalities: list[str],
) -> DuplicateCheck:
    """Ask the destination, by Study Instance UID and by MRN + date + modality.

    Raises
    ------
    PeerError
        If the destination cannot be reached or refuses the query.
    """
    present = find_study(destination, calling_ae, study_instance_uid)
    similar: list[str] = []
    if mrn and study_date:
        similar = [
            uid
            for uid in find_similar(
                destination, calling_ae, mrn=mrn, study_date=study_date, modalities=modalities
            )
            if uid != study_instance_uid
        ]
    return DuplicateCheck(present, tuple(similar))
