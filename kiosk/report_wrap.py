"""Reports found on a disc outside DICOM, wrapped into DICOM to go with their study.

A PDF becomes an Encapsulated PDF (PS3.3 A.45.1), a JPEG a Secondary
Capture image (PS3.3 A.8.1, JPEG Baseline kept as it is: no re-encoding).
The wrapped object takes the identity of the study's images as the disc has
it (patient, study, accession), in a series of its own; the import then
coerces it with the study's other instances, so it reaches the PACS under
the reconciled identity, with the outside values kept in Original
Attributes. pydicom builds the data sets (it has no helper for either IOD);
Pillow reads a JPEG's header (size, components) without decoding it.

Every report is hostile until checked: only a file the scan listed on the
disc, of a bounded size, that is what its bytes say (``%PDF-``; a JPEG that
Pillow opens, baseline, 8-bit) is wrapped.
"""

from __future__ import annotations

import hashlib
import io
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from kiosk import digest
from kiosk.errors import UsageError

#: The largest report wrapped (a scanned report of many pages stays well under it).
MAX_REPORT_BYTES: Final = 64 << 20
MAX_JPEG_SIDE: Final = 20_000
ENCAPSULATED_PDF: Final = "1.2.840.10008.5.1.4.1.1.104.1"
SECONDARY_CAPTURE: Final = "1.2.840.10008.5.1.4.1.1.7"
JPEG_BASELINE: Final = "1.2.840.10008.1.2.4.50"
EXPLICIT_LE: Final = "1.2.840.10008.1.2.1"
#: The series number given to reports (past any a disc plausibly uses).
SERIES_NUMBER: Final = 9000
#: What the study's images lend a wrapped report: who it is of, and which study.
IDENTITY_KEYWORDS: Final = (
    "SpecificCharacterSet",
    "PatientName",
    "PatientID",
    "IssuerOfPatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyTime",
    "StudyID",
    "AccessionNumber",
    "ReferringPhysicianName",
    "StudyDescription",
    "InstitutionName",
)


@dataclass(frozen=True)
class Report:
    """A report file on the disc, checked: what it is and where."""

    relpath: str
    path: Path
    kind: str  # "pdf" or "jpeg"
    size: int
    sha256: str

    @property
    def sop_class_uid(self) -> str:
        """The SOP class it is wrapped as."""
        return ENCAPSULATED_PDF if self.kind == "pdf" else SECONDARY_CAPTURE

    @property
    def transfer_syntax_uid(self) -> str:
        """The transfer syntax of the wrapped file."""
        return EXPLICIT_LE if self.kind == "pdf" else JPEG_BASELINE


