"""Sign-in and roles: one rule book (kiosk/access.py) for the CLI and the window."""

from __future__ import annotations

import io
import json
import sqlite3
from pathlib import Path

import pytest

from kiosk import access, cli
from kiosk.access import ALLOWED, Action, Role
from kiosk.cli import main
from kiosk.store import db
from tests.kiosk_config import write_config


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )


def add_user(config: Path, name: str, role: str, password: str, monkeypatch, *as_user: str) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["users", "add", name, "--role", role, "--config", str(config), *as_user])


@pytest.fixture
def staffed(config: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> Path:
    """A station with an admin, a front desk, a physician and a back office user."""
    assert add_user(config, "ann", "admin", "admin-secret-1", monkeypatch) == 0
    monkeypatch.setenv("KIOSK_PASSWORD", "admin-secret-1")
    for name, role in (("fred", "front-desk"), ("phil", "physician"), ("bo", "back-office")):
        assert add_user(config, name, role, f"{name}-secret-1", monkeypatch, "--user", "ann") == 0
    monkeypatch.delenv("KIOSK_PASSWORD")
    access.sign_out()
    capsys.readouterr()
    return config


def as_user(monkeypatch: pytest.MonkeyPatch, name: str, password: str | None = None) -> None:
    monkeypatch.setenv("KIOSK_USER", name)
    monkeypatch.setenv("KIOSK_PASSWORD", password if password is not None else f"{name}-secret-1")
    access.sign_out()


def test_the_cli_role_names_are_the_roles():
    assert tuple(r.value for r in Role) == cli.ROLES


def test_the_rules_of_the_issue():
    assert ALLOWED[Action.IMPORT] == set(Role)
    assert ALLOWED[Action.TAG] == ALLOWED[Action.SECOND_READ] == {Role.PHYSICIAN, Role.ADMIN}
    for action in (Action.RECONCILE, Action.DISCARD, Action.RESEND, Action.BILLING):
        assert ALLOWED[action] == {Role.BACK_OFFICE, Role.ADMIN}
    assert ALLOWED[Action.SETTINGS] == ALLOWED[Action.USERS] == {Role.ADMIN}


def test_an_open_station_lets_everything_through_as_admin(config, capsys):
    assert main(["users", "list", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out) == {"users": []}
    assert main(["audit", "--json", "--config", str(config)]) == 0


def test_passwords_are_stored_as_argon2_hashes(staffed, tmp_path):
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    hashes = [r[0] for r in conn.execute("SELECT password_hash FROM users")]
    conn.close()
    assert len(hashes) == 4
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any("secret" in h for h in hashes)


def test_once_an_admin_exists_sign_in_is_required(staffed, capsys):
    assert main(["audit", "--config", str(staffed)]) == 5
    assert "sign-in required" in capsys.readouterr().err


def test_a_wrong_password_is_refused_and_audited(staffed, monkeypatch, capsys, tmp_path):
    as_user(monkeypatch, "bo", "not-the-password")
    assert main(["audit", "--config", str(staffed)]) == 5
    err = capsys.readouterr().err
    assert err == "kiosk: sign-in refused: unknown user or wrong password\n"
    as_user(monkeypatch, "bo")
    assert main(["audit", "--json", "--config", str(staffed)]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    sign_ins = [(e["user"], e["outcome"]) for e in events if e["action"] == "sign-in"]
    assert ("bo", "refused") in sign_ins and sign_ins[-1] == ("bo", "ok")


def test_a_role_that_may_not_is_refused_with_exit_5(staffed, monkeypatch, capsys):
    as_user(monkeypatch, "fred")  # the front desk may not discard
    code = main(["discard", "1.2.3", "--reason", "wrong disc", "--config", str(staffed)])
    assert code == 5
    err = capsys.readouterr().err
    assert "role not allowed" in err and err.count("\n") == 1
    as_user(monkeypatch, "phil")  # nor may a physician look at the audit trail
    assert main(["audit", "--config", str(staffed)]) == 5
    assert "role not allowed" in capsys.readouterr().err
    as_user(monkeypatch, "bo")  # the back office may: the study is unknown (exit 2)
    code = main(["discard", "1.2.3", "--reason", "wrong disc", "--config", str(staffed)])
    assert code == 2
    assert "not in the kiosk's store" in capsys.readouterr().err


def test_only_an_admin_manages_users(staffed, monkeypatch, capsys):
    as_user(monkeypatch, "bo")
    assert add_user(staffed, "eve", "admin", "eve-secret-1", monkeypatch) == 5
    assert "role not allowed" in capsys.readouterr().err
    as_user(monkeypatch, "ann", "admin-secret-1")
    assert main(["users", "list", "--json", "--config", str(staffed)]) == 0
    listed = json.loads(capsys.readouterr().out)["users"]
    assert [(u["name"], u["role"]) for u in listed] == [
        ("ann", "admin"),
        ("bo", "back-office"),
        ("fred", "front-desk"),
        ("phil", "physician"),
    ]
    assert "password_hash" not in listed[0]


def test_a_refusal_is_in_the_audit_trail(staffed, monkeypatch, capsys, tmp_path):
    as_user(monkeypatch, "fred")
    main(["clean-spool", "--config", str(staffed)])
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    refused = conn.execute(
        "SELECT user, action, outcome FROM audit WHERE outcome = 'refused'"
    ).fetchall()
    conn.close()
    assert [tuple(r) for r in refused] == [("fred", "purge", "refused")]


def test_users_add_rejects_short_passwords_and_taken_names(config, monkeypatch, capsys):
    assert add_user(config, "ann", "admin", "short", monkeypatch) == 2
    assert "at least 8" in capsys.readouterr().err
    assert add_user(config, "ann", "admin", "long-enough-1", monkeypatch) == 0
    as_user(monkeypatch, "ann", "long-enough-1")
    assert add_user(config, "ann", "front-desk", "long-enough-1", monkeypatch) == 2
    assert "exists already" in capsys.readouterr().err


def test_the_first_user_must_be_an_admin(config, monkeypatch, capsys):
    """A first user of another role would close the station with no one to manage users."""
    assert add_user(config, "fred", "front-desk", "fred-secret-1", monkeypatch) == 2
    err = capsys.readouterr().err
    assert err.startswith("kiosk: the first user must be an admin: ") and err.count("\n") == 1
    assert main(["users", "list", "--json", "--config", str(config)]) == 0  # still open
    assert json.loads(capsys.readouterr().out) == {"users": []}


def _set(config: Path, sql: str) -> None:
    conn = sqlite3.connect(config.parent / "kiosk.sqlite3")
    with conn:
        conn.execute(sql)
    conn.close()


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE users SET disabled = 1 WHERE role = 'admin'",  # red team round 10, 'disabled'
        "DELETE FROM users WHERE role = 'admin'",  # as a station of before with no admin
    ],
    ids=["admin-disabled", "no-admin-row"],
)
def test_a_station_with_no_enabled_admin_stays_closed(staffed, monkeypatch, capsys, edit):
    _set(staffed, edit)
    as_user(monkeypatch, "fred", "not-the-password")  # a wrong password is still refused
    assert main(["audit", "--config", str(staffed)]) == 5
    assert "sign-in refused" in capsys.readouterr().err
    for name in ("KIOSK_USER", "KIOSK_PASSWORD"):
        monkeypatch.delenv(name)
    access.sign_out()
    code = main(["second-reads", "--format", "csv", "--config", str(staffed)])
    captured = capsys.readouterr()
    assert code == 5 and captured.out == ""  # no billing CSV for no one
    assert "sign-in required" in captured.err and "no enabled admin: " in captured.err
    assert captured.err.count("\n") == 1
    assert add_user(staffed, "mallory", "admin", "mallory-secret-1", monkeypatch) == 5
    as_user(monkeypatch, "bo")  # the back office signs in and does its work ...
    assert main(["audit", "--json", "--config", str(staffed)]) == 0
    capsys.readouterr()
    assert main(["users", "list", "--config", str(staffed)]) == 5  # ... but not the admin's
    err = capsys.readouterr().err
    assert "role not allowed" in err and "no enabled admin: " in err
    conn = sqlite3.connect(staffed.parent / "kiosk.sqlite3")
    names = [r[0] for r in conn.execute("SELECT name FROM users ORDER BY name")]
    conn.close()
    assert "mallory" not in names


def test_the_use_cases_check_the_role_themselves(staffed, monkeypatch, tmp_path):
    """The window calls kiosk.app directly: the check is there, not in the CLI."""
    from kiosk.app.discard_study import discard_study
    from kiosk.app.sign_in import sign_in
    from kiosk.config import load_config
    from kiosk.errors import RoleNotAllowed, SignInError

    cfg = load_config(staffed)
    with pytest.raises(SignInError):
        discard_study(cfg, "no reason", study_uid="1.2.3")
    sign_in(cfg, "fred", "fred-secret-1")
    with pytest.raises(RoleNotAllowed) as refused:
        discard_study(cfg, "no reason", study_uid="1.2.3")
    assert refused.value.exit_code == 5


def test_tags_are_a_physician_s_and_billing_the_back_office_s(staffed, monkeypatch, capsys):
    """The front desk may neither tag nor bill; a physician tags; only the back office bills."""
    tag = ["tag", "1.2.3", "second-read", "--reason", "compare", "--config", str(staffed)]
    as_user(monkeypatch, "fred")
    assert main(tag) == 5
    assert "role not allowed" in capsys.readouterr().err
    as_user(monkeypatch, "phil")  # allowed: the study is unknown (exit 2), not refused
    assert main(tag) == 2
    assert "role not allowed" not in capsys.readouterr().err
    for name, allowed in (("phil", False), ("fred", False), ("bo", True)):
        as_user(monkeypatch, name)
        code = main(["second-reads", "--format", "csv", "--config", str(staffed)])
        err = capsys.readouterr().err
        assert (code == 0) is allowed, (name, code, err)
        assert ("role not allowed" in err) is not allowed
    as_user(monkeypatch, "bo")  # a state move is billing work too
    code = main(["second-reads", "--set-state", "1", "ordered", "--config", str(staffed)])
    assert code != 5 and "role not allowed" not in capsys.readouterr().err


def test_a_tag_at_import_is_checked_before_anything_is_copied(staffed, monkeypatch, tmp_path):
    from kiosk.app.import_disc import import_disc
    from kiosk.app.sign_in import sign_in
    from kiosk.app.values import ImportRequest
    from kiosk.config import load_config
    from kiosk.errors import RoleNotAllowed
    from kiosk.media.model import MediaScan

    cfg = load_config(staffed)
    sign_in(cfg, "fred", "fred-secret-1")
    request = ImportRequest(study_uids=("1.2.3",), mrn="MRN1", destination="", tag="second-read",
                            reason="compare", requested_by="Dr. Grey")  # fmt: skip
    with pytest.raises(RoleNotAllowed):
        import_disc(cfg, MediaScan(tmp_path, tmp_path, False, (), (), ()), request)
    assert not (tmp_path / "spool").exists() or not any((tmp_path / "spool").iterdir())


def test_the_front_desk_may_not_list_second_reads(staffed, monkeypatch, capsys):
    """The list shows MRNs, reasons and requesters: physicians' and the back office's."""
    as_user(monkeypatch, "fred")
    assert main(["second-reads", "--json", "--config", str(staffed)]) == 5
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "role not allowed: a front-desk user may not second-read" in captured.err
    for name in ("phil", "bo", "ann"):
        as_user(monkeypatch, name, "admin-secret-1" if name == "ann" else None)
        assert main(["second-reads", "--json", "--config", str(staffed)]) == 0, name
        assert json.loads(capsys.readouterr().out) == {"second_reads": []}


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("Ann", "looks like the existing user 'ann'"),
        ("ANN", "looks like the existing user 'ann'"),
        ("\uff41\uff4e\uff4e", "looks like the existing user 'ann'"),  # fullwidth
        ("\u0430nn", "mixes Cyrillic and Latin letters"),  # a Cyrillic a
        ("\u03a9mega", "mixes Greek and Latin letters"),
    ],
)
def test_a_user_name_that_looks_like_another_is_refused(staffed, monkeypatch, capsys, name, says):
    as_user(monkeypatch, "ann", "admin-secret-1")
    assert add_user(staffed, name, "front-desk", "long-enough-1", monkeypatch) == 2
    err = capsys.readouterr().err
    assert says in err and err.count("\n") == 1
    conn = sqlite3.connect(staffed.parent / "kiosk.sqlite3")
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 4
    conn.close()
    anna = "\u0410\u043d\u043d\u0430"  # a name in one of those alphabets alone is a name
    assert add_user(staffed, anna, "physician", "long-enough-1", monkeypatch) == 0


