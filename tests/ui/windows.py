"""A main window for the tests: a fresh store, questions answered yes, errors collected."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kiosk.config import load_config
from tests.kiosk_config import write_config
from ui.operations import Runners
from ui.windows.main_window import MainWindow


def make_window(
    qtbot: Any,
    tmp_path: Path,
    worklist: Any,
    destinations: Mapping[str, Any],
    extra: str = "",
    *,
    user: str = "clerk1",
) -> MainWindow:
    """A shown main window on a fresh store (``extra``: config text appended).

    Its work runs inline; every question is answered yes and kept in
    ``window.questions``, every error shown is kept in ``window.errors``.
    """
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations=dict(destinations),
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    if extra:
        cfg.write_text(cfg.read_text() + extra)
    win = MainWindow(load_config(cfg), runners=Runners(synchronous=True), user=user)
    win.questions = []
    win.errors = []

    def confirm(title: str, text: str) -> bool:
        win.questions.append((title, text))
        return True

    win.confirm = confirm
    win.show_error = win.errors.append
    qtbot.addWidget(win)
    win.show()
    return win
