"""The back-office window: attach an order to a study that arrived without one."""

from __future__ import annotations

from pathlib import Path

import pydicom
from PySide6.QtCore import Qt

from kiosk.cli import main
from kiosk.config import load_config
from kiosk.store import db
from kiosk.store.studies import find_studies
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from ui.operations import Runner, Runners
from ui.windows.back_office import BackOfficeWindow


def disc_and_config(tmp_path: Path, worklist, pacs, patient: tuple[str, str, str, str], n: int):
    """A disc of one CT study of ``n`` images, and a config for the worklist and the PACS."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [patient], per_study=n)
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations={"radiology": pacs},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    return disc, study, cfg


def imported_while_the_pacs_is_down(qtbot, tmp_path, capsys, worklist, pacs, n: int):
    """Import a study of ``n`` images while ``pacs`` is stopped; open the back office."""
    john = ("EXT-6", "DOE^JOHN", "19600101", "M")
    worklist.add_item(
        PatientID="MRN6",
        PatientName=john[1],
        AccessionNumber="ACC6",
        PatientBirthDate=john[2],
        PatientSex=john[3],
    )
    disc, study, cfg = disc_and_config(tmp_path, worklist, pacs, john, n)
    pacs.stop()
    args = ["import", str(disc), "--all", "--mrn", "MRN6", "--accession", "ACC6"]
    assert main([*args, "--config", str(cfg)]) == 6
    capsys.readouterr()
    window = BackOfficeWindow(load_config(cfg), Runner(synchronous=True), user="bo1")
    qtbot.addWidget(window)
    return window, study


def test_attach_order_from_the_back_office(
    qtbot, tmp_path, capsys, worklist_server, storage_server
):
    worklist_server.add_item(PatientID="MRN5", AccessionNumber="ACC5", PatientBirthDate="19700101")
    jane = ("EXT-5", "DOE^JANE", "19700101", "F")
    disc, study, cfg = disc_and_config(tmp_path, worklist_server, storage_server, jane, 2)
    cfg.write_text(cfg.read_text() + '\n[reconcile]\nunscheduled = "hold"\n')
    assert main(["import", str(disc), "--all", "--mrn", "MRN5", "--config", str(cfg)]) == 0
    capsys.readouterr()

    window = BackOfficeWindow(load_config(cfg), Runner(synchronous=True), user="bo1")
    errors: list[str] = []
    window.show_error = errors.append
    qtbot.addWidget(window)
    window.refresh()
    assert window.rows.rowCount() == 1
    assert window.rows.index(0, 3).data() == "— none —"
    assert [window.rows.index(0, c).data() for c in (4, 5, 6)] == ["2026-03-01", "CT", "CT CHEST"]
    window.view.selectRow(0)
    qtbot.keyClicks(window.accession_edit, "ACC5")
    qtbot.mouseClick(window.attach_button, Qt.MouseButton.LeftButton)
    assert errors == []
    assert "2/2 images delivered" in window.status.text()
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(2)]
    assert {ds.SOPInstanceUID for ds in received} == set(study.sop_instance_uids)
    assert {ds.AccessionNumber for ds in received} == {"ACC5"}
    assert window.rows.rowCount() == 0  # nothing without an order any more

    window.filter_box.setCurrentIndex(window.filter_box.findData("all"))
    assert window.rows.rowCount() == 1
    assert window.rows.index(0, 3).data() == "ACC5"


def test_unknown_accession_is_reported(qtbot, tmp_path, capsys, worklist_server, storage_server):
    jane = ("EXT-5", "DOE^JANE", "19700101", "F")
    disc, _, cfg = disc_and_config(tmp_path, worklist_server, storage_server, jane, 1)
    assert main(["import", str(disc), "--all", "--mrn", "MRN5", "--config", str(cfg)]) == 0
    capsys.readouterr()
    window = BackOfficeWindow(load_config(cfg), Runner(synchronous=True))
    errors: list[str] = []
    window.show_error = errors.append
    qtbot.addWidget(window)
    window.refresh()
    window.view.selectRow(0)
    qtbot.keyClicks(window.accession_edit, "NOPE")
    qtbot.keyClick(window.accession_edit, Qt.Key.Key_Return)
    assert errors == ["accession NOPE is not on the worklist; check the order number"]


def test_a_pacs_that_cannot_be_reached_is_named_and_resend_tries_at_once(
    qtbot, tmp_path, capsys, worklist_server, storage_server
):
    window, _ = imported_while_the_pacs_is_down(
        qtbot, tmp_path, capsys, worklist_server, storage_server, 2
    )
    window.filter_box.setCurrentIndex(window.filter_box.findData("undelivered"))
    assert window.rows.rowCount() == 1
    assert not window.health_label.isHidden()
    text = window.health_label.text()
    assert text.startswith("Radiology PACS cannot be reached since "), text
    assert "(1 failed attempt). The next automatic try is at " in text
    assert (
        '; "Resend everything waiting" tries at once. Last error: cannot reach the Radiology PACS'
        in text
    )

    storage_server.start()
    window.view.selectRow(0)
    qtbot.mouseClick(window.resend_button, Qt.MouseButton.LeftButton)
    assert "2/2 images delivered" in window.status.text()
    assert window.health_label.isHidden()
    assert len(storage_server.wait_for_files(2)) == 2


def test_resend_everything_waiting_after_an_outage(
    qtbot, tmp_path, capsys, worklist_server, storage_server
):
    window, study = imported_while_the_pacs_is_down(
        qtbot, tmp_path, capsys, worklist_server, storage_server, 3
    )
    qtbot.mouseClick(window.resend_all_button, Qt.MouseButton.LeftButton)  # still down
    assert window.status.text().startswith(
        "0 images delivered; 3 still waiting (Radiology PACS not reachable)."
    )
    storage_server.start()
    qtbot.mouseClick(window.resend_all_button, Qt.MouseButton.LeftButton)  # no row selected
    assert window.status.text().startswith("3 images delivered.")
    assert window.health_label.isHidden()
    received = {pydicom.dcmread(p).SOPInstanceUID for p in storage_server.wait_for_files(3)}
    assert received == set(study.sop_instance_uids)


def held_for_the_back_office(qtbot, tmp_path, capsys, worklist, pacs, *, hold: bool = True):
    """Import Jane's study (2 images) with no order under MRN5, which the worklist confirms."""
    worklist.add_patient("MRN5")  # no birth date or sex: contradicts no disc
    jane = ("EXT-5", "DOE^JANE", "19700101", "F")
    disc, study, cfg = disc_and_config(tmp_path, worklist, pacs, jane, 2)
    if hold:
        cfg.write_text(cfg.read_text() + '\n[reconcile]\nunscheduled = "hold"\n')
    assert main(["import", str(disc), "--all", "--mrn", "MRN5", "--config", str(cfg)]) == 0
    capsys.readouterr()
    window = BackOfficeWindow(load_config(cfg), Runner(synchronous=True), user="bo1")
    window.errors = []
    window.questions = []
    window.show_error = window.errors.append
    qtbot.addWidget(window)
    window.refresh()
    return window, study, cfg


