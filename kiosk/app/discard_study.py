"""Use case (back office): discard a study with a reason; what was not delivered is never sent."""

from __future__ import annotations

from kiosk import access, lifecycle
from kiosk.config import Config
from kiosk.importer import ImportOutcome, outcome_of
from kiosk.reconciliation import find_one
from kiosk.store import db
from kiosk.store.studies import StudyRecord


def discard_study(
    config: Config,
    reason: str,
    *,
    study_uid: str = "",
    study_id: int | None = None,
    user: str = "",
) -> tuple[StudyRecord, ImportOutcome]:
    """Discard the live study ``study_uid`` (or the one with internal id ``study_id``).

    Returns the study as discarded and its delivery counts.

    Raises
    ------
    SignInError, RoleNotAllowed
        If no one is signed in, or the user's role may not discard.
    UsageError
        If no such live study is in the store, or the UID is ambiguous.
    """
    with db.opened(config.database_path) as conn:
        user = access.require(conn, access.Action.DISCARD, user=user, station=config.station).user
        if study_id is None:
            study_id = find_one(conn, study_uid).id
        again = access.checker(access.Action.DISCARD, user=user, station=config.station)
        actor = lifecycle.Actor(user, config.station, recheck=again)
        record = lifecycle.discard(conn, study_id, reason, actor)
        return record, outcome_of(conn, study_id)
