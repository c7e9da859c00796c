"""Scan of a 10,000-instance disc: with a DICOMDIR (tree) and without (header reads).

Prints, from one invocation, against references run on the same files:

- with a DICOMDIR: the kiosk's quick scan (patient/study/series tree from the
  DICOMDIR's records, every referenced file checked to exist; goal < 1 s),
  against pydicom's ``FileSet`` load and a plain pydicom walk of the records;
- without a DICOMDIR: the kiosk's full scan (every file's header read),
  in header reads per second, against DCMTK ``dcmdump +sd`` over the same files;
- the peak memory (max RSS) of a separate process that scans and copies a
  large disc to the spool (``--big-mb``; the goal is < 300 MB for a 5 GB
  disc, scaled down here to what fits in time, as printed).

Run: ``python benchmarks/bench_scan.py [--instances 10000] [--big-mb 1024]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pydicom

from kiosk.media.dicomdir import release_fileset
from kiosk.media.scan import scan_medium
from tests.discs import ct_instance

SOP = "1.2.826.0.1.3680043.9.7777.1.100000000"
STUDY = "1.2.826.0.1.3680043.9.7777.2.1000000"
SERIES = "1.2.826.0.1.3680043.9.7777.3.1000000"
FRAME = "1.2.826.0.1.3680043.9.7777.4.1000000"


def make_disc(root: Path, instances: int, per_series: int = 100, series_per_study: int = 4) -> None:
    """Write ``instances`` small CT files quickly (one template, UIDs patched in place)."""
    ds = ct_instance(
        patient_id="PAT00000",
        patient_name="DOE^P00000",
        birth_date="19700101",
        sex="F",
        study_uid=STUDY,
        series_uid=SERIES,
        number=1,
        size=16,
    )
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = SOP
    ds.FrameOfReferenceUID = FRAME
    template = root / "template.dcm"
    root.mkdir(parents=True, exist_ok=True)
    ds.save_as(template, enforce_file_format=True)
    data = template.read_bytes()
    template.unlink()
    for n in range(instances):
        s = n // per_series
        st = s // series_per_study
        out = (
            data.replace(SOP.encode(), SOP[:-8].encode() + f"{n:08d}".encode())
            .replace(SERIES.encode(), SERIES[:-6].encode() + f"{s:06d}".encode())
            .replace(STUDY.encode(), STUDY[:-6].encode() + f"{st:06d}".encode())
            .replace(FRAME.encode(), FRAME[:-6].encode() + f"{st:06d}".encode())
            # (each placeholder ends in 1 followed by zeros: no component starts with 0)
            .replace(b"PAT00000", f"PAT{st:05d}".encode())
            .replace(b"DOE^P00000", f"DOE^P{st:05d}".encode())
        )
        path = root / "DICOM" / f"S{s:07d}" / f"I{n % per_series:07d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(out)
    subprocess.run(
        ["/usr/bin/dcmmkdir", "+r", "+id", ".", "-Pgp", "-nb", "+D", "DICOMDIR", "DICOM"],
        cwd=root,
        check=True,
        capture_output=True,
    )


def best(fn, rounds: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def quick_tree(root: Path) -> None:
    scan = scan_medium(root, deep=False)
    assert len(scan.instances) > 0
    scan.patients  # noqa: B018  (the tree the app shows)


def fileset_load(root: Path) -> None:
    from pydicom.fileset import FileSet

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fs = FileSet()
        fs.load(pydicom.dcmread(root / "DICOMDIR"))
        release_fileset(fs)


def plain_record_walk(root: Path) -> None:
    ds = pydicom.dcmread(root / "DICOMDIR")
    for record in ds.DirectoryRecordSequence:
        record.get("ReferencedFileID")
        record.get("DirectoryRecordType")


def peak_memory_child(root: Path, spool: Path) -> None:
    from kiosk.media.spool import copy_checksummed

    scan = scan_medium(root)
    rels = sorted({i.relpath for i in scan.instances} | set(scan.non_dicom))
    for rel in rels:
        copy_checksummed(root / rel, spool / rel, fsync=False)
    os.sync()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{rss_mb:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=10000)
    parser.add_argument("--big-mb", type=int, default=1024)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        peak_memory_child(Path(args.child[0]), Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory(prefix="bench-scan-", dir=Path.home()) as tmp:
        root = Path(tmp) / "disc"
        t = time.perf_counter()
        make_disc(root, args.instances)
        print(f"made a {args.instances}-instance disc in {time.perf_counter() - t:.1f} s")

        ours = best(lambda: quick_tree(root))
        walk = best(lambda: plain_record_walk(root))
        fs = best(lambda: fileset_load(root), rounds=1)
        print("\n== with a DICOMDIR: patient/study/series tree ==")
        print(f"kiosk quick scan (tree)       : {ours:6.2f} s   (goal < 1 s)")
        print(f"pydicom FileSet.load           : {fs:6.2f} s   ratio {fs / ours:5.1f}x faster")
        print(f"pydicom dcmread + record walk  : {walk:6.2f} s   ratio {walk / ours:5.1f}x faster")

        (root / "DICOMDIR").rename(Path(tmp) / "DICOMDIR.away")
        deep = best(lambda: scan_medium(root), rounds=2)
        t = time.perf_counter()
        subprocess.run(
            ["/usr/bin/dcmdump", "+sd", "+r", str(root / "DICOM")],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "TCP_NODELAY": "1"},
        )
        dump = time.perf_counter() - t
        n = args.instances
        print("\n== without a DICOMDIR: every header read ==")
        print(f"kiosk full scan     : {deep:6.2f} s  {n / deep:8.0f} headers/s")
        print(f"dcmdump +sd +r      : {dump:6.2f} s  {n / dump:8.0f} files/s")
        print(f"ratio (kiosk speed / dcmdump speed): {dump / deep:.2f}x")
        (Path(tmp) / "DICOMDIR.away").rename(root / "DICOMDIR")

        # Peak memory: the same disc plus large multi-frame-sized files, scanned and copied.
        big = root / "CINE"
        big.mkdir()
        chunk = os.urandom(1 << 20)
        per_file = 64
        for k in range(max(1, args.big_mb // per_file)):
            with (big / f"BIG{k:05d}").open("wb") as fh:
                for _ in range(per_file):
                    fh.write(chunk)
        total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 2**20
        run = subprocess.run(
            [sys.executable, __file__, "--child", str(root), str(Path(tmp) / "spool")],
            check=True,
            capture_output=True,
            text=True,
        )
        rss = float(run.stdout.strip().splitlines()[-1])
        print("\n== peak memory: scan + copy with checksum ==")
        print(
            f"disc of {total:.0f} MB ({args.instances} instances + {args.big_mb} MB of big files;"
            " scaled down from 5 GB)"
        )
        print(f"peak RSS of the process: {rss:.0f} MB  (goal < 300 MB)")
        shutil.rmtree(Path(tmp) / "spool", ignore_errors=True)


if __name__ == "__main__":
    main()
