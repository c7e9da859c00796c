"""Use case: before a send, ask the destination what it already holds of the chosen studies.

One C-FIND per study (by Study Instance UID, and by MRN + date + modality for
copies sent before under other UIDs); the clerk is asked when anything is
there. The answer is handed to :func:`kiosk.app.import_disc.import_disc`, so
the import does not ask the PACS the same question again. The outbox's
state for the destination comes with it (what is still waiting, whether it
is known to be down).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kiosk.config import Config
from kiosk.errors import KioskError
from kiosk.media.model import StudySummary
from kiosk.send.duplicates import DuplicateCheck, StudyOnPacs, check
from kiosk.store import db, health, outbox
from kiosk.store.health import DestinationDown

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Preflight:
    """What the destination holds of each chosen study, and its outbox."""

    destination: str
    #: One per chosen study, in order; ``None`` when the destination could not be asked.
    checks: tuple[DuplicateCheck | None, ...]
    #: Instances still waiting in the outbox for this destination.
    waiting: int = 0
    #: The destination's outage record, when it is known to be down.
    down: DestinationDown | None = None
    #: Study UID -> what the destination holds of it (``None``: nothing), as asked.
    present: Mapping[str, StudyOnPacs | None] = field(default_factory=dict)

    @property
    def anything(self) -> bool:
        """True when the destination holds something of the studies: ask the clerk."""
        return any(c is not None and c.anything for c in self.checks)


def preflight(
    config: Config, destination: str, studies: Sequence[StudySummary], mrn: str
) -> Preflight:
    """Ask ``destination`` what it holds of ``studies`` (to be filed under ``mrn``).

    A destination that cannot be asked (down, or no C-FIND) gives ``None``
    for that study: sending will tell.

    Raises
    ------
    UsageError
        If the destination is not configured.
    """
    dest = config.destination(destination)
    checks: list[DuplicateCheck | None] = []
    present: dict[str, StudyOnPacs | None] = {}
    for study in studies:
        try:
            found = check(
                dest,
                config.ae_title,
                study_instance_uid=study.study_instance_uid,
                mrn=mrn,
                study_date=study.study_date,
                modalities=study.modalities,
            )
        except KioskError as exc:  # no C-FIND there, or down: sending will tell
            log.info("duplicates check not possible: %s", exc)
            checks.append(None)
            continue
        checks.append(found)
        present[study.study_instance_uid] = found.present
    with db.opened(config.database_path) as conn:
        waiting = outbox.remaining(conn, destination)
        down = health.get(conn, destination)
    return Preflight(destination, tuple(checks), waiting, down, present)
