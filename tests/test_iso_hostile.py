"""Untrusted media: hostile ``.iso`` images, read with pycdlib and never mounted.

Every image is made here, on the fly, with pycdlib's own writer (symbolic
links, hard links, Rock Ridge, Joliet, UDF); what that writer refuses to make
(a name that is not UTF-8, extents that overlap, a garbled record, an image
cut short) is made by patching the bytes of an image it wrote.

Each image is scanned by a real ``kiosk scan IMAGE --json`` in a child process
whose ``TMPDIR`` is a folder of the test. The test checks the exit code of the
contract (0 with problems, 3 when nothing is readable), that no traceback
reaches the terminal, that the good images are still found, and how many
bytes the temporary folder held at its peak (polled every few milliseconds:
allocated blocks, a hard-linked file once). It prints the time, that peak, the
scan process's own peak RSS and the peak RSS of it and its image reader (the
child process that opens the image with pycdlib): run with ``-s`` to see
them. The image's own problems are checked on
:func:`kiosk.media.iso.extract_image`; that ``kiosk scan`` lists them too is
checked by ``test_scan_lists_the_image_problems``.

The reader's bounds (``KIOSK_ISO_MEMORY``, ``KIOSK_ISO_SECONDS``) are lowered
for an image of 30,000 directory records, and the reader is made to die
midway (``KIOSK_FAULT=iso-reader-file:N``, :mod:`kiosk.faults`).
"""

from __future__ import annotations

import gc
import io
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pycdlib
import pytest
from pydicom.uid import generate_uid

from kiosk.cli import main
from kiosk.media import extractions
from kiosk.media import iso as iso_module
from tests.discs import ct_instance

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX names and TMPDIR")

MiB = 1 << 20
TIME = Path("/usr/bin/time")
# ``kiosk scan`` that then writes its own peak RSS (VmHWM: this process since its exec, not
# the pages of pytest it was forked from, nor its image reader) into the file argv[1].
MEASURED_KIOSK = (
    "import sys\n"
    "from kiosk.cli import main\n"
    "code = main(sys.argv[2:])\n"
    "try:\n"
    "    with open('/proc/self/status') as status:\n"
    "        peak = int(status.read().split('VmHWM:')[1].split()[0]) * 1024\n"
    "except (OSError, IndexError, ValueError):\n"
    "    peak = 0\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(str(peak))\n"
    "sys.exit(code)\n"
)
JANE = ("EXT-1", "DOE^JANE", "19700101", "F")
RICHARD = ("EXT-2", "ROE^RICHARD", "19600505", "M")


# --- building images ------------------------------------------------------------------------


def dicom(number: int, *, patient: tuple[str, str, str, str] = JANE, size: int = 32) -> bytes:
    """A Part-10 CT image (``size`` x ``size`` pixels, 16 bit) as bytes."""
    ds = ct_instance(
        patient_id=patient[0],
        patient_name=patient[1],
        birth_date=patient[2],
        sex=patient[3],
        study_uid=generate_uid(),
        series_uid=generate_uid(),
        number=number,
        size=size,
    )
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def sop_uid(data: bytes) -> str:
    import pydicom

    return str(pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).SOPInstanceUID)


