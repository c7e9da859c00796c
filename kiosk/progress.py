"""Progress of a use case, as one typed event stream that the CLI and the window read.

A use case (import a disc, deliver the outbox) reports what it is doing as
:class:`Progress` events (counts, bytes, rate and time left, computed here
once, by :class:`Meter`) and :class:`Milestone` events (something the user
must be told at once, such as "you can return the disc"). Listeners only
show them: none of them computes a rate of its own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    """What a :class:`Progress` event counts."""

    COPY = "copy"  #: files copied from the medium into the spool, verified
    SEND = "send"  #: instances delivered to a destination


class MilestoneKind(StrEnum):
    """What a :class:`Milestone` announces."""

    #: Every chosen file is in the spool and verified: the disc can go back to the patient.
    DISC_RELEASED = "disc-released"
    #: A study is coerced and queued for its destination.
    STUDY_QUEUED = "study-queued"


@dataclass(frozen=True)
class Progress:
    """How far one phase is, for one study or for a whole run (``study_id`` ``None``)."""

    phase: Phase
    done: int
    total: int
    bytes_done: int = 0
    bytes_total: int = 0
    #: Items per second in this run (what was done before the run does not count).
    rate: float = 0.0
    bytes_per_second: float = 0.0
    #: Estimated seconds until the phase ends; ``None`` until it can be told.
    seconds_left: float | None = None
    study_id: int | None = None
    destination: str = ""

    @property
    def finished(self) -> bool:
        """True when every item of the phase is done."""
        return self.done >= self.total


@dataclass(frozen=True)
class Milestone:
    """A step the user is told of at once."""

    kind: MilestoneKind
    study_id: int | None = None


Event = Progress | Milestone
Listener = Callable[[Event], None]


class Meter:
    """Counts one phase and turns the counts into :class:`Progress` events.

    Parameters
    ----------
    phase, total, bytes_total
        What is counted, and how much there is in all.
    done_before, bytes_before
        What an earlier run did already: counted as done, not in the rate.
    """

    def __init__(
        self,
        phase: Phase,
        total: int,
        bytes_total: int = 0,
        *,
        study_id: int | None = None,
        destination: str = "",
        done_before: int = 0,
        bytes_before: int = 0,
    ) -> None:
        self.phase = phase
        self.total = total
        self.bytes_total = bytes_total
        self.study_id = study_id
        self.destination = destination
        self.done = self.done_before = done_before
        self.bytes = self.bytes_before = bytes_before
        self.started = time.monotonic()

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        """Count ``items`` more done and ``nbytes`` more moved."""
        self.done += items
        self.bytes += nbytes

    def event(self) -> Progress:
        """The phase's progress now: rate by items and bytes, time left by bytes if known."""
        elapsed = time.monotonic() - self.started
        rate = (self.done - self.done_before) / elapsed if elapsed > 0 else 0.0
        per_second = (self.bytes - self.bytes_before) / elapsed if elapsed > 0 else 0.0
        left: float | None
        if self.done >= self.total:
            left = 0.0
        elif self.bytes_total and per_second > 0:
            left = max(self.bytes_total - self.bytes, 0) / per_second
        else:
            left = (self.total - self.done) / rate if rate > 0 else None
        return Progress(
            phase=self.phase,
            done=self.done,
            total=self.total,
            bytes_done=self.bytes,
            bytes_total=self.bytes_total,
            rate=rate,
            bytes_per_second=per_second,
            seconds_left=left,
            study_id=self.study_id,
            destination=self.destination,
        )
