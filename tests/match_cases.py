"""A hard test set for the matcher: disc patients against a worklist, with the right answer.

Every case is one disc patient (name, birth date, sex, modalities, study
date) against a worklist: the shared ``BASE`` worklist (common names,
near-duplicates, twins, accents, double-barrelled names ...) changed by the
case (``add`` items, ``drop`` MRNs). ``right`` is the MRN of the true patient,
or ``None`` when the patient is not on the worklist at all (then any
automatic match is wrong). ``must_review`` marks cases where even a correct
automatic match would be unsafe (twins, duplicates): ``auto`` is a failure.

Used by ``tests/test_match.py`` (0 wrong automatic matches) and
``benchmarks/match_quality.py`` (the figures in ``docs/matching.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconcile.match import DiscPatient, match
from reconcile.model import WorklistItem
from reconcile.rules import MatchRules

SCHEDULED = "20260310"


def order(
    mrn: str,
    name: str,
    dob: str,
    sex: str,
    *,
    modality: str = "OT",
    acc: str = "",
    date: str = SCHEDULED,
) -> WorklistItem:
    """One worklist order (the accession defaults to one per MRN)."""
    return WorklistItem(
        mrn=mrn,
        issuer="MAINHOSP",
        accession_number=acc or f"A{mrn}",
        patient_name=name,
        birth_date=dob,
        sex=sex,
        requested_procedure="OUTSIDE MEDIA IMPORT",
        scheduled_date=date,
        modality=modality,
    )


BASE: tuple[WorklistItem, ...] = (
    order("M001", "SMITH^JOHN", "19800115", "M"),
    order("M002", "SMITH^JOHN", "19751103", "M"),
    order("M003", "SMITH^JOHN^PAUL", "19620704", "M"),
    order("M004", "SMITH^JOAN", "19800115", "F"),
    order("M005", "MÜLLER^JÜRGEN", "19550312", "M"),
    order("M006", "MÜLLER^JUTTA", "19580820", "F"),
    order("M007", "GARCÍA LÓPEZ^MARÍA JOSÉ", "19910227", "F"),
    order("M008", "NGUYEN^VAN AN", "19880909", "M"),
    order("M009", "NGUYEN^THI HOA", "19900101", "F"),
    order("M010", "MARTIN^LUCAS", "20150610", "M"),
    order("M011", "MARTIN^LEA", "20150610", "F"),
    order("M012", "O'BRIEN^SEAN", "19720418", "M"),
    order("M013", "VAN DER BERG^ANNA", "19830530", "F"),
    order("M014", "KOWALSKI^PIOTR", "19670121", "M"),
    order("M015", "KOWALSKA^ANNA", "19690211", "F"),
    order("M016", "LEE^MIN", "19990909", "F"),
    order("M017", "LEE^MIN", "19990919", "F"),
    order("M018", "DUPONT^JEAN-PIERRE", "19480101", "M"),
    order("M019", "DUPONT^JEANNE", "19510315", "F"),
    order("M020", "ANDERSSON^ERIK", "19770707", "M"),
    order("M021", "ANDERSON^ERIC", "19770707", "M"),
    order("M022", "SCHMIDT-WEBER^KATRIN", "19850505", "F"),
    order("M023", "ROSSI^GIULIA", "19930303", "F"),
    order("M024", "ROSSI^GIULIO", "19930303", "M"),
    order("M025", "JOHNSON^MARY^ANN", "19600229", "F"),
    order("M026", "JOHNSON^MARY^ELIZABETH", "19640812", "F"),
    order("M027", "BROWN^ROBERT", "19500505", "M", modality="CT", acc="A027CT"),
    order("M027", "BROWN^ROBERT", "19500505", "M", modality="MR", acc="A027MR"),
    order("M028", "YILMAZ^AYŞE", "19820614", "F"),
    order("M029", "ØSTERGAARD^SØREN", "19740404", "M"),
    order("M030", "CHEN^WEI", "19860606", "M"),
    order("M031", "PATEL^PRIYA", "19950815", "F"),
    order("M032", "TAYLOR^EMMA", "20010101", "F"),
    order("M033", "WILLIAMS^DAVID", "19700101", "M"),
    order("M034", "HERNANDEZ^JOSE", "", "M"),
    order("M035", "KIM^JI-HOON", "19891212", "M"),
    order("M036", "BROWN^ROBERTA", "19500505", "F"),
    order("M037", "IVANOVA^OLGA", "19780923", "F"),
    order("M038", "DAVIS^SARAH", "19920412", "F"),
    order("M039", "WRIGHT^THOMAS^J", "19651130", "M"),
    order("M040", "NOWAK^ZOFIA", "19570606", "F"),
)


@dataclass(frozen=True)
class Case:
    """One disc patient, the worklist it meets, and the right answer."""

    id: str
    disc: DiscPatient
    right: str | None
    what: str
    must_review: bool = False
    add: tuple[WorklistItem, ...] = ()
    drop: tuple[str, ...] = ()
    base: tuple[WorklistItem, ...] = BASE
    # a careful person could decide from the disc alone (set False where the
    # disc lacks what it takes: no birth date, a changed surname, a garbled name)
    clear: bool = True

    def worklist(self) -> list[WorklistItem]:
        """The base worklist with this case's changes."""
        return [i for i in self.base if i.mrn not in self.drop] + list(self.add)

    @property
    def decidable(self) -> bool:
        """Whether a careful person could decide this case from the disc alone."""
        return self.right is not None and not self.must_review and self.clear


def disc(
    name: str, dob: str = "", sex: str = "", modalities: tuple[str, ...] = ("CT",), date: str = ""
) -> DiscPatient:
    """A disc patient; the study date defaults to six weeks before the scheduled date."""
    return DiscPatient(name, dob, sex, modalities, date or "20260127")


