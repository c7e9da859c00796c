"""Copy files from a medium into the local spool, verified by SHA-256.

Each file is hashed while it is read from the medium, written under a
temporary name, read back and hashed again, and only then renamed into
place. The copy on the medium is never modified.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.errors import SpoolError
from kiosk.paths import private_opener

_CHUNK = 1 << 20
_HAS_SYNC = hasattr(os, "sync")
_HAS_FADVISE = hasattr(os, "posix_fadvise")
_FLUSH_EVERY = 16 << 20  # bytes between background syncs during a medium's copy
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


class _Flusher:
    """Runs ``os.sync`` on its own thread each time ``every`` more bytes were written.

    The disk (and any write cache behind it) then stores the copy while the
    next files are read and hashed, instead of all of it at the final
    ``os.sync``, which is what decides when the copy is complete. This one
    guarantees nothing by itself. ``every=0`` turns it off.
    """

    def __init__(self, every: int) -> None:
        self.every = every
        self.pending = 0
        self.wake = threading.Event()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name="spool-flush", daemon=True)

    def __enter__(self) -> _Flusher:
        if self.every:
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.every:
            self.stopping = True
            self.wake.set()
            self.thread.join()

    def wrote(self, n: int) -> None:
        """Count ``n`` bytes written; wake the flusher after each ``every`` bytes."""
        self.pending += n
        if self.every and self.pending >= self.every:
            self.pending = 0
            self.wake.set()

    def _run(self) -> None:
        while True:
            self.wake.wait()
            self.wake.clear()
            if self.stopping:
                return
            os.sync()


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
    Elsewhere each file is fsynced.

    Raises
    ------
    SpoolError
        If a file cannot be flushed.
    """
    if _HAS_SYNC:
        os.sync()
        return
    for path in paths:
        try:
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise SpoolError(f"cannot flush {path.name} to disk ({exc.strerror})") from exc


class _Chunks:
    """Buffers whose chunks a helper thread hashes while this thread writes them.

    The helper has one worker, so it runs tasks in the order they were
    submitted: a file's hash is complete when a task submitted after its last
    chunk runs. A buffer is read into again only after its hash task is done.
    """

    def __init__(self, helper: ThreadPoolExecutor, count: int = 8) -> None:
        self.helper = helper
        self.views = [memoryview(bytearray(_CHUNK)) for _ in range(count)]
        self.busy: list[Future[None] | None] = [None] * count
        self.next = 0

    def take(self) -> tuple[int, memoryview]:
        """Return a free buffer (waiting for the hash of what it held before)."""
        slot = self.next
        self.next = (slot + 1) % len(self.views)
        busy = self.busy[slot]
        if busy is not None:
            busy.result()
        return slot, self.views[slot]

    def hash(self, slot: int, digest: Any, chunk: memoryview) -> None:
        """Hash ``chunk`` (held in buffer ``slot``) on the helper thread."""
        self.busy[slot] = self.helper.submit(digest.update, chunk)

    def drain(self) -> None:
        """Wait until no buffer is being hashed."""
        for busy in self.busy:
            if busy is not None:
                busy.result()
        self.busy = [None] * len(self.views)


def _write_part(
    source: Path,
    target: Path,
    on_bytes: Callable[[int], None] | None,
    fsync: bool,
    made: set[Path] | None = None,
    chunks: _Chunks | None = None,
) -> tuple[Path, Callable[[], str], int]:
    """Copy ``source`` to ``target.part``, hashing what is read; return (part, sha256, size).

    ``made`` holds folders already created (saves a ``mkdir`` per file). With
    ``chunks`` the hashing runs on their helper thread, and the returned
    ``sha256()`` may be called only by a task submitted to it afterwards.
    """
    parent = target.parent
    if made is None or parent not in made:
        parent.mkdir(parents=True, exist_ok=True)
        if made is not None:
            made.add(parent)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    slot, view = chunks.take() if chunks is not None else (0, _buffer())
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
                if chunks is None:
                    digest.update(chunk)
                else:
                    chunks.hash(slot, digest, chunk)
                written = 0
                while written < n:
                    written += dst.write(chunk[written:]) or 0
                size += n
                if on_bytes is not None:
                    on_bytes(n)
                if chunks is not None:
                    slot, view = chunks.take()
            if fsync:
                os.fsync(dst.fileno())
    except OSError as exc:
        if chunks is not None:
            chunks.drain()
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
    expected: str | Callable[[], str],
    size: int,
) -> SpooledFile:
    """Hash the written copy; only a copy equal to what was read is renamed into place."""
    if not isinstance(expected, str):
        expected = expected()
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


