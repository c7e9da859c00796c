"""Tagging in the window, relevant priors preselected, and the back office's second reads."""

from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from kiosk.app.second_reads import list_second_reads
from kiosk.app.tagging import TagChoice
from kiosk.config import load_config
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from tests.mllp_listener import mllp_listener
from tests.ui.windows import make_window
from ui.operations import Runner
from ui.widgets.tag_dialog import TagDialog
from ui.windows.back_office import BackOfficeWindow
from ui.windows.main_window import MainWindow

JANE = ("EXT-48213", "DOE^JANE", "19700101", "F")


def _relabel(disc: Path, uid: str, description: str, date: str, body_part: str = "") -> None:
    """Give one study of a disc (written without DICOMDIR) another description and date."""
    for path in disc.rglob("I*"):
        ds = pydicom.dcmread(path)
        if ds.StudyInstanceUID == uid:
            ds.StudyDescription, ds.StudyDate = description, date
            if body_part:
                ds.BodyPartExamined = body_part
            ds.save_as(path)


@pytest.fixture
def jane_disc(tmp_path: Path):
    """Three studies of Jane: CT chest (recent), CT head (recent), CT thorax (2012)."""
    disc = tmp_path / "disc"
    studies = write_ct_disc(disc, [JANE, JANE, JANE], per_study=2, dicomdir=False)
    _relabel(disc, studies[1].study_instance_uid, "CT HEAD", "20260901")
    _relabel(disc, studies[2].study_instance_uid, "", "20120101", body_part="CHEST")
    return disc, studies


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
        RequestedProcedureDescription="CT CHEST WITH CONTRAST",
    )
    return make_window(qtbot, tmp_path, worklist_server, {"radiology": storage_server}, user="dr1")


def _column(window: MainWindow, title: str) -> int:
    return [t for t, _ in window.studies.columns].index(title)


def test_the_tag_dialog_needs_a_reason_and_for_a_second_read_the_physician(qtbot):
    dialog = TagDialog("1 study of DOE, JANE")
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert ok.isEnabled()  # "No tag" needs nothing
    dialog.tag_box.setCurrentIndex(dialog.tag_box.findData("second-read"))
    assert not ok.isEnabled() and "reason" in dialog.hint.text()
    qtbot.keyClicks(dialog.reason_edit, "compare with  the CT")
    dialog.reason_edit.appendPlainText("of next week")  # a second line
    assert not ok.isEnabled() and "requesting physician" in dialog.hint.text()
    qtbot.keyClicks(dialog.requested_edit, "Dr. House ")
    assert ok.isEnabled() and dialog.hint.text() == ""
    assert dialog.choice() == TagChoice(
        "second-read", "Dr. House", "compare with the CT of next week"
    )


def test_relevant_priors_are_preselected_with_why_and_tags_apply_at_import(
    qtbot, window, jane_disc
):
    disc, studies = jane_disc
    window.open_medium(disc)
    assert window.studies.rowCount() == 3
    qtbot.keyClicks(window.scan_edit, "ACC20260001")
    qtbot.keyClick(window.scan_edit, Qt.Key.Key_Return)
    assert window.selected_candidate() is not None

    # The chest CTs are preselected, the head CT is not; the Why column says why.
    chosen = {s.study_instance_uid for s in window.selected_studies()}
    assert chosen == {studies[0].study_instance_uid, studies[2].study_instance_uid}
    why = _column(window, "Why")
    by_uid = {s.study_instance_uid: row for row, s in enumerate(window.studies.rows)}
    chest = window.studies.index(by_uid[studies[0].study_instance_uid], why).data()
    head = window.studies.index(by_uid[studies[1].study_instance_uid], why).data()
    old = window.studies.index(by_uid[studies[2].study_instance_uid], why).data()
    assert chest.startswith("relevant: ") and "same anatomy: chest" in chest
    assert head.startswith("not preselected: ") and "other anatomy: head" in head
    assert "same anatomy: chest" in old and "years old" in old  # from BodyPartExamined

    # The physician changes the choice: only the recent chest CT, tagged for a second read.
    window.study_view.selectRow(by_uid[studies[0].study_instance_uid])
    asked = []

    def ask(what: str, current: TagChoice | None) -> TagChoice:
        asked.append((what, current))
        return TagChoice("second-read", "Dr. House", "compare with today's CT")

    window.ask_tag = ask
    qtbot.mouseClick(window.tag_button, Qt.MouseButton.LeftButton)
    assert asked and "DOE, JANE" in asked[0][0] and asked[0][1] is None
    tag = _column(window, "Tag")
    row = by_uid[studies[0].study_instance_uid]
    assert window.studies.index(row, tag).data() == "Second read (Dr. House)"
    assert window.tag_label.text() == "Second read (Dr. House)"
    assert "recorded when the studies are imported" in window.status.text()

    qtbot.mouseClick(window.send_button, Qt.MouseButton.LeftButton)
    assert window.errors == []
    [read] = list_second_reads(window.config)
    assert (read.mrn, read.accession, read.state) == ("MRN100234", "ACC20260001", "ordered")
    assert (read.requested_by, read.reason) == ("Dr. House", "compare with today's CT")

    # After the import, a new tag goes to the store at once and cancels the second read.
    window.ask_tag = lambda _what, _current: TagChoice("archive", "Dr. Grey", "done")
    qtbot.mouseClick(window.tag_button, Qt.MouseButton.LeftButton)
    assert "recorded for 1 imported study" in window.status.text()
    [read] = list_second_reads(window.config)
    assert read.state == "cancelled"


