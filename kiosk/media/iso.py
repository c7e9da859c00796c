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
  check of a file a DICOMDIR lists); its size stays the real one; nothing
  copies a non-DICOM file. A viewer on the disc thus
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
- a folder is extracted once, at the first place the walk meets it: a Rock
  Ridge child link (``CL``) or any other record that leads to a folder
  already extracted (a loop: pycdlib checks directory records, not child
  links) is an ``image-entry-damaged`` problem and is left out; so is a folder
  nested deeper than :data:`MAX_FOLDER_DEPTH` levels (ISO 9660 allows 8);
- every error of pycdlib on a garbled image is a problem or, if the image
  cannot be opened at all, a :class:`~kiosk.errors.NoDicomError` (exit 3):
  never a traceback. A full or read-only temporary folder is a local failure
  and is raised as such.

Problems are shown escaped (:class:`~kiosk.media.problems.Problem` does it).

Bounds: a child process
-----------------------
pycdlib parses the whole directory tree of an image in memory when it opens
it (a 3.6 MB image of 20,000 empty files took 2.2 s and 131 MiB), so an image
of a few hundred MB made of millions of directory records would exhaust the
kiosk's memory or hang it. :func:`extract_image_to_temp` (what the scan
calls) therefore opens and extracts the image in a child process, the
*reader*, with hard bounds:

- memory: on POSIX the reader sets its own ``RLIMIT_AS`` (address space,
  soft and hard) to :data:`MEMORY_LIMIT` (1 GiB) before it opens the image;
  an allocation past it fails in the reader (``MemoryError``), not in the
  kiosk. Windows has no ``RLIMIT_AS``: there only the time bound holds (as
  wherever the system refuses the limit, which is then logged);
- time: the parent kills the reader after :data:`TIME_LIMIT` (120 s) of wall
  clock, its start-up included;
- its report: the parent reads at most :data:`REPORT_LIMIT` bytes of it, so
  its own memory does not grow with the image either.

``KIOSK_ISO_MEMORY`` (MiB) and ``KIOSK_ISO_SECONDS`` (seconds, decimals
allowed) replace the first two; the parent reads them at each extraction
(a value that is not a positive number is logged and ignored). A real disc
too large for the defaults can be read with higher values, or from a drive.

The reader writes only into the temporary folder the parent made (which the
scan removes, with :func:`remove_tree`: bottom-up, without recursion, so no
tree in it can make the removal fail) and reports on its stdout as it goes, one JSON array a line:
each file written, each problem, then the end. If it passes a bound or dies
(killed by the system, a crash of the interpreter), the parent keeps what
was reported and adds one ``image-too-complex`` problem that says why; the
scan reads the files written so far (one cut by the stop shows as cut). If
no file was written, the image is a :class:`~kiosk.errors.NoDicomError`
(exit 3) whose one line names ``image-too-complex``.