class Image:
    """An image made with pycdlib's writer; paths are ``A/B`` (upper case, no dot)."""

    def __init__(self, *, rock_ridge: bool = True, joliet: bool = True, udf: bool = False) -> None:
        self.rr, self.joliet, self.udf = rock_ridge, joliet, udf
        self.iso = pycdlib.PyCdlib()
        options: dict[str, Any] = {"interchange_level": 4, "vol_ident": "HOSTILE"}
        if rock_ridge:
            options["rock_ridge"] = "1.09"
        if joliet:
            options["joliet"] = 3
        if udf:
            options["udf"] = "2.60"
        self.iso.new(**options)
        self.keep: list[io.BytesIO] = []

    def _names(
        self, path: str, *, iso_name: str | None = None, leaf: str | None = None
    ) -> dict[str, Any]:
        base = path.rsplit("/", 1)[-1]
        names: dict[str, Any] = {"iso_path": "/" + (iso_name or path)}
        if self.rr:
            names["rr_name"] = leaf or base
        if self.joliet:
            names["joliet_path"] = "/" + path.rsplit("/", 1)[0] + "/" + (leaf or base)
            if "/" not in path:
                names["joliet_path"] = "/" + (leaf or base)
        if self.udf:
            names["udf_path"] = "/" + path
        return names

    def folder(self, path: str) -> None:
        self.iso.add_directory(**self._names(path))

    def file(self, path: str, data: bytes, *, iso_name: str | None = None) -> None:
        fp = io.BytesIO(data)
        self.keep.append(fp)
        names = self._names(path, iso_name=(iso_name or path) + ".;1")
        self.iso.add_fp(fp, len(data), **names)

    def symlink(self, path: str, target: str, *, leaf: str | None = None) -> None:
        names: dict[str, Any] = {}
        if self.rr:
            names.update(
                symlink_path="/" + path + ".;1", rr_symlink_name=leaf or path.rsplit("/", 1)[-1]
            )
            names["rr_path"] = target
        if self.udf:
            names.update(
                symlink_path="/" + path + ".;1", udf_symlink_path="/" + path, udf_target=target
            )
        if self.joliet:
            names["joliet_path"] = "/" + path
        self.iso.add_symlink(**names)

    def hard_link(self, old: str, new: str) -> None:
        if self.udf:
            self.iso.add_hard_link(udf_old_path="/" + old, udf_new_path="/" + new)
        else:
            names = {"iso_old_path": "/" + old + ".;1", "iso_new_path": "/" + new + ".;1"}
            if self.rr:
                names["rr_name"] = new.rsplit("/", 1)[-1]
            self.iso.add_hard_link(**names)

    def write(self, out: Path) -> Path:
        self.iso.write(str(out))
        self.iso.close()
        return out


def patch(image: Path, old: bytes, new: bytes) -> None:
    """Replace every ``old`` in the image by ``new`` (same length): what a writer refuses."""
    assert len(old) == len(new)
    data = image.read_bytes()
    assert old in data, old
    image.write_bytes(data.replace(old, new))


def good_files(img: Image, count: int = 2) -> list[str]:
    """Put ``count`` good images under DICOM/; return their SOP Instance UIDs."""
    img.folder("DICOM")
    uids = []
    for n in range(1, count + 1):
        data = dicom(n)
        img.file(f"DICOM/I{n:07d}", data)
        uids.append(sop_uid(data))
    return uids


# --- scanning in a child, measured ----------------------------------------------------------


