"""Synthesize a realistic outside-hospital patient disc for the demo and the tests.

The disc looks like what a front desk receives from another hospital: DICOM
files under ``DICOM/`` with ISO-9660 style names (``DICOM/P0000001/S0000001/I0000001``,
uppercase, at most 8 characters, no extension), a ``DICOMDIR`` at the root that
references them, and the usual non-DICOM clutter of a burned CD (``AUTORUN.INF``,
``README.TXT`` and a ``VIEWER/`` folder).

The content is deterministic (seeded pixel data, fixed names, dates and
accession numbers); only the UIDs are random. The demo patients are exposed as
module-level constants (:data:`DEMO_PATIENTS`, :data:`DEMO_STUDIES`) so the
embedded demo worklist (:mod:`kiosk.demo.peers`) can schedule matching orders.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.fileset import FileSet
from pydicom.uid import (
    UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    DigitalXRayImageStorageForPresentation,
    EncapsulatedPDFStorage,
    ExplicitVRLittleEndian,
    UltrasoundMultiFrameImageStorage,
    generate_uid,
)

from kiosk.media.dicomdir import release_fileset

__all__ = [
    "ANNA_KOWALSKI",
    "DEMO_PATIENTS",
    "DEMO_STUDIES",
    "INSTITUTION_NAME",
    "JANE_DOE",
    "JOHN_SMITH",
    "JURGEN_MULLER",
    "NON_DICOM_FILES",
    "OUTSIDE_ISSUER",
    "DemoPatient",
    "DemoStudy",
    "SampleDisc",
    "SamplePatient",
    "SampleSeries",
    "SampleStudy",
    "make_sample_disc",
]

#: Issuer of Patient ID used by the outside hospital on the disc.
OUTSIDE_ISSUER: Final = "OUTSIDE-GENERAL"
#: Institution Name written in every instance.
INSTITUTION_NAME: Final = "Outside General Hospital"
#: File-set ID written in the DICOMDIR.
FILE_SET_ID: Final = "OUTSIDE_GENERAL"

_SEED: Final = 20260311


@dataclass(frozen=True)
class DemoPatient:
    """A patient as the outside hospital registered them (what the disc says).

    Attributes
    ----------
    patient_id : str
        The outside hospital's Patient ID (not our MRN).
    issuer : str
        Issuer of Patient ID of the outside hospital.
    patient_name : str
        DICOM PN, e.g. ``"DOE^JANE^M"``.
    birth_date : str
        DICOM DA, ``YYYYMMDD``.
    sex : str
        ``"F"``, ``"M"`` or ``"O"``.
    character_set : str or None
        Specific Character Set written in this patient's files, if any.
    """

    patient_id: str
    issuer: str
    patient_name: str
    birth_date: str
    sex: str
    character_set: str | None = None


@dataclass(frozen=True)
class DemoStudy:
    """One study on the disc, as planned (the UIDs are made when the disc is written).

    Attributes
    ----------
    patient_id : str
        Outside Patient ID of the study's patient (see :class:`DemoPatient`).
    accession_number : str
        The outside hospital's Accession Number.
    modality : str
        Modality of the study's series.
    study_description : str
        Study Description.
    study_date, study_time : str
        DICOM DA and TM of the study.
    department : str
        The department of *our* hospital the study belongs to (``"radiology"``
        or ``"cardiology"``), as a hint for routing.
    """

    patient_id: str
    accession_number: str
    modality: str
    study_description: str
    study_date: str
    study_time: str
    department: str


JANE_DOE: Final = DemoPatient("EXT-48213", OUTSIDE_ISSUER, "DOE^JANE^M", "19680412", "F")
JURGEN_MULLER: Final = DemoPatient(
    "EXT-51877", OUTSIDE_ISSUER, "MÜLLER^JÜRGEN", "19550923", "M", "ISO_IR 100"
)
JOHN_SMITH: Final = DemoPatient("EXT-60342", OUTSIDE_ISSUER, "SMITH^JOHN", "19720305", "M")
ANNA_KOWALSKI: Final = DemoPatient("EXT-73019", OUTSIDE_ISSUER, "KOWALSKI^ANNA", "19900817", "F")

#: The patients on the sample disc, in disc order.
DEMO_PATIENTS: Final[tuple[DemoPatient, ...]] = (
    JANE_DOE,
    JURGEN_MULLER,
    JOHN_SMITH,
    ANNA_KOWALSKI,
)

_CT_DOE: Final = DemoStudy(
    JANE_DOE.patient_id, "OG26-031877", "CT", "CT ABDOMEN PELVIS W CONTRAST",
    "20260302", "101530", "radiology",
)  # fmt: skip
_CR_DOE: Final = DemoStudy(
    JANE_DOE.patient_id, "OG25-114502", "CR", "XR CHEST PA", "20250611", "083012", "radiology"
)
_US_MULLER: Final = DemoStudy(
    JURGEN_MULLER.patient_id, "OG26-029954", "US", "ECHO TRANSTHORACIC COMPLETE",
    "20260218", "141207", "cardiology",
)  # fmt: skip
_DX_SMITH: Final = DemoStudy(
    JOHN_SMITH.patient_id, "OG26-030511", "DX", "XR HAND LEFT 3 VIEWS",
    "20260227", "162944", "radiology",
)  # fmt: skip
_CR_KOWALSKI: Final = DemoStudy(
    ANNA_KOWALSKI.patient_id, "OG26-032260", "CR", "XR KNEE RIGHT 2 VIEWS",
    "20260305", "094118", "radiology",
)  # fmt: skip

#: The studies on the sample disc; Jane Doe has two (a CT and an older CR).
DEMO_STUDIES: Final[tuple[DemoStudy, ...]] = (
    _CT_DOE,
    _CR_DOE,
    _US_MULLER,
    _DX_SMITH,
    _CR_KOWALSKI,
)

#: Non-DICOM files of the disc, as POSIX paths relative to its root.
NON_DICOM_FILES: Final[tuple[str, ...]] = (
    "AUTORUN.INF",
    "README.TXT",
    "VIEWER/VIEWER.EXE",
    "REPORTS/ECHO_RPT.PDF",
)


@dataclass(frozen=True)
class SampleSeries:
    """A series as written on the disc."""

    series_instance_uid: str
    modality: str
    series_number: int
    series_description: str
    sop_class_uid: str
    sop_instance_uids: tuple[str, ...]
    files: tuple[Path, ...]


@dataclass(frozen=True)
class SampleStudy:
    """A study as written on the disc."""

    study_instance_uid: str
    accession_number: str
    modality: str
    study_description: str
    study_date: str
    series: tuple[SampleSeries, ...]

    @property
    def instances(self) -> int:
        """Number of SOP instances in the study."""
        return sum(len(s.sop_instance_uids) for s in self.series)


@dataclass(frozen=True)
class SamplePatient:
    """A patient as written on the disc, with the studies made for them."""

    patient_id: str
    issuer: str
    patient_name: str
    birth_date: str
    sex: str
    studies: tuple[SampleStudy, ...]

    @property
    def study_uids(self) -> tuple[str, ...]:
        """Study Instance UIDs of the patient's studies, in disc order."""
        return tuple(s.study_instance_uid for s in self.studies)


