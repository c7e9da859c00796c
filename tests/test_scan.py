"""Tests of ``kiosk/media/scan.py`` and ``kiosk/media/model.py`` on discs built here.

Every disc is real: Part-10 files written with pydicom under ``DICOM/`` with
ISO-9660 style names, and a DICOMDIR made by DCMTK ``dcmmkdir``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, generate_uid

from kiosk.errors import NoDicomError
from kiosk.media.model import MediaScan
from kiosk.media.scan import scan_medium

DCMMKDIR = Path("/usr/bin/dcmmkdir")
needs_dcmmkdir = pytest.mark.skipif(
    not DCMMKDIR.exists(), reason="DCMTK dcmmkdir missing (apt install dcmtk)"
)


@dataclass
class SeriesPlan:
    modality: str
    sop_class: str
    number: int
    description: str
    count: int
    uid: str = field(default_factory=generate_uid)
    sop_uids: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


@dataclass
class StudyPlan:
    description: str
    date: str
    accession: str
    series: list[SeriesPlan]
    uid: str = field(default_factory=generate_uid)


@dataclass
class PatientPlan:
    patient_id: str
    name: str
    birth_date: str
    sex: str
    studies: list[StudyPlan]


def plan() -> list[PatientPlan]:
    """Two patients, two studies, three series, seven instances."""
    return [
        PatientPlan(
            "EXT-100",
            "DOE^JANE",
            "19680412",
            "F",
            [
                StudyPlan(
                    "CT ABDOMEN",
                    "20260302",
                    "OUT-ACC-1",
                    [
                        SeriesPlan("CT", CTImageStorage, 1, "AXIAL 5MM", 3),
                        SeriesPlan("CT", CTImageStorage, 2, "CORONAL", 2),
                    ],
                )
            ],
        ),
        PatientPlan(
            "EXT-200",
            "SMITH^JOHN",
            "19720305",
            "M",
            [
                StudyPlan(
                    "MR KNEE",
                    "20250611",
                    "OUT-ACC-2",
                    [SeriesPlan("MR", MRImageStorage, 1, "T1 SAG", 2)],
                )
            ],
        ),
    ]


def make_instance(p: PatientPlan, st: StudyPlan, se: SeriesPlan, number: int) -> Dataset:
    sop_uid = generate_uid()
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = se.sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = se.sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = st.date
    ds.StudyTime = "101530"
    ds.AccessionNumber = st.accession
    ds.Modality = se.modality
    ds.Manufacturer = "TEST"
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = st.description
    ds.SeriesDescription = se.description
    ds.PatientName = p.name
    ds.PatientID = p.patient_id
    ds.IssuerOfPatientID = "OUTSIDE"
    ds.PatientBirthDate = p.birth_date
    ds.PatientSex = p.sex
    ds.StudyInstanceUID = st.uid
    ds.SeriesInstanceUID = se.uid
    ds.StudyID = "1"
    ds.SeriesNumber = se.number
    ds.InstanceNumber = number
    ds.FrameOfReferenceUID = generate_uid()
    ds.ImagePositionPatient = [0, 0, number]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.SliceThickness = 5
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 8
    ds.Columns = 8
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    if se.modality == "CT":
        ds.RescaleIntercept = -1024
        ds.RescaleSlope = 1
    ds.PixelData = bytes(range(128))
    ds["PixelData"].VR = "OW"
    return ds


@dataclass
class Disc:
    root: Path
    patients: list[PatientPlan]

    @property
    def all_files(self) -> list[str]:
        return [f for p in self.patients for st in p.studies for se in st.series for f in se.files]

    @property
    def instances(self) -> int:
        return len(self.all_files)


def write_disc(root: Path, patients: list[PatientPlan] | None = None) -> Disc:
    """Write Part-10 files as ``DICOM/Pnnnnnnn/Snnnnnnn/Innnnnnn`` (no DICOMDIR yet)."""
    patients = patients or plan()
    root.mkdir(parents=True, exist_ok=True)
    s_count = 0
    for pi, p in enumerate(patients, start=1):
        for st in p.studies:
            for se in st.series:
                s_count += 1
                folder = root / "DICOM" / f"P{pi:07d}" / f"S{s_count:07d}"
                folder.mkdir(parents=True)
                for n in range(1, se.count + 1):
                    ds = make_instance(p, st, se, n)
                    name = f"I{n:07d}"
                    dcmwrite(folder / name, ds, enforce_file_format=True)
                    se.sop_uids.append(ds.SOPInstanceUID)
                    se.files.append((folder / name).relative_to(root).as_posix())
    return Disc(root, patients)


def make_dicomdir(root: Path) -> None:
    run = subprocess.run(
        [str(DCMMKDIR), "+r", "+id", ".", "-Pgp", "+F", "OUTSIDE_DISC", "-nb", "DICOM"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert (root / "DICOMDIR").is_file()


@pytest.fixture
def disc(tmp_path: Path) -> Disc:
    """A disc with a DICOMDIR from dcmmkdir."""
    if not DCMMKDIR.exists():
        pytest.skip("DCMTK dcmmkdir missing (apt install dcmtk)")
    d = write_disc(tmp_path / "disc")
    make_dicomdir(d.root)
    return d


def expected_patients(d: Disc) -> list[dict[str, Any]]:
    out = []
    for p in d.patients:
        out.append(
            {
                "patient_id": p.patient_id,
                "patient_name": p.name,
                "patient_name_groups": {"alphabetic": p.name, "ideographic": "", "phonetic": ""},
                "birth_date": p.birth_date,
                "sex": p.sex,
                "studies": [
                    {
                        "study_instance_uid": st.uid,
                        "study_date": st.date,
                        "study_description": st.description,
                        "accession_number": st.accession,
                        "modalities": sorted({se.modality for se in st.series}),
                        "instances": sum(se.count for se in st.series),
                        "series": [
                            {
                                "series_instance_uid": se.uid,
                                "modality": se.modality,
                                "series_number": str(se.number),
                                "series_description": se.description,
                                "instances": se.count,
                            }
                            for se in st.series
                        ],
                    }
                    for st in p.studies
                ],
            }
        )
    return sorted(out, key=lambda p: p["patient_id"])


def patients_of(scan: MediaScan) -> list[dict[str, Any]]:
    """The ``patients`` JSON, in patient ID order (the order is not part of the contract)."""
    patients = scan.to_json()["patients"]
    for p in patients:
        p["studies"].sort(key=lambda s: s["study_instance_uid"])
    return sorted(patients, key=lambda p: p["patient_id"])


def codes(scan: MediaScan) -> list[tuple[str, str]]:
    return sorted((p["code"], p["path"]) for p in scan.to_json()["problems"])


def sop_uids(scan: MediaScan) -> set[str]:
    return {i.sop_instance_uid for i in scan.instances}


def all_sop_uids(d: Disc) -> set[str]:
    return {u for p in d.patients for st in p.studies for se in st.series for u in se.sop_uids}


# --- a good disc --------------------------------------------------------------------------


@needs_dcmmkdir
def test_disc_with_dicomdir(disc: Disc) -> None:
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    assert doc["source"] == str(disc.root)
    assert doc["dicomdir"] is True
    assert doc["instances"] == 7
    assert doc["problems"] == []
    assert doc["non_dicom"] == []
    assert patients_of(scan) == expected_patients(disc)
    assert sop_uids(scan) == all_sop_uids(disc)
    assert sorted(i.relpath for i in scan.instances) == sorted(disc.all_files)
    assert {i.transfer_syntax_uid for i in scan.instances} == {ExplicitVRLittleEndian}
    assert {i.issuer_of_patient_id for i in scan.instances} == {"OUTSIDE"}


@needs_dcmmkdir
def test_model_groups_and_sorts(disc: Disc) -> None:
    scan = scan_medium(disc.root)
    assert len(scan.patients) == 2
    assert len(scan.studies) == 2
    ct_uid = disc.patients[0].studies[0].uid
    ct = scan.study(ct_uid)
    assert ct is not None
    assert ct.modalities == ["CT"]
    assert [s.series_number for s in ct.series] == ["1", "2"]
    assert [i.instance_number for i in ct.series[0].instances] == ["1", "2", "3"]
    assert len(ct.instances) == 5
    assert (ct.patient_id, ct.patient_name, ct.issuer_of_patient_id) == (
        "EXT-100",
        "DOE^JANE",
        "OUTSIDE",
    )
    assert scan.study("1.2.3.999") is None


def test_series_sort_numerically(tmp_path: Path) -> None:
    pts = plan()
    pts[0].studies[0].series[0].number = 10
    pts[0].studies[0].series[1].number = 9
    d = write_disc(tmp_path / "disc", pts)
    scan = scan_medium(d.root)
    ct = scan.study(pts[0].studies[0].uid)
    assert ct is not None
    assert [s.series_number for s in ct.series] == ["9", "10"]


# --- instances are counted once ----------------------------------------------------------


@needs_dcmmkdir
def test_byte_copy_under_another_name_is_one_duplicate(disc: Disc) -> None:
    original = disc.root / disc.all_files[0]
    copy = original.parent / "I0000099"
    shutil.copyfile(original, copy)
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    assert doc["instances"] == 7
    assert sop_uids(scan) == all_sop_uids(disc)
    rel_copy = copy.relative_to(disc.root).as_posix()
    duplicates = [p for p in doc["problems"] if p["code"] == "duplicate-instance"]
    assert len(duplicates) == 1
    assert duplicates[0]["path"] == rel_copy
    assert disc.all_files[0] in duplicates[0]["message"]
    # The copy is not in the DICOMDIR either; nothing else is wrong.
    assert codes(scan) == [("duplicate-instance", rel_copy), ("not-in-dicomdir", rel_copy)]
    assert patients_of(scan) == expected_patients(disc)


def test_duplicate_without_dicomdir(tmp_path: Path) -> None:
    d = write_disc(tmp_path / "disc")
    original = d.root / d.all_files[3]
    copy = d.root / "DICOM" / "COPY0001"
    shutil.copyfile(original, copy)
    scan = scan_medium(d.root)
    assert scan.to_json()["instances"] == 7
    dups = [(c, p) for c, p in codes(scan) if c == "duplicate-instance"]
    # Only one of the two files is reported, whichever was read second.
    assert len(dups) == 1
    assert dups[0][1] in {"DICOM/COPY0001", d.all_files[3]}
    assert patients_of(scan) == expected_patients(d)


# --- damaged or missing DICOMDIR ----------------------------------------------------------


def test_no_dicomdir_gives_the_same_tree(tmp_path: Path) -> None:
    d = write_disc(tmp_path / "disc")
    scan = scan_medium(d.root)
    doc = scan.to_json()
    assert doc["dicomdir"] is False
    assert doc["instances"] == 7
    assert codes(scan) == [("no-dicomdir", "")]
    assert doc["non_dicom"] == []
    assert patients_of(scan) == expected_patients(d)


@needs_dcmmkdir
def test_dicomdir_record_of_a_deleted_file(disc: Disc) -> None:
    gone = disc.all_files[4]  # the last instance of the second CT series
    (disc.root / gone).unlink()
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    assert doc["dicomdir"] is True
    assert codes(scan) == [("dicomdir-missing-file", gone)]
    assert doc["instances"] == 6
    assert sop_uids(scan) == all_sop_uids(disc) - {
        disc.patients[0].studies[0].series[1].sop_uids[1]
    }
    ct = next(p for p in patients_of(scan) if p["patient_id"] == "EXT-100")
    assert [s["instances"] for s in ct["studies"][0]["series"]] == [3, 1]


@needs_dcmmkdir
def test_extra_file_not_in_dicomdir_is_counted(disc: Disc) -> None:
    pts = disc.patients
    extra = make_instance(pts[1], pts[1].studies[0], pts[1].studies[0].series[0], 3)
    path = disc.root / "DICOM" / "P0000002" / "S0000003" / "I0000003"
    dcmwrite(path, extra, enforce_file_format=True)
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    rel = "DICOM/P0000002/S0000003/I0000003"
    assert codes(scan) == [("not-in-dicomdir", rel)]
    assert doc["instances"] == 8
    assert extra.SOPInstanceUID in sop_uids(scan)
    mr = next(p for p in patients_of(scan) if p["patient_id"] == "EXT-200")
    assert mr["studies"][0]["instances"] == 3
    assert mr["studies"][0]["series"][0]["instances"] == 3


@needs_dcmmkdir
def test_dicomdir_that_is_not_dicom(disc: Disc) -> None:
    (disc.root / "DICOMDIR").write_bytes(b"garbage, not a DICOMDIR" * 10)
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    # Every file was read instead, each then reported as not in the DICOMDIR.
    assert ("dicomdir-unreadable", "DICOMDIR") in codes(scan)
    assert doc["instances"] == 7
    assert patients_of(scan) == expected_patients(disc)


# --- non-DICOM clutter and odd files ------------------------------------------------------


@needs_dcmmkdir
def test_non_dicom_files_are_listed(disc: Disc) -> None:
    (disc.root / "README.TXT").write_text("Images of DOE^JANE. Use the viewer.\r\n")
    (disc.root / "AUTORUN.INF").write_text("[autorun]\r\nopen=VIEWER\\VIEWER.EXE\r\n")
    (disc.root / "VIEWER").mkdir()
    (disc.root / "VIEWER" / "LOGO.JPG").write_bytes(
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00" + bytes(200) + b"\xff\xd9"
    )
    (disc.root / "VIEWER" / "VIEWER.EXE").write_bytes(b"MZ\x90\x00" + bytes(300))
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    assert doc["non_dicom"] == [
        "AUTORUN.INF",
        "README.TXT",
        "VIEWER/LOGO.JPG",
        "VIEWER/VIEWER.EXE",
    ]
    assert doc["problems"] == []
    assert doc["instances"] == 7
    assert patients_of(scan) == expected_patients(disc)


@needs_dcmmkdir
def test_file_without_preamble_or_meta_is_recognised(disc: Disc) -> None:
    pts = disc.patients
    ds = make_instance(pts[0], pts[0].studies[0], pts[0].studies[0].series[0], 4)
    del ds.file_meta
    path = disc.root / "DICOM" / "RAW00001"
    dcmwrite(path, ds, enforce_file_format=False, implicit_vr=True, little_endian=True)
    head = path.read_bytes()[:132]
    assert head[128:132] != b"DICM"  # really no preamble
    assert head[:2] == b"\x08\x00"  # starts with a group 0008 element
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    assert codes(scan) == [("not-in-dicomdir", "DICOM/RAW00001")]
    assert ds.SOPInstanceUID in sop_uids(scan)
    assert doc["instances"] == 8
    assert doc["non_dicom"] == []
    ct = next(p for p in patients_of(scan) if p["patient_id"] == "EXT-100")
    assert ct["studies"][0]["series"][0]["instances"] == 4


def _meta_cut_points(data: bytes) -> dict[str, int]:
    """Offsets that cut a Part-10 file inside its first two file meta elements."""
    assert data[128:132] == b"DICM"
    assert data[132:136] == b"\x02\x00\x00\x00"  # (0002,0000) UL, 12 bytes
    assert data[144:150] == b"\x02\x00\x01\x00OB"  # (0002,0001) OB, 4-byte length at 152
    return {"inside-group-length-value": 141, "inside-ob-length-field": 154}


@pytest.mark.parametrize("where", ["inside-group-length-value", "inside-ob-length-field"])
def test_truncated_file_is_an_unreadable_file_problem(tmp_path: Path, where: str) -> None:
    # A disc with read errors or a copy interrupted half-way: the scan must go on.
    d = write_disc(tmp_path / "disc")
    data = (d.root / d.all_files[0]).read_bytes()
    cut = _meta_cut_points(data)[where]
    (d.root / "DICOM" / "TRUNC001").write_bytes(data[:cut])
    scan = scan_medium(d.root)
    assert codes(scan) == [("no-dicomdir", ""), ("unreadable-file", "DICOM/TRUNC001")]
    assert scan.to_json()["instances"] == 7
    assert patients_of(scan) == expected_patients(d)


def test_dicom_file_without_sop_instance_uid(tmp_path: Path) -> None:
    d = write_disc(tmp_path / "disc")
    pts = d.patients
    ds = make_instance(pts[0], pts[0].studies[0], pts[0].studies[0].series[0], 9)
    del ds.SOPInstanceUID
    dcmwrite(d.root / "DICOM" / "NOUID001", ds, enforce_file_format=True)
    scan = scan_medium(d.root)
    assert codes(scan) == [("missing-uid", "DICOM/NOUID001"), ("no-dicomdir", "")]
    assert scan.to_json()["instances"] == 7


# --- names on the disc differ from the DICOMDIR -------------------------------------------


def _rename_tree(root: Path, rename: Any) -> None:
    """Rename every entry below ``root/DICOM`` (deepest first), and DICOM itself."""
    for path in sorted((root / "DICOM").rglob("*"), key=lambda p: -len(p.parts)):
        path.rename(path.with_name(rename(path.name)))
    (root / "DICOM").rename(root / rename("DICOM"))


@needs_dcmmkdir
def test_lowercase_names_on_disc_are_resolved(disc: Disc) -> None:
    _rename_tree(disc.root, str.lower)
    (disc.root / "DICOMDIR").rename(disc.root / "dicomdir")
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    assert doc["dicomdir"] is True
    assert doc["problems"] == []
    assert doc["instances"] == 7
    assert sorted(i.relpath for i in scan.instances) == sorted(f.lower() for f in disc.all_files)
    assert patients_of(scan) == expected_patients(disc)


@needs_dcmmkdir
def test_iso9660_version_suffix_is_resolved(disc: Disc) -> None:
    for rel in disc.all_files:
        path = disc.root / rel
        path.rename(path.with_name(path.name + ";1"))
    scan = scan_medium(disc.root)
    doc = scan.to_json()
    assert doc["problems"] == []
    assert doc["instances"] == 7
    assert patients_of(scan) == expected_patients(disc)


@needs_dcmmkdir
def test_dicomdir_one_folder_down(tmp_path: Path) -> None:
    inner = tmp_path / "medium" / "CD1"
    d = write_disc(inner)
    make_dicomdir(inner)
    scan = scan_medium(tmp_path / "medium")
    doc = scan.to_json()
    assert doc["dicomdir"] is True
    assert doc["problems"] == []
    assert sorted(i.relpath for i in scan.instances) == sorted(f"CD1/{f}" for f in d.all_files)
    assert patients_of(scan) == expected_patients(d)


# --- nothing to read ----------------------------------------------------------------------


def test_empty_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NoDicomError) as info:
        scan_medium(empty)
    assert info.value.exit_code == 3
    assert str(empty) in str(info.value)


def test_folder_with_only_text_files(tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    (folder / "SUB").mkdir(parents=True)
    (folder / "README.TXT").write_text("no images here\n")
    (folder / "SUB" / "NOTES.TXT").write_text("\x08\x00 looks a bit like a tag, but no\n")
    with pytest.raises(NoDicomError) as info:
        scan_medium(folder)
    assert info.value.exit_code == 3


def test_non_existent_path(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "disc"
    with pytest.raises(NoDicomError) as info:
        scan_medium(missing)
    assert info.value.exit_code == 3
    assert str(missing) in str(info.value)


def test_text_file_that_looks_like_a_raw_dataset(tmp_path: Path) -> None:
    d = write_disc(tmp_path / "disc")
    # Starts like an implicit-VR (0008,0020) element; it is not DICOM.
    (d.root / "NOTES.DAT").write_bytes(b"\x08\x00\x20\x00" + b"plain text, not DICOM\n" * 20)
    scan = scan_medium(d.root)
    assert scan.to_json()["non_dicom"] == ["NOTES.DAT"]
    assert scan.to_json()["instances"] == 7


def test_iso_image_that_is_not_an_image_exits_3(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    temp = tmp_path / "tmpdir"  # its own: other kiosk processes may be reading images now
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    iso = tmp_path / "disc.iso"
    iso.write_bytes(bytes(4096))
    with pytest.raises(NoDicomError) as info:
        scan_medium(iso)
    assert info.value.exit_code == 3
    assert "not a readable disc image" in str(info.value)
    assert not list(temp.iterdir())  # nothing left: no folder, no lock


def test_a_single_file_is_not_a_disc(tmp_path: Path) -> None:
    d = write_disc(tmp_path / "disc")
    with pytest.raises(NoDicomError) as info:
        scan_medium(d.root / d.all_files[0])
    assert info.value.exit_code == 3
