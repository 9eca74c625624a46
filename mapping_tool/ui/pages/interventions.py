"""The Interventions page: the school's catalogue of programmes with seats against flagged demand
(the capacity view) and each programme's participants; each programme's evaluation beside
similar students, with its chart, its warnings in words and the naive change beside the
difference (saying which to read), to Excel and PDF; the grid of students × programmes like the
original workbook's right-hand side; and the meeting mode (``meeting.py``).

Everything is read and changed through ``services.interventions`` (policy and audit log) on the
worker thread. A tab reloads when it is shown after the data under it changed: any change made
on this page, and every time the page is shown (a student may have been mapped from the
Students page or the student panel meanwhile).
"""

from __future__ import annotations

import logging
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.pages.intervention_widgets import (
    CATALOGUE_ROLES,
    NO,
    STATUS_WORDS,
    YES,
    AssignDialog,
    CellsModel,
    EndDialog,
    ProgrammeDialog,
    better_words,
    change,
    chart_unit,
    day,
    iv,
    kind_title,
    level,
    measure_title,
    message_label,
    plain_table,
    say,
    shortcut,
    size_columns,
    yes_no,
)
from mapping_tool.ui.save_dialog import SaveTarget, ask_save_path

logger = logging.getLogger(__name__)

WEEKS_ROLES = (Role.CUSTODIAN, Role.PRINCIPAL)


def _muted(text: str) -> QLabel:
    from mapping_tool.ui.pages.student_panel import _muted as muted

    return muted(text)


def _rich(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard)
    return label


class _Tab(QWidget):
    """A tab that loads off the UI thread; ``stale`` until loaded after the last change."""

    loaded = Signal()
    changed = Signal()  # this tab changed data (every tab reloads)

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.stale = True
        self.job: worker.Job | None = None
        self._generation = 0
        self.message = message_label()
        self._hint = ""

    def hint(self, text: str) -> None:
        """Why the tab is empty; cleared when it is not, without wiping what an action just said."""
        if text:
            say(self.message, text)
        elif self.message.text() == self._hint:
            say(self.message, "")
        self._hint = text

    def prepare(self) -> Any:
        """On the UI thread: read what the load needs from the widgets, and return the call that
        fetches the data on the worker thread (which never touches a widget)."""
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        raise NotImplementedError

    def load(self) -> None:
        if self._generation == 0:
            self.hint("Loading…")  # the first load in a session may take a second
        self.stale = False
        self._generation += 1
        generation = self._generation
        try:
            self.session.check_active()
        except KnownError as exc:
            say(self.message, exc.message)
            return
        fetch = self.prepare()
        self.job = worker.runner.start(lambda progress: fetch(), self)
        self.job.finished.connect(lambda data, g=generation: self._arrived(data, g))
        self.job.failed.connect(self._failed)

    def _arrived(self, data: object, generation: int) -> None:
        if generation != self._generation:
            return
        self.show_data(data)
        self.loaded.emit()

    def _failed(self, exc: object) -> None:
        if isinstance(exc, KnownError):
            say(self.message, exc.message)
        else:
            show_error(self, exc)  # type: ignore[arg-type]

    def run(self, fn: Any, done: Any) -> None:
        """A change: off the UI thread; refused, the sentence under the tab's buttons."""
        job = worker.runner.start(lambda progress: fn(), self)
        self.action_job = job
        job.finished.connect(done)
        job.failed.connect(self._failed)


# -- the catalogue and capacity -------------------------------------------------------------------


