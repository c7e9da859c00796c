"""Names and values from a medium, as a screen, a terminal, a log or JSON may show them.

A disc is hostile: its file names need not be UTF-8 (Python hands them over
as ``str`` with surrogate escapes, PEP 383) and may hold newlines or terminal
escape sequences. The exact name is kept where the file must be found again
(the store, see :func:`kiosk.store.studies.source_relpath`); everywhere a
name is shown, :func:`shown` gives its escaped form.
"""

from __future__ import annotations

import stat
import unicodedata

_SURROGATE_ESCAPES = range(0xDC80, 0xDD00)


def shown(text: str) -> str:
    """Return ``text`` as one printable line, with what it really holds written as escapes.

    - a byte that was not valid in the file system's encoding (a lone
      surrogate ``U+DC80``..``U+DCFF`` from ``surrogateescape``) becomes
      ``\\xNN``, the byte itself;
    - any other character that is not printable (control characters such as
      newline and ESC, Unicode line separators, bidi overrides, other lone
      surrogates) becomes its Python escape (``\\n``, ``\\x1b``, ``\\u202e``);
    - a blank other than the plain space becomes a plain space.

    The result is valid UTF-8 text without control characters: safe for a
    terminal, a log file, JSON and the window. Escaping twice changes
    nothing more (a backslash is left as it is), so a value may pass through
    here at every layer. It is for showing only: keep the original to open
    the file.
    """
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable():
            out.append(char)
        elif ord(char) in _SURROGATE_ESCAPES:
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif unicodedata.category(char) == "Zs":
            out.append(" ")
        else:
            out.append(char.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return "".join(out)


def special_kind(mode: int) -> str:
    """What a special file (by its ``st_mode``) is, in words, for a problem's message."""
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    return f"a special file (mode {mode:o})"