def test_a_password_of_blanks_is_refused(config, monkeypatch, capsys):
    assert add_user(config, "ann", "admin", " " * 8, monkeypatch) == 2
    assert "only blanks" in capsys.readouterr().err
    assert add_user(config, "ann", "admin", " \t " * 4, monkeypatch) == 2


def test_a_password_is_the_same_typed_composed_or_decomposed(staffed, monkeypatch, capsys):
    import unicodedata

    composed = unicodedata.normalize("NFC", "p\u00e4ssw\u00f6rd-1")
    as_user(monkeypatch, "ann", "admin-secret-1")
    assert add_user(staffed, "doc", "physician", composed, monkeypatch) == 0
    for typed in (unicodedata.normalize("NFD", composed), composed):
        as_user(monkeypatch, "doc", typed)
        assert main(["second-reads", "--config", str(staffed)]) == 0, ascii(typed)
    capsys.readouterr()


def test_a_hash_made_from_a_decomposed_password_still_signs_in(staffed, monkeypatch, capsys):
    """A kiosk of before hashed the password as typed; that hash keeps working, both ways."""
    import unicodedata

    from argon2 import PasswordHasher

    decomposed = unicodedata.normalize("NFD", "p\u00e4ssw\u00f6rd-1")
    _set(
        staffed,
        "INSERT INTO users (name, role, password_hash, created_at) VALUES ('doc', 'physician',"
        f" '{PasswordHasher().hash(decomposed)}', '2026-01-01T00:00:00+00:00')",
    )
    for typed in (decomposed, unicodedata.normalize("NFC", decomposed)):
        as_user(monkeypatch, "doc", typed)
        assert main(["second-reads", "--config", str(staffed)]) == 0, ascii(typed)
    capsys.readouterr()


