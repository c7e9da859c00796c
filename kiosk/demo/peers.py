"""Embedded demo peers: a Modality Worklist SCP and two storage SCPs (PACS).

``kiosk --demo`` and the tests start these on free loopback ports so that the
whole workflow (read a disc, find the order, import, send) runs without any
hospital system:

* ``DEMOMWL`` — Modality Worklist SCP serving :func:`demo_worklist_items`, with
  real C-FIND matching (:func:`match_worklist_item`);
* ``RADPACS`` and ``CARDPACS`` — storage SCPs that accept every storage SOP
  class in every transfer syntax pynetdicom knows, and write each received
  instance, byte for byte as sent, to ``<workdir>/pacs/<name>/<SOPInstanceUID>.dcm``.

Nothing here logs patient names or IDs: events are logged by UID only, and
:meth:`DemoPeers.start` turns off pynetdicom's logging of C-FIND identifiers.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
from collections.abc import Iterator, Sequence
from copy import deepcopy
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Final

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag, Tag
from pydicom.uid import generate_uid
from pynetdicom import (
    AE,
    ALL_TRANSFER_SYNTAXES,
    AllStoragePresentationContexts,
    _config,
    evt,
)
from pynetdicom.dimse_primitives import C_STORE
from pynetdicom.sop_class import (  # type: ignore[attr-defined]  # generated at import
    ModalityWorklistInformationFind,
    Verification,
)

from kiosk.demo import sample_disc

__all__ = [
    "CARDIOLOGY_AE",
    "DEPARTMENT_KEYWORD",
    "ISSUER",
    "RADIOLOGY_AE",
    "WORKLIST_AE",
    "DemoPeers",
    "demo_worklist_items",
    "match_worklist_item",
]

LOG = logging.getLogger(__name__)

#: AE title of the demo Modality Worklist SCP.
WORKLIST_AE: Final = "DEMOMWL"
#: AE title of the demo radiology PACS.
RADIOLOGY_AE: Final = "RADPACS"
#: AE title of the demo cardiology PACS.
CARDIOLOGY_AE: Final = "CARDPACS"
#: Issuer of Patient ID of our hospital's MRNs.
ISSUER: Final = "MAINHOSP"
#: Where a worklist entry carries its department hint: the keyword of an
#: attribute inside the (single) ScheduledProcedureStepSequence item, valued
#: ``"RADIOLOGY"`` or ``"CARDIOLOGY"`` (compare case-insensitively with a
#: destination's ``department`` in the config).
DEPARTMENT_KEYWORD: Final = "ScheduledProcedureStepLocation"

_STORAGE: Final = {"radiology": RADIOLOGY_AE, "cardiology": CARDIOLOGY_AE}
_LABELS: Final = {"radiology": "Radiology PACS (demo)", "cardiology": "Cardiology PACS (demo)"}
_CHARSET: Final = "ISO_IR 100"
_UID_RE: Final = re.compile(r"[0-9]+(\.[0-9]+)*")

# Status codes (PS3.4 C.4.1.1.4 and B.2.3).
_SUCCESS: Final = 0x0000
_PENDING: Final = 0xFF00
_CANCEL: Final = 0xFE00
_UNABLE_TO_PROCESS: Final = 0xC000  # C-FIND failure: unable to process
_OUT_OF_RESOURCES: Final = 0xA700
_CANNOT_UNDERSTAND: Final = 0xC000  # C-STORE failure: cannot understand


# --------------------------------------------------------------------------- worklist


@dataclass(frozen=True)
class _Order:
    mrn: str
    name: str
    birth_date: str
    sex: str
    accession: str
    modality: str
    procedure: str
    department: str
    day_offset: int = 0
    time: str = "090000"
    station_ae: str = "KIOSK"


def _disc_order(
    patient: sample_disc.DemoPatient,
    mrn: str,
    accession: str,
    modality: str,
    procedure: str,
    department: str,
    time: str,
) -> _Order:
    """An import order, scheduled today on the kiosk, for a patient of the sample disc."""
    return _Order(
        mrn, patient.patient_name, patient.birth_date, patient.sex,
        accession, modality, procedure, department, 0, time,
    )  # fmt: skip


def _orders() -> list[_Order]:
    """The demo orders; the first four are for the patients on the sample disc."""
    d = sample_disc
    return [
        # Sample-disc patients: same name and birth date as on the disc, our MRN.
        _disc_order(d.JANE_DOE, "MRN100234", "ACC20260412", "CT",
                    "OUTSIDE CT ABD/PELVIS - IMPORT", "RADIOLOGY", "083000"),
        _disc_order(d.JURGEN_MULLER, "MRN100871", "ACC20260413", "US",
                    "OUTSIDE ECHO - IMPORT FOR REVIEW", "CARDIOLOGY", "091500"),
        _disc_order(d.JOHN_SMITH, "MRN101502", "ACC20260414", "DX",
                    "OUTSIDE XR HAND - IMPORT", "RADIOLOGY", "100000"),
        _disc_order(d.ANNA_KOWALSKI, "MRN102310", "ACC20260415", "CR",
                    "OUTSIDE XR KNEE - IMPORT", "RADIOLOGY", "103000"),
        # The other John Smith: same name, different birth date.
        _Order("MRN101977", "SMITH^JOHN", "19491130", "M",
               "ACC20260416", "MR", "MR BRAIN W/WO CONTRAST", "RADIOLOGY", 0, "110000", "MR01"),
        # Anna Kowalski's twin: same family name and birth date, same day, same modality.
        _Order("MRN102311", "KOWALSKI^EWA", d.ANNA_KOWALSKI.birth_date, "F",
               "ACC20260417", "CR", "XR KNEE LEFT 2 VIEWS", "RADIOLOGY", 0, "104500", "CR01"),
        # Unrelated patients.
        _Order("MRN103045", "NGUYEN^THI^LAN", "19830214", "F",
               "ACC20260418", "MR", "MR LUMBAR SPINE WO CONTRAST", "RADIOLOGY", 0, "130000",
               "MR01"),
        _Order("MRN103388", "OKAFOR^CHIDI^E", "19610702", "M",
               "ACC20260419", "CT", "CT CHEST LOW DOSE SCREENING", "RADIOLOGY", -1, "143000",
               "CT01"),
        _Order("MRN104120", "BROWN^EMILY^R", "20011119", "F",
               "ACC20260420", "XA", "LEFT HEART CATHETERIZATION", "CARDIOLOGY", 1, "080000",
               "CATH1"),
        _Order("MRN104562", "PATEL^PRIYA", "19950523", "F",
               "ACC20260421", "MG", "MAMMO SCREENING BILATERAL", "RADIOLOGY", 0, "120000", "MG01"),
        _Order("MRN105007", "HANSEN^LARS", "19770908", "M",
               "ACC20260422", "US", "STRESS ECHO", "CARDIOLOGY", 0, "150000", "ECHO2"),
        _Order("MRN105330", "DUPONT^CLAIRE", "19870630", "F",
               "ACC20260423", "NM", "NM MYOCARDIAL PERFUSION REST/STRESS", "CARDIOLOGY", 7,
               "093000", "NM01"),
        _Order("MRN105781", "ROSSI^MARCO", "19580101", "M",
               "ACC20260424", "CT", "CT HEAD WO CONTRAST", "RADIOLOGY", 0, "160000", "CT01"),
    ]  # fmt: skip


def demo_worklist_items(today: date | None = None) -> list[Dataset]:
    """Return the Modality Worklist entries the demo worklist serves.

    Each entry is one Requested Procedure with one Scheduled Procedure Step,
    with our hospital's MRN (IssuerOfPatientID ``MAINHOSP``) and an Accession
    Number ``ACC2026xxxx``. The department hint is in the step's
    ``ScheduledProcedureStepLocation`` (see :data:`DEPARTMENT_KEYWORD`).

    The entries include an order for each patient of the sample disc (same
    name and birth date, our MRN; Jane Doe's older chest X-ray has no order),
    a second ``SMITH^JOHN`` with another birth date, the twin sister of
    ``KOWALSKI^ANNA`` (same birth date and family name) and unrelated patients.
    Most steps are scheduled `today`; one was yesterday, two are later. The
    import orders are scheduled on station AE ``KIOSK``, the others on their
    modality's station, so a query that should see the whole list must not
    filter on ScheduledStationAETitle.

    Parameters
    ----------
    today : datetime.date, optional
        The date to schedule against (default: the current date).

    Returns
    -------
    list of pydicom.dataset.Dataset
        New datasets on every call; the Study Instance UIDs are stable.
    """
    today = today or date.today()
    items: list[Dataset] = []
    for n, order in enumerate(_orders(), start=1):
        ds = Dataset()
        ds.SpecificCharacterSet = _CHARSET
        ds.AccessionNumber = order.accession
        ds.ReferringPhysicianName = "HOUSE^GREGORY^^DR"
        ds.PatientName = order.name
        ds.PatientID = order.mrn
        ds.IssuerOfPatientID = ISSUER
        ds.PatientBirthDate = order.birth_date
        ds.PatientSex = order.sex
        ds.StudyInstanceUID = generate_uid(entropy_srcs=["kiosk-demo-mwl", order.accession])
        ds.RequestingPhysician = "WILSON^JAMES^^DR"
        ds.RequestedProcedureDescription = order.procedure
        ds.RequestedProcedureID = f"RP{order.accession[-6:]}"
        ds.RequestedProcedurePriority = "ROUTINE"
        ds.AdmissionID = ""
        ds.MedicalAlerts = ""
        if order.sex == "F":
            ds.PregnancyStatus = 4  # unknown
        sps = Dataset()
        sps.Modality = order.modality
        sps.ScheduledStationAETitle = order.station_ae
        sps.ScheduledStationName = order.station_ae
        sps.ScheduledProcedureStepStartDate = (today + timedelta(days=order.day_offset)).strftime(
            "%Y%m%d"
        )
        sps.ScheduledProcedureStepStartTime = order.time
        sps.ScheduledPerformingPhysicianName = ""
        sps.ScheduledProcedureStepDescription = order.procedure
        sps.ScheduledProcedureStepID = f"SPS{n:04d}"
        sps.ScheduledProcedureStepLocation = order.department
        sps.ScheduledProcedureStepStatus = "SCHEDULED"
        ds.ScheduledProcedureStepSequence = [sps]
        items.append(ds)
    return items


_IGNORED_KEYS: Final = frozenset(
    {
        Tag(0x0008, 0x0005),  # Specific Character Set: handled separately
        Tag(0x0008, 0x0052),  # Query/Retrieve Level: not part of MWL, tolerated
    }
)
_STRING_VRS: Final = frozenset({"AE", "AS", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UR", "UT"})


def _values(elem: DataElement) -> list[str]:
    """The element's values as strings; ``[]`` when empty (a universal match)."""
    value: Any = elem.value
    if value is None:
        return []
    if isinstance(value, bytes | bytearray):
        return [value.hex()] if value else []
    raw = list(value) if isinstance(value, MultiValue | list | tuple) else [value]
    out = [str(v).strip() for v in raw if v is not None]
    return [v for v in out if v]


def _normalize_pn(value: str) -> str:
    """Case-fold a PN and drop empty trailing components (``SMITH^JOHN^^`` = ``SMITH^JOHN``)."""
    groups = [g.rstrip("^ ") for g in value.split("=")]
    while len(groups) > 1 and not groups[-1]:
        groups.pop()
    return "=".join(groups).casefold()


def _wildcard(pattern: str, case_insensitive: bool) -> re.Pattern[str]:
    """Compile a DICOM ``*``/``?`` wildcard pattern."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if case_insensitive else 0))


def _pad_time(value: str, fill: str) -> str:
    """Normalize DA/TM/DT for range comparison (drop separators, pad to full precision)."""
    digits = value.replace(":", "").replace(".", "")
    return digits.ljust(14, fill)


def _match_one(vr: str, pattern: str, candidates: Sequence[str]) -> bool:
    """Whether one query value matches any of the record's values."""
    if vr in {"DA", "TM", "DT"} and "-" in pattern:
        low, high = pattern.split("-", 1)
        return any(
            (not low or _pad_time(c, "0") >= _pad_time(low, "0"))
            and (not high or _pad_time(c, "0") <= _pad_time(high, "9"))
            for c in candidates
        )
    if vr in _STRING_VRS and ("*" in pattern or "?" in pattern):
        if pattern.strip("*") == "":
            return True  # '*' alone is a universal match
        rx = _wildcard(pattern, case_insensitive=vr == "PN")
        return any(rx.fullmatch(c) for c in candidates)
    if vr == "PN":
        return _normalize_pn(pattern) in {_normalize_pn(c) for c in candidates}
    return pattern in candidates


def _has_matching_keys(query: Dataset) -> bool:
    """Whether a query (item) holds any non-universal matching key."""
    for elem in query:
        if elem.tag in _IGNORED_KEYS:
            continue
        if elem.VR == "SQ":
            if elem.value and any(_has_matching_keys(item) for item in elem.value):
                return True
        elif _values(elem):
            return True
    return False


def _match(query: Dataset, record: Dataset) -> Dataset | None:
    """Match `record` against `query`; return the response keys, or ``None``."""
    out = Dataset()
    for q in query:
        tag: BaseTag = q.tag
        if tag in _IGNORED_KEYS or tag.is_private or tag.element == 0:
            continue
        r = record.get(tag)
        if q.VR == "SQ":
            if not q.value:  # zero items: universal, return the whole sequence
                out.add(deepcopy(r) if r is not None else DataElement(tag, "SQ", []))
                continue
            query_item = q.value[0]
            if r is None or not r.value:
                if _has_matching_keys(query_item):
                    return None
                out.add(DataElement(tag, "SQ", []))
                continue
            matched = [m for m in (_match(query_item, item) for item in r.value) if m is not None]
            if not matched:
                return None
            out.add(DataElement(tag, "SQ", matched))
            continue
        patterns = _values(q)
        if patterns:
            if r is None:
                return None
            candidates = _values(r)
            if not any(_match_one(q.VR, p, candidates) for p in patterns):
                return None
        out.add(deepcopy(r) if r is not None else DataElement(tag, q.VR, None))
    return out


def match_worklist_item(query: Dataset, item: Dataset) -> Dataset | None:
    """Match one worklist entry against a C-FIND query identifier.

    Matching follows PS3.4 C.2.2.2: an empty or absent key matches anything;
    a value is a single-value match (PN case-insensitively, trailing empty
    components ignored); ``*`` and ``?`` are wildcards on string attributes; a
    ``YYYYMMDD-YYYYMMDD`` value (either end may be open) is a range on DA, TM
    and DT; several values (``A\\B``) match any of them (list of UIDs); a
    sequence key with an item matches if any item of the entry's sequence
    matches that item. Date and time ranges are matched separately.

    Parameters
    ----------
    query : pydicom.dataset.Dataset
        The C-FIND identifier.
    item : pydicom.dataset.Dataset
        A worklist entry (as made by :func:`demo_worklist_items`).

    Returns
    -------
    pydicom.dataset.Dataset or None
        ``None`` if the entry does not match; otherwise the response
        identifier, holding only the requested keys (empty when the entry has
        no value) plus Specific Character Set.
    """
    response = _match(query, item)
    if response is None:
        return None
    response.SpecificCharacterSet = item.get("SpecificCharacterSet", _CHARSET)
    return response


# --------------------------------------------------------------------------- servers


@dataclass
class _Peer:
    name: str
    ae_title: str
    ae: AE
    port: int


def _set_nodelay(event: evt.Event) -> None:
    """Turn Nagle's algorithm off on an accepted connection (DIMSE is request/response)."""
    try:
        wrapper = event.assoc.dul.socket
        sock = wrapper.socket if wrapper is not None else None
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (AttributeError, OSError):  # pragma: no cover - best effort
        LOG.debug("could not set TCP_NODELAY", exc_info=True)


def _make_ae(ae_title: str) -> AE:
    """An AE with timeouts short enough that shutting down never hangs."""
    ae = AE(ae_title=ae_title)
    ae.acse_timeout = 10
    ae.dimse_timeout = 30
    ae.network_timeout = 30
    # Generous: kiosk.net.association may probe a peer with a bare TCP connect before
    # associating, and pynetdicom keeps such a connection's thread until the ARTIM
    # timeout, so a burst of queries (kiosk match: 2-3 per disc patient) adds up.
    ae.maximum_associations = 64
    ae.require_called_aet = True
    ae.add_supported_context(Verification)
    return ae


def _toml_str(value: str) -> str:
    """Encode `value` as a TOML basic string."""
    out = ['"']
    for ch in value:
        if ch in {'"', "\\"}:
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class DemoPeers:
    """Embedded Modality Worklist SCP + two storage SCPs (radiology, cardiology).

    All three listen on free ports of 127.0.0.1.

    Parameters
    ----------
    workdir : Path
        Where the storage SCPs write what they receive (``workdir/pacs/<name>/``).

    Notes
    -----
    The servers run in pynetdicom's background threads (``block=False``); use
    the instance as a context manager or call :meth:`stop`. :meth:`start` sets
    pynetdicom's ``LOG_REQUEST_IDENTIFIERS`` and ``LOG_RESPONSE_IDENTIFIERS``
    to ``False`` for the whole process, so that no identifier (patient names)
    reaches the log.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir)
        self._peers: dict[str, _Peer] = {}
        self._items: list[Dataset] = []
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start the three servers on free ports of 127.0.0.1 (non-blocking).

        Raises
        ------
        RuntimeError
            If the peers are already running.
        OSError
            If a server cannot bind; servers already started are stopped.
        """
        with self._lock:
            if self._peers:
                raise RuntimeError("demo peers are already running")
            _config.LOG_REQUEST_IDENTIFIERS = False
            _config.LOG_RESPONSE_IDENTIFIERS = False
            self._items = demo_worklist_items()
            try:
                self._start_worklist()
                for name, ae_title in _STORAGE.items():
                    self._start_storage(name, ae_title)
            except BaseException:
                self._shutdown_all()
                raise
        LOG.info(
            "demo peers listening: %s",
            ", ".join(f"{p.ae_title}@127.0.0.1:{p.port}" for p in self._peers.values()),
        )

    def stop(self) -> None:
        """Abort open associations, stop the servers and release their ports (idempotent)."""
        with self._lock:
            self._shutdown_all()

    def __enter__(self) -> DemoPeers:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the servers are running."""
        return bool(self._peers)

    def _shutdown_all(self) -> None:
        peers = list(self._peers.values())
        self._peers = {}
        # Each server's accept loop polls every 0.5 s: shut them down together.
        threads = [
            threading.Thread(target=p.ae.shutdown, name=f"demo-stop-{p.name}", daemon=True)
            for p in peers
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=10)
        if peers:
            LOG.info("demo peers stopped")

    def _serve(self, name: str, ae: AE, handlers: list[Any]) -> None:
        server = ae.start_server(
            ("127.0.0.1", 0),
            block=False,
            evt_handlers=[(evt.EVT_CONN_OPEN, _set_nodelay), *handlers],
        )
        assert server is not None  # block=False always returns the server
        port = int(server.server_address[1])
        self._peers[name] = _Peer(name, str(ae.ae_title), ae, port)

    def _start_worklist(self) -> None:
        ae = _make_ae(WORKLIST_AE)
        ae.add_supported_context(ModalityWorklistInformationFind)
        self._serve("worklist", ae, [(evt.EVT_C_FIND, self._on_find)])

    def _start_storage(self, name: str, ae_title: str) -> None:
        directory = self.received_dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        ae = _make_ae(ae_title)
        for cx in AllStoragePresentationContexts:
            if cx.abstract_syntax is not None:
                ae.add_supported_context(cx.abstract_syntax, ALL_TRANSFER_SYNTAXES)
        self._serve(name, ae, [(evt.EVT_C_STORE, self._on_store, [name, ae_title])])

    # ------------------------------------------------------------------ handlers

    def _on_find(self, event: evt.Event) -> Iterator[tuple[int, Dataset | None]]:
        """C-FIND: one pending response per matching worklist entry, then success."""
        try:
            query: Dataset = event.identifier
            items = list(self._items)
        except Exception:
            LOG.exception("%s: could not decode a C-FIND identifier", WORKLIST_AE)
            yield _UNABLE_TO_PROCESS, None
            return
        matches = 0
        for item in items:
            if event.is_cancelled:
                LOG.info("%s: C-FIND cancelled after %d match(es)", WORKLIST_AE, matches)
                yield _CANCEL, None
                return
            try:
                response = match_worklist_item(query, item)
            except Exception:
                LOG.exception("%s: C-FIND matching failed", WORKLIST_AE)
                yield _UNABLE_TO_PROCESS, None
                return
            if response is not None:
                matches += 1
                yield _PENDING, response
        LOG.info("%s: C-FIND returned %d match(es)", WORKLIST_AE, matches)

    def _on_store(self, event: evt.Event, name: str, ae_title: str) -> int:
        """C-STORE: write the instance as received (Part-10, not decoded) and answer success."""
        request = event.request
        assert isinstance(request, C_STORE)
        uid = str(request.AffectedSOPInstanceUID or "")
        if not _UID_RE.fullmatch(uid) or len(uid) > 64:
            LOG.warning("%s: refused an instance with an invalid SOP Instance UID", ae_title)
            return _CANNOT_UNDERSTAND
        target = self.received_dir(name) / f"{uid}.dcm"
        partial = target.with_name(f".{uid}.{threading.get_ident()}.part")
        try:
            partial.write_bytes(event.encoded_dataset())
            os.replace(partial, target)
        except OSError:
            LOG.exception("%s: could not write instance %s", ae_title, uid)
            partial.unlink(missing_ok=True)
            return _OUT_OF_RESOURCES
        LOG.info(
            "%s: stored %s (SOP class %s)",
            ae_title,
            uid,
            request.AffectedSOPClassUID,
        )
        return _SUCCESS

    # ---------------------------------------------------------------- addresses

    def _port(self, name: str) -> int:
        peer = self._peers.get(name)
        if peer is None:
            raise RuntimeError("demo peers are not running: call start() first")
        return peer.port

    @property
    def worklist_port(self) -> int:
        """TCP port of the Modality Worklist SCP (``DEMOMWL``)."""
        return self._port("worklist")

    @property
    def radiology_port(self) -> int:
        """TCP port of the radiology storage SCP (``RADPACS``)."""
        return self._port("radiology")

    @property
    def cardiology_port(self) -> int:
        """TCP port of the cardiology storage SCP (``CARDPACS``)."""
        return self._port("cardiology")

    def replace_items(self, items: Sequence[Dataset]) -> None:
        """Serve ``items`` in place of the entries with the same Accession Number."""
        with self._lock:
            new = {str(i.AccessionNumber): i for i in items}
            self._items = [new.pop(str(i.AccessionNumber), i) for i in self._items]
            self._items += list(new.values())

    @property
    def worklist_items(self) -> list[Dataset]:
        """The entries the running worklist serves (copies)."""
        return deepcopy(self._items)

    def received_dir(self, name: str) -> Path:
        """Return the folder where storage SCP `name` writes received files.

        Parameters
        ----------
        name : str
            ``"radiology"`` or ``"cardiology"``.

        Returns
        -------
        Path
            ``workdir/pacs/<name>``; files in it are named ``<SOPInstanceUID>.dcm``.
        """
        if name not in _STORAGE:
            raise ValueError(f"unknown demo PACS {name!r}; expected one of {sorted(_STORAGE)}")
        return self.workdir / "pacs" / name

    def received_files(self, name: str) -> list[Path]:
        """Return the instance files storage SCP `name` has received so far, sorted."""
        directory = self.received_dir(name)
        if not directory.is_dir():
            return []
        return sorted(directory.glob("*.dcm"))

    def write_config(self, path: Path, spool_dir: Path) -> Path:
        """Write a kiosk TOML config (CLI.md format) pointing at the running peers.

        Parameters
        ----------
        path : Path
            The config file to write (parent folders are created).
        spool_dir : Path
            Value of ``[spool] dir``.

        Returns
        -------
        Path
            `path`.

        Raises
        ------
        RuntimeError
            If the peers are not running (the ports are not known yet).
        """
        path = Path(path)
        lines = [
            "# Written by kiosk.demo: the embedded demo worklist and PACS on loopback ports.",
            "[kiosk]",
            f"station = {_toml_str('DEMO-FRONTDESK')}",
            f"ae_title = {_toml_str('KIOSK')}",
            "",
            "[worklist]",
            f"ae_title = {_toml_str(WORKLIST_AE)}",
            f"host = {_toml_str('127.0.0.1')}",
            f"port = {self.worklist_port}",
        ]
        for name, ae_title in _STORAGE.items():
            lines += [
                "",
                f"[destinations.{name}]",
                f"ae_title = {_toml_str(ae_title)}",
                f"host = {_toml_str('127.0.0.1')}",
                f"port = {self._port(name)}",
                f"label = {_toml_str(_LABELS[name])}",
                f"department = {_toml_str(name)}",
            ]
        lines += ["", "[spool]", f"dir = {_toml_str(str(spool_dir))}", ""]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines), encoding="utf-8")
        return path
