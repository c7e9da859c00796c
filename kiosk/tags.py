"""The tags a physician puts on a study, with who asked and why; second-read requests.

A tag is stored with its history (:mod:`kiosk.store.second_reads`), the
study's current tag is updated with it, and every change is an audit
record. A ``second-read`` tag makes a second-read request for billing:
``ordered`` when the study carries an order's accession, else ``order
needed`` (flagged for the back office, who attach the order).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from kiosk import audit
from kiosk.errors import UsageError
from kiosk.store import second_reads as store
from kiosk.store import studies
from kiosk.store.db import transaction
from kiosk.store.second_reads import SecondReadRecord, TagRecord

__all__ = ["TAGS", "ReadState", "SecondReadRecord", "StudyTag", "TagChange", "TagRecord"]
from kiosk.store.studies import StudyRecord, StudyState


class StudyTag(StrEnum):
    """What an imported study is for."""

    REFERENCE = "reference"
    SECOND_READ = "second-read"
    ARCHIVE = "archive"


#: The tag values, as the CLI and the config spell them.
TAGS: tuple[str, ...] = tuple(tag.value for tag in StudyTag)


class ReadState(StrEnum):
    """The billing state of a second read."""

    ORDER_NEEDED = "order needed"
    ORDERED = "ordered"
    READ = "read"
    BILLED = "billed"
    CANCELLED = "cancelled"


#: Which billing state may follow which (the back office moves them).
READ_STATES: dict[ReadState, frozenset[ReadState]] = {
    ReadState.ORDER_NEEDED: frozenset({ReadState.ORDERED, ReadState.CANCELLED}),
    ReadState.ORDERED: frozenset({ReadState.READ, ReadState.CANCELLED}),
    ReadState.READ: frozenset({ReadState.BILLED}),
    ReadState.BILLED: frozenset(),
    ReadState.CANCELLED: frozenset(),
}
#: States whose reading was done: taking the tag off, or the study moving to another
#: patient, never cancels their work (it is billed once, to the right patient).
DONE = frozenset({ReadState.READ, ReadState.BILLED})
_LIMIT = 500  # characters of a reason or a name kept


@dataclass(frozen=True)
class TagChange:
    """What tagging a study did."""

    study_id: int
    study_instance_uid: str
    tag: str
    previous: str
    changed: bool
    #: The second read the tag made (or the open one it kept), if any.
    second_read: SecondReadRecord | None = None
    #: The study's tags after this one, oldest first.
    history: tuple[TagRecord, ...] = ()


def _text(value: str, what: str) -> str:
    value = " ".join(value.split())
    if len(value) > _LIMIT:
        raise UsageError(f"the {what} is too long ({len(value)} characters; at most {_LIMIT})")
    return value


def study_for(conn: sqlite3.Connection, study_uid: str) -> StudyRecord:
    """The live (not discarded) study of the store with that original or new Study UID.

    Raises
    ------
    UsageError
        If no live study has that UID.
    """
    live = [
        s
        for s in studies.find_studies(conn, study_instance_uid=study_uid)
        if s.state is not StudyState.DISCARDED
    ]
    if not live:
        raise UsageError(f"no imported study {study_uid} in the store; 'kiosk queue' lists them")
    return live[-1]


def tag_study(
    conn: sqlite3.Connection,
    study_id: int,
    tag: str,
    *,
    requested_by: str,
    reason: str,
    user: str,
    station: str,
) -> TagChange:
    """Tag a study (``''`` takes the tag off), audit it, and make or cancel its second read.

    Tagging again with the same tag, requester and reason changes nothing.

    Raises
    ------
    UsageError
        An unknown tag, a text too long, or a discarded study.
    """
    if tag and tag not in TAGS:
        raise UsageError(f"unknown tag {tag!r}: use one of {', '.join(TAGS)}")
    requested_by, reason = _text(requested_by, "requesting physician"), _text(reason, "reason")
    with transaction(conn):
        record = studies.get_study(conn, study_id)
        if record.state is StudyState.DISCARDED:
            raise UsageError(
                f"study {record.study_instance_uid} was discarded; it cannot be tagged"
            )
        history = store.tag_history(conn, study_id)
        last = history[-1] if history else None
        # Before its first tag row a study's tag is the one the import wrote (none, or
        # this one: an import that tags) or one a kiosk without tag history wrote.
        previous = last.tag if last else ("" if record.tag == tag else record.tag)
        same = last is not None and (last.tag, last.requested_by, last.reason) == (
            tag,
            requested_by,
            reason,
        )
        read = _open_read(conn, study_id)
        if same and (tag != StudyTag.SECOND_READ or read is not None):
            return TagChange(
                study_id, record.study_instance_uid, tag, previous, False, read, tuple(history)
            )
        store.add_tag(
            conn,
            study_id,
            tag=tag,
            requested_by=requested_by,
            reason=reason,
            user=user,
            station=station,
        )
        audit.record(
            conn,
            user=user,
            station=station,
            action="tag",
            study_instance_uid=record.study_instance_uid,
            detail=f"study {study_id}: {previous or 'no tag'} -> {tag or 'no tag'}; "
            f"requested by {requested_by or 'not given'}; reason: {reason or 'not given'}",
        )
        if tag == StudyTag.SECOND_READ and read is None:
            read = _new_read(conn, record, requested_by, reason, user, station)
        elif tag != StudyTag.SECOND_READ and read is not None and read.state not in DONE:
            _move(conn, read, ReadState.CANCELLED, user=user, station=station, note="untagged")
            read = None
        # A read already read (or billed) stays as it is: the work was done and is billed
        # once; tagging the study again finds it open and makes no second one.
        history = store.tag_history(conn, study_id)
        return TagChange(
            study_id, record.study_instance_uid, tag, previous, True, read, tuple(history)
        )


def _open_read(conn: sqlite3.Connection, study_id: int) -> SecondReadRecord | None:
    """The study's second read that is not cancelled, if any."""
    live = [
        r for r in store.second_reads(conn, study_id=study_id) if r.state != ReadState.CANCELLED
    ]
    return live[-1] if live else None


