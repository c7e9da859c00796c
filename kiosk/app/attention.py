"""Which studies need a person, by kind: held, refused, quarantined, failed, incomplete.

These are values (no I/O): :func:`kiosk.app.deliver_due.outbox_state` and
:mod:`kiosk.app.back_office` fill them from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.store.studies import StudyRecord, StudyState

#: The kinds of study that need a person, in the order the windows list them.
HELD = "held"
REFUSED = "refused"
QUARANTINED = "quarantined"
FAILED = "failed"
INCOMPLETE = "incomplete"
DISCARDED = "discarded"

#: The study states whose studies may need a person (see :func:`kind_of`).
WATCHED_STATES = (
    StudyState.UNSCHEDULED,
    StudyState.QUARANTINED,
    StudyState.FAILED,
    StudyState.FOUND,
)


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


def _studies(n: int) -> str:
    return f"{n} stud{'y' if n == 1 else 'ies'}"


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


def sort_out(records: list[StudyRecord]) -> Attention:
    """Sort studies by the kind of attention they need (those that need none are left out)."""
    found = Attention()
    for record in records:
        kind = kind_of(record.state, record.hold_reason)
        if kind and kind != DISCARDED:
            found.studies.setdefault(kind, []).append(record)
    return found
