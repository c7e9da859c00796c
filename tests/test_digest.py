"""Tests of ``kiosk/digest.py``: the spool's checksums (SHA-256)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from kiosk import digest


def test_digests_are_the_sha256_of_the_bytes(tmp_path: Path) -> None:
    data = bytes(range(256)) * 9000  # over two read chunks
    path = tmp_path / "f"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert digest.of_bytes(data) == expected
    assert digest.of_file(path) == expected
    assert digest.matches(data, expected)


def test_one_changed_bit_or_byte_less_does_not_match() -> None:
    data = bytes(range(256)) * 100
    recorded = digest.of_bytes(data)
    flipped = bytearray(data)
    flipped[-1] ^= 0x80
    assert not digest.matches(bytes(flipped), recorded)
    assert not digest.matches(data[:-1], recorded)
    assert not digest.matches(data, "")  # nothing recorded: nothing matches
