"""``python -m ui.screenshot docs`` makes every picture the docs show, from a run of the demo.

The script drives the window as a clerk would; a step that no longer works
(a study not selected, a button disabled) would silently leave an old
picture in ``docs/``. Here it must make all of them, anew.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtGui import QImage

from ui import screenshot

ROOT = Path(__file__).resolve().parents[2]


def test_every_picture_of_the_docs_is_made_by_the_screenshot_run(qapp, tmp_path):
    assert screenshot.main(tmp_path) == 0
    made = {p.name for p in tmp_path.glob("*.png")}
    kept = {p.name for p in (ROOT / "docs").glob("*.png")}
    shown = set(re.findall(r"docs/([\w-]+\.png)", (ROOT / "README.md").read_text("utf-8")))
    assert shown <= kept
    assert made == kept
    for name in made:
        image = QImage(str(tmp_path / name))
        assert image.width() >= 500 and image.height() >= 250, name
