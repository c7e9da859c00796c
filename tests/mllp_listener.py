"""An HL7 receiver for the tests: a real TCP server on loopback speaking MLLP.

It checks each message as a billing interface engine would (MSH-9, PID-3
with our MRN and issuer, the accession in ORC-3/OBR-3 and, for a charge,
FT1-23), records it, and answers what the test asks: ``AA``, ``AE``,
``AR``, ``garbage`` (bytes that are not HL7), ``wrong-id`` (an ACK of
another message), ``silent`` (no answer) or ``close`` (hang up). A message
that fails a check is answered AE whatever was asked, and the failure is
kept in ``problems``.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from hl7apy.core import Message
from hl7apy.parser import parse_message

START, END = b"\x0b", b"\x1c\x0d"
MESSAGE_TYPES = {"ORM^O01^ORM_O01", "OMI^O23^OMI_O23", "DFT^P03^DFT_P03"}


@dataclass
class Received:
    """One message as it arrived."""

    control_id: str
    message_type: str
    text: str
    answered: str


@dataclass
class Listener:
    """What the listener expects, what it answers, and what it got."""

    mrn: str
    issuer: str
    accession: str = ""
    #: Answers for the next messages, in order; then ``default``.
    answers: list[str] = field(default_factory=list)
    default: str = "AA"
    #: Other MRNs a message may carry (a second read that followed its study to another patient).
    other_mrns: tuple[str, ...] = ()
    received: list[Received] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    host: str = "127.0.0.1"
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked(self) -> list[str]:
        """Control ids answered AA, in order (a duplicate appears twice)."""
        return [r.control_id for r in self.received if r.answered == "AA"]

    def check(self, text: str) -> tuple[str, str, list[str]]:
        """Return (control id, MSH-9, problems) of one message."""
        try:
            msg = parse_message(text, find_groups=False)
        except Exception as exc:
            return "", "", [f"not HL7: {exc}"]
        problems = []
        kind = msg.msh.msh_9.to_er7()
        control_id = msg.msh.msh_10.to_er7()
        if kind not in MESSAGE_TYPES:
            problems.append(f"MSH-9 {kind!r}")
        pid3 = msg.pid.pid_3
        if pid3.cx_1.to_er7() not in (self.mrn, *self.other_mrns) or (
            pid3.cx_4.to_er7() != self.issuer
        ):
            problems.append(f"PID-3 {pid3.to_er7()!r}")
        accessions = [msg.orc.orc_3.to_er7(), msg.obr.obr_3.to_er7()]
        if kind.startswith("DFT"):
            accessions.append(msg.ft1.ft1_23.to_er7())
        if not all(accessions) or (self.accession and set(accessions) != {self.accession}):
            problems.append(f"accession {accessions!r}")
        return control_id, kind, problems

    def answer(self, text: str) -> bytes | None:
        """Check a message; return the framed answer (``None``: say nothing)."""
        control_id, kind, problems = self.check(text)
        with self.lock:
            wanted = self.answers.pop(0) if self.answers else self.default
            if problems:
                self.problems += problems
                wanted = "AE"
            self.received.append(Received(control_id, kind, text, wanted))
        if wanted == "silent":
            return None
        if wanted == "close":
            return b""
        if wanted == "garbage":
            return START + b"\x00\xffnot an ack at all" + END
        ack = Message("ACK", version="2.5")
        ack.msh.msh_3 = "BILLING"
        ack.msh.msh_9 = "ACK"
        ack.msh.msh_10 = "ACK" + control_id[:15]
        ack.add_segment("MSA")
        ack.msa.msa_1 = "AA" if wanted == "wrong-id" else wanted
        ack.msa.msa_2 = "someone-else" if wanted == "wrong-id" else control_id
        ack.msa.msa_3 = "; ".join(problems)[:80].replace("|", " ").replace("^", " ")
        return START + ack.to_er7().encode("utf-8") + END


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        listener: Listener = self.server.listener  # type: ignore[attr-defined]
        buffer = b""
        while True:
            chunk = self.request.recv(65536)
            if not chunk:
                return
            buffer += chunk
            while START in buffer and END in buffer:
                start = buffer.index(START)
                end = buffer.index(END, start)
                text = buffer[start + 1 : end].decode("utf-8")
                buffer = buffer[end + len(END) :]
                reply = listener.answer(text)
                if reply is None:
                    self.server.silent.wait(30)  # type: ignore[attr-defined]
                    return
                if reply == b"":
                    return
                self.request.sendall(reply)


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def mllp_listener(mrn: str, issuer: str, accession: str = "") -> Iterator[Listener]:
    """Run a listener on a free loopback port for the ``with`` block."""
    listener = Listener(mrn, issuer, accession)
    server = _Server(("127.0.0.1", 0), _Handler)
    server.listener = listener  # type: ignore[attr-defined]
    server.silent = threading.Event()  # type: ignore[attr-defined]
    listener.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="mllp-listener", daemon=True)
    thread.start()
    try:
        yield listener
    finally:
        server.silent.set()  # type: ignore[attr-defined]
        server.shutdown()
        server.server_close()
        thread.join(5)


def free_port() -> int:
    """A loopback port nobody listens on (for the receiver-down tests)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
