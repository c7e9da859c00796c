"""Eject a disc after copying it (a setting: ``[media] eject_after_copy``)."""

from __future__ import annotations

import logging
import subprocess
import sys

from kiosk.media.drives import Medium

log = logging.getLogger(__name__)


def eject_command(medium: Medium, platform: str = sys.platform) -> list[str] | None:
    """The command that ejects ``medium`` on ``platform``, or None if nothing can be ejected."""
    if medium.kind == "drop":
        return None
    if platform == "win32":
        drive = str(medium.mountpoint).rstrip("\\/")
        script = (
            "(New-Object -ComObject Shell.Application).Namespace(17)"
            f".ParseName('{drive}').InvokeVerb('Eject')"
        )
        return ["powershell", "-NoProfile", "-NonInteractive", "-Command", script]
    if platform == "darwin":
        return ["diskutil", "eject", str(medium.mountpoint)]
    return ["eject", medium.device or str(medium.mountpoint)]


def eject(medium: Medium, timeout: float = 30.0) -> bool:
    """Eject ``medium``; return True if it was ejected (a failure is logged, never raised)."""
    command = eject_command(medium)
    if command is None:
        return False
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("could not eject %s: %s", medium.mountpoint, exc)
        return False
    if run.returncode != 0:
        log.warning("eject of %s failed: %s", medium.mountpoint, run.stderr.strip()[:200])
        return False
    return True
