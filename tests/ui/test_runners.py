"""The front desk stays usable while background work runs (real threads, a stalled PACS).

The window runs what the clerk waits for on the foreground runner and the
outbox delivery on the background runner: a delivery that hangs on a PACS
must not disable reading a disc, the worklist lookup or the send button.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from kiosk.cli import main
from kiosk.config import load_config
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from tests.test_send_delivery import ScriptedPacs
from ui.operations import Op, Runner, Runners
from ui.windows.main_window import MainWindow

JANE = ("EXT-48213", "DOE^JANE", "19700101", "F")


def wait_for(condition, seconds: float = 20.0) -> None:
    """Process Qt events until ``condition()`` holds.

    Why not ``qtbot.waitUntil``: once a test ran the app's own event loop to
    its end (tests/ui/test_demo_app.py), QTest.qWait no longer delivers the
    signals that the pool's threads queue; QApplication.processEvents does.
    """
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        QApplication.processEvents()
        time.sleep(0.01)


class StalledPacs(ScriptedPacs):
    """A storage SCP that holds every C-STORE until the test lets it answer."""

    def __init__(self, ae_title: str) -> None:
        super().__init__(ae_title)
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def _store(self, event) -> int:
        self.waiting.set()
        self.gate.wait(30)
        return super()._store(event)


def test_a_stalled_background_delivery_leaves_the_desk_usable(
    qtbot, tmp_path: Path, capsys, worklist_server
):
    worklist_server.add_patient("M1")
    root = tmp_path / "disc"
    [study] = write_ct_disc(root, [JANE], per_study=3)
    pacs = StalledPacs("STALLED")
    try:
        cfg = write_config(
            tmp_path / "kiosk.toml",
            worklist=worklist_server,
            destinations={"radiology": pacs},
            spool=tmp_path / "spool",
            database=tmp_path / "kiosk.sqlite3",
        )
        uid = study.study_instance_uid
        args = ["import", str(root), "--study", uid, "--mrn", "M1", "--no-send"]
        assert main([*args, "--config", str(cfg)]) == 0
        capsys.readouterr()  # queued yesterday; the app delivers it in the background

        win = MainWindow(load_config(cfg), runners=Runners(), user="clerk1")
        win.confirm = lambda _title, _text: True
        qtbot.addWidget(win)
        win.show()
        win.deliver_pending()
        assert pacs.waiting.wait(20), "the delivery never reached the PACS"
        assert win.background.running("outbox")
        win.deliver_pending()  # one delivery at a time: this one is not started twice
        assert win.background.busy and not win.runner.busy

        # The clerk's controls stay enabled, and the foreground work runs meanwhile.
        assert win.read_button.isEnabled() and win.search_button.isEnabled()
        assert not win.progress.isVisible()
        win.open_medium(root)
        wait_for(lambda: win.studies.rowCount() == 1 and not win.runner.busy, 20)
        qtbot.keyClicks(win.scan_edit, "M1")
        qtbot.keyClick(win.scan_edit, Qt.Key.Key_Return)
        wait_for(lambda: win.candidates.rowCount() == 1, 20)
        wait_for(lambda: not win.runner.busy, 20)
        assert win.send_button.isEnabled()
        assert win.read_button.isEnabled() and win.search_button.isEnabled()
        assert win.background.running("outbox")  # still stalled at the PACS
        assert pacs.stored == []
    finally:
        pacs.gate.set()
    wait_for(lambda: not win.background.busy, 30)
    assert len(pacs.stored) == 3
    assert win.outbox_label.text() == "Outbox: everything delivered"
    win.runners.wait()
    pacs.close()


def test_an_op_refreshes_its_views_on_success_and_reports_a_failure_in_one_line(qtbot):
    runner = Runner(synchronous=True)
    shown: list[str] = []
    runner.on_failure = shown.append
    seen: list[object] = []
    events: list[object] = []

    def work(listener) -> int:
        listener("event")
        return 42

    Op(
        work, seen.append, progress=events.append, refresh=(lambda: seen.append("refreshed"),)
    ).run_in(runner)
    assert seen == [42, "refreshed"] and events == ["event"]

    def broken(_listener) -> int:
        raise ValueError("bad\nvalue")

    Op(broken, seen.append, refresh=(lambda: seen.append("refreshed"),)).run_in(runner)
    assert seen == [42, "refreshed"]  # no refresh after a failure
    assert shown == ["Unexpected error (ValueError: bad\nvalue); it was logged."]


def test_the_background_runner_runs_one_job_of_a_kind(qtbot):
    runner = Runner()
    gate = threading.Event()
    done: list[str] = []
    assert Op(lambda _l: gate.wait(10), lambda _r: done.append("a"), kind="outbox").run_in(runner)
    assert not Op(lambda _l: None, lambda _r: done.append("b"), kind="outbox").run_in(runner)
    assert Op(lambda _l: None, lambda _r: done.append("c"), kind="media").run_in(runner)
    gate.set()
    wait_for(lambda: not runner.busy, 10)
    assert sorted(done) == ["a", "c"]
    assert Op(lambda _l: None, lambda _r: done.append("d"), kind="outbox").run_in(runner)
    wait_for(lambda: "d" in done, 10)
    runner.wait()
