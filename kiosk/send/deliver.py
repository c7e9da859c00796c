"""Deliver what the outbox holds: claim, send over parallel associations, record, move studies on.

The database is touched by the calling thread only: worker threads (one
association each, ``associations`` per destination) take jobs from a queue in
chunks (a few dozen small files, or a few megabytes) and hand the results of a
chunk back at once, so that threads do not wake each other for every instance;
results are written in batches, one transaction each.

A destination that is down, or an association that drops, leaves the untried
instances queued (their attempt not counted) and the tried ones scheduled for
a retry with backoff (:mod:`kiosk.send.policy`); the destination itself is
recorded as down (:mod:`kiosk.store.health`), so that the automatic runs
(``due_only``) wait longer after each failed run, while a person's send tries
at once.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from kiosk import faults, lifecycle
from kiosk.config import Config, Destination
from kiosk.errors import AssociationRejected, PeerError, SafetyError
from kiosk.lifecycle import Actor
from kiosk.progress import Listener, Meter, Phase, Progress
from kiosk.send import policy
from kiosk.send.sender import ContextPlan, SendJob, SendResult, StoreConnection, plan_contexts
from kiosk.store import corrections as store_corrections
from kiosk.store import health, outbox, studies
from kiosk.store.outbox import OutboxItem, OutboxState
from kiosk.store.studies import StudyRecord

if TYPE_CHECKING:
    from kiosk.send.duplicates import Holder

log = logging.getLogger(__name__)

BATCH = 256  # rows claimed per transaction
CHUNK = 32  # instances handed to a worker at once ...
CHUNK_BYTES = 4 << 20  # ... or fewer, when they add up to this many bytes
LOG_SECONDS = 5.0  # a study's progress is logged this often (and when it is done)
HAND_BACK_SECONDS = 0.25  # a worker on a slow PACS reports before its chunk is done
FLUSH_EVERY = 256  # results written per transaction (at the latest every FLUSH_SECONDS)
FLUSH_SECONDS = 0.5


@dataclass
class DeliveryReport:
    """What one delivery run did."""

    sent: int = 0
    retry: int = 0
    quarantined: int = 0
    failed: int = 0
    bytes: int = 0
    seconds: float = 0.0
    unreachable: dict[str, str] = field(default_factory=dict)
    studies: set[int] = field(default_factory=set)
    #: Studies not sent because the destination holds their Study UID under another
    #: patient: internal id -> the message naming both MRNs.
    refused: dict[int, str] = field(default_factory=dict)

    @property
    def undelivered(self) -> int:
        """Instances that this run could not deliver."""
        return self.retry + self.quarantined + self.failed


_DONE = object()


@dataclass(frozen=True)
class _HandBack:
    """What a worker returns: results, keys of jobs it did not try, and why it stopped."""

    done: list[SendResult]
    untried: list[int]
    down: str = ""  # set when the worker's association is gone for good
    permanent: bool = False  # the destination rejected us for good: a person must act
    silent: bool = False  # the PACS takes data sets and answers none: down for every worker


class _Worker(threading.Thread):
    """One association: takes chunks of jobs, stores them, hands results back.

    Results go back once per chunk, or every ``HAND_BACK_SECONDS`` when the
    PACS is slow, so progress keeps moving. An association that drops is
    reopened once. A chunk ends early when the PACS asks us to wait (out of
    resources) or cannot be reached again; the jobs not tried are handed back
    as such, and so are the jobs "never sent" (the association failed before
    the first byte of their data set went out: their attempt does not count).
    Two never sent in a row end the worker, as a PACS that cannot be reached.
    """

    def __init__(
        self,
        destination: Destination,
        calling_ae: str,
        plan: ContextPlan,
        jobs: queue.Queue[object],
        results: queue.Queue[_HandBack],
        stop: threading.Event,
        engine: str = "fast",
    ) -> None:
        super().__init__(name=f"send-{destination.name}", daemon=True)
        self.engine = engine
        self.destination = destination
        self.calling_ae = calling_ae
        self.plan = plan
        self.jobs = jobs
        self.results = results
        self.stop = stop  # set when the run ends early (an error, Ctrl+C): finish no chunk

    def run(self) -> None:
        try:
            connection = self._open()
        except PeerError as exc:
            self._hand_back([], [], down=str(exc), permanent=_permanent(exc))
            return
        except Exception as exc:  # a bug or an OS error must not hang the run
            log.exception("association to %s failed", self.destination.name)
            self._hand_back([], [], down=f"association failed: {exc}")
            return
        chunk: list[SendJob] = []
        done: list[SendResult] = []  # results not handed back yet
        never: list[SendJob] = []  # jobs whose data set never went out: back, uncounted
        tried = 0
        try:
            while True:
                job = self.jobs.get()
                if job is _DONE:
                    return
                assert isinstance(job, list)
                chunk, done, tried = job, [], 0
                never_in_a_row = lost_in_a_row = 0
                last = time.monotonic()
                for n, item in enumerate(chunk):
                    if self.stop.is_set():
                        break
                    ahead = chunk[n + 1] if n + 1 < len(chunk) else None
                    result = connection.store(item, ahead)
                    tried += 1
                    if not result.sent and result.status is None and not result.local:
                        never.append(item)
                        never_in_a_row += 1
                        if never_in_a_row >= 2:  # a PACS that drops us before any data
                            self._hand_back(done, never + chunk[tried:], down=result.note)
                            never = []
                            return
                    else:
                        done.append(result)
                        never_in_a_row = 0
                        lost = result.status is None and not result.local
                        lost_in_a_row = lost_in_a_row + 1 if lost else 0
                        if lost_in_a_row >= 2:  # a PACS that takes data sets, answers none
                            self._hand_back(
                                done,
                                never + chunk[tried:],
                                down=f"no answer to two C-STOREs in a row ({result.note})",
                                silent=True,
                            )
                            never = []
                            return
                    if (
                        not result.local
                        and result.status is not None
                        and policy.classify(result.status) is policy.Outcome.RETRY
                    ):
                        break  # the PACS asked us to wait: the rest of the chunk stays untried
                    if not connection.is_open:
                        connection.close()
                        try:  # one reopen: a PACS that dropped us may take us back at once
                            connection = self._open()
                        except PeerError as exc:
                            self._hand_back(done, never + chunk[tried:], down=str(exc),
                                            permanent=_permanent(exc))  # fmt: skip
                            never = []
                            return
                    if time.monotonic() - last >= HAND_BACK_SECONDS:  # a slow PACS
                        self._hand_back(done, never)
                        done, never, last = [], [], time.monotonic()
                self._hand_back(done, never + chunk[tried:])
                chunk, done, never, tried = [], [], [], 0
        except Exception as exc:
            log.exception("sending to %s failed", self.destination.name)
            self._hand_back(done, never + chunk[tried:], down=f"sending failed: {exc}")
        finally:
            connection.close()

    def _open(self) -> StoreConnection:
        return StoreConnection(self.destination, self.calling_ae, self.plan, self.engine)

    def _hand_back(
        self,
        done: list[SendResult],
        untried: list[SendJob],
        down: str = "",
        permanent: bool = False,
        *,
        silent: bool = False,
    ) -> None:
        """Return results, the jobs this worker will not try, and why it stops (if it does).

        One message, so that the caller never sees the results without the reason.
        """
        self.results.put(_HandBack(done, [job.key for job in untried], down, permanent, silent))


def _permanent(exc: PeerError) -> bool:
    """Whether an association error needs a person (a permanent A-ASSOCIATE-RJ)."""
    return isinstance(exc, AssociationRejected) and exc.permanent


class _Run:
    """Delivery to one destination: claims, workers, batched results."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        config: Config,
        destination: Destination,
        report: DeliveryReport,
        *,
        retry_failed: bool,
        study_id: int | None,
        due_only: bool,
        on_progress: Callable[[int, int], None] | None,
        on_event: Listener | None,
    ) -> None:
        self.conn = conn
        self.config = config
        self.dest = destination
        self.report = report
        self.retry_failed = retry_failed
        self.study_id = study_id
        self.due_only = due_only
        self.on_progress = on_progress
        self.on_event = on_event
        self.in_flight: dict[int, OutboxItem] = {}
        self.pending: list[outbox.Outcome] = []
        self.meters: dict[int, Meter] = {}
        self.tried = 0
        self.last_flush = time.monotonic()
        self.stop_claiming = False
        self.busy = False
        self.down = ""  # why every association failed, if they all did
        self.down_permanent = False  # ... and whether that was a permanent rejection
        self.logged: dict[int, tuple[int, float]] = {}  # study -> (done, when) last logged
        self.quiet = False  # stopping on an error: record and release, call no callback

    def run(self, plan: ContextPlan) -> bool:
        """Deliver the rows of the planned SOP classes; return whether anything was claimed."""
        jobs: queue.Queue[object] = queue.Queue()
        results: queue.Queue[_HandBack] = queue.Queue()
        stop = threading.Event()
        workers = [
            _Worker(
                self.dest, self.config.ae_title, plan, jobs, results, stop, self.config.send_engine
            )
            for _ in range(max(1, self.dest.associations))
        ]
        for w in workers:
            w.start()
        alive = len(workers)
        claimed_any = False
        down = ""
        permanent = silent = False
        try:
            while True:
                if not self.stop_claiming and alive and len(self.in_flight) < BATCH:
                    items = outbox.claim(
                        self.conn,
                        destination=self.dest.name,
                        limit=BATCH,
                        retry_failed=self.retry_failed,
                        study_id=self.study_id,
                        due_only=self.due_only,
                        sop_classes=plan.sop_classes,
                    )
                    if not items:
                        self.stop_claiming = True
                    for item in items:
                        claimed_any = True
                        self.in_flight[item.id] = item
                        self._track(item)
                    for chunk in _chunks(items):
                        jobs.put(chunk)
                if not self.in_flight and (self.stop_claiming or not alive):
                    break
                if not alive:
                    # Every association is gone: what is still queued was never tried.
                    self._give_back(self._drain(jobs))
                    break
                try:
                    back = results.get(timeout=FLUSH_SECONDS)
                except queue.Empty:
                    self._flush(force=True)
                    continue
                self._take(back)
                if back.down:
                    alive -= 1
                    down = back.down
                    permanent = back.permanent
                if back.silent:  # the PACS answers no one: send it nothing more now
                    silent = True
                    self.stop_claiming = True
                    self._give_back(self._drain(jobs))
                if self.busy:  # the PACS asked us to wait: do not send it the rest now
                    self._give_back(self._drain(jobs))
                self._flush()
        except BaseException:
            self.quiet = True  # a callback that raised must not stop the clean-up below
            raise
        finally:
            stop.set()  # on an error, a worker ends after the instance on the wire
            self._drain(jobs)
            for _ in workers:
                jobs.put(_DONE)
            for w in workers:
                w.join(timeout=120)
            while not results.empty():  # results that came in while stopping
                self._take(results.get_nowait())
            self._flush(force=True)
            self._give_back(list(self.in_flight))  # never tried: back in the queue, uncounted
        if down and (alive == 0 or silent):
            self.down = down
            self.down_permanent = permanent
            self.report.unreachable[self.dest.name] = down
            log.warning("destination %s unreachable: %s", self.dest.name, down)
        return claimed_any

    def _drain(self, jobs: queue.Queue[object]) -> list[int]:
        keys: list[int] = []
        while True:
            try:
                chunk = jobs.get_nowait()
            except queue.Empty:
                return keys
            if isinstance(chunk, list):
                keys += [job.key for job in chunk]

    def _take(self, back: _HandBack) -> None:
        """Record a worker's results and queue again the jobs it did not try."""
        for result in back.done:
            self._record(result)
        self._give_back(back.untried)
        if self.on_progress is not None and back.done and not self.quiet:
            self.on_progress(self.report.sent, self.tried)

    def _give_back(self, untried: list[int]) -> None:
        """Jobs a worker handed back untried: queued again, their attempt not counted."""
        items = [item for item in (self.in_flight.pop(key, None) for key in untried) if item]
        if not items:
            return
        outbox.release(self.conn, [item.id for item in items])
        for item in items:
            self.report.studies.add(item.study_id)
            self.report.retry += 1

    def _track(self, item: OutboxItem) -> None:
        if item.study_id not in self.meters:
            totals = outbox.study_totals(self.conn, item.study_id, self.dest.name)
            self.meters[item.study_id] = Meter(
                Phase.SEND,
                totals.instances,
                totals.nbytes,
                study_id=item.study_id,
                destination=self.dest.name,
                done_before=totals.sent,
                bytes_before=totals.sent_bytes,
            )

    def _record(self, result: SendResult) -> None:
        item = self.in_flight.pop(result.key, None)
        if item is None:
            return
        self.tried += 1
        if result.local:  # the spool file, not the PACS: this instance only, at once
            decision = policy.Decision(OutboxState.QUARANTINED)
        else:
            decision = policy.decide(result.status, item.attempts)
        status = "" if result.status is None else f"0x{result.status:04X}"
        note = result.note or policy.describe(result.status)
        if result.comment:  # the PACS's own words (0000,0902), for the back office
            note = f"{note}; the PACS says: {result.comment}"
        self.report.studies.add(item.study_id)
        meter = self.meters[item.study_id]
        meter.advance(1)
        if decision.state is OutboxState.SENT:
            self.report.sent += 1
            self.report.bytes += item.size
            meter.advance(nbytes=item.size)
            if result.status:
                log.info("instance %s stored with warning %s: %s", item.sop_instance_uid,
                         status, note)  # fmt: skip
            else:
                note = ""
        elif decision.state is OutboxState.QUARANTINED:
            self.report.quarantined += 1
            log.warning("instance %s quarantined: %s", item.sop_instance_uid, note)
        elif decision.state is OutboxState.FAILED:
            self.report.failed += 1
            log.warning("instance %s failed after %d attempts: %s", item.sop_instance_uid,
                        item.attempts, note)  # fmt: skip
        else:
            self.report.retry += 1
            if result.status is not None:  # the PACS is up but cannot take more now
                self.stop_claiming = True
                self.busy = True
                self.report.unreachable.setdefault(
                    self.dest.name, "some instances must be retried later"
                )
        self.pending.append(
            outbox.Outcome(item.id, decision.state, status, note, decision.next_attempt_at)
        )

    def _flush(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.pending or (
            not force and len(self.pending) < FLUSH_EVERY and now - self.last_flush < FLUSH_SECONDS
        ):
            return
        outbox.finish_many(self.conn, self.pending)
        faults.point("send.recorded")
        self.pending = []
        self.last_flush = now
        for meter in self.meters.values():
            progress = meter.event()
            if self.on_event is not None and not self.quiet:
                self.on_event(progress)
            self._log_progress(progress, meter.started, meter.done_before, now)

    def _log_progress(self, progress: Progress, started: float, before: int, now: float) -> None:
        """Log a study's progress (``-v`` shows it): every LOG_SECONDS, and when it is done."""
        assert progress.study_id is not None
        done, at = self.logged.get(progress.study_id, (before, started))
        finished = progress.finished
        if progress.done == done or (not finished and now - at < LOG_SECONDS):
            return
        self.logged[progress.study_id] = (progress.done, now)
        left = progress.seconds_left
        log.info(
            "study %d to %s: %d/%d instances, %.1f/%.1f MB, %.1f MB/s%s",
            progress.study_id,
            progress.destination,
            progress.done,
            progress.total,
            progress.bytes_done / 1e6,
            progress.bytes_total / 1e6,
            progress.bytes_per_second / 1e6,
            "" if finished or left is None else f", about {left:.0f} s left",
        )


def _chunks(items: list[OutboxItem]) -> list[list[SendJob]]:
    """Cut claimed rows into worker chunks: at most CHUNK jobs or CHUNK_BYTES each."""
    chunks: list[list[SendJob]] = []
    chunk: list[SendJob] = []
    nbytes = 0
    for item in items:
        if chunk and (len(chunk) >= CHUNK or nbytes + item.size > CHUNK_BYTES):
            chunks.append(chunk)
            chunk, nbytes = [], 0
        chunk.append(
            SendJob(
                item.id,
                item.path,
                item.sop_instance_uid,
                item.sop_class_uid,
                item.transfer_syntax_uid,
                item.size,
                item.digest,
                item.header,
                item.header_digest,
                item.tail_at,
            )
        )
        nbytes += item.size
    if chunk:
        chunks.append(chunk)
    return chunks


def deliver(
    conn: sqlite3.Connection,
    config: Config,
    *,
    destination: str | None = None,
    retry_failed: bool = False,
    study_id: int | None = None,
    user: str = "",
    due_only: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    on_event: Listener | None = None,
    while_copying: bool = False,
) -> DeliveryReport:
    """Send queued instances until nothing deliverable is left, or a destination is down.

    Parameters
    ----------
    destination
        Only this destination's queue; ``None`` for all.
    retry_failed
        Also send instances that had failed for good.
    study_id
        Only this study's instances.
    due_only
        Leave instances whose retry time (backoff) has not come yet.
    on_progress
        Called with (instances sent so far, instances tried so far).
    on_event
        Called with each study's :class:`~kiosk.progress.Progress` (phase ``send``) as
        results are recorded.
    while_copying
        ``study_id``'s copy is still going on (the import's pipeline sends what
        is copied): a destination that holds its Study UID under another
        patient raises :class:`~kiosk.errors.SafetyError` before anything
        goes, and the study is left for the import to refuse once copied.
        Nothing else (expiry, rejection notes) is done.

    Raises
    ------
    SafetyError
        With ``while_copying``, as said above.
    """
    report = DeliveryReport()
    began = time.monotonic()
    if retry_failed:
        outbox.requeue_failed(conn, destination)
    if config.max_queue_hours and not while_copying:
        expired = outbox.expire(conn, timedelta(hours=config.max_queue_hours), destination)
        if expired:
            log.warning("%d instances queued too long moved to failed", expired)
            report.failed += expired
    names = [destination] if destination else _destinations_with_work(conn)
    for name in names:
        if name not in config.destinations:
            _fail_unknown(conn, name, report)
            continue
        dest = config.destinations[name]
        record = health.waiting(conn, name) if due_only else None
        if record is not None:
            report.unreachable[name] = (
                f"unreachable since {record.down_since} ({record.last_error}); "
                f"next try after {record.next_attempt_at}"
            )
            continue
        run = _Run(
            conn,
            config,
            dest,
            report,
            retry_failed=retry_failed,
            study_id=study_id,
            due_only=due_only,
            on_progress=on_progress,
            on_event=on_event,
        )
        if not while_copying:
            _send_rejection_notes(conn, config, dest, report, user)
        _check_identities(conn, config, dest, report, study_id, user, while_copying)
        tried: set[str] = set()
        while name not in report.unreachable:
            syntaxes = outbox.pending_syntaxes(
                conn, destination=name, retry_failed=retry_failed, study_id=study_id
            )
            for sop_class in tried:
                syntaxes.pop(sop_class, None)
            if not syntaxes:
                break
            plan = plan_contexts(syntaxes, dest.transfer_syntaxes)
            tried.update(plan.sop_classes)
            run.stop_claiming = False
            run.run(plan)
            _note_health(conn, name, run.down, permanent=run.down_permanent)
    report.seconds = time.monotonic() - began
    actor = Actor(user, config.station)
    for sid in sorted(report.studies):
        lifecycle.record_delivery(conn, sid, actor)
    return report


def _note_health(conn: sqlite3.Connection, name: str, down: str, permanent: bool = False) -> None:
    """Record a destination down (the next automatic try backs off) or up again.

    A permanent rejection (our AE title unknown, ...) needs a person: it is
    recorded as such (``kiosk queue`` shows it) and automatic runs wait the
    longest (:func:`kiosk.send.policy.destination_wait`); a transient one
    (busy) backs off as a PACS that is down.
    """
    if down:
        failures = health.failures(conn, name) + 1
        wait = policy.destination_wait(failures, permanent=permanent)
        if permanent:
            down = f"{policy.NEEDS_A_PERSON}: {down}"
        record = health.record_down(conn, name, down, wait)
        log.info("destination %s: %d failed runs in a row; next automatic try after %s",
                 name, record.failures, record.next_attempt_at)  # fmt: skip
    elif health.record_up(conn, name):
        log.info("destination %s reachable again", name)


def _check_identities(
    conn: sqlite3.Connection,
    config: Config,
    dest: Destination,
    report: DeliveryReport,
    study_id: int | None,
    user: str,
    while_copying: bool = False,
) -> None:
    """Before a study's first instance goes, ask the PACS who holds its Study UID.

    A PACS that holds the Study UID under another patient ID would file our
    images under that patient (or mix two patients in one study): the study
    is refused (:func:`kiosk.lifecycle.refuse`), nothing of it is sent, and
    both MRNs are named. A PACS that does not answer C-FIND cannot be asked
    (remembered for an hour, :func:`kiosk.store.health.record_no_queries`, so
    that each ``kiosk send`` does not load pynetdicom to learn it again); one
    that cannot be reached is found down by the send itself.
    """
    unstarted = outbox.unstarted_studies(conn, dest.name, study_id)
    if not unstarted or not health.answers_queries(conn, dest.name):
        return
    from kiosk.send.duplicates import (  # pynetdicom: only when there is a study to ask about
        IncompleteAnswer,
        study_holder_records,
    )

    for sid, study_uid, mrn in unstarted:
        cut_short: IncompleteAnswer | None = None
        try:
            holders = study_holder_records(dest, config.ae_title, study_uid)
        except IncompleteAnswer as exc:  # who it named before failing counts
            holders, cut_short = exc.holders, exc
        except PeerError as exc:
            log.warning("study %d: identity check at %s skipped: %s", sid, dest.name, exc)
            return  # the same PACS will not answer the next study either
        if holders is None:  # a store-only PACS: it cannot be asked (for a while)
            health.record_no_queries(conn, dest.name)
            log.warning(
                "%s does not answer study queries: studies go without the identity check "
                "(asked again in an hour)",
                dest.name,
            )
            return
        others = sorted({h.patient_id for h in holders if h.patient_id != mrn})
        unlike = not others and _held_as_another_person(
            studies.get_study(conn, sid), [h for h in holders if h.patient_id == mrn]
        )
        if not others and not unlike:
            if cut_short is not None:  # only our patient named, the rest unknown
                log.warning("study %d: identity check at %s skipped: %s", sid, dest.name, cut_short)
                return
            continue
        if while_copying:  # refused by the import, once the study is copied
            raise SafetyError(f"{dest.name} holds study {sid}'s Study UID under another patient")
        message = lifecycle.refuse(
            conn, sid, dest.label or dest.name, others, Actor(user, config.station)
        )
        report.refused[sid] = message
        log.info("study %d refused: %s holds its Study UID elsewhere", sid, dest.name)


def _held_as_another_person(record: StudyRecord, ours: Sequence[Holder]) -> bool:
    """Whether the PACS files the study under our MRN as another person than the study goes
    with (the order's identity, or the disc's where the order's is not used): another birth
    date (as far as both give it: 1945 is not 19700101), another sex (any value not ours),
    or another given name. Then it holds another person's
    study under that MRN, and our images would join it."""
    from reconcile.match import date_parts, score_names  # only when a PACS answered

    target = lifecycle.target_of(record)
    born = date_parts((target.birth_date if target else None) or record.original_birth_date)
    sex = ((target.sex if target else None) or record.original_sex).strip().upper()[:1]
    name = (target.patient_name if target else None) or ""  # the order's; else not compared
    for holder in ours:
        theirs = date_parts(holder.birth_date)
        if theirs and born and theirs[: len(born)] != born[: len(theirs)]:
            return True
        if holder.birth_date.strip() and not theirs:
            return True  # a birth date that is no date: not ours
        their_sex = holder.sex.strip().upper()[:1]
        if their_sex and sex and their_sex != sex:
            return True
        # a married name is one person; another first name is not
        if (
            holder.patient_name
            and name
            and "given name differs" in score_names(name, holder.patient_name).reasons
        ):
            return True
    return False


def _send_rejection_notes(
    conn: sqlite3.Connection,
    config: Config,
    dest: Destination,
    report: DeliveryReport,
    user: str,
) -> None:
    """Send the IOCM rejection notes pending for a destination (old copies of corrections)."""
    if not store_corrections.with_note(conn, dest.name, store_corrections.PENDING):
        return  # the usual case: pydicom (which builds the notes) is not loaded for nothing
    from kiosk.send.rejection import send_pending_notes

    try:
        send_pending_notes(conn, config, dest, Actor(user, config.station))
    except PeerError as exc:
        log.info("rejection notes to %s not sent yet: %s", dest.name, exc)


def _destinations_with_work(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT DISTINCT destination FROM outbox WHERE state IN ('queued','sending','failed')"
        " ORDER BY destination"
    )
    return [r[0] for r in rows]


def _fail_unknown(conn: sqlite3.Connection, name: str, report: DeliveryReport) -> None:
    rows = conn.execute(
        "SELECT o.id, i.study_id FROM outbox o JOIN instances i ON i.id = o.instance_id"
        " WHERE o.destination = ? AND o.state = 'queued'",
        (name,),
    ).fetchall()
    outbox.mark(
        conn,
        [
            outbox.Outcome(r[0], OutboxState.FAILED, error=f"destination {name!r} not configured")
            for r in rows
        ],
    )
    report.failed += len(rows)
    report.studies.update(r[1] for r in rows)
    if rows:
        report.unreachable[name] = "not in the config"
