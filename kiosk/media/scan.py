"""Read a medium: its DICOMDIR when there is one, and every file on it.

A medium is a mounted disc, a folder, or an ``.iso`` image (extracted with
pycdlib into a private temporary folder, see :mod:`kiosk.media.iso`).

Two depths:

- ``deep=True`` (the CLI's default): every DICOM file's own header is read,
  so the tree shows exactly what the files say, and truncated files are found.
- ``deep=False`` (the app's fast path): the tree comes from the DICOMDIR's
  records (patient, study, series and instance keys are all there); the files
  they point at are only checked to exist. Files the DICOMDIR does not list
  are still read. Headers are read later, when a study is chosen:
  :func:`verify` checks the study's files against their real headers and
  returns the scan as they say; :meth:`MediaScan.select` refuses a study
  whose files were not read, so an import never trusts the index.

The DICOMDIR's records are walked directly rather than through pydicom's
``FileSet``: ``FileSet.load`` silently drops records whose file is missing or
whose name differs in case, which would hide a missing image from the clerk.
Every deviation is recorded as a :class:`~kiosk.media.problems.Problem`; the
outcome never depends on the caller's warnings filters.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import struct
import warnings
import weakref
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pydicom
from pydicom.charset import convert_encodings, decode_bytes, python_encoding
from pydicom.datadict import dictionary_VR, keyword_for_tag, tag_for_keyword
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID
from pydicom.valuerep import PersonName
from pydicom.values import convert_PN

from kiosk.errors import NoDicomError
from kiosk.media import charsets, extractions, iso
from kiosk.media.dicomdir import DicomdirTooLarge, Record, Value, read_directory
from kiosk.media.disc_files import DISC_OPEN_FLAGS
from kiosk.media.fastheader import (
    MEDIA_STORAGE_DIRECTORY,
    HostileFile,
    SequencesLeftOut,
    SequenceTooDeep,
    layout,
    open_bounded,
    pixel_data_whole,
    read_header,
    starts_data_set,
)
from kiosk.media.model import LostInstance, MediaInstance, MediaScan, same_patient
from kiosk.media.names import special_kind
from kiosk.media.problems import Problem, ProblemCode

log = logging.getLogger(__name__)

# The one table of what the scan reads of an instance: MediaInstance field ->
# (keyword, the DICOMDIR record level that holds it: "" the file alone, "LEAF" the
# image record). The tags, pydicom's specific_tags and the records' keys come from it.
_FIELDS: dict[str, tuple[str, str]] = {
    "sop_instance_uid": ("SOPInstanceUID", ""),
    "sop_class_uid": ("SOPClassUID", ""),
    "patient_id": ("PatientID", "PATIENT"),
    "issuer_of_patient_id": ("IssuerOfPatientID", "PATIENT"),
    "patient_name": ("PatientName", "PATIENT"),
    "birth_date": ("PatientBirthDate", "PATIENT"),
    "sex": ("PatientSex", "PATIENT"),
    "study_instance_uid": ("StudyInstanceUID", "STUDY"),
    "study_date": ("StudyDate", "STUDY"),
    "study_description": ("StudyDescription", "STUDY"),
    "accession_number": ("AccessionNumber", "STUDY"),
    "series_instance_uid": ("SeriesInstanceUID", "SERIES"),
    "modality": ("Modality", "SERIES"),
    "series_number": ("SeriesNumber", "SERIES"),
    "series_description": ("SeriesDescription", "SERIES"),
    "instance_number": ("InstanceNumber", "LEAF"),
    "body_part": ("BodyPartExamined", ""),  # for relevant priors (kiosk/app/priors.py)
}
_FIELD_TAGS: dict[str, int] = {
    name: int(tag_for_keyword(keyword) or 0) for name, (keyword, _) in _FIELDS.items()
}
_CHECKED_KEYS = ("sop_instance_uid", "study_instance_uid", "series_instance_uid", "patient_id")

# DICOMDIR record attributes, by tag.
_T_NEXT = 0x00041400
_T_IN_USE = 0x00041410
_T_LOWER = 0x00041420
_T_TYPE = 0x00041430
_T_FILE_ID = 0x00041500
_T_REF_CLASS = 0x00041510
_T_REF_SOP = 0x00041511
_T_REF_TS = 0x00041512
_T_FIRST_ROOT = 0x00041200
_T_CHARSET = 0x00080005
_T_NAME = 0x00100010
_RECORD_KEYS = {
    level: {name: _FIELD_TAGS[name] for name, (_, at) in _FIELDS.items() if at == level}
    for level in ("PATIENT", "STUDY", "SERIES", "LEAF")
}
_RECORD_TAGS = frozenset(
    {_T_NEXT, _T_IN_USE, _T_LOWER, _T_TYPE, _T_FILE_ID, _T_REF_CLASS, _T_REF_SOP, _T_REF_TS}
    | {_T_CHARSET}
    | {tag for level in _RECORD_KEYS.values() for tag in level.values()}
)
_IDENTITY_FIELDS = [k for level in _RECORD_KEYS.values() for k in level]
_TEXT_TAGS = {  # decoded with the character set (the others are ASCII by their VR)
    tag for tag in _FIELD_TAGS.values() if dictionary_VR(tag) in ("PN", "SH", "LO", "ST", "LT")
}
_FAST_TAGS = frozenset({*_FIELD_TAGS.values(), _T_CHARSET})
_HEADER_TAGS = ["SpecificCharacterSet", *(keyword for keyword, _ in _FIELDS.values())]


def scan_medium(source: Path, *, deep: bool = True) -> MediaScan:
    """Read a mounted disc, a folder or an ``.iso`` image and list what it holds.

    Parameters
    ----------
    source
        A mounted medium, a folder, or an ISO 9660 / UDF image file.
    deep
        Read every file's header (True), or trust the DICOMDIR's records for
        the files it lists; their headers are then read by :func:`verify`.

    Raises
    ------
    NoDicomError
        If the path does not exist, is empty, or holds no readable DICOM instance.
    """
    if not source.exists():
        raise NoDicomError(f"{source} does not exist; insert the disc or check the path")
    extracted: _Extracted | None = None
    found: list[Problem] = []  # an image's own problems (symlinks, shared extents, ...)
    if source.is_file():
        if not iso.is_iso_image(source):
            raise NoDicomError(
                f"{source} is a file, not a disc, folder or .iso image; give the folder instead"
            )
        image = iso.extract_image_to_temp(source)
        extracted = _Extracted(image.folder)
        root = image.folder
        found = image.problems
        label = iso.volume_label(source)
    else:
        root = source.resolve()
        label = root.name
    try:
        return _Scanner(source, root, deep, found).run(label, extracted)
    except BaseException:
        if extracted is not None:
            extracted.remove()
        raise


class _Extracted:
    """An image's extracted files: removed when no scan of it is left (or at exit).

    By :func:`~kiosk.media.extractions.remove_tree`, without recursion: ``shutil.rmtree`` raised
    ``RecursionError`` on a deep tree and left the files behind.
    """

    def __init__(self, folder: Path) -> None:
        self.remove = weakref.finalize(self, extractions.remove_tree, str(folder))


def verify(scan: MediaScan, study_uids: Iterable[str] | None = None) -> MediaScan:
    """Read the headers of instances a quick scan took from DICOMDIR records.

    Returns the scan as the files say (``scan`` itself when nothing was left
    to read). With ``study_uids``, the instances of those studies, then the
    record-only instances carrying one of their SOP Instance UIDs (so that an
    image shared with another patient is seen); without, every instance. What
    :meth:`MediaScan.select` needs before it chooses a study.

    Each instance is replaced by what its file says; a file that cannot be
    read, is cut short, or is a second copy of an instance already listed is
    taken out with a problem, and a file whose header contradicts its
    DICOMDIR record gets a ``dicomdir-mismatch`` problem.
    """
    if study_uids is None:
        return _verified(scan, [i for i in scan.instances if not i.verified])
    wanted = set(study_uids)
    scan = _verified(
        scan, [i for i in scan.instances if not i.verified and i.study_instance_uid in wanted]
    )
    sops = {i.sop_instance_uid for i in scan.instances if i.study_instance_uid in wanted}
    return _verified(
        scan, [i for i in scan.instances if not i.verified and i.sop_instance_uid in sops]
    )


def _verified(scan: MediaScan, instances: Iterable[MediaInstance]) -> MediaScan:
    """The scan with these record-only instances replaced by what their files say."""
    pending = {i.relpath: i for i in instances if not i.verified}
    if not pending:
        return scan
    problems = list(scan.problems)
    seen: dict[str, list[MediaInstance]] = {}
    for i in scan.instances:
        if i.relpath not in pending:
            seen.setdefault(i.sop_instance_uid, []).append(i)
    out: list[MediaInstance] = []
    lost: list[LostInstance] = []
    for inst in scan.instances:
        if inst.relpath not in pending:
            out.append(inst)
            continue
        read = _read_listed(scan.root / inst.relpath, inst.relpath, problems)
        if read is not None and read.instance is None:
            problems.append(
                Problem(ProblemCode.MISSING_UID, inst.relpath, "DICOM file without SOP UID")
            )
        elif read is not None and not read.complete:
            problems.append(_truncated(inst.relpath))
        if read is None or read.instance is None or not read.complete:
            lost.append(LostInstance(inst, _why(problems, inst.relpath)))
            continue
        real = read.instance
        real = _check_uids(_fill_from(real, inst), problems)
        if mismatch := _mismatch(inst.relpath, inst, real):
            problems.append(mismatch)
        if elsewhere := _listed_elsewhere(inst, real):
            lost.append(elsewhere)
        same = seen.setdefault(real.sop_instance_uid, [])
        first = next((s for s in same if same_patient(s, real)), None)
        if first is not None:
            problems.append(_duplicate(inst.relpath, first.relpath))
            continue
        same.append(real)
        out.append(real)
    return _with_conflicts(
        replace(scan, instances=tuple(out), problems=tuple(problems), lost=(*scan.lost, *lost))
    )


def _mismatch(rel: str, listed: MediaInstance, real: MediaInstance) -> Problem | None:
    """A ``dicomdir-mismatch`` when the DICOMDIR record and the file's header disagree."""
    differs = [
        name
        for name in _CHECKED_KEYS
        if getattr(listed, name) and getattr(real, name) != getattr(listed, name)
    ]
    if not differs:
        return None
    return Problem(
        ProblemCode.DICOMDIR_MISMATCH,
        rel,
        "the DICOMDIR record and the file disagree on "
        + ", ".join(differs)
        + "; the file's own header is used",
    )


