"""Take screenshots of the app on the embedded demo, for the README and docs.

Run under a (virtual) screen: ``xvfb-run -a python -m ui.screenshot docs``.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication

from kiosk.app.demo_session import DemoSession, conflict_disc, names_disc, start_demo
from ui.operations import Runners
from ui.windows.main_window import MainWindow


def main(out_dir: Path) -> int:
    """Drive the demo as a clerk would and save a picture at each step."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    session = start_demo()
    try:
        window = MainWindow(session.config, runners=Runners(synchronous=True), user="demo")
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
        _back_office(window, app, out_dir)
        _cardiology_down(window, app, out_dir)
        _conflict(window, app, out_dir, session.workdir)
        _names(window, app, out_dir, session)
        window.close()
    finally:
        session.close()
    return 0


def _select(window: MainWindow, modality: str) -> bool:
    """Select the disc's first study of a modality; False if there is none."""
    for row, study in enumerate(window.studies.rows):
        if modality in study.modalities:
            window.study_view.selectRow(row)
            return True
    return False


def _back_office(window: MainWindow, app: QApplication, out_dir: Path) -> None:
    """A study held for the back office, one sent without an order; attach, correct, discard."""
    send_policy = window.config
    # This site holds studies without an order: Jane Doe's old chest X-ray has none.
    window.config = replace(send_policy, unscheduled="hold")
    if _select(window, "CR"):
        window.unscheduled_check.setChecked(True)
        window.send_selected()
        app.processEvents()
        window.grab().save(str(out_dir / "screenshot-held.png"))
    # A site that sends them under our MRN: John Smith's X-ray goes before its order is found.
    window.config = send_policy
    if _select(window, "DX"):
        window.fill_from_disc()
        window.unscheduled_check.setChecked(True)
        if window.send_button.isEnabled():
            window.send_selected()
    window.unscheduled_check.setChecked(False)
    window.open_back_office()
    office = window.back_office
    assert office is not None
    office.resize(1400, 760)
    app.processEvents()
    office.grab().save(str(out_dir / "screenshot-back-office.png"))

    # The order is found: attach it (a correction of what was sent), and discard the old X-ray.
    office.ask_text = lambda _title, _text: "old chest X-ray, not needed (asked the patient)"
    for row, queued in enumerate(office.rows.rows):
        if "DX" in queued.record.modalities:
            office.view.selectRow(row)
            office.accession_edit.setText("ACC20260414")
            office.attach()
    for row, queued in enumerate(office.rows.rows):
        if "CR" in queued.record.modalities:
            office.view.selectRow(row)
            office.discard()
    office.filter_box.setCurrentIndex(office.filter_box.findData("all"))
    app.processEvents()
    office.grab().save(str(out_dir / "screenshot-back-office-corrections.png"))
    office.close()
    window.back_office = None


def _cardiology_down(window: MainWindow, app: QApplication, out_dir: Path) -> None:
    """The echo study goes to a cardiology PACS that is down: queued, named, retried later."""
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dest = window.config.destinations["cardiology"]
    window.config.destinations["cardiology"] = replace(dest, port=port, timeout=2.0)
    window.dest_box.setCurrentIndex(window.dest_box.findData("cardiology"))
    window.unscheduled_check.setChecked(False)
    if _select(window, "US"):
        window.fill_from_disc()
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


def _conflict(window: MainWindow, app: QApplication, out_dir: Path, workdir: Path) -> None:
    """A disc that files Anna Kowalski's X-ray under John Smith's Study UID: named, not merged."""
    disc = conflict_disc(workdir / "conflict-disc")
    window.open_medium(disc)
    app.processEvents()
    window.grab().save(str(out_dir / "screenshot-conflict.png"))


def _names(window: MainWindow, app: QApplication, out_dir: Path, session: DemoSession) -> None:
    """A disc with a Japanese and a Russian patient: every name group shown, candidates found."""
    disc = names_disc(session, session.workdir / "names-disc")
    window.open_medium(disc)
    for name, modality in (("names-japanese.png", "CT"), ("names-russian.png", "US")):
        if _select(window, modality):
            window.fill_from_disc()
        app.processEvents()
        window.grab().save(str(out_dir / name))


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")))
