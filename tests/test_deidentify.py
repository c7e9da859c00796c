"""De-identified export: PS3.15 Basic Confidentiality Profile, UIDs remapped across the study."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pydicom import Dataset, dcmread
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from kiosk.cli import main
from kiosk.config import Deidentify
from kiosk.deidentify import export_files, profile
from kiosk.errors import SafetyError
from kiosk.net.store import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION
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


def _imported(tmp_path: Path, capsys, worklist_server, storage_server, per_study: int):
    """A CT study of DOE^JANE on a disc, imported as MRN M0; its Study UID and config."""
    disc = tmp_path / "disc"
    (study,) = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=per_study)
    worklist_server.add_patient("M0")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    uid = study.study_instance_uid
    assert main(["import", str(disc), "--study", uid, "--mrn", "M0", "--config", str(cfg)]) == 0
    capsys.readouterr()
    return uid, cfg


def test_kiosk_export_deidentify_writes_the_imported_study(
    tmp_path, capsys, worklist_server, storage_server
):
    uid, cfg = _imported(tmp_path, capsys, worklist_server, storage_server, 2)
    with cfg.open("a", encoding="utf-8") as f:
        f.write("\n[deidentify]\nretain_dates = true\n")
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
    assert [e["outcome"] for e in exported] == ["started", "ok"]
    assert {e["study_instance_uid"] for e in exported} == {uid}
    assert not any("DOE" in e["detail"] for e in exported)
    assert main(args) == 2  # the folder is not empty now
    assert "not an empty folder" in capsys.readouterr().err


# --- Red team round 10, finding 8: the patient outside the table's reach --------------------

#: What the planted images hold of the patient, searched for in the exported bytes.
NEEDLES = [b"ZQX7", b"JANEQZ", b"19610203", b"OUTACC"]


def _planted(path: Path, **extra: str) -> Dataset:
    """A CT image of DOE^JANEQZ whose preamble and overlay texts name her; saved at ``path``."""
    ds = ct_instance(
        patient_id="EXT-ZQX7",
        patient_name="DOE^JANEQZ",
        birth_date="19610203",
        sex="F",
        study_uid=generate_uid(),
        series_uid=generate_uid(),
        number=1,
        accession="OUTACC-ZQX7",
    )
    for keyword, value in extra.items():
        setattr(ds, keyword, value)
    ds.preamble = b"TIFF hybrid: patient DOE^JANEQZ EXT-ZQX7".ljust(128, b"\0")
    for group in (0x6000, 0x6002, 0x601E):  # the first, second and last repeating group
        ds.add_new((group, 0x0010), "US", 32)  # Overlay Rows
        ds.add_new((group, 0x0011), "US", 32)  # Overlay Columns
        ds.add_new((group, 0x0022), "LO", "overlay of DOE^JANEQZ")  # Overlay Description
        ds.add_new((group, 0x0040), "CS", "G")  # Overlay Type
        ds.add_new((group, 0x0045), "LO", "JANEQZ subtype")  # Overlay Subtype
        ds.add_new((group, 0x0050), "SS", [1, 1])  # Overlay Origin
        ds.add_new((group, 0x0100), "US", 1)  # Overlay Bits Allocated
        ds.add_new((group, 0x0102), "US", 0)  # Overlay Bit Position
        ds.add_new((group, 0x1500), "LO", "JANEQZ overlay label")  # Overlay Label
        ds.add_new((group, 0x3000), "OW", b"\x00" * 128)  # Overlay Data
        ds.add_new((group, 0x4000), "LT", "comments on EXT-ZQX7")  # Overlay Comments
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return ds


@pytest.mark.parametrize("retain_dates", [False, True])
@pytest.mark.parametrize("clean_descriptors", [False, True])
def test_the_preamble_and_the_overlay_texts_keep_nothing_of_the_patient(
    tmp_path, retain_dates, clean_descriptors
):
    source = tmp_path / "in" / "IMG1"
    _planted(source)
    options = Deidentify(retain_dates=retain_dates, clean_descriptors=clean_descriptors)
    result = export_files([source], tmp_path / "out", options)
    assert result.files == 1
    written = tmp_path / "out" / "0001.dcm"
    data = written.read_bytes()
    assert data[:128] == bytes(128) and data[128:132] == b"DICM"
    assert [needle for needle in NEEDLES if needle in data] == []
    ds = dcmread(written)
    assert [elem.tag for elem in ds if 0x6000 <= elem.tag.group <= 0x60FF] == []
    assert ds.pixel_array.shape == (32, 32)


def test_an_image_with_burned_in_text_is_named_and_left_out(tmp_path):
    kept = _planted(tmp_path / "in" / "IMG1")
    burned = _planted(tmp_path / "in" / "IMG2", BurnedInAnnotation="YES")
    other = _planted(tmp_path / "in" / "IMG3", BurnedInAnnotation="Y")  # neither YES nor NO
    sources = sorted((tmp_path / "in").iterdir())
    result = export_files(sources, tmp_path / "out", Deidentify())
    assert (result.files, result.left_out) == (1, 2)
    assert [n.sop_instance_uid for n in result.left_out_images] == [
        burned.SOPInstanceUID,
        other.SOPInstanceUID,
    ]
    assert "left out" in result.left_out_images[0].message
    assert "taken as YES" in result.left_out_images[1].message
    assert dcmread(tmp_path / "out" / "0001.dcm").PatientIdentityRemoved == "YES"
    assert kept.SOPInstanceUID not in {n.sop_instance_uid for n in result.left_out_images}


def test_a_study_whose_every_image_has_burned_in_text_is_refused(tmp_path):
    burned = _planted(tmp_path / "in" / "IMG1", BurnedInAnnotation="YES")
    with pytest.raises(SafetyError) as refused:
        export_files([tmp_path / "in" / "IMG1"], tmp_path / "out", Deidentify())
    assert refused.value.exit_code == 5 and burned.SOPInstanceUID in str(refused.value)
    assert "\n" not in str(refused.value)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("sop_class", "modality", "burned_in", "warned"),
    [
        ("1.2.840.10008.5.1.4.1.1.7", "OT", None, True),  # Secondary Capture
        ("1.2.840.10008.5.1.4.1.1.7.4", "CT", None, True),  # multi-frame true colour SC
        ("1.2.840.10008.5.1.4.1.1.6.1", "US", None, True),  # ultrasound
        ("1.2.840.10008.5.1.4.1.1.2", "XC", None, True),  # a CT class, camera modality
        ("1.2.840.10008.5.1.4.1.1.7", "OT", "", True),  # present but empty: not known
        ("1.2.840.10008.5.1.4.1.1.7", "OT", "NO", False),  # known clean
        ("1.2.840.10008.5.1.4.1.1.2", "CT", None, False),  # a CT
    ],
)
def test_an_image_of_a_kind_that_often_carries_burned_in_text_is_named(
    tmp_path, sop_class, modality, burned_in, warned
):
    ds = _planted(tmp_path / "in" / "IMG1", Modality=modality)
    ds.SOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    if burned_in is not None:
        ds.BurnedInAnnotation = burned_in
    ds.save_as(tmp_path / "in" / "IMG1", enforce_file_format=True)
    result = export_files([tmp_path / "in" / "IMG1"], tmp_path / "out", Deidentify())
    assert result.files == 1 and result.left_out == 0
    if warned:
        (note,) = result.warnings
        assert note.sop_instance_uid == ds.SOPInstanceUID and note.file == "0001.dcm"
        assert note.message.startswith("may hold burned-in text: check before sharing")
    else:
        assert result.warnings == ()
    written = dcmread(tmp_path / "out" / "0001.dcm")
    assert written.get("BurnedInAnnotation") == burned_in  # written only where it was known


def test_kiosk_export_names_the_images_with_burned_in_text(
    tmp_path, capsys, worklist_server, storage_server
):
    disc = tmp_path / "disc"
    study_uid, series_uid = generate_uid(), generate_uid()
    made = []
    for n, (sop_class, burned_in) in enumerate(
        [("1.2.840.10008.5.1.4.1.1.2", None), ("1.2.840.10008.5.1.4.1.1.7", None),
         ("1.2.840.10008.5.1.4.1.1.2", "YES")], 1,
    ):  # fmt: skip
        ds = ct_instance(
            patient_id="EXT-1",
            patient_name="DOE^JANE",
            birth_date="19700101",
            sex="F",
            study_uid=study_uid,
            series_uid=series_uid,
            number=n,
        )
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
        if burned_in:
            ds.BurnedInAnnotation = burned_in
        path = disc / "DICOM" / f"I{n}"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        made.append(ds)
    worklist_server.add_patient("M0")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    common = ["--json", "--config", str(cfg)]
    assert main(["import", str(disc), "--study", study_uid, "--mrn", "M0", *common]) == 0
    capsys.readouterr()

    out = tmp_path / "teaching"
    assert main(["export", "--deidentify", study_uid, "--out", str(out), *common]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert (report["files"], report["left_out"]) == (2, 1)
    assert report["left_out_images"] == [
        {
            "sop_instance_uid": made[2].SOPInstanceUID,
            "file": "",
            "message": "has burned-in text (BurnedInAnnotation YES): left out of the export",
        }
    ]
    (warning,) = report["warnings"]
    assert warning["sop_instance_uid"] == made[1].SOPInstanceUID
    assert "may hold burned-in text: check before sharing" in warning["message"]
    assert dcmread(out / warning["file"]).SOPClassUID == made[1].SOPClassUID
    lines = captured.err.splitlines()
    assert any(made[1].SOPInstanceUID in line and "check before sharing" in line for line in lines)
    assert any(made[2].SOPInstanceUID in line and "left out" in line for line in lines)
    text = [
        "export",
        "--deidentify",
        study_uid,
        "--out",
        str(tmp_path / "t2"),
        "--config",
        str(cfg),
    ]
    assert main(text) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1:] == [
        f"left out\t{made[2].SOPInstanceUID}\t{report['left_out_images'][0]['message']}",
        f"check\t{warning['file']}\t{made[1].SOPInstanceUID}\t{warning['message']}",
    ]


def test_kiosk_export_to_a_folder_under_a_file_is_bad_usage(
    tmp_path, capsys, worklist_server, storage_server
):
    uid, cfg = _imported(tmp_path, capsys, worklist_server, storage_server, 1)
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for out in (a_file / "sub", a_file / "sub" / "deeper"):
        args = ["export", "--deidentify", uid, "--out", str(out), "--config", str(cfg)]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err == f"kiosk: {out} cannot be made a folder: {a_file} is a file; " + (
            "give a new or empty folder with --out\n"
        )
    assert a_file.read_text() == "x"


# --- Red team round 12: structured content, the file meta, faces and more burned-in kinds ---

_NOT_A_REPORT = (
    "PixelData", "Rows", "Columns", "BitsAllocated", "BitsStored", "HighBit",
    "PixelRepresentation", "SamplesPerPixel", "PhotometricInterpretation", "RescaleIntercept",
    "RescaleSlope", "ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing",
    "SliceThickness", "ImageType", "FrameOfReferenceUID",
)  # fmt: skip


def _text(value: str, **extra: object) -> Dataset:
    item = Dataset()
    item.RelationshipType = "CONTAINS"
    item.ValueType = "TEXT"
    item.TextValue = value
    for keyword, v in extra.items():
        setattr(item, keyword, v)
    return item


def _report(path: Path, sop_class: str = "1.2.840.10008.5.1.4.1.1.88.11") -> Dataset:
    """A Basic Text SR of DOE^JANEQZ: a TEXT item and a nested CONTAINER/TEXT naming her."""
    ds = _planted(path)
    for keyword in _NOT_A_REPORT:
        if keyword in ds:
            delattr(ds, keyword)
    for group in (0x6000, 0x6002, 0x601E):
        for elem in [e for e in ds if e.tag.group == group]:
            del ds[elem.tag]
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.Modality = "SR"
    ds.ValueType = "CONTAINER"
    ds.ContinuityOfContent = "SEPARATE"
    inner = Dataset()
    inner.RelationshipType = "CONTAINS"
    inner.ValueType = "CONTAINER"
    inner.ContentSequence = Sequence([_text("nested JANEQZ")])
    ds.ContentSequence = Sequence(
        [_text("Findings for DOE^JANEQZ (EXT-ZQX7, born 19610203): no change"), inner]
    )
    ds.save_as(path, enforce_file_format=True)
    return ds


@pytest.mark.parametrize("clean_descriptors", [False, True])
def test_structured_content_and_text_values_are_removed_and_a_report_left_out(
    tmp_path, clean_descriptors
):
    """PS3.15 Table E.1-1: Content Sequence X and Text Value X (no Clean Structured Content).

    A CT whose Content Sequence (and a Text Value elsewhere) names the patient is written
    without them; a structured report, whose content is its Content Sequence, cannot be
    de-identified and is left out, named.
    """
    image = _planted(tmp_path / "in" / "IMG1", BurnedInAnnotation="NO")
    image.ContentSequence = Sequence(
        [_text("patient DOE^JANEQZ said", ContentSequence=Sequence([_text("born 19610203")]))]
    )
    context = Dataset()
    context.TextValue = "ZQX7 lying down"
    image.AcquisitionContextSequence = Sequence([context])
    image.TextValue = "JANEQZ at the top level"
    image.save_as(tmp_path / "in" / "IMG1", enforce_file_format=True)
    report = _report(tmp_path / "in" / "IMG2")
    options = Deidentify(clean_descriptors=clean_descriptors)
    result = export_files(
        [tmp_path / "in" / "IMG1", tmp_path / "in" / "IMG2"], tmp_path / "out", options
    )
    assert (result.files, result.left_out) == (1, 1)
    (note,) = result.left_out_images
    assert note.sop_instance_uid == report.SOPInstanceUID and note.file == ""
    assert "structured document (Basic Text SR Storage)" in note.message
    assert note.message.endswith("left out of the export")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["0001.dcm"]
    data = (tmp_path / "out" / "0001.dcm").read_bytes()
    assert [needle for needle in NEEDLES if needle in data] == []
    written = dcmread(tmp_path / "out" / "0001.dcm")
    assert [
        e.keyword for e in written.iterall() if e.keyword in ("ContentSequence", "TextValue")
    ] == []
    assert profile(options).action(0x0040, 0xA730) == "X"
    assert profile(options).action(0x0040, 0xA160) == "X"


@pytest.mark.parametrize(
    ("sop_class", "modality", "value_type"),
    [
        ("1.2.840.10008.5.1.4.1.1.88.59", "KO", "CONTAINER"),  # key object selection
        ("1.2.840.10008.5.1.4.1.1.88.33", "SR", None),  # comprehensive SR, no Value Type
        ("1.2.840.10008.5.1.4.1.1.88.67", "", "CONTAINER"),  # a dose report, no modality
        ("1.2.3.4.5", "OT", "CONTAINER"),  # a private class: the Value Type tells
    ],
)
def test_a_study_of_structured_documents_alone_is_refused(
    tmp_path, sop_class, modality, value_type
):
    report = _report(tmp_path / "in" / "SR1", sop_class)
    report.Modality = modality
    if value_type is None:
        del report.ValueType
    report.save_as(tmp_path / "in" / "SR1", enforce_file_format=True)
    with pytest.raises(SafetyError) as refused:
        export_files([tmp_path / "in" / "SR1"], tmp_path / "out", Deidentify())
    message = str(refused.value)
    assert message.startswith("nothing was exported: every image of the study is left out")
    assert report.SOPInstanceUID in message and "structured document" in message
    assert not (tmp_path / "out").exists()


def test_the_file_meta_is_written_anew(tmp_path):
    """Private information, AE titles and addresses of the source's file meta are not copied."""
    source = tmp_path / "in" / "IMG1"
    ds = _planted(source)
    ds.file_meta.add_new(0x00020100, "UI", "1.2.19610203")  # Private Information Creator UID
    ds.file_meta.add_new(0x00020102, "OB", b"PRIVATE INFO: DOE^JANEQZ EXT-ZQX7 ")
    ds.file_meta.add_new(0x00020016, "AE", "JANEQZ-SRC")  # Source AE Title
    ds.file_meta.add_new(0x00020017, "AE", "JANEQZ-WS")  # Sending AE Title
    ds.file_meta.add_new(0x00020018, "AE", "ZQX7-RCV")  # Receiving AE Title
    ds.file_meta.add_new(0x00020026, "UR", "http://ws.example/JANEQZ")
    ds.file_meta.add_new(0x00020027, "UR", "http://send.example/ZQX7")
    ds.file_meta.add_new(0x00020028, "UR", "http://receive.example/JANEQZ")
    ds.file_meta.ImplementationVersionName = "ZQX7_WS"
    ds.file_meta.ImplementationClassUID = "1.2.19610203.7"
    ds.save_as(source, enforce_file_format=True)
    result = export_files([source], tmp_path / "out", Deidentify())
    assert result.files == 1
    data = (tmp_path / "out" / "0001.dcm").read_bytes()
    assert [needle for needle in NEEDLES if needle in data] == []
    written = dcmread(tmp_path / "out" / "0001.dcm")
    meta = written.file_meta
    assert [e.keyword for e in meta] == [
        "FileMetaInformationGroupLength",
        "FileMetaInformationVersion",
        "MediaStorageSOPClassUID",
        "MediaStorageSOPInstanceUID",
        "TransferSyntaxUID",
        "ImplementationClassUID",
        "ImplementationVersionName",
    ]
    assert meta.MediaStorageSOPClassUID == written.SOPClassUID == ds.SOPClassUID
    assert meta.MediaStorageSOPInstanceUID == written.SOPInstanceUID != ds.SOPInstanceUID
    assert meta.TransferSyntaxUID == ds.file_meta.TransferSyntaxUID
    assert meta.ImplementationClassUID == IMPLEMENTATION_CLASS_UID
    assert meta.ImplementationVersionName == IMPLEMENTATION_VERSION.decode()


