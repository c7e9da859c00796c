"""Spool copy with its checksum against ``cp -r`` of the same files.

Each file is copied with :func:`kiosk.media.spool.copy_checksummed` (hashed
while read, :mod:`kiosk.digest`), then one ``sync``. Prints the
throughput of both and the ratio (goal: the kiosk's copy at least 0.9x the
speed of ``cp -r``). Both read the same files from the page cache
(the source is written just before, then read once to warm the cache), both
write to the same file system and both end when everything is on disk
(``sync``); each starts after a ``sync`` and the order alternates between
rounds. Run: ``python benchmarks/bench_spool.py [--mb 512] [--files 1000]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.media.spool import copy_checksummed


def make_source(root: Path, total_mb: int, files: int) -> list[str]:
    size = total_mb * 2**20 // files
    rels = []
    block = os.urandom(size)
    for n in range(files):
        rel = f"DICOM/S{n // 100:07d}/I{n:07d}"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        # Different content per file (no dedup anywhere), same size.
        path.write_bytes(n.to_bytes(8, "little") + block[8:])
        rels.append(rel)
    return rels


def warm(root: Path) -> None:
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as fh:
                while fh.read(1 << 20):
                    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=512)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-spool-", dir=Path.home()) as tmp:
        base = Path(tmp)
        src = base / "disc"
        rels = make_source(src, args.mb, args.files)
        warm(src)
        cp_times: list[float] = []
        ours: list[float] = []

        def run_cp(r: int) -> None:
            os.sync()  # neither run pays for what the other left to write
            t = time.perf_counter()
            subprocess.run(["cp", "-r", str(src), str(base / f"cp{r}")], check=True)
            subprocess.run(["sync"], check=True)
            cp_times.append(time.perf_counter() - t)

        def run_ours(r: int) -> None:
            os.sync()
            t = time.perf_counter()
            for rel in rels:
                copy_checksummed(src / rel, base / f"spool{r}" / rel, fsync=False)
            os.sync()  # one flush for all files, as cp -r + sync
            ours.append(time.perf_counter() - t)

        for r in range(args.rounds):
            # Alternate which goes first (the machine may be busier at one moment).
            for run in (run_cp, run_ours) if r % 2 == 0 else (run_ours, run_cp):
                run(r)
            shutil.rmtree(base / f"cp{r}")
            shutil.rmtree(base / f"spool{r}")
            print(
                f"round {r + 1}: cp -r + sync {cp_times[-1]:.2f} s, kiosk {ours[-1]:.2f} s, "
                f"ratio {cp_times[-1] / ours[-1]:.2f}x"
            )
        cp_t, our_t = min(cp_times), min(ours)
        mb = args.mb
        print(f"files: {args.files}, {mb} MB, best of {args.rounds}")
        print(f"cp -r + sync      : {cp_t:6.2f} s  {mb / cp_t:7.1f} MB/s")
        print(f"kiosk copy+digest : {our_t:6.2f} s  {mb / our_t:7.1f} MB/s")
        print(f"ratio (kiosk speed / cp speed): {cp_t / our_t:.2f}x  (goal >= 0.9x)")


if __name__ == "__main__":
    main()
