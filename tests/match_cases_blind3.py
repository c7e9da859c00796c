"""A third blind test set for the matcher: multi-script names against one worklist.

Written on 2026-12-01 by a helper session that had NOT seen the matcher's rules,
its documentation, its benchmarks or the other case sets; it saw only the case
API (``order``, ``disc``, ``sdisc``, ``Case`` in ``tests/match_cases.py``). The
right answers come from how the names are really written (Japanese romaji
systems and kanji variants, Korean romanizations, Cyrillic transliterations,
Greek spellings, Latin-script accents, particles and name orders), not from
what the matcher does. It is meant to be measured once, as it is: do not tune
the matcher against it and do not edit the answers after seeing the results.

``BLIND3_BASE`` is one hospital's worklist (MRNs D001..D063). Every case is a
disc patient against that worklist; ``right`` is the MRN of the true patient
or ``None`` when the patient is not on the worklist. ``must_review`` marks
twins and duplicate records, where even a correct automatic match is unsafe;
``clear=False`` marks discs on which a careful person could not decide alone
(no or partial birth date, a changed surname, a nickname, a garbled name, a
birth date that differs by one digit).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.match_cases import Case, order, sdisc

if TYPE_CHECKING:
    from reconcile.match import DiscPatient
    from reconcile.model import WorklistItem


BLIND3_BASE: tuple[WorklistItem, ...] = (
    # --- Japanese (alphabetic = ideographic = phonetic) -------------------------
    order("D001", "SATO^HIROSHI=佐藤^浩=サトウ^ヒロシ", "19640522", "M"),
    order("D002", "TAKAHASHI^YUMIKO=高橋^由美子=タカハシ^ユミコ", "19710830", "F"),
    order("D003", "WATANABE^KENTA=渡辺^健太=ワタナベ^ケンタ", "19881104", "M"),
    order("D004", "SAITO^MEGUMI=斎藤^恵=サイトウ^メグミ", "19790213", "F"),
    order("D005", "KANNO^SHUNSUKE=菅野^俊介=カンノ^シュンスケ", "19920317", "M"),
    # two different men whose passport romaji is the same ONO^SHINJI
    order("D006", "ONO^SHINJI=大野^真司=オオノ^シンジ", "19570709", "M"),
    order("D007", "ONO^SHINJI=小野^慎二=オノ^シンジ", "19820301", "M"),
    order("D008", "HONMA^JUNKO=本間^順子=ホンマ^ジュンコ", "19591203", "F"),
    order("D009", "SHIBATA^TSUYOSHI=柴田^剛=シバタ^ツヨシ", "19830925", "M"),
    # twin sisters
    order("D010", "YOSHIDA^CHIHIRO=吉田^千尋=ヨシダ^チヒロ", "19900412", "F"),
    order("D011", "YOSHIDA^CHIAKI=吉田^千秋=ヨシダ^チアキ", "19900412", "F"),
    order("D012", "NAKAJIMA^RYOTA=中島^亮太=ナカジマ^リョウタ", "19760118", "M"),
    order("D013", "YAMAZAKI^AYAKA=山﨑^彩香=ヤマザキ^アヤカ", "19960628", "F"),
    order("D014", "WATANABE^NAOKO=渡邉^直子=ワタナベ^ナオコ", "19750119", "F"),
    order("D015", "KUROSAWA^MAKOTO=黒澤^誠=クロサワ^マコト", "19610306", "M"),
    order("D016", "TSUZUKI^CHIZURU=都築^千鶴=ツヅキ^チヅル", "19680224", "F"),
    order("D017", "ITO^MAI=伊藤^舞=イトウ^マイ", "19930807", "F"),
    # --- Korean ------------------------------------------------------------------
    order("D018", "LEE^SEOYEON=이^서연", "19850311", "F"),
    order("D019", "PARK^JUNGHO=박^정호", "19720602", "M"),
    order("D020", "CHOI^YUNA=최^유나", "19980723", "F"),
    order("D021", "JEONG^MINSEO=정^민서", "20030115", "F"),
    # two different men called Kim Dong-hyun; the first has two orders
    order("D022", "KIM^DONGHYUN=김^동현", "19770930", "M", modality="CT", acc="AD022CT"),
    order("D022", "KIM^DONGHYUN=김^동현", "19770930", "M", modality="MR", acc="AD022MR"),
    order("D023", "KIM^DONGHYUN=김^동현", "19840412", "M"),
    # twin brothers
    order("D024", "HAN^JIWOO=한^지우", "20100505", "M"),
    order("D025", "HAN^JIHO=한^지호", "20100505", "M"),
    order("D026", "HWANGBO^SEULGI=황보^슬기", "19930918", "F"),
    order("D027", "OH^SEUNGMIN=오^승민", "19691120", "M"),
    # --- Russian / Ukrainian / Belarusian / Bulgarian (stored in Latin) ----------
    order("D028", "SMIRNOV^DMITRII^ALEKSANDROVICH", "19800926", "M"),
    order("D029", "SMIRNOVA^DARIA^ALEKSANDROVNA", "19830211", "F"),
    order("D030", "KUZNETSOVA^IULIIA", "19860214", "F"),
    order("D031", "SHEVCHENKO^OLEKSANDR", "19790808", "M"),
    order("D032", "KAVALIOU^SIARHEI", "19740330", "M"),
    order("D033", "GEORGIEVA^TSVETELINA", "19900606", "F"),
    order("D034", "HRISTOV^STEFAN", "19580412", "M"),
    order("D035", "VOLKOVA^TATIANA^SERGEEVNA", "19670519", "F"),
    # twin brothers
    order("D036", "ORLOV^MAKSIM", "20050320", "M"),
    order("D037", "ORLOV^MIKHAIL", "20050320", "M"),
    order("D038", "BELOVA^EKATERINA^IGOREVNA", "19891017", "F"),
    order("D039", "FEDOROV^PETR", "19470725", "M"),
    # --- Greek (ELOT 743) --------------------------------------------------------
    order("D040", "KONSTANTINIDIS^DIMITRIOS", "19690404", "M"),
    order("D041", "CHATZIGEORGIOU^ELENI", "19810912", "F"),
    order("D042", "PAPANIKOLAOU^VASILIKI", "19741002", "F"),
    order("D043", "GEORGIOU^NIKOLAOS", "19630330", "M"),
    order("D044", "TSAKIRIS^EVANGELOS", "19550918", "M"),
    # two records, same name and birth date (a duplicate or two women)
    order("D045", "ALEXIOU^MARIA", "19850615", "F"),
    order("D046", "ALEXIOU^MARIA", "19850615", "F"),
    # --- Latin script --------------------------------------------------------------
    order("D047", "BÖHM^JÖRG", "19660606", "M"),
    order("D048", "FERNÁNDEZ RUIZ^ANA BELÉN", "19870330", "F"),
    order("D049", "GONÇALVES DA SILVA^JOÃO PEDRO", "19730515", "M"),
    order("D050", "WÓJCIK^MAŁGORZATA", "19640808", "F"),
    order("D051", "NOVÁKOVÁ^PETRA", "19820227", "F"),
    order("D052", "NOVÁK^JAN", "19541009", "M"),
    order("D053", "ÖZTÜRK^MEHMET ALİ", "19760911", "M"),
    # two records, same name and birth date
    order("D054", "NGUYEN^THI LAN", "19680909", "F"),
    order("D055", "NGUYEN^THI LAN", "19680909", "F"),
    order("D056", "NGUYEN^VAN HUNG", "19650505", "M"),
    order("D057", "KJÆRGAARD^BJØRN", "19710418", "M"),
    order("D058", "ÅSTRÖM^INGRID", "19490603", "F"),
    order("D059", "VAN DEN BOSCH^PIETER", "19700822", "M"),
    order("D060", "LEFÈVRE^MARIE-HÉLÈNE", "19580214", "F"),
    order("D061", "LEFEBVRE^MARIE-HELENE", "19610930", "F"),
    order("D062", "NAGY^ZSÓFIA", "19951129", "F"),
    order("D063", "NAGY^ZSUZSANNA", "19630412", "F"),
)


def _blind3(case_id: str, d: DiscPatient, right: str | None, what: str, **kw: object) -> Case:
    return Case(case_id, d, right, what, base=BLIND3_BASE, **kw)  # type: ignore[arg-type]


BLIND3_CASES: tuple[Case, ...] = (
    # --- Japanese ---------------------------------------------------------------
    _blind3(
        "b3-j-hashigo-taka-sex-m",
        sdisc("TAKAHASHI^YUMIKO=髙橋^由美子=タカハシ^ユミコ", "19710830", "M"),
        "D002",
        "髙 (ladder taka) for 高, and sex M on the disc for a woman named Yumiko",
    ),
    _blind3(
        "b3-j-halfwidth-kana-old-sai",
        sdisc("ｻｲﾄｳ^ﾒｸﾞﾐ=齋藤^恵", "19790213", "F"),
        "D004",
        "half-width katakana in the first group, old form 齋 for 斎, no romaji",
    ),
    _blind3(
        "b3-j-ohno-two-ono",
        sdisc("OHNO^SHINJI=大野^真司=おおの^しんじ", "19570709", "M"),
        "D006",
        "long vowel written OH (passport style); two ONO^SHINJI on the worklist, kanji 大野",
    ),
    _blind3(
        "b3-j-homma",
        sdisc("HOMMA^JUNKO", "19591203", "F"),
        "D008",
        "N before M written M (HOMMA for HONMA), romaji only",
    ),
    _blind3(
        "b3-j-kunrei",
        sdisc("SIBATA^TUYOSI", "19830925", "M"),
        "D009",
        "Kunrei-shiki romaji (SI, TU) for Hepburn SHIBATA^TSUYOSHI",
    ),
    _blind3(
        "b3-j-nihonshiki",
        sdisc("TUDUKI^TIDURU=都築^千鶴", "19680224", "F"),
        "D016",
        "Nihon-shiki romaji (DU, TI, DU) for Hepburn TSUZUKI^CHIZURU",
    ),
    _blind3(
        "b3-j-twin-sister",
        sdisc("YOSHIDA^CHIHIRO=吉田^千尋=よしだ^ちひろ", "19900412", "F"),
        "D010",
        "twin sisters Chihiro and Chiaki, same birth date; hiragana reading",
        must_review=True,
    ),
    _blind3(
        "b3-j-nakashima-wapuro",
        sdisc("NAKASHIMA^RYOUTA=中島^亮太=ナカシマ^リョウタ", "19760118", "M"),
        "D012",
        "中島 read NAKASHIMA instead of NAKAJIMA, long vowel as wapuro OU",
    ),
    _blind3(
        "b3-j-yamasaki-tatsusaki",
        sdisc("YAMASAKI^AYAKA=山崎^彩香", "19960628", "F"),
        "D013",
        "崎 for 﨑 and the unvoiced reading YAMASAKI for YAMAZAKI",
    ),
    _blind3(
        "b3-j-kanji-kana-only-nabe",
        sdisc("=渡邊^直子=わたなべ^なおこ", "19750119", "F"),
        "D014",
        "no alphabetic group; 邊 on the disc, 邉 on the worklist; another WATANABE on the list",
    ),
    _blind3(
        "b3-j-no-dob-sawa",
        sdisc("KUROSAWA^MAKOTO=黒沢^誠", "", "M"),
        "D015",
        "沢 for 澤, no birth date on the disc",
        clear=False,
    ),
    _blind3(
        "b3-j-married",
        sdisc("KOBAYASHI^MAI=小林^舞=コバヤシ^マイ", "19930807", "F"),
        "D017",
        "took her husband's surname: ITO 伊藤 on the worklist, KOBAYASHI 小林 on the disc",
        clear=False,
    ),
    _blind3(
        "b3-j-sato-namesake-absent",
        sdisc("SATOU^HIROSHI=佐藤^博=さとう^ひろし", "19690814", "M"),
        None,
        "another Sato Hiroshi (博, not 浩), other birth date; not on the worklist",
    ),
    _blind3(
        "b3-j-watanabe-other-kanji-absent",
        sdisc("WATANABE^KENTA=渡部^健太=ワタナベ^ケンタ", "19950621", "M"),
        None,
        "渡部 also read WATANABE; same romaji as D003 but other kanji and birth date",
    ),
    # --- Korean -----------------------------------------------------------------
    _blind3(
        "b3-k-rhee",
        sdisc("RHEE^SEO YEON", "19850311", "F"),
        "D018",
        "surname 이 spelled RHEE, given name with a space",
    ),
    _blind3(
        "b3-k-pak-mccune",
        sdisc("PAK^CHŎNG-HO", "19720602", "M"),
        "D019",
        "McCune-Reischauer with breve and hyphen (Pak Chŏng-ho) for PARK^JUNGHO",
    ),
    _blind3(
        "b3-k-choe",
        sdisc("CHOE^YU-NA=최^유나", "19980723", "F"),
        "D020",
        "surname 최 as CHOE, hyphenated given name, Hangul group",
    ),
    _blind3(
        "b3-k-english-name",
        sdisc("CHOI^JENNY", "19980723", "F"),
        "D020",
        "an adopted English given name instead of Yuna",
        clear=False,
    ),
    _blind3(
        "b3-k-chung",
        sdisc("CHUNG^MIN SEO", "20030115", "F"),
        "D021",
        "surname 정 as CHUNG (worklist JEONG), given name with a space",
    ),
    _blind3(
        "b3-k-hangul-joined-namesakes",
        sdisc("김동현", "19770930", "M"),
        "D022",
        "Hangul without separator; two KIM^DONGHYUN on the worklist, birth date decides",
    ),
    _blind3(
        "b3-k-twin-brother",
        sdisc("HAN^JI-WOO", "20100505", "M"),
        "D024",
        "twin brothers Jiwoo and Jiho, same birth date",
        must_review=True,
    ),
    _blind3(
        "b3-k-two-syllable-surname",
        sdisc("황보슬기", "19930918", ""),
        "D026",
        "two-syllable surname 황보 in joined Hangul, no sex on the disc",
    ),
    _blind3(
        "b3-k-choi-namesake-absent",
        sdisc("최유나", "19760402", "F"),
        None,
        "another Choi Yuna, 22 years older; not on the worklist",
    ),
    _blind3(
        "b3-k-gim-third-namesake-absent",
        sdisc("GIM^DONG-HYEON", "19911111", "M"),
        None,
        "strict Revised Romanization GIM^DONG-HYEON; a third Kim Dong-hyun, not on the list",
    ),
    # --- Russian / Ukrainian / Belarusian / Bulgarian ---------------------------
    _blind3(
        "b3-r-cyrillic-patronymic",
        sdisc("Смирнов^Дмитрий^Александрович", "19800926", "M"),
        "D028",
        "Cyrillic with patronymic; ICAO SMIRNOV^DMITRII on the worklist, his sister too",
    ),
    _blind3(
        "b3-r-mojibake-cp1251",
        sdisc("Ñìèðíîâ^Äìèòðèé^Àëåêñàíäðîâè÷", "19800926", "M"),
        "D028",
        "windows-1251 bytes read as Latin-1 (garbled Smirnov Dmitrii Aleksandrovich)",
        clear=False,
    ),
    _blind3(
        "b3-r-french-transcription",
        sdisc("KOUZNETSOVA^IOULIA", "19860214", "F"),
        "D030",
        "French transcription (OU, IOU) of Кузнецова Юлия; ICAO KUZNETSOVA^IULIIA",
    ),
    _blind3(
        "b3-u-ukrainian-cyrillic",
        sdisc("Шевченко^Олександр", "19790808", "M"),
        "D031",
        "Ukrainian Cyrillic against the Ukrainian national romanization",
    ),
    _blind3(
        "b3-by-belarusian-cyrillic",
        sdisc("Кавалёў^Сяргей", "19740330", "M"),
        "D032",
        "Belarusian Cyrillic (ё, ў) against the passport spelling KAVALIOU^SIARHEI",
    ),
    _blind3(
        "b3-bg-partial-dob",
        sdisc("KHRISTOV^STEFAN", "195804", "M"),
        "D034",
        "KH for Bulgarian Х (official HRISTOV); only year and month of birth",
        clear=False,
    ),
    _blind3(
        "b3-r-bgn-no-patronymic",
        sdisc("VOLKOVA^TAT'YANA", "19670519", "F"),
        "D035",
        "BGN/PCGN TAT'YANA for ICAO TATIANA, patronymic absent",
    ),
    _blind3(
        "b3-r-twin-brother",
        sdisc("Орлов^Максим", "20050320", "M"),
        "D036",
        "twin brothers Maksim and Mikhail, same birth date, Cyrillic disc",
        must_review=True,
    ),
    _blind3(
        "b3-r-married",
        sdisc("ZAITSEVA^EKATERINA^IGOREVNA", "19891017", "F"),
        "D038",
        "married surname on the disc (ZAITSEVA), maiden BELOVA on the worklist",
        clear=False,
    ),
    _blind3(
        "b3-r-german-transcription",
        sdisc("FJODOROW^PJOTR", "19470725", "M"),
        "D039",
        "German transcription of Фёдоров Пётр (JO, W) for ICAO FEDOROV^PETR",
    ),
    _blind3(
        "b3-r-father-absent",
        sdisc("СМИРНОВ^АЛЕКСАНДР^ПЕТРОВИЧ", "19520503", "M"),
        None,
        "the father of D028/D029 (their patronymic is his name); not on the worklist",
    ),
    _blind3(
        "b3-u-twin-sister-absent",
        sdisc("SHEVCHENKO^OLEKSANDRA", "19790808", "F"),
        None,
        "twin sister Oleksandra of D031 Oleksandr; she is not on the worklist",
    ),
    _blind3(
        "b3-r-twin-not-listed-absent",
        sdisc("ORLOV^MAKSIM", "20050320", "M"),
        None,
        "Maksim's order is not on the worklist, only his twin Mikhail's",
        drop=("D036",),
    ),
    # --- Greek ------------------------------------------------------------------
    _blind3(
        "b3-g-greek-script",
        sdisc("ΚΩΝΣΤΑΝΤΙΝΙΔΗΣ^ΔΗΜΗΤΡΙΟΣ", "19690404", "M"),
        "D040",
        "Greek script against ELOT 743",
    ),
    _blind3(
        "b3-g-everyday-h",
        sdisc("HATZIGEORGIOU^ELENI", "19810912", "F"),
        "D041",
        "everyday H for Χ (ELOT CH)",
    ),
    _blind3(
        "b3-g-c-and-ss",
        sdisc("PAPANICOLAOU^VASSILIKI", "19741002", "F"),
        "D042",
        "C for Κ and doubled SS, the older western spelling",
    ),
    _blind3(
        "b3-g-nickname",
        sdisc("GEORGIOU^NIKOS", "19630330", "M"),
        "D043",
        "Nikos, the everyday short form of Nikolaos",
        clear=False,
    ),
    _blind3(
        "b3-g-greeklish-gg",
        sdisc("TSAKIRIS^EVAGGELOS", "19550918", "M"),
        "D044",
        "letter-by-letter GG for γγ (ELOT NG)",
    ),
    _blind3(
        "b3-g-duplicate-record",
        sdisc("ΑΛΕΞΙΟΥ^ΜΑΡΙΑ", "19850615", "F"),
        "D045",
        "two ALEXIOU^MARIA records with the same birth date",
        must_review=True,
    ),
    _blind3(
        "b3-g-grandson-absent",
        sdisc("ΓΕΩΡΓΙΟΥ^ΝΙΚΟΛΑΟΣ", "19980712", "M"),
        None,
        "grandson named after his grandfather D043; not on the worklist",
    ),
    # --- Latin script -----------------------------------------------------------
    _blind3(
        "b3-de-oe-transcription",
        sdisc("BOEHM^JOERG", "19660606", "M"),
        "D047",
        "German umlauts transcribed OE",
    ),
    _blind3(
        "b3-es-one-surname",
        sdisc("FERNANDEZ^ANA BELEN", "19870330", "F"),
        "D048",
        "second surname dropped and accents dropped",
    ),
    _blind3(
        "b3-pt-last-surname",
        sdisc("DA SILVA^JOAO PEDRO", "19730515", "M"),
        "D049",
        "Portuguese: only the last surname with its particle, no tilde",
    ),
    _blind3(
        "b3-pl-no-diacritics",
        sdisc("WOJCIK^MALGORZATA", "19640808", "F"),
        "D050",
        "Polish ó and ł written plain",
    ),
    _blind3(
        "b3-tr-mojibake-utf8",
        sdisc("Ã–ZTÃœRK^MEHMET ALÄ°", "19760911", "M"),
        "D053",
        "UTF-8 read as windows-1252 (garbled Öztürk Mehmet Ali)",
        clear=False,
    ),
    _blind3(
        "b3-vi-duplicate-record",
        sdisc("NGUYỄN^THỊ LAN", "19680909", "F"),
        "D054",
        "Vietnamese with tone marks; two NGUYEN^THI LAN records, same birth date",
        must_review=True,
    ),
    _blind3(
        "b3-dk-ae-oe",
        sdisc("KJAERGAARD^BJOERN", "19710418", "M"),
        "D057",
        "Danish æ and ø transcribed AE and OE",
    ),
    _blind3(
        "b3-se-dob-one-digit",
        sdisc("ASTROM^INGRID", "19490608", "F"),
        "D058",
        "Swedish å, ö dropped; birth day 08 instead of 03",
        clear=False,
    ),
    _blind3(
        "b3-nl-particle-moved",
        sdisc("BOSCH^PIETER VAN DEN", "19700822", "M"),
        "D059",
        "Dutch particle van den moved behind the given name",
    ),
    _blind3(
        "b3-fr-hyphen-accents",
        sdisc("LEFEVRE^MARIE HELENE", "19580214", "F"),
        "D060",
        "accents dropped, hyphen as a space; a LEFEBVRE^MARIE-HELENE on the list too",
    ),
    _blind3(
        "b3-hu-swapped",
        sdisc("ZSOFIA^NAGY", "19951129", "F"),
        "D062",
        "Hungarian family/given order swapped, accent dropped; her mother is on the list",
    ),
    _blind3(
        "b3-de-father-absent",
        sdisc("BÖHM^JÖRG", "19380214", "M"),
        None,
        "the father of the same name as D047; not on the worklist",
    ),
    _blind3(
        "b3-es-other-second-surname-absent",
        sdisc("FERNÁNDEZ GARCÍA^ANA BELÉN", "19790514", "F"),
        None,
        "same first surname and given names, other second surname and birth date",
    ),
    _blind3(
        "b3-pl-daughter-absent",
        sdisc("WÓJCIK^MAŁGORZATA", "19910313", "F"),
        None,
        "daughter named after her mother D050; not on the worklist",
    ),
    _blind3(
        "b3-vi-namesake-absent",
        sdisc("NGUYỄN^VĂN HÙNG", "19720819", "M"),
        None,
        "another Nguyen Van Hung, other birth date; not on the worklist",
    ),
    _blind3(
        "b3-cz-twin-brother-absent",
        sdisc("NOVÁK^PETR", "19820227", "M"),
        None,
        "twin brother of D051 NOVÁKOVÁ^PETRA (male surname form); not on the worklist",
    ),
)
