"""Keyboard-wedge barcode input: clean a scanned value and tell MRN from accession.

A scanner types the code and Enter; many add a site prefix or suffix
(``*MRN100234*``, ``]C1``, a check character). The site configures what to
strip and, optionally, regular expressions that tell an MRN from an accession
number::

    [barcode]
    strip_prefix = ["]C1", "*"]     # a string or a list; the longest match is removed
    strip_suffix = "*"
    mrn_pattern = "MRN\\d{6}"        # full match, after stripping
    accession_pattern = "ACC\\d{8}"

Pure functions, no Qt: the window calls :func:`classify` and hands the result
to :func:`kiosk.matching.lookup_scanned`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

_KEYS = ("strip_prefix", "strip_suffix", "mrn_pattern", "accession_pattern")
# Control characters scanners send: CR, LF, TAB, GS/RS/EOT of GS1 and ISO 15434 codes.
_CONTROL = "\r\n\t\x1d\x1e\x04\x00"


class BarcodeError(ValueError):
    """A ``[barcode]`` setting is invalid; ``key`` names it."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


class Kind(enum.StrEnum):
    """What a scanned value is."""

    MRN = "mrn"
    ACCESSION = "accession"
    UNKNOWN = "unknown"  # no pattern configured, none matched, or both matched


@dataclass(frozen=True)
class Scanned:
    """A cleaned scanned value and what it is."""

    value: str
    kind: Kind


@dataclass(frozen=True)
class BarcodeRules:
    """The site's barcode settings (see the module doc)."""

    strip_prefix: tuple[str, ...] = ()
    strip_suffix: tuple[str, ...] = ()
    mrn_pattern: re.Pattern[str] | None = None
    accession_pattern: re.Pattern[str] | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> BarcodeRules:
        """Build the rules from the ``[barcode]`` config table.

        Raises
        ------
        BarcodeError
            If a key is unknown, a value has the wrong type, or a pattern is not a regex.
        """
        for key in data:
            if key not in _KEYS:
                raise BarcodeError(key, f"unknown barcode setting; known are {', '.join(_KEYS)}")
        return cls(
            strip_prefix=_strings(data, "strip_prefix"),
            strip_suffix=_strings(data, "strip_suffix"),
            mrn_pattern=_pattern(data, "mrn_pattern"),
            accession_pattern=_pattern(data, "accession_pattern"),
        )


def _strings(data: Mapping[str, object], key: str) -> tuple[str, ...]:
    value = data.get(key, ())
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise BarcodeError(key, f"must be a string or a list of strings, not {value!r}")
    # Longest first, so that "]C1" is tried before "]".
    return tuple(sorted((v for v in value if v), key=len, reverse=True))


def _pattern(data: Mapping[str, object], key: str) -> re.Pattern[str] | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise BarcodeError(key, f"must be a regular expression string, not {value!r}")
    try:
        return re.compile(value)
    except re.error as exc:
        raise BarcodeError(key, f"is not a valid regular expression ({exc})") from None


def clean(raw: str, rules: BarcodeRules | None = None) -> str:
    """Strip control characters, whitespace, one configured prefix and suffix, and the
    start and stop ``*`` of a Code 39 barcode a scanner passes on (``*123456*``).

    A ``*`` can be no part of an identifier (a worklist query reads it as a
    wildcard, :mod:`kiosk.net.keys`): the pair around the value goes whatever
    the site configured.
    """
    rules = rules or BarcodeRules()
    value = raw.strip().strip(_CONTROL).strip()
    if len(value) > 2 and value[0] == value[-1] == "*":
        value = value[1:-1].strip()
    for prefix in rules.strip_prefix:
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    for suffix in rules.strip_suffix:
        if value.endswith(suffix):
            value = value[: -len(suffix)]
            break
    return value.strip()


def classify(raw: str, rules: BarcodeRules | None = None) -> Scanned:
    """Clean a scanned value and tell whether it is an MRN or an accession number.

    Without configured patterns, or when both or neither match, the kind is
    ``UNKNOWN`` and the lookup tries both.
    """
    rules = rules or BarcodeRules()
    value = clean(raw, rules)
    is_mrn = bool(rules.mrn_pattern and rules.mrn_pattern.fullmatch(value))
    is_acc = bool(rules.accession_pattern and rules.accession_pattern.fullmatch(value))
    if is_mrn and not is_acc:
        return Scanned(value, Kind.MRN)
    if is_acc and not is_mrn:
        return Scanned(value, Kind.ACCESSION)
    return Scanned(value, Kind.UNKNOWN)
