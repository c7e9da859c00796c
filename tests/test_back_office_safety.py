"""A safe back office: reconcile checks the patient, reaches queued studies, corrects the IOCM way.

Real peers: DCMTK wlmscpfs (the worklist), storescp and Orthanc (the PACS).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pydicom
import pytest

from kiosk.cli import main
from kiosk.store import db, outbox
from kiosk.store.outbox import OutboxState
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config
from tests.peers import OrthancServer, StorageServer, WorklistServer
from tests.pynetdicom_scp import ScriptedScp

JANE = ("EXT-48213", "DOE^JANE", "19700101", "F")


def run(capsys, *args: str) -> tuple[int, dict, str]:
    code = main([*args, "--json"])
    out, err = capsys.readouterr()
    return code, (json.loads(out) if out.strip() else {}), err


def orders(worklist: WorklistServer) -> None:
    """MRN100234 is the disc's patient; MRN555 is another patient (born 1980, male)."""
    worklist.add_item(
        PatientID="MRN100234",
        PatientName="DOE^JANE",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC777",
    )
    worklist.add_item(
        PatientID="MRN555",
        PatientName="ROE^JOHN",
        PatientBirthDate="19800101",
        PatientSex="M",
        AccessionNumber="ACC555",
    )


def setup(tmp_path: Path, worklist, pacs, extra: str = "") -> tuple[Path, object, Path]:
    disc = tmp_path / "disc"
    [study] = write_ct_disc(disc, [JANE], per_study=3)
    orders(worklist)
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations={"radiology": pacs},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    if extra:
        cfg.write_text(cfg.read_text() + extra)
    return disc, study, cfg


HOLD = '\n[reconcile]\nunscheduled = "hold"\n'


def test_reconcile_refuses_an_order_of_a_patient_the_disc_contradicts(
    tmp_path, capsys, worklist_server, storage_server
):
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server, HOLD)
    code, _, err = run(
        capsys, "import", str(disc), "--all", "--mrn", "MRN100234", "--config", str(cfg)
    )
    assert code == 0, err
    uid = study.study_instance_uid
    args = ["reconcile", uid, "--accession", "ACC555", "--mrn", "MRN555", "--config", str(cfg)]
    code, out, err = run(capsys, *args)
    assert code == 5
    assert "birth date 19700101 differs" in err and out == {}
    assert storage_server.received_files() == []
    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    assert [(s["mrn"], s["state"]) for s in queue["studies"]] == [("MRN100234", "unscheduled")]

    code, out, err = run(capsys, *args, "--confirm-mismatch")  # a person checked the patient
    assert code == 0, err
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    assert {(ds.PatientID, ds.AccessionNumber) for ds in received} == {("MRN555", "ACC555")}
    code, trail, _ = run(capsys, "audit", "--config", str(cfg))
    [event] = [e for e in trail["events"] if e["action"] == "reconcile"]
    assert "MRN MRN100234 -> MRN555" in event["detail"]
    assert "accession - -> ACC555" in event["detail"]
    assert "mismatch confirmed" in event["detail"]


def test_a_study_still_queued_can_be_reconciled(
    tmp_path, capsys, worklist_server, storage_server: StorageServer
):
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    storage_server.stop()  # the PACS is down: the study stays queued
    code, out, err = run(
        capsys, "import", str(disc), "--all", "--mrn", "MRN100234", "--config", str(cfg)
    )
    assert code == 6, err
    assert out["studies"][0]["state"] == "queued"
    uid = study.study_instance_uid
    code, out, err = run(capsys, "reconcile", uid, "--accession", "ACC777", "--config", str(cfg))
    assert code == 6, err  # attached; the PACS is still down, so it waits queued
    assert (out["studies"][0]["state"], out["studies"][0]["queued"]) == ("queued", 3)
    storage_server.start()
    code, _, err = run(capsys, "send", "--config", str(cfg))
    assert code == 0, err
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(3)]
    assert {(ds.PatientID, ds.AccessionNumber) for ds in received} == {("MRN100234", "ACC777")}


