"""Only committed studies leave the spool, and only after the retention period."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.cli import main
from kiosk.store import db
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config


def test_only_committed_studies_older_than_retention_are_removed(
    tmp_path, capsys, worklist_server, storage_server
):
    disc = tmp_path / "disc"
    write_ct_disc(
        disc,
        [("EXT-1", "DOE^JANE", "19700101", "F"), ("EXT-2", "ROE^JOHN", "19600101", "M")],
        per_study=2,
    )
    worklist_server.add_patient("M0")
    worklist_server.add_patient("M1", "ROE^JOHN")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    assert main(["scan", str(disc), "--json"]) == 0
    uids = [
        s["study_instance_uid"]
        for p in json.loads(capsys.readouterr().out)["patients"]
        for s in p["studies"]
    ]
    for n, uid in enumerate(uids):
        assert (
            main(["import", str(disc), "--study", uid, "--mrn", f"M{n}", "--config", str(cfg)]) == 0
        )
    capsys.readouterr()
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    rows = conn.execute("SELECT id, spool_dir, state FROM studies ORDER BY id").fetchall()
    assert [r["state"] for r in rows] == ["sent", "sent"]
    # The first study's destination confirmed it (storage commitment), 40 days ago.
    conn.execute(
        "UPDATE studies SET state = 'committed', updated_at = '2026-01-01T00:00:00+00:00'"
        " WHERE id = ?",
        (rows[0]["id"],),
    )
    conn.close()

    assert main(["clean-spool", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": [rows[0]["id"]]}
    assert not Path(rows[0]["spool_dir"]).exists()
    assert Path(rows[1]["spool_dir"]).is_dir()  # sent but not committed: kept
    assert main(["clean-spool", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": []}
    assert main(["clean-spool", "--days", "0", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": []}  # still only committed ones


def test_retention_counts_from_the_commitment_and_each_purge_is_audited(
    tmp_path, capsys, worklist_server, storage_server
):
    from datetime import UTC, datetime, timedelta

    disc = tmp_path / "disc"
    (study,) = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=1)
    worklist_server.add_patient("M0")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    uid = study.study_instance_uid
    assert main(["import", str(disc), "--study", uid, "--mrn", "M0", "--config", str(cfg)]) == 0
    capsys.readouterr()
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    (row,) = conn.execute("SELECT id, spool_dir FROM studies").fetchall()
    recent = (datetime.now(UTC) - timedelta(days=5)).isoformat(timespec="seconds")
    # Sent long ago, but committed only 5 days ago: the 30 days count from the commitment.
    conn.execute(
        "UPDATE studies SET state = 'committed', updated_at = '2026-01-01T00:00:00+00:00'"
        " WHERE id = ?",
        (row["id"],),
    )
    conn.execute(
        "INSERT INTO commitments (transaction_uid, study_id, destination, state, requested_at,"
        " answered_at) VALUES ('2.25.1', ?, 'radiology', 'committed', ?, ?)",
        (row["id"], recent, recent),
    )
    conn.close()
    assert main(["clean-spool", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": []}
    assert main(["clean-spool", "--days", "4", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": [row["id"]]}
    assert not Path(row["spool_dir"]).exists()

    assert main(["audit", "--json", "--config", str(cfg)]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    purges = [e for e in events if e["action"] == "spool-clean"]
    assert len(purges) == 1 and purges[0]["study_instance_uid"] == uid
    assert "removed after 4 days" in purges[0]["detail"]
    assert main(["audit", "--verify", "--config", str(cfg)]) == 0
