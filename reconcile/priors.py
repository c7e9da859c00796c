"""Relevant priors: which studies of a disc matter for the patient's scheduled order.

Pure scoring, no I/O. A study is relevant when it shows the same anatomy as
the order (from the order's procedure description or code and the study's
BodyPartExamined and descriptions) and is of the same modality family or
recent. Each score says why, in words the physician reads in the study list.

The anatomy vocabulary covers the BodyPartExamined defined terms of DICOM
PS3.16 Annex L that discs carry most, and the words and abbreviations of
procedure descriptions; it is a small table, kept here and tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date


def _words(text: str) -> frozenset[str]:
    """The blank-separated words of a vocabulary line."""
    return frozenset(text.split())


#: Region -> words (upper case) that name it in a BodyPartExamined, description or code.
ANATOMY: dict[str, frozenset[str]] = {
    "head": _words(
        "HEAD BRAIN SKULL CRANIUM CRANIAL CEREBRAL CEREBRUM NEURO HIRN SCHAEDEL KOPF ORBIT "
        "SELLA PITUITARY IAC TEMPORAL FACE FACIAL SINUS SINUSES CT_HEAD CTHEAD"
    ),
    "neck": _words("NECK CERVICAL_SOFT THYROID LARYNX PHARYNX CAROTID HALS"),
    "chest": _words("CHEST THORAX LUNG LUNGS PULMONARY CTPA THORAX_CT TORAX POUMON RIB RIBS"),
    "heart": _words("HEART CARDIAC CORONARY ECHO ECHOCARDIOGRAM CCTA HERZ"),
    "breast": _words("BREAST MAMMO MAMMOGRAPHY MAMMOGRAM MAMMA"),
    "abdomen": _words(
        "ABDOMEN ABD ABDOMINAL LIVER HEPATIC PANCREAS KIDNEY KIDNEYS RENAL SPLEEN "
        "GALLBLADDER BILIARY MRCP BAUCH ABDOMEN_PELVIS"
    ),
    "pelvis": _words("PELVIS PELVIC PROSTATE BLADDER UTERUS OVARY BECKEN"),
    "spine": _words(
        "SPINE CSPINE TSPINE LSPINE SSPINE SPINAL VERTEBRA VERTEBRAL LUMBAR THORACIC_SPINE "
        "CERVICAL_SPINE SACRUM COCCYX WIRBELSAEULE LWS HWS BWS"
    ),
    "shoulder": _words("SHOULDER SCHULTER CLAVICLE HUMERUS"),
    "elbow": _words("ELBOW ELLBOGEN FOREARM"),
    "hand": _words("HAND WRIST FINGER FINGERS HANDGELENK"),
    "hip": _words("HIP HIPS HUEFTE FEMUR"),
    "knee": _words("KNEE KNIE PATELLA TIBIA LEG"),
    "foot": _words("FOOT FEET ANKLE TOE TOES FUSS CALCANEUS"),
}
#: Regions a study of the other shows in part (a chest CT shows the upper abdomen).
RELATED: frozenset[frozenset[str]] = frozenset(
    {
        frozenset({"chest", "abdomen"}),
        frozenset({"abdomen", "pelvis"}),
        frozenset({"chest", "heart"}),
        frozenset({"head", "neck"}),
        frozenset({"hip", "pelvis"}),
    }
)
#: Phrases that name several regions at once.
_COMBINED = {
    "CAP": ("chest", "abdomen", "pelvis"),
    "TAP": ("chest", "abdomen", "pelvis"),
    "AP": (),  # anteroposterior, not a region: listed so it is not misread
    "CSPINE": ("spine",),
}
#: Modality -> family (the one a radiologist compares with).
FAMILY: dict[str, str] = {
    "CT": "CT",
    "MR": "MR",
    "CR": "X-ray",
    "DX": "X-ray",
    "DR": "X-ray",
    "RG": "X-ray",
    "RF": "fluoroscopy",
    "XA": "angiography",
    "US": "ultrasound",
    "MG": "mammography",
    "NM": "nuclear medicine",
    "PT": "nuclear medicine",
    "OT": "",
    "SR": "",
    "KO": "",
    "PR": "",
    "DOC": "",
}
_WORD_RE = re.compile(r"[A-Z0-9]+(?:_[A-Z0-9]+)*")


@dataclass(frozen=True)
class Order:
    """What the scheduled order says: procedure description and code, modality, date."""

    procedure: str = ""
    code: str = ""
    modality: str = ""
    scheduled_date: str = ""  # YYYYMMDD; '' for today


@dataclass(frozen=True)
class PriorStudy:
    """What a study on the disc says about itself."""

    key: str
    study_date: str
    description: str = ""
    modalities: tuple[str, ...] = ()
    body_parts: tuple[str, ...] = ()
    series_descriptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class PriorScore:
    """How relevant a study is to the order, and why."""

    key: str
    score: int
    relevant: bool
    reasons: tuple[str, ...]
    regions: tuple[str, ...] = ()


def regions_of(texts: Iterable[str]) -> tuple[str, ...]:
    """The anatomic regions that any of the texts name, in :data:`ANATOMY` order."""
    found: set[str] = set()
    for text in texts:
        upper = text.upper().replace("-", "").replace("/", " ")
        words = set(_WORD_RE.findall(upper)) | set(re.findall(r"[A-Z]+", upper))
        for word in words:
            found.update(_COMBINED.get(word, ()))
            for region, names in ANATOMY.items():
                if word in names:
                    found.add(region)
    return tuple(r for r in ANATOMY if r in found)


def families_of(modalities: Iterable[str]) -> tuple[str, ...]:
    """The modality families of the modalities (unknown ones stand for themselves)."""
    out: list[str] = []
    for modality in modalities:
        family = FAMILY.get(modality.strip().upper(), modality.strip().upper())
        if family and family not in out:
            out.append(family)
    return tuple(out)


def _date(text: str) -> date | None:
    if len(text) >= 8 and text[:8].isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
        except ValueError:
            return None
    return None


def _age_days(study_date: str, reference: date) -> int | None:
    when = _date(study_date)
    return None if when is None else (reference - when).days


def score_prior(
    order: Order, study: PriorStudy, *, today: date, recent_years: int = 3
) -> PriorScore:
    """Score one study against the order: anatomy 50 (related 20), family 30, recency 20/10.

    Relevant: the same anatomy and either the same modality family or an age
    within ``recent_years``; or a related anatomy in the same family (a chest
    CT for an abdomen CT, not a chest X-ray). When the order names no
    anatomy, the same family within ``recent_years`` is relevant.
    """
    reasons: list[str] = []
    score = 0
    wanted = regions_of([order.procedure, order.code])
    shown = regions_of([*study.body_parts, study.description, *study.series_descriptions])
    same = [r for r in wanted if r in shown]
    related = [f"{a}/{b}" for a in wanted for b in shown if a != b and frozenset({a, b}) in RELATED]
    if same:
        score += 50
        reasons.append(f"same anatomy: {', '.join(same)}")
    elif related:
        score += 20
        reasons.append(f"related anatomy: {', '.join(related)}")
    elif wanted and shown:
        reasons.append(f"other anatomy: {', '.join(shown)}")
    elif not shown:
        reasons.append("anatomy not stated")
    order_family = families_of([order.modality])
    families = families_of(study.modalities)
    common = [f for f in order_family if f in families]
    if common:
        score += 30
        reasons.append(f"same modality: {common[0]}")
    elif order_family and families:
        reasons.append(f"other modality: {'/'.join(families)}")
    reference = _date(order.scheduled_date) or today
    age = _age_days(study.study_date, reference)
    recent = age is not None and age <= 365 * recent_years
    if age is None:
        reasons.append("date unknown")
    elif age <= 365:
        score += 20
        reasons.append("within a year" if age >= 0 else "dated after the order")
    elif recent:
        score += 10
        reasons.append(f"{age // 365} year{'s' if age >= 730 else ''} old")
    else:
        reasons.append(f"{age // 365} years old")
    if wanted:
        relevant = (bool(same) and (bool(common) or recent)) or (bool(related) and bool(common))
    else:
        reasons.insert(0, "the order names no anatomy")
        relevant = bool(common) and recent
    return PriorScore(study.key, score, relevant, tuple(reasons), shown)


def score_priors(
    order: Order, studies: Sequence[PriorStudy], *, today: date, recent_years: int = 3
) -> list[PriorScore]:
    """Score every study (in the given order) against the order."""
    return [score_prior(order, s, today=today, recent_years=recent_years) for s in studies]
