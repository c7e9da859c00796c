"""Storage commitment (push model): ask the PACS to take responsibility for a sent study.

After every instance of a study reached a destination that offers storage
commitment, the kiosk sends an N-ACTION request (PS3.4 J.3.2) listing the
instances; the PACS answers later with an N-EVENT-REPORT on a new association
to the kiosk's own AE (``[kiosk] listen_port``, on ``listen_host`` or the
address facing those PACS: :func:`listen_address`; only the AE titles of the
destinations asked may report). The study becomes
``committed`` only when the report names every instance as committed; only
committed studies may leave the spool. Requests and answers are kept in the
``commitments`` table; a study still waiting is asked again on the next run.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydicom.dataset import Dataset
from pydicom.uid import generate_uid
from pynetdicom import AE, evt
from pynetdicom.presentation import build_context
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    StorageCommitmentPushModel,
    StorageCommitmentPushModelInstance,
)

from kiosk import audit, lifecycle
from kiosk.config import Config, Destination
from kiosk.errors import PeerError
from kiosk.lifecycle import Actor
from kiosk.net.association import open_association, quiet_pynetdicom
from kiosk.store import studies
from kiosk.store.db import now_iso, transaction
from kiosk.store.studies import StudyState

log = logging.getLogger(__name__)


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
        The AE titles allowed to report (the destinations asked); an
        association from any other is rejected. Empty: any.
    """

    def __init__(
        self, ae_title: str, port: int, host: str = "", calling_aets: Sequence[str] = ()
    ) -> None:
        self.reports: dict[str, Report] = {}
        self.changed = threading.Condition()
        quiet_pynetdicom()
        self.ae = AE(ae_title=ae_title)
        self.ae.maximum_pdu_size = 0
        self.ae.require_calling_aet = list(calling_aets)
        self.ae.add_supported_context(StorageCommitmentPushModel, scu_role=False, scp_role=True)
        self.servers: list[Any] = []
        try:
            for address in dict.fromkeys(host.split(",")):
                self.servers.append(
                    self.ae.start_server(
                        (address.strip(), port),
                        block=False,
                        evt_handlers=[(evt.EVT_N_EVENT_REPORT, self._on_report)],
                    )
                )
        except BaseException:
            self.close()
            raise

    def _on_report(self, event: Any) -> int:
        ds: Dataset = event.event_information
        uid = str(ds.get("TransactionUID", ""))
        report = Report(uid)
        for item in ds.get("ReferencedSOPSequence", []):
            report.committed.add(str(item.ReferencedSOPInstanceUID))
        for item in ds.get("FailedSOPSequence", []):
            report.failed[str(item.ReferencedSOPInstanceUID)] = int(item.get("FailureReason", 0))
        log.info(
            "storage commitment %s: %d committed, %d failed",
            uid,
            len(report.committed),
            len(report.failed),
        )
        with self.changed:
            self.reports[uid] = report
            self.changed.notify_all()
        return 0x0000

    def wait(self, transaction_uids: Iterable[str], timeout: float) -> dict[str, Report]:
        """Wait until every transaction has a report, or the timeout; return what came."""
        wanted = set(transaction_uids)
        deadline = time.monotonic() + timeout
        with self.changed:
            while not wanted <= set(self.reports):
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.changed.wait(left)
            return {u: self.reports[u] for u in wanted if u in self.reports}

    def close(self) -> None:
        """Stop listening."""
        for server in self.servers:
            server.shutdown()
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
    ds = Dataset()
    ds.TransactionUID = transaction_uid
    items = []
    for sop_class, sop_instance in refs:
        item = Dataset()
        item.ReferencedSOPClassUID = sop_class
        item.ReferencedSOPInstanceUID = sop_instance
        items.append(item)
    ds.ReferencedSOPSequence = items
    assoc = open_association(destination, calling_ae, [build_context(StorageCommitmentPushModel)])
    try:
        if not assoc.accepted_contexts:
            raise PeerError(
                f"{destination.label or destination.name} does not offer storage commitment; "
                "set storage_commitment = false for it in the config"
            )
        status, _ = assoc.send_n_action(
            ds, 1, StorageCommitmentPushModel, StorageCommitmentPushModelInstance
        )
    finally:
        if assoc.is_established:
            assoc.release()
    code = int(status.Status) if status is not None and "Status" in status else None
    if code != 0x0000:
        raise PeerError(
            f"{destination.label or destination.name} refused the storage commitment request "
            f"(status {'none' if code is None else f'0x{code:04X}'}); the study stays sent"
        )


