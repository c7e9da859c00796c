"""Blind case set 7: outside-media discs against one hospital's Modality Worklist.

Written on 2026-12-01 by a helper session that had NOT seen the matcher's rules,
its documentation, its benchmarks or any other case set; only the case API of
``tests/match_cases.py`` (``order``, ``disc``, ``misread``, ``Case``) was read.
The answers were decided the way a careful registration clerk would decide them,
from how names are really written: romanization standards (Hepburn, Kunrei,
Nihon-shiki, Revised Romanization, McCune-Reischauer, ICAO 9303, GOST, BGN/PCGN,
ELOT 743, pinyin, Wade-Giles), passport practice, and everyday usage (LEE for 이,
OTA for 太田, ECONOMOU for Οικονόμου, a married surname, a nickname).

``right`` is the MRN of the true patient, or ``None`` when the patient is not on
the worklist. ``must_review`` marks twins, duplicate records, namesakes without a
birth date and discs whose study modality matches no order of the patient.
``clear=False`` marks discs a careful person could not decide from the disc alone
(another reading of the same kanji, a changed surname, a nickname or English
given name, a lunar birth date, a sex conflict, a garbled name).

This set is meant to be measured once, as it is, and not tuned against: the
answers are not to be edited after seeing the results.
"""

from __future__ import annotations

from reconcile.match import DiscPatient
from reconcile.model import WorklistItem
from tests.match_cases import Case, disc, misread, order

# --- the worklist ---------------------------------------------------------------------