class CatalogueTab(_Tab):
    # the capacity figures first: on a laptop screen they are in view without scrolling
    HEADERS = ("Programme", "Seats", "Taking\npart", "Free\nseats", "Flagged\ndemand", "Measure it targets", "Kind",
               "Sensitive", "Responsible", "Status")

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.programmes: list[Any] = []
        self.capacity: dict[str, Any] = {}
        self.participants: list[Any] = []
        self.dialog: QDialog | None = None
        editor = session.role in CATALOGUE_ROLES
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        intro = _muted(
            "The school's programmes. <b>Flagged demand</b>: students you may see whose flags match the programme's "
            "measure and who are in no programme for it — set it against the free seats."
        )
        layout.addWidget(intro)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("&Add programme…")
        self.edit_button = QPushButton("Ed&it…")
        self.retire_button = QPushButton("&Retire")
        self.restore_button = QPushButton("Bring &back")
        self.starter_button = QPushButton("Add the &starter set")
        self.starter_button.setToolTip("Add the starter programmes the school does not have yet (a school edits them)")
        self.show_retired = QCheckBox("Show re&tired")
        self.import_button = QPushButton("Im&port mappings…")
        self.import_button.setToolTip("Existing participation from a spreadsheet (csv or xlsx): long form (student key, "
                                      "programme, start, end, status) or the old workbook's grid (a column per programme)")
        for b in (self.add_button, self.edit_button, self.retire_button, self.restore_button, self.starter_button,
                  self.import_button):
            buttons.addWidget(b)
            if not editor:  # hidden, never shown before it has a parent (it would flash up as a window)
                b.hide()
        buttons.addStretch(1)
        buttons.addWidget(self.show_retired)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.model = CellsModel(self.HEADERS, self._cells, self, right=(1, 2, 3, 4))
        self.table = plain_table("Programmes")
        self.table.setModel(self.model)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 4, 0, 0)
        self.detail = _rich("")
        detail_row = QHBoxLayout()
        detail_row.addWidget(self.detail, 1)
        self.history_button = QPushButton("Change histor&y")
        self.history_button.setToolTip("Every change to the programme: who, when, what")
        detail_row.addWidget(self.history_button, 0, Qt.AlignmentFlag.AlignTop)
        lower_layout.addLayout(detail_row)
        self.history = _muted("")
        self.history.hide()
        lower_layout.addWidget(self.history)
        part_row = QHBoxLayout()
        self.part_title = QLabel("<b>Taking part</b>")
        part_row.addWidget(self.part_title, 1)
        part_row.addWidget(_muted("To add students, select them on the Students page or the Grid tab, or open a student."), 2)
        self.end_button = QPushButton("E&nd participation…")
        part_row.addWidget(self.end_button)
        lower_layout.addLayout(part_row)
        self.part_model = CellsModel(
            ("Student", "Year", "Start", "Review", "Status", "Responsible", "Goal"), self._part_cells, self,
        )
        self.part_table = plain_table("Students taking part")
        self.part_table.setModel(self.part_model)
        lower_layout.addWidget(self.part_table, 1)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._selected())
        self.table.activated.connect(lambda _i: self.edit_programme() if editor else None)
        self.add_button.clicked.connect(self.add_programme)
        self.edit_button.clicked.connect(self.edit_programme)
        self.retire_button.clicked.connect(self.retire)
        self.restore_button.clicked.connect(self.restore)
        self.starter_button.clicked.connect(self.add_starter)
        self.show_retired.toggled.connect(lambda _on: self.load())
        self.end_button.clicked.connect(self.end_participation)
        self.history_button.clicked.connect(self.show_history)
        self.import_button.clicked.connect(self.import_mappings)
        self.part_job: worker.Job | None = None
        self.report_dialog: QDialog | None = None

    def _cells(self, p: Any) -> list[str]:
        cap = self.capacity.get(p.name)
        seats = "not limited" if p.capacity is None else str(p.capacity)
        free = "" if cap is None or cap.free_seats is None else str(cap.free_seats)
        demand = "" if cap is None else str(cap.demand)
        return [p.name, seats, str(p.participants), free, demand, measure_title(p.measure), kind_title(p.kind),
                yes_no(p.sensitive), p.responsible, "Retired" if p.retired else "Current"]

    def _part_cells(self, m: Any) -> list[str]:
        status = STATUS_WORDS.get(m.status, m.status)
        if m.status == "withdrawn" and m.reason:
            status += f" ({m.reason})"
        if m.end:
            status += f", ended {day(m.end)}"
        return [m.student_name or m.student_key, m.year_level, day(m.start), day(m.review), status, m.responsible,
                m.goal_text]

    def prepare(self) -> Any:
        session, retired = self.session, self.show_retired.isChecked()

        def fetch() -> object:
            service = iv()
            return service.list_programmes(session, include_retired=retired), service.capacity(session)

        return fetch

    def show_data(self, data: Any) -> None:
        programmes, capacity = data
        selected = self.current()
        self.programmes = list(programmes)
        self.capacity = {c.programme: c for c in capacity}
        self.model.set_rows(self.programmes)
        size_columns(self.table, self.model.text_rows(), widest=230)
        self.hint("" if self.programmes else "No programmes yet." + (
            " Add them one by one, or start from the starter set and edit it." if self.session.role in CATALOGUE_ROLES
            else " Welfare staff, principal class or the data custodian add them."))
        row = 0
        if selected is not None:
            row = next((i for i, p in enumerate(self.programmes) if p.name == selected.name), 0)
        if self.programmes:
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 0))
        self._selected()

    def current(self) -> Any:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_at(index.row())

    def _selected(self) -> None:
        p = self.current()
        for b in (self.edit_button, self.retire_button, self.end_button):
            b.setEnabled(p is not None)
        self.restore_button.setEnabled(p is not None and p.retired)
        self.retire_button.setEnabled(p is not None and not p.retired)
        if p is None:
            self.detail.setText("")
            self.part_model.set_rows([])
            return
        runs = ""
        if p.start_date or p.end_date:
            runs = f" · runs {day(p.start_date) or '…'} to {day(p.end_date) or '…'}"
        sensitive = " · <b>sensitive</b>: only those inside it see who takes part" if p.sensitive else ""
        self.detail.setText(
            f"<b>{escape(p.name)}</b> — {escape(kind_title(p.kind))}, targets {escape(measure_title(p.measure).lower())}"
            f"{' · provider ' + escape(p.provider) if p.provider else ''}{runs}{sensitive} · version {p.version}"
            f"<br>{escape(p.description) if p.description else '<i>No description.</i>'}"
        )
        self.part_title.setText(f"<b>Taking part in {escape(p.name)}</b>")
        self.history.hide()
        session, name = self.session, p.name
        job = worker.runner.start(lambda progress: iv().list_mappings(session, programme=name), self)
        self.part_job = job
        job.finished.connect(lambda rows, job=job: self._participants(rows, job))
        job.failed.connect(self._failed)

    def _participants(self, rows: Any, job: worker.Job) -> None:
        if job is not self.part_job:
            return
        self.participants = list(rows)
        self.part_model.set_rows(self.participants)
        size_columns(self.part_table, self.part_model.text_rows(), widest=220)
        self.end_button.setEnabled(bool(self.participants))

    # -- changes ----------------------------------------------------------------------------
    def _open(self, dialog: QDialog) -> None:
        self.dialog = dialog
        dialog.done_with.connect(lambda _r: self.changed.emit())  # type: ignore[attr-defined]
        dialog.open()

    def add_programme(self) -> None:
        self._open(ProgrammeDialog(self.session, None, self))

    def edit_programme(self) -> None:
        p = self.current()
        if p is not None:
            self._open(ProgrammeDialog(self.session, p, self))

    def end_participation(self) -> None:
        index = self.part_table.currentIndex()
        if not index.isValid():
            say(self.message, "Choose the student in the list of those taking part first.")
            self.part_table.setFocus()
            return
        mapping = self.part_model.row_at(index.row())
        if mapping.status not in ("planned", "active"):
            say(self.message, "That student's participation has already ended.")
            return
        self._open(EndDialog(self.session, mapping, self))

    def show_history(self) -> None:
        from mapping_tool.ui.pages.intervention_widgets import history_text

        p = self.current()
        if p is None:
            return
        session, name = self.session, p.name

        def done(versions: object) -> None:
            self.history.setText(escape(history_text(versions)).replace("\n", "<br>"))  # type: ignore[arg-type]
            self.history.show()

        self.run(lambda: iv().programme_history(session, name), done)

    def import_mappings(self, path: Path | None = None) -> None:
        """All or nothing: one bad row refuses the file, and the report by row says which."""
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(self, "Import mappings", "", "Spreadsheets (*.xlsx *.csv)")
            if not chosen:
                return
            path = Path(chosen)
        session, file = self.session, path
        say(self.message, "Importing…")

        def done(result: object) -> None:
            rows = result.rows  # type: ignore[attr-defined]
            already = sum(1 for r in rows if r.outcome == "already mapped")
            say(self.message, f"Imported {result.added} mapping{'s' if result.added != 1 else ''} from {file.name} "  # type: ignore[attr-defined]
                f"({'the workbook grid' if result.form == 'grid' else 'one row per mapping'})"  # type: ignore[attr-defined]
                + (f"; {already} were already there." if already else "."))
            self.changed.emit()

        def failed(exc: object) -> None:
            report = getattr(exc, "report", ())
            self._failed(exc)
            if report:
                self.show_report(str(getattr(exc, "message", "")), report)

        job = worker.runner.start(lambda progress: iv().import_mappings(session, file), self)
        self.action_job = job
        job.finished.connect(done)
        job.failed.connect(failed)

    def show_report(self, message: str, report: Any) -> None:
        from PySide6.QtWidgets import QDialogButtonBox, QPlainTextEdit

        dialog = QDialog(self)
        dialog.setWindowTitle("Import refused: nothing was imported")
        dialog.resize(640, 420)
        box = QVBoxLayout(dialog)
        head = QLabel(message)
        head.setWordWrap(True)
        box.addWidget(head)
        text = QPlainTextEdit()
        text.setReadOnly(True)
        text.setAccessibleName("Report by row")
        text.setPlainText("\n".join(f"Row {r.row}: {r.student_key or '(no key)'} · {r.programme or '(no programme)'} — {r.outcome}"
                                     for r in report))
        box.addWidget(text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        box.addWidget(buttons)
        self.report_dialog = dialog
        self.report_text = text
        dialog.open()

    def retire(self) -> None:
        p = self.current()
        if p is None:
            return
        session, name = self.session, p.name

        def done(result: object) -> None:
            say(self.message, f"{name} was {'retired: its participants and history are kept' if result == 'retired' else 'deleted (nobody was ever in it)'}.")
            self.changed.emit()

        self.run(lambda: iv().remove_programme(session, name), done)

    def restore(self) -> None:
        p = self.current()
        if p is None:
            return
        session, name = self.session, p.name

        def done(_r: object) -> None:
            say(self.message, f"{name} is current again.")
            self.changed.emit()

        self.run(lambda: iv().restore_programme(session, name), done)

    def add_starter(self) -> None:
        session = self.session

        def done(count: object) -> None:
            say(self.message, f"Added {count} starter programme{'s' if count != 1 else ''}; edit them to suit the school."
                if count else "The school already has every starter programme.")
            self.changed.emit()

        self.run(lambda: iv().load_starter_catalogue(session), done)


# -- the evaluation -----------------------------------------------------------------------------------


def evaluation_html(session: Any, evaluations: list[Any], images: dict[str, bytes]) -> str:
    """The printable evaluation: per programme its figures, the naive change beside the difference,
    every warning, and the chart (``images``: programme -> PNG, added as resources)."""
    from mapping_tool.ui.printing import TABLE_STYLE

    school = session.store.school
    parts = [
        f"<h2>Evaluation of interventions</h2><p class='meta'>{escape(school.school_name if school else '')} — printed "
        f"{date.today():%d/%m/%Y} by {escape(session.display_name)} ({escape(session.role.title)}). Each programme's "
        "participants are compared with similar students (same year level, nearest before-figure, in no programme at "
        "the time). Confidential.</p>"
    ]
    for e in evaluations:
        m = e.measure
        parts.append(f"<h3>{escape(e.intervention)} — {escape(measure_title(m))}</h3>")
        parts.append(f"<p class='meta'>{e.participants} taking part, {e.measured} measured; window {e.weeks} weeks before "
                     f"and after each start. {escape(better_words(m))}</p>")
        if e.not_measured:
            parts.append("<p class='meta'>Not measured: " + escape("; ".join(f"{n} {r}" for r, n in e.not_measured.items()))
                         + "</p>")
        if e.figures_hidden:
            parts.append("<p><b>Figures are not shown: fewer than 5 students were measured and some are students you "
                         "may not see.</b></p>")
        else:
            interval = ""
            if e.ci_low is not None and e.ci_high is not None:
                interval = f" (95 % interval {change(e.ci_low, m)} to {change(e.ci_high, m)})"
            rows = [
                ("Participants before → after", f"{level(e.before_mean, m)} → {level(e.after_mean, m)}"),
                ("Similar students before → after",
                 f"{level(e.comparison_before_mean, m)} → {level(e.comparison_after_mean, m)}"),
                ("Change of participants (naive)", change(e.change, m)),
                ("Change of similar students", change(e.comparison_change, m)),
                ("Difference from similar students — read this one", f"<b>{escape(change(e.difference, m))}</b>{escape(interval)}"),
            ]
            table = "".join(f"<tr><td>{escape(a)}</td><td>{b if a.startswith('Difference') else escape(b)}</td></tr>"
                            for a, b in rows)
            image = f"<img src='chart-{_slug(e.intervention)}.png' width='320'>" if e.intervention in images else ""
            parts.append(f"<table width='100%'><tr><td width='50%'>{image}</td><td><table class='list' width='100%' cellspacing='0'>"
                         f"{table}</table></td></tr></table>")
        parts.append("<p><b>Read with care:</b></p><ul>" + "".join(f"<li>{escape(w)}</li>" for w in e.warnings) + "</ul>")
        if e.which_to_read:
            parts.append(f"<p class='meta'>{escape(e.which_to_read)}</p>")
    return f"<html><head><style type='text/css'>{TABLE_STYLE} h3 {{ font-size: 10pt; }}</style></head><body>{''.join(parts)}</body></html>"


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower())


