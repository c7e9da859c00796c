"""Peers that trickle their answer, one byte at a time, are no answer within the timeout.

A timeout per read is no bound against a peer that sends a byte now and
then: every read gets something. The kiosk counts the time of a whole
answer instead (docs/CLI.md): the HL7 receiver's whole ACK frame within
``[hl7] timeout`` of the connection, and each DICOM answer (the
A-ASSOCIATE-AC, the response to a request) within the destination's
``timeout``, on both C-STORE engines and on every pynetdicom association
(echo, the identity C-FIND, the worklist, storage commitment).

The peers here are real: a socket server thread on loopback that reads the
request, starts an answer and then sends one byte every quarter of a second
(far less than any timeout) for :data:`TRICKLE` seconds, so a kiosk that
waits for the whole answer waits that long. The commands run as processes
of their own (``python -m kiosk``), as a user would run them.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from kiosk.cli import main
from kiosk.config import Destination
from kiosk.errors import PeerError
from tests.discs import write_ct_disc, write_instances
from tests.kiosk_config import write_config
from tests.mllp_listener import free_port
from tests.peers import wait_until
from tests.test_send_delivery import queue_study
from tests.upper_layer import accept, read_pdu

#: How long a peer trickles before it gives up and closes (a kiosk bounded only by
#: the peer would take this long: the tests' bounds are far below it).
TRICKLE = 12.0
#: One byte every EVERY seconds: a timeout per read never fires.
EVERY = 0.25
#: The timeout configured for the peer (seconds).
TIMEOUT = 1
#: What a kiosk process may take beyond its timeouts: Python's start-up, imports
#: (pynetdicom, hl7apy), the database, on a busy machine.
START_UP = 5.0
START, END = b"\x0b", b"\x1c\x0d"
JANE = ("EXT-1", "DOE^JANE", "19700101", "F")


class Trickler:
    """A TCP server on loopback: reads a request, starts an answer, then trickles it.

    ``opening(conn)`` reads the peer's request and returns the first bytes of
    the answer (an MLLP start block, a PDU header announcing 4000 bytes);
    then a byte goes out every :data:`EVERY` seconds for :data:`TRICKLE`
    seconds, while whatever the kiosk sends is read and dropped. ``hung_up``
    holds, for each connection, the seconds from its acceptance until the
    kiosk closed it (``None``: the peer closed first).
    """

    ae_title = "TRICKLE"
    host = "127.0.0.1"

    def __init__(self, opening: Callable[[socket.socket], bytes]) -> None:
        self.opening = opening
        self.hung_up: list[float | None] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._listener = socket.create_server((self.host, 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._threads = [threading.Thread(target=self._serve, name="trickler", daemon=True)]
        self._threads[0].start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=self._one, args=(conn,), name="trickle", daemon=True)
            with self._lock:
                self._threads.append(worker)
            worker.start()

    def _one(self, conn: socket.socket) -> None:
        began = time.monotonic()
        closed_by_kiosk: float | None = None
        with conn:
            try:
                conn.settimeout(5.0)
                conn.sendall(self.opening(conn))
                while time.monotonic() - began < TRICKLE and not self._stop.is_set():
                    readable, _, _ = select.select([conn], [], [], EVERY)
                    if readable:
                        if not conn.recv(65536):
                            closed_by_kiosk = time.monotonic() - began
                            break
                        continue
                    conn.sendall(b"\x00")
            except OSError:
                closed_by_kiosk = time.monotonic() - began
        with self._lock:
            self.hung_up.append(closed_by_kiosk)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        for thread in list(self._threads):
            thread.join(5)


def trickled_association(conn: socket.socket) -> bytes:
    """Read the A-ASSOCIATE-RQ; answer the header of a 4000-byte A-ASSOCIATE-AC."""
    read_pdu(conn)
    return struct.pack(">BxI", 0x02, 4000)


def trickled_response(conn: socket.socket) -> bytes:
    """Accept the association; answer the first request with a 4000-byte P-DATA-TF, trickled."""
    kind, rq = read_pdu(conn)
    assert kind == 0x01
    conn.sendall(accept(rq))
    kind, _ = read_pdu(conn)  # the request's first P-DATA-TF
    return struct.pack(">BxI", 0x04, 4000)


def trickled_ack(conn: socket.socket) -> bytes:
    """Read one MLLP frame; answer the start of an ACK."""
    buffer = b""
    while END not in buffer:
        chunk = conn.recv(65536)
        if not chunk:
            raise OSError("the kiosk closed the connection")
        buffer += chunk
    return START + b"MSH|^~\\&|BILLING|"


MODES = {"association": trickled_association, "response": trickled_response}


@pytest.fixture
def trickler(request: pytest.FixtureRequest) -> Iterator[Trickler]:
    """A trickling peer; the test's parameter (``indirect``) names how it trickles."""
    peer = Trickler(getattr(request, "param", trickled_association))
    try:
        yield peer
    finally:
        peer.close()


