"""Names across scripts: which script a word is in, and whether a Latin spelling is a standard one.

A Latin name on one side and a Cyrillic, Greek, Hangul or kana name on the
other are equal only when the Latin spelling is what a standard
transliteration (or one of its usual variants) gives for the other: each
native word becomes a pattern of the spellings its letters, syllables or
morae may take, and the Latin word must match the whole pattern. Kanji are
never transliterated: one kanji name has several readings.

Libraries: kana of every width and both kinds are made one (``unicodedata``
NFKC for half-width katakana, ``jaconv.kata2hira`` for katakana to
hiragana); ``anyascii`` reads scripts without a table here. No maintained
library gives the *variants* of a standard, only one spelling each
(``cyrtranslit`` has no ICAO 9303 table, ``korean-romanizer`` gives Revised
Romanization only and is GPL, ``jaconv.kana2alphabet`` gives Hepburn only),
so the alternatives are the small tables below, each naming the standards
it follows.
"""

from __future__ import annotations

import enum
import functools
import unicodedata

import jaconv
import opencc
from anyascii import anyascii


class Script(enum.Enum):
    """The writing system of a word (by its first letter)."""

    LATIN = "Latin"
    CYRILLIC = "Cyrillic"
    GREEK = "Greek"
    HANGUL = "Hangul"
    KANA = "kana"
    HAN = "kanji"
    OTHER = "other"


def script_of(word: str) -> Script:
    """The script of the first letter of ``word`` (``OTHER`` when it has none)."""
    for ch in word:
        if not ch.isalpha():
            continue
        code = ord(ch)
        if code < 0x250 or 0x1E00 <= code < 0x1F00:
            return Script.LATIN
        if 0x400 <= code < 0x530:
            return Script.CYRILLIC
        if 0x370 <= code < 0x400 or 0x1F00 <= code < 0x2000:
            return Script.GREEK
        if 0xAC00 <= code < 0xD7B0 or 0x1100 <= code < 0x1200 or 0x3130 <= code < 0x3190:
            return Script.HANGUL
        if 0x3040 <= code < 0x3100 or 0xFF66 <= code < 0xFFA0 or 0x31F0 <= code < 0x3200:
            return Script.KANA
        if 0x3400 <= code < 0xA000 or 0xF900 <= code < 0xFB00 or 0x20000 <= code < 0x30000:
            return Script.HAN
        return Script.OTHER
    return Script.OTHER


def is_latin(text: str) -> bool:
    """Whether every letter of ``text`` is Latin (the names the original matcher handles)."""
    return all(script_of(ch) is Script.LATIN for ch in text if ch.isalpha())


def native_fold(text: str) -> str:
    """Return a non-Latin name part in one comparable form, words separated by single spaces.

    NFKC makes half-width katakana full-width; katakana become hiragana
    (``jaconv``), so ﾔﾏﾀﾞ, ヤマダ and やまだ are one word; Greek loses its
    accents and final sigma; Cyrillic keeps й and ё (they are letters).
    """
    text = unicodedata.normalize("NFKC", text)
    text = jaconv.kata2hira(text).casefold()
    out: list[str] = []
    for ch in text:
        if script_of(ch) is Script.GREEK:
            base = unicodedata.normalize("NFD", ch)
            out.append("".join(c for c in base if not unicodedata.combining(c)).replace("ς", "σ"))
        elif ch.isalnum() or ch == "ー":
            out.append(ch)
        else:
            out.append(" ")
    return " ".join("".join(out).split())


# --------------------------------------------------------------------------
# Cyrillic: ICAO Doc 9303 (2015) first, then GOST R 52535.1-2006, BGN/PCGN
# 1947 (= the Russian passport rules of 1997), GOST 7.79-2000 B, the Ukrainian
# 2010 national standard, the German transcription of the Duden (W for в, SCH
# for ш, TSCH for ч, Z for ц: IWANOW, as German hospitals and older German
# papers write), the French transcription (OU for у, J for ж, CH for ш, TCH for
# ч: JOUKOV), and the usual English spellings (x for кс, y for the ending
# ий). A Latin spelling is standard when one standard gives all of it: mixing
# them (и as Y from one, я as A from none) would make Дария equal DARYA.
# --------------------------------------------------------------------------

