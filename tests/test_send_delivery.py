"""Delivery from the outbox to real DCMTK storescp peers: transcoding, outages, crashes, policy.

Studies are put straight into the store (files written by pydicom, rows in
state ``queued``) so each test controls exactly what is sent; the import
pipeline itself is covered by ``test_import_e2e.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, RLELossless, generate_uid

from kiosk.cli import main
from kiosk.config import load_config
from kiosk.progress import Phase, Progress
from kiosk.send.deliver import deliver
from kiosk.store import outbox, studies
from kiosk.store.outbox import OutboxState
from kiosk.store.studies import StudyState
from tests.discs import write_instances
from tests.kiosk_config import DicomPeer, write_config
from tests.peers import StorageServer, free_port, wait_until

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class QueuedStudy:
    """A study put in the store, ready to send."""

    study_id: int
    study_instance_uid: str
    sop_instance_uids: list[str] = field(default_factory=list)
    pixel_sha256: dict[str, str] = field(default_factory=dict)


def queue_study(conn: sqlite3.Connection, paths: list[Path], destination: str) -> QueuedStudy:
    """Put files in the store as one study queued for ``destination``."""
    first = pydicom.dcmread(paths[0], stop_before_pixels=True)
    sid = studies.add_study(
        conn,
        study_instance_uid=first.StudyInstanceUID,
        original_patient_id="EXT-1",
        original_issuer="OUTSIDE",
        source="test",
        station="TEST-DESK",
        user="test",
        destination=destination,
    )
    study = QueuedStudy(sid, first.StudyInstanceUID)
    conn.execute("BEGIN IMMEDIATE")
    for k, path in enumerate(paths):
        ds = pydicom.dcmread(path)
        iid = studies.add_instance(
            conn,
            sid,
            sop_instance_uid=ds.SOPInstanceUID,
            sop_class_uid=ds.SOPClassUID,
            transfer_syntax_uid=ds.file_meta.TransferSyntaxUID,
            source_relpath=f"DICOM/I{k:07d}",
        )
        studies.update_instance(conn, iid, coerced_path=str(path), size=path.stat().st_size)
        outbox.enqueue(conn, iid, destination, held=False)
        study.sop_instance_uids.append(ds.SOPInstanceUID)
        if "PixelData" in ds:
            arr = ds.pixel_array
            study.pixel_sha256[ds.SOPInstanceUID] = hashlib.sha256(arr.tobytes()).hexdigest()
    conn.execute("COMMIT")
    for state in (StudyState.COPIED, StudyState.MATCHED, StudyState.COERCED, StudyState.QUEUED):
        studies.set_state(conn, sid, state)
    return study


def config_file(
    tmp_path: Path, server: DicomPeer, name: str = "radiology", **extra: object
) -> Path:
    path = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={name: server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    if extra:
        lines = path.read_text().splitlines()
        at = lines.index(f"[destinations.{name}]") + 1
        for key, value in extra.items():
            lines.insert(at, f"{key} = {json.dumps(value)}")
        path.write_text("\n".join(lines) + "\n")
    return path


def run_send(capsys: pytest.CaptureFixture[str], cfg: Path, *args: str) -> tuple[int, dict]:
    code = main(["send", "--config", str(cfg), "--json", *args])
    out, _ = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {})


def outbox_states(conn: sqlite3.Connection, study_id: int) -> dict[str, int]:
    return outbox.counts_for_study(conn, study_id)


# --- transfer syntaxes ------------------------------------------------------------------------


def test_rle_study_arrives_uncompressed_at_a_picky_pacs(
    tmp_path, store, capsys, picky_storage_server
):
    paths = write_instances(tmp_path / "spool", 5, compress=RLELossless)
    study = queue_study(store, paths, "radiology")
    cfg = config_file(tmp_path, picky_storage_server)

    code, out = run_send(capsys, cfg)

    assert code == 0
    assert (out["sent"], out["remaining"]) == (5, 0)
    received = [pydicom.dcmread(p) for p in picky_storage_server.wait_for_files(5)]
    assert {ds.SOPInstanceUID for ds in received} == set(study.sop_instance_uids)
    for ds in received:
        assert ds.file_meta.TransferSyntaxUID in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
        pixels = hashlib.sha256(ds.pixel_array.tobytes()).hexdigest()
        assert pixels == study.pixel_sha256[ds.SOPInstanceUID]
        assert "LossyImageCompression" not in ds  # RLE is lossless: nothing to declare
    assert studies.get_study(store, study.study_id).state is StudyState.SENT


def test_rle_study_stays_compressed_at_a_pacs_that_takes_it(
    tmp_path, store, capsys, storage_server
):
    paths = write_instances(tmp_path / "spool", 3, compress=RLELossless)
    study = queue_study(store, paths, "radiology")
    code, _ = run_send(capsys, config_file(tmp_path, storage_server))
    assert code == 0
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    assert {ds.SOPInstanceUID for ds in received} == set(study.sop_instance_uids)
    assert {ds.file_meta.TransferSyntaxUID for ds in received} == {RLELossless}


def test_large_files_arrive_whole_in_many_pdus(tmp_path, store, capsys, storage_server):
    """512x512 images (512 KB, far past the first read) go out through the kernel copy path,
    cut into storescp's 16 KB PDUs; what arrives is the file's data set, byte for byte."""
    paths = write_instances(tmp_path / "spool", 3, size=512)
    assert all(p.stat().st_size > 500_000 for p in paths)
    study = queue_study(store, paths, "radiology")
    code, _ = run_send(capsys, config_file(tmp_path, storage_server))
    assert code == 0
    received = {pydicom.dcmread(p).SOPInstanceUID: p for p in storage_server.wait_for_files(3)}
    assert set(received) == set(study.sop_instance_uids)
    for path in paths:
        sent = pydicom.dcmread(path)
        got = pydicom.dcmread(received[sent.SOPInstanceUID])
        assert got.PixelData == sent.PixelData
        assert got == sent  # every element of the data set


def test_lossy_jpeg_sent_uncompressed_says_it_was_lossy(
    tmp_path, store, capsys, picky_storage_server
):
    pytest.importorskip("pylibjpeg")
    from pydicom.uid import JPEGBaseline8Bit

    folder = tmp_path / "spool"
    folder.mkdir()
    # An 8-bit JPEG baseline file as outside discs have them (encoded by DCMTK's dcmcjpeg).
    src = write_instances(tmp_path / "raw", 1, size=64)[0]
    ds = pydicom.dcmread(src)
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.PixelData = (np.frombuffer(ds.PixelData, np.uint16) % 256).astype(np.uint8).tobytes()
    ds.save_as(src, enforce_file_format=True)
    target = folder / "jpeg.dcm"
    if not os.path.exists("/usr/bin/dcmcjpeg"):
        pytest.skip("/usr/bin/dcmcjpeg is not installed (apt-get install dcmtk)")
    subprocess.run(["/usr/bin/dcmcjpeg", "+eb", str(src), str(target)], check=True)
    assert pydicom.dcmread(target).file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    study = queue_study(store, [target], "radiology")

    code, _ = run_send(capsys, config_file(tmp_path, picky_storage_server))

    assert code == 0
    [path] = picky_storage_server.wait_for_files(1)
    got = pydicom.dcmread(path)
    assert got.SOPInstanceUID == study.sop_instance_uids[0]
    assert got.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert got.LossyImageCompression == "01"
    assert "ISO_10918_1" in (
        [got.LossyImageCompressionMethod]
        if isinstance(got.LossyImageCompressionMethod, str)
        else list(got.LossyImageCompressionMethod)
    )


def test_refused_sop_class_is_quarantined_and_the_rest_goes_on(
    tmp_path, store, capsys, storage_server
):
    study_uid = generate_uid()
    good = write_instances(tmp_path / "spool", 3, study_uid=study_uid)
    odd = write_instances(tmp_path / "spool", 1, study_uid=study_uid, sop_class="1.2.3.4.5.6.7.8")
    study = queue_study(store, good + odd, "radiology")

    code, out = run_send(capsys, config_file(tmp_path, storage_server))

    assert code == 6
    assert (out["sent"], out["quarantined"], out["remaining"]) == (3, 1, 1)
    assert storage_server.received_sop_instance_uids() == set(study.sop_instance_uids[:3])
    [problem] = outbox.problems(store, study.study_id)
    assert problem["sop_instance_uid"] == study.sop_instance_uids[3]
    assert problem["state"] == "quarantined"
    assert problem["last_status"] == "0x0122"
    assert problem["last_error"] == "SOP class refused by the PACS"
    assert outbox_states(store, study.study_id) == {"sent": 3, "quarantined": 1}
    # Nothing left to try: the study is quarantined, for the back office to see why.
    assert studies.get_study(store, study.study_id).state is StudyState.QUARANTINED


# --- outages and crashes ----------------------------------------------------------------------


def test_pacs_down_keeps_everything_queued_untried(tmp_path, store, capsys, storage_server):
    paths = write_instances(tmp_path / "spool", 4)
    study = queue_study(store, paths, "radiology")
    cfg = config_file(tmp_path, storage_server)
    storage_server.stop()

    code, out = run_send(capsys, cfg)

    assert code == 6
    assert (out["sent"], out["remaining"]) == (0, 4)
    assert "radiology" in out["unreachable"]
    rows = store.execute("SELECT state, attempts FROM outbox").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("queued", 0)] * 4  # no attempt burnt
    storage_server.start()
    code, out = run_send(capsys, cfg)
    assert (code, out["sent"]) == (0, 4)
    assert storage_server.received_sop_instance_uids() == set(study.sop_instance_uids)


def test_a_pacs_that_is_down_is_tried_again_with_backoff_and_jitter(
    tmp_path, store, capsys, storage_server
):
    from kiosk.store import health

    study = queue_study(store, write_instances(tmp_path / "spool", 3), "radiology")
    cfg = config_file(tmp_path, storage_server)
    storage_server.stop()

    before = datetime.now(UTC)
    code, out = run_send(capsys, cfg, "--due-only")  # the app's regular run
    assert (code, out["sent"]) == (6, 0)
    first = health.get(store, "radiology")
    assert first is not None and first.failures == 1
    assert "cannot reach" in first.last_error
    wait = datetime.fromisoformat(first.next_attempt_at) - before
    assert timedelta(seconds=2) <= wait <= timedelta(seconds=8)  # 5 s ± 25 %, rounding

    # A person's "kiosk send" tries at once; failing again doubles the wait.
    code, out = run_send(capsys, cfg)
    second = health.get(store, "radiology")
    assert second is not None and second.failures == 2
    assert second.down_since == first.down_since
    wait = datetime.fromisoformat(second.next_attempt_at) - before
    assert timedelta(seconds=6) <= wait <= timedelta(seconds=14)  # 10 s ± 25 %

    # Support staff see it in the queue listing.
    assert main(["queue", "--config", str(cfg), "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    [down] = listing["destinations_down"]
    assert (down["destination"], down["failures"]) == ("radiology", 2)
    assert down["next_attempt_at"] == second.next_attempt_at
    assert [r["state"] for r in listing["studies"]] == ["queued"]

    # The PACS is back, but the regular run waits for its time and does not connect.
    storage_server.start()
    code, out = run_send(capsys, cfg, "--due-only")
    assert (code, out["sent"]) == (6, 0)
    assert "next try after" in out["unreachable"]["radiology"]
    assert storage_server.received_files() == []
    rows = store.execute("SELECT state, attempts FROM outbox").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("queued", 0)] * 3  # no attempt burnt

    # Once its time has come, it is tried; the first association that works clears the record.
    store.execute(
        "UPDATE destination_health SET next_attempt_at = ?", (before.isoformat(timespec="seconds"),)
    )
    code, out = run_send(capsys, cfg, "--due-only")
    assert (code, out["sent"], out["remaining"]) == (0, 3, 0)
    assert health.get(store, "radiology") is None
    assert storage_server.received_sop_instance_uids() == set(study.sop_instance_uids)
    assert main(["queue", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["destinations_down"] == []


def test_storescp_killed_mid_study_then_restarted_delivers_everything(
    tmp_path, store, capsys, storage_server
):
    paths = write_instances(tmp_path / "spool", 120, size=128)
    study = queue_study(store, paths, "radiology")
    cfg = config_file(tmp_path, storage_server)
    config = load_config(cfg)
    killed = threading.Event()

    def on_progress(sent: int, tried: int) -> None:
        if sent >= 20 and not killed.is_set():
            storage_server.stop(graceful=False)  # an abrupt outage mid-study
            killed.set()

    report = deliver(store, config, on_progress=on_progress)

    assert killed.is_set()
    assert 20 <= report.sent < 120
    assert "radiology" in report.unreachable
    assert outbox.remaining(store) == 120 - report.sent
    assert studies.get_study(store, study.study_id).state is StudyState.QUEUED

    storage_server.start()
    code, out = run_send(capsys, cfg)

    assert code == 0, out
    assert out["remaining"] == 0
    assert storage_server.received_sop_instance_uids() == set(study.sop_instance_uids)
    assert outbox_states(store, study.study_id) == {"sent": 120}
    assert studies.get_study(store, study.study_id).state is StudyState.SENT


@pytest.mark.parametrize("engine", ["fast", "pynetdicom"])
def test_a_pacs_that_takes_data_sets_and_answers_none_is_given_up_after_two(
    tmp_path, store, engine
):
    """Red team round 4: each C-STORE cost a timeout and a new association, without end."""
    from tests.pynetdicom_scp import ScriptedScp

    scp = ScriptedScp()
    try:
        scp.script.extend(["stall"] * 20)
        scp.stall = 2.0  # an answer after twice the timeout: too late, each time
        paths = write_instances(tmp_path / "spool", 12, size=16)
        study = queue_study(store, paths, "radiology")
        cfg = config_file(tmp_path, scp, timeout=1, associations=2)
        if engine == "pynetdicom":
            cfg.write_text(cfg.read_text() + '\n[send]\nengine = "pynetdicom"\n')
        report = deliver(store, load_config(cfg))
    finally:
        scp.close()
        wait_until(
            lambda: not any(t.name.startswith("AcceptorThread") for t in threading.enumerate()),
            10,
            what="the SCP's stalled handlers to end",
        )

    assert report.sent == 0
    assert "no answer to two C-STOREs in a row" in report.unreachable["radiology"]
    tried = store.execute(
        "SELECT COUNT(*) FROM outbox WHERE attempts > 0 AND instance_id IN"
        " (SELECT id FROM instances WHERE study_id = ?)",
        (study.study_id,),
    ).fetchone()[0]
    assert tried <= 4  # two per association, then the destination is down
    assert outbox.remaining(store) == 12  # nothing lost: all still to send


def test_a_pacs_that_hangs_mid_study_times_out_then_gets_everything(
    tmp_path, store, capsys, storage_server
):
    paths = write_instances(tmp_path / "spool", 60, size=128)
    study = queue_study(store, paths, "radiology")
    cfg = config_file(tmp_path, storage_server, timeout=2)
    frozen = threading.Event()
    pid = storage_server.pid
    assert pid is not None

    def on_progress(sent: int, tried: int) -> None:
        if sent >= 10 and not frozen.is_set():
            os.kill(pid, signal.SIGSTOP)  # the PACS hangs: connected, but answers nothing
            frozen.set()

    try:
        began = time.monotonic()
        report = deliver(store, load_config(cfg), on_progress=on_progress)
        took = time.monotonic() - began
    finally:
        os.kill(pid, signal.SIGCONT)

    assert frozen.is_set()
    assert 10 <= report.sent < 60
    assert "radiology" in report.unreachable
    assert took < 20  # the 2 s timeout, for the request on the wire and one reopen
    assert outbox.remaining(store) == 60 - report.sent

    code, out = run_send(capsys, cfg)
    assert (code, out["remaining"]) == (0, 0), out
    assert storage_server.received_sop_instance_uids() == set(study.sop_instance_uids)
    assert outbox_states(store, study.study_id) == {"sent": 60}


def test_sender_killed_with_sigkill_and_restarted_delivers_everything(tmp_path, store):
    # storescp sleeps a second after each store, so the kill lands mid-study.
    with StorageServer(
        tmp_path / "slow", ae_title="SLOWSCP", extra_args=["--sleep-after", "1"]
    ) as scp:
        paths = write_instances(tmp_path / "spool", 6)
        study = queue_study(store, paths, "radiology")
        cfg = config_file(tmp_path, scp)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "kiosk", "send", "--config", str(cfg), "--json"]
        proc = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            scp.wait_for_files(2, timeout=30)
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
        assert len(scp.received_files()) < 6
        # The dead process's claims are still there...
        assert store.execute("SELECT count(*) FROM outbox WHERE state = 'sending'").fetchone()[0]

        began = time.monotonic()
        again = subprocess.run(command, env=env, capture_output=True, timeout=120)

        assert again.returncode == 0, again.stderr.decode()
        assert json.loads(again.stdout)["remaining"] == 0
        assert time.monotonic() - began < 60  # ...and were taken over at once, not after a lease
        assert scp.received_sop_instance_uids() == set(study.sop_instance_uids)
        assert outbox_states(store, study.study_id) == {"sent": 6}


def test_two_senders_at_once_never_send_an_instance_twice(tmp_path, store):
    with StorageServer(tmp_path / "fork", ae_title="FORKSCP", extra_args=["--fork"]) as scp:
        paths = write_instances(tmp_path / "spool", 300)
        study = queue_study(store, paths, "radiology")
        cfg = config_file(tmp_path, scp)
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        command = [sys.executable, "-m", "kiosk", "send", "--config", str(cfg), "--json"]
        procs = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]
        outs = []
        for p in procs:
            out, _ = p.communicate(timeout=120)
            outs.append(json.loads(out))
        assert sum(o["sent"] for o in outs) == 300
        wait_until(lambda: len(scp.received_files()) >= 300, 10, what="300 files")
        assert len(scp.received_files()) == 300
        assert scp.received_sop_instance_uids() == set(study.sop_instance_uids)


def test_progress_events_per_study(tmp_path, store, storage_server):
    paths = write_instances(tmp_path / "spool", 10)
    study = queue_study(store, paths, "radiology")
    events: list[Progress] = []
    report = deliver(
        store, load_config(config_file(tmp_path, storage_server)), on_event=events.append
    )
    assert report.sent == 10
    last = events[-1]
    assert (last.phase, last.study_id, last.destination, last.total, last.done) == (
        Phase.SEND,
        study.study_id,
        "radiology",
        10,
        10,
    )
    assert last.bytes_done == last.bytes_total == sum(p.stat().st_size for p in paths)
    assert last.seconds_left == 0
    assert last.rate > 0 and last.bytes_per_second > 0


def test_kiosk_send_verbose_shows_each_study_s_progress_without_names(
    tmp_path, store, capsys, storage_server
):
    paths = write_instances(tmp_path / "spool", 10)
    study = queue_study(store, paths, "radiology")
    code = main(["send", "--config", str(config_file(tmp_path, storage_server)), "-v"])
    _, err = capsys.readouterr()
    assert code == 0
    mb = f"{sum(p.stat().st_size for p in paths) / 1e6:.1f}"
    assert f"study {study.study_id} to radiology: 10/10 instances, {mb}/{mb} MB" in err, err
    assert "TEST" not in err and "MRN1" not in err  # PHI stays out of logs


def test_progress_counts_what_an_earlier_run_sent_but_not_in_the_rate(
    tmp_path, store, storage_server
):
    paths = write_instances(tmp_path / "spool", 10)
    study = queue_study(store, paths, "radiology")
    first = store.execute("SELECT id FROM outbox ORDER BY id LIMIT 4").fetchall()
    outbox.mark(store, [outbox.Outcome(r[0], OutboxState.SENT) for r in first])
    events: list[Progress] = []
    deliver(store, load_config(config_file(tmp_path, storage_server)), on_event=events.append)
    last = events[-1]
    assert (last.total, last.done) == (10, 10)
    assert last.bytes_total == sum(p.stat().st_size for p in paths)
    assert last.bytes_done == last.bytes_total  # the 4 sent before count as sent
    # (that only this run's 6 make the rate is tests/test_progress.py's business)
    assert len(storage_server.received_files()) == 6
    assert study.study_id == last.study_id


def test_parallel_associations_deliver_each_instance_once(tmp_path, store, capsys):
    with StorageServer(tmp_path / "fork", ae_title="FORKSCP", extra_args=["--fork"]) as scp:
        paths = write_instances(tmp_path / "spool", 200)
        study = queue_study(store, paths, "radiology")
        cfg = config_file(tmp_path, scp, associations=4)
        code, out = run_send(capsys, cfg)
        assert (code, out["sent"]) == (0, 200)
        wait_until(lambda: len(scp.received_files()) >= 200, 10, what="200 files")
        assert len(scp.received_files()) == 200
        assert scp.received_sop_instance_uids() == set(study.sop_instance_uids)


def test_tls_destination_receives_over_tls(tmp_path, store, capsys):
    openssl = "/usr/bin/openssl"
    if not os.path.exists(openssl):
        pytest.skip("/usr/bin/openssl is not installed (apt-get install openssl)")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    tls_args = ["+tls", str(key), str(cert), "-ic"]
    with StorageServer(tmp_path / "tls", ae_title="TLSSCP", extra_args=tls_args) as scp:
        study = queue_study(store, write_instances(tmp_path / "spool", 3), "radiology")
        plain = config_file(tmp_path, scp)
        code, out = run_send(capsys, plain)  # without TLS the PACS does not talk to us
        assert (code, out["sent"]) == (6, 0)
        assert "radiology" in out["unreachable"]

        cfg = config_file(tmp_path, scp, tls=True, tls_ca=str(cert))
        code, out = run_send(capsys, cfg)

        assert (code, out["sent"], out["remaining"]) == (0, 3, 0)
        assert scp.received_sop_instance_uids() == set(study.sop_instance_uids)


class ScriptedPacs:
    """A pynetdicom storage SCP that answers as a test says.

    It waits ``delay`` seconds before each answer, and answers "out of
    resources" (0xA700) while ``busy``.
    """

    def __init__(self, ae_title: str, *, delay: float = 0.0, busy: bool = False) -> None:
        from pynetdicom import AE, AllStoragePresentationContexts, evt

        self.ae_title = ae_title
        self.host = "127.0.0.1"
        self.delay = delay
        self.busy = busy
        self.stored: list[str] = []
        self.ae = AE(ae_title=ae_title)
        self.ae.supported_contexts = AllStoragePresentationContexts
        self.port = free_port()
        self.server = self.ae.start_server(
            ("127.0.0.1", self.port), block=False, evt_handlers=[(evt.EVT_C_STORE, self._store)]
        )

    def _store(self, event) -> int:
        time.sleep(self.delay)
        if self.busy:
            return 0xA700
        self.stored.append(str(event.request.AffectedSOPInstanceUID))
        return 0x0000

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def busy_pacs() -> Iterator[ScriptedPacs]:
    pacs = ScriptedPacs("BUSYPACS", busy=True)
    try:
        yield pacs
    finally:
        pacs.close()


def test_progress_keeps_moving_on_a_slow_pacs(tmp_path, store):
    """A worker reports before its chunk of jobs is done when each C-STORE is slow."""
    pacs = ScriptedPacs("SLOWPACS", delay=0.15)
    try:
        study = queue_study(store, write_instances(tmp_path / "spool", 12), "radiology")
        config = load_config(config_file(tmp_path, pacs))
        seen: list[int] = []
        report = deliver(store, config, on_event=lambda p: seen.append(p.done))
    finally:
        pacs.close()
    assert report.sent == 12 and len(pacs.stored) == 12
    assert outbox_states(store, study.study_id) == {"sent": 12}
    # About 1.8 s of sending: several reports on the way, not one at the end.
    assert len(set(seen)) >= 3, seen
    assert seen == sorted(seen) and seen[-1] == 12


def test_a_run_stopped_by_an_error_ends_after_the_instance_on_the_wire(tmp_path, store):
    """Ctrl+C or a bug in a caller: the workers stop at once; nothing is lost or miscounted."""
    pacs = ScriptedPacs("SLOWPACS", delay=0.2)
    try:
        queue_study(store, write_instances(tmp_path / "spool", 30), "radiology")
        config = load_config(config_file(tmp_path, pacs))

        def stop_here(sent: int, tried: int) -> None:
            raise RuntimeError("the operator stopped the run")

        began = time.monotonic()
        with pytest.raises(RuntimeError, match="operator stopped"):
            deliver(store, config, on_progress=stop_here)
        took = time.monotonic() - began
    finally:
        pacs.close()
    assert took < 2.0  # not the 6 s the whole chunk of 30 would take
    rows = store.execute("SELECT state, attempts FROM outbox ORDER BY id").fetchall()
    sent = [r for r in rows if r[0] == "sent"]
    assert 1 <= len(sent) == len(pacs.stored) < 30
    assert all((r[0], r[1]) == ("queued", 0) for r in rows if r[0] != "sent")


def test_out_of_resources_backs_off_then_fails_after_max_attempts(
    tmp_path, store, capsys, busy_pacs, monkeypatch
):
    from kiosk.send import policy

    study = queue_study(store, write_instances(tmp_path / "spool", 10), "radiology")
    cfg = config_file(tmp_path, busy_pacs)

    before = datetime.now(UTC)
    code, out = run_send(capsys, cfg)

    assert code == 6
    assert out["sent"] == 0
    assert out["unreachable"] == {"radiology": "some instances must be retried later"}
    rows = store.execute("SELECT state, attempts, last_status, next_attempt_at FROM outbox")
    rows = rows.fetchall()
    retried = [r for r in rows if r[0] == "queued" and r[1] == 1]
    assert retried, "the first answer 0xA700 must schedule a retry"
    # The rest was not sent to a PACS that asked us to wait (at most what was on the wire).
    assert len(retried) < 10
    assert all((r[0], r[1], r[3]) == ("queued", 0, "") for r in rows if r not in retried)
    for r in retried:
        assert r[2] == "0xA700"
        wait = datetime.fromisoformat(r[3]) - before
        assert timedelta(seconds=2) <= wait <= timedelta(seconds=8)  # 5 s ± 25 %, rounding

    # A scheduled run leaves them until their time; a person's "kiosk send" sends now.
    code, out = run_send(capsys, cfg, "--due-only")
    assert (code, out["sent"]) == (6, 0)
    assert busy_pacs.stored == []

    monkeypatch.setattr(policy, "MAX_ATTEMPTS", 2)
    while store.execute("SELECT count(*) FROM outbox WHERE state = 'queued'").fetchone()[0]:
        run_send(capsys, cfg)
    assert outbox_states(store, study.study_id) == {"failed": 10}
    [last] = {r[0] for r in store.execute("SELECT last_error FROM outbox")}
    assert last == "Refused: Out of Resources (0xA700)"  # pynetdicom's text

    busy_pacs.busy = False
    code, out = run_send(capsys, cfg)  # failed rows wait for the back office...
    assert (code, out["sent"]) == (6, 0)
    code, out = run_send(capsys, cfg, "--retry")  # ...who resends them
    assert (code, out["sent"], out["remaining"]) == (0, 10, 0)
    assert sorted(busy_pacs.stored) == sorted(study.sop_instance_uids)
    assert studies.get_study(store, study.study_id).state is StudyState.SENT
