"""A lean C-STORE SCU on a plain socket: the kiosk's fast sending path.

pynetdicom runs every association on its own reactor thread and hands each
response over through queues; with several associations in one process that
costs a lot of time per instance and, under load, its reactor sometimes takes
a C-STORE response for a request ("Received unexpected C-STORE service
message"), which stalls the association until the DIMSE timeout. Sending is
the one hot path of the kiosk, so it speaks the few PDUs it needs itself
(PS3.8 section 9: A-ASSOCIATE, P-DATA-TF, A-RELEASE, A-ABORT) on a blocking
socket with TCP_NODELAY, one request at a time, and streams each file's data
set straight from the spool in PDU-sized pieces. Everything else (C-ECHO,
storage commitment) still uses pynetdicom.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # ssl is imported only where TLS is used: it costs start-up time
    import ssl

APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
IMPLEMENTATION_VERSION = b"OMKIOSK_1"
#: The kiosk's own upper-layer implementation (a UUID-derived UID, PS3.5 B.2).
IMPLEMENTATION_CLASS_UID = "2.25.249179694234625004880423448057866227699"
DEFAULT_CHUNK = 1 << 20  # fragment size when the peer sets no PDU limit

_PDU_HEADER = struct.Struct(">BxI")
_MORE = getattr(socket, "MSG_MORE", 0)  # Linux: hold a header back until its data follows
_PDV_HEADER = struct.Struct(">IBB")


class AssociationError(Exception):
    """The peer could not be reached, rejected the association, or broke the protocol."""


class TlsHandshakeError(AssociationError):
    """The TLS handshake failed (its cause: the certificate not trusted, a reset, ...)."""


@dataclass(frozen=True)
class FileDataSet:
    """Where a DICOM file's data set starts, its transfer syntax and its SOP UIDs."""

    offset: int
    transfer_syntax: str
    sop_class: str = ""
    sop_instance: str = ""


def read_file_meta(path: str) -> FileDataSet | None:
    """Return the data set offset and transfer syntax of a Part 10 file (``None`` if not one)."""
    with open(path, "rb") as f:
        return parse_file_meta(f.read(4096))


def parse_file_meta(head: bytes) -> FileDataSet | None:
    """Like :func:`read_file_meta`, from the first bytes of the file (4 kB are plenty)."""
    if len(head) < 144 or head[128:132] != b"DICM" or head[132:138] != b"\x02\x00\x00\x00UL":
        return None
    (group_length,) = struct.unpack("<I", head[140:144])
    meta = head[144 : 144 + group_length]
    if len(meta) < group_length:
        return None
    pos = 0
    values: dict[int, str] = {}
    while pos + 8 <= len(meta):
        group, elem = struct.unpack("<HH", meta[pos : pos + 4])
        vr = meta[pos + 4 : pos + 6]
        if vr in (b"OB", b"OW", b"OF", b"SQ", b"UT", b"UN"):
            (length,) = struct.unpack("<I", meta[pos + 8 : pos + 12])
            start = pos + 12
        else:
            (length,) = struct.unpack("<H", meta[pos + 6 : pos + 8])
            start = pos + 8
        if group == 0x0002 and elem in (0x0002, 0x0003, 0x0010):
            values[elem] = meta[start : start + length].rstrip(b"\x00 ").decode("ascii")
        pos = start + length
    if not values.get(0x0010):
        return None
    return FileDataSet(
        144 + group_length, values[0x0010], values.get(0x0002, ""), values.get(0x0003, "")
    )


def _uid(value: str) -> bytes:
    data = value.encode("ascii")
    return data + b"\x00" if len(data) % 2 else data


def _element(tag: int, value: bytes) -> bytes:
    return struct.pack("<HHI", tag >> 16, tag & 0xFFFF, len(value)) + value


