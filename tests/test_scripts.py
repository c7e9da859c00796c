"""Scripts and standard transliterations (reconcile.scripts, reconcile.names groups)."""

from __future__ import annotations

import pytest

from reconcile.names import groups, native_readings
from reconcile.scripts import Script, korean_splits, native_fold, script_of, transliterates


@pytest.mark.parametrize(
    ("word", "script"),
    [
        ("Müller", Script.LATIN),
        ("Иванов", Script.CYRILLIC),
        ("Γεώργιος", Script.GREEK),
        ("지훈", Script.HANGUL),
        ("やまだ", Script.KANA),
        ("ﾔﾏﾀﾞ", Script.KANA),
        ("山田", Script.HAN),
        ("", Script.OTHER),
    ],
)
def test_script_of(word, script):
    assert script_of(word) is script


def test_kana_of_every_width_and_kind_fold_to_one_form():
    assert native_fold("ﾔﾏﾀﾞ") == native_fold("ヤマダ") == native_fold("やまだ") == "やまだ"


def test_cyrillic_keeps_short_i_and_yo():
    assert native_fold("Фёдоров Юрий") == "фёдоров юрий"


def test_groups_keep_every_component_group():
    assert groups("YAMADA^TARO=山田^太郎=やまだ^たろう") == {
        "alphabetic": "YAMADA^TARO",
        "ideographic": "山田^太郎",
        "phonetic": "やまだ^たろう",
    }
    assert groups("=山田^太郎") == {"ideographic": "山田^太郎"}


@pytest.mark.parametrize(
    ("native", "latin", "standard"),
    [
        ("иванов", "ivanov", "ICAO transliteration"),
        ("сергей", "sergei", "ICAO transliteration"),
        ("сергей", "sergey", "ICAO 9303 / GOST / BGN transliteration"),
        ("юрий", "yury", "ICAO 9303 / GOST / BGN transliteration"),
        ("юрий", "yuriy", "ICAO 9303 / GOST / BGN transliteration"),
        ("алексей", "alexey", "ICAO 9303 / GOST / BGN transliteration"),
        ("фёдоров", "fyodorov", "ICAO 9303 / GOST / BGN transliteration"),
        ("παπαδοπουλοσ", "papadopoulos", "ELOT 743 transliteration"),
        ("χρηστοσ", "hristos", "ELOT 743 transliteration"),
        ("지훈", "jihoon", "Revised Romanization / McCune-Reischauer"),
        ("지훈", "jihun", "Revised Romanization / McCune-Reischauer"),
        ("しょうた", "shota", "Hepburn / Kunrei / Nihon-shiki romanisation"),
        ("しょうた", "syouta", "Hepburn / Kunrei / Nihon-shiki romanisation"),
        ("おおの", "ohno", "Hepburn / Kunrei / Nihon-shiki romanisation"),
        ("いっちゃん", "itchan", "Hepburn / Kunrei / Nihon-shiki romanisation"),
    ],
)
def test_standard_spellings_match(native, latin, standard):
    assert transliterates(native, latin) == standard


@pytest.mark.parametrize(
    ("native", "latin", "family"),
    [
        ("иванов", "ivanoff", False),
        ("иванов", "petrov", False),
        ("山田", "yamada", False),  # kanji: no reading is guessed
        ("이", "lee", False),  # LEE is a surname spelling, not a syllable's
        ("しょうた", "shouko", False),
    ],
)
def test_other_spellings_do_not(native, latin, family):
    assert transliterates(native, latin, family=family) is None


def test_korean_surname_spellings_people_use():
    for spelling in ("lee", "yi", "rhee"):
        assert transliterates("이", spelling, family=True)
    for spelling in ("park", "pak", "bak"):
        assert transliterates("박", spelling, family=True)


def test_hangul_without_caret_is_split_as_korean_names_are():
    assert korean_splits("김민준") == [("김", "민준")]
    assert korean_splits("남궁민수") == [("남", "궁민수"), ("남궁", "민수")]
    readings = [r for r, _ in native_readings("김민준")]
    assert [(r.family, r.given) for r in readings] == [(("김",), ("민준",))]


def test_hostile_names_are_compared_quickly_and_never_raise():
    import random
    import time

    from kiosk.matching import name_queries
    from kiosk.worklist import name_matches
    from reconcile.match import score_names

    near_misses = [
        ("う" * 60, "u" * 59 + "x"),
        ("おう" * 30, "o" * 59 + "x"),
        ("ий" * 30, "i" * 59 + "q"),
        ("ь" * 64, "y" * 64 + "q"),
        ("이" * 60, "i" * 59 + "x"),
        ("й" * 5000, "j" * 5000),
    ]
    start = time.perf_counter()
    for a, b in near_misses:
        assert not score_names(a, b).strong
        score_names(b, a)
    assert time.perf_counter() - start < 2.0
    letters = "аеёийьъюяαουηγκ이박ㅇあうおっゃーｱﾞ山abhjouy^=\\ -'*?\u0301\x00\udc80"
    rng = random.Random(17)
    for _ in range(500):
        a = "".join(rng.choice(letters) for _ in range(rng.randint(0, 40)))
        b = "".join(rng.choice(letters) for _ in range(rng.randint(0, 40)))
        score_names(a, b)
        name_matches(a, b)
        name_queries(a)
