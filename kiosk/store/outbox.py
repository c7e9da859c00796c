"""The durable outbox: one row per instance and destination.

Rows are claimed inside an immediate transaction, so several ``kiosk send``
processes on one database never send the same row at once; a claim left by a
process that died is taken over after a lease time. Delivery is at least once.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from kiosk.store.db import now_iso

CLAIM_LEASE = timedelta(minutes=10)


class OutboxState(StrEnum):
    """Where one instance stands for one destination."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    QUARANTINED = "quarantined"
    HELD = "held"


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox row with what is needed to send it."""

    id: int
    instance_id: int
    study_id: int
    destination: str
    path: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    attempts: int


def worker_id() -> str:
    """Return an id for this process, used to claim rows."""
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue(conn: sqlite3.Connection, instance_id: int, destination: str, held: bool) -> None:
    """Queue (or hold, for unscheduled studies kept back) one instance for a destination."""
    state = OutboxState.HELD if held else OutboxState.QUEUED
    conn.execute(
        "INSERT INTO outbox (instance_id, destination, state, updated_at) VALUES (?,?,?,?)"
        " ON CONFLICT (instance_id, destination) DO UPDATE SET state = excluded.state,"
        " claimed_by = '', updated_at = excluded.updated_at",
        (instance_id, destination, state.value, now_iso()),
    )


def claim(
    conn: sqlite3.Connection,
    *,
    destination: str | None,
    limit: int,
    retry_failed: bool = False,
    study_id: int | None = None,
) -> list[OutboxItem]:
    """Claim up to ``limit`` deliverable rows for this process."""
    me = worker_id()
    stale = (datetime.now(UTC) - CLAIM_LEASE).isoformat(timespec="seconds")
    states = [OutboxState.QUEUED.value] + ([OutboxState.FAILED.value] if retry_failed else [])
    marks = ",".join("?" for _ in states)
    sql = (
        "SELECT o.id FROM outbox o JOIN instances i ON i.id = o.instance_id"
        f" WHERE (o.state IN ({marks}) OR (o.state = 'sending' AND o.claimed_at < ?))"
    )
    args: list[object] = [*states, stale]
    if destination:
        sql += " AND o.destination = ?"
        args.append(destination)
    if study_id is not None:
        sql += " AND i.study_id = ?"
        args.append(study_id)
    sql += " ORDER BY o.id LIMIT ?"
    args.append(limit)
    conn.execute("BEGIN IMMEDIATE")
    try:
        ids = [r[0] for r in conn.execute(sql, args)]
        now = now_iso()
        conn.executemany(
            "UPDATE outbox SET state = 'sending', claimed_by = ?, claimed_at = ?,"
            " attempts = attempts + 1, updated_at = ? WHERE id = ?",
            [(me, now, now, i) for i in ids],
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if not ids:
        return []
    marks = ",".join("?" for _ in ids)
    rows = conn.execute(
        "SELECT o.id, o.instance_id, o.destination, o.attempts, i.study_id, i.coerced_path,"
        " i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax_uid FROM outbox o"
        f" JOIN instances i ON i.id = o.instance_id WHERE o.id IN ({marks}) ORDER BY o.id",
        ids,
    )
    return [
        OutboxItem(
            id=r["id"],
            instance_id=r["instance_id"],
            study_id=r["study_id"],
            destination=r["destination"],
            path=r["coerced_path"],
            sop_instance_uid=r["sop_instance_uid"],
            sop_class_uid=r["sop_class_uid"],
            transfer_syntax_uid=r["transfer_syntax_uid"],
            attempts=r["attempts"],
        )
        for r in rows
    ]


def finish(
    conn: sqlite3.Connection, item_id: int, state: OutboxState, status: str = "", error: str = ""
) -> None:
    """Record the outcome of one delivery attempt."""
    conn.execute(
        "UPDATE outbox SET state = ?, last_status = ?, last_error = ?, claimed_by = '',"
        " updated_at = ? WHERE id = ?",
        (state.value, status, error, now_iso(), item_id),
    )


def counts_for_study(conn: sqlite3.Connection, study_id: int) -> dict[str, int]:
    """Return how many instances of a study are in each outbox state."""
    rows = conn.execute(
        "SELECT o.state, count(*) FROM outbox o JOIN instances i ON i.id = o.instance_id"
        " WHERE i.study_id = ? GROUP BY o.state",
        (study_id,),
    )
    return {r[0]: r[1] for r in rows}


def release_held(conn: sqlite3.Connection, study_id: int) -> None:
    """Turn held rows of a study into queued ones (after the back office reconciled it)."""
    conn.execute(
        "UPDATE outbox SET state = 'queued', updated_at = ? WHERE state = 'held' AND"
        " instance_id IN (SELECT id FROM instances WHERE study_id = ?)",
        (now_iso(), study_id),
    )