def store_command(message_id: int, sop_class: str, sop_instance: str) -> bytes:
    """Encode a C-STORE-RQ command set (Implicit VR Little Endian, PS3.7 9.3.1.1)."""
    body = b"".join(
        (
            _element(0x00000002, _uid(sop_class)),
            _element(0x00000100, struct.pack("<H", 0x0001)),
            _element(0x00000110, struct.pack("<H", message_id)),
            _element(0x00000700, struct.pack("<H", 0x0000)),  # priority: medium
            _element(0x00000800, struct.pack("<H", 0x0000)),  # a data set follows
            _element(0x00001000, _uid(sop_instance)),
        )
    )
    return _element(0x00000000, struct.pack("<I", len(body))) + body


def parse_command(data: bytes) -> dict[int, bytes]:
    """Decode a command set (Implicit VR Little Endian) into tag -> raw value."""
    found: dict[int, bytes] = {}
    pos = 0
    while pos + 8 <= len(data):
        group, elem, length = struct.unpack("<HHI", data[pos : pos + 8])
        found[(group << 16) | elem] = data[pos + 8 : pos + 8 + length]
        pos += 8 + length
    return found


def _item(kind: int, payload: bytes) -> bytes:
    return struct.pack(">BxH", kind, len(payload)) + payload


def associate_rq(
    calling: str, called: str, contexts: Sequence[tuple[str, str]], max_pdu: int
) -> bytes:
    """Encode an A-ASSOCIATE-RQ PDU; context ids are 1, 3, 5 ... in the order given."""
    items = [_item(0x10, APPLICATION_CONTEXT)]
    for n, (abstract, syntax) in enumerate(contexts):
        sub = _item(0x30, abstract.encode("ascii")) + _item(0x40, syntax.encode("ascii"))
        items.append(_item(0x20, struct.pack(">B3x", 2 * n + 1) + sub))
    user = (
        _item(0x51, struct.pack(">I", max_pdu))
        + _item(0x52, IMPLEMENTATION_CLASS_UID.encode("ascii"))
        + _item(0x55, IMPLEMENTATION_VERSION)
    )
    items.append(_item(0x50, user))
    body = (
        struct.pack(">H2x", 1)
        + called.encode("ascii").ljust(16)[:16]
        + calling.encode("ascii").ljust(16)[:16]
        + b"\x00" * 32
        + b"".join(items)
    )
    return _PDU_HEADER.pack(0x01, len(body)) + body


