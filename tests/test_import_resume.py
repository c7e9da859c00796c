"""A disc pulled mid-copy: nothing half-copied is marked good, and the copy resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
import pytest

from kiosk.cli import main
from kiosk.config import load_config
from kiosk.errors import SpoolError
from kiosk.importer import ImportRequest, import_studies
from kiosk.media.scan import scan_medium
from kiosk.progress import Event, Phase, Progress
from kiosk.store import db
from kiosk.store.studies import find_studies, instances_of
from reconcile.model import WorklistItem
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config


def test_pulled_disc_resumes_copy_when_it_comes_back(
    tmp_path, capsys, worklist_server, storage_server
):
    disc = tmp_path / "cdrom"
    [study] = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=6)
    worklist_server.add_item(  # confirms MRN1 (the study itself has no order)
        PatientID="MRN1", PatientName="DOE^JANE", PatientBirthDate="19700101", PatientSex="F"
    )
    cfg_path = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    config = load_config(cfg_path)
    scan = scan_medium(disc)
    patient = WorklistItem("MRN1", "", "", "DOE^JANE", "19700101", "F")
    request = ImportRequest(
        study_uids=(study.study_instance_uid,),
        mrn="MRN1",
        destination="radiology",
        worklist_item=patient,
    )
    pulled = tmp_path / "out-of-the-drive"

    def pull_after_three(event: Event) -> None:
        if isinstance(event, Progress) and event.phase is Phase.COPY and event.done == 3:
            disc.rename(pulled)  # the disc leaves the drive

    conn = db.connect(config.database_path)
    try:
        with pytest.raises(SpoolError, match=r"stopped after 3 of 6 files .* resumes"):
            import_studies(conn, config, scan, request, on_event=pull_after_three)
        [record] = find_studies(conn)
        assert record.state == "found"  # not copied, not queued: nothing half-copied is good
        copied = [r for r in instances_of(conn, record.id) if r["original_digest"]]
        assert len(copied) == 3
        first_mtimes = {
            r["original_path"]: Path(r["original_path"]).stat().st_mtime_ns for r in copied
        }
        assert not list((tmp_path / "spool").rglob("*.part"))
        assert storage_server.received_files() == []
        # This process lives on (as the app would); a scheduled send names the study.
        assert main(["send", "--config", str(cfg_path), "--json"]) == 6
        out, err = capsys.readouterr()
        assert [i["copied"] for i in json.loads(out)["incomplete"]] == [3]
        assert "insert the disc again" in err
    finally:
        conn.close()

    pulled.rename(disc)  # the same disc is back
    code = main(
        ["import", str(disc), "--all", "--mrn", "MRN1", "--config", str(cfg_path), "--json"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    [result] = json.loads(out)["studies"]
    assert (result["state"], result["sent"], result["queued"]) == ("sent", 6, 6)
    conn = db.connect(config.database_path)
    try:
        [record] = find_studies(conn)  # the same study row, resumed
        for path, mtime in first_mtimes.items():
            assert Path(path).stat().st_mtime_ns == mtime  # kept, not copied again
    finally:
        conn.close()
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(6)]
    assert {ds.SOPInstanceUID for ds in received} == set(study.sop_instance_uids)
    assert main(["audit", "--config", str(cfg_path), "--json"]) == 0
    actions = [e["action"] for e in json.loads(capsys.readouterr()[0])["events"]]
    assert actions[:3] == ["found", "copy", "resume"]
