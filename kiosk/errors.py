"""One hierarchy of typed errors; each carries the CLI exit code of ``CLI.md``.

Every error message is one line a person can act on: what went wrong and
what to do. The CLI prints ``str(error)``; the traceback goes to the log.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every error the kiosk raises on purpose.

    Parameters
    ----------
    message
        One line: what went wrong and what to do about it.
    """

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(KioskError):
    """Bad usage: unknown flag, missing argument, wrong value (exit 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """The configuration file is missing, unreadable or invalid (exit 2).

    The message names the file and, where known, the key.
    """

    def __init__(self, path: str, message: str, key: str | None = None) -> None:
        where = f"{path}: [{key}] " if key else f"{path}: "
        super().__init__(where + message)
        self.path = path
        self.key = key


class NoDicomError(KioskError):
    """The input does not exist or holds no readable DICOM at all (exit 3)."""

    exit_code = 3


class PeerError(KioskError):
    """A peer (worklist, PACS, HL7 receiver, database) was unreachable or refused (exit 4)."""

    exit_code = 4


class SafetyError(KioskError):
    """Refused for patient safety: identity conflict, role not allowed (exit 5)."""

    exit_code = 5


class PartialError(KioskError):
    """Partly done: some instances were not delivered and stay queued (exit 6)."""

    exit_code = 6


class StoreError(KioskError):
    """The local database could not be opened or migrated (exit 4)."""

    exit_code = 4


class SpoolError(KioskError):
    """Copying to the spool failed (no space, checksum mismatch, medium gone)."""

    exit_code = 1


class IdentityMismatchError(SafetyError):
    """The disc's demographics contradict the chosen patient; a person must confirm (exit 5)."""
