"""Reading the discs patients bring: ISO images, odd DICOMDIRs, damaged and foreign files.

Every disc is made here: pydicom writes the files, DCMTK ``dcmmkdir`` the
DICOMDIR, ``genisoimage`` the ISO images, ``dcmcjpeg``/``pdf2dcm`` the
compressed and PDF instances; the compressed samples that ship inside the
pydicom wheel are copied from its ``test_files`` folder (never downloaded).
"""

from __future__ import annotations

import gc
import json
import shutil
import sqlite3
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
import pytest
from pydicom import dcmwrite
from pydicom.uid import (
    JPEG2000,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
    generate_uid,
)

from kiosk.cli import main
from kiosk.errors import NoDicomError, SafetyError
from kiosk.imaging.render import ImageError
from kiosk.imaging.render import render_file as render_frame
from kiosk.media.iso import extract_image, iso_name
from kiosk.media.scan import scan_medium, verify
from tests.kiosk_config import write_config
from tests.test_scan import (
    Disc,
    all_sop_uids,
    codes,
    expected_patients,
    make_dicomdir,
    make_instance,
    patients_of,
    plan,
    sop_uids,
    write_disc,
)

GENISOIMAGE = Path("/usr/bin/genisoimage")
DCMCONV = Path("/usr/bin/dcmconv")
DCMCJPEG = Path("/usr/bin/dcmcjpeg")
PDF2DCM = Path("/usr/bin/pdf2dcm")
needs_tools = pytest.mark.skipif(
    not all(
        p.exists() for p in (GENISOIMAGE, DCMCONV, DCMCJPEG, PDF2DCM, Path("/usr/bin/dcmmkdir"))
    ),
    reason="DCMTK or genisoimage missing (apt install dcmtk genisoimage)",
)
PYDICOM_FILES = Path(pydicom.__file__).parent / "data" / "test_files"

pytestmark = needs_tools


@pytest.fixture
def disc(tmp_path: Path) -> Disc:
    d = write_disc(tmp_path / "disc")
    make_dicomdir(d.root)
    return d


def make_iso(root: Path, image: Path, *flags: str) -> Path:
    run = subprocess.run(
        [str(GENISOIMAGE), "-quiet", "-V", "OUTSIDE_DISC", *flags, "-o", str(image), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return image


def scan_json(path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    assert main(["scan", str(path), "--json", *extra]) == 0
    out = capsys.readouterr().out
    doc: dict[str, Any] = json.loads(out)
    return doc


def leftover_iso_folders() -> list[Path]:
    return sorted(Path(tempfile.gettempdir()).glob("kiosk-iso-*"))


# --- ISO images, read without mounting ----------------------------------------------------


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param(("-iso-level", "1"), id="plain-iso9660"),
        pytest.param(("-J",), id="joliet"),
        pytest.param(("-R",), id="rock-ridge"),
        pytest.param(("-udf",), id="udf"),
    ],
)
def test_scan_an_iso_image(
    disc: Disc, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...]
) -> None:
    before = leftover_iso_folders()
    image = make_iso(disc.root, tmp_path / "outside.iso", *flags)
    doc = scan_json(image, capsys)
    assert doc["source"] == str(image)
    assert doc["dicomdir"] is True
    assert doc["problems"] == []
    assert doc["non_dicom"] == []
    assert doc["instances"] == 7
    patients = doc["patients"]
    for p in patients:
        p["studies"].sort(key=lambda s: s["study_instance_uid"])
    assert sorted(patients, key=lambda p: p["patient_id"]) == expected_patients(disc)
    gc.collect()
    assert leftover_iso_folders() == before  # the extracted copy is gone with the scan


def test_iso_files_are_extracted_byte_for_byte(disc: Disc, tmp_path: Path) -> None:
    image = make_iso(disc.root, tmp_path / "d.iso", "-iso-level", "1")
    out = tmp_path / "out"
    written = extract_image(image, out).files
    assert sorted(written) == sorted([*disc.all_files, "DICOMDIR"])
    for rel in disc.all_files:
        assert (out / rel).read_bytes() == (disc.root / rel).read_bytes()


def test_iso_names() -> None:
    assert iso_name("I0000001.;1") == "I0000001"
    assert iso_name("DICOMDIR;1") == "DICOMDIR"
    assert iso_name("REPORT.PDF;1") == "REPORT.PDF"
    assert iso_name("dicom") == "dicom"


