"""A Specific Character Set no reader knows loses no image (red team, round 4).

A term holding a NUL byte (``\\x00X``) made pydicom raise while it read the
file: the image was left out of its study as ``unreadable-file`` and
``kiosk import`` sent the rest and exited 0. Now such a term is an unknown
term (the default set, a recorded ``invalid-value`` problem) and the image
goes with its study. Real peers: DCMTK ``wlmscpfs`` and ``storescp``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from tests.test_integrity_e2e import JANE, config_for, received_sops, run_kiosk, write_study

PATCHED = b"\x08\x00\x05\x00CS\x02\x00"  # (0008,0005) CS, two bytes, explicit VR LE


def spoil_charset(path: Path, value: bytes) -> None:
    """Give a file's Specific Character Set the two bytes ``value`` (in place)."""
    ds_bytes = path.read_bytes()
    at = ds_bytes.find(b"\x08\x00\x05\x00CS")
    assert at > 0, "the file has a Specific Character Set"
    length = int.from_bytes(ds_bytes[at + 6 : at + 8], "little")
    path.write_bytes(ds_bytes[:at] + PATCHED + value + ds_bytes[at + 8 + length :])


@pytest.mark.parametrize("value", [b"\x00X", b"X\x00"], ids=["nul-first", "nul-last"])
def test_an_image_whose_character_set_holds_a_nul_goes_with_its_study(
    tmp_path, worklist_server, storage_server, value
):
    disc = tmp_path / "disc"
    study_uid = generate_uid()
    sops = write_study(disc, "P0000001", JANE, study_uid=study_uid, count=3)
    spoil_charset(disc / "DICOM" / "P0000001" / "I0000002", value)
    worklist_server.add_patient("MRN1", "DOE^JANE^M", PatientBirthDate="19700101")
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)

    code, scanned, err = run_kiosk(tmp_path, "scan", str(disc))
    assert code == 0, err
    [patient] = scanned["patients"]
    assert [s["instances"] for s in patient["studies"]] == [3]
    problems = [(p["code"], p["path"]) for p in scanned["problems"]]
    assert ("invalid-value", "DICOM/P0000001/I0000002") in problems, problems
    assert "unreadable-file" not in {c for c, _ in problems}

    code, done, err = run_kiosk(
        tmp_path, "import", str(disc), "--all", "--mrn", "MRN1", "--accession", "ACC-MRN1",
        "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    [outcome] = done["studies"]
    assert outcome["sent"] == 3
    storage_server.wait_for_files(3)
    with warnings.catch_warnings():  # the image keeps the disc's character set bytes
        warnings.filterwarnings("ignore", "Unknown encoding")
        assert received_sops(storage_server) == sorted(sops.values())
