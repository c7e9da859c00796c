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


def new_uid_map(old_uids: Iterable[str], salt: str) -> dict[str, str]:
    """Map each UID to a new one, deterministically for the same ``salt``."""
    return {uid: generate_uid(entropy_srcs=[salt, uid]) for uid in sorted(set(old_uids)) if uid}


def remap_uids(ds: Dataset, mapping: Mapping[str, str]) -> int:
    """Replace every UI value of ``ds`` found in ``mapping``, in nested sequences too.

    The file meta's Media Storage SOP Instance UID follows the SOP Instance UID.
    Returns how many values were replaced.
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
        elif elem.VR == "UI" and elem.value:
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
