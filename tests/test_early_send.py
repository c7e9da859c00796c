"""The import's pipeline: what a slow drive has copied goes while it copies the rest.

A slow drive is a copy that waits: each file's copy here first sleeps (as a
thread waits on an optical drive's read), and the copy is recorded in small
batches, so that a short study has several. Asserted on what the real
storescp and Orthanc received, and when.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.uid import generate_uid

from kiosk import importer
from tests.peers import OrthancServer, StorageServer, WorklistServer
from tests.test_integrity_e2e import (
    JANE,
    config_for,
    received,
    received_sops,
    run_cli,
    store_in_orthanc,
    write_study,
)

N = 16
READ_WAIT = 0.08  # seconds per file: a drive, not the page cache
BATCH = 4

# The same slow drive and small batches in a child process (killed by a fault point).
SLOW_CHILD = f"""
import sys, time
from kiosk import importer
copy = importer.copy_checksummed
def slow(*args, **kwargs):
    time.sleep({READ_WAIT})
    return copy(*args, **kwargs)
importer.copy_checksummed = slow
importer.COPY_BATCH = {BATCH}
importer._Coercing.GROUP = 2
from kiosk.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture
def slow_drive(monkeypatch: pytest.MonkeyPatch, storage_server: StorageServer) -> list[set[str]]:
    """Copies that wait on the medium; returns, per file read, the SOP Instance UIDs that
    storescp held then (it names each file ``MODALITY.UID``)."""
    seen: list[set[str]] = []
    copy = importer.copy_checksummed

    def slow(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append({p.name.split(".", 1)[1] for p in storage_server.received_files()})
        time.sleep(READ_WAIT)
        return copy(*args, **kwargs)

    monkeypatch.setattr(importer, "copy_checksummed", slow)
    monkeypatch.setattr(importer, "COPY_BATCH", BATCH)
    monkeypatch.setattr(importer._Coercing, "GROUP", 2)
    return seen


def import_all(
    capsys: pytest.CaptureFixture[str], root: Path, cfg: Path, *mrn_and_more: str
) -> tuple[int, dict[str, Any], str]:
    """``kiosk import ROOT --all --mrn MRN ...`` in-process: (exit code, JSON, stderr)."""
    args = ["import", str(root), "--all", "--mrn", *mrn_and_more, "--config", str(cfg)]
    return run_cli(capsys, *args)


def ordered(worklist: WorklistServer, mrn: str = "MRN1", accession: str = "ACC1") -> None:
    worklist.add_item(
        PatientID=mrn,
        PatientName=JANE[1],
        PatientBirthDate=JANE[2],
        PatientSex=JANE[3],
        AccessionNumber=accession,
    )


def test_what_a_slow_drive_copied_goes_while_it_copies_the_rest(
    tmp_path, capsys, worklist_server, storage_server, slow_drive
):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    sops = write_study(root, "P1", JANE, study_uid=study_uid, count=N)
    ordered(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, out, err = import_all(capsys, root, cfg, "MRN1", "--accession", "ACC1")
    assert code == 0, err
    assert len(slow_drive) == N
    assert slow_drive[-1], slow_drive  # images were at the PACS before the last was read
    assert received_sops(storage_server) == sorted(sops.values())  # each once, none lost
    got = received(storage_server)
    assert {(ds.PatientID, ds.AccessionNumber) for ds in got} == {("MRN1", "ACC1")}
    assert {ds.OtherPatientIDsSequence[0].PatientID for ds in got} == {JANE[0]}
    [study] = out["studies"]
    assert (study["state"], study["sent"], study["queued"]) == ("sent", N, N)
    code, trail, _ = run_cli(capsys, "audit", "--config", str(cfg))
    assert [e["outcome"] for e in trail["events"] if e["action"] == "send"] == ["ok"]
    code, _, err = run_cli(capsys, "audit", "--verify", "--config", str(cfg))
    assert code == 0, err


def test_the_first_study_goes_while_the_second_is_copied(
    tmp_path, capsys, worklist_server, storage_server, slow_drive
):
    root = tmp_path / "disc"
    first = write_study(root, "P1", JANE, study_uid=generate_uid(), count=6)
    second = write_study(root, "P2", JANE, study_uid=generate_uid(), count=12)
    ordered(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, out, err = import_all(capsys, root, cfg, "MRN1", "--accession", "ACC1")
    assert code == 0, err
    # The whole first study was at the PACS before the second's last image was read
    # (its 12 reads take about a second).
    assert set(first.values()) <= slow_drive[-1], slow_drive
    assert received_sops(storage_server) == sorted([*first.values(), *second.values()])
    assert [s["state"] for s in out["studies"]] == ["sent", "sent"]


def test_a_held_study_is_never_sent_while_it_is_copied(
    tmp_path, capsys, worklist_server, storage_server, slow_drive
):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    write_study(root, "P1", JANE, study_uid=study_uid, count=N)
    worklist_server.add_patient("MRN999")  # a worklist without our MRN: nobody confirms it
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, out, err = import_all(capsys, root, cfg, "MRN-NOBODY")
    assert code == 0, err
    assert len(slow_drive) == N
    [study] = out["studies"]
    assert (study["state"], study["sent"]) == ("unscheduled", 0)
    assert storage_server.received_files() == []


def test_a_study_the_pacs_holds_under_another_patient_is_not_sent_while_copied(
    tmp_path, capsys, worklist_server, orthanc_server: OrthancServer, slow_drive
):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    write_study(root, "P1", JANE, study_uid=study_uid, count=N)
    store_in_orthanc(orthanc_server, patient_id="OTHER", study_uid=study_uid, count=2)
    before = set(orthanc_server.instances())
    worklist_server.add_patient("MRN1", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3])
    ordered(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=orthanc_server)

    code, out, err = import_all(capsys, root, cfg, "MRN1", "--accession", "ACC1")
    assert code == 5, err
    assert "OTHER" in err and "MRN1" in err
    assert set(orthanc_server.instances()) == before
    [study] = out["studies"]
    assert (study["state"], study["sent"]) == ("quarantined", 0)


def test_a_power_cut_while_sending_early_loses_nothing(tmp_path, worklist_server, storage_server):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    sops = write_study(root, "P1", JANE, study_uid=study_uid, count=N)
    ordered(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    args = ["import", str(root), "--all", "--mrn", "MRN1", "--accession", "ACC1"]
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_FAULT"}

    died = subprocess.run(
        [sys.executable, "-c", SLOW_CHILD, *args, "--config", str(cfg)],
        env={**env, "KIOSK_FAULT": f"import.copy-file:{N - 2}"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert died.returncode == -signal.SIGKILL, died.stderr
    early = set(received_sops(storage_server))
    assert early and early < set(sops.values())  # some went before the power cut, not all

    sent = subprocess.run(
        [sys.executable, "-m", "kiosk", "send", "--config", str(cfg), "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert sent.returncode == 6, sent.stderr  # the copy is incomplete: named, never "done"
    assert "insert the disc again" in sent.stderr

    again = subprocess.run(
        [sys.executable, "-m", "kiosk", *args, "--config", str(cfg), "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert set(received_sops(storage_server)) == set(sops.values())
    got = [pydicom.dcmread(p, stop_before_pixels=True) for p in storage_server.received_files()]
    assert {(ds.PatientID, ds.AccessionNumber) for ds in got} == {("MRN1", "ACC1")}
    [study] = json.loads(again.stdout)["studies"]
    assert (study["state"], study["sent"]) == ("sent", N)


def test_an_import_that_only_queues_sends_nothing_while_it_copies(
    tmp_path, capsys, worklist_server, storage_server, slow_drive
):
    root = tmp_path / "disc"
    write_study(root, "P1", JANE, study_uid=generate_uid(), count=N)
    ordered(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, out, err = import_all(capsys, root, cfg, "MRN1", "--accession", "ACC1", "--no-send")
    assert code == 0, err
    assert len(slow_drive) == N
    assert storage_server.received_files() == []
    [study] = out["studies"]
    assert (study["state"], study["sent"], study["queued"]) == ("queued", 0, N)


def test_a_power_cut_after_the_copy_while_sending_early_is_finished_by_the_next_send(
    tmp_path, worklist_server, storage_server
):
    # Killed once every file is copied and recorded, some already sent, the rest not
    # queued yet: the recovery sweep of the next `kiosk send` coerces and queues the
    # rest from the spool, and every image reaches the PACS.
    root = tmp_path / "disc"
    sops = write_study(root, "P1", JANE, study_uid=generate_uid(), count=N)
    ordered(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_FAULT"}
    args = ["import", str(root), "--all", "--mrn", "MRN1", "--accession", "ACC1"]

    died = subprocess.run(
        [sys.executable, "-c", SLOW_CHILD, *args, "--config", str(cfg)],
        env={**env, "KIOSK_FAULT": "import.copied"},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert received_sops(storage_server)  # some went while the copy went on

    sent = subprocess.run(
        [sys.executable, "-m", "kiosk", "send", "--config", str(cfg), "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert set(received_sops(storage_server)) == set(sops.values())
    got = [pydicom.dcmread(p, stop_before_pixels=True) for p in storage_server.received_files()]
    assert {(ds.PatientID, ds.AccessionNumber) for ds in got} == {("MRN1", "ACC1")}
    queue = subprocess.run(
        [sys.executable, "-m", "kiosk", "queue", "--config", str(cfg), "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    [study] = json.loads(queue.stdout)["studies"]
    assert (study["state"], study["sent"], study["queued"]) == ("sent", N, N)


@pytest.mark.parametrize("bad", [1, 2, N])
def test_an_instance_refused_while_copying_stays_quarantined_and_counted(
    tmp_path, capsys, worklist_server, storage_server, slow_drive, bad
):
    """Red-team round 2: a refused instance of an early-sent study vanished (exit 0)."""
    import struct

    root = tmp_path / "disc"
    study_uid = generate_uid()
    sops = write_study(root, "P1", JANE, study_uid=study_uid, count=N)
    hostile = root / "DICOM" / "P1" / f"I{bad:07d}"
    with open(hostile, "ab") as fh:  # an identity element after the pixel data
        fh.write(struct.pack("<HH", 0x0010, 0x0020) + b"LO" + struct.pack("<H", 4) + b"MRN2")
    ordered(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, out, err = import_all(capsys, root, cfg, "MRN1", "--accession", "ACC1")
    assert code == 6, err
    bad_sop = sops[f"DICOM/P1/I{bad:07d}"]
    assert received_sops(storage_server) == sorted(s for s in sops.values() if s != bad_sop)
    [study] = out["studies"]
    assert (study["queued"], study["sent"], study["failed"]) == (N, N - 1, 1), study
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    [row] = queue["studies"]
    assert row["state"] == "quarantined"
    assert any("after the pixel data" in e["error"] for e in row["errors"]), row["errors"]
    code, sent, err = run_cli(capsys, "send", "--config", str(cfg))
    assert code == 6, (sent, err)
