"""The matching service and ``kiosk match`` against DCMTK wlmscpfs and test discs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from kiosk.barcode import Kind
from kiosk.config import load_config
from kiosk.errors import ConfigError
from kiosk.matching import (
    birth_date_key,
    lookup_scanned,
    match_scan,
    name_queries,
    worklist_queries,
)
from kiosk.media.scan import scan_medium
from kiosk.worklist import WorklistQuery
from reconcile.match import DiscPatient
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config


def config_for(tmp_path: Path, server, extra: str = "") -> Path:
    path = write_config(
        tmp_path / "kiosk.toml",
        worklist=server,
        destinations={},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    if extra:
        path.write_text(path.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def disc_of(tmp_path: Path, *patients: tuple[str, str, str, str]) -> Path:
    root = tmp_path / "disc"
    write_ct_disc(root, list(patients), per_study=1)
    return root


def summary(results) -> list[tuple[str, list[tuple[str, int]]]]:
    return [
        (r.decision.outcome.value, [(c.item.mrn, c.score) for c in r.decision.candidates])
        for r in results
    ]


def test_queries_by_birth_date_and_name_prefixes():
    patient = DiscPatient("Müller^Jürgen^K", "19650505", "M")
    assert worklist_queries(patient) == [
        WorklistQuery(dob="19650505"),
        WorklistQuery(name="Mül*"),
        WorklistQuery(name="Jür*"),
    ]


@pytest.mark.parametrize(
    ("name", "prefixes"),
    [
        ("DOE^JANE", ["DOE*", "JAN*"]),
        ("O'BRIEN^SEAN", ["O*", "SEA*"]),
        ("Jane Doe", ["Jan*", "Doe*"]),
        ("Doe, Jane", ["Doe*", "Jan*"]),
        ("LI^LI", ["LI*"]),
        ("", []),
        # names in other scripts: the letters anywhere (any group) and their Latin spelling
        ("Иванов^Сергей", ["*Ива*", "IVA*", "*Сер*", "SER*"]),
        ("=山田^太郎=やまだ^たろう", ["*山田*", "*太郎*", "*やまだ*", "YAM*", "*たろう*", "TAR*"]),
        ("박^지훈", ["*박*", "BAK*", "PAR*", "PAK*", "*지훈*", "JIH*"]),
    ],
)
def test_name_queries(name, prefixes):
    assert name_queries(name) == prefixes


@pytest.mark.parametrize(
    ("dob", "key"),
    [
        ("19700000", "19700101-19701231"),
        ("1970", "19700101-19701231"),
        ("195804", "19580401-19580430"),
        ("19800200", "19800201-19800229"),
        ("19650505", "19650505"),
        ("", ""),
        ("0000", ""),
        ("197013", ""),
        ("19701", ""),
        ("1958\u00b2\u00b215", ""),  # superscript digits: pydicom reads bytes B2, B9 so
        ("\u00b2\u00b2\u00b2\u00b2", ""),
    ],
)
def test_a_partial_birth_date_is_asked_as_a_range(dob, key):
    assert birth_date_key(dob) == key
    names = [WorklistQuery(name="DOE*"), WorklistQuery(name="JAN*")]
    expected = [WorklistQuery(dob=key), *names] if key else names
    assert worklist_queries(DiscPatient("DOE^JANE", dob)) == expected


def test_a_partial_birth_date_finds_the_order_of_that_month(tmp_path, worklist_server):
    # KH for the Bulgarian Х: the name query HRI* cannot find it, the month of birth can
    worklist_server.add_item(
        PatientID="MRN34", PatientName="HRISTOV^STEFAN", PatientBirthDate="19580412", PatientSex="M"
    )
    worklist_server.add_item(
        PatientID="MRN35", PatientName="PETROV^IVAN", PatientBirthDate="19580512", PatientSex="M"
    )
    config = load_config(config_for(tmp_path, worklist_server))
    with warnings.catch_warnings():  # a partial date is what some discs hold
        warnings.filterwarnings("ignore", "Invalid value for VR DA")
        disc = disc_of(tmp_path, ("EXT-1", "KHRISTOV^STEFAN", "195804", "M"))
    scan = scan_medium(disc)
    [result] = match_scan(config, scan)
    assert [c.item.mrn for c in result.decision.candidates] == ["MRN34"]
    assert result.decision.outcome.value == "review"


def test_unique_match_is_auto(tmp_path, worklist_server):
    worklist_server.add_item(PatientID="MRN100", PatientName="DOE^JANE", AccessionNumber="ACC100")
    worklist_server.add_item(
        PatientID="MRN200", PatientName="DOE^JOHN", PatientBirthDate="19650505", PatientSex="M"
    )
    worklist_server.add_item(PatientID="MRN300", PatientName="SMITH^ANNA")  # same DOB and sex
    worklist_server.add_item(
        PatientID="MRN400", PatientName="GREEN^OLIVER", PatientSex="M", PatientBirthDate="19880202"
    )
    config = load_config(config_for(tmp_path, worklist_server))
    scan = scan_medium(disc_of(tmp_path, ("EXT-1", "Doe^Jane", "19700101", "F")))
    [result] = match_scan(config, scan)
    assert result.study_instance_uid == scan.studies[0].study_instance_uid
    assert summary([result]) == [("auto", [("MRN100", 90), ("MRN300", 40)])]
    assert result.decision.candidates[0].item.accession_number == "ACC100"
    assert result.decision.considered == 3  # GREEN was never returned


def test_case_accents_and_umlauts_are_found_without_a_birth_date(tmp_path, worklist_server):
    worklist_server.add_item(
        PatientID="MRN7", PatientName="Müller^Jürgen", PatientBirthDate="19650505", PatientSex="M"
    )
    config = load_config(config_for(tmp_path, worklist_server))
    scan = scan_medium(disc_of(tmp_path, ("EXT-7", "MUELLER^JUERGEN", "", "M")))
    [result] = match_scan(config, scan)
    assert summary([result]) == [("review", [("MRN7", 55)])]
    assert result.decision.candidates[0].reasons == (
        "no birth date on the disc",
        "umlaut or Nordic letter written as ae/oe/ue/aa (ICAO 9303)",
        "family name equal",
        "given name equal",
        "sex equal",
    )


def test_typo_in_the_name_is_found_by_birth_date(tmp_path, worklist_server):
    worklist_server.add_item(
        PatientID="MRN5", PatientName="TAYLOR^EMMA", PatientBirthDate="20010101"
    )
    config = load_config(config_for(tmp_path, worklist_server))
    scan = scan_medium(disc_of(tmp_path, ("EXT-5", "TALYOR^EMMA", "20010101", "F")))
    assert summary(match_scan(config, scan)) == [("auto", [("MRN5", 82)])]


def test_twins_and_several_patients_on_one_disc(tmp_path, worklist_server):
    for mrn, given, sex in (("T1", "LUCAS", "M"), ("T2", "LEA", "F")):
        worklist_server.add_item(
            PatientID=mrn,
            PatientName=f"MARTIN^{given}",
            PatientBirthDate="20150610",
            PatientSex=sex,
        )
    config = load_config(config_for(tmp_path, worklist_server))
    scan = scan_medium(
        disc_of(
            tmp_path,
            ("EXT-1", "MARTIN^LUCAS", "20150610", "M"),
            ("EXT-9", "GREEN^OLIVER", "19880202", "M"),
        )
    )
    by_uid = {r.study_instance_uid: r for r in match_scan(config, scan)}
    lucas = next(s for s in scan.studies if s.patient_name == "MARTIN^LUCAS")
    green = next(s for s in scan.studies if s.patient_name == "GREEN^OLIVER")
    assert summary([by_uid[lucas.study_instance_uid]]) == [("review", [("T1", 90)])]
    assert [c.item.mrn for c in by_uid[lucas.study_instance_uid].decision.look_alikes] == ["T2"]
    assert by_uid[lucas.study_instance_uid].decision.why.startswith(
        "a look-alike could be this one; not proposed: T2"
    )
    assert summary([by_uid[green.study_instance_uid]]) == [("none", [])]


def test_thresholds_come_from_the_config(tmp_path, worklist_server):
    worklist_server.add_item(PatientID="MRN100", PatientName="DOE^JANE")
    path = config_for(tmp_path, worklist_server, "\n[matching]\nauto = 95\n")
    config = load_config(path)
    assert config.matching == {"auto": 95.0}
    scan = scan_medium(disc_of(tmp_path, ("EXT-1", "DOE^JANE", "19700101", "F")))
    [result] = match_scan(config, scan)
    assert (result.decision.outcome.value, result.decision.why) == (
        "review",
        "best score 90 is below the automatic threshold 95",
    )


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('auto = "high"', "[matching.auto] must be a number, not 'high'"),
        ("autoo = 80", "[matching.autoo] unknown matching threshold"),
        ("plausible = 90", "[matching.auto] must be at least plausible (90.0), not 80.0"),
    ],
)
def test_bad_matching_config_names_file_and_key(tmp_path, table, message):
    path = tmp_path / "k.toml"
    path.write_text(f"[matching]\n{table}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).startswith(f"{path}: {message}")


def test_scanned_barcode_drives_the_lookup(tmp_path, worklist_server):
    worklist_server.add_item(PatientID="MRN100234", AccessionNumber="ACC20260001")
    worklist_server.add_item(PatientID="MRN555555", AccessionNumber="ACC20260002")
    extra = (
        '\n[barcode]\nstrip_prefix = ["]C1", "*"]\nstrip_suffix = "*"\n'
        'mrn_pattern = "MRN\\\\d{6}"\naccession_pattern = "ACC\\\\d{8}"\n'
    )
    config = load_config(config_for(tmp_path, worklist_server, extra))
    scanned, items = lookup_scanned(config, "]C1MRN100234*\r\n")
    assert (scanned.value, scanned.kind) == ("MRN100234", Kind.MRN)
    assert [i.accession_number for i in items] == ["ACC20260001"]
    scanned, items = lookup_scanned(config, "*ACC20260002*")
    assert (scanned.value, scanned.kind) == ("ACC20260002", Kind.ACCESSION)
    assert [i.mrn for i in items] == ["MRN555555"]
    scanned, items = lookup_scanned(config, "   \r\n")
    assert (scanned.value, items) == ("", [])


def test_unclassified_barcode_tries_mrn_and_accession(tmp_path, worklist_server):
    worklist_server.add_item(PatientID="X1", AccessionNumber="Y1")
    worklist_server.add_item(PatientID="Y1", AccessionNumber="Z9")
    config = load_config(config_for(tmp_path, worklist_server))
    scanned, items = lookup_scanned(config, "Y1\n")
    assert scanned.kind is Kind.UNKNOWN
    assert sorted((i.mrn, i.accession_number) for i in items) == [("X1", "Y1"), ("Y1", "Z9")]


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
    )


def test_kiosk_match_json(tmp_path, worklist_server):
    worklist_server.add_item(
        PatientID="MRN100", PatientName="DOE^JANE", AccessionNumber="ACC100", Modality="CT"
    )
    path = config_for(tmp_path, worklist_server)
    disc = disc_of(tmp_path, ("EXT-1", "DOE^JANE", "19700101", "F"))
    result = kiosk("match", str(disc), "--config", str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    [study] = data["studies"]
    assert study["decision"] == "auto"
    assert study["candidates"] == [
        {
            "mrn": "MRN100",
            "accession_number": "ACC100",
            "patient_name": "DOE^JANE",
            "patient_name_groups": {"alphabetic": "DOE^JANE", "ideographic": "", "phonetic": ""},
            "birth_date": "19700101",
            "score": 95,
            "reasons": [
                "birth date equal",
                "family name equal",
                "given name equal",
                "sex equal",
                "modality CT matches",
            ],
        }
    ]
    assert set(study) == {"study_instance_uid", "decision", "why", "candidates", "look_alikes"}
    assert "DOE" not in result.stderr


def test_kiosk_match_text_and_unreachable_worklist(tmp_path, worklist_server):
    worklist_server.add_item(PatientID="MRN100", PatientName="DOE^JANE")
    path = config_for(tmp_path, worklist_server)
    disc = disc_of(tmp_path, ("EXT-1", "DOE^JANE", "19700101", "F"))
    result = kiosk("--config", str(path), "match", str(disc))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].endswith(
        ": auto (one strong match with equal birth date, well ahead of the rest)"
    )
    worklist_server.stop()
    result = kiosk("match", str(disc), "--config", str(path), "--json")
    assert (result.returncode, result.stdout) == (4, "")
    assert result.stderr.count("\n") == 1


def test_kiosk_match_bad_config_exits_2(tmp_path):
    path = tmp_path / "k.toml"
    path.write_text("[matching]\nmargin = -5\n", encoding="utf-8")
    disc = disc_of(tmp_path, ("EXT-1", "DOE^JANE", "19700101", "F"))
    result = kiosk("match", str(disc), "--config", str(path))
    assert result.returncode == 2
    assert result.stderr == f"kiosk: {path}: [matching.margin] must not be negative, not -5\n"


def test_sample_disc_against_the_embedded_demo_worklist(tmp_path):
    """Four patients, 5 studies, 12 queries in a burst: the demo SCP must keep up."""
    from kiosk.demo import DemoPeers, make_sample_disc

    make_sample_disc(tmp_path / "disc")
    with DemoPeers(tmp_path / "peers") as peers:
        config = load_config(peers.write_config(tmp_path / "k.toml", tmp_path / "spool"))
        scan = scan_medium(tmp_path / "disc")
        results = match_scan(config, scan)
    got = sorted(
        (
            scan.study(r.study_instance_uid).patient_name,
            "/".join(scan.study(r.study_instance_uid).modalities),
            r.decision.outcome.value,
            [c.item.accession_number for c in r.decision.candidates],
        )
        for r in results
    )
    assert got == [
        ("DOE^JANE^M", "CR", "review", ["ACC20260412"]),  # the order is for the CT
        ("DOE^JANE^M", "CT", "auto", ["ACC20260412"]),
        ("KOWALSKI^ANNA", "CR", "review", ["ACC20260415"]),  # EWA, same DOB: a look-alike
        ("MÜLLER^JÜRGEN", "US/DOC", "auto", ["ACC20260413"]),  # the echo and its PDF report
        ("SMITH^JOHN", "DX", "auto", ["ACC20260414"]),
    ]
