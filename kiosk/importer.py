"""Import studies from a medium: spool, coerce, queue, send.

This is the one path every front end uses (the app, the CLI, the tests):
copy the chosen studies to the spool with a checksum, coerce their identity
the IRWF.b way, queue them in the durable outbox for the chosen destination,
and try to send them. A destination that is down does not stop the import:
the study stays queued and ``kiosk send`` (or the app) delivers it later.
"""

from __future__ import annotations

import dataclasses
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pydicom

from kiosk import audit
from kiosk.config import Config
from kiosk.errors import IdentityMismatchError, PeerError, SafetyError, SpoolError, UsageError
from kiosk.media.drives import mounted_media
from kiosk.media.eject import eject
from kiosk.media.model import MediaScan, StudySummary
from kiosk.media.spool import check_free_space, copy_verified, sha256_of
from kiosk.send.deliver import StudyProgress, deliver, update_study_state
from kiosk.send.duplicates import find_study, skip_present
from kiosk.store import outbox, studies
from kiosk.store.studies import StudyState
from kiosk.tags import TAGS
from reconcile.coerce import apply_coercion, plan_coercion
from reconcile.model import TargetIdentity, WorklistItem
from reconcile.uids import new_uid_map

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
    user: str = ""
    confirmed_mismatch: bool = False
    missing_only: bool = False  # instances the destination already holds are not sent again


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

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form of ``kiosk import``."""
        return {
            "study_instance_uid": self.study_instance_uid,
            "new_study_instance_uid": self.new_study_instance_uid,
            "destination": self.destination,
            "queued": self.queued,
            "sent": self.sent,
            "failed": self.failed,
            "tag": self.tag,
            "state": self.state,
        }


def check_safety(conn: sqlite3.Connection, study: StudySummary, request: ImportRequest) -> None:
    """Refuse an import that could put a study under the wrong patient.

    Raises
    ------
    SafetyError
        If the study was already imported under another MRN, or the disc's
        birth date or sex contradicts the chosen worklist patient and nobody
        confirmed it.
    """
    for earlier in studies.find_studies(conn, study_instance_uid=study.study_instance_uid):
        if earlier.state is StudyState.DISCARDED or not earlier.mrn:
            continue
        if earlier.mrn != request.mrn:
            raise SafetyError(
                f"study {study.study_instance_uid} was already imported under another MRN "
                f"(internal id {earlier.id}); ask the back office to check the patient"
            )
    item = request.worklist_item
    if item is None or request.confirmed_mismatch:
        return
    if study.birth_date and item.birth_date and study.birth_date != item.birth_date:
        raise IdentityMismatchError(
            f"the disc's birth date {study.birth_date} differs from the chosen patient's "
            f"{item.birth_date}; check the patient, then confirm the mismatch to import"
        )
    if study.sex in ("M", "F") and item.sex in ("M", "F") and study.sex != item.sex:
        raise IdentityMismatchError(
            f"the disc's sex {study.sex} differs from the chosen patient's {item.sex}; "
            "check the patient, then confirm the mismatch to import"
        )


def order_identity(config: Config, item: WorklistItem) -> TargetIdentity:
    """The identity of a worklist order; our issuer from the config when the RIS gives none.

    Which of it replaces what is on the disc is the destination's coercion rule.
    """
    target = TargetIdentity.from_worklist(item)
    if not target.issuer and config.issuer_of_patient_id:
        target = dataclasses.replace(target, issuer=config.issuer_of_patient_id)
    return target


def target_identity(config: Config, request: ImportRequest) -> TargetIdentity:
    """Work out the identity the studies are coerced to."""
    item = request.worklist_item
    if item is not None:
        if item.mrn != request.mrn:
            raise SafetyError(
                f"the worklist order belongs to MRN {item.mrn}, not {request.mrn}; "
                "check the patient"
            )
        target = order_identity(config, item)
        if not request.accession:
            return dataclasses.replace(
                target,
                accession_number="",
                requested_procedure_id="",
                requested_procedure_description="",
                scheduled_step_id="",
            )
        return target
    return TargetIdentity(
        mrn=request.mrn,
        issuer=config.issuer_of_patient_id,
        accession_number=request.accession,
    )


def import_studies(
    conn: sqlite3.Connection,
    config: Config,
    scan: MediaScan,
    request: ImportRequest,
    *,
    send_now: bool = True,
    on_progress: Callable[[str, int, int], None] | None = None,
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
    on_progress
        Called with (phase, done, total): ``"copy"`` counts files, ``"copy-bytes"``
        bytes (as they are written, for the time left); while a study is sent,
        ``"send"`` counts its instances and then ``"send-bytes"`` its bytes.

    Raises
    ------
    UsageError
        Unknown study or destination, bad tag.
    SafetyError
        See :func:`check_safety`.
    SpoolError
        The copy failed; nothing is queued for the study.
    """
    config.destination(request.destination)
    if request.tag and request.tag not in TAGS:
        raise UsageError(f"unknown tag {request.tag!r}: use one of {', '.join(TAGS)}")
    if not request.mrn.strip():
        raise UsageError("an MRN is required: scan or type the patient's MRN")
    chosen: list[StudySummary] = []
    for uid in request.study_uids:
        study = scan.study(uid)
        if study is None:
            raise UsageError(f"study {uid} is not on this medium; run 'kiosk scan' to list them")
        chosen.append(study)
    if not chosen:
        raise UsageError("no study chosen: give --study UID or --all")
    patients = {
        (s.patient_id, s.issuer_of_patient_id, s.patient_name, s.birth_date) for s in chosen
    }
    if len(patients) > 1:
        raise SafetyError(
            f"the chosen studies belong to {len(patients)} different patients on the disc; "
            "import each patient's studies separately"
        )
    target = target_identity(config, request)
    for study in chosen:
        check_safety(conn, study, request)
    sizes = {
        s.study_instance_uid: sum((scan.root / i.relpath).stat().st_size for i in s.instances)
        for s in chosen
    }
    check_free_space(config.spool_dir, sum(sizes.values()) * 2)

    outcomes = []
    for study in chosen:
        study_id = _import_one(
            conn, config, scan, study, sizes[study.study_instance_uid], request, target, on_progress
        )
        outcomes.append(study_id)
    if config.media.eject_after_copy:
        _eject(scan, user=request.user, station=config.station, conn=conn)
    if request.missing_only:
        for study_id in outcomes:
            _skip_present(conn, config, study_id, user=request.user)
    if send_now:
        for study_id in outcomes:
            deliver(
                conn,
                config,
                destination=request.destination,
                study_id=study_id,
                user=request.user,
                on_study=_send_progress(on_progress) if on_progress else None,
            )
    return [outcome_of(conn, sid) for sid in outcomes]


