"""Sign-in and roles: who may do what, checked in one place for the CLI and the window.

Roles are ``front-desk``, ``physician``, ``back-office`` and ``admin``. The use
cases of :mod:`kiosk.app` call :func:`require` before they act, so a refused
action is refused the same way from the command line and from the window
(:class:`~kiosk.errors.RoleNotAllowed`, exit 5, "role not allowed").

While no user was ever set up (no row in ``users``, enabled or disabled) the
station runs *open*: every action is allowed, as admin, and the audit trail
names whoever the caller says (``--user``); the first user added must be an
admin. Once a user exists, a user must sign in (:func:`sign_in`), also when
every admin is disabled (the station never falls back to open: the refusal
says that no admin is enabled, :data:`NO_ENABLED_ADMIN`); the signed-in user
is this process's: one person at one station's keyboard (the window signs
out when it locks).

Passwords are hashed with argon2id (argon2-cffi's defaults); a hash made
with weaker parameters than today's defaults is renewed at the next sign-in.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from kiosk import audit
from kiosk.errors import RoleNotAllowed, SignInError, UsageError
from kiosk.store import users

log = logging.getLogger(__name__)


class Role(StrEnum):
    """What a user is at the hospital, and so what the kiosk lets them do."""

    FRONT_DESK = "front-desk"
    PHYSICIAN = "physician"
    BACK_OFFICE = "back-office"
    ADMIN = "admin"


class Action(StrEnum):
    """An action a role may or may not do (also the audit trail's word for a refusal)."""

    IMPORT = "import"
    SEND = "send"
    TAG = "tag"
    SECOND_READ = "second-read"
    RECONCILE = "reconcile"
    DISCARD = "discard"
    RESEND = "resend"
    BILLING = "billing"
    PURGE = "purge"
    AUDIT = "audit"
    EXPORT = "export"
    SETTINGS = "settings"
    USERS = "users"


_EVERYONE = frozenset(Role)
_PHYSICIAN = frozenset({Role.PHYSICIAN, Role.ADMIN})
_BACK_OFFICE = frozenset({Role.BACK_OFFICE, Role.ADMIN})
_ADMIN = frozenset({Role.ADMIN})

#: Which roles may do each action (``docs/CLI.md``): import is front desk and up; tags and
#: second reads physicians; the back office's work the back office; settings and users
#: admins. An admin may do everything.
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.IMPORT: _EVERYONE,
    Action.SEND: _EVERYONE,
    Action.TAG: _PHYSICIAN,
    Action.SECOND_READ: _PHYSICIAN,
    Action.RECONCILE: _BACK_OFFICE,
    Action.DISCARD: _BACK_OFFICE,
    Action.RESEND: _BACK_OFFICE,
    Action.BILLING: _BACK_OFFICE,
    Action.PURGE: _BACK_OFFICE,
    Action.AUDIT: _BACK_OFFICE,
    Action.EXPORT: _PHYSICIAN,
    Action.SETTINGS: _ADMIN,
    Action.USERS: _ADMIN,
}


@dataclass(frozen=True)
class Session:
    """Who is at the keyboard: a signed-in user, or the open station (no user yet)."""

    user: str
    role: Role
    open_station: bool = False

    def may(self, action: Action) -> bool:
        """Whether this session's role may do ``action``."""
        return self.role in ALLOWED[action]