CASES: tuple[Case, ...] = (
    # --- exact and near-exact --------------------------------------------------------
    Case("exact", disc("SMITH^JOHN", "19751103", "M"), "M002", "common name, DOB decides"),
    Case("exact-2", disc("PATEL^PRIYA", "19950815", "F"), "M031", "plain exact match"),
    Case("lower-case", disc("patel^priya", "19950815", "F"), "M031", "lower case on the disc"),
    Case("mixed-case", disc("Taylor^Emma", "20010101", "F"), "M032", "mixed case"),
    Case("no-accents", disc("MULLER^JURGEN", "19550312", "M"), "M005", "accents dropped"),
    Case("umlaut-ue", disc("MUELLER^JUERGEN", "19550312", "M"), "M005", "ü written ue"),
    Case("accents-disc", disc("Müller^Jürgen", "19550312", "M"), "M005", "accents on both"),
    Case("garcia-noacc", disc("GARCIA LOPEZ^MARIA JOSE", "19910227", "F"), "M007", "no accents"),
    Case("o-slash", disc("OSTERGAARD^SOREN", "19740404", "M"), "M029", "ø written o"),
    Case("turkish", disc("YILMAZ^AYSE", "19820614", "F"), "M028", "ş written s"),
    Case("apostrophe", disc("OBRIEN^SEAN", "19720418", "M"), "M012", "apostrophe dropped"),
    Case("van-der", disc("VANDERBERG^ANNA", "19830530", "F"), "M013", "particles run together"),
    Case("hyphen-given", disc("DUPONT^JEAN PIERRE", "19480101", "M"), "M018", "hyphen as space"),
    Case("trailing-caret", disc("CHEN^WEI^^^", "19860606", "M"), "M030", "empty components"),
    Case("ideographic", disc("KIM^JI-HOON=金^지훈", "19891212", "M"), "M035", "ideographic group"),
    # --- separators and order -------------------------------------------------------
    Case(
        "space-given-first", disc("Priya Patel", "19950815", "F"), "M031", "no caret, given first"
    ),
    Case("space-family-first", disc("PATEL PRIYA", "19950815", "F"), "M031", "no caret"),
    Case("comma", disc("Patel, Priya", "19950815", "F"), "M031", "comma-separated"),
    Case("title", disc("MRS PRIYA PATEL", "19950815", "F"), "M031", "free text with a title"),
    Case("swapped", disc("PRIYA^PATEL", "19950815", "F"), "M031", "family and given swapped"),
    Case("swapped-2", disc("EMMA^TAYLOR", "20010101", "F"), "M032", "swapped"),
    # --- middle names and initials -------------------------------------------------
    Case("middle-missing", disc("WRIGHT^THOMAS", "19651130", "M"), "M039", "no middle initial"),
    Case("middle-full", disc("WRIGHT^THOMAS^JAMES", "19651130", "M"), "M039", "middle full"),
    Case("given-initial", disc("WRIGHT^T", "19651130", "M"), "M039", "given as an initial"),
    Case("middle-in-given", disc("JOHNSON^MARY ANN", "19600229", "F"), "M025", "middle in given"),
    Case(
        "middle-conflict",
        disc("JOHNSON^MARY^ELIZABETH", "19600229", "F"),
        "M025",
        "middle name differs but DOB equal",
    ),
    Case("short-given", disc("KOWALSKI^PIOTR", "19670121", "M"), "M014", "exact, near KOWALSKA"),
    # --- typos --------------------------------------------------------------------
    Case("family-typo", disc("PATELL^PRIYA", "19950815", "F"), "M031", "one extra letter"),
    Case("family-transposed", disc("TALYOR^EMMA", "20010101", "F"), "M032", "two letters swapped"),
    Case("given-typo", disc("DAVIS^SARA", "19920412", "F"), "M038", "given name one letter"),
    Case("ivanova-typo", disc("IVANOVA^OLGA", "19780932", "F"), "M037", "DOB digits swapped"),
    Case("dob-one-digit", disc("NOWAK^ZOFIA", "19570607", "F"), "M040", "DOB one digit off"),
    Case("dob-day-month", disc("NOWAK^ZOFIA", "19570606", "F"), "M040", "DOB exact (06/06)"),
    Case(
        "dob-swapped-dm",
        disc("IVANOVA^OLGA", "19780923", "F"),
        "M037",
        "exact; the set's control for the swapped case",
    ),
    Case(
        "dob-us-order",
        disc("KOWALSKA^ANNA", "19691102", "F"),
        "M015",
        "day and month swapped on the disc",
    ),
    Case("both-typos", disc("ANDERSEN^ERIK", "19770707", "M"), "M020", "two near people"),
    # --- hyphenated and changed surnames ------------------------------------------------
    Case(
        "hyphen-part", disc("SCHMIDT^KATRIN", "19850505", "F"), "M022", "one half of a double name"
    ),
    Case("hyphen-other", disc("WEBER^KATRIN", "19850505", "F"), "M022", "the other half"),
    Case("double-spaced", disc("GARCIA^MARIA JOSE", "19910227", "F"), "M007", "first surname only"),
    Case(
        "married-name",
        disc("HUBER^JUTTA", "19580820", "F"),
        "M006",
        "maiden name on the disc, married name on the worklist",
    ),
    Case(
        "married-name-2",
        disc("JONES^SARAH", "19920412", "F"),
        "M038",
        "surname changed entirely",
    ),
    # --- common names, twins, duplicates ---------------------------------------------
    Case(
        "common-no-dob",
        disc("SMITH^JOHN", "", "M"),
        "M001",
        "three John Smiths, no DOB",
        must_review=True,
    ),
    Case("common-wrong-dob", disc("SMITH^JOHN", "19900101", "M"), None, "not on the worklist"),
    Case(
        "lee-one-digit",
        disc("LEE^MIN", "19990909", "F"),
        "M016",
        "other LEE^MIN one digit off",
        must_review=True,
    ),
    Case("twins-lucas", disc("MARTIN^LUCAS", "20150610", "M"), "M010", "twins", must_review=True),
    Case("twins-lea", disc("MARTIN^LEA", "20150610", "F"), "M011", "twins", must_review=True),
    Case(
        "twins-no-sex",
        disc("MARTIN^LUCAS", "20150610", ""),
        "M010",
        "twins, no sex",
        must_review=True,
    ),
    Case(
        "twins-same-sex",
        disc("ROSSI^GIULIA", "19930303", "F"),
        "M023",
        "twins with one-letter different names",
        must_review=True,
    ),
    Case(
        "near-duplicate",
        disc("ANDERSSON^ERIK", "19770707", "M"),
        "M020",
        "another man with a near-identical name and the same DOB",
        must_review=True,
    ),
    Case(
        "duplicate-record",
        disc("CHEN^WEI", "19860606", "M"),
        "M030",
        "the same person registered twice under two MRNs",
        must_review=True,
        add=(order("M930", "CHEN^WEI", "19860606", "M"),),
    ),
    Case(
        "robert-roberta",
        disc("BROWN^ROBERT", "19500505", "M"),
        "M027",
        "ROBERTA with the same DOB",
        must_review=True,
    ),
    # --- missing and partial data ------------------------------------------------
    Case("no-dob-unique", disc("PATEL^PRIYA", "", "F"), "M031", "no DOB on the disc"),
    Case("wl-no-dob", disc("HERNANDEZ^JOSE", "19710707", "M"), "M034", "no DOB on the worklist"),
    Case("partial-year", disc("TAYLOR^EMMA", "2001", "F"), "M032", "year only"),
    Case("partial-month", disc("TAYLOR^EMMA", "200101", "F"), "M032", "year and month"),
    Case("partial-zeros", disc("TAYLOR^EMMA", "20010000", "F"), "M032", "zeros for unknown"),
    Case("no-name", disc("", "19950815", "F"), None, "anonymised disc"),
    Case("anonymous", disc("ANONYMOUS", "19950815", "F"), None, "placeholder name"),
    # --- sex ----------------------------------------------------------------------
    Case("sex-mismatch", disc("PATEL^PRIYA", "19950815", "M"), "M031", "sex wrong on the disc"),
    Case("sex-other", disc("PATEL^PRIYA", "19950815", "O"), "M031", "sex O"),
    # --- absent patients ------------------------------------------------------
    Case("absent", disc("GREEN^OLIVER", "19880202", "M"), None, "not on the worklist"),
    Case(
        "absent-same-dob",
        disc("PARKER^LISA", "19950815", "F"),
        None,
        "someone else with the same DOB and sex",
    ),
    Case(
        "absent-namesake",
        disc("DAVIS^SARAH", "19600101", "F"),
        None,
        "namesake with another DOB",
    ),
    Case(
        "absent-relative",
        disc("MULLER^HANS", "19550312", "M"),
        None,
        "same family name and DOB, other given name",
    ),
    Case(
        "absent-typo-twin",
        disc("ANDERSON^ERIC", "19770707", "M"),
        None,
        "a near name with the same DOB remains",
        drop=("M021",),
    ),
    Case(
        "absent-swapped-dob",
        disc("SMITH^JOHN", "19800511", "M"),
        None,
        "namesake whose DOB has day and month swapped",
        drop=("M004",),
    ),
    # --- orders, modality, dates -----------------------------------------------
    Case(
        "two-orders-ct",
        disc("BROWN^ROBERT", "19500505", "M", ("CT",)),
        "M027",
        "two orders; ROBERTA too",
        must_review=True,
    ),
    Case(
        "two-orders-mr",
        disc("BROWN^ROBERT", "19500505", "M", ("MR",)),
        "M027",
        "MR order fits",
        must_review=True,
    ),
    Case(
        "two-orders-no-roberta",
        disc("BROWN^ROBERT", "19500505", "M", ("MR",)),
        "M027",
        "MR order chosen by modality",
        drop=("M036",),
    ),
    Case(
        "two-orders-us",
        disc("BROWN^ROBERT", "19500505", "M", ("US",)),
        "M027",
        "neither order's modality fits: choose by hand",
        must_review=True,
        drop=("M036",),
    ),
    Case(
        "order-other-modality",
        disc("DAVIS^SARAH", "19920412", "F", ("CR",)),
        "M953",
        "the patient's only order is for a CT, the disc holds a CR",
        must_review=True,
        drop=("M038",),
        add=(order("M953", "DAVIS^SARAH", "19920412", "F", modality="CT"),),
    ),
    Case(
        "study-today",
        disc("DAVIS^SARAH", "19920412", "F", ("MR",), "20260310"),
        "M038",
        "study date equals scheduled date",
    ),
    Case(
        "kid-parent",
        disc("NGUYEN^VAN AN", "20120909", "M"),
        None,
        "a son with the father's name",
    ),
    Case("nguyen", disc("NGUYEN^VAN AN", "19880909", "M"), "M008", "multi-word given"),
    Case("nguyen-swapped", disc("VAN AN^NGUYEN", "19880909", "M"), "M008", "swapped multi-word"),
    # --- more hazards ------------------------------------------------------------
    Case(
        "twin-absent",
        disc("MOREAU^ANNA", "20050505", "F"),
        None,
        "only the twin sister ANNE has an order",
        add=(order("M950", "MOREAU^ANNE", "20050505", "F"),),
    ),
    Case(
        "twin-absent-initial",
        disc("MOREAU^L", "20050505", "F"),
        None,
        "an initial that is not the twin's",
        add=(order("M950", "MOREAU^ANNE", "20050505", "F"),),
    ),
    Case(
        "short-form",
        disc("MEYER^ALEX", "19810303", "M"),
        "M951",
        "short form of the given name",
        add=(order("M951", "MEYER^ALEXANDER", "19810303", "M"),),
    ),
    Case("no-sex", disc("PATEL^PRIYA", "19950815", ""), "M031", "no sex on the disc"),
    Case("dob-garbage", disc("PATEL^PRIYA", "UNKNOWN", "F"), "M031", "unreadable DOB"),
    Case(
        "comma-accents-lower",
        disc("garcía lópez, maría josé", "19910227", "F"),
        "M007",
        "comma, lower case, accents",
    ),
    Case(
        "wl-lower-case",
        disc("SINGH^ARJUN", "19940808", "M"),
        "M952",
        "the worklist writes mixed case",
        add=(order("M952", "Singh^Arjun", "19940808", "M"),),
    ),
)


