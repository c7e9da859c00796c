"""Person names as hospitals write them, normalised for comparison (stdlib only).

A DICOM Person Name is ``Family^Given^Middle^Prefix^Suffix`` (with optional
``=`` groups for ideographic and phonetic forms), but outside discs also carry
``JANE DOE``, ``DOE, JANE``, lower case, accents or none, ``ü`` written ``ue``,
hyphenated or changed surnames and one-letter typos. This module turns such
names into comparable tokens and compares two names part by part; the points
that a comparison is worth are decided in :mod:`reconcile.match`.
"""

from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass

from reconcile import chinese, given_forms, scripts

# Letters that Unicode decomposition does not reduce to ASCII.
_SPECIAL = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "þ": "th",
        "ı": "i",
    }
)
# Umlauts and the Nordic letters written without them, as ICAO 9303 (part 3) and the
# German and Nordic usage do (Müller = Mueller, Bjørn = Bjoern, Ångström = Aangstroem).
_UMLAUTS = str.maketrans(
    {
        "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "ae", "Ö": "oe", "Ü": "ue",
        "å": "aa", "Å": "aa", "ø": "oe", "Ø": "oe",
    }
)  # fmt: skip
# Dropped inside a word: O'Brien = OBrien = OBRIEN.
_JOINERS = "'’`´."


def fold(text: str, *, umlauts: bool = False) -> str:
    """Return ``text`` lower-cased, without accents, with separators as single spaces.

    ``umlauts=True`` writes ä, ö, ü, ø, å as ae, oe, ue, oe, aa first (ICAO 9303);
    otherwise they lose their marks like other accents.
    """
    if umlauts:
        text = text.translate(_UMLAUTS)
    text = text.translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", text)
    out: list[str] = []
    for ch in decomposed:
        if unicodedata.combining(ch) or ch in _JOINERS:
            continue
        out.append(ch.casefold() if ch.isalnum() else " ")
    return " ".join(chinese.without_tone_numbers(w) for w in "".join(out).split())


@dataclass(frozen=True)
class PersonName:
    """A name split into folded tokens.

    ``structured`` is False when the source had no ``^`` and no comma, so that
    which words are the family name is unknown (``family`` then holds the
    first word, as DICOM order would have it).
    """

    family: tuple[str, ...]
    given: tuple[str, ...]
    middle: tuple[str, ...]
    structured: bool = True

    @property
    def words(self) -> tuple[str, ...]:
        """Every token, family first."""
        return self.family + self.given + self.middle

    @property
    def empty(self) -> bool:
        """True when the name holds no letter or digit at all."""
        return not self.words


def _tokens(text: str, umlauts: bool) -> tuple[str, ...]:
    return tuple(fold(text, umlauts=umlauts).split())


def parse(raw: str, *, umlauts: bool = False) -> PersonName:
    """Split a DICOM PN (or a free-text name) into family, given and middle tokens."""
    text = raw.split("=")[0] or next((g for g in raw.split("=") if g), "")
    if "^" in text:
        parts = [*text.split("^"), "", ""]
        family = _tokens(parts[0], umlauts)
        given_words = _tokens(parts[1], umlauts)
        middle = _tokens(parts[2], umlauts)
        given, extra = given_words[:1], given_words[1:]
        return PersonName(family, given, extra + middle)
    if "," in text:
        family_text, _, given_text = text.partition(",")
        given_words = _tokens(given_text, umlauts)
        return PersonName(_tokens(family_text, umlauts), given_words[:1], given_words[1:])
    words = _strip_titles(_tokens(text, umlauts))
    return PersonName(words[:1], words[1:2], words[2:], structured=False)


# Titles and generational suffixes written into free-text names ("MRS JANE DOE").
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "herr", "frau", "mme", "mlle"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "phd", "md"})


def _strip_titles(words: tuple[str, ...]) -> tuple[str, ...]:
    """Drop leading titles and trailing suffixes while two words or more remain."""
    while len(words) > 2 and words[0] in _TITLES:
        words = words[1:]
    while len(words) > 2 and words[-1] in _SUFFIXES:
        words = words[:-1]
    return words


