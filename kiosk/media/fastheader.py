"""Read the few header values the scan needs, and walk a file's structure within bounds.

Building a pydicom dataset costs about a millisecond per file; a disc without
a DICOMDIR can hold tens of thousands. :func:`read_header` walks the element
headers of an explicit VR little endian file (the transfer syntax of
uncompressed and of every compressed image) with :mod:`struct`, keeps the
values of the tags asked for, and notes where the pixel data starts and
whether it is complete. It only answers for files it fully understands and
whose values are well-formed; for anything else (implicit VR, big endian,
deflate, a value breaking its VR's rules, odd structure) it returns ``None``
and the caller reads the file with pydicom, which then reports the deviation
precisely.

A disc is untrusted, so every walk here is bounded, and so is what pydicom is
given afterwards:

- an element's declared length is checked against the bytes left in the file
  before anything is read (:class:`LengthBeyondFile`); a value is never read
  with the length a file declares, only through windows of at most 64 KiB;
- sequences are followed with an explicit stack, never by recursion, and
  nesting deeper than :data:`MAX_SEQUENCE_DEPTH` is refused
  (:class:`SequenceTooDeep`);
- the walk stops at the top-level pixel data: its completeness is told by the
  file's size and, for encapsulated data, by seeking from one fragment's item
  header to the next (8 bytes each), never by reading the pixel data;
- at most :data:`MAX_ELEMENTS` element headers are walked, so a file of a
  gigabyte of tiny (or zero) elements ends in seconds (:class:`TooManyElements`);
- a deflated data set is inflated as it is walked, never whole, and one that
  inflates to more than :data:`MAX_INFLATED` is refused (:class:`TooLargeInflated`)
  before pydicom inflates it in memory.

One walk (``_walk``) serves both; one file-meta reader (``_meta``) and one
walk over the items of encapsulated pixel data (``_fragments``, also used by
:func:`pixel_data_whole` for a file pydicom read) serve everything here.

:func:`layout` does the same walk for the encodings pydicom reads (implicit VR
and big endian too, with or without a preamble), before pydicom is let near
the file; :func:`open_bounded` opens a file whose reads never ask for more
than the file holds, the last line of defence for whatever the walk could not
follow.
"""

from __future__ import annotations

import bisect
import io
import os
import re
import struct
import zlib
from dataclasses import dataclass
from typing import IO, ClassVar, Protocol

from pydicom.datadict import dictionary_has_tag, dictionary_VR, keyword_dict

from kiosk.media.disc_files import open_disc_file
from kiosk.media.problems import ProblemCode

MAX_SEQUENCE_DEPTH = 64
"""Sequences nested deeper than this are refused (real files nest a handful of levels)."""

MAX_INFLATED = 256 * 1024 * 1024
"""A deflated data set inflating to more than this is not read (a zip bomb)."""

MAX_ELEMENTS = 2_000_000
"""Element headers walked before the pixel data at most (an enhanced multi-frame of
10,000 frames has under a million)."""

MAX_DEFLATED_ELEMENTS = 200_000
"""Elements of a deflated data set at most: pydicom inflates and parses it whole."""