@dataclass(frozen=True)
class SampleDisc:
    """What :func:`make_sample_disc` wrote.

    Attributes
    ----------
    root : Path
        The disc root (the ``dest`` argument).
    patients : list of SamplePatient
        The patients, in disc order.
    dicomdir : Path or None
        The DICOMDIR file, or ``None`` when written without one.
    non_dicom : tuple of str
        The non-DICOM files, POSIX paths relative to `root`.
    """

    root: Path
    patients: list[SamplePatient]
    dicomdir: Path | None
    non_dicom: tuple[str, ...] = NON_DICOM_FILES

    @property
    def studies(self) -> list[SampleStudy]:
        """All studies of all patients, in disc order."""
        return [st for p in self.patients for st in p.studies]

    @property
    def files(self) -> list[Path]:
        """All DICOM instance files (not the DICOMDIR), in disc order."""
        return [f for st in self.studies for se in st.series for f in se.files]

    @property
    def sop_instance_uids(self) -> list[str]:
        """All SOP Instance UIDs, in disc order."""
        return [u for st in self.studies for se in st.series for u in se.sop_instance_uids]


# --------------------------------------------------------------------------- pixels

_Float = npt.NDArray[np.float64]


def _grid(rows: int, cols: int) -> tuple[_Float, _Float]:
    """Return (y, x) coordinates in [-1, 1]."""
    y, x = np.mgrid[-1.0 : 1.0 : rows * 1j, -1.0 : 1.0 : cols * 1j]
    return y, x


