"""Blind set 8: patient names in many scripts, with the answer a careful clerk would give.

Written on 2026-12-01 by a helper session that had not seen the matcher's rules,
its documentation, its benchmarks or any other case set, only the API of
``tests/match_cases.py`` (``order``, ``disc``, ``misread``, ``Case``). Every answer
was decided from how the names are really written (Hepburn, Kunrei and
Nihon-shiki romaji; Revised Romanization, McCune-Reischauer and everyday Korean
spellings; ICAO 9303, GOST, BGN/PCGN and national Cyrillic systems; ELOT 743,
ISO 843 and Greeklish; pinyin, Wade-Giles and Cantonese; Vietnamese with and
without diacritics; common Arabic and Hebrew transliterations), never from what
the matcher does. It is to be measured once, as it is, and not tuned against.

Groups: b8-001..020 Japanese, b8-021..035 Korean, b8-036..051 Cyrillic,
b8-052..063 Greek, b8-064..073 Chinese and Vietnamese, b8-074..078 Arabic and
Hebrew, b8-079..088 Latin-script hazards.
"""

from __future__ import annotations

from dataclasses import replace

from reconcile.match import DiscPatient
from reconcile.model import WorklistItem
from tests.match_cases import Case, disc, misread, order


def misread_as(
    name: str, codec: str, dob: str, sex: str, modalities: tuple[str, ...]
) -> DiscPatient:
    """:func:`tests.match_cases.misread` (no Specific Character Set) with the study's modality."""
    return replace(misread(name, codec, dob, sex), modalities=modalities)


