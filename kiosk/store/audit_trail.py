"""The ``audit`` table: append an event to the hash chain, read and verify it, the ATNA queue.

See :mod:`kiosk.audit` for the trail and :mod:`kiosk.store.audit_chain` for the chain.
"""

from __future__ import annotations

import sqlite3

from kiosk.store import audit_chain
from kiosk.store.audit_chain import Break
from kiosk.store.db import now_iso, transaction


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
    """
    with transaction(conn):
        head = conn.execute("SELECT last_id, last_hash FROM audit_head WHERE one = 1").fetchone()
        prev = head["last_hash"] if head else audit_chain.GENESIS
        fields: dict[str, object] = {
            "time": now_iso(),
            "user": user,
            "station": station,
            "action": action,
            "study_instance_uid": study_instance_uid,
            "outcome": outcome,
            "detail": detail,
        }
        cursor = conn.execute(
            "INSERT INTO audit (time, user, station, action, study_instance_uid, outcome, detail)"
            " VALUES (:time,:user,:station,:action,:study_instance_uid,:outcome,:detail)",
            fields,
        )
        rid = int(cursor.lastrowid or 0)
        digest = audit_chain.record_hash(prev, {**fields, "id": rid})
        conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, rid))
        audit_chain.set_head(conn, rid, digest)
        conn.execute(
            "INSERT INTO atna_queue (audit_id, state, updated_at) VALUES (?, 'queued', ?)",
            (rid, fields["time"]),
        )
        return rid


def rows(conn: sqlite3.Connection, since: str | None = None) -> list[sqlite3.Row]:
    """The events, oldest first, optionally from a time (ISO text compare) on."""
    if since:
        return conn.execute("SELECT * FROM audit WHERE time >= ? ORDER BY id", (since,)).fetchall()
    return conn.execute("SELECT * FROM audit ORDER BY id").fetchall()


def verify(conn: sqlite3.Connection) -> tuple[int, Break | None]:
    """Check the whole chain; return how many records were checked and the first break."""
    found = conn.execute("SELECT * FROM audit ORDER BY id").fetchall()
    head = conn.execute("SELECT last_id, last_hash FROM audit_head WHERE one = 1").fetchone()
    return len(found), audit_chain.first_break(found, head)


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
