"""Tests of ``kiosk/digest.py``: the spool's checksums, new and as recorded before."""

from __future__ import annotations

import hashlib
from pathlib import Path

import xxhash

from kiosk import digest


def test_new_digests_are_xxh3_128_of_the_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # over two read chunks
    path = tmp_path / "f"
    path.write_bytes(data)
    expected = "xxh3-128:" + xxhash.xxh3_128(data).hexdigest()
    assert digest.of_bytes(data) == expected
    assert digest.of_file(path) == expected
    assert digest.matches(data, expected)


def test_a_digest_recorded_as_sha256_still_checks(tmp_path: Path) -> None:
    # Spools written by earlier versions hold bare SHA-256 digests.
    data = b"an instance copied by an earlier version" * 1000
    path = tmp_path / "f"
    path.write_bytes(data)
    recorded = hashlib.sha256(data).hexdigest()
    assert digest.matches(data, recorded)
    assert digest.of_file(path, recorded) == recorded
    changed = bytearray(data)
    changed[5000] ^= 1
    assert not digest.matches(bytes(changed), recorded)


def test_one_changed_bit_or_byte_less_does_not_match() -> None:
    data = bytes(range(256)) * 100
    recorded = digest.of_bytes(data)
    flipped = bytearray(data)
    flipped[-1] ^= 0x80
    assert not digest.matches(bytes(flipped), recorded)
    assert not digest.matches(data[:-1], recorded)
    assert not digest.matches(data, "")  # nothing recorded: nothing matches
