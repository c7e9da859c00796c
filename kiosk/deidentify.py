"""De-identified export of a study for teaching: PS3.15 Basic Application Level Confidentiality.

The profile's table (PS3.15 Table E.1-1: which attribute is removed, emptied,
replaced by a dummy or given a new UID) comes from ``dicom-anonymizer``
(KitwareMedical, kept current with the standard's releases). The actions are
applied here with pydicom, because the library applies them to the top level
of a dataset only: UIDs inside sequences (Referenced SOP Instance UIDs of a
Referenced Image Sequence, the Source Image Sequence) would keep their old
values, and a study's references would no longer point at its own images.

Options (``[deidentify]`` in the config):

- ``retain_dates``: Retain Longitudinal Temporal Information with Full Dates
  (dates and times are kept; the birth date is still removed);
- ``clean_descriptors``: Clean Descriptors (study, series and protocol
  descriptions and comments are kept, with every word of the patient's name,
  IDs, birth date and accession removed), else they are removed.

Where the table of ``dicom-anonymizer`` differs from the standard's, the
standard is followed (:data:`STANDARD_ACTIONS`): Content Sequence (0040,A730)
is removed (X, the table says D) and so is Text Value (0040,A160) wherever it
is (X, no row in the table). Without the Clean Structured Content Option (the
kiosk has none) a structured document (an SR, a key object selection), whose
content is its Content Sequence, cannot be de-identified: it is left out and
named, like an image with burned-in text; so is an encapsulated document (a
PDF report), whose content the profile removes.

The file meta information is written anew (:func:`file_meta_of`): the
Part-10 elements only, with the new SOP Instance UID and the kiosk's
implementation; nothing of the source's (its AE titles, addresses, private
information) is copied.

Every UID the profile lists gets a new ``2.25`` UID, the same one wherever
the old UID appears in the study (a :class:`UidMap` per export). Private
elements are removed, and so are the overlay planes (the repeating groups
60xx) whole: the table removes their data (60xx,3000) and comments
(60xx,4000) but keeps their label and description, free text that may name
the patient, and the rest describes an overlay that is no longer there. The
file's 128-byte preamble (free for other formats, a TIFF header in a hybrid
file) is written as zeros.

Burned-in text and recognizable features, which the profile without the
Clean Pixel Data and Clean Recognizable Visual Features Options cannot remove:

- an image whose ``BurnedInAnnotation`` or ``RecognizableVisualFeatures`` is
  YES (or any value but NO; compared without case or padding) is left out,
  and named: leaving it out is as safe as refusing the whole study (its
  pixels leave in neither case) and a study with one such image (a CT's dose
  screen) can still be shared;
- an image without ``BurnedInAnnotation`` of a kind that often carries it
  (:data:`BURNED_IN_MODALITIES`, :data:`_BURNED_IN_CLASSES`: secondary
  capture, ultrasound, video, visible-light, ophthalmic, X-ray angiography and
  fluoroscopy, microscopy, dental) is written but named: "may hold burned-in
  text: check before sharing". Its copy gets no ``BurnedInAnnotation``: it is
  written only where the source said it.
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import Dataset, dcmread
from pydicom.dataelem import DataElement
from pydicom.dataset import FileMetaDataset, validate_file_meta
from pydicom.sequence import Sequence
from pydicom.uid import UID, generate_uid

from kiosk import faults
from kiosk.config import Deidentify
from kiosk.errors import SafetyError, UsageError
from kiosk.net.store import IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION

log = logging.getLogger(__name__)

#: The release of PS3.15 whose Table E.1-1 is applied (a module of ``dicom-anonymizer``).
TABLE_RELEASE = "dicomfields_2026c"

# The table's categories and the action each stands for. Where the table leaves a choice
# (X/Z, X/D, Z/D, X/Z/D) the stronger one that keeps the IOD valid is taken.
_CATEGORIES = {
    "X_TAGS": "X",
    "Z_TAGS": "Z",
    "D_TAGS": "D",
    "U_TAGS": "U",
    "X_Z_TAGS": "Z",
    "X_D_TAGS": "D",
    "Z_D_TAGS": "D",
    "X_Z_D_TAGS": "D",
    "X_Z_U_STAR_TAGS": "U*",
}

#: Where the standard's Table E.1-1 (Basic Profile column) says other than the module's table:
#: Content Sequence is X (C only with the Clean Structured Content Option; the module has D,
#: which kept the items, their Text Values naming the patient), and Text Value is X (the
#: module has no row: it was kept, in a Content Sequence and anywhere else).
STANDARD_ACTIONS: dict[tuple[int, int], str] = {
    (0x0040, 0xA730): "X",  # Content Sequence
    (0x0040, 0xA160): "X",  # Text Value
}

#: Attributes the Clean Descriptors Option keeps, cleaned (PS3.15 Table E.1-1, "C").
DESCRIPTORS = frozenset(
    {
        "StudyDescription",
        "SeriesDescription",
        "ProtocolName",
        "ImageComments",
        "StudyComments",
        "PerformedProcedureStepDescription",
        "RequestedProcedureDescription",
        "ScheduledProcedureStepDescription",
        "AdmittingDiagnosesDescription",
        "DerivationDescription",
        "AcquisitionDeviceProcessingDescription",
        "ContrastBolusAgent",
        "AdditionalPatientHistory",
        "PatientComments",
        "ReasonForStudy",
        "ReasonForTheRequestedProcedure",
        "VisitComments",
        "BodyPartExamined",
    }
)

#: Kept by no option: the birth date and time are removed even when dates are retained.
_BIRTH = frozenset({(0x0010, 0x0030), (0x0010, 0x0032)})

#: Who the study belongs to: the words that a cleaned descriptor must not hold.
_IDENTIFYING = (
    "PatientName",
    "PatientID",
    "OtherPatientIDs",
    "PatientBirthDate",
    "AccessionNumber",
    "IssuerOfPatientID",
    "ReferringPhysicianName",
    "PerformingPhysicianName",
    "OperatorsName",
    "InstitutionName",
)

_DUMMY_TEXT = "ANONYMIZED"
_DUMMIES: dict[str, Any] = {
    "DA": "19000101",
    "TM": "000000",
    "DT": "19000101000000",
    "AS": "000Y",
    "UR": "http://anonymized.invalid",
    "IS": "0",
    "DS": "0",
}


@dataclass
class UidMap:
    """Old UID → new UID, one per export: a UID gets the same new UID wherever it appears."""

    mapping: dict[str, str] = field(default_factory=dict)

    def __call__(self, uid: str) -> str:
        """Return the new UID of ``uid`` (made on first sight)."""
        uid = str(uid)
        if not uid:
            return uid
        if uid not in self.mapping:
            self.mapping[uid] = generate_uid(prefix=None)
        return self.mapping[uid]


@dataclass(frozen=True)
class Profile:
    """The profile's actions by tag, with the options chosen."""

    actions: dict[tuple[int, int], str]
    ranges: tuple[tuple[int, int, int, int, str], ...]
    options: Deidentify

    def action(self, group: int, element: int) -> str:
        """The action for one tag: X, Z, D, U, U* or K (keep)."""
        found = self.actions.get((group, element))
        if found is not None:
            return found
        for g, e, gmask, emask, act in self.ranges:
            if group & gmask == g & gmask and element & emask == e & emask:
                return act
        return "K"


