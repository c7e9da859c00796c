"""An image of hundreds of megabytes is copied, coerced and sent in chunks: memory stays flat."""

from __future__ import annotations

import hashlib
import json
import time
import tracemalloc
from pathlib import Path

import pydicom
from pydicom.dataset import FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from kiosk.config import Config, load_config
from kiosk.importer import ImportRequest, import_studies
from kiosk.media.model import MediaScan
from kiosk.media.scan import scan_medium
from kiosk.store import db
from reconcile.model import WorklistItem
from tests.discs import ct_instance
from tests.kiosk_config import write_config

ROWS, COLUMNS = 8192, 16384  # 16-bit: 256 MiB of pixel data
PIXELS = ROWS * COLUMNS * 2


def big_image(path: Path, study_uid: str) -> bytes:
    """Write a CT whose 256 MiB of pixel data are a sparse run of zeros; return its header."""
    ds = ct_instance(
        patient_id="EXT-1",
        patient_name="DOE^JANE",
        birth_date="19700101",
        sex="F",
        study_uid=study_uid,
        series_uid=generate_uid(),
        number=1,
    )
    del ds.PixelData
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.file_meta = FileMetaDataset(ds.file_meta)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    with open(path, "ab") as fh:
        fh.write(b"\xe0\x7f\x10\x00OW\x00\x00" + PIXELS.to_bytes(4, "little"))
        fh.truncate(fh.tell() + PIXELS)
    return path.read_bytes()[:1024]


def jane_imports(
    tmp_path: Path, disc: Path, study_uid: str, worklist_server, storage_server
) -> tuple[Config, MediaScan, ImportRequest]:
    """The config, scan and request that import ``study_uid`` of ``disc`` as MRN1 (confirmed)."""
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101", PatientSex="F")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    request = ImportRequest(
        study_uids=(study_uid,),
        mrn="MRN1",
        destination="radiology",
        worklist_item=WorklistItem("MRN1", "", "", "DOE^JANE", "19700101", "F"),
    )
    return load_config(cfg), scan_medium(disc), request


def test_a_256_mib_image_is_imported_and_sent_with_flat_memory(
    tmp_path, worklist_server, storage_server
):
    disc = tmp_path / "disc"
    disc.mkdir()
    study_uid = generate_uid()
    big_image(disc / "BIG", study_uid)
    config, scan, request = jane_imports(tmp_path, disc, study_uid, worklist_server, storage_server)
    conn = db.connect(config.database_path)
    try:
        tracemalloc.start()
        began = time.monotonic()
        [outcome] = import_studies(conn, config, scan, request)
        took = time.monotonic() - began
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        conn.close()
    print(f"\n256 MiB image: copy, coerce, send in {took:.1f} s, peak {peak / 2**20:.1f} MiB")
    assert (outcome.state, outcome.sent) == ("sent", 1)
    assert peak < 32 * 2**20  # a whole-file read would be 256 MiB at least
    [received] = storage_server.wait_for_files(1, timeout=60)
    ds = pydicom.dcmread(received, stop_before_pixels=True)
    assert ds.PatientID == "MRN1"
    with open(received, "rb") as fh:  # the pixel data arrived whole, byte for byte
        fh.seek(-PIXELS, 2)
        digest = hashlib.sha256()
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    zeros = hashlib.sha256()
    for _ in range(PIXELS >> 20):
        zeros.update(bytes(1 << 20))
    assert digest.hexdigest() == zeros.hexdigest()


def test_a_disc_with_hostile_files_imports_its_good_study(
    tmp_path, capsys, worklist_server, storage_server
):
    """Nesting 3,000 deep, a length past the end of the file: named, never a traceback."""
    from kiosk.cli import main
    from tests.discs import write_ct_disc
    from tests.test_bounded_reading import length_beyond_file, nested

    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=3)
    (disc / "DEEP").write_bytes(nested(implicit=False))
    (disc / "LONG").write_bytes(length_beyond_file(implicit=True, where="in-sequence"))
    worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101", PatientSex="F")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    args = ["import", str(disc), "--study", study.study_instance_uid, "--mrn", "MRN1"]
    # the DICOMDIR lists the study's images; what it does not list is shown, not waited for
    assert main([*args, "--config", str(cfg), "--json"]) == 0
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    assert [(s["state"], s["sent"]) for s in json.loads(out)["studies"]] == [("sent", 3)]
    assert main(["scan", str(disc), "--json"]) == 0
    problems = {(p["code"], p["path"]) for p in json.loads(capsys.readouterr()[0])["problems"]}
    assert {("sequence-too-deep", "DEEP"), ("length-beyond-file", "LONG")} <= problems


def test_a_100_mib_value_before_the_pixel_data_is_quarantined_never_held(
    tmp_path, worklist_server, storage_server
):
    """The header is parsed with large values left on disk; one over the cap is not sent."""
    disc = tmp_path / "disc"
    disc.mkdir()
    study_uid = generate_uid()
    ds = ct_instance(
        patient_id="EXT-1",
        patient_name="DOE^JANE",
        birth_date="19700101",
        sex="F",
        study_uid=study_uid,
        series_uid=generate_uid(),
        number=1,
    )
    pixels = ds.PixelData
    del ds.PixelData
    size = 100 << 20
    ds.save_as(disc / "HUGE", enforce_file_format=True)
    with open(disc / "HUGE", "ab") as fh:  # a private OB value of 100 MiB (sparse zeros)
        fh.write(b"\x09\x00\x10\x10OB\x00\x00" + size.to_bytes(4, "little"))
        fh.truncate(fh.tell() + size)
        fh.seek(0, 2)
        fh.write(b"\xe0\x7f\x10\x00OW\x00\x00" + len(pixels).to_bytes(4, "little") + pixels)
    config, scan, request = jane_imports(tmp_path, disc, study_uid, worklist_server, storage_server)
    conn = db.connect(config.database_path)
    try:
        tracemalloc.start()
        [outcome] = import_studies(conn, config, scan, request)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        [reason] = [r[0] for r in conn.execute("SELECT last_error FROM outbox")]
    finally:
        conn.close()
    print(f"\n100 MiB value in the header: peak {peak / 2**20:.1f} MiB; {reason}")
    assert (outcome.state, outcome.sent, outcome.failed) == ("quarantined", 0, 1)
    assert "header of 100 MB" in reason
    assert peak < 32 * 2**20
    assert storage_server.received_files() == []
