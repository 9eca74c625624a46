"""Administration tabs for the risk rules and the review-tier overrides.

Flags are yes/no, decided by rules kept as data. The data custodian changes one setting at a
time, with a reason; each change is a new rule version (who, when, why), after which the flags
of the latest extract are recomputed off the UI thread. Overrides of the review tier are listed
with the computed tier then and now, and can be cleared.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.pages.governance import ERROR_STYLE, OK_STYLE, local_time
from mapping_tool.ui.table_models import RowsTableModel

logger = logging.getLogger(__name__)

_Index = QModelIndex | QPersistentModelIndex


# -- values in words ---------------------------------------------------------------------------


def _flag_title(name: str) -> str:
    from mapping_tool.services.flags import FLAG_TITLES

    return FLAG_TITLES.get(name, name.replace("_", " "))


def value_text(name: str, value: Any) -> str:
    """A setting's value as the custodian reads it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        if name == "population_statuses":  # enrolment statuses in words, the code beside
            from mapping_tool.ui.pages.students import STATUS_WORDS

            return ", ".join(f"{STATUS_WORDS.get(str(v), str(v)).lower()} ({v})" for v in value) if value else "(none)"
        if name.endswith("_dimensions"):  # VCAA result areas in words, the code beside
            areas = {"ENGREA": "English reading", "ENGWRI": "English writing", "ENGSPL": "English speaking and listening",
                     "MATNUM": "Maths number", "MATSTR": "Maths structure", "MATMEA": "Maths measurement"}
            return ", ".join(f"{areas[str(v)]} ({v})" if str(v) in areas else str(v) for v in value) if value else "(none)"
        return ", ".join(str(v) for v in value) if value else "(none)"
    if isinstance(value, dict):  # the tier domains
        return "; ".join(
            f"{domain}: {', '.join(_flag_title(m).lower() for m in members)}" for domain, members in value.items()
        )
    return str(value)


def edit_text(name: str, value: Any) -> str:
    """A setting's value as text to edit (what ``parse_setting`` reads back)."""
    if isinstance(value, dict):
        return json.dumps(value)
    return value_text(name, value) if value != [] else ""


def value_hint(name: str, value: Any) -> str:
    if name.startswith("count_"):
        return "yes or no"
    if name == "domains":
        return 'JSON, e.g. {"attendance": ["flag_low_attendance", "flag_unapproved_absences"], …}'
    if isinstance(value, float):
        return "a number"
    if isinstance(value, int):
        return "a whole number"
    if isinstance(value, list | tuple):
        return "codes separated by commas"
    return "a code"


# -- the settings table -----------------------------------------------------------------------


@dataclass(frozen=True)
class SettingRow:
    name: str
    label: str
    value: Any


class SettingColumn(IntEnum):
    SETTING = 0
    VALUE = 1


SETTING_HEADERS = ("Setting", "Value")


