"""The recovery sweep: finish what a crash interrupted, name what it cannot finish.

Run by ``kiosk send`` and at app start, before anything is delivered. A
spool clean a kill interrupted is finished or undone
(:func:`kiosk.retention.finish_interrupted_cleans`). A study whose copy was
complete (every file in the spool, each matching its checksum) is coerced
and queued from the spool alone; a study whose copy was not complete is
named, with what to do: insert the disc again. Rows a dead sender had
claimed are taken over by the next claim (:mod:`kiosk.store.outbox`).
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from kiosk import lifecycle
from kiosk.config import Config
from kiosk.errors import SpoolError
from kiosk.lifecycle import Actor
from kiosk.media.extractions import sweep_stale_extractions
from kiosk.media.spool import study_folder
from kiosk.retention import finish_interrupted_cleans
from kiosk.store import outbox, studies
from kiosk.store.studies import StudyState

log = logging.getLogger(__name__)

_UNFINISHED = (StudyState.FOUND, StudyState.MATCHED, StudyState.UNSCHEDULED, StudyState.COERCED)


@dataclass(frozen=True)
class IncompleteStudy:
    """A study whose copy from the disc did not finish."""

    study_id: int
    study_instance_uid: str
    copied: int
    expected: int
    source: str

    @property
    def message(self) -> str:
        """What happened and what to do, in one line."""
        return (
            f"study {self.study_instance_uid} (internal id {self.study_id}): the copy from "
            f"the disc stopped after {self.copied} of {self.expected} files; insert the disc "
            "again and import the study"
        )

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form used by ``kiosk send``."""
        return {
            "id": self.study_id,
            "study_instance_uid": self.study_instance_uid,
            "copied": self.copied,
            "expected": self.expected,
            "message": self.message,
        }


@dataclass
class Recovery:
    """What a sweep finished, and what it could not."""

    finished: list[int] = field(default_factory=list)
    incomplete: list[IncompleteStudy] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def recover(conn: sqlite3.Connection, config: Config, actor: Actor) -> Recovery:
    """Finish interrupted imports and reconciliations from the spool; name incomplete copies."""
    result = Recovery()
    sweep_stale_extractions()  # patient files of a disc image whose import was killed
    finish_interrupted_cleans(conn, config)  # a spool clean killed part way
    released = outbox.release_orphaned_holds(conn)
    if released:
        log.warning(
            "recovery: %d rows held by a reconciliation or discard that was stopped are "
            "queued again",
            released,
        )
    candidates = [
        record for state in _UNFINISHED for record in studies.find_studies(conn, state=state.value)
    ]
    if candidates:
        from kiosk.importer import copied_whole, finish_import  # pydicom: only when needed
    for record in sorted(candidates, key=lambda r: r.id):
        if record.worker and not outbox.claimant_is_gone(record.worker, record.updated_at):
            continue  # a live process (the app, another kiosk command) is on it now
        if not lifecycle.take_over(conn, record):
            continue  # another sweep took it first
        try:
            if record.state is StudyState.FOUND:
                copied = sum(map(copied_whole, studies.instances_of(conn, record.id)))
                if copied < record.expected_instances or not record.expected_instances:
                    result.incomplete.append(
                        IncompleteStudy(
                            record.id,
                            record.study_instance_uid,
                            copied,
                            record.expected_instances,
                            record.source,
                        )
                    )
                    continue
                spool = str(study_folder(config.spool_dir, record.id))
                lifecycle.record_copied(
                    conn, record.id, spool_dir=spool, reused=copied, actor=actor
                )
            if finish_import(conn, config, record.id, actor):
                result.finished.append(record.id)
                log.info("recovery: study %d finished from the spool", record.id)
        except SpoolError as exc:
            result.errors.append(f"study {record.id}: {exc}")
            log.warning("recovery: study %d not finished: %s", record.id, exc)
        finally:
            lifecycle.let_go(conn, record.id)
    for record in studies.find_studies(conn, state=StudyState.QUEUED.value):
        # Delivered, but the process died before it moved the study on.
        if lifecycle.record_delivery(conn, record.id, actor) is not StudyState.QUEUED:
            result.finished.append(record.id)
    return result
