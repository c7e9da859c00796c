"""Modality Worklist client: C-FIND on the hospital's MWL SCP."""

from __future__ import annotations

import dataclasses
import logging
import re
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from kiosk.config import Peer
from kiosk.errors import PeerError, SafetyError, UsageError
from kiosk.net import keys
from kiosk.net.association import associate, end_association, make_ae
from reconcile.model import WorklistItem
from reconcile.names import fold, searchable_forms
from reconcile.scripts import native_fold, new_kanji, romanize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorklistQuery:
    """What to look for; empty fields match everything."""

    mrn: str = ""
    accession: str = ""
    name: str = ""
    dob: str = ""
    date: str = ""
    modality: str = ""


def _identifier(query: WorklistQuery) -> Dataset:
    ds = Dataset()
    charset = _charset(query.name)
    if charset:
        ds.SpecificCharacterSet = charset
    ds.PatientName = query.name
    ds.PatientID = query.mrn
    ds.IssuerOfPatientID = ""
    ds.PatientBirthDate = query.dob
    ds.PatientSex = ""
    ds.AccessionNumber = query.accession
    ds.RequestedProcedureID = ""
    ds.RequestedProcedureDescription = ""
    ds.RequestedProcedureCodeSequence = Sequence([])
    ds.StudyInstanceUID = ""
    ds.RequestingService = ""
    step = Dataset()
    step.Modality = query.modality
    step.ScheduledStationAETitle = ""
    step.ScheduledProcedureStepStartDate = query.date
    step.ScheduledProcedureStepStartTime = ""
    step.ScheduledProcedureStepID = ""
    step.ScheduledProcedureStepDescription = ""
    step.ScheduledProcedureStepLocation = ""
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value)


def _code(ds: Dataset) -> str:
    """The first Requested Procedure Code: 'value meaning' ('' when there is none)."""
    codes = ds.get("RequestedProcedureCodeSequence") or []
    if not codes or not isinstance(codes[0], Dataset):
        return ""
    return " ".join(t for t in (_text(codes[0], "CodeValue"), _text(codes[0], "CodeMeaning")) if t)


def item_from_dataset(ds: Dataset) -> WorklistItem:
    """Turn one C-FIND response identifier into a :class:`WorklistItem`."""
    steps = ds.get("ScheduledProcedureStepSequence") or [Dataset()]
    step = steps[0]
    department = _text(ds, "RequestingService") or _text(step, "ScheduledProcedureStepLocation")
    return WorklistItem(
        mrn=_text(ds, "PatientID"),
        issuer=_text(ds, "IssuerOfPatientID"),
        accession_number=_text(ds, "AccessionNumber"),
        patient_name=_text(ds, "PatientName"),
        birth_date=_text(ds, "PatientBirthDate"),
        sex=_text(ds, "PatientSex"),
        requested_procedure=_text(ds, "RequestedProcedureDescription"),
        requested_procedure_id=_text(ds, "RequestedProcedureID"),
        scheduled_step_id=_text(step, "ScheduledProcedureStepID"),
        scheduled_date=_text(step, "ScheduledProcedureStepStartDate"),
        modality=_text(step, "Modality"),
        department=department,
        study_instance_uid=_text(ds, "StudyInstanceUID"),
        procedure_code=_code(ds),
        step_description=_text(step, "ScheduledProcedureStepDescription"),
    )


def _ascii_upper(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).upper()


_ACCENTABLE = set("AEIOUYCNSZ")


def _accent_tolerant(name: str) -> str:
    """Turn letters that have accented forms into ``*`` ("MULLER" -> "M*LL*R")."""
    out = ""
    for ch in _ascii_upper(name):
        wild = ch in _ACCENTABLE or not ch.isascii()
        piece = "*" if wild else ch
        if not (piece == "*" and out.endswith("*")):
            out += piece
    return out


def name_patterns(name: str) -> list[str]:
    """The PatientName patterns to send: as typed, upper case, without accents, and broad.

    Many worklist SCPs match names case- and accent-sensitively; asking for
    each variant (the last one with wildcards where accents could be) and
    filtering on our side makes the search insensitive to both. A name of no
    ASCII letter at all becomes the universal ``*`` alone (filtered on our
    side): fewer C-FINDs on one association.
    """
    out: list[str] = []
    for variant in (name, name.upper(), _ascii_upper(name), _accent_tolerant(name)):
        if variant.strip("*") == "":
            return ["*"]  # one universal query answers every other variant too
        if variant not in out:
            out.append(variant)
    return out


def name_matches(pattern: str, name: str) -> bool:
    """Match a DICOM name pattern (``*``, ``?``) ignoring case, accents and separators.

    The pattern may meet the whole name, any of its component groups, or the
    main Latin spelling of a group in another script (``IVA*`` finds
    ``Иванов^Сергей``, ``*山田*`` finds ``=山田^太郎``): see
    :func:`reconcile.names.searchable_forms`.
    """
    if not pattern or pattern == "*":
        return True
    regex = ""
    for part in re.split(r"([*?])", pattern):
        if part == "*":
            regex += ".*"
        elif part == "?":
            regex += "."
        elif part:
            regex += re.escape(fold(part))
    pieces = re.split(r"([*?])", pattern)
    regexes = [regex]
    for spell in (native_fold, _spelled, _new_forms):
        regexes.append(
            "".join(
                ".*" if part == "*" else "." if part == "?" else re.escape(spell(part))
                for part in pieces
            )
        )
    forms = searchable_forms(name)
    return any(re.fullmatch(r, folded) is not None for r in regexes for folded in forms)


