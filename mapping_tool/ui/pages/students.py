"""The Students page, the review screen welfare and year-level staff work from: the students the
signed-in user may see, with only the permitted columns, filters staff reach for (remembered per
user), a student panel beside the table, and print/PDF/Excel of exactly what is on screen.

The table model filters inside the model (a Python filterAcceptsRow over every column costs
~0.2 s per change on 3,000 rows; filtering here costs a few ms), and sorts by sort keys cached per
column. Yes/no cells show a mark and the word, for screen readers and printouts. Loading,
PDF and Excel run off the UI thread (``worker.runner``); the service itself takes ~0.35 s for
3,000 students.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error

logger = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex
YES, NO = "✔ yes", "– no"
NEW_MARK = "★"

FLAG_NAMES = (
    "flag_low_attendance", "flag_unapproved_absences", "flag_suspension", "flag_below_expected_english",
    "flag_below_expected_maths", "flag_parent_not_in_paid_work",
)
TIERS = ("none", "monitor", "priority")
TIER_RANK = {t: i for i, t in enumerate(TIERS)}
NAME_COLUMNS = ("student_key", "surname", "first_name", "preferred_name")

# Staff-facing titles (the service's generic ones read "Flag low attendance", "Result engrea").
# A newline splits a long header over two lines on screen; printouts and tooltips join it.
TITLES = {
    "student_key": "Key",
    "surname": "Surname",
    "first_name": "First name",
    "preferred_name": "Preferred\nname",
    "year_level": "Year",
    "home_group": "Home\ngroup",
    "attendance_rate": "Attendance\n%",
    "unapproved_days": "Unapproved\ndays",
    "internal_suspension_days": "Internal\nsusp. days",
    "external_suspension_days": "External\nsusp. days",
    "result_engrea": "English\nreading",
    "result_engwri": "English\nwriting",
    "result_matnum": "Maths\nnumber",
    "result_matstr": "Maths\nstructure",
    "flag_low_attendance": "Low\nattendance",
    "flag_unapproved_absences": "Unapproved\nabsences",
    "flag_suspension": "Suspension",
    "flag_below_expected_english": "Below expected\nEnglish",
    "flag_below_expected_maths": "Below expected\nMaths",
    "flag_parent_not_in_paid_work": "Parents not\nin paid work",
    "relationships_concern": "Relationships\nconcern",
    "flag_count": "Flags",
    "tier": "Tier",
    "tier_override": "Tier\noverride",
    "new_flags": "New since\nlast refresh",
    "attendance_rate_change": "Attendance\nchange",
    "parent_occupation_group": "Parent\noccupation",
    "in_extract": "In latest\nextract",
    "status": "Status",
}
# CASES21 enrolment status codes in the words a school uses
STATUS_WORDS = {"ACTV": "Current", "INAC": "Inactive", "LVNG": "Leaving", "LEFT": "Left", "FUT": "Future", "DEL": "Deleted"}
FLAG_TITLES = {
    "flag_low_attendance": "Low attendance",
    "flag_unapproved_absences": "Unapproved absences",
    "flag_suspension": "Suspension",
    "flag_below_expected_english": "Below expected English",
    "flag_below_expected_maths": "Below expected Maths",
    "flag_parent_not_in_paid_work": "Parents not in paid work",
    "relationships_concern": "Relationships concern",
}
# Display and export order; the service drops what the role may not see.
# The review columns (tier, count, new) come before the measures so that they are on screen
# without scrolling on a laptop.
PREFERRED_ORDER = (
    "surname", "first_name", "preferred_name", "student_key", "year_level", "home_group", "status",
    "tier", "flag_count", "new_flags", "attendance_rate", "unapproved_days", "internal_suspension_days",
    "external_suspension_days", *FLAG_NAMES, "relationships_concern", "tier_override",
    "attendance_rate_change", "result_engrea", "result_engwri", "result_matnum", "result_matstr",
)
# Shorter headings for the printed list (A4 landscape holds the usual columns at 7 pt).
PRINT_TITLES = {
    "attendance_rate": "Attend. %",
    "unapproved_days": "Unappr. days",
    "internal_suspension_days": "Int. susp. days",
    "external_suspension_days": "Ext. susp. days",
    "flag_low_attendance": "Low attend.",
    "flag_unapproved_absences": "Unappr. absences",
    "flag_suspension": "Susp.",
    "flag_below_expected_english": "Below exp. English",
    "flag_below_expected_maths": "Below exp. Maths",
    "flag_parent_not_in_paid_work": "Parents not in paid work",
    "relationships_concern": "Relation- ships concern",
    "new_flags": "New flags",
    "home_group": "Home group",
    "year_level": "Year",
}
DAY_COLUMNS = frozenset({"unapproved_days", "internal_suspension_days", "external_suspension_days"})
# What staff see until they choose otherwise (not all ~45 fields).
DEFAULT_COLUMNS = frozenset({
    "surname", "first_name", "student_key", "year_level", "home_group", "attendance_rate", "unapproved_days",
    "internal_suspension_days", "external_suspension_days", *FLAG_NAMES, "relationships_concern", "flag_count",
    "tier", "new_flags", "status",
})


def year_text(value: Any) -> str:
    """ "09" as "9" (so that typing 9 in the box finds it); "P" and other codes as they are."""
    text = str(value)
    return str(int(text)) if text.isdigit() else text


def choice_text(column: str, value: Any) -> str:
    if column == "year_level":
        return year_text(value)
    return str(value)


def one_line(title: str) -> str:
    return title.replace("\n", " ")


def display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        return "" if value != value else f"{value:.1f}"
    return str(value)


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None or (isinstance(value, float) and value != value) or value == "":
        return (1, 0)
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, int | float):
        return (0, value)
    if isinstance(value, date):
        return (0, value.toordinal())
    return (0, str(value).casefold())


def new_flag_names(value: Any) -> list[str]:
    return [n for n in str(value or "").split(",") if n]


def days_text(value: Any) -> str:
    """Half-days count 0.5: 12.0 shows as 12, 12.5 as 12.5."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    number = float(value)
    return f"{number:.0f}" if number == int(number) else f"{number:.1f}"


def new_flags_text(value: Any) -> str:
    return ", ".join(FLAG_TITLES.get(n, n) for n in new_flag_names(value))


# One name for each tier, on every page (the Tier filter, the table, the panel, Reports).
TIER_WORDS = {"priority": "Priority", "monitor": "Monitor", "none": "None"}