def column(window: BackOfficeWindow, title: str, row: int = 0) -> str:
    titles = [t for t, _ in window.rows.columns]
    return window.rows.index(row, titles.index(title)).data()


def test_a_held_study_shows_why_and_a_mismatch_is_attached_only_after_asking(
    qtbot, tmp_path, capsys, worklist_server, storage_server
):
    window, study, _cfg = held_for_the_back_office(
        qtbot, tmp_path, capsys, worklist_server, storage_server
    )
    assert window.rows.rowCount() == 1
    assert column(window, "State") == "unscheduled (held)"
    assert column(window, "Why").startswith("no order yet; this site holds unscheduled studies")
    # The order's patient was born in 1980; the disc says 1970.
    worklist_server.add_item(
        PatientID="MRN5", AccessionNumber="ACC5", PatientBirthDate="19800101", PatientSex="F"
    )
    answers = [False, True]

    def confirm(title: str, text: str) -> bool:
        window.questions.append(text)
        return answers.pop(0)

    window.confirm = confirm
    window.view.selectRow(0)
    qtbot.keyClicks(window.accession_edit, "ACC5")
    qtbot.mouseClick(window.attach_button, Qt.MouseButton.LeftButton)
    [question] = window.questions
    assert question == (
        "The disc's birth date/sex differs from the order's patient: the disc's birth date "
        "19700101 differs from the order's patient 19800101; check the patient, then confirm "
        "the mismatch to go on. Attach anyway?"
    )
    assert window.status.text() == "Not attached: check the patient first."
    assert storage_server.received_files() == []
    assert window.errors == []

    qtbot.mouseClick(window.attach_button, Qt.MouseButton.LeftButton)  # checked: yes
    assert len(window.questions) == 2
    assert window.errors == []
    assert "2/2 images delivered" in window.status.text()
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(2)]
    assert {ds.SOPInstanceUID for ds in received} == set(study.sop_instance_uids)
    assert {(ds.PatientID, ds.AccessionNumber) for ds in received} == {("MRN5", "ACC5")}


