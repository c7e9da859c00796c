"""SQL of tags (with history), second-read requests and the HL7 outbox (schema 0008)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from kiosk.store.db import now_iso, transaction
from kiosk.store.outbox import claimant_is_gone, worker_id


@dataclass(frozen=True)
class TagRecord:
    """One tag put on (or taken off: ``tag == ''``) a study, with who asked and why."""

    id: int
    study_id: int
    tag: str
    requested_by: str
    reason: str
    user: str
    station: str
    created_at: str

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "tag": self.tag,
            "requested_by": self.requested_by,
            "reason": self.reason,
            "user": self.user,
            "station": self.station,
            "time": self.created_at,
        }


@dataclass(frozen=True)
class SecondReadRecord:
    """A second-read request and its billing state."""

    id: int
    study_id: int
    study_instance_uid: str
    mrn: str
    accession: str
    requested_by: str
    reason: str
    state: str
    requested_at: str
    updated_at: str


@dataclass(frozen=True)
class Hl7Row:
    """One message of the HL7 outbox."""

    id: int
    second_read_id: int
    kind: str
    message_type: str
    control_id: str
    message: str
    state: str
    attempts: int
    ack_code: str
    last_error: str
    next_attempt_at: str


def add_tag(
    conn: sqlite3.Connection,
    study_id: int,
    *,
    tag: str,
    requested_by: str,
    reason: str,
    user: str,
    station: str,
) -> int:
    """Record a tag in the study's history and make it the study's current tag."""
    now = now_iso()
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO study_tags (study_id, tag, requested_by, reason, user, station,"
            " created_at) VALUES (?,?,?,?,?,?,?)",
            (study_id, tag, requested_by, reason, user, station, now),
        )
        conn.execute(
            "UPDATE studies SET tag = ?, updated_at = ? WHERE id = ?", (tag, now, study_id)
        )
        return int(cur.lastrowid or 0)


def _tag(row: sqlite3.Row) -> TagRecord:
    return TagRecord(
        row["id"],
        row["study_id"],
        row["tag"],
        row["requested_by"],
        row["reason"],
        row["user"],
        row["station"],
        row["created_at"],
    )


def tag_history(conn: sqlite3.Connection, study_id: int) -> list[TagRecord]:
    """A study's tags, oldest first."""
    rows = conn.execute("SELECT * FROM study_tags WHERE study_id = ? ORDER BY id", (study_id,))
    return [_tag(r) for r in rows]


def current_tags(conn: sqlite3.Connection) -> dict[int, TagRecord]:
    """Study id -> its newest tag row (studies never tagged are absent)."""
    rows = conn.execute(
        "SELECT t.* FROM study_tags t JOIN (SELECT study_id, MAX(id) AS id FROM study_tags"
        " GROUP BY study_id) n ON t.id = n.id"
    )
    return {r["study_id"]: _tag(r) for r in rows}


def add_second_read(
    conn: sqlite3.Connection,
    study_id: int,
    *,
    mrn: str,
    accession: str,
    requested_by: str,
    reason: str,
    state: str,
) -> int:
    """Record a second-read request; return its id."""
    now = now_iso()
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO second_reads (study_id, mrn, accession, requested_by, reason, state,"
            " requested_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (study_id, mrn, accession, requested_by, reason, state, now, now),
        )
        return int(cur.lastrowid or 0)


