"""A fourth blind test set for the matcher: multi-script names against one worklist.

Written on 2026-12-01 by a helper session that had NOT seen the matcher's rules,
its documentation, its benchmarks or the other case sets; it saw only the case
API (``order``, ``disc``, ``sdisc``, ``Case`` in ``tests/match_cases.py``). The
answers were decided the way a careful registration clerk would decide them,
from how the names are really written (ICAO 9303, GOST, BGN/PCGN, the
Ukrainian and Bulgarian national systems, ELOT 743, Hepburn, Kunrei-shiki and
Nihon-shiki, Revised Romanization and McCune-Reischauer, pinyin and
Wade-Giles, and the everyday spellings people carry in their documents), not
from what any program might do.
It is meant to be measured once, as it is: do not tune the matcher against it
and do not edit the answers after seeing the results.

``BLIND4_BASE`` is one hospital's worklist (MRNs E001..E064). Every case is a
disc patient against that worklist; ``right`` is the MRN of the true patient
or ``None`` when the patient is not on the worklist. ``must_review`` marks
twins and duplicate records (and namesakes with no birth date to tell them
apart), where even a correct automatic match is unsafe; ``clear=False`` marks
discs on which a careful person could not decide alone: a birth date one digit
off, missing or partial, a sex that contradicts the order, a changed (married)
surname, a nickname, a familiar or translated given name, a name read under the
wrong character set, a romanization from another dialect, or a name whose
family and given parts could be either way round. A standard transliteration
variant with the same birth date and sex is clear.

Where a disc holds a garbled name it is built here, in the open, by encoding
the real name in the disc's character set and reading the bytes as ISO 8859-1
(what a reader does when the disc declares no Specific Character Set).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tests.match_cases import Case, order, sdisc

if TYPE_CHECKING:
    from reconcile.match import DiscPatient
    from reconcile.model import WorklistItem


BLIND4_BASE: tuple[WorklistItem, ...] = (
    # --- Japanese ------------------------------------------------------------------
    order("E001", "SATO^HIROSHI=佐藤^浩=サトウ^ヒロシ", "19640522", "M"),
    order("E002", "KONDO^MEGUMI=近藤^恵=こんどう^めぐみ", "19780214", "F"),
    order("E003", "=大塚^雄一=おおつか^ゆういち", "19551003", "M"),
    order("E004", "SHIMIZU^CHIKA=清水^千佳=しみず^ちか", "19890617", "F"),
    order("E005", "=藤原^譲二=ふじわら^じょうじ", "19470930", "M"),
    order("E006", "=石川^美咲=いしかわ^みさき", "19950118", "F"),  # twins
    order("E007", "=石川^美月=いしかわ^みづき", "19950118", "F"),
    order("E008", "=田村^誠=たむら^まこと", "19700815", "M"),  # namesakes
    order("E009", "=田村^誠=たむら^まこと", "19830322", "M"),
    order("E010", "=小川^直樹=おがわ^なおき", "19671120", "M"),  # one man, two MRNs
    order("E011", "OGAWA^NAOKI", "19671120", "M"),
    order("E012", "=吉田^由美=よしだ^ゆみ", "19800909", "F"),
    order("E013", "ホシノ^ジュンコ", "19600404", "F"),
    order("E014", "=高木^勇=たかぎ^いさむ", "19521212", "M"),
    # --- Korean --------------------------------------------------------------------
    order("E015", "이^도윤", "19880312", "M"),
    order("E016", "PARK^JIWOO=朴^智友=박^지우", "19920719", "F"),
    order("E017", "최^현우", "19751105", "M"),
    order("E018", "JEONG^MINSEO", "20010228", "F"),
    order("E019", "김^예준", "19990606", "M"),
    order("E020", "송^민지", "19960909", "F"),  # twins
    order("E021", "송^민아", "19960909", "F"),
    order("E022", "KANG^SUNGMIN=강^성민", "19830303", "M"),
    order("E023", "YOON^JAEWON", "19711018", "M"),  # one man, two MRNs
    order("E024", "윤^재원", "19711018", "M"),
    order("E025", "선우^진", "19800420", "M"),  # two-syllable surname 선우
    # --- Russian, Ukrainian, Bulgarian, Serbian --------------------------------------
    order("E026", "Васильев^Сергей^Николаевич", "19690411", "M"),
    order("E027", "Фёдорова^Ксения", "19870923", "F"),
    order("E028", "ALEKSEEV^ALEKSEI", "19810617", "M"),
    order("E029", "YURCHENKO^YULIIA", "19930514", "F"),  # Ukrainian national system
    order("E030", "Гнатюк^Андрій", "19640229", "M"),  # Ukrainian
    order("E031", "Христова^Цветелина", "19790808", "F"),  # Bulgarian
    order("E032", "Бъчваров^Тодор", "19580303", "M"),  # Bulgarian
    order("E033", "ĐORĐEVIĆ^MILOŠ", "19840707", "M"),  # Serbian Latin
    order("E034", "YUDIN^YURY", "19720825", "M"),  # BGN-style Latin
    order("E035", "Зайцев^Артём", "20120404", "M"),  # twins
    order("E036", "Зайцев^Матвей", "20120404", "M"),
    order("E037", "Никитин^Павел", "19620505", "M"),  # namesakes
    order("E038", "NIKITIN^PAVEL", "19880505", "M"),
    order("E039", "BOGDANOVA^VALENTINA", "19450312", "F"),
    order("E040", "Тимофеев^Вадим^Игоревич", "19770118", "M"),
    # --- Greek -----------------------------------------------------------------------
    order("E041", "Ζαχαρίου^Γεώργιος", "19730127", "M"),
    order("E042", "Οικονόμου^Αικατερίνη", "19820310", "F"),
    order("E043", "MAVRIDIS^EFSTATHIOS", "19610904", "M"),
    order("E044", "Μπουρνάζος^Παντελής", "19590721", "M"),
    # --- Chinese ---------------------------------------------------------------------
    order("E045", "ZHANG^XIAOMING=张^晓明", "19850812", "M"),
    order("E046", "LIU^JIANGUO=刘^建国", "19530917", "M"),
    order("E047", "XU^LI", "19881004", "F"),  # namesakes
    order("E048", "XU^LI", "19710405", "F"),
    order("E049", "CHAN^TAI MAN=陳^大文", "19650723", "M"),  # Hong Kong (Cantonese)
    order("E050", "WANG^FANG=王^芳", "19920202", "F"),  # namesakes
    order("E051", "WANG^FANG", "19290202", "F"),
    # --- Arabic and Hebrew names in Latin ----------------------------------------------
    order("E052", "AL-HASSAN^MOHAMMED", "19780520", "M"),
    order("E053", "ABDULRAHMAN^YUSUF", "19900130", "M"),
    order("E054", "COHEN^YITZHAK", "19500811", "M"),
    order("E055", "SHAPIRO^RIVKA", "19680126", "F"),
    # --- Latin: accents, particles, double surnames --------------------------------------
    order("E056", "VAN DER MEULEN^JOHANNES", "19611209", "M"),
    order("E057", "DE LA CRUZ^MARÍA DEL CARMEN", "19770403", "F"),
    order("E058", "FERNÁNDEZ RODRÍGUEZ^JOSÉ LUIS", "19660511", "M"),
    order("E059", "GONÇALVES^JOÃO", "19490623", "M"),  # one man, two MRNs
    order("E060", "GONCALVES^JOAO", "19490623", "M"),
    order("E061", "LEFÈVRE^HÉLÈNE", "19580914", "F"),
    order("E062", "WEIß^GÜNTHER", "19440317", "M"),
    order("E063", "ÅSTRÖM^BIRGITTA", "19530530", "F"),
    order("E064", "NAGY^ISTVÁN", "19710202", "M"),
)


def _case(case_id: str, d: DiscPatient, right: str | None, what: str, **kw: object) -> Case:
    return Case(case_id, d, right, what, base=BLIND4_BASE, **kw)  # type: ignore[arg-type]


def _garbled(name: str, codec: str) -> str:
    """``name`` written in ``codec`` and read back as ISO 8859-1 (mojibake)."""
    return name.encode(codec).decode("latin-1")


BLIND4_CASES: tuple[Case, ...] = (
    # --- Japanese --------------------------------------------------------------------
    _case("b4-j-sato-macron", sdisc("SATŌ^HIROSHI", "19640522", "M"), "E001", "Ō for とう"),
    _case(
        "b4-j-hiragana",
        sdisc("さとう^ひろし", "19640522", "M"),
        "E001",
        "hiragana disc, katakana on the worklist",
    ),
    _case("b4-j-kondoh", sdisc("KONDOH^MEGUMI", "19780214", "F"), "E002", "long vowel OH"),
    _case(
        "b4-j-kondou-dob-digit",
        sdisc("KONDOU^MEGUMI", "19780215", "F"),
        "E002",
        "long vowel OU; birth date one digit off",
        clear=False,
    ),
    _case(
        "b4-j-ootsuka",
        sdisc("OOTSUKA^YUUICHI", "19551003", "M"),
        "E003",
        "OO and UU (word-processor romaji), kanji and kana on the worklist only",
    ),
    _case(
        "b4-j-kunrei-circumflex",
        sdisc("ÔTUKA^YÛITI", "19551003", "M"),
        "E003",
        "Kunrei-shiki with circumflexes: TU for つ, TI for ち",
    ),
    _case(
        "b4-j-half-width",
        sdisc("ｼﾐｽﾞ^ﾁｶ", "19890617", "F"),
        "E004",
        "half-width katakana with a separate voiced mark",
    ),
    _case(
        "b4-j-partial-dob",
        sdisc("SHIMIZU^CHIKA", "198906", "F"),
        "E004",
        "year and month only",
        clear=False,
    ),
    _case(
        "b4-j-nihon-shiki",
        sdisc("HUZIWARA^ZYOZI", "19470930", "M"),
        "E005",
        "Nihon-/Kunrei-shiki HU, ZI, ZYO; long vowel dropped",
    ),
    _case(
        "b4-j-twins",
        sdisc("ISHIKAWA^MISAKI", "19950118", "F"),
        "E006",
        "twins 美咲 and 美月",
        must_review=True,
    ),
    _case(
        "b4-j-namesake-no-dob",
        sdisc("=田村^誠=たむら^まこと", "", "M"),
        "E008",
        "two patients 田村誠, no birth date on the disc",
        must_review=True,
        clear=False,
    ),
    _case(
        "b4-j-duplicate",
        sdisc("OGAWA^NAOKI", "19671120", "M"),
        "E010",
        "one man registered twice (kanji record and romaji record)",
        must_review=True,
    ),
    _case(
        "b4-j-married",
        sdisc("=森^由美=もり^ゆみ", "19800909", "F"),
        "E012",
        "married surname 森 on the disc, 吉田 on the worklist",
        clear=False,
    ),
    _case(
        "b4-j-katakana-worklist",
        sdisc("HOSHINO^JUNKO", "19600404", "F"),
        "E013",
        "Hepburn disc, katakana-only worklist",
    ),
    _case(
        "b4-j-absent-brother",
        sdisc("=高木^勉=たかぎ^つとむ", "19541212", "M"),
        None,
        "高木勉, a brother of 高木勇 (birth date one digit apart)",
    ),
    # --- Korean ----------------------------------------------------------------------
    _case("b4-k-yi", sdisc("YI^DO-YUN", "19880312", "M"), "E015", "이 as YI, hyphenated given"),
    _case("b4-k-rhee", sdisc("RHEE^DOYOON", "19880312", "M"), "E015", "이 as RHEE, 윤 as YOON"),
    _case(
        "b4-k-bak",
        sdisc("BAK^JI-U", "19920719", "F"),
        "E016",
        "strict Revised Romanization BAK against PARK",
    ),
    _case(
        "b4-k-hangul-no-caret",
        sdisc("박지우", "19920719", "F"),
        "E016",
        "Hangul without ^ against a Latin=hanja=Hangul worklist",
    ),
    _case("b4-k-choe-rr", sdisc("CHOE^HYEON-U", "19751105", "M"), "E017", "Revised Romanization"),
    _case(
        "b4-k-choe-mr",
        sdisc("CH'OE^HYŎN-U", "19751105", "M"),
        "E017",
        "McCune-Reischauer with apostrophe and breve",
    ),
    _case("b4-k-jung", sdisc("JUNG^MIN-SEO", "20010228", "F"), "E018", "JUNG against JEONG"),
    _case("b4-k-gim", sdisc("GIM^YEJUN", "19990606", "M"), "E019", "김 as GIM"),
    _case(
        "b4-k-twins",
        sdisc("SONG^MINJI", "19960909", "F"),
        "E020",
        "twins 민지 and 민아",
        must_review=True,
    ),
    _case(
        "b4-k-absent-seungmin",
        sdisc("강^승민", "19850303", "M"),
        None,
        "강승민 is not 강성민 (SUNGMIN), and the birth year differs",
    ),
    _case(
        "b4-k-duplicate",
        sdisc("YUN^JAE-WON", "19711018", "M"),
        "E023",
        "one man registered twice (Latin record and Hangul record)",
        must_review=True,
    ),
    _case(
        "b4-k-seonu",
        sdisc("SEONU^JIN", "19800420", "M"),
        "E025",
        "two-syllable surname 선우 in Revised Romanization",
    ),
    # --- Russian, Ukrainian, Bulgarian, Serbian ----------------------------------------
    _case(
        "b4-r-icao",
        sdisc("VASILEV^SERGEI", "19690411", "M"),
        "E026",
        "ICAO Latin disc; Cyrillic worklist with patronymic",
    ),
    _case(
        "b4-r-absent-twin",
        sdisc("Васильев^Семён", "19690411", "M"),
        None,
        "twin brother Семён; only Сергей has an order",
    ),
    _case(
        "b4-r-kseniia",
        sdisc("FEDOROVA^KSENIIA", "19870923", "F"),
        "E027",
        "ICAO: ё as E, ия as IIA",
    ),
    _case(
        "b4-r-married",
        sdisc("ORLOVA^KSENIYA", "19870923", "F"),
        "E027",
        "married surname on the disc",
        clear=False,
    ),
    _case(
        "b4-r-alexey",
        sdisc("ALEXEEV^ALEXEY", "19810617", "M"),
        "E028",
        "X and EY against KS and EI",
    ),
    _case(
        "b4-u-yuliia-cyrillic",
        sdisc("Юрченко^Юлія", "19930514", "F"),
        "E029",
        "Ukrainian Cyrillic disc, Ukrainian national Latin worklist",
    ),
    _case(
        "b4-u-hnatiuk",
        sdisc("HNATIUK^ANDRII", "19640229", "M"),
        "E030",
        "Ukrainian Г as H, ю as IU, ій as II",
    ),
    _case(
        "b4-bg-no-dob",
        sdisc("KHRISTOVA^TSVETELINA", "", "F"),
        "E031",
        "Bulgarian, BGN KH; no birth date",
        clear=False,
    ),
    _case(
        "b4-bg-buchvarov",
        sdisc("BUCHVAROV^TODOR", "19580303", "M"),
        "E032",
        "Bulgarian ъ as U (BGN) rather than A (official)",
    ),
    _case(
        "b4-rs-cyrillic",
        sdisc("Ђорђевић^Милош", "19840707", "M"),
        "E033",
        "Serbian Cyrillic disc, Serbian Latin worklist",
    ),
    _case(
        "b4-r-iurii",
        sdisc("IUDIN^IURII", "19720825", "M"),
        "E034",
        "ICAO IU/IURII against BGN-style YU/YURY, both Latin",
    ),
    _case(
        "b4-r-twins",
        sdisc("ZAITSEV^ARTYOM", "20120404", "M"),
        "E035",
        "twins Артём and Матвей",
        must_review=True,
    ),
    _case(
        "b4-r-namesake-dob",
        sdisc("Никитин^Павел", "19880505", "M"),
        "E038",
        "two Павел Никитин (one Cyrillic, one Latin), birth date decides",
    ),
    _case(
        "b4-r-namesake-neither",
        sdisc("NIKITIN^PAVEL", "19750505", "M"),
        None,
        "a third Павел Никитин, birth date fits neither",
    ),
    _case(
        "b4-r-patronymic-disc",
        sdisc("Богданова^Валентина^Ивановна", "19450312", "F"),
        "E039",
        "patronymic on the disc only",
    ),
    _case(
        "b4-r-mojibake",
        sdisc(_garbled("Богданова^Валентина", "cp1251"), "19450312", "F"),
        "E039",
        "cp1251 bytes read as ISO 8859-1: 'Áîãäàíîâà^Âàëåíòèíà'",
        clear=False,
    ),
    _case(
        "b4-r-patronymic-worklist",
        sdisc("TIMOFEEV^VADIM", "19770118", "M"),
        "E040",
        "patronymic on the worklist only",
    ),
    # --- Greek -------------------------------------------------------------------------
    _case("b4-g-elot", sdisc("ZACHARIOU^GEORGIOS", "19730127", "M"), "E041", "ELOT 743"),
    _case(
        "b4-g-yiorgos",
        sdisc("ZAHARIOU^YIORGOS", "19730127", "M"),
        "E041",
        "χ as H; YIORGOS, the usual English spelling of Γεώργιος/Γιώργος",
    ),
    _case(
        "b4-g-absent-twin",
        sdisc("ZACHARIOU^NIKOLAOS", "19730127", "M"),
        None,
        "twin brother Νικόλαος; only Γεώργιος has an order",
    ),
    _case(
        "b4-g-katerina",
        sdisc("OIKONOMOU^KATERINA", "19820310", "F"),
        "E042",
        "KATERINA, the familiar form of Αικατερίνη",
        clear=False,
    ),
    _case(
        "b4-g-sex-conflict",
        sdisc("OIKONOMOU^AIKATERINI", "19820310", "M"),
        "E042",
        "ELOT name and birth date fit, sex M against a woman's order",
        clear=False,
    ),
    _case(
        "b4-g-greek-disc",
        sdisc("Μαυρίδης^Ευστάθιος", "19610904", "M"),
        "E043",
        "Greek disc, Latin worklist: αυ as AV, ευ as EF, θ as TH",
    ),
    _case(
        "b4-g-mp",
        sdisc("MPOURNAZOS^PANTELIS", "19590721", "M"),
        "E044",
        "initial μπ as MP (older passports), not B",
    ),
    # --- Chinese -----------------------------------------------------------------------
    _case(
        "b4-c-wade-giles",
        sdisc("CHANG^HSIAO-MING", "19850812", "M"),
        "E045",
        "Wade-Giles against pinyin",
    ),
    _case("b4-c-hanzi", sdisc("张晓明", "19850812", "M"), "E045", "hanzi without ^"),
    _case(
        "b4-c-english-name",
        sdisc("ZHANG^KEVIN", "19850812", "M"),
        "E045",
        "an English given name for 晓明",
        clear=False,
    ),
    _case(
        "b4-c-traditional",
        sdisc("劉^建國", "19530917", "M"),
        "E046",
        "traditional characters against simplified",
    ),
    _case(
        "b4-c-hsu",
        sdisc("HSU^LI", "19881004", "F"),
        "E047",
        "HSU (Wade-Giles) for XU; two XU LI, birth date decides",
    ),
    _case(
        "b4-c-xu-hanzi",
        sdisc("徐丽", "19710405", "F"),
        "E048",
        "hanzi against pinyin-only records; two XU LI, birth date decides",
    ),
    _case(
        "b4-c-cantonese",
        sdisc("CHEN^DAWEN", "19650723", "M"),
        "E049",
        "Mandarin pinyin of 陳大文 against its Cantonese spelling CHAN TAI MAN",
        clear=False,
    ),
    _case(
        "b4-c-fang-wang",
        sdisc("FANG^WANG", "19920202", "F"),
        "E050",
        "order swapped; FANG and WANG are both surnames",
        clear=False,
    ),
    # --- Arabic and Hebrew names in Latin ------------------------------------------------
    _case(
        "b4-a-muhammad",
        sdisc("ALHASSAN^MUHAMMAD", "19780520", "M"),
        "E052",
        "article joined, MUHAMMAD for MOHAMMED",
    ),
    _case(
        "b4-a-no-article",
        sdisc("HASSAN^MOHAMED", "19780520", "M"),
        "E052",
        "article AL- dropped, MOHAMED",
    ),
    _case(
        "b4-a-absent-brother",
        sdisc("AL-HASSAN^MAHMOUD", "19780520", "M"),
        None,
        "MAHMOUD is another name than MOHAMMED (twin brother)",
    ),
    _case(
        "b4-a-abdel",
        sdisc("ABD EL-RAHMAN^YOUSSEF", "19900130", "M"),
        "E053",
        "Egyptian/French spelling of عبد الرحمن and يوسف",
    ),
    _case("b4-h-kohen", sdisc("KOHEN^ITZHAK", "19500811", "M"), "E054", "K for C, ITZHAK"),
    _case(
        "b4-h-isaac",
        sdisc("COHEN^ISAAC", "19500811", "M"),
        "E054",
        "the English form ISAAC for YITZHAK",
        clear=False,
    ),
    _case("b4-h-rivkah", sdisc("SHAPIRO^RIVKAH", "19680126", "F"), "E055", "final H"),
    # --- Latin: accents, particles, double surnames, order -------------------------------
    _case(
        "b4-l-dutch-sorted",
        sdisc("MEULEN VAN DER^JOHANNES", "19611209", "M"),
        "E056",
        "particles after the surname (Dutch sorting)",
    ),
    _case(
        "b4-l-absent-twin",
        sdisc("VAN DER MEULEN^JOHANNA", "19611209", "F"),
        None,
        "twin sister JOHANNA; only JOHANNES has an order",
    ),
    _case(
        "b4-l-carmen",
        sdisc("DE LA CRUZ^CARMEN", "19770403", "F"),
        "E057",
        "CARMEN, the usual short form of MARÍA DEL CARMEN",
        clear=False,
    ),
    _case(
        "b4-l-first-surname",
        sdisc("FERNANDEZ^JOSE LUIS", "19660511", "M"),
        "E058",
        "first surname only, accents dropped",
    ),
    _case(
        "b4-l-duplicate",
        sdisc("GONÇALVES^JOÃO", "19490623", "M"),
        "E059",
        "one man registered twice, with and without accents",
        must_review=True,
    ),
    _case(
        "b4-l-mojibake",
        sdisc(_garbled("Lefèvre^Hélène", "utf-8"), "19580914", "F"),
        "E061",
        "UTF-8 bytes read as ISO 8859-1: 'LefÃ¨vre^HÃ©lÃ¨ne'",
        clear=False,
    ),
    _case(
        "b4-l-married",
        sdisc("MOREL^HÉLÈNE", "19580914", "F"),
        "E061",
        "married surname on the disc",
        clear=False,
    ),
    _case("b4-l-weiss", sdisc("WEISS^GUENTHER", "19440317", "M"), "E062", "ß as SS, ü as UE"),
    _case(
        "b4-l-aastroem",
        sdisc("AASTROEM^BIRGITTA", "19530530", "F"),
        "E063",
        "ICAO machine-readable Å as AA, Ö as OE",
    ),
    _case(
        "b4-l-swapped",
        sdisc("ISTVAN^NAGY", "19710202", "M"),
        "E064",
        "given and family swapped, accent dropped",
    ),
)
