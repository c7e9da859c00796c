"""A name's bytes against the disc's Specific Character Set: undeclared or wrong sets.

Hospitals write names in Shift_JIS, EUC-KR, cp1251 or ISO 8859-7 and do not
always say so in Specific Character Set (0008,0005). Such a name decodes to
nonsense (or not at all) with the set the file declares. :func:`check` tells
when the bytes plainly cannot be what the file says, and gives a likely
reading (each legacy set that reads a plausible name, else charset-normalizer's
best), marked as a guess: it is shown to the clerk and finds and ranks
worklist candidates for review, and never matches a patient automatically.
"""

from __future__ import annotations

import codecs
import re
import warnings
from dataclasses import dataclass

import pydicom.charset
from charset_normalizer import from_bytes
from pydicom.charset import convert_encodings, default_encoding

from kiosk.media.problems import ProblemCode
from reconcile.scripts import Script, script_of


def _tolerate_any_term() -> None:
    """Make pydicom read a file whose Specific Character Set holds a NUL byte.

    pydicom 3.0 takes a term it does not know for a Python codec name and
    asks ``codecs.lookup``, which raises ``ValueError`` (not the
    ``LookupError`` pydicom expects) for a name with a NUL in it: the whole
    file is then unreadable, and its image lost from the study. Such a term
    is treated as any unknown term is: the default set, with pydicom's
    warning (which the scan records as a problem). No option of pydicom
    does this; its own fallback is wrapped once, here.
    """
    known = pydicom.charset._python_encoding_for_corrected_encoding
    if getattr(known, "tolerates_nul", False):
        return

    def corrected(encoding: str) -> str:
        if "\0" in encoding:
            warnings.warn(
                f"Unknown encoding {encoding!r} - using default encoding instead", stacklevel=2
            )
            return default_encoding
        return known(encoding)

    corrected.tolerates_nul = True  # type: ignore[attr-defined]
    pydicom.charset._python_encoding_for_corrected_encoding = corrected


_tolerate_any_term()

# The legacy sets such discs are written in, and the DICOM term that declares each,
# in the order they are tried for a guess (multi-byte sets decode strictly or not at all).
_LEGACY = {
    "utf_8": "ISO_IR 192",
    "euc_kr": "ISO 2022 IR 149",
    "shift_jis": "ISO_IR 13 / ISO 2022 IR 87",
    "cp1251": "ISO_IR 144",
    "koi8_r": "ISO_IR 144",
    "iso8859_5": "ISO_IR 144",
    "iso8859_7": "ISO_IR 126",
    "cp1253": "ISO_IR 126",
}
# Sets whose bytes above 0x7F are almost all letters of another alphabet: a
# Latin name holds a few such bytes among ASCII letters, a Cyrillic or Greek
# name written in such a set holds only those.
_LATIN = frozenset({"iso8859-1", "iso8859-15", "cp1252"})
_SINGLE_BYTE = frozenset({"iso8859-5", "iso8859-7", "koi8-r", "cp1251", "cp1253"}) | _LATIN


