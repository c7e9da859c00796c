"""Failures on the command line: contract exit codes, one line on stderr, traceback in the log.

Every case runs the real ``kiosk`` in a child process with the test's
isolated XDG folders (``_isolated_dirs`` of conftest.py), and checks that
stderr is exactly one ``kiosk: `` line without a traceback, and that the
traceback went to the log file ``paths.log_dir()/kiosk.log`` instead.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import errors, paths
from kiosk.errors import SpoolError
from kiosk.media.spool import Flusher
from tests.discs import ct_instance, make_dicomdir, write_ct_disc
from tests.kiosk_config import write_config

JANE = ("EXT-1", "DOE^JANE", "19700101", "F")
SMALL_DISK = 256 * 1024  # bytes: the size of the tmpfs that plays a full spool disk


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kiosk`` in a child process with this test's environment (its XDG dirs)."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def python(code: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -c code`` in a child process with this test's environment."""
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def failing_command(body: str) -> str:
    """Code that makes ``kiosk queue`` run ``body`` (a function body) and exits as main() says."""
    return (
        "import sys\n"
        "from kiosk import cli\n"
        "def command(args):\n" + textwrap.indent(textwrap.dedent(body), "    ") + "\n"
        "cli.COMMANDS['queue'] = command\n"
        "sys.exit(cli.main(['queue']))\n"
    )


def log_text() -> str:
    """The log file the child wrote (same XDG dirs as this process)."""
    log = paths.log_dir() / "kiosk.log"
    return log.read_text(encoding="utf-8") if log.exists() else ""


def assert_one_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    """Assert the exit code and that stderr is one ``kiosk: `` line; return that line."""
    assert result.returncode == code, result.stderr
    assert result.stderr.startswith("kiosk: "), result.stderr
    assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
    assert "\r" not in result.stderr and "\x1b" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr.rstrip("\n")


def assert_traceback_logged(*expected: str) -> None:
    text = log_text()
    assert "Traceback (most recent call last)" in text, text
    for part in expected:
        assert part in text, text


def test_every_error_class_has_a_contract_exit_code():
    def subclasses(cls: type[errors.KioskError]) -> Iterator[type[errors.KioskError]]:
        yield cls
        for sub in cls.__subclasses__():
            yield from subclasses(sub)

    codes = {cls.__name__: cls.exit_code for cls in subclasses(errors.KioskError)}
    assert all(2 <= code <= 7 for code in codes.values()), codes
    assert codes["LocalError"] == codes["SpoolError"] == codes["StoreError"] == 7


# (a) a full spool disk ---------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 256 KiB tmpfs (needs root, as in CI); unmounted afterwards."""
    if getattr(os, "geteuid", lambda: -1)() != 0:
        pytest.skip("mounting a small tmpfs as a full spool disk needs root")
    mountpoint = tmp_path / "small-disk"
    mountpoint.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK}", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or mounted.returncode}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], check=False, capture_output=True)


def spool_config(tmp_path: Path, spool: Path) -> Path:
    return write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={"radiology": ("PACS", "127.0.0.1", 9)},
        spool=spool,
        database=tmp_path / "kiosk.sqlite3",
    )


def disc_study(tmp_path: Path, count: int = 40, size: int = 46) -> tuple[Path, str]:
    """Write a disc of one CT study whose files are just over one 4 KiB page each
    (``count`` images of ``size`` x ``size`` pixels).

    Their size passes the importer's free-space estimate (the bytes, plus
    5 %: coercion writes no second copy) on the small disk, but each copy
    takes two pages there, so the disk fills up while the study is written:
    a real ENOSPC.
    """
    root = tmp_path / "disc"
    study_uid, series_uid = "1.2.826.0.1.3680043.10.999.1", "1.2.826.0.1.3680043.10.999.2"
    for n in range(1, count + 1):
        ds = ct_instance(
            patient_id=JANE[0],
            patient_name=JANE[1],
            birth_date=JANE[2],
            sex=JANE[3],
            study_uid=study_uid,
            series_uid=series_uid,
            number=n,
            size=size,
        )
        path = root / "DICOM" / "P0000001" / f"I{n:07d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
    make_dicomdir(root)
    return root, study_uid


def test_a_disc_larger_than_the_spool_disk_exits_7(tmp_path, small_disk):
    root = tmp_path / "disc"
    [study] = write_ct_disc(root, [JANE], per_study=100)
    assert sum(f.stat().st_size for f in root.rglob("I*")) > SMALL_DISK
    cfg = spool_config(tmp_path, small_disk / "spool")

    result = kiosk(
        "import",
        str(root),
        "--study",
        study.study_instance_uid,
        "--mrn",
        "MRN1",
        "--no-send",
        "--config",
        str(cfg),
    )

    line = assert_one_line(result, 7)
    assert "spool" in line and "free" in line, line
    assert_traceback_logged("SpoolError")


