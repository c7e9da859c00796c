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
storage commitment) uses pynetdicom, through :mod:`kiosk.net.association`,
and so can sending: ``[send] engine = "pynetdicom"`` picks
:mod:`kiosk.net.pynetdicom_store`, which has the same interface.

What it does, it does completely (PS3.8 9.3, PS3.7 9.3.1.2): any protocol
error, response that is not ours, or timeout sends an A-ABORT and closes the
socket; a peer's A-RELEASE-RQ is answered with A-RELEASE-RP; a peer's
A-ABORT and A-ASSOCIATE-RJ are read (source and reason); every C-STORE-RSP
is checked (command field, message id, presentation context, SOP class and
instance) and its Error Comment kept. Whether the first byte of a data set
went out is recorded (:attr:`StoreAnswer.sent`): an instance whose data set
never left may be retried at once without counting an attempt.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from kiosk.errors import AssociationAborted, PeerError
from kiosk.net.association import CONNECT_TIMEOUT, NETWORK_TIMEOUT, tls_context, tls_problem
from kiosk.net.association_rejected import association_rejected

if TYPE_CHECKING:  # ssl is imported only where TLS is used: it costs start-up time
    import ssl

    from kiosk.config import Destination

APPLICATION_CONTEXT = b"1.2.840.10008.3.1.1.1"
IMPLEMENTATION_VERSION = b"OMKIOSK_1"
#: The kiosk's own upper-layer implementation (a UUID-derived UID, PS3.5 B.2).
IMPLEMENTATION_CLASS_UID = "2.25.249179694234625004880423448057866227699"
DEFAULT_CHUNK = 1 << 20  # fragment size when the peer sets no PDU limit

_PDU_HEADER = struct.Struct(">BxI")
_MORE = getattr(socket, "MSG_MORE", 0)  # Linux: hold a header back until its data follows
_PDV_HEADER = struct.Struct(">IBB")
#: The largest PDU read from the peer: answers to C-STORE are a few hundred bytes, and
#: a hostile length must not make us buffer gigabytes.
MAX_READ_PDU = 1 << 20
MAX_COMMAND = 1 << 16  # the largest command set accepted in a response
C_STORE_RSP = 0x8001
NO_DATA_SET = 0x0101  # Command Data Set Type: no data set follows

A_ASSOCIATE_RQ, A_ASSOCIATE_AC, A_ASSOCIATE_RJ = 0x01, 0x02, 0x03
P_DATA_TF, A_RELEASE_RQ, A_RELEASE_RP, A_ABORT = 0x04, 0x05, 0x06, 0x07
_RELEASE_RQ = _PDU_HEADER.pack(A_RELEASE_RQ, 4) + b"\x00" * 4
_RELEASE_RP = _PDU_HEADER.pack(A_RELEASE_RP, 4) + b"\x00" * 4
_ABORT = _PDU_HEADER.pack(A_ABORT, 4) + b"\x00" * 4  # source 0: service user, no reason


class AssociationError(Exception):
    """The peer could not be reached, or the association ended (internal to this module)."""


class TlsHandshakeError(AssociationError):
    """The TLS handshake failed (its cause: the certificate not trusted, a reset, ...)."""


class Rejected(AssociationError):
    """The peer answered A-ASSOCIATE-RJ: its result, source and reason (PS3.8 9.3.4)."""

    def __init__(self, result: int, source: int, reason: int) -> None:
        super().__init__(f"association rejected (result {result}, source {source}, "
                         f"reason {reason})")  # fmt: skip
        self.result, self.source, self.reason = result, source, reason


class ProtocolError(AssociationError):
    """The peer sent something PS3.8/PS3.7 do not allow here: we abort."""


class PeerAborted(AssociationError):
    """The peer sent A-ABORT (source 0: the service user, 2: the provider)."""

    def __init__(self, source: int, reason: int) -> None:
        super().__init__(f"the PACS aborted the association (A-ABORT source {source}, "
                         f"reason {reason})")  # fmt: skip
        self.source, self.reason = source, reason


