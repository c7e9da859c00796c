"""The display pipeline against pixels computed independently, on pydicom's own test images.

Expected values: pydicom's decoder (``Dataset.pixel_array``) and LUT
functions, with the window applied by the formula of PS3.3 C.11.2.1.2
written out here (not by the code under test).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from numpy.typing import NDArray
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut, apply_voi
from pydicom.uid import ExplicitVRLittleEndian, JPEGBaseline8Bit, generate_uid

from kiosk.cli import main
from kiosk.errors import NoDicomError
from kiosk.imaging.cache import FrameCache
from kiosk.imaging.render import ImageError, Window, decode_frame, read_header, render

FILES = Path(pydicom.__file__).parent / "data" / "test_files"

# Files of many vendors and every codec the decoders read: JPEG baseline and
# extended, JPEG lossless, JPEG-LS, JPEG 2000, RLE, deflate, big endian.
MONO = [
    "CT_small.dcm",
    "MR_small.dcm",
    "MR_small_bigendian.dcm",
    "MR_small_jpeg_ls_lossless.dcm",
    "MR_small_RLE.dcm",
    "MR_small_padded.dcm",
    "JPEG2000.dcm",
    "JPEG2000_UNC.dcm",
    "JPGExtended.dcm",
    "JPEG-LL.dcm",
    "emri_small.dcm",
    "emri_small_RLE.dcm",
    "emri_small_jpeg_2k_lossless.dcm",
    "image_dfl.dcm",
    "liver.dcm",
    "rtdose.dcm",
    "OBXXXX1A.dcm",
    "MR2_J2KR.dcm",
    "RG1_UNCI.dcm",
    "RG3_UNCI.dcm",
    "mlut_18.dcm",
    "vlut_04.dcm",
    "MR-SIEMENS-DICOM-WithOverlays.dcm",
    "693_J2KR.dcm",
    "SC_jpeg_no_color_transform.dcm",
]
COLOR = [
    "SC_rgb.dcm",
    "SC_rgb_rle_16bit.dcm",
    "SC_rgb_rle_32bit_2frame.dcm",
    "SC_rgb_jpeg.dcm",
    "SC_rgb_small_odd_jpeg.dcm",
    "SC_rgb_jls_lossy_line.dcm",
    "SC_rgb_gdcm_KY.dcm",
    "SC_rgb_dcmtk_+eb+cr.dcm",
    "SC_rgb_rle.dcm",
    "SC_rgb_jpeg_dcmtk.dcm",
    "SC_rgb_dcmtk_+eb+cy+np.dcm",
    "SC_rgb_dcmtk_+eb+cy+s4.dcm",
    "SC_rgb_jpeg_gdcm.dcm",
    "SC_rgb_small_odd.dcm",
    "SC_ybr_full_uncompressed.dcm",
    "SC_ybr_full_422_uncompressed.dcm",
    "SC_rgb_expb.dcm",
    "SC_rgb_rle_2frame.dcm",
    "US1_J2KR.dcm",
    "examples_ybr_color.dcm",
    "color3d_jpeg_baseline.dcm",
]
PALETTE = ["OBXXXX1A.dcm", "examples_palette.dcm", "US1_UNCR.dcm"]


def _present(names: list[str]) -> list[str]:
    return [n for n in names if (FILES / n).exists()]


def _window(values: NDArray[np.float64], center: float, width: float) -> NDArray[np.float64]:
    """PS3.3 C.11.2.1.2.1 (LINEAR) into 0..255, written out."""
    c, w = center - 0.5, width - 1
    out = ((values - c) / w + 0.5) * 255.0
    out[values <= c - w / 2] = 0
    out[values > c + w / 2] = 255
    return out


def expected_grey(ds: Dataset, frame: int) -> NDArray[np.uint8]:
    arr = ds.pixel_array
    if int(ds.get("NumberOfFrames", 1) or 1) > 1:
        arr = arr[frame]
    values = apply_modality_lut(arr, ds).astype(np.float64)
    if "VOILUTSequence" in ds:  # preferred to a window, as apply_voi_lut does
        bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        out = apply_voi(apply_modality_lut(arr, ds), ds).astype(np.float64) * 255 / (2**bits - 1)
    elif "WindowCenter" in ds and "WindowWidth" in ds:
        c = ds["WindowCenter"]
        w = ds["WindowWidth"]
        center = float(c.value[0] if c.VM > 1 else c.value)
        width = float(w.value[0] if w.VM > 1 else w.value)
        out = _window(values, center, width)
    else:
        lo, hi = values.min(), values.max()
        out = _window(values, (lo + hi + 1) / 2, max(hi - lo + 1, 1))
    grey = np.rint(np.clip(out, 0, 255)).astype(np.uint8)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        grey = 255 - grey
    return grey


@pytest.mark.filterwarnings("ignore::UserWarning")  # the files pydicom warns of
@pytest.mark.parametrize("name", _present(MONO))
def test_grey_images_match_independent_pixels(name: str) -> None:
    ds = pydicom.dcmread(FILES / name)
    if ds.PhotometricInterpretation not in ("MONOCHROME1", "MONOCHROME2"):
        pytest.skip(f"{name} is {ds.PhotometricInterpretation}")
    header = read_header(FILES / name)
    frames = header.frames
    for frame in sorted({0, frames - 1}):
        got = render(header, frame, decode_frame(header, frame))
        want = expected_grey(ds, frame)
        assert got.shape == want.shape
        diff = np.abs(got.astype(int) - want.astype(int))
        assert int(diff.max()) <= 1, name


@pytest.mark.filterwarnings("ignore::UserWarning")  # the files pydicom warns of
@pytest.mark.parametrize("name", _present(COLOR))
def test_colour_images_match_pydicom(name: str) -> None:
    ds = pydicom.dcmread(FILES / name)
    header = read_header(FILES / name)
    want = ds.pixel_array  # YBR converted to RGB by pydicom
    if header.frames > 1:
        want = want[header.frames - 1]
    bits = int(ds.BitsStored)
    want8 = np.rint(want.astype(np.float64) * 255 / (2**bits - 1)).astype(np.uint8)
    got = render(header, header.frames - 1, decode_frame(header, header.frames - 1))
    assert got.shape == (ds.Rows, ds.Columns, 3)
    assert int(np.abs(got.astype(int) - want8.astype(int)).max()) <= 1, name


@pytest.mark.filterwarnings("ignore::UserWarning")  # the files pydicom warns of
@pytest.mark.parametrize("name", _present(PALETTE))
def test_palette_colour(name: str) -> None:
    ds = pydicom.dcmread(FILES / name)
    if ds.PhotometricInterpretation != "PALETTE COLOR":
        pytest.skip(f"{name} is {ds.PhotometricInterpretation}")
    header = read_header(FILES / name)
    arr = ds.pixel_array if header.frames == 1 else ds.pixel_array[0]
    rgb = apply_color_lut(arr, ds)
    want = rgb if rgb.dtype == np.uint8 else np.rint(rgb / 65535 * 255).astype(np.uint8)
    got = render(header, 0, decode_frame(header, 0))
    assert int(np.abs(got.astype(int) - want.astype(int)).max()) <= 1


def test_user_window_overrides_the_file_window() -> None:
    header = read_header(FILES / "CT_small.dcm")
    pixels = decode_frame(header, 0)
    hu = pixels.astype(np.float64) * float(header.dataset.RescaleSlope) + float(
        header.dataset.RescaleIntercept
    )
    got = render(header, 0, pixels, Window(40, 400))
    want = np.rint(np.clip(_window(hu, 40, 400), 0, 255)).astype(np.uint8)
    assert np.array_equal(got, want)
    assert not np.array_equal(got, render(header, 0, pixels, Window(-600, 1500)))


def _enhanced(tmp_path: Path) -> Path:
    """A two-frame enhanced object: per-frame rescale and window, 16-bit signed."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.Rows, ds.Columns, ds.NumberOfFrames = 4, 4, 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    frames = np.arange(32, dtype=np.int16).reshape(2, 4, 4) * 10 - 100
    ds.PixelData = frames.tobytes()
    shared = Dataset()
    shared.FrameVOILUTSequence = [Dataset()]
    shared.FrameVOILUTSequence[0].WindowCenter = 0
    shared.FrameVOILUTSequence[0].WindowWidth = 200
    ds.SharedFunctionalGroupsSequence = [shared]
    per = []
    for slope, intercept in ((1.0, 0.0), (2.0, -50.0)):
        item = Dataset()
        item.PixelValueTransformationSequence = [Dataset()]
        item.PixelValueTransformationSequence[0].RescaleSlope = slope
        item.PixelValueTransformationSequence[0].RescaleIntercept = intercept
        item.PixelValueTransformationSequence[0].RescaleType = "HU"
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = per
    path = tmp_path / "enhanced.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


