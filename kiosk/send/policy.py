"""What a C-STORE outcome means for the outbox: stored, retry later, or quarantine.

Decided by status category (PS3.4 Annex B, PS3.7 Annex C), as pynetdicom's
``status.py`` groups them. Retries wait with exponential backoff and jitter;
after :data:`MAX_ATTEMPTS` an instance is ``failed`` (the back office sees it
and can resend it with ``kiosk send --retry``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from kiosk.store.outbox import OutboxState

MAX_ATTEMPTS = 10
BACKOFF_BASE = 5.0  # seconds before the first retry
BACKOFF_CAP = 3600.0  # never wait longer than this between attempts
#: A PACS that is down is tried again at least this often: an outage's end is worth
#: finding soon, and one association attempt costs the PACS nothing.
DESTINATION_BACKOFF_CAP = 600.0
JITTER = 0.25  # each wait is scattered by up to ±25 %

REFUSED_SOP_CLASS = 0x0122  # SOP class not supported (also: presentation context refused)


class Outcome(StrEnum):
    """What to do with an instance after one attempt."""

    STORED = "stored"
    RETRY = "retry"
    QUARANTINE = "quarantine"


#: PS3.4 B.2.3 "Refused: Out of Resources" (A7xx) and PS3.7 C.5 "Duplicate Invocation",
#: "Resource Limitation": the failures that say "not now" rather than "never".
RETRY_LATER = frozenset((*range(0xA700, 0xA800), 0x0210, 0x0213))

#: The start of a destination's recorded error when it rejected us for good.
NEEDS_A_PERSON = "needs a person"
#: How long automatic runs wait after a permanent rejection (a person's send tries at once).
PERMANENT_REJECTION_WAIT = 3600.0


def classify(status: int | None) -> Outcome:
    """Map a C-STORE status (``None``: no answer, dropped or aborted) to an outcome.

    The category (success, warning, failure, ...) is pynetdicom's
    (:func:`pynetdicom.status.code_to_category`, PS3.7 Annex C); among
    failures, :data:`RETRY_LATER` are retried, the others quarantined.
    pynetdicom is imported only for a status other than success:
    ``pynetdicom.status`` imports all of pynetdicom and pydicom (0.2 s or
    more, measured with ``python -X importtime``), which the fast sending
    path avoids on purpose; 0x0000 is success in every category table.
    """
    if status is None:
        return Outcome.RETRY
    if status == 0x0000:
        return Outcome.STORED
    from pynetdicom.status import STATUS_SUCCESS, STATUS_WARNING, code_to_category

    if code_to_category(status) in (STATUS_SUCCESS, STATUS_WARNING):
        return Outcome.STORED  # warnings: coercion, elements discarded, attribute list error
    if status in RETRY_LATER:
        return Outcome.RETRY
    return Outcome.QUARANTINE  # cannot understand, data set mismatch, refused, unknown


def describe(status: int | None) -> str:
    """Return a short human text for a C-STORE status (pynetdicom's, PS3.4 Annex B)."""
    if status is None:
        return "no answer from the PACS"
    if status == 0x0000:
        return "stored"
    from pynetdicom.status import STORAGE_SERVICE_CLASS_STATUS, code_to_category

    category, text = STORAGE_SERVICE_CLASS_STATUS.get(status, (code_to_category(status), ""))
    return f"{text or category} (0x{status:04X})"


def destination_wait(failures: int, *, permanent: bool = False) -> float:
    """Seconds automatic runs wait after ``failures`` failed runs in a row to a destination.

    A permanent rejection waits :data:`PERMANENT_REJECTION_WAIT`: only a
    person can fix it (an AE title to add), and a person's send tries at once.
    """
    if permanent:
        return PERMANENT_REJECTION_WAIT
    return backoff_seconds(failures, cap=DESTINATION_BACKOFF_CAP)


def backoff_seconds(
    attempts: int, rng: random.Random | None = None, cap: float = BACKOFF_CAP
) -> float:
    """Return how long to wait before attempt ``attempts + 1`` (exponential, with jitter)."""
    base: float = min(BACKOFF_BASE * 2.0 ** max(attempts - 1, 0), cap)
    spread = float((rng or random).uniform(-JITTER, JITTER))
    return base * (1.0 + spread)


@dataclass(frozen=True)
class Decision:
    """Where an instance goes after one attempt, and when it is tried again."""

    state: OutboxState
    next_attempt_at: str = ""


def decide(
    status: int | None,
    attempts: int,
    *,
    now: datetime | None = None,
    rng: random.Random | None = None,
    max_attempts: int | None = None,
) -> Decision:
    """Decide the outbox state after attempt number ``attempts`` ended with ``status``."""
    outcome = classify(status)
    if outcome is Outcome.STORED:
        return Decision(OutboxState.SENT)
    if outcome is Outcome.QUARANTINE:
        return Decision(OutboxState.QUARANTINED)
    if attempts >= (MAX_ATTEMPTS if max_attempts is None else max_attempts):
        return Decision(OutboxState.FAILED)
    when = (now or datetime.now(UTC)) + timedelta(seconds=backoff_seconds(attempts, rng))
    return Decision(OutboxState.QUEUED, when.isoformat(timespec="seconds"))
