"""Discs made by the tests: pydicom files, DICOMDIR by DCMTK's dcmmkdir."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

DCMMKDIR = "/usr/bin/dcmmkdir"


@dataclass
class DiscStudy:
    """What the test put on the disc for one study."""

    study_instance_uid: str
    patient_id: str
    sop_instance_uids: list[str] = field(default_factory=list)
    pixel_sha256: dict[str, str] = field(default_factory=dict)


def ct_instance(
    *,
    patient_id: str,
    patient_name: str,
    birth_date: str,
    sex: str,
    study_uid: str,
    series_uid: str,
    number: int,
    accession: str = "OUT-1",
    issuer: str = "OUTSIDE-GENERAL",
    size: int = 32,
) -> Dataset:
    """Return a small, valid CT image with a gradient as pixel data."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientID = patient_id
    ds.IssuerOfPatientID = issuer
    ds.PatientName = patient_name
    ds.PatientBirthDate = birth_date
    ds.PatientSex = sex
    ds.StudyInstanceUID = study_uid
    ds.StudyDate = "20260301"
    ds.StudyTime = "101500"
    ds.StudyID = "1"
    ds.AccessionNumber = accession
    ds.ReferringPhysicianName = ""
    ds.StudyDescription = "CT CHEST"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 1
    ds.SeriesDescription = "AXIAL"
    ds.Modality = "CT"
    ds.InstanceNumber = number
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ImagePositionPatient = [0, 0, float(number)]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [1, 1]
    ds.SliceThickness = 1
    ds.FrameOfReferenceUID = generate_uid()
    ds.PositionReferenceIndicator = ""
    ds.KVP = 120
    ds.AcquisitionNumber = 1
    ds.RescaleIntercept = -1024
    ds.RescaleSlope = 1
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = size
    ds.Columns = size
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    yy, xx = np.mgrid[0:size, 0:size]
    ds.PixelData = ((xx * 37 + yy * 11 + number * 101) % 4096).astype(np.uint16).tobytes()
    return ds


def ct_series(
    *,
    patient_id: str,
    study_uid: str,
    count: int,
    series_uid: str | None = None,
    patient_name: str = "DOE^JANE",
    birth_date: str = "19700101",
    sex: str = "F",
    issuer: str = "OUTSIDE-GENERAL",
) -> list[Dataset]:
    """Return ``count`` CT images of one series (a new Series UID unless given)."""
    series_uid = series_uid or generate_uid()
    return [
        ct_instance(
            patient_id=patient_id,
            patient_name=patient_name,
            birth_date=birth_date,
            sex=sex,
            study_uid=study_uid,
            series_uid=series_uid,
            number=n,
            issuer=issuer,
        )
        for n in range(1, count + 1)
    ]


def write_ct_disc(
    root: Path,
    patients: list[tuple[str, str, str, str]],
    *,
    per_study: int = 3,
    dicomdir: bool = True,
) -> list[DiscStudy]:
    """Write one CT study per (patient_id, name, birth_date, sex), ISO-style names.

    Returns what was written, with the SHA-256 of each instance's pixel data.
    """
    studies = []
    for p, (pid, name, dob, sex) in enumerate(patients, 1):
        study = DiscStudy(generate_uid(), pid)
        series_uid = generate_uid()
        for n in range(1, per_study + 1):
            ds = ct_instance(
                patient_id=pid,
                patient_name=name,
                birth_date=dob,
                sex=sex,
                study_uid=study.study_instance_uid,
                series_uid=series_uid,
                number=n,
            )
            path = root / "DICOM" / f"P{p:07d}" / f"I{n:07d}"
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(path, enforce_file_format=True)
            study.sop_instance_uids.append(ds.SOPInstanceUID)
            study.pixel_sha256[ds.SOPInstanceUID] = hashlib.sha256(ds.PixelData).hexdigest()
        studies.append(study)
    if dicomdir:
        make_dicomdir(root)
    return studies


def make_dicomdir(root: Path) -> None:
    """Write a DICOMDIR for every file under ``root/DICOM`` with DCMTK's dcmmkdir."""
    if not shutil.which(DCMMKDIR) and not os.path.exists(DCMMKDIR):
        raise RuntimeError("dcmmkdir is missing: apt-get install dcmtk")
    subprocess.run(
        [DCMMKDIR, "--recurse", "--general-purpose", "--invent", "+D", "DICOMDIR", "DICOM"],
        cwd=root,
        check=True,
        capture_output=True,
    )


def write_instances(
    folder: Path,
    n: int,
    *,
    size: int = 32,
    compress: str | None = None,
    study_uid: str | None = None,
    sop_class: str = CTImageStorage,
) -> list[Path]:
    """Write ``n`` CT images of one study (optionally compressed); return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = study_uid or generate_uid()
    series = generate_uid()
    paths = []
    for k in range(1, n + 1):
        ds = ct_instance(
            patient_id="MRN1",
            patient_name="TEST^PATIENT",
            birth_date="19700101",
            sex="F",
            study_uid=study_uid,
            series_uid=series,
            number=k,
            size=size,
        )
        if sop_class != CTImageStorage:
            ds.SOPClassUID = sop_class
            ds.file_meta.MediaStorageSOPClassUID = sop_class
        if compress:
            ds.compress(compress, generate_instance_uid=False)
        path = folder / f"{ds.SOPInstanceUID}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def write_named_disc(
    root: Path,
    name: bytes,
    charset: str | None,
    *,
    patient_id: str = "OUT-7",
    birth_date: str = "19800101",
    sex: str = "M",
    dicomdir: bool = False,
) -> DiscStudy:
    """Write a one-image CT study whose Patient's Name is ``name``, byte for byte.

    ``charset`` is the Specific Character Set written (``None``: none at all),
    whatever the bytes really are: the defects of real discs are made this way.
    """
    study = DiscStudy(generate_uid(), patient_id)
    ds = ct_instance(
        patient_id=patient_id,
        patient_name="X",
        birth_date=birth_date,
        sex=sex,
        study_uid=study.study_instance_uid,
        series_uid=generate_uid(),
        number=1,
    )
    if charset is None:
        del ds.SpecificCharacterSet
    else:
        ds.SpecificCharacterSet = charset.split("\\") if "\\" in charset else charset
    with warnings.catch_warnings():  # pydicom splits the bytes on '=' to check them: no matter
        warnings.simplefilter("ignore")
        ds["PatientName"].value = name  # the bytes as given: pydicom writes them unchanged
    path = root / "DICOM" / "P0000001" / "I0000001"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    study.sop_instance_uids.append(ds.SOPInstanceUID)
    if dicomdir:
        make_dicomdir(root)
    return study
