"""The student panel beside the review table: identity as permitted, each measure across
refreshes (a small chart each), each flag with its one-sentence explanation, the staff-recorded
relationships concern, the tier with override controls, notes with sensitive labels, the
student's interventions with their evaluation, and their referrals, consents and file notes.

Everything is read through the services with the signed-in user (which check scope and policy
and record the view in the audit log), on a worker thread; the panel only shows what comes back.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.pages.students import (
    FLAG_NAMES,
    FLAG_TITLES,
    NEW_MARK,
    NO,
    STATUS_WORDS,
    YES,
    new_flag_names,
    tier_word,
    year_text,
)

logger = logging.getLogger(__name__)

# Mirrors flags.override_tier's and set_relationships_concern's role checks (the service enforces
# them; the panel only decides which controls to offer).
OVERRIDE_ROLES = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR)
CONCERN_ROLES = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR, Role.HOME_GROUP_TEACHER)

# (field, chart title, unit, rule setting giving its threshold)
MEASURES = (
    ("attendance_rate", "Attendance", "%", "attendance_rate_below"),
    ("unapproved_days", "Unapproved absence days", "", "unapproved_days_at_least"),
    ("internal_suspension_days", "Internal suspension days", "", None),
    ("external_suspension_days", "External suspension days", "", None),
    ("result_engrea", "English reading (level)", "", None),
    ("result_engwri", "English writing (level)", "", None),
    ("result_matnum", "Maths number (level)", "", None),
    ("result_matstr", "Maths structure (level)", "", None),
)
IDENTITY = (
    ("student_key", "Key"), ("year_level", "Year level"), ("home_group", "Home group"), ("house", "House"),
    ("status", "Status"), ("gender", "Gender"), ("birth_date", "Birth date"), ("entry_date", "Entry date"),
    ("exit_date", "Exit date"),
)
SENSITIVE_TEXT = (
    "A sensitive note is read only by you, the data custodian, principal class and welfare staff; "
    "others who see this student see that it exists, so they know to ask."
)


def local_time(value: datetime | None) -> str:
    """Stored times are UTC without a zone; shown in local time, dd/mm/yyyy."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().strftime("%d/%m/%Y %H:%M")


@dataclass(frozen=True)
class PanelData:
    key: str
    record: dict[str, Any]
    flags: Any  # flags.StudentFlagsView
    history: list[dict[str, Any]]
    notes: list[Any]  # notes.NoteView
    thresholds: dict[str, Any]
    staff: dict[str, str] = field(default_factory=dict)  # user name -> the person's name
    interventions: Any = None  # interventions.StudentInterventions, or the sentence why not shown


def load_panel_data(session, key: str) -> PanelData:  # type: ignore[no-untyped-def]
    """Everything the panel shows, through the services (scope, policy and the audit entry)."""
    from mapping_tool.services import flags, notes, students

    record = students.get_student(session, key)
    view = flags.student_flags(session, key, audit=False)
    history = flags.history(session, key, audit=False)
    note_views = notes.list_notes(session, key)
    try:
        thresholds = flags.show_rules(session).settings
    except KnownError:
        thresholds = {}
    import matplotlib.figure  # noqa: F401  (warm the import off the UI thread)

    from mapping_tool.services.people import staff_names

    found = load_interventions(session, view.student_key)
    changed_by = [c.changed_by for m in getattr(found, "mappings", ()) for c in m.changes]
    who = [session.username, view.concern_recorded_by, str(view.override["by"]) if view.override else "", *(n.author for n in note_views),
           *(n.corrected_by for n in note_views if n.corrected_by), *changed_by]
    return PanelData(view.student_key, record, view, history, note_views, thresholds, staff_names(session, who), found)


def load_interventions(session, key: str) -> Any:  # type: ignore[no-untyped-def]
    """The student's interventions with their evaluation; refused: the sentence, shown in place."""
    from mapping_tool.services import interventions

    try:
        return interventions.student_interventions(session, key)
    except KnownError as exc:
        return exc.message


def _muted(html: str) -> QLabel:
    """Secondary text in the palette's placeholder colour (readable in light and dark themes)."""
    label = _label(html)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, palette.color(QPalette.ColorRole.PlaceholderText))
    label.setPalette(palette)
    return label


def _change_value(field: str, value: str) -> str:
    if not value:
        return "no target" if field == "goal_target" else "not set"
    if field == "review_date":
        try:
            return datetime.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            return value
    return value


