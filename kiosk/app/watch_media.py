"""Use case: notice discs, USB sticks and drop-folder entries coming and going."""

from __future__ import annotations

from pathlib import Path

from kiosk.media.drives import Medium, mounted_media
from kiosk.media.watch import SETTLE_SECONDS, MediaWatcher


def media_watcher(drop_folder: Path | None = None, settle: float = SETTLE_SECONDS) -> MediaWatcher:
    """A watcher of the mounted media (and of ``drop_folder``, whose entries count after
    ``settle`` quiet seconds: ``[media] drop_settle_seconds``); ``poll()`` gives the events."""
    return MediaWatcher(drop_folder=drop_folder, settle=settle)


def mounted() -> list[Medium]:
    """The media mounted now (discs, USB sticks), for a picker."""
    return mounted_media()