def _listed_elsewhere(listed: MediaInstance, real: MediaInstance) -> LostInstance | None:
    """The image a DICOMDIR record lists when the record's file holds another one (a copy of
    another image, a hard link to it, an image of another study): it is not on the disc."""
    if not listed.sop_instance_uid or real.sop_instance_uid == listed.sop_instance_uid:
        return None
    return _lost_apart(
        listed, f"the DICOMDIR lists it at {listed.relpath}, whose file holds another image"
    )


def _lost_apart(listed: MediaInstance, why: str) -> LostInstance:
    """The image a record lists at a file that holds another: lost, named apart from the
    file's own image (``FILE#SOP``: an instance row's disc path is its key)."""
    return LostInstance(replace(listed, relpath=f"{listed.relpath}#{listed.sop_instance_uid}"), why)


def _why(problems: Sequence[Problem], rel: str) -> str:
    """What the scan said of the file ``rel`` last (why it cannot be read)."""
    return next((p.message for p in reversed(problems) if p.path == rel), "cannot be read")


_UID = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*))*")
_UID_FIELDS = {
    "study_instance_uid": "StudyInstanceUID",
    "series_instance_uid": "SeriesInstanceUID",
    "sop_instance_uid": "SOPInstanceUID",
    "sop_class_uid": "SOPClassUID",
}