_ICAO_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia", "і": "i", "ї": "i", "є": "ie", "ґ": "g",
}  # fmt: skip
Pattern = tuple[tuple[str, ...], ...]
"""A word as a sequence of parts, each the tuple of its possible spellings."""


def _alternatives(*spellings: str) -> tuple[str, ...]:
    return tuple(sorted(set(spellings)))


def spells(pattern: Pattern, target: str) -> bool:
    """Whether ``target`` is one spelling of each part of ``pattern`` in turn.

    The set of reachable positions is carried part by part (no backtracking):
    time grows with the parts times the target's length, whatever a hostile
    name holds. Written here because a regular expression of alternations
    (``(?:u|h|)``...) backtracks exponentially on a near miss.
    """
    reachable = {0}
    for spellings in pattern:
        reachable = {at + len(s) for at in reachable for s in spellings if target.startswith(s, at)}
        if not reachable:
            return False
    return len(target) in reachable


_ICAO_UNITS: dict[str, tuple[str, ...]] = {k: (v,) for k, v in _ICAO_CYRILLIC.items()}
_ICAO_UNITS |= {
    "ий": ("ii",),
    "ый": ("yi",),
}
GERMAN_CYRILLIC = "German transcription (Duden)"
FRENCH_CYRILLIC = "French transcription"
SERBIAN_LATIN = "Serbian Latin alphabet"
BULGARIAN_OFFICIAL = "Bulgarian official transliteration (2009)"
BULGARIAN_BGN = "BGN/PCGN Bulgarian (1952)"
KAZAKH_AS_RUSSIAN = "ICAO 9303 of the Russian form (Kazakh letters as Russian ones)"
SCIENTIFIC_CYRILLIC = "scientific transliteration (ISO/R 9, Czech and Slovak use)"
LATIN_ONLY_CYRILLIC = frozenset(
    {
        SCIENTIFIC_CYRILLIC,
        GERMAN_CYRILLIC,
        FRENCH_CYRILLIC,
        SERBIAN_LATIN,
        BULGARIAN_OFFICIAL,
        BULGARIAN_BGN,
        KAZAKH_AS_RUSSIAN,
    }
)
"""Transcriptions for Latin against Cyrillic only: between two Latin spellings they would
make other Western names one (German S for з and с: SANDER and ZANDER; French J for ж;
Serbian S for ш once its hachek is folded away; Bulgarian A or U for ъ)."""
ALPHABETS = {
    SERBIAN_LATIN: frozenset("абвгдђежзијклљмнњопрстћуфхцчџш"),
    BULGARIAN_OFFICIAL: frozenset("абвгдежзийклмнопрстуфхцчшщъьюя"),
    BULGARIAN_BGN: frozenset("абвгдежзийклмнопрстуфхцчшщъьюя"),
    KAZAKH_AS_RUSSIAN: frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі"),
}
"""The letters of the language a national standard is for: it spells no other word (a
Serbian reading of Russian Шаров would be SAROV)."""
CYRILLIC_STANDARDS: dict[str, dict[str, tuple[str, ...]]] = {
    "ICAO 9303": _ICAO_UNITS,
    "GOST R 52535.1-2006": _ICAO_UNITS | {"ц": ("tc",), "ъ": ("",)},
    "BGN/PCGN": _ICAO_UNITS
    | {
        "е": ("e", "ye"), "ё": ("e", "ye"), "й": ("y",), "ъ": ("",), "ю": ("yu",),
        "я": ("ya",), "ий": ("iy",), "ый": ("yy",),
    },
    "GOST 7.79-2000 B": _ICAO_UNITS
    | {
        "ё": ("yo",), "й": ("j",), "х": ("x",), "ц": ("c", "cz"), "щ": ("shh",),
        "ъ": ("",), "ю": ("yu",), "я": ("ya",), "ий": ("ij",), "ый": ("yj",),
    },
    "Ukrainian national 2010": _ICAO_UNITS
    | {
        "г": ("h",), "и": ("y",), "й": ("i", "y"), "ї": ("i", "yi"), "є": ("ie", "ye"),
        "ю": ("iu", "yu"), "я": ("ia", "ya"), "ий": ("yi", "yy"),
    },
    GERMAN_CYRILLIC: _ICAO_UNITS
    | {
        "в": ("w",), "е": ("e", "je"), "ё": ("jo",), "ж": ("sch",), "з": ("s",),
        "й": ("j", "i"), "х": ("ch",), "ц": ("z",), "ч": ("tsch",),
        "ш": ("sch",), "щ": ("schtsch",), "ъ": ("",), "ю": ("ju",), "я": ("ja",),
        "ий": ("i", "ij"), "ый": ("y", "yj"),
    },
    FRENCH_CYRILLIC: _ICAO_UNITS
    | {
        "е": ("e", "ie"), "ё": ("io", "yo"), "ж": ("j",), "й": ("i", "y"), "у": ("ou",),
        "х": ("kh",), "ц": ("ts",), "ч": ("tch",), "ш": ("ch",), "щ": ("chtch",),
        "ъ": ("",), "ю": ("iou", "you"), "я": ("ia", "ya"), "ий": ("i", "ii"),
    },
    # The Serbian Latin alphabet is the Cyrillic one letter for letter (đ, ć, č, dž, ž,
    # š, lj, nj, j); its marks folded away as a worklist without them writes it, and Đ
    # also as DJ, as passports write it in their machine-readable zone.
    SERBIAN_LATIN: _ICAO_UNITS
    | {
        "ђ": ("d", "dj"), "ћ": ("c",), "ч": ("c",), "џ": ("dz",), "ж": ("z",), "ш": ("s",),
        "љ": ("lj",), "њ": ("nj",), "ј": ("j",), "х": ("h",), "ц": ("c",),
    },
    BULGARIAN_OFFICIAL: _ICAO_UNITS
    | {
        "й": ("y",), "х": ("h",), "щ": ("sht",), "ъ": ("a",), "ь": ("y",), "ю": ("yu",),
        "я": ("ya",), "ий": ("iy",), "ия": ("ia",),
    },
    BULGARIAN_BGN: _ICAO_UNITS
    | {
        "й": ("y",), "щ": ("sht",), "ъ": ("u",), "ь": ("",), "ю": ("yu",), "я": ("ya",),
        "ий": ("iy",),
    },
    # Kazakh passports of the Soviet and early years (and records of Russian hospitals)
    # spell the Russian form of a Kazakh name: ә as А, ғ as Г, қ as К, ң as Н, ө as О,
    # ұ and ү as У, һ as Х, і as И, then ICAO: Жақсылықова is ZHAKSYLYKOVA.
    KAZAKH_AS_RUSSIAN: _ICAO_UNITS
    | {
        "ә": ("a",), "ғ": ("g",), "қ": ("k",), "ң": ("n",), "ө": ("o",), "ұ": ("u",),
        "ү": ("u",), "һ": ("kh",), "і": ("i",),
    },
    # The Slavists' transliteration, which Czech, Slovak, Croatian and Slovene documents
    # use for Russian and Ukrainian names (Щукин Юрий is ŠČUKIN JURIJ): х ch (or x), ц c,
    # щ šč, ю ju, я ja, й j, its marks folded away as a worklist writes it. Not its ž, č
    # and š for ж, ч and ш: folded, they are the z, c and s of з, ц and с (SMELEV is no
    # spelling of Шмелёв); those stay as ICAO writes them.
    SCIENTIFIC_CYRILLIC: _ICAO_UNITS
    | {
        "ё": ("e", "jo"), "й": ("j",), "х": ("ch", "x"), "ц": ("c",), "щ": ("sc",),
        "ъ": ("",), "ь": ("",), "ы": ("y",), "э": ("e",), "ю": ("ju",), "я": ("ja",),
        "ий": ("ij",), "ый": ("yj",),
    },
    "usual English spelling": _ICAO_UNITS
    | {
        "е": ("e", "ye"), "ё": ("yo", "e"), "й": ("y",), "х": ("kh", "h"), "ъ": ("",),
        "ю": ("yu",), "я": ("ya",), "кс": ("x", "ks"), "ий": ("y", "iy"), "ый": ("y",),
        "ия": ("ia", "iya"),
    },
}  # fmt: skip
"""Each Cyrillic letter (or digraph) by each standard, diacritics and apostrophes left out."""