BLIND8_BASE: tuple[WorklistItem, ...] = (
    # --- Japanese (ISO 2022 IR 87 / IR 13 hospitals) ----------------------------------
    order("Q101", "TANAKA^HIROSHI=田中^博=たなか^ひろし", "19620314", "M", modality="CT"),
    order("Q102", "=渡部^恭子=わたなべ^きょうこ", "19750822", "F", modality="MR"),
    order("Q103", "=伊藤^雄一=いとう^ゆういち", "19580130", "M", modality="CR"),
    order("Q104", "=大塚^洋子=おおつか^ようこ", "19690405", "F", modality="MG"),
    order("Q105", "=近藤^翔=こんどう^しょう", "19950912", "M", modality="MR"),
    order("Q106", "=藤井^千夏=ふじい^ちなつ", "19881203", "F", modality="US"),
    order("Q107", "SHIMIZU^TSUTOMU=清水^勉=しみず^つとむ", "19540710", "M", modality="CT"),
    order("Q108", "=山口^純一=やまぐち^じゅんいち", "19790218", "M", modality="NM"),
    order("Q109", "INOUE^KENJI=井上^健二=いのうえ^けんじ", "19660927", "M", modality="CT"),
    order("Q110", "=長谷川^光=はせがわ^ひかる", "19921107", "F", modality="DX"),
    order("Q111", "=佐藤^健一=さとう^けんいち", "19700505", "M", modality="CT"),
    order("Q112", "=佐藤^健一=さとう^けんいち", "19861020", "M", modality="CT"),  # namesake
    order("Q113", "=加藤^裕子=かとう^ゆうこ", "19910317", "F", modality="US"),
    order("Q114", "MORI^KAZUO", "19480620", "M", modality="CR"),
    order("Q115", "HAYASHI^MEGUMI", "19970125", "F", modality="DX"),
    order("Q116", "=松田^大和=マツダ^ヤマト", "20050303", "M", modality="US"),
    # --- Korean (IR 149 / UTF-8) ------------------------------------------------------
    order("Q201", "이^준호", "19760214", "M", modality="MR"),
    order("Q202", "PARK^MINJI", "19930830", "F", modality="US"),
    order("Q203", "최^성민", "19680903", "M", modality="CT"),
    order("Q204", "JEONG^HYUNWOO", "19990117", "M", modality="CR"),
    order("Q205", "김^은정", "19850505", "F", modality="MG"),
    order("Q206", "KWAK^DOYOON", "20010422", "M", modality="DX"),
    order("Q207", "남궁^현", "19570909", "M", modality="NM"),
    order("Q208", "선우^예진", "19940303", "F", modality="US"),
    order("Q209", "제갈^서윤", "20030715", "F", modality="MR"),
    order("Q210", "한^지우", "20120612", "M", modality="CT"),  # twins
    order("Q211", "한^지호", "20120612", "M", modality="CT"),
    order("Q212", "윤^서현", "19900414", "F", modality="MR"),
    # --- Cyrillic (ISO_IR 144 / UTF-8, or a Latin passport spelling) -----------------------
    order("Q301", "Кузьмин^Алексей^Викторович", "19710301", "M", modality="CT", acc="Q301CT"),
    order("Q301", "Кузьмин^Алексей^Викторович", "19710301", "M", modality="MR", acc="Q301MR"),
    order("Q302", "SOLOVYOVA^YEKATERINA", "19860709", "F", modality="MR"),
    order("Q303", "Шевченко^Олександр", "19800115", "M", modality="CR"),  # Ukrainian
    order("Q304", "KAVALIOU^ANDREI", "19770824", "M", modality="MR"),  # Belarusian passport
    order("Q305", "Стоянова^Цветелина", "19920610", "F", modality="US"),  # Bulgarian
    order("Q306", "Вълчев^Христо", "19590418", "M", modality="CT"),  # Bulgarian
    order("Q307", "Нұрланова^Әйгерім", "19960921", "F", modality="MR"),  # Kazakh
    order("Q308", "ZHUMABAYEV^YERLAN", "19730506", "M", modality="CR"),  # Kazakh
    order("Q309", "Соколова^Наталья", "19870216", "F", modality="MG"),
    order("Q310", "Морозов^Евгений", "19840330", "M", modality="CT"),
    order("Q311", "Белякова^Ольга^Сергеевна", "19800812", "F", modality="US"),
    order("Q312", "Щукин^Юрий", "19631105", "M", modality="NM"),
    order("Q313", "Бондаренко^Ганна", "19900228", "F", modality="DX"),  # Ukrainian
    # --- Greek (ISO_IR 126 / ELOT 743 passport spelling) -------------------------------------
    order("Q401", "Παπαγεωργίου^Ιωάννης", "19660515", "M", modality="CT"),
    order("Q402", "KYRIAKOPOULOU^AIKATERINI", "19790930", "F", modality="MR"),
    order("Q403", "Χατζηδάκης^Μιχαήλ", "19550202", "M", modality="CR"),
    order("Q404", "Σταυρίδου^Ευαγγελία", "19880717", "F", modality="US"),
    order("Q405", "Δημητρίου^Κωνσταντίνος", "19740321", "M", modality="MR"),
    order("Q406", "ΘΕΟΔΩΡΟΠΟΥΛΟΣ^ΗΛΙΑΣ", "19610611", "M", modality="CT"),
    order("Q407", "Αλεξίου^Μαρία", "19820612", "F", modality="MG"),
    # --- Chinese and Vietnamese ----------------------------------------------------------
    order("Q501", "ZHANG^XIAOMING", "19840606", "M", modality="CT"),
    order("Q502", "CHEN^DAWEN=陈^大文", "19620919", "M", modality="MR"),
    order("Q503", "王^伟", "19750412", "M", modality="CT"),
    order("Q504", "王^伟", "19881130", "M", modality="CT"),  # namesake
    order("Q505", "NGUYỄN^THỊ MINH KHAI", "19920301", "F", modality="MR"),
    order("Q506", "TRẦN^VĂN ĐỨC", "19700808", "M", modality="CT"),
    order("Q507", "PHẠM^THỊ LAN", "19951010", "F", modality="US"),
    order("Q508", "LIU^YANG=刘^洋", "19900824", "F", modality="US"),
    # --- Arabic and Hebrew ---------------------------------------------------------------
    order("Q601", "AL-RASHID^MOHAMMED", "19680101", "M", modality="CT"),
    order("Q602", "EL HUSSEINI^FATIMA", "19830722", "F", modality="MR"),
    order("Q603", "כהן^יעל", "19910505", "F", modality="US"),
    order("Q604", "LEVI^DAVID", "19500707", "M", modality="CT"),
    # --- Latin script ----------------------------------------------------------------------
    order("Q701", "FISCHER^LENA", "20180214", "F", modality="US"),  # twins
    order("Q702", "FISCHER^LEA", "20180214", "F", modality="US"),
    order("Q703", "MORENO^CARLOS", "19820909", "M", modality="CT"),
    order("Q704", "MORENO^CARLOS", "19820919", "M", modality="CT"),  # namesake, DOB 1 digit
    order("Q705", "OYELARAN^BUKOLA", "19890403", "F", modality="MR"),
    order("Q706", "HALVORSEN^KRISTIAN", "19770311", "M", modality="CR"),
    order("Q707", "PETERSEN^LARS", "19690102", "M", modality="CT"),
    order("Q708", "DUBOIS^CAMILLE", "19850412", "F", modality="MR"),
    order("Q709", "O'CONNOR^NIAMH", "19940708", "F", modality="CT", acc="Q709CT"),
    order("Q709", "O'CONNOR^NIAMH", "19940708", "F", modality="MR", acc="Q709MR"),
    order("Q710", "SANTOS^JOÃO", "19560303", "M", modality="DX"),  # father
    order("Q711", "SANTOS^JOÃO", "19860303", "M", modality="DX"),  # son
    order("Q712", "KOVÁCS^ESZTER", "19900705", "F", modality="US"),
)