def test_a_signed_in_user_acts_with_the_role_the_store_gives_now(staffed, tmp_path):
    """The window's session kept the role of its sign-in: a user made front desk, or disabled,
    went on reconciling until they signed out (red team round 13)."""
    from kiosk.app.sign_in import sign_in
    from kiosk.config import load_config
    from kiosk.errors import RoleNotAllowed, SignInError

    cfg = load_config(staffed)
    sign_in(cfg, "bo", "bo-secret-1")
    try:
        with db.opened(cfg.database_path) as conn:
            assert access.require(conn, Action.RECONCILE).user == "bo"
            with conn:
                conn.execute("UPDATE users SET role = 'front-desk' WHERE name = 'bo'")
            with pytest.raises(RoleNotAllowed, match="a front-desk user may not reconcile"):
                access.require(conn, Action.RECONCILE)
            with conn:
                conn.execute(
                    "UPDATE users SET role = 'back-office', disabled = 1 WHERE name = 'bo'"
                )
            with pytest.raises(SignInError, match="bo was disabled or removed since signing in"):
                access.require(conn, Action.RECONCILE)
            last = conn.execute(
                "SELECT user, action, outcome FROM audit ORDER BY id DESC"
            ).fetchone()
            assert tuple(last) == ("bo", "reconcile", "refused")
    finally:
        access.sign_out()