@functools.lru_cache(maxsize=4096)
def _cyrillic_patterns(word: str) -> tuple[tuple[str, Pattern], ...]:
    """The word as a pattern by each standard of :data:`CYRILLIC_STANDARDS` (a digraph may
    also be read letter by letter)."""
    out = []
    in_word = set(word)
    for standard, table in CYRILLIC_STANDARDS.items():
        if standard in ALPHABETS and not in_word <= ALPHABETS[standard]:
            continue
        # Russian writes е for ё more often than not: Федоров may be Фёдоров, FYODOROV.
        table = {**table, "е": (*table["е"], *table["ё"])}
        parts: list[tuple[str, ...]] = []
        i = 0
        while i < len(word):
            pair = word[i : i + 2]
            if len(pair) == 2 and pair in table:
                letters = [
                    a + b
                    for a in table.get(pair[0], (anyascii(pair[0]).lower(),))
                    for b in table.get(pair[1], (anyascii(pair[1]).lower(),))
                ]
                parts.append(_alternatives(*table[pair], *letters))
                i += 2
                continue
            parts.append(_alternatives(*table.get(word[i], (anyascii(word[i]).lower(),))))
            i += 1
        out.append((standard, tuple(parts)))
    return tuple(out)


def _icao_cyrillic(word: str) -> str:
    return "".join(_ICAO_CYRILLIC.get(ch, anyascii(ch).lower()) for ch in word)


