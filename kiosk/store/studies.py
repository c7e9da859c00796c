"""Studies and their instances in the local store, with the study state machine.

``found → copied → matched | unscheduled → coerced → queued → sent →
committed``, plus ``failed``, ``quarantined`` and ``discarded``. Every
transition is checked here, so no caller can skip a step by accident.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from kiosk.errors import StoreError
from kiosk.media.names import shown
from kiosk.store.db import now_iso, transaction


class StudyState(StrEnum):
    """Where a study is in its journey from the disc to the PACS."""

    FOUND = "found"
    COPIED = "copied"
    MATCHED = "matched"
    UNSCHEDULED = "unscheduled"
    COERCED = "coerced"
    QUEUED = "queued"
    SENT = "sent"
    COMMITTED = "committed"
    FAILED = "failed"
    QUARANTINED = "quarantined"
    DISCARDED = "discarded"


_S = StudyState
_LIVE = frozenset(set(StudyState) - {StudyState.DISCARDED})
#: Which state may follow which. Only :mod:`kiosk.lifecycle` moves studies.
ALLOWED: dict[StudyState, frozenset[StudyState]] = {
    _S.FOUND: frozenset({_S.COPIED, _S.FAILED, _S.DISCARDED}),
    _S.COPIED: frozenset({_S.MATCHED, _S.UNSCHEDULED, _S.FAILED, _S.DISCARDED}),
    _S.MATCHED: frozenset({_S.COERCED, _S.FAILED, _S.DISCARDED}),
    _S.UNSCHEDULED: frozenset({_S.COERCED, _S.MATCHED, _S.DISCARDED}),
    _S.COERCED: frozenset({_S.QUEUED, _S.UNSCHEDULED, _S.MATCHED, _S.FAILED, _S.DISCARDED}),
    _S.QUEUED: frozenset({_S.SENT, _S.FAILED, _S.QUARANTINED, _S.MATCHED, _S.DISCARDED}),
    _S.SENT: frozenset({_S.COMMITTED, _S.QUEUED, _S.FAILED, _S.MATCHED, _S.DISCARDED}),
    _S.COMMITTED: frozenset({_S.QUEUED, _S.MATCHED, _S.DISCARDED}),
    _S.FAILED: frozenset({_S.QUEUED, _S.SENT, _S.QUARANTINED, _S.MATCHED, _S.DISCARDED}),
    _S.QUARANTINED: frozenset({_S.QUEUED, _S.SENT, _S.FAILED, _S.MATCHED, _S.DISCARDED}),
    _S.DISCARDED: frozenset(),
}
assert set(ALLOWED) == set(StudyState) and all(_S.DISCARDED in ALLOWED[s] for s in _LIVE)


@dataclass(frozen=True)
class StudyRecord:
    """A study row of the store."""

    id: int
    study_instance_uid: str
    new_study_instance_uid: str
    original_patient_id: str
    original_issuer: str
    mrn: str
    accession_number: str
    destination: str
    tag: str
    state: StudyState
    source: str
    spool_dir: str
    station: str
    user: str
    created_at: str
    updated_at: str
    study_date: str = ""
    study_description: str = ""
    modalities: str = ""
    target: str = ""  # the confirmed identity (JSON), see kiosk.lifecycle
    expected_instances: int = 0
    original_birth_date: str = ""
    original_sex: str = ""
    hold_reason: str = ""
    worker: str = ""  # the live process that is importing it (see kiosk.recovery)
    unread_on_medium: int = 0  # files of its disc that could not be read (migration 0013)
    clashing_on_medium: int = 0  # its images on the disc left out for a shared SOP UID

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StudyRecord:
        """Build from a ``studies`` row."""
        return cls(
            id=row["id"],
            study_instance_uid=row["study_instance_uid"],
            new_study_instance_uid=row["new_study_instance_uid"],
            original_patient_id=row["original_patient_id"],
            original_issuer=row["original_issuer"],
            mrn=row["mrn"],
            accession_number=row["accession_number"],
            destination=row["destination"],
            tag=row["tag"],
            state=StudyState(row["state"]),
            source=row["source"],
            spool_dir=row["spool_dir"],
            station=row["station"],
            user=row["user"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            study_date=row["study_date"],
            study_description=row["study_description"],
            modalities=row["modalities"],
            target=row["target"],
            expected_instances=row["expected_instances"],
            original_birth_date=row["original_birth_date"],
            original_sex=row["original_sex"],
            hold_reason=row["hold_reason"],
            worker=row["worker"],
            unread_on_medium=row["unread_on_medium"],
            clashing_on_medium=row["clashing_on_medium"],
        )


def add_study(
    conn: sqlite3.Connection,
    *,
    study_instance_uid: str,
    original_patient_id: str,
    original_issuer: str,
    source: str,
    station: str,
    user: str,
    destination: str,
    tag: str = "",
    reason: str = "",
    study_date: str = "",
    study_description: str = "",
    modalities: str = "",
    mrn: str = "",
    accession_number: str = "",
    target: str = "",
    expected_instances: int = 0,
    original_birth_date: str = "",
    original_sex: str = "",
) -> int:
    """Insert a study in state ``found`` and return its internal id."""
    now = now_iso()
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO studies (study_instance_uid, new_study_instance_uid, original_patient_id,"
            " original_issuer, destination, tag, state, source, station, user, reason,"
            " created_at, updated_at, study_date, study_description, modalities, mrn,"
            " accession_number, target, expected_instances, original_birth_date, original_sex)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                study_instance_uid,
                study_instance_uid,
                original_patient_id,
                original_issuer,
                destination,
                tag,
                StudyState.FOUND.value,
                shown(source),
                station,
                user,
                reason,
                now,
                now,
                study_date,
                study_description,
                modalities,
                mrn,
                accession_number,
                target,
                expected_instances,
                original_birth_date,
                original_sex,
            ),
        )
    assert cur.lastrowid is not None
    return cur.lastrowid


def get_study(conn: sqlite3.Connection, study_id: int) -> StudyRecord:
    """Return the study with that internal id."""
    row = conn.execute("SELECT * FROM studies WHERE id = ?", (study_id,)).fetchone()
    if row is None:
        raise StoreError(f"no study with internal id {study_id} in the store")
    return StudyRecord.from_row(row)


def find_studies(
    conn: sqlite3.Connection,
    *,
    study_instance_uid: str | None = None,
    state: str | None = None,
    destination: str | None = None,
    accession_number: str | None = None,
) -> list[StudyRecord]:
    """Return studies filtered by original or new UID, state, destination and accession."""
    sql = "SELECT * FROM studies WHERE 1=1"
    args: list[str] = []
    if study_instance_uid:
        sql += " AND (study_instance_uid = ? OR new_study_instance_uid = ?)"
        args += [study_instance_uid, study_instance_uid]
    if state:
        sql += " AND state = ?"
        args.append(state)
    if destination:
        sql += " AND destination = ?"
        args.append(destination)
    if accession_number:
        sql += " AND accession_number = ?"
        args.append(accession_number)
    return [StudyRecord.from_row(r) for r in conn.execute(sql + " ORDER BY id", args)]


def set_state(
    conn: sqlite3.Connection, study_id: int, new: StudyState, **fields: str | int
) -> None:
    """Move a study to ``new``, checking the transition, and update other columns.

    Called by :mod:`kiosk.lifecycle` only, inside the transaction of the transition.

    Raises
    ------
    StoreError
        If the state machine does not allow the transition.
    """
    current = get_study(conn, study_id).state
    if new != current and new not in ALLOWED[current]:
        raise StoreError(
            f"study {study_id} cannot go from {current} to {new}; this is a bug, please report it"
        )
    allowed_cols = {
        "mrn",
        "accession_number",
        "destination",
        "spool_dir",
        "new_study_instance_uid",
        "tag",
        "target",
        "hold_reason",
        "expected_instances",
        "worker",
        "unread_on_medium",
        "clashing_on_medium",
        "gaps_told",
    }
    bad = set(fields) - allowed_cols
    if bad:
        raise ValueError(f"cannot set columns {sorted(bad)}")
    cols = ", ".join(f"{k} = ?" for k in fields)
    sql = "UPDATE studies SET state = ?, updated_at = ?" + (f", {cols}" if cols else "")
    with transaction(conn):
        conn.execute(sql + " WHERE id = ?", (new.value, now_iso(), *fields.values(), study_id))


def add_instance(
    conn: sqlite3.Connection,
    study_id: int,
    *,
    sop_instance_uid: str,
    sop_class_uid: str,
    transfer_syntax_uid: str,
    source_relpath: str,
) -> int:
    """Insert one instance of a study and return its id.

    ``source_relpath`` is kept exactly (see :func:`source_relpath`), so that an
    import that resumes finds the same file on the disc again.
    """
    with transaction(conn):
        cur = conn.execute(
            "INSERT INTO instances (study_id, sop_instance_uid, sop_class_uid, transfer_syntax_uid,"
            " source_relpath) VALUES (?,?,?,?,?)",
            (
                study_id,
                sop_instance_uid,
                sop_class_uid,
                transfer_syntax_uid,
                _stored(source_relpath),
            ),
        )
    assert cur.lastrowid is not None
    return cur.lastrowid


def update_instance(
    conn: sqlite3.Connection, instance_id: int, **fields: str | int | bytes
) -> None:
    """Set an instance's spool paths, hash and size, and the SOP Instance UID it is sent with."""
    allowed_cols = {
        "original_path",
        "original_digest",
        "coerced_path",
        "size",
        "sop_instance_uid",
        "coerced_digest",
        "coerced_header",
        "tail_at",
    }
    bad = set(fields) - allowed_cols
    if bad:
        raise ValueError(f"cannot set columns {sorted(bad)}")
    cols = ", ".join(f"{k} = ?" for k in fields)
    with transaction(conn):
        conn.execute(f"UPDATE instances SET {cols} WHERE id = ?", (*fields.values(), instance_id))


