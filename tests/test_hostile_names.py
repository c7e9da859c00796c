"""Untrusted media: hostile file names and special files on a folder disc.

A name that is not UTF-8, or holds a newline or a terminal escape sequence, is
read, stored, shown (escaped) and logged without a crash under any locale;
symlinks, FIFOs and sockets are never opened or followed and each is a named
problem; an empty PatientID is a named problem. The CLI runs in child
processes, under ``LC_ALL=C`` (with UTF-8 mode off) and under the default
locale.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from kiosk import audit, paths
from kiosk.media.names import shown
from kiosk.media.problems import Problem, ProblemCode
from kiosk.store import studies
from tests.discs import ct_instance, write_ct_disc
from tests.kiosk_config import write_config
from tests.peers import WorklistServer

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file names and FIFOs")

JANE = ("EXT-1", "DOE^JANE", "19700101", "F")
RICHARD = ("EXT-2", "ROE^RICHARD", "19600505", "M")
UNDECODABLE = b"DICOM/IM\xff\xfe01"
ESCAPES = b"DICOM/IM\n\x1b[2J02"
SHOWN_UNDECODABLE = "DICOM/IM\\xff\\xfe01"
SHOWN_ESCAPES = "DICOM/IM\\n\\x1b[2J02"


def c_locale() -> dict[str, str]:
    """The environment of a kiosk on a box with the C locale and UTF-8 mode off."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONIOENCODING", "LC_CTYPE")}
    env.update(LC_ALL="C", LANG="C", PYTHONUTF8="0")
    return env


def default_locale() -> dict[str, str]:
    return dict(os.environ)


LOCALES = {"C": c_locale, "default": default_locale}


def kiosk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m kiosk`` in a child; bytes out, so the test checks the encoding itself."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        env=env,
        timeout=90,
        check=False,
    )


def as_json(out: bytes) -> dict:
    """Parse stdout as JSON after a strict UTF-8 decode (it must be valid UTF-8)."""
    return json.loads(out.decode("utf-8", "strict"))