# --------------------------------------------------------------------------
# Greek: ELOT 743 (= ISO 843 transcription, used in Greek passports and by
# ICAO), with the older spellings of the same sounds (b for β, ph for φ,
# h/kh for χ, u for ου, i for υ, ss for σ as in VASSILIOU, c for κ and e or
# oe for οι as in ECONOMOU and NICOLAOS, and the diphthongs read as pronounced).
# --------------------------------------------------------------------------

_ELOT_GREEK = {
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th",
    "ι": "i", "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p",
    "ρ": "r", "σ": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
}  # fmt: skip
_GREEK_VARIANTS = {
    "β": ("v", "b"),
    "γ": ("g", "gh", "y"),
    "δ": ("d", "dh"),
    "η": ("i", "e"),
    "θ": ("th",),
    "κ": ("k", "c"),
    "ξ": ("x", "ks"),
    "σ": ("s", "ss"),
    "υ": ("y", "i", "u"),
    "φ": ("f", "ph"),
    "χ": ("ch", "h", "kh"),
    "ω": ("o", "w"),
}
_GREEK_PAIRS = {
    "ου": ("ou", "u"),
    "αυ": ("av", "af", "au"),
    "ευ": ("ev", "ef", "eu"),
    "ηυ": ("iv", "if"),
    "αι": ("ai", "e"),
    "ει": ("ei", "i"),
    "οι": ("oi", "i", "e", "oe"),
    "μπ": ("mp", "b"),
    "ντ": ("nt", "d"),
    "γκ": ("gk", "g", "ng"),
    "γγ": ("ng", "gg"),
    "τζ": ("tz", "dz"),
}


@functools.lru_cache(maxsize=4096)
def _greek_pattern(word: str) -> Pattern:
    parts: list[tuple[str, ...]] = []
    i = 0
    while i < len(word):
        pair = word[i : i + 2]
        if pair in _GREEK_PAIRS:
            elot = "".join(_ELOT_GREEK.get(c, "") for c in pair)
            parts.append(_alternatives(*_GREEK_PAIRS[pair], elot))
            i += 2
            continue
        ch = word[i]
        parts.append(
            _alternatives(*_GREEK_VARIANTS.get(ch, ()), _ELOT_GREEK.get(ch, anyascii(ch).lower()))
        )
        i += 1
    return tuple(parts)


# --------------------------------------------------------------------------
# Hangul: Revised Romanization (2000) and McCune-Reischauer (without its
# diacritics), syllable by syllable, with the usual given-name spellings
# (oo for u, ee for i and for ㅢ as in HEE for 희, you for ㅕ before n or ng:
# YOUNG for 영); family names
# also by the spellings people really use.
# --------------------------------------------------------------------------

