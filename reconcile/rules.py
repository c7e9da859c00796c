"""Rules from the config: matching thresholds and what coercion changes (frozen, with defaults)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class MatchRules:
    """Thresholds of the decision rule (see ``docs/matching.md``).

    Attributes
    ----------
    plausible
        A candidate scoring at least this could be the patient.
    auto
        The least score of an automatic match.
    margin
        How far an automatic match must lead the best candidate of any other patient.
    order_margin
        How far it must lead another order of the same patient (MRN).
    show
        Candidates scoring below this are not listed at all.
    max_candidates
        At most this many candidates are listed per study.
    date_window_days
        A study done this many days or fewer from the scheduled date earns points.
    """

    plausible: float = 50.0
    auto: float = 80.0
    margin: float = 20.0
    order_margin: float = 5.0
    show: float = 25.0
    max_candidates: float = 10.0
    date_window_days: float = 30.0

    @classmethod
    def names(cls) -> list[str]:
        """The config keys, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> MatchRules:
        """Build the rules from a plain mapping (the ``[matching]`` config table).

        Raises
        ------
        KeyError
            If a key is not a known threshold (the message names it).
        ValueError
            If a value is not a number, is negative, or the thresholds contradict.
        """
        known = cls.names()
        values: dict[str, float] = {}
        for key, value in data.items():
            if key not in known:
                raise KeyError(f"{key}: unknown matching threshold; known are {', '.join(known)}")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{key}: must be a number, not {value!r}")
            if value < 0:
                raise ValueError(f"{key}: must not be negative, not {value}")
            values[key] = float(value)
        rules = cls(**values)
        if rules.auto < rules.plausible:
            raise ValueError(
                f"auto: must be at least plausible ({rules.plausible}), not {rules.auto}"
            )
        if rules.max_candidates < 1:
            raise ValueError(f"max_candidates: must be at least 1, not {rules.max_candidates}")
        return rules


@dataclass(frozen=True)
class CoercionRules:
    """What coercion changes, per site and destination (data from the config).

    The defaults are IRWF.b: identity and order from the worklist, UIDs kept.
    """

    replace_demographics: bool = True
    new_uids: bool = False
    reason: str = "COERCE"

    @classmethod
    def from_mapping(cls, data: dict[str, object]) -> CoercionRules:
        """Build from a config table; unknown keys raise ``KeyError``, wrong types ``TypeError``."""
        known = {"replace_demographics", "new_uids", "reason"}
        unknown = set(data) - known
        if unknown:
            raise KeyError(sorted(unknown)[0])
        values: dict[str, object] = {}
        for key in ("replace_demographics", "new_uids"):
            if key in data:
                if not isinstance(data[key], bool):
                    raise TypeError(key)
                values[key] = data[key]
        if "reason" in data:
            if data["reason"] not in ("COERCE", "CORRECT"):
                raise TypeError("reason")
            values["reason"] = data["reason"]
        return cls(**values)  # type: ignore[arg-type]