def is_valid_uid(value: str) -> bool:
    """Tell whether ``value`` is a valid UID per PS3.5 9.1.

    Only ASCII digits and dots, no empty component, no leading zero in a
    component (except "0" itself), at most 64 characters, not empty.

    Written here rather than using ``pydicom.uid.UID(value).is_valid``: that
    property matches with ``re.match`` and ``$``, so it accepts a trailing
    newline, and making the ``UID`` strips trailing spaces and warns or raises
    depending on pydicom's global validation settings. Values from a disc are
    hostile; this check is exact and has no side effects.
    """
    return 0 < len(value) <= 64 and _UID.fullmatch(value) is not None


def registry_name(value: str) -> str:
    """The name of ``value`` in the DICOM registry of UIDs (PS3.6 Annex A), else ``""``.

    A valid UID that names a SOP class, a transfer syntax or another thing of
    the standard (such as ``1.2.840.10008.5.1.4.1.1.2``, CT Image Storage) is
    not a study's, a series' or an image's own UID.

    Parameters
    ----------
    value
        A UID, checked with :func:`is_valid_uid` first (else ``""``).

    Returns
    -------
    str
        The registry's name (pydicom's UID dictionary), or ``""``.
    """
    if not is_valid_uid(value):
        return ""
    uid = UID(value)
    return uid.name if uid.type else ""


def _check_uids(
    inst: MediaInstance, problems: list[Problem], *, record: bool = False
) -> MediaInstance:
    """The instance, with ``uid_valid=False`` and an ``invalid-uid`` problem per bad UID.

    ``record`` is for values taken from DICOMDIR records (a quick scan): a key
    they leave out is not a problem, since the file's own header is checked
    when it is read. An instance read from its file without a PatientID also
    gets a ``missing-patient-id`` problem (it stays listed).
    """
    if not record and not inst.patient_id.strip():
        missing = Problem(
            ProblemCode.MISSING_PATIENT_ID,
            inst.relpath,
            "the image has no PatientID (0010,0020), or it is empty; it is listed anyway: "
            "find the patient by name and birth date",
        )
        if missing not in problems:
            problems.append(missing)
    bad = False
    whose = "the DICOMDIR record's " if record else ""
    for name, keyword in _UID_FIELDS.items():
        value = getattr(inst, name)
        standard = registry_name(value) if keyword != "SOPClassUID" else ""
        if (is_valid_uid(value) and not standard) or (record and not value):
            continue
        bad = True
        if standard:
            what = (
                f"is a UID of the DICOM standard ({standard[:60]}), not one of its own: "
                f"{repr(value)[:80]}"
            )
        elif not value:
            what = "is missing or empty"
        else:
            what = f"is not a valid UID: {repr(value)[:80]}"
        problem = Problem(ProblemCode.INVALID_UID, inst.relpath, f"{whose}{keyword} {what}")
        if problem not in problems:
            problems.append(problem)
    return replace(inst, uid_valid=False) if bad else inst


def _with_conflicts(scan: MediaScan) -> MediaScan:
    """The scan, its problems holding one ``identity-conflict`` problem per current conflict."""
    current = [Problem(ProblemCode.IDENTITY_CONFLICT, "", c.message) for c in scan.conflicts]
    keep = set(current)
    problems = [p for p in scan.problems if p.code != ProblemCode.IDENTITY_CONFLICT or p in keep]
    have = set(problems)
    for problem in current:
        if problem not in have:
            log.info("identity conflict on a medium: %s", problem.message)
            problems.append(problem)
    return scan if tuple(problems) == scan.problems else replace(scan, problems=tuple(problems))


# --- the scanner --------------------------------------------------------------------------


@dataclass
class _Read:
    """What reading one file's header gave."""

    instance: MediaInstance | None
    complete: bool


@dataclass
class _Candidate:
    inst: MediaInstance
    referenced: bool
    complete: bool


