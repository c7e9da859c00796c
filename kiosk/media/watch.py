"""One service that notices media coming and going, for the app and ``kiosk watch``.

It polls a mount-table source (by default :func:`kiosk.media.drives.mounted_media`,
which reads the system's mount table through psutil on Linux, Windows and
macOS): drives are not folders, so they are looked at on each poll. A drop
folder, where each sub-folder or ``.iso`` file counts as a medium, is watched
with watchdog instead (:class:`DropFolder`): an entry counts once it has had
no event for a settle time and its content is the same at two checks, so a
half-copied folder is not picked up. Each change becomes a
:class:`MediumEvent`.

What is put in the drop folder may be made to hurt, so:

- only the drop folder itself is watched (not its sub-folders: watchdog's
  recursive watch walks a new folder by recursion, and a folder a thousand
  levels deep killed its thread); what changes inside an entry is seen by
  its signature, taken again each settle time until it is the same twice;
- a signature is taken by an iterative walk that never follows a symbolic
  link and stops at :data:`MAX_DEPTH` levels of folders: an entry nested
  deeper is refused (logged once), never a ``RecursionError``;
- a symbolic link in the drop folder is not a medium, whatever it points at
  (a folder outside the drop folder, ``/``): it is refused and logged once,
  and nothing it points at is read; nor is an ``.iso`` name that is not a
  regular file (a FIFO, a device).
"""

from __future__ import annotations

import atexit
import logging
import os
import stat
import threading
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from kiosk.media.drives import Medium, mounted_media
from kiosk.media.names import shown

log = logging.getLogger(__name__)

MountSource = Callable[[], list[Medium]]

SETTLE_SECONDS = 1.0
"""A drop-folder entry counts once it had no event for this long (and did not change)."""

FULL_CHECK_SECONDS = 60.0
"""Every so often the whole drop folder is looked at again, in case events were lost."""

RECHECK_SECONDS = 5.0
"""Seconds between two measures of an entry already counted: one whose copy paused longer
than the settle time and went on is taken away (``removed``) and counted again once it
settles (``inserted``), so that the app reads it again."""

MAX_DEPTH = 64
"""The most levels of folders a drop-folder entry may nest (a real disc has a handful)."""

_NOT_CHANGES = {"opened", "closed_no_write"}  # reading a file (the scan's own reads)

Signature = tuple[int, int, int, int]
"""(entries, bytes, newest mtime in ns, folders) of a drop-folder entry."""


class EventKind(StrEnum):
    """What happened to a medium."""

    INSERTED = "inserted"
    REMOVED = "removed"


@dataclass(frozen=True)
class MediumEvent:
    """A medium was inserted or removed."""

    kind: EventKind
    medium: Medium
    time: str

    def to_json(self) -> dict[str, Any]:
        """Return the one-line JSON form of ``kiosk watch --json``."""
        return {"event": self.kind.value, "time": self.time, **self.medium.to_json()}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class _Refused(Exception):
    """A drop-folder entry that is no medium for a reason worth a line in the log."""


def _signature(path: Path) -> Signature:
    """(entries, bytes, newest mtime, folders) of an entry: changes while it is being copied.

    Taken without recursion and without following a symbolic link (a link
    inside counts as an entry of its own size). The folders' mtimes count
    too, so a file renamed inside (a copy's last step) is a change.

    Raises
    ------
    OSError
        If the entry itself cannot be looked at (gone).
    _Refused
        If it nests folders more than :data:`MAX_DEPTH` levels deep, or is
        no regular file nor folder.
    """
    st = os.lstat(path)
    if stat.S_ISREG(st.st_mode):
        return (1, st.st_size, st.st_mtime_ns, 0)
    if not stat.S_ISDIR(st.st_mode):
        raise _Refused("not a regular file nor a folder")
    entries = size = folders = 0
    newest = st.st_mtime_ns
    stack: list[tuple[str, int]] = [(os.fspath(path), 0)]
    while stack:
        top, depth = stack.pop()
        try:
            with os.scandir(top) as listing:
                found = list(listing)
        except OSError:
            continue  # unreadable, or gone while the copy goes on: the next look sees
        for entry in found:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            newest = max(newest, info.st_mtime_ns)
            if stat.S_ISDIR(info.st_mode):
                if depth + 1 > MAX_DEPTH:
                    raise _Refused(
                        f"it nests folders more than {MAX_DEPTH} levels deep: not a disc "
                        "(damaged or made to hurt)"
                    )
                folders += 1
                stack.append((entry.path, depth + 1))
            else:
                entries += 1
                size += info.st_size
    return (entries, size, newest, folders)


