"""The check before sending: a store-only PACS is remembered, and asked again later."""

from __future__ import annotations

from kiosk.cli import main
from kiosk.store import db, health
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config


def test_a_pacs_that_refuses_queries_is_remembered_for_a_while(
    tmp_path, capsys, worklist_server, storage_server
):
    disc = tmp_path / "disc"
    write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=2)
    worklist_server.add_patient("MRN1")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    try:
        assert health.answers_queries(conn, "radiology")  # nothing known yet: ask
        assert main(["import", str(disc), "--all", "--mrn", "MRN1", "--config", str(cfg)]) == 0
        capsys.readouterr()
        assert len(storage_server.wait_for_files(2)) == 2  # storescp: no C-FIND, still sent
        assert not health.answers_queries(conn, "radiology")
        conn.execute("UPDATE destination_queries SET unsupported_until = '2000-01-01T00:00:00'")
        assert health.answers_queries(conn, "radiology")  # an hour later it is asked again
    finally:
        conn.close()


def test_a_large_file_changed_after_queueing_is_refused_also_when_checked_ahead(
    tmp_path, capsys, storage_server
):
    """Files over 64 KiB are hashed while the PACS stores the one before; a bad one never goes."""
    from kiosk import digest
    from tests.discs import write_instances
    from tests.test_send_delivery import config_file, queue_study, run_send

    paths = write_instances(tmp_path / "spool", 4, size=256)  # 128 KiB each
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    try:
        study = queue_study(conn, paths, "radiology")
        for path in paths:
            conn.execute(
                "UPDATE instances SET coerced_digest = ? WHERE coerced_path = ?",
                (digest.of_file(path), str(path)),
            )
        data = bytearray(paths[2].read_bytes())
        data[-100] ^= 0xFF  # one pixel of the third image changed on disk
        paths[2].write_bytes(bytes(data))
        code, out = run_send(capsys, config_file(tmp_path, storage_server))
        assert code == 6
        assert (out["sent"], out["quarantined"]) == (3, 1)
        assert storage_server.received_sop_instance_uids() == {
            uid for k, uid in enumerate(study.sop_instance_uids) if k != 2
        }
        [reason] = [
            r[0] for r in conn.execute("SELECT last_error FROM outbox WHERE state = 'quarantined'")
        ]
        assert "changed or damaged" in reason
    finally:
        conn.close()
