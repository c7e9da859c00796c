"""Confirm that an MRN is a patient of ours, when no worklist order names it.

An import without an order must not invent a patient: the MRN the clerk
typed or scanned is asked of the destination PACS and of the configured
patient source (``[patient_source]``), by a patient-level C-FIND. What they
answer (name, birth date, sex) becomes the identity the study is sent under,
and the disc's demographics are checked against it. A source that cannot be
reached, or does not answer C-FIND, confirms nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kiosk.config import Config, Destination
from kiosk.errors import PeerError, SafetyError
from kiosk.send.duplicates import find_patient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConfirmedPatient:
    """A patient as a source of ours knows them."""

    source: str  # who confirmed: the PACS's label, or "patient source"
    patient_id: str
    issuer: str
    patient_name: str
    birth_date: str
    sex: str


def confirm_mrn(config: Config, destination: str, mrn: str) -> ConfirmedPatient | None:
    """Ask the destination PACS, then the patient source, whether they know ``mrn``.

    Returns ``None`` when none of them confirms it (the study is then held).
    """
    sources: list[Destination] = [config.destination(destination)]
    if config.patient_source is not None:
        sources.append(config.patient_source)
    for peer in sources:
        label = peer.label or peer.name
        try:
            found = find_patient(peer, config.ae_title, mrn, config.issuer_of_patient_id)
        except (PeerError, SafetyError) as exc:
            log.info("MRN not confirmed by %s: %s", label, exc)
            continue
        if found is not None:
            return ConfirmedPatient(
                source=label,
                patient_id=found.patient_id,
                issuer=found.issuer,
                patient_name=found.patient_name,
                birth_date=found.birth_date,
                sex=found.sex,
            )
    return None
