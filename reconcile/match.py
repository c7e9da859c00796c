"""Rank worklist candidates for a disc patient and decide: ``auto``, ``review`` or ``none``.

Pure functions, no I/O. A candidate's score is a sum of points, each with a
reason a person can read ("birth date equal", "family name differs by one
letter"); the points are in the tables below and in ``docs/matching.md``.
The decision is ``auto`` only for a unique strong match whose birth date
agrees exactly and which leads every other patient by a clear margin: a
wrong-patient import is the worst failure, a missed automatic match only
costs a click.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from reconcile import chinese, given_forms, names, scripts, variants
from reconcile.model import WorklistItem
from reconcile.names import Agreement, PersonName
from reconcile.rules import MatchRules

FAMILY_POINTS = {
    Agreement.EQUAL: 30,
    Agreement.PART: 24,
    Agreement.TYPO: 22,
    Agreement.SHORT: 16,  # a guessed reading (hanzi in pinyin): never strong
    Agreement.DIFFERENT: 0,
    Agreement.MISSING: 0,
}
GIVEN_POINTS = {
    Agreement.EQUAL: 20,
    Agreement.INITIAL: 12,
    Agreement.TYPO: 12,
    Agreement.SHORT: 8,
    Agreement.DIFFERENT: 0,
    Agreement.MISSING: 0,
}
SWAPPED_PENALTY = 4
MIDDLE_CONFLICT = -12
BIRTH_EQUAL = 35
BIRTH_PARTIAL = 12
BIRTH_DAY_MONTH_SWAPPED = 10
BIRTH_ONE_DIGIT = 8
BIRTH_DIFFERS = -35
SEX_EQUAL = 5
SEX_DIFFERS = -15
MODALITY_EQUAL = 5
DATE_EQUAL = 5
DATE_NEAR = 2
# Order modalities that say nothing about the disc (generic import orders).
_UNINFORMATIVE_MODALITIES = frozenset({"", "OT", "DOC"})


class Outcome(enum.StrEnum):
    """The decision for one study."""

    AUTO = "auto"
    REVIEW = "review"
    NONE = "none"


@dataclass(frozen=True)
class DiscPatient:
    """Who the outside disc says the patient is, and what the study is."""

    patient_name: str
    birth_date: str = ""
    sex: str = ""
    modalities: tuple[str, ...] = ()
    study_date: str = ""
    guessed_names: tuple[str, ...] = ()
    """Readings of the name's bytes in a legacy set the disc did not declare (or declared
    wrongly): they find and rank candidates, and never allow an automatic match."""


@dataclass(frozen=True)
class Candidate:
    """A worklist item scored against a disc patient."""

    item: WorklistItem
    score: int
    reasons: tuple[str, ...]
    name_points: int
    name_strong: bool
    birth_date_agrees: bool
    sex_conflict: bool
    modality_conflict: bool = False
    name_guessed: bool = False
    look_alike: bool = False
    """The family names agree and the given names plainly differ (both present, neither
    an initial, a typo nor a standard variant of the other): a relative or a twin. Shown
    apart, never proposed, and still a rival that forbids an automatic match."""

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form of a ``kiosk match`` candidate."""
        return {
            "mrn": self.item.mrn,
            "accession_number": self.item.accession_number,
            "patient_name": self.item.patient_name,
            "patient_name_groups": names.name_groups(self.item.patient_name),
            "birth_date": self.item.birth_date,
            "score": self.score,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Decision:
    """The ranked candidates for one study and what to do with them."""

    outcome: Outcome
    candidates: tuple[Candidate, ...]
    why: str
    considered: int = 0
    plausible: tuple[Candidate, ...] = field(default=())
    look_alikes: tuple[Candidate, ...] = field(default=())
    """Patients with the disc's family name and another given name (see
    :attr:`Candidate.look_alike`): named to the clerk as a warning, not as candidates."""

    @property
    def chosen(self) -> Candidate | None:
        """The candidate to apply without a person, only when the outcome is ``auto``."""
        return self.candidates[0] if self.outcome is Outcome.AUTO else None


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


def _swap(name: PersonName) -> PersonName:
    return PersonName(name.given, name.family, name.middle, name.structured)


_STRONG_FAMILY = frozenset({Agreement.EQUAL, Agreement.TYPO, Agreement.PART})


@dataclass(frozen=True)
class NameScore:
    """Name points, their reasons, and whether the names agree well enough for ``auto``.

    ``strong`` needs the given names equal (a one-letter difference or an
    initial is how twins differ), the family names equal, one letter apart or
    one half of a double-barrelled name, and no conflicting middle names.
    """

    points: int
    reasons: tuple[str, ...]
    strong: bool
    comparable: bool = True
    given_differs: bool = False
    """The family names agree (equal, a typo or a part) and the given names plainly differ."""


def _score_reading(disc: PersonName, wl: PersonName) -> NameScore:
    family = names.compare_family(disc.family, wl.family)
    given = names.compare_given(disc.given, wl.given)
    middle = names.compare_middle(disc.middle, wl.middle)
    if disc.given and "".join(disc.given + disc.middle) == "".join(wl.given + wl.middle):
        given = Agreement.EQUAL  # JIHOON = JI-HOON = JI^HOON
        middle = Agreement.EQUAL if disc.middle or wl.middle else Agreement.MISSING
    family, family_why = _variant_family(disc, wl, family)
    given, given_why = _variant_given(disc, wl, given)
    chinese_family, chinese_given = _chinese_romanisations(disc, wl)
    if family is not Agreement.EQUAL and chinese_family is not None:
        family, family_why = chinese_family
    elif family is Agreement.TYPO and _two_chinese_syllables(disc.family, wl.family):
        family, family_why = (
            Agreement.DIFFERENT,
            (
                f"family name differs: {_shown(disc.family)} and {_shown(wl.family)} are two "
                "Chinese family names, not one with a typo"
            ),
        )
    if given is not Agreement.EQUAL and chinese_given is not None:
        given, given_why = chinese_given
        middle = Agreement.EQUAL if disc.middle or wl.middle else Agreement.MISSING
    points = FAMILY_POINTS[family] + GIVEN_POINTS[given]
    reasons: list[str] = []
    if family is Agreement.MISSING:
        reasons.append("no family name on one side")
    else:
        reasons.append(family_why or f"family name {family.value}")
    if given is Agreement.MISSING:
        reasons.append("no given name on one side")
    else:
        reasons.append(given_why or f"given name {given.value}")
    if middle is Agreement.DIFFERENT:
        points += MIDDLE_CONFLICT
        reasons.append("middle names differ")
    elif middle is Agreement.EQUAL:
        reasons.append("middle names agree")
    elif disc.middle or wl.middle:
        reasons.append("middle name only on one side")
    strong = (
        family in _STRONG_FAMILY and given is Agreement.EQUAL and middle is not Agreement.DIFFERENT
    )
    differs = (
        family in _STRONG_FAMILY
        and given is Agreement.DIFFERENT
        and not _shares_a_given_name(disc, wl)
    )
    return NameScore(points, tuple(reasons), strong, given_differs=differs)


def _shares_a_given_name(disc: PersonName, wl: PersonName) -> bool:
    """Whether one given or middle name of one side is a given or middle name of the
    other (``SMITH^PAUL`` against ``SMITH^JOHN^PAUL``: a person who goes by the middle
    name); then the given names do not plainly differ."""
    return bool(set(disc.given + disc.middle) & set(wl.given + wl.middle))


def _shown(words: tuple[str, ...]) -> str:
    return " ".join(words).upper()


def _variant_family(disc: PersonName, wl: PersonName, found: Agreement) -> tuple[Agreement, str]:
    """A family name that differs is equal when both are standard spellings of one foreign
    name (:func:`reconcile.variants.same_name`); the reason names the standards."""
    if found is Agreement.EQUAL or not disc.family or not wl.family:
        return found, ""
    how = variants.same_name("".join(disc.family), "".join(wl.family), family=True)
    if how is None:
        return found, ""
    return Agreement.EQUAL, (
        f"family name equal via {how}: {_shown(disc.family)} = {_shown(wl.family)}"
    )


def _pinyin_u_umlaut(a: str, b: str) -> bool:
    """Whether one Chinese name writes ü (吕 LÜ, 女 NÜ) where the other writes u (卢 LU):
    folding the mark away makes two pinyin names one."""
    has = "ü" in a.casefold(), "ü" in b.casefold()
    if has[0] == has[1]:
        return False
    family = names.parse(a if has[0] else b).family
    return len(family) == 1 and chinese.one_syllable(family[0])


def _two_chinese_syllables(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Whether two family names are each one Chinese syllable (LIU and LIN, CHEN and ZHEN):
    one letter apart, they are two names, where longer names one letter apart are a typo."""
    return len(a) == len(b) == 1 and chinese.one_syllable(a[0]) and chinese.one_syllable(b[0])


ChinesePart = tuple[Agreement, str] | None


def _chinese_romanisations(disc: PersonName, wl: PersonName) -> tuple[ChinesePart, ChinesePart]:
    """How the family and the given names (given and middle words joined, as HSIAO-MING)
    compare as one Chinese name in Hanyu Pinyin and in Wade-Giles (:mod:`reconcile.chinese`):
    ``EQUAL`` when the Wade-Giles spells the pinyin and nothing else, ``SHORT`` (similar, for
    review) when it spells it among other names (CHANG: zhang or chang); None for a part that
    is neither, or names not plainly written one in each system."""
    disc_system = chinese.written_in(disc.words)
    wl_system = chinese.written_in(wl.words)
    if {disc_system, wl_system} != {chinese.PINYIN, chinese.WADE_GILES}:
        return None, None
    by_pinyin, by_wg = (disc, wl) if disc_system == chinese.PINYIN else (wl, disc)
    found: list[ChinesePart] = []
    for what, pinyin_words, wg_words, shown in (
        ("family", by_pinyin.family, by_wg.family, (disc.family, wl.family)),
        (
            "given",
            by_pinyin.given + by_pinyin.middle,
            by_wg.given + by_wg.middle,
            (disc.given + disc.middle, wl.given + wl.middle),
        ),
    ):
        how = chinese.pinyin_and_wade_giles(pinyin_words, wg_words) if pinyin_words else ""
        a, b = _shown(shown[0]), _shown(shown[1])
        if how == chinese.EQUAL:
            found.append(
                (
                    Agreement.EQUAL,
                    f"{what} name equal via Hanyu Pinyin and Wade-Giles spellings of one "
                    f"Chinese name: {a} = {b}",
                )
            )
        elif how == chinese.SIMILAR:
            found.append(
                (
                    Agreement.SHORT,
                    f"{what} name similar: {a} ~ {b}, one of the names its Wade-Giles "
                    "spelling may be (for review)",
                )
            )
        else:
            found.append(None)
    return found[0], found[1]


def _variant_given(disc: PersonName, wl: PersonName, found: Agreement) -> tuple[Agreement, str]:
    """A first given name that differs is equal when both are standard spellings of one
    foreign name, similar (as a one-letter difference) when both are Korean romanisations
    of one syllable string, similar (as a short form) when one is an English nickname of
    the other (:mod:`reconcile.given_forms`); the reason says which."""
    if found is Agreement.EQUAL or not disc.given or not wl.given:
        return found, ""
    how = variants.same_name(disc.given[0], wl.given[0], family=False)
    if how is not None:
        return Agreement.EQUAL, (
            f"given name equal via {how}: {_shown(disc.given[:1])} = {_shown(wl.given[:1])}"
        )
    # A Korean given name of two syllables is often written in two words (JUN-SEO, SU JIN):
    # then the whole of it is compared, never its first word alone (SU is no SEO YEON).
    disc_given, wl_given = (
        (disc.given + disc.middle, wl.given + wl.middle)
        if disc.middle or wl.middle
        else (disc.given[:1], wl.given[:1])
    )
    if found is Agreement.DIFFERENT and variants.similar("".join(disc_given), "".join(wl_given)):
        return Agreement.TYPO, (
            "given name similar (Revised Romanization / McCune-Reischauer spellings): "
            f"{_shown(disc_given)} ~ {_shown(wl_given)}"
        )
    if found is Agreement.DIFFERENT and given_forms.english_nickname(disc.given[0], wl.given[0]):
        return Agreement.SHORT, (
            f"given name similar, a known nickname: {_shown(disc.given[:1])} ~ "
            f"{_shown(wl.given[:1])} (for review)"
        )
    return found, ""


def score_names(disc_name: str, worklist_name: str) -> NameScore:
    """Score the best reading of the two names, in any script and component group.

    Latin names of one group are read with their accents, umlauts, order and
    separators (:func:`score_latin`); otherwise every group of the disc's
    name meets every group of the candidate's (:func:`score_groups`).
    """
    one_group = len(names.groups(disc_name)) <= 1 and len(names.groups(worklist_name)) <= 1
    if one_group and scripts.is_latin(disc_name) and scripts.is_latin(worklist_name):
        return score_latin(disc_name, worklist_name)
    return score_groups(disc_name, worklist_name)


def score_latin(disc_name: str, worklist_name: str) -> NameScore:
    """Score the best reading of two Latin names (accents, umlauts, order, separators)."""
    if names.parse(disc_name).empty or names.parse(worklist_name).empty:
        return NameScore(0, ("no name on one side",), False)
    best: NameScore | None = None
    for umlauts in (False, True):
        wl = names.parse(worklist_name, umlauts=umlauts)
        for reading, note in names.readings(disc_name, umlauts=umlauts):
            options = [(reading, 0, note)]
            if reading.structured:
                options.append((_swap(reading), SWAPPED_PENALTY, "family and given names swapped"))
            for disc, penalty, why in options:
                found = _score_reading(disc, wl)
                notes = ([UMLAUT_NOTE] if umlauts else []) + ([why] if why else [])
                candidate = dataclasses.replace(
                    found, points=found.points - penalty, reasons=(*notes, *found.reasons)
                )
                if best is None or candidate.points > best.points:
                    best = candidate
    assert best is not None
    if best.strong and _pinyin_u_umlaut(disc_name, worklist_name):
        best = dataclasses.replace(
            best,
            strong=False,
            reasons=(
                *best.reasons,
                "one name writes ü where the other writes u: in pinyin two names (LÜ, LU); "
                "for review",
            ),
        )
    full = FAMILY_POINTS[Agreement.EQUAL] + GIVEN_POINTS[Agreement.EQUAL]
    if not best.strong and _parts_moved(disc_name, worklist_name):
        return NameScore(
            full - SWAPPED_PENALTY,
            (
                "the same words in the same order, split into family, given and middle names "
                "another way (a middle name written before the given name, as in Vietnamese, "
                "or put into the family name)",
            ),
            True,
        )
    if (
        best.points >= full
        and disc_name != worklist_name
        and names.looks_like(disc_name, worklist_name)
        and not umlaut_used(best)
    ):
        reasons = (*best.reasons, "names differ only in case, accents or separators")
        return dataclasses.replace(best, reasons=reasons)
    return best


def _parts_moved(disc_name: str, worklist_name: str) -> bool:
    """Whether two structured names of three words or more are one sequence of words, read
    family, given, middle or family, middle, given (NGUYEN^KHAI^THI MINH and NGUYỄN^THỊ
    MINH KHAI; NGUYEN THI THU^HUONG and NGUYỄN^THỊ THU HƯƠNG), with the first word the
    family name's on both sides. Only whole words move: LI^NAN is not LIN^AN."""
    a, b = names.parse(disc_name), names.parse(worklist_name)
    if not (a.structured and b.structured) or len(a.words) < 3 or a.family[:1] != b.family[:1]:
        return False
    orders = {a.family + a.given + a.middle, a.family + a.middle + a.given}
    return bool(orders & {b.family + b.given + b.middle, b.family + b.middle + b.given})


GROUP_CONFLICT = -30
_NATIVE_CONFLICT_GROUPS = ("ideographic", "phonetic")


def score_groups(disc_name: str, worklist_name: str) -> NameScore:
    """Compare each component group of one name with each group of the other; keep the best.

    Two Latin groups are compared as :func:`score_latin` does; other pairs
    through :func:`reconcile.names.compare_across` (standard
    transliterations; kanji only with kanji). When the two names both carry
    an ideographic or a phonetic group in a native script and those differ
    in a family or given name (one kanji name, two readings), the match is
    not strong and loses ``GROUP_CONFLICT`` points.
    """
    disc_groups, wl_groups = names.groups(disc_name), names.groups(worklist_name)
    if not disc_groups or not wl_groups:
        return NameScore(0, ("no name on one side",), False)
    several = len(disc_groups) > 1 or len(wl_groups) > 1
    best: NameScore | None = None
    for disc_kind, disc_text in disc_groups.items():
        for wl_kind, wl_text in wl_groups.items():
            if scripts.is_latin(disc_text) and scripts.is_latin(wl_text):
                found: NameScore | None = score_latin(disc_text, wl_text)
            else:
                found = _score_mixed(disc_text, wl_text)
            if found is None:
                continue
            if several:
                where = (
                    f"{disc_kind} names compared"
                    if disc_kind == wl_kind
                    else f"disc {disc_kind} name against worklist {wl_kind} name"
                )
                found = dataclasses.replace(found, reasons=(where, *found.reasons))
            if best is None or (found.points, found.strong) > (best.points, best.strong):
                best = found
    if best is None:
        return NameScore(0, ("the names are in scripts that cannot be compared",), False, False)
    for kind in _NATIVE_CONFLICT_GROUPS:
        a, b = disc_groups.get(kind, ""), wl_groups.get(kind, "")
        if not a or not b or scripts.is_latin(a) or scripts.is_latin(b):
            continue
        same = _score_mixed(a, b)
        if same is not None and not same.strong and best.strong:
            reasons = (*best.reasons, f"the {kind} names differ")
            return NameScore(best.points + GROUP_CONFLICT, reasons, False)
    return best


def _side_readings(text: str) -> list[tuple[PersonName, str]]:
    return names.readings(text) if scripts.is_latin(text) else names.native_readings(text)


def _score_mixed(disc_text: str, wl_text: str) -> NameScore | None:
    """The best score of two groups of which at least one is not Latin; None if incomparable."""
    best: NameScore | None = None
    for wl, wl_note in _side_readings(wl_text):
        for reading, note in _side_readings(disc_text):
            options = [(reading, 0, note)]
            if reading.structured and reading.given:
                options.append((_swap(reading), SWAPPED_PENALTY, "family and given names swapped"))
            for disc, penalty, why in options:
                found = _score_across(disc, wl)
                if found is None:
                    continue
                notes = [n for n in (why, wl_note) if n]
                candidate = dataclasses.replace(
                    found, points=found.points - penalty, reasons=(*notes, *found.reasons)
                )
                if best is None or candidate.points > best.points:
                    best = candidate
    return best


def _score_across(disc: PersonName, wl: PersonName) -> NameScore | None:
    """:func:`_score_reading` for names whose parts may be in different scripts."""
    if disc.empty or wl.empty:
        return None
    if not disc.structured or not wl.structured:
        joined_disc, joined_wl = "".join(disc.words), "".join(wl.words)
        if scripts.script_of(joined_disc) is scripts.script_of(joined_wl):
            if joined_disc == joined_wl:
                full = FAMILY_POINTS[Agreement.EQUAL] + GIVEN_POINTS[Agreement.EQUAL]
                return NameScore(full, ("whole name equal (written without ^)",), True)
            if not disc.structured and not wl.structured:
                return NameScore(0, ("names differ",), False)
    family = names.compare_across(disc.family, wl.family, family=True)
    given = names.compare_across(disc.given, wl.given, family=False)
    joined = (
        names.compare_across(
            ("".join(disc.given + disc.middle),), ("".join(wl.given + wl.middle),), family=False
        )
        if disc.given and wl.given
        else None
    )
    if (
        joined is not None
        and joined[0] is Agreement.EQUAL
        and (given is None or given[0] is not Agreement.EQUAL)
    ):
        given = joined  # JIHOON = JI HOON = 지훈
        middle: tuple[Agreement, str] | None = (
            (Agreement.EQUAL, "") if disc.middle or wl.middle else (Agreement.MISSING, "")
        )
    elif disc.middle and wl.middle:
        middle = names.compare_across(disc.middle[:1], wl.middle[:1], family=False)
    else:
        middle = (Agreement.MISSING, "")
    if family is None and given is None:
        return None
    points = 0
    reasons: list[str] = []
    if family is None:
        reasons.append("family names in scripts that cannot be compared")
    else:
        points += FAMILY_POINTS[family[0]]
        reasons.append(family[1] or _part_reason("family", family[0]))
    if given is None:
        reasons.append("given names in scripts that cannot be compared")
    else:
        points += GIVEN_POINTS[given[0]]
        reasons.append(given[1] or _part_reason("given", given[0]))
    if middle is not None and middle[0] is Agreement.DIFFERENT:
        points += MIDDLE_CONFLICT
        reasons.append("middle names differ")
    elif middle is not None and middle[0] is Agreement.EQUAL and (disc.middle or wl.middle):
        reasons.append("middle names agree")
    elif disc.middle or wl.middle:
        reasons.append("middle name only on one side")
    strong = (
        family is not None
        and family[0] in _STRONG_FAMILY
        and given is not None
        and given[0] is Agreement.EQUAL
        and (middle is None or middle[0] is not Agreement.DIFFERENT)
    )
    differs = (
        family is not None
        and family[0] in _STRONG_FAMILY
        and given is not None
        and given[0] is Agreement.DIFFERENT
    )
    return NameScore(points, tuple(reasons), strong, given_differs=differs)


def _part_reason(what: str, agreement: Agreement) -> str:
    if agreement is Agreement.MISSING:
        return f"no {what} name on one side"
    return f"{what} name {agreement.value}"


UMLAUT_NOTE = "umlaut or Nordic letter written as ae/oe/ue/aa (ICAO 9303)"


def umlaut_used(name: NameScore) -> bool:
    """Whether the score came from reading ä, ö, ü, ø, å as ae, oe, ue, oe, aa."""
    return UMLAUT_NOTE in name.reasons


# --------------------------------------------------------------------------
# Dates and sex
# --------------------------------------------------------------------------


_DATE = re.compile(r"([0-9]{4})(?:([.-]?)([0-9]{2})(?:\2([0-9]{2}))?)?")


def date_parts(text: str) -> tuple[str, ...]:
    """Year, month, day of a DA (or a partial date): ``()`` when absent or unreadable.

    A DA is ``YYYYMMDD``; ``YYYY.MM.DD`` (ACR-NEMA) and ``YYYY-MM-DD`` are read too, and
    ``YYYY``, ``YYYYMM`` as partial dates. Anything else (a sign, a ninth digit, two
    values, a digit not ASCII, a day the calendar lacks) is no date at all: its digits
    are never taken for one.
    """
    found = _DATE.fullmatch(text.strip(" \0"))
    if not found:
        return ()
    y, m, d = found.group(1), found.group(3) or "00", found.group(4) or "00"
    if y == "0000":
        return ()
    if m == "00":
        return (y,)
    if not 1 <= int(m) <= 12:
        return ()
    if d == "00":
        return (y, m)
    try:
        dt.date(int(y), int(m), int(d))
    except ValueError:  # 19580229, 19580431: no such day
        return ()
    return (y, m, d)


def score_birth_date(disc: str, worklist: str) -> tuple[int, str, bool]:
    """Points, reason, and whether the two birth dates agree exactly."""
    a, b = date_parts(disc), date_parts(worklist)
    if not a:
        return 0, "no birth date on the disc", False
    if not b:
        return 0, "no birth date on the worklist", False
    if a == b and len(a) == 3:
        return BIRTH_EQUAL, "birth date equal", True
    n = min(len(a), len(b))
    if n < 3:
        if a[:n] == b[:n]:
            what = "birth year agrees" if n == 1 else "birth year and month agree"
            return BIRTH_PARTIAL, f"{what} (the other birth date is partial)", False
        return BIRTH_DIFFERS, "birth date differs", False
    if a[0] == b[0] and a[1] == b[2] and a[2] == b[1]:
        return BIRTH_DAY_MONTH_SWAPPED, "birth date day and month swapped", False
    sa, sb = "".join(a), "".join(b)
    if sum(x != y for x, y in zip(sa, sb, strict=True)) == 1 or names.edit_distance(sa, sb) == 1:
        return BIRTH_ONE_DIGIT, "birth date differs by one digit", False
    return BIRTH_DIFFERS, "birth date differs", False


def normal_sex(text: str) -> str:
    """``M`` or ``F`` for any spelling of them (``m``, ``MALE``, ``Female``); else ``""``."""
    s = text.strip().upper()[:1]
    return s if s in ("M", "F") else ""


def score_sex(disc: str, worklist: str) -> tuple[int, str, bool]:
    """Points, reason ("" when unknown on a side), and whether the sexes conflict."""
    a, b = normal_sex(disc), normal_sex(worklist)
    if not a or not b:
        return 0, "", False
    if a == b:
        return SEX_EQUAL, "sex equal", False
    return SEX_DIFFERS, "sex differs", True


def _parse_date(text: str) -> dt.date | None:
    parts = date_parts(text)  # a whole one is a day the calendar has
    return dt.date(*map(int, parts)) if len(parts) == 3 else None


def score_study(
    disc: DiscPatient, item: WorklistItem, rules: MatchRules
) -> tuple[int, list[str], bool]:
    """Points, reasons, and whether the order is for another modality than the study's."""
    points = 0
    reasons: list[str] = []
    conflict = False
    modality = item.modality.strip().upper()
    if modality not in _UNINFORMATIVE_MODALITIES and disc.modalities:
        if modality in {m.upper() for m in disc.modalities}:
            points += MODALITY_EQUAL
            reasons.append(f"modality {modality} matches")
        else:
            reasons.append(f"modality differs (order {modality})")
            conflict = True
    study, scheduled = _parse_date(disc.study_date), _parse_date(item.scheduled_date)
    if study and scheduled:
        days = abs((scheduled - study).days)
        if days == 0:
            points += DATE_EQUAL
            reasons.append("study date equals scheduled date")
        elif days <= rules.date_window_days:
            points += DATE_NEAR
            reasons.append(
                f"study date within {int(rules.date_window_days)} days of scheduled date"
            )
    return points, reasons, conflict


# --------------------------------------------------------------------------
# Scoring and the decision
# --------------------------------------------------------------------------


NAMES_INCOMPARABLE = 15


#: Unicode categories no name holds: control, format (zero-width, bidi), surrogate,
#: private use, unassigned. Comparison folds them to nothing, hiding what they stand for.
_NOT_LETTERS = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


@functools.lru_cache(maxsize=256)
def not_read_whole(name: str) -> str:
    """Why a disc's name as read cannot decide a match alone ("" when it can).

    Bytes its character set cannot read (decoded as U+FFFD, or written as
    ``?`` or U+FFFC by an encoder that had no letter for them), more than
    one value (Patient Name has one), characters that are no letters
    (control, format, private use): what is left of the name may agree with
    a worklist name by chance of what was lost. And component groups that
    name different people (``ROE^ANN=DOE^JANE``, romaji ``TARO`` with kana
    ``じろう``): which group is the patient's, the disc does not say.
    """
    if "\ufffd" in name or "\ufffc" in name or "?" in name:
        return "the disc's name holds letters its character set could not hold"
    if "\\" in name:
        return "the disc's name holds more than one value"
    if any(unicodedata.category(ch) in _NOT_LETTERS for ch in name):
        return "the disc's name holds characters that are no letters (control, format, private)"
    if _chinese_groups_differ(names.groups(name)):
        return "the disc's name groups do not name the same person"
    parts = list(names.groups(name).values())
    differ = {_part_reason(what, Agreement.DIFFERENT) for what in ("family", "given")}
    for a, b in itertools.combinations(parts, 2):
        between = score_names(a, b)
        if between.given_differs or differ & set(between.reasons):
            return "the disc's name groups do not name the same person"
    return ""


def _chinese_groups_differ(groups: dict[str, str]) -> bool:
    """Whether a Chinese name's hanzi group reads as another name than its Latin group
    (``ZHANG^JIANHUA=常^建华``: 常 is CHANG). Only where the Latin group is plainly pinyin or
    Wade-Giles (:func:`reconcile.chinese.written_in`), so never for Japanese romaji; a
    hanzi group matches when any reading of its characters spells the Latin one."""
    alphabetic, ideographic = groups.get("alphabetic", ""), groups.get("ideographic", "")
    if not alphabetic or not ideographic:
        return False
    latin = names.readings(alphabetic)[0][0]
    hanzi = names.native_readings(ideographic)[0][0]  # without ^: one word, read whole
    if scripts.script_of("".join(hanzi.words)) is not scripts.Script.HAN:
        return False
    if any(scripts.script_of(ch) is scripts.Script.KANA for ch in "".join(groups.values())):
        return False  # a Japanese name: its romaji is no reading of its kanji in Chinese
    system = chinese.written_in(latin.words)
    if system is None or (system != chinese.PINYIN and scripts.japanese_kanji(hanzi.words)):
        return False  # Japanese romaji may read as Wade-Giles (SATO: sa-to)
    pairs = (
        [(hanzi.words, latin.words)]  # 张倩华 (no ^) against ZHANG^JIANHUA: read whole
        if not hanzi.structured
        else [
            (hanzi.family, latin.family),
            (hanzi.given + hanzi.middle, latin.given + latin.middle),
        ]
    )
    for native, spelled in pairs:
        if native and spelled and chinese.read_as("".join(native), "".join(spelled)) is None:
            return True
    return False


def _best_name(disc: DiscPatient, item: WorklistItem) -> tuple[NameScore, bool]:
    """The name score of the disc's name as read, or of a guessed reading when that scores
    more (then never strong, and said to be a guess); whether a guess was used. A name not
    read whole (:func:`not_read_whole`) is never strong either."""
    name = score_names(disc.patient_name, item.patient_name)
    if flaw := not_read_whole(disc.patient_name):
        why = f"{flaw}: this name is for review only"
        name = dataclasses.replace(name, reasons=(why, *name.reasons), strong=False)
    guessed = False
    for reading in disc.guessed_names:
        found = score_names(reading, item.patient_name)
        if found.points > name.points:
            why = (
                f"name read as a guess ({reading}): the disc's character set is undeclared "
                "or wrong, so this name is for review only"
            )
            name = dataclasses.replace(found, reasons=(why, *found.reasons), strong=False)
            guessed = True
    return name, guessed


def score(disc: DiscPatient, item: WorklistItem, rules: MatchRules | None = None) -> Candidate:
    """Score one worklist item against the disc patient.

    When the names share no script or group that can be compared (kanji
    against kana only), an equal birth date and no conflicting sex earn
    ``NAMES_INCOMPARABLE`` points: enough to list the candidate for review,
    never for an automatic match (the name is not strong).
    """
    rules = rules or MatchRules()
    name, guessed = _best_name(disc, item)
    birth_points, birth_reason, birth_agrees = score_birth_date(disc.birth_date, item.birth_date)
    sex_points, sex_reason, sex_conflict = score_sex(disc.sex, item.sex)
    study_points, study_reasons, modality_conflict = score_study(disc, item, rules)
    reasons = [birth_reason, *name.reasons]
    if sex_reason:
        reasons.append(sex_reason)
    reasons += study_reasons
    points = name.points
    if not name.comparable and birth_agrees and not sex_conflict:
        points = NAMES_INCOMPARABLE
        reasons.append(
            "the names could not be compared: found by birth date and sex, for review only"
        )
    return Candidate(
        item=item,
        score=points + birth_points + sex_points + study_points,
        reasons=tuple(reasons),
        name_points=name.points,
        name_strong=name.strong,
        birth_date_agrees=birth_agrees,
        sex_conflict=sex_conflict,
        modality_conflict=modality_conflict,
        name_guessed=guessed,
        look_alike=name.given_differs,
    )


def _rank(candidates: Iterable[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.score, c.item.mrn, c.item.accession_number))


def decide(candidates: Sequence[Candidate], rules: MatchRules | None = None) -> Decision:
    """Apply the decision rule to scored candidates (any order).

    Look-alikes (:attr:`Candidate.look_alike`) are never listed nor chosen, but a
    plausible one still counts as a rival: a twin on the worklist forbids an
    automatic match of the other.
    """
    rules = rules or MatchRules()
    ranked = _rank(candidates)
    proposed = [c for c in ranked if not c.look_alike]
    listed = tuple(c for c in proposed if c.score >= rules.show)[: int(rules.max_candidates)]
    plausible = tuple(c for c in proposed if c.score >= rules.plausible)
    look_alikes = tuple(c for c in ranked if c.look_alike and c.score >= rules.show)[
        : int(rules.max_candidates)
    ]

    def result(outcome: Outcome, why: str) -> Decision:
        return Decision(outcome, listed, why, len(ranked), plausible, look_alikes)

    if not plausible:
        why = f"no worklist entry reaches the plausible score {rules.plausible:g}"
        if look_alikes:
            why += f"; {_look_alike_note(look_alikes)}"
        return result(Outcome.NONE, why)
    top = plausible[0]
    rivals = [
        c for c in ranked if c is not top and (c.item.mrn != top.item.mrn or not top.item.mrn)
    ]
    close = [c for c in rivals if c.score >= rules.plausible]
    if close:
        twins = tuple(c for c in close if c.look_alike)
        count = 1 + len({c.item.mrn for c in close if not c.look_alike})
        if count > 1:
            why = f"{count} different patients could be this one"
            why += f"; {_look_alike_note(twins)}" if twins else ""
        else:
            why = f"a look-alike could be this one; {_look_alike_note(twins)}"
        return result(Outcome.REVIEW, why)
    if top.score < rules.auto:
        return result(
            Outcome.REVIEW,
            f"best score {top.score} is below the automatic threshold {rules.auto:g}",
        )
    if not top.birth_date_agrees:
        return result(Outcome.REVIEW, "the birth dates do not agree exactly")
    if top.name_guessed:
        return result(
            Outcome.REVIEW, "the name was read in a guessed character set; check it by hand"
        )
    if not top.name_strong:
        return result(Outcome.REVIEW, "the names agree too weakly for an automatic match")
    if top.sex_conflict:
        return result(Outcome.REVIEW, "the sex differs")
    if top.modality_conflict:
        return result(Outcome.REVIEW, "the order is for another modality; check the order")
    if rivals and top.score - rivals[0].score < rules.margin:
        return result(
            Outcome.REVIEW,
            f"leads the next patient by {top.score - rivals[0].score}, less than {rules.margin:g}",
        )
    orders = [c for c in ranked if c is not top and c.item.mrn == top.item.mrn and top.item.mrn]
    if orders and top.score - orders[0].score < rules.order_margin:
        return result(
            Outcome.REVIEW, f"{1 + len(orders)} orders of this patient fit; choose the order"
        )
    return result(Outcome.AUTO, "one strong match with equal birth date, well ahead of the rest")


def _look_alike_note(look_alikes: Sequence[Candidate]) -> str:
    """Name the look-alikes for the clerk: by MRN, never proposed."""
    mrns = ", ".join(dict.fromkeys(c.item.mrn or "(no MRN)" for c in look_alikes))
    return (
        f"not proposed: {mrns}, the same family name with another given name "
        "(a relative or a twin?)"
    )


def match(
    disc: DiscPatient, items: Iterable[WorklistItem], rules: MatchRules | None = None
) -> Decision:
    """Score every worklist item against the disc patient and decide."""
    rules = rules or MatchRules()
    unique: dict[tuple[str, str, str, str], WorklistItem] = {}
    for item in items:
        key = (item.mrn, item.accession_number, item.scheduled_step_id, item.patient_name)
        unique.setdefault(key, item)
    return decide([score(disc, item, rules) for item in unique.values()], rules)
