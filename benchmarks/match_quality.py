"""Matcher quality on the hard test set of ``tests/match_cases.py``.

Prints the wrong automatic matches (must be 0), automatic matches where a
person had to look (must be 0), top-1 accuracy and the share decided
automatically, then one line per case that was not decided as hoped: ``WRONG`` for an
automatic match that should not have been made, ``miss`` for a top-1 miss
that went to review (the safe side).
Run from the repository root: ``python benchmarks/match_quality.py [-v]``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.match_cases import (
    CASES,
    HELDOUT_CASES,
    LOOKALIKE_CASES,
    SCRIPT_CASES,
    UNSEEN_CASES,
    Case,
    evaluate,
)
from tests.match_cases_blind import BLIND_CASES
from tests.match_cases_blind2 import BLIND2_CASES
from tests.match_cases_blind3 import BLIND3_CASES
from tests.match_cases_blind4 import BLIND4_CASES
from tests.match_cases_blind5 import BLIND5_CASES
from tests.match_cases_blind6 import BLIND6_CASES
from tests.match_cases_blind7 import BLIND7_CASES
from tests.match_cases_blind8 import BLIND8_CASES


def main(argv: list[str]) -> int:
    """Print the figures of every set; exit 1 if any automatic match was wrong or unsafe."""
    failed = 0
    sets = (
        ("Latin-1 set", CASES),
        ("multi-script set", SCRIPT_CASES),
        ("multi-script set written after the rules (unseen by them)", UNSEEN_CASES),
        ("held-out multi-script set (written before the Latin-variant rules)", HELDOUT_CASES),
        ("look-alikes (relatives and twins; written with the look-alike rule)", LOOKALIKE_CASES),
        ("blind set (written by a helper who never saw the rules)", BLIND_CASES),
        (
            "second blind set (written later, by another helper, for the rules as they then were)",
            BLIND2_CASES,
        ),
        (
            "third blind set (written on 2026-12-01, measured once before any rule saw it)",
            BLIND3_CASES,
        ),
        (
            "fourth blind set (written on 2026-12-01, measured once before any rule saw it)",
            BLIND4_CASES,
        ),
        (
            "fifth blind set (written on 2026-12-01 after the fourth's rules, measured once "
            "before any rule saw it)",
            BLIND5_CASES,
        ),
        (
            "sixth blind set (written on 2026-12-01 after the fifth's rules, measured once "
            "before any rule saw it)",
            BLIND6_CASES,
        ),
        (
            "seventh blind set (written on 2026-12-01 after the sixth's rules, with the discs' "
            "modalities, measured once before any rule saw it)",
            BLIND7_CASES,
        ),
        (
            "eighth blind set (written on 2026-12-01 after the seventh's rules, with the discs' "
            "modalities, measured once before any rule saw it)",
            BLIND8_CASES,
        ),
    )
    for title, cases in sets:
        print(f"== {title}")
        failed |= report(cases, argv)
    return failed


def report(cases: tuple[Case, ...], argv: list[str]) -> int:
    """Print one set's figures; 1 if any automatic match was wrong or unsafe."""
    results = evaluate(cases=cases)
    n = len(results)
    wrong = [r for r in results if r.wrong_auto]
    unsafe = [r for r in results if r.unsafe_auto]
    top1 = sum(r.top1 for r in results)
    auto = sum(r.decision == "auto" for r in results)
    present = [r for r in results if r.case.right is not None]
    print(
        f"cases: {n} ({len(present)} with the patient on the worklist, {n - len(present)} absent)"
    )
    print(f"wrong automatic matches: {len(wrong)}")
    print(f"automatic matches that needed review: {len(unsafe)}")
    print(f"top-1 accuracy: {top1}/{n} = {top1 / n:.1%}")
    print(f"decided automatically: {auto}/{n} = {auto / n:.1%}")
    decidable = [r for r in results if r.case.decidable]
    clear_auto = sum(r.decision == "auto" for r in decidable)
    share = clear_auto / len(decidable) if decidable else 0.0
    print(
        f"decided automatically of those a careful person could decide from the disc: "
        f"{clear_auto}/{len(decidable)} = {share:.1%}"
    )
    by_modality = held_for_modality([r.case for r in decidable if r.decision != "auto"])
    if by_modality:
        print(
            f"  of the decidable left to review, held by the rule 'the order is for another "
            f"modality': {by_modality}"
        )
    read = as_kiosk_reads(cases)
    if read != cases:
        again = evaluate(cases=read)
        guessed = sum(a.top1 and not r.top1 for a, r in zip(again, results, strict=True))
        print(
            f"top-1 as kiosk match reads these discs (a Latin-1 disc's legacy bytes guessed as "
            f"its scan guesses them): {sum(a.top1 for a in again)}/{n} "
            f"= {sum(a.top1 for a in again) / n:.1%} ({guessed} found through a guess, review)"
        )
        assert not any(a.wrong_auto or a.unsafe_auto for a in again)
    for decision in ("auto", "review", "none"):
        count = sum(r.decision == decision for r in results)
        print(f"  {decision}: {count}")
    verbose = "-v" in argv
    for r in results:
        wrong = r.wrong_auto or r.unsafe_auto
        if wrong or not r.top1 or verbose:
            flag = "WRONG" if wrong else "miss" if not r.top1 else "ok"
            print(
                f"{flag:5} {r.case.id:22} {r.decision:6} top={r.top} right={r.case.right} "
                f"({r.case.what})"
            )
    assert len(cases) == n
    return 1 if wrong or unsafe else 0


def held_for_modality(cases: list[Case]) -> int:
    """How many of the cases go to review with a first candidate whose order is for
    another modality than the disc's (the rule holds them whatever the names say)."""
    from reconcile.match import match

    held = 0
    for case in cases:
        decision = match(case.disc, case.worklist())
        held += bool(decision.candidates) and decision.candidates[0].modality_conflict
    return held


def as_kiosk_reads(cases: tuple[Case, ...]) -> tuple[Case, ...]:
    """The cases as ``kiosk match`` meets them on a disc declaring Latin-1 (``ISO_IR 100``):
    a name whose bytes are plainly another set's (mojibake written into a case) gets the
    guessed readings the scan gives (:func:`kiosk.media.charsets.guessed_names`)."""
    from kiosk.media.charsets import guessed_names

    out = []
    for case in cases:
        try:
            raw = case.disc.patient_name.encode("latin-1")
        except UnicodeEncodeError:
            out.append(case)
            continue
        guesses = () if case.disc.guessed_names else guessed_names(raw, ["ISO_IR 100"])
        disc = dataclasses.replace(case.disc, guessed_names=guesses) if guesses else case.disc
        out.append(dataclasses.replace(case, disc=disc) if guesses else case)
    return tuple(out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
