"""A power cut at any step: real ``kiosk`` processes killed with SIGKILL, then ``kiosk send``.

Each test runs the real CLI in a child process with ``KIOSK_FAULT`` naming a
step (:mod:`kiosk.faults`): the child kills itself there, with no clean-up.
Then the next ``kiosk send`` must either finish the work from the spool (the
copy was complete) or name the study as incomplete and exit non-zero (it
was not). Asserted on what storescp actually received.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from tests.peers import StorageServer, WorklistServer

JANE = ("EXT-1", "DOE^JANE", "19700101", "F")
N = 5


def kiosk(*args: str, fault: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``python -m kiosk`` in a child (this test's XDG dirs), optionally killed at ``fault``."""
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_FAULT"}
    if fault:
        env["KIOSK_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def setup(tmp_path: Path, worklist_server: WorklistServer, storage_server: StorageServer):
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=N)
    worklist_server.add_patient("MRN1", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3])
    worklist_server.add_item(
        PatientID="MRN1",
        PatientName=JANE[1],
        PatientBirthDate=JANE[2],
        PatientSex=JANE[3],
        AccessionNumber="ACC1",
    )
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    return disc, study, cfg


def study_rows(cfg: Path) -> list[tuple[int, str]]:
    conn = sqlite3.connect(cfg.parent / "kiosk.sqlite3")
    try:
        return [(r[0], r[1]) for r in conn.execute("SELECT id, state FROM studies ORDER BY id")]
    finally:
        conn.close()


def import_args(disc: Path, cfg: Path, *extra: str) -> list[str]:
    return ["import", str(disc), "--all", "--mrn", "MRN1", *extra, "--config", str(cfg)]


@pytest.mark.parametrize(
    "fault",
    ["import.copied", "import.coerced", "import.queued", "send.recorded"],
)
def test_a_crash_after_a_complete_copy_is_finished_by_the_next_send(
    setup, storage_server: StorageServer, fault: str
) -> None:
    disc, study, cfg = setup
    died = kiosk(*import_args(disc, cfg, "--accession", "ACC1"), fault=fault)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert len(study_rows(cfg)) == 1

    done = kiosk("send", "--config", str(cfg), "--json")
    assert done.returncode == 0, done.stderr
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(N)]
    assert {ds.SOPInstanceUID for ds in received} >= set(study.sop_instance_uids)
    assert {ds.PatientID for ds in received} == {"MRN1"}
    assert {ds.AccessionNumber for ds in received} == {"ACC1"}
    assert study_rows(cfg) == [(1, "sent")]
    queue = json.loads(kiosk("queue", "--config", str(cfg), "--json").stdout)
    assert [(s["state"], s["sent"], s["queued"]) for s in queue["studies"]] == [("sent", N, N)]


@pytest.mark.parametrize("fault", ["import.found", "import.copy-file:2"])
def test_a_crash_during_the_copy_is_named_and_a_second_import_resumes(
    setup, storage_server: StorageServer, fault: str
) -> None:
    disc, study, cfg = setup
    died = kiosk(*import_args(disc, cfg, "--accession", "ACC1"), fault=fault)
    assert died.returncode == -signal.SIGKILL, died.stderr

    sent = kiosk("send", "--config", str(cfg), "--json")
    assert sent.returncode == 6, sent.stderr  # never 0 while a confirmed study is missing
    [incomplete] = json.loads(sent.stdout)["incomplete"]
    assert incomplete["expected"] == N and incomplete["copied"] < N
    assert "insert the disc again" in sent.stderr
    assert sent.stderr.count("\n") == 1 and "Traceback" not in sent.stderr
    assert storage_server.received_files() == []

    again = kiosk(*import_args(disc, cfg, "--accession", "ACC1", "--json"))
    assert again.returncode == 0, again.stderr
    received = storage_server.wait_for_files(N)
    assert {pydicom.dcmread(p).SOPInstanceUID for p in received} == set(study.sop_instance_uids)
    assert study_rows(cfg) == [(1, "sent")]  # the same row, resumed: nothing to block later
    assert kiosk("send", "--config", str(cfg)).returncode == 0


