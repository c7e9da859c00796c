"""Hostile drop-folder entries for the media watcher and ``kiosk watch`` (the red team's
round 4, ``r4_watch.py``).

- A folder 1,100 levels deep killed watchdog's (recursive) inotify thread with a
  ``RecursionError`` traceback, after which nothing dropped was seen, and made the
  signature walk (``os.walk``, recursive) raise ``RecursionError``: exit 7.
- A symbolic link in the drop folder was followed: a link to ``/usr`` was reported as a
  medium (a folder outside the drop folder), a link to ``/`` walked the whole file system
  on every look and ``kiosk watch`` overran its ``--timeout``.

Now a deep entry and a link are refused (one warning each in the log), never walked past
the bound nor followed, and the watcher goes on reporting the other entries.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.media import iso as iso_module
from kiosk.media import watch as watch_module
from kiosk.media.watch import MediaWatcher

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX links and FIFOs")

LEVELS = 1_100
"""Deeper than Python's recursion limit (1,000)."""


@pytest.fixture(autouse=True)
def no_deep_tree_left(tmp_path: Path) -> Iterator[None]:
    """Remove the test's folder: a deep tree left in it would make pytest's own clean-up
    of old test folders (``shutil.rmtree``) fail with ``RecursionError``."""
    yield
    iso_module.remove_tree(tmp_path)


def deep_folder(top: Path, levels: int = LEVELS) -> Path:
    top.mkdir()
    folder = top
    for _ in range(levels):
        folder = folder / "d"
        folder.mkdir()
    (folder / "IM1").write_bytes(b"x" * 10)
    return top


def disc_folder(top: Path) -> Path:
    (top / "DICOM").mkdir(parents=True)
    (top / "DICOM" / "IM1").write_bytes(b"x" * 10)
    return top


def events(watcher: MediaWatcher) -> list[tuple[str, str]]:
    return [(e.kind.value, str(e.medium.mountpoint)) for e in watcher.poll()]


def poll_for(watcher: MediaWatcher, seconds: float, wanted: int = 0) -> list[tuple[str, str]]:
    """The events of ``seconds`` of polling (every 20 ms), or of 0.3 s more once ``wanted``
    events came (so that one too many is seen, without waiting on a busy machine)."""
    got: list[tuple[str, str]] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        got += events(watcher)
        if wanted and len(got) >= wanted:
            end = min(end, time.monotonic() + 0.3)
            wanted = 0
        time.sleep(0.02)
    return got


def refusals(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "kiosk.media.watch" and r.levelno == logging.WARNING
    ]


@pytest.mark.parametrize("full_check", [60.0, 0.2], ids=["by-events", "by-full-looks"])
def test_a_folder_deeper_than_the_bound_is_refused_and_others_still_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, full_check: float
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    deep = deep_folder(tmp_path / "deep")
    watcher = MediaWatcher(mounts=lambda: [], drop_folder=drop, settle=0.1, full_check=full_check)
    try:
        assert events(watcher) == []
        os.rename(deep, drop / "deepdisc")  # a whole tree at once, as a move does
        assert poll_for(watcher, 0.8) == []
        assert watcher.drop is not None and watcher.drop.observer is not None
        assert watcher.drop.observer.is_alive()  # watchdog's thread did not die
        # An ordinary disc dropped after it is still seen, and soon (by its event).
        os.rename(disc_folder(tmp_path / "disc2"), drop / "disc2")
        assert poll_for(watcher, 5.0, 1) == [("inserted", str(drop / "disc2"))]
    finally:
        watcher.close()
    [refused] = refusals(caplog)  # once, however many looks
    assert refused == (
        f"drop folder entry {drop / 'deepdisc'} refused: it nests folders more than "
        f"{watch_module.MAX_DEPTH} levels deep: not a disc (damaged or made to hurt)"
    )