class _Scanner:
    def __init__(
        self, source: Path, root: Path, deep: bool, problems: Iterable[Problem] = ()
    ) -> None:
        self.source = source
        self.root = root
        self.deep = deep
        self.problems: list[Problem] = list(problems)
        self.candidates: list[_Candidate] = []
        self.non_dicom: list[str] = []
        self.lost: list[LostInstance] = []
        self._listed_at: dict[str, str] = {}  # file -> the SOP UID of the record listing it
        self._files: frozenset[str] = frozenset()  # the regular files the walk found

    def run(self, label: str, keep: object) -> MediaScan:
        seen: dict[str, tuple[int, int]] = {}
        files = list(_walk(self.root, self.problems, seen))
        self._files = frozenset(files)
        signature = _listing_digest(seen)
        index = {_norm(rel): rel for rel in files}
        dicomdirs = sorted(
            (rel for rel in files if _norm(rel).rsplit("/", 1)[-1] == "DICOMDIR"),
            key=lambda r: (r.count("/"), r),
        )
        referenced: set[str] = set()
        dicomdir = dicomdirs[0] if dicomdirs else None
        if dicomdir is None:
            self.problems.append(
                Problem(
                    ProblemCode.NO_DICOMDIR,
                    "",
                    "the disc has no DICOMDIR; every file was read to find the images",
                )
            )
        else:
            referenced.add(dicomdir)
            self._read_dicomdir(dicomdir, index, referenced)
        for other in dicomdirs[1:]:
            referenced.add(other)
            self.problems.append(
                Problem(
                    ProblemCode.EXTRA_DICOMDIR,
                    other,
                    f"a second DICOMDIR besides {dicomdir}; its images were read directly",
                )
            )
        for rel in files:
            if rel not in referenced:
                self._read_unlisted(rel, listed=dicomdir is not None)
        instances = self._deduplicate()
        if not instances:
            what = "is empty" if not files else "holds no readable DICOM images"
            raise NoDicomError(f"{self.source} {what}; check that this is the patient's image disc")
        log.info(
            "scanned a medium: %d instances, %d problems, %d non-DICOM files",
            len(instances),
            len(self.problems),
            len(self.non_dicom),
        )
        scan = MediaScan(
            source=self.source,
            root=self.root,
            dicomdir=dicomdir is not None,
            instances=tuple(instances),
            problems=tuple(self.problems),
            non_dicom=tuple(sorted(self.non_dicom)),
            label=label,
            keep=keep,
            lost=tuple(self.lost),
            signature=signature,
            unread=self._unread(listed=dicomdir is not None),
        )
        return _with_conflicts(scan)

    def _unread(self, listed: bool) -> tuple[str, ...]:
        """The paths of :attr:`MediaScan.unread` (``DICOMDIR``'s own for an index not read).

        ``listed``: the disc has a DICOMDIR. Read whole, it is the disc's own
        list of its images: what it lists and cannot be read is ``lost`` with its
        study, and a file it does not list and that cannot be read (a viewer's
        broken file) is a problem shown, not a reason to call the import
        incomplete.
        """
        unread_index = (ProblemCode.DICOMDIR_TOO_LARGE, ProblemCode.DICOMDIR_UNREADABLE)
        if listed and not any(p.code in unread_index for p in self.problems):
            return ()
        lost = {gone.listed.relpath for gone in self.lost}
        out: list[str] = []
        for p in self.problems:
            if p.path in lost:
                continue  # named with its study
            if (
                p.code in _NOT_READ
                or (p.code is ProblemCode.TRUNCATED_FILE and p.message.endswith(_LEFT_OUT))
                or (p.code is ProblemCode.SYMLINK_ON_MEDIUM and not self._links_to_a_file_read(p))
            ):
                out.append(p.path or "DICOMDIR")
        return tuple(dict.fromkeys(out))

    def _links_to_a_file_read(self, link: Problem) -> bool:
        """Whether a symbolic link on the medium names a file or folder the walk read.

        Such a link is a second name of what was read anyway (Rock Ridge allows
        them); any other link (outside the medium, dangling, or an image's link
        that was not extracted) may stand for an image that was not read. Only
        the link's path is resolved and its target's type looked at: nothing it
        points at is opened.
        """
        try:
            real = Path(os.path.realpath(self.root / link.path))
            rel = real.relative_to(self.root).as_posix()
            return rel in self._files or real.is_dir()
        except (OSError, ValueError):
            return False

    # -- files not listed in a DICOMDIR --

    def _read_unlisted(self, rel: str, *, listed: bool) -> None:
        kind = _sniff(self.root / rel, rel, self.problems)
        if kind is None:
            self.non_dicom.append(rel)
            return
        read = _read_file(self.root / rel, rel, kind, self.problems)
        if read is None:
            if kind == "raw":
                self.non_dicom.append(rel)
            return
        if read.instance is None:
            if kind == "raw":
                self.non_dicom.append(rel)
            else:
                self.problems.append(
                    Problem(ProblemCode.MISSING_UID, rel, "DICOM file without SOP Instance UID")
                )
            return
        if listed:
            self.problems.append(
                Problem(
                    ProblemCode.NOT_IN_DICOMDIR,
                    rel,
                    "image on the disc is not listed in the DICOMDIR; it was read directly",
                )
            )
        inst = _check_uids(read.instance, self.problems)
        self.candidates.append(_Candidate(inst, False, read.complete))

    # -- the DICOMDIR --

    def _read_dicomdir(self, rel: str, index: dict[str, str], referenced: set[str]) -> None:
        try:
            directory = read_directory(self.root / rel, _RECORD_TAGS)
        except DicomdirTooLarge as exc:
            self.problems.append(
                Problem(
                    ProblemCode.DICOMDIR_TOO_LARGE,
                    rel,
                    f"{exc}; every file was read instead",
                )
            )
            return
        except Exception as exc:  # any failure of a foreign DICOMDIR is a problem, not a crash
            self.problems.append(
                Problem(
                    ProblemCode.DICOMDIR_UNREADABLE,
                    rel,
                    f"the DICOMDIR cannot be read ({exc}); every file was read instead",
                )
            )
            return
        encodings = _encodings(directory.values)
        first = _int(directory.values, _T_FIRST_ROOT, directory.little_endian)
        base = rel.rsplit("/", 1)[0] + "/" if "/" in rel else ""
        for leaf, keys in self._leaves(rel, directory.records, first, encodings):
            self._follow(leaf, keys, base, index, referenced, encodings)

    def _leaves(
        self, rel: str, records: list[Record], first: int | None, encodings: list[str]
    ) -> Iterator[tuple[Record, dict[str, str]]]:
        """Yield each record that references a file, with its patient/study/series keys."""
        order = _tree_order(records, first, 0)
        if order is None and first is not None and records:
            # Offsets all shifted by the same amount: a tool rewrote the file meta
            # (e.g. a transfer syntax conversion) and kept the old offsets.
            order = _tree_order(records, first, first - records[0].offset)
        linked = order is not None
        if not linked and records:
            self.problems.append(
                Problem(
                    ProblemCode.DICOMDIR_BROKEN_LINKS,
                    rel,
                    "the DICOMDIR's record links are broken; its records were read in order",
                )
            )
        if order is None:
            order = [(r, -1) for r in records]
        context: dict[str, dict[str, str]] = {}
        levels = ["PATIENT", "STUDY", "SERIES"]
        stack_types: list[str] = []
        for record, depth in order:
            kind = _raw_text(record, _T_TYPE, encodings).upper()
            if depth >= 0:
                del stack_types[depth:]
                stack_types.append(kind)
                for lvl in levels:
                    if lvl not in stack_types:
                        context.pop(lvl, None)
            if _int(record.values, _T_IN_USE, record.little_endian) == 0:
                continue  # an inactive record (deleted from the file-set)
            here = _encodings(record.values) or encodings
            if kind in levels:
                context[kind] = {
                    key: _raw_text(record, tag, here) for key, tag in _RECORD_KEYS[kind].items()
                }
                for below in levels[levels.index(kind) + 1 :]:
                    context.pop(below, None)
                continue
            if _T_FILE_ID not in record.values:
                continue
            keys: dict[str, str] = {}
            for lvl in levels:
                keys.update(context.get(lvl, {}))
            for key, tag in _RECORD_KEYS["LEAF"].items():
                keys[key] = _raw_text(record, tag, here)
            yield record, keys

    def _follow(
        self,
        record: Record,
        keys: dict[str, str],
        base: str,
        index: dict[str, str],
        referenced: set[str],
        encodings: list[str],
    ) -> None:
        components = [c for c in _raw_text(record, _T_FILE_ID, encodings).split("\\") if c]
        if not components:
            return
        shown = "/".join(components)
        if any(c.strip() in ("..", ".") or "/" in c or ":" in c for c in components):
            self.problems.append(
                Problem(
                    ProblemCode.DICOMDIR_OUTSIDE_MEDIUM,
                    shown,
                    "DICOMDIR points outside the disc; the reference was not followed",
                )
            )
            if sop := _raw_text(record, _T_REF_SOP, encodings):  # its image is not on the disc
                listed = _record_instance(shown, sop, record, keys, encodings)
                self.lost.append(LostInstance(listed, "the DICOMDIR puts it outside the disc"))
            return
        rel = index.get(_norm(base + shown))
        if rel is None:
            self.problems.append(
                Problem(
                    ProblemCode.DICOMDIR_MISSING_FILE,
                    base + shown,
                    "listed in the DICOMDIR but not on the disc",
                )
            )
            if sop := _raw_text(record, _T_REF_SOP, encodings):
                listed = _record_instance(base + shown, sop, record, keys, encodings)
                self.lost.append(LostInstance(listed, "listed in the DICOMDIR but not on the disc"))
            return
        sop = _raw_text(record, _T_REF_SOP, encodings)
        if rel in referenced:
            first = self._listed_at.get(rel)  # None: a DICOMDIR, no image's file
            if sop and sop != first:  # the file is another image's: this one is not on the disc
                why = (
                    "the DICOMDIR lists an image at the DICOMDIR itself"
                    if first is None
                    else f"the DICOMDIR lists two images at this file (SOP {first} and {sop})"
                )
                self.problems.append(Problem(ProblemCode.DICOMDIR_MISMATCH, rel, why))
                self.lost.append(
                    _lost_apart(_record_instance(rel, sop, record, keys, encodings), why)
                )
            return
        referenced.add(rel)
        self._listed_at[rel] = sop
        if self.deep or not sop:
            read = _read_listed(self.root / rel, rel, self.problems)
            if read is not None and read.instance is None:
                self.problems.append(
                    Problem(ProblemCode.MISSING_UID, rel, "DICOM file without SOP Instance UID")
                )
            if read is None or read.instance is None:
                if sop:
                    listed = _record_instance(rel, sop, record, keys, encodings)
                    self.lost.append(LostInstance(listed, _why(self.problems, rel)))
                return
            listed = _record_instance(rel, sop, record, keys, encodings)
            if mismatch := _mismatch(rel, listed, read.instance):
                self.problems.append(mismatch)
            if elsewhere := _listed_elsewhere(listed, read.instance):
                self.lost.append(elsewhere)
            inst = _fill_from(read.instance, listed)
            self.candidates.append(
                _Candidate(_check_uids(inst, self.problems), True, read.complete)
            )
            return
        inst = _check_uids(
            _record_instance(rel, sop, record, keys, encodings), self.problems, record=True
        )
        self.candidates.append(_Candidate(inst, True, True))

    # -- duplicates --

    def _deduplicate(self) -> list[MediaInstance]:
        """Keep one file per SOP Instance UID and patient: complete before cut short, listed first.

        Files that carry the same SOP Instance UID under two different outside
        patients are never merged: each is kept under its own patient, and the
        scan reports an ``identity-conflict``.
        """
        by_sop: dict[str, list[_Candidate]] = {}
        for cand in self.candidates:
            by_sop.setdefault(cand.inst.sop_instance_uid, []).append(cand)
        groups: list[list[_Candidate]] = []
        for same_sop in by_sop.values():
            if len(same_sop) > 1:
                same_sop = [self._check(c) for c in same_sop]
            # One group per patient: files of two patients are never merged.
            mine: list[list[_Candidate]] = []
            for cand in same_sop:
                home = next(
                    (g for g in mine if all(same_patient(m.inst, cand.inst) for m in g)), None
                )
                if home is None:
                    mine.append([cand])
                else:
                    home.append(cand)
            groups.extend(mine)
        out: list[MediaInstance] = []
        for group in groups:
            complete = [c for c in group if c.complete]
            if not complete:
                for cand in group:
                    self.problems.append(_truncated(cand.inst.relpath))
                listed = next((c for c in group if c.referenced), None)
                if listed is not None:
                    self.lost.append(
                        LostInstance(listed.inst, _why(self.problems, listed.inst.relpath))
                    )
                continue
            best = min(complete, key=lambda c: (not c.referenced, c.inst.relpath))
            out.append(best.inst)
            for cand in group:
                if cand is best:
                    continue
                other = _other_image(cand.inst, best.inst) if cand.complete else ""
                if other:  # no copy of one image: another image under its UID
                    why = (
                        f"same SOP Instance UID as {best.inst.relpath}, an image of {other}; "
                        "a PACS keeps one image per UID, so this one is not sent"
                    )
                    self.problems.append(
                        Problem(ProblemCode.DUPLICATE_INSTANCE, cand.inst.relpath, why)
                    )
                    clash = other != "another study"
                    self.lost.append(LostInstance(cand.inst, why, clash=clash))
                elif cand.complete:
                    self.problems.append(_duplicate(cand.inst.relpath, best.inst.relpath))
                else:
                    self.problems.append(_truncated(cand.inst.relpath, best.inst.relpath))
        return out

    def _check(self, cand: _Candidate) -> _Candidate:
        """Read the header of a record-only duplicate, to know whether it is complete."""
        if cand.inst.verified:
            return cand
        read = _read_listed(self.root / cand.inst.relpath, cand.inst.relpath, [])
        complete = read is not None and read.instance is not None and read.complete
        return _Candidate(cand.inst, cand.referenced, complete)