@dataclass(frozen=True)
class CaseResult:
    """What the matcher did with one case."""

    case: Case
    decision: str
    top: str | None

    @property
    def wrong_auto(self) -> bool:
        """An automatic match to the wrong patient (or to anyone, when nobody is right)."""
        return self.decision == "auto" and self.top != self.case.right

    @property
    def unsafe_auto(self) -> bool:
        """An automatic match where a person had to look (twins, duplicates)."""
        return self.decision == "auto" and self.case.must_review

    @property
    def top1(self) -> bool:
        """The first candidate is the right patient; for an absent patient, nothing is plausible."""
        if self.case.right is None:
            return self.decision == "none"
        return self.decision != "none" and self.top == self.case.right


def evaluate(rules: MatchRules | None = None, cases: tuple[Case, ...] = CASES) -> list[CaseResult]:
    """Run the matcher on every case (the Latin set unless ``cases`` is given)."""
    results = []
    for case in cases:
        decision = match(case.disc, case.worklist(), rules)
        top = decision.candidates[0].item.mrn if decision.candidates else None
        results.append(CaseResult(case, decision.outcome.value, top))
    return results


# --------------------------------------------------------------------------
# Names in every script: a worklist of hospitals in Japan, Korea, Russia and
# Greece (or treating their patients), and discs in those character sets.
# --------------------------------------------------------------------------