def _send_progress(on_progress: Callable[[str, int, int], None]) -> Callable[[StudyProgress], None]:
    """Report a study's sending as two progress phases: images, then bytes."""

    def report(progress: StudyProgress) -> None:
        on_progress("send", progress.done, progress.total)
        on_progress("send-bytes", progress.bytes, progress.total_bytes)

    return report


def outcome_of(conn: sqlite3.Connection, study_id: int) -> ImportOutcome:
    """Summarise a study of the store as an :class:`ImportOutcome`."""
    record = studies.get_study(conn, study_id)
    counts = outbox.counts_for_study(conn, study_id)
    return ImportOutcome(
        study_id=study_id,
        study_instance_uid=record.study_instance_uid,
        new_study_instance_uid=record.new_study_instance_uid,
        destination=record.destination,
        queued=sum(counts.values()),
        sent=counts.get("sent", 0),
        failed=counts.get("failed", 0) + counts.get("quarantined", 0),
        tag=record.tag,
        state=record.state.value,
    )


def _import_one(
    conn: sqlite3.Connection,
    config: Config,
    scan: MediaScan,
    study: StudySummary,
    bytes_total: int,
    request: ImportRequest,
    target: TargetIdentity,
    on_progress: Callable[[str, int, int], None] | None,
) -> int:
    who = {"user": request.user, "station": config.station}
    earlier = _incomplete_copy(conn, study.study_instance_uid)
    if earlier is not None:
        study_id = earlier.id
        studies.set_state(
            conn, study_id, StudyState.FOUND, destination=request.destination, tag=request.tag
        )
        action, detail = "resume", f"study {study_id}: copy resumed from {scan.source}"
    else:
        study_id = studies.add_study(
            conn,
            study_instance_uid=study.study_instance_uid,
            original_patient_id=study.patient_id,
            original_issuer=study.issuer_of_patient_id,
            source=str(scan.source),
            station=config.station,
            user=request.user,
            destination=request.destination,
            tag=request.tag,
            reason=request.reason,
            study_date=study.study_date,
            study_description=study.study_description,
            modalities="/".join(study.modalities),
        )
        action, detail = "found", f"study {study_id} on {scan.source}"
    audit.record(
        conn, action=action, study_instance_uid=study.study_instance_uid, detail=detail, **who
    )
    spool = config.spool_dir / f"study-{study_id:06d}"
    instances = study.instances
    rows: list[tuple[int, Path]] = []
    done = {r["source_relpath"]: r for r in studies.instances_of(conn, study_id)}
    reused = 0
    bytes_done = 0

    def grew(n: int) -> None:
        nonlocal bytes_done
        bytes_done += n
        if on_progress is not None:
            on_progress("copy-bytes", bytes_done, bytes_total)

    try:
        for n, inst in enumerate(instances, 1):
            row = done.get(inst.relpath)
            if row is not None and _still_good(row):
                rows.append((row["id"], Path(row["original_path"])))
                reused += 1
                grew(int(row["size"]))
                continue
            instance_id = (
                row["id"]
                if row is not None
                else studies.add_instance(
                    conn,
                    study_id,
                    sop_instance_uid=inst.sop_instance_uid,
                    sop_class_uid=inst.sop_class_uid,
                    transfer_syntax_uid=inst.transfer_syntax_uid,
                    source_relpath=inst.relpath,
                )
            )
            spooled = copy_verified(
                scan.root / inst.relpath, spool / "original" / inst.relpath, on_bytes=grew
            )
            studies.update_instance(
                conn,
                instance_id,
                original_path=str(spooled.target),
                original_sha256=spooled.sha256,
                size=spooled.size,
            )
            rows.append((instance_id, spooled.target))
            if on_progress is not None:
                on_progress("copy", n, len(instances))
    except SpoolError as exc:
        # The study stays "found": nothing half-copied is marked good, and importing the
        # same study again (the same disc back in the drive) copies only what is missing.
        audit.record(
            conn,
            action="copy",
            study_instance_uid=study.study_instance_uid,
            outcome="incomplete",
            detail=f"study {study_id}: {len(rows)} of {len(instances)} files copied: {exc}",
            **who,
        )
        raise SpoolError(
            f"the copy stopped after {len(rows)} of {len(instances)} files ({exc}); "
            "insert the same disc and import again: the copy resumes where it stopped"
        ) from exc
    studies.set_state(conn, study_id, StudyState.COPIED, spool_dir=str(spool))
    audit.record(
        conn,
        action="copy",
        study_instance_uid=study.study_instance_uid,
        detail=f"study {study_id}: {len(rows)} instances verified by SHA-256"
        + (f" ({reused} kept from an earlier, interrupted copy)" if reused else ""),
        **who,
    )
    scheduled = bool(target.accession_number)
    studies.set_state(
        conn,
        study_id,
        StudyState.MATCHED if scheduled else StudyState.UNSCHEDULED,
        mrn=target.mrn,
        accession_number=target.accession_number,
    )
    audit.record(
        conn,
        action="match" if scheduled else "unscheduled",
        study_instance_uid=study.study_instance_uid,
        detail=f"study {study_id}",
        **who,
    )
    coerce_and_queue(conn, config, study_id, target, user=request.user)
    return study_id