def profile(options: Deidentify) -> Profile:
    """Load Table E.1-1 (``TABLE_RELEASE``) with the options chosen.

    The module's table, corrected where it differs from the standard
    (:data:`STANDARD_ACTIONS`).

    Parameters
    ----------
    options
        The ``[deidentify]`` options.

    Returns
    -------
    Profile
        The action of every tag the table lists.
    """
    table = importlib.import_module(
        f"dicomanonymizer.dicom_anonymization_databases.{TABLE_RELEASE}"
    )
    actions: dict[tuple[int, int], str] = {}
    ranges: list[tuple[int, int, int, int, str]] = []
    for category, act in _CATEGORIES.items():
        for tag in getattr(table, category):
            if len(tag) == 2:
                actions[(int(tag[0]), int(tag[1]))] = act
            else:
                ranges.append((int(tag[0]), int(tag[1]), int(tag[2]), int(tag[3]), act))
    actions.update(STANDARD_ACTIONS)
    return Profile(actions, tuple(ranges), options)


def _words(ds: Dataset) -> list[str]:
    """The identifying words of a dataset (name parts, IDs, dates), longest first."""
    found: set[str] = set()
    for keyword in _IDENTIFYING:
        value = ds.get(keyword)
        values = value if isinstance(value, list | tuple) else [value]
        for v in values:
            if v is None:
                continue
            for word in re.split(r"[\^=\s,]+", str(v)):
                if len(word) >= 2:
                    found.add(word)
    return sorted(found, key=len, reverse=True)


def _clean_text(text: str, words: Iterable[str]) -> str:
    for word in words:
        text = re.sub(re.escape(word), "", text, flags=re.IGNORECASE)
    return re.sub(r"\s{2,}", " ", text).strip()