def test_claims_are_owned_a_requeue_during_a_send_is_not_overwritten(tmp_path):
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    try:
        conn.execute(
            "INSERT INTO studies (study_instance_uid, new_study_instance_uid, state, created_at,"
            " updated_at) VALUES ('1.2', '1.2', 'queued', '', '')"
        )
        for k in range(2):
            conn.execute(
                "INSERT INTO instances (study_id, sop_instance_uid, sop_class_uid, source_relpath)"
                " VALUES (1, ?, '1.2.840.10008.5.1.4.1.1.2', ?)",
                (f"1.2.{k}", f"I{k}"),
            )
            outbox.enqueue(conn, k + 1, "radiology", held=False)
        claimed = outbox.claim(conn, destination="radiology", limit=10)
        assert len(claimed) == 2
        outbox.enqueue(conn, claimed[0].instance_id, "radiology", held=False)  # reconciled
        changed = outbox.finish_many(
            conn, [outbox.Outcome(item.id, OutboxState.SENT) for item in claimed]
        )
        assert changed == 1
        states = dict(conn.execute("SELECT instance_id, state FROM outbox ORDER BY id"))
        assert states == {1: "queued", 2: "sent"}
    finally:
        conn.close()


def test_a_study_sent_under_the_wrong_patient_is_corrected_the_iocm_way(
    tmp_path, capsys, worklist_server, orthanc_server: OrthancServer
):
    disc, study, cfg = setup(tmp_path, worklist_server, orthanc_server)
    section = "[destinations.radiology]\n"
    cfg.write_text(cfg.read_text().replace(section, section + "rejection_notes = true\n"))
    args = ["import", str(disc), "--all", "--mrn", "MRN555", "--confirm-mismatch"]
    code, _, err = run(capsys, *args, "--config", str(cfg))  # the clerk picked the wrong patient
    assert code == 0, err
    old = set(orthanc_server.wait_for_instances(3))
    old_uids = {orthanc_server.instance_tags(i)["SOPInstanceUID"] for i in old}
    assert old_uids == set(study.sop_instance_uids)

    uid = study.study_instance_uid
    reconcile = ["reconcile", uid, "--accession", "ACC777", "--mrn", "MRN100234"]
    code, out, err = run(capsys, *reconcile, "--config", str(cfg))
    assert code == 0, err
    assert out["studies"][0]["state"] == "sent"
    now = orthanc_server.wait_for_instances(3 + 3 + 1)  # old, corrected, and the note
    tags = {i: orthanc_server.instance_tags(i) for i in set(now) - old}
    [note] = [t for t in tags.values() if t.get("SOPClassUID") == "1.2.840.10008.5.1.4.1.1.88.59"]
    corrected = [t for t in tags.values() if t is not note]
    assert {(t["PatientID"], t["AccessionNumber"]) for t in corrected} == {("MRN100234", "ACC777")}
    assert {t["SOPInstanceUID"] for t in corrected}.isdisjoint(old_uids)  # new UIDs of their own
    assert note["PatientID"] == "MRN555" and note["StudyInstanceUID"] == uid
    assert note["ConceptNameCodeSequence"][0]["CodeValue"] == "113038"

    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    [fix] = queue["corrections"]
    assert (fix["old_mrn"], fix["new_mrn"], fix["new_accession"]) == (
        "MRN555",
        "MRN100234",
        "ACC777",
    )
    assert (fix["instances"], fix["rejection_note"]) == (3, "sent")
    code, trail, _ = run(capsys, "audit", "--config", str(cfg))
    actions = [e["action"] for e in trail["events"]]
    assert "reject-old-copy" in actions


def test_without_rejection_notes_the_old_copy_is_flagged(
    tmp_path, capsys, worklist_server, storage_server
):
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    args = ["import", str(disc), "--all", "--mrn", "MRN555", "--confirm-mismatch"]
    assert run(capsys, *args, "--config", str(cfg))[0] == 0
    reconcile = [
        "reconcile",
        study.study_instance_uid,
        "--accession",
        "ACC777",
        "--mrn",
        "MRN100234",
    ]
    code, _, err = run(capsys, *reconcile, "--config", str(cfg))
    assert code == 0, err
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(6)]
    assert {ds.PatientID for ds in received} == {"MRN555", "MRN100234"}
    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    [fix] = queue["corrections"]
    assert (fix["old_mrn"], fix["rejection_note"]) == ("MRN555", "flagged")


def test_discard_with_a_reason_and_nothing_is_ever_sent(
    tmp_path, capsys, worklist_server, storage_server: StorageServer
):
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    storage_server.stop()
    args = ["import", str(disc), "--all", "--mrn", "MRN100234", "--accession", "ACC777"]
    assert run(capsys, *args, "--config", str(cfg))[0] == 6
    uid = study.study_instance_uid
    with pytest.raises(SystemExit) as usage:  # a reason is required
        main(["discard", uid, "--config", str(cfg)])
    assert usage.value.code == 2
    capsys.readouterr()
    code, out, err = run(
        capsys, "discard", uid, "--reason", "not our patient", "--config", str(cfg)
    )
    assert code == 0, err
    assert out["studies"][0]["state"] == "discarded"
    storage_server.start()
    code, sent, err = run(capsys, "send", "--config", str(cfg))
    assert code == 0, err
    assert sent["sent"] == 0
    assert storage_server.received_files() == []
    conn = sqlite3.connect(cfg.parent / "kiosk.sqlite3")
    states = {r[0] for r in conn.execute("SELECT state FROM outbox")}
    conn.close()
    assert states == {"discarded"}
    code, trail, _ = run(capsys, "audit", "--config", str(cfg))
    [event] = [e for e in trail["events"] if e["action"] == "discard"]
    assert "not our patient" in event["detail"]


