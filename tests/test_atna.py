"""IHE ATNA: the audit trail reaches a syslog collector as DICOM audit messages, in order, once."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import audit
from kiosk.cli import main
from kiosk.store import db
from tests.kiosk_config import write_config
from tests.syslog_listener import SyslogListener, free_port
from tests.test_phi_and_tls import pki  # noqa: F401 (the fixture)


@pytest.fixture
def listener() -> Iterator[SyslogListener]:
    server = SyslogListener()
    yield server
    server.close()


def _config(tmp_path: Path, port: int) -> Path:
    path = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    with path.open("a", encoding="utf-8") as f:
        f.write(f'\n[audit]\nhost = "127.0.0.1"\nport = {port}\ntimeout = 5\n')
    return path


def _record(tmp_path: Path, actions: list[str]) -> None:
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    for n, action in enumerate(actions):
        audit.record(
            conn,
            user="alice",
            station="TEST-DESK",
            action=action,
            study_instance_uid=f"1.2.840.99.{n}",
            outcome="refused" if action == "discard" else "ok",
            detail=f"study {n}: {action} <&> done",
        )
    conn.close()


def _send(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["audit", "--send", "--json", "--config", str(config)])
    out = capsys.readouterr().out
    return code, (json.loads(out) if out else {})


def test_records_reach_the_collector_as_dicom_audit_messages(tmp_path, listener, capsys):
    config = _config(tmp_path, listener.port)
    _record(tmp_path, ["copy", "send", "discard", "sign-in"])
    code, report = _send(config, capsys)
    assert code == 0
    assert report == {"sent": 4, "queued": 0, "uncertain": 0, "error": ""}
    got = listener.wait_for(4)
    assert not listener.errors
    assert len(got) == 4
    assert {m.msgid for m in got} == {"IHE+DICOM"}
    assert {m.hostname for m in got} == {"TEST-DESK"}
    assert [m.pri for m in got] == [85, 85, 84, 85]  # authpriv.notice; a refusal a warning
    ids = [m.xml.find("EventIdentification/EventID").get("csd-code") for m in got]
    assert ids == ["110107", "110104", "110103", "110114"]  # import, transfer, access, login
    outcomes = [m.xml.find("EventIdentification").get("EventOutcomeIndicator") for m in got]
    assert outcomes == ["0", "0", "4", "0"]
    studies = [
        m.xml.find("ParticipantObjectIdentification").get("ParticipantObjectID") for m in got
    ]
    assert studies == [f"1.2.840.99.{n}" for n in range(4)]  # in order
    assert got[0].xml.find("ActiveParticipant").get("UserID") == "alice"
    detail = got[0].xml.find("ParticipantObjectIdentification[2]/ParticipantObjectDetail")
    assert detail.get("type") == "HMAC-SHA-256"  # the chain is keyed (audit_seal)
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    first_hash = conn.execute("SELECT hash FROM audit WHERE id = 1").fetchone()[0]
    conn.close()
    assert base64.b64decode(detail.get("value")).hex() == first_hash
    text = got[0].xml.find("EventIdentification/EventOutcomeDescription").text
    assert text == "copy: ok; study 0: copy <&> done"  # escaped in the XML, whole again


def test_nothing_is_sent_twice(tmp_path, listener, capsys):
    config = _config(tmp_path, listener.port)
    _record(tmp_path, ["copy", "send"])
    assert _send(config, capsys) == (0, {"sent": 2, "queued": 0, "uncertain": 0, "error": ""})
    assert _send(config, capsys)[1]["sent"] == 0
    _record(tmp_path, ["commit"])
    assert _send(config, capsys)[1]["sent"] == 1
    got = listener.wait_for(4, timeout=1.0)  # a fourth never comes
    assert len(got) == 3 and not listener.errors


def test_a_collector_that_is_down_keeps_the_records_queued(tmp_path, capsys):
    port = free_port()
    config = _config(tmp_path, port)
    _record(tmp_path, ["copy", "send", "commit"])
    assert main(["audit", "--send", "--config", str(config)]) == 4
    err = capsys.readouterr().err
    assert "audit collector" in err and "3 audit records stay queued" in err
    server = SyslogListener(port)
    try:
        _record(tmp_path, ["spool-clean"])
        code, report = _send(config, capsys)
        assert code == 0 and report["sent"] == 4
        got = server.wait_for(4)
        assert not server.errors
        actions = [
            m.xml.find("EventIdentification/EventOutcomeDescription").text.split(":")[0]
            for m in got
        ]
        assert actions == ["copy", "send", "commit", "spool-clean"]
    finally:
        server.close()


def test_a_record_interrupted_while_sending_is_not_sent_again(tmp_path, listener, capsys):
    config = _config(tmp_path, listener.port)
    _record(tmp_path, ["copy", "send"])
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    conn.execute("UPDATE atna_queue SET state = 'sending' WHERE audit_id = 1")  # a crash
    conn.close()
    code, report = _send(config, capsys)
    assert (code, report["sent"], report["uncertain"]) == (0, 1, 1)
    got = listener.wait_for(1)
    assert len(got) == 1
    assert got[0].xml.find("EventIdentification/EventID").get("csd-code") == "110104"


def test_no_collector_configured_is_a_usage_error(tmp_path, capsys):
    config = write_config(
        tmp_path / "kiosk.toml",
        worklist=None,
        destinations={},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    assert main(["audit", "--send", "--config", str(config)]) == 2
    assert "[audit]" in capsys.readouterr().err


def test_the_audit_section_of_the_config(tmp_path):
    from kiosk.config import parse_config
    from kiosk.errors import ConfigError

    path = tmp_path / "k.toml"
    config = parse_config({"audit": {"host": "audit.example.org"}}, path)
    assert config.audit_collector is not None
    assert (config.audit_collector.port, config.audit_collector.tls) == (601, False)
    config = parse_config({"audit": {"host": "a", "tls": True}}, path)
    assert config.audit_collector is not None and config.audit_collector.port == 6514
    assert parse_config({}, path).audit_collector is None
    with pytest.raises(ConfigError, match=r"\[audit.host\]"):
        parse_config({"audit": {"port": 601}}, path)
    kiosk = parse_config({"kiosk": {"lock_minutes": 3, "fullscreen": True}}, path)
    assert (kiosk.lock_minutes, kiosk.fullscreen) == (3, True)
    with pytest.raises(ConfigError, match="lock_minutes"):
        parse_config({"kiosk": {"lock_minutes": -1}}, path)


def test_records_go_over_tls_to_a_collector_the_ca_vouches_for(tmp_path, pki, capsys):  # noqa: F811
    server = SyslogListener(tls=(pki.cert, pki.key))
    try:
        config = _config(tmp_path, server.port)
        _record(tmp_path, ["copy", "send"])
        text = config.read_text().replace("[audit]\n", "[audit]\ntls = true\n")
        config.write_text(text)
        assert main(["audit", "--send", "--config", str(config)]) == 4  # the CA is not trusted
        assert "certificate" in capsys.readouterr().err
        assert server.messages == []
        config.write_text(text.replace("tls = true\n", f'tls = true\ntls_ca = "{pki.ca}"\n'))
        code, report = _send(config, capsys)
        assert (code, report["sent"], report["queued"]) == (0, 2, 0)
        got = server.wait_for(2)
        assert len(got) == 2
        assert [m.xml.find("EventIdentification/EventID").get("csd-code") for m in got] == [
            "110107",
            "110104",
        ]
    finally:
        server.close()


def test_an_import_reaches_the_collector_with_the_next_send(
    tmp_path, listener, capsys, worklist_server, storage_server
):
    from kiosk.app.housekeeping import record_view
    from kiosk.config import load_config
    from tests.discs import write_ct_disc

    disc = tmp_path / "disc"
    (study,) = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=1)
    worklist_server.add_patient("M0")
    config = write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist_server,
        destinations={"radiology": storage_server},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )
    with config.open("a", encoding="utf-8") as f:
        f.write(f'\n[audit]\nhost = "127.0.0.1"\nport = {listener.port}\n')
    uid = study.study_instance_uid
    args = ["import", str(disc), "--study", uid, "--mrn", "M0", "--user", "alice"]
    assert main([*args, "--config", str(config)]) == 0
    record_view(load_config(config), uid, user="alice")
    assert main(["send", "--config", str(config)]) == 0
    capsys.readouterr()
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    count = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    conn.close()
    got = listener.wait_for(count)
    assert len(got) == count and not listener.errors
    described = [
        m.xml.find("EventIdentification/EventOutcomeDescription").text.split(":")[0] for m in got
    ]
    assert {"copy", "coerce", "queue", "send", "view"} <= set(described)
    for message in got:
        # Every text and attribute, but the chain's hash (base64: "DOE" may occur in it).
        shown = [
            (e.text, {k: v for k, v in e.attrib.items() if e.tag != "ParticipantObjectDetail"})
            for e in message.xml.iter()
        ]
        assert "DOE" not in json.dumps(shown)
    assert main(["audit", "--send", "--json", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["sent"] == 0


def test_one_sender_at_a_time(tmp_path, listener, capsys):
    config = _config(tmp_path, listener.port)
    _record(tmp_path, ["copy", "send"])
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    conn.execute("INSERT INTO atna_sender VALUES (1, 'other-host:42:1', '2999-01-01T00:00:00')")
    conn.close()
    assert _send(config, capsys) == (0, {"sent": 0, "queued": 2, "uncertain": 0, "error": ""})
    assert listener.wait_for(1, timeout=0.5) == []
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    conn.execute("UPDATE atna_sender SET until = '2000-01-01T00:00:00+00:00'")  # it died
    conn.close()
    assert _send(config, capsys)[1]["sent"] == 2
    assert len(listener.wait_for(2)) == 2
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    assert conn.execute("SELECT count(*) FROM atna_sender").fetchone()[0] == 0  # given back
    conn.close()
