"""The window's sign-in screen, its idle lock, and the open station (no admin yet)."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from kiosk import access
from kiosk.app.sign_in import Role, add_user, sign_in
from kiosk.config import load_config
from tests.kiosk_config import write_config
from ui.operations import Runners
from ui.windows.main_window import MainWindow
from ui.windows.sign_in import IdleLock, Station


@pytest.fixture
def config(tmp_path):
    path = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    return load_config(path)


@pytest.fixture
def window(qtbot, config):
    main = MainWindow(config, runners=Runners(synchronous=True), user="")
    qtbot.addWidget(main)
    main.show_error = lambda message: setattr(main, "last_error", message)
    return main


def test_an_open_station_says_so_and_needs_no_sign_in(qtbot, config, window):
    station = Station(config, window, show=lambda w: w.show())
    qtbot.addWidget(station.screen)
    assert station.open_station
    assert window.isVisible() and not station.screen.isVisible()
    assert "Open station" in window.session_label.text()
    assert window.settings_button.isEnabled()
    assert not window.lock_button.isVisible()


def test_sign_in_is_required_once_an_admin_exists(qtbot, config, window):
    add_user(config, "ann", Role.ADMIN, "admin-secret-1")
    sign_in(config, "ann", "admin-secret-1")  # only an admin adds users now
    add_user(config, "fred", Role.FRONT_DESK, "fred-secret-1")
    access.sign_out()
    station = Station(config, window, show=lambda w: w.show())
    qtbot.addWidget(station.screen)
    screen = station.screen
    assert screen.isVisible() and not window.isVisible()

    screen.name_edit.setText("fred")
    screen.password_edit.setText("wrong password")
    qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
    assert "sign-in refused" in screen.message.text()
    assert not window.isVisible() and access.current() is None
    assert screen.password_edit.text() == ""

    screen.name_edit.setText("fred")
    screen.password_edit.setText("fred-secret-1")
    with qtbot.waitSignal(screen.signed_in):
        qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
    assert window.isVisible() and not screen.isVisible()
    assert window.user == "fred"
    assert window.session_label.text() == "Signed in: fred (front-desk)"
    assert not window.settings_button.isEnabled()  # settings are the admin's
    window.open_settings()
    assert "role not allowed" in window.last_error

    station.lock()
    assert not window.isVisible() and screen.isVisible()
    assert access.current() is None and window.user == ""
    assert screen.message.text().startswith("Locked")

    screen.name_edit.setText("ann")
    screen.password_edit.setText("admin-secret-1")
    qtbot.mouseClick(screen.sign_in_button, Qt.MouseButton.LeftButton)
    assert window.user == "ann" and window.settings_button.isEnabled()


def _spin(seconds: float, until=lambda: False) -> None:
    """Run the Qt events for ``seconds`` (or until ``until()``).

    Not qtbot.wait: after a test ran the app's own event loop (ui.app.run quits it), a
    nested QEventLoop returns at once in this process, while processEvents still works.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not until():
        QApplication.processEvents()
        time.sleep(0.01)


def test_the_idle_lock_fires_after_the_idle_time_and_input_postpones_it(qtbot, window):
    lock = IdleLock(0.005)  # 300 ms
    fired: list[bool] = []
    lock.locked.connect(lambda: fired.append(True))
    lock.start()
    _spin(3.0, until=lambda: bool(fired))
    assert fired == [True]
    assert not lock.timer.isActive()
    lock.start()
    for _ in range(4):  # someone typing: no lock while they do
        _spin(0.15)
        qtbot.keyClick(window, Qt.Key.Key_Shift)
        assert lock.timer.isActive()
    assert fired == [True]
    lock.stop()


def test_kiosk_mode_shows_the_windows_full_screen(qtbot):
    from PySide6.QtWidgets import QWidget

    from ui.app import _shower

    plain, kiosk = QWidget(), QWidget()
    qtbot.addWidget(plain)
    qtbot.addWidget(kiosk)
    _shower(False)(plain)
    _shower(True)(kiosk)
    assert plain.isVisible() and not plain.isFullScreen()
    assert kiosk.isVisible() and kiosk.isFullScreen()
