"""Administration > Records > Breaches and Unusual access (issue 10 s 5): the breach register
(principal class and the data custodian, as ``services.records_privacy`` allows) and the report of
unusual access by user and day (the data custodian).

Everything goes through ``services.records_privacy``; these panels only show and ask. The panels
load when they are shown (another user may have added a breach, and every action adds to the
log), and after each change made here. Dialogs expose ``ask`` class methods that tests replace.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from html import escape
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.pages.intervention_widgets import (
    ServiceDialog,
    date_edit,
    from_qdate,
    say,
    to_qdate,
)
from mapping_tool.ui.pages.records import TupleTableModel, _shown, _table

NAME_FIELDS = ("student_key", "surname", "first_name", "year_level", "home_group")
SEARCH_LIMIT = 50  # students listed for one search; type more of the name to narrow it
MAX_TEXT = 4000  # characters in "what happened" and "steps taken"


def _students_service():  # type: ignore[no-untyped-def]
    from mapping_tool.services import students

    return students


def _privacy():  # type: ignore[no-untyped-def]
    from mapping_tool.services import records_privacy

    return records_privacy


def student_words(row: dict[str, Any]) -> str:
    """"Surname, First (KEY), year 09, 09A" from whichever of the fields the policy allowed."""
    name = ", ".join(p for p in (row.get("surname"), row.get("first_name")) if p)
    text = f"{name} ({row['student_key']})" if name else str(row["student_key"])
    year = row.get("year_level")
    if year:
        text += f", year {year}"
    if row.get("home_group"):
        text += f", {row['home_group']}"
    return text


def _local(at: datetime) -> datetime:
    """A time the store keeps in UTC, in this computer's time."""
    return at.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)


def _rows_as_dicts(table: Any) -> list[dict[str, Any]]:
    return [dict(zip(table.columns, r, strict=True)) for r in table.rows]


def _plain_text_edit(name: str, placeholder: str) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setAccessibleName(name)
    edit.setPlaceholderText(placeholder)
    edit.setTabChangesFocus(True)  # Tab moves on; the box never traps the keyboard
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * 3 + 14)
    return edit


# -- choosing students ----------------------------------------------------------------------------


