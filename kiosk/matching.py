"""Find the worklist candidates for each study on a disc, ranked by :mod:`reconcile.match`.

Worklist SCPs differ in how they match names (case, accents, wildcards), so
for each disc patient the worklist is asked twice over: by birth date, a range for
a partial one (finds names with typos, accents or another order) and by the first letters of each
name part with a wildcard (finds wrong or missing birth dates and swapped
names). :func:`kiosk.worklist.find` filters names case- and
accent-insensitively on our side; the scoring does the rest.
"""

from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from typing import Any

from kiosk.barcode import BarcodeRules, Kind, Scanned, classify
from kiosk.config import Config
from kiosk.errors import ConfigError
from kiosk.media.model import MediaScan, StudySummary
from kiosk.media.names import shown
from kiosk.media.problems import ProblemCode
from kiosk.worklist import WorklistQuery, find, name_matches
from reconcile import names, scripts
from reconcile.match import Decision, DiscPatient, date_parts, match
from reconcile.model import WorklistItem
from reconcile.rules import MatchRules

log = logging.getLogger(__name__)

PREFIX_LETTERS = 3  # how many leading letters of a name part go into a wildcard query


@dataclass(frozen=True)
class StudyMatch:
    """The ranked candidates and the decision for one study on the disc."""

    study_instance_uid: str
    decision: Decision

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form of one study of ``kiosk match``."""
        return {
            "study_instance_uid": self.study_instance_uid,
            "decision": self.decision.outcome.value,
            "why": self.decision.why,
            "candidates": [c.to_json() for c in self.decision.candidates],
            "look_alikes": [c.to_json() for c in self.decision.look_alikes],
        }


def match_rules(config: Config) -> MatchRules:
    """The ``[matching]`` thresholds of the config (already validated when loaded)."""
    try:
        return MatchRules.from_dict(config.matching)
    except (KeyError, ValueError) as exc:  # only if a caller built Config by hand
        raise ConfigError(str(config.path), str(exc.args[0]), key="matching") from None


def barcode_rules(config: Config) -> BarcodeRules:
    """The ``[barcode]`` settings of the config (already validated when loaded)."""
    return BarcodeRules.from_dict(config.barcode)


def disc_patient(study: StudySummary, guessed_names: tuple[str, ...] = ()) -> DiscPatient:
    """Who the disc says the patient of ``study`` is, and what the study is.

    ``guessed_names`` are readings of the name in a character set the disc did
    not declare (:func:`guessed_names`): for candidates to review only.
    """
    return DiscPatient(
        patient_name=study.patient_name,
        birth_date=study.birth_date,
        sex=study.sex,
        modalities=tuple(study.modalities),
        study_date=study.study_date,
        guessed_names=guessed_names,
    )


_CHARSET_CODES = frozenset({ProblemCode.CHARSET_UNDECLARED, ProblemCode.CHARSET_WRONG})


def guessed_names(scan: MediaScan) -> dict[str, tuple[str, ...]]:
    """Each patient name (as read) of the scan that a charset problem names, with its guessed
    readings (:mod:`kiosk.media.charsets`).

    The problem names the first file with that name; every study under the
    same name shares its guesses.
    """
    by_path = {shown(i.relpath): i.patient_name for i in scan.instances}
    out: dict[str, tuple[str, ...]] = {}
    for problem in scan.problems:
        if problem.code in _CHARSET_CODES and problem.guesses and problem.path in by_path:
            name = by_path[problem.path]
            out[name] = tuple(dict.fromkeys((*out.get(name, ()), *problem.guesses)))
    return out


def _prefix(word: str) -> str:
    letters = ""
    for ch in word:
        if not ch.isalnum() or len(letters) == PREFIX_LETTERS:
            break
        letters += ch
    return letters


def _first_words(text: str) -> list[tuple[str, bool]]:
    """The first word of the family and first given name (or first and last word), family flag."""
    if "^" in text or "," in text:
        family, _, given = text.partition("^" if "^" in text else ",")
        given = given.split("^")[0]
        parts = [(family, True), (given, False)]
        return [(part.split()[0], is_family) for part, is_family in parts if part.split()]
    words = text.split()
    return [(words[0], True), (words[-1], False)] if words else []


def name_queries(patient_name: str) -> list[str]:
    """The name patterns that find a patient by the leading letters of each name part.

    For every component group: the first letters of the family and first
    given name (or first and last word) with a ``*`` wildcard; in a non-Latin
    script the same letters anywhere in the name (``*山田*``: the worklist may
    hold them in another group) and the first letters of their standard Latin
    spelling (``IVA*`` for Иванов, ``PAR*`` for 박), so that a name in any
    script finds its candidates without a birth date.
    """
    out: list[str] = []

    def add(pattern: str) -> None:
        if pattern.upper() not in (p.upper() for p in out):
            out.append(pattern)

    for text in names.groups(patient_name).values():
        for word, is_family in _first_words(text):
            prefix = _prefix(word)
            if not prefix:
                continue
            if scripts.is_latin(prefix):
                add(f"{prefix}*")
                continue
            add(f"*{prefix}*")
            for spelling in scripts.romanize(word, family=is_family):
                add(f"{_prefix(spelling).upper()}*")
    return out


def birth_date_key(birth_date: str) -> str:
    """The C-FIND key of a disc's birth date: the date, a range for a partial one, or "".

    A disc that holds only the year and month (``195804``, ``19580400``) or the
    year finds the orders of patients born then (DICOM range matching, PS3.4
    C.2.2.2.5), so that the matcher can weigh the partial date. The date is
    read as the matcher reads it (:func:`reconcile.match.date_parts`): what is
    no date to it is asked for by no date.
    """
    parts = date_parts(birth_date)
    if len(parts) == 1:
        return f"{parts[0]}0101-{parts[0]}1231"
    if len(parts) == 2:
        year, month = parts
        last = calendar.monthrange(int(year), int(month))[1]
        return f"{year}{month}01-{year}{month}{last:02d}"
    return "".join(parts)


def worklist_queries(patient: DiscPatient) -> list[WorklistQuery]:
    """The C-FIND queries that gather the candidates of one disc patient (by birth date, by
    the name, and by each guessed reading of it)."""
    queries: list[WorklistQuery] = []
    dob = birth_date_key(patient.birth_date)
    if dob:
        queries.append(WorklistQuery(dob=dob))
    patterns: list[str] = []
    for name in (patient.patient_name, *patient.guessed_names):
        patterns += [p for p in name_queries(name) if p.upper() not in map(str.upper, patterns)]
    for pattern in patterns:
        queries.append(WorklistQuery(name=pattern))
    return queries


def gather(config: Config, patient: DiscPatient) -> list[WorklistItem]:
    """Every worklist item any of the patient's queries returns, once each.

    Patterns in another script than ASCII are matched on our side: a worklist
    SCP compares the bytes of its own character set, so they are all answered
    by one query for every item (``*``), filtered by each pattern. Without a
    birth date to ask by, the Latin patterns are filtered the same way, so
    that ``PAR*`` also finds ``박^지훈`` (:func:`kiosk.worklist.name_matches`).
    """
    found: dict[tuple[str, str, str, str], WorklistItem] = {}

    def add(items: list[WorklistItem]) -> None:
        for item in items:
            key = (item.mrn, item.accession_number, item.scheduled_step_id, item.patient_name)
            found.setdefault(key, item)

    queries = worklist_queries(patient)
    by_dob = any(q.dob and "-" not in q.dob for q in queries)  # a whole date, not a range
    local = [q.name for q in queries if q.name and not (q.name.isascii() and by_dob)]
    for query in queries:
        if not (query.name and query.name in local):
            add(find(config.worklist, config.ae_title, query))
    if local:
        every = find(config.worklist, config.ae_title, WorklistQuery(name="*"))
        add([i for i in every if any(name_matches(p, i.patient_name) for p in local)])
    return list(found.values())


def match_scan(config: Config, scan: MediaScan) -> list[StudyMatch]:
    """Rank the worklist candidates of every study on the medium.

    Raises
    ------
    UsageError
        If no worklist is configured.
    PeerError
        If the worklist cannot be reached or fails a query.
    """
    rules = match_rules(config)
    cache: dict[tuple[str, str], list[WorklistItem]] = {}
    results: list[StudyMatch] = []
    guesses = guessed_names(scan)
    for study in scan.studies:
        patient = disc_patient(study, guesses.get(study.patient_name, ()))
        key = (patient.patient_name, patient.birth_date)
        if key not in cache:
            cache[key] = gather(config, patient)
        decision = match(patient, cache[key], rules)
        log.info(
            "study %s: %s among %d worklist items (%d listed)",
            study.study_instance_uid,
            decision.outcome.value,
            decision.considered,
            len(decision.candidates),
        )
        results.append(StudyMatch(study.study_instance_uid, decision))
    return results


def lookup_scanned(config: Config, raw: str) -> tuple[Scanned, list[WorklistItem]]:
    """Clean a scanned barcode and query the worklist by MRN or accession (both if unknown)."""
    scanned = classify(raw, barcode_rules(config))
    if not scanned.value:
        return scanned, []
    queries = []
    if scanned.kind in (Kind.MRN, Kind.UNKNOWN):
        queries.append(WorklistQuery(mrn=scanned.value))
    if scanned.kind in (Kind.ACCESSION, Kind.UNKNOWN):
        queries.append(WorklistQuery(accession=scanned.value))
    found: dict[tuple[str, str, str], WorklistItem] = {}
    for query in queries:
        for item in find(config.worklist, config.ae_title, query):
            found.setdefault((item.mrn, item.accession_number, item.scheduled_step_id), item)
    return scanned, list(found.values())