def test_discard_asks_why_and_the_study_is_never_sent(
    qtbot, tmp_path, capsys, worklist_server, storage_server
):
    window, _ = imported_while_the_pacs_is_down(
        qtbot, tmp_path, capsys, worklist_server, storage_server, 2
    )
    errors: list[str] = []
    window.show_error = errors.append
    window.filter_box.setCurrentIndex(window.filter_box.findData("undelivered"))
    assert window.rows.rowCount() == 1
    study_id = window.rows.rows[0].record.id
    window.view.selectRow(0)
    asked: list[str] = []
    answers: list[str | None] = [None, "  ", "wrong patient's disc, returned"]

    def ask_text(title: str, text: str) -> str | None:
        asked.append(text)
        return answers.pop(0)

    window.ask_text = ask_text
    qtbot.mouseClick(window.discard_button, Qt.MouseButton.LeftButton)
    assert window.status.text() == "Not discarded."
    qtbot.mouseClick(window.discard_button, Qt.MouseButton.LeftButton)
    assert window.status.text() == "Not discarded: a reason is required."
    qtbot.mouseClick(window.discard_button, Qt.MouseButton.LeftButton)
    assert f"Study {study_id} (" in asked[0] and "will never be sent" in asked[0]
    assert window.status.text().startswith(
        f"Study {study_id} discarded (wrong patient's disc, returned); nothing more of it is sent."
    )
    assert errors == []
    assert window.rows.rowCount() == 0  # nothing undelivered any more
    window.filter_box.setCurrentIndex(window.filter_box.findData("discarded"))
    assert window.rows.rowCount() == 1
    assert column(window, "State") == "discarded"
    assert column(window, "Why") == "wrong patient's disc, returned"

    storage_server.start()  # the PACS is back: neither the back office nor the app sends it
    qtbot.mouseClick(window.resend_all_button, Qt.MouseButton.LeftButton)
    assert window.status.text().startswith("0 images delivered.")
    from ui.windows.main_window import MainWindow

    desk = MainWindow(window.config, runners=Runners(synchronous=True))
    qtbot.addWidget(desk)
    desk.deliver_pending()
    assert desk.outbox_label.text() == "Outbox: everything delivered"
    assert storage_server.received_files() == []
    with db.opened(window.config.database_path) as conn:
        assert [r.state for r in find_studies(conn)] == ["discarded"]


def test_corrections_are_listed_with_the_old_and_new_identity(
    qtbot, tmp_path, capsys, worklist_server, storage_server
):
    window, _study, _cfg = held_for_the_back_office(
        qtbot, tmp_path, capsys, worklist_server, storage_server, hold=False
    )  # sent under MRN5 without an order
    assert column(window, "State") == "sent"
    assert window.corrections.rowCount() == 0
    worklist_server.add_item(
        PatientID="MRN5", AccessionNumber="ACC5", PatientBirthDate="19700101", PatientSex="F"
    )
    window.view.selectRow(0)
    qtbot.keyClicks(window.accession_edit, "ACC5")
    qtbot.mouseClick(window.attach_button, Qt.MouseButton.LeftButton)
    assert window.errors == []
    assert "2/2 images delivered" in window.status.text()
    assert window.corrections.rowCount() == 1
    titles = [t for t, _ in window.corrections.columns]
    shown = {t: window.corrections.index(0, i).data() for i, t in enumerate(titles)}
    assert shown["Old MRN"] == "MRN5" and shown["New MRN"] == "MRN5"
    assert (shown["Old accession"], shown["New accession"]) == ("— none —", "ACC5")
    assert shown["Images"] == "2"
    assert shown["Old copy"] == "replaced (same patient)"


def test_a_study_sent_under_one_patient_moves_to_the_orders_patient_only_after_asking(
    qtbot, tmp_path, capsys, worklist_server, storage_server
):
    """The back office could not correct a wrong-patient import from the window: the order
    of another MRN was refused with the CLI's advice ('give --mrn'). Now it is asked, and a
    yes moves the study as ``kiosk reconcile --mrn`` does: new UIDs, the old copy flagged."""
    window, study, _cfg = held_for_the_back_office(
        qtbot, tmp_path, capsys, worklist_server, storage_server, hold=False
    )  # sent under MRN5 without an order
    storage_server.wait_for_files(2)
    storage_server.clear()
    worklist_server.add_item(
        PatientID="MRN7", AccessionNumber="ACC7", PatientBirthDate="19700101", PatientSex="F"
    )
    answers = [False, True]

    def confirm(title: str, text: str) -> bool:
        window.questions.append((title, text))
        return answers.pop(0)

    window.confirm = confirm
    window.view.selectRow(0)
    qtbot.keyClicks(window.accession_edit, "ACC7")
    qtbot.mouseClick(window.attach_button, Qt.MouseButton.LeftButton)
    [(title, question)] = window.questions
    assert title == "Move the study to another patient?"
    assert "MRN MRN7" in question and "MRN MRN5" in question
    assert "--mrn" not in question
    assert window.status.text() == "Not attached: the study stays with its patient."
    assert storage_server.received_files() == []
    assert window.corrections.rowCount() == 0

    qtbot.mouseClick(window.attach_button, Qt.MouseButton.LeftButton)  # asked again: yes
    assert len(window.questions) == 2
    assert window.errors == []
    assert "2/2 images delivered" in window.status.text()
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(2)]
    assert {(ds.PatientID, ds.AccessionNumber) for ds in received} == {("MRN7", "ACC7")}
    assert not {ds.SOPInstanceUID for ds in received} & set(study.sop_instance_uids)
    titles = [t for t, _ in window.corrections.columns]
    shown = {t: window.corrections.index(0, i).data() for i, t in enumerate(titles)}
    assert (shown["Old MRN"], shown["New MRN"]) == ("MRN5", "MRN7")
