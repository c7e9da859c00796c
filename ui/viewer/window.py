"""The viewer window: a thumbnail strip of series, the image or document, the controls.

Everything read from the disc is decoded off the GUI thread (an
:class:`~ui.operations.Runner`) into a :class:`FrameCache`; a frame in the
cache is rendered at once (window/level and scrolling never wait for a
decoder). Multi-frame images play at the file's own rate: the frame shown is
the one the clock says, so a slow decoder drops frames instead of slowing
the clip.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import shiboken6
from PySide6.QtCore import QElapsedTimer, QSize, Qt, QTimer
from PySide6.QtGui import QIcon, QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.view_study import (
    FrameCache,
    Kind,
    ViewObject,
    ViewSeries,
    ViewStudy,
    Window,
    decode,
    frame_image,
    initial_window,
    overlay,
    pages_of,
    presets_for,
    read_report,
    window_to_drag,
)
from ui.operations import Op, Runner, one_line
from ui.viewer.image_view import ImageView, to_qimage

log = logging.getLogger(__name__)

THUMB = 96
PREFETCH = 8
"""Images decoded ahead of the one shown, either way."""


@dataclass
class _Position:
    series: int = 0
    index: int = 0
    frame: int = 0


class ViewerWindow(QMainWindow):
    """Views one study: a series strip on the left, the image or document on the right.

    Parameters
    ----------
    view
        What to show (:func:`kiosk.app.view_study.study_view`).
    runner
        Where decoding runs (its own pool; ``synchronous`` in tests).
    cache
        Decoded frames, shared with other viewers (default: a new one).
    """

    def __init__(
        self,
        view: ViewStudy,
        runner: Runner | None = None,
        cache: FrameCache | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.view = view
        self.runner = runner or Runner(threads=2, parent=self)
        self.runner.on_failure = self._alive(self._status)
        self.cache = cache or FrameCache()
        self.pos = _Position()
        self.windows: dict[int, Window | None] = {}
        """The window of each series (None: the file's own)."""
        self.frames: dict[int, int] = {}
        """Frames of the objects shown so far, by id of the object."""
        self._wanted: tuple[int, int, int] | None = None
        self.playing = False
        self.page_count = 0
        self._clock = QElapsedTimer()
        self._clock_frame = 0
        self.interval_ms = 1000.0 / 30
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.setWindowTitle(f"Viewer — {view.title}")
        self._build()
        self._fill_strip()
        if view.series:
            self.show_series(0)

    # ---- layout -------------------------------------------------------------------
    def _build(self) -> None:
        split = QSplitter(Qt.Orientation.Horizontal)
        self.strip = QListWidget()
        self.strip.setIconSize(QSize(THUMB, THUMB))
        self.strip.setMinimumWidth(THUMB + 200)
        self.strip.currentRowChanged.connect(self._series_clicked)
        split.addWidget(self.strip)

        right = QWidget()
        box = QVBoxLayout(right)
        bar = QHBoxLayout()
        self.preset_box = QComboBox()
        self.preset_box.setMinimumWidth(140)
        self.preset_box.activated.connect(self._preset_chosen)
        bar.addWidget(QLabel("Window:"))
        bar.addWidget(self.preset_box)
        self.window_label = QLabel()
        bar.addWidget(self.window_label)
        self.reset_button = QPushButton("Reset")
        self.reset_button.clicked.connect(self.reset)
        bar.addWidget(self.reset_button)
        bar.addStretch(1)
        self.back_button = QPushButton("◀ Step")
        self.back_button.clicked.connect(lambda: self.step_frame(-1))
        self.play_button = QPushButton("Play")
        self.play_button.clicked.connect(self.toggle_play)
        self.next_button = QPushButton("Step ▶")
        self.next_button.clicked.connect(lambda: self.step_frame(1))
        self.loop_box = QCheckBox("Loop")
        self.loop_box.setChecked(True)
        for w in (self.back_button, self.play_button, self.next_button, self.loop_box):
            bar.addWidget(w)
        self.position_label = QLabel()
        bar.addWidget(self.position_label)
        box.addLayout(bar)

        self.stack = QStackedWidget()
        self.image = ImageView()
        self.image.window_dragged.connect(self.drag_window)
        self.image.scrolled.connect(self.scroll)
        self.stack.addWidget(self.image)
        self.pages = QScrollArea()
        self.pages.setWidgetResizable(True)
        self.pages.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.stack.addWidget(self.pages)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.stack.addWidget(self.text)
        box.addWidget(self.stack, 1)
        self.status_label = QLabel()
        box.addWidget(self.status_label)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        self.setCentralWidget(split)
        self.resize(1200, 800)

    def _alive(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """``callback``, skipped once this window is closed and deleted (work may outlive it)."""

        def guarded(value: Any) -> None:
            if shiboken6.isValid(self):
                callback(value)

        return guarded

    def _status(self, message: str) -> None:
        self.status_label.setText(message)

    # ---- the strip ----------------------------------------------------------------
    def _fill_strip(self) -> None:
        for number, series in enumerate(self.view.series):
            keys = sum(1 for o in series.objects if o.sop_instance_uid in self.view.key_images)
            star = f"\n★ {keys} key image{'s' if keys > 1 else ''}" if keys else ""
            item = QListWidgetItem(f"{series.title}\n{len(series.objects)} objects{star}")
            self.strip.addItem(item)
            first = series.objects[0] if series.objects else None
            if first is not None and first.kind is Kind.IMAGE:
                self._thumbnail(number, first)
            elif first is not None:
                item.setText(f"{item.text()}\n[{first.kind.value}]")

    def _thumbnail(self, row: int, obj: ViewObject) -> None:
        cache = self.cache

        def done(pixels: Any) -> None:
            pixmap = QPixmap.fromImage(to_qimage(pixels)).scaled(
                THUMB,
                THUMB,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            item = self.strip.item(row)
            if item is not None:
                item.setIcon(QIcon(pixmap))

        Op(
            lambda _e: frame_image(cache, obj.path, 0),
            self._alive(done),
            failure=lambda exc: log.info("no thumbnail: %s", one_line(exc)),
        ).run_in(self.runner)

    def _series_clicked(self, row: int) -> None:
        if row >= 0 and row != self.pos.series:
            self.show_series(row)

    # ---- navigation ---------------------------------------------------------------
    @property
    def series(self) -> ViewSeries:
        """The series shown."""
        return self.view.series[self.pos.series]

    @property
    def current(self) -> ViewObject:
        """The object shown."""
        return self.series.objects[self.pos.index]

    def show_series(self, number: int) -> None:
        """Show the first object of series ``number``."""
        self.stop()
        self.pos = _Position(number, 0, 0)
        if self.strip.currentRow() != number:
            self.strip.setCurrentRow(number)
        self.preset_box.clear()
        self.preset_box.addItem("File's window")
        for name in presets_for(self.series.modality):
            self.preset_box.addItem(name)
        self.show_object(0)

    def show_object(self, index: int, frame: int = 0) -> None:
        """Show object ``index`` of the series (its frame ``frame``)."""
        objects = self.series.objects
        if not objects:
            self.stack.setCurrentWidget(self.image)
            self.image.set_message("This series is empty.")
            return
        self.pos.index = max(0, min(index, len(objects) - 1))
        self.pos.frame = frame
        obj = self.current
        if obj.kind is Kind.IMAGE:
            self.stack.setCurrentWidget(self.image)
            self.show_frame(frame)
        elif obj.kind in (Kind.PDF, Kind.PICTURE):
            self.stop()
            self._show_pages(obj)
        elif obj.kind in (Kind.SR, Kind.KEY_OBJECTS):
            self.stop()
            self._show_report(obj)
        else:
            self.stack.setCurrentWidget(self.image)
            self.image.set_message("This object cannot be shown.")
        self._update_labels()

    def frame_count(self) -> int:
        """Frames of the object shown (1 until its header is read)."""
        return self.frames.get(id(self.current), 1)

    def scroll(self, step: int) -> None:
        """The wheel or a key: the next frame of a clip, else the next image of the series."""
        if self.current.kind is Kind.IMAGE and self.frame_count() > 1:
            self.step_frame(step)
            return
        target = max(0, min(self.pos.index + step, len(self.series.objects) - 1))
        if target != self.pos.index:
            self.show_object(target)

    def step_frame(self, step: int) -> None:
        """One frame forward or back (wrapping round when Loop is on)."""
        self.stop()
        self._goto_frame(self.pos.frame + step)

    def _goto_frame(self, frame: int) -> bool:
        count = self.frame_count()
        if frame >= count or frame < 0:
            if not self.loop_box.isChecked():
                return False
            frame %= count
        self.show_frame(frame)
        return True

    # ---- images -------------------------------------------------------------------
    def show_frame(self, frame: int) -> None:
        """Show a frame of the current image: now if cached, else when decoded."""
        self.pos.frame = frame
        obj = self.current
        wanted = (self.pos.series, self.pos.index, frame)
        self._wanted = wanted
        if self.cache.cached(obj.path, frame) is not None:
            self._draw()
        else:
            if self.image.image is None:
                self.image.set_message("Loading…")
            cache = self.cache
            Op(
                lambda _e: decode(cache, obj.path, frame),
                self._alive(lambda _pixels: self._decoded(wanted)),
                failure=self._alive(lambda exc: self._not_shown(wanted, exc)),
            ).run_in(self.runner)
        self._prefetch()

    def _decoded(self, wanted: tuple[int, int, int]) -> None:
        if wanted == self._wanted:
            self._draw()

    def _not_shown(self, wanted: tuple[int, int, int], exc: Exception) -> None:
        if wanted == self._wanted:
            self.stop()
            self.image.set_message(one_line(exc))

    def _draw(self) -> None:
        obj = self.current
        frame = self.pos.frame
        try:
            header = self.cache.header(obj.path)
            self.frames[id(obj)] = header.frames
            if self.pos.series not in self.windows:
                self.windows[self.pos.series] = initial_window(self.cache, obj.path, frame)
            window = self.windows[self.pos.series]
            pixels = frame_image(self.cache, obj.path, frame, window)
        except Exception as exc:
            self.image.set_message(one_line(exc))
            return
        text = overlay(header, frame)
        self.interval_ms = text.cine_ms
        self.image.corners = (text.top_left, text.top_right, text.bottom_left, text.bottom_right)
        self.image.set_pixels(pixels)
        self._update_labels()

    def _prefetch(self) -> None:
        """Decode the neighbours in the background (the next ones first)."""
        cache = self.cache
        objects = self.series.objects
        if self.current.kind is not Kind.IMAGE:
            return
        if self.frame_count() > 1:
            todo = [(self.current.path, f) for f in range(self.frame_count())]
        else:
            around = [self.pos.index + d for d in range(1, PREFETCH + 1)]
            around += [self.pos.index - d for d in range(1, PREFETCH // 2 + 1)]
            todo = [
                (objects[i].path, 0)
                for i in around
                if 0 <= i < len(objects) and objects[i].kind is Kind.IMAGE
            ]
        todo = [(p, f) for p, f in todo if cache.cached(p, f) is None]
        if not todo or self.runner.synchronous:
            return

        def work(_events: Any) -> int:
            for path, frame in todo:
                try:
                    cache.frame(path, frame)
                except Exception:
                    continue
            return len(todo)

        Op(work, kind="prefetch").run_in(self.runner)

    # ---- window / level -----------------------------------------------------------
    def drag_window(self, dx: int, dy: int) -> None:
        """Mouse drag: right widens the window, down raises its center."""
        window = self.windows.get(self.pos.series)
        if window is None:  # the file's VOI LUT: start from its window, else the whole range
            obj = self.current
            if obj.kind is not Kind.IMAGE or self.cache.cached(obj.path, self.pos.frame) is None:
                return
            window = window_to_drag(self.cache, obj.path, self.pos.frame)
            if window is None:
                return
        step = max(window.width / 256.0, 1.0)
        self.set_window(Window(window.center + dy * step, max(1.0, window.width + dx * step)))

    def set_window(self, window: Window | None) -> None:
        """Show the series with ``window`` (None: the file's own)."""
        if window is None:
            self.windows.pop(self.pos.series, None)
        else:
            self.windows[self.pos.series] = window
        if (
            self.current.kind is Kind.IMAGE
            and self.cache.cached(self.current.path, self.pos.frame) is not None
        ):
            self._draw()

    def _preset_chosen(self, row: int) -> None:
        name = self.preset_box.itemText(row)
        self.set_window(presets_for(self.series.modality).get(name))

    def choose_preset(self, name: str) -> None:
        """Apply a preset by name (e.g. ``"Lung"``)."""
        row = self.preset_box.findText(name)
        if row < 0:
            raise KeyError(name)
        self.preset_box.setCurrentIndex(row)
        self._preset_chosen(row)

    def reset(self) -> None:
        """The file's window, fitted, no pan."""
        self.preset_box.setCurrentIndex(0)
        self.image.reset()
        self.set_window(None)

    # ---- cine ---------------------------------------------------------------------
    def toggle_play(self) -> None:
        """Play or pause the clip."""
        if self.playing:
            self.stop()
        else:
            self.play()

    def play(self) -> None:
        """Play the current multi-frame image at its own rate."""
        if self.current.kind is not Kind.IMAGE or self.frame_count() < 2:
            return
        self.playing = True
        self.play_button.setText("Pause")
        self._clock.start()
        self._clock_frame = self.pos.frame
        self.timer.start(max(1, int(self.interval_ms / 2)))

    def stop(self) -> None:
        """Pause the clip."""
        if self.playing:
            self.playing = False
            self.timer.stop()
            self.play_button.setText("Play")

    def _tick(self) -> None:
        due = self._clock_frame + int(self._clock.elapsed() / self.interval_ms)
        if due == self.pos.frame:
            return
        count = self.frame_count()
        if due >= count and not self.loop_box.isChecked():
            self.show_frame(count - 1)
            self.stop()
            return
        self.show_frame(due % count)

    # ---- documents ----------------------------------------------------------------
    def _show_pages(self, obj: ViewObject) -> None:
        self.stack.setCurrentWidget(self.pages)
        self.pages.setWidget(QLabel("Loading…"))
        self.page_count = 0
        wanted = (self.pos.series, self.pos.index, 0)
        self._wanted = wanted

        def done(pages: list[Any]) -> None:
            if wanted != self._wanted:
                return
            holder = QWidget()
            column = QVBoxLayout(holder)
            for page in pages:
                label = QLabel()
                label.setPixmap(QPixmap.fromImage(to_qimage(page)))
                label.setAlignment(Qt.AlignmentFlag.AlignHCenter)
                column.addWidget(label)
            self.page_count = len(pages)
            self.pages.setWidget(holder)
            self._update_labels()

        def failed(exc: Exception) -> None:
            if wanted == self._wanted:
                self.pages.setWidget(QLabel(one_line(exc)))

        Op(lambda _e: pages_of(obj), self._alive(done), failure=self._alive(failed)).run_in(
            self.runner
        )

    def _show_report(self, obj: ViewObject) -> None:
        self.stack.setCurrentWidget(self.text)
        try:
            report = read_report(obj.path)
        except Exception as exc:
            self.text.setPlainText(one_line(exc))
            return
        text = report.text
        if report.kind is Kind.KEY_OBJECTS:
            text += f"\n\nKey images: {len(report.key_images)} (marked ★ in the series list)"
        self.text.setPlainText(text)

    # ---- keys and labels ----------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Down, Qt.Key.Key_PageDown):
            self.scroll(1)
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_PageUp):
            self.scroll(-1)
        elif key == Qt.Key.Key_Right:
            self.step_frame(1)
        elif key == Qt.Key.Key_Left:
            self.step_frame(-1)
        elif key == Qt.Key.Key_Home:
            self.show_object(0)
        elif key == Qt.Key.Key_End:
            self.show_object(len(self.series.objects) - 1)
        elif key == Qt.Key.Key_Space:
            self.toggle_play()
        elif key == Qt.Key.Key_R:
            self.reset()
        else:
            super().keyPressEvent(event)

    def _update_labels(self) -> None:
        window = self.windows.get(self.pos.series)
        self.window_label.setText(
            f"C {window.center:g} W {window.width:g}" if window is not None else ""
        )
        n = len(self.series.objects) if self.view.series else 0
        frames = self.frame_count() if n else 1
        text = f"{self.pos.index + 1}/{n}" if n else ""
        if frames > 1:
            text += f"  frame {self.pos.frame + 1}/{frames}"
        if n and self.current.sop_instance_uid in self.view.key_images:
            text += "  ★ key image"
        self.position_label.setText(text)
        cine = n > 0 and self.current.kind is Kind.IMAGE and frames > 1
        for w in (self.back_button, self.play_button, self.next_button, self.loop_box):
            w.setEnabled(cine)

    def closeEvent(self, event: Any) -> None:
        self.stop()
        super().closeEvent(event)
