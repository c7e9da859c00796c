"""Take screenshots of the app on the embedded demo, for the README and docs.

Run under a (virtual) screen: ``xvfb-run -a python -m ui.screenshot docs``.
"""

from __future__ import annotations

import sys
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
        window.close()
    finally:
        session.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