SCRIPT_BASE: tuple[WorklistItem, ...] = (
    order("J001", "YAMADA^TARO=山田^太郎=やまだ^たろう", "19700101", "M"),
    order("J002", "=山田^秀樹=やまだ^ひでき", "19800202", "M"),
    order("J003", "=山田^秀樹=やまだ^しゅうき", "19800202", "M"),  # same kanji, other reading
    order("J004", "=佐藤^修=さとう^おさむ", "19650505", "M"),
    order("J005", "SUZUKI^ICHIRO=鈴木^一郎=すずき^いちろう", "19500315", "M"),
    order("J006", "=高橋^花子=たかはし^はなこ", "19881111", "F"),
    order("J007", "=高橋^花子=たかはし^はなこ", "19920606", "F"),  # namesake
    order("J008", "=伊藤^俊=いとう^しゅん", "19770707", "M"),
    order("J009", "=大野^翔太=おおの^しょうた", "20010808", "M"),
    order("J010", "=中村^陽菜=なかむら^ひな", "20100101", "F"),  # twins
    order("J011", "=中村^陽葵=なかむら^ひまり", "20100101", "F"),
    order("R001", "IVANOV^SERGEY", "19750310", "M"),
    order("R002", "Фёдоров^Юрий^Петрович", "19601224", "M"),
    order("R003", "Смирнова^Ольга", "19830419", "F"),
    order("R004", "KUZNETSOV^ALEXEY", "19900909", "M"),
    order("R005", "Иванова^Мария", "19770202", "F"),
    order("R006", "Попов^Дмитрий", "19990101", "M"),
    order("R007", "Попов^Дмитрий", "19690315", "M"),  # namesake
    order("G001", "PAPADOPOULOS^GEORGIOS", "19720606", "M"),
    order("G002", "Παπαδοπούλου^Ελένη", "19740707", "F"),
    order("G003", "Νικολάου^Χρήστος", "19680808", "M"),
    order("K001", "박^지훈", "19910312", "M"),
    order("K002", "LEE^SEUNGHO", "19850101", "M"),
    order("K003", "김^민준", "20000505", "M"),
    order("K004", "CHOI^YUNA", "19950606", "F"),
    order("K005", "정^수빈", "19970707", "F"),  # twins
    order("K006", "정^수민", "19970707", "F"),
    order("K007", "KIM^MINJUN", "19800808", "M"),  # namesake of K003
    order("K008", "남궁^민수", "19660606", "M"),
)


def sdisc(name: str, dob: str = "", sex: str = "") -> DiscPatient:
    """A disc patient of the multi-script set."""
    return disc(name, dob, sex)


def misread(
    name: str, codec: str, dob: str = "", sex: str = "", declared: str | None = None
) -> DiscPatient:
    """A disc patient whose name was written in ``codec`` but read as ISO 8859-1 (no
    Specific Character Set, or ``declared``), with the guessed readings the disc reader
    gives the matcher (:func:`kiosk.media.charsets.guessed_names`)."""
    from kiosk.media.charsets import guessed_names

    raw = name.encode(codec)
    d = sdisc(raw.decode("latin-1"), dob, sex)
    guesses = guessed_names(raw, [declared] if declared else [])
    return DiscPatient(d.patient_name, d.birth_date, d.sex, d.modalities, d.study_date, guesses)


def _script(case_id: str, d: DiscPatient, right: str | None, what: str, **kw: object) -> Case:
    return Case(case_id, d, right, what, base=SCRIPT_BASE, **kw)  # type: ignore[arg-type]


