"""The audit trail's two files beside the database: its secret key and its head.

Someone who can write the database can change, remove or add audit rows,
and recompute a plain hash chain with them, ``audit_head`` included. So the
proof is kept outside the database, in the same folder, both files 0600:

- ``<database>.audit-key``: the station's secret key for the chain's
  HMAC-SHA-256 (:mod:`kiosk.store.audit_chain`) and the first record chained
  with it (``keyed_from``; the records before it were written by a kiosk of
  before, plain SHA-256). Made once, at the trail's first use by this
  version (a new database, or the first append or ``kiosk audit --verify``
  on a database of before: the trail as it is then is anchored), and never
  rewritten.
- ``<database>.audit-head``: the newest record written, its id and MAC,
  replaced after each append commits (a temporary file, fsync, rename): the
  trail may not end before it. It lags behind the database when a process
  dies between the commit and the replace; that is no break (the records
  after it still need the key).

What this does not protect: someone who can write the database *and* these
files (the kiosk's own user, an administrator, a restore of the whole data
folder) can still rewrite everything. A missing file is not silently
remade: a lost key leaves the records it chained unchecked, a lost head the
end of the trail, and both are reported by every ``kiosk audit --verify``
from then on (kept in the new files).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.errors import StoreError
from kiosk.paths import fsync_dir
from kiosk.store.audit_chain import GENESIS, Anchor, Break, first_break
from kiosk.store.db import transaction

log = logging.getLogger(__name__)

KEY_SUFFIX = ".audit-key"
HEAD_SUFFIX = ".audit-head"

#: The key of a database with no file (``:memory:``): this process's only.
_PROCESS_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class Key:
    """The audit key file: the secret, the first record chained with it, records it lost."""

    secret: bytes
    keyed_from: int
    lost: tuple[int, int] | None = None  # records chained with a key that went missing


@dataclass(frozen=True)
class Head:
    """The head file: the newest record written, and the breaks found while appending."""

    anchor: Anchor
    keyed_from: int
    notes: tuple[Break, ...] = ()


@dataclass(frozen=True)
class Seal:
    """The key and head of one database's trail, as found (or made at first use)."""

    key: Key | None
    head: Head | None
    key_path: Path | None = None
    head_path: Path | None = None
    notes: tuple[Break, ...] = field(default=())

    @property
    def secret(self) -> bytes | None:
        """The key's secret, or ``None`` when it is lost."""
        return self.key.secret if self.key is not None else None

    @property
    def keyed_from(self) -> int:
        """The first record chained with the key (with the head's word when the key is lost)."""
        if self.key is not None:
            return self.key.keyed_from
        return self.head.keyed_from if self.head is not None else 1


def files_of(conn: sqlite3.Connection) -> tuple[Path, Path] | None:
    """The key and head files of the database ``conn`` has open; ``None`` for ``:memory:``."""
    for row in conn.execute("PRAGMA database_list").fetchall():
        if row[1] == "main":
            return (Path(row[2] + KEY_SUFFIX), Path(row[2] + HEAD_SUFFIX)) if row[2] else None
    return None


