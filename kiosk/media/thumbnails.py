"""Render a DICOM image (one frame) as 8-bit grey or RGB pixels for display."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
from numpy.typing import NDArray
from pydicom.pixels.processing import apply_modality_lut, apply_voi_lut


def render_frame(path: Path, frame: int = 0) -> NDArray[np.uint8]:
    """Return one frame of an image as ``uint8``, shape (rows, cols) or (rows, cols, 3).

    The modality and VOI LUTs (or window) are applied; MONOCHROME1 is inverted.

    Raises
    ------
    ValueError
        If the file holds no displayable pixel data.
    """
    ds = pydicom.dcmread(path)
    if "PixelData" not in ds:
        raise ValueError("no image in this instance")
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    arr = ds.pixel_array
    if frames > 1:
        arr = arr[min(frame, frames - 1)]
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    if arr.ndim == 3 and arr.shape[-1] == 3:
        if photometric.startswith("YBR"):
            from pydicom.pixels.processing import convert_color_space

            arr = convert_color_space(arr, photometric, "RGB")
        return _to_uint8(arr)
    values = apply_modality_lut(arr, ds)
    if "WindowCenter" in ds or "VOILUTSequence" in ds:
        values = apply_voi_lut(values, ds)
    out = _to_uint8(values)
    if photometric == "MONOCHROME1":
        out = 255 - out
    return out


def _to_uint8(values: NDArray[np.generic]) -> NDArray[np.uint8]:
    data = values.astype(np.float64)
    lo, hi = float(np.min(data)), float(np.max(data))
    if hi <= lo:
        return np.zeros(data.shape, dtype=np.uint8)
    return ((data - lo) * (255.0 / (hi - lo))).clip(0, 255).astype(np.uint8)
