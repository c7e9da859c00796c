"""Relevant priors: the scoring (reconcile/priors.py) and the use case against a real PACS."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from kiosk.app.priors import relevant_priors
from kiosk.app.scan_disc import scan_disc
from kiosk.cli import main
from kiosk.config import load_config
from reconcile.model import WorklistItem
from reconcile.priors import Order, PriorStudy, families_of, regions_of, score_prior
from tests.discs import write_ct_disc
from tests.kiosk_config import write_config

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("texts", "regions"),
    [
        (["CT CHEST W/O CONTRAST"], ("chest",)),
        (["CHEST"], ("chest",)),  # BodyPartExamined defined term
        (["MRT Schaedel nativ"], ("head",)),
        (["CT C-SPINE"], ("spine",)),
        (["CT CAP"], ("chest", "abdomen", "pelvis")),
        (["CT ABDOMEN/PELVIS"], ("abdomen", "pelvis")),
        (["US KNEE LEFT"], ("knee",)),
        (["Unknown protocol 7"], ()),
        ([""], ()),
    ],
)
def test_regions_from_descriptions_and_body_parts(texts, regions):
    assert regions_of(texts) == regions


def test_modality_families():
    assert families_of(["CR", "DX"]) == ("X-ray",)
    assert families_of(["PT", "CT"]) == ("nuclear medicine", "CT")
    assert families_of(["SR"]) == ()


def order(procedure: str = "CT CHEST", modality: str = "CT") -> Order:
    return Order(procedure=procedure, modality=modality, scheduled_date="20261201")


def study(description: str, modalities: tuple[str, ...], when: str, parts=()) -> PriorStudy:
    return PriorStudy("1.2", when, description, modalities, tuple(parts))


def test_same_anatomy_same_family_recent_is_relevant_and_says_why():
    scored = score_prior(order(), study("CT THORAX", ("CT",), "20260601"), today=TODAY)
    assert scored.relevant and scored.score == 100
    assert scored.reasons == ("same anatomy: chest", "same modality: CT", "within a year")


def test_body_part_examined_decides_when_the_description_is_silent():
    scored = score_prior(order(), study("", ("CT",), "20200101", parts=["LUNG"]), today=TODAY)
    assert scored.relevant  # same anatomy and family, though six years old
    assert "6 years old" in scored.reasons


def test_other_anatomy_is_not_relevant_even_when_recent():
    scored = score_prior(order(), study("CT HEAD", ("CT",), "20261101"), today=TODAY)
    assert not scored.relevant
    assert scored.reasons[0] == "other anatomy: head"


def test_same_anatomy_other_family_old_is_not_relevant():
    scored = score_prior(order(), study("CHEST PA", ("CR",), "20150101"), today=TODAY)
    assert not scored.relevant
    assert "other modality: X-ray" in scored.reasons


def test_same_anatomy_other_family_recent_is_relevant():
    scored = score_prior(order(), study("CHEST PA", ("CR",), "20260101"), today=TODAY)
    assert scored.relevant and "same anatomy: chest" in scored.reasons


def test_related_anatomy_counts_less():
    scored = score_prior(order(), study("CT ABDOMEN", ("CT",), "20260101"), today=TODAY)
    assert scored.relevant and scored.score == 70
    assert scored.reasons[0] == "related anatomy: chest/abdomen"


def test_related_anatomy_of_another_family_is_not_relevant():
    order_ = order("CT ABD/PELVIS")
    scored = score_prior(order_, study("XR CHEST PA", ("CR",), "20250611"), today=TODAY)
    assert not scored.relevant and scored.reasons[0] == "related anatomy: abdomen/chest"


def test_an_order_without_anatomy_falls_back_to_family_and_age():
    scored = score_prior(order("OUTSIDE IMPORT"), study("X", ("CT",), "20260101"), today=TODAY)
    assert scored.relevant and scored.reasons[0] == "the order names no anatomy"
    old = score_prior(order("OUTSIDE IMPORT"), study("X", ("CT",), "20100101"), today=TODAY)
    assert not old.relevant


def test_hostile_dates_and_texts_do_not_break_the_scoring():
    for when in ("", "2026", "20261399", "abcdefgh", "99999999"):
        scored = score_prior(order(), study("\x00CHEST\u202e", ("CT",), when), today=TODAY)
        assert "same anatomy: chest" in scored.reasons


def _config(tmp_path: Path, dest, worklist) -> Path:
    return write_config(
        tmp_path / "kiosk.toml",
        worklist=worklist,
        destinations={"radiology": dest},
        spool=tmp_path / "spool",
        database=tmp_path / "kiosk.sqlite3",
    )


def test_relevant_priors_marks_what_the_pacs_holds(
    tmp_path, capsys, orthanc_server, worklist_server
):
    disc = tmp_path / "disc"
    studies = write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=2)
    worklist_server.add_patient("MRN1")
    cfg = _config(tmp_path, orthanc_server, worklist_server)
    args = ["import", str(disc), "--all", "--mrn", "MRN1", "--config", str(cfg)]
    assert main(args) == 0  # unscheduled, sent (the policy "send")
    capsys.readouterr()
    config = load_config(cfg)
    scan = scan_disc(disc)
    item = WorklistItem(
        "MRN1", "MAINHOSP", "ACC1", "DOE^JANE", "19700101", "F", "CT CHEST", modality="CT"
    )
    choices, asked = relevant_priors(
        config, scan.studies, item, destination="radiology", today=TODAY
    )
    [choice] = choices
    assert choice.relevant and "same anatomy: chest" in choice.why
    assert choice.study_instance_uid == studies[0].study_instance_uid
    assert asked is not None and asked.destination == "radiology"
    held = True
    assert len(orthanc_server.instances()) == 2
    assert choice.on_pacs is held
    assert choice.why.startswith("already in the PACS") is held
    # Without a destination nothing is asked.
    choices, asked = relevant_priors(config, scan.studies, item, today=TODAY)
    assert asked is None and choices[0].on_pacs is None


def test_the_order_s_procedure_code_from_the_worklist_decides_the_anatomy(
    tmp_path, worklist_server
):
    """The description says nothing; the Requested Procedure Code's meaning says chest."""
    from pydicom.dataset import Dataset

    from kiosk.app.find_patient import WorklistQuery, query_worklist

    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "RPID17", "L", "CT Thorax"
    worklist_server.add_item(
        PatientID="MRN9", AccessionNumber="ACC9", Modality="CT",
        RequestedProcedureCodeSequence=[code],
    )  # fmt: skip
    config = load_config(_config(tmp_path, ("PACS", "127.0.0.1", 9), worklist_server))
    [item] = query_worklist(config, WorklistQuery(mrn="MRN9"))
    assert item.procedure_code == "RPID17 CT Thorax"
    assert item.step_description == "OUTSIDE MEDIA IMPORT"
    disc = tmp_path / "disc"
    write_ct_disc(disc, [("EXT-1", "DOE^JANE", "19700101", "F")], per_study=1)
    [choice], asked = relevant_priors(config, scan_disc(disc).studies, item, today=TODAY)
    assert asked is None and choice.relevant and "same anatomy: chest" in choice.why