class StudentChooser(QWidget):
    """Search the students the user may see (name or key) and add them to a list. Each search
    shown is recorded in the audit log like any list of students."""

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.chosen: dict[str, str] = {}  # key -> words
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Type part of a name or a student key, then press Enter")
        self.search.setAccessibleName("Search students")
        self.search.setClearButtonEnabled(True)
        self.found = QListWidget()
        self.found.setAccessibleName("Students found")
        self.chosen_list = QListWidget()
        self.chosen_list.setAccessibleName("Students affected")
        for lst in (self.found, self.chosen_list):
            lst.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
            lst.setFixedHeight(lst.fontMetrics().lineSpacing() * 5 + 12)
        self.add_button = QPushButton("&Add ↓")
        self.add_button.setToolTip("Add the students selected in the search results")
        self.remove_button = QPushButton("Re&move")
        self.remove_button.setToolTip("Remove the selected students from those affected")
        self.hint = QLabel("")
        self.hint.setWordWrap(True)
        self.chosen_label = QLabel("No students chosen (leave it so if no student's information was involved).")
        self.chosen_label.setWordWrap(True)
        grid.addWidget(self.search, 0, 0, 1, 2)
        grid.addWidget(self.found, 1, 0, 1, 2)
        grid.addWidget(self.hint, 2, 0)
        grid.addWidget(self.add_button, 2, 1)
        grid.addWidget(self.chosen_label, 3, 0, 1, 2)
        grid.addWidget(self.chosen_list, 4, 0, 1, 2)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        grid.addLayout(buttons, 5, 0, 1, 2)
        grid.setColumnStretch(0, 1)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(350)
        self._debounce.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self._debounce.start())
        self.add_button.clicked.connect(self.add_selected)
        self.found.itemDoubleClicked.connect(lambda _i: self.add_selected())
        self.remove_button.clicked.connect(self.remove_selected)
        self.chosen_list.itemDoubleClicked.connect(lambda _i: self.remove_selected())
        for w in (self.search, self.found, self.chosen_list):
            w.installEventFilter(self)
        self._update()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        """Enter searches, adds or removes here; it never reaches the dialog's OK button."""
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            if watched is self.search:
                self.run_search()
                if self.found.count():
                    self.found.setFocus()
            elif watched is self.found:
                self.add_selected()
            elif watched is self.chosen_list:
                self.remove_selected()
            else:
                return False
            return True
        return super().eventFilter(watched, event)

    def run_search(self) -> None:
        self._debounce.stop()
        text = self.search.text().strip()
        self.found.clear()
        if len(text) < 2:
            self.hint.setText("Type at least two letters of a name, or a student key." if text else "")
            self._update()
            return
        students = _students_service()
        try:
            table = students.list_students(self.session, search=text, fields=NAME_FIELDS, audit=False)
            shown = type(table)(table.columns, table.rows[:SEARCH_LIMIT])
            if shown.rows:
                students.record_list_view(self.session, shown, view="breach student search", search=True)
        except KnownError as exc:
            self.hint.setText(exc.message)
            return
        for row in _rows_as_dicts(shown):
            item = QListWidgetItem(student_words(row))
            item.setData(Qt.ItemDataRole.UserRole, row["student_key"])
            self.found.addItem(item)
        count = len(table.rows)
        if not count:
            self.hint.setText("No student you may see matches.")
        elif count > SEARCH_LIMIT:
            self.hint.setText(f"The first {SEARCH_LIMIT} of {count} students: type more of the name.")
        else:
            self.hint.setText(f"{count} student{'s' if count != 1 else ''} found: select and press Add.")
        if self.found.count():
            self.found.setCurrentRow(0)
        self._update()

    def add_selected(self) -> None:
        items = self.found.selectedItems() or ([self.found.currentItem()] if self.found.currentItem() else [])
        for item in items:
            self.chosen[item.data(Qt.ItemDataRole.UserRole)] = item.text()
        self._show_chosen()

    def remove_selected(self) -> None:
        for item in self.chosen_list.selectedItems():
            self.chosen.pop(item.data(Qt.ItemDataRole.UserRole), None)
        self._show_chosen()

    def add_key(self, key: str, words: str) -> None:
        self.chosen[key] = words
        self._show_chosen()

    def keys(self) -> list[str]:
        return sorted(self.chosen)

    def _show_chosen(self) -> None:
        self.chosen_list.clear()
        for key, words in sorted(self.chosen.items(), key=lambda kv: kv[1].casefold()):
            item = QListWidgetItem(words)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.chosen_list.addItem(item)
        n = len(self.chosen)
        self.chosen_label.setText(
            f"<b>{n} student{'s' if n != 1 else ''} affected:</b>" if n else
            "No students chosen (leave it so if no student's information was involved).")
        self._update()

    def _update(self) -> None:
        self.add_button.setEnabled(self.found.count() > 0)
        self.remove_button.setEnabled(bool(self.chosen))


# -- the dialog -------------------------------------------------------------------------------------


