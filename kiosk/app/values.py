"""The value types the front ends hold, named from one place.

They are defined next to the services that make them; the command line and
the window import them from here, so that neither imports a module that
does network or SQL work (the import-linter contracts in ``pyproject.toml``).
"""

from __future__ import annotations

from kiosk.audit import AuditEvent
from kiosk.corrections import CorrectionRecord
from kiosk.importer import ImportOutcome, ImportRequest
from kiosk.lifecycle import Actor
from kiosk.recovery import IncompleteStudy, Recovery
from kiosk.send.deliver import DeliveryReport
from kiosk.send.duplicates import DuplicateCheck, StudyOnPacs
from kiosk.send.echo import EchoResult
from kiosk.store.health import DestinationDown
from kiosk.store.second_reads import SecondReadRecord, TagRecord
from kiosk.store.studies import StudyRecord, StudyState
from kiosk.tags import TagChange
from kiosk.worklist import WorklistQuery

__all__ = [
    "Actor",
    "AuditEvent",
    "CorrectionRecord",
    "DeliveryReport",
    "DestinationDown",
    "DuplicateCheck",
    "EchoResult",
    "ImportOutcome",
    "ImportRequest",
    "IncompleteStudy",
    "Recovery",
    "SecondReadRecord",
    "StudyOnPacs",
    "StudyRecord",
    "StudyState",
    "TagChange",
    "TagRecord",
    "WorklistQuery",
]