def test_an_instance_of_a_made_up_transfer_syntax_is_left_out(tmp_path):
    """Its Transfer Syntax UID would be copied into the new file meta, digits of hers and all."""
    source = tmp_path / "in" / "IMG1"
    ds = _planted(source)
    ds.file_meta.TransferSyntaxUID = "1.2.19610203.1"
    ds.save_as(source, enforce_file_format=True, implicit_vr=False, little_endian=True)
    kept = _planted(tmp_path / "in" / "IMG2")
    result = export_files([source, tmp_path / "in" / "IMG2"], tmp_path / "out", Deidentify())
    assert (result.files, result.left_out) == (1, 1)
    (note,) = result.left_out_images
    assert note.sop_instance_uid == ds.SOPInstanceUID != kept.SOPInstanceUID
    assert "Transfer Syntax UID that is none of the standard's" in note.message
    assert b"19610203" not in (tmp_path / "out" / "0001.dcm").read_bytes()


@pytest.mark.parametrize(
    ("features", "burned_in"),
    [("YES", None), ("yes ", "NO"), ("Y", None)],  # any value but NO is taken as YES
)
def test_an_image_with_recognizable_visual_features_is_left_out(tmp_path, features, burned_in):
    extra = {"RecognizableVisualFeatures": features}
    if burned_in is not None:
        extra["BurnedInAnnotation"] = burned_in
    with warnings.catch_warnings():  # a lower-case CS value is what is tried, pydicom warns
        warnings.simplefilter("ignore")
        face = _planted(tmp_path / "in" / "IMG1", **extra)
    _planted(tmp_path / "in" / "IMG2", RecognizableVisualFeatures="NO")
    sources = sorted((tmp_path / "in").iterdir())
    result = export_files(sources, tmp_path / "out", Deidentify())
    assert (result.files, result.left_out) == (1, 1)
    (note,) = result.left_out_images
    assert note.sop_instance_uid == face.SOPInstanceUID
    assert "RecognizableVisualFeatures" in note.message and "left out" in note.message
    assert dcmread(tmp_path / "out" / "0001.dcm").RecognizableVisualFeatures == "NO"


