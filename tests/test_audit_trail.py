"""The audit trail proves itself: a hash chain, checked by ``kiosk audit --verify``."""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

import pytest

from kiosk import audit
from kiosk.cli import main
from kiosk.store import audit_chain, db
from tests.kiosk_config import write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )


def _write_events(path: Path, n: int) -> None:
    conn = db.connect(path)
    for i in range(n):
        audit.record(
            conn,
            user="alice",
            station="DESK",
            action="import",
            study_instance_uid=f"1.2.3.{i}",
            detail=f"study {i}: imported",
        )
    conn.close()


def _verify(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["audit", "--verify", "--json", "--config", str(config)])
    captured = capsys.readouterr()
    _verify.err = captured.err  # type: ignore[attr-defined]
    return code, json.loads(captured.out)


def test_a_whole_chain_verifies(tmp_path, config, capsys):
    _write_events(tmp_path / "kiosk.sqlite3", 5)
    code, found = _verify(config, capsys)
    assert code == 0
    assert found == {
        "whole": True,
        "records": 5,
        "broken_at": None,
        "kind": "",
        "message": "",
    }
    assert main(["audit", "--json", "--config", str(config)]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    assert [e["id"] for e in events] == [1, 2, 3, 4, 5]
    assert all(len(e["hash"]) == 64 for e in events)
    assert {"time", "user", "station", "action", "study_instance_uid", "outcome"} <= set(events[0])


def test_a_changed_record_is_named_and_exits_5(tmp_path, config, capsys):
    _write_events(tmp_path / "kiosk.sqlite3", 5)
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    conn.execute("UPDATE audit SET user = 'mallory' WHERE id = 3")
    conn.commit()
    conn.close()
    code, found = _verify(config, capsys)
    assert code == 5
    assert found["whole"] is False
    assert found["broken_at"] == 3
    assert found["kind"] == "changed"
    assert "audit record 3 was changed" in _verify.err  # type: ignore[attr-defined]


def test_a_changed_record_with_a_recomputed_hash_breaks_the_next_link(tmp_path, config, capsys):
    _write_events(tmp_path / "kiosk.sqlite3", 4)
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM audit WHERE id = 2").fetchone())
    row["outcome"] = "refused"
    forged = audit_chain.record_hash(row["prev_hash"], row)
    conn.execute("UPDATE audit SET outcome = 'refused', hash = ? WHERE id = 2", (forged,))
    conn.commit()
    conn.close()
    code, found = _verify(config, capsys)
    assert code == 5
    assert found["broken_at"] == 3  # record 3 no longer follows the one before it


def test_a_removed_record_is_named(tmp_path, config, capsys):
    _write_events(tmp_path / "kiosk.sqlite3", 5)
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    conn.execute("DELETE FROM audit WHERE id = 2")
    conn.commit()
    conn.close()
    code, found = _verify(config, capsys)
    assert code == 5
    assert (found["broken_at"], found["kind"]) == (2, "removed")
    err = _verify.err  # type: ignore[attr-defined]
    assert err.startswith("kiosk: ") and "record 2 was removed" in err


def test_the_last_record_removed_is_noticed(tmp_path, config, capsys):
    _write_events(tmp_path / "kiosk.sqlite3", 3)
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    conn.execute("DELETE FROM audit WHERE id = 3")
    conn.commit()
    conn.close()
    code, found = _verify(config, capsys)
    assert code == 5
    assert (found["broken_at"], found["kind"]) == (3, "removed")


def test_an_empty_trail_is_whole(config, capsys):
    assert _verify(config, capsys) == (
        0,
        {"whole": True, "records": 0, "broken_at": None, "kind": "", "message": ""},
    )


def test_migration_0009_hashes_the_existing_records_in_order(tmp_path):
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    for version, sql in db.migrations():
        if version >= 9:
            break
        for statement in db._statements(sql):
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version}")
    for i in range(4):
        conn.execute(
            "INSERT INTO audit (time, user, station, action, study_instance_uid, outcome, detail)"
            " VALUES (?, 'bob', 'DESK', 'send', ?, 'ok', '')",
            (f"2026-01-0{i + 1}T00:00:00+00:00", f"1.2.{i}"),
        )
    conn.close()

    conn = db.connect(path)  # migrates to 9 and beyond
    rows = conn.execute("SELECT * FROM audit ORDER BY id").fetchall()
    assert rows[0]["prev_hash"] == audit_chain.GENESIS
    for before, after in itertools.pairwise(rows):
        assert after["prev_hash"] == before["hash"]
    assert audit.verify(conn).whole
    audit.record(conn, user="carol", station="DESK", action="view")  # the chain goes on
    found = audit.verify(conn)
    assert found.whole and found.records == 5
    queued = conn.execute("SELECT audit_id FROM atna_queue WHERE state = 'queued'").fetchall()
    assert [r[0] for r in queued] == [1, 2, 3, 4, 5]  # the old ones wait for the collector too
    conn.close()