class StoreAssociation:
    """One association carrying C-STORE requests, sent one at a time.

    Parameters
    ----------
    contexts
        (SOP class, transfer syntax) pairs, one presentation context each.
    max_pdu
        The largest PDU we accept (0: no limit).
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        calling: str,
        called: str,
        contexts: Sequence[tuple[str, str]],
        max_pdu: int = 0,
        timeout: float = 60.0,
        connect_timeout: float = 10.0,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.contexts = list(contexts)
        self.accepted: dict[str, dict[str, int]] = {}  # SOP class -> syntax -> context id
        self.peer_max_pdu = 0
        self._message_id = 0
        self._rbuf = bytearray()
        self.is_open = False
        self._plain = tls is None  # sendfile() only on a plain socket
        try:
            raw = socket.create_connection((host, port), timeout=connect_timeout)
        except OSError as exc:
            raise AssociationError(f"cannot connect ({exc.strerror or exc})") from exc
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(timeout)
        try:
            self.sock: socket.socket = raw
            if tls is not None:
                try:
                    self.sock = tls.wrap_socket(raw, server_hostname=host)
                except OSError as exc:
                    raise TlsHandshakeError(f"TLS handshake failed ({exc})") from exc
            self.sock.sendall(associate_rq(calling, called, self.contexts, max_pdu))
            kind, body = self._read_pdu()
        except TlsHandshakeError:
            raw.close()
            raise
        except (OSError, AssociationError) as exc:
            raw.close()
            raise AssociationError(f"association failed ({exc})") from exc
        if kind == 0x03:
            self.sock.close()
            raise AssociationError("the peer rejected the association")
        if kind != 0x02:
            self.sock.close()
            raise AssociationError(f"unexpected answer to the association request (PDU {kind})")
        self._parse_accept(body)
        self.is_open = True

    # --- PDUs ---------------------------------------------------------------------------
    def _recv_exact(self, n: int) -> bytes:
        while len(self._rbuf) < n:
            data = self.sock.recv(max(65536, n - len(self._rbuf)))
            if not data:
                raise AssociationError("the peer closed the connection")
            self._rbuf += data
        out = bytes(self._rbuf[:n])
        del self._rbuf[:n]
        return out

    def _read_pdu(self) -> tuple[int, bytes]:
        kind, length = _PDU_HEADER.unpack(self._recv_exact(6))
        return kind, self._recv_exact(length)

    def _parse_accept(self, body: bytes) -> None:
        pos = 68
        while pos + 4 <= len(body):
            kind, length = struct.unpack(">BxH", body[pos : pos + 4])
            item = body[pos + 4 : pos + 4 + length]
            if kind == 0x21:
                context_id, result = item[0], item[2]
                sub_len = struct.unpack(">H", item[6:8])[0]
                syntax = item[8 : 8 + sub_len].rstrip(b"\x00 ").decode("ascii")
                index = (context_id - 1) // 2
                if result == 0 and 0 <= index < len(self.contexts):
                    abstract, proposed = self.contexts[index]
                    self.accepted.setdefault(abstract, {})[syntax or proposed] = context_id
            elif kind == 0x50:
                sub = 0
                while sub + 4 <= len(item):
                    sub_kind, sub_len = struct.unpack(">BxH", item[sub : sub + 4])
                    if sub_kind == 0x51:
                        (self.peer_max_pdu,) = struct.unpack(">I", item[sub + 4 : sub + 8])
                    sub += 4 + sub_len
            pos += 4 + length

    def _send_fragments(self, context_id: int, control: int, data: memoryview) -> None:
        chunk = (self.peer_max_pdu - 6) if self.peer_max_pdu > 6 else DEFAULT_CHUNK
        total = len(data)
        pos = 0
        while True:
            piece = data[pos : pos + chunk]
            pos += len(piece)
            last = 0x02 if pos >= total else 0x00
            header = _PDU_HEADER.pack(0x04, len(piece) + 6) + _PDV_HEADER.pack(
                len(piece) + 2, context_id, control | last
            )
            self.sock.sendall(header + piece)
            if last:
                return

    def _data_pdus(self, context_id: int, f: BinaryIO, size: int, first: bytes) -> Iterator[bytes]:
        """P-DATA-TF PDUs of a data set: ``first`` (already read), then the rest of ``f``."""
        chunk = (self.peer_max_pdu - 6) if self.peer_max_pdu > 6 else DEFAULT_CHUNK
        pending = first
        remaining = size - len(first)  # bytes still in the file
        while True:
            while len(pending) < chunk and remaining > 0:
                more = f.read(min(remaining, max(chunk - len(pending), 1 << 16)))
                if not more:
                    raise OSError("the file ended early")
                remaining -= len(more)
                pending += more
            piece, pending = pending[:chunk], pending[chunk:]
            last = 0x02 if not pending and remaining <= 0 else 0x00
            yield (
                _PDU_HEADER.pack(0x04, len(piece) + 6)
                + _PDV_HEADER.pack(len(piece) + 2, context_id, last)
                + piece
            )
            if last:
                return

    def _sendfile_pdus(self, context_id: int, f: BinaryIO, start: int, length: int) -> None:
        """P-DATA-TF PDUs of a data set at ``start`` in ``f``, the data copied by the kernel."""
        chunk = (self.peer_max_pdu - 6) if self.peer_max_pdu > 6 else DEFAULT_CHUNK
        pos, end = start, start + length
        while pos < end:
            n = min(chunk, end - pos)
            last = 0x02 if pos + n >= end else 0x00
            header = _PDU_HEADER.pack(0x04, n + 6) + _PDV_HEADER.pack(n + 2, context_id, last)
            self.sock.sendall(header, _MORE)
            if self.sock.sendfile(f, pos, n) != n:
                raise OSError("the file ended early")
            pos += n

    def _read_response(self, message_id: int) -> int | None:
        command = bytearray()
        while True:
            kind, body = self._read_pdu()
            if kind != 0x04:  # abort, release request: the association is over
                self._close()
                return None
            pos = 0
            done = False
            while pos + 6 <= len(body):
                length, _, control = _PDV_HEADER.unpack(body[pos : pos + 6])
                if control & 0x01:
                    command += body[pos + 6 : pos + 4 + length]
                    done = done or bool(control & 0x02)
                pos += 4 + length
            if done:
                fields = parse_command(bytes(command))
                answered = fields.get(0x00000120)
                status = fields.get(0x00000900)
                if status is None or answered is None:
                    return None
                if struct.unpack("<H", answered)[0] != message_id:
                    command.clear()  # not ours (cannot happen one request at a time)
                    continue
                return int(struct.unpack("<H", status)[0])

    # --- requests -----------------------------------------------------------------------
    def context_for(self, sop_class: str, syntax: str) -> int | None:
        """Return the accepted context id for a SOP class in a transfer syntax, if any."""
        return self.accepted.get(sop_class, {}).get(syntax)

    def _request(self, sop_class: str, sop_instance: str, context_id: int) -> int:
        self._message_id = (self._message_id % 0xFFFF) + 1
        command = store_command(self._message_id, sop_class, sop_instance)
        self._send_fragments(context_id, 0x01, memoryview(command))
        return self._message_id

    def store_open_file(
        self,
        sop_class: str,
        sop_instance: str,
        context_id: int,
        f: BinaryIO,
        size: int,
        head: bytes,
        offset: int,
        while_waiting: Callable[[], None] | None = None,
    ) -> int | None:
        """Send a file's data set; return the status (``None``: no answer).

        ``head`` holds the file's first bytes (already read from ``f``), the data set
        starts at ``offset``; the command and the first data PDUs go out in one write.
        ``while_waiting`` runs once the data set is sent, while the PACS stores it.
        """
        try:
            self._message_id = (self._message_id % 0xFFFF) + 1
            command = store_command(self._message_id, sop_class, sop_instance)
            out = (
                _PDU_HEADER.pack(0x04, len(command) + 6)
                + _PDV_HEADER.pack(len(command) + 2, context_id, 0x03)
                + command
            )
            if size > len(head) and self._plain:
                # A large file: the kernel copies it from the spool to the socket.
                self.sock.sendall(out, _MORE)
                self._sendfile_pdus(context_id, f, offset, size - offset)
                if while_waiting is not None:
                    while_waiting()
                return self._read_response(self._message_id)
            for pdu in self._data_pdus(context_id, f, size - offset, head[offset:]):
                out += pdu
                if len(out) >= 1 << 18:
                    self.sock.sendall(out)
                    out = b""
            if out:
                self.sock.sendall(out)
            if while_waiting is not None:
                while_waiting()
            return self._read_response(self._message_id)
        except (OSError, AssociationError, struct.error):
            self._close()
            return None

    def store_bytes(
        self, sop_class: str, sop_instance: str, context_id: int, data: bytes
    ) -> int | None:
        """Send an encoded data set; return the status (``None``: no answer)."""
        try:
            message_id = self._request(sop_class, sop_instance, context_id)
            self._send_fragments(context_id, 0x00, memoryview(data))
            return self._read_response(message_id)
        except (OSError, AssociationError, struct.error):
            self._close()
            return None

    def release(self) -> None:
        """Release the association (A-RELEASE), or just close if the peer does not answer."""
        if not self.is_open:
            return
        try:
            self.sock.settimeout(5.0)
            self.sock.sendall(_PDU_HEADER.pack(0x05, 4) + b"\x00" * 4)
            while True:
                kind, _ = self._read_pdu()
                if kind in (0x06, 0x07):
                    break
        except (OSError, AssociationError, struct.error):
            pass
        self._close()

    def abort(self) -> None:
        """Abort the association (A-ABORT)."""
        if self.is_open:
            with contextlib.suppress(OSError):
                self.sock.sendall(_PDU_HEADER.pack(0x07, 4) + b"\x00\x00\x00\x00")
        self._close()

    def _close(self) -> None:
        self.is_open = False
        with contextlib.suppress(OSError):
            self.sock.close()
