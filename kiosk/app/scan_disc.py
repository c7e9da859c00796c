"""Use case: read a medium, verify it, and recognise what the kiosk imported before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.imaging.documents import Kind, kind_of
from kiosk.imaging.render import render_file
from kiosk.media.model import MediaScan, StudySummary
from kiosk.media.scan import scan_medium, verify
from kiosk.store import db
from kiosk.store.studies import StudyRecord, StudyState, find_studies

StudyKey = tuple[str, str]
"""A study on a disc as the clerk picks it: (outside PatientID, Study Instance UID)."""


def scan_disc(path: Path, *, quick: bool = False) -> MediaScan:
    """Read the medium at ``path``.

    Parameters
    ----------
    quick
        Trust the DICOMDIR for the tree (the studies show at once); the
        images' own headers are read by :func:`verify_disc`.
    """
    return scan_medium(path, deep=not quick)


def verify_disc(scan: MediaScan) -> MediaScan:
    """Read every image's own header of a quick scan; the result replaces it."""
    return verify(scan)


def study_key(study: StudySummary) -> StudyKey:
    """The outside patient and the Study UID: one UID may be on a disc under two patients."""
    return (study.patient_id, study.study_instance_uid)


def earlier_imports(config: Config, scan: MediaScan) -> dict[StudyKey, StudyRecord]:
    """What the store knows of the studies of ``scan``: a disc that comes back is recognised.

    The last live import of each outside patient's study wins; a study the
    kiosk sent under new UIDs (a disc burnt from our PACS) is known under the
    key ``("", uid)`` whoever holds it.
    """
    uids = sorted({s.study_instance_uid for s in scan.studies})
    known: dict[StudyKey, StudyRecord] = {}
    with db.opened(config.database_path) as conn:
        for uid in uids:
            for last in find_studies(conn, study_instance_uid=uid):
                if last.state is StudyState.DISCARDED:
                    continue
                pid = last.original_patient_id if last.study_instance_uid == uid else ""
                known[(pid, uid)] = last
    return known


def preview(scan: MediaScan, study: StudySummary) -> Any:
    """The first image of ``study`` as 8-bit pixels (a numpy array) for a thumbnail."""
    images = [i for i in study.instances if kind_of(i.sop_class_uid) is Kind.IMAGE]
    return render_file(scan.root / (images or study.instances)[0].relpath)