def readings(raw: str, *, umlauts: bool = False) -> list[tuple[PersonName, str]]:
    """Every sensible reading of a name, with the reason to give when it is used.

    A structured name is read as written (reason ``""``); a name without
    ``^`` or comma is read family-first and given-first, since both orders
    occur on discs.
    """
    name = parse(raw, umlauts=umlauts)
    if name.structured or len(name.words) < 2:
        return [(name, "")]
    words = name.words
    family_first = PersonName(words[:1], words[1:2], words[2:], structured=False)
    given_first = PersonName(words[-1:], words[:1], words[1:-1], structured=False)
    return [
        (family_first, "name written without ^, read family name first"),
        (given_first, "name written without ^, read given name first"),
    ]


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal-string-alignment distance (an adjacent swap counts as one edit).

    Returns ``limit`` when the distance is at least ``limit`` (cheap early exit).
    """
    if a == b:
        return 0
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= limit:
            return limit
        prev2, prev = prev, cur
    return min(prev[len(b)], limit)


class Agreement(enum.Enum):
    """How two parts of a name (family, given or middle) compare."""

    EQUAL = "equal"
    TYPO = "differs by one letter"
    PART = "is part of a double-barrelled name"
    INITIAL = "matches an initial"
    SHORT = "is a short form"
    MISSING = "missing on one side"
    DIFFERENT = "differs"


def _one_typo(a: str, b: str) -> bool:
    return min(len(a), len(b)) >= 3 and edit_distance(a, b, limit=2) == 1


def compare_family(a: tuple[str, ...], b: tuple[str, ...]) -> Agreement:
    """Compare two family names given as token tuples."""
    if not a or not b:
        return Agreement.MISSING
    if "".join(a) == "".join(b) or sorted(a) == sorted(b):
        return Agreement.EQUAL
    if _one_typo("".join(a), "".join(b)):
        return Agreement.TYPO
    sa, sb = set(a), set(b)
    if (sa < sb or sb < sa) and max(len(t) for t in sa & sb) >= 3:
        return Agreement.PART
    return Agreement.DIFFERENT


def compare_given(a: tuple[str, ...], b: tuple[str, ...]) -> Agreement:
    """Compare two first given names (token tuples of at most one word each)."""
    if not a or not b:
        return Agreement.MISSING
    x, y = a[0], b[0]
    if x == y:
        return Agreement.EQUAL
    if len(x) == 1 or len(y) == 1:
        return Agreement.INITIAL if x[0] == y[0] else Agreement.DIFFERENT
    if _one_typo(x, y):
        return Agreement.TYPO
    short, long_ = sorted((x, y), key=len)
    if len(short) >= 3 and long_.startswith(short):
        return Agreement.SHORT
    return Agreement.DIFFERENT


def compare_middle(a: tuple[str, ...], b: tuple[str, ...]) -> Agreement:
    """Compare middle names: equal, initials of each other, missing, or different."""
    if not a or not b:
        return Agreement.MISSING
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if (len(x) == 1 or len(y) == 1) and x[0] == y[0]:
            continue
        return Agreement.DIFFERENT
    return Agreement.EQUAL


def looks_like(a: str, b: str) -> bool:
    """Whether two raw names are the same apart from case, accents and separators."""
    return fold(a) == fold(b) or fold(a, umlauts=True) == fold(b, umlauts=True)


# --------------------------------------------------------------------------
# Component groups and names in other scripts
# --------------------------------------------------------------------------

GROUPS = ("alphabetic", "ideographic", "phonetic")


def groups(raw: str) -> dict[str, str]:
    """The component groups of a DICOM PN (PS3.5 6.2.1.2), by name; empty groups left out.

    ``YAMADA^TARO=山田^太郎=やまだ^たろう`` gives ``alphabetic``, ``ideographic``
    and ``phonetic``; a name without ``=`` has only its ``alphabetic`` group.
    """
    parts = raw.split("=")[:3]
    return {GROUPS[i]: part for i, part in enumerate(parts) if part.strip(" ^")}


def native_readings(raw: str) -> list[tuple[PersonName, str]]:
    """Every sensible reading of one non-Latin group, with the reason to give when it is used.

    Words are in :func:`reconcile.scripts.native_fold` form. A group with
    ``^`` is read as written. A Hangul name without ``^`` is split as Korean
    names are (:func:`reconcile.scripts.korean_splits`); Cyrillic or Greek
    words without ``^`` are read in both orders; other words without ``^``
    (kanji, kana) stay one whole name (``structured=False``), and a hanzi name of
    two to four characters is also read split after a family name of one or two.
    """
    if "^" in raw:
        parts = [*(tuple(scripts.native_fold(p).split()) for p in raw.split("^")), (), ()]
        given_words = parts[1]
        return [(PersonName(parts[0], given_words[:1], given_words[1:] + parts[2]), "")]
    words = tuple(scripts.native_fold(raw).split())
    if not words:
        return [(PersonName((), (), ()), "")]
    if len(words) == 1 and scripts.script_of(words[0]) is scripts.Script.HANGUL:
        return [
            (
                PersonName((family,), (given,) if given else (), ()),
                f"Hangul name split after the family name {family}",
            )
            for family, given in scripts.korean_splits(words[0])
        ]
    if len(words) >= 2 and scripts.script_of(words[0]) in (
        scripts.Script.CYRILLIC,
        scripts.Script.GREEK,
        scripts.Script.HANGUL,
    ):
        return [
            (
                PersonName(words[:1], words[1:2], words[2:]),
                "name written without ^, read family name first",
            ),
            (
                PersonName(words[-1:], words[:1], words[1:-1]),
                "name written without ^, read given name first",
            ),
        ]
    whole = (PersonName(words, (), (), structured=False), "")
    if len(words) == 1 and scripts.script_of(words[0]) is scripts.Script.HAN:
        # a Chinese name: a family name of one character, or of two (欧阳, 司马)
        return [whole] + [
            (
                PersonName((words[0][:cut],), (words[0][cut:],), ()),
                f"hanzi name without ^ split after the family name {words[0][:cut]}",
            )
            for cut in (1, 2)
            if 2 <= len(words[0]) <= 4 and cut < len(words[0])
        ]
    return [whole]


def _without_yo(words: tuple[str, ...]) -> tuple[str, ...]:
    """Russian writes е for ё more often than not (ё is optional): Фёдор is Федор."""
    return tuple(w.replace("ё", "е") for w in words)


_KAZAKH_ONLY = frozenset("әғқңөұүһ")
_KAZAKH_AS_RUSSIAN = str.maketrans("әғқңөұүһі", "агкноуухи")


def _kazakh_as_russian(words: tuple[str, ...]) -> tuple[str, ...]:
    """Kazakh letters written with the Russian ones next to them (ә а, ғ г, қ к, ң н,
    ө о, ұ ү у, һ х, і и), as Soviet and Russian-keyboard records write Kazakh names:
    Жақсылықова is Жаксылыкова. Only for a name holding a letter that is Kazakh alone
    (і by itself is also Ukrainian or Belarusian, where it is not и)."""
    if not any(_KAZAKH_ONLY.intersection(w) for w in words):
        return words
    return tuple(w.translate(_KAZAKH_AS_RUSSIAN) for w in words)


_CYRILLIC_SPELLINGS = (
    (_without_yo, "ё written as е"),
    (lambda w: _without_yo(_kazakh_as_russian(w)), "Kazakh letters written as Russian ones"),
)
"""Everyday spellings of one Cyrillic name, each with what its reason says."""


def compare_across(
    a: tuple[str, ...], b: tuple[str, ...], *, family: bool
) -> tuple[Agreement, str] | None:
    """Compare one name part whose words may be in different scripts.

    The same script: :func:`compare_family` / :func:`compare_given`, reason
    ``""``. Latin against Cyrillic, Greek, Hangul or kana: ``EQUAL`` only when
    the Latin spelling is a standard transliteration of the other (the reason
    names the standard and both spellings), else ``DIFFERENT``. Kanji against
    anything but kanji: ``None`` (not comparable; no reading is guessed).
    """
    if not a or not b:
        return Agreement.MISSING, ""
    sa, sb = scripts.script_of("".join(a)), scripts.script_of("".join(b))
    if sa is sb:
        found = compare_family(a, b) if family else compare_given(a, b)
        if found is not Agreement.EQUAL and sa is scripts.Script.HAN:
            new_a, new_b = scripts.new_kanji(a), scripts.new_kanji(b)
            if (new_a != a or new_b != b) and "".join(new_a) == "".join(new_b):
                what = "family" if family else "given"
                return Agreement.EQUAL, (
                    f"{what} name equal, an old or variant kanji form: {''.join(a)} = {''.join(b)}"
                )
            simplified = scripts.simplified_hanzi(a, b)
            if simplified is not None and simplified[0] == simplified[1]:
                what = "family" if family else "given"
                return Agreement.EQUAL, (
                    f"{what} name equal, its traditional and simplified Chinese forms: "
                    f"{''.join(a)} = {''.join(b)}"
                )
        if found is not Agreement.EQUAL and sa is scripts.Script.CYRILLIC:
            for spelling, how in _CYRILLIC_SPELLINGS:
                plain_a, plain_b = spelling(a), spelling(b)
                if plain_a == a and plain_b == b:
                    continue
                again = (
                    compare_family(plain_a, plain_b) if family else compare_given(plain_a, plain_b)
                )
                if again is Agreement.EQUAL:
                    what = "family" if family else "given"
                    return again, (
                        f"{what} name equal, {how}: "
                        f"{' '.join(a).capitalize()} = {' '.join(b).capitalize()}"
                    )
        if (
            found is Agreement.DIFFERENT
            and not family
            and sa is scripts.Script.GREEK
            and scripts.native_fold(b[0]) in given_forms.greek_forms(scripts.native_fold(a[0]))
        ):
            return Agreement.SHORT, (
                "given name similar, one name in its formal and everyday forms: "
                f"{_greek_shown(a[:1])} ~ {_greek_shown(b[:1])} (for review)"
            )
        return found, ""
    if scripts.Script.LATIN not in (sa, sb):
        return None
    latin, native = (a, b) if sa is scripts.Script.LATIN else (b, a)
    if scripts.script_of("".join(native)) is scripts.Script.HAN:
        system = chinese.read_as("".join(native), "".join(latin))
        if system is None:
            return None
        what = "family" if family else "given"
        return Agreement.SHORT, (
            f"{what} name similar, a {system} reading of the hanzi: {''.join(native)} ~ "
            f"{' '.join(latin).upper()} (a guessed reading, for review)"
        )
    if scripts.script_of("".join(native)) not in scripts.STANDARDS:
        return None
    standard = scripts.transliterates(" ".join(native), "".join(latin), family=family)
    if standard is None:
        if not family and scripts.script_of(native[0]) is scripts.Script.GREEK:
            for form in sorted(given_forms.greek_forms(scripts.native_fold(native[0]))):
                if scripts.transliterates(form, "".join(latin[:1])):
                    return Agreement.SHORT, (
                        "given name similar, one name in its formal and everyday forms: "
                        f"{_greek_shown(native[:1])} ~ {latin[0].upper()} "
                        f"({_greek_shown((form,))}, for review)"
                    )
        return Agreement.DIFFERENT, ""
    what = "family" if family else "given"
    shown = _greek_shown(native)
    return Agreement.EQUAL, f"{what} name equal via {standard}: {shown} = {' '.join(latin).upper()}"


def _greek_shown(words: tuple[str, ...]) -> str:
    """Words as shown in a reason, capitalised; a Greek word ends in final sigma."""
    return " ".join((w[:-1] + "ς" if w.endswith("σ") else w).capitalize() for w in words)


def searchable_forms(raw: str) -> list[str]:
    """Folded forms of a name a search pattern may meet: the whole name, each group, and
    each non-Latin group in its main Latin spellings (:func:`reconcile.scripts.romanize`).

    For finding candidates only; whether they are the patient is for
    :mod:`reconcile.match` to say.
    """
    forms = [fold(raw), fold(raw, umlauts=True)]
    for text in groups(raw).values():
        forms.append(fold(text))
        if scripts.is_latin(text):
            continue
        parts = text.split("^")
        family_words = scripts.native_fold(parts[0]).split()
        rest: list[str] = []
        for part in parts[1:]:
            for word in scripts.native_fold(part).split():
                rest.append(next(iter(scripts.romanize(word)), word))
        first = family_words[0] if family_words else ""
        family_rest = [next(iter(scripts.romanize(w)), w) for w in family_words[1:]]
        for spelling in scripts.romanize(first, family=True) or [first]:
            forms.append(" ".join([spelling, *family_rest, *rest]))
        native = scripts.native_fold(text)
        forms += [native, native.replace(" ", "")]
        newer = " ".join(scripts.new_kanji(tuple(native.split())))
        forms += [newer, newer.replace(" ", "")]  # 渡邊 is also found as 渡辺
    return list(dict.fromkeys(f for f in forms if f))


def name_groups(raw: str) -> dict[str, str]:
    """The three component groups of a PN by name, each present (``""`` when empty).

    The form ``scan --json`` and ``match --json`` give as ``patient_name_groups``.
    """
    parts = [*raw.split("=")[:3], "", "", ""]
    return {name: parts[i] for i, name in enumerate(GROUPS)}