def update_second_read(conn: sqlite3.Connection, read_id: int, **fields: str) -> None:
    """Change a second read's ``state``, ``mrn``, ``accession``, ``requested_by`` or ``reason``."""
    allowed = {"state", "mrn", "accession", "requested_by", "reason"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not a second-read field: {sorted(unknown)}")
    sets = ", ".join(f"{name} = ?" for name in fields)
    with transaction(conn):
        conn.execute(
            f"UPDATE second_reads SET {sets}, updated_at = ? WHERE id = ?",
            (*fields.values(), now_iso(), read_id),
        )


_READ_SQL = (
    "SELECT r.*, s.study_instance_uid FROM second_reads r JOIN studies s ON s.id = r.study_id"
)


def _read(row: sqlite3.Row) -> SecondReadRecord:
    return SecondReadRecord(
        row["id"],
        row["study_id"],
        row["study_instance_uid"],
        row["mrn"],
        row["accession"],
        row["requested_by"],
        row["reason"],
        row["state"],
        row["requested_at"],
        row["updated_at"],
    )


def get_second_read(conn: sqlite3.Connection, read_id: int) -> SecondReadRecord | None:
    """One second read, or ``None``."""
    row = conn.execute(_READ_SQL + " WHERE r.id = ?", (read_id,)).fetchone()
    return _read(row) if row is not None else None


def second_reads(
    conn: sqlite3.Connection, *, since: str = "", study_id: int | None = None
) -> list[SecondReadRecord]:
    """Second reads, oldest first: requested on or after ``since`` (ISO), of one study."""
    sql = _READ_SQL + " WHERE r.requested_at >= ?"
    args: list[str | int] = [since]
    if study_id is not None:
        sql += " AND r.study_id = ?"
        args.append(study_id)
    return [_read(r) for r in conn.execute(sql + " ORDER BY r.id", args)]


def _hl7(row: sqlite3.Row) -> Hl7Row:
    return Hl7Row(
        row["id"],
        row["second_read_id"],
        row["kind"],
        row["message_type"],
        row["control_id"],
        row["message"],
        row["state"],
        row["attempts"],
        row["ack_code"],
        row["last_error"],
        row["next_attempt_at"],
    )


def hl7_enqueue(
    conn: sqlite3.Connection,
    read_id: int,
    *,
    kind: str,
    message_type: str,
    control_id: str,
    message: str,
) -> bool:
    """Queue a message unless one of that kind exists for the read; return whether it was."""
    now = now_iso()
    with transaction(conn):
        cur = conn.execute(
            "INSERT OR IGNORE INTO hl7_outbox (second_read_id, kind, message_type, control_id,"
            " message, state, created_at, updated_at) VALUES (?,?,?,?,?,'queued',?,?)",
            (read_id, kind, message_type, control_id, message, now, now),
        )
        return cur.rowcount == 1


def hl7_messages(conn: sqlite3.Connection, read_ids: list[int] | None = None) -> list[Hl7Row]:
    """The HL7 outbox (of some second reads), in order."""
    rows = [_hl7(r) for r in conn.execute("SELECT * FROM hl7_outbox ORDER BY id")]
    if read_ids is None:
        return rows
    wanted = set(read_ids)
    return [r for r in rows if r.second_read_id in wanted]


def hl7_release_gone(conn: sqlite3.Connection) -> int:
    """Put messages claimed by a process that died (mid-send) back in the queue."""
    with transaction(conn):
        gone = [
            r["id"]
            for r in conn.execute(
                "SELECT id, claimed_by, claimed_at FROM hl7_outbox WHERE state = 'sending'"
            )
            if claimant_is_gone(r["claimed_by"], r["claimed_at"])
        ]
        for row_id in gone:
            conn.execute(
                "UPDATE hl7_outbox SET state = 'queued', claimed_by = '' WHERE id = ?", (row_id,)
            )
        return len(gone)


def hl7_claim(conn: sqlite3.Connection, row_id: int) -> bool:
    """Claim a queued message for this process; False when another one has it (or it is done)."""
    now = now_iso()
    with transaction(conn):
        cur = conn.execute(
            "UPDATE hl7_outbox SET state = 'sending', claimed_by = ?, claimed_at = ?,"
            " attempts = attempts + 1, updated_at = ? WHERE id = ? AND state = 'queued'",
            (worker_id(), now, now, row_id),
        )
        return cur.rowcount == 1


def hl7_finish(
    conn: sqlite3.Connection,
    row_id: int,
    *,
    state: str,
    ack_code: str = "",
    error: str = "",
    next_attempt_at: str = "",
) -> None:
    """Record how a send ended: ``acked``, ``failed`` (AE) or back to ``queued``."""
    with transaction(conn):
        conn.execute(
            "UPDATE hl7_outbox SET state = ?, ack_code = ?, last_error = ?, claimed_by = '',"
            " next_attempt_at = ?, updated_at = ? WHERE id = ?",
            (state, ack_code, error, next_attempt_at, now_iso(), row_id),
        )


def hl7_postpone(conn: sqlite3.Connection, row_id: int, next_attempt_at: str) -> None:
    """Let a queued message wait until ``next_attempt_at`` (its receiver is down)."""
    with transaction(conn):
        conn.execute(
            "UPDATE hl7_outbox SET next_attempt_at = ?, updated_at = ? WHERE id = ?"
            " AND state = 'queued'",
            (next_attempt_at, now_iso(), row_id),
        )


def hl7_requeue_failed(conn: sqlite3.Connection) -> int:
    """Give messages the receiver refused (AE) another try; return how many."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE hl7_outbox SET state = 'queued', next_attempt_at = '', updated_at = ?"
            " WHERE state = 'failed'",
            (now_iso(),),
        )
        return cur.rowcount


def hl7_cancel_unsent(conn: sqlite3.Connection, read_id: int) -> int:
    """Withdraw a cancelled read's messages that were not sent yet; return how many."""
    with transaction(conn):
        cur = conn.execute(
            "UPDATE hl7_outbox SET state = 'cancelled', updated_at = ?"
            " WHERE second_read_id = ? AND state IN ('queued', 'failed')",
            (now_iso(), read_id),
        )
        return cur.rowcount


def hl7_of_read(conn: sqlite3.Connection, read_id: int) -> list[Hl7Row]:
    """One read's messages in the HL7 outbox, in order."""
    rows = conn.execute("SELECT * FROM hl7_outbox WHERE second_read_id = ? ORDER BY id", (read_id,))
    return [_hl7(r) for r in rows]


def tried(row: Hl7Row) -> bool:
    """Whether a message was ever tried (billing may have it), whatever came of it."""
    return row.attempts > 0 or row.state in ("sending", "acked", "failed")


def hl7_drop_untried(conn: sqlite3.Connection, read_id: int) -> int:
    """Remove a read's queued messages never tried (built again with what it is now)."""
    with transaction(conn):
        cur = conn.execute(
            "DELETE FROM hl7_outbox WHERE second_read_id = ? AND state = 'queued' AND attempts = 0",
            (read_id,),
        )
        return cur.rowcount
