"""A DICOM header as raw top-level elements, rebuilt with some of them replaced.

Coercion changes a handful of identity elements and leaves every other one
as it is. Encoding a whole header with pydicom for each instance costs about
a millisecond; the instances of a study carry the same identity, so the
coerced identity elements are encoded once (:mod:`kiosk.coercion` keeps them
by the original bytes they replace) and each header is rebuilt here from its
own raw bytes: the preamble and file meta as they are, the other elements
byte for byte, in tag order, group lengths of groups above 6 left out as
pydicom leaves them out (they would be wrong after the change).

Hand-written because pydicom parses a data set into objects and re-encodes
it; nothing in it gives an element's byte span. Only little endian data
sets are handled (explicit or implicit VR, also the explicit VR data set of
a compressed syntax); anything else, or anything this walker does not
understand, is left to pydicom (``None``). Every length is checked against
the bytes there are, and nesting is bounded: a disc's file is hostile.
"""

from __future__ import annotations

import io
import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

IMPLICIT_LE = "1.2.840.10008.1.2"
_NOT_HANDLED = {"1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}  # big endian, deflated
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR",
             b"UT", b"UV"}  # fmt: skip
_PIXEL_TAGS = {0x7FE00010, 0x7FE00009, 0x7FE00008}  # where pydicom's header read stops
_ITEM, _ITEM_END, _SEQ_END = 0xFFFEE000, 0xFFFEE00D, 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_MAX_DEPTH = 32
_FIRST_READ = 1 << 16


class _Short(Exception):
    """The buffer ends inside an element (read more, or the file is cut short)."""


class _Bad(Exception):
    """Not a structure this walker handles."""


@dataclass(frozen=True)
class RawHeader:
    """A file's bytes up to its pixel data, with its top-level elements' spans."""

    data: bytes  # the file's bytes from 0 to tail_at
    dataset_start: int
    implicit: bool
    spans: dict[int, tuple[int, int]]  # tag -> (start, end) in data, in file order
    tail_at: int  # where the rest of the file (pixel data on) begins; the file size if none
    whole: bytes | None = None  # all the file's bytes, when they were read (a small file)

    def element(self, tag: int) -> bytes | None:
        """The raw bytes of a top-level element (tag, VR, length, value), or None if absent."""
        span = self.spans.get(tag)
        return None if span is None else self.data[span[0] : span[1]]

    def value(self, tag: int) -> str:
        """A short text value (a UID) as pydicom gives it: trailing NULs and spaces cut."""
        raw = self.element(tag)
        if raw is None:
            return ""
        skip = 8 if self.implicit or raw[4:6] not in _LONG_VRS else 12
        return raw[skip:].rstrip(b"\0 ").decode("latin-1")

    def rebuild(self, replaced: dict[int, bytes | None]) -> bytes:
        """The header with the elements of ``replaced`` (tag -> encoded element, or None to drop).

        Elements keep tag order, as a data set must.
        """
        out = [self.data[: self.dataset_start]]
        tags = sorted({*self.spans, *(t for t, v in replaced.items() if v is not None)})
        for tag in tags:
            if tag & 0xFFFF == 0 and tag >> 16 > 6:
                continue  # a group length: pydicom does not write them either
            if tag in replaced:
                new = replaced[tag]
                if new is not None:
                    out.append(new)
            else:
                start, end = self.spans[tag]
                out.append(self.data[start:end])
        return b"".join(out)


def read_raw_header(path: Path, cap: int) -> RawHeader | None:
    """Read a DICOM file's header as raw elements; None when pydicom must read it.

    ``cap`` bounds the header's size. Raises ``OSError`` if the file cannot be read.
    """
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(min(size, _FIRST_READ))
        while True:
            try:
                return _parse(data, size)
            except _Short:
                if len(data) >= size or len(data) >= cap:
                    return None
                data += fh.read(min(size, cap, len(data) * 8) - len(data))
            except (_Bad, struct.error, UnicodeDecodeError):
                return None


def _parse(data: bytes, size: int) -> RawHeader:
    if len(data) < 144 or data[128:132] != b"DICM":
        raise _Bad
    pos = 132
    syntax = ""
    while pos + 8 <= len(data) and struct.unpack_from("<H", data, pos)[0] == 0x0002:
        tag, end = _element_end(data, pos, implicit=False, depth=0)
        if tag == 0x00020010:
            syntax = data[pos + 8 : end].rstrip(b"\0 ").decode("latin-1")
        pos = end
    if not syntax or syntax in _NOT_HANDLED:
        raise _Bad
    implicit = syntax == IMPLICIT_LE
    start = pos
    spans: dict[int, tuple[int, int]] = {}
    last = -1
    while pos < size:
        if pos + 8 > len(data):
            raise _Short
        (group, elem) = struct.unpack_from("<HH", data, pos)
        tag = group << 16 | elem
        if tag in _PIXEL_TAGS:
            break
        if tag <= last:
            raise _Bad  # out of order or repeated: pydicom's business
        _, end = _element_end(data, pos, implicit=implicit, depth=0)
        spans[tag] = (pos, end)
        last = tag
        pos = end
    return RawHeader(data[:pos], start, implicit, spans, pos, data if len(data) == size else None)


