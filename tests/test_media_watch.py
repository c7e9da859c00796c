"""The media watch service, ``kiosk watch``, eject commands, the ``[media]`` settings.

Real optical drives are absent here: the mount table is the one injected
seam (a function returning what is mounted); the drop folder is a real folder
with real files, watched by watchdog.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import namedtuple
from pathlib import Path

import pytest

from kiosk.config import parse_config
from kiosk.errors import ConfigError
from kiosk.media.drives import Medium, classify, mounted_media
from kiosk.media.eject import eject, eject_command
from kiosk.media.watch import EventKind, MediaWatcher, MediumEvent

CDROM = Medium(Path("/media/kiosk/OUTSIDE_DISC"), "/dev/sr0", "iso9660", True, "optical")
USB = Medium(Path("/media/kiosk/STICK"), "/dev/sdb1", "vfat", False, "usb")


def events(watcher: MediaWatcher) -> list[tuple[str, str, str]]:
    return [(e.kind.value, e.medium.kind, str(e.medium.mountpoint)) for e in watcher.poll()]


def test_mount_table_changes_become_events() -> None:
    table: list[Medium] = []
    watcher = MediaWatcher(mounts=lambda: list(table))
    assert events(watcher) == []
    table.append(CDROM)
    assert events(watcher) == [("inserted", "optical", "/media/kiosk/OUTSIDE_DISC")]
    assert events(watcher) == []
    table.append(USB)
    assert events(watcher) == [("inserted", "usb", "/media/kiosk/STICK")]
    table.remove(CDROM)
    assert events(watcher) == [("removed", "optical", "/media/kiosk/OUTSIDE_DISC")]
    # Another disc in the same drive, mounted at the same place under another device name.
    table.append(Medium(CDROM.mountpoint, "/dev/sr1", "udf", True, "optical"))
    assert events(watcher) == [("inserted", "optical", "/media/kiosk/OUTSIDE_DISC")]


def test_media_present_at_start_are_reported_once() -> None:
    watcher = MediaWatcher(mounts=lambda: [CDROM, USB])
    assert sorted(events(watcher)) == [
        ("inserted", "optical", "/media/kiosk/OUTSIDE_DISC"),
        ("inserted", "usb", "/media/kiosk/STICK"),
    ]
    assert events(watcher) == []


def wait_for(watcher: MediaWatcher, timeout: float = 10.0) -> list[tuple[str, str, str]]:
    """Poll until something happens (or ``timeout``); what happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if got := events(watcher):
            return got
        time.sleep(0.02)
    return []


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    return folder


def test_drop_folder_entry_counts_once_its_copy_has_settled(drop: Path) -> None:
    watcher = MediaWatcher(mounts=lambda: [], drop_folder=drop, settle=0.3)
    try:
        assert events(watcher) == []
        disc = drop / "patient-disc"
        (disc / "DICOM").mkdir(parents=True)
        # A copy that goes on for a while, one file every 0.1 s: never picked up half-way.
        for n in range(12):
            (disc / "DICOM" / f"I{n:07d}").write_bytes(bytes([n]) * 4096)
            assert events(watcher) == []
            time.sleep(0.1)
        copied = time.monotonic()
        assert wait_for(watcher) == [("inserted", "drop", str(disc))]
        assert time.monotonic() - copied >= 0.3
        assert events(watcher) == []
        # Reading the disc (the scan) is no change: it stays, and is not reported again.
        for path in sorted((disc / "DICOM").iterdir()):
            path.read_bytes()
        time.sleep(0.5)
        assert events(watcher) == []
        # An .iso file counts too; a plain file or a hidden folder does not.
        (drop / "notes.txt").write_text("not a medium")
        (drop / ".hidden").mkdir()
        with (drop / "disc.iso").open("wb") as fh:
            for _ in range(5):
                fh.write(b"\0" * 2048)
                fh.flush()
                time.sleep(0.1)
                assert events(watcher) == []
        assert wait_for(watcher) == [("inserted", "drop", str(drop / "disc.iso"))]
        time.sleep(0.5)
        assert events(watcher) == []
        # Taken away: gone at the next look, no settle time.
        (drop / "disc.iso").unlink()
        shutil.rmtree(disc)
        assert sorted(wait_for(watcher, timeout=1.0)) == [
            ("removed", "drop", str(drop / "disc.iso")),
            ("removed", "drop", str(disc)),
        ]
    finally:
        watcher.close()


def test_drop_folder_entries_present_at_start_count_after_the_settle_time(drop: Path) -> None:
    (drop / "a" / "DICOM").mkdir(parents=True)
    (drop / "a" / "DICOM" / "I0000001").write_bytes(b"x" * 100)
    (drop / "b.iso").write_bytes(b"\0" * 2048)
    watcher = MediaWatcher(mounts=lambda: [], drop_folder=drop, settle=0.2)
    try:
        assert events(watcher) == []  # measured once: they may still be being copied
        assert sorted(wait_for(watcher)) == [
            ("inserted", "drop", str(drop / "a")),
            ("inserted", "drop", str(drop / "b.iso")),
        ]
    finally:
        watcher.close()