# --- red-team round 3: what reached the PACS is never forgotten ----------------------------


def test_a_study_imported_again_then_moved_is_still_corrected(
    tmp_path, capsys, worklist_server, storage_server
):
    """The re-import queued the rows again; the reconciliation took them for never sent and
    sent the study under the new MRN with the old UIDs, the old copy unflagged."""
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    args = ["import", str(disc), "--all", "--mrn", "MRN555", "--confirm-mismatch"]
    assert run(capsys, *args, "--config", str(cfg))[0] == 0
    assert len(storage_server.wait_for_files(3)) == 3
    code, _, err = run(capsys, *args, "--no-send", "--config", str(cfg))  # the same disc again
    assert code == 0, err
    reconcile = ["reconcile", study.study_instance_uid, "--accession", "ACC777"]
    code, _, err = run(capsys, *reconcile, "--mrn", "MRN100234", "--config", str(cfg))
    assert code == 0, err
    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    [fix] = queue["corrections"]
    assert (fix["old_mrn"], fix["new_mrn"], fix["rejection_note"]) == (
        "MRN555",
        "MRN100234",
        "flagged",
    )
    received = [pydicom.dcmread(p) for p in storage_server.wait_for_files(6)]
    moved = [ds for ds in received if ds.PatientID == "MRN100234"]
    assert len(moved) == 3
    assert {ds.StudyInstanceUID for ds in moved}.isdisjoint({study.study_instance_uid})


def send_running(cfg: Path, scp: ScriptedScp) -> subprocess.Popen[str]:
    """A ``kiosk send`` of its own, once the (slow) PACS has stored its first instance."""
    send = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "send", "--config", str(cfg), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while not scp.stored and time.monotonic() < deadline:
        time.sleep(0.02)
    assert scp.stored, "the send did not start"
    return send


def test_a_reconciliation_waits_for_a_send_in_flight_and_corrects_all_it_sent(
    tmp_path, capsys, worklist_server
):
    """A send running meanwhile went on after the rows were held: the correction named only
    what had arrived when the reconciliation looked, the rest stayed unflagged at the PACS."""
    scp = ScriptedScp()
    try:
        scp.stall = 0.3
        scp.script.extend(["stall"] * 20)
        disc, study, cfg = setup(tmp_path, worklist_server, ("PYNETSCP", scp.host, scp.port))
        args = ["import", str(disc), "--all", "--mrn", "MRN555", "--confirm-mismatch"]
        assert run(capsys, *args, "--no-send", "--config", str(cfg))[0] == 0
        send = send_running(cfg, scp)
        reconcile = ["reconcile", study.study_instance_uid, "--accession", "ACC777"]
        code, _, err = run(
            capsys, *reconcile, "--mrn", "MRN100234", "--no-send", "--config", str(cfg)
        )
        assert code == 0, err
        send.communicate(timeout=60)
        code, queue, _ = run(capsys, "queue", "--config", str(cfg))
        [fix] = queue["corrections"]
        old_copies = len(scp.stored)  # every one the PACS got went under MRN555
        assert old_copies >= 1
        assert fix["instances"] == old_copies, (fix, scp.stored)
    finally:
        scp.close()


def test_a_discard_during_a_send_leaves_the_store_knowing_what_the_pacs_got(
    tmp_path, capsys, worklist_server
):
    """The send went on after the discard; the store said 3 sent, the PACS held 12."""
    scp = ScriptedScp()
    try:
        scp.stall = 0.3
        scp.script.extend(["stall"] * 20)
        disc, study, cfg = setup(tmp_path, worklist_server, ("PYNETSCP", scp.host, scp.port))
        args = ["import", str(disc), "--all", "--mrn", "MRN100234", "--accession", "ACC777"]
        assert run(capsys, *args, "--no-send", "--config", str(cfg))[0] == 0
        send = send_running(cfg, scp)
        discard = ["discard", study.study_instance_uid, "--reason", "wrong patient"]
        code, _, err = run(capsys, *discard, "--config", str(cfg))
        assert code == 0, err
        at_discard = len(scp.stored)
        send.communicate(timeout=60)
        assert len(scp.stored) == at_discard  # nothing went after the discard returned
        code, queue, _ = run(capsys, "queue", "--config", str(cfg))
        [row] = queue["studies"]
        assert row["state"] == "discarded"
        assert row["sent"] == len(scp.stored)
    finally:
        scp.close()


