"""Pieces the Interventions screens share: figures in words (points, days, levels), a table model
over the services' frozen rows, and the dialogs that change data (a programme, mapping students
to a programme, ending a student's participation). Each dialog runs its service call off the UI
thread and stays open with the service's one sentence when it is refused."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from html import escape
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTableView,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.table_models import RowsTableModel

logger = logging.getLogger(__name__)

YES, NO = "✔ yes", "– no"
# Mirrors the service's check for editing the catalogue (the service enforces it).
CATALOGUE_ROLES = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
RATE_MEASURES = frozenset({"attendance_rate", "unapproved_rate"})
LOWER_IS_BETTER = frozenset({"unapproved_rate", "suspension_days", "flag_count"})
MEASURE_WORDS = {
    "attendance_rate": "Attendance rate",
    "unapproved_rate": "Unapproved absence rate",
    "suspension_days": "Suspension days",
    "english": "English result",
    "maths": "Maths result",
    "flag_count": "Number of risk flags",
}
KIND_WORDS = {
    "attendance": "Attendance", "engagement": "Engagement", "literacy": "Literacy", "numeracy": "Numeracy",
    "wellbeing": "Wellbeing", "careers/MIPs": "Careers / MIPs", "mentoring": "Mentoring",
    "external agency": "External agency", "other": "Other",
}
SENSITIVE_PROGRAMME = (
    "A sensitive programme (counselling, a family matter) shows who takes part only to welfare staff, principal "
    "class, the data custodian and its responsible staff member; to everyone else it does not exist."
)
STATUS_WORDS = {"planned": "Planned", "active": "Active", "completed": "Completed", "withdrawn": "Withdrawn"}

_DISPLAY = Qt.ItemDataRole.DisplayRole
_ACCESSIBLE = Qt.ItemDataRole.AccessibleTextRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def iv():  # type: ignore[no-untyped-def]
    from mapping_tool.services import interventions

    return interventions


def measure_title(measure: str) -> str:
    titles = getattr(iv(), "MEASURE_TITLES", None) or {}
    return str(titles.get(measure) or MEASURE_WORDS.get(measure) or measure.replace("_", " "))


def kind_title(kind: str) -> str:
    titles = getattr(iv(), "KIND_TITLES", None) or {}
    return str(titles.get(kind) or KIND_WORDS.get(kind) or kind)


def day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def yes_no(value: bool | None) -> str:
    if value is None:
        return ""
    return YES if value else NO


def level(value: float | None, measure: str) -> str:
    """A before or after figure with its unit."""
    if value is None:
        return ""
    if measure in RATE_MEASURES:
        return f"{value:.1f} %"
    if measure == "suspension_days":
        return f"{value:.1f} days"
    if measure == "flag_count":
        return f"{value:.1f} flags"
    return f"{value:.1f}"


def change(value: float | None, measure: str) -> str:
    """A change or a difference, signed, in points for rates ("0.0", never "-0.0")."""
    if value is None:
        return ""
    if abs(value) < 0.05:
        value = 0.0
    if measure in RATE_MEASURES:
        return f"{value:+.1f} points" if value else "0.0 points"
    if measure == "suspension_days":
        return f"{value:+.1f} days"
    if measure == "flag_count":
        return f"{value:+.1f} flags"
    return f"{value:+.1f}"


def chart_unit(measure: str) -> str:
    return "%" if measure in RATE_MEASURES else ""


def better_words(measure: str) -> str:
    return "Lower is better for this measure." if measure in LOWER_IS_BETTER else "Higher is better for this measure."


def to_qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def from_qdate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def date_edit(value: date | None = None, name: str = "") -> QDateEdit:
    edit = QDateEdit(to_qdate(value or date.today()))
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setCalendarPopup(True)
    if name:
        edit.setAccessibleName(name)
    return edit


def message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def say(label: QLabel, text: str) -> None:
    label.setText(text)
    label.setVisible(bool(text))


def plain_table(name: str) -> QTableView:
    """A read-only row table; Tab leaves it (arrows move within), rows selected whole."""
    table = QTableView()
    table.setAccessibleName(name)
    table.setTabKeyNavigation(False)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    vh = table.verticalHeader()
    vh.hide()
    vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    vh.setDefaultSectionSize(table.fontMetrics().height() + 8)
    hh = table.horizontalHeader()
    hh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    hh.setHighlightSections(False)
    hh.setStretchLastSection(True)
    return table


class CellsModel(RowsTableModel):
    """Rows of frozen views shown through ``cells(row) -> list[str]``; a cell's accessible text
    is the cell's words ("✔ yes" is heard as "yes")."""

    def __init__(self, headers: Sequence[str], cells: Callable[[Any], Sequence[str]], parent: Any = None,
                 right: Sequence[int] = ()) -> None:
        super().__init__(parent)
        self.HEADERS = tuple(headers)
        self._cells = cells
        self._right = frozenset(right)
        self._text: list[Sequence[str]] = []

    def set_rows(self, rows: Sequence[Any]) -> None:
        self._text = [self._cells(r) for r in rows]
        super().set_rows(rows)

    def text_rows(self) -> list[Sequence[str]]:
        return list(self._text)

    def data(self, index: Any, role: int = _DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._text):
            return None
        text = self._text[index.row()][index.column()]
        if role in (_DISPLAY, _TOOLTIP):
            return text
        if role == _ACCESSIBLE:
            return spoken(text)
        if role == _ALIGN and index.column() in self._right:
            return _RIGHT
        return None


