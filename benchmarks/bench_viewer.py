"""Scrolling a 500-image CT series from the viewer's cache: frames per second.

The series (512 x 512, 16-bit, rescale to HU, a window in each file) is
decoded once into the :class:`~kiosk.imaging.cache.FrameCache` (timed too);
then every image is rendered with a window (Modality LUT, VOI window, 8-bit)
and converted to a ``QImage``, as the viewer does for each wheel step. The
goal is 30 frames/s or more. The reference is DCMTK's ``dcmj2pnm`` rendering
one frame of the same files to PNG, each in a process of its own (as a
viewer shelling out would), in frames per second.

Run: ``QT_QPA_PLATFORM=offscreen python benchmarks/bench_viewer.py [--images 500]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from pydicom.uid import generate_uid

from kiosk.app.view_study import FrameCache, Window, frame_image
from tests.discs import ct_instance
from ui.viewer.image_view import to_qimage

DCMJ2PNM = Path("/usr/bin/dcmj2pnm")


def make_series(root: Path, images: int, size: int = 512) -> list[Path]:
    """Write a CT series of ``images`` files, each with its own pixels."""
    study, series = generate_uid(), generate_uid()
    rng = np.random.default_rng(7)
    paths = []
    yy, xx = np.mgrid[0:size, 0:size]
    body = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2) < (size * 0.4) ** 2
    for n in range(images):
        ds = ct_instance(
            patient_id="BENCH",
            patient_name="BENCH^VIEWER",
            birth_date="19700101",
            sex="F",
            study_uid=study,
            series_uid=series,
            number=n + 1,
            size=size,
        )
        hu = np.where(body, 40 + rng.normal(0, 20, (size, size)), -1000)
        ds.PixelData = (hu + 1024).clip(0, 4095).astype(np.uint16).tobytes()
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.WindowCenter, ds.WindowWidth = 40, 400
        path = root / f"IM{n:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def main() -> int:
    """Print decode and scroll rates and the ratio to dcmj2pnm."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-viewer-") as tmp:
        paths = make_series(Path(tmp), args.images)
        cache = FrameCache()
        start = time.perf_counter()
        for p in paths:
            cache.frame(p, 0)
        decode = time.perf_counter() - start
        print(f"decode into the cache: {len(paths) / decode:.0f} images/s ({decode:.2f} s)")
        print(f"cache: {cache.bytes / 2**20:.0f} MiB for {len(paths)} images")
        window = Window(40, 400)
        start = time.perf_counter()
        for p in paths:
            image = to_qimage(frame_image(cache, p, 0, window))
            assert image.width() == 512
        scroll = len(paths) / (time.perf_counter() - start)
        verdict = "OK" if scroll >= 30 else "BELOW GOAL"
        print(
            f"scroll from the cache (render + QImage): {scroll:.0f} frames/s "
            f"(goal >= 30: {verdict})"
        )
        if DCMJ2PNM.exists():
            sample = paths[:: max(1, len(paths) // 20)]
            start = time.perf_counter()
            for p in sample:
                subprocess.run(
                    [str(DCMJ2PNM), "+on", "+Ww", "40", "400", str(p), str(Path(tmp) / "x.png")],
                    check=True,
                )
            ref = len(sample) / (time.perf_counter() - start)
            print(f"reference dcmj2pnm (a process per frame): {ref:.0f} frames/s")
            print(f"ratio: {scroll / ref:.1f} x dcmj2pnm")
        else:
            print("reference dcmj2pnm not installed (apt install dcmtk)")
        return 0 if scroll >= 30 else 1


if __name__ == "__main__":
    sys.exit(main())
