"""An instance that waits too long in the outbox is failed for the back office, then resent."""

from __future__ import annotations

import json

import pydicom

from kiosk.cli import main
from kiosk.store import db
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from tests.peers import StorageServer


def run(capsys, *args):
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def test_old_queued_instances_fail_and_retry_resends_them(tmp_path, capsys, worklist_server):
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=3)
    pacs = StorageServer(tmp_path / "pacs", ae_title="LATE")
    worklist_server.add_patient("M1")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": pacs},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    code, _, err = run(capsys, "import", str(disc), "--all", "--mrn", "M1", "--config", str(cfg))
    assert code == 6, err  # the PACS is not running: queued

    conn = db.connect(tmp_path / "kiosk.sqlite3")
    conn.execute("UPDATE outbox SET queued_at = '2026-01-01T00:00:00+00:00'")
    conn.close()
    code, sent, _ = run(capsys, "send", "--config", str(cfg))
    assert code == 6
    assert sent["failed"] == 3
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    rows = conn.execute("SELECT state, last_error FROM outbox").fetchall()
    conn.close()
    assert {r["state"] for r in rows} == {"failed"}
    assert rows[0]["last_error"].startswith("not delivered within 72 hours")

    with pacs:
        code, sent, err = run(capsys, "send", "--config", str(cfg))
        assert code == 6  # failed ones wait for a person
        assert pacs.received_files() == []
        code, sent, err = run(capsys, "send", "--retry", "--config", str(cfg))
        assert code == 0, err
        received = {pydicom.dcmread(p).SOPInstanceUID for p in pacs.wait_for_files(3)}
    assert received == set(study.sop_instance_uids)
