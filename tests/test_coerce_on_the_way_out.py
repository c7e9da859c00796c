"""Coercion on the way out: a coerced header in front of the untouched original's rest.

The spool keeps one copy of each instance (its original); what the PACS
receives must be, byte for byte, the original read whole by pydicom and
coerced the IRWF.b way. A header changed after queueing is refused like a
changed original.
"""

from __future__ import annotations

import io
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from pydicom import dcmread

from kiosk import lifecycle
from kiosk.config import load_config
from kiosk.store import db, studies
from reconcile.coerce import apply_coercion, plan_coercion
from tests.discs import write_ct_disc
from tests.test_import_e2e import JANE, add_jane_order, config_for, run_cli


def _rows(database: Path) -> list[sqlite3.Row]:
    conn = db.connect(database)
    try:
        return list(conn.execute("SELECT * FROM instances ORDER BY id"))
    finally:
        conn.close()


def _reference(cfg: Path, database: Path, row: sqlite3.Row) -> bytes:
    """The original read whole by pydicom and coerced as the kiosk coerces, written out."""
    config = load_config(cfg)
    conn = db.connect(database)
    try:
        record = studies.get_study(conn, row["study_id"])
    finally:
        conn.close()
    target = lifecycle.target_of(record)
    assert target is not None
    sent = dcmread(io.BytesIO(bytes(row["coerced_header"])))
    stamp = sent.OriginalAttributesSequence[0].AttributeModificationDateTime
    when = datetime.strptime(stamp, "%Y%m%d%H%M%S").astimezone()
    ds = dcmread(row["original_path"])
    rules = config.destination(record.destination).coercion
    plan = plan_coercion(ds, target, rules, {})
    apply_coercion(
        ds,
        plan,
        modifying_system=f"{config.ae_title} {config.station}",
        when=when,
        source_of_previous_values=plan.original_issuer or str(ds.get("InstitutionName", "")),
    )
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue()


def _use_engine(cfg: Path, engine: str) -> Path:
    """The config, sending with ``engine`` (both must send the coerced bytes, not the original)."""
    if engine != "fast":
        cfg.write_text(cfg.read_text() + f'\n[send]\nengine = "{engine}"\n')
    return cfg


ENGINES = pytest.mark.parametrize("engine", ["fast", "pynetdicom"])


@ENGINES
def test_what_the_pacs_receives_is_the_original_coerced_by_pydicom(
    tmp_path, capsys, worklist_server, storage_server, engine
):
    root = tmp_path / "disc"
    [study] = write_ct_disc(root, [JANE], per_study=3)
    add_jane_order(worklist_server)
    cfg = _use_engine(config_for(tmp_path, worklist_server, radiology=storage_server), engine)
    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study.study_instance_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--dest", "radiology", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert out["studies"][0]["sent"] == 3
    assert out["disc_released_seconds"] >= 0
    database = tmp_path / "kiosk.sqlite3"
    rows = _rows(database)
    assert not list((tmp_path / "spool").rglob("coerced")), "no second copy is written"
    received = {str(dcmread(p).SOPInstanceUID): p for p in storage_server.received_files()}
    for row in rows:
        assert row["coerced_path"] == row["original_path"]
        original = Path(row["original_path"]).read_bytes()
        spliced = bytes(row["coerced_header"]) + original[row["tail_at"] :]
        reference = _reference(cfg, database, row)
        assert spliced == reference  # what the sender streams, byte for byte
        got = dcmread(received[row["sop_instance_uid"]])
        want = dcmread(io.BytesIO(reference))
        assert got.PatientID == "MRN100234"
        assert got.PixelData == want.PixelData
        assert got == want  # every element of the data set storescp wrote


