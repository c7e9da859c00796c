"""Names in every script through ``kiosk match`` against a real DCMTK wlmscpfs.

The worklist holds the multi-script set's patients (tests.match_cases
SCRIPT_BASE): the Japanese ones in ``ISO 2022 IR 6\\ISO 2022 IR 87``, the
others in UTF-8. One disc holds a study per case, each written in the
character set its hospital would use (``ISO 2022 IR 87``, ``ISO_IR 13``,
``ISO_IR 144``, ``ISO_IR 126``, ``ISO 2022 IR 149``, ``ISO_IR 100``), and the
misread names (cp1251 or ISO 8859-7 bytes with no Specific Character Set, or
with ``ISO_IR 100``) as they are, so that the reader's guesses reach the
matcher. Every study goes through the disc reader, the worklist queries and
the matcher as a user runs them.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from reconcile.scripts import Script, script_of
from tests.discs import ct_instance
from tests.kiosk_config import write_config
from tests.match_cases import (
    HELDOUT_BASE,
    HELDOUT_CASES,
    SCHEDULED,
    SCRIPT_BASE,
    SCRIPT_CASES,
    UNSEEN_BASE,
    UNSEEN_CASES,
    Case,
    evaluate,
    misread,
    order,
    sdisc,
)
from tests.match_cases_blind import BLIND_BASE, BLIND_CASES
from tests.match_cases_blind2 import BLIND2_BASE, BLIND2_CASES
from tests.match_cases_blind3 import BLIND3_BASE, BLIND3_CASES
from tests.match_cases_blind4 import BLIND4_BASE, BLIND4_CASES
from tests.match_cases_blind5 import BLIND5_BASE, BLIND5_CASES
from tests.match_cases_blind6 import BLIND6_BASE, BLIND6_CASES
from tests.match_cases_blind7 import BLIND7_BASE, BLIND7_CASES
from tests.match_cases_blind8 import BLIND8_BASE, BLIND8_CASES

JAPANESE = "\\ISO 2022 IR 87"


def _worklist_charset(name: str) -> str | list[str]:
    scripts = {script_of(ch) for ch in name if ch.isalpha()}
    japanese = scripts & {Script.KANA, Script.HAN} and not (scripts & {Script.HANGUL})
    # 髙 (JIS X 0213) and half-width katakana are not in JIS X 0208: UTF-8 then
    return ["", "ISO 2022 IR 87"] if japanese and _in_jis_x_0208(name) else "ISO_IR 192"


def _in_jis_x_0208(name: str) -> bool:
    try:
        name.encode("iso2022_jp")
    except UnicodeEncodeError:
        return False
    return not any(0xFF61 <= ord(ch) <= 0xFF9F for ch in name)


def _plainly_cp1251(name: str) -> bool:
    """Whether a Latin-1 name's bytes read as Windows-1251 are all Cyrillic letters."""
    try:
        read = name.encode("latin-1").decode("cp1251")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    letters = [ch for ch in read if ch.isalpha()]
    return bool(letters) and all(script_of(ch) is Script.CYRILLIC for ch in letters)


def _plainly_shift_jis(name: str) -> bool:
    """Whether a Latin-1 name's bytes read as Shift_JIS are all kanji or kana (=渡辺^誠)."""
    try:
        read = name.encode("latin-1").decode("cp932")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False
    letters = [ch for ch in read if ch.isalpha()]
    return bool(letters) and all(script_of(ch) in (Script.HAN, Script.KANA) for ch in letters)


def _plainly_utf8(name: str) -> bool:
    """Whether a Latin-1 name's bytes are UTF-8 of other letters (mojibake: LefÃ¨vre)."""
    try:
        return name.encode("latin-1").decode("utf-8") != name
    except (UnicodeEncodeError, UnicodeDecodeError):
        return False


def _read_as_written(case: Case) -> bool:
    """Whether a mojibake disc name, read in the set its bytes plainly are, is its patient's
    worklist name (a group of it)."""
    raw = case.disc.patient_name.encode("latin-1")
    readings = set()
    for codec in ("cp1251", "cp932", "utf-8"):
        with contextlib.suppress(UnicodeDecodeError):
            readings.add(raw.decode(codec))
    names = {i.patient_name for i in case.worklist() if i.mrn == case.right}
    groups = {g for name in names for g in (name, *name.split("="))}
    return bool(readings & groups)


