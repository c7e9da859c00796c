"""Untrusted media: any disc is read within bounds of time and memory.

Each hostile file is made here, on the fly: a Part-10 header written by
pydicom (the file meta and the identifying elements), then hand-built
elements packed with :mod:`struct`: an element declaring 2 GiB in a 1 KiB
file, 3,000 nested sequences, a sparse 1 GiB DICOMDIR, a sparse 1 GiB image,
a DICOMDIR with a hostile length or too many records. Each sits beside good
images, which must still be found.

Every scan is measured twice: once plain, for its wall time and the growth of
the process's resident memory (sampled every 5 ms), once under
:mod:`tracemalloc` for the peak of Python memory (it counts every allocation,
including the buffer a ``read(2 GiB)`` allocates before it reads; it also
slows pure-Python loops many times, hence the separate timing). The figures
are printed: run with ``-s`` to see them.
"""

from __future__ import annotations

import json
import os
import struct
import sys
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

import psutil
import pytest
from pydicom import dcmwrite
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    CTImageStorage,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    MediaStorageDirectoryStorage,
    generate_uid,
)

from kiosk.cli import main
from kiosk.errors import NoDicomError
from kiosk.media.model import MediaScan
from kiosk.media.scan import scan_medium
from tests.test_scan import plan, write_disc

MiB = 1 << 20
GiB = 1 << 30
MEMORY_BOUND = 64 * MiB
TIME_BOUND = 30.0  # seconds; the scans take well under a few seconds (printed with -s)
HOSTILE_LENGTH = 0x7FFFFFF0
UNDEFINED = 0xFFFFFFFF
ITEM = struct.pack("<HHL", 0xFFFE, 0xE000, UNDEFINED)
ITEM_END = struct.pack("<HHL", 0xFFFE, 0xE00D, 0)
SEQ_END = struct.pack("<HHL", 0xFFFE, 0xE0DD, 0)
CONTENT_SEQUENCE = 0x0040A730
ENCAPSULATED_DOCUMENT = 0x00420011
PIXEL_DATA = 0x7FE00010
LONG_VRS = (b"OB", b"OW", b"SQ", b"UN", b"UT")


# --- measuring ----------------------------------------------------------------------------


T = TypeVar("T")


@dataclass
class Measured:
    seconds: float = 0.0
    rss_growth: int = 0
    peak: int = 0  # tracemalloc's peak; 0 if not traced
    retained: int = 0  # what tracemalloc still counted at the end (the result)


class _RssPeak:
    """The highest resident set size of this process while running, sampled every 5 ms."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.start = self.peak = self.process.memory_info().rss
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self.done.wait(0.005):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __enter__(self) -> _RssPeak:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.done.set()
        self.thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)


def measure(label: str, run: Callable[[], T], *, trace: bool = True) -> tuple[T, Measured]:
    """Run once for time and resident memory, once more under tracemalloc; print the figures."""
    m = Measured()
    with _RssPeak() as rss:
        start = time.perf_counter()
        result = run()
        m.seconds = time.perf_counter() - start
    m.rss_growth = rss.peak - rss.start
    traced = ""
    if trace:
        tracemalloc.start()
        try:
            kept = run()
            m.retained, m.peak = tracemalloc.get_traced_memory()
            del kept
        finally:
            tracemalloc.stop()
        traced = f", tracemalloc peak {m.peak / MiB:.1f} MiB"
    report(f"{label}: {m.seconds:.2f} s, RSS growth {m.rss_growth / MiB:.1f} MiB{traced}")
    return result, m


def report(line: str) -> None:
    """Print a measurement past pytest's ``capsys`` (the CLI checks read stdout)."""
    print(f"\n[bounds] {line}", file=sys.__stdout__, flush=True)


def within_bounds(m: Measured) -> None:
    assert m.seconds < TIME_BOUND, f"took {m.seconds:.1f} s"
    assert m.rss_growth < MEMORY_BOUND, f"RSS grew by {m.rss_growth / MiB:.0f} MiB"
    assert m.peak < MEMORY_BOUND, f"tracemalloc peak {m.peak / MiB:.0f} MiB"


# --- building hostile files ---------------------------------------------------------------


def element(tag: int, vr: bytes, length: int, *, implicit: bool) -> bytes:
    """An element header (little endian), without its value."""
    group, elem = tag >> 16, tag & 0xFFFF
    if implicit:
        return struct.pack("<HHL", group, elem, length)
    if vr in LONG_VRS:
        return struct.pack("<HH2sHL", group, elem, vr, 0, length)
    return struct.pack("<HH2sH", group, elem, vr, length)


