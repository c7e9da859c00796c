"""The spliced header (kiosk.splice) is byte for byte pydicom's coerced header, or declined.

Each file is coerced twice by the same coercer: through the raw-element walker
(``coerce_file``: the coerced identity elements encoded once, the rest of the
header copied) and through pydicom alone (``coerce``: the whole header read,
coerced and written). The two headers must be equal; a file the walker does
not understand must fall back to pydicom, never give another header.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from kiosk.coercion import HeaderCoercer, _read_original
from kiosk.config import load_config
from kiosk.splice import read_raw_header
from reconcile.model import TargetIdentity
from reconcile.rules import CoercionRules
from tests.discs import ct_instance
from tests.kiosk_config import write_config

TARGET = TargetIdentity(
    mrn="MRN100234",
    issuer="MAINHOSP",
    accession_number="ACC20260001",
    patient_name="DOE^JANE^MARIE",
    birth_date="19700101",
    sex="F",
    requested_procedure_id="RP1",
    scheduled_step_id="SPS1",
)


def coercer(tmp_path: Path) -> HeaderCoercer:
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={"radiology": ("PACS", "127.0.0.1", 104)},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    return HeaderCoercer(load_config(cfg), TARGET, CoercionRules())


def instance(number: int = 1) -> Dataset:
    return ct_instance(
        patient_id="EXT-1",
        patient_name="DOE^JANE",
        birth_date="19700101",
        sex="F",
        study_uid="1.2.826.0.1.3680043.10.999.1",
        series_uid="1.2.826.0.1.3680043.10.999.2",
        number=number,
    )


def with_sequences(ds: Dataset) -> Dataset:
    """Undefined-length sequences, nested, before the pixel data; an earlier history."""
    inner = Dataset()
    inner.ReferencedSOPClassUID = ds.SOPClassUID
    inner.ReferencedSOPInstanceUID = generate_uid()
    nested = Dataset()
    nested.CodeValue = "113076"
    nested.CodingSchemeDesignator = "DCM"
    inner.PurposeOfReferenceCodeSequence = Sequence([nested])
    ds.ReferencedImageSequence = Sequence([inner, Dataset()])
    ds["ReferencedImageSequence"].is_undefined_length = True
    ds.ReferencedImageSequence[0]["PurposeOfReferenceCodeSequence"].is_undefined_length = True
    other = Dataset()
    other.PatientID = "OLDER-ID"
    other.TypeOfPatientID = "TEXT"
    ds.OtherPatientIDsSequence = Sequence([other])
    return ds


def latin1_name(ds: Dataset) -> Dataset:
    ds.PatientName = "MÜLLER^JÖRG"
    ds.InstitutionName = "KLINIKUM SÜD"
    return ds


def group_length(ds: Dataset) -> Dataset:
    ds.add_new(0x00080000, "UL", 0)  # a retired group length: pydicom does not write it
    return ds


VARIANTS = {
    "explicit": (lambda ds: ds, ExplicitVRLittleEndian),
    "implicit": (lambda ds: ds, ImplicitVRLittleEndian),
    "sequences, explicit": (with_sequences, ExplicitVRLittleEndian),
    "sequences, implicit": (with_sequences, ImplicitVRLittleEndian),
    "latin-1": (latin1_name, ExplicitVRLittleEndian),
    "group length": (group_length, ExplicitVRLittleEndian),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_the_spliced_header_is_pydicoms(tmp_path, variant):
    change, syntax = VARIANTS[variant]
    c = coercer(tmp_path)
    for number in (1, 2):  # the second is spliced from the first one's encoded elements
        ds = change(instance(number))
        ds.file_meta.TransferSyntaxUID = syntax
        path = tmp_path / f"{number}.dcm"
        ds.save_as(path, enforce_file_format=True)
        if variant != "group length":
            assert read_raw_header(path, 1 << 20) is not None  # the walker reads it
        spliced = c.coerce_file(number, path, None, "")
        original, problem = _read_original(path, None)
        whole = c.coerce(number, original, problem, "", str(path))
        assert spliced.header == whole.header, variant
        assert (spliced.tail_at, spliced.sop_instance_uid) == (whole.tail_at, ds.SOPInstanceUID)
        assert spliced.digest == whole.digest
    assert len(c._encoded) == 1  # both instances shared one encoding of the identity


def test_instances_of_other_outside_identities_are_encoded_apart(tmp_path):
    c = coercer(tmp_path)
    first, second = instance(1), instance(2)
    second.PatientName = "DOE^JANE^Q"  # another spelling on the disc: its own history
    headers = []
    for n, ds in enumerate((first, second), 1):
        path = tmp_path / f"{n}.dcm"
        ds.save_as(path, enforce_file_format=True)
        spliced = c.coerce_file(n, path, None, "")
        original, problem = _read_original(path, None)
        assert spliced.header == c.coerce(n, original, problem, "", str(path)).header
        headers.append(spliced.header)
    assert b"DOE^JANE^Q" in headers[1] and b"DOE^JANE^Q" not in headers[0]
    assert len(c._encoded) == 2


@pytest.mark.parametrize(
    "damage",
    ["truncated header", "bad VR", "length past the end", "deep nesting", "not DICOM"],
)
def test_what_the_walker_does_not_understand_goes_to_pydicom(tmp_path, damage):
    ds = with_sequences(instance())
    path = tmp_path / "1.dcm"
    ds.save_as(path, enforce_file_format=True)
    data = bytearray(path.read_bytes())
    at = data.index(b"\x08\x00\x60\x00")  # (0008,0060) Modality, explicit VR "CS"
    if damage == "truncated header":
        data = data[: at + 3]
    elif damage == "bad VR":
        data[at + 4 : at + 6] = b"\x01\x02"
    elif damage == "length past the end":
        data[at + 6 : at + 8] = b"\xff\xff"
        data = data[: at + 100]
    elif damage == "deep nesting":
        item = b"\xfe\xff\x00\xe0\xff\xff\xff\xff"
        sq = b"\x08\x00\x40\x11SQ\x00\x00\xff\xff\xff\xff"  # (0008,1140) undefined length
        data[at:at] = sq + (item + b"\x08\x00\x50\x11SQ\x00\x00\xff\xff\xff\xff") * 40
    else:
        data[128:132] = b"NOPE"
    path.write_bytes(bytes(data))
    assert read_raw_header(path, 1 << 20) is None
    c = coercer(tmp_path)
    spliced = c.coerce_file(1, path, None, "")
    original, problem = _read_original(path, None)
    whole = c.coerce(1, original, problem, "", str(path))
    assert (spliced.header, spliced.refused) == (whole.header, whole.refused)