_INITIALS = (
    ("g", "k"), ("kk", "gg"), ("n",), ("d", "t"), ("tt", "dd"), ("r", "l", "n"), ("m",),
    ("b", "p"), ("pp", "bb"), ("s", "sh"), ("ss",), ("",), ("j", "ch"), ("jj", "tch", "ch"),
    ("ch",), ("k",), ("t",), ("p",), ("h",),
)  # fmt: skip
_VOWELS = (
    ("a",), ("ae", "ai"), ("ya",), ("yae",), ("eo", "o", "u"), ("e",), ("yeo", "yo", "yu"),
    ("ye",), ("o",), ("wa",), ("wae",), ("oe", "oi", "we"), ("yo",), ("u", "oo"),
    ("wo", "weo"), ("we",), ("wi",), ("yu", "yoo"), ("eu", "u"), ("ui", "eui", "ee", "i"),
    ("i", "ee"),
)  # fmt: skip
_FINALS = (
    ("",), ("k", "g"), ("k", "kk"), ("k",), ("n",), ("n",), ("n",), ("t", "d"), ("l", "r"),
    ("k",), ("m",), ("l",), ("l",), ("l",), ("p",), ("l",), ("m",), ("p", "b"), ("p",),
    ("t", "s"), ("t", "ss"), ("ng",), ("t", "j"), ("t",), ("k",), ("t",), ("p",), ("t", "h"),
)  # fmt: skip

# Usual spellings of Korean family names (passports and the National Institute of
# Korean Language's survey of surname romanisation, 2009) beyond RR and MR.
KOREAN_SURNAMES = {
    "이": ("lee", "yi", "rhee", "ri", "rhie", "lie", "i"),
    "박": ("park", "pak", "bak"),
    "최": ("choi", "choe", "chwe"),
    "정": ("jeong", "jung", "chung", "cheong"),
    "김": ("kim", "gim"),
    "강": ("kang", "gang"),
    "조": ("cho", "jo", "joe"),
    "윤": ("yoon", "yun"),
    "장": ("jang", "chang"),
    "임": ("lim", "im", "rim", "yim"),
    "한": ("han",),
    "오": ("oh", "o"),
    "서": ("seo", "suh", "so"),
    "신": ("shin", "sin"),
    "권": ("kwon", "gwon"),
    "황": ("hwang",),
    "안": ("ahn", "an"),
    "송": ("song",),
    "류": ("ryu", "yoo", "yu", "ryoo"),
    "유": ("yoo", "yu", "you"),
    "전": ("jeon", "jun", "chun", "chon"),
    "홍": ("hong",),
    "고": ("ko", "go", "koh"),
    "문": ("moon", "mun"),
    "양": ("yang",),
    "손": ("son", "sohn"),
    "배": ("bae", "pae"),
    "백": ("baek", "paik", "paek", "back"),
    "허": ("heo", "huh", "hur"),
    "노": ("noh", "no", "roh"),
    "남": ("nam",),
    "심": ("shim", "sim"),
    "하": ("ha",),
    "곽": ("kwak", "gwak"),
    "성": ("sung", "seong"),
    "차": ("cha",),
    "주": ("joo", "ju", "chu"),
    "우": ("woo", "u"),
    "구": ("koo", "gu", "ku"),
    "나": ("na", "ra"),
    "민": ("min",),
    "진": ("jin", "chin"),
    "지": ("ji", "chi"),
    "엄": ("eom", "um", "uhm"),
    "채": ("chae",),
    "원": ("won",),
    "천": ("cheon", "chun"),
    "방": ("bang", "pang"),
    "공": ("kong", "gong"),
    "현": ("hyun", "hyeon"),
    "함": ("ham",),
    "변": ("byun", "byeon", "pyon"),
    "염": ("yeom", "yum"),
    "여": ("yeo", "yuh"),
    "추": ("choo", "chu"),
    "도": ("do", "doh"),
    "석": ("seok", "suk"),
    "선": ("sun", "seon"),
    "설": ("seol", "sul"),
    "길": ("gil", "kil"),
    "연": ("yeon", "yun"),
    "위": ("wi", "wee"),
    "표": ("pyo",),
    "명": ("myung", "myeong"),
    "기": ("ki", "gi"),
    "반": ("ban", "pan"),
    "왕": ("wang",),
    "금": ("keum", "geum"),
    "육": ("yook", "yuk"),
    "제": ("je", "jae"),
    "탁": ("tak",),
    "국": ("kook", "guk"),
    "남궁": ("namgoong", "namkung", "namgung"),
    "황보": ("hwangbo",),
    "제갈": ("jegal",),
    "선우": ("sunwoo", "seonwoo", "seonu"),
    "독고": ("dokgo",),
    "사공": ("sagong",),
    "서문": ("seomun",),
}
# Family names of two syllables: a Hangul name written without ^ is split after them.
_TWO_SYLLABLE_SURNAMES = frozenset(k for k in KOREAN_SURNAMES if len(k) == 2)


