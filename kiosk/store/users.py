"""The ``users`` table: who may sign in, their role and their argon2 password hash."""

from __future__ import annotations

import sqlite3

from kiosk.store.db import now_iso, transaction


def add(conn: sqlite3.Connection, name: str, role: str, password_hash: str) -> bool:
    """Add a user; return ``False`` (and change nothing) when the name is taken."""
    with transaction(conn):
        cursor = conn.execute(
            "INSERT INTO users (name, role, password_hash, created_at) VALUES (?,?,?,?)"
            " ON CONFLICT (name) DO NOTHING",
            (name, role, password_hash, now_iso()),
        )
        return cursor.rowcount == 1


def get(conn: sqlite3.Connection, name: str) -> sqlite3.Row | None:
    """The user called ``name`` (enabled or not), or ``None``."""
    row: sqlite3.Row | None = conn.execute("SELECT * FROM users WHERE name = ?", (name,)).fetchone()
    return row


def all_users(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    """Every user, by name."""
    return conn.execute("SELECT * FROM users ORDER BY name").fetchall()


def count(conn: sqlite3.Connection, role: str | None = None) -> int:
    """How many enabled users there are (of one role, when given)."""
    if role is None:
        row = conn.execute("SELECT count(*) FROM users WHERE disabled = 0").fetchone()
    else:
        row = conn.execute(
            "SELECT count(*) FROM users WHERE disabled = 0 AND role = ?", (role,)
        ).fetchone()
    return int(row[0])


def any_user(conn: sqlite3.Connection) -> bool:
    """Whether any user was ever set up (a row, enabled or disabled)."""
    return conn.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None


def set_password_hash(conn: sqlite3.Connection, name: str, password_hash: str) -> None:
    """Store a new hash for a user (argon2's parameters were raised since it was made)."""
    with transaction(conn):
        conn.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))


def set_account(conn: sqlite3.Connection, name: str, *, role: str, disabled: bool) -> None:
    """Store a user's role and whether the user is disabled."""
    with transaction(conn):
        conn.execute(
            "UPDATE users SET role = ?, disabled = ? WHERE name = ?",
            (role, int(disabled), name),
        )
