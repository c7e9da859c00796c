"""Before sending, ask the PACS what it already holds (Orthanc answers C-FIND)."""

from __future__ import annotations

import json

from kiosk.cli import main
from kiosk.config import load_config
from kiosk.send.duplicates import check
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config


def setup(tmp_path, orthanc_server, worklist_server):
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=4)
    worklist_server.add_patient("MRN1")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": orthanc_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    return disc, study, cfg


def test_missing_only_sends_just_what_the_pacs_lacks(
    tmp_path, capsys, orthanc_server, worklist_server
):
    disc, _study, cfg = setup(tmp_path, orthanc_server, worklist_server)
    args = ["import", str(disc), "--all", "--mrn", "MRN1", "--config", str(cfg), "--json"]
    assert main(args) == 0
    capsys.readouterr()
    ids = orthanc_server.instances()
    assert len(ids) == 4
    for instance in ids[:2]:  # the PACS lost two images
        orthanc_server.delete(f"/instances/{instance}")
    assert len(orthanc_server.instances()) == 2

    assert main([*args, "--missing-only"]) == 0
    [result] = json.loads(capsys.readouterr().out)["studies"]
    assert (result["state"], result["sent"], result["queued"]) == ("sent", 4, 4)
    assert len(orthanc_server.instances()) == 4
    assert main(["audit", "--config", str(cfg), "--json"]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    [skip] = [e for e in events if e["action"] == "skip-present"]
    assert "2 instances already on radiology" in skip["detail"]


def test_check_finds_the_study_and_similar_ones(tmp_path, capsys, orthanc_server, worklist_server):
    disc, study, cfg = setup(tmp_path, orthanc_server, worklist_server)
    config = load_config(cfg)
    dest = config.destination("radiology")
    before = check(
        dest,
        "KIOSK",
        study_instance_uid=study.study_instance_uid,
        mrn="MRN1",
        study_date="20260301",
        modalities=["CT"],
    )
    assert not before.anything
    assert main(["import", str(disc), "--all", "--mrn", "MRN1", "--config", str(cfg)]) == 0
    after = check(
        dest,
        "KIOSK",
        study_instance_uid=study.study_instance_uid,
        mrn="MRN1",
        study_date="20260301",
        modalities=["CT"],
    )
    assert after.present is not None
    assert after.present.sop_instance_uids == frozenset(study.sop_instance_uids)
    assert (
        after.describe(4, "Radiology PACS")
        == "Radiology PACS already holds this study (4 of 4 images)."
    )
    other = check(
        dest,
        "KIOSK",
        study_instance_uid="1.2.3.4.5",
        mrn="MRN1",
        study_date="20260301",
        modalities=["CT"],
    )
    assert other.present is None
    assert other.similar == (study.study_instance_uid,)
    assert "1 other study of this patient from the same day" in other.describe(4, "PACS")
    elsewhere = check(
        dest,
        "KIOSK",
        study_instance_uid="1.2.3.4.5",
        mrn="MRN1",
        study_date="20260301",
        modalities=["MR"],
    )
    assert elsewhere.similar == ()