def _syllable(ch: str) -> Pattern:
    index = ord(ch) - 0xAC00
    if not 0 <= index < 11172:
        return (_alternatives(anyascii(ch).lower()),)
    lead, rest = divmod(index, 588)
    vowel, tail = divmod(rest, 28)
    if lead == _SILENT and vowel == _U:
        return (("",), _WOO, _FINALS[tail])  # 우 as WOO: JIWOO, HYUNWOO, WOOJIN
    if vowel == _YEO and tail in _N_NG:  # 영 as YOUNG, 연 as YOUN: JIYOUNG, YOUNGHEE
        return (_INITIALS[lead], (*_VOWELS[vowel], "you"), _FINALS[tail])
    return (_INITIALS[lead], _VOWELS[vowel], _FINALS[tail])


_SILENT, _U, _YEO = 11, 13, 6  # ㅇ (no sound before a vowel), ㅜ and ㅕ
_N_NG = (4, 21)  # final ㄴ and ㅇ
_WOO = ("oo", "u", "woo", "wu")


@functools.lru_cache(maxsize=4096)
def _hangul_pattern(word: str) -> Pattern:
    return tuple(part for ch in word for part in _syllable(ch))


def korean_splits(word: str) -> list[tuple[str, str]]:
    """The ways to read a Hangul name written without ``^`` as (family, given).

    Korean family names are one syllable, except a few of two (남궁, 황보,
    제갈, 선우, ...): a name of three syllables or more that starts with one
    of those is also read with a two-syllable family name.
    """
    if len(word) < 2:
        return [(word, "")]
    splits = [(word[:1], word[1:])]
    if len(word) >= 3 and word[:2] in _TWO_SYLLABLE_SURNAMES:
        splits.append((word[:2], word[2:]))
    return splits


# --------------------------------------------------------------------------
# Kana: modified Hepburn (the passport spelling), Kunrei-shiki (ISO 3602) and
# Nihon-shiki, with long vowels written OU, OO, OH, Ō (folded to O) or O.
# --------------------------------------------------------------------------

_KANA_BASE = {
    "あ": ("a",), "い": ("i",), "う": ("u",), "え": ("e",), "お": ("o",),
    "か": ("ka",), "き": ("ki",), "く": ("ku",), "け": ("ke",), "こ": ("ko",),
    "さ": ("sa",), "し": ("shi", "si"), "す": ("su",), "せ": ("se",), "そ": ("so",),
    "た": ("ta",), "ち": ("chi", "ti"), "つ": ("tsu", "tu"), "て": ("te",), "と": ("to",),
    "な": ("na",), "に": ("ni",), "ぬ": ("nu",), "ね": ("ne",), "の": ("no",),
    "は": ("ha",), "ひ": ("hi",), "ふ": ("fu", "hu"), "へ": ("he",), "ほ": ("ho",),
    "ま": ("ma",), "み": ("mi",), "む": ("mu",), "め": ("me",), "も": ("mo",),
    "や": ("ya",), "ゆ": ("yu",), "よ": ("yo",),
    "ら": ("ra",), "り": ("ri",), "る": ("ru",), "れ": ("re",), "ろ": ("ro",),
    "わ": ("wa",), "ゐ": ("i", "wi"), "ゑ": ("e", "we"), "を": ("o", "wo"), "ん": ("n", "m"),
    "が": ("ga",), "ぎ": ("gi",), "ぐ": ("gu",), "げ": ("ge",), "ご": ("go",),
    "ざ": ("za",), "じ": ("ji", "zi"), "ず": ("zu",), "ぜ": ("ze",), "ぞ": ("zo",),
    "だ": ("da",), "ぢ": ("ji", "zi", "di"), "づ": ("zu", "du"), "で": ("de",), "ど": ("do",),
    "ば": ("ba",), "び": ("bi",), "ぶ": ("bu",), "べ": ("be",), "ぼ": ("bo",),
    "ぱ": ("pa",), "ぴ": ("pi",), "ぷ": ("pu",), "ぺ": ("pe",), "ぽ": ("po",),
    "ぁ": ("a",), "ぃ": ("i",), "ぅ": ("u",), "ぇ": ("e",), "ぉ": ("o",), "ゔ": ("vu", "bu"),
}  # fmt: skip
# Consonant stems before small ゃ, ゅ, ょ (Hepburn, Kunrei, Nihon-shiki).
_YOON = {
    "き": ("ky",), "し": ("sh", "sy"), "ち": ("ch", "ty"), "に": ("ny",), "ひ": ("hy",),
    "み": ("my",), "り": ("ry",), "ぎ": ("gy",), "じ": ("j", "zy", "jy"),
    "ぢ": ("j", "zy", "dy"), "び": ("by",), "ぴ": ("py",),
}  # fmt: skip
_SMALL_Y = {"ゃ": "a", "ゅ": "u", "ょ": "o"}