def _new_read(
    conn: sqlite3.Connection,
    record: StudyRecord,
    requested_by: str,
    reason: str,
    user: str,
    station: str,
    *,
    state: ReadState | None = None,
    what: str = "requested",
) -> SecondReadRecord:
    """Record a second read of ``record``'s identity (``ordered`` when it has an accession,
    else ``order needed``, unless ``state`` says), audited as ``what``."""
    state = state or (ReadState.ORDERED if record.accession_number else ReadState.ORDER_NEEDED)
    read_id = store.add_second_read(
        conn,
        record.id,
        mrn=record.mrn,
        accession=record.accession_number,
        requested_by=requested_by,
        reason=reason,
        state=state.value,
    )
    audit.record(
        conn,
        user=user,
        station=station,
        action="second-read",
        study_instance_uid=record.study_instance_uid,
        detail=f"study {record.id}: second read {read_id} {what}, {state.value}",
    )
    found = store.get_second_read(conn, read_id)
    assert found is not None
    return found


def _move(
    conn: sqlite3.Connection,
    read: SecondReadRecord,
    state: ReadState,
    *,
    user: str,
    station: str,
    note: str = "",
    accession: str | None = None,
) -> SecondReadRecord:
    fields = {"state": state.value}
    if accession is not None:
        fields["accession"] = accession
    store.update_second_read(conn, read.id, **fields)
    if state == ReadState.CANCELLED:  # an order acknowledged before is cancelled in the EMR
        store.hl7_cancel_unsent(conn, read.id)
    audit.record(
        conn,
        user=user,
        station=station,
        action="second-read",
        study_instance_uid=read.study_instance_uid,
        detail=f"study {read.study_id}: second read {read.id} {read.state} -> {state.value}"
        + (f", accession {accession}" if accession else "")
        + (f" ({note})" if note else ""),
    )
    found = store.get_second_read(conn, read.id)
    assert found is not None
    return found


def set_read_state(
    conn: sqlite3.Connection,
    read_id: int,
    state: str,
    *,
    accession: str = "",
    user: str,
    station: str,
) -> SecondReadRecord:
    """Move a second read to its next billing state (audited); attach the order's accession.

    Raises
    ------
    UsageError
        Unknown read or state, a step the states do not allow, or ``ordered``
        without an accession.
    """
    try:
        new = ReadState(state)
    except ValueError:
        names = ", ".join(repr(s.value) for s in ReadState)
        raise UsageError(f"unknown billing state {state!r}: use one of {names}") from None
    accession = _text(accession, "accession")
    with transaction(conn):
        read = store.get_second_read(conn, read_id)
        if read is None:
            raise UsageError(f"no second read {read_id}; 'kiosk second-reads' lists them")
        old = ReadState(read.state)
        if new == old and not accession:
            return read
        if new != old and new not in READ_STATES[old]:
            raise UsageError(f"second read {read_id} cannot go from {old.value} to {new.value}")
        if new == ReadState.ORDERED and not (accession or read.accession):
            raise UsageError(
                f"second read {read_id} needs the order's accession: give --accession A"
            )
        if accession and accession != read.accession:
            _check_accession(conn, read, accession)
        return _move(conn, read, new, user=user, station=station, accession=accession or None)


