"""Problems found on a medium: stable codes, the path, a human message.

Codes are stable: scripts and the back office filter on them. The list and
what each means is in ``docs/problems.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemCode(StrEnum):
    """The stable codes of media problems."""

    DICOMDIR_UNREADABLE = "dicomdir-unreadable"
    DICOMDIR_MISSING_FILE = "dicomdir-missing-file"
    DICOMDIR_OUTSIDE_MEDIUM = "dicomdir-path-outside-medium"
    NOT_IN_DICOMDIR = "not-in-dicomdir"
    UNREADABLE_FILE = "unreadable-file"
    MISSING_UID = "missing-uid"
    DUPLICATE_INSTANCE = "duplicate-instance"
    NO_DICOMDIR = "no-dicomdir"


@dataclass(frozen=True)
class Problem:
    """One deviation found on a medium."""

    code: ProblemCode
    path: str
    message: str

    def to_json(self) -> dict[str, str]:
        """Return the ``CLI.md`` JSON form."""
        return {"code": str(self.code), "path": self.path, "message": self.message}
