"""End to end: the right patient, nothing lost, nothing written outside the spool.

Each test tries to break one promise of the integrity issue through the real
CLI (``kiosk.cli.main`` in-process) against real peers (DCMTK ``storescp`` and
``wlmscpfs``, Orthanc), with discs the test writes. Assertions are made on what
the PACS received (the files storescp wrote, Orthanc's REST API), on exit codes,
on ``kiosk queue --json`` / ``kiosk audit --json``, and where only the database
says it (an instance's quarantine reason) on the kiosk's SQLite store.

The hostile-UID test runs ``python -m kiosk`` as subprocesses: pydicom warns
(``UserWarning``) when it reads an invalid UI value, and pytest's
``filterwarnings = error`` would turn that into an exception in-process, which
the kiosk does not meet in real use.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from kiosk.cli import main
from kiosk.media.scan import is_valid_uid
from tests.discs import ct_instance, ct_series, make_dicomdir
from tests.kiosk_config import write_config
from tests.peers import OrthancServer, StorageServer, WorklistServer

# (PatientID, name, birth date, sex) as the outside hospital wrote them.
JANE = ("EXT-48213", "DOE^JANE^M", "19700101", "F")
JOHN = ("EXT-777", "ROE^JOHN", "19551231", "M")
ANNA = ("EXT-A", "SMITH^ANNA", "19800202", "F")
BERT = ("EXT-B", "JONES^BERT", "19660606", "M")

Patient = tuple[str, str, str, str]

# Hostile values from a disc: they must never become paths.
BAD_SOP_1 = "../../../outside/x"
BAD_SOP_2 = "1.2.3/../../y"
BAD_STUDY = "1.2.840.99/../../../../outside-study"


# --- helpers ------------------------------------------------------------------


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    """Run ``kiosk ... --json`` in-process; return (exit code, JSON, stderr)."""
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def run_kiosk(cwd: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    """Run ``python -m kiosk ... --json`` as its own process (Python's default warning filters,
    not pytest's); return (exit code, JSON, stderr)."""
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args, "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out = done.stdout
    return done.returncode, (json.loads(out) if out.strip() else {}), done.stderr


def config_for(
    tmp_path: Path,
    worklist: WorklistServer | None,
    *,
    spool: Path | None = None,
    extra: str = "",
    **dests: StorageServer | OrthancServer,
) -> Path:
    path = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations=dict(dests),
        spool=spool or tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    if extra:
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def write_study(
    root: Path,
    folder: str,
    patient: Patient,
    *,
    study_uid: str,
    count: int,
    series_uid: str | None = None,
    sop_uids: dict[int, str] | None = None,
) -> dict[str, str]:
    """Write ``count`` CT images of one study under ``root/DICOM/folder``.

    ``sop_uids`` forces the SOP Instance UID of some images (by number, from 1).
    Returns relpath -> SOP Instance UID.
    """
    pid, name, dob, sex = patient
    series_uid = series_uid or generate_uid()
    written = {}
    for n in range(1, count + 1):
        relpath = f"DICOM/{folder}/I{n:07d}"
        path = root / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():  # pydicom warns about the hostile UIDs we write
            warnings.simplefilter("ignore")
            ds = ct_instance(
                patient_id=pid,
                patient_name=name,
                birth_date=dob,
                sex=sex,
                study_uid=study_uid,
                series_uid=series_uid,
                number=n,
            )
            if sop_uids and n in sop_uids:
                ds.SOPInstanceUID = sop_uids[n]
                ds.file_meta.MediaStorageSOPInstanceUID = sop_uids[n]
            ds.save_as(path, enforce_file_format=True)
        written[relpath] = str(ds.SOPInstanceUID)
    return written


def store_in_orthanc(
    orthanc: OrthancServer,
    *,
    patient_id: str,
    study_uid: str,
    count: int = 1,
    name: str = "PACS^PATIENT",
    birth_date: str = "19700101",
    sex: str = "F",
    issuer: str = "MAINHOSP",
) -> list[str]:
    """Store ``count`` CT images in Orthanc through its REST API; return their SOP UIDs."""
    series = ct_series(
        patient_id=patient_id,
        study_uid=study_uid,
        count=count,
        patient_name=name,
        birth_date=birth_date,
        sex=sex,
        issuer=issuer,
    )
    return [str(ds.SOPInstanceUID) for ds in orthanc.upload(series)]


def received(storage: StorageServer) -> list[Dataset]:
    """What storescp wrote, read back (pixel data skipped)."""
    return [pydicom.dcmread(p, stop_before_pixels=True) for p in storage.received_files()]


def received_sops(storage: StorageServer) -> list[str]:
    """The SOP Instance UIDs storescp received, one per file (a duplicate shows twice)."""
    return sorted(str(ds.SOPInstanceUID) for ds in received(storage))


def db_rows(database: Path, sql: str, *args: object) -> list[dict[str, Any]]:
    """Rows of the kiosk's SQLite store, read with a connection of our own."""
    conn = sqlite3.connect(database)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def instance_rows(database: Path) -> list[dict[str, Any]]:
    """Every instance with its study, outbox state and reason."""
    return db_rows(
        database,
        "SELECT i.id, i.study_id, i.sop_instance_uid, i.source_relpath, i.original_path,"
        " i.coerced_path, s.study_instance_uid, o.state, o.last_error"
        " FROM instances i JOIN studies s ON s.id = i.study_id"
        " LEFT JOIN outbox o ON o.instance_id = i.id ORDER BY i.id",
    )


def tree(root: Path) -> set[Path]:
    """Every file and folder under ``root``."""
    out = set()
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            out.add(Path(folder) / name)
    return out


def digests(root: Path) -> dict[Path, str]:
    """SHA-256 of every file under ``root``."""
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in tree(root) if p.is_file()}