def chart_png(evaluation: Any) -> bytes:
    """The evaluation chart drawn with Agg (no widget; safe on the worker thread)."""
    from io import BytesIO

    from matplotlib.figure import Figure

    e, m = evaluation, evaluation.measure
    fig = Figure(figsize=(4.3, 2.5), dpi=150, layout="constrained")
    ax = fig.add_subplot(111)
    values = (e.before_mean, e.after_mean, e.comparison_before_mean, e.comparison_after_mean)
    xs = (0, 1, 2.6, 3.6)
    colours = ("#2f6497", "#2f6497", "#a0522d", "#a0522d")
    for x, v, c, k in zip(xs, values, colours, range(4), strict=True):
        if v is None:
            continue
        ax.bar(x, v, width=0.8, color=c, alpha=0.55 if k % 2 == 0 else 0.95, hatch="" if k % 2 == 0 else "//",
               edgecolor="black", linewidth=0.5)
        ax.text(x, v, f"{v:.1f}{chart_unit(m)}", ha="center", va="bottom", fontsize=8)
    ax.set_xticks(xs)
    ax.set_xticklabels(["Before", "After", "Before", "After"], fontsize=8)
    ax.text(0.5, -0.2, "Participants", transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=9, fontweight="bold")
    ax.text(3.1, -0.2, "Similar students", transform=ax.get_xaxis_transform(), ha="center", va="top", fontsize=9,
            fontweight="bold")
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax.set_title(measure_title(m), fontsize=9, loc="left")
    buffer = BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def write_evaluation_pdf(html: str, images: dict[str, bytes], path: Path, store_folder: Path, *, replace: bool) -> Path:
    """The evaluation as a PDF through the checked, atomic output (worker thread)."""
    from PySide6.QtCore import QMarginsF, QUrl
    from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

    from mapping_tool.services.outputs import atomic_output

    with atomic_output(path, store_folder=store_folder, replace=replace) as tmp:
        doc = QTextDocument()
        for name, data in images.items():
            doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"chart-{_slug(name)}.png"), QImage.fromData(data))
        doc.setHtml(html)
        writer = QPdfWriter(str(tmp))
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        writer.setPageOrientation(QPageLayout.Orientation.Portrait)
        writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
        writer.setTitle("Evaluation of interventions")
        writer.setCreator("Student Mapping Tool")
        writer.setResolution(300)
        doc.print_(writer)
        del writer
    return path


