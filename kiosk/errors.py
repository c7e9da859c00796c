"""One hierarchy of typed errors; each carries the CLI exit code of ``docs/CLI.md``.

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

    Every exit code is one of ``docs/CLI.md`` (2 to 7); a subclass that does
    not choose one is a local failure (7), as the CLI's unexpected errors are.
    """

    exit_code: int = 7

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


class LocalError(KioskError):
    """A local failure: the spool disk is full, the database cannot be written (exit 7)."""

    exit_code = 7


class StoreError(LocalError):
    """The local database could not be opened, migrated or written (exit 7)."""


class SpoolError(LocalError):
    """Copying to the spool failed: no space, checksum mismatch, medium gone (exit 7)."""


class IdentityMismatchError(SafetyError):
    """The disc's demographics contradict the chosen patient; a person must confirm (exit 5)."""


class AnotherPatientError(SafetyError):
    """The order is another patient's than the study's; moving it must be asked for (exit 5).

    ``mrn`` and ``issuer`` name the order's patient (the MRN and issuer of patient ID that
    would move the study there, ``""`` for no issuer), ``was`` the study's (MRN, issuer).
    """

    def __init__(self, message: str, *, mrn: str, issuer: str, was: tuple[str, str]) -> None:
        super().__init__(message)
        self.mrn = mrn
        self.issuer = issuer
        self.was = was


class AssociationRejected(PeerError):
    """The peer answered our association request with A-ASSOCIATE-RJ (exit 4).

    Parameters
    ----------
    message
        One line: what the rejection means and what to do.
    result, source, reason
        The A-ASSOCIATE-RJ fields (PS3.8 9.3.4): result 1 is permanent, 2
        transient; source 1 the service user, 2 and 3 the service provider.

    A permanent rejection needs a person (an AE title to add, a config to
    fix); a transient one (busy, no resources) is retried with backoff.
    """

    def __init__(self, message: str, *, result: int, source: int, reason: int) -> None:
        super().__init__(message)
        self.result = result
        self.source = source
        self.reason = reason

    @property
    def permanent(self) -> bool:
        """Whether retrying cannot help until someone changes a configuration."""
        return self.result != 2


class AssociationAborted(PeerError):
    """The peer aborted the association (A-ABORT) while it was being set up (exit 4).

    ``source`` and ``reason`` are the A-ABORT's (PS3.8 9.3.8: source 0 the
    service user, 2 the service provider); ``None`` when not known.
    """

    def __init__(self, message: str, *, source: int | None = None, reason: int | None = None):
        super().__init__(message)
        self.source = source
        self.reason = reason


class RoleNotAllowed(SafetyError):
    """The signed-in user's role may not do this action (exit 5, "role not allowed")."""


class SignInError(SafetyError):
    """Sign-in is required, or the name or password was not accepted (exit 5)."""


class AuditChainBroken(SafetyError):
    """The audit trail's hash chain is broken: a record was changed or removed (exit 5)."""


class Hl7Error(PeerError):
    """The HL7 receiver was unreachable, did not answer, or answered garbage (exit 4).

    ``down`` is True when no connection could be made at all.
    """

    def __init__(self, message: str, *, down: bool = False) -> None:
        super().__init__(message)
        self.down = down