def header(*, implicit: bool, preamble: bool = True, sop: str = "", ts: str = "") -> bytes:
    """A file up to its identifying elements, written by pydicom (meta included)."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop or generate_uid()
    ds.PatientName = "HOSTILE^FILE"
    ds.PatientID = "EVIL-1"
    ds.PatientBirthDate = "19700101"
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.InstanceNumber = 1
    buf = BytesIO()
    if preamble:
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ts or (
            ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
        )
        dcmwrite(buf, ds, enforce_file_format=True)
    else:
        dcmwrite(buf, ds, enforce_file_format=False, implicit_vr=True, little_endian=True)
    return buf.getvalue()


def pixels(*, implicit: bool) -> bytes:
    return element(PIXEL_DATA, b"OW", 128, implicit=implicit) + bytes(128)


def length_beyond_file(*, implicit: bool, where: str, preamble: bool = True) -> bytes:
    """A 1 KiB file with an OB element declaring 0x7FFFFFF0 bytes, at the top or in a sequence."""
    data = header(implicit=implicit, preamble=preamble)
    if where == "in-sequence":
        data += element(CONTENT_SEQUENCE, b"SQ", UNDEFINED, implicit=implicit) + ITEM
    data += element(ENCAPSULATED_DOCUMENT, b"OB", HOSTILE_LENGTH, implicit=implicit)
    assert len(data) < 1024
    return data + bytes(1024 - len(data))


def nested(*, implicit: bool, depth: int = 3000, defined: bool = False) -> bytes:
    """A file whose content sequence nests ``depth`` levels: SQ > item > SQ > item ..."""
    data = header(implicit=implicit)
    if defined:  # every length given, built from the inside out
        inner = b""
        for _ in range(depth):
            item = struct.pack("<HHL", 0xFFFE, 0xE000, len(inner)) + inner
            inner = element(CONTENT_SEQUENCE, b"SQ", len(item), implicit=implicit) + item
        data += inner
    else:
        opening = element(CONTENT_SEQUENCE, b"SQ", UNDEFINED, implicit=implicit) + ITEM
        data += opening * depth + (ITEM_END + SEQ_END) * depth
    return data + pixels(implicit=implicit)


def deflate_bomb(inflated: int) -> bytes:
    """A deflated file (meta by pydicom) whose data set inflates to ``inflated`` bytes."""
    deflated = header(implicit=False, ts=DeflatedExplicitVRLittleEndian)
    plain = header(implicit=False)
    meta_end = 144 + struct.unpack_from("<L", deflated, 140)[0]  # after (0002,0000)'s value
    data_set = plain[144 + struct.unpack_from("<L", plain, 140)[0] :]
    size = inflated - len(data_set) - 12
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    parts = [
        packer.compress(data_set + element(ENCAPSULATED_DOCUMENT, b"OB", size, implicit=False))
    ]
    zeros = bytes(MiB)
    for start in range(0, size, MiB):
        parts.append(packer.compress(zeros[: min(MiB, size - start)]))
    return deflated[:meta_end] + b"".join(parts) + packer.flush()


def dicomdir_start(*, implicit: bool = False) -> bytes:
    """A DICOMDIR up to its record sequence's first item (written by pydicom, then by hand)."""
    ds = Dataset()
    ds.FileSetID = "OUTSIDE_DISC"
    ds.OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity = 0
    ds.FileSetConsistencyFlag = 0
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = MediaStorageDirectoryStorage
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    buf = BytesIO()
    dcmwrite(buf, ds, enforce_file_format=True)
    record_type = element(0x00041430, b"CS", 8, implicit=implicit) + b"PATIENT "
    return (
        buf.getvalue()
        + element(0x00041220, b"SQ", UNDEFINED, implicit=implicit)
        + ITEM
        + element(0x00041400, b"UL", 4, implicit=implicit)
        + struct.pack("<L", 0)
        + record_type
    )


# --- discs and scans ----------------------------------------------------------------------


def good_disc(root: Path, patients: int = 1) -> int:
    """Good images (no DICOMDIR) under ``root``; the number of instances."""
    return write_disc(root, plan()[:patients]).instances


def codes(scan: MediaScan) -> list[tuple[str, str]]:
    return [(p.code.value, p.path) for p in scan.problems]


def cli_scan(
    root: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str]:
    """``kiosk scan ROOT --json``: the exit code, the JSON document, stderr (no traceback)."""
    capsys.readouterr()
    code = main(["scan", str(root), "--json", *extra])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, (json.loads(out) if code == 0 else {}), err


