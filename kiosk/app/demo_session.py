"""Use case: the embedded demo (peers on loopback, a sample disc, a throw-away store)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import Config, load_config


@dataclass
class DemoSession:
    """The embedded demo: peers on loopback, a sample disc, a throw-away store."""

    peers: object
    config: Config
    disc: Path
    workdir: Path

    def close(self) -> None:
        """Stop the peers and remove the demo's files."""
        stop = getattr(self.peers, "stop", None)
        if stop is not None:
            stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_demo(workdir: Path | None = None) -> DemoSession:
    """Start the demo worklist and PACS, make the sample disc, write a config for them."""
    from kiosk.demo import DemoPeers
    from kiosk.sample_disc import make_sample_disc

    workdir = workdir or Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    disc = make_sample_disc(workdir / "disc").root
    peers = DemoPeers(workdir)
    peers.start()
    config_path = peers.write_config(workdir / "kiosk.toml", workdir / "spool")
    with config_path.open("a", encoding="utf-8") as fh:
        db_path = (workdir / "kiosk.sqlite3").as_posix()
        fh.write(f'\n[database]\npath = "{db_path}"\n')
    return DemoSession(peers, load_config(config_path), disc, workdir)
