"""The command-line contract of CLI.md: flags anywhere, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config

JANE = ("EXT-1", "DOE^JANE", "19700101", "F")


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m kiosk`` as a user would, in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def disc(tmp_path: Path) -> Path:
    root = tmp_path / "disc"
    write_ct_disc(root, [JANE], per_study=2)
    (root / "README.TXT").write_text("Viewer inside\n")
    return root


def test_scan_json_in_a_separate_process(disc):
    result = kiosk("scan", str(disc), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["dicomdir"] is True
    assert data["instances"] == 2
    assert data["non_dicom"] == ["README.TXT"]
    [patient] = data["patients"]
    assert (patient["patient_id"], patient["patient_name"]) == ("EXT-1", "DOE^JANE")
    assert patient["studies"][0]["modalities"] == ["CT"]
    assert patient["studies"][0]["series"][0]["instances"] == 2


def test_global_flags_before_or_after_the_command(disc, tmp_path, capsys):
    cfg = write_config(
        tmp_path / "k.toml",
        worklist=None,
        destinations={},
        spool=tmp_path / "s",
        database=tmp_path / "d.sqlite3",
    )
    assert main(["--config", str(cfg), "--json", "scan", str(disc)]) == 0
    before = json.loads(capsys.readouterr().out)
    assert main(["scan", str(disc), "--config", str(cfg), "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert before == after


def test_missing_path_exits_3_with_one_line(tmp_path):
    result = kiosk("scan", str(tmp_path / "nothing-here"), "--json")
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_without_dicom_exits_3(tmp_path):
    (tmp_path / "AUTORUN.INF").write_text("[autorun]\n")
    result = kiosk("scan", str(tmp_path))
    assert result.returncode == 3
    assert "no readable DICOM" in result.stderr


def test_unknown_flag_exits_2():
    result = kiosk("scan", "--frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_bad_config_names_the_file_and_the_key(tmp_path):
    cfg = tmp_path / "bad.toml"
    cfg.write_text('[worklist]\nae_title = "MWL"\nhost = "ris"\nport = "one-oh-four"\n')
    result = kiosk("worklist", "--mrn", "X", "--config", str(cfg))
    assert result.returncode == 2
    assert str(cfg) in result.stderr
    assert "worklist.port" in result.stderr
    assert "Traceback" not in result.stderr


def test_config_from_environment_variable(tmp_path):
    cfg = tmp_path / "env.toml"
    cfg.write_text('[worklist]\nae_title = "MWL"\nhost = "127.0.0.1"\nport = 9\n')
    result = kiosk("worklist", "--mrn", "X", env={"KIOSK_CONFIG": str(cfg)})
    assert result.returncode == 4  # read the env config: the worklist there is unreachable
    assert "cannot reach the worklist MWL at 127.0.0.1:9" in result.stderr


def test_missing_config_file_is_a_usage_error(tmp_path):
    result = kiosk("queue", env={"KIOSK_CONFIG": str(tmp_path / "absent.toml")})
    assert result.returncode == 2
    assert "config file not found" in result.stderr


def test_worklist_query_against_wlmscpfs(tmp_path, capsys, worklist_server):
    worklist_server.add_item(
        PatientID="MRN7",
        IssuerOfPatientID="MAINHOSP",
        PatientName="MÜLLER^JÜRGEN",
        PatientBirthDate="19650505",
        PatientSex="M",
        AccessionNumber="ACC7",
        Modality="MR",
        RequestedProcedureDescription="MR KNEE",
        ScheduledProcedureStepStartDate="20261123",
    )
    worklist_server.add_item(PatientID="MRN8", AccessionNumber="ACC8")
    cfg = write_config(
        tmp_path / "k.toml",
        worklist=worklist_server,
        destinations={},
        spool=tmp_path / "s",
        database=tmp_path / "d.sqlite3",
    )
    assert main(["worklist", "--mrn", "MRN7", "--config", str(cfg), "--json"]) == 0
    [item] = json.loads(capsys.readouterr().out)["items"]
    assert item == {
        "mrn": "MRN7",
        "issuer": "MAINHOSP",
        "accession_number": "ACC7",
        "patient_name": "MÜLLER^JÜRGEN",
        "birth_date": "19650505",
        "sex": "M",
        "requested_procedure": "MR KNEE",
        "scheduled_date": "20261123",
        "modality": "MR",
        "department": "FRONT DESK",
    }
    assert main(["worklist", "--accession", "ACC8", "--config", str(cfg), "--json"]) == 0
    assert [i["mrn"] for i in json.loads(capsys.readouterr().out)["items"]] == ["MRN8"]


def test_queue_and_audit_on_a_fresh_store_are_empty(tmp_path, capsys):
    cfg = write_config(
        tmp_path / "k.toml",
        worklist=None,
        destinations={},
        spool=tmp_path / "s",
        database=tmp_path / "d.sqlite3",
    )
    assert main(["queue", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "studies": [],
        "destinations_down": [],
        "corrections": [],
    }
    assert main(["audit", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"events": []}
