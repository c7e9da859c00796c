"""One service that notices media coming and going, for the app and ``kiosk watch``.

It polls a mount-table source (by default :func:`kiosk.media.drives.mounted_media`,
which reads the system's mount table through psutil on Linux, Windows and
macOS) and a drop folder, where each sub-folder or ``.iso`` file counts as a
medium once its content has stopped changing between two polls (so a
half-copied folder is not picked up). Each change becomes a
:class:`MediumEvent`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.media.drives import Medium, mounted_media

log = logging.getLogger(__name__)

MountSource = Callable[[], list[Medium]]


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


def _signature(path: Path) -> tuple[int, int, int]:
    """(files, bytes, newest mtime) of a folder or file: changes while it is being copied."""
    if path.is_file():
        st = path.stat()
        return (1, st.st_size, st.st_mtime_ns)
    files = size = newest = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            try:
                st = (Path(dirpath) / name).stat()
            except OSError:
                continue
            files += 1
            size += st.st_size
            newest = max(newest, st.st_mtime_ns)
    return (files, size, newest)


class MediaWatcher:
    """Turn successive looks at the mount table and the drop folder into events.

    Parameters
    ----------
    mounts
        Returns the media mounted now; default: the system's mount table.
        Pass ``lambda: []`` to watch the drop folder only.
    drop_folder
        A folder whose sub-folders and ``.iso`` files are media, or None.
    """

    def __init__(self, mounts: MountSource | None = None, drop_folder: Path | None = None) -> None:
        self.mounts = mounts if mounts is not None else mounted_media
        self.drop_folder = drop_folder
        self.present: dict[tuple[str, str], Medium] = {}
        self._settling: dict[Path, tuple[int, int, int]] = {}

    def current(self) -> list[Medium]:
        """The media present now (drop-folder entries only once they have settled)."""
        media = list(self.mounts())
        if self.drop_folder is not None:
            media.extend(self._dropped())
        return media

    def _dropped(self) -> list[Medium]:
        assert self.drop_folder is not None
        try:
            entries = sorted(self.drop_folder.iterdir())
        except OSError:
            return []
        out = []
        seen: dict[Path, tuple[int, int, int]] = {}
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if not (entry.is_dir() or (entry.is_file() and entry.suffix.lower() == ".iso")):
                continue
            try:
                sig = _signature(entry)
            except OSError:
                continue
            seen[entry] = sig
            already = ("drop", str(entry)) in self.present
            if already or self._settling.get(entry) == sig:
                out.append(Medium(entry, "", "iso9660" if entry.is_file() else "", False, "drop"))
        self._settling = seen
        return out

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
