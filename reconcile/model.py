"""Plain data of identity reconciliation: worklist items and target identities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class WorklistItem:
    """One scheduled procedure step from the hospital's Modality Worklist."""

    mrn: str
    issuer: str
    accession_number: str
    patient_name: str
    birth_date: str
    sex: str
    requested_procedure: str = ""
    requested_procedure_id: str = ""
    scheduled_step_id: str = ""
    scheduled_date: str = ""
    modality: str = ""
    department: str = ""
    study_instance_uid: str = ""
    #: Requested Procedure Code (code value and meaning) and the step's description:
    #: what the relevant-prior scoring reads besides ``requested_procedure``.
    procedure_code: str = ""
    step_description: str = ""

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form of ``kiosk worklist``."""
        return {
            "mrn": self.mrn,
            "issuer": self.issuer,
            "accession_number": self.accession_number,
            "patient_name": self.patient_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "requested_procedure": self.requested_procedure,
            "scheduled_date": self.scheduled_date,
            "modality": self.modality,
            "department": self.department,
        }


@dataclass(frozen=True)
class TargetIdentity:
    """Who and what order a study is reconciled to: our MRN and, if any, our accession.

    Demographics (name, birth date, sex) are ``None`` when they are not to be
    replaced; an empty accession means the study is unscheduled.
    """

    mrn: str
    issuer: str = ""
    patient_name: str | None = None
    birth_date: str | None = None
    sex: str | None = None
    accession_number: str = ""
    requested_procedure_id: str = ""
    requested_procedure_description: str = ""
    scheduled_step_id: str = ""

    @classmethod
    def from_worklist(cls, item: WorklistItem, *, demographics: bool = True) -> TargetIdentity:
        """Build the target identity from a worklist item (the IRWF.b scheduled case)."""
        return cls(
            mrn=item.mrn,
            issuer=item.issuer,
            patient_name=item.patient_name if demographics else None,
            birth_date=item.birth_date if demographics else None,
            sex=item.sex if demographics else None,
            accession_number=item.accession_number,
            requested_procedure_id=item.requested_procedure_id,
            requested_procedure_description=item.requested_procedure,
            scheduled_step_id=item.scheduled_step_id,
        )