def _ellipse(
    y: _Float, x: _Float, cy: float, cx: float, ry: float, rx: float, angle: float = 0.0
) -> npt.NDArray[np.bool_]:
    """Boolean mask of an ellipse centred at (cy, cx), rotated by `angle` radians."""
    c, s = np.cos(angle), np.sin(angle)
    dx, dy = x - cx, y - cy
    u = dx * c + dy * s
    v = -dx * s + dy * c
    mask: npt.NDArray[np.bool_] = (u / rx) ** 2 + (v / ry) ** 2 <= 1.0
    return mask


def _ct_slice(size: int, z: float, rng: np.random.Generator, sharp: bool) -> npt.NDArray[np.uint16]:
    """An abdominal CT phantom slice at relative height `z` (0..1), stored as HU + 1024."""
    y, x = _grid(size, size)
    hu = np.full((size, size), -1000.0)
    body = _ellipse(y, x, 0.0, 0.0, 0.62 - 0.04 * z, 0.84 - 0.03 * z)
    hu[body] = -100.0  # subcutaneous fat
    inner = _ellipse(y, x, 0.0, 0.0, 0.55 - 0.04 * z, 0.76 - 0.03 * z)
    hu[inner] = 35.0 + 25.0 * y[inner]  # soft tissue with an antero-posterior gradient
    liver = _ellipse(y, x, -0.08, -0.36, 0.30 * (1.0 - 0.5 * z), 0.30 * (1.0 - 0.4 * z))
    hu[liver & inner] = 65.0
    for side in (-1.0, 1.0):  # kidneys
        hu[_ellipse(y, x, 0.22, 0.30 * side, 0.11, 0.07, 0.4 * side)] = 150.0
    hu[_ellipse(y, x, 0.18, 0.06, 0.055, 0.055)] = 220.0  # contrast-filled aorta
    gas = _ellipse(y, x, -0.25 + 0.1 * z, 0.25 - 0.3 * z, 0.07, 0.09)
    hu[gas & inner] = -850.0
    spine = _ellipse(y, x, 0.38, 0.0, 0.11, 0.10)
    hu[spine] = 700.0
    hu[_ellipse(y, x, 0.38, 0.0, 0.07, 0.06)] = 250.0  # cancellous bone
    hu[(y > 0.72) & (y < 0.76) & (np.abs(x) < 0.95)] = 150.0  # table
    hu += rng.normal(0.0, 22.0 if sharp else 8.0, hu.shape)
    return np.clip(hu + 1024.0, 0, 4095).astype(np.uint16)