def record_copies(conn: sqlite3.Connection, copies: Sequence[tuple[int, str, str, int]]) -> None:
    """Record copied originals ``(instance id, spool path, digest, size)``, in one statement."""
    conn.executemany(
        "UPDATE instances SET original_path = ?, original_digest = ?, size = ? WHERE id = ?",
        [(path, checksum, size, iid) for iid, path, checksum, size in copies],
    )


def record_coerced(
    conn: sqlite3.Connection, coerced: Sequence[tuple[int, str, str, str, bytes, int]]
) -> None:
    """Record coerced instances ``(id, path, digest, SOP Instance UID, header, tail_at)``.

    One statement for all (the caller's transaction); see :mod:`kiosk.coercion`.
    """
    conn.executemany(
        "UPDATE instances SET coerced_path = ?, coerced_digest = ?, sop_instance_uid = ?,"
        " coerced_header = ?, tail_at = ? WHERE id = ?",
        [(path, sha, uid, header, tail, iid) for iid, path, sha, uid, header, tail in coerced],
    )


def _stored(relpath: str) -> str | bytes:
    """A disc path as the store keeps it: its name's bytes, as TEXT if they are UTF-8, else a BLOB.

    A name on a disc is bytes; Python gives it as ``str`` decoded with the file
    system's encoding and surrogate escapes for what does not decode (PEP 383),
    which SQLite cannot take as text. The bytes are what the file really is
    called, whatever the locale of the process that reads them back.
    """
    raw = os.fsencode(relpath)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def source_relpath(row: sqlite3.Row) -> str:
    """An instance row's disc path, as :func:`os.scandir` names that file in this process.

    The inverse of how :func:`add_instance` stores it: the same ``str`` the
    scan of the disc produced (``MediaInstance.relpath``), also when the name
    is not UTF-8 or the locale differs from the one it was stored under.
    Show it with :func:`kiosk.media.names.shown`.
    """
    value = row["source_relpath"]
    return os.fsdecode(value if isinstance(value, bytes) else str(value).encode("utf-8"))


