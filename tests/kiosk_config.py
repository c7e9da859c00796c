"""Write kiosk config files that point at the test's peers."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class DicomPeer(Protocol):
    """A running peer of tests/peers.py: where it listens and what it answers to."""

    ae_title: str
    host: str
    port: int


Peer = tuple[str, str, int] | DicomPeer


def _address(peer: Peer) -> tuple[str, str, int]:
    return peer if isinstance(peer, tuple) else (peer.ae_title, peer.host, peer.port)


def write_config(
    path: Path,
    *,
    worklist: Peer | None,
    destinations: dict[str, Peer],
    spool: Path,
    database: Path,
    issuer: str = "MAINHOSP",
) -> Path:
    """Write a CLI.md-style TOML config; peers are servers or (ae_title, host, port)."""
    lines = [
        "[kiosk]",
        'station = "TEST-DESK"',
        'ae_title = "KIOSK"',
        f'issuer_of_patient_id = "{issuer}"',
        "",
    ]
    if worklist is not None:
        ae, host, port = _address(worklist)
        lines += ["[worklist]", f'ae_title = "{ae}"', f'host = "{host}"', f"port = {port}", ""]
    for name, peer in destinations.items():
        ae, host, port = _address(peer)
        lines += [
            f"[destinations.{name}]",
            f'ae_title = "{ae}"',
            f'host = "{host}"',
            f"port = {port}",
            f'label = "{name.title()} PACS"',
            f'department = "{name}"',
            "",
        ]
    lines += ["[spool]", f'dir = "{spool.as_posix()}"', ""]
    lines += ["[database]", f'path = "{database.as_posix()}"', ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
