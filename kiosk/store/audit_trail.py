"""The ``audit`` table: append an event, read the events (see :mod:`kiosk.audit`)."""

from __future__ import annotations

import sqlite3

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
) -> None:
    """Append one event, stamped now (inside the caller's transaction, or in its own)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO audit (time, user, station, action, study_instance_uid, outcome, detail)"
            " VALUES (?,?,?,?,?,?,?)",
            (now_iso(), user, station, action, study_instance_uid, outcome, detail),
        )


def rows(conn: sqlite3.Connection, since: str | None = None) -> list[sqlite3.Row]:
    """The events, oldest first, optionally from a time (ISO text compare) on."""
    if since:
        return conn.execute("SELECT * FROM audit WHERE time >= ? ORDER BY id", (since,)).fetchall()
    return conn.execute("SELECT * FROM audit ORDER BY id").fetchall()
