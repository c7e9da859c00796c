"""Name normalising and part-by-part comparison (reconcile.names)."""

from __future__ import annotations

import pytest

from reconcile.names import (
    Agreement,
    PersonName,
    compare_family,
    compare_given,
    compare_middle,
    edit_distance,
    fold,
    looks_like,
    parse,
    readings,
)


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Müller", "muller"),
        ("GARCÍA LÓPEZ", "garcia lopez"),
        ("Østergaard", "ostergaard"),
        ("Straße", "strasse"),
        ("O'Brien", "obrien"),
        ("Smith-Jones", "smith jones"),
        ("  van  der   Berg ", "van der berg"),
        ("Łukasz", "lukasz"),
        ("Ayşe", "ayse"),
    ],
)
def test_fold_drops_case_accents_and_separators(raw, folded):
    assert fold(raw) == folded


def test_fold_umlauts_as_german_transliteration():
    assert fold("Müller", umlauts=True) == "mueller"
    assert fold("Jürgen Öztürk", umlauts=True) == "juergen oeztuerk"


def test_parse_dicom_person_name():
    assert parse("DOE^JANE^MARIE^DR^PHD") == PersonName(("doe",), ("jane",), ("marie",))


def test_parse_moves_extra_given_words_to_middle():
    assert parse("JOHNSON^Mary Ann") == PersonName(("johnson",), ("mary",), ("ann",))


def test_parse_ideographic_group_uses_the_alphabetic_one():
    assert parse("KIM^JI-HOON=金^지훈") == PersonName(("kim",), ("ji",), ("hoon",))


def test_parse_comma_means_family_first():
    assert parse("Patel, Priya") == PersonName(("patel",), ("priya",), ())


def test_parse_without_caret_is_unstructured():
    name = parse("Priya Patel")
    assert name == PersonName(("priya",), ("patel",), (), structured=False)


def test_readings_of_an_unstructured_name_try_both_orders():
    got = readings("PRIYA ANN PATEL")
    assert got == [
        (
            PersonName(("priya",), ("ann",), ("patel",), structured=False),
            "name written without ^, read family name first",
        ),
        (
            PersonName(("patel",), ("priya",), ("ann",), structured=False),
            "name written without ^, read given name first",
        ),
    ]


def test_readings_of_a_structured_name_is_just_the_name():
    assert readings("DOE^JANE") == [(PersonName(("doe",), ("jane",), ()), "")]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("smith", "smith", 0),
        ("smith", "smyth", 1),
        ("taylor", "talyor", 1),  # adjacent swap is one edit
        ("patel", "patell", 1),
        ("andersen", "andersson", 2),
        ("abc", "xyz", 3),
        ("a", "abcdef", 3),  # capped at the limit
    ],
)
def test_edit_distance(a, b, distance):
    assert edit_distance(a, b) == distance


@pytest.mark.parametrize(
    ("a", "b", "agreement"),
    [
        (("doe",), ("doe",), Agreement.EQUAL),
        (("van", "der", "berg"), ("vanderberg",), Agreement.EQUAL),
        (("lopez", "garcia"), ("garcia", "lopez"), Agreement.EQUAL),
        (("smith",), ("smyth",), Agreement.TYPO),
        (("schmidt",), ("schmidt", "weber"), Agreement.PART),
        (("weber",), ("schmidt", "weber"), Agreement.PART),
        (("huber",), ("muller",), Agreement.DIFFERENT),
        (("li",), ("lu",), Agreement.DIFFERENT),  # too short for a typo
        ((), ("doe",), Agreement.MISSING),
    ],
)
def test_compare_family(a, b, agreement):
    assert compare_family(a, b) is agreement


@pytest.mark.parametrize(
    ("a", "b", "agreement"),
    [
        (("jane",), ("jane",), Agreement.EQUAL),
        (("j",), ("jane",), Agreement.INITIAL),
        (("k",), ("jane",), Agreement.DIFFERENT),
        (("anna",), ("anne",), Agreement.TYPO),
        (("alex",), ("alexander",), Agreement.SHORT),
        (("al",), ("alexander",), Agreement.DIFFERENT),
        (("peter",), ("paul",), Agreement.DIFFERENT),
        (("jane",), (), Agreement.MISSING),
    ],
)
def test_compare_given(a, b, agreement):
    assert compare_given(a, b) is agreement


@pytest.mark.parametrize(
    ("a", "b", "agreement"),
    [
        (("ann",), ("ann",), Agreement.EQUAL),
        (("j",), ("james",), Agreement.EQUAL),
        (("ann",), ("elizabeth",), Agreement.DIFFERENT),
        ((), ("ann",), Agreement.MISSING),
    ],
)
def test_compare_middle(a, b, agreement):
    assert compare_middle(a, b) is agreement


def test_looks_like_ignores_case_accents_separators_and_umlaut_spelling():
    assert looks_like("Müller^Jürgen", "MULLER^JURGEN")
    assert looks_like("Müller^Jürgen", "MUELLER^JUERGEN")
    assert not looks_like("Müller^Jürgen", "MULLER^JUTTA")


def test_titles_and_suffixes_of_free_text_names_are_dropped():
    assert parse("Mrs Jane Doe Jr").words == ("jane", "doe")
    assert parse("DR DOE").words == ("dr", "doe")  # two words: keep both
