"""Recognise a disc when it comes back: volume label + DICOMDIR hash + file list.

The fingerprint is cheap (one hash of the DICOMDIR, a directory listing with
sizes, no image read) and stable across mounts and drives, so that a copy
interrupted by a pulled disc resumes when the same disc is inserted again,
and a different disc with the same label is not mistaken for it.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from kiosk.media.spool import sha256_of


def file_list(root: Path) -> list[tuple[str, int]]:
    """Every regular file below ``root`` as (relative path, size), sorted; no symlinks."""
    out: list[tuple[str, int]] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        base = Path(dirpath)
        for name in filenames:
            path = base / name
            if path.is_symlink() or not path.is_file():
                continue
            out.append((path.relative_to(root).as_posix(), path.stat().st_size))
    return sorted(out)


def volume_label(mountpoint: Path) -> str:
    """The medium's label as the system shows it: the mount folder's name (``/media/u/LABEL``)."""
    return mountpoint.name


def disc_fingerprint(root: Path, label: str = "") -> str:
    """Return the fingerprint (hex SHA-256) of the medium whose files are under ``root``.

    Parameters
    ----------
    root
        Where the medium's files are (a mount point or an extracted image).
    label
        The volume label; part of the fingerprint.
    """
    files = file_list(root)
    dicomdir = ""
    for rel, _size in files:
        if rel.upper().split(";")[0] == "DICOMDIR":
            dicomdir = sha256_of(root / rel)
            break
    digest = hashlib.sha256()
    digest.update(f"label\0{label}\0dicomdir\0{dicomdir}\0".encode())
    for rel, size in files:
        digest.update(os.fsencode(rel) + f"\0{size}\0".encode())  # the name's bytes, any locale
    return digest.hexdigest()
