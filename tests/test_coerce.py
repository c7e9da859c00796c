"""Tests of ``reconcile/coerce.py``: the IRWF.b tag coercion, value by value."""

from __future__ import annotations

import copy
import subprocess
from datetime import datetime
from io import BytesIO
from pathlib import Path

import pytest
from pydicom import dcmread, dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from reconcile.coerce import Change, apply_coercion, plan_coercion
from reconcile.model import TargetIdentity, WorklistItem

WHEN = datetime(2026, 3, 11, 14, 5, 9)
PIXELS = bytes(range(256)) * 2  # 16 x 16 pixels, 16 bits
DCMDUMP = Path("/usr/bin/dcmdump")


def outside_dataset() -> Dataset:
    """A small CT instance as the outside hospital wrote it."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.StudyDate = "20260302"
    ds.PatientID = "EXT-1"
    ds.IssuerOfPatientID = "OUTSIDE"
    ds.PatientName = "DOE^JANE"
    ds.PatientBirthDate = "19680412"
    ds.PatientSex = "F"
    ds.AccessionNumber = "OUT-ACC"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = 16
    ds.Columns = 16
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    ds.PixelData = PIXELS
    return ds


def target() -> TargetIdentity:
    return TargetIdentity(
        mrn="MRN-777",
        issuer="MAINHOSP",
        patient_name="DOE^JANE^MARIE",
        birth_date="19680412",  # same as on the disc: not a change
        sex="F",  # same: not a change
        accession_number="ACC-2026-1",
        requested_procedure_id="RP-55",
        requested_procedure_description="CT ABDOMEN",
        scheduled_step_id="SPS-9",
    )


def coerce(ds: Dataset, tgt: TargetIdentity | None = None) -> None:
    plan = plan_coercion(ds, tgt or target())
    apply_coercion(
        ds,
        plan,
        modifying_system="FRONTDESK-1",
        when=WHEN,
        source_of_previous_values="OUTSIDE",
    )


def test_plan_lists_only_real_changes_with_old_values() -> None:
    ds = outside_dataset()
    plan = plan_coercion(ds, target())
    assert plan.changes == (
        Change("PatientID", "EXT-1", "MRN-777"),
        Change("IssuerOfPatientID", "OUTSIDE", "MAINHOSP"),
        Change("PatientName", "DOE^JANE", "DOE^JANE^MARIE"),
        Change("AccessionNumber", "OUT-ACC", "ACC-2026-1"),
    )
    assert plan.original_patient_id == "EXT-1"
    assert plan.original_issuer == "OUTSIDE"
    assert plan.changed_keywords == [
        "PatientID",
        "IssuerOfPatientID",
        "PatientName",
        "AccessionNumber",
    ]


def test_coerced_identity_values() -> None:
    ds = outside_dataset()
    coerce(ds)
    assert ds.PatientID == "MRN-777"
    assert ds.IssuerOfPatientID == "MAINHOSP"
    assert str(ds.PatientName) == "DOE^JANE^MARIE"
    assert ds.PatientBirthDate == "19680412"
    assert ds.PatientSex == "F"
    assert ds.AccessionNumber == "ACC-2026-1"


def test_other_patient_ids_keep_the_outside_id() -> None:
    ds = outside_dataset()
    coerce(ds)
    assert len(ds.OtherPatientIDsSequence) == 1
    item = ds.OtherPatientIDsSequence[0]
    assert item.PatientID == "EXT-1"
    assert item.IssuerOfPatientID == "OUTSIDE"
    assert item.TypeOfPatientID == "TEXT"
    assert {e.keyword for e in item} == {"PatientID", "IssuerOfPatientID", "TypeOfPatientID"}


def test_request_attributes_carry_the_order() -> None:
    ds = outside_dataset()
    coerce(ds)
    assert len(ds.RequestAttributesSequence) == 1
    req = ds.RequestAttributesSequence[0]
    assert req.AccessionNumber == "ACC-2026-1"
    assert req.RequestedProcedureID == "RP-55"
    assert req.RequestedProcedureDescription == "CT ABDOMEN"
    assert req.ScheduledProcedureStepID == "SPS-9"


def test_original_attributes_record_who_when_why() -> None:
    ds = outside_dataset()
    coerce(ds)
    assert len(ds.OriginalAttributesSequence) == 1
    record = ds.OriginalAttributesSequence[0]
    assert record.AttributeModificationDateTime == "20260311140509"
    assert record.ModifyingSystem == "FRONTDESK-1"
    assert record.ReasonForTheAttributeModification == "COERCE"
    assert record.SourceOfPreviousValues == "OUTSIDE"
    assert len(record.ModifiedAttributesSequence) == 1


def test_original_attributes_hold_exactly_the_old_values() -> None:
    ds = outside_dataset()
    coerce(ds)
    old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert {e.keyword for e in old} == {
        "PatientID",
        "IssuerOfPatientID",
        "PatientName",
        "AccessionNumber",
    }
    assert old.PatientID == "EXT-1"
    assert old.IssuerOfPatientID == "OUTSIDE"
    assert str(old.PatientName) == "DOE^JANE"
    assert old.AccessionNumber == "OUT-ACC"


def test_attribute_absent_before_is_recorded_empty() -> None:
    ds = outside_dataset()
    del ds.AccessionNumber
    del ds.IssuerOfPatientID
    coerce(ds)
    assert ds.AccessionNumber == "ACC-2026-1"
    assert ds.IssuerOfPatientID == "MAINHOSP"
    old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert "AccessionNumber" in old
    assert old["AccessionNumber"].value in ("", None)
    assert "IssuerOfPatientID" in old
    assert old["IssuerOfPatientID"].value in ("", None)
    assert old.PatientID == "EXT-1"
    # Without an outside issuer the other-ID item has none either.
    item = ds.OtherPatientIDsSequence[0]
    assert item.PatientID == "EXT-1"
    assert "IssuerOfPatientID" not in item
    assert item.TypeOfPatientID == "TEXT"


def test_pixel_data_is_untouched() -> None:
    ds = outside_dataset()
    coerce(ds)
    assert ds.PixelData == PIXELS


def test_only_identity_attributes_change() -> None:
    ds = outside_dataset()
    before = copy.deepcopy(ds)
    coerce(ds)
    added = {"OtherPatientIDsSequence", "RequestAttributesSequence", "OriginalAttributesSequence"}
    changed = {"PatientID", "IssuerOfPatientID", "PatientName", "AccessionNumber"}
    assert {e.keyword for e in ds} == {e.keyword for e in before} | added
    for elem in before:
        if elem.keyword not in changed:
            assert ds[elem.tag].value == elem.value, elem.keyword


def test_applying_the_same_plan_twice_keeps_one_other_id() -> None:
    ds = outside_dataset()
    plan = plan_coercion(ds, target())
    for _ in range(2):
        apply_coercion(ds, plan, modifying_system="FRONTDESK-1", when=WHEN)
    assert len(ds.OtherPatientIDsSequence) == 1
    assert ds.OtherPatientIDsSequence[0].PatientID == "EXT-1"
    assert len(ds.RequestAttributesSequence) == 1


def test_coercing_again_to_the_same_target_changes_nothing() -> None:
    ds = outside_dataset()
    coerce(ds)
    once = copy.deepcopy(ds)
    plan = plan_coercion(ds, target())
    assert plan.changes == ()
    coerce(ds)
    assert ds == once
    assert len(ds.OtherPatientIDsSequence) == 1
    assert len(ds.OriginalAttributesSequence) == 1


def test_plan_without_changes_changes_nothing() -> None:
    ds = outside_dataset()
    same = TargetIdentity(
        mrn="EXT-1",
        issuer="OUTSIDE",
        patient_name="DOE^JANE",
        birth_date="19680412",
        sex="F",
        accession_number="OUT-ACC",
        requested_procedure_id="RP-55",
    )
    before = copy.deepcopy(ds)
    plan = plan_coercion(ds, same)
    assert plan.changes == ()
    apply_coercion(ds, plan, modifying_system="FRONTDESK-1", when=WHEN)
    assert ds == before
    assert "OriginalAttributesSequence" not in ds
    assert "OtherPatientIDsSequence" not in ds
    assert "RequestAttributesSequence" not in ds


def test_demographics_none_leave_name_dob_sex_alone() -> None:
    ds = outside_dataset()
    tgt = TargetIdentity(mrn="MRN-777", issuer="MAINHOSP", accession_number="ACC-2026-1")
    coerce(ds, tgt)
    assert str(ds.PatientName) == "DOE^JANE"
    assert ds.PatientBirthDate == "19680412"
    assert ds.PatientSex == "F"
    assert ds.PatientID == "MRN-777"
    old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert {e.keyword for e in old} == {"PatientID", "IssuerOfPatientID", "AccessionNumber"}


def test_unscheduled_target_keeps_the_outside_accession() -> None:
    ds = outside_dataset()
    coerce(ds, TargetIdentity(mrn="MRN-777"))
    assert ds.PatientID == "MRN-777"
    assert ds.AccessionNumber == "OUT-ACC"
    assert ds.IssuerOfPatientID == "OUTSIDE"  # empty issuer: not coerced
    assert "RequestAttributesSequence" not in ds
    old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert {e.keyword for e in old} == {"PatientID"}


def test_changed_demographics_are_recorded() -> None:
    ds = outside_dataset()
    tgt = TargetIdentity(mrn="MRN-777", birth_date="19680413", sex="O")
    coerce(ds, tgt)
    assert (ds.PatientBirthDate, ds.PatientSex) == ("19680413", "O")
    old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert (old.PatientBirthDate, old.PatientSex) == ("19680412", "F")


def test_target_from_worklist_item() -> None:
    item = WorklistItem(
        mrn="MRN-777",
        issuer="MAINHOSP",
        accession_number="ACC-2026-1",
        patient_name="DOE^JANE^MARIE",
        birth_date="19680412",
        sex="F",
        requested_procedure="CT ABDOMEN",
        requested_procedure_id="RP-55",
        scheduled_step_id="SPS-9",
    )
    assert TargetIdentity.from_worklist(item) == target()
    bare = TargetIdentity.from_worklist(item, demographics=False)
    assert (bare.patient_name, bare.birth_date, bare.sex) == (None, None, None)


def test_coerced_dataset_writes_and_reads_back(tmp_path: Path) -> None:
    ds = outside_dataset()
    coerce(ds)
    buf = BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    buf.seek(0)
    back = dcmread(buf)
    assert back.PatientID == "MRN-777"
    assert back.OtherPatientIDsSequence[0].PatientID == "EXT-1"
    assert back.RequestAttributesSequence[0].ScheduledProcedureStepID == "SPS-9"
    assert back.OriginalAttributesSequence[0].AttributeModificationDateTime == "20260311140509"
    assert back.PixelData == PIXELS


def test_coercing_a_dataset_read_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "outside.dcm"
    dcmwrite(path, outside_dataset(), enforce_file_format=True)
    ds = dcmread(path)  # elements still raw until first accessed
    coerce(ds)
    assert ds.PatientID == "MRN-777"
    old = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert (old.PatientID, old.IssuerOfPatientID, old.AccessionNumber) == (
        "EXT-1",
        "OUTSIDE",
        "OUT-ACC",
    )
    assert str(old.PatientName) == "DOE^JANE"
    assert ds.PixelData == PIXELS


@pytest.mark.skipif(not DCMDUMP.exists(), reason="DCMTK dcmdump missing (apt install dcmtk)")
def test_dcmdump_accepts_the_coerced_file(tmp_path: Path) -> None:
    ds = outside_dataset()
    coerce(ds)
    path = tmp_path / "coerced.dcm"
    dcmwrite(path, ds, enforce_file_format=True)
    run = subprocess.run(
        [str(DCMDUMP), str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    assert "error" not in output.lower()
    assert "warn" not in output.lower()
    assert "(0010,0020) LO [MRN-777]" in output
    assert "(0010,0020) LO [EXT-1]" in output  # in the other-ID and the original-values items
    assert "(0400,0565) CS [COERCE]" in output
    assert "(0400,0562) DT [20260311140509]" in output


def test_a_value_the_disc_gave_a_wrong_vr_is_replaced_with_the_standard_vr() -> None:
    ds = outside_dataset()
    del ds.PatientName
    ds.add_new(0x00100010, "CS", "HOLZAPFEL")  # explicit VR files say what they like
    coerce(ds)
    assert ds["PatientName"].VR == "PN"
    assert str(ds.PatientName) == target().patient_name
    [old] = ds.OriginalAttributesSequence[0].ModifiedAttributesSequence
    assert old.PatientName == "HOLZAPFEL"  # the outside value is kept as it was
