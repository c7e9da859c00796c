"""A deadline for each PDU on pynetdicom's associations, so that a trickling peer is cut off.

pynetdicom (3.0) reads PDUs in its DUL reactor thread with blocking reads:
once connected it clears the socket's timeout
(``transport.AssociationSocket.connect``), and its ACSE, DIMSE and network
timeouts only bound how long the *caller* waits for an answer in a queue.
When one expires it aborts the association, and the abort waits for the
reactor thread to stop (``Association.kill``), which is blocked in
``recv()`` for as long as the peer sends a byte now and then, up to the
length its PDU header announced (4 GiB at most). A PACS that starts a
4,000-byte A-ASSOCIATE-AC and sends a byte a second held ``kiosk echo``
40 s with ``timeout = 3``; a timeout per read would not help, each read
gets its byte.

So here each PDU read (its 6-byte header, then its body) must be whole
within ``network_timeout`` seconds (the destination's ``timeout``) of the
moment its first byte arrived, and each PDU sent must be out within that
time. Past the deadline the read or write fails as a dropped connection
does (pynetdicom's Evt17: the association ends, its socket is closed, the
caller's wait returns). The caller's own ACSE or DIMSE timeout runs from the
request, the PDU deadline from the answer's first byte: a trickling peer is
cut off at most about twice the timeout after the request (docs/CLI.md).

Only :func:`kiosk.net.association.make_ae` uses this module, and imports it
when an AE is made (pynetdicom is slow to import; the fast C-STORE path never
needs it).
"""

from __future__ import annotations

import struct
import threading
import time
from typing import TYPE_CHECKING, Any

from pynetdicom import AE, evt
from pynetdicom.transport import AssociationSocket, RequestHandler, ThreadedAssociationServer

if TYPE_CHECKING:
    import ssl

    from pynetdicom.association import Association
    from pynetdicom.transport import AddressInformation

_PDU_HEADER = struct.Struct(">BxI")


class DeadlineSocket(AssociationSocket):
    """pynetdicom's association socket with a deadline per PDU read and per PDU sent.

    ``timed_out`` tells, after the association failed, that it was this
    deadline that ended it (the peer answered too slowly), not the peer.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timed_out = False
        #: (length, deadline) of the PDU whose header was just read: its body shares it
        self._body: tuple[int, float] | None = None

    def _seconds(self) -> float | None:
        limit = self.assoc.network_timeout
        return float(limit) if limit else None

    def recv(self, nr_bytes: int) -> bytearray:
        """Read ``nr_bytes`` (a PDU's header, or its body), all by the PDU's deadline.

        Fewer bytes come back only when the peer closed the connection
        (pynetdicom then reports the connection closed, as it does itself).

        Raises
        ------
        TimeoutError
            The deadline passed first (pynetdicom: the connection is closed).
        OSError
            The connection failed.
        """
        seconds = self._seconds()
        if self._body is not None and self._body[0] == nr_bytes:
            deadline: float | None = self._body[1]
        else:
            deadline = time.monotonic() + seconds if seconds is not None else None
        self._body = None
        sock = self.socket
        if sock is None:
            raise OSError("the association's socket is closed")
        data = bytearray()
        while len(data) < nr_bytes:
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    self.timed_out = True
                    raise TimeoutError(
                        f"the peer did not send a whole PDU within {seconds:g} s; cut off"
                    )
                sock.settimeout(left)
            try:
                chunk = sock.recv(min(nr_bytes - len(data), 1 << 16))
            except TimeoutError:
                self.timed_out = deadline is not None
                raise
            if not chunk:
                return data
            data += chunk
        if nr_bytes == _PDU_HEADER.size and deadline is not None:
            self._body = (_PDU_HEADER.unpack(bytes(data))[1], deadline)
        return data

    def send(self, bytestream: bytes) -> None:
        """Send one PDU, whole within the timeout (else as a closed connection: Evt17)."""
        sock = self.socket
        try:
            if sock is None:
                raise OSError("the association's socket is closed")
            sock.settimeout(self._seconds())
            sock.sendall(bytestream)  # the timeout bounds the whole call (Python 3.5+)
        except Exception as exc:  # as pynetdicom's own send: any failure is a closed connection
            self.timed_out = self.timed_out or isinstance(exc, TimeoutError)
            self.event_queue.put("Evt17")
            return
        evt.trigger(self.assoc, evt.EVT_DATA_SENT, {"data": bytestream})


class DeadlineAE(AE):
    """pynetdicom's AE whose requested associations use :class:`DeadlineSocket`."""

    def _create_socket(
        self,
        assoc: Association,
        address: AddressInformation,
        tls_args: tuple[ssl.SSLContext, str] | None,
    ) -> AssociationSocket:
        sock = DeadlineSocket(assoc, address=address)
        sock.tls_args = tls_args
        return sock


class _DeadlineRequestHandler(RequestHandler):
    """pynetdicom's handler of an accepted connection, its socket a :class:`DeadlineSocket`.

    pynetdicom builds the accepted association's socket inline; it is made a
    deadline socket in place (the subclass adds methods and two fields), so
    that a peer trickling its A-ASSOCIATE-RQ or an N-EVENT-REPORT holds no
    thread of ours past the timeout.
    """

    def _create_association(self) -> Association:
        assoc = super()._create_association()
        sock = assoc.dul.socket
        assert isinstance(sock, AssociationSocket)
        sock.__class__ = DeadlineSocket
        sock.timed_out = False  # type: ignore[attr-defined]
        sock._body = None  # type: ignore[attr-defined]
        return assoc


def start_deadline_server(
    ae: AE, address: tuple[str, int], evt_handlers: list[Any]
) -> ThreadedAssociationServer:
    """``ae.start_server(address, block=False, ...)`` whose associations read by deadlines.

    Each PDU of an accepted association must be whole within ``ae.network_timeout``
    of its first byte (:class:`DeadlineSocket`).
    """
    server = ae.make_server(
        address,
        evt_handlers=evt_handlers,
        server_class=ThreadedAssociationServer,
        request_handler=_DeadlineRequestHandler,
    )
    thread = threading.Thread(target=server.serve_forever, name="deadline-acceptor", daemon=True)
    thread.start()
    ae._servers.append(server)  # as start_server does: ae.shutdown() stops it too
    return server
