"""Tests for kiosk.demo.sample_disc: the synthetic outside-hospital disc."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.fileset import FileSet
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    UltrasoundMultiFrameImageStorage,
)

from kiosk.demo import sample_disc
from kiosk.demo.sample_disc import SampleDisc, make_sample_disc
from kiosk.media.dicomdir import release_fileset


@contextmanager
def open_fileset(dicomdir: Path) -> Iterator[FileSet]:
    """Read a DICOMDIR as pydicom's FileSet; its staging folder is removed afterwards."""
    fs = FileSet()
    try:
        fs.load(dcmread(dicomdir, force=True))
        yield fs
    finally:
        release_fileset(fs)


DCMDUMP = Path("/usr/bin/dcmdump")
DCMFTEST = Path("/usr/bin/dcmftest")
ISO_COMPONENT = re.compile(r"[A-Z0-9_]{1,8}")
REQUIRED = (
    "StudyDate",
    "StudyTime",
    "AccessionNumber",
    "StudyDescription",
    "SeriesDescription",
    "SeriesNumber",
    "InstanceNumber",
    "Modality",
    "ReferringPhysicianName",
    "InstitutionName",
    "StudyInstanceUID",
    "SeriesInstanceUID",
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
)


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> SampleDisc:
    return make_sample_disc(tmp_path_factory.mktemp("disc") / "CDROM")


def test_fast_and_small(tmp_path: Path) -> None:
    start = time.perf_counter()
    made = make_sample_disc(tmp_path / "disc")
    elapsed = time.perf_counter() - start
    size = sum(f.stat().st_size for f in made.root.rglob("*") if f.is_file())
    assert size < 5 * 1024 * 1024
    assert elapsed < 6.0  # about 1 s; generous for a loaded CI machine


def test_patients_and_studies(disc: SampleDisc) -> None:
    assert len(disc.patients) >= 3
    assert [p.patient_id for p in disc.patients] == [
        p.patient_id for p in sample_disc.DEMO_PATIENTS
    ]
    for patient in disc.patients:
        assert re.fullmatch(r"EXT-\d{5}", patient.patient_id)
        assert patient.issuer == "OUTSIDE-GENERAL"
        assert patient.study_uids
    names = {p.patient_name for p in disc.patients}
    assert "DOE^JANE^M" in names
    assert "MÜLLER^JÜRGEN" in names
    assert any(len(p.studies) >= 2 for p in disc.patients)
    modalities = {st.modality for st in disc.studies}
    assert {"CT", "US"} <= modalities
    assert modalities & {"CR", "DX"}
    study_uids = [st.study_instance_uid for st in disc.studies]
    series_uids = [se.series_instance_uid for st in disc.studies for se in st.series]
    sop_uids = disc.sop_instance_uids
    all_uids = study_uids + series_uids + sop_uids
    assert len(set(all_uids)) == len(all_uids)


def test_layout_is_iso9660_like(disc: SampleDisc) -> None:
    assert disc.dicomdir == disc.root / "DICOMDIR"
    for path in disc.files:
        parts = path.relative_to(disc.root).parts
        assert parts[0] == "DICOM"
        assert all(ISO_COMPONENT.fullmatch(p) for p in parts), parts
    for rel in disc.non_dicom:
        data = (disc.root / rel).read_bytes()
        assert data and data[128:132] != b"DICM"
    assert (disc.root / "AUTORUN.INF").read_text().startswith("[autorun]")
    assert (disc.root / "VIEWER" / "VIEWER.EXE").is_file()


def test_every_file_is_part10_with_the_required_attributes(disc: SampleDisc) -> None:
    for path, uid in zip(disc.files, disc.sop_instance_uids, strict=True):
        raw = path.read_bytes()
        assert raw[:128] == b"\0" * 128 and raw[128:132] == b"DICM"
        ds = dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPClassUID == ds.SOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID == uid
        for keyword in REQUIRED:
            assert keyword in ds and ds[keyword].value not in (None, ""), (path, keyword)
        assert ds.InstitutionName == "Outside General Hospital"
        assert ds.IssuerOfPatientID == "OUTSIDE-GENERAL"


def test_ct_series(disc: SampleDisc) -> None:
    ct = next(st for st in disc.studies if st.modality == "CT")
    assert 1 <= len(ct.series) <= 2
    for series in ct.series:
        assert len(series.files) >= 8
        positions = []
        for path in series.files:
            ds = dcmread(path)
            assert ds.SOPClassUID == CTImageStorage
            assert ds.PhotometricInterpretation == "MONOCHROME2"
            assert ds.BitsAllocated == 16 and ds.SamplesPerPixel == 1
            assert (ds.Rows, ds.Columns) in {(64, 64), (128, 128)}
            assert float(ds.RescaleSlope) == 1.0 and float(ds.RescaleIntercept) == -1024.0
            assert "WindowCenter" in ds and "WindowWidth" in ds
            assert list(ds.ImageOrientationPatient) == [1, 0, 0, 0, 1, 0]
            positions.append(float(ds.ImagePositionPatient[2]))
            hu = ds.pixel_array.astype(float) * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
            assert hu[0, 0] < -900  # air in the corner
            r, c = ds.Rows // 2, ds.Columns // 2
            centre = hu[r - 4 : r + 4, c - 4 : c + 4]
            assert -200 < float(np.median(centre)) < 300  # soft tissue in the middle
        assert len(set(positions)) == len(positions)