def _is_medium(entry: Path) -> bool:
    """A sub-folder or an ``.iso`` file of the drop folder, not hidden, not a link (lstat)."""
    return _what(entry) == "medium"


def _what(entry: Path) -> str:
    """``medium``, ``""`` (gone, hidden or plainly no medium) or why it is refused (lstat)."""
    if entry.name.startswith("."):
        return ""
    try:
        st = os.lstat(entry)
    except OSError:
        return ""
    if stat.S_ISLNK(st.st_mode):
        try:
            target = f" to {shown(os.readlink(entry))[:200]}"
        except OSError:
            target = ""
        return f"a symbolic link{target}: not followed, not a medium"
    if stat.S_ISDIR(st.st_mode):
        return "medium"
    if entry.suffix.lower() != ".iso":
        return ""
    if stat.S_ISREG(st.st_mode):
        return "medium"
    return "not a regular file: not opened, not a medium"


class _Changes(FileSystemEventHandler):
    """Notes which entries of the drop folder had an event, and when (watchdog's thread)."""

    def __init__(self, folder: Path, clock: Callable[[], float]) -> None:
        self.folder = str(folder)
        self.clock = clock
        self.lock = threading.Lock()
        self.changed: dict[str, float] = {}

    def on_any_event(self, event: FileSystemEvent) -> None:
        """Note the drop-folder entry (top-level name) under each path of the event."""
        if event.event_type in _NOT_CHANGES:
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = os.fsdecode(raw)
            if not path:
                continue
            rel = os.path.relpath(path, self.folder)
            name = rel.split(os.sep, 1)[0]
            if name in ("", ".", "..") or rel.startswith(".." + os.sep):
                continue
            with self.lock:
                self.changed[name] = self.clock()

    def take(self) -> dict[str, float]:
        """The entries changed since the last call."""
        with self.lock:
            changed, self.changed = self.changed, {}
        return changed


