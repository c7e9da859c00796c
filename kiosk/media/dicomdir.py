"""DICOMDIR reading: a fast record reader, and pydicom ``FileSet`` helpers.

A DICOMDIR comes from an untrusted disc. :func:`read_directory` refuses one
larger than :data:`MAX_DICOMDIR_BYTES` or holding more than
:data:`MAX_DICOMDIR_RECORDS` records (:class:`DicomdirTooLarge`), maps the file
rather than reading it into memory, and gives pydicom (for the encodings the
fast reader leaves to it) only a file whose declared lengths and nesting were
checked first (:func:`kiosk.media.fastheader.layout`).
"""

from __future__ import annotations

import mmap
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.fileset import FileSet

from kiosk.media.fastheader import SequenceTooDeep, file_meta, layout, open_bounded

MAX_DICOMDIR_BYTES = 64 * 1024 * 1024
"""A DICOMDIR larger than this is not read (one for 50,000 images is a few MB)."""

MAX_DICOMDIR_RECORDS = 200_000
"""A DICOMDIR with more directory records than this is not read."""


class DicomdirTooLarge(Exception):
    """The DICOMDIR is over :data:`MAX_DICOMDIR_BYTES` or :data:`MAX_DICOMDIR_RECORDS`."""


def release_fileset(fs: FileSet) -> None:
    """Remove the staging directory a :class:`FileSet` keeps for its whole life.

    pydicom 3.0 never closes that :class:`tempfile.TemporaryDirectory`, so the
    garbage collector does, with a :class:`ResourceWarning`.
    """
    stage = getattr(fs, "_stage", None)
    tmp = stage.get("t") if isinstance(stage, dict) else None
    if isinstance(tmp, tempfile.TemporaryDirectory):
        tmp.cleanup()


# --- reading directory records quickly ----------------------------------------------------

_EXPLICIT_LE = "1.2.840.10008.1.2.1"
_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}
_UNDEFINED = 0xFFFFFFFF
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQ_END = 0xFFFEE0DD
RECORD_SEQUENCE = 0x00041220

Value = bytes | str | int


@dataclass(slots=True)
class Record:
    """One directory record: its offset in the file and the values of the tags asked for.

    A value is the raw bytes of the element (decoded by the caller, with the
    character set that applies) or, when pydicom had already converted it, a
    ``str`` or ``int``.
    """

    offset: int
    values: dict[int, Value]
    little_endian: bool = True


@dataclass
class Directory:
    """A DICOMDIR: its top-level values and its records, in file order."""

    values: dict[int, Value]
    records: list[Record]
    little_endian: bool = True


def read_directory(path: Path, tags: frozenset[int]) -> Directory:
    """Read a DICOMDIR's records, keeping only ``tags`` of each.

    Explicit VR Little Endian (what the standard requires, and nearly every
    disc has) is parsed directly, which is several times faster than building
    pydicom datasets for ten thousand records; anything else (big endian,
    implicit VR, odd structure) goes through :func:`pydicom.dcmread`.

    The file is never read whole into memory: one over
    :data:`MAX_DICOMDIR_BYTES` is refused from its size alone, and the fast
    parser works on a read-only memory map of it.

    Raises
    ------
    DicomdirTooLarge
        Over :data:`MAX_DICOMDIR_BYTES` or :data:`MAX_DICOMDIR_RECORDS`.
    Exception
        Whatever pydicom raises for a file that is not a DICOMDIR, or a
        :class:`~kiosk.media.fastheader.HostileFile` (a length beyond the
        file, sequences nested too deep).
    """
    with open_bounded(path) as fh:
        size = fh.size
        if size > MAX_DICOMDIR_BYTES:
            raise DicomdirTooLarge(
                f"the DICOMDIR is {size} bytes, over the {MAX_DICOMDIR_BYTES} bytes a real one "
                "stays under; it was not read"
            )
        try:
            if size == 0:
                return _parse_explicit_le(b"", tags)
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _parse_explicit_le(data, tags)
        except _NotFast:
            pass
        return _read_with_pydicom(fh, tags)


def _too_many(count: int) -> DicomdirTooLarge:
    return DicomdirTooLarge(
        f"the DICOMDIR holds more than {MAX_DICOMDIR_RECORDS} records ({count} at least); "
        "it was not read"
    )


class _NotFast(Exception):
    """The file needs pydicom's general reader."""


def _parse_explicit_le(data: bytes | mmap.mmap, tags: frozenset[int]) -> Directory:
    walked = file_meta(data[: 64 * 1024])
    if walked is None:
        raise _NotFast
    meta, pos = walked
    ts = meta.get(0x0010, b"")
    if ts.rstrip(b"\x00 ").decode("ascii", "replace") != _EXPLICIT_LE:
        raise _NotFast
    top: dict[int, Value] = {}
    records: list[Record] = []
    end = len(data)
    while pos + 8 <= end:
        tag, _vr, length, head = _element(data, pos)
        if tag == RECORD_SEQUENCE:
            pos = _items(data, pos + head, length, tags, records)
            continue
        if length == _UNDEFINED:
            raise _NotFast
        if tag in tags or tag == 0x00041200 or tag == 0x00080005:
            top[tag] = data[pos + head : pos + head + length]
        pos += head + length
    return Directory(top, records)


