"""Import studies from a medium: spool, coerce, queue, send.

This is the one path every front end uses (the app, the CLI, the tests):
copy the chosen studies to the spool with a checksum, coerce their identity
the IRWF.b way, queue them in the durable outbox for the chosen destination,
and try to send them. A destination that is down does not stop the import:
the study stays queued and ``kiosk send`` (or the app) delivers it later.

When the copy waits on the medium (an optical drive), the work beside it
runs meanwhile: the coercion of what is copied, and its sending
(:mod:`kiosk.early_send`). A copy at page-cache speed is left alone, so
that the disc can be returned sooner; the rest follows it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import sqlite3
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk import audit, digest, faults, lifecycle
from kiosk.coercion import HeaderCoercer, Precoerced, coerce_study, coercer_for
from kiosk.config import Config
from kiosk.early_send import EarlySender
from kiosk.errors import (
    IdentityMismatchError,
    LocalError,
    PeerError,
    SafetyError,
    SpoolError,
    UsageError,
)
from kiosk.lifecycle import Actor, CoercedInstance
from kiosk.media.disc_files import open_disc_file
from kiosk.media.drives import mounted_media
from kiosk.media.eject import eject
from kiosk.media.model import LostInstance, MediaInstance, MediaScan, StudySummary
from kiosk.media.names import shown
from kiosk.media.scan import verify
from kiosk.media.spool import (
    Flusher,
    SpooledFile,
    check_free_space,
    copy_checksummed,
    spool_path,
    study_folder,
)
from kiosk.paths import fsync_dir
from kiosk.progress import Listener, Meter, Milestone, MilestoneKind, Phase
from kiosk.report_wrap import Report, check_report, report_uids, write_wrapped
from kiosk.send.deliver import deliver
from kiosk.send.duplicates import StudyOnPacs, find_study, skip_present
from kiosk.store import corrections as store_corrections
from kiosk.store import outbox, studies
from kiosk.store.db import transaction
from kiosk.store.studies import StudyRecord, StudyState
from kiosk.tags import TAGS
from reconcile.match import date_parts, normal_sex, score_names
from reconcile.model import TargetIdentity, WorklistItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ImportRequest:
    """What the user chose: which studies, whose they are, where they go."""

    study_uids: tuple[str, ...]
    mrn: str
    destination: str
    accession: str = ""
    worklist_item: WorklistItem | None = None
    tag: str = ""
    reason: str = ""
    #: The physician who asked for the tag (recorded with it by :mod:`kiosk.tags`).
    requested_by: str = ""
    user: str = ""
    confirmed_mismatch: bool = False
    missing_only: bool = False  # instances the destination already holds are not sent again
    #: The outside PatientID whose studies are meant, when a Study UID is under two
    #: patients on the disc (studies are chosen by patient and study, never by UID alone).
    outside_patient_id: str | None = None
    #: What the destination held of each study (Study UID -> answer, ``None``: nothing),
    #: asked just before (:mod:`kiosk.app.preflight`): ``missing_only`` does not ask again.
    known_present: Mapping[str, StudyOnPacs | None] = field(default_factory=dict, hash=False)
    #: Report files on the disc outside DICOM (PDF, JPEG; paths as the scan lists them) to
    #: wrap into DICOM and send with the one chosen study (:mod:`kiosk.report_wrap`).
    reports: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportOutcome:
    """What happened to one study."""

    study_id: int
    study_instance_uid: str
    new_study_instance_uid: str
    destination: str
    queued: int
    sent: int
    failed: int
    tag: str
    state: str
    hold_reason: str = ""
    medium_changed: bool = False
    """Files of the medium were added or changed while it was imported (a copy into the
    drop folder still going on): what was imported may lack some of them."""
    unread_on_medium: int = 0
    """How many files of the medium (or its index) could not be read and may be images of
    the study (:attr:`kiosk.media.model.MediaScan.unread`)."""
    clashing_on_medium: int = 0
    """How many images of the study on the medium were left out because another image of
    it has their SOP Instance UID (:meth:`kiosk.media.model.MediaScan.clashes_of`)."""
    problem: str = ""
    """Why the first of the ``failed`` instances (quarantined or failed) was not sent, with
    what to do (its outbox row's reason); not in the JSON (``kiosk queue`` shows them all)."""

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form of ``kiosk import``."""
        out: dict[str, Any] = {
            "study_instance_uid": self.study_instance_uid,
            "new_study_instance_uid": self.new_study_instance_uid,
            "destination": self.destination,
            "queued": self.queued,
            "sent": self.sent,
            "failed": self.failed,
            "tag": self.tag,
            "state": self.state,
            "hold_reason": self.hold_reason,
        }
        if self.medium_changed:
            out["medium_changed"] = True
        if self.unread_on_medium:
            out["unread_on_medium"] = self.unread_on_medium
        if self.clashing_on_medium:
            out["clashing_on_medium"] = self.clashing_on_medium
        return out


#: Files (or bytes) copied before they are flushed to disk together and recorded in one
#: transaction; an import that stops goes on after the last batch recorded.
COPY_BATCH = 1024
COPY_BATCH_BYTES = 64 << 20


def check_safety(conn: sqlite3.Connection, study: StudySummary, request: ImportRequest) -> None:
    """Refuse an import of a study already imported under another MRN.

    Raises
    ------
    SafetyError
        If a live (not discarded) import of the study carries another MRN.
    """
    for earlier in studies.find_studies(conn, study_instance_uid=study.study_instance_uid):
        if earlier.state is StudyState.DISCARDED or not earlier.mrn:
            continue
        if earlier.mrn != request.mrn:
            raise SafetyError(
                f"study {study.study_instance_uid} was already imported under another MRN "
                f"(internal id {earlier.id}); ask the back office to check the patient"
            )


def check_demographics(
    study: StudySummary | StudyRecord,
    birth_date: str,
    sex: str,
    *,
    whose: str,
    confirmed: bool,
    patient_name: str = "",
) -> None:
    """Refuse when the disc's birth date, sex or name contradicts the confirmed patient's.

    The disc's name (of a scanned study) contradicts ``patient_name`` when the
    two can be compared (:func:`reconcile.match.score_names`: across scripts
    through the standard transliterations) and either nothing of them agrees,
    or the family names agree and the given names plainly differ: a twin, a
    sibling, a parent, whose birth date and sex may well be the same.

    Raises
    ------
    IdentityMismatchError
        Unless a person ``confirmed`` the mismatch after checking the patient.
    """
    if confirmed:
        return
    disc_birth = study.birth_date if isinstance(study, StudySummary) else study.original_birth_date
    disc_sex = normal_sex(study.sex if isinstance(study, StudySummary) else study.original_sex)
    sex = normal_sex(sex)
    if disc_birth and birth_date and not _same_day(disc_birth, birth_date):
        raise IdentityMismatchError(
            f"the disc's birth date {disc_birth} differs from {whose} {birth_date}; "
            "check the patient, then confirm the mismatch to go on"
        )
    if disc_sex and sex and disc_sex != sex:  # M, m, MALE are one sex
        raise IdentityMismatchError(
            f"the disc's sex {disc_sex} differs from {whose} {sex}; "
            "check the patient, then confirm the mismatch to go on"
        )
    if isinstance(study, StudySummary) and study.patient_name and patient_name:
        name = score_names(study.patient_name, patient_name)
        if name.comparable and (name.given_differs or name.points <= 0):
            what = "given name" if name.given_differs else "name"
            why = "; ".join(r for r in name.reasons if ":" not in r)  # none that quotes a name
            raise IdentityMismatchError(
                f"the disc's {what} differs from {whose} ({why}); "
                "check the patient, then confirm the mismatch to go on"
            )


def _same_day(a: str, b: str) -> bool:
    """Whether two birth dates are one day, as the matcher reads dates (19580415 and the
    ACR-NEMA 1958.04.15 are; a partial or unreadable one is only its own text)."""
    if a == b:
        return True
    day = date_parts(a)
    return len(day) == 3 and day == date_parts(b)


def order_identity(config: Config, item: WorklistItem) -> TargetIdentity:
    """The identity of a worklist order; our issuer from the config when the RIS gives none.

    Which of it replaces what is on the disc is the destination's coercion rule.
    """
    target = TargetIdentity.from_worklist(item)
    if not target.issuer and config.issuer_of_patient_id:
        target = dataclasses.replace(target, issuer=config.issuer_of_patient_id)
    return target


def confirm_identity(
    config: Config, request: ImportRequest, study: StudySummary
) -> tuple[TargetIdentity, str]:
    """Work out whom the studies go to, and whether they must be held; ``(target, hold_reason)``.

    The MRN is confirmed by the worklist (the chosen order or any order of the
    patient), else by the destination PACS or the configured patient source
    (patient-level C-FIND). An MRN that none confirms is held for the back
    office with the outside demographics untouched: never sent as it is.

    Raises
    ------
    SafetyError
        The worklist order belongs to another MRN.
    IdentityMismatchError
        The disc's birth date or sex contradicts the confirmed patient.
    """
    item = request.worklist_item
    if item is not None:
        if item.mrn != request.mrn:
            raise SafetyError(
                f"the worklist order belongs to MRN {item.mrn}, not {request.mrn}; "
                "check the patient"
            )
        check_demographics(
            study,
            item.birth_date,
            item.sex,
            whose="the chosen patient's",
            confirmed=request.confirmed_mismatch,
            patient_name=item.patient_name,
        )
        target = order_identity(config, item)
        if request.accession:
            return target, ""
        target = dataclasses.replace(
            target,
            accession_number="",
            requested_procedure_id="",
            requested_procedure_description="",
            scheduled_step_id="",
        )
        hold = "no order yet; this site holds unscheduled studies for the back office"
        return target, hold if config.unscheduled == "hold" else ""
    from kiosk.patients import confirm_mrn

    patient = confirm_mrn(config, request.destination, request.mrn)
    if patient is None:
        return (
            TargetIdentity(
                mrn=request.mrn,
                issuer=config.issuer_of_patient_id,
                accession_number=request.accession,
            ),
            f"MRN {request.mrn} is not confirmed by the worklist, the PACS or a patient "
            "source; the back office must confirm the patient",
        )
    check_demographics(
        study,
        patient.birth_date,
        patient.sex,
        whose=f"the {patient.source}'s patient",
        confirmed=request.confirmed_mismatch,
        patient_name=patient.patient_name,
    )
    target = TargetIdentity(
        mrn=request.mrn,
        issuer=patient.issuer or config.issuer_of_patient_id,
        patient_name=patient.patient_name or None,
        birth_date=patient.birth_date or None,
        sex=patient.sex or None,
        accession_number=request.accession,
    )
    if request.accession or config.unscheduled != "hold":
        return target, ""
    return target, "no order yet; this site holds unscheduled studies for the back office"


def import_studies(
    conn: sqlite3.Connection,
    config: Config,
    scan: MediaScan,
    request: ImportRequest,
    *,
    send_now: bool = True,
    on_event: Listener | None = None,
) -> list[ImportOutcome]:
    """Import the chosen studies of a scanned medium.

    Parameters
    ----------
    conn
        The local store.
    config
        The kiosk configuration (spool, destinations, station).
    scan
        The medium, as :func:`kiosk.media.scan.scan_medium` read it.
    request
        The user's choice.
    send_now
        Try to deliver right away (otherwise the outbox holds them).
    on_event
        Told how the import goes (:mod:`kiosk.progress`): ``copy`` progress over
        all chosen studies (files and bytes, as they are written), the milestone
        that the disc can be returned once every file is in the spool and
        verified, each study queued, then each study's ``send`` progress.

    Raises
    ------
    UsageError
        Unknown study or destination, bad tag.
    SafetyError
        A Study UID under two patients on the disc, studies of two patients, a
        study imported before under another MRN, demographics that contradict.
    SpoolError
        The copy failed; the study stays ``found`` and importing again resumes.
    """
    config.destination(request.destination)
    if request.tag and request.tag not in TAGS:
        raise UsageError(f"unknown tag {request.tag!r}: use one of {', '.join(TAGS)}")
    if not request.mrn.strip():
        raise UsageError("an MRN is required: scan or type the patient's MRN")
    chosen = verify(scan, request.study_uids).select(
        request.study_uids, patient_id=request.outside_patient_id
    )
    if not chosen:
        raise UsageError("no study chosen: give --study UID or --all")
    patients = {s.patient_key for s in chosen}
    if len(patients) > 1:
        raise SafetyError(
            f"the chosen studies belong to {len(patients)} different patients on the disc; "
            "import each patient's studies separately"
        )
    reports = [check_report(scan.root, r, scan.non_dicom) for r in dict.fromkeys(request.reports)]
    if reports and len(chosen) != 1:
        raise UsageError(
            "a report from the disc goes with one study: choose that study alone (--study UID)"
        )
    target, hold_reason = confirm_identity(config, request, chosen[0])
    for study in chosen:
        check_safety(conn, study, request)
    sizes = {
        id(s): sum((scan.root / i.relpath).stat().st_size for i in s.instances) for s in chosen
    }
    check_free_space(config.spool_dir, sum(sizes.values()))  # one copy: coercion is on the way out
    actor = Actor(request.user, config.station)
    meter = Meter(Phase.COPY, sum(len(s.instances) for s in chosen), sum(sizes.values()))
    copy_events = _Throttled(meter, on_event)
    copied: list[tuple[int, _Coercing]] = []
    # What is copied goes while the rest is copied, unless the import only queues, or
    # must first learn what the PACS holds already (--missing-only).
    early = (
        EarlySender(config, request.destination, request.user)
        if send_now and not request.missing_only
        else None
    )
    try:
        for study in chosen:
            copied.append(
                _import_one(
                    conn,
                    config,
                    scan,
                    study,
                    request,
                    target,
                    hold_reason,
                    actor,
                    copy_events,
                    reports,
                    early,
                )
            )
        # Every chosen file is in the spool, on disk: the disc can go back now,
        # while the studies are coerced, queued and sent from the spool.
        if on_event is not None:
            on_event(meter.event())
            on_event(Milestone(MilestoneKind.DISC_RELEASED))
        if config.media.eject_after_copy:
            _eject(scan, user=request.user, station=config.station, conn=conn)
        queued_early = early.finish() if early is not None else {}
        early = None
        outcomes = []
        for study_id, coercing in copied:
            _finish_one(
                conn, config, study_id, actor, coercing.results(), queued_early.get(study_id, ())
            )
            outcomes.append(study_id)
            if on_event is not None:
                on_event(Milestone(MilestoneKind.STUDY_QUEUED, study_id))
    finally:
        if early is not None:
            early.finish()
        for _, coercing in copied:
            coercing.close()
    if request.missing_only:
        for study_id in outcomes:
            _skip_present(conn, config, study_id, actor, request.known_present)
    if send_now:
        for study_id in outcomes:
            deliver(
                conn,
                config,
                destination=request.destination,
                study_id=study_id,
                user=request.user,
                on_event=on_event,
            )
    return [outcome_of(conn, sid) for sid in outcomes]


class _Coercing:
    """Coerces each copied file's header on a worker thread, beside a copy that waits.

    The coercion holds the GIL; a copy that waits on the medium leaves it
    free, so the two overlap (and what is coerced can be sent early). Beside
    a copy at page-cache speed the worker would only slow it down (each
    system call of the copy would wait for the GIL): its files are coerced
    once the copy is done. Files go to the worker in groups of :attr:`GROUP`
    (one hand-over each, not one per file). Whatever the worker did not
    finish, or failed at, :func:`coerce_study` does again.
    """

    GROUP = 32

    def __init__(
        self,
        coercer: HeaderCoercer | None,
        on_coerced: Callable[[list[CoercedInstance]], None] | None = None,
    ) -> None:
        self.coercer = coercer
        self.on_coerced = on_coerced
        self.pool = (
            ThreadPoolExecutor(1, thread_name_prefix="coerce") if coercer is not None else None
        )
        self.pending: list[tuple[int, Path, str]] = []
        self.futures: list[Future[list[CoercedInstance]]] = []

    def submit(
        self, instance_id: int, spooled: SpooledFile, sop_instance_uid: str, *, now: bool
    ) -> None:
        """Coerce a file just copied (its digest is not checked again here).

        ``now``: the copy waits on the medium, so the worker may run beside it.
        """
        if self.pool is None:
            return
        self.pending.append((instance_id, spooled.target, sop_instance_uid))
        if now and len(self.pending) >= self.GROUP:
            self.hand_over()

    def hand_over(self) -> None:
        """Give the worker the files submitted and not yet handed over."""
        if self.pool is not None and self.pending:
            self.futures.append(self.pool.submit(self._coerce, self.pending))
            self.pending = []

    def _coerce(self, group: list[tuple[int, Path, str]]) -> list[CoercedInstance]:
        assert self.coercer is not None
        done = [self.coercer.coerce_file(iid, path, None, uid) for iid, path, uid in group]
        if self.on_coerced is not None:
            self.on_coerced(done)
        return done

    def results(self) -> Precoerced | None:
        """What the worker coerced (waiting for it), for the coercer's target."""
        if self.coercer is None:
            return None
        self.hand_over()
        done: dict[int, CoercedInstance] = {}
        for future in self.futures:
            with contextlib.suppress(Exception):  # coerced again by coerce_study
                done.update((c.instance_id, c) for c in future.result())
        return Precoerced(self.coercer.target, self.coercer.when, done)

    def close(self) -> None:
        """Stop the worker (what it has not started is dropped)."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _Throttled:
    """The copy meter, told to the listener at most every REPORT_SECONDS (and per file)."""

    REPORT_SECONDS = 0.1

    def __init__(self, meter: Meter, on_event: Listener | None) -> None:
        self.meter = meter
        self.on_event = on_event
        self.told = 0.0

    def advance(self, items: int = 0, nbytes: int = 0) -> None:
        """Count, and tell the listener if it is time."""
        self.meter.advance(items, nbytes)
        if self.on_event is None:
            return
        now = time.monotonic()
        if items or now - self.told >= self.REPORT_SECONDS:
            self.told = now
            self.on_event(self.meter.event())


def outcome_of(conn: sqlite3.Connection, study_id: int) -> ImportOutcome:
    """Summarise a study of the store as an :class:`ImportOutcome`."""
    record = studies.get_study(conn, study_id)
    counts = outbox.counts_for_study(conn, study_id)
    counts.pop("discarded", None)
    stopped = counts.get("failed", 0) + counts.get("quarantined", 0)
    first = outbox.problems(conn, study_id)[:1] if stopped else []
    return ImportOutcome(
        study_id=study_id,
        study_instance_uid=record.study_instance_uid,
        new_study_instance_uid=record.new_study_instance_uid,
        destination=record.destination,
        queued=sum(counts.values()),
        sent=counts.get("sent", 0),
        failed=stopped,
        tag=record.tag,
        state=record.state.value,
        hold_reason=record.hold_reason,
        unread_on_medium=record.unread_on_medium,
        clashing_on_medium=record.clashing_on_medium,
        problem=str(first[0]["last_error"] or "") if first else "",
    )


def _refuse_a_mix(
    conn: sqlite3.Connection, config: Config, study: StudySummary, request: ImportRequest
) -> None:
    """Refuse a study whose UID was imported before from another outside patient.

    A Study UID under two outside patients (``--patient`` picks one side) must
    not reach one destination from both sides under its own UID: the PACS
    would hold one study of two patients' images. A destination that gives
    new UIDs keeps them apart.

    Raises
    ------
    SafetyError
        Naming both outside Patient IDs.
    """
    if config.destination(request.destination).coercion.new_uids:
        return
    for earlier in studies.find_studies(
        conn, study_instance_uid=study.study_instance_uid, destination=request.destination
    ):
        if (
            earlier.state is not StudyState.DISCARDED
            and earlier.study_instance_uid == study.study_instance_uid
            and earlier.original_patient_id != study.patient_id
        ):
            raise SafetyError(
                f"study {study.study_instance_uid} was imported before from outside patient "
                f"{earlier.original_patient_id!r} (MRN {earlier.mrn or 'none'}); importing it "
                f"from {study.patient_id!r} too would mix two patients' images in one study at "
                f"{request.destination}: check the disc with the back office"
            )


def _earlier_import(
    conn: sqlite3.Connection, study: StudySummary, request: ImportRequest
) -> StudyRecord | None:
    """The live import of this study for this patient and destination, if there is one.

    Importing the same disc again (after a crash, a pulled disc, a full spool)
    goes on with that row instead of making a second one.
    """
    for earlier in reversed(
        studies.find_studies(
            conn, study_instance_uid=study.study_instance_uid, destination=request.destination
        )
    ):
        if (
            earlier.state is not StudyState.DISCARDED
            and earlier.study_instance_uid == study.study_instance_uid
            and earlier.original_patient_id == study.patient_id
            and earlier.mrn in ("", request.mrn)
        ):
            return earlier
    return None


def _import_one(
    conn: sqlite3.Connection,
    config: Config,
    scan: MediaScan,
    study: StudySummary,
    request: ImportRequest,
    target: TargetIdentity,
    hold_reason: str,
    actor: Actor,
    copy_events: _Throttled,
    reports: Sequence[Report] = (),
    early: EarlySender | None = None,
) -> tuple[int, _Coercing]:
    earlier = _earlier_import(conn, study, request)
    if (
        earlier is not None
        and earlier.worker
        and earlier.worker != outbox.worker_id()
        and not outbox.claimant_is_gone(earlier.worker, earlier.updated_at)
    ):
        raise LocalError(
            f"study {earlier.id} ({earlier.study_instance_uid}) is being imported by another "
            "kiosk process right now; wait until it ends (kiosk queue shows it), then import "
            "again only if it says the copy is incomplete"
        )
    unlike = _unlike_earlier_copies(conn, earlier.id, study, scan.root) if earlier else set()
    instances = [i for i in study.instances if i.relpath not in unlike]
    gaps = lifecycle.MediumGaps(
        len(scan.unread), len(scan.clashes_of(study.study_instance_uid)) + len(unlike)
    )
    if earlier is None:
        _refuse_a_mix(conn, config, study, request)
        study_id = lifecycle.begin_import(
            conn,
            study_instance_uid=study.study_instance_uid,
            original_patient_id=study.patient_id,
            original_issuer=study.issuer_of_patient_id,
            original_birth_date=study.birth_date,
            original_sex=study.sex,
            source=str(scan.source),
            destination=request.destination,
            tag=request.tag,
            reason=request.reason,
            study_date=study.study_date,
            study_description=study.study_description,
            modalities="/".join(study.modalities),
            target=target,
            expected_instances=len(instances),
            hold_reason=hold_reason,
            actor=actor,
            gaps=gaps,
        )
    elif earlier.state is StudyState.FOUND:  # an interrupted copy: it goes on
        study_id = earlier.id
        lifecycle.resume_import(
            conn,
            study_id,
            destination=request.destination,
            tag=request.tag,
            target=target,
            expected_instances=len(instances),
            hold_reason=hold_reason,
            source=str(scan.source),
            actor=actor,
            gaps=gaps,
        )
    else:  # imported before: copy again what the spool lost, coerce and send it again
        study_id = earlier.id
        lifecycle.reopen(
            conn,
            study_id,
            target,
            hold_reason=hold_reason,
            source=str(scan.source),
            actor=actor,
            gaps=gaps,
        )
    faults.point("import.found")
    first_copy = earlier is None or earlier.state is StudyState.FOUND
    record = studies.get_study(conn, study_id)
    recorded = lifecycle.target_of(record)  # what finish_import coerces to
    coercer = coercer_for(config, record, recorded) if recorded else None
    if early is not None and (earlier is not None or coercer is None or hold_reason):
        early = None  # sent early: a study imported for the first time, coerced as copied
    coercing = _Coercing(
        coercer, None if early is None else functools.partial(early.coerced, study_id)
    )
    try:
        _copy(
            conn,
            config,
            scan,
            study,
            study_id,
            first_copy=first_copy,
            actor=actor,
            copy_events=copy_events,
            coercing=coercing,
            reports=reports,
            on_recorded=None if early is None else functools.partial(early.recorded, study_id),
            unlike=unlike,
        )
    except BaseException:
        coercing.close()
        with contextlib.suppress(Exception):  # this process gives the study up: recovery may go on
            lifecycle.let_go(conn, study_id)
        raise
    return study_id, coercing


def _finish_one(
    conn: sqlite3.Connection,
    config: Config,
    study_id: int,
    actor: Actor,
    ready: Precoerced | None,
    queued_early: Collection[int] = (),
) -> None:
    """Coerce and queue a copied study; a failure lets the study go for recovery."""
    try:
        finish_import(conn, config, study_id, actor, ready=ready, queued_early=queued_early)
        faults.point("import.queued")
    except BaseException:
        with contextlib.suppress(Exception):  # this process gives the study up: recovery may go on
            lifecycle.let_go(conn, study_id)
        raise


def _copy(
    conn: sqlite3.Connection,
    config: Config,
    scan: MediaScan,
    study: StudySummary,
    study_id: int,
    *,
    first_copy: bool,
    actor: Actor,
    copy_events: _Throttled,
    coercing: _Coercing,
    reports: Sequence[Report] = (),
    on_recorded: Callable[[list[int]], None] | None = None,
    unlike: Collection[str] = (),
) -> int:
    """Copy what the spool lacks of a study, verified; each copied file is coerced meanwhile.

    The disc's ``reports`` are wrapped into DICOM beside the copies. Queueing
    comes after, once the whole study is copied. ``unlike``: the disc's files
    that are other images than the copies of their SOP UIDs in the spool
    (:func:`_unlike_earlier_copies`): neither copied nor sent.
    """
    instances = [i for i in study.instances if i.relpath not in unlike]
    rows = _instance_rows(conn, study_id, instances, scan.lost_of(study))
    spool = study_folder(config.spool_dir, study_id)
    folder = spool_path(spool, "original")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fsync_dir(spool)  # the new folders' entries are on disk before any file is recorded
        fsync_dir(config.spool_dir)
    except OSError as exc:
        raise SpoolError(f"cannot create {folder} ({exc.strerror}); check the spool") from exc
    copied = 0
    reused = 0
    made = {folder}
    batch: list[tuple[int, SpooledFile]] = []
    batch_bytes = 0

    def grew(n: int) -> None:
        copy_events.advance(nbytes=n)

    def record_batch() -> None:
        nonlocal batch_bytes
        if not batch:
            return
        # The files and their folder entries are on disk before the database names them.
        flusher.flush([f.target for _, f in batch])
        with transaction(conn):
            studies.record_copies(
                conn, [(iid, str(f.target), f.digest, f.size) for iid, f in batch]
            )
        if _waits_on_the_medium(began, cpu_began):
            coercing.hand_over()  # the batch's last files too: the whole batch can go early
            if on_recorded is not None:
                on_recorded([iid for iid, _ in batch])
        batch.clear()
        batch_bytes = 0

    began, cpu_began = time.monotonic(), time.thread_time()
    try:
        flusher = Flusher(folder)
    except OSError as exc:
        raise SpoolError(f"cannot open {folder} ({exc.strerror}); check the spool") from exc
    try:
        for n, inst in enumerate(instances, 1):
            row = rows[inst.relpath]
            if copied_whole(row):
                reused += 1
                grew(int(row["size"]))
            else:
                # Named by our own integer id alone (no separator can appear), in a folder
                # spool_path checked above: no resolve() of the path per file.
                target_file = folder / f"{int(row['id']):08d}.dcm"
                spooled = copy_checksummed(
                    scan.root / inst.relpath, target_file, on_bytes=grew, fsync=False, made=made
                )
                batch.append((row["id"], spooled))
                coercing.submit(
                    row["id"],
                    spooled,
                    inst.sop_instance_uid,
                    now=_waits_on_the_medium(began, cpu_began),
                )
                batch_bytes += spooled.size
                faults.point("import.copy-file")
                if len(batch) >= COPY_BATCH or batch_bytes >= COPY_BATCH_BYTES:
                    record_batch()
            copied = n
            copy_events.advance(1)
        record_batch()
        if reports:
            _add_reports(conn, study, study_id, folder, reports)
    except SpoolError as exc:
        with contextlib.suppress(OSError, SpoolError):
            record_batch()  # what was copied whole is kept: importing again resumes after it
        lifecycle.copy_stopped(
            conn, study_id, copied=copied, expected=len(instances), why=str(exc), actor=actor
        )
        raise SpoolError(
            f"the copy stopped after {copied} of {len(instances)} files ({exc}); "
            "insert the same disc and import again: the copy resumes where it stopped"
        ) from exc
    finally:
        flusher.close()
    if first_copy:
        lifecycle.record_copied(conn, study_id, spool_dir=str(spool), reused=reused, actor=actor)
    faults.point("import.copied")
    return study_id


#: Below this share of its time computing, the copy waits on the medium (an optical drive
#: reads 5-20 MB/s; a copy from the page cache computes about half of its time here).
DRIVE_BOUND = 0.3
#: Seconds of copying before its pace is judged.
PACE_AFTER = 0.25


def _waits_on_the_medium(began: float, cpu_began: float) -> bool:
    """Whether the copy (this thread, since ``began``) mostly waits on the medium.

    Then the processor is idle enough to send what is copied meanwhile
    (:mod:`kiosk.early_send`). A copy at page-cache speed takes a whole core:
    sending beside it would only delay the moment the disc can be returned.
    """
    elapsed = time.monotonic() - began
    if elapsed < PACE_AFTER:
        return False  # too soon to tell: nothing runs beside the copy yet
    return (time.thread_time() - cpu_began) / elapsed < DRIVE_BOUND


#: How a wrapped report's instance row names its source: no disc path starts with "/".
REPORT_SOURCE = "/report/"


def _add_reports(
    conn: sqlite3.Connection,
    study: StudySummary,
    study_id: int,
    folder: Path,
    reports: Sequence[Report],
) -> None:
    """Wrap the disc's reports into DICOM in the study's spool, as instances of the study.

    Each takes the identity of the study's first copied image; it is then
    coerced and queued with the images. One imported again is the same
    object (same UIDs), and one wrapped whole before is not wrapped again.
    """
    rows = studies.instances_of(conn, study_id)
    disc = {i.relpath for i in study.instances}
    images = next(
        (Path(r["original_path"]) for r in rows
         if r["original_path"] and studies.source_relpath(r) in disc),
        None,
    )  # fmt: skip
    if images is None:
        raise SpoolError("no image of the study was copied to take the report's identity from")
    known = {studies.source_relpath(r): r for r in rows}
    for number, report in enumerate(reports, 1):
        source = REPORT_SOURCE + report.relpath
        row = known.get(source)
        if row is not None and copied_whole(row):
            continue
        _, sop_uid = report_uids(study.study_instance_uid, report)
        if row is not None:
            instance_id, sop_uid = int(row["id"]), str(row["sop_instance_uid"])
        else:
            with transaction(conn):
                instance_id = studies.add_instance(
                    conn,
                    study_id,
                    sop_instance_uid=sop_uid,
                    sop_class_uid=report.sop_class_uid,
                    transfer_syntax_uid=report.transfer_syntax_uid,
                    source_relpath=source,
                )
        target = folder / f"{instance_id:08d}.dcm"
        try:
            sha, size = write_wrapped(report, images, target, number)
            fsync_dir(folder)
        except OSError as exc:
            raise SpoolError(f"the report {report.relpath!r} cannot be written ({exc})") from exc
        with transaction(conn):
            studies.record_copies(conn, [(instance_id, str(target), sha, size)])
        log.info("study %d: report %s wrapped as %s", study_id, report.kind, sop_uid)


def _unlike_earlier_copies(
    conn: sqlite3.Connection, study_id: int, study: StudySummary, root: Path
) -> set[str]:
    """The disc's files of a study imported before that are other images than the spool's
    copies of their SOP Instance UIDs (a second disc reusing UIDs, another image at the
    same path): each would be taken for the copy there (or clash with its UID), so it is
    neither copied nor sent, and the import says so (``clashing_on_medium``, exit 6).

    A file at the path of a copy is read and compared with the copy's recorded digest:
    the one certain way to know it is the same image (a resumed copy reads its disc
    again). Only a file that differs has its spool copy checked (:func:`copied_whole`,
    which the copy does anyway for the others).
    """
    rows = studies.instances_of(conn, study_id)
    by_path = {studies.source_relpath(r): r for r in rows}
    imported = {str(r["sop_instance_uid"]) for r in rows}
    unlike = set()
    for inst in study.instances:
        row = by_path.get(inst.relpath)
        if row is None:
            if inst.sop_instance_uid in imported:  # another file with an imported image's UID
                unlike.add(inst.relpath)
        elif (
            row["original_digest"]
            and not _same_file(root / inst.relpath, row)
            and copied_whole(row)
        ):
            unlike.add(inst.relpath)
    if unlike:
        log.warning(
            "study %d: %d file(s) of this disc are other images than the ones imported before "
            "under their SOP Instance UIDs; not sent (keep the disc)",
            study_id,
            len(unlike),
        )
    return unlike


def _same_file(path: Path, row: sqlite3.Row) -> bool:
    """Whether a disc file holds what the instance's spool copy was copied from."""
    try:
        fd, info = open_disc_file(path)
        with open(fd, "rb", buffering=0, closefd=True) as fh:
            if info.st_size != int(row["size"] or -1):
                return False
            return digest.of_open(fh) == str(row["original_digest"] or "")
    except OSError:
        return True  # unreadable now: the copy stands; reading it is the copy loop's to report


def _instance_rows(
    conn: sqlite3.Connection,
    study_id: int,
    instances: Sequence[MediaInstance],
    lost: Sequence[LostInstance] = (),
) -> dict[str, sqlite3.Row]:
    """The study's instance rows by disc path, adding (in one transaction) those not there yet.

    The images the DICOMDIR lists under the study whose files cannot be read
    (``lost``) get rows too: never copied, they are quarantined when the study
    is queued ("not copied from the disc"), so the import says what is missing.
    """
    known = {studies.source_relpath(r): r for r in studies.instances_of(conn, study_id)}
    sops = {str(r["sop_instance_uid"]) for r in known.values()}
    missing = [i for i in instances if i.relpath not in known]
    sops |= {i.sop_instance_uid for i in missing}
    unreadable: list[str] = []
    for gone in lost:
        if gone.listed.relpath not in known and gone.listed.sop_instance_uid not in sops:
            sops.add(gone.listed.sop_instance_uid)
            missing.append(gone.listed)
            unreadable.append(shown(gone.listed.sop_instance_uid))
    if unreadable:  # one line, however many (a disc may list thousands it lacks)
        log.warning(
            "study %d: %s listed in the DICOMDIR and not on the disc or unreadable (%s%s); "
            "not sent, see 'kiosk scan --json' (lost)",
            study_id,
            "1 image is" if len(unreadable) == 1 else f"{len(unreadable)} images are",
            ", ".join(unreadable[:3]),
            ", ..." if len(unreadable) > 3 else "",
        )
    if missing:
        with transaction(conn):
            for inst in missing:
                studies.add_instance(
                    conn,
                    study_id,
                    sop_instance_uid=inst.sop_instance_uid,
                    sop_class_uid=inst.sop_class_uid,
                    transfer_syntax_uid=inst.transfer_syntax_uid,
                    source_relpath=inst.relpath,
                )
        known = {studies.source_relpath(r): r for r in studies.instances_of(conn, study_id)}
    return known


def finish_import(
    conn: sqlite3.Connection,
    config: Config,
    study_id: int,
    actor: Actor,
    *,
    ready: Precoerced | None = None,
    queued_early: Collection[int] = (),
) -> bool:
    """Coerce and queue a study whose copy is complete, if that is still to do; True if done now.

    The identity comes from the study's record (confirmed when the import
    began, or when the back office attached an order), so this finishes an
    import or a reconciliation that a crash interrupted, from the spool alone.
    A study corrected after it was sent under another patient gets new UIDs
    of its own (IHE IOCM), and its coercion reason is ``CORRECT``. ``ready``:
    what was coerced while the files were copied (used when still valid).
    ``queued_early``: instances queued (and perhaps sent) while the study was
    copied (:mod:`kiosk.early_send`).
    """
    record = studies.get_study(conn, study_id)
    if record.state is StudyState.UNSCHEDULED and outbox.counts_for_study(conn, study_id):
        return False  # coerced and held already
    if record.state not in (StudyState.MATCHED, StudyState.UNSCHEDULED, StudyState.COERCED):
        return False
    target = lifecycle.target_of(record)
    if target is None:
        raise SpoolError(
            f"study {study_id} has no confirmed identity recorded (an older kiosk); "
            "import the disc again"
        )
    corrections = store_corrections.of_study(conn, study_id)
    # moved to another patient (another MRN, or the same MRN of another issuer): the old
    # copy is rejected or flagged, never replaced under its UIDs
    moved = sum(1 for c in corrections if c["rejection_note"] != store_corrections.NONE)
    coerced = coerce_study(
        conn,
        config,
        record,
        target,
        reason="CORRECT" if corrections else None,
        new_uids=True if moved else None,
        generation=moved,
        ready=ready,
    )
    faults.point("import.coerced")
    lifecycle.record_queued(conn, study_id, coerced, actor=actor, queued_early=queued_early)
    return True


def copied_whole(row: sqlite3.Row) -> bool:
    """True when an instance copied earlier is in the spool, whole (its digest agrees)."""
    path = Path(row["original_path"]) if row["original_path"] else None
    recorded = str(row["original_digest"] or "")
    if path is None or not recorded or not path.is_file():
        return False
    try:
        return digest.of_file(path) == recorded
    except OSError:
        return False


def _eject(scan: MediaScan, *, user: str, station: str, conn: sqlite3.Connection) -> None:
    """Eject the disc the studies were copied from (a folder or dropped image is left alone)."""
    source = scan.source.resolve()
    for medium in mounted_media():
        if medium.mountpoint.resolve() == source:
            ejected = eject(medium)
            audit.record(
                conn,
                user=user,
                station=station,
                action="eject",
                outcome="ok" if ejected else "failed",
                detail=str(medium.mountpoint),
            )
            return


def _skip_present(
    conn: sqlite3.Connection,
    config: Config,
    study_id: int,
    actor: Actor,
    known: Mapping[str, StudyOnPacs | None],
) -> None:
    """Mark the instances the destination holds under our MRN as sent (asked by C-FIND).

    ``known`` holds the answers of a C-FIND made just before the import; a
    study found there is not asked about again.
    """
    record = studies.get_study(conn, study_id)
    destination = config.destination(record.destination)
    uid = record.new_study_instance_uid
    if uid in known:
        present = known[uid]
    else:
        try:
            present = find_study(destination, config.ae_title, uid)
        except PeerError as exc:
            log.warning("study %d: duplicates check skipped: %s", study_id, exc)
            return
    if present is None:
        return
    others = sorted(present.patient_ids - {record.mrn})
    if others:  # the same check as before any send (kiosk.send.deliver), made here first
        lifecycle.refuse(conn, study_id, destination.label or destination.name, others, actor)
        return
    if not present.instance_patients:
        return
    ours = frozenset(uid for uid, pid in present.instance_patients.items() if pid == record.mrn)
    if not ours:
        return
    skipped = skip_present(conn, study_id, record.destination, ours)
    audit.record(
        conn,
        user=actor.user,
        station=actor.station,
        action="skip-present",
        study_instance_uid=record.study_instance_uid,
        detail=f"study {study_id}: {skipped} instances already on {record.destination}",
    )
    lifecycle.record_delivery(conn, study_id, actor)
