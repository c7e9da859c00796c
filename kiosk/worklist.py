"""Modality Worklist client: C-FIND on the hospital's MWL SCP."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pynetdicom.sop_class import ModalityWorklistInformationFind  # type: ignore[attr-defined]

from kiosk.config import Peer
from kiosk.dicom_net import associate, make_ae
from kiosk.errors import PeerError, UsageError
from reconcile.model import WorklistItem

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorklistQuery:
    """What to look for; empty fields match everything."""

    mrn: str = ""
    accession: str = ""
    name: str = ""
    dob: str = ""
    date: str = ""
    modality: str = ""

    def is_empty(self) -> bool:
        """True when nothing narrows the query."""
        return not any((self.mrn, self.accession, self.name, self.dob, self.date, self.modality))


def _identifier(query: WorklistQuery) -> Dataset:
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName = query.name
    ds.PatientID = query.mrn
    ds.IssuerOfPatientID = ""
    ds.PatientBirthDate = query.dob
    ds.PatientSex = ""
    ds.AccessionNumber = query.accession
    ds.RequestedProcedureID = ""
    ds.RequestedProcedureDescription = ""
    ds.StudyInstanceUID = ""
    ds.RequestingService = ""
    step = Dataset()
    step.Modality = query.modality
    step.ScheduledStationAETitle = ""
    step.ScheduledProcedureStepStartDate = query.date
    step.ScheduledProcedureStepStartTime = ""
    step.ScheduledProcedureStepID = ""
    step.ScheduledProcedureStepDescription = ""
    step.ScheduledProcedureStepLocation = ""
    ds.ScheduledProcedureStepSequence = Sequence([step])
    return ds


def _text(ds: Dataset, keyword: str) -> str:
    value = ds.get(keyword)
    return "" if value is None else str(value)


def item_from_dataset(ds: Dataset) -> WorklistItem:
    """Turn one C-FIND response identifier into a :class:`WorklistItem`."""
    steps = ds.get("ScheduledProcedureStepSequence") or [Dataset()]
    step = steps[0]
    department = _text(ds, "RequestingService") or _text(step, "ScheduledProcedureStepLocation")
    return WorklistItem(
        mrn=_text(ds, "PatientID"),
        issuer=_text(ds, "IssuerOfPatientID"),
        accession_number=_text(ds, "AccessionNumber"),
        patient_name=_text(ds, "PatientName"),
        birth_date=_text(ds, "PatientBirthDate"),
        sex=_text(ds, "PatientSex"),
        requested_procedure=_text(ds, "RequestedProcedureDescription"),
        requested_procedure_id=_text(ds, "RequestedProcedureID"),
        scheduled_step_id=_text(step, "ScheduledProcedureStepID"),
        scheduled_date=_text(step, "ScheduledProcedureStepStartDate"),
        modality=_text(step, "Modality"),
        department=department,
        study_instance_uid=_text(ds, "StudyInstanceUID"),
    )


def find(peer: Peer | None, calling_ae: str, query: WorklistQuery) -> list[WorklistItem]:
    """Query the Modality Worklist.

    Raises
    ------
    UsageError
        If no worklist is configured.
    PeerError
        If the worklist cannot be reached, refuses, or fails the query.
    """
    if peer is None:
        raise UsageError("no [worklist] is configured; add ae_title, host and port to the config")
    ae = make_ae(calling_ae)
    ae.add_requested_context(ModalityWorklistInformationFind)
    assoc = associate(ae, peer, "worklist")
    items: list[WorklistItem] = []
    failure: str | None = None
    try:
        for status, identifier in assoc.send_c_find(
            _identifier(query), ModalityWorklistInformationFind
        ):
            if not status:
                failure = "no answer (timed out or the connection dropped)"
                break
            code = int(status.Status)
            if code in (0xFF00, 0xFF01):
                if identifier is not None:
                    items.append(item_from_dataset(identifier))
            elif code == 0x0000:
                break
            else:
                failure = f"status 0x{code:04X}"
                break
    finally:
        if assoc.is_established:
            assoc.release()
    if failure:
        raise PeerError(
            f"the worklist {peer.ae_title} at {peer.host}:{peer.port} failed the query "
            f"({failure}); try again or call the RIS team"
        )
    log.info("worklist query returned %d items", len(items))
    return items
