"""Use cases: spool retention and the audit trail."""

from __future__ import annotations

from kiosk import audit
from kiosk.audit import AuditEvent
from kiosk.config import Config
from kiosk.retention import clean_spool as _clean_spool
from kiosk.store import db


def clean_spool(config: Config, *, days: int | None = None, user: str = "") -> list[int]:
    """Remove committed studies' spool copies after retention; return their internal ids."""
    with db.opened(config.database_path) as conn:
        return _clean_spool(conn, config, days=days, user=user)


def audit_events(config: Config, since: str | None = None) -> list[AuditEvent]:
    """The audit trail, since a date-time when given."""
    with db.opened(config.database_path) as conn:
        return audit.events(conn, since)
