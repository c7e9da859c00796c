"""The identity query before sending, against a pynetdicom PACS that answers badly.

A PACS that never stops answering a C-FIND (pending results for ever) held
the kiosk and filled its memory (red-team session 6: 66,729 answers, 756 MiB
after 60 s); one that refuses the query with a failure status was taken as a
passing problem ("try again later"). Now the answers are bounded (the
association is aborted past them) and a refusal is what a store-only PACS
says: it cannot be asked.
"""

from __future__ import annotations

import threading
import time

import pytest
from pydicom.dataset import Dataset
from pynetdicom import AE, evt
from pynetdicom.sop_class import StudyRootQueryRetrieveInformationModelFind, Verification

from kiosk.config import Destination
from kiosk.errors import PeerError
from kiosk.send import duplicates
from tests.peers import LOOPBACK, free_port


class _FindScp:
    """A pynetdicom Query/Retrieve SCP whose C-FIND answers ``mode``: ``flood`` or ``refuse``."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.answered = 0
        self.ae = AE(ae_title="FINDSCP")
        for model in (StudyRootQueryRetrieveInformationModelFind, Verification):
            self.ae.add_supported_context(model)
        self.port = free_port()
        self.server = self.ae.start_server(
            (LOOPBACK, self.port), block=False, evt_handlers=[(evt.EVT_C_FIND, self._find)]
        )

    def _find(self, event: evt.Event):  # type: ignore[no-untyped-def]
        if self.mode == "refuse":
            yield 0xC001, None
            return
        n = 0
        while True:  # pending results for ever
            ds = Dataset()
            ds.QueryRetrieveLevel = "STUDY"
            ds.PatientID = "MRN1"
            ds.StudyInstanceUID = f"1.2.3.{n}"
            n += 1
            self.answered += 1
            yield 0xFF00, ds

    def destination(self) -> Destination:
        return Destination(ae_title="FINDSCP", host=LOOPBACK, port=self.port, name="pacs")

    def close(self) -> None:
        self.server.shutdown()


@pytest.fixture
def find_scp(request):
    scp = _FindScp(request.param)
    yield scp
    scp.close()


@pytest.mark.parametrize("find_scp", ["flood"], indirect=True)
def test_a_pacs_that_never_stops_answering_is_cut_off(find_scp, monkeypatch):
    monkeypatch.setattr(duplicates, "MAX_ANSWERS", 200)
    began = time.monotonic()
    with pytest.raises(PeerError, match="answered more than 200 matches"):
        duplicates.study_holders(find_scp.destination(), "KIOSK", "1.2.3")
    assert time.monotonic() - began < 30
    answered = find_scp.answered
    time.sleep(0.5)
    assert find_scp.answered - answered < 50  # the association is gone: no more answers
    assert threading.active_count() < 50


@pytest.mark.parametrize("find_scp", ["refuse"], indirect=True)
def test_a_pacs_that_refuses_the_query_cannot_be_asked(find_scp):
    assert duplicates.study_holders(find_scp.destination(), "KIOSK", "1.2.3") is None
