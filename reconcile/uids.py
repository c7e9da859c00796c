"""New Study, Series and SOP Instance UIDs for an imported study, applied consistently.

When a site wants imported studies to carry UIDs of its own, every UID of the
study is mapped to a new one, and every reference to it inside the study
(key object selections, structured reports, presentation states, source
image references) is rewritten with the same map, so the study stays whole.
The map is derived from the old UID and a salt (the import's id), so a resend
after a crash produces the same new UIDs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import generate_uid

#: Top-level attributes whose UIDs are replaced (and recorded as originals).
INSTANCE_UID_KEYWORDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")

#: The attributes whose values are a study's, a series' or an instance's UID or refer to one
#: (at any depth and in the file meta): the only ones :func:`remap_uids` rewrites.
INSTANCE_REFERENCE_KEYWORDS = frozenset(
    {
        *INSTANCE_UID_KEYWORDS,
        "ReferencedSOPInstanceUID",  # references to images, in any sequence
        "MediaStorageSOPInstanceUID",  # the file meta's copy of the SOP Instance UID
        "ReferencedSOPInstanceUIDInFile",  # DICOMDIR records
        "MultiFrameSourceSOPInstanceUID",
        "SOPInstanceUIDOfConcatenationSource",
        "FailedSOPInstanceUIDList",
        "UID",  # (0040,A124): a structured report's UIDREF item (the Study Instance UID, ...)
    }
)


def new_uid_map(old_uids: Iterable[str], salt: str) -> dict[str, str]:
    """Map each UID to a new one, deterministically for the same ``salt``."""
    return {uid: generate_uid(entropy_srcs=[salt, uid]) for uid in sorted(set(old_uids)) if uid}


def remap_uids(ds: Dataset, mapping: Mapping[str, str]) -> int:
    """Replace the instance UIDs of ``ds`` found in ``mapping``, in nested sequences too.

    Only the attributes of :data:`INSTANCE_REFERENCE_KEYWORDS` are rewritten: a SOP
    Class UID, a Referenced SOP Class UID, the file meta's Transfer Syntax UID and
    every other UID that does not name an instance keep their values, even one
    equal to a mapped UID. The file meta's Media Storage SOP Instance UID follows
    the SOP Instance UID.

    Parameters
    ----------
    ds
        The dataset to change in place (its ``file_meta`` too, if it has one).
    mapping
        Old UID to new UID.

    Returns
    -------
    int
        How many values were replaced.
    """
    count = _remap(ds, mapping)
    meta = getattr(ds, "file_meta", None)
    if meta is not None:
        count += _remap(meta, mapping)
    return count


def _remap(ds: Dataset, mapping: Mapping[str, str]) -> int:
    count = 0
    for elem in ds:
        if elem.keyword == "OriginalAttributesSequence":
            continue  # history: the old values stay as they were
        if elem.VR == "SQ":
            for item in elem.value:
                count += _remap(item, mapping)
        elif elem.VR == "UI" and elem.value and elem.keyword in INSTANCE_REFERENCE_KEYWORDS:
            if isinstance(elem.value, MultiValue | list):
                values = [str(v) for v in elem.value]
                new = [mapping.get(v, v) for v in values]
                if new != values:
                    elem.value = new
                    count += sum(a != b for a, b in zip(values, new, strict=True))
            else:
                old = str(elem.value)
                if old in mapping:
                    elem.value = mapping[old]
                    count += 1
    return count
