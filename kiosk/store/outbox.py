"""The durable outbox: one row per instance and destination.

Rows are claimed inside an immediate transaction, so several ``kiosk send``
processes on one database never send the same row at once. A claim names its
process (host, pid and the process's start time): a claim left by a process of
this host that is gone is taken over at once; a claim from another host is
taken over after a lease time. Delivery is at least once.

A row that must be retried carries ``next_attempt_at`` (backoff with jitter,
see :mod:`kiosk.send.policy`); claims skip rows that are not due unless asked
to send everything now.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import psutil

from kiosk.errors import LocalError
from kiosk.store.db import now_iso, transaction

CLAIM_LEASE = timedelta(minutes=10)


class OutboxState(StrEnum):
    """Where one instance stands for one destination."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    QUARANTINED = "quarantined"
    HELD = "held"
    DISCARDED = "discarded"  # the back office discarded the study: never sent


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
    size: int = 0
    digest: str = ""  # of the file at ``path`` (the original, when ``header`` is given)
    #: The coerced header sent in front of ``path``'s bytes from ``tail_at`` on (empty:
    #: ``path`` is sent whole), and its checksum as recorded when the study was queued.
    header: bytes = b""
    header_digest: str = ""
    tail_at: int = 0


@dataclass(frozen=True)
class Outcome:
    """The recorded result of one attempt, for :func:`finish_many`."""

    item_id: int
    state: OutboxState
    status: str = ""
    error: str = ""
    next_attempt_at: str = ""


_HOST = socket.gethostname()


def _start_time(pid: int) -> int | None:
    try:
        return int(psutil.Process(pid).create_time())
    except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
        return None


_worker: tuple[int, str] | None = None


def worker_id() -> str:
    """Return an id for this process, used to claim rows: ``host:pid:start``.

    Computed once per process (a forked child computes its own).
    """
    global _worker
    pid = os.getpid()
    if _worker is None or _worker[0] != pid:
        _worker = (pid, f"{_HOST}:{pid}:{_start_time(pid) or 0}")
    return _worker[1]


def claimant_is_gone(claimed_by: str, claimed_at: str, now: datetime | None = None) -> bool:
    """Return whether a claim's process is gone, so that its rows may be taken over.

    A claim of this host is gone when its pid no longer runs or runs a newer
    process (pid reuse); a claim of another host is gone when its lease ran out.
    """
    now = now or datetime.now(UTC)
    host, _, rest = claimed_by.partition(":")
    pid_text, _, start_text = rest.partition(":")
    if host == _HOST and pid_text.isdigit():
        started = _start_time(int(pid_text))
        if started is None:
            return True
        return start_text.isdigit() and int(start_text) not in (0, started)
    return claimed_at < (now - CLAIM_LEASE).isoformat(timespec="seconds")


def enqueue(conn: sqlite3.Connection, instance_id: int, destination: str, held: bool) -> None:
    """Queue (or hold, for unscheduled studies kept back) one instance for a destination."""
    enqueue_many(conn, [instance_id], destination, held)


def enqueue_many(
    conn: sqlite3.Connection, instance_ids: Sequence[int], destination: str, held: bool
) -> None:
    """Queue (or hold) instances for a destination, in one statement (the caller's transaction)."""
    state = OutboxState.HELD if held else OutboxState.QUEUED
    now = now_iso()
    with transaction(conn):
        conn.executemany(
            "INSERT INTO outbox (instance_id, destination, state, updated_at, queued_at)"
            " VALUES (?,?,?,?,?)"
            " ON CONFLICT (instance_id, destination) DO UPDATE SET state = excluded.state,"
            " claimed_by = '', next_attempt_at = '', updated_at = excluded.updated_at,"
            " queued_at = excluded.queued_at",
            [(i, destination, state.value, now, now) for i in instance_ids],
        )