def _change_text(c: Any, by: str, name: Any = str) -> str:
    """An earlier value of a participation, in words: "Goal target was 85, changed to 90 on
    01/12/2026 by Pat Smith (reason: ...)"; ``name`` turns a user name into the person's name."""
    old, new = (name(v) if c.field == "responsible" and v else v for v in (c.old, c.new))
    text = (f"{c.what.capitalize()} was {_change_value(c.field, old)}, changed to {_change_value(c.field, new)} "
            f"on {local_time(c.changed_at)[:10]} by {by}")
    return text + (f" (reason: {c.reason})" if c.reason else "")


def _section(title: str) -> tuple[QGroupBox, QVBoxLayout]:
    box = QGroupBox(title)
    layout = QVBoxLayout(box)
    layout.setContentsMargins(10, 8, 10, 8)
    layout.setSpacing(4)
    return box, layout


def _label(html: str, *, selectable: bool = True) -> QLabel:
    label = QLabel(html)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    return label


class StudentPanel(QWidget):
    """Opened from the table (Enter or double-click); Esc or Close returns to the table."""

    closed = Signal()
    changed = Signal(str)  # the concern or the tier of this student changed
    shown = Signal(str)  # a student's data arrived and is on screen
    failed = Signal(str)

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.key: str | None = None
        self.data: PanelData | None = None
        self.job: worker.Job | None = None
        self.action_job: worker.Job | None = None
        self.setMinimumWidth(420)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(8, 0, 0, 0)
        bar = QHBoxLayout()
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        bar.addWidget(self.title, 1)
        self.close_button = QPushButton("Close")
        self.close_button.setAccessibleName("Close the student panel")
        self.close_button.setToolTip("Close the student panel (Esc)")
        self.close_button.clicked.connect(self.closed)
        bar.addWidget(self.close_button)
        outer.addLayout(bar)
        self.status = QLabel()
        self.status.setWordWrap(True)
        outer.addWidget(self.status)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # text wraps instead
        self.scroll.setAccessibleName("Student panel")
        outer.addWidget(self.scroll, 1)
        self.body = QWidget()
        self.scroll.setWidget(self.body)
        escape_action = QAction(self)
        escape_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        escape_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape_action.triggered.connect(self.closed)
        self.addAction(escape_action)
        # widgets of the current student (rebuilt for each)
        self.concern: QCheckBox | None = None
        self.concern_note: QLabel | None = None
        self.tier_box: QComboBox | None = None
        self.reason: QLineEdit | None = None
        self.override_button: QPushButton | None = None
        self.clear_override_button: QPushButton | None = None
        self.tier_label: QLabel | None = None
        self.tier_message: QLabel | None = None
        self.note_text: QPlainTextEdit | None = None
        self.note_sensitive: QCheckBox | None = None
        self.note_button: QPushButton | None = None
        self.notes_box: QVBoxLayout | None = None
        self.note_labels: list[QLabel] = []
        self.note_buttons: dict[int, list[QPushButton]] = {}  # a note's "Earlier versions…" / "Correct…"
        self.explanation_labels: list[QLabel] = []
        self.flag_labels: dict[str, QLabel] = {}
        self.charts: dict[str, Any] = {}
        self.intervention_labels: list[QLabel] = []
        self.end_buttons: list[QPushButton] = []
        self.outcome_buttons: list[QPushButton] = []
        self.change_buttons: list[QPushButton] = []
        self.assign_button: QPushButton | None = None
        self.dialog: QWidget | None = None

    # -- loading ----------------------------------------------------------------------------
    def show_student(self, key: str) -> None:
        # the same student again (after a save): keep the place in the panel
        self._keep_scroll = self.scroll.verticalScrollBar().value() if key == self.key and self.data is not None else None
        self.key = key
        self.status.setText("Loading…")
        self.title.setText(f"<h3>{escape(key)}</h3>")
        session = self.session
        job = worker.runner.start(lambda progress: load_panel_data(session, key), self)
        self.job = job
        job.finished.connect(lambda data, job=job: self._arrived(data, job))
        job.failed.connect(self._load_failed)

    def reload(self) -> None:
        if self.key:
            self.show_student(self.key)

    def _arrived(self, data: object, job: worker.Job) -> None:
        if job is not self.job:
            return  # another student was opened meanwhile
        self.data = data  # type: ignore[assignment]
        self.status.setText("")
        self._render(self.data)  # type: ignore[arg-type]
        self.scroll.setFocus()
        keep = getattr(self, "_keep_scroll", None)
        if keep:
            bar = self.scroll.verticalScrollBar()
            bar.setValue(keep)
            QTimer.singleShot(0, lambda: bar.setValue(keep))  # once the new body is laid out
        self.shown.emit(self.data.key)  # type: ignore[union-attr]

    def _load_failed(self, exc: object) -> None:
        if isinstance(exc, KnownError):
            self.status.setText(exc.message)
            self.failed.emit(exc.message)
        else:
            self.status.setText("")
            show_error(self, exc)  # type: ignore[arg-type]

    # -- rendering --------------------------------------------------------------------------
    def _render(self, data: PanelData) -> None:
        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(0, 0, 6, 6)
        layout.setSpacing(8)
        self.flag_labels, self.explanation_labels, self.note_labels, self.charts = {}, [], [], {}
        r = data.record
        name = ", ".join(p for p in (str(r.get("surname") or ""), str(r.get("first_name") or "")) if p) or data.key
        if r.get("preferred_name"):
            name += f" ({r['preferred_name']})"
        self.title.setText(f"<h3 style='margin:0'>{escape(name)}</h3>")
        self.scroll.setAccessibleName(f"Student panel: {name}")
        facts = []
        for field_name, title in IDENTITY:
            if field_name in r and r[field_name] not in (None, ""):
                value = r[field_name]
                text = value.strftime("%d/%m/%Y") if hasattr(value, "strftime") else str(value)
                if field_name == "status":
                    text = STATUS_WORDS.get(text, text)
                elif field_name == "gender":
                    text = {"F": "Female", "M": "Male", "X": "Another term"}.get(text, text)
                elif field_name == "year_level":
                    text = year_text(text)
                facts.append(f"{title}: <b>{escape(text)}</b>")
        layout.addWidget(_label(" &nbsp;·&nbsp; ".join(facts)))
        layout.addWidget(self._flags_section(data))
        layout.addWidget(self._tier_section(data))
        layout.addWidget(self._interventions_section(data))
        layout.addWidget(self._measures_section(data))
        layout.addWidget(self._notes_section(data))
        layout.addWidget(self._referrals_section(data))
        if self.session.role in (Role.CUSTODIAN, Role.PRINCIPAL):
            layout.addWidget(self._access_request_section())
        layout.addStretch(1)
        self.scroll.setWidget(self.body)  # deletes the previous one

    def _referrals_section(self, data: PanelData) -> QGroupBox:
        from mapping_tool.ui.pages.referrals import StudentReferralsSection

        box, box_layout = _section("Referrals")
        self.referrals_section = StudentReferralsSection(self.session, data.key, box)
        box_layout.addWidget(self.referrals_section)
        return box

    def _flags_section(self, data: PanelData) -> QGroupBox:
        view = data.flags
        values = view.values
        basis = ""
        if view.extract_date is not None:
            basis = f" (extract {view.extract_date:%d/%m/%Y}, rule v{view.rule_version})"
        box, layout = _section("Risk factors" + basis)
        if not values:
            layout.addWidget(_label("No risk factors are shown: either your role does not see them or this student "
                                    "was not in the latest extract's population."))
            return box
        new = set(new_flag_names(values.get("new_flags")))
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        row = 0
        for flag in (*FLAG_NAMES, "relationships_concern"):
            if flag not in values:
                continue
            yes = bool(values.get(flag))
            mark = YES if yes else NO
            extra = f" &nbsp;<b>{NEW_MARK} new since the last refresh</b>" if flag in new else ""
            label = _label(f"{'<b>' if yes else ''}{escape(FLAG_TITLES[flag])}{'</b>' if yes else ''}{extra}")
            value = QLabel(f"<b>{mark}</b>" if yes else mark)
            value.setAccessibleName(f"{FLAG_TITLES[flag]}: {'yes' if yes else 'no'}")
            grid.addWidget(value, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(label, row, 1)
            self.flag_labels[flag] = value
            row += 1
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        if "flag_count" in values:
            layout.addWidget(_label(f"Flag count: <b>{values.get('flag_count')}</b>"))
            if view.partial_note:
                layout.addWidget(_label(f"<i>{escape(view.partial_note)}</i>"))
        if view.explanations:
            layout.addWidget(_label("<b>Why</b>"))
            for sentence in view.explanations:
                # the rule version and extract are named once, in the section's title
                sentence = re.sub(r"\s*\(rule v\d+, extract [^)]*\)", "", sentence)
                label = _label(f"• {escape(sentence)}")
                self.explanation_labels.append(label)
                layout.addWidget(label)
        # the staff-recorded relationships concern
        allowed = self.session.role in CONCERN_ROLES
        self.concern = QCheckBox("Staff have a concern about this student's &relationships")
        self.concern.setChecked(bool(values.get("relationships_concern")))
        self.concern.setEnabled(allowed)
        if not allowed:
            self.concern.setToolTip("Your role may not record this.")
        self.concern.toggled.connect(self._concern_toggled)
        layout.addWidget(self.concern)
        who = ""
        if view.concern_recorded_by:
            person = data.staff.get(view.concern_recorded_by, view.concern_recorded_by)
            who = f"Recorded by {escape(person)} on {local_time(view.concern_recorded_at)}."
        else:
            who = "Not recorded by anyone yet."
        self.concern_note = _muted(f"{who} It counts toward the flag count and the engagement domain of the tier.")
        layout.addWidget(self.concern_note)
        return box

    def _tier_section(self, data: PanelData) -> QGroupBox:
        view = data.flags
        values = view.values
        box, layout = _section("Review tier")
        tier = values.get("tier")
        override = view.override
        if tier is None:
            layout.addWidget(_label("No tier: the student is not in the latest extract's population."))
            return box
        text = f"Computed tier: <b>{escape(tier_word(tier))}</b>"
        if override:
            text += (
                f"<br>Override: <b>{escape(tier_word(override['tier']))}</b> — “{escape(str(override['reason']))}” "
                f"(by {escape(data.staff.get(str(override['by']), str(override['by'])))}, {local_time(override['at'])}; the computed tier was "
                f"{escape(str(override.get('computed_then') or 'none'))} then)."
            )
            if override.get("computed_then") and override.get("computed_then") != tier:
                text += "<br><b>The computed tier has changed since the override was made: review it.</b>"
        self.tier_label = _label(text)
        layout.addWidget(self.tier_label)
        if self.session.role not in OVERRIDE_ROLES:
            layout.addWidget(_muted("Staff in welfare, year-level or principal roles can override the tier with a reason."))
            return box
        row = QHBoxLayout()
        self.tier_box = QComboBox()
        self.tier_box.setAccessibleName("Override tier")
        for t in ("none", "monitor", "priority"):
            self.tier_box.addItem(tier_word(t), t)
        self.tier_box.setCurrentIndex(max(0, self.tier_box.findData(override["tier"] if override else tier)))
        tier_label = QLabel("Set t&ier:")
        tier_label.setBuddy(self.tier_box)
        # a reason is a sentence or two: a box of three lines under the tier, not one narrow line
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("Reason (required, kept with the override and shown beside the computed tier)")
        self.reason.setAccessibleName("Reason for the override")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(self.reason.fontMetrics().lineSpacing() * 3 + 14)
        self.override_button = QPushButton("O&verride")
        self.override_button.clicked.connect(self.override)
        row.addWidget(tier_label)
        row.addWidget(self.tier_box)
        row.addStretch(1)
        row.addWidget(self.override_button)
        layout.addLayout(row)
        layout.addWidget(self.reason)
        if override:
            self.clear_override_button = QPushButton("Clear the override")
            self.clear_override_button.clicked.connect(self.clear_override)
            layout.addWidget(self.clear_override_button, 0, Qt.AlignmentFlag.AlignLeft)
        else:
            self.clear_override_button = None
        self.tier_message = _label("")
        self.tier_message.hide()
        layout.addWidget(self.tier_message)
        return box

    def _measures_section(self, data: PanelData) -> QGroupBox:
        from mapping_tool.ui.charts import measure_chart

        box, layout = _section("Measures at each refresh")
        history = data.history
        if not history:
            layout.addWidget(_label("No measures recorded for this student."))
            return box
        grid = QGridLayout()
        grid.setSpacing(6)
        dates = [h["extract_date"] for h in history]
        shown = 0
        for field_name, title, unit, setting in MEASURES:
            if not any(field_name in h for h in history):
                continue  # the role may not see it, or it is not measured
            threshold = data.thresholds.get(setting) if setting else None
            threshold_text = ""
            if threshold is not None:
                threshold_text = f"flag below {threshold:g}{unit}" if field_name == "attendance_rate" else f"flag at {threshold:g}{unit}"
            chart = measure_chart(
                title, dates, [h.get(field_name) for h in history], unit=unit,
                threshold=float(threshold) if isinstance(threshold, int | float) else None, threshold_text=threshold_text,
            )
            self.charts[field_name] = chart
            grid.addWidget(chart, shown // 2, shown % 2)
            shown += 1
        layout.addLayout(grid)
        if not shown:
            layout.addWidget(_label("Your role does not see this student's measures."))
        return box

    def _interventions_section(self, data: PanelData) -> QGroupBox:
        """Each programme the student is (or was) in, with dates, goal and responsible staff, and
        its evaluation beside similar students; "Add to a programme" maps the student."""
        from mapping_tool.ui.pages.intervention_widgets import (
            STATUS_WORDS,
            change,
            day,
            level,
            yes_no,
        )

        box, layout = _section("Interventions")
        self.intervention_labels = []
        self.end_buttons = []
        self.change_buttons = []
        self.outcome_buttons = []
        found = data.interventions
        if isinstance(found, str) or found is None:
            layout.addWidget(_muted(escape(found or "Interventions are not available.")))
            return box
        evaluations = {e.mapping_id: e for e in found.evaluations}
        if not found.mappings:
            layout.addWidget(_muted("Not in any programme yet."))
        for m in found.mappings:
            status = STATUS_WORDS.get(m.status, m.status)
            dates = f"since {day(m.start)}" if not m.end else f"{day(m.start)} to {day(m.end)}"
            if m.status == "planned":
                dates = f"from {day(m.start)}"
            parts = [f"<b>{escape(m.programme)}</b> — {escape(status)} {dates}"]
            if m.status == "withdrawn" and m.reason:
                parts[0] += f" ({escape(m.reason)})"
            extra = []
            if m.review and m.status in ("planned", "active"):
                extra.append(f"review {day(m.review)}")
            if m.responsible:
                extra.append(f"responsible: {escape(m.responsible)}")
            if extra:
                parts[0] += " · " + " · ".join(extra)
            if m.goal_text:
                parts.append(f"Goal: {escape(m.goal_text)}")
            for c in m.changes:  # issue 10 s 3: a changed goal keeps its earlier value visible
                parts.append(f"<small>{escape(_change_text(c, self._name(c.changed_by), self._name))}</small>")
            e = evaluations.get(m.id)
            if e is not None:
                if e.before is not None and e.after is not None:
                    figures = (f"Before {level(e.before, e.measure)} → after {level(e.after, e.measure)} "
                               f"(change {change(e.change, e.measure)}")
                    if e.difference is not None:
                        figures += (f"; similar students {change(e.comparison_change, e.measure)}; "
                                    f"<b>difference {change(e.difference, e.measure)}</b>")
                    figures += ")"
                    parts.append(figures)
                if e.goal_met is not None:
                    parts.append(f"Goal met: <b>{yes_no(e.goal_met)}</b>")
                if e.note:
                    parts.append(f"<i>{escape(e.note)}</i>")
            label = _label("<br>".join(parts))
            label.setFrameShape(QFrame.Shape.StyledPanel)
            label.setContentsMargins(6, 4, 6, 4)
            if e is not None and e.goal_met is not None:
                label.setAccessibleDescription(f"Goal met: {'yes' if e.goal_met else 'no'}")
            self.intervention_labels.append(label)
            row = QHBoxLayout()
            row.addWidget(label, 1)
            buttons = QVBoxLayout()
            if m.status in ("planned", "active"):
                end = QPushButton("End…")
                end.setAccessibleName(f"End participation in {m.programme}")
                end.clicked.connect(lambda _c=False, m=m: self.end_intervention(m))
                self.end_buttons.append(end)
                buttons.addWidget(end)
                edit = QPushButton("Change…")
                edit.setAccessibleName(f"Change the review date, goal or responsible staff for {m.programme}")
                edit.clicked.connect(lambda _c=False, m=m: self.change_intervention(m))
                self.change_buttons.append(edit)
                buttons.addWidget(edit)
            outcome = QPushButton("Outcome…")
            outcome.setAccessibleName(f"Add an outcome note for {m.programme}")
            outcome.setToolTip("Add an outcome note (kept with the student's notes)")
            outcome.clicked.connect(lambda _c=False, m=m: self.outcome_note(m))
            self.outcome_buttons.append(outcome)
            buttons.addWidget(outcome)
            buttons.addStretch(1)
            row.addLayout(buttons)
            layout.addLayout(row)
        self.assign_button = QPushButton("Add to a programme…")
        self.assign_button.clicked.connect(self.add_intervention)
        layout.addWidget(self.assign_button, 0, Qt.AlignmentFlag.AlignLeft)
        if any(e.difference is not None for e in found.evaluations):
            layout.addWidget(_muted("The difference is the student's change minus that of up to 5 similar students "
                                    "(same year level, nearest before-figure) over the same dates: it compares, it does "
                                    "not prove cause."))
        return box

    def add_intervention(self) -> None:
        from mapping_tool.ui.pages.intervention_widgets import AssignDialog

        if self.key is None or self.data is None:
            return
        r = self.data.record
        name = ", ".join(p for p in (str(r.get("surname") or ""), str(r.get("first_name") or "")) if p)
        self.dialog = AssignDialog(self.session, [(self.key, name)], self)
        self.dialog.done_with.connect(lambda _r: self._intervention_changed())
        self.dialog.open()

    def end_intervention(self, mapping: Any) -> None:
        from mapping_tool.ui.pages.intervention_widgets import EndDialog

        self.dialog = EndDialog(self.session, mapping, self)
        self.dialog.done_with.connect(lambda _r: self._intervention_changed())
        self.dialog.open()

    def change_intervention(self, mapping: Any) -> None:
        from mapping_tool.ui.pages.intervention_widgets import MappingDialog

        self.dialog = MappingDialog(self.session, mapping, self)
        self.dialog.done_with.connect(lambda _r: self._intervention_changed())
        self.dialog.open()

    def outcome_note(self, mapping: Any) -> None:
        from mapping_tool.ui.pages.intervention_widgets import OutcomeDialog

        self.dialog = OutcomeDialog(self.session, mapping, self)
        self.dialog.done_with.connect(lambda _r: self._intervention_changed())
        self.dialog.open()

    def _intervention_changed(self) -> None:
        if self.key:
            self.changed.emit(self.key)
            self.reload()

    def _notes_section(self, data: PanelData) -> QGroupBox:
        box, layout = _section("Notes")
        self.notes_box = QVBoxLayout()
        layout.addLayout(self.notes_box)
        self._fill_notes(data.notes)
        self.note_text = QPlainTextEdit()
        self.note_text.setAccessibleName("New note")
        self.note_text.setPlaceholderText("Add a note about this student")
        self.note_text.setTabChangesFocus(True)
        self.note_text.setFixedHeight(self.fontMetrics().height() * 4)
        layout.addWidget(self.note_text)
        row = QHBoxLayout()
        self.note_sensitive = QCheckBox("S&ensitive")
        self.note_sensitive.setToolTip(SENSITIVE_TEXT)
        self.note_button = QPushButton("Add &note")
        self.note_button.clicked.connect(self.add_note)
        row.addWidget(self.note_sensitive, 1)
        row.addWidget(self.note_button)
        layout.addLayout(row)
        layout.addWidget(_muted(SENSITIVE_TEXT))
        return box

    def _fill_notes(self, notes: list[Any]) -> None:
        assert self.notes_box is not None
        while self.notes_box.count():
            item = self.notes_box.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self.note_labels = []
        if not notes:
            label = _muted("No notes yet.")
            self.notes_box.addWidget(label)
            return
        from mapping_tool.services.notes import may_correct

        self.note_buttons = {}
        for note in notes:
            tag = " &nbsp;<b>[Sensitive]</b>" if note.sensitive else ""
            body = escape(note.display_text).replace("\n", "<br>")
            if note.text is None:
                body = f"<i>{body}</i>"
            corrected = ""
            if note.corrected_at is not None:  # issue 10 s 3: the current text, and who corrected it when
                corrected = (f" · <i>corrected {local_time(note.corrected_at)[:10]} by "
                             f"{escape(self._name(note.corrected_by))}</i>")
            label = _label(f"<small>{local_time(note.created_at)} · {escape(self._name(note.author))}{corrected}</small>"
                           f"{tag}<br>{body}")
            frame = QFrame()
            frame.setFrameShape(QFrame.Shape.StyledPanel)
            inner = QVBoxLayout(frame)
            inner.setContentsMargins(6, 4, 6, 4)
            inner.setSpacing(2)
            inner.addWidget(label)
            buttons: list[QPushButton] = []
            when = local_time(note.created_at)[:10]
            if note.text is not None and note.versions > 1:
                earlier = QPushButton(f"Earlier versions ({note.versions - 1})…")
                earlier.setAccessibleName(f"Earlier versions of the note of {when}")
                earlier.setToolTip("Every earlier text of this note, with who replaced it, when and why")
                earlier.clicked.connect(lambda _c=False, n=note: self.show_versions(n))
                buttons.append(earlier)
            if note.text is not None and self.session is not None and may_correct(self.session, note.author):
                correct = QPushButton("Correct…")
                correct.setAccessibleName(f"Correct the note of {when}")
                correct.setToolTip("Correct this note: the text it replaces is kept as an earlier version, with your reason")
                correct.clicked.connect(lambda _c=False, n=note: self.correct_note(n))
                buttons.append(correct)
            if buttons:
                row = QHBoxLayout()
                row.addStretch(1)
                for b in buttons:
                    row.addWidget(b)
                inner.addLayout(row)
            self.note_buttons[note.id] = buttons
            self.note_labels.append(label)
            self.notes_box.addWidget(frame)

    def _name(self, username: str) -> str:
        return self.data.staff.get(username, username) if self.data else username

    def correct_note(self, note: Any) -> None:
        """Issue 10 s 3: a correction is a new version; the dialog runs the service off the UI thread."""
        from mapping_tool.ui.pages.correction_widgets import CorrectNoteDialog

        self.dialog = CorrectNoteDialog(self.session, note, self._name(note.author), self)
        self.dialog.done_with.connect(self._note_corrected)
        self.dialog.open()

    def _note_corrected(self, result: object) -> None:
        self.status.setText("The note is corrected; its earlier text is kept.")
        self._fill_notes(result)  # type: ignore[arg-type]
        if self.key:
            self.shown.emit(self.key)

    def show_versions(self, note: Any) -> None:
        from mapping_tool.services import notes
        from mapping_tool.ui.pages.correction_widgets import NoteVersionsDialog

        session, note_id = self.session, note.id

        def done(result: object) -> None:
            names = self.data.staff if self.data else {}
            self.dialog = NoteVersionsDialog(result, names, self)  # type: ignore[arg-type]
            self.dialog.open()

        self._run(lambda: notes.note_versions(session, note_id), done)

    def _access_request_section(self) -> QGroupBox:
        """Issue 10: everything the tool holds about this student, for an access request."""
        box, box_layout = _section("Access request")
        box_layout.addWidget(_muted("Everything the tool holds about this student, with who accessed the record, "
                                    "as a PDF or an Excel workbook (recorded in the audit log)."))
        self.access_button = QPushButton("Save everything the tool holds…")
        self.access_button.clicked.connect(self.save_subject_access)
        box_layout.addWidget(self.access_button, 0, Qt.AlignmentFlag.AlignLeft)
        return box

    @classmethod
    def ask_access_path(cls, parent: QWidget, key: str):  # type: ignore[no-untyped-def]
        """A SaveTarget (the path, and whether the user agreed to replace the file there) or None."""
        from mapping_tool.ui.save_dialog import ask_save_path

        return ask_save_path(parent, "Save everything the tool holds", f"{key} access request.pdf",
                             "PDF (*.pdf);;Excel workbook (*.xlsx)", (".pdf", ".xlsx"))

    def save_subject_access(self) -> None:
        from mapping_tool.services import records
        from mapping_tool.ui.records_pdf import render_pdf

        key, session = self.key, self.session
        assert key is not None
        target = self.ask_access_path(self, key)
        if target is None:
            return
        path, replace = target.path, target.replace
        self.status.setText("Writing the access request…")

        def done(_result: object) -> None:
            self.status.setText(f"Saved to {path} (recorded in the audit log).")

        # replaces an existing file only when the user said Yes to the question
        self._run(lambda: records.subject_access(session, key, path, render_pdf, force=replace), done)

    # -- actions ------------------------------------------------------------------------------
    def _run(self, fn, done, *, message: QLabel | None = None) -> None:  # type: ignore[no-untyped-def]
        self.action_job = worker.runner.start(lambda progress: fn(), self)
        self.action_job.finished.connect(done)
        self.action_job.failed.connect(lambda exc: self._action_failed(exc, message))

    def _action_failed(self, exc: object, message: QLabel | None) -> None:
        if isinstance(exc, KnownError):
            target = message or self.status
            target.setText(exc.message)
            target.show()
            self.failed.emit(exc.message)
        else:
            show_error(self, exc)  # type: ignore[arg-type]
        if self.key:
            self.reload()

    def _concern_toggled(self, concern: bool) -> None:
        """A tick (or Alt+R) asks first, with a note of what the concern is; cancelling undoes it."""
        assert self.concern is not None
        name = self.title.text()
        record = self.data.record if self.data is not None else {}
        name = " ".join(str(record.get(f) or "") for f in ("first_name", "surname")).strip() or (self.key or "")
        note = ConcernDialog.ask(self, name, concern)
        if note is None:
            self.concern.blockSignals(True)
            self.concern.setChecked(not concern)
            self.concern.blockSignals(False)
            return
        self.set_concern(concern, note)

    def set_concern(self, concern: bool, note: str = "") -> None:
        from mapping_tool.services import flags, notes

        key, session = self.key, self.session
        assert key is not None and self.concern is not None
        self.concern.setEnabled(False)
        self.status.setText("Saving…")

        def done(_result: object) -> None:
            self.changed.emit(key)
            self.reload()

        def work() -> None:
            flags.set_relationships_concern(session, key, concern)
            if note.strip():
                what = "Relationships concern recorded" if concern else "Relationships concern cleared"
                notes.add_note(session, key, f"{what}: {note.strip()}", sensitive=False)

        self._run(work, done)

    def override(self) -> None:
        from mapping_tool.services import flags

        assert self.tier_box is not None and self.reason is not None and self.tier_message is not None
        reason = self.reason.toPlainText().strip()
        if not reason:
            self.tier_message.setText("Give a reason for the override: it is kept with it and shown beside the computed tier.")
            self.tier_message.show()
            self.reason.setFocus()
            return
        key, session, tier = self.key, self.session, self.tier_box.currentData()
        assert key is not None
        self.tier_message.hide()
        self.status.setText("Saving…")

        def done(_result: object) -> None:
            self.changed.emit(key)
            self.reload()

        self._run(lambda: flags.override_tier(session, key, tier, reason), done, message=self.tier_message)

    def clear_override(self) -> None:
        from mapping_tool.services import flags

        key, session = self.key, self.session
        assert key is not None

        def done(_result: object) -> None:
            self.changed.emit(key)
            self.reload()

        self.status.setText("Saving…")
        self._run(lambda: flags.clear_override(session, key), done, message=self.tier_message)

    def add_note(self) -> None:
        from mapping_tool.services import notes

        assert self.note_text is not None and self.note_sensitive is not None
        text = self.note_text.toPlainText()
        if not text.strip():
            self.status.setText("Write the note first.")
            return
        key, session, sensitive = self.key, self.session, self.note_sensitive.isChecked()
        assert key is not None
        self.note_button.setEnabled(False)  # type: ignore[union-attr]

        def work() -> object:
            notes.add_note(session, key, text, sensitive=sensitive)
            return notes.list_notes(session, key)

        def done(result: object) -> None:
            assert self.note_text is not None and self.note_sensitive is not None
            self.note_text.clear()
            self.note_sensitive.setChecked(False)
            self.note_button.setEnabled(True)  # type: ignore[union-attr]
            self.status.setText("")
            self._fill_notes(result)  # type: ignore[arg-type]
            self.shown.emit(key)

        self._run(work, done)


class ConcernDialog(QDialog):
    """Confirms a relationships concern (a single key press must not record one) and takes a
    note of what it is, kept with the student's notes."""

    def __init__(self, name: str, concern: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.concern = concern
        self.setWindowTitle("Relationships concern")
        layout = QVBoxLayout(self)
        if concern:
            intro = (f"Record that staff have a concern about <b>{escape(name)}</b>'s relationships? It counts "
                     "toward the flag count and the engagement domain of the tier. Say briefly what the concern is:")
        else:
            intro = f"Clear the relationships concern for <b>{escape(name)}</b>? You may say why:"
        label = QLabel(intro)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.note = QPlainTextEdit()
        self.note.setAccessibleName("Note about the concern")
        self.note.setTabChangesFocus(True)
        self.note.setFixedHeight(self.note.fontMetrics().lineSpacing() * 4 + 14)
        label.setBuddy(self.note)
        layout.addWidget(self.note)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Record the concern" if concern else "Clear the concern")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(440, 240)

    def accept(self) -> None:
        if self.concern and not self.note.toPlainText().strip():
            self.message.setText("Write a short note of what the concern is: it is kept with the student's notes.")
            self.message.show()
            self.note.setFocus()
            return
        super().accept()

    @classmethod
    def ask(cls, parent: QWidget | None, name: str, concern: bool) -> str | None:
        """The note, or None when cancelled. Tests replace this."""
        dialog = cls(name, concern, parent)
        try:
            return dialog.note.toPlainText().strip() if dialog.exec() == QDialog.DialogCode.Accepted else None
        finally:
            dialog.deleteLater()
