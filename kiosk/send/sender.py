"""C-STORE of spooled files over one association (pynetdicom).

Files are sent from the spool by path, so pynetdicom streams them instead of
re-encoding them; when the PACS does not accept a file's transfer syntax but
accepts an uncompressed one, the file is decoded and sent uncompressed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pydicom
from pydicom.uid import (
    UID,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)
from pynetdicom.presentation import PresentationContext, build_context

from kiosk.config import Destination
from kiosk.dicom_net import associate, make_ae

log = logging.getLogger(__name__)

UNCOMPRESSED = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)


@dataclass(frozen=True)
class SendJob:
    """One file to send: where it is and what it is."""

    key: int
    path: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str


@dataclass(frozen=True)
class SendResult:
    """The outcome of one C-STORE: status (None when no answer) and a note."""

    key: int
    status: int | None
    note: str = ""


def _contexts(jobs: Sequence[SendJob]) -> list[PresentationContext]:
    wanted: dict[str, list[str]] = {}
    for job in jobs:
        syntaxes = wanted.setdefault(job.sop_class_uid, [])
        for ts in (job.transfer_syntax_uid, *UNCOMPRESSED):
            if ts and ts not in syntaxes:
                syntaxes.append(ts)
    contexts = []
    for sop_class, syntaxes in wanted.items():
        contexts.append(build_context(sop_class, syntaxes))
    return contexts


def send(
    destination: Destination,
    calling_ae: str,
    jobs: Sequence[SendJob],
    on_result: Callable[[SendResult], None],
) -> None:
    """Send files to a destination over one association, reporting each result.

    Raises
    ------
    PeerError
        If the association cannot be opened (nothing was sent).
    """
    if not jobs:
        return
    ae = make_ae(calling_ae)
    contexts = _contexts(jobs)
    if len(contexts) > 128:
        raise ValueError("too many SOP classes for one association; send in smaller batches")
    assoc = associate(
        ae,
        destination,
        destination.label or destination.name,
        contexts=contexts,
        max_pdu=destination.max_pdu,
    )
    try:
        accepted: dict[str, set[str]] = {}
        for cx in assoc.accepted_contexts:
            accepted.setdefault(str(cx.abstract_syntax), set()).add(str(cx.transfer_syntax[0]))
        for job in jobs:
            if not assoc.is_established:
                on_result(SendResult(job.key, None, "association dropped"))
                continue
            syntaxes = accepted.get(job.sop_class_uid, set())
            if not syntaxes:
                on_result(SendResult(job.key, 0x0122, "SOP class refused by the PACS"))
                continue
            try:
                if job.transfer_syntax_uid in syntaxes:
                    status = assoc.send_c_store(job.path)
                else:
                    ds = pydicom.dcmread(job.path)
                    if UID(job.transfer_syntax_uid).is_compressed:
                        ds.decompress()
                    status = assoc.send_c_store(ds)
            except (OSError, ValueError, RuntimeError, AttributeError) as exc:
                log.warning("sending %s failed: %s", job.sop_instance_uid, exc)
                on_result(SendResult(job.key, 0xC000, f"cannot encode for this PACS: {exc}"))
                continue
            code = int(status.Status) if status and "Status" in status else None
            on_result(SendResult(job.key, code))
    finally:
        if assoc.is_established:
            assoc.release()
