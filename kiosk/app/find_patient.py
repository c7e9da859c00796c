"""Use case: find the patient on the worklist, with the candidates ranked and their reasons.

The clerk looks up by a scanned barcode (MRN or accession), by name and/or
birth date, or from the disc's own demographics; the command line asks by
any field (``kiosk worklist``) or ranks every study of a disc (``kiosk
match``). Scoring is :mod:`reconcile.match`'s; the front ends only show it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.config import Config
from kiosk.errors import SafetyError
from kiosk.matching import (
    StudyMatch,
    disc_patient,
    gather,
    guessed_names,
    match_rules,
    match_scan,
)
from kiosk.matching import lookup_scanned as _lookup_scanned
from kiosk.media.model import MediaScan, StudySummary
from kiosk.worklist import WorklistQuery as WorklistQuery
from kiosk.worklist import find, find_order, name_matches
from reconcile.match import Decision, match, normal_sex, score, score_names
from reconcile.model import WorklistItem
from reconcile.scripts import is_latin


@dataclass(frozen=True)
class Candidate:
    """A worklist entry, scored against the disc's patient when there was one."""

    item: WorklistItem
    score: int | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lookup:
    """What a lookup found, best first."""

    candidates: tuple[Candidate, ...]
    #: Found by an identifier (MRN or accession): one answer may be preselected.
    by_identifier: bool


def _ranked(
    config: Config, items: list[WorklistItem], study: StudySummary | None, by_identifier: bool
) -> Lookup:
    rows: list[Candidate] = []
    if study is None:
        rows = [Candidate(item) for item in items]
    else:
        patient, rules = disc_patient(study), match_rules(config)
        for item in items:
            scored = score(patient, item, rules)
            rows.append(Candidate(item, scored.score, scored.reasons))
    rows.sort(key=lambda r: -(r.score or 0))
    return Lookup(tuple(rows), by_identifier)


def lookup_scanned(config: Config, raw: str, study: StudySummary | None = None) -> Lookup:
    """Look up what the barcode scanner (or the clerk) typed: an MRN or an accession.

    The answers are scored against ``study``'s patient when one is given.

    Raises
    ------
    PeerError
        If the worklist cannot be reached or fails the query.
    """
    _scanned, items = _lookup_scanned(config, raw)
    return _ranked(config, items, study, by_identifier=True)


def lookup_by_name(
    config: Config, name: str, birth_date: str, study: StudySummary | None = None
) -> Lookup:
    """Look up by name and/or birth date, scored against ``study``'s patient if given.

    The name is looked for in every component group and script: the
    worklist is asked for every item (of that birth date, if given) and the
    name filtered on our side (:func:`kiosk.worklist.name_matches`), since a
    worklist SCP compares bytes of its own character set. A name in another
    script than Latin, without a wildcard, is looked for anywhere in the
    name (``山田`` finds ``=山田^太郎``, ``Иванов`` finds ``IVANOV^SERGEY``);
    ``PAR*`` finds ``박^지훈`` through its standard spelling.
    """
    if not name:
        items = find(config.worklist, config.ae_title, WorklistQuery(dob=birth_date))
        return _ranked(config, items, study, by_identifier=False)
    if not is_latin(name) and "*" not in name and "?" not in name:
        name = f"*{name.strip()}*"
    every = find(config.worklist, config.ae_title, WorklistQuery(name="*", dob=birth_date))
    items = [i for i in every if name_matches(name, i.patient_name)]
    return _ranked(config, items, study, by_identifier=False)


def candidates_for(config: Config, study: StudySummary, scan: MediaScan | None = None) -> Decision:
    """The worklist candidates of a study's patient, ranked, with the matcher's decision.

    A candidate may be preselected only when the outcome is ``auto``. With
    the ``scan`` the study is from, a name read in a guessed character set is
    also searched and scored in its guessed readings (for review only).
    """
    guesses = guessed_names(scan).get(study.patient_name, ()) if scan is not None else ()
    patient = disc_patient(study, guesses)
    return match(patient, gather(config, patient), match_rules(config))


def match_disc(config: Config, scan: MediaScan) -> list[StudyMatch]:
    """Rank the worklist candidates of every study on the medium (``kiosk match``)."""
    return match_scan(config, scan)


def query_worklist(
    config: Config, query: WorklistQuery, *, department: str = ""
) -> list[WorklistItem]:
    """Ask the worklist (``kiosk worklist``)."""
    return find(config.worklist, config.ae_title, query, department=department)


def patient_of(config: Config, mrn: str, accession: str = "") -> WorklistItem | None:
    """The order ``accession`` of patient ``mrn``, or (no accession) any order of theirs.

    ``None`` when no worklist is configured or the patient has no order.

    Raises
    ------
    SafetyError, UsageError
        If the accession is unknown or belongs to another patient than ``mrn``.
    """
    if config.worklist is None:
        return None
    if accession:
        return find_order(config.worklist, config.ae_title, accession, mrn=mrn)
    items = find(config.worklist, config.ae_title, WorklistQuery(mrn=mrn))
    births = sorted({i.birth_date for i in items if i.birth_date})
    sexes = sorted({normal_sex(i.sex) for i in items} - {""})
    named = [i for i in items if i.patient_name]
    other = next(
        (i for i in named[1:] if not score_names(named[0].patient_name, i.patient_name).strong),
        None,
    )
    what = ""
    if len(births) > 1:
        what = f"birth dates {' and '.join(births)}"
    elif len(sexes) > 1:
        what = f"sexes {'/'.join(sexes)}"
    elif other is not None:  # named by accession: no patient name in a message or a log
        what = f"orders {named[0].accession_number} and {other.accession_number} name two patients"
    if what:
        raise SafetyError(
            f"the worklist holds orders of MRN {mrn} for two identities ({what}); "
            "check the registration, then import with the accession of the right order"
        )
    # the order that says the most (birth date, sex) is the one the disc is checked against
    return max(items, key=lambda i: (bool(i.birth_date), bool(normal_sex(i.sex))), default=None)
