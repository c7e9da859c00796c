"""Read a medium: its DICOMDIR when there is one, and every file on it.

The DICOMDIR (read with pydicom's ``FileSet``) gives the tree quickly; the
walk over the medium then finds what the DICOMDIR does not list, so a disc
whose DICOMDIR is missing or lies still shows everything it holds. Every
deviation is recorded as a :class:`~kiosk.media.problems.Problem`.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Iterator
from pathlib import Path

import pydicom
from pydicom.dataset import Dataset

from kiosk.errors import NoDicomError, UsageError
from kiosk.media.model import MediaInstance, MediaScan
from kiosk.media.problems import Problem, ProblemCode

log = logging.getLogger(__name__)

_HEADER_TAGS = [
    "SpecificCharacterSet",
    "SOPClassUID",
    "SOPInstanceUID",
    "PatientID",
    "IssuerOfPatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "StudyInstanceUID",
    "StudyDate",
    "StudyDescription",
    "AccessionNumber",
    "SeriesInstanceUID",
    "Modality",
    "SeriesNumber",
    "SeriesDescription",
    "InstanceNumber",
]


def scan_medium(source: Path) -> MediaScan:
    """Read a mounted disc or a folder and list what it holds.

    Parameters
    ----------
    source
        A mounted medium or a folder.

    Raises
    ------
    NoDicomError
        If the path does not exist or holds no readable DICOM instance.
    """
    if not source.exists():
        raise NoDicomError(f"{source} does not exist; insert the disc or check the path")
    if source.is_file():
        if source.suffix.lower() == ".iso":
            raise UsageError(
                f"{source} is an ISO image; mount it (or burn it) and scan the mount point"
            )
        raise NoDicomError(f"{source} is a file, not a disc or folder; give the folder instead")
    root = source.resolve()
    problems: list[Problem] = []
    instances: list[MediaInstance] = []
    referenced: set[Path] = set()
    dicomdir_path = _find_dicomdir(root)
    if dicomdir_path is None:
        problems.append(
            Problem(
                ProblemCode.NO_DICOMDIR,
                "",
                "the disc has no DICOMDIR; every file was read to find the images",
            )
        )
    else:
        referenced.add(dicomdir_path)
        instances.extend(_read_dicomdir(root, dicomdir_path, problems, referenced))

    non_dicom: list[str] = []
    for path in _walk(root):
        if path in referenced:
            continue
        rel = _rel(root, path)
        kind = _sniff(path)
        if kind is None:
            non_dicom.append(rel)
            continue
        ds = _read_header(path, rel, force=kind == "raw", problems=problems)
        if ds is None:
            if kind == "raw":
                non_dicom.append(rel)
            continue
        inst = _instance_from_dataset(rel, ds)
        if inst is None:
            if kind == "raw":
                non_dicom.append(rel)
            else:
                problems.append(
                    Problem(ProblemCode.MISSING_UID, rel, "DICOM file without SOP Instance UID")
                )
            continue
        if dicomdir_path is not None:
            problems.append(
                Problem(
                    ProblemCode.NOT_IN_DICOMDIR,
                    rel,
                    "image on the disc is not listed in the DICOMDIR; it was read directly",
                )
            )
        instances.append(inst)

    unique: list[MediaInstance] = []
    seen: dict[str, str] = {}
    for inst in instances:
        first = seen.get(inst.sop_instance_uid)
        if first is not None:
            problems.append(
                Problem(
                    ProblemCode.DUPLICATE_INSTANCE,
                    inst.relpath,
                    f"same SOP Instance UID as {first}; counted once",
                )
            )
            continue
        seen[inst.sop_instance_uid] = inst.relpath
        unique.append(inst)
    if not unique:
        raise NoDicomError(
            f"{source} holds no readable DICOM images; check that this is the patient's image disc"
        )
    log.info(
        "scanned %s: %d instances, %d problems, %d non-DICOM files",
        source,
        len(unique),
        len(problems),
        len(non_dicom),
    )
    return MediaScan(
        source=source,
        root=root,
        dicomdir=dicomdir_path is not None,
        instances=unique,
        problems=problems,
        non_dicom=sorted(non_dicom),
    )


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                yield path


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _find_dicomdir(root: Path) -> Path | None:
    """Find the DICOMDIR at the root, or one folder down; any case, ISO ``;1`` suffix too."""
    for folder in [root, *sorted(p for p in root.iterdir() if p.is_dir())]:
        for entry in sorted(folder.iterdir()):
            if entry.is_file() and entry.name.upper().split(";")[0] == "DICOMDIR":
                return entry
    return None


def _sniff(path: Path) -> str | None:
    """Tell by content whether a file is DICOM: ``"part10"``, ``"raw"`` (no preamble) or None."""
    try:
        with path.open("rb") as fh:
            head = fh.read(132)
    except OSError:
        return None
    if len(head) >= 132 and head[128:132] == b"DICM":
        return "part10"
    if len(head) >= 8 and head[1] == 0 and head[0] in (0x02, 0x08) and head[3] == 0:
        return "raw"
    return None


def _resolve(root: Path, components: list[str]) -> Path | None:
    """Resolve a DICOMDIR file ID on the medium, forgiving case and ``;1`` suffixes."""
    current = root
    for comp in components:
        exact = current / comp
        if exact.exists():
            current = exact
            continue
        wanted = comp.upper().split(";")[0]
        match = None
        if current.is_dir():
            for entry in current.iterdir():
                if entry.name.upper().split(";")[0] == wanted:
                    match = entry
                    break
        if match is None:
            return None
        current = match
    return current


def _read_dicomdir(
    root: Path, dicomdir: Path, problems: list[Problem], referenced: set[Path]
) -> list[MediaInstance]:
    """Follow every record of the DICOMDIR that references a file.

    The records are walked directly rather than through pydicom's ``FileSet``:
    ``FileSet.load`` silently drops records whose file is missing or whose
    name differs in case, which would hide a missing image from the clerk.
    The identity shown comes from each file's own header, so a DICOMDIR that
    lies about it cannot mislead.
    """
    rel_dicomdir = _rel(root, dicomdir)
    try:
        ds = pydicom.dcmread(dicomdir, force=True)
        records = list(ds.DirectoryRecordSequence)
    except Exception as exc:  # any failure of a foreign DICOMDIR is a problem, not a crash
        problems.append(
            Problem(
                ProblemCode.DICOMDIR_UNREADABLE,
                rel_dicomdir,
                f"the DICOMDIR cannot be read ({exc}); every file was read instead",
            )
        )
        return []
    out: list[MediaInstance] = []
    for record in records:
        inst = _read_record(root, dicomdir.parent, record, problems, referenced)
        if inst is not None:
            out.append(inst)
    return out


def _read_record(
    root: Path, base: Path, record: Dataset, problems: list[Problem], referenced: set[Path]
) -> MediaInstance | None:
    components = _file_id(record)
    if not components:
        return None
    shown = "/".join(components)
    if (
        any(c in ("..", ".") or "/" in c or "\\" in c for c in components)
        or Path(components[0]).is_absolute()
    ):
        problems.append(
            Problem(
                ProblemCode.DICOMDIR_OUTSIDE_MEDIUM,
                shown,
                "DICOMDIR points outside the disc; the reference was not followed",
            )
        )
        return None
    path = _resolve(base, components)
    if path is None or not path.is_file():
        problems.append(
            Problem(
                ProblemCode.DICOMDIR_MISSING_FILE,
                shown,
                "listed in the DICOMDIR but not on the disc",
            )
        )
        return None
    if path in referenced:
        return None
    referenced.add(path)
    rel = _rel(root, path)
    ds = _read_header(path, rel, force=False, problems=problems)
    if ds is None:
        return None
    inst = _instance_from_dataset(rel, ds, records=record)
    if inst is None:
        problems.append(
            Problem(ProblemCode.MISSING_UID, rel, "DICOM file without SOP Instance UID")
        )
    return inst


def _read_header(path: Path, rel: str, *, force: bool, problems: list[Problem]) -> Dataset | None:
    """Read a file's header; a file that cannot be read becomes a problem (or None if raw)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a foreign file's oddities are not our warnings
            return pydicom.dcmread(
                path, stop_before_pixels=True, force=force, specific_tags=_HEADER_TAGS
            )
    except Exception as exc:  # truncated, garbled, invalid VRs: a problem, never a crash
        if not force:
            problems.append(
                Problem(ProblemCode.UNREADABLE_FILE, rel, f"cannot be read as DICOM: {exc}")
            )
        return None


