"""The ``corrections`` table: old copies of studies corrected after sending (see
:mod:`kiosk.corrections`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence

from kiosk.store.db import now_iso, transaction

#: What became of the old copy of a corrected study at its PACS (``rejection_note``).
PENDING = "pending"  # an IOCM rejection note waits to be accepted
SENT = "sent"
FLAGGED = "flagged"  # no note for this PACS: its administrator removes the old copy
NONE = "none"  # same patient, same UIDs: the corrected copy replaces the old one


def add(
    conn: sqlite3.Connection,
    study_id: int,
    *,
    destination: str,
    old_study_instance_uid: str,
    old_mrn: str,
    old_accession: str,
    new_mrn: str,
    new_accession: str,
    instances: Sequence[Sequence[str]],
    old_identity: Mapping[str, str],
    rejection_note: str,
) -> None:
    """Record that ``study_id`` was sent as ``old_*`` and is now ``new_*``."""
    now = now_iso()
    with transaction(conn):
        conn.execute(
            "INSERT INTO corrections (study_id, destination, old_study_instance_uid, old_mrn,"
            " old_accession, new_mrn, new_accession, instances, old_identity, rejection_note,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                study_id,
                destination,
                old_study_instance_uid,
                old_mrn,
                old_accession,
                new_mrn,
                new_accession,
                json.dumps([list(i) for i in instances]),
                json.dumps(dict(old_identity), sort_keys=True),
                rejection_note,
                now,
                now,
            ),
        )


def every(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every correction with its study's Study Instance UID, newest first."""
    return conn.execute(
        "SELECT c.*, s.study_instance_uid FROM corrections c JOIN studies s ON s.id = c.study_id"
        " ORDER BY c.id DESC"
    ).fetchall()


def of_study(conn: sqlite3.Connection, study_id: int) -> list[sqlite3.Row]:
    """The corrections of one study, oldest first."""
    return conn.execute(
        "SELECT * FROM corrections WHERE study_id = ? ORDER BY id", (study_id,)
    ).fetchall()


def with_note(conn: sqlite3.Connection, destination: str, note: str) -> list[sqlite3.Row]:
    """The corrections for ``destination`` whose rejection note is in state ``note``."""
    return conn.execute(
        "SELECT * FROM corrections WHERE destination = ? AND rejection_note = ? ORDER BY id",
        (destination, note),
    ).fetchall()


def set_note(conn: sqlite3.Connection, correction_id: int, note: str, detail: str) -> None:
    """Record what became of a correction's rejection note."""
    with transaction(conn):
        conn.execute(
            "UPDATE corrections SET rejection_note = ?, detail = ?, updated_at = ? WHERE id = ?",
            (note, detail, now_iso(), correction_id),
        )


def retarget_latest(
    conn: sqlite3.Connection, study_id: int, new_mrn: str, new_accession: str
) -> bool:
    """Give the study's newest correction a new ``new_*`` identity; False when it has none.

    For a study reconciled again before its corrected copy reached the PACS:
    the old copy there is still the one that correction names (its identity, its
    rejection note), and it is now corrected to this identity.
    """
    with transaction(conn):
        found = conn.execute(
            "SELECT id FROM corrections WHERE study_id = ? ORDER BY id DESC LIMIT 1", (study_id,)
        ).fetchone()
        if found is None:
            return False
        conn.execute(
            "UPDATE corrections SET new_mrn = ?, new_accession = ?, updated_at = ? WHERE id = ?",
            (new_mrn, new_accession, now_iso(), int(found[0])),
        )
    return True