def _dummy(elem: DataElement, uids: UidMap) -> Any:
    vr = elem.VR
    if vr == "UI":
        return _mapped(elem.value, uids)
    if vr in _DUMMIES:
        return _DUMMIES[vr]
    if vr in ("US", "SS", "UL", "SL", "FL", "FD", "UV", "SV"):
        return 0
    if vr in ("OB", "OW", "OD", "OF", "OL", "OV", "UN"):
        return b""
    return _DUMMY_TEXT


def _mapped(value: Any, uids: UidMap) -> Any:
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return [uids(v) for v in value]
    return uids(value) if value else value


#: The groups of the overlay planes (PS3.3 C.9.2: 6000-601E, even), removed whole.
_OVERLAY_GROUPS = range(0x6000, 0x6100)


def clean_dataset(ds: Dataset, rules: Profile, uids: UidMap, words: list[str]) -> None:
    """Apply the profile to ``ds`` and every dataset nested in it, in place.

    Private elements and the overlay groups (60xx) are removed whatever the table says.
    """
    for elem in list(ds):
        tag = elem.tag
        if tag.is_private or tag.group in _OVERLAY_GROUPS:
            del ds[tag]
            continue
        act = rules.action(tag.group, tag.element)
        keyword = elem.keyword
        if rules.options.clean_descriptors and keyword in DESCRIPTORS:
            act = "C"
        elif (
            rules.options.retain_dates
            and act in ("X", "Z", "D")
            and elem.VR in ("DA", "DT", "TM")
            and (tag.group, tag.element) not in _BIRTH
        ):
            act = "K"
        if act == "X":
            del ds[tag]
        elif act == "Z":
            ds[tag].value = Sequence() if elem.VR == "SQ" else None
        elif act == "U":
            ds[tag].value = _mapped(elem.value, uids)
        elif act == "C":
            if elem.VR == "SQ":
                del ds[tag]
            elif elem.value is not None:
                cleaned = [_clean_text(str(v), words) for v in _as_list(elem.value)]
                ds[tag].value = cleaned if len(cleaned) > 1 else (cleaned[0] if cleaned else "")
        elif elem.VR == "SQ":  # K, U* and D of a sequence: its items are cleaned
            for item in elem.value or []:
                clean_dataset(item, rules, uids, words)
        elif act == "D":
            ds[tag].value = _dummy(elem, uids)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple) or type(value).__name__ == "MultiValue":
        return list(value)
    return [value]


def _mark(ds: Dataset, options: Deidentify) -> None:
    """Say how the dataset was de-identified (PS3.15 E.1.1: Patient Identity Removed, codes)."""
    ds.PatientIdentityRemoved = "YES"
    methods = ["Basic Application Confidentiality Profile"]
    codes = [("113100", "Basic Application Confidentiality Profile")]
    if options.retain_dates:
        methods.append("Retain Longitudinal Temporal Information Full Dates Option")
        codes.append(("113106", "Retain Longitudinal With Full Dates Option"))
    if options.clean_descriptors:
        methods.append("Clean Descriptors Option")
        codes.append(("113105", "Clean Descriptors Option"))
    ds.DeidentificationMethod = [m[:64] for m in methods]
    items = []
    for value, meaning in codes:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)


#: Modalities whose images often carry burned-in text (dates, names, measurements): secondary
#: capture and other, ultrasound (and intravascular), endoscopy, external camera, ophthalmic
#: photography, X-ray angiography and fluoroscopy, general and slide microscopy, dermoscopy,
#: dental panoramic and intra-oral X-ray.
BURNED_IN_MODALITIES = frozenset(
    {"SC", "OT", "US", "IVUS", "ES", "XC", "OP", "XA", "RF", "GM", "SM", "DMS", "PX", "IO"}
)
#: Words of the names of SOP classes whose images often carry it (pydicom's UID dictionary).
_BURNED_IN_CLASSES = (
    "Secondary Capture",
    "Ultrasound",
    "Video",
    "VL ",
    "Ophthalmic",
    "X-Ray Angiographic",
    "Enhanced XA",
    "X-Ray Radiofluoroscopic",
    "Enhanced XRF",
    "Microscop",
    "Dermoscopic",
    "Intra-Oral",
)
#: What an image of such a kind without ``BurnedInAnnotation`` is said to be.
MAY_HOLD_TEXT = "may hold burned-in text: check before sharing"


@dataclass(frozen=True)
class ImageNote:
    """One image of an export a person must know about.

    ``sop_instance_uid`` is the image's UID in the kiosk (not the new one);
    ``file`` the name of its copy in the export (``""`` when left out).
    """

    sop_instance_uid: str
    file: str
    message: str

    def to_json(self) -> dict[str, str]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "sop_instance_uid": self.sop_instance_uid,
            "file": self.file,
            "message": self.message,
        }


