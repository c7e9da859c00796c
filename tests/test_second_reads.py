"""Tags and second reads for billing, end to end: CLI, HL7 (hl7apy) and MLLP to a real listener."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hl7apy.parser import parse_message

from kiosk.cli import main
from kiosk.config import Hl7Receiver
from kiosk.hl7 import SecondReadFacts, charge_message, order_message
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from tests.mllp_listener import free_port, mllp_listener
from tests.peers import StorageServer, WorklistServer

JANE = ("EXT-1", "DOE^JANE", "19700101", "F")
MRN, ISSUER, ACC = "MRN42", "MAINHOSP", "ACC42"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict, str]:
    """``kiosk ... --json`` in this process: (exit code, JSON, stderr)."""
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m kiosk`` in a process of its own (the crash tests kill it)."""
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def write_hl7(cfg: Path, port: int, backoff_ms: int = 20, **extra: str | int) -> None:
    lines = ["", "[hl7]", 'host = "127.0.0.1"', f"port = {port}", f"backoff_ms = {backoff_ms}"]
    lines.append("timeout = 2")
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    with cfg.open("a", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


@pytest.fixture
def imported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[Path, str]:
    """A study imported (queued only) without an order, tagged for a second read."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=2)
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={"radiology": ("PACS", "127.0.0.1", free_port())},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
        issuer=ISSUER,
    )
    code, out, err = run(
        capsys, "import", str(disc), "--all", "--mrn", MRN, "--no-send", "--config", str(cfg),
        "--tag", "second-read", "--reason", "compare | with ^ the 2024 CT & old ~ one",
        "--requested-by", "Dr. House",
    )  # fmt: skip
    assert code == 0, err
    assert out["studies"][0]["tag"] == "second-read"
    return cfg, study.study_instance_uid


def test_import_tag_makes_a_second_read_that_needs_an_order(capsys, imported):
    cfg, _uid = imported
    code, out, err = run(capsys, "second-reads", "--config", str(cfg))
    assert code == 0, err
    [read] = out["second_reads"]
    assert read["state"] == "order needed" and read["order_needed"] is True
    assert (read["mrn"], read["accession"]) == (MRN, "")
    assert read["requested_by"] == "Dr. House"
    assert read["reason"].startswith("compare | with ^")
    code, out, _ = run(capsys, "audit", "--config", str(cfg))
    actions = [e["action"] for e in out["events"]]
    assert "tag" in actions and "second-read" in actions
    [tagged] = [e for e in out["events"] if e["action"] == "tag"]
    assert "Dr. House" in tagged["detail"] and "no tag -> second-read" in tagged["detail"]


def test_cli_tag_keeps_history_audits_and_cancels_the_read(capsys, imported):
    cfg, uid = imported
    code, out, err = run(
        capsys, "tag", uid, "reference", "--reason", "prior for MR", "--requested-by", "Dr. Grey",
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert (out["previous"], out["tag"], out["changed"]) == ("second-read", "reference", True)
    assert out["second_read"] is None
    assert [(h["tag"], h["requested_by"]) for h in out["history"]] == [
        ("second-read", "Dr. House"),
        ("reference", "Dr. Grey"),
    ]
    assert out["history"][1]["reason"] == "prior for MR" and out["history"][1]["time"]
    code, out, _ = run(capsys, "second-reads", "--config", str(cfg))
    assert [r["state"] for r in out["second_reads"]] == ["cancelled"]
    # The same tag again changes nothing and is not audited twice.
    code, out, _ = run(
        capsys, "tag", uid, "reference", "--reason", "prior for MR", "--requested-by", "Dr. Grey",
        "--config", str(cfg),
    )  # fmt: skip
    assert out["changed"] is False
    code, out, _ = run(capsys, "audit", "--config", str(cfg))
    assert [e["action"] for e in out["events"]].count("tag") == 2
    code, out, _ = run(capsys, "queue", "--config", str(cfg))
    assert out["studies"][0]["tag"] == "reference"


def test_cli_tag_errors_are_one_line(capsys, imported):
    cfg, _uid = imported
    code, _, err = run(capsys, "tag", "1.2.3.4", "archive", "--reason", "x", "--config", str(cfg))
    assert code == 2 and "no imported study 1.2.3.4" in err and err.count("\n") == 1
    result = kiosk("tag", "1.2.3", "archive", "--config", str(cfg))
    assert result.returncode == 2 and "--reason" in result.stderr


def test_back_office_moves_the_billing_state_and_the_csv_shows_it(capsys, imported):
    cfg, _uid = imported
    code, _, err = run(capsys, "second-reads", "--set-state", "1", "read", "--config", str(cfg))
    assert code == 2 and "cannot go from order needed to read" in err
    code, _, err = run(capsys, "second-reads", "--set-state", "1", "ordered", "--config", str(cfg))
    assert code == 2 and "needs the order's accession" in err
    code, out, err = run(
        capsys, "second-reads", "--set-state", "1", "ordered", "--accession", ACC,
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    assert out["second_reads"][0]["state"] == "ordered"
    assert main(["second-reads", "--format", "csv", "--config", str(cfg)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("id,study_instance_uid,mrn,accession,requested_by,reason")
    assert f",{MRN},{ACC},Dr. House," in lines[1] and lines[1].endswith("")
    assert ",ordered," in lines[1]
    code, out, _ = run(capsys, "second-reads", "--since", "2999-01-01", "--config", str(cfg))
    assert out["second_reads"] == []


def _facts() -> SecondReadFacts:
    return SecondReadFacts(
        read_id=7,
        mrn="M|1^2",
        issuer=ISSUER,
        accession="A&1",
        study_instance_uid="1.2.3",
        requested_by="Dr. X~Y",
        reason="line one\rMSH|^~\\&|EVIL",
        requested_at="2026-01-02T03:04:05+00:00",
    )


@pytest.mark.parametrize("kind", ["ORM^O01", "OMI^O23"])
def test_order_message_escapes_every_hostile_value(kind):
    receiver = Hl7Receiver("127.0.0.1", 1, "KIOSK", "HOSP", "BILL", "FIN")
    text = order_message(_facts(), receiver, "CTRL1", kind)
    segments = text.split("\r")
    assert [s[:3] for s in segments] == (
        ["MSH", "PID", "ORC", "OBR"] + (["IPC"] if kind == "OMI^O23" else [])
    )
    msg = parse_message(text, find_groups=False)
    assert msg.msh.msh_9.to_er7() == kind + "^" + kind.replace("^", "_")
    assert msg.msh.msh_10.to_er7() == "CTRL1"
    assert msg.pid.pid_3.cx_1.to_er7() == "M\\F\\1\\S\\2"  # one component, escaped
    assert msg.pid.pid_3.cx_4.to_er7() == ISSUER
    assert msg.orc.orc_3.to_er7() == "A\\T\\1" == msg.obr.obr_3.to_er7()
    assert "EVIL" in msg.orc.orc_16.to_er7() and "\r" not in msg.orc.orc_16.to_er7()


def test_charge_message_carries_the_accession_and_our_mrn():
    receiver = Hl7Receiver("127.0.0.1", 1)
    facts = SecondReadFacts(7, MRN, ISSUER, ACC, "1.2.3", "Dr. X", "why", "", "A|B^C", "19700101")
    msg = parse_message(charge_message(facts, receiver, "C2", "CODE9"), find_groups=False)
    assert msg.msh.msh_9.to_er7() == "DFT^P03^DFT_P03"
    assert msg.ft1.ft1_23.to_er7() == ACC and msg.ft1.ft1_6.to_er7() == "CG"
    assert msg.ft1.ft1_7.ce_1.to_er7() == "CODE9"
    assert msg.pid.pid_3.to_er7() == f"{MRN}^^^{ISSUER}^MR"
    assert msg.pid.pid_5.to_er7() == "A\\F\\B^C" and msg.pid.pid_7.to_er7() == "19700101"


def _ordered_and_read(capsys, cfg: Path) -> None:
    for state in ("ordered", "read"):
        code, _, err = run(
            capsys, "second-reads", "--set-state", "1", state, "--accession", ACC,
            "--config", str(cfg),
        )  # fmt: skip
        assert code == 0, err


def test_send_delivers_order_and_charge_once_to_the_listener(capsys, imported):
    cfg, _uid = imported
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        write_hl7(cfg, listener.port, order_message="OMI^O23", service_code="XR-2ND")
        _ordered_and_read(capsys, cfg)
        code, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert code == 0, err
        assert out["acked"] == 2 and out["waiting"] == 0
        assert listener.problems == []
        assert [r.message_type for r in listener.received] == ["OMI^O23^OMI_O23", "DFT^P03^DFT_P03"]
        assert {m["state"] for m in out["messages"]} == {"acked"}
        assert {m["ack_code"] for m in out["messages"]} == {"AA"}
        # Sending again sends nothing: each message was acknowledged once.
        code, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert code == 0 and out["acked"] == 0
        assert len(listener.received) == 2
        code, out, _ = run(capsys, "audit", "--config", str(cfg))
        sent = [e for e in out["events"] if e["action"] == "billing-send"]
        assert [e["outcome"] for e in sent] == ["ok", "ok"]
        assert "DFT^P03" in sent[1]["detail"] and "acknowledged (AA)" in sent[1]["detail"]
        code, out, _ = run(
            capsys, "second-reads", "--set-state", "1", "billed", "--config", str(cfg)
        )
        assert out["second_reads"][0]["state"] == "billed"


def test_receiver_down_exits_4_and_the_messages_stay_queued(capsys, imported):
    cfg, _uid = imported
    port = free_port()
    write_hl7(cfg, port, backoff_ms=30_000)  # the retry time is long past a slow machine's step
    _ordered_and_read(capsys, cfg)
    code, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
    assert code == 4, err
    assert "cannot be reached" in err and "stay queued" in err
    assert out["receiver_down"] is True and out["waiting"] == 2
    assert {m["state"] for m in out["messages"]} == {"queued"}
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        cfg.write_text(cfg.read_text().replace(f"port = {port}", f"port = {listener.port}"))
        # A scheduled run waits for the retry time; a person's run sends at once.
        code, out, err = run(capsys, "second-reads", "--send", "--due-only", "--config", str(cfg))
        assert code == 6 and out["acked"] == 0 and out["waiting"] == 2
        assert listener.received == []
        code, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert code == 0, err
        assert out["acked"] == 2 and len(listener.acked()) == 2


@pytest.mark.parametrize(
    ("answers", "code", "state", "tries"),
    [
        (["AR", "AA"], 0, "acked", 2),  # rejected for now: tried again, then accepted
        (["garbage", "AA"], 0, "acked", 2),
        (["wrong-id", "AA"], 0, "acked", 2),  # MSA-2 must be our MSH-10
        (["close", "AA"], 0, "acked", 2),
        (["AE"], 6, "failed", 1),  # the content refused: for the back office, not retried
        (["AR", "AR", "AR"], 6, "queued", 3),  # still rejected after every try: stays queued
    ],
)
def test_the_ack_is_checked(capsys, imported, answers, code, state, tries):
    cfg, _uid = imported
    code_ordered, _, err = run(
        capsys, "second-reads", "--set-state", "1", "ordered", "--accession", ACC,
        "--config", str(cfg),
    )  # fmt: skip
    assert code_ordered == 0, err
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        write_hl7(cfg, listener.port)
        listener.answers = list(answers)
        got, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert got == code, err
        [message] = out["messages"]
        assert message["state"] == state
        assert len(listener.received) == tries
        assert len({r.control_id for r in listener.received}) == 1  # the same MSH-10 each time
        if state == "failed":
            assert "refused" in err
            listener.answers = ["AA"]
            got, out, _ = run(capsys, "second-reads", "--send", "--retry", "--config", str(cfg))
            assert got == 0 and out["acked"] == 1


def test_no_answer_times_out_and_stays_queued(capsys, imported):
    cfg, _uid = imported
    _ordered_and_read(capsys, cfg)
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        write_hl7(cfg, listener.port, tries=1)
        cfg.write_text(cfg.read_text().replace("timeout = 2", "timeout = 1"))
        listener.default = "silent"
        got, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert got == 6 and "did not answer within 1 s" in err
        assert {m["state"] for m in out["messages"]} == {"queued"}


def test_listener_flags_a_wrong_mrn_with_ae(capsys, imported):
    cfg, _uid = imported
    run(
        capsys,
        "second-reads",
        "--set-state",
        "1",
        "ordered",
        "--accession",
        ACC,
        "--config",
        str(cfg),
    )
    with mllp_listener("SOMEONE-ELSE", ISSUER, ACC) as listener:
        write_hl7(cfg, listener.port)
        got, _out, _err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert got == 6
        assert listener.problems and listener.problems[0].startswith("PID-3")


@pytest.mark.parametrize(("fault", "received"), [("hl7.acked:1", 2), ("hl7.sent:1", 3)])
def test_an_acked_message_is_never_sent_twice_even_after_kill_9(capsys, imported, fault, received):
    """Killed after the first ACK was recorded: it is not sent again. Killed after sending,
    before the ACK was read: it is sent again under the same MSH-10 (the receiver's
    duplicate check), and the database records it acknowledged once."""
    cfg, _uid = imported
    _ordered_and_read(capsys, cfg)
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        write_hl7(cfg, listener.port)
        crashed = kiosk("second-reads", "--send", "--config", str(cfg), env={"KIOSK_FAULT": fault})
        assert crashed.returncode == -9, crashed.stderr
        done = kiosk("second-reads", "--send", "--json", "--config", str(cfg))
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert {m["state"] for m in out["messages"]} == {"acked"}
        assert len(listener.received) == received
        first = listener.received[0].control_id
        assert listener.acked().count(first) == received - 1
        ids = [m["control_id"] for m in out["messages"]]
        assert sorted(set(listener.acked())) == sorted(ids)


def test_no_hl7_section_is_a_usage_error(capsys, imported):
    cfg, _uid = imported
    code, _, err = run(capsys, "second-reads", "--format", "hl7", "--config", str(cfg))
    assert code == 2 and "no [hl7] receiver" in err


def test_bad_order_message_in_config_names_the_key(capsys, imported):
    cfg, _uid = imported
    write_hl7(cfg, 1, order_message="ORM^O02")
    code, _, err = run(capsys, "second-reads", "--config", str(cfg))
    assert code == 2 and "hl7.order_message" in err


def test_a_second_read_made_in_the_demo_reaches_the_csv_and_the_billing_receiver(tmp_path, capsys):
    from kiosk.app.demo_session import start_demo
    from kiosk.app.scan_disc import scan_disc

    session = start_demo(tmp_path / "demo")
    try:
        cfg = str(session.config.path)
        [ct] = [s for s in scan_disc(session.disc).studies if "CT" in s.modalities]
        code, out, err = run(
            capsys, "import", str(session.disc), "--study", ct.study_instance_uid,
            "--mrn", "MRN100234", "--accession", "ACC20260412", "--config", cfg,
            "--tag", "second-read", "--reason", "staging", "--requested-by", "Dr. Grey",
        )  # fmt: skip
        assert code == 0, err
        assert main(["second-reads", "--format", "csv", "--config", cfg]) == 0
        [_header, line] = capsys.readouterr().out.splitlines()
        assert ",MRN100234,ACC20260412,Dr. Grey,staging," in line and line.endswith(
            line.split(",")[-1]
        )
        assert ",ordered," in line
        code, out, err = run(capsys, "second-reads", "--set-state", "1", "read", "--config", cfg)
        assert code == 0, err
        code, out, err = run(capsys, "second-reads", "--send", "--config", cfg)
        assert code == 0, err
        assert out["acked"] == 2
        order, charge = session.billing.received()  # type: ignore[attr-defined]
        assert "ORM^O01^ORM_O01" in order and "MRN100234^^^MAINHOSP^MR" in order
        assert "|DOE^JANE^M||19680412|F" in order  # PID-5, -7, -8 from the order
        assert "DFT^P03^DFT_P03" in charge and "ACC20260412" in charge
    finally:
        session.close()


def test_two_senders_at_once_never_send_a_message_twice(capsys, imported):
    cfg, _uid = imported
    _ordered_and_read(capsys, cfg)
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        write_hl7(cfg, listener.port)
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "kiosk", "second-reads", "--send", "--config", str(cfg)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        for proc in procs:
            _out, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        ids = [r.control_id for r in listener.received]
        assert len(ids) == 2 and len(set(ids)) == 2


# --- red team round 10: billing follows the right patient, once -------------------------


def _fields(text: str) -> dict[str, str]:
    """PID-3.1, PID-5, ORC-1, ORC-3 and FT1-6 of a received message (ER7)."""
    msg = parse_message(text, find_groups=False)
    out = {
        "mrn": msg.pid.pid_3.cx_1.to_er7(),
        "name": msg.pid.pid_5.to_er7(),
        "control": msg.orc.orc_1.to_er7(),
        "accession": msg.orc.orc_3.to_er7(),
    }
    if msg.msh.msh_9.msg_1.to_er7() == "DFT":
        out["charge"] = msg.ft1.ft1_6.to_er7()
    return out


def _imported_under_mrn1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    worklist: WorklistServer,
    *,
    accession: str = "ACC-MRN1",
    pacs: StorageServer | None = None,  # imported and sent to it; else --no-send
) -> tuple[Path, str]:
    """A study imported under MRN1 (DOE^JANE) and tagged for a second read; the worklist also
    holds MRN2 (ROE^ANN, the same birth date). Returns (config, the study's UID)."""
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=1)
    worklist.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
    worklist.add_patient("MRN2", "ROE^ANN", PatientBirthDate="19700101")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations={"radiology": pacs or ("PACS", "127.0.0.1", free_port())},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
        issuer=ISSUER,
    )
    code, _, err = run(
        capsys, "import", str(disc), "--all", "--mrn", "MRN1",
        *(["--accession", accession] if accession else []),
        *([] if pacs else ["--no-send"]),
        "--tag", "second-read", "--reason", "compare", "--requested-by", "Dr. A",
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    return cfg, study.study_instance_uid


def test_a_second_read_follows_its_study_to_the_reconciled_patient(
    tmp_path, capsys, worklist_server, storage_server
):
    """The order went to billing under MRN1; the back office then reconciles the study to
    MRN2. Billing gets MRN1's order cancelled (as it got it), and MRN2's order and charge
    under MRN2's name and accession: never MRN1 with MRN2's name or accession."""
    cfg, uid = _imported_under_mrn1(tmp_path, capsys, worklist_server, pacs=storage_server)
    with mllp_listener("MRN1", "HOSPITAL") as listener:  # the worklist's issuer
        listener.other_mrns = ("MRN2",)
        write_hl7(cfg, listener.port)
        code, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert (code, out["acked"]) == (0, 1), err
        code, _, err = run(
            capsys, "reconcile", uid, "--accession", "ACC-MRN2", "--mrn", "MRN2",
            "--config", str(cfg),
        )  # fmt: skip
        assert code == 0, err
        code, out, _ = run(capsys, "second-reads", "--config", str(cfg))
        reads = [(r["id"], r["state"], r["mrn"], r["accession"]) for r in out["second_reads"]]
        assert reads == [
            (1, "cancelled", "MRN1", "ACC-MRN1"),
            (2, "ordered", "MRN2", "ACC-MRN2"),
        ]
        code, _, err = run(capsys, "second-reads", "--set-state", "2", "read", "--config", str(cfg))
        assert code == 0, err
        code, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert code == 0, err
        assert listener.problems == []
        got = [_fields(r.text) for r in listener.received]
    assert got[0] == {"mrn": "MRN1", "name": "DOE^JANE", "control": "NW", "accession": "ACC-MRN1"}
    assert sorted(map(str, got[1:])) == sorted(
        map(
            str,
            [
                {"mrn": "MRN1", "name": "DOE^JANE", "control": "CA", "accession": "ACC-MRN1"},
                {"mrn": "MRN2", "name": "ROE^ANN", "control": "NW", "accession": "ACC-MRN2"},
                {
                    "mrn": "MRN2",
                    "name": "ROE^ANN",
                    "control": "NW",
                    "accession": "ACC-MRN2",
                    "charge": "CG",
                },
            ],
        )
    )
    assert main(["second-reads", "--format", "csv", "--config", str(cfg)]) == 0
    rows = [line.split(",")[:5] for line in capsys.readouterr().out.splitlines()[1:]]
    assert [(r[0], r[2], r[3]) for r in rows] == [
        ("1", "MRN1", "ACC-MRN1"),
        ("2", "MRN2", "ACC-MRN2"),
    ]
    code, trail, _ = run(capsys, "audit", "--config", str(cfg))
    details = [e["detail"] for e in trail["events"] if e["action"] == "second-read"]
    assert any("takes over 1 for MRN MRN2" in d for d in details), details


@pytest.mark.parametrize("before", ["queued", "tried"])
def test_a_read_whose_message_waits_follows_the_reconciled_patient(
    tmp_path, capsys, worklist_server, before
):
    """An order queued under MRN1 and not yet delivered (built by --format hl7, or tried
    while billing was down) when the study is reconciled to MRN2: billing gets MRN2's order;
    the withdrawn MRN1 message is never sent, and none is lost."""
    cfg, uid = _imported_under_mrn1(tmp_path, capsys, worklist_server)
    with mllp_listener("MRN2", "HOSPITAL", "ACC-MRN2") as listener:
        if before == "queued":
            write_hl7(cfg, listener.port)
            assert main(["second-reads", "--format", "hl7", "--config", str(cfg)]) == 0
            capsys.readouterr()
        else:
            write_hl7(cfg, free_port())  # billing is down
            code, _, _ = run(capsys, "second-reads", "--send", "--config", str(cfg))
            assert code in (4, 6)
            cfg.write_text(cfg.read_text().replace("[hl7]", "[old-hl7]", 1))
            write_hl7(cfg, listener.port)
        code, _, err = run(
            capsys, "reconcile", uid, "--accession", "ACC-MRN2", "--mrn", "MRN2", "--no-send",
            "--config", str(cfg),
        )  # fmt: skip
        assert code == 0, err
        code, out, err = run(capsys, "second-reads", "--send", "--retry", "--config", str(cfg))
        assert code == 0, err
        assert listener.problems == []
        assert [_fields(r.text)["mrn"] for r in listener.received] == ["MRN2"]
    code, out, _ = run(capsys, "second-reads", "--config", str(cfg))
    live = [(r["mrn"], r["state"]) for r in out["second_reads"] if r["state"] != "cancelled"]
    assert live == [("MRN2", "ordered")]


def test_a_send_killed_before_its_ack_then_a_reconciliation_reverses_it_in_the_same_run(
    tmp_path, capsys, worklist_server
):
    """Red team round 11: the order reached billing under MRN1, the sender was killed before
    recording the ACK, and the study was reconciled to MRN2: the order went again (same
    MSH-10) and was never cancelled, and the charge was lost. Now the read is taken over;
    the next send delivers MRN1's order, its cancel, and MRN2's order and charge."""
    cfg, uid = _imported_under_mrn1(tmp_path, capsys, worklist_server)
    with mllp_listener("MRN1", "HOSPITAL") as listener:
        listener.other_mrns = ("MRN2",)
        write_hl7(cfg, listener.port)
        code, _, err = run(capsys, "second-reads", "--set-state", "1", "read", "--config", str(cfg))
        assert code == 0, err
        crashed = kiosk(
            "second-reads", "--send", "--config", str(cfg), env={"KIOSK_FAULT": "hl7.sent:1"}
        )
        assert crashed.returncode == -9, crashed.stderr
        code, _, err = run(
            capsys, "reconcile", uid, "--accession", "ACC-MRN2", "--mrn", "MRN2", "--no-send",
            "--config", str(cfg),
        )  # fmt: skip
        assert code == 0, err
        code, _, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert code == 0, err
        assert listener.problems == []
        got = [_fields(r.text) for r in listener.received]
        again = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert again[0] == 0 and len(listener.received) == len(got)  # nothing left over
    first = {"mrn": "MRN1", "name": "DOE^JANE", "accession": "ACC-MRN1"}
    second = {"mrn": "MRN2", "name": "ROE^ANN", "accession": "ACC-MRN2"}
    assert got[:2] == [{**first, "control": "NW"}] * 2  # sent, killed, sent again (same MSH-10)
    expected = [
        {**first, "control": "CA"},
        {**second, "control": "NW"},
        {**second, "control": "NW", "charge": "CG"},
    ]
    assert sorted(sorted(d.items()) for d in got[2:]) == sorted(sorted(d.items()) for d in expected)


def test_a_refused_message_keeps_the_send_from_saying_all_is_done(capsys, imported):
    cfg, _uid = imported
    _ordered_and_read(capsys, cfg)
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        listener.answers = ["AE"]
        write_hl7(cfg, listener.port)
        assert run(capsys, "second-reads", "--send", "--config", str(cfg))[0] == 6
        code, _, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert code == 6 and "refused before wait for the back office" in err
        code, _, err = run(capsys, "second-reads", "--send", "--retry", "--config", str(cfg))
        assert code == 0, err


def test_a_read_already_read_is_billed_once_whatever_happens_to_the_tag(capsys, imported):
    """Taking the tag off a read that was read cancelled it and withdrew its charge; tagging
    the study again then made a second read: billed twice."""
    cfg, uid = imported
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        write_hl7(cfg, listener.port)
        _ordered_and_read(capsys, cfg)
        for tag in ("reference", "none", "second-read"):
            code, out, err = run(
                capsys, "tag", uid, tag, "--reason", "changed", "--config", str(cfg)
            )
            assert code == 0, err
            assert out["second_read"] is None or out["second_read"]["id"] == 1
        code, out, _ = run(capsys, "second-reads", "--config", str(cfg))
        assert [(r["id"], r["state"]) for r in out["second_reads"]] == [(1, "read")]
        code, out, err = run(capsys, "second-reads", "--send", "--config", str(cfg))
        assert code == 0, err
        assert sorted(r.message_type for r in listener.received) == [
            "DFT^P03^DFT_P03",
            "ORM^O01^ORM_O01",
        ]


def test_an_accession_billing_got_cannot_change_and_another_patients_is_refused(
    tmp_path, capsys, imported
):
    cfg, _uid = imported
    with mllp_listener(MRN, ISSUER, ACC) as listener:
        write_hl7(cfg, listener.port)
        code, _, err = run(
            capsys, "second-reads", "--set-state", "1", "ordered", "--accession", ACC,
            "--config", str(cfg),
        )  # fmt: skip
        assert code == 0, err
        assert run(capsys, "second-reads", "--send", "--config", str(cfg))[0] == 0
        code, _, err = run(
            capsys, "second-reads", "--set-state", "1", "ordered", "--accession", "ACC-X",
            "--config", str(cfg),
        )  # fmt: skip
        assert code == 2 and "went to billing with accession ACC42" in err
    # another patient's study in the store carries ACC99
    other = tmp_path / "other"
    write_ct_disc(other, [("EXT-9", "ROE^ANN", "19600101", "F")], per_study=1)
    code, _, err = run(
        capsys, "import", str(other), "--all", "--mrn", "MRN99", "--accession", "ACC99",
        "--no-send", "--tag", "second-read", "--reason", "r", "--config", str(cfg),
    )  # fmt: skip
    assert code == 0, err
    code, _, err = run(capsys, "tag", _uid, "none", "--reason", "x", "--config", str(cfg))
    code, _, err = run(
        capsys, "tag", _uid, "second-read", "--reason", "again", "--config", str(cfg)
    )
    code, out, _ = run(capsys, "second-reads", "--config", str(cfg))
    [fresh] = [r for r in out["second_reads"] if r["mrn"] == MRN and r["state"] != "cancelled"]
    code, _, err = run(
        capsys, "second-reads", "--set-state", str(fresh["id"]), "ordered", "--accession",
        "ACC99", "--config", str(cfg),
    )  # fmt: skip
    assert code == 2 and "accession ACC99 is the order of another patient (MRN MRN99)" in err


def test_a_hostile_value_or_a_bad_birth_date_never_breaks_a_message():
    """A birth date that is no date (an order's 19701301) made every read's messages fail to
    build (exit 7 for all patients); it is left out of PID-7. A typed escape sequence
    (\\F\\) reached the receiver as a field separator; it is escaped."""
    receiver = Hl7Receiver(host="127.0.0.1", port=1)
    facts = _facts()
    facts = SecondReadFacts(**{**facts.__dict__, "birth_date": "19701301", "reason": r"a\F\b\T\c"})
    text = order_message(facts, receiver, "C1")
    msg = parse_message(text, find_groups=False)
    assert msg.pid.pid_7.to_er7() == ""
    assert msg.orc.orc_16.ce_2.to_er7() == r"a\E\F\E\b\E\T\E\c"  # read back: a\F\b\T\c
    assert len(msg.orc.children) > 0 and "|" not in msg.orc.orc_16.to_er7()


def test_a_disc_uid_never_becomes_a_spreadsheet_formula():
    from kiosk.billing import csv_text
    from kiosk.store.second_reads import SecondReadRecord

    read = SecondReadRecord(1, 1, "=1+2", MRN, ACC, "Dr", "r", "t", "ordered", "t")
    assert csv_text([read]).splitlines()[1].startswith("1,'=1+2,")


def test_a_discarded_studys_read_not_yet_read_is_cancelled(capsys, imported):
    """A discarded study's open second read could still be ordered, read and billed."""
    cfg, uid = imported
    code, _, err = run(capsys, "discard", uid, "--reason", "wrong disc", "--config", str(cfg))
    assert code == 0, err
    code, out, _ = run(capsys, "second-reads", "--config", str(cfg))
    assert [r["state"] for r in out["second_reads"]] == ["cancelled"]
    code, _, err = run(
        capsys, "second-reads", "--set-state", "1", "ordered", "--accession", ACC,
        "--config", str(cfg),
    )  # fmt: skip
    assert code == 2 and "cannot go from cancelled to ordered" in err


def test_an_accession_the_worklist_holds_for_another_patient_is_refused(
    tmp_path, capsys, worklist_server
):
    """Red team round 10: MRN1's read took MRN2's accession from the worklist, and the order
    and the charge went out as MRN1 with it."""
    cfg, _uid = _imported_under_mrn1(tmp_path, capsys, worklist_server, accession="")
    set_state = ["second-reads", "--set-state", "1", "ordered", "--config", str(cfg)]
    for typed in ("ACC-MRN2", "acc-mrn2"):  # the case typed another way too (round 11)
        code, _, err = run(capsys, *set_state, "--accession", typed)
        assert code == 2 and f"{typed} is the order of another patient on the worklist" in err
    code, out, err = run(capsys, *set_state, "--accession", "ACC-MRN1")
    assert code == 0, err
    assert out["second_reads"][0]["accession"] == "ACC-MRN1"
