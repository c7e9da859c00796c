"""Association set-up, written once: timeouts, TLS, socket options and the one-line errors.

Every DICOM conversation of the kiosk starts here: C-ECHO, the worklist and
PACS C-FIND, storage commitment and the pynetdicom C-STORE engine open their
associations with :func:`make_ae` and :func:`associate`; the fast C-STORE
SCU (:mod:`kiosk.net.store`) takes its TLS context (:func:`tls_context`),
timeouts and TLS messages (:func:`tls_problem`) from here too, and both
engines report an A-ASSOCIATE-RJ with
:func:`kiosk.net.association_rejected.association_rejected`.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import sys
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kiosk.config import Destination, Peer
from kiosk.errors import AssociationRejected, PeerError
from kiosk.net.association_rejected import association_rejected

if TYPE_CHECKING:
    import ssl

    from pynetdicom import AE

CONNECT_TIMEOUT = 10.0
ACSE_TIMEOUT = 15.0
DIMSE_TIMEOUT = 60.0
NETWORK_TIMEOUT = 60.0


def quiet_pynetdicom() -> None:
    """Keep PHI out of the logs: pynetdicom logs whole identifiers (names, IDs) at INFO."""
    from pynetdicom import _config

    logging.getLogger("pynetdicom").setLevel(logging.WARNING)
    _config.LOG_REQUEST_IDENTIFIERS = False
    _config.LOG_RESPONSE_IDENTIFIERS = False


def make_ae(calling_ae: str, timeout: float | None = None) -> AE:
    """Return an AE with the kiosk's timeouts (or ``timeout`` seconds for every step).

    Its associations read and send each PDU by a deadline of the network
    timeout (:mod:`kiosk.net.deadline`): pynetdicom's own timeouts are no
    bound against a peer that trickles its answer.

    pynetdicom is imported here, not with the module, so that commands which do
    not talk DICOM through it (the fast C-STORE path among them) start quickly.
    """
    from kiosk.net.deadline import DeadlineAE

    quiet_pynetdicom()
    ae = DeadlineAE(ae_title=calling_ae)
    ae.connection_timeout = timeout or CONNECT_TIMEOUT
    ae.acse_timeout = timeout or ACSE_TIMEOUT
    ae.dimse_timeout = timeout or DIMSE_TIMEOUT
    ae.network_timeout = timeout or NETWORK_TIMEOUT
    ae.maximum_pdu_size = 0
    return ae


def nodelay(assoc: Any) -> None:
    """Switch off Nagle's algorithm on an association's socket (no 40 ms stalls)."""
    sock = getattr(getattr(assoc, "dul", None), "socket", None)
    raw = getattr(sock, "socket", None)
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def tls_context(peer: Peer) -> ssl.SSLContext | None:
    """Return the TLS context for a peer (destination, worklist), or ``None`` without TLS.

    The peer's certificate is verified against ``tls_ca`` (else the system's
    CAs) and must name the configured host; ``tls_cert``/``tls_key`` are ours,
    for peers that check the client.
    """
    if not peer.tls:
        return None
    import ssl  # only here: TLS is the rare case, and ssl is slow to import

    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=peer.tls_ca or None)
    if peer.tls_cert:
        context.load_cert_chain(peer.tls_cert, peer.tls_key or None)
    return context


def tls_problem(
    exc: BaseException | None, peer: Peer, role: str, *, handshake: bool = False
) -> str | None:
    """Return the one-line message for a TLS failure in ``exc`` or its causes, else ``None``.

    A certificate that fails verification is "not trusted" (with the reason:
    an unknown CA, expired, another host name); any other TLS error, or any
    error at all when ``handshake`` says it happened during the TLS
    handshake, is a failed handshake (the peer does not speak TLS on that
    port, refuses our certificate, or no protocol is common).
    """
    where = f"{peer.ae_title} at {peer.host}:{peer.port}"
    ssl = sys.modules.get("ssl")  # not imported: no TLS was tried
    chain: list[BaseException] = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    for error in chain:
        if ssl is not None and isinstance(error, ssl.SSLCertVerificationError):
            reason = error.verify_message or error.reason or str(error)
            hint = (
                "check host in the config: the certificate must name it"
                if error.verify_code == 62  # X509_V_ERR_HOSTNAME_MISMATCH
                else "check tls_ca in the config"
            )
            return f"the {role}'s TLS certificate ({where}) is not trusted ({reason}): {hint}"
    tls_errors = [e for e in chain if ssl is not None and isinstance(e, ssl.SSLError)]
    if not tls_errors and not (handshake and chain):
        return None
    cause = (tls_errors or chain)[-1]
    reason = getattr(cause, "reason", None) or getattr(cause, "strerror", None) or str(cause)
    return (
        f"TLS handshake with the {role} {where} failed ({reason or type(cause).__name__}); "
        "check that it expects TLS on that port, and tls_cert and tls_key in the config "
        "if it checks our certificate"
    )


def _tls_probe(peer: Peer, context: ssl.SSLContext, server_hostname: str, role: str) -> str | None:
    """After pynetdicom failed to connect over TLS: hand-shake once more to learn why.

    pynetdicom logs the TLS error and reports only "not established"; this
    returns :func:`tls_problem`'s message, or ``None`` when the peer cannot be
    reached at all or the handshake succeeds (the failure was something else).
    """
    try:
        raw = socket.create_connection(
            (peer.host, peer.port), timeout=peer.timeout or CONNECT_TIMEOUT
        )
    except OSError:
        return None
    try:
        context.wrap_socket(raw, server_hostname=server_hostname).close()
    except OSError as exc:
        return tls_problem(exc, peer, role, handshake=True)
    finally:
        raw.close()
    return None


def _unread_rejection(assoc: Any) -> Any:
    """The A-ASSOCIATE-RJ pynetdicom received but did not read, if it did; else ``None``.

    pynetdicom 3.0 has a race (``acse.ACSE.negotiate_association``): it checks
    that the socket is still connected only after sending the request, so a
    peer that rejects and closes at once (DCMTK ``storescp --refuse``) makes
    it abort with the rejection unread in its DUL's queue, and the
    association looks merely "not established". The queue is looked at
    (without taking from it) so that the rejection is reported as one.
    """
    pending = getattr(getattr(getattr(assoc, "dul", None), "to_user_queue", None), "queue", ())
    for primitive in list(pending):
        if getattr(primitive, "result", None) in (1, 2) and hasattr(primitive, "diagnostic"):
            return primitive
    return None


def rejection(
    assoc: Any, peer: Peer, role: str, calling_ae: str, primitive: Any = None
) -> AssociationRejected:
    """Return the typed error for an association pynetdicom saw rejected.

    The fields come from the A-ASSOCIATE primitive pynetdicom received
    (``assoc.acceptor.primitive``: ``result``, ``result_source``,
    ``diagnostic``), so that it reads as the fast SCU's does.
    """
    primitive = primitive or getattr(assoc.acceptor, "primitive", None)
    return association_rejected(
        int(getattr(primitive, "result", None) or 1),
        int(getattr(primitive, "result_source", None) or 0),
        int(getattr(primitive, "diagnostic", None) or 0),
        role=role,
        where=f"{peer.ae_title} at {peer.host}:{peer.port}",
        calling_ae=calling_ae,
        called_ae=peer.ae_title,
    )


def associate(ae: AE, peer: Peer, role: str, **kwargs: Any) -> Any:
    """Open an association (over TLS when the peer says so) or raise a one-line :class:`PeerError`.

    A TLS failure says what it is (:func:`tls_problem`): a certificate that is
    not trusted, or a handshake that failed, rather than "cannot reach".

    Parameters
    ----------
    role
        Who the peer is, for the message ("worklist", "Radiology PACS").

    Raises
    ------
    AssociationRejected
        If the peer answered with A-ASSOCIATE-RJ (permanent or transient).
    PeerError
        If it cannot be reached, the TLS handshake failed, or it broke off.
    """
    if peer.tls and "tls_args" not in kwargs:
        kwargs["tls_args"] = (tls_context(peer), peer.host)
    with warnings.catch_warnings():
        # pynetdicom drops (does not close) its socket when the connection is refused
        # (transport.AssociationSocket.connect); collect it here, where its warning is
        # expected, rather than in whatever code runs when the collector next comes by.
        warnings.filterwarnings("ignore", "unclosed <socket", ResourceWarning)
        try:
            assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, **kwargs)
        except (OSError, ValueError) as exc:
            gc.collect()
            problem = tls_problem(exc, peer, role)
            if problem:
                raise PeerError(problem) from exc
            raise PeerError(
                f"cannot reach the {role} {peer.ae_title} at {peer.host}:{peer.port} ({exc}); "
                "check the network and the config"
            ) from exc
        if not assoc.is_established:
            gc.collect()
    if assoc.is_established:
        nodelay(assoc)
        return assoc
    if assoc.is_rejected:
        raise rejection(assoc, peer, role, ae.ae_title)
    unread = _unread_rejection(assoc)
    if unread is not None:
        raise rejection(assoc, peer, role, ae.ae_title, unread)
    if kwargs.get("tls_args") is not None:
        context, server_hostname = kwargs["tls_args"]
        problem = _tls_probe(peer, context, server_hostname, role)
        if problem:
            raise PeerError(problem)
    if getattr(getattr(getattr(assoc, "dul", None), "socket", None), "timed_out", False):
        raise PeerError(  # kiosk.net.deadline cut off a PDU that came too slowly
            f"the {role} {peer.ae_title} at {peer.host}:{peer.port} did not answer the "
            f"association request within {assoc.network_timeout:g} s (an answer too slow, or "
            "trickled); association aborted: check that it is a DICOM peer and not overloaded"
        )
    answer = getattr(assoc.acceptor, "primitive", None)
    if assoc.is_aborted and getattr(answer, "result", None) == 0:  # pynetdicom aborted
        raise PeerError(
            f"the {role} {peer.ae_title} at {peer.host}:{peer.port} accepted none of the "
            "services proposed (every presentation context refused); check its configuration"
        )
    raise PeerError(
        f"cannot reach the {role} {peer.ae_title} at {peer.host}:{peer.port}; "
        "check that it is running and the host and port in the config"
    )


END_SECONDS = 5.0  # how long an ended association's thread may take to stop


def end_association(assoc: Any, *, abort: bool = False) -> None:
    """Release (or, with ``abort``, abort) a pynetdicom association and close its socket.

    pynetdicom's ``AssociationSocket.close`` skips ``socket.close()`` when
    ``shutdown()`` fails -- a peer that closed its end first, as one does when
    it is aborted while it answers -- and drops the socket unclosed, which
    warns whenever the collector next comes by. The socket is held across the
    end and closed here, so the end is the same whoever closes first.
    """
    dul = getattr(assoc, "dul", None)
    sock = getattr(getattr(dul, "socket", None), "socket", None)
    try:
        if abort:
            assoc.abort()
        elif assoc.is_established:
            assoc.release()
    finally:
        if sock is not None:
            if dul is not None and dul.is_alive():  # its thread may still select on the socket
                dul.join(END_SECONDS)
            if dul is None or not dul.is_alive():
                sock.close()


def open_association(
    destination: Destination,
    calling_ae: str,
    contexts: Sequence[Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Open an association to a destination (TLS, max PDU and TCP_NODELAY applied).

    TLS is :func:`associate`'s, the worklist's too. For echo, the PACS C-FIND,
    storage commitment and IOCM rejection notes.

    Raises
    ------
    AssociationRejected
        If the destination answers A-ASSOCIATE-RJ.
    PeerError
        If the destination cannot be reached or breaks off.
    """
    ae = make_ae(calling_ae, destination.timeout or None)
    if contexts is not None:
        kwargs["contexts"] = list(contexts)
    return associate(
        ae,
        destination,
        destination.label or destination.name,
        max_pdu=destination.max_pdu,
        **kwargs,
    )
