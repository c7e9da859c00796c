"""Sign-in, the idle lock and the full-screen kiosk mode of the desktop app.

While no user is set up the station runs open (everyone acts as admin):
the main window says so and no sign-in screen is shown. Once a user
exists (the first is an admin), the app opens on the sign-in screen; after ``[kiosk] lock_minutes``
without a key press or a click it signs the user out, hides its windows and
shows the sign-in screen again. The rules of who may do what are the
application layer's (:mod:`kiosk.app.sign_in`), the same as the command line's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.sign_in import Session, sign_in, sign_out, station_access
from kiosk.config import Config
from kiosk.errors import KioskError

log = logging.getLogger(__name__)

#: What counts as someone at the keyboard.
_ACTIVITY = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
}


class SignInScreen(QWidget):
    """Name and password; ``signed_in`` carries the session when they are accepted."""

    signed_in = Signal(object)

    def __init__(self, config: Config, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.setWindowTitle(f"Outside media import — {config.station} — sign in")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        title = QLabel(f"Outside media import\n{config.station}")
        font = QFont(title.font())
        font.setPointSize(22)
        title.setFont(font)
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(title)
        form = QFormLayout()
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("your user name")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.returnPressed.connect(self.attempt)
        self.name_edit.returnPressed.connect(self.password_edit.setFocus)
        user_label, password_label = QLabel("User"), QLabel("Password")
        form.addRow(user_label, self.name_edit)
        form.addRow(password_label, self.password_edit)
        box = QWidget()
        box.setLayout(form)
        box.setMaximumWidth(460)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.clicked.connect(self.attempt)
        self.sign_in_button.setMinimumWidth(200)
        outer.addWidget(self.sign_in_button, 0, Qt.AlignmentFlag.AlignHCenter)
        self.message = QLabel("")
        self.message.setStyleSheet("color: #a00;")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        outer.addWidget(self.message)
        outer.addStretch(2)
        for widget in (
            self.name_edit,
            self.password_edit,
            self.sign_in_button,
            user_label,
            password_label,
            self.message,
        ):
            f = QFont(widget.font())
            f.setPointSize(14)
            widget.setFont(f)

    def attempt(self) -> None:
        """Check the name and password; on success emit ``signed_in``, else say why."""
        name, password = self.name_edit.text().strip(), self.password_edit.text()
        self.password_edit.clear()
        try:
            session = sign_in(self.config, name, password)
        except KioskError as exc:
            self.message.setText(str(exc))
            self.password_edit.setFocus()
            return
        self.message.setText("")
        self.name_edit.clear()
        self.signed_in.emit(session)

    def reset(self, message: str = "") -> None:
        """Empty the fields for the next person (after a lock: say why)."""
        self.name_edit.clear()
        self.password_edit.clear()
        self.message.setText(message)
        self.name_edit.setFocus()


class IdleLock(QObject):
    """Emits ``locked`` after ``minutes`` without a key press, click or mouse move in the app."""

    locked = Signal()

    def __init__(self, minutes: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(max(int(minutes * 60_000), 1))
        self.timer.timeout.connect(self.locked.emit)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def start(self) -> None:
        """Count from now."""
        self.timer.start()

    def stop(self) -> None:
        """No lock until started again (while the sign-in screen shows)."""
        self.timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Someone is at the keyboard: count again."""
        if event.type() in _ACTIVITY and self.timer.isActive():
            self.timer.start()
        return False


class Station(QObject):
    """Puts the sign-in screen in front of a window until someone signs in; locks when idle.

    Parameters
    ----------
    window
        The main window; it must have ``set_session(Session | None, open_station)``
        and ``lock()`` (hide what it shows to the last user).
    show
        Shows a top-level widget (full screen in kiosk mode).
    """

    def __init__(self, config: Config, window: QWidget, show: Callable[[QWidget], None]) -> None:
        super().__init__(window)
        self.config = config
        self.window = window
        self._show = show
        self.screen = SignInScreen(config)
        self.screen.signed_in.connect(self._signed_in)
        self.idle = IdleLock(config.lock_minutes, self) if config.lock_minutes else None
        if self.idle is not None:
            self.idle.locked.connect(self.lock)
        access = station_access(config)
        self.open_station = access.open_station
        if self.open_station:
            log.warning("this station runs open: no user is set up; everyone acts as admin")
            window.set_session(access.session, True)  # type: ignore[attr-defined]
            self._show(window)
        else:
            self._show(self.screen)

    def _signed_in(self, session: Session) -> None:
        self.window.set_session(session, False)  # type: ignore[attr-defined]
        self.screen.hide()
        self._show(self.window)
        if self.idle is not None:
            self.idle.start()

    def lock(self) -> None:
        """Sign out, hide the windows, show the sign-in screen (the idle time passed, or asked)."""
        if self.open_station:
            return
        if self.idle is not None:
            self.idle.stop()
        try:
            sign_out(self.config)
        except KioskError as exc:  # the database is gone: still lock
            log.warning("sign-out not recorded: %s", exc)
        self.window.lock()  # type: ignore[attr-defined]
        self.window.set_session(None, False)  # type: ignore[attr-defined]
        self.window.hide()
        self.screen.reset("Locked. Sign in to go on.")
        self._show(self.screen)