def instances_of(conn: sqlite3.Connection, study_id: int) -> list[sqlite3.Row]:
    """Return the instance rows of a study (their disc path: :func:`source_relpath`)."""
    return list(conn.execute("SELECT * FROM instances WHERE study_id = ? ORDER BY id", (study_id,)))


def take_worker(conn: sqlite3.Connection, study_id: int, was: str, worker: str) -> bool:
    """Make ``worker`` the study's worker if it still is ``was``; True when it did."""
    with transaction(conn):
        changed = conn.execute(
            "UPDATE studies SET worker = ? WHERE id = ? AND worker = ?", (worker, study_id, was)
        ).rowcount
    return bool(changed == 1)


def release_worker(conn: sqlite3.Connection, study_id: int, worker: str) -> None:
    """``worker`` no longer works on the study (if it did)."""
    with transaction(conn):
        conn.execute(
            "UPDATE studies SET worker = '' WHERE id = ? AND worker = ?", (study_id, worker)
        )


def untold_gaps(conn: sqlite3.Connection) -> list[StudyRecord]:
    """Studies whose medium lacked something the user was not told of yet (migration 0013)."""
    rows = conn.execute("SELECT * FROM studies WHERE gaps_told = 0 ORDER BY id").fetchall()
    return [StudyRecord.from_row(r) for r in rows]


def mark_gaps_told(conn: sqlite3.Connection, study_ids: Iterable[int]) -> None:
    """Record that the user was told what the media of ``study_ids`` lacked."""
    with transaction(conn):
        conn.executemany(
            "UPDATE studies SET gaps_told = 1 WHERE id = ?", [(int(i),) for i in study_ids]
        )
