"""The audit trail's chain: each record's MAC covers its fields and the MAC before it.

A record's ``hash`` is HMAC-SHA-256, keyed with the station's secret audit
key (:mod:`kiosk.store.audit_seal`, a file beside the database), over the
record's canonical form and the ``hash`` of the record before it. A record
changed after the fact no longer matches its MAC, and without the key no one
can compute a new one; a record removed breaks the link of the one after it
(its ``prev_hash``, and its id leaves a gap); records removed from the end
are behind the head file, which names the newest record written.

Records written before the key (a kiosk of before, migration 0009) are
plain SHA-256 of the same canonical form (:func:`record_hash`); the key
file says from which record on the chain is keyed. The canonical form is
JSON of the fields in a fixed order, ASCII only, without blanks, so the
same record always gives the same bytes (a later Python, a different
locale).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

#: The hash "before" the first record.
GENESIS = "0" * 64

#: The fields a record's hash covers, in this order.
FIELDS = ("id", "time", "user", "station", "action", "study_instance_uid", "outcome", "detail")


def _canonical(prev_hash: str, fields: dict[str, object]) -> bytes:
    text = json.dumps(
        [prev_hash, *(fields[name] for name in FIELDS)], ensure_ascii=True, separators=(",", ":")
    )
    return text.encode("ascii")


def record_hash(prev_hash: str, fields: dict[str, object]) -> str:
    """Return the plain SHA-256 (hex) of a record's canonical form and the hash before it.

    The chain of the records written before the audit key (see the module's docstring).
    """
    return hashlib.sha256(_canonical(prev_hash, fields)).hexdigest()


def record_mac(key: bytes, prev_hash: str, fields: dict[str, object]) -> str:
    """Return the HMAC-SHA-256 (hex) of a record's canonical form and the MAC before it."""
    return hmac.new(key, _canonical(prev_hash, fields), hashlib.sha256).hexdigest()


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
    """Record the newest record's id and hash (inside the caller's transaction).

    The ``audit_head`` row is kept for the kiosks of before; the check of the
    end of the trail is the head file's (:mod:`kiosk.store.audit_seal`), which
    someone who edits the database does not change with it.
    """
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


@dataclass(frozen=True)
class Anchor:
    """The newest record the head file names: its id and its MAC."""

    last_id: int
    mac: str


def _removed(first: int, last: int, where: str) -> str:
    if first == last:
        return f"audit record {first} was removed ({where})"
    return f"audit records {first} to {last} were removed ({where})"


def first_break(
    rows: Iterable[sqlite3.Row],
    *,
    key: bytes | None,
    keyed_from: int,
    anchor: Anchor | None,
    unchecked: tuple[int, int] | None = None,
) -> Break | None:
    """Walk the records oldest first; return the first break, or ``None`` when whole.

    Parameters
    ----------
    rows
        The ``audit`` rows, by id.
    key
        The audit key; ``None`` when it is lost (the keyed records' MACs are
        then not checked: the caller reports the loss).
    keyed_from
        The first record chained with the key; those before are plain SHA-256.
    anchor
        The newest record the head file names, if any: the trail may not end
        before it, and its record must have the MAC it names.
    unchecked
        Ids (first, last) of records whose key was lost: their MACs are not
        checked (the caller reports them).
    """
    prev = GENESIS
    expected = 1
    last_id = 0
    for row in rows:
        rid = int(row["id"])
        if rid != expected:
            return Break(
                expected, "removed", _removed(expected, rid - 1, f"the trail jumps to {rid}")
            )
        if row["prev_hash"] != prev:
            return Break(
                rid,
                "removed" if rid > 1 else "changed",
                f"audit record {rid} does not follow the record before it "
                "(that record was removed or changed)",
            )
        fields = dict(row)
        if rid < keyed_from:
            ok = hmac.compare_digest(record_hash(prev, fields), str(row["hash"]))
        elif key is None or (unchecked is not None and unchecked[0] <= rid <= unchecked[1]):
            ok = True
        else:
            ok = hmac.compare_digest(record_mac(key, prev, fields), str(row["hash"]))
        if ok and anchor is not None and rid == anchor.last_id:
            ok = hmac.compare_digest(anchor.mac, str(row["hash"]))
        if not ok:
            return Break(rid, "changed", f"audit record {rid} was changed after it was written")
        prev, last_id, expected = str(row["hash"]), rid, rid + 1
    if anchor is not None and anchor.last_id > last_id:
        where = "the end of the trail" if last_id else "the trail is empty"
        return Break(last_id + 1, "removed", _removed(last_id + 1, anchor.last_id, where))
    return None
