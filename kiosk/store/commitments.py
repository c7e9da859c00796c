"""Storage commitment requests and their answers (the ``commitments`` table).

A request is ``requested`` until its N-EVENT-REPORT comes (then
``committed`` or ``failed``), it could not be sent (``not requested``), or a
newer request for the same study replaces it (``superseded``: its report, if
it still comes, is applied all the same).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.store.db import now_iso

REQUESTED = "requested"
COMMITTED = "committed"
FAILED = "failed"
NOT_REQUESTED = "not requested"
SUPERSEDED = "superseded"


@dataclass(frozen=True)
class Request:
    """One storage commitment request as recorded."""

    transaction_uid: str
    study_id: int
    destination: str
    state: str
    instances: int


def due_study_ids(
    conn: sqlite3.Connection, destinations: Sequence[str], asked_before: str
) -> list[int]:
    """Sent studies to these destinations with no request still open since ``asked_before``.

    A request counts as open while it is ``requested`` and was made at or
    after ``asked_before`` (an ISO time); older ones are asked again.
    """
    if not destinations:
        return []
    marks = ",".join("?" for _ in destinations)
    rows = conn.execute(
        f"SELECT s.id FROM studies s WHERE s.state = 'sent' AND s.destination IN ({marks})"
        " AND NOT EXISTS (SELECT 1 FROM commitments c WHERE c.study_id = s.id"
        " AND c.destination = s.destination AND c.state = ? AND c.requested_at >= ?)"
        " ORDER BY s.id",
        (*destinations, REQUESTED, asked_before),
    )
    return [int(r[0]) for r in rows]


def sent_references(
    conn: sqlite3.Connection, study_id: int, destination: str
) -> list[tuple[str, str]]:
    """(SOP Class UID, SOP Instance UID) of the study's instances sent to ``destination``."""
    return [
        (str(r[0]), str(r[1]))
        for r in conn.execute(
            "SELECT i.sop_class_uid, i.sop_instance_uid FROM outbox o"
            " JOIN instances i ON i.id = o.instance_id"
            " WHERE i.study_id = ? AND o.destination = ? AND o.state = 'sent' ORDER BY i.id",
            (study_id, destination),
        )
    ]


def add_request(
    conn: sqlite3.Connection, transaction_uid: str, study_id: int, destination: str, instances: int
) -> None:
    """Record a new request; earlier open ones for the study are ``superseded``."""
    conn.execute(
        "UPDATE commitments SET state = ? WHERE study_id = ? AND destination = ? AND state = ?",
        (SUPERSEDED, study_id, destination, REQUESTED),
    )
    conn.execute(
        "INSERT INTO commitments (transaction_uid, study_id, destination, state,"
        " instances, requested_at) VALUES (?,?,?,?,?,?)",
        (transaction_uid, study_id, destination, REQUESTED, instances, now_iso()),
    )


def get_request(conn: sqlite3.Connection, transaction_uid: str) -> Request | None:
    """The request with this Transaction UID, or ``None`` if we never asked it."""
    row = conn.execute(
        "SELECT transaction_uid, study_id, destination, state, instances FROM commitments"
        " WHERE transaction_uid = ?",
        (transaction_uid,),
    ).fetchone()
    if row is None:
        return None
    return Request(str(row[0]), int(row[1]), str(row[2]), str(row[3]), int(row[4]))


def answer(
    conn: sqlite3.Connection, transaction_uid: str, state: str, failed: int, detail: str
) -> None:
    """Record the answer to a request (or why it was not sent)."""
    conn.execute(
        "UPDATE commitments SET state = ?, failed = ?, detail = ?, answered_at = ?"
        " WHERE transaction_uid = ?",
        (state, failed, detail, now_iso(), transaction_uid),
    )


def open_requests(conn: sqlite3.Connection, transaction_uids: Sequence[str]) -> set[str]:
    """Those of ``transaction_uids`` still waiting for their answer."""
    if not transaction_uids:
        return set()
    marks = ",".join("?" for _ in transaction_uids)
    rows = conn.execute(
        f"SELECT transaction_uid FROM commitments WHERE transaction_uid IN ({marks})"
        " AND state IN (?, ?)",
        (*transaction_uids, REQUESTED, SUPERSEDED),
    )
    return {str(r[0]) for r in rows}


def committed_at(conn: sqlite3.Connection, study_id: int) -> str:
    """When the destination last confirmed a study by storage commitment ('' if never)."""
    row = conn.execute(
        "SELECT max(answered_at) FROM commitments WHERE study_id = ? AND state = ?",
        (study_id, COMMITTED),
    ).fetchone()
    return str(row[0] or "")
