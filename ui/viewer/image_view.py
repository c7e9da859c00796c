"""The image area: one 8-bit frame drawn with zoom and pan, overlay text in the corners.

Mouse: left drag changes the window (horizontal: width, vertical: center),
right or middle drag pans, the wheel scrolls (Ctrl+wheel zooms).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QWheelEvent
from PySide6.QtWidgets import QWidget


def to_qimage(pixels: Any) -> QImage:
    """An 8-bit grey or RGB numpy array as a QImage (a copy: the array may go)."""
    arr = np.ascontiguousarray(pixels)
    height, width = arr.shape[:2]
    if arr.ndim == 3:
        image = QImage(arr.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    else:
        image = QImage(arr.data, width, height, width, QImage.Format.Format_Grayscale8)
    return image.copy()


class ImageView(QWidget):
    """Draws a frame fitted to the widget, times ``zoom``, moved by ``pan``.

    Signals
    -------
    window_dragged(dx, dy)
        The left button moved by (dx, dy) pixels: the owner changes the window.
    scrolled(step)
        The wheel turned: +1 next image or frame, -1 previous.
    """

    window_dragged = Signal(int, int)
    scrolled = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.zoom = 1.0
        self.pan = QPointF(0, 0)
        self.corners: tuple[str, str, str, str] = ("", "", "", "")
        self.message = ""
        self._last: QPointF | None = None
        self._button = Qt.MouseButton.NoButton
        self.setMinimumSize(320, 320)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)

    def set_pixels(self, pixels: Any) -> None:
        """Show a frame (8-bit numpy array)."""
        self.image = to_qimage(pixels)
        self.message = ""
        self.update()

    def set_message(self, text: str) -> None:
        """Show a line of text instead of an image (loading, an error)."""
        self.image = None
        self.message = text
        self.update()

    def reset(self) -> None:
        """Fit the image again, no pan."""
        self.zoom = 1.0
        self.pan = QPointF(0, 0)
        self.update()

    def image_rect(self) -> QRectF:
        """Where the image is drawn, in widget coordinates."""
        if self.image is None:
            return QRectF()
        w, h = self.image.width(), self.image.height()
        fit = min(self.width() / w, self.height() / h) * self.zoom
        cx = self.width() / 2 + self.pan.x()
        cy = self.height() / 2 + self.pan.y()
        return QRectF(cx - w * fit / 2, cy - h * fit / 2, w * fit, h * fit)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("black"))
        if self.image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.zoom < 4)
            painter.drawImage(self.image_rect(), self.image)
        painter.setPen(QColor("#e8e8e8"))
        font = painter.font()
        font.setPointSize(10)
        painter.setFont(font)
        margin = self.rect().adjusted(8, 6, -8, -6)
        flags = (
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom,
        )
        for text, flag in zip(self.corners, flags, strict=True):
            if text:
                painter.drawText(margin, int(flag), text)
        if self.message:
            painter.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), self.message)
        painter.end()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._last = event.position()
        self._button = event.button()
        self.setFocus()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is None:
            return
        delta = event.position() - self._last
        self._last = event.position()
        if self._button == Qt.MouseButton.LeftButton:
            self.window_dragged.emit(round(delta.x()), round(delta.y()))
        else:
            self.pan += delta
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._last = None
        self._button = Qt.MouseButton.NoButton

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() // 120 or (1 if event.angleDelta().y() > 0 else -1)
        if event.angleDelta().y() == 0:
            return
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.zoom = min(max(self.zoom * (1.25**steps), 0.1), 32.0)
            self.update()
        else:
            self.scrolled.emit(-1 if steps > 0 else 1)
        event.accept()
