"""Write kiosk config files that point at the test's peers."""

from __future__ import annotations

from pathlib import Path


def write_config(
    path: Path,
    *,
    worklist: tuple[str, str, int] | None,
    destinations: dict[str, tuple[str, str, int]],
    spool: Path,
    database: Path,
    issuer: str = "MAINHOSP",
) -> Path:
    """Write a CLI.md-style TOML config; peers are (ae_title, host, port)."""
    lines = [
        "[kiosk]",
        'station = "TEST-DESK"',
        'ae_title = "KIOSK"',
        f'issuer_of_patient_id = "{issuer}"',
        "",
    ]
    if worklist is not None:
        ae, host, port = worklist
        lines += ["[worklist]", f'ae_title = "{ae}"', f'host = "{host}"', f"port = {port}", ""]
    for name, (ae, host, port) in destinations.items():
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
