"""Tests of ``kiosk/media/spool.py``: checksummed copies into the spool."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
import xxhash

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

    expected = "xxh3-128:" + xxhash.xxh3_128(data).hexdigest()
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
    assert result.digest == "xxh3-128:" + xxhash.xxh3_128(data).hexdigest()
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
