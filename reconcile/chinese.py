"""Chinese names in Latin letters: Hanyu Pinyin against Wade-Giles, and hanzi read in pinyin.

A mainland hospital writes 张晓明 as ZHANG^XIAOMING (Hanyu Pinyin, ISO 7098);
a Taiwanese passport or an older record as CHANG^HSIAO-MING (Wade-Giles,
apostrophes and umlauts dropped as worklists drop them). Two Latin names are
one Chinese name here when a string of pinyin syllables gives one of them by
pinyin and the other by Wade-Giles, and only when each name as a whole is
plainly written by its system (a word that one system writes and the other
cannot: XIAOMING, HSIAO): CHANG alone is both the Wade-Giles ZHANG and the
pinyin CHANG (常), and DAN and TAN, BEN and PEN, are Western names.

The syllables are those of pypinyin's dictionary (the readings of the
characters of GB 18030). Wade-Giles is written here from its rules (the
initials p t k ch ts hs j for b d g j/zh z x r, finals -ieh -ien -ung -ih
-u for -ie -ian -ong -i -i), because pypinyin's own Wade-Giles style keeps
GUO and LUO as they are, where Wade-Giles writes KUO and LO. A hanzi name's
pinyin reading is a guess (单 is SHAN as a family name, DAN otherwise): it
finds a candidate for review and never decides.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

PINYIN = "Hanyu Pinyin"
WADE_GILES = "Wade-Giles"
_SYSTEMS = (PINYIN, WADE_GILES)
_LONGEST = 40  # letters of one name word; a longer one is no Chinese name

_WG_INITIALS = {
    "b": "p", "p": "p", "m": "m", "f": "f", "d": "t", "t": "t", "n": "n", "l": "l",
    "g": "k", "k": "k", "h": "h", "j": "ch", "q": "ch", "x": "hs", "zh": "ch", "ch": "ch",
    "sh": "sh", "r": "j", "z": "ts", "c": "ts", "s": "s", "y": "y", "w": "w", "": "",
}  # fmt: skip
_WG_WHOLE = {
    "zhi": ("chih",), "chi": ("chih",), "shi": ("shih",), "ri": ("jih",), "zi": ("tzu",),
    "ci": ("tzu",), "si": ("ssu", "szu"), "yi": ("i",), "you": ("yu",), "ye": ("yeh",),
    "yan": ("yen",), "yong": ("yung",), "e": ("o", "e"), "er": ("erh",), "luo": ("lo",),
    "nuo": ("no",), "duo": ("to",), "tuo": ("to",), "zuo": ("tso",), "cuo": ("tso",),
    "suo": ("so",), "ruo": ("jo",), "zhuo": ("cho",), "chuo": ("cho",), "gui": ("kuei",),
    "kui": ("kuei",), "ge": ("ko",), "ke": ("ko",), "he": ("ho",),
}  # fmt: skip
_WG_FINALS = (("iong", "iung"), ("ong", "ung"), ("ian", "ien"), ("ie", "ieh"), ("ue", "ueh"))


@functools.lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable of pypinyin's dictionary, ü written u (as worklists do)."""
    from pypinyin.contrib.tone_convert import to_normal
    from pypinyin.pinyin_dict import pinyin_dict

    found: set[str] = set()
    for reading in {r for readings in set(pinyin_dict.values()) for r in readings.split(",")}:
        plain = _plain(to_normal(reading))
        if plain.isascii() and plain.isalpha() and any(v in plain for v in "aeiou"):
            found.add(plain)
    return frozenset(found)


def _plain(reading: str) -> str:
    """A toneless pinyin reading as worklists write it: ü (or pypinyin's v) as u."""
    return reading.replace("v", "u").replace("ü", "u")


def _joined(word: str) -> str:
    """A name word with its spaces and hyphens taken out (HSIAO-MING: hsiaoming)."""
    return word.replace(" ", "").replace("-", "")


def wade_giles(syllable: str) -> tuple[str, ...]:
    """The Wade-Giles spellings of a toneless pinyin syllable, apostrophes and umlauts dropped."""
    if syllable in _WG_WHOLE:
        return _WG_WHOLE[syllable]
    initial = syllable[:2] if syllable[:2] in ("zh", "ch", "sh") else ""
    if not initial and syllable[0] in _WG_INITIALS and syllable[0] not in "aeiou":
        initial = syllable[0]
    final = syllable[len(initial) :]
    for pinyin_final, wg_final in _WG_FINALS:
        if final == pinyin_final:
            final = wg_final
            break
    return (_WG_INITIALS[initial] + final,)


@functools.lru_cache(maxsize=1)
def _spellings() -> dict[str, dict[str, int]]:
    """For each spelling's first letter: spelling -> the systems (bits) that write it, with
    the syllables it may be (one spelling, several syllables: CHANG is zhang and chang)."""
    table: dict[str, dict[str, int]] = {}
    for syllable in _syllables():
        for bit, spellings in enumerate(((syllable,), wade_giles(syllable))):
            for spelling in spellings:
                row = table.setdefault(spelling[0], {})
                row[spelling] = row.get(spelling, 0) | (1 << bit)
    return table


def without_tone_numbers(word: str) -> str:
    """``word`` (folded) without its tone digits when it is pinyin written with them, each
    syllable followed by 1 to 5 (``jian4hua2``: jianhua), as tone marks are dropped; else
    ``word`` as it is."""
    if not any(ch.isdigit() for ch in word) or not word.isascii():
        return word
    pieces = re.split(r"([1-5])", word)
    syllables = [p for p in pieces[0::2] if p]
    if len(syllables) != len(pieces[1::2]) + (1 if pieces[-1] else 0):
        return word  # two digits in a row, or a word starting with one
    if all(p in _syllables() for p in syllables):
        return "".join(syllables)
    return word