def coerce_and_queue(
    conn: sqlite3.Connection,
    config: Config,
    study_id: int,
    target: TargetIdentity,
    *,
    user: str,
    reason: str | None = None,
) -> None:
    """Coerce a spooled study's original files to ``target`` and queue (or hold) them.

    Always starts from the untouched originals in the spool, so a later
    reconciliation records the outside values, not our interim ones.
    """
    record = studies.get_study(conn, study_id)
    destination = config.destination(record.destination)
    rules = destination.coercion
    rows = studies.instances_of(conn, study_id)
    spool = Path(record.spool_dir)
    uid_map: dict[str, str] = {}
    if rules.new_uids:
        old: list[str] = [record.study_instance_uid]
        for row in rows:
            header = pydicom.dcmread(
                row["original_path"],
                stop_before_pixels=True,
                specific_tags=["SeriesInstanceUID", "SOPInstanceUID"],
            )
            old += [str(header.get("SeriesInstanceUID", "")), str(header.SOPInstanceUID)]
        uid_map = new_uid_map(old, salt=f"{config.station}/{study_id}")
    when = datetime.now().astimezone()
    for row in rows:
        ds = pydicom.dcmread(row["original_path"])
        plan = plan_coercion(ds, target, rules, uid_map)
        apply_coercion(
            ds,
            plan,
            modifying_system=f"{config.ae_title} {config.station}",
            when=when,
            reason=reason,
            source_of_previous_values=plan.original_issuer or str(ds.get("InstitutionName", "")),
        )
        coerced = spool / "coerced" / f"{ds.SOPInstanceUID}.dcm"
        coerced.parent.mkdir(parents=True, exist_ok=True)
        tmp = coerced.with_name(coerced.name + ".part")
        ds.save_as(tmp)
        tmp.replace(coerced)
        # The outbox sends (and storage commitment asks about) the UID in the coerced file.
        studies.update_instance(
            conn, row["id"], coerced_path=str(coerced), sop_instance_uid=str(ds.SOPInstanceUID)
        )
    new_study_uid = uid_map.get(record.study_instance_uid, record.study_instance_uid)
    studies.set_state(conn, study_id, StudyState.COERCED, new_study_instance_uid=new_study_uid)
    who = {"user": user, "station": config.station}
    audit.record(
        conn,
        action="coerce",
        study_instance_uid=record.study_instance_uid,
        detail=f"study {study_id}: IRWF.b coercion"
        + (f", new Study Instance UID {new_study_uid}" if uid_map else ""),
        **who,
    )
    hold = not target.accession_number and config.unscheduled == "hold"
    conn.execute("BEGIN IMMEDIATE")
    try:
        for row in rows:
            outbox.enqueue(conn, row["id"], record.destination, held=hold)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    if hold:
        studies.set_state(conn, study_id, StudyState.UNSCHEDULED)
        action, detail = "hold", f"study {study_id}: held for the back office (no order)"
    else:
        studies.set_state(conn, study_id, StudyState.QUEUED)
        action, detail = (
            "queue",
            f"study {study_id}: {len(rows)} instances for {record.destination}",
        )
    audit.record(
        conn, action=action, study_instance_uid=record.study_instance_uid, detail=detail, **who
    )
    log.info("study %s (id %d): %s", record.study_instance_uid, study_id, action)