# --- helpers ------------------------------------------------------------------------------


def _tree_order(
    records: list[Record], first: int | None, delta: int
) -> list[tuple[Record, int]] | None:
    """The records in tree order with their depth, following the offsets; None if broken."""
    by_offset = {r.offset + delta: r for r in records}
    if first is None or first not in by_offset:
        return None
    order: list[tuple[Record, int]] = []
    seen: set[int] = set()
    stack: list[tuple[int, int]] = [(first, 0)]
    while stack:
        offset, depth = stack.pop()
        while offset and offset in by_offset and offset not in seen:
            seen.add(offset)
            record = by_offset[offset]
            order.append((record, depth))
            nxt = _int(record.values, _T_NEXT, record.little_endian) or 0
            lower = _int(record.values, _T_LOWER, record.little_endian) or 0
            if lower:
                stack.append((nxt, depth))
                offset, depth = lower, depth + 1
            else:
                offset = nxt
    return order if len(seen) == len(records) else None


def medium_signature(root: Path) -> str:
    """What the files under ``root`` are now: a digest of their paths, sizes and times.

    Taken when a medium is scanned (:attr:`MediaScan.signature`) and again
    after its import: a drop-folder entry still being copied into, whose
    copy paused longer than the watcher's settle time, is seen to have
    changed, and the import does not say it is done.
    """
    seen: dict[str, tuple[int, int]] = {}
    for _ in _walk(root, [], seen):
        pass
    return _listing_digest(seen)


