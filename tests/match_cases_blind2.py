"""A second blind test set for the matcher: Japan, Korea, Cyrillic, Greek and Latin-script names.

Written on 2026-11-30 by a helper session that had NOT seen the matcher's
rules, its documentation, its benchmarks or any other case set (only the case
API at the top of ``tests/match_cases.py``). The right answers come from how
names are really written, romanised and mis-written by registration clerks,
not from what the matcher does. It is meant to be measured once, as it is;
changing the matcher until this set passes would make it no longer blind.

``BLIND2_BASE`` is one hospital's worklist (Japanese orders with kanji, kana
and romaji groups, some kanji-only, katakana-only or half-width katakana;
Korean orders with and without Hangul; Russian, Ukrainian and Kazakh orders
in Cyrillic; Greek orders in Greek capitals; Latin-script orders with their
accents). ``BLIND2_CASES`` are disc patients against it, with the right MRN
or ``None`` when the patient is not on the worklist. ``must_review`` marks
twins, namesakes without a birth date and duplicate records; ``clear=False``
marks discs a careful person could not decide alone (no or partial birth
date, a changed surname, a nickname, a garbled name, kana against kanji).
"""

from __future__ import annotations

from tests.match_cases import Case, order, sdisc

BLIND2_BASE = (
    # --- Japan (alphabetic=ideographic=phonetic, or only some groups) ----------------
    order("C001", "SATOU^TAROU=佐藤^太郎=サトウ^タロウ", "19650412", "M"),
    order("C002", "SATOU^HANAKO=佐藤^花子=サトウ^ハナコ", "19680903", "F"),
    order("C003", "HONMA^MASAHIRO=本間^正弘=ホンマ^マサヒロ", "19520118", "M"),
    order("C004", "HATTORI^KEIKO=服部^恵子=ハットリ^ケイコ", "19730605", "F"),
    order("C005", "=髙橋^誠=タカハシ^マコト", "19811130", "M"),
    order("C006", "=渡邉^裕子", "19770214", "F"),
    order("C007", "ﾔﾏｸﾞﾁ^ｼﾞｭﾝｺ", "19581009", "F"),
    order("C008", "SHIMIZU^JUNICHI=清水^純一=シミズ^ジュンイチ", "19600301", "M"),
    order("C009", "CHIBA^TSUYOSHI=千葉^剛=チバ^ツヨシ", "19851212", "M"),
    order("C010", "OOTA^SHOUHEI=太田^翔平=オオタ^ショウヘイ", "19950505", "M"),
    order("C011", "KOUNO^MIHO=河野^美穂=コウノ^ミホ", "19880817", "F"),
    order("C012", "SUZUKI^ICHIROU=鈴木^一郎=スズキ^イチロウ", "19450915", "M"),
    order("C013", "SUZUKI^ICHIROU=鈴木^一郎=スズキ^イチロウ", "19720101", "M"),
    order("C014", "=齋藤^美月=サイトウ^ミツキ", "19930126", "F"),
    order("C015", "イノウエ^ケンジ", "19700707", "M"),
    order("C016", "OONO^KENTA=大野^健太=オオノ^ケンタ", "20100402", "M"),
    order("C017", "OONO^KENJI=大野^健二=オオノ^ケンジ", "20100402", "M"),
    order("C018", "ITOU^YUUKA=伊藤^優香=イトウ^ユウカ", "19900721", "F"),
    # --- Korea ------------------------------------------------------------------------
    order("C019", "KIM^MIN JUN=김^민준", "19870324", "M"),
    order("C020", "LEE^SEO YEON=이^서연", "19920611", "F"),
    order("C021", "박지훈", "19790808", "M"),
    order("C022", "CHOI^YOUNG HO=최^영호", "19630219", "M"),
    order("C023", "JEONG^HYE JIN=정^혜진", "19840107", "F"),
    order("C024", "KANG^DONG WON=강^동원", "19710930", "M"),
    order("C025", "신^은지", "19991215", "F"),
    order("C026", "YOON^SEUNG HO=윤^승호", "19560428", "M"),
    order("C027", "KIM^JI YOUNG=김^지영", "19850312", "F"),
    order("C028", "김지영", "19850312", "F"),
    order("C029", "PARK^SEO JUN=박^서준", "20120918", "M"),
    order("C030", "PARK^SEO JIN=박^서진", "20120918", "M"),
    # --- Russia, Ukraine, Kazakhstan (Cyrillic, patronymic in the middle) ------------
    order("C031", "Иванов^Сергей^Петрович", "19610517", "M"),
    order("C032", "Фёдорова^Анна^Викторовна", "19750822", "F"),
    order("C033", "Щербаков^Дмитрий^Александрович", "19830203", "M"),
    order("C034", "Коваленко^Олександр^Іванович", "19690711", "M"),
    order("C035", "Жуков^Юрий^Николаевич", "19480130", "M"),
    order("C036", "Ахметова^Айгуль^Нурлановна", "19860419", "F"),
    order("C037", "Смирнов^Андрей^Викторович", "19700314", "M"),
    order("C038", "Смирнова^Елена^Игоревна", "19720906", "F"),
    order("C039", "Шевченко^Дарина^Андріївна", "20080615", "F"),
    order("C040", "Шевченко^Марина^Андріївна", "20080615", "F"),
    # --- Greece -----------------------------------------------------------------------
    order("C041", "ΠΑΠΑΔΟΠΟΥΛΟΣ^ΓΕΩΡΓΙΟΣ", "19580704", "M"),
    order("C042", "ΠΑΠΑΔΟΠΟΥΛΟΥ^ΜΑΡΙΑ", "19620310", "F"),
    order("C043", "ΧΑΤΖΗΔΑΚΗΣ^ΙΩΑΝΝΗΣ", "19590227", "M"),
    order("C044", "ΦΩΤΙΑΔΟΥ^ΑΙΚΑΤΕΡΙΝΗ", "19810919", "F"),
    order("C045", "ΚΩΝΣΤΑΝΤΙΝΙΔΗΣ^ΚΩΝΣΤΑΝΤΙΝΟΣ", "19670512", "M"),
    order("C046", "ΤΣΟΥΚΑΛΑΣ^ΕΥΑΓΓΕΛΟΣ", "19530830", "M"),
    # --- Latin script -----------------------------------------------------------------
    order("C047", "MÜLLER^HANS-PETER", "19490817", "M"),
    order("C048", "SCHRÖDER^BÄRBEL", "19560203", "F"),
    order("C049", "LEFÈVRE^FRANÇOISE", "19640922", "F"),
    order("C050", "GÓMEZ MARTÍNEZ^JOSÉ LUIS", "19710605", "M"),
    order("C051", "FERNÁNDEZ RODRÍGUEZ^ANA BELÉN", "19850125", "F"),
    order("C052", "ÖZTÜRK^ŞÜKRÜ", "19600115", "M"),
    order("C053", "ÇELİK^AYŞEGÜL", "19880303", "F"),
    order("C054", "NGUYỄN^VĂN HÙNG", "19750420", "M"),
    order("C055", "NGUYỄN^THỊ LAN", "19900505", "F"),
    order("C056", "WÓJCIK^MAŁGORZATA", "19620828", "F"),
    order("C057", "LEWANDOWSKI^KRZYSZTOF", "19580311", "M"),
    order("C058", "DUBOIS^MARIE-CLAIRE", "19790613", "F"),
    order("C059", "HOFFMANN^GUDRUN", "19470312", "F"),
    order("C060", "FISCHER^ANDREAS", "19770921", "M"),
    order("C061", "TRẦN^THỊ MAI", "19830812", "F"),
    order("C062", "KILIÇ^İLKER", "19910417", "M"),
)