def test_an_admin_changes_a_role_disables_and_enables_a_user(staffed, monkeypatch, capsys):
    """IT had to edit the database to take a right away (red team round 13): kiosk users role,
    disable and enable do it, audited, and never leave the station without an enabled admin."""
    as_user(monkeypatch, "ann", "admin-secret-1")
    common = ["--config", str(staffed), "--json"]
    assert main(["users", "role", "bo", "--role", "front-desk", *common]) == 0
    assert json.loads(capsys.readouterr().out)["role"] == "front-desk"
    assert main(["users", "disable", "phil", *common]) == 0
    assert json.loads(capsys.readouterr().out)["disabled"] is True
    assert main(["users", "disable", "ann", *common]) == 2  # the last enabled admin
    assert "last enabled admin" in capsys.readouterr().err
    assert main(["users", "role", "ann", "--role", "physician", *common]) == 2
    capsys.readouterr()
    assert main(["users", "disable", "nobody", *common]) == 2
    assert "no user nobody" in capsys.readouterr().err

    as_user(monkeypatch, "phil")
    assert main(["second-reads", *common]) == 5  # disabled: no sign-in
    as_user(monkeypatch, "bo")
    assert main(["reconcile", "1.2.3", "--accession", "A", *common]) == 5  # front desk now
    assert "role not allowed" in capsys.readouterr().err
    assert main(["users", "enable", "phil", *common]) == 5  # only an admin manages users
    capsys.readouterr()

    as_user(monkeypatch, "ann", "admin-secret-1")
    assert main(["users", "enable", "phil", *common]) == 0
    assert json.loads(capsys.readouterr().out)["disabled"] is False
    with db.opened(Path(str(staffed)).parent / "kiosk.sqlite3") as conn:
        changes = conn.execute(
            "SELECT user, detail FROM audit WHERE action = 'user-change' ORDER BY id"
        ).fetchall()
    assert [tuple(c) for c in changes] == [
        ("ann", "user bo: role back-office -> front-desk"),
        ("ann", "user phil: disabled"),
        ("ann", "user phil: enabled"),
    ]
