"""Checksums of spool files: SHA-256, recorded as a file is copied, checked before it is sent.

One place for the spool's digest (the design's "verified by SHA-256"): the
copy hashes what it reads from the medium, the sender checks the file (and a
coerced header) against the recorded digest before anything of it goes.
"""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

_CHUNK = 1 << 20
_buffers = threading.local()


def chunk_buffer() -> memoryview:
    """This thread's reusable buffer for reading files in chunks (no allocation per chunk
    or per file): the spool's copy and :func:`of_file` read through it, one at a time."""
    view: memoryview | None = getattr(_buffers, "view", None)
    if view is None:
        view = memoryview(bytearray(_CHUNK))
        _buffers.view = view
    return view


class Digest:
    """A running SHA-256 of bytes as they are read or written."""

    __slots__ = ("_hash",)

    def __init__(self) -> None:
        self._hash = hashlib.sha256()

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Add bytes."""
        self._hash.update(data)

    def text(self) -> str:
        """The digest as it is recorded (hex)."""
        return self._hash.hexdigest()


def of_bytes(data: bytes | bytearray | memoryview) -> str:
    """The recorded digest of ``data``."""
    digest = Digest()
    digest.update(data)
    return digest.text()


def matches(data: bytes | bytearray | memoryview, recorded: str) -> bool:
    """Whether ``data`` has the digest ``recorded`` (nothing recorded: no match)."""
    return bool(recorded) and of_bytes(data) == recorded


def of_file(path: Path) -> str:
    """The recorded digest of a file, read in chunks. Raises ``OSError``."""
    with path.open("rb", buffering=0) as fh:
        return of_open(fh)


def of_open(fh: io.RawIOBase | io.BufferedIOBase) -> str:
    """The recorded digest of an open file from where it stands to its end, read in chunks
    through :func:`chunk_buffer`. Raises ``OSError``."""
    digest = Digest()
    view = chunk_buffer()
    while n := fh.readinto(view):
        digest.update(view[:n])
    return digest.text()
