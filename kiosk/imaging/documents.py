"""Objects that are not images: Encapsulated PDF, Structured Reports, Key Object Selection,
and PDF or JPEG reports lying on a disc outside DICOM.

PDF pages are drawn by pypdfium2 (PDFium), pictures read by Pillow; the SR
text is our walk of the content tree (PS3.3 C.17.3), as no kept library
renders SR as text.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from kiosk.errors import NoDicomError
from kiosk.imaging.render import ImageError

log = logging.getLogger(__name__)

ENCAPSULATED_PDF = "1.2.840.10008.5.1.4.1.1.104.1"
KEY_OBJECT_SELECTION = "1.2.840.10008.5.1.4.1.1.88.59"
SR_PREFIX = "1.2.840.10008.5.1.4.1.1.88."

MAX_PAGES = 200
"""Pages of a PDF shown at most."""
MAX_PAGE_PIXELS = 40_000_000
"""The largest page drawn (pixels); a larger one is drawn smaller."""
MAX_SR_LINES = 5000
MAX_SR_DEPTH = 50

PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png")
PDF_SUFFIXES = (".pdf",)


class Kind(Enum):
    """What an object on a disc is, for the viewer."""

    IMAGE = "image"
    PDF = "pdf"
    SR = "sr"
    KEY_OBJECTS = "key objects"
    PICTURE = "picture"
    OTHER = "other"


def report_kind(relpath: str) -> Kind | None:
    """The kind of a non-DICOM file on a disc the viewer shows (PDF, picture), else None."""
    suffix = Path(relpath).suffix.lower()
    if suffix in PDF_SUFFIXES:
        return Kind.PDF
    if suffix in PICTURE_SUFFIXES:
        return Kind.PICTURE
    return None


def kind_of(sop_class_uid: str) -> Kind:
    """The kind of a DICOM object by its SOP Class (images are told by their pixel data)."""
    if sop_class_uid == ENCAPSULATED_PDF:
        return Kind.PDF
    if sop_class_uid == KEY_OBJECT_SELECTION:
        return Kind.KEY_OBJECTS
    if sop_class_uid.startswith(SR_PREFIX):
        return Kind.SR
    return Kind.IMAGE


def _read(path: Path) -> Dataset:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(path, force=True)
    except FileNotFoundError:
        raise NoDicomError(f"{path}: no such file") from None
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise NoDicomError(f"{path}: not a readable DICOM file ({exc})") from None


def encapsulated_pdf(path: Path) -> bytes:
    """The PDF an Encapsulated PDF instance carries.

    Raises
    ------
    ImageError
        The instance carries no PDF.
    """
    ds = _read(path)
    mime = str(ds.get("MIMETypeOfEncapsulatedDocument", "application/pdf") or "")
    data = ds.get("EncapsulatedDocument")
    if not isinstance(data, bytes) or not data or "pdf" not in mime.lower():
        raise ImageError(f"{path}: holds no PDF document")
    return data


def pdf_pages(data: bytes, *, dpi: float = 96.0, where: str = "PDF") -> list[NDArray[np.uint8]]:
    """Draw the pages of a PDF as RGB pixels (at most :data:`MAX_PAGES`).

    Raises
    ------
    ImageError
        PDFium cannot open the document.
    """
    import pypdfium2 as pdfium  # loaded when a PDF is shown

    try:
        doc = pdfium.PdfDocument(data)
    except Exception as exc:  # PdfiumError and friends
        raise ImageError(f"{where}: not a readable PDF ({exc})") from None
    pages: list[NDArray[np.uint8]] = []
    try:
        for index in range(min(len(doc), MAX_PAGES)):
            page = doc[index]
            width, height = page.get_size()
            scale = dpi / 72.0
            area = max(width * height * scale * scale, 1.0)
            if area > MAX_PAGE_PIXELS:
                scale *= (MAX_PAGE_PIXELS / area) ** 0.5
            bitmap = page.render(scale=scale, rev_byteorder=True)
            arr = np.array(bitmap.to_numpy()[..., :3], dtype=np.uint8)
            pages.append(arr)
    except Exception as exc:
        raise ImageError(f"{where}: a page cannot be drawn ({exc})") from None
    finally:
        doc.close()
    return pages


def picture(path: Path) -> NDArray[np.uint8]:
    """A JPEG or PNG file as RGB pixels (Pillow refuses decompression bombs).

    Raises
    ------
    ImageError
        Not a picture Pillow reads.
    """
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(path) as img:
                return np.asarray(img.convert("RGB"), dtype=np.uint8)
    except Exception as exc:  # UnidentifiedImageError, DecompressionBombError, OSError
        raise ImageError(f"{path}: not a readable picture ({exc})") from None


def _concept(item: Dataset) -> str:
    seq = item.get("ConceptNameCodeSequence")
    if seq:
        return str(seq[0].get("CodeMeaning", "") or "")
    return ""


def _value(item: Dataset) -> str:
    kind = str(item.get("ValueType", "") or "").upper()
    if kind == "TEXT":
        return str(item.get("TextValue", "") or "")
    if kind == "CODE":
        seq = item.get("ConceptCodeSequence")
        return str(seq[0].get("CodeMeaning", "") or "") if seq else ""
    if kind == "NUM":
        seq = item.get("MeasuredValueSequence")
        if not seq:
            return ""
        unit = seq[0].get("MeasurementUnitsCodeSequence")
        units = str(unit[0].get("CodeValue", "") or "") if unit else ""
        return f"{seq[0].get('NumericValue', '')} {units}".strip()
    if kind in ("DATE", "TIME", "DATETIME", "UIDREF"):
        name = {"DATE": "Date", "TIME": "Time", "DATETIME": "DateTime", "UIDREF": "UID"}[kind]
        return str(item.get(name, "") or "")
    if kind == "PNAME":
        return str(item.get("PersonName", "") or "")
    if kind in ("IMAGE", "COMPOSITE"):
        seq = item.get("ReferencedSOPSequence")
        return f"[image {seq[0].get('ReferencedSOPInstanceUID', '')}]" if seq else "[image]"
    return ""


def sr_text(ds: Dataset) -> str:
    """A Structured Report's content tree as indented text: "Concept: value" per line."""
    lines: list[str] = []
    title = _concept(ds)
    if title:
        lines.append(title)
        lines.append("=" * min(len(title), 80))

    def walk(items: Any, depth: int) -> None:
        for item in items or ():
            if len(lines) >= MAX_SR_LINES or depth > MAX_SR_DEPTH:
                return
            concept, value = _concept(item), _value(item)
            text = f"{concept}: {value}" if concept and value else (concept or value)
            if text:
                lines.append("  " * depth + text)
            walk(item.get("ContentSequence"), depth + 1)

    walk(ds.get("ContentSequence"), 0)
    if len(lines) >= MAX_SR_LINES:
        lines.append("… (truncated)")
    return "\n".join(lines)