class PeerReleased(AssociationError):
    """The peer asked to release the association (answered: A-RELEASE-RP)."""


@dataclass(frozen=True)
class StoreAnswer:
    """What one C-STORE came to, as both engines report it.

    ``status`` is ``None`` when no valid answer came; ``problem`` then says
    why. ``sent`` is ``False`` only when the request failed before the first
    byte of the data set went out (the PACS cannot have stored it: retry
    freely); ``comment`` is the PACS's Error Comment (0000,0902), sanitized.
    """

    status: int | None
    comment: str = ""
    sent: bool = True
    problem: str = ""


def clean_comment(raw: bytes | str) -> str:
    """Return a peer's Error Comment as one printable line of at most 128 characters."""
    text = raw.decode("latin-1") if isinstance(raw, bytes) else raw
    text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())[:128]


@dataclass(frozen=True)
class FileDataSet:
    """Where a DICOM file's data set starts, its transfer syntax and its SOP UIDs."""

    offset: int
    transfer_syntax: str
    sop_class: str = ""
    sop_instance: str = ""


def parse_file_meta(head: bytes) -> FileDataSet | None:
    """Where a Part 10 file's data set starts, its transfer syntax and UIDs, from its first bytes.

    4 kB are plenty; ``None`` when it is not a Part 10 file. The media layer's
    walker (:func:`kiosk.media.fastheader.file_meta`) does the same for the
    disc, but that module loads pydicom's data dictionary (about 0.2 s of
    start-up), which ``kiosk send``'s fast path never needs: the spool's files
    were read by that walker already, so this short one suffices here.
    """
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
    timeout
        The peer's timeout, in seconds: each answer (the A-ASSOCIATE-AC, each
        C-STORE-RSP with all its PDUs, the A-RELEASE-RP) must be whole within
        it of the request, and each write done within it; else the association
        is aborted. The answer's time is one deadline, not a timeout per read:
        a peer trickling a byte now and then is cut off at the deadline too.

    Raises
    ------
    Rejected
        The peer answered A-ASSOCIATE-RJ.
    TlsHandshakeError, AssociationError
        It could not be reached, the TLS handshake failed, or it broke off.
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
        self.timeout = timeout
        self._message_id = 0
        self._rbuf = bytearray()
        self.is_open = False
        self._plain = tls is None  # sendfile() only on a plain socket
        self._data_out = False  # whether the current request's data set began to go out
        try:
            raw = socket.create_connection((host, port), timeout=connect_timeout)
        except OSError as exc:
            raise AssociationError(f"cannot connect ({exc.strerror or exc})") from exc
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(timeout)
        self.sock: socket.socket = raw
        try:
            if tls is not None:
                try:
                    self.sock = tls.wrap_socket(raw, server_hostname=host)
                except OSError as exc:
                    raise TlsHandshakeError(f"TLS handshake failed ({exc})") from exc
            self.sock.sendall(associate_rq(calling, called, self.contexts, max_pdu))
            kind, body = self._read_pdu(time.monotonic() + timeout)
            if kind == A_ASSOCIATE_RJ and len(body) >= 4:
                raise Rejected(body[1], body[2], body[3])
            if kind == A_ABORT:
                raise PeerAborted(*_abort_fields(body))
            if kind != A_ASSOCIATE_AC:
                raise ProtocolError(f"unexpected answer to the association request (PDU {kind})")
            self._parse_accept(body)
        except (Rejected, PeerAborted, TlsHandshakeError):
            self._close()
            raise
        except ProtocolError:
            self._abort()
            raise
        except TimeoutError as exc:
            self._abort()
            raise AssociationError(
                f"no answer to the association request within {timeout:g} s"
            ) from exc
        except (OSError, AssociationError, struct.error, UnicodeDecodeError) as exc:
            self._abort()
            raise AssociationError(f"association failed ({exc})") from exc
        self.is_open = True

    # --- PDUs ---------------------------------------------------------------------------
    def _recv_exact(self, n: int, deadline: float) -> bytes:
        """Read ``n`` bytes by ``deadline`` (``time.monotonic``), whatever each read brings.

        Raises
        ------
        TimeoutError
            The deadline passed first.
        """
        if len(self._rbuf) < n:
            try:
                while len(self._rbuf) < n:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise TimeoutError("no whole answer by the deadline")
                    self.sock.settimeout(left)
                    data = self.sock.recv(max(65536, n - len(self._rbuf)))
                    if not data:
                        raise AssociationError("the peer closed the connection")
                    self._rbuf += data
            finally:
                with contextlib.suppress(OSError):
                    self.sock.settimeout(self.timeout)  # writes: the timeout per call
        out = bytes(self._rbuf[:n])
        del self._rbuf[:n]
        return out

    def _read_pdu(self, deadline: float) -> tuple[int, bytes]:
        """Read one PDU from the peer, whole by ``deadline`` (``time.monotonic``)."""
        kind, length = _PDU_HEADER.unpack(self._recv_exact(6, deadline))
        if kind not in (A_ASSOCIATE_AC, A_ASSOCIATE_RJ, P_DATA_TF, A_RELEASE_RQ,
                        A_RELEASE_RP, A_ABORT) or length > MAX_READ_PDU:  # fmt: skip
            raise ProtocolError(f"unexpected PDU (type 0x{kind:02X}, {length} bytes)")
        return kind, self._recv_exact(length, deadline)

    def _parse_accept(self, body: bytes) -> None:
        pos = 68
        while pos + 4 <= len(body):
            kind, length = struct.unpack(">BxH", body[pos : pos + 4])
            item = body[pos + 4 : pos + 4 + length]
            if kind == 0x21 and len(item) >= 4:
                context_id, result = item[0], item[2]
                syntax = ""
                if len(item) >= 8:
                    sub_len = struct.unpack(">H", item[6:8])[0]
                    syntax = item[8 : 8 + sub_len].rstrip(b"\x00 ").decode("ascii")
                index = (context_id - 1) // 2
                if result == 0 and context_id % 2 == 1 and 0 <= index < len(self.contexts):
                    abstract, proposed = self.contexts[index]
                    if syntax and syntax != proposed:
                        # One syntax proposed per context: the peer may only accept it.
                        raise ProtocolError(f"context {context_id} accepted with {syntax}")
                    self.accepted.setdefault(abstract, {})[proposed] = context_id
            elif kind == 0x50:
                sub = 0
                while sub + 4 <= len(item):
                    sub_kind, sub_len = struct.unpack(">BxH", item[sub : sub + 4])
                    if sub_kind == 0x51 and sub_len >= 4:
                        (self.peer_max_pdu,) = struct.unpack(">I", item[sub + 4 : sub + 8])
                    sub += 4 + sub_len
            pos += 4 + length

    def _chunk(self) -> int:
        """Data bytes per P-DATA-TF: the peer's maximum PDU less the PDV header."""
        return (self.peer_max_pdu - 6) if self.peer_max_pdu > 6 else DEFAULT_CHUNK

    def _send_fragments(self, context_id: int, control: int, data: memoryview) -> None:
        chunk = self._chunk()
        total = len(data)
        pos = 0
        while True:
            piece = data[pos : pos + chunk]
            pos += len(piece)
            last = 0x02 if pos >= total else 0x00
            header = _PDU_HEADER.pack(P_DATA_TF, len(piece) + 6) + _PDV_HEADER.pack(
                len(piece) + 2, context_id, control | last
            )
            if not control & 0x01:
                self._data_out = True
            self.sock.sendall(header + piece)
            if last:
                return

    def _data_pdus(self, context_id: int, f: BinaryIO, size: int, first: bytes) -> Iterator[bytes]:
        """P-DATA-TF PDUs of a data set: ``first`` (already read), then the rest of ``f``."""
        chunk = self._chunk()
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
                _PDU_HEADER.pack(P_DATA_TF, len(piece) + 6)
                + _PDV_HEADER.pack(len(piece) + 2, context_id, last)
                + piece
            )
            if last:
                return

    def _sendfile_pdus(self, context_id: int, f: BinaryIO, start: int, length: int) -> None:
        """P-DATA-TF PDUs of a data set at ``start`` in ``f``, the data copied by the kernel."""
        chunk = self._chunk()
        pos, end = start, start + length
        while pos < end:
            n = min(chunk, end - pos)
            last = 0x02 if pos + n >= end else 0x00
            header = _PDU_HEADER.pack(P_DATA_TF, n + 6) + _PDV_HEADER.pack(n + 2, context_id, last)
            if self._data_out:
                self._no_early_answer()
            self._data_out = True
            self.sock.sendall(header, _MORE)
            if self.sock.sendfile(f, pos, n) != n:
                raise OSError("the file ended early")
            pos += n

    def _read_response(self, message_id: int, context_id: int, sop_class: str,
                       sop_instance: str) -> StoreAnswer:  # fmt: skip
        """Read the C-STORE-RSP to request ``message_id`` and check it is that answer.

        Raises
        ------
        ProtocolError
            Anything but a C-STORE-RSP to this request, on its context, for
            this instance, without a data set.
        PeerAborted, PeerReleased
            The peer ended the association instead of answering.
        """
        deadline = time.monotonic() + self.timeout  # the whole answer, however many PDUs
        command = bytearray()
        done = False
        while not done:
            kind, body = self._read_pdu(deadline)
            if kind == A_RELEASE_RQ:
                with contextlib.suppress(OSError):
                    self.sock.sendall(_RELEASE_RP)
                raise PeerReleased("the PACS released the association before answering")
            if kind == A_ABORT:
                raise PeerAborted(*_abort_fields(body))
            if kind != P_DATA_TF:
                raise ProtocolError(f"unexpected PDU type 0x{kind:02X} where a response was due")
            pos = 0
            while pos < len(body):
                if done or pos + 6 > len(body):
                    raise ProtocolError("a P-DATA-TF with trailing bytes")
                length, pdv_context, control = _PDV_HEADER.unpack(body[pos : pos + 6])
                if length < 2 or pos + 4 + length > len(body):
                    raise ProtocolError(f"a PDV of impossible length {length}")
                if not control & 0x01:
                    raise ProtocolError("a data set where a C-STORE response was due")
                if pdv_context != context_id:
                    raise ProtocolError(f"the response came on context {pdv_context}, "
                                        f"not {context_id}")  # fmt: skip
                command += body[pos + 6 : pos + 4 + length]
                if len(command) > MAX_COMMAND:
                    raise ProtocolError("a response command set too large")
                done = bool(control & 0x02)
                pos += 4 + length
        fields = parse_command(bytes(command))
        field = _us(fields, 0x00000100)
        if field != C_STORE_RSP:
            raise ProtocolError(f"the answer is not a C-STORE-RSP (command field 0x{field:04X})")
        answered = _us(fields, 0x00000120)
        if answered != message_id:
            raise ProtocolError(f"the answer is to message {answered}, not {message_id}")
        if 0x00000800 in fields and _us(fields, 0x00000800) != NO_DATA_SET:
            raise ProtocolError("the C-STORE-RSP announces a data set")
        for tag, sent in ((0x00000002, sop_class), (0x00001000, sop_instance)):
            if tag in fields:
                got = fields[tag].rstrip(b"\x00 ").decode("latin-1")
                if got != sent:
                    raise ProtocolError(f"the C-STORE-RSP names {got!r}, not {sent!r}")
        status = _us(fields, 0x00000900)
        comment = clean_comment(fields.get(0x00000902, b""))
        return StoreAnswer(status, comment)

    # --- requests -----------------------------------------------------------------------
    def context_for(self, sop_class: str, syntax: str) -> int | None:
        """Return the accepted context id for a SOP class in a transfer syntax, if any."""
        return self.accepted.get(sop_class, {}).get(syntax)

    def _next_id(self) -> int:
        self._message_id = (self._message_id % 0xFFFF) + 1
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
    ) -> StoreAnswer:
        """Send a file's data set; return the PACS's answer (status ``None``: none).

        ``head`` holds the file's first bytes (already read from ``f``), the data set
        starts at ``offset``; the command and the first data PDUs go out in one write.
        ``while_waiting`` runs once the data set is sent, while the PACS stores it.
        """
        if not self.is_open:
            return StoreAnswer(None, sent=False, problem="the association is closed")
        self._data_out = False
        try:
            message_id = self._next_id()
            command = store_command(message_id, sop_class, sop_instance)
            out = (
                _PDU_HEADER.pack(P_DATA_TF, len(command) + 6)
                + _PDV_HEADER.pack(len(command) + 2, context_id, 0x03)
                + command
            )
            if size > len(head) and self._plain:
                # A large file: the kernel copies it from the spool to the socket.
                self.sock.sendall(out, _MORE)
                self._sendfile_pdus(context_id, f, offset, size - offset)
            else:
                for pdu in self._data_pdus(context_id, f, size - offset, head[offset:]):
                    out += pdu
                    if len(out) >= 1 << 18:
                        if self._data_out:
                            self._no_early_answer()
                        self._data_out = True
                        self.sock.sendall(out)
                        out = b""
                if out:
                    self._data_out = True
                    self.sock.sendall(out)
            if while_waiting is not None:
                while_waiting()
            answer = self._read_response(message_id, context_id, sop_class, sop_instance)
            self._not_reset()
            return answer
        except Exception as exc:
            return self._failed(exc)

    def _no_early_answer(self) -> None:
        """Refuse a PACS that speaks while the data set is still going out.

        A C-STORE-RSP comes after the whole request (PS3.7 9.3.1.2): one sent
        before it (or an A-ABORT) means the PACS does not take the data set
        whole, and a success in it is no delivery.

        Raises
        ------
        ProtocolError
            If the PACS has sent something already.
        """
        ready, _, _ = select.select([self.sock], [], [], 0)
        if ready:
            raise ProtocolError("the PACS answered before it had the whole data set")

    def _not_reset(self) -> None:
        """Refuse an answer the PACS followed by resetting the connection.

        A PACS that closes with part of our data set unread in its buffer
        resets the connection: it answered (success, maybe) before it had the
        whole data set, which then all went into the socket's buffers at
        once. Such an answer is no delivery; the instance is sent again. A
        reset that comes later than this look is not seen: storage
        commitment is what proves an instance is kept.

        Raises
        ------
        ProtocolError
            If the connection was reset.
        """
        if not self._plain:
            return  # TLS: no peeking under the record layer
        ready, _, _ = select.select([self.sock], [], [], 0)
        if not ready:
            return  # nothing more: the association is as it should be
        try:
            self.sock.recv(1, socket.MSG_PEEK)  # a PDU stays for the next read
        except ConnectionResetError as exc:
            raise ProtocolError(
                "the PACS answered, then reset the connection: it did not take the whole data set"
            ) from exc

    def store_bytes(
        self, sop_class: str, sop_instance: str, context_id: int, data: bytes
    ) -> StoreAnswer:
        """Send an encoded data set; return the PACS's answer (status ``None``: none)."""
        if not self.is_open:
            return StoreAnswer(None, sent=False, problem="the association is closed")
        self._data_out = False
        try:
            message_id = self._next_id()
            command = store_command(message_id, sop_class, sop_instance)
            self._send_fragments(context_id, 0x01, memoryview(command))
            self._send_fragments(context_id, 0x00, memoryview(data))
            return self._read_response(message_id, context_id, sop_class, sop_instance)
        except Exception as exc:
            return self._failed(exc)

    def _failed(self, exc: BaseException) -> StoreAnswer:
        """End the association after a request went wrong; say why and whether data went out.

        A peer that aborted or released is only closed on; for anything else
        (a protocol error, a timeout, a broken connection, a file that ended
        early) we send A-ABORT first (PS3.8 9.1.8: the peer then forgets the
        request).
        """
        if isinstance(exc, PeerAborted | PeerReleased):
            problem = str(exc)
            self._close()
        else:
            if isinstance(exc, ProtocolError):
                problem = f"protocol error ({exc}); association aborted"
            elif isinstance(exc, TimeoutError):
                problem = f"no answer within {self.timeout:g} s; association aborted"
            elif isinstance(exc, struct.error | UnicodeDecodeError):
                problem = f"protocol error (a malformed response: {exc}); association aborted"
            elif isinstance(exc, OSError | AssociationError):
                problem = f"connection lost ({exc}); association aborted"
            else:
                problem = f"sending failed ({type(exc).__name__}: {exc}); association aborted"
            self._abort()
        what = "answer lost" if self._data_out else "never sent"
        return StoreAnswer(None, sent=self._data_out, problem=f"{what}: {problem}")

    def release(self) -> None:
        """Release the association (A-RELEASE), or just close if the peer does not answer."""
        if not self.is_open:
            return
        try:
            self.sock.settimeout(min(self.timeout, 5.0))
            self.sock.sendall(_RELEASE_RQ)
            deadline = time.monotonic() + min(self.timeout, 5.0)
            while True:
                kind, _ = self._read_pdu(deadline)
                if kind == A_RELEASE_RQ:  # both released at once (PS3.8 9.2.8): we requested
                    self.sock.sendall(_RELEASE_RP)
                elif kind in (A_RELEASE_RP, A_ABORT):
                    break
        except Exception:  # the association ends either way
            pass
        self._close()

    def _abort(self) -> None:
        """Send A-ABORT (PS3.8 7.3.1: no answer awaited), then close the socket."""
        with contextlib.suppress(OSError, ValueError):
            self.sock.settimeout(1.0)
            self.sock.sendall(_ABORT)
        self._close()

    def _close(self) -> None:
        self.is_open = False
        with contextlib.suppress(OSError):
            self.sock.close()