def _xray(rows: int, cols: int, kind: str, rng: np.random.Generator) -> npt.NDArray[np.uint16]:
    """A projection radiograph phantom (12-bit, MONOCHROME2: bone is bright)."""
    y, x = _grid(rows, cols)
    img = np.full((rows, cols), 120.0)
    if kind == "chest":
        body = _ellipse(y, x, 0.1, 0.0, 1.05, 0.9)
        img[body] = 1900.0 + 500.0 * y[body]
        for side in (-1.0, 1.0):
            lung = _ellipse(y, x, -0.05, 0.4 * side, 0.6, 0.3)
            img[lung] = 650.0 + 450.0 * (y[lung] + 0.6)
            for k in range(6):  # ribs
                rib = _ellipse(y, x, -0.55 + 0.2 * k, 0.4 * side, 0.05, 0.38, -0.25 * side)
                img[rib & lung] += 500.0
        img[_ellipse(y, x, 0.25, 0.08, 0.3, 0.24)] = 2500.0  # heart
        img[(np.abs(x) < 0.08) & (y > -1.0)] += 400.0  # spine
    elif kind == "hand":
        img[_ellipse(y, x, 0.45, 0.0, 0.35, 0.42)] = 1500.0  # palm
        for k, (cx, length) in enumerate(((-0.5, 0.35), (-0.25, 0.55), (0.0, 0.6), (0.24, 0.55))):
            img[_ellipse(y, x, 0.05 - length / 2, cx, length, 0.09)] = 1500.0
            img[_ellipse(y, x, 0.05 - length / 2, cx, length * 0.92, 0.045)] = 2700.0 - 50.0 * k
            img[_ellipse(y, x, 0.5, cx * 0.7, 0.3, 0.04)] = 2600.0  # metacarpal
        img[_ellipse(y, x, 0.15, 0.62, 0.35, 0.1, -0.6)] = 1500.0  # thumb
        img[_ellipse(y, x, 0.15, 0.62, 0.3, 0.05, -0.6)] = 2700.0
    else:  # knee
        img[np.abs(x) < 0.55] = 1400.0
        img[(np.abs(x) < 0.3) & (y < -0.06)] = 2800.0  # femur
        img[_ellipse(y, x, -0.12, 0.0, 0.12, 0.38)] = 2900.0  # condyles
        img[(np.abs(x) < 0.28) & (y > 0.06)] = 2700.0  # tibia
        img[_ellipse(y, x, -0.3, 0.42, 0.14, 0.1)] = 2500.0  # patella
    img += rng.normal(0.0, 25.0, img.shape)
    out: npt.NDArray[np.uint16] = np.clip(img, 0, 4095).astype(np.uint16)
    return out


def _echo_frames(frames: int, size: int, rng: np.random.Generator) -> npt.NDArray[np.uint8]:
    """An apical echo-like cine: speckle in a sector, a beating chamber, a moving valve blob."""
    y, x = np.mgrid[0.0 : 1.0 : size * 1j, -1.0 : 1.0 : size * 1j]
    r = np.hypot(x, y)
    theta = np.arctan2(x, y)
    sector = (r < 0.98) & (np.abs(theta) < np.deg2rad(38.0))
    out = np.zeros((frames, size, size, 3), dtype=np.uint8)
    for f in range(frames):
        phase = 2.0 * np.pi * f / frames
        speckle = rng.rayleigh(0.35, (size, size)) * (1.0 - 0.6 * r)
        gray = np.where(sector, speckle, 0.0)
        chamber = _ellipse(y, x, 0.55, -0.05, 0.26 + 0.05 * np.sin(phase), 0.2)
        gray[chamber] *= 0.15
        wall = _ellipse(y, x, 0.55, -0.05, 0.34 + 0.05 * np.sin(phase), 0.28) & ~chamber
        gray[wall & sector] += 0.35
        by, bx = 0.62 + 0.12 * np.sin(phase), 0.15 * np.cos(phase)
        blob = _ellipse(y, x, by, bx, 0.06, 0.06)
        gray[blob] = 0.95
        g = (np.clip(gray, 0.0, 1.0) * 255.0).astype(np.uint8)
        out[f, :, :, 0] = g
        out[f, :, :, 1] = g
        out[f, :, :, 2] = g
        flow = _ellipse(y, x, 0.3, 0.1 * np.sin(phase), 0.07, 0.05) & sector  # colour Doppler
        out[f][flow] = (200, 40, 40) if np.sin(phase) >= 0 else (40, 60, 210)
        out[f, 2:6, 2:30] = (230, 230, 90)  # burned-in cine bar
    return out


# --------------------------------------------------------------------------- datasets