def kiosk(*args: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """``python -m kiosk ARGS`` in a process of its own: the result and the seconds it took."""
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=4 * TRICKLE + 60,
        env=dict(os.environ),
        check=False,
    )
    return done, time.monotonic() - began


def one_line(stderr: str) -> str:
    """The failure's line (the last), each line of stderr being one ``kiosk: ...`` line."""
    lines = stderr.splitlines()
    assert lines and all(line.startswith("kiosk: ") for line in lines), stderr
    assert "Traceback" not in stderr
    return lines[-1]


def config(
    tmp_path: Path, peer: Trickler | tuple[str, str, int], *, worklist: Trickler | None = None
) -> Path:
    """A config with ``peer`` as the radiology PACS (``timeout`` = :data:`TIMEOUT`)."""
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations={"radiology": peer},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    text = cfg.read_text().replace(
        'department = "radiology"', f'department = "radiology"\ntimeout = {TIMEOUT}'
    )
    if worklist is not None:
        text = text.replace("[worklist]", f"[worklist]\ntimeout = {TIMEOUT}")
    cfg.write_text(text)
    return cfg


# --- HL7 ---------------------------------------------------------------------------------------


def test_a_trickling_hl7_receiver_is_no_answer_within_the_timeout(tmp_path, capsys):
    disc = tmp_path / "disc"
    write_ct_disc(disc, [JANE], per_study=1)
    peer = Trickler(trickled_ack)
    try:
        cfg = config(tmp_path, ("PACS", "127.0.0.1", free_port()))  # no PACS: MRN unconfirmed
        cfg.write_text(
            cfg.read_text()
            + f'\n[hl7]\nhost = "127.0.0.1"\nport = {peer.port}\ntimeout = {TIMEOUT}\n'
            "tries = 2\nbackoff_ms = 20\n"
        )
        args = ("--config", str(cfg), "--json")
        assert main(["import", str(disc), "--all", "--mrn", "MRN1", "--no-send", "--tag",
                     "second-read", "--reason", "compare", *args]) == 0  # fmt: skip
        assert main(["second-reads", "--set-state", "1", "ordered", "--accession", "ACC1",
                     *args]) == 0  # fmt: skip
        capsys.readouterr()

        done, took = kiosk("second-reads", "--send", *args)
    finally:
        peer.close()
    # Two tries, each no answer within the timeout; the message stays queued: exit 6.
    assert done.returncode == 6, done.stderr
    assert took < 2 * TIMEOUT + START_UP, f"{took:.1f} s"
    line = one_line(done.stderr)
    assert "stay queued" in line or "queued" in line, line
    out = json.loads(done.stdout)
    assert out["waiting"] == 1 and out["acked"] == 0 and out["receiver_down"] is False
    [message] = out["messages"]
    assert message["state"] == "queued"
    assert f"did not answer within {TIMEOUT} s" in message["error"]
    # The peer saw two tries, each ended by the kiosk at the timeout, not by the peer.
    assert len(peer.hung_up) == 2, peer.hung_up
    assert all(t is not None and t < TIMEOUT + 1.0 for t in peer.hung_up), peer.hung_up


# --- DICOM -------------------------------------------------------------------------------------

BOTH = pytest.mark.parametrize("trickler", list(MODES.values()), ids=list(MODES), indirect=True)


@BOTH
def test_echo_to_a_trickling_pacs_fails_within_the_timeout(tmp_path, trickler):
    cfg = config(tmp_path, trickler)
    done, took = kiosk("echo", "--dest", "radiology", "--config", str(cfg), "--json")
    assert done.returncode == 4, done.stderr
    assert took < 2 * TIMEOUT + START_UP, f"{took:.1f} s"
    line = one_line(done.stderr)
    assert "TRICKLE" in line, line
    assert trickler.hung_up and all(
        t is not None and t < 2 * TIMEOUT + 1.0 for t in trickler.hung_up
    ), trickler.hung_up