@pytest.fixture
def hostile_disc(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder disc: a good study with a DICOMDIR, then everything hostile added after it.

    Returns the disc and the Study Instance UID of the study whose files have
    hostile names.
    """
    root = tmp_path / "disc"
    write_ct_disc(root, [JANE], per_study=2)
    base = os.fsencode(root) + b"/"
    study_uid, series_uid = generate_uid(), generate_uid()
    for n, name in enumerate((UNDECODABLE, ESCAPES), 1):
        ds = ct_instance(
            patient_id=RICHARD[0],
            patient_name=RICHARD[1],
            birth_date=RICHARD[2],
            sex=RICHARD[3],
            study_uid=study_uid,
            series_uid=series_uid,
            number=n,
        )
        with open(base + name, "wb") as fh:
            ds.save_as(fh, enforce_file_format=True)
    no_pid = ct_instance(
        patient_id="",
        patient_name="NOBODY^KNOWN",
        birth_date="19800101",
        sex="O",
        study_uid=generate_uid(),
        series_uid=generate_uid(),
        number=1,
    )
    no_pid.save_as(root / "DICOM" / "NOPID", enforce_file_format=True)
    os.symlink("/etc/passwd", root / "PASSWD")
    os.symlink("P0000001/I0000001", root / "DICOM" / "LINKIMG")
    os.symlink("DICOM", root / "LINKDIR")
    os.mkfifo(root / "PIPE")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(root / "SOCK"))
    try:
        yield root, study_uid
    finally:
        sock.close()


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_scan_json_names_every_problem(hostile_disc, locale):
    root, _ = hostile_disc
    result = kiosk("scan", str(root), "--json", env=LOCALES[locale]())
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    out = as_json(result.stdout)
    assert out["instances"] == 5  # 2 of Jane, 2 with hostile names, 1 without PatientID
    problems = {(p["code"], p["path"]) for p in out["problems"]}
    assert ("symlink-on-medium", "PASSWD") in problems
    assert ("symlink-on-medium", "DICOM/LINKIMG") in problems
    assert ("symlink-on-medium", "LINKDIR") in problems
    assert ("special-file", "PIPE") in problems
    assert ("special-file", "SOCK") in problems
    assert ("missing-patient-id", "DICOM/NOPID") in problems
    assert ("not-in-dicomdir", SHOWN_UNDECODABLE) in problems
    assert ("not-in-dicomdir", SHOWN_ESCAPES) in problems
    link = next(p for p in out["problems"] if p["path"] == "PASSWD")
    assert "/etc/passwd" in link["message"] and "not followed" in link["message"]
    assert {p["patient_id"] for p in out["patients"]} == {JANE[0], RICHARD[0], ""}
    for text in [p["path"] for p in out["problems"]] + out["non_dicom"]:
        assert text.isprintable(), text  # no control character, no surrogate


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_scan_text_is_escaped(hostile_disc, locale):
    root, _ = hostile_disc
    result = kiosk("scan", str(root), env=LOCALES[locale]())
    assert result.returncode == 0, result.stderr
    assert b"\x1b" not in result.stdout and b"\xff" not in result.stdout
    lines = result.stdout.decode("utf-8", "strict").splitlines()
    assert any(line.endswith(f"{SHOWN_ESCAPES}: image on the disc is not listed in the DICOMDIR; "
                              "it was read directly") for line in lines)  # fmt: skip
    assert any("special-file: PIPE" in line for line in lines)


def test_scan_never_opens_a_fifo(tmp_path):
    """A FIFO alone with one image: the scan ends (it would block forever on open)."""
    root = tmp_path / "disc"
    write_ct_disc(root, [JANE], per_study=1, dicomdir=False)
    os.mkfifo(root / "DICOM" / "P0000001" / "I0000009")
    result = kiosk("scan", str(root), "--json", env=default_locale())
    assert result.returncode == 0, result.stderr
    out = as_json(result.stdout)
    assert out["instances"] == 1
    assert ("special-file", "DICOM/P0000001/I0000009") in {
        (p["code"], p["path"]) for p in out["problems"]
    }


def test_import_of_a_study_with_hostile_names(tmp_path, hostile_disc, worklist_server):
    root, study_uid = hostile_disc
    worklist: WorklistServer = worklist_server
    worklist.add_patient("MRN2", RICHARD[1], PatientBirthDate=RICHARD[2], PatientSex=RICHARD[3])
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations={"radiology": ("PACS", "127.0.0.1", 9)},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    args = ["import", str(root), "--study", study_uid, "--mrn", "MRN2", "--no-send"]
    args += ["--dest", "radiology", "--config", str(cfg), "--json"]
    result = kiosk(*args, env=c_locale())
    assert result.returncode == 0, result.stderr
    [study] = as_json(result.stdout)["studies"]
    assert study["queued"] == 2

    spooled = [p for p in (tmp_path / "spool").rglob("*") if p.is_file()]
    dicom = [p for p in spooled if p.suffix == ".dcm"]
    assert all(re.fullmatch(r"\d{8}\.dcm", p.name) for p in dicom), dicom  # our id names
    assert len([p for p in dicom if p.parent.name != "coerced"]) == 2, dicom
    assert not any(b"IM" in os.fsencode(p.name) for p in spooled)  # never the disc's names

    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    conn.row_factory = sqlite3.Row
    try:
        rows = list(conn.execute("SELECT * FROM instances ORDER BY id"))
        assert {os.fsencode(studies.source_relpath(r)) for r in rows} == {UNDECODABLE, ESCAPES}
    finally:
        conn.close()

    # The same disc again, under the other locale: the rows are found, nothing is added.
    again = kiosk(*args, env=default_locale())
    assert again.returncode == 0, again.stderr
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    try:
        assert conn.execute("SELECT count(*) FROM instances").fetchone()[0] == 2
    finally:
        conn.close()

    for command in ("queue", "audit"):
        for env in (c_locale(), default_locale()):
            done = kiosk(command, "--config", str(cfg), "--json", env=env)
            assert done.returncode == 0, done.stderr
            as_json(done.stdout)

    log_file = paths.log_dir() / "kiosk.log"
    assert log_file.is_file()
    assert "Logging error" not in log_file.read_text(encoding="utf-8", errors="strict")


def test_store_keeps_the_exact_name(tmp_path):
    """A name that is not UTF-8 is stored losslessly and read back as the same str."""
    from kiosk.store import db

    name = os.fsdecode(UNDECODABLE)
    with db.opened(tmp_path / "kiosk.sqlite3") as conn:
        study_id = studies.add_study(
            conn,
            study_instance_uid="1.2.3",
            original_patient_id=RICHARD[0],
            original_issuer="",
            source=os.fsdecode(b"/media/CD\xff"),
            station="TEST",
            user="u",
            destination="radiology",
        )
        assert studies.get_study(conn, study_id).source == "/media/CD\\xff"
        for rel in (name, "DICOM/I0000001", "DICOM/\u00e9"):
            studies.add_instance(
                conn,
                study_id,
                sop_instance_uid=generate_uid(),
                sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
                transfer_syntax_uid="1.2.840.10008.1.2.1",
                source_relpath=rel,
            )
        got = [studies.source_relpath(r) for r in studies.instances_of(conn, study_id)]
        assert got == [name, "DICOM/I0000001", "DICOM/\u00e9"]
        audit.record(conn, user="u", station="s", action="copy", detail=f"cannot read {name}")
        [event] = audit.events(conn)
        assert event.detail == f"cannot read {SHOWN_UNDECODABLE}"


def test_problems_are_shown_escaped():
    """The window shows ``Problem.plain``; JSON and the terminal show path and message."""
    problem = Problem(ProblemCode.SPECIAL_FILE, os.fsdecode(ESCAPES), "a \x1b[2J FIFO")
    assert problem.path == SHOWN_ESCAPES and problem.message == "a \\x1b[2J FIFO"
    assert problem.plain.isprintable() and SHOWN_ESCAPES in problem.plain


def test_shown_escapes_what_a_terminal_would_obey():
    assert shown(os.fsdecode(ESCAPES)) == SHOWN_ESCAPES
    assert shown(os.fsdecode(UNDECODABLE)) == SHOWN_UNDECODABLE
    assert shown("M\u00fcller\u202e") == "M\u00fcller\\u202e"
    assert shown(shown(os.fsdecode(ESCAPES))) == SHOWN_ESCAPES  # escaping twice changes nothing


def test_log_file_takes_a_name_that_is_not_utf8(hostile_disc):
    """A failure quoting a name that is not UTF-8 reaches the log file (and stderr, escaped)."""
    root, _ = hostile_disc
    image = os.fsdecode(os.fsencode(root) + b"/" + UNDECODABLE)
    result = kiosk("scan", image, "--json", env=c_locale())
    assert result.returncode == 3
    assert result.stderr.decode("ascii").startswith("kiosk: ")  # escaped, one line
    assert f"{SHOWN_UNDECODABLE} is a file".encode() in result.stderr
    log = (paths.log_dir() / "kiosk.log").read_text(encoding="utf-8", errors="strict")
    assert "IM\\udcff\\udcfe01 is a file" in log and "Logging error" not in log
