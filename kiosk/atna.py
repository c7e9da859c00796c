"""IHE ATNA export of the audit trail: DICOM audit messages over RFC 5424 syslog.

Each audit record becomes one DICOM audit message (PS3.15 Annex A.5, the
``AuditMessage`` schema: ``EventIdentification``, ``ActiveParticipant``,
``AuditSourceIdentification``, ``ParticipantObjectIdentification``), sent as
the MSG of an RFC 5424 syslog message to the configured collector
(``[audit]``), over TCP with octet-counting framing (RFC 6587 3.4.1) or TLS
(RFC 5425, the same framing).

The records wait in a durable queue (``atna_queue``) and go in order. A
record is marked ``sending`` (committed) before it is written and ``sent``
after; one left ``sending`` by a crash is marked ``uncertain`` and not
written again: the collector never gets a record twice. A collector that is
down leaves the rest queued for the next run. One process sends at a time
(a lease in ``atna_sender``, renewed while it sends): the window and a
scheduled ``kiosk send`` never interleave.

Hand-written: the syslog framing is a few lines, and the logging handlers of
the syslog libraries (``logging.handlers.SysLogHandler``,
``rfc5424-logging-handler``) report a failed write to ``handleError`` instead
of to the caller, who must know whether a record went before marking it sent.
The XML is built with :mod:`xml.etree.ElementTree`, which escapes every value.
"""

from __future__ import annotations

import base64
import logging
import os
import socket
import sqlite3
import ssl
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from kiosk.config import AuditCollector
from kiosk.errors import PeerError
from kiosk.store import audit_seal, audit_trail

log = logging.getLogger(__name__)

#: RFC 5424: facility 10 (security/authorization, "authpriv"), severity 5 (notice); a
#: refused or failed action is severity 4 (warning).
_FACILITY = 10
#: The MSGID IHE ATNA gives DICOM audit messages (ITI TF-2: "IHE+RFC-3881" is the old one).
MSGID = "IHE+DICOM"
APP_NAME = "outside-media-kiosk"

# (EventID code, its meaning, EventActionCode): DCM codes of PS3.16 CID 400.
_APPLICATION_ACTIVITY = ("110100", "Application Activity", "E")
_EVENTS: dict[str, tuple[str, str, str]] = {
    "view": ("110103", "DICOM Instances Accessed", "R"),
    "found": ("110107", "Import", "C"),
    "resume": ("110107", "Import", "C"),
    "copy": ("110107", "Import", "C"),
    "reimport": ("110107", "Import", "C"),
    "import": ("110107", "Import", "C"),
    "match": ("110103", "DICOM Instances Accessed", "U"),
    "unscheduled": ("110103", "DICOM Instances Accessed", "U"),
    "coerce": ("110103", "DICOM Instances Accessed", "U"),
    "queue": ("110103", "DICOM Instances Accessed", "U"),
    "hold": ("110103", "DICOM Instances Accessed", "U"),
    "reconcile": ("110103", "DICOM Instances Accessed", "U"),
    "tag": ("110103", "DICOM Instances Accessed", "U"),
    "refuse": ("110103", "DICOM Instances Accessed", "U"),
    "discard": ("110103", "DICOM Instances Accessed", "D"),
    "send": ("110104", "DICOM Instances Transferred", "R"),
    "resend": ("110104", "DICOM Instances Transferred", "R"),
    "skip-present": ("110104", "DICOM Instances Transferred", "R"),
    "commit": ("110104", "DICOM Instances Transferred", "R"),
    "reject-old-copy": ("110104", "DICOM Instances Transferred", "R"),
    "export": ("110106", "Export", "R"),
    "spool-clean": ("110105", "DICOM Study Deleted", "D"),
    "purge": ("110105", "DICOM Study Deleted", "D"),
    "sign-in": ("110114", "User Authentication", "E"),
    "sign-out": ("110114", "User Authentication", "E"),
    "user-add": ("110136", "Security Roles Changed", "E"),
    "user-change": ("110136", "Security Roles Changed", "U"),
    "audit": ("110101", "Audit Log Used", "R"),
}
_EVENT_TYPES = {"sign-in": ("110122", "Login"), "sign-out": ("110123", "Logout")}


def _outcome(outcome: str) -> str:
    """EventOutcomeIndicator: 0 success, 4 minor failure (refused), 8 serious failure."""
    if outcome in ("ok", "sent", "committed", "started", ""):
        return "0"
    if outcome in ("refused", "held", "skipped"):
        return "4"
    return "8"


