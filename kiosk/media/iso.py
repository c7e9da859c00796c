"""Read an ``.iso`` disc image directly with pycdlib, without mounting it.

The files of the image are extracted into a private temporary folder, which
the scan then reads like a mounted disc, and the importer copies from it
(``scan.root / relpath``). The folder is removed when the
:class:`~kiosk.media.model.MediaScan` that owns it is garbage-collected, or at
exit. The image itself is only read.

An image comes from outside the hospital: anything in it may be broken or
made to hurt. So pycdlib only parses the directory tree; the walk over it and
the copy of each file's bytes are done here, from the records, and:

- a symbolic link (Rock Ridge ``SL`` or ``PX`` mode, UDF) is never followed
  nor created: it is a ``symlink-on-medium`` problem that shows its target;
  a Rock Ridge device, FIFO or socket is a ``special-file`` problem;
- the data of a file is read once per distinct extent (its byte runs in the
  image): a second name for the same data becomes a hard link to the first
  copy (a copy if the file system has no hard links), and each such group is
  one ``shared-extent`` problem; 200 names for one 8 MiB extent write 8 MiB;
- the bytes written never exceed the image's own size: past it, extraction
  stops with an ``image-size-exceeded`` problem and the files written so far
  are scanned;
- a file whose first bytes show it is not DICOM and that is larger than
  :data:`STAND_IN_MIN` is written as a stand-in: its first sector, then a hole
  up to its real size (a sparse file, nothing written). The scan reads no more
  than the first 132 bytes of such a file (``scan._sniff`` and the ``DICM``
  check of a file a DICOMDIR lists); the size stays right for the disc's
  fingerprint; nothing copies a non-DICOM file. A viewer on the disc thus
  costs one sector, not its hundreds of megabytes;
- a name is kept as its bytes (Rock Ridge, ISO 9660) or as UTF-8 (Joliet,
  UDF), whatever it holds: not UTF-8, a newline, an escape sequence. A name
  that cannot be a file name (empty, ``.``, ``..``, a ``/``, ``\\`` or NUL,
  too long, the same as another entry's) is an ``image-entry-damaged``
  problem and is left out; so is an entry pycdlib cannot read, or whose data
  lies wholly past the end of the image. An image file shorter than its
  volume descriptor says (cut short) is one such problem with an empty path,
  and a file its end cuts is extracted as far as it goes (the scan then
  reports a ``truncated-file``);
- every error of pycdlib on a garbled image is a problem or, if the image
  cannot be opened at all, a :class:`~kiosk.errors.NoDicomError` (exit 3):
  never a traceback. A full or read-only temporary folder is a local failure
  and is raised as such.

Problems are shown escaped (:class:`~kiosk.media.problems.Problem` does it).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import stat
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import pycdlib
from pycdlib.pycdlibexception import PyCdlibException

from kiosk.errors import NoDicomError
from kiosk.media.names import shown, special_kind
from kiosk.media.problems import Problem, ProblemCode

log = logging.getLogger(__name__)

_ISO_MAGIC_OFFSET = 0x8001
_CHUNK = 1 << 20
_SECTOR = 2048
STAND_IN_MIN = 64 * 1024
"""A non-DICOM file larger than this is extracted as a stand-in (first sector + hole)."""
_SHOWN_TARGET = 200
_SHOWN_NAMES = 5

# What pycdlib, or reading its records, raises on a garbled image.
_GARBLED = (
    PyCdlibException,
    OSError,
    ValueError,  # UnicodeError among them
    struct.error,
    IndexError,
    KeyError,
    AttributeError,
    TypeError,
    ArithmeticError,
    RecursionError,
)
# A name the temporary folder's file system refuses; any other OSError while
# writing there (full, read-only, I/O error) is a local failure and is raised.
_NAME_ERRNOS = frozenset(
    {errno.EEXIST, errno.ENAMETOOLONG, errno.EINVAL, errno.EILSEQ, errno.ENOTDIR, errno.EISDIR}
)
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})


def is_iso_image(path: Path) -> bool:
    """Tell whether ``path`` is an ISO 9660 / UDF image (by its ``CD001`` / ``BEA01`` mark)."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            fh.seek(_ISO_MAGIC_OFFSET)
            mark = fh.read(5)
    except OSError:
        return False
    return mark in (b"CD001", b"BEA01") or path.suffix.lower() == ".iso"


