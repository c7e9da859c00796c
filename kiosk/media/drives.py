"""Optical drives and other removable media with a medium in them, per platform.

This is the listing the app shows in its medium picker; watching for
insertion and removal builds on it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import psutil

OPTICAL_FILESYSTEMS = {"iso9660", "udf", "cdfs"}


@dataclass(frozen=True)
class Medium:
    """A mounted medium: where it is mounted and what it is."""

    mountpoint: Path
    device: str
    fstype: str
    optical: bool

    @property
    def label(self) -> str:
        """A short text for the medium picker."""
        kind = "Disc" if self.optical else "Drive"
        return f"{kind} {self.mountpoint}"


def _is_optical(part: psutil._common.sdiskpart) -> bool:
    if part.fstype.lower() in OPTICAL_FILESYSTEMS:
        return True
    if sys.platform == "win32":
        return "cdrom" in part.opts.lower()
    linux = sys.platform.startswith("linux")
    return linux and part.device.startswith(("/dev/sr", "/dev/cdrom"))


def mounted_media() -> list[Medium]:
    """Return mounted optical media (and, on macOS, anything under ``/Volumes``)."""
    found: list[Medium] = []
    for part in psutil.disk_partitions(all=False):
        optical = _is_optical(part)
        removable = sys.platform == "darwin" and part.mountpoint.startswith("/Volumes/")
        if optical or removable:
            found.append(Medium(Path(part.mountpoint), part.device, part.fstype, optical))
    return found
