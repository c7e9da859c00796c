"""The composition root of the desktop app: config, services, windows."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from kiosk import paths
from kiosk.app.deliver_due import commitment_service
from kiosk.app.demo_session import DemoSession, start_demo
from kiosk.config import load_config
from kiosk.errors import KioskError
from ui.operations import Runners
from ui.windows.main_window import MainWindow
from ui.windows.sign_in import Station

log = logging.getLogger(__name__)


def _quit_on_signals(app: QApplication) -> dict[int, Any]:
    """Let Ctrl+C and SIGTERM close the app cleanly; return the handlers to restore."""
    previous = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        previous[signum] = signal.signal(signum, lambda *_: app.quit())
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)  # wake the interpreter so it sees the signal
    timer.start(250)
    return previous


def _shower(fullscreen: bool) -> Callable[[QWidget], None]:
    """Show a top-level window: full screen in kiosk mode (``[kiosk] fullscreen``)."""

    def show(widget: QWidget) -> None:
        if fullscreen:
            widget.showFullScreen()
        else:
            if widget.width() < 600:
                widget.resize(900, 600)
            widget.show()
        widget.raise_()
        widget.activateWindow()

    return show


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
    runners = Runners(parent=app)
    window = MainWindow(config, runners=runners, user="")
    window.resize(1400, 860)
    station = Station(config, window, show=_shower(config.fullscreen))
    window.lock_button.clicked.connect(station.lock)
    # Storage commitment answers are heard for as long as the app runs.
    commitments = window.commitments = commitment_service(config)
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
        runners.wait()
        commitments.close()
        if session is not None:
            session.close()
