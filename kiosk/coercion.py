"""Coerce a spooled study's untouched originals into the files the outbox sends.

Each original is checked against the SHA-256 recorded when it was copied (a
damaged original is never coerced into a "good" file). Only its header, the
part before the pixel data, is parsed (:mod:`pydicom`, large values deferred)
and coerced (:mod:`reconcile.coerce`); the pixel data and whatever follows are
copied from the original in chunks, byte for byte, so memory stays flat
whatever the size of the images. The result is written under a name made of
our own instance id, fsynced and hashed, so the sender can refuse a file that
changed afterwards. Nothing here writes the database:
:func:`kiosk.lifecycle.record_queued` records the result in one transaction.

pydicom reads the whole data set or stops before the pixel data; writing a
new header in front of the original's own pixel data bytes is what no
library here does, hence the few lines of :func:`_write`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import sqlite3
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pydicom

from kiosk.config import Config
from kiosk.errors import SpoolError
from kiosk.lifecycle import CoercedInstance, CoercedStudy
from kiosk.media.scan import is_valid_uid
from kiosk.media.spool import fsync_dir, sha256_of, spool_path, study_folder
from kiosk.paths import private_opener
from kiosk.store import studies
from kiosk.store.studies import StudyRecord
from reconcile.coerce import apply_coercion, plan_coercion
from reconcile.model import TargetIdentity
from reconcile.uids import new_uid_map

log = logging.getLogger(__name__)

HEADER_CAP = 64 << 20  # a header (all before the pixel data) larger than this is not sent
DEFER = 1 << 20  # header values larger than this are read only when written
CHUNK = 1 << 20
_DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass
class _Original:
    """A spooled original's header, and where the rest (its pixel data) starts."""

    header: pydicom.Dataset
    tail_at: int | None


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
    # pydicom warns (and logs) on a hostile value, such as an invalid UID; the outcome is
    # decided by the checks here, never by the process's warning filters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        originals = {row["id"]: _read_original(row) for row in rows}
    uid_map: dict[str, str] = {}
    if new_uids:
        old: list[str] = [record.study_instance_uid]
        for original, _ in originals.values():
            if original is not None:
                header = original.header
                old += [str(header.get("SeriesInstanceUID", "")), str(header.SOPInstanceUID)]
        salt = f"{config.station}/{record.id}" + (f"/{generation}" if generation else "")
        uid_map = new_uid_map(old, salt=salt)
    when = datetime.now().astimezone()
    folder = spool_path(study_folder(config.spool_dir, record.id), "coerced")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fsync_dir(folder.parent)
    except OSError as exc:
        raise SpoolError(f"cannot create {folder} ({exc.strerror}); check the spool") from exc
    coerced: list[CoercedInstance] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in rows:
            original, problem = originals[row["id"]]
            if original is None:
                coerced.append(
                    CoercedInstance(row["id"], "", "", str(row["sop_instance_uid"]), problem)
                )
                continue
            ds = original.header
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
            target_file = spool_path(folder, f"{row['id']:08d}.dcm")
            sha256 = _write(ds, Path(row["original_path"]), original.tail_at, target_file)
            bad = _invalid_uids(ds)
            refused = (
                f"{'; '.join(bad)}: not a valid DICOM UID, so not sent (a destination "
                "with new_uids gives the study UIDs of its own)"
                if bad
                else ""
            )
            sop_uid = str(ds.get("SOPInstanceUID", ""))
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


def _read_original(row: sqlite3.Row) -> tuple[_Original | None, str]:
    """Read a spooled original's header, if its bytes still match their SHA-256; else say why.

    The header is read within bounds: values over :data:`DEFER` bytes stay on
    disk until written, a header over :data:`HEADER_CAP` or a length that runs
    past the end of the file is refused, and nesting too deep for the parser
    is a reason, not a crash.
    """
    path = Path(row["original_path"]) if row["original_path"] else None
    if path is None:
        return None, "not copied from the disc; import the disc again"
    try:
        if sha256_of(path) != row["original_sha256"]:
            return None, "the spool copy no longer matches its SHA-256; import the disc again"
        size = path.stat().st_size
        with open(path, "rb") as fh:
            header = pydicom.dcmread(fh, stop_before_pixels=True, defer_size=DEFER)
            end = fh.tell()
        tail_at: int | None = end if end < size else None
        if _syntax(header) == _DEFLATED:  # one compressed stream: read and written whole
            header, tail_at = pydicom.dcmread(path), None
    except OSError as exc:
        return None, f"the spool copy cannot be read ({exc.strerror}); import the disc again"
    except RecursionError:
        return None, "sequences nested too deep to read; not sent, check the disc"
    except Exception as exc:  # pydicom raises many types for a file it cannot parse
        return None, f"the spool copy cannot be parsed ({type(exc).__name__}); check the disc"
    if end > size:
        return None, "an element's length runs past the end of the file; not sent"
    if (tail_at if tail_at is not None else end) > HEADER_CAP:
        return None, f"a header of {end >> 20} MB before the pixel data; not sent"
    if "SOPInstanceUID" not in header:
        return None, "the spool copy has no SOP Instance UID; check the disc"
    return _Original(header, tail_at), ""


def _syntax(ds: pydicom.Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    return str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""


def _write(ds: pydicom.Dataset, original: Path, tail_at: int | None, target: Path) -> str:
    """Write the coerced header, then the original's bytes from ``tail_at`` on; return SHA-256.

    ``tail_at`` is where the original's header ends (at its pixel data, as a
    rule); ``None`` when ``ds`` is the whole data set. The file goes to a
    temporary name, is fsynced and renamed into place.
    """
    digest = hashlib.sha256()
    tmp = target.with_name(target.name + ".part")
    try:
        with open(tmp, "wb", opener=private_opener) as out:  # PHI: 0600
            head = io.BytesIO()
            ds.save_as(head)
            out.write(head.getbuffer())
            digest.update(head.getbuffer())
            if tail_at is not None:
                with open(original, "rb") as src:
                    src.seek(tail_at)
                    while chunk := src.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SpoolError(
            f"cannot write the coerced copy {target.name} ({exc.strerror}); free space on "
            "the spool disk, then run 'kiosk send': the import is finished from the spool"
        ) from exc
    return digest.hexdigest()