_LONG_VRS = {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT"}
_KNOWN_VRS = set(
    re.findall(
        rb"[A-Z]{2}",
        b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM "
        b"UC UI UL UN UR US UT UV",
    )
)
_UNDEFINED = 0xFFFFFFFF
_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQ_END = 0xFFFEE0DD
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")  # allowed: TAB LF FF CR ESC
_IMPLICIT_LE = "1.2.840.10008.1.2"
_EXPLICIT_BE = "1.2.840.10008.1.2.2"
_DEFLATED = "1.2.840.10008.1.2.1.99"
_NOT_EXPLICIT_LE = {_IMPLICIT_LE, _EXPLICIT_BE, _DEFLATED}
_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
"""The SOP Class of a DICOMDIR (its file meta's Media Storage SOP Class UID)."""
_HEAD = 64 * 1024
_EXPLICIT_LE = struct.Struct("<HH2sH")
_LONG_LE = struct.Struct("<L")
_STRUCTS = {  # by little endian: tag and 4-byte length, explicit VR header, 2- and 4-byte length
    little: tuple(struct.Struct(e + f) for f in ("HHL", "HH2sH", "H", "L"))
    for little, e in ((True, "<"), (False, ">"))
}
_META_VALUE = 1024  # a file meta value longer than this is not kept (none is, in a real file)

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


@dataclass(frozen=True)
class Layout:
    """Where a data set's top-level pixel data starts, whether it is whole, how many items."""

    pixel_data: int | None
    complete: bool
    items: int = 0
    sop_class: str = ""  # the file meta's Media Storage SOP Class UID
    # The contents of the top-level sequences of undefined length: (start, end) offsets,
    # from after the sequence's header to after its delimiter; and the byte order.
    sequences: tuple[tuple[int, int], ...] = ()
    little: bool = True


# --- what a hostile file gets -------------------------------------------------------------


class HostileFile(Exception):
    """The file's structure must not be read further; ``code`` is the problem to report."""

    code: ClassVar[ProblemCode] = ProblemCode.UNREADABLE_FILE


def _tag(tag: int) -> str:
    return f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


class LengthBeyondFile(HostileFile):
    """An element of the data set declares more bytes than the file has left."""

    code = ProblemCode.LENGTH_BEYOND_FILE

    def __init__(self, tag: int, at: int, length: int, left: int) -> None:
        super().__init__(
            f"element {_tag(tag)} at byte {at} declares {length} bytes, but only "
            f"{max(left, 0)} are left in the file; nothing of it was read"
        )


class MetaCut(HostileFile):
    """An element of the file meta group runs past the end of the file."""

    def __init__(self, tag: int, at: int, length: int, left: int) -> None:
        super().__init__(
            f"the file meta element {_tag(tag)} at byte {at} declares {length} bytes, but only "
            f"{max(left, 0)} are left in the file (a file cut short, or a hostile length); "
            "nothing of it was read"
        )


class SequenceTooDeep(HostileFile):
    """Sequences nested deeper than :data:`MAX_SEQUENCE_DEPTH`."""

    code = ProblemCode.SEQUENCE_TOO_DEEP

    def __init__(self, at: int | None = None) -> None:
        where = f" (at byte {at})" if at is not None else ""
        super().__init__(
            f"sequences are nested more than {MAX_SEQUENCE_DEPTH} levels deep{where}; "
            "the file was not parsed further"
        )


class TooManyElements(HostileFile):
    """More than :data:`MAX_ELEMENTS` element headers before the pixel data."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"more than {limit} elements before the pixel data (a file of tiny or zero-filled "
            "elements); the file was not parsed further"
        )


class TooLargeInflated(HostileFile):
    """A deflated data set inflating to more than :data:`MAX_INFLATED` bytes."""

    def __init__(self) -> None:
        super().__init__(
            f"the deflated data set inflates to more than {MAX_INFLATED} bytes (a zip bomb?); "
            "it was not read"
        )


class _Unusual(Exception):
    """A structure the walk does not follow: the file needs pydicom."""


# --- opening and reading ------------------------------------------------------------------


class BoundedReader(io.BufferedReader):
    """A regular file whose reads never ask for more bytes than the file holds.

    ``read(n)`` of a buffered file allocates ``n`` bytes before it reads; a
    length taken from a hostile file (2 GiB in a 1 KiB file) would allocate
    2 GiB. Here ``n`` is cut to what is left, so nothing read from this file
    can be larger than the file. Opened without following a symbolic link and
    without blocking; anything but a regular file is refused (``OSError``).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        fd, info = open_disc_file(path)
        try:
            raw = io.FileIO(fd, "rb", closefd=True)
        except BaseException:
            os.close(fd)
            raise
        super().__init__(raw)
        self.size = info.st_size

    _read = io.BufferedReader.read

    def read(self, size: int | None = -1, /) -> bytes:
        """Read at most ``size`` bytes, and never more than the file has left."""
        if size is not None and size > _HEAD:  # a small read cannot allocate much
            size = max(0, min(size, self.size - self.tell()))
        return self._read(size)


def open_bounded(path: str | os.PathLike[str]) -> BoundedReader:
    """Open a file on a medium for reading, within bounds (see :class:`BoundedReader`)."""
    return BoundedReader(path)


class _Source(Protocol):
    """What the walk reads from: a file, or a deflated data set inflated as it goes."""

    def read(self, size: int = ..., /) -> bytes: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...


class _Inflating:
    """A deflated data set (raw deflate), inflated as it is read; never held whole.

    Seeking forward inflates and drops the bytes in between; seeking back
    starts again from the beginning.
    """

    def __init__(self, fh: IO[bytes], start: int) -> None:
        self.fh = fh
        self.start = start
        self.rewind()

    def rewind(self) -> None:
        self.fh.seek(self.start)
        self.inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self.pending = b""
        self.pos = 0
        self.done = False

    def measure(self, limit: int) -> int:
        """The inflated size, counted without keeping it; over ``limit``: TooLargeInflated."""
        total = 0
        while chunk := self.read(_HEAD):
            total += len(chunk)
            if total > limit:
                raise TooLargeInflated
        self.rewind()
        return total

    def read(self, size: int = -1, /) -> bytes:
        want = _HEAD if size < 0 else size
        parts = [self.pending[:want]]
        self.pending = self.pending[want:]
        got = len(parts[0])
        while got < want and not self.done:
            tail = self.inflater.unconsumed_tail
            if self.inflater.eof:  # the deflate stream ended (what follows it is ignored)
                chunk = b""
                self.done = True
            elif tail:
                chunk = self.inflater.decompress(tail, want - got)
                if not chunk and self.inflater.unconsumed_tail == tail:
                    raise _Unusual  # no progress: a stream zlib cannot go on with
            elif raw := self.fh.read(_HEAD):
                chunk = self.inflater.decompress(raw, want - got)
            else:
                chunk = self.inflater.flush()
                self.done = True
            if len(chunk) > want - got:
                self.pending = chunk[want - got :]
                chunk = chunk[: want - got]
            parts.append(chunk)
            got += len(chunk)
        data = b"".join(parts)
        self.pos += len(data)
        return data

    def seek(self, offset: int, whence: int = 0, /) -> int:
        if offset < self.pos:
            self.rewind()
        while self.pos < offset and self.read(min(_HEAD, offset - self.pos)):
            pass
        return self.pos


class SequencesLeftOut:
    """A file as pydicom should see it during a scan: top-level sequences read as empty.

    pydicom parses a sequence of undefined length whole (every item, every
    value, read into memory) even when the tags asked for are elsewhere; a
    hostile one holds a million items or a gigabyte value. The scan needs none
    of them, so each reads here as an empty sequence (its own header, then the
    sequence delimiter), and the rest of the file is unchanged. Reads never
    go past the end.
    """

    def __init__(self, fh: IO[bytes], size: int, found: Layout) -> None:
        self.fh = fh
        self.name = getattr(fh, "name", "")
        delimiter = struct.pack("<HHL" if found.little else ">HHL", 0xFFFE, 0xE0DD, 0)
        # Pieces of the view: (start in the view, length, start in the file or the bytes).
        self.pieces: list[tuple[int, int, int | bytes]] = []
        at = 0
        kept = 0
        for start, stop in found.sequences:
            self.pieces.append((at, start - kept, kept))
            at += start - kept
            self.pieces.append((at, len(delimiter), delimiter))
            at += len(delimiter)
            kept = stop
        self.pieces.append((at, size - kept, kept))
        self.size = at + size - kept
        self.pos = 0

    def read(self, size: int | None = -1, /) -> bytes:
        left = self.size - self.pos
        want = left if size is None or size < 0 else min(size, left)
        out: list[bytes] = []
        while want > 0:
            index = bisect.bisect_right(self.pieces, self.pos, key=lambda p: p[0]) - 1
            start, length, source = self.pieces[index]
            offset = self.pos - start
            n = min(want, length - offset)
            if isinstance(source, bytes):
                out.append(source[offset : offset + n])
            else:
                self.fh.seek(source + offset)
                chunk = self.fh.read(n)
                if len(chunk) < n:
                    out.append(chunk)
                    self.pos += len(chunk)
                    break
                out.append(chunk)
            self.pos += n
            want -= n
        return b"".join(out)

    def seek(self, offset: int, whence: int = 0, /) -> int:
        base = (0, self.pos, self.size)[whence]
        self.pos = max(0, base + offset)
        return self.pos

    def tell(self) -> int:
        return self.pos


class _Reader:
    """Bytes of a file at an offset, through a window of at most 64 KiB (or a whole buffer)."""

    __slots__ = ("base", "data", "fh", "size")

    def __init__(self, fh: _Source | None, size: int, data: bytes = b"") -> None:
        self.fh = fh
        self.size = size
        self.data = data
        self.base = 0

    def at(self, pos: int, n: int) -> tuple[bytes, int]:
        """The window holding ``n`` bytes from ``pos``, and where ``pos`` is in it."""
        rel = pos - self.base
        if rel < 0 or rel + n > len(self.data):
            if self.fh is None:
                raise _Unusual
            self.fh.seek(pos)
            self.data = self.fh.read(max(n, _HEAD))
            self.base = pos
            rel = 0
            if len(self.data) < n:
                raise _Unusual  # the file changed under us
        return self.data, rel

    def peek(self, pos: int, n: int) -> bytes:
        """``n`` bytes from ``pos``, read alone (the window stays) when outside the window."""
        rel = pos - self.base
        if rel >= 0 and rel + n <= len(self.data):
            return self.data[rel : rel + n]
        if self.fh is None:
            raise _Unusual
        self.fh.seek(pos)
        data = self.fh.read(n)
        if len(data) < n:
            raise _Unusual  # the file changed under us
        return data


def _file_size(fh: IO[bytes]) -> int:
    size = getattr(fh, "size", None)
    return size if isinstance(size, int) else os.fstat(fh.fileno()).st_size


# --- the public readers -------------------------------------------------------------------


def read_header(path: str, tags: frozenset[int]) -> Header | None:
    """Return the values of ``tags`` of a Part-10 explicit VR little endian file, or None.

    None means: read it with pydicom (not DICOM Part-10, another encoding,
    a malformed value, an unusual structure).

    Raises
    ------
    HostileFile
        An element declares more bytes than the file holds, sequences nest
        too deep, or too many elements: a problem to report, never to read on.
    """
    try:
        with open_bounded(path) as fh:
            reader = _Reader(fh, fh.size)
            try:
                return _parse(reader, tags)
            except (_Unusual, struct.error, IndexError, UnicodeDecodeError):
                return None
    except OSError:
        return None


def layout(
    fh: IO[bytes],
    *,
    bare: bool = False,
    directory: bool = False,
    max_elements: int = MAX_ELEMENTS,
) -> Layout | None:
    """Walk a whole file's element headers, as pydicom would read them, without reading values.

    Any encoding pydicom reads (explicit or implicit VR, little or big
    endian, deflated), with a Part-10 preamble and meta or, with ``bare``
    (what pydicom reads with ``force=True``), a meta without preamble or a
    data set starting with group 0002 or 0008. Returns where the top-level
    pixel data starts and whether it is complete, or None when the file has a
    structure this walk does not follow (odd item structure, a broken deflate
    stream), which pydicom may still read. A deflated data set is walked as it
    inflates (``pixel_data`` is then an offset in the inflated bytes). A
    DICOMDIR (by its meta) is walked only with ``directory``; otherwise the
    walk stops at its meta, and ``sop_class`` says what it is.

    Raises
    ------
    HostileFile
        As :func:`read_header`, and :class:`TooLargeInflated`.
    """
    size = _file_size(fh)
    reader = _Reader(fh, size)
    try:
        if size < 8:
            return None
        head, _ = reader.at(0, min(size, 132))
        meta: dict[int, bytes] = {}
        pos = 0
        if len(head) >= 132 and head[128:132] == b"DICM":
            meta, pos = _meta(reader, 132)
        elif not bare:
            return None  # pydicom refuses a file without the preamble
        elif head[0:2] == b"\x02\x00" and head[3] == 0:
            meta, pos = _meta(reader, 0)
        elif not starts_data_set(head):
            return None  # not a data set as far as one can tell: pydicom will say so
        ts = meta.get(0x0010, b"").rstrip(b"\x00 ").decode("ascii", "replace")
        sop_class = meta.get(0x0002, b"").rstrip(b"\x00 ").decode("ascii", "replace")
        if pos + 8 > size or (sop_class == MEDIA_STORAGE_DIRECTORY and not directory):
            return Layout(None, True, 0, sop_class)
        deflated = ts == _DEFLATED
        if deflated:  # walk the data set as it inflates (pos: in the inflated bytes)
            inflating = _Inflating(fh, pos)
            reader = _Reader(inflating, inflating.measure(MAX_INFLATED))
            pos = 0
            max_elements = min(max_elements, MAX_DEFLATED_ELEMENTS)
            if reader.size < 8:
                return Layout(None, True, 0, sop_class)
        data, at = reader.at(pos, 8)
        little = ts != _EXPLICIT_BE
        if not ts:  # pydicom's guess without a transfer syntax: big endian is explicit VR only
            (group,) = struct.unpack_from("<H", data, at)
            little = not (_letters(data, at + 4) and group >= 1024)
        # pydicom goes by the first element's VR, whatever the transfer syntax says.
        implicit = not _letters(data, at + 4)
        found = _walk(reader, pos, implicit, little, max_elements=max_elements)
        spans = () if deflated else found.sequences
        return Layout(found.pixel_data, found.complete, found.items, sop_class, spans, little)
    except (_Unusual, struct.error, IndexError, UnicodeDecodeError, zlib.error):
        return None


def file_meta(data: bytes) -> tuple[dict[int, bytes], int] | None:
    """Walk the Part-10 file meta group (always explicit VR little endian).

    Returns the raw values by element number and the offset after the group,
    or None when ``data`` has no ``DICM`` preamble, an odd meta group, or a
    meta element running past the end of ``data``.
    """
    if len(data) < 144 or data[128:132] != b"DICM":
        return None
    try:
        return _meta(_Reader(None, len(data), data), 132)
    except (HostileFile, _Unusual, struct.error, IndexError):
        return None


def pixel_data_whole(fh: IO[bytes], at: int, implicit: bool, little: bool) -> bool:
    """Whether the top-level pixel data whose element starts at ``at`` is all there.

    For a file pydicom read where :func:`layout` could not walk: ``at`` is
    where pydicom stopped before the pixel data, ``implicit`` and ``little``
    its encoding. The same check as the walk's (the file's size, and for
    encapsulated data the fragments' item headers); the pixel data itself is
    never read. True when there is no pixel data at ``at`` or its structure
    cannot be told (the decoder will say).
    """
    reader = _Reader(fh, _file_size(fh))
    try:
        if at + 8 > reader.size:
            return True
        group, elem = struct.unpack("<HH" if little else ">HH", reader.peek(at, 4))
        if (group << 16 | elem) not in _PIXEL_TAGS:
            return True
        return _walk(reader, at, implicit, little).complete
    except (_Unusual, struct.error, IndexError):
        return True


# --- the walk -----------------------------------------------------------------------------


def starts_data_set(head: bytes) -> bool:
    """Whether bytes start like a data set without preamble: group 0002 or 0008, either order.

    ``head`` holds at least 4 bytes.
    """
    little = head[1] == 0 and head[0] in (0x02, 0x08) and head[3] == 0
    big = head[0] == 0 and head[1] in (0x02, 0x08) and head[2] == 0
    return little or big


def _letters(data: bytes, at: int) -> bool:
    """Whether two bytes can be an explicit VR (pydicom's test: two capital letters)."""
    return 0x40 < data[at] < 0x5B and 0x40 < data[at + 1] < 0x5B


def _meta(reader: _Reader, pos: int) -> tuple[dict[int, bytes], int]:
    """The file meta group's values by element number, and the offset after it.

    Written here rather than calling :func:`pydicom.filereader.read_file_meta_info`:
    that builds a dataset of the group, about 50 µs a file against 3.5 µs
    here, which is half of a fast header read; and here a meta element longer
    than the file (:class:`MetaCut`) or than :data:`_META_VALUE` is never read.
    The one file-meta walker of the media layer (:func:`read_header`,
    :func:`layout` and the DICOMDIR reader's :func:`file_meta` use it).
    """
    meta: dict[int, bytes] = {}
    size = reader.size
    while pos + 8 <= size:
        data, at = reader.data, pos - reader.base
        if at < 0 or at + 12 > len(data):
            data, at = reader.at(pos, min(12, size - pos))
        group, elem, vr, length = _EXPLICIT_LE.unpack_from(data, at)
        if group != 0x0002:
            break
        head = 8
        if vr in _LONG_VRS:
            if pos + 12 > size:
                raise _Unusual
            (length,) = _LONG_LE.unpack_from(data, at + 8)
            head = 12
        if length == _UNDEFINED:
            raise _Unusual
        if pos + head + length > size:
            raise MetaCut(0x00020000 | elem, pos, length, size - pos - head)
        if length <= _META_VALUE:
            at += head
            if at + length > len(data):
                data, at = reader.at(pos + head, length)
            meta[elem] = data[at : at + length]
        pos += head + length
    return meta, pos


def _parse(reader: _Reader, tags: frozenset[int]) -> Header:
    if reader.size < 144:
        raise _Unusual
    head, _ = reader.at(0, 132)
    if head[128:132] != b"DICM":
        raise _Unusual
    meta, pos = _meta(reader, 132)
    ts = meta.get(0x0010, b"").rstrip(b"\x00 ").decode("ascii")
    if not ts or ts in _NOT_EXPLICIT_LE:
        raise _Unusual
    sop_class = meta.get(0x0002, b"").rstrip(b"\x00 ").decode("ascii")
    values: dict[int, bytes] = {}
    vrs: dict[int, bytes] = {}
    if sop_class == MEDIA_STORAGE_DIRECTORY:
        return Header(values, vrs, ts, sop_class, True)  # a DICOMDIR: not an image to read
    if pos + 8 <= reader.size:
        data, at = reader.at(pos, 8)
        if not _letters(data, at + 4):
            raise _Unusual  # pydicom would read it as implicit VR
    found = _walk(reader, pos, False, True, tags=tags, values=values, vrs=vrs, strict=True)
    for tag, value in values.items():
        pattern = _VALID.get(vrs[tag])
        if pattern is not None and not pattern.match(value):
            raise _Unusual  # pydicom will name the problem
        if pattern is None and _CONTROL.search(value):
            raise _Unusual
    return Header(values, vrs, ts, sop_class, found.complete)


def _walk(
    reader: _Reader,
    pos: int,
    implicit: bool,
    little: bool,
    *,
    tags: frozenset[int] = frozenset(),
    values: dict[int, bytes] | None = None,
    vrs: dict[int, bytes] | None = None,
    strict: bool = False,
    max_elements: int = MAX_ELEMENTS,
) -> Layout:
    """Walk a data set's element headers from ``pos`` to the top-level pixel data (or the end).

    Follows sequences and items with a stack (no recursion), checks every
    declared length against the file's size and the nesting against
    :data:`MAX_SEQUENCE_DEPTH`, and keeps the top-level values of ``tags``.
    ``strict`` (the fast reader) gives up (``_Unusual``) on anything but plain
    explicit VR little endian; otherwise the walk follows what pydicom follows:
    an item in implicit VR inside an explicit file, an element whose VR is no
    VR read as implicit, UN of undefined length as a sequence.
    """
    size = reader.size
    end = "<" if little else ">"
    tag_length, explicit_head, short_length, long_length = _STRUCTS[little]
    top_implicit = implicit
    # Open containers: (end offset, or -1 for an undefined length; is an item; implicit inside).
    stack: list[tuple[int, bool, bool]] = []
    depth = 0
    items = 0
    count = 0
    spans: list[tuple[int, int]] = []  # top-level sequences of undefined length
    opened = 0  # where the open one's contents start
    while True:
        while stack and 0 <= stack[-1][0] <= pos:
            stop, is_item, _ = stack.pop()
            if pos > stop:
                raise _Unusual  # the contents ran past their container's length
            if not is_item:
                depth -= 1
            implicit = stack[-1][2] if stack else top_implicit
        if pos + 8 > size:
            if stack:
                raise _Unusual  # cut inside a sequence: pydicom names it
            return Layout(None, True, items, sequences=tuple(spans))
        count += 1
        if count > max_elements:
            raise TooManyElements(max_elements)
        data = reader.data
        at = pos - reader.base
        if at < 0 or at + 12 > len(data):  # outside the window: move it
            data, at = reader.at(pos, 12 if pos + 12 <= size else size - pos)
        if implicit:
            group, elem, length = tag_length.unpack_from(data, at)
            vr = b""
        else:
            group, elem, vr, length = explicit_head.unpack_from(data, at)
        if group == 0xFFFE:
            if not implicit:
                (length,) = long_length.unpack_from(data, at + 4)
            if not stack:
                raise _Unusual
            stop, is_item, inner = stack[-1]
            if elem == 0xE000 and not is_item:
                items += 1
                pos += 8
                item_end = -1
                if length != _UNDEFINED:
                    item_end = pos + length
                    if item_end > size:
                        raise LengthBeyondFile(_ITEM, pos - 8, length, size - pos)
                    if 0 <= stop < item_end:
                        raise _Unusual
                item_implicit = inner
                if not inner and pos + 8 <= size and (item_end < 0 or item_end >= pos + 8):
                    data, at = reader.at(pos, 8)
                    first = short_length.unpack_from(data, at)[0]
                    if first != 0xFFFE and not _letters(data, at + 4):
                        if strict:
                            raise _Unusual
                        item_implicit = True  # pydicom reads such an item as implicit VR
                stack.append((item_end, True, item_implicit))
                implicit = item_implicit
                continue
            if elem == 0xE00D and is_item and stop < 0:
                stack.pop()
                pos += 8
                implicit = stack[-1][2] if stack else top_implicit
                continue
            if elem == 0xE0DD and not is_item and stop < 0:
                stack.pop()
                depth -= 1
                pos += 8
                implicit = stack[-1][2] if stack else top_implicit
                if not stack:
                    spans.append((opened, pos))
                continue
            raise _Unusual
        if stack and not stack[-1][1]:
            raise _Unusual  # an element where a sequence needs an item
        tag = group << 16 | elem
        head = 8
        if not implicit and vr not in _KNOWN_VRS:
            if strict:
                raise _Unusual
            if not _letters(data, at + 4):
                vr = b""  # no VR at all: pydicom reads this element as implicit VR
                (length,) = long_length.unpack_from(data, at + 4)
            # else an unknown VR: pydicom reads a 2-byte length, as unpacked
        elif vr in _LONG_VRS:
            if pos + 12 > size:
                if not stack and tag in _PIXEL_TAGS:
                    return Layout(pos, False, items, sequences=tuple(spans))  # cut in its header
                raise _Unusual
            (length,) = long_length.unpack_from(data, at + 8)
            head = 12
        value = pos + head
        if not stack and tag in _PIXEL_TAGS:
            if length != _UNDEFINED:
                return Layout(pos, size >= value + length, items, sequences=tuple(spans))
            try:
                whole = _fragments(reader, value, end) > 0
            except _CutShort:
                whole = False
            except _Unusual:
                if strict:
                    raise
                whole = True  # not what we can check; leave it to the decoder
            return Layout(pos, whole, items, sequences=tuple(spans))
        if length == _UNDEFINED:
            if _is_sequence(reader, tag, vr, value, end):
                depth += 1
                if depth > MAX_SEQUENCE_DEPTH:
                    raise SequenceTooDeep(pos)
                if strict and (implicit or vr == b"UN"):
                    raise _Unusual
                # UN of undefined length: its items are implicit VR when their first
                # element says so, which the item's peek above finds (as pydicom does).
                if not stack:
                    opened = value
                stack.append((-1, False, implicit))
                pos = value
                continue
            if strict and vr not in (b"OB", b"OW"):
                raise _Unusual
            try:
                pos = _fragments(reader, value, end)
            except _CutShort as cut:
                if cut.length is None:
                    raise _Unusual from None  # cut between two items: pydicom names it
                raise LengthBeyondFile(_ITEM, cut.at, cut.length, size - cut.at - 8) from None
            continue
        if value + length > size:
            raise LengthBeyondFile(tag, pos, length, size - value)
        if stack and 0 <= stack[-1][0] < value + length:
            raise _Unusual
        if length and (vr == b"SQ" or (not vr and tag in _SQ_TAGS)):
            depth += 1
            if depth > MAX_SEQUENCE_DEPTH:
                raise SequenceTooDeep(pos)
            stack.append((value + length, False, implicit))
            pos = value
            continue
        if not stack and tag in tags and values is not None and vrs is not None:
            if length > _HEAD:
                raise _Unusual  # no header value is that long; pydicom defers it
            chunk, cat = reader.data, value - reader.base
            if cat < 0 or cat + length > len(chunk):
                chunk, cat = reader.at(value, length)
            values[tag] = chunk[cat : cat + length]
            vrs[tag] = vr
        pos = value + length


def _dictionary_vr(tag: int) -> str:
    """The VR of a standard tag, or "" (a private or unknown one)."""
    if tag >> 16 & 1 or not dictionary_has_tag(tag):
        return ""
    return str(dictionary_VR(tag))


def _sequence_tags() -> frozenset[int]:
    """Every standard tag whose VR is SQ (what implicit VR leaves unsaid)."""
    return frozenset(tag for tag in keyword_dict.values() if _dictionary_vr(tag) == "SQ")


_SQ_TAGS = _sequence_tags()


def _is_sequence(reader: _Reader, tag: int, vr: bytes, value: int, end: str) -> bool:
    """Whether an element of undefined length is a sequence, the way pydicom decides."""
    if vr in (b"SQ", b"UN"):
        return True
    if vr:
        return False
    known = _dictionary_vr(tag)
    if known:
        return known == "SQ"
    if value + 4 > reader.size:
        return False
    data, at = reader.at(value, 4)
    group, elem = struct.unpack_from(end + "HH", data, at)
    return bool((group << 16 | elem) == _ITEM)


class _CutShort(Exception):
    """The file ends inside a value of items: in the item at ``at`` (``length``) or before one."""

    def __init__(self, at: int, length: int | None) -> None:
        super().__init__(at, length)
        self.at = at
        self.length = length


def _fragments(reader: _Reader, at: int, end: str) -> int:
    """Walk a value of undefined length made of items (fragments); return the offset after it.

    Seeks from one item's 8-byte header to the next up to the sequence
    delimiter; never reads an item, and walks at most :data:`MAX_ELEMENTS`.

    Raises
    ------
    _CutShort
        The file ends before the delimiter.
    _Unusual
        Something else than an item or the delimiter, or an item of undefined length.
    """
    size = reader.size
    item = struct.Struct(end + "HHL")
    count = 0
    while at + 8 <= size:
        count += 1
        if count > MAX_ELEMENTS:
            raise TooManyElements(MAX_ELEMENTS)
        group, elem, length = item.unpack(reader.peek(at, 8))
        tag = group << 16 | elem
        if tag == _SEQ_END:
            return at + 8
        if tag != _ITEM or length == _UNDEFINED:
            raise _Unusual
        if at + 8 + length > size:
            raise _CutShort(at, length)
        at += 8 + length
    raise _CutShort(at, None)
