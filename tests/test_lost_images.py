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
from pydicom.uid import generate_uid

from tests.discs import ct_instance, make_dicomdir, write_ct_disc
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


def write_disc(root: Path, *, dicomdir_pid: str, file_pid: str, sops: list[str]) -> str:
    """Three images of Jane's, the DICOMDIR made while they said ``dicomdir_pid`` and the
    files then written again under ``file_pid``; returns the Study UID."""
    study, series = generate_uid(), generate_uid()
    for pid in dict.fromkeys((dicomdir_pid, file_pid)):
        for n, sop in enumerate(sops, 1):
            ds = ct_instance(
                patient_id=pid, patient_name=JANE[1], birth_date=JANE[2], sex=JANE[3],
                study_uid=study, series_uid=series, number=n,
            )  # fmt: skip
            ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = sop
            path = root / "DICOM" / f"I{n}"
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(path, enforce_file_format=True)
        if pid == dicomdir_pid:
            make_dicomdir(root)
    return study


@pytest.mark.parametrize("case", ["missing", "dicomdir-names-another-id", "one-uid-twice"])
def test_what_the_dicomdir_lists_is_missed_whatever_it_says(
    tmp_path, worklist_server, storage_server, case
):
    """Red team round 5: a listed file not on the disc, a DICOMDIR naming another outside ID
    than the files, and two listed unreadable files with one SOP UID (exit 7 for good)."""
    disc = tmp_path / "disc"
    sops = [generate_uid() for _ in range(3)]
    while len(sops[2]) != len(sops[1]):  # swapped in the DICOMDIR's bytes below: same length
        sops[2] = generate_uid()
    other_id = case == "dicomdir-names-another-id"
    study = write_disc(
        disc, dicomdir_pid="EXT-A", file_pid="EXT-B" if other_id else "EXT-A", sops=sops
    )
    i2, i3 = disc / "DICOM" / "I2", disc / "DICOM" / "I3"
    if case == "missing":
        i2.unlink()
    elif case == "dicomdir-names-another-id":
        i2.write_bytes(i2.read_bytes()[:400])
    else:
        dicomdir = disc / "DICOMDIR"
        dicomdir.write_bytes(dicomdir.read_bytes().replace(sops[2].encode(), sops[1].encode()))
        i2.write_bytes(i2.read_bytes()[:400])
        i3.write_bytes(i3.read_bytes()[:400])
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--study", study, "--mrn", "MRN1",
        "--accession", "ACC-MRN1", "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip

    assert code == 6, err
    [outcome] = done["studies"]
    whole = 1 if case == "one-uid-twice" else 2
    assert (outcome["sent"], outcome["failed"]) == (whole, 1)
    storage_server.wait_for_files(whole)
    assert sops[1] not in received_sops(storage_server)


def test_a_full_scan_names_a_dicomdir_that_disagrees_with_the_files(tmp_path):
    """Red team round 5: only the quick scan's verify compared the record with the file."""
    disc = tmp_path / "disc"
    write_disc(disc, dicomdir_pid="EXT-A", file_pid="EXT-B", sops=[generate_uid() for _ in "abc"])

    code, scanned, err = run_kiosk(tmp_path, "scan", str(disc))

    assert code == 0, err
    mismatches = [p for p in scanned["problems"] if p["code"] == "dicomdir-mismatch"]
    assert len(mismatches) == 3
    assert all("patient_id" in p["message"] for p in mismatches)
    assert [p["patient_id"] for p in scanned["patients"]] == ["EXT-B"]  # the files' word


ORIGINAL_ID = b"DICOM\\P0000001\\I0000003 "


