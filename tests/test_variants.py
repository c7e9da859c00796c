"""Two Latin spellings of one foreign name (reconcile.variants) and the matcher's use of them.

Equal only where one native spelling gives both by whole standards; English
spellings that collide stay apart; and a variant spelling never decides
between twins or two patients with one name.
"""

from __future__ import annotations

import time

import pytest

from reconcile.match import DiscPatient, Outcome, match, score, score_names
from reconcile.model import WorklistItem
from reconcile.variants import same_name, similar
from tests.match_cases import (
    CASES,
    HELDOUT_CASES,
    LOOKALIKE_CASES,
    SCRIPT_CASES,
    UNSEEN_CASES,
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


def wl(name: str, dob: str = "19700101", sex: str = "M", mrn: str = "M1") -> WorklistItem:
    return WorklistItem(
        mrn=mrn,
        issuer="H",
        accession_number=f"A{mrn}",
        patient_name=name,
        birth_date=dob,
        sex=sex,
        requested_procedure="IMPORT",
        scheduled_date="20260310",
        modality="OT",
    )


def disc(name: str, dob: str = "19700101", sex: str = "M") -> DiscPatient:
    return DiscPatient(name, dob, sex, ("CT",), "20260301")


@pytest.mark.parametrize(
    ("a", "b", "family", "standards"),
    [
        ("kuznecov", "kuznetsov", True, "GOST 7.79-2000 B and ICAO 9303"),
        ("sergei", "sergey", False, "ICAO 9303 and BGN/PCGN"),
        ("sergej", "sergey", False, "GOST 7.79-2000 B and BGN/PCGN"),
        ("yuriy", "iurii", False, "BGN/PCGN and ICAO 9303"),
        ("yury", "iurii", False, "usual English and ICAO 9303"),
        ("aleksei", "alexey", False, "ICAO 9303 and usual English"),
        ("fyodorov", "fedorov", True, "usual English spelling"),
        ("tatiana", "tatyana", False, "ICAO 9303 and BGN/PCGN"),
        ("christos", "hristos", False, "older passport"),
        ("ono", "ohno", True, "Hepburn"),
        ("oono", "ohno", True, "Hepburn"),
        ("shota", "syouta", False, "Hepburn and Kunrei"),
        ("homma", "honma", True, "Hepburn"),
        ("pak", "park", True, "Korean family name"),
        ("lee", "yi", True, "Korean family name"),
    ],
)
def test_standard_variants_of_one_name_are_one_name(a, b, family, standards):
    how = same_name(a, b, family=family)
    assert how is not None and standards in how


@pytest.mark.parametrize(
    ("a", "b", "family"),
    [
        ("john", "jon", False),  # JOHN is no Hepburn spelling of ジョン (OH only in family names)
        ("natalya", "nataliya", False),  # Наталья and Наталия are two names
        ("darya", "dariya", False),
        ("anna", "anne", False),
        ("giulia", "giulio", False),
        ("kelly", "kelli", False),  # the Ukrainian и = Y is not mixed with the Russian и = I
        ("smith", "smyth", True),  # Greek υ is Y in every table compared
        ("julia", "yulia", False),  # й never starts a word
        ("erik", "eric", False),
        ("lee", "yi", False),  # surname spellings, not given names
        ("kim", "gim", False),
        ("ivanov", "ivanoff", True),
    ],
)
def test_spellings_no_pair_of_standards_gives_stay_apart(a, b, family):
    assert same_name(a, b, family=family) is None


def test_korean_given_names_are_only_similar():
    assert similar("jihoon", "jihun")
    assert same_name("jihoon", "jihun", family=False) is None
    c = score(disc("PARK^JIHOON"), wl("PARK^JIHUN"))
    assert not c.name_strong
    assert any("similar" in r for r in c.reasons)


def test_a_korean_given_name_ending_in_a_vowel_is_similar_too():
    """The walk stopped before the empty final of the last syllable: 서 (SEO, SO) and any
    name ending in a vowel was never similar."""
    assert similar("so", "seo")
    assert similar("seoyeon", "soyon")
    assert not similar("ann", "anne")


def test_a_korean_given_name_in_two_words_is_compared_whole():
    c = score(disc("PAK^CHUNSO", "19880305", "M"), wl("PARK^JUN-SEO", "19880305", "M"))
    assert "given name similar (Revised Romanization / McCune-Reischauer spellings): " in (
        " ".join(c.reasons)
    )
    assert (
        match(disc("PAK^CHUNSO", "19880305", "M"), [wl("PARK^JUN-SEO", "19880305", "M")]).outcome
        is Outcome.REVIEW
    )
    # SU JIN is not SEO YEON, though SU may be a spelling of 서
    c = score(disc("LEE^SU JIN", "19920611", "F"), wl("LEE^SEO YEON", "19920611", "F"))
    assert not any("similar" in r for r in c.reasons)


def test_woo_is_a_usual_spelling_of_u():
    for latin, hangul in (("JIWOO", "지우"), ("HYUNWOO", "현우"), ("WOOJIN", "우진")):
        c = score(disc(f"LEE^{latin}", "19970315", "F"), wl(f"이^{hangul}", "19970315", "F"))
        assert c.name_strong, latin
    c = score(disc("LEE^KWOO", "19970315", "F"), wl("이^구", "19970315", "F"))
    assert not c.name_strong  # W only where no consonant stands before the vowel


def test_passport_spellings_of_young_hee_and_of_older_greek_names():
    """Found by the sixth blind set: YOUNG for 영 (ㅕ before ng written you), HEE for 희, and
    Greek ss for σ, c for κ, e for οι, as passports wrote them before ELOT 743."""
    for latin, native in (
        ("KIM^YOUNGHEE", "김^영희"),
        ("OH^JI-YOUNG", "오^지영"),
        ("VASSILIOU^EVAGGELOS", "Βασιλείου^Ευάγγελος"),
        ("ECONOMOU^DEMETRIOS", "Οικονόμου^Δημήτριος"),
        ("NICOLAOU^CONSTANTINOS", "Νικολάου^Κωνσταντίνος"),
    ):
        c = score(disc(latin, "19640229", "F"), wl(native, "19640229", "F"))
        assert c.name_strong, latin
    for latin, native in (("YOU^MIN", "여^민"), ("KIM^YOUHEE", "김^여희")):
        c = score(disc(latin, "19640229", "F"), wl(native, "19640229", "F"))
        assert not c.name_strong, latin  # you for ㅕ only before n or ng


def test_the_reason_names_the_standards_and_both_spellings():
    c = score(disc("KUZNECOV^SERGEJ"), wl("KUZNETSOV^SERGEY"))
    assert c.reasons[1:3] == (
        "family name equal via GOST 7.79-2000 B and ICAO 9303 spellings of one Cyrillic name: "
        "KUZNECOV = KUZNETSOV",
        "given name equal via GOST 7.79-2000 B and BGN/PCGN spellings of one Cyrillic name: "
        "SERGEJ = SERGEY",
    )
    assert c.name_strong
    assert match(disc("KUZNECOV^SERGEJ"), [wl("KUZNETSOV^SERGEY")]).outcome is Outcome.AUTO


def test_a_variant_never_auto_matches_a_twin():
    twins = [
        wl("ORLOVA^IULIIA", "20100101", "F", mrn="T1"),
        wl("ORLOVA^IULIANA", "20100101", "F", mrn="T2"),
    ]
    d = disc("ORLOVA^YULIYA", "20100101", "F")
    assert match(d, twins).outcome is Outcome.REVIEW
    # the twin alone on the worklist: the other name is no variant, so no automatic match
    assert match(d, twins[1:]).outcome is not Outcome.AUTO
    sisters = [wl("KOZLOVA^DARIYA", "20050606", "F", mrn="T3")]
    assert match(disc("KOZLOVA^DARYA", "20050606", "F"), sisters).outcome is not Outcome.AUTO
    brothers = [wl("CARTER^JON", "19810909", mrn="T4")]
    assert match(disc("CARTER^JOHN", "19810909"), brothers).outcome is not Outcome.AUTO


def test_a_variant_never_auto_matches_one_of_two_patients_with_one_name():
    namesakes = [wl("GROMOV^ALEKSEI", mrn="N1"), wl("GROMOV^ALEKSEI", mrn="N2")]
    assert match(disc("GROMOV^ALEXEY"), namesakes).outcome is Outcome.REVIEW
    # one spelled each way: both are the same name, so neither is chosen
    mixed = [wl("GROMOV^ALEKSEI", mrn="N1"), wl("GROMOV^ALEXEY", mrn="N2")]
    assert match(disc("GROMOV^ALEXEI"), mixed).outcome is Outcome.REVIEW
    # no birth date: review
    assert match(disc("GROMOV^ALEXEY", ""), namesakes[:1]).outcome is not Outcome.AUTO


def test_variant_walks_are_quick_on_hostile_words():
    start = time.perf_counter()
    for a, b in [("y" * 40, "i" * 40), ("ou" * 20, "o" * 39 + "x"), ("j" * 5000, "y" * 5000)]:
        same_name(a, b, family=True)
        same_name(b, a, family=False)
        similar(a, b)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize(
    "cases",
    [
        CASES,
        SCRIPT_CASES,
        UNSEEN_CASES,
        HELDOUT_CASES,
        LOOKALIKE_CASES,
        BLIND_CASES,
        BLIND2_CASES,
        BLIND3_CASES,
        BLIND4_CASES,
        BLIND5_CASES,
        BLIND6_CASES,
        BLIND7_CASES,
        BLIND8_CASES,
    ],
    ids=[
        "latin-1",
        "written-with",
        "unseen",
        "held-out",
        "look-alikes",
        "blind",
        "blind-2",
        "blind-3",
        "blind-4",
        "blind-5",
        "blind-6",
        "blind-7",
        "blind-8",
    ],
)
def test_no_set_has_a_wrong_or_unsafe_automatic_match(cases):
    results = evaluate(cases=cases)
    assert [r.case.id for r in results if r.wrong_auto] == []
    assert [r.case.id for r in results if r.unsafe_auto] == []


# --- names read in a guessed character set, and names that cannot be compared ----------


def test_a_guessed_reading_ranks_candidates_and_never_decides():
    misread = "Волков^Павел".encode("cp1251").decode("latin-1")
    d = DiscPatient(misread, "19680412", "M", ("CT",), "", ("Волков^Павел",))
    decision = match(d, [wl("Волков^Павел", "19680412", mrn="V1"), wl("PETROV^IVAN", "19680412")])
    assert decision.outcome is Outcome.REVIEW
    assert decision.candidates[0].item.mrn == "V1"
    assert decision.candidates[0].name_guessed
    assert decision.candidates[0].reasons[1].startswith("name read as a guess (Волков^Павел)")
    assert "guessed character set" in decision.why
    # without the guess, nothing is found by name
    plain = match(DiscPatient(misread, "19680412", "M"), [wl("Волков^Павел", "19680412")])
    assert plain.outcome is Outcome.NONE


def test_a_guessed_reading_never_auto_matches_a_twin_or_a_namesake():
    d = DiscPatient("x", "20050606", "F", guessed_names=("Козлова^Дарья",))
    twin = [wl("Козлова^Дария", "20050606", "F", mrn="T1")]
    assert match(d, twin).outcome is not Outcome.AUTO
    namesakes = [
        wl("Козлова^Дарья", "20050606", "F", mrn="N1"),
        wl("Козлова^Дарья", "19990101", "F", mrn="N2"),
    ]
    assert match(d, namesakes).outcome is Outcome.REVIEW


def test_names_that_cannot_be_compared_are_listed_by_birth_date_and_sex_for_review():
    d = disc("=斎藤^健一", "19720301", "M")
    decision = match(d, [wl("さいとう^けんいち", "19720301", mrn="S1")])
    assert decision.outcome is Outcome.REVIEW
    assert decision.candidates[0].item.mrn == "S1"
    assert "the names could not be compared: found by birth date and sex, for review only" in (
        decision.candidates[0].reasons
    )
    # another birth date, or another sex: not listed
    assert match(d, [wl("さいとう^けんいち", "19720302", mrn="S1")]).outcome is Outcome.NONE
    assert match(d, [wl("さいとう^けんいち", "19720301", "F", mrn="S1")]).outcome is Outcome.NONE
    # no birth date: nothing to go by
    assert match(disc("=斎藤^健一", ""), [wl("さいとう^けんいち", "19720301")]).outcome is (
        Outcome.NONE
    )


@pytest.mark.parametrize(
    ("disc", "worklist"),
    [
        ("Лебедев^Федор", "Лебедев^Фёдор"),  # ё written е, in one script
        ("Семёнова^Алёна", "Семенова^Алена"),
        ("FYODOROV^PYOTR", "Федоров^Петр"),  # the Cyrillic е read as ё: Фёдоров, Пётр
    ],
)
def test_yo_written_as_ye_is_the_same_name(disc, worklist):
    found = score_names(disc, worklist)
    assert found.strong and found.points == 50, found
    assert any("ё written as е" in r or "transliteration" in r for r in found.reasons)


def test_yo_written_as_ye_never_makes_other_names_equal():
    assert not score_names("Лебедев^Федор", "Лебедева^Федора").strong  # another person
    found = score_names("Сёмин^Олег", "Семин^Олег")
    assert found.reasons[0] == "family name equal, ё written as е: Сёмин = Семин"


@pytest.mark.parametrize(
    ("disc", "worklist", "reason"),
    [
        (
            "Жаксылыкова^Айгерим",
            "Жақсылықова^Әйгерім",
            "family name equal, Kazakh letters written as Russian ones: Жаксылыкова = Жақсылықова",
        ),
        (
            "ZHAKSYLYKOVA^AIGERIM",
            "Жақсылықова^Әйгерім",
            "family name equal via ICAO 9303 of the Russian form (Kazakh letters as Russian "
            "ones): Жақсылықова = ZHAKSYLYKOVA",
        ),
    ],
)
def test_a_kazakh_name_in_russian_letters_is_the_same_name(disc, worklist, reason):
    found = score_names(disc, worklist)
    assert found.strong and found.points == 50, found
    assert found.reasons[0] == reason


def test_kazakh_letters_as_russian_ones_never_make_other_names_equal():
    # і alone is Ukrainian or Belarusian, where it is not и: Іван is not Иван
    found = score_names("Петренко^Іван", "Петренко^Иван")
    assert found.points < 50 and not any("Kazakh" in r for r in found.reasons), found
    # the folding makes Kazakh letters equal their neighbours, not any letter
    assert not score_names("Жаксылыкова^Айгерим", "Жақсылықова^Әйгүл").strong
    assert not score_names("ZHAKSYBEKOVA^AIGERIM", "Жақсылықова^Әйгерім").strong
