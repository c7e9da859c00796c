"""Storage commitment (push model) as a service that lives as long as the app or ``kiosk send``.

After every instance of a study reached a destination that offers storage
commitment, the kiosk sends an N-ACTION request (PS3.4 J.3.2) listing the
instances; the PACS answers later, maybe much later, with an N-EVENT-REPORT
on a new association to the kiosk's own AE (``[kiosk] listen_port``, on
``listen_host`` or the address facing those PACS: :func:`listen_address`;
only the AE titles of the destinations may report).

:class:`CommitmentService` is that AE: it listens while the app (or a
``kiosk send``) runs and records each report in the database as it comes,
whenever it comes. Requests are made by :meth:`CommitmentService.request_due`
(a job the app runs in the background and ``kiosk send`` runs after
delivering); a request with no answer after ``commitment_timeout`` seconds is
made again. Delivery never waits on commitment. The study becomes
``committed`` only when a report names every instance sent as committed; only
committed studies may leave the spool.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from kiosk import audit, lifecycle
from kiosk.config import Config, Destination
from kiosk.errors import PeerError
from kiosk.lifecycle import Actor
from kiosk.net.association import end_association, open_association, quiet_pynetdicom
from kiosk.store import commitments, db, studies
from kiosk.store.db import transaction

if TYPE_CHECKING:  # pydicom and pynetdicom are imported where they are used: every
    # `kiosk send` builds this service, most with no destination that commits
    from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

#: Seconds a peer has to send each whole PDU to the listener (a trickle holds no thread).
LISTEN_TIMEOUT = 30.0
#: Seconds a connection to the listener has to become an association request.
REQUEST_WAIT = 5.0

#: Storage Commitment Push Model SOP Class and its well-known SOP Instance (PS3.4 J.3).
PUSH_MODEL = "1.2.840.10008.1.20.1"
PUSH_MODEL_INSTANCE = "1.2.840.10008.1.20.1.1"


@dataclass
class Report:
    """One N-EVENT-REPORT: what the PACS committed and what it could not."""

    transaction_uid: str
    committed: set[str] = field(default_factory=set)
    failed: dict[str, int] = field(default_factory=dict)  # SOP Instance UID -> reason


class ReportListener:
    """Our AE, listening for storage commitment results (N-EVENT-REPORT).

    Parameters
    ----------
    host
        The address to listen on; several addresses separated by commas
        (one server each).
    calling_aets
        The AE titles allowed to report (the destinations); an association
        from any other is rejected. Empty: any.
    on_report
        Called (on the listener's thread) with each :class:`Report`; returns
        the status to answer (0x0000 success, 0x0110 processing failure).
    timeout
        Seconds a peer has to send each whole PDU (:mod:`kiosk.net.deadline`):
        one that trickles its request or report is cut off then.
    """

    def __init__(
        self,
        ae_title: str,
        port: int,
        host: str = "",
        calling_aets: Sequence[str] = (),
        on_report: Callable[[Report], int] | None = None,
        timeout: float = LISTEN_TIMEOUT,
    ) -> None:
        from pynetdicom import AE, evt

        from kiosk.net.deadline import start_deadline_server

        self.on_report = on_report
        quiet_pynetdicom()
        self.ae = AE(ae_title=ae_title)
        self.ae.maximum_pdu_size = 0
        self.ae.network_timeout = timeout  # each PDU whole by then: a trickle is cut off
        # A PACS sends its A-ASSOCIATE-RQ as it connects: a connection that has said
        # nothing after a few seconds is dropped, and its thread ends (it would keep
        # `kiosk send`, or the app, from exiting until then).
        self.ae.acse_timeout = min(timeout, REQUEST_WAIT)
        self.ae.require_calling_aet = list(calling_aets)
        self.ae.add_supported_context(PUSH_MODEL, scu_role=False, scp_role=True)
        self.servers: list[Any] = []
        try:
            for address in dict.fromkeys(host.split(",")):
                self.servers.append(
                    start_deadline_server(
                        self.ae,
                        (address.strip(), port),
                        [(evt.EVT_N_EVENT_REPORT, self._on_report)],
                    )
                )
        except BaseException:
            self.close()
            raise

    def _on_report(self, event: Any) -> tuple[int, None]:
        """Answer an N-EVENT-REPORT: pynetdicom wants (status, event reply), no reply here."""
        return self._status_of(event.event_information), None

    def _status_of(self, ds: Dataset) -> int:
        report = Report(str(ds.get("TransactionUID", "")))
        try:
            for item in ds.get("ReferencedSOPSequence", []):
                report.committed.add(str(item.ReferencedSOPInstanceUID))
            for item in ds.get("FailedSOPSequence", []):
                reason = int(item.get("FailureReason", 0))
                report.failed[str(item.ReferencedSOPInstanceUID)] = reason
        except (AttributeError, TypeError, ValueError) as exc:  # a report we cannot read
            log.warning("storage commitment report %s unreadable: %s", report.transaction_uid,
                        type(exc).__name__)  # fmt: skip
            return 0x0110
        log.info(
            "storage commitment %s: %d committed, %d failed",
            report.transaction_uid,
            len(report.committed),
            len(report.failed),
        )
        if self.on_report is None:
            return 0x0000
        return self.on_report(report)

    def close(self) -> None:
        """Stop listening, and cut every connection still open (a peer that said nothing yet,
        or trickles, would otherwise keep the process alive until its timeout)."""
        for server in self.servers:
            server.shutdown()
            for assoc in server.active_associations:
                sock = getattr(assoc.dul.socket, "socket", None)
                with contextlib.suppress(OSError):
                    if sock is not None:  # its reader sees the connection closed (Evt17)
                        sock.shutdown(socket.SHUT_RDWR)
        self.servers.clear()


def listen_address(config: Config, destinations: Iterable[Destination]) -> str:
    """Where the commitment listener binds: ``[kiosk] listen_host``, else worked out.

    By default (no ``listen_host``) it is the local address through which
    this computer reaches each PACS that is asked (its route, as the system
    chooses it; no packet is sent), comma-separated when they differ: a PACS
    on another host can connect, and the listener is not open on the other
    interfaces (a guest Wi-Fi, a second network card). ``127.0.0.1`` when no
    route is found (such a PACS cannot be asked either).
    """
    if config.listen_host:
        return config.listen_host
    found: list[str] = []
    for dest in destinations:
        with contextlib.suppress(OSError, UnicodeError):
            family, kind, proto, _, address = socket.getaddrinfo(
                dest.host, dest.port, type=socket.SOCK_DGRAM
            )[0]
            with socket.socket(family, kind, proto) as probe:
                probe.connect(address)  # UDP: chooses the route, sends nothing
                local = str(probe.getsockname()[0])
            if local not in found:
                found.append(local)
    return ",".join(found) or "127.0.0.1"


def request_commitment(
    destination: Destination,
    calling_ae: str,
    transaction_uid: str,
    refs: Sequence[tuple[str, str]],
) -> None:
    """Send one N-ACTION asking the destination to commit ``refs`` (SOP class, instance).

    Raises
    ------
    PeerError
        If the destination is unreachable or refuses the request.
    """
    from pydicom.dataset import Dataset
    from pynetdicom.presentation import build_context

    ds = Dataset()
    ds.TransactionUID = transaction_uid
    items = []
    for sop_class, sop_instance in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    ds.ReferencedSOPSequence = items
    assoc = open_association(destination, calling_ae, [build_context(PUSH_MODEL)])
    try:
        if not assoc.accepted_contexts:
            raise PeerError(
                f"{destination.label or destination.name} does not offer storage commitment; "
                "set storage_commitment = false for it in the config"
            )
        status, _ = assoc.send_n_action(ds, 1, PUSH_MODEL, PUSH_MODEL_INSTANCE)
    finally:
        end_association(assoc)
    code = int(status.Status) if status is not None and "Status" in status else None
    if code != 0x0000:
        raise PeerError(
            f"{destination.label or destination.name} refused the storage commitment request "
            f"(status {'none' if code is None else f'0x{code:04X}'}); the study stays sent"
        )


class CommitmentService:
    """The kiosk's storage commitment AE for as long as the app or ``kiosk send`` runs.

    :meth:`start` listens for reports (each recorded in the database as it
    comes, on its own connection); :meth:`request_due` asks the destinations
    to commit the studies that are due; :meth:`wait` lets a short-lived
    process (``kiosk send``) wait a little for the answers to what it asked.
    """

    def __init__(self, config: Config, *, user: str = "") -> None:
        self.config = config
        self.actor = Actor(user, config.station)
        self.destinations = [d for d in config.destinations.values() if d.storage_commitment]
        self.listener: ReportListener | None = None
        self.answered = threading.Condition()
        #: Studies committed by the reports this service recorded.
        self.committed: set[int] = set()

    @property
    def wanted(self) -> bool:
        """True when some destination offers storage commitment."""
        return bool(self.destinations)

    def start(self) -> bool:
        """Listen for reports; False (with the reason logged) when that cannot be done.

        Without a ``listen_port``, or when the port is taken (another kiosk
        process on this computer listens there and records the reports in the
        same database), requests are still made; only this process hears no
        answers.
        """
        if not self.wanted or self.listener is not None:
            return self.listener is not None
        if not self.config.listen_port:
            log.warning(
                "storage commitment answers not heard: no [kiosk] listen_port in the config"
            )
            return False
        host = listen_address(self.config, self.destinations)
        try:
            self.listener = ReportListener(
                self.config.ae_title,
                self.config.listen_port,
                host,
                calling_aets=sorted({d.ae_title for d in self.destinations}),
                on_report=self._record,
            )
        except OSError as exc:
            log.warning(
                "storage commitment answers not heard here: cannot listen on %s port %d (%s)",
                host,
                self.config.listen_port,
                exc,
            )
            return False
        return True

    def close(self) -> None:
        """Stop listening (reports that come later are asked for again)."""
        if self.listener is not None:
            self.listener.close()
            self.listener = None

    def __enter__(self) -> CommitmentService:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request_due(self, conn: sqlite3.Connection) -> list[str]:
        """Ask for the commitment of every sent study that is due; return the Transaction UIDs.

        A study is due when it is ``sent`` to a destination offering commitment
        and has no request younger than ``commitment_timeout`` seconds still
        waiting. Never waits for an answer.
        """
        if not self.wanted:
            return []
        since = datetime.now(UTC) - timedelta(seconds=self.config.commitment_timeout)
        names = [d.name for d in self.destinations]
        asked = []
        for sid in commitments.due_study_ids(conn, names, since.isoformat(timespec="seconds")):
            study = studies.get_study(conn, sid)
            dest = self.config.destinations[study.destination]
            refs = commitments.sent_references(conn, sid, study.destination)
            from pydicom.uid import generate_uid

            uid = str(generate_uid())
            with transaction(conn):
                commitments.add_request(conn, uid, sid, study.destination, len(refs))
            try:
                request_commitment(dest, self.config.ae_title, uid, refs)
            except PeerError as exc:
                log.warning("storage commitment for study %d not requested: %s", sid, exc)
                with transaction(conn):
                    commitments.answer(conn, uid, commitments.NOT_REQUESTED, 0, str(exc))
                continue
            asked.append(uid)
        return asked

    def wait(
        self, conn: sqlite3.Connection, transaction_uids: Sequence[str], timeout: float
    ) -> None:
        """Wait until these requests are answered, or ``timeout`` seconds (if listening)."""
        if self.listener is None:
            return
        deadline = time.monotonic() + timeout
        with self.answered:
            while commitments.open_requests(conn, transaction_uids):
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                self.answered.wait(min(left, 1.0))

    def _record(self, report: Report) -> int:
        """Record a report that came (on the listener's thread, with its own connection)."""
        try:
            with db.opened(self.config.database_path) as conn:
                committed = apply_report(conn, report, self.actor)
            if committed is not None:
                with self.answered:
                    self.committed.add(committed)
        except Exception:  # the PACS is told we failed, and asks again or we do
            log.exception("storage commitment report %s not recorded", report.transaction_uid)
            return 0x0110
        with self.answered:
            self.answered.notify_all()
        return 0x0000


def apply_report(conn: sqlite3.Connection, report: Report, actor: Actor) -> int | None:
    """Record what a report says of its request; the study's id if it is now committed.

    A report for a request we never made is logged and ignored. The study is
    committed only if it is still ``sent`` and every instance sent was
    committed; otherwise the request is ``failed`` with the count and the
    reasons, and audited.
    """
    request = commitments.get_request(conn, report.transaction_uid)
    if request is None:
        log.warning("storage commitment report for unknown transaction %s ignored",
                    report.transaction_uid)  # fmt: skip
        return None
    uids = {
        uid for _, uid in commitments.sent_references(conn, request.study_id, request.destination)
    }
    missing = uids - report.committed
    if not missing and not report.failed:
        moved = lifecycle.record_committed(
            conn,
            request.study_id,
            f"{len(uids)} instances committed",
            actor,
            transaction_uid=report.transaction_uid,
        )
        return request.study_id if moved else None
    reasons = sorted({f"0x{r:04X}" for r in report.failed.values()})
    detail = f"study {request.study_id}: {len(missing)} of {len(uids)} instances not committed" + (
        f" (reasons {', '.join(reasons)})" if reasons else ""
    )
    study = studies.get_study(conn, request.study_id)
    with transaction(conn):
        commitments.answer(conn, report.transaction_uid, commitments.FAILED, len(missing), detail)
        audit.record(
            conn,
            user=actor.user,
            station=actor.station,
            action="commit",
            study_instance_uid=study.new_study_instance_uid,
            outcome="failed",
            detail=detail,
        )
    return None