Why ``subprocess`` and not ``multiprocessing``: the reader must run nothing
of the parent but this module. The ``spawn`` context runs the parent's main
script again in the child (for the ``kiosk`` command, its entry-point script,
which imports ``kiosk.cli`` and all that imports; for the desktop app, the
app's), which would cost more than reading a small image; ``fork`` would copy
a process that holds threads (Qt, the media watcher). ``subprocess`` starts a
bare interpreter with ``-I`` (neither the current folder nor ``PYTHON*``
variables nor the user's site: nothing on a disc or in the extracted folder
can be imported) and ``-B`` (no bytecode written), which imports this module
from where the parent did (:data:`_PACKAGE_ROOT`) and calls
:func:`_reader_main`; the protocol is the arguments and the lines, all in
this module, and the start-up is an interpreter and pycdlib (measured: about
75 ms for a small image, against about 1 ms in the calling process). The
reader sets its limit itself: a ``preexec_fn`` is unsafe in a process with
threads. :func:`extract_image` is the same extraction in the calling process,
without these bounds: the reader runs it, and the tests.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import math
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

import pycdlib
from pycdlib.pycdlibexception import PyCdlibException

from kiosk import faults
from kiosk.errors import NoDicomError
from kiosk.media.extractions import new_extraction_folder, remove_tree, sweep_stale_extractions
from kiosk.media.names import shown, special_kind
from kiosk.media.problems import Problem, ProblemCode

if sys.platform != "win32":
    import resource

log = logging.getLogger(__name__)

_ISO_MAGIC_OFFSET = 0x8001
_CHUNK = 1 << 20
_SECTOR = 2048
_MiB = 1 << 20
STAND_IN_MIN = 64 * 1024
"""A non-DICOM file larger than this is extracted as a stand-in (first sector + hole)."""
_SHOWN_TARGET = 200
MAX_FOLDER_DEPTH = 64
"""The deepest folder extracted (levels below the image's root); ISO 9660 allows 8."""
_SHOWN_NAMES = 5

MEMORY_LIMIT = 1 << 30
"""The address space the reader of an image may take, in bytes (``KIOSK_ISO_MEMORY``, MiB)."""
TIME_LIMIT = 120.0
"""The wall-clock seconds the reader of an image may take (``KIOSK_ISO_SECONDS``)."""
REPORT_LIMIT = 32 * _MiB
"""The most bytes of the reader's report (its files and problems) the parent reads."""
MEMORY_VARIABLE = "KIOSK_ISO_MEMORY"
TIME_VARIABLE = "KIOSK_ISO_SECONDS"

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
"""The folder that holds the ``kiosk`` package the parent runs: the reader imports it from there."""
_READER = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from kiosk.media.iso import _reader_main; sys.exit(_reader_main(sys.argv[2:]))"
)
_MEMORY_EXIT = 86
"""The reader's exit code when it ran out of its address space."""
_STDERR_TAIL = 4096
_JOIN_SECONDS = 5.0

_Emit = Callable[[list[Any]], None]

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
_VD_FIRST = 16
"""The sector of the first volume descriptor (ECMA-119 8.1)."""
_VD_MAX = 64


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
    """The volume identifier of an ISO image, shown escaped ("" if it cannot be read).

    Read from the first Primary Volume Descriptor itself (bytes 40 to 72, as
    pycdlib reads it), not through pycdlib, which would parse the whole
    directory tree in this process: the cost :func:`extract_image_to_temp`
    keeps in a bounded child.
    """
    try:
        with image.open("rb") as fp:
            for sector in range(_VD_FIRST, _VD_FIRST + _VD_MAX):
                fp.seek(sector * _SECTOR)
                descriptor = fp.read(_SECTOR)
                if len(descriptor) < _SECTOR or descriptor[1:6] != b"CD001":
                    return ""
                if descriptor[0] == 255:  # the set terminator: no primary descriptor
                    return ""
                if descriptor[0] == 1:
                    return shown(descriptor[40:72].decode("latin-1").strip(" \x00"))
    except OSError:
        return ""
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


def extract_image(image: Path, target: Path) -> Extraction:
    """Extract the files of ``image`` under ``target`` (created if needed), in this process.

    Without the bounds of :func:`extract_image_to_temp`: the reader child
    runs this, and the tests.

    Raises
    ------
    NoDicomError
        If the image cannot be opened as ISO 9660 / UDF.
    OSError
        If ``target`` cannot be written (full, read-only): a local failure.
    """
    result = _extract(image, target, None)
    _log_problems(image, result.problems)
    return result


def _extract(image: Path, target: Path, emit: _Emit | None) -> Extraction:
    """:func:`extract_image`, telling ``emit`` each file and problem as it comes."""
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
            out = _Extractor(tree, size, target, emit)
            out.run()
            result = out.result
        finally:
            _close(iso)
    return result


def _log_problems(image: Path, problems: list[Problem]) -> None:
    for problem in problems:
        log.info(
            "disc image %s: %s %s: %s",
            shown(image.name),
            problem.code,
            problem.path,
            problem.message,
        )


