"""Use case: test the connection to a destination or to the worklist (C-ECHO)."""

from __future__ import annotations

from kiosk.config import Config, Destination
from kiosk.send.echo import EchoResult, echo


def peers(config: Config) -> list[tuple[str, Destination]]:
    """Every peer of the config by name: the worklist (if any), then the destinations."""
    rows: list[tuple[str, Destination]] = []
    if config.worklist is not None:
        wl = config.worklist
        rows.append(
            (
                "worklist",
                Destination(
                    wl.ae_title,
                    wl.host,
                    wl.port,
                    timeout=wl.timeout,
                    name="worklist",
                    label="Modality Worklist",
                    tls=wl.tls,
                    tls_cert=wl.tls_cert,
                    tls_key=wl.tls_key,
                    tls_ca=wl.tls_ca,
                ),
            )
        )
    return rows + list(config.destinations.items())


def echo_peer(config: Config, peer: Destination) -> EchoResult:
    """C-ECHO ``peer`` from our AE title.

    Raises
    ------
    PeerError
        If it cannot be reached, refuses us, or does not confirm the echo.
    """
    return echo(peer, config.ae_title)


def echo_destination(config: Config, name: str) -> tuple[Destination, EchoResult]:
    """C-ECHO the destination called ``name`` (``UsageError`` if there is none)."""
    dest = config.destination(name)
    return dest, echo(dest, config.ae_title)
