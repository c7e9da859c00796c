"""Tests of the local store: ``kiosk/store/{db,studies,outbox}.py`` and ``kiosk/audit.py``."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import audit
from kiosk.errors import StoreError
from kiosk.store import db, outbox, studies
from kiosk.store.outbox import OutboxState
from kiosk.store.studies import StudyState

EXPECTED_TABLES = {"studies", "instances", "outbox", "audit"}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store" / "kiosk.sqlite3"


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    c = db.connect(db_path)
    try:
        yield c
    finally:
        c.close()


def tables(c: sqlite3.Connection) -> set[str]:
    return {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def new_study(c: sqlite3.Connection, uid: str = "1.2.3.4", dest: str = "radiology") -> int:
    return studies.add_study(
        c,
        study_instance_uid=uid,
        original_patient_id="EXT-1",
        original_issuer="OUTSIDE",
        source="/media/cdrom",
        station="FRONTDESK-1",
        user="clerk",
        destination=dest,
    )


def new_instances(
    c: sqlite3.Connection, study_id: int, n: int, prefix: str = "1.2.3.4.5"
) -> list[int]:
    ids = []
    for k in range(1, n + 1):
        iid = studies.add_instance(
            c,
            study_id,
            sop_instance_uid=f"{prefix}.{k}",
            sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
            transfer_syntax_uid="1.2.840.10008.1.2.1",
            source_relpath=f"DICOM/I{k:07d}",
        )
        studies.update_instance(c, iid, coerced_path=f"/spool/coerced/{k}.dcm", size=1000 + k)
        ids.append(iid)
    return ids


def outbox_row(c: sqlite3.Connection, item_id: int) -> sqlite3.Row:
    row = c.execute("SELECT * FROM outbox WHERE id = ?", (item_id,)).fetchone()
    assert row is not None
    return row


# --- schema and migrations ------------------------------------------------------------------


def test_fresh_database_gets_every_migration(conn: sqlite3.Connection, db_path: Path) -> None:
    steps = db.migrations()
    assert steps, "there is at least one migration"
    versions = [v for v, _ in steps]
    # Ascending and unique; a branch may hold a number whose predecessors land from others.
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert db.schema_version(conn) == versions[-1]
    assert tables(conn) >= EXPECTED_TABLES
    assert db_path.is_file()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_reopening_does_not_rerun_migrations(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="kiosk.store.db"):
        first = db.connect(db_path)
    migrated = [r for r in caplog.records if "migrated" in r.getMessage()]
    assert len(migrated) == len(db.migrations())
    sid = new_study(first)
    first.close()

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kiosk.store.db"):
        second = db.connect(db_path)
    try:
        assert not [r for r in caplog.records if "migrated" in r.getMessage()]
        assert db.schema_version(second) == db.migrations()[-1][0]
        # The data survived (a re-run of CREATE TABLE would also have failed).
        assert studies.get_study(second, sid).study_instance_uid == "1.2.3.4"
        assert db.migrate(second, db_path) == db.migrations()[-1][0]
    finally:
        second.close()


def test_newer_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    raw = sqlite3.connect(db_path)
    raw.execute("CREATE TABLE future (x)")
    raw.execute(f"PRAGMA user_version = {db.migrations()[-1][0] + 5}")
    raw.commit()
    raw.close()

    with pytest.raises(StoreError) as info:
        db.connect(db_path)
    assert str(db_path) in str(info.value)
    assert "newer" in str(info.value)
    assert info.value.exit_code == 7  # a local failure (CLI.md)

    raw = sqlite3.connect(db_path)
    try:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == db.migrations()[-1][0] + 5
        assert tables(raw) == {"future"}  # untouched
    finally:
        raw.close()


def test_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    folder = tmp_path / "is-a-dir"
    folder.mkdir()
    with pytest.raises(StoreError) as info:
        db.connect(folder)
    assert str(folder) in str(info.value)


def test_not_a_database_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.sqlite3"
    path.write_bytes(b"this is not an SQLite database at all, just some text" * 100)
    with pytest.raises(StoreError) as info:
        db.connect(path)
    assert "not usable" in str(info.value)


# --- the study state machine --------------------------------------------------------------


def test_allowed_path_to_committed(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    rec = studies.get_study(conn, sid)
    assert rec.state is StudyState.FOUND
    assert rec.new_study_instance_uid == "1.2.3.4"
    assert rec.original_patient_id == "EXT-1"
    assert rec.original_issuer == "OUTSIDE"
    path = [
        StudyState.COPIED,
        StudyState.MATCHED,
        StudyState.COERCED,
        StudyState.QUEUED,
        StudyState.SENT,
        StudyState.COMMITTED,
    ]
    for state in path:
        studies.set_state(conn, sid, state)
        assert studies.get_study(conn, sid).state is state
    assert [s.id for s in studies.find_studies(conn, state="committed")] == [sid]


def test_forbidden_jump_raises_and_keeps_state(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    with pytest.raises(StoreError) as info:
        studies.set_state(conn, sid, StudyState.SENT)
    assert "found" in str(info.value)
    assert "sent" in str(info.value)
    assert studies.get_study(conn, sid).state is StudyState.FOUND


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ([], StudyState.COERCED),
        ([StudyState.COPIED], StudyState.QUEUED),
        ([StudyState.COPIED, StudyState.UNSCHEDULED], StudyState.QUEUED),
        ([StudyState.DISCARDED], StudyState.COPIED),
    ],
)
def test_other_forbidden_transitions(
    conn: sqlite3.Connection, before: list[StudyState], after: StudyState
) -> None:
    sid = new_study(conn)
    for state in before:
        studies.set_state(conn, sid, state)
    with pytest.raises(StoreError):
        studies.set_state(conn, sid, after)


def test_set_state_updates_columns_and_rejects_unknown_ones(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    studies.set_state(conn, sid, StudyState.COPIED, spool_dir="/spool/1")
    studies.set_state(conn, sid, StudyState.MATCHED, mrn="MRN1", accession_number="ACC9")
    studies.set_state(conn, sid, StudyState.COERCED, new_study_instance_uid="2.25.99")
    rec = studies.get_study(conn, sid)
    assert (rec.spool_dir, rec.mrn, rec.accession_number, rec.new_study_instance_uid) == (
        "/spool/1",
        "MRN1",
        "ACC9",
        "2.25.99",
    )
    # Found under both its original and its new UID.
    assert [s.id for s in studies.find_studies(conn, study_instance_uid="1.2.3.4")] == [sid]
    assert [s.id for s in studies.find_studies(conn, study_instance_uid="2.25.99")] == [sid]
    with pytest.raises(ValueError, match="state"):
        studies.set_state(conn, sid, StudyState.QUEUED, state="sent")
    assert studies.get_study(conn, sid).state is StudyState.COERCED


def test_get_unknown_study(conn: sqlite3.Connection) -> None:
    with pytest.raises(StoreError, match="42"):
        studies.get_study(conn, 42)


def test_instances_of_a_study(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    ids = new_instances(conn, sid, 3)
    rows = studies.instances_of(conn, sid)
    assert [r["id"] for r in rows] == ids
    assert [r["sop_instance_uid"] for r in rows] == ["1.2.3.4.5.1", "1.2.3.4.5.2", "1.2.3.4.5.3"]
    assert [r["size"] for r in rows] == [1001, 1002, 1003]
    with pytest.raises(sqlite3.IntegrityError):  # one SOP Instance UID once per study
        studies.add_instance(
            conn,
            sid,
            sop_instance_uid="1.2.3.4.5.1",
            sop_class_uid="x",
            transfer_syntax_uid="",
            source_relpath="DICOM/COPY",
        )


# --- the outbox -----------------------------------------------------------------------------


def test_claim_returns_what_is_needed_to_send(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    (iid,) = new_instances(conn, sid, 1)
    outbox.enqueue(conn, iid, "radiology", held=False)
    (item,) = outbox.claim(conn, destination="radiology", limit=10)
    assert item.instance_id == iid
    assert item.study_id == sid
    assert item.destination == "radiology"
    assert item.path == "/spool/coerced/1.dcm"
    assert item.sop_instance_uid == "1.2.3.4.5.1"
    assert item.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2"
    assert item.transfer_syntax_uid == "1.2.840.10008.1.2.1"
    assert item.attempts == 1
    row = outbox_row(conn, item.id)
    assert row["state"] == "sending"
    assert row["claimed_by"] == outbox.worker_id()
    assert row["claimed_at"] != ""
    # Claimed rows are not handed out again.
    assert outbox.claim(conn, destination="radiology", limit=10) == []


def test_two_connections_never_claim_the_same_rows(db_path: Path) -> None:
    a = db.connect(db_path)
    b = db.connect(db_path)
    try:
        sid = new_study(a)
        for iid in new_instances(a, sid, 5):
            outbox.enqueue(a, iid, "radiology", held=False)
        first = outbox.claim(a, destination="radiology", limit=3)
        second = outbox.claim(b, destination="radiology", limit=10)
        assert len(first) == 3
        assert len(second) == 2
        assert {i.id for i in first}.isdisjoint({i.id for i in second})
        assert outbox.claim(a, destination="radiology", limit=10) == []
        assert outbox.claim(b, destination="radiology", limit=10) == []
        assert outbox.counts_for_study(a, sid) == {"sending": 5}
    finally:
        a.close()
        b.close()


def test_concurrent_claimers_share_the_rows_without_overlap(db_path: Path) -> None:
    setup = db.connect(db_path)
    sid = new_study(setup)
    for iid in new_instances(setup, sid, 40):
        outbox.enqueue(setup, iid, "radiology", held=False)
    setup.close()

    got: dict[int, list[int]] = {0: [], 1: []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def worker(n: int) -> None:
        try:
            c = db.connect(db_path)
            try:
                start.wait()
                while items := outbox.claim(c, destination="radiology", limit=1):
                    got[n].extend(i.id for i in items)
            finally:
                c.close()
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    all_ids = got[0] + got[1]
    assert len(all_ids) == 40
    assert len(set(all_ids)) == 40


def test_destination_filter(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    a, b = new_instances(conn, sid, 2)
    outbox.enqueue(conn, a, "radiology", held=False)
    outbox.enqueue(conn, b, "cardiology", held=False)
    assert [i.instance_id for i in outbox.claim(conn, destination="cardiology", limit=10)] == [b]
    assert [i.instance_id for i in outbox.claim(conn, destination=None, limit=10)] == [a]


def test_study_filter(conn: sqlite3.Connection) -> None:
    s1 = new_study(conn, "1.1")
    s2 = new_study(conn, "2.2")
    (i1,) = new_instances(conn, s1, 1, prefix="1.1.9")
    (i2,) = new_instances(conn, s2, 1, prefix="2.2.9")
    outbox.enqueue(conn, i1, "radiology", held=False)
    outbox.enqueue(conn, i2, "radiology", held=False)
    items = outbox.claim(conn, destination=None, limit=10, study_id=s2)
    assert [i.instance_id for i in items] == [i2]


def test_stale_claim_is_reclaimable_fresh_one_is_not(db_path: Path) -> None:
    a = db.connect(db_path)
    b = db.connect(db_path)
    try:
        sid = new_study(a)
        stale_iid, fresh_iid = new_instances(a, sid, 2)
        outbox.enqueue(a, stale_iid, "radiology", held=False)
        outbox.enqueue(a, fresh_iid, "radiology", held=False)
        claimed = outbox.claim(a, destination="radiology", limit=10)
        assert len(claimed) == 2
        stale_id = next(i.id for i in claimed if i.instance_id == stale_iid)
        # The process holding it died long ago: its lease has run out.
        a.execute(
            "UPDATE outbox SET claimed_at = '2000-01-01T00:00:00+00:00', claimed_by = 'dead:1'"
            " WHERE id = ?",
            (stale_id,),
        )
        again = outbox.claim(b, destination="radiology", limit=10)
        assert [i.id for i in again] == [stale_id]
        assert again[0].attempts == 2
        row = outbox_row(b, stale_id)
        assert row["claimed_by"] == outbox.worker_id()
        assert row["claimed_at"] > "2000-01-01T00:00:00+00:00"
        assert outbox.claim(b, destination="radiology", limit=10) == []
    finally:
        a.close()
        b.close()


def test_held_rows_wait_for_release(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    iids = new_instances(conn, sid, 2)
    for iid in iids:
        outbox.enqueue(conn, iid, "radiology", held=True)
    assert outbox.counts_for_study(conn, sid) == {"held": 2}
    assert outbox.claim(conn, destination="radiology", limit=10) == []
    for iid in iids:  # the order is attached: queued again (what reconciliation does)
        outbox.enqueue(conn, iid, "radiology", held=False)
    assert outbox.counts_for_study(conn, sid) == {"queued": 2}
    assert sorted(i.instance_id for i in outbox.claim(conn, destination=None, limit=10)) == iids


def test_enqueue_twice_keeps_one_row(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    (iid,) = new_instances(conn, sid, 1)
    outbox.enqueue(conn, iid, "radiology", held=True)
    outbox.enqueue(conn, iid, "radiology", held=False)
    assert outbox.counts_for_study(conn, sid) == {"queued": 1}


def test_finish_and_counts_for_study(conn: sqlite3.Connection) -> None:
    sid = new_study(conn)
    other = new_study(conn, "9.9")
    iids = new_instances(conn, sid, 4)
    (other_iid,) = new_instances(conn, other, 1, prefix="9.9.9")
    for iid in [*iids, other_iid]:
        outbox.enqueue(conn, iid, "radiology", held=False)
    items = outbox.claim(conn, destination="radiology", limit=3, study_id=sid)
    assert len(items) == 3
    outbox.finish(conn, items[0].id, OutboxState.SENT, status="0x0000")
    outbox.finish(conn, items[1].id, OutboxState.FAILED, status="0xA700", error="out of resources")
    assert outbox.counts_for_study(conn, sid) == {"sent": 1, "failed": 1, "sending": 1, "queued": 1}
    assert outbox.counts_for_study(conn, other) == {"queued": 1}
    assert outbox.counts_for_study(conn, 12345) == {}

    sent = outbox_row(conn, items[0].id)
    assert (sent["state"], sent["last_status"], sent["last_error"], sent["claimed_by"]) == (
        "sent",
        "0x0000",
        "",
        "",
    )
    failed = outbox_row(conn, items[1].id)
    assert (failed["state"], failed["last_status"], failed["last_error"]) == (
        "failed",
        "0xA700",
        "out of resources",
    )

    # Failed rows come back only on retry, sent rows never.
    rest = outbox.claim(conn, destination="radiology", limit=10, study_id=sid)
    assert [i.instance_id for i in rest] == [iids[3]]
    retry = outbox.claim(conn, destination="radiology", limit=10, study_id=sid, retry_failed=True)
    assert [i.id for i in retry] == [items[1].id]
    assert retry[0].attempts == 2


# --- audit trail ----------------------------------------------------------------------------


def test_audit_record_and_events(conn: sqlite3.Connection) -> None:
    audit.record(
        conn,
        user="clerk",
        station="FRONTDESK-1",
        action="import",
        study_instance_uid="1.2.3",
        detail="3 instances",
    )
    audit.record(
        conn, user="clerk", station="FRONTDESK-1", action="send", outcome="failed", detail="down"
    )
    events = audit.events(conn)
    assert [
        (e.user, e.station, e.action, e.study_instance_uid, e.outcome, e.detail) for e in events
    ] == [
        ("clerk", "FRONTDESK-1", "import", "1.2.3", "ok", "3 instances"),
        ("clerk", "FRONTDESK-1", "send", "", "failed", "down"),
    ]
    assert events[0].time[:4].isdigit() and "T" in events[0].time
    assert set(events[0].to_json()) >= {
        "time",
        "user",
        "station",
        "action",
        "study_instance_uid",
        "outcome",
    }
    assert events[0].to_json()["action"] == "import"


def test_audit_events_since(conn: sqlite3.Connection) -> None:
    for action in ("old", "border", "new"):
        audit.record(conn, user="u", station="s", action=action)
    conn.execute("UPDATE audit SET time = '2024-12-31T23:59:59+00:00' WHERE action = 'old'")
    conn.execute("UPDATE audit SET time = '2025-01-01T00:00:00+00:00' WHERE action = 'border'")
    conn.execute("UPDATE audit SET time = '2025-06-01T12:00:00+00:00' WHERE action = 'new'")
    assert [e.action for e in audit.events(conn, since="2025-01-01")] == ["border", "new"]
    assert [e.action for e in audit.events(conn, since="2025-02-01")] == ["new"]
    assert [e.action for e in audit.events(conn, since="2026-01-01")] == []
    assert [e.action for e in audit.events(conn)] == ["old", "border", "new"]
