"""What the window says about a study's real state: held, refused, conflicting, incomplete.

Driven as a clerk would, against real peers (DCMTK wlmscpfs and storescp,
Orthanc), offscreen, with the services doing the work.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt

from kiosk.config import load_config
from kiosk.store import db
from kiosk.store.studies import find_studies
from tests.discs import ct_instance, make_dicomdir, write_ct_disc
from tests.kiosk_config import write_config
from tests.ui.windows import make_window
from ui.operations import Runners
from ui.windows.main_window import MainWindow

JANE = ("EXT-48213", "DOE^JANE", "19700101", "F")
HOLD = '\n[reconcile]\nunscheduled = "hold"\n'


def scan_barcode(qtbot, win: MainWindow, text: str) -> None:
    qtbot.keyClicks(win.scan_edit, text)
    qtbot.keyClick(win.scan_edit, Qt.Key.Key_Return)


def jane_order(worklist) -> None:
    worklist.add_item(
        PatientID="MRN100234", PatientName="DOE^JANE", PatientBirthDate="19700101",
        PatientSex="F", AccessionNumber="ACC20260001", Modality="CT",
    )  # fmt: skip


# --- held ----------------------------------------------------------------------------------


def test_a_held_import_says_held_and_sends_nothing(
    qtbot, tmp_path, worklist_server, storage_server
):
    jane_order(worklist_server)
    win = make_window(qtbot, tmp_path, worklist_server, {"radiology": storage_server}, HOLD)
    disc = tmp_path / "disc"
    write_ct_disc(disc, [JANE], per_study=3)
    win.open_medium(disc)
    scan_barcode(qtbot, win, "MRN100234")
    win.unscheduled_check.setChecked(True)  # no order yet: this site holds such studies
    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)

    assert win.errors == []
    [outcome] = win.outcomes
    assert (outcome.state, outcome.sent) == ("unscheduled", 0)
    text = win.status.text()
    assert text.startswith(f"Held for the back office: {outcome.hold_reason}. Nothing was sent."), (
        text
    )
    assert "Done" not in text
    assert win.studies.index(0, 0).data() == "held for the back office: nothing sent"
    assert "1 study held for the back office" in win.outbox_label.text()

    win.deliver_pending()  # the outbox does not send a held study either
    assert storage_server.received_files() == []
    assert win.outbox_label.text() != "Outbox: everything delivered"
    assert "1 study held for the back office" in win.outbox_label.text()


# --- refused: the PACS holds the Study UID under another patient ---------------------------


def test_a_study_the_pacs_holds_under_another_patient_is_refused(
    qtbot, tmp_path, worklist_server, orthanc_server
):
    jane_order(worklist_server)
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=2)
    other = ct_instance(
        patient_id="MRN999", patient_name="OTHER^PAT", birth_date="19500101", sex="M",
        study_uid=study.study_instance_uid, series_uid=pydicom.uid.generate_uid(), number=1,
    )  # fmt: skip
    buffer = BytesIO()
    other.save_as(buffer, enforce_file_format=True)
    orthanc_server.request(
        "POST", "/instances", buffer.getvalue(), content_type="application/dicom"
    )
    win = make_window(qtbot, tmp_path, worklist_server, {"radiology": orthanc_server})
    asked: list[str] = []
    win.choose = lambda _title, text, options: asked.append(text) or options[1]
    win.open_medium(disc)
    scan_barcode(qtbot, win, "MRN100234")
    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)

    [question] = asked  # the clerk is told before anything is copied
    assert "holds it under MRN MRN999, not MRN100234" in question
    [outcome] = win.outcomes
    assert outcome.state == "quarantined"
    text = win.status.text()
    assert text.startswith("Refused: "), text
    assert "MRN999" in text and "nothing was sent" in text
    assert "Done" not in text
    assert win.errors == [text]  # a message box too: a person must know
    assert win.studies.index(0, 0).data() == "refused: nothing sent"
    assert len(orthanc_server.instances()) == 1  # only the other patient's image
    win.deliver_pending()
    assert len(orthanc_server.instances()) == 1
    assert "1 study refused" in win.outbox_label.text()
    assert "MRN999" in win.notice_label.text()

    win.open_back_office()  # the back office sees the study and why
    office = win.back_office
    office.filter_box.setCurrentIndex(office.filter_box.findData("attention"))
    assert office.rows.rowCount() == 1
    titles = [t for t, _ in office.rows.columns]
    shown = {t: office.rows.index(0, i).data() for i, t in enumerate(titles)}
    assert shown["State"] == "quarantined (refused)"
    assert shown["Why"] == outcome.hold_reason and "MRN999" in shown["Why"]
    office.close()


# --- one Study UID under two outside patients ----------------------------------------------

ANN = ("A-100", "ALPHA^ANN", "19600101", "F")
BOB = ("B-200", "BETA^BOB", "19700202", "M")


def write_conflict_disc(root: Path) -> tuple[str, dict[str, list[str]]]:
    """One Study Instance UID under two outside patients (2 images of Ann, 3 of Bob)."""
    uid = pydicom.uid.generate_uid()
    sops: dict[str, list[str]] = {}
    for folder, ((pid, name, dob, sex), count) in enumerate(((ANN, 2), (BOB, 3)), 1):
        series = pydicom.uid.generate_uid()
        for n in range(1, count + 1):
            ds = ct_instance(
                patient_id=pid, patient_name=name, birth_date=dob, sex=sex,
                study_uid=uid, series_uid=series, number=n, size=8,
            )  # fmt: skip
            path = root / "DICOM" / f"P{folder:07d}" / f"I{n:07d}"
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(path, enforce_file_format=True)
            sops.setdefault(pid, []).append(str(ds.SOPInstanceUID))
    make_dicomdir(root)
    return uid, sops


def test_a_study_uid_under_two_patients_is_shown_and_only_the_chosen_one_is_sent(
    qtbot, tmp_path, worklist_server, storage_server, caplog
):
    caplog.set_level(logging.DEBUG)
    worklist_server.add_item(
        PatientID="MRN200", PatientName="ALPHA^ANN", PatientBirthDate="19600101",
        PatientSex="F", AccessionNumber="ACC200", Modality="CT",
    )  # fmt: skip
    win = make_window(qtbot, tmp_path, worklist_server, {"radiology": storage_server})
    disc = tmp_path / "disc"
    uid, sops = write_conflict_disc(disc)
    win.open_medium(disc)

    assert win.studies.rowCount() == 2
    assert win.conflict_label.isVisibleTo(win)
    warning = win.conflict_label.text()
    assert uid in warning and "A-100" in warning and "B-200" in warning
    assert "ALPHA" not in warning and "BETA" not in warning  # IDs and UIDs, never names
    assert [win.studies.index(r, 0).data() for r in range(2)] == [
        "conflict: the Study UID is also another patient's"
    ] * 2

    # Both rows chosen: refused for safety, nothing copied or sent.
    win.study_view.selectAll()
    scan_barcode(qtbot, win, "MRN200")
    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)
    [message] = win.errors
    assert f"study {uid} appears under 2 patients" in message
    assert storage_server.received_files() == []

    ann = next(r for r, s in enumerate(win.studies.rows) if s.patient_id == "A-100")
    win.study_view.clearSelection()
    win.study_view.selectRow(ann)
    assert [s.patient_id for s in win.selected_studies()] == ["A-100"]
    win.candidate_view.selectRow(0)
    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)
    assert len(win.errors) == 1, win.errors
    assert win.status.text().startswith("Done: 2 images sent to Radiology PACS"), win.status.text()
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(2)]
    assert len(storage_server.received_files()) == 2
    assert {str(ds.SOPInstanceUID) for ds in received} == set(sops["A-100"])
    assert {ds.PatientID for ds in received} == {"MRN200"}
    status = {s.patient_id: win.studies.index(r, 0).data() for r, s in enumerate(win.studies.rows)}
    assert status == {
        "A-100": "sent to radiology",
        "B-200": "conflict: the Study UID is also another patient's",
    }
    for record in caplog.records:  # the logs name UIDs and IDs, never the patients
        assert "ALPHA" not in record.getMessage() and "BETA" not in record.getMessage()


def test_a_series_uid_under_two_patients_marks_both_studies_as_conflicts(
    qtbot, tmp_path, worklist_server, storage_server
):
    """Two outside patients' studies (two Study UIDs) holding one Series UID: both rows say
    so before the clerk chooses, and sending either is refused with nothing sent."""
    win = make_window(qtbot, tmp_path, worklist_server, {"radiology": storage_server})
    disc = tmp_path / "disc"
    series = pydicom.uid.generate_uid()
    for folder, (pid, name, dob, sex) in enumerate((ANN, BOB), 1):
        ds = ct_instance(
            patient_id=pid, patient_name=name, birth_date=dob, sex=sex,
            study_uid=pydicom.uid.generate_uid(), series_uid=series, number=1, size=8,
        )  # fmt: skip
        path = disc / "DICOM" / f"P{folder:07d}" / "I0000001"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
    make_dicomdir(disc)
    worklist_server.add_patient("MRN200", "ALPHA^ANN", PatientBirthDate="19600101")
    win.open_medium(disc)

    assert win.conflict_label.isVisibleTo(win)
    assert series in win.conflict_label.text()
    assert [win.studies.index(r, 0).data() for r in range(2)] == [
        "conflict: an image or series is also another patient's; held for a check"
    ] * 2
    ann = next(r for r, s in enumerate(win.studies.rows) if s.patient_id == "A-100")
    win.study_view.selectRow(ann)
    scan_barcode(qtbot, win, "MRN200")
    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)
    [message] = win.errors
    assert f"holds series {series}" in message
    assert storage_server.received_files() == []


# --- at start: the recovery sweep ----------------------------------------------------------


def crashed_import(tmp_path: Path, worklist, pacs, fault: str, n: int) -> tuple[Path, Path]:
    """A real ``kiosk import`` killed (SIGKILL, as a power cut) at ``fault``; (disc, config)."""
    disc = tmp_path / "cdrom"
    write_ct_disc(disc, [JANE], per_study=n)
    worklist.add_item(
        PatientID="MRN1", PatientName="DOE^JANE", PatientBirthDate="19700101", PatientSex="F",
        AccessionNumber="ACC1", Modality="CT",
    )  # fmt: skip
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations={"radiology": pacs},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    args = ["import", str(disc), "--all", "--mrn", "MRN1", "--accession", "ACC1"]
    died = subprocess.run(
        [sys.executable, "-m", "kiosk", *args, "--config", str(cfg)],
        env={**os.environ, "KIOSK_FAULT": fault},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert died.returncode == -signal.SIGKILL, died.stderr
    return disc, cfg


def test_an_incomplete_copy_found_at_start_is_shown_until_imported_again(
    qtbot, tmp_path, worklist_server, storage_server
):
    disc, cfg = crashed_import(tmp_path, worklist_server, storage_server, "import.copy-file:3", n=6)
    win = MainWindow(load_config(cfg), runners=Runners(synchronous=True), user="clerk1")
    qtbot.addWidget(win)
    win.confirm = lambda _t, _x: True
    win.show_error = lambda m: pytest.fail(m)
    win.deliver_pending()  # as at start: the recovery sweep, then the outbox

    assert win.notice_label.isVisibleTo(win)
    notice = win.notice_label.text()
    assert re.search(
        r"An earlier copy did not finish: study [\d.]+ \(internal id 1\): the copy from the disc "
        r"stopped after \d of 6 files; insert the disc again and import the study",
        notice,
    ), notice
    outbox_line = win.outbox_label.text()
    assert outbox_line != "Outbox: everything delivered"
    assert "1 study whose copy from the disc did not finish" in outbox_line
    win.deliver_pending()  # a minute later: still said
    assert "insert the disc again" in win.notice_label.text()
    assert storage_server.received_files() == []

    win.open_medium(disc)  # the clerk inserts the disc again and imports the study
    assert win.studies.index(0, 0).data().startswith("copy interrupted ")
    scan_barcode(qtbot, win, "ACC1")
    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)
    assert win.status.text().startswith("Done: 6 images sent"), win.status.text()
    assert len(storage_server.wait_for_files(6)) == 6
    win.deliver_pending()
    assert win.notice_label.isHidden()
    assert win.outbox_label.text() == "Outbox: everything delivered"


def test_an_import_a_crash_interrupted_is_finished_and_sent_at_start(
    qtbot, tmp_path, worklist_server, storage_server
):
    _disc, cfg = crashed_import(tmp_path, worklist_server, storage_server, "import.copied", n=3)
    config = load_config(cfg)
    with db.opened(config.database_path) as conn:
        assert [r.state for r in find_studies(conn)] == ["matched"]

    win = MainWindow(config, runners=Runners(synchronous=True), user="clerk1")
    qtbot.addWidget(win)
    win.start_outbox()
    win.outbox_timer.stop()
    assert win.recovery is not None and win.recovery.finished == [1]
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    assert {(ds.PatientID, ds.AccessionNumber) for ds in received} == {("MRN1", "ACC1")}
    assert win.outbox_label.text() == "Outbox: everything delivered"
    assert win.notice_label.isHidden()
    with db.opened(config.database_path) as conn:
        assert [r.state for r in find_studies(conn)] == ["sent"]


def test_a_new_disc_forgets_the_last_patient(qtbot, tmp_path, worklist_server, storage_server):
    jane_order(worklist_server)
    win = make_window(qtbot, tmp_path, worklist_server, {"radiology": storage_server})
    write_ct_disc(tmp_path / "disc1", [JANE], per_study=1)
    write_ct_disc(tmp_path / "disc2", [("EXT-9", "ROE^RICHARD", "19440404", "M")], per_study=1)
    win.open_medium(tmp_path / "disc1")
    scan_barcode(qtbot, win, "MRN100234")
    assert win.send_button.isEnabled()

    win.open_medium(tmp_path / "disc2")  # the next patient's disc
    assert win.candidates.rowCount() == 0
    assert win.selected_candidate() is None
    assert not win.send_button.isEnabled()
