"""Use case: what the viewer shows of a study on a disc, and its frames and pages.

The window (``ui/viewer``) calls these; the pixels come from
:mod:`kiosk.imaging` (no Qt there), decoded once into a :class:`FrameCache`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from kiosk.errors import KioskError
from kiosk.imaging.cache import FrameCache
from kiosk.imaging.documents import (
    Kind,
    Report,
    cine_interval_ms,
    encapsulated_pdf,
    kind_of,
    pdf_pages,
    picture,
    read_report,
    report_kind,
)
from kiosk.imaging.render import (
    PRESETS,
    ImageHeader,
    Window,
    auto_window,
    default_window,
    frame_attributes,
    presets_for,
    render,
    rescaled,
)
from kiosk.media.model import MediaScan, StudySummary
from kiosk.media.names import shown

__all__ = [
    "PRESETS",
    "FrameCache",
    "ImageHeader",
    "Kind",
    "Report",
    "ViewObject",
    "ViewSeries",
    "ViewStudy",
    "Window",
    "decode",
    "files_view",
    "frame_image",
    "initial_window",
    "overlay",
    "pages_of",
    "presets_for",
    "read_report",
    "study_view",
    "window_to_drag",
]


@dataclass(frozen=True)
class ViewObject:
    """One object the viewer can open: an image, a PDF, a report, a picture."""

    path: Path
    kind: Kind
    sop_instance_uid: str = ""
    label: str = ""


@dataclass(frozen=True)
class ViewSeries:
    """A series as the thumbnail strip shows it."""

    title: str
    modality: str
    objects: tuple[ViewObject, ...]


@dataclass(frozen=True)
class ViewStudy:
    """What the viewer shows: series, and the key images a Key Object Selection marks."""

    title: str
    series: tuple[ViewSeries, ...]
    key_images: frozenset[str] = field(default=frozenset())


def _key_images(objects: list[ViewObject]) -> frozenset[str]:
    keys: set[str] = set()
    for obj in objects:
        if obj.kind is Kind.KEY_OBJECTS:
            try:
                keys |= read_report(obj.path).key_images
            except KioskError:
                continue
    return frozenset(keys)


def study_view(scan: MediaScan, study: StudySummary) -> ViewStudy:
    """The series of ``study`` (and the disc's reports outside DICOM) for the viewer.

    A Key Object Selection in the study is read: the images it names are
    the key images.
    """
    series: list[ViewSeries] = []
    every: list[ViewObject] = []
    for s in study.series:
        objects = tuple(
            ViewObject(
                scan.root / i.relpath,
                kind_of(i.sop_class_uid),
                i.sop_instance_uid,
                i.instance_number,
            )
            for i in s.instances
        )
        every.extend(objects)
        number = f"#{s.series_number} " if s.series_number else ""
        series.append(
            ViewSeries(
                shown(f"{number}{s.modality} {s.series_description}".strip()), s.modality, objects
            )
        )
    reports = tuple(
        ViewObject(scan.root / rel, kind, "", shown(Path(rel).name))
        for rel in scan.non_dicom
        if (kind := report_kind(rel)) is not None
    )
    if reports:
        series.append(ViewSeries("Reports on the disc (not DICOM)", "DOC", reports))
    title = shown(f"{study.study_date} {study.study_description}".strip())
    return ViewStudy(title, tuple(series), _key_images(every))


def files_view(paths: list[Path], title: str = "") -> ViewStudy:
    """A view of loose files (one series each), e.g. for support: kinds by SOP Class."""
    import pydicom

    series: list[ViewSeries] = []
    for path in paths:
        kind = report_kind(path.name)
        uid = ""
        if kind is None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
                kind = kind_of(str(ds.get("SOPClassUID", "") or ""))
                uid = str(ds.get("SOPInstanceUID", "") or "")
            except Exception:
                kind = Kind.OTHER
        series.append(ViewSeries(shown(path.name), "", (ViewObject(path, kind, uid, ""),)))
    return ViewStudy(title or "Files", tuple(series))


def decode(cache: FrameCache, path: Path, frame: int) -> NDArray[Any]:
    """Decode one frame into the cache (run off the GUI thread)."""
    return cache.frame(path, frame)


def frame_image(
    cache: FrameCache, path: Path, frame: int, window: Window | None = None
) -> NDArray[np.uint8]:
    """One frame as the viewer shows it (decoded now unless the cache has it)."""
    header = cache.header(path)
    return render(header, frame, cache.frame(path, frame), window)


def pages_of(obj: ViewObject) -> list[NDArray[np.uint8]]:
    """The pages of a PDF (DICOM Encapsulated PDF or a PDF file) or a picture file."""
    if obj.kind is Kind.PICTURE:
        return [picture(obj.path)]
    if obj.path.suffix.lower() == ".pdf":
        try:
            data = obj.path.read_bytes()
        except OSError as exc:
            raise KioskError(f"{obj.path}: cannot be read ({exc.strerror or exc})") from None
    else:
        data = encapsulated_pdf(obj.path)
    return pdf_pages(data, where=str(obj.path))


@dataclass(frozen=True)
class Overlay:
    """The four corners of text over an image: patient, study, series, instance."""

    top_left: str
    top_right: str
    bottom_left: str
    bottom_right: str
    cine_ms: float
    """Milliseconds between frames at the file's own rate."""
    modality: str


def overlay(header: ImageHeader, frame: int) -> Overlay:
    """The overlay text of one frame (values from the disc, escaped)."""
    ds = header.dataset

    def get(keyword: str) -> str:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return shown(str(ds.get(keyword, "") or ""))
            except Exception:
                return ""

    name = get("PatientName").replace("^", " ").strip()
    left = "\n".join(
        x for x in (name, f"ID {get('PatientID')}", f"born {get('PatientBirthDate')}") if x
    )
    right = "\n".join(
        x for x in (get("StudyDescription"), get("StudyDate"), get("InstitutionName")) if x
    )
    series = "\n".join(
        x
        for x in (
            f"Series {get('SeriesNumber')} {get('SeriesDescription')}".strip(),
            get("Modality"),
        )
        if x
    )
    frames = f"  frame {frame + 1}/{header.frames}" if header.frames > 1 else ""
    image = f"Image {get('InstanceNumber')}{frames}\n{header.columns} x {header.rows}"
    return Overlay(left, right, series, image, cine_interval_ms(ds), get("Modality"))


def initial_window(cache: FrameCache, path: Path, frame: int) -> Window | None:
    """The window a frame is first shown with: the file's, else its whole range.

    None for colour images and when the file's VOI LUT applies (it is
    preferred to a window, as pydicom does).
    """
    header = cache.header(path)
    if header.color or frame_attributes(header.dataset, frame).get("VOILUTSequence"):
        return None
    return window_to_drag(cache, path, frame)


def window_to_drag(cache: FrameCache, path: Path, frame: int) -> Window | None:
    """The window a mouse drag starts from: the file's, else the frame's whole range.

    None for colour images (they have no window).
    """
    header = cache.header(path)
    if header.color:
        return None
    named = default_window(header, frame)
    if named is not None:
        return named
    attrs = frame_attributes(header.dataset, frame)
    return auto_window(rescaled(cache.frame(path, frame), attrs))