def _said(ds: Dataset, keyword: str) -> str:
    """A YES/NO attribute's value, upper case, without padding (``""``: missing or empty)."""
    value = ds.get(keyword)
    return "" if value is None else str(value).strip(" \0").upper()


#: The YES/NO attributes that leave an image out when YES: what each says of it.
_LEAVE_OUT = (
    ("BurnedInAnnotation", "has burned-in text"),
    ("RecognizableVisualFeatures", "has recognizable visual features (a face)"),
)


def burned_in_note(ds: Dataset) -> tuple[bool, str]:
    """Whether an image must be left out, and what to say of it (``""``: nothing).

    Parameters
    ----------
    ds
        The image (its header is enough).

    Returns
    -------
    (bool, str)
        ``(True, why)`` when ``BurnedInAnnotation`` or ``RecognizableVisualFeatures``
        is YES or any value but NO, compared without case or padding (left out);
        ``(False, MAY_HOLD_TEXT ...)`` when ``BurnedInAnnotation`` is missing or
        empty on an image of a kind that often carries burned-in text; else
        ``(False, "")``.
    """
    for keyword, what in _LEAVE_OUT:
        said = _said(ds, keyword)
        if said == "YES":
            return True, f"{what} ({keyword} YES): left out of the export"
        if said and said != "NO":
            return True, (
                f"has {keyword} {said[:16]!r}, neither YES nor NO: taken as YES and "
                "left out of the export"
            )
    if _said(ds, "BurnedInAnnotation") == "NO":
        return False, ""
    modality = str(ds.get("Modality", "")).strip().upper()
    kind = UID(str(ds.get("SOPClassUID", ""))).name
    if modality in BURNED_IN_MODALITIES or any(word in kind for word in _BURNED_IN_CLASSES):
        what = kind if kind and not kind[0].isdigit() else f"modality {modality}"
        return False, f"{MAY_HOLD_TEXT} ({what}, no BurnedInAnnotation)"
    return False, ""


#: Modalities and words of SOP class names of structured documents: their content is their
#: Content Sequence, which the profile removes.
_DOCUMENT_MODALITIES = frozenset({"SR", "KO"})
_DOCUMENT_CLASSES = (" SR Storage", "Key Object Selection")


def structured_content_note(ds: Dataset) -> str:
    """Why a structured document is left out of the export (``""``: not one).

    Without the Clean Structured Content Option the profile removes the Content
    Sequence (and every Text Value): a structured report or key object selection
    would be left without its content (an invalid instance), and its text cannot
    be trusted to be free of the patient's name, IDs or dates. It is left out, and
    so is an encapsulated document (PDF, CDA, STL ...): the profile removes its
    Encapsulated Document (X), which would leave an instance with no content.

    Parameters
    ----------
    ds
        The instance (its header is enough).

    Returns
    -------
    str
        What to say of it when it is a structured document (the top level has a
        Value Type, its modality is SR or KO, or its SOP class is an SR or key
        object selection class), else ``""``.
    """
    modality = str(ds.get("Modality", "")).strip().upper()
    kind = UID(str(ds.get("SOPClassUID", ""))).name
    if "EncapsulatedDocument" in ds or modality == "DOC" or "Encapsulated" in kind:
        what = kind if kind and not kind[0].isdigit() else "an encapsulated document"
        return (
            f"is an encapsulated document ({what[:64]}: a PDF, a CDA, a model) whose content "
            "the profile removes and whose text cannot be cleaned: left out of the export"
        )
    if not (
        "ValueType" in ds
        or modality in _DOCUMENT_MODALITIES
        or any(word in kind for word in _DOCUMENT_CLASSES)
    ):
        return ""
    what = kind if kind and not kind[0].isdigit() else f"modality {modality or 'none'}"
    return (
        f"is a structured document ({what[:64]}) whose content (Content Sequence, Text "
        "Values) the profile removes; without the Clean Structured Content Option it "
        "cannot be de-identified: left out of the export"
    )


