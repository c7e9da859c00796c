"""An MRN or accession number is matched exactly, never as a C-FIND pattern (red team, round 5).

In a C-FIND matching key ``*`` and ``?`` are wildcards and ``\\`` separates
values, with no way to escape them. A clerk's ``--mrn 'MRN1*'`` or a barcode
``*123456*`` (Code 39's start and stop characters) went to the worklist as a
pattern: the window preselected another patient's order found by wildcard,
and ``kiosk import --mrn '*'`` named the birth dates of every patient on the
worklist. Now such a value is refused before any query (exit 2, one line), a
Code 39 pair is stripped, and only answers equal to the value are kept.
Real peers: DCMTK ``wlmscpfs`` and ``storescp``.
"""

from __future__ import annotations

import pytest
from pydicom.uid import generate_uid

from kiosk.app.find_patient import lookup_scanned
from kiosk.config import Destination, load_config
from kiosk.errors import UsageError
from kiosk.send.duplicates import find_patient
from tests.test_integrity_e2e import JANE, config_for, run_kiosk, write_study


@pytest.fixture
def worklist(worklist_server):
    worklist_server.add_patient("MRN1", "DOE^JANE^M", PatientBirthDate="19700101")
    worklist_server.add_patient("MRN10", "ROE^JOHN", PatientBirthDate="19551231")
    worklist_server.add_item(PatientID="MRN77", PatientName="POE^ANNA", AccessionNumber="A1234567")
    worklist_server.add_item(PatientID="MRN88", PatientName="LOE^MAX", AccessionNumber="123456")
    return worklist_server


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--mrn", "MRN1*"),
        ("--mrn", "*"),
        ("--mrn", "MRN1\\MRN10"),
        ("--accession", "ACC-MRN1?"),
        # red team round 6: what pydicom writes as "?" (no character set is declared for it)
        ("--mrn", "MRN1\uff0a"),  # a fullwidth asterisk
        ("--mrn", "MR\u00c9N1"),
        ("--mrn", "M" * 70),  # longer than any LO value
    ],
)
def test_an_identifier_holding_a_pattern_is_refused_before_any_query(
    tmp_path, worklist, storage_server, flag, value
):
    disc = tmp_path / "disc"
    study = generate_uid()
    write_study(disc, "P0000001", JANE, study_uid=study, count=2)
    cfg = config_for(tmp_path, worklist, radiology=storage_server)
    args = {"--mrn": "MRN1", "--accession": "ACC-MRN1", flag: value}

    code, _, err = run_kiosk(
        tmp_path, "import", str(disc), "--study", study, "--dest", "radiology",
        "--config", str(cfg), *[x for pair in args.items() for x in pair],
    )  # fmt: skip

    assert code == 2, err
    [line] = err.splitlines()
    assert line.startswith("kiosk: ") and ("wildcard" in line or "again" in line), line
    assert "1955" not in err and "1970" not in err  # no patient's birth date named
    assert storage_server.received_files() == []


def test_a_code_39_barcode_finds_its_own_order_only(tmp_path, worklist):
    config = load_config(config_for(tmp_path, worklist))
    found = lookup_scanned(config, "*123456*\r")
    assert [c.item.accession_number for c in found.candidates] == ["123456"]
    with pytest.raises(UsageError, match="wildcard or a list"):
        lookup_scanned(config, "12345*")
    with pytest.raises(UsageError, match="wildcard or a list"):
        lookup_scanned(config, "MRN1\\MRN10")


def test_the_pacs_is_never_asked_for_a_pattern_of_mrns():
    pacs = Destination("PACS", "127.0.0.1", 9, name="radiology")  # never reached
    with pytest.raises(UsageError, match="wildcard or a list"):
        find_patient(pacs, "KIOSK", "MRN1*")
