"""IHE IOCM rejection notes: take back instances sent under the wrong patient or order.

When a study went to the PACS under the wrong MRN or accession (the worklist
entry chosen was the wrong one), IHE Imaging Object Change Management has the
sender store a *rejection note*: a Key Object Selection Document (PS3.3
A.35.4, template TID 2010) titled (113038, DCM, "Incorrect Modality Worklist
Entry") that lists the instances to reject. An IOCM Image Manager hides or
deletes them; the corrected copies are then sent again (under new UIDs).

The note is part of the rejected study (same Study Instance UID, the patient
identity the instances were sent under), in a series of its own (Modality
KO).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

from kiosk import audit
from kiosk.config import Config, Destination
from kiosk.errors import PeerError
from kiosk.lifecycle import Actor
from kiosk.net.association import end_association, open_association
from kiosk.store import corrections as table
from kiosk.store.corrections import PENDING, SENT
from kiosk.store.db import transaction

KEY_OBJECT_SELECTION_DOCUMENT_STORAGE = UID("1.2.840.10008.5.1.4.1.1.88.59")
VERIFICATION = UID("1.2.840.10008.1.1")

# (code value, coding scheme designator, code meaning) of the document title, CID 7010.
INCORRECT_WORKLIST_ENTRY = ("113038", "DCM", "Incorrect Modality Worklist Entry")

_MANUFACTURER = "outside-media-kiosk"


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


def _value_type(sop_class_uid: str) -> str:
    """The TID 2010 content item type for a referenced SOP class.

    IMAGE for image storage classes, WAVEFORM for waveform ones, COMPOSITE for
    every other composite object (SR, presentation states, PDF ...). Decided
    from pydicom's name of the class; an unknown class is COMPOSITE.
    """
    name = UID(sop_class_uid).name
    if "Waveform Storage" in name:
        return "WAVEFORM"
    if "Image Storage" in name:
        return "IMAGE"
    return "COMPOSITE"


def _is_ascii(*values: str) -> bool:
    return all(value.isascii() for value in values)


def build_rejection_note(
    *,
    patient_id: str,
    issuer: str,
    patient_name: str,
    birth_date: str,
    sex: str,
    study_instance_uid: str,
    accession_number: str,
    instances: Sequence[tuple[str, str, str]],  # (series uid, sop class uid, sop instance uid)
    institution: str = "",
    station: str = "",
) -> Dataset:
    """An IOCM rejection note ("Incorrect Modality Worklist Entry") for ``instances``.

    A Key Object Selection Document in the rejected study, under the patient
    identity the instances were sent with, with a new series and SOP Instance
    UID, its Current Requested Procedure Evidence Sequence grouping the
    instances by series, and one content item (IMAGE, WAVEFORM or COMPOSITE,
    by SOP class) per instance. File meta: Explicit VR Little Endian.

    Raises
    ------
    ValueError
        If ``instances`` is empty (a rejection note must reject something).
    """
    if not instances:
        raise ValueError("a rejection note needs at least one instance to reject")
    now = dt.datetime.now()
    date, time = now.strftime("%Y%m%d"), now.strftime("%H%M%S")

    ds = Dataset()
    if not _is_ascii(patient_name, patient_id, issuer, institution, station, accession_number):
        ds.SpecificCharacterSet = "ISO_IR 192"
    ds.SOPClassUID = KEY_OBJECT_SELECTION_DOCUMENT_STORAGE
    ds.SOPInstanceUID = generate_uid()
    # Patient module: who the rejected instances were sent as.
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    if issuer:
        ds.IssuerOfPatientID = issuer
    ds.PatientBirthDate = birth_date
    ds.PatientSex = sex
    # General Study module: the rejected study (type 2 values the kiosk does not know stay empty).
    ds.StudyInstanceUID = study_instance_uid
    ds.StudyDate = ""
    ds.StudyTime = ""
    ds.ReferringPhysicianName = ""
    ds.StudyID = ""
    ds.AccessionNumber = accession_number
    # Key Object Document Series module.
    ds.Modality = "KO"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 9999
    ds.SeriesDate = date
    ds.SeriesTime = time
    ds.SeriesDescription = "Rejection note"
    ds.ReferencedPerformedProcedureStepSequence = []
    # General Equipment module.
    ds.Manufacturer = _MANUFACTURER
    if institution:
        ds.InstitutionName = institution
    if station:
        ds.StationName = station
    # Key Object Document module.
    ds.InstanceNumber = 1
    ds.ContentDate = date
    ds.ContentTime = time
    ds.CurrentRequestedProcedureEvidenceSequence = [_evidence(study_instance_uid, instances)]
    # SR Document Content module, TID 2010.
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code(*INCORRECT_WORKLIST_ENTRY)]
    ds.ContinuityOfContent = "SEPARATE"
    template = Dataset()
    template.MappingResource = "DCMR"
    template.TemplateIdentifier = "2010"
    ds.ContentTemplateSequence = [template]
    ds.ContentSequence = [_content_item(sop_class, sop) for _series, sop_class, sop in instances]

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def _evidence(study_instance_uid: str, instances: Sequence[tuple[str, str, str]]) -> Dataset:
    """One Hierarchical SOP Instance Reference item: the study, its series, their instances."""
    by_series: dict[str, list[Dataset]] = {}
    for series_uid, sop_class_uid, sop_instance_uid in instances:
        ref = Dataset()
        ref.ReferencedSOPClassUID = sop_class_uid
        ref.ReferencedSOPInstanceUID = sop_instance_uid
        by_series.setdefault(series_uid, []).append(ref)
    series_items = []
    for series_uid, refs in by_series.items():
        series = Dataset()
        series.SeriesInstanceUID = series_uid
        series.ReferencedSOPSequence = refs
        series_items.append(series)
    study = Dataset()
    study.StudyInstanceUID = study_instance_uid
    study.ReferencedSeriesSequence = series_items
    return study


def _content_item(sop_class_uid: str, sop_instance_uid: str) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = _value_type(sop_class_uid)
    ref = Dataset()
    ref.ReferencedSOPClassUID = sop_class_uid
    ref.ReferencedSOPInstanceUID = sop_instance_uid
    item.ReferencedSOPSequence = [ref]
    return item


def send_dataset(destination: Destination, calling_ae: str, ds: Dataset) -> int | None:
    """C-STORE one in-memory dataset; return the C-STORE status, ``None`` if none came.

    Proposes the dataset's SOP class with Explicit and Implicit VR Little
    Endian (plus Verification, so that a peer refusing the class still
    accepts the association and the refusal can be told apart from a peer
    that is not there).

    Raises
    ------
    PeerError
        If the destination cannot be reached, rejects the association, or
        does not accept the dataset's SOP class.
    """
    from pynetdicom.presentation import build_context

    sop_class = UID(str(ds.SOPClassUID))
    contexts = [
        build_context(sop_class, [ExplicitVRLittleEndian, ImplicitVRLittleEndian]),
        build_context(VERIFICATION),
    ]
    assoc: Any = open_association(destination, calling_ae, contexts)
    try:
        if not any(cx.abstract_syntax == sop_class for cx in assoc.accepted_contexts):
            raise PeerError(
                f"{destination.label or destination.name} does not accept "
                f"{sop_class.name or sop_class} objects; ask its administrator to allow them"
            )
        status = assoc.send_c_store(ds)
    finally:
        end_association(assoc)
    if status is None or "Status" not in status:
        return None
    return int(status.Status)


def send_pending_notes(
    conn: sqlite3.Connection, config: Config, dest: Destination, actor: Actor
) -> int:
    """Send the rejection notes pending for ``dest``; return how many the PACS accepted.

    Raises
    ------
    PeerError
        If the destination cannot be reached (the notes stay pending).
    """
    rows = table.with_note(conn, dest.name, PENDING)
    if not rows:
        return 0
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
