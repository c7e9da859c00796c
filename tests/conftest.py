"""Shared pytest fixtures: real DICOM peers on free loopback ports.

The peers themselves live in ``tests/peers.py`` (plain classes, usable from
benchmarks). Each fixture here is function-scoped: a fresh process, a fresh
temporary folder and fresh ports per test. Start-up takes 0.05 s for the DCMTK
servers and about 0.2 s for Orthanc, so there is nothing to gain from sharing.

A missing binary makes the test skip, naming the apt package to install. The
autouse fixture ``_no_dangling_peers`` stops any peer a test left running and
fails that test, so no process outlives the test that started it.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

# Qt widgets are tested offscreen unless a display was chosen on purpose (e.g. Xvfb).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from kiosk.store import db
from tests.peers import (
    ManagedServer,
    OrthancServer,
    PeerUnavailable,
    StorageServer,
    WorklistServer,
    running_peers,
    stop_all_peers,
)

S = TypeVar("S", bound=ManagedServer)


def _serve(server: S) -> Iterator[S]:
    """Start ``server``, yield it, and always stop it afterwards."""
    try:
        server.start()
    except PeerUnavailable as exc:
        server.close()
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def worklist_server(tmp_path: Path) -> Iterator[WorklistServer]:
    """DCMTK ``wlmscpfs``, called AE ``WLMTEST``; add items with ``add_item(**fields)``."""
    yield from _serve(WorklistServer(tmp_path / "wlmscpfs", ae_title="WLMTEST"))


@pytest.fixture
def storage_server(tmp_path: Path) -> Iterator[StorageServer]:
    """DCMTK ``storescp`` (AE ``STORESCP``) accepting every transfer syntax it supports."""
    yield from _serve(StorageServer(tmp_path / "storescp", ae_title="STORESCP"))


@pytest.fixture
def picky_storage_server(tmp_path: Path) -> Iterator[StorageServer]:
    """DCMTK ``storescp`` (AE ``PICKYSCP``) accepting only uncompressed transfer syntaxes."""
    yield from _serve(
        StorageServer(tmp_path / "storescp-picky", ae_title="PICKYSCP", accept_all=False)
    )


@pytest.fixture
def orthanc_server(tmp_path: Path) -> Iterator[OrthancServer]:
    """Orthanc (AE ``ORTHANC``) with an empty database; the kiosk is modality ``KIOSK``.

    ``orthanc_server.kiosk_port`` is where Orthanc sends storage commitment
    reports; change it with ``orthanc_server.set_modality("KIOSK", "KIOSK", port)``.
    """
    yield from _serve(OrthancServer(tmp_path / "orthanc", aet="ORTHANC", kiosk_aet="KIOSK"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A kiosk database of the test's own, migrated."""
    conn = db.connect(tmp_path / "kiosk.sqlite3")
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's config, data and logs out of the real user's folders."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / "xdg" / var.lower()))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)


@pytest.fixture(autouse=True)
def _signed_out() -> Iterator[None]:
    """No test inherits another's signed-in user (the session is the process's)."""
    from kiosk import access

    access.sign_out()
    yield
    access.sign_out()


@pytest.fixture(autouse=True)
def _no_dangling_peers() -> Iterator[None]:
    """Fail a test that leaves a peer process running (after stopping it).

    Autouse fixtures are set up before, hence torn down after, the peer
    fixtures above, so by the time this runs every fixture-owned peer is gone.
    """
    before = {id(peer) for peer in running_peers()}
    yield
    leftovers = [peer for peer in running_peers() if id(peer) not in before]
    described = ", ".join(repr(peer) for peer in leftovers)
    for peer in leftovers:
        peer.close()
    if leftovers:
        pytest.fail(f"test left peer processes running (now stopped): {described}")


@pytest.fixture(autouse=True)
def _no_dangling_threads() -> Iterator[None]:
    """Fail a test that leaves a Python thread running (a send worker, a server loop).

    Threads that Qt or C code started show up as ``_DummyThread`` and are left
    out; a thread gets two seconds to finish after the test.
    """
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while True:
        left = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not isinstance(t, threading._DummyThread)
        ]
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if left:
        pytest.fail(f"test left threads running: {', '.join(t.name for t in left)}")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Last line of defence (e.g. after an interrupted run)."""
    stop_all_peers()