@pytest.mark.parametrize(
    ("case", "points_to"),
    [
        ("outside", b"..\\I0000003"),
        ("drive", b"DICOM\\C:I0000003"),
        ("another-image", b"DICOM\\P0000001\\I0000002 "),
        ("the-dicomdir", b"DICOMDIR"),
    ],
)
def test_an_image_the_dicomdir_lists_where_it_cannot_be_is_lost(
    tmp_path, worklist_server, storage_server, case, points_to
):
    """Red team round 7: I3's record pointing outside the disc, at I2's file or at the
    DICOMDIR: I3 (whose file is gone) left out, no trace in ``lost``, import exit 0."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=3)
    dicomdir = disc / "DICOMDIR"
    raw = dicomdir.read_bytes()
    assert raw.count(ORIGINAL_ID) == 1
    dicomdir.write_bytes(raw.replace(ORIGINAL_ID, points_to.ljust(len(ORIGINAL_ID), b" ")))
    (disc / "DICOM" / "P0000001" / "I0000003").unlink()
    if case == "outside":
        (tmp_path / "I0000003").write_bytes(b"not followed")
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scanned, err = run_kiosk(tmp_path, "scan", str(disc))
    assert code == 0, err
    [lost] = scanned["lost"]
    assert lost["study_instance_uid"] == study.study_instance_uid
    assert lost["sop_instance_uid"] == study.sop_instance_uids[2]
    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--all", "--mrn", "MRN1", "--accession", "ACC-MRN1",
        "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    assert code == 6, err
    [outcome] = done["studies"]
    assert (outcome["sent"], outcome["failed"]) == (2, 1)


def test_an_image_of_another_study_under_a_shared_sop_uid_is_never_dropped_silently(
    tmp_path, worklist_server, storage_server
):
    """Red team round 7: image 3 of study B carried the SOP UID of image 3 of study A (another
    image). The scan took it for a copy and dropped it; import of B exited 0, 2 of 3."""
    disc = tmp_path / "disc"
    a, b, shared = generate_uid(), generate_uid(), generate_uid()
    for name, study in (("A", a), ("B", b)):
        series = generate_uid()
        for n in range(1, 4):
            ds = ct_instance(
                patient_id=JANE[0], patient_name=JANE[1], birth_date=JANE[2], sex=JANE[3],
                study_uid=study, series_uid=series, number=n,
            )  # fmt: skip
            if n == 3:
                ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = shared
            path = disc / "DICOM" / name / f"I{n}"
            path.parent.mkdir(parents=True, exist_ok=True)
            ds.save_as(path, enforce_file_format=True)
    make_dicomdir(disc)
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scanned, err = run_kiosk(tmp_path, "scan", str(disc))
    assert code == 0, err
    [lost] = scanned["lost"]
    assert lost["sop_instance_uid"] == shared
    assert lost["study_instance_uid"] == b  # A's image was listed first: B's is the one left
    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--all", "--mrn", "MRN1", "--accession", "ACC-MRN1",
        "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    assert code == 6, err
    sent = {o["study_instance_uid"]: (o["sent"], o["failed"]) for o in done["studies"]}
    assert sent == {a: (3, 0), b: (2, 1)}


@pytest.mark.parametrize("how", ["copy", "hardlink", "another-study"])
def test_an_image_whose_listed_file_holds_another_image_is_lost(
    tmp_path, worklist_server, storage_server, how
):
    """Red team round 8: the DICOMDIR lists I3 at its file, but the file is a copy of (or a
    hard link to) I2, or an image of another study: I3 was dropped, import exit 0."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=3)
    i2, i3 = (disc / "DICOM" / "P0000001" / f"I000000{n}" for n in (2, 3))
    i3.unlink()
    if how == "copy":
        i3.write_bytes(i2.read_bytes())
    elif how == "hardlink":
        os.link(i2, i3)
    else:
        ds = ct_instance(
            patient_id=JANE[0], patient_name=JANE[1], birth_date=JANE[2], sex=JANE[3],
            study_uid=generate_uid(), series_uid=generate_uid(), number=1,
        )  # fmt: skip
        ds.save_as(i3, enforce_file_format=True)
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scanned, err = run_kiosk(tmp_path, "scan", str(disc))
    assert code == 0, err
    assert [x["sop_instance_uid"] for x in scanned["lost"]] == [study.sop_instance_uids[2]]
    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--study", study.study_instance_uid, "--mrn", "MRN1",
        "--accession", "ACC-MRN1", "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    assert code == 6, err
    [outcome] = done["studies"]
    assert (outcome["sent"], outcome["failed"]) == (2, 1)


