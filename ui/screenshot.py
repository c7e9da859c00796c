"""Take screenshots of the app on the embedded demo, for the README and docs.

Run under a (virtual) screen: ``xvfb-run -a python -m ui.screenshot docs``.
"""

from __future__ import annotations

import shutil
import socket
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtWidgets import QApplication

from kiosk.app.deliver_due import deliver_due
from kiosk.app.demo_session import DemoSession, conflict_disc, names_disc, start_demo
from kiosk.app.tagging import TagChoice
from kiosk.config import Config
from ui.operations import Runners
from ui.widgets.tag_dialog import TagDialog
from ui.windows.main_window import MainWindow
from ui.windows.sign_in import SignInScreen


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
        _viewer(window, app, out_dir)
        _select(window, "CT")  # Jane Doe's CT: the clerk picks it, then looks for her order
        window.fill_from_disc()
        app.processEvents()
        window.grab().save(str(out_dir / "screenshot-candidates.png"))
        _look_alike(window, app, out_dir)
        _select(window, "CT")
        window.fill_from_disc()
        app.processEvents()
        _tag(window, app, out_dir)
        if window.send_button.isEnabled():
            window.send_selected()
            app.processEvents()
            window.grab().save(str(out_dir / "screenshot-sent.png"))
        _back_office(window, app, out_dir)
        _cardiology_down(window, app, out_dir)
        _conflict(window, app, out_dir, session.workdir)
        _lost(window, app, out_dir, session)
        sign_in_screen(session.config, app, out_dir)
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


def _look_alike(window: MainWindow, app: QApplication, out_dir: Path) -> None:
    """Anna Kowalski's knee: her sister Ewa, born the same day, is named and not offered."""
    for row, study in enumerate(window.studies.rows):
        if study.patient_name.startswith("KOWALSKI"):
            window.study_view.selectRow(row)
            window.fill_from_disc()
            app.processEvents()
            window.grab().save(str(out_dir / "screenshot-look-alike.png"))
            return


def _viewer(window: MainWindow, app: QApplication, out_dir: Path) -> None:
    """The viewer: a CT with the abdomen preset, a frame of the echo clip, the echo's PDF report."""
    from ui.viewer.window import ViewerWindow

    def opened(modality: str) -> ViewerWindow | None:
        if not _select(window, modality):
            return None
        window.open_viewer()
        viewer = window.viewers[-1]
        assert isinstance(viewer, ViewerWindow)
        viewer.resize(1200, 800)
        app.processEvents()
        return viewer

    ct = opened("CT")
    if ct is not None:
        ct.choose_preset("Abdomen")
        ct.show_object(len(ct.series.objects) // 2)
        app.processEvents()
        ct.grab().save(str(out_dir / "screenshot-viewer-ct.png"))
        ct.close()
    echo = opened("US")
    if echo is not None:
        echo.show_frame(4)
        app.processEvents()
        echo.grab().save(str(out_dir / "screenshot-viewer-echo.png"))
        for number, series in enumerate(echo.view.series):
            if series.modality == "DOC" and series.objects:
                echo.show_series(number)
                break
        app.processEvents()
        echo.grab().save(str(out_dir / "screenshot-viewer-pdf.png"))
        echo.close()
    window.study_view.clearSelection()


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

    # A physician wants John Smith's hand X-ray read again: no order for it yet.
    office.ask_tag = lambda _what, _current: TagChoice(
        "second-read", "Dr. B. Okafor (orthopaedics)", "fracture line? second opinion"
    )
    for row, queued in enumerate(office.rows.rows):
        if "DX" in queued.record.modalities:
            office.view.selectRow(row)
            office.tag()
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
    panel = office.second_reads
    office.tabs.setCurrentWidget(panel)
    panel.filter_box.setCurrentIndex(panel.filter_box.findData("all"))
    for row, read in enumerate(panel.rows.rows):
        if read.state == "order needed":
            panel.view.selectRow(row)
    app.processEvents()
    office.grab().save(str(out_dir / "screenshot-second-reads.png"))
    office.tabs.setCurrentIndex(0)
    office.close()
    window.back_office = None


def _tag(window: MainWindow, app: QApplication, out_dir: Path) -> None:
    """The physician tags Jane Doe's CT for a second read before it is imported."""
    choice = TagChoice(
        "second-read", "Dr. A. Grey (oncology)", "compare with the staging CT of next week"
    )
    chosen = window.selected_studies()
    if not chosen:
        return
    dialog = TagDialog(
        f"1 study of DOE, JANE M: {chosen[0].study_date} {chosen[0].study_description}",
        choice,
        window,
    )
    dialog.resize(560, 280)
    dialog.show()
    app.processEvents()
    dialog.grab().save(str(out_dir / "screenshot-tag.png"))
    dialog.close()
    window.ask_tag = lambda _what, _current: choice
    window.tag_selected()
    # The Why column: Jane Doe's CT is a relevant prior for her order, her chest X-ray is not.
    why = [title for title, _ in window.studies.columns].index("Why")
    window.study_view.scrollTo(window.studies.index(0, why))
    app.processEvents()
    window.grab().save(str(out_dir / "screenshot-priors.png"))
    window.study_view.scrollTo(window.studies.index(0, 0))


def _cardiology_down(window: MainWindow, app: QApplication, out_dir: Path) -> None:
    """The echo study goes to a cardiology PACS that is down: queued, named, retried later."""
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dest = window.config.destinations["cardiology"]
    window.config.destinations["cardiology"] = replace(dest, port=port, timeout=2.0)
    try:
        _send_to_a_pacs_down(window, app, out_dir)
    finally:  # the PACS is back; the back office resends what waited (later pictures show it)
        window.config.destinations["cardiology"] = dest
        deliver_due(window.config, destination="cardiology", user="demo")
        window.deliver_pending()  # the outbox line looks again
        app.processEvents()


def _send_to_a_pacs_down(window: MainWindow, app: QApplication, out_dir: Path) -> None:
    """Send the echo to the cardiology PACS while it is down; picture the window and back office."""
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


def sign_in_screen(config: Config, app: QApplication, out_dir: Path) -> None:
    """The sign-in screen a station shows once an admin user exists (and after a lock)."""
    screen = SignInScreen(config)
    screen.resize(900, 560)
    screen.name_edit.setText("fred")
    screen.password_edit.setText("secret")
    screen.message.setText("sign-in refused: unknown user or wrong password")
    screen.show()
    app.processEvents()
    screen.grab().save(str(out_dir / "screenshot-sign-in.png"))
    screen.close()


def _conflict(window: MainWindow, app: QApplication, out_dir: Path, workdir: Path) -> None:
    """A disc that files Anna Kowalski's X-ray under John Smith's Study UID: named, not merged."""
    disc = conflict_disc(workdir / "conflict-disc")
    window.open_medium(disc)
    app.processEvents()
    window.grab().save(str(out_dir / "screenshot-conflict.png"))


def _lost(window: MainWindow, app: QApplication, out_dir: Path, session: DemoSession) -> None:
    """The demo disc with one CT image its DICOMDIR lists cut short: named, never sent."""
    disc = session.workdir / "lost-image-disc"
    shutil.copytree(session.disc, disc)
    window.open_medium(disc)
    ct = next((s for s in window.studies.rows if "CT" in s.modalities), None)
    if ct is None:
        return
    victim = disc / sorted(i.relpath for i in ct.instances)[-1]
    victim.write_bytes(victim.read_bytes()[:400])  # the disc's copy of it is damaged
    window.open_medium(disc)
    _select(window, "CT")
    app.processEvents()
    window.grab().save(str(out_dir / "screenshot-lost-image.png"))


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