def copy_many(
    pairs: Iterable[tuple[Path, Path]],
    progress: Callable[[int, int], None] | None = None,
) -> list[SpooledFile]:
    """Copy several files with :func:`copy_verified`, reporting (files done, bytes done)."""
    pairs = list(pairs)
    needed = sum(source.stat().st_size for source, _ in pairs)
    check_free_space(pairs[0][1].parent if pairs else Path("."), needed)
    done: list[SpooledFile] = []
    total_bytes = 0
    for source, target in pairs:
        spooled = copy_verified(source, target)
        done.append(spooled)
        total_bytes += spooled.size
        if progress is not None:
            progress(len(done), total_bytes)
    return done


# --- copying a whole medium, resumable ----------------------------------------------------

MANIFEST = "manifest.json"
JOURNAL = "journal.jsonl"
FILES = "files"


class CopyState(StrEnum):
    """Where a medium's copy in the spool stands."""

    INCOMPLETE = "incomplete"
    COMPLETE = "complete"


@dataclass(frozen=True)
class Progress:
    """How far a copy is: files, bytes, and an estimate of the time left."""

    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    elapsed: float
    seconds_left: float | None

    def to_json(self) -> dict[str, Any]:
        """Return a JSON form (for the CLI and the app's progress bar)."""
        return {
            "files_done": self.files_done,
            "files_total": self.files_total,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "elapsed": round(self.elapsed, 3),
            "seconds_left": None if self.seconds_left is None else round(self.seconds_left, 1),
        }


@dataclass(frozen=True)
class MediumCopy:
    """A medium copied (completely) into the spool."""

    folder: Path
    fingerprint: str
    files: dict[str, SpooledFile]
    resumed: int  # files found already verified from an earlier, interrupted copy

    @property
    def state(self) -> CopyState:
        """Always ``complete``: an incomplete copy raises instead of returning."""
        return CopyState.COMPLETE


def copy_folder_for(spool_dir: Path, fingerprint: str) -> Path:
    """The spool folder of a medium: the same disc always lands in the same folder."""
    return spool_dir / "media" / fingerprint[:24]


def copy_state(folder: Path) -> CopyState | None:
    """The state recorded in a medium's spool folder, or None if nothing was started there."""
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    state = doc.get("state")
    return CopyState(state) if state in {s.value for s in CopyState} else None


