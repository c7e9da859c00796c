"""Use cases: sign in and out, the users and their roles, what the session may do.

The rules themselves are :mod:`kiosk.access` (one place for the CLI and the
window); this module opens the database for them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk import access, audit
from kiosk.access import Action, Role, Session, parse_role
from kiosk.config import Config
from kiosk.store import db, users

__all__ = [
    "Action",
    "Role",
    "Session",
    "StationAccess",
    "UserInfo",
    "add_user",
    "authorize",
    "list_users",
    "parse_role",
    "sign_in",
    "sign_out",
    "station_access",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StationAccess:
    """Whether sign-in is needed, who is signed in now, and whether an admin can sign in."""

    open_station: bool
    session: Session | None
    enabled_admin: bool = True

    @property
    def refusal_note(self) -> str:
        """What a refusal adds when no admin can sign in (``""`` otherwise)."""
        return "" if self.enabled_admin or self.open_station else access.NO_ENABLED_ADMIN


@dataclass(frozen=True)
class UserInfo:
    """One user as ``kiosk users list`` shows it (never the password hash)."""

    name: str
    role: str
    created_at: str
    disabled: bool

    def to_json(self) -> dict[str, object]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "name": self.name,
            "role": self.role,
            "created_at": self.created_at,
            "disabled": self.disabled,
        }


def station_access(config: Config, user: str = "") -> StationAccess:
    """Whether this station runs open (no user yet), and the session actions run under.

    An open station says so in the log each time it is asked.
    """
    with db.opened(config.database_path) as conn:
        session = access.session_for(conn, user)
        if session is not None and session.open_station:
            log.info("this station runs open: no user is set up, everyone acts as admin")
        return StationAccess(
            session is not None and session.open_station, session, access.has_enabled_admin(conn)
        )


def sign_in(config: Config, name: str, password: str) -> Session:
    """Sign ``name`` in for this process (audited).

    Raises
    ------
    SignInError
        Unknown user or wrong password (exit 5).
    """
    with db.opened(config.database_path) as conn:
        return access.sign_in(conn, name, password, station=config.station)


def sign_out(config: Config) -> None:
    """Sign the current user out (audited); the window does this when it locks."""
    with db.opened(config.database_path) as conn:
        access.sign_out(conn, station=config.station)


def authorize(config: Config, action: Action, *, user: str = "") -> Session:
    """Check that the current session may do ``action`` (see :func:`kiosk.access.require`)."""
    with db.opened(config.database_path) as conn:
        return access.require(conn, action, user=user, station=config.station)


def add_user(config: Config, name: str, role: Role, password: str, *, user: str = "") -> None:
    """Add a user (admins only, or anyone while no user exists: then an admin); audited.

    Raises
    ------
    RoleNotAllowed, SignInError
        If the session may not manage users.
    UsageError
        If the name is taken, the password too short, or the first user no admin.
    """
    with db.opened(config.database_path) as conn:
        session = access.require(conn, Action.USERS, user=user, station=config.station)
        access.add_user(conn, name, role, password)
        audit.record(
            conn,
            user=session.user,
            station=config.station,
            action="user-add",
            detail=f"user {name.strip()} added as {role}",
        )


def change_user(
    config: Config,
    name: str,
    *,
    role: Role | None = None,
    disabled: bool | None = None,
    user: str = "",
) -> UserInfo:
    """Change a user's role, or disable or enable the user (admins only); audited.

    Raises
    ------
    RoleNotAllowed, SignInError
        If the session may not manage users.
    UsageError
        If there is no such user, or no enabled admin would be left.
    """
    with db.opened(config.database_path) as conn:
        session = access.require(conn, Action.USERS, user=user, station=config.station)
        was = users.get(conn, name)
        new_role, new_disabled = access.change_user(conn, name, role=role, disabled=disabled)
        assert was is not None  # change_user refuses an unknown name
        changes = []
        if new_role.value != was["role"]:
            changes.append(f"role {was['role']} -> {new_role}")
        if new_disabled != bool(was["disabled"]):
            changes.append("disabled" if new_disabled else "enabled")
        audit.record(
            conn,
            user=session.user,
            station=config.station,
            action="user-change",
            detail=f"user {name}: {', '.join(changes) or 'unchanged'}",
        )
        row = users.get(conn, name)
        assert row is not None
        return UserInfo(row["name"], row["role"], row["created_at"], bool(row["disabled"]))


def list_users(config: Config, *, user: str = "") -> list[UserInfo]:
    """The users and their roles (admins only, or anyone while the station is open)."""
    with db.opened(config.database_path) as conn:
        access.require(conn, Action.USERS, user=user, station=config.station)
        return [
            UserInfo(r["name"], r["role"], r["created_at"], bool(r["disabled"]))
            for r in users.all_users(conn)
        ]
