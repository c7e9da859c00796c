"""Storage commitment with Orthanc, and C-ECHO (``kiosk echo``), against real peers."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import load_config
from kiosk.send.commitment import commit_sent_studies
from kiosk.send.deliver import deliver
from kiosk.store import db
from kiosk.store.studies import StudyState, get_study
from tests.discs import write_instances
from tests.kiosk_config import write_config
from tests.peers import OrthancServer, StorageServer
from tests.test_send_delivery import queue_study


@pytest.fixture
def store(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    try:
        yield conn
    finally:
        conn.close()


def orthanc_config(tmp_path: Path, orthanc: OrthancServer, *, commitment: bool) -> Path:
    path = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={"radiology": (orthanc.aet, orthanc.host, orthanc.port)},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    text = path.read_text()
    text = text.replace(
        "[kiosk]\n", f"[kiosk]\nlisten_port = {orthanc.kiosk_port}\ncommitment_timeout = 20\n"
    )
    text = text.replace(
        "[destinations.radiology]\n",
        f"[destinations.radiology]\nstorage_commitment = {str(commitment).lower()}\n",
    )
    path.write_text(text)
    return path


def commitment_rows(conn: sqlite3.Connection) -> list[tuple[str, int, int]]:
    return [
        (r["state"], r["instances"], r["failed"])
        for r in conn.execute("SELECT * FROM commitments ORDER BY id")
    ]


def test_orthanc_commits_a_sent_study(tmp_path, store, capsys, orthanc_server):
    study = queue_study(store, write_instances(tmp_path / "spool", 4), "radiology")
    cfg = orthanc_config(tmp_path, orthanc_server, commitment=True)

    code = main(["send", "--config", str(cfg), "--json"])
    out = json.loads(capsys.readouterr().out)

    assert code == 0
    assert (out["sent"], out["committed"]) == (4, 1)
    assert len(orthanc_server.wait_for_instances(4)) == 4
    assert get_study(store, study.study_id).state is StudyState.COMMITTED
    assert commitment_rows(store) == [("committed", 4, 0)]
    outcomes = [
        (r["action"], r["outcome"])
        for r in store.execute("SELECT action, outcome FROM audit ORDER BY id")
    ]
    assert outcomes[-2:] == [("send", "ok"), ("commit", "ok")]


def test_missing_instance_is_not_committed_and_the_study_stays_sent(
    tmp_path, store, orthanc_server
):
    study = queue_study(store, write_instances(tmp_path / "spool", 3), "radiology")
    report = deliver(store, load_config(orthanc_config(tmp_path, orthanc_server, commitment=False)))
    assert report.sent == 3
    assert get_study(store, study.study_id).state is StudyState.SENT
    # The PACS loses one instance before we ask it to commit the study.
    lost = orthanc_server.find_instance(study.sop_instance_uids[1])
    assert lost is not None
    orthanc_server.delete(f"/instances/{lost}")

    config = load_config(orthanc_config(tmp_path, orthanc_server, commitment=True))
    committed = commit_sent_studies(store, config, [study.study_id])

    assert committed == set()
    assert get_study(store, study.study_id).state is StudyState.SENT
    assert commitment_rows(store) == [("failed", 3, 1)]
    [detail] = [r[0] for r in store.execute("SELECT detail FROM commitments")]
    assert detail.startswith(f"study {study.study_id}: 1 of 3 instances not committed")


def test_echo_answers_for_a_running_pacs_and_exits_4_for_a_stopped_one(
    tmp_path, capsys, storage_server: StorageServer
):
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    code = main(["echo", "--dest", "radiology", "--config", str(cfg), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (out["destination"], out["ae_title"], out["port"], out["ok"], out["status"]) == (
        "radiology",
        "STORESCP",
        storage_server.port,
        True,
        "0x0000",
    )

    storage_server.stop()
    code = main(["echo", "--dest", "radiology", "--config", str(cfg), "--json"])
    captured = capsys.readouterr()
    assert code == 4
    assert captured.out == ""
    assert captured.err.startswith("kiosk: cannot reach the Radiology PACS STORESCP at 127.0.0.1:")

    code = main(["echo", "--dest", "nowhere", "--config", str(cfg)])
    assert code == 2
    assert "unknown destination 'nowhere'" in capsys.readouterr().err


def test_duplicates_found_by_c_find_and_only_missing_instances_sent(
    tmp_path, store, orthanc_server
):
    from kiosk.send.duplicates import find_study, skip_present

    paths = write_instances(tmp_path / "spool", 4)
    config = load_config(orthanc_config(tmp_path, orthanc_server, commitment=False))
    dest = config.destinations["radiology"]
    first = queue_study(store, paths[:2], "radiology")
    assert find_study(dest, config.ae_title, first.study_instance_uid) is None
    assert deliver(store, config).sent == 2

    again = queue_study(store, paths, "radiology")  # the same study brought in again
    on_pacs = find_study(dest, config.ae_title, again.study_instance_uid)

    assert on_pacs is not None
    assert on_pacs.instances == 2
    assert on_pacs.sop_instance_uids == frozenset(first.sop_instance_uids)
    assert skip_present(store, again.study_id, "radiology", on_pacs.sop_instance_uids) == 2
    report = deliver(store, config)
    assert report.sent == 2
    assert len(orthanc_server.wait_for_instances(4)) == 4
    assert get_study(store, again.study_id).state is StudyState.SENT
