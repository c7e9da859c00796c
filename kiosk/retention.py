"""Free the spool: only studies the destination has committed may leave it.

The untouched copy of a disc stays in the spool until the destination has
confirmed, by storage commitment, that it holds every instance, and the
retention period, counted from that confirmation, has passed; nothing else is
ever removed. Each removal is an audit record (``spool-clean``).
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk import lifecycle
from kiosk.config import Config
from kiosk.lifecycle import Actor
from kiosk.store import commitments, studies
from kiosk.store.studies import StudyState

log = logging.getLogger(__name__)


def clean_spool(
    conn: sqlite3.Connection,
    config: Config,
    *,
    days: int | None = None,
    user: str = "",
    now: datetime | None = None,
) -> list[int]:
    """Remove the spool folders of committed studies older than the retention period.

    Parameters
    ----------
    days
        Retention in days; ``None`` takes ``[spool] retention_days``.

    Returns
    -------
    list of int
        The internal ids of the studies whose spool folder was removed.
    """
    keep = config.retention_days if days is None else days
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=keep)).isoformat(timespec="seconds")
    spool_root = config.spool_dir.resolve()
    removed = []
    for record in studies.find_studies(conn, state=StudyState.COMMITTED.value):
        # Counted from the commitment (the study's last change when none is on record).
        since = commitments.committed_at(conn, record.id) or record.updated_at
        if not record.spool_dir or since > cutoff:
            continue
        folder = Path(record.spool_dir).resolve()
        if not folder.is_relative_to(spool_root) or folder == spool_root:
            log.warning("study %d: spool folder outside the spool, left alone", record.id)
            continue
        shutil.rmtree(folder, ignore_errors=True)
        lifecycle.record_spool_cleaned(conn, record.id, keep, Actor(user, config.station))
        removed.append(record.id)
    log.info("spool clean: %d studies removed", len(removed))
    return removed
