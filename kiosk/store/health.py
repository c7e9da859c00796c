"""Destination health: which PACS could not be reached, and when to try it again.

A destination that refuses or drops our associations is not hammered: each
failed run in a row pushes its next automatic attempt further out (the caller
computes the wait, with backoff and jitter, :func:`kiosk.send.policy.backoff_seconds`).
A person's ``kiosk send`` (or "Resend") still tries at once. The first
association that works clears the record.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kiosk.store.db import transaction


@dataclass(frozen=True)
class DestinationDown:
    """A destination that could not be reached, as recorded."""

    destination: str
    failures: int
    down_since: str
    last_error: str
    next_attempt_at: str


def get(conn: sqlite3.Connection, destination: str) -> DestinationDown | None:
    """Return the record of a destination that is down (``None``: not known to be down)."""
    row = conn.execute(
        "SELECT destination, failures, down_since, last_error, next_attempt_at"
        " FROM destination_health WHERE destination = ?",
        (destination,),
    ).fetchone()
    return None if row is None else DestinationDown(*row)


def down(conn: sqlite3.Connection) -> list[DestinationDown]:
    """Return every destination that is down, by name."""
    rows = conn.execute(
        "SELECT destination, failures, down_since, last_error, next_attempt_at"
        " FROM destination_health ORDER BY destination"
    )
    return [DestinationDown(*r) for r in rows]


def failures(conn: sqlite3.Connection, destination: str) -> int:
    """Return how many runs in a row could not reach a destination."""
    record = get(conn, destination)
    return 0 if record is None else record.failures


def waiting(
    conn: sqlite3.Connection, destination: str, now: datetime | None = None
) -> DestinationDown | None:
    """Return a destination's record while an automatic run must still wait for it.

    ``None`` means an automatic run may try it now: it is up, or its wait is over.
    """
    record = get(conn, destination)
    moment = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    return record if record is not None and record.next_attempt_at > moment else None


def record_down(
    conn: sqlite3.Connection,
    destination: str,
    error: str,
    wait_seconds: float,
    now: datetime | None = None,
) -> DestinationDown:
    """Count one more failed run and schedule the next attempt ``wait_seconds`` from now."""
    moment = now or datetime.now(UTC)
    stamp = moment.isoformat(timespec="seconds")
    retry = (moment + timedelta(seconds=wait_seconds)).isoformat(timespec="seconds")
    with transaction(conn):
        conn.execute(
            "INSERT INTO destination_health"
            " (destination, failures, down_since, last_error, next_attempt_at)"
            " VALUES (?, 1, ?, ?, ?)"
            " ON CONFLICT(destination) DO UPDATE SET failures = failures + 1,"
            " last_error = excluded.last_error, next_attempt_at = excluded.next_attempt_at",
            (destination, stamp, error, retry),
        )
    record = get(conn, destination)
    assert record is not None
    return record


def record_up(conn: sqlite3.Connection, destination: str) -> bool:
    """Clear a destination's record after an association worked; return whether it was down."""
    with transaction(conn):
        cursor = conn.execute(
            "DELETE FROM destination_health WHERE destination = ?", (destination,)
        )
    return cursor.rowcount > 0


QUERY_PROBE_INTERVAL = timedelta(hours=1)


def answers_queries(conn: sqlite3.Connection, destination: str) -> bool:
    """Whether the destination may answer study queries (C-FIND): not known not to, lately."""
    row = conn.execute(
        "SELECT unsupported_until FROM destination_queries WHERE destination = ?", (destination,)
    ).fetchone()
    return row is None or row[0] <= datetime.now(UTC).isoformat(timespec="seconds")


def record_no_queries(conn: sqlite3.Connection, destination: str) -> None:
    """Remember that the destination refused the C-FIND context (a store-only PACS).

    It is asked again after :data:`QUERY_PROBE_INTERVAL`; a refusal of the
    context is a property of its configuration, not a passing failure.
    """
    until = (datetime.now(UTC) + QUERY_PROBE_INTERVAL).isoformat(timespec="seconds")
    with transaction(conn):
        conn.execute(
            "INSERT INTO destination_queries (destination, unsupported_until) VALUES (?, ?)"
            " ON CONFLICT (destination)"
            " DO UPDATE SET unsupported_until = excluded.unsupported_until",
            (destination, until),
        )
