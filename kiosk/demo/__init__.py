"""The demo: embedded peers and a synthetic outside-hospital disc (``kiosk --demo``, tests).

Kept apart from the services: nothing in ``kiosk/`` outside this package
imports it. :mod:`kiosk.demo.peers` runs a worklist SCP and two PACS on
loopback; :mod:`kiosk.demo.sample_disc` writes the disc they match.
"""

from kiosk.demo.peers import DemoPeers
from kiosk.demo.sample_disc import make_sample_disc

__all__ = ["DemoPeers", "make_sample_disc"]
