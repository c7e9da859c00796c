"""A sixth blind test set for the matcher: multi-script names against one worklist.

Written on 2026-12-01 by a helper session that had NOT seen the matcher's
rules, its documentation, its benchmarks or the other case sets; it saw only
the case API (``order``, ``disc``, ``sdisc``, ``Case`` in
``tests/match_cases.py``). The answers were decided the way a careful
registration clerk would decide them, from how the names are really written
(romanization standards, passport practice, everyday usage), not from what any
program might do. It is meant to be measured once, as it is: do not tune the
matcher against it and do not edit the answers after seeing the results.

The base (``BLIND6_BASE``) is one hospital's Modality Worklist of 70 patients,
MRNs G001..G070 (one of them with two orders), whose names are DICOM Person
Names in the form the hospital's RIS really holds them: alphabetic,
ideographic and phonetic groups separated by ``=``, components by ``^``.
Some entries carry all three groups (``YAMADA^TARO=山田^太郎=やまだ^たろう``),
some only the ideographic and phonetic ones (``=山田^次郎=やまだ^じろう``),
some Hangul only, with or without ``^`` (``이^서연``, ``김민준``), some only
Cyrillic or Greek (``Иванов^Сергей^Петрович``, ``Παπαδόπουλος^Γεώργιος``),
some only Latin with or without diacritics. It holds the hard neighbours a
real worklist holds: twins (same family name and birth date, other given
name), namesakes (same name, other birth date: father and son, two women
called SATO YUKI written with different kanji), one person registered twice
under two MRNs in two spellings, near-identical names (大野/小野, 伊藤/伊東,
WANG XIAOMING/WANG XIAOMIN), relatives (husband and wife PAPADOPOULOS /
PAPADOPOULOU), and kanji whose ISO 2022 / Shift_JIS bytes contain ``=``, ``^``
or ``\\`` (秀 修 俊 能 宮 本 五 十).

Each case (``BLIND6_CASES``) is the patient on an outside CD, given as
``sdisc(name, dob, sex)``, against that worklist. ``right`` is the MRN of the
true patient, or ``None`` when the patient is not on the worklist (absent twins
and relatives whose sibling is there, strangers born the same day).
``must_review`` marks twins, duplicate records and namesakes without a birth
date, where even a correct automatic match would be unsafe. ``clear=False``
marks discs a careful person could not decide from the disc alone: another
reading of the same kanji, a maiden or married surname, a nickname or an
English / translated given name, a lunar or partial birth date, a sex
conflict, a garbled (mojibake) name.

Weighting (81 cases): Japanese 22 (Hepburn, Kunrei and Nihon-shiki romaji,
passport long vowels OH / OU / Ō, half-width katakana, hiragana vs katakana,
old and new kanji forms, kanji only vs kana only, JIS bytes of ``= ^ \\``),
Korean 16 (Revised Romanization vs McCune-Reischauer vs everyday spellings
LEE/YI/RHEE, PARK/PAK, CHOI/CHOE, JEONG/JUNG/CHUNG, KIM/GIM, given names with
or without hyphen or space, Hangul without ``^``), Cyrillic 17 (Russian,
Ukrainian, Belarusian, Bulgarian, Serbian, Kazakh; ICAO 9303 / GOST / BGN
variants; Cyrillic on one side and Latin on the other), Greek 11 (ELOT 743 /
ICAO vs traditional spellings, tonos, final sigma), others 15 (Chinese pinyin
vs Wade-Giles vs hanzi, Vietnamese with and without diacritics, Arabic and
Hebrew romanizations, Latin-script European names, mojibake of cp932, cp1250
and cp1251 names read as Latin-1). 8 cases are absent, 9 must be reviewed,
18 are not clear from the disc alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.match_cases import Case, order, sdisc

if TYPE_CHECKING:
    from reconcile.match import DiscPatient
    from reconcile.model import WorklistItem


def _garbled(name: str, codec: str) -> str:
    """The name as a viewer shows it when the bytes of ``codec`` are read as Latin-1."""
    return name.encode(codec).decode("latin-1")


BLIND6_BASE: tuple[WorklistItem, ...] = (
    # --- Japanese -------------------------------------------------------------------
    order("G001", "YAMADA^TARO=山田^太郎=やまだ^たろう", "19720314", "M", modality="CT"),
    order("G002", "=山田^次郎=やまだ^じろう", "19720314", "M", modality="CT"),
    order("G003", "SATO^YUKI=佐藤^由紀=さとう^ゆき", "19850722", "F", modality="MR"),
    order("G004", "SATO^YUKI=佐藤^雪=さとう^ゆき", "19901103", "F", modality="US"),
    order("G005", "ITO^SHUNSUKE=伊藤^俊介=いとう^しゅんすけ", "19680205", "M"),
    order("G006", "ITO^SHUNSUKE=伊東^俊介=いとう^しゅんすけ", "19710918", "M", modality="CT"),
    order("G007", "=大野^健一=おおの^けんいち", "19590430", "M", modality="CT"),
    order("G008", "=小野^健一=おの^けんいち", "19630812", "M", modality="MR"),
    order("G009", "=髙橋^美咲=たかはし^みさき", "19950117", "F"),
    order("G010", "WATANABE^MAKOTO=渡邊^誠=わたなべ^まこと", "19480622", "M", modality="CT"),
    order("G011", "SAITO^HARUKA=齋藤^遥=さいとう^はるか", "20030909", "F", modality="MR"),
    order("G012", "KONO^HIROSHI=河野^浩=こうの^ひろし", "19770505", "M"),
    order("G013", "SUZUKI^HANAKO=鈴木^花子=すずき^はなこ", "19820210", "F", modality="MG"),
    order("G014", "NOSE^HIDEKI=能勢^秀樹=のせ^ひでき", "19610727", "M", modality="CT"),
    order("G015", "MIYAMOTO^OSAMU=宮本^修=みやもと^おさむ", "19530101", "M", modality="CT"),
    order("G016", "=宮本^修=みやもと^おさむ", "19530101", "M", modality="CT", acc="A016B"),
    order("G017", "TSUCHIYA^CHIHIRO=土屋^千尋=つちや^ちひろ", "19990315", "F"),
    order("G018", "FUJITA^JUNICHI=藤田^純一=ふじた^じゅんいち", "19740828", "M", modality="MR"),
    order("G019", "SAKURAI^SHOTA=櫻井^翔太=さくらい^しょうた", "20100602", "M", modality="XR"),
    order("G020", "KUDO^YUKO=工藤^優子=くどう^ゆうこ", "19880411", "F", modality="US"),
    order("G021", "YAMAZAKI^DAISUKE=山崎^大輔=やまざき^だいすけ", "19660919", "M", modality="CT"),
    order("G022", "=五十嵐^千鶴", "19930828", "F", modality="MR"),
    # --- Korean ---------------------------------------------------------------------
    order("G023", "KIM^MINJUN=김^민준", "19870315", "M", modality="CT"),
    order("G024", "KIM^MINJI=김^민지", "19870315", "F", modality="CT"),
    order("G025", "LEE^SEOYEON=이^서연", "19920608", "F", modality="MR"),
    order("G026", "이^서연", "19950221", "F", modality="US"),
    order("G027", "PARK^JIHOON=박^지훈", "19780930", "M"),
    order("G028", "CHOI^YOUNGHO=최^영호", "19560112", "M", modality="CT", acc="A028CT"),
    order("G028", "CHOI^YOUNGHO=최^영호", "19560112", "M", modality="MR", acc="A028MR"),
    order("G029", "JEONG^HYEJIN=정^혜진", "19830419", "F", modality="MR"),
    order("G030", "JUNG^HYE JIN", "19830419", "F", modality="MR"),
    order("G031", "김민준", "20010725", "M", modality="XR"),
    order("G032", "RHEE^JAEWON=이^재원", "19690303", "M", modality="CT"),
    order("G033", "HAN^SOYOUNG=한^소영", "19900917", "F"),
    order("G034", "YOON^SEOJUN=윤^서준", "20120414", "M", modality="XR"),
    order("G035", "NAMGUNG^MINSU=남궁^민수", "19650606", "M", modality="CT"),
    order("G036", "SHIN^EUNJI=신^은지", "19971127", "F", modality="MR"),
    order("G037", "OH^JIYOUNG=오^지영", "19800823", "F", modality="MG"),
    # --- Cyrillic -------------------------------------------------------------------
    order("G038", "Иванов^Сергей^Петрович", "19640223", "M", modality="CT"),
    order("G039", "IVANOV^SERGEI", "19890711", "M", modality="MR"),
    order("G040", "Фёдоров^Алексей", "19751018", "M"),
    order("G041", "Соколова^Анна^Викторовна", "19810305", "F", modality="MG"),
    order("G042", "Шевченко^Юрій", "19700616", "M", modality="CT"),
    order("G043", "Коваленко^Олена", "19880129", "F", modality="US"),
    order("G044", "Лукашэвіч^Аляксандр", "19920812", "M", modality="MR"),
    order("G045", "Георгиев^Христо", "19580705", "M", modality="CT"),
    order("G046", "Петрова^Цветелина", "19961019", "F"),
    order("G047", "Јовановић^Милош", "19850303", "M", modality="MR"),
    order("G048", "Нұрланов^Ержан", "19910430", "M", modality="CT"),
    order("G049", "Жақсылықова^Әйгерім", "19990214", "F", modality="US"),
    order("G050", "Кузнецов^Дмитрий", "20050909", "M", modality="XR"),
    order("G051", "Кузнецов^Денис", "20050909", "M", modality="XR"),
    order("G052", "Щербакова^Юлия", "19721115", "F", modality="CT"),
    order("G053", "Соловьёв^Илья", "19660831", "M", modality="MR"),
    # --- Greek ----------------------------------------------------------------------
    order("G054", "Παπαδόπουλος^Γεώργιος", "19570321", "M", modality="CT"),
    order("G055", "PAPADOPOULOS^GEORGIOS", "19830614", "M", modality="MR"),
    order("G056", "Παπαδοπούλου^Ελένη", "19600909", "F", modality="MG"),
    order("G057", "Οικονόμου^Δημήτριος", "19741203", "M"),
    order("G058", "Χατζηγεωργίου^Αικατερίνη", "19890530", "F", modality="US"),
    order("G059", "Βασιλείου^Ευάγγελος", "19680117", "M", modality="CT"),
    order("G060", "ΣΤΑΥΡΟΥ^ΜΑΡΙΑ", "19950702", "F", modality="MR"),
    order("G061", "Κωνσταντινίδης^Νικόλαος", "19620228", "M", modality="CT"),
    # --- others ---------------------------------------------------------------------
    order("G062", "WANG^XIAOMING=王^小明", "19800512", "M", modality="CT"),
    order("G063", "WANG^XIAOMIN=王^晓敏", "19821120", "F", modality="US"),
    order("G064", "CHANG^WEI-LING=張^瑋玲", "19760807", "F", modality="MR"),
    order("G065", "NGUYỄN^THỊ THU HÀ", "19870219", "F", modality="US"),
    order("G066", "TRẦN^VĂN HÙNG", "19630426", "M", modality="CT"),
    order("G067", "AL-HASHIMI^MOHAMMED", "19790909", "M", modality="MR"),
    order("G068", "COHEN^YITZHAK", "19550814", "M", modality="CT"),
    order("G069", "DVOŘÁK^JIŘÍ", "19710304", "M"),
    order("G070", "WÓJCIK^MAŁGORZATA", "19840630", "F", modality="MG"),
)


def _case(
    id: str,
    disc: DiscPatient,
    right: str | None,
    what: str,
    *,
    must_review: bool = False,
    clear: bool = True,
) -> Case:
    """One case against the blind-6 worklist."""
    return Case(id, disc, right, what, base=BLIND6_BASE, must_review=must_review, clear=clear)


_JAPANESE: tuple[Case, ...] = (
    _case(
        "b6-ja-exact",
        sdisc("KUDO^YUKO=工藤^優子=くどう^ゆうこ", "19880411", "F"),
        "G020",
        "all three groups as on the worklist",
    ),
    _case(
        "b6-ja-wapuro-ou-uu",
        sdisc("KUDOU^YUUKO", "19880411", "F"),
        "G020",
        "long vowels typed kana by kana (KUDOU, YUUKO) for KUDO YUKO",
    ),
    _case(
        "b6-ja-passport-oh",
        sdisc("OHNO^KENICHI", "19590430", "M"),
        "G007",
        "passport OH for おお against a kanji/kana-only 大野 健一",
    ),
    _case(
        "b6-ja-macron",
        sdisc("ŌNO^KEN'ICHI", "19590430", "M"),
        "G007",
        "Hepburn with macron and apostrophe (ŌNO KEN'ICHI) for 大野 健一",
    ),
    _case(
        "b6-ja-ono-vs-ohno",
        sdisc("ONO^KENICHI", "19590430", "M"),
        "G007",
        "ONO fits both 大野 and 小野; only 大野 has this birth date",
    ),
    _case(
        "b6-ja-kunrei",
        sdisc("TUTIYA^TIHIRO", "19990315", "F"),
        "G017",
        "Kunrei-shiki TU/TI for TSUCHIYA CHIHIRO",
    ),
    _case(
        "b6-ja-nihonshiki",
        sdisc("IGARASI^TIDURU", "19930828", "F"),
        "G022",
        "Nihon-shiki (SI, TI, DU for ぢ/づ) against kanji-only 五十嵐 千鶴",
    ),
    _case(
        "b6-ja-kana-only",
        sdisc("==イガラシ^チヅル", "19930828", "F"),
        "G022",
        "katakana phonetic group only against kanji-only 五十嵐 (JIS bytes ^ and =)",
    ),
    _case(
        "b6-ja-halfwidth",
        sdisc("ﾌｼﾞﾀ^ｼﾞｭﾝｲﾁ", "19740828", "M"),
        "G018",
        "half-width katakana with separate dakuten for ふじた じゅんいち",
    ),
    _case(
        "b6-ja-katakana-vs-hiragana",
        sdisc("==サイトウ^ハルカ", "20030909", "F"),
        "G011",
        "katakana phonetic on the disc, hiragana on the worklist",
    ),
    _case(
        "b6-ja-old-kanji-taka",
        sdisc("TAKAHASHI^MISAKI=高橋^美咲", "19950117", "F"),
        "G009",
        "高 on the disc, old form 髙 on a worklist with no romaji",
    ),
    _case(
        "b6-ja-new-kanji-sakura",
        sdisc("SAKURAI^SHOUTA=桜井^翔太", "20100602", "M"),
        "G019",
        "new form 桜 vs old 櫻 and SHOUTA for SHOTA",
    ),
    _case(
        "b6-ja-kanji-only-variant",
        sdisc("=山﨑^大輔", "19660919", "M"),
        "G021",
        "kanji only with the variant 﨑 against YAMAZAKI 山崎",
    ),
    _case(
        "b6-ja-twin-kana-only",
        sdisc("YAMADA^JIRO", "19720314", "M"),
        "G002",
        "romaji against a kanji/kana-only twin; brother 太郎 has the same birth date",
        must_review=True,
    ),
    _case(
        "b6-ja-absent-triplet",
        sdisc("YAMADA^SABURO=山田^三郎", "19720314", "M"),
        None,
        "third brother of the 山田 twins, not on the worklist",
    ),
    _case(
        "b6-ja-other-reading",
        sdisc("KAWANO^HIROSHI", "19770505", "M"),
        "G012",
        "romaji of the other reading of 河野 (KAWANO, not KONO)",
        clear=False,
    ),
    _case(
        "b6-ja-maiden-name",
        sdisc("TANAKA^HANAKO=田中^花子=たなか^はなこ", "19820210", "F"),
        "G013",
        "maiden surname 田中 on an old disc; now 鈴木 花子",
        clear=False,
    ),
    _case(
        "b6-ja-jis-bytes",
        sdisc("=能勢^秀樹=のせ^ひでき", "19610727", "M"),
        "G014",
        "能 and 秀 carry = and \\ bytes in ISO 2022 / Shift_JIS",
    ),
    _case(
        "b6-ja-duplicate-record",
        sdisc("MIYAMOTO^OSAMU=宮本^修", "19530101", "M"),
        "G015",
        "same man registered twice (G015, G016); 宮 本 修 carry \\ and = JIS bytes",
        must_review=True,
    ),
    _case(
        "b6-ja-namesake-no-dob",
        sdisc("SATO^YUKI", "", "F"),
        "G003",
        "two women SATO YUKI (由紀, 雪) and no birth date",
        must_review=True,
        clear=False,
    ),
    _case(
        "b6-ja-absent-same-day",
        sdisc("TANAKA^YUKI=田中^由紀", "19850722", "F"),
        None,
        "stranger born the same day as SATO YUKI 由紀, same given name",
    ),
    _case(
        "b6-ja-kunrei-syun",
        sdisc("ITO^SYUNSUKE=伊藤^俊介", "19680205", "M"),
        "G005",
        "Kunrei SYU; 伊藤 not 伊東 (other DOB); 俊 has an = byte in JIS",
    ),
)

_KOREAN: tuple[Case, ...] = (
    _case(
        "b6-ko-twin",
        sdisc("KIM^MIN JUN=김^민준", "19870315", "M"),
        "G023",
        "twin; sister 김민지 on the worklist with the same birth date",
        must_review=True,
    ),
    _case(
        "b6-ko-absent-twin",
        sdisc("PARK^JIWOO=박^지우", "19780930", "M"),
        None,
        "twin brother of PARK JIHOON, not on the worklist",
    ),
    _case(
        "b6-ko-yi-mr",
        sdisc("YI^SŎYŎN", "19920608", "F"),
        "G025",
        "McCune-Reischauer YI SŎYŎN for LEE SEOYEON 이서연",
    ),
    _case(
        "b6-ko-hangul-no-caret",
        sdisc("이서연", "19950221", "F"),
        "G026",
        "Hangul with no ^; the other 이서연 has another birth date",
    ),
    _case(
        "b6-ko-namesake-no-dob",
        sdisc("LEE^SEO-YEON", "", "F"),
        "G025",
        "two women 이서연 on the worklist and no birth date",
        must_review=True,
        clear=False,
    ),
    _case(
        "b6-ko-pak",
        sdisc("PAK^CHI-HUN", "19780930", "M"),
        "G027",
        "McCune-Reischauer PAK CHI-HUN for PARK JIHOON 박지훈",
    ),
    _case(
        "b6-ko-choe-lunar",
        sdisc("CHOE^YONG-HO", "19551130", "M"),
        "G028",
        "CHOE for CHOI and the lunar birth date of 1956-01-12",
        clear=False,
    ),
    _case(
        "b6-ko-duplicate-record",
        sdisc("CHUNG^HYE-JIN", "19830419", "F"),
        "G029",
        "정혜진 registered twice (JEONG G029, JUNG G030); disc says CHUNG",
        must_review=True,
    ),
    _case(
        "b6-ko-rhee-lee",
        sdisc("LEE^JAE WON", "19690303", "M"),
        "G032",
        "LEE on the disc, RHEE on the worklist, both 이",
    ),
    _case(
        "b6-ko-namkung",
        sdisc("NAMKUNG^MIN-SU", "19650606", "M"),
        "G035",
        "two-syllable surname 남궁 as NAMKUNG",
    ),
    _case(
        "b6-ko-english-name",
        sdisc("HAN^SOPHIA", "19900917", "F"),
        "G033",
        "English given name SOPHIA for 소영",
        clear=False,
    ),
    _case(
        "b6-ko-sin-mr",
        sdisc("SIN^ŬNJI", "19971127", "F"),
        "G036",
        "McCune-Reischauer SIN ŬNJI for SHIN EUNJI 신은지",
    ),
    _case(
        "b6-ko-hanja",
        sdisc("OH^JI-YOUNG=吳^智英=오^지영", "19800823", "F"),
        "G037",
        "Hanja in the ideographic group, Hangul in the phonetic one",
    ),
    _case(
        "b6-ko-gim",
        sdisc("GIM^MINJUN", "20010725", "M"),
        "G031",
        "GIM for 김 against Hangul 김민준 with no ^ (not the 1987 twin)",
    ),
    _case(
        "b6-ko-absent-same-day",
        sdisc("KANG^MINJUN=강^민준", "19870315", "M"),
        None,
        "stranger 강민준 born the same day as 김민준",
    ),
    _case(
        "b6-ko-yun",
        sdisc("YUN^SEO-JUN", "20120414", "M"),
        "G034",
        "Revised Romanization YUN for YOON 윤서준",
    ),
)

_CYRILLIC: tuple[Case, ...] = (
    _case(
        "b6-cy-ru-latin",
        sdisc("IVANOV^SERGEI^PETROVICH", "19640223", "M"),
        "G038",
        "Latin with patronymic against Cyrillic Иванов Сергей Петрович",
    ),
    _case(
        "b6-cy-ru-sergey",
        sdisc("IVANOV^SERGEY", "19890711", "M"),
        "G039",
        "SERGEY vs SERGEI; the other IVANOV has another birth date",
    ),
    _case(
        "b6-cy-ru-namesake-no-dob",
        sdisc("Иванов^Сергей", "", "M"),
        "G038",
        "two Sergei Ivanovs and no birth date",
        must_review=True,
        clear=False,
    ),
    _case(
        "b6-cy-ru-fyodorov",
        sdisc("FYODOROV^ALEKSEI", "19751018", "M"),
        "G040",
        "BGN-style FYODOROV with ICAO ALEKSEI for Фёдоров Алексей",
    ),
    _case(
        "b6-cy-ru-maiden",
        sdisc("МОРОЗОВА^АННА^ВИКТОРОВНА", "19810305", "F"),
        "G041",
        "maiden surname Морозова; now Соколова",
        clear=False,
    ),
    _case(
        "b6-cy-ua-iurii",
        sdisc("SHEVCHENKO^IURII", "19700616", "M"),
        "G042",
        "ICAO IURII for Ukrainian Юрій",
    ),
    _case(
        "b6-cy-ua-russian-form",
        sdisc("Коваленко^Елена", "19880129", "F"),
        "G043",
        "Russian form Елена of the Ukrainian given name Олена",
        clear=False,
    ),
    _case(
        "b6-cy-by-passport",
        sdisc("LUKASHEVICH^ALIAKSANDR", "19920812", "M"),
        "G044",
        "Belarusian passport spelling for Лукашэвіч Аляксандр",
    ),
    _case(
        "b6-cy-bg-hristo",
        sdisc("GEORGIEV^HRISTO", "19580705", "M"),
        "G045",
        "Bulgarian official H for Х (not KH)",
    ),
    _case(
        "b6-cy-bg-mixed-case",
        sdisc("Petrova^Tsvetelina", "19961019", "F"),
        "G046",
        "mixed-case Latin TS for Ц",
    ),
    _case(
        "b6-cy-sr-latin",
        sdisc("JOVANOVIC^MILOS", "19850303", "M"),
        "G047",
        "Serbian Latin without diacritics against Cyrillic Јовановић Милош",
    ),
    _case(
        "b6-cy-kz",
        sdisc("NURLANOV^ERZHAN", "19910430", "M"),
        "G048",
        "Kazakh passport spelling for Нұрланов Ержан (Kazakh ұ)",
    ),
    _case(
        "b6-cy-kz-russified",
        sdisc("Жаксылыкова^Айгерим", "19990214", "F"),
        "G049",
        "Russian letters for Kazakh қ, ә, і",
    ),
    _case(
        "b6-cy-twin",
        sdisc("KUZNETSOV^DMITRY", "20050909", "M"),
        "G050",
        "twin; brother Денис on the worklist with the same birth date",
        must_review=True,
    ),
    _case(
        "b6-cy-absent-sister",
        sdisc("Кузнецова^Дарья", "20050909", "F"),
        None,
        "sister of the Кузнецов twins, born the same day, not on the worklist",
    ),
    _case(
        "b6-cy-ru-iuliia",
        sdisc("SHCHERBAKOVA^IULIIA", "19721115", "F"),
        "G052",
        "ICAO 2013 IU/IA for Юлия",
    ),
    _case(
        "b6-cy-ru-solovev",
        sdisc("SOLOVEV^ILIA", "19660831", "M"),
        "G053",
        "ICAO SOLOVEV ILIA (ь dropped, ё as E) for Соловьёв Илья",
    ),
)

_GREEK: tuple[Case, ...] = (
    _case(
        "b6-el-latin",
        sdisc("PAPADOPOULOS^GEORGIOS", "19570321", "M"),
        "G054",
        "ELOT Latin against Greek; the son in Latin has another birth date",
    ),
    _case(
        "b6-el-namesake-no-dob",
        sdisc("Παπαδόπουλος^Γεώργιος", "", "M"),
        "G055",
        "father and son of the same name and no birth date",
        must_review=True,
        clear=False,
    ),
    _case(
        "b6-el-wife",
        sdisc("PAPADOPOULOU^ELENI", "19600909", "F"),
        "G056",
        "feminine PAPADOPOULOU; the husband's name is close",
    ),
    _case(
        "b6-el-traditional",
        sdisc("ECONOMOU^DEMETRIOS", "19741203", "M"),
        "G057",
        "traditional ECONOMOU DEMETRIOS for Οικονόμου Δημήτριος",
    ),
    _case(
        "b6-el-hatzi",
        sdisc("HATZIGEORGIOU^AIKATERINI", "19890530", "F"),
        "G058",
        "HATZI for Χατζη (ELOT CHATZI)",
    ),
    _case(
        "b6-el-absent-twin",
        sdisc("CHATZIGEORGIOU^ANNA", "19890530", "F"),
        None,
        "twin sister of Αικατερίνη, not on the worklist",
    ),
    _case(
        "b6-el-nickname",
        sdisc("Βασιλείου^Βαγγέλης", "19680117", "M"),
        "G059",
        "everyday Βαγγέλης for Ευάγγελος",
        clear=False,
    ),
    _case(
        "b6-el-vassiliou",
        sdisc("VASSILIOU^EVAGGELOS", "19680117", "M"),
        "G059",
        "traditional VASSILIOU and letter-by-letter EVAGGELOS",
    ),
    _case(
        "b6-el-tonos",
        sdisc("Σταύρου^Μαρία", "19950702", "F"),
        "G060",
        "lower case with tonos against capitals without",
    ),
    _case(
        "b6-el-english",
        sdisc("CONSTANTINIDES^NICHOLAS", "19620228", "M"),
        "G061",
        "anglicized surname and English NICHOLAS for Νικόλαος",
        clear=False,
    ),
    _case(
        "b6-el-final-sigma",
        sdisc("Κωνσταντινίδησ^Νικόλαοσ", "19620228", "M"),
        "G061",
        "medial σ written for final ς",
    ),
)

_OTHERS: tuple[Case, ...] = (
    _case(
        "b6-zh-wade-giles",
        sdisc("WANG^HSIAO-MING", "19800512", "M"),
        "G062",
        "Wade-Giles HSIAO-MING for pinyin XIAOMING 小明",
    ),
    _case(
        "b6-zh-pinyin-simplified",
        sdisc("ZHANG^WEILING=张^玮玲", "19760807", "F"),
        "G064",
        "pinyin and simplified hanzi against Wade-Giles and traditional 張瑋玲",
    ),
    _case(
        "b6-zh-absent-same-day",
        sdisc("LIU^YANG=刘^洋", "19800512", "M"),
        None,
        "stranger born the same day as WANG XIAOMING",
    ),
    _case(
        "b6-vi-ascii",
        sdisc("NGUYEN^THI THU HA", "19870219", "F"),
        "G065",
        "Vietnamese without diacritics",
    ),
    _case(
        "b6-vi-sex-conflict",
        sdisc("Nguyễn^Thị Thu Hà", "19870219", "M"),
        "G065",
        "sex M on the disc for a woman (Thị)",
        clear=False,
    ),
    _case(
        "b6-vi-absent-near-name",
        sdisc("NGUYỄN^THỊ THU HẰNG", "19870219", "F"),
        None,
        "THU HẰNG, not THU HÀ, born the same day; not on the worklist",
    ),
    _case(
        "b6-vi-no-caret",
        sdisc("TRAN VAN HUNG", "19630426", "M"),
        "G066",
        "whole name in one component, no diacritics",
    ),
    _case(
        "b6-ar-romanization",
        sdisc("ALHASHEMI^MUHAMMAD", "19790909", "M"),
        "G067",
        "ALHASHEMI MUHAMMAD for AL-HASHIMI MOHAMMED",
    ),
    _case(
        "b6-ar-script",
        sdisc("الهاشمي^محمد", "19790909", "M"),
        "G067",
        "Arabic script against a Latin worklist",
    ),
    _case(
        "b6-he-romanization",
        sdisc("KOHEN^ITZHAK", "19550814", "M"),
        "G068",
        "KOHEN ITZHAK for COHEN YITZHAK",
    ),
    _case(
        "b6-he-english",
        sdisc("COHEN^ISAAC", "19550814", "M"),
        "G068",
        "English ISAAC for Yitzhak",
        clear=False,
    ),
    _case(
        "b6-pl-partial-dob",
        sdisc("WOJCIK^MALGORZATA", "19840000", "F"),
        "G070",
        "Polish without diacritics, birth year only",
        clear=False,
    ),
    _case(
        "b6-cs-mojibake",
        sdisc(_garbled("DVOŘÁK^JIŘÍ", "cp1250"), "19710304", "M"),
        "G069",
        "cp1250 read as Latin-1 (Ř shows as Ø)",
        clear=False,
    ),
    _case(
        "b6-ru-mojibake",
        sdisc(_garbled("Соловьёв^Илья", "cp1251"), "19660831", "M"),
        "G053",
        "cp1251 Cyrillic read as Latin-1",
        clear=False,
    ),
    _case(
        "b6-ja-mojibake",
        sdisc(_garbled("=渡辺^誠", "cp932"), "19480622", "M"),
        "G010",
        "Shift_JIS kanji read as Latin-1",
        clear=False,
    ),
)

BLIND6_CASES: tuple[Case, ...] = _JAPANESE + _KOREAN + _CYRILLIC + _GREEK + _OTHERS