class TempPeak:
    """The most bytes the files under ``folder`` took at once, polled in a thread.

    Allocated blocks (``st_blocks``): a sparse stand-in counts what it uses, a
    file with several hard links counts once.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> TempPeak:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._done.is_set():
            self.peak = max(self.peak, self.sample())
            self._done.wait(0.002)

    def sample(self) -> int:
        seen: set[tuple[int, int]] = set()
        total = 0
        for top, _dirs, files in os.walk(self.folder):
            for name in files:
                try:
                    st = os.lstat(os.path.join(top, name))
                except OSError:
                    continue
                if (st.st_dev, st.st_ino) not in seen:
                    seen.add((st.st_dev, st.st_ino))
                    total += st.st_blocks * 512
        return total


@dataclass
class Scan:
    code: int
    stdout: str
    stderr: str
    seconds: float
    peak_temp: int
    peak_rss: int
    """The scan process and its image reader (GNU time: the most of either)."""
    own_rss: int
    """The scan process alone (0 where there is no /proc)."""

    @property
    def doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = json.loads(self.stdout)
        return doc

    def no_traceback(self) -> None:
        assert self.code != 7, self.stderr
        assert "Traceback" not in self.stderr, self.stderr


def scan(image: Path, tmp_path: Path, label: str, env: dict[str, str] | None = None) -> Scan:
    """``kiosk scan IMAGE --json`` in a child with TMPDIR in ``tmp_path``; time, peaks printed.

    ``env`` adds to the child's environment (the reader's bounds, a fault point).
    """
    temp = tmp_path / "tmpdir"
    temp.mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(temp), **(env or {}))
    out_file, err_file = tmp_path / "scan.out", tmp_path / "scan.err"
    rss_file, own_file = tmp_path / "scan.rss", tmp_path / "scan.own"
    with out_file.open("wb") as out, err_file.open("wb") as err, TempPeak(temp) as peak:
        start = time.perf_counter()
        # GNU time reports the most RSS of the child and of the children it waited for
        # (its image reader); wait4 on a child of pytest would count the pages it
        # inherited from pytest before its exec. MEASURED_KIOSK writes the child's own.
        timed = [str(TIME), "-o", str(rss_file), "-f", "%M"] if TIME.exists() else []
        kiosk = [sys.executable, "-c", MEASURED_KIOSK, str(own_file)]
        child = subprocess.run(
            [*timed, *kiosk, "scan", str(image), "--json"],
            stdout=out,
            stderr=err,
            env=env,
            timeout=600,
            check=False,
        )
        seconds = time.perf_counter() - start
    rss = rss_file.read_text().strip().splitlines()[-1] if rss_file.exists() else "0"
    result = Scan(
        code=child.returncode,
        stdout=out_file.read_text("utf-8"),
        stderr=err_file.read_text("utf-8"),
        seconds=seconds,
        peak_temp=peak.peak,
        peak_rss=int(rss) * 1024,
        own_rss=int(own_file.read_text() or 0) if own_file.exists() else 0,
    )
    code = child.returncode
    print(
        f"\n[{label}] image {image.stat().st_size} bytes: exit {code}, {seconds:.2f} s, "
        f"temp peak {peak.peak} bytes ({peak.peak / MiB:.2f} MiB), "
        f"scan peak RSS {result.own_rss / MiB:.0f} MiB, "
        f"with its image reader {result.peak_rss / MiB:.0f} MiB"
    )
    assert list(temp.iterdir()) == [], "the extracted folder outlived the scan"
    return result


def image_problems(image: Path, tmp_path: Path) -> set[tuple[str, str]]:
    """(code, path) of the problems ``iso.extract_image`` finds in the image."""
    found = iso_module.extract_image(image, tmp_path / "extracted")
    return {(str(p.code), p.path) for p in found.problems}


# --- symbolic links -------------------------------------------------------------------------


def symlink_image(tmp_path: Path, space: str) -> Path:
    rr = space == "rock-ridge"
    img = Image(rock_ridge=rr, joliet=rr, udf=not rr)
    good_files(img)
    img.symlink("PASSWD", "/etc/passwd")
    img.symlink("DICOM/LINKIMG", "I0000001")
    img.symlink("LINKDIR", "/")
    if rr:  # a Rock Ridge name holding a newline and a terminal escape sequence
        img.symlink("LINK4", "../../../../etc/shadow", leaf="LINK\n\x1b[2J")
    return img.write(tmp_path / f"symlinks-{space}.iso")


SYMLINKS = {
    "rock-ridge": {"PASSWD", "DICOM/LINKIMG", "LINKDIR", "LINK\\n\\x1b[2J"},
    "udf": {"PASSWD", "DICOM/LINKIMG", "LINKDIR"},
}


@pytest.mark.parametrize("space", sorted(SYMLINKS))
def test_symlinks_are_named_and_never_followed(tmp_path: Path, space: str) -> None:
    image = symlink_image(tmp_path, space)
    run = scan(image, tmp_path, f"symlinks {space}")
    run.no_traceback()
    assert run.code == 0
    doc = run.doc
    assert doc["instances"] == 2
    found = image_problems(image, tmp_path)
    assert {path for code, path in found if code == "symlink-on-medium"} == SYMLINKS[space]
    extracted = tmp_path / "extracted"
    assert not any(p.is_symlink() for p in extracted.rglob("*"))
    assert sorted(p.relative_to(extracted).as_posix() for p in extracted.rglob("*")) == [
        "DICOM",
        "DICOM/I0000001",
        "DICOM/I0000002",
    ]


# --- shared and overlapping extents ---------------------------------------------------------


def shared_extent_image(tmp_path: Path) -> Path:
    """One 8 MiB image under 201 names (pycdlib hard links), and one small good image."""
    img = Image(joliet=False)
    img.folder("DICOM")
    img.file("DICOM/BIG", dicom(1, size=2048))
    for n in range(200):
        img.hard_link("DICOM/BIG", f"DICOM/L{n:03d}")
    img.file("DICOM/SMALL", dicom(2, patient=RICHARD))
    return img.write(tmp_path / "shared.iso")


def test_200_names_for_one_extent_are_read_once(tmp_path: Path) -> None:
    image = shared_extent_image(tmp_path)
    run = scan(image, tmp_path, "200 names, one 8 MiB extent")
    run.no_traceback()
    assert run.code == 0
    doc = run.doc
    assert doc["instances"] == 2  # the 8 MiB image once, and the small one
    assert len(doc["patients"]) == 2
    # 8 MiB and a little, where reading every name wrote 201 x 8 MiB = 1.6 GB.
    assert run.peak_temp < 9 * MiB
    found = iso_module.extract_image(image, tmp_path / "extracted")
    assert found.bytes_written < 9 * MiB
    assert len(found.files) == 202
    shared = [p for p in found.problems if p.code == "shared-extent"]
    assert [(p.path, p.message.split(" ", 1)[0]) for p in shared] == [("DICOM/BIG", "200")]
    big = tmp_path / "extracted" / "DICOM" / "BIG"
    assert big.stat().st_nlink == 201
    assert (tmp_path / "extracted" / "DICOM" / "L199").read_bytes()[128:132] == b"DICM"


def overlap_image(tmp_path: Path) -> Path:
    """200 names whose extents start one sector apart inside one 8 MiB run of data.

    Every sector of the run begins like a raw DICOM data set (group 0008), so
    each name looks like DICOM and would be extracted in full: 200 x ~8 MiB.
    The good images come first in the walk (``A...`` sorts before ``F...``).
    """
    img = Image(joliet=False)
    img.file("A0000001", dicom(1))
    img.file("A0000002", dicom(2))
    sector = (b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100" + bytes(2048))[:2048]
    img.file("BLOB", sector * 4096)  # 8 MiB
    for n in range(200):
        img.file(f"F{n:03d}", f"F{n:03d}".encode())
    image = img.write(tmp_path / "overlap.iso")
    with _Open(image) as opened:
        blob = opened.get_record(rr_path="/BLOB").extent_location()
    data = bytearray(image.read_bytes())
    for n in range(200):
        ident = f"F{n:03d}.;1".encode()
        at = data.index(bytes([len(ident)]) + ident) - 32  # the directory record's start
        extent, length = blob + n, (4096 - n) * 2048
        data[at + 2 : at + 10] = extent.to_bytes(4, "little") + extent.to_bytes(4, "big")
        data[at + 10 : at + 18] = length.to_bytes(4, "little") + length.to_bytes(4, "big")
    image.write_bytes(bytes(data))
    return image


class _Open:
    """pycdlib opened on an image, closed on exit."""

    def __init__(self, image: Path) -> None:
        self.fp = image.open("rb")
        self.iso = pycdlib.PyCdlib()
        self.iso.open_fp(self.fp)

    def __enter__(self) -> Any:
        return self.iso

    def __exit__(self, *exc: object) -> None:
        self.iso.close()
        self.fp.close()


def test_overlapping_extents_stop_at_the_image_size(tmp_path: Path) -> None:
    image = overlap_image(tmp_path)
    size = image.stat().st_size
    run = scan(image, tmp_path, "200 overlapping ~8 MiB extents")
    run.no_traceback()
    assert run.code == 0
    assert run.doc["instances"] == 2  # the files found before the stop are listed
    assert run.peak_temp <= size + MiB  # where every name in full would be ~1.6 GB
    found = iso_module.extract_image(image, tmp_path / "extracted")
    assert found.bytes_written <= size
    [stop] = [p for p in found.problems if p.code == "image-size-exceeded"]
    assert stop.path.startswith("F")
    assert "were not read" in stop.message


# --- names ----------------------------------------------------------------------------------

PLACEHOLDERS = (b"NAMEA001", b"NAMEB001", b"NAMEC001")
HOSTILE = (b"IM\xff\xfe0001", b"IM\n\x1b[2J0", b"../../xx")
SHOWN = ("IM\\xff\\xfe0001", "IM\\n\\x1b[2J0", "../../xx")


def named_image(tmp_path: Path, space: str) -> Path:
    """Two good images, two images under hostile names, one entry named ``../../xx``."""
    img = Image(rock_ridge=space == "rock-ridge", joliet=space == "joliet")
    good_files(img)
    for n, placeholder in enumerate(PLACEHOLDERS, 3):
        name = placeholder.decode()
        if space == "iso9660":
            img.file(name, dicom(n, patient=RICHARD))
        else:
            data = dicom(n, patient=RICHARD)
            where: dict[str, Any] = (
                {"rr_name": name} if space == "rock-ridge" else {"joliet_path": "/" + name}
            )
            img.iso.add_fp(io.BytesIO(data), len(data), f"/F{n}.;1", **where)
    image = img.write(tmp_path / f"names-{space}.iso")
    for placeholder, hostile in zip(PLACEHOLDERS, HOSTILE, strict=True):
        if space == "joliet":
            # UTF-16 that does not decode: a lone high surrogate, then the rest.
            bad = b"\xd8\x00" + hostile.decode("latin-1")[1:].encode("utf-16-be")
            patch(image, placeholder.decode().encode("utf-16-be"), bad)
        else:
            patch(image, placeholder, hostile)
    return image


@pytest.mark.parametrize("space", ["rock-ridge", "joliet", "iso9660"])
def test_names_not_utf8_or_with_escapes_do_not_crash(tmp_path: Path, space: str) -> None:
    image = named_image(tmp_path, space)
    run = scan(image, tmp_path, f"hostile names {space}")
    run.no_traceback()
    assert run.code == 0
    assert "\x1b" not in run.stdout
    assert "\x1b" not in run.stderr
    doc = run.doc
    assert doc["instances"] == 4  # the two good ones and the two under odd names
    found = image_problems(image, tmp_path)
    damaged = {path for code, path in found if code == "image-entry-damaged"}
    if space == "joliet":
        assert len(damaged) == 1 and damaged.pop().endswith("../xx")
    else:
        assert damaged == {SHOWN[2]}


# --- a viewer on the disc -------------------------------------------------------------------


def test_a_viewer_is_not_extracted(tmp_path: Path) -> None:
    """A 24 MiB non-DICOM file costs one sector of the temporary folder, not 24 MiB."""
    img = Image()
    good_files(img)
    img.folder("VIEWER")
    viewer = random.Random(7).randbytes(24 * MiB)
    img.file("VIEWER/VIEWER", b"MZ" + viewer[2:])
    image = img.write(tmp_path / "viewer.iso")
    run = scan(image, tmp_path, "24 MiB viewer")
    run.no_traceback()
    assert run.code == 0
    doc = run.doc
    assert doc["instances"] == 2
    assert doc["non_dicom"] == ["VIEWER/VIEWER"]
    assert run.peak_temp < MiB
    found = iso_module.extract_image(image, tmp_path / "extracted")
    stand_in = tmp_path / "extracted" / "VIEWER" / "VIEWER"
    assert stand_in.stat().st_size == 24 * MiB  # the size is the real one
    assert stand_in.stat().st_blocks * 512 < MiB  # but nothing past its first sector
    assert stand_in.read_bytes()[:2048] == (b"MZ" + viewer[2:])[:2048]
    assert found.bytes_written < 64 * (1 << 10)


# --- garbled and cut images -----------------------------------------------------------------


def plain_image(tmp_path: Path, name: str, *, big: bool = False) -> tuple[Path, int]:
    img = Image()
    if big:  # added first, its data comes last (pycdlib's layout)
        img.folder("ZDIR")
        img.file("ZDIR/ZLAST", dicom(9, size=512))
    good_files(img, 3)
    image = img.write(tmp_path / name)
    with _Open(image) as opened:
        first_data = min(
            opened.get_record(rr_path=f"/DICOM/I{n:07d}").extent_location() for n in (1, 2, 3)
        )
    return image, first_data * 2048


GARBLED_SEEDS = range(80)
HOSTILE_BYTES = (0x00, 0x2F, 0x5C, 0x2E, 0x0A, 0x1B, 0x80, 0xC3, 0xFF)


def garble(clean: bytes, seed: int, names: list[int], records: list[int]) -> bytes:
    """One garbling of a clean image that pycdlib still opens, most of the time.

    pycdlib checks much of what it parses (both-endian fields agree, padding
    is zero), so blind random bytes mostly make an image it refuses (exit 3).
    Here a seed picks one of: a byte of a Rock Ridge name (NUL, ``/``, ``\\``,
    ``.``, newline, ESC, bytes that are not UTF-8), the extent and length of
    a file (both-endian, so that pycdlib takes them: past the image, into the
    directories, 2 GiB long), or a few random bytes anywhere in the metadata.
    """
    rng = random.Random(seed)
    data = bytearray(clean)
    what = seed % 3
    if what == 0:
        at = rng.choice(names) + rng.randrange(8)
        data[at] = rng.choice(HOSTILE_BYTES) if rng.random() < 0.7 else rng.randrange(256)
    elif what == 1:
        at = rng.choice(records)
        extent = rng.choice((0, 16, 18, 29, len(clean) // 2048 - 1, 1 << 20, rng.randrange(400)))
        length = rng.choice((0, 1, 2048, 1 << 31, rng.randrange(1 << 24)))
        data[at + 2 : at + 10] = extent.to_bytes(4, "little") + extent.to_bytes(4, "big")
        data[at + 10 : at + 18] = length.to_bytes(4, "little") + length.to_bytes(4, "big")
    else:
        for _ in range(rng.choice((1, 4, 16))):
            data[rng.randrange(16 * 2048, len(clean) // 2)] = rng.randrange(256)
    return bytes(data)


def test_garbled_or_cut_images_never_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Garbled names, extents and metadata, scanned in this process (faster).
    image, _ = plain_image(tmp_path, "clean.iso")
    clean = image.read_bytes()
    names = [clean.index(b"NM\x0d\x01\x00" + f"I{n:07d}".encode()) + 5 for n in (1, 2, 3)]
    records = [clean.index(b"\x0b" + f"I{n:07d}.;1".encode()) - 32 for n in (1, 2, 3)]
    temp = tmp_path / "garbled-tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    outcomes: dict[int, int] = {}
    start = time.perf_counter()
    garbled = tmp_path / "garbled.iso"
    for seed in GARBLED_SEEDS:
        garbled.write_bytes(garble(clean, seed, names, records))
        code = main(["scan", str(garbled), "--json"])
        out, err = capsys.readouterr()
        outcomes[code] = outcomes.get(code, 0) + 1
        assert code in (0, 3), (seed, err)
        assert "Traceback" not in err, (seed, err)
        if code == 3:
            assert len(err.strip().splitlines()) == 1, (seed, err)
        else:
            assert json.loads(out)["instances"] >= 1
        gc.collect()
        assert list(temp.iterdir()) == [], seed
    seconds = time.perf_counter() - start
    with capsys.disabled():
        print(f"\n[garbled x{len(GARBLED_SEEDS)}] exit codes {outcomes}, {seconds:.1f} s in all")

    # An image cut short inside its last file (an interrupted download or copy).
    image, first_data = plain_image(tmp_path, "cut.iso", big=True)
    data = image.read_bytes()
    with _Open(image) as opened:
        last = opened.get_record(rr_path="/ZDIR/ZLAST").extent_location() * 2048
    assert len(data) > last + 100_000 and last > first_data  # its data comes last
    image.write_bytes(data[: last + 100_000])  # inside the last image's pixel data
    with capsys.disabled():
        run = scan(image, tmp_path, "cut short")
    run.no_traceback()
    assert run.code == 0
    doc = run.doc
    assert doc["instances"] == 3
    assert ("truncated-file", "ZDIR/ZLAST") in {(p["code"], p["path"]) for p in doc["problems"]}
    found = image_problems(image, tmp_path)
    assert {("image-entry-damaged", ""), ("image-entry-damaged", "ZDIR/ZLAST")} <= found


def test_an_image_without_readable_dicom_exits_3(tmp_path: Path) -> None:
    img = Image()
    img.symlink("PASSWD", "/etc/passwd")
    img.file("README", b"not an image\n")
    image = img.write(tmp_path / "nothing.iso")
    run = scan(image, tmp_path, "nothing readable")
    run.no_traceback()
    assert run.code == 3
    assert len(run.stderr.strip().splitlines()) == 1
    assert "holds no readable DICOM images" in run.stderr
    assert ("symlink-on-medium", "PASSWD") in image_problems(image, tmp_path)


# --- what kiosk scan lists ------------------------------------------------------------------


BUILDERS: dict[str, tuple[Callable[[Path], Path], tuple[str, str]]] = {
    "symlink": (lambda p: symlink_image(p, "rock-ridge"), ("symlink-on-medium", "PASSWD")),
    "udf-symlink": (lambda p: symlink_image(p, "udf"), ("symlink-on-medium", "PASSWD")),
    "shared-extent": (shared_extent_image, ("shared-extent", "DICOM/BIG")),
    "hostile-name": (lambda p: named_image(p, "rock-ridge"), ("image-entry-damaged", SHOWN[2])),
}


@pytest.mark.parametrize("which", sorted(BUILDERS))
def test_scan_lists_the_image_problems(tmp_path: Path, which: str) -> None:
    build, expected = BUILDERS[which]
    run = scan(build(tmp_path), tmp_path, f"listed: {which}")
    run.no_traceback()
    assert run.code == 0
    assert expected in {(p["code"], p["path"]) for p in run.doc["problems"]}


# --- the reader's bounds: a child process ---------------------------------------------------

MANY = 30_000


@pytest.fixture(scope="module")
def many_entries(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two good images under DICOM/, then 30,000 empty files under MANY/ (5 MB of records).

    pycdlib's open of it takes ~1.6 s and ~110 MiB: what millions of records
    in a few hundred MB would multiply.
    """
    img = Image()
    good_files(img)
    img.folder("MANY")
    for n in range(MANY):
        img.file(f"MANY/F{n:06d}", b"")
    return img.write(tmp_path_factory.mktemp("many") / "many.iso")