class EvaluationTab(_Tab):
    exported = Signal(object)

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.evaluations: list[Any] = []
        self.students: list[Any] = []
        self.chart: Any = None
        self.file_job: worker.Job | None = None
        self.student_job: worker.Job | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        top = QHBoxLayout()
        self.weeks = QSpinBox()
        self.weeks.setRange(1, 52)
        self.weeks.setSuffix(" weeks")
        self.weeks.setAccessibleName("Weeks before and after each start")
        weeks_label = QLabel("&Window:")
        weeks_label.setBuddy(self.weeks)
        self.weeks.setToolTip("How many weeks before and after each student's start are compared")
        self.update_button = QPushButton("Recalc&ulate")
        self.save_weeks = QCheckBox("Keep as the school's setting")
        if session.role not in WEEKS_ROLES:
            self.save_weeks.hide()
        self.pdf_button = QPushButton("Save as &PDF…")
        self.excel_button = QPushButton("E&xport to Excel…")
        for w in (weeks_label, self.weeks, self.update_button, self.save_weeks):
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.pdf_button)
        top.addWidget(self.excel_button)
        layout.addLayout(top)
        layout.addWidget(self.message)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.list = QListWidget()
        self.list.setAccessibleName("Programmes evaluated")
        self.list.setMinimumWidth(150)
        self.list.setMaximumWidth(320)
        self.list.setWordWrap(True)
        self.list.setSpacing(2)
        splitter.addWidget(self.list)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        self.scroll.setWidget(self.body)
        splitter.addWidget(self.scroll)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 4)
        splitter.setSizes([180, 640])
        layout.addWidget(splitter, 1)
        self.list.currentRowChanged.connect(self._show_programme)
        self.update_button.clicked.connect(self.recalculate)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.excel_button.clicked.connect(self.export_excel)
        self.weeks_loaded = False
        self._names: dict[int, str] = {}
        self.figure_labels: dict[str, QLabel] = {}
        self.warning_labels: list[QLabel] = []
        self.student_model = CellsModel(
            ("Student", "Start", "Status", "Before", "After", "Change", "Similar\nstudents' change", "Difference",
             "Goal", "Goal met", "Note"), self._student_cells, self, right=(3, 4, 5, 6, 7),
        )

    def prepare(self) -> Any:
        session, chosen = self.session, self.weeks.value() if self.weeks_loaded else None

        def fetch() -> object:
            service = iv()
            weeks = chosen if chosen is not None else service.evaluation_weeks(session)
            return weeks, service.evaluate(session, weeks=weeks)

        return fetch

    def show_data(self, data: Any) -> None:
        weeks, evaluations = data
        self.weeks.blockSignals(True)
        self.weeks.setValue(weeks)
        self.weeks.blockSignals(False)
        self.weeks_loaded = True
        chosen = self.list.currentItem().text() if self.list.currentItem() else None
        self.evaluations = list(evaluations)
        self.list.blockSignals(True)
        self.list.clear()
        for e in self.evaluations:
            item = QListWidgetItem(e.intervention)
            item.setToolTip(f"{e.measured} of {e.participants} measured")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.hint("" if self.evaluations else "No programmes to evaluate yet: add programmes and map students first.")
        if self.evaluations:
            names = [e.intervention for e in self.evaluations]
            self.list.setCurrentRow(names.index(chosen) if chosen in names else 0)
            self._show_programme(self.list.currentRow())
        else:
            self._show_programme(-1)

    def recalculate(self) -> None:
        if self.save_weeks.isChecked() and self.save_weeks.isVisible():
            session, weeks = self.session, self.weeks.value()
            self.run(lambda: iv().set_evaluation_weeks(session, weeks), lambda _r: self.load())
            return
        self.load()

    def current(self) -> Any:
        row = self.list.currentRow()
        return self.evaluations[row] if 0 <= row < len(self.evaluations) else None

    def _figure(self, key: str, title: str, value: str, note: str, *, read_this: bool) -> QFrame:
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.StyledPanel)
        if read_this:
            frame.setStyleSheet("QFrame { border: 2px solid palette(highlight); border-radius: 4px; }"
                                "QLabel { border: none; }")
        box = QVBoxLayout(frame)
        box.setContentsMargins(8, 6, 8, 6)
        head = QLabel(f"<b>{escape(title)}</b>" + ("  —  <b>read this one</b>" if read_this else ""))
        head.setTextFormat(Qt.TextFormat.RichText)
        number = QLabel(f"<span style='font-size:16pt'><b>{escape(value)}</b></span>")
        number.setTextFormat(Qt.TextFormat.RichText)
        number.setAccessibleName(f"{title}: {value}")
        self.figure_labels[key] = number
        box.addWidget(head)
        box.addWidget(number)
        box.addWidget(_muted(escape(note)))
        return frame

    def _show_programme(self, row: int) -> None:
        self.body = QWidget()
        layout = QVBoxLayout(self.body)
        layout.setContentsMargins(8, 0, 4, 4)
        self.figure_labels, self.warning_labels, self.chart = {}, [], None
        e = self.evaluations[row] if 0 <= row < len(self.evaluations) else None
        if e is None:
            self.scroll.setWidget(self.body)
            return
        m = e.measure
        head = _rich(f"<h3 style='margin:0'>{escape(e.intervention)}</h3>"
                     f"Targets <b>{escape(measure_title(m).lower())}</b>. {escape(better_words(m))} "
                     f"<b>{e.participants}</b> taking part, <b>{e.measured}</b> measured, over {e.weeks} weeks before and "
                     "after each student's start.")
        layout.addWidget(head)
        if e.not_measured:
            layout.addWidget(_muted("Not measured: " + escape("; ".join(f"{n} — {r}" for r, n in e.not_measured.items()))))
        figures = QHBoxLayout()
        if e.figures_hidden:
            layout.addWidget(_rich("<b>The figures are not shown to you:</b> fewer than 5 students were measured and some "
                                   "of them are students you may not see, so the figures could identify them."))
        else:
            interval = ""
            if e.ci_low is not None and e.ci_high is not None:
                interval = f"95 % interval {change(e.ci_low, m)} to {change(e.ci_high, m)}. "
            figures.addWidget(self._figure(
                "change", "Change of participants", change(e.change, m),
                "After minus before, of the participants alone. Students chosen for a low figure improve a little by "
                "chance alone, so this overstates what the programme did.", read_this=False), 1)
            figures.addWidget(self._figure(
                "difference", "Difference from similar students", change(e.difference, m),
                f"{interval}The participants' change minus the change of similar students over the same dates "
                f"({change(e.comparison_change, m)}).", read_this=True), 1)
            layout.addLayout(figures)
        grid = QGridLayout()
        from mapping_tool.ui.charts import evaluation_chart

        if not e.figures_hidden:
            self.chart = evaluation_chart(
                f"{measure_title(m)}: before and after", e.before_mean, e.after_mean, e.comparison_before_mean,
                e.comparison_after_mean, unit=chart_unit(m),
            )
            self.chart.setMinimumWidth(300)
            grid.addWidget(self.chart, 0, 0)
        warnings = QVBoxLayout()
        warnings.addWidget(QLabel("<b>Read with care</b>"))
        for sentence in e.warnings:
            label = _rich(f"⚠ {escape(sentence)}")
            self.warning_labels.append(label)
            warnings.addWidget(label)
        if e.which_to_read:
            warnings.addWidget(_muted(escape(e.which_to_read)))
        warnings.addStretch(1)
        holder = QWidget()
        holder.setLayout(warnings)
        holder.setMinimumWidth(220)
        grid.addWidget(holder, 0, 1 if self.chart is not None else 0)
        grid.setColumnStretch(0, 3)
        grid.setColumnStretch(1, 2)
        layout.addLayout(grid)
        layout.addWidget(QLabel("<b>Each student you may see</b>"))
        self.student_table = plain_table(f"Students in {e.intervention}")
        self.student_table.setModel(self.student_model)
        self.student_model.set_rows([])
        self.student_table.setMinimumHeight(self.student_table.verticalHeader().defaultSectionSize() * 7)
        layout.addWidget(self.student_table, 1)  # the rest of the height on a large screen
        self.scroll.setWidget(self.body)
        session, name, weeks = self.session, e.intervention, e.weeks

        def fetch_students() -> object:
            service = iv()
            names = {m.id: m.student_name for m in service.list_mappings(session, programme=name)}
            return names, service.evaluate_students(session, weeks=weeks, programme=name)

        job = worker.runner.start(lambda progress: fetch_students(), self)
        self.student_job = job
        job.finished.connect(lambda rows, job=job: self._students(rows, job))
        job.failed.connect(self._failed)

    def _student_cells(self, s: Any) -> list[str]:
        m = s.measure
        goal = "" if s.goal_target is None else level(s.goal_target, m)
        return [self._names.get(s.mapping_id) or s.student_key, day(s.start), STATUS_WORDS.get(s.status, s.status),
                level(s.before, m), level(s.after, m), change(s.change, m), change(s.comparison_change, m),
                change(s.difference, m), goal, yes_no(s.goal_met), s.note]

    def _students(self, rows: Any, job: worker.Job) -> None:
        if job is not self.student_job:
            return
        self._names, students = rows
        self.students = list(students)
        self.student_model.set_rows(self.students)
        size_columns(self.student_table, self.student_model.text_rows(), widest=220)

    # -- files ------------------------------------------------------------------------------
    def _ask(self, title: str, name: str, filters: str, suffixes: tuple[str, ...]) -> SaveTarget | None:
        """Starts in Documents and asks before replacing a file (the answer goes to the writer)."""
        return ask_save_path(self, title, name, filters, suffixes)

    def save_pdf(self, path: Path | None = None, *, replace: bool = False) -> None:
        if not self.evaluations:
            say(self.message, "There is no evaluation to save yet.")
            return
        if path is None:
            target = self._ask("Save the evaluation as PDF", f"evaluation-{date.today():%d-%m-%Y}.pdf", "PDF (*.pdf)", (".pdf",))
            if target is None:
                return
            path, replace = target.path, target.replace
        if path.suffix.lower() != ".pdf":
            path = path.with_suffix(".pdf")
        evaluations, session = list(self.evaluations), self.session
        folder = session.store.files.folder

        def work(progress: worker.Progress) -> object:
            images = {e.intervention: chart_png(e) for e in evaluations if not e.figures_hidden}
            html = evaluation_html(session, evaluations, images)
            write_evaluation_pdf(html, images, path, folder, replace=replace)
            return path

        self._file_job(work, "pdf")

    def export_excel(self, path: Path | None = None, *, replace: bool = False) -> None:
        if not self.evaluations:
            say(self.message, "There is no evaluation to export yet.")
            return
        if path is None:
            target = self._ask("Export the evaluation to Excel", f"evaluation-{date.today():%d-%m-%Y}.xlsx",
                               "Excel (*.xlsx);;CSV (*.csv)", (".xlsx", ".csv"))
            if target is None:
                return
            path, replace = target.path, target.replace
        if path.suffix.lower() not in (".xlsx", ".csv"):
            path = path.with_suffix(".xlsx")
        students = path.with_name(f"{path.stem}-students{path.suffix}")
        session, weeks = self.session, self.weeks.value()

        def work(progress: worker.Progress) -> object:
            iv().export_evaluation(session, path, students_out=students, weeks=weeks, force=replace)
            return path

        self._file_job(work, "excel", extra=students)

    def _file_job(self, work: Any, kind: str, extra: Path | None = None) -> None:
        for b in (self.pdf_button, self.excel_button):
            b.setEnabled(False)
        say(self.message, "Saving…")
        job = worker.runner.start(work, self)
        self.file_job = job

        def done(path: object) -> None:
            for b in (self.pdf_button, self.excel_button):
                b.setEnabled(True)
            if kind == "pdf":
                from mapping_tool.services.interventions_ui_support import record_output

                record_output(self.session, "print.interventions-evaluation", Path(str(path)).name,
                              detail={"to": "pdf", "path": str(path), "programmes": len(self.evaluations)})
            say(self.message, f"Saved the evaluation to {path}" + (f" and each student's rows to {extra}." if extra else "."))
            self.exported.emit(path)

        def failed(exc: object) -> None:
            for b in (self.pdf_button, self.excel_button):
                b.setEnabled(True)
            say(self.message, "")
            self._failed(exc)

        job.finished.connect(done)
        job.failed.connect(failed)


