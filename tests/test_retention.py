"""Only committed studies leave the spool, and only after the retention period."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.store import db
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config


def test_only_committed_studies_older_than_retention_are_removed(
    tmp_path, capsys, worklist_server, storage_server
):
    disc = tmp_path / "disc"
    write_ct_disc(
        disc,
        [("EXT-1", "DOE^JANE", "19700101", "F"), ("EXT-2", "ROE^JOHN", "19600101", "M")],
        per_study=2,
    )
    worklist_server.add_patient("M0")
    worklist_server.add_patient("M1", "ROE^JOHN")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    assert main(["scan", str(disc), "--json"]) == 0
    uids = [
        s["study_instance_uid"]
        for p in json.loads(capsys.readouterr().out)["patients"]
        for s in p["studies"]
    ]
    for n, uid in enumerate(uids):
        assert (
            main(["import", str(disc), "--study", uid, "--mrn", f"M{n}", "--config", str(cfg)]) == 0
        )
    capsys.readouterr()
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    rows = conn.execute("SELECT id, spool_dir, state FROM studies ORDER BY id").fetchall()
    assert [r["state"] for r in rows] == ["sent", "sent"]
    # The first study's destination confirmed it (storage commitment), 40 days ago.
    conn.execute(
        "UPDATE studies SET state = 'committed', updated_at = '2026-01-01T00:00:00+00:00'"
        " WHERE id = ?",
        (rows[0]["id"],),
    )
    conn.close()

    assert main(["clean-spool", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": [rows[0]["id"]]}
    assert not Path(rows[0]["spool_dir"]).exists()
    assert Path(rows[1]["spool_dir"]).is_dir()  # sent but not committed: kept
    assert main(["clean-spool", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": []}
    assert main(["clean-spool", "--days", "0", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": []}  # still only committed ones


def test_retention_counts_from_the_commitment_and_each_purge_is_audited(
    tmp_path, capsys, worklist_server, storage_server
):
    from datetime import UTC, datetime, timedelta

    disc = tmp_path / "disc"
    (study,) = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=1)
    worklist_server.add_patient("M0")
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    uid = study.study_instance_uid
    assert main(["import", str(disc), "--study", uid, "--mrn", "M0", "--config", str(cfg)]) == 0
    capsys.readouterr()
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    (row,) = conn.execute("SELECT id, spool_dir FROM studies").fetchall()
    recent = (datetime.now(UTC) - timedelta(days=5)).isoformat(timespec="seconds")
    # Sent long ago, but committed only 5 days ago: the 30 days count from the commitment.
    conn.execute(
        "UPDATE studies SET state = 'committed', updated_at = '2026-01-01T00:00:00+00:00'"
        " WHERE id = ?",
        (row["id"],),
    )
    conn.execute(
        "INSERT INTO commitments (transaction_uid, study_id, destination, state, requested_at,"
        " answered_at) VALUES ('2.25.1', ?, 'radiology', 'committed', ?, ?)",
        (row["id"], recent, recent),
    )
    conn.close()
    assert main(["clean-spool", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": []}
    assert main(["clean-spool", "--days", "4", "--config", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": [row["id"]]}
    assert not Path(row["spool_dir"]).exists()

    assert main(["audit", "--json", "--config", str(cfg)]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    purges = [e for e in events if e["action"] == "spool-clean"]
    assert len(purges) == 1 and purges[0]["study_instance_uid"] == uid
    assert "removed after 4 days" in purges[0]["detail"]
    assert main(["audit", "--verify", "--config", str(cfg)]) == 0


# --- Red team round 10, finding 10: a clean killed part way ----------------------------------

N = 6


def _committed(tmp_path, capsys, worklist_server, storage_server):
    """A study of N images imported, sent and marked committed 40 days ago; (cfg, id, folder)."""
    disc = tmp_path / "disc"
    (study,) = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=N)
    worklist_server.add_patient("M0")
    worklist_server.add_item(
        PatientID="M9", PatientName="ROE^ANN", PatientBirthDate="", PatientSex="",
        AccessionNumber="ACC-9",
    )  # fmt: skip
    cfg = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    uid = study.study_instance_uid
    assert main(["import", str(disc), "--study", uid, "--mrn", "M0", "--config", str(cfg)]) == 0
    capsys.readouterr()
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    (row,) = conn.execute("SELECT id, spool_dir FROM studies").fetchall()
    conn.execute("UPDATE studies SET state = 'committed', updated_at = '2026-01-01T00:00:00+00:00'")
    conn.close()
    return cfg, uid, row["id"], Path(row["spool_dir"])


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _kiosk(*args: str, fault: str = "") -> subprocess.CompletedProcess[str]:
    """``python -m kiosk`` in a child, killed by SIGKILL at ``fault`` (:mod:`kiosk.faults`)."""
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_FAULT"}
    if fault:
        env["KIOSK_FAULT"] = fault
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def _store(cfg: Path) -> tuple[str, str, int]:
    conn = db.connect(cfg.parent / "kiosk.sqlite3")
    try:
        (row,) = conn.execute("SELECT state, spool_dir FROM studies").fetchall()
        (cleans,) = conn.execute(
            "SELECT count(*) FROM audit WHERE action = 'spool-clean'"
        ).fetchone()
        return row["state"], row["spool_dir"], cleans
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("fault", "recorded"),
    [
        ("clean-spool.begun", False),  # in the transaction, before the rename
        ("clean-spool.renamed", False),  # renamed to the trash name, the clean not recorded
        ("clean-spool.recorded", True),  # recorded, nothing removed yet
        ("clean-spool.removing:3", True),  # recorded, 2 files removed
    ],
)
def test_a_clean_killed_at_any_step_leaves_the_whole_copy_or_a_recorded_clean(
    tmp_path, capsys, worklist_server, storage_server, fault, recorded
):
    cfg, _uid, study_id, folder = _committed(tmp_path, capsys, worklist_server, storage_server)
    before = _files(folder)
    assert len(before) >= N
    trash = tmp_path / "spool" / f".removing-study-{study_id:06d}"

    killed = _kiosk("clean-spool", "--days", "0", "--config", str(cfg), fault=fault)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    state, spool_dir, cleans = _store(cfg)
    assert state == "committed"
    if recorded:
        assert (spool_dir, cleans) == ("", 1)
        assert not folder.exists()
    else:
        assert (spool_dir, cleans) == (str(folder), 0)  # the store unchanged
        assert _files(folder if folder.exists() else trash) == before  # whole, by either name

    # The recovery sweep ('kiosk send', the window's start) finishes or undoes it.
    swept = _kiosk("send", "--config", str(cfg))
    assert swept.returncode == 0, swept.stderr
    assert not trash.exists()
    if recorded:
        assert not folder.exists() and _store(cfg) == ("committed", "", 1)
    else:
        assert _files(folder) == before and _store(cfg) == ("committed", str(folder), 0)
        assert main(["clean-spool", "--days", "0", "--json", "--config", str(cfg)]) == 0
        assert json.loads(capsys.readouterr().out) == {"removed": [study_id]}
        assert not folder.exists() and not trash.exists()
        assert _store(cfg) == ("committed", "", 1)
    assert main(["audit", "--verify", "--config", str(cfg)]) == 0


def test_clean_spool_run_again_finishes_a_clean_that_was_killed(
    tmp_path, capsys, worklist_server, storage_server
):
    cfg, _uid, study_id, folder = _committed(tmp_path, capsys, worklist_server, storage_server)
    trash = tmp_path / "spool" / f".removing-study-{study_id:06d}"
    killed = _kiosk(
        "clean-spool", "--days", "0", "--config", str(cfg), fault="clean-spool.removing:2"
    )
    assert killed.returncode == -signal.SIGKILL and trash.is_dir()
    assert main(["clean-spool", "--days", "0", "--json", "--config", str(cfg)]) == 0
    assert json.loads(capsys.readouterr().out) == {"removed": []}  # recorded the first time
    assert not trash.exists() and not folder.exists()
    assert _store(cfg) == ("committed", "", 1)


@pytest.mark.parametrize("name", [".removing-study-{id:06d}", ".removing-study-\u0661"])
def test_a_planted_trash_link_is_never_followed(
    tmp_path, capsys, worklist_server, storage_server, name
):
    """Red team round 11: a symlink named like a clean's trash folder, to a folder outside the
    spool (or to another study's copy), had what it points at removed by clean-spool's
    recovery (an Arabic-Indic digit read as the study's id as well)."""
    cfg, _uid, study_id, folder = _committed(tmp_path, capsys, worklist_server, storage_server)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the kiosk's", encoding="utf-8")
    link = tmp_path / "spool" / name.format(id=study_id)
    link.symlink_to(outside, target_is_directory=True)
    assert main(["clean-spool", "--days", "30", "--json", "--config", str(cfg)]) == 0
    capsys.readouterr()
    assert (outside / "keep.txt").read_text(encoding="utf-8") == "not the kiosk's"
    assert link.is_symlink()  # left alone, said in the log
    if "\u0661" not in name:  # in the way of this study's clean: its copy stays, whole
        assert _files(folder) and _store(cfg) == ("committed", str(folder), 0)


@pytest.mark.parametrize("days", ["-1", "3651", "99999999"])
def test_clean_spool_refuses_a_retention_out_of_range(
    tmp_path, capsys, worklist_server, storage_server, days
):
    cfg, _uid, _study_id, folder = _committed(tmp_path, capsys, worklist_server, storage_server)
    before = _files(folder)
    assert main(["clean-spool", "--days", days, "--json", "--config", str(cfg)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"kiosk: --days {days} is not a retention: give a whole number of days from 0 to 3650\n"
    )
    assert _files(folder) == before and _store(cfg) == ("committed", str(folder), 0)


def test_reconcile_of_a_study_whose_spool_copy_is_gone_says_to_import_the_disc_again(
    tmp_path, capsys, worklist_server, storage_server
):
    cfg, uid, _study_id, folder = _committed(tmp_path, capsys, worklist_server, storage_server)
    originals = sorted(p for p in (folder / "original").rglob("*") if p.is_file())
    for path in originals[::2]:  # half of the copy lost (a disk fault, a hand)
        path.unlink()
    lost = len(originals[::2])
    args = ["reconcile", uid, "--accession", "ACC-9", "--mrn", "M9", "--config", str(cfg)]
    assert main(args) == 6
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "stay queued" not in err
    assert err.startswith(
        f"kiosk: {lost} instances were not delivered: {lost} are quarantined or failed and are "
        "not retried ('kiosk queue' shows them); the first: "
    )
    assert err.rstrip().endswith("import the disc again")


def test_a_copy_whose_clean_was_killed_before_it_was_recorded_can_be_exported_at_once(
    tmp_path, capsys, worklist_server, storage_server
):
    cfg, uid, study_id, folder = _committed(tmp_path, capsys, worklist_server, storage_server)
    killed = _kiosk("clean-spool", "--days", "0", "--config", str(cfg), fault="clean-spool.renamed")
    assert killed.returncode == -signal.SIGKILL and not folder.exists()
    out = tmp_path / "teaching"
    args = ["export", "--deidentify", uid, "--out", str(out), "--json", "--config", str(cfg)]
    assert main(args) == 0  # the export's own sweep renamed the copy back first
    assert json.loads(capsys.readouterr().out)["files"] == N
    assert folder.is_dir() and not (tmp_path / "spool" / f".removing-study-{study_id:06d}").exists()