def one_line(run: Scan) -> str:
    run.no_traceback()
    assert run.code == 3
    [line] = run.stderr.strip().splitlines()
    return line


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS enforced, /proc for the RSS")
def test_many_records_stop_the_reader_at_its_memory_bound(
    many_entries: Path, tmp_path: Path
) -> None:
    image, _ = plain_image(tmp_path, "small.iso")
    (tmp_path / "small").mkdir()
    (tmp_path / "many").mkdir()
    small = scan(image, tmp_path / "small", "3 images, default bounds")
    assert small.code == 0
    run = scan(
        many_entries,
        tmp_path / "many",
        f"{MANY} entries, reader bound 64 MiB",
        env={"KIOSK_ISO_MEMORY": "64"},
    )
    line = one_line(run)  # nothing was extracted: exit 3, one line that says why
    assert "cannot be read safely (image-too-complex: " in line
    assert "needed more than 64 MiB of memory" in line
    # The scan process itself stays as small as for an ordinary image; pycdlib's tree of
    # the image, ~110 MiB unbounded, was only ever in the reader.
    assert small.own_rss > 0
    assert run.own_rss < small.own_rss + 16 * MiB


def test_a_reader_past_its_time_is_killed(many_entries: Path, tmp_path: Path) -> None:
    run = scan(
        many_entries,
        tmp_path,
        f"{MANY} entries, reader bound 0.1 s",
        env={"KIOSK_ISO_SECONDS": "0.1"},
    )
    line = one_line(run)
    assert "cannot be read safely (image-too-complex: " in line
    assert "took longer than 0.1 s" in line


