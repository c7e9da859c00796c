"""Copy files from a medium into the local spool, with a checksum of what was read.

Each file is hashed while it is read from the medium (:mod:`kiosk.digest`)
and written from the same buffer. It is made durable (:class:`Flusher`)
before the database names it, and checked against its digest again before
it is sent: a file a crash cut short is never taken for a copy, and is
written again when the import resumes. A new file is written under its own
name (a temporary name and a rename cost a second directory change per
file, about a third of a small file's copy); a file already in the spool is
replaced whole, through a temporary name, so that a sender reading it
meanwhile keeps the old one. The copy on the medium is never modified.

The written copy is not read back: just written, it would be read from the
page cache, not from the disk, and prove nothing the write did not. What the
disk really holds is checked before each send, from the disk after a restart.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import FileIO
from pathlib import Path
from typing import cast

from kiosk import digest
from kiosk.errors import SpoolError
from kiosk.media.disc_files import open_disc_file
from kiosk.paths import fsync_dir, private_opener

_HAS_FADVISE = hasattr(os, "posix_fadvise")
_HAS_SYNC = hasattr(os, "sync")


@dataclass(frozen=True)
class SpooledFile:
    """A file copied into the spool."""

    source: Path
    target: Path
    digest: str  # kiosk.digest's, of the bytes read from the medium
    size: int


def spool_path(root: Path, *parts: str) -> Path:
    """Return ``root/parts...``, refusing any result that does not resolve inside ``root``.

    Spool names come from our own ids, never from a disc; this is the check
    that keeps a bug (or a hostile value that slipped through) from writing
    anywhere else.

    Raises
    ------
    SpoolError
        If the path would leave ``root``.
    """
    for part in parts:
        if not part or part in (".", "..") or "/" in part or "\\" in part or "\0" in part:
            raise SpoolError(f"refused to write outside the spool: bad name {part!r}")
    path = root.joinpath(*parts)
    if not path.resolve().is_relative_to(root.resolve()):
        raise SpoolError(f"refused to write outside the spool {root}: {path}")
    return path


def study_folder(root: Path, study_id: int) -> Path:
    """The spool folder of the study with that internal id (named by our id, nothing else)."""
    return spool_path(root, f"study-{study_id:06d}")


def copy_checksummed(
    source: Path,
    target: Path,
    on_bytes: Callable[[int], None] | None = None,
    *,
    fsync: bool = True,
    made: set[Path] | None = None,
) -> SpooledFile:
    """Copy one file into the spool; return it with the digest of what was read.

    ``on_bytes`` is called with the size of each chunk as it is written.
    ``fsync=False`` leaves flushing to the caller (one ``os.sync`` for many
    files is much cheaper than one ``fsync`` per file; see :func:`flush_to_disk`).
    ``made``: folders known to exist (no ``mkdir`` for each file into them).

    Raises
    ------
    SpoolError
        If the medium cannot be read or the spool cannot be written.
    """
    if made is None or target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(target.parent)
    try:
        checksum, size = _write(source, target, on_bytes, fsync, new=True)
    except FileExistsError:
        part = target.with_name(target.name + ".part")
        checksum, size = _write(source, part, on_bytes, fsync, new=False)
        try:
            os.replace(part, target)
        except OSError as exc:
            part.unlink(missing_ok=True)
            raise SpoolError(
                f"cannot put the copy of {source.name} in place ({exc.strerror}); "
                "check the spool disk, then import again"
            ) from exc
    return SpooledFile(source=source, target=target, digest=checksum, size=size)


class Flusher:
    """Makes the copies of one import durable, batch by batch, and says if a write failed.

    On Linux 5.8 and later one ``syncfs`` of the spool's file system per batch:
    it writes the batch's data and the folder entries (one journal commit),
    and reports any write-back error on that file system since the last call
    (the kernel keeps one error sequence per file system; the folder handle,
    opened before the first file is written, samples it). That replaces an
    ``fsync`` per file, which costs a journal round even with nothing left to
    write (about 70 us a file here, a fifth of a small file's copy). Elsewhere
    :func:`flush_to_disk` and a folder ``fsync``.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd = os.open(folder, os.O_RDONLY) if _syncfs_reports_errors() else None
        self._failed = ""

    def flush(self, paths: Sequence[Path]) -> None:
        """Make ``paths`` (written with ``fsync=False`` into the folder) and their entries durable.

        Once a flush failed, every later one fails too: the kernel reports a
        write-back error once, and a file whose pages it could not write is
        not on the disk, whatever a second flush says.

        Raises
        ------
        SpoolError
            If a write to the spool's file system failed since the last flush.
        """
        if self._failed:
            raise SpoolError(self._failed)
        try:
            self._flush(paths)
        except SpoolError as exc:
            self._failed = str(exc)
            raise

    def _flush(self, paths: Sequence[Path]) -> None:
        if self._fd is None:
            flush_to_disk(paths)
            try:
                fsync_dir(self.folder)
            except OSError as exc:
                raise SpoolError(f"cannot flush {self.folder} ({exc.strerror})") from exc
            return
        if paths and _syncfs is not None and _syncfs(self._fd) != 0:
            code = ctypes.get_errno()
            raise SpoolError(
                f"writing to the spool disk failed ({os.strerror(code)}); "
                "check the spool disk, then import again"
            )

    def close(self) -> None:
        """Let the folder go."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _syncfs_reports_errors() -> bool:
    """Whether ``syncfs`` is there and reports write-back errors (Linux 5.8 and later)."""
    if _syncfs is None:
        return False
    try:
        major, minor = (int(x) for x in os.uname().release.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (5, 8)


def _libc_syncfs() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return cast("Callable[[int], int]", libc.syncfs)
    except (OSError, AttributeError):
        return None


_syncfs = _libc_syncfs()


def flush_to_disk(paths: Sequence[Path]) -> None:
    """Make files copied with ``fsync=False`` (and their folder entries) durable.

    One ``os.sync`` where the OS has it: a single journal commit and cache
    flush for the whole batch, where an ``fsync`` per file costs one each
    (about 10 ms apiece on a real disk, the most of a small file's copy).
    ``sync`` reports no error, so each file is then ``fsync``-ed all the
    same: with nothing left to write that costs a system call, and it
    reports a write-back error the kernel recorded for the file (a disk
    that failed under the copy), which is then not taken as copied.

    Raises
    ------
    SpoolError
        If a file cannot be flushed.
    """
    if _HAS_SYNC:
        os.sync()
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SpoolError(
                f"cannot flush {path.name} to the spool disk ({exc.strerror}); "
                "check the spool disk, then import again"
            ) from exc


def _disc_opener(path: str, _flags: int) -> int:
    """An ``opener`` for :func:`open`: a disc file opened as the scan opens it
    (:func:`~kiosk.media.fastheader.open_disc_file`)."""
    return open_disc_file(path)[0]


def _write(
    source: Path,
    target: Path,
    on_bytes: Callable[[int], None] | None,
    fsync: bool,
    *,
    new: bool,
) -> tuple[str, int]:
    """Copy ``source`` to ``target``, hashing what is read; return (digest, size).

    ``new``: ``target`` must not exist yet (``FileExistsError`` if it does).
    """
    checksum = digest.Digest()
    view = digest.chunk_buffer()
    size = 0
    written_to = False  # whether ``target`` is ours (to delete when the copy fails)
    try:
        # Unbuffered: each chunk is read straight into a buffer, hashed, and
        # written from it (no copy through Python's buffers, no allocation).
        with open(source, "rb", buffering=0, opener=_disc_opener) as src:
            # PHI: 0600. "x": a new file must not exist yet.
            dst = open(target, "xb" if new else "wb", buffering=0, opener=private_opener)  # noqa: SIM115
            written_to = True
            with dst:
                size = _copy_open(src, dst, view, checksum, on_bytes)
                if fsync:
                    os.fsync(dst.fileno())
    except OSError as exc:
        if isinstance(exc, FileExistsError) and not written_to:
            raise  # ``new`` and a file is there: not ours to delete; the caller replaces it
        if written_to:
            target.unlink(missing_ok=True)
        advice = (
            "free space on the spool disk"
            if exc.errno == errno.ENOSPC
            else "check the disc and the spool"
        )
        raise SpoolError(
            f"copying {source.name} failed ({exc.strerror}); {advice}, then import again"
        ) from exc
    return checksum.text(), size


def _copy_open(
    src: FileIO,
    dst: FileIO,
    view: memoryview,
    checksum: digest.Digest,
    on_bytes: Callable[[int], None] | None,
) -> int:
    """Copy an open file to another through ``view``, hashing it; return the bytes copied."""
    if _HAS_FADVISE:
        with contextlib.suppress(OSError):  # read-ahead hint only
            os.posix_fadvise(src.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
    size = 0
    while n := src.readinto(view):
        chunk = view[:n]
        checksum.update(chunk)
        written = 0
        while written < n:
            written += dst.write(chunk[written:]) or 0
        size += n
        if on_bytes is not None:
            on_bytes(n)
    return size


def check_free_space(folder: Path, needed: int) -> None:
    """Raise SpoolError unless ``folder`` has room for ``needed`` bytes (plus 5 %)."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed * 1.05:
        raise SpoolError(
            f"the spool {folder} has {free // 2**20} MB free but the copy needs "
            f"{needed // 2**20} MB; free space or move the spool, then import again"
        )