class BreachDialog(ServiceDialog):
    """Record a breach in the register. A refused entry keeps its sentence in the dialog and
    stores nothing; ``done_with`` carries the entry once it is recorded."""

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, "Record a privacy breach", parent)
        self.setMinimumWidth(600)
        self.message.setStyleSheet("color: #a00000;")
        intro = QLabel("Record what happened as soon as it is found; say whom you notified and what was done "
                       "as far as you know now. The entry is kept in the register and the audit log.")
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.found_on = date_edit(name="Date the breach was found")
        self.found_on.setMaximumDate(QDate.currentDate())
        self.found_on.setMinimumDate(QDate(2000, 1, 1))
        self.what = _plain_text_edit("What happened", "e.g. A printed list of Year 9 attendance was left on the bus.")
        self.students = StudentChooser(session)
        self.notified = QLineEdit()
        self.notified.setAccessibleName("Who was notified")
        self.notified.setPlaceholderText("e.g. the principal; the families; OVIC; the Department's privacy team")
        self.has_notified_on = QCheckBox("Notified on (&date)")
        self.has_notified_on.setToolTip("Tick when the people above have been told, and give the date")
        self.notified_on = date_edit(name="Date notified")
        self.notified_on.setMaximumDate(QDate.currentDate())
        self.notified_on.setMinimumDate(QDate(2000, 1, 1))
        self.notified_on.setEnabled(False)
        self.has_notified_on.toggled.connect(self.notified_on.setEnabled)
        self.steps = _plain_text_edit("Steps taken", "e.g. The list was recovered; staff reminded to print only what they need.")
        notified_row = QHBoxLayout()
        notified_row.addWidget(self.has_notified_on)
        notified_row.addWidget(self.notified_on)
        notified_row.addStretch(1)
        self.form.addRow("&Found on:", self.found_on)
        self.form.addRow("&What happened:", self.what)
        self.form.addRow("&Students:", self.students)
        self.form.addRow("&Notified (whom):", self.notified)
        self.form.addRow("", notified_row)
        self.form.addRow("S&teps taken:", self.steps)
        students_label = self.form.labelForField(self.students)
        if isinstance(students_label, QLabel):
            students_label.setBuddy(self.students.search)  # Alt+S goes to the search box
        self.finish_layout()

    def call(self) -> Callable[[], object] | None:
        what = self.what.toPlainText().strip()
        steps = self.steps.toPlainText().strip()
        notified = self.notified.text().strip()
        found_on = from_qdate(self.found_on.date())
        notified_on = from_qdate(self.notified_on.date()) if self.has_notified_on.isChecked() else None
        problem = None
        if not what:
            problem, focus = "Say what happened.", self.what
        elif len(what) > MAX_TEXT or len(steps) > MAX_TEXT:
            problem, focus = (f"Keep what happened and the steps taken to {MAX_TEXT:,} characters each.",
                              self.what if len(what) > MAX_TEXT else self.steps)
        elif notified_on is not None and not notified:
            problem, focus = "Say whom you notified on that date.", self.notified
        elif notified_on is not None and notified_on < found_on:
            problem, focus = "The date notified is before the date the breach was found.", self.notified_on
        if problem:
            say(self.message, problem)
            focus.setFocus()
            return None
        session, keys = self.session, self.students.keys()
        return lambda: _privacy().add_breach(session, found_on=found_on, what=what, students=keys, notified=notified,
                                             notified_on=notified_on, steps=steps)

    @classmethod
    def ask(cls, parent: QWidget, session: Any) -> Any:
        """The recorded entry, or None when the user cancelled."""
        dialog = cls(session, parent)
        result: list[Any] = []
        dialog.done_with.connect(result.append)
        dialog.exec()
        return result[0] if result else None


class FollowUpDialog(ServiceDialog):
    """What followed a breach (a later notification, further steps), recorded as a new entry that
    names the first; the first stays as it was recorded."""

    def __init__(self, session: Any, breach: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, f"Record a follow-up to breach {breach.id}", parent)
        self.breach = breach
        self.setMinimumWidth(600)
        self.message.setStyleSheet("color: #a00000;")
        first = QLabel(
            f"<b>Breach {breach.id}, found on {_shown(breach.found_on)}:</b> {escape(breach.what)}<br>"
            + (f"Notified so far: {escape(BreachesPanel.notified_text(breach))}." if breach.notified or breach.notified_on
               else "No one has been notified yet.")
            + " The follow-up is a new entry in the "
            "register for the same students; this entry stays as it was recorded.")
        first.setWordWrap(True)
        first.setTextFormat(Qt.TextFormat.RichText)
        first.setMinimumHeight(first.heightForWidth(580))
        self.form.addRow(first)
        self.what = _plain_text_edit("What happened since", "e.g. The families were told at a meeting.")
        self.notified = QLineEdit()
        self.notified.setAccessibleName("Who was notified")
        self.notified.setPlaceholderText("e.g. the families; OVIC")
        self.has_notified_on = QCheckBox("Notified on (&date)")
        self.notified_on = date_edit(name="Date notified")
        self.notified_on.setMaximumDate(QDate.currentDate())
        self.notified_on.setMinimumDate(to_qdate(breach.found_on))
        self.notified_on.setEnabled(False)
        self.has_notified_on.toggled.connect(self.notified_on.setEnabled)
        self.steps = _plain_text_edit("Steps taken", "e.g. Passwords reset; the printing guide sent to all staff.")
        notified_row = QHBoxLayout()
        notified_row.addWidget(self.has_notified_on)
        notified_row.addWidget(self.notified_on)
        notified_row.addStretch(1)
        self.form.addRow("&What happened since:", self.what)
        self.form.addRow("&Notified (whom):", self.notified)
        self.form.addRow("", notified_row)
        self.form.addRow("S&teps taken:", self.steps)
        self.finish_layout()

    def call(self) -> Callable[[], object] | None:
        what = self.what.toPlainText().strip()
        steps = self.steps.toPlainText().strip()
        notified = self.notified.text().strip()
        notified_on = from_qdate(self.notified_on.date()) if self.has_notified_on.isChecked() else None
        problem, focus = None, None
        if not (what or steps or notified or notified_on):
            problem, focus = "Say what followed: whom you notified and when, or the steps taken.", self.notified
        elif len(what) > MAX_TEXT or len(steps) > MAX_TEXT:
            problem, focus = (f"Keep what happened and the steps taken to {MAX_TEXT:,} characters each.",
                              self.what if len(what) > MAX_TEXT else self.steps)
        elif notified_on is not None and not notified:
            problem, focus = "Say whom you notified on that date.", self.notified
        if problem:
            say(self.message, problem)
            if focus is not None:
                focus.setFocus()
            return None
        session, breach_id = self.session, self.breach.id
        return lambda: _privacy().add_breach_follow_up(session, breach_id, what=what, notified=notified,
                                                       notified_on=notified_on, steps=steps)

    @classmethod
    def ask(cls, parent: QWidget, session: Any, breach: Any) -> Any:
        """The follow-up recorded, or None when the user cancelled."""
        dialog = cls(session, breach, parent)
        result: list[Any] = []
        dialog.done_with.connect(result.append)
        dialog.exec()
        return result[0] if result else None