def _newest(conn: sqlite3.Connection) -> tuple[int, str]:
    """The newest record's id and hash in the database (or the head row's, if further)."""
    row = conn.execute("SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
    head = conn.execute("SELECT last_id, last_hash FROM audit_head WHERE one = 1").fetchone()
    found = (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)
    if head is not None and int(head[0]) > found[0]:
        found = (int(head[0]), str(head[1]))
    return found


def load(conn: sqlite3.Connection, *, appending: bool = False) -> Seal:
    """Read the key and head files of ``conn``'s database; make them at the trail's first use.

    Runs in the caller's transaction or in its own (the files are made while
    the database's write lock is held: two processes cannot both make them).

    Parameters
    ----------
    appending
        The caller is about to append. A lost key is then replaced by a new
        one that names the records it leaves unchecked, and a lost head is
        noted in the head written after the append; without ``appending``
        (``kiosk audit --verify``) nothing is remade and the loss is reported.

    Raises
    ------
    StoreError
        If the key file cannot be read or written.
    """
    files = files_of(conn)
    if files is None:
        return Seal(Key(_PROCESS_KEY, 1), None)
    key_path, head_path = files
    key = _read_key(key_path)
    head = _read_head(head_path)
    if key is not None and head is not None:
        return Seal(key, head, key_path, head_path)
    with transaction(conn):
        key = _read_key(key_path)  # another process may have made them meanwhile
        head = _read_head(head_path)
        newest_id, newest_hash = _newest(conn)
        if key is None:
            gone: tuple[int, int] | None = None
            plain = _plain_break(conn) if head is None else None
            if head is None and plain is None:  # first use: anchor the trail as it is
                head = Head(Anchor(newest_id, newest_hash), newest_id + 1)
                _write_head(head_path, head)
                log.info("audit trail anchored at record %d (%s)", newest_id, head_path)
            elif plain is not None:  # keyed records, and both files gone: never a first use
                if not appending:
                    lost = _both_lost(plain.record_id, key_path, head_path)
                    return Seal(None, None, key_path, head_path, (lost,))
                gone = (plain.record_id, newest_id)
                log.warning("audit key %s and head %s are missing: a new key chains the "
                            "records after %d", key_path, head_path, newest_id)  # fmt: skip
            elif head is not None and newest_id >= head.keyed_from:  # chained with a lost key
                if not appending:
                    return Seal(None, head, key_path, head_path, (_key_lost(head, key_path),))
                gone = (head.keyed_from, newest_id)
                log.warning("audit key %s is missing: a new one chains the records after %d",
                            key_path, newest_id)  # fmt: skip
            key = _make_key(key_path, Key(secrets.token_bytes(32), newest_id + 1, gone))
        notes: tuple[Break, ...] = ()
        if head is None:
            notes = (_head_lost(newest_id + 1, head_path),)
        return Seal(key, head, key_path, head_path, notes)


def _plain_break(conn: sqlite3.Connection) -> Break | None:
    """Where the trail stops being a plain SHA-256 chain (a kiosk of before wrote only such
    records); ``None`` when it is one throughout (or empty)."""
    rows = conn.execute("SELECT * FROM audit ORDER BY id")
    newest = _newest(conn)[0]
    return first_break(rows, key=None, keyed_from=newest + 1, anchor=None)


def _both_lost(record_id: int, key_path: Path, head_path: Path) -> Break:
    return Break(
        record_id,
        "changed",
        f"audit record {record_id} and after it cannot be checked: the audit key {key_path} "
        f"and head {head_path} are missing; restore them from the backup of the data folder",
    )


def _key_lost(head: Head, path: Path) -> Break:
    return Break(
        head.keyed_from,
        "changed",
        f"audit record {head.keyed_from} and after it cannot be checked: the audit key "
        f"{path} is missing; restore it from the backup of the data folder",
    )


def _head_lost(record_id: int, path: Path) -> Break:
    return Break(
        record_id,
        "removed",
        f"records before audit record {record_id} may have been removed: the audit head "
        f"{path} was missing; restore it from the backup of the data folder",
    )


def breaks(seal: Seal) -> list[Break]:
    """What the files themselves report: a lost key or head, noted then or now."""
    found = list(seal.notes)
    if seal.head is not None:
        found.extend(seal.head.notes)
    if seal.key is not None and seal.key.lost is not None:
        first, last = seal.key.lost
        found.append(
            Break(
                first,
                "changed",
                f"audit records {first} to {last} cannot be checked: the audit key that "
                f"chained them was lost ({seal.key_path} was made anew)",
            )
        )
    return found


def advance(conn: sqlite3.Connection, seal: Seal, record_id: int, mac: str) -> None:
    """Name record ``record_id`` in the head file, once it is committed (the append's last step).

    The head only moves forward: a head already further (another process
    appended since) is kept. The notes of the head before, and ``seal``'s,
    are kept. A head that cannot be written is logged, not raised: the
    record is stored, and the head only lags.
    """
    if seal.head_path is None:
        return
    try:
        row = conn.execute("SELECT hash FROM audit WHERE id = ?", (record_id,)).fetchone()
    except sqlite3.Error:  # the connection is gone: the next append names its own record
        return
    if row is None or row[0] != mac:
        return  # not committed as written: nothing to name
    try:
        current = _read_head(seal.head_path)
        if current is not None and current.anchor.last_id >= record_id:
            return
        kept = (current.notes if current is not None else ()) + tuple(
            n for n in seal.notes if current is None or n not in current.notes
        )
        _write_head(seal.head_path, Head(Anchor(record_id, mac), seal.keyed_from, kept))
    except OSError as exc:
        log.warning("the audit head %s cannot be written (%s): it lags", seal.head_path, exc)


def _read_key(path: Path) -> Key | None:
    try:
        data = json.loads(path.read_text(encoding="ascii"))
        lost = data.get("lost")
        return Key(
            bytes.fromhex(data["key"]),
            int(data["keyed_from"]),
            (int(lost[0]), int(lost[1])) if lost else None,
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise StoreError(
            f"the audit key {path} cannot be read ({exc}); restore it from the backup of "
            "the data folder"
        ) from exc


def _read_head(path: Path) -> Head | None:
    """The head file, or ``None`` when it is missing or not readable (lost alike)."""
    try:
        data = json.loads(path.read_text(encoding="ascii"))
        notes = tuple(
            Break(int(n["broken_at"]), str(n["kind"]), str(n["message"]))
            for n in data.get("notes", [])
        )
        return Head(Anchor(int(data["last_id"]), str(data["mac"])), int(data["keyed_from"]), notes)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("the audit head %s cannot be read (%s)", path, exc)
        return None


def _write_head(path: Path, head: Head) -> None:
    data = {
        "last_id": head.anchor.last_id,
        "mac": head.anchor.mac,
        "keyed_from": head.keyed_from,
        "notes": [
            {"broken_at": n.record_id, "kind": n.kind, "message": n.message} for n in head.notes
        ],
    }
    tmp = _written(path, json.dumps(data, ensure_ascii=True))
    try:
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def _make_key(path: Path, key: Key) -> Key:
    """Write the key file unless it exists (then return the one there): never two keys."""
    data = {
        "key": key.secret.hex(),
        "keyed_from": key.keyed_from,
        "lost": list(key.lost) if key.lost else None,
        "note": "the secret of this station's audit chain: keep it with the database's backup",
    }
    try:
        tmp = _written(path, json.dumps(data, ensure_ascii=True))
        try:
            os.link(tmp, path)  # fails if it exists: the file is made whole or not at all
        except FileExistsError:
            existing = _read_key(path)
            if existing is None:
                raise
            return existing
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(path.parent)
    except OSError as exc:
        raise StoreError(
            f"the audit key {path} cannot be written ({exc}); check the permissions of "
            f"{path.parent}"
        ) from exc
    log.info("audit key made: %s (records from %d on are chained with it)", path, key.keyed_from)
    return key


def _written(path: Path, text: str) -> Path:
    """A temporary file beside ``path`` holding ``text``, 0600, flushed to the disk."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:  # mkstemp makes it 0600
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
