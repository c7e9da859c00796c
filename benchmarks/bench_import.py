"""Import speed: the whole ``kiosk import`` against ``cp -r`` + ``sync`` + ``storescu +sd``.

Two discs, each with a DICOMDIR (DCMTK ``dcmmkdir``), ISO-style file names:

(a) 600 uncompressed 512x512 16-bit CT instances (about 0.5 MB each);
(b) 3,000 small instances (64x64 CT, about 10 kB each).

One DCMTK ``storescp`` (``--fork``, max PDU 131072, writing files; emptied
between runs) receives both. Alternately, ``--repeat`` times:

- ours: ``python -m kiosk import DISC --all --mrn MRN1 --accession ACC1
  --dest bench --json`` (``--associations`` parallel associations, 2 as in
  bench_send; storescu has one) with a DCMTK ``wlmscpfs`` worklist holding the order
  (so the identity is confirmed as at a desk), a fresh spool, and a store that
  already knows the destination (a station's store does: the copy of a
  warmed-up store is taken, its studies deleted). The clock stops when
  storescp has written every file. ``disc_released_seconds`` of its JSON is
  when the clerk could return the disc (counted from the command's start,
  after the Python interpreter's start-up);
- naive: ``cp -r DISC DEST``, ``sync``, then ``storescu +sd +r`` (with
  ``TCP_NODELAY=1``) of DEST; each step is timed.

Prints medians, the ratio naive/ours (above 1: we are faster), our "return
the disc" time against ``cp -r`` alone (and ``cp -r`` + ``sync``), and our
peak RSS (psutil, every 10 ms). ``kiosk send`` alone against ``storescu``
alone is :mod:`bench_send`'s (``--with-send`` runs it after, same scale).

``--drive MBPS`` reads the disc as an optical drive gives it, for both ways:
the disc folder is written into a read-only ext4 image (no ISO 9660 or UDF
driver is loaded on these machines), attached to a loop device and mounted
afresh for each run (so nothing of it is in the page cache), and the reads of
that device are throttled to ``MBPS`` MB/s (a blkio cgroup; a 16x DVD gives
about 16-21 MB/s, a 52x CD about 7). Without it the disc is a folder the
benchmark has just written: read from the page cache, faster than any drive.
``--drive`` needs root, loop devices, ``mkfs.ext4`` and the cgroup v1 blkio
controller; it says which is missing.

Run from the repository root: ``python benchmarks/bench_import.py [--scale
0.1] [--repeat 3] [--drive 16]``. Needs DCMTK (``apt-get install dcmtk``).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_send import timed
from kiosk.store import db
from tests.discs import ct_instance, make_dicomdir
from tests.kiosk_config import write_config
from tests.peers import STORESCU, StorageServer, WorklistServer, dcmtk_env, wait_until

ROOT = Path(__file__).resolve().parents[1]
MRN = "MRN1"
ACCESSION = "ACC1"


@dataclass(order=True)
class Run:
    """One timed run."""

    seconds: float
    released: float = 0.0  # ours: the disc can be returned; naive: cp -r alone
    synced: float = 0.0  # naive: cp -r + sync
    peak_rss: int = 0


def write_disc(root: Path, n: int, size: int) -> int:
    """Write a disc of ``n`` CT instances of one study, with a DICOMDIR; return its bytes."""
    from pydicom.uid import generate_uid

    study, series = generate_uid(), generate_uid()
    nbytes = 0
    for k in range(1, n + 1):
        ds = ct_instance(
            patient_id=MRN,
            patient_name="TEST^PATIENT",
            birth_date="19700101",
            sex="F",
            study_uid=study,
            series_uid=series,
            number=k,
            size=size,
        )
        path = root / "DICOM" / f"S{(k - 1) // 500:07d}" / f"I{k:07d}"
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        nbytes += path.stat().st_size
    make_dicomdir(root)
    return nbytes


class Drive:
    """The disc as a drive gives it: a read-only file system image on a loop device,
    mounted afresh for each run, its reads throttled to ``rate`` MB/s.

    The throttle is the cgroup v1 blkio controller's ``read_bps_device`` for the
    loop device, on a cgroup of its own that each timed command joins before it
    starts (:meth:`wrap`); storescp and this script stay outside it.
    """

    CGROUP = Path("/sys/fs/cgroup/blkio/kiosk-bench-drive")

    def __init__(self, folder: Path, work: Path, rate: float) -> None:
        self.image = work / "disc.img"
        self.mount = work / "drive"
        self.rate = rate
        problem = self.missing()
        if problem:
            raise SystemExit(f"--drive cannot be used here: {problem}")
        nbytes = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
        with self.image.open("wb") as fh:
            fh.truncate(int(nbytes * 1.2) + (64 << 20))
        subprocess.run(["mkfs.ext4", "-q", "-m", "0", "-d", str(folder), str(self.image)],
                       check=True)  # fmt: skip
        self.mount.mkdir(exist_ok=True)
        self.CGROUP.mkdir(exist_ok=True)

    @staticmethod
    def missing() -> str:
        """What this machine lacks for a drive, or ``""``."""
        if os.geteuid() != 0:
            return "it needs root (loop devices, mount, cgroups)"
        if not Path("/dev/loop-control").exists():
            return "no loop devices (/dev/loop-control)"
        if shutil.which("mkfs.ext4") is None or shutil.which("losetup") is None:
            return "mkfs.ext4 or losetup missing (apt-get install e2fsprogs mount)"
        if not Drive.CGROUP.parent.joinpath("blkio.throttle.read_bps_device").exists():
            return "no cgroup v1 blkio controller at /sys/fs/cgroup/blkio"
        return ""

    @contextlib.contextmanager
    def mounted(self) -> Iterator[Path]:
        """The disc, mounted read-only on a fresh loop device with its reads throttled."""
        attach = ["losetup", "-f", "--show", "-r", str(self.image)]
        device = subprocess.run(attach, check=True, capture_output=True, text=True).stdout.strip()
        try:
            subprocess.run(["mount", "-o", "ro,noload", device, str(self.mount)], check=True)
            try:
                numbers = os.stat(device).st_rdev
                limit = f"{os.major(numbers)}:{os.minor(numbers)} {int(self.rate * 1e6)}"
                (self.CGROUP / "blkio.throttle.read_bps_device").write_text(limit)
                yield self.mount
            finally:
                subprocess.run(["umount", str(self.mount)], check=True)
        finally:
            subprocess.run(["losetup", "-d", device], check=True)

    def wrap(self, command: list[str]) -> list[str]:
        """``command`` run inside the throttled cgroup (it joins it, then execs)."""
        join = f'echo $$ > {self.CGROUP}/cgroup.procs && exec "$@"'
        return ["sh", "-c", join, "sh", *command]

    def close(self) -> None:
        """Remove the image and the cgroup."""
        self.image.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.CGROUP.rmdir()


def clean_store(template: Path, database: Path) -> None:
    """Copy the warmed-up store and delete its studies (what it learned of peers stays).

    The audit trail stays: it is a hash chain, and a station's grows as it works.
    """
    shutil.copy(template, database)
    conn = db.connect(database)
    try:
        with db.transaction(conn):
            for table in ("outbox", "commitments", "corrections", "instances", "studies"):
                conn.execute(f"DELETE FROM {table}")
    except sqlite3.Error:
        conn.close()
        raise
    conn.close()


@contextlib.contextmanager
def inserted(disc: Path, drive: Drive | None) -> Iterator[tuple[Path, list[str]]]:
    """The disc's path for one run, and what a command reading it is prefixed with."""
    if drive is None:
        yield disc, []
        return
    with drive.mounted() as mounted:
        yield mounted, drive.wrap([])