@pytest.mark.parametrize(
    ("sop_class", "modality"),
    [
        ("1.2.840.10008.5.1.4.1.1.77.1.5.1", "OP"),  # Ophthalmic Photography 8 Bit
        ("1.2.840.10008.5.1.4.1.1.77.1.5.4", "OPT"),  # Ophthalmic Tomography: the class
        ("1.2.840.10008.5.1.4.1.1.12.1", "XA"),  # X-Ray Angiographic
        ("1.2.840.10008.5.1.4.1.1.12.2.1", "RF"),  # Enhanced XRF
        ("1.2.840.10008.5.1.4.1.1.2", "GM"),  # a CT class, general microscopy modality
        ("1.2.840.10008.5.1.4.1.1.2", "SM"),  # slide microscopy
        ("1.2.840.10008.5.1.4.1.1.77.1.7", "CT"),  # Dermoscopic Photography: the class
        ("1.2.840.10008.5.1.4.1.1.1.3", "IO"),  # Digital Intra-Oral X-Ray
        ("1.2.840.10008.5.1.4.1.1.1.1", "PX"),  # panoramic dental X-ray
    ],
)
def test_more_kinds_that_often_carry_burned_in_text_are_named(tmp_path, sop_class, modality):
    ds = _planted(tmp_path / "in" / "IMG1", Modality=modality)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.save_as(tmp_path / "in" / "IMG1", enforce_file_format=True)
    result = export_files([tmp_path / "in" / "IMG1"], tmp_path / "out", Deidentify())
    assert result.files == 1 and result.left_out == 0
    (note,) = result.warnings
    assert note.file == "0001.dcm"
    assert note.message.startswith("may hold burned-in text: check before sharing")


