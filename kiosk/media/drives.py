"""Removable media with a medium in them, per platform: optical discs, USB sticks, volumes.

This is the listing the app shows in its medium picker; :mod:`kiosk.media.watch`
turns successive listings into "medium inserted/removed" events.

- Linux: the mount table (psutil); optical by file system (iso9660/udf) or
  device (``/dev/sr*``), USB sticks by ``/sys/block/<disk>/removable``.
- Windows: the drive type from ``GetDriveTypeW`` (``DRIVE_CDROM``,
  ``DRIVE_REMOVABLE``), falling back to psutil's ``cdrom``/``removable`` options.
- macOS: everything mounted under ``/Volumes`` except the system volume.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

OPTICAL_FILESYSTEMS = {"iso9660", "udf", "cdfs"}
DRIVE_REMOVABLE = 2
DRIVE_CDROM = 5


@dataclass(frozen=True)
class Medium:
    """A mounted medium: where it is mounted and what it is.

    ``kind`` is ``"optical"``, ``"usb"`` (a removable drive), ``"volume"`` (a
    macOS volume) or ``"drop"`` (a folder or ``.iso`` file in the drop folder).
    """

    mountpoint: Path
    device: str
    fstype: str
    optical: bool
    kind: str = ""

    @property
    def label(self) -> str:
        """A short text for the medium picker."""
        kind = {"optical": "Disc", "drop": "Dropped"}.get(
            self.kind, "Disc" if self.optical else "Drive"
        )
        return f"{kind} {self.mountpoint}"

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form used by ``kiosk watch``."""
        return {
            "path": str(self.mountpoint),
            "device": self.device,
            "fstype": self.fstype,
            "kind": self.kind or ("optical" if self.optical else "usb"),
        }


def _linux_removable(device: str) -> bool:
    match = re.match(r"^/dev/(sd[a-z]+|mmcblk\d+|nvme\d+n\d+)", device)
    if not match:
        return False
    try:
        return Path(f"/sys/block/{match.group(1)}/removable").read_text().strip() == "1"
    except OSError:
        return False


def _windows_drive_type(mountpoint: str) -> int:
    try:
        import ctypes

        windll: Any = getattr(ctypes, "windll", None)
        if windll is None:
            return 0
        return int(windll.kernel32.GetDriveTypeW(mountpoint))
    except (OSError, AttributeError):
        return 0


def classify(part: Any, platform: str = sys.platform) -> str:
    """Return the kind of a psutil partition (``optical``, ``usb``, ``volume``) or ``""``."""
    fstype = str(part.fstype).lower()
    opts = str(part.opts).lower()
    if platform == "win32":
        drive = _windows_drive_type(part.mountpoint)
        if drive == DRIVE_CDROM or "cdrom" in opts or fstype in OPTICAL_FILESYSTEMS:
            return "optical"
        if drive == DRIVE_REMOVABLE or "removable" in opts:
            return "usb"
        return ""
    if fstype in OPTICAL_FILESYSTEMS:
        return "optical"
    if platform == "darwin":
        if str(part.mountpoint).startswith("/Volumes/"):
            return "volume"
        return ""
    if platform.startswith("linux"):
        if part.device.startswith(("/dev/sr", "/dev/cdrom")):
            return "optical"
        if _linux_removable(part.device):
            return "usb"
    return ""


def mounted_media() -> list[Medium]:
    """Return the mounted optical discs and removable drives (macOS: ``/Volumes``)."""
    found: list[Medium] = []
    for part in psutil.disk_partitions(all=False):
        kind = classify(part)
        if kind:
            found.append(
                Medium(Path(part.mountpoint), part.device, part.fstype, kind == "optical", kind)
            )
    return found
