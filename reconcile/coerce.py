"""Tag coercion the IHE Import Reconciliation Workflow way (IRWF.b).

A :class:`CoercionPlan` says what changes; :func:`apply_coercion` applies it
to a dataset. The outside identifiers are never lost: the original Patient ID
and issuer go to Other Patient IDs Sequence, and every replaced value is kept
in Original Attributes Sequence with who, when and why. Pixel data is never
touched.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime

from pydicom.datadict import dictionary_VR
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from reconcile.model import TargetIdentity
from reconcile.rules import CoercionRules
from reconcile.uids import INSTANCE_UID_KEYWORDS, remap_uids

#: Attributes coerced from the target identity, in order.
IDENTITY_KEYWORDS = (
    "PatientID",
    "IssuerOfPatientID",
    "PatientName",
    "PatientBirthDate",
    "PatientSex",
    "AccessionNumber",
)


@dataclass(frozen=True)
class Change:
    """One attribute whose value changes; ``old`` is None when it was absent."""

    keyword: str
    old: str | None
    new: str


@dataclass(frozen=True)
class CoercionPlan:
    """What coercion does to one dataset."""

    changes: tuple[Change, ...]
    original_patient_id: str
    original_issuer: str
    target: TargetIdentity
    uid_map: dict[str, str] = field(default_factory=dict)
    reason: str = "COERCE"

    @property
    def changed_keywords(self) -> list[str]:
        """Keywords of the attributes that change."""
        return [c.keyword for c in self.changes]


def _value(ds: Dataset, keyword: str) -> str | None:
    if keyword not in ds:
        return None
    value = ds.data_element(keyword)
    if value is None or value.value is None:
        return ""
    return str(value.value)


def plan_coercion(
    ds: Dataset,
    target: TargetIdentity,
    rules: CoercionRules | None = None,
    uid_map: dict[str, str] | None = None,
) -> CoercionPlan:
    """Work out which identity attributes of ``ds`` change to reach ``target``.

    Parameters
    ----------
    rules
        What may change; ``None`` for the IRWF.b defaults.
    uid_map
        Old to new UIDs of the whole study, when the study gets new UIDs.
    """
    rules = rules or CoercionRules()
    if not rules.replace_demographics:
        target = dataclasses.replace(target, patient_name=None, birth_date=None, sex=None)
    wanted: dict[str, str | None] = {
        "PatientID": target.mrn,
        "IssuerOfPatientID": target.issuer or None,
        "PatientName": target.patient_name,
        "PatientBirthDate": target.birth_date,
        "PatientSex": target.sex,
        "AccessionNumber": target.accession_number or None,
    }
    changes = []
    for keyword in IDENTITY_KEYWORDS:
        new = wanted[keyword]
        if new is None:
            continue
        old = _value(ds, keyword)
        if old != new:
            changes.append(Change(keyword, old, new))
    if uid_map:
        for keyword in INSTANCE_UID_KEYWORDS:
            old = _value(ds, keyword)
            if old and old in uid_map:
                changes.append(Change(keyword, old, uid_map[old]))
    return CoercionPlan(
        changes=tuple(changes),
        uid_map=dict(uid_map or {}),
        reason=rules.reason,
        original_patient_id=_value(ds, "PatientID") or "",
        original_issuer=_value(ds, "IssuerOfPatientID") or "",
        target=target,
    )


def apply_coercion(
    ds: Dataset,
    plan: CoercionPlan,
    *,
    modifying_system: str,
    when: datetime,
    reason: str | None = None,
    source_of_previous_values: str = "",
) -> None:
    """Apply a plan to ``ds`` in place.

    Parameters
    ----------
    ds
        The dataset to change (a copy from the spool, never the medium).
    plan
        From :func:`plan_coercion` on the same dataset.
    modifying_system
        Who changed it (our station or AE title): Modifying System.
    when
        When it was changed: Attribute Modification DateTime.
    reason
        Reason for the Attribute Modification, ``COERCE`` or ``CORRECT``;
        ``None`` takes the plan's (from the rules).
    source_of_previous_values
        The outside institution or issuer the old values came from.
    """
    if not plan.changes:
        return
    originals = Dataset()
    for change in plan.changes:
        if change.old is not None:
            # A copy: setting the new value below changes the element in place.
            originals.add(copy.deepcopy(ds[change.keyword]))
        else:
            setattr(originals, change.keyword, None)
    for change in plan.changes:
        # A new element with the standard's VR: a disc may have given the old one a wrong
        # VR (explicit VR files say what they like), which the new value must not inherit.
        tag = Tag(change.keyword)
        if tag in ds:
            del ds[tag]
        ds.add_new(tag, dictionary_VR(tag), change.new)
    if plan.uid_map:
        remap_uids(ds, plan.uid_map)  # references inside the study follow

    patient_id_changes = plan.original_patient_id and any(
        c.keyword == "PatientID" for c in plan.changes
    )
    if patient_id_changes:
        other = Dataset()
        other.PatientID = plan.original_patient_id
        if plan.original_issuer:
            other.IssuerOfPatientID = plan.original_issuer
        other.TypeOfPatientID = "TEXT"
        existing = ds.get("OtherPatientIDsSequence")
        items = list(existing) if existing is not None else []
        if not any(
            i.get("PatientID") == other.PatientID
            and i.get("IssuerOfPatientID", "") == other.get("IssuerOfPatientID", "")
            for i in items
        ):
            items.append(other)
        ds.OtherPatientIDsSequence = Sequence(items)

    target = plan.target
    if target.accession_number:
        request = Dataset()
        request.AccessionNumber = target.accession_number
        if target.requested_procedure_id:
            request.RequestedProcedureID = target.requested_procedure_id
        if target.requested_procedure_description:
            request.RequestedProcedureDescription = target.requested_procedure_description
        if target.scheduled_step_id:
            request.ScheduledProcedureStepID = target.scheduled_step_id
        ds.RequestAttributesSequence = Sequence([request])

    record = Dataset()
    record.ModifiedAttributesSequence = Sequence([originals])
    record.AttributeModificationDateTime = when.strftime("%Y%m%d%H%M%S")
    record.ModifyingSystem = modifying_system[:64]
    record.ReasonForTheAttributeModification = reason or plan.reason
    record.SourceOfPreviousValues = source_of_previous_values[:64]
    existing_orig = ds.get("OriginalAttributesSequence")
    ds.OriginalAttributesSequence = Sequence(
        [*(list(existing_orig) if existing_orig is not None else []), record]
    )