def iso_name(name: str) -> str:
    """Strip the ISO 9660 version (``;1``) and the empty extension dot (``NAME.``)."""
    base = name.split(";", 1)[0]
    if base.endswith(".") and base not in (".", ".."):
        base = base[:-1]
    return base


def volume_label(image: Path) -> str:
    """The volume identifier of an ISO image, shown escaped ("" if it cannot be read)."""
    try:
        with image.open("rb") as fp:
            iso = pycdlib.PyCdlib()
            try:
                iso.open_fp(fp)
                raw = iso.pvd.volume_identifier
                text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
                return shown(text.strip(" \x00"))
            finally:
                _close(iso)
    except _GARBLED:
        return ""


@dataclass
class Extraction:
    """What reading an image gave."""

    folder: Path
    """Where the files are."""
    files: list[str] = field(default_factory=list)
    """The relative paths written (hard links and stand-ins among them), in walk order."""
    problems: list[Problem] = field(default_factory=list)
    """Symlinks, shared extents, damaged entries, the size limit: for the scan's problems."""
    bytes_written: int = 0
    """Bytes of file data written (a hard link adds none, a stand-in its first sector)."""
    image_size: int = 0
    """The image's own size: the most that is ever written."""


def extract_iso(image: Path, target: Path) -> list[str]:
    """Extract the files of ``image`` under ``target``; return the relative paths written.

    See :func:`extract_image`, which also returns the problems.
    """
    return extract_image(image, target).files


def extract_image(image: Path, target: Path) -> Extraction:
    """Extract the files of ``image`` under ``target`` (created if needed).

    Raises
    ------
    NoDicomError
        If the image cannot be opened as ISO 9660 / UDF.
    OSError
        If ``target`` cannot be written (full, read-only): a local failure.
    """
    with image.open("rb") as fp, image.open("rb") as data:
        size = os.fstat(fp.fileno()).st_size
        iso = pycdlib.PyCdlib()
        try:
            iso.open_fp(fp)
            tree = _Tree(iso, data)
        except _GARBLED as exc:
            _close(iso)
            reason = shown(f"{type(exc).__name__}: {exc}")[:200]
            raise NoDicomError(
                f"{shown(str(image))} is not a readable disc image ({reason}); "
                "check the file or burn it to a disc"
            ) from None
        try:
            target.mkdir(parents=True, exist_ok=True)
            out = _Extractor(tree, size, target)
            out.run()
            result = out.result
        finally:
            _close(iso)
    for problem in result.problems:
        log.info(
            "disc image %s: %s %s: %s",
            shown(image.name),
            problem.code,
            problem.path,
            problem.message,
        )
    return result


def extract_to_temp(image: Path) -> Path:
    """Extract ``image`` into a new temporary folder and return it (caller removes it).

    The problems are lost here; :func:`extract_image_to_temp` returns them.
    """
    return extract_image_to_temp(image).folder