def _incomplete_copy(conn: sqlite3.Connection, study_uid: str) -> studies.StudyRecord | None:
    """The study's earlier import whose copy was interrupted, if any (to resume it)."""
    found = studies.find_studies(conn, study_instance_uid=study_uid, state=StudyState.FOUND.value)
    return found[-1] if found else None


def _still_good(row: sqlite3.Row) -> bool:
    """True when an instance copied earlier is in the spool, whole (its SHA-256 agrees)."""
    path = Path(row["original_path"]) if row["original_path"] else None
    if path is None or not row["original_sha256"] or not path.is_file():
        return False
    try:
        return sha256_of(path) == str(row["original_sha256"])
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


def _skip_present(conn: sqlite3.Connection, config: Config, study_id: int, *, user: str) -> None:
    """Mark the instances the destination already holds as sent (asked by C-FIND)."""
    record = studies.get_study(conn, study_id)
    destination = config.destination(record.destination)
    try:
        present = find_study(destination, config.ae_title, record.new_study_instance_uid)
    except PeerError as exc:
        log.warning("study %d: duplicates check skipped: %s", study_id, exc)
        return
    if present is None or not present.sop_instance_uids:
        return
    skipped = skip_present(conn, study_id, record.destination, present.sop_instance_uids)
    audit.record(
        conn,
        user=user,
        station=config.station,
        action="skip-present",
        study_instance_uid=record.study_instance_uid,
        detail=f"study {study_id}: {skipped} instances already on {record.destination}",
    )
    update_study_state(conn, study_id, user=user, station=config.station)
