"""Meeting mode: the welfare team's agenda — students in scope with new or worsening flags since
the last refresh, or a review date that has come, ordered by tier — and, for the student on
the agenda, a decision recorded without leaving it (map to a programme, a note, or no action with
a reason); a printable recap of the meeting's decisions.

Keyboard-first: the agenda has the focus; Enter moves to the decision, Ctrl+Enter records it and
the agenda moves on to the next student without a decision; Tab always leaves the table.
"""

from __future__ import annotations

import logging
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.ui import worker
from mapping_tool.ui.pages.intervention_widgets import (
    NO,
    YES,
    CellsModel,
    date_edit,
    day,
    from_qdate,
    iv,
    measure_title,
    plain_table,
    say,
    shortcut,
    size_columns,
)
from mapping_tool.ui.pages.interventions import _muted, _Tab
from mapping_tool.ui.save_dialog import ask_save_path

logger = logging.getLogger(__name__)

KIND_WORDS = {"map": "Mapped to a programme", "note": "Note", "no_action": "No action"}


def decision_words(d: Any) -> str:
    if d.kind == "map":
        return f"Mapped to {d.programme}"
    if d.kind == "note":
        return "Note" + (" (sensitive)" if d.sensitive else "") + (f": {d.text}" if d.text else "")
    return f"No action: {d.text}"


def _local_day(value: Any) -> date:
    """The local calendar day of a stored (UTC, zone-less) time."""
    from datetime import UTC

    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().date()


def local_time(value: Any) -> str:
    from mapping_tool.ui.pages.student_panel import local_time as lt

    return lt(value)


def _table(headers: list[str], widths: list[int], rows: list[list[str]]) -> str:
    """A ruled table with fixed shares of the page: the words get the room, short columns do not
    squeeze names."""
    head = "".join(f"<th width='{w}%'>{escape(h)}</th>" for h, w in zip(headers, widths, strict=True))
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return (f"<table class='list' width='100%' cellspacing='0' cellpadding='2'><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>")