SCRIPT_CASES: tuple[Case, ...] = (
    # --- Japanese ---------------------------------------------------------------
    _script(
        "j-three-groups",
        sdisc("YAMADA^TARO=山田^太郎=やまだ^たろう", "19700101", "M"),
        "J001",
        "romaji, kanji and kana",
    ),
    _script(
        "j-kanji-kana", sdisc("=山田^太郎=やまだ^たろう", "19700101", "M"), "J001", "no romaji"
    ),
    _script("j-romaji-ou", sdisc("YAMADA^TAROU", "19700101", "M"), "J001", "romaji, long vowel"),
    _script("j-half-width", sdisc("ﾔﾏﾀﾞ^ﾀﾛｳ", "19700101", "M"), "J001", "half-width katakana"),
    _script("j-katakana", sdisc("ヤマダ^タロウ", "19700101", "M"), "J001", "full-width katakana"),
    _script(
        "j-two-readings",
        sdisc("=山田^秀樹=やまだ^ひでき", "19800202", "M"),
        "J002",
        "one kanji name with two readings, same birth date",
        must_review=True,
    ),
    _script(
        "j-other-reading",
        sdisc("=山田^秀樹=やまだ^ひでき", "19800202", "M"),
        "J003",
        "the only order has the same kanji read otherwise: a kana mistake, or someone else",
        must_review=True,
        drop=("J002",),
    ),
    _script(
        "j-shu-equals-byte",
        sdisc("SATO^OSAMU=佐藤^修=さとう^おさむ", "19650505", "M"),
        "J004",
        "修: its JIS code holds '='",
    ),
    _script("j-shun", sdisc("=伊藤^俊=いとう^しゅん", "19770707", "M"), "J008", "俊"),
    _script("j-kunrei", sdisc("ONO^SYOTA", "20010808", "M"), "J009", "Kunrei-shiki"),
    _script("j-hepburn-oh", sdisc("OHNO^SHOTA", "20010808", "M"), "J009", "long vowel OH"),
    _script("j-hepburn-oo", sdisc("OONO^SHOUTA", "20010808", "M"), "J009", "long vowel OO/OU"),
    _script("j-romaji-group", sdisc("SUZUKI^ICHIRO", "19500315", "M"), "J005", "romaji only"),
    _script(
        "j-namesake",
        sdisc("=高橋^花子=たかはし^はなこ", "19881111", "F"),
        "J006",
        "two patients with one name, birth date decides",
    ),
    _script(
        "j-namesake-no-dob",
        sdisc("=高橋^花子=たかはし^はなこ", "", "F"),
        "J006",
        "two patients with one name, no birth date",
        must_review=True,
    ),
    _script(
        "j-twins",
        sdisc("=中村^陽菜=なかむら^ひな", "20100101", "F"),
        "J010",
        "twins",
        must_review=True,
    ),
    _script(
        "j-absent", sdisc("=田中^健=たなか^けん", "19700101", "M"), None, "not on the worklist"
    ),
    _script(
        "j-kanji-vs-romaji",
        sdisc("=鈴木^一郎", "19500315", "M"),
        "J005",
        "kanji only on the disc; the worklist also has kanji",
    ),
    # --- Russian ------------------------------------------------------------------
    _script("r-cyrillic-disc", sdisc("Иванов^Сергей", "19750310", "M"), "R001", "Cyrillic disc"),
    _script(
        "r-unstructured",
        sdisc("Сергей Иванов", "19750310", "M"),
        "R001",
        "Cyrillic without ^, given name first",
    ),
    _script("r-icao", sdisc("FEDOROV^IURII", "19601224", "M"), "R002", "ICAO 9303 spelling"),
    _script(
        "r-bgn",
        sdisc("FYODOROV^YURY^PETROVICH", "19601224", "M"),
        "R002",
        "BGN spelling with patronymic",
    ),
    _script("r-smirnova", sdisc("SMIRNOVA^OLGA", "19830419", "F"), "R003", "soft sign dropped"),
    _script("r-alexey", sdisc("Кузнецов^Алексей", "19900909", "M"), "R004", "ALEXEY = Алексей (x)"),
    _script(
        "r-married",
        sdisc("Петрова^Мария", "19770202", "F"),
        "R005",
        "a married surname",
        clear=False,
    ),
    _script("r-namesake", sdisc("POPOV^DMITRY", "19990101", "M"), "R006", "namesake, DOB decides"),
    _script(
        "r-namesake-no-dob",
        sdisc("Попов^Дмитрий", "", "M"),
        "R006",
        "two patients with one name, no birth date",
        must_review=True,
    ),
    _script(
        "r-no-dob-unique",
        sdisc("Смирнова^Ольга", "", "F"),
        "R003",
        "a non-ASCII name without birth date: a candidate for review",
        clear=False,
    ),
    _script(
        "r-undeclared",
        misread("Иванов^Сергей", "cp1251", "19750310", "M"),
        "R001",
        "cp1251 bytes read as Latin-1 (charset-undeclared)",
        clear=False,
    ),
    _script("r-absent", sdisc("Соколов^Андрей", "19750310", "M"), None, "not on the worklist"),
    # --- Greek ----------------------------------------------------------------------
    _script(
        "g-greek-disc",
        sdisc("Παπαδόπουλος^Γεώργιος", "19720606", "M"),
        "G001",
        "Greek disc, Latin worklist",
    ),
    _script("g-elot", sdisc("PAPADOPOULOU^ELENI", "19740707", "F"), "G002", "ELOT 743"),
    _script("g-chi", sdisc("NIKOLAOU^CHRISTOS", "19680808", "M"), "G003", "χ as CH"),
    _script("g-chi-h", sdisc("NIKOLAOU^HRISTOS", "19680808", "M"), "G003", "χ as H"),
    # --- Korean ---------------------------------------------------------------------
    _script("k-park", sdisc("PARK^JIHOON", "19910312", "M"), "K001", "PARK, JIHOON"),
    _script("k-bak-rr", sdisc("BAK^JIHUN", "19910312", "M"), "K001", "Revised Romanization"),
    _script("k-lee", sdisc("이^승호", "19850101", "M"), "K002", "이 = LEE"),
    _script("k-lee-no-caret", sdisc("이승호", "19850101", "M"), "K002", "Hangul without ^"),
    _script(
        "k-kim-no-caret",
        sdisc("김민준", "20000505", "M"),
        "K003",
        "without ^; a namesake in Latin with another DOB",
    ),
    _script(
        "k-kim-no-dob",
        sdisc("김민준", "", "M"),
        "K003",
        "two Kim Minjun, no birth date",
        must_review=True,
    ),
    _script("k-choi", sdisc("최^유나", "19950606", "F"), "K004", "최 = CHOI"),
    _script("k-twins", sdisc("정^수빈", "19970707", "F"), "K005", "twins", must_review=True),
    _script("k-namgoong", sdisc("남궁민수", "19660606", "M"), "K008", "two-syllable surname"),
    _script(
        "k-hanja-groups",
        sdisc("PARK^JI HOON=朴^智勳=박^지훈", "19910312", "M"),
        "K001",
        "three groups: Latin, hanja, Hangul",
    ),
    _script("k-absent", sdisc("한^지민", "19910312", "F"), None, "not on the worklist"),
)


# --------------------------------------------------------------------------
# A second multi-script set, written after the rules and run once to measure
# them on names they were not written against (benchmarks/match_quality.py).
# --------------------------------------------------------------------------