def _file_id(record: Dataset) -> list[str]:
    value = record.get("ReferencedFileID")
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _text(ds: Dataset, keyword: str, fallback: Dataset | None = None) -> str:
    for source in (ds, fallback):
        if source is None:
            continue
        value = source.get(keyword)
        if value is not None and str(value) != "":
            return str(value)
    return ""


def _instance_from_dataset(
    rel: str, ds: Dataset, records: Dataset | None = None
) -> MediaInstance | None:
    """Make a MediaInstance from a header, the file first and the DICOMDIR records second."""
    sop_uid = _text(ds, "SOPInstanceUID")
    if not sop_uid:
        return None
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "")) if meta is not None else ""
    return MediaInstance(
        relpath=rel,
        sop_instance_uid=sop_uid,
        sop_class_uid=_text(ds, "SOPClassUID"),
        transfer_syntax_uid=ts,
        patient_id=_text(ds, "PatientID", records),
        issuer_of_patient_id=_text(ds, "IssuerOfPatientID", records),
        patient_name=_text(ds, "PatientName", records),
        birth_date=_text(ds, "PatientBirthDate", records),
        sex=_text(ds, "PatientSex", records),
        study_instance_uid=_text(ds, "StudyInstanceUID", records),
        study_date=_text(ds, "StudyDate", records),
        study_description=_text(ds, "StudyDescription", records),
        accession_number=_text(ds, "AccessionNumber", records),
        series_instance_uid=_text(ds, "SeriesInstanceUID", records),
        modality=_text(ds, "Modality", records),
        series_number=_text(ds, "SeriesNumber", records),
        series_description=_text(ds, "SeriesDescription", records),
        instance_number=_text(ds, "InstanceNumber", records),
    )