def test_drop_folder_full_check_finds_what_events_missed(drop: Path) -> None:
    watcher = MediaWatcher(mounts=lambda: [], drop_folder=drop, settle=0.1, full_check=0.5)
    try:
        assert events(watcher) == []
        assert watcher.drop is not None and watcher.drop.observer is not None
        # The events stop coming (here: the watch is cut) while a disc is dropped.
        watcher.drop.observer.unschedule_all()
        (drop / "late").mkdir()
        (drop / "late" / "DICOMDIR").write_bytes(b"index")
        started = time.monotonic()
        assert wait_for(watcher) == [("inserted", "drop", str(drop / "late"))]
        assert time.monotonic() - started >= 0.4  # by the full check, not by an event
    finally:
        watcher.close()


def test_drop_folder_created_after_the_start_is_watched(tmp_path: Path) -> None:
    drop = tmp_path / "later"
    watcher = MediaWatcher(mounts=lambda: [], drop_folder=drop, settle=0.1)
    try:
        assert events(watcher) == []
        assert watcher.drop is not None and watcher.drop.observer is None
        (drop / "disc").mkdir(parents=True)
        (drop / "disc" / "DICOMDIR").write_bytes(b"index")
        assert wait_for(watcher) == [("inserted", "drop", str(drop / "disc"))]
        assert watcher.drop.observer is not None
    finally:
        watcher.close()
    # Closed for good: a look after it (a poll still under way) lists the folder, no watch.
    assert events(watcher) == []
    assert watcher.drop.observer is None
    (drop / "disc" / "DICOMDIR").unlink()
    (drop / "disc").rmdir()
    assert events(watcher) == [("removed", "drop", str(drop / "disc"))]


def test_run_delivers_events_until_stopped(tmp_path: Path) -> None:
    table = [CDROM]
    got: list[MediumEvent] = []
    stop = threading.Event()

    def on_event(event: MediumEvent) -> None:
        got.append(event)
        if event.kind is EventKind.INSERTED:
            table.clear()
        else:
            stop.set()

    watcher = MediaWatcher(mounts=lambda: list(table))
    thread = threading.Thread(target=watcher.run, args=(on_event, stop, 0.01))
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert [(e.kind.value, e.medium.device) for e in got] == [
        ("inserted", "/dev/sr0"),
        ("removed", "/dev/sr0"),
    ]
    doc = got[0].to_json()
    assert {k: doc[k] for k in ("event", "path", "device", "fstype", "kind")} == {
        "event": "inserted",
        "path": "/media/kiosk/OUTSIDE_DISC",
        "device": "/dev/sr0",
        "fstype": "iso9660",
        "kind": "optical",
    }