def _listing_digest(seen: dict[str, tuple[int, int]]) -> str:
    text = "\n".join(f"{rel}\t{size}\t{mtime}" for rel, (size, mtime) in sorted(seen.items()))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()


EMPTY_MEDIUM = _listing_digest({})
"""The signature of a folder with no file (a drive's mount folder once its disc is out)."""


def _walk(
    root: Path, problems: list[Problem], seen: dict[str, tuple[int, int]] | None = None
) -> Iterator[str]:
    """Every regular file below ``root``, as sorted relative paths; nothing else is opened.

    Each entry is looked at with ``lstat`` first (``DirEntry.stat(follow_symlinks=False)``,
    which opens nothing): a symbolic link, to a file or a folder, on the medium
    or outside it, is never followed (``symlink-on-medium``); a FIFO, socket or
    device is never opened, so it can neither block the scan nor be read
    (``special-file``); a folder that cannot be listed is an ``unreadable-file``.
    Names are kept exactly as the OS gives them (on POSIX, bytes that are not
    in the file system's encoding arrive as surrogate escapes); problems show
    them escaped (:func:`kiosk.media.names.shown`). ``seen`` gets each file's size and
    modification time (ns) from the same ``lstat``.
    """
    stack = [""]
    while stack:
        prefix = stack.pop()
        try:
            with os.scandir(root / prefix if prefix else root) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            problems.append(
                Problem(
                    ProblemCode.UNREADABLE_FILE,
                    prefix.rstrip("/"),
                    f"the folder cannot be listed ({exc.strerror or exc}); its files were not read",
                )
            )
            continue
        dirs = []
        for entry in entries:
            rel = prefix + entry.name
            try:
                info = entry.stat(follow_symlinks=False)
                mode = info.st_mode
            except OSError as exc:
                problems.append(
                    Problem(
                        ProblemCode.UNREADABLE_FILE,
                        rel,
                        f"cannot be examined ({exc.strerror or exc}); it was left out",
                    )
                )
                continue
            if stat.S_ISDIR(mode):
                dirs.append(rel + "/")
            elif stat.S_ISREG(mode):
                if seen is not None:
                    seen[rel] = (info.st_size, info.st_mtime_ns)
                yield rel
            elif stat.S_ISLNK(mode):
                problems.append(_symlink(root / rel, rel))
            else:
                problems.append(
                    Problem(
                        ProblemCode.SPECIAL_FILE,
                        rel,
                        f"{special_kind(mode)}, not a file; it was not opened",
                    )
                )
        stack.extend(reversed(dirs))


def _symlink(path: Path, rel: str) -> Problem:
    """The problem of a symbolic link on a medium (its target is read, never followed)."""
    try:
        to = f" to {os.readlink(path)}"
    except (OSError, ValueError):
        to = ""
    return Problem(
        ProblemCode.SYMLINK_ON_MEDIUM,
        rel,
        f"a symbolic link{to}; it was not followed, nothing it points at was read",
    )


def _norm(rel: str) -> str:
    """A path as a DICOMDIR would name it: upper case, no ``;1`` version, no empty extension."""
    if ";" not in rel and "." not in rel:
        return rel.upper()
    return "/".join(iso.iso_name(part).upper() for part in rel.split("/"))


def _sniff(path: Path, rel: str = "", problems: list[Problem] | None = None) -> str | None:
    """Tell by content whether a file is DICOM: ``"part10"``, ``"raw"`` (no preamble) or None.

    The file is opened without following a symbolic link and without blocking,
    and read only if it is a regular file, so a file swapped for a link or a
    FIFO after the walk is not followed nor waited on. With ``problems``, a
    file that cannot be opened or read is an ``unreadable-file`` problem.
    """
    try:
        fd = os.open(path, DISC_OPEN_FLAGS)
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
                return None
            head = fh.read(132)
    except OSError as exc:
        if problems is not None:
            problems.append(
                Problem(
                    ProblemCode.UNREADABLE_FILE,
                    rel,
                    f"cannot be read ({exc.strerror or exc}); it was left out",
                )
            )
        return None
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "part10"
    if len(head) >= 8 and starts_data_set(head):
        return "raw"
    return None


def _read_listed(path: Path, rel: str, problems: list[Problem]) -> _Read | None:
    """Read a file the DICOMDIR lists: with or without preamble, a failure is always a problem.

    The file is sniffed only when the fast reader declines it: an ordinary
    Part-10 file is opened once.
    """
    return _read_file(path, rel, None, problems, quiet=False)


