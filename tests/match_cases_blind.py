"""A blind test set for the matcher: disc patients against a worklist, with the right answer.

Written on 2026-11-30 by a helper session, WITHOUT having seen the matcher's
rules (nothing under ``reconcile/``, ``docs/matching.md``, ``benchmarks/`` or
the case lists of ``tests/match_cases.py`` was read): every ``right`` answer
is what a careful registration clerk who knows how names are written and
romanised in Japan, Korea, Russia/Ukraine/Belarus and Greece would decide.
It is meant to be measured once, as it stands; changing the matcher to fit
these cases (or these cases to fit the matcher) would make it no longer blind.

``BLIND_BASE`` is the worklist of one hospital treating local and foreign
patients; each country's orders are written the way a hospital there would
hold them (Japanese three-group names with kana readings, Korean Hangul,
Russian/Ukrainian Cyrillic with patronymics, Greek script, Latin passport
spellings for foreign patients). ``BLIND_CASES`` uses the ``Case`` of
``tests.match_cases`` with ``base=BLIND_BASE``.
"""

from __future__ import annotations

from typing import Any

from tests.match_cases import Case, order, sdisc

BLIND_BASE = (
    # --- Japan: alphabetic=ideographic=phonetic, or kanji + kana only ---------------
    order("B001", "YAMADA^TARO=山田^太郎=やまだ^たろう", "19650412", "M"),
    order("B002", "=佐藤^健一=サトウ^ケンイチ", "19580203", "M"),
    order("B003", "ITO^YOKO=伊藤^陽子=いとう^ようこ", "19720819", "F"),
    order("B004", "=大野^翔太=おおの^しょうた", "19900725", "M"),
    order("B005", "SUZUKI^ICHIRO=鈴木^一郎=すずき^いちろう", "19480930", "M"),
    order("B006", "=高橋^優斗=タカハシ^ユウト", "20100315", "M"),  # twin of B007
    order("B007", "=高橋^優真=タカハシ^ユウマ", "20100315", "M"),  # twin of B006
    order("B008", "=中村^美咲", "19851122", "F"),  # kanji only, no reading
    order("B009", "==ヤマモト^サクラ", "19970404", "F"),  # katakana only
    order("B010", "=中島^裕子=なかしま^ひろこ", "19630517", "F"),
    order("B011", "FUJITA^SHINJI=藤田^信次=ふじた^しんじ", "19540108", "M"),
    order("B012", "=都築^千尋=つづき^ちひろ", "19790226", "F"),
    order("B013", "=木村^恵=きむら^めぐみ", "19880214", "F"),
    order("B014", "=工藤^雄一郎=くどう^ゆういちろう", "19700611", "M"),
    order("B015", "=渡辺^正=わたなべ^ただし", "19410720", "M"),
    order("B016", "=斎藤^博=さいとう^ひろし", "19670901", "M"),
    order("B017", "=佐藤^健一=さとう^けんいち", "19830919", "M"),  # namesake of B002
    order("B018", "=本間^純一=ほんま^じゅんいち", "19760303", "M"),
    # --- Korea: Hangul, with or without a romanised group ----------------------------
    order("B020", "KIM^MINJUN=김^민준", "19920611", "M"),
    order("B021", "이^서연", "19950302", "F"),
    order("B022", "PARK^JIHOON=박^지훈", "19870119", "M"),
    order("B023", "최^유진", "20000808", "F"),
    order("B024", "정^하늘", "19780827", "F"),
    order("B025", "김^지훈", "19891212", "M"),
    order("B026", "이^서준", "20120509", "M"),  # twin of B027
    order("B027", "이^서진", "20120509", "M"),  # twin of B026
    order("B028", "Hong^Gildong=洪^吉洞=홍^길동", "19610815", "M"),
    order("B029", "JEONG^WOOSEONG=정^우성", "19730320", "M"),
    order("B030", "김^지훈", "19951027", "M"),  # namesake of B025
    # --- Russia / Ukraine / Belarus: Cyrillic, or Latin passport spellings -----------
    order("B040", "ИВАНОВ^СЕРГЕЙ^ПЕТРОВИЧ", "19750621", "M"),
    order("B041", "ФЁДОРОВ^АЛЕКСЕЙ^ЮРЬЕВИЧ", "19820304", "M"),
    order("B042", "KUZNETSOVA^IULIIA", "19900117", "F"),  # ICAO passport spelling
    order("B043", "ШЕВЧЕНКО^ОЛЕНА^ВАСИЛІВНА", "19680825", "F"),  # Ukrainian
    order("B044", "KOVALENKO^YURII", "19710109", "M"),  # Ukrainian passport
    order("B045", "HONCHARENKO^HANNA", "19850412", "F"),  # Ukrainian passport
    order("B046", "LUKASHEVICH^YANA", "19990131", "F"),  # Belarusian passport
    order("B047", "ИЛЬИН^ДМИТРИЙ^ОЛЕГОВИЧ", "19660730", "M"),
    order("B048", "ХАРИТОНОВА^НАТАЛЬЯ^ВИКТОРОВНА", "19570214", "F"),
    order("B049", "ПЕТРОВА^АННА^ВИКТОРОВНА", "19830618", "F"),
    order("B050", "ЩЕРБАКОВ^МИХАИЛ^АНАТОЛЬЕВИЧ", "19490501", "M"),
    # --- Greece: Greek script (middle = father's name), or ELOT 743 passport ---------
    order("B060", "ΠΑΠΑΔΟΠΟΥΛΟΣ^ΓΕΩΡΓΙΟΣ^ΙΩΑΝΝΗΣ", "19590412", "M"),
    order("B061", "ΠΑΠΑΔΟΠΟΥΛΟΥ^ΕΛΕΝΗ^ΓΕΩΡΓΙΟΣ", "19910918", "F"),  # his daughter
    order("B062", "ΧΑΤΖΗΔΑΚΗΣ^ΕΥΑΓΓΕΛΟΣ", "19450627", "M"),
    order("B063", "ΜΠΟΥΡΑΣ^ΑΝΤΩΝΙΟΣ", "19770114", "M"),
    order("B064", "KONSTANTINIDOU^AIKATERINI", "19880905", "F"),  # ELOT passport
    order("B065", "ΣΤΑΥΡΟΠΟΥΛΟΣ^ΕΥΣΤΑΘΙΟΣ", "19620310", "M"),
    order("B066", "ΔΗΜΗΤΡΙΟΥ^ΔΗΜΗΤΡΙΟΣ", "19800402", "M"),
    order("B067", "ΔΗΜΗΤΡΙΟΥ^ΔΗΜΗΤΡΙΟΣ", "19581111", "M"),  # namesake of B066
    order("B068", "ΓΕΩΡΓΙΟΥ^ΧΡΥΣΟΥΛΑ", "19531204", "F"),
    # --- Latin-script Western patients -----------------------------------------------
    order("B080", "SCHNEIDER^KATHARINA", "19840607", "F"),
    order("B081", "O'CONNOR^SIOBHAN", "19760919", "F"),
    order("B082", "GONZÁLEZ^JOSÉ^LUIS", "19690228", "M"),
    order("B083", "BAUMGÄRTNER^JÜRGEN", "19520711", "M"),
    order("B084", "SMITH^JOHN", "19800115", "M"),
    order("B085", "SMITH^JOHN", "19751103", "M"),
    order("B086", "LEFÈVRE^ANNE-SOPHIE", "19940412", "F"),
    order("B087", "WILSON^EMILY", "19890303", "F"),
)


