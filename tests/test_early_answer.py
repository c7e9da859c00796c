"""A C-STORE-RSP that comes before the whole data set is no delivery (red team, round 5).

A PACS must answer a C-STORE after the whole request (PS3.7 9.3.1.2). One
that answers success after the first fragment and then closes the connection
never got the data set, and the fast engine counted it sent. Now an answer
that arrives while the data set is still going out is a protocol error, and
the instance stays queued. The peer is a real socket server on loopback
that speaks the upper layer protocol (max PDU 1,024 bytes, so a data set is
many P-DATA-TF PDUs).

Not caught, and said so in docs/CLI.md: a data set small enough to go out
in one write, answered early and then cut, looks like a true delivery to
the sender; storage commitment is what proves an instance is kept.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest

from kiosk.config import load_config
from kiosk.send.deliver import deliver
from kiosk.store import outbox
from tests.discs import write_instances
from tests.peers import free_port
from tests.test_send_delivery import config_file, queue_study
from tests.upper_layer import accept, read_pdu

_PDU = struct.Struct(">BxI")


def _success_to(command: bytes, context_id: int) -> bytes:
    """A P-DATA-TF holding a C-STORE-RSP (success) to the C-STORE-RQ ``command``."""
    fields, pos = {}, 0
    while pos + 8 <= len(command):
        group, elem, length = struct.unpack("<HHI", command[pos : pos + 8])
        fields[group << 16 | elem] = command[pos + 8 : pos + 8 + length]
        pos += 8 + length
    answer = {
        0x00000002: fields.get(0x00000002, b""),
        0x00000100: struct.pack("<H", 0x8001),
        0x00000120: fields.get(0x00000110, b"\0\0"),
        0x00000800: struct.pack("<H", 0x0101),
        0x00000900: struct.pack("<H", 0x0000),
        0x00001000: fields.get(0x00001000, b""),
    }
    out = b"".join(struct.pack("<HHI", t >> 16, t & 0xFFFF, len(v)) + v for t, v in answer.items())
    out = struct.pack("<HHI", 0, 0, 4) + struct.pack("<I", len(out)) + out
    pdv = struct.pack(">IBB", len(out) + 2, context_id, 0x03) + out
    return _PDU.pack(4, len(pdv)) + pdv


class EarlyPacs:
    """Answers success to each C-STORE after the first data fragment, then hangs up."""

    def __init__(self) -> None:
        self.ae_title, self.host, self.port = "EARLY", "127.0.0.1", free_port()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.host, self.port))
        self.sock.listen(8)
        self.sock.settimeout(0.1)
        self.stopped = threading.Event()
        self.threads: list[threading.Thread] = []
        self.accepting = threading.Thread(target=self._accept_all, daemon=True)
        self.accepting.start()

    def _accept_all(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(10)
                _, rq = read_pdu(conn)
                conn.sendall(accept(rq, 1024))
                command = b""
                while True:
                    kind, body = read_pdu(conn)
                    if kind != 4:  # a release or an abort: done
                        return
                    length, context_id, control = struct.unpack(">IBB", body[:6])
                    if control & 0x01:
                        command += body[6 : 4 + length]
                        continue
                    conn.sendall(_success_to(command, context_id))  # the first fragment only
                    time.sleep(0.05)
                    return  # and hang up, the rest of the data set unread
            except OSError:  # the kiosk hung up
                return

    def close(self) -> None:
        self.stopped.set()
        self.accepting.join(5)
        self.sock.close()
        for thread in self.threads:
            thread.join(15)


@pytest.fixture
def early_pacs() -> Iterator[EarlyPacs]:
    pacs = EarlyPacs()
    try:
        yield pacs
    finally:
        pacs.close()


def test_a_success_before_the_whole_data_set_is_no_delivery(tmp_path, store, early_pacs):
    paths = write_instances(tmp_path / "spool", 3, size=512)  # 512 KiB each: many PDUs
    study = queue_study(store, paths, "radiology")
    cfg = config_file(tmp_path, early_pacs, timeout=5, associations=1)

    report = deliver(store, load_config(cfg))

    assert report.sent == 0
    assert outbox.remaining(store) == 3  # all still to send
    errors = [
        str(r[0])
        for r in store.execute(
            "SELECT last_error FROM outbox WHERE instance_id IN"
            " (SELECT id FROM instances WHERE study_id = ?)",
            (study.study_id,),
        )
    ]
    assert any("answered before it had the whole data set" in e for e in errors), errors
