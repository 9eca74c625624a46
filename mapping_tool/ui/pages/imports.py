"""The Imports page (snapshots of each refresh) and the import wizard.

Reading, validating and importing all run off the UI thread through ``worker.runner``; the
wizard shows what was found, a progress bar with a working Cancel, and a summary.
"""

from __future__ import annotations

import html
import logging
from datetime import UTC
from enum import IntEnum
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.table_models import RowsTableModel

logger = logging.getLogger(__name__)
_Index = QModelIndex | QPersistentModelIndex


class SnapshotColumn(IntEnum):
    EXTRACT_DATE = 0
    IMPORTED = 1
    BY = 2
    STUDENTS = 3
    ADDED = 4
    CHANGED = 5
    GONE = 6
    WARNINGS = 7
    FILES = 8


SNAPSHOT_HEADERS = {
    SnapshotColumn.EXTRACT_DATE: "Extract date",
    SnapshotColumn.IMPORTED: "Imported",
    SnapshotColumn.BY: "By",
    SnapshotColumn.STUDENTS: "In the extract",
    SnapshotColumn.ADDED: "Added",
    SnapshotColumn.CHANGED: "Changed",
    SnapshotColumn.GONE: "Gone from extract",
    SnapshotColumn.WARNINGS: "Warnings",
    SnapshotColumn.FILES: "Files",
}


class SnapshotTableModel(RowsTableModel):
    HEADERS = tuple(SNAPSHOT_HEADERS[c] for c in SnapshotColumn)

    def cell(self, s, column: int, role: int):  # type: ignore[no-untyped-def]
        col = SnapshotColumn(column)
        if role == Qt.ItemDataRole.ToolTipRole and col is SnapshotColumn.FILES:
            return "\n".join(f"{f['name']}: {f['rows']:,} rows, SHA-256 {f['sha256'][:16]}…" for f in s.files)
        if role == Qt.ItemDataRole.TextAlignmentRole and col not in (SnapshotColumn.BY, SnapshotColumn.FILES):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return {
            SnapshotColumn.EXTRACT_DATE: s.extract_date.strftime("%d/%m/%Y"),
            SnapshotColumn.IMPORTED: s.imported_at.replace(tzinfo=UTC).astimezone().strftime("%d/%m/%Y %H:%M"),
            SnapshotColumn.BY: s.imported_by,
            SnapshotColumn.STUDENTS: f"{s.row_counts.get('students', 0):,}",
            SnapshotColumn.ADDED: f"{s.added:,}",
            SnapshotColumn.CHANGED: f"{s.changed:,}",
            SnapshotColumn.GONE: f"{s.gone:,}",
            SnapshotColumn.WARNINGS: f"{s.warning_count:,}",
            SnapshotColumn.FILES: f"{len(s.files)} files",
        }[col]