def extract_image_to_temp(image: Path) -> Extraction:
    """Extract ``image`` into a new temporary folder (caller removes ``folder``)."""
    folder = Path(tempfile.mkdtemp(prefix="kiosk-iso-"))
    try:
        return extract_image(image, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise


def _close(iso: Any) -> None:
    with contextlib.suppress(*_GARBLED):
        iso.close()


# --- the image's tree, in the richest name space it has -----------------------------------


@dataclass
class _Node:
    """One entry of the image, as read from its record."""

    name: str
    """Its name as Python names files: ``os.fsdecode`` of the bytes it gets on disk."""
    kind: str  # "dir" | "file" | "symlink" | "special"
    record: Any
    runs: tuple[tuple[int, int], ...] = ()
    """(byte offset in the image, length) of each run of its data, in order."""
    note: str = ""
    """For a symlink, its target; for a special file, what it is."""


class _Tree:
    """The name space the scan reads: UDF, else Rock Ridge, else Joliet, else ISO 9660."""

    def __init__(self, iso: Any, data: BinaryIO) -> None:
        self.iso = iso
        self.data = data
        self.block = int(iso.logical_block_size)
        if iso.has_udf():
            self.space = "udf"
            self.root: Any = iso.udf_root
        elif iso.has_rock_ridge():
            self.space = "rr"
            self.root = iso.pvd.root_directory_record()
        elif iso.has_joliet():
            self.space = "joliet"
            self.root = iso.joliet_vd.root_directory_record()
        else:
            self.space = "iso"
            self.root = iso.pvd.root_directory_record()
        if self.root is None:
            raise PyCdlibException("the image has no root directory")

    def children(self, folder: Any) -> list[Any]:
        """The records in a folder (not ``.`` nor ``..``), in the image's order."""
        if self.space == "udf":
            return [fi for fi in list(folder.fi_descs.values()) if not fi.is_parent()]
        return list(_dr_children(folder, self.space == "rr"))

    def node(self, record: Any) -> _Node:
        """Read what the scan needs of one record; raises one of ``_GARBLED`` if garbled."""
        if self.space == "udf":
            return self._udf_node(record)
        name = os.fsdecode(self._dr_name(record))
        if self.space != "rr" or record.rock_ridge is None or not record.rock_ridge.name():
            name = iso_name(name)
        if record.is_dir():
            return _Node(name, "dir", record)
        if self.space == "rr" and record.rock_ridge is not None:
            if record.is_symlink():
                target = record.rock_ridge.symlink_path()
                return _Node(name, "symlink", record, note=os.fsdecode(target))
            mode = _rr_mode(record)
            if mode is not None and stat.S_ISLNK(mode):
                return _Node(name, "symlink", record)
            if mode is not None and stat.S_IFMT(mode) and not stat.S_ISREG(mode):
                return _Node(name, "special", record, note=special_kind(mode))
        return _Node(name, "file", record, runs=self._dr_runs(record))

    def _dr_name(self, record: Any) -> bytes:
        if self.space == "rr" and record.rock_ridge is not None and record.rock_ridge.name():
            return bytes(record.rock_ridge.name())
        ident = bytes(record.file_identifier())
        if self.space == "joliet":
            return _utf16_name(ident)
        return ident

    def _dr_runs(self, record: Any) -> tuple[tuple[int, int], ...]:
        runs: list[tuple[int, int]] = []
        seen: set[int] = set()
        rec = record
        while rec is not None and id(rec) not in seen:
            seen.add(id(rec))
            length = int(rec.data_length)  # < 0: pycdlib's cut of data past the image's end
            if length != 0:
                runs.append((int(rec.extent_location()) * self.block, length))
            rec = rec.data_continuation
        return tuple(runs)

    def _udf_node(self, ident: Any) -> _Node:
        raw = bytes(ident.fi)
        if ident.encoding == "utf-16_be":
            raw = _utf16_name(raw)
        else:
            raw = raw.decode("latin-1").encode("utf-8")
        name = os.fsdecode(raw)  # on POSIX any bytes; on Windows invalid UTF-8 raises
        entry = ident.file_entry
        if entry is None:
            if ident.is_dir():
                raise PyCdlibException("a folder without a UDF File Entry")
            return _Node(name, "file", ident)
        if entry.is_dir():
            return _Node(name, "dir", entry)
        if entry.is_symlink():
            target = _udf_target(self.peek(self._udf_runs(entry), _SECTOR))
            return _Node(name, "symlink", entry, note=target)
        if not entry.is_file():
            kind = f"a UDF entry of file type {entry.icb_tag.file_type}"
            return _Node(name, "special", entry, note=kind)
        return _Node(name, "file", entry, runs=self._udf_runs(entry))

    def _udf_runs(self, entry: Any) -> tuple[tuple[int, int], ...]:
        length = int(entry.get_data_length())
        if length <= 0 or entry.inode is None:
            return ()
        return ((int(entry.inode.extent_location()) * self.block, length),)

    def peek(self, runs: tuple[tuple[int, int], ...], count: int) -> bytes:
        """The first ``count`` bytes of an entry's data (as far as the image holds them)."""
        out = bytearray()
        for offset, length in runs:
            if len(out) >= count:
                break
            self.data.seek(offset)
            out += self.data.read(min(length, count - len(out)))
        return bytes(out)


def _dr_children(folder: Any, rock_ridge: bool) -> Iterator[Any]:
    """The children of an ISO 9660 / Joliet directory record, as pycdlib's own walk sees them.

    A multi-extent file's continuation records are skipped (the first holds
    the chain); with Rock Ridge, a relocated deep folder is listed where it
    belongs (its ``CL`` entry), not under ``rr_moved``.
    """
    last = None
    for child in folder.children:
        if child is None or child.is_dot() or child.is_dotdot():
            continue
        ident = child.file_identifier()
        if ident == last:
            continue
        last = ident
        rr = child.rock_ridge if rock_ridge else None
        if rr is not None:
            kids = child.children
            dotdot = kids[1].rock_ridge if len(kids) >= 2 else None
            if dotdot is not None and dotdot.parent_link_record_exists():
                continue  # a relocated folder: listed at its child link
            moved = rr.cl_to_moved_dr if rr.child_link_record_exists() else None
            if moved is not None and moved.parent is not None:
                for candidate in moved.parent.children:
                    if candidate.rock_ridge is not None and (
                        candidate.rock_ridge.name() == rr.name()
                    ):
                        child = candidate
                        break
        yield child


def _utf16_name(raw: bytes) -> bytes:
    """A Joliet / UDF UTF-16 name as the UTF-8 bytes a file system holds (never raises)."""
    try:
        text = raw.decode("utf-16-be", "surrogatepass")
    except UnicodeDecodeError:  # an odd number of bytes
        text = raw[:-1].decode("utf-16-be", "surrogatepass") + "\ufffd"
    return text.encode("utf-8", "surrogatepass")


def _udf_target(data: bytes) -> str:
    """Where a UDF symbolic link points, from its path components (ECMA-167 4/14.16)."""
    parts: list[str] = []
    absolute = False
    pos = 0
    while pos + 4 <= len(data):
        kind, size = data[pos], data[pos + 1]
        ident = data[pos + 4 : pos + 4 + size]
        pos += 4 + size
        if kind in (1, 2):
            absolute, parts = True, []
        elif kind == 3:
            parts.append("..")
        elif kind == 4:
            parts.append(".")
        elif kind == 5 and ident:
            text = ident[1:]
            parts.append(
                text.decode("utf-16-be", "replace") if ident[0] == 16 else text.decode("latin-1")
            )
    return ("/" if absolute else "") + "/".join(parts)


def _rr_mode(record: Any) -> int | None:
    try:
        return int(record.rock_ridge.get_file_mode())
    except PyCdlibException:  # no PX entry: a plain file
        return None


def _bad_name(name: str) -> str:
    """Why ``name`` cannot be a file name here ("" if it can)."""
    if name in ("", ".", ".."):
        return f"its name is {name!r}" if name else "it has no name"
    if "/" in name or "\\" in name or "\x00" in name:
        return "its name holds a '/', a '\\' or a NUL byte"
    return ""


def _looks_dicom(head: bytes) -> bool:
    """The test of ``scan._sniff``: a ``DICM`` preamble, or a raw group 0002/0008 data set."""
    if len(head) >= 132 and head[128:132] == b"DICM":
        return True
    if len(head) >= 8:
        little = head[1] == 0 and head[0] in (0x02, 0x08) and head[3] == 0
        big = head[0] == 0 and head[1] in (0x02, 0x08) and head[2] == 0
        return little or big
    return False


# --- the extraction -------------------------------------------------------------------------


class _Stop(Exception):
    """The bytes written would pass the image's own size."""


class _Extractor:
    def __init__(self, tree: _Tree, image_size: int, target: Path) -> None:
        self.tree = tree
        self.data = tree.data
        self.size = image_size
        self.root = target
        self.result = Extraction(folder=target, image_size=image_size)
        self.first: dict[tuple[tuple[int, int], ...], tuple[str, Path]] = {}
        self.names: dict[tuple[tuple[int, int], ...], list[str]] = {}
        self.stopped_at = ""
        self.left = 0
        try:
            self.declared = int(tree.iso.pvd.space_size) * tree.block
        except _GARBLED:
            self.declared = 0

    def run(self) -> None:
        if self.size < self.declared:
            self._problem(
                ProblemCode.IMAGE_ENTRY_DAMAGED,
                "",
                f"the image file holds {self.size} of the {self.declared} bytes its volume "
                "descriptor gives: it was cut short (an interrupted download or copy?); "
                "files whose data lay past the cut are cut or empty",
            )
        stack: list[tuple[tuple[str, ...], Any]] = [((), self.tree.root)]
        while stack:
            parts, folder = stack.pop()
            where = "/".join(parts)
            try:
                records = self.tree.children(folder)
            except _GARBLED as exc:
                self._problem(ProblemCode.IMAGE_ENTRY_DAMAGED, where, _why(exc, "its entries"))
                continue
            used: set[str] = set()
            below: list[tuple[tuple[str, ...], Any]] = []
            for record in records:
                try:
                    node = self.tree.node(record)
                except _GARBLED as exc:
                    self._problem(ProblemCode.IMAGE_ENTRY_DAMAGED, where, _why(exc, "an entry"))
                    continue
                rel = "/".join((*parts, node.name))
                if self.stopped_at:  # only count what is not read
                    if node.kind == "dir":
                        below.append(((*parts, node.name), node.record))
                    else:
                        self.left += 1
                    continue
                if node.kind == "symlink":
                    self._symlink(rel, node)
                    continue
                if node.kind == "special":
                    self._problem(
                        ProblemCode.SPECIAL_FILE,
                        rel,
                        f"{node.note}, not a file; it was not extracted",
                    )
                    continue
                bad = _bad_name(node.name) or (
                    "another entry of this folder has the same name" if node.name in used else ""
                )
                if bad:
                    self._problem(ProblemCode.IMAGE_ENTRY_DAMAGED, rel, f"{bad}; it was left out")
                    continue
                used.add(node.name)
                path = self.root.joinpath(*parts, node.name)
                if node.kind == "dir":
                    if self._mkdir(path, rel):
                        below.append(((*parts, node.name), node.record))
                    continue
                try:
                    self._file(path, rel, node)
                except _Stop:
                    self.stopped_at = rel
                    self.left += 1
            stack.extend(reversed(below))
        self._finish()

    # -- one entry --

    def _symlink(self, rel: str, node: _Node) -> None:
        target = node.note
        if len(target) > _SHOWN_TARGET:
            target = target[:_SHOWN_TARGET] + "…"
        to = f" to {target}" if target else ""
        self._problem(
            ProblemCode.SYMLINK_ON_MEDIUM,
            rel,
            f"a symbolic link{to}; it was not followed, nothing it points at was read",
        )

    def _mkdir(self, path: Path, rel: str) -> bool:
        try:
            path.mkdir()
        except (OSError, ValueError) as exc:
            if not _a_name_error(exc):
                raise
            self._problem(
                ProblemCode.IMAGE_ENTRY_DAMAGED,
                rel,
                f"a folder whose name this system cannot create ({_reason(exc)}); "
                "it and its files were left out",
            )
            return False
        return True

    def _file(self, path: Path, rel: str, node: _Node) -> None:
        runs = node.runs
        if runs and runs in self.first:
            self._second_name(path, rel, runs)
            return
        present = sum(max(0, min(length, self.size - offset)) for offset, length in runs)
        if runs and present == 0:
            self._problem(
                ProblemCode.IMAGE_ENTRY_DAMAGED,
                rel,
                f"its data would lie past the end of the image (at byte {runs[0][0]} of "
                f"{self.size}); it was left out",
            )
            return
        declared = sum(length for _offset, length in runs)
        head = self.tree.peek(runs, min(present, _SECTOR))
        stand_in = (
            present > STAND_IN_MIN
            and not _looks_dicom(head)
            and iso_name(node.name).upper() != "DICOMDIR"
        )
        need = len(head) if stand_in else present
        if self.result.bytes_written + need > self.size:
            raise _Stop
        try:
            with path.open("xb") as out:
                if stand_in:
                    out.write(head)
                    out.truncate(present)
                    written = len(head)
                else:
                    written = self._copy(runs, out)
        except (OSError, ValueError) as exc:
            if not _a_name_error(exc):
                raise
            self._problem(
                ProblemCode.IMAGE_ENTRY_DAMAGED,
                rel,
                f"a file whose name this system cannot create ({_reason(exc)}); it was left out",
            )
            return
        self.result.bytes_written += written
        self.result.files.append(rel)
        if runs:
            self.first[runs] = (rel, path)
            self.names[runs] = [rel]
        reaches_cut = self.size < self.declared and any(o + n >= self.size for o, n in runs)
        if present < declared or reaches_cut:
            # pycdlib cuts the length of such a file to the image's end when it opens it.
            self._problem(
                ProblemCode.IMAGE_ENTRY_DAMAGED,
                rel,
                f"the image ends inside this file (its first {present} bytes are in the image); "
                "that part was extracted",
            )

    def _second_name(self, path: Path, rel: str, runs: tuple[tuple[int, int], ...]) -> None:
        """Another name for data already extracted: a hard link to the first copy."""
        first = self.first[runs][1]
        try:
            os.link(first, path)
        except OSError as exc:
            if exc.errno in _NAME_ERRNOS - {errno.EINVAL}:
                self._problem(
                    ProblemCode.IMAGE_ENTRY_DAMAGED,
                    rel,
                    f"a file whose name this system cannot create ({_reason(exc)}); "
                    "it was left out",
                )
                return
            if exc.errno in _DISK_ERRNOS:
                raise
            # No hard links here (FAT, some network shares): a copy, within the same budget.
            size = first.stat().st_size
            if self.result.bytes_written + size > self.size:
                raise _Stop from None
            try:
                with first.open("rb") as src, path.open("xb") as out:
                    shutil.copyfileobj(src, out, _CHUNK)
            except (OSError, ValueError) as again:
                if not _a_name_error(again):
                    raise
                self._problem(
                    ProblemCode.IMAGE_ENTRY_DAMAGED,
                    rel,
                    f"a file whose name this system cannot create ({_reason(again)}); "
                    "it was left out",
                )
                return
            self.result.bytes_written += size
        self.result.files.append(rel)
        self.names[runs].append(rel)

    def _copy(self, runs: tuple[tuple[int, int], ...], out: BinaryIO) -> int:
        """Copy a file's data runs, as far as the image holds them; return the bytes written."""
        written = 0
        for offset, length in runs:
            self.data.seek(offset)
            left = length
            while left > 0:
                chunk = self.data.read(min(_CHUNK, left))
                if not chunk:
                    return written  # the image ends here
                out.write(chunk)
                written += len(chunk)
                left -= len(chunk)
        return written

    # -- the end --

    def _finish(self) -> None:
        for names in self.names.values():
            if len(names) < 2:
                continue
            others = names[1:]
            listed = ", ".join(others[:_SHOWN_NAMES])
            if len(others) > _SHOWN_NAMES:
                listed += f" and {len(others) - _SHOWN_NAMES} more"
            what = "other name shares" if len(others) == 1 else "other names share"
            self._problem(
                ProblemCode.SHARED_EXTENT,
                names[0],
                f"{len(others)} {what} this file's data on the disc ({listed}): "
                "the data was read once and every name shows the same bytes",
            )
        if self.stopped_at:
            self._problem(
                ProblemCode.IMAGE_SIZE_EXCEEDED,
                self.stopped_at,
                f"extracting this file would write more than the image's own {self.size} bytes "
                "(its files overlap or repeat); extraction stopped here, "
                f"{self.left} entries from here on were not read, "
                f"the {len(self.result.files)} extracted before were",
            )

    def _problem(self, code: ProblemCode, rel: str, message: str) -> None:
        self.result.problems.append(Problem(code, rel, message))


def _why(exc: BaseException, what: str) -> str:
    return f"{what} of the image cannot be read ({_reason(exc)}); left out"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return f"{type(exc).__name__}: {exc}"[:200]


def _a_name_error(exc: BaseException) -> bool:
    """Whether writing failed for the name (refused by the file system), not for the disk."""
    if isinstance(exc, OSError):
        return exc.errno in _NAME_ERRNOS
    return True  # ValueError (embedded NUL) or UnicodeEncodeError (a name the system can't hold)
