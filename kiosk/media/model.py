"""What a medium holds: instances, grouped into patients, studies and series."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.media.problems import Problem


@dataclass(frozen=True)
class MediaInstance:
    """One DICOM instance on a medium, with the identity it carries."""

    relpath: str
    sop_instance_uid: str
    sop_class_uid: str
    transfer_syntax_uid: str
    patient_id: str
    issuer_of_patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    study_instance_uid: str
    study_date: str
    study_description: str
    accession_number: str
    series_instance_uid: str
    modality: str
    series_number: str
    series_description: str
    instance_number: str = ""
    verified: bool = True
    """False while the values come from DICOMDIR records only (see ``MediaScan.study``)."""


@dataclass
class SeriesSummary:
    """A series on the medium."""

    series_instance_uid: str
    modality: str
    series_number: str
    series_description: str
    instances: list[MediaInstance] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "series_instance_uid": self.series_instance_uid,
            "modality": self.modality,
            "series_number": self.series_number,
            "series_description": self.series_description,
            "instances": len(self.instances),
        }


@dataclass
class StudySummary:
    """A study on the medium."""

    study_instance_uid: str
    study_date: str
    study_description: str
    accession_number: str
    patient_id: str
    issuer_of_patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    series: list[SeriesSummary] = field(default_factory=list)

    @property
    def modalities(self) -> list[str]:
        """Distinct modalities of the study's series, in order of appearance."""
        seen: list[str] = []
        for s in self.series:
            if s.modality and s.modality not in seen:
                seen.append(s.modality)
        return seen

    @property
    def instances(self) -> list[MediaInstance]:
        """Every instance of the study."""
        return [i for s in self.series for i in s.instances]

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "study_instance_uid": self.study_instance_uid,
            "study_date": self.study_date,
            "study_description": self.study_description,
            "accession_number": self.accession_number,
            "modalities": self.modalities,
            "instances": len(self.instances),
            "series": [s.to_json() for s in self.series],
        }


@dataclass
class PatientSummary:
    """A patient on the medium, as the outside hospital identified them."""

    patient_id: str
    issuer_of_patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    studies: list[StudySummary] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "birth_date": self.birth_date,
            "sex": self.sex,
            "studies": [s.to_json() for s in self.studies],
        }


@dataclass
class MediaScan:
    """The result of reading a medium."""

    source: Path
    root: Path
    dicomdir: bool
    instances: list[MediaInstance]
    problems: list[Problem]
    non_dicom: list[str]
    label: str = ""
    """The volume label (an image's volume identifier, else the mount folder's name)."""

    @property
    def patients(self) -> list[PatientSummary]:
        """Group the instances into patients, studies and series."""
        return group(self.instances)

    @property
    def studies(self) -> list[StudySummary]:
        """Every study on the medium."""
        return [s for p in self.patients for s in p.studies]

    def study(self, study_instance_uid: str) -> StudySummary | None:
        """Return the study with that UID, its files checked against their own headers.

        Instances listed from DICOMDIR records only (a quick scan) are read
        first, so what the importer gets is what the files say.
        """
        pending = [
            i
            for i in self.instances
            if not i.verified and i.study_instance_uid == study_instance_uid
        ]
        if pending:
            from kiosk.media.scan import verify_instances

            verify_instances(self, pending)
        for s in self.studies:
            if s.study_instance_uid == study_instance_uid:
                return s
        return None

    @property
    def verified(self) -> bool:
        """True when every instance was read from its own file's header."""
        return all(i.verified for i in self.instances)

    def verify(self) -> None:
        """Read the headers of every instance still known from DICOMDIR records only."""
        from kiosk.media.scan import verify_instances

        verify_instances(self, [i for i in self.instances if not i.verified])

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form of ``kiosk scan``."""
        return {
            "source": str(self.source),
            "dicomdir": self.dicomdir,
            "patients": [p.to_json() for p in self.patients],
            "instances": len(self.instances),
            "problems": [p.to_json() for p in self.problems],
            "non_dicom": self.non_dicom,
        }


def group(instances: Iterable[MediaInstance]) -> list[PatientSummary]:
    """Group instances by patient (ID, issuer, name, birth date), study and series.

    A study is listed under the first patient identity it was seen with; the
    same Study Instance UID under two identities is grouped by identity so
    that a person sees the conflict instead of a silent merge.
    """
    patients: dict[tuple[str, str, str, str], PatientSummary] = {}
    studies: dict[tuple[tuple[str, str, str, str], str], StudySummary] = {}
    series: dict[tuple[tuple[str, str, str, str], str, str], SeriesSummary] = {}
    for inst in instances:
        pkey = (inst.patient_id, inst.issuer_of_patient_id, inst.patient_name, inst.birth_date)
        patient = patients.get(pkey)
        if patient is None:
            patient = PatientSummary(
                inst.patient_id,
                inst.issuer_of_patient_id,
                inst.patient_name,
                inst.birth_date,
                inst.sex,
            )
            patients[pkey] = patient
        skey = (pkey, inst.study_instance_uid)
        study = studies.get(skey)
        if study is None:
            study = StudySummary(
                inst.study_instance_uid,
                inst.study_date,
                inst.study_description,
                inst.accession_number,
                inst.patient_id,
                inst.issuer_of_patient_id,
                inst.patient_name,
                inst.birth_date,
                inst.sex,
            )
            studies[skey] = study
            patient.studies.append(study)
        sekey = (pkey, inst.study_instance_uid, inst.series_instance_uid)
        ser = series.get(sekey)
        if ser is None:
            ser = SeriesSummary(
                inst.series_instance_uid,
                inst.modality,
                inst.series_number,
                inst.series_description,
            )
            series[sekey] = ser
            study.series.append(ser)
        ser.instances.append(inst)
    for study in studies.values():
        study.series.sort(key=lambda s: (_as_int(s.series_number), s.series_instance_uid))
        for ser in study.series:
            ser.instances.sort(key=lambda i: (_as_int(i.instance_number), i.relpath))
    return list(patients.values())


def _as_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