def check_cli(
    root: Path,
    capsys: pytest.CaptureFixture[str],
    expected: tuple[str, str],
    instances: int,
    label: str,
    *,
    trace: bool = True,
) -> None:
    """``kiosk scan`` deep and ``--quick``: exit 0, the good images, the named problem, bounded."""
    for extra in ((), ("--quick",)):
        (code, doc, err), m = measure(
            f"{label}, kiosk scan {' '.join(extra) or '(deep)'}",
            lambda extra=extra: cli_scan(root, capsys, *extra),  # type: ignore[misc]
            trace=trace,
        )
        assert code == 0, err
        assert doc["instances"] == instances
        assert expected in [(p["code"], p["path"]) for p in doc["problems"]]
        within_bounds(m)


def check_alone(root: Path, rel: str, capsys: pytest.CaptureFixture[str]) -> None:
    """A disc holding only the hostile file: exit 3 (nothing readable), one line, no traceback."""
    alone = root.parent / (root.name + "-alone")
    (alone / rel).parent.mkdir(parents=True)
    os.link(root / rel, alone / rel)
    with pytest.raises(NoDicomError):
        scan_medium(alone)
    code, _, err = cli_scan(alone, capsys)
    assert code == 3
    assert len(err.strip().splitlines()) == 1


# --- a length beyond the file ---------------------------------------------------------------

HOSTILE = "DICOM/HOSTILE1"


def scans_within_bounds(root: Path, label: str) -> list[MediaScan]:
    """The disc scanned deep and quick, each run measured and within the bounds."""
    scans = []
    for deep in (True, False):
        scan, m = measure(
            f"{label}, scan_medium(deep={deep})",
            lambda deep=deep: scan_medium(root, deep=deep),  # type: ignore[misc]
        )
        within_bounds(m)
        scans.append(scan)
    return scans


@pytest.mark.parametrize("where", ["top-level", "in-sequence"])
@pytest.mark.parametrize("encoding", ["explicit", "implicit"])
def test_length_beyond_the_file_is_a_problem_and_nothing_is_allocated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str, where: str
) -> None:
    root = tmp_path / "disc"
    count = good_disc(root)
    (root / HOSTILE).write_bytes(length_beyond_file(implicit=encoding == "implicit", where=where))
    assert (root / HOSTILE).stat().st_size == 1024
    label = f"1 KiB file declaring 2 GiB ({encoding} VR, {where})"
    for scan in scans_within_bounds(root, label):
        assert len(scan.instances) == count
        assert ("length-beyond-file", HOSTILE) in codes(scan)
        problem = next(p for p in scan.problems if p.code.value == "length-beyond-file")
        assert str(HOSTILE_LENGTH) in problem.message and "(0042,0011)" in problem.message
    check_cli(root, capsys, ("length-beyond-file", HOSTILE), count, label)
    check_alone(root, HOSTILE, capsys)


def test_length_beyond_the_file_without_preamble(tmp_path: Path) -> None:
    # A file without preamble is only guessed to be DICOM: when it cannot be read, it is
    # listed as not DICOM (as before), but nothing is allocated for its hostile length.
    root = tmp_path / "disc"
    count = good_disc(root)
    data = length_beyond_file(implicit=True, where="in-sequence", preamble=False)
    assert data[:2] == b"\x08\x00"
    (root / HOSTILE).write_bytes(data)
    scan, m = measure(
        "1 KiB raw data set (no preamble) declaring 2 GiB in a sequence",
        lambda: scan_medium(root),
    )
    within_bounds(m)
    assert len(scan.instances) == count
    assert HOSTILE in scan.non_dicom


# --- what pydicom would parse whole -----------------------------------------------------------


@pytest.mark.timeout(120)
def test_a_real_1_gib_value_in_a_sequence_is_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Implicit VR (read by pydicom): a content sequence of undefined length holding a real
    # 1 GiB value (a sparse file of 1 GiB and a bit). pydicom reads such a sequence whole.
    root = tmp_path / "disc"
    count = good_disc(root)
    opening = (
        header(implicit=True)
        + element(CONTENT_SEQUENCE, b"SQ", UNDEFINED, implicit=True)
        + ITEM
        + element(ENCAPSULATED_DOCUMENT, b"OB", GiB, implicit=True)
    )
    with (root / HOSTILE).open("wb") as f:
        f.write(opening)
        f.seek(len(opening) + GiB)
        f.write(ITEM_END + SEQ_END + pixels(implicit=True))
    label = "implicit VR file with a real 1 GiB value in a sequence"
    for scan in scans_within_bounds(root, label):
        assert len(scan.instances) == count + 1  # a valid file: read, without its value
        assert codes(scan) == [("no-dicomdir", "")]
    check_cli(root, capsys, ("no-dicomdir", ""), count + 1, label)


