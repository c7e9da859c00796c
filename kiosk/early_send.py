"""Send what an import has copied while it copies the rest: the import's pipeline.

The copy says which instances are on disk and recorded (:meth:`EarlySender.recorded`),
the coercion thread which are coerced (:meth:`EarlySender.coerced`). The
sender's own thread queues those that are both
(:func:`kiosk.lifecycle.queue_while_copying`) and delivers them on its own
database connection, so that study 1 goes while study 2 is copied, and a
large study's first images while its last are. Nothing of a study that is
held, or that the destination holds under another patient, goes early
(:func:`kiosk.send.deliver.deliver` with ``while_copying``); a destination
that cannot be reached stops the early sending. Whatever was not sent early
is queued and sent when the import finishes the study, as before.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
from collections.abc import Iterable, Sequence

from kiosk import lifecycle
from kiosk.config import Config
from kiosk.errors import KioskError
from kiosk.lifecycle import CoercedInstance
from kiosk.send.deliver import deliver
from kiosk.store import db

log = logging.getLogger(__name__)

_STOP = -1


class EarlySender:
    """One import's early sending, on a thread of its own (see the module docstring)."""

    def __init__(self, config: Config, destination: str, user: str) -> None:
        self.config = config
        self.destination = destination
        self.user = user
        self._inbox: queue.SimpleQueue[
            tuple[int, list[int] | None, Sequence[CoercedInstance] | None]
        ] = queue.SimpleQueue()
        self._queued: dict[int, set[int]] = {}
        self._thread = threading.Thread(target=self._run, name="send-while-copying", daemon=True)
        self._thread.start()

    def recorded(self, study_id: int, instance_ids: Iterable[int]) -> None:
        """These copies are on disk and recorded (called by the copy)."""
        self._inbox.put((study_id, list(instance_ids), None))

    def coerced(self, study_id: int, instances: Sequence[CoercedInstance]) -> None:
        """These instances are coerced (called by the coercion thread)."""
        self._inbox.put((study_id, None, instances))

    def finish(self) -> dict[int, frozenset[int]]:
        """Stop once the delivery under way is done; return each study's instances queued early."""
        self._inbox.put((_STOP, None, None))
        self._thread.join()
        return {sid: frozenset(ids) for sid, ids in self._queued.items()}

    def _run(self) -> None:
        recorded: dict[int, set[int]] = {}
        ready: dict[int, dict[int, CoercedInstance]] = {}
        stopped: set[int] = set()
        try:
            with db.opened(self.config.database_path) as conn:
                while True:
                    done = self._take(recorded, ready)
                    for study_id, coerced in ready.items():
                        both = sorted(coerced.keys() & recorded.get(study_id, set()))
                        batch = [coerced.pop(i) for i in both]
                        if not batch or study_id in stopped:
                            continue
                        if not self._send(conn, study_id, batch):
                            stopped.add(study_id)
                    if done:
                        return
        except Exception:  # never the import's failure: what did not go early goes at the end
            log.warning("sending while copying stopped", exc_info=True)

    def _take(
        self, recorded: dict[int, set[int]], ready: dict[int, dict[int, CoercedInstance]]
    ) -> bool:
        """Wait for news, then take all there is; True when told to stop."""
        done = False
        item = self._inbox.get()
        while True:
            study_id, ids, instances = item
            if study_id == _STOP:
                done = True
            else:
                recorded.setdefault(study_id, set()).update(ids or ())
                ready.setdefault(study_id, {}).update((i.instance_id, i) for i in instances or ())
            try:
                item = self._inbox.get_nowait()
            except queue.Empty:
                return done

    def _send(self, conn: sqlite3.Connection, study_id: int, batch: list[CoercedInstance]) -> bool:
        """Queue and deliver ``batch``; False when the study's early sending must stop."""
        if not lifecycle.queue_while_copying(conn, study_id, batch):
            return False  # held, refused or given up meanwhile: the import decides
        self._queued.setdefault(study_id, set()).update(i.instance_id for i in batch)
        try:
            report = deliver(
                conn,
                self.config,
                destination=self.destination,
                study_id=study_id,
                user=self.user,
                while_copying=True,
            )
        except KioskError as exc:
            log.info("study %d: not sent while copying (%s)", study_id, exc)
            return False
        return not report.unreachable
