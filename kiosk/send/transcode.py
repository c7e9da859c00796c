"""Decode a compressed file for a PACS that takes only uncompressed transfer syntaxes.

The SOP Instance UID never changes (a resend after a crash must send the same
UIDs), and an image that was ever lossy compressed says so: Lossy Image
Compression stays ``01`` once it is ``01``, and a lossy source syntax sets it,
with the method (PS3.3 C.7.6.1.1.5).
"""

from __future__ import annotations

from typing import BinaryIO

import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import (
    JPEG2000,
    UID,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSNearLossless,
)

# Syntaxes that are always lossy, with the Lossy Image Compression Method they imply.
LOSSY_METHODS: dict[str, str] = {
    JPEGBaseline8Bit: "ISO_10918_1",
    JPEGExtended12Bit: "ISO_10918_1",
    JPEGLSNearLossless: "ISO_14495_1",
    JPEG2000: "ISO_15444_1",  # "lossy or lossless": lossy unless the file says otherwise
    "1.2.840.10008.1.2.4.203": "ISO_15444_15",  # HTJ2K (lossy or lossless)
    "1.2.840.10008.1.2.4.100": "ISO_13818_2",  # MPEG2 Main Profile
    "1.2.840.10008.1.2.4.102": "ISO_14496_10",  # MPEG-4 AVC/H.264
}
# "Lossy or lossless" syntaxes: trust a file that says LossyImageCompression 00.
_MAYBE_LOSSLESS = {JPEG2000, "1.2.840.10008.1.2.4.203"}


def mark_lossy(ds: Dataset, source_syntax: str) -> None:
    """Set Lossy Image Compression attributes for pixel data that came from ``source_syntax``."""
    method = LOSSY_METHODS.get(source_syntax)
    if method is None:
        return  # lossless source: whatever the file says (00 or 01) stays true
    if source_syntax in _MAYBE_LOSSLESS and ds.get("LossyImageCompression") == "00":
        return
    ds.LossyImageCompression = "01"
    methods = list(ds.get("LossyImageCompressionMethod") or [])
    if isinstance(ds.get("LossyImageCompressionMethod"), str):
        methods = [ds.LossyImageCompressionMethod]
    if method not in methods:
        methods.append(method)
        ds.LossyImageCompressionMethod = methods if len(methods) > 1 else methods[0]


def uncompressed(path: str | BinaryIO) -> Dataset:
    """Read ``path`` (a name or an open binary file); return it with its pixel data decoded.

    The result is Explicit VR Little Endian.

    pynetdicom re-encodes the result in whichever uncompressed syntax the PACS
    accepted. The SOP Instance UID is kept.

    Raises
    ------
    ValueError, RuntimeError, NotImplementedError
        If no installed decoder can decode the pixel data.
    """
    ds = pydicom.dcmread(path)
    source = UID(ds.file_meta.TransferSyntaxUID)
    if source.is_compressed and "PixelData" in ds:
        ds.decompress(generate_instance_uid=False)
        mark_lossy(ds, source)
    elif source.is_compressed or source.is_deflated:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds
