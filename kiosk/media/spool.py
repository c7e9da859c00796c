"""Copy files from a medium into the local spool, verified by SHA-256.

Each file is hashed while it is read from the medium, written under a
temporary name, read back and hashed again, and only then renamed into
place. The copy on the medium is never modified.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from kiosk.errors import SpoolError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class SpooledFile:
    """A file copied into the spool."""

    source: Path
    target: Path
    sha256: str
    size: int


def sha256_of(path: Path) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def copy_verified(source: Path, target: Path) -> SpooledFile:
    """Copy one file and verify the written copy against the hash of what was read.

    Raises
    ------
    SpoolError
        If the medium cannot be read, the spool cannot be written, or the
        copy does not match.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    digest = hashlib.sha256()
    size = 0
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(_CHUNK):
                digest.update(chunk)
                dst.write(chunk)
                size += len(chunk)
            dst.flush()
            os.fsync(dst.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpoolError(
            f"copying {source.name} failed ({exc.strerror}); check the disc and the spool, "
            "then import again"
        ) from exc
    expected = digest.hexdigest()
    if sha256_of(tmp) != expected:
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