def test_import_from_an_iso_image(
    disc: Disc, tmp_path: Path, capsys: pytest.CaptureFixture[str], worklist_server
) -> None:
    image = make_iso(disc.root, tmp_path / "d.iso", "-J")
    worklist_server.add_patient("MRN1", disc.patients[1].name)
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": ("RADPACS", "127.0.0.1", 9)},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    study = disc.patients[1].studies[0]
    argv = ["import", str(image), "--study", study.uid, "--mrn", "MRN1", "--no-send", "--json"]
    assert main([*argv, "--config", str(cfg)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [(s["study_instance_uid"], s["queued"], s["state"]) for s in doc["studies"]] == [
        (study.uid, 2, "queued")
    ]
    conn = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    rows = conn.execute("SELECT source_relpath, original_path FROM instances").fetchall()
    conn.close()
    assert sorted(r[0] for r in rows) == sorted(study.series[0].files)
    for rel, spooled in rows:
        assert Path(spooled).read_bytes() == (disc.root / rel).read_bytes()


def test_a_file_that_is_neither_iso_nor_folder(tmp_path: Path) -> None:
    f = tmp_path / "notes.txt"
    f.write_text("hello")
    with pytest.raises(NoDicomError) as info:
        scan_medium(f)
    assert info.value.exit_code == 3


# --- the quick path: the tree from the DICOMDIR, headers when a study is chosen -------------


def test_quick_scan_takes_the_tree_from_the_dicomdir(disc: Disc) -> None:
    quick = scan_medium(disc.root, deep=False)
    assert not quick.verified
    assert quick.problems == ()
    assert sop_uids(quick) == all_sop_uids(disc)
    # The keys are the DICOMDIR's; birth date, sex, series descriptions are filled on reading.
    tree = [
        (p["patient_id"], p["patient_name"], s["study_instance_uid"], s["accession_number"])
        for p in patients_of(quick)
        for s in p["studies"]
    ]
    assert tree == [
        (p["patient_id"], p["patient_name"], s["study_instance_uid"], s["accession_number"])
        for p in expected_patients(disc)
        for s in p["studies"]
    ]
    quick = verify(quick)
    assert quick.verified
    assert quick.problems == ()
    assert patients_of(quick) == expected_patients(disc)


def test_choosing_a_study_reads_the_real_headers(disc: Disc) -> None:
    # The DICOMDIR says EXT-200 for this file; the file itself now says otherwise.
    mr = disc.patients[1].studies[0]
    rel = mr.series[0].files[0]
    ds = pydicom.dcmread(disc.root / rel)
    ds.PatientID = "EXT-999"
    ds.save_as(disc.root / rel)
    quick = scan_medium(disc.root, deep=False)
    assert {i.patient_id for i in quick.instances if i.study_instance_uid == mr.uid} == {"EXT-200"}
    quick = verify(quick, [mr.uid])
    with pytest.raises(SafetyError, match="appears under 2 patients"):
        quick.study(mr.uid)  # never one of the two silently
    [chosen] = quick.select([mr.uid], patient_id="EXT-200")
    assert {i.patient_id for i in chosen.instances} == {"EXT-200"}
    # The same study under two identities: shown as two, so that a person sees the conflict.
    both = [
        (s.patient_id, len(s.instances)) for s in quick.studies if s.study_instance_uid == mr.uid
    ]
    assert sorted(both) == [("EXT-200", 1), ("EXT-999", 1)]
    assert all(i.verified for i in quick.instances if i.study_instance_uid == mr.uid)
    assert sorted(codes(quick)) == [("dicomdir-mismatch", rel), ("identity-conflict", "")]
    assert "patient_id" in quick.problems[0].message
    # The other study was not read.
    assert not all(i.verified for i in quick.instances)


def test_quick_scan_still_reads_files_the_dicomdir_omits(disc: Disc) -> None:
    pts = disc.patients
    extra = make_instance(pts[1], pts[1].studies[0], pts[1].studies[0].series[0], 3)
    dcmwrite(disc.root / "DICOM" / "EXTRA001", extra, enforce_file_format=True)
    gone = disc.all_files[0]
    (disc.root / gone).unlink()
    quick = scan_medium(disc.root, deep=False)
    assert codes(quick) == [("dicomdir-missing-file", gone), ("not-in-dicomdir", "DICOM/EXTRA001")]
    assert len(quick.instances) == 7
    assert extra.SOPInstanceUID in sop_uids(quick)


def test_truncated_file_listed_in_dicomdir_is_found_when_chosen(disc: Disc) -> None:
    rel = disc.patients[0].studies[0].series[0].files[1]
    data = (disc.root / rel).read_bytes()
    (disc.root / rel).write_bytes(data[:-40])
    quick = scan_medium(disc.root, deep=False)
    assert len(quick.instances) == 7
    quick = verify(quick, [disc.patients[0].studies[0].uid])
    study = quick.study(disc.patients[0].studies[0].uid)
    assert study is not None
    assert len(study.instances) == 4
    assert codes(quick) == [("truncated-file", rel)]
    deep = scan_medium(disc.root)
    assert codes(deep) == [("truncated-file", rel)]
    assert len(deep.instances) == 6


# --- DICOMDIR encodings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dcmconv_flag", "encoding"),
    [("+ti", (True, True)), ("+tb", (False, False))],
    ids=["implicit-vr", "big-endian"],
)
def test_dicomdir_in_other_encodings(
    disc: Disc, dcmconv_flag: str, encoding: tuple[bool, bool]
) -> None:
    conv = disc.root / "DICOMDIR.NEW"
    subprocess.run([str(DCMCONV), dcmconv_flag, "DICOMDIR", conv.name], cwd=disc.root, check=True)
    conv.replace(disc.root / "DICOMDIR")
    assert pydicom.dcmread(disc.root / "DICOMDIR").original_encoding == encoding
    # dcmconv keeps the old record offsets, shifted by its new file meta: still followed.
    for deep in (True, False):
        scan = scan_medium(disc.root, deep=deep)
        assert scan.problems == ()
        assert sop_uids(scan) == all_sop_uids(disc)
        scan = verify(scan)
        assert patients_of(scan) == expected_patients(disc)


def test_dicomdir_with_broken_record_links(disc: Disc) -> None:
    ds = pydicom.dcmread(disc.root / "DICOMDIR")
    first_patient = ds.DirectoryRecordSequence[0]
    assert first_patient.DirectoryRecordType == "PATIENT"
    first_patient.OffsetOfReferencedLowerLevelDirectoryEntity = 12345  # points nowhere
    ds.save_as(disc.root / "DICOMDIR")
    scan = scan_medium(disc.root, deep=False)
    assert codes(scan) == [("dicomdir-broken-links", "DICOMDIR")]
    assert sop_uids(scan) == all_sop_uids(disc)
    # Read in file order, the records still give every instance its patient and study.
    keys = sorted(
        (i.patient_id, i.study_instance_uid, i.series_instance_uid) for i in scan.instances
    )
    assert keys == sorted(
        (p.patient_id, st.uid, se.uid)
        for p in disc.patients
        for st in p.studies
        for se in st.series
        for _ in range(se.count)
    )


def test_dicomdir_reference_with_dotdot_is_not_followed(disc: Disc, tmp_path: Path) -> None:
    # A DICOM file just outside the medium, which the reference would reach.
    pts = disc.patients
    outside = make_instance(pts[0], pts[0].studies[0], pts[0].studies[0].series[0], 9)
    dcmwrite(tmp_path / "SECRET01", outside, enforce_file_format=True)
    victim = disc.patients[0].studies[0].series[0].files[0]
    original = victim.replace("/", "\\").encode()
    evil = b"..\\SECRET01".ljust(len(original), b" ")
    data = (disc.root / "DICOMDIR").read_bytes()
    assert data.count(original) == 1
    (disc.root / "DICOMDIR").write_bytes(data.replace(original, evil))
    for deep in (True, False):
        scan = scan_medium(disc.root, deep=deep)
        assert outside.SOPInstanceUID not in sop_uids(scan)
        assert ("dicomdir-path-outside-medium", "../SECRET01") in codes(scan)
        # The file the record used to name is still found, as not listed.
        assert ("not-in-dicomdir", victim) in codes(scan)
        assert len(scan.instances) == 7


# --- damaged and odd files ----------------------------------------------------------------


@pytest.mark.parametrize("order", ["truncated-first", "complete-first"])
def test_duplicate_prefers_the_complete_file(tmp_path: Path, order: str) -> None:
    d = write_disc(tmp_path / "disc")
    rel = d.all_files[0]
    data = (d.root / rel).read_bytes()
    cut = d.root / "DICOM" / ("A_CUT001" if order == "truncated-first" else "Z_CUT001")
    cut.write_bytes(data[:-50])
    scan = scan_medium(d.root)
    uid = d.patients[0].studies[0].series[0].sop_uids[0]
    chosen = next(i for i in scan.instances if i.sop_instance_uid == uid)
    assert chosen.relpath == rel
    assert codes(scan) == [
        ("no-dicomdir", ""),
        ("truncated-file", cut.relative_to(d.root).as_posix()),
    ]
    assert rel in scan.problems[-1].message
    assert len(scan.instances) == 7
    assert patients_of(scan) == expected_patients(d)


def test_encapsulated_pixel_data_cut_short(tmp_path: Path) -> None:
    folder = tmp_path / "disc"
    folder.mkdir()
    data = (PYDICOM_FILES / "SC_rgb_jpeg_dcmtk.dcm").read_bytes()
    (folder / "GOOD").write_bytes(data)
    (folder / "CUT").write_bytes(data[: len(data) - 200])
    ds = pydicom.dcmread(folder / "GOOD")
    ds.SOPInstanceUID = generate_uid()
    ds.save_as(folder / "CUT2")
    (folder / "CUT2").write_bytes((folder / "CUT2").read_bytes()[:-200])
    scan = scan_medium(folder)
    assert [i.relpath for i in scan.instances] == ["GOOD"]
    assert codes(scan) == [
        ("no-dicomdir", ""),
        ("truncated-file", "CUT"),
        ("truncated-file", "CUT2"),
    ]


def test_invalid_values_do_not_depend_on_warning_filters(tmp_path: Path) -> None:
    d = write_disc(tmp_path / "disc")
    rel = d.all_files[2]
    data = (d.root / rel).read_bytes()
    number = b"\x20\x00\x13\x00IS\x02\x003 "  # InstanceNumber "3"
    assert data.count(number) == 1
    # An IS with a letter: pydicom warns, or raises under warnings-as-errors.
    (d.root / rel).write_bytes(data.replace(number, b"\x20\x00\x13\x00IS\x02\x001A"))
    results = []
    for action in ("error", "ignore", "default"):
        with warnings.catch_warnings():
            warnings.simplefilter(action)  # type: ignore[arg-type]
            scan = scan_medium(d.root)
        results.append((scan.to_json(), [i.instance_number for i in scan.instances]))
    assert results[0] == results[1] == results[2]
    doc = results[0][0]
    assert doc["instances"] == 7
    assert [(p["code"], p["path"]) for p in doc["problems"]] == [
        ("no-dicomdir", ""),
        ("invalid-value", rel),
    ]
    assert "1A" in doc["problems"][1]["message"]


def test_unknown_vr_in_a_file(tmp_path: Path) -> None:
    d = write_disc(tmp_path / "disc")
    rel = d.all_files[1]
    data = (d.root / rel).read_bytes()
    # StudyDescription (0008,1030) LO -> an unknown VR "ZZ" of the same length layout.
    tag = b"\x08\x00\x30\x10LO"
    assert data.count(tag) == 1
    (d.root / rel).write_bytes(data.replace(tag, b"\x08\x00\x30\x10ZZ"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scan = scan_medium(d.root)
    assert len(scan.instances) == 7
    problem = [p for p in scan.problems if p.path == rel]
    assert [p.code.value for p in problem] == ["invalid-value"]


# --- character sets -----------------------------------------------------------------------

NAMES = [
    ("ISO_IR 100", "Müller^Jürgen", "Röntgen Thorax"),
    (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎=やまだ^たろう", "CT"),
    ("GB18030", "Wang^XiaoDong=王^小东", "胸部 CT"),
    ("ISO_IR 192", "Ελληνική^Σοφία", "МРТ головы"),
]


@pytest.mark.parametrize(
    "charset,name,description", NAMES, ids=["latin1", "jis", "gb18030", "utf8"]
)
@pytest.mark.parametrize("deep", [True, False], ids=["deep", "quick"])
def test_names_in_every_character_set(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    charset: Any,
    name: str,
    description: str,
    deep: bool,
) -> None:
    d = write_disc(tmp_path / "disc", plan()[:1])
    for rel in d.all_files:
        ds = pydicom.dcmread(d.root / rel)
        ds.SpecificCharacterSet = charset
        ds.PatientName = name
        ds.StudyDescription = description
        ds.save_as(d.root / rel)
    run = subprocess.run(
        ["/usr/bin/dcmmkdir", "+r", "+id", ".", "-Pgp", "+I", "-nb", "DICOM"],
        cwd=d.root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    doc = scan_json(d.root, capsys, *([] if deep else ["--quick"]))
    assert doc["problems"] == []
    assert [p["patient_name"] for p in doc["patients"]] == [name]
    assert [s["study_description"] for s in doc["patients"][0]["studies"]] == [description]


# --- compressed, multi-frame, PDF, foreign content ----------------------------------------

COMPRESSED = {
    "SC_rgb_jpeg_dcmtk.dcm": JPEGBaseline8Bit,
    "JPEG2000.dcm": JPEG2000,
    "MR_small_jpeg_ls_lossless.dcm": JPEGLSLossless,
    "MR_small_RLE.dcm": RLELossless,
    "SC_rgb_rle_2frame.dcm": RLELossless,
}


@pytest.fixture
def mixed_disc(tmp_path: Path) -> Path:
    """A disc with compressed images, a multi-frame cine, a PDF report and viewer clutter."""
    root = tmp_path / "mixed"
    (root / "IMAGES").mkdir(parents=True)
    for n, name in enumerate(COMPRESSED, 1):
        # Several samples share a SOP Instance UID; give each its own (pixel data untouched).
        ds = pydicom.dcmread(PYDICOM_FILES / name)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(root / "IMAGES" / f"IMG{n:05d}")
    # JPEG Lossless (process 14, SV1) and JPEG Extended (12 bit) made by DCMTK from a CT.
    for flag, name in (("+e1", "LOSSLESS"), ("+ee", "EXTENDED")):
        subprocess.run(
            [str(DCMCJPEG), flag, str(PYDICOM_FILES / "CT_small.dcm"), str(root / "IMAGES" / name)],
            check=True,
        )
        ds = pydicom.dcmread(root / "IMAGES" / name)
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(root / "IMAGES" / name)
    # A multi-frame ultrasound cine, 12 frames.
    cine = pydicom.dcmread(PYDICOM_FILES / "CT_small.dcm")
    cine.SOPClassUID = cine.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.3.1"
    cine.SOPInstanceUID = cine.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    cine.Modality = "US"
    frame = cine.pixel_array
    frames = np.stack([np.roll(frame, k, axis=1) for k in range(12)])
    cine.NumberOfFrames = 12
    cine.PixelData = frames.astype(frame.dtype).tobytes()
    cine.save_as(root / "IMAGES" / "CINE0001")
    # An encapsulated PDF report, made by DCMTK from a tiny PDF.
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(_tiny_pdf())
    subprocess.run(
        [
            str(PDF2DCM),
            "--title",
            "Report",
            "+pn",
            "DOE^JANE",
            "+pi",
            "EXT-100",
            str(pdf),
            str(root / "IMAGES" / "REPORT01"),
        ],
        check=True,
        capture_output=True,
    )
    # The clutter every vendor puts on a disc.
    (root / "AUTORUN.INF").write_text("[autorun]\r\nopen=VIEWER\\VIEWER.EXE\r\n")
    (root / "VIEWER").mkdir()
    (root / "VIEWER" / "VIEWER.EXE").write_bytes(b"MZ\x90\x00" + bytes(500))
    (root / "VIEWER" / "LOGO.JPG").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(100))
    (root / "REPORT.PDF").write_bytes(_tiny_pdf())
    shutil.make_archive(str(tmp_path / "tools"), "zip", root / "VIEWER")
    shutil.copyfile(tmp_path / "tools.zip", root / "VIEWER" / "TOOLS.ZIP")
    return root


def _tiny_pdf() -> bytes:
    return (
        b"%PDF-1.1\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def test_compressed_multiframe_pdf_and_clutter(mixed_disc: Path) -> None:
    scan = scan_medium(mixed_disc)
    by_path = {i.relpath: i for i in scan.instances}
    syntaxes = {f"IMAGES/IMG{n:05d}": ts for n, ts in enumerate(COMPRESSED.values(), 1)}
    syntaxes["IMAGES/LOSSLESS"] = JPEGLosslessSV1
    syntaxes["IMAGES/EXTENDED"] = JPEGExtended12Bit
    for rel, ts in syntaxes.items():
        assert by_path[rel].transfer_syntax_uid == ts, rel
    assert by_path["IMAGES/CINE0001"].modality == "US"
    assert by_path["IMAGES/REPORT01"].sop_class_uid == "1.2.840.10008.5.1.4.1.1.104.1"
    assert list(scan.non_dicom) == [
        "AUTORUN.INF",
        "REPORT.PDF",
        "VIEWER/LOGO.JPG",
        "VIEWER/TOOLS.ZIP",
        "VIEWER/VIEWER.EXE",
    ]
    assert codes(scan) == [("no-dicomdir", "")]
    assert len(scan.instances) == len(syntaxes) + 2


@pytest.mark.parametrize("name", [*COMPRESSED, "LOSSLESS", "EXTENDED", "CINE0001"])
def test_every_compressed_image_renders(mixed_disc: Path, name: str) -> None:
    rel = (
        f"IMAGES/IMG{list(COMPRESSED).index(name) + 1:05d}"
        if name in COMPRESSED
        else f"IMAGES/{name}"
    )
    ds = pydicom.dcmread(mixed_disc / rel)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    last = render_frame(mixed_disc / rel, frames - 1)
    assert last.dtype == np.uint8
    assert last.shape[:2] == (ds.Rows, ds.Columns)
    # the file's own window applies now (no more stretching to 0..255): not a blank frame
    assert int(last.max()) > int(last.min())
    if name == "CINE0001":
        first = render_frame(mixed_disc / rel, 0)
        assert not np.array_equal(first, last)


def test_pdf_instance_is_listed_but_not_rendered(mixed_disc: Path) -> None:
    with pytest.raises(ImageError, match="no image"):
        render_frame(mixed_disc / "IMAGES" / "REPORT01")


# --- nothing to read ----------------------------------------------------------------------


def test_empty_disc_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    assert main(["scan", str(tmp_path / "empty"), "--json"]) == 3
    err = capsys.readouterr().err
    assert "is empty" in err


def test_disc_with_only_a_viewer_exits_3(
    mixed_disc: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(mixed_disc / "IMAGES")
    assert main(["scan", str(mixed_disc), "--json"]) == 3
    assert "holds no readable DICOM images" in capsys.readouterr().err


def test_empty_iso_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "blank").mkdir()
    image = make_iso(tmp_path / "blank", tmp_path / "blank.iso", "-J")
    assert main(["scan", str(image)]) == 3
    assert "is empty" in capsys.readouterr().err


# --- the fast header reader agrees with pydicom ---------------------------------------------


def _nested_sequence_file(path: Path) -> None:
    d = write_disc(path.parents[2] / "nested-src", plan()[:1])
    ds = pydicom.dcmread(d.root / d.all_files[0])
    inner = pydicom.Dataset()
    inner.CodeValue = "T-D3000"
    inner.CodingSchemeDesignator = "SRT"
    item = pydicom.Dataset()
    item.ReferencedSOPInstanceUID = generate_uid()
    item.PurposeOfReferenceCodeSequence = [inner]
    ds.ReferencedImageSequence = [item, item]
    ds.ProcedureCodeSequence = [inner]  # (0008,1032), before the study description
    ds.save_as(path)


def test_fast_header_reader_agrees_with_pydicom(mixed_disc: Path, tmp_path: Path) -> None:
    from kiosk.media.fastheader import read_header
    from kiosk.media.scan import _FAST_TAGS, _read_file, _read_with_pydicom

    _nested_sequence_file(mixed_disc / "IMAGES" / "NESTED01")
    cut = mixed_disc / "IMAGES" / "CUT00001"
    cut.write_bytes((mixed_disc / "IMAGES" / "IMG00001").read_bytes()[:-100])
    for name in ("MR_small_implicit.dcm", "MR_small_bigendian.dcm"):  # read by pydicom
        shutil.copyfile(PYDICOM_FILES / name, mixed_disc / "IMAGES" / name.upper())
    fast_read = []
    for path in sorted((mixed_disc / "IMAGES").iterdir()):
        rel = path.relative_to(mixed_disc).as_posix()
        if read_header(str(path), _FAST_TAGS) is not None:
            fast_read.append(path.name)
        problems: list[Any] = []
        assert _read_file(path, rel, "part10", problems) == _read_with_pydicom(
            path, rel, "part10", problems
        ), rel
        assert problems == []
    # The explicit VR little endian files (every compressed one among them) took the fast
    # way; the implicit VR and big endian ones were read by pydicom, with the same result.
    assert fast_read == [
        "CINE0001",
        "CUT00001",
        "EXTENDED",
        "IMG00001",
        "IMG00002",
        "IMG00003",
        "IMG00004",
        "IMG00005",
        "LOSSLESS",
        "NESTED01",
        "REPORT01",
    ]


def test_unknown_character_set_is_a_problem(tmp_path: Path) -> None:
    d = write_disc(tmp_path / "disc", plan()[:1])
    rel = d.all_files[0]
    data = (d.root / rel).read_bytes()
    charset = b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100"
    assert data.count(charset) == 1
    (d.root / rel).write_bytes(data.replace(charset, b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 999"))
    scan = scan_medium(d.root)
    assert codes(scan) == [("invalid-value", rel), ("no-dicomdir", "")]
    assert "ISO_IR 999" in scan.problems[1].message
    assert len(scan.instances) == 5
    assert {i.patient_name for i in scan.instances} == {"DOE^JANE"}


def test_listed_file_without_preamble_and_listed_garbage(disc: Disc) -> None:
    raw_rel = disc.patients[0].studies[0].series[0].files[0]
    ds = pydicom.dcmread(disc.root / raw_rel)
    del ds.file_meta
    dcmwrite(disc.root / raw_rel, ds, enforce_file_format=False, implicit_vr=True)
    bad_rel = disc.patients[1].studies[0].series[0].files[1]
    (disc.root / bad_rel).write_bytes(b"this was an image once" * 10)
    deep = scan_medium(disc.root)
    assert codes(deep) == [("unreadable-file", bad_rel)]
    assert len(deep.instances) == 6
    assert ds.SOPInstanceUID in sop_uids(deep)
    quick = scan_medium(disc.root, deep=False)
    assert quick.problems == ()
    quick = verify(quick)
    assert codes(quick) == [("unreadable-file", bad_rel)]
    assert sop_uids(quick) == sop_uids(deep)


def test_label_of_an_iso(disc: Disc, tmp_path: Path) -> None:
    image = make_iso(disc.root, tmp_path / "d.iso", "-J")
    scan = scan_medium(image)
    assert scan.label == "OUTSIDE_DISC"
    assert scan_medium(disc.root).label == "disc"


def test_every_problem_code_has_plain_words_and_docs() -> None:
    from kiosk.media.problems import PLAIN_WORDS, Problem, ProblemCode

    docs = (Path(__file__).parents[1] / "docs" / "problems.md").read_text(encoding="utf-8")
    for code in ProblemCode:
        assert code in PLAIN_WORDS
        assert f"| `{code.value}` |" in docs
    problem = Problem(ProblemCode.DICOMDIR_MISSING_FILE, "DICOM/I1", "listed but not on the disc")
    assert problem.plain == (
        "An image listed on the disc is missing (DICOM/I1: listed but not on the disc)"
    )


def _lowercase(root: Path) -> None:
    for path in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
        path.rename(path.with_name(path.name.lower()))


def _iso_versions(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            path.rename(path.with_name(path.name + ";1"))


def _iso_versions_and_dots(root: Path) -> None:
    for path in root.rglob("*"):
        if path.is_file():
            path.rename(path.with_name(path.name + ".;1"))


@pytest.mark.parametrize("rename", [_lowercase, _iso_versions, _iso_versions_and_dots])
def test_quick_scan_forgives_names(disc: Disc, rename: Any) -> None:
    rename(disc.root)
    quick = scan_medium(disc.root, deep=False)
    assert quick.problems == ()
    assert quick.non_dicom == ()
    assert sop_uids(quick) == all_sop_uids(disc)
    quick = verify(quick)
    assert quick.problems == ()
    assert patients_of(quick) == expected_patients(disc)


def test_quick_scan_with_the_dicomdir_in_a_subfolder(tmp_path: Path) -> None:
    inner = tmp_path / "medium" / "CD1"
    d = write_disc(inner)
    make_dicomdir(inner)
    (tmp_path / "medium" / "AUTORUN.INF").write_text("[autorun]\r\n")
    quick = scan_medium(tmp_path / "medium", deep=False)
    assert quick.problems == ()
    assert quick.non_dicom == ("AUTORUN.INF",)
    assert sorted(i.relpath for i in quick.instances) == sorted(f"CD1/{f}" for f in d.all_files)
