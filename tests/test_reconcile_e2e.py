"""Back office: a study imported without an order gets its accession later, end to end."""

from __future__ import annotations

import json

import pydicom

from kiosk.cli import main
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config

JANE = ("EXT-48213", "DOE^JANE", "19700101", "F")


def run(capsys, *args):
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def setup(tmp_path, worklist_server, storage_server, extra: str = ""):
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=3)
    worklist_server.add_item(
        PatientID="MRN100234",
        IssuerOfPatientID="MAINHOSP",
        PatientName="DOE^JANE",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC777",
        RequestedProcedureID="RP777",
        ScheduledProcedureStepID="SPS777",
    )
    worklist_server.add_item(PatientID="MRN999", AccessionNumber="ACC999")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    if extra:
        cfg.write_text(cfg.read_text() + extra)
    return disc, study, cfg


def test_unscheduled_study_sent_then_reconciled_is_resent_corrected(
    tmp_path, capsys, worklist_server, storage_server
):
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    uid = study.study_instance_uid
    code, out, err = run(
        capsys, "import", str(disc), "--all", "--mrn", "MRN100234", "--config", str(cfg)
    )
    assert code == 0, err
    assert out["studies"][0]["state"] == "sent"
    first = {p.name: pydicom.dcmread(p).AccessionNumber for p in storage_server.wait_for_files(3)}
    assert set(first.values()) == {"OUT-1"}  # the outside accession, untouched
    storage_server.clear()

    code, out, err = run(capsys, "reconcile", uid, "--accession", "ACC777", "--config", str(cfg))
    assert code == 0, err
    assert out["studies"][0]["state"] == "sent"
    resent = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    assert {ds.SOPInstanceUID for ds in resent} == set(study.sop_instance_uids)
    for ds in resent:
        assert (ds.PatientID, ds.AccessionNumber) == ("MRN100234", "ACC777")
        assert ds.RequestAttributesSequence[0].RequestedProcedureID == "RP777"
        [record] = ds.OriginalAttributesSequence
        assert record.ReasonForTheAttributeModification == "CORRECT"
        assert record.ModifiedAttributesSequence[0].PatientID == "EXT-48213"  # the outside one
        assert record.ModifiedAttributesSequence[0].AccessionNumber == "OUT-1"

    code, trail, _ = run(capsys, "audit", "--config", str(cfg))
    reconcile_events = [e for e in trail["events"] if e["action"] == "reconcile"]
    assert len(reconcile_events) == 1
    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    assert queue["studies"][0]["accession_number"] == "ACC777"
    assert queue["studies"][0]["unscheduled"] is False


def test_hold_policy_keeps_unscheduled_studies_until_reconciled(
    tmp_path, capsys, worklist_server, storage_server
):
    disc, study, cfg = setup(
        tmp_path, worklist_server, storage_server, '\n[reconcile]\nunscheduled = "hold"\n'
    )
    code, out, err = run(
        capsys, "import", str(disc), "--all", "--mrn", "MRN100234", "--config", str(cfg)
    )
    assert code == 0, err
    assert (out["studies"][0]["state"], out["studies"][0]["sent"]) == ("unscheduled", 0)
    assert storage_server.received_files() == []
    code, queue, _ = run(capsys, "queue", "--state", "unscheduled", "--config", str(cfg))
    assert [s["study_instance_uid"] for s in queue["studies"]] == [study.study_instance_uid]

    code, out, err = run(
        capsys, "reconcile", study.study_instance_uid, "--accession", "ACC777", "--config", str(cfg)
    )
    assert code == 0, err
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    assert {ds.AccessionNumber for ds in received} == {"ACC777"}
    assert all(
        ds.OriginalAttributesSequence[0].ReasonForTheAttributeModification == "COERCE"
        for ds in received
    )