def _base(
    patient: DemoPatient, study: DemoStudy, study_uid: str, sop_class: UID, sop_uid: str
) -> Dataset:
    """A dataset with the Patient, General Study and SOP Common attributes filled in."""
    ds = Dataset()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    if patient.character_set:
        ds.SpecificCharacterSet = patient.character_set
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = study.study_date
    ds.SeriesDate = study.study_date
    ds.ContentDate = study.study_date
    ds.StudyTime = study.study_time
    ds.AccessionNumber = study.accession_number
    ds.Modality = study.modality
    ds.Manufacturer = "ACME Medical"
    ds.InstitutionName = INSTITUTION_NAME
    ds.InstitutionAddress = "1 Hospital Road, Othertown"
    ds.ReferringPhysicianName = "SCHÄFER^ANNA^^DR" if patient.character_set else "GREY^MEREDITH^^DR"
    ds.StationName = f"OG{study.modality}01"
    ds.StudyDescription = study.study_description
    ds.PatientName = patient.patient_name
    ds.PatientID = patient.patient_id
    ds.IssuerOfPatientID = patient.issuer
    ds.PatientBirthDate = patient.birth_date
    ds.PatientSex = patient.sex
    ds.StudyInstanceUID = study_uid
    ds.StudyID = study.accession_number[-4:]
    ds.BurnedInAnnotation = "NO"
    ds.LossyImageCompression = "00"
    return ds


def _ct_series(
    patient: DemoPatient, study: DemoStudy, study_uid: str, rng: np.random.Generator
) -> Iterator[tuple[str, int, str, list[Dataset]]]:
    """Yield (series UID, number, description, datasets) for a two-series abdominal CT."""
    frame_of_reference = generate_uid()
    size, slices, thickness, spacing = 128, 8, 5.0, 350.0 / 128
    for number, desc, sharp, (wc, ww) in (
        (2, "ABD-PEL 5.0 SOFT TISSUE", False, (40, 400)),
        (3, "ABD-PEL 5.0 BONE", True, (500, 2000)),
    ):
        series_uid = generate_uid()
        items: list[Dataset] = []
        for i in range(slices):
            z = -120.0 - i * thickness
            ds = _base(patient, study, study_uid, CTImageStorage, generate_uid())
            ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
            ds.SeriesTime = study.study_time
            ds.ContentTime = f"{int(study.study_time[:4]) + number:04d}{i:02d}"
            ds.SeriesDescription = desc
            ds.SeriesInstanceUID = series_uid
            ds.SeriesNumber = number
            ds.InstanceNumber = i + 1
            ds.AcquisitionNumber = 1
            ds.BodyPartExamined = "ABDOMEN"
            ds.PatientPosition = "FFS"
            ds.FrameOfReferenceUID = frame_of_reference
            ds.PositionReferenceIndicator = ""
            ds.KVP = 120
            ds.SliceThickness = thickness
            ds.ConvolutionKernel = "B70f" if sharp else "B30f"
            ds.ImagePositionPatient = [-175.0, -175.0, z]
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.SliceLocation = z
            ds.PixelSpacing = [f"{spacing:.6f}", f"{spacing:.6f}"]
            ds.set_pixel_data(
                _ct_slice(size, i / (slices - 1), rng, sharp),
                "MONOCHROME2",
                12,
                generate_instance_uid=False,
            )
            ds.RescaleIntercept = -1024
            ds.RescaleSlope = 1
            ds.RescaleType = "HU"
            ds.WindowCenter = wc
            ds.WindowWidth = ww
            ds.WindowCenterWidthExplanation = "SOFT TISSUE" if not sharp else "BONE"
            items.append(ds)
        yield series_uid, number, desc, items


