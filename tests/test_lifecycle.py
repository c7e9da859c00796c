"""One owner of a study's life: only kiosk/lifecycle.py moves a study between states."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.errors import StoreError
from kiosk.store import db, studies
from kiosk.store.studies import ALLOWED, StudyState

ROOT = Path(__file__).resolve().parent.parent


def test_no_code_but_the_lifecycle_sets_a_study_state() -> None:
    callers = []
    for path in [*(ROOT / "kiosk").rglob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        rel = path.relative_to(ROOT).as_posix()
        if rel in ("kiosk/lifecycle.py", "kiosk/store/studies.py"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"\bset_state\(", text) or re.search(r"UPDATE studies SET state", text):
            callers.append(rel)
    assert callers == []


def test_discarded_is_final_and_every_live_state_can_be_discarded() -> None:
    assert ALLOWED[StudyState.DISCARDED] == frozenset()
    for state in StudyState:
        if state is not StudyState.DISCARDED:
            assert StudyState.DISCARDED in ALLOWED[state], state


def test_a_transition_the_machine_does_not_allow_is_refused(tmp_path: Path) -> None:
    conn = db.connect(tmp_path / "k.sqlite3")
    try:
        sid = studies.add_study(
            conn,
            study_instance_uid="1.2",
            original_patient_id="X",
            original_issuer="",
            source="t",
            station="s",
            user="u",
            destination="radiology",
        )
        with pytest.raises(StoreError, match="cannot go from found to sent"):
            studies.set_state(conn, sid, StudyState.SENT)
        assert studies.get_study(conn, sid).state is StudyState.FOUND
    finally:
        conn.close()
