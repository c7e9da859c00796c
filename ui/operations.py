"""Operations: a use case run off the GUI thread, its events and its result back on it.

As Anki's ``CollectionOp``/``QueryOp`` (``aqt/operations``) do, an
:class:`Op` names the work (a :mod:`kiosk.app` use case, given a
:data:`kiosk.progress.Listener`), what to do with its result, how to show
its progress, and which views depend on it: on success the result is handed
on and those views refresh; on failure the one-line message of the error is
shown. The work never touches a widget; the callbacks run on the GUI thread.

Two :class:`Runner` objects run them (:class:`Runners`):

* the **foreground** runner, for what the clerk waits for (reading a disc,
  a lookup, an import): while it runs, the clerk's controls are disabled
  (its ``busy_changed`` signal);
* the **background** runner, for media watching, outbox delivery and
  storage commitment: it never disables the clerk's controls, and runs one
  job of a kind at a time (a second one of the same kind is refused, and
  the caller may ask again when the first one ends).

Tests use ``synchronous=True``: the work runs inline, so the order of events
is fixed.
"""

from __future__ import annotations

import itertools
import logging
import traceback
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from kiosk.errors import KioskError
from kiosk.progress import Listener

log = logging.getLogger(__name__)

T = TypeVar("T")


def one_line(exc: Exception) -> str:
    """The message shown for a failed operation (the traceback goes to the log)."""
    if isinstance(exc, KioskError):
        return str(exc)
    log.error("unexpected error", exc_info=exc)
    return f"Unexpected error ({type(exc).__name__}: {exc}); it was logged."


class Op(Generic[T]):
    """One run of a use case: ``work(listener)`` off the GUI thread, the rest on it.

    Parameters
    ----------
    work
        The use case; it is given a listener for its :mod:`kiosk.progress` events.
    success
        Called with the result, on the GUI thread.
    failure
        Called with the exception instead (default: the runner's, which shows
        the one-line message).
    progress
        Called with each event, on the GUI thread.
    refresh
        Views that depend on the result, refreshed after ``success``.
    kind
        For the background runner: at most one operation of a kind runs.
    """

    def __init__(
        self,
        work: Callable[[Listener], T],
        success: Callable[[T], None] = lambda _result: None,
        *,
        failure: Callable[[Exception], None] | None = None,
        progress: Listener | None = None,
        refresh: tuple[Callable[[], None], ...] = (),
        kind: str = "",
    ) -> None:
        self.work = work
        self.success = success
        self.failure = failure
        self.progress = progress
        self.refresh = refresh
        self.kind = kind

    def run_in(self, runner: Runner) -> bool:
        """Start the operation on ``runner``; False when one of its kind runs already."""
        return runner.start(self)

    def _succeeded(self, result: T) -> None:
        self.success(result)
        for view in self.refresh:
            view()


class _Signals(QObject):
    """What the pool's threads tell the runner: (operation number, value)."""

    done = Signal(int, object)
    failed = Signal(int, object)
    progress = Signal(int, object)


class _Task(QRunnable):
    def __init__(self, number: int, work: Callable[[Listener], Any], signals: _Signals) -> None:
        super().__init__()
        self.number = number
        self.work = work
        self.signals = signals

    def run(self) -> None:
        try:
            result = self.work(lambda event: self.signals.progress.emit(self.number, event))
        except Exception as exc:
            log.debug("operation failed:\n%s", traceback.format_exc())
            self.signals.failed.emit(self.number, exc)
        else:
            self.signals.done.emit(self.number, result)