UNSEEN_BASE: tuple[WorklistItem, ...] = (
    order("U001", "さいとう^けんいち", "19720301", "M"),
    order("U002", "=加藤^優子=かとう^ゆうこ", "19800412", "F"),
    order("U003", "ホンダ^シンイチ", "19661130", "M"),
    order("U004", "=松本^潤=まつもと^じゅん", "19830817", "M"),
    order("U005", "=服部^隆=はっとり^たかし", "19590909", "M"),
    order("U006", "=小野^涼太=おの^りょうた", "19990101", "M"),
    order("U007", "=佐々木^翔平=ささき^しょうへい", "19880808", "M"),
    order("U008", "=佐々木^翔平=ささき^しょうへい", "19940222", "M"),  # namesake
    order("U009", "Щербаков^Илья", "19750505", "M"),
    order("U010", "ZHUKOV^YEVGENIY", "19620606", "M"),
    order("U011", "Харитонова^Татьяна", "19810707", "F"),
    order("U012", "Соловьёв^Пётр", "19540404", "M"),
    order("U013", "Цветкова^Наталья", "19900303", "F"),
    order("U014", "Цветкова^Наталия", "19900303", "F"),  # twins
    order("U015", "KOVALENKO^OLEKSANDR", "19850110", "M"),
    order("U016", "Κωνσταντινίδης^Δημήτριος", "19700220", "M"),
    order("U017", "GEORGIOU^MARIA", "19920315", "F"),
    order("U018", "Βλάχος^Ευάγγελος", "19640512", "M"),
    order("U019", "정^해원", "19930419", "F"),
    order("U020", "YOON^SEOYEON", "20000101", "F"),
    order("U021", "강^동현", "19870723", "M"),
    order("U022", "HAN^SOOJIN", "19780830", "F"),
    order("U023", "임^재혁", "19910911", "M"),
    order("U024", "SHIN^HYEJIN", "19860214", "F"),
)


def _unseen(case_id: str, d: DiscPatient, right: str | None, what: str, **kw: object) -> Case:
    return Case(case_id, d, right, what, base=UNSEEN_BASE, **kw)  # type: ignore[arg-type]


UNSEEN_CASES: tuple[Case, ...] = (
    _unseen("u-saito", sdisc("SAITO^KENICHI", "19720301", "M"), "U001", "とう as O"),
    _unseen("u-saitou", sdisc("SAITOU^KEN'ICHI", "19720301", "M"), "U001", "OU, apostrophe"),
    _unseen("u-kato", sdisc("KATO^YUKO", "19800412", "F"), "U002", "long vowels dropped"),
    _unseen("u-katou-kanji", sdisc("=加藤^優子", "19800412", "F"), "U002", "kanji only"),
    _unseen("u-honda", sdisc("HONDA^SHINICHI", "19661130", "M"), "U003", "katakana worklist"),
    _unseen("u-honda-hw", sdisc("ﾎﾝﾀﾞ^ｼﾝｲﾁ", "19661130", "M"), "U003", "half-width disc"),
    _unseen("u-matsumoto", sdisc("MATSUMOTO^JUN", "19830817", "M"), "U004", "Hepburn"),
    _unseen("u-matumoto", sdisc("MATUMOTO^ZYUN", "19830817", "M"), "U004", "Nihon-shiki"),
    _unseen("u-hattori", sdisc("HATTORI^TAKASHI", "19590909", "M"), "U005", "small tsu"),
    _unseen("u-ryota", sdisc("ONO^RYOTA", "19990101", "M"), "U006", "RYOTA"),
    _unseen("u-ryouta", sdisc("ONO^RYOUTA", "19990101", "M"), "U006", "RYOUTA"),
    _unseen("u-sasaki", sdisc("SASAKI^SHOHEI", "19880808", "M"), "U007", "namesake, DOB decides"),
    _unseen(
        "u-sasaki-no-dob",
        sdisc("SASAKI^SHOHEI", "", "M"),
        "U007",
        "namesake, no birth date",
        must_review=True,
    ),
    _unseen("u-ilya", sdisc("SHCHERBAKOV^ILYA", "19750505", "M"), "U009", "ILYA"),
    _unseen("u-ilia", sdisc("SHCHERBAKOV^ILIA", "19750505", "M"), "U009", "ICAO ILIA"),
    _unseen("u-zhukov", sdisc("Жуков^Евгений", "19620606", "M"), "U010", "YEVGENIY"),
    _unseen("u-tatiana", sdisc("KHARITONOVA^TATIANA", "19810707", "F"), "U011", "TATIANA"),
    _unseen("u-tatyana", sdisc("KHARITONOVA^TATYANA", "19810707", "F"), "U011", "TATYANA"),
    _unseen("u-solovyov", sdisc("SOLOVYOV^PYOTR", "19540404", "M"), "U012", "ьё as YO"),
    _unseen("u-solovev", sdisc("SOLOVEV^PETR", "19540404", "M"), "U012", "ICAO SOLOVEV"),
    _unseen(
        "u-twins-ru",
        sdisc("TSVETKOVA^NATALYA", "19900303", "F"),
        "U013",
        "twins NATALYA and NATALIYA",
        must_review=True,
    ),
    _unseen("u-kovalenko", sdisc("Коваленко^Олександр", "19850110", "M"), "U015", "Ukrainian"),
    _unseen(
        "u-dimitrios",
        sdisc("KONSTANTINIDIS^DIMITRIOS", "19700220", "M"),
        "U016",
        "ντ, η",
    ),
    _unseen("u-maria", sdisc("Γεωργίου^Μαρία", "19920315", "F"), "U017", "Greek disc"),
    _unseen("u-evangelos", sdisc("VLACHOS^EVANGELOS", "19640512", "M"), "U018", "ευ, γγ"),
    _unseen("u-haewon", sdisc("JUNG^HAEWON", "19930419", "F"), "U019", "JUNG"),
    _unseen("u-seoyeon", sdisc("윤서연", "20000101", "F"), "U020", "no ^, YOON"),
    _unseen("u-donghyun", sdisc("KANG^DONGHYUN", "19870723", "M"), "U021", "HYUN"),
    _unseen("u-soojin", sdisc("한^수진", "19780830", "F"), "U022", "SOOJIN"),
    _unseen("u-jaehyuk", sdisc("LIM^JAEHYUK", "19910911", "M"), "U023", "LIM, HYUK"),
    _unseen("u-hyejin", sdisc("신^혜진", "19860214", "F"), "U024", "HYEJIN"),
    _unseen("u-absent-ru", sdisc("Морозов^Иван", "19750505", "M"), None, "not on the worklist"),
    _unseen("u-absent-ko", sdisc("강^민호", "19870723", "M"), None, "same DOB, other name"),
    _unseen(
        "u-kanji-only-vs-kana",
        sdisc("=斎藤^健一", "19720301", "M"),
        "U001",
        "kanji on the disc, kana only on the worklist: no reading is guessed",
        clear=False,
    ),
)


