"""Coerce a spooled study's untouched originals into the files the outbox sends.

Each original is read once: its SHA-256 is checked against the one recorded
when it was copied (a damaged original is never coerced into a "good" file),
the identity is coerced (:mod:`reconcile.coerce`), and the result is written
under a name made of our own instance id, fsynced, and hashed, so the sender
can refuse a file that changed afterwards. Nothing here writes the database:
:func:`kiosk.lifecycle.record_queued` records the result in one transaction.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sqlite3
import warnings
from datetime import datetime
from pathlib import Path

import pydicom

from kiosk.config import Config
from kiosk.errors import SpoolError
from kiosk.lifecycle import CoercedInstance, CoercedStudy
from kiosk.media.scan import is_valid_uid
from kiosk.media.spool import fsync_dir, spool_path
from kiosk.store import studies
from kiosk.store.studies import StudyRecord
from reconcile.coerce import apply_coercion, plan_coercion
from reconcile.model import TargetIdentity
from reconcile.uids import new_uid_map

log = logging.getLogger(__name__)


def coerce_study(
    conn: sqlite3.Connection,
    config: Config,
    record: StudyRecord,
    target: TargetIdentity,
    *,
    reason: str | None = None,
    new_uids: bool | None = None,
    generation: int = 0,
) -> CoercedStudy:
    """Write the coerced files of a spooled study; return what the outbox needs.

    Parameters
    ----------
    reason
        The coercion reason recorded in OriginalAttributesSequence
        (``CORRECT`` for a correction); ``None`` for the destination's rule.
    new_uids
        Give the study new UIDs (``None``: as the destination's rule says).
        A correction of a study sent under another patient always does.
    generation
        Salts the new UIDs: each correction gets UIDs of its own, while a
        resend of the same step after a crash gets the same ones.

    Raises
    ------
    SpoolError
        If the spool cannot be written (a full disk, a missing folder).
    """
    destination = config.destination(record.destination)
    rules = destination.coercion
    if new_uids is None:
        new_uids = rules.new_uids
    rows = studies.instances_of(conn, record.id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        originals = {row["id"]: _read_original(row) for row in rows}
    uid_map: dict[str, str] = {}
    if new_uids:
        old: list[str] = [record.study_instance_uid]
        for ds, _ in originals.values():
            if ds is not None:
                old += [str(ds.get("SeriesInstanceUID", "")), str(ds.get("SOPInstanceUID", ""))]
        salt = f"{config.station}/{record.id}" + (f"/{generation}" if generation else "")
        uid_map = new_uid_map(old, salt=salt)
    when = datetime.now().astimezone()
    folder = spool_path(config.spool_dir, f"study-{record.id:06d}", "coerced")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fsync_dir(folder.parent)
    except OSError as exc:
        raise SpoolError(f"cannot create {folder} ({exc.strerror}); check the spool") from exc
    coerced: list[CoercedInstance] = []
    # pydicom warns (and logs) on a hostile value, such as an invalid UID; the outcome is
    # decided by the checks here, never by the process's warning filters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in rows:
            ds, problem = originals[row["id"]]
            target_file = spool_path(folder, f"{row['id']:08d}.dcm")
            if ds is None:
                coerced.append(
                    CoercedInstance(row["id"], "", "", str(row["sop_instance_uid"]), problem)
                )
                continue
            plan = plan_coercion(ds, target, rules, uid_map)
            apply_coercion(
                ds,
                plan,
                modifying_system=f"{config.ae_title} {config.station}",
                when=when,
                reason=reason,
                source_of_previous_values=plan.original_issuer
                or str(ds.get("InstitutionName", "")),
            )
            sha256 = _write(ds, target_file)
            sop_uid = str(ds.get("SOPInstanceUID", ""))
            refused = ""
            bad = _invalid_uids(ds)
            if bad:
                refused = (
                    f"{'; '.join(bad)}: not a valid DICOM UID, so not sent (a destination "
                    "with new_uids gives the study UIDs of its own)"
                )
            coerced.append(CoercedInstance(row["id"], str(target_file), sha256, sop_uid, refused))
    fsync_dir(folder)
    new_study_uid = uid_map.get(record.study_instance_uid, record.study_instance_uid)
    return CoercedStudy(new_study_uid, tuple(coerced), bool(uid_map))


def _invalid_uids(ds: pydicom.Dataset) -> list[str]:
    """The identifying UIDs of a (coerced) data set that are not valid UIDs, named with value."""
    bad = []
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID"):
        value = str(ds.get(keyword, "") or "")
        if not is_valid_uid(value):
            bad.append(f"{keyword} {value[:80]!r}")
    return bad


def _read_original(row: sqlite3.Row) -> tuple[pydicom.Dataset | None, str]:
    """Read a spooled original whose bytes still match their SHA-256; else say why not."""
    path = Path(row["original_path"]) if row["original_path"] else None
    if path is None:
        return None, "not copied from the disc; import the disc again"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"the spool copy cannot be read ({exc.strerror}); import the disc again"
    if hashlib.sha256(data).hexdigest() != row["original_sha256"]:
        return None, "the spool copy no longer matches its SHA-256; import the disc again"
    try:
        return pydicom.dcmread(io.BytesIO(data)), ""
    except Exception as exc:  # pydicom raises many types for a file it cannot parse
        return None, f"the spool copy cannot be parsed ({type(exc).__name__}); check the disc"


def _write(ds: pydicom.Dataset, target: Path) -> str:
    """Write ``ds`` to ``target`` (temporary name, fsync, rename); return its SHA-256."""
    buffer = io.BytesIO()
    ds.save_as(buffer)
    data = buffer.getbuffer()
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpoolError(
            f"cannot write the coerced copy {target.name} ({exc.strerror}); free space on "
            "the spool disk, then run 'kiosk send': the import is finished from the spool"
        ) from exc
    return hashlib.sha256(data).hexdigest()
