"""De-identified export: PS3.15 Basic Confidentiality Profile, UIDs remapped across the study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from kiosk.cli import main
from kiosk.config import Deidentify
from kiosk.deidentify import export_files, profile
from kiosk.store import db
from tests.discs import ct_instance, write_ct_disc
from tests.kiosk_config import write_config

NAME = "DOE^JANE^Q"
PHI = {
    "PatientName": NAME,
    "PatientID": "EXT-4711",
    "PatientBirthDate": "19700101",
    "PatientAddress": "1 Elm Street, Springfield",
    "AccessionNumber": "ACC-99812",
    "InstitutionName": "Outside General Hospital",
    "ReferringPhysicianName": "WHO^DOCTOR",
    "OperatorsName": "TECH^TINA",
    "DeviceSerialNumber": "SN-555-123",
    "StationName": "CTROOM7",
    "OtherPatientIDs": "OLD-0815",
}


def _study(folder: Path) -> list[Path]:
    """Three CT images of one study, full of identifying data, referring to each other."""
    study_uid, series_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
    paths: list[Path] = []
    first: Dataset | None = None
    folder.mkdir(parents=True)
    for n in range(1, 4):
        ds = ct_instance(
            patient_id=PHI["PatientID"],
            patient_name=NAME,
            birth_date=PHI["PatientBirthDate"],
            sex="F",
            study_uid=study_uid,
            series_uid=series_uid,
            number=n,
            accession=PHI["AccessionNumber"],
        )
        for keyword, value in PHI.items():
            setattr(ds, keyword, value)
        ds.FrameOfReferenceUID = frame_uid
        ds.StudyDescription = "CT CHEST for Jane Doe EXT-4711"
        ds.SeriesDescription = "AXIAL 5mm"
        ds.ImageComments = "patient DOE says hello"
        ds.StudyDate = "20260301"
        ds.AcquisitionDate = "20260301"
        block = ds.private_block(0x0009, "ACME 1.0", create=True)
        block.add_new(0x01, "LO", "secret private " + NAME)
        other = Dataset()
        other.PatientID = "MRN-NESTED-77"
        other.IssuerOfPatientID = "OTHERHOSP"
        ds.OtherPatientIDsSequence = Sequence([other])
        request = Dataset()
        request.AccessionNumber = PHI["AccessionNumber"]
        request.RequestedProcedureID = "RP-31337"
        ds.RequestAttributesSequence = Sequence([request])
        if first is not None:
            ref = Dataset()
            ref.ReferencedSOPClassUID = first.SOPClassUID
            ref.ReferencedSOPInstanceUID = first.SOPInstanceUID
            ds.ReferencedImageSequence = Sequence([ref])
        else:
            first = ds
        path = folder / f"IMG{n}"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _walk_values(ds: Dataset) -> list[str]:
    """Every value in a dataset and its sequences (file meta too), as text."""
    values: list[str] = []

    def visit(d: Dataset) -> None:
        for elem in d:
            if elem.VR == "SQ":
                for item in elem.value:
                    visit(item)
            elif elem.tag != 0x7FE00010:
                values.append(str(elem.value))

    visit(ds)
    visit(ds.file_meta)
    return values


@pytest.mark.parametrize("retain_dates", [False, True])
def test_no_phi_is_left_and_uids_are_remapped_consistently(tmp_path, retain_dates):
    sources = _study(tmp_path / "in")
    before = [dcmread(p) for p in sources]
    result = export_files(sources, tmp_path / "out", Deidentify(retain_dates=retain_dates))
    assert result.files == 3 and result.left_out == 0
    after = [dcmread(p) for p in sorted((tmp_path / "out").iterdir())]
    assert [p.name for p in sorted((tmp_path / "out").iterdir())] == [
        "0001.dcm",
        "0002.dcm",
        "0003.dcm",
    ]

    secrets = [*PHI.values(), "MRN-NESTED-77", "RP-31337", "Jane", "DOE", "secret private"]
    old_uids = set()
    for ds in before:
        old_uids |= {ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID}
        old_uids.add(ds.FrameOfReferenceUID)
    for ds in after:
        text = "\n".join(_walk_values(ds))
        for secret in secrets:
            assert secret.lower() not in text.lower(), secret
        for uid in old_uids:
            assert uid not in text
        assert not any(elem.tag.is_private for elem in ds.iterall())
        assert ds.PatientIdentityRemoved == "YES"
        codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
        assert codes == (["113100", "113106"] if retain_dates else ["113100"])
        assert "PatientBirthDate" not in ds or not ds.PatientBirthDate
        assert "StudyDescription" not in ds  # no Clean Descriptors Option: removed
        if retain_dates:
            assert ds.StudyDate == "20260301" and ds.AcquisitionDate == "20260301"
        else:
            assert ds.get("StudyDate", "") != "20260301"
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.SOPClassUID == before[0].SOPClassUID  # what it is, kept
        assert ds.pixel_array.shape == before[0].pixel_array.shape

    # One mapping for the whole study: the same new UID wherever the old one was.
    assert len({ds.StudyInstanceUID for ds in after}) == 1
    assert len({ds.SeriesInstanceUID for ds in after}) == 1
    assert len({ds.FrameOfReferenceUID for ds in after}) == 1
    assert len({ds.SOPInstanceUID for ds in after}) == 3
    for ds in after[1:]:
        assert ds.ReferencedImageSequence[0].ReferencedSOPInstanceUID == after[0].SOPInstanceUID
    assert result.study_instance_uid == after[0].StudyInstanceUID


def test_every_attribute_the_profile_lists_is_dealt_with(tmp_path):
    sources = _study(tmp_path / "in")
    export_files(sources, tmp_path / "out", Deidentify())
    rules = profile(Deidentify())
    originals = dcmread(sources[1])
    ds = dcmread(sorted((tmp_path / "out").iterdir())[1])
    for elem in originals.iterall():
        act = rules.action(elem.tag.group, elem.tag.element)
        if act == "K" or elem.VR == "SQ" or elem.tag.is_private:
            continue
        kept = [e for e in ds.iterall() if e.tag == elem.tag and e.value == elem.value]
        assert not kept or not elem.value, (elem.keyword, act)


def test_the_clean_descriptors_option_keeps_descriptions_without_the_patient(tmp_path):
    sources = _study(tmp_path / "in")
    export_files(sources, tmp_path / "out", Deidentify(clean_descriptors=True))
    ds = dcmread(sorted((tmp_path / "out").iterdir())[0])
    assert ds.StudyDescription == "CT CHEST for"
    assert ds.SeriesDescription == "AXIAL 5mm"
    assert ds.ImageComments == "patient says hello"
    codes = [item.CodeValue for item in ds.DeidentificationMethodCodeSequence]
    assert codes == ["113100", "113105"]


def test_an_image_with_burned_in_text_is_left_out(tmp_path):
    sources = _study(tmp_path / "in")
    ds = dcmread(sources[2])
    ds.BurnedInAnnotation = "YES"
    ds.save_as(sources[2])
    result = export_files(sources, tmp_path / "out", Deidentify())
    assert (result.files, result.left_out) == (2, 1)


def test_kiosk_export_deidentify_writes_the_imported_study(
    tmp_path, capsys, worklist_server, storage_server
):
    disc = tmp_path / "disc"
    (study,) = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=2)
    worklist_server.add_patient("M0")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    with cfg.open("a", encoding="utf-8") as f:
        f.write("\n[deidentify]\nretain_dates = true\n")
    uid = study.study_instance_uid
    assert main(["import", str(disc), "--study", uid, "--mrn", "M0", "--config", str(cfg)]) == 0
    capsys.readouterr()
    out = tmp_path / "teaching"
    args = ["export", "--deidentify", uid, "--out", str(out), "--json", "--config", str(cfg)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["files"] == 2 and report["retain_dates"] is True
    assert report["clean_descriptors"] is False and report["left_out"] == 0
    assert report["study_instance_uid"] != uid
    for path in out.iterdir():
        ds = dcmread(path)
        text = "\n".join(_walk_values(ds))
        assert "DOE" not in text and "M0" not in ds.PatientID and uid not in text
        assert ds.StudyInstanceUID == report["study_instance_uid"]
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    exported = conn.execute("SELECT * FROM audit WHERE action = 'export'").fetchall()
    conn.close()
    assert len(exported) == 1 and exported[0]["study_instance_uid"] == uid
    assert "DOE" not in exported[0]["detail"]
    assert main(args) == 2  # the folder is not empty now
    assert "not an empty folder" in capsys.readouterr().err
