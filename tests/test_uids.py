"""New UIDs for an imported study: consistent across instances and their references."""

from __future__ import annotations

from datetime import datetime

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from reconcile.coerce import CoercionRules, apply_coercion, plan_coercion
from reconcile.model import TargetIdentity
from reconcile.uids import new_uid_map, remap_uids
from tests.discs import ct_instance


def kos_for(images: list[Dataset]) -> Dataset:
    """A key object selection referencing ``images`` (evidence + content)."""
    kos = Dataset()
    kos.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
    kos.SOPInstanceUID = generate_uid()
    kos.StudyInstanceUID = images[0].StudyInstanceUID
    kos.SeriesInstanceUID = generate_uid()
    kos.PatientID = images[0].PatientID
    series = Dataset()
    series.SeriesInstanceUID = images[0].SeriesInstanceUID
    refs = []
    for image in images:
        ref = Dataset()
        ref.ReferencedSOPClassUID = image.SOPClassUID
        ref.ReferencedSOPInstanceUID = image.SOPInstanceUID
        refs.append(ref)
    series.ReferencedSOPSequence = refs
    evidence = Dataset()
    evidence.StudyInstanceUID = images[0].StudyInstanceUID
    evidence.ReferencedSeriesSequence = [series]
    kos.CurrentRequestedProcedureEvidenceSequence = [evidence]
    return kos


def make_study() -> list[Dataset]:
    study, series = generate_uid(), generate_uid()
    images = [
        ct_instance(
            patient_id="EXT-1",
            patient_name="DOE^JANE",
            birth_date="19700101",
            sex="F",
            study_uid=study,
            series_uid=series,
            number=n,
        )
        for n in (1, 2)
    ]
    return [*images, kos_for(images)]


def all_uids(ds: Dataset) -> set[str]:
    """Every UI value, except the recorded history in Original Attributes Sequence."""
    found: set[str] = set()
    for elem in ds:
        if elem.keyword == "OriginalAttributesSequence":
            continue
        if elem.VR == "SQ":
            for item in elem.value:
                found |= all_uids(item)
        elif elem.VR == "UI" and elem.value:
            found.add(str(elem.value))
    return found


def test_map_is_deterministic_per_salt_and_new():
    a = new_uid_map(["1.2.3", "1.2.4"], salt="desk/1")
    assert a == new_uid_map(["1.2.4", "1.2.3"], salt="desk/1")
    assert a != new_uid_map(["1.2.3", "1.2.4"], salt="desk/2")
    assert set(a.values()).isdisjoint({"1.2.3", "1.2.4"})
    assert len(set(a.values())) == 2


def test_every_reference_in_the_study_follows_the_new_uids():
    datasets = make_study()
    images, kos = datasets[:2], datasets[2]
    old = [images[0].StudyInstanceUID, images[0].SeriesInstanceUID, kos.SeriesInstanceUID]
    old += [d.SOPInstanceUID for d in datasets]
    mapping = new_uid_map(old, salt="desk/7")
    originals = [set(all_uids(d)) for d in datasets]
    target = TargetIdentity(mrn="MRN1", issuer="MAINHOSP", accession_number="ACC1")
    for ds in datasets:
        plan = plan_coercion(ds, target, CoercionRules(new_uids=True), mapping)
        apply_coercion(ds, plan, modifying_system="KIOSK", when=datetime(2026, 11, 23, 9, 0))

    # No old study/series/instance UID is left anywhere, and the SOP class UIDs are kept.
    for ds, before in zip(datasets, originals, strict=True):
        leftover = (all_uids(ds) - set(mapping.values())) & set(mapping)
        assert leftover == set()
        assert ds.SOPClassUID in before
    evidence = kos.CurrentRequestedProcedureEvidenceSequence[0]
    assert evidence.StudyInstanceUID == images[0].StudyInstanceUID
    refs = evidence.ReferencedSeriesSequence[0]
    assert refs.SeriesInstanceUID == images[0].SeriesInstanceUID
    assert [r.ReferencedSOPInstanceUID for r in refs.ReferencedSOPSequence] == [
        i.SOPInstanceUID for i in images
    ]
    assert images[0].file_meta.MediaStorageSOPInstanceUID == images[0].SOPInstanceUID
    # The old UIDs are recorded as original attributes.
    old_values = images[0].OriginalAttributesSequence[0].ModifiedAttributesSequence[0]
    assert old_values.StudyInstanceUID == old[0]
    assert old_values.SOPInstanceUID in mapping
    assert mapping[old_values.SOPInstanceUID] == images[0].SOPInstanceUID


def test_remap_counts_and_leaves_unknown_uids():
    ds = Dataset()
    ds.SOPInstanceUID = "1.2.3"
    ds.FrameOfReferenceUID = "9.9.9"
    assert remap_uids(ds, {"1.2.3": "2.25.1"}) == 1
    assert (ds.SOPInstanceUID, ds.FrameOfReferenceUID) == ("2.25.1", "9.9.9")