# --------------------------------------------------------------------------
# A held-out multi-script set, written before the rules for Latin spellings
# of foreign names, guessed character sets and names that cannot be compared,
# and measured once before and once after them (benchmarks/match_quality.py).
# --------------------------------------------------------------------------

HELDOUT_BASE: tuple[WorklistItem, ...] = (
    order("H001", "Волков^Павел", "19680412", "M"),
    order("H002", "KUZNETSOV^SERGEY", "19790101", "M"),
    order("H003", "ORLOVA^YULIYA", "19850505", "F"),
    order("H004", "Белова^Анна", "19910707", "F"),
    order("H005", "Белова^Анна", "19600303", "F"),  # namesake
    order("H006", "GROMOV^ALEKSEI", "19720202", "M"),
    order("H007", "Лебедев^Фёдор", "19550909", "M"),
    order("H008", "Козлова^Дарья", "20050606", "F"),  # twins
    order("H009", "Козлова^Дария", "20050606", "F"),
    order("H010", "Ткаченко^Оксана", "19810303", "F"),
    order("H011", "Σταυρόπουλος^Αθανάσιος", "19630808", "M"),
    order("H012", "KARAGIANNI^CHRYSOULA", "19770404", "F"),
    order("H013", "Μιχαηλίδης^Φίλιππος", "19880110", "M"),
    order("H014", "=渡辺^大輔=わたなべ^だいすけ", "19750115", "M"),
    order("H015", "=小林^恵子=こばやし^けいこ", "19690620", "F"),
    order("H016", "コウノ^ユウキ", "19930909", "M"),
    order("H017", "=大島^正=おおしま^ただし", "19521010", "M"),
    order("H018", "=藤田^千尋=ふじた^ちひろ", "19990303", "F"),
    order("H019", "=村上^春樹=むらかみ^はるき", "19490112", "M"),
    order("H020", "=村上^春樹=むらかみ^はるき", "19800112", "M"),  # namesake
    order("H021", "윤^지호", "19880808", "M"),
    order("H022", "PARK^SOYEON", "19900214", "F"),
    order("H023", "이^서준", "20030303", "M"),  # twins
    order("H024", "이^서진", "20030303", "M"),
    order("H025", "CHOE^MINHO", "19760707", "M"),
    order("H026", "CARTER^JON", "19810909", "M"),
    order("H027", "Смирнов^Игорь", "19700520", "M"),
    order("H028", "Соколова^Елена", "19840101", "F"),
    order("H029", "OKAFOR^JOHN", "19870303", "M"),
)


def _held(case_id: str, d: DiscPatient, right: str | None, what: str, **kw: object) -> Case:
    return Case(case_id, d, right, what, base=HELDOUT_BASE, **kw)  # type: ignore[arg-type]


HELDOUT_CASES: tuple[Case, ...] = (
    # --- Cyrillic: Latin spellings of one Russian name ------------------------------
    _held("h-volkov", sdisc("VOLKOV^PAVEL", "19680412", "M"), "H001", "Latin disc, Cyrillic WL"),
    _held(
        "h-kuznecov",
        sdisc("KUZNECOV^SERGEJ", "19790101", "M"),
        "H002",
        "GOST-style spelling against an ICAO/BGN one",
    ),
    _held("h-iuliia", sdisc("ORLOVA^IULIIA", "19850505", "F"), "H003", "ICAO against BGN"),
    _held("h-alexey", sdisc("GROMOV^ALEXEY", "19720202", "M"), "H006", "ALEXEY against ALEKSEI"),
    _held(
        "h-alexey-no-dob",
        sdisc("GROMOV^ALEXEY", "", "M"),
        "H006",
        "no birth date: a candidate for review",
        clear=False,
    ),
    _held("h-fyodor", sdisc("LEBEDEV^FYODOR", "19550909", "M"), "H007", "ё as YO"),
    _held("h-fedor-e", sdisc("Лебедев^Федор", "19550909", "M"), "H007", "ё written е"),
    _held(
        "h-twins-darya",
        sdisc("KOZLOVA^DARYA", "20050606", "F"),
        "H008",
        "twins Дарья and Дария",
        must_review=True,
    ),
    _held(
        "h-twins-darya-absent",
        sdisc("KOZLOVA^DARYA", "20050606", "F"),
        None,
        "only the twin Дария has an order",
        drop=("H008",),
    ),
    _held("h-tkachenko", sdisc("TKACHENKO^OKSANA", "19810303", "F"), "H010", "Ukrainian"),
    _held(
        "h-namesake-no-dob",
        sdisc("BELOVA^ANNA", "", "F"),
        "H004",
        "two patients with one name, no birth date",
        must_review=True,
    ),
    _held("h-belova", sdisc("BELOVA^ANNA", "19910707", "F"), "H004", "namesake, DOB decides"),
    _held(
        "h-married",
        sdisc("Морозова^Елена", "19840101", "F"),
        "H028",
        "a married surname",
        clear=False,
    ),
    _held("h-absent-ru", sdisc("Новиков^Олег", "19700520", "M"), None, "same DOB, other name"),
    # --- undeclared or wrong character sets ------------------------------------------------
    _held(
        "h-undeclared-cp1251",
        misread("Волков^Павел", "cp1251", "19680412", "M"),
        "H001",
        "cp1251 bytes, no Specific Character Set",
        clear=False,
    ),
    _held(
        "h-wrong-cp1251",
        misread("Белова^Анна", "cp1251", "19910707", "F", "ISO_IR 100"),
        "H004",
        "cp1251 bytes declared ISO_IR 100; a namesake with another DOB",
        clear=False,
    ),
    _held(
        "h-undeclared-greek",
        misread("Σταυρόπουλος^Αθανάσιος", "iso8859_7", "19630808", "M"),
        "H011",
        "ISO 8859-7 bytes, no Specific Character Set",
        clear=False,
    ),
    # --- Greek --------------------------------------------------------------------------
    _held(
        "h-stavropoulos",
        sdisc("STAVROPOULOS^ATHANASIOS", "19630808", "M"),
        "H011",
        "ELOT 743",
    ),
    _held(
        "h-greek-disc",
        sdisc("Καραγιάννη^Χρυσούλα", "19770404", "F"),
        "H012",
        "Greek disc, Latin worklist",
    ),
    _held("h-mihailidis", sdisc("MIHAILIDIS^FILIPPOS", "19880110", "M"), "H013", "χ as H"),
    _held(
        "h-hrysoula",
        sdisc("KARAGIANNI^HRYSOULA", "19770404", "F"),
        "H012",
        "two Latin spellings of Χρυσούλα",
    ),
    # --- Japanese -----------------------------------------------------------------------
    _held("h-watanabe", sdisc("WATANABE^DAISUKE", "19750115", "M"), "H014", "Hepburn"),
    _held("h-watanabe-kanji", sdisc("=渡辺^大輔", "19750115", "M"), "H014", "kanji only"),
    _held("h-kobayasi", sdisc("KOBAYASI^KEIKO", "19690620", "F"), "H015", "Kunrei"),
    _held("h-kono-hw", sdisc("ｺｳﾉ^ﾕｳｷ", "19930909", "M"), "H016", "half-width katakana"),
    _held("h-kohno", sdisc("KOHNO^YUKI", "19930909", "M"), "H016", "OH, long vowels dropped"),
    _held("h-ohshima", sdisc("OHSHIMA^TADASHI", "19521010", "M"), "H017", "OH for おお"),
    _held("h-osima", sdisc("OSIMA^TADASI", "19521010", "M"), "H017", "Kunrei, long vowel O"),
    _held("h-huzita", sdisc("HUZITA^TIHIRO", "19990303", "F"), "H018", "Kunrei/Nihon-shiki"),
    _held(
        "h-murakami-no-dob",
        sdisc("=村上^春樹=むらかみ^はるき", "", "M"),
        "H019",
        "two patients with one name, no birth date",
        must_review=True,
    ),
    _held(
        "h-kanji-vs-katakana",
        sdisc("=河野^勇気", "19930909", "M"),
        "H016",
        "kanji on the disc, katakana only on the worklist",
        clear=False,
    ),
    _held("h-absent-ja", sdisc("NAKAMURA^KENJI", "19750115", "M"), None, "same DOB, other name"),
    # --- Korean ---------------------------------------------------------------------------
    _held("h-yoon", sdisc("YOON^JIHO", "19880808", "M"), "H021", "YOON"),
    _held("h-park-hangul", sdisc("박^소연", "19900214", "F"), "H022", "Hangul disc"),
    _held("h-bak", sdisc("BAK^SOYEON", "19900214", "F"), "H022", "BAK against PARK"),
    _held("h-choi", sdisc("CHOI^MINHO", "19760707", "M"), "H025", "CHOI against CHOE"),
    _held(
        "h-twins-ko",
        sdisc("이서준", "20030303", "M"),
        "H023",
        "twins 서준 and 서진, no ^",
        must_review=True,
    ),
    # --- English spellings that must stay apart -----------------------------------------
    _held(
        "h-john-jon",
        sdisc("CARTER^JOHN", "19810909", "M"),
        "H026",
        "JOHN against JON: not one name in any standard",
        clear=False,
    ),
    _held("h-okafor", sdisc("OKAFOR^JOHN", "19870303", "M"), "H029", "plain Latin"),
)


