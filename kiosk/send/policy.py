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


def classify(status: int | None) -> Outcome:
    """Map a C-STORE status (``None``: no answer, dropped or aborted) to an outcome."""
    if status is None:
        return Outcome.RETRY
    if status == 0x0000 or 0xB000 <= status <= 0xBFFF or status == 0x0107 or status == 0x0116:
        return Outcome.STORED  # success and warnings (coercion, elements discarded)
    if 0xA700 <= status <= 0xA7FF or status in (0x0210, 0x0213):
        return Outcome.RETRY  # out of resources, duplicate invocation, resource limitation
    return Outcome.QUARANTINE  # cannot understand, data set mismatch, refused, not supported


def describe(status: int | None) -> str:
    """Return a short human text for a status."""
    if status is None:
        return "no answer from the PACS"
    names = {
        0x0000: "stored",
        0x0122: "SOP class not supported by the PACS",
        0x0124: "not authorised",
        0xA700: "PACS out of resources",
        0xA900: "data set does not match SOP class",
        0xB000: "stored with coercion of data elements",
        0xB007: "stored; data set does not match SOP class",
        0xB006: "stored; elements discarded",
    }
    if status in names:
        return names[status]
    if 0xC000 <= status <= 0xCFFF:
        return f"PACS cannot understand the instance (0x{status:04X})"
    return f"status 0x{status:04X}"


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
