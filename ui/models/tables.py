"""Thin Qt table models over plain Python lists (studies on a disc, worklist items)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from kiosk.media.model import StudySummary
from reconcile.model import WorklistItem
from reconcile.scripts import Script, script_of

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex


def format_name(pn: str) -> str:
    """Show a DICOM person name with every component group, e.g. 'YAMADA, TARO · 山田 太郎'.

    An alphabetic group reads 'FAMILY, Given Middle'; a group in kanji, kana
    or Hangul reads family name first without a comma, as it is written
    there. Groups are joined by ' · ' in DICOM order (alphabetic,
    ideographic, phonetic); none is left out.
    """
    shown = [_format_group(g) for g in pn.split("=")[:3] if g.strip(" ^")]
    return " · ".join(shown) if shown else pn


def _format_group(group: str) -> str:
    parts = [p.strip() for p in group.split("^")]
    if not parts[0]:
        return " ".join(p for p in parts[1:3] if p)
    given = " ".join(p for p in parts[1:3] if p)
    if not given:
        return parts[0]
    if script_of(group) in (Script.HAN, Script.KANA, Script.HANGUL):
        return f"{parts[0]} {given}"
    return f"{parts[0]}, {given}"


def format_date(da: str) -> str:
    """Show a DICOM date YYYYMMDD as YYYY-MM-DD."""
    if len(da) == 8 and da.isdigit():
        return f"{da[:4]}-{da[4:6]}-{da[6:]}"
    return da


def local_time(stamp: str, *, dated: bool = False) -> str:
    """Show a stored UTC time (ISO 8601) as the clock on the wall shows it: HH:MM.

    With ``dated``, the date comes first (YYYY-MM-DD HH:MM).
    """
    try:
        moment = datetime.fromisoformat(stamp).astimezone()
    except ValueError:
        return stamp
    return moment.strftime("%Y-%m-%d %H:%M" if dated else "%H:%M")


class ListTableModel(QAbstractTableModel, Generic[T]):
    """A read-only table over a list; each column is (title, getter)."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[T], str]]]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows: list[T] = []

    def refresh(self) -> None:
        """Tell the views that the rows' values changed."""
        if self.rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1)
            )

    def set_rows(self, rows: Sequence[T]) -> None:
        """Replace the rows."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (
            Qt.ItemDataRole.DisplayRole,
            Qt.ItemDataRole.ToolTipRole,
        ):
            return None
        return self.columns[index.column()][1](self.rows[index.row()])

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section][0]
        return None


def study_model(
    status: Callable[[StudySummary], str] = lambda _s: "",
    tag: Callable[[StudySummary], str] = lambda _s: "",
    why: Callable[[StudySummary], str] = lambda _s: "",
) -> ListTableModel[StudySummary]:
    """Studies on the disc, as the front desk reads them.

    ``status`` fills the first column; ``tag`` the physician's tag; ``why``
    the last: why a study was (or was not) preselected as a relevant prior.
    """
    return ListTableModel(
        [
            ("Status", status),
            ("Patient (disc)", lambda s: format_name(s.patient_name)),
            ("Born", lambda s: format_date(s.birth_date)),
            ("Sex", lambda s: s.sex),
            ("Outside ID", lambda s: s.patient_id),
            ("Study date", lambda s: format_date(s.study_date)),
            ("Type", lambda s: "/".join(s.modalities)),
            ("Description", lambda s: s.study_description),
            ("Images", lambda s: str(len(s.instances))),
            ("Tag", tag),
            ("Why", why),
        ]
    )


@dataclass(frozen=True)
class CandidateRow:
    """A worklist entry shown as a candidate, with its match score and reasons if scored."""

    item: WorklistItem
    score: int | None = None
    reasons: tuple[str, ...] = ()


def worklist_model() -> ListTableModel[CandidateRow]:
    """Worklist candidates for the patient, best first."""
    return ListTableModel(
        [
            ("Match", lambda r: "" if r.score is None else str(r.score)),
            ("MRN", lambda r: r.item.mrn),
            ("Patient", lambda r: format_name(r.item.patient_name)),
            ("Born", lambda r: format_date(r.item.birth_date)),
            ("Sex", lambda r: r.item.sex),
            ("Accession", lambda r: r.item.accession_number),
            ("Procedure", lambda r: r.item.requested_procedure),
            ("Scheduled", lambda r: format_date(r.item.scheduled_date)),
            ("Type", lambda r: r.item.modality),
            ("Dept.", lambda r: r.item.department),
            ("Why", lambda r: "; ".join(r.reasons)),
        ]
    )
