"""The worklist client against real SCPs: DCMTK wlmscpfs and the embedded demo SCP."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from kiosk.config import Peer
from kiosk.demo import DemoPeers
from kiosk.errors import PeerError, UsageError
from kiosk.worklist import WorklistQuery, find, name_matches, name_patterns


def peer_of(server) -> Peer:
    return Peer(server.ae_title, server.host, server.port, timeout=5)


@pytest.fixture
def muller(worklist_server):
    worklist_server.add_item(
        PatientID="MRN7",
        PatientName="MÜLLER^JÜRGEN",
        PatientBirthDate="19650505",
        AccessionNumber="ACC7",
        ScheduledProcedureStepLocation="CARDIOLOGY",
        Modality="US",
    )
    worklist_server.add_item(
        PatientID="MRN8",
        PatientName="MULLINS^ANNA",
        AccessionNumber="ACC8",
        ScheduledProcedureStepLocation="RADIOLOGY",
        Modality="CT",
    )
    return worklist_server


@pytest.mark.parametrize("typed", ["MÜLLER*", "müller*", "MULLER^J*", "muller^jurgen", "Mü*^Jü*"])
def test_name_search_ignores_case_and_accents_even_on_a_strict_scp(muller, typed):
    items = find(peer_of(muller), "KIOSK", WorklistQuery(name=typed))
    assert [i.mrn for i in items] == ["MRN7"]
    assert items[0].patient_name == "MÜLLER^JÜRGEN"


def test_wildcard_matches_both_and_department_narrows(muller):
    both = find(peer_of(muller), "KIOSK", WorklistQuery(name="MUL*"))
    assert sorted(i.mrn for i in both) == ["MRN7", "MRN8"]
    cardio = find(peer_of(muller), "KIOSK", WorklistQuery(name="MUL*"), department="cardiology")
    assert [i.mrn for i in cardio] == ["MRN7"]
    assert cardio[0].department == "CARDIOLOGY"


def test_by_accession_and_modality(muller):
    assert [i.mrn for i in find(peer_of(muller), "KIOSK", WorklistQuery(accession="ACC8"))] == [
        "MRN8"
    ]
    assert [i.mrn for i in find(peer_of(muller), "KIOSK", WorklistQuery(modality="US"))] == ["MRN7"]


def test_name_helpers():
    assert name_patterns("Müller*") == ["Müller*", "MÜLLER*", "MULLER*", "M*LL*R*"]
    assert name_matches("MUELLER*", "MÜLLER^JÜRGEN")  # the German transliteration
    assert name_matches("doe^j*", "DOE^JANE^M")
    assert name_matches("O'BRIEN*", "OBRIEN^PAT")
    assert not name_matches("DOE^JOHN", "DOE^JANE")
    assert name_matches("", "ANYONE")


def test_no_worklist_configured_is_a_usage_error():
    with pytest.raises(UsageError, match=r"no \[worklist\] is configured"):
        find(None, "KIOSK", WorklistQuery(mrn="X"))


def test_refused_port_is_a_peer_error(worklist_server):
    worklist_server.stop()
    with pytest.raises(PeerError, match="cannot reach the worklist WLMTEST"):
        find(peer_of(worklist_server), "KIOSK", WorklistQuery(mrn="X"))


def test_silent_peer_times_out_instead_of_hanging():
    """A host that accepts the connection but never answers: a clear error, not a hang."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        started = time.monotonic()
        with pytest.raises(PeerError, match="SILENT"):
            find(Peer("SILENT", "127.0.0.1", port, timeout=1), "KIOSK", WorklistQuery(mrn="X"))
        assert time.monotonic() - started < 10
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()


def test_against_the_embedded_demo_scp(tmp_path):
    with DemoPeers(tmp_path) as peers:
        peer = Peer("DEMOMWL", "127.0.0.1", peers.worklist_port, timeout=5)
        smiths = find(peer, "KIOSK", WorklistQuery(name="smith^john"))
        assert len(smiths) == 2
        assert len({i.birth_date for i in smiths}) == 2
        for typed in ("mueller*", "muller*", "MÜLLER^JÜRGEN"):
            muller = find(peer, "KIOSK", WorklistQuery(name=typed))
            assert [i.patient_name for i in muller] == ["MÜLLER^JÜRGEN"], typed