def _code(parent: ET.Element, tag: str, code: str, meaning: str) -> ET.Element:
    return ET.SubElement(
        parent, tag, {"csd-code": code, "codeSystemName": "DCM", "originalText": meaning}
    )


def audit_message(
    record: sqlite3.Row | dict[str, object], *, source_id: str, keyed_from: int = 1
) -> bytes:
    """Return one audit record as a DICOM audit message (PS3.15 A.5), UTF-8 XML.

    Parameters
    ----------
    record
        An ``audit`` row (``id``, ``time``, ``user``, ``station``, ``action``,
        ``study_instance_uid``, ``outcome``, ``detail``).
    source_id
        The AuditSourceID: this station.
    keyed_from
        The first record chained with the station's key (its link is then an
        HMAC-SHA-256; a record before it, of a kiosk of before, a plain SHA-256).
    """
    row = dict(record)
    action = str(row["action"])
    code, meaning, action_code = _EVENTS.get(action, _APPLICATION_ACTIVITY)
    message = ET.Element("AuditMessage")
    event = ET.SubElement(
        message,
        "EventIdentification",
        {
            "EventActionCode": action_code,
            "EventDateTime": str(row["time"]),
            "EventOutcomeIndicator": _outcome(str(row["outcome"])),
        },
    )
    _code(event, "EventID", code, meaning)
    if action in _EVENT_TYPES:
        _code(event, "EventTypeCode", *_EVENT_TYPES[action])
    description = ET.SubElement(event, "EventOutcomeDescription")
    description.text = f"{action}: {row['outcome']}" + (
        f"; {row['detail']}" if row["detail"] else ""
    )
    person = ET.SubElement(
        message,
        "ActiveParticipant",
        {"UserID": str(row["user"]) or "(open station)", "UserIsRequestor": "true"},
    )
    _code(person, "RoleIDCode", "110153", "Source Role ID")
    station = str(row["station"]) or source_id
    kiosk = ET.SubElement(
        message,
        "ActiveParticipant",
        {
            "UserID": APP_NAME,
            "UserIsRequestor": "false",
            "AlternativeUserID": station,
            "NetworkAccessPointID": station,
            "NetworkAccessPointTypeCode": "1",  # a machine name
        },
    )
    _code(kiosk, "RoleIDCode", "110150", "Application")
    source = ET.SubElement(message, "AuditSourceIdentification", {"AuditSourceID": source_id})
    _code(source, "AuditSourceTypeCode", "4", "Application Server Process")
    if row["study_instance_uid"]:
        study = ET.SubElement(
            message,
            "ParticipantObjectIdentification",
            {
                "ParticipantObjectID": str(row["study_instance_uid"]),
                "ParticipantObjectTypeCode": "2",  # system object
                "ParticipantObjectTypeCodeRole": "3",  # report (a study)
            },
        )
        _code(study, "ParticipantObjectIDTypeCode", "110180", "Study Instance UID")
    trail = ET.SubElement(
        message,
        "ParticipantObjectIdentification",
        {
            "ParticipantObjectID": f"audit-record-{row['id']}",
            "ParticipantObjectTypeCode": "2",
            "ParticipantObjectTypeCodeRole": "13",  # security resource
        },
    )
    _code(trail, "ParticipantObjectIDTypeCode", "110101", "Audit Log Used")
    if row.get("hash"):  # the record's link in the chain; the schema's value is base64
        digest = base64.b64encode(bytes.fromhex(str(row["hash"]))).decode("ascii")
        kind = "HMAC-SHA-256" if int(str(row["id"])) >= keyed_from else "SHA-256"
        ET.SubElement(trail, "ParticipantObjectDetail", {"type": kind, "value": digest})
    xml: bytes = ET.tostring(message, encoding="utf-8", xml_declaration=True)
    return xml


def _header_value(text: str, limit: int) -> str:
    """A syslog header field: printable US-ASCII without spaces, or NILVALUE ``-``."""
    value = "".join(c for c in text if 33 <= ord(c) <= 126)[:limit]
    return value or "-"


def syslog_frame(
    xml: bytes, *, timestamp: str, hostname: str, warning: bool = False, procid: str = "-"
) -> bytes:
    """Return one RFC 5424 message with octet-counting framing (``LEN SP MSG``, RFC 6587).

    The MSG is the XML, UTF-8 with a BOM as RFC 5424 6.4 asks of UTF-8 text.
    """
    pri = _FACILITY * 8 + (4 if warning else 5)
    header = (
        f"<{pri}>1 {_header_value(timestamp, 64)} {_header_value(hostname, 255)} "
        f"{APP_NAME} {_header_value(procid, 128)} {MSGID} - "
    ).encode("ascii")
    message = header + b"\xef\xbb\xbf" + xml
    return str(len(message)).encode("ascii") + b" " + message