def _projection_series(
    patient: DemoPatient,
    study: DemoStudy,
    study_uid: str,
    rng: np.random.Generator,
    views: Sequence[tuple[str, str, str]],
) -> Iterator[tuple[str, int, str, list[Dataset]]]:
    """Yield one series per view for a CR or DX study; a view is (kind, view, laterality)."""
    sop_class = (
        ComputedRadiographyImageStorage
        if study.modality == "CR"
        else DigitalXRayImageStorageForPresentation
    )
    body_part = {"chest": "CHEST", "hand": "HAND", "knee": "KNEE"}
    for n, (kind, view, laterality) in enumerate(views, start=1):
        series_uid = generate_uid()
        ds = _base(patient, study, study_uid, sop_class, generate_uid())
        ds.ImageType = ["ORIGINAL", "PRIMARY"]
        ds.SeriesTime = study.study_time
        ds.ContentTime = study.study_time
        desc = f"{body_part[kind]} {view}"
        ds.SeriesDescription = desc
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = n
        ds.InstanceNumber = 1
        ds.BodyPartExamined = body_part[kind]
        ds.ViewPosition = view
        if laterality:
            ds.ImageLaterality = laterality  # (Series) Laterality only when this is absent
        ds.PatientOrientation = ["L", "F"] if kind == "chest" else ["R", "F"]
        ds.KVP = 110 if kind == "chest" else 55
        rows, cols = (160, 128) if kind != "knee" else (160, 112)
        ds.set_pixel_data(
            _xray(rows, cols, kind, rng), "MONOCHROME2", 12, generate_instance_uid=False
        )
        if study.modality == "DX":
            ds.PresentationIntentType = "FOR PRESENTATION"
            ds.DetectorType = "SCINTILLATOR"
            ds.PixelIntensityRelationship = "LOG"
            ds.PixelIntensityRelationshipSign = 1
            ds.RescaleIntercept = 0
            ds.RescaleSlope = 1
            ds.RescaleType = "US"
            ds.ImagerPixelSpacing = ["0.15", "0.15"]
            ds.PresentationLUTShape = "IDENTITY"
            ds.PositionerType = ""
            ds.AcquisitionContextSequence = []
            region = Dataset()
            region.CodeValue = {"HAND": "T-D8700", "KNEE": "T-D9200", "CHEST": "T-D3000"}[
                body_part[kind]
            ]
            region.CodingSchemeDesignator = "SRT"
            region.CodeMeaning = body_part[kind].title()
            ds.AnatomicRegionSequence = [region]
        else:
            ds.PixelSpacing = ["0.2", "0.2"]
        ds.WindowCenter = 1800
        ds.WindowWidth = 3200
        yield series_uid, n, desc, [ds]


def _us_series(
    patient: DemoPatient, study: DemoStudy, study_uid: str, rng: np.random.Generator
) -> Iterator[tuple[str, int, str, list[Dataset]]]:
    """Yield two single-clip echo series (apical 4-chamber and parasternal long axis)."""
    for number, desc in ((1, "A4C"), (2, "PLAX")):
        series_uid = generate_uid()
        ds = _base(patient, study, study_uid, UltrasoundMultiFrameImageStorage, generate_uid())
        ds.ImageType = ["ORIGINAL", "PRIMARY", "CARDIAC", "0001"]
        ds.SeriesTime = study.study_time
        ds.ContentTime = study.study_time
        ds.SeriesDescription = desc
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = number
        ds.InstanceNumber = 1
        ds.BodyPartExamined = "HEART"
        ds.PatientOrientation = ""  # Type 2C: no Image Orientation (Patient) in US
        ds.set_pixel_data(_echo_frames(10, 96, rng), "RGB", 8, generate_instance_uid=False)
        ds.FrameTime = 40.0
        ds.FrameIncrementPointer = 0x00181063  # Frame Time
        ds.CineRate = 25
        ds.RecommendedDisplayFrameRate = 25
        ds.HeartRate = 72
        yield series_uid, number, desc, [ds]
    yield _echo_report(patient, study, study_uid)


_ECHO_REPORT = (
    "OUTSIDE GENERAL HOSPITAL - ECHOCARDIOGRAPHY REPORT",
    "",
    "Exam: transthoracic echocardiogram, complete",
    "Indication: dyspnoea on exertion",
    "",
    "Findings",
    "  Left ventricle: normal size; ejection fraction 58 % (biplane).",
    "  Right ventricle: normal size and function.",
    "  Valves: mild mitral regurgitation; no stenosis.",
    "  Pericardium: no effusion.",
    "",
    "Impression: normal biventricular function; mild mitral regurgitation.",
    "",
    "Signed: Dr. A. Schaefer, cardiology (synthetic demo report)",
)


