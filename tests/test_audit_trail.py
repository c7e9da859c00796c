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


def test_a_changed_record_with_a_recomputed_hash_is_named(tmp_path, config, capsys):
    """The hash is keyed: a record rehashed without the key is caught at itself."""
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
    assert (found["broken_at"], found["kind"]) == (2, "changed")


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


# Red team round 10: someone who can write the database (not the files beside it)
# removes or rewrites records, and the trail must not verify as whole.


def _sql(path: Path, *statements: str) -> None:
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def _truncate(path: Path, last: int, *, queue_too: bool = True) -> None:
    """Remove the records after ``last`` and point ``audit_head`` at it, as the red team did."""
    _sql(
        path,
        f"DELETE FROM audit WHERE id > {last}",
        *([f"DELETE FROM atna_queue WHERE audit_id > {last}"] if queue_too else []),
        f"UPDATE audit_head SET last_id = {last},"
        f" last_hash = (SELECT hash FROM audit WHERE id = {last})",
    )


def test_the_chain_rewritten_with_plain_sha256_is_caught(tmp_path, config, capsys):
    """Red team 'rehash': change a record, recompute every later hash and the head row."""
    path = tmp_path / "kiosk.sqlite3"
    _write_events(path, 6)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    with conn:
        conn.execute("UPDATE audit SET user = 'someone-else' WHERE id = 3")
        prev = conn.execute("SELECT hash FROM audit WHERE id = 2").fetchone()[0]
        for row in conn.execute("SELECT * FROM audit WHERE id >= 3 ORDER BY id").fetchall():
            digest = audit_chain.record_hash(prev, dict(row))
            conn.execute(
                "UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, row["id"])
            )
            prev = digest
        conn.execute("UPDATE audit_head SET last_hash = ?", (prev,))
    conn.close()
    code, found = _verify(config, capsys)
    assert code == 5
    assert (found["whole"], found["broken_at"], found["kind"]) == (False, 3, "changed")
    assert "audit record 3 was changed" in _verify.err  # type: ignore[attr-defined]


def test_records_removed_from_the_end_with_the_head_row_rewritten_are_named(
    tmp_path, config, capsys
):
    """Red team 'truncate': the last 5 records, their ATNA rows and ``audit_head`` changed."""
    _write_events(tmp_path / "kiosk.sqlite3", 12)
    _truncate(tmp_path / "kiosk.sqlite3", 7)
    code, found = _verify(config, capsys)
    assert code == 5
    assert (found["whole"], found["records"], found["broken_at"]) == (False, 7, 8)
    assert found["kind"] == "removed"
    assert "audit records 8 to 12 were removed" in found["message"]
    err = _verify.err  # type: ignore[attr-defined]
    assert err.startswith("kiosk: the audit trail's hash chain is broken: ")
    assert err.count("\n") == 1


@pytest.mark.parametrize("queue_too", [True, False], ids=["queue-emptied", "queue-left"])
def test_commands_after_a_truncation_append_and_leave_the_gap_visible(
    tmp_path, config, capsys, monkeypatch, queue_too
):
    """Red team 'after': the next audited command works (no UNIQUE crash), the gap stays."""
    import io

    _write_events(tmp_path / "kiosk.sqlite3", 12)
    _truncate(tmp_path / "kiosk.sqlite3", 7, queue_too=queue_too)
    monkeypatch.setattr("sys.stdin", io.StringIO("long-enough-1\n"))
    code = main(["users", "add", "ann", "--role", "admin", "--config", str(config)])
    assert code == 0, capsys.readouterr().err  # audited as user-add, on an open station
    capsys.readouterr()
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    ids = [r[0] for r in conn.execute("SELECT id FROM audit ORDER BY id")]
    conn.close()
    assert ids == [1, 2, 3, 4, 5, 6, 7, 13]  # never id 8 again
    monkeypatch.setenv("KIOSK_USER", "ann")
    monkeypatch.setenv("KIOSK_PASSWORD", "long-enough-1")
    code, found = _verify(config, capsys)
    assert code == 5
    assert (found["broken_at"], found["kind"]) == (8, "removed")
    assert "audit records 8 to 12 were removed (the trail jumps to 13)" in found["message"]


def test_an_emptied_trail_is_named(tmp_path, config, capsys):
    """Red team 'wipe': both tables emptied."""
    _write_events(tmp_path / "kiosk.sqlite3", 4)
    _sql(tmp_path / "kiosk.sqlite3", "DELETE FROM audit", "DELETE FROM audit_head")
    code, found = _verify(config, capsys)
    assert code == 5
    assert (found["records"], found["broken_at"], found["kind"]) == (0, 1, "removed")
    assert "audit records 1 to 4 were removed" in found["message"]