def is_under(path: Path, folder: Path) -> bool:
    return path == folder or path.is_relative_to(folder)


# --- 1. values from a disc never become paths -----------------------------------


def hostile_disc(root: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    """One patient, two studies: one with two invalid SOP UIDs, one with an invalid Study UID.

    Returns (the valid Study UID, its relpath -> SOP, the bad study's relpath -> SOP).
    """
    good_study = generate_uid()
    mixed = write_study(
        root, "P1S1", JANE, study_uid=good_study, count=4, sop_uids={2: BAD_SOP_1, 4: BAD_SOP_2}
    )
    bad = write_study(root, "P1S2", JANE, study_uid=BAD_STUDY, count=2)
    return good_study, mixed, bad


@pytest.mark.parametrize("new_uids", [False, True], ids=["keep-uids", "new-uids"])
def test_values_from_a_disc_never_become_paths(tmp_path, worklist_server, storage_server, new_uids):
    root = tmp_path / "disc"
    good_study, mixed, bad = hostile_disc(root)
    worklist_server.add_patient("MRN1", "DOE^JANE^MARIE")
    # A deep spool and a deep working folder: a "../.." that escaped would still land in
    # tmp_path, where the walk below sees it.
    spool = tmp_path / "var" / "lib" / "kiosk" / "spool"
    extra = "\n[destinations.radiology.coercion]\nnew_uids = true\n" if new_uids else ""
    cfg = config_for(tmp_path, worklist_server, spool=spool, extra=extra, radiology=storage_server)
    spool.parent.mkdir(parents=True)
    cwd = tmp_path / "w" / "x" / "y" / "z"
    cwd.mkdir(parents=True)

    code, scan, err = run_kiosk(cwd, "scan", str(root))
    assert code == 0, err
    invalid = [p for p in scan["problems"] if p["code"] == "invalid-uid"]
    named = " ".join(p["message"] for p in invalid)
    for value in (BAD_SOP_1, BAD_SOP_2, BAD_STUDY):
        assert value in named, f"scan does not name {value!r} as invalid-uid: {invalid}"
    assert {p["path"] for p in invalid} >= {
        next(r for r, s in mixed.items() if s == BAD_SOP_1),
        next(r for r, s in mixed.items() if s == BAD_SOP_2),
        *bad,
    }

    before = tree(tmp_path)
    disc_before = digests(root)
    code, out, err = run_kiosk(
        cwd, "import", str(root), "--all", "--mrn", "MRN1", "--accession", "ACC-MRN1",
        "--no-send", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert sorted(s["study_instance_uid"] for s in out["studies"]) == sorted(
        [good_study, BAD_STUDY]
    )
    code, sent, err = run_kiosk(cwd, "send", "--config", str(cfg))
    after = tree(tmp_path)

    # Nothing was written outside the spool, the database, the log dir and the PACS's folder.
    database = tmp_path / "kiosk.sqlite3"
    log_dir = tmp_path / "xdg" / "xdg_state_home" / "outside-media-kiosk" / "log"
    allowed = [spool, log_dir, storage_server.base_dir]
    stray = [
        p
        for p in after - before
        if not any(is_under(p, a) for a in allowed)
        and not (p.parent == tmp_path and p.name.startswith(database.name))
        and not (p.is_dir() and any(is_under(a, p) for a in allowed))  # their parents
    ]
    assert stray == [], f"written outside the spool: {stray}"
    assert digests(root) == disc_before  # the disc is never written to
    assert not (tmp_path.parent / "outside").exists()
    assert not (tmp_path.parent / "outside-study").exists()
    # Spool names are ours: no value from the disc, no UID, no "..".
    hostile = [BAD_SOP_1, BAD_SOP_2, BAD_STUDY, good_study, *mixed.values(), *bad.values()]
    for path in tree(spool):
        rel = path.relative_to(spool)
        assert ".." not in rel.parts, path
        for name in rel.parts:
            assert not re.search(r"\d\.\d", name), f"a UID-like spool name: {path}"
            assert name not in ("x", "y") and "outside" not in name, path
            assert not any(uid in name for uid in hostile if len(uid) > 8), path

    got = received(storage_server)
    if not new_uids:
        # The instances with an invalid UID are quarantined, naming it; the valid ones go.
        assert code == 6, err
        assert (sent["sent"], sent["remaining"]) == (2, 4), sent  # quarantined at import
        valid = {s for s in mixed.values() if is_valid_uid(s)}
        assert sorted(str(ds.SOPInstanceUID) for ds in got) == sorted(valid)
        code, queue, _ = run_kiosk(cwd, "queue", "--config", str(cfg))
        states = {s["study_instance_uid"]: s["state"] for s in queue["studies"]}
        assert states == {good_study: "quarantined", BAD_STUDY: "quarantined"}
        code, trail, _ = run_kiosk(cwd, "audit", "--config", str(cfg))
        queued = {
            e["study_instance_uid"]: e["detail"] for e in trail["events"] if e["action"] == "queue"
        }
        assert set(queued) == {good_study, BAD_STUDY}
        assert all("quarantined" in detail for detail in queued.values()), queued
        rows = {r["source_relpath"]: r for r in instance_rows(database)}
        unnamed = []
        for relpath, sop in [*mixed.items(), *bad.items()]:
            row = rows[relpath]
            if sop in valid:
                assert row["state"] == "sent", row
                continue
            assert row["state"] == "quarantined", row
            shown = sop if relpath in mixed else BAD_STUDY
            if shown not in row["last_error"]:
                unnamed.append(f"{relpath} ({shown!r}): {row['last_error']!r}")
        assert unnamed == [], "quarantine reasons that do not name the invalid UID"
    else:
        # New UIDs from the destination's coercion: every instance goes, with valid UIDs.
        assert code == 0, err
        assert sent["sent"] == 6 and sent["quarantined"] == 0, sent
        assert len(got) == 6
        disc_uids = {good_study, BAD_STUDY, *mixed.values(), *bad.values()}
        for ds in got:
            for uid in (ds.SOPInstanceUID, ds.StudyInstanceUID, ds.SeriesInstanceUID):
                assert is_valid_uid(str(uid)), uid
                assert str(uid) not in disc_uids
            assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert len({str(ds.SOPInstanceUID) for ds in got}) == 6
        assert len({str(ds.StudyInstanceUID) for ds in got}) == 2
        code, queue, _ = run_kiosk(cwd, "queue", "--config", str(cfg))
        assert {s["state"] for s in queue["studies"]} == {"sent"}
        for s in queue["studies"]:
            assert is_valid_uid(s["new_study_instance_uid"]), s


# --- 2. one Study UID, one patient ------------------------------------------------


def shared_study_disc(root: Path) -> tuple[str, dict[str, str], dict[str, str]]:
    """Study UID S under outside patients ANNA (3 images) and BERT (2), one series UID too."""
    study_uid, series_uid = generate_uid(), generate_uid()
    anna = write_study(root, "PA", ANNA, study_uid=study_uid, series_uid=series_uid, count=3)
    bert = write_study(root, "PB", BERT, study_uid=study_uid, series_uid=series_uid, count=2)
    make_dicomdir(root)
    return study_uid, anna, bert


def test_one_study_uid_under_two_patients_is_imported_only_as_one_of_them(
    tmp_path, capsys, worklist_server, storage_server
):
    root = tmp_path / "disc"
    study_uid, anna, bert = shared_study_disc(root)
    worklist_server.add_patient("MRNB", BERT[1])
    worklist_server.add_patient("MRNA", ANNA[1])
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scan, err = run_cli(capsys, "scan", str(root))
    assert code == 0, err
    [conflict] = [c for c in scan["conflicts"] if c["uid"] == study_uid]
    assert conflict["kind"] == "study"
    assert sorted(p["patient_id"] for p in conflict["patients"]) == ["EXT-A", "EXT-B"]

    # Without --patient: refused, nothing reaches the PACS, nothing is recorded.
    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRNB",
        "--accession", "ACC-MRNB", "--config", str(cfg),
    )  # fmt: skip
    assert code == 5, err
    assert out == {}
    assert storage_server.received_files() == []

    # With --patient B: exactly B's instances, none of A's.
    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--patient", "EXT-B", "--mrn", "MRNB",
        "--accession", "ACC-MRNB", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert [(s["queued"], s["sent"]) for s in out["studies"]] == [(2, 2)]
    assert received_sops(storage_server) == sorted(bert.values())
    assert set(received_sops(storage_server)).isdisjoint(anna.values())
    assert {ds.PatientID for ds in received(storage_server)} == {"MRNB"}
    assert {ds.OtherPatientIDsSequence[0].PatientID for ds in received(storage_server)} == {"EXT-B"}

    # A's copy of the same Study UID under another MRN: refused, nothing of A arrives.
    code, _, err = run_cli(
        capsys, "import", str(root), "--all", "--patient", "EXT-A", "--mrn", "MRNA",
        "--accession", "ACC-MRNA", "--config", str(cfg),
    )  # fmt: skip
    assert code == 5, err
    assert received_sops(storage_server) == sorted(bert.values())
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    assert len(queue["studies"]) == 1


def test_all_with_patient_imports_the_shared_study_once(
    tmp_path, capsys, worklist_server, storage_server
):
    root = tmp_path / "disc"
    study_uid, anna, bert = shared_study_disc(root)
    worklist_server.add_patient("MRNA", ANNA[1])
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, _, err = run_cli(
        capsys, "import", str(root), "--all", "--mrn", "MRNA", "--accession", "ACC-MRNA",
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 5, err  # two outside patients: never both under one MRN
    assert storage_server.received_files() == []

    code, out, err = run_cli(
        capsys, "import", str(root), "--all", "--patient", "EXT-A", "--mrn", "MRNA",
        "--accession", "ACC-MRNA", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert [s["study_instance_uid"] for s in out["studies"]] == [study_uid]
    assert received_sops(storage_server) == sorted(anna.values())  # each exactly once
    assert set(received_sops(storage_server)).isdisjoint(bert.values())
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    [row] = queue["studies"]
    assert (row["study_instance_uid"], row["queued"], row["sent"]) == (study_uid, 3, 3)


@pytest.mark.parametrize("kind", ["instance", "series"])
def test_an_image_or_series_under_two_patients_blocks_both_studies(
    tmp_path, capsys, worklist_server, storage_server, kind
):
    """Two studies of two outside patients sharing an image's SOP UID, or a Series UID (a
    PACS that keys series by UID alone files one patient's images in the other's series:
    seen by red-team round 8, not named then): both are held for a person."""
    root = tmp_path / "disc"
    shared = generate_uid()
    s1, s2 = generate_uid(), generate_uid()
    if kind == "instance":
        write_study(root, "PA", ANNA, study_uid=s1, count=3, sop_uids={2: shared})
        write_study(root, "PB", BERT, study_uid=s2, count=3, sop_uids={3: shared})
    else:
        write_study(root, "PA", ANNA, study_uid=s1, series_uid=shared, count=3)
        write_study(root, "PB", BERT, study_uid=s2, series_uid=shared, count=3)
    make_dicomdir(root)
    worklist_server.add_patient("MRNA")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scan, err = run_cli(capsys, "scan", str(root))
    assert code == 0, err
    assert [(c["kind"], c["uid"]) for c in scan["conflicts"]] == [(kind, shared)]
    for study, patient in ((s1, "EXT-A"), (s2, "EXT-B")):
        for extra in ([], ["--patient", patient]):
            code, out, err = run_cli(
                capsys, "import", str(root), "--study", study, *extra, "--mrn", "MRNA",
                "--accession", "ACC-MRNA", "--config", str(cfg),
            )  # fmt: skip
            assert code == 5, (study, extra, err)
            assert out == {}
    assert storage_server.received_files() == []
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    assert queue["studies"] == []


@pytest.mark.parametrize("dicomdir", [False, True])
def test_two_images_of_one_study_under_one_sop_uid_make_a_partial_import(
    tmp_path, capsys, worklist_server, storage_server, dicomdir
):
    """Red team round 8: two different images of one study (two series) sharing a SOP UID
    were counted once as a copy; the import sent 3 of 4 and exited 0. A PACS keeps one image
    per UID, so one cannot go: the import says so (exit 6) and the scan lists it as lost."""
    root = tmp_path / "disc"
    shared, study_uid = generate_uid(), generate_uid()
    write_study(root, "S1", JANE, study_uid=study_uid, count=2, sop_uids={2: shared})
    write_study(root, "S2", JANE, study_uid=study_uid, count=2, sop_uids={1: shared})
    if dicomdir:
        make_dicomdir(root)
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scan, err = run_cli(capsys, "scan", str(root))
    assert code == 0, err
    [lost] = scan["lost"]
    assert lost["sop_instance_uid"] == shared and "another series" in lost["why"]
    code, out, err = run_cli(
        capsys, "import", str(root), "--all", "--mrn", "MRN1", "--accession", "ACC-MRN1",
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 6, err
    assert "shares a SOP Instance UID with another image of the study" in err
    [study] = out["studies"]
    assert (study["sent"], study["queued"], study["clashing_on_medium"]) == (3, 3, 1)
    assert len(storage_server.received_files()) == 3


@pytest.mark.parametrize("where", ["other-path", "same-path"])
def test_a_second_disc_reusing_an_imported_sop_uid_for_another_image_sends_the_rest(
    tmp_path, capsys, worklist_server, storage_server, where
):
    """Red team round 12: a second disc of a study holding a new image and another image
    under an imported SOP UID: at another path the import exited 7 ("UNIQUE constraint
    failed") and the new image never went; at the same path it exited 0, the spool's copy
    of the first disc taken for it and the second disc's image never named."""
    study_uid = generate_uid()
    first = write_study(tmp_path / "disc1", "S1", JANE, study_uid=study_uid, count=3)
    make_dicomdir(tmp_path / "disc1")
    reused = first["DICOM/S1/I0000003"]
    second = tmp_path / "disc2"
    if where == "other-path":  # I0000001 is new; I0000002 is another image with I3's UID
        write_study(second, "S9", JANE, study_uid=study_uid, count=2, sop_uids={2: reused})
    else:  # S1/I0000003 is another image (another series) at the same path, S1/I0000004 new
        write_study(second, "S1", JANE, study_uid=study_uid, count=4, sop_uids={3: reused})
        for n in (1, 2):
            (second / f"DICOM/S1/I000000{n}").unlink()
    make_dicomdir(second)
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    args = ["--all", "--mrn", "MRN1", "--accession", "ACC-MRN1", "--config", str(cfg)]
    code, _, err = run_cli(capsys, "import", str(tmp_path / "disc1"), *args)
    assert code == 0, err
    before = {pydicom.dcmread(p).SOPInstanceUID for p in storage_server.wait_for_files(3)}

    code, out, err = run_cli(capsys, "import", str(second), *args)
    assert code == 6, err
    assert "imported before from another disc" in err
    [study] = out["studies"]
    assert study["clashing_on_medium"] == 1, study
    after = {pydicom.dcmread(p).SOPInstanceUID: p for p in storage_server.wait_for_files(4)}
    assert len(after) == 4 and set(before) < set(after)  # the new image went
    # the first disc's image under the reused UID is what the PACS holds
    held = pydicom.dcmread(after[reused])
    assert (
        held.SeriesInstanceUID
        == pydicom.dcmread(tmp_path / "disc1" / "DICOM/S1/I0000003").SeriesInstanceUID
    )

    code, out, err = run_cli(capsys, "import", str(tmp_path / "disc1"), *args)
    assert code == 0, err  # the first disc again: its copies are its own


# --- 3. an MRN that nobody confirms is never sent -------------------------------------


def test_unconfirmed_mrn_is_held_and_never_sent(tmp_path, capsys, worklist_server, storage_server):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    write_study(root, "P1", JANE, study_uid=study_uid, count=3)
    worklist_server.add_patient("MRN999")  # a real worklist, without our MRN
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRN-NOBODY",
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    [study] = out["studies"]
    assert (study["state"], study["sent"]) == ("unscheduled", 0)
    assert "MRN-NOBODY" in study["hold_reason"]
    assert storage_server.received_files() == []

    for extra in ([], ["--retry"]):
        code, sent, err = run_cli(capsys, "send", *extra, "--config", str(cfg))
        assert sent.get("sent") == 0, (code, sent, err)
        assert [h["hold_reason"] for h in sent["held"]] == [study["hold_reason"]]
    assert storage_server.received_files() == []
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    [row] = queue["studies"]
    assert (row["state"], row["sent"], row["mrn"]) == ("unscheduled", 0, "MRN-NOBODY")
    assert row["hold_reason"]
    code, trail, _ = run_cli(capsys, "audit", "--config", str(cfg))
    assert "hold" in [e["action"] for e in trail["events"]]
    assert "send" not in [e["action"] for e in trail["events"]]


def test_mrn_confirmed_by_the_pacs_is_sent_with_the_pacs_demographics(
    tmp_path, capsys, orthanc_server
):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    disc = write_study(root, "P1", JANE, study_uid=study_uid, count=3)
    store_in_orthanc(
        orthanc_server, patient_id="MRN300", study_uid=generate_uid(),
        name="PACS^JANE^MARIE", birth_date="19700101", sex="F",
    )  # fmt: skip
    cfg = config_for(tmp_path, None, radiology=orthanc_server)

    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRN300", "--config", str(cfg)
    )
    assert code == 0, err
    assert [(s["state"], s["sent"], s["hold_reason"]) for s in out["studies"]] == [("sent", 3, "")]
    for sop in disc.values():
        instance = orthanc_server.find_instance(sop)
        assert instance is not None, sop
        tags = orthanc_server.instance_tags(instance)
        assert tags["PatientID"] == "MRN300"
        assert tags["PatientName"] == "PACS^JANE^MARIE"
        assert (tags["PatientBirthDate"], tags["PatientSex"]) == ("19700101", "F")


def test_mrn_confirmed_by_the_patient_source_when_the_pacs_cannot_be_asked(
    tmp_path, capsys, orthanc_server, storage_server
):
    """storescp answers no C-FIND; the configured patient source (here Orthanc) knows the MRN."""
    root = tmp_path / "disc"
    study_uid = generate_uid()
    disc = write_study(root, "P1", JANE, study_uid=study_uid, count=2)
    store_in_orthanc(
        orthanc_server, patient_id="MRN301", study_uid=generate_uid(),
        name="SOURCE^JANE", birth_date="19700101", sex="F",
    )  # fmt: skip
    cfg = config_for(tmp_path, None, radiology=storage_server)
    args = ["import", str(root), "--study", study_uid, "--mrn", "MRN301", "--config", str(cfg)]
    code, out, err = run_cli(capsys, *args)
    assert code == 0, err
    assert out["studies"][0]["state"] == "unscheduled" and out["studies"][0]["hold_reason"]
    assert storage_server.received_files() == []  # nobody confirmed it yet: held

    source = (
        f'\n[patient_source]\nae_title = "{orthanc_server.aet}"\n'
        f'host = "{orthanc_server.host}"\nport = {orthanc_server.port}\n'
    )
    cfg.write_text(cfg.read_text() + source)
    code, out, err = run_cli(capsys, *args)  # the same disc again, now with a patient source
    assert code == 0, err
    assert [(s["state"], s["sent"]) for s in out["studies"]] == [("sent", 2)]
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(2)]
    assert {ds.SOPInstanceUID for ds in received} == set(disc.values())
    assert {(ds.PatientID, str(ds.PatientName)) for ds in received} == {("MRN301", "SOURCE^JANE")}


def test_birth_date_contradicting_the_pacs_patient_needs_confirmation(
    tmp_path, capsys, orthanc_server
):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    disc = write_study(root, "P1", JOHN, study_uid=study_uid, count=2)  # born 1955, male
    store_in_orthanc(
        orthanc_server, patient_id="MRN300", study_uid=generate_uid(),
        name="PACS^JANE^MARIE", birth_date="19700101", sex="F",
    )  # fmt: skip
    before = set(orthanc_server.instances())
    cfg = config_for(tmp_path, None, radiology=orthanc_server)
    args = ["import", str(root), "--study", study_uid, "--mrn", "MRN300", "--config", str(cfg)]

    code, out, err = run_cli(capsys, *args)
    assert code == 5, err
    assert "19551231" in err and "19700101" in err
    assert out == {}
    assert set(orthanc_server.instances()) == before

    code, out, err = run_cli(capsys, *args, "--confirm-mismatch")
    assert code == 0, err
    assert [(s["state"], s["sent"]) for s in out["studies"]] == [("sent", 2)]
    for sop in disc.values():
        instance = orthanc_server.find_instance(sop)
        assert instance is not None, sop
        tags = orthanc_server.instance_tags(instance)
        assert (tags["PatientID"], tags["PatientName"]) == ("MRN300", "PACS^JANE^MARIE")
        assert (tags["PatientBirthDate"], tags["PatientSex"]) == ("19700101", "F")


# --- 4. ask the PACS before sending ------------------------------------------------


@pytest.mark.parametrize("missing_only", [False, True], ids=["plain", "missing-only"])
def test_study_uid_the_pacs_holds_under_another_patient_is_refused(
    tmp_path, capsys, worklist_server, orthanc_server, missing_only
):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    write_study(root, "P1", JANE, study_uid=study_uid, count=3)
    make_dicomdir(root)
    store_in_orthanc(orthanc_server, patient_id="OTHER", study_uid=study_uid, count=2)
    before = set(orthanc_server.instances())
    worklist_server.add_patient("MRN1", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3])
    cfg = config_for(tmp_path, worklist_server, radiology=orthanc_server)

    extra = ["--missing-only"] if missing_only else []
    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRN1", *extra,
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 5, err
    assert "OTHER" in err and "MRN1" in err
    assert set(orthanc_server.instances()) == before
    [study] = out["studies"]
    assert (study["state"], study["sent"]) == ("quarantined", 0)
    assert "OTHER" in study["hold_reason"]

    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    [row] = queue["studies"]
    assert (row["state"], row["sent"]) == ("quarantined", 0)
    assert "OTHER" in row["hold_reason"] and "MRN1" in row["hold_reason"]
    code, trail, _ = run_cli(capsys, "audit", "--config", str(cfg))
    assert [e["outcome"] for e in trail["events"] if e["action"] == "refuse"] == ["refused"]

    for again in ([], ["--retry"]):
        code, sent, err = run_cli(capsys, "send", *again, "--config", str(cfg))
        assert sent.get("sent") == 0, (code, sent, err)
        assert code == 5, err  # never "done" while a confirmed study is not in the PACS
        assert "OTHER" in err and "MRN1" in err
    assert set(orthanc_server.instances()) == before
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    assert [r["state"] for r in queue["studies"]] == ["quarantined"]


def test_a_reconciled_study_the_pacs_holds_under_another_patient_exits_5(
    tmp_path, capsys, worklist_server, orthanc_server
):
    """Red team round 12: reconcile then exited 6, "3 stay queued ('kiosk send' retries)",
    for a study the PACS check had refused (quarantined: send refuses it again)."""
    root = tmp_path / "disc"
    study_uid = generate_uid()
    write_study(root, "P1", JANE, study_uid=study_uid, count=3)
    make_dicomdir(root)
    worklist_server.add_patient("MRN1", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3])
    cfg = config_for(tmp_path, worklist_server, radiology=orthanc_server)
    code, _, err = run_cli(
        capsys, "import", str(root), "--all", "--mrn", "MRN1", "--no-send", "--config", str(cfg)
    )
    assert code == 0, err
    store_in_orthanc(orthanc_server, patient_id="OTHER", study_uid=study_uid, count=2)
    before = set(orthanc_server.instances())

    code, out, err = run_cli(
        capsys, "reconcile", study_uid, "--accession", "ACC-MRN1", "--config", str(cfg)
    )
    assert code == 5, err
    assert "OTHER" in err and "MRN1" in err and "stay queued" not in err, err
    [study] = out["studies"]
    assert (study["state"], study["sent"]) == ("quarantined", 0)
    assert set(orthanc_server.instances()) == before