def _read_file(
    path: Path, rel: str, kind: str | None, problems: list[Problem], *, quiet: bool | None = None
) -> _Read | None:
    """Read one file's header; None if it is not readable DICOM (a problem unless raw).

    ``kind`` None: not sniffed yet (tried as Part-10 first, sniffed if that fails).

    Ordinary Part-10 files go through :mod:`kiosk.media.fastheader`; anything
    it does not fully understand is read with pydicom. Neither reads the pixel
    data, nor a value whose declared length is beyond the file's end
    (``length-beyond-file``), nor sequences nested too deep (``sequence-too-deep``).
    """
    if kind in ("part10", None):
        try:
            fast = read_header(str(path), _FAST_TAGS)
        except HostileFile as exc:
            if _reports(kind, quiet):
                problems.append(Problem(exc.code, rel, str(exc)))
            return None
        if fast is not None and _known_charset(fast.values.get(_T_CHARSET)):
            if fast.media_storage_sop_class == MEDIA_STORAGE_DIRECTORY:
                return None
            record = Record(0, dict(fast.values))
            encodings = _encodings(record.values)
            _check_charset(rel, record.values.get(_T_NAME), record.values.get(_T_CHARSET), problems)
            sop = _raw_text(record, _FIELD_TAGS["sop_instance_uid"], encodings)
            if not sop:
                return _Read(None, fast.complete)
            values: dict[str, Any] = {
                name: _raw_text(record, tag, encodings) for name, tag in _FIELD_TAGS.items()
            }
            values["transfer_syntax_uid"] = fast.transfer_syntax
            return _Read(MediaInstance(relpath=rel, **values), fast.complete)
    if kind is None:
        kind = _sniff(path) or "part10"
    return _read_with_pydicom(path, rel, kind, problems, quiet=quiet)


def _known_charset(raw: bytes | None) -> bool:
    """True if every term of a Specific Character Set is one pydicom knows (or there is none)."""
    if raw is None:
        return True
    terms = raw.decode("latin-1").strip(" \x00").split("\\")
    return all(t.strip(" \x00") in python_encoding for t in terms)


def _check_charset(
    rel: str, name: Value | None, charset: Value | None, problems: list[Problem]
) -> None:
    """Add a ``charset-undeclared``/``charset-wrong`` problem when the name's bytes call for one.

    One problem per disc and finding: every file of a study repeats the name.
    """
    if not isinstance(name, bytes):
        return
    if isinstance(charset, bytes):
        terms = charset.decode("latin-1").strip(" \x00").split("\\")
    elif charset is None:
        terms = []
    else:
        terms = [str(charset)]
    found = charsets.check(name, terms)
    if found is None:
        return
    if any(p.code == found.code and p.message == found.message for p in problems):
        return
    problems.append(Problem(found.code, rel, found.message, found.readings))


def _check_dataset_charset(rel: str, ds: Dataset, problems: list[Problem]) -> None:
    """:func:`_check_charset` on a dataset pydicom read, before any value is converted."""
    name = ds.get_item(_T_NAME) if _T_NAME in ds else None
    charset = ds.get_item(_T_CHARSET) if _T_CHARSET in ds else None
    raw_name = name.value if isinstance(name, RawDataElement) else None
    raw_charset = charset.value if isinstance(charset, RawDataElement) else None
    if raw_charset is None and charset is not None:
        raw_charset = (
            "\\".join(ds.SpecificCharacterSet)
            if isinstance(ds.SpecificCharacterSet, list)
            else str(ds.SpecificCharacterSet)
        )
    _check_charset(rel, raw_name, raw_charset, problems)


def _reports(kind: str | None, quiet: bool | None) -> bool:
    """Whether a file that cannot be read is a problem (a raw-looking file may be no DICOM)."""
    return not (kind == "raw" if quiet is None else quiet)


_DEFER = 64 * 1024  # a header value longer than this is never read (no real one is)