def _encodes(name: str, codec: str) -> bool:
    try:
        name.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _disc_charset(name: str) -> str | list[str] | None:
    """The Specific Character Set a hospital of the name's country writes (None: undeclared)."""
    scripts = {script_of(ch) for ch in name if ch.isalpha()}
    halfwidth = [ch for ch in name if 0xFF61 <= ord(ch) <= 0xFF9F]
    if halfwidth and not (scripts - {Script.KANA}):
        return "ISO_IR 13"
    if halfwidth:  # with kanji: JIS X 0201 for the kana, JIS X 0208 for the kanji
        rest = "".join(ch for ch in name if ch not in halfwidth)
        return (
            ["ISO 2022 IR 13", "ISO 2022 IR 87"] if _encodes(rest, "iso2022_jp") else "ISO_IR 192"
        )
    if Script.HANGUL in scripts:
        return ["", "ISO 2022 IR 149"] if _encodes(name, "iso2022_kr") else "ISO_IR 192"
    if scripts & {Script.KANA, Script.HAN}:
        # 髙 and 﨑 are not in JIS X 0208: such a disc is written in UTF-8
        return ["", "ISO 2022 IR 87"] if _encodes(name, "iso2022_jp") else "ISO_IR 192"
    if Script.CYRILLIC in scripts:
        return "ISO_IR 144"
    if Script.GREEK in scripts:
        return "ISO_IR 126"
    try:
        name.encode("latin-1")
    except UnicodeEncodeError:  # Ō, Ŭ, İ: what Latin-1 lacks, a hospital writes in UTF-8
        return "ISO_IR 192"
    return "ISO_IR 100"


def _write_disc(root: Path, cases: list[Case]) -> dict[str, Case]:
    by_study: dict[str, Case] = {}
    for n, case in enumerate(cases, 1):
        study_uid = generate_uid()
        with warnings.catch_warnings():  # a partial date ("1985") is what some discs hold
            warnings.filterwarnings("ignore", "Invalid value for VR DA")
            ds = ct_instance(
                patient_id=f"EXT-{n}",
                patient_name="X",
                birth_date=case.disc.birth_date,
                sex=case.disc.sex,
                study_uid=study_uid,
                series_uid=generate_uid(),
                number=1,
            )
        ds.StudyDate = case.disc.study_date
        ds.Modality = case.disc.modalities[0]  # the study the disc holds (CT unless the case says)
        if case.disc.guessed_names:  # legacy bytes, no Specific Character Set or a wrong one
            declared = "ISO_IR 100" if "wrong" in case.id else None
            if declared:
                ds.SpecificCharacterSet = declared
            else:
                del ds.SpecificCharacterSet
            with warnings.catch_warnings():  # ISO 2022 bytes holding '=' read as Latin-1
                warnings.filterwarnings("ignore", "The number of PN components")
                ds["PatientName"].value = case.disc.patient_name.encode("latin-1")
        else:
            ds.SpecificCharacterSet = _disc_charset(case.disc.patient_name)
            ds.PatientName = case.disc.patient_name
        path = root / "DICOM" / f"P{n:07d}" / "I0000001"
        path.parent.mkdir(parents=True)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Invalid value for VR DA")
            warnings.filterwarnings("ignore", "The number of PN components")
            ds.save_as(path, enforce_file_format=True)
        by_study[study_uid] = case
    return by_study