_watching: weakref.WeakSet[DropFolder] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Stop every observer still running before the interpreter shuts down."""
    for drop in list(_watching):
        drop.close()


class DropFolder:
    """The media in a drop folder, watched with watchdog rather than walked on each poll.

    An entry (a sub-folder or an ``.iso`` file) is a medium once it has had no
    file-system event for ``settle`` seconds and its (entries, bytes, newest
    mtime, folders) are the same at two such checks: a copy still being
    written is never read half-way. Only the folder itself is watched, so the
    events are those of its entries (one dropped, renamed, removed, an
    ``.iso`` written); a change deeper inside an entry shows in its signature,
    taken every ``settle`` seconds until it is the same twice. A removed entry
    is gone at the next look. Every ``full_check`` seconds (and whenever
    watchdog cannot watch the folder, e.g. it does not exist yet) the folder is
    listed again and the entries not yet counted are measured, in case events
    were lost. A symbolic link, an ``.iso`` name that is no regular file and a
    folder nested more than :data:`MAX_DEPTH` levels are refused: logged once
    (a warning), never counted, never followed.

    Parameters
    ----------
    folder
        The drop folder.
    settle
        Seconds without an event before an entry is measured.
    full_check
        Seconds between two full looks at the folder.
    """

    def __init__(
        self,
        folder: Path,
        settle: float = SETTLE_SECONDS,
        full_check: float = FULL_CHECK_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.folder = folder
        self.settle = settle
        self.full_check = full_check
        self.clock = clock
        self.changes = _Changes(folder, clock)
        self.observer: BaseObserver | None = None
        self.closed = False
        self.lock = threading.Lock()  # the app polls on a worker thread and closes on its own
        self.last_full: float | None = None
        self.pending: dict[str, float] = {}  # entry -> when it last changed
        self.measured: dict[str, Signature] = {}  # entry -> its last signature
        self.media: dict[str, Medium] = {}  # entries that count
        self.rechecked: dict[str, float] = {}  # entry that counts -> when last measured
        self.refused: dict[str, str] = {}  # entry -> why it is no medium (logged once)

    def close(self) -> None:
        """Stop watching for good (the observer's thread ends; later looks list the folder)."""
        with self.lock:
            self.closed = True
            self._stop()

    def _stop(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
            self.observer = None

    def __enter__(self) -> DropFolder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def current(self) -> list[Medium]:
        """The media in the folder now (entries that have settled), by name."""
        with self.lock:
            now = self.clock()
            watching = self._watch()
            for name, when in self.changes.take().items():
                self._changed(name, when)
            for name in [n for n in self.media if not _is_medium(self.folder / n)]:
                self._forget(name)  # gone at this look, whenever its event comes (a stat each)
            if not watching or self.last_full is None or now - self.last_full >= self.full_check:
                self._look_at_all(now)
            for name, when in sorted(self.pending.items()):
                if now - when >= self.settle:
                    self._measure(name, now)
            for name in sorted(self.media):
                if now - self.rechecked.get(name, now) >= RECHECK_SECONDS:
                    self._recheck(name, now)
            return [self.media[name] for name in sorted(self.media)]

    def _recheck(self, name: str, now: float) -> None:
        """Measure a counted entry again: changed since, it settles again (no longer counts)."""
        self.rechecked[name] = now
        try:
            signature = _signature(self.folder / name)
        except (OSError, _Refused):
            return  # gone or refused: the next look says so
        if signature != self.measured.get(name):
            log.warning("drop folder entry %s changed after it was counted", shown(name))
            self._forget(name)
            self.measured[name] = signature
            self.pending[name] = now

    def _watch(self) -> bool:
        """Start watchdog on the folder if it is not yet; whether it is watched."""
        if self.observer is not None and self.observer.is_alive() and self.folder.is_dir():
            return True
        self._stop()  # not started, or the folder (or the watch) went away
        if self.closed or not self.folder.is_dir():
            return False
        # watchdog's inotify emitter warns (RuntimeWarning, on its own thread) when a new
        # folder's sub-folders are seen twice in a race, which changes nothing here.
        warnings.filterwarnings(
            "ignore",
            message="Callback with id",
            category=RuntimeWarning,
            module=r"watchdog\.observers\.inotify",
        )
        observer = Observer()
        try:
            # Not recursive: watchdog would walk (by recursion) and watch every folder
            # dropped, however deep; the signatures see what changes inside an entry.
            observer.schedule(self.changes, str(self.folder), recursive=False)
            observer.start()
        except OSError as exc:  # e.g. the inotify watch limit: full looks on each poll instead
            log.warning(
                "cannot watch the drop folder %s (%s); it is listed instead", self.folder, exc
            )
            return False
        self.observer = observer
        _watching.add(self)
        self.last_full = None  # what came before the watch is found by a full look
        return True

    def _changed(self, name: str, when: float) -> None:
        """An event under entry ``name``: gone at once if it is gone, else settling again."""
        what = _what(self.folder / name)
        if what != "medium":
            self._forget(name)
            self._refuse(name, what)
        elif name not in self.media:
            self.pending[name] = when

    def _forget(self, name: str) -> None:
        self.pending.pop(name, None)
        self.measured.pop(name, None)
        self.media.pop(name, None)
        self.rechecked.pop(name, None)

    def _refuse(self, name: str, why: str) -> None:
        """Note that entry ``name`` is no medium and why (``""``: none to tell); log it once."""
        if not why:
            self.refused.pop(name, None)
            return
        if self.refused.get(name) != why:
            log.warning("drop folder entry %s refused: %s", shown(str(self.folder / name)), why)
        self.refused[name] = why

    def _look_at_all(self, now: float) -> None:
        """List the folder: entries gone are forgotten, new or changed ones settle again."""
        self.last_full = now
        names: set[str] = set()
        refused: dict[str, str] = {}
        try:
            for entry in self.folder.iterdir():
                what = _what(entry)
                if what == "medium":
                    names.add(entry.name)
                elif what:
                    refused[entry.name] = what
        except OSError:
            pass
        for name in [*self.media, *self.pending, *self.refused]:
            if name not in names and name not in refused:
                self._forget(name)
                self._refuse(name, "")
        for name, why in refused.items():
            self._forget(name)
            self._refuse(name, why)
        for name in names - set(self.media):
            try:
                signature = _signature(self.folder / name)
            except OSError:
                continue
            except _Refused as exc:
                self._forget(name)
                self._refuse(name, str(exc))
                continue
            if self.measured.get(name) != signature:
                self.measured[name] = signature
                self.pending[name] = now

    def _measure(self, name: str, now: float) -> None:
        """A settled entry counts if it is unchanged since it was last measured."""
        entry = self.folder / name
        what = _what(entry)
        signature = None
        if what == "medium":
            try:
                signature = _signature(entry)
            except OSError:
                what = ""
            except _Refused as exc:
                what = str(exc)
        if signature is None:
            self._forget(name)
            self._refuse(name, what)
            return
        if self.measured.get(name) != signature:
            self.measured[name] = signature
            self.pending[name] = now  # changed since: one more settle time
            return
        del self.pending[name]
        self._refuse(name, "")
        kind = "iso9660" if entry.is_file() else ""
        self.media[name] = Medium(entry, "", kind, False, "drop")
        self.rechecked[name] = now


class MediaWatcher:
    """Turn successive looks at the mount table and the drop folder into events.

    Parameters
    ----------
    mounts
        Returns the media mounted now; default: the system's mount table.
        Pass ``lambda: []`` to watch the drop folder only.
    drop_folder
        A folder whose sub-folders and ``.iso`` files are media, or None;
        watched by a :class:`DropFolder`.
    settle, full_check
        The drop folder's settle time and full-check interval, in seconds.
    """

    def __init__(
        self,
        mounts: MountSource | None = None,
        drop_folder: Path | None = None,
        *,
        settle: float = SETTLE_SECONDS,
        full_check: float = FULL_CHECK_SECONDS,
    ) -> None:
        self.mounts = mounts if mounts is not None else mounted_media
        self.drop_folder = drop_folder
        self.drop = DropFolder(drop_folder, settle, full_check) if drop_folder else None
        self.present: dict[tuple[str, str], Medium] = {}

    def close(self) -> None:
        """Stop watching the drop folder."""
        if self.drop is not None:
            self.drop.close()

    def current(self) -> list[Medium]:
        """The media present now (drop-folder entries only once they have settled)."""
        media = list(self.mounts())
        if self.drop is not None:
            media.extend(self.drop.current())
        return media

    def poll(self) -> list[MediumEvent]:
        """Look once; return what changed since the last look (all present media the first time)."""
        now = {_key(m): m for m in self.current()}
        events = [
            MediumEvent(EventKind.REMOVED, m, _now())
            for key, m in self.present.items()
            if key not in now
        ]
        events += [
            MediumEvent(EventKind.INSERTED, m, _now())
            for key, m in now.items()
            if key not in self.present
        ]
        self.present = now
        for event in events:
            log.info("medium %s: %s", event.kind.value, event.medium.mountpoint)
        return events

    def run(
        self,
        on_event: Callable[[MediumEvent], None],
        stop: threading.Event,
        interval: float = 1.0,
    ) -> None:
        """Poll every ``interval`` seconds and call ``on_event`` for each change, until ``stop``."""
        while not stop.is_set():
            for event in self.poll():
                on_event(event)
            stop.wait(interval)


def _key(medium: Medium) -> tuple[str, str]:
    if medium.kind == "drop":
        return ("drop", str(medium.mountpoint))
    return (medium.device, str(medium.mountpoint))