def _element_end(data: bytes, pos: int, *, implicit: bool, depth: int) -> tuple[int, int]:
    """(tag, end) of the element at ``pos``; raises _Short past the buffer, _Bad if malformed."""
    if depth > _MAX_DEPTH:
        raise _Bad
    if pos + 8 > len(data):
        raise _Short
    group, elem = struct.unpack_from("<HH", data, pos)
    tag = group << 16 | elem
    if implicit and group != 0x0002:
        (length,) = struct.unpack_from("<I", data, pos + 4)
        head = 8
    else:
        vr = data[pos + 4 : pos + 6]
        if not vr.isalpha() or not vr.isupper():
            raise _Bad
        if vr in _LONG_VRS:
            if pos + 12 > len(data):
                raise _Short
            (length,) = struct.unpack_from("<I", data, pos + 8)
            head = 12
        else:
            (length,) = struct.unpack_from("<H", data, pos + 6)
            head = 8
    if length != _UNDEFINED:
        end = pos + head + length
        if end > len(data):
            raise _Short
        return tag, end
    return tag, _sequence_end(data, pos + head, implicit=implicit, depth=depth + 1)


def _sequence_end(data: bytes, pos: int, *, implicit: bool, depth: int) -> int:
    """End of a sequence of undefined length whose first item starts at ``pos``."""
    while True:
        if pos + 8 > len(data):
            raise _Short
        group, elem, length = struct.unpack_from("<HHI", data, pos)
        tag = group << 16 | elem
        if tag == _SEQ_END:
            return pos + 8
        if tag != _ITEM:
            raise _Bad
        pos += 8
        if length != _UNDEFINED:
            pos += length
            continue
        while True:  # an item of undefined length: elements up to the item delimiter
            if pos + 8 > len(data):
                raise _Short
            group, elem = struct.unpack_from("<HH", data, pos)
            if group << 16 | elem == _ITEM_END:
                pos += 8
                break
            _, pos = _element_end(data, pos, implicit=implicit, depth=depth + 1)


_MAX_FRAGMENTS = 1 << 20  # items of encapsulated pixel data: more is no image, a trap
_PIXELS_BEFORE = 0x7FE00007  # every element of the rest must have a higher tag


def tail_problem(
    path: Path,
    tail_at: int,
    *,
    implicit: bool,
    big_endian: bool = False,
    whole: bytes | None = None,
) -> str:
    """Why the rest of a file, from ``tail_at`` on, is not just its pixel data ("" if it is).

    The rest is sent as it is, uncoerced. So it may hold only the pixel data
    and what a data set may carry after it, in ascending tag order: an
    identity element placed after the pixel data (out of order, as no writer
    would) would reach the PACS unchanged, and a PACS that keeps the last of
    two values would file the image under that patient. Encapsulated pixel
    data is walked item by item; another element of undefined length there is
    refused (nothing on a disc needs one). ``whole``: the file's bytes, when they were
    read already (a small file), so that it is not opened again.
    """
    order = ">" if big_endian else "<"
    if whole is not None:
        return _tail_walk(io.BytesIO(whole), len(whole), tail_at, order, implicit)
    with open(path, "rb") as fh:
        return _tail_walk(fh, os.fstat(fh.fileno()).st_size, tail_at, order, implicit)


def _tail_walk(fh: BinaryIO, size: int, tail_at: int, order: str, implicit: bool) -> str:
    """:func:`tail_problem` on an open file of ``size`` bytes."""
    pos, last = tail_at, _PIXELS_BEFORE
    while pos < size:
        fh.seek(pos)
        head = fh.read(12)
        if len(head) < 8:
            return "the file ends inside an element after the pixel data; not sent"
        group, elem = struct.unpack_from(order + "HH", head)
        tag = group << 16 | elem
        if tag <= last:
            return (
                f"an element ({group:04X},{elem:04X}) after the pixel data, out of tag "
                "order: it would reach the PACS uncoerced; not sent, check the disc"
            )
        vr = head[4:6]
        if implicit:
            (length,) = struct.unpack_from(order + "I", head, 4)
            pos += 8
        elif not (vr.isalpha() and vr.isupper()):
            # Read as implicit here and as explicit by a PACS, its length would hide
            # elements from this walk that the PACS then reads.
            return (
                f"an element ({group:04X},{elem:04X}) after the pixel data without a value "
                "representation; not sent, check the disc"
            )
        elif vr in _LONG_VRS:
            if len(head) < 12:
                return "the file ends inside an element after the pixel data; not sent"
            (length,) = struct.unpack_from(order + "I", head, 8)
            pos += 12
        else:
            (length,) = struct.unpack_from(order + "H", head, 6)
            pos += 8
        if length == _UNDEFINED:
            if tag not in _PIXEL_TAGS:
                return (
                    f"an element ({group:04X},{elem:04X}) of undefined length after the "
                    "pixel data; not sent, check the disc"
                )
            found = _fragments_end(fh, pos, size, order)
            if found is None:
                return "the encapsulated pixel data is not well formed; not sent"
            pos = found
        else:
            pos += length
        if pos > size:
            return "an element after the header runs past the end of the file; not sent"
        last = tag
    return ""


def _fragments_end(fh: BinaryIO, pos: int, size: int, order: str) -> int | None:
    """Where encapsulated pixel data starting (after its header) at ``pos`` ends; None if
    its items are not well formed."""
    for _ in range(_MAX_FRAGMENTS):
        fh.seek(pos)
        head = fh.read(8)
        if len(head) < 8:
            return None
        group, elem, length = struct.unpack_from(order + "HHI", head)
        tag = group << 16 | elem
        if tag == _SEQ_END:
            return pos + 8
        if tag != _ITEM or length == _UNDEFINED or pos + 8 + length > size:
            return None
        pos += 8 + length
    return None
