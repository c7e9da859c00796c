"""One frame of a DICOM image as the viewer shows it: 8-bit grey or RGB pixels.

The steps are pydicom's own (:mod:`pydicom.pixels`): decoding with the
installed plugins (pylibjpeg for JPEG, JPEG-LS, JPEG 2000 and RLE; deflate is
pydicom's), the Modality LUT or rescale (:func:`apply_modality_lut`), the
VOI window (:func:`apply_windowing`) or VOI LUT (:func:`apply_voi`), the
palette (:func:`apply_color_lut`); YBR is converted to RGB while decoding.
What is ours: the attributes of one frame of an enhanced multi-frame object
(shared and per-frame functional groups override the top level), the default
window when a file names none, the scale to 8 bits, and the checks that keep a
file that lies about its size from allocating unbounded memory.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels.processing import (
    apply_color_lut,
    apply_modality_lut,
    apply_voi,
    apply_windowing,
)
from pydicom.pixels.utils import pixel_array
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from kiosk.errors import KioskError, NoDicomError

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 512 * 1024 * 1024
"""The largest decoded frame the pipeline allocates (a 16k x 16k RGB frame is 768 MiB)."""

_FRAME_ATTRS = (
    "PhotometricInterpretation",
    "BitsStored",
    "BitsAllocated",
    "PixelRepresentation",
    "SamplesPerPixel",
    "RescaleSlope",
    "RescaleIntercept",
    "RescaleType",
    "ModalityLUTSequence",
    "WindowCenter",
    "WindowWidth",
    "VOILUTFunction",
    "VOILUTSequence",
)
"""Attributes of the Modality LUT and VOI LUT modules (and what they depend on)."""

_GROUPS = ("PixelValueTransformationSequence", "FrameVOILUTSequence")
"""Functional groups of an enhanced object that carry those attributes per frame."""


class ImageError(KioskError):
    """The file's pixels cannot be shown: no pixel data, a size that lies, a decoder missing.

    Exit code 3 (an unreadable file), as :class:`NoDicomError`.
    """

    exit_code = 3


@dataclass(frozen=True)
class Window:
    """A VOI window: center and width, in the values after the Modality LUT."""

    center: float
    width: float

    @classmethod
    def parse(cls, text: str) -> Window:
        """Read ``CENTER,WIDTH`` (the CLI's ``--window``).

        Raises
        ------
        ValueError
            Not two numbers, or a width below 1.
        """
        parts = text.split(",")
        if len(parts) != 2:
            raise ValueError(f"window {text!r} is not CENTER,WIDTH")
        center, width = float(parts[0]), float(parts[1])
        if not (math.isfinite(center) and math.isfinite(width)) or width < 1:
            raise ValueError(f"window {text!r}: the width must be a number of at least 1")
        return cls(center, width)


PRESETS: dict[str, dict[str, Window]] = {
    "CT": {
        "Brain": Window(40, 80),
        "Lung": Window(-600, 1500),
        "Abdomen": Window(40, 400),
        "Bone": Window(400, 1800),
    },
}
"""Window presets by modality (Hounsfield units for CT)."""


def presets_for(modality: str) -> dict[str, Window]:
    """The window presets of a modality (empty when it has none)."""
    return PRESETS.get(modality.upper(), {})


@dataclass(frozen=True)
class ImageHeader:
    """What the pipeline needs of a file, read without its pixel data.

    ``dataset`` is the header (the pixel data is deferred, never loaded).
    """

    path: Path
    dataset: Dataset
    frames: int
    rows: int
    columns: int
    samples: int
    photometric: str
    frame_bytes: int

    @property
    def modality(self) -> str:
        """The Modality (0008,0060), empty if absent."""
        return str(self.dataset.get("Modality", "") or "")

    @property
    def color(self) -> bool:
        """True when frames are shown in RGB (RGB, YBR, PALETTE COLOR)."""
        return self.samples == 3 or self.photometric == "PALETTE COLOR"


def _int(ds: Dataset, keyword: str, default: int | None = None) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = ds.get(keyword, default)
    if value is None or value == "":
        if default is None:
            raise ImageError(f"the image has no {keyword}; it cannot be shown")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ImageError(f"the image's {keyword} ({str(value)[:20]!r}) is not a number") from None


def _pixel_data_length(ds: Dataset) -> int | None:
    """The Pixel Data's length in bytes, None when it is encapsulated (undefined length)."""
    elem = ds.get_item("PixelData")
    if isinstance(elem, RawDataElement):
        return None if elem.length == 0xFFFFFFFF else int(elem.length)
    if elem.is_undefined_length:
        return None
    return len(elem.value or b"")


def read_header(path: Path, *, max_frame_bytes: int = MAX_FRAME_BYTES) -> ImageHeader:
    """Read and check the header of an image file (the pixel data is not loaded).

    The frame size (Rows x Columns x Samples x Bits Allocated) must be at most
    ``max_frame_bytes``; native pixel data must be as long as Number of Frames
    frames; encapsulated data must hold a fragment per frame.

    Raises
    ------
    NoDicomError
        The file does not exist or is not DICOM.
    ImageError
        No pixel data, or sizes that lie.
    """
    try:
        size = path.stat().st_size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, defer_size=256, force=True)
    except FileNotFoundError:
        raise NoDicomError(f"{path}: no such file") from None
    except (InvalidDicomError, OSError, ValueError, EOFError) as exc:
        raise NoDicomError(f"{path}: not a readable DICOM file ({exc})") from None
    if "PixelData" not in ds:
        raise ImageError(f"{path}: holds no image (no Pixel Data)")
    try:
        rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
        samples = _int(ds, "SamplesPerPixel", 1)
        bits = _int(ds, "BitsAllocated")
        frames = _int(ds, "NumberOfFrames", 1) or 1
    except ImageError as exc:
        raise ImageError(f"{path}: {exc}") from None
    if rows <= 0 or columns <= 0 or samples not in (1, 3) or bits not in (1, 8, 16, 32, 64):
        raise ImageError(
            f"{path}: impossible image size ({rows} x {columns}, {samples} samples, {bits} bits)"
        )
    if frames < 0:
        raise ImageError(f"{path}: impossible Number of Frames ({frames})")
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2") or "MONOCHROME2")
    photometric = photometric.strip().upper()
    frame_bits = rows * columns * samples * bits
    # YBR_FULL_422 native data holds two samples a pixel (PS3.3 C.7.6.3.1.2)
    stored_bits = rows * columns * 2 * bits if photometric == "YBR_FULL_422" else frame_bits
    frame_bytes = (frame_bits + 7) // 8
    if frame_bytes > max_frame_bytes:
        raise ImageError(
            f"{path}: a frame of {rows} x {columns} x {samples} x {bits} bits "
            f"({frame_bytes // 2**20} MiB) is larger than the viewer's limit"
        )
    length = _pixel_data_length(ds)
    if length is None:
        # Each frame is at least one fragment, with an 8-byte item header.
        if frames * 8 > size:
            raise ImageError(
                f"{path}: claims {frames} compressed frames but the file is {size} bytes"
            )
    elif (stored_bits * frames + 7) // 8 > length:
        raise ImageError(
            f"{path}: claims {frames} frames of {rows} x {columns} but its pixel data "
            f"holds {length} bytes"
        )
    return ImageHeader(path, ds, frames, rows, columns, samples, photometric, frame_bytes)