def test_rules_keep_demographics_when_told():
    ds = make_study()[0]
    target = TargetIdentity(mrn="MRN1", patient_name="OTHER^NAME", birth_date="19990101", sex="M")
    plan = plan_coercion(ds, target, CoercionRules(replace_demographics=False))
    assert plan.changed_keywords == ["PatientID"]


# --- Red team round 12: a disc UID equal to a UID of the DICOM standard ---------------------

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
EXPLICIT_VR_LE = "1.2.840.10008.1.2.1"


def test_a_study_uid_equal_to_a_class_or_syntax_uid_gets_a_new_one_and_classes_keep_theirs(
    tmp_path,
):
    """An image UID equal to CT Image Storage, a series UID equal to Explicit VR LE.

    The instance and the series get new UIDs (and the references to them follow);
    the SOP class, the referenced SOP class, the file meta's class and transfer
    syntax keep the standard's values, so the corrected copy is still a CT that
    can be written and sent.
    """
    datasets = make_study()
    images, kos = datasets[:2], datasets[2]
    for image in images:
        image.SeriesInstanceUID = EXPLICIT_VR_LE
    images[0].SOPInstanceUID = CT_IMAGE_STORAGE
    images[0].file_meta.MediaStorageSOPInstanceUID = CT_IMAGE_STORAGE
    kos_series = kos.CurrentRequestedProcedureEvidenceSequence[0].ReferencedSeriesSequence[0]
    kos_series.SeriesInstanceUID = EXPLICIT_VR_LE
    kos_series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID = CT_IMAGE_STORAGE
    old = [images[0].StudyInstanceUID, EXPLICIT_VR_LE, kos.SeriesInstanceUID]
    old += [d.SOPInstanceUID for d in datasets]
    mapping = new_uid_map(old, salt="desk/8")
    target = TargetIdentity(mrn="MRN2", accession_number="ACC2")
    for ds in datasets:
        plan = plan_coercion(ds, target, CoercionRules(new_uids=True), mapping)
        apply_coercion(ds, plan, modifying_system="KIOSK", when=datetime(2026, 11, 23, 9, 0))

    first = images[0]
    assert first.SOPInstanceUID == mapping[CT_IMAGE_STORAGE] != CT_IMAGE_STORAGE
    assert first.SeriesInstanceUID == mapping[EXPLICIT_VR_LE] != EXPLICIT_VR_LE
    assert first.file_meta.MediaStorageSOPInstanceUID == first.SOPInstanceUID
    for image in images:
        assert image.SOPClassUID == CT_IMAGE_STORAGE
        assert image.file_meta.MediaStorageSOPClassUID == CT_IMAGE_STORAGE
        assert image.file_meta.TransferSyntaxUID == EXPLICIT_VR_LE
    assert [r.ReferencedSOPClassUID for r in kos_series.ReferencedSOPSequence] == [
        CT_IMAGE_STORAGE,
        CT_IMAGE_STORAGE,
    ]
    assert kos_series.ReferencedSOPSequence[0].ReferencedSOPInstanceUID == first.SOPInstanceUID
    assert kos_series.SeriesInstanceUID == first.SeriesInstanceUID
    # The corrected copy is a file that can be written and read back as a CT.
    first.save_as(tmp_path / "corrected.dcm", enforce_file_format=True)
    again = dcmread(tmp_path / "corrected.dcm")
    assert again.file_meta.TransferSyntaxUID == EXPLICIT_VR_LE
    assert again.SOPClassUID == CT_IMAGE_STORAGE and again.pixel_array.shape == (32, 32)


def test_remap_leaves_every_uid_that_names_no_instance():
    """Coding scheme, context group, implementation and private creator UIDs are kept."""
    mapped = "1.2.840.10008.2.16.4"  # the DICOM coding scheme's UID, used by a disc as an image's
    ds = Dataset()
    ds.SOPInstanceUID = mapped
    code = Dataset()
    code.CodingSchemeUID = mapped
    code.ContextGroupExtensionCreatorUID = mapped
    code.ContextUID = mapped
    ds.ConceptNameCodeSequence = Sequence([code])
    ds.PrivateInformationCreatorUID = mapped
    ds.ensure_file_meta()
    ds.file_meta.ImplementationClassUID = mapped
    ds.file_meta.MediaStorageSOPInstanceUID = mapped
    assert remap_uids(ds, {mapped: "2.25.1"}) == 2
    assert (ds.SOPInstanceUID, ds.file_meta.MediaStorageSOPInstanceUID) == ("2.25.1", "2.25.1")
    assert ds.file_meta.ImplementationClassUID == mapped
    assert ds.PrivateInformationCreatorUID == mapped
    item = ds.ConceptNameCodeSequence[0]
    assert (item.CodingSchemeUID, item.ContextGroupExtensionCreatorUID, item.ContextUID) == (
        mapped,
        mapped,
        mapped,
    )
