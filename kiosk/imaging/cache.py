"""Decoded frames kept in memory, bounded by bytes, shared by the viewer's threads."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from kiosk.imaging.render import ImageHeader, decode_frame, read_header

DEFAULT_BYTES = 768 * 1024 * 1024
"""Room for a 500-image CT series (0.5 MiB a frame) and a long echo clip."""


class FrameCache:
    """Headers and decoded frames, least recently used dropped first.

    Thread-safe: the viewer decodes in a pool and renders on the GUI thread.
    Decoding runs outside the lock (two threads may decode the same frame
    once each; the second result replaces the first).

    Parameters
    ----------
    max_bytes
        The decoded frames' total size is kept at most this (a frame larger
        than it is decoded and returned, never kept).
    """

    def __init__(self, max_bytes: int = DEFAULT_BYTES) -> None:
        self.max_bytes = max_bytes
        self._frames: OrderedDict[tuple[Path, int], NDArray[Any]] = OrderedDict()
        self._headers: OrderedDict[Path, ImageHeader] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def bytes(self) -> int:
        """The decoded frames' total size now."""
        return self._bytes

    def header(self, path: Path) -> ImageHeader:
        """The file's header (:func:`read_header`), read once."""
        with self._lock:
            found = self._headers.get(path)
            if found is not None:
                self._headers.move_to_end(path)
                return found
        header = read_header(path)
        with self._lock:
            self._headers[path] = header
            while len(self._headers) > 4096:
                self._headers.popitem(last=False)
        return header

    def cached(self, path: Path, frame: int) -> NDArray[Any] | None:
        """The decoded frame if it is in the cache, else None (nothing is decoded)."""
        with self._lock:
            arr = self._frames.get((path, frame))
            if arr is not None:
                self._frames.move_to_end((path, frame))
            return arr

    def frame(self, path: Path, frame: int) -> NDArray[Any]:
        """The decoded frame (0-based), from the cache or decoded now and kept."""
        arr = self.cached(path, frame)
        if arr is not None:
            return arr
        arr = decode_frame(self.header(path), frame)
        self._put((path, frame), arr)
        return arr

    def _put(self, key: tuple[Path, int], arr: NDArray[Any]) -> None:
        size = int(arr.nbytes)
        if size > self.max_bytes:
            return
        with self._lock:
            old = self._frames.pop(key, None)
            if old is not None:
                self._bytes -= int(old.nbytes)
            self._frames[key] = arr
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, dropped = self._frames.popitem(last=False)
                self._bytes -= int(dropped.nbytes)
