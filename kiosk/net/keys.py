"""Identifiers as C-FIND matching keys: matched exactly, never as a pattern.

In a C-FIND matching key, ``*`` and ``?`` are wildcards and ``\\`` separates
a list of values (PS3.4 C.2.2.2.4, C.2.2.2.2), and DICOM has no way to
escape them. An MRN or accession number holding one is matched as a pattern
by the worklist or the PACS: ``MRN1*`` finds MRN10 and MRN1234, ``*`` every
patient, ``MRN1\\MRN2`` two of them. Such a value is refused before any
query goes (no real identifier holds one), and what comes back is kept only
where it equals the value asked for (:func:`same`).
"""

from __future__ import annotations

from kiosk.errors import UsageError
from kiosk.media.names import shown

_PATTERN = "*?\\"
#: The longest Patient ID or Accession Number a query can carry (LO: 64; SH: 16).
MAX_LENGTH = 64


def exact(value: str, what: str) -> str:
    """Return ``value``, an identifier to match exactly; refuse one a query reads as a pattern.

    Raises
    ------
    UsageError
        If ``value`` holds ``*``, ``?`` or ``\\``, a character outside printable ASCII, or
        more than :data:`MAX_LENGTH` characters.
    """
    found = sorted({ch for ch in value if ch in _PATTERN})
    if found:
        raise UsageError(
            f"the {what} {shown(value)} holds {' '.join(found)}, which a worklist or PACS "
            f"query reads as a wildcard or a list; scan or type the {what} alone"
        )
    if not all(" " <= ch <= "~" for ch in value):
        # the query declares no character set for it: pydicom would write ``?`` (a
        # wildcard) for a letter outside ASCII, ``＊`` among them
        raise UsageError(
            f"the {what} {shown(value)} holds characters outside ASCII, which no {what} "
            f"here has; scan or type the {what} again"
        )
    if len(value.strip()) > MAX_LENGTH:
        raise UsageError(
            f"the {what} is {len(value.strip())} characters long; an identifier holds at most "
            f"{MAX_LENGTH} (DICOM LO): scan or type the {what} again"
        )
    return value


def same(asked: str, answered: str) -> bool:
    """Whether an answer's identifier is the one asked for (padding aside)."""
    return asked.strip() == answered.strip()
