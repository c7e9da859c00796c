"""The front desk's main window, driven as a clerk would, against real peers (offscreen)."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt

from kiosk.app.find_patient import candidates_for
from kiosk.config import load_config
from kiosk.store import db
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from tests.ui.windows import make_window
from ui.operations import Runners
from ui.windows.main_window import MainWindow

JANE = ("EXT-48213", "DOE^JANE", "19700101", "F")
JOHN = ("EXT-777", "ROE^JOHN", "19551231", "M")


@pytest.fixture
def window(qtbot, tmp_path, worklist_server, storage_server):
    worklist_server.add_item(
        PatientID="MRN100234",
        IssuerOfPatientID="MAINHOSP",
        PatientName="DOE^JANE",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC20260001",
        Modality="CT",
    )
    return make_window(
        qtbot,
        tmp_path,
        worklist_server,
        {"radiology": storage_server, "cardiology": ("NOWHERE", "127.0.0.1", 9)},
    )


@pytest.fixture
def disc(tmp_path: Path):
    root = tmp_path / "disc"
    return root, write_ct_disc(root, [JANE, JOHN], per_study=3)


def test_read_disc_scan_barcode_and_send(qtbot, window, disc, storage_server):
    root, studies = disc
    window.open_medium(root)
    assert window.studies.rowCount() == 2
    assert window.disc_label.text() == "2 studies of 2 patients, 6 images"
    assert "DOE, JANE" in window.study_details.text()
    assert window.thumbnail.pixmap() is not None and not window.thumbnail.pixmap().isNull()
    assert not window.send_button.isEnabled()  # no patient chosen yet

    # The barcode scanner types the MRN and Enter.
    qtbot.keyClicks(window.scan_edit, "MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    assert window.candidates.rowCount() == 1
    assert window.selected_candidate().accession_number == "ACC20260001"
    assert window.send_button.isEnabled()
    assert window.send_button.text() == "Send 1 study to Radiology PACS"

    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    [(_title, text)] = window.questions
    assert "MRN MRN100234" in text and "accession ACC20260001" in text
    assert window.errors == []
    assert window.status.text().startswith("Done: 3 images sent to Radiology PACS")
    status_column = 0
    assert window.studies.index(0, status_column).data() == "sent to radiology"
    assert window.studies.index(1, status_column).data() == ""
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    assert {ds.SOPInstanceUID for ds in received} == set(studies[0].sop_instance_uids)
    assert {(ds.PatientID, ds.AccessionNumber) for ds in received} == {("MRN100234", "ACC20260001")}


def test_search_by_disc_name_and_birth_date(qtbot, window, disc):
    root, _ = disc
    window.open_medium(root)
    qtbot.mouseClick(window.from_disc_button, Qt.MouseButton.LeftButton)
    assert window.name_edit.text() == "DOE*"
    assert window.dob_edit.text() == "19700101"
    assert [r.item.mrn for r in window.candidates.rows] == ["MRN100234"]
    assert window.selected_candidate().mrn == "MRN100234"  # auto: unique, strong, same birth date
    assert "birth date equal" in window.candidates.rows[0].reasons


def test_mismatched_birth_date_asks_before_sending(qtbot, window, disc, storage_server):
    root, _studies = disc
    window.open_medium(root)
    window.study_view.selectRow(1)  # John, born 1955; the order is Jane's
    qtbot.keyClicks(window.scan_edit, "ACC20260001")  # an accession works too
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    assert window.candidates.rowCount() == 1
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    titles = [t for t, _ in window.questions]
    assert titles == ["Send these studies?", "The disc and the worklist disagree"]
    assert "19551231" in window.questions[1][1]
    assert len(storage_server.wait_for_files(3)) == 3  # confirmed, so it went


def test_unreachable_destination_keeps_the_study_queued(qtbot, window, disc):
    root, _ = disc
    window.open_medium(root)
    qtbot.keyClicks(window.scan_edit, "MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    window.dest_box.setCurrentIndex(window.dest_box.findData("cardiology"))
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert window.errors == []
    assert "0 of 3 images sent" in window.status.text()
    assert "stay queued" in window.status.text()
    assert [o.state for o in window.outcomes] == ["queued"]


def test_the_question_before_sending_says_the_destination_is_down(qtbot, window, disc):
    """The preflight reads the outbox too: a PACS known to be down is named before sending."""
    root, _ = disc
    window.open_medium(root)
    qtbot.keyClicks(window.scan_edit, "MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    window.dest_box.setCurrentIndex(window.dest_box.findData("cardiology"))
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert "cannot be reached" not in window.questions[0][1]  # not known to be down yet
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert "Cardiology PACS cannot be reached since " in window.questions[1][1]
    assert "sent automatically when it answers" in window.questions[1][1]


def test_worklist_down_shows_one_clear_message(qtbot, window, disc, worklist_server):
    root, _ = disc
    window.open_medium(root)
    worklist_server.stop()
    qtbot.keyClicks(window.scan_edit, "MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    [message] = window.errors
    assert message.startswith("cannot reach the worklist WLMTEST")
    assert "\n" not in message


def test_missing_disc_path_is_reported(qtbot, window, tmp_path):
    window.open_medium(tmp_path / "no-such-disc")
    [message] = window.errors
    assert "does not exist" in message
    assert window.studies.rowCount() == 0


def test_disc_problems_are_shown_in_plain_words(qtbot, window, disc):
    root, _ = disc
    (root / "DICOM" / "P0000002" / "I0000001").unlink()  # listed in the DICOMDIR, gone
    window.open_medium(root)
    text = window.problems_label.text()
    assert text.startswith("This disc has 1 problem (1 kind), e.g. an image listed on the disc")
    assert window.problems_button.isVisibleTo(window)
    qtbot.mouseClick(window.problems_button, Qt.MouseButton.LeftButton)
    assert "DICOM/P0000002/I0000001" in window.problems_box.detailedText()
    window.problems_box.close()


def test_twins_are_never_preselected(qtbot, window, disc, worklist_server):
    worklist_server.add_item(
        PatientID="MRN100235",
        PatientName="DOE^JOAN",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC20260002",
        Modality="CT",
    )
    root, _ = disc
    window.open_medium(root)
    qtbot.mouseClick(window.from_disc_button, Qt.MouseButton.LeftButton)
    # JOAN is two letters from JANE: a look-alike (a twin?), named and not offered
    assert [r.item.mrn for r in window.candidates.rows] == ["MRN100234"]
    assert window.selected_candidate() is None  # a person must pick
    assert not window.send_button.isEnabled()
    assert window.status.text().startswith(
        "1 possible patient: pick the right one (a look-alike could be this one; "
        "not proposed: MRN100235"
    )


def test_barcode_prefix_is_stripped(qtbot, window, disc, tmp_path):
    from dataclasses import replace

    window.config = replace(window.config, barcode={"strip_prefix": ["MRN:"]})
    root, _ = disc
    window.open_medium(root)
    qtbot.keyClicks(window.scan_edit, "MRN:MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    assert [r.item.mrn for r in window.candidates.rows] == ["MRN100234"]
    assert window.candidates.rows[0].score is not None  # scored against the disc patient


def test_a_disc_dropped_in_the_drop_folder_is_read(qtbot, window, tmp_path):
    from kiosk.media.watch import MediaWatcher

    drop = tmp_path / "drop"
    drop.mkdir()
    window.watcher = MediaWatcher(mounts=lambda: [], drop_folder=drop, settle=0.2)
    window.poll_media()
    assert window.scan is None
    write_ct_disc(drop / "CD1", [JANE], per_study=2)
    window.poll_media()  # seen: waits until the copy has settled
    assert window.scan is None

    for _ in range(20):  # a look every 0.3 s: settled (0.2 s, twice) after a few
        time.sleep(0.3)
        window.poll_media()
        if window.scan is not None:
            break
    assert window.scan is not None and window.studies.rowCount() == 1
    assert window.medium_box.currentData() == str(drop / "CD1")
    import shutil

    shutil.rmtree(drop / "CD1")
    window.poll_media()
    assert window.status.text().startswith("The disc was taken out.")
    window.watcher.close()


def test_test_connection_button(qtbot, window):
    qtbot.mouseClick(window.test_dest_button, Qt.MouseButton.LeftButton)
    assert window.status.text().startswith("Radiology PACS answers (")
    window.dest_box.setCurrentIndex(window.dest_box.findData("cardiology"))
    qtbot.mouseClick(window.test_dest_button, Qt.MouseButton.LeftButton)
    [message] = window.errors
    assert "NOWHERE" in message and "127.0.0.1:9" in message


def test_second_send_to_a_pacs_that_has_it_offers_missing_only(
    qtbot, tmp_path, worklist_server, orthanc_server, disc
):
    worklist_server.add_item(
        PatientID="MRN100234", PatientName="DOE^JANE", PatientBirthDate="19700101",
        PatientSex="F", AccessionNumber="ACC20260001", Modality="CT",
    )  # fmt: skip
    cfg = write_config(
        tmp_path / "orthanc.toml",
        worklist=worklist_server,
        destinations={"radiology": orthanc_server},
        spool=tmp_path / "spool2",
        database=tmp_path / "kiosk2.sqlite3",
    )
    win = MainWindow(load_config(cfg), runners=Runners(synchronous=True), user="clerk1")
    qtbot.addWidget(win)
    asked: list[tuple[str, list[str]]] = []
    win.confirm = lambda _t, _x: True
    win.show_error = lambda m: pytest.fail(m)
    win.choose = lambda title, text, options: asked.append((text, options)) or options[0]
    root, _studies = disc
    win.open_medium(root)
    qtbot.keyClicks(win.scan_edit, "MRN100234")
    qtbot.keyClick(win.scan_edit, Qt.Key.Key_Return)
    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)
    assert asked == []  # nothing there yet: a plain confirmation
    assert len(orthanc_server.instances()) == 3
    orthanc_server.delete(f"/instances/{orthanc_server.instances()[0]}")

    qtbot.mouseClick(win.send_button, Qt.MouseButton.LeftButton)
    [(text, options)] = asked
    assert "already holds this study (2 of 3 images)" in text
    assert options == ["Send only the missing images", "Send everything again"]
    assert len(orthanc_server.instances()) == 3
    assert win.status.text().startswith("Done: 3 images sent")


def test_the_app_delivers_what_an_earlier_run_left_queued(
    qtbot, tmp_path, capsys, disc, worklist_server
):
    from kiosk.cli import main
    from tests.peers import StorageServer

    root, studies = disc
    worklist_server.add_patient("M1")
    pacs = StorageServer(tmp_path / "later", ae_title="LATER")
    cfg = write_config(
        tmp_path / "outage.toml",
        worklist=worklist_server,
        destinations={"radiology": pacs},
        spool=tmp_path / "spool3",
        database=tmp_path / "kiosk3.sqlite3",
    )
    uid = studies[0].study_instance_uid
    assert main(["import", str(root), "--study", uid, "--mrn", "M1", "--config", str(cfg)]) == 6
    capsys.readouterr()  # the PACS was down: queued, the clerk went home

    win = MainWindow(load_config(cfg), runners=Runners(synchronous=True))
    qtbot.addWidget(win)
    win.deliver_pending()
    text = win.outbox_label.text()
    assert text.startswith("Outbox: 3 images waiting; ")
    assert re.search(r"; (.+) unreachable, next try \d\d:\d\d \(sent automatically", text), text
    with pacs:
        win.deliver_pending()  # back up, but its next try has not come yet
        assert len(pacs.received_files()) == 0
        with db.opened(tmp_path / "kiosk3.sqlite3") as conn:  # ... and now it has
            conn.execute("UPDATE destination_health SET next_attempt_at = ''")
        win.deliver_pending()
        assert win.outbox_label.text() == "Outbox: everything delivered"
        assert len(pacs.wait_for_files(3)) == 3


def test_a_disc_seen_before_is_recognised(qtbot, window, disc):
    root, studies = disc
    window.open_medium(root)
    qtbot.keyClicks(window.scan_edit, "MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    window.study_status.clear()  # as after a restart of the app

    window.open_medium(root)  # the patient brings the same disc again
    status = {
        s.study_instance_uid: window.studies.index(i, 0).data()
        for i, s in enumerate(window.studies.rows)
    }
    assert status[studies[0].study_instance_uid].startswith("imported ")
    assert "(sent, radiology)" in status[studies[0].study_instance_uid]
    assert status[studies[1].study_instance_uid] == ""


def test_copy_progress_in_megabytes(qtbot, window, disc):
    root, _ = disc
    window.open_medium(root)
    seen: list[str] = []
    window.status.setText = lambda text, _orig=window.status.setText: (
        seen.append(text),
        _orig(text),
    )[1]  # type: ignore[method-assign]
    qtbot.keyClicks(window.scan_edit, "MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    copying = [t for t in seen if t.startswith("Copying from the disc:")]
    assert copying and copying[-1].startswith("Copying from the disc: 0 of 0 MB")
    sending = [t for t in seen if t.startswith("Sending to ")]
    assert sending, seen
    # The last word on sending counts every image of the study, with its size.
    pattern = r"Sending to (.+): (\d+) of (\d+) images \((\d+) of (\d+) MB\).* …"
    done = re.fullmatch(pattern, sending[-1])
    assert done, sending[-1]
    assert done[1] == window.dest_box.currentText()
    assert done[2] == done[3] == str(len(window.scan.studies[0].instances))


def test_view_button_and_double_click_open_the_viewer(qtbot, window, disc):
    from ui.viewer.window import ViewerWindow

    root, _ = disc
    window.open_medium(root)
    window.study_view.selectRow(1)
    qtbot.mouseClick(window.view_button, Qt.MouseButton.LeftButton)
    viewer = window.viewers[-1]
    assert isinstance(viewer, ViewerWindow) and viewer.isVisible()
    assert viewer.image.image is not None
    assert "ROE JOHN" in viewer.image.corners[0]
    assert len(viewer.series.objects) == 3
    index = window.studies.index(0, 1)
    window.study_view.doubleClicked.emit(index)
    assert len(window.viewers) == 2
    assert "DOE JANE" in window.viewers[-1].image.corners[0]


def test_the_disc_s_report_is_added_to_the_one_chosen_study(qtbot, window, disc, storage_server):
    from kiosk.demo.sample_disc import report_pdf

    root, _ = disc

    (root / "REPORTS").mkdir()
    (root / "REPORTS" / "RPT.PDF").write_bytes(report_pdf(["outside report"]))
    window.open_medium(root)
    assert window.reports_check.isVisibleTo(window)
    assert "REPORTS/RPT.PDF" in window.reports_check.toolTip()
    qtbot.keyClicks(window.scan_edit, "MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    window.reports_check.setChecked(True)
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert window.errors == []
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(4)]
    [report] = [ds for ds in received if ds.Modality == "DOC"]
    assert (report.PatientID, report.AccessionNumber) == ("MRN100234", "ACC20260001")
    assert report.StudyInstanceUID in {
        ds.StudyInstanceUID for ds in received if ds.Modality == "CT"
    }


def test_a_look_alike_is_named_not_offered(qtbot, window, disc, worklist_server):
    worklist_server.add_item(
        PatientID="MRN100236",
        PatientName="DOE^MARGARET",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC20260003",
        Modality="CT",
    )
    root, _ = disc
    window.open_medium(root)
    qtbot.mouseClick(window.from_disc_button, Qt.MouseButton.LeftButton)
    assert [r.item.mrn for r in window.candidates.rows] == ["MRN100234"]
    assert window.selected_candidate() is None  # the sister keeps it from being automatic
    assert "not proposed: MRN100236" in window.status.text()
    # a third sister's disc: nobody offered, both sisters named with MRN and name
    sister = replace(window._chosen_study(), patient_name="DOE^MARY")
    window._show_decision(candidates_for(window.config, sister, window.scan))
    assert window.candidates.rows == []
    assert window.status.text().startswith(
        "No plausible patient on the worklist. Not proposed: MRN100234 DOE, JANE, "
        "MRN100236 DOE, MARGARET, the same family name with another given name"
    )


def test_an_image_the_disc_cannot_give_is_named_and_never_called_delivered(
    qtbot, window, tmp_path, storage_server
):
    root = tmp_path / "disc"
    write_ct_disc(root, [JANE], per_study=3)
    victim = sorted(p for p in (root / "DICOM").rglob("I*") if p.is_file())[1]
    victim.write_bytes(victim.read_bytes()[:400])  # listed in the DICOMDIR, cut to nothing
    window.open_medium(root)
    assert "1 more image listed on the disc cannot be read" in window.study_details.text()

    qtbot.keyClicks(window.scan_edit, "MRN100234")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(storage_server.received_files()) == 2, timeout=30000)
    assert window.status.text().startswith(
        "2 of 3 images sent to Radiology PACS; 1 failed or quarantined"
    )
