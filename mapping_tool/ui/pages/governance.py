"""Administration tabs for the access policy grid and the audit viewer.

The policy grid shows the privacy assessment's table (the ceiling) for every role and data
item; the custodian can narrow a school role (need to know) by unticking, never widen past the
table. The audit viewer filters by user, student, action and date, checks the chain, and makes
the "who accessed this record" report for one student as a printable page or an Excel file.
"""

from __future__ import annotations

import html
import json
from enum import IntEnum
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QDate, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.policy import ITEMS, TABLE_ROLES
from mapping_tool.security.roles import Role
from mapping_tool.ui.errors import show_error

_Index = QModelIndex | QPersistentModelIndex
SCHOOL_ROLES = (Role.WELFARE, Role.HOME_GROUP_TEACHER, Role.YEAR_LEVEL_COORDINATOR, Role.PRINCIPAL)


class PolicyGrid(QWidget):
    """Rows: data items; columns: the table's roles. School roles' cells are tick boxes the
    custodian may untick (narrow); the ceiling is shown in every cell's text."""

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        intro = QLabel(
            "Who may see what, from the privacy assessment's table “Levels of Access to data”. "
            "Untick a box to narrow a school role to what it needs to know; a role can never be given "
            "more than the table allows. Agency, regional and central office are shown for reference: "
            "they never sign in (agencies receive consent-backed referrals; offices receive de-identified summaries)."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.grid = QGridLayout()
        layout.addLayout(self.grid)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addStretch(1)
        self.boxes: dict[tuple[str, str], QCheckBox] = {}
        self.refresh()

    def refresh(self) -> None:
        from mapping_tool.services import students

        policy = students.effective_policy(self.session)
        while self.grid.count():
            item = self.grid.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        self.boxes.clear()
        for col, role in enumerate(TABLE_ROLES, start=1):
            title = QLabel(f"<b>{policy.role_titles.get(role, role).replace('School ', '')}</b>")
            title.setWordWrap(True)
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.grid.addWidget(title, 0, col)
        editable = self.session.is_custodian
        for row, item in enumerate(ITEMS, start=1):
            self.grid.addWidget(QLabel(policy.titles[item]), row, 0)
            for col, role in enumerate(TABLE_ROLES, start=1):
                ceiling = policy.ceiling(role, item)
                if role in {r.value for r in SCHOOL_ROLES} and ceiling == "Y":
                    box = QCheckBox("Y")
                    box.setChecked(policy.allows_item(role, item))
                    box.setEnabled(editable)
                    box.setAccessibleName(f"{policy.titles[item]} for {role}")
                    box.toggled.connect(lambda on, r=role, i=item: self._toggle(r, i, on))
                    self.boxes[(role, item)] = box
                    self.grid.addWidget(box, row, col, Qt.AlignmentFlag.AlignCenter)
                else:
                    label = QLabel(ceiling or "–")
                    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
                    label.setToolTip("Set by the privacy assessment; cannot be changed here.")
                    self.grid.addWidget(label, row, col)

    def _toggle(self, role: str, item: str, on: bool) -> None:
        from mapping_tool.services import students

        try:
            students.set_narrowing(self.session, Role(role), item, allowed=on)
        except KnownError as exc:
            self.status.setText(exc.message)
            self.refresh()
            return
        self.status.setText("Saved and recorded in the audit log. It applies from each user's next screen.")


class AuditColumn(IntEnum):
    ID = 0
    AT = 1
    USER = 2
    ACTION = 3
    OBJECT = 4
    DETAIL = 5


AUDIT_HEADERS = ("#", "When (UTC)", "User", "Action", "Object", "Detail")


class AuditTableModel(QAbstractTableModel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list = []  # type: ignore[type-arg]

    def set_rows(self, rows: list) -> None:  # type: ignore[type-arg]
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(AuditColumn)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal and 0 <= section < len(AUDIT_HEADERS):
            return AUDIT_HEADERS[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):  # type: ignore[no-untyped-def]
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        r = self._rows[index.row()]
        col = AuditColumn(index.column())
        if col is AuditColumn.ID:
            return str(r.id)
        if col is AuditColumn.AT:
            return r.at[:19].replace("T", " ")
        if col is AuditColumn.USER:
            return r.actor
        if col is AuditColumn.ACTION:
            return r.action
        if col is AuditColumn.OBJECT:
            return f"{r.object_type} {r.object_id}".strip()
        detail = r.detail if r.detail != "{}" else ""
        return detail if role == Qt.ItemDataRole.ToolTipRole else detail[:120]


class AuditViewer(QWidget):
    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.user = QLineEdit()
        self.user.setPlaceholderText("user")
        self.user.setAccessibleName("Filter by user")
        self.student = QLineEdit()
        self.student.setPlaceholderText("student key")
        self.student.setAccessibleName("Filter by student key")
        self.action = QComboBox()
        self.action.setAccessibleName("Filter by action")
        self.action.addItems(["", "sign-in", "student.viewed", "students.listed", "export", "import", "account", "policy", "key", "backup", "note"])
        self.since = QDateEdit(QDate.currentDate().addMonths(-1))
        self.until = QDateEdit(QDate.currentDate())
        for d, name in ((self.since, "From date"), (self.until, "To date")):
            d.setDisplayFormat("dd/MM/yyyy")
            d.setCalendarPopup(True)
            d.setAccessibleName(name)
        for label, w in (("User:", self.user), ("Student:", self.student), ("Action:", self.action), ("From:", self.since), ("To:", self.until)):
            filters.addWidget(QLabel(label))
            filters.addWidget(w)
        self.apply_button = QPushButton("&Show")
        self.apply_button.clicked.connect(self.refresh)
        filters.addWidget(self.apply_button)
        layout.addLayout(filters)
        self.model = AuditTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName("Audit log")
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.verify_button = QPushButton("&Check the log is intact")
        self.report_button = QPushButton("Who accessed this student… (&print)")
        self.excel_button = QPushButton("Save to E&xcel…")
        for b in (self.verify_button, self.report_button, self.excel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.status = QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self.verify_button.clicked.connect(self.verify)
        self.report_button.clicked.connect(self.print_student_report)
        self.excel_button.clicked.connect(self.save_excel)
        self.refresh()

    def _filters(self) -> dict:  # type: ignore[type-arg]
        return {
            "actor": self.user.text().strip() or None,
            "student": self.student.text().strip() or None,
            "action": self.action.currentText() or None,
            "since": self.since.date().toString("yyyy-MM-dd"),
            "until": self.until.date().toString("yyyy-MM-dd"),
        }

    def refresh(self) -> None:
        from mapping_tool.services import audit

        try:
            rows = audit.entries(self.session, limit=2000, **self._filters())
        except KnownError as exc:
            self.status.setText(exc.message)
            return
        self.model.set_rows(rows)
        self.status.setText(f"{len(rows)} entries shown (newest first, at most 2,000).")

    def verify(self) -> None:
        from mapping_tool.services import audit

        result = audit.verify(self.session)
        self.status.setText(
            f"The audit log is intact ({result.entries:,} entries)." if result.intact
            else f"The audit log is NOT intact: {result.problem}. Tell the principal and keep this PC as it is."
        )

    def student_report_html(self, key: str) -> str:
        from mapping_tool.services import audit

        rows = list(reversed(audit.entries(self.session, student=key)))
        body = "".join(
            f"<tr><td>{html.escape(r.at[:19].replace('T', ' '))}</td><td>{html.escape(r.actor)}</td>"
            f"<td>{html.escape(r.action)}</td><td>{html.escape(_detail_summary(r.detail))}</td></tr>"
            for r in rows
        )
        school = self.session.store.school
        return (
            f"<h2>Who accessed student {html.escape(key)}</h2>"
            f"<p>{html.escape(school.school_name if school else '')} – every view, change, export and print of this "
            f"record in the audit log ({len(rows)} entries). Times are UTC.</p>"
            "<table border='1' cellspacing='0' cellpadding='4' style='border-color:#888'>"
            "<thead><tr><th>When</th><th>User</th><th>What</th><th>Detail</th></tr></thead>"
            f"{body}</table>"
        )

    def print_student_report(self) -> None:
        key = self.student.text().strip().upper()
        if not key:
            self.status.setText("Type the student's key in the Student box first.")
            return
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        from mapping_tool.ui.printing import print_html

        document_html = self.student_report_html(key)
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        preview = QPrintPreviewDialog(printer, self)
        preview.paintRequested.connect(lambda p: print_html(document_html, p))
        if preview.exec():
            self._record_print(key)

    def _record_print(self, key: str) -> None:
        with self.session.store.write() as session:
            self.session.store.audit(session, self.session.username, "print.audit-report", object_type="student", object_id=key)

    def save_excel(self) -> None:
        from mapping_tool.services import audit

        key = self.student.text().strip() or None
        path, _ = QFileDialog.getSaveFileName(self, "Save the audit log", f"audit-{key or 'all'}.xlsx", "Excel (*.xlsx);;CSV (*.csv)")
        if not path:
            return
        try:
            count = audit.export_entries(self.session, Path(path), student=key)
        except KnownError as exc:
            show_error(self, exc)
            return
        self.status.setText(f"Saved {count} entries to {path}.")


def _detail_summary(detail: str) -> str:
    try:
        data = json.loads(detail)
    except ValueError:
        return ""
    if isinstance(data, dict):
        parts = []
        for k, v in data.items():
            if k in ("student_keys",):
                v = f"{len(v)} students"
            parts.append(f"{k}: {v}")
        return "; ".join(parts)[:300]
    return ""
