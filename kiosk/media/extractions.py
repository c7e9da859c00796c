"""Where extracted disc images live: folders named by their process, removed without recursion.

An ``.iso`` is read into a temporary folder (:mod:`kiosk.media.iso`); its files
are the patient's. The process that made a folder holds an exclusive ``flock``
on a lock file beside it (``FOLDER.lock``) for as long as it uses it, so that
the folder of a process killed while it held one (``kill -9``, a power cut) is
removed by a later kiosk process (:func:`sweep_stale_extractions`, run before
each extraction and by the recovery sweep of ``kiosk send`` and the app): the
kernel lets the lock go with the process. A lock, unlike a pid, means the same
in every PID namespace (a kiosk in a container sharing the temporary folder).
Where there is no ``flock`` (Windows) the folder's name (pid and start time)
decides. Kept apart from the reader so that the send path's start-up does not
load pycdlib for the sweep.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from pathlib import Path

import psutil

from kiosk.media.names import shown

log = logging.getLogger(__name__)


try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

_held: dict[str, int] = {}  # folder -> the descriptor of its lock, held by this process


def new_extraction_folder() -> Path:
    """A new private temporary folder for an extracted image, named and locked by this process."""
    folder = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-{_started(os.getpid())}-"))
    if fcntl is not None:
        fd = os.open(f"{folder}.lock", _LOCK_FLAGS, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # new: nobody else holds it
        _held[str(folder)] = fd
    return folder


_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)


def _let_go(folder: str) -> None:
    """Close this process's lock of ``folder`` and remove the lock file."""
    fd = _held.pop(folder, None)
    if fd is not None:
        with contextlib.suppress(OSError):
            os.unlink(f"{folder}.lock")
        os.close(fd)


def _in_use(folder: str) -> bool | None:
    """Whether a process holds the lock of ``folder`` (None: it has no lock file to tell)."""
    if folder in _held:
        return True
    if fcntl is None:
        return None
    try:
        fd = os.open(f"{folder}.lock", _LOCK_FLAGS & ~os.O_CREAT)
    except FileNotFoundError:
        return None
    except OSError:
        return True  # cannot tell: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # BlockingIOError: another process holds it; else cannot tell
        return True
    finally:
        os.close(fd)  # lets the lock go again if it was taken
    return False


def remove_tree(folder: Path | str) -> bool:
    """Remove ``folder`` and all it holds, bottom-up; whether it is gone. Never raises.

    The extracted folder of an image: :func:`shutil.rmtree` (and
    :func:`os.walk`) recurse once per level, so a tree deep enough (an image
    made to loop, extracted until the reader's time bound) made it raise
    ``RecursionError`` and leave the files, patient data among them, behind.
    This walk keeps its own stack. A link is removed, never followed; an entry
    that cannot be removed is left (and the folder with it).
    """
    top = os.fspath(folder)
    stack: list[tuple[str, bool]] = [(top, False)]
    while stack:
        path, emptied = stack.pop()
        if emptied:
            with contextlib.suppress(OSError):
                os.rmdir(path)
            continue
        stack.append((path, True))
        try:
            with os.scandir(path) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                stack.append((entry.path, False))
            else:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    gone = not os.path.lexists(top)
    if gone and top in _held:
        _let_go(top)
    elif gone and _in_use(top) is False:  # another's, gone (a sweep, a test): its lock too
        with contextlib.suppress(OSError):
            os.unlink(f"{top}.lock")
    if not gone:
        log.warning("the extracted disc image folder %s could not be removed whole", shown(top))
    return gone


_PREFIX = "kiosk-iso-"
_OWNED = re.compile(re.escape(_PREFIX) + r"(\d+)-(\d+)-")


def _started(pid: int) -> int:
    """When process ``pid`` started (whole seconds), 0 when it is gone."""
    try:
        return int(psutil.Process(pid).create_time())
    except (psutil.Error, OSError):
        return 0


def sweep_stale_extractions(folder: Path | None = None) -> int:
    """Remove the extracted images (patient files) of kiosk processes that are gone; how many.

    A process killed while it held an extracted image (``kill -9``, a power cut)
    leaves it in the temporary folder; each folder's name says which process
    made it (its pid and start time), so a later one removes it. A folder of
    a process still running is left to it.
    """
    where = folder or Path(tempfile.gettempdir())
    removed = 0
    try:
        entries = list(os.scandir(where))
    except OSError:
        return 0
    for entry in entries:
        owner = _OWNED.match(entry.name)
        if owner is None:
            continue
        if entry.name.endswith(".lock") and not entry.is_dir(follow_symlinks=False):
            locked = entry.path[: -len(".lock")]
            if not os.path.lexists(locked) and _in_use(locked) is False:
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)  # the lock of a folder already removed
            continue
        if not entry.is_dir(follow_symlinks=False):
            continue
        in_use = _in_use(entry.path)
        if in_use is None:  # no lock to tell (Windows): its name says whose it is
            in_use = _started(int(owner.group(1))) == int(owner.group(2))
        if in_use:
            continue  # its process (this one, or another kiosk) is still running
        if remove_tree(entry.path):  # and its lock
            removed += 1
    if removed:
        log.warning(
            "removed %d extracted disc images left by kiosk processes that stopped", removed
        )
    return removed
