"""The audit trail: every state change and every action, with who, where and outcome.

Entries name studies by UID and internal id, never by patient name (PHI).
A value that may come from a disc (a path, a UID, an error quoting a file
name) is stored in its escaped form (:func:`kiosk.media.names.shown`): a name
that is not UTF-8 or holds control characters is kept readable and safe.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from kiosk.media.names import shown
from kiosk.store import audit_trail


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit trail."""

    time: str
    user: str
    station: str
    action: str
    study_instance_uid: str
    outcome: str
    detail: str = ""
    id: int = 0
    hash: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "time": self.time,
            "user": self.user,
            "station": self.station,
            "action": self.action,
            "study_instance_uid": self.study_instance_uid,
            "outcome": self.outcome,
            "detail": self.detail,
            "id": self.id,
            "hash": self.hash,
        }


def record(
    conn: sqlite3.Connection,
    *,
    user: str,
    station: str,
    action: str,
    study_instance_uid: str = "",
    outcome: str = "ok",
    detail: str = "",
) -> None:
    """Append one event to the audit trail (every text escaped, see the module's docstring)."""
    audit_trail.append(
        conn,
        user=shown(user),
        station=shown(station),
        action=shown(action),
        study_instance_uid=shown(study_instance_uid),
        outcome=shown(outcome),
        detail=shown(detail),
    )


def events(conn: sqlite3.Connection, since: str | None = None) -> list[AuditEvent]:
    """Return the audit events, oldest first, optionally from a date (``YYYY-MM-DD``) on."""
    return [
        AuditEvent(
            r["time"],
            r["user"],
            r["station"],
            r["action"],
            r["study_instance_uid"],
            r["outcome"],
            r["detail"],
            r["id"],
            r["hash"],
        )
        for r in audit_trail.rows(conn, since)
    ]


@dataclass(frozen=True)
class Verification:
    """What ``kiosk audit --verify`` found: the records checked and the first break, if any."""

    records: int
    broken_at: int | None = None
    kind: str = ""  # "changed" or "removed"
    message: str = ""

    @property
    def whole(self) -> bool:
        """Whether every record is as written and none is missing."""
        return self.broken_at is None

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "whole": self.whole,
            "records": self.records,
            "broken_at": self.broken_at,
            "kind": self.kind,
            "message": self.message,
        }


def verify(conn: sqlite3.Connection) -> Verification:
    """Check the hash chain of the whole trail (:mod:`kiosk.store.audit_chain`)."""
    count, found = audit_trail.verify(conn)
    if found is None:
        return Verification(count)
    return Verification(count, found.record_id, found.kind, found.message)