def test_order_of_another_patient_is_refused(tmp_path, capsys, worklist_server, storage_server):
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    run(capsys, "import", str(disc), "--all", "--mrn", "MRN100234", "--config", str(cfg))
    code, _, err = run(
        capsys, "reconcile", study.study_instance_uid, "--accession", "ACC999", "--config", str(cfg)
    )
    assert code == 5
    assert "belongs to MRN MRN999" in err
    code, _, err = run(
        capsys, "reconcile", study.study_instance_uid, "--accession", "NOPE", "--config", str(cfg)
    )
    assert code == 5
    code, _, err = run(
        capsys, "reconcile", "1.2.3.4", "--accession", "ACC777", "--config", str(cfg)
    )
    assert code == 2
    assert "not in the kiosk's store" in err


def test_destination_rule_issues_new_uids(tmp_path, capsys, worklist_server, storage_server):
    disc, study, cfg = setup(
        tmp_path,
        worklist_server,
        storage_server,
        "\n[destinations.radiology.coercion]\nnew_uids = true\n",
    )
    args = ["import", str(disc), "--all", "--mrn", "MRN100234", "--accession", "ACC777"]
    code, out, err = run(capsys, *args, "--config", str(cfg))
    assert code == 0, err
    [result] = out["studies"]
    assert result["new_study_instance_uid"] != study.study_instance_uid
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    assert {ds.StudyInstanceUID for ds in received} == {result["new_study_instance_uid"]}
    assert {ds.SOPInstanceUID for ds in received}.isdisjoint(study.sop_instance_uids)
    for ds in received:
        old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
        assert old.StudyInstanceUID == study.study_instance_uid
        assert old.SOPInstanceUID in study.sop_instance_uids
    # The store finds the study by either UID.
    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    assert queue["studies"][0]["study_instance_uid"] == study.study_instance_uid


def test_the_same_mrn_of_another_issuer_is_another_patient(
    tmp_path, capsys, worklist_server, storage_server
):
    """Red team round 12: MRN100234 of OTHERHOSP (another person, same birth date and sex)
    was taken for MAINHOSP's: the study was resent under the same UIDs as ROE^ANN."""
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    worklist_server.add_item(
        PatientID="MRN100234",
        IssuerOfPatientID="OTHERHOSP",
        PatientName="ROE^ANN",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC888",
    )
    uid = study.study_instance_uid
    args = ["import", str(disc), "--all", "--mrn", "MRN100234", "--accession", "ACC777"]
    code, _, err = run(capsys, *args, "--config", str(cfg))
    assert code == 0, err
    storage_server.wait_for_files(3)
    storage_server.clear()

    for extra in ([], ["--mrn", "MRN100234"], ["--mrn", "MRN100234", "--issuer", "MAINHOSP"]):
        code, _, err = run(
            capsys, "reconcile", uid, "--accession", "ACC888", *extra, "--config", str(cfg)
        )
        assert code == 5, (extra, err)
        assert "OTHERHOSP" in err and "MAINHOSP" in err, err
    assert storage_server.received_files() == []
    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    assert queue["studies"][0]["accession_number"] == "ACC777"

    code, _, err = run(
        capsys, "reconcile", uid, "--accession", "ACC888", "--mrn", "MRN100234",
        "--issuer", "OTHERHOSP", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    resent = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    # another patient: new UIDs, never the old copy's UIDs under another person
    assert {ds.SOPInstanceUID for ds in resent}.isdisjoint(study.sop_instance_uids)
    assert {(ds.PatientID, ds.IssuerOfPatientID, str(ds.PatientName)) for ds in resent} == {
        ("MRN100234", "OTHERHOSP", "ROE^ANN")
    }
    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    [fix] = queue["corrections"]
    assert (fix["old_mrn"], fix["new_mrn"], fix["instances"]) == ("MRN100234", "MRN100234", 3)
    assert fix["rejection_note"] != "none"  # the old copy is flagged or rejected
    code, trail, _ = run(capsys, "audit", "--config", str(cfg))
    [event] = [e for e in trail["events"] if e["action"] == "reconcile"]
    assert "MRN MRN100234 -> MRN100234 (issuer MAINHOSP -> OTHERHOSP)" in event["detail"], event
