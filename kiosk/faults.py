"""Fault-injection points for the crash tests: ``KIOSK_FAULT=NAME[:N]`` kills the process there.

A test starts a real ``kiosk`` process with the variable set; at the N-th
time (default: the first) the named step is reached, the process kills
itself with SIGKILL, as a power cut would stop it: no ``finally``, no
rollback, no flush. Unset (always, in use), a point costs one comparison.
"""

from __future__ import annotations

import os
import signal

_NAME, _, _COUNT = os.environ.get("KIOSK_FAULT", "").partition(":")
_left = int(_COUNT) if _COUNT.isdigit() else 1


def point(name: str) -> None:
    """Die here if the crash test asked for it (see the module docstring)."""
    global _left
    if not _NAME or name != _NAME:
        return
    _left -= 1
    if _left <= 0:
        kill = getattr(signal, "SIGKILL", None)
        if kill is None:  # Windows: no SIGKILL; leave at once all the same
            os._exit(137)
        os.kill(os.getpid(), kill)
