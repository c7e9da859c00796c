"""Objects that are not images: PDF pages, pictures, SR text, key images, the cine rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset

from kiosk.demo.sample_disc import report_pdf
from kiosk.imaging.documents import (
    Kind,
    cine_interval_ms,
    kind_of,
    pdf_pages,
    picture,
    read_report,
    report_kind,
    sr_text,
)
from kiosk.imaging.render import ImageError

FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def test_pdf_pages_are_drawn() -> None:
    pages = pdf_pages(report_pdf(["A LINE OF TEXT"]))
    assert len(pages) == 1
    page = pages[0]
    assert page.dtype == np.uint8 and page.ndim == 3 and page.shape[2] == 3
    assert page.shape[0] > page.shape[1]  # A4, portrait
    assert int(page.min()) < 100 < 250 <= int(page.max())  # black text on white


def test_a_pdf_that_is_not_one_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not a readable PDF"):
        pdf_pages(b"%PDF-1.4 garbage" * 10, where="x.pdf")


def test_jpeg_report_outside_dicom(tmp_path: Path) -> None:
    path = tmp_path / "REPORT.JPG"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(path, format="JPEG")
    assert report_kind("REPORTS/REPORT.JPG") is Kind.PICTURE
    assert report_kind("A/B.PDF") is Kind.PDF and report_kind("README.TXT") is None
    arr = picture(path)
    assert arr.shape == (30, 40, 3) and arr[15, 20, 0] > 150
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8 not really")
    with pytest.raises(ImageError, match="not a readable picture"):
        picture(tmp_path / "bad.jpg")


def test_structured_report_text() -> None:
    ds = pydicom.dcmread(FILES / "test-SR.dcm")
    text = sr_text(ds)
    assert kind_of(ds.SOPClassUID) is Kind.SR
    first = ds.ContentSequence[0]
    assert first.ConceptNameCodeSequence[0].CodeMeaning in text
    assert read_report(FILES / "test-SR.dcm").kind is Kind.SR


def test_deep_sr_is_bounded() -> None:
    ds = Dataset()
    item = ds
    for n in range(200):
        child = Dataset()
        child.ValueType = "TEXT"
        child.TextValue = f"level {n}"
        item.ContentSequence = [child]
        item = child
    lines = sr_text(ds).splitlines()
    assert 40 < len(lines) < 60


def test_cine_rate_from_the_file() -> None:
    ds = Dataset()
    assert cine_interval_ms(ds) == pytest.approx(1000 / 30)
    ds.RecommendedDisplayFrameRate = 50
    assert cine_interval_ms(ds) == pytest.approx(20)
    ds.CineRate = 25
    assert cine_interval_ms(ds) == pytest.approx(40)
    ds.FrameTime = "33.3"
    assert cine_interval_ms(ds) == pytest.approx(33.3)
    ds.FrameTime = "0"  # absurd: the next one
    assert cine_interval_ms(ds) == pytest.approx(40)