def decode_frame(header: ImageHeader, frame: int) -> NDArray[Any]:
    """Decode one frame (0-based) as pydicom returns it (YBR converted to RGB).

    Raises
    ------
    ImageError
        The frame is out of range, or the decoder failed or is missing.
    """
    if not 0 <= frame < header.frames:
        raise ImageError(f"{header.path}: no frame {frame + 1} (it has {header.frames})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = _decode(header, frame)
    except Exception as exc:  # decoders raise anything: RuntimeError, ValueError, ...
        log.debug("decoding %s frame %d failed", header.path, frame, exc_info=True)
        first = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
        raise ImageError(f"{header.path}: frame {frame + 1} cannot be decoded ({first})") from None
    expected: tuple[int, ...] = (header.rows, header.columns)
    if header.samples == 3:
        expected = (*expected, 3)
    if arr.shape != expected:
        raise ImageError(f"{header.path}: frame {frame + 1} decoded to {arr.shape}")
    return arr


def _decode(header: ImageHeader, frame: int) -> NDArray[Any]:
    """Decode from the path (only that frame is read), else from the whole dataset.

    Reading frame by frame is pydicom's way for a file; a deflated file, one
    without a Transfer Syntax in its meta, or a file whose frame pydicom
    cannot find that way is read whole.
    """
    meta = header.dataset.file_meta
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if ts is not None and ts != DeflatedExplicitVRLittleEndian:
        try:
            return pixel_array(header.path, index=frame)
        except Exception:
            log.debug("frame-wise decoding of %s failed; reading it whole", header.path)
    ds = pydicom.dcmread(header.path, force=True)
    _guess_syntax(ds)
    return pixel_array(ds, index=frame)


def _guess_syntax(ds: Dataset) -> None:
    """Give a file without a Transfer Syntax the one it was read with (native only)."""
    if "TransferSyntaxUID" in ds.file_meta:
        return
    implicit, little = ds.original_encoding
    ds.file_meta.TransferSyntaxUID = (
        ImplicitVRLittleEndian
        if implicit
        else (ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
    )


def frame_attributes(ds: Dataset, frame: int) -> Dataset:
    """The Modality LUT and VOI attributes of one frame, as a dataset for pydicom's functions.

    Top-level attributes, overridden by the Shared and then the Per-frame
    Functional Groups (Pixel Value Transformation, Frame VOI LUT) of an
    enhanced multi-frame object.
    """
    out = Dataset()
    if getattr(ds, "file_meta", None) is not None:
        out.file_meta = ds.file_meta
    out.set_original_encoding(
        ds.original_encoding[0], ds.original_encoding[1], ds.original_character_set
    )
    for keyword in _FRAME_ATTRS:
        if keyword in ds:
            out[keyword] = ds[keyword]
    for groups in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        items = ds.get(groups)
        if not items:
            continue
        item = (
            items[0]
            if groups.startswith("Shared")
            else (items[frame] if frame < len(items) else None)
        )
        if item is None:
            continue
        for name in _GROUPS:
            seq = item.get(name)
            if seq:
                for elem in seq[0]:
                    if elem.keyword in _FRAME_ATTRS:
                        out[elem.keyword] = elem
    return out


def rescaled(arr: NDArray[Any], attrs: Dataset) -> NDArray[Any]:
    """The Modality LUT or rescale of pydicom; a rescale of slope 1 and intercept 0 is skipped."""
    if "ModalityLUTSequence" in attrs:
        return apply_modality_lut(arr, attrs)
    slope = float(attrs.get("RescaleSlope", 1) or 1)
    intercept = float(attrs.get("RescaleIntercept", 0) or 0)
    if slope == 1 and intercept == 0:
        return arr
    return apply_modality_lut(arr, attrs)


def default_window(header: ImageHeader, frame: int) -> Window | None:
    """The window the file names for ``frame`` (the first of several), else None."""
    attrs = frame_attributes(header.dataset, frame)
    if "WindowCenter" in attrs and "WindowWidth" in attrs:
        try:
            c, w = attrs["WindowCenter"], attrs["WindowWidth"]
            center = float(c.value[0] if c.VM > 1 else c.value)
            width = float(w.value[0] if w.VM > 1 else w.value)
        except (TypeError, ValueError, IndexError):
            return None
        if math.isfinite(center) and math.isfinite(width) and width >= 1:
            return Window(center, width)
    return None


def applied_window(header: ImageHeader, frame: int, window: Window | None) -> Window | None:
    """The window :func:`render` applies: the user's, else the file's unless its VOI LUT
    applies; None for colour, a VOI LUT, or a frame shown over its whole range.
    """
    if header.color:
        return None
    if window is not None:
        return window
    if frame_attributes(header.dataset, frame).get("VOILUTSequence"):
        return None
    return default_window(header, frame)


def auto_window(values: NDArray[Any]) -> Window:
    """The window spanning the values' whole range (for a file that names none)."""
    lo, hi = float(np.min(values)), float(np.max(values))
    return Window((lo + hi + 1) / 2, max(hi - lo + 1, 1.0))


def _to_8bit(values: NDArray[Any], top: float) -> NDArray[np.uint8]:
    out: NDArray[np.uint8] = np.rint(
        np.clip(values.astype(np.float64) * (255.0 / top), 0, 255)
    ).astype(np.uint8)
    return out


def window_8bit(
    values: NDArray[Any], window: Window, function: str = "LINEAR"
) -> NDArray[np.uint8]:
    """Apply a window with pydicom's :func:`apply_windowing`, straight into 0..255.

    The VOI dataset given to pydicom is an unsigned 8-bit one without a
    rescale: its output range is then 0..255 (PS3.3 C.11.2.1.2).
    """
    voi = Dataset()
    voi.PhotometricInterpretation = "MONOCHROME2"
    voi.BitsStored = 8
    voi.PixelRepresentation = 0
    voi.WindowCenter = window.center
    voi.WindowWidth = window.width
    voi.VOILUTFunction = function if function in ("LINEAR", "LINEAR_EXACT", "SIGMOID") else "LINEAR"
    return _to_8bit(apply_windowing(values, voi), 255.0)


def render(
    header: ImageHeader, frame: int, pixels: NDArray[Any], window: Window | None = None
) -> NDArray[np.uint8]:
    """Render a decoded frame as the viewer shows it.

    Parameters
    ----------
    header
        The file's header (:func:`read_header`).
    frame
        Which frame ``pixels`` is (0-based): its functional groups apply.
    pixels
        The frame as :func:`decode_frame` returned it.
    window
        A window chosen by the user; by default the file's VOI LUT (preferred,
        as pydicom's ``apply_voi_lut`` does), else its first window, else the
        whole range of the frame's values.

    Returns
    -------
    numpy.ndarray
        ``uint8``, shape (rows, columns) for grey, (rows, columns, 3) for colour.
    """
    ds = header.dataset
    try:
        if header.photometric == "PALETTE COLOR" and pixels.ndim == 2:
            rgb = apply_color_lut(pixels, ds)
            top = 255.0 if rgb.dtype == np.uint8 else 65535.0
            return _to_8bit(rgb[..., :3], top)
        if pixels.ndim == 3:
            bits = _int(ds, "BitsStored", 8)
            return _to_8bit(pixels, float(2 ** min(max(bits, 1), 32) - 1))
        attrs = frame_attributes(ds, frame)
        values = rescaled(pixels, attrs)
        function = str(attrs.get("VOILUTFunction", "LINEAR") or "LINEAR").upper()
        if window is None and attrs.get("VOILUTSequence"):
            # pydicom's preference (apply_voi_lut, prefer_lut=True): the LUT before a window
            if values.dtype.kind == "f":  # a LUT maps stored integers (PS3.3 C.11.2.1.1)
                values = np.rint(values).astype(np.int64)
            lut = apply_voi(values, attrs)
            depth = int(attrs.VOILUTSequence[0].LUTDescriptor[2])
            out = _to_8bit(lut, float(2**depth - 1))
        else:
            chosen = window or default_window(header, frame)
            if chosen is None:
                chosen, function = auto_window(values), "LINEAR"
            out = window_8bit(values, chosen, function)
    except KioskError:
        raise
    except Exception as exc:  # a LUT that lies: bad descriptor, short data, ...
        log.debug("rendering %s frame %d failed", header.path, frame, exc_info=True)
        raise ImageError(f"{header.path}: frame {frame + 1} cannot be shown ({exc})") from None
    if header.photometric == "MONOCHROME1":
        out = 255 - out
    return out


def render_file(path: Path, frame: int = 0, window: Window | None = None) -> NDArray[np.uint8]:
    """Read, decode and render one frame (0-based) of a file: what ``kiosk render`` writes."""
    header = read_header(path)
    return render(header, frame, decode_frame(header, frame), window)