def _read_with_pydicom(
    path: Path, rel: str, kind: str, problems: list[Problem], *, quiet: bool | None = None
) -> _Read | None:
    """Read one file's header with pydicom, noting every warning as a problem.

    The file's element headers are walked first (:func:`~kiosk.media.fastheader.layout`):
    a length beyond the file's end, sequences nested too deep or a flood of
    elements is a problem, and pydicom never parses that file. pydicom reads
    through :func:`~kiosk.media.fastheader.open_bounded` (no read can ask for
    more than the file holds), sees the top-level sequences of undefined
    length as empty (:class:`~kiosk.media.fastheader.SequencesLeftOut`: it
    would parse them whole, and the scan needs none of them) and leaves out
    any value over 64 KiB; a recursion that still goes too deep is
    ``sequence-too-deep``, never a crash.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with open_bounded(path) as fh:
                found = layout(fh, bare=kind == "raw")
                if found is not None and found.sop_class == MEDIA_STORAGE_DIRECTORY:
                    return None
                fh.seek(0)
                view = SequencesLeftOut(fh, fh.size, found) if found and found.sequences else fh
                ds = pydicom.dcmread(
                    view,
                    stop_before_pixels=True,
                    force=kind == "raw",
                    specific_tags=_HEADER_TAGS,
                    defer_size=_DEFER,
                )
                if _is_directory(ds):
                    return None
                errors: list[str] = []
                _drop_deferred(ds, errors)
                _check_dataset_charset(rel, ds, problems)
                inst = _instance_from_dataset(rel, ds, errors)
                if found is not None:
                    complete = found.complete
                else:
                    implicit, little = ds.original_encoding
                    complete = (
                        implicit is None
                        or little is None
                        or pixel_data_whole(fh, fh.tell(), implicit, little)
                    )
        except HostileFile as exc:
            if _reports(kind, quiet):
                problems.append(Problem(exc.code, rel, str(exc)))
            return None
        except RecursionError:  # the last line of defence: the walk above did not follow it
            if _reports(kind, quiet):
                problems.append(Problem(ProblemCode.SEQUENCE_TOO_DEEP, rel, str(SequenceTooDeep())))
            return None
        except Exception as exc:  # truncated, garbled, invalid VRs: a problem, never a crash
            if _reports(kind, quiet):
                problems.append(
                    Problem(ProblemCode.UNREADABLE_FILE, rel, f"cannot be read as DICOM: {exc}")
                )
            return None
    if inst is not None and (caught or errors):
        messages = sorted({str(w.message).split("\n")[0] for w in caught} | set(errors))
        problems.append(Problem(ProblemCode.INVALID_VALUE, rel, "; ".join(messages)[:300]))
    return _Read(inst, complete)


def _drop_deferred(ds: Dataset, errors: list[str]) -> None:
    """Take out the header values pydicom deferred (over 64 KiB): noted, never read."""
    deferred = [
        elem
        for elem in ds.values()  # the raw elements, as read: nothing is converted
        if isinstance(elem, RawDataElement) and elem.value is None and elem.length
    ]
    for elem in deferred:
        del ds[elem.tag]
        name = keyword_for_tag(elem.tag) or str(elem.tag)
        errors.append(f"{name}: a value of {elem.length} bytes was not read")


def _is_directory(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    sop_class = str(meta.get("MediaStorageSOPClassUID", "")) if meta is not None else ""
    return sop_class == MEDIA_STORAGE_DIRECTORY


def _encodings(values: dict[int, Value]) -> list[str]:
    """The Python codecs of a DICOMDIR's (or record's) own Specific Character Set."""
    raw = values.get(_T_CHARSET)
    if raw is None:
        return []
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else str(raw)
    terms = [t.strip(" \x00") for t in text.split("\\")]
    if not any(terms):
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return list(convert_encodings(terms))


def _raw_text(record: Record, tag: int, encodings: list[str]) -> str:
    """A text value of a record, decoded with the character set that applies."""
    value = record.values.get(tag)
    if value is None:
        return ""
    if not isinstance(value, bytes):
        return str(value).strip(" \x00")
    if value.isascii() and 0x1B not in value:
        return value.decode("ascii").strip(" \x00")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if tag == _T_NAME:
            # Decoded first, split after (as pydicom reads an element): a kanji whose
            # ISO 2022 IR 87 code holds the byte of '=', '^' or '\\' never splits the name.
            name = convert_PN(value, encodings or None)
            text = str(name) if isinstance(name, PersonName) else "\\".join(map(str, name))
        elif tag in _TEXT_TAGS:
            text = decode_bytes(value, encodings or ["iso8859"], {0x5C})
        else:
            text = value.decode("latin-1")
    return text.strip(" \x00")


def _int(values: dict[int, Value], tag: int, little: bool) -> int | None:
    """An UL/US value, from its raw bytes."""
    value = values.get(tag)
    if isinstance(value, bytes):
        end = "<" if little else ">"
        if len(value) == 4:
            return int(struct.unpack(end + "L", value)[0])
        if len(value) == 2:
            return int(struct.unpack(end + "H", value)[0])
        return None
    if isinstance(value, int):
        return value
    return None


def _record_instance(
    rel: str, sop: str, record: Record, keys: dict[str, str], encodings: list[str]
) -> MediaInstance:
    """An instance as the DICOMDIR describes it (not yet checked against the file)."""
    values: dict[str, Any] = dict.fromkeys(_IDENTITY_FIELDS, "")
    values.update(keys)
    return MediaInstance(
        relpath=rel,
        sop_instance_uid=sop,
        sop_class_uid=_raw_text(record, _T_REF_CLASS, encodings),
        transfer_syntax_uid=_raw_text(record, _T_REF_TS, encodings),
        verified=False,
        **values,
    )


def _fill_from(real: MediaInstance, record: MediaInstance) -> MediaInstance:
    """The file's own values, with the record's where the file has none."""
    missing = {
        name: getattr(record, name)
        for name in real.__dataclass_fields__
        if name not in ("relpath", "verified", "uid_valid")
        and getattr(real, name) == ""
        and getattr(record, name) != ""
    }
    return replace(real, **missing) if missing else real


_LEFT_OUT = "; it was left out"
#: Problems of what was left out unread, and may be an image (see ``MediaScan.unread``).
_NOT_READ = frozenset(
    {
        ProblemCode.UNREADABLE_FILE,
        ProblemCode.LENGTH_BEYOND_FILE,
        ProblemCode.SEQUENCE_TOO_DEEP,
        ProblemCode.MISSING_UID,
        ProblemCode.IMAGE_ENTRY_DAMAGED,
        ProblemCode.IMAGE_SIZE_EXCEEDED,
        ProblemCode.IMAGE_TOO_COMPLEX,
        ProblemCode.DICOMDIR_TOO_LARGE,
        ProblemCode.DICOMDIR_UNREADABLE,
    }
)


def _other_image(a: MediaInstance, b: MediaInstance) -> str:
    """How ``a`` is another image than ``b``, whose SOP Instance UID it has ("" when it may be
    a copy): of another study, or of the same study in another series or at another number."""
    if a.study_instance_uid != b.study_instance_uid:
        return "another study"
    if a.series_instance_uid != b.series_instance_uid:
        return "the same study in another series"
    if a.instance_number and b.instance_number and a.instance_number != b.instance_number:
        return "the same series at another instance number"
    return ""


def _truncated(rel: str, other: str = "") -> Problem:
    also = f"; the complete copy {other} was used" if other else _LEFT_OUT
    return Problem(ProblemCode.TRUNCATED_FILE, rel, f"the image data is cut short{also}")


def _duplicate(rel: str, first: str) -> Problem:
    return Problem(
        ProblemCode.DUPLICATE_INSTANCE, rel, f"same SOP Instance UID as {first}; counted once"
    )


def _text(ds: Dataset, keyword: str, errors: list[str]) -> str:
    try:
        value = ds.get(keyword)
    except Exception as exc:  # an unknown VR or an undecodable value: noted, not fatal
        errors.append(f"{keyword}: {exc}")
        return ""
    if value is None:
        return ""
    if isinstance(value, MultiValue):  # several values where one is due: as the file has them
        return "\\".join(str(v).strip(" \x00") for v in value)
    return str(value).strip(" \x00")


def _instance_from_dataset(rel: str, ds: Dataset, errors: list[str]) -> MediaInstance | None:
    """Make a MediaInstance from a file's header; values that cannot be decoded go to ``errors``."""
    sop_uid = _text(ds, "SOPInstanceUID", errors)
    if not sop_uid:
        return None
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    values: dict[str, Any] = {
        name: _text(ds, keyword, errors)
        for name, (keyword, _) in _FIELDS.items()
        if name != "sop_instance_uid"
    }
    return MediaInstance(relpath=rel, sop_instance_uid=sop_uid, transfer_syntax_uid=ts, **values)