@pytest.mark.parametrize(
    ("name", "birth_date", "sex", "refused"),
    [
        ("ROE^RICHARD", "19450101", "M", True),
        ("ROE^RICHARD", "19700101", "M", True),
        ("ROE^RICHARD", "19450101", "F", True),
        # round 9: a partial or empty birth date, another sex value, only the name
        ("ROE^RICHARD", "1945", "F", True),
        ("ROE^RICHARD", "194501", "F", True),
        ("ROE^RICHARD", "", "F", True),
        ("ROE^RICHARD", "19700101", "O", True),
        ("ROE^RICHARD", "19700101", "F", True),
        ("DOE^JANE", "19700101", "F", False),  # the same person: the study is added to
        ("SMITH^JANE", "1970", "", False),  # married since; what the PACS gives agrees
    ],
)
def test_study_uid_the_pacs_holds_under_our_mrn_as_another_person_is_refused(
    tmp_path, capsys, worklist_server, orthanc_server, name, birth_date, sex, refused
):
    """Red team round 8: the PACS held the Study UID under MRN1 as ROE^RICHARD, born 1945,
    male; the disc's study was DOE^JANE's, whose order is MRN1. The import sent it (exit 0):
    one study of two people under MRN1. The check compared the Patient ID only."""
    root = tmp_path / "disc"
    study_uid = generate_uid()
    write_study(root, "P1", JANE, study_uid=study_uid, count=3)
    make_dicomdir(root)
    with warnings.catch_warnings():  # a partial date ("1945") is what some PACS hold
        warnings.filterwarnings("ignore", "Invalid value for VR DA")
        store_in_orthanc(
            orthanc_server, patient_id="MRN1", study_uid=study_uid, count=2, name=name,
            birth_date=birth_date, sex=sex,
        )  # fmt: skip
    before = set(orthanc_server.instances())
    worklist_server.add_patient("MRN1", JANE[1], PatientBirthDate=JANE[2], PatientSex=JANE[3])
    cfg = config_for(tmp_path, worklist_server, radiology=orthanc_server)

    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRN1", "--config", str(cfg)
    )
    if not refused:  # the same person: the study is added to
        assert code == 0, err
        return
    assert code == 5, err
    assert "under our MRN MRN1 as another person" in err
    assert set(orthanc_server.instances()) == before
    [study] = out["studies"]
    assert (study["state"], study["sent"]) == ("quarantined", 0)


