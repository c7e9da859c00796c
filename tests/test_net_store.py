"""The store interface (StoreConnection: open, store, close) with both engines.

Against three independent SCPs on loopback: DCMTK ``storescp``, Orthanc and a
pynetdicom SCP (:class:`tests.pynetdicom_scp.ScriptedScp`), which also plays
the edge cases: a status with an Error Comment, A-RELEASE-RQ or A-ABORT
instead of an answer, an answer naming another instance or of another
command, and silence past the timeout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import RLELossless

from kiosk.config import Destination, load_config
from kiosk.errors import ConfigError
from kiosk.net.store import clean_comment
from kiosk.send.sender import SendJob, SendResult, StoreConnection, plan_contexts
from tests.discs import write_instances
from tests.peers import wait_until
from tests.pynetdicom_scp import ScriptedScp

ENGINES = ("fast", "pynetdicom")


@pytest.fixture
def scripted_scp() -> Iterator[ScriptedScp]:
    scp = ScriptedScp("PYNETSCP")
    try:
        yield scp
    finally:
        scp.close()


def jobs_for(paths: list[Path]) -> list[SendJob]:
    jobs = []
    for key, path in enumerate(paths):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        data = path.read_bytes()
        jobs.append(
            SendJob(
                key,
                str(path),
                ds.SOPInstanceUID,
                ds.SOPClassUID,
                ds.file_meta.TransferSyntaxUID,
                len(data),
                hashlib.sha256(data).hexdigest(),
            )
        )
    return jobs


def connect(
    peer: object, engine: str, jobs: list[SendJob], timeout: float = 10.0
) -> StoreConnection:
    ae_title, (host, port) = peer.ae_title, (peer.host, peer.port)  # type: ignore[attr-defined]
    destination = Destination(ae_title, host, port, timeout=timeout, name="test", label="PACS")
    syntaxes: dict[str, set[str]] = {}
    for job in jobs:
        syntaxes.setdefault(job.sop_class_uid, set()).add(job.transfer_syntax_uid)
    return StoreConnection(destination, "KIOSK", plan_contexts(syntaxes), engine)


def send_all(connection: StoreConnection, jobs: list[SendJob]) -> list[SendResult]:
    try:
        return [connection.store(job) for job in jobs]
    finally:
        connection.close()


def received(peer: object) -> set[str]:
    if isinstance(peer, ScriptedScp):
        return set(peer.stored)
    if hasattr(peer, "received_sop_instance_uids"):
        return set(peer.received_sop_instance_uids())
    return {
        peer.instance_tags(i)["SOPInstanceUID"]  # type: ignore[attr-defined]
        for i in peer.instances()  # type: ignore[attr-defined]
    }


# --- the interface, both engines, three SCPs --------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("peer_name", ["storage_server", "orthanc_server", "scripted_scp"])
def test_both_engines_store_at_three_scps(
    tmp_path: Path, request: pytest.FixtureRequest, engine: str, peer_name: str
) -> None:
    peer = request.getfixturevalue(peer_name)
    # Small files (sent from their first read) and a large one (sent by sendfile).
    paths = write_instances(tmp_path / "small", 3) + write_instances(
        tmp_path / "large", 1, size=256
    )
    assert paths[-1].stat().st_size > 1 << 16
    jobs = jobs_for(paths)

    results = send_all(connect(peer, engine, jobs), jobs)

    assert [(r.key, r.status, r.sent, r.note) for r in results] == [
        (j.key, 0x0000, True, "") for j in jobs
    ]
    expected = {j.sop_instance_uid for j in jobs}
    if peer_name == "orthanc_server":
        peer.wait_for_instances(len(jobs))
    assert received(peer) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_transcode_for_a_pacs_that_takes_only_uncompressed(
    tmp_path: Path, picky_storage_server, engine: str
) -> None:
    jobs = jobs_for(write_instances(tmp_path, 2, compress=RLELossless))

    results = send_all(connect(picky_storage_server, engine, jobs), jobs)

    assert [r.status for r in results] == [0x0000, 0x0000]
    for ds in picky_storage_server.received_datasets():
        assert not ds.file_meta.TransferSyntaxUID.is_compressed


# --- what the PACS says ---------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("status", [0xC123, 0xB000])
def test_the_pacs_error_comment_is_kept_with_the_result(
    tmp_path: Path, scripted_scp: ScriptedScp, engine: str, status: int
) -> None:
    scripted_scp.status = status
    scripted_scp.comment = "Patient ID\x07 does not match\r\n" + "x" * 20  # control characters
    jobs = jobs_for(write_instances(tmp_path, 1))

    [result] = send_all(connect(scripted_scp, engine, jobs), jobs)

    assert result.status == status
    assert result.comment == "Patient ID does not match " + "x" * 20
    assert clean_comment(b"\xff\x00" * 500).isprintable()
    assert len(clean_comment(b"\xff\x00" * 500)) == 128


# --- a peer that does not answer as it should ---------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("step", "why"),
    [
        ("abort", "aborted"),
        ("wrong_uid", "1.2.3.4.5.6.7.8.9"),
        ("wrong_command", ""),
        ("release", ""),
    ],
)
def test_no_valid_answer_is_answer_lost_and_the_next_is_never_sent(
    tmp_path: Path, scripted_scp: ScriptedScp, engine: str, step: str, why: str
) -> None:
    """The instance on the wire is "answer lost" (sent, no status): never "stored".

    The association is over; the next job is "never sent" (nothing went out),
    which the outbox retries without counting an attempt.
    """
    scripted_scp.script.append(step)
    jobs = jobs_for(write_instances(tmp_path, 2))
    connection = connect(scripted_scp, engine, jobs, timeout=3.0)

    first, second = send_all(connection, jobs)

    assert (first.status, first.sent) == (None, True), first
    assert first.note.startswith("answer lost"), first.note
    assert why in first.note
    assert (second.status, second.sent) == (None, False), second
    assert second.note.startswith("never sent")
    assert scripted_scp.stored == []


@pytest.mark.parametrize("step", ["wrong_uid", "wrong_command"])
def test_the_fast_engine_aborts_on_a_bad_response(
    tmp_path: Path, scripted_scp: ScriptedScp, step: str
) -> None:
    scripted_scp.script.append(step)
    jobs = jobs_for(write_instances(tmp_path, 1))

    [result] = send_all(connect(scripted_scp, "fast", jobs), jobs)

    assert "protocol error" in result.note
    # An A-ABORT, not just a closed socket, and no release.
    wait_until(lambda: "A_ABORT_RQ" in scripted_scp.pdus, 5, what="A-ABORT")
    assert "A_RELEASE_RQ" not in scripted_scp.pdus


def test_the_fast_engine_answers_a_peer_release_request(
    tmp_path: Path, scripted_scp: ScriptedScp
) -> None:
    scripted_scp.script.append("release")
    jobs = jobs_for(write_instances(tmp_path, 1))

    [result] = send_all(connect(scripted_scp, "fast", jobs), jobs)

    assert "released the association" in result.note
    wait_until(lambda: "A_RELEASE_RP" in scripted_scp.pdus, 5, what="A-RELEASE-RP")
    assert "A_ABORT_RQ" not in scripted_scp.pdus


@pytest.mark.parametrize("engine", ENGINES)
def test_a_pacs_silent_past_the_timeout_is_aborted(
    tmp_path: Path, scripted_scp: ScriptedScp, engine: str
) -> None:
    scripted_scp.script.append("stall")
    scripted_scp.stall = 2.5
    jobs = jobs_for(write_instances(tmp_path, 1))

    [result] = send_all(connect(scripted_scp, engine, jobs, timeout=1.0), jobs)

    assert (result.status, result.sent) == (None, True)
    assert result.note.startswith("answer lost")
    if engine == "fast":
        assert "no answer within 1 s" in result.note
        wait_until(lambda: "A_ABORT_RQ" in scripted_scp.pdus, 5, what="A-ABORT")


# --- the switch -----------------------------------------------------------------------------


def test_the_send_engine_is_a_config_switch(tmp_path: Path) -> None:
    base = '[kiosk]\nstation = "S"\nae_title = "KIOSK"\n'
    path = tmp_path / "kiosk.toml"
    path.write_text(base)
    assert load_config(path).send_engine == "fast"
    path.write_text(base + '[send]\nengine = "pynetdicom"\n')
    assert load_config(path).send_engine == "pynetdicom"
    path.write_text(base + '[send]\nengine = "turbo"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).endswith("[send.engine] must be 'fast' or 'pynetdicom', not 'turbo'")
    assert "\n" not in str(err.value)


def test_the_fast_path_does_not_load_pynetdicom() -> None:
    """pynetdicom costs ~0.2 s of start-up: sending, and a success, must not import it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from kiosk.send import deliver, policy\n"
        "import kiosk.cli, kiosk.app.deliver_due  # what `kiosk send` loads\n"
        "assert policy.classify(0) is policy.Outcome.STORED\n"
        "print(sorted(m for m in sys.modules if m.startswith(('pynetdicom', 'pydicom'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_store_over_tls_with_the_same_set_up(tmp_path: Path, engine: str) -> None:
    """TLS is kiosk.net.association's for both: the CA from the config, the host checked."""
    import os
    import subprocess
    from dataclasses import replace

    from kiosk.errors import PeerError
    from tests.peers import StorageServer

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
    jobs = jobs_for(write_instances(tmp_path / "files", 2))
    plan = plan_contexts({jobs[0].sop_class_uid: {jobs[0].transfer_syntax_uid}})
    tls_args = ["+tls", str(key), str(cert), "-ic"]
    with StorageServer(tmp_path / "tls", ae_title="TLSSCP", extra_args=tls_args) as scp:
        plain = Destination(scp.ae_title, scp.host, scp.port, timeout=5, name="t", label="PACS")
        untrusted = replace(plain, tls=True)  # the system's CAs do not know this certificate
        with pytest.raises(PeerError, match=r"TLS certificate .* is not trusted"):
            StoreConnection(untrusted, "KIOSK", plan, engine)
        connection = StoreConnection(replace(untrusted, tls_ca=str(cert)), "KIOSK", plan, engine)
        results = send_all(connection, jobs)
        assert [r.status for r in results] == [0x0000, 0x0000]
        assert scp.received_sop_instance_uids() == {j.sop_instance_uid for j in jobs}