def _element(data: bytes | mmap.mmap, pos: int) -> tuple[int, bytes, int, int]:
    group, elem = struct.unpack_from("<HH", data, pos)
    tag = group << 16 | elem
    if group == 0xFFFE:
        (length,) = struct.unpack_from("<L", data, pos + 4)
        return tag, b"", length, 8
    vr = data[pos + 4 : pos + 6]
    if vr in _LONG_VRS:
        (length,) = struct.unpack_from("<L", data, pos + 8)
        return tag, vr, length, 12
    if not (65 <= vr[0] <= 90 and 65 <= vr[1] <= 90):
        raise _NotFast
    (length,) = struct.unpack_from("<H", data, pos + 6)
    return tag, vr, length, 8


def _items(
    data: bytes | mmap.mmap, pos: int, length: int, tags: frozenset[int], records: list[Record]
) -> int:
    """Parse the record sequence's items from ``pos``; return the position after it."""
    stop = len(data) if length == _UNDEFINED else pos + length
    if stop > len(data):
        raise _NotFast
    while pos + 8 <= stop:
        tag, _vr, item_len, head = _element(data, pos)
        if tag == _SEQ_END:
            return pos + 8
        if tag != _ITEM:
            raise _NotFast
        if len(records) >= MAX_DICOMDIR_RECORDS:
            raise _too_many(len(records) + 1)
        start = pos
        pos += head
        item_stop = stop if item_len == _UNDEFINED else pos + item_len
        values: dict[int, Value] = {}
        while pos + 8 <= item_stop:
            etag, vr, elen, ehead = _element(data, pos)
            if etag == _ITEM_END:
                pos += 8
                break
            if elen == _UNDEFINED:
                if vr != b"SQ" and vr != b"UN":
                    raise _NotFast
                pos = _skip_undefined(data, pos + ehead)
                continue
            if etag in tags:
                values[etag] = data[pos + ehead : pos + ehead + elen]
            pos += ehead + elen
        if item_len != _UNDEFINED:
            pos = item_stop
        records.append(Record(start, values))
    return pos


def _skip_undefined(data: bytes | mmap.mmap, pos: int) -> int:
    """Skip a nested sequence of undefined length; return the position after its delimiter."""
    depth = 1
    while pos + 8 <= len(data):
        tag, _vr, length, head = _element(data, pos)
        if tag == _SEQ_END:
            depth -= 1
            pos += 8
            if depth == 0:
                return pos
            continue
        if tag == _ITEM_END:
            pos += 8
            continue
        if tag == _ITEM:
            pos += 8 if length == _UNDEFINED else 8 + length
            continue
        if length == _UNDEFINED:
            depth += 1
            pos += head
            continue
        pos += head + length
    raise _NotFast


def _read_with_pydicom(fh: IO[bytes], tags: frozenset[int]) -> Directory:
    """Read a DICOMDIR the fast parser leaves alone, once its structure was checked.

    ``fh`` reads within the file's size (:func:`open_bounded`); the element
    lengths and the nesting are checked by a walk first, and a recursion that
    still goes too deep is a :class:`SequenceTooDeep`, never a crash.
    """
    found = layout(fh, bare=True, directory=True, max_elements=MAX_DICOMDIR_BYTES // 8 + 1)
    if found is not None and found.items > MAX_DICOMDIR_RECORDS:
        raise _too_many(found.items)
    fh.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a foreign DICOMDIR's oddities are not our warnings
        try:
            ds = pydicom.dcmread(fh, force=True)
        except RecursionError:
            raise SequenceTooDeep() from None
        if len(ds.get("DirectoryRecordSequence") or ()) > MAX_DICOMDIR_RECORDS:
            raise _too_many(len(ds.DirectoryRecordSequence))
        little = bool(ds.original_encoding[1] is not False)
        top = {t: v for t in (0x00041200, 0x00080005) if (v := _value(ds, t)) is not None}
        records = []
        for item in ds.DirectoryRecordSequence:
            values = {t: v for t in tags if (v := _value(item, t)) is not None}
            records.append(Record(int(getattr(item, "seq_item_tell", -1)), values, little))
    return Directory(top, records, little)


def _value(ds: Dataset, tag: int) -> Value | None:
    elem = ds.get_item(tag)
    if elem is None:
        return None
    value: Any = elem.value
    if value is None or isinstance(value, bytes | int):
        return value
    if isinstance(value, str):
        return value
    try:
        return "\\".join(str(v) for v in value)
    except TypeError:
        return str(value)
