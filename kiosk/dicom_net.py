"""Shared pynetdicom settings: timeouts, socket options, and association errors."""

from __future__ import annotations

import contextlib
import gc
import logging
import socket
import warnings
from typing import TYPE_CHECKING, Any

from kiosk.config import Peer
from kiosk.errors import PeerError

if TYPE_CHECKING:
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

    pynetdicom is imported here, not with the module, so that commands which do
    not talk DICOM through it (the fast C-STORE path among them) start quickly.
    """
    from pynetdicom import AE

    quiet_pynetdicom()
    ae = AE(ae_title=calling_ae)
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


def associate(ae: AE, peer: Peer, role: str, **kwargs: Any) -> Any:
    """Open an association or raise a one-line :class:`PeerError`.

    Parameters
    ----------
    role
        Who the peer is, for the message ("worklist", "Radiology PACS").
    """
    with warnings.catch_warnings():
        # pynetdicom drops (does not close) its socket when the connection is refused
        # (transport.AssociationSocket.connect); collect it here, where its warning is
        # expected, rather than in whatever code runs when the collector next comes by.
        warnings.filterwarnings("ignore", "unclosed <socket", ResourceWarning)
        try:
            assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, **kwargs)
        except (OSError, ValueError) as exc:
            gc.collect()
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
        raise PeerError(
            f"the {role} {peer.ae_title} at {peer.host}:{peer.port} rejected the association; "
            f"check that it knows our AE title {ae.ae_title!r}"
        )
    raise PeerError(
        f"cannot reach the {role} {peer.ae_title} at {peer.host}:{peer.port}; "
        "check that it is running and the host and port in the config"
    )