def _check_accession(conn: sqlite3.Connection, read: SecondReadRecord, accession: str) -> None:
    """Refuse an accession the read cannot take: one billing already got another for it, or
    one that a study of another patient in the store carries.

    Raises
    ------
    UsageError
        Naming the read, the accession and what to do.
    """
    if any(row.state == "acked" for row in store.hl7_of_read(conn, read.id)):
        raise UsageError(
            f"second read {read.id} went to billing with accession {read.accession or 'none'}; "
            "its accession cannot change now: ask the billing office to correct it"
        )
    others = {
        s.mrn
        for spelled in dict.fromkeys((accession, accession.upper()))  # acc-2 is ACC-2's too
        for s in studies.find_studies(conn, accession_number=spelled)
        if s.mrn and s.mrn != read.mrn and s.state is not StudyState.DISCARDED
    }
    if others:
        raise UsageError(
            f"accession {accession} is the order of another patient (MRN "
            f"{', '.join(sorted(others))}), not of second read {read.id}'s MRN {read.mrn}; "
            "check the order in the EMR"
        )


def follow_study(conn: sqlite3.Connection, study_id: int, *, user: str, station: str) -> None:
    """Give a study's second reads the study's identity now (after a reconciliation, an
    import under another MRN, or a discard); runs inside the caller's transaction.

    A read of which no message was tried yet takes the new MRN and accession in
    place (its untried messages are built again; ``order needed`` becomes
    ``ordered`` with an accession). A read of which a message was tried (billing
    may have it under the old identity) is ``cancelled``: its acknowledged order
    and charge are reversed (:func:`kiosk.billing.queue_messages`), the rest
    withdrawn, and a new read of the new identity takes its place, read if it
    was read. A discarded study's reads not yet read are cancelled; one read
    stays.
    """
    record = studies.get_study(conn, study_id)
    for read in store.second_reads(conn, study_id=study_id):
        state = ReadState(read.state)
        if state is ReadState.CANCELLED:
            continue
        if record.state is StudyState.DISCARDED:
            if state not in DONE:
                _move(conn, read, ReadState.CANCELLED, user=user, station=station, note="discarded")
            continue
        if (read.mrn, read.accession) == (record.mrn, record.accession_number):
            continue
        accession = record.accession_number
        if not any(map(store.tried, store.hl7_of_read(conn, read.id))):  # billing has none
            store.hl7_drop_untried(conn, read.id)  # built with the old identity
            if state is ReadState.ORDER_NEEDED and accession:
                state = ReadState.ORDERED
            elif state is ReadState.ORDERED and not accession:
                state = ReadState.ORDER_NEEDED
            store.update_second_read(
                conn, read.id, mrn=record.mrn, accession=accession, state=state.value
            )
            audit.record(
                conn,
                user=user,
                station=station,
                action="second-read",
                study_instance_uid=read.study_instance_uid,
                detail=f"study {study_id}: second read {read.id} now MRN {read.mrn or '-'} -> "
                f"{record.mrn}, accession {read.accession or '-'} -> {accession or '-'}, "
                f"{state.value}",
            )
            continue
        note = f"the study is now MRN {record.mrn}; billing's messages are reversed"
        _move(conn, read, ReadState.CANCELLED, user=user, station=station, note=note)
        again = ReadState.READ if state in DONE else ReadState.ORDERED
        taken = f"takes over {read.id} for MRN {record.mrn}"
        _new_read(
            conn,
            record,
            read.requested_by,
            read.reason,
            user,
            station,
            state=again if accession else ReadState.ORDER_NEEDED,
            what=taken,
        )


def second_read(conn: sqlite3.Connection, read_id: int) -> SecondReadRecord | None:
    """One second read, or ``None``."""
    return store.get_second_read(conn, read_id)


def current_tags(conn: sqlite3.Connection) -> dict[int, TagRecord]:
    """Study id -> its current tag row (with who asked and why)."""
    return store.current_tags(conn)


def second_reads(conn: sqlite3.Connection, since: str = "") -> list[SecondReadRecord]:
    """The second reads requested since ``since`` (ISO date or time), oldest first."""
    return store.second_reads(conn, since=since)
