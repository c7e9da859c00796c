"""What a medium holds: instances, grouped into patients, studies and series."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

from kiosk.errors import SafetyError, UsageError
from kiosk.media.names import shown
from kiosk.media.problems import Problem
from reconcile.match import normal_sex
from reconcile.names import name_groups

PatientKey = tuple[str, str, str, str]
"""An outside patient: (PatientID, IssuerOfPatientID, PatientName, PatientBirthDate)."""


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
    """False while the values come from DICOMDIR records only (see ``scan.verify``)."""
    uid_valid: bool = True
    """False if a Study, Series, SOP Instance or SOP Class UID is not a valid UID (PS3.5 9.1)."""
    body_part: str = ""
    """BodyPartExamined, read from the file (not from DICOMDIR records)."""

    @property
    def patient_key(self) -> PatientKey:
        """The outside patient this instance belongs to."""
        return (self.patient_id, self.issuer_of_patient_id, self.patient_name, self.birth_date)


@dataclass(frozen=True)
class LostInstance:
    """An image the DICOMDIR lists whose file cannot be read, known by its record alone.

    It goes with its study as an instance that is never sent (quarantined,
    named to the back office), so that an import of the study does not say
    everything went while the study lacks it.
    """

    listed: MediaInstance
    why: str
    #: Another image of the same study under a SOP Instance UID the study keeps for another
    #: file (a UID clash within the study): never sent, and the study's import is partial.
    clash: bool = False

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "path": shown(self.listed.relpath),
            "patient_id": shown(self.listed.patient_id),
            "study_instance_uid": shown(self.listed.study_instance_uid),
            "sop_instance_uid": shown(self.listed.sop_instance_uid),
            "why": self.why,
        }


@dataclass(frozen=True)
class IdentityConflict:
    """One UID that appears under more than one outside patient on a medium.

    ``kind`` is ``"study"`` (a Study Instance UID), ``"series"`` (a Series
    Instance UID: a PACS that keys series by UID alone would file one patient's
    images in the other's series) or ``"instance"`` (a SOP Instance UID);
    ``patients`` are the patient keys it appears under, sorted.
    """

    kind: str  # "study" | "series" | "instance"
    uid: str
    patients: tuple[PatientKey, ...]

    @property
    def patient_ids(self) -> str:
        """The outside PatientIDs, for a message a clerk reads (never the names)."""
        return _patient_ids(self.patients)

    @property
    def message(self) -> str:
        """One line naming the UID and the outside PatientIDs."""
        n, uid, ids = len(self.patients), _shown(self.uid), self.patient_ids
        if self.kind == "study":
            return (
                f"study {uid} appears under {n} patients on this disc (IDs {ids}); "
                "choose the patient and ask the back office to check the disc"
            )
        what = "image" if self.kind == "instance" else "series"
        return (
            f"{what} {uid} is on this disc under {n} patients (IDs {ids}); both copies were "
            "kept and neither study can be imported until a person checks the disc"
        )

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "kind": self.kind,
            "uid": self.uid,
            "patients": [
                {
                    "patient_id": p[0],
                    "issuer_of_patient_id": p[1],
                    "patient_name": p[2],
                    "birth_date": p[3],
                }
                for p in self.patients
            ],
        }


def _patient_ids(keys: Iterable[PatientKey]) -> str:
    """The outside PatientIDs of patient keys, sorted, for a message (never the names)."""
    ids = [_shown(k[0]) for k in sorted(keys)]
    text = ", ".join(ids)
    if len(set(ids)) < len(ids):
        text += "; the same ID with another issuer, name or birth date"
    return text


def _ids(studies: Iterable[StudySummary]) -> str:
    """The outside PatientIDs of studies, for a message (never the names)."""
    return _patient_ids(s.patient_key for s in studies)


def _shown(value: str) -> str:
    """An outside identifier as a clerk may see it: as is if printable, else its ``repr``."""
    if not value:
        return "(none)"
    if value.isprintable() and len(value) <= 80:
        return value
    return repr(value)[:80]


def same_patient(a: MediaInstance, b: MediaInstance) -> bool:
    """Tell whether two instances may belong to the same outside patient.

    The patient keys are compared value by value. A value that a DICOMDIR
    record leaves out (empty in an instance not yet verified) is unknown and
    agrees with anything: a quick scan's records often lack the issuer or the
    birth date that the files carry. Between instances read from their files,
    this is plain equality of the keys.
    """
    for x, y in zip(a.patient_key, b.patient_key, strict=True):
        if x != y and not (not x and not a.verified) and not (not y and not b.verified):
            return False
    return True


_KINDS = ("study", "series", "instance")


def conflicts_of(instances: Iterable[MediaInstance]) -> list[IdentityConflict]:
    """Every Study, Series or SOP Instance UID found under more than one outside patient.

    Two instances are of different patients when :func:`same_patient` says
    so. A Series UID counts only between studies of different Study UIDs (within
    one shared Study UID, the study's conflict says it all, and choosing the
    study by patient keeps the other's images out). Sorted by kind (study,
    series, instance), then UID; each conflict's patient keys sorted (a
    record-only key that agrees with a key read from a file is left out, being
    the same patient).
    """
    by_uid: dict[tuple[int, str], dict[tuple[PatientKey, bool, str], MediaInstance]] = {}
    for inst in instances:
        uids = (inst.study_instance_uid, inst.series_instance_uid, inst.sop_instance_uid)
        for kind, uid in enumerate(uids):
            study = inst.study_instance_uid if kind == 1 else ""
            member = (inst.patient_key, inst.verified, study)
            by_uid.setdefault((kind, uid), {}).setdefault(member, inst)
    out: list[IdentityConflict] = []
    for (kind, uid), members in sorted(by_uid.items()):
        reps = list(members.values())
        if all(
            same_patient(a, b) or (kind == 1 and a.study_instance_uid == b.study_instance_uid)
            for a, b in combinations(reps, 2)
        ):
            continue
        read = [m for m in reps if m.verified]
        keys = {m.patient_key for m in read} | {
            m.patient_key
            for m in reps
            if not m.verified
            and not any(same_patient(m, r) and m.patient_key != r.patient_key for r in read)
        }
        out.append(IdentityConflict(_KINDS[kind], uid, tuple(sorted(keys))))
    return out


@dataclass(frozen=True)
class SeriesSummary:
    """A series on the medium."""

    series_instance_uid: str
    modality: str
    series_number: str
    series_description: str
    instances: tuple[MediaInstance, ...] = ()
    body_part: str = ""  # BodyPartExamined of its first instance

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "series_instance_uid": self.series_instance_uid,
            "modality": self.modality,
            "series_number": self.series_number,
            "series_description": self.series_description,
            "instances": len(self.instances),
        }


@dataclass(frozen=True)
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
    series: tuple[SeriesSummary, ...] = ()

    @property
    def patient_key(self) -> PatientKey:
        """The outside patient the study is listed under."""
        return (self.patient_id, self.issuer_of_patient_id, self.patient_name, self.birth_date)

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


@dataclass(frozen=True)
class PatientSummary:
    """A patient on the medium, as the outside hospital identified them."""

    patient_id: str
    issuer_of_patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    studies: tuple[StudySummary, ...] = ()

    @property
    def key(self) -> PatientKey:
        """The patient key: (PatientID, IssuerOfPatientID, PatientName, PatientBirthDate)."""
        return (self.patient_id, self.issuer_of_patient_id, self.patient_name, self.birth_date)

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form."""
        return {
            "patient_id": self.patient_id,
            "patient_name": self.patient_name,
            "patient_name_groups": name_groups(self.patient_name),
            "birth_date": self.birth_date,
            "sex": self.sex,
            "studies": [s.to_json() for s in self.studies],
        }


