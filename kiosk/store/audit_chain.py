"""The audit trail's hash chain: each record's SHA-256 covers its fields and the hash before it.

A record changed after the fact no longer matches its hash; a record removed
breaks the link of the one after it (its ``prev_hash``, and its id leaves a
gap); a record removed from the end no longer matches ``audit_head``. The
canonical form is JSON of the fields in a fixed order, ASCII only, without
blanks, so the same record always gives the same bytes (a later Python, a
different locale).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

#: The hash "before" the first record.
GENESIS = "0" * 64

#: The fields a record's hash covers, in this order.
FIELDS = ("id", "time", "user", "station", "action", "study_instance_uid", "outcome", "detail")


def record_hash(prev_hash: str, fields: dict[str, object]) -> str:
    """Return the SHA-256 (hex) of a record's canonical form and the hash before it."""
    canonical = json.dumps(
        [prev_hash, *(fields[name] for name in FIELDS)], ensure_ascii=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def chain_existing(conn: sqlite3.Connection) -> None:
    """Hash the records that have no hash yet, in order (migration 0009; in its transaction)."""
    last = conn.execute("SELECT id, hash FROM audit WHERE hash != '' ORDER BY id DESC LIMIT 1")
    row = last.fetchone()
    prev = row["hash"] if row else GENESIS
    last_id = row["id"] if row else 0
    for record in conn.execute("SELECT * FROM audit WHERE hash = '' ORDER BY id").fetchall():
        digest = record_hash(prev, dict(record))
        conn.execute(
            "UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, record["id"])
        )
        prev, last_id = digest, record["id"]
    if last_id:
        set_head(conn, last_id, prev)


def set_head(conn: sqlite3.Connection, last_id: int, last_hash: str) -> None:
    """Record the newest record's id and hash (inside the caller's transaction)."""
    conn.execute(
        "INSERT INTO audit_head (one, last_id, last_hash) VALUES (1, ?, ?)"
        " ON CONFLICT (one) DO UPDATE SET last_id = excluded.last_id,"
        " last_hash = excluded.last_hash",
        (last_id, last_hash),
    )


@dataclass(frozen=True)
class Break:
    """Where the chain is broken: the first record changed, or the first one missing."""

    record_id: int
    kind: str  # "changed" or "removed"
    message: str


def first_break(rows: Iterable[sqlite3.Row], head: sqlite3.Row | None) -> Break | None:
    """Walk the records oldest first; return the first break, or ``None`` when whole."""
    prev = GENESIS
    expected_id: int | None = None
    last_id = 0
    for row in rows:
        rid = int(row["id"])
        if expected_id is not None and rid != expected_id:
            return Break(
                expected_id,
                "removed",
                f"audit record {expected_id} was removed (the trail jumps to {rid})",
            )
        if row["prev_hash"] != prev:
            return Break(
                rid,
                "removed" if expected_id is not None else "changed",
                f"audit record {rid} does not follow the record before it "
                "(that record was removed or changed)",
            )
        if record_hash(prev, dict(row)) != row["hash"]:
            return Break(rid, "changed", f"audit record {rid} was changed after it was written")
        prev, last_id, expected_id = row["hash"], rid, rid + 1
    if head is not None:
        if int(head["last_id"]) > last_id:
            missing = last_id + 1
            return Break(
                missing, "removed", f"audit record {missing} and after it were removed (the end)"
            )
        if int(head["last_id"]) == last_id and head["last_hash"] != prev:
            return Break(
                last_id, "changed", f"audit record {last_id} was changed after it was written"
            )
    elif last_id:
        return Break(last_id, "removed", "the audit trail's head record was removed")
    return None
