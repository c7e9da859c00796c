"""Copying a whole medium into the spool: progress, free space, a pulled disc, resuming."""

from __future__ import annotations

import hashlib
import itertools
import json
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from kiosk.errors import SpoolError
from kiosk.media.fingerprint import disc_fingerprint, file_list
from kiosk.media.spool import (
    FILES,
    JOURNAL,
    CopyState,
    Progress,
    copy_folder_for,
    copy_medium,
    copy_state,
)
from tests.test_spool import make_file

SIZES = [1000, 0, (1 << 20) + 3, 12345, 777, 4096]


def make_medium(root: Path) -> dict[str, bytes]:
    files = {}
    for n, size in enumerate(SIZES):
        rel = f"DICOM/S{n // 3:07d}/I{n:07d}"
        files[rel] = make_file(root / rel, size, seed=n)
    (root / "DICOMDIR").write_bytes(b"DICM-ish index of the disc")
    files["DICOMDIR"] = (root / "DICOMDIR").read_bytes()
    return files


def counter() -> itertools.count[float]:
    return itertools.count(0.0, 1.0)


def test_copy_with_progress(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    files = make_medium(disc)
    rels = sorted(files)
    fp = disc_fingerprint(disc, "OUTSIDE")
    folder = copy_folder_for(tmp_path / "spool", fp)
    seen: list[Progress] = []
    ticks = counter()
    done = copy_medium(disc, rels, folder, fp, progress=seen.append, clock=lambda: next(ticks))
    assert done.state is CopyState.COMPLETE
    assert copy_state(folder) is CopyState.COMPLETE
    assert done.resumed == 0
    for rel, data in files.items():
        assert (folder / FILES / rel).read_bytes() == data
        assert done.files[rel].sha256 == hashlib.sha256(data).hexdigest()
    total = sum(len(d) for d in files.values())
    sizes = [len(files[r]) for r in rels]
    # One report before the first file, one after each file is verified; by then the next
    # file has been read (its check runs while the next one is read). One clock tick each.
    read = [0] + [sum(sizes[: min(n + 1, len(rels))]) for n in range(1, len(rels) + 1)]
    assert [(p.files_done, p.bytes_done) for p in seen] == [
        (n, read[n]) for n in range(len(rels) + 1)
    ]
    assert all(p.files_total == len(rels) and p.bytes_total == total for p in seen)
    assert [p.elapsed for p in seen] == [float(n + 1) for n in range(len(rels) + 1)]
    assert seen[0].seconds_left is None
    for n, p in enumerate(seen[1:], 1):
        done_bytes = read[n]
        expected = (total - done_bytes) / (done_bytes / (n + 1)) if done_bytes else None
        assert p.seconds_left == expected
    assert seen[-1].seconds_left == 0.0
    assert seen[-1].to_json()["seconds_left"] == 0.0
    assert not list(folder.rglob("*.part"))


def test_disc_pulled_mid_copy_then_resumed(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    files = make_medium(disc)
    rels = sorted(files)
    fp = disc_fingerprint(disc, "OUTSIDE")
    folder = copy_folder_for(tmp_path / "spool", fp)
    pulled = tmp_path / "drawer"

    def pull_after_three(p: Progress) -> None:
        if p.files_done == 3:
            disc.rename(pulled)  # the mount point is gone: the disc was taken out

    with pytest.raises(SpoolError) as info:
        copy_medium(disc, rels, folder, fp, progress=pull_after_three)
    message = str(info.value)
    # The fourth file was read in full while the third was checked: it is kept too.
    assert "4 of 7 files are safe" in message
    assert "insert the same disc again to resume" in message
    assert copy_state(folder) is CopyState.INCOMPLETE
    assert not list(folder.rglob("*.part"))
    journal = [json.loads(line) for line in (folder / JOURNAL).read_text().splitlines()]
    assert [row["path"] for row in journal] == rels[:4]
    # Whatever is in the spool so far is exact.
    for row in journal:
        assert (folder / FILES / row["path"]).read_bytes() == files[row["path"]]

    # The same disc comes back (in another drive): same fingerprint, same folder.
    pulled.rename(tmp_path / "other-drive")
    again = tmp_path / "other-drive"
    fp2 = disc_fingerprint(again, "OUTSIDE")
    assert fp2 == fp
    assert copy_folder_for(tmp_path / "spool", fp2) == folder
    seen: list[Progress] = []
    done = copy_medium(again, rels, folder, fp2, progress=seen.append)
    assert done.resumed == 4
    assert copy_state(folder) is CopyState.COMPLETE
    assert seen[0].files_done == 4
    assert seen[0].bytes_done == sum(len(files[r]) for r in rels[:4])
    for rel, data in files.items():
        assert (folder / FILES / rel).read_bytes() == data
        assert (again / rel).read_bytes() == data  # the originals are untouched


def test_a_spooled_file_changed_since_is_copied_again(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    files = make_medium(disc)
    rels = sorted(files)
    folder = tmp_path / "spool" / "x"
    copy_medium(disc, rels[:2], folder, "fp")
    (folder / FILES / rels[0]).write_bytes(b"tampered")
    with (folder / JOURNAL).open("a") as fh:
        fh.write('{"path": "torn li')  # a crash while writing the journal
    done = copy_medium(disc, rels, folder, "fp")
    assert done.resumed == 1
    assert (folder / FILES / rels[0]).read_bytes() == files[rels[0]]


def test_another_disc_is_not_resumed_into_the_folder(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    files = make_medium(disc)
    folder = tmp_path / "spool" / "x"
    with pytest.raises(SpoolError):
        copy_medium(disc, sorted(files), folder, "fp-a", progress=_fail_after_one)
    with pytest.raises(SpoolError) as info:
        copy_medium(disc, sorted(files), folder, "fp-b")
    assert "another disc" in str(info.value)
    assert copy_state(folder) is CopyState.INCOMPLETE


def _fail_after_one(p: Progress) -> None:
    if p.files_done == 1:
        raise SpoolError("stopped by the test")


def test_free_space_is_checked_before_anything_is_copied(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    make_file(disc / "A", 100)
    with (disc / "HUGE").open("wb") as fh:
        fh.truncate(shutil.disk_usage(tmp_path).free * 2 + 2**30)
    folder = tmp_path / "spool" / "x"
    with pytest.raises(SpoolError) as info:
        copy_medium(disc, ["A", "HUGE"], folder, "fp")
    assert "MB free" in str(info.value)
    assert not (folder / FILES).exists()
    assert copy_state(folder) is None


def test_paths_leaving_the_medium_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpoolError):
        copy_medium(tmp_path, ["../etc/passwd"], tmp_path / "spool", "fp")


def test_fingerprint_tells_discs_apart(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    make_medium(disc)
    base = disc_fingerprint(disc, "OUTSIDE")
    assert disc_fingerprint(disc, "OUTSIDE") == base
    assert disc_fingerprint(disc, "OTHER") != base
    copy = tmp_path / "copy"
    shutil.copytree(disc, copy)
    assert disc_fingerprint(copy, "OUTSIDE") == base  # mounted elsewhere: the same disc
    (copy / "DICOMDIR").write_bytes(b"DICM-ish index of the disd")  # same size, other content
    assert disc_fingerprint(copy, "OUTSIDE") != base
    shutil.rmtree(copy)
    shutil.copytree(disc, copy)
    (copy / "EXTRA.TXT").write_text("x")
    assert disc_fingerprint(copy, "OUTSIDE") != base
    assert [rel for rel, _ in file_list(copy)][:2] == [
        "DICOM/S0000000/I0000000",
        "DICOM/S0000000/I0000001",
    ]


def test_large_files_cross_the_chunk_buffers_exactly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The copy hashes chunks on a helper thread while it writes them, through a ring
    # of 8 buffers of 1 MiB: files of many chunks reuse every buffer several times.
    # A slow helper (here 3 ms a chunk) makes this thread wait before it reads into a
    # buffer again: were it not to, the hash would be of other bytes and the copy fail.
    import kiosk.media.spool as spool

    def slow_hash(self: spool._Chunks, slot: int, digest: Any, chunk: memoryview) -> None:
        def update() -> None:
            time.sleep(0.003)
            digest.update(chunk)

        self.busy[slot] = self.helper.submit(update)

    monkeypatch.setattr(spool._Chunks, "hash", slow_hash)
    disc = tmp_path / "disc"
    sizes = [(9 << 20) + 7, 1, 0, (3 << 20) - 1, (1 << 20), (17 << 20) + 4099]
    files = {
        f"DICOM/F{n}": make_file(disc / f"DICOM/F{n}", s, seed=50 + n) for n, s in enumerate(sizes)
    }
    rels = sorted(files)
    folder = tmp_path / "spool" / "x"
    seen: list[Progress] = []
    done = copy_medium(disc, rels, folder, "fp", progress=seen.append)
    for rel, data in files.items():
        assert (folder / FILES / rel).read_bytes() == data
        assert done.files[rel].sha256 == hashlib.sha256(data).hexdigest()
        assert done.files[rel].size == len(data)
        assert (disc / rel).read_bytes() == data
    journal = [json.loads(line) for line in (folder / JOURNAL).read_text().splitlines()]
    assert [(r["path"], r["sha256"], r["size"]) for r in journal] == [
        (rel, hashlib.sha256(files[rel]).hexdigest(), len(files[rel])) for rel in rels
    ]
    assert seen[-1].bytes_done == sum(sizes) == seen[-1].bytes_total
    assert not list(folder.rglob("*.part"))


def test_a_copy_damaged_on_the_way_is_never_marked_good(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The spool's disk returns other bytes than were written for one file: the read-back
    # check finds it, the file is neither renamed into place nor journaled.
    import kiosk.media.spool as spool

    disc = tmp_path / "disc"
    files = make_medium(disc)
    rels = sorted(files)
    damaged = rels[3]
    real_verify = spool._verify_part

    def damage_then_verify(source: Path, tmp: Path, *args: object) -> object:
        if source == disc / damaged:
            data = bytearray(tmp.read_bytes())
            data[len(data) // 2] ^= 0x01
            tmp.write_bytes(bytes(data))
        return real_verify(source, tmp, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(spool, "_verify_part", damage_then_verify)
    folder = tmp_path / "spool" / "x"
    with pytest.raises(SpoolError) as info:
        copy_medium(disc, rels, folder, "fp")
    assert "does not match the disc" in str(info.value)
    assert "3 of 7 files are safe" in str(info.value)
    journal = [json.loads(line)["path"] for line in (folder / JOURNAL).read_text().splitlines()]
    assert journal == rels[:3]
    assert not (folder / FILES / damaged).exists()
    assert not list(folder.rglob("*.part"))
    assert copy_state(folder) is CopyState.INCOMPLETE

    monkeypatch.setattr(spool, "_verify_part", real_verify)
    done = copy_medium(disc, rels, folder, "fp")
    assert done.resumed == 3
    for rel, data in files.items():
        assert (folder / FILES / rel).read_bytes() == data