def test_ultrasound_is_multiframe(disc: SampleDisc) -> None:
    us = next(st for st in disc.studies if st.modality == "US")
    path = us.series[0].files[0]
    ds = dcmread(path)
    assert ds.SOPClassUID == UltrasoundMultiFrameImageStorage
    assert int(ds.NumberOfFrames) >= 10
    frames = ds.pixel_array
    assert frames.shape[0] == int(ds.NumberOfFrames)
    assert frames.dtype == np.uint8
    assert not np.array_equal(frames[0], frames[len(frames) // 2])  # something moves
    assert ds.FrameIncrementPointer == 0x00181063


def test_latin1_name_decodes(disc: SampleDisc) -> None:
    patient = next(p for p in disc.patients if p.patient_id == sample_disc.JURGEN_MULLER.patient_id)
    path = patient.studies[0].series[0].files[0]
    ds = dcmread(path)
    assert ds.SpecificCharacterSet == "ISO_IR 100"
    assert str(ds.PatientName) == "MÜLLER^JÜRGEN"
    assert ds.PatientName.family_name == "MÜLLER"
    assert "MÜLLER^JÜRGEN".encode("latin-1") in path.read_bytes()


def test_dicomdir_lists_every_instance(disc: SampleDisc) -> None:
    assert disc.dicomdir is not None
    expected = {
        uid: path.relative_to(disc.root)
        for uid, path in zip(disc.sop_instance_uids, disc.files, strict=True)
    }
    with open_fileset(disc.dicomdir) as fs:
        assert fs.ID == "OUTSIDE_GENERAL"
        found = {str(i.SOPInstanceUID): Path(i.path).relative_to(disc.root) for i in fs}
        assert found == expected
        patient_ids = {str(i.PatientID) for i in fs}
        assert patient_ids == {p.patient_id for p in disc.patients}
        assert len(fs.find(StudyInstanceUID=disc.studies[0].study_instance_uid)) == (
            disc.studies[0].instances
        )
        muller = fs.find(PatientID=sample_disc.JURGEN_MULLER.patient_id)
        assert muller and str(muller[0].PatientName) == "MÜLLER^JÜRGEN"


@pytest.mark.skipif(not DCMDUMP.exists(), reason="DCMTK dcmdump not installed")
def test_dcmtk_reads_every_file_and_the_dicomdir(disc: SampleDisc) -> None:
    assert disc.dicomdir is not None
    paths = [str(p) for p in [disc.dicomdir, *disc.files]]
    result = subprocess.run(
        [str(DCMDUMP), "-q", "-M", *paths],
        capture_output=True,
        encoding="latin-1",  # dcmdump prints values in their own character set
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "E:" not in result.stderr and "W:" not in result.stderr, result.stderr
    assert "[MÜLLER^JÜRGEN]" in result.stdout
    if DCMFTEST.exists():
        check = subprocess.run([str(DCMFTEST), *paths], capture_output=True, text=True, timeout=60)
        assert check.returncode == 0, check.stdout
        assert check.stdout.count("yes:") == len(paths)
    # DCMTK follows the DICOMDIR records to our files.
    listing = subprocess.run(
        [str(DCMDUMP), "-q", str(disc.dicomdir)],
        capture_output=True,
        encoding="latin-1",
        timeout=60,
    ).stdout
    for path in disc.files:
        rel = "\\".join(path.relative_to(disc.root).parts)
        assert f'refFileID="{rel}"' in listing


def test_dciodvfy_if_installed(disc: SampleDisc) -> None:
    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy is None:
        pytest.skip("dciodvfy (dicom3tools) not installed")
    for path in disc.files:
        result = subprocess.run([dciodvfy, str(path)], capture_output=True, text=True, timeout=60)
        errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
        assert not errors, (path, errors)


def test_without_dicomdir(tmp_path: Path, disc: SampleDisc) -> None:
    bare = make_sample_disc(tmp_path / "bare", with_dicomdir=False)
    assert bare.dicomdir is None
    assert not (bare.root / "DICOMDIR").exists()
    assert [f.relative_to(bare.root) for f in bare.files] == [
        f.relative_to(disc.root) for f in disc.files
    ]
    for path in bare.files:
        assert dcmread(path).SOPInstanceUID in bare.sop_instance_uids


def test_pixel_content_is_deterministic(tmp_path: Path, disc: SampleDisc) -> None:
    again = make_sample_disc(tmp_path / "again", with_dicomdir=False)
    first, second = dcmread(disc.files[0]), dcmread(again.files[0])
    assert first.PixelData == second.PixelData
    assert first.SOPInstanceUID != second.SOPInstanceUID


def test_refuses_a_non_empty_destination(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    with pytest.raises(FileExistsError):
        make_sample_disc(tmp_path)