@dataclass(frozen=True)
class MediaScan:
    """What a medium holds, as read: a value (nothing here reads the medium).

    The grouping into patients, studies and series and the identity conflicts
    are computed once, when the scan is made. A quick scan's instances taken
    from DICOMDIR records only (``verified`` False) are read from their files
    by :func:`kiosk.media.scan.verify`, which returns a new scan.
    """

    source: Path
    root: Path
    dicomdir: bool
    instances: tuple[MediaInstance, ...]
    problems: tuple[Problem, ...]
    non_dicom: tuple[str, ...]
    label: str = ""
    """The volume label (an image's volume identifier, else the mount folder's name)."""
    keep: object = field(default=None, compare=False, repr=False)
    """What must live as long as the scan (an image's extracted files), passed on by verify."""
    lost: tuple[LostInstance, ...] = ()
    """Images the DICOMDIR lists whose files cannot be read (each also a problem)."""
    signature: str = ""
    """The files as they were when scanned (:func:`kiosk.media.scan.medium_signature`)."""
    unread: tuple[str, ...] = ()
    """On a medium with no DICOMDIR read whole, what may hold images and could not be read
    (a file or folder the system could not read, a DICOM file that cannot be parsed or is
    cut short with no complete copy, a DICOMDIR too damaged or too large to read): an
    import of this medium cannot say it is complete. A DICOMDIR read whole is the disc's
    own list: what it lists and cannot be read is :attr:`lost` instead."""
    patients: tuple[PatientSummary, ...] = field(init=False, compare=False, repr=False)
    """The instances grouped into patients, studies and series (see :func:`group`)."""
    studies: tuple[StudySummary, ...] = field(init=False, compare=False, repr=False)
    """Every study on the medium, patient by patient."""
    conflicts: tuple[IdentityConflict, ...] = field(init=False, compare=False, repr=False)
    """Study and SOP Instance UIDs found under more than one outside patient.

    From the instances as they stand (a quick scan's are what the DICOMDIR
    says until verified); sorted by kind ("study" first) and UID.
    """

    def __post_init__(self) -> None:
        patients = tuple(group(self.instances))
        object.__setattr__(self, "patients", patients)
        object.__setattr__(self, "studies", tuple(s for p in patients for s in p.studies))
        object.__setattr__(self, "conflicts", tuple(conflicts_of(self.instances)))

    @property
    def verified(self) -> bool:
        """True when every instance was read from its own file's header."""
        return all(i.verified for i in self.instances)

    def study(self, study_instance_uid: str) -> StudySummary | None:
        """Return the study with that UID: ``select([study_instance_uid])[0]``, None if absent.

        Raises
        ------
        SafetyError
            As :meth:`select`.
        """
        if not any(s.study_instance_uid == study_instance_uid for s in self.studies):
            return None
        return self.select([study_instance_uid])[0]

    def select(
        self, study_uids: Sequence[str], patient_id: str | None = None
    ) -> list[StudySummary]:
        """Choose studies by outside patient and Study Instance UID, never by UID alone.

        Each returned study holds only its own outside patient's instances.
        Their files must have been read (:func:`kiosk.media.scan.verify`):
        what the importer gets is what the files say, never the DICOMDIR.

        Parameters
        ----------
        study_uids
            The Study Instance UIDs; a repeated one counts once (order kept).
        patient_id
            The outside PatientID the studies are under; needed when a UID
            appears under more than one patient on the medium.

        Raises
        ------
        UsageError
            A UID is not on the medium, or not under ``patient_id``.
        SafetyError
            A UID appears under more than one patient and ``patient_id`` does
            not tell them apart, a chosen study holds an image whose SOP
            Instance UID another patient's file carries (a person must check),
            or a chosen study's files were not read yet.
        """
        uids = list(dict.fromkeys(study_uids))
        shared = {c.uid for c in self.conflicts if c.kind == "instance"}
        shared_series = {c.uid for c in self.conflicts if c.kind == "series"}
        chosen: list[StudySummary] = []
        for uid in uids:
            shown = _shown(uid)
            found = [s for s in self.studies if s.study_instance_uid == uid]
            if not found:
                raise UsageError(
                    f"study {shown} is not on this medium; run 'kiosk scan' to list them"
                )
            mine = found if patient_id is None else [s for s in found if s.patient_id == patient_id]
            if not mine:
                raise UsageError(
                    f"study {shown} is not under outside patient {_shown(patient_id or '')} "
                    f"on this medium (it is under ID {_ids(found)}); run 'kiosk scan' to list them"
                )
            sops = {i.sop_instance_uid for s in found for i in s.instances}
            if any(
                not i.verified and (i.study_instance_uid == uid or i.sop_instance_uid in sops)
                for i in self.instances
            ):
                raise SafetyError(
                    f"study {shown} is known from the DICOMDIR only; its files must be read "
                    "before it is chosen (kiosk.media.scan.verify)"
                )
            if len(mine) > 1:
                what = (
                    "choose the patient (--patient ID) and ask the back office to check the disc"
                    if patient_id is None
                    else "the ID does not tell them apart: ask the back office to check the disc"
                )
                raise SafetyError(
                    f"study {shown} appears under {len(mine)} patients on this disc "
                    f"(IDs {_ids(mine)}); {what}"
                )
            held = [("image", i.sop_instance_uid) for i in mine[0].instances] + [
                ("series", se.series_instance_uid) for se in mine[0].series
            ]
            for what, held_uid in held:
                if held_uid in (shared if what == "image" else shared_series):
                    raise SafetyError(
                        f"study {shown} holds {what} {_shown(held_uid)}, which another patient's "
                        "study on this disc also holds; we cannot tell whose it is (a PACS "
                        "may file one's images with the other's): hold the disc for the back "
                        "office to check"
                    )
            chosen.append(mine[0])
        return chosen

    def clashes_of(self, study_instance_uid: str) -> list[LostInstance]:
        """The images of a study left out because another image of it has their SOP Instance
        UID (:attr:`LostInstance.clash`): a PACS keeps one image per UID."""
        return [
            lost
            for lost in self.lost
            if lost.clash and lost.listed.study_instance_uid == study_instance_uid
        ]

    def lost_of(self, study: StudySummary) -> list[LostInstance]:
        """The images the DICOMDIR lists under ``study``'s UID that cannot be read, one per
        SOP Instance UID, but for one a readable file of the study carries.

        By the Study UID alone, whatever patient the DICOMDIR names (it may
        disagree with the files): such an image is never sent, only named as
        missing from the study, so that its import does not say it is whole.
        """
        have = {i.sop_instance_uid for i in study.instances}
        out: dict[str, LostInstance] = {}
        for lost in self.lost:
            listed = lost.listed
            if (
                listed.study_instance_uid == study.study_instance_uid
                and listed.sop_instance_uid
                and listed.sop_instance_uid not in have
            ):
                out.setdefault(listed.sop_instance_uid, lost)
        return list(out.values())

    def to_json(self) -> dict[str, Any]:
        """Return the ``CLI.md`` JSON form of ``kiosk scan``."""
        return {
            "source": shown(str(self.source)),
            "dicomdir": self.dicomdir,
            "patients": [p.to_json() for p in self.patients],
            "instances": len(self.instances),
            "problems": [p.to_json() for p in self.problems],
            "non_dicom": [shown(rel) for rel in self.non_dicom],
            "conflicts": [c.to_json() for c in self.conflicts],
            "lost": [lost.to_json() for lost in self.lost],
        }


