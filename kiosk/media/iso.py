"""Read an ``.iso`` disc image directly with pycdlib, without mounting it.

The files of the image are extracted into a private temporary folder, which
then behaves exactly like a mounted disc: the scan reads it, and the importer
copies from it (``scan.root / relpath``). The folder is removed when the
:class:`~kiosk.media.model.MediaScan` that owns it is garbage-collected, or at
exit. The image itself is only read.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import pycdlib
from pycdlib.pycdlibexception import PyCdlibException

from kiosk.errors import NoDicomError

log = logging.getLogger(__name__)

_ISO_MAGIC_OFFSET = 0x8001


def is_iso_image(path: Path) -> bool:
    """Tell whether ``path`` is an ISO 9660 / UDF image (by its ``CD001`` / ``BEA01`` mark)."""
    if not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            fh.seek(_ISO_MAGIC_OFFSET)
            mark = fh.read(5)
    except OSError:
        return False
    return mark in (b"CD001", b"BEA01") or path.suffix.lower() == ".iso"


def iso_name(name: str) -> str:
    """Strip the ISO 9660 version (``;1``) and the empty extension dot (``NAME.``)."""
    base = name.split(";", 1)[0]
    if base.endswith(".") and base not in (".", ".."):
        base = base[:-1]
    return base


def _namespace(iso: Any) -> str:
    """Pick the richest name space the image has: UDF, Rock Ridge, Joliet, then ISO 9660."""
    if iso.has_udf():
        return "udf_path"
    if iso.has_rock_ridge():
        return "rr_path"
    if iso.has_joliet():
        return "joliet_path"
    return "iso_path"


def volume_label(image: Path) -> str:
    """The volume identifier of an ISO image ("" if it cannot be read)."""
    with image.open("rb") as fp:
        iso = pycdlib.PyCdlib()
        try:
            iso.open_fp(fp)
        except (PyCdlibException, OSError, ValueError):
            return ""
        try:
            raw = iso.pvd.volume_identifier
            text = raw.decode("latin-1") if isinstance(raw, bytes) else str(raw)
            return text.strip(" \x00")
        finally:
            iso.close()


def extract_iso(image: Path, target: Path) -> list[str]:
    """Extract every file of ``image`` under ``target``; return the relative paths written.

    Raises
    ------
    NoDicomError
        If the image cannot be opened as ISO 9660 / UDF.
    """
    with image.open("rb") as fp:
        iso = pycdlib.PyCdlib()
        try:
            iso.open_fp(fp)
        except (PyCdlibException, OSError, ValueError) as exc:
            raise NoDicomError(
                f"{image} is not a readable disc image ({exc}); check the file or burn it to a disc"
            ) from None
        try:
            return _extract_all(iso, image, target)
        finally:
            iso.close()


def _extract_all(iso: Any, image: Path, target: Path) -> list[str]:
    written: list[str] = []
    root = target.resolve()
    kind = _namespace(iso)
    for here, _dirs, files in iso.walk(**{kind: "/"}):
        parts = [iso_name(p) for p in PurePosixPath(here).parts[1:]]
        for name in files:
            clean = [*parts, iso_name(name)]
            if any(p in ("", ".", "..") or "\\" in p for p in clean):
                log.warning("skipped an ISO entry with an unsafe name in %s", image.name)
                continue
            out = root.joinpath(*clean)
            if root not in out.resolve().parents:
                continue
            out.parent.mkdir(parents=True, exist_ok=True)
            source = here.rstrip("/") + "/" + name
            with out.open("wb") as fh:
                iso.get_file_from_iso_fp(fh, **{kind: source})
            written.append("/".join(clean))
    return written


def extract_to_temp(image: Path) -> Path:
    """Extract ``image`` into a new temporary folder and return it (caller removes it)."""
    folder = Path(tempfile.mkdtemp(prefix="kiosk-iso-"))
    try:
        extract_iso(image, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder
