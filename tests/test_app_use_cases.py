"""The use cases of kiosk.app that the CLI does not cover, against real peers on loopback."""

from __future__ import annotations

import json
from pathlib import Path

from kiosk.app.attention import HELD, INCOMPLETE
from kiosk.app.back_office import back_office_view
from kiosk.app.deliver_due import outbox_state
from kiosk.app.discard_study import discard_study
from kiosk.app.find_patient import candidates_for, lookup_by_name, lookup_scanned, patient_of
from kiosk.app.import_disc import import_disc
from kiosk.app.preflight import preflight
from kiosk.app.scan_disc import earlier_imports, scan_disc, study_key, verify_disc
from kiosk.app.values import ImportRequest, StudyState
from kiosk.cli import main
from kiosk.config import load_config
from reconcile.match import Outcome
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config

JANE = ("EXT-1", "DOE^JANE", "19700101", "F")
JOHN = ("EXT-2", "ROE^JOHN", "19551231", "M")


def _config(tmp_path: Path, worklist, destinations) -> Path:
    return write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations=destinations,
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )


def test_the_preflight_answer_is_what_the_import_uses(
    tmp_path, capsys, orthanc_server, worklist_server
):
    """The import does not ask the PACS again: what preflight saw decides what is skipped."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=4)
    worklist_server.add_patient("MRN1")
    config = load_config(_config(tmp_path, worklist_server, {"radiology": orthanc_server}))
    assert main(["import", str(disc), "--all", "--mrn", "MRN1", "--config", str(config.path)]) == 0
    capsys.readouterr()
    for instance in orthanc_server.instances()[:2]:  # the PACS lost two images
        orthanc_server.delete(f"/instances/{instance}")

    scan = scan_disc(disc)
    checked = preflight(config, "radiology", scan.studies, "MRN1")
    assert checked.anything and checked.waiting == 0 and checked.down is None
    [found] = checked.checks
    assert found is not None and found.present is not None
    assert len(found.present.sop_instance_uids or ()) == 2

    orthanc_server.delete(f"/instances/{orthanc_server.instances()[0]}")  # after the question
    request = ImportRequest(
        study_uids=(study.study_instance_uid,),
        mrn="MRN1",
        destination="radiology",
        worklist_item=patient_of(config, "MRN1"),
        missing_only=True,
    )
    [outcome] = import_disc(config, scan, request, preflight=checked)
    assert (outcome.state, outcome.sent, outcome.queued) == ("sent", 4, 4)
    # Asked again, the import would have seen one image there and sent three.
    assert len(orthanc_server.instances()) == 3
    assert main(["audit", "--config", str(config.path), "--json"]) == 0
    skips = [
        e for e in json.loads(capsys.readouterr().out)["events"] if e["action"] == "skip-present"
    ]
    assert "2 instances already on radiology" in skips[-1]["detail"]


def test_find_patient_ranks_with_reasons(tmp_path, worklist_server):
    worklist_server.add_item(
        PatientID="MRN7",
        PatientName="DOE^JANE",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC7",
        Modality="CT",
    )
    worklist_server.add_item(
        PatientID="MRN8",
        PatientName="DOE^JOHN",
        PatientBirthDate="19800505",
        PatientSex="M",
        AccessionNumber="ACC8",
        Modality="MR",
    )
    disc = tmp_path / "disc"
    write_ct_disc(disc, [JANE], per_study=1)
    config = load_config(_config(tmp_path, worklist_server, {"radiology": ("X", "127.0.0.1", 9)}))
    [study] = scan_disc(disc).studies

    decision = candidates_for(config, study)
    assert decision.outcome is Outcome.AUTO
    assert decision.candidates[0].item.mrn == "MRN7"

    by_name = lookup_by_name(config, "DOE*", "", study)
    assert not by_name.by_identifier
    assert [c.item.mrn for c in by_name.candidates] == ["MRN7", "MRN8"]  # best first
    assert by_name.candidates[0].score is not None
    assert by_name.candidates[0].score > (by_name.candidates[1].score or 0)
    assert "birth date equal" in by_name.candidates[0].reasons

    scanned = lookup_scanned(config, "ACC8")
    assert scanned.by_identifier
    [only] = scanned.candidates
    assert (only.item.mrn, only.score, only.reasons) == ("MRN8", None, ())


def test_scan_verify_and_the_state_of_the_store(tmp_path, capsys, worklist_server):
    """A quick scan is verified; a disc seen before is known; held, incomplete, discarded."""
    disc = tmp_path / "disc"
    jane, john = write_ct_disc(disc, [JANE, JOHN], per_study=3)
    worklist_server.add_patient("MRN1")
    down = ("NOWHERE", "127.0.0.1", 9)
    config = load_config(_config(tmp_path, worklist_server, {"radiology": down}))

    quick = scan_disc(disc, quick=True)
    assert not quick.verified
    scan = verify_disc(quick)
    assert scan.verified and len(scan.instances) == 6
    assert verify_disc(scan) is scan
    assert earlier_imports(config, scan) == {}

    cfg = str(config.path)
    uid = jane.study_instance_uid
    assert main(["import", str(disc), "--study", uid, "--mrn", "MRN1", "--config", cfg]) == 6
    capsys.readouterr()  # the PACS is down: queued

    known = earlier_imports(config, scan)
    [key] = known
    assert key == study_key(next(s for s in scan.studies if s.study_instance_uid == uid))
    assert known[key].state is StudyState.QUEUED

    state = outbox_state(config, send=False)
    assert (state.sent, state.waiting) == (0, 3)
    assert [d.destination for d in state.down] == ["radiology"]
    assert not state.attention.of(HELD) and not state.attention.of(INCOMPLETE)
    [row] = back_office_view(config, "undelivered").rows
    assert (row.record.study_instance_uid, row.outcome.sent, row.outcome.queued) == (uid, 0, 3)
    assert back_office_view(config, "discarded").rows == []

    record, outcome = discard_study(config, "wrong disc", study_uid=uid, user="bo1")
    assert record.state is StudyState.DISCARDED and outcome.sent == 0
    assert outbox_state(config, send=False).waiting == 0
    assert back_office_view(config, "undelivered").rows == []
    [gone] = back_office_view(config, "discarded").rows
    assert gone.record.id == record.id
    assert earlier_imports(config, scan) == {}  # a discarded import is not "seen before"
    assert john.study_instance_uid not in {k[1] for k in earlier_imports(config, scan)}


def test_a_disc_folder_that_grows_while_it_is_imported_is_never_reported_done(
    tmp_path, capsys, storage_server, worklist_server
):
    """Red team round 7: a copy into the drop folder that paused longer than the watcher's
    settle time was reported, imported without the files still to come, and said 'sent'."""
    from ui.models.studies import all_sent, outcome_status, outcome_summary

    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=4, dicomdir=False)
    late = sorted((disc / "DICOM").rglob("I*"))[-1]
    kept = late.read_bytes()
    late.unlink()  # not copied into the folder yet
    worklist_server.add_patient("MRN1")
    config = load_config(_config(tmp_path, worklist_server, {"radiology": storage_server}))
    scan = scan_disc(disc)
    assert len(scan.instances) == 3
    request = ImportRequest(
        study_uids=(study.study_instance_uid,),
        mrn="MRN1",
        destination="radiology",
        worklist_item=patient_of(config, "MRN1"),
    )
    late.write_bytes(kept)  # the copy goes on while the import runs
    [outcome] = import_disc(config, scan, request)
    assert (outcome.sent, outcome.queued) == (3, 3)
    assert outcome.medium_changed
    assert not all_sent([outcome])
    assert "import it again" in outcome_summary([outcome], "Radiology")
    assert "keep it" in outcome_status(outcome)  # the study's row does not say only "sent"

    args = ["import", str(disc), "--all", "--mrn", "MRN1", "--config", str(config.path), "--json"]
    assert main(args) == 0  # imported again once complete: the fourth image goes too
    [again] = json.loads(capsys.readouterr().out)["studies"]
    assert (again["sent"], again["queued"]) == (4, 4) and "medium_changed" not in again


def test_a_disc_ejected_after_its_copy_is_no_changed_medium(tmp_path):
    """The mount folder of a drive stays, empty, once the disc is out (eject_after_copy)."""
    import shutil

    from kiosk.app.import_disc import changed_since_scanned

    disc = tmp_path / "disc"
    write_ct_disc(disc, [JANE], per_study=2)
    scan = scan_disc(disc)
    assert not changed_since_scanned(scan)
    for entry in list(disc.iterdir()):
        shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    assert not changed_since_scanned(scan)  # empty: the disc was taken out
    write_ct_disc(disc, [JOHN], per_study=2)
    assert changed_since_scanned(scan)  # another disc in the drive