def test_an_export_killed_halfway_is_on_the_audit_trail(
    tmp_path, capsys, worklist_server, storage_server
):
    """Red team round 13: ``kiosk export`` killed with SIGKILL once files were in --out left
    them there with no ``export`` record (it was written after the last file). The export is
    now audited before its first file (outcome ``started``)."""
    uid, cfg = _imported(tmp_path, capsys, worklist_server, storage_server, 4)
    out = tmp_path / "teaching"
    killed = subprocess.run(
        [sys.executable, "-m", "kiosk", "export", "--deidentify", uid, "--out", str(out),
         "--config", str(cfg)],
        env={**os.environ, "KIOSK_FAULT": "export.written:2"},
        capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len(list(out.iterdir())) == 2
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    exported = conn.execute("SELECT * FROM audit WHERE action = 'export'").fetchall()
    conn.close()
    assert [(e["outcome"], e["study_instance_uid"]) for e in exported] == [("started", uid)]
    assert str(out) in exported[0]["detail"]


def test_an_encapsulated_pdf_is_left_out_not_exported_empty(tmp_path):
    """An Encapsulated PDF that says it has no burned-in text was exported with its document
    removed (the profile's X): an instance with no content. It is left out and named, as a
    structured report is."""
    from kiosk.report_wrap import Report, write_wrapped

    _planted(tmp_path / "in" / "IMG1", BurnedInAnnotation="NO")
    pdf = tmp_path / "in" / "report.pdf"
    body = b"%PDF-1.4\n% DOE^JANEQZ ZQX7\n%%EOF\n"
    pdf.write_bytes(body)
    digest = hashlib.sha256(body).hexdigest()
    report = Report(relpath="report.pdf", path=pdf, kind="pdf", size=len(body), sha256=digest)
    write_wrapped(report, tmp_path / "in" / "IMG1", tmp_path / "in" / "DOC1", 2)
    wrapped = dcmread(tmp_path / "in" / "DOC1")
    wrapped.BurnedInAnnotation = "NO"  # as another hospital's PDF may say of itself
    wrapped.save_as(tmp_path / "in" / "DOC1")
    result = export_files(
        [tmp_path / "in" / "IMG1", tmp_path / "in" / "DOC1"], tmp_path / "out", Deidentify()
    )
    assert (result.files, result.left_out) == (1, 1)
    (note,) = result.left_out_images
    assert "encapsulated document (Encapsulated PDF Storage" in note.message
    assert note.sop_instance_uid == wrapped.SOPInstanceUID
    written = b"".join(p.read_bytes() for p in (tmp_path / "out").iterdir())
    assert b"JANEQZ" not in written and b"%PDF" not in written
