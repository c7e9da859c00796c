"""Hostile ``.iso`` images whose folders loop or nest without end, and the removal of what
was extracted (the red team's round 4, ``r4_iso_cl_loop.py``).

pycdlib refuses directory records that loop, but not Rock Ridge child links (``CL``):
an image whose child links point back at its top-level folders made the extractor walk
``X/L2/../L7/X/L2/...`` until the reader's time bound, ~1,400 levels deep, and then
``shutil.rmtree`` of the extracted folder raised ``RecursionError``: a traceback on stderr
(or exit 7 instead of 3) and the patient's files left in ``$TMPDIR`` for good.

Each image is made here with pycdlib's writer, then its ``CL`` entries are patched.
"""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pycdlib
import pytest
from pydicom.uid import generate_uid

from kiosk.errors import NoDicomError
from kiosk.media import extractions
from kiosk.media import iso as iso_module
from kiosk.media import scan as scan_module
from tests.discs import ct_instance

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX names and TMPDIR")

READER_SECONDS = "8"
"""The reader's time bound in these tests: the looping image took all of it before."""
LOOPS = [f"{top}/L2/L3/L4/L5/L6/L7/{deep}" for top in "XY" for deep in "XY"]


@pytest.fixture(autouse=True)
def no_deep_tree_left(tmp_path: Path) -> Iterator[None]:
    """Remove the test's folder: a deep tree left in it (a failure) would make pytest's own
    clean-up of old test folders (``shutil.rmtree``) fail with ``RecursionError``."""
    yield
    extractions.remove_tree(tmp_path)


def dicom_bytes() -> bytes:
    ds = ct_instance(
        patient_id="EXT-1",
        patient_name="DOE^JANE",
        birth_date="19700101",
        sex="F",
        study_uid=generate_uid(),
        series_uid=generate_uid(),
        number=1,
    )
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    return out.getvalue()


def looping_image(path: Path, *, with_file: bool) -> Path:
    """/X and /Y (each with IM1 if ``with_file``) hold L2/../L7/{X,Y}; the CLs point at /X, /Y.

    The folders at level 8 are relocated by pycdlib's writer (``rr_moved`` and a child
    link, ``CL``, in L7); their ``CL`` extents are then patched to the top-level folder
    of the same name: a loop pycdlib's open does not see.
    """
    raw = dicom_bytes()
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, rock_ridge="1.09")
    for top in ("X", "Y"):
        folder = "/" + top
        iso.add_directory(folder, rr_name=top)
        if with_file:
            iso.add_fp(io.BytesIO(raw), len(raw), folder + "/IM1.;1", rr_name="IM1")
        for level in range(2, 8):
            folder += f"/L{level}"
            iso.add_directory(folder, rr_name=f"L{level}")
        for deep in ("X", "Y"):
            iso.add_directory(f"{folder}/{deep}", rr_name=deep)
    clean = path.with_suffix(".clean.iso")
    iso.write(str(clean))
    iso.close()
    iso = pycdlib.PyCdlib()
    iso.open(str(clean))
    extents = {
        bytes(child.file_identifier()): child.extent_location()
        for child in iso.pvd.root_directory_record().children
    }
    iso.close()
    data = bytearray(clean.read_bytes())
    patched = 0
    pos = 0
    while (pos := data.find(b"CL\x0c\x01", pos)) != -1:
        nm = data.rfind(b"NM", pos - 80, pos)
        name = bytes(data[nm + 5 : nm + data[nm + 2]])
        target = extents[name]
        data[pos + 4 : pos + 12] = struct.pack("<I", target) + struct.pack(">I", target)
        patched += 1
        pos += 4
    assert patched == 4
    path.write_bytes(bytes(data))
    return path


def depth(folder: Path) -> int:
    """The most levels of folders under ``folder`` (an explicit stack: it may be deep)."""
    most = 0
    stack = [(os.fspath(folder), 0)]
    while stack:
        top, level = stack.pop()
        most = max(most, level)
        with os.scandir(top) as listing:
            stack += [(e.path, level + 1) for e in listing if e.is_dir(follow_symlinks=False)]
    return most


