"""An image the DICOMDIR lists and the disc cannot give is named, never silently left out.

Red team (rounds 2 and 4): a listed file cut short, or with no SOP Instance
UID left in it, was left out of its study with a problem in the scan, and
``kiosk import`` sent the rest and exited 0: the study reached the PACS
short of an image while the command said it was done. Now the scan lists it
under ``lost`` (with the DICOMDIR's identity), the import gives it an
instance row that is quarantined ("not copied from the disc"), the command
exits 6 (partly done) and ``kiosk queue`` shows it to the back office. Real
peers: DCMTK ``wlmscpfs`` and ``storescp``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.discs import write_ct_disc
from tests.test_integrity_e2e import config_for, received_sops, run_kiosk

JANE = ("EXT-1", "DOE^JANE", "19700101", "F")


def spoil(path: Path, how: str) -> None:
    """Cut a disc file short, or leave only its preamble and meta (no SOP Instance UID)."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2] if how == "cut" else data[:400])


@pytest.mark.parametrize("how", ["cut", "no-uid"])
def test_a_listed_image_the_disc_cannot_give_is_quarantined_and_named(
    tmp_path, worklist_server, storage_server, how
):
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=3)
    files = sorted(p for p in (disc / "DICOM").rglob("I*") if p.is_file())
    spoil(files[1], how)
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scanned, err = run_kiosk(tmp_path, "scan", str(disc))
    assert code == 0, err
    [lost] = scanned["lost"]
    assert lost["path"] == files[1].relative_to(disc).as_posix()
    assert lost["study_instance_uid"] == study.study_instance_uid
    assert lost["sop_instance_uid"] in study.sop_instance_uids

    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--all", "--mrn", "MRN1", "--accession", "ACC-MRN1",
        "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    assert code == 6, err  # partly done: never 0 while the study lacks an image
    [outcome] = done["studies"]
    assert (outcome["sent"], outcome["failed"]) == (2, 1)
    storage_server.wait_for_files(2)
    assert received_sops(storage_server) == sorted(
        set(study.sop_instance_uids) - {lost["sop_instance_uid"]}
    )
    queue = subprocess.run(
        [sys.executable, "-m", "kiosk", "queue", "--config", str(cfg), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    [listed] = json.loads(queue.stdout)["studies"]
    [error] = listed["errors"]
    assert error["sop_instance_uid"] == lost["sop_instance_uid"]
    assert error["state"] == "quarantined"
    assert "not copied from the disc" in error["error"]