# -- the grid --------------------------------------------------------------------------------------------


class GridTab(_Tab):
    """Students × programmes, like the original workbook's right-hand side."""

    printed = Signal()
    exported = Signal(object)

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(session, parent)
        self.view: Any = None
        self.rows: list[Any] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        filters = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Name or key")
        self.search.setAccessibleName("Search the grid")
        self.search.setClearButtonEnabled(True)
        search_label = QLabel("&Search:")
        search_label.setBuddy(self.search)
        self.year = QComboBox()
        self.year.setAccessibleName("Year level")
        self.year.addItem("All year levels", None)
        year_label = QLabel("&Year:")
        year_label.setBuddy(self.year)
        self.programme = QComboBox()
        self.programme.setAccessibleName("Programme")
        self.programme.addItem("All programmes", None)
        programme_label = QLabel("Pr&ogramme:")
        programme_label.setBuddy(self.programme)
        self.only_in = QCheckBox("Only students &in a programme")
        self.only_in.setChecked(True)
        self.current_only = QCheckBox("C&urrent only")
        self.current_only.setChecked(True)
        self.current_only.setToolTip("Untick to show completed and withdrawn participation too")
        for w in (search_label, self.search, year_label, self.year, programme_label, self.programme):
            filters.addWidget(w)
        filters.addStretch(1)
        self.count = QLabel()
        filters.addWidget(self.count)
        layout.addLayout(filters)
        row2 = QHBoxLayout()
        row2.addWidget(self.only_in)
        row2.addWidget(self.current_only)
        row2.addStretch(1)
        self.print_button = QPushButton("&Print…")
        self.pdf_button = QPushButton("Save as P&DF…")
        self.assign_button = QPushButton("&Add to a programme…")
        self.assign_button.setToolTip("Map the selected students (Shift or Ctrl for several) to a programme; untick "
                                      "“Only students in a programme” to choose from everyone")
        row2.addWidget(self.assign_button)
        row2.addWidget(self.print_button)
        row2.addWidget(self.pdf_button)
        layout.addLayout(row2)
        layout.addWidget(self.message)
        self.model = CellsModel((), self._cells, self)
        self.table = plain_table("Students and programmes")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setModel(self.model)
        self.dialog: QDialog | None = None
        layout.addWidget(self.table, 1)
        legend = _muted("✔ active or planned (the word says which); completed and withdrawn show when "
                        "<i>Current only</i> is unticked; – not in the programme.")
        layout.addWidget(legend)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(200)
        self._debounce.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(self._debounce.start)
        self.year.currentIndexChanged.connect(self.apply_filter)
        self.programme.currentIndexChanged.connect(self.apply_filter)
        self.only_in.toggled.connect(self.apply_filter)
        self.current_only.toggled.connect(lambda _on: self.load())
        self.print_button.clicked.connect(self.print_grid)
        self.pdf_button.clicked.connect(self.save_pdf)
        self.assign_button.clicked.connect(self.add_selected)
        shortcut(self, QKeySequence.StandardKey.Find, lambda: (self.search.setFocus(), self.search.selectAll()))

    @staticmethod
    def mark(value: str) -> str:
        if not value:
            return NO.split()[0]
        if value in ("active", "planned"):
            return f"✔ {value}"
        return value

    def _cells(self, r: Any) -> list[str]:
        return [r.student_name or r.student_key, r.year_level, r.home_group, r.tier or "",
                *(self.mark(v) for v in r.marks)]

    def prepare(self) -> Any:
        session, current_only = self.session, self.current_only.isChecked()
        return lambda: iv().grid(session, current_only=current_only)

    def show_data(self, data: Any) -> None:
        self.view = data
        headers = ("Student", "Year", "Home\ngroup", "Tier", *data.programmes)
        self.model.HEADERS = headers
        for box, values, everything in (
            (self.year, sorted({r.year_level for r in data.rows if r.year_level}), "All year levels"),
            (self.programme, list(data.programmes), "All programmes"),
        ):
            chosen = box.currentData()
            box.blockSignals(True)
            box.clear()
            box.addItem(everything, None)
            for v in values:
                box.addItem(str(v), v)
            box.setCurrentIndex(max(0, box.findData(chosen)) if chosen is not None else 0)
            box.blockSignals(False)
        self.apply_filter()

    def apply_filter(self) -> None:
        if self.view is None:
            return
        needle = self.search.text().strip().casefold()
        year = self.year.currentData()
        programme = self.programme.currentData()
        column = self.view.programmes.index(programme) if programme in self.view.programmes else None
        rows = []
        for r in self.view.rows:
            if needle and needle not in f"{r.student_name} {r.student_key}".casefold():
                continue
            if year is not None and r.year_level != year:
                continue
            if column is not None and not r.marks[column]:
                continue
            if self.only_in.isChecked() and not any(r.marks):
                continue
            rows.append(r)
        self.rows = rows
        self.model.set_rows(rows)
        size_columns(self.table, self.model.text_rows(), widest=200)
        total = len(self.view.rows)
        self.count.setText(f"{len(rows):,} of {total:,} students")
        self.hint("" if self.view.programmes else "No programmes yet: the grid fills as students are added to programmes.")

    def selected(self) -> list[Any]:
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.rows[r] for r in rows if 0 <= r < len(self.rows)]

    def add_selected(self) -> None:
        """Map the selected rows of the grid to a programme (the programme filter's, if one is chosen)."""
        chosen = self.selected()
        if not chosen:
            say(self.message, "Select the students first (Shift or Ctrl for several).")
            self.table.setFocus()
            return
        dialog = AssignDialog(self.session, [(r.student_key, r.student_name) for r in chosen], self,
                              programme=self.programme.currentData())
        self.dialog = dialog
        dialog.done_with.connect(lambda result: (say(self.message, f"Added {len(result)} student"  # type: ignore[arg-type]
                                                     f"{'s' if len(result) != 1 else ''} to {result[0].programme}."),  # type: ignore[index]
                                                 self.changed.emit()))
        dialog.open()

    def describe(self) -> str:
        parts = []
        if self.year.currentData():
            parts.append(f"year {self.year.currentData()}")
        if self.programme.currentData():
            parts.append(f"in {self.programme.currentData()}")
        elif self.only_in.isChecked():
            parts.append("students in a programme")
        parts.append("current participation" if self.current_only.isChecked() else "all participation, past and current")
        return "; ".join(parts)

    def print_html(self) -> str:
        from mapping_tool.ui import printing

        headers = [h.replace("\n", " ") for h in self.model.HEADERS]
        cells = [list(r) for r in self.model.text_rows()]
        school = self.session.store.school
        return printing.table_html(
            "Students and programmes",
            [f"{school.school_name if school else ''} — {len(cells):,} students. Showing: {self.describe()}.",
             f"Printed {date.today():%d/%m/%Y} by {self.session.display_name} ({self.session.role.title}). "
             "Confidential: student information under the school's privacy assessment.",
             "✔ taking part (active or planned); – not in the programme."],
            headers, cells, wrap=[True] + [False] * 3 + [True] * (len(headers) - 4),
        )

    def _keys(self) -> list[str]:
        return [r.student_key for r in self.rows]

    def print_grid(self) -> None:
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        from mapping_tool.services.interventions_ui_support import record_output
        from mapping_tool.ui import printing

        if not self.rows:
            say(self.message, "There are no students in the grid to print.")
            return
        html = self.print_html()
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printing.set_landscape(printer)
        dialog = QPrintPreviewDialog(printer, self)
        dialog.setWindowTitle("Print preview – students and programmes")
        dialog.paintRequested.connect(lambda p: printing.print_html(html, p, landscape=True))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            record_output(self.session, "print.interventions-grid", "printer", student_keys=self._keys(),
                          detail={"to": "printer", "filter": self.describe()})
            self.printed.emit()
        dialog.deleteLater()

    def save_pdf(self, path: Path | None = None, *, replace: bool = False) -> None:
        if not self.rows:
            say(self.message, "There are no students in the grid to save.")
            return
        if path is None:
            target = ask_save_path(self, "Save the grid as PDF", f"programmes-grid-{date.today():%d-%m-%Y}.pdf",
                                   "PDF (*.pdf)", (".pdf",))
            if target is None:
                return
            path, replace = target.path, target.replace
        if path.suffix.lower() != ".pdf":
            path = path.with_suffix(".pdf")
        html, keys, folder = self.print_html(), self._keys(), self.session.store.files.folder

        def work(progress: worker.Progress) -> object:
            from mapping_tool.services.outputs import atomic_output
            from mapping_tool.ui import printing

            with atomic_output(path, store_folder=folder, replace=replace) as tmp:
                printing.write_pdf(html, tmp, title="Students and programmes", landscape=True)
            return path

        def done(result: object) -> None:
            from mapping_tool.services.interventions_ui_support import record_output

            record_output(self.session, "print.interventions-grid", path.name, student_keys=keys,
                          detail={"to": "pdf", "path": str(path), "filter": self.describe()})
            say(self.message, f"Saved {len(keys):,} students to {path}.")
            self.exported.emit(path)

        self.run(work_no_progress(work), done)


def work_no_progress(work: Any) -> Any:
    return lambda: work(None)


# -- the page --------------------------------------------------------------------------------------------


# The page itself lives in a small module (the navigation imports it at once); re-exported here.
from mapping_tool.ui.pages.interventions_page import InterventionsPage  # noqa: E402

__all__ = ["InterventionsPage", "AssignDialog", "YES", "NO"]