def test_a_corrected_study_can_be_reconciled_again(
    tmp_path, capsys, worklist_server, storage_server
):
    """Its rows hold the new SOP Instance UIDs; the files in the spool keep the disc's.
    Found by the red team's round 3 as a second reconciliation that quarantined it all."""
    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    args = ["import", str(disc), "--all", "--mrn", "MRN555", "--confirm-mismatch"]
    assert run(capsys, *args, "--config", str(cfg))[0] == 0
    reconcile = ["reconcile", study.study_instance_uid, "--accession", "ACC777"]
    reconcile += ["--mrn", "MRN100234", "--config", str(cfg)]
    for _ in range(2):
        code, out, err = run(capsys, *reconcile)
        assert code == 0, err
        [row] = out["studies"]
        assert (row["state"], row["sent"]) == ("sent", 3), row


def test_a_study_corrected_twice_before_the_resend_rejects_only_what_the_pacs_got(
    tmp_path, capsys, worklist_server, orthanc_server: OrthancServer
):
    """Red team round 7: reconciled MRN555 -> MRN100234 (not sent yet), then -> MRN100999.
    The second correction named MRN100234, under which the PACS never got anything, and
    its rejection note was filed under MRN100234."""
    disc, study, cfg = setup(tmp_path, worklist_server, orthanc_server)
    worklist_server.add_item(
        PatientID="MRN100999",
        PatientName="DOE^JANE",
        PatientBirthDate="19700101",
        PatientSex="F",
        AccessionNumber="ACC999",
    )
    section = "[destinations.radiology]\n"
    cfg.write_text(cfg.read_text().replace(section, section + "rejection_notes = true\n"))
    args = ["import", str(disc), "--all", "--mrn", "MRN555", "--confirm-mismatch"]
    assert run(capsys, *args, "--config", str(cfg))[0] == 0
    old = set(orthanc_server.wait_for_instances(3))
    uid = study.study_instance_uid
    first = ["reconcile", uid, "--accession", "ACC777", "--mrn", "MRN100234", "--no-send"]
    code, _, err = run(capsys, *first, "--config", str(cfg))
    assert code == 0, err
    second = ["reconcile", uid, "--accession", "ACC999", "--mrn", "MRN100999"]
    code, out, err = run(capsys, *second, "--config", str(cfg))
    assert code == 0, err
    assert out["studies"][0]["state"] == "sent"
    now = orthanc_server.wait_for_instances(3 + 3 + 1)  # old, corrected, one note
    time.sleep(1)  # a second note would come now
    tags = {i: orthanc_server.instance_tags(i) for i in set(orthanc_server.instances()) - old}
    notes = [t for t in tags.values() if t.get("SOPClassUID") == "1.2.840.10008.5.1.4.1.1.88.59"]
    assert [n["PatientID"] for n in notes] == ["MRN555"]  # only where the old copy is
    corrected = [t for t in tags.values() if t not in notes]
    assert {(t["PatientID"], t["AccessionNumber"]) for t in corrected} == {("MRN100999", "ACC999")}
    assert len(now) == 7
    code, queue, _ = run(capsys, "queue", "--config", str(cfg))
    [fix] = queue["corrections"]
    assert (fix["old_mrn"], fix["new_mrn"], fix["new_accession"], fix["instances"]) == (
        "MRN555",
        "MRN100999",
        "ACC999",
        3,
    )


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGINT"])
def test_a_back_office_change_stopped_while_it_waits_for_a_send_holds_nothing_for_good(
    tmp_path, capsys, worklist_server, storage_server, stop
):
    """Red team round 7: a discard interrupted (or killed) while it waited for a send in
    flight left the study's other rows held for good; every later ``kiosk send`` exited 0,
    "0 remain", and the PACS never got them."""
    import signal

    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    args = ["import", str(disc), "--all", "--mrn", "MRN100234", "--accession", "ACC777"]
    assert run(capsys, *args, "--no-send", "--config", str(cfg))[0] == 0
    database = tmp_path / "kiosk.sqlite3"
    sender = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        started = int(__import__("psutil").Process(sender.pid).create_time())
        claimant = f"{outbox._HOST}:{sender.pid}:{started}"  # a live kiosk send, as it claims
        conn = db.connect(database)
        with db.transaction(conn):
            conn.execute(
                "UPDATE outbox SET state = 'sending', claimed_by = ?, claimed_at = ?"
                " WHERE id = (SELECT min(id) FROM outbox)",
                (claimant, db.now_iso()),
            )
        discard = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "discard", study.study_instance_uid,
             "--reason", "wrong patient", "--config", str(cfg)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

        def held() -> int:
            return conn.execute("SELECT count(*) FROM outbox WHERE state = 'held'").fetchone()[0]

        deadline = time.monotonic() + 30
        while held() < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held() == 2  # it waits for the send in flight, the other rows held
        discard.send_signal(signal.SIGKILL if stop == "SIGKILL" else signal.SIGINT)
        _, err = discard.communicate(timeout=30)
        if stop == "SIGINT":
            assert discard.returncode == 130 and "Traceback" not in err
            assert held() == 0  # queued again at once
        sender.kill()
        sender.wait()
        code, _, err = run(capsys, "send", "--config", str(cfg))
        assert code == 0, err
        assert held() == 0
        conn.close()
        assert len(storage_server.received_files()) == 3  # all of the study, still queued
        code, queue, _ = run(capsys, "queue", "--config", str(cfg))
        [row] = queue["studies"]
        assert (row["state"], row["sent"]) == ("sent", 3)
    finally:
        sender.kill()
        sender.wait()