def _morae(word: str) -> list[tuple[str, ...]]:
    """The spellings of each mora of a hiragana word (っ and long vowels included)."""
    morae: list[tuple[str, ...]] = []
    i = 0
    double = False
    while i < len(word):
        ch = word[i]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if ch == "っ":
            double = True
            i += 1
            continue
        if ch in _YOON and nxt in _SMALL_Y:
            spellings = tuple(stem + _SMALL_Y[nxt] for stem in _YOON[ch])
            i += 2
        elif ch == "ー" or (ch in "うお" and morae and _long_after(morae[-1], ch)):
            vowel = morae[-1][0][-1:] if morae else ""
            spellings = (vowel, "u", "h", "") if ch != "ー" else (vowel, "h", "")
            if ch == "お":
                spellings = ("o", "h", "")
            i += 1
        elif ch == "い" and morae and morae[-1][0].endswith("e"):
            spellings, i = ("i", ""), i + 1  # えい: EI or E
        else:
            spellings = _KANA_BASE.get(ch, (anyascii(ch).lower(),))
            i += 1
        if double:
            spellings = tuple(
                alt
                for s in spellings
                for alt in ((s[0] + s, "t" + s) if s.startswith("ch") else (s[:1] + s,))
            )
            double = False
        morae.append(spellings)
    return morae


def _long_after(previous: tuple[str, ...], ch: str) -> bool:
    """Whether う or お lengthens the vowel before it (おう, おお, うう)."""
    last = previous[0][-1:] if previous and previous[0] else ""
    return (ch == "う" and last in ("o", "u")) or (ch == "お" and last == "o")


@functools.lru_cache(maxsize=4096)
def _kana_pattern(word: str) -> Pattern:
    return tuple(_alternatives(*m) for m in _morae(word))


# Public names of the tables, for reconcile.variants (two Latin spellings of one name).
ICAO_CYRILLIC = _ICAO_CYRILLIC
ELOT_GREEK = _ELOT_GREEK
KANA_BASE = _KANA_BASE
YOON = _YOON
SMALL_Y = _SMALL_Y
INITIALS = _INITIALS
VOWELS = _VOWELS
FINALS = _FINALS

# --------------------------------------------------------------------------


_LONGEST = 64  # letters of one name part (a PN component group holds at most 64 characters)

STANDARDS = {
    Script.CYRILLIC: "ICAO 9303 / GOST / BGN transliteration",
    Script.GREEK: "ELOT 743 transliteration",
    Script.HANGUL: "Revised Romanization / McCune-Reischauer",
    Script.KANA: "Hepburn / Kunrei / Nihon-shiki romanisation",
}


def transliterates(native: str, latin: str, *, family: bool = False) -> str | None:
    """Tell whether ``latin`` is a standard spelling of the native word(s); say which.

    ``native`` is :func:`native_fold` text in one script, ``latin`` folded
    Latin letters (spaces and hyphens are ignored on both sides). Returns the
    standard that gives this spelling (the strict ICAO 9303 spelling of
    Cyrillic is named as such), or ``None`` when no standard spelling or
    usual variant of it is ``latin``. Kanji never match: no reading is
    guessed from them.
    """
    word = native.replace(" ", "")
    target = "".join(ch for ch in latin if ch.isalnum())
    if not word or not target or len(word) > _LONGEST or len(target) > 4 * _LONGEST:
        return None  # no name word is this long: a hostile value is no standard spelling
    script = script_of(word)
    if script is Script.CYRILLIC:
        if _icao_cyrillic(word) == target:
            return "ICAO transliteration"
        found = [name for name, p in _cyrillic_patterns(word) if spells(p, target)]
        if len(found) == 1 and found[0] in LATIN_ONLY_CYRILLIC:
            return found[0]  # IWANOW, JOUKOV: named, as no standard of the usual label gives it
        return STANDARDS[script] if found else None
    elif script is Script.GREEK:
        pattern = _greek_pattern(word)
    elif script is Script.HANGUL:
        if family and target in KOREAN_SURNAMES.get(word, ()):
            return STANDARDS[script]
        pattern = _hangul_pattern(word)
    elif script is Script.KANA:
        pattern = _kana_pattern(word)
    else:
        return None
    return STANDARDS[script] if spells(pattern, target) else None