def test_the_key_and_head_are_private_files_beside_the_database(tmp_path):
    import os
    import stat

    path = tmp_path / "kiosk.sqlite3"
    _write_events(path, 3)
    key = Path(str(path) + ".audit-key")
    head = Path(str(path) + ".audit-head")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(head.stat().st_mode) == 0o600
    assert json.loads(head.read_text())["last_id"] == 3
    secret = bytes.fromhex(json.loads(key.read_text())["key"])
    assert len(secret) == 32
    conn = db.connect(path)
    row = dict(conn.execute("SELECT * FROM audit WHERE id = 3").fetchone())
    conn.close()
    assert row["hash"] == audit_chain.record_mac(secret, row["prev_hash"], row)
    assert row["hash"] != audit_chain.record_hash(row["prev_hash"], row)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_a_head_behind_the_database_is_no_break(tmp_path, config, capsys):
    """A process that dies between its commit and the head's replace leaves the head behind;
    an append rolled back with its transaction never moves the head."""
    path = tmp_path / "kiosk.sqlite3"
    head = Path(str(path) + ".audit-head")
    _write_events(path, 3)
    older = head.read_bytes()
    _write_events(path, 2)
    head.write_bytes(older)  # as if the head had not been replaced after records 4 and 5
    conn = db.connect(path)
    with pytest.raises(RuntimeError), db.transaction(conn):
        audit.record(conn, user="alice", station="DESK", action="view")
        raise RuntimeError("rolled back")
    conn.close()
    assert json.loads(head.read_text())["last_id"] == 3
    assert _verify(config, capsys) == (
        0,
        {"whole": True, "records": 5, "broken_at": None, "kind": "", "message": ""},
    )


def _legacy_database(path: Path, n: int) -> None:
    """A database as a kiosk of before wrote it: a plain SHA-256 chain, no key or head file."""
    conn = db.connect(path)
    prev = audit_chain.GENESIS
    for i in range(1, n + 1):
        fields: dict[str, object] = {
            "id": i,
            "time": f"2026-01-0{i}T00:00:00+00:00",
            "user": "bob",
            "station": "DESK",
            "action": "send",
            "study_instance_uid": f"1.2.{i}",
            "outcome": "ok",
            "detail": "",
        }
        digest = audit_chain.record_hash(prev, fields)
        conn.execute(
            "INSERT INTO audit (id, time, user, station, action, study_instance_uid, outcome,"
            " detail, prev_hash, hash) VALUES (:id, :time, :user, :station, :action,"
            " :study_instance_uid, :outcome, :detail, :prev, :hash)",
            {**fields, "prev": prev, "hash": digest},
        )
        conn.execute("INSERT INTO atna_queue (audit_id) VALUES (?)", (i,))
        audit_chain.set_head(conn, i, digest)
        prev = digest
    conn.close()


def test_a_trail_of_before_keeps_verifying_and_is_anchored_at_first_use(tmp_path, config, capsys):
    path = tmp_path / "kiosk.sqlite3"
    _legacy_database(path, 5)
    assert not Path(str(path) + ".audit-key").exists()
    code, found = _verify(config, capsys)  # the first use: anchored at record 5
    assert (code, found["whole"], found["records"]) == (0, True, 5)
    _truncate(path, 4)
    code, found = _verify(config, capsys)
    assert code == 5
    assert (found["broken_at"], found["kind"]) == (5, "removed")


def test_a_trail_of_before_goes_on_keyed_and_its_old_part_is_held_by_the_new(
    tmp_path, config, capsys
):
    path = tmp_path / "kiosk.sqlite3"
    _legacy_database(path, 4)
    _write_events(path, 2)  # records 5 and 6, keyed
    code, found = _verify(config, capsys)
    assert (code, found["whole"], found["records"]) == (0, True, 6)
    assert json.loads(Path(str(path) + ".audit-key").read_text())["keyed_from"] == 5
    # Rewriting the old part with plain SHA-256 no longer fits the first keyed record.
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    with conn:
        conn.execute("UPDATE audit SET user = 'mallory' WHERE id = 2")
        prev = conn.execute("SELECT hash FROM audit WHERE id = 1").fetchone()[0]
        for row in conn.execute("SELECT * FROM audit WHERE id BETWEEN 2 AND 4 ORDER BY id"):
            digest = audit_chain.record_hash(prev, dict(row))
            conn.execute(
                "UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, row["id"])
            )
            prev = digest
    conn.close()
    code, found = _verify(config, capsys)
    assert code == 5
    assert found["broken_at"] == 5  # record 5 no longer follows the rewritten record 4


@pytest.mark.parametrize("lost", ["audit-key", "audit-head", "audit-key audit-head"])
def test_a_lost_key_or_head_is_reported_and_stays_reported(tmp_path, config, capsys, lost):
    """Both lost (red team round 11) was taken for a trail of before: anchored anew, and
    said "record 1 was changed" (or nothing, after a plain SHA-256 rehash: that one needs
    the database rewritten, the documented limit)."""
    path = tmp_path / "kiosk.sqlite3"
    _write_events(path, 5)
    for name in lost.split():
        Path(f"{path}.{name}").unlink()
    code, found = _verify(config, capsys)
    assert code == 5
    assert found["broken_at"] == (6 if lost == "audit-head" else 1)
    assert all(f"{path}.{name}" in found["message"] for name in lost.split())
    assert "backup" in found["message"]
    _write_events(path, 2)  # appending goes on, with a new key or head ...
    assert all(Path(f"{path}.{name}").exists() for name in lost.split())
    code, again = _verify(config, capsys)  # ... and the loss is not forgotten
    assert code == 5
    assert again["broken_at"] == found["broken_at"]