_hasher = PasswordHasher()
_lock = threading.Lock()
_current: Session | None = None


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the name is unknown: the answer takes as long either way.

    Made on first use: every command imports this module, few sign in.
    """
    return _hasher.hash("not a password of anyone")


def parse_role(text: str) -> Role:
    """Return the role named ``text``.

    Raises
    ------
    UsageError
        If it is not one of the four roles.
    """
    try:
        return Role(text.strip().lower().replace("_", "-").replace(" ", "-"))
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise UsageError(f"unknown role {text!r}: the roles are {known}") from None


#: Said with a refusal while no admin can sign in (all disabled, or a station of before
#: where only other roles were added): what it means and what to do.
NO_ENABLED_ADMIN = (
    "no enabled admin: users cannot be managed until IT enables an admin again in the "
    "database or restores it from its backup (docs/CLI.md, 'kiosk users')"
)


def is_open(conn: sqlite3.Connection) -> bool:
    """Whether the station runs open: no user was ever set up, so no one needs to sign in.

    A station whose users are all disabled, or whose admins are, is not open.
    """
    return not users.any_user(conn)


def has_enabled_admin(conn: sqlite3.Connection) -> bool:
    """Whether some admin can sign in (an open station has none, and needs none)."""
    return users.count(conn, Role.ADMIN.value) > 0


def current() -> Session | None:
    """The signed-in user of this process, or ``None``."""
    return _current


def sign_in(conn: sqlite3.Connection, name: str, password: str, *, station: str) -> Session:
    """Check a user's password and make them this process's signed-in user (audited).

    Raises
    ------
    SignInError
        If the name is unknown or disabled, or the password is wrong (one
        message for all, so the answer does not tell which names exist).
    """
    global _current
    row = users.get(conn, name) if name else None
    known = row is not None and not row["disabled"]
    stored = row["password_hash"] if row is not None and known else _dummy_hash()
    typed = _normal(password)
    # The NFC form first; then the password as typed, for a hash made before passwords were
    # normalized from a password not in NFC (its hash is then renewed from the NFC form).
    tries = (typed,) if typed == password else (typed, password)
    matched = next((t for t in tries if _matches(stored, t)), None)
    ok = matched is not None and row is not None and not row["disabled"]
    if not ok or row is None:
        audit.record(conn, user=name, station=station, action="sign-in", outcome="refused")
        # The log file only: the command's one line on stderr says it already.
        log.warning("sign-in refused for user %r", name, extra={"file_only": True})
        raise SignInError("sign-in refused: unknown user or wrong password")
    if matched != typed or _hasher.check_needs_rehash(stored):
        users.set_password_hash(conn, name, _hasher.hash(typed))
    session = Session(name, Role(row["role"]))
    with _lock:
        _current = session
    audit.record(conn, user=name, station=station, action="sign-in", detail=f"role {session.role}")
    log.info("user %r signed in (%s)", name, session.role)
    return session


def _normal(password: str) -> str:
    """A password as it is hashed: Unicode NFC (``ä`` typed as one character or as two)."""
    return unicodedata.normalize("NFC", password)


def _matches(stored: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(stored, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def sign_out(conn: sqlite3.Connection | None = None, *, station: str = "") -> None:
    """End this process's session (audited when a connection is given)."""
    global _current
    with _lock:
        session, _current = _current, None
    if session is not None and conn is not None:
        audit.record(conn, user=session.user, station=station, action="sign-out")


def session_for(conn: sqlite3.Connection, user: str = "") -> Session | None:
    """The session actions run under now: the open station, the signed-in user, or ``None``.

    The signed-in user is read again from the store each time: a user disabled
    or removed since signing in has no session any more, and one whose role was
    changed acts with the new role (not the one of the sign-in).
    """
    if is_open(conn):
        return Session(user, Role.ADMIN, open_station=True)
    session = _current
    if session is None:
        return None
    row = users.get(conn, session.user)
    if row is None or row["disabled"]:
        return None
    role = Role(row["role"])
    return session if role is session.role else replace(session, role=role)


def require(
    conn: sqlite3.Connection,
    action: Action,
    *,
    user: str = "",
    station: str = "",
    or_: Action | None = None,
) -> Session:
    """Check that the session may do ``action``; return it (its ``user`` names who acts).

    On an open station ``user`` (what the caller says) is who acts; once a
    user exists, the signed-in user is.

    Parameters
    ----------
    or_
        Another action that allows it too (the list of second reads: the
        physicians' second reads, or the back office's billing).

    Raises
    ------
    SignInError
        If no one is signed in and the station is not open.
    RoleNotAllowed
        If the signed-in user's role may not do ``action`` (nor ``or_``; audited as refused).
    """
    session = session_for(conn, user)
    gone = _current if session is None else None  # signed in, disabled or removed since
    if gone is not None:
        audit.record(
            conn,
            user=gone.user,
            station=station,
            action=str(action),
            outcome="refused",
            detail="user disabled or removed since signing in",
        )
        raise SignInError(
            f"user {gone.user} was disabled or removed since signing in and may not {action}; "
            "sign in as another user"
        )
    if session is None:
        message = (
            f"sign-in required to {action}: give --user NAME (or KIOSK_USER) and "
            "KIOSK_PASSWORD, or sign in in the window"
        )
        if not has_enabled_admin(conn):
            message += f"; {NO_ENABLED_ADMIN}"
        raise SignInError(message)
    if not session.may(action) and not (or_ is not None and session.may(or_)):
        audit.record(
            conn,
            user=session.user,
            station=station,
            action=str(action),
            outcome="refused",
            detail=f"role not allowed ({session.role})",
        )
        message = f"role not allowed: a {session.role} user may not {action}"
        if ALLOWED[action] == _ADMIN and not has_enabled_admin(conn):
            message += f"; {NO_ENABLED_ADMIN}"
        raise RoleNotAllowed(message)
    return session