def run_ours(
    scp: StorageServer,
    work: Path,
    cfg: Path,
    disc: Path,
    n: int,
    template: Path | None,
    drive: Drive | None = None,
) -> Run:
    """One ``kiosk import`` of the whole disc, timed until storescp wrote every file."""
    scp.clear()
    shutil.rmtree(work / "spool", ignore_errors=True)
    database = work / "kiosk.sqlite3"
    if template is not None:
        clean_store(template, database)
    os.sync()  # as before the naive run: the last run's deletions are not this run's work
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with inserted(disc, drive) as (path, prefix):
        command = [*prefix, sys.executable, "-m", "kiosk", "import", str(path), "--all",
                   "--mrn", MRN, "--accession", ACCESSION, "--dest", "bench", "--config",
                   str(cfg), "--json"]  # fmt: skip
        seconds, peak, out = timed(command, env, scp, n)
    released = float(json.loads(out).get("disc_released_seconds", 0.0))
    return Run(seconds, released, 0.0, peak)


def run_naive(scp: StorageServer, disc: Path, dest: Path, n: int, drive: Drive | None) -> Run:
    """``cp -r`` + ``sync`` + ``storescu +sd +r``, each step timed."""
    scp.clear()
    shutil.rmtree(dest, ignore_errors=True)
    os.sync()
    with inserted(disc, drive) as (path, prefix):
        began = time.perf_counter()
        subprocess.run([*prefix, "cp", "-r", str(path), str(dest)], check=True)
        copied = time.perf_counter() - began
        subprocess.run(["sync"], check=True)
        synced = time.perf_counter() - began
        command = [STORESCU, "-aec", scp.ae_title, "+sd", "+r", "-nh", "-pdu", "131072",
                   scp.host, str(scp.port), str(dest)]  # fmt: skip
        subprocess.run(command, env=dcmtk_env(), check=False, capture_output=True)
        wait_until(lambda: len(scp.received_files()) >= n, 60, what=f"{n} files")
        return Run(time.perf_counter() - began, copied, synced)