# -- the register -----------------------------------------------------------------------------------


class _LoadsWhenShown(QWidget):
    """Loads on each show (the tab brought to the front, or the page opened), not when built."""

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802
        super().showEvent(event)
        if not event.spontaneous():
            self.refresh()

    def refresh(self) -> None:
        raise NotImplementedError

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet("color: #a00000;" if error else "")
        self.status.setText(text)


class BreachesPanel(_LoadsWhenShown):
    """The breach register, newest first, and "Record a breach…"."""

    HEADERS = ("No.", "Found on", "What happened", "Students affected", "Notified", "Steps taken", "Recorded by")

    changed = Signal()

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.breaches: list[Any] = []
        self._audited: frozenset[str] = frozenset()
        self._names_by_key: dict[str, str] = {}
        self._short_names: dict[str, str] = {}
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Every loss or misuse of the information this tool holds is recorded here: when it was found, what "
            "happened, which students, whom the school notified and when, and the steps taken. Select an entry "
            "to read it in full.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.model = TupleTableModel(self.HEADERS, self)
        self.view = _table(self.model)
        self.view.setAccessibleName("Breach register")
        header = self.view.horizontalHeader()
        header.setStretchLastSection(False)
        for column in (2, 3, 4, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.view, 3)
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setTextFormat(Qt.TextFormat.RichText)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.detail.setAccessibleName("The selected breach")
        self.detail.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        layout.addWidget(self.detail, 1)
        row = QHBoxLayout()
        self.add_button = QPushButton("&Record a breach…")
        self.add_button.clicked.connect(self.add_breach)
        self.follow_up_button = QPushButton("Record a follow-&up to the selected breach…")
        self.follow_up_button.setToolTip("A later notification or further steps, as a new entry that names this one")
        self.follow_up_button.clicked.connect(self.add_follow_up)
        row.addWidget(self.add_button)
        row.addWidget(self.follow_up_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Breach register message")
        layout.addWidget(self.status)
        self.view.selectionModel().currentRowChanged.connect(lambda _c, _p: self._show_detail())
        self.follow_up_button.setEnabled(False)

    # -- data --------------------------------------------------------------------------------
    def refresh(self) -> None:
        try:
            breaches = list(reversed(_privacy().list_breaches(self.session)))
            names = self._names({k for b in breaches for k in b.student_keys})
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        except Exception as exc:  # noqa: BLE001 - a bug: the crash dialog with the log path
            show_error(self, exc)
            return
        self.breaches = breaches
        self._names_by_key = names
        self.model.set_rows([(b.id, b.found_on, b.what, self._students_text(b, short=True), self.notified_text(b),
                              b.steps or "none recorded", f"{b.recorded_by}, {_local(b.recorded_at):%d/%m/%Y}")
                             for b in breaches])
        if not breaches:
            self.detail.setText("No breach has been recorded.")
        elif self.view.currentIndex().isValid():
            self._show_detail()
        else:
            self.view.selectRow(0)

    def _names(self, keys: set[str]) -> dict[str, str]:
        """Words for the students in the register, as far as the policy lets this user see them;
        a student no longer held here (disposed of) is shown by the key alone."""
        if not keys:
            self._short_names = {}
            return {}
        students = _students_service()
        table = students.list_students(self.session, fields=NAME_FIELDS, audit=False)
        rows = tuple(r for r in table.rows if r[0] in keys)
        shown = frozenset(r[0] for r in rows)
        if shown and shown != self._audited:  # each new set of students shown is recorded once
            students.record_list_view(self.session, type(table)(table.columns, rows), view="breach register")
            self._audited = shown
        named = {r[0]: ", ".join(str(v) for c, v in zip(table.columns, r, strict=True) if c in ("surname", "first_name") and v)
                 for r in rows}
        self._short_names = {k: name or k for k, name in named.items()}  # names only; the keys are below
        return {r[0]: student_words(dict(zip(table.columns, r, strict=True))) for r in rows}

    def _students_text(self, breach: Any, *, short: bool) -> str:
        n = breach.students_affected
        if not n:
            return "none"
        words = [self._names_by_key.get(k, f"{k} (no longer held here)") for k in breach.student_keys]
        head = f"{n} student{'s' if n != 1 else ''}"
        if short:  # the table: names (the keys, years and groups are below, for the selected entry)
            words = [self._short_names.get(k, k) for k in breach.student_keys]
            listed = "; ".join(words[:2]) + (f" and {len(words) - 2} more" if len(words) > 2 else "")
            return f"{head}: {listed}" if words else head
        return f"{head}: " + "; ".join(words) if words else head

    @staticmethod
    def notified_text(breach: Any) -> str:
        whom = breach.notified or ""
        when = f"on {_shown(breach.notified_on)}" if breach.notified_on else "date not recorded"
        if not whom and not breach.notified_on:
            return "not yet notified"
        return f"{whom or 'not recorded whom'}, {when}"

    def _selected(self) -> Any:
        index = self.view.currentIndex()
        if not index.isValid() or index.row() >= len(self.breaches):
            return None
        return self.breaches[index.row()]

    def _show_detail(self) -> None:
        b = self._selected()
        self.follow_up_button.setEnabled(b is not None)
        if b is None:
            self.detail.setText("")
            return

        def para(text: str) -> str:
            return escape(text).replace("\n", "<br>")

        self.detail.setText(
            f"<b>Breach {b.id}, found on {_shown(b.found_on)}</b> (recorded by {escape(b.recorded_by)} on "
            f"{_local(b.recorded_at):%d/%m/%Y %H:%M})<br><b>What happened:</b> {para(b.what)}<br>"
            f"<b>Students affected:</b> {escape(self._students_text(b, short=False))}<br>"
            f"<b>Notified:</b> {escape(self.notified_text(b))}<br>"
            f"<b>Steps taken:</b> {para(b.steps) if b.steps else 'none recorded'}"
            + (f"<br><b>Follow-ups:</b> {', '.join(f'breach {i}' for i in followed)}" if (followed := [
                f.id for f in self.breaches if f.follows == b.id]) else ""))

    # -- actions -----------------------------------------------------------------------------
    def add_breach(self) -> None:
        try:
            breach = BreachDialog.ask(self, self.session)
        except Exception as exc:  # noqa: BLE001 - a bug: the crash dialog with the log path
            show_error(self, exc)
            return
        if breach is None:
            return
        self.refresh()
        self.view.selectRow(0)
        self._say(f"Breach {breach.id} recorded in the register (and the audit log).")
        self.changed.emit()


    def add_follow_up(self) -> None:
        first = self._selected()
        if first is None:
            self._say("Select the breach the follow-up is about first.", error=True)
            return
        try:
            follow_up = FollowUpDialog.ask(self, self.session, first)
        except Exception as exc:  # noqa: BLE001 - a bug: the crash dialog with the log path
            show_error(self, exc)
            return
        if follow_up is None:
            return
        self.refresh()
        self.view.selectRow(0)
        self._say(f"Follow-up to breach {first.id} recorded as breach {follow_up.id}; breach {first.id} "
                  "stays as it was recorded.")
        self.changed.emit()


# -- unusual access ---------------------------------------------------------------------------------


class HeaderTipsModel(TupleTableModel):
    """Short column titles on screen, the full ones as their tooltips."""

    def __init__(self, headers: tuple[str, ...], tips: tuple[str, ...], parent: Any = None) -> None:
        super().__init__(headers, parent)
        self.tips = tips

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.tips):
            return self.tips[section]
        return super().headerData(section, orientation, role)