def change_user(
    conn: sqlite3.Connection, name: str, *, role: Role | None = None, disabled: bool | None = None
) -> tuple[Role, bool]:
    """Give a user another role, or disable or enable the user; return (role, disabled).

    A session of that user acts with the change from its next check on
    (:func:`session_for`).

    Raises
    ------
    UsageError
        If there is no such user, or the change would leave the station with no
        enabled admin (the station could then not be managed any more).
    """
    row = users.get(conn, name)
    if row is None:
        raise UsageError(f"no user {name}: kiosk users list shows who there is")
    new_role = role if role is not None else Role(row["role"])
    new_disabled = disabled if disabled is not None else bool(row["disabled"])
    was_admin = row["role"] == Role.ADMIN.value and not row["disabled"]
    still_admin = new_role is Role.ADMIN and not new_disabled
    if was_admin and not still_admin and users.count(conn, Role.ADMIN.value) <= 1:
        raise UsageError(
            f"{name} is the last enabled admin: add or enable another admin first, or the "
            "station could not be managed any more"
        )
    users.set_account(conn, name, role=new_role.value, disabled=new_disabled)
    return new_role, new_disabled


def checker(
    action: Action, *, user: str = "", station: str = ""
) -> Callable[[sqlite3.Connection], Session]:
    """:func:`require` of ``action``, to ask again later (after a long wait)."""
    return functools.partial(require, action=action, user=user, station=station)


def add_user(conn: sqlite3.Connection, name: str, role: Role, password: str) -> None:
    """Add a user with an argon2 hash of ``password`` (in Unicode NFC).

    Raises
    ------
    UsageError
        If the name is empty, taken, looks like a name taken (:func:`name_key`)
        or mixes Latin with Cyrillic or Greek letters; if the password is
        shorter than 8 characters or only blanks; or if the first user of the
        station is not an admin.
    """
    name = name.strip()
    if not name or any(not c.isprintable() for c in name):
        raise UsageError("a user name must be printable and not empty")
    scripts = _scripts(name)
    if len(scripts) > 1:
        raise UsageError(
            f"the user name {name!r} mixes {' and '.join(sorted(scripts))} letters: "
            "write it in one alphabet"
        )
    key = name_key(name)
    for other in users.all_users(conn):
        if other["name"] != name and name_key(other["name"]) == key:
            raise UsageError(
                f"the user name {name!r} looks like the existing user {other['name']!r}: "
                "choose a name that differs in more than case or letter width"
            )
    if role is not Role.ADMIN and is_open(conn):
        raise UsageError(
            f"the first user must be an admin: add one with 'kiosk users add NAME --role "
            f"admin', then add {name!r} signed in as that admin"
        )
    password = _normal(password)
    if len(password) < 8:
        raise UsageError("the password must have at least 8 characters")
    if not password.strip():
        raise UsageError("the password must not be only blanks: choose one with other characters")
    if not users.add(conn, name, role.value, _hasher.hash(password)):
        raise UsageError(f"user {name!r} exists already")


def name_key(name: str) -> str:
    """What two user names that look alike share: NFKC, case-folded (``ADMIN``, ``ａｄｍｉｎ``)."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())


#: The alphabets whose letters look alike (``a`` and Cyrillic ``а``): a name holds one of them.
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")


def _scripts(name: str) -> set[str]:
    """Which of the look-alike alphabets the letters of ``name`` (in NFKC) come from."""
    found = set()
    for char in unicodedata.normalize("NFKC", name):
        if char.isalpha():
            script = unicodedata.name(char, "").split(" ", 1)[0]
            if script in _CONFUSABLE_SCRIPTS:
                found.add(script.capitalize())
    return found