def file_meta_of(ds: Dataset, transfer_syntax: UID) -> FileMetaDataset:
    """New file meta information for a de-identified ``ds``: the Part-10 elements only.

    Nothing of the source's file meta is copied but its transfer syntax (how the
    data set is encoded): its AE titles, presentation addresses, private
    information and implementation may name the patient or the sending site.

    Parameters
    ----------
    ds
        The de-identified data set (its new SOP Class and SOP Instance UIDs).
    transfer_syntax
        The source's Transfer Syntax UID (one of the standard's: see
        :func:`export_files`).

    Returns
    -------
    FileMetaDataset
        Version, Media Storage SOP Class and Instance UIDs, Transfer Syntax UID and
        the kiosk's Implementation Class UID and Version Name.
    """
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION.decode("ascii")
    validate_file_meta(meta, enforce_standard=True)  # adds the version, checks the rest
    return meta


@dataclass(frozen=True)
class ExportResult:
    """What a de-identified export wrote."""

    out: Path
    study_instance_uid: str  # the new (de-identified) Study Instance UID
    files: int
    options: Deidentify
    #: burned-in text, recognizable features, structured documents
    left_out_images: tuple[ImageNote, ...] = ()
    warnings: tuple[ImageNote, ...] = ()  # written, but may hold burned-in text

    @property
    def left_out(self) -> int:
        """How many images were left out (burned-in text, faces, structured documents)."""
        return len(self.left_out_images)

    def to_json(self) -> dict[str, object]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "out": str(self.out),
            "study_instance_uid": self.study_instance_uid,
            "files": self.files,
            "left_out": self.left_out,
            "retain_dates": self.options.retain_dates,
            "clean_descriptors": self.options.clean_descriptors,
            "left_out_images": [note.to_json() for note in self.left_out_images],
            "warnings": [note.to_json() for note in self.warnings],
        }


def _make_folder(out: Path) -> bool:
    """Create ``out`` (and its parents); return whether it was made here.

    Raises
    ------
    UsageError
        If ``out`` or a folder above it is a file.
    """
    made = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in (out, *out.parents) if p.exists() or p.is_symlink()), out)
        raise UsageError(
            f"{out} cannot be made a folder: {blocker} is a file; "
            "give a new or empty folder with --out"
        ) from None
    return made


def _syntax_note(syntax: UID) -> str:
    """Why an instance whose transfer syntax is none of the standard's is left out, else ``""``.

    The new file meta copies the Transfer Syntax UID as it is: a made-up one could
    carry digits of the patient's (an ID, a birth date).
    """
    if syntax.is_transfer_syntax:
        return ""
    return (
        f"has a Transfer Syntax UID that is none of the standard's ({str(syntax)[:64]!r}): "
        "left out of the export"
    )


def export_files(sources: list[Path], out: Path, options: Deidentify) -> ExportResult:
    """De-identify the files of one study into ``out`` (``0001.dcm``, ``0002.dcm``, ...).

    The files are named by number: a disc's file names may hold patient data.
    Each file's preamble is written as 128 zero bytes.

    Raises
    ------
    UsageError
        If ``out`` cannot be made a folder (a file is in the way).
    SafetyError
        If every image is left out (burned-in text, recognizable features, a
        structured document): nothing is written (``out`` is removed again if it
        was made here).
    """
    rules = profile(options)
    uids = UidMap()
    made = _make_folder(out)
    written = 0
    study_uid = ""
    left_out: list[ImageNote] = []
    warnings: list[ImageNote] = []
    for source in sources:
        ds = dcmread(source)
        sop_uid = str(ds.get("SOPInstanceUID", ""))
        syntax = UID(str(ds.file_meta.get("TransferSyntaxUID", "")))
        why = structured_content_note(ds) or _syntax_note(syntax)
        leave_out, note = (True, why) if why else burned_in_note(ds)
        if leave_out:
            left_out.append(ImageNote(sop_uid, "", note))
            log.warning("image %s %s", sop_uid, note)
            continue
        words = _words(ds)
        clean_dataset(ds, rules, uids, words)
        _mark(ds, options)
        ds.file_meta = file_meta_of(ds, syntax)
        ds.preamble = bytes(128)  # free for other formats: a TIFF header may name the patient
        written += 1
        name = f"{written:04d}.dcm"
        if note:
            warnings.append(ImageNote(sop_uid, name, note))
            log.warning("%s (image %s) %s", name, sop_uid, note)
        ds.save_as(out / name, enforce_file_format=True)
        faults.point("export.written")
        study_uid = str(ds.get("StudyInstanceUID", study_uid))
    if not written and left_out:
        if made:
            out.rmdir()
        first = left_out[0]
        raise SafetyError(
            "nothing was exported: every image of the study is left out (burned-in text, "
            "recognizable features or a structured document, which de-identification "
            f"cannot remove; e.g. image {first.sop_instance_uid} {first.message}); "
            "do not share this study"
        )
    return ExportResult(out, study_uid, written, options, tuple(left_out), tuple(warnings))