class UnusualAccessPanel(_LoadsWhenShown):
    """The unusual-access report by user and day since a date, in words, and its Excel copy."""

    #: Asks where to save (tests replace it): a SaveTarget or None.
    @classmethod
    def ask_path(cls, parent: QWidget) -> Any:
        from mapping_tool.ui.save_dialog import ask_save_path

        return ask_save_path(parent, "Save the unusual access report", "unusual-access.xlsx",
                             "Excel (*.xlsx);;CSV (*.csv)", (".xlsx", ".csv"))

    #: the user and day of a row: the Administration page shows that day in the audit log
    show_in_log = Signal(str, object)
    #: the table shows the report (it is read off the UI thread)
    loaded = Signal()

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.rows: list[tuple[Any, ...]] = []
        self._names: dict[str, str] = {}
        self._log_connected = False
        self._job: Any = None
        self._again = False
        layout = QVBoxLayout(self)
        self.intro = QLabel(self._intro_text())
        self.intro.setWordWrap(True)
        layout.addWidget(self.intro)
        top = QHBoxLayout()
        self.since = QDateEdit()
        self.since.setDisplayFormat("dd/MM/yyyy")
        self.since.setCalendarPopup(True)
        self.since.setAccessibleName("Show days since")
        self.since.setMinimumDate(QDate(2000, 1, 1))
        self.since.setMaximumDate(QDate.currentDate())
        self.since.setDate(to_qdate(date.today() - timedelta(days=90)))
        since_label = QLabel("&Since:")
        since_label.setBuddy(self.since)
        top.addWidget(since_label)
        top.addWidget(self.since)
        self.summary = QLabel("")
        self.summary.setWordWrap(True)
        top.addSpacing(12)
        top.addWidget(self.summary, 1)
        layout.addLayout(top)
        self.model = HeaderTipsModel(self._headers(), tuple(_privacy().UNUSUAL_HEADERS), self)
        self.view = _table(self.model)
        self.view.setAccessibleName("Unusual access by user and day")
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(len(self._headers()) - 1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)  # long names wrap
        header.resizeSection(1, self.fontMetrics().horizontalAdvance("Casey Custodian (ccustodian)") // 2 + 60)

        layout.addWidget(self.view, 1)
        buttons = QHBoxLayout()
        self.log_button = QPushButton("Show that &day in the audit log")
        self.log_button.setToolTip("The selected user's entries on the selected day, in the Audit log tab")
        self.log_button.clicked.connect(self._show_in_log)
        self.save_button = QPushButton("Save as &Excel…")
        self.save_button.clicked.connect(self.save_excel)
        buttons.addWidget(self.log_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Unusual access message")
        layout.addWidget(self.status)
        self.since.dateChanged.connect(lambda _d: self.refresh())
        self.view.selectionModel().currentRowChanged.connect(lambda _c, _p: self._update_buttons())
        self._update_buttons()

    #: the report's own headers (as in the Excel copy), shortened to fit a 1024-pixel screen
    SHORT = {"Refused reads": "Refused", "Records opened": "Opened", "Most opened in one hour": "Most in an hour",
             "Actions out of hours": "Out of hours"}

    @classmethod
    def _headers(cls) -> tuple[str, ...]:
        return tuple(cls.SHORT.get(h, h) for h in _privacy().UNUSUAL_HEADERS)

    @staticmethod
    def _intro_text() -> str:
        p = _privacy()
        start, end = p.WORK_HOURS
        return (f"Days on which someone's use of the tool stands out: reads the tool refused, exports or prints of "
                f"{p.BULK_EXPORT_ROWS} or more rows, {p.MANY_OPENED_PER_HOUR} or more student records opened "
                f"within an hour, or use before {start}:00, after {end}:00 or on a weekend. Look into each with "
                "the person; most have a plain explanation.")

    # -- data --------------------------------------------------------------------------------
    def since_date(self) -> date:
        return from_qdate(self.since.date())

    def refresh(self) -> None:
        """Read the report off the UI thread (a school's 90 days of log take seconds); ``loaded``
        says when the table shows it. A refresh asked for while one runs runs after it."""
        if self._job is not None and self._job.running:
            self._again = True
            return
        self._again = False
        session, since = self.session, self.since_date()

        def work(_progress: Any) -> tuple[list[tuple[Any, ...]], dict[str, str], date]:
            return _privacy().unusual_access(session, since=since), self._account_names(), since

        self.summary.setText("Reading the audit log…")
        self._job = worker.runner.start(work, self)
        self._job.finished.connect(self._loaded)
        self._job.failed.connect(self._failed)

    def _loaded(self, result: Any) -> None:
        rows, self._names, since_day = result
        if self._again or since_day != self.since_date():
            self.refresh()
            return
        self.rows = list(reversed(rows))  # the latest day first
        self.model.set_rows([(r[0], self._user_text(r[1]), *r[2:]) for r in self.rows])
        people = len({r[1] for r in rows})
        since = _shown(since_day)
        self.summary.setText(
            f"{len(rows)} day{'s' if len(rows) != 1 else ''} to look into, for {people} "
            f"user{'s' if people != 1 else ''}, since {since}." if rows else f"Nothing unusual since {since}.")
        self._update_buttons()
        self.loaded.emit()

    def _failed(self, exc: object) -> None:
        self.summary.setText("")
        if isinstance(exc, KnownError):
            self._say(exc.message, error=True)
        else:
            show_error(self, exc)  # type: ignore[arg-type]
        if self._again:
            self.refresh()

    def _account_names(self) -> dict[str, str]:
        from mapping_tool.services import accounts

        try:
            return {a.username: a.display_name for a in accounts.list_users(self.session)}
        except KnownError:
            return {}

    def _user_text(self, username: str) -> str:
        name = self._names.get(username)
        return f"{name} ({username})" if name and name != username else username

    def _selected(self) -> tuple[Any, ...] | None:
        index = self.view.currentIndex()
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        return self.rows[index.row()]

    def _update_buttons(self) -> None:
        self.log_button.setVisible(self._log_connected)
        self.log_button.setEnabled(self._selected() is not None)
        self.save_button.setEnabled(True)

    def _show_in_log(self) -> None:
        row = self._selected()
        if row is not None:
            self.show_in_log.emit(row[1], row[0])

    # -- actions -----------------------------------------------------------------------------
    #: the Excel copy was saved (its path), or could not be
    saved = Signal(object)

    def save_excel(self) -> None:
        """The report since the chosen day, written off the UI thread (a school's 90 days take
        a few seconds): the window stays usable, the button waits for the copy."""
        target = self.ask_path(self)
        if target is None:
            return
        since, session = self.since_date(), self.session
        self.save_button.setEnabled(False)
        self._say("Saving the report…")

        def work(_progress: Any) -> int:
            return _privacy().export_unusual_access(session, target.path, force=target.replace, since=since)

        def done(count: int) -> None:
            self.save_button.setEnabled(True)
            self._say(f"Saved the report since {_shown(since)} ({count:,} row{'s' if count != 1 else ''}) to "
                      f"{target.path}; the export is recorded in the audit log.")
            self.saved.emit(target.path)

        def failed(exc: object) -> None:
            self.save_button.setEnabled(True)
            if isinstance(exc, KnownError):
                self._say(exc.message, error=True)
            else:
                show_error(self, exc)  # type: ignore[arg-type]  # a bug: the crash dialog with the log path
            self.saved.emit(None)

        job = worker.runner.start(work, self)
        self._save_job = job
        job.finished.connect(done)
        job.failed.connect(failed)


def connect_to_log(panel: UnusualAccessPanel, show: Callable[[str, date], None]) -> None:
    """Let "Show that day in the audit log" reach the Audit log tab (the Administration page)."""
    panel.show_in_log.connect(show)
    panel._log_connected = True
    panel._update_buttons()


__all__: Sequence[str] = ("BreachDialog", "BreachesPanel", "StudentChooser", "UnusualAccessPanel", "connect_to_log")