def test_the_spool_disk_filling_up_while_copying_exits_7(tmp_path, small_disk):
    root, study_uid = disc_study(tmp_path)
    sizes = [f.stat().st_size for f in root.rglob("I*")]
    assert all(4096 < s < 8192 for s in sizes)
    assert sum(sizes) * 1.05 < SMALL_DISK  # the free-space estimate lets it start
    assert len(sizes) * 8192 > SMALL_DISK  # the pages it takes do not fit
    cfg = spool_config(tmp_path, small_disk / "spool")
    args = ("import", str(root), "--study", study_uid, "--mrn", "MRN1", "--no-send")

    result = kiosk(*args, "--config", str(cfg))

    line = assert_one_line(result, 7)
    assert "No space left on device" in line and "free space" in line, line
    assert_traceback_logged("No space left on device")

    # The message's advice holds: with room on the disk, the same command finishes.
    subprocess.run(
        ["mount", "-o", "remount,size=4m", str(small_disk)], check=True, capture_output=True
    )
    again = kiosk(*args, "--config", str(cfg), "--json")
    assert again.returncode == 0, again.stderr
    [outcome] = json.loads(again.stdout)["studies"]
    assert outcome["queued"] == len(sizes)


@pytest.fixture
def failing_disk(tmp_path: Path) -> Iterator[Path]:
    """An ext4 file system whose writes fail when written back, not when made.

    Its loop device's backing file lies on a 12 MiB tmpfs while it claims
    128 MiB: a write of more than the tmpfs holds is taken into the page
    cache, and fails (ENOSPC from the loop device) when the kernel writes it
    back. Needs root and loop devices, as in CI.
    """
    if getattr(os, "geteuid", lambda: -1)() != 0 or not Path("/dev/loop-control").exists():
        pytest.skip("a disk that fails on write-back needs root and loop devices")
    backing, mountpoint = tmp_path / "backing", tmp_path / "failing-disk"
    backing.mkdir()
    mountpoint.mkdir()

    def run(*command: str) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.skip(f"cannot build the failing disk ({' '.join(command)}): {done.stderr}")
        return done.stdout.strip()

    run("mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(backing))
    loop = ""
    try:
        image = backing / "disk.img"
        with open(image, "wb") as fh:
            fh.truncate(128 << 20)
        loop = run("losetup", "-f", "--show", str(image))
        run("mkfs.ext4", "-q", "-N", "512", "-E", "nodiscard", loop)
        run("mount", "-o", "nodiscard", loop, str(mountpoint))
        try:
            yield mountpoint
        finally:
            subprocess.run(["umount", str(mountpoint)], check=False, capture_output=True)
    finally:
        if loop:
            subprocess.run(["losetup", "-d", loop], check=False, capture_output=True)
        subprocess.run(["umount", str(backing)], check=False, capture_output=True)


def test_a_batch_the_disk_failed_to_write_back_is_never_taken_for_copied(failing_disk):
    folder = failing_disk / "spool"
    folder.mkdir()
    flusher = Flusher(folder)
    small = folder / "small.dcm"
    small.write_bytes(b"x" * 4096)
    flusher.flush([small])  # what fits is written back: no error
    paths = []
    for n in range(24):  # 24 MiB: twice what the disk really holds
        path = folder / f"{n}.dcm"
        path.write_bytes(os.urandom(1 << 20))  # taken: the page cache holds it
        paths.append(path)
    with pytest.raises(SpoolError, match="spool disk"):
        flusher.flush(paths)
    with pytest.raises(SpoolError, match="spool disk"):  # the kernel said it once: we remember
        flusher.flush(paths)
    flusher.close()


def test_an_import_onto_a_disk_that_fails_on_write_back_exits_7_and_records_nothing(
    tmp_path, failing_disk
):
    root, study_uid = disc_study(tmp_path, count=60, size=512)  # 60 x 0.5 MB: 30 MB
    cfg = spool_config(tmp_path, failing_disk / "spool")
    args = ("import", str(root), "--study", study_uid, "--mrn", "MRN1")

    result = kiosk(*args, "--no-send", "--config", str(cfg))

    line = assert_one_line(result, 7)
    assert "spool disk" in line and "import again" in line, line
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    copied = conn.execute("SELECT COUNT(*) FROM instances WHERE original_digest != ''").fetchone()
    conn.close()
    assert copied == (0,)  # the batch the disk lost is not in the database
    queue = kiosk("queue", "--json", "--config", str(cfg))
    assert "incomplete" in queue.stdout or "found" in queue.stdout, queue.stdout


# (b) an unexpected exception ---------------------------------------------------

RECURSION = """
def down(n):
    return down(n + 1) + 1
return down(0)
"""

UNEXPECTED = {
    "RecursionError": RECURSION,
    "UnicodeDecodeError": "return len(b'MR\\xff\\xfe'.decode('utf-8'))",
    "MemoryError": "return len(bytearray(1 << 62))",
    "ZeroDivisionError": "return 1 // len(args.__dict__.get('nothing', ''))",
}


@pytest.mark.parametrize("name", sorted(UNEXPECTED))
def test_an_unexpected_exception_exits_7_with_one_line(name):
    result = python(failing_command(UNEXPECTED[name]))

    line = assert_one_line(result, 7)
    assert name in line
    assert str(paths.log_dir() / "kiosk.log") in line
    assert_traceback_logged(name, "in command")


def test_an_unexpected_exception_stays_off_the_terminal_even_with_v():
    code = failing_command(RECURSION).replace("main(['queue'])", "main(['queue', '-v'])")
    result = python(code)
    assert_one_line(result, 7)
    assert_traceback_logged("RecursionError")


def test_without_a_log_file_still_no_traceback(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file\n")
    env = {"XDG_STATE_HOME": str(blocker / "state")}  # the log dir cannot be made

    result = python(failing_command(RECURSION), env=env)

    line = assert_one_line(result, 7)
    assert "RecursionError" in line
    assert "no details were logged" in line


def test_a_database_error_exits_7(tmp_path):
    database = (tmp_path / "other.sqlite3").as_posix()
    body = f"""
    import sqlite3
    sqlite3.connect({database!r}).execute("CREATE TABLE t (x)").connection.close()
    conn = sqlite3.connect("file:{database}?mode=ro", uri=True)
    conn.execute("INSERT INTO t VALUES (1)")
    """
    result = python(failing_command(body))

    line = assert_one_line(result, 7)
    assert "the kiosk database" in line and "cannot be written" in line
    assert "readonly database" in line
    assert_traceback_logged("OperationalError")


def test_an_os_error_exits_7_naming_it(tmp_path):
    body = f"open({str(tmp_path)!r}, 'w')"
    result = python(failing_command(body))

    line = assert_one_line(result, 7)
    assert "IsADirectoryError" in line and str(tmp_path) in line
    assert_traceback_logged("IsADirectoryError")


def test_ctrl_c_exits_130_with_one_line():
    result = python(failing_command("raise KeyboardInterrupt"))

    assert assert_one_line(result, 130) == "kiosk: interrupted"
    assert_traceback_logged("KeyboardInterrupt")


# (c) hostile values in a message -----------------------------------------------


def test_a_path_with_a_newline_and_an_escape_prints_as_one_escaped_line(tmp_path):
    hostile = tmp_path / "disc\n\x1b[2Jkiosk: all good"

    result = kiosk("scan", str(hostile))

    line = assert_one_line(result, 3)
    assert "disc\\n\\x1b[2Jkiosk: all good" in line
    assert_traceback_logged("NoDicomError")


def test_an_unexpected_message_with_control_characters_is_escaped():
    result = python(
        failing_command("raise ValueError('PATIENT\\r\\nID\\x1b]0;owned\\x07 \\u202e')")
    )

    line = assert_one_line(result, 7)
    assert "ValueError: PATIENT\\r\\nID\\x1b]0;owned\\x07 \\u202e" in line


# (d) the database cannot be created ----------------------------------------------


def test_an_unwritable_database_folder_exits_7(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a regular file\n")
    cfg = tmp_path / "kiosk.toml"  # no [database]: the database lives under XDG_DATA_HOME
    cfg.write_text(
        '[kiosk]\nstation = "TEST-DESK"\nae_title = "KIOSK"\n\n'
        f'[spool]\ndir = "{(tmp_path / "spool").as_posix()}"\n',
        encoding="utf-8",
    )

    result = kiosk("queue", "--config", str(cfg), env={"XDG_DATA_HOME": str(blocker / "data")})

    line = assert_one_line(result, 7)
    assert "database" in line and str(blocker) in line
    assert_traceback_logged("StoreError", "NotADirectoryError")


def test_a_log_line_never_carries_a_traceback_to_the_terminal(tmp_path):
    body = """
    import logging
    try:
        raise ValueError('inner')
    except ValueError:
        logging.getLogger('kiosk.test').warning('a warning\\nwith two lines', exc_info=True)
    return 0
    """
    result = python(failing_command(body))

    assert result.returncode == 0, result.stderr
    assert result.stderr == "kiosk: a warning\\nwith two lines\n"
    assert_traceback_logged("ValueError: inner")
