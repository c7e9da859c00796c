"""C-ECHO to a destination: the "test connection" of the settings and ``kiosk echo``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from pynetdicom.presentation import build_context
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

from kiosk.config import Destination
from kiosk.errors import PeerError
from kiosk.net.association import end_association, open_association


@dataclass(frozen=True)
class EchoResult:
    """The answer to one C-ECHO: status and round-trip time (association included)."""

    status: int
    seconds: float


def echo(destination: Destination, calling_ae: str) -> EchoResult:
    """Open an association, send one C-ECHO, release; return the status and time taken.

    Raises
    ------
    PeerError
        If the destination cannot be reached, refuses us, or does not answer the echo.
    """
    began = time.monotonic()
    assoc = open_association(destination, calling_ae, [build_context(Verification)])
    try:
        status = assoc.send_c_echo()
    finally:
        end_association(assoc)
    seconds = time.monotonic() - began
    code = int(status.Status) if status is not None and "Status" in status else None
    if code != 0x0000:
        answer = "no answer" if code is None else f"status 0x{code:04X}"
        raise PeerError(
            f"{destination.label or destination.name} ({destination.ae_title} at "
            f"{destination.host}:{destination.port}) did not confirm the echo ({answer}); "
            "check that it accepts Verification from our AE title"
        )
    return EchoResult(code, seconds)
