"""The composition root of the desktop app: config, services, windows."""

from __future__ import annotations

import logging
import shutil
import signal
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from kiosk import paths
from kiosk.config import Config, load_config
from kiosk.errors import KioskError
from ui.windows.main_window import MainWindow
from ui.workers import TaskRunner

log = logging.getLogger(__name__)


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
    from kiosk.demo import DemoPeers, make_sample_disc

    workdir = workdir or Path(tempfile.mkdtemp(prefix="kiosk-demo-"))
    disc = make_sample_disc(workdir / "disc").root
    peers = DemoPeers(workdir)
    peers.start()
    config_path = peers.write_config(workdir / "kiosk.toml", workdir / "spool")
    with config_path.open("a", encoding="utf-8") as fh:
        db_path = (workdir / "kiosk.sqlite3").as_posix()
        fh.write(f'\n[database]\npath = "{db_path}"\n')
    return DemoSession(peers, load_config(config_path), disc, workdir)


def _quit_on_signals(app: QApplication) -> dict[int, Any]:
    """Let Ctrl+C and SIGTERM close the app cleanly; return the handlers to restore."""
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)  # wake the interpreter so it sees the signal
    timer.start(250)
    return previous


def run(config_path: Path | None, demo: bool) -> int:
    """Open the desktop app (the ``kiosk.gui`` entry point used by ``kiosk``)."""
    paths.protect_files()  # PHI at rest: what the app creates is 0600 / 0700
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Outside media import")
    session: DemoSession | None = None
    try:
        if demo:
            session = start_demo()
            config = session.config
        else:
            config = load_config(config_path)
    except KioskError as exc:
        QMessageBox.critical(None, "Cannot start", str(exc))
        return exc.exit_code
    runner = TaskRunner(parent=app)
    window = MainWindow(config, runner=runner, user="")
    window.resize(1400, 860)
    window.show()
    window.start_outbox()
    if not demo:
        window.start_watching()
    previous_handlers = _quit_on_signals(app)
    if session is not None:
        window.setWindowTitle(window.windowTitle() + " — DEMO (no hospital systems)")
        window.open_medium(session.disc)
    try:
        return int(app.exec())
    finally:
        for signum, handler in previous_handlers.items():
            signal.signal(signum, handler)
        runner.wait()
        if session is not None:
            session.close()