def extract_image_to_temp(image: Path) -> Extraction:
    """Extract ``image`` into a new temporary folder (caller removes ``folder``).

    The reading is done by a child process within :func:`reader_limits` (see
    the module's docstring); a bound passed or a child that died is an
    ``image-too-complex`` problem, and the files written before are kept.

    Raises
    ------
    NoDicomError
        If the image cannot be opened as ISO 9660 / UDF, or the reader stopped
        before it wrote any file.
    OSError
        If the image cannot be read or the temporary folder written: a local failure.
    """
    sweep_stale_extractions()
    folder = new_extraction_folder()
    try:
        extraction = _extract_in_reader(image, folder)
    except BaseException:
        remove_tree(folder)
        raise
    faults.point("iso.extracted")  # the crash tests: killed while it holds the files
    return extraction


def reader_limits() -> tuple[int, float]:
    """The reader's bounds: (address space in bytes, wall-clock seconds).

    :data:`MEMORY_LIMIT` and :data:`TIME_LIMIT`, or ``KIOSK_ISO_MEMORY``
    (MiB) and ``KIOSK_ISO_SECONDS`` when they are set to a positive number.
    """
    memory = _setting(MEMORY_VARIABLE, MEMORY_LIMIT / _MiB)
    seconds = _setting(TIME_VARIABLE, TIME_LIMIT)
    return max(1, int(memory * _MiB)), seconds


