"""A pynetdicom storage SCP on loopback that answers each C-STORE as a test scripts it.

The third independent SCP of the network tests (besides DCMTK ``storescp`` and
Orthanc, :mod:`tests.peers`). pynetdicom's AE runs in threads of the test
process. Each C-STORE takes the next step of :attr:`ScriptedScp.script`
(then ``"store"`` when it is empty):

- ``"store"``: store and answer :attr:`status` (with :attr:`comment` as the
  Error Comment, when set);
- ``"release"``: send A-RELEASE-RQ instead of an answer;
- ``"abort"``: send A-ABORT instead of an answer;
- ``"wrong_uid"``: answer a C-STORE-RSP naming another SOP instance;
- ``"wrong_command"``: answer a C-ECHO-RSP;
- ``"stall"``: say nothing for :attr:`stall` seconds, then store.

With :attr:`abort_requests` set, it answers every association request with
A-ABORT. ``maximum_associations`` limits the associations at once (pynetdicom rejects
the next one, transient); ``calling_aets``, when given, are the only calling
AE titles accepted (pynetdicom rejects others, permanent).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from typing import Any

from tests.peers import LOOPBACK, free_port

CROSSED = 0.5  # seconds a wrong answer is left alone before pynetdicom's own would follow


class ScriptedScp:
    """A pynetdicom storage SCP whose answers a test chooses (see the module docstring)."""

    def __init__(
        self,
        ae_title: str = "PYNETSCP",
        *,
        maximum_associations: int = 10,
        calling_aets: Sequence[str] = (),
    ) -> None:
        from pynetdicom import AE, AllStoragePresentationContexts, evt

        self.ae_title = ae_title
        self.host = LOOPBACK
        self.port = free_port()
        self.status = 0x0000
        self.comment = ""
        self.stall = 0.0
        self.script: deque[str] = deque()
        self.abort_requests = False
        self.stored: list[str] = []
        self.pdus: list[str] = []  # the kinds of PDU received, in order ("A_ABORT_RQ", ...)
        self.ae = AE(ae_title=ae_title)
        self.ae.supported_contexts = AllStoragePresentationContexts
        self.ae.maximum_associations = maximum_associations
        self.ae.require_calling_aet = list(calling_aets)
        self.ae.dimse_timeout = self.ae.network_timeout = 10
        self.server = self.ae.start_server(
            (LOOPBACK, self.port),
            block=False,
            evt_handlers=[
                (evt.EVT_C_STORE, self._store),
                (evt.EVT_PDU_RECV, self._pdu),
                (evt.EVT_REQUESTED, self._requested),
            ],
        )

    def _requested(self, event: Any) -> None:
        if self.abort_requests:  # A-ABORT, source 2 (service provider), reason 1; then close
            event.assoc.dul.socket.send(b"\x07\x00\x00\x00\x00\x04\x00\x00\x02\x01")
            event.assoc.abort()

    def _pdu(self, event: Any) -> None:
        self.pdus.append(type(event.pdu).__name__)

    def _store(self, event: Any) -> Any:
        from pydicom.dataset import Dataset
        from pynetdicom.dimse_primitives import C_ECHO, C_STORE

        step = self.script.popleft() if self.script else "store"
        request = event.request
        if step == "release":
            event.assoc.release()
            return 0x0000
        if step == "abort":
            event.assoc.abort()
            return 0x0000
        if step in ("wrong_uid", "wrong_command"):
            answer: Any = C_STORE() if step == "wrong_uid" else C_ECHO()
            answer.MessageIDBeingRespondedTo = request.MessageID
            answer.AffectedSOPClassUID = request.AffectedSOPClassUID
            if step == "wrong_uid":
                answer.AffectedSOPInstanceUID = "1.2.3.4.5.6.7.8.9"
            answer.Status = 0x0000
            event.assoc.dimse.send_msg(answer, event.context.context_id)
            time.sleep(CROSSED)  # the SCU aborts; pynetdicom then sends no answer of its own
            return 0x0000
        if step == "stall":
            time.sleep(self.stall)
        self.stored.append(str(request.AffectedSOPInstanceUID))
        if not self.comment:
            return self.status
        status = Dataset()
        status.Status = self.status
        status.ErrorComment = self.comment
        return status

    def close(self) -> None:
        """Stop the server and every association it has."""
        self.server.shutdown()