# --------------------------------------------------------------------------
# Look-alikes: the family name and birth date of a relative or twin, another
# given name. Written with the look-alike rule (a given name that plainly
# differs is named, never proposed) and measured once, to show both sides of
# it: an absent twin is no longer proposed, and a true patient whose given name
# is written differently (a nickname, the middle name used, an English name)
# is no longer proposed either (the clerk sees the MRN in the warning).
# --------------------------------------------------------------------------

LOOKALIKE_BASE: tuple[WorklistItem, ...] = (
    *BASE,
    order("L001", "김^민준", "19900505", "M"),
    order("L002", "=中村^陽菜=なかむら^ひな", "20100101", "F"),
    order("L003", "Петрова^Анна", "19880808", "F"),
    order("L004", "NOVAK^TOMAS", "19770303", "M"),
)


def _look(case_id: str, d: DiscPatient, right: str | None, what: str, **kw: object) -> Case:
    return Case(case_id, d, right, what, base=LOOKALIKE_BASE, **kw)  # type: ignore[arg-type]


LOOKALIKE_CASES: tuple[Case, ...] = (
    # --- absent twins and relatives: nobody is to be proposed -------------------------
    _look(
        "l-twin-absent-m",
        disc("MARTIN^LOUIS", "20150610", "M"),
        None,
        "only LUCAS and LEA",
        drop=("M010",),
    ),
    _look(
        "l-twin-absent-ja",
        sdisc("=中村^結衣=なかむら^ゆい", "20100101", "F"),
        None,
        "only the twin 陽菜 has an order",
    ),
    _look("l-twin-absent-ko", sdisc("김^민수", "19900505", "M"), None, "only 민준"),
    _look("l-sister-ru", sdisc("PETROVA^MARIYA", "19880808", "F"), None, "only Анна"),
    _look("l-brother", disc("NOVAK^PETR", "19770303", "M"), None, "only TOMAS, same DOB"),
    # --- the true patient, another given name: no longer proposed ----------------------
    _look("l-nickname", disc("BROWN^BOB", "19500505", "M"), "M027", "BOB for ROBERT", clear=False),
    _look(
        "l-middle-used",
        disc("SMITH^PAUL", "19620704", "M"),
        "M003",
        "goes by the middle name PAUL",
        clear=False,
    ),
    _look(
        "l-english-name",
        disc("KIM^DAVID", "19900505", "M"),
        "L001",
        "an English given name for 민준",
        clear=False,
    ),
    # --- the true patient and a look-alike both on the worklist -------------------------
    _look(
        "l-twin-present",
        disc("ROSSI^GIULIA", "19930303", "F"),
        "M023",
        "GIULIO has the same DOB",
        must_review=True,
    ),
    _look("l-initial", disc("NOVAK^T", "19770303", "M"), "L004", "an initial that fits"),
    _look(
        "l-short", disc("DUPONT^JEAN", "19480101", "M"), "M018", "JEAN for JEAN-PIERRE", clear=False
    ),
)