def main() -> int:
    """Write the discs, time both imports, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the instance counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per way; medians shown")
    parser.add_argument(
        "--scp-dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where storescp writes (default: tmpfs, as bench_send)",
    )
    parser.add_argument(
        "--associations", type=int, default=2, help="ours: parallel associations (as bench_send)"
    )
    parser.add_argument("--with-send", action="store_true", help="then run bench_send.py too")
    parser.add_argument(
        "--drive",
        type=float,
        metavar="MBPS",
        help="read the disc from a loop-mounted image throttled to MBPS MB/s, cold each run",
    )
    args = parser.parse_args()
    for package in ("kiosk", "reconcile"):
        compileall.compile_dir(ROOT / package, quiet=1)
    workloads = [("a", "512x512 CT", max(1, int(600 * args.scale)), 512),
                 ("b", "small", max(1, int(3000 * args.scale)), 64)]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        base = Path(tmp)
        scp_base = Path(tempfile.mkdtemp(prefix="bench-scp-", dir=args.scp_dir))
        with (
            StorageServer(
                scp_base, ae_title="BENCHSCP", extra_args=["--fork", "-pdu", "131072"]
            ) as scp,
            WorklistServer(base / "worklist") as worklist,
        ):
            worklist.add_item(
                PatientID=MRN,
                IssuerOfPatientID="MAINHOSP",
                PatientName="TEST^PATIENT",
                PatientBirthDate="19700101",
                PatientSex="F",
                AccessionNumber=ACCESSION,
                RequestedProcedureID="RP1",
                ScheduledProcedureStepID="SPS1",
                RequestedProcedureDescription="OUTSIDE CT IMPORT",
                Modality="CT",
            )
            for key, label, n, size in workloads:
                disc = base / f"disc-{key}"
                nbytes = write_disc(disc, n, size)
                print(f"disc ({key}): {n} {label} instances, {nbytes / 1e6:.0f} MB", flush=True)
                drive = Drive(disc, base, args.drive) if args.drive else None
                if drive is not None:
                    print(f"  read from a drive of {args.drive:g} MB/s, cold each run", flush=True)
                work = base / f"work-{key}"
                work.mkdir()
                cfg = write_config(
                    work / "kiosk.toml",
                    worklist=worklist,
                    destinations={"bench": scp},
                    spool=work / "spool",
                    database=work / "kiosk.sqlite3",
                )
                cfg.write_text(
                    cfg.read_text().replace(
                        "[destinations.bench]\n",
                        f"[destinations.bench]\nassociations = {args.associations}\n",
                    )
                )
                run_ours(scp, work, cfg, disc, n, None)  # warms the store up (not timed)
                template = work / "warm.sqlite3"
                shutil.copy(work / "kiosk.sqlite3", template)
                ours, naive = [], []
                for _ in range(args.repeat):  # alternate, so that noise hits both alike
                    naive.append(run_naive(scp, disc, base / "dest", n, drive))
                    ours.append(run_ours(scp, work, cfg, disc, n, template, drive))
                if drive is not None:
                    drive.close()
                report(f"{key}) {n} {label}, {nbytes / 1e6:.0f} MB", naive, ours)
                shutil.rmtree(work)
                shutil.rmtree(disc)
                shutil.rmtree(base / "dest", ignore_errors=True)
                scp.clear()
        shutil.rmtree(scp_base, ignore_errors=True)
    if args.with_send:
        bench_send = [sys.executable, str(ROOT / "benchmarks" / "bench_send.py")]
        subprocess.run(
            [*bench_send, "--scale", str(args.scale), "--repeat", str(args.repeat),
             "--associations", str(args.associations)],
            check=False,
        )  # fmt: skip
    return 0


def report(name: str, naive: list[Run], ours: list[Run]) -> None:
    """Print one workload's medians and ratios."""
    med = statistics.median
    theirs_s, ours_s = med(r.seconds for r in naive), med(r.seconds for r in ours)
    cp_s, sync_s = med(r.released for r in naive), med(r.synced for r in naive)
    released = med(r.released for r in ours)
    print(f"\n({name})")
    print("  runs, seconds: naive " + ", ".join(f"{r.seconds:.2f}" for r in naive)
          + "; ours " + ", ".join(f"{r.seconds:.2f}" for r in ours))  # fmt: skip
    print(f"  naive (cp -r, sync, storescu +sd): {theirs_s:6.2f} s"
          f"  (cp -r {cp_s:.2f} s, + sync {sync_s:.2f} s)")  # fmt: skip
    print(f"  ours (kiosk import, whole)       : {ours_s:6.2f} s")
    print(f"  ratio naive/ours: {theirs_s / ours_s:.2f}x (above 1: we are faster)")
    print(f"  disc can be returned after {released:.2f} s: {released / cp_s:.2f}x cp -r alone,"
          f" {released / sync_s:.2f}x cp -r + sync")  # fmt: skip
    peak = max(r.peak_rss for r in ours)
    print(f"  our peak memory (RSS, highest of all runs): {peak / 1e6:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