@pytest.mark.parametrize("how", ["dicomdir-too-large", "garbled-file"])
def test_what_could_not_be_read_keeps_the_import_from_being_done(
    tmp_path, worklist_server, storage_server, monkeypatch, how
):
    """Red team round 8: a DICOMDIR padded past its size bound was not read (so its missing
    image was never named), and a disc file that could not be read was left out: each import
    exited 0. What may be an image and could not be read now makes the import partly done."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=3, dicomdir=how == "dicomdir-too-large")
    if how == "dicomdir-too-large":
        (disc / "DICOM" / "P0000001" / "I0000003").unlink()  # listed, not on the disc
        with (disc / "DICOMDIR").open("ab") as fh:
            fh.truncate((64 << 20) + 1)  # past the reader's bound
    else:
        (disc / "DICOM" / "P0000001" / "I0000009").write_bytes(
            b"\0" * 128 + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00" + b"\xff" * 64
        )
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scanned, err = run_kiosk(tmp_path, "scan", str(disc))
    assert code == 0, err
    assert {p["code"] for p in scanned["problems"]} & {"dicomdir-too-large", "unreadable-file"}
    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--study", study.study_instance_uid, "--mrn", "MRN1",
        "--accession", "ACC-MRN1", "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    assert code == 6, err
    assert "could not be read and may be images" in err
    [outcome] = done["studies"]
    assert outcome["unread_on_medium"] == 1


def test_a_broken_file_the_dicomdir_does_not_list_does_not_hold_a_whole_disc_back(
    tmp_path, worklist_server, storage_server
):
    """Red team round 9: a viewer's broken file (a DICM header and garbage) beside images a
    DICOMDIR lists whole kept every import of the disc at exit 6, for good."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=3)
    (disc / "VIEWER").mkdir()
    (disc / "VIEWER" / "logo.dcm").write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 64)
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    code, scanned, err = run_kiosk(tmp_path, "scan", str(disc))
    assert "unreadable-file" in {p["code"] for p in scanned["problems"]}  # shown
    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--study", study.study_instance_uid, "--mrn", "MRN1",
        "--accession", "ACC-MRN1", "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    [outcome] = done["studies"]
    assert (outcome["sent"], outcome["state"]) == (3, "sent")
    assert "unread_on_medium" not in outcome


@pytest.mark.parametrize("link", ["outside", "inside", "inside-folder"])
def test_a_link_on_a_disc_without_dicomdir_to_an_image_elsewhere_is_not_read_and_said(
    tmp_path, worklist_server, storage_server, link
):
    """Red team round 12: on a mounted folder with no DICOMDIR, an image replaced by a link to
    a file outside the disc was named ``symlink-on-medium`` but the import sent 2 of 3 and
    exited 0. A link is never followed, so what it names was not read: exit 6 and
    ``unread_on_medium``. A link to a file or folder of the disc itself (read anyway) is not."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=3, dicomdir=False)
    folder = disc / "DICOM" / "P0000001"
    third = folder / "I0000003"
    if link == "outside":
        third.rename(tmp_path / "elsewhere")
        os.symlink(tmp_path / "elsewhere", third)
    elif link == "inside":
        os.symlink("I0000003", folder / "LINK")
    else:
        os.symlink("P0000001", disc / "DICOM" / "LINKDIR")
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--study", study.study_instance_uid, "--mrn", "MRN1",
        "--accession", "ACC-MRN1", "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    [outcome] = done["studies"]
    if link == "outside":
        assert code == 6, err
        assert "could not be read and may be images" in err
        assert (outcome["sent"], outcome["unread_on_medium"]) == (2, 1)
    else:
        assert code == 0, err
        assert (outcome["sent"], outcome["state"]) == (3, "sent")
        assert "unread_on_medium" not in outcome