def test_back_office_tags_a_stored_study_and_works_the_second_reads_tab(
    qtbot, tmp_path, capsys, worklist_server, storage_server
):
    from kiosk.cli import main

    disc = tmp_path / "disc"
    write_ct_disc(disc, [JANE], per_study=2)
    worklist_server.add_patient("MRN1")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    assert main(["import", str(disc), "--all", "--mrn", "MRN1", "--config", str(cfg)]) == 0
    capsys.readouterr()
    # Our MRN's issuer is the order's (the worklist says HOSPITAL), as in the coerced images.
    with mllp_listener("MRN1", "HOSPITAL", "ACC77") as listener:
        cfg.write_text(cfg.read_text() + f'\n[hl7]\nhost = "127.0.0.1"\nport = {listener.port}\n')
        office = BackOfficeWindow(load_config(cfg), Runner(synchronous=True), user="bo1")
        qtbot.addWidget(office)
        errors: list[str] = []
        office.show_error = office.second_reads.show_error = errors.append
        office.filter_box.setCurrentIndex(office.filter_box.findData("all"))
        office.refresh()
        office.view.selectRow(0)
        office.ask_tag = lambda _w, _c: TagChoice("second-read", "Dr. Who", "outside CT")
        qtbot.mouseClick(office.tag_button, Qt.MouseButton.LeftButton)
        assert "second read 1 order needed" in office.status.text()
        tag_column = [t for t, _ in office.rows.columns].index("Tag")
        assert office.rows.index(0, tag_column).data() == "Second read (Dr. Who)"

        panel = office.second_reads
        office.tabs.setCurrentWidget(panel)
        assert panel.rows.rowCount() == 1  # the default filter: order needed
        assert "1 second read needs a signed order" in panel.flag_label.text()
        panel.view.selectRow(0)
        qtbot.mouseClick(panel.read_button, Qt.MouseButton.LeftButton)
        assert "cannot go from order needed to read" in panel.status.text()
        assert errors == [panel.status.text()]
        panel.view.selectRow(0)
        qtbot.keyClicks(panel.accession_edit, "ACC77")
        qtbot.mouseClick(panel.attach_button, Qt.MouseButton.LeftButton)
        assert panel.status.text() == "Second read 1: ordered, accession ACC77."
        assert panel.rows.rowCount() == 0 and panel.flag_label.text() == ""
        panel.filter_box.setCurrentIndex(panel.filter_box.findData("open"))
        panel.view.selectRow(0)
        qtbot.mouseClick(panel.read_button, Qt.MouseButton.LeftButton)
        qtbot.mouseClick(panel.send_button, Qt.MouseButton.LeftButton)
        assert panel.status.text() == "2 messages acknowledged by billing."
        assert listener.problems == [] and len(listener.acked()) == 2

        out = tmp_path / "billing.csv"
        panel.ask_path = lambda: out
        qtbot.mouseClick(panel.csv_button, Qt.MouseButton.LeftButton)
        lines = out.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2 and ",MRN1,ACC77,Dr. Who,outside CT," in lines[1]


def test_a_study_imported_before_is_tagged_in_the_store_at_once(qtbot, window, tmp_path, capsys):
    from kiosk.cli import main

    disc = tmp_path / "disc2"
    [study] = write_ct_disc(disc, [JANE], per_study=1)
    args = ["import", str(disc), "--all", "--mrn", "MRN100234", "--accession", "ACC20260001"]
    assert main([*args, "--config", str(window.config.path)]) == 0
    capsys.readouterr()
    window.open_medium(disc)  # the disc comes back: the kiosk knows the study
    window.study_view.selectRow(0)
    window.ask_tag = lambda _what, _current: TagChoice("second-read", "Dr. Grey", "recheck")
    qtbot.mouseClick(window.tag_button, Qt.MouseButton.LeftButton)
    assert "recorded for 1 imported study" in window.status.text()
    [read] = list_second_reads(window.config)
    assert (read.study_instance_uid, read.state) == (study.study_instance_uid, "ordered")
