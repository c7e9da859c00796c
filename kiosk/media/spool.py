"""Copy files from a medium into the local spool, verified by SHA-256.

Each file is hashed while it is read from the medium, written under a
temporary name, read back and hashed again, and only then renamed into
place. The copy on the medium is never modified.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import SpoolError
from kiosk.paths import private_opener

_CHUNK = 1 << 20
_HAS_FADVISE = hasattr(os, "posix_fadvise")
_HAS_SYNC = hasattr(os, "sync")
_buffers = threading.local()


@dataclass(frozen=True)
class SpooledFile:
    """A file copied into the spool."""

    source: Path
    target: Path
    sha256: str
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


def fsync_dir(folder: Path) -> None:
    """Flush a folder's entries (new and renamed files) to the disk, where the OS allows it."""
    if os.name != "posix":
        return  # Windows has no directory handles to fsync; NTFS journals renames itself
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _buffer() -> memoryview:
    """This thread's reusable chunk buffer (no allocation per chunk or per file)."""
    view: memoryview | None = getattr(_buffers, "view", None)
    if view is None:
        view = memoryview(bytearray(_CHUNK))
        _buffers.view = view
    return view


def _hash_file(path: Path) -> tuple[str, int]:
    """Return the hex SHA-256 and the size of a file, read in chunks."""
    digest = hashlib.sha256()
    view = _buffer()
    size = 0
    with path.open("rb", buffering=0) as fh:
        while n := fh.readinto(view):
            digest.update(view[:n])
            size += n
    return digest.hexdigest(), size


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    return _hash_file(path)[0]


def copy_verified(
    source: Path,
    target: Path,
    on_bytes: Callable[[int], None] | None = None,
    *,
    fsync: bool = True,
    made: set[Path] | None = None,
) -> SpooledFile:
    """Copy one file and verify the written copy against the hash of what was read.

    ``on_bytes`` is called with the size of each chunk as it is written.
    ``fsync=False`` leaves flushing to the caller (one ``os.sync`` for many
    files is much cheaper than one ``fsync`` per file; see :func:`flush_to_disk`).
    ``made``: folders known to exist (no ``mkdir`` for each file into them).

    Raises
    ------
    SpoolError
        If the medium cannot be read, the spool cannot be written, or the
        copy does not match.
    """
    tmp, expected, size = _write_part(source, target, on_bytes, fsync, made)
    return _verify_part(source, tmp, target, expected(), size)


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


def _write_part(
    source: Path,
    target: Path,
    on_bytes: Callable[[int], None] | None,
    fsync: bool,
    made: set[Path] | None = None,
) -> tuple[Path, Callable[[], str], int]:
    """Copy ``source`` to ``target.part``, hashing what is read; return (part, sha256, size)."""
    if made is None or target.parent not in made:
        target.parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(target.parent)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    view = _buffer()
    size = 0
    try:
        # Unbuffered: each chunk is read straight into a buffer, hashed, and
        # written from it (no copy through Python's buffers, no allocation).
        with (
            source.open("rb", buffering=0) as src,
            open(tmp, "wb", buffering=0, opener=private_opener) as dst,  # PHI: 0600
        ):
            if _HAS_FADVISE:
                with contextlib.suppress(OSError):  # read-ahead hint only
                    os.posix_fadvise(src.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            while n := src.readinto(view):
                chunk = view[:n]
                digest.update(chunk)
                written = 0
                while written < n:
                    written += dst.write(chunk[written:]) or 0
                size += n
                if on_bytes is not None:
                    on_bytes(n)
            if fsync:
                os.fsync(dst.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        advice = (
            "free space on the spool disk"
            if exc.errno == errno.ENOSPC
            else "check the disc and the spool"
        )
        raise SpoolError(
            f"copying {source.name} failed ({exc.strerror}); {advice}, then import again"
        ) from exc
    return tmp, digest.hexdigest, size


def _verify_part(
    source: Path,
    tmp: Path,
    target: Path,
    expected: str,
    size: int,
) -> SpooledFile:
    """Hash the written copy; only a copy equal to what was read is renamed into place."""
    try:
        actual, actual_size = _hash_file(tmp)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpoolError(f"the copy of {source.name} cannot be read back ({exc.strerror})") from exc
    if actual != expected or actual_size != size:
        tmp.unlink(missing_ok=True)
        raise SpoolError(
            f"the copy of {source.name} does not match the disc (checksum); import again"
        )
    os.replace(tmp, target)
    return SpooledFile(source=source, target=target, sha256=expected, size=size)


def check_free_space(folder: Path, needed: int) -> None:
    """Raise SpoolError unless ``folder`` has room for ``needed`` bytes (plus 5 %)."""
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if free < needed * 1.05:
        raise SpoolError(
            f"the spool {folder} has {free // 2**20} MB free but the copy needs "
            f"{needed // 2**20} MB; free space or move the spool, then import again"
        )