def test_enhanced_multiframe_per_frame_rescale(tmp_path: Path) -> None:
    path = _enhanced(tmp_path)
    header = read_header(path)
    raw = np.arange(32, dtype=np.int16).reshape(2, 4, 4) * 10 - 100
    for frame, (slope, intercept) in enumerate(((1.0, 0.0), (2.0, -50.0))):
        got = render(header, frame, decode_frame(header, frame))
        want = np.rint(np.clip(_window(raw[frame] * slope + intercept, 0, 200), 0, 255))
        assert np.array_equal(got, want.astype(np.uint8)), frame


# --- hostile files -------------------------------------------------------------------------


def _image(tmp_path: Path, **attrs: object) -> Path:
    ds = pydicom.dcmread(FILES / "CT_small.dcm")
    for key, value in attrs.items():
        setattr(ds, key, value)
    path = tmp_path / "hostile.dcm"
    ds.save_as(path)
    return path


def test_frame_count_that_lies_is_refused(tmp_path: Path) -> None:
    path = _image(tmp_path, NumberOfFrames=2_000_000_000)
    with pytest.raises(ImageError, match="claims 2000000000 frames"):
        read_header(path)


def test_huge_rows_and_columns_are_refused(tmp_path: Path) -> None:
    path = _image(tmp_path, Rows=65535, Columns=65535)
    with pytest.raises(ImageError, match="larger than the viewer's limit"):
        read_header(path)


