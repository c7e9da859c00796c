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
between writing it and queueing), and its checksum is recorded with it, so a
header changed after queueing is refused like a changed original.

pydicom reads the whole data set or stops before the pixel data; sending a
new header in front of the original's own pixel data bytes is what no
library here does, hence :func:`_header_bytes` and ``Spliced``.
"""

from __future__ import annotations

import io
import logging
import sqlite3
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pydicom
from pydicom.charset import default_encoding, python_encoding
from pydicom.datadict import tag_for_keyword
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element
from pydicom.multival import MultiValue

from kiosk import digest
from kiosk.config import Config
from kiosk.lifecycle import CoercedInstance, CoercedStudy
from kiosk.media.scan import is_valid_uid
from kiosk.splice import IMPLICIT_LE, read_raw_header, tail_problem
from kiosk.store import studies
from kiosk.store.studies import StudyRecord
from reconcile.coerce import IDENTITY_KEYWORDS, apply_coercion, plan_coercion
from reconcile.match import normal_sex
from reconcile.model import TargetIdentity
from reconcile.rules import CoercionRules
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


_BIG_ENDIAN = "1.2.840.10008.1.2.2"
_IDENTITY_READ = ("SOPInstanceUID", "StudyInstanceUID", "PatientID", "PatientBirthDate",
                  "PatientSex")  # fmt: skip


@dataclass(frozen=True)
class DiscIdentity:
    """Who and what the disc's read said a study is; each copied file must still say so.

    A file that says otherwise changed on the medium after it was read (another
    disc in the drive, a file swapped for another patient's) or contradicts its
    own study (an image of another sex): coerced to the confirmed patient, it
    would be a wrong-patient image, so it is not sent.
    """

    study_instance_uid: str
    patient_id: str
    birth_date: str
    sex: str
    sop_recorded: bool = True
    """Whether the instances' rows hold the files' own SOP Instance UIDs: not once the study
    was sent with new UIDs (a correction), whose rows then hold the new ones."""

    @classmethod
    def of(cls, record: StudyRecord) -> DiscIdentity:
        """The identity recorded for a study when its disc was read."""
        return cls(
            record.study_instance_uid,
            record.original_patient_id,
            record.original_birth_date,
            normal_sex(record.original_sex),
            record.new_study_instance_uid in ("", record.study_instance_uid),
        )

    def differs(self, sop_uid: str, values: Mapping[str, str]) -> str:
        """Why a file with these identity ``values`` is not this study's instance ``sop_uid``
        (empty: it is)."""
        found = []
        if self.sop_recorded and values["SOPInstanceUID"] != sop_uid:
            found.append("SOP Instance UID")
        if values["StudyInstanceUID"] != self.study_instance_uid:
            found.append("Study Instance UID")
        if values["PatientID"].strip(" \0") != self.patient_id.strip(" \0"):
            found.append("Patient ID")  # LO: leading and trailing spaces are not significant
        birth = values["PatientBirthDate"]
        if birth and self.birth_date and birth != self.birth_date:
            found.append("birth date")
        sex = normal_sex(values["PatientSex"])
        if sex and self.sex and sex != self.sex:
            found.append("sex")
        if not found:
            return ""
        return (
            f"the copied file's {', '.join(found)} differ from what the disc said when it was "
            "read (another disc, or a file of another patient); not sent: read the disc again"
        )


class HeaderCoercer:
    """Coerces one original's header at a time, for one study and one identity.

    :func:`coerce_study` uses it for a whole study; the importer (a worker
    thread) for each file as soon as it is copied, so that coercion overlaps
    the copy (:func:`coercer_for`).
    """

    def __init__(
        self,
        config: Config,
        target: TargetIdentity,
        rules: CoercionRules,
        *,
        uid_map: dict[str, str] | None = None,
        reason: str | None = None,
        when: datetime | None = None,
        disc: DiscIdentity | None = None,
    ) -> None:
        self.disc = disc
        self.config = config
        self.target = target
        self.rules = rules
        self.uid_map = uid_map or {}
        self.reason = reason
        self.when = when or datetime.now().astimezone()
        # Coerced identity elements by the original elements they replace (kiosk.splice).
        self._encoded: dict[tuple[object, ...], dict[int, bytes | None]] = {}
        # Original identity elements whose files pydicom coerces whole (UTF-8, a hostile value).
        self._whole: set[tuple[object, ...]] = set()

    def _apply(self, ds: pydicom.Dataset) -> bool:
        """Coerce ``ds``; True when its character set had to become UTF-8 (:func:`_fit_charset`)."""
        recoded = _fit_charset(ds, self.target)
        plan = plan_coercion(ds, self.target, self.rules, self.uid_map)
        apply_coercion(
            ds,
            plan,
            modifying_system=f"{self.config.ae_title} {self.config.station}",
            when=self.when,
            reason=self.reason,
            source_of_previous_values=plan.original_issuer or str(ds.get("InstitutionName", "")),
        )
        return recoded

    def coerce(
        self, instance_id: int, original: _Original | None, problem: str, sop_uid: str, path: str
    ) -> CoercedInstance:
        """Coerce a read original (or say why it is not sent: ``problem``)."""
        if original is None:
            return CoercedInstance(instance_id, "", "", sop_uid, problem)
        ds = original.header
        if self.disc is not None:
            values = {k: str(ds.get(k, "") or "") for k in _IDENTITY_READ}
            changed = self.disc.differs(sop_uid, values)
            if changed:
                return CoercedInstance(instance_id, "", "", sop_uid, changed)
        syntax = _syntax(ds)
        try:
            self._apply(ds)
            head = _header_bytes(ds)
        except Exception as exc:  # a value pydicom read but cannot write again (hostile)
            return CoercedInstance(
                instance_id,
                "",
                "",
                sop_uid,
                f"the header cannot be coerced ({type(exc).__name__}); not sent, check the disc",
            )
        tail_at = original.size if original.tail_at is None else original.tail_at
        uids = {k: str(ds.get(k, "") or "") for k in _CHECKED_UIDS}
        return self._coerced(
            instance_id,
            path,
            head,
            tail_at,
            uids,
            implicit=syntax == IMPLICIT_LE,
            big_endian=syntax == _BIG_ENDIAN,
        )

    def _coerced(
        self,
        instance_id: int,
        path: str,
        head: bytes,
        tail_at: int,
        uids: dict[str, str],
        *,
        implicit: bool,
        big_endian: bool = False,
        whole: bytes | None = None,
    ) -> CoercedInstance:
        bad = [f"{k} {v[:80]!r}" for k, v in uids.items() if not is_valid_uid(v)]
        refused = (
            f"{'; '.join(bad)}: not a valid DICOM UID, so not sent (a destination "
            "with new_uids gives the study UIDs of its own)"
            if bad
            else ""
        )
        if not refused and path:
            try:
                refused = tail_problem(
                    Path(path), tail_at, implicit=implicit, big_endian=big_endian, whole=whole
                )
            except OSError as exc:
                refused = f"the spool copy cannot be read ({exc.strerror}); import the disc again"
        return CoercedInstance(
            instance_id,
            path,
            digest.of_bytes(head),
            uids["SOPInstanceUID"],
            refused,
            header=head,
            tail_at=tail_at,
        )

    def coerce_file(
        self, instance_id: int, path: Path | None, checksum: str | None, sop_uid: str
    ) -> CoercedInstance:
        """Read and coerce one spooled original (``checksum=None``: just copied).

        Without new UIDs, the coerced identity elements are encoded once per
        distinct set of original identity elements (:data:`_IDENTITY_IN`) and
        each header is rebuilt from its own raw bytes (:mod:`kiosk.splice`);
        pydicom encodes a whole header only where the walker declines.
        """
        with warnings.catch_warnings():  # see coerce_study
            warnings.simplefilter("ignore")
            problem = _changed(path, checksum)
            if path is None or problem or self.uid_map:
                original, problem = (None, problem) if problem else _read_original(path, None)
                return self.coerce(instance_id, original, problem, sop_uid, str(path or ""))
            try:
                raw = read_raw_header(path, HEADER_CAP)
            except OSError:
                raw = None  # pydicom's read says why
            values = {k: raw.value(_tag(k)) for k in _IDENTITY_READ} if raw is not None else {}
            if (
                raw is None
                or _SOP_INSTANCE not in raw.spans
                or not all(map(str.isascii, values.values()))
            ):
                # pydicom reads it (and a Patient ID in another character set) whole
                original, problem = _read_original(path, None)
                return self.coerce(instance_id, original, problem, sop_uid, str(path))
            changed = self.disc.differs(sop_uid, values) if self.disc is not None else ""
            if changed:
                return CoercedInstance(instance_id, "", "", sop_uid, changed)
            key = (raw.implicit, *(raw.element(t) for t in _IDENTITY_IN))
            replaced = self._encoded.get(key)
            if key in self._whole:  # known from an earlier file: not read a second time here
                original, problem = _read_original(path, None)
                return self.coerce(instance_id, original, problem, sop_uid, str(path))
            if replaced is None:
                original, problem = _read_original(path, None)
                if original is None or original.tail_at != raw.tail_at:
                    return self.coerce(instance_id, original, problem, sop_uid, str(path))
                try:
                    recoded = self._apply(original.header)
                    encoded = _encode(original.header, _IDENTITY_OUT, implicit=raw.implicit)
                except Exception:  # pydicom's whole-header path says why (a hostile value)
                    recoded, encoded = True, {}
                if recoded:  # every text element in UTF-8, or a hostile value: pydicom's path
                    self._whole.add(key)
                    original, problem = _read_original(path, None)  # afresh: that one changed
                    return self.coerce(instance_id, original, problem, sop_uid, str(path))
                replaced = self._encoded[key] = encoded
            uids = {k: raw.value(_tag(k)) for k in _CHECKED_UIDS}
            return self._coerced(
                instance_id,
                str(path),
                raw.rebuild(replaced),
                raw.tail_at,
                uids,
                implicit=raw.implicit,
                whole=raw.whole,
            )


_CHECKED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID", "SOPClassUID")


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return int(tag)


_SOP_INSTANCE = _tag("SOPInstanceUID")
#: What coercion (without new UIDs) writes: the identity, the outside ID kept, the order,
#: the history (reconcile.coerce.apply_coercion).
_IDENTITY_OUT = tuple(
    _tag(k)
    for k in (
        *IDENTITY_KEYWORDS,
        "OtherPatientIDsSequence",
        "RequestAttributesSequence",
        "OriginalAttributesSequence",
    )
)
#: What it reads: the same, the institution (source of the old values) and the character
#: set the values are encoded in. Instances equal in these get the same coerced elements.
_IDENTITY_IN = (*_IDENTITY_OUT, _tag("InstitutionName"), _tag("SpecificCharacterSet"))


UTF8 = "ISO_IR 192"


def _fit_charset(ds: pydicom.Dataset, target: TargetIdentity) -> bool:
    """Declare UTF-8 when the identity coerced in does not fit the disc's character set.

    The order's name (Иванов^Сергей, 山田^太郎, Müller on a disc without a
    Specific Character Set, or on a Japanese disc in ISO 2022) may hold
    letters the disc's sets lack; pydicom would write them as ``?``, or as
    Latin-1 bytes the header does not declare. Then, before anything is
    coerced, every text element of the header is decoded with the disc's set
    and the header declared ``ISO_IR 192``, so that all of it is written
    again in UTF-8. Returns whether it was.
    """
    declared = ds.get("SpecificCharacterSet", "")
    terms = [str(t) for t in (declared if isinstance(declared, MultiValue) else [declared])]
    if UTF8 in terms:
        return False
    codecs = [
        python_encoding.get(t, "") for t in terms if t not in ("", "ISO_IR 6", "ISO 2022 IR 6")
    ]
    values = (
        target.patient_name,
        target.mrn,
        target.issuer,
        target.accession_number,
        target.requested_procedure_id,
        target.requested_procedure_description,
        target.scheduled_step_id,
    )
    letters = {ch for value in values if value for ch in value if not ch.isascii()}
    if all(any(_writes(ch, codec) for codec in codecs) for ch in letters):
        return False  # ASCII needs no set; every other letter is in one the disc declares
    ds.decode()
    ds.SpecificCharacterSet = UTF8
    return True


def _writes(letter: str, codec: str) -> bool:
    """Whether a Python codec of a declared set can write ``letter`` (no codec: no)."""
    try:
        letter.encode(codec)  # "" (a set Python has no codec for) raises LookupError
    except (UnicodeError, LookupError):
        return False
    return True


def _encode(
    ds: pydicom.Dataset, tags: tuple[int, ...], *, implicit: bool
) -> dict[int, bytes | None]:
    """Each of ``tags`` of ``ds`` encoded as pydicom writes it in a data set (None: absent)."""
    charset = ds.get("SpecificCharacterSet", default_encoding)
    out: dict[int, bytes | None] = {}
    for tag in tags:
        if tag not in ds:
            out[tag] = None
            continue
        fp = DicomBytesIO()
        fp.is_little_endian = True
        fp.is_implicit_VR = implicit
        write_data_element(fp, ds.get_item(tag), charset)
        out[tag] = fp.getvalue()
    return out


@dataclass(frozen=True)
class Precoerced:
    """Instances coerced while they were copied, for ``target`` at ``when``, by instance id."""

    target: TargetIdentity
    when: datetime
    instances: Mapping[int, CoercedInstance]


def coercer_for(
    config: Config, record: StudyRecord, target: TargetIdentity
) -> HeaderCoercer | None:
    """A coercer for a study's files as they are copied; None if the study gets new UIDs.

    New UIDs remap every UID of the study, known only once all of it is read.
    """
    rules = config.destination(record.destination).coercion
    disc = DiscIdentity.of(record)
    return None if rules.new_uids else HeaderCoercer(config, target, rules, disc=disc)


def coerce_study(
    conn: sqlite3.Connection,
    config: Config,
    record: StudyRecord,
    target: TargetIdentity,
    *,
    reason: str | None = None,
    new_uids: bool | None = None,
    generation: int = 0,
    ready: Precoerced | None = None,
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
    ready
        Instances already coerced (by :func:`coercer_for`'s coercer, while
        they were copied); used as they are when they were coerced for this
        target, with the destination's rule and no new UIDs.
    """
    destination = config.destination(record.destination)
    rules = destination.coercion
    if new_uids is None:
        new_uids = rules.new_uids
    rows = studies.instances_of(conn, record.id)
    usable = ready is not None and ready.target == target and reason is None and not new_uids
    done = dict(ready.instances) if ready is not None and usable else {}
    for row in rows:
        kept = done.get(row["id"])
        if kept is not None and (kept.path != str(row["original_path"] or "") or not kept.path):
            del done[row["id"]]  # not the file the row names (or refused): coerced again
    if not new_uids:
        when = ready.when if ready is not None and usable else None
        coercer = HeaderCoercer(
            config, target, rules, reason=reason, when=when, disc=DiscIdentity.of(record)
        )
        coerced = [
            done.get(row["id"])
            or coercer.coerce_file(
                row["id"],
                Path(row["original_path"]) if row["original_path"] else None,
                str(row["original_digest"] or ""),
                str(row["sop_instance_uid"]),
            )
            for row in rows
        ]
        return CoercedStudy(record.study_instance_uid, tuple(coerced), False)
    # pydicom warns (and logs) on a hostile value, such as an invalid UID; the outcome is
    # decided by the checks here, never by the process's warning filters.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        originals = {
            row["id"]: _read_original(
                Path(row["original_path"]) if row["original_path"] else None,
                str(row["original_digest"] or ""),
            )
            for row in rows
        }
    old: list[str] = [record.study_instance_uid]
    for original, _ in originals.values():
        if original is not None:
            header = original.header
            old += [str(header.get("SeriesInstanceUID", "")), str(header.SOPInstanceUID)]
    salt = f"{config.station}/{record.id}" + (f"/{generation}" if generation else "")
    uid_map = new_uid_map(old, salt=salt)
    coercer = HeaderCoercer(
        config, target, rules, uid_map=uid_map, reason=reason, disc=DiscIdentity.of(record)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        coerced = [
            coercer.coerce(
                row["id"],
                *originals[row["id"]],
                str(row["sop_instance_uid"]),
                str(row["original_path"] or ""),
            )
            for row in rows
        ]
    new_study_uid = uid_map.get(record.study_instance_uid, record.study_instance_uid)
    return CoercedStudy(new_study_uid, tuple(coerced), bool(uid_map))


def _changed(path: Path | None, checksum: str | None) -> str:
    """Why a spooled original is not what was copied (empty: it is, or ``checksum`` is None)."""
    if path is None:
        return "not copied from the disc; import the disc again"
    if checksum is None:
        return ""
    try:
        if digest.of_file(path) != checksum:
            return "the spool copy no longer matches its SHA-256; import the disc again"
    except OSError as exc:
        return f"the spool copy cannot be read ({exc.strerror}); import the disc again"
    return ""


def _read_original(path: Path | None, checksum: str | None) -> tuple[_Original | None, str]:
    """Read a spooled original's header, if its bytes still match their checksum; else say why.

    ``checksum=None`` skips the check: the file was copied a moment
    ago by this process (the sender checks it again before it goes). The
    header is read within bounds: values over :data:`DEFER` bytes stay on
    disk until written, a header over :data:`HEADER_CAP` or a length that runs
    past the end of the file is refused, and nesting too deep for the parser
    is a reason, not a crash.
    """
    problem = _changed(path, checksum)
    if path is None or problem:
        return None, problem
    try:
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