class Runner(QObject):
    """Runs operations on its own thread pool (or inline, for tests), reports on the GUI thread.

    The pool's threads emit signals of an object that lives on the GUI thread,
    received by slots of the runner (which lives there too): Qt queues them,
    so every callback of an :class:`Op` runs on the GUI thread.

    Parameters
    ----------
    threads
        How many operations run at once.
    synchronous
        Run each operation inline (tests).
    """

    busy_changed = Signal(bool)

    def __init__(
        self, *, threads: int = 2, synchronous: bool = False, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.synchronous = synchronous
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._running = 0
        self._kinds: set[str] = set()
        self._ops: dict[int, Op[Any]] = {}
        self._numbers = itertools.count(1)
        self._signals = _Signals(self)
        self._signals.done.connect(self._done)
        self._signals.failed.connect(self._failed)
        self._signals.progress.connect(self._progress)
        #: Shows the one-line message of a failed operation that has no failure handler.
        self.on_failure: Callable[[str], None] = lambda message: log.warning("%s", message)

    @property
    def busy(self) -> bool:
        """True while an operation runs."""
        return self._running > 0

    def running(self, kind: str) -> bool:
        """True while an operation of ``kind`` runs."""
        return kind in self._kinds

    def start(self, op: Op[Any]) -> bool:
        """Run ``op``; False (and nothing is run) when one of its kind runs already."""
        if op.kind and op.kind in self._kinds:
            return False
        self._begin(op.kind)
        if self.synchronous:
            listener: Listener = op.progress or (lambda _event: None)
            try:
                result = op.work(listener)
            except Exception as exc:
                self._end(op.kind)
                self._fail(op, exc)
            else:
                self._end(op.kind)
                op._succeeded(result)
            return True
        number = next(self._numbers)
        self._ops[number] = op
        self.pool.start(_Task(number, op.work, self._signals))
        return True

    def _fail(self, op: Op[Any], exc: Exception) -> None:
        if op.failure is not None:
            op.failure(exc)
        else:
            self.on_failure(one_line(exc))

    @staticmethod
    def _gone(op: Op[Any]) -> bool:
        """True when the window that asked was closed while the work ran."""
        owner = getattr(op.failure or op.success, "__self__", None)
        return isinstance(owner, QObject) and not shiboken6.isValid(owner)

    @Slot(int, object)
    def _done(self, number: int, result: object) -> None:
        op = self._ops.pop(number)
        self._end(op.kind)
        if not self._gone(op):
            op._succeeded(result)

    @Slot(int, object)
    def _failed(self, number: int, exc: object) -> None:
        op = self._ops.pop(number)
        self._end(op.kind)
        if not self._gone(op):
            self._fail(op, exc if isinstance(exc, Exception) else RuntimeError(str(exc)))

    @Slot(int, object)
    def _progress(self, number: int, event: object) -> None:
        op = self._ops.get(number)
        if op is not None and op.progress is not None and not self._gone(op):
            op.progress(event)  # type: ignore[arg-type]

    def _begin(self, kind: str) -> None:
        if kind:
            self._kinds.add(kind)
        self._running += 1
        if self._running == 1:
            self.busy_changed.emit(True)

    def _end(self, kind: str) -> None:
        self._kinds.discard(kind)
        self._running -= 1
        if self._running == 0:
            self.busy_changed.emit(False)

    def wait(self, msecs: int = 30000) -> bool:
        """Wait for running operations (used at shutdown)."""
        return bool(self.pool.waitForDone(msecs))


class Runners:
    """The foreground runner (the clerk waits; controls disabled) and the background one."""

    def __init__(self, *, synchronous: bool = False, parent: QObject | None = None) -> None:
        self.synchronous = synchronous
        self.foreground = Runner(threads=2, synchronous=synchronous, parent=parent)
        self.background = Runner(threads=2, synchronous=synchronous, parent=parent)
        self._others: list[Runner] = []

    def office(self, parent: QObject | None = None) -> Runner:
        """A runner of its own for another window (the back office, the settings)."""
        runner = Runner(threads=2, synchronous=self.synchronous, parent=parent)
        self._others.append(runner)
        return runner

    def wait(self, msecs: int = 30000) -> bool:
        """Wait for every runner's operations (used at shutdown)."""
        runners = [self.foreground, self.background, *self._others]
        return all([r.wait(msecs) for r in runners if shiboken6.isValid(r)])