def report_pdf(lines: Sequence[str] = _ECHO_REPORT) -> bytes:
    """A one-page PDF report (an A4 page of text drawn by Pillow, saved as PDF)."""
    from io import BytesIO

    from PIL import Image, ImageDraw, ImageFont

    page = Image.new("L", (827, 1169), 255)  # A4 at 100 dpi
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=22)
    y = 90
    for line in lines:
        draw.text((80, y), line, fill=0, font=font)
        y += 36
    out = BytesIO()
    page.save(out, format="PDF", resolution=100.0)
    return out.getvalue()


def _echo_report(
    patient: DemoPatient, study: DemoStudy, study_uid: str
) -> tuple[str, int, str, list[Dataset]]:
    """The echo's report as an Encapsulated PDF, in a series of its own."""
    series_uid = generate_uid()
    ds = _base(patient, study, study_uid, EncapsulatedPDFStorage, generate_uid())
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 3
    ds.SeriesDescription = "ECHO REPORT"
    ds.InstanceNumber = 1
    ds.ContentTime = study.study_time
    ds.AcquisitionDateTime = study.study_date + study.study_time
    ds.ConversionType = "WSD"
    ds.DocumentTitle = "Echocardiography report"
    ds.ConceptNameCodeSequence = []
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    data = report_pdf()
    ds.EncapsulatedDocument = data + (b"\0" if len(data) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(data)
    del ds.LossyImageCompression  # not in the Encapsulated Document module
    return series_uid, 3, "ECHO REPORT", [ds]


# --------------------------------------------------------------------------- writing

_AUTORUN = (
    "[autorun]\r\nopen=VIEWER\\VIEWER.EXE\r\nicon=VIEWER\\VIEWER.EXE\r\nlabel=OUTSIDE GENERAL\r\n"
)
_README = (
    "OUTSIDE GENERAL HOSPITAL - PATIENT IMAGING CD\r\n"
    "\r\n"
    "This disc contains medical images in DICOM format.\r\n"
    "To view them on Windows, run VIEWER\\VIEWER.EXE.\r\n"
    "The images are for the patient's physicians; they are not a diagnostic report.\r\n"
)
_VIEWER = "Placeholder for the disc viewer program (not an executable).\r\n"


def _write_non_dicom(root: Path) -> None:
    """Write the non-DICOM files of a burned CD (a PDF report outside DICOM among them)."""
    (root / "VIEWER").mkdir(exist_ok=True)
    (root / "REPORTS").mkdir(exist_ok=True)
    texts = (_AUTORUN, _README, _VIEWER)
    for rel, text in zip(NON_DICOM_FILES, texts, strict=False):
        (root / rel).write_bytes(text.encode("ascii"))
    (root / NON_DICOM_FILES[3]).write_bytes(report_pdf())


def _write_dicomdir(root: Path, datasets: Sequence[tuple[Dataset, Path]]) -> Path:
    """Write ``root/DICOMDIR`` referencing the already written files.

    :class:`~pydicom.fileset.FileSet` names the files it writes itself
    (``PT000000/ST000000/...``). So the File-set is first written into a
    scratch directory, its records are then pointed at our ISO-9660 layout, and
    the File-set is written again in place with ``use_existing=True``, which
    keeps the layout and recomputes the record offsets.
    """
    file_ids = {str(ds.SOPInstanceUID): list(path.relative_to(root).parts) for ds, path in datasets}
    dicomdir = root / "DICOMDIR"
    with tempfile.TemporaryDirectory(prefix="kiosk-dicomdir-") as scratch:
        staged = FileSet()
        try:
            staged.ID = FILE_SET_ID
            for ds, _ in datasets:
                staged.add(ds)
            staged.write(scratch)
        finally:
            release_fileset(staged)
        shutil.copyfile(Path(scratch) / "DICOMDIR", dicomdir)

    record_set = dcmread(dicomdir)
    for record in record_set.DirectoryRecordSequence:
        if "ReferencedFileID" in record:
            record.ReferencedFileID = file_ids[str(record.ReferencedSOPInstanceUIDInFile)]
    final = FileSet(record_set)
    try:
        final.write(use_existing=True)
        if len(final) != len(datasets):  # pragma: no cover - a pydicom regression
            raise RuntimeError(f"DICOMDIR lists {len(final)} of {len(datasets)} instances")
    finally:
        release_fileset(final)
    return dicomdir


def make_sample_disc(dest: Path, *, with_dicomdir: bool = True) -> SampleDisc:
    """Write a synthetic outside-hospital patient disc under `dest`.

    Parameters
    ----------
    dest : Path
        The disc root; created if missing, and it must be empty.
    with_dicomdir : bool, optional
        Write a ``DICOMDIR`` at the root (default). Without it the same
        instance files are written, as on a disc burned without one.

    Returns
    -------
    SampleDisc
        The patients, studies, series and files written.

    Raises
    ------
    FileExistsError
        If `dest` exists and is not an empty directory.
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    if any(dest.iterdir()):
        raise FileExistsError(f"sample disc destination is not empty: {dest}")

    rng = np.random.default_rng(_SEED)
    written: list[tuple[Dataset, Path]] = []
    patients: list[SamplePatient] = []
    for p_index, patient in enumerate(DEMO_PATIENTS, start=1):
        studies: list[SampleStudy] = []
        s_index = 0
        for study in (s for s in DEMO_STUDIES if s.patient_id == patient.patient_id):
            study_uid = generate_uid()
            if study.modality == "CT":
                made = list(_ct_series(patient, study, study_uid, rng))
            elif study.modality == "US":
                made = list(_us_series(patient, study, study_uid, rng))
            elif "CHEST" in study.study_description:
                views = [("chest", "PA", "")]
                made = list(_projection_series(patient, study, study_uid, rng, views))
            elif "HAND" in study.study_description:
                views = [("hand", "PA", "L"), ("hand", "OBL", "L"), ("hand", "LAT", "L")]
                made = list(_projection_series(patient, study, study_uid, rng, views))
            else:
                views = [("knee", "AP", "R"), ("knee", "LAT", "R")]
                made = list(_projection_series(patient, study, study_uid, rng, views))
            series_out: list[SampleSeries] = []
            for series_uid, number, desc, items in made:
                s_index += 1
                folder = dest / "DICOM" / f"P{p_index:07d}" / f"S{s_index:07d}"
                folder.mkdir(parents=True, exist_ok=True)
                files: list[Path] = []
                for i_index, ds in enumerate(items, start=1):
                    path = folder / f"I{i_index:07d}"
                    ds.save_as(path, enforce_file_format=True)
                    files.append(path)
                    written.append((ds, path))
                series_out.append(
                    SampleSeries(
                        series_instance_uid=series_uid,
                        modality=str(items[0].Modality),
                        series_number=number,
                        series_description=desc,
                        sop_class_uid=str(items[0].SOPClassUID),
                        sop_instance_uids=tuple(str(ds.SOPInstanceUID) for ds in items),
                        files=tuple(files),
                    )
                )
            studies.append(
                SampleStudy(
                    study_instance_uid=study_uid,
                    accession_number=study.accession_number,
                    modality=study.modality,
                    study_description=study.study_description,
                    study_date=study.study_date,
                    series=tuple(series_out),
                )
            )
        patients.append(
            SamplePatient(
                patient_id=patient.patient_id,
                issuer=patient.issuer,
                patient_name=patient.patient_name,
                birth_date=patient.birth_date,
                sex=patient.sex,
                studies=tuple(studies),
            )
        )

    _write_non_dicom(dest)
    dicomdir = _write_dicomdir(dest, written) if with_dicomdir else None
    return SampleDisc(root=dest, patients=patients, dicomdir=dicomdir)
