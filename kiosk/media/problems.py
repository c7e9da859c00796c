"""Problems found on a medium: stable codes, the path, a human message.

Codes are stable: scripts and the back office filter on them. The list and
what each means is in ``docs/problems.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kiosk.media.names import shown


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
    SYMLINK_ON_MEDIUM = "symlink-on-medium"
    SPECIAL_FILE = "special-file"
    MISSING_PATIENT_ID = "missing-patient-id"
    SHARED_EXTENT = "shared-extent"
    IMAGE_SIZE_EXCEEDED = "image-size-exceeded"
    IMAGE_ENTRY_DAMAGED = "image-entry-damaged"
    LENGTH_BEYOND_FILE = "length-beyond-file"
    SEQUENCE_TOO_DEEP = "sequence-too-deep"
    DICOMDIR_TOO_LARGE = "dicomdir-too-large"
    IMAGE_TOO_COMPLEX = "image-too-complex"
    CHARSET_UNDECLARED = "charset-undeclared"
    CHARSET_WRONG = "charset-wrong"


@dataclass(frozen=True)
class Problem:
    """One deviation found on a medium."""

    code: ProblemCode
    path: str
    message: str
    guesses: tuple[str, ...] = ()
    """For ``charset-undeclared``/``charset-wrong``: the guessed readings of the patient
    name (not in the JSON form; the message shows the likeliest)."""

    def __post_init__(self) -> None:
        # A path (or a message quoting one) from a disc is shown escaped everywhere:
        # the JSON, the terminal, the window, the log. See kiosk.media.names.shown.
        object.__setattr__(self, "path", shown(self.path))
        object.__setattr__(self, "message", shown(self.message))

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
    ProblemCode.INVALID_UID: (
        "An image has a malformed or borrowed identifier (UID); it is listed anyway"
    ),
    ProblemCode.NO_DICOMDIR: "The disc has no index (DICOMDIR); every file was read",
    ProblemCode.SYMLINK_ON_MEDIUM: "The disc holds a link to another file; it was not followed",
    ProblemCode.SPECIAL_FILE: "The disc holds something that is not a file; it was not opened",
    ProblemCode.MISSING_PATIENT_ID: (
        "An image has no patient ID; it is listed, choose the patient by name and birth date"
    ),
    ProblemCode.SHARED_EXTENT: "Several names on the disc share the same data; it was read once",
    ProblemCode.IMAGE_SIZE_EXCEEDED: (
        "The disc image repeats its data; reading stopped, the images found so far are listed"
    ),
    ProblemCode.IMAGE_ENTRY_DAMAGED: "An entry of the disc image is damaged; it was left out",
    ProblemCode.LENGTH_BEYOND_FILE: (
        "A file claims to be larger than it is (damaged or hostile); it was left out"
    ),
    ProblemCode.SEQUENCE_TOO_DEEP: (
        "A file nests its data too deep to be read safely (damaged or hostile); it was left out"
    ),
    ProblemCode.DICOMDIR_TOO_LARGE: (
        "The disc's index (DICOMDIR) is far too large to be real; every file was read instead"
    ),
    ProblemCode.IMAGE_TOO_COMPLEX: (
        "The disc image is too large or complex to read safely; reading stopped, "
        "the images found so far are listed"
    ),
    ProblemCode.CHARSET_UNDECLARED: (
        "The disc does not say in which alphabet its names are written; "
        "check the patient's name by hand"
    ),
    ProblemCode.CHARSET_WRONG: (
        "The disc names the wrong alphabet for its names; check the patient's name by hand"
    ),
}
