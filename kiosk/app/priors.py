"""Use case: which studies of a disc are relevant priors for the patient's scheduled order.

The scoring is :mod:`reconcile.priors` (pure); this use case feeds it the
disc's studies and the order, and marks the studies the destination PACS
already holds with the preflight's C-FIND (:mod:`kiosk.app.preflight`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from kiosk.app.preflight import Preflight, preflight
from kiosk.config import Config
from kiosk.media.model import StudySummary
from reconcile.model import WorklistItem
from reconcile.priors import Order, PriorStudy, score_priors


@dataclass(frozen=True)
class PriorChoice:
    """One study of the disc: whether to preselect it, why, and whether the PACS has it."""

    study_instance_uid: str
    score: int
    relevant: bool
    why: str
    #: True: the destination holds it; False: it does not; None: it could not be asked.
    on_pacs: bool | None = None


def prior_study(study: StudySummary) -> PriorStudy:
    """What the scoring needs to know of a study on the disc."""
    return PriorStudy(
        key=study.study_instance_uid,
        study_date=study.study_date,
        description=study.study_description,
        modalities=tuple(study.modalities),
        body_parts=tuple(s.body_part for s in study.series if s.body_part),
        series_descriptions=tuple(s.series_description for s in study.series),
    )


def relevant_priors(
    config: Config,
    studies: Sequence[StudySummary],
    item: WorklistItem,
    *,
    destination: str = "",
    today: date | None = None,
) -> tuple[list[PriorChoice], Preflight | None]:
    """Score ``studies`` against ``item``'s order; ask ``destination`` what it holds of them.

    Returns the choices (in the order of ``studies``) and the preflight's
    answer (``None`` without a destination), which the import can reuse.
    """
    order = Order(
        procedure=f"{item.requested_procedure} {item.step_description}".strip(),
        code=item.procedure_code or item.requested_procedure_id,
        modality=item.modality,
        scheduled_date=item.scheduled_date,
    )
    scores = score_priors(order, [prior_study(s) for s in studies], today=today or date.today())
    asked = preflight(config, destination, studies, item.mrn) if destination else None
    choices = []
    for study, score, check in zip(
        studies, scores, asked.checks if asked else [None] * len(studies), strict=True
    ):
        on_pacs = None if check is None else check.anything
        why = "; ".join(score.reasons)
        if on_pacs:
            why = "already in the PACS; " + why
        choices.append(
            PriorChoice(study.study_instance_uid, score.score, score.relevant, why, on_pacs)
        )
    return choices, asked
