"""Read the few header values the scan needs from an ordinary Part-10 file, quickly.

Building a pydicom dataset costs about a millisecond per file; a disc without
a DICOMDIR can hold tens of thousands. This reader walks the element headers
of an explicit VR little endian file (the transfer syntax of uncompressed and
of every compressed image) with :mod:`struct`, keeps the values of the tags
asked for, and notes where the pixel data starts and whether it is complete.

It only answers for files it fully understands and whose values are
well-formed; for anything else (implicit VR, big endian, deflate, a value
breaking its VR's rules, odd structure) it returns ``None`` and the caller
reads the file with pydicom, which then reports the deviation precisely.
"""

from __future__ import annotations

import os
import re
import struct
from dataclasses import dataclass
from typing import IO

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}
_KNOWN_VRS = set(
    re.findall(
        rb"[A-Z]{2}",
        b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM "
        b"UC UI UL UN UR US UT UV",
    )
)
_UNDEFINED = 0xFFFFFFFF
_ELEMENT = struct.Struct("<HH2sH")  # tag, VR, short length
_LENGTH = struct.Struct("<L")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")  # allowed: TAB LF FF CR ESC
_NOT_EXPLICIT_LE = {"1.2.840.10008.1.2", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99"}
_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
_HEAD = 64 * 1024

_VALID = {
    b"UI": re.compile(rb"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*\x00?$"),
    b"IS": re.compile(rb"^ *[-+]?[0-9]{1,12} *$"),
    b"DA": re.compile(rb"^([0-9]{8})? *$"),
    b"CS": re.compile(rb"^[A-Z0-9 _\\]*$"),
}


@dataclass(frozen=True)
class Header:
    """What the fast reader found: raw values by tag, the meta's, and the pixel data state."""

    values: dict[int, bytes]
    vrs: dict[int, bytes]
    transfer_syntax: str
    media_storage_sop_class: str
    complete: bool


class _Unusual(Exception):
    """The file needs pydicom."""


def read_header(path: str, tags: frozenset[int]) -> Header | None:
    """Return the values of ``tags`` of a Part-10 explicit VR little endian file, or None.

    None means: read it with pydicom (not DICOM Part-10, another encoding,
    a malformed value, an unusual structure).
    """
    try:
        with open(path, "rb") as fh:
            data = fh.read(_HEAD)
            try:
                return _parse(fh, data, tags)
            except (_Unusual, struct.error, IndexError, UnicodeDecodeError):
                return None
    except OSError:
        return None


def file_meta(data: bytes) -> tuple[dict[int, bytes], int] | None:
    """Walk the Part-10 file meta group (always explicit VR little endian).

    Returns the raw values by element number and the offset after the group,
    or None when ``data`` has no ``DICM`` preamble or an odd meta group.
    """
    if len(data) < 144 or data[128:132] != b"DICM":
        return None
    unpack = struct.unpack_from
    pos = 132
    meta: dict[int, bytes] = {}
    while pos + 8 <= len(data):
        group, elem = unpack("<HH", data, pos)
        if group != 0x0002:
            break
        vr = data[pos + 4 : pos + 6]
        if vr in _LONG_VRS:
            (length,) = unpack("<L", data, pos + 8)
            head = 12
        else:
            (length,) = unpack("<H", data, pos + 6)
            head = 8
        if length == _UNDEFINED:
            return None
        meta[elem] = data[pos + head : pos + head + length]
        pos += head + length
    return meta, pos


def _parse(fh: IO[bytes], data: bytes, tags: frozenset[int]) -> Header:
    walked = file_meta(data)
    if walked is None:
        raise _Unusual
    meta, pos = walked
    ts = meta.get(0x0010, b"").rstrip(b"\x00 ").decode("ascii")
    if not ts or ts in _NOT_EXPLICIT_LE:
        raise _Unusual
    sop_class = meta.get(0x0002, b"").rstrip(b"\x00 ").decode("ascii")
    values: dict[int, bytes] = {}
    vrs: dict[int, bytes] = {}
    base = 0  # file offset of data[0]
    while True:
        if pos + 12 > len(data):
            # Need more bytes: read the next window of the file.
            fh.seek(base + pos)
            more = fh.read(_HEAD)
            if len(more) < 8:
                return Header(values, vrs, ts, sop_class, True)
            base, pos, data = base + pos, 0, more
        group, elem, vr, length = _ELEMENT.unpack_from(data, pos)
        tag = group << 16 | elem
        if group == 0xFFFE or vr not in _KNOWN_VRS:
            raise _Unusual
        if vr in _LONG_VRS:
            (length,) = _LENGTH.unpack_from(data, pos + 8)
            head = 12
        else:
            head = 8
        if tag in _PIXEL_TAGS:
            size = os.fstat(fh.fileno()).st_size
            start = base + pos + head
            if length != _UNDEFINED:
                return Header(values, vrs, ts, sop_class, size >= start + length)
            return Header(values, vrs, ts, sop_class, _fragments_complete(fh, start, size))
        if length == _UNDEFINED:
            if vr != b"SQ":
                raise _Unusual
            end = _skip_sequence(fh, base + pos + head)
            fh.seek(end)
            base, pos, data = end, 0, fh.read(_HEAD)
            continue
        if tag in tags:
            if pos + head + length > len(data):
                fh.seek(base + pos + head)
                value = fh.read(length)
            else:
                value = data[pos + head : pos + head + length]
            pattern = _VALID.get(vr)
            if pattern is not None and not pattern.match(value):
                raise _Unusual  # pydicom will name the problem
            if pattern is None and _CONTROL.search(value):
                raise _Unusual
            values[tag] = value
            vrs[tag] = vr
        pos += head + length


def _fragments_complete(fh: IO[bytes], at: int, size: int) -> bool:
    while at + 8 <= size:
        fh.seek(at)
        group, elem, length = struct.unpack("<HHL", fh.read(8))
        if (group, elem) == (0xFFFE, 0xE0DD):
            return True
        if (group, elem) != (0xFFFE, 0xE000) or length == _UNDEFINED:
            raise _Unusual
        at += 8 + length
    return False


def _skip_sequence(fh: IO[bytes], at: int) -> int:
    """Skip a sequence of undefined length (explicit VR LE items); return the offset after it."""
    depth = 1
    while depth:
        fh.seek(at)
        head = fh.read(12)
        if len(head) < 8:
            raise _Unusual
        group, elem = struct.unpack_from("<HH", head)
        if group == 0xFFFE:
            (length,) = struct.unpack_from("<L", head, 4)
            if elem == 0xE0DD:
                depth -= 1
                at += 8
            elif elem == 0xE00D:
                at += 8
            elif elem == 0xE000:
                at += 8 if length == _UNDEFINED else 8 + length
            else:
                raise _Unusual
            continue
        vr = head[4:6]
        if vr in _LONG_VRS:
            (length,) = struct.unpack_from("<L", head, 8)
            hlen = 12
        else:
            (length,) = struct.unpack_from("<H", head, 6)
            hlen = 8
        if length == _UNDEFINED:
            depth += 1
            at += hlen
        else:
            at += hlen + length
    return at