def _kiosk(*args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])}
    env.pop("KIOSK_CONFIG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "kiosk", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_kiosk_watch_json_prints_one_line_per_event(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    (drop / "disc-1").mkdir(parents=True)
    (drop / "disc-1" / "DICOMDIR").write_bytes(b"index")
    proc = _kiosk("watch", "--json", "--drop-folder", str(drop), "--interval", "0.05")
    proc_out = proc.stdout
    assert proc_out is not None
    try:
        first = json.loads(proc_out.readline())
        assert (first["event"], first["kind"], first["path"]) == (
            "inserted",
            "drop",
            str(drop / "disc-1"),
        )
        (drop / "disc-1" / "DICOMDIR").unlink()
        (drop / "disc-1").rmdir()
        second = json.loads(proc_out.readline())
        assert (second["event"], second["path"]) == ("removed", str(drop / "disc-1"))
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_kiosk_watch_stops_after_count(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    (drop / "a").mkdir(parents=True)
    (drop / "b.iso").write_bytes(b"\0" * 10)
    proc = _kiosk("watch", "--drop-folder", str(drop), "--interval", "0.05", "--count", "2")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert len(lines) == 2
    assert sorted(line.split(" ", 1)[1] for line in lines) == [
        f"inserted drop {drop / 'a'}",
        f"inserted drop {drop / 'b.iso'}",
    ]


def test_kiosk_watch_timeout_without_events(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    proc = _kiosk("watch", "--json", "--drop-folder", str(tmp_path / "empty"), "--timeout", "0.3")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    # The real mount table of this machine has no optical drive or USB stick.
    assert [json.loads(line)["kind"] for line in out.splitlines()] == [
        m.kind for m in mounted_media()
    ]


# --- platforms --------------------------------------------------------------------------

Part = namedtuple("Part", "device mountpoint fstype opts")


def test_classify_per_platform() -> None:
    assert classify(Part("/dev/sr0", "/media/u/DISC", "iso9660", "ro"), "linux") == "optical"
    assert classify(Part("/dev/sr0", "/media/u/DISC", "udf", "ro"), "linux") == "optical"
    assert classify(Part("/dev/vda1", "/", "ext4", "rw"), "linux") == ""
    assert classify(Part("D:\\", "D:\\", "CDFS", "ro,cdrom"), "win32") == "optical"
    assert classify(Part("E:\\", "E:\\", "FAT32", "rw,removable"), "win32") == "usb"
    assert classify(Part("C:\\", "C:\\", "NTFS", "rw,fixed"), "win32") == ""
    assert classify(Part("/dev/disk3s1", "/Volumes/DISC", "cd9660", "ro"), "darwin") == "volume"
    assert classify(Part("/dev/disk1s1", "/", "apfs", "rw"), "darwin") == ""


def test_eject_commands() -> None:
    assert eject_command(CDROM, "linux") == ["eject", "/dev/sr0"]
    mac = Medium(Path("/Volumes/DISC"), "/dev/disk3", "cd9660", True, "volume")
    assert eject_command(mac, "darwin") == ["diskutil", "eject", "/Volumes/DISC"]
    win = Medium(Path("D:\\"), "D:\\", "CDFS", True, "optical")
    command = eject_command(win, "win32")
    assert command is not None
    assert command[0] == "powershell"
    assert "ParseName('D:').InvokeVerb('Eject')" in command[-1]
    dropped = Medium(Path("/srv/drop/x"), "", "", False, "drop")
    assert eject_command(dropped, "linux") is None
    assert eject(dropped) is False


def test_eject_of_a_missing_device_fails_quietly(caplog: pytest.LogCaptureFixture) -> None:
    gone = Medium(Path("/media/none"), "/dev/no-such-drive", "iso9660", True, "optical")
    assert eject(gone) is False
    assert "eject" in caplog.text


# --- settings -----------------------------------------------------------------------------


def test_media_settings(tmp_path: Path) -> None:
    cfg = parse_config(
        {
            "media": {
                "eject_after_copy": True,
                "drop_folder": "/srv/drop",
                "poll_interval": 0.5,
                "drop_settle_seconds": 30,
            }
        },
        tmp_path / "k.toml",
    )
    assert cfg.media.eject_after_copy is True
    assert cfg.media.drop_folder == Path("/srv/drop")
    assert cfg.media.poll_interval == 0.5
    assert cfg.media.drop_settle_seconds == 30.0
    default = parse_config({}, tmp_path / "k.toml")
    assert (default.media.eject_after_copy, default.media.drop_folder) == (False, None)


@pytest.mark.parametrize(
    "table,key",
    [
        ({"eject_after_copy": "yes"}, "media.eject_after_copy"),
        ({"drop_folder": "relative/drop"}, "media.drop_folder"),
        ({"poll_interval": 0}, "media.poll_interval"),
        ({"drop_settle_seconds": 0}, "media.drop_settle_seconds"),
        ({"drop_settle_seconds": "long"}, "media.drop_settle_seconds"),
    ],
)
def test_bad_media_settings_name_file_and_key(
    tmp_path: Path, table: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config({"media": table}, tmp_path / "k.toml")
    assert str(info.value).startswith(f"{tmp_path / 'k.toml'}: [{key}] ")
    assert info.value.exit_code == 2


def test_a_drop_folder_entry_whose_copy_goes_on_after_a_pause_is_counted_again(
    drop: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Red team round 7: a copy pausing longer than the settle time was counted, and what
    came after the pause was never noticed. It is taken away and counted again."""
    from kiosk.media import watch

    monkeypatch.setattr(watch, "RECHECK_SECONDS", 0.3)
    watcher = MediaWatcher(mounts=lambda: [], drop_folder=drop, settle=0.2)
    try:
        disc = drop / "patient-disc"
        (disc / "DICOM").mkdir(parents=True)
        (disc / "DICOM" / "I0000001").write_bytes(b"a" * 4096)
        assert wait_for(watcher) == [("inserted", "drop", str(disc))]  # the pause: counted
        (disc / "DICOM" / "I0000002").write_bytes(b"b" * 4096)  # deep inside: no event
        assert wait_for(watcher, timeout=3.0) == [("removed", "drop", str(disc))]
        assert wait_for(watcher, timeout=3.0) == [("inserted", "drop", str(disc))]
        time.sleep(0.8)
        assert events(watcher) == []  # unchanged since: counted once
    finally:
        watcher.close()


def test_kiosk_watch_takes_the_settle_time_from_the_config(tmp_path: Path) -> None:
    """A site whose copies into the drop folder pause (a slow share) sets a longer one."""
    drop = tmp_path / "drop"
    (drop / "disc" / "DICOM").mkdir(parents=True)
    (drop / "disc" / "DICOM" / "I1").write_bytes(b"x" * 100)
    cfg = tmp_path / "k.toml"
    cfg.write_text(f'[media]\ndrop_folder = "{drop}"\ndrop_settle_seconds = 3\n')
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", "watch", "--config", str(cfg), "--count", "1",
         "--timeout", "20", "--json"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["event"] == "inserted"
    assert time.monotonic() - began >= 3.0
