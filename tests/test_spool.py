"""Tests of ``kiosk/media/spool.py``: checksummed copies into the spool."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from kiosk.errors import SpoolError
from kiosk.media.spool import (
    SpooledFile,
    check_free_space,
    copy_checksummed,
)


def make_file(path: Path, size: int, seed: int = 0) -> bytes:
    """Write ``size`` reproducible pseudo-random bytes (not a repeated pattern)."""
    out = bytearray()
    block = hashlib.sha256(f"seed-{seed}".encode()).digest()
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    data = bytes(out[:size])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    # An old modification time, so that a write to the source would show.
    os.utime(path, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    return data


@pytest.mark.parametrize("size", [0, 1, 4096, (1 << 20) + 17, 3 * (1 << 20)])
def test_copy_checksummed(tmp_path: Path, size: int) -> None:
    source = tmp_path / "disc" / "DICOM" / "I0000001"
    data = make_file(source, size, seed=size)
    before = source.stat()
    target = tmp_path / "spool" / "study" / "original" / "I0000001"

    result = copy_checksummed(source, target)

    expected = hashlib.sha256(data).hexdigest()
    assert result == SpooledFile(source=source, target=target, digest=expected, size=size)
    assert target.read_bytes() == data
    # The medium is untouched.
    after = source.stat()
    assert source.read_bytes() == data
    assert after.st_mtime_ns == before.st_mtime_ns == 1_600_000_000_000_000_000
    assert after.st_size == size
    # No temporary file is left behind.
    assert sorted(p.name for p in target.parent.iterdir()) == ["I0000001"]
    assert not list(tmp_path.rglob("*.part"))


def test_copy_replaces_a_stale_target_and_part_file(tmp_path: Path) -> None:
    source = tmp_path / "src"
    data = make_file(source, 5000, seed=1)
    target = tmp_path / "spool" / "dst"
    target.parent.mkdir()
    target.write_bytes(b"old copy from an interrupted import")
    (tmp_path / "spool" / "dst.part").write_bytes(b"half a copy")
    result = copy_checksummed(source, target)
    assert target.read_bytes() == data
    assert result.digest == hashlib.sha256(data).hexdigest()
    assert sorted(p.name for p in target.parent.iterdir()) == ["dst"]


def test_unreadable_source_is_a_spool_error_and_leaves_nothing(tmp_path: Path) -> None:
    source = tmp_path / "disc" / "GONE"
    target = tmp_path / "spool" / "GONE"
    with pytest.raises(SpoolError) as info:
        copy_checksummed(source, target)
    assert "GONE" in str(info.value)
    assert not target.exists()
    assert not list((tmp_path / "spool").iterdir())


def test_free_space_check_passes_for_small_copies(tmp_path: Path) -> None:
    folder = tmp_path / "spool" / "new"
    check_free_space(folder, 1024)
    assert folder.is_dir()  # created on the way


def test_free_space_check_refuses_a_huge_copy(tmp_path: Path) -> None:
    folder = tmp_path / "spool"
    free_mb = shutil.disk_usage(tmp_path).free // 2**20
    with pytest.raises(SpoolError) as info:
        check_free_space(folder, 10**15)
    message = str(info.value)
    assert "MB" in message
    assert f"needs {10**15 // 2**20} MB" in message
    assert str(folder) in message
    # The free space it reports is the real one (give or take other writers).
    reported = int(message.split(" has ")[1].split(" MB free")[0])
    assert abs(reported - free_mb) <= 64


def test_a_file_in_the_spool_is_replaced_whole_and_its_reader_keeps_the_old_one(
    tmp_path: Path,
) -> None:
    # A sender may be reading a spool file while the disc is imported again:
    # the new copy goes in under a temporary name and a rename, never over it.
    source = tmp_path / "disc" / "I1"
    data = make_file(source, (1 << 20) + 3, seed=3)
    target = tmp_path / "spool" / "00000001.dcm"
    target.parent.mkdir()
    old = b"the copy a sender is sending" * 1000
    target.write_bytes(old)
    with target.open("rb") as reader:
        copy_checksummed(source, target)
        assert reader.read() == old
    assert target.read_bytes() == data
    assert sorted(p.name for p in target.parent.iterdir()) == ["00000001.dcm"]


def test_a_failed_copy_never_deletes_a_file_it_did_not_write(tmp_path: Path) -> None:
    target = tmp_path / "spool" / "00000001.dcm"
    target.parent.mkdir()
    target.write_bytes(b"an earlier, good copy")
    with pytest.raises(SpoolError):
        copy_checksummed(tmp_path / "disc" / "GONE", target)  # the disc lost the file
    assert target.read_bytes() == b"an earlier, good copy"


def test_a_copy_cut_short_is_deleted(tmp_path: Path) -> None:
    # The medium fails in the middle of a file: what was written of it is not left.
    source = tmp_path / "disc" / "I1"
    make_file(source, 3 << 20, seed=4)
    target = tmp_path / "spool" / "00000001.dcm"
    calls = 0

    def failing(*args: object, **kwargs: object) -> None:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise OSError(5, "Input/output error")

    with pytest.raises(SpoolError, match="Input/output error"):
        copy_checksummed(source, target, on_bytes=failing)
    assert calls == 2
    assert not target.exists()
    assert not list((tmp_path / "spool").iterdir())