def test_a_crash_in_a_reconciliation_is_finished_by_the_next_send(
    setup, storage_server: StorageServer
) -> None:
    disc, study, cfg = setup
    cfg.write_text(cfg.read_text() + '\n[reconcile]\nunscheduled = "hold"\n')
    held = kiosk(*import_args(disc, cfg, "--json"))
    assert held.returncode == 0, held.stderr
    assert study_rows(cfg) == [(1, "unscheduled")]
    assert storage_server.received_files() == []

    args = ["reconcile", study.study_instance_uid, "--accession", "ACC1", "--config", str(cfg)]
    died = kiosk(*args, fault="reconcile.attached")
    assert died.returncode == -signal.SIGKILL, died.stderr
    done = kiosk("send", "--config", str(cfg), "--json")
    assert done.returncode == 0, done.stderr
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(N)]
    assert {ds.AccessionNumber for ds in received} == {"ACC1"}
    assert study_rows(cfg) == [(1, "sent")]


def test_a_crash_mid_send_sends_nothing_twice_and_loses_nothing(
    tmp_path: Path, worklist_server: WorklistServer
) -> None:
    """The first results are recorded, then the process dies: the rest goes, each once."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=600)  # results are recorded per 256
    worklist_server.add_patient("MRN1", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3])
    with StorageServer(tmp_path / "pacs", ae_title="STORESCP") as pacs:
        cfg = write_config(
            tmp_path / "kiosk.toml",
            worklist=worklist_server,
            destinations={"radiology": pacs},
            spool=tmp_path / "spool",
            database=tmp_path / "kiosk.sqlite3",
        )
        assert kiosk(*import_args(disc, cfg, "--no-send")).returncode == 0
        died = kiosk("send", "--config", str(cfg), fault="send.recorded")
        assert died.returncode == -signal.SIGKILL
        assert 0 < len(pacs.received_files()) < 600  # it died part way
        done = kiosk("send", "--config", str(cfg), "--json")
        assert done.returncode == 0, done.stderr
        received = [pydicom.dcmread(p).SOPInstanceUID for p in pacs.wait_for_files(600)]
    assert set(received) == set(study.sop_instance_uids)
    assert study_rows(cfg) == [(1, "sent")]


def _damage(disc: Path, kind: str) -> None:
    """No DICOMDIR, and the last image cut short (``unread``) or another image with the first
    one's SOP Instance UID added (``clash``): a disc the import exits 6 for."""
    (disc / "DICOMDIR").unlink()
    images = sorted((disc / "DICOM").rglob("I*"))
    if kind == "unread":
        data = images[-1].read_bytes()
        images[-1].write_bytes(data[: len(data) // 2])
        return
    other = pydicom.dcmread(images[0])
    other.SeriesInstanceUID = pydicom.uid.generate_uid()
    other.PixelData = bytes(len(other.PixelData))
    other.save_as(images[0].with_name("I0000099"), enforce_file_format=True)


@pytest.mark.parametrize("kind", ["unread", "clash"])
@pytest.mark.parametrize("fault", ["import.copied", "import.queued"])
def test_a_crash_never_turns_a_disc_not_all_read_into_a_success(
    setup, storage_server: StorageServer, kind: str, fault: str
) -> None:
    """Red team round 12: the import of such a disc exits 6; killed after the copy, the
    next ``kiosk send`` finished it and exited 0, and nothing named the image again."""
    disc, _study, cfg = setup
    _damage(disc, kind)
    died = kiosk(*import_args(disc, cfg, "--accession", "ACC1"), fault=fault)
    assert died.returncode == -signal.SIGKILL, died.stderr

    done = kiosk("send", "--config", str(cfg), "--json")
    assert done.returncode == 6, done.stderr
    [line] = json.loads(done.stdout)["not_all_read"]
    assert "keep the disc" in line and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[-1] == f"kiosk: {line}"
    queue = json.loads(kiosk("queue", "--config", str(cfg), "--json").stdout)
    [row] = queue["studies"]
    key = "unread_on_medium" if kind == "unread" else "clashing_on_medium"
    assert row[key] == 1, row
    assert kiosk("send", "--config", str(cfg)).returncode == 0  # said once, as the import does
