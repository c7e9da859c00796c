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


class _NamesThenFailsPacs:
    """A pynetdicom PACS that stores, and answers a study C-FIND with one match under another
    patient (``holders[uid]``), then a final failure ``status`` (red team round 13)."""

    def __init__(self, status: int) -> None:
        from pynetdicom import AllStoragePresentationContexts

        self.status = status
        self.holders: dict[str, str] = {}
        self.asked: list[str] = []
        self.stored: list[str] = []
        self.ae = AE(ae_title="FAILPACS")
        self.ae.supported_contexts = AllStoragePresentationContexts
        for model in (StudyRootQueryRetrieveInformationModelFind, Verification):
            self.ae.add_supported_context(model)
        self.port = free_port()
        self.ae_title, self.host = "FAILPACS", LOOPBACK
        self.server = self.ae.start_server(
            (LOOPBACK, self.port),
            block=False,
            evt_handlers=[(evt.EVT_C_FIND, self._find), (evt.EVT_C_STORE, self._store)],
        )

    def _find(self, event: evt.Event):  # type: ignore[no-untyped-def]
        uid = str(event.identifier.get("StudyInstanceUID", ""))
        self.asked.append(uid)
        if uid in self.holders:
            ds = Dataset()
            ds.QueryRetrieveLevel = "STUDY"
            ds.StudyInstanceUID = uid
            ds.PatientID = self.holders[uid]
            ds.PatientName = "OTHER^PATIENT"
            ds.PatientBirthDate = "19500101"
            ds.PatientSex = "M"
            yield 0xFF00, ds
        yield self.status, None

    def _store(self, event: evt.Event) -> int:
        self.stored.append(str(event.request.AffectedSOPInstanceUID))
        return 0x0000

    def close(self) -> None:
        self.server.shutdown()


@pytest.mark.parametrize("status", [0xA700, 0xFE00, 0xC000], ids=["A700", "FE00", "C000"])
def test_a_holder_named_before_a_failure_status_refuses_the_study(
    tmp_path, worklist_server, status
):
    """Red team round 13: a PACS named another patient (MRN9) as the holder of the Study UID,
    then ended its answer with a failure (Out of Resources, Cancel, Unable to process). The
    match was thrown away, the PACS taken for store-only for an hour, and the study sent under
    MRN1 (exit 0); the next study, which it holds under MRN8, went unasked. What was answered
    before the failure counts: both studies are refused (exit 5), nothing is stored."""
    from tests.discs import write_ct_disc
    from tests.test_integrity_e2e import config_for, run_kiosk

    pacs = _NamesThenFailsPacs(status)
    try:
        jane, ann = ("EXT-1", "DOE^JANE", "19700101", "F"), ("EXT-2", "ROE^ANN", "19800101", "F")
        [first] = write_ct_disc(tmp_path / "disc1", [jane], per_study=2)
        [second] = write_ct_disc(tmp_path / "disc2", [ann], per_study=2)
        pacs.holders = {first.study_instance_uid: "MRN9", second.study_instance_uid: "MRN8"}
        worklist_server.add_patient("MRN1", "DOE^JANE", PatientBirthDate="19700101")
        worklist_server.add_patient("MRN2", "ROE^ANN", PatientBirthDate="19800101")
        cfg = config_for(tmp_path, worklist_server, radiology=pacs)
        for disc, mrn, held in (("disc1", "MRN1", "MRN9"), ("disc2", "MRN2", "MRN8")):
            code, _, err = run_kiosk(
                tmp_path, "import", str(tmp_path / disc), "--all", "--mrn", mrn,
                "--accession", f"ACC-{mrn}", "--dest", "radiology", "--config", str(cfg),
            )  # fmt: skip
            assert code == 5, err
            assert held in err and "Traceback" not in err
        assert pacs.stored == []
        assert pacs.asked.count(second.study_instance_uid) == 1  # asked, not skipped for an hour
    finally:
        pacs.close()
