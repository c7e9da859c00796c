"""Run a function off the GUI thread and get its result or error back on the GUI thread.

Every slow thing (reading a disc, hashing, C-FIND, C-STORE, thumbnails) goes
through :class:`TaskRunner`. Tests use ``TaskRunner(synchronous=True)`` so the
order of events is fixed.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from kiosk.progress import Listener

log = logging.getLogger(__name__)

Progress = Listener  # what a task tells the window as it goes (kiosk.progress events)


class _Signals(QObject):
    done = Signal(object)
    failed = Signal(object)
    progress = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[Progress], Any], signals: _Signals) -> None:
        super().__init__()
        self.fn = fn
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.fn(self.signals.progress.emit)
        except Exception as exc:
            log.debug("task failed:\n%s", traceback.format_exc())
            self.signals.failed.emit(exc)
        else:
            self.signals.done.emit(result)


class TaskRunner(QObject):
    """Runs tasks on a thread pool (or inline, for tests) and reports on the GUI thread."""

    busy_changed = Signal(bool)

    def __init__(self, synchronous: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.synchronous = synchronous
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self._running = 0
        self._keep: set[_Signals] = set()

    @property
    def busy(self) -> bool:
        """True while a task runs."""
        return self._running > 0

    def run(
        self,
        fn: Callable[[Progress], Any],
        on_done: Callable[[Any], None],
        on_error: Callable[[Exception], None],
        on_progress: Progress | None = None,
    ) -> None:
        """Run ``fn(progress)``; call ``on_done(result)`` or ``on_error(exc)`` on the GUI thread."""
        self._running += 1
        if self._running == 1:
            self.busy_changed.emit(True)
        if self.synchronous:
            try:
                result = fn(on_progress or (lambda _event: None))
            except Exception as exc:
                self._finish()
                on_error(exc)
            else:
                self._finish()
                on_done(result)
            return
        signals = _Signals()
        self._keep.add(signals)

        def finish_then(callback: Callable[[Any], None]) -> Callable[[Any], None]:
            def call(value: Any) -> None:
                self._keep.discard(signals)
                self._finish()
                owner = getattr(callback, "__self__", None)
                if isinstance(owner, QObject) and not shiboken6.isValid(owner):
                    return  # the window that asked is gone (closed while the work ran)
                callback(value)

            return call

        signals.done.connect(finish_then(on_done))
        signals.failed.connect(finish_then(on_error))
        if on_progress is not None:
            signals.progress.connect(on_progress)
        self.pool.start(_Task(fn, signals))

    def _finish(self) -> None:
        self._running -= 1
        if self._running == 0:
            self.busy_changed.emit(False)

    def wait(self, msecs: int = 30000) -> bool:
        """Wait for running tasks (used at shutdown)."""
        return bool(self.pool.waitForDone(msecs))