def _codec(name: str) -> str:
    """Python's own name of a codec (``iso_ir_144`` is ``iso8859-5``)."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return name


_WORDS = re.compile(r"[\^=\s\-',.]+")


def plausible(text: str) -> bool:
    """Whether ``text`` reads as a name: letters only, one script a word, and sane case.

    A name read in the wrong single-byte set shows symbols (``№``, ``©``) or
    case in disorder (``хБЮМНБ``); a name read right does not. Written here
    because charset-normalizer's measures need more text than a name holds.
    """
    words = [w for w in _WORDS.split(text) if w]
    if not words:
        return False
    for word in words:
        if not all(ch.isalpha() for ch in word):
            return False
        kinds = {script_of(ch) for ch in word}
        if len(kinds) > 1 and kinds != {Script.HAN, Script.KANA}:
            return False  # kanji with kana is Japanese; any other mix is a misreading
        cased = [ch for ch in word if ch.isupper() or ch.islower()]
        if cased and not (word.isupper() or word.islower() or word.istitle()):
            return False
    return True


def _reading(raw: bytes, encoding: str) -> str | None:
    try:
        return codecs.decode(raw, encoding, "strict")
    except (UnicodeDecodeError, LookupError):
        return None


@dataclass(frozen=True)
class CharsetFinding:
    """Why a value's bytes do not fit the declared set, and the guessed readings.

    ``readings`` are every plausible reading in a legacy set, the likeliest
    first: they may find and rank worklist candidates for review, never
    decide a match (:attr:`reconcile.match.DiscPatient.guessed_names`).
    """

    code: ProblemCode
    message: str
    readings: tuple[str, ...] = ()


def readings(raw: bytes, declared: list[str]) -> list[tuple[str, str]]:
    """Every legacy set (not declared) that reads the bytes as a plausible name, with its
    reading, in the order of ``_LEGACY``; else charset-normalizer's best reading; else ``[]``.

    ``declared`` holds Python codec names. Two sets may both read a name
    plausibly (ISO 8859-7 bytes read as cp1251 make a Cyrillic name): all are
    given, distinct readings once.
    """
    found: list[tuple[str, str]] = []
    for encoding in _LEGACY:
        if _codec(encoding) in declared:
            continue
        text = _reading(raw, encoding)
        fresh = text is not None and text not in (t for _, t in found)
        if fresh and text is not None and not text.isascii() and plausible(text):
            found.append((encoding, text))
    if found:
        return found
    best = from_bytes(raw, cp_isolation=list(_LEGACY)).best()
    return [] if best is None else [(best.encoding, str(best))]


def _guess(raw: bytes, declared: list[str]) -> tuple[str, str] | None:
    """The likeliest reading of :func:`readings`; None when there is none."""
    found = readings(raw, declared)
    return found[0] if found else None


def guessed_names(raw: bytes, declared: list[str]) -> tuple[str, ...]:
    """The guessed readings of a Person Name's bytes when :func:`check` finds a problem, else
    ``()``; ``declared`` as for :func:`check` (DICOM terms)."""
    found = check(raw, declared)
    return () if found is None else found.readings


def _strict(raw: bytes, encodings: list[str]) -> bool:
    """Whether every byte run decodes in one of the declared sets (escape sequences aside)."""
    if any(e.startswith("iso2022") or e == "iso_ir_6" for e in encodings) and 0x1B in raw:
        return True  # code extensions: pydicom switches sets at every escape
    for encoding in encodings or ["ascii"]:
        try:
            codecs.decode(raw, encoding, "strict")
        except (UnicodeDecodeError, LookupError):
            continue
        return True
    return False


def check(raw: bytes, declared: list[str]) -> CharsetFinding | None:
    """Tell whether a Person Name's bytes fit the Specific Character Set terms ``declared``.

    Returns ``None`` for ASCII and for bytes that read as the declared set;
    ``charset-undeclared`` when the file declares no set (or only ASCII) and
    the name is not ASCII; ``charset-wrong`` when the bytes do not decode in
    the declared set, or a Latin set is declared and most letters fall above
    0x7F (a Cyrillic or Greek legacy set). The message holds the guessed
    reading, marked as such.
    """
    raw = raw.rstrip(b" \x00")
    if raw.isascii() and 0x1B not in raw:
        return None
    terms = [t.strip() for t in declared if t.strip() and t.strip() != "ISO_IR 6"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        encodings = [_codec(e) for e in convert_encodings(terms)] if terms else []
    said = "\\".join(terms)
    if not terms:
        code = ProblemCode.CHARSET_UNDECLARED
        why = "the file declares no Specific Character Set, but the patient name is not ASCII"
    elif not _strict(raw, encodings):
        code = ProblemCode.CHARSET_WRONG
        why = f"the patient name's bytes are not valid {said}"
    elif set(encodings) <= _LATIN and _mostly_high(raw):
        code = ProblemCode.CHARSET_WRONG
        why = f"the patient name's bytes look like another alphabet than {said}"
    elif set(encodings) <= _SINGLE_BYTE and _misread(raw, encodings):
        code = ProblemCode.CHARSET_WRONG
        why = f"the patient name does not read as a name in {said}, but does in another set"
    else:
        return None
    guesses = readings(raw, encodings)
    if guesses:
        encoding, text = guesses[0]
        said_as = _LEGACY.get(encoding, encoding)
        why += (
            f"; likely reading (a guess, used only to list candidates for review): "
            f"{text} ({said_as})"
        )
    return CharsetFinding(code, why, tuple(t for _, t in guesses))


def _misread(raw: bytes, encodings: list[str]) -> bool:
    """The declared single-byte set reads no plausible name, and a legacy set does."""
    if any(plausible(_reading(raw, e) or "\ufffd") for e in encodings):
        return False
    return any(
        plausible(text)
        for e in _LEGACY
        if _codec(e) not in encodings
        and (text := _reading(raw, e)) is not None
        and not text.isascii()
    )


def _mostly_high(raw: bytes) -> bool:
    letters = [b for b in raw if chr(b).isalpha() or b >= 0x80]
    high = sum(b >= 0x80 for b in letters)
    return high >= 3 and high * 2 > len(letters)
