"""Sending rules without a peer: status policy, backoff, claims of dead processes, config keys."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEGBaseline8Bit,
    RLELossless,
)

from kiosk.config import parse_config
from kiosk.errors import ConfigError
from kiosk.send import policy
from kiosk.send.sender import MAX_CONTEXTS, plan_contexts
from kiosk.send.transcode import mark_lossy
from kiosk.store import db, health, outbox, studies
from kiosk.store.outbox import OutboxState

CT = "1.2.840.10008.5.1.4.1.1.2"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    c = db.connect(tmp_path / "kiosk.sqlite3")
    try:
        yield c
    finally:
        c.close()


def queued(conn: sqlite3.Connection, n: int) -> list[int]:
    sid = studies.add_study(
        conn,
        study_instance_uid="1.2.3",
        original_patient_id="X",
        original_issuer="",
        source="t",
        station="S",
        user="u",
        destination="radiology",
    )
    for k in range(n):
        iid = studies.add_instance(
            conn,
            sid,
            sop_instance_uid=f"1.2.3.{k}",
            sop_class_uid=CT,
            transfer_syntax_uid=ExplicitVRLittleEndian,
            source_relpath=f"I{k}",
        )
        outbox.enqueue(conn, iid, "radiology", held=False)
    return [r[0] for r in conn.execute("SELECT id FROM outbox ORDER BY id")]


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (0x0000, policy.Outcome.STORED),
        (0xB000, policy.Outcome.STORED),
        (0xB007, policy.Outcome.STORED),
        (0x0107, policy.Outcome.STORED),
        (None, policy.Outcome.RETRY),
        (0xA700, policy.Outcome.RETRY),
        (0xA7FF, policy.Outcome.RETRY),
        (0x0213, policy.Outcome.RETRY),
        (0x0122, policy.Outcome.QUARANTINE),
        (0xA900, policy.Outcome.QUARANTINE),
        (0xC000, policy.Outcome.QUARANTINE),
        (0xCFFF, policy.Outcome.QUARANTINE),
    ],
)
def test_status_categories(status: int | None, outcome: policy.Outcome) -> None:
    assert policy.classify(status) is outcome


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempts, base in [(1, 5.0), (2, 10.0), (3, 20.0), (6, 160.0), (30, 3600.0)]:
        waits = [policy.backoff_seconds(attempts, rng) for _ in range(200)]
        assert min(waits) >= base * 0.75
        assert max(waits) <= base * 1.25
        assert max(waits) - min(waits) > base * 0.3  # really scattered


def test_a_pacs_that_is_down_waits_at_most_ten_minutes() -> None:
    rng = random.Random(3)
    cap = policy.DESTINATION_BACKOFF_CAP
    waits = [policy.backoff_seconds(30, rng, cap=cap) for _ in range(200)]
    assert cap * 0.75 <= min(waits) and max(waits) <= cap * 1.25
    assert policy.backoff_seconds(1, rng, cap=cap) <= 5.0 * 1.25  # the start is the same


def test_destination_health_counts_failed_runs_until_one_works(conn: sqlite3.Connection) -> None:
    assert health.get(conn, "radiology") is None
    assert health.waiting(conn, "radiology") is None
    first = health.record_down(conn, "radiology", "refused", 60, now=NOW)
    second = health.record_down(conn, "radiology", "timed out", 120, now=NOW + timedelta(1))
    assert (second.failures, second.down_since, second.last_error) == (
        2,
        first.down_since,
        "timed out",
    )
    assert second.next_attempt_at == (NOW + timedelta(days=1, seconds=120)).isoformat()
    later = NOW + timedelta(days=1, seconds=119)
    assert health.waiting(conn, "radiology", now=later) == second
    assert health.waiting(conn, "radiology", now=later + timedelta(seconds=1)) is None
    assert [d.destination for d in health.down(conn)] == ["radiology"]
    assert health.record_up(conn, "radiology") is True
    assert health.record_up(conn, "radiology") is False
    assert health.down(conn) == [] and health.failures(conn, "radiology") == 0


def test_decide_retry_then_failed_after_max_attempts() -> None:
    rng = random.Random(1)
    retry = policy.decide(0xA700, 1, now=NOW, rng=rng)
    assert retry.state is OutboxState.QUEUED
    wait = datetime.fromisoformat(retry.next_attempt_at) - NOW
    assert timedelta(seconds=3) <= wait <= timedelta(seconds=7)
    assert policy.decide(None, policy.MAX_ATTEMPTS, now=NOW) == policy.Decision(OutboxState.FAILED)
    assert policy.decide(0xC123, 1, now=NOW) == policy.Decision(OutboxState.QUARANTINED)
    assert policy.decide(0xB000, 3, now=NOW) == policy.Decision(OutboxState.SENT)


def test_due_only_claims_skip_rows_waiting_for_their_retry(conn: sqlite3.Connection) -> None:
    a, b = queued(conn, 2)
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat(timespec="seconds")
    assert [i.id for i in outbox.claim(conn, destination="radiology", limit=1)] == [a]
    outbox.finish(conn, a, OutboxState.QUEUED, "0xA700", "PACS out of resources", later)
    assert [i.id for i in outbox.claim(conn, destination="radiology", limit=10, due_only=True)] == [
        b
    ]
    # "kiosk send" run by a person sends now, whatever the schedule says.
    assert [i.id for i in outbox.claim(conn, destination="radiology", limit=10)] == [a]


def test_claims_of_a_dead_local_process_are_taken_over_at_once(conn: sqlite3.Connection) -> None:
    ids = queued(conn, 3)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    dead_pid = int(dead.stdout)
    host = outbox.worker_id().split(":")[0]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    conn.execute(
        "UPDATE outbox SET state = 'sending', claimed_by = ?, claimed_at = ?, attempts = 1"
        " WHERE id = ?",
        (f"{host}:{dead_pid}:1", now, ids[0]),
    )
    # A live process of this host (our parent) keeps its claim.
    parent = psutil.Process(os.getppid())
    conn.execute(
        "UPDATE outbox SET state = 'sending', claimed_by = ?, claimed_at = ? WHERE id = ?",
        (f"{host}:{parent.pid}:{int(parent.create_time())}", now, ids[1]),
    )
    # Another host's fresh claim waits for its lease.
    conn.execute(
        "UPDATE outbox SET state = 'sending', claimed_by = 'otherhost:1:1', claimed_at = ?"
        " WHERE id = ?",
        (now, ids[2]),
    )
    got = outbox.claim(conn, destination="radiology", limit=10)
    assert [(i.id, i.attempts) for i in got] == [(ids[0], 2)]


def test_release_gives_rows_back_without_counting_the_attempt(conn: sqlite3.Connection) -> None:
    queued(conn, 2)
    items = outbox.claim(conn, destination="radiology", limit=10)
    outbox.release(conn, [i.id for i in items])
    rows = conn.execute("SELECT state, attempts, claimed_by FROM outbox").fetchall()
    assert [tuple(r) for r in rows] == [("queued", 0, "")] * 2


def test_plan_offers_each_syntax_in_its_own_context_and_respects_the_limit() -> None:
    plan = plan_contexts({CT: {RLELossless, ExplicitVRLittleEndian}})
    assert plan.sop_classes == [CT]
    assert [cx.transfer_syntax for cx in plan.contexts] == [
        ExplicitVRLittleEndian,
        RLELossless,
        ImplicitVRLittleEndian,
    ]
    many = {f"1.2.840.10008.5.1.4.1.1.{k}": {RLELossless} for k in range(100)}
    plan = plan_contexts(many)
    assert len(plan.contexts) == MAX_CONTEXTS - MAX_CONTEXTS % 3
    assert len(plan.sop_classes) == MAX_CONTEXTS // 3
    only_explicit = plan_contexts({CT: {RLELossless}}, [ExplicitVRLittleEndian])
    assert [cx.transfer_syntax for cx in only_explicit.contexts] == [
        RLELossless,
        ExplicitVRLittleEndian,
    ]


def test_mark_lossy_keeps_true_and_sets_method() -> None:
    ds = Dataset()
    mark_lossy(ds, RLELossless)
    assert "LossyImageCompression" not in ds
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_15444_1"
    mark_lossy(ds, RLELossless)
    assert ds.LossyImageCompression == "01"  # once lossy, always lossy
    mark_lossy(ds, JPEGBaseline8Bit)
    assert list(ds.LossyImageCompressionMethod) == ["ISO_15444_1", "ISO_10918_1"]
    fresh = Dataset()
    mark_lossy(fresh, JPEGBaseline8Bit)
    assert (fresh.LossyImageCompression, fresh.LossyImageCompressionMethod) == ("01", "ISO_10918_1")


def dest_config(tmp_path: Path, **keys: object) -> dict:
    return {"destinations": {"radiology": {"ae_title": "PACS", "host": "h", "port": 104, **keys}}}


def test_destination_sending_keys(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    cfg = parse_config(
        {
            "kiosk": {"listen_port": 11112},
            **dest_config(
                tmp_path,
                tls=True,
                tls_ca=str(ca),
                transfer_syntaxes=[ImplicitVRLittleEndian],
                storage_commitment=True,
                associations=4,
                max_pdu=65536,
            ),
        },
        tmp_path / "k.toml",
    )
    d = cfg.destinations["radiology"]
    assert (d.tls, d.tls_ca, d.tls_cert, d.transfer_syntaxes, d.storage_commitment) == (
        True,
        str(ca),
        "",
        (ImplicitVRLittleEndian,),
        True,
    )
    assert (d.associations, d.max_pdu, cfg.listen_port) == (4, 65536, 11112)


@pytest.mark.parametrize(
    ("keys", "key", "message"),
    [
        ({"tls": "yes"}, "tls", "must be true or false"),
        ({"storage_commitment": 1}, "storage_commitment", "true or false"),
        ({"transfer_syntaxes": [RLELossless]}, "transfer_syntaxes", "is not one of"),
        ({"tls": True, "tls_ca": "/nonexistent/ca.pem"}, "tls_ca", "not a readable file"),
        ({"tls_ca": "/etc/hostname"}, "tls", "tls = false"),
        ({"associations": 0}, "associations", "between 1 and 16"),
    ],
)  # fmt: skip
def test_bad_sending_keys_name_file_and_key(
    tmp_path: Path, keys: dict, key: str, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(dest_config(tmp_path, **keys), tmp_path / "k.toml")
    assert str(err.value).startswith(f"{tmp_path / 'k.toml'}: [destinations.radiology.{key}] ")
    assert message in str(err.value)


def test_file_meta_offset_and_syntax_and_the_store_command(tmp_path: Path) -> None:
    from pydicom import dcmread
    from pydicom.filebase import DicomBytesIO
    from pydicom.filereader import read_dataset

    from kiosk.net.store import parse_command, parse_file_meta, store_command
    from tests.discs import write_instances

    [path] = write_instances(tmp_path, 1, compress=RLELossless)
    meta = parse_file_meta(path.read_bytes()[:4096])
    assert meta is not None
    assert meta.transfer_syntax == RLELossless
    assert (meta.sop_class, meta.sop_instance) == (CT, dcmread(path).SOPInstanceUID)
    raw = path.read_bytes()
    ds = dcmread(path)
    # The data set starts right after the file meta: its first element is (0008,0005).
    assert raw[meta.offset : meta.offset + 4] == b"\x08\x00\x05\x00"
    not_dicom = tmp_path / "x.txt"
    not_dicom.write_bytes(b"hello" * 100)
    assert parse_file_meta(not_dicom.read_bytes()[:4096]) is None

    command = store_command(7, CT, str(ds.SOPInstanceUID))
    decoded = read_dataset(DicomBytesIO(command), is_implicit_VR=True, is_little_endian=True)
    assert decoded.CommandGroupLength == len(command) - 12
    assert (decoded.CommandField, decoded.MessageID, decoded.CommandDataSetType) == (1, 7, 0)
    assert decoded.AffectedSOPClassUID == CT
    assert decoded.AffectedSOPInstanceUID == ds.SOPInstanceUID
    fields = parse_command(command)
    assert fields[0x00000110] == b"\x07\x00"