def tier_word(tier: Any) -> str:
    return TIER_WORDS.get(str(tier), str(tier)) if tier is not None else ""


def tier_text(tier: Any, override: Any) -> str:
    """The computed tier, with an active override shown beside it (never silently replacing it)."""
    if tier is None:
        return ""
    if override and override != tier:
        return f"{tier_word(tier)} → {tier_word(override)} (override)"
    if override:
        return f"{tier_word(tier)} (override agrees)"
    return tier_word(tier)


def effective_tier(tier: Any, override: Any) -> Any:
    return override or tier


class StudentTableModel(QAbstractTableModel):
    """Rows of (policy-masked) student values; ``set_filter`` keeps the matching rows."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns: tuple[str, ...] = ()
        self.titles: dict[str, str] = {}
        self._all: list[tuple[Any, ...]] = []
        self._search: list[str] = []
        self._visible: list[int] = []
        self._predicate: Callable[[tuple[Any, ...]], bool] | None = None
        self._needle = ""
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._sort_cache: dict[int, list[Any]] = {}
        self._tier_col: int | None = None
        self._override_col: int | None = None
        self._new_col: int | None = None
        self._status_col: int | None = None
        self._flag_cols: frozenset[int] = frozenset()
        self._day_cols: frozenset[int] = frozenset()
        self._align: list[int | None] = []

    # -- content --------------------------------------------------------------------------
    def set_rows(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]], titles: dict[str, str]) -> None:
        self.beginResetModel()
        self.columns = tuple(columns)
        self.titles = titles
        self._all = list(rows)
        self._sort_cache = {}
        self._tier_col = self.column_index("tier")
        self._override_col = self.column_index("tier_override")
        self._new_col = self.column_index("new_flags")
        self._status_col = self.column_index("status")
        self._flag_cols = frozenset(i for i, c in enumerate(self.columns) if c in FLAG_TITLES)
        self._day_cols = frozenset(i for i, c in enumerate(self.columns) if c in DAY_COLUMNS)
        self._align = [self._alignment(i) for i in range(len(self.columns))]
        name_cols = [i for i, c in enumerate(self.columns) if c in NAME_COLUMNS]
        self._search = [" ".join(str(r[i] or "") for i in name_cols).casefold() for r in self._all]
        self._visible = self._apply()
        self._resort()
        self.endResetModel()

    def _alignment(self, column: int) -> int | None:
        """Numbers right-aligned, decided once per column from its first value."""
        for r in self._all:
            value = r[column]
            if value is not None:
                return _RIGHT if isinstance(value, int | float) and not isinstance(value, bool) else None
        return None

    def column_index(self, name: str) -> int | None:
        try:
            return self.columns.index(name)
        except ValueError:
            return None

    def all_rows(self) -> list[tuple[Any, ...]]:
        return self._all

    def total(self) -> int:
        return len(self._all)

    def _apply(self) -> list[int]:
        needle, pred, search = self._needle, self._predicate, self._search
        if not needle and pred is None:
            return list(range(len(self._all)))
        if pred is None:
            return [i for i in range(len(self._all)) if needle in search[i]]
        rows = self._all
        if not needle:
            return [i for i in range(len(rows)) if pred(rows[i])]
        return [i for i in range(len(rows)) if needle in search[i] and pred(rows[i])]

    def set_filter(self, *, search: str = "", predicate: Callable[[tuple[Any, ...]], bool] | None = None) -> None:
        self.beginResetModel()
        self._needle = search.strip().casefold()
        self._predicate = predicate
        self._visible = self._apply()
        self._resort()
        self.endResetModel()

    # -- sorting --------------------------------------------------------------------------
    def _keys(self, column: int) -> list[Any]:
        keys = self._sort_cache.get(column)
        if keys is None:
            name = self.columns[column]
            if name == "tier":
                oc = self._override_col
                keys = [
                    (TIER_RANK.get(effective_tier(r[column], r[oc] if oc is not None else None), -1), TIER_RANK.get(r[column], -1))
                    for r in self._all
                ]
            elif name == "new_flags":
                keys = [len(new_flag_names(r[column])) for r in self._all]
            else:
                keys = [sort_key(r[column]) for r in self._all]
            self._sort_cache[column] = keys
        return keys

    def _resort(self) -> None:
        if self._sort is None:
            return
        column, order = self._sort
        if not 0 <= column < len(self.columns):
            return
        keys = self._keys(column)
        self._visible.sort(key=keys.__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        self.layoutAboutToBeChanged.emit()
        self._sort = (column, order)
        self._resort()
        self.layoutChanged.emit()

    # -- reading ----------------------------------------------------------------------------
    def row_values(self, row: int) -> dict[str, Any]:
        return dict(zip(self.columns, self._all[self._visible[row]], strict=True))

    def key_at(self, row: int) -> str | None:
        i = self.column_index("student_key")
        if i is None or not 0 <= row < len(self._visible):
            return None
        return self._all[self._visible[row]][i]

    def row_of_key(self, key: str) -> int | None:
        i = self.column_index("student_key")
        if i is None:
            return None
        for row, j in enumerate(self._visible):
            if self._all[j][i] == key:
                return row
        return None

    def visible_rows(self) -> list[tuple[Any, ...]]:
        return [self._all[i] for i in self._visible]

    def is_new(self, row: tuple[Any, ...], column: int) -> bool:
        """A yes flag that is new since the last refresh."""
        return self._new_col is not None and column in self._flag_cols and bool(row[column]) and (
            self.columns[column] in new_flag_names(row[self._new_col])
        )

    def text(self, row: tuple[Any, ...], column: int) -> str:
        """What a cell shows (also used for printouts): a new flag is "✔ yes ★"."""
        value = row[column]
        if column in self._flag_cols and value is not None:
            return f"{YES} {NEW_MARK}" if self.is_new(row, column) else display(value)
        if column == self._tier_col:
            return tier_text(value, row[self._override_col] if self._override_col is not None else None)
        if column == self._new_col:
            count = len(new_flag_names(value))
            return f"{NEW_MARK} {count} new" if count else ""
        if column in self._day_cols:
            return days_text(value)
        if column == self._status_col and value is not None:
            return STATUS_WORDS.get(str(value), str(value))
        if isinstance(value, float) and self.columns[column] == "attendance_rate_change" and value == value:
            return f"{value:+.1f}"
        return display(value)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        name = self.columns[section]
        title = self.titles.get(name, name)
        if role == _DISPLAY:
            return title
        if role in (_TOOLTIP, _ACCESSIBLE):
            return one_line(title)
        if role == Qt.ItemDataRole.UserRole:  # the column's name (the frozen name columns)
            return name
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        # The view asks for a dozen roles per cell on every repaint: answer the unhandled ones
        # first and cheaply (this is most of a redraw's cost in Python).
        if role not in _HANDLED:
            return None
        r, column = index.row(), index.column()
        if not 0 <= r < len(self._visible) or not 0 <= column < len(self.columns):
            return None
        row = self._all[self._visible[r]]
        if role == _DISPLAY:
            return self.text(row, column)
        if role == _ALIGN:
            return self._align[column]
        if role == _ACCESSIBLE:
            if self.is_new(row, column):
                return "yes, new since the last refresh"
            if column == self._new_col:
                names = new_flags_text(row[column])
                return f"new since the last refresh: {names}" if names else "none new"
            if isinstance(row[column], bool):  # a screen reader says "yes", not "check mark yes"
                return "yes" if row[column] else "no"
            return self.text(row, column)
        # tooltips
        if column == self._new_col and row[column]:
            return f"New since the last refresh: {new_flags_text(row[column])}"
        if self.is_new(row, column):
            return "Yes, and new since the last refresh"
        if column == self._tier_col and self._override_col is not None and row[self._override_col]:
            return "Computed tier, then the tier staff set with a reason (open the student to see it)"
        return None


_DISPLAY = Qt.ItemDataRole.DisplayRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_HANDLED = frozenset({_DISPLAY, _ALIGN, _ACCESSIBLE, _TOOLTIP})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


# -- filters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewFilter:
    """What staff filter by; saved per user, so the page opens as they left it."""

    search: str = ""
    year_level: str | None = None
    home_group: str | None = None
    flags: tuple[str, ...] = ()  # students with any of these flags
    min_flags: int = 0
    tier: str | None = None  # none | monitor | priority | flagged (monitor or priority), after overrides
    new_only: bool = False
    include_left: bool = False  # current students (the measures' population) unless asked

    def to_json(self) -> str:
        """What is remembered outside the store: never the search text (a name or a key), only
        the non-identifying choices (year level, home group, flags, tier)."""
        data = asdict(self)
        data.pop("search")
        data["flags"] = list(self.flags)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str | None) -> ReviewFilter:
        """A damaged or old saved state gives the defaults for what cannot be read."""
        try:
            data = json.loads(text or "{}")
        except (TypeError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()

        def text_or_none(v: Any) -> str | None:
            return v if isinstance(v, str) and v else None

        flags = data.get("flags") or []
        tier = data.get("tier")
        try:
            min_flags = max(0, min(len(FLAG_NAMES) + 1, int(data.get("min_flags") or 0)))
        except (TypeError, ValueError):
            min_flags = 0
        return cls(
            year_level=text_or_none(data.get("year_level")),
            home_group=text_or_none(data.get("home_group")),
            flags=tuple(f for f in flags if isinstance(f, str) and f in (*FLAG_NAMES, "relationships_concern")) if isinstance(flags, list) else (),
            min_flags=min_flags,
            tier=tier if tier in (*TIERS, "flagged") else None,
            new_only=bool(data.get("new_only")),
            include_left=bool(data.get("include_left")),
        )

    def describe(self, *, with_search: bool = True) -> str:
        """In words, for printouts; the audit log gets it without the search text (no names there)."""
        parts = []
        if self.search.strip():
            parts.append(f"name or key contains “{self.search.strip()}”" if with_search else "a name or key search")
        if self.year_level:
            parts.append(f"year {self.year_level}")
        if self.home_group:
            parts.append(f"home group {self.home_group}")
        if self.flags:
            parts.append("any of: " + ", ".join(FLAG_TITLES.get(f, f) for f in self.flags))
        if self.min_flags:
            parts.append(f"at least {self.min_flags} flag{'s' if self.min_flags != 1 else ''}")
        if self.tier:
            parts.append("tier monitor or priority" if self.tier == "flagged" else f"tier {self.tier}")
        if self.new_only:
            parts.append("new flags since the last refresh")
        parts.insert(0, "current students and those who have left" if self.include_left else "current students")
        return "; ".join(parts)


def filter_predicate(columns: Sequence[str], state: ReviewFilter) -> Callable[[tuple[Any, ...]], bool] | None:
    """One closure over column indexes (search is done by the model on its own index).
    Each check binds its own index and value (default arguments), not the loop's last ones."""
    index = {c: i for i, c in enumerate(columns)}
    checks: list[Callable[[tuple[Any, ...]], bool]] = []
    if state.year_level is not None and "year_level" in index:
        checks.append(lambda r, i=index["year_level"], w=state.year_level: r[i] == w)
    if state.home_group is not None and "home_group" in index:
        checks.append(lambda r, i=index["home_group"], w=state.home_group: r[i] == w)
    chosen = tuple(index[f] for f in state.flags if f in index)
    if chosen:
        checks.append(lambda r, chosen=chosen: any(r[i] for i in chosen))
    if state.min_flags and "flag_count" in index:
        checks.append(lambda r, i=index["flag_count"], n=state.min_flags: (r[i] or 0) >= n)
    if state.tier and "tier" in index:
        t, o = index["tier"], index.get("tier_override")
        wanted = ("monitor", "priority") if state.tier == "flagged" else (state.tier,)
        if o is None:
            checks.append(lambda r, t=t, wanted=wanted: r[t] in wanted)
        else:
            checks.append(lambda r, t=t, o=o, wanted=wanted: (r[o] or r[t]) in wanted)
    if state.new_only and "new_flags" in index:
        checks.append(lambda r, i=index["new_flags"]: bool(r[i]))
    if not state.include_left:
        current = is_current(columns)
        if current is not None:
            checks.append(current)
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda r: all(c(r) for c in checks)