def _blind(case_id: str, disc: Any, right: str | None, what: str, **kw: Any) -> Case:
    """A case against the blind worklist."""
    return Case(case_id, disc, right, what, base=BLIND_BASE, **kw)


BLIND_CASES = (
    # === Japan =======================================================================
    _blind(
        "jb-halfwidth-kana",
        sdisc("ﾔﾏﾀﾞ^ﾀﾛｳ", "19650412", ""),
        "B001",
        "half-width katakana disc (old modality, no sex) against kanji + hiragana order",
    ),
    _blind(
        "jb-satoh-kenichi",
        sdisc("SATOH^KEN'ICHI", "19580203", "M"),
        "B002",
        "passport long vowel OH and Hepburn apostrophe; a namesake with another DOB exists",
    ),
    _blind(
        "jb-sato-no-dob",
        sdisc("SATO^KENICHI", "", "M"),
        "B002",
        "two 佐藤健一 on the worklist and no DOB on the disc: either could be him",
        must_review=True,
        clear=False,
    ),
    _blind(
        "jb-oono-wapuro",
        sdisc("OONO^SHOUTA", "19900725", "M"),
        "B004",
        "word-processor romaji OO / OU for おおの しょうた",
    ),
    _blind(
        "jb-twins",
        sdisc("TAKAHASHI^YUTO", "20100315", "M"),
        "B006",
        "twins 優斗 / 優真 (YUTO / YUMA) with the same DOB on the worklist",
        must_review=True,
    ),
    _blind(
        "jb-twin-absent",
        sdisc("TAKAHASHI^YUTO", "20100315", "M"),
        None,
        "YUTO's order is missing, only his twin YUMA is booked",
        drop=("B006",),
    ),
    _blind(
        "jb-kanji-only-order",
        sdisc("NAKAMURA^MISAKI", "19851122", "F"),
        "B008",
        "romaji disc against an order holding only kanji 中村^美咲",
    ),
    _blind(
        "jb-kanji-disc-kana-order",
        sdisc("=山本^桜", "19970404", "F"),
        "B009",
        "kanji only on the disc, katakana only on the order",
        clear=False,
    ),
    _blind(
        "jb-two-readings-kanji",
        sdisc("NAKAJIMA^YUKO=中島^裕子", "19630517", "F"),
        "B010",
        "same kanji 中島裕子, romanised with the other readings (NAKAJIMA/YUKO vs なかしま/ひろこ)",
    ),
    _blind(
        "jb-two-readings-romaji",
        sdisc("NAKAJIMA^YUKO", "19630517", "F"),
        "B010",
        "only the other reading of 中島裕子 in romaji, nothing to tie it to なかしま ひろこ",
        clear=False,
    ),
    _blind(
        "jb-nihon-shiki",
        sdisc("TUDUKI^TIHIRO", "19790226", "F"),
        "B012",
        "Nihon-shiki / Kunrei romaji of つづき ちひろ (Hepburn TSUZUKI CHIHIRO)",
    ),
    _blind(
        "jb-married-surname",
        sdisc("TANAKA^MEGUMI=田中^恵=たなか^めぐみ", "19880214", "F"),
        "B013",
        "married surname 田中 on the disc, maiden name 木村 on the order",
        clear=False,
    ),
    _blind(
        "jb-itaiji",
        sdisc("渡邊^正", "19410720", "M"),
        "B015",
        "kanji variant 渡邊 (old form) for 渡辺 on the order",
    ),
    _blind(
        "jb-mojibake",
        sdisc("—é–Ø^ˆê˜Y", "19480930", "M"),
        "B005",
        "鈴木^一郎 written in Shift_JIS without a declared charset, read as Windows-1252",
        clear=False,
    ),
    _blind(
        "jb-namesake-absent",
        sdisc("YAMADA^TARO", "19720101", "M"),
        None,
        "another YAMADA TARO: same name, another birth date",
    ),
    _blind(
        "jb-twin-brother-absent",
        sdisc("SUZUKI^JIRO=鈴木^次郎=すずき^じろう", "19480930", "M"),
        None,
        "JIRO, twin brother of the booked ICHIRO (same surname, DOB, sex)",
    ),
    # === Korea =======================================================================
    _blind(
        "kb-hangul-no-caret",
        sdisc("김민준", "19920611", "M"),
        "B020",
        "Hangul name without the ^ between surname and given name",
    ),
    _blind(
        "kb-mccune-reischauer",
        sdisc("PAK^CHI-HUN", "19870119", "M"),
        "B022",
        "McCune-Reischauer 박지훈 (PAK CHI-HUN) against PARK JIHOON / Hangul",
    ),
    _blind(
        "kb-yi-for-lee",
        sdisc("YI^SEO-YEON", "19950302", "F"),
        "B021",
        "surname 이 spelt YI, hyphenated given name, Hangul-only order",
    ),
    _blind(
        "kb-choe-apostrophe",
        sdisc("CH'OE^YU-JIN", "20000808", "F"),
        "B023",
        "McCune-Reischauer CH'OE for 최 (usually CHOI)",
    ),
    _blind(
        "kb-jung-space",
        sdisc("JUNG^HA NEUL", "19780827", "F"),
        "B024",
        "정 spelt JUNG, given name split by a space",
    ),
    _blind(
        "kb-gim-jihun",
        sdisc("GIM^JI-HUN", "19891212", "M"),
        "B025",
        "strict Revised Romanization GIM / JIHUN; a namesake 김지훈 with another DOB exists",
    ),
    _blind(
        "kb-english-name",
        sdisc("KIM^DANIEL", "19920611", "M"),
        "B020",
        "English given name on a foreign disc for 김민준",
        clear=False,
    ),
    _blind(
        "kb-twins",
        sdisc("LEE^SEOJUN", "20120509", "M"),
        "B026",
        "twins 서준 / 서진 with the same DOB",
        must_review=True,
    ),
    _blind(
        "kb-duplicate-record",
        sdisc("PARK^JIHOON", "19870119", "M"),
        "B022",
        "the same 박지훈 registered twice under two MRNs",
        must_review=True,
        add=(order("B031", "박^지훈", "19870119", "M"),),
    ),
    _blind(
        "kb-namesake-absent",
        sdisc("KIM^JIHOON", "19930405", "M"),
        None,
        "a third KIM JIHOON, DOB matches neither booked 김지훈",
    ),
    _blind(
        "kb-same-dob-stranger",
        sdisc("CHOI^MINSEO", "20000808", "F"),
        None,
        "another 최 girl born the same day as 최유진",
    ),
    _blind(
        "kb-child-namesake-absent",
        sdisc("김^민준", "20170322", "M"),
        None,
        "a child 김민준 (very common name) while an adult 김민준 is booked",
    ),
    # === Russia / Ukraine / Belarus ==================================================
    _blind(
        "cb-icao",
        sdisc("IVANOV^SERGEI", "19750621", "M"),
        "B040",
        "ICAO 9303 passport spelling, no patronymic, against Cyrillic",
    ),
    _blind(
        "cb-german",
        sdisc("IWANOW^SERGEJ^PETROWITSCH", "19750621", "M"),
        "B040",
        "German-style transliteration W / J / TSCH with the patronymic",
    ),
    _blind(
        "cb-yo-as-e",
        sdisc("ФЕДОРОВ^АЛЕКСЕЙ^ЮРЬЕВИЧ", "19820304", "M"),
        "B041",
        "Ё written as Е (ФЕДОРОВ for ФЁДОРОВ)",
    ),
    _blind(
        "cb-fyodorov-alexey",
        sdisc("FYODOROV^ALEXEY", "19820304", "M"),
        "B041",
        "common English-style spelling YO / X / EY",
    ),
    _blind(
        "cb-cyrillic-disc-latin-order",
        sdisc("КУЗНЕЦОВА^ЮЛИЯ^АНДРЕЕВНА", "19900117", "F"),
        "B042",
        "Cyrillic disc against the ICAO passport spelling KUZNETSOVA IULIIA",
    ),
    _blind(
        "cb-ukrainian-russian-form",
        sdisc("ШЕВЧЕНКО^ЕЛЕНА^ВАСИЛЬЕВНА", "19680825", "F"),
        "B043",
        "Russian form ЕЛЕНА ВАСИЛЬЕВНА of the Ukrainian ОЛЕНА ВАСИЛІВНА",
        clear=False,
    ),
    _blind(
        "cb-ukrainian-h",
        sdisc("ГОНЧАРЕНКО^ГАННА", "19850412", "F"),
        "B045",
        "Ukrainian Г romanised as H (HONCHARENKO HANNA on the passport)",
    ),
    _blind(
        "cb-belarusian",
        sdisc("ЛУКАШЭВІЧ^ЯНА", "19990131", "F"),
        "B046",
        "Belarusian Cyrillic Э / І against the passport LUKASHEVICH",
    ),
    _blind(
        "cb-soft-sign-dropped",
        sdisc("ILIN^DMITRII", "19660730", "M"),
        "B047",
        "ICAO drops Ь and writes ИЙ as II (ИЛЬИН ДМИТРИЙ)",
    ),
    _blind(
        "cb-married-surname",
        sdisc("SMIRNOVA^ANNA^VIKTOROVNA", "19830618", "F"),
        "B049",
        "married surname on the disc, maiden ПЕТРОВА on the order",
        clear=False,
    ),
    _blind(
        "cb-twins",
        sdisc("SOKOLOV^ARTEM^IGOREVICH", "20150902", "M"),
        "B051",
        "twins АРТЁМ / АРТУР ИГОРЕВИЧ with the same DOB",
        must_review=True,
        add=(
            order("B051", "СОКОЛОВ^АРТЁМ^ИГОРЕВИЧ", "20150902", "M"),
            order("B052", "СОКОЛОВ^АРТУР^ИГОРЕВИЧ", "20150902", "M"),
        ),
    ),
    _blind(
        "cb-twin-sister-absent",
        sdisc("IVANOVA^OLGA^PETROVNA", "19750621", "F"),
        None,
        "twin sister of the booked ИВАНОВ СЕРГЕЙ ПЕТРОВИЧ",
    ),
    _blind(
        "cb-son-absent",
        sdisc("ИВАНОВ^СЕРГЕЙ^СЕРГЕЕВИЧ", "20010915", "M"),
        None,
        "son with the same name and another patronymic and DOB",
    ),
    _blind(
        "cb-sister-absent",
        sdisc("ФЁДОРОВА^ИРИНА^ЮРЬЕВНА", "19850611", "F"),
        None,
        "sister of the booked ФЁДОРОВ (same surname, patronymic)",
    ),
    # === Greece ======================================================================
    _blind(
        "gb-elot",
        sdisc("PAPADOPOULOS^GEORGIOS", "19590412", "M"),
        "B060",
        "ELOT 743 passport spelling against Greek script",
    ),
    _blind(
        "gb-accents-lowercase",
        sdisc("Παπαδόπουλος^Γεώργιος", "19590412", "M"),
        "B060",
        "lower case Greek with tonos and final sigma against capitals",
    ),
    _blind(
        "gb-short-form",
        sdisc("PAPADOPOULOS^GIORGOS", "19590412", "M"),
        "B060",
        "short form GIORGOS, a different name from GEORGIOS",
        clear=False,
    ),
    _blind(
        "gb-female-genitive",
        sdisc("PAPADOPOULOU^ELENI", "19910918", "F"),
        "B061",
        "female (genitive) surname -OU; her father is on the worklist too",
    ),
    _blind(
        "gb-hadjidakis",
        sdisc("HADJIDAKIS^EVANGELOS", "19450627", "M"),
        "B062",
        "traditional spelling HADJI- for ΧΑΤΖΗ- (ELOT CHATZIDAKIS)",
    ),
    _blind(
        "gb-greek-disc-latin-order",
        sdisc("ΚΩΝΣΤΑΝΤΙΝΙΔΟΥ^ΑΙΚΑΤΕΡΙΝΗ", "19880905", "F"),
        "B064",
        "Greek disc against the passport spelling KONSTANTINIDOU AIKATERINI",
    ),
    _blind(
        "gb-letter-by-letter",
        sdisc("STAYROPOULOS^EYSTATHIOS", "19620310", "M"),
        "B065",
        "ΑΥ / ΕΥ transliterated letter by letter (ELOT STAVROPOULOS EFSTATHIOS)",
    ),
    _blind(
        "gb-namesakes-no-dob",
        sdisc("DIMITRIOU^DIMITRIOS", "", "M"),
        "B066",
        "two ΔΗΜΗΤΡΙΟΥ ΔΗΜΗΤΡΙΟΣ booked, no DOB on the disc",
        must_review=True,
        clear=False,
    ),
    _blind(
        "gb-namesake-absent",
        sdisc("PAPADOPOULOS^GEORGIOS", "19640220", "M"),
        None,
        "another PAPADOPOULOS GEORGIOS with another DOB",
    ),
    _blind(
        "gb-eleni-absent",
        sdisc("PAPADOPOULOU^ELENI", "19640503", "F"),
        None,
        "another ELENI PAPADOPOULOU (e.g. the mother), not the booked daughter",
    ),
    # === Latin-script Western ========================================================
    _blind(
        "wb-typo",
        sdisc("SCHNIEDER^KATHARINA", "19840607", "F"),
        "B080",
        "transposed letters in the surname",
    ),
    _blind(
        "wb-umlaut-spelled-out",
        sdisc("BAUMGAERTNER^JUERGEN", "19520711", "M"),
        "B083",
        "umlauts written AE / UE",
    ),
    _blind(
        "wb-no-dob",
        sdisc("GONZALEZ^JOSE", "", "M"),
        "B082",
        "no accents, no second given name and no DOB on the disc",
        clear=False,
    ),
    _blind(
        "wb-undated-namesake",
        sdisc("SMITH^JOHN", "19751103", "M"),
        "B085",
        "DOB fits one SMITH JOHN, but a third SMITH JOHN is booked without a DOB",
        must_review=True,
        add=(order("B088", "SMITH^JOHN", "", "M"),),
    ),
    _blind(
        "wb-namesakes-no-dob",
        sdisc("SMITH^JOHN", "", "M"),
        "B084",
        "two SMITH JOHN booked, no DOB on the disc",
        must_review=True,
        clear=False,
    ),
    _blind(
        "wb-married-surname",
        sdisc("BROWN^EMILY", "19890303", "F"),
        "B087",
        "married surname on the disc, maiden WILSON on the order",
        clear=False,
    ),
    _blind(
        "wb-namesake-absent",
        sdisc("SMITH^JOHN", "19620704", "M"),
        None,
        "a third SMITH JOHN whose DOB matches neither booked one",
    ),
    _blind(
        "wb-same-dob-stranger",
        sdisc("TAYLOR^JAMES", "19840607", "M"),
        None,
        "a stranger born the same day as a booked patient",
    ),
)
