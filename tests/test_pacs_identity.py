"""Who holds a Study UID, is an MRN a known patient, IOCM rejection notes.

Against a real Orthanc (answers Patient Root and Study Root C-FIND, stores
anything) and a real DCMTK storescp (stores only; refuses C-FIND contexts).
"""

from __future__ import annotations

import subprocess
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, generate_uid

from kiosk.config import Destination
from kiosk.errors import PeerError, SafetyError, UsageError
from kiosk.send.duplicates import (
    PatientOnPacs,
    QueryNotSupported,
    _one_patient,
    find_patient,
    find_study,
    study_holders,
)
from kiosk.send.rejection import build_rejection_note, send_dataset
from tests.discs import ct_series
from tests.peers import LOOPBACK, OrthancServer, StorageServer, dcmtk_env, free_port

DCIODVFY = "/usr/bin/dciodvfy"
KIOSK_AE = "KIOSK"


def destination(peer: OrthancServer | StorageServer) -> Destination:
    return Destination(
        ae_title=peer.ae_title,
        host=peer.host,
        port=peer.port,
        timeout=10.0,
        name="pacs",
        label="Test PACS",
    )


def nobody() -> Destination:
    """A destination on a loopback port where nothing listens."""
    return Destination(
        ae_title="NOBODY", host=LOOPBACK, port=free_port(), timeout=5.0, name="nobody"
    )


def store(
    orthanc: OrthancServer,
    *,
    patient_id: str,
    study_uid: str,
    series_uid: str | None = None,
    count: int = 1,
    name: str = "DOE^JANE",
    birth_date: str = "19700101",
    sex: str = "F",
) -> list[Dataset]:
    """Store ``count`` CT images in Orthanc through its REST API; return them."""
    return orthanc.upload(
        ct_series(
            patient_id=patient_id,
            study_uid=study_uid,
            series_uid=series_uid,
            count=count,
            patient_name=name,
            birth_date=birth_date,
            sex=sex,
        )
    )


# --- study_holders ------------------------------------------------------------


def test_study_holders_names_the_patient_ids_holding_a_study_uid(orthanc_server):
    dest = destination(orthanc_server)
    study_uid = generate_uid()
    store(orthanc_server, patient_id="P1", study_uid=study_uid, count=2)

    assert study_holders(dest, KIOSK_AE, study_uid) == frozenset({"P1"})
    assert study_holders(dest, KIOSK_AE, generate_uid()) == frozenset()

    # The same Study UID sent again under another MRN: the PACS now holds it twice.
    store(orthanc_server, patient_id="P2", study_uid=study_uid)
    assert study_holders(dest, KIOSK_AE, study_uid) == frozenset({"P1", "P2"})


def test_study_holders_is_none_for_a_store_only_peer(storage_server):
    assert study_holders(destination(storage_server), KIOSK_AE, generate_uid()) is None


def test_an_unreachable_peer_is_a_peer_error_not_query_not_supported():
    dest = nobody()
    with pytest.raises(PeerError) as holders:
        study_holders(dest, KIOSK_AE, generate_uid())
    assert not isinstance(holders.value, QueryNotSupported)
    assert "cannot reach" in str(holders.value)
    with pytest.raises(PeerError) as patient:
        find_patient(dest, KIOSK_AE, "MRN1")
    assert not isinstance(patient.value, QueryNotSupported)


# --- image level ----------------------------------------------------------------


def test_image_level_maps_each_instance_to_its_patient_id(orthanc_server):
    study_uid = generate_uid()
    first = store(orthanc_server, patient_id="P1", study_uid=study_uid, count=2)
    second = store(orthanc_server, patient_id="P2", study_uid=study_uid)

    found = find_study(destination(orthanc_server), KIOSK_AE, study_uid)

    assert found is not None
    expected = {str(ds.SOPInstanceUID): "P1" for ds in first}
    expected[str(second[0].SOPInstanceUID)] = "P2"
    assert found.instance_patients == expected
    assert found.sop_instance_uids == frozenset(expected)
    assert found.patient_ids == frozenset({"P1", "P2"})
    assert found.instances == 3

    counted = find_study(destination(orthanc_server), KIOSK_AE, study_uid, images=False)
    assert counted is not None
    assert counted.instance_patients is None
    assert counted.sop_instance_uids is None


# --- find_patient ---------------------------------------------------------------


def test_find_patient_known_unknown_and_other_issuer(orthanc_server):
    dest = destination(orthanc_server)
    # ct_instance writes IssuerOfPatientID "OUTSIDE-GENERAL" and ISO_IR 100 (Latin-1).
    store(
        orthanc_server,
        patient_id="MRN7",
        study_uid=generate_uid(),
        name="Müller^Jürgen",
        birth_date="19650412",
        sex="M",
    )

    expected = PatientOnPacs(
        patient_id="MRN7",
        issuer="OUTSIDE-GENERAL",
        patient_name="Müller^Jürgen",
        birth_date="19650412",
        sex="M",
    )
    assert find_patient(dest, KIOSK_AE, "MRN7") == expected
    assert find_patient(dest, KIOSK_AE, "MRN7", issuer="OUTSIDE-GENERAL") == expected
    assert find_patient(dest, KIOSK_AE, "MRN7", issuer="MAINHOSP") is None
    assert find_patient(dest, KIOSK_AE, "MRN8") is None
    with pytest.raises(UsageError, match="wildcard"):  # a wildcard is not an MRN: never asked
        find_patient(dest, KIOSK_AE, "MRN*")


