"""Take screenshots of the app on the embedded demo, for the README and docs.

Run under a (virtual) screen: ``xvfb-run -a python -m ui.screenshot docs``.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication

from ui.app import start_demo
from ui.windows.main_window import MainWindow
from ui.workers import TaskRunner


def main(out_dir: Path) -> int:
    """Drive the demo as a clerk would and save a picture at each step."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = start_demo()
    try:
        window = MainWindow(session.config, runner=TaskRunner(synchronous=True), user="demo")
        window.confirm = lambda _title, _text: True
        window.resize(1400, 860)
        window.show()
        window.open_medium(session.disc)
        app.processEvents()
        out_dir.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(out_dir / "screenshot-disc.png"))
        window.fill_from_disc()
        app.processEvents()
        window.grab().save(str(out_dir / "screenshot-candidates.png"))
        if window.send_button.isEnabled():
            window.send_selected()
            app.processEvents()
            window.grab().save(str(out_dir / "screenshot-sent.png"))
        # The CR study has no order on the demo worklist: it goes to the back office.
        window.study_view.selectRow(1)
        window.unscheduled_check.setChecked(True)
        window.send_selected()
        window.open_back_office()
        app.processEvents()
        if window.back_office is not None:
            window.back_office.grab().save(str(out_dir / "screenshot-back-office.png"))
            window.back_office.close()
            window.back_office = None
        _cardiology_down(window, app, out_dir)
        window.close()
    finally:
        session.close()
    return 0


def _cardiology_down(window: MainWindow, app: QApplication, out_dir: Path) -> None:
    """The echo study goes to a cardiology PACS that is down: queued, named, retried later."""
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dest = window.config.destinations["cardiology"]
    window.config.destinations["cardiology"] = replace(dest, port=port, timeout=2.0)
    window.dest_box.setCurrentIndex(window.dest_box.findData("cardiology"))
    window.unscheduled_check.setChecked(False)
    for row, study in enumerate(window.studies.rows):
        if "US" in study.modalities:
            window.study_view.selectRow(row)
            window.fill_from_disc()
            break
    app.processEvents()
    if not window.send_button.isEnabled():
        return
    window.send_selected()
    window.deliver_pending()
    app.processEvents()
    window.grab().save(str(out_dir / "screenshot-pacs-down.png"))
    window.open_back_office()
    back_office = window.back_office
    assert back_office is not None
    back_office.filter_box.setCurrentIndex(back_office.filter_box.findData("undelivered"))
    app.processEvents()
    back_office.grab().save(str(out_dir / "screenshot-back-office-pacs-down.png"))
    back_office.close()


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