@dataclass(frozen=True)
class ExportReport:
    """What one ATNA export run did."""

    sent: int
    queued: int
    uncertain: int
    error: str = ""

    def to_json(self) -> dict[str, object]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "sent": self.sent,
            "queued": self.queued,
            "uncertain": self.uncertain,
            "error": self.error,
        }


def _connect(collector: AuditCollector) -> socket.socket:
    raw = socket.create_connection((collector.host, collector.port), timeout=collector.timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if not collector.tls:
        return raw
    context = ssl.create_default_context(cafile=collector.tls_ca or None)
    if collector.tls_cert:
        context.load_cert_chain(collector.tls_cert, collector.tls_key or None)
    try:
        return context.wrap_socket(raw, server_hostname=collector.host)
    except BaseException:
        raw.close()
        raise


def export_queued(
    conn: sqlite3.Connection, collector: AuditCollector, *, source_id: str
) -> ExportReport:
    """Send the queued audit records to the collector, oldest first; stop at the first failure.

    Raises nothing for a collector that is down: the report's ``error`` says
    why and the records stay queued (:func:`deliver` raises).
    """
    holder = f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"
    if not audit_trail.atna_lease(conn, holder, _lease_end()):
        counts = audit_trail.atna_counts(conn)
        log.info("another process is sending audit records to the collector")
        return ExportReport(0, counts.get("queued", 0), counts.get("uncertain", 0))
    try:
        return _export(conn, collector, source_id=source_id, holder=holder)
    finally:
        audit_trail.atna_release(conn, holder)


def _lease_end() -> str:
    """How long a sender may hold the lease before another may take over (it renews it)."""
    return (datetime.now(UTC) + _LEASE).isoformat(timespec="seconds")


_LEASE = timedelta(minutes=5)


def _export(
    conn: sqlite3.Connection, collector: AuditCollector, *, source_id: str, holder: str
) -> ExportReport:
    uncertain = audit_trail.atna_settle_interrupted(conn)
    if uncertain:
        log.warning("%d audit records may have reached the collector before a crash; "
                    "they are not sent again", uncertain)  # fmt: skip
    sent = 0
    error = ""
    keyed_from = audit_seal.load(conn).keyed_from
    pending = audit_trail.atna_pending(conn)
    if pending:
        try:
            sock = _connect(collector)
        except (OSError, ssl.SSLError) as exc:
            error = f"the audit collector {collector.host}:{collector.port} is unreachable ({exc})"
            pending = []
        else:
            with sock:
                while pending:
                    for row in pending:
                        frame = syslog_frame(
                            audit_message(row, source_id=source_id, keyed_from=keyed_from),
                            timestamp=_rfc3339(str(row["time"])),
                            hostname=source_id,
                            warning=_outcome(str(row["outcome"])) != "0",
                        )
                        if not audit_trail.atna_claim(conn, int(row["id"])):
                            continue
                        try:
                            sock.sendall(frame)
                        except OSError as exc:
                            audit_trail.atna_note_failure(conn, int(row["id"]), str(exc))
                            error = (
                                f"the audit collector {collector.host}:{collector.port} "
                                f"stopped taking records ({exc})"
                            )
                            break
                        audit_trail.atna_sent(conn, int(row["id"]))
                        sent += 1
                    if error:
                        break
                    audit_trail.atna_lease(conn, holder, _lease_end())
                    pending = audit_trail.atna_pending(conn)
    counts = audit_trail.atna_counts(conn)
    if error:
        log.warning("%s; %d audit records stay queued", error, counts.get("queued", 0))
    return ExportReport(sent, counts.get("queued", 0), counts.get("uncertain", 0), error)


def deliver(conn: sqlite3.Connection, collector: AuditCollector, *, source_id: str) -> ExportReport:
    """As :func:`export_queued`, but a collector that is down raises.

    Raises
    ------
    PeerError
        If the collector could not be reached or stopped taking records (exit 4);
        what was not sent stays queued.
    """
    report = export_queued(conn, collector, source_id=source_id)
    if report.error:
        raise PeerError(f"{report.error}; {report.queued} audit records stay queued")
    return report


def _rfc3339(time: str) -> str:
    """The record's ISO time as RFC 5424 wants it (``Z`` or an offset, no more than µs)."""
    try:
        return datetime.fromisoformat(time).isoformat()
    except ValueError:
        return "-"
