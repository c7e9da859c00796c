"""Coerce a spooled study's untouched originals on the way out: headers, not copies.

Only each original's header, the part before the pixel data, is parsed
(:mod:`pydicom`, large values deferred) and coerced (:mod:`reconcile.coerce`).
The coerced header (preamble, file meta and the data set's elements before
the pixel data, the IRWF.b way, originals kept in Original Attributes) is
kept with the offset in the original where the rest begins; the sender sends
the header followed by the original's bytes from there (:class:`kiosk.send.
sender.Spliced`). The untouched original stays the one copy on disk: no
second full copy is written. Nothing here writes the database:
:func:`kiosk.lifecycle.record_queued` records the headers in one transaction.

Why the header is a BLOB in the database rather than a sidecar file: it is
small (a few kB), it is then recorded in the same transaction that queues
the study (no file to fsync per instance, none left behind by a crash
between writing it and queueing), and its SHA-256 is recorded with it, so a
header changed after queueing is refused like a changed original.

pydicom reads the whole data set or stops before the pixel data; sending a
new header in front of the original's own pixel data bytes is what no
library here does, hence :func:`_header_bytes` and ``Spliced``.
"""

from __future__ import annotations

import hashlib
import io
import logging
import sqlite3
import warnings
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pydicom

from kiosk.config import Config
from kiosk.lifecycle import CoercedInstance, CoercedStudy
from kiosk.media.scan import is_valid_uid
from kiosk.media.spool import sha256_of
from kiosk.store import studies
from kiosk.store.studies import StudyRecord
from reconcile.coerce import apply_coercion, plan_coercion
from reconcile.model import TargetIdentity
from reconcile.uids import new_uid_map

log = logging.getLogger(__name__)

HEADER_CAP = 64 << 20  # a header (all before the pixel data) larger than this is not sent
DEFER = 1 << 20  # header values larger than this are read only when written
_DEFLATED = "1.2.840.10008.1.2.1.99"


@dataclass
class _Original:
    """A spooled original's header, and where the rest (its pixel data) starts."""

    header: pydicom.Dataset
    tail_at: int | None
    size: int


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
    """Coerce the headers of a spooled study's originals; return what the outbox needs.

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
            head = _header_bytes(ds)
            tail_at = original.size if original.tail_at is None else original.tail_at
            bad = _invalid_uids(ds)
            refused = (
                f"{'; '.join(bad)}: not a valid DICOM UID, so not sent (a destination "
                "with new_uids gives the study UIDs of its own)"
                if bad
                else ""
            )
            sop_uid = str(ds.get("SOPInstanceUID", ""))
            coerced.append(
                CoercedInstance(
                    row["id"],
                    str(row["original_path"]),
                    hashlib.sha256(head).hexdigest(),
                    sop_uid,
                    refused,
                    header=head,
                    tail_at=tail_at,
                )
            )
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
    return _Original(header, tail_at, size), ""


def _syntax(ds: pydicom.Dataset) -> str:
    meta = getattr(ds, "file_meta", None)
    return str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""


def _header_bytes(ds: pydicom.Dataset) -> bytes:
    """The coerced header as sent: preamble, file meta and the data set read (no pixel data)."""
    head = io.BytesIO()
    ds.save_as(head)
    return head.getvalue()
