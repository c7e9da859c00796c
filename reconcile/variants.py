"""Two Latin spellings of one foreign name: KUZNECOV and KUZNETSOV, OHNO and ONO, PAK and PARK.

Hospitals romanise a Russian, Greek, Japanese or Korean name by different
standards. Two Latin spellings are one name here only when one native
spelling gives both, each by a whole standard: the walk below reads both
words at once, unit by unit (a letter, a digraph, a mora), and keeps only the
standards that give every unit read so far on each side. A letter is never
dropped on one side only (except a Japanese long vowel), so that JOHN and
JON, or NATALYA and NATALIYA, stay apart.

The tables follow: Cyrillic ICAO Doc 9303 (2015), GOST R 52535.1-2006,
BGN/PCGN 1947, GOST 7.79-2000 system B, the Ukrainian national system of
2010 and the usual English spelling (x for кс, y for the ending ий; the German
and French transcriptions of :mod:`reconcile.scripts` serve Latin against
Cyrillic only); Greek
ELOT 743, ISO 843 (type 1, without diacritics), the older phonetic passport
spellings (υ kept as Y: as I it would make SMYTH equal SMITH) and the
classical Latin ones; Japanese modified Hepburn, Kunrei-shiki
and Nihon-shiki, long vowels as OU, OO, OH (family names), or O; Korean family
names by :data:`reconcile.scripts.KOREAN_SURNAMES`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from reconcile import scripts

_LONGEST = 40  # letters of one name word: a longer one is no name and is not walked

Table = Mapping[str, tuple[str, ...]]

# --------------------------------------------------------------------------
# Cyrillic
# --------------------------------------------------------------------------

# The Ukrainian system reads и as Y, the Russian ones as I: mixed, they would make
# KELLY equal KELLI. The German transcription writes з and с both as S, в as W: it
# would make SANDER equal ZANDER. Two Latin spellings are compared through the other
# Russian ones only; the German and French ones serve Latin against Cyrillic.
_CYRILLIC: Mapping[str, Table] = {
    k: v
    for k, v in scripts.CYRILLIC_STANDARDS.items()
    if not k.startswith("Ukrainian") and k not in scripts.LATIN_ONLY_CYRILLIC
}
_ENDINGS = frozenset({"ий", "ый"})  # YURY, DMITRY: these spellings end a word

# --------------------------------------------------------------------------
# Greek
# --------------------------------------------------------------------------

_ELOT = {k: (v,) for k, v in scripts.ELOT_GREEK.items()} | {
    "ου": ("ou",), "αυ": ("av", "af"), "ευ": ("ev", "ef"), "ηυ": ("iv", "if"),
    "μπ": ("b", "mp"), "ντ": ("d", "nt"), "γκ": ("g", "gk"), "γγ": ("ng",),
    "αι": ("ai",), "ει": ("ei",), "οι": ("oi",), "τζ": ("tz",),
}  # fmt: skip
_GREEK: dict[str, Table] = {
    "ELOT 743": _ELOT,
    "ISO 843": _ELOT | {"αυ": ("ay",), "ευ": ("ey",), "μπ": ("mp",), "ντ": ("nt",), "γγ": ("gg",)},
    "older passport spelling": _ELOT
    | {
        "γ": ("g", "gh", "y"), "δ": ("d", "dh"), "χ": ("h", "ch", "kh"),
        "ξ": ("x", "ks"), "ου": ("ou", "u"), "αι": ("e", "ai"), "ει": ("i", "ei"),
        "οι": ("i", "oi"), "μπ": ("b", "mb", "mp"), "ντ": ("d", "nd", "nt"),
        "γκ": ("g", "gk", "nk"), "γγ": ("ng", "gg"),
    },
    "classical spelling": _ELOT
    | {
        "β": ("b",), "η": ("e",), "φ": ("ph",), "χ": ("ch", "kh"), "αι": ("ae", "ai"),
        "μπ": ("mp",), "ντ": ("nt",), "γκ": ("nk",), "γγ": ("ng",),
    },
}  # fmt: skip

# --------------------------------------------------------------------------
# Japanese: each mora by Hepburn, Kunrei and Nihon-shiki
# --------------------------------------------------------------------------

_HEPBURN_ONLY = {"し", "ち", "つ", "ふ", "じ", "ぢ"}
_NIHON = {"ぢ": "di", "づ": "du", "を": "wo", "ゐ": "wi", "ゑ": "we"}


def _kana_tables() -> dict[str, Table]:
    hepburn: dict[str, tuple[str, ...]] = {}
    kunrei: dict[str, tuple[str, ...]] = {}
    nihon: dict[str, tuple[str, ...]] = {}
    for kana, spellings in scripts.KANA_BASE.items():
        first = spellings[0]
        kun = spellings[1] if kana in _HEPBURN_ONLY and len(spellings) > 1 else first
        if kana == "ん":
            hepburn[kana], kunrei[kana], nihon[kana] = ("n", "m"), ("n",), ("n",)
            continue
        if kana in ("ゐ", "ゑ", "を"):
            kun = first
        hepburn[kana], kunrei[kana] = (first,), (kun,)
        nihon[kana] = (_NIHON.get(kana, kun),)
    for kana, stems in scripts.YOON.items():
        for small, vowel in scripts.SMALL_Y.items():
            unit = kana + small
            hep = stems[0] + vowel
            kun = (stems[1] if len(stems) > 1 else stems[0]) + vowel
            hepburn[unit], kunrei[unit] = (hep,), (kun,)
            nihon[unit] = ("dy" + vowel,) if kana == "ぢ" else (kun,)
    tables: dict[str, Table] = {}
    for name, table in (("Hepburn", hepburn), ("Kunrei", kunrei), ("Nihon-shiki", nihon)):
        doubled = {}
        for unit, spellings in table.items():
            if unit[0] in "あいうえおんぁぃぅぇぉ":
                continue
            doubled["っ" + unit] = tuple(
                ("t" + s) if name == "Hepburn" and s.startswith("ch") else s[0] + s
                for s in spellings
            )
        tables[name] = {**table, **doubled}
    return tables


_KANA = _kana_tables()
_LONG = "ー"  # a long vowel: its spellings depend on the vowel before it

# --------------------------------------------------------------------------
# The walk
# --------------------------------------------------------------------------


Index = tuple[tuple[str, ...], dict[str, dict[str, int]], dict[str, list[tuple[str, str, int]]]]


@functools.lru_cache(maxsize=8)
def _index(system: str) -> Index:
    """The standards of a system; for each native unit, each spelling's standards (bits);
    and the (unit, spelling, bits) by the spelling's first letter. Built in a fixed order,
    so that a reason is the same on every run."""
    tables = {"Cyrillic": _CYRILLIC, "Greek": _GREEK, "kana": _KANA}[system]
    names = tuple(tables)
    digraphs = sorted({u for t in tables.values() for u in t if len(u) == 2 and system != "kana"})
    order = list(dict.fromkeys([*(u for t in tables.values() for u in t), *digraphs]))
    units: dict[str, dict[str, int]] = {}
    for unit in order:
        for bit, table in enumerate(tables.values()):
            spellings = list(table.get(unit, ()))
            if unit in digraphs:  # a digraph may be spelled letter by letter
                spellings += [x + y for x in table.get(unit[0], ()) for y in table.get(unit[1], ())]
            for spelling in spellings:
                by = units.setdefault(unit, {})
                by[spelling] = by.get(spelling, 0) | (1 << bit)
    by_first: dict[str, list[tuple[str, str, int]]] = {}
    for unit, spelled in units.items():
        for spelling, bits in spelled.items():
            if spelling:
                by_first.setdefault(spelling[0], []).append((unit, spelling, bits))
    return names, units, by_first


_VOWELS = frozenset("aeiouy")


def _long_spellings(previous: str, family: bool) -> tuple[str, ...]:
    """How a Japanese long vowel after ``previous`` (a Latin spelling) is written."""
    last = previous[-1:]
    if last == "o":
        return ("u", "o", "h", "") if family else ("u", "o", "")
    if last in ("u", "a", "i"):
        return (last, "")
    if last == "e":
        return ("i", "")
    return ()


def _walk(system: str, a: str, b: str, family: bool) -> tuple[str, int, int] | None:
    """One native spelling of which ``a`` and ``b`` are both standard spellings, and the
    standards (bits) that give each; None when there is none."""
    names, units, by_first = _index(system)
    every = (1 << len(names)) - 1
    seen: set[tuple[int, int, str, int, int]] = set()

    def step(
        i: int, j: int, prev_a: str, prev_b: str, m1: int, m2: int
    ) -> tuple[str, int, int] | None:
        if i == len(a) and j == len(b):
            return "", m1, m2
        key = (i, j, prev_a + "|" + prev_b, m1, m2)
        if key in seen:
            return None
        seen.add(key)
        if system == "kana" and prev_a and prev_b:
            for sa in _long_spellings(prev_a, family):
                if not a.startswith(sa, i):
                    continue
                for sb in _long_spellings(prev_b, family):
                    if (sa or sb) and b.startswith(sb, j):
                        found = step(i + len(sa), j + len(sb), "-", "-", m1, m2)
                        if found is not None:
                            return _LONG + found[0], found[1], found[2]
        for unit, sa, bits_a in by_first.get(a[i : i + 1], ()):
            if system == "Cyrillic" and unit == "й" and prev_a[-1:] not in _VOWELS:
                continue  # й follows a vowel (ЮРИЙ, not ЙУРИЙ)
            ending = system == "Cyrillic" and unit in _ENDINGS
            n1 = m1 & bits_a
            if not n1 or not a.startswith(sa, i) or not _fits(system, sa, a, i):
                continue
            if ending and i + len(sa) != len(a):
                continue
            for sb, bits_b in units[unit].items():
                n2 = m2 & bits_b
                if not sb or not n2 or not b.startswith(sb, j) or not _fits(system, sb, b, j):
                    continue
                if ending and j + len(sb) != len(b):
                    continue
                found = step(i + len(sa), j + len(sb), sa, sb, n1, n2)
                if found is not None:
                    return unit + found[0], found[1], found[2]
        return None

    return step(0, 0, "", "", every, every)


def _fits(system: str, spelling: str, word: str, at: int) -> bool:
    """ん written M only before B, M or P (Hepburn)."""
    return system != "kana" or spelling != "m" or word[at + 1 : at + 2] in ("b", "m", "p")


def _named(system: str, bits: int) -> list[str]:
    names = _index(system)[0]
    return [n for k, n in enumerate(names) if bits & (1 << k)]


def same_name(a: str, b: str, *, family: bool) -> str | None:
    """Tell whether two folded Latin words are standard spellings of one foreign name; say how.

    Returns a reason naming the standards, e.g. ``"GOST 7.79-2000 B and ICAO
    9303 spellings of one Cyrillic name"``, or ``None``.
    Korean family names count when both spellings are usual spellings of one
    surname; Korean given names are left to :func:`similar` (their vowels
    have too many spellings to tell two names apart).
    """
    return _same_name(a, b, family)


@functools.lru_cache(maxsize=8192)
def _same_name(a: str, b: str, family: bool) -> str | None:
    a, b = a.replace(" ", "").replace("-", ""), b.replace(" ", "").replace("-", "")
    if a == b or not a.isalpha() or not b.isalpha() or not a.isascii() or not b.isascii():
        return None
    if max(len(a), len(b)) > _LONGEST or abs(len(a) - len(b)) > 4:
        return None
    if family:
        for spellings in scripts.KOREAN_SURNAMES.values():
            if a in spellings and b in spellings:
                return "usual spellings of one Korean family name"
    for system, label in (("Cyrillic", "Cyrillic"), ("Greek", "Greek"), ("kana", "Japanese")):
        if system == "kana":
            label = "Japanese (romanisation)"
        found = _walk(system, a, b, family)
        if found is None:
            continue
        _, m1, m2 = found
        first, second = _named(system, m1), _named(system, m2)
        common = [n for n in first if n in second]
        standards = (common[0] if common else f"{first[0]} and {second[0]}").replace(
            " spelling", ""
        )
        return f"{standards} spellings of one {label} name"
    return None


def similar(a: str, b: str) -> bool:
    """Whether two Latin words are Revised Romanization / McCune-Reischauer spellings of one
    Hangul syllable string (Korean given names: similar, never equal)."""
    return _similar(a.replace(" ", "").replace("-", ""), b.replace(" ", "").replace("-", ""))


@functools.lru_cache(maxsize=8192)
def _similar(a: str, b: str) -> bool:
    if a == b or not (a + b).isalpha() or not (a + b).isascii() or max(len(a), len(b)) > _LONGEST:
        return False
    parts = (scripts.INITIALS, scripts.VOWELS, scripts.FINALS)
    seen: set[tuple[int, int, int]] = set()

    def step(i: int, j: int, phase: int) -> bool:
        if i == len(a) and j == len(b):
            return phase != 1  # after a final, or after a vowel (a syllable with no final)
        if (i, j, phase) in seen:
            return False
        seen.add((i, j, phase))
        for options in parts[phase]:
            for sa in options:
                if not a.startswith(sa, i):
                    continue
                for sb in options:
                    if (not sa) != (not sb) or not b.startswith(sb, j):
                        continue
                    if step(i + len(sa), j + len(sb), (phase + 1) % 3):
                        return True
        return False

    return step(0, 0, 0)
