"""Use case: render one frame of a DICOM file to a PNG, as the viewer shows it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.errors import LocalError, UsageError
from kiosk.imaging.render import (
    Window,
    applied_window,
    decode_frame,
    read_header,
    render,
)


@dataclass(frozen=True)
class Rendered:
    """What ``kiosk render`` wrote (``docs/CLI.md``)."""

    source: Path
    out: Path
    frame: int
    """1-based."""
    frames: int
    rows: int
    columns: int
    color: bool
    window: Window | None
    """The window applied (the user's, else the file's); None for colour or a VOI LUT."""

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "source": str(self.source),
            "out": str(self.out),
            "frame": self.frame,
            "frames": self.frames,
            "rows": self.rows,
            "columns": self.columns,
            "color": self.color,
            "window": None
            if self.window is None
            else {"center": self.window.center, "width": self.window.width},
        }


def parse_window(text: str) -> Window:
    """Read ``CENTER,WIDTH``; raise :class:`UsageError` (exit 2) when it is not one."""
    try:
        return Window.parse(text)
    except ValueError as exc:
        raise UsageError(f"--window: {exc}") from None


def render_image(
    source: Path, out: Path, *, frame: int = 1, window: Window | None = None
) -> Rendered:
    """Render frame ``frame`` (1-based) of ``source`` at native size into the PNG ``out``.

    The same code as the viewer's (:func:`kiosk.imaging.render.render`).

    Raises
    ------
    UsageError
        The frame number is not one of the file's.
    NoDicomError, ImageError
        The file is not DICOM or its pixels cannot be shown (exit 3).
    LocalError
        The PNG cannot be written.
    """
    from PIL import Image

    header = read_header(source)
    if not 1 <= frame <= header.frames:
        raise UsageError(f"--frame {frame}: {source} has frames 1 to {header.frames}")
    pixels = decode_frame(header, frame - 1)
    shown = render(header, frame - 1, pixels, window)
    try:
        Image.fromarray(shown).save(out, format="PNG")
    except OSError as exc:
        raise LocalError(f"{out}: the PNG cannot be written ({exc.strerror or exc})") from None
    return Rendered(
        source,
        out,
        frame,
        header.frames,
        header.rows,
        header.columns,
        header.color,
        applied_window(header, frame - 1, window),
    )