# --- 5. one bad file is one bad instance -------------------------------------------


def damage(path: Path, how: str) -> None:
    """Damage a spool file: flip bytes in the middle, truncate it, or delete it."""
    if how == "flip":
        data = bytearray(path.read_bytes())
        middle = len(data) // 2
        for k in range(middle, middle + 16):
            data[k] ^= 0xFF
        path.write_bytes(bytes(data))
    elif how == "truncate":
        with open(path, "r+b") as fh:
            fh.truncate(path.stat().st_size // 3)
    else:
        path.unlink()


def two_patient_disc(root: Path) -> tuple[tuple[str, dict[str, str]], tuple[str, dict[str, str]]]:
    jane_uid, john_uid = generate_uid(), generate_uid()
    jane = write_study(root, "P1", JANE, study_uid=jane_uid, count=4)
    john = write_study(root, "P2", JOHN, study_uid=john_uid, count=4)
    make_dicomdir(root)
    return (jane_uid, jane), (john_uid, john)


@pytest.mark.parametrize("how", ["flip", "truncate", "delete"])
def test_a_damaged_spool_file_quarantines_that_instance_only(
    tmp_path, capsys, worklist_server, storage_server, how
):
    root = tmp_path / "disc"
    (jane_uid, jane), (john_uid, john) = two_patient_disc(root)
    worklist_server.add_patient("MRN1", JANE[1])
    worklist_server.add_patient("MRN2", JOHN[1])
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    database = tmp_path / "kiosk.sqlite3"
    jane_args = ["import", str(root), "--study", jane_uid, "--mrn", "MRN1"]
    jane_args += ["--accession", "ACC-MRN1", "--config", str(cfg)]
    code, _, err = run_cli(capsys, *jane_args, "--no-send")
    assert code == 0, err
    code, _, err = run_cli(
        capsys, "import", str(root), "--study", john_uid, "--mrn", "MRN2",
        "--accession", "ACC-MRN2", "--no-send", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err

    rows = [r for r in instance_rows(database) if r["study_instance_uid"] == jane_uid]
    assert len(rows) == 4
    victim = rows[1]
    damage(Path(victim["coerced_path"]), how)

    code, sent, err = run_cli(capsys, "send", "--config", str(cfg))
    assert code == 6, err
    assert (sent["sent"], sent["quarantined"], sent["remaining"]) == (7, 1, 1), sent
    assert sent["unreachable"] == {}
    good = sorted(s for s in jane.values() if s != victim["sop_instance_uid"])
    assert received_sops(storage_server) == sorted([*good, *john.values()])

    [row] = [r for r in instance_rows(database) if r["id"] == victim["id"]]
    assert row["state"] == "quarantined"
    assert "spool file" in row["last_error"]
    assert ("missing" if how == "delete" else "changed") in row["last_error"], row["last_error"]
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    assert queue["destinations_down"] == []
    states = {s["study_instance_uid"]: (s["state"], s["sent"]) for s in queue["studies"]}
    assert states == {jane_uid: ("quarantined", 3), john_uid: ("sent", 4)}

    # The same disc again, same MRN: the instance is copied and sent; no second study row.
    code, out, err = run_cli(capsys, *jane_args)
    assert code == 0, err
    assert [(s["state"], s["queued"], s["sent"]) for s in out["studies"]] == [("sent", 4, 4)]
    assert set(received_sops(storage_server)) == {*jane.values(), *john.values()}
    code, queue, _ = run_cli(capsys, "queue", "--config", str(cfg))
    assert sorted(s["study_instance_uid"] for s in queue["studies"]) == sorted([jane_uid, john_uid])
    assert {s["state"] for s in queue["studies"]} == {"sent"}
    assert queue["destinations_down"] == []
    code, trail, _ = run_cli(capsys, "audit", "--config", str(cfg))
    jane_events = [e["action"] for e in trail["events"] if e["study_instance_uid"] == jane_uid]
    assert jane_events.count("found") == 1 and "reimport" in jane_events, jane_events


# --- 6. a damaged spool original is not coerced into a good file ---------------------


def test_a_damaged_original_is_not_coerced_into_a_good_file(
    tmp_path, capsys, worklist_server, storage_server
):
    root = tmp_path / "disc"
    study_uid = generate_uid()
    disc = write_study(root, "P1", JANE, study_uid=study_uid, count=4)
    worklist_server.add_patient("MRN1")  # its order: accession ACC-MRN1
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    database = tmp_path / "kiosk.sqlite3"

    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRN1", "--no-send",
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert out["studies"][0]["state"] == "queued"
    victim = instance_rows(database)[2]
    damage(Path(victim["original_path"]), "flip")
    # Coercion is on the way out: the original is the one copy (no coerced file to lose).
    assert victim["coerced_path"] == victim["original_path"]
    assert not list((tmp_path / "spool").rglob("coerced"))

    code, out, err = run_cli(
        capsys, "reconcile", study_uid, "--accession", "ACC-MRN1", "--config", str(cfg)
    )
    assert code == 6, err
    [study] = out["studies"]
    assert (study["queued"], study["sent"], study["failed"]) == (4, 3, 1)
    good = sorted(s for s in disc.values() if s != victim["sop_instance_uid"])
    assert received_sops(storage_server) == good
    assert {ds.AccessionNumber for ds in received(storage_server)} == {"ACC-MRN1"}
    [row] = [r for r in instance_rows(database) if r["id"] == victim["id"]]
    assert row["state"] == "quarantined"
    assert "SHA-256" in row["last_error"], row["last_error"]

    code, sent, err = run_cli(capsys, "send", "--retry", "--config", str(cfg))
    assert sent["sent"] == 0, (code, sent, err)
    assert received_sops(storage_server) == good


def test_the_window_never_says_done_for_an_import_that_left_a_clashing_image():
    from kiosk.importer import ImportOutcome
    from ui.models.studies import all_sent, outcome_status, outcome_summary

    outcome = ImportOutcome(
        1, "1.2.3", "1.2.4", "radiology", 3, 3, 0, "", "sent", clashing_on_medium=1
    )
    assert not all_sent([outcome])
    assert "1 image shares its UID" in outcome_summary([outcome], "Radiology")
    assert "keep it" in outcome_status(outcome)


@pytest.mark.parametrize(
    ("disc_name", "order_name", "refused"),
    [
        ("DOE^JANE", "DOE^MARY", "the disc's given name differs"),  # a twin: same day, sex
        ("DOE^JANE", "SMITH^JOHN", "the disc's name differs"),  # the order's patient changed
        ("DOE^JANE", "DOW^JANE", ""),  # a typo of the outside hospital
        ("DOE^JANE", "JANE DOE", ""),  # written without ^
        ("IVANOVA^OLGA", "Иванова^Ольга", ""),  # another script, one name (ICAO)
        ("YAMADA^HANAKO", "=山田^花子", ""),  # kanji only: cannot be compared, not refused
    ],
)
def test_an_order_whose_name_contradicts_the_disc_is_not_imported_unasked(
    tmp_path, capsys, worklist_server, storage_server, disc_name, order_name, refused
):
    """Red team round 13: the order ACC-1 of MRN1 was changed from DOE^JANE to DOE^MARY (or
    SMITH^JOHN) with the same birth date and sex between ``kiosk match`` and ``kiosk
    import``; the import compared birth date and sex only, and sent the disc's DOE^JANE as
    DOE^MARY (exit 0). A name that plainly contradicts the disc's (another given name, or
    nothing alike) is now a mismatch a person must confirm (exit 5, as a birth date is)."""
    from tests.discs import write_ct_disc

    root = tmp_path / "disc"
    write_ct_disc(root, [("EXT-1", disc_name, "19700101", "F")], per_study=2)
    worklist_server.add_patient(
        "MRN1",
        order_name,
        PatientBirthDate="19700101",
        PatientSex="F",
        SpecificCharacterSet="ISO_IR 192",
    )
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    args = ["import", str(root), "--all", "--mrn", "MRN1", "--accession", "ACC-MRN1"]
    code, _, err = run_cli(capsys, *args, "--config", str(cfg))
    if not refused:
        assert code == 0, err
        assert len(storage_server.wait_for_files(2)) == 2
        return
    assert code == 5, err
    assert refused in err and "confirm the mismatch" in err
    assert order_name.split("^")[1] not in err  # names are not quoted in what may be logged
    assert storage_server.received_files() == []
    code, _, err = run_cli(capsys, *args, "--confirm-mismatch", "--config", str(cfg))
    assert code == 0, err  # a person checked the patient
    assert len(storage_server.wait_for_files(2)) == 2
