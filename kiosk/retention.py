"""Free the spool: only studies the destination has committed may leave it.

The untouched copy of a disc stays in the spool until the destination has
confirmed, by storage commitment, that it holds every instance, and the
retention period, counted from that confirmation, has passed; nothing else is
ever removed. Each removal is an audit record (``spool-clean``).

A removal is atomic as the store sees it; a kill at any instant leaves
either the whole copy (the study unchanged) or a recorded clean:

1. in one immediate transaction (the database's write lock, so that no
   recovery sweep looks meanwhile), the study's folder is renamed to a trash
   name in the spool root (``.removing-study-NNNNNN``: one rename, the same
   file system), the spool root is flushed (``fsync``), and the clean is
   recorded (the study's ``spool_dir`` emptied, the audit record written);
2. after the commit, the trash folder is removed.

:func:`finish_interrupted_cleans` (run by the recovery sweep and by every
``clean-spool``) removes a trash folder whose clean was recorded and renames
back one whose clean was not (the transaction did not commit).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kiosk import faults, lifecycle
from kiosk.config import Config
from kiosk.errors import StoreError, UsageError
from kiosk.lifecycle import Actor
from kiosk.paths import fsync_dir
from kiosk.store import commitments, studies
from kiosk.store.db import transaction
from kiosk.store.studies import StudyState

log = logging.getLogger(__name__)

#: The longest retention, in days (as ``[spool] retention_days`` allows).
MAX_DAYS = 3650
#: The name a study's spool folder has while it is being removed (its internal id after it).
TRASH_PREFIX = ".removing-study-"
_TRASH = re.compile(re.escape(TRASH_PREFIX) + r"([0-9]+)")  # ASCII digits only (not ١)


def trash_folder(spool_root: Path, study_id: int) -> Path:
    """The name the spool folder of study ``study_id`` has while it is being removed."""
    return spool_root / f"{TRASH_PREFIX}{study_id:06d}"


def clean_spool(
    conn: sqlite3.Connection,
    config: Config,
    *,
    days: int | None = None,
    user: str = "",
    now: datetime | None = None,
) -> list[int]:
    """Remove the spool folders of committed studies older than the retention period.

    A clean that a kill interrupted is finished (or undone) first.

    Parameters
    ----------
    days
        Retention in days, 0 to :data:`MAX_DAYS`; ``None`` takes ``[spool] retention_days``.

    Returns
    -------
    list of int
        The internal ids of the studies whose spool folder was removed.

    Raises
    ------
    UsageError
        If ``days`` is negative or over :data:`MAX_DAYS`.
    """
    if days is not None and not 0 <= days <= MAX_DAYS:
        raise UsageError(
            f"--days {days} is not a retention: give a whole number of days from 0 to {MAX_DAYS}"
        )
    keep = config.retention_days if days is None else days
    cutoff = ((now or datetime.now(UTC)) - timedelta(days=keep)).isoformat(timespec="seconds")
    spool_root = config.spool_dir.resolve()
    finish_interrupted_cleans(conn, config)
    actor = Actor(user, config.station)
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
        trash = trash_folder(spool_root, record.id)
        if trash.exists() or trash.is_symlink():  # not ours (finish_interrupted_cleans ran)
            log.warning("study %d: %s is in the way; its spool copy stays", record.id, trash)
            continue
        with transaction(conn):
            now_record = studies.get_study(conn, record.id)
            if now_record.state is not StudyState.COMMITTED or now_record.spool_dir != (
                record.spool_dir
            ):
                continue  # changed meanwhile (another clean, a reconciliation)
            faults.point("clean-spool.begun")
            if folder.exists():
                os.rename(folder, trash)  # atomic: the whole copy, or none of it, moves
                fsync_dir(spool_root)
                if folder.parent != spool_root:
                    fsync_dir(folder.parent)
            faults.point("clean-spool.renamed")
            lifecycle.record_spool_cleaned(conn, record.id, keep, actor)
        faults.point("clean-spool.recorded")
        _remove(trash)
        removed.append(record.id)
    log.info("spool clean: %d studies removed", len(removed))
    return removed


def _ours(trash: Path) -> bool:
    """Whether ``trash`` is a real folder, as a clean makes it: a symlink or a file of that
    name was put there by someone else, and following it could remove what is not the
    kiosk's (another study's copy, a folder outside the spool); it is left alone, said once."""
    if trash.is_symlink() or not trash.is_dir():
        log.warning("%s is not a folder a spool clean made (a link or a file); left alone", trash)
        return False
    return True


def _remove(trash: Path) -> None:
    """Remove a trash folder (a clean recorded); say so when some of it stays."""
    if not trash.exists() and not trash.is_symlink():
        return
    if not _ours(trash):
        return
    for root, _dirs, files in os.walk(trash):
        for name in files:
            faults.point("clean-spool.removing")  # the crash tests: killed part way
            with contextlib.suppress(OSError):  # what stays is said below
                Path(root, name).unlink(missing_ok=True)
    shutil.rmtree(trash, ignore_errors=True)
    if trash.exists():
        log.warning(
            "%s could not be removed whole; the next 'kiosk clean-spool' or 'kiosk send' "
            "tries again",
            trash,
        )


def finish_interrupted_cleans(conn: sqlite3.Connection, config: Config) -> list[int]:
    """Finish or undo the spool cleans a kill interrupted; return the studies whose copy is back.

    A trash folder (:data:`TRASH_PREFIX`) whose study's clean was recorded
    (its ``spool_dir`` empty) is removed; one whose clean was not recorded is
    renamed back to the study's spool folder, unless that folder exists again
    (the disc was imported again meanwhile: the trash is an older copy and is
    removed). A trash folder of no known study is left alone, with a warning.
    """
    spool_root = config.spool_dir.resolve()
    try:
        found = sorted(p for p in spool_root.iterdir() if _TRASH.fullmatch(p.name))
    except OSError:
        return []  # no spool yet
    restored: list[int] = []
    for trash in found:
        study_id = int(trash.name.removeprefix(TRASH_PREFIX))
        if not _ours(trash):
            continue
        with transaction(conn):  # the write lock: no clean is between its rename and its record
            if not trash.exists():
                continue  # another sweep finished it
            try:
                record = studies.get_study(conn, study_id)
            except StoreError:
                log.warning("%s belongs to no study of the kiosk; left alone", trash)
                continue
            folder = Path(record.spool_dir).resolve() if record.spool_dir else None
            if folder is not None and not folder.exists():
                os.rename(trash, folder)  # the clean was not recorded: the copy goes back
                fsync_dir(spool_root)
                if folder.parent != spool_root:
                    fsync_dir(folder.parent)
                restored.append(study_id)
                log.warning(
                    "study %d: a spool clean was stopped before it was recorded; "
                    "its spool copy is back whole",
                    study_id,
                )
                continue
        _remove(trash)  # the clean was recorded (or a newer copy replaced it)
        log.info("study %d: an interrupted spool clean was finished", study_id)
    return restored
