"""A syslog collector for the tests: RFC 5424 over TCP with octet counting (RFC 6587).

It runs a real TCP server on loopback (a thread), splits the stream into
frames by their length prefix, parses each RFC 5424 header and keeps the
MSG, checked to be a DICOM audit message (PS3.15 A.5) in structure: the
root ``AuditMessage`` with one ``EventIdentification`` (with an ``EventID``
code) first, then one or more ``ActiveParticipant``, one
``AuditSourceIdentification``, then any ``ParticipantObjectIdentification``.
A frame that does not parse is kept in ``errors``; the test checks it is empty.
"""

from __future__ import annotations

import re
import socket
import socketserver
import ssl
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

_HEADER = re.compile(
    rb"<(?P<pri>\d{1,3})>1 (?P<timestamp>\S+) (?P<hostname>\S+) (?P<app>\S+) (?P<procid>\S+) "
    rb"(?P<msgid>\S+) (?P<sd>-|\[.*?\]) "
)

_ORDER = (
    "EventIdentification",
    "ActiveParticipant",
    "AuditSourceIdentification",
    "ParticipantObjectIdentification",
)


@dataclass(frozen=True)
class SyslogMessage:
    """One received message: its header fields and its audit message."""

    pri: int
    timestamp: str
    hostname: str
    app_name: str
    msgid: str
    xml: ET.Element


def check_audit_message(root: ET.Element) -> None:
    """Raise ``ValueError`` unless ``root`` is a DICOM audit message in structure."""
    if root.tag != "AuditMessage":
        raise ValueError(f"root is {root.tag}, not AuditMessage")
    names = [child.tag for child in root]
    if names.count("EventIdentification") != 1 or names[0] != "EventIdentification":
        raise ValueError(f"EventIdentification must come first, once: {names}")
    if names.count("AuditSourceIdentification") != 1:
        raise ValueError("one AuditSourceIdentification is required")
    if "ActiveParticipant" not in names:
        raise ValueError("an ActiveParticipant is required")
    ranks = [_ORDER.index(n) for n in names]
    if ranks != sorted(ranks):
        raise ValueError(f"elements out of the schema's order: {names}")
    event = root[0]
    for attribute in ("EventActionCode", "EventDateTime", "EventOutcomeIndicator"):
        if not event.get(attribute):
            raise ValueError(f"EventIdentification has no {attribute}")
    if event.get("EventOutcomeIndicator") not in ("0", "4", "8", "12"):
        raise ValueError("EventOutcomeIndicator is not 0, 4, 8 or 12")
    event_id = event.find("EventID")
    if event_id is None or not event_id.get("csd-code") or not event_id.get("codeSystemName"):
        raise ValueError("EventID needs csd-code and codeSystemName")
    for participant in root.findall("ActiveParticipant"):
        if not participant.get("UserID") or participant.get("UserIsRequestor") not in (
            "true",
            "false",
        ):
            raise ValueError("ActiveParticipant needs UserID and UserIsRequestor")
    if not root.find("AuditSourceIdentification").get("AuditSourceID"):  # type: ignore[union-attr]
        raise ValueError("AuditSourceIdentification needs AuditSourceID")
    for obj in root.findall("ParticipantObjectIdentification"):
        if not obj.get("ParticipantObjectID") or obj.find("ParticipantObjectIDTypeCode") is None:
            raise ValueError("ParticipantObjectIdentification needs an ID and its type code")


class SyslogListener:
    """A syslog TCP collector on a free loopback port; ``messages`` in arrival order."""

    def __init__(self, port: int = 0, tls: tuple[Path, Path] | None = None) -> None:
        """Listen on ``port`` (0: a free one); with ``tls`` (certificate, key): RFC 5425."""
        self.messages: list[SyslogMessage] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        listener = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                buffer = b""
                self.request.settimeout(10)
                while True:
                    try:
                        data = self.request.recv(65536)
                    except OSError:
                        return
                    if not data:
                        if buffer:
                            listener._error(f"stream ended inside a frame: {buffer[:40]!r}")
                        return
                    buffer += data
                    buffer = listener._frames(buffer)

        context: ssl.SSLContext | None = None
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(str(tls[0]), str(tls[1]))

        class Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True

            def get_request(self) -> tuple[socket.socket, object]:
                sock, address = self.socket.accept()
                if context is None:
                    return sock, address
                sock.settimeout(10)
                try:
                    return context.wrap_socket(sock, server_side=True), address
                except (OSError, ssl.SSLError) as exc:
                    sock.close()
                    listener._error(f"TLS handshake failed: {exc}")
                    raise

        self._server = Server(("127.0.0.1", port), Handler)
        self.host = "127.0.0.1"
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="syslog")
        self._thread.start()

    def _error(self, text: str) -> None:
        with self._lock:
            self.errors.append(text)

    def _frames(self, buffer: bytes) -> bytes:
        while True:
            space = buffer.find(b" ")
            if space < 0:
                return buffer
            length_text = buffer[:space]
            if not length_text.isdigit() or length_text.startswith(b"0"):
                self._error(f"no octet count: {buffer[:40]!r}")
                return b""
            length = int(length_text)
            if len(buffer) < space + 1 + length:
                return buffer
            frame = buffer[space + 1 : space + 1 + length]
            buffer = buffer[space + 1 + length :]
            self._parse(frame)

    def _parse(self, frame: bytes) -> None:
        found = _HEADER.match(frame)
        if found is None:
            self._error(f"not an RFC 5424 header: {frame[:60]!r}")
            return
        body = frame[found.end() :]
        if body.startswith(b"\xef\xbb\xbf"):
            body = body[3:]
        try:
            root = ET.fromstring(body)
            check_audit_message(root)
        except (ET.ParseError, ValueError) as exc:
            self._error(f"not a DICOM audit message: {exc}")
            return
        message = SyslogMessage(
            int(found["pri"]),
            found["timestamp"].decode(),
            found["hostname"].decode(),
            found["app"].decode(),
            found["msgid"].decode(),
            root,
        )
        with self._lock:
            self.messages.append(message)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[SyslogMessage]:
        """Wait until ``count`` messages arrived (or the timeout); return them."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        """Stop listening (the port is free again)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
