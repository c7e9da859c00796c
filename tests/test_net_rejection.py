"""A-ASSOCIATE-RJ as a typed error, the same from both engines, and what the outbox does with it.

Real SCPs reject on loopback: DCMTK ``storescp --refuse`` (permanent, "no
reason given"), Orthanc that does not know our calling AE title (permanent,
"calling AE title not recognized"), a pynetdicom SCP with a list of calling
AE titles (the same) and one whose only association is taken (transient,
busy). A permanent rejection needs a person (``kiosk queue`` says so, the
automatic runs wait an hour); a transient one is retried with backoff as a
PACS that is down.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import Destination
from kiosk.errors import AssociationAborted, AssociationRejected, PeerError
from kiosk.send.echo import echo
from kiosk.send.sender import StoreConnection, plan_contexts
from kiosk.store import health
from tests.discs import write_instances
from tests.peers import OrthancServer, StorageServer
from tests.pynetdicom_scp import ScriptedScp
from tests.test_send_delivery import config_file, queue_study, run_send

ENGINES = ("fast", "pynetdicom")
CT = "1.2.840.10008.5.1.4.1.1.2"
PLAN = plan_contexts({CT: {"1.2.840.10008.1.2.1"}})


def destination(peer: object) -> Destination:
    return Destination(
        peer.ae_title,  # type: ignore[attr-defined]
        peer.host,  # type: ignore[attr-defined]
        peer.port,  # type: ignore[attr-defined]
        name="radiology",
        label="Radiology PACS",
        timeout=5.0,
    )


def rejection(peer: object, engine: str, calling_ae: str = "KIOSK") -> AssociationRejected:
    with pytest.raises(AssociationRejected) as err:
        StoreConnection(destination(peer), calling_ae, PLAN, engine).close()
    return err.value


@pytest.fixture
def refusing_storescp(tmp_path: Path) -> Iterator[StorageServer]:
    with StorageServer(tmp_path / "storescp", ae_title="STORESCP", extra_args=["--refuse"]) as s:
        yield s


@pytest.fixture
def strict_orthanc(tmp_path: Path) -> Iterator[OrthancServer]:
    """Orthanc that takes stores only from the modalities it knows (the kiosk is not one)."""
    config = {"DicomAlwaysAllowStore": False, "DicomAlwaysAllowEcho": False}
    with OrthancServer(tmp_path / "orthanc", kiosk_aet="NOTKIOSK", extra_config=config) as o:
        yield o


@pytest.fixture
def strict_scp() -> Iterator[ScriptedScp]:
    scp = ScriptedScp("PYNETSCP", calling_aets=["FRIEND"])
    try:
        yield scp
    finally:
        scp.close()


@pytest.fixture
def single_scp() -> Iterator[ScriptedScp]:
    scp = ScriptedScp("PYNETSCP", maximum_associations=1)
    try:
        yield scp
    finally:
        scp.close()


@pytest.fixture
def busy_scp(single_scp: ScriptedScp) -> Iterator[ScriptedScp]:
    """A pynetdicom SCP that takes one association at a time, and that one is taken."""
    from pynetdicom import AE

    ae = AE("OTHERSCU")
    ae.add_requested_context(CT)
    assoc = ae.associate(single_scp.host, single_scp.port, ae_title=single_scp.ae_title)
    assert assoc.is_established
    try:
        yield single_scp
    finally:
        assoc.release()


# --- the typed error ------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_storescp_refusing_is_a_permanent_rejection(refusing_storescp, engine: str) -> None:
    error = rejection(refusing_storescp, engine)
    assert (error.result, error.source, error.reason, error.permanent) == (1, 1, 1, True)
    assert str(error) == (
        f"the Radiology PACS STORESCP at 127.0.0.1:{refusing_storescp.port} permanently "
        "rejected the association: no reason given: check that the Radiology PACS knows "
        "our AE title 'KIOSK'"
    )
    assert error.exit_code == 4


@pytest.mark.parametrize("engine", ENGINES)
def test_orthanc_and_pynetdicom_reject_an_unknown_calling_ae_title(
    strict_orthanc, strict_scp, engine: str
) -> None:
    for peer in (strict_orthanc, strict_scp):
        error = rejection(peer, engine)
        assert (error.result, error.source, error.reason, error.permanent) == (1, 1, 3, True)
        assert str(error).endswith(
            "permanently rejected the association: calling AE title not recognized: "
            "add our AE title 'KIOSK' to the Radiology PACS"
        )
    # A title it knows is let in: the rejection was about the title.
    StoreConnection(destination(strict_scp), "FRIEND", PLAN, engine).close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_busy_pacs_is_a_transient_rejection(busy_scp, engine: str) -> None:
    error = rejection(busy_scp, engine)
    assert (error.result, error.source, error.permanent) == (2, 3, False)
    assert str(error).endswith("will retry")
    assert "temporarily rejected the association: " in str(error)


def test_an_abort_instead_of_an_answer_is_a_typed_error(scripted_scp) -> None:
    scripted_scp.abort_requests = True
    with pytest.raises(AssociationAborted) as err:
        StoreConnection(destination(scripted_scp), "KIOSK", PLAN, "fast")
    assert (err.value.source, err.value.reason) == (2, 1)
    assert "aborted the association we asked for (A-ABORT source 2, reason 1)" in str(err.value)
    with pytest.raises(PeerError):  # pynetdicom does not tell an A-ABORT from a dropped line
        StoreConnection(destination(scripted_scp), "KIOSK", PLAN, "pynetdicom")


def test_echo_says_the_same(strict_scp) -> None:
    with pytest.raises(AssociationRejected) as err:
        echo(destination(strict_scp), "KIOSK")
    assert err.value.permanent
    assert "add our AE title 'KIOSK'" in str(err.value)


# --- the outbox -----------------------------------------------------------------------------


def queue_json(capsys: pytest.CaptureFixture[str], cfg: Path) -> dict:
    assert main(["queue", "--config", str(cfg), "--json"]) == 0
    out, _ = capsys.readouterr()
    return json.loads(out)


def waited(record: health.DestinationDown) -> timedelta:
    return datetime.fromisoformat(record.next_attempt_at) - datetime.fromisoformat(
        record.down_since
    )


def test_a_permanent_rejection_needs_a_person(tmp_path, store, capsys, strict_orthanc) -> None:
    study = queue_study(store, write_instances(tmp_path / "spool", 3), "radiology")
    cfg = config_file(tmp_path, strict_orthanc)

    code, out = run_send(capsys, cfg)

    assert code == 6 and out["sent"] == 0
    assert "add our AE title 'KIOSK'" in out["unreachable"]["radiology"]
    record = health.get(store, "radiology")
    assert record is not None
    assert record.last_error.startswith("needs a person: ")
    assert waited(record) == timedelta(hours=1)
    rows = store.execute("SELECT state, attempts FROM outbox").fetchall()
    assert [tuple(r) for r in rows] == [("queued", 0)] * 3  # nothing was tried
    [down] = queue_json(capsys, cfg)["destinations_down"]
    assert down["last_error"] == record.last_error
    assert study.study_id


def test_a_transient_rejection_backs_off_as_a_pacs_that_is_down(
    tmp_path, store, capsys, busy_scp
) -> None:
    queue_study(store, write_instances(tmp_path / "spool", 3), "radiology")
    cfg = config_file(tmp_path, busy_scp)

    code, out = run_send(capsys, cfg)

    assert code == 6 and out["sent"] == 0
    assert out["unreachable"]["radiology"].endswith("will retry")
    record = health.get(store, "radiology")
    assert record is not None
    assert not record.last_error.startswith("needs a person")
    assert timedelta(seconds=2) <= waited(record) <= timedelta(seconds=8)  # 5 s ± 25 %
    rows = store.execute("SELECT state, attempts FROM outbox").fetchall()
    assert [tuple(r) for r in rows] == [("queued", 0)] * 3


# --- what the PACS said, for the back office ----------------------------------------------


@pytest.fixture
def scripted_scp() -> Iterator[ScriptedScp]:
    scp = ScriptedScp("PYNETSCP")
    try:
        yield scp
    finally:
        scp.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_pacs_error_comment_reaches_kiosk_queue(
    tmp_path, store, capsys, scripted_scp, engine: str
) -> None:
    scripted_scp.status = 0xC123
    scripted_scp.comment = "Patient ID mismatch"
    study = queue_study(store, write_instances(tmp_path / "spool", 1), "radiology")
    cfg = config_file(tmp_path, scripted_scp)
    cfg.write_text(cfg.read_text() + f'\n[send]\nengine = "{engine}"\n')

    code, out = run_send(capsys, cfg)

    assert (code, out["quarantined"]) == (6, 1)
    [row] = queue_json(capsys, cfg)["studies"]
    assert row["id"] == study.study_id
    assert row["errors"] == [
        {
            "sop_instance_uid": study.sop_instance_uids[0],
            "state": "quarantined",
            "status": "0xC123",
            "error": "Cannot Understand (0xC123); the PACS says: Patient ID mismatch",
        }
    ]
    assert main(["queue", "--config", str(cfg)]) == 0
    text, _ = capsys.readouterr()
    assert (
        f"quarantined {study.sop_instance_uids[0]}: Cannot Understand (0xC123); the PACS " in text
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_an_answer_lost_counts_an_attempt_and_the_rest_goes_on(
    tmp_path, store, capsys, scripted_scp, engine: str
) -> None:
    scripted_scp.script.append("abort")
    study = queue_study(store, write_instances(tmp_path / "spool", 4), "radiology")
    cfg = config_file(tmp_path, scripted_scp)
    cfg.write_text(cfg.read_text() + f'\n[send]\nengine = "{engine}"\n')

    code, out = run_send(capsys, cfg)

    assert (code, out["sent"]) == (6, 3)
    [(state, attempts, error)] = store.execute(
        "SELECT state, attempts, last_error FROM outbox WHERE state != 'sent'"
    ).fetchall()
    assert (state, attempts) == ("queued", 1)
    assert error.startswith("answer lost")
    code, out = run_send(capsys, cfg)
    assert (code, out["sent"]) == (0, 1)
    assert sorted(scripted_scp.stored) == sorted(study.sop_instance_uids)
