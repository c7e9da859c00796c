"""End to end: a disc imported through the CLI into real DICOM peers.

The worklist is DCMTK wlmscpfs, the PACS DCMTK storescp or Orthanc; the
assertions are made on the files the receiver wrote.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pydicom
import pytest

from kiosk.cli import main
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from tests.peers import OrthancServer, StorageServer, WorklistServer

JANE = ("EXT-48213", "DOE^JANE^M", "19700101", "F")
JOHN = ("EXT-777", "ROE^JOHN", "19551231", "M")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    """Run ``kiosk ... --json`` in-process; return (exit code, JSON, stderr)."""
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


@pytest.fixture
def disc(tmp_path: Path):
    root = tmp_path / "disc"
    studies = write_ct_disc(root, [JANE, JOHN], per_study=4)
    return root, studies


def config_for(
    tmp_path: Path, worklist: WorklistServer | None, **dests: StorageServer | OrthancServer
) -> Path:
    return write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations=dict(dests),
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )


def add_jane_order(worklist_server: WorklistServer) -> None:
    worklist_server.add_item(
        PatientID="MRN100234",
        IssuerOfPatientID="MAINHOSP",
        PatientName="DOE^JANE^MARIE",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC20260001",
        RequestedProcedureID="RP1",
        ScheduledProcedureStepID="SPS1",
        RequestedProcedureDescription="OUTSIDE CT IMPORT",
        Modality="CT",
    )


def test_import_disc_coerces_and_sends_to_storescp(
    tmp_path, capsys, disc, worklist_server, storage_server
):
    root, studies = disc
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    study = studies[0]

    code, out, err = run_cli(
        capsys,
        "import", str(root), "--study", study.study_instance_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip

    assert code == 0, err
    [result] = out["studies"]
    assert result["study_instance_uid"] == study.study_instance_uid
    assert result["new_study_instance_uid"] == study.study_instance_uid
    assert (result["destination"], result["queued"], result["sent"]) == ("radiology", 4, 4)
    assert result["state"] == "sent"

    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(4)]
    assert {ds.SOPInstanceUID for ds in received} == set(study.sop_instance_uids)
    for ds in received:
        assert ds.PatientID == "MRN100234"
        assert ds.IssuerOfPatientID == "MAINHOSP"
        assert ds.AccessionNumber == "ACC20260001"
        assert str(ds.PatientName) == "DOE^JANE^MARIE"
        assert ds.StudyInstanceUID == study.study_instance_uid
        [other] = ds.OtherPatientIDsSequence
        assert (other.PatientID, other.IssuerOfPatientID) == ("EXT-48213", "OUTSIDE-GENERAL")
        [request] = ds.RequestAttributesSequence
        assert request.AccessionNumber == "ACC20260001"
        assert request.RequestedProcedureID == "RP1"
        assert request.ScheduledProcedureStepID == "SPS1"
        [original] = ds.OriginalAttributesSequence
        old = original.ModifiedAttributesSequence[0]
        assert old.PatientID == "EXT-48213"
        assert old.AccessionNumber == "OUT-1"
        assert str(old.PatientName) == "DOE^JANE^M"
        assert original.ReasonForTheAttributeModification == "COERCE"
        assert hashlib.sha256(ds.PixelData).hexdigest() == study.pixel_sha256[ds.SOPInstanceUID]

    # The other patient on the disc was not touched, and the disc itself is unchanged.
    assert storage_server.received_sop_instance_uids().isdisjoint(studies[1].sop_instance_uids)
    on_disc = pydicom.dcmread(next((root / "DICOM" / "P0000001").iterdir()))
    assert on_disc.PatientID == "EXT-48213"

    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    assert code == 0
    [row] = queue["studies"]
    assert (row["state"], row["sent"], row["mrn"]) == ("sent", 4, "MRN100234")

    code, trail, _ = run_cli(capsys, "audit", "--config", str(cfg))
    actions = [e["action"] for e in trail["events"]]
    assert actions == ["found", "copy", "match", "coerce", "queue", "send"]
    assert all(e["study_instance_uid"] == study.study_instance_uid for e in trail["events"])


def test_destination_down_keeps_study_queued_then_send_delivers(
    tmp_path, capsys, disc, worklist_server
):
    root, studies = disc
    add_jane_order(worklist_server)
    pacs = StorageServer(tmp_path / "late-pacs", ae_title="LATEPACS")
    cfg = config_for(tmp_path, worklist_server, radiology=pacs)  # not started: port is closed
    study = studies[0]

    code, out, err = run_cli(
        capsys,
        "import", str(root), "--study", study.study_instance_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--config", str(cfg),
    )  # fmt: skip
    assert code == 6, err
    assert "stay queued" in err and "Traceback" not in err
    [result] = out["studies"]
    assert (result["queued"], result["sent"], result["state"]) == (4, 0, "queued")

    with pacs:
        code, sent, err = run_cli(capsys, "send", "--config", str(cfg))
        assert code == 0, err
        assert sent["sent"] == 4 and sent["remaining"] == 0
        assert pacs.received_sop_instance_uids() == set(study.sop_instance_uids)
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    assert queue["studies"][0]["state"] == "sent"


def test_same_study_under_another_mrn_is_refused(
    tmp_path, capsys, disc, worklist_server, storage_server
):
    root, studies = disc
    worklist_server.add_patient("MRN1", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3])
    worklist_server.add_patient("MRN2", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3])
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    uid = studies[0].study_instance_uid
    code, _, err = run_cli(
        capsys, "import", str(root), "--study", uid, "--mrn", "MRN1", "--config", str(cfg)
    )
    assert code == 0, err
    code, _, err = run_cli(
        capsys, "import", str(root), "--study", uid, "--mrn", "MRN2", "--config", str(cfg)
    )
    assert code == 5
    assert "already imported under another MRN" in err
    assert len(storage_server.wait_for_files(4)) == 4  # nothing more arrived


def test_unscheduled_import_without_accession(
    tmp_path, capsys, disc, worklist_server, storage_server
):
    root, studies = disc
    worklist_server.add_patient(  # the worklist knows the patient
        "MRN555", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3]
    )
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    code, out, err = run_cli(
        capsys, "import", str(root), "--study", studies[0].study_instance_uid,
        "--mrn", "MRN555", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert [s["sent"] for s in out["studies"]] == [4]
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(4)]
    assert {ds.PatientID for ds in received} == {"MRN555"}
    assert {str(ds.PatientName) for ds in received} == {JANE[1]}  # as our worklist has it
    assert {ds.AccessionNumber for ds in received} == {"OUT-1"}  # not ours: left for later
    assert all("RequestAttributesSequence" not in ds for ds in received)
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    assert all(row["unscheduled"] for row in queue["studies"])


def test_studies_of_two_disc_patients_under_one_mrn_are_refused(
    tmp_path, capsys, disc, storage_server
):
    root, _studies = disc
    cfg = config_for(tmp_path, None, radiology=storage_server)
    code, out, err = run_cli(
        capsys, "import", str(root), "--all", "--mrn", "MRN555", "--config", str(cfg)
    )
    assert code == 5
    assert "belong to 2 different patients on the disc" in err
    assert out == {}
    assert storage_server.received_files() == []


def test_accession_not_on_worklist_is_refused(
    tmp_path, capsys, disc, worklist_server, storage_server
):
    root, studies = disc
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    code, _, err = run_cli(
        capsys,
        "import", str(root), "--study", studies[0].study_instance_uid, "--mrn", "MRN100234",
        "--accession", "ACC-WRONG", "--config", str(cfg),
    )  # fmt: skip
    assert code == 5
    assert "ACC-WRONG is not on the worklist" in err


def test_birth_date_mismatch_needs_confirmation(
    tmp_path, capsys, disc, worklist_server, storage_server
):
    root, studies = disc
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    john = studies[1].study_instance_uid  # born 1955, the order is for Jane born 1970
    args = ["import", str(root), "--study", john, "--mrn", "MRN100234"]
    args += ["--accession", "ACC20260001", "--config", str(cfg), "--no-send"]
    code, _, err = run_cli(capsys, *args)
    assert code == 5
    assert "birth date 19551231 differs" in err
    code, out, err = run_cli(capsys, *args, "--confirm-mismatch")
    assert code == 0, err
    assert out["studies"][0]["state"] == "queued"


def test_import_into_orthanc(tmp_path, capsys, disc, worklist_server, orthanc_server):
    root, studies = disc
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=orthanc_server)
    study = studies[0]
    code, _out, err = run_cli(
        capsys,
        "import", str(root), "--study", study.study_instance_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    ids = orthanc_server.instances()
    assert len(ids) == 4
    for instance in ids:
        tags = orthanc_server.instance_tags(instance)
        assert tags["PatientID"] == "MRN100234"
        assert tags["AccessionNumber"] == "ACC20260001"
        assert tags["OtherPatientIDsSequence"][0]["PatientID"] == "EXT-48213"


def test_a_birth_date_written_another_way_is_the_same_day():
    """A disc's ACR-NEMA date (1970.01.01) is the order's 19700101, as the matcher reads it;
    a partial or different date still needs a person."""
    from kiosk.errors import IdentityMismatchError
    from kiosk.importer import check_demographics
    from kiosk.media.model import StudySummary

    def study(dob: str) -> StudySummary:
        return StudySummary("1.2.3", "", "", "", "EXT", "", "DOE^JANE", dob, "F")

    for dob in ("1970.01.01", "1970-01-01", " 19700101"):
        check_demographics(study(dob), "19700101", "F", whose="the order's", confirmed=False)
    for dob in ("197001", "1970.01.02", "19700229x", "19700101\\19700102"):
        with pytest.raises(IdentityMismatchError):
            check_demographics(study(dob), "19700101", "F", whose="the order's", confirmed=False)