def _study_sex(first: str, members: Iterable[MediaInstance]) -> str:
    """The sex a study's images give: the first known one (``M``, ``F``, in any spelling),
    not merely the first image's, which may say ``O`` or nothing while the rest say ``M``
    (each image is then checked against it, :class:`kiosk.coercion.DiscIdentity`)."""
    return next((sex for m in members if (sex := normal_sex(m.sex))), first)


def group(instances: Iterable[MediaInstance]) -> list[PatientSummary]:
    """Group instances by patient (ID, issuer, name, birth date), study and series.

    A study is listed under the first patient identity it was seen with; the
    same Study Instance UID under two identities is grouped by identity so
    that a person sees the conflict instead of a silent merge. Series are
    sorted by number, instances by instance number.
    """
    patients: dict[PatientKey, tuple[MediaInstance, list[str]]] = {}
    studies: dict[tuple[PatientKey, str], tuple[MediaInstance, list[str]]] = {}
    series: dict[tuple[PatientKey, str, str], tuple[MediaInstance, list[MediaInstance]]] = {}
    for inst in instances:
        pkey = inst.patient_key
        if pkey not in patients:
            patients[pkey] = (inst, [])
        if (pkey, inst.study_instance_uid) not in studies:
            studies[(pkey, inst.study_instance_uid)] = (inst, [])
            patients[pkey][1].append(inst.study_instance_uid)
        sekey = (pkey, inst.study_instance_uid, inst.series_instance_uid)
        if sekey not in series:
            series[sekey] = (inst, [])
            studies[(pkey, inst.study_instance_uid)][1].append(inst.series_instance_uid)
        series[sekey][1].append(inst)

    def make_series(pkey: PatientKey, study: str, uid: str) -> SeriesSummary:
        first, members = series[(pkey, study, uid)]
        members.sort(key=lambda i: (_as_int(i.instance_number), i.relpath))
        return SeriesSummary(
            uid,
            first.modality,
            first.series_number,
            first.series_description,
            tuple(members),
            next((m.body_part for m in members if m.body_part), ""),
        )

    def make_study(pkey: PatientKey, uid: str) -> StudySummary:
        first, uids = studies[(pkey, uid)]
        made = sorted(
            (make_series(pkey, uid, s) for s in uids),
            key=lambda s: (_as_int(s.series_number), s.series_instance_uid),
        )
        return StudySummary(
            uid,
            first.study_date,
            first.study_description,
            first.accession_number,
            first.patient_id,
            first.issuer_of_patient_id,
            first.patient_name,
            first.birth_date,
            _study_sex(first.sex, (m for s in made for m in s.instances)),
            tuple(made),
        )

    return [
        PatientSummary(
            first.patient_id,
            first.issuer_of_patient_id,
            first.patient_name,
            first.birth_date,
            first.sex,
            tuple(make_study(pkey, uid) for uid in uids),
        )
        for pkey, (first, uids) in patients.items()
    ]


def _as_int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return 0
