"""The viewer, driven as a physician would (offscreen): window, scroll, presets, cine, reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest
import shiboken6
from PySide6.QtCore import QEventLoop, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from kiosk.app.scan_disc import scan_disc
from kiosk.app.view_study import ViewStudy, Window, files_view, study_view
from kiosk.demo.sample_disc import make_sample_disc
from kiosk.imaging.documents import Kind, read_report
from ui.operations import Runner
from ui.viewer.window import ViewerWindow

FILES = Path(pydicom.__file__).parent / "data" / "test_files"


@pytest.fixture(scope="module")
def disc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_sample_disc(tmp_path_factory.mktemp("viewer") / "CDROM").root


def _view(disc: Path, modality: str) -> ViewStudy:
    scan = scan_disc(disc)
    study = next(s for s in scan.studies if modality in s.modalities)
    return study_view(scan, study)


def _viewer(qtbot, view: ViewStudy) -> ViewerWindow:
    viewer = ViewerWindow(view, Runner(synchronous=True))
    qtbot.addWidget(viewer)
    viewer.resize(900, 700)
    viewer.show()
    return viewer


def _wait_until(condition: Callable[[], bool], timeout_ms: int = 5000) -> None:
    """Process events until ``condition`` holds.

    Not ``qtbot.waitUntil``: after a test that ran and quit the application
    (test_demo_app), a new ``QEventLoop`` returns at once, so the waits of
    pytest-qt no longer wait; ``processEvents`` still delivers timers and
    queued signals.
    """
    deadline = time.monotonic() + timeout_ms / 1000
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_ms} ms")
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        time.sleep(0.002)


def _drag(widget: QWidget, start: QPoint, end: QPoint, button: Qt.MouseButton) -> None:
    def send(kind: QMouseEvent.Type, at: QPoint, buttons: Qt.MouseButton) -> None:
        pos = QPointF(at)
        event = QMouseEvent(
            kind, pos, widget.mapToGlobal(pos), button, buttons, Qt.KeyboardModifier.NoModifier
        )
        QApplication.sendEvent(widget, event)

    send(QMouseEvent.Type.MouseButtonPress, start, button)
    send(QMouseEvent.Type.MouseMove, end, button)
    send(QMouseEvent.Type.MouseButtonRelease, end, Qt.MouseButton.NoButton)


def _wheel(widget: QWidget, delta: int) -> None:
    pos = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        pos,
        widget.mapToGlobal(pos),
        QPoint(0, 0),
        QPoint(0, delta),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def _pixels(viewer: ViewerWindow) -> np.ndarray:
    image = viewer.image.image
    assert image is not None
    return np.array(image.constBits(), dtype=np.uint8).copy()


def test_ct_opens_with_its_window_and_overlays(qtbot, disc: Path) -> None:
    viewer = _viewer(qtbot, _view(disc, "CT"))
    assert viewer.image.image is not None
    assert viewer.windows[0] is not None  # the file's own window
    top_left = viewer.image.corners[0]
    assert "DOE JANE" in top_left and "EXT-48213" in top_left
    assert "CT ABDOMEN" in viewer.image.corners[1]
    assert "Image 1" in viewer.image.corners[3]
    assert viewer.strip.count() >= 1 and not viewer.strip.item(0).icon().isNull()


def test_drag_changes_the_window(qtbot, disc: Path) -> None:
    viewer = _viewer(qtbot, _view(disc, "CT"))
    before, shown = viewer.windows[0], _pixels(viewer)
    assert before is not None
    _drag(viewer.image, QPoint(100, 100), QPoint(160, 60), Qt.MouseButton.LeftButton)
    after = viewer.windows[0]
    assert after is not None
    assert after.width > before.width and after.center < before.center
    assert not np.array_equal(shown, _pixels(viewer))
    assert viewer.window_label.text() == f"C {after.center:g} W {after.width:g}"


def test_right_drag_pans_and_reset_restores(qtbot, disc: Path) -> None:
    viewer = _viewer(qtbot, _view(disc, "CT"))
    first = viewer.windows[0]
    _drag(viewer.image, QPoint(100, 100), QPoint(130, 120), Qt.MouseButton.RightButton)
    assert viewer.image.pan == QPointF(30, 20)
    viewer.choose_preset("Lung")
    assert viewer.windows[0] == Window(-600, 1500)
    viewer.reset()
    assert viewer.image.pan == QPointF(0, 0)
    assert viewer.windows[0] == first


def test_presets_per_modality(qtbot, disc: Path) -> None:
    viewer = _viewer(qtbot, _view(disc, "CT"))
    names = [viewer.preset_box.itemText(i) for i in range(viewer.preset_box.count())]
    assert {"Brain", "Lung", "Abdomen", "Bone"} <= set(names)
    viewer.choose_preset("Bone")
    bone = _pixels(viewer)
    viewer.choose_preset("Brain")
    assert not np.array_equal(bone, _pixels(viewer))


def test_wheel_and_keys_scroll_through_the_series(qtbot, disc: Path) -> None:
    viewer = _viewer(qtbot, _view(disc, "CT"))
    assert viewer.pos.index == 0
    _wheel(viewer.image, -120)
    assert viewer.pos.index == 1
    assert "Image 2" in viewer.image.corners[3]
    qtbot.keyClick(viewer, Qt.Key.Key_Down)
    assert viewer.pos.index == 2
    qtbot.keyClick(viewer, Qt.Key.Key_Up)
    _wheel(viewer.image, 120)
    assert viewer.pos.index == 0
    qtbot.keyClick(viewer, Qt.Key.Key_End)
    assert viewer.pos.index == len(viewer.series.objects) - 1


def test_cine_plays_at_the_files_rate(qtbot, disc: Path) -> None:
    viewer = _viewer(qtbot, _view(disc, "US"))
    assert viewer.frame_count() == 10
    assert viewer.interval_ms == pytest.approx(40.0)  # FrameTime 40 ms
    viewer.loop_box.setChecked(False)
    start = time.monotonic()
    viewer.play()
    _wait_until(lambda: viewer.pos.frame >= 5, 3000)
    elapsed = time.monotonic() - start
    assert elapsed >= 5 * 0.040 * 0.9  # not faster than the file says
    _wait_until(lambda: not viewer.playing, 3000)
    assert viewer.pos.frame == 9  # stopped on the last frame, no loop
    viewer.step_frame(-1)
    assert viewer.pos.frame == 8
    viewer.loop_box.setChecked(True)
    viewer.step_frame(1)
    viewer.step_frame(1)
    assert viewer.pos.frame == 0  # looped round


def test_wheel_steps_the_frames_of_a_clip(qtbot, disc: Path) -> None:
    viewer = _viewer(qtbot, _view(disc, "US"))
    _wheel(viewer.image, -120)
    assert (viewer.pos.index, viewer.pos.frame) == (0, 1)
    assert "frame 2/10" in viewer.image.corners[3]


def test_encapsulated_pdf_and_disc_report_show_pages(qtbot, disc: Path) -> None:
    view = _view(disc, "US")
    viewer = _viewer(qtbot, view)
    titles = [s.title for s in view.series]
    doc = next(i for i, s in enumerate(view.series) if s.objects[0].kind is Kind.PDF)
    viewer.show_series(doc)
    assert viewer.stack.currentWidget() is viewer.pages
    assert viewer.page_count == 1
    labels = viewer.pages.widget().findChildren(QLabel)
    assert labels and not labels[0].pixmap().isNull()
    outside = titles.index("Reports on the disc (not DICOM)")
    viewer.show_series(outside)
    assert viewer.page_count == 1


def test_structured_report_as_text(qtbot) -> None:
    viewer = _viewer(qtbot, files_view([FILES / "test-SR.dcm"]))
    assert viewer.stack.currentWidget() is viewer.text
    text = viewer.text.toPlainText()
    assert len(text.splitlines()) > 5


def test_key_object_selection_marks_key_images(qtbot, disc: Path, tmp_path: Path) -> None:
    from pydicom.dataset import Dataset

    scan = scan_disc(disc)
    ct = next(s for s in scan.studies if "CT" in s.modalities)
    key = ct.instances[1]
    kos = Dataset()
    kos.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
    kos.ConceptNameCodeSequence = [Dataset()]
    kos.ConceptNameCodeSequence[0].CodeMeaning = "Of Interest"
    ref = Dataset()
    ref.ReferencedSOPInstanceUID = key.sop_instance_uid
    series = Dataset()
    series.ReferencedSOPSequence = [ref]
    study = Dataset()
    study.ReferencedSeriesSequence = [series]
    kos.CurrentRequestedProcedureEvidenceSequence = [study]
    path = tmp_path / "kos.dcm"
    kos.save_as(path, implicit_vr=True, little_endian=True)
    assert read_report(path).key_images == {key.sop_instance_uid}
    view = study_view(scan, ct)
    marked = ViewStudy(view.title, view.series, frozenset({key.sop_instance_uid}))
    viewer = _viewer(qtbot, marked)
    assert "★" in viewer.strip.item(0).text()
    viewer.show_object(1)
    assert "key image" in viewer.position_label.text()


def test_a_broken_file_shows_one_line(qtbot, tmp_path: Path) -> None:
    ds = pydicom.dcmread(FILES / "CT_small.dcm")
    ds.NumberOfFrames = 1_000_000
    ds.save_as(tmp_path / "lies.dcm")
    viewer = _viewer(qtbot, files_view([tmp_path / "lies.dcm"]))
    assert viewer.image.image is None
    assert "claims 1000000 frames" in viewer.image.message


def test_decoding_off_the_gui_thread_and_a_viewer_closed_meanwhile(qtbot, disc: Path) -> None:
    runner = Runner(threads=2)
    viewer = ViewerWindow(_view(disc, "CT"), runner)
    viewer.show()
    _wait_until(lambda: viewer.image.image is not None, 10000)  # decoded in the pool
    assert viewer.cache.bytes > 0
    _wheel(viewer.image, -120)
    _wait_until(lambda: "Image 2" in viewer.image.corners[3], 10000)
    # Closed and deleted while its thumbnails and prefetch may still run: nothing breaks.
    closing = ViewerWindow(_view(disc, "US"), runner)
    shiboken6.delete(closing)  # before any result of its work is delivered
    assert runner.wait(20000)
    deadline = time.monotonic() + 0.2
    _wait_until(lambda: time.monotonic() > deadline)  # the results are delivered
    viewer.close()