def test_truncated_pixel_data_is_refused(tmp_path: Path) -> None:
    ds = pydicom.dcmread(FILES / "CT_small.dcm")
    ds.PixelData = ds.PixelData[:100]
    ds.save_as(tmp_path / "short.dcm")
    with pytest.raises(ImageError, match="holds 100 bytes"):
        read_header(tmp_path / "short.dcm")


def test_compressed_frame_count_that_lies(tmp_path: Path) -> None:
    ds = pydicom.dcmread(FILES / "SC_rgb_jpeg_dcmtk.dcm")
    assert ds.file_meta.TransferSyntaxUID == JPEGBaseline8Bit
    ds.NumberOfFrames = 100_000_000
    ds.save_as(tmp_path / "many.dcm")
    with pytest.raises(ImageError, match="compressed frames"):
        read_header(tmp_path / "many.dcm")


def test_not_dicom_and_no_pixels(tmp_path: Path) -> None:
    (tmp_path / "x.dcm").write_bytes(b"\0" * 10)
    with pytest.raises((NoDicomError, ImageError)):
        read_header(tmp_path / "x.dcm")
    with pytest.raises(ImageError, match="no image"):
        read_header(FILES / "rtplan.dcm")


def test_cache_is_bounded_by_bytes() -> None:
    cache = FrameCache(max_bytes=3 * 128 * 128 * 2)
    path = FILES / "CT_small.dcm"
    first = cache.frame(path, 0)
    assert cache.cached(path, 0) is first
    assert cache.bytes == first.nbytes
    small = FrameCache(max_bytes=100)
    small.frame(path, 0)
    assert small.bytes == 0 and small.cached(path, 0) is None


# --- kiosk render ---------------------------------------------------------------------------


