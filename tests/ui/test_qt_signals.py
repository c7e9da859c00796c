"""The Qt binding survives a long day of signals (the app polls media every second)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_many_signals_to_python_slots_do_not_abort_the_process():
    # PySide6 6.12.0 dropped a reference to True/False with each bool signal delivered to
    # a Python slot, and Python aborted ("bool_dealloc") after some thousands: a kiosk
    # polling once a second died within hours. Run in a child: the abort kills a process.
    script = textwrap.dedent(
        """
        from PySide6.QtCore import QCoreApplication, QObject, Signal

        app = QCoreApplication([])

        class Source(QObject):
            flag = Signal(bool)
            value = Signal(object)

        source, seen = Source(), []
        source.flag.connect(seen.append)
        source.value.connect(lambda v: seen.append(v))
        for _ in range(30000):
            source.flag.emit(True)
            source.flag.emit(False)
            source.value.emit(True)
            seen.clear()
        print("alive")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "alive"), done.stderr[-500:]
