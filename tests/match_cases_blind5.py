"""A fifth blind test set for the matcher: multi-script names against one worklist.

Written on 2026-12-01 by a helper session that had NOT seen the matcher's rules,
its documentation, its benchmarks or the other case sets; it saw only the case
API (``order``, ``disc``, ``sdisc``, ``Case`` in ``tests/match_cases.py``). The
answers were decided the way a careful registration clerk would decide them,
from how the names are really written (romanization standards, passport
practice, everyday usage), not from what any program might do.
It is meant to be measured once, as it is: do not tune the matcher against it
and do not edit the answers after seeing the results.

``BLIND5_BASE`` is one hospital's worklist (MRNs F001..F070). Every case is a
disc patient against that worklist; ``right`` is the MRN of the true patient
or ``None`` when the patient is not on the worklist. ``must_review`` marks
twins and duplicate records (and two records of one name without a birth
date), where even a correct automatic match is unsafe; ``clear=False`` marks
discs on which a careful person could not decide alone: another reading of the
same kanji, a married surname, a nickname or everyday/translated given name, a
missing, partial or one-digit-off birth date, a sex conflict, a garbled name.

Weighting: Japanese (24 cases), Korean (16), Cyrillic: Russian, Ukrainian,
Belarusian, Bulgarian, Serbian, Kazakh (17), Greek (11), and Chinese,
Vietnamese, Thai and Latin-script European names (11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.match_cases import Case, order, sdisc

if TYPE_CHECKING:
    from reconcile.match import DiscPatient
    from reconcile.model import WorklistItem


def _garbled(name: str, codec: str) -> str:
    """``name`` written in ``codec`` and read back as ISO 8859-1 (mojibake)."""
    return name.encode(codec).decode("latin-1")


BLIND5_BASE: tuple[WorklistItem, ...] = (
    # --- Japanese -------------------------------------------------------------------
    order("F001", "TANABE^MISAKI=田邊^美咲=たなべ^みさき", "19850314", "F"),
    order("F002", "=髙木^誠=たかぎ^まこと", "19720920", "M"),
    order("F003", "=山﨑^由美=やまさき^ゆみ", "19680229", "F"),
    order("F004", "=齋藤^千夏=さいとう^ちなつ", "19930607", "F"),
    order("F005", "=澤田^浩二=さわだ^こうじ", "19600118", "M"),
    order("F006", "OTA^YUSUKE=太田^雄介=おおた^ゆうすけ", "19781203", "M"),
    order("F007", "イノウエ^サクラ", "20020415", "F"),
    order("F008", "=上田^浩=うえだ^ひろし", "19690711", "M"),
    order("F009", "=森^大翔=もり^ひろと", "20150903", "M"),  # twins
    order("F010", "=森^大和=もり^やまと", "20150903", "M"),
    order("F011", "=木村^直樹=きむら^なおき", "19740505", "M"),  # namesakes
    order("F012", "=木村^直樹=きむら^なおき", "19911119", "M"),
    order("F013", "=前田^彩=まえだ^あや", "19880426", "F"),
    order("F014", "=岡田^健司=おかだ^けんじ", "19630901", "M"),  # one patient, two MRNs
    order("F015", "OKADA^KENJI", "19630901", "M"),
    order("F016", "NISHIMURA^KAORI", "19820717", "F"),
    order("F017", "=藤本^静香=ふじもと^しずか", "19770129", "F"),
    order("F018", "=吉田^拓海", "19980606", "M"),  # kanji only, no reading
    order("F019", "=石井^大輝=いしい^だいき", "19960312", "M"),
    order("F020", "=太田^裕介=おおた^ゆうすけ", "19870312", "M"),  # F006's reading, other man
    order("F021", "=齊藤^千秋=さいとう^ちあき", "19930706", "F"),  # near F004
    # --- Korean ---------------------------------------------------------------------
    order("F022", "이^하은", "19940118", "F"),
    order("F023", "PARK^JUN-SEO", "19880305", "M"),
    order("F024", "최^은지", "19790624", "F"),
    order("F025", "JEONG^WOOJIN", "19830210", "M"),
    order("F026", "김^태윤", "19650725", "M"),
    order("F027", "KANG^YERIN", "20050830", "F"),
    order("F028", "신^동욱", "19710413", "M"),
    order("F029", "선우^지아", "19990921", "F"),  # two-syllable surname
    order("F030", "조^하준", "20120214", "M"),  # twins
    order("F031", "조^하윤", "20120214", "F"),
    order("F032", "이^지우", "19850808", "F"),  # namesakes
    order("F033", "이^지우", "19970315", "F"),
    order("F034", "KIM^TAEWOONG", "19680725", "M"),
    order("F035", "PARK^JUNHO", "19860305", "M"),
    # --- Cyrillic -------------------------------------------------------------------
    order("F036", "Шевченко^Андрій^Миколайович", "19760519", "M"),  # Ukrainian
    order("F037", "HRYTSENKO^YULIIA", "19890202", "F"),  # Ukrainian, national system
    order("F038", "Ковальчук^Євген", "19700811", "M"),  # Ukrainian
    order("F039", "Мельник^Ольга^Андріївна", "19640930", "F"),  # Ukrainian
    order("F040", "Кавалёў^Алесь", "19840316", "M"),  # Belarusian
    order("F041", "Първанов^Калоян", "19750622", "M"),  # Bulgarian
    order("F042", "DJORDJEVIC^NEMANJA", "19790101", "M"),  # Serbian, ASCII
    order("F043", "TOLEGENOVA^AIGUL", "19920518", "F"),  # Kazakh
    order("F044", "AKHMETOV^YERZHAN", "19810927", "M"),  # Kazakh
    order("F045", "Воробьёва^Алёна", "19950127", "F"),  # Russian
    order("F046", "ZAKHAROV^MIKHAIL", "19580402", "M"),  # Russian
    order("F047", "Гончаренко^Богдан", "20081225", "M"),  # twins
    order("F048", "Гончаренко^Богдана", "20081225", "F"),
    order("F049", "Тимофеев^Роман", "19720318", "M"),  # one patient, two MRNs
    order("F050", "TIMOFEEV^ROMAN", "19720318", "M"),
    order("F051", "Захарова^Марина", "19600415", "F"),
    order("F052", "ĐORĐEVIĆ^NEVENA", "19820303", "F"),
    # --- Greek ----------------------------------------------------------------------
    order("F053", "Παπαδάκη^Σοφία", "19830917", "F"),
    order("F054", "ΑΝΤΩΝΙΟΥ^ΙΩΑΝΝΗΣ", "19520223", "M"),
    order("F055", "Χατζηγεωργίου^Παναγιώτα", "19670814", "F"),
    order("F056", "Μπακογιάννης^Κωνσταντίνος", "19580119", "M"),
    order("F057", "DIMITRIOU^EKATERINI", "19600606", "F"),  # phonetic Latin spelling
    order("F058", "Ευθυμίου^Δέσποινα", "19990402", "F"),  # twins
    order("F059", "Ευθυμίου^Δήμητρα", "19990402", "F"),
    order("F060", "Παπαδάκης^Νικόλαος", "19550101", "M"),  # F053's father
    # --- Chinese, Vietnamese, Thai, Latin-script European ----------------------------
    order("F061", "ZHANG^XIAOLING=張^曉玲", "19940611", "F"),
    order("F062", "LIN^ZHIHAO", "19761028", "M"),
    order("F063", "TRẦN^THỊ NGỌC ÁNH", "19900725", "F"),
    order("F064", "SRISUK^PATCHARAPORN", "19850612", "F"),
    order("F065", "WÓJCIK^MAŁGORZATA", "19661203", "F"),
    order("F066", "STRAUß^HEIKE", "19710308", "F"),
    order("F067", "SVOBODOVÁ^TEREZA", "19800530", "F"),
    order("F068", "NAGY^ESZTER", "", "F"),  # no birth date on the worklist
    order("F069", "LIN^ZHIWEI", "19790405", "M"),
    order("F070", "TRAN^VAN MINH", "19620101", "M"),
)


def _case(case_id: str, d: DiscPatient, right: str | None, what: str, **kw: object) -> Case:
    return Case(case_id, d, right, what, base=BLIND5_BASE, **kw)  # type: ignore[arg-type]


BLIND5_CASES: tuple[Case, ...] = (
    # --- Japanese: variant kanji ------------------------------------------------------
    _case(
        "b5-j-tanabe-nabe",
        sdisc("=田辺^美咲=たなべ^みさき", "19850314", "F"),
        "F001",
        "邊 written 辺; the worklist also has romaji",
    ),
    _case(
        "b5-j-takagi-taka",
        sdisc("=高木^誠=たかぎ^まこと", "19720920", "M"),
        "F002",
        "髙 (hashigo-daka) written 高",
    ),
    _case(
        "b5-j-yamasaki-saki",
        sdisc("=山崎^由美", "19680229", "F"),
        "F003",
        "﨑 written 崎, kanji only on the disc; leap-day birth date",
    ),
    _case(
        "b5-j-saito-sai",
        sdisc("=斎藤^千夏=さいとう^ちなつ", "19930607", "F"),
        "F004",
        "齋 written 斎; 齊藤 千秋 (F021) has the day and month swapped",
    ),
    _case(
        "b5-j-sawada-sawa",
        sdisc("=沢田^浩二=さわだ^こうじ", "19600118", "M"),
        "F005",
        "澤 written 沢",
    ),
    # --- Japanese: romanization and kana ----------------------------------------------
    _case(
        "b5-j-ota-oo-uu",
        sdisc("OOTA^YUUSUKE", "19781203", "M"),
        "F006",
        "long vowels written OO and UU",
    ),
    _case(
        "b5-j-ota-oh",
        sdisc("OHTA^YUSUKE", "19781203", "M"),
        "F006",
        "passport-style OH",
    ),
    _case(
        "b5-j-ota-macron",
        sdisc("ŌTA^YŪSUKE", "19781203", "M"),
        "F006",
        "Hepburn with macrons",
    ),
    _case(
        "b5-j-ota-half-width",
        sdisc("ｵｵﾀ^ﾕｳｽｹ", "19781203", "M"),
        "F006",
        "half-width katakana; 太田 裕介 (F020) reads the same, other birth date",
    ),
    _case(
        "b5-j-inoue-hiragana",
        sdisc("いのうえ^さくら", "20020415", "F"),
        "F007",
        "hiragana on the disc, katakana only on the worklist",
    ),
    _case(
        "b5-j-nishimura-kanji",
        sdisc("=西村^香織=にしむら^かおり", "19820717", "F"),
        "F016",
        "kanji and kana on the disc, romaji only on the worklist",
    ),
    _case(
        "b5-j-fujimoto-kunrei",
        sdisc("HUZIMOTO^SIZUKA", "19770129", "F"),
        "F017",
        "Kunrei/Nihon-shiki HU, ZI, SI",
    ),
    # --- Japanese: readings -------------------------------------------------------------
    _case(
        "b5-j-yamazaki-reading",
        sdisc("YAMAZAKI^YUMI", "19680229", "F"),
        "F003",
        "the worklist reads 山﨑 やまさき; the disc spells the voiced reading",
        clear=False,
    ),
    _case(
        "b5-j-ueda-other-reading",
        sdisc("=上田^浩=うえだ^ゆたか", "19690711", "M"),
        "F008",
        "same kanji 浩, read ひろし on the worklist and ゆたか on the disc",
        clear=False,
    ),
    _case(
        "b5-j-yoshida-kanji-only-wl",
        sdisc("YOSHIDA^TAKUMI", "19980606", "M"),
        "F018",
        "romaji disc, kanji-only worklist: 拓海 has more than one reading",
        clear=False,
    ),
    # --- Japanese: hazards --------------------------------------------------------------
    _case(
        "b5-j-mori-twins",
        sdisc("MORI^HIROTO", "20150903", "M"),
        "F009",
        "twin brothers 大翔 and 大和",
        must_review=True,
    ),
    _case(
        "b5-j-mori-absent-triplet",
        sdisc("=森^悠真=もり^ゆうま", "20150903", "M"),
        None,
        "a third brother with the twins' birth date has no order",
    ),
    _case(
        "b5-j-kimura-namesake",
        sdisc("KIMURA^NAOKI", "19911119", "M"),
        "F012",
        "two 木村 直樹, birth date decides",
    ),
    _case(
        "b5-j-kimura-no-dob",
        sdisc("=木村^直樹", "", "M"),
        "F011",
        "two 木村 直樹, no birth date on the disc",
        must_review=True,
        clear=False,
    ),
    _case(
        "b5-j-maeda-married",
        sdisc("=松井^彩=まつい^あや", "19880426", "F"),
        "F013",
        "maiden name 松井 on the disc, married name 前田 on the worklist",
        clear=False,
    ),
    _case(
        "b5-j-okada-duplicate",
        sdisc("=岡田^健司=おかだ^けんじ", "19630901", "M"),
        "F014",
        "one patient registered twice, in kanji (F014) and romaji (F015)",
        must_review=True,
    ),
    _case(
        "b5-j-fujimoto-sex",
        sdisc("=藤本^静香=ふじもと^しずか", "19770129", "M"),
        "F017",
        "a woman's name, sex M on the disc",
        clear=False,
    ),
    _case(
        "b5-j-ishii-dob-digit",
        sdisc("=石井^大輝=いしい^だいき", "19960313", "M"),
        "F019",
        "birth date one digit off",
        clear=False,
    ),
    _case(
        "b5-j-tanabe-absent-namesake",
        sdisc("TANABE^MISAKI", "19620921", "F"),
        None,
        "a namesake of F001 born 23 years earlier",
    ),
    # --- Korean -------------------------------------------------------------------------
    _case("b5-k-rhee", sdisc("RHEE^HAEUN", "19940118", "F"), "F022", "이 written RHEE"),
    _case("b5-k-yi-spaced", sdisc("YI^HA EUN", "19940118", "F"), "F022", "이 as YI, given spaced"),
    _case(
        "b5-k-park-no-caret",
        sdisc("박준서", "19880305", "M"),
        "F023",
        "Hangul without ^ against PARK^JUN-SEO",
    ),
    _case(
        "b5-k-pak-mr",
        sdisc("PAK^CHUNSŎ", "19880305", "M"),
        "F023",
        "McCune-Reischauer 박준서",
    ),
    _case(
        "b5-k-english-name",
        sdisc("PARK^DANIEL", "19880305", "M"),
        "F023",
        "an English given name; PARK^JUNHO (F035) is born two years earlier",
        clear=False,
    ),
    _case("b5-k-choe", sdisc("CHOE^EUNJI", "19790624", "F"), "F024", "최 as CHOE"),
    _case(
        "b5-k-absent-eunju",
        sdisc("최^은주", "19790624", "F"),
        None,
        "최은주, same birth date as 최은지: not on the worklist",
    ),
    _case(
        "b5-k-chung",
        sdisc("CHUNG^WOO-JIN", "19830210", "M"),
        "F025",
        "정 as CHUNG against JEONG, given hyphenated",
    ),
    _case("b5-k-gim", sdisc("GIM^TAEYUN", "19650725", "M"), "F026", "Revised Romanization GIM"),
    _case("b5-k-gang", sdisc("GANG^YE-RIN", "20050830", "F"), "F027", "GANG against KANG"),
    _case("b5-k-sin", sdisc("SIN^DONGUK", "19710413", "M"), "F028", "Revised Romanization SIN"),
    _case(
        "b5-k-sunwoo",
        sdisc("SUNWOO^JIA", "19990921", "F"),
        "F029",
        "two-syllable surname 선우 as SUNWOO",
    ),
    _case(
        "b5-k-seonu-no-caret",
        sdisc("선우지아", "19990921", "F"),
        "F029",
        "two-syllable surname without ^",
    ),
    _case(
        "b5-k-twins-jo",
        sdisc("JO^HAJUN", "20120214", "M"),
        "F030",
        "twins 하준 and 하윤",
        must_review=True,
    ),
    _case(
        "b5-k-namesake",
        sdisc("LEE^JI WOO", "19970315", "F"),
        "F033",
        "two 이지우, birth date decides",
    ),
    _case(
        "b5-k-namesake-no-dob",
        sdisc("이지우", "", "F"),
        "F032",
        "two 이지우, no birth date on the disc",
        must_review=True,
        clear=False,
    ),
    # --- Cyrillic -------------------------------------------------------------------------
    _case(
        "b5-c-andrii",
        sdisc("SHEVCHENKO^ANDRII", "19760519", "M"),
        "F036",
        "Ukrainian national system; the patronymic only on the worklist",
    ),
    _case(
        "b5-c-andrey-russian-form",
        sdisc("Шевченко^Андрей", "19760519", "M"),
        "F036",
        "the Russian form Андрей of the Ukrainian name Андрій",
        clear=False,
    ),
    _case(
        "b5-c-shevchenko-mojibake",
        sdisc(_garbled("Шевченко^Андрій", "cp1251"), "19760519", "M"),
        "F036",
        "cp1251 bytes read as Latin-1",
        clear=False,
    ),
    _case(
        "b5-c-yuliia-cyrillic",
        sdisc("Гриценко^Юлія", "19890202", "F"),
        "F037",
        "Cyrillic disc against HRYTSENKO^YULIIA",
    ),
    _case(
        "b5-c-ievgen",
        sdisc("KOVALCHUK^IEVGEN", "19700811", "M"),
        "F038",
        "Є as IE, г as G (older Ukrainian passports)",
    ),
    _case(
        "b5-c-olha",
        sdisc("MELNYK^OLHA", "19640930", "F"),
        "F039",
        "г as H, и as Y; patronymic Андріївна only on the worklist",
    ),
    _case(
        "b5-c-kavaliou",
        sdisc("KAVALIOU^ALES", "19840316", "M"),
        "F040",
        "Belarusian ё as IO, ў as U",
    ),
    _case(
        "b5-c-kavaliou-no-dob",
        sdisc("KAVALIOU^ALES", "", "M"),
        "F040",
        "no birth date on the disc",
        clear=False,
    ),
    _case(
        "b5-c-purvanov",
        sdisc("PURVANOV^KALOYAN", "19750622", "M"),
        "F041",
        "Bulgarian ъ as U (older spelling; the Streamlined System gives PARVANOV)",
    ),
    _case(
        "b5-c-djordjevic-cyrillic",
        sdisc("Ђорђевић^Немања", "19790101", "M"),
        "F042",
        "Serbian Cyrillic against ASCII DJ for Đ",
    ),
    _case(
        "b5-c-tulegenova-russian",
        sdisc("Тулегенова^Айгуль", "19920518", "F"),
        "F043",
        "the Russian spelling of Kazakh Төлегенова Айгүл",
        clear=False,
    ),
    _case(
        "b5-c-ahmetov",
        sdisc("AHMETOV^ERZHAN", "19810927", "M"),
        "F044",
        "х as H, Е as E against KH and YE",
    ),
    _case(
        "b5-c-yo-as-e",
        sdisc("Воробьева^Алена", "19950127", "F"),
        "F045",
        "ё written е",
    ),
    _case(
        "b5-c-misha",
        sdisc("ZAKHAROV^MISHA", "19580402", "M"),
        "F046",
        "the nickname Миша for Михаил",
        clear=False,
    ),
    _case(
        "b5-c-absent-brother",
        sdisc("Захаров^Максим", "19580402", "M"),
        None,
        "same family name and birth date as F046, another given name",
    ),
    _case(
        "b5-c-twins",
        sdisc("HONCHARENKO^BOHDAN", "20081225", "M"),
        "F047",
        "twins Богдан and Богдана",
        must_review=True,
    ),
    _case(
        "b5-c-duplicate",
        sdisc("TIMOFEYEV^ROMAN", "19720318", "M"),
        "F049",
        "one patient registered twice, in Cyrillic (F049) and Latin (F050)",
        must_review=True,
    ),
    # --- Greek ----------------------------------------------------------------------------
    _case(
        "b5-g-papadaki-elot",
        sdisc("PAPADAKI^SOFIA", "19830917", "F"),
        "F053",
        "ELOT 743 against Greek",
    ),
    _case(
        "b5-g-papadaki-sex",
        sdisc("PAPADAKI^SOFIA", "19830917", "M"),
        "F053",
        "a woman's name (feminine surname), sex M on the disc",
        clear=False,
    ),
    _case(
        "b5-g-papadakis-absent",
        sdisc("PAPADAKIS^NIKOLAOS", "19830917", "M"),
        None,
        "the father's name (F060) and the sister's birth date (F053)",
    ),
    _case(
        "b5-g-ioannis",
        sdisc("Αντωνίου^Ιωάννης", "19520223", "M"),
        "F054",
        "lower case with accents against upper case without",
    ),
    _case(
        "b5-g-giannis",
        sdisc("ANTONIOU^GIANNIS", "19520223", "M"),
        "F054",
        "everyday Γιάννης for the formal Ιωάννης",
        clear=False,
    ),
    _case(
        "b5-g-hadjigeorgiou",
        sdisc("HADJIGEORGIOU^PANAYIOTA", "19670814", "F"),
        "F055",
        "older/Cypriot spelling: τζ as DJ, γι as YI",
    ),
    _case(
        "b5-g-giota",
        sdisc("CHATZIGEORGIOU^GIOTA", "19670814", "F"),
        "F055",
        "everyday Γιώτα for Παναγιώτα",
        clear=False,
    ),
    _case(
        "b5-g-mojibake",
        sdisc(_garbled("Χατζηγεωργίου^Παναγιώτα", "utf-8"), "19670814", "F"),
        "F055",
        "UTF-8 bytes read as Latin-1",
        clear=False,
    ),
    _case(
        "b5-g-mpakogiannis",
        sdisc("MPAKOGIANNIS^KONSTANTINOS", "19580119", "M"),
        "F056",
        "ELOT 743 (passport) μπ as MP",
    ),
    _case(
        "b5-g-greek-disc",
        sdisc("Δημητρίου^Αικατερίνη", "19600606", "F"),
        "F057",
        "Greek disc against a phonetic Latin spelling (αι as E)",
    ),
    _case(
        "b5-g-twins",
        sdisc("EFTHYMIOU^DESPOINA", "19990402", "F"),
        "F058",
        "twin sisters Δέσποινα and Δήμητρα",
        must_review=True,
    ),
    # --- Chinese, Vietnamese, Thai, Latin-script European ----------------------------------
    _case(
        "b5-o-zhang-simplified",
        sdisc("=张^晓玲", "19940611", "F"),
        "F061",
        "simplified characters against traditional",
    ),
    _case(
        "b5-o-cheung-cantonese",
        sdisc("CHEUNG^HIU LING", "19940611", "F"),
        "F061",
        "Cantonese romanization, no characters on the disc",
        clear=False,
    ),
    _case(
        "b5-o-lin-wade-giles",
        sdisc("LIN^CHIH-HAO", "19761028", "M"),
        "F062",
        "Wade-Giles against pinyin; LIN^ZHIWEI (F069) too",
    ),
    _case(
        "b5-o-tran-ascii",
        sdisc("TRAN^THI NGOC ANH", "19900725", "F"),
        "F063",
        "Vietnamese without diacritics",
    ),
    _case(
        "b5-o-tran-absent",
        sdisc("TRAN^THI NGOC ANH", "19781102", "F"),
        None,
        "a namesake with another birth date",
    ),
    _case(
        "b5-o-thai-rtgs",
        sdisc("SISUK^PHATCHARAPHON", "19850612", "F"),
        "F064",
        "RTGS against the common spelling",
    ),
    _case(
        "b5-o-thai-nickname",
        sdisc("SRISUK^PLOY", "19850612", "F"),
        "F064",
        "a Thai nickname",
        clear=False,
    ),
    _case(
        "b5-o-wojcik-ascii",
        sdisc("WOJCIK^MALGORZATA", "19661203", "F"),
        "F065",
        "Polish ó and ł written without diacritics",
    ),
    _case(
        "b5-o-married-cz",
        sdisc("DVOŘÁKOVÁ^TEREZA", "19800530", "F"),
        "F067",
        "a married surname",
        clear=False,
    ),
    _case(
        "b5-o-wl-no-dob",
        sdisc("NAGY^ESZTER", "19890101", "F"),
        "F068",
        "no birth date on the worklist",
        clear=False,
    ),
    _case(
        "b5-o-partial-dob",
        sdisc("STRAUSS^HEIKE", "1971", "F"),
        "F066",
        "year only; ß written SS",
        clear=False,
    ),
)