def _abort_fields(body: bytes) -> tuple[int, int]:
    """The source and reason of an A-ABORT PDU's body (0, 0 when it is too short)."""
    return (body[2], body[3]) if len(body) >= 4 else (0, 0)


def _us(fields: dict[int, bytes], tag: int) -> int:
    """An unsigned short of a command set; a missing or short one is a protocol error."""
    value = fields.get(tag, b"")
    if len(value) != 2:
        raise ProtocolError(f"the response lacks a valid ({tag >> 16:04X},{tag & 0xFFFF:04X})")
    return int(struct.unpack("<H", value)[0])


def connect(destination: Destination, calling_ae: str, contexts: Sequence[tuple[str, str]]
            ) -> StoreAssociation:  # fmt: skip
    """Open the fast engine's association to a destination, or raise a one-line error.

    Raises
    ------
    AssociationRejected
        The destination answered A-ASSOCIATE-RJ (permanent or transient).
    AssociationAborted
        It answered the request with A-ABORT.
    PeerError
        It cannot be reached, the TLS handshake failed, or it broke off.
    """
    role = destination.label or destination.name
    where = f"{destination.ae_title} at {destination.host}:{destination.port}"
    try:
        return StoreAssociation(
            destination.host,
            destination.port,
            calling=calling_ae,
            called=destination.ae_title,
            contexts=contexts,
            max_pdu=destination.max_pdu,
            timeout=destination.timeout or NETWORK_TIMEOUT,
            connect_timeout=CONNECT_TIMEOUT,
            tls=tls_context(destination),
        )
    except Rejected as exc:
        raise association_rejected(
            exc.result, exc.source, exc.reason, role=role, where=where,
            calling_ae=calling_ae, called_ae=destination.ae_title,
        ) from exc  # fmt: skip
    except PeerAborted as exc:
        raise AssociationAborted(
            f"the {role} {where} aborted the association we asked for (A-ABORT source "
            f"{exc.source}, reason {exc.reason}); check its log and that it knows our AE "
            f"title {calling_ae!r}",
            source=exc.source,
            reason=exc.reason,
        ) from exc
    except AssociationError as exc:
        handshake = isinstance(exc, TlsHandshakeError)
        problem = tls_problem(exc, destination, role, handshake=handshake)
        if problem:
            raise PeerError(problem) from exc
        raise PeerError(
            f"cannot reach the {role} {where} ({exc}); "
            "check that it is running and the host and port in the config"
        ) from exc