def copy_medium(
    root: Path,
    relpaths: Sequence[str],
    folder: Path,
    fingerprint: str,
    progress: Callable[[Progress], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> MediumCopy:
    """Copy files of a medium into ``folder``, resuming an interrupted copy of the same medium.

    Every file is verified by SHA-256 after writing and recorded in a journal
    only then; the folder's manifest says ``incomplete`` until the last file is
    verified. Re-run with the same medium (same ``fingerprint``) after a
    failure: files already verified are checked against the journal and kept,
    the rest are copied. Files keep their relative paths, byte for byte.

    Raises
    ------
    SpoolError
        If there is not enough free space, the folder holds a copy of another
        medium, or the medium could not be read (e.g. pulled out): the folder is
        then left ``incomplete`` and the message says how to resume.
    """
    started = clock()
    manifest = _read_manifest(folder)
    if manifest and manifest.get("fingerprint") != fingerprint:
        raise SpoolError(
            f"{folder} holds a copy of another disc; choose another spool folder or remove it"
        )
    for rel in relpaths:
        if rel.startswith("/") or ".." in rel.split("/"):
            raise SpoolError(f"{rel} is not a path on the medium; the copy was refused")
    done = _read_journal(folder) if manifest else {}
    sizes = {rel: (root / rel).stat().st_size for rel in relpaths if rel not in done}
    total_bytes = sum(sizes.values()) + sum(done[r].size for r in relpaths if r in done)
    check_free_space(folder, sum(sizes.values()))
    _write_manifest(folder, fingerprint, CopyState.INCOMPLETE, len(relpaths))
    result: dict[str, SpooledFile] = {}
    resumed = 0
    bytes_done = 0
    session_bytes = 0
    for rel in relpaths:
        earlier = done.get(rel)
        target = folder / FILES / rel
        if earlier is not None and _still_good(target, earlier):
            result[rel] = SpooledFile(root / rel, target, earlier.sha256, earlier.size)
            resumed += 1
            bytes_done += earlier.size
            continue
    counted = bytes_done

    def report() -> None:
        if progress is None:
            return
        elapsed = clock() - started
        left = total_bytes - counted - session_bytes
        rate = session_bytes / elapsed if elapsed > 0 and session_bytes else 0.0
        progress(
            Progress(
                files_done=len(result),
                files_total=len(relpaths),
                bytes_done=counted + session_bytes,
                bytes_total=total_bytes,
                elapsed=elapsed,
                seconds_left=(left / rate) if rate else None,
            )
        )

    made: set[Path] = set()  # folders created in the spool so far

    flusher = _Flusher(_FLUSH_EVERY if _HAS_SYNC else 0)

    def grew(n: int) -> None:
        nonlocal session_bytes
        session_bytes += n
        flusher.wrote(n)

    report()
    # The medium is read once, in order, by this thread, which writes each chunk
    # while a helper thread hashes it; the helper then reads back and hashes each
    # written file while the next one is read. Only a copy whose read-back hash
    # equals the hash of what was read is kept.
    pending: tuple[str, Future[SpooledFile]] | None = None
    with (
        (folder / JOURNAL).open("a", encoding="utf-8") as journal,
        ThreadPoolExecutor(1, thread_name_prefix="spool-verify") as verifier,
        flusher,
    ):
        chunks = _Chunks(verifier)

        def settle() -> None:
            nonlocal pending
            if pending is None:
                return
            rel, future = pending
            pending = None
            spooled = future.result()
            journal.write(
                json.dumps({"path": rel, "sha256": spooled.sha256, "size": spooled.size}) + "\n"
            )
            journal.flush()  # durable with the files at the end; a resume re-hashes anyway
            result[rel] = spooled
            report()

        try:
            for rel in relpaths:
                if rel in result:
                    continue
                target = folder / FILES / rel
                tmp, sha, size = _write_part(root / rel, target, grew, not _HAS_SYNC, made, chunks)
                try:
                    settle()
                except SpoolError:
                    tmp.unlink(missing_ok=True)  # the previous copy failed its check: stop here
                    raise
                pending = (
                    rel,
                    verifier.submit(_verify_part, root / rel, tmp, target, sha, size),
                )
            settle()
        except SpoolError as exc:
            with contextlib.suppress(SpoolError):
                settle()  # a file read completely before the failure is still kept
            raise SpoolError(
                f"the copy stopped ({exc}); {len(result)} of {len(relpaths)} files "
                "are safe in the spool; insert the same disc again to resume"
            ) from exc
    if _HAS_SYNC:
        os.sync()  # every copied file and the journal on disk before "complete"
    _write_manifest(folder, fingerprint, CopyState.COMPLETE, len(relpaths))
    return MediumCopy(folder, fingerprint, result, resumed)


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise SpoolError(f"{folder / MANIFEST} is damaged ({exc}); remove the folder") from exc
    return doc if isinstance(doc, dict) else None


def _write_manifest(folder: Path, fingerprint: str, state: CopyState, files: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (MANIFEST + ".part")
    doc = {"fingerprint": fingerprint, "state": state.value, "files": files}
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(doc, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / MANIFEST)


@dataclass(frozen=True)
class _Journaled:
    sha256: str
    size: int


def _read_journal(folder: Path) -> dict[str, _Journaled]:
    """Files verified by an earlier run; a torn last line (crash while writing) is ignored."""
    out: dict[str, _Journaled] = {}
    try:
        lines = (folder / JOURNAL).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return out
    for line in lines:
        try:
            row = json.loads(line)
            out[str(row["path"])] = _Journaled(str(row["sha256"]), int(row["size"]))
        except (ValueError, KeyError, TypeError):
            continue
    return out


def _still_good(target: Path, earlier: _Journaled) -> bool:
    """A file copied before is kept only if it is still there with the same content."""
    try:
        if target.stat().st_size != earlier.size:
            return False
        return sha256_of(target) == earlier.sha256
    except OSError:
        return False