def _new_forms(text: str) -> str:
    """A typed kanji name in its new forms (渡邊 -> 渡辺), as the worklist's name is also met."""
    return " ".join(new_kanji(tuple(native_fold(text).split())))


def _spelled(text: str) -> str:
    """A typed name in another script in its main Latin spelling (Иванов -> ivanov)."""
    words = [next(iter(romanize(w)), fold(w)) for w in native_fold(text).split()]
    return " ".join(words)


def _charset(text: str) -> str:
    """The Specific Character Set of our query: none for ASCII, Latin-1 if it fits, else UTF-8."""
    if text.isascii():
        return ""
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return "ISO_IR 192"
    return "ISO_IR 100"


def find(
    peer: Peer | None, calling_ae: str, query: WorklistQuery, department: str = ""
) -> list[WorklistItem]:
    """Query the Modality Worklist.

    Parameters
    ----------
    peer
        The worklist SCP.
    calling_ae
        Our AE title.
    query
        What to look for; names match case- and accent-insensitively.
    department
        Keep only items of this department (case-insensitive), when given.

    Raises
    ------
    UsageError
        If no worklist is configured.
    PeerError
        If the worklist cannot be reached, refuses, or fails the query.
    """
    if peer is None:
        raise UsageError("no [worklist] is configured; add ae_title, host and port to the config")
    keys.exact(query.mrn, "MRN")
    keys.exact(query.accession, "accession number")
    ae = make_ae(calling_ae, timeout=peer.timeout or None)
    ae.add_requested_context(ModalityWorklistInformationFind)
    assoc = associate(ae, peer, "worklist")
    items: dict[tuple[str, str, str, str], WorklistItem] = {}
    patterns = name_patterns(query.name) if query.name else [""]
    try:
        for pattern in patterns:
            identifier = _identifier(dataclasses.replace(query, name=pattern))
            for item in _send(assoc, identifier, peer):
                key = (item.mrn, item.accession_number, item.scheduled_step_id, item.patient_name)
                items.setdefault(key, item)
    finally:
        end_association(assoc)
    found = [
        i
        for i in items.values()
        if name_matches(query.name, i.patient_name)
        and (not query.mrn or keys.same(query.mrn, i.mrn))
        and (not query.accession or keys.same(query.accession, i.accession_number))
        and (not department or i.department.casefold() == department.casefold())
    ]
    log.info("worklist query returned %d items", len(found))
    return found


def find_order(peer: Peer | None, calling_ae: str, accession: str, mrn: str = "") -> WorklistItem:
    """Return the worklist order with this accession number (of this MRN, when given).

    Raises
    ------
    SafetyError
        If the worklist holds no such order: nothing is filed under a guessed order.
    PeerError
        If the worklist cannot be reached.
    """
    for item in find(peer, calling_ae, WorklistQuery(mrn=mrn, accession=accession)):
        if item.accession_number == accession:
            return item
    of = f" for MRN {mrn}" if mrn else ""
    raise SafetyError(f"accession {accession} is not on the worklist{of}; check the order number")


_PARKED_FOR = 0.02  # seconds the reactor must be seen paused before a C-FIND goes out


def _park_reactor(assoc: Any) -> None:
    """Make sure pynetdicom's reactor thread is parked before a C-FIND is sent.

    ``Association.send_c_find`` clears the reactor's checkpoint and waits
    until ``_is_paused`` is true; but the reactor sets ``_is_paused`` before
    it waits on the checkpoint and clears it only after, so a stale ``True``
    can let the request go while the reactor is about to take the next
    message off the queue. It then takes the C-FIND response ("Received
    unexpected C-FIND service message") and the query waits for the DIMSE
    timeout (seen here in 2 of 13 runs of ``kiosk match`` over a disc of 45
    patients on a loaded machine, none in 30 runs with this; pynetdicom 3.0,
    the same code upstream). Seen paused for 20 ms after the
    checkpoint was cleared, the reactor is blocked on it, and stays so until
    the responses are read. Uses the two attributes ``send_c_find`` itself
    relies on; without them (another pynetdicom), nothing is done.
    """
    checkpoint = getattr(assoc, "_reactor_checkpoint", None)
    if checkpoint is None or not hasattr(assoc, "_is_paused"):
        return
    checkpoint.clear()
    deadline = time.monotonic() + 2.0
    since: float | None = None
    while time.monotonic() < deadline:
        now = time.monotonic()
        if not assoc._is_paused:
            since = None
        elif since is None:
            since = now
        elif now - since >= _PARKED_FOR:
            return
        time.sleep(0.001)


def _send(assoc: Any, identifier: Dataset, peer: Peer) -> list[WorklistItem]:
    items: list[WorklistItem] = []
    failure: str | None = None
    _park_reactor(assoc)
    for status, response in assoc.send_c_find(identifier, ModalityWorklistInformationFind):
        if not status:
            failure = "no answer (timed out or the connection dropped)"
            break
        code = int(status.Status)
        if code in (0xFF00, 0xFF01):
            if response is not None:
                items.append(item_from_dataset(response))
        elif code == 0x0000:
            break
        else:
            failure = f"status 0x{code:04X}"
            break
    if failure:
        raise PeerError(
            f"the worklist {peer.ae_title} at {peer.host}:{peer.port} failed the query "
            f"({failure}); try again or call the RIS team"
        )
    return items
