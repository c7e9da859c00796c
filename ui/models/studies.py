"""What a study's state means to the people at the desk and in the back office.

The services make a study's states real (``found → copied → matched |
unscheduled → coerced → queued → sent → committed``, plus ``failed``,
``quarantined`` and ``discarded``); this module says them in words, and
which studies need a person is :mod:`kiosk.app.attention`'s. It does no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from kiosk.app.attention import FAILED, HELD, INCOMPLETE, QUARANTINED, REFUSED, kind_of
from kiosk.app.values import ImportOutcome, StudyRecord, StudyState

#: The tags, as the dialog and the study lists name them.
TAG_LABELS: dict[str, str] = {
    "": "No tag",
    "reference": "Reference",
    "second-read": "Second read",
    "archive": "Archive",
}


def tag_text(tag: str, requested_by: str = "") -> str:
    """A tag as the study lists show it: 'Second read (Dr. House)'."""
    if not tag:
        return ""
    label = TAG_LABELS.get(tag, tag)
    return f"{label} ({requested_by})" if requested_by else label


def state_text(record: StudyRecord) -> str:
    """A study's state, with what it means when a person must act."""
    kind = kind_of(record.state, record.hold_reason)
    extra = {
        HELD: "held",
        REFUSED: "refused",
        INCOMPLETE: "copy not finished",
    }.get(kind)
    return f"{record.state.value} ({extra})" if extra else record.state.value


def outcome_status(o: ImportOutcome) -> str:
    """The front desk's status column for a study just imported."""
    kind = kind_of(o.state, o.hold_reason)
    if kind == HELD:
        return "held for the back office: nothing sent"
    if kind == REFUSED:
        return "refused: nothing sent"
    if kind in (QUARANTINED, FAILED):
        return f"{kind} ({o.sent}/{o.queued} sent)"
    if o.state in (StudyState.SENT, StudyState.COMMITTED) and o.queued and o.sent == o.queued:
        if o.unread_on_medium or o.medium_changed or o.clashing_on_medium:  # the disc has more
            return f"sent to {o.destination}, but the disc is not all read: keep it"
        return f"sent to {o.destination}"
    if o.state == StudyState.QUEUED:
        return f"queued for {o.destination} ({o.sent}/{o.queued} sent)"
    return f"{o.state} ({o.sent}/{o.queued} sent)"


def all_sent(outcomes: Sequence[ImportOutcome]) -> bool:
    """True only when every instance of every study was delivered."""
    return bool(outcomes) and all(
        o.state in (StudyState.SENT, StudyState.COMMITTED)
        and o.queued > 0
        and o.sent == o.queued
        and not o.medium_changed
        and not o.unread_on_medium
        and not o.clashing_on_medium
        for o in outcomes
    )


def _studies(n: int) -> str:
    return f"{n} stud{'y' if n == 1 else 'ies'}"


def _reasons(outcomes: Sequence[ImportOutcome]) -> str:
    return "; ".join(dict.fromkeys(o.hold_reason for o in outcomes if o.hold_reason))


def outcome_summary(outcomes: Sequence[ImportOutcome], label: str) -> str:
    """What an import did, in words a clerk can act on; "Done" only when all was sent."""
    if all_sent(outcomes):
        sent = sum(o.sent for o in outcomes)
        return f"Done: {sent} images sent to {label}. You can return the disc."
    held = [o for o in outcomes if kind_of(o.state, o.hold_reason) == HELD]
    refused = [o for o in outcomes if kind_of(o.state, o.hold_reason) == REFUSED]
    rest = [o for o in outcomes if o not in held and o not in refused]
    parts: list[str] = []
    if held:
        reasons = _reasons(held) or "no order attached yet"
        if len(held) == len(outcomes):
            parts.append(f"Held for the back office: {reasons}. Nothing was sent.")
        else:
            parts.append(
                f"{_studies(len(held))} held for the back office: {reasons}. "
                "Nothing of them was sent."
            )
    if refused:
        prefix = "Refused" if len(refused) == len(outcomes) else f"{_studies(len(refused))} refused"
        parts.append(f"{prefix}: {_reasons(refused)}.")
    if rest:
        sent = sum(o.sent for o in rest)
        total = sum(o.queued for o in rest)
        bad = sum(o.failed for o in rest)
        pending = total - sent - bad
        if sent == total:
            parts.append(f"{sent} images sent to {label}.")
        else:
            text = f"{sent} of {total} images sent to {label}"
            if bad:
                text += f"; {bad} failed or quarantined (the back office sees why)"
            if pending:
                text += "; the rest stay queued and are sent automatically"
            parts.append(text + ".")
    if unread := max((o.unread_on_medium for o in outcomes), default=0):
        files, images = ("1 file", "an image") if unread == 1 else (f"{unread} files", "images")
        parts.append(
            f"{files} of the disc could not be read and may be {images}: keep the disc and "
            "tell the back office (what was read was sent)."
        )
    elif clashing := sum(o.clashing_on_medium for o in outcomes):
        parts.append(
            f"{clashing} image{'s share their' if clashing != 1 else ' shares its'} UID with "
            "another image of the study on the disc and could not be sent: keep the disc and "
            "tell the back office (the rest was sent)."
        )
    elif any(o.medium_changed for o in outcomes):
        parts.append(
            "Files were added to the disc's folder while it was imported: import it again "
            "once the copy into the folder is complete (what was sent stays)."
        )
    elif refused:
        parts.append("Tell the back office; the copy is kept.")
    else:
        parts.append("The copy is kept; you can return the disc.")
    return " ".join(parts)