def one_syllable(word: str) -> bool:
    """Whether ``word`` (folded) is one Chinese syllable in pinyin or Wade-Giles (LIU, CHEN)."""
    return word in _syllables() or word in _by_spelling()


@functools.lru_cache(maxsize=4096)
def systems_of(word: str) -> frozenset[str]:
    """The systems (:data:`PINYIN`, :data:`WADE_GILES`) that can write ``word`` whole, as a
    string of syllables (folded Latin letters; spaces and hyphens ignored)."""
    word = _joined(word)
    if not word or len(word) > _LONGEST or not word.isascii() or not word.isalpha():
        return frozenset()
    table = _spellings()
    reach = {0: 0b11}  # position -> systems that reach it
    for at in range(len(word)):
        bits = reach.get(at)
        if not bits:
            continue
        for spelling, by in table.get(word[at], {}).items():
            if by & bits and word.startswith(spelling, at):
                end = at + len(spelling)
                reach[end] = reach.get(end, 0) | (by & bits)
    found = reach.get(len(word), 0)
    return frozenset(s for bit, s in enumerate(_SYSTEMS) if found & (1 << bit))


def written_in(words: Iterable[str]) -> str | None:
    """The system a whole name is plainly written in: every word in it, and one word in it
    only (HSIAO is no pinyin, XIAO no Wade-Giles); None otherwise."""
    kinds = [systems_of(w) for w in words if w]
    if not kinds:
        return None
    for system in _SYSTEMS:
        if all(system in k for k in kinds) and any(k == {system} for k in kinds):
            return system
    return None


EQUAL = "equal"
SIMILAR = "similar"


@functools.lru_cache(maxsize=4096)
def pinyin_and_wade_giles(pinyin_words: tuple[str, ...], wg_words: tuple[str, ...]) -> str:
    """How the Wade-Giles words spell the pinyin words (folded letters): :data:`EQUAL` when
    they spell them and nothing else, :data:`SIMILAR` when they spell them among other
    names, ``""`` when they do not.

    Without its apostrophes Wade-Giles writes two pinyin syllables alike
    (CHEN is zhen and chen, CHIH is zhi and chi): such a spelling is no proof
    of one name, only a reason to look. A Wade-Giles word is one syllable (a
    given name's are hyphenated: HSIAO-MING) where it spells one.
    """
    a = _joined("".join(pinyin_words))
    words = [_joined(w) for w in wg_words]
    if not a or not words or len(a) > _LONGEST or len(words) > 8:
        return ""
    if not all(words) or max(map(len, words)) > _LONGEST:
        return ""
    readings = {""}
    for word in words:
        readings = {r + w for r in readings for w in _pinyin_of(word) if a.startswith(r + w)}
        if not readings:
            return ""
    if a not in readings:
        return ""
    unique = all(len(_pinyin_of(w)) == 1 for w in words)  # each spells one pinyin string
    return EQUAL if readings == {a} and unique else SIMILAR


@functools.lru_cache(maxsize=1)
def _by_spelling() -> dict[str, tuple[str, ...]]:
    """Each Wade-Giles spelling, with the pinyin syllables it writes."""
    found: dict[str, set[str]] = {}
    for syllable in _syllables():
        for wg in wade_giles(syllable):
            found.setdefault(wg, set()).add(syllable)
    return {wg: tuple(sorted(s)) for wg, s in found.items()}


@functools.lru_cache(maxsize=4096)
def _pinyin_of(wg_word: str) -> frozenset[str]:
    """The pinyin strings whose Wade-Giles spelling is ``wg_word``: its syllables when it is
    one, else every split into syllables (at most three: enough to tell one from several)."""
    by_spelling = _by_spelling()
    if wg_word in by_spelling:
        return frozenset(by_spelling[wg_word])
    longest = max(map(len, by_spelling))
    found: dict[int, set[str]] = {len(wg_word): {""}}
    for at in range(len(wg_word) - 1, -1, -1):  # the readings of each tail, last first
        here: set[str] = set()
        for end in range(at + 1, min(len(wg_word), at + longest) + 1):
            for syllable in by_spelling.get(wg_word[at:end], ()):
                here |= {syllable + rest for rest in found.get(end, ())}
                if len(here) > 2:
                    break
        if here:
            found[at] = set(sorted(here)[:3])
    return frozenset(found.get(0, set()))


def readings(hanzi: str) -> list[set[str]]:
    """Each character's toneless pinyin readings (pypinyin, every reading of a polyphone);
    an empty set for a character it does not know."""
    from pypinyin import Style, pinyin

    out = []
    for char in hanzi:
        found = pinyin(char, style=Style.NORMAL, heteronym=True, errors="default")
        plain = {_plain(r) for r in found[0] if r}
        out.append({r for r in plain if r.isascii() and r.isalpha()})  # not the char itself
    return out


def read_as(hanzi: str, latin: str) -> str | None:
    """The system by which ``latin`` spells one pinyin reading of ``hanzi``; None if none.

    A reading of hanzi is a guess (a polyphone, a family name's own reading):
    for review only.
    """
    word = _joined(latin)
    if not hanzi or len(hanzi) > 8 or not word or len(word) > _LONGEST:
        return None
    per_char = readings(hanzi)
    if not all(per_char):
        return None
    for system in _SYSTEMS:
        ends = {0}
        for options in per_char:
            spelled = {s for o in options for s in ((o,) if system == PINYIN else wade_giles(o))}
            ends = {at + len(s) for at in ends for s in spelled if word.startswith(s, at)}
            if not ends:
                break
        if len(word) in ends:
            return system
    return None