class MeetingTab(_Tab):
    recorded = Signal(object)  # a DecisionView
    exported = Signal(object)

    HEADERS = ("Student", "Year", "Tier", "Flags", "Decided", "Decision", "Why on the agenda")

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.meeting_id: int | None = None
        self.items: list[Any] = []
        self.decisions: dict[str, Any] = {}
        self.programmes: list[Any] = []
        self.meetings: list[Any] = []
        self.recap_data: Any = None
        self._after_record: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        top = QHBoxLayout()
        self.meeting = QComboBox()
        self.meeting.setAccessibleName("Meeting")
        self.meeting.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        meeting_label = QLabel("Mee&ting:")
        meeting_label.setBuddy(self.meeting)
        self.new_button = QPushButton("Start a &new meeting")
        self.count = QLabel()
        self.print_button = QPushButton("Print the rec&ap…")
        self.pdf_button = QPushButton("Save the recap as P&DF…")
        for w in (meeting_label, self.meeting, self.new_button):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.count)
        top.addWidget(self.print_button)
        top.addWidget(self.pdf_button)
        layout.addLayout(top)
        layout.addWidget(_muted(
            "Students with new or worsening flags since the last refresh, or a review date that has come, priority "
            "first. Arrows choose a student, <b>Enter</b> goes to the decision, <b>Ctrl+Enter</b> records it and moves "
            "to the next student."
        ))
        layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Vertical)
        self.model = CellsModel(self.HEADERS, self._cells, self, right=(3,))
        self.table = plain_table("Agenda")
        self.table.setModel(self.model)
        splitter.addWidget(self.table)
        splitter.addWidget(self._decision_box())
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        layout.addWidget(splitter, 1)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        self.table.activated.connect(lambda _i: self.focus_decision())
        self.meeting.activated.connect(self._meeting_chosen)
        self.new_button.clicked.connect(self.new_meeting)
        self.print_button.clicked.connect(self.print_recap)
        self.pdf_button.clicked.connect(self.save_pdf)
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut(self, keys, self.record)

    def _decision_box(self) -> QGroupBox:
        box = QGroupBox("Decision")
        self.decision_box = box
        layout = QVBoxLayout(box)
        layout.setContentsMargins(10, 6, 10, 6)
        self.who = QLabel()
        self.who.setTextFormat(Qt.TextFormat.RichText)
        self.who.setWordWrap(True)
        self.who.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.who)
        self.kinds = QButtonGroup(self)
        self.map_radio = QRadioButton("Map to a &programme:")
        self.note_radio = QRadioButton("Add a n&ote")
        self.none_radio = QRadioButton("No act&ion")
        for i, r in enumerate((self.map_radio, self.note_radio, self.none_radio)):
            self.kinds.addButton(r, i)
        self.map_radio.setChecked(True)
        row = QHBoxLayout()
        self.programme = QComboBox()
        self.programme.setAccessibleName("Programme for the student")
        self.start = date_edit(name="Start date")
        start_label = QLabel("from")
        start_label.setBuddy(self.start)
        row.addWidget(self.map_radio)
        row.addWidget(self.programme, 1)
        row.addWidget(start_label)
        row.addWidget(self.start)
        layout.addLayout(row)
        row2 = QHBoxLayout()
        row2.addWidget(self.note_radio)
        row2.addWidget(self.none_radio)
        row2.addStretch(1)
        layout.addLayout(row2)
        row3 = QHBoxLayout()
        self.text = QLineEdit()
        self.text.setAccessibleName("The note, or the reason for no action")
        self.text.setPlaceholderText("The note, or why no action (required for both)")
        text_label = QLabel("&Words:")
        text_label.setBuddy(self.text)
        self.sensitive = QCheckBox("&Sensitive")
        self.sensitive.setToolTip("A sensitive note is read only by its author, the data custodian, principal class and welfare staff.")
        self.record_button = QPushButton("&Record the decision")
        self.record_button.setToolTip("Record the decision (Ctrl+Enter) and move to the next student")
        row3.addWidget(text_label)
        row3.addWidget(self.text, 1)
        row3.addWidget(self.sensitive)
        row3.addWidget(self.record_button)
        layout.addLayout(row3)
        layout.addStretch(1)
        self.text.returnPressed.connect(self.record)
        self.record_button.clicked.connect(self.record)
        self.kinds.idToggled.connect(lambda *_: self._kind_changed())
        self._kind_changed()
        return box

    def _kind_changed(self) -> None:
        mapping = self.map_radio.isChecked()
        self.programme.setEnabled(mapping)
        self.start.setEnabled(mapping)
        self.sensitive.setEnabled(self.note_radio.isChecked())
        self.text.setPlaceholderText(
            "Optional" if mapping else ("The note (required)" if self.note_radio.isChecked() else "Why no action (required)")
        )

    def _cells(self, a: Any) -> list[str]:
        d = self.decisions.get(a.student_key)
        return [a.student_name or a.student_key, a.year_level, a.tier, str(a.flag_count), YES if a.decided else NO,
                decision_words(d) if d else "", "; ".join(a.reasons)]

    # -- loading ----------------------------------------------------------------------------
    def prepare(self) -> Any:
        session, chosen = self.session, self.meeting_id

        def fetch() -> object:
            service, meeting_id = iv(), chosen
            meetings = service.list_meetings(session)
            if meeting_id is None and meetings and _local_day(meetings[0].started_at) == date.today():
                meeting_id = meetings[0].id  # today's meeting carries on
            agenda = service.agenda(session, meeting_id)
            recap = service.recap(session, meeting_id) if meeting_id is not None else None
            programmes = [p for p in service.list_programmes(session) if not p.retired]
            return meetings, meeting_id, agenda, recap, programmes

        return fetch

    def show_data(self, data: Any) -> None:
        meetings, meeting_id, agenda, recap, programmes = data
        chosen = self.current_key()
        self.meetings, self.meeting_id, self.recap_data = list(meetings), meeting_id, recap
        self.items = list(agenda)
        self.decisions = {d.student_key: d for d in recap.decisions} if recap is not None else {}
        self.meeting.blockSignals(True)
        self.meeting.clear()
        if meeting_id is None:
            self.meeting.addItem("Today's (starts with the first decision)", None)
        for m in self.meetings:
            self.meeting.addItem(f"{local_time(m.started_at)}, {m.started_by}", m.id)
            if m.title:
                self.meeting.setItemData(self.meeting.count() - 1, m.title, Qt.ItemDataRole.ToolTipRole)
        self.meeting.setCurrentIndex(max(0, self.meeting.findData(meeting_id)))
        self.meeting.blockSignals(False)
        wanted = self.programme.currentData()
        self.programmes = programmes
        self.programme.clear()
        for p in programmes:
            seats = "" if p.capacity is None else f" — {max(p.capacity - p.participants, 0)} seats free"
            self.programme.addItem(f"{p.name} ({measure_title(p.measure).lower()}){seats}", p.name)
        if wanted:
            self.programme.setCurrentIndex(max(0, self.programme.findData(wanted)))
        self.map_radio.setEnabled(bool(programmes))
        if not programmes and self.map_radio.isChecked():
            self.note_radio.setChecked(True)
        self.model.set_rows(self.items)
        size_columns(self.table, self.model.text_rows(), widest=260)
        decided = sum(1 for a in self.items if a.decided)
        self.count.setText(f"{decided} of {len(self.items)} decided")
        for b in (self.print_button, self.pdf_button):
            b.setEnabled(meeting_id is not None)
        self.hint("" if self.items else "Nobody is on the agenda: no new or worsening flags since the last refresh, "
                                        "and no review dates have come.")
        row = next((i for i, a in enumerate(self.items) if a.student_key == chosen), None)
        if row is None:
            row = self._next_undecided(-1)
        if row is not None:
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 0))
        self._selected()
        if self._after_record is not None:
            after, self._after_record = self._after_record, None
            self._move_on(after)

    def _next_undecided(self, after: int) -> int | None:
        n = len(self.items)
        for step in range(1, n + 1):
            i = (after + step) % n
            if not self.items[i].decided:
                return i
        return 0 if n else None

    def current_key(self) -> str | None:
        item = self.current()
        return item.student_key if item is not None else None

    def current(self) -> Any:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.items):
            return None
        return self.model.row_at(index.row())

    def _selected(self) -> None:
        a = self.current()
        self.decision_box.setEnabled(a is not None)
        if a is None:
            self.who.setText("Choose a student on the agenda.")
            return
        done = self.decisions.get(a.student_key)
        already = f"<br><b>Decided:</b> {escape(decision_words(done))} (another decision can be added)" if done else ""
        self.who.setText(
            f"<b>{escape(a.student_name or a.student_key)}</b> — year {escape(a.year_level)}, {escape(a.home_group)}, "
            f"tier {escape(a.tier)}, {a.flag_count} flag{'s' if a.flag_count != 1 else ''}<br>"
            f"{escape('; '.join(a.reasons))}{already}"
        )

    def _meeting_chosen(self, _index: int) -> None:
        self.meeting_id = self.meeting.currentData()
        self.load()

    def focus_decision(self) -> None:
        checked = self.kinds.checkedButton()
        (checked or self.map_radio).setFocus()

    # -- changes ----------------------------------------------------------------------------
    def new_meeting(self) -> None:
        session = self.session

        def done(meeting: object) -> None:
            self.meeting_id = meeting.id  # type: ignore[attr-defined]
            say(self.message, "A new meeting has started.")
            self.load()

        self.run(lambda: iv().start_meeting(session), done)

    def record(self) -> None:
        a = self.current()
        if a is None:
            say(self.message, "Choose a student on the agenda first.")
            self.table.setFocus()
            return
        kind = ("map", "note", "no_action")[max(self.kinds.checkedId(), 0)]
        text = self.text.text().strip()
        programme = self.programme.currentData() if kind == "map" else None
        if kind == "map" and not programme:
            say(self.message, "Choose the programme to map the student to.")
            self.programme.setFocus()
            return
        if kind != "map" and not text:
            say(self.message, "Write the note first." if kind == "note" else "Give the reason for no action.")
            self.text.setFocus()
            return
        session, meeting_id, key = self.session, self.meeting_id, a.student_key
        start = from_qdate(self.start.date()) if kind == "map" else None
        sensitive = self.sensitive.isChecked() and kind == "note"
        row = self.table.currentIndex().row()
        self.record_button.setEnabled(False)

        def work() -> object:
            service = iv()
            mid = meeting_id if meeting_id is not None else service.start_meeting(session).id
            return mid, service.record_decision(session, mid, key, kind, programme=programme, start=start, text=text,
                                                sensitive=sensitive)

        def done(result: object) -> None:
            mid, decision = result  # type: ignore[misc]
            self.record_button.setEnabled(True)
            self.meeting_id = mid
            self.text.clear()
            self.sensitive.setChecked(False)
            say(self.message, f"Recorded for {a.student_name or key}: {decision_words(decision)}.")
            self._after_record = row
            self.recorded.emit(decision)
            self.changed.emit()  # the page reloads every tab (this one included)

        def failed(exc: object) -> None:
            self.record_button.setEnabled(True)
            self._failed(exc)

        job = worker.runner.start(lambda progress: work(), self)
        self.action_job = job
        job.finished.connect(done)
        job.failed.connect(failed)

    def _move_on(self, after: int) -> None:
        """After a decision: the next student without one, and the focus back on the agenda."""
        row = self._next_undecided(after)
        if row is not None:
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 0))
        self._selected()
        self.table.setFocus()

    # -- the recap ---------------------------------------------------------------------------
    def recap_html(self) -> str:
        from mapping_tool.ui import printing

        recap = self.recap_data
        school = self.session.store.school
        m = recap.meeting
        title = f"Welfare meeting recap — {m.started_at:%d/%m/%Y}"
        meta = [
            f"{school.school_name if school else ''} — meeting started {local_time(m.started_at)} by {m.started_by}"
            + (f" ({m.title})" if m.title else "")
            + (f"; flags compared with the refresh of {day(m.last_refresh)}" if m.last_refresh else ""),
            f"Printed {date.today():%d/%m/%Y} by {self.session.display_name} ({self.session.role.title}). "
            "Confidential: student information under the school's privacy assessment.",
            f"{len(recap.decisions)} decision{'s' if len(recap.decisions) != 1 else ''}; "
            f"{len(recap.undecided)} student{'s' if len(recap.undecided) != 1 else ''} on the agenda without one.",
        ]
        rows = []
        for d in recap.decisions:
            kind = {"map": "Map to a programme", "note": "Note", "no_action": "No action"}.get(d.kind, d.kind)
            detail = d.programme if d.kind == "map" else d.text
            if d.sensitive:
                detail = f"[Sensitive] {detail}"
            rows.append([d.student_name or d.student_key, kind, detail, d.decided_by, local_time(d.decided_at)])
        parts = [f"<h2>{escape(title)}</h2>", *(f"<p class='meta'>{escape(line)}</p>" for line in meta)]
        parts.append(_table(["Student", "Decision", "Programme, note or reason", "By", "At"], [20, 15, 39, 11, 15], rows))
        if recap.undecided:
            undecided = [[a.student_name or a.student_key, a.year_level, a.tier, "; ".join(a.reasons)] for a in recap.undecided]
            parts.append("<h2>Still to decide</h2>")
            parts.append(_table(["Student", "Year", "Tier", "Why on the agenda"], [22, 7, 10, 61], undecided))
        return f"<html><head><style type='text/css'>{printing.TABLE_STYLE}</style></head><body>{''.join(parts)}</body></html>"

    def _recap_keys(self) -> list[str]:
        recap = self.recap_data
        return [d.student_key for d in recap.decisions] + [a.student_key for a in recap.undecided]

    def print_recap(self) -> None:
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        from mapping_tool.services.interventions_ui_support import record_output
        from mapping_tool.ui import printing

        if self.recap_data is None:
            say(self.message, "No decisions yet: the recap starts with the meeting's first decision.")
            return
        html = self.recap_html()
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintPreviewDialog(printer, self)
        dialog.setWindowTitle("Print preview – meeting recap")
        dialog.paintRequested.connect(lambda p: printing.print_html(html, p, landscape=False))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            record_output(self.session, "print.meeting-recap", "printer", student_keys=self._recap_keys(),
                          detail={"to": "printer", "meeting": self.recap_data.meeting.id})
        dialog.deleteLater()

    def save_pdf(self, path: Path | None = None, *, replace: bool = False) -> None:
        if self.recap_data is None:
            say(self.message, "No decisions yet: the recap starts with the meeting's first decision.")
            return
        if path is None:
            target = ask_save_path(self, "Save the recap as PDF", f"meeting-recap-{date.today():%d-%m-%Y}.pdf",
                                   "PDF (*.pdf)", (".pdf",))
            if target is None:
                return
            path, replace = target.path, target.replace
        if path.suffix.lower() != ".pdf":
            path = path.with_suffix(".pdf")
        html, keys = self.recap_html(), self._recap_keys()
        folder, meeting = self.session.store.files.folder, self.recap_data.meeting.id

        def work() -> object:
            from mapping_tool.services.outputs import atomic_output
            from mapping_tool.ui import printing

            with atomic_output(path, store_folder=folder, replace=replace) as tmp:
                printing.write_pdf(html, tmp, title="Meeting recap")
            return path

        def done(_r: object) -> None:
            from mapping_tool.services.interventions_ui_support import record_output

            record_output(self.session, "print.meeting-recap", path.name, student_keys=keys,
                          detail={"to": "pdf", "path": str(path), "meeting": meeting})
            say(self.message, f"Saved the recap to {path}.")
            self.exported.emit(path)

        self.run(work, done)


__all__ = ["MeetingTab"]
