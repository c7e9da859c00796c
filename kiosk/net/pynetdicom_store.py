"""The alternative C-STORE engine: pynetdicom's own C-STORE, behind the fast SCU's interface.

``[send] engine = "pynetdicom"`` picks it: for a PACS the fast SCU
(:mod:`kiosk.net.store`) does not get on with, or to tell whether a problem
is ours. It is slower (pynetdicom's reactor thread and queues, the import),
but has the same methods as :class:`kiosk.net.store.StoreAssociation` and
reports the same :class:`~kiosk.net.store.StoreAnswer` and the same typed
errors (the rejection read from the A-ASSOCIATE-RJ primitive pynetdicom
received, :func:`kiosk.net.association.rejection`).

pynetdicom checks what it receives itself: a response that is not a
C-STORE-RSP, or not valid, makes it abort the association. It does not
check the command field (pynetdicom 3.0 takes a C-ECHO-RSP's status for the
C-STORE's), the message id answered, nor the Affected SOP Instance UID; this
engine does, from the command set as received (``evt.EVT_DIMSE_RECV``), and
aborts on a mismatch, as the fast engine does.

One difference remains: a PACS that accepts none of the presentation
contexts proposed is aborted by pynetdicom itself, so this engine reports
the destination down ("accepted none of the services proposed") where the
fast one refuses each instance (0x0122, quarantined).
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from kiosk.net.association import associate, end_association, make_ae
from kiosk.net.store import StoreAnswer, clean_comment

if TYPE_CHECKING:
    from kiosk.config import Destination


class PynetdicomStoreAssociation:
    """One pynetdicom association carrying C-STORE requests (see the module's docstring).

    Raises
    ------
    AssociationRejected
        The destination answered A-ASSOCIATE-RJ.
    PeerError
        It cannot be reached, the TLS handshake failed, or it broke off.
    """

    def __init__(
        self, destination: Destination, calling_ae: str, contexts: Sequence[tuple[str, str]]
    ) -> None:
        from pynetdicom import _config, evt
        from pynetdicom.presentation import build_context

        # Stream a file's data set from the spool as the fast engine does (pynetdicom's
        # documented switch, process-wide; it concerns only C-STOREs of a file path),
        # instead of decoding it whole first.
        _config.STORE_SEND_CHUNKED_DATASET = True
        ae = make_ae(calling_ae, destination.timeout or None)
        self._message_id = 0
        #: (command field, message id answered, Affected SOP Instance UID) of the last
        #: DIMSE message received
        self._answered: tuple[int, int, str] | None = None
        self.assoc: Any = associate(
            ae,
            destination,
            destination.label or destination.name,
            contexts=[build_context(abstract, syntax) for abstract, syntax in contexts],
            max_pdu=destination.max_pdu,
            evt_handlers=[(evt.EVT_DIMSE_RECV, self._received)],
        )
        self.accepted: dict[str, dict[str, int]] = {}
        for cx in self.assoc.accepted_contexts:
            self.accepted.setdefault(str(cx.abstract_syntax), {})[str(cx.transfer_syntax[0])] = int(
                cx.context_id
            )

    @property
    def is_open(self) -> bool:
        """Whether the association is still established."""
        return bool(self.assoc.is_established)

    def context_for(self, sop_class: str, syntax: str) -> int | None:
        """Return the accepted context id for a SOP class in a transfer syntax, if any."""
        return self.accepted.get(sop_class, {}).get(syntax)

    def store_open_file(
        self,
        sop_class: str,
        sop_instance: str,
        context_id: int,
        f: BinaryIO,
        size: int,
        head: bytes,
        offset: int,
        while_waiting: Callable[[], None] | None = None,
    ) -> StoreAnswer:
        """Send a file's bytes (``head``, then the rest of ``f`` up to ``size``); return the answer.

        pynetdicom streams a file by its path: a plain spool file is sent as
        it is. What is not one file on disk (a header coerced on the way out
        followed by the original's rest, assembled in memory or spliced) is
        first written whole to a private temporary file: pynetdicom must send
        the very bytes the fast engine would, never the untouched original.
        """
        path = _plain_path(f, size, head)
        if path is not None:
            answer = self._send(path, sop_instance)
        else:
            with tempfile.NamedTemporaryFile(prefix="kiosk-send-", suffix=".dcm") as tmp:  # 0600
                tmp.write(head[:size])
                left = size - len(head)
                while left > 0:
                    chunk = f.read(min(left, 1 << 20))
                    if not chunk:
                        return StoreAnswer(None, sent=False, problem="never sent: file cut short")
                    tmp.write(chunk)
                    left -= len(chunk)
                tmp.flush()
                answer = self._send(Path(tmp.name), sop_instance)
        if while_waiting is not None:
            while_waiting()
        return answer

    def store_bytes(
        self, sop_class: str, sop_instance: str, context_id: int, data: bytes
    ) -> StoreAnswer:
        """Send an encoded data set (a transcoded file); return the PACS's answer."""
        from io import BytesIO

        from pydicom.dataset import FileMetaDataset
        from pydicom.filereader import read_dataset
        from pydicom.uid import UID

        syntax = next(ts for ts, cx in self.accepted.get(sop_class, {}).items() if cx == context_id)
        implicit = syntax == "1.2.840.10008.1.2"
        ds = read_dataset(BytesIO(data), is_implicit_VR=implicit, is_little_endian=True)
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = UID(syntax)
        return self._send(ds, sop_instance)

    def _received(self, event: Any) -> None:
        """Note what each DIMSE message received answers (pynetdicom's reactor thread)."""
        command = event.message.command_set
        self._answered = (
            int(command.get("CommandField", 0) or 0),
            int(command.get("MessageIDBeingRespondedTo", 0) or 0),
            str(command.get("AffectedSOPInstanceUID", "") or ""),
        )

    def _send(self, dataset: Any, sop_instance: str) -> StoreAnswer:
        if not self.is_open:
            return StoreAnswer(None, sent=False, problem="the association is closed")
        self._answered = None
        self._message_id = (self._message_id % 0xFFFF) + 1
        try:
            status = self.assoc.send_c_store(dataset, msg_id=self._message_id, priority=0)
        except (RuntimeError, ValueError, AttributeError) as exc:  # before anything went out
            return StoreAnswer(None, sent=False, problem=f"never sent: {exc}")
        if status is None or "Status" not in status:
            if self.assoc.is_established:
                end_association(self.assoc, abort=True)
            why = "the association was aborted" if self.assoc.is_aborted else "no answer"
            if getattr(self.assoc.dul.socket, "timed_out", False):  # kiosk.net.deadline
                why = (
                    f"no whole answer within {self.assoc.network_timeout:g} s; association aborted"
                )
            return StoreAnswer(None, problem=f"answer lost: {why}")
        wrong = _wrong_answer(self._answered, self._message_id, sop_instance)
        if wrong:
            end_association(self.assoc, abort=True)
            return StoreAnswer(
                None, problem=f"answer lost: protocol error ({wrong}); association aborted"
            )
        return StoreAnswer(int(status.Status), clean_comment(str(status.get("ErrorComment", ""))))

    def release(self) -> None:
        """Release the association (pynetdicom aborts it if the peer does not answer)."""
        end_association(self.assoc)


def _plain_path(f: BinaryIO, size: int, head: bytes) -> Path | None:
    """The path of ``f`` when its bytes are exactly what is to be sent, else ``None``.

    That is a file on disk of ``size`` bytes whose first ``len(head)`` bytes
    were just read into ``head`` (nothing put before them, nothing left out).
    """
    name = getattr(f, "name", None)
    if not isinstance(name, str) or len(head) > size:
        return None
    try:
        if f.tell() != len(head) or os.fstat(f.fileno()).st_size != size:
            return None
    except (OSError, ValueError, io.UnsupportedOperation):
        return None
    return Path(name)


def _wrong_answer(answered: tuple[int, int, str] | None, message_id: int, sop_instance: str) -> str:
    """What is wrong with a response (as noted from its command set), or ``""``."""
    if answered is None:
        return "no response was seen"
    field, to, uid = answered
    if field != 0x8001:
        return f"the answer is not a C-STORE-RSP (command field 0x{field:04X})"
    if to != message_id:
        return f"the answer is to message {to}, not {message_id}"
    if uid and uid != sop_instance:
        return f"the C-STORE-RSP names {uid!r}, not {sop_instance!r}"
    return ""
