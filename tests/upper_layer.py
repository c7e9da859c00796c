"""The DICOM upper layer, as far as a test's raw-socket peer needs it (PS3.8 9.3).

Test peers that must misbehave in ways no real SCP can be made to (trickle
an answer, answer too early) speak the protocol by hand on loopback: read a
PDU, accept an association.
"""

from __future__ import annotations

import socket
import struct

_PDU = struct.Struct(">BxI")


def read_exactly(conn: socket.socket, n: int) -> bytes:
    """``n`` bytes from ``conn``; ``OSError`` if the kiosk closes the connection first."""
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise OSError("the kiosk closed the connection")
        data += chunk
    return data


def read_pdu(conn: socket.socket) -> tuple[int, bytes]:
    """One PDU: its type and its body."""
    kind, length = _PDU.unpack(read_exactly(conn, 6))
    return kind, read_exactly(conn, length)


def item(kind: int, payload: bytes) -> bytes:
    """A variable item of an association PDU."""
    return struct.pack(">BxH", kind, len(payload)) + payload


def accept(rq: bytes, max_pdu: int = 16384) -> bytes:
    """An A-ASSOCIATE-AC accepting every context of an A-ASSOCIATE-RQ (its first syntax)."""
    items = [item(0x10, b"1.2.840.10008.3.1.1.1")]
    pos = 68
    while pos + 4 <= len(rq):
        kind, length = struct.unpack(">BxH", rq[pos : pos + 4])
        body = rq[pos + 4 : pos + 4 + length]
        if kind == 0x20:
            sub, syntax = 4, b""
            while sub + 4 <= len(body):
                sub_kind, sub_len = struct.unpack(">BxH", body[sub : sub + 4])
                if sub_kind == 0x40 and not syntax:
                    syntax = body[sub + 4 : sub + 4 + sub_len]
                sub += 4 + sub_len
            items.append(item(0x21, bytes([body[0], 0, 0, 0]) + item(0x40, syntax)))
        pos += 4 + length
    user = item(0x51, struct.pack(">I", max_pdu)) + item(0x52, b"1.2.826.0.1.3680043.9.7433.1")
    items.append(item(0x50, user))
    ac = struct.pack(">H2x", 1) + rq[4:36] + b"\x00" * 32 + b"".join(items)
    return _PDU.pack(0x02, len(ac)) + ac