def _setting(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        log.warning("%s=%s is not a positive number; %g is used", name, shown(text)[:40], default)
        return default
    return value


def _extract_in_reader(image: Path, folder: Path) -> Extraction:
    """Run the reader child on ``image`` into ``folder``, within the bounds; see the docstring."""
    memory, seconds = reader_limits()
    size = image.stat().st_size
    command = [
        sys.executable,
        "-I",
        "-B",
        "-c",
        _READER,
        _PACKAGE_ROOT,
        os.fspath(image),
        os.fspath(folder),
        "0" if sys.platform == "win32" else str(memory),
    ]
    report = _Report(REPORT_LIMIT)
    timed_out = False
    deadline = time.monotonic() + seconds
    with subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as child:
        try:
            report.start(child)
            # The end of its stdout is the reader's end: waited for on a lock, not by
            # Popen.wait(timeout), which polls at up to 50 ms intervals.
            if report.read_until(deadline):
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            else:
                timed_out = True
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            if child.poll() is None:
                child.kill()
                child.wait()
            report.join()
    for note in report.notes:  # info: the one line of an exit 3 stays one line
        log.info("disc image %s: %s", shown(image.name), note)
    if report.refused is not None:
        raise NoDicomError(report.refused)
    if report.local is not None:
        raise report.local
    result = Extraction(
        folder=folder,
        files=report.files,
        problems=report.problems,
        bytes_written=report.bytes_written,
        image_size=size,
    )
    if not report.ended:
        why = _why_stopped(report, child.returncode, timed_out, memory, seconds)
        tail = report.last_error_line()
        log.info(  # the problem, or the NoDicomError, says it where it is seen
            "disc image %s: reading stopped, %s%s",
            shown(image.name),
            why,
            f" (the reader said: {tail})" if tail else "",
        )
        if not result.files:
            raise NoDicomError(
                f"{shown(str(image))} cannot be read safely ({ProblemCode.IMAGE_TOO_COMPLEX}: "
                f"{why}; nothing was extracted); check the file or burn it to a disc"
            )
        result.problems.append(
            Problem(
                ProblemCode.IMAGE_TOO_COMPLEX,
                "",
                f"{why} (an image of too many entries, damaged, or made to hurt); reading "
                f"stopped there: the {len(result.files)} files extracted before are read, "
                "the rest of the image is not",
            )
        )
    _log_problems(image, result.problems)
    return result


def _why_stopped(report: _Report, code: int, timed_out: bool, memory: int, seconds: float) -> str:
    if timed_out:
        return f"reading the image took longer than {seconds:g} s"
    if report.too_big:
        return f"the list of its files and problems passed {REPORT_LIMIT / _MiB:g} MiB"
    if report.memory or code == _MEMORY_EXIT:
        if sys.platform == "win32" or report.notes:  # no bound was set: the system's memory
            return "reading the image ran out of memory"
        return f"reading the image needed more than {memory / _MiB:g} MiB of memory"
    if report.crash:
        return f"its reader failed ({report.crash})"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = str(-code)
        return f"its reader was stopped by the system (signal {name})"
    return f"its reader stopped with exit code {code}"


class _Report:
    """What the reader says: its stdout, line by line as it comes (bounded); its stderr's end."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.files: list[str] = []
        self.problems: list[Problem] = []
        self.bytes_written = 0
        self.ended = False
        self.refused: str | None = None
        self.local: OSError | None = None
        self.memory = False
        self.crash = ""
        self.notes: list[str] = []
        self.too_big = False
        self.stderr = b""
        self._threads: list[threading.Thread] = []

    def start(self, child: subprocess.Popen[bytes]) -> None:
        assert child.stdout is not None and child.stderr is not None
        self._threads = [
            threading.Thread(target=self._read, args=(child, child.stdout), daemon=True),
            threading.Thread(target=self._read_stderr, args=(child.stderr,), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def read_until(self, deadline: float) -> bool:
        """Wait until the reader's stdout ends (True) or ``deadline`` passes (False)."""
        reading = self._threads[0]
        reading.join(max(0.0, deadline - time.monotonic()))
        return not reading.is_alive()

    def join(self) -> None:
        for thread in self._threads:
            thread.join(_JOIN_SECONDS)  # the reader is gone: its pipes are at their end

    def last_error_line(self) -> str:
        lines = self.stderr.decode("utf-8", "replace").strip().splitlines()
        return shown(lines[-1])[:200] if lines else ""

    def _read(self, child: subprocess.Popen[bytes], stream: IO[bytes]) -> None:
        left = self.limit
        while line := stream.readline(left + 1):
            left -= len(line)
            if left < 0:
                self.too_big = True
                with contextlib.suppress(OSError):
                    child.kill()
                return
            if line.endswith(b"\n"):  # not the last line of a reader that was stopped
                self._take(line)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        while chunk := os.read(stream.fileno(), 65536):
            self.stderr = (self.stderr + chunk)[-_STDERR_TAIL:]

    def _take(self, line: bytes) -> None:
        try:
            item = json.loads(line)
            kind = item[0]
            if kind == "f":
                self.files.append(str(item[1]))
                self.bytes_written += int(item[2])
            elif kind == "p":
                self.problems.append(Problem(ProblemCode(item[1]), str(item[2]), str(item[3])))
            elif kind == "end":
                self.ended = True
            elif kind == "refused":
                self.refused = str(item[1])
            elif kind == "local":
                number, reason, filename = item[1], str(item[2]), item[3]
                self.local = (
                    OSError(number, reason)
                    if filename is None
                    else OSError(number, reason, filename)
                )
            elif kind == "memory":
                self.memory = True
            elif kind == "crash":
                self.crash = shown(str(item[1]))[:200]
            elif kind == "note":
                self.notes.append(shown(str(item[1]))[:200])
        except (ValueError, TypeError, IndexError, KeyError):
            log.debug("a line of the disc image reader was not understood")


# --- the reader: the child's side -----------------------------------------------------------


def _reader_main(argv: list[str]) -> int:
    """Extract ``argv[0]`` into the folder ``argv[1]`` within ``argv[2]`` bytes (0: no limit).

    Run in the child by :func:`extract_image_to_temp`; reports on stdout, one
    JSON array a line, as it goes.
    """
    image, target, memory = Path(argv[0]), Path(argv[1]), int(argv[2])
    out = sys.stdout.buffer

    def emit(item: list[Any]) -> None:
        out.write(json.dumps(item, separators=(",", ":")).encode("ascii") + b"\n")
        out.flush()
        if item[0] == "f":
            faults.point("iso-reader-file")  # the crash tests: a reader that dies midway

    if memory > 0:
        note = _limit_memory(memory)
        if note:
            emit(["note", note])
    try:
        _extract(image, target, emit)
    except NoDicomError as exc:
        emit(["refused", str(exc)])
        return 0
    except MemoryError:
        with contextlib.suppress(Exception):  # what the stack held is free again
            emit(["memory"])
        return _MEMORY_EXIT
    except OSError as exc:
        name = exc.filename
        filename = name if name is None or isinstance(name, str) else os.fsdecode(name)
        emit(["local", exc.errno, exc.strerror or str(exc), filename])
        return 0
    except Exception as exc:
        emit(["crash", _reason(exc)])
        return 1
    emit(["end"])
    return 0


def _limit_memory(memory: int) -> str:
    """Bound this process's address space to ``memory`` bytes; "" or why it could not be."""
    if sys.platform == "win32":
        return "Windows has no RLIMIT_AS: only the time bound holds"
    try:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            memory = min(memory, hard)
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError) as exc:
        return f"the memory bound could not be set ({_reason(exc)}): only the time bound holds"
    return ""


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

    def folder_key(self, folder: Any) -> int:
        """What tells a folder from any other: where its record (UDF: File Entry) lies."""
        return int(folder.extent_location())

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
    def __init__(
        self, tree: _Tree, image_size: int, target: Path, emit: _Emit | None = None
    ) -> None:
        self.tree = tree
        self.emit = emit
        self.data = tree.data
        self.size = image_size
        self.root = target
        self.result = Extraction(folder=target, image_size=image_size)
        self.first: dict[tuple[tuple[int, int], ...], tuple[str, Path]] = {}
        self.names: dict[tuple[tuple[int, int], ...], list[str]] = {}
        self.stopped_at = ""
        self.left = 0
        self.folders: set[int] = set()
        """The folders walked into, by their extent (a loop's second visit is refused)."""
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
        with contextlib.suppress(*_GARBLED):
            self.folders.add(self.tree.folder_key(self.tree.root))
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
                if node.kind == "dir" and not self._new_folder(node, rel, len(parts) + 1):
                    continue
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

    def _new_folder(self, node: _Node, rel: str, depth: int) -> bool:
        """Whether to walk into this folder: not one met before (a loop), nor too deep."""
        try:
            key = self.tree.folder_key(node.record)
        except _GARBLED as exc:
            self._problem(ProblemCode.IMAGE_ENTRY_DAMAGED, rel, _why(exc, "a folder"))
            return False
        if key in self.folders:
            self._problem(
                ProblemCode.IMAGE_ENTRY_DAMAGED,
                rel,
                "a link to a folder the image holds at another place (a loop, damaged or made "
                "to hurt); the folder is extracted there only, here it was left out",
            )
            return False
        if depth > MAX_FOLDER_DEPTH:
            self._problem(
                ProblemCode.IMAGE_ENTRY_DAMAGED,
                rel,
                f"a folder nested deeper than {MAX_FOLDER_DEPTH} levels (damaged or made to "
                "hurt); it and its files were left out",
            )
            return False
        self.folders.add(key)
        return True

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
        self._wrote(rel, written)
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
        added = 0
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
            added = size
        self._wrote(rel, added)
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

    def _wrote(self, rel: str, size: int) -> None:
        self.result.bytes_written += size
        self.result.files.append(rel)
        if self.emit is not None:
            self.emit(["f", rel, size])

    def _problem(self, code: ProblemCode, rel: str, message: str) -> None:
        problem = Problem(code, rel, message)
        self.result.problems.append(problem)
        if self.emit is not None:
            self.emit(["p", str(problem.code), problem.path, problem.message])


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
