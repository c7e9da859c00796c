"""The demo's billing interface engine: an MLLP receiver on loopback (hl7apy's MLLPServer).

It acknowledges (AA, MSA-2 = the message's MSH-10) every order request and
charge the kiosk sends, and keeps each message as a file in
``workdir/billing/`` so the demo shows what billing received.
"""

from __future__ import annotations

import itertools
import threading
from pathlib import Path
from typing import Any

from hl7apy.core import Message
from hl7apy.mllp import AbstractHandler, MLLPServer
from hl7apy.parser import parse_message

_counter = itertools.count(1)


class _Acknowledge(AbstractHandler):  # type: ignore[misc]  # hl7apy is untyped
    """Keep the message, answer AA."""

    def __init__(self, message: str, folder: Path) -> None:
        super().__init__(message)
        self.folder = folder

    def reply(self) -> str:
        msg = parse_message(self.incoming_message, find_groups=False)
        control_id = str(msg.msh.msh_10.to_er7())
        n = next(_counter)
        (self.folder / f"{n:04d}.hl7").write_text(self.incoming_message, encoding="utf-8")
        ack = Message("ACK", version="2.5")
        ack.msh.msh_3 = "DEMOBILLING"
        ack.msh.msh_9 = "ACK"
        ack.msh.msh_10 = f"DEMOACK{n}"
        ack.add_segment("MSA")
        ack.msa.msa_1 = "AA"
        ack.msa.msa_2 = control_id
        return "\x0b" + str(ack.to_er7()) + "\x1c\x0d"


class DemoBilling:
    """An MLLP receiver on a free port of 127.0.0.1 for the demo's second reads."""

    #: MSH-9 as the kiosk sends it (hl7apy routes on the whole field).
    MESSAGE_TYPES = ("ORM^O01^ORM_O01", "OMI^O23^OMI_O23", "DFT^P03^DFT_P03")

    def __init__(self, workdir: Path) -> None:
        self.folder = Path(workdir) / "billing"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen (non-blocking)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        handlers = {kind: (_Acknowledge, self.folder) for kind in self.MESSAGE_TYPES}
        self._server = MLLPServer("127.0.0.1", 0, handlers, timeout=10)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="demo-billing", daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        """Where it listens."""
        return int(self._server.server_address[1])

    def received(self) -> list[str]:
        """The messages received, in order (ER7)."""
        return [p.read_text(encoding="utf-8") for p in sorted(self.folder.glob("*.hl7"))]

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
