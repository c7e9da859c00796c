"""What a C-STORE outcome means for the outbox: stored, retry later, or quarantine.

Decided by status category (PS3.4 Annex B, PS3.7 Annex C), as pynetdicom's
``status.py`` groups them.
"""

from __future__ import annotations

from enum import StrEnum

MAX_ATTEMPTS = 10


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
