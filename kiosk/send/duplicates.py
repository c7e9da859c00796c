"""Does the destination already hold the study? C-FIND at study and image level.

Before sending, the kiosk can ask the PACS (Study Root C-FIND, by Study
Instance UID) whether it already holds the study, under which PatientID(s)
and how many instances, and (at image level, where the PACS answers it) which
SOP Instance UIDs under which PatientID; the caller then shows it and may skip
the study or send only the missing instances (:func:`skip_present`).
:func:`study_holders` says under which PatientIDs a Study UID is held, and
:func:`find_patient` whether an MRN is a patient the PACS knows.

A peer that takes the association but refuses the C-FIND presentation context
(DCMTK ``storescp``, which only stores) raises :class:`QueryNotSupported`, a
:class:`~kiosk.errors.PeerError`; a peer that cannot be reached raises a
plain :class:`~kiosk.errors.PeerError`. Every query association also proposes
Verification, so that a store-only peer accepts the association (with the
C-FIND context refused) instead of leaving no context at all, which pynetdicom
answers by aborting -- indistinguishable from a peer that is not there.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    PatientRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelFind,
    Verification,
)

from kiosk.config import Destination
from kiosk.errors import PeerError, SafetyError
from kiosk.net import keys
from kiosk.net.association import end_association, open_association
from kiosk.store import outbox
from kiosk.store.outbox import OutboxState

_PENDING = (0xFF00, 0xFF01)


class QueryNotSupported(PeerError):
    """The peer is there and talks DICOM, but does not answer this kind of C-FIND.

    Raised when the peer accepts the association but refuses the query's
    presentation context (a store-only SCP such as DCMTK ``storescp``). A
    subclass of :class:`~kiosk.errors.PeerError`, so callers that treat any
    peer problem alike need not know it.
    """


class _Unfinished(PeerError):
    """A C-FIND that ended before its last answer; ``found``: the answers given until then."""

    def __init__(self, message: str, found: Sequence[Dataset] = ()) -> None:
        super().__init__(message)
        self.found = list(found)


class _QueryRefused(_Unfinished):
    """The peer answered the C-FIND with a failure status (not a dropped association)."""


class IncompleteAnswer(PeerError):
    """The PACS named holders of a Study UID, then ended its answer with a failure (or was
    cut off): ``holders`` are those it named, maybe not all."""

    def __init__(self, message: str, holders: tuple[Holder, ...]) -> None:
        super().__init__(message)
        self.holders = holders


@dataclass(frozen=True)
class Holder:
    """A patient under whom a PACS holds a study, as its STUDY level answer gives it."""

    patient_id: str
    birth_date: str
    sex: str
    patient_name: str = ""


@dataclass(frozen=True)
class StudyOnPacs:
    """What the PACS says it holds of one study."""

    study_instance_uid: str
    instances: int | None  # NumberOfStudyRelatedInstances (summed), if the PACS gives it
    # SOP Instance UID -> PatientID; None: the PACS does not answer at image level.
    instance_patients: dict[str, str] | None = field(default=None, hash=False)
    # The PatientID(s) of the STUDY level answers ("" when the PACS gave none).
    patient_ids: frozenset[str] = field(default=frozenset())
    # Each STUDY level answer's patient: who the PACS files the study under.
    holders: tuple[Holder, ...] = field(default=(), hash=False)

    @property
    def sop_instance_uids(self) -> frozenset[str] | None:
        """The SOP Instance UIDs held (None: no image level at this PACS)."""
        if self.instance_patients is None:
            return None
        return frozenset(self.instance_patients)


MAX_ANSWERS = 5000  # matches to one identity query: a PACS that sends more is answering garbage
FIND_SECONDS = 120.0  # the longest one query may go on answering


def _find(
    assoc: Any, query: Dataset, model: Any = StudyRootQueryRetrieveInformationModelFind
) -> list[Dataset]:
    """The identifiers a C-FIND answers, at most :data:`MAX_ANSWERS` within
    :data:`FIND_SECONDS`: past either the association is aborted (``PeerError``), as a
    PACS that never stops answering would otherwise hold the kiosk and fill its memory."""
    found = []
    deadline = time.monotonic() + FIND_SECONDS
    for status, identifier in assoc.send_c_find(query, model):
        if status is None or "Status" not in status:
            raise PeerError("the PACS stopped answering the query; try again later")
        code = int(status.Status)
        if code in _PENDING and identifier is not None:
            found.append(identifier)
            if len(found) > MAX_ANSWERS or time.monotonic() > deadline:
                end_association(assoc, abort=True)
                raise _Unfinished(
                    f"the PACS answered more than {len(found) - 1} matches in "
                    f"{FIND_SECONDS:.0f} s to one query; check the PACS",
                    found,
                )
        elif code != 0x0000:
            raise _QueryRefused(f"the PACS refused the query (status 0x{code:04X})", found)
    return found


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value).strip()


def _accepted(assoc: Any, model: Any) -> bool:
    return any(cx.abstract_syntax == model for cx in assoc.accepted_contexts)


@contextmanager
def _query_association(
    destination: Destination, calling_ae: str, models: Iterable[Any] = ()
) -> Iterator[Any]:
    """An association for C-FIND (Study Root unless ``models`` says otherwise), released after.

    Verification is proposed as well (see the module docstring). Raises
    :class:`QueryNotSupported` when the peer accepts none of ``models``.
    """
    wanted = list(models) or [StudyRootQueryRetrieveInformationModelFind]
    contexts = [build_context(model) for model in wanted] + [build_context(Verification)]
    assoc = open_association(destination, calling_ae, contexts)
    try:
        if not any(_accepted(assoc, model) for model in wanted):
            raise QueryNotSupported(
                f"{destination.label or destination.name} does not answer queries (C-FIND)"
            )
        yield assoc
    finally:
        end_association(assoc)


def find_study(
    destination: Destination, calling_ae: str, study_instance_uid: str, *, images: bool = True
) -> StudyOnPacs | None:
    """Ask the destination whether it holds a study; ``None`` when it does not.

    The STUDY level answers give the PatientID(s) the study is held under
    (:attr:`StudyOnPacs.patient_ids`; more than one when the PACS holds the same
    Study UID for several patients) and the instance count; with ``images``,
    the IMAGE level gives each SOP Instance UID with its PatientID
    (:attr:`StudyOnPacs.instance_patients`, ``None`` if the PACS has no image
    level).

    Raises
    ------
    QueryNotSupported
        If the destination does not answer study queries (a store-only SCP).
    PeerError
        If the destination cannot be reached or refuses the query.
    """
    with _query_association(destination, calling_ae) as assoc:
        query = Dataset()
        query.QueryRetrieveLevel = "STUDY"
        query.StudyInstanceUID = study_instance_uid
        query.PatientID = ""
        query.PatientBirthDate = ""
        query.PatientSex = ""
        query.PatientName = ""
        query.NumberOfStudyRelatedInstances = ""
        studies = [
            ds for ds in _find(assoc, query) if _text(ds, "StudyInstanceUID") == study_instance_uid
        ]
        if not studies:
            return None
        counts = [_text(ds, "NumberOfStudyRelatedInstances") for ds in studies]
        count = sum(int(c) for c in counts) if all(c.isdigit() for c in counts) else None
        patients: dict[str, str] | None = None
        if images:
            query = Dataset()
            query.QueryRetrieveLevel = "IMAGE"
            query.StudyInstanceUID = study_instance_uid
            query.SeriesInstanceUID = ""
            query.SOPInstanceUID = ""
            query.PatientID = ""
            try:
                patients = {
                    _text(ds, "SOPInstanceUID"): _text(ds, "PatientID")
                    for ds in _find(assoc, query)
                    if _text(ds, "SOPInstanceUID")
                }
            except PeerError:
                patients = None  # no image level at this PACS: the count must do
        return StudyOnPacs(
            study_instance_uid,
            count,
            patients,
            frozenset(_text(ds, "PatientID") for ds in studies),
            _holders(studies),
        )


def study_holders(
    destination: Destination, calling_ae: str, study_instance_uid: str
) -> frozenset[str] | None:
    """The PatientIDs under which the destination holds a Study Instance UID.

    Returns
    -------
    frozenset[str] | None
        The PatientIDs of the destination's STUDY level answers for that UID:
        empty when it does not hold the study; ``""`` among them when it holds
        it without a PatientID (or gives none back). ``None`` when the
        destination is there but does not answer study C-FIND at all: it
        accepts the association and refuses the Study Root FIND presentation
        context, as DCMTK ``storescp`` (a store-only SCP) does, or refuses the
        query with a failure status (an Orthanc whose modality may not query).
        Then nobody knows who holds the UID there; the caller decides what
        that means.

    Raises
    ------
    PeerError
        If the destination cannot be reached at all (connection refused,
        timeout), rejects the association (e.g. an unknown calling AE title),
        or never stops answering (:func:`_find`). Unlike ``None`` this says
        nothing about the destination's abilities: ask again later or fix the
        config.
    """
    holders = study_holder_records(destination, calling_ae, study_instance_uid)
    return None if holders is None else frozenset(h.patient_id for h in holders)


def study_holder_records(
    destination: Destination, calling_ae: str, study_instance_uid: str
) -> tuple[Holder, ...] | None:
    """The patients (ID, birth date, sex) under whom the destination holds a Study UID.

    As :func:`study_holders`, with each answer's birth date and sex: a PACS
    that holds the study under our MRN as another person (its record of that
    MRN says another birth date or sex) is no place to add images to.
    """
    try:
        found = find_study(destination, calling_ae, study_instance_uid, images=False)
    except _Unfinished as exc:  # what was answered before the end still tells who holds it
        uid = study_instance_uid
        holders = _holders(ds for ds in exc.found if _text(ds, "StudyInstanceUID") == uid)
        if holders:
            raise IncompleteAnswer(str(exc), holders) from exc
        if isinstance(exc, _QueryRefused):
            return None  # no answer to give
        raise
    except QueryNotSupported:  # no answer to give, as storescp
        return None
    return found.holders if found is not None else ()


def _holders(studies: Iterable[Dataset]) -> tuple[Holder, ...]:
    """The patients of STUDY level answers, as they give them."""
    return tuple(
        Holder(
            _text(ds, "PatientID"),
            _text(ds, "PatientBirthDate"),
            _text(ds, "PatientSex"),
            _text(ds, "PatientName"),
        )
        for ds in studies
    )


@dataclass(frozen=True)
class PatientOnPacs:
    """A patient the PACS knows: what it answered for one MRN."""

    patient_id: str
    issuer: str  # IssuerOfPatientID as the PACS gave it ("" if none)
    patient_name: str
    birth_date: str  # DICOM DA (YYYYMMDD) or ""
    sex: str  # M, F, O or ""


def _one_patient(patient_id: str, issuer: str, answers: Iterable[Dataset]) -> PatientOnPacs | None:
    """Fold C-FIND answers for one MRN into one patient, ``None`` or :class:`SafetyError`.

    Answers for another PatientID (a wildcard in the MRN) or another, non-empty
    issuer are dropped. Answers that agree on birth date and sex are one
    patient (an empty value agrees with anything: the PACS does not know it);
    different non-empty birth dates or sexes under one MRN are ambiguous.
    """
    mine = [
        ds
        for ds in answers
        if _text(ds, "PatientID") == patient_id
        and (not issuer or _text(ds, "IssuerOfPatientID") in ("", issuer))
    ]
    if not mine:
        return None
    births = {_text(ds, "PatientBirthDate") for ds in mine} - {""}
    sexes = {_text(ds, "PatientSex").upper() for ds in mine} - {""}
    if len(births) > 1 or len(sexes) > 1:
        identities = {
            (_text(ds, "PatientBirthDate"), _text(ds, "PatientSex").upper()) for ds in mine
        }
        raise SafetyError(
            f"the PACS holds {len(identities)} patients with MRN {patient_id} "
            "(different birth dates or sexes); check the MRN with the PACS administrator "
            "before sending anything under it"
        )
    named = [ds for ds in mine if _text(ds, "PatientName")] or mine
    first = named[0]
    issuers = [_text(ds, "IssuerOfPatientID") for ds in mine if _text(ds, "IssuerOfPatientID")]
    return PatientOnPacs(
        patient_id=patient_id,
        issuer=issuers[0] if issuers else "",
        patient_name=_text(first, "PatientName"),
        birth_date=next(iter(births), ""),
        sex=next(iter(sexes), ""),
    )


def _patient_query(level: str, patient_id: str) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = level
    query.PatientID = patient_id
    query.IssuerOfPatientID = ""
    query.PatientName = ""
    query.PatientBirthDate = ""
    query.PatientSex = ""
    if level == "STUDY":
        query.StudyInstanceUID = ""
    return query


def find_patient(
    peer: Destination, calling_ae: str, patient_id: str, issuer: str = ""
) -> PatientOnPacs | None:
    """Is ``patient_id`` (an MRN) a patient the PACS knows? Its demographics, or ``None``.

    Asks with a Patient Root C-FIND at PATIENT level; when the peer does not
    accept Patient Root (or refuses the PATIENT level query), with a Study
    Root C-FIND at STUDY level keyed on the PatientID. The issuer is not sent
    as a matching key (many PACS do not store it); answers with another,
    non-empty IssuerOfPatientID are dropped here.

    Raises
    ------
    QueryNotSupported
        If the peer is there but answers neither query model (a store-only
        SCP such as DCMTK ``storescp``).
    SafetyError
        If several patients answer for the MRN with different birth dates or
        sexes: nobody can tell which one the MRN means.
    PeerError
        If the peer cannot be reached, rejects the association, or refuses
        the query.
    """
    keys.exact(patient_id, "MRN")
    models = [
        PatientRootQueryRetrieveInformationModelFind,
        StudyRootQueryRetrieveInformationModelFind,
    ]
    with _query_association(peer, calling_ae, models) as assoc:
        answers: list[Dataset] | None = None
        if _accepted(assoc, PatientRootQueryRetrieveInformationModelFind):
            try:
                answers = _find(
                    assoc,
                    _patient_query("PATIENT", patient_id),
                    PatientRootQueryRetrieveInformationModelFind,
                )
            except _QueryRefused:
                if not _accepted(assoc, StudyRootQueryRetrieveInformationModelFind):
                    raise
        if answers is None:
            answers = _find(assoc, _patient_query("STUDY", patient_id))
        return _one_patient(patient_id, issuer, answers)


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
    keys.exact(mrn, "MRN")
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
            if not keys.same(mrn, _text(ds, "PatientID")):
                continue  # not the patient asked for (a PACS that matched loosely)
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
    return outbox.mark(
        conn,
        [
            outbox.Outcome(r[0], OutboxState.SENT, error="already on the PACS; not sent again")
            for r in rows
        ],
    )


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
