"""One UID, one patient; UIDs checked (``kiosk/media/model.py``, ``kiosk/media/scan.py``).

Discs are built here with pydicom (``tests.discs.ct_instance``), with a
DICOMDIR made by DCMTK ``dcmmkdir`` (read deep and quick) and without one.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import UID, generate_uid

from kiosk.cli import main
from kiosk.errors import SafetyError, UsageError
from kiosk.media.model import IdentityConflict, MediaScan, PatientKey
from kiosk.media.scan import is_valid_uid, scan_medium, verify
from tests.discs import DCMMKDIR, ct_instance, make_dicomdir

needs_dcmmkdir = pytest.mark.skipif(
    not Path(DCMMKDIR).exists(), reason="DCMTK dcmmkdir missing (apt install dcmtk)"
)

ANN: PatientKey = ("A-100", "OUTSIDE-GENERAL", "ALPHA^ANN", "19600101")
BOB: PatientKey = ("B-200", "OUTSIDE-GENERAL", "BETA^BOB", "19700202")

# deep with a DICOMDIR, quick (the tree from the DICOMDIR's records), no DICOMDIR
MODES = [
    pytest.param("dicomdir", True, marks=needs_dcmmkdir, id="dicomdir-deep"),
    pytest.param("dicomdir", False, marks=needs_dcmmkdir, id="dicomdir-quick"),
    pytest.param("none", True, id="no-dicomdir"),
]


@dataclass
class Written:
    """What a test put on the disc for one patient."""

    key: PatientKey
    study_uid: str
    sop_uids: list[str] = field(default_factory=list)


def _image(key: PatientKey, study_uid: str, series_uid: str, number: int) -> Dataset:
    pid, issuer, name, dob = key
    return ct_instance(
        patient_id=pid,
        patient_name=name,
        birth_date=dob,
        sex="O",
        study_uid=study_uid,
        series_uid=series_uid,
        number=number,
        issuer=issuer,
        size=8,
    )


def _save(root: Path, folder: int, number: int, ds: Dataset) -> None:
    path = root / "DICOM" / f"P{folder:07d}" / f"I{number:07d}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def write_patients(
    root: Path,
    plan: list[tuple[PatientKey, str, int]],
    *,
    dicomdir: bool,
    shared_sop: str | None = None,
) -> list[Written]:
    """Write, per (patient key, study UID, count), that many CT images, ISO-style names.

    ``shared_sop`` is given to the first image of every patient.
    """
    out = []
    for folder, (key, study_uid, count) in enumerate(plan, 1):
        written = Written(key, study_uid)
        series_uid = generate_uid()
        for n in range(1, count + 1):
            ds = _image(key, study_uid, series_uid, n)
            if shared_sop is not None and n == 1:
                ds.SOPInstanceUID = shared_sop
                ds.file_meta.MediaStorageSOPInstanceUID = UID(shared_sop)
            _save(root, folder, n, ds)
            written.sop_uids.append(ds.SOPInstanceUID)
        out.append(written)
    if dicomdir:
        make_dicomdir(root)
    return out


def _codes(scan: MediaScan) -> list[str]:
    return [str(p.code) for p in scan.problems]


# --- one Study Instance UID under two outside patients ---------------------------------------


@pytest.mark.parametrize(("kind", "deep"), MODES)
def test_one_study_uid_under_two_patients(
    tmp_path: Path, kind: str, deep: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    disc = tmp_path / "disc"
    uid = generate_uid()
    write_patients(disc, [(ANN, uid, 2), (BOB, uid, 3)], dicomdir=kind == "dicomdir")
    scan = scan_medium(disc, deep=deep)

    assert sorted(p.patient_id for p in scan.patients) == ["A-100", "B-200"]
    assert len(scan.conflicts) == 1
    conflict = scan.conflicts[0]
    assert (conflict.kind, conflict.uid) == ("study", uid)
    assert [k[0] for k in conflict.patients] == ["A-100", "B-200"]
    if deep:
        assert conflict.patients == (ANN, BOB)
    problems = [p for p in scan.problems if p.code == "identity-conflict"]
    assert len(problems) == 1
    assert uid in problems[0].message
    assert "A-100" in problems[0].message and "B-200" in problems[0].message
    assert "ALPHA" not in problems[0].message and "BETA" not in problems[0].message

    scan = verify(scan, [uid])
    with pytest.raises(SafetyError) as info:
        scan.select([uid])
    message = str(info.value)
    assert uid in message and "A-100" in message and "B-200" in message
    assert "--patient" in message and "\n" not in message
    assert "ALPHA" not in message and "BETA" not in message
    assert info.value.exit_code == 5

    chosen = scan.select([uid], patient_id="B-200")
    assert len(chosen) == 1
    assert chosen[0].patient_key == BOB
    assert len(chosen[0].instances) == 3
    assert {i.patient_id for i in chosen[0].instances} == {"B-200"}
    assert all(i.verified for i in chosen[0].instances)
    only_ann = scan.select([uid], patient_id="A-100")[0]
    assert [i.patient_id for i in only_ann.instances] == ["A-100", "A-100"]

    with pytest.raises(SafetyError):
        scan.study(uid)
    with pytest.raises(UsageError):
        scan.select([uid], patient_id="C-300")

    # Both patients stay listed, each with only their own images.
    by_patient = {p.key: [len(s.instances) for s in p.studies] for p in scan.patients}
    assert by_patient == {ANN: [2], BOB: [3]}

    capsys.readouterr()
    args = ["scan", str(disc), "--json"] + ([] if deep else ["--quick"])
    assert main(args) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(c["kind"], c["uid"]) for c in doc["conflicts"]] == [("study", uid)]
    assert [p["patient_id"] for p in doc["conflicts"][0]["patients"]] == ["A-100", "B-200"]
    assert set(doc["conflicts"][0]["patients"][0]) == {
        "patient_id",
        "issuer_of_patient_id",
        "patient_name",
        "birth_date",
    }
    assert "identity-conflict" in [p["code"] for p in doc["problems"]]
    for key in ("source", "dicomdir", "patients", "instances", "problems", "non_dicom"):
        assert key in doc


@needs_dcmmkdir
def test_same_patient_one_id_but_two_birth_dates_is_a_conflict(tmp_path: Path) -> None:
    # The same PatientID is not enough: another birth date is another patient key.
    disc = tmp_path / "disc"
    uid = generate_uid()
    other = (ANN[0], ANN[1], ANN[2], "19610101")
    write_patients(disc, [(ANN, uid, 1), (other, uid, 1)], dicomdir=True)
    scan = scan_medium(disc)
    assert [c.patients for c in scan.conflicts] == [(ANN, other)]
    with pytest.raises(SafetyError) as info:
        scan.select([uid], patient_id="A-100")
    assert "A-100" in str(info.value) and "19610101" not in str(info.value)


# --- one SOP Instance UID under two outside patients -----------------------------------------


@pytest.mark.parametrize(("kind", "deep"), MODES)
def test_sop_instance_uid_shared_by_two_patients(tmp_path: Path, kind: str, deep: bool) -> None:
    disc = tmp_path / "disc"
    shared = generate_uid()
    ann, bob = write_patients(
        disc,
        [(ANN, generate_uid(), 2), (BOB, generate_uid(), 2)],
        dicomdir=kind == "dicomdir",
        shared_sop=shared,
    )
    scan = scan_medium(disc, deep=deep)

    # Never merged: both files are kept, each under its own patient.
    assert len(scan.instances) == 4
    holders = sorted(i.patient_id for i in scan.instances if i.sop_instance_uid == shared)
    assert holders == ["A-100", "B-200"]
    assert "duplicate-instance" not in _codes(scan)
    assert [(c.kind, c.uid) for c in scan.conflicts] == [("instance", shared)]
    assert "identity-conflict" in _codes(scan)

    scan = verify(scan, [ann.study_uid, bob.study_uid])
    for written in (ann, bob):
        with pytest.raises(SafetyError) as info:
            scan.select([written.study_uid])
        assert shared in str(info.value)
        with pytest.raises(SafetyError):
            scan.select([written.study_uid], patient_id=written.key[0])
        with pytest.raises(SafetyError):
            scan.study(written.study_uid)
    assert len(scan.instances) == 4


@needs_dcmmkdir
def test_quick_scan_sees_a_shared_sop_uid_only_the_files_show(tmp_path: Path) -> None:
    # The DICOMDIR says the second file is Ann's; its own header says Bob's.
    disc = tmp_path / "disc"
    uid = generate_uid()
    (ann,) = write_patients(disc, [(ANN, uid, 2)], dicomdir=True)
    bob = _image(BOB, generate_uid(), generate_uid(), 1)
    bob.SOPInstanceUID = ann.sop_uids[0]
    bob.file_meta.MediaStorageSOPInstanceUID = UID(ann.sop_uids[0])
    _save(disc, 1, 2, bob)  # overwrite Ann's second image, listed in the DICOMDIR as hers
    quick = scan_medium(disc, deep=False)
    with pytest.raises(SafetyError, match="known from the DICOMDIR only"):
        quick.select([uid])  # never from the records alone
    quick = verify(quick, [uid])
    with pytest.raises(SafetyError) as info:
        quick.select([uid])
    assert ann.sop_uids[0] in str(info.value)
    assert [(c.kind, c.uid) for c in quick.conflicts] == [("instance", ann.sop_uids[0])]


# --- select ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "deep"), MODES)
def test_select_counts_a_repeated_uid_once(tmp_path: Path, kind: str, deep: bool) -> None:
    disc = tmp_path / "disc"
    first, second = generate_uid(), generate_uid()
    write_patients(disc, [(ANN, first, 2), (ANN, second, 1)], dicomdir=kind == "dicomdir")
    scan = scan_medium(disc, deep=deep)
    assert scan.conflicts == ()
    scan = verify(scan, [first, second])
    chosen = scan.select([first, first])
    assert [(s.study_instance_uid, len(s.instances)) for s in chosen] == [(first, 2)]
    chosen = scan.select([second, first, second], patient_id="A-100")
    assert [s.study_instance_uid for s in chosen] == [second, first]
    assert all(i.verified for s in chosen for i in s.instances)
    with pytest.raises(UsageError) as info:
        scan.select(["1.2.3.999"])
    assert "1.2.3.999 is not on this medium" in str(info.value)
    assert scan.study("1.2.3.999") is None
    assert "identity-conflict" not in _codes(scan)


@needs_dcmmkdir
def test_quick_scan_without_birth_date_in_the_records_is_no_conflict(tmp_path: Path) -> None:
    # DCMTK's records lack the issuer and the birth date the files carry: not a conflict.
    disc = tmp_path / "disc"
    uid = generate_uid()
    write_patients(disc, [(ANN, uid, 2)], dicomdir=True)
    extra = _image(ANN, uid, generate_uid(), 9)
    _save(disc, 9, 9, extra)  # not in the DICOMDIR: read from the file at once
    quick = scan_medium(disc, deep=False)
    assert "not-in-dicomdir" in _codes(quick)
    assert quick.conflicts == ()
    quick = verify(quick, [uid])
    (study,) = quick.select([uid])
    assert len(study.instances) == 3
    assert quick.conflicts == ()
    assert "identity-conflict" not in _codes(quick)


def test_identity_conflict_is_frozen_and_ordered(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    uids = sorted([generate_uid(), generate_uid()])
    write_patients(
        disc,
        [(BOB, uids[1], 1), (ANN, uids[1], 1), (BOB, uids[0], 1), (ANN, uids[0], 1)],
        dicomdir=False,
    )
    scan = scan_medium(disc)
    assert scan.conflicts == (
        IdentityConflict("study", uids[0], (ANN, BOB)),
        IdentityConflict("study", uids[1], (ANN, BOB)),
    )
    with pytest.raises(AttributeError):
        scan.conflicts[0].uid = "1.2"  # type: ignore[misc]
    with pytest.raises(AttributeError):  # the scan is a value too
        scan.instances = ()  # type: ignore[misc]
    assert _codes(scan).count("identity-conflict") == 2


# --- invalid UIDs ----------------------------------------------------------------------------

BAD_UIDS = ["../../evil", "1.2.3/../../x", "1." + "2" * 63, "1.02.3", "1..2"]


def _write_one(root: Path, uids: dict[str, str], *, raw: bool = False) -> Path:
    ds = _image(ANN, generate_uid(), generate_uid(), 1)
    path = root / "DICOM" / "I0000001"
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the invalid values we mean
        for keyword, value in uids.items():
            setattr(ds, keyword, value)
            if keyword == "SOPInstanceUID":
                ds.file_meta.MediaStorageSOPInstanceUID = UID(value)
        if raw:  # no preamble, no file meta: read with pydicom rather than the fast reader
            del ds.file_meta
            ds.save_as(path, implicit_vr=False, little_endian=True)
        else:
            ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("raw", [False, True], ids=["part10", "raw"])
@pytest.mark.parametrize(
    "value", BAD_UIDS, ids=["dotdot", "slash", "65-chars", "leading-zero", "empty-component"]
)
def test_invalid_sop_instance_uid(tmp_path: Path, value: str, raw: bool) -> None:
    _write_one(tmp_path, {"SOPInstanceUID": value}, raw=raw)
    scan = scan_medium(tmp_path)
    (inst,) = scan.instances  # still listed: a person must see it
    assert inst.sop_instance_uid == value
    assert inst.uid_valid is False
    bad = [p for p in scan.problems if p.code == "invalid-uid"]
    assert len(bad) == 1
    assert bad[0].path == "DICOM/I0000001"
    assert "SOPInstanceUID" in bad[0].message
    assert repr(value)[:80] in bad[0].message
    assert "missing-uid" not in _codes(scan)


@pytest.mark.parametrize("keyword", ["StudyInstanceUID", "SeriesInstanceUID", "SOPClassUID"])
def test_invalid_other_uids(tmp_path: Path, keyword: str) -> None:
    _write_one(tmp_path, {keyword: "1.2.3/../../x"})
    scan = scan_medium(tmp_path)
    (inst,) = scan.instances
    assert inst.uid_valid is False
    bad = [p for p in scan.problems if p.code == "invalid-uid"]
    assert [keyword in p.message for p in bad] == [True]
    assert "'1.2.3/../../x'" in bad[0].message


def test_long_invalid_uid_is_cut_in_the_message(tmp_path: Path) -> None:
    value = "../" * 60
    _write_one(tmp_path, {"SOPInstanceUID": value})
    scan = scan_medium(tmp_path)
    (problem,) = [p for p in scan.problems if p.code == "invalid-uid"]
    assert repr(value)[:80] in problem.message
    assert repr(value)[:81] not in problem.message


@pytest.mark.parametrize(
    ("keyword", "value", "name"),
    [
        ("SOPInstanceUID", "1.2.840.10008.5.1.4.1.1.2", "CT Image Storage"),
        ("SeriesInstanceUID", "1.2.840.10008.1.2.1", "Explicit VR Little Endian"),
        ("StudyInstanceUID", "1.2.840.10008.2.16.4", "DICOM Controlled Terminology"),
    ],
)
def test_an_instance_uid_of_the_dicom_standard_is_named(
    tmp_path: Path, keyword: str, value: str, name: str
) -> None:
    """A study, series or image UID that is a UID of the standard (a class, a syntax) is named.

    The image is listed and imported as usual: a destination with new UIDs gives it one
    of its own, and its SOP class stays what it is.
    """
    _write_one(tmp_path, {keyword: value})
    scan = scan_medium(tmp_path)
    (inst,) = scan.instances
    assert inst.uid_valid is False
    (problem,) = [p for p in scan.problems if p.code == "invalid-uid"]
    assert keyword in problem.message and repr(value) in problem.message
    assert f"a UID of the DICOM standard ({name})" in problem.message


def test_valid_uid_gives_no_problem(tmp_path: Path) -> None:
    _write_one(tmp_path, {"SOPInstanceUID": "1.2.0.10." + "9" * 55})
    scan = scan_medium(tmp_path)
    (inst,) = scan.instances
    assert inst.uid_valid is True
    assert "invalid-uid" not in _codes(scan)


def test_is_valid_uid() -> None:
    for good in ["0", "0.0", "1.2.840.10008.1.2.1", "1." + "2" * 62]:
        assert is_valid_uid(good), good
    for bad in [*BAD_UIDS, "", "1.2.3\n", "1.2.3 ", " 1.2", "1.2.", ".1", "1.2a", "١.٢", "1.2\\3"]:
        assert not is_valid_uid(bad), bad


@needs_dcmmkdir
def test_quick_scan_checks_the_file_when_a_study_is_chosen(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    uid = generate_uid()
    (ann,) = write_patients(disc, [(ANN, uid, 2)], dicomdir=True)
    # The DICOMDIR still names the valid SOP Instance UID; the file now carries a hostile one.
    ds = _image(ANN, uid, generate_uid(), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.SOPInstanceUID = "1.2.3/../../x"
        ds.file_meta.MediaStorageSOPInstanceUID = UID("1.2.3/../../x")
        _save(disc, 1, 2, ds)
    quick = scan_medium(disc, deep=False)
    assert "invalid-uid" not in _codes(quick)
    quick = verify(quick, [uid])
    (study,) = quick.select([uid])
    flags = {i.sop_instance_uid: i.uid_valid for i in study.instances}
    assert flags == {ann.sop_uids[0]: True, "1.2.3/../../x": False}
    assert "invalid-uid" in _codes(quick)


def test_messages_show_hostile_ids_on_one_line(tmp_path: Path) -> None:
    disc = tmp_path / "disc"
    uid = generate_uid()
    evil = ("EVIL\nkiosk: forged log line", "", "EVIL^NAME", "19800101")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns about the control character
        write_patients(disc, [(evil, uid, 1), (BOB, uid, 1)], dicomdir=False)
    scan = scan_medium(disc)
    (problem,) = [p for p in scan.problems if p.code == "identity-conflict"]
    assert "\n" not in problem.message
    assert repr(evil[0]) in problem.message and "EVIL^NAME" not in problem.message
    with pytest.raises(SafetyError) as info:
        scan.select([uid])
    assert "\n" not in str(info.value) and repr(evil[0]) in str(info.value)