CURRENT_STATUSES = ("ACTV", "INAC", "LVNG")


def is_current(columns: Sequence[str]) -> Callable[[tuple[Any, ...]], bool] | None:
    """Current students, as the Reports page counts them (the measures' population): those with
    a tier from the latest extract; where the role sees no tier, those in the latest extract."""
    index = {c: i for i, c in enumerate(columns)}
    if "tier" in index:
        return lambda r, i=index["tier"]: r[i] is not None
    if "in_extract" in index:
        if "status" in index:
            return lambda r, i=index["in_extract"], s=index["status"]: bool(r[i]) and r[s] in CURRENT_STATUSES
        return lambda r, i=index["in_extract"]: bool(r[i])
    if "status" in index:
        return lambda r, s=index["status"]: r[s] in CURRENT_STATUSES
    return None


# -- remembered per user ----------------------------------------------------------------------


def review_settings() -> QSettings:
    """An INI file in the tool's settings folder (tests point MAPPING_TOOL_SETTINGS_DIR at a temp dir)."""
    from mapping_tool.paths import settings_dir

    folder = settings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QSettings(str(folder / "review.ini"), QSettings.Format.IniFormat)


def _user_key(session) -> str:  # type: ignore[no-untyped-def]
    """Per store (its id, not the school number: another store of the same school is another
    key) and per user, hashed so the file names neither."""
    school = session.store.school
    store_id = school.store_id if school else "store"
    digest = hashlib.sha256(f"{store_id}/{session.username}".encode()).hexdigest()[:16]
    return f"stores/{digest}"