BLIND7_BASE: tuple[WorklistItem, ...] = (
    # Japanese: alphabetic=ideographic=phonetic, as a Japanese RIS holds them
    order("H001", "OONO^SHUUHEI=大野^修平=おおの^しゅうへい", "19670412", "M", modality="MR"),
    order("H002", "ONO^SHUHEI=小野^修平=おの^しゅうへい", "19720905", "M", modality="CT"),
    order("H003", "=宮本^俊介=みやもと^しゅんすけ", "19580121", "M", modality="CT"),
    order("H004", "SHIMIZU^YOUKO=清水^陽子=しみず^ようこ", "19811030", "F", modality="MG"),
    order("H005", "TSUCHIYA^CHIHIRO=土屋^千尋=つちや^ちひろ", "19950703", "F", modality="US"),
    order("H006", "SAITOU^MISAKI=齋藤^美咲=さいとう^みさき", "19880214", "F", modality="MR"),
    order("H007", "=表^貴之=おもて^たかゆき", "19770228", "M", modality="CT", acc="AH007CT"),
    order("H007", "=表^貴之=おもて^たかゆき", "19770228", "M", modality="MR", acc="AH007MR"),
    order("H008", "FUKUSHIMA^HARUTO=福島^陽翔=ふくしま^はると", "20180519", "M", modality="DX"),
    order("H009", "FUKUSHIMA^MINATO=福島^湊=ふくしま^みなと", "20180519", "M", modality="DX"),
    order("H010", "IGARASHI^NORIKO=五十嵐^典子=いがらし^のりこ", "19630817", "F", modality="CT"),
    order("H011", "HONDA^YOSHIKO=本田^能子=ほんだ^よしこ", "19490223", "F", modality="NM"),
    order("H012", "TAKAHASHI^KOUJI=髙橋^浩二=たかはし^こうじ", "19750611", "M", modality="CT"),
    order("H013", "WATANABE^KEN=渡邉^健=わたなべ^けん", "19820927", "M", modality="XA"),
    order("H014", "KOUNO^MAYUMI=河野^真由美=こうの^まゆみ", "19700404", "F", modality="MG"),
    order("H015", "=森^秀樹=もり^ひでき", "19550809", "M", modality="PT"),
    order("H016", "OOTA^YUUKO=太田^優子=おおた^ゆうこ", "19860130", "F", modality="US"),
    order("H017", "OOTA^TAKESHI=太田^剛=おおた^たけし", "19840302", "M", modality="CT"),
    order("H018", "ITOU^HIROSHI=伊藤^博=いとう^ひろし", "19510303", "M", modality="CT"),
    order("H019", "ITOU^HIROSHI=伊藤^寛=いとう^ひろし", "19690722", "M", modality="MR"),
    order("H020", "=木村^沙織=きむら^さおり", "19990512", "F", modality="MR"),
    order("H021", "TSUZUKI^SHUNICHI=都築^俊一=つづき^しゅんいち", "19600926", "M", modality="CT"),
    order("H022", "NAKAMURA^AYA=中村^彩=なかむら^あや", "19910815", "F", modality="US"),
    # Korean: Latin=hanja=Hangul, Latin=Hangul, Hangul without ^
    order("H023", "YI^SUNGMIN=李^承敏=이^승민", "19730819", "M", modality="CT"),
    order("H024", "PARK^JI-WOO=박^지우", "19920306", "F", modality="US"),
    order("H025", "CHOI^YOUNG-SOO=최^영수", "19580704", "M", modality="NM"),
    order("H026", "CHOI^YEONGSUK=최^영숙", "19611123", "F", modality="MG"),
    order("H027", "JEONG^MINHO=鄭^敏浩=정^민호", "19850912", "M", modality="MR"),
    order("H028", "JEON^MINHO=전^민호", "19850921", "M", modality="CT"),
    order("H029", "KIM^HYEWON=김^혜원", "19680130", "F", modality="CT"),
    order("H030", "KIM^HYEWON=김^혜원", "19990830", "F", modality="MR"),
    order("H031", "YOON^DAEUN=윤^다은", "20030417", "F", modality="CR"),
    order("H032", "RYU^SEONGHUN=柳^成勳=류^성훈", "19860914", "M", modality="XA"),
    order("H033", "SONG^JAEHYUK=송^재혁", "19790602", "M", modality="CT"),
    order("H034", "SONG^JAE-HYEOK", "19790602", "M", modality="MR"),
    order("H035", "HWANG^BORAM=황보람", "19940118", "F", modality="US"),
    order("H036", "SHIN^EUNJI=申^恩智=신^은지", "19810507", "F", modality="MG"),
    order("H037", "NAMGUNG^TAEIL=남궁^태일", "19770920", "M", modality="CT"),
    order("H038", "LEE^SEUNGMIN=이^승민", "19730918", "M", modality="MR"),
    # Cyrillic: Russian, Ukrainian, Belarusian, Bulgarian (Latin), Serbian
    order("H039", "Фёдоров^Алексей^Игоревич", "19710314", "M", modality="CT"),
    order("H040", "Фёдорова^Наталья^Викторовна", "19730602", "F", modality="MG"),
    order("H041", "Кузнецов^Юрий^Петрович", "19530930", "M", modality="NM"),
    order("H042", "Кузнецов^Юрий^Юрьевич", "19810217", "M", modality="CT"),
    order("H043", "Ковальчук^Олександр^Миколайович", "19660711", "M", modality="CT"),
    order("H044", "Шапавалава^Святлана^Міхайлаўна", "19880822", "F", modality="US"),
    order("H045", "DIMITROVA^TSVETELINA^STOYANOVA", "19790126", "F", modality="MR"),
    order("H046", "Јовановић^Милош", "19900513", "M", modality="CT"),
    order("H047", "Смирнова^Ксения^Андреевна", "19960228", "F", modality="US"),
    order("H048", "Смирнова^Полина^Андреевна", "19960228", "F", modality="US"),
    order("H049", "Соловьёв^Сергей^Николаевич", "19620419", "M", modality="CR", acc="AH049CR"),
    order("H049", "Соловьёв^Сергей^Николаевич", "19620419", "M", modality="CT", acc="AH049CT"),
    order("H050", "Щукин^Евгений^Дмитриевич", "19841105", "M", modality="MR"),
    order("H051", "Белова^Дарья^Сергеевна", "19930709", "F", modality="US"),
    # Greek (one entered in ELOT 743 Latin)
    order("H052", "Παπαδοπούλου^Αικατερίνη", "19570812", "F", modality="MG"),
    order("H053", "GEORGIOU^CHRISTOS", "19640229", "M", modality="CT"),
    order("H054", "Νικολαΐδης^Σπυρίδων", "19491117", "M", modality="NM"),
    order("H055", "Νικολαΐδου^Ελένη", "19520305", "F", modality="MR"),
    order("H056", "Οικονόμου^Δημήτριος", "19801009", "M", modality="CT"),
    order("H057", "Καραγιάννη^Σοφία", "19871214", "F", modality="US"),
    order("H058", "Βλάχος^Ευάγγελος", "19750506", "M", modality="XA"),
    # Chinese, Vietnamese, Arabic, Hebrew, Turkish, Polish, Hungarian, Norwegian
    order("H059", "ZHANG^XIAOYAN=张^晓燕", "19830420", "F", modality="MG"),
    order("H060", "LIU^JIANGUO=刘^建国", "19560115", "M", modality="CT"),
    order("H061", "LYU^BIN=吕^斌", "19900808", "M", modality="MR"),
    order("H062", "LU^BIN=陆^斌", "19900818", "M", modality="CT"),
    order("H063", "NGUYỄN^THỊ THU HƯƠNG", "19780519", "F", modality="US"),
    order("H064", "TRẦN^VĂN MINH", "19491201", "M", modality="CT"),
    order("H065", "AL-HASHIMI^MOHAMMED ABDULLAH", "19870101", "M", modality="CT"),
    order("H066", "COHEN^YAEL", "19910611", "F", modality="MR"),
    order("H067", "ÇELİK^GÜLŞEN", "19720330", "F", modality="MG"),
    order("H068", "WÓJCIK^GRZEGORZ", "19610917", "M", modality="CT"),
    order("H069", "SZABÓNÉ KISS^ZSÓFIA", "19740205", "F", modality="US"),
    order("H070", "HÆGSTAD^ØYVIND", "19690724", "M", modality="CR"),
)