BLIND8_CASES: tuple[Case, ...] = (
    # --- Japanese ---------------------------------------------------------------------
    Case(
        "b8-001",
        disc("=田中^博=たなか^ひろし", "19620314", "M", ("CT",)),
        "Q101",
        "kanji=kana on the disc, romaji=kanji=kana on the worklist",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-002",
        misread_as("TANAKA^HIROSHI=田中^博=たなか^ひろし", "iso2022_jp", "19620314", "M", ("CT",)),
        "Q101",
        "ISO 2022 IR 87 bytes, no Specific Character Set; the ASCII romaji group survives",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-003",
        disc("WATANABE^KYOKO=渡部^恭子=わたなべ^きょうこ", "19750822", "F", ("MR",)),
        "Q102",
        "three groups on the disc, kanji=kana on the worklist; 渡部 read WATANABE",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-004",
        disc("ITOH^YUICHI", "19580130", "M", ("CR",)),
        "Q103",
        "passport OH for いとう, ゆう written U",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-005",
        disc("ŌTSUKA^YŌKO", "19690405", "F", ("MG",)),
        "Q104",
        "Hepburn with macrons (UTF-8 disc)",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-006",
        disc("OOTUKA^YOUKO", "19690405", "F", ("MG",)),
        "Q104",
        "Kunrei TU, long vowels OO and OU",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-007",
        disc("KONDOU^SHOU", "19950912", "M", ("MR",)),
        "Q105",
        "long vowels written OU",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-008",
        disc("HUZII^TINATU", "19881203", "F", ("US",)),
        "Q106",
        "Kunrei HU, ZI, TI, TU",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-009",
        disc("SIMIZU^TUTOMU", "19540710", "M", ("CT",)),
        "Q107",
        "Kunrei SI/TU against a Hepburn romaji group",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-010",
        disc("YAMAGUTI^ZYUN'ITI", "19790218", "M", ("NM",)),
        "Q108",
        "Kunrei TI, ZYU and the syllable apostrophe",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-011",
        misread_as("=山口^純一=やまぐち^じゅんいち", "iso2022_jp", "19790218", "M", ("NM",)),
        "Q108",
        "ISO 2022 IR 87 bytes, no Specific Character Set, no romaji group",
        clear=False,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-012",
        disc("ｲﾉｳｴ^ｹﾝｼﾞ", "19660927", "M", ("CT",)),
        "Q109",
        "half-width katakana (ISO_IR 13) with a voiced mark",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-013",
        disc("=長谷川^光=はせがわ^ひかり", "19921107", "F", ("DX",)),
        "Q110",
        "光 read ひかり on the disc, ひかる on the worklist: a kana slip or someone else",
        clear=False,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-014",
        disc("SATO^KENICHI", "19861020", "M", ("CT",)),
        "Q112",
        "two 佐藤健一, birth date decides",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-015",
        disc("SATOU^KEN'ICHI", "", "M", ("CT",)),
        "Q111",
        "two 佐藤健一, no birth date",
        must_review=True,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-016",
        disc("KATO^YUKI", "19910318", "F", ("US",)),
        None,
        "near neighbour: 加藤裕子 (YUKO) born a day earlier",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-017",
        disc("MORI^KAZUO=森^和夫=もり^かずお", "19480620", "M", ("CR",)),
        "Q114",
        "three groups on the disc, romaji only on the worklist",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-018",
        disc("=林^恵=はやし^めぐみ", "19970125", "F", ("DX",)),
        "Q115",
        "kanji=kana on the disc, romaji only on the worklist",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-019",
        disc("ﾏﾂﾀﾞ^ﾔﾏﾄ", "20050303", "M", ("US",)),
        "Q116",
        "half-width katakana against full-width katakana phonetic group",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-020",
        disc("ITOU^YUUICHI=伊藤^雄一=いとう^ゆういち", "19580130", "M", ("CR",)),
        "Q103",
        "word-processor romaji (OU, UU) with kanji and kana",
        base=BLIND8_BASE,
    ),
    # --- Korean -----------------------------------------------------------------------
    Case(
        "b8-021",
        disc("YI^JUNHO", "19760214", "M", ("MR",)),
        "Q201",
        "이 written YI",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-022",
        disc("RHEE^JUN-HO=李^俊浩=이^준호", "19760214", "M", ("MR",)),
        "Q201",
        "RHEE, hyphenated given name, hanja and Hangul groups",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-023",
        disc("박민지", "19930830", "F", ("US",)),
        "Q202",
        "Hangul without ^ against PARK",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-024",
        disc("PAK^MIN JI", "19930830", "F", ("US",)),
        "Q202",
        "McCune-Reischauer PAK, given name spaced",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-025",
        disc("CHOE^SEONGMIN", "19680903", "M", ("CT",)),
        "Q203",
        "Revised Romanization CHOE, SEONG",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-026",
        disc("정현우", "19990117", "M", ("CR",)),
        "Q204",
        "Hangul without ^ against JEONG",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-027",
        disc("CHUNG^HYUN WOO", "19990117", "M", ("CR",)),
        "Q204",
        "CHUNG against JEONG, given name spaced",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-028",
        disc("GIM^EUNJEONG", "19850505", "F", ("MG",)),
        "Q205",
        "Revised Romanization GIM for 김",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-029",
        disc("곽도윤", "20010422", "M", ("DX",)),
        "Q206",
        "Hangul without ^ against KWAK DOYOON",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-030",
        disc("GWAK^DO-YUN", "20010422", "M", ("DX",)),
        "Q206",
        "GWAK against KWAK, YUN against YOON",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-031",
        disc("NAMKUNG^HYON", "19570909", "M", ("NM",)),
        "Q207",
        "two-syllable surname 남궁, McCune-Reischauer HYON",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-032",
        disc("SEONU^YEJIN", "19940303", "F", ("US",)),
        "Q208",
        "two-syllable surname 선우 in Revised Romanization",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-033",
        disc("제갈서윤", "20030715", "F", ("MR",)),
        "Q209",
        "two-syllable surname 제갈 without ^",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-034",
        disc("HAN^JIWOO", "20120612", "M", ("CT",)),
        "Q210",
        "twins 지우 and 지호",
        must_review=True,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-035",
        disc("윤서연", "19900411", "F", ("MR",)),
        None,
        "near neighbour: 윤서현, one syllable off, born three days later",
        base=BLIND8_BASE,
    ),
    # --- Cyrillic ---------------------------------------------------------------------
    Case(
        "b8-036",
        disc("KUZMIN^ALEKSEI", "19710301", "M", ("CT",)),
        "Q301",
        "ICAO 9303 (2013) spelling, soft sign dropped; two orders, CT fits",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-037",
        disc("KUZ'MIN^ALEKSEJ^VIKTOROVICH", "19710301", "M", ("MR",)),
        "Q301",
        "GOST 16876-71 style (ь as ', й as J) with the patronymic; MR order fits",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-038",
        disc("Соловьёва^Екатерина", "19860709", "F", ("MR",)),
        "Q302",
        "Cyrillic disc against a BGN spelling (ьё as YO, Е as YE)",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-039",
        disc("SHEVCHENKO^OLEKSANDR", "19800115", "M", ("CR",)),
        "Q303",
        "Ukrainian national transliteration",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-040",
        disc("Шевченко^Александр", "19800115", "M", ("CR",)),
        "Q303",
        "the Russian form of the Ukrainian given name Олександр",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-041",
        disc("Кавалёў^Андрэй", "19770824", "M", ("MR",)),
        "Q304",
        "Belarusian Cyrillic (ё, ў, э) against the passport spelling",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-042",
        disc("STOYANOVA^TSVETELINA", "19920610", "F", ("US",)),
        "Q305",
        "Bulgarian streamlined system (Ц as TS)",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-043",
        disc("VALCHEV^HRISTO", "19590418", "M", ("CT",)),
        "Q306",
        "Bulgarian system: Ъ as A, Х as H",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-044",
        disc("NURLANOVA^AIGERIM", "19960921", "F", ("MR",)),
        "Q307",
        "Kazakh letters ұ, ә, і in a passport spelling",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-045",
        disc("Жумабаев^Ерлан", "19730506", "M", ("CR",)),
        "Q308",
        "Russian-style Cyrillic (у for ұ) against ZHUMABAYEV^YERLAN",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-046",
        disc("SOKOLOVA^NATALIA", "19870216", "F", ("MG",)),
        "Q309",
        "feminine -OVA, ICAO ья as IA",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-047",
        disc("MOROZOVA^EVGENIYA", "19840330", "F", ("CT",)),
        None,
        "near neighbour: only the twin brother Морозов Евгений, same birth date",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-048",
        disc("Кравченко^Ольга^Сергеевна", "19800812", "F", ("US",)),
        "Q311",
        "maiden surname on the disc, married surname on the worklist",
        clear=False,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-049",
        misread_as("Щукин^Юрий", "iso8859_5", "19631105", "M", ("NM",)),
        "Q312",
        "ISO_IR 144 bytes, no Specific Character Set",
        clear=False,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-050",
        disc("ŠČUKIN^JURIJ", "19631105", "M", ("NM",)),
        "Q312",
        "Czech/scientific transliteration (Щ as ŠČ, Ю as JU)",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-051",
        disc("BONDARENKO^HANNA", "19900228", "F", ("DX",)),
        "Q313",
        "Ukrainian Г as H",
        base=BLIND8_BASE,
    ),
    # --- Greek ------------------------------------------------------------------------
    Case(
        "b8-052",
        disc("PAPAGEORGIOU^IOANNIS", "19660515", "M", ("CT",)),
        "Q401",
        "ELOT 743 against Greek",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-053",
        disc("Παπαγεωργίου^Γιάννης", "19660515", "M", ("CT",)),
        "Q401",
        "everyday Γιάννης for Ιωάννης",
        clear=False,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-054",
        disc("Κυριακοπούλου^Αικατερίνη", "19790930", "F", ("MR",)),
        "Q402",
        "Greek disc against the passport spelling",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-055",
        disc("KIRIAKOPOULOU^EKATERINI", "19790930", "F", ("MR",)),
        "Q402",
        "phonetic spelling: Υ as I, ΑΙ as E",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-056",
        disc("CHATZIDAKIS^MICHAIL", "19550202", "M", ("CR",)),
        "Q403",
        "ELOT 743: Χ as CH, Η as I",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-057",
        disc("HATZIDAKIS^MIHAIL", "19550202", "M", ("CR",)),
        "Q403",
        "Χ as H",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-058",
        disc("XATZIDAKIS^MIXAIL", "19550202", "M", ("CR",)),
        "Q403",
        "Greeklish: Χ as X",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-059",
        disc("STAVRIDOU^EVANGELIA", "19880717", "F", ("US",)),
        "Q404",
        "ELOT: ΑΥ as AV, ΕΥ as EV, ΓΓ as NG",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-060",
        disc("STAURIDOU^EUAGGELIA", "19880717", "F", ("US",)),
        "Q404",
        "ISO 843 letter-for-letter: AU, EU, GG",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-061",
        disc("DIMITRIOU^KOSTAS", "19740321", "M", ("MR",)),
        "Q405",
        "diminutive ΚΩΣΤΑΣ for Κωνσταντίνος",
        clear=False,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-062",
        disc("Θεοδωρόπουλος^Ηλίας", "19610611", "M", ("CT",)),
        "Q406",
        "accented lower case against unaccented capitals",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-063",
        disc("ALEXIOU^MARINA", "19820613", "F", ("MG",)),
        None,
        "near neighbour: Αλεξίου Μαρία, one letter off, born a day earlier",
        base=BLIND8_BASE,
    ),
    # --- Chinese and Vietnamese --------------------------------------------------------
    Case(
        "b8-064",
        disc("CHANG^HSIAO-MING=張^曉明", "19840606", "M", ("CT",)),
        "Q501",
        "Taiwanese Wade-Giles with traditional characters against pinyin",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-065",
        disc("CHAN^TAI MAN=陳^大文", "19620919", "M", ("MR",)),
        "Q502",
        "Hong Kong Cantonese romanization, traditional 陳 against simplified 陈",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-066",
        disc("WANG^WEI", "19881130", "M", ("CT",)),
        "Q504",
        "two 王伟, birth date decides",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-067",
        disc("王^伟", "", "M", ("CT",)),
        "Q503",
        "two 王伟, no birth date",
        must_review=True,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-068",
        disc("NGUYEN^THI MINH KHAI", "19920301", "F", ("MR",)),
        "Q505",
        "Vietnamese diacritics dropped",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-069",
        disc("NGUYEN^KHAI^THI MINH", "19920301", "F", ("MR",)),
        "Q505",
        "Western registration: KHAI as first name, THI MINH as middle",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-070",
        disc("TRAN^VAN DUC", "19700808", "M", ("CT",)),
        "Q506",
        "Đ as D, diacritics dropped",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-071",
        disc("Trần Văn Đức", "19700808", "M", ("CT",)),
        "Q506",
        "no ^, family name first, with diacritics",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-072",
        disc("PHAM^THI LANH", "19951011", "F", ("US",)),
        None,
        "near neighbour: PHẠM THỊ LAN (not Lành), born a day earlier",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-073",
        disc("LIU YANG", "19900824", "F", ("US",)),
        "Q508",
        "no ^, family name first",
        base=BLIND8_BASE,
    ),
    # --- Arabic and Hebrew -----------------------------------------------------------------
    Case(
        "b8-074",
        disc("ALRASHEED^MUHAMMAD", "19680101", "M", ("CT",)),
        "Q601",
        "other transliteration of الرشيد محمد, article joined",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-075",
        disc("الحسيني^فاطمة", "19830722", "F", ("MR",)),
        "Q602",
        "Arabic script against EL HUSSEINI^FATIMA",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-076",
        misread_as("الحسيني^فاطمة", "iso8859_6", "19830722", "F", ("MR",)),
        "Q602",
        "ISO_IR 127 bytes, no Specific Character Set",
        clear=False,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-077",
        disc("COHEN^YAEL", "19910505", "F", ("US",)),
        "Q603",
        "Latin disc against Hebrew (ISO_IR 138) worklist",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-078",
        disc("לוי^דניאל", "19500707", "M", ("CT",)),
        None,
        "same family name and birth date as LEVI^DAVID, given name דניאל",
        base=BLIND8_BASE,
    ),
    # --- Latin-script hazards ---------------------------------------------------------
    Case(
        "b8-079",
        disc("FISCHER^LENA", "20180214", "F", ("US",)),
        "Q701",
        "twin sisters LENA and LEA",
        must_review=True,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-080",
        disc("FISCHER^LINA", "20180214", "F", ("US",)),
        None,
        "a third sister, one letter from LENA, has no order",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-081",
        disc("MORENO^CARLOS", "19820909", "M", ("CT",)),
        "Q703",
        "two MORENO^CARLOS, birth dates one digit apart",
        must_review=True,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-082",
        disc("OYELARAN^BUKOLA", "", "F", ("MR",)),
        "Q705",
        "no birth date on the disc",
        clear=False,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-083",
        disc("HALVORSEN^KRISTIAN", "19770311", "F", ("CR",)),
        "Q706",
        "sex F on the disc for a man's name and record",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-084",
        disc("PEDERSEN^LARS", "19690104", "M", ("CT",)),
        None,
        "near neighbour: PETERSEN^LARS, one letter off, born two days earlier",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-085",
        disc("DUBOIS^CAMILLE", "19850412", "F", ("PT",)),
        "Q708",
        "the only order is an MR, the disc holds a PET study",
        must_review=True,
        base=BLIND8_BASE,
    ),
    Case(
        "b8-086",
        disc("OCONNOR^NIAMH", "19940708", "F", ("MR",)),
        "Q709",
        "apostrophe dropped; two orders, MR fits",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-087",
        disc("SANTOS^JOAO", "19860303", "M", ("DX",)),
        "Q711",
        "father and son with one name, birth year decides; Ã written A",
        base=BLIND8_BASE,
    ),
    Case(
        "b8-088",
        disc("KOVACS^ESZTER", "19900507", "F", ("US",)),
        "Q712",
        "day and month swapped on a very common Hungarian name",
        clear=False,
        base=BLIND8_BASE,
    ),
)
