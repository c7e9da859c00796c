"""Use case: a physician tags a study (reference, second read, archive) with who asked and why."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk import access, tags
from kiosk.config import Config
from kiosk.importer import ImportOutcome
from kiosk.store import db
from kiosk.tags import TagChange


@dataclass(frozen=True)
class TagChoice:
    """A tag chosen for a study, with the requesting physician and the reason."""

    tag: str
    requested_by: str = ""
    reason: str = ""


def tag_study(
    config: Config,
    choice: TagChoice,
    *,
    study_uid: str = "",
    study_id: int | None = None,
    user: str = "",
) -> TagChange:
    """Tag a study of the store, named by its (original or new) UID or its internal id.

    Raises
    ------
    SignInError, RoleNotAllowed
        If no one is signed in, or the user is not a physician (:mod:`kiosk.access`).
    UsageError
        No such live study, an unknown tag, a text too long.
    """
    with db.opened(config.database_path) as conn:
        user = require_tagging(conn, config, choice, user)
        if study_id is None:
            study_id = tags.study_for(conn, study_uid).id
        return tags.tag_study(
            conn,
            study_id,
            choice.tag,
            requested_by=choice.requested_by,
            reason=choice.reason,
            user=user,
            station=config.station,
        )


def require_tagging(conn: sqlite3.Connection, config: Config, choice: TagChoice, user: str) -> str:
    """Check that ``user`` may give ``choice`` (a physician); return who acts."""
    action = access.Action.SECOND_READ if choice.tag == "second-read" else access.Action.TAG
    return access.require(conn, action, user=user, station=config.station).user


def tag_imported(
    config: Config,
    outcomes: list[ImportOutcome],
    choices: Mapping[str, TagChoice],
    *,
    user: str = "",
) -> list[TagChange]:
    """Apply the tags chosen before the import (by original Study UID) to the studies made."""
    changes = []
    with db.opened(config.database_path) as conn:
        for outcome in outcomes:
            choice = choices.get(outcome.study_instance_uid)
            if choice is None or not choice.tag:
                continue
            changes.append(
                tags.tag_study(
                    conn,
                    outcome.study_id,
                    choice.tag,
                    requested_by=choice.requested_by,
                    reason=choice.reason,
                    user=user,
                    station=config.station,
                )
            )
    return changes


def current_tags(config: Config) -> dict[int, tags.TagRecord]:
    """Study id -> its current tag with who asked and why (for the study lists)."""
    with db.opened(config.database_path) as conn:
        return tags.current_tags(conn)
