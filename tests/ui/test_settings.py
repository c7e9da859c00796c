"""The settings window tests the connection to every configured peer."""

from __future__ import annotations

from PySide6.QtCore import Qt

from kiosk.config import load_config
from tests.kiosk_config import write_config
from ui.operations import Runner
from ui.windows.settings import SettingsWindow


def test_each_peer_has_a_working_test_button(qtbot, tmp_path, worklist_server, storage_server):
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={
            "radiology": storage_server,
            "cardiology": ("NOWHERE", "127.0.0.1", 9),
        },
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    window = SettingsWindow(load_config(cfg), Runner(synchronous=True))
    qtbot.addWidget(window)
    assert sorted(window.buttons) == ["cardiology", "radiology", "worklist"]
    for name in window.buttons:
        qtbot.mouseClick(window.buttons[name], Qt.MouseButton.LeftButton)
    assert window.results["worklist"].text().startswith("answers (")
    assert window.results["radiology"].text().startswith("answers (")
    assert window.results["cardiology"].text().startswith("cannot reach the Cardiology PACS")
