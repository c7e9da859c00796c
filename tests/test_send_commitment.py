"""Storage commitment with Orthanc, and C-ECHO (``kiosk echo``), against real peers."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from kiosk.cli import main
from kiosk.config import load_config
from kiosk.send.commitment import CommitmentService
from kiosk.send.deliver import deliver
from kiosk.store.studies import StudyState, get_study
from tests.discs import write_instances
from tests.kiosk_config import write_config
from tests.peers import OrthancServer, StorageServer, free_port, wait_until
from tests.test_send_delivery import queue_study


def orthanc_config(tmp_path: Path, orthanc: OrthancServer, *, commitment: bool) -> Path:
    path = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={"radiology": (orthanc.aet, orthanc.host, orthanc.port)},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    text = path.read_text()
    text = text.replace(
        "[kiosk]\n", f"[kiosk]\nlisten_port = {orthanc.kiosk_port}\ncommitment_timeout = 20\n"
    )
    text = text.replace(
        "[destinations.radiology]\n",
        f"[destinations.radiology]\nstorage_commitment = {str(commitment).lower()}\n",
    )
    path.write_text(text)
    return path


def commitment_rows(conn: sqlite3.Connection) -> list[tuple[str, int, int]]:
    return [
        (r["state"], r["instances"], r["failed"])
        for r in conn.execute("SELECT * FROM commitments ORDER BY id")
    ]


def test_orthanc_commits_a_sent_study(tmp_path, store, capsys, orthanc_server):
    study = queue_study(store, write_instances(tmp_path / "spool", 4), "radiology")
    cfg = orthanc_config(tmp_path, orthanc_server, commitment=True)

    code = main(["send", "--config", str(cfg), "--json"])
    out = json.loads(capsys.readouterr().out)

    assert code == 0
    assert (out["sent"], out["committed"]) == (4, 1)
    assert len(orthanc_server.wait_for_instances(4)) == 4
    assert get_study(store, study.study_id).state is StudyState.COMMITTED
    assert commitment_rows(store) == [("committed", 4, 0)]
    outcomes = [
        (r["action"], r["outcome"])
        for r in store.execute("SELECT action, outcome FROM audit ORDER BY id")
    ]
    assert outcomes[-2:] == [("send", "ok"), ("commit", "ok")]


def test_missing_instance_is_not_committed_and_the_study_stays_sent(
    tmp_path, store, orthanc_server
):
    study = queue_study(store, write_instances(tmp_path / "spool", 3), "radiology")
    report = deliver(store, load_config(orthanc_config(tmp_path, orthanc_server, commitment=False)))
    assert report.sent == 3
    assert get_study(store, study.study_id).state is StudyState.SENT
    # The PACS loses one instance before we ask it to commit the study.
    lost = orthanc_server.find_instance(study.sop_instance_uids[1])
    assert lost is not None
    orthanc_server.delete(f"/instances/{lost}")

    config = load_config(orthanc_config(tmp_path, orthanc_server, commitment=True))
    with CommitmentService(config) as service:
        asked = service.request_due(store)
        service.wait(store, asked, 20)

    assert len(asked) == 1 and service.committed == set()
    assert get_study(store, study.study_id).state is StudyState.SENT
    assert commitment_rows(store) == [("failed", 3, 1)]
    [detail] = [r[0] for r in store.execute("SELECT detail FROM commitments")]
    assert detail.startswith(f"study {study.study_id}: 1 of 3 instances not committed")


def test_echo_answers_for_a_running_pacs_and_exits_4_for_a_stopped_one(
    tmp_path, capsys, storage_server: StorageServer
):
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    code = main(["echo", "--dest", "radiology", "--config", str(cfg), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert (out["destination"], out["ae_title"], out["port"], out["ok"], out["status"]) == (
        "radiology",
        "STORESCP",
        storage_server.port,
        True,
        "0x0000",
    )

    storage_server.stop()
    code = main(["echo", "--dest", "radiology", "--config", str(cfg), "--json"])
    captured = capsys.readouterr()
    assert code == 4
    assert captured.out == ""
    assert captured.err.startswith("kiosk: cannot reach the Radiology PACS STORESCP at 127.0.0.1:")

    code = main(["echo", "--dest", "nowhere", "--config", str(cfg)])
    assert code == 2
    assert "unknown destination 'nowhere'" in capsys.readouterr().err


def test_duplicates_found_by_c_find_and_only_missing_instances_sent(
    tmp_path, store, orthanc_server
):
    from kiosk.send.duplicates import find_study, skip_present

    paths = write_instances(tmp_path / "spool", 4)
    config = load_config(orthanc_config(tmp_path, orthanc_server, commitment=False))
    dest = config.destinations["radiology"]
    first = queue_study(store, paths[:2], "radiology")
    assert find_study(dest, config.ae_title, first.study_instance_uid) is None
    assert deliver(store, config).sent == 2

    again = queue_study(store, paths, "radiology")  # the same study brought in again
    on_pacs = find_study(dest, config.ae_title, again.study_instance_uid)

    assert on_pacs is not None
    assert on_pacs.instances == 2
    assert on_pacs.sop_instance_uids == frozenset(first.sop_instance_uids)
    assert skip_present(store, again.study_id, "radiology", on_pacs.sop_instance_uids) == 2
    report = deliver(store, config)
    assert report.sent == 2
    assert len(orthanc_server.wait_for_instances(4)) == 4
    assert get_study(store, again.study_id).state is StudyState.SENT


def test_delivery_never_waits_and_a_late_report_is_recorded_by_the_running_service(
    tmp_path, store, orthanc_server
):
    """Sending ends before any commitment is asked; the listener records the answer later."""
    study = queue_study(store, write_instances(tmp_path / "spool", 3), "radiology")
    config = load_config(orthanc_config(tmp_path, orthanc_server, commitment=True))
    report = deliver(store, config)  # no listener, no request, no wait
    assert report.sent == 3
    assert commitment_rows(store) == []
    assert get_study(store, study.study_id).state is StudyState.SENT

    with CommitmentService(config) as service:  # as the app runs it: for as long as it runs
        assert service.request_due(store)
        # Nobody waits: the report comes on its own association, and is recorded as it comes.
        wait_until(
            lambda: get_study(store, study.study_id).state is StudyState.COMMITTED,
            20,
            what="the study committed by a late report",
        )
    assert commitment_rows(store) == [("committed", 3, 0)]
    assert service.committed == {study.study_id}


def test_a_request_never_answered_is_asked_again_when_due(tmp_path, store, orthanc_server):
    study = queue_study(store, write_instances(tmp_path / "spool", 2), "radiology")
    cfg = orthanc_config(tmp_path, orthanc_server, commitment=True)
    cfg.write_text(cfg.read_text().replace("commitment_timeout = 20", "commitment_timeout = 1"))
    config = load_config(cfg)
    deliver(store, config)
    # Asked while nobody listens (the kiosk stopped): the answer is lost.
    unheard = CommitmentService(config)
    [first] = unheard.request_due(store)
    assert unheard.request_due(store) == []  # not due again before commitment_timeout
    time.sleep(2.1)  # requests are timed to the second
    with CommitmentService(config) as service:
        [second] = service.request_due(store)
        service.wait(store, [second], 20)
    assert first != second
    assert get_study(store, study.study_id).state is StudyState.COMMITTED
    states = dict(store.execute("SELECT transaction_uid, state FROM commitments"))
    assert states[second] == "committed"
    assert states[first] in ("superseded", "committed")  # Orthanc may still answer the first


def test_reports_for_unknown_or_stale_requests_change_nothing(tmp_path, store):
    """A report we never asked for is ignored; one for a study sent again does not commit it."""
    from pydicom.dataset import Dataset
    from pynetdicom import AE
    from pynetdicom.sop_class import (
        StorageCommitmentPushModel,
        StorageCommitmentPushModelInstance,
    )

    study = queue_study(store, write_instances(tmp_path / "spool", 2), "radiology")
    port = free_port()
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={"radiology": ("RADPACS", "127.0.0.1", free_port())},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    text = cfg.read_text().replace("[kiosk]\n", f"[kiosk]\nlisten_port = {port}\n")
    cfg.write_text(
        text.replace(
            "[destinations.radiology]\n", "[destinations.radiology]\nstorage_commitment = true\n"
        )
    )
    config = load_config(cfg)
    store.execute("UPDATE outbox SET state = 'sent'")
    store.execute("UPDATE studies SET state = 'sent'")
    store.execute(
        "INSERT INTO commitments (transaction_uid, study_id, destination, state, instances,"
        " requested_at) VALUES ('1.2.3.4', ?, 'radiology', 'requested', 2, '2026-01-01')",
        (study.study_id,),
    )
    store.commit()

    def report(uid: str, instances: list[str]) -> int:
        ds = Dataset()
        ds.TransactionUID = uid
        ds.ReferencedSOPSequence = []
        for sop in instances:
            item = Dataset()
            item.ReferencedSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
            item.ReferencedSOPInstanceUID = sop
            ds.ReferencedSOPSequence.append(item)
        ae = AE(ae_title="RADPACS")
        ae.add_requested_context(StorageCommitmentPushModel)
        assoc = ae.associate("127.0.0.1", port, ae_title=config.ae_title)
        assert assoc.is_established
        try:
            status, _ = assoc.send_n_event_report(
                ds, 1, StorageCommitmentPushModel, StorageCommitmentPushModelInstance
            )
        finally:
            assoc.release()
        return int(status.Status)

    with CommitmentService(config) as service:
        # Unknown transaction: answered, ignored.
        assert report("9.9.9", study.sop_instance_uids) == 0
        assert get_study(store, study.study_id).state is StudyState.SENT
        # Our request, but the study is not "sent" any more (sent again since): not committed.
        store.execute("UPDATE studies SET state = 'queued' WHERE id = ?", (study.study_id,))
        store.commit()
        assert report("1.2.3.4", study.sop_instance_uids) == 0
    assert get_study(store, study.study_id).state is StudyState.QUEUED
    assert commitment_rows(store) == [("committed", 2, 0)]
    assert service.committed == set()