@BOTH
@pytest.mark.parametrize("engine", ["fast", "pynetdicom"])
def test_send_to_a_trickling_pacs_fails_within_the_timeout(tmp_path, store, trickler, engine):
    # `kiosk send` opens two associations: the identity C-FIND (pynetdicom), then the
    # C-STORE engine's; each ends at its timeout, the study stays queued: exit 6.
    cfg = config(tmp_path, trickler)
    cfg.write_text(cfg.read_text() + f'\n[send]\nengine = "{engine}"\n')
    paths = write_instances(tmp_path / "files", 2, study_uid=generate_uid())
    queue_study(store, paths, "radiology")
    done, took = kiosk("send", "--config", str(cfg), "--json")
    assert done.returncode == 6, done.stderr
    assert took < 4 * TIMEOUT + START_UP, f"{took:.1f} s"
    assert "still queued" in one_line(done.stderr)
    assert f"within {TIMEOUT} s" in done.stderr
    out = json.loads(done.stdout)
    assert out["sent"] == 0 and out["remaining"] == 2
    assert trickler.hung_up and all(
        t is not None and t < 2 * TIMEOUT + 1.0 for t in trickler.hung_up
    ), trickler.hung_up


@BOTH
def test_a_trickling_worklist_fails_within_the_timeout(tmp_path, trickler):
    cfg = config(tmp_path, trickler, worklist=trickler)
    done, took = kiosk("worklist", "--mrn", "MRN1", "--config", str(cfg), "--json")
    assert done.returncode == 4, done.stderr
    assert took < 2 * TIMEOUT + START_UP, f"{took:.1f} s"
    one_line(done.stderr)


@BOTH
def test_a_storage_commitment_request_to_a_trickling_pacs_fails_within_the_timeout(trickler):
    from kiosk.send.commitment import request_commitment

    destination = Destination(
        trickler.ae_title, trickler.host, trickler.port, timeout=TIMEOUT, name="radiology"
    )
    began = time.monotonic()
    with pytest.raises(PeerError):
        request_commitment(destination, "KIOSK", generate_uid(), [("1.2.840.10008.5.1.4.1.1.2",
                                                                   generate_uid())])  # fmt: skip
    took = time.monotonic() - began
    assert took < 2 * TIMEOUT + 1.0, f"{took:.1f} s"


def test_a_peer_trickling_to_the_commitment_listener_is_cut_off_within_the_timeout():
    """A peer that starts an A-ASSOCIATE-RQ to our listener and sends a byte now and then
    held one of its threads for as long as it went on; now it is cut off at the timeout."""
    from kiosk.send.commitment import ReportListener

    port = free_port()
    listener = ReportListener("KIOSK", port, host="127.0.0.1", timeout=TIMEOUT)
    try:
        peer = socket.create_connection(("127.0.0.1", port), timeout=TRICKLE)
        began = time.monotonic()
        peer.sendall(b"\x01\x00\x00\x00\x10\x00")  # an A-ASSOCIATE-RQ of 4,096 bytes, begun
        cut_off = None
        while time.monotonic() - began < TRICKLE:
            try:
                peer.sendall(b"\x00")
            except OSError:
                cut_off = time.monotonic() - began
                break
            ready, _, _ = select.select([peer], [], [], EVERY)
            if ready and peer.recv(64) == b"":  # the listener closed the connection
                cut_off = time.monotonic() - began
                break
        peer.close()
    finally:
        listener.close()
        wait_until(
            lambda: (
                not any(
                    t.name.startswith(("AcceptorThread", "deadline-acceptor"))
                    for t in threading.enumerate()
                )
            ),
            10,
            what="the listener's threads to end",
        )
    assert cut_off is not None, f"still connected after {TRICKLE:g} s"
    assert cut_off < TIMEOUT + 1.0, f"{cut_off:.1f} s"


def test_a_silent_connection_to_the_commitment_listener_ends_within_seconds_of_closing():
    """Red team round 5: a connection that said nothing kept `kiosk send` from exiting 30 s."""
    from kiosk.send.commitment import REQUEST_WAIT, ReportListener

    port = free_port()
    listener = ReportListener("KIOSK", port, host="127.0.0.1")
    peer = socket.create_connection(("127.0.0.1", port), timeout=TRICKLE)
    try:
        wait_until(
            lambda: any(t.name.startswith("AcceptorThread") for t in threading.enumerate()),
            5,
            what="the listener to take the connection",
        )
        began = time.monotonic()
        listener.close()
        wait_until(
            lambda: not any(t.name.startswith("AcceptorThread") for t in threading.enumerate()),
            REQUEST_WAIT + 2,
            what="the listener's threads to end",
        )
        assert time.monotonic() - began < REQUEST_WAIT + 1.0
    finally:
        peer.close()