def test_a_sequence_of_200000_items_is_not_parsed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Implicit VR: pydicom would build a data set for every item of a top-level sequence.
    root = tmp_path / "disc"
    count = good_disc(root)
    (root / HOSTILE).write_bytes(
        header(implicit=True)
        + element(CONTENT_SEQUENCE, b"SQ", UNDEFINED, implicit=True)
        + (ITEM + ITEM_END) * 200_000
        + SEQ_END
        + pixels(implicit=True)
    )
    label = "implicit VR file with a sequence of 200,000 items (3 MiB)"
    scan, m = measure(f"{label}, scan_medium", lambda: scan_medium(root))
    within_bounds(m)
    assert len(scan.instances) == count + 1
    assert codes(scan) == [("no-dicomdir", "")]


# --- sequences nested too deep --------------------------------------------------------------


@pytest.mark.parametrize(
    "encoding,defined",
    [("explicit", False), ("implicit", False), ("explicit", True), ("implicit", True)],
    ids=["explicit-undefined", "implicit-undefined", "explicit-defined", "implicit-defined"],
)
def test_sequences_nested_3000_deep_are_a_problem_not_a_recursion_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], encoding: str, defined: bool
) -> None:
    root = tmp_path / "disc"
    count = good_disc(root)
    (root / HOSTILE).write_bytes(nested(implicit=encoding == "implicit", defined=defined))
    lengths = "defined" if defined else "undefined"
    label = f"3,000 nested sequences ({encoding} VR, {lengths} lengths)"
    for scan in scans_within_bounds(root, label):
        assert len(scan.instances) == count
        assert ("sequence-too-deep", HOSTILE) in codes(scan)
    check_cli(root, capsys, ("sequence-too-deep", HOSTILE), count, label)
    check_alone(root, HOSTILE, capsys)


def test_a_file_nested_64_deep_is_still_read(tmp_path: Path) -> None:
    root = tmp_path / "disc"
    count = good_disc(root)
    for encoding in ("explicit", "implicit"):
        (root / f"DICOM/NEST{encoding[:3].upper()}").write_bytes(
            nested(implicit=encoding == "implicit", depth=64)
        )
    scan = scan_medium(root)
    assert len(scan.instances) == count + 2
    assert codes(scan) == [("no-dicomdir", "")]