def spoken(text: str) -> str:
    """What a screen reader hears for a cell: "yes" / "no", never the tick glyph."""
    if text == YES:
        return "yes"
    if text in (NO, "–"):
        return "no"
    return text.replace("✔ ", "yes, ").replace("★", "new")


def size_columns(table: QTableView, rows: Sequence[Sequence[str]], *, widest: int = 280) -> None:
    metrics = table.fontMetrics()
    model = table.model()
    for c in range(model.columnCount()):
        title = str(model.headerData(c, Qt.Orientation.Horizontal, _DISPLAY) or "")
        width = max((metrics.horizontalAdvance(p) for p in title.split("\n")), default=20) + 26
        texts = {r[c] for r in rows[:300]}
        if texts:
            width = max(width, max(metrics.horizontalAdvance(t) for t in texts) + 16)
        table.setColumnWidth(c, min(width, widest))


class ServiceDialog(QDialog):
    """A dialog whose OK runs one service call off the UI thread; refused: the sentence stays in
    the dialog and nothing changed. ``done_with`` carries the result once it succeeded."""

    done_with = Signal(object)

    def __init__(self, session: Any, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.job: worker.Job | None = None
        self.setWindowTitle(title)
        self.form = QFormLayout(self)
        self.message = message_label()
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def finish_layout(self) -> None:
        self.form.addRow(self.message)
        self.form.addRow(self.buttons)
        self.adjustSize()

    def call(self) -> Callable[[], object] | None:
        """The service call to make, or None (and a message) when the form is not complete."""
        raise NotImplementedError

    def submit(self) -> None:
        fn = self.call()
        if fn is None:
            return
        self.ok.setEnabled(False)
        say(self.message, "Saving…")
        self.job = worker.runner.start(lambda progress: fn(), self)
        self.job.finished.connect(self._succeeded)
        self.job.failed.connect(self._refused)

    def _succeeded(self, result: object) -> None:
        say(self.message, "")
        self.ok.setEnabled(True)
        self.done_with.emit(result)
        self.accept()

    def _refused(self, exc: object) -> None:
        self.ok.setEnabled(True)
        if isinstance(exc, KnownError):
            say(self.message, exc.message)
            self.adjustSize()
        else:
            say(self.message, "")
            show_error(self, exc)  # type: ignore[arg-type]


class ProgrammeDialog(ServiceDialog):
    """Add a programme, or change one (the service records a new version: who, when, what)."""

    def __init__(self, session: Any, programme: Any = None, parent: QWidget | None = None) -> None:
        super().__init__(session, "Change a programme" if programme else "Add a programme", parent)
        self.programme = programme
        self.setMinimumWidth(520)
        self.name = QLineEdit()
        self.name.setPlaceholderText("e.g. Breakfast club")
        self.kind = QComboBox()
        for k in iv().KINDS:
            self.kind.addItem(kind_title(k), k)
        self.measure = QComboBox()
        for m in iv().MEASURES:
            self.measure.addItem(measure_title(m), m)
        self.measure.setToolTip("What the programme is meant to change; its evaluation compares this measure before and after.")
        self.provider = QLineEdit()
        self.provider.setPlaceholderText("Who runs it (school staff, an agency)")
        self.responsible = QLineEdit()
        self.responsible.setPlaceholderText("User name of the staff member responsible")
        self.capacity = QSpinBox()
        self.capacity.setRange(0, 5000)
        self.capacity.setSpecialValueText("not limited")
        self.has_start = QCheckBox("From")
        self.start = date_edit(name="Programme runs from")
        self.has_end = QCheckBox("Until")
        self.end = date_edit(name="Programme runs until")
        self.description = QPlainTextEdit()
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(self.fontMetrics().height() * 4)
        self.description.setAccessibleName("Description")
        self.sensitive = QCheckBox("Participation is sensiti&ve")
        self.sensitive.setToolTip(SENSITIVE_PROGRAMME)
        dates = QHBoxLayout()
        for w in (self.has_start, self.start, self.has_end, self.end):
            dates.addWidget(w)
        dates.addStretch(1)
        self.has_start.toggled.connect(self.start.setEnabled)
        self.has_end.toggled.connect(self.end.setEnabled)
        for text, w in (("&Name:", self.name), ("&Kind:", self.kind), ("&Measure it targets:", self.measure),
                        ("&Provider:", self.provider), ("&Responsible staff:", self.responsible), ("&Seats:", self.capacity)):
            self.form.addRow(text, w)
        self.form.addRow("Runs:", dates)
        self.form.addRow("&Description:", self.description)
        self.form.addRow(self.sensitive)
        note = QLabel(SENSITIVE_PROGRAMME)
        note.setWordWrap(True)
        self.form.addRow(note)
        self.finish_layout()
        if programme is not None:
            self.name.setText(programme.name)
            self.kind.setCurrentIndex(max(0, self.kind.findData(programme.kind)))
            self.measure.setCurrentIndex(max(0, self.measure.findData(programme.measure)))
            self.provider.setText(programme.provider)
            self.responsible.setText(programme.responsible)
            self.capacity.setValue(programme.capacity or 0)
            if programme.start_date:
                self.start.setDate(to_qdate(programme.start_date))
            if programme.end_date:
                self.end.setDate(to_qdate(programme.end_date))
            self.has_start.setChecked(programme.start_date is not None)
            self.has_end.setChecked(programme.end_date is not None)
            self.description.setPlainText(programme.description)
            self.sensitive.setChecked(programme.sensitive)
        self.start.setEnabled(self.has_start.isChecked())
        self.end.setEnabled(self.has_end.isChecked())

    def values(self) -> dict[str, object]:
        return {
            "name": self.name.text().strip(),
            "kind": self.kind.currentData(),
            "measure": self.measure.currentData(),
            "provider": self.provider.text().strip(),
            "responsible": self.responsible.text().strip(),
            "capacity": self.capacity.value() or None,
            "start_date": from_qdate(self.start.date()) if self.has_start.isChecked() else None,
            "end_date": from_qdate(self.end.date()) if self.has_end.isChecked() else None,
            "description": self.description.toPlainText().strip(),
            "sensitive": self.sensitive.isChecked(),
        }

    def call(self) -> Callable[[], object] | None:
        values = self.values()
        if not values["name"]:
            say(self.message, "Give the programme a name.")
            self.name.setFocus()
            return None
        session, service = self.session, iv()
        if self.programme is None:
            name = values.pop("name")
            return lambda: service.add_programme(session, name, **values)
        old = self.programme
        changes = {k: v for k, v in values.items() if getattr(old, k) != v}
        if not changes:
            say(self.message, "Nothing was changed.")
            return None
        return lambda: service.update_programme(session, old.name, **changes)


class AssignDialog(ServiceDialog):
    """Map the chosen students to a programme (all or nothing): the "Add to intervention" action
    of a filtered list, the student panel and the meeting."""

    def __init__(self, session: Any, students: Sequence[tuple[str, str]], parent: QWidget | None = None,
                 programme: str | None = None) -> None:
        super().__init__(session, "Add to an intervention", parent)
        self.keys = [k for k, _ in students]
        self.setMinimumWidth(560)
        names = [f"{n} ({k})" if n else k for k, n in students]  # the key tells two of the same name apart
        shown = "; ".join(names[:8]) + (f"; and {len(names) - 8} more" if len(names) > 8 else "")
        who = QLabel(f"<b>{len(names)} student{'s' if len(names) != 1 else ''}:</b> {escape(shown)}")
        who.setWordWrap(True)
        who.setTextFormat(Qt.TextFormat.RichText)
        who.setMinimumHeight(who.heightForWidth(530))  # a form row does not grow for a wrapped label by itself
        self.form.addRow(who)
        self.programme = QComboBox()
        self.programme.setAccessibleName("Programme")
        self.programme.addItem("Loading the programmes…", None)
        self.start = date_edit(name="Start date")
        self.has_review = QCheckBox("Review on")
        self.has_review.setChecked(True)
        self.review = date_edit(date.today() + timedelta(weeks=8), "Review date")
        self.has_review.toggled.connect(self.review.setEnabled)
        self.start.dateChanged.connect(lambda d: self.review.setDate(d.addDays(56)))
        self.goal = QDoubleSpinBox()
        self.goal.setRange(-1, 1000)
        self.goal.setDecimals(1)
        self.goal.setValue(-1)
        self.goal.setSpecialValueText("no target")
        self.goal.setAccessibleName("Goal target")
        self.goal_hint = QLabel()
        self.goal_hint.setWordWrap(True)
        self.responsible = QLineEdit()
        self.responsible.setPlaceholderText("User name (empty: the programme's)")
        review_row = QHBoxLayout()
        review_row.addWidget(self.has_review)
        review_row.addWidget(self.review)
        review_row.addStretch(1)
        self.form.addRow("&Programme:", self.programme)
        self.form.addRow("&Start:", self.start)
        self.form.addRow("Review:", review_row)
        self.form.addRow("&Goal target:", self.goal)
        self.form.addRow("", self.goal_hint)
        self.form.addRow("&Responsible staff:", self.responsible)
        self.finish_layout()
        self.ok.setEnabled(False)
        self.programme.currentIndexChanged.connect(self._hint)
        self._wanted = programme
        self.programmes: list[Any] = []
        session_ = session
        self.load_job = worker.runner.start(lambda progress: iv().list_programmes(session_), self)
        self.load_job.finished.connect(self._programmes)
        self.load_job.failed.connect(self._refused)

    ready = Signal()

    def _programmes(self, programmes: object) -> None:
        self.programmes = [p for p in programmes if not p.retired]  # type: ignore[attr-defined]
        self.programme.clear()
        for p in self.programmes:
            seats = ""
            if p.capacity is not None:
                seats = f" — {max(p.capacity - p.participants, 0)} of {p.capacity} seats free"
            self.programme.addItem(f"{p.name} ({measure_title(p.measure).lower()}){seats}", p.name)
        if not self.programmes:
            self.programme.addItem("No programmes yet: add them on the Interventions page", None)
        if self._wanted:
            self.programme.setCurrentIndex(max(0, self.programme.findData(self._wanted)))
        self.ok.setEnabled(bool(self.programmes))
        self._hint()
        self.adjustSize()  # the programmes' names and the goal's hint may need more room
        self.ready.emit()

    def _hint(self) -> None:
        name = self.programme.currentData()
        p = next((p for p in self.programmes if p.name == name), None)
        if p is None:
            self.goal_hint.setText("")
            return
        if p.measure in RATE_MEASURES:
            text = ("e.g. 90 means attendance of at least 90 % after the start" if p.measure == "attendance_rate"
                    else "e.g. 5 means unapproved absence of at most 5 % after the start")
        elif p.measure == "suspension_days":
            text = "e.g. 0 means no suspension days after the start"
        elif p.measure == "flag_count":
            text = "e.g. 1 means at most 1 risk flag at the next refresh"
        else:
            text = "the result level to reach at the next semester report"
        self.goal_hint.setText(f"Against {measure_title(p.measure).lower()}: {text}.")

    def choose(self, programme: str) -> None:
        self.programme.setCurrentIndex(max(0, self.programme.findData(programme)))

    def call(self) -> Callable[[], object] | None:
        name = self.programme.currentData()
        if not name:
            say(self.message, "Choose a programme.")
            return None
        session, keys = self.session, list(self.keys)
        start = from_qdate(self.start.date())
        review = from_qdate(self.review.date()) if self.has_review.isChecked() else None
        goal = self.goal.value() if self.goal.value() >= 0 else None
        responsible = self.responsible.text().strip() or None
        return lambda: iv().assign(session, name, keys, start=start, review=review, goal_target=goal, responsible=responsible)


class EndDialog(ServiceDialog):
    """End a student's participation: completed, or withdrawn with a reason."""

    def __init__(self, session: Any, mapping: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, "End participation", parent)
        self.mapping = mapping
        who = mapping.student_name or mapping.student_key
        intro = QLabel(f"<b>{escape(who)}</b> in <b>{escape(mapping.programme)}</b>, since {day(mapping.start)}.")
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.end = date_edit(name="End date")
        self.status = QComboBox()
        self.status.addItem("Completed", "completed")
        self.status.addItem("Withdrawn", "withdrawn")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Why (required when withdrawn)")
        self.form.addRow("&Ended on:", self.end)
        self.form.addRow("&How it ended:", self.status)
        self.form.addRow("&Reason:", self.reason)
        self.finish_layout()

    def call(self) -> Callable[[], object] | None:
        status = self.status.currentData()
        reason = self.reason.text().strip()
        if status == "withdrawn" and not reason:
            say(self.message, "Give the reason the student was withdrawn.")
            self.reason.setFocus()
            return None
        session, m, end = self.session, self.mapping, from_qdate(self.end.date())
        return lambda: iv().end_mapping(session, m.programme, m.student_key, end=end, status=status, reason=reason)


def shortcut(widget: QWidget, keys: QKeySequence | QKeySequence.StandardKey | str, slot: Callable[[], object]) -> QAction:
    """A shortcut that works anywhere inside ``widget`` (and nowhere else)."""
    action = QAction(widget)
    action.setShortcut(QKeySequence(keys))
    action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    action.triggered.connect(slot)
    widget.addAction(action)
    return action


class OutcomeDialog(ServiceDialog):
    """An outcome note on a student's participation: a student note (with its sensitive label),
    named after the programme."""

    def __init__(self, session: Any, mapping: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, "Outcome note", parent)
        self.mapping = mapping
        who = mapping.student_name or mapping.student_key
        intro = QLabel(f"<b>{escape(who)}</b> in <b>{escape(mapping.programme)}</b>"
                       + (f" — goal: {escape(mapping.goal_text)}" if mapping.goal_text else ""))
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.text = QPlainTextEdit()
        self.text.setTabChangesFocus(True)
        self.text.setAccessibleName("Outcome note")
        self.text.setPlaceholderText("What happened: attendance since, what worked, what is next")
        self.text.setFixedHeight(self.fontMetrics().height() * 6)
        self.form.addRow(self.text)
        self.sensitive = QCheckBox("&Sensitive (read only by you, the data custodian, principal class and welfare staff)")
        self.form.addRow(self.sensitive)
        self.setMinimumWidth(480)
        self.finish_layout()

    def call(self) -> Callable[[], object] | None:
        text = self.text.toPlainText().strip()
        if not text:
            say(self.message, "Write the note first.")
            self.text.setFocus()
            return None
        session, mapping_id, sensitive = self.session, self.mapping.id, self.sensitive.isChecked()
        return lambda: iv().add_outcome_note(session, mapping_id, text, sensitive=sensitive)


def history_text(versions: Sequence[Any]) -> str:
    """Each change to a programme in words: who, when, what (old → new)."""
    from mapping_tool.ui.pages.student_panel import local_time

    lines = []
    for v in versions:
        when = f"{local_time(v.changed_at)} by {v.changed_by}"
        if v.version == 1:
            lines.append(f"Version 1, {when}: added")
            continue
        parts = []
        for field, pair in v.changes.items():
            old, new = (list(pair) + [None, None])[:2] if isinstance(pair, list | tuple) else (None, pair)
            parts.append(f"{field.replace('_', ' ')} {_word(old)} → {_word(new)}")
        lines.append(f"Version {v.version}, {when}: " + ("; ".join(parts) or "changed"))
    return "\n".join(lines)


def _word(value: object) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return f"{value[8:10]}/{value[5:7]}/{value[0:4]}"  # an ISO date kept in the history
    return str(value)


class MappingDialog(ServiceDialog):
    """Change a student's participation: the review date, the goal's target, who is responsible."""

    def __init__(self, session: Any, mapping: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, "Change participation", parent)
        self.mapping = mapping
        who = mapping.student_name or mapping.student_key
        intro = QLabel(f"<b>{escape(who)}</b> in <b>{escape(mapping.programme)}</b>, since {day(mapping.start)}.")
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.review = date_edit(mapping.review or mapping.start + timedelta(weeks=8), "Review date")
        self.goal = QDoubleSpinBox()
        self.goal.setRange(-1, 1000)
        self.goal.setDecimals(1)
        self.goal.setSpecialValueText("no target")
        self.goal.setValue(mapping.goal_target if mapping.goal_target is not None else -1)
        self.responsible = QLineEdit(mapping.responsible)
        self.responsible.setPlaceholderText("User name of the staff member responsible")
        self.form.addRow("&Review on:", self.review)
        self.form.addRow("&Goal target:", self.goal)
        self.form.addRow("Res&ponsible staff:", self.responsible)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. the goal was entered wrongly; agreed at the review meeting")
        self.reason.setAccessibleName("Reason for the change")
        self.reason.setToolTip("Kept with the earlier value, which stays visible on the student's record")
        self.form.addRow("Rea&son (kept with the earlier value):", self.reason)
        self.finish_layout()

    def call(self) -> Callable[[], object] | None:
        m = self.mapping
        review = from_qdate(self.review.date())
        goal = self.goal.value() if self.goal.value() >= 0 else None
        responsible = self.responsible.text().strip()
        changes: dict[str, Any] = {}
        if review != m.review:
            changes["review"] = review
        if goal is not None and goal != m.goal_target:
            changes["goal_target"] = goal
        if responsible and responsible != m.responsible:
            changes["responsible"] = responsible
        if not changes:
            say(self.message, "Nothing was changed.")
            return None
        session, reason = self.session, self.reason.text().strip()
        return lambda: iv().update_mapping(session, m.id, reason=reason, **changes)