def check_report(root: Path, relpath: str, listed: tuple[str, ...]) -> Report:
    """Check that ``relpath`` is a PDF or JPEG report the scan listed on the disc at ``root``.

    Raises
    ------
    UsageError
        Not a file listed on the disc (a path is not a promise), too large,
        or not a PDF or baseline JPEG whatever its name says.
    """
    if relpath not in listed:
        raise UsageError(
            f"{relpath!r} is not a report file on this disc; give a path the scan lists "
            "under non-DICOM files (kiosk scan --json: non_dicom)"
        )
    path = root / relpath
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise UsageError(
                f"the report {relpath!r} has {size >> 20} MB, more than a report is "
                f"({MAX_REPORT_BYTES >> 20} MB); it is not added"
            )
        with path.open("rb") as fh:
            data = fh.read(MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise UsageError(f"the report {relpath!r} cannot be read ({exc.strerror})") from exc
    if data.startswith(b"%PDF-"):
        kind = "pdf"
    elif data.startswith(b"\xff\xd8\xff"):
        kind = "jpeg"
        _jpeg_header(data, relpath)
    else:
        raise UsageError(
            f"{relpath!r} is neither a PDF nor a JPEG (by its bytes); only those are added"
        )
    return Report(relpath, path, kind, len(data), hashlib.sha256(data).hexdigest())


def _jpeg_header(data: bytes, relpath: str) -> tuple[int, int, int]:
    """(columns, rows, samples) of a baseline 8-bit JPEG, read by Pillow without decoding."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as image:
            columns, rows = image.size
            mode = image.mode
            progressive = bool(image.info.get("progressive") or image.info.get("progression"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise UsageError(f"the JPEG report {relpath!r} cannot be read ({exc})") from exc
    if mode not in ("L", "RGB", "YCbCr") or progressive:
        raise UsageError(
            f"the JPEG report {relpath!r} is not a baseline 8-bit grey or colour JPEG "
            f"({mode}{', progressive' if progressive else ''}); it is not added"
        )
    if not (0 < columns <= MAX_JPEG_SIDE and 0 < rows <= MAX_JPEG_SIDE):
        raise UsageError(f"the JPEG report {relpath!r} has an implausible size {columns}x{rows}")
    return columns, rows, 1 if mode == "L" else 3


def report_uids(study_uid: str, report: Report) -> tuple[str, str]:
    """(Series, SOP Instance) UIDs of a wrapped report: the same each time it is imported.

    Derived from the study and the report's bytes, so importing the disc
    again (or resuming) makes the same object, not a second copy in the PACS.
    """
    from pydicom.uid import generate_uid

    series = generate_uid(entropy_srcs=["kiosk-report-series", study_uid])
    instance = generate_uid(entropy_srcs=["kiosk-report", study_uid, report.sha256])
    return str(series), str(instance)


def write_wrapped(report: Report, images: Path, target: Path, number: int) -> tuple[str, int]:
    """Wrap ``report`` with the identity of the study image ``images``; write it to ``target``.

    Written to a temporary name, flushed, then renamed: ``target`` is whole
    or absent. Returns the file's digest (:mod:`kiosk.digest`) and size.

    Raises
    ------
    UsageError
        If the study's image cannot be read for its identity.
    """
    from pydicom import dcmread
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
    from pydicom.errors import InvalidDicomError
    from pydicom.uid import UID

    from kiosk.paths import private_opener

    try:
        source = dcmread(images, stop_before_pixels=True)
    except (InvalidDicomError, OSError, ValueError) as exc:
        raise UsageError(
            f"the study's images cannot be read for the report's identity ({exc})"
        ) from exc
    data = report.path.read_bytes()
    if hashlib.sha256(data).hexdigest() != report.sha256:
        raise UsageError(f"the report {report.relpath!r} changed on the disc while it was read")
    series_uid, sop_uid = report_uids(str(source.StudyInstanceUID), report)
    ds = Dataset()
    for keyword in IDENTITY_KEYWORDS:
        if keyword in source:
            ds[keyword] = source[keyword]
    now = datetime.now().astimezone()
    ds.SOPClassUID = report.sop_class_uid
    ds.SOPInstanceUID = sop_uid
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = SERIES_NUMBER
    ds.InstanceNumber = number
    ds.SeriesDescription = f"Report from the outside disc: {Path(report.relpath).name}"[:64]
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.ConversionType = "WSD"  # workstation: made from a file, not acquired
    ds.Manufacturer = "outside-media-kiosk"
    if report.kind == "pdf":
        ds.Modality = "DOC"
        ds.DocumentTitle = Path(report.relpath).stem[:64]
        ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
        ds.EncapsulatedDocument = data + (b"\0" if len(data) % 2 else b"")
        ds.EncapsulatedDocumentLength = len(data)
        ds.BurnedInAnnotation = "YES"
        ds.ConceptNameCodeSequence = []
        ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    else:
        columns, rows, samples = _jpeg_header(data, report.relpath)
        ds.Modality = "OT"
        ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, samples
        ds.PhotometricInterpretation = "MONOCHROME2" if samples == 1 else "YBR_FULL_422"
        if samples == 3:
            ds.PlanarConfiguration = 0
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.LossyImageCompression = "01"
        ds.BurnedInAnnotation = "YES"
        ds.PixelData = encapsulate([data])
        ds["PixelData"].VR = "OB"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = UID(report.transfer_syntax_uid)
    ds.file_meta = meta
    encoded = io.BytesIO()
    ds.save_as(encoded, enforce_file_format=True)
    written = encoded.getvalue()  # at most a report's size: hashed as it is written
    part = target.with_name(target.name + ".part")
    with open(part, "wb", opener=private_opener) as fh:  # PHI: 0600
        fh.write(written)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, target)
    return digest.of_bytes(written), len(written)
