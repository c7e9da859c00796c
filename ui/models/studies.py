"""What a study's state means to the people at the desk and in the back office.

The services make a study's states real (``found → copied → matched |
unscheduled → coerced → queued → sent → committed``, plus ``failed``,
``quarantined`` and ``discarded``); this module says them in words, and
tells which studies need a person. It reads the store only through
:mod:`kiosk` functions, so the windows stay thin.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field

from kiosk.importer import ImportOutcome
from kiosk.store.studies import StudyRecord, StudyState, find_studies

#: The kinds of study that need a person, in the order the windows list them.
HELD = "held"
REFUSED = "refused"
QUARANTINED = "quarantined"
FAILED = "failed"
INCOMPLETE = "incomplete"
DISCARDED = "discarded"


def kind_of(state: str, hold_reason: str) -> str:
    """Which kind of attention a study in ``state`` needs ('' when none)."""
    if state == StudyState.UNSCHEDULED:
        return HELD  # its rows wait for the back office: nothing of it is sent
    if state == StudyState.QUARANTINED:
        return REFUSED if hold_reason else QUARANTINED
    if state == StudyState.FAILED:
        return FAILED
    if state == StudyState.FOUND:
        return INCOMPLETE
    if state == StudyState.DISCARDED:
        return DISCARDED
    return ""


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
        return f"sent to {o.destination}"
    if o.state == StudyState.QUEUED:
        return f"queued for {o.destination} ({o.sent}/{o.queued} sent)"
    return f"{o.state} ({o.sent}/{o.queued} sent)"


def all_sent(outcomes: Sequence[ImportOutcome]) -> bool:
    """True only when every instance of every study was delivered."""
    return bool(outcomes) and all(
        o.state in (StudyState.SENT, StudyState.COMMITTED) and o.queued > 0 and o.sent == o.queued
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
    if refused:
        parts.append("Tell the back office; the copy is kept.")
    else:
        parts.append("The copy is kept; you can return the disc.")
    return " ".join(parts)


@dataclass
class Attention:
    """The studies of the store that are not delivered and need a person, by kind."""

    studies: dict[str, list[StudyRecord]] = field(default_factory=dict)

    def of(self, kind: str) -> list[StudyRecord]:
        """The studies of one kind."""
        return self.studies.get(kind, [])

    def ids(self, kind: str) -> set[int]:
        """The internal ids of the studies of one kind."""
        return {r.id for r in self.of(kind)}

    def without(self, kind: str, study_uids: set[str]) -> Attention:
        """The same, less the studies of one kind with these UIDs (e.g. being copied now)."""
        kept = dict(self.studies)
        kept[kind] = [r for r in self.of(kind) if r.study_instance_uid not in study_uids]
        return Attention(kept)

    def __bool__(self) -> bool:
        return any(self.studies.values())

    def words(self) -> list[str]:
        """One phrase per kind, e.g. '1 study held for the back office'."""
        phrases = {
            HELD: "held for the back office",
            REFUSED: "refused (the PACS holds the study under another patient)",
            QUARANTINED: "with quarantined images",
            FAILED: "failed",
            INCOMPLETE: "whose copy from the disc did not finish",
        }
        return [
            f"{_studies(len(self.of(kind)))} {text}"
            for kind, text in phrases.items()
            if self.of(kind)
        ]


def attention(conn: sqlite3.Connection) -> Attention:
    """Read which studies are held, refused, quarantined, failed or not copied completely."""
    found = Attention()
    for state in (
        StudyState.UNSCHEDULED,
        StudyState.QUARANTINED,
        StudyState.FAILED,
        StudyState.FOUND,
    ):
        for record in find_studies(conn, state=state.value):
            found.studies.setdefault(kind_of(record.state, record.hold_reason), []).append(record)
    return found