def test_find_patient_on_a_store_only_peer_raises_query_not_supported(storage_server):
    with pytest.raises(QueryNotSupported, match="does not answer queries"):
        find_patient(destination(storage_server), KIOSK_AE, "MRN1")


def _answer(**fields: str) -> Dataset:
    ds = Dataset()
    for keyword, value in fields.items():
        setattr(ds, keyword, value)
    return ds


def test_several_patients_under_one_mrn_are_a_safety_error():
    """The folding rule for C-FIND answers (Orthanc keeps one patient per PatientID,
    so it cannot produce two; the answers are built as a Study Root PACS gives them)."""
    same = [
        _answer(PatientID="MRN1", PatientName="DOE^JANE", PatientBirthDate="19700101"),
        _answer(PatientID="MRN1", PatientName="DOE^JANE", PatientSex="F"),
    ]
    assert _one_patient("MRN1", "", same) == PatientOnPacs("MRN1", "", "DOE^JANE", "19700101", "F")
    ambiguous = [
        _answer(PatientID="MRN1", PatientName="DOE^JANE", PatientBirthDate="19700101"),
        _answer(PatientID="MRN1", PatientName="ROE^RICHARD", PatientBirthDate="19551231"),
    ]
    with pytest.raises(SafetyError, match="the PACS holds 2 patients with MRN MRN1"):
        _one_patient("MRN1", "", ambiguous)
    other_sex = [
        _answer(PatientID="MRN1", PatientSex="F"),
        _answer(PatientID="MRN1", PatientSex="M"),
    ]
    with pytest.raises(SafetyError, match="MRN MRN1"):
        _one_patient("MRN1", "", other_sex)


# --- IOCM rejection note ----------------------------------------------------------


def dciodvfy(path: Path) -> str:
    result = subprocess.run(
        [DCIODVFY, str(path)], capture_output=True, text=True, env=dcmtk_env(), check=False
    )
    return result.stdout + result.stderr


def test_rejection_note_is_valid_and_orthanc_stores_it_in_the_study(tmp_path, orthanc_server):
    if not Path(DCIODVFY).exists():
        pytest.skip(f"{DCIODVFY} is not installed (apt-get install dicom3tools)")
    study_uid = generate_uid()
    sent = store(orthanc_server, patient_id="P1", study_uid=study_uid, count=2)
    sent += store(orthanc_server, patient_id="P1", study_uid=study_uid, count=1)
    instances = [(str(ds.SeriesInstanceUID), CTImageStorage, str(ds.SOPInstanceUID)) for ds in sent]
    rejected = {sop for _series, _class, sop in instances}

    note = build_rejection_note(
        patient_id="P1",
        issuer="OUTSIDE-GENERAL",
        patient_name="DOE^JANE",
        birth_date="19700101",
        sex="F",
        study_instance_uid=study_uid,
        accession_number="OUT-1",
        instances=instances,
        institution="Main Hospital",
        station="TEST-DESK",
    )

    path = tmp_path / "rejection.dcm"
    note.save_as(path, enforce_file_format=True)
    report = dciodvfy(path)
    assert not [line for line in report.splitlines() if line.startswith("Error")], report
    [evidence] = note.CurrentRequestedProcedureEvidenceSequence
    assert len(evidence.ReferencedSeriesSequence) == 2
    assert {item.ValueType for item in note.ContentSequence} == {"IMAGE"}

    assert send_dataset(destination(orthanc_server), KIOSK_AE, note) == 0x0000

    stored_id = orthanc_server.find_instance(str(note.SOPInstanceUID))
    assert stored_id is not None
    stored = dcmread(BytesIO(orthanc_server.instance_file(stored_id)))
    assert stored.ConceptNameCodeSequence[0].CodeValue == "113038"
    assert stored.ConceptNameCodeSequence[0].CodingSchemeDesignator == "DCM"
    assert str(stored.StudyInstanceUID) == study_uid
    assert str(stored.PatientID) == "P1"
    evidence_refs = {
        str(ref.ReferencedSOPInstanceUID)
        for study in stored.CurrentRequestedProcedureEvidenceSequence
        for series in study.ReferencedSeriesSequence
        for ref in series.ReferencedSOPSequence
    }
    content_refs = {
        str(item.ReferencedSOPSequence[0].ReferencedSOPInstanceUID)
        for item in stored.ContentSequence
    }
    assert evidence_refs == content_refs == rejected
    # In the rejected study, as a fourth instance.
    assert study_holders(destination(orthanc_server), KIOSK_AE, study_uid) == frozenset({"P1"})
    on_pacs = find_study(destination(orthanc_server), KIOSK_AE, study_uid)
    assert on_pacs is not None
    assert on_pacs.sop_instance_uids == frozenset({*rejected, str(note.SOPInstanceUID)})


def test_send_dataset_to_storescp_and_to_nobody(storage_server):
    note = build_rejection_note(
        patient_id="P1",
        issuer="",
        patient_name="DOE^JANE",
        birth_date="",
        sex="",
        study_instance_uid=generate_uid(),
        accession_number="",
        instances=[(generate_uid(), CTImageStorage, generate_uid())],
    )
    assert send_dataset(destination(storage_server), KIOSK_AE, note) == 0x0000
    storage_server.wait_for_files(1)
    assert storage_server.received_sop_instance_uids() == {str(note.SOPInstanceUID)}
    with pytest.raises(PeerError, match="cannot reach"):
        send_dataset(nobody(), KIOSK_AE, note)