@dataclass(frozen=True)
class Report:
    """A Structured Report or a Key Object Selection, read.

    ``key_images`` holds the SOP Instance UIDs a Key Object Selection marks.
    """

    kind: Kind
    title: str
    text: str
    key_images: frozenset[str]


def read_report(path: Path) -> Report:
    """Read a Structured Report or a Key Object Selection document.

    Raises
    ------
    NoDicomError
        Not a readable DICOM file.
    """
    ds = _read(path)
    kind = kind_of(str(ds.get("SOPClassUID", "") or ""))
    keys: set[str] = set()
    for study in ds.get("CurrentRequestedProcedureEvidenceSequence") or ():
        for series in study.get("ReferencedSeriesSequence") or ():
            for sop in series.get("ReferencedSOPSequence") or ():
                uid = str(sop.get("ReferencedSOPInstanceUID", "") or "")
                if uid:
                    keys.add(uid)
    try:
        text = sr_text(ds)
    except (AttributeError, TypeError, ValueError, IndexError) as exc:
        text = f"(the report's content cannot be read: {exc})"
    return Report(
        kind if kind in (Kind.SR, Kind.KEY_OBJECTS) else Kind.SR,
        _concept(ds) or str(ds.get("SeriesDescription", "") or "Report"),
        text,
        frozenset(keys),
    )


def cine_interval_ms(ds: Dataset) -> float:
    """Milliseconds between frames at the file's own rate.

    Frame Time, else Cine Rate, else Recommended Display Frame Rate, else
    the mean of the Frame Time Vector; 30 frames a second when none is
    given or the value is absurd.
    """
    candidates: list[float] = []

    def number(keyword: str) -> float | None:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = ds.get(keyword)
            return float(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    frame_time = number("FrameTime")
    if frame_time:
        candidates.append(frame_time)
    for keyword in ("CineRate", "RecommendedDisplayFrameRate"):
        rate = number(keyword)
        if rate:
            candidates.append(1000.0 / rate)
    try:
        vector = [float(v) for v in (ds.get("FrameTimeVector") or [])[1:]]
        if vector:
            candidates.append(sum(vector) / len(vector))
    except (TypeError, ValueError):
        pass
    for ms in candidates:
        if 1.0 <= ms <= 5000.0:
            return ms
    return 1000.0 / 30.0
