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
