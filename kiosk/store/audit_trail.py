"""The ``audit`` table: append an event to the hash chain, read and verify it, the ATNA queue.

See :mod:`kiosk.audit` for the trail and :mod:`kiosk.store.audit_chain` for the chain.
"""

from __future__ import annotations

import sqlite3

from kiosk.store import audit_chain, audit_seal
from kiosk.store.audit_chain import Break
from kiosk.store.db import after_commit, now_iso, transaction


def append(
    conn: sqlite3.Connection,
    *,
    user: str,
    station: str,
    action: str,
    study_instance_uid: str,
    outcome: str,
    detail: str,
) -> int:
    """Append one event, stamped now and chained, queued for the ATNA collector; return its id.

    Runs inside the caller's transaction, or in its own (``BEGIN IMMEDIATE``:
    no other writer can append between reading the last hash and inserting).
    The head file names the record once the transaction commits
    (:mod:`kiosk.store.audit_seal`).

    The new id comes after every id the trail ever had that is known: the
    newest row, ``audit_head``, the head file and the ATNA queue. Records
    removed from the end then leave a gap before it, which ``--verify``
    names, and an id is never given twice (an ATNA queue row left behind by
    a removed record does not block the append).
    """
    with transaction(conn):
        seal = audit_seal.load(conn, appending=True)
        newest = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        prev = str(newest[1]) if newest is not None else audit_chain.GENESIS
        known = conn.execute(
            "SELECT max(coalesce((SELECT max(id) FROM audit), 0),"
            " coalesce((SELECT last_id FROM audit_head WHERE one = 1), 0),"
            " coalesce((SELECT max(audit_id) FROM atna_queue), 0))"
        ).fetchone()[0]
        if seal.head is not None:
            known = max(known, seal.head.anchor.last_id)
        rid = int(known) + 1
        fields: dict[str, object] = {
            "id": rid,
            "time": now_iso(),
            "user": user,
            "station": station,
            "action": action,
            "study_instance_uid": study_instance_uid,
            "outcome": outcome,
            "detail": detail,
        }
        conn.execute(
            "INSERT INTO audit (id, time, user, station, action, study_instance_uid, outcome,"
            " detail) VALUES (:id,:time,:user,:station,:action,:study_instance_uid,:outcome,"
            ":detail)",
            fields,
        )
        if seal.secret is None:  # pragma: no cover - load(appending=True) always has a key
            raise AssertionError("no audit key")
        digest = audit_chain.record_mac(seal.secret, prev, fields)
        conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, rid))
        audit_chain.set_head(conn, rid, digest)
        conn.execute(
            "INSERT INTO atna_queue (audit_id, state, updated_at) VALUES (?, 'queued', ?)",
            (rid, fields["time"]),
        )
        after_commit(conn, lambda: audit_seal.advance(conn, seal, rid, digest))
        return rid


def rows(conn: sqlite3.Connection, since: str | None = None) -> list[sqlite3.Row]:
    """The events, oldest first, optionally from a time (ISO text compare) on."""
    if since:
        return conn.execute("SELECT * FROM audit WHERE time >= ? ORDER BY id", (since,)).fetchall()
    return conn.execute("SELECT * FROM audit ORDER BY id").fetchall()


def verify(conn: sqlite3.Connection) -> tuple[int, Break | None]:
    """Check the whole chain; return how many records were checked and the first break.

    The key and head files are read before the rows: a record appended
    meanwhile is then only one more after the head, never a head past the
    rows read.
    """
    seal = audit_seal.load(conn)
    anchor = seal.head.anchor if seal.head is not None else None
    found = conn.execute("SELECT * FROM audit ORDER BY id").fetchall()
    walked = audit_chain.first_break(
        found,
        key=seal.secret,
        keyed_from=seal.keyed_from,
        anchor=anchor,
        unchecked=seal.key.lost if seal.key is not None else None,
    )
    candidates = audit_seal.breaks(seal) + ([walked] if walked is not None else [])
    first = min(candidates, key=lambda b: b.record_id, default=None)
    return len(found), first


def atna_pending(conn: sqlite3.Connection, limit: int = 500) -> list[sqlite3.Row]:
    """The queued records for the ATNA collector, oldest first (with their audit fields)."""
    return conn.execute(
        "SELECT audit.* FROM atna_queue JOIN audit ON audit.id = atna_queue.audit_id"
        " WHERE atna_queue.state = 'queued' ORDER BY audit.id LIMIT ?",
        (limit,),
    ).fetchall()


def atna_claim(conn: sqlite3.Connection, audit_id: int) -> bool:
    """Mark a queued record ``sending`` (committed at once); ``False`` if it is not queued."""
    with transaction(conn):
        cursor = conn.execute(
            "UPDATE atna_queue SET state = 'sending', updated_at = ?, attempts = attempts + 1"
            " WHERE audit_id = ? AND state = 'queued'",
            (now_iso(), audit_id),
        )
        return cursor.rowcount == 1


def atna_sent(conn: sqlite3.Connection, audit_id: int) -> None:
    """Mark a record the collector was given ``sent`` (committed at once)."""
    with transaction(conn):
        conn.execute(
            "UPDATE atna_queue SET state = 'sent', last_error = '', updated_at = ?"
            " WHERE audit_id = ?",
            (now_iso(), audit_id),
        )


def atna_lease(conn: sqlite3.Connection, holder: str, until: str) -> bool:
    """Take or renew the ATNA sender's lease until ``until``; ``False`` if another holds it."""
    with transaction(conn):
        row = conn.execute("SELECT holder, until FROM atna_sender WHERE one = 1").fetchone()
        if row is not None and row["holder"] != holder and row["until"] > now_iso():
            return False
        conn.execute(
            "INSERT INTO atna_sender (one, holder, until) VALUES (1, ?, ?)"
            " ON CONFLICT (one) DO UPDATE SET holder = excluded.holder, until = excluded.until",
            (holder, until),
        )
        return True


def atna_release(conn: sqlite3.Connection, holder: str) -> None:
    """Give the lease of the ATNA sender back (if ``holder`` has it)."""
    with transaction(conn):
        conn.execute("DELETE FROM atna_sender WHERE one = 1 AND holder = ?", (holder,))


def atna_note_failure(conn: sqlite3.Connection, audit_id: int, error: str) -> None:
    """Keep a record queued after a failed attempt, with the error."""
    with transaction(conn):
        conn.execute(
            "UPDATE atna_queue SET state = 'queued', last_error = ?, updated_at = ?"
            " WHERE audit_id = ?",
            (error, now_iso(), audit_id),
        )


def atna_settle_interrupted(conn: sqlite3.Connection) -> int:
    """Records left ``sending`` by a crash become ``uncertain``: never written twice.

    Only the lease holder calls this: no other sender is between claim and ``sent``.
    """
    with transaction(conn):
        cursor = conn.execute(
            "UPDATE atna_queue SET state = 'uncertain', updated_at = ? WHERE state = 'sending'",
            (now_iso(),),
        )
        return cursor.rowcount


def atna_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """How many records of the ATNA queue are in each state."""
    return {
        r["state"]: int(r["n"])
        for r in conn.execute("SELECT state, count(*) AS n FROM atna_queue GROUP BY state")
    }
