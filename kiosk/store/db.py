"""The local SQLite database: opening it and migrating its schema.

The schema version lives in ``PRAGMA user_version``; each numbered SQL file
in ``migrations/`` moves it one version up, inside a transaction, so an
older kiosk database is brought forward on open and never half-migrated.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

from kiosk import paths
from kiosk.errors import StoreError

log = logging.getLogger(__name__)


def now_iso() -> str:
    """Return the current UTC time as ISO 8601 with seconds."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def migrations() -> list[tuple[int, str]]:
    """Return the numbered migrations, ascending: ``(version, sql)``."""
    found = []
    for entry in resources.files("kiosk.store").joinpath("migrations").iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            found.append((int(name[:4]), entry.read_text(encoding="utf-8")))
    return sorted(found)


@contextmanager
def opened(path: Path) -> Iterator[sqlite3.Connection]:
    """Open (and migrate) the database for one piece of work; close it afterwards."""
    conn = connect(path)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run a block in one immediate transaction: all of it is committed, or none of it.

    A block inside another transaction joins it (the outer block commits).
    """
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        _after_commit.pop(id(conn), None)
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    finally:
        actions = _after_commit.pop(id(conn), [])
    for action in actions:
        action()


#: What runs once the transaction of a connection (by ``id``) commits; dropped on rollback.
_after_commit: dict[int, list[Callable[[], None]]] = {}


def after_commit(conn: sqlite3.Connection, action: Callable[[], None]) -> None:
    """Run ``action`` once the transaction ``conn`` is in has committed (at once if in none).

    For what must not be done before the rows are stored, and must not be
    done at all if they are rolled back (a file outside the database that
    names them). The action runs in the committing thread, after
    ``COMMIT``; it is dropped when the transaction rolls back or the commit
    fails. Every transaction of the kiosk is :func:`transaction`'s.
    """
    if not conn.in_transaction:
        action()
        return
    _after_commit.setdefault(id(conn), []).append(action)


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the schema version of an open database."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the database at ``path``.

    Raises
    ------
    StoreError
        If the file cannot be opened, or was made by a newer kiosk.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # PHI: the file 0600 (SQLite gives -wal and -shm its mode), also one an older kiosk
        # made 0644, and -wal/-shm left by it.
        paths.private_file(path)
        paths.private_files(path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the kiosk database {path} ({exc}); check the path") from exc
    conn.row_factory = sqlite3.Row
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        migrate(conn, path)
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(f"the kiosk database {path} is not usable ({exc})") from exc
    except StoreError:
        conn.close()
        raise
    return conn


def migrate(conn: sqlite3.Connection, path: Path | str = "database") -> int:
    """Apply every migration above the current version; return the new version."""
    steps = migrations()
    latest = steps[-1][0] if steps else 0
    current = schema_version(conn)
    if current > latest:
        raise StoreError(
            f"the kiosk database {path} has schema {current}, newer than this kiosk "
            f"knows ({latest}); update the kiosk"
        )
    for version, sql in steps:
        if version <= current:
            continue
        with transaction(conn):
            if schema_version(conn) >= version:  # another process got here first
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            step = _PYTHON_STEPS.get(version)
            if step is not None:
                step(conn)
            conn.execute(f"PRAGMA user_version = {version:d}")
        log.info("database migrated to schema %d", version)
    return schema_version(conn)


def _chain_audit(conn: sqlite3.Connection) -> None:
    """Migration 0009's Python step: hash the audit records already there, in order."""
    from kiosk.store import audit_chain

    audit_chain.chain_existing(conn)


#: Work a migration needs that SQL cannot do (SHA-256), run after its SQL, in its transaction.
_PYTHON_STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {9: _chain_audit}


def _statements(sql: str) -> list[str]:
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