def test_a_coerced_header_changed_after_queueing_is_refused(
    tmp_path, capsys, worklist_server, storage_server
):
    root = tmp_path / "disc"
    [study] = write_ct_disc(root, [JANE], per_study=3)
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    code, _, err = run_cli(
        capsys, "import", str(root), "--study", study.study_instance_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--no-send", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    database = tmp_path / "kiosk.sqlite3"
    victim = _rows(database)[1]
    header = bytearray(victim["coerced_header"])
    at = header.index(b"MRN100234")
    header[at : at + 9] = b"MRN999999"  # someone edits the stored header: another patient
    conn = db.connect(database)
    try:
        conn.execute(
            "UPDATE instances SET coerced_header = ? WHERE id = ?", (bytes(header), victim["id"])
        )
        conn.commit()
    finally:
        conn.close()

    code, sent, err = run_cli(capsys, "send", "--config", str(cfg))
    assert code == 6, err
    assert (sent["sent"], sent["quarantined"]) == (2, 1), sent
    assert victim["sop_instance_uid"] not in storage_server.received_sop_instance_uids()
    assert len(storage_server.received_files()) == 2
    conn = db.connect(database)
    try:
        [reason] = [
            r[0] for r in conn.execute("SELECT last_error FROM outbox WHERE state = 'quarantined'")
        ]
    finally:
        conn.close()
    assert "changed or damaged" in reason


def _write_disc(root: Path, count: int, *, size: int = 32, compress: str | None = None) -> str:
    """A one-study disc of Jane's (as write_ct_disc), optionally compressed; its Study UID."""
    from pydicom.uid import generate_uid

    from tests.discs import ct_instance, make_dicomdir

    study, series = generate_uid(), generate_uid()
    for n in range(1, count + 1):
        pid, name, dob, sex = JANE
        ds = ct_instance(
            patient_id=pid, patient_name=name, birth_date=dob, sex=sex,
            study_uid=study, series_uid=series, number=n, size=size,
        )  # fmt: skip
        if compress:
            ds.compress(compress, generate_instance_uid=False)
        path = root / "DICOM" / "P0000001" / f"I{n:07d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
    if not compress:  # dcmmkdir's general-purpose profile takes uncompressed images only
        make_dicomdir(root)
    return study


def test_a_coerced_compressed_instance_is_transcoded_for_a_picky_pacs(
    tmp_path, capsys, worklist_server, picky_storage_server
):
    from pydicom.uid import RLELossless

    root = tmp_path / "disc"
    study_uid = _write_disc(root, 2, compress=RLELossless)
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=picky_storage_server)
    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert out["studies"][0]["sent"] == 2
    for row in _rows(tmp_path / "kiosk.sqlite3"):
        [path] = [
            p
            for p in picky_storage_server.received_files()
            if dcmread(p).SOPInstanceUID == row["sop_instance_uid"]
        ]
        got = dcmread(path)
        assert got.file_meta.TransferSyntaxUID in ("1.2.840.10008.1.2.1", "1.2.840.10008.1.2")
        assert got.PatientID == "MRN100234"  # the coerced header, not the original's
        assert got.OriginalAttributesSequence[0].ModifiedAttributesSequence[0].PatientID
        original = dcmread(row["original_path"])
        assert got.pixel_array.tobytes() == original.pixel_array.tobytes()


@ENGINES
def test_a_large_instance_is_streamed_coerced_byte_for_byte(
    tmp_path, capsys, worklist_server, storage_server, engine
):
    """An original whose rest is over INLINE_REST goes out through Spliced, not from memory."""
    from kiosk.send.sender import INLINE_REST

    root = tmp_path / "disc"
    study_uid = _write_disc(root, 1, size=1600)  # 1600 x 1600 x 2 bytes: about 5 MB
    add_jane_order(worklist_server)
    cfg = _use_engine(config_for(tmp_path, worklist_server, radiology=storage_server), engine)
    code, _, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    database = tmp_path / "kiosk.sqlite3"
    [row] = _rows(database)
    assert Path(row["original_path"]).stat().st_size - row["tail_at"] > INLINE_REST
    reference = _reference(cfg, database, row)
    [received] = storage_server.received_files()
    assert dcmread(received) == dcmread(io.BytesIO(reference))


@ENGINES
def test_instances_assembled_in_memory_arrive_whole_whatever_their_order_of_size(
    tmp_path, capsys, worklist_server, storage_server, engine
):
    """Rests over 64 kB are assembled in one in-memory file per association, overwritten
    each time: a smaller instance after a larger one must not carry the larger one's bytes."""
    from pydicom.uid import generate_uid

    from tests.discs import ct_instance, make_dicomdir

    root = tmp_path / "disc"
    study, series = generate_uid(), generate_uid()
    for n, size in enumerate((400, 200, 300, 180), 1):  # 80 to 320 kB of pixels
        pid, name, dob, sex = JANE
        ds = ct_instance(
            patient_id=pid, patient_name=name, birth_date=dob, sex=sex,
            study_uid=study, series_uid=series, number=n, size=size,
        )  # fmt: skip
        path = root / "DICOM" / "P0000001" / f"I{n:07d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
    make_dicomdir(root)
    add_jane_order(worklist_server)
    cfg = _use_engine(config_for(tmp_path, worklist_server, radiology=storage_server), engine)
    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert out["studies"][0]["sent"] == 4
    database = tmp_path / "kiosk.sqlite3"
    received = {str(dcmread(p).SOPInstanceUID): p for p in storage_server.received_files()}
    for row in _rows(database):
        got = dcmread(received[row["sop_instance_uid"]])
        want = dcmread(io.BytesIO(_reference(cfg, database, row)))
        assert got == want
        assert got.PixelData == want.PixelData