def _due_studies(conn: sqlite3.Connection, config: Config, study_ids: Iterable[int]) -> list[int]:
    """Studies that are ``sent`` to a destination offering commitment, and not yet committed."""
    wanted = set(study_ids)
    names = [n for n, d in config.destinations.items() if d.storage_commitment]
    if not names:
        return []
    marks = ",".join("?" for _ in names)
    rows = conn.execute(
        f"SELECT id FROM studies WHERE state = 'sent' AND destination IN ({marks})", names
    )
    wanted.update(r[0] for r in rows)
    due = []
    for sid in sorted(wanted):
        study = studies.get_study(conn, sid)
        dest = config.destinations.get(study.destination)
        if study.state is StudyState.SENT and dest is not None and dest.storage_commitment:
            due.append(sid)
    return due


def commit_sent_studies(
    conn: sqlite3.Connection, config: Config, study_ids: Iterable[int], *, user: str = ""
) -> set[int]:
    """Request storage commitment for sent studies, wait for the answers; return committed ids."""
    due = _due_studies(conn, config, study_ids)
    if not due:
        return set()
    if not config.listen_port:
        log.warning("storage commitment skipped: no [kiosk] listen_port in the config")
        return set()
    names = sorted({studies.get_study(conn, sid).destination for sid in due})
    asking = [config.destinations[name] for name in names]
    host = listen_address(config, asking)
    try:
        listener = ReportListener(
            config.ae_title,
            config.listen_port,
            host,
            calling_aets=sorted({d.ae_title for d in asking}),
        )
    except OSError as exc:
        log.warning(
            "storage commitment skipped: cannot listen on %s port %d (%s)",
            host,
            config.listen_port,
            exc,
        )
        return set()
    committed: set[int] = set()
    try:
        asked: dict[str, tuple[int, set[str]]] = {}
        for sid in due:
            study = studies.get_study(conn, sid)
            dest = config.destinations[study.destination]
            refs: list[tuple[str, str]] = [
                (r[0], r[1])
                for r in conn.execute(
                    "SELECT i.sop_class_uid, i.sop_instance_uid FROM outbox o"
                    " JOIN instances i ON i.id = o.instance_id"
                    " WHERE i.study_id = ? AND o.destination = ? AND o.state = 'sent'",
                    (sid, study.destination),
                )
            ]
            uid = str(generate_uid())
            conn.execute(
                "INSERT INTO commitments (transaction_uid, study_id, destination, state,"
                " instances, requested_at) VALUES (?,?,?,?,?,?)",
                (uid, sid, study.destination, "requested", len(refs), now_iso()),
            )
            try:
                request_commitment(dest, config.ae_title, uid, refs)
            except PeerError as exc:
                log.warning("storage commitment for study %d not requested: %s", sid, exc)
                _answer(conn, uid, "not requested", 0, str(exc))
                continue
            asked[uid] = (sid, {r[1] for r in refs})
        reports = listener.wait(asked, config.commitment_timeout)
    finally:
        listener.close()
    for uid, (sid, uids) in asked.items():
        study = studies.get_study(conn, sid)
        report = reports.get(uid)
        if report is None:
            _answer(conn, uid, "requested", 0, "no answer yet; asked again on the next run")
            continue
        missing = uids - report.committed
        if not missing and not report.failed:
            with transaction(conn):
                _answer(conn, uid, "committed", 0, "")
                lifecycle.record_committed(
                    conn, sid, f"{len(uids)} instances committed", Actor(user, config.station)
                )
            committed.add(sid)
            continue
        else:
            reasons = sorted({f"0x{r:04X}" for r in report.failed.values()})
            detail = f"study {sid}: {len(missing)} of {len(uids)} instances not committed" + (
                f" (reasons {', '.join(reasons)})" if reasons else ""
            )
            _answer(conn, uid, "failed", len(missing), detail)
        audit.record(
            conn,
            user=user,
            station=config.station,
            action="commit",
            study_instance_uid=study.new_study_instance_uid,
            outcome="failed",
            detail=detail,
        )
    return committed


def _answer(conn: sqlite3.Connection, uid: str, state: str, failed: int, detail: str) -> None:
    conn.execute(
        "UPDATE commitments SET state = ?, failed = ?, detail = ?, answered_at = ?"
        " WHERE transaction_uid = ?",
        (state, failed, detail, now_iso() if state != "requested" else "", uid),
    )
