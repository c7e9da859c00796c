"""Use case: a de-identified copy of one imported study, for teaching (PS3.15 E.1)."""

from __future__ import annotations

from pathlib import Path

from kiosk import access, audit
from kiosk.config import Config
from kiosk.deidentify import ExportResult, export_files
from kiosk.errors import SafetyError, UsageError
from kiosk.reconciliation import find_one
from kiosk.retention import finish_interrupted_cleans
from kiosk.store import db, studies

__all__ = ["ExportResult", "export_deidentified"]


def export_deidentified(
    config: Config, study_uid: str, out: Path, *, user: str = ""
) -> ExportResult:
    """Write a de-identified copy of the study ``study_uid`` into the folder ``out`` (audited).

    Audited before the first file is written (outcome ``started``: a copy cut
    short by a crash is on record too) and when it ends.

    The options are the config's ``[deidentify]``. The files are the kiosk's
    own copy (coerced where it was, else the disc's original).

    Raises
    ------
    SignInError, RoleNotAllowed
        If no one is signed in, or the role may not export (physicians and admins).
    UsageError
        Unknown study, ``out`` not empty or under a file, or the study's copy was
        removed from the spool.
    SafetyError
        Every image of the study is left out (burned-in text, recognizable
        features, structured documents): nothing is written.
    """
    with db.opened(config.database_path) as conn:
        user = access.require(conn, access.Action.EXPORT, user=user, station=config.station).user
        finish_interrupted_cleans(conn, config)  # a copy whose clean a kill stopped is back
        record = find_one(conn, study_uid)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise UsageError(f"{out} is not an empty folder; give a new or empty one with --out")
        sources = []
        for row in studies.instances_of(conn, record.id):
            path = Path(row["coerced_path"] or row["original_path"])
            if not path.is_file():
                raise UsageError(
                    f"study {record.study_instance_uid}'s copy is no longer in the spool "
                    "(removed after its retention period); import the disc again to export it"
                )
            sources.append(path)
        if not sources:
            raise UsageError(f"study {record.study_instance_uid} has no images in the spool")
        audit.record(conn, user=user, station=config.station, action="export",
                     study_instance_uid=record.study_instance_uid, outcome="started",
                     detail=f"study {record.id}: de-identified copy into {out}")  # fmt: skip
        try:
            result = export_files(sources, out, config.deidentify)
        except UsageError:  # the folder cannot be made: nothing was written
            raise
        except SafetyError:
            audit.record(conn, user=user, station=config.station, action="export",
                         study_instance_uid=record.study_instance_uid, outcome="refused",
                         detail=f"study {record.id}: every image left out")  # fmt: skip
            raise
        except Exception:
            audit.record(conn, user=user, station=config.station, action="export",
                         study_instance_uid=record.study_instance_uid, outcome="failed",
                         detail=f"study {record.id}: de-identified export failed")  # fmt: skip
            raise
        audit.record(
            conn,
            user=user,
            station=config.station,
            action="export",
            study_instance_uid=record.study_instance_uid,
            detail=f"study {record.id}: de-identified copy ({result.files} files, "
            f"{result.left_out} left out (burned-in text, faces, structured documents), "
            f"{len(result.warnings)} that may "
            f"hold burned-in text) as {result.study_instance_uid} in {out}",
        )
        return result