def test_recursion_error_is_the_last_line_of_defence(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Should the walk of the element headers not follow a file, pydicom's own recursion
    # is caught and named: still sequence-too-deep, never a RecursionError.
    from kiosk.media import scan as scan_module

    path = tmp_path / "DEEP"
    path.write_bytes(nested(implicit=True))
    monkeypatch.setattr(scan_module, "layout", lambda fh, **kw: None)

    def read() -> tuple[Any, list[Any]]:
        problems: list[Any] = []
        return scan_module._read_with_pydicom(path, "DEEP", "part10", problems), problems

    (got, problems), m = measure(
        "3,000 nested sequences, pydicom alone (RecursionError caught)", read
    )
    within_bounds(m)
    assert got is None
    assert [(p.code.value, p.path) for p in problems] == [("sequence-too-deep", "DEEP")]


# --- a huge DICOMDIR ------------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_sparse_1_gib_dicomdir_is_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "disc"
    count = good_disc(root, patients=2)
    with (root / "DICOMDIR").open("wb") as f:
        f.write(dicomdir_start())
        f.truncate(GiB)
    assert (root / "DICOMDIR").stat().st_size == GiB
    label = "sparse 1 GiB DICOMDIR beside 7 images"
    for scan in scans_within_bounds(root, label):
        assert len(scan.instances) == count
        assert ("dicomdir-too-large", "DICOMDIR") in codes(scan)
    check_cli(root, capsys, ("dicomdir-too-large", "DICOMDIR"), count, label)


def test_dicomdir_with_a_hostile_length_is_unreadable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Implicit VR: read by pydicom, which would read(0x7FFFFFF0) for the referenced file ID.
    root = tmp_path / "disc"
    count = good_disc(root, patients=2)
    data = dicomdir_start(implicit=True) + element(0x00041500, b"CS", HOSTILE_LENGTH, implicit=True)
    (root / "DICOMDIR").write_bytes(data + bytes(2048 - len(data)))
    label = "implicit VR DICOMDIR with an element declaring 2 GiB"
    scan, m = measure(
        f"{label}, scan_medium",
        lambda: scan_medium(root),
    )
    within_bounds(m)
    assert len(scan.instances) == count
    assert ("dicomdir-unreadable", "DICOMDIR") in codes(scan)
    problem = next(p for p in scan.problems if p.code.value == "dicomdir-unreadable")
    assert "(0004,1500)" in problem.message and str(HOSTILE_LENGTH) in problem.message
    check_cli(root, capsys, ("dicomdir-unreadable", "DICOMDIR"), count, label)


def test_dicomdir_with_too_many_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.media.dicomdir import MAX_DICOMDIR_RECORDS

    root = tmp_path / "disc"
    count = good_disc(root)
    data = dicomdir_start() + ITEM_END + (ITEM + ITEM_END) * MAX_DICOMDIR_RECORDS + SEQ_END
    (root / "DICOMDIR").write_bytes(data)
    label = f"DICOMDIR of {MAX_DICOMDIR_RECORDS + 1} empty records ({len(data) // MiB} MiB)"
    scan, m = measure(
        f"{label}, scan_medium",
        lambda: scan_medium(root),
    )
    within_bounds(m)
    assert len(scan.instances) == count
    assert ("dicomdir-too-large", "DICOMDIR") in codes(scan)
    check_cli(root, capsys, ("dicomdir-too-large", "DICOMDIR"), count, label)


# --- a huge image file ----------------------------------------------------------------------


@pytest.mark.timeout(120)
def test_sparse_1_gib_image_file_ends_in_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A valid start, then a gigabyte of zeros: to pydicom, 134 million empty elements.
    root = tmp_path / "disc"
    count = good_disc(root)
    with (root / HOSTILE).open("wb") as f:
        f.write(header(implicit=False))
        f.truncate(GiB)
    label = "sparse 1 GiB image file (zeros after the header)"
    # Memory by RSS only: tracemalloc slows the walk over two million elements fifty-fold.
    scan, m = measure(f"{label}, scan_medium", lambda: scan_medium(root), trace=False)
    within_bounds(m)
    assert len(scan.instances) == count
    problem = next(p for p in scan.problems if p.path == HOSTILE)
    assert problem.code.value == "unreadable-file"
    assert "elements before the pixel data" in problem.message
    check_cli(root, capsys, ("unreadable-file", HOSTILE), count, label, trace=False)


# --- a deflate bomb -------------------------------------------------------------------------


def test_deflated_data_set_that_inflates_to_300_mib_is_not_inflated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "disc"
    count = good_disc(root)
    (root / HOSTILE).write_bytes(deflate_bomb(300 * MiB))
    label = f"{(root / HOSTILE).stat().st_size // 1024} KiB deflated file inflating to 300 MiB"
    scan, m = measure(f"{label}, scan_medium", lambda: scan_medium(root))
    within_bounds(m)
    assert len(scan.instances) == count
    problem = next(p for p in scan.problems if p.path == HOSTILE)
    assert problem.code.value == "unreadable-file"
    assert "inflates to more than" in problem.message
    check_cli(root, capsys, ("unreadable-file", HOSTILE), count, label)


def test_a_real_deflated_file_is_still_read(tmp_path: Path) -> None:
    root = tmp_path / "disc"
    count = good_disc(root)
    (root / "DEFLATED").write_bytes(deflate_bomb(64 * 1024))
    scan = scan_medium(root)
    assert len(scan.instances) == count + 1
    assert codes(scan) == [("no-dicomdir", "")]


# --- thousands of files -------------------------------------------------------------------


def many_files(root: Path, count: int) -> None:
    """``count`` small Part-10 files made from one (SOP Instance UIDs patched in place)."""
    sop = b"1.2.826.0.1.3680043.9.7777.1.100000000"
    template = header(implicit=False, sop=sop.decode()) + pixels(implicit=False)
    assert template.count(sop) == 2  # the meta's and the data set's
    for n in range(count):
        uid = sop[:-8] + f"{n:08d}".encode()  # the component keeps its leading 1
        path = root / f"D{n // 500:03d}" / f"I{n:07d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(template.replace(sop, uid))


def test_five_thousand_files_keep_memory_flat(tmp_path: Path) -> None:
    count = 5000
    root = tmp_path / "disc"
    many_files(root, count)
    scan, m = measure(f"{count} small files, scan_medium", lambda: scan_medium(root))
    assert len(scan.instances) == count
    assert codes(scan) == [("no-dicomdir", "")]
    within_bounds(m)
    # What stays is the list of instances (about 1 KiB each); no file's content is kept,
    # so the whole scan costs a few KiB per file, whatever the files' sizes.
    report(
        f"{count} files: {m.peak / count / 1024:.2f} KiB per file at the peak, "
        f"of which {m.retained / count / 1024:.2f} KiB per instance stay (the result)"
    )
    assert m.peak / count < 4 * 1024
