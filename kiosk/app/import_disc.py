"""Use case: import the chosen studies of a medium (spool, verify, coerce, queue) and send them."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping

from kiosk import access
from kiosk.app.preflight import Preflight
from kiosk.app.tagging import TagChoice, require_tagging, tag_imported
from kiosk.config import Config
from kiosk.importer import ImportOutcome, ImportRequest, import_studies, outcome_of
from kiosk.media.model import MediaScan
from kiosk.media.scan import EMPTY_MEDIUM, medium_signature
from kiosk.progress import Listener
from kiosk.store import db
from kiosk.store.studies import mark_gaps_told

log = logging.getLogger(__name__)


def import_disc(
    config: Config,
    scan: MediaScan,
    request: ImportRequest,
    *,
    send_now: bool = True,
    preflight: Preflight | None = None,
    on_event: Listener | None = None,
    tags: Mapping[str, TagChoice] | None = None,
) -> list[ImportOutcome]:
    """Import ``request``'s studies of ``scan`` and (``send_now``) deliver them.

    Parameters
    ----------
    preflight
        What the destination was asked just before (:mod:`kiosk.app.preflight`):
        its answers are used instead of asking again.
    on_event
        Told the copy and send progress and the milestones (:mod:`kiosk.progress`).
    tags
        Tags chosen before the import, by original Study UID (else ``request``'s
        tag, requester and reason for every study): recorded, audited, and a
        second read requested for ``second-read`` (:mod:`kiosk.tags`).

    Raises
    ------
    SignInError, RoleNotAllowed
        If no one is signed in, or the user's role may not import (:mod:`kiosk.access`).
    UsageError, SafetyError, IdentityMismatchError, SpoolError
        As :func:`kiosk.importer.import_studies`.
    """
    if preflight is not None and preflight.destination == request.destination:
        known = {**preflight.present, **request.known_present}
        request = dataclasses.replace(request, known_present=known)
    with db.opened(config.database_path) as conn:
        session = access.require(
            conn, access.Action.IMPORT, user=request.user, station=config.station
        )
        request = dataclasses.replace(request, user=session.user)
        chosen = [*(tags or {}).values()]
        if request.tag:
            chosen.append(TagChoice(request.tag, request.requested_by, request.reason))
        for choice in chosen:  # a tag is a physician's: checked before anything is copied
            if choice.tag:
                require_tagging(conn, config, choice, request.user)
        outcomes = import_studies(conn, config, scan, request, send_now=send_now, on_event=on_event)
        # what the disc lacked is told by these outcomes (the CLI exits 6, the window says
        # "keep the disc"); killed before, the next kiosk send or app start tells it
        mark_gaps_told(conn, [o.study_id for o in outcomes])
    if changed_since_scanned(scan):
        log.info("the medium changed while it was imported: import it again once complete")
        outcomes = [dataclasses.replace(o, medium_changed=True) for o in outcomes]
    if scan.unread:  # recorded with each study (outcome_of gives it, kiosk queue shows it)
        log.info(
            "%d files of the medium could not be read: the import is not complete", len(scan.unread)
        )
    choices = dict(tags or {})
    if request.tag:
        every = TagChoice(request.tag, request.requested_by, request.reason)
        choices = {o.study_instance_uid: choices.get(o.study_instance_uid, every) for o in outcomes}
    if choices:
        tag_imported(config, outcomes, choices, user=request.user)
        with db.opened(config.database_path) as conn:  # the outcomes carry the tags now
            outcomes = [outcome_of(conn, o.study_id) for o in outcomes]
    return outcomes


def changed_since_scanned(scan: MediaScan) -> bool:
    """Whether the medium's files are no longer those the scan saw (a drop-folder entry still
    being copied into: its copy paused longer than the watcher's settle time).

    An ``.iso`` image is read from its extracted copy, which does not change.
    """
    if not scan.signature or not scan.root.is_dir():
        return False
    try:
        now = medium_signature(scan.root)
    except OSError:
        return False  # gone (ejected, unmounted): not changed
    return now not in (scan.signature, EMPTY_MEDIUM)  # an empty mount folder: ejected


def default_destination(config: Config, name: str = "") -> str:
    """``name``, or the first configured destination ('' when none is configured)."""
    return name or next(iter(config.destinations), "")