def test_cli_render_writes_what_the_viewer_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "ct.png"
    assert (
        main(
            [
                "render",
                str(FILES / "CT_small.dcm"),
                "--window",
                "40,400",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    png = np.asarray(Image.open(io.BytesIO(out.read_bytes())))
    header = read_header(FILES / "CT_small.dcm")
    assert np.array_equal(png, render(header, 0, decode_frame(header, 0), Window(40, 400)))
    assert '"window": {' in capsys.readouterr().out


def test_cli_render_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "x.png")
    ct = str(FILES / "CT_small.dcm")
    assert main(["render", ct, "--frame", "2", "--out", out]) == 2
    assert main(["render", ct, "--window", "40", "--out", out]) == 2
    assert main(["render", str(FILES / "rtplan.dcm"), "--out", out]) == 3
    assert main(["render", str(tmp_path / "missing.dcm"), "--out", out]) == 3
    multi = str(FILES / "SC_rgb_rle_2frame.dcm")
    assert main(["render", multi, "--frame", "2", "--out", out]) == 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert all(line.startswith("kiosk: ") for line in err.strip().splitlines())


@pytest.mark.filterwarnings("ignore:Applying a VOI LUT on a float")  # the reference's, not ours
def test_voi_lut_is_preferred_to_a_window_as_pydicom_does(tmp_path: Path) -> None:
    from pydicom.pixels.processing import apply_voi_lut

    ds = pydicom.dcmread(FILES / "CT_small.dcm")
    lo = int(ds.pixel_array.min())
    item = Dataset()
    item.LUTDescriptor = [1024, lo, 12]
    item["LUTDescriptor"].VR = "SS"
    item.LUTData = [min(4095, (i * 7) % 4096) for i in range(1024)]
    item["LUTData"].VR = "US"
    ds.VOILUTSequence = [item]
    ds.WindowCenter, ds.WindowWidth = 100, 50
    ds.save_as(tmp_path / "both.dcm")
    ds = pydicom.dcmread(tmp_path / "both.dcm")
    header = read_header(tmp_path / "both.dcm")
    pixels = decode_frame(header, 0)
    lut = apply_voi_lut(apply_modality_lut(ds.pixel_array, ds), ds)  # prefer_lut=True
    want = np.rint(lut.astype(np.float64) * 255 / 4095).astype(np.uint8)
    assert np.array_equal(render(header, 0, pixels), want)
    # a window chosen by the user still wins
    assert not np.array_equal(render(header, 0, pixels, Window(100, 50)), want)


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    ds = pydicom.dcmread(FILES / "CT_small.dcm")
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.save_as(tmp_path / "m1.dcm")
    header = read_header(tmp_path / "m1.dcm")
    got = render(header, 0, decode_frame(header, 0))
    assert np.array_equal(got, expected_grey(pydicom.dcmread(tmp_path / "m1.dcm"), 0))
    mono2 = read_header(FILES / "CT_small.dcm")
    assert np.array_equal(got, 255 - render(mono2, 0, decode_frame(mono2, 0)))


def test_planar_configuration_one(tmp_path: Path) -> None:
    ds = pydicom.dcmread(FILES / "SC_rgb_small_odd.dcm")
    rgb = ds.pixel_array
    ds.PlanarConfiguration = 1
    ds.PixelData = np.ascontiguousarray(rgb.transpose(2, 0, 1)).tobytes() + (
        b"\0" if rgb.size % 2 else b""
    )
    ds.save_as(tmp_path / "planar.dcm")
    header = read_header(tmp_path / "planar.dcm")
    assert np.array_equal(render(header, 0, decode_frame(header, 0)), rgb)


def test_modality_lut_sequence(tmp_path: Path) -> None:
    ds = pydicom.dcmread(FILES / "CT_small.dcm")
    for keyword in ("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.PixelRepresentation = 0
    ds.PixelData = (ds.pixel_array.astype(np.int32).clip(0, 4095).astype(np.uint16)).tobytes()
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.LUTData = [(4095 - i) * 3 for i in range(4096)]  # inverts and stretches
    item["LUTData"].VR = "US"
    item.ModalityLUTType = "HU"
    ds.ModalityLUTSequence = [item]
    ds.save_as(tmp_path / "mlut.dcm")
    ds = pydicom.dcmread(tmp_path / "mlut.dcm")
    header = read_header(tmp_path / "mlut.dcm")
    got = render(header, 0, decode_frame(header, 0))
    assert np.array_equal(got, expected_grey(ds, 0))
    values = apply_modality_lut(ds.pixel_array, ds)
    assert int(got[values == values.max()].min()) == 255
