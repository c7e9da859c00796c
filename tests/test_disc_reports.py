"""Reports on the disc outside DICOM, wrapped into DICOM and sent with their study.

The PDF goes as an Encapsulated PDF, the JPEG as a Secondary Capture with
its JPEG bytes untouched; both in a series of their own, under the
reconciled identity (coerced with the study's images), against a real
storescp. A path that is not a report listed on the disc, a file that is
not what its name says, or a report with two studies is refused with one
line and nothing imported.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image
from pydicom import dcmread
from pydicom.encaps import generate_frames

from kiosk.demo.sample_disc import report_pdf
from tests.discs import write_ct_disc
from tests.test_import_e2e import JANE, add_jane_order, config_for, run_cli


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 10)).save(out, format="JPEG", quality=90)
    return out.getvalue()


def _disc(root: Path, studies: int = 1) -> list[str]:
    made = write_ct_disc(root, [JANE] * studies, per_study=2)
    (root / "REPORTS").mkdir()
    (root / "REPORTS" / "CT_RPT.PDF").write_bytes(report_pdf(["CT abdomen: no acute finding"]))
    (root / "REPORTS" / "PHOTO.JPG").write_bytes(_jpeg())
    (root / "REPORTS" / "FAKE.PDF").write_bytes(b"not a pdf at all\n")
    return [s.study_instance_uid for s in made]


def test_a_pdf_and_a_jpeg_report_reach_the_pacs_with_the_study_under_our_identity(
    tmp_path, capsys, worklist_server, storage_server
):
    root = tmp_path / "disc"
    [study_uid] = _disc(root)
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    code, out, err = run_cli(
        capsys, "import", str(root), "--study", study_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--dest", "radiology", "--config", str(cfg),
        "--report", "REPORTS/CT_RPT.PDF", "--report", "REPORTS/PHOTO.JPG",
    )  # fmt: skip
    assert code == 0, err
    assert out["studies"][0]["sent"] == 4
    received = [dcmread(p) for p in storage_server.received_files()]
    images = [d for d in received if d.Modality == "CT"]
    [pdf] = [d for d in received if d.SOPClassUID == "1.2.840.10008.5.1.4.1.1.104.1"]
    [photo] = [d for d in received if d.SOPClassUID == "1.2.840.10008.5.1.4.1.1.7"]
    for wrapped in (pdf, photo):
        # The reconciled identity, as the images have it; the outside one kept.
        assert wrapped.PatientID == images[0].PatientID == "MRN100234"
        assert wrapped.AccessionNumber == "ACC20260001"
        assert wrapped.StudyInstanceUID == images[0].StudyInstanceUID
        assert wrapped.SeriesInstanceUID not in {i.SeriesInstanceUID for i in images}
        assert "OriginalAttributesSequence" in wrapped
        assert wrapped.ConversionType == "WSD"
    assert pdf.SeriesInstanceUID == photo.SeriesInstanceUID  # the reports' own series
    original = (root / "REPORTS" / "CT_RPT.PDF").read_bytes()
    assert pdf.EncapsulatedDocument[: len(original)] == original
    assert pdf.MIMETypeOfEncapsulatedDocument == "application/pdf"
    assert photo.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50"
    assert (photo.Rows, photo.Columns, photo.SamplesPerPixel) == (30, 40, 3)
    [frame] = list(generate_frames(photo.PixelData, number_of_frames=1))
    assert frame.rstrip(b"\0") == _jpeg().rstrip(b"\0")  # the JPEG as it was, not re-encoded


def test_importing_again_sends_the_same_report_object_not_a_second_one(
    tmp_path, capsys, worklist_server, storage_server
):
    root = tmp_path / "disc"
    [study_uid] = _disc(root)
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    args = (
        "import", str(root), "--study", study_uid, "--mrn", "MRN100234",
        "--accession", "ACC20260001", "--config", str(cfg), "--report", "REPORTS/CT_RPT.PDF",
    )  # fmt: skip
    assert run_cli(capsys, *args)[0] == 0
    assert run_cli(capsys, *args)[0] == 0
    uids = [str(dcmread(p).SOPInstanceUID) for p in storage_server.received_files()]
    reports = [u for u, p in zip(uids, storage_server.received_files(), strict=True)
               if dcmread(p).Modality == "DOC"]  # fmt: skip
    assert len(set(reports)) == 1


def test_what_is_not_a_report_of_this_disc_is_refused_before_anything_is_copied(
    tmp_path, capsys, worklist_server, storage_server
):
    root = tmp_path / "disc"
    first, second = _disc(root, studies=2)
    add_jane_order(worklist_server)
    cfg = config_for(tmp_path, worklist_server, radiology=storage_server)
    (tmp_path / "secret.pdf").write_bytes(report_pdf(["someone else's report"]))
    base = ("import", str(root), "--mrn", "MRN100234", "--accession", "ACC20260001",
            "--config", str(cfg))  # fmt: skip
    cases = [
        (("--study", first, "--report", "../secret.pdf"), "is not a report file on this disc"),
        (("--study", first, "--report", "REPORTS/FAKE.PDF"), "neither a PDF nor a JPEG"),
        (("--study", first, "--report", "DICOMDIR"), "is not a report file on this disc"),
        (
            ("--study", first, "--study", second, "--report", "REPORTS/CT_RPT.PDF"),
            "goes with one study",
        ),
    ]
    for extra, message in cases:
        code, _, err = run_cli(capsys, *base, *extra)
        assert code == 2, (extra, err)
        assert message in err and err.count("\n") == 1, err
    assert storage_server.received_files() == []
    assert not (tmp_path / "spool").exists() or not list((tmp_path / "spool").rglob("*.dcm"))