def _kiosk_match(tmp_path: Path, worklist_server) -> list[dict]:
    """``kiosk match DISC --json`` of ``tmp_path/disc`` against the worklist: its studies."""
    config = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    result = subprocess.run(
        [*KIOSK_MATCH, str(tmp_path / "disc"), "--config", str(config), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        env=dict(os.environ),
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["studies"]


@pytest.mark.parametrize(
    ("base", "all_cases"),
    [
        (SCRIPT_BASE, SCRIPT_CASES),
        (UNSEEN_BASE, UNSEEN_CASES),
        (HELDOUT_BASE, HELDOUT_CASES),
        (BLIND_BASE, BLIND_CASES),
        (BLIND2_BASE, BLIND2_CASES),
        (BLIND3_BASE, BLIND3_CASES),
        (BLIND4_BASE, BLIND4_CASES),
        (BLIND5_BASE, BLIND5_CASES),
        (BLIND6_BASE, BLIND6_CASES),
        (BLIND7_BASE, BLIND7_CASES),
        (BLIND8_BASE, BLIND8_CASES),
    ],
    ids=[
        "written-with",
        "unseen",
        "held-out",
        "blind",
        "blind-2",
        "blind-3",
        "blind-4",
        "blind-5",
        "blind-6",
        "blind-7",
        "blind-8",
    ],
)
def test_every_multi_script_case_through_kiosk_match(tmp_path, worklist_server, base, all_cases):
    for item in base:
        worklist_server.add_item(
            SpecificCharacterSet=_worklist_charset(item.patient_name),
            PatientID=item.mrn,
            PatientName=item.patient_name,
            PatientBirthDate=item.birth_date,
            PatientSex=item.sex,
            AccessionNumber=item.accession_number,
            Modality=item.modality,
            ScheduledProcedureStepStartDate=SCHEDULED,
        )
    cases = [c for c in all_cases if not c.drop and not c.add]
    assert len(cases) >= 30
    by_study = _write_disc(tmp_path / "disc", cases)
    scan = subprocess.run(
        [sys.executable, "-m", "kiosk", "scan", str(tmp_path / "disc"), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ),
    )
    assert scan.returncode == 0, scan.stderr
    scanned = json.loads(scan.stdout)
    names = {p["patient_id"]: p for p in scanned["patients"]}
    # every name read whole, every group kept
    for n, case in enumerate(cases, 1):
        read, written = names[f"EXT-{n}"]["patient_name"], case.disc.patient_name
        if "\x1b" in written:  # ISO 2022 bytes on a disc declaring Latin-1 (blind set 7):
            # pydicom takes ESC ( B, back to ASCII, as a code extension; every other byte stays
            read, written = read.replace("\x1b(B", ""), written.replace("\x1b(B", "")
        assert read == written, case.id
    for n, case in enumerate(cases, 1):
        parts = [*case.disc.patient_name.split("="), "", ""]
        if not case.disc.guessed_names:
            assert names[f"EXT-{n}"]["patient_name_groups"] == {
                "alphabetic": parts[0],
                "ideographic": parts[1],
                "phonetic": parts[2],
            }, case.id
    codes = [p["code"] for p in scanned["problems"]]
    misread = [c for c in cases if c.disc.guessed_names]
    # a case written as its mojibake: Windows-1251 (or Shift_JIS) bytes on a disc declaring
    # Latin-1
    cyrillic_bytes = [
        c
        for c in cases
        if not c.disc.guessed_names
        and (_plainly_cp1251(c.disc.patient_name) or _plainly_shift_jis(c.disc.patient_name))
    ]
    # and UTF-8 bytes on a disc declaring Latin-1
    utf8_bytes = [
        c for c in cases if not c.disc.guessed_names and _plainly_utf8(c.disc.patient_name)
    ]
    assert codes.count("charset-undeclared") == sum("wrong" not in c.id for c in misread)
    assert codes.count("charset-wrong") == sum("wrong" in c.id for c in misread) + len(
        cyrillic_bytes
    ) + len(utf8_bytes)

    got = {
        by_study[s["study_instance_uid"]].id: (
            s["decision"],
            s["candidates"][0]["mrn"] if s["candidates"] and s["decision"] != "none" else None,
        )
        for s in _kiosk_match(tmp_path, worklist_server)
    }
    assert len(got) == len(cases)
    wrong = [
        cid
        for cid, (decision, top) in got.items()
        for case in cases
        if case.id == cid and decision == "auto" and (top != case.right or case.must_review)
    ]
    assert wrong == []
    # a name read in a guessed set is never decided automatically
    assert all(got[c.id][0] != "auto" for c in misread + cyrillic_bytes + utf8_bytes)
    # the guessed Cyrillic, Japanese or UTF-8 reading finds the patient (for review)
    # when the legacy reading is the patient's own name (ISO 8859-6 bytes also read as plain
    # Windows-1251: the guess is shown, and finds nobody)
    guessed_right = [c for c in cyrillic_bytes + utf8_bytes if _read_as_written(c)]
    assert [(c.id, got[c.id]) for c in guessed_right if got[c.id] != ("review", c.right)] == []
    # "none" proposes nobody: a candidate the matcher would rank last need not be fetched
    expected = {
        r.case.id: (r.decision, r.top if r.decision != "none" else None)
        for r in evaluate(cases=tuple(cases))
        if r.case not in cyrillic_bytes + utf8_bytes
    }
    # ... nor need a near neighbour that no C-FIND key finds (another birth date, other first
    # letters: PETERSEN for PEDERSEN), when the right answer is not that neighbour
    right = {c.id: c.right for c in cases}
    unfetched = {
        k for k, (decision, top) in expected.items()
        if decision == "review" and top != right[k] and got[k] == ("none", None)
    }  # fmt: skip
    assert {k: v for k, v in got.items() if k in expected.keys() - unfetched} == {
        k: v for k, v in expected.items() if k not in unfetched
    }


def test_the_window_search_accepts_any_script_and_searches_every_group(tmp_path, worklist_server):
    from kiosk.app.find_patient import lookup_by_name
    from kiosk.config import load_config

    worklist_server.add_item(
        SpecificCharacterSet=["", "ISO 2022 IR 87"],
        PatientID="J1",
        PatientName="YAMADA^TARO=山田^太郎=やまだ^たろう",
    )
    worklist_server.add_item(
        SpecificCharacterSet="ISO_IR 192", PatientID="R1", PatientName="IVANOV^SERGEY"
    )
    worklist_server.add_item(
        SpecificCharacterSet="ISO_IR 192", PatientID="K1", PatientName="박^지훈"
    )
    worklist_server.add_item(PatientID="L1", PatientName="SMITH^JOHN")
    config = load_config(
        write_config(
            tmp_path / "kiosk.toml",
            worklist=worklist_server,
            destinations={},
            spool=tmp_path / "spool",
            database=tmp_path / "kiosk.sqlite3",
        )
    )

    def found(typed: str) -> list[str]:
        return sorted(c.item.mrn for c in lookup_by_name(config, typed, "").candidates)

    assert found("山田") == ["J1"]  # the ideographic group
    assert found("たろう") == ["J1"]  # the phonetic group
    assert found("ﾔﾏﾀﾞ") == ["J1"]  # half-width katakana against hiragana
    assert found("Иванов") == ["R1"]  # Cyrillic typed, Latin on the worklist
    assert found("박") == ["K1"]
    assert found("PAR*") == ["K1"]  # Latin typed, Hangul on the worklist
    assert found("SMI*") == ["L1"]


KIOSK_MATCH = (sys.executable, "-m", "kiosk", "match")
SAFETY_BASE = (
    order("S01", "Козлова^Дария", "20050606", "F"),  # the twin sister of the disc's patient
    order("S02", "GROMOV^ALEKSEI", "19720202", "M"),  # two patients with one name
    order("S03", "GROMOV^ALEKSEI", "19720202", "M"),
    order("S04", "ORLOVA^IULIIA", "20100101", "F"),  # twins
    order("S05", "ORLOVA^IULIANA", "20100101", "F"),
    order("S06", "Волков^Павел", "19680412", "M"),  # twins
    order("S07", "Волков^Пётр", "19680412", "M"),
    order("S08", "KUZNETSOV^SERGEY", "19790101", "M"),
    order("S09", "Смирнов^Игорь", "19700520", "M"),
)
SAFETY_CASES = (
    Case("s-twin-absent", sdisc("KOZLOVA^DARYA", "20050606", "F"), None, "only the twin"),
    Case(
        "s-namesakes",
        sdisc("GROMOV^ALEXEY", "19720202", "M"),
        "S02",
        "two patients with one name",
        must_review=True,
    ),
    Case("s-twins", sdisc("ORLOVA^YULIYA", "20100101", "F"), "S04", "twins", must_review=True),
    Case(
        "s-undeclared-twins",
        misread("Волков^Павел", "cp1251", "19680412", "M"),
        "S06",
        "a guessed name among twins",
        must_review=True,
    ),
    Case("s-variant", sdisc("KUZNECOV^SERGEJ", "19790101", "M"), "S08", "GOST against ICAO"),
    Case(
        "s-undeclared-unique",
        misread("Смирнов^Игорь", "cp1251", "19700520", "M"),
        "S09",
        "a guessed name equal to one patient: still review",
        must_review=True,
    ),
)


def test_variant_spellings_and_guessed_names_never_auto_match_twins_or_namesakes(
    tmp_path, worklist_server
):
    for item in SAFETY_BASE:
        worklist_server.add_item(
            SpecificCharacterSet="ISO_IR 192",
            PatientID=item.mrn,
            PatientName=item.patient_name,
            PatientBirthDate=item.birth_date,
            PatientSex=item.sex,
            AccessionNumber=item.accession_number,
            Modality=item.modality,
            ScheduledProcedureStepStartDate=SCHEDULED,
        )
    cases = [
        Case(c.id, c.disc, c.right, c.what, must_review=c.must_review, base=SAFETY_BASE)
        for c in SAFETY_CASES
    ]
    by_study = _write_disc(tmp_path / "disc", cases)
    studies = {
        by_study[s["study_instance_uid"]].id: s for s in _kiosk_match(tmp_path, worklist_server)
    }
    got = {
        cid: (s["decision"], s["candidates"][0]["mrn"] if s["candidates"] else None)
        for cid, s in studies.items()
    }
    assert got == {
        "s-twin-absent": ("none", None),  # the twin is a look-alike: named, not proposed
        "s-namesakes": ("review", "S02"),
        "s-twins": ("review", "S04"),
        "s-undeclared-twins": ("review", "S06"),
        "s-variant": ("auto", "S08"),
        "s-undeclared-unique": ("review", "S09"),
    }
    assert [c["mrn"] for c in studies["s-twin-absent"]["look_alikes"]] == ["S01"]
    assert "not proposed: S01" in studies["s-twin-absent"]["why"]
    reasons = studies["s-undeclared-unique"]["candidates"][0]["reasons"]
    assert any(r.startswith("name read as a guess (Смирнов^Игорь)") for r in reasons)
    assert "guessed character set" in studies["s-undeclared-unique"]["why"]
    variant = studies["s-variant"]["candidates"][0]["reasons"]
    assert (
        "family name equal via GOST 7.79-2000 B and ICAO 9303 spellings of one Cyrillic name: "
        "KUZNECOV = KUZNETSOV"
    ) in variant


def test_the_window_finds_candidates_of_a_name_read_in_a_guessed_set(tmp_path, worklist_server):
    from kiosk.app.find_patient import candidates_for
    from kiosk.config import load_config
    from kiosk.media.scan import scan_medium

    worklist_server.add_item(
        SpecificCharacterSet="ISO_IR 192",
        PatientID="V1",
        PatientName="Волков^Павел",
        PatientBirthDate="19680412",
        PatientSex="M",
    )
    case = Case("w", misread("Волков^Павел", "cp1251", "19680412", "M"), "V1", "undeclared")
    _write_disc(tmp_path / "disc", [case])
    scan = scan_medium(tmp_path / "disc")
    config = load_config(
        write_config(
            tmp_path / "kiosk.toml",
            worklist=worklist_server,
            destinations={},
            spool=tmp_path / "spool",
            database=tmp_path / "kiosk.sqlite3",
        )
    )
    study = scan.studies[0]
    with_scan = candidates_for(config, study, scan)
    assert with_scan.outcome.value == "review"
    assert [c.item.mrn for c in with_scan.candidates][:1] == ["V1"]
    assert candidates_for(config, study).outcome.value == "none"


@pytest.mark.parametrize(
    ("charset", "raw"),
    [
        ("ISO_IR 192", b"DOE\xed\xa0\x80^JANE"),  # a UTF-16 surrogate in UTF-8
        ("ISO_IR 192", b"DOE^JANE\xc0\xaf"),  # an overlong "/"
        ("ISO_IR 192", b"ROE\xed\xa0\x80^JANE"),  # one letter off, and undecodable bytes
        ("ISO_IR 100", b"DOE^JANE\\SMITH^JOHN"),  # two values in a one-value element
        # red team round 6: what comparison folds to nothing, and groups naming two people
        ("ISO_IR 192", "DOE^JANE\u200b".encode()),  # a zero-width space
        ("ISO_IR 192", "DOE^JAN\ue000".encode()),  # a private-use character for a lost letter
        ("ISO_IR 192", "DOE^JANE\ufffc".encode()),  # an object replacement character
        ("ISO_IR 100", b"DOE^JAN?"),  # an encoder's ? for a letter it could not write
        ("ISO_IR 100", b"ROE^ANN=DOE^JANE"),  # two groups, two people
    ],
    ids=[
        "surrogate",
        "overlong",
        "one-letter-off",
        "two-values",
        "zero-width",
        "private-use",
        "object-replacement",
        "question-mark",
        "groups-disagree",
    ],
)
def test_a_name_not_read_whole_is_never_matched_automatically(
    tmp_path, worklist_server, charset, raw
):
    """Red team round 4: a name named charset-wrong was still decided automatically."""
    worklist_server.add_item(
        PatientID="MRN1",
        PatientName="DOE^JANE",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC1",
        Modality="CT",
        ScheduledProcedureStepStartDate=SCHEDULED,
    )
    ds = ct_instance(
        patient_id="EXT-1",
        patient_name="X",
        birth_date="19700101",
        sex="F",
        study_uid=generate_uid(),
        series_uid=generate_uid(),
        number=1,
    )
    ds.SpecificCharacterSet = charset
    ds["PatientName"].value = raw
    path = tmp_path / "disc" / "DICOM" / "I0000001"
    path.parent.mkdir(parents=True)
    ds.save_as(path, enforce_file_format=True)
    [study] = _kiosk_match(tmp_path, worklist_server)
    assert study["decision"] == "review"
    assert [c["mrn"] for c in study["candidates"]] == ["MRN1"]  # listed for a person to look
    reasons = study["candidates"][0]["reasons"]
    assert any(r.endswith("this name is for review only") for r in reasons), reasons