def test_links_and_fifos_in_the_drop_folder_are_not_media(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    outside = disc_folder(tmp_path / "outside")
    (drop / "outside-link").symlink_to(outside, target_is_directory=True)
    (drop / "root-link").symlink_to("/", target_is_directory=True)
    (drop / "image.iso").symlink_to(tmp_path / "no-such.iso")
    os.mkfifo(drop / "fifo.iso")
    disc_folder(drop / "disc")
    watcher = MediaWatcher(mounts=lambda: [], drop_folder=drop, settle=0.1, full_check=0.2)
    try:
        assert poll_for(watcher, 5.0, 1) == [("inserted", str(drop / "disc"))]
        # A medium replaced by a link to a folder outside: gone, and the link is no medium.
        os.rename(drop / "disc", tmp_path / "disc-away")
        (drop / "disc").symlink_to(tmp_path / "disc-away", target_is_directory=True)
        assert poll_for(watcher, 5.0, 1) == [("removed", str(drop / "disc"))]
    finally:
        watcher.close()
    assert sorted(refusals(caplog)) == [
        f"drop folder entry {drop / 'disc'} refused: a symbolic link to "
        f"{tmp_path / 'disc-away'}: not followed, not a medium",
        f"drop folder entry {drop / 'fifo.iso'} refused: not a regular file: not opened, "
        "not a medium",
        f"drop folder entry {drop / 'image.iso'} refused: a symbolic link to "
        f"{tmp_path / 'no-such.iso'}: not followed, not a medium",
        f"drop folder entry {drop / 'outside-link'} refused: a symbolic link to {outside}: "
        "not followed, not a medium",
        f"drop folder entry {drop / 'root-link'} refused: a symbolic link to /: "
        "not followed, not a medium",
    ]


def test_the_signature_walk_follows_no_link_and_stops_at_the_bound(tmp_path: Path) -> None:
    disc = disc_folder(tmp_path / "disc")
    before = watch_module._signature(disc)
    (disc / "DICOM" / "root").symlink_to("/", target_is_directory=True)
    entries, size, _newest, folders = watch_module._signature(disc)
    assert (entries, folders) == (before[0] + 1, before[3])  # the link itself, not /
    assert size < 1000
    with pytest.raises(watch_module._Refused):
        watch_module._signature(deep_folder(tmp_path / "deep"))
    # Exactly at the bound is still a medium.
    at_bound = deep_folder(tmp_path / "at-bound", watch_module.MAX_DEPTH)
    assert watch_module._signature(at_bound)[3] == watch_module.MAX_DEPTH


def test_a_rename_inside_an_entry_is_a_change(tmp_path: Path) -> None:
    """A copy's last step (``IM1.part`` renamed ``IM1``) changes no file's size nor mtime."""
    disc = disc_folder(tmp_path / "disc")
    (disc / "DICOM" / "IM2.part").write_bytes(b"y" * 10)
    before = watch_module._signature(disc)
    time.sleep(0.01)
    os.rename(disc / "DICOM" / "IM2.part", disc / "DICOM" / "IM2")
    assert watch_module._signature(disc) != before


# --- kiosk watch ---------------------------------------------------------------------------


def kiosk_watch(tmp_path: Path, drop: Path, seconds: float) -> tuple[int, str, str, float]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1]))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / "xdg" / var.lower())
    env.pop("KIOSK_CONFIG", None)
    command = [sys.executable, "-m", "kiosk", "watch", "--json", "--drop-folder", str(drop)]
    start = time.monotonic()
    done = subprocess.run(
        [*command, "--interval", "0.1", "--timeout", str(seconds)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - start


def test_kiosk_watch_refuses_a_deep_folder_and_links_and_keeps_its_timeout(
    tmp_path: Path,
) -> None:
    """A deep folder, a link to / and one to /usr beside a disc: the disc only, on time."""
    drop = tmp_path / "drop"
    drop.mkdir()
    deep_folder(drop / "deepdisc")
    (drop / "root-link").symlink_to("/", target_is_directory=True)
    (drop / "usr-link").symlink_to("/usr", target_is_directory=True)
    disc_folder(drop / "disc")
    code, out, err, took = kiosk_watch(tmp_path, drop, 3.0)
    assert code == 0, err
    assert "Traceback" not in err
    assert took < 3.0 + 3.0, f"{took:.1f} s for --timeout 3"
    found = [json.loads(line) for line in out.splitlines()]
    assert [(e["event"], e["kind"], e["path"]) for e in found if e["kind"] == "drop"] == [
        ("inserted", "drop", str(drop / "disc"))
    ]
    lines = err.splitlines()
    assert all(line.startswith("kiosk: drop folder entry ") for line in lines), err
    assert sorted(line.split(" refused: ")[0] for line in lines) == [
        f"kiosk: drop folder entry {drop / name}" for name in ("deepdisc", "root-link", "usr-link")
    ]
