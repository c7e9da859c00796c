"""pydicom ``FileSet`` helpers: open a DICOMDIR and always release its staging folder."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pydicom
from pydicom.fileset import FileSet


def release_fileset(fs: FileSet) -> None:
    """Remove the staging directory a :class:`FileSet` keeps for its whole life.

    pydicom 3.0 never closes that :class:`tempfile.TemporaryDirectory`, so the
    garbage collector does, with a :class:`ResourceWarning`.
    """
    stage = getattr(fs, "_stage", None)
    tmp = stage.get("t") if isinstance(stage, dict) else None
    if isinstance(tmp, tempfile.TemporaryDirectory):
        tmp.cleanup()


@contextmanager
def open_fileset(dicomdir: Path) -> Iterator[FileSet]:
    """Read a DICOMDIR as a :class:`FileSet`; its staging folder is removed afterwards."""
    fs = FileSet()
    try:
        fs.load(pydicom.dcmread(dicomdir, force=True))
        yield fs
    finally:
        release_fileset(fs)
