"""`kiosk --demo`: the embedded worklist and PACS, the sample disc, and a send by clicking."""

from __future__ import annotations

import pydicom
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from kiosk.demo.sample_disc import JANE_DOE
from ui.app import run, start_demo
from ui.operations import Runners
from ui.windows.main_window import MainWindow


def test_demo_disc_can_be_sent_to_the_demo_pacs_by_clicking(qtbot, tmp_path):
    session = start_demo(tmp_path / "demo")
    try:
        window = MainWindow(session.config, runners=Runners(synchronous=True))
        qtbot.addWidget(window)
        window.confirm = lambda _title, _text: True
        window.show_error = lambda message: (_ for _ in ()).throw(AssertionError(message))
        window.open_medium(session.disc)
        assert window.studies.rowCount() == 5
        assert window.selected_studies()[0].patient_id == JANE_DOE.patient_id

        qtbot.mouseClick(window.from_disc_button, Qt.MouseButton.LeftButton)
        [row] = window.candidates.rows
        candidate = row.item
        assert candidate.birth_date == JANE_DOE.birth_date
        assert candidate.mrn != JANE_DOE.patient_id
        qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
        assert window.status.text().startswith("Done: 16 images sent to Radiology PACS (demo)")

        received = session.peers.received_files("radiology")
        assert len(received) == 16
        for path in received:
            ds = pydicom.dcmread(path)
            assert ds.PatientID == candidate.mrn
            assert ds.AccessionNumber == candidate.accession_number
            assert ds.OtherPatientIDsSequence[0].PatientID == JANE_DOE.patient_id
    finally:
        session.close()
    assert not (tmp_path / "demo").exists()


def test_run_demo_opens_the_window_on_the_sample_disc(qtbot, monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    seen: dict[str, object] = {}

    def look_then_quit() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]
        if not windows or windows[0].studies.rowCount() == 0:
            QTimer.singleShot(50, look_then_quit)
            return
        seen["title"] = windows[0].windowTitle()
        seen["rows"] = windows[0].studies.rowCount()
        windows[0].close()
        windows[0].deleteLater()
        QApplication.instance().quit()

    QTimer.singleShot(50, look_then_quit)
    assert run(None, demo=True) == 0
    assert seen["rows"] == 5
    assert "DEMO" in str(seen["title"])
