"""Administration > Records: retention classes, legal holds, the disposal review, disposal runs
(prepare, approve by another account with its password, run) and the disposal register.

Everything goes through ``services.records``; this page only shows and asks. Dialogs that ask
for text expose ``ask_*`` class methods that tests replace.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.row_table import RowTableView
from mapping_tool.ui.table_models import RowsTableModel


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


class TupleTableModel(RowsTableModel):
    """Rows as tuples of display values (dates shown dd/mm/yyyy)."""

    def __init__(self, headers: tuple[str, ...], parent: Any = None) -> None:
        super().__init__(parent)
        self.HEADERS = headers

    def cell(self, row: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return _shown(row[column])
        if role == Qt.ItemDataRole.ToolTipRole:
            return _shown(row[column]) or None
        return None


def _table(model: RowsTableModel) -> QTableView:
    view = RowTableView()  # Tab leaves it; reaching it with Tab selects its row
    view.setModel(model)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)  # follows wrapping
    view.setWordWrap(True)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.setAlternatingRowColors(True)
    return view


class HoldDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        from mapping_tool.services.records import HOLD_KINDS

        super().__init__(parent)
        self.setWindowTitle("Place a legal hold")
        form = QFormLayout(self)
        self.student = QLineEdit()
        self.student.setPlaceholderText("student key, or leave empty for every student")
        self.kind = QComboBox()
        self.kind.addItems(HOLD_KINDS)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. subpoena received 12/03/2026; keep until the matter closes")
        form.addRow("Student", self.student)
        form.addRow("Kind", self.kind)
        form.addRow("Reason", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(520, 160)

    @classmethod
    def ask(cls, parent: QWidget) -> tuple[str, str, str] | None:
        dialog = cls(parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.student.text().strip(), dialog.kind.currentText(), dialog.reason.text().strip()


class RecordsPanel(QWidget):
    """The records tab of Administration (data custodian and principal class)."""

    TAB_REVIEW = "Disposal review"
    TAB_RUNS = "Runs and register"
    TAB_CLASSES = "Retention and holds"
    TAB_BREACHES = "Breaches"
    TAB_UNUSUAL = "Unusual access"

    class Review(IntEnum):
        STATUS, KEY, NAME, EXIT, DUE, WHAT, NOTE = range(7)

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        from mapping_tool.services import records

        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        intro = QLabel(
            "The tool's copy of CASES21 data is disposed of a year after a student leaves; welfare records are "
            "first transferred to the student's official file. A legal hold always wins. Nothing is disposed of "
            "until a run is prepared, approved by a second principal-class or custodian account, and run."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        # -- review
        review_tab = QWidget()
        rl = QVBoxLayout(review_tab)
        self.review_summary = QLabel("")
        rl.addWidget(self.review_summary)
        self.review_model = TupleTableModel(records.REVIEW_HEADERS, self)
        self.review_view = _table(self.review_model)
        header = self.review_view.horizontalHeader()
        for column in (self.Review.WHAT, self.Review.NOTE):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        rl.addWidget(self.review_view, 1)
        buttons = QHBoxLayout()
        self.transfer_button = QPushButton("Transfer records awaiting transfer…")
        self.transfer_button.clicked.connect(self.transfer_waiting)
        self.prepare_button = QPushButton("Prepare a disposal run")
        self.prepare_button.clicked.connect(self.prepare)
        buttons.addWidget(self.transfer_button)
        buttons.addWidget(self.prepare_button)
        buttons.addStretch(1)
        rl.addLayout(buttons)
        self.tabs.addTab(review_tab, self.TAB_REVIEW)

        # -- runs and register
        runs_tab = QWidget()
        ul = QVBoxLayout(runs_tab)
        ul.addWidget(QLabel("<b>Disposal runs</b>"))
        self.runs_model = TupleTableModel(
            ("Run", "Status", "Students", "Prepared by", "Prepared on", "Approved by", "Approved on", "Run by", "Run on"), self)
        self.runs_view = _table(self.runs_model)
        ul.addWidget(self.runs_view, 1)
        rb = QHBoxLayout()
        self.approve_button = QPushButton("Approve the selected run…")
        self.approve_button.clicked.connect(self.approve)
        self.run_button = QPushButton("Run the selected run…")
        self.run_button.clicked.connect(self.run_selected)
        rb.addWidget(self.approve_button)
        rb.addWidget(self.run_button)
        rb.addStretch(1)
        ul.addLayout(rb)
        ul.addWidget(QLabel("<b>Disposal register</b> (what was destroyed and when; no student data)"))
        self.register_model = TupleTableModel(records.REGISTER_HEADERS, self)
        self.register_view = _table(self.register_model)
        ul.addWidget(self.register_view, 1)
        self.tabs.addTab(runs_tab, self.TAB_RUNS)

        # -- classes and holds
        classes_tab = QWidget()
        cl = QVBoxLayout(classes_tab)
        cl.addWidget(QLabel("<b>Retention classes</b>"))
        self.classes_model = TupleTableModel(("Class", "Kept", "Authority", "Changed", "Command-line name"), self)
        self.classes_view = _table(self.classes_model)
        for column in (0, 1, 2):
            self.classes_view.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.classes_view.horizontalHeader().setStretchLastSection(False)
        cl.addWidget(self.classes_view, 1)
        cb = QHBoxLayout()
        self.change_button = QPushButton("Change the selected class…")
        self.change_button.clicked.connect(self.change_class)
        self.change_button.setEnabled(session.role is Role.CUSTODIAN)
        cb.addWidget(self.change_button)
        self.policy_button = QPushButton("The school's privacy policy text…")
        self.policy_button.setToolTip("Shown under the privacy statement that every user acknowledges")
        self.policy_button.clicked.connect(self.edit_policy)
        self.policy_button.setEnabled(session.role is Role.CUSTODIAN)
        cb.addWidget(self.policy_button)
        cb.addStretch(1)
        cl.addLayout(cb)
        cl.addWidget(QLabel("<b>Legal holds</b>"))
        self.holds_model = TupleTableModel(("Hold", "Student", "Kind", "Reason", "Placed by", "Placed", "State"), self)
        self.holds_view = _table(self.holds_model)
        for column in (3, 6):
            self.holds_view.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        cl.addWidget(self.holds_view, 1)
        hb = QHBoxLayout()
        self.add_hold_button = QPushButton("Place a hold…")
        self.add_hold_button.clicked.connect(self.add_hold)
        self.release_button = QPushButton("Release the selected hold…")
        self.release_button.clicked.connect(self.release_hold)
        hb.addWidget(self.add_hold_button)
        hb.addWidget(self.release_button)
        hb.addStretch(1)
        cl.addLayout(hb)
        self.tabs.addTab(classes_tab, self.TAB_CLASSES)

        # -- the breach register (principal class and the custodian) and unusual access (the
        # custodian), as services.records_privacy allows; each loads when its tab is shown
        from mapping_tool.ui.pages.breaches import BreachesPanel, UnusualAccessPanel

        self.breaches_panel: BreachesPanel | None = None
        self.unusual_panel: UnusualAccessPanel | None = None
        if session.role in (Role.CUSTODIAN, Role.PRINCIPAL):
            self.breaches_panel = BreachesPanel(session)
            self.tabs.addTab(self.breaches_panel, self.TAB_BREACHES)
        if session.role is Role.CUSTODIAN:
            self.unusual_panel = UnusualAccessPanel(session)
            self.tabs.addTab(self.unusual_panel, self.TAB_UNUSUAL)
            self.breaches_panel.changed.connect(self.unusual_panel.refresh)  # type: ignore[union-attr]
        self.refresh()

    # -- dialogs tests replace -------------------------------------------------------------
    @classmethod
    def ask_password(cls, parent: QWidget, run_id: int) -> str | None:
        text, ok = QInputDialog.getText(parent, "Approve disposal", f"Your password, to approve disposal run {run_id}:",
                                        QLineEdit.EchoMode.Password)
        return text if ok else None

    @classmethod
    def ask_text(cls, parent: QWidget, title: str, label: str, value: str = "") -> str | None:
        text, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal, value)
        return text if ok else None

    @classmethod
    def confirm(cls, parent: QWidget, title: str, text: str) -> bool:
        return QMessageBox.question(parent, title, text) == QMessageBox.StandardButton.Yes

    @classmethod
    def ask_folder(cls, parent: QWidget, title: str = "Folder for the records (then file them on the student's official file)") -> str | None:
        from PySide6.QtWidgets import QFileDialog

        return QFileDialog.getExistingDirectory(parent, title) or None

    @classmethod
    def ask_long_text(cls, parent: QWidget, title: str, label: str, value: str) -> str | None:
        text, ok = QInputDialog.getMultiLineText(parent, title, label, value)
        return text if ok else None

    def edit_policy(self) -> None:
        from mapping_tool.services import records_privacy

        current = records_privacy.policy_text(self.session)
        text = self.ask_long_text(self, "The school's privacy policy",
                                  "The school's Information Privacy Policy, shown under the privacy statement. "
                                  "Everyone acknowledges the changed statement at their next sign-in.", current)
        if text is None:
            return
        self._do(lambda: records_privacy.set_policy_text(self.session, text),
                 "Policy text saved; each user acknowledges the changed statement at their next sign-in.")

    # -- data --------------------------------------------------------------------------------
    def refresh(self) -> None:
        from mapping_tool.services import records

        try:
            review = records.disposal_review(self.session)
            runs = records.list_runs(self.session)
            reg = records.register(self.session)
            classes = records.retention(self.session)
            holds = records.list_holds(self.session)
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        self.review_model.set_rows(records.review_rows(review))
        due, waiting, held = (len(review.of(s)) for s in (records.DUE, records.AWAITING, records.HELD))
        self.review_summary.setText(
            f"On {review.as_of:%d/%m/%Y}: <b>{due}</b> due for disposal, <b>{waiting}</b> awaiting transfer to the "
            f"official file, <b>{held}</b> held." if review.items else
            f"On {review.as_of:%d/%m/%Y} no student's records are due for disposal.")
        if review.audit_entries_due:
            self.review_summary.setText(self.review_summary.text() +
                                        f" <b>{review.audit_entries_due}</b> audit log entries are past their period.")
        self.prepare_button.setEnabled(due > 0 or review.audit_entries_due > 0)
        self.transfer_button.setEnabled(waiting > 0)
        self.runs_model.set_rows([
            (r.id, {"prepared": "awaiting approval", "approved": "approved, not yet run", "done": "done"}.get(r.status, r.status),
             r.students, r.prepared_by, r.prepared_at, r.approved_by, r.approved_at, r.run_by, r.run_at) for r in runs])
        self._runs = runs
        self.register_model.set_rows(reg)
        self._classes = classes
        self.classes_model.set_rows([
            (c.title, c.shown, c.authority,
             f"{c.changed_by}, {c.changed_at:%d/%m/%Y}" if c.changed_at else "default", c.code) for c in classes])
        self._holds = holds
        self.holds_model.set_rows([
            (h.id, h.who, h.kind, h.reason, h.placed_by, h.placed_at,
             "active" if h.active else f"released {_shown(h.released_at)} by {h.released_by}: {h.release_reason}")
            for h in holds])

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet("color: #a00000;" if error else "")
        self.status.setText(text)

    def _do(self, fn: Any, done: str) -> bool:
        try:
            fn()
        except KnownError as exc:
            self._say(exc.message, error=True)
            return False
        except Exception as exc:  # noqa: BLE001 - a bug: the crash dialog with the log path
            show_error(self, exc)
            return False
        self._say(done)
        self.refresh()
        return True

    def _selected(self, view: QTableView, rows: list[Any]) -> Any:
        index = view.currentIndex()
        if not index.isValid() or index.row() >= len(rows):
            self._say("Select a row first.", error=True)
            return None
        return rows[index.row()]

    # -- actions -----------------------------------------------------------------------------
    def prepare(self) -> None:
        from mapping_tool.services import records

        def go() -> None:
            run = records.prepare_run(self.session)
            self._prepared = run

        if self._do(go, "Disposal run prepared. Another principal-class or custodian account approves it on Runs and register."):
            self.tabs.setCurrentIndex(1)

    def approve(self) -> None:
        from mapping_tool.services import records

        run = self._selected(self.runs_view, self._runs)
        if run is None:
            return
        password = self.ask_password(self, run.id)
        if password is None:
            return
        self._do(lambda: records.approve_run(self.session, run.id, password), f"Disposal run {run.id} approved.")

    def run_selected(self) -> None:
        from mapping_tool.services import records

        run = self._selected(self.runs_view, self._runs)
        if run is None:
            return
        if not self.confirm(self, "Run disposal",
                            f"Dispose of the {run.students} students in run {run.id}? Holds are checked again. "
                            "This cannot be undone."):
            return
        self._do(lambda: records.execute_run(self.session, run.id), f"Disposal run {run.id} done; see the register.")

    def transfer_waiting(self) -> None:
        from pathlib import Path

        from mapping_tool.services import records
        from mapping_tool.ui.records_pdf import render_pdf

        folder = self.ask_folder(self)
        if not folder:
            return
        self._do(lambda: records.transfer_all_due(self.session, Path(folder), render_pdf),
                 f"The records were written to {folder} (PDF and Excel each) and the transfers recorded.")

    def change_class(self) -> None:
        from mapping_tool.services import records

        index = self.classes_view.currentIndex()
        if not index.isValid():
            self._say("Select a class first.", error=True)
            return
        cls = self._classes[index.row()]
        if cls.code == "backup-folder":
            value = self.ask_folder(self, "Folder for automatic backups (another drive if you can)")
        else:
            value = self.ask_text(self, "Change a retention class", f"{cls.title}\n\nNew value ({cls.unit}):", str(cls.value))
        if value is None:
            return
        self._do(lambda: records.set_retention(self.session, cls.code, value), f"{cls.title}: now {value}.")

    def add_hold(self) -> None:
        from mapping_tool.services import records

        answer = HoldDialog.ask(self)
        if answer is None:
            return
        student, kind, reason = answer
        self._do(lambda: records.add_hold(self.session, student or None, reason, kind), "Hold placed.")

    def release_hold(self) -> None:
        from mapping_tool.services import records

        hold = self._selected(self.holds_view, self._holds)
        if hold is None:
            return
        reason = self.ask_text(self, "Release a hold", f"Why is hold {hold.id} on {hold.who} released?")
        if reason is None:
            return
        self._do(lambda: records.release_hold(self.session, hold.id, reason), f"Hold {hold.id} released.")