def _forget_legacy(settings: QSettings) -> None:
    """Earlier versions kept the search text (a student's name or key) under users/…, keyed by
    school number only: removed when first seen."""
    if "users" in settings.childGroups():
        settings.remove("users")
        settings.sync()


def load_filter(session) -> tuple[ReviewFilter, tuple[str, ...] | None]:  # type: ignore[no-untyped-def]
    settings = review_settings()
    _forget_legacy(settings)
    base = _user_key(session)
    state = ReviewFilter.from_json(settings.value(f"{base}/filter", "", str))
    columns = settings.value(f"{base}/columns", "", str)
    try:
        shown = tuple(json.loads(columns)) if columns else None
    except ValueError:
        shown = None
    return state, shown


def save_filter(session, state: ReviewFilter, shown: Sequence[str] | None = None) -> None:  # type: ignore[no-untyped-def]
    settings = review_settings()
    base = _user_key(session)
    settings.setValue(f"{base}/filter", state.to_json())
    if shown is not None:
        settings.setValue(f"{base}/columns", json.dumps(list(shown)))
    settings.sync()


# -- the page ----------------------------------------------------------------------------------


def empty_hint(session) -> str:  # type: ignore[no-untyped-def]
    """Why the table is empty, in words (never revealing students outside the user's scope)."""
    if session.role.value == "home-group-teacher":
        return "No students in your home groups are in the latest CASES21 extract. If that seems wrong, ask the data custodian."
    if session.role.value == "year-level-coordinator":
        return "No students in your year levels are in the latest CASES21 extract. If that seems wrong, ask the data custodian."
    if session.is_custodian:
        return "No students yet: import the school's CASES21 extract on the Imports page."
    return "No students yet: the data custodian imports the school's CASES21 extract on the Imports page."