def test_a_reader_that_dies_midway_leaves_what_it_wrote(tmp_path: Path) -> None:
    """The reader is killed (SIGKILL) right after its third file: the scan reads the three."""
    img = Image()
    uids = good_files(img)  # DICOM/I0000001, DICOM/I0000002: the first two files written
    img.symlink("DICOM/ALINK", "/etc/passwd")  # found before them (ISO order)
    img.folder("ZMORE")
    for n in range(5):
        img.file(f"ZMORE/F{n}", f"not an image {n}\n".encode())
    image = img.write(tmp_path / "dies.iso")
    run = scan(
        image, tmp_path, "reader killed at its 3rd file", env={"KIOSK_FAULT": "iso-reader-file:3"}
    )
    run.no_traceback()
    assert run.code == 0
    doc = run.doc
    assert doc["instances"] == 2
    assert doc["non_dicom"] == ["ZMORE/F0"]
    found = {(p["code"], p["path"]): p["message"] for p in doc["problems"]}
    assert ("symlink-on-medium", "DICOM/ALINK") in found  # told before the reader died
    stop = found[("image-too-complex", "")]
    assert stop.startswith("its reader was stopped by the system (signal SIGKILL)")
    assert "the 3 files extracted before are read" in stop
    assert len(uids) == 2


