"""Use cases of second reads for billing: the list, billing states, CSV, HL7 and its delivery."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kiosk import access, billing, tags
from kiosk.billing import Hl7Report
from kiosk.config import Config
from kiosk.errors import UsageError
from kiosk.store import db
from kiosk.store.second_reads import Hl7Row, SecondReadRecord
from kiosk.worklist import WorklistQuery, find


def _since(date: str) -> str:
    """``YYYY-MM-DD`` (or an ISO time) as the lower bound of ``requested_at``."""
    return date.strip()


def list_second_reads(config: Config, since: str = "", *, user: str = "") -> list[SecondReadRecord]:
    """The second reads requested since a date (all when ``''``), oldest first.

    For the physicians (second reads) and the back office (billing) and admins.

    Raises
    ------
    SignInError, RoleNotAllowed
        If the session may do neither (the front desk: exit 5).
    """
    with db.opened(config.database_path) as conn:
        access.require(
            conn,
            access.Action.SECOND_READ,
            or_=access.Action.BILLING,
            user=user,
            station=config.station,
        )
        return tags.second_reads(conn, _since(since))


def set_billing_state(
    config: Config, read_id: int, state: str, *, accession: str = "", user: str = ""
) -> SecondReadRecord:
    """Back office: move a second read's billing state, attaching the order's accession.

    What the new state calls for (the order request, the charge) goes into
    the HL7 outbox in the same run when an ``[hl7]`` receiver is configured.

    Raises
    ------
    UsageError
        As :func:`kiosk.tags.set_read_state`.
    """
    with db.opened(config.database_path) as conn:
        user = _billing(conn, config, user)
        known = tags.second_read(conn, read_id)
        if known is not None and accession.strip() and accession.strip() != known.accession:
            _check_on_worklist(config, known, accession.strip())
        read = tags.set_read_state(
            conn, read_id, state, accession=accession, user=user, station=config.station
        )
        if config.hl7 is not None:
            billing.queue_messages(conn, config, [read])
        return read


def _check_on_worklist(config: Config, read: SecondReadRecord, accession: str) -> None:
    """Refuse an accession that the worklist holds as another patient's order.

    Raises
    ------
    UsageError
        The worklist has ``accession`` under another MRN than the read's.
    PeerError
        The worklist cannot be asked (then nothing changes: try again).
    """
    if config.worklist is None:
        return
    others: set[str] = set()
    for spelled in dict.fromkeys((accession, accession.upper())):  # C-FIND matches case
        query = WorklistQuery(accession=spelled)
        others |= {
            item.mrn
            for item in find(config.worklist, config.ae_title, query)
            if item.accession_number.casefold() == accession.casefold()
            and item.mrn
            and item.mrn != read.mrn
        }
    if others:
        raise UsageError(
            f"accession {accession} is the order of another patient on the worklist (MRN "
            f"{', '.join(sorted(others))}), not of second read {read.id}'s MRN {read.mrn}; "
            "check the order in the EMR"
        )


def _billing(conn: sqlite3.Connection, config: Config, user: str) -> str:
    """Check that ``user`` may do the billing work (the back office); return who acts."""
    return access.require(conn, access.Action.BILLING, user=user, station=config.station).user


def billing_csv(config: Config, since: str = "", *, user: str = "") -> str:
    """The CSV for the billing office (the back office's)."""
    with db.opened(config.database_path) as conn:
        _billing(conn, config, user)
        return billing.csv_text(tags.second_reads(conn, _since(since)))


@dataclass(frozen=True)
class Hl7Run:
    """What ``--send`` did (``report``, None when nothing was sent), the messages as they are
    now, and the reads whose message could not be built (one line each)."""

    report: Hl7Report | None
    messages: list[Hl7Row]
    unbuilt: list[str]


def hl7_messages(config: Config, since: str = "", *, user: str = "") -> Hl7Run:
    """The HL7 messages of the second reads since a date (queued first where due).

    Raises
    ------
    UsageError
        No ``[hl7]`` section in the config.
    """
    with db.opened(config.database_path) as conn:
        _billing(conn, config, user)
        reads = tags.second_reads(conn, _since(since))
        unbuilt = billing.queue_messages(conn, config, reads)
        return Hl7Run(None, billing.messages(conn, reads), unbuilt)


def send_hl7(
    config: Config, *, retry_failed: bool = False, due_only: bool = False, user: str = ""
) -> Hl7Run:
    """Queue what every second read calls for, then deliver the HL7 outbox over MLLP.

    Raises
    ------
    UsageError
        No ``[hl7]`` section in the config.
    """
    with db.opened(config.database_path) as conn:
        _billing(conn, config, user)
        unbuilt = billing.queue_messages(conn, config, tags.second_reads(conn))
        report = billing.deliver(conn, config, retry_failed=retry_failed, due_only=due_only)
        return Hl7Run(report, billing.messages(conn, tags.second_reads(conn)), unbuilt)