class ImportsPage(QWidget):
    imported = Signal(object)

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(QLabel("<h2>Imports</h2>"))
        intro = QLabel(
            "Each refresh from CASES21 is kept as a dated snapshot. The tool mirrors CASES21: correct "
            "data there, then refresh here. If your school uses external roll-marking software, upload "
            "its attendance into CASES21 before extracting."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.import_button = QPushButton("&Import a CASES21 extract…")
        self.import_button.clicked.connect(self.open_wizard)
        self.report_button = QPushButton("Save the data-quality &report…")
        self.report_button.clicked.connect(self.save_report)
        row.addWidget(self.import_button)
        row.addWidget(self.report_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.model = SnapshotTableModel(self)
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setModel(self.model)
        self.table.setAccessibleName("Snapshots")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # a handful of rows: cheap
        header.setStretchLastSection(True)
        self.table.setWordWrap(False)
        layout.addWidget(self.table, 1)
        # the selected refresh's data-quality report, grouped by kind in words
        self.report = QTextBrowser()
        self.report.setAccessibleName("Data-quality report")
        self.report.setOpenLinks(False)
        layout.addWidget(self.report, 2)
        self.empty = QLabel("No extract has been imported yet. Choose “Import a CASES21 extract…” to start.")
        layout.addWidget(self.empty)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        allowed = session.is_custodian
        self.import_button.setEnabled(allowed)
        if not allowed:  # said on the page, not only in a tooltip
            self.import_button.setToolTip("Only the data custodian imports extracts.")
            why = QLabel("Only the data custodian imports extracts; you can read each refresh and its report.")
            why.setWordWrap(True)
            row.insertWidget(2, why, 1)
        self.report_button.setEnabled(allowed or session.role.value == "principal")
        self.report.setVisible(self.report_button.isEnabled())
        self.table.selectionModel().selectionChanged.connect(lambda *_a: self.show_report())
        self.refresh()

    def store_changed(self) -> None:
        self.refresh()

    def show_report(self) -> None:
        """The selected refresh's findings, grouped by kind with the students under each."""
        from mapping_tool.services import data_quality

        if self.report.isHidden():
            return
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            self.report.setHtml("")
            return
        snap = self.model.row_at(rows[0].row())
        try:
            groups = data_quality.grouped_findings(self.session, snap.id)
        except KnownError as exc:
            self.report.setPlainText(exc.message)
            return
        self.report.setHtml(report_html(groups, snap.extract_date))

    def refresh(self) -> None:
        from mapping_tool.services import imports

        rows = imports.list_snapshots(self.session)
        self.model.set_rows(rows)
        self.empty.setVisible(not rows)
        if rows:
            self.table.selectRow(0)

    def open_wizard(self) -> None:
        wizard = ImportWizard(self.session, self)
        wizard.imported.connect(self._imported)
        wizard.open()
        self.wizard = wizard

    def _imported(self, result: object) -> None:
        self.refresh()
        self.imported.emit(result)
        window = self.window()
        if hasattr(window, "refresh_status"):
            window.refresh_status()

    def save_report(self) -> None:
        from mapping_tool.services import imports

        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            self.status.setText("Select a snapshot first.")
            return
        snap = self.model.row_at(rows[0].row())
        from mapping_tool.ui.save_dialog import ask_save_path

        target = ask_save_path(
            self, "Save the data-quality report", f"data-quality-{snap.extract_date:%Y-%m-%d}.xlsx",
            "Excel (*.xlsx);;CSV (*.csv)", (".xlsx", ".csv"),
        )
        if target is None:
            return
        path = str(target.path)
        try:
            count = imports.export_snapshot_report(self.session, snap.id, target.path, replace=target.replace)
        except KnownError as exc:
            self.status.setText(exc.message)
            return
        self.status.setText(f"Saved {count} findings to {path}.")


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def size_text(size: int) -> str:
    """1.2 MB, 340 KB, 12 bytes: never "0.0 MB" for a small file."""
    if size >= 1_000_000:
        return f"{size / 1e6:.1f} MB"
    if size >= 1_000:
        return f"{size / 1e3:.0f} KB"
    return f"{size} bytes"


def report_html(groups, extract_date) -> str:  # type: ignore[no-untyped-def]
    """The grouped data-quality report as a page a custodian reads top to bottom."""
    from html import escape

    title = f"<h3>Data quality of the extract of {extract_date:%d/%m/%Y}</h3>"
    if not groups:
        return title + "<p>No problems or warnings: nothing to correct in CASES21.</p>"
    warnings = sum(1 for g in groups if not g.must_fix)
    parts = [title, f"<p>{len(groups)} kind{'s' if len(groups) != 1 else ''} of finding"
                    f"{' (warnings do not stop an import; correct them in CASES21, then refresh)' if warnings else ''}.</p>"]
    for g in groups:
        label = "Must be fixed in CASES21" if g.must_fix else "Warning"
        people = ""
        if g.students:
            shown = g.students[:40]
            more = len(g.students) - len(shown)
            people = "<ul>" + "".join(f"<li>{escape(p)}</li>" for p in shown) + "</ul>"
            if more:
                people += f"<p>… and {more:,} more (all of them are in the saved report).</p>"
        parts.append(f"<p><b>{escape(g.kind)}: {g.count:,}</b> <i>({label})</i><br>{escape(g.detail)}</p>{people}")
    return "".join(parts)


def _import_settings() -> QSettings:
    """Only the folder of the last extract (a path, never student data), in the settings folder."""
    from mapping_tool.paths import settings_dir

    folder = settings_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QSettings(str(folder / "imports.ini"), QSettings.Format.IniFormat)


def last_folder() -> str:
    value = _import_settings().value("last_eduhub_folder", "")
    return value if isinstance(value, str) and value and Path(value).is_dir() else ""


def remember_folder(folder: str) -> None:
    if folder and Path(folder).is_dir():
        settings = _import_settings()
        settings.setValue("last_eduhub_folder", str(Path(folder).resolve()))
        settings.sync()


class ImportWizard(QDialog):
    """Choose → check (what was found) → import with progress and Cancel → summary."""

    imported = Signal(object)

    PAGE_CHOOSE, PAGE_CHECK, PAGE_RUN, PAGE_DONE = range(4)

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.prepared = None
        self.result = None
        self.job: worker.Job | None = None
        self.setWindowTitle("Import a CASES21 extract")
        # compact: two fields need little room; the check page grows when it has findings to list
        self.setMinimumSize(520, 300)
        self.resize(620, 340)
        layout = QVBoxLayout(self)
        self.pages = QStackedWidget()
        layout.addWidget(self.pages, 1)
        self._build_choose()
        self._build_check()
        self._build_run()
        self._build_done()
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.back_button = QPushButton("&Back")
        self.next_button = QPushButton("&Check the files")
        self.cancel_button = QPushButton("Cancel")
        for b in (self.back_button, self.next_button, self.cancel_button):
            buttons.addWidget(b)
        layout.addLayout(buttons)
        self.back_button.clicked.connect(self._back)
        self.next_button.clicked.connect(self._next)
        self.cancel_button.clicked.connect(self._cancel)
        self.folder.setText(last_folder())
        self._show(self.PAGE_CHOOSE)

    # -- pages -------------------------------------------------------------------------------
    def _build_choose(self) -> None:
        page = QWidget()
        form = QFormLayout(page)
        form.addRow(QLabel("<h3>1. Choose the files</h3>"))
        hint = QLabel(
            "Choose the eduHub folder CASES21 writes (files like ST_8123.csv, SXAB_8123.csv). "
            "Optionally add the VASS file your VASS administrator made for the tool."
        )
        hint.setWordWrap(True)
        form.addRow(hint)
        self.folder = QLineEdit()
        self.folder.setAccessibleName("eduHub folder")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(browse)
        label = QLabel("eduHub &folder:")
        label.setBuddy(self.folder)
        form.addRow(label, row)
        self.vass = QLineEdit()
        self.vass.setAccessibleName("VASS file (optional)")
        vbrowse = QPushButton("Browse…")
        vbrowse.clicked.connect(self._browse_vass)
        vrow = QHBoxLayout()
        vrow.addWidget(self.vass, 1)
        vrow.addWidget(vbrowse)
        vlabel = QLabel("&VASS file (optional):")
        vlabel.setBuddy(self.vass)
        form.addRow(vlabel, vrow)
        self.choose_message = QLabel()
        self.choose_message.setWordWrap(True)
        form.addRow(self.choose_message)
        self.pages.addWidget(page)

    def _build_check(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("<h3>2. What was found</h3>"))
        self.found = QLabel()
        self.found.setWordWrap(True)
        self.found.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.found)
        self.confirm = QCheckBox("I have checked the extract and it is right: &import it anyway")
        self.confirm.setVisible(False)
        self.confirm.toggled.connect(lambda _on: self._show(self.PAGE_CHECK))
        layout.addWidget(self.confirm)
        self.findings_label = QLabel()
        self.findings_label.setWordWrap(True)
        layout.addWidget(self.findings_label)
        self.findings = QListWidget()
        self.findings.setAccessibleName("Problems and warnings")
        self.findings.setWordWrap(True)
        self.findings.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.findings.setMinimumHeight(140)
        layout.addWidget(self.findings, 1)
        self.pages.addWidget(page)

    def _build_run(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("<h3>3. Importing</h3>"))
        self.run_text = QLabel("Starting…")
        layout.addWidget(self.run_text)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setAccessibleName("Import progress")
        layout.addWidget(self.progress)
        note = QLabel("Cancel stops the import and saves nothing: the store stays as it was.")
        note.setWordWrap(True)
        layout.addWidget(note)
        layout.addStretch(1)
        self.pages.addWidget(page)

    def _build_done(self) -> None:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(QLabel("<h3>4. Done</h3>"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.summary)
        self.report_button = QPushButton("Save the data-quality report…")
        self.report_button.clicked.connect(self._save_report)
        layout.addWidget(self.report_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.pages.addWidget(page)

    def _show(self, page: int) -> None:
        self.pages.setCurrentIndex(page)
        # every page starts with its buttons usable (a failed check or a cancelled import
        # left them greyed)
        self.cancel_button.setEnabled(True)
        self.next_button.setEnabled(True)
        if page == self.PAGE_CHECK and self.height() < 540:
            self.resize(max(self.width(), 680), 560)
        self.back_button.setVisible(page == self.PAGE_CHECK)
        self.next_button.setVisible(page in (self.PAGE_CHOOSE, self.PAGE_CHECK, self.PAGE_DONE))
        self.cancel_button.setVisible(page != self.PAGE_DONE)
        self.cancel_button.setText("Cancel – nothing will be saved" if page == self.PAGE_RUN else "Cancel")
        if page == self.PAGE_CHOOSE:
            self.next_button.setText("&Check the files")
        elif page == self.PAGE_CHECK:
            can = self.prepared is not None and not self.prepared.errors and self.prepared.already_snapshot is None
            if can and self.prepared.notices:  # an implausible refresh needs the tick first
                can = self.confirm.isChecked()
            self.next_button.setText("&Import")
            self.next_button.setEnabled(can)
        elif page == self.PAGE_DONE:
            self.next_button.setText("Close")
            self.next_button.setEnabled(True)

    # -- navigation --------------------------------------------------------------------------
    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Choose the eduHub folder", self.folder.text() or last_folder())
        if path:
            self.folder.setText(path)

    def _browse_vass(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose the VASS file", "", "VASS files (*.txt *.csv *.dat);;All files (*)")
        if path:
            self.vass.setText(path)

    def _back(self) -> None:
        self._show(self.PAGE_CHOOSE)

    def _next(self) -> None:
        page = self.pages.currentIndex()
        if page == self.PAGE_CHOOSE:
            self.check()
        elif page == self.PAGE_CHECK:
            self.start_import()
        else:
            self.accept()

    def _cancel(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()
            self.run_text.setText("Cancelling…")
            self.cancel_button.setEnabled(False)
            return
        self.reject()

    def reject(self) -> None:
        if self.job is not None and self.job.running:
            self._cancel()
            return
        super().reject()

    # -- work --------------------------------------------------------------------------------
    def check(self) -> None:
        folder = self.folder.text().strip()
        if not folder:
            self.choose_message.setText("Choose the eduHub folder first.")
            return
        vass = Path(self.vass.text().strip()) if self.vass.text().strip() else None
        session = self.session

        def work(progress: worker.Progress) -> object:
            from mapping_tool.services import imports

            return imports.prepare_cases21(session, Path(folder), vass=vass, progress=progress)

        self.choose_message.setText("Checking the files…")
        self.next_button.setEnabled(False)
        self.job = worker.runner.start(work, self)
        self.job.finished.connect(self._checked)
        self.job.failed.connect(self._check_failed)

    def _check_failed(self, exc: object) -> None:
        self.next_button.setEnabled(True)
        if isinstance(exc, KnownError):
            self.choose_message.setText(exc.message)
        else:
            self.choose_message.setText("")
            show_error(self, exc)  # type: ignore[arg-type]

    def _checked(self, prepared: object) -> None:
        self.next_button.setEnabled(True)
        self.choose_message.setText("")
        remember_folder(self.folder.text().strip())
        self.prepared = prepared
        p = prepared
        school = self.session.store.school
        files = "".join(
            f"<tr><td>{f.name}</td><td align='right'>{f.rows:,} rows</td><td align='right'>{size_text(f.size)}</td></tr>"
            for f in p.files  # type: ignore[attr-defined]
        )
        if p.errors:  # type: ignore[attr-defined]
            verdict = (
                f"<p style='color:#a00'><b>{plural(len(p.errors), 'problem')} must be fixed in CASES21 before this extract "  # type: ignore[attr-defined]
                "can be imported.</b> Nothing has been changed.</p>"
            )
        elif p.already_snapshot is not None:  # type: ignore[attr-defined]
            verdict = "<p><b>These files were already imported.</b> There is nothing new to add.</p>"
        else:
            verdict = (
                f"<p><b>Ready to import.</b> {p.added:,} students will be added, {p.changed:,} changed and "  # type: ignore[attr-defined]
                f"{p.gone:,} marked as no longer in the extract (they are kept).</p>"  # type: ignore[attr-defined]
            )
            if p.notices:  # type: ignore[attr-defined]
                items = "".join(f"<li>{html.escape(n)}</li>" for n in p.notices)  # type: ignore[attr-defined]
                verdict = verdict.replace("<b>Ready to import.</b>", "<b>Ready to import once you confirm.</b>")
                verdict += (
                    "<p style='color:#a00'><b>This refresh looks implausible. Check the extract before importing "
                    f"it:</b></p><ul>{items}</ul>"
                )
        self.confirm.setChecked(False)
        self.confirm.setVisible(bool(p.notices) and not p.errors and p.already_snapshot is None)  # type: ignore[attr-defined]
        self.found.setText(
            f"<p>School <b>{p.school_number}</b> ({school.school_name if school else ''}), extract of "  # type: ignore[attr-defined]
            f"<b>{p.extract_date:%d/%m/%Y}</b>: {p.row_counts['students']:,} students, "  # type: ignore[attr-defined]
            f"{p.row_counts['attendance']:,} days of attendance.</p>"  # type: ignore[attr-defined]
            f"<table cellspacing='0' cellpadding='2'>{files}</table>{verdict}"
        )
        n_err, n_warn = len(p.errors), len(p.warnings)  # type: ignore[attr-defined]
        self.findings_label.setText(
            (f"{plural(n_err, 'problem')} to fix in CASES21, and " if n_err else "")
            + f"{plural(n_warn, 'data-quality warning')} (warnings do not stop the import; they are kept in the report):"
        )
        self.findings.clear()
        for f in list(p.errors) + list(p.warnings):  # type: ignore[attr-defined]
            self.findings.addItem(("Problem: " if f.level == "error" else "Warning: ") + f.message)
        self._show(self.PAGE_CHECK)

    def start_import(self) -> None:
        prepared = self.prepared
        session = self.session
        accept = self.confirm.isChecked()

        def work(progress: worker.Progress) -> object:
            from mapping_tool.services import imports

            return imports.apply_import(session, prepared, accept_warnings=accept, progress=progress)  # type: ignore[arg-type]

        self._show(self.PAGE_RUN)
        self.cancel_button.setEnabled(True)
        self.progress.setValue(0)
        self.job = worker.runner.start(work, self)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._imported)
        self.job.failed.connect(self._import_failed)

    def _progress(self, fraction: float, text: str) -> None:
        self.progress.setValue(int(fraction * 100))
        if not (self.job and self.job.prog.cancelled()):
            self.run_text.setText(text)

    def _imported(self, result: object) -> None:
        self.result = result
        r = result
        self.summary.setText(
            f"<p>The extract of <b>{r.extract_date:%d/%m/%Y}</b> was imported in {r.seconds:.1f} s.</p><ul>"  # type: ignore[attr-defined]
            f"<li>{r.students_in_extract:,} students in the extract</li>"  # type: ignore[attr-defined]
            f"<li>{r.added:,} added, {r.changed:,} changed</li>"  # type: ignore[attr-defined]
            f"<li>{r.gone:,} no longer in the extract (kept, and shown as such)</li>"  # type: ignore[attr-defined]
            f"<li>{len(r.warnings):,} data-quality warnings</li></ul>"  # type: ignore[attr-defined]
        )
        self.report_button.setEnabled(bool(r.warnings))  # type: ignore[attr-defined]
        self._show(self.PAGE_DONE)
        self.imported.emit(result)

    def _import_failed(self, exc: object) -> None:
        self._show(self.PAGE_CHECK)
        if isinstance(exc, KnownError):
            self.found.setText(f"<p><b>{exc.message}</b></p>" + self.found.text())
            self.next_button.setEnabled(not self.prepared.errors if self.prepared else False)  # type: ignore[attr-defined]
        else:
            show_error(self, exc)  # type: ignore[arg-type]

    def _save_report(self) -> None:
        from mapping_tool.services import imports

        if self.result is None:
            return
        from mapping_tool.ui.save_dialog import ask_save_path

        target = ask_save_path(
            self, "Save the data-quality report", "data-quality.xlsx", "Excel (*.xlsx);;CSV (*.csv)", (".xlsx", ".csv")
        )
        if target is None:
            return
        try:
            imports.export_snapshot_report(  # type: ignore[attr-defined]
                self.session, self.result.snapshot_id, target.path, replace=target.replace  # type: ignore[attr-defined]
            )
        except KnownError as exc:
            show_error(self, exc)
