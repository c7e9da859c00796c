"""HL7 v2.5 messages for second reads (built with hl7apy) and their delivery over MLLP.

Every value is set as an HL7 data type (``datatype_factory``), so hl7apy
escapes the separators (``| ^ & ~ \\``) a hostile value may hold; control
characters (a segment separator in a value) are replaced by spaces first.
Messages are never put together by string concatenation.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hl7apy.core import Message
from hl7apy.factories import datatype_factory
from hl7apy.parser import parse_message

from kiosk import faults
from kiosk.config import Hl7Receiver
from kiosk.errors import Hl7Error

VERSION = "2.5"
#: MLLP framing (HL7 v2 Implementation Guide, Appendix C): start block, end block + CR.
START, END = b"\x0b", b"\x1c\x0d"
ORDER_TYPES = ("ORM^O01", "OMI^O23")
CHARGE_TYPE = "DFT^P03"
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
MAX_ACK_BYTES = 1 << 20


@dataclass(frozen=True)
class SecondReadFacts:
    """What a second-read message tells: whose study, which order, who asked and why."""

    read_id: int
    mrn: str
    issuer: str
    accession: str
    study_instance_uid: str
    requested_by: str
    reason: str
    requested_at: str
    #: Our patient's name (DICOM PN, ``FAMILY^GIVEN^MIDDLE``), birth date and sex, if known.
    patient_name: str = ""
    birth_date: str = ""
    sex: str = ""


def _clean(value: str) -> str:
    """A value as text: control characters become spaces, and a backslash is written as the
    escape ``\\E\\`` (hl7apy escapes separators but leaves what looks like an escape
    sequence, so a typed ``\\F\\`` would reach the receiver as a field separator)."""
    return _CONTROL.sub(" ", value).replace("\\", "\\E\\")


def _put(element: Any, datatype: str, value: str) -> None:
    """Set one leaf as an HL7 data type, so that hl7apy escapes its separators."""
    element.value = datatype_factory(datatype, _clean(value), version=VERSION)


def valid_date(text: str) -> bool:
    """Whether ``text`` is a real date ``YYYYMMDD`` (an order's birth date may not be: it is
    then left out of PID-7, never a message that cannot be built)."""
    try:
        datetime.strptime(text, "%Y%m%d")
    except ValueError:
        return False
    return len(text) == 8


def _ts(iso: str = "") -> str:
    when = datetime.fromisoformat(iso) if iso else datetime.now(UTC)
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def _msh(msg: Message, receiver: Hl7Receiver, message_type: str, control_id: str) -> None:
    code, event = message_type.split("^")
    msh = msg.msh
    _put(msh.msh_3.hd_1, "IS", receiver.sending_application)
    _put(msh.msh_4.hd_1, "IS", receiver.sending_facility)
    _put(msh.msh_5.hd_1, "IS", receiver.receiving_application)
    _put(msh.msh_6.hd_1, "IS", receiver.receiving_facility)
    _put(msh.msh_7.ts_1, "DTM", _ts())
    _put(msh.msh_9.msg_1, "ID", code)
    _put(msh.msh_9.msg_2, "ID", event)
    _put(msh.msh_9.msg_3, "ID", f"{code}_{event}")
    _put(msh.msh_10, "ST", control_id)
    _put(msh.msh_11.pt_1, "ID", "P")
    _put(msh.msh_18, "ID", "UNICODE UTF-8")


def _pid(pid: Any, facts: SecondReadFacts) -> None:
    _put(pid.pid_3.cx_1, "ST", facts.mrn)
    _put(pid.pid_3.cx_4.hd_1, "IS", facts.issuer)
    _put(pid.pid_3.cx_5, "ID", "MR")
    if facts.patient_name:  # PN components -> XPN: family, given, middle
        parts = facts.patient_name.split("^")
        _put(pid.pid_5.xpn_1.fn_1, "ST", parts[0])
        for leaf, value in zip(("xpn_2", "xpn_3"), parts[1:3], strict=False):
            _put(getattr(pid.pid_5, leaf), "ST", value)
    if facts.birth_date and valid_date(facts.birth_date):
        _put(pid.pid_7.ts_1, "DTM", facts.birth_date)
    if facts.sex:
        _put(pid.pid_8, "IS", facts.sex)


def _orc(orc: Any, facts: SecondReadFacts) -> None:
    _put(orc.orc_1, "ID", "NW")
    _put(orc.orc_2.ei_1, "ST", f"SR{facts.read_id}")
    _put(orc.orc_3.ei_1, "ST", facts.accession)
    _put(orc.orc_9.ts_1, "DTM", _ts(facts.requested_at))
    _put(orc.orc_12.xcn_2.fn_1, "ST", facts.requested_by)
    _put(orc.orc_16.ce_2, "ST", facts.reason)


def _obr(obr: Any, facts: SecondReadFacts, service: str) -> None:
    _put(obr.obr_2.ei_1, "ST", f"SR{facts.read_id}")
    _put(obr.obr_3.ei_1, "ST", facts.accession)
    _put(obr.obr_4.ce_1, "ST", service)
    _put(obr.obr_4.ce_2, "ST", "Second read of an outside study")
    _put(obr.obr_16.xcn_2.fn_1, "ST", facts.requested_by)
    _put(obr.obr_18, "ST", facts.accession)
    _put(obr.obr_31.ce_2, "ST", facts.reason)


def order_message(
    facts: SecondReadFacts,
    receiver: Hl7Receiver,
    control_id: str,
    message_type: str = "ORM^O01",
    service: str = "SECOND-READ",
) -> str:
    """The order request of a second read (ORM^O01 or OMI^O23), as ER7 text.

    Our MRN and issuer in PID-3; the accession in ORC-3, OBR-3 and OBR-18
    (OMI^O23: IPC-1 too, with the study's UID in IPC-3); our request id
    ``SR<id>`` as the placer order number (ORC-2, OBR-2).
    """
    if message_type not in ORDER_TYPES:
        raise ValueError(f"not an order message type: {message_type!r}")
    name = message_type.replace("^", "_")
    msg = Message(name, version=VERSION)
    _msh(msg, receiver, message_type, control_id)
    patient = msg.add_group(f"{name}_PATIENT")
    _pid(patient.add_segment("PID"), facts)
    order = msg.add_group(f"{name}_ORDER")
    _orc(order.add_segment("ORC"), facts)
    if name == "ORM_O01":
        detail = order.add_group("ORM_O01_ORDER_DETAIL")
        _obr(detail.add_segment("OBR"), facts, service)
    else:
        _obr(order.add_segment("OBR"), facts, service)
        ipc = order.add_segment("IPC")
        _put(ipc.ipc_1.ei_1, "ST", facts.accession)
        _put(ipc.ipc_2.ei_1, "ST", f"SR{facts.read_id}")
        _put(ipc.ipc_3.ei_1, "ST", facts.study_instance_uid)
        _put(ipc.ipc_4.ei_1, "ST", f"SR{facts.read_id}")
    return str(msg.to_er7())


def charge_message(
    facts: SecondReadFacts,
    receiver: Hl7Receiver,
    control_id: str,
    service: str = "SECOND-READ",
) -> str:
    """The charge of a second read that was read (DFT^P03), as ER7 text.

    PID-3 our MRN and issuer; FT1 one charge (``CG``) of ``service``, with
    the accession in FT1-23 and in the ORC/OBR of the financial order.
    """
    msg = Message("DFT_P03", version=VERSION)
    _msh(msg, receiver, CHARGE_TYPE, control_id)
    _put(msg.evn.evn_1, "ID", "P03")
    _put(msg.evn.evn_2.ts_1, "DTM", _ts())
    _pid(msg.add_segment("PID"), facts)
    financial = msg.add_group("DFT_P03_FINANCIAL")
    ft1 = financial.add_segment("FT1")
    _put(ft1.ft1_1, "SI", "1")
    _put(ft1.ft1_2, "ST", f"SR{facts.read_id}")
    _put(ft1.ft1_4.dr_1.ts_1, "DTM", _ts())
    _put(ft1.ft1_6, "IS", "CG")
    _put(ft1.ft1_7.ce_1, "ST", service)
    _put(ft1.ft1_7.ce_2, "ST", "Second read of an outside study")
    _put(ft1.ft1_10, "NM", "1")
    _put(ft1.ft1_21.xcn_2.fn_1, "ST", facts.requested_by)
    _put(ft1.ft1_23.ei_1, "ST", facts.accession)
    common = financial.add_group("DFT_P03_FINANCIAL_COMMON_ORDER")
    _orc(common.add_segment("ORC"), facts)
    detail = common.add_group("DFT_P03_FINANCIAL_ORDER")
    _obr(detail.add_segment("OBR"), facts, service)
    return str(msg.to_er7())


@dataclass(frozen=True)
class Ack:
    """The receiver's acknowledgement: MSA-1 (AA, AE, AR; CA, CE, CR) and its text."""

    code: str
    control_id: str
    text: str


def parse_ack(data: bytes, control_id: str) -> Ack:
    """Read an ACK; it must acknowledge ``control_id`` (MSA-2 equals our MSH-10).

    Raises
    ------
    Hl7Error
        Not an HL7 ACK, or one for another message.
    """
    try:
        text = data.decode("utf-8")
        ack = parse_message(text.replace("\n", "\r").strip("\r"), find_groups=False)
        msa = ack.msa
        code = str(msa.msa_1.to_er7())
        acked = str(msa.msa_2.to_er7())
        note = str(msa.msa_3.to_er7()) if msa.msa_3 is not None else ""
    except Exception as exc:  # hostile bytes: any parser failure is "not an ACK"
        raise Hl7Error(f"the HL7 receiver answered something that is not an ACK ({exc})") from exc
    if code not in ("AA", "AE", "AR", "CA", "CE", "CR"):
        raise Hl7Error(f"the HL7 receiver's ACK has an unknown code {code[:8]!r}")
    if acked != control_id:
        raise Hl7Error(
            f"the HL7 receiver acknowledged message {acked[:40]!r}, not ours ({control_id})"
        )
    return Ack(code, acked, _CONTROL.sub(" ", note)[:200])


def exchange(receiver: Hl7Receiver, message: str, control_id: str, timeout: float) -> Ack:
    """Send one message over MLLP and return the checked ACK.

    Hand-written (a few lines of socket code): hl7apy offers only an MLLP
    server; the framing is three bytes. One connection per message keeps a
    dropped connection from mixing the answers of two messages.

    ``timeout`` is one deadline for the whole exchange: the connection, the
    message going out and the whole ACK frame coming back. Each read waits
    only for what is left of it, so a receiver that trickles its answer a
    byte at a time has not answered within ``timeout`` either.

    Raises
    ------
    Hl7Error
        The receiver is down (``down``), did not answer in ``timeout``
        seconds, closed the connection, or answered garbage.
    """
    deadline = time.monotonic() + timeout
    try:
        sock = socket.create_connection((receiver.host, receiver.port), timeout=timeout)
    except OSError as exc:
        raise Hl7Error(
            f"the HL7 receiver {receiver.host}:{receiver.port} cannot be reached ({exc})",
            down=True,
        ) from exc
    with sock:
        try:
            _until(sock, deadline)
            sock.sendall(START + message.encode("utf-8") + END)
            faults.point("hl7.sent")
            buffer = b""
            while END not in buffer:
                _until(sock, deadline)
                chunk = sock.recv(65536)
                if not chunk:
                    raise Hl7Error("the HL7 receiver closed the connection without an ACK")
                buffer += chunk
                if len(buffer) > MAX_ACK_BYTES:
                    raise Hl7Error("the HL7 receiver's answer is too long to be an ACK")
        except TimeoutError as exc:
            raise Hl7Error(f"the HL7 receiver did not answer within {timeout:g} s") from exc
        except OSError as exc:
            raise Hl7Error(f"the connection to the HL7 receiver failed ({exc})") from exc
    start = buffer.find(START)
    body = buffer[start + 1 if start >= 0 else 0 : buffer.find(END)]
    return parse_ack(body, control_id)


def _until(sock: socket.socket, deadline: float) -> None:
    """Let the socket's next operation wait only until ``deadline`` (``time.monotonic``).

    Raises
    ------
    TimeoutError
        The deadline has passed.
    """
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("the deadline has passed")
    sock.settimeout(left)


#: The message that takes back an acknowledged one: the order cancelled (ORC-1 ``CA``),
#: the charge credited (FT1-6 ``CR``, HL7 table 0017).
REVERSALS = {"order": "order-cancel", "charge": "charge-credit"}


def reversal(original: str, kind: str, control_id: str) -> str:
    """The message that takes back ``original`` (an acknowledged order or charge), as ER7.

    Built from the original itself, parsed with hl7apy, so that it names the
    patient, the accession and the request exactly as billing got them (the
    study may belong to another patient since); a new MSH-10 and MSH-7.
    """
    msg = parse_message(original.replace("\n", "\r").strip("\r"), find_groups=True)
    _put(msg.msh.msh_7.ts_1, "DTM", _ts())
    _put(msg.msh.msh_10, "ST", control_id)
    if kind == "order":
        for orc in _segments(msg, "ORC"):
            _put(orc.orc_1, "ID", "CA")
    elif kind == "charge":
        for ft1 in _segments(msg, "FT1"):
            _put(ft1.ft1_6, "IS", "CR")
    else:
        raise ValueError(f"no reversal of a {kind!r} message")
    return str(msg.to_er7())


def _segments(element: Any, name: str) -> list[Any]:
    """Every segment ``name`` in a parsed message, however deep its groups nest it."""
    found = []
    for child in element.children:
        if getattr(child, "name", "") == name:
            found.append(child)
        elif getattr(child, "children", None):
            found.extend(_segments(child, name))
    return found
