"""Use case (back office): attach a worklist order to a stored study, coerce again, send."""

from __future__ import annotations

from kiosk import access
from kiosk.config import Config
from kiosk.importer import ImportOutcome, outcome_of
from kiosk.progress import Listener
from kiosk.reconciliation import attach_order
from kiosk.retention import finish_interrupted_cleans
from kiosk.send.deliver import deliver
from kiosk.store import db
from kiosk.worklist import find_order


def reconcile_study(
    config: Config,
    study_uid: str,
    accession: str,
    *,
    mrn: str = "",
    issuer: str | None = None,
    user: str = "",
    confirmed_mismatch: bool = False,
    send: bool = True,
    on_event: Listener | None = None,
) -> ImportOutcome:
    """Attach the order ``accession`` to the study ``study_uid`` and (``send``) deliver it.

    ``on_event`` is told the delivery's progress (:mod:`kiosk.progress`).

    Raises
    ------
    SignInError, RoleNotAllowed
        If no one is signed in, or the user's role may not reconcile.
    UsageError
        Unknown accession or study, or a study that cannot be reconciled yet.
    SafetyError, IdentityMismatchError
        The order is another patient's, or its demographics differ unconfirmed.
    """
    with db.opened(config.database_path) as conn:
        user = access.require(conn, access.Action.RECONCILE, user=user, station=config.station).user
        finish_interrupted_cleans(conn, config)  # a copy whose clean a kill stopped is back
        order = find_order(config.worklist, config.ae_title, accession)
        outcome = attach_order(
            conn,
            config,
            study_uid,
            order,
            mrn=mrn,
            issuer=issuer,
            user=user,
            confirmed_mismatch=confirmed_mismatch,
            recheck=access.checker(access.Action.RECONCILE, user=user, station=config.station),
        )
        if send:
            deliver(conn, config, study_id=outcome.study_id, user=user, on_event=on_event)
        return outcome_of(conn, outcome.study_id)
