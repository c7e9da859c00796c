"""Sending speed: DCMTK ``storescu`` against our sender, into the same DCMTK ``storescp``.

Two workloads, each sent once by each tool into one ``storescp`` (``--fork``,
max PDU 131072, writing files; the received folder is emptied between runs):

(a) 1,000 uncompressed 512x512 16-bit CT instances (about 0.5 MB each);
(b) 5,000 small instances (64x64 CT, about 10 kB each).

``storescu`` runs with ``TCP_NODELAY=1`` on one association (its only mode).
Ours runs as ``python -m kiosk send`` in a subprocess, from a store where
every instance is queued (the store persists between runs, as a kiosk's
does: the first run asks storescp whether it answers C-FIND before sending,
about 0.35 s for loading pynetdicom, and the kiosk remembers the answer for
an hour), with ``associations`` parallel associations; each file is checked
against its checksum (kiosk/digest.py) before it is sent; its
peak memory is the subprocess's peak RSS (sampled every 10 ms with psutil).
Each tool runs ``--repeat`` times (alternating); the median run is shown.
Our packages are byte-compiled first, as ``pip install`` leaves them, so that a
machine with ``PYTHONDONTWRITEBYTECODE=1`` does not compile them in every run.
Prints instances/s, MB/s, the ratio ours/storescu (whole process, and our
send loop alone as ``kiosk send --json`` reports it) and our peak memory.

``--coerced`` queues the files as an import does (coercion on the way out:
a header, here each file's own, sent in front of the file's rest, both
checked against their checksums), which is what ``kiosk send`` sends after
``kiosk import``.

Run from the repository root: ``python benchmarks/bench_send.py [--scale 0.1]
[--associations N] [--coerced]``. Needs DCMTK (``apt-get install dcmtk``).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from kiosk import digest
from kiosk.splice import read_raw_header
from kiosk.store import db, outbox, studies
from kiosk.store.studies import StudyState
from tests.discs import write_instances
from tests.kiosk_config import write_config
from tests.peers import STORESCU, StorageServer, dcmtk_env, wait_until

ROOT = Path(__file__).resolve().parents[1]


@dataclass(order=True)
class Measured:
    """One timed run."""

    seconds: float
    instances: int
    nbytes: int
    peak_rss: int = 0
    sending: float = 0.0  # our own figure: the send loop alone, without process start-up

    @property
    def per_second(self) -> float:
        return self.instances / self.seconds

    @property
    def mb_per_second(self) -> float:
        return self.nbytes / self.seconds / 1e6


def queue_all(database: Path, paths: list[Path], coerced: bool = False) -> None:
    """Put the files in the store as one queued study for ``bench``, the only one.

    ``coerced``: queue them as an import does (coercion on the way out): a
    header (here the file's own, up to its pixel data) sent in front of the
    file's rest, both checked against their checksums before they go.

    The store itself persists between runs, as a kiosk's does: what it learned
    about the destination (that it answers no C-FIND, checked at most hourly)
    stays, so only the first run of ours pays that probe.
    """
    conn = db.connect(database)
    try:
        with db.transaction(conn):
            for table in ("outbox", "commitments", "instances", "studies"):  # audit: a chain
                conn.execute(f"DELETE FROM {table}")
        sid = studies.add_study(
            conn,
            study_instance_uid="1.2.3",
            original_patient_id="X",
            original_issuer="",
            source="bench",
            station="BENCH",
            user="bench",
            destination="bench",
        )
        conn.execute("BEGIN IMMEDIATE")
        for path in paths:
            iid = studies.add_instance(
                conn,
                sid,
                sop_instance_uid=path.stem,  # write_instances names files by UID
                sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
                transfer_syntax_uid="1.2.840.10008.1.2.1",
                source_relpath=path.name,
            )
            studies.update_instance(
                conn,
                iid,
                coerced_path=str(path),
                size=path.stat().st_size,
                coerced_digest=digest.of_file(path),  # so the sender's check is measured too
            )
            if coerced:
                raw = read_raw_header(path, 1 << 20)
                assert raw is not None
                studies.update_instance(
                    conn,
                    iid,
                    original_path=str(path),
                    original_digest=digest.of_file(path),
                    coerced_header=raw.data,
                    tail_at=raw.tail_at,
                    coerced_digest=digest.of_bytes(raw.data),
                )
            outbox.enqueue(conn, iid, "bench", held=False)
        conn.execute("COMMIT")
        for state in (StudyState.COPIED, StudyState.MATCHED, StudyState.COERCED, StudyState.QUEUED):
            studies.set_state(conn, sid, state)
    except sqlite3.Error:
        conn.close()
        raise
    conn.close()


def timed(
    command: list[str], env: dict[str, str], scp: StorageServer, n: int
) -> tuple[float, int, bytes]:
    """Run ``command``; return (seconds until storescp wrote ``n`` files, peak RSS, stdout)."""
    os.sync()  # the previous run's files are on disk before the clock starts
    peak = 0
    began = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    ps = psutil.Process(proc.pid)
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            try:
                peak = max(peak, ps.memory_info().rss)
            except psutil.Error:
                return
            stop.wait(0.01)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({proc.returncode}): {err.decode()[-2000:]}")
    wait_until(lambda: len(scp.received_files()) >= n, 60, what=f"{n} files")
    return time.perf_counter() - began, peak, out


def run_storescu(scp: StorageServer, folder: Path, n: int, nbytes: int) -> Measured:
    scp.clear()
    command = [STORESCU, "-aec", scp.ae_title, "+sd", "+r", "-pdu", "131072",
               scp.host, str(scp.port), str(folder)]  # fmt: skip
    seconds, peak, _ = timed(command, dcmtk_env(), scp, n)
    return Measured(seconds, n, nbytes, peak)


def run_ours(
    scp: StorageServer,
    work: Path,
    paths: list[Path],
    nbytes: int,
    associations: int,
    coerced: bool = False,
) -> Measured:
    scp.clear()
    database = work / "kiosk.sqlite3"
    queue_all(database, paths, coerced)
    cfg = write_config(
        work / "kiosk.toml",
        worklist=None,
        destinations={"bench": scp},
        spool=work / "spool",
        database=database,
    )
    text = cfg.read_text().replace(
        "[destinations.bench]\n", f"[destinations.bench]\nassociations = {associations}\n"
    )
    cfg.write_text(text)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "kiosk", "send", "--config", str(cfg), "--json"]
    seconds, peak, out = timed(command, env, scp, len(paths))
    return Measured(seconds, len(paths), nbytes, peak, float(json.loads(out)["seconds"]))


def report(name: str, theirs: Measured, ours: Measured, associations: int) -> None:
    print(f"\n({name})")
    print(f"  storescu         : {theirs.per_second:6.0f} instances/s"
          f" {theirs.mb_per_second:6.1f} MB/s  ({theirs.seconds:.2f} s)")  # fmt: skip
    print(f"  ours ({associations} assoc.)  : {ours.per_second:6.0f} instances/s"
          f" {ours.mb_per_second:6.1f} MB/s  ({ours.seconds:.2f} s)")  # fmt: skip
    print(f"  ratio ours/storescu: {ours.per_second / theirs.per_second:.2f}x (whole process)")
    if ours.sending:
        rate = ours.instances / ours.sending
        print(f"  ours, send loop only (no Python start-up, {ours.sending:.2f} s): {rate:.0f}"
              f" instances/s {ours.nbytes / ours.sending / 1e6:.1f} MB/s,"
              f" ratio {rate / theirs.per_second:.2f}x")  # fmt: skip
    print(f"  our peak memory (RSS, highest of all runs): {ours.peak_rss / 1e6:.0f} MB")


def main() -> int:
    """Generate the workloads, time both senders, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the instance counts")
    parser.add_argument("--associations", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5, help="runs per tool; medians shown")
    parser.add_argument(
        "--scp-dir",
        default="/dev/shm" if Path("/dev/shm").is_dir() else None,
        help="where storescp writes (default: tmpfs, so that disk write-back noise, which "
        "hits both senders alike but at random, does not decide the ratio)",
    )
    parser.add_argument(
        "--coerced",
        action="store_true",
        help="queue as an import does: a header sent in front of the file's rest",
    )
    args = parser.parse_args()
    for package in ("kiosk", "reconcile"):
        compileall.compile_dir(ROOT / package, quiet=1)
    workloads = [("a", "512x512 CT", int(1000 * args.scale), 512),
                 ("b", "small", int(5000 * args.scale), 64)]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        base = Path(tmp)
        scp_base = Path(tempfile.mkdtemp(prefix="bench-scp-", dir=args.scp_dir))
        print(f"storescp writes into {scp_base}", flush=True)
        with StorageServer(
            scp_base, ae_title="BENCHSCP", extra_args=["--fork", "-pdu", "131072"]
        ) as scp:
            for key, label, n, size in workloads:
                folder = base / f"data-{key}"
                paths = write_instances(folder, n, size=size)
                nbytes = sum(p.stat().st_size for p in paths)
                print(f"workload ({key}): {n} {label} instances, {nbytes / 1e6:.0f} MB", flush=True)
                runs_theirs, runs_ours = [], []
                work = base / f"work-{key}"  # one kiosk store for all runs, as on a station
                work.mkdir()
                for _ in range(args.repeat):  # alternate, so that noise hits both alike
                    runs_theirs.append(run_storescu(scp, folder, n, nbytes))
                    runs_ours.append(
                        run_ours(scp, work, paths, nbytes, args.associations, args.coerced)
                    )
                shutil.rmtree(work)
                theirs = statistics.median_low(runs_theirs)
                ours = replace(
                    statistics.median_low(runs_ours), peak_rss=max(r.peak_rss for r in runs_ours)
                )
                spread = ", ".join(f"{r.per_second:.0f}" for r in runs_ours)
                spread_theirs = ", ".join(f"{r.per_second:.0f}" for r in runs_theirs)
                print(f"  runs, instances/s: storescu {spread_theirs}; ours {spread}")
                pairs = zip(runs_theirs, runs_ours, strict=True)
                paired = sorted(o.per_second / t.per_second for t, o in pairs)
                print("  ratio of each pair of runs (sorted): "
                      + ", ".join(f"{r:.2f}x" for r in paired))  # fmt: skip
                report(f"{key}) {n} {label}", theirs, ours, args.associations)
                shutil.rmtree(folder)
                scp.clear()
        shutil.rmtree(scp_base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