def romanize(word: str, *, family: bool = False) -> list[str]:
    """The main Latin spellings of a native word (lower case), for searching, not for deciding.

    One spelling per standard's first choice (ICAO 9303 for Cyrillic, ELOT
    743 for Greek, Revised Romanization for Hangul, Hepburn for kana); for a
    Korean family name also the spellings people use (LEE, PARK, ...).
    Kanji and Latin give ``[]``.
    """
    word = native_fold(word).replace(" ", "")
    script = script_of(word)
    if script is Script.CYRILLIC:
        return [_icao_cyrillic(word)]
    if script is Script.GREEK:
        out, i = "", 0
        while i < len(word):
            if word[i : i + 2] in _GREEK_PAIRS:
                out += _GREEK_PAIRS[word[i : i + 2]][0]
                i += 2
            else:
                out += _ELOT_GREEK.get(word[i], anyascii(word[i]).lower())
                i += 1
        return [out]
    if script is Script.HANGUL:
        spelled = ""
        for ch in word:
            index = ord(ch) - 0xAC00
            if not 0 <= index < 11172:
                spelled += anyascii(ch).lower()
                continue
            lead, rest = divmod(index, 588)
            vowel, tail = divmod(rest, 28)
            spelled += _INITIALS[lead][0] + _VOWELS[vowel][0] + _FINALS[tail][0]
        usual = list(KOREAN_SURNAMES.get(word, ())) if family else []
        return [spelled, *(s for s in usual if s != spelled)]
    if script is Script.KANA:
        return ["".join(m[0] for m in _morae(word))]
    return []


# --------------------------------------------------------------------------
# Kanji: old (kyūjitai) and variant (itaiji) forms of one character
# --------------------------------------------------------------------------


@functools.cache
def _opencc(config: str) -> opencc.OpenCC:
    """An OpenCC converter, made when first needed (each loads its dictionaries)."""
    return opencc.OpenCC(config)


_NAME_ITAIJI = str.maketrans(
    {"髙": "高", "﨑": "崎", "嵜": "崎", "邉": "辺", "嶋": "島", "嶌": "島", "冨": "富",
     "濵": "浜", "\U00020bb7": "吉"}
)  # fmt: skip
"""Variant forms that Japanese names keep and OpenCC's ``t2jp`` (official old forms
to the 1946/1981 new ones) leaves alone, because they are no old forms but name
variants of JIS X 0213 (はしごだか, たつさき, つちよし...); written here, as no
library holds them."""


@functools.lru_cache(maxsize=4096)
def _new_kanji_word(word: str) -> str:
    converted: str = _opencc("t2jp").convert(word.translate(_NAME_ITAIJI))
    return converted.translate(_NAME_ITAIJI)


def japanese_kanji(words: tuple[str, ...]) -> bool:
    """Whether every character of ``words`` is in JIS X 0208, the kanji of Japanese names."""
    try:
        "".join(words).encode("shift_jis")
    except UnicodeEncodeError:
        return False
    return True


def simplified_hanzi(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, str] | None:
    """Both words in simplified Chinese (OpenCC ``t2s``), where the pair is Chinese.

    Only when one side holds a character Japanese does not write (outside JIS
    X 0208, as 刘 or 张): ``t2s`` also joins Japanese name kanji that are two
    names (葉 and 叶), which a Japanese pair must keep apart. ``None`` when
    the pair is not plainly Chinese.
    """
    if japanese_kanji((*a, *b)):
        return None
    t2s = _opencc("t2s")
    return str(t2s.convert("".join(a))), str(t2s.convert("".join(b)))


def new_kanji(words: tuple[str, ...]) -> tuple[str, ...]:
    """Kanji words in their new forms: 渡邊, 渡邉 and 渡辺 are one name, as are 齋藤 and
    斎藤, 髙橋 and 高橋 (OpenCC ``t2jp``, then :data:`_NAME_ITAIJI`)."""
    return tuple(_new_kanji_word(w) for w in words)