@pytest.mark.parametrize("change", ["role", "disabled"])
@pytest.mark.parametrize("action", ["discard", "reconcile"])
def test_a_change_that_waited_for_a_send_is_refused_if_the_user_lost_the_right_meanwhile(
    tmp_path, capsys, monkeypatch, worklist_server, storage_server, action, change
):
    """Red team round 13: a back-office user started a reconcile (or discard) that waited for
    a send in flight; meanwhile IT made them front desk (or disabled them). The role was read
    once at sign-in: the change went through (30 images under MRN2) and was audited as theirs.
    Now the right is asked again after the wait: refused, nothing changed, the study goes on."""
    from kiosk import access
    from kiosk.app.discard_study import discard_study
    from kiosk.app.reconcile_study import reconcile_study
    from kiosk.config import load_config
    from kiosk.errors import RoleNotAllowed, SignInError
    from kiosk.store import audit_trail

    disc, study, cfg = setup(tmp_path, worklist_server, storage_server)
    args = ["import", str(disc), "--all", "--mrn", "MRN100234", "--accession", "ACC777"]
    assert run(capsys, *args, "--no-send", "--config", str(cfg))[0] == 0
    config = load_config(cfg)
    with db.opened(config.database_path) as conn:
        access.add_user(conn, "ann", access.Role.ADMIN, "admin-secret-1")
        access.add_user(conn, "bo", access.Role.BACK_OFFICE, "bo-secret-1")
        access.sign_in(conn, "bo", "bo-secret-1", station=config.station)
    waited = outbox.quiesce

    def quiesce_while_it_changes(conn: sqlite3.Connection, study_id: int) -> None:
        waited(conn, study_id)  # the wait for a send in flight; IT acts meanwhile
        with conn:
            if change == "role":
                conn.execute("UPDATE users SET role = 'front-desk' WHERE name = 'bo'")
            else:
                conn.execute("UPDATE users SET disabled = 1 WHERE name = 'bo'")

    monkeypatch.setattr(outbox, "quiesce", quiesce_while_it_changes)
    refused = RoleNotAllowed if change == "role" else SignInError
    try:
        with pytest.raises(refused):
            if action == "discard":
                discard_study(config, "wrong patient", study_uid=study.study_instance_uid)
            else:
                reconcile_study(config, study.study_instance_uid, "ACC555", mrn="MRN555",
                                confirmed_mismatch=True)  # fmt: skip
    finally:
        access.sign_out()
    with db.opened(config.database_path) as conn:
        [row] = conn.execute("SELECT state, mrn FROM studies").fetchall()
        assert (row["state"], row["mrn"]) == ("queued", "MRN100234")
        states = {r[0] for r in conn.execute("SELECT state FROM outbox")}
        assert states == {OutboxState.QUEUED.value}  # released: it goes on as it was
        events = [dict(r) for r in audit_trail.rows(conn)]
    assert [e["outcome"] for e in events if e["action"] in ("discard", "reconcile")] == ["refused"]
    monkeypatch.undo()
    monkeypatch.setenv("KIOSK_USER", "ann")
    monkeypatch.setenv("KIOSK_PASSWORD", "admin-secret-1")
    code, _, err = run(capsys, "send", "--config", str(cfg))
    assert code == 0, err
    assert len(storage_server.wait_for_files(3)) == 3