@pytest.mark.parametrize("which", ["symlinks", "shared-extent", "hostile-names"])
def test_the_reader_reports_what_extract_image_finds(tmp_path: Path, which: str) -> None:
    """Files (names not UTF-8 among them), problems and bytes cross the pipe unchanged."""
    builders: dict[str, Callable[[Path], Path]] = {
        "symlinks": lambda p: symlink_image(p, "rock-ridge"),
        "shared-extent": shared_extent_image,
        "hostile-names": lambda p: named_image(p, "rock-ridge"),
    }
    image = builders[which](tmp_path)
    here = iso_module.extract_image(image, tmp_path / "here")
    there = iso_module.extract_image_to_temp(image)
    try:
        assert there.files == here.files
        assert there.problems == here.problems
        assert (there.bytes_written, there.image_size) == (here.bytes_written, here.image_size)
        assert sorted(p.relative_to(there.folder) for p in there.folder.rglob("*")) == sorted(
            p.relative_to(here.folder) for p in here.folder.rglob("*")
        )
    finally:
        extractions.remove_tree(there.folder)


def test_a_report_past_its_bound_stops_the_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The parent reads at most REPORT_LIMIT bytes of the reader's lines (here 2,000)."""
    monkeypatch.setattr(iso_module, "REPORT_LIMIT", 2000)
    there = iso_module.extract_image_to_temp(shared_extent_image(tmp_path))
    try:
        assert 0 < len(there.files) < 202
        [stop] = [p for p in there.problems if p.code == "image-too-complex"]
        assert stop.message.startswith("the list of its files and problems passed ")
    finally:
        extractions.remove_tree(there.folder)


def test_the_reader_starts_fast(tmp_path: Path) -> None:
    """An ordinary small image: the child costs well under a second (measured, printed)."""
    image, _ = plain_image(tmp_path, "small.iso")
    here, there = [], []
    for n in range(5):
        start = time.perf_counter()
        iso_module.extract_image(image, tmp_path / f"here{n}")
        here.append(time.perf_counter() - start)
        start = time.perf_counter()
        extracted = iso_module.extract_image_to_temp(image)
        there.append(time.perf_counter() - start)
        extractions.remove_tree(extracted.folder)
        assert len(extracted.files) == 3
        assert extracted.problems == []
    print(
        f"\n[start-up] small image {image.stat().st_size} bytes: in this process "
        f"{statistics.median(here) * 1000:.1f} ms, in the bounded reader "
        f"{statistics.median(there) * 1000:.1f} ms (medians of 5)"
    )
    assert statistics.median(there) < 1.0