def test_child_links_back_to_a_parent_are_refused_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_ISO_SECONDS", READER_SECONDS)
    (tmp_path / "tmpdir").mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmpdir"))
    image = looping_image(tmp_path / "loop.iso", with_file=True)
    start = time.monotonic()
    extracted = iso_module.extract_image_to_temp(image)
    took = time.monotonic() - start
    try:
        found = {(str(p.code), p.path): p.message for p in extracted.problems}
        assert "image-too-complex" not in {code for code, _path in found}, found
        assert took < 5
        assert sorted(extracted.files) == ["X/IM1", "Y/IM1"]
        for loop in LOOPS:
            message = found[("image-entry-damaged", loop)]
            assert message.startswith("a link to a folder the image holds at another place")
        assert depth(extracted.folder) == 7  # X/L2/../L7: each folder once
    finally:
        assert extractions.remove_tree(extracted.folder)
    # The same in this process (what the reader runs), without a time bound to stop it.
    here = iso_module.extract_image(image, tmp_path / "here")
    assert sorted(here.files) == ["X/IM1", "Y/IM1"]
    assert {p.path for p in here.problems} == set(LOOPS)


def test_folders_deeper_than_the_bound_are_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(iso_module, "MAX_FOLDER_DEPTH", 3)
    raw = dicom_bytes()
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, rock_ridge="1.09")
    folder = ""
    for name in ("A", "B", "C", "D", "E"):
        folder += "/" + name
        iso.add_directory(folder, rr_name=name)
        iso.add_fp(io.BytesIO(raw), len(raw), folder + "/IM.;1", rr_name="IM")
    image = tmp_path / "deep.iso"
    iso.write(str(image))
    iso.close()
    found = iso_module.extract_image(image, tmp_path / "out")
    assert found.files == ["A/IM", "A/B/IM", "A/B/C/IM"]
    [problem] = found.problems
    assert (str(problem.code), problem.path) == ("image-entry-damaged", "A/B/C/D")
    assert "nested deeper than 3 levels" in problem.message
    assert not (tmp_path / "out" / "A" / "B" / "C" / "D").exists()


