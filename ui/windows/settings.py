"""Settings: what this kiosk is configured to talk to, with a connection test for each peer.

The configuration itself is a file (support staff edit it; its path is shown);
this window lets anyone check, with one click, that each peer answers.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kiosk.app.check_connection import echo_peer
from kiosk.app.check_connection import peers as peers_of
from kiosk.app.values import EchoResult
from kiosk.config import Config, Destination
from kiosk.errors import KioskError
from ui.operations import Op, Runner


class SettingsWindow(QWidget):
    """A read-only view of the configuration with a "Test connection" button per peer."""

    def __init__(self, config: Config, runner: Runner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.config = config
        self.runner = runner
        self.setWindowTitle("Settings")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Configuration file: {config.path}"))
        layout.addWidget(
            QLabel(f"Station {config.station}, our AE title {config.ae_title}, "
                   f"spool {config.spool_dir}")
        )  # fmt: skip
        peers = QGroupBox("Peers")
        grid = QGridLayout(peers)
        #: One result label per peer name, after a test.
        self.results: dict[str, QLabel] = {}
        #: One test button per peer name.
        self.buttons: dict[str, QPushButton] = {}
        rows = peers_of(config)
        for row, (name, peer) in enumerate(rows):
            grid.addWidget(QLabel(f"<b>{peer.label or name}</b>"), row, 0)
            extras = []
            if peer.tls:
                extras.append("TLS")
            if peer.storage_commitment:
                extras.append("storage commitment")
            grid.addWidget(
                QLabel(
                    f"{peer.ae_title} at {peer.host}:{peer.port}"
                    + (f" ({', '.join(extras)})" if extras else "")
                ),
                row,
                1,
            )
            button = QPushButton("Test connection")
            button.clicked.connect(lambda _=False, p=peer, n=name: self.test(n, p))
            grid.addWidget(button, row, 2)
            result = QLabel("")
            grid.addWidget(result, row, 3)
            self.buttons[name] = button
            self.results[name] = result
        layout.addWidget(peers)
        layout.addStretch(1)
        self.resize(900, 300)

    def test(self, name: str, peer: Destination) -> None:
        """C-ECHO one peer and show the answer beside it."""
        label = self.results[name]
        label.setText("testing …")

        def done(result: EchoResult) -> None:
            label.setText(f"answers ({result.seconds * 1000:.0f} ms)")

        def failed(exc: Exception) -> None:
            label.setText(str(exc) if isinstance(exc, KioskError) else f"error: {exc}")

        config = self.config
        Op(lambda _events: echo_peer(config, peer), done, failure=failed).run_in(self.runner)