class RuleSettingsModel(QAbstractTableModel):
    """Immutable SettingRow objects in the rules' display order."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[SettingRow] = []

    def set_rows(self, rows: list[SettingRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> SettingRow:
        return self._rows[row]

    def row_of(self, name: str) -> int:
        return next((i for i, r in enumerate(self._rows) if r.name == name), -1)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(SettingColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(SETTING_HEADERS):
            return SETTING_HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        col = SettingColumn(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return r.label if col is SettingColumn.SETTING else value_text(r.name, r.value)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{r.label} ({r.name}): {value_text(r.name, r.value)}"
        return None


class HistoryColumn(IntEnum):
    VERSION = 0
    WHEN = 1
    WHO = 2
    WHY = 3
    CHANGED = 4


HISTORY_HEADERS = ("Version", "When", "Who", "Why", "What changed")


@dataclass(frozen=True)
class HistoryRow:
    version: int
    created_at: datetime
    created_by: str
    reason: str
    changed: str


def history_rows(views: list[Any]) -> list[HistoryRow]:
    """RulesView objects (newest first) with what each version changed from the one before."""
    from risk_factors import SETTING_LABELS

    ordered = sorted(views, key=lambda v: v.version)
    out: list[HistoryRow] = []
    previous = None
    for v in ordered:
        if previous is None:
            changed = "The default rules"
        else:
            diffs = [
                f"{SETTING_LABELS.get(name, name)}: {value_text(name, previous.settings.get(name))} → {value_text(name, value)}"
                for name, value in v.settings.items()
                if previous.settings.get(name) != value
            ]
            changed = "; ".join(diffs) or "No setting changed"
        out.append(HistoryRow(v.version, v.created_at, v.created_by, v.reason, changed))
        previous = v
    return list(reversed(out))


class RuleHistoryModel(RowsTableModel):
    """Immutable HistoryRow objects, newest first."""

    HEADERS = tuple(HISTORY_HEADERS)

    def cell(self, r: HistoryRow, column: int, role: int):  # type: ignore[no-untyped-def]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        col = HistoryColumn(column)
        if col is HistoryColumn.VERSION:
            return f"v{r.version}"
        if col is HistoryColumn.WHEN:
            return local_time(r.created_at, "%d/%m/%Y %H:%M")
        if col is HistoryColumn.WHO:
            return r.created_by
        if col is HistoryColumn.WHY:
            return r.reason
        return r.changed


# -- the change dialog ---------------------------------------------------------------------------


class RuleChangeDialog(QDialog):
    """The new value of one setting and why (kept with the new rule version)."""

    def __init__(self, label: str, current: str, hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change a risk rule")
        self.setMinimumWidth(520)
        form = QFormLayout(self)
        intro = QLabel(
            f"<b>{label}</b><br/>Now: {current or '(none)'}<br/><br/>The change is kept as a new rule version with "
            "your name, the time and your reason, and the flags of the latest extract are recomputed under it."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.value = QLineEdit(current)
        self.value.setPlaceholderText(hint)
        self.value.setAccessibleName("New value")
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("e.g. Agreed at the wellbeing team meeting of 12/08")
        self.reason.setAccessibleName("Reason for the change")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        value_label = QLabel("&New value:")
        value_label.setBuddy(self.value)
        reason_label = QLabel("&Why:")
        reason_label.setBuddy(self.reason)
        form.addRow(value_label, self.value)
        form.addRow(QLabel(f"<small>{hint}</small>"))
        form.addRow(reason_label, self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("Save as a new rule version")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self.reason.textChanged.connect(self._update)
        self.value.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.ok_button.setEnabled(bool(self.value.text().strip()) and bool(self.reason.toPlainText().strip()))

    @classmethod
    def ask(cls, parent: QWidget | None, label: str, current: str, hint: str) -> tuple[str, str] | None:
        """(new value text, reason), or None when cancelled. Tests replace this."""
        dialog = cls(label, current, hint, parent)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.value.text(), dialog.reason.toPlainText()
        finally:
            dialog.deleteLater()


# -- the rules tab ----------------------------------------------------------------------------------


class RulesPage(QWidget):
    """The current rule version, every setting, and the history; the custodian edits."""

    changed = Signal(int)  # the new rule version

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.editable = bool(session.is_custodian)
        self.job: worker.Job | None = None
        self.current: Any = None
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Each flag is yes or no, decided by the rules below. "
            + (
                "Select a setting and choose Change to set a new value; you must say why. Each change becomes a new "
                "rule version (who, when, why) and the flags of the latest extract are recomputed under it; earlier "
                "flags keep the version they were made with."
                if self.editable
                else "Only the data custodian changes them; this view is read-only."
            )
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.version_label = QLabel()
        self.version_label.setWordWrap(True)
        self.version_label.setAccessibleName("Current rule version")
        self.version_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.version_label)

        splitter = QSplitter(Qt.Orientation.Vertical)
        settings_box = QGroupBox("Settings of the current version")
        sl = QVBoxLayout(settings_box)
        self.settings_model = RuleSettingsModel(self)
        self.settings_table = QTableView()
        self.settings_table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.settings_table.setModel(self.settings_model)
        self.settings_table.setAccessibleName("Risk rule settings")
        self.settings_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.settings_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.settings_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.settings_table.verticalHeader().hide()
        self.settings_table.setAlternatingRowColors(True)
        self.settings_table.setWordWrap(False)
        sh = self.settings_table.horizontalHeader()
        sh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        sh.resizeSection(SettingColumn.SETTING, self.fontMetrics().horizontalAdvance("Family occupation group meaning not in paid work") + 30)
        sh.setStretchLastSection(True)
        self.settings_table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        sl.addWidget(self.settings_table, 1)
        row = QHBoxLayout()
        self.change_button = QPushButton("&Change…")
        if not self.editable:  # never shown before it has a parent
            self.change_button.hide()
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)  # indeterminate
        self.busy.setMaximumWidth(160)
        self.busy.setTextVisible(False)
        self.busy.setAccessibleName("Recomputing flags")
        self.busy.hide()
        self.busy_label = QLabel("Saving the new rule version and recomputing the flags…")
        self.busy_label.hide()
        row.addWidget(self.change_button)
        row.addWidget(self.busy)
        row.addWidget(self.busy_label)
        row.addStretch(1)
        sl.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setAccessibleName("Risk rules message")
        self.message.hide()
        sl.addWidget(self.message)
        splitter.addWidget(settings_box)

        history_box = QGroupBox("Rule versions")
        hl = QVBoxLayout(history_box)
        self.history_model = RuleHistoryModel(self)
        self.history_table = QTableView()
        self.history_table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.history_table.setModel(self.history_model)
        self.history_table.setAccessibleName("Rule versions")
        self.history_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_table.verticalHeader().hide()
        # Who, why and what changed in full: it is the record of the rules.
        self.history_table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.history_table.setWordWrap(True)
        self.history_table.setAlternatingRowColors(True)
        hh = self.history_table.horizontalHeader()
        hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        fm = self.fontMetrics()
        for col, sample in ((HistoryColumn.VERSION, "Version"), (HistoryColumn.WHEN, "00/00/0000 00:00"),
                            (HistoryColumn.WHO, "username-long"), (HistoryColumn.WHY, "A reason of some length, wrapped over lines")):
            hh.resizeSection(col, fm.horizontalAdvance(sample) + 24)
        hh.setStretchLastSection(True)
        hl.addWidget(self.history_table)
        splitter.addWidget(history_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)

        self.change_button.clicked.connect(self.change_selected)
        self.settings_table.doubleClicked.connect(lambda _i: self.change_selected())
        self.settings_table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.refresh()

    # -- data ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        from mapping_tool.services import flags
        from risk_factors import SETTING_LABELS

        selected = self.selected_setting()
        try:
            current = flags.show_rules(self.session)
            history = flags.rule_history(self.session)
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        self.current = current
        self.settings_model.set_rows(
            [SettingRow(name, SETTING_LABELS.get(name, name), value) for name, value in current.settings.items()]
        )
        self.history_model.set_rows(history_rows(history))
        if current.version == 0:
            self.version_label.setText(
                "<b>The default rules.</b> They become rule version 1 at the first import or the first change."
            )
        else:
            self.version_label.setText(
                f"<b>Rule version {current.version}</b>, made by {current.created_by} on "
                f"{local_time(current.created_at, '%d/%m/%Y at %H:%M')}. Why: “{_escape(current.reason)}”"
            )
        if selected:
            self.select_setting(selected)
        self._update_buttons()

    def selected_setting(self) -> str:
        rows = self.settings_table.selectionModel().selectedRows() if self.settings_table.selectionModel() else []
        return self.settings_model.row_at(rows[0].row()).name if rows else ""

    def select_setting(self, name: str) -> None:
        row = self.settings_model.row_of(name)
        if row >= 0:
            self.settings_table.selectRow(row)

    def value_of(self, name: str) -> str:
        row = self.settings_model.row_of(name)
        return self.settings_model.index(row, SettingColumn.VALUE).data() if row >= 0 else ""

    def _update_buttons(self) -> None:
        busy = self.job is not None and self.job.running
        self.change_button.setEnabled(self.editable and not busy and bool(self.selected_setting()))

    def _say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else OK_STYLE if ok else "")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    # -- changing ----------------------------------------------------------------------------------
    def change_selected(self) -> None:
        name = self.selected_setting()
        if not self.editable:
            return
        if not name:
            self._say("Select a setting first.", error=True)
            return
        self.change_setting(name)

    def change_setting(self, name: str) -> None:
        """Ask for the new value and the reason, then save off the UI thread."""
        from risk_factors import SETTING_LABELS

        if self.job is not None and self.job.running or self.current is None:
            return
        value = self.current.settings.get(name)
        answer = RuleChangeDialog.ask(self, SETTING_LABELS.get(name, name), edit_text(name, value), value_hint(name, value))
        if answer is None:
            return
        value_text_, reason = answer
        self.apply_change(name, value_text_, reason)

    def apply_change(self, name: str, value: str, reason: str) -> None:
        session = self.session

        def work(_progress: worker.Progress) -> object:
            from mapping_tool.services import flags

            return flags.set_rule(session, name, value, reason)

        self._set_busy(True)
        self._say("")
        self.job = worker.runner.start(work, self)
        self.job.finished.connect(lambda version: self._saved(name, version))
        self.job.failed.connect(self._failed)

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        self.busy_label.setVisible(busy)
        self.settings_table.setEnabled(not busy)
        if busy:
            self.change_button.setEnabled(False)
        else:
            self._update_buttons()

    def _saved(self, name: str, version: object) -> None:
        from risk_factors import SETTING_LABELS

        self._set_busy(False)
        self.refresh()
        self.select_setting(name)
        self._say(
            f"Saved as rule version {version}: {SETTING_LABELS.get(name, name)} is now {self.value_of(name)}. "
            "The flags of the latest extract were recomputed under it.",
            ok=True,
        )
        self.changed.emit(int(version))  # type: ignore[call-overload]

    def _failed(self, exc: object) -> None:
        self._set_busy(False)
        if isinstance(exc, KnownError):
            self._say(f"Not changed: {exc.message}", error=True)
        else:
            self._say("")
            show_error(self, exc)  # type: ignore[arg-type]


def _escape(text: str) -> str:
    import html

    return html.escape(text)


# -- the overrides tab --------------------------------------------------------------------------------


class OverrideColumn(IntEnum):
    STUDENT = 0
    YEAR = 1
    HOME_GROUP = 2
    TIER = 3
    THEN = 4
    NOW = 5
    REASON = 6
    BY = 7
    AT = 8


OVERRIDE_HEADERS = (
    "Student", "Year", "Home\ngroup", "Tier set\nby staff", "Computed\nthen", "Computed\nnow", "Reason", "By", "When",
)


@dataclass(frozen=True)
class OverrideRow:
    student_key: str
    name: str
    year_level: str
    home_group: str
    tier: str
    computed_then: str
    computed_now: str
    reason: str
    by: str
    at: datetime


class TierOverrideModel(QAbstractTableModel):
    """Immutable OverrideRow objects; a computed tier that moved since the override is marked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[OverrideRow] = []

    def set_rows(self, rows: list[OverrideRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> OverrideRow:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(OverrideColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(OVERRIDE_HEADERS):
            return OVERRIDE_HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        r = self._rows[index.row()]
        col = OverrideColumn(index.column())
        moved = r.computed_now != r.computed_then
        if role == Qt.ItemDataRole.BackgroundRole and col is OverrideColumn.NOW and moved:
            return QBrush(QColor("#fbe9c6"))
        if role == Qt.ItemDataRole.ToolTipRole:
            if col is OverrideColumn.NOW and moved:
                return "The computed tier has changed since the override was made: review it."
            if col is OverrideColumn.REASON:
                return r.reason
            return None
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if col is OverrideColumn.STUDENT:
            return f"{r.name} ({r.student_key})" if r.name else r.student_key
        if col is OverrideColumn.YEAR:
            return r.year_level
        if col is OverrideColumn.HOME_GROUP:
            return r.home_group
        if col is OverrideColumn.TIER:
            return r.tier
        if col is OverrideColumn.THEN:
            return r.computed_then or "–"
        if col is OverrideColumn.NOW:
            now = r.computed_now or "–"
            return f"{now} (changed)" if moved else now
        if col is OverrideColumn.REASON:
            return r.reason
        if col is OverrideColumn.BY:
            return r.by
        return local_time(r.at, "%d/%m/%Y %H:%M")


class TierOverridesPanel(QWidget):
    """Active tier overrides, with the computed tier then and now; the custodian clears one."""

    changed = Signal()

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Staff may set a student's review tier by hand, with a reason. The override stays until it is "
            "cleared; each refresh shows it beside the tier the rules compute, and a computed tier that has "
            "changed since the override was made is marked for review."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model = TierOverrideModel(self)
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setModel(self.model)
        self.table.setAccessibleName("Tier overrides")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setWordWrap(True)  # the reason in full: overrides are few
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(OverrideColumn.REASON, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.clear_button = QPushButton("C&lear the override…")
        row.addWidget(self.clear_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Tier overrides message")
        layout.addWidget(self.status)
        self.clear_button.clicked.connect(self.clear_selected)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.refresh()

    def refresh(self) -> None:
        from mapping_tool.services import flags, students

        selected = self.selected_key()
        try:
            overrides = flags.list_overrides(self.session)
            people: dict[str, dict[str, Any]] = {}
            if overrides:
                table = students.list_students(
                    self.session, fields=("student_key", "surname", "first_name", "year_level", "home_group"), audit=False
                )
                wanted = {o.student_key for o in overrides}
                for values in table.rows:
                    record = dict(zip(table.columns, values, strict=True))
                    if record["student_key"] in wanted:
                        people[record["student_key"]] = record
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        rows = []
        for o in overrides:
            p = people.get(o.student_key, {})
            name = f"{p.get('surname') or ''}, {p.get('first_name') or ''}".strip(", ")
            rows.append(OverrideRow(
                o.student_key, name, str(p.get("year_level") or ""), str(p.get("home_group") or ""), o.tier,
                o.computed_then, o.computed_now, o.reason, o.by, o.at,
            ))
        self.model.set_rows(rows)
        for i in range(self.model.rowCount()):
            if self.model.row_at(i).student_key == selected:
                self.table.selectRow(i)
        self._update_buttons()
        if not rows:
            self._say("No student's tier is overridden.")
        else:
            self._say(f"{len(rows)} active override{'s' if len(rows) != 1 else ''}.")

    def selected_key(self) -> str:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.model.row_at(rows[0].row()).student_key if rows else ""

    def select_key(self, key: str) -> None:
        for i in range(self.model.rowCount()):
            if self.model.row_at(i).student_key == key:
                self.table.selectRow(i)

    def _update_buttons(self) -> None:
        self.clear_button.setEnabled(bool(self.selected_key()))

    def _say(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        self.status.setStyleSheet(ERROR_STYLE if error else OK_STYLE if ok else "")
        self.status.setText(text)

    def clear_selected(self) -> None:
        from mapping_tool.services import flags

        key = self.selected_key()
        if not key:
            self._say("Select an override first.", error=True)
            return
        row = next(self.model.row_at(i) for i in range(self.model.rowCount()) if self.model.row_at(i).student_key == key)
        who = f"{row.name} ({key})" if row.name else key
        answer = QMessageBox.question(
            self,
            "Clear the override",
            f"Clear the override of {who}'s review tier ({row.tier}, set by {row.by})?\n\n"
            f"The student's tier goes back to the computed one ({row.computed_now or 'none'}). The override and its "
            "clearing stay in the audit log.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            flags.clear_override(self.session, key)
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return
        self.refresh()
        self._say(f"The override of {who} was cleared; the computed tier ({row.computed_now or 'none'}) applies.", ok=True)
        self.changed.emit()