def _case(case_id: str, d: DiscPatient, right: str | None, what: str, **kw: object) -> Case:
    """A case of this set, against ``BLIND7_BASE``."""
    return Case(case_id, d, right, what, base=BLIND7_BASE, **kw)  # type: ignore[arg-type]


# --- the cases ------------------------------------------------------------------------

BLIND7_CASES: tuple[Case, ...] = (
    # --- Japanese (21) ----------------------------------------------------------------
    _case(
        "b7-ja-passport-oh",
        disc("OHNO^SHUHEI", "19670412", "M", modalities=("MR",)),
        "H001",
        "passport Hepburn OH for おお, long u dropped; RIS has wapuro OONO^SHUUHEI",
    ),
    _case(
        "b7-ja-macron",
        disc("ŌNO^SHŪHEI=大野^修平", "19670412", "M", modalities=("MR",)),
        "H001",
        "Hepburn with macrons plus kanji (修 has '=' in its JIS bytes); 小野 修平 is H002",
    ),
    _case(
        "b7-ja-kanji-only",
        disc("宮本^俊介", "19580121", "M", modalities=("CT",)),
        "H003",
        "kanji only on the disc; RIS holds ideographic+phonetic only",
    ),
    _case(
        "b7-ja-iso2022-garbled",
        misread("宮本^俊介", "iso2022_jp", "19580121", "M"),
        "H003",
        "ISO 2022 JP bytes (宮 本 contain '\\', 俊 '=') read as Latin-1",
        clear=False,
    ),
    _case(
        "b7-ja-kunrei",
        disc("TUTIYA^TIHIRO", "19950703", "F", modalities=("US",)),
        "H005",
        "Kunrei-shiki TU/TI for つ/ち",
    ),
    _case(
        "b7-ja-nihonshiki",
        disc("TUDUKI^SYUNITI", "19600926", "M", modalities=("CT",)),
        "H021",
        "Nihon-shiki: づ as DU, しゅ as SYU (Hepburn TSUZUKI SHUNICHI)",
    ),
    _case(
        "b7-ja-new-form",
        disc("斎藤^美咲", "19880214", "F", modalities=("MR",)),
        "H006",
        "new form 斎 on the disc, old form 齋 in the RIS",
    ),
    _case(
        "b7-ja-twin-absent-sister",
        disc("SAITO^AOI=齋藤^葵=さいとう^あおい", "19880214", "F", modalities=("MR",)),
        None,
        "twin sister of H006 (same surname and birth date), not on the worklist",
    ),
    _case(
        "b7-ja-twin-present",
        disc("FUKUSHIMA^HARUTO", "20180519", "M", modalities=("DX",)),
        "H008",
        "twin boys both on the worklist with DX orders; given name decides but check",
        must_review=True,
    ),
    _case(
        "b7-ja-twin-dropped",
        disc("FUKUSHIMA^MINATO=福島^湊", "20180519", "M", modalities=("DX",)),
        None,
        "the twin brother's order is gone; only H008 HARUTO remains",
        drop=("H009",),
    ),
    _case(
        "b7-ja-katakana",
        disc("イガラシ^ノリコ", "19630817", "F", modalities=("CT",)),
        "H010",
        "full-width katakana only; RIS phonetic group is hiragana",
    ),
    _case(
        "b7-ja-nanori",
        disc("HONDA^TAKAKO", "19490223", "F", modalities=("NM",)),
        "H011",
        "能子 read TAKAKO by the other hospital, YOSHIKO here: another reading",
        clear=False,
    ),
    _case(
        "b7-ja-itaiji-taka",
        disc("高橋^浩二", "19750611", "M", modalities=("CT",)),
        "H012",
        "common 高 on the disc, hashigo-daka 髙 in the RIS",
    ),
    _case(
        "b7-ja-itaiji-watanabe",
        disc("WATANABE^KEN=渡辺^健=わたなべ^けん", "19820927", "M", modalities=("XA",)),
        "H013",
        "渡辺 on the disc, 渡邉 in the RIS",
    ),
    _case(
        "b7-ja-kawano",
        disc("KAWANO^MAYUMI", "19700404", "F", modalities=("MG",)),
        "H014",
        "河野 read KAWANO elsewhere, KOUNO here; Latin only on the disc",
        clear=False,
    ),
    _case(
        "b7-ja-modality-mismatch",
        disc("MORI^HIDEKI=森^秀樹", "19550809", "M", modalities=("MR",)),
        "H015",
        "right patient but an MR study against a PET order: check the order",
        must_review=True,
    ),
    _case(
        "b7-ja-namesake-no-dob",
        disc("ITO^HIROSHI", "", "M", modalities=("CT",)),
        "H018",
        "two ITOU HIROSHI (伊藤 博 / 伊藤 寛) and no birth date on the disc",
        must_review=True,
        clear=False,
    ),
    _case(
        "b7-ja-halfwidth",
        disc("ｷﾑﾗ^ｻｵﾘ", "19990512", "F", modalities=("MR",)),
        "H020",
        "half-width katakana (JIS X 0201) against kanji+hiragana",
    ),
    _case(
        "b7-ja-married",
        disc("OKADA^AYA=岡田^彩=おかだ^あや", "19910815", "F", modalities=("US",)),
        "H022",
        "married surname 岡田 on the disc, maiden 中村 in the RIS",
        clear=False,
    ),
    _case(
        "b7-ja-passport-ota",
        disc("OTA^YUKO", "19860130", "F", modalities=("US",)),
        "H016",
        "passport Hepburn drops long vowels: OTA YUKO for おおた ゆうこ; husband H017",
    ),
    _case(
        "b7-ja-two-orders",
        disc("OMOTE^TAKAYUKI", "19770228", "M", modalities=("MR",)),
        "H007",
        "Latin on the disc, RIS has kanji+kana only (表 has '\\' in Shift_JIS); MR order",
    ),
    # --- Korean (17) ------------------------------------------------------------------
    _case(
        "b7-ko-lee",
        disc("LEE^SEUNG MIN", "19730819", "M", modalities=("CT",)),
        "H023",
        "everyday LEE for 이, given name spaced; H038 LEE^SEUNGMIN born 19730918",
    ),
    _case(
        "b7-ko-rhee-mr",
        disc("RHEE^SŬNGMIN", "19730819", "M", modalities=("CT",)),
        "H023",
        "RHEE surname with McCune-Reischauer given name",
    ),
    _case(
        "b7-ko-pak-mr",
        disc("PAK^CHIU", "19920306", "F", modalities=("US",)),
        "H024",
        "McCune-Reischauer 박지우 = PAK CHIU",
    ),
    _case(
        "b7-ko-bak-rr",
        disc("BAK^JIU", "19920306", "F", modalities=("US",)),
        "H024",
        "strict Revised Romanization BAK JIU",
    ),
    _case(
        "b7-ko-twin-absent",
        disc("PARK^JI-AN=박^지안", "19920306", "F", modalities=("US",)),
        None,
        "twin sister of H024, not on the worklist",
    ),
    _case(
        "b7-ko-choe",
        disc("CHOE^YŎNGSU", "19580704", "M", modalities=("NM",)),
        "H025",
        "McCune-Reischauer CHOE YŎNGSU; near name CHOI YEONGSUK (H026) is a woman",
    ),
    _case(
        "b7-ko-jung",
        disc("JUNG^MIN HO", "19850912", "M", modalities=("MR",)),
        "H027",
        "JUNG for 정, given name spaced; JEON MINHO H028 born 19850921",
    ),
    _case(
        "b7-ko-jeon",
        disc("JEON^MIN-HO", "19850921", "M", modalities=("CT",)),
        "H028",
        "JEON MIN-HO, the near neighbour of JEONG MINHO",
    ),
    _case(
        "b7-ko-gim",
        disc("GIM^HYE-WON", "19990830", "F", modalities=("MR",)),
        "H030",
        "RR GIM for 김, namesakes told apart by birth date",
    ),
    _case(
        "b7-ko-namesake-no-dob",
        disc("김혜원", "", "F", modalities=("CT",)),
        "H029",
        "Hangul without ^ and no birth date; two KIM HYEWON on the worklist",
        must_review=True,
        clear=False,
    ),
    _case(
        "b7-ko-hangul-no-caret",
        disc("=윤다은", "20030417", "F", modalities=("CR",)),
        "H031",
        "Hangul only, ideographic group, no component separator",
    ),
    _case(
        "b7-ko-yoo",
        disc("YOO^SUNG HOON", "19860914", "M", modalities=("XA",)),
        "H032",
        "柳 written 유/YOO in South Korea, 류/RYU in the RIS; SUNG HOON for 성훈",
    ),
    _case(
        "b7-ko-duplicate",
        disc("SONG^JAE-HYEOK", "19790602", "M", modalities=("CT",)),
        "H033",
        "same man registered twice (H033 SONG^JAEHYUK, H034 SONG^JAE-HYEOK); CT is H033",
        must_review=True,
    ),
    _case(
        "b7-ko-hwang-mr",
        disc("HWANG^PO-RAM", "19940118", "F", modalities=("US",)),
        "H035",
        "MR PO-RAM for 보람; RIS Hangul 황보람 without ^ (could be read 황보 + 람)",
    ),
    _case(
        "b7-ko-euckr-garbled",
        misread("남궁^태일", "euc_kr", "19770920", "M"),
        "H037",
        "EUC-KR Hangul read as Latin-1",
        clear=False,
    ),
    _case(
        "b7-ko-namgung-split",
        disc("NAM^GUNG TAE IL", "19770920", "M", modalities=("CT",)),
        "H037",
        "two-syllable surname 남궁 split: NAM as family, GUNG in the given name",
    ),
    _case(
        "b7-ko-modality-mismatch",
        disc("SIN^ŬNJI", "19810507", "F", modalities=("CT",)),
        "H036",
        "McCune-Reischauer SIN ŬNJI; CT study but her only order is MG",
        must_review=True,
    ),
    # --- Cyrillic (16) ----------------------------------------------------------------
    _case(
        "b7-cy-icao",
        disc("FEDOROV^ALEKSEI", "19710314", "M", modalities=("CT",)),
        "H039",
        "ICAO 9303: ё as E, й as I",
    ),
    _case(
        "b7-cy-traditional",
        disc("FYODOROV^ALEXEY^IGOREVICH", "19710314", "M", modalities=("CT",)),
        "H039",
        "traditional English spelling FYODOROV ALEXEY with patronymic",
    ),
    _case(
        "b7-cy-modality-mismatch",
        disc("FEDOROVA^NATALIA", "19730602", "F", modalities=("CT",)),
        "H040",
        "wife of H039; CT study against a mammography order",
        must_review=True,
    ),
    _case(
        "b7-cy-son",
        disc("KUZNETSOV^IURII", "19810217", "M", modalities=("CT",)),
        "H042",
        "ICAO IURII; father H041 has the same name, other patronymic and birth date",
    ),
    _case(
        "b7-cy-father-no-dob",
        disc("KUZNETSOV^YURY", "", "M", modalities=("NM",)),
        "H041",
        "father and son both Кузнецов Юрий, no birth date, no patronymic",
        must_review=True,
        clear=False,
    ),
    _case(
        "b7-cy-twin-absent",
        disc("KUZNETSOVA^YULIYA^YURYEVNA", "19810217", "F", modalities=("CT",)),
        None,
        "twin sister of H042, not on the worklist",
    ),
    _case(
        "b7-uk-national",
        disc("KOVALCHUK^OLEKSANDR", "19660711", "M", modalities=("CT",)),
        "H043",
        "Ukrainian national transliteration, soft sign dropped",
    ),
    _case(
        "b7-uk-russian-form",
        disc("KOVALCHUK^ALEKSANDR^NIKOLAEVICH", "19660711", "M", modalities=("CT",)),
        "H043",
        "Russian form of the Ukrainian given name and patronymic",
        clear=False,
    ),
    _case(
        "b7-be-icao",
        disc("SHAPAVALAVA^SVIATLANA", "19880822", "F", modalities=("US",)),
        "H044",
        "Belarusian in ICAO transliteration (Святлана, not Russian Светлана)",
    ),
    _case(
        "b7-bg-cyrillic",
        disc("Димитрова^Цветелина", "19790126", "F", modalities=("MR",)),
        "H045",
        "Bulgarian Cyrillic on the disc, streamlined Latin in the RIS",
    ),
    _case(
        "b7-sr-latin",
        disc("JOVANOVIĆ^MILOŠ", "19900513", "M", modalities=("CT",)),
        "H046",
        "Serbian Latin (Gaj) on the disc, Serbian Cyrillic in the RIS",
    ),
    _case(
        "b7-cy-twin-present",
        disc("SMIRNOVA^KSENIIA", "19960228", "F", modalities=("US",)),
        "H047",
        "twin sisters Ксения and Полина both with US orders",
        must_review=True,
    ),
    _case(
        "b7-cy-icao-sergei",
        disc("SOLOVEV^SERGEI", "19620419", "M", modalities=("CR",)),
        "H049",
        "ICAO SOLOVEV SERGEI for Соловьёв Сергей (two orders, CR and CT)",
    ),
    _case(
        "b7-cy-koi8-garbled",
        misread("Соловьёв^Сергей^Николаевич", "koi8_r", "19620419", "M"),
        "H049",
        "KOI8-R bytes read as Latin-1; CT study",
        clear=False,
    ),
    _case(
        "b7-cy-german",
        disc("SCHTSCHUKIN^JEWGENI", "19841105", "M", modalities=("MR",)),
        "H050",
        "German (Duden) transliteration of Щукин Евгений",
    ),
    _case(
        "b7-cy-married",
        disc("Орлова^Дарья^Сергеевна", "19930709", "F", modalities=("US",)),
        "H051",
        "married surname Орлова on the disc, maiden Белова in the RIS",
        clear=False,
    ),
    # --- Greek (11) -------------------------------------------------------------------
    _case(
        "b7-el-elot",
        disc("PAPADOPOULOU^AIKATERINI", "19570812", "F", modalities=("MG",)),
        "H052",
        "ELOT 743 / passport transliteration",
    ),
    _case(
        "b7-el-upper-no-tonos",
        disc("ΠΑΠΑΔΟΠΟΥΛΟΥ^ΑΙΚΑΤΕΡΙΝΗ", "19570812", "F", modalities=("MG",)),
        "H052",
        "Greek capitals without tonos",
    ),
    _case(
        "b7-el-masculine-nickname",
        disc("PAPADOPOULOS^KATERINA", "19570812", "F", modalities=("MG",)),
        "H052",
        "masculine surname form and the short given name KATERINA abroad",
        clear=False,
    ),
    _case(
        "b7-el-phonetic",
        disc("YEORYIOU^HRISTOS", "19640229", "M", modalities=("CT",)),
        "H053",
        "phonetic spelling YEORYIOU HRISTOS against ELOT GEORGIOU CHRISTOS",
    ),
    _case(
        "b7-el-greek-disc",
        disc("Γεωργίου^Χρήστος", "19640229", "M", modalities=("CT",)),
        "H053",
        "Greek on the disc, Latin in the RIS; leap-day birth date",
    ),
    _case(
        "b7-el-nickname",
        disc("NIKOLAIDIS^SPIROS", "19491117", "M", modalities=("NM",)),
        "H054",
        "SPIROS, the everyday form of Σπυρίδων",
        clear=False,
    ),
    _case(
        "b7-el-genitive-wife",
        disc("NIKOLAIDOU^ELENI", "19520305", "F", modalities=("MR",)),
        "H055",
        "feminine genitive surname; husband NIKOLAIDIS H054",
    ),
    _case(
        "b7-el-traditional",
        disc("ECONOMOU^DEMETRIOS", "19801009", "M", modalities=("CT",)),
        "H056",
        "traditional English ECONOMOU DEMETRIOS for Οικονόμου Δημήτριος",
    ),
    _case(
        "b7-el-final-sigma",
        disc("ΒΛΑΧΟΣ^ΕΥΑΓΓΕΛΟΣ", "19750506", "M", modalities=("XA",)),
        "H058",
        "capitals: final ς becomes Σ, no tonos",
    ),
    _case(
        "b7-el-twin-absent",
        disc("KARAGIANNIS^NIKOLAOS", "19871214", "M", modalities=("US",)),
        None,
        "twin brother of Καραγιάννη Σοφία (H057), not on the worklist",
    ),
    _case(
        "b7-el-8859-7-garbled",
        misread("Οικονόμου^Δημήτριος", "iso8859_7", "19801009", "M"),
        "H056",
        "ISO 8859-7 Greek read as Latin-1",
        clear=False,
    ),
    # --- others (18) ------------------------------------------------------------------
    _case(
        "b7-zh-wade-giles",
        disc("CHANG^HSIAO-YEN", "19830420", "F", modalities=("MG",)),
        "H059",
        "Wade-Giles (Taiwan) for 張曉燕 / pinyin ZHANG XIAOYAN",
    ),
    _case(
        "b7-zh-traditional",
        disc("張^曉燕", "19830420", "F", modalities=("MG",)),
        "H059",
        "traditional hanzi on the disc, simplified in the RIS",
    ),
    _case(
        "b7-zh-english-name",
        disc("ZHANG^CINDY", "19830420", "F", modalities=("MG",)),
        "H059",
        "English given name CINDY used abroad",
        clear=False,
    ),
    _case(
        "b7-zh-twin-absent",
        disc("ZHANG^XIAOHONG=张^晓红", "19830420", "F", modalities=("MG",)),
        None,
        "twin sister of H059, not on the worklist",
    ),
    _case(
        "b7-zh-lunar",
        disc("LIU^JIANGUO=刘^建国", "19551203", "M", modalities=("CT",)),
        "H060",
        "lunar birth date (12th month, 3rd day of 1955 = 1956-01-15)",
        clear=False,
    ),
    _case(
        "b7-zh-umlaut",
        disc("LÜ^BIN=呂^斌", "19900808", "M", modalities=("MR",)),
        "H061",
        "pinyin LÜ (passport LYU); LU BIN 陆斌 H062 born 19900818",
    ),
    _case(
        "b7-vi-no-diacritics",
        disc("NGUYEN^THI THU HUONG", "19780519", "F", modalities=("US",)),
        "H063",
        "Vietnamese without diacritics",
    ),
    _case(
        "b7-vi-split",
        disc("NGUYEN THI THU^HUONG", "19780519", "F", modalities=("US",)),
        "H063",
        "middle names moved into the family component, only HUONG as given",
    ),
    _case(
        "b7-vi-utf8-garbled",
        misread("TRẦN^VĂN MINH", "utf-8", "19491201", "M"),
        "H064",
        "UTF-8 Vietnamese read as Latin-1",
        clear=False,
    ),
    _case(
        "b7-vi-namesake-absent",
        disc("TRẦN^VĂN MINH", "19740612", "M", modalities=("CT",)),
        None,
        "same name as H064, other birth date: a different man",
    ),
    _case(
        "b7-ar-variants",
        disc("ALHASHEMI^MUHAMMAD ABDALLAH", "19870101", "M", modalities=("CT",)),
        "H065",
        "Arabic transliteration variants: article joined, MUHAMMAD, ABDALLAH",
    ),
    _case(
        "b7-he-script",
        disc("כהן^יעל", "19910611", "F", modalities=("MR",)),
        "H066",
        "Hebrew script on the disc, Latin in the RIS",
    ),
    _case(
        "b7-he-sex-conflict",
        disc("COHEN^YAEL", "19910611", "M", modalities=("MR",)),
        "H066",
        "name and birth date exact but sex M on the disc",
        clear=False,
    ),
    _case(
        "b7-tr-ascii",
        disc("CELIK^GULSEN", "19720330", "F", modalities=("MG",)),
        "H067",
        "Turkish Ç İ Ü Ş written in ASCII",
    ),
    _case(
        "b7-pl-ascii",
        disc("WOJCIK^GRZEGORZ", "19610917", "M", modalities=("CT",)),
        "H068",
        "Polish ó dropped",
    ),
    _case(
        "b7-pl-wife-absent",
        disc("WOJCIK^MALGORZATA", "19630212", "F", modalities=("CT",)),
        None,
        "wife of H068, not on the worklist",
    ),
    _case(
        "b7-hu-maiden",
        disc("KISS^ZSOFIA", "19740205", "F", modalities=("US",)),
        "H069",
        "maiden name only; RIS holds the married form SZABÓNÉ KISS",
        clear=False,
    ),
    _case(
        "b7-no-modality-mismatch",
        disc("HAEGSTAD^OEYVIND", "19690724", "M", modalities=("NM",)),
        "H070",
        "ICAO Æ→AE, Ø→OE; NM study but his only order is CR",
        must_review=True,
    ),
)