class StudentsPage(QWidget):
    student_opened = Signal(str)
    loaded = Signal()
    exported = Signal(object)  # the path written (Excel or PDF)
    printed = Signal()
    assigned = Signal(object)  # students were mapped to a programme (list of MappingView)

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.job: worker.Job | None = None
        self.file_job: worker.Job | None = None
        self._generation = 0
        self._restoring = False
        self.state = ReviewFilter()
        self._shown: set[str] | None = None
        self._loaded_once = False
        self._sized: set[str] = set()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(6)

        top = QHBoxLayout()
        top.addWidget(QLabel("<h2>Students</h2>"))
        top.addStretch(1)
        self.open_button = QPushButton("&Open student")
        self.open_button.setToolTip("Open the selected student's panel (Enter)")
        self.columns_button = QToolButton()
        self.columns_button.setText("Colu&mns…")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_button.setAccessibleName("Choose columns")
        self.columns_menu = QMenu(self.columns_button)
        self.columns_button.setMenu(self.columns_menu)
        self.print_button = QPushButton("&Print…")
        self.pdf_button = QPushButton("Save as P&DF…")
        self.excel_button = QPushButton("E&xport to Excel…")
        # in the top row: the filter rows are as wide as a 1024-pixel screen allows already
        self.assign_button = QPushButton("Add to intervention…")
        self.assign_button.setToolTip("Map the selected students to a programme (select rows with Shift or Ctrl)")
        for w in (self.open_button, self.assign_button, self.columns_button, self.print_button, self.pdf_button,
                  self.excel_button):
            top.addWidget(w)
        layout.addLayout(top)

        # filters, in two rows so that nothing is cut off on a 1366-pixel laptop screen
        row1 = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search by name or key")
        self.search.setAccessibleName("Search students")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(160)
        search_label = QLabel("&Search:")
        search_label.setBuddy(self.search)
        row1.addWidget(search_label)
        row1.addWidget(self.search, 2)
        self.year = QComboBox()
        self.year.setAccessibleName("Year level")
        self.group = QComboBox()
        self.group.setAccessibleName("Home group")
        self.tier = QComboBox()
        self.tier.setAccessibleName("Tier")
        for text, value in (("All tiers", None), ("Priority", "priority"), ("Monitor", "monitor"),
                            ("Monitor or priority", "flagged"), ("None", "none")):
            self.tier.addItem(text, value)
        self.tier.setToolTip("The tier after any override staff recorded")
        for text, box in (("&Year level:", self.year), ("Home &group:", self.group), ("&Tier:", self.tier)):
            # wide enough for "All home groups", never wider than a 1024-pixel screen allows
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            box.setMinimumWidth(90)
            label = QLabel(text)
            label.setBuddy(box)
            row1.addWidget(label)
            row1.addWidget(box)
        layout.addLayout(row1)

        row2 = QHBoxLayout()
        self.flags_button = QToolButton()
        self.flags_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.flags_button.setAccessibleName("Students with any of these flags")
        self.flags_menu = QMenu(self.flags_button)
        self.flags_button.setMenu(self.flags_menu)
        self.flag_actions: dict[str, QAction] = {}
        row2.addWidget(self.flags_button)
        self.min_flags = QSpinBox()
        self.min_flags.setRange(0, len(FLAG_NAMES) + 1)
        self.min_flags.setSpecialValueText("any")
        self.min_flags.setAccessibleName("Minimum flag count")
        min_label = QLabel("&At least this many flags:")
        min_label.setBuddy(self.min_flags)
        row2.addWidget(min_label)
        row2.addWidget(self.min_flags)
        self.new_only = QCheckBox("Ne&w flags since the last refresh")
        row2.addWidget(self.new_only)
        self.clear_button = QPushButton("&Clear filters")
        row2.addWidget(self.clear_button)
        row2.addStretch(1)
        layout.addLayout(row2)

        row3 = QHBoxLayout()
        self.include_left = QCheckBox("Incl&ude students who have left")
        self.include_left.setToolTip(
            "Students no longer enrolled have no flags or tier; they are left out unless you ask (the Reports "
            "page counts current students too)."
        )
        row3.addWidget(self.include_left)
        row3.addStretch(1)
        self.count = QLabel()
        self.count.setAccessibleName("Students shown")
        row3.addWidget(self.count)
        layout.addLayout(row3)
        # said when the role may not see some flags' inputs (issue 11): counts and tiers leave them out
        self.partial_note = QLabel()
        self.partial_note.setWordWrap(True)
        self.partial_note.setAccessibleName("What the flag counts leave out")
        self.partial_note.hide()
        layout.addWidget(self.partial_note)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        layout.addWidget(self.message)

        self.model = StudentTableModel(self)
        from mapping_tool.ui.frozen_table import FrozenColumnsTableView

        # the name stays in view while the measures and flags scroll
        self.table = FrozenColumnsTableView(("surname", "first_name", "preferred_name"))
        self.table.setModel(self.model)
        self.table.setAccessibleName("Students")
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicatorShown(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        # several rows may be selected, for "Add to intervention"
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        # Tab leaves the table (arrows move in it); Ctrl+Shift+S sorts by the current column
        self.table.setTabKeyNavigation(False)
        self.table.setAccessibleDescription(
            "Arrow keys move between students and columns; Enter opens the student; "
            "Ctrl+Shift+S sorts by the current column (again to reverse); Tab leaves the table."
        )
        vh = self.table.verticalHeader()
        vh.hide()
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        hh.setHighlightSections(False)
        # Enter/Return and a double-click both "activate" a row (no Python event filter: one on a
        # view can be called while the view is being destroyed)
        self.table.activated.connect(lambda _i: self.open_selected())

        from mapping_tool.ui.pages.student_panel import StudentPanel

        self.panel = StudentPanel(session)
        self.panel.hide()
        self.panel.closed.connect(self._panel_closed)
        self.panel.changed.connect(self._student_changed)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.panel)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)

        self._reload = QTimer(self)  # one reload for several changes arriving together
        self._reload.setSingleShot(True)
        self._reload.setInterval(0)
        self._reload.timeout.connect(self.load)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self._search_entered)
        for box in (self.year, self.group, self.tier):
            box.currentIndexChanged.connect(self.apply_filter)
        self.min_flags.valueChanged.connect(self.apply_filter)
        self.new_only.toggled.connect(self.apply_filter)
        self.include_left.toggled.connect(self.apply_filter)
        self.clear_button.clicked.connect(self.clear_filters)
        self.open_button.clicked.connect(self.open_selected)
        self.assign_button.clicked.connect(self.add_to_intervention)
        self.print_button.clicked.connect(self.print_list)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.excel_button.clicked.connect(self.export_excel)
        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        find.triggered.connect(lambda: (self.search.setFocus(), self.search.selectAll()))
        print_action = QAction(self)
        print_action.setShortcut(QKeySequence.StandardKey.Print)
        print_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        print_action.triggered.connect(self.print_list)
        self.sort_action = QAction("&Sort by the current column", self)
        self.sort_action.setShortcut(QKeySequence("Ctrl+Shift+S"))
        self.sort_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.sort_action.setToolTip("Sort by the column of the current cell; again to reverse")
        self.sort_action.triggered.connect(self.sort_by_current_column)
        self.addActions([find, print_action, self.sort_action])
        self._set_busy(True, "Loading students…")
        self.load()

    # -- loading ----------------------------------------------------------------------------
    def load(self) -> None:
        """Fetch (off the UI thread) what the user may see; the filters apply when it arrives."""
        from mapping_tool.services import students

        session = self.session
        self._generation += 1
        generation = self._generation
        names = students.all_fields()
        wanted = [n for n in PREFERRED_ORDER if n in names] + [n for n in names if n not in PREFERRED_ORDER]
        # The listing is audit-logged on the UI thread when the rows arrive (with the keys shown),
        # never by the worker: an entry written there could land after a sign-out meanwhile.
        try:
            session.check_active()
        except KnownError as exc:
            self._load_failed(exc)
            return

        def work(progress: worker.Progress) -> object:
            from mapping_tool.services import flags

            table = students.list_students(session, fields=wanted, audit=False)
            return table, students.field_titles(), flags.partial_note(session)

        self.job = worker.runner.start(work, self)
        self.job.finished.connect(lambda result: self._loaded(result, generation))
        self.job.failed.connect(self._load_failed)

    def _loaded(self, result: object, generation: int) -> None:
        if generation != self._generation:
            return
        table, service_titles, self._note = result  # type: ignore[misc]
        from mapping_tool.services import students

        try:
            students.record_list_view(self.session, table, view="review")
        except KnownError as exc:  # signed out or disabled meanwhile: show nothing
            self._load_failed(exc)
            return
        titles = {**service_titles, **TITLES}
        selected = self.current_key()
        self.model.set_rows(table.columns, table.rows, titles)
        saved, shown = load_filter(self.session)
        self._restoring = True
        try:
            self._fill_choice(self.year, "year_level", "All year levels")
            self._fill_choice(self.group, "home_group", "All home groups")
            self._fill_flags()
            self._enable_for_columns()
            self._fill_columns(shown)
            # the saved filter when the page opens; the current one when a change reloads it
            self._set_controls(self.state if self._loaded_once else saved)
        finally:
            self._restoring = False
        self._loaded_once = True
        self._sized = set()
        self._size_columns()
        self._set_busy(False)
        self.apply_filter()
        self._say("" if table.rows else empty_hint(self.session))
        if selected:
            self.select_key(selected)
        self.loaded.emit()

    def _load_failed(self, exc: object) -> None:
        self._set_busy(False)
        if isinstance(exc, KnownError):
            self._say(exc.message)
        else:
            show_error(self, exc)  # type: ignore[arg-type]

    def _set_busy(self, busy: bool, text: str = "") -> None:
        for w in (self.print_button, self.pdf_button, self.excel_button, self.open_button, self.assign_button):
            w.setEnabled(not busy)
        if busy:
            self.count.setText(text)

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _fill_choice(self, box: QComboBox, column: str, everything: str) -> None:
        box.blockSignals(True)
        box.clear()
        box.addItem(everything, None)
        i = self.model.column_index(column)
        if i is not None:
            for value in sorted({r[i] for r in self.model.all_rows() if r[i]}):
                box.addItem(choice_text(column, value), value)
        box.setEnabled(i is not None)
        box.blockSignals(False)

    def _fill_flags(self) -> None:
        self.flags_menu.clear()
        self.flag_actions = {}
        for name in (*FLAG_NAMES, "relationships_concern"):
            if self.model.column_index(name) is None:
                continue
            action = QAction(FLAG_TITLES[name], self.flags_menu)
            action.setCheckable(True)
            action.toggled.connect(self._flags_changed)
            self.flags_menu.addAction(action)
            self.flag_actions[name] = action
        self.flags_button.setEnabled(bool(self.flag_actions))
        self._flags_label()

    def _flags_label(self) -> None:
        chosen = [FLAG_TITLES[n] for n, a in self.flag_actions.items() if a.isChecked()]
        if not chosen:
            self.flags_button.setText("F&lags: any")
        elif len(chosen) == 1:
            self.flags_button.setText(f"F&lags: {chosen[0]}")
        else:
            self.flags_button.setText(f"F&lags: any of {len(chosen)}")
        self.flags_button.setToolTip("Students with any of: " + ", ".join(chosen) if chosen else "Show only students with the flags you tick")

    def _flags_changed(self) -> None:
        self._flags_label()
        self.apply_filter()

    def _enable_for_columns(self) -> None:
        has = self.model.column_index
        self.min_flags.setEnabled(has("flag_count") is not None)
        self.tier.setEnabled(has("tier") is not None)
        self.new_only.setEnabled(has("new_flags") is not None)

    # -- columns ----------------------------------------------------------------------------
    def _fill_columns(self, shown: Sequence[str] | None) -> None:
        self.columns_menu.clear()
        wanted = set(shown) if shown else set(DEFAULT_COLUMNS)
        if not any(c in wanted for c in self.model.columns):
            wanted = set(DEFAULT_COLUMNS)
        self._shown = wanted
        self.column_actions: dict[str, QAction] = {}
        reset = self.columns_menu.addAction("Show the usual columns")
        reset.triggered.connect(self.reset_columns)
        self.columns_menu.addAction(self.sort_action)
        self.columns_menu.addSeparator()
        for i, name in enumerate(self.model.columns):
            action = QAction(one_line(self.model.titles.get(name, name)), self.columns_menu)
            action.setCheckable(True)
            action.setChecked(name in wanted)
            action.toggled.connect(lambda on, n=name: self.set_column_shown(n, on))
            self.columns_menu.addAction(action)
            self.column_actions[name] = action
            self.table.setColumnHidden(i, name not in wanted)

    def set_column_shown(self, name: str, shown: bool) -> None:
        i = self.model.column_index(name)
        if i is None:
            return
        self.table.setColumnHidden(i, not shown)
        if shown and name not in self._sized:
            self._size_columns([name])
        if self._shown is not None:
            (self._shown.add if shown else self._shown.discard)(name)
        action = self.column_actions.get(name)
        if action is not None and action.isChecked() != shown:
            action.blockSignals(True)
            action.setChecked(shown)
            action.blockSignals(False)
        if not self._restoring:
            save_filter(self.session, self.state, self.shown_columns())

    def reset_columns(self) -> None:
        for name in self.model.columns:
            self.set_column_shown(name, name in DEFAULT_COLUMNS)

    def shown_columns(self) -> list[str]:
        """The columns on screen, in screen order."""
        header = self.table.horizontalHeader()
        order = sorted(range(len(self.model.columns)), key=header.visualIndex)
        return [self.model.columns[i] for i in order if not self.table.isColumnHidden(i)]

    def _size_columns(self, only: Sequence[str] | None = None) -> None:
        """Widths from the header and a sample of rows (resizeColumnsToContents costs ~0.45 s on
        3,000 rows); hidden columns are sized when first shown."""
        metrics = self.table.fontMetrics()
        rows = self.model.all_rows()
        sample = rows[:300]
        oc = self.model.column_index("tier_override")
        if oc is not None:  # the tier column holds "monitor → priority (override)" for these
            sample = sample + [r for r in rows if r[oc]][:50]
        wanted = set(only) if only is not None else set(self.shown_columns())
        self._sized |= wanted
        for i, name in enumerate(self.model.columns):
            if name not in wanted:
                continue
            title = self.model.titles.get(name, name)
            width = max(metrics.horizontalAdvance(line) for line in title.split("\n")) + 26
            texts = {self.model.text(r, i) for r in sample}
            if texts:
                width = max(width, max(metrics.horizontalAdvance(t) for t in texts) + 16)
            if name in ("surname", "first_name", "preferred_name"):
                width = max(width, metrics.horizontalAdvance("M" * 9))
            self.table.setColumnWidth(i, min(width, 260))

    # -- filters ----------------------------------------------------------------------------
    def current_filter(self) -> ReviewFilter:
        return ReviewFilter(
            search=self.search.text(),
            year_level=self.year.currentData(),
            home_group=self.group.currentData(),
            flags=tuple(n for n, a in self.flag_actions.items() if a.isChecked()),
            min_flags=self.min_flags.value() if self.min_flags.isEnabled() else 0,
            tier=self.tier.currentData() if self.tier.isEnabled() else None,
            new_only=self.new_only.isChecked() and self.new_only.isEnabled(),
            include_left=self.include_left.isChecked(),
        )

    def _set_controls(self, state: ReviewFilter) -> None:
        """Put a (saved) filter into the controls; values that no longer exist are dropped."""
        widgets = (self.search, self.year, self.group, self.tier, self.min_flags, self.new_only, self.include_left,
                   *self.flag_actions.values())
        for w in widgets:
            w.blockSignals(True)
        try:
            self.search.setText(state.search)
            for box, value in ((self.year, state.year_level), (self.group, state.home_group), (self.tier, state.tier)):
                i = box.findData(value) if value is not None else 0
                box.setCurrentIndex(max(i, 0))
            self.min_flags.setValue(state.min_flags)
            self.new_only.setChecked(state.new_only)
            self.include_left.setChecked(state.include_left)
            for name, action in self.flag_actions.items():
                action.setChecked(name in state.flags)
        finally:
            for w in widgets:
                w.blockSignals(False)
        self._flags_label()

    def set_filter_state(self, state: ReviewFilter) -> None:
        self._set_controls(state)
        self.apply_filter()

    def clear_filters(self) -> None:
        self.set_filter_state(ReviewFilter())

    def apply_filter(self) -> None:
        self._debounce.stop()
        state = self.current_filter()
        self.state = state
        self.model.set_filter(search=state.search, predicate=filter_predicate(self.model.columns, state))
        shown = self.model.rowCount()
        current = is_current(self.model.columns)
        rows = self.model.all_rows()
        population = sum(1 for r in rows if current(r)) if current is not None else len(rows)
        left = len(rows) - population
        if state.include_left:
            base, what = len(rows), f"students ({population:,} current, {left:,} who have left)"
        else:
            base, what = population, "current students"
        self.count.setText(f"{shown:,} of {base:,} {what}" if shown != base else f"{base:,} {what}")
        note = getattr(self, "_note", "")
        self.partial_note.setText(f"<i>{escape(note)}</i>" if note else "")
        self.partial_note.setVisible(bool(note))
        if not self._restoring and self._shown is not None:
            save_filter(self.session, state, self.shown_columns())

    def _search_entered(self) -> None:
        """Enter in the search box filters now, and opens the student when only one matches."""
        self.apply_filter()
        if self.model.rowCount() == 1:
            key = self.model.key_at(0)
            if key:
                self.select_key(key)
                self.open_student(key)

    def sort_by_current_column(self) -> None:
        """The keyboard path to sorting: by the current cell's column, reversed when it already is."""
        index = self.table.currentIndex()
        header = self.table.horizontalHeader()
        column = index.column() if index.isValid() else header.sortIndicatorSection()
        if not 0 <= column < self.model.columnCount():
            return
        key = self.current_key()
        ascending = Qt.SortOrder.AscendingOrder
        order = ascending
        if header.sortIndicatorSection() == column and header.sortIndicatorOrder() == ascending:
            order = Qt.SortOrder.DescendingOrder
        self.table.sortByColumn(column, order)
        if key:
            row = self.model.row_of_key(key)
            if row is not None:
                self.table.setCurrentIndex(self.model.index(row, column))
        title = one_line(self.model.titles.get(self.model.columns[column], self.model.columns[column]))
        direction = "ascending" if order == ascending else "descending"
        self.table.setToolTip(f"Sorted by {title}, {direction}")

    # -- the student panel -------------------------------------------------------------------
    def current_key(self) -> str | None:
        index = self.table.currentIndex()
        if not index.isValid():
            rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
            if not rows:
                return None
            index = rows[0]
        return self.model.key_at(index.row())

    def select_key(self, key: str) -> bool:
        row = self.model.row_of_key(key)
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.setCurrentIndex(self.model.index(row, max(0, self.model.column_index("surname") or 0)))
        return True

    def open_selected(self) -> None:
        key = self.current_key()
        if key is None and self.model.rowCount() == 1:
            key = self.model.key_at(0)
        if key:
            self.open_student(key)

    def open_student(self, key: str) -> None:
        self.panel.show()
        if self.splitter.sizes()[1] < 300:
            total = sum(self.splitter.sizes()) or self.width()
            self.splitter.setSizes([int(total * 0.55), int(total * 0.45)])
        self.panel.show_student(key)
        self.student_opened.emit(key)

    def selected_students(self) -> list[tuple[str, str]]:
        """(key, "Surname, First") of the selected rows, in the table's order."""
        model = self.table.selectionModel()
        rows = sorted({i.row() for i in model.selectedRows()}) if model is not None else []
        out = []
        for row in rows:
            values = self.model.row_values(row)
            name = ", ".join(str(values.get(c) or "") for c in ("surname", "first_name") if values.get(c))
            out.append((str(values.get("student_key")), name))
        return out

    def add_to_intervention(self) -> None:
        """Map the selected rows of the filtered list to a programme (all or nothing)."""
        from mapping_tool.ui.pages.intervention_widgets import AssignDialog

        chosen = self.selected_students()
        if not chosen:
            self._say("Select the students first: filter the list, then select rows (Shift or Ctrl for several, "
                      "Ctrl+A for all shown).")
            return
        self.assign_dialog = AssignDialog(self.session, chosen, self)
        self.assign_dialog.done_with.connect(self._assigned)
        self.assign_dialog.open()

    def _assigned(self, mappings: object) -> None:
        count = len(mappings) if isinstance(mappings, list) else 0  # type: ignore[arg-type]
        programme = mappings[0].programme if count else ""  # type: ignore[index]
        self._say(f"Added {count} student{'s' if count != 1 else ''} to {programme}.")
        if self.panel.isVisible() and self.panel.key:
            self.panel.reload()
        self.assigned.emit(mappings)

    def _panel_closed(self) -> None:
        self.panel.hide()
        self.table.setFocus()

    def _student_changed(self, key: str) -> None:
        """The concern or an override changed: the flag count and tier of that row change too."""
        self._reload.start()

    def store_changed(self) -> None:
        """Another page changed the store (a refresh, a rule change, an override): load again."""
        self._reload.start()

    # -- print and export --------------------------------------------------------------------
    def _view_contents(self) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self.shown_columns(), self.model.visible_rows()

    def print_html(self) -> str:
        from mapping_tool.ui import printing

        columns, rows = self._view_contents()
        idx = [self.model.columns.index(c) for c in columns]
        cells = [[self.model.text(r, i) for i in idx] for r in rows]
        headers = [PRINT_TITLES.get(c) or one_line(self.model.titles.get(c, c)) for c in columns]
        if "surname" in columns and "first_name" in columns:  # one Name column saves a column's width
            s, f = columns.index("surname"), columns.index("first_name")
            for cell in cells:
                cell[s] = f"{cell[s]}, {cell[f]}" if cell[f] else cell[s]
                del cell[f]
            headers[s] = "Name"
            del headers[f]
        legend = ["✔ yes / – no: whether each risk factor applies; ★ marks a flag that is new since the last refresh."] if any(
            c in FLAG_TITLES for c in columns) else []
        school = self.session.store.school
        return printing.table_html(
            "Students for review",
            [
                f"{school.school_name if school else ''} — {len(rows):,} of {self.model.total():,} students",
                f"Showing: {self.state.describe()}",
                f"Printed {date.today():%d/%m/%Y} by {self.session.display_name} ({self.session.role.title}). "
                "Confidential: student information under the school's privacy assessment.",
                *legend,
            ],
            headers,
            cells,
            wrap=[h in ("Name", "Tier") for h in headers],
        )

    def _audit(self, action: str, detail: dict[str, Any], object_id: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """What left the tool: the columns, the student keys (and their hash), the filter."""
        key_col = self.model.column_index("student_key")
        keys = [r[key_col] for r in rows] if key_col is not None else []
        store = self.session.store
        with store.write() as s:
            store.audit(
                s, self.session.username, action, object_type="export", object_id=object_id,
                detail={
                    **detail, "rows": len(rows), "columns": list(columns), "student_keys": keys,
                    "keys_sha256": hashlib.sha256("\n".join(keys).encode()).hexdigest(), "filter": self.state.describe(with_search=False),
                },
            )

    def print_list(self) -> None:
        """Print preview first; the print is audit-logged with what it contained once printed."""
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        from mapping_tool.ui import printing

        if not self.model.rowCount():
            self._say("There are no students in the list to print.")
            return
        html = self.print_html()
        columns, rows = self._view_contents()
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintPreviewDialog(printer, self)
        dialog.setWindowTitle("Print preview – students for review")
        dialog.paintRequested.connect(lambda p: printing.print_html(html, p, landscape=True))
        printing.set_landscape(printer)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._audit("print.students", {"to": "printer", "printer": printer.printerName()}, "printer", columns, rows)
            self._say(f"Sent {len(rows):,} students to the printer.")
            self.printed.emit()
        dialog.deleteLater()

    def _ask_path(self, title: str, name: str, filters: str, suffixes: tuple[str, ...]):  # type: ignore[no-untyped-def]
        from mapping_tool.ui.save_dialog import ask_save_path

        return ask_save_path(self, title, name, filters, suffixes)

    def save_pdf(self) -> None:
        if not self.model.rowCount():
            self._say("There are no students in the list to save.")
            return
        target = self._ask_path("Save the list as PDF", f"students-{date.today():%d-%m-%Y}.pdf", "PDF (*.pdf)", (".pdf",))
        if target is None:
            return
        path, replace, folder = target.path, target.replace, self.session.store.files.folder
        html = self.print_html()
        columns, rows = self._view_contents()

        def work(progress: worker.Progress) -> object:
            from mapping_tool.ui import printing

            printing.html_to_pdf(
                html, path, store_folder=folder, replace=replace, title="Students for review", landscape=True
            )
            return path

        self._run_file_job(work, lambda p: self._file_done(p, "print.students", {"to": "pdf", "path": str(path)}, columns, rows))

    def export_excel(self) -> None:
        if not self.model.rowCount():
            self._say("There are no students in the list to export.")
            return
        target = self._ask_path(
            "Export the list to Excel", f"students-{date.today():%d-%m-%Y}.xlsx", "Excel (*.xlsx);;CSV (*.csv)",
            (".xlsx", ".csv"),
        )
        if target is None:
            return
        path, replace, folder = target.path, target.replace, self.session.store.files.folder
        columns, rows = self._view_contents()
        file_columns, headers, table = self.export_table(columns, rows)

        lines = self.export_lines(len(rows))

        def work(progress: worker.Progress) -> object:
            from mapping_tool.services.export import write_rows, write_table
            from mapping_tool.services.outputs import atomic_output
            from mapping_tool.services.workbook import finish_workbook

            if path.suffix.lower() != ".xlsx":
                write_table(path, headers, table, store_folder=folder, replace=replace, title="Students")
                return path
            # written and finished in a checked temp file beside the target, then put in place
            with atomic_output(path, store_folder=folder, replace=replace) as tmp:
                write_rows(tmp, headers, table, fmt="xlsx", title="Students")
                finish_workbook(tmp, "Students for review", lines)
            return path

        detail = {"path": str(path), "format": path.suffix.lstrip(".").lower()}
        self._run_file_job(work, lambda p: self._file_done(p, "export.students-view", detail, file_columns, rows))

    def export_lines(self, count: int) -> list[str]:
        """What an exported list is, by whom, and that it is confidential (above the table)."""
        school = self.session.store.school
        return [
            f"{school.school_name if school else ''}: {count:,} students. Showing: {self.state.describe()}",
            f"Exported {date.today():%d/%m/%Y} by {self.session.display_name} ({self.session.role.title}).",
            "Confidential: student information under the school's privacy assessment. Do not share it further.",
        ]

    def export_table(self, columns: list[str], rows: Sequence[tuple[Any, ...]]) -> tuple[list[str], list[str], list[list[Any]]]:
        """The on-screen columns (the tier's override in its own column) and rows, as values."""
        columns = list(columns)
        if "tier" in columns and "tier_override" not in columns and self.model.column_index("tier_override") is not None:
            columns.insert(columns.index("tier") + 1, "tier_override")
        idx = [self.model.columns.index(c) for c in columns]
        out = []
        for r in rows:
            values = []
            for c, i in zip(columns, idx, strict=True):
                v = r[i]
                if c == "new_flags":
                    v = new_flags_text(v)
                elif isinstance(v, float):
                    v = None if v != v else round(v, 1)
                values.append(v)
            out.append(values)
        return columns, [one_line(self.model.titles.get(c, c)) for c in columns], out

    def _run_file_job(self, work: Callable[[worker.Progress], object], done: Callable[[object], None]) -> None:
        for b in (self.print_button, self.pdf_button, self.excel_button):
            b.setEnabled(False)
        self._say("Saving…")
        self.file_job = worker.runner.start(work, self)
        self.file_job.finished.connect(done)
        self.file_job.failed.connect(self._file_failed)

    def _file_done(self, path: object, action: str, detail: dict[str, Any], columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        self._audit(action, detail, Path(str(path)).name, columns, rows)
        for b in (self.print_button, self.pdf_button, self.excel_button):
            b.setEnabled(True)
        self._say(f"Saved {len(rows):,} students to {path}.")
        self.exported.emit(path)

    def _file_failed(self, exc: object) -> None:
        for b in (self.print_button, self.pdf_button, self.excel_button):
            b.setEnabled(True)
        self._say("")
        if isinstance(exc, KnownError):
            self._say(exc.message)
        else:
            show_error(self, exc)  # type: ignore[arg-type]