def _blind2(case_id: str, disc, right: str | None, what: str, **kw) -> Case:
    """One case against ``BLIND2_BASE``."""
    return Case(case_id, disc, right, what, base=BLIND2_BASE, **kw)


BLIND2_CASES: tuple[Case, ...] = (
    # --- Japan: present ----------------------------------------------------------------
    _blind2(
        "jp_three_groups_hepburn",
        sdisc("SATO^TARO=佐藤^太郎=サトウ^タロウ", "19650412", "M"),
        "C001",
        "passport Hepburn SATO/TARO vs wapuro SATOU/TAROU, kanji and kana equal",
    ),
    _blind2(
        "jp_macron_long_vowels",
        sdisc("ŌTA^SHŌHEI", "19950505", "M"),
        "C010",
        "macron Ō/SHŌ vs OO/SHOU on the order",
    ),
    _blind2(
        "jp_homma_honma",
        sdisc("HOMMA^MASAHIRO=本間^正弘=ホンマ^マサヒロ", "19520118", "M"),
        "C003",
        "traditional Hepburn HOMMA (m before m) vs HONMA",
    ),
    _blind2(
        "jp_old_kanji_taka",
        sdisc("TAKAHASHI^MAKOTO=高橋^誠=タカハシ^マコト", "19811130", "M"),
        "C005",
        "common 高 vs variant 髙 on a kanji+kana order, kana equal",
    ),
    _blind2(
        "jp_halfwidth_katakana_order",
        sdisc("YAMAGUCHI^JUNKO=山口^順子=ヤマグチ^ジュンコ", "19581009", "F"),
        "C007",
        "order only in half-width katakana with separate voicing marks",
    ),
    _blind2(
        "jp_kunrei",
        sdisc("SIMIZU^ZYUN'ITI", "19600301", "M"),
        "C008",
        "Kunrei-shiki SIMIZU ZYUN'ITI = Hepburn SHIMIZU JUNICHI",
    ),
    _blind2(
        "jp_katakana_only_order",
        sdisc("INOUE^KENJI=井上^健二=イノウエ^ケンジ", "19700707", "M"),
        "C015",
        "order only in full-width katakana, disc in three groups",
    ),
    _blind2(
        "jp_itoh_oh_long_vowel",
        sdisc("ITOH^YUKA", "19900721", "F"),
        "C018",
        "passport OH for the long O, long U of YUUKA dropped",
    ),
    _blind2(
        "jp_kana_disc_kanji_order",
        sdisc("ワタナベ^ユウコ", "19770214", "F"),
        "C006",
        "disc kana only, order kanji only (裕子 reads YUUKO or HIROKO)",
        clear=False,
    ),
    _blind2(
        "jp_married_surname",
        sdisc("KIMURA^MIHO=木村^美穂=キムラ^ミホ", "19880817", "F"),
        "C011",
        "took her husband's surname since; same given name, DOB and sex",
        clear=False,
    ),
    _blind2(
        "jp_partial_dob",
        sdisc("CHIBA^TSUYOSHI", "1985", "M"),
        "C009",
        "only the birth year on the disc",
        clear=False,
    ),
    _blind2(
        "jp_twins",
        sdisc("ONO^KENTA=大野^健太=オオノ^ケンタ", "20100402", "M"),
        "C016",
        "twin brothers KENTA/KENJI, same DOB; ONO for OONO",
        must_review=True,
    ),
    _blind2(
        "jp_namesakes_no_dob",
        sdisc("SUZUKI^ICHIRO=鈴木^一郎", "", "M"),
        "C012",
        "two SUZUKI ICHIROU on the worklist, disc has no DOB",
        must_review=True,
        clear=False,
    ),
    # --- Japan: absent ---------------------------------------------------------------
    _blind2(
        "jp_twin_absent",
        sdisc("OONO^KENJI=大野^健二=オオノ^ケンジ", "20100402", "M"),
        None,
        "KENJI has no order today; twin KENTA is on the worklist",
        drop=("C017",),
    ),
    _blind2(
        "jp_namesake_other_dob",
        sdisc("SUZUKI^ICHIRO=鈴木^一郎", "19830622", "M"),
        None,
        "third SUZUKI ICHIROU, DOB matches neither order",
    ),
    _blind2(
        "jp_sister",
        sdisc("HATTORI^YOSHIKO=服部^良子=ハットリ^ヨシコ", "19750310", "F"),
        None,
        "younger sister of HATTORI KEIKO",
    ),
    # --- Korea: present --------------------------------------------------------------
    _blind2(
        "kr_choe_rr",
        sdisc("CHOE^YEONG HO", "19630219", "M"),
        "C022",
        "RR CHOE YEONG vs passport CHOI YOUNG",
    ),
    _blind2(
        "kr_mccune_reischauer",
        sdisc("YUN^SŬNG-HO", "19560428", "M"),
        "C026",
        "McCune-Reischauer YUN SŬNG-HO vs YOON SEUNG HO",
    ),
    _blind2(
        "kr_pak_hangul_order",
        sdisc("PAK^CHI-HUN", "19790808", "M"),
        "C021",
        "MR PAK CHI-HUN vs Hangul-only order 박지훈 without caret",
    ),
    _blind2(
        "kr_rhee",
        sdisc("RHEE^SEOYEON", "19920611", "F"),
        "C020",
        "RHEE for 이 (LEE), given name fused",
    ),
    _blind2(
        "kr_jung_jeong",
        sdisc("JUNG^HYE-JIN", "19840107", "F"),
        "C023",
        "JUNG for 정 (JEONG), hyphenated given name",
    ),
    _blind2(
        "kr_gim",
        sdisc("GIM^MINJUN", "19870324", "M"),
        "C019",
        "RR GIM for KIM, given name fused",
    ),
    _blind2(
        "kr_english_name",
        sdisc("LEE^GRACE", "19920611", "F"),
        "C020",
        "English first name instead of SEO YEON",
        clear=False,
    ),
    _blind2(
        "kr_duplicate_record",
        sdisc("KIM^JIYOUNG=김^지영", "19850312", "F"),
        "C027",
        "same person registered twice (C027 and Hangul-only C028)",
        must_review=True,
    ),
    _blind2(
        "kr_twins",
        sdisc("PARK^SEO JIN=박^서진", "20120918", "M"),
        "C030",
        "twin brothers SEO JUN/SEO JIN, same DOB",
        must_review=True,
    ),
    # --- Korea: absent ---------------------------------------------------------------
    _blind2(
        "kr_namesake_other_dob",
        sdisc("KIM^MIN JUN=김^민준", "19910716", "M"),
        None,
        "very common name, DOB differs from the order",
    ),
    _blind2(
        "kr_same_dob_same_surname",
        sdisc("LEE^SU JIN=이^수진", "19920611", "F"),
        None,
        "another LEE born the same day, different given name",
    ),
    # --- Russia, Ukraine, Kazakhstan: present ---------------------------------------
    _blind2(
        "ru_icao_patronymic",
        sdisc("IVANOV^SERGEI^PETROVICH", "19610517", "M"),
        "C031",
        "ICAO transliteration with patronymic vs Cyrillic order",
    ),
    _blind2(
        "ru_yo_as_ye",
        sdisc("Федорова^Анна^Викторовна", "19750822", "F"),
        "C032",
        "Ё written as Е",
    ),
    _blind2(
        "ru_german_style",
        sdisc("SCHTSCHERBAKOW^DMITRIJ", "19830203", "M"),
        "C033",
        "German transliteration SCHTSCH/W/J of Щербаков Дмитрий",
    ),
    _blind2(
        "ru_french_style",
        sdisc("JOUKOV^IOURI", "19480130", "M"),
        "C035",
        "French transliteration J/OU/IOU of Жуков Юрий",
    ),
    _blind2(
        "ua_national_translit",
        sdisc("KOVALENKO^OLEKSANDR", "19690711", "M"),
        "C034",
        "Ukrainian passport transliteration, no patronymic",
    ),
    _blind2(
        "kz_latin",
        sdisc("AKHMETOVA^AIGUL", "19860419", "F"),
        "C036",
        "Kazakh passport Latin of Ахметова Айгуль",
    ),
    _blind2(
        "ru_masculine_surname_form",
        sdisc("SMIRNOV^ELENA", "19720906", "F"),
        "C038",
        "clerk wrote the family (masculine) form for SMIRNOVA",
    ),
    _blind2(
        "ua_twins",
        sdisc("SHEVCHENKO^DARYNA", "20080615", "F"),
        "C039",
        "twin sisters DARYNA/MARYNA, same DOB",
        must_review=True,
    ),
    # --- Russia, Ukraine, Kazakhstan: absent ----------------------------------------
    _blind2(
        "ru_son_same_name",
        sdisc("IVANOV^SERGEY^SERGEEVICH", "19880930", "M"),
        None,
        "son Sergei Sergeevich; father Sergei Petrovich on the worklist",
    ),
    _blind2(
        "ru_daughter",
        sdisc("SMIRNOVA^OLGA^ANDREEVNA", "19950211", "F"),
        None,
        "daughter of Andrei and Elena Smirnov, both on the worklist",
    ),
    _blind2(
        "kz_namesake_other_dob",
        sdisc("AKHMETOVA^AIGUL", "19910803", "F"),
        None,
        "common Kazakh name, DOB differs from the order",
    ),
    # --- Greece: present -------------------------------------------------------------
    _blind2(
        "gr_elot",
        sdisc("PAPADOPOULOS^GEORGIOS", "19580704", "M"),
        "C041",
        "ELOT 743 Latin vs Greek capitals",
    ),
    _blind2(
        "gr_lowercase_tonos",
        sdisc("Παπαδοπούλου^Μαρία", "19620310", "F"),
        "C042",
        "Greek lower case with accents vs unaccented capitals",
    ),
    _blind2(
        "gr_old_passport",
        sdisc("PHOTIADOU^EKATERINI", "19810919", "F"),
        "C044",
        "older spelling PH, AI as E (ΦΩΤΙΑΔΟΥ ΑΙΚΑΤΕΡΙΝΗ)",
    ),
    _blind2(
        "gr_ch_as_h",
        sdisc("HATZIDAKIS^IOANNIS", "19590227", "M"),
        "C043",
        "Χ written H instead of CH",
    ),
    _blind2(
        "gr_everyday_given_name",
        sdisc("KONSTANTINIDIS^KOSTAS", "19670512", "M"),
        "C045",
        "everyday KOSTAS for formal KONSTANTINOS",
    ),
    # --- Greece: absent --------------------------------------------------------------
    _blind2(
        "gr_grandson_same_name",
        sdisc("PAPADOPOULOS^GEORGIOS", "20140322", "M"),
        None,
        "grandson named after his grandfather, who is on the worklist",
    ),
    _blind2(
        "gr_daughter",
        sdisc("PAPADOPOULOU^ELENI", "19880214", "F"),
        None,
        "daughter of MARIA PAPADOPOULOU",
    ),
    # --- Latin script: present -------------------------------------------------------
    _blind2(
        "de_umlaut_ue",
        sdisc("MUELLER^HANS PETER", "19490817", "M"),
        "C047",
        "Ü as UE, hyphen as space",
    ),
    _blind2(
        "fr_accents_dropped",
        sdisc("LEFEVRE^FRANCOISE", "19640922", "F"),
        "C049",
        "È and Ç without accents",
    ),
    _blind2(
        "es_first_surname_only",
        sdisc("GOMEZ^JOSE LUIS", "19710605", "M"),
        "C050",
        "only the first of two surnames, accents dropped",
    ),
    _blind2(
        "tr_dotless_dotted_i",
        sdisc("Kılıç^İlker", "19910417", "M"),
        "C062",
        "Turkish ı/İ in mixed case vs capitals",
    ),
    _blind2(
        "vn_name_order_reversed",
        sdisc("HUNG^NGUYEN VAN", "19750420", "M"),
        "C054",
        "given name taken as family name, no diacritics",
    ),
    _blind2(
        "pl_l_stroke",
        sdisc("WOJCIK^MALGORZATA", "19620828", "F"),
        "C056",
        "Ó and Ł as O and L",
    ),
    _blind2(
        "de_day_month_swapped",
        sdisc("HOFFMANN^GUDRUN", "19471203", "F"),
        "C059",
        "birth date 12 March written as 3 December",
    ),
    _blind2(
        "de_typo_transposition",
        sdisc("FICHSER^ANDREAS", "19770921", "M"),
        "C060",
        "two letters transposed in the surname",
    ),
    _blind2(
        "fr_married_name",
        sdisc("MARTIN^MARIE-CLAIRE", "19790613", "F"),
        "C058",
        "married name on the disc, birth name DUBOIS on the order",
        clear=False,
    ),
    _blind2(
        "pl_nickname",
        sdisc("WOJCIK^GOSIA", "19620828", "F"),
        "C056",
        "diminutive GOSIA for MAŁGORZATA",
        clear=False,
    ),
    _blind2(
        "de_no_dob",
        sdisc("SCHROEDER^BAERBEL", "", "F"),
        "C048",
        "ÖÄ as OE/AE and no birth date on the disc",
        clear=False,
    ),
    _blind2(
        "tr_mojibake",
        sdisc("Ã‡ELÄ°K^AYÅžEGÃœL", "19880303", "F"),
        "C053",
        "UTF-8 read as Windows-1252 (ÇELİK AYŞEGÜL)",
        clear=False,
    ),
    # --- Latin script: absent --------------------------------------------------------
    _blind2(
        "vn_namesake_other_dob",
        sdisc("NGUYEN^THI LAN", "19920415", "F"),
        None,
        "very common name, DOB differs from the order",
    ),
    _blind2(
        "es_father",
        sdisc("GOMEZ SANCHEZ^JOSE LUIS", "19440119", "M"),
        None,
        "father: same first surname and given names, other second surname and DOB",
    ),
    _blind2(
        "de_same_dob_stranger",
        sdisc("MEIER^HANS", "19490817", "M"),
        None,
        "another man born the same day as HANS-PETER MÜLLER",
    ),
)
