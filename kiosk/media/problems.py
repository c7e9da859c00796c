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
    DICOMDIR_BROKEN_LINKS = "dicomdir-broken-links"
    DICOMDIR_MISMATCH = "dicomdir-mismatch"
    EXTRA_DICOMDIR = "extra-dicomdir"
    NOT_IN_DICOMDIR = "not-in-dicomdir"
    UNREADABLE_FILE = "unreadable-file"
    TRUNCATED_FILE = "truncated-file"
    INVALID_VALUE = "invalid-value"
    MISSING_UID = "missing-uid"
    DUPLICATE_INSTANCE = "duplicate-instance"
    IDENTITY_CONFLICT = "identity-conflict"
    INVALID_UID = "invalid-uid"
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

    @property
    def plain(self) -> str:
        """The problem in plain words, for the front-desk screen."""
        where = f"{self.path}: " if self.path else ""
        return f"{PLAIN_WORDS.get(self.code, str(self.code))} ({where}{self.message})"


PLAIN_WORDS: dict[ProblemCode, str] = {
    ProblemCode.DICOMDIR_UNREADABLE: "The disc's index (DICOMDIR) is damaged; every file was read",
    ProblemCode.DICOMDIR_MISSING_FILE: "An image listed on the disc is missing",
    ProblemCode.DICOMDIR_OUTSIDE_MEDIUM: "The disc's index points outside the disc; ignored",
    ProblemCode.DICOMDIR_BROKEN_LINKS: "The disc's index is out of order; it was read in sequence",
    ProblemCode.DICOMDIR_MISMATCH: "The disc's index disagrees with an image; the image wins",
    ProblemCode.EXTRA_DICOMDIR: "The disc has a second index; its images were read directly",
    ProblemCode.NOT_IN_DICOMDIR: "An image is not in the disc's index; it was read anyway",
    ProblemCode.UNREADABLE_FILE: "A file could not be read; it is left out",
    ProblemCode.TRUNCATED_FILE: "An image file is cut short; it is left out",
    ProblemCode.INVALID_VALUE: "An image has a malformed value; it was read anyway",
    ProblemCode.MISSING_UID: "An image has no identifier; it is left out",
    ProblemCode.DUPLICATE_INSTANCE: "The same image is on the disc twice; counted once",
    ProblemCode.IDENTITY_CONFLICT: (
        "The same identifier is used for two patients on the disc; a person must check it"
    ),
    ProblemCode.INVALID_UID: "An image has a malformed identifier (UID); it is listed anyway",
    ProblemCode.NO_DICOMDIR: "The disc has no index (DICOMDIR); every file was read",
}