def run_kiosk(tmp_path: Path, *args: str) -> tuple[int, str, str, list[Path]]:
    """``kiosk ARGS`` in a child whose TMPDIR is a folder of the test; what it left there."""
    temp = tmp_path / "tmpdir"
    temp.mkdir(exist_ok=True)
    env = dict(os.environ, TMPDIR=str(temp), KIOSK_ISO_SECONDS=READER_SECONDS)
    env["PYTHONPATH"] = str(Path(__file__).parents[1])
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / "xdg" / var.lower())
    env.pop("KIOSK_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    left = sorted(temp.iterdir())
    if left:  # what the code under test left: not in the test's own tmp_path for good
        for folder in left:
            extractions.remove_tree(folder)
    return done.returncode, done.stdout, done.stderr, left


@pytest.mark.parametrize("with_file", [True, False], ids=["with-image", "without-image"])
def test_kiosk_scan_of_a_looping_image(tmp_path: Path, with_file: bool) -> None:
    """Exit 0 with the problems (or 3: nothing readable); one line at most; nothing left."""
    image = looping_image(tmp_path / "loop.iso", with_file=with_file)
    start = time.monotonic()
    code, out, err, left = run_kiosk(tmp_path, "scan", str(image), "--json")
    took = time.monotonic() - start
    assert "Traceback" not in err, err
    assert all(line.startswith("kiosk: ") for line in err.splitlines()), err
    assert left == [], "the extracted folder outlived the scan"
    assert took < 6, f"{took:.1f} s: the reader ran to its time bound"
    if with_file:
        assert code == 0, err
        assert err == ""
        doc = json.loads(out)
        assert doc["instances"] == 1  # X/IM1 and Y/IM1: one image twice
        problems = {(p["code"], p["path"]) for p in doc["problems"]}
        assert {("image-entry-damaged", loop) for loop in LOOPS} <= problems
        assert "image-too-complex" not in {code for code, _path in problems}
    else:
        assert code == 3, err
        assert len(err.splitlines()) == 1


# --- removing what was extracted, however deep --------------------------------------------


def deep_tree(top: Path, levels: int) -> Path:
    """``top/d/d/.../d`` ``levels`` deep, a file at every 100th level and at the bottom."""
    top.mkdir()
    folder = top
    for level in range(levels):
        folder = folder / "d"
        folder.mkdir()
        if level % 100 == 0:
            (folder / "IM").write_bytes(b"DOE^JANE")
    (folder / "IM").write_bytes(b"DOE^JANE")
    return top


LEVELS = 1_500
"""Deeper than Python's recursion limit (1,000): ``shutil.rmtree`` raised RecursionError."""


def test_remove_tree_removes_a_tree_deeper_than_the_recursion_limit(tmp_path: Path) -> None:
    assert sys.getrecursionlimit() < LEVELS
    top = deep_tree(tmp_path / "kiosk-iso-deep", LEVELS)
    assert extractions.remove_tree(top)
    assert not top.exists()
    assert extractions.remove_tree(top)  # gone already: nothing to do, no error


def test_remove_tree_never_follows_a_link(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    kept.mkdir()
    (kept / "IM").write_bytes(b"x")
    top = tmp_path / "kiosk-iso-link"
    top.mkdir()
    (top / "link").symlink_to(kept, target_is_directory=True)
    assert extractions.remove_tree(top)
    assert (kept / "IM").exists()


def test_a_scans_extracted_folder_is_removed_however_deep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``scan._Extracted``, the folder of an image's scan: removed without a traceback."""
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    top = deep_tree(tmp_path / "kiosk-iso-scan", LEVELS)
    extracted = scan_module._Extracted(top)
    extracted.remove()
    assert unraisable == []
    assert not top.exists()


def test_a_refused_image_leaves_no_folder_however_deep(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader stopped (its time bound) after a deep tree and no file: exit 3, nothing left."""
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    monkeypatch.setattr("tempfile.tempdir", str(temp))

    def reader_that_wrote_a_deep_tree(image: Path, folder: Path) -> iso_module.Extraction:
        deep = deep_tree(folder / "X", LEVELS)
        assert deep.exists()
        raise NoDicomError("cannot be read safely (image-too-complex: took longer than 1 s)")

    monkeypatch.setattr(iso_module, "_extract_in_reader", reader_that_wrote_a_deep_tree)
    with pytest.raises(NoDicomError):
        iso_module.extract_image_to_temp(tmp_path / "any.iso")
    assert list(temp.iterdir()) == []


def test_an_image_extracted_by_a_killed_process_is_removed_by_the_next(tmp_path: Path) -> None:
    """Red team round 8: ``kill -9`` of an import of an ``.iso`` after its extraction left
    the patient's files in $TMPDIR for good; nothing removed them."""
    from tests.discs import write_ct_disc

    root = tmp_path / "disc"
    write_ct_disc(root, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=2)
    image = tmp_path / "disc.iso"
    subprocess.run(
        ["/usr/bin/genisoimage", "-quiet", "-R", "-o", str(image), str(root)], check=True
    )
    temp = tmp_path / "tmpdir"
    temp.mkdir()
    env = dict(os.environ, TMPDIR=str(temp), KIOSK_FAULT="iso.extracted")
    env["PYTHONPATH"] = str(Path(__file__).parents[1])
    killed = subprocess.run(
        [sys.executable, "-m", "kiosk", "scan", str(image), "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -9
    [left] = [p for p in temp.iterdir() if p.is_dir()]  # the patient's files, as left
    assert any(p.is_file() for p in left.rglob("*"))
    del env["KIOSK_FAULT"]
    code, out, err, still = run_kiosk(tmp_path, "scan", str(image), "--json")
    assert code == 0, err
    assert still == []  # the next kiosk process removed them (and its own)
    assert json.loads(out)["instances"] == 2


def test_an_extraction_in_use_is_never_swept_whatever_its_name_says(tmp_path: Path) -> None:
    """Red team round 9: a kiosk in another PID namespace (a container sharing /tmp) names
    its folder with a pid that means another process here, and its live extraction was
    swept. The lock its process holds is what counts."""
    folder = tmp_path / "kiosk-iso-1-12345-abcdef"  # pid 1 did not start at 12345
    (folder / "DICOM").mkdir(parents=True)
    (folder / "DICOM" / "I1").write_bytes(b"patient data")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(folder) + '.lock'!r}, os.O_RDWR | os.O_CREAT, 0o600)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert extractions.sweep_stale_extractions(tmp_path) == 0
        assert (folder / "DICOM" / "I1").exists()
    finally:
        holder.kill()
        holder.communicate()
    assert extractions.sweep_stale_extractions(tmp_path) == 1  # its process is gone now
    assert not folder.exists() and not Path(f"{folder}.lock").exists()


def test_this_process_keeps_its_own_extraction(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    folder = extractions.new_extraction_folder()
    (folder / "I1").write_bytes(b"patient data")
    assert extractions.sweep_stale_extractions(tmp_path) == 0
    assert extractions.remove_tree(folder)
    assert list(tmp_path.iterdir()) == []  # the lock file went with it


def test_the_lock_of_a_folder_already_gone_is_swept(tmp_path: Path) -> None:
    lock = tmp_path / "kiosk-iso-999999-1-gone.lock"  # its folder removed, its process gone
    lock.write_bytes(b"")
    (tmp_path / "kiosk-iso-elsewhere.lock").write_bytes(b"")  # no kiosk name: left alone
    assert extractions.sweep_stale_extractions(tmp_path) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["kiosk-iso-elsewhere.lock"]