def expire(conn: sqlite3.Connection, max_age: timedelta, destination: str | None = None) -> int:
    """Move instances queued for longer than ``max_age`` to ``failed``; return how many.

    The back office then sees them (``kiosk queue``) and can resend them
    (``kiosk send --retry``), instead of an outbox that quietly waits for ever.
    """
    cutoff = (datetime.now(UTC) - max_age).isoformat(timespec="seconds")
    hours = int(max_age.total_seconds() // 3600)
    sql = (
        "UPDATE outbox SET state = 'failed', last_error = ?, updated_at = ?"
        " WHERE state = 'queued' AND queued_at != '' AND queued_at < ?"
    )
    args: list[str] = [
        f"not delivered within {hours} hours; check the destination, then resend",
        now_iso(),
        cutoff,
    ]
    if destination:
        sql += " AND destination = ?"
        args.append(destination)
    with transaction(conn):
        changed = conn.execute(sql, args).rowcount
    return changed


def requeue_failed(conn: sqlite3.Connection, destination: str | None = None) -> None:
    """Give failed instances a fresh start (a person asked to resend them)."""
    sql = "UPDATE outbox SET queued_at = ?, attempts = 0 WHERE state = 'failed'"
    args = [now_iso()]
    if destination:
        sql += " AND destination = ?"
        args.append(destination)
    with transaction(conn):
        conn.execute(sql, args)


def _filters(
    destination: str | None, study_id: int | None, sop_classes: Sequence[str] | None
) -> tuple[str, list[object]]:
    sql = ""
    args: list[object] = []
    if destination:
        sql += " AND o.destination = ?"
        args.append(destination)
    if study_id is not None:
        sql += " AND i.study_id = ?"
        args.append(study_id)
    if sop_classes is not None:
        sql += f" AND i.sop_class_uid IN ({','.join('?' for _ in sop_classes) or 'NULL'})"
        args.extend(sop_classes)
    return sql, args


#: Row ids per ``IN (...)``: well under SQLite's limit on bound parameters.
_IDS_PER_STATEMENT = 500


def _id_chunks(ids: Sequence[int]) -> Iterator[tuple[Sequence[int], str]]:
    """``ids`` in chunks for ``WHERE id IN (...)``: each chunk with its ``?`` marks."""
    for start in range(0, len(ids), _IDS_PER_STATEMENT):
        chunk = ids[start : start + _IDS_PER_STATEMENT]
        yield chunk, ",".join("?" for _ in chunk)


def claim(
    conn: sqlite3.Connection,
    *,
    destination: str | None,
    limit: int,
    retry_failed: bool = False,
    study_id: int | None = None,
    due_only: bool = False,
    sop_classes: Sequence[str] | None = None,
) -> list[OutboxItem]:
    """Claim up to ``limit`` deliverable rows for this process.

    Parameters
    ----------
    retry_failed
        Also claim rows that failed for good.
    due_only
        Skip rows whose retry time (backoff) has not come yet.
    sop_classes
        Only rows of these SOP classes (those an association can carry).
    """
    me = worker_id()
    now = now_iso()
    states = [OutboxState.QUEUED.value] + ([OutboxState.FAILED.value] if retry_failed else [])
    where, fargs = _filters(destination, study_id, sop_classes)
    with transaction(conn):
        gone = [
            r[0]
            for r in conn.execute(
                "SELECT claimed_by, max(claimed_at) FROM outbox WHERE state = 'sending'"
                " GROUP BY claimed_by"
            )
            if r[0] != me and claimant_is_gone(r[0], r[1])
        ]
        # One state and no dead claimant (the usual case) lets SQLite walk the
        # (destination, state) index in id order instead of sorting every row.
        marks = ",".join("?" for _ in states)
        wanted = "o.state = ?" if len(states) == 1 else f"o.state IN ({marks})"
        if gone:
            wanted = (
                f"({wanted} OR (o.state = 'sending'"
                f" AND o.claimed_by IN ({','.join('?' for _ in gone)})))"
            )
        sql = (
            "SELECT o.id, o.instance_id, o.destination, o.attempts, i.study_id, i.coerced_path,"
            " i.sop_instance_uid, i.sop_class_uid, i.transfer_syntax_uid, i.size,"
            " i.coerced_digest, i.original_digest, i.coerced_header, i.tail_at"
            f" FROM outbox o JOIN instances i ON i.id = o.instance_id WHERE {wanted}"
        )
        args: list[object] = [*states, *gone]
        if due_only:
            sql += " AND (o.next_attempt_at = '' OR o.next_attempt_at <= ?)"
            args.append(now)
        sql += where + " ORDER BY o.id LIMIT ?"
        args += [*fargs, limit]
        cursor = conn.cursor()
        cursor.row_factory = None  # plain tuples: this runs for every instance sent
        rows = cursor.execute(sql, args).fetchall()
        for chunk, marks in _id_chunks([r[0] for r in rows]):
            conn.execute(
                "UPDATE outbox SET state = 'sending', claimed_by = ?, claimed_at = ?,"
                f" attempts = attempts + 1, updated_at = ? WHERE id IN ({marks})",
                [me, now, now, *chunk],
            )
    return [
        OutboxItem(
            id=r[0],
            instance_id=r[1],
            study_id=r[4],
            destination=r[2],
            path=r[5],
            sop_instance_uid=r[6],
            sop_class_uid=r[7],
            transfer_syntax_uid=r[8],
            attempts=r[3] + 1,  # as the claim counted it
            size=r[9],
            digest=r[11] if r[12] else r[10],
            header=bytes(r[12]),
            header_digest=r[10] if r[12] else "",
            tail_at=r[13],
        )
        for r in rows
    ]


def pending_syntaxes(
    conn: sqlite3.Connection,
    *,
    destination: str,
    retry_failed: bool = False,
    study_id: int | None = None,
) -> dict[str, set[str]]:
    """Return SOP class → transfer syntaxes of the rows waiting for a destination."""
    states = ["queued", "sending"] + (["failed"] if retry_failed else [])
    where, args = _filters(destination, study_id, None)
    rows = conn.execute(
        "SELECT DISTINCT i.sop_class_uid, i.transfer_syntax_uid FROM outbox o"
        " JOIN instances i ON i.id = o.instance_id"
        f" WHERE o.state IN ({','.join('?' for _ in states)})" + where,
        [*states, *args],
    )
    found: dict[str, set[str]] = {}
    for r in rows:
        found.setdefault(r[0], set()).add(r[1])
    return found


def finish(
    conn: sqlite3.Connection,
    item_id: int,
    state: OutboxState,
    status: str = "",
    error: str = "",
    next_attempt_at: str = "",
) -> None:
    """Record the outcome of one delivery attempt."""
    finish_many(conn, [Outcome(item_id, state, status, error, next_attempt_at)])


def finish_many(conn: sqlite3.Connection, outcomes: Iterable[Outcome]) -> int:
    """Record the outcomes of this process's claimed rows in one transaction.

    Only rows this process still holds are changed: a row that was queued
    again meanwhile (a reconciliation, a person's resend) keeps its new state
    instead of being overwritten as sent. Returns how many rows were changed.
    """
    now = now_iso()
    me = worker_id()
    alike: dict[tuple[str, str, str, str], list[int]] = {}
    for o in outcomes:  # most are "sent" with no status nor error: one statement for them
        alike.setdefault((o.state.value, o.status, o.error, o.next_attempt_at), []).append(
            o.item_id
        )
    if not alike:
        return 0
    with transaction(conn):
        before = conn.total_changes
        for (state, status, error, next_attempt_at), ids in alike.items():
            for chunk, marks in _id_chunks(ids):
                conn.execute(
                    "UPDATE outbox SET state = ?, last_status = ?, last_error = ?,"
                    " claimed_by = '', next_attempt_at = ?, updated_at = ?"
                    f" WHERE id IN ({marks}) AND state = 'sending' AND claimed_by = ?",
                    [state, status, error, next_attempt_at, now, *chunk, me],
                )
        changed = conn.total_changes - before
        sent = [i for key, ids in alike.items() if key[0] == OutboxState.SENT for i in ids]
        for chunk, marks in _id_chunks(sent):  # in the PACS, whoever holds the row now
            conn.execute(f"UPDATE outbox SET delivered = 1 WHERE id IN ({marks})", chunk)
        return changed


def mark(conn: sqlite3.Connection, outcomes: Iterable[Outcome]) -> int:
    """Set the state of rows nobody is sending (a check before sending, a config change).

    Rows being sent are left to their sender. Returns how many rows were changed.
    """
    now = now_iso()
    rows = [(o.state.value, o.status, o.error, now, o.item_id) for o in outcomes]
    if not rows:
        return 0
    with transaction(conn):
        before = conn.total_changes
        conn.executemany(
            "UPDATE outbox SET state = ?, last_status = ?, last_error = ?, next_attempt_at = '',"
            " updated_at = ?, delivered = max(delivered, ?) WHERE id = ? AND state != 'sending'",
            [(*r[:4], int(r[0] == OutboxState.SENT), r[4]) for r in rows],
        )
        return conn.total_changes - before


def release(conn: sqlite3.Connection, item_ids: Iterable[int]) -> None:
    """Give this process's claimed rows back untried: queued again, the attempt not counted."""
    now = now_iso()
    me = worker_id()
    rows = [(now, i, me) for i in item_ids]
    if not rows:
        return
    with transaction(conn):
        conn.executemany(
            "UPDATE outbox SET state = 'queued', claimed_by = '', attempts = max(attempts - 1, 0),"
            " updated_at = ? WHERE id = ? AND state = 'sending' AND claimed_by = ?",
            rows,
        )


def unstarted_studies(
    conn: sqlite3.Connection, destination: str, study_id: int | None = None
) -> list[tuple[int, str, str]]:
    """Studies with instances queued for a destination and none sent there yet.

    Returns (study id, Study Instance UID as sent, MRN) for each, by id.
    """
    sql = (
        "SELECT s.id, s.new_study_instance_uid, s.mrn FROM studies s WHERE EXISTS"
        " (SELECT 1 FROM outbox o JOIN instances i ON i.id = o.instance_id"
        "  WHERE i.study_id = s.id AND o.destination = ? AND o.state = 'queued')"
        " AND NOT EXISTS (SELECT 1 FROM outbox o JOIN instances i ON i.id = o.instance_id"
        "  WHERE i.study_id = s.id AND o.destination = ? AND o.state IN ('sent','sending'))"
    )
    args: list[object] = [destination, destination]
    if study_id is not None:
        sql += " AND s.id = ?"
        args.append(study_id)
    return [(r[0], r[1], r[2]) for r in conn.execute(sql + " ORDER BY s.id", args)]


def counts_for_study(conn: sqlite3.Connection, study_id: int) -> dict[str, int]:
    """Return how many instances of a study are in each outbox state."""
    rows = conn.execute(
        "SELECT o.state, count(*) FROM outbox o JOIN instances i ON i.id = o.instance_id"
        " WHERE i.study_id = ? GROUP BY o.state",
        (study_id,),
    )
    return {r[0]: r[1] for r in rows}


@dataclass(frozen=True)
class StudyTotals:
    """A study's instances and bytes for one destination (held rows left out)."""

    instances: int
    nbytes: int
    sent: int
    sent_bytes: int


def study_totals(conn: sqlite3.Connection, study_id: int, destination: str) -> StudyTotals:
    """Return how many instances (and bytes) of a study go to a destination, and how many went."""
    row = conn.execute(
        "SELECT count(*), coalesce(sum(i.size), 0), coalesce(sum(o.state = 'sent'), 0),"
        " coalesce(sum(CASE WHEN o.state = 'sent' THEN i.size ELSE 0 END), 0)"
        " FROM outbox o JOIN instances i ON i.id = o.instance_id"
        " WHERE i.study_id = ? AND o.destination = ? AND o.state != 'held'",
        (study_id, destination),
    ).fetchone()
    return StudyTotals(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


def remaining(conn: sqlite3.Connection, destination: str | None = None) -> int:
    """Return how many rows are not delivered (queued, sending, failed or quarantined)."""
    sql = "SELECT count(*) FROM outbox WHERE state IN ('queued','sending','failed','quarantined')"
    args: tuple[str, ...] = ()
    if destination:
        sql += " AND destination = ?"
        args = (destination,)
    return int(conn.execute(sql, args).fetchone()[0])


def problems(conn: sqlite3.Connection, study_id: int) -> list[sqlite3.Row]:
    """Return the quarantined and failed rows of a study, with their reasons."""
    return list(
        conn.execute(
            "SELECT o.id, o.destination, o.state, o.attempts, o.last_status, o.last_error,"
            " i.sop_instance_uid, i.sop_class_uid FROM outbox o"
            " JOIN instances i ON i.id = o.instance_id"
            " WHERE i.study_id = ? AND o.state IN ('quarantined','failed') ORDER BY o.id",
            (study_id,),
        )
    )


def quarantine(conn: sqlite3.Connection, instance_id: int, destination: str, error: str) -> None:
    """Quarantine one instance's row for ``destination`` (it is never sent), with why.

    The row is made if there is none yet: a quarantine is never lost for want of a row.
    """
    now = now_iso()
    with transaction(conn):
        conn.execute(
            "INSERT INTO outbox (instance_id, destination, state, last_error, updated_at,"
            " queued_at) VALUES (?,?,'quarantined',?,?,?)"
            " ON CONFLICT (instance_id, destination) DO UPDATE SET state = 'quarantined',"
            " last_error = excluded.last_error, updated_at = excluded.updated_at",
            (instance_id, destination, error, now, now),
        )


def hold_study(conn: sqlite3.Connection, study_id: int) -> None:
    """Hold every live row of a study (no sender takes them; one in flight is not recorded)."""
    with transaction(conn):
        conn.execute(
            "UPDATE outbox SET state = 'held', claimed_by = '', held_by = '', updated_at = ?"
            " WHERE state != 'discarded' AND instance_id IN"
            " (SELECT id FROM instances WHERE study_id = ?)",
            (now_iso(), study_id),
        )


def hold_unsent(conn: sqlite3.Connection, study_id: int, reason: str) -> None:
    """Hold a study's queued and failed rows, with ``reason`` as their last error."""
    with transaction(conn):
        conn.execute(
            "UPDATE outbox SET state = 'held', last_error = ?, updated_at = ?"
            " WHERE state IN ('queued','failed') AND instance_id IN"
            " (SELECT id FROM instances WHERE study_id = ?)",
            (reason, now_iso(), study_id),
        )


def discard_unsent(conn: sqlite3.Connection, study_id: int, reason: str) -> None:
    """Discard every row of a study that was not sent: it is never sent."""
    with transaction(conn):
        conn.execute(
            "UPDATE outbox SET state = 'discarded', last_error = ?, claimed_by = '',"
            " held_by = '', updated_at = ? WHERE state != 'sent' AND instance_id IN"
            " (SELECT id FROM instances WHERE study_id = ?)",
            (f"discarded: {reason}", now_iso(), study_id),
        )


def forget_deliveries(conn: sqlite3.Connection, study_id: int) -> None:
    """Mark a study's rows as not delivered under the identity it is given now.

    Called when a correction records what was delivered under the old one: a
    later correction must name only what reached the PACS under this one, not
    the old copy again under an identity it never had there.
    """
    with transaction(conn):
        conn.execute(
            "UPDATE outbox SET delivered = 0 WHERE instance_id IN"
            " (SELECT id FROM instances WHERE study_id = ?)",
            (study_id,),
        )


def delivered_instances(
    conn: sqlite3.Connection, study_id: int, destination: str
) -> list[sqlite3.Row]:
    """The instances of a study that reached ``destination`` under its present identity (at
    least once since its last correction: coerced path and header, SOP UIDs), also when
    their rows were held or queued again since."""
    return conn.execute(
        "SELECT i.coerced_path, i.coerced_header, i.sop_class_uid, i.sop_instance_uid"
        " FROM outbox o"
        " JOIN instances i ON i.id = o.instance_id"
        " WHERE i.study_id = ? AND o.destination = ? AND o.delivered = 1 ORDER BY i.id",
        (study_id, destination),
    ).fetchall()


QUIET_SECONDS = 120.0  # how long a reconciliation or discard waits for a send in flight


def quiesce(conn: sqlite3.Connection, study_id: int, seconds: float = QUIET_SECONDS) -> None:
    """Hold a study's queued rows, then wait until no live sender holds any of its rows.

    A reconciliation or a discard must see what a ``kiosk send`` running now
    (or the window's background delivery) delivers of the study: its claimed
    rows are left to it (their outcomes are recorded as usual), and no new
    ones are claimed meanwhile. On timeout or interruption the rows held here
    are queued again; a process killed meanwhile leaves them to
    :func:`release_orphaned_holds` (they carry its ``held_by``).

    Raises
    ------
    LocalError
        If a sender still holds rows of the study after ``seconds``.
    """
    with transaction(conn):
        held = [
            int(r[0])
            for r in conn.execute(
                "SELECT o.id FROM outbox o JOIN instances i ON i.id = o.instance_id"
                " WHERE i.study_id = ? AND o.state = 'queued'",
                (study_id,),
            )
        ]
        for chunk, marks in _id_chunks(held):
            conn.execute(
                f"UPDATE outbox SET state = 'held', held_by = ?, updated_at = ?"
                f" WHERE id IN ({marks})",
                [worker_id(), now_iso(), *chunk],
            )
    try:
        _wait_for_senders(conn, study_id, seconds)
    except BaseException:  # timed out, interrupted: what this held is queued again
        release_quiesced(conn, study_id)
        raise


def release_quiesced(conn: sqlite3.Connection, study_id: int) -> None:
    """Queue again the rows of a study that :func:`quiesce` held for this process."""
    with transaction(conn):
        conn.execute(
            "UPDATE outbox SET state = 'queued', held_by = '', updated_at = ?"
            " WHERE state = 'held' AND held_by = ? AND instance_id IN"
            " (SELECT id FROM instances WHERE study_id = ?)",
            (now_iso(), worker_id(), study_id),
        )


def release_orphaned_holds(conn: sqlite3.Connection) -> int:
    """Queue again the rows that a reconciliation or a discard killed while it waited held
    (:func:`quiesce`); return how many. Holds of a live process are left to it."""
    orphans = [
        str(who)
        for who, when in conn.execute(
            "SELECT held_by, max(updated_at) FROM outbox"
            " WHERE state = 'held' AND held_by != '' GROUP BY held_by"
        )
        if claimant_is_gone(str(who), str(when))
    ]
    released = 0
    for who in orphans:
        with transaction(conn):
            released += conn.execute(
                "UPDATE outbox SET state = 'queued', held_by = '', updated_at = ?"
                " WHERE state = 'held' AND held_by = ?",
                (now_iso(), who),
            ).rowcount
    return released


def _wait_for_senders(conn: sqlite3.Connection, study_id: int, seconds: float) -> None:
    """Wait until no live sender holds rows of the study (see :func:`quiesce`)."""
    deadline = time.monotonic() + seconds
    while True:
        busy = [
            (str(r[0]), str(r[1]))
            for r in conn.execute(
                "SELECT o.claimed_by, o.claimed_at FROM outbox o"
                " JOIN instances i ON i.id = o.instance_id"
                " WHERE i.study_id = ? AND o.state = 'sending'",
                (study_id,),  # also this process's: the window sends on a thread of its own
            )
        ]
        if all(claimant_is_gone(who, when) for who, when in busy):
            return
        if time.monotonic() > deadline:
            raise LocalError(
                f"study {study_id} is being sent by another kiosk process right now; "
                "try again when that send is done"
            )
        time.sleep(0.2)
