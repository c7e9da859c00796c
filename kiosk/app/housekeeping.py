"""Use cases: spool retention, the audit trail (its chain, its ATNA export)."""

from __future__ import annotations

from kiosk import access, atna, audit
from kiosk.atna import ExportReport
from kiosk.audit import AuditEvent, Verification
from kiosk.config import Config
from kiosk.errors import UsageError
from kiosk.retention import clean_spool as _clean_spool
from kiosk.store import db


def clean_spool(config: Config, *, days: int | None = None, user: str = "") -> list[int]:
    """Remove committed studies' spool copies after retention; return their internal ids."""
    with db.opened(config.database_path) as conn:
        user = access.require(conn, access.Action.PURGE, user=user, station=config.station).user
        return _clean_spool(conn, config, days=days, user=user)


def audit_events(config: Config, since: str | None = None, *, user: str = "") -> list[AuditEvent]:
    """The audit trail, since a date-time when given (back office and admins)."""
    with db.opened(config.database_path) as conn:
        access.require(conn, access.Action.AUDIT, user=user, station=config.station)
        return audit.events(conn, since)


def verify_audit(config: Config, *, user: str = "") -> Verification:
    """Check the audit trail's hash chain (back office and admins)."""
    with db.opened(config.database_path) as conn:
        access.require(conn, access.Action.AUDIT, user=user, station=config.station)
        return audit.verify(conn)


def export_audit(config: Config, *, strict: bool = True) -> ExportReport:
    """Send the queued audit records to the ATNA collector (``[audit]``), in order.

    Not a user's action: it needs no sign-in (the window and ``kiosk send``
    run it after their work).

    Parameters
    ----------
    strict
        Raise when the collector is down; otherwise the report's ``error`` says so.

    Raises
    ------
    UsageError
        If no ``[audit]`` collector is configured (``strict`` only).
    PeerError
        If the collector is down (``strict`` only); the records stay queued.
    """
    collector = config.audit_collector
    if collector is None:
        if strict:
            raise UsageError(
                f"no audit collector is configured: add [audit] host and port to {config.path}"
            )
        return ExportReport(0, 0, 0)
    with db.opened(config.database_path) as conn:
        if strict:
            return atna.deliver(conn, collector, source_id=config.station)
        return atna.export_queued(conn, collector, source_id=config.station)


def record_view(
    config: Config, study_instance_uid: str, *, user: str = "", detail: str = ""
) -> None:
    """Record that a person looked at a study's images (the viewer calls this; audited ``view``).

    The signed-in user is who looked; on an open station, ``user``.
    """
    with db.opened(config.database_path) as conn:
        session = access.session_for(conn, user)
        audit.record(
            conn,
            user=session.user if session is not None else user,
            station=config.station,
            action="view",
            study_instance_uid=study_instance_uid,
            detail=detail,
        )
