"""The Referrals page: referrals with their status, the agencies register, consent records and the
file notes of disclosures; the referral wizard (also opened from the student panel).

Everything goes through ``mapping_tool.services.referrals`` (policy + audit). Saving the PDF or
Word file, or printing, is the disclosure: the service writes the file note in the same
transaction. Before a referral is sent, Preview shows today's form marked as a preview; once it
was sent, View sent form shows a copy of the form as it was sent (the agency's details and the
values its file note recorded), marked with the day it was sent. Neither writes a file note.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from enum import IntEnum
from html import escape
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.row_table import RowTableView
from mapping_tool.ui.save_dialog import SaveTarget, ask_save_path
from mapping_tool.ui.table_models import RowsTableModel
from referral_forms.categories import CATEGORIES, ON_REQUEST, TITLES
from referral_forms.rules import EXCEPTIONS, ISE_CHOICES
from referral_forms.status import STATUSES
from referral_forms.status import TITLES as STATUS_TITLES

logger = logging.getLogger(__name__)

BASIS_TITLES = {"consent": "Consent", **{k: v for k, v in EXCEPTIONS.items()}}
SHORT_BASIS = {"consent": "Consent", "serious-threat": "Serious threat", "required-by-law": "Required by law",
               "law-enforcement": "Law enforcement", "ciss": "CISS", "fviss": "FVISS"}
# The one button reads the form: a preview before the referral is sent, a copy of the form as sent after.
PREVIEW_TEXT, VIEW_SENT_TEXT = "Pre&view", "&View sent form"


def _local(when: datetime | None) -> str:
    if when is None:
        return ""
    return when.replace(tzinfo=UTC).astimezone().strftime("%d/%m/%Y %H:%M")


def _day(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _cats(categories: Any) -> str:
    return ", ".join(TITLES.get(c, c) for c in categories)


def _table(model: RowsTableModel) -> QTableView:
    view = RowTableView()  # Tab leaves it; reaching it with Tab selects its row
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.setWordWrap(False)
    return view


def _sent_a_form(note: Any) -> bool:
    """A file note that records a form sent (a correction, or a note of no referral, has none)."""
    return note is not None and note.referral_id is not None and note.corrects is None


def _selected(view: QTableView) -> Any:
    rows = view.selectionModel().selectedRows() if view.selectionModel() else []
    if not rows:
        return None
    return view.model().row_at(rows[0].row())  # type: ignore[attr-defined]


# -- table models --------------------------------------------------------------------------------------


class ReferralColumn(IntEnum):
    # Status beside the agency: where a referral stands is what staff look for, and it stays in
    # view at 1024x768 (the wide list of information comes after it)
    NUMBER, STUDENT, YEAR, AGENCY, STATUS, INFORMATION, BASIS, REQUESTED_BY, AUTHORISED_BY, UPDATED = range(10)


class ReferralTableModel(RowsTableModel):
    HEADERS = ("No.", "Student", "Year", "Agency", "Status", "Information", "Basis", "Requested by", "Authorised by", "Updated")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._shown: dict[int, tuple[str, ...]] = {}  # each row's text, made once (the view asks often)

    def set_rows(self, rows: Any) -> None:
        self._shown = {}
        super().set_rows(rows)

    def _texts(self, row: Any) -> tuple[str, ...]:
        texts = self._shown.get(row.id)
        if texts is None:
            if row.restricted:
                texts = ("", f"{row.student_name} ({row.student_key})", row.year_level, "", "Active referral", "", "", "", "", "")
            else:
                texts = (
                    str(row.id), f"{row.student_name} ({row.student_key})", row.year_level, row.agency,
                    row.status_title + (" · sensitive" if row.sensitive else ""), _cats(row.categories),
                    SHORT_BASIS.get(row.basis, row.basis), row.requested_by, row.authorised_by, _local(row.status_at),
                )
            self._shown[row.id] = texts
        return texts

    def cell(self, row: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == ReferralColumn.INFORMATION:
            return _cats(row.categories)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return self._texts(row)[column]


class AgencyTableModel(RowsTableModel):
    HEADERS = ("Agency", "Email", "Phone", "Postcode", "Information sharing entity", "Agreement", "Agreement covers")

    def cell(self, row: Any, column: int, role: int) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        agreement = f"{row.agreement_ref} ({row.agreement_state()})" if row.agreement_ref else "none recorded"
        return (row.name, row.email, row.phone, row.postcode, row.ise, agreement, _cats(row.agreement_categories))[column]


class ConsentTableModel(RowsTableModel):
    HEADERS = ("No.", "Student", "Agency", "Information", "Given by", "Given", "Expires", "Evidence", "State")

    def cell(self, row: Any, column: int, role: int) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        state = row.state.capitalize() + (f" {_day(row.withdrawn_on)}" if row.withdrawn_on else "")
        return (str(row.id), row.student_key, row.agency, _cats(row.categories), f"{row.given_by}: {row.giver_name}",
                _day(row.date_given), _day(row.expires), row.evidence, state)[column]


class FileNoteTableModel(RowsTableModel):
    HEADERS = ("No.", "When", "Student", "Agency", "Disclosed by", "Authorised by", "Basis", "Information disclosed", "Document")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        #: student key -> name, from the referrals this user may see (the referrals service gave them)
        self.names: dict[str, str] = {}

    def cell(self, row: Any, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.ToolTipRole and column == 7:
            return row.values_text() if not row.corrects else row.text
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        student = self.names.get(row.student_key)
        student = f"{student} ({row.student_key})" if student else row.student_key
        if row.corrects:
            return (str(row.id), _local(row.created_at), student, row.agency, row.disclosed_by_shown, "", "",
                    f"Correction of note {row.corrects}: {row.text}", "")[column]
        return (str(row.id), _local(row.created_at), student, row.agency, row.disclosed_by_shown, row.authorised_by_shown,
                SHORT_BASIS.get(row.basis, row.basis), row.values_text(),
                f"{row.document_kind.upper()} {row.document_sha256[:12]}…")[column]


# Typical characters per column (the header is the minimum), for each table.
COLUMN_CHARS: dict[type, tuple[int, ...]] = {
    ReferralTableModel: (4, 24, 4, 22, 24, 30, 10, 11, 11, 15),
    AgencyTableModel: (24, 26, 14, 8, 10, 28, 40),
    ConsentTableModel: (4, 10, 22, 34, 22, 10, 10, 26, 12),
    FileNoteTableModel: (4, 18, 24, 20, 26, 26, 12, 48, 20),
}


def _set_widths(view: QTableView, chars: tuple[int, ...]) -> None:
    metrics = view.fontMetrics()
    unit = metrics.horizontalAdvance("abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLM") / 40  # an average character
    header = view.model()
    for col, n in enumerate(chars):
        title = str(header.headerData(col, Qt.Orientation.Horizontal))
        view.setColumnWidth(col, max(unit * n, metrics.horizontalAdvance(title) + unit * 3))


# -- dialogs ---------------------------------------------------------------------------------------------


def _categories_grid(chosen: set[str] | None = None, *, include_other: bool = True) -> tuple[QGridLayout, dict[str, QCheckBox]]:
    grid = QGridLayout()
    boxes = {}
    cats = [c for c in CATEGORIES if include_other or c != "other"]
    for i, cat in enumerate(cats):
        box = QCheckBox(TITLES[cat])
        box.setChecked(bool(chosen and cat in chosen))
        boxes[cat] = box
        grid.addWidget(box, i // 3, i % 3)
    return grid, boxes


def _checked(boxes: dict[str, QCheckBox]) -> list[str]:
    return [c for c, b in boxes.items() if b.isChecked()]


class AgencyDialog(QDialog):
    """Add an agency to the register (data custodian): the template's fields and the agreement."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add an agency")
        self.setMinimumWidth(560)
        form = self._form = QFormLayout(self)
        self.name, self.email, self.phone, self.fax = QLineEdit(), QLineEdit(), QLineEdit(), QLineEdit()
        self.address, self.postcode, self.contact = QLineEdit(), QLineEdit(), QLineEdit()
        self.postcode.setMaxLength(4)
        self.ise = QComboBox()
        for value, text in ISE_CHOICES.items():
            self.ise.addItem(text, value)
        self.agreement_ref = QLineEdit()
        self.agreement_ref.setPlaceholderText("e.g. MoU 2026-03 (leave empty if none)")
        self.agreement_until = QDateEdit(QDate.currentDate().addYears(1))
        self.agreement_until.setDisplayFormat("dd/MM/yyyy")
        self.agreement_until.setCalendarPopup(True)
        for label, widget in (("Agency &name:", self.name), ("&Email:", self.email), ("&Phone:", self.phone), ("&Fax:", self.fax),
                              ("&Address:", self.address), ("Post&code:", self.postcode), ("C&ontact person:", self.contact),
                              ("Information &sharing entity:", self.ise), ("&Data sharing agreement:", self.agreement_ref),
                              ("Agreement &until:", self.agreement_until)):
            widget.setAccessibleName(label.replace("&", "").rstrip(":"))
            form.addRow(label, widget)
        grid, self.categories = _categories_grid()
        holder = QWidget()
        holder.setLayout(grid)
        form.addRow("The agreement covers:", holder)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add agency")
        self._buttons = buttons
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, Any]:
        has_agreement = bool(self.agreement_ref.text().strip())
        return dict(
            name=self.name.text(), email=self.email.text(), phone=self.phone.text(), fax=self.fax.text(),
            address=self.address.text(), postcode=self.postcode.text(), contact_person=self.contact.text(),
            ise=self.ise.currentData(), agreement_ref=self.agreement_ref.text(),
            agreement_until=self.agreement_until.date().toPython() if has_agreement else None,
            agreement_categories=_checked(self.categories) if has_agreement else None,
        )

    @classmethod
    def ask(cls, parent: QWidget | None) -> dict[str, Any] | None:
        dialog = cls(parent)
        return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None


NO_START = QDate(2000, 1, 1)  # the agreement start date edit's "not recorded"


class AgencyEditDialog(AgencyDialog):
    """Change an agency's details (data custodian): the add dialog, filled with what the register
    holds, with the reason for the change. ``save`` gets the changed fields and the reason; a
    refusal is shown in the dialog, which stays open with what was typed."""

    def __init__(self, agency: Any, parent: QWidget | None = None,
                 save: Callable[[dict[str, Any]], Any] | None = None) -> None:
        super().__init__(parent)
        self.agency, self._save = agency, save
        self.setWindowTitle("Change an agency's details")
        self.name.setText(agency.name)
        self.name.setToolTip("A new name: referrals and consents follow it; file notes keep the name they were sent under.")
        for widget, value in ((self.email, agency.email), (self.phone, agency.phone), (self.fax, agency.fax),
                              (self.address, agency.address), (self.postcode, agency.postcode),
                              (self.contact, agency.contact_person), (self.agreement_ref, agency.agreement_ref)):
            widget.setText(value)
        self.ise.setCurrentIndex(max(0, self.ise.findData(agency.ise)))
        if agency.agreement_end:
            self.agreement_until.setDate(QDate(agency.agreement_end))
        for category, box in self.categories.items():
            box.setChecked(category in agency.agreement_categories)
        self.agreement_start = QDateEdit()
        self.agreement_start.setDisplayFormat("dd/MM/yyyy")
        self.agreement_start.setCalendarPopup(True)
        self.agreement_start.setMinimumDate(NO_START)
        self.agreement_start.setSpecialValueText("Not recorded")
        self.agreement_start.setDate(QDate(agency.agreement_start) if agency.agreement_start else NO_START)
        self.agreement_start.setAccessibleName("Agreement start")
        row, _ = self._form.getWidgetPosition(self.agreement_until)
        self._form.insertRow(row, "Agreement s&tart:", self.agreement_start)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("e.g. Agreement renewed for 2027; new intake phone number")
        self.reason.setAccessibleName("Reason for the change")
        row, _ = self._form.getWidgetPosition(self.error)
        self._form.insertRow(row, "&Reason for the change:", self.reason)
        self._form.insertRow(row + 1, QLabel("The earlier details are kept: see Earlier details… on the Agencies tab."))
        self._buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Save changes")
        for edit in (self.name, self.email, self.phone, self.fax, self.address, self.postcode, self.contact,
                     self.agreement_ref, self.reason):
            edit.textEdited.connect(self.error.clear)  # a refusal's sentence goes once the input changes
        self.reason.setFocus()

    def changes(self) -> dict[str, Any]:
        """Only what differs from the register, with the reason (the service keeps the rest as it is)."""
        a, v = self.agency, self.values()
        out: dict[str, Any] = {"reason": self.reason.text()}
        if v["name"].strip() != a.name:
            out["new_name"] = v["name"]
        for key, old in (("email", a.email), ("phone", a.phone), ("fax", a.fax), ("address", a.address),
                         ("postcode", a.postcode), ("contact_person", a.contact_person), ("ise", a.ise),
                         ("agreement_ref", a.agreement_ref)):
            if str(v[key]).strip() != old:
                out[key] = v[key]
        start = self.agreement_start.date()
        if start != NO_START and start.toPython() != a.agreement_start:
            out["agreement_start"] = start.toPython()
        if v["agreement_until"] is not None and v["agreement_until"] != a.agreement_end:
            out["agreement_until"] = v["agreement_until"]
        if v["agreement_categories"] is not None and tuple(v["agreement_categories"]) != tuple(a.agreement_categories):
            out["agreement_categories"] = v["agreement_categories"]
        return out

    def accept(self) -> None:
        if not self.reason.text().strip():
            self.error.setText("Say why the details change: a reason is required.")
            self.reason.setFocus()
            return
        if self._save is not None:
            try:
                self._save(self.changes())
            except KnownError as exc:
                self.error.setText(exc.message)
                return
        super().accept()

    @classmethod
    def ask(cls, parent: QWidget | None, agency: Any, save: Callable[[dict[str, Any]], Any]) -> bool:
        """True when the change was saved."""
        return cls(agency, parent, save).exec() == QDialog.DialogCode.Accepted


class AgencyHistoryDialog(QDialog):
    """The earlier details of an agency: each change with when, who, from what to what, and why."""

    HEADERS = ("Date", "Changed by", "What changed", "From", "To", "Why")

    def __init__(self, name: str, changes: list[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Earlier details of an agency")
        self.resize(900, 420)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{escape(name)}</b>: every change to its details, oldest first. "
                         "Referrals already sent and their file notes keep what they recorded.")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.table = QTableWidget(len(changes), len(self.HEADERS))
        self.table.setAccessibleName("Changes to the agency's details")
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setHorizontalHeaderLabels(self.HEADERS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(True)
        for r, c in enumerate(changes):
            texts = (f"{c.changed_at:%d/%m/%Y}", c.changed_by, c.field[:1].upper() + c.field[1:],
                     c.old_value or "(none)", c.new_value or "(none)", c.reason)
            for col, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(r, col, item)
        header = self.table.horizontalHeader()
        for col, width in enumerate((90, 100, 170, 150, 150)):
            self.table.setColumnWidth(col, width)
        header.setStretchLastSection(True)
        self.table.resizeRowsToContents()
        layout.addWidget(self.table, 1)
        if not changes:
            layout.addWidget(QLabel("No changes since the agency was added."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    @classmethod
    def show_for(cls, parent: QWidget | None, name: str, changes: list[Any]) -> None:
        cls(name, changes, parent).exec()


class ConsentDialog(QDialog):
    """Record a consent: one student, one agency, one purpose, specific categories, an expiry."""

    def __init__(self, agencies: list[str], student_key: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record a consent")
        self.setMinimumWidth(580)
        form = QFormLayout(self)
        intro = QLabel("Consent must be informed, specific, freely given and current. Tick only what the student or "
                       "family agreed to share with this agency.")
        intro.setWordWrap(True)
        form.addRow(intro)
        self.student = QLineEdit(student_key)
        self.agency = QComboBox()
        self.agency.addItems(agencies)
        self.purpose = QLineEdit()
        self.given_by = QComboBox()
        for value, text in (("parent", "A parent"), ("guardian", "A guardian"), ("student", "The student (a mature minor)")):
            self.given_by.addItem(text, value)
        self.giver_name = QLineEdit()
        self.relationship = QLineEdit()
        self.capacity = QCheckBox("I judge the student has the capacity to consent to this")
        self.method = QComboBox()
        self.method.addItem("Written (a signed form)", "written")
        self.method.addItem("Verbal, with a witness", "verbal")
        self.witness = QLineEdit()
        self.date_given = QDateEdit(QDate.currentDate())
        self.date_given.setDisplayFormat("dd/MM/yyyy")
        self.date_given.setCalendarPopup(True)
        self.evidence = QLineEdit()
        self.evidence.setPlaceholderText("the scanned signed form (kept encrypted in the store)")
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._browse)
        evidence_row = QHBoxLayout()
        evidence_row.addWidget(self.evidence, 1)
        evidence_row.addWidget(browse)
        self.informed = QCheckBox("They were told what will be shared, with whom and why, and gave it freely")
        for label, widget in (("&Student key:", self.student), ("&Agency:", self.agency), ("&Purpose:", self.purpose),
                              ("Given &by:", self.given_by), ("&Name of the person:", self.giver_name),
                              ("&Relationship:", self.relationship), ("", self.capacity), ("&How:", self.method),
                              ("&Witness:", self.witness), ("&Date given:", self.date_given)):
            if label:
                widget.setAccessibleName(label.replace("&", "").rstrip(":"))
            form.addRow(label, widget)
        form.addRow("&Evidence:", evidence_row)
        grid, self.categories = _categories_grid()
        holder = QWidget()
        holder.setLayout(grid)
        form.addRow("Information:", holder)
        form.addRow("", self.informed)
        self.form_button = QPushButton("Save a pre-filled consent form to sign…")
        self.form_button.setToolTip("The consent form and privacy notice for the student or family, as a PDF")
        self.form_button.clicked.connect(self.save_form)
        self.session: Any = None
        form.addRow("", self.form_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Record consent")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.given_by.currentIndexChanged.connect(self._giver_changed)
        self._giver_changed()

    def _giver_changed(self) -> None:
        self.capacity.setEnabled(self.given_by.currentData() == "student")

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The scanned consent form", "", "Scans (*.pdf *.png *.jpg *.jpeg *.tif *.tiff)")
        if path:
            self.evidence.setText(path)

    def save_form(self) -> None:
        """The pre-filled consent form and privacy notice (Attachment 1, Collection), to sign."""
        if self.session is None:
            return
        save_consent_form(self, self.session, self.values())

    def values(self) -> dict[str, Any]:
        student = self.given_by.currentData() == "student"
        return dict(
            student_key=self.student.text(), agency=self.agency.currentText(), purpose=self.purpose.text(),
            categories=_checked(self.categories), given_by=self.given_by.currentData(), giver_name=self.giver_name.text(),
            relationship=self.relationship.text(), capacity=self.capacity.isChecked() if student else None,
            method=self.method.currentData(), witness=self.witness.text(), date_given=self.date_given.date().toPython(),
            evidence=Path(self.evidence.text()) if self.evidence.text().strip() else None,
            informed=self.informed.isChecked(), freely_given=self.informed.isChecked(),
        )

    @classmethod
    def ask(cls, parent: QWidget | None, agencies: list[str], student_key: str = "", session: Any = None) -> dict[str, Any] | None:
        dialog = cls(agencies, student_key, parent)
        dialog.session = session
        return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None


class DesignationDialog(QDialog):
    """The data custodian records which staff the principal designated to share under CISS and
    FVISS (only they may choose those bases)."""

    def __init__(self, staff: list[tuple[str, str]], designated: set[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Staff designated for CISS and FVISS")
        layout = QVBoxLayout(self)
        intro = QLabel("Tick the staff the principal has designated to share information under the Child Information "
                       "Sharing Scheme and the Family Violence Information Sharing Scheme.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.boxes = {}
        for username, label in staff:
            box = QCheckBox(label)
            box.setChecked(username in designated)
            self.boxes[username] = box
            layout.addWidget(box)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> set[str]:
        return {u for u, b in self.boxes.items() if b.isChecked()}

    @classmethod
    def ask(cls, parent: QWidget | None, staff: list[tuple[str, str]], designated: set[str]) -> set[str] | None:
        dialog = cls(staff, designated, parent)
        return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None


class ReferralSettingsDialog(QDialog):
    """The data custodian's referral settings: how old an extract may be, how long a consent lasts."""

    def __init__(self, stale_days: int, consent_months: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtWidgets import QSpinBox

        self.setWindowTitle("Referral settings")
        form = QFormLayout(self)
        self.stale_days = QSpinBox()
        self.stale_days.setRange(1, 365)
        self.stale_days.setValue(stale_days)
        self.stale_days.setSuffix(" days")
        self.stale_days.setAccessibleName("Oldest extract for a referral")
        self.consent_months = QSpinBox()
        self.consent_months.setRange(1, 36)
        self.consent_months.setValue(consent_months)
        self.consent_months.setSuffix(" months")
        self.consent_months.setAccessibleName("How long a consent lasts")
        form.addRow("A referral needs an extract no older than:", self.stale_days)
        form.addRow("A consent lasts, unless it says otherwise:", self.consent_months)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    @classmethod
    def ask(cls, parent: QWidget | None, stale_days: int, consent_months: int) -> tuple[int, int] | None:
        dialog = cls(stale_days, consent_months, parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.stale_days.value(), dialog.consent_months.value()


class PasswordDialog:
    """The authoriser confirms with their own password."""

    @classmethod
    def ask(cls, parent: QWidget | None, referral_id: int) -> str | None:
        text, ok = QInputDialog.getText(
            parent, "Authorise a referral",
            f"You are authorising referral {referral_id} as the school-based data custodian.\n"
            "Confirm with your own password:", QLineEdit.EchoMode.Password,
        )
        return text if ok else None


class CorrectionDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, note_id: int) -> str | None:
        text, ok = QInputDialog.getMultiLineText(
            parent, "Correct a file note",
            f"File notes are never edited. Your correction becomes a new note pointing at file note {note_id}:")
        return text if ok else None


class StatusDialog:
    @classmethod
    def ask(cls, parent: QWidget | None, current: str, row: Any = None) -> tuple[str, str] | None:
        """``row``: the referral, named inside the dialog (its title carries the number only)."""
        choices = [STATUS_TITLES[s] for s in STATUSES if s not in ("authorised", "sent", current)]
        title = f"Status of referral {row.id}" if row is not None else "Referral status"
        which = (f"Referral {row.id} · {row.student_name or row.student_key} to {row.agency} is now "
                 f"{STATUS_TITLES.get(current, current).lower()}.\n") if row is not None else ""
        status, ok = QInputDialog.getItem(parent, title, f"{which}New status:", choices, 0, False)
        if not ok:
            return None
        note, ok = QInputDialog.getText(parent, title, "Note (the reason if declined, the outcome if closed):")
        if not ok:
            return None
        key = next(s for s, t in STATUS_TITLES.items() if t == status)
        return key, note


def save_consent_form(parent: QWidget | None, session: Any, values: dict[str, Any]) -> Path | None:
    from mapping_tool.services import referrals
    from mapping_tool.services.outputs import atomic_output
    from mapping_tool.ui.forms import html_to_pdf

    key = values["student_key"].strip().upper()
    target = choose_save_path(parent, "Save the consent form to sign", f"consent-form-{key}.pdf", "PDF (*.pdf)")
    if target is None:
        return None
    path = target.path
    try:
        html = referrals.consent_form(session, key, agency=values["agency"], purpose=values["purpose"],
                                      categories=values["categories"], giver_name=values["giver_name"],
                                      relationship=values["relationship"])
        with atomic_output(path, store_folder=session.store.files.folder, replace=target.replace) as tmp:
            html_to_pdf(html, tmp)
    except KnownError as exc:
        show_error(parent, exc)
        return None
    return path


def choose_save_path(parent: QWidget | None, title: str, name: str, filters: str) -> SaveTarget | None:
    """Where to save (starting in Documents), and whether the user agreed to replace the file
    there; None when they cancelled or would not replace it. Replaceable in tests."""
    suffixes = tuple(f".{ext}" for ext in re.findall(r"\*\.(\w+)", filters))
    return ask_save_path(parent, title, name, filters, suffixes)  # type: ignore[arg-type]


# -- the wizard ------------------------------------------------------------------------------------------


class ReferralWizard(QWizard):
    """Three steps: the student, agency and purpose; the basis (a consent on record or an
    exception with its grounds); the information to disclose. Each step is checked by the service
    only at the end, so a refusal names exactly what is wrong."""

    created = Signal(int)

    def __init__(self, session: Any, student_key: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from mapping_tool.services import referrals

        self.session = session
        self.setWindowTitle("Refer a student to an agency")
        self.setMinimumSize(720, 520)
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.agencies = referrals.list_agencies(session)
        self.referral_id: int | None = None

        first = QWizardPage()
        first.setTitle("Student, agency and purpose")
        first.setSubTitle("Referring a student discloses their information outside the school. Only the information "
                          "needed for the referral is sent, and a file note records exactly what.")
        form = QFormLayout(first)
        self.student = QLineEdit(student_key)
        self.student.setAccessibleName("Student key")
        self.agency = QComboBox()
        self.agency.setAccessibleName("Agency")
        for a in self.agencies:
            self.agency.addItem(f"{a.name} (agreement: {a.agreement_state()})", a.name)
        self.purpose = QLineEdit()
        self.purpose.setAccessibleName("Purpose")
        self.purpose.setPlaceholderText("e.g. mentoring and careers support")
        self.sensitive = QCheckBox("Sensitive: only welfare, principal class and the data custodian see the purpose")
        form.addRow("&Student key:", self.student)
        form.addRow("&Agency:", self.agency)
        form.addRow("&Purpose:", self.purpose)
        form.addRow("", self.sensitive)
        if not self.agencies:
            form.addRow(QLabel("There are no agencies in the register yet: the data custodian adds them on the Agencies tab."))
        self.addPage(first)

        second = QWizardPage()
        second.setTitle("On what basis")
        second.setSubTitle("A consent on record that covers every category, or an exception recorded with its grounds.")
        layout = QVBoxLayout(second)
        self.use_consent = QRadioButton("&Consent of the student or family")
        self.use_consent.setChecked(True)
        self.consent = QComboBox()
        self.consent.setAccessibleName("Consent record")
        self.use_exception = QRadioButton("Consent not sought: an &exception")
        self.basis = QComboBox()
        self.basis.setAccessibleName("Exception")
        for key, title in EXCEPTIONS.items():
            self.basis.addItem(title, key)
        self.grounds = QPlainTextEdit()
        self.grounds.setAccessibleName("Grounds")
        self.grounds.setPlaceholderText("The grounds, in words (required for an exception)")
        self.grounds.setFixedHeight(70)
        self.views = QComboBox()
        self.views.setAccessibleName("Views sought")
        for value, text in ((None, "Views of the child and family: not recorded"), (True, "Their views were sought"),
                            (False, "Their views were not sought (say why below)")):
            self.views.addItem(text, value)
        self.views_note = QLineEdit()
        self.views_note.setAccessibleName("Views note")
        self.views_note.setPlaceholderText("Why the views were not sought (required then), or a note")
        self.risk_assessment = QLineEdit()
        self.risk_assessment.setAccessibleName("Risk assessment or safety plan")
        self.risk_assessment.setPlaceholderText("FVISS: any risk assessment or safety plan shared (a reference)")
        for w in (self.use_consent, self.consent, self.use_exception, self.basis, self.grounds, self.views, self.views_note,
                  self.risk_assessment):
            layout.addWidget(w)
        layout.addStretch(1)
        self.use_consent.toggled.connect(self._basis_changed)
        self._basis_changed()
        self.addPage(second)

        third = QWizardPage()
        third.setTitle("Information to disclose")
        third.setSubTitle("Tick only what the agency needs. Home group and parents' occupation are never disclosed; "
                          "attendance rate and unapproved absences only when the agency asked for them.")
        layout = QVBoxLayout(third)
        grid, self.categories = _categories_grid()
        layout.addLayout(grid)
        self.other = QLineEdit()
        self.other.setAccessibleName("Other information")
        self.other.setPlaceholderText("Other (please list)")
        layout.addWidget(self.other)
        self.asked = {c: QCheckBox(f"The agency asked for {TITLES[c].lower()}") for c in ON_REQUEST}
        for box in self.asked.values():
            layout.addWidget(box)
        self.stale_reason = QLineEdit()
        self.stale_reason.setAccessibleName("Reason for an old extract")
        self.stale_reason.setPlaceholderText("Only if the latest extract is too old: why it is used")
        layout.addWidget(self.stale_reason)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.addPage(third)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Send for authorisation")
        self.student.editingFinished.connect(self._load_consents)
        self.agency.currentIndexChanged.connect(self._load_consents)
        self._load_consents()

    def _basis_changed(self, *_: Any) -> None:
        consent = self.use_consent.isChecked()
        self.consent.setEnabled(consent)
        for w in (self.basis, self.grounds, self.risk_assessment):
            w.setEnabled(not consent)

    def _load_consents(self) -> None:
        from mapping_tool.services import referrals

        self.consent.clear()
        key = self.student.text().strip().upper()
        if not key:
            return
        try:
            views = referrals.list_consents(self.session, student=key)
        except KnownError:
            return
        agency = self.agency.currentData()
        for v in views:
            if v.agency == agency and v.state == "current":
                self.consent.addItem(f"Consent {v.id}: {_cats(v.categories)} (until {_day(v.expires)})", v.id)
        if self.consent.count() == 0:
            self.consent.addItem("No current consent for this agency", None)

    def request(self) -> dict[str, Any]:
        consent = self.use_consent.isChecked()
        return dict(
            student_key=self.student.text(), agency=self.agency.currentData() or "", purpose=self.purpose.text(),
            categories=_checked(self.categories), consent_id=self.consent.currentData() if consent else None,
            basis=None if consent else self.basis.currentData(), grounds="" if consent else self.grounds.toPlainText(),
            requested_by_agency=[c for c, b in self.asked.items() if b.isChecked()], other=self.other.text(),
            views_sought=self.views.currentData(), views_note=self.views_note.text(), sensitive=self.sensitive.isChecked(),
            stale_reason=self.stale_reason.text(), risk_assessment="" if consent else self.risk_assessment.text(),
        )

    def submit(self) -> bool:
        """Create the referral; on a refusal, show the sentence and stay on the last page."""
        from mapping_tool.services import referrals

        values = self.request()
        key = values.pop("student_key")
        if values["consent_id"] is None and values["basis"] is None:
            self.error.setText("Choose a current consent, or an exception with its grounds.")
            return False
        try:
            self.referral_id = referrals.create_referral(self.session, key, **values)
        except KnownError as exc:
            self.error.setText(exc.message)
            return False
        self.created.emit(self.referral_id)
        return True

    def accept(self) -> None:
        if self.submit():
            super().accept()


# -- the page --------------------------------------------------------------------------------------------


class ReferralsPage(QWidget):
    changed = Signal()

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(QLabel("<h2 style='margin:0'>Referrals</h2>"))
        self.teacher = session.role is Role.HOME_GROUP_TEACHER
        intro = QLabel(
            "Home group teachers see which of their students have an active referral, not to whom or why."
            if self.teacher else
            "Referrals to outside agencies, each with a consent or a recorded exception and a data custodian's "
            "authorisation. Saving or printing the form is the disclosure: a file note records exactly what was sent."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

        # referrals
        self.referral_model = ReferralTableModel(self)
        self.referral_view = _table(self.referral_model)
        self.referral_view.setAccessibleName("Referrals")
        tab = QWidget()
        tab_layout = QVBoxLayout(tab)
        buttons = QHBoxLayout()
        self.new_button = QPushButton("&New referral…")
        self.preview_button = QPushButton(VIEW_SENT_TEXT)
        self.preview_button.setMinimumWidth(self.preview_button.sizeHint().width())  # the longer label: no jump
        self.preview_button.setText(PREVIEW_TEXT)
        self.authorise_button = QPushButton("&Authorise…")
        self.pdf_button = QPushButton("Save &PDF…")
        self.docx_button = QPushButton("Save &Word…")
        self.print_button = QPushButton("P&rint…")
        self.status_button = QPushButton("Set &status…")
        # two rows, so that the page fits a 1024x768 screen: the steps, then the outputs
        outputs = QHBoxLayout()
        for row, b, fn in ((buttons, self.new_button, self.new_referral), (buttons, self.preview_button, self.preview),
                           (buttons, self.authorise_button, self.authorise), (buttons, self.status_button, self.set_status),
                           (outputs, self.pdf_button, lambda: self.save("pdf")),
                           (outputs, self.docx_button, lambda: self.save("docx")),
                           (outputs, self.print_button, self.print_form)):
            b.clicked.connect(fn)
            if self.teacher:  # hidden, never shown before it has a parent (it would flash up as a window)
                b.hide()
            row.addWidget(b)
        buttons.addStretch(1)
        outputs.addStretch(1)
        tab_layout.addLayout(buttons)
        tab_layout.addLayout(outputs)
        tab_layout.addWidget(self.referral_view, 1)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        tab_layout.addWidget(self.detail)
        self.referral_view.selectionModel().selectionChanged.connect(self._selection_changed)
        if not self.teacher:  # Enter (or a double-click) on a referral opens its form, as Students opens a student
            self.referral_view.activated.connect(lambda _index: self.preview())
        self.tabs.addTab(tab, "Referrals")

        if not self.teacher:
            self.agency_model = AgencyTableModel(self)
            self.agency_view = _table(self.agency_model)
            self.agency_view.setAccessibleName("Agencies")
            tab = QWidget()
            tab_layout = QVBoxLayout(tab)
            row = QHBoxLayout()
            self.add_agency_button = QPushButton("Add &agency…")
            self.add_agency_button.clicked.connect(self.add_agency)
            self.add_agency_button.setEnabled(session.role is Role.CUSTODIAN)
            row.addWidget(self.add_agency_button)
            self.edit_agency_button = QPushButton("Chan&ge details…")
            self.edit_agency_button.setToolTip("Change the selected agency's details or renew its agreement")
            self.edit_agency_button.clicked.connect(self.edit_agency)
            if session.role is not Role.CUSTODIAN:
                self.edit_agency_button.hide()
            row.addWidget(self.edit_agency_button)
            self.agency_history_button = QPushButton("Earlier &details…")
            self.agency_history_button.setToolTip("What changed in the selected agency's details, when, by whom and why")
            self.agency_history_button.clicked.connect(self.agency_history)
            row.addWidget(self.agency_history_button)
            self.designate_button = QPushButton("Staff designated for CISS/FVISS…")
            self.designate_button.clicked.connect(self.designate)
            if session.role is not Role.CUSTODIAN:
                self.designate_button.hide()
            row.addWidget(self.designate_button)
            self.settings_button = QPushButton("Referral settings…")
            self.settings_button.clicked.connect(self.edit_settings)
            if session.role is not Role.CUSTODIAN:
                self.settings_button.hide()
            row.addWidget(self.settings_button)
            if session.role is not Role.CUSTODIAN:
                row.addWidget(QLabel("The data custodian keeps the register of agencies."))
            row.addStretch(1)
            tab_layout.addLayout(row)
            tab_layout.addWidget(self.agency_view, 1)
            self.tabs.addTab(tab, "Agencies")

            self.consent_model = ConsentTableModel(self)
            self.consent_view = _table(self.consent_model)
            self.consent_view.setAccessibleName("Consent records")
            tab = QWidget()
            tab_layout = QVBoxLayout(tab)
            row = QHBoxLayout()
            self.record_consent_button = QPushButton("Record &consent…")
            self.record_consent_button.clicked.connect(self.record_consent)
            self.withdraw_button = QPushButton("Record &withdrawal…")
            self.withdraw_button.clicked.connect(self.withdraw_consent)
            row.addWidget(self.record_consent_button)
            row.addWidget(self.withdraw_button)
            self.correct_consent_button = QPushButton("Correct a mistake…")
            self.correct_consent_button.setToolTip("Correct who gave consent, their relationship, the witness or the "
                                                   "way it was given: a new record replaces it and both are kept")
            self.correct_consent_button.clicked.connect(self.correct_consent)
            row.addWidget(self.correct_consent_button)
            row.addStretch(1)
            tab_layout.addLayout(row)
            tab_layout.addWidget(self.consent_view, 1)
            self.tabs.addTab(tab, "Consent records")

            self.note_model = FileNoteTableModel(self)
            self.note_view = _table(self.note_model)
            self.note_view.setAccessibleName("File notes")
            tab = QWidget()
            tab_layout = QVBoxLayout(tab)
            row = QHBoxLayout()
            self.notes_pdf_button = QPushButton("Save file notes as PDF…")
            self.notes_pdf_button.clicked.connect(self.save_notes_pdf)
            self.notes_export_button = QPushButton("Export to Excel…")
            self.notes_export_button.clicked.connect(self.export_notes)
            self.note_agency = QComboBox()
            self.note_agency.setAccessibleName("Agency of the file notes shown")
            self.note_agency.currentIndexChanged.connect(self._filter_notes)
            row.addWidget(QLabel("Agency:"))
            row.addWidget(self.note_agency)
            self.correct_button = QPushButton("Add a &correction…")
            self.correct_button.clicked.connect(self.correct_note)
            self.note_form_button = QPushButton("View the form as sent")
            self.note_form_button.setToolTip("The referral form as this sending gave it, to read; nothing is sent "
                                             "again (Enter on a file note does the same)")
            self.note_form_button.clicked.connect(self.view_note_form)
            self.note_form_button.setEnabled(False)
            row.addWidget(self.notes_pdf_button)
            row.addWidget(self.notes_export_button)
            row.addWidget(self.note_form_button)
            row.addWidget(self.correct_button)
            row.addStretch(1)
            tab_layout.addLayout(row)
            never = QLabel("File notes are never edited; a correction is a new note that points at the one it corrects.")
            never.setWordWrap(True)  # its own line, so that the page fits a 1024x768 screen
            tab_layout.addWidget(never)
            tab_layout.addWidget(self.note_view, 1)
            self.note_detail = QLabel("Select a file note to read it in full.")
            self.note_detail.setWordWrap(True)
            self.note_detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            tab_layout.addWidget(self.note_detail)
            self.note_view.selectionModel().selectionChanged.connect(self._note_selected)
            self.note_view.activated.connect(lambda _index: self.view_note_form())
            self.tabs.addTab(tab, "File notes")
        self._widths_set = False
        self.refresh()

    # -- data ---------------------------------------------------------------------------------------
    def refresh(self) -> None:
        from mapping_tool.services import referrals

        try:
            self.referral_model.set_rows(referrals.list_referrals(self.session))
            if not self.teacher:
                self.agency_model.set_rows(referrals.list_agencies(self.session))
                self.consent_model.set_rows(referrals.list_consents(self.session))
                self.all_notes = referrals.list_file_notes(self.session)
                self.note_model.names = {r.student_key: r.student_name for r in self.referral_model._rows
                                         if r.student_name and not r.restricted}
                chosen = self.note_agency.currentData()
                self.note_agency.blockSignals(True)
                self.note_agency.clear()
                self.note_agency.addItem("All agencies", None)
                for a in self.agency_model._rows:
                    self.note_agency.addItem(a.name, a.name)
                self.note_agency.setCurrentIndex(max(0, self.note_agency.findData(chosen)))
                self.note_agency.blockSignals(False)
                self._filter_notes()
        except KnownError as exc:
            self.message.setText(exc.message)
            return
        if not self._widths_set:  # once, from the text each column typically holds (measuring every cell is slow)
            self._widths_set = True
            views = [self.referral_view] + ([] if self.teacher else [self.agency_view, self.consent_view, self.note_view])
            for view in views:
                _set_widths(view, COLUMN_CHARS[type(view.model())])
        self._selection_changed()

    def _selection_changed(self, *_: Any) -> None:
        row = _selected(self.referral_view)
        enabled = row is not None and not row.restricted
        for b in (self.preview_button, self.authorise_button, self.pdf_button, self.docx_button, self.print_button, self.status_button):
            b.setEnabled(enabled)
        if enabled:
            own = row.requested_by == self.session.username and self.session.role is not Role.CUSTODIAN
            self.authorise_button.setEnabled(row.status == "awaiting_authorisation" and not own and self.session.role in (
                Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE))
            self.authorise_button.setToolTip("Another authoriser must authorise your own request." if own else "")
            self.preview_button.setText(VIEW_SENT_TEXT if row.was_sent else PREVIEW_TEXT)
            self.preview_button.setToolTip(
                "A copy of the form as it was sent: the agency's details and the information on the day it was sent."
                if row.was_sent else "The form as it would be sent today, marked as a preview.")
            sendable = row.status in ("authorised", "sent", "acknowledged", "accepted")
            for b in (self.pdf_button, self.docx_button, self.print_button):
                b.setEnabled(sendable)
            purpose = "(sensitive: ask the welfare team)" if row.purpose is None else row.purpose
            self.detail.setText(
                f"<b>Referral {row.id}</b> · {escape(row.student_name)} to {escape(row.agency)} · "
                f"{escape(BASIS_TITLES.get(row.basis, row.basis))} · {escape(row.status_title)}<br>"
                f"Information: {escape(_cats(row.categories))}<br>Purpose: {escape(purpose)}"
                + (f"<br>Last sent {_local(row.sent_at)}" if row.was_sent else "")
            )
        else:
            self.preview_button.setText(PREVIEW_TEXT)
            self.detail.setText("Select a referral to preview, authorise or send it." if not self.teacher else "")

    def _filter_notes(self, *_: Any) -> None:
        """The file notes of one agency (or all), as the issue asks: per student and per agency. By the
        agency in the register, so a renamed agency's notes (which keep the name they were sent
        under) stay with it, as in the saved PDF and Excel copies."""
        name = self.note_agency.currentData()
        wanted = next((a.id for a in self.agency_model._rows if a.name == name), None) if name is not None else None
        self.note_model.set_rows([n for n in getattr(self, "all_notes", []) if name is None or n.agency_id == wanted])
        self._note_selected()  # a reset clears the selection without saying so: the button and the detail follow

    def _note_selected(self, *_: Any) -> None:
        note = _selected(self.note_view)
        self.note_form_button.setEnabled(_sent_a_form(note))
        if note is None:
            self.note_detail.setText("Select a file note to read it in full.")
            return
        name = self.note_model.names.get(note.student_key)
        pairs = [(k, f"{name} ({v})" if k == "Student" and name else v) for k, v in note.rows()]
        rows = "".join(f"<tr><td><b>{escape(k)}</b>&nbsp;&nbsp;</td><td>{escape(v)}</td></tr>" for k, v in pairs)
        self.note_detail.setText(f"<b>File note {note.id}</b><table cellspacing='0' cellpadding='1'>{rows}</table>")

    def _done(self, text: str) -> None:
        self.message.setText(text)
        self.refresh()
        self.changed.emit()

    # -- actions --------------------------------------------------------------------------------------
    def new_referral(self, student_key: str = "") -> ReferralWizard:
        wizard = ReferralWizard(self.session, student_key, self)
        wizard.created.connect(lambda rid: self._done(f"Referral {rid} is awaiting authorisation by a data custodian."))
        wizard.open()
        return wizard

    def preview(self) -> None:
        from mapping_tool.services import referrals

        row = _selected(self.referral_view)
        if row is None:
            return
        try:
            view = referrals.form_view(self.session, row.id)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._show_preview(view, row)

    def _show_preview(self, view: Any, row: Any) -> None:
        """``view``: a ``referrals.ReferralForm`` (a preview, or a copy of the form as sent), shown to
        read only: printing or saving the form goes through Print…, Save PDF… or Save Word…, which
        write the file note, so the dialog's own Print and Page setup are taken away."""
        from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

        from mapping_tool.ui.forms import print_form

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintPreviewDialog(printer, self)
        if view.is_copy:  # no student's name in a window title: it is in the line below
            dialog.setWindowTitle(f"Copy of referral {row.id} as sent on {view.sent_at:%d/%m/%Y} "
                                  f"(file note {view.note_id}; nothing is sent again)")
        else:
            dialog.setWindowTitle(f"Preview of referral {row.id} (not sent; no file note)")
        who = f"Referral {row.id} · {row.student_name or row.student_key} to {view.agency or row.agency}"
        if view.is_copy:
            what = (f"the form as sent on {view.sent_at:%d/%m/%Y}, to read. Print…, Save PDF… and Save Word… "
                    "on the Referrals page send it again as it is today, with a new file note.")
        else:
            what = ("a preview of the form as it is today; nothing has been sent. Once it is authorised, Print…, "
                    "Save PDF… or Save Word… on the Referrals page sends it and writes the file note.")
        heading = QLabel(f"<b>{escape(who)}</b>: {what}")
        heading.setWordWrap(True)
        heading.setContentsMargins(8, 6, 8, 6)
        dialog.layout().insertWidget(0, heading)
        screen = self.screen().availableGeometry()
        dialog.resize(min(1000, int(screen.width() * 0.9)), int(screen.height() * 0.9))
        for toolbar in dialog.findChildren(QToolBar):
            for action in toolbar.actions():
                if action.text() in ("Print", "Page setup"):  # to read only: see the docstring
                    toolbar.removeAction(action)
                elif action.objectName() == "fitWidthAction":  # readable at 1024x768; the page scrolls
                    action.trigger()
        html = view.html
        dialog.paintRequested.connect(lambda p: print_form(html, p))
        self.preview_dialog = dialog
        dialog.open()

    def authorise(self) -> None:
        from mapping_tool.services import referrals

        row = _selected(self.referral_view)
        if row is None:
            return
        password = PasswordDialog.ask(self, row.id)
        if password is None:
            return
        try:
            referrals.authorise_referral(self.session, row.id, password)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"Referral {row.id} is authorised.")

    def save(self, fmt: str) -> None:
        from mapping_tool.services import referrals
        from mapping_tool.ui.forms import html_to_pdf

        row = _selected(self.referral_view)
        if row is None:
            return
        filters = "PDF (*.pdf)" if fmt == "pdf" else "Word (*.docx)"
        target = choose_save_path(self, "Save the referral form (this is the disclosure)", f"referral-{row.id}.{fmt}", filters)
        if target is None:
            return
        path = target.path
        try:
            sent = referrals.send_referral(self.session, row.id, path, fmt=fmt, pdf_renderer=html_to_pdf, force=target.replace)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"Saved referral {row.id} to {path.name}; file note {sent.note_id} records what was disclosed.")

    def print_form(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        from mapping_tool.services import referrals
        from mapping_tool.ui.forms import print_form

        row = _selected(self.referral_view)
        if row is None:
            return
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)

        def do_print(html: str) -> None:
            if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
                raise KnownError("Printing was cancelled; nothing was disclosed.")
            print_form(html, printer)

        try:
            sent = referrals.print_referral(self.session, row.id, do_print)
        except KnownError as exc:
            self.message.setText(exc.message)
            return
        self._done(f"Printed referral {row.id}; file note {sent.note_id} records what was disclosed.")

    def set_status(self) -> None:
        from mapping_tool.services import referrals

        row = _selected(self.referral_view)
        if row is None:
            return
        answer = StatusDialog.ask(self, row.status, row)
        if answer is None:
            return
        try:
            referrals.set_status(self.session, row.id, *answer)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"Referral {row.id} is now {STATUS_TITLES[answer[0]].lower()}.")

    def add_agency(self) -> None:
        from mapping_tool.services import referrals

        values = AgencyDialog.ask(self)
        if values is None:
            return
        name = values.pop("name")
        try:
            referrals.add_agency(self.session, name, **values)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"Added {name} to the register.")

    def _selected_agency(self) -> Any:
        row = _selected(self.agency_view)
        if row is None:
            self.message.setText("Select an agency on the Agencies tab first.")
        return row

    def edit_agency(self) -> None:
        from mapping_tool.services import referrals

        agency = self._selected_agency()
        if agency is None:
            return
        saved: list[Any] = []
        if AgencyEditDialog.ask(self, agency, lambda changes: saved.append(referrals.update_agency(
                self.session, agency.name, **changes))):
            now = saved[-1].name
            renamed = f" (now called {now})" if now != agency.name else ""
            self._done(f"Changed the details of {agency.name}{renamed}; the earlier details are kept.")

    def agency_history(self) -> None:
        from mapping_tool.services import referrals

        agency = self._selected_agency()
        if agency is None:
            return
        try:
            changes = referrals.agency_history(self.session, agency.name)
        except KnownError as exc:
            show_error(self, exc)
            return
        AgencyHistoryDialog.show_for(self, agency.name, changes)

    def designate(self) -> None:
        from mapping_tool.services import accounts, referrals

        staff = [(a.username, f"{a.display_name or a.username} ({a.username})") for a in accounts.list_users(self.session)
                 if a.active]
        current = set(referrals.referral_settings(self.session).designated)
        chosen = DesignationDialog.ask(self, staff, current)
        if chosen is None:
            return
        try:
            for username in sorted(chosen ^ current):
                referrals.set_designated(self.session, username, username in chosen)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"{len(chosen)} staff are designated for CISS and FVISS.")

    def edit_settings(self) -> None:
        from mapping_tool.services import referrals

        current = referrals.referral_settings(self.session)
        answer = ReferralSettingsDialog.ask(self, current.stale_extract_days, current.consent_months)
        if answer is None:
            return
        try:
            if answer[0] != current.stale_extract_days:
                referrals.set_referral_setting(self.session, "stale_extract_days", answer[0])
            if answer[1] != current.consent_months:
                referrals.set_referral_setting(self.session, "consent_months", answer[1])
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"Referrals need an extract no older than {answer[0]} days; a consent lasts {answer[1]} months.")

    def record_consent(self, student_key: str = "") -> None:
        from mapping_tool.services import referrals

        values = ConsentDialog.ask(self, [a.name for a in referrals.list_agencies(self.session)], student_key, self.session)
        if values is None:
            return
        key = values.pop("student_key")
        try:
            consent_id = referrals.record_consent(self.session, key, **values)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"Recorded consent {consent_id}.")

    def withdraw_consent(self) -> None:
        from mapping_tool.services import referrals

        row = _selected(self.consent_view)
        if row is None:
            return
        how, ok = QInputDialog.getText(self, "Withdraw a consent", f"How was consent {row.id} withdrawn (today)?")
        if not ok:
            return
        try:
            referrals.withdraw_consent(self.session, row.id, on=date.today(), reason=how)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"Consent {row.id} is withdrawn: it authorises nothing from today.")

    def correct_consent(self) -> None:
        """Issue 10 s 3: a consent recorded wrongly is replaced by a corrected record; both stay."""
        from mapping_tool.services.consent_corrections import correct_consent
        from mapping_tool.ui.pages.correction_widgets import CorrectConsentDialog

        row = _selected(self.consent_view)
        if row is None:
            self.message.setText("Select the consent record to correct.")
            return
        answer = CorrectConsentDialog.ask(self, row)
        if answer is None:
            return
        changes, reason = answer
        try:
            done = correct_consent(self.session, row.id, reason, **changes)
        except KnownError as exc:
            show_error(self, exc)
            return
        moved = f" Referral {', '.join(map(str, done.referrals))} now relies on it." if done.referrals else ""
        self._done(f"Consent {done.new_id} replaces consent {done.old_id}, which is kept as recorded in error.{moved}")

    def view_note_form(self) -> None:
        """The form as the selected file note's sending gave it (any sending, not only the latest)."""
        from mapping_tool.services import referrals

        note = _selected(self.note_view)
        if not _sent_a_form(note):
            self.message.setText("Select the file note of a referral that was sent (a correction has no form).")
            return
        try:
            view = referrals.form_view(self.session, note.referral_id, note_id=note.id)
        except KnownError as exc:
            show_error(self, exc)
            return
        row = next((r for r in self.referral_model._rows if r.id == note.referral_id), None)
        if row is None:  # the referrals list is older than the notes (it refreshes with them): name what the note names
            row = SimpleNamespace(id=note.referral_id, student_name="", student_key=note.student_key, agency=note.agency)
        self._show_preview(view, row)

    def correct_note(self) -> None:
        """A correction is a new note that points at the one it corrects; the old note stays."""
        from mapping_tool.services import referrals

        note = _selected(self.note_view)
        if note is None:
            self.message.setText("Select the file note to correct.")
            return
        text = CorrectionDialog.ask(self, note.id)
        if text is None:
            return
        try:
            new_id = referrals.correct_file_note(self.session, note.id, text)
        except KnownError as exc:
            show_error(self, exc)
            return
        self._done(f"File note {new_id} corrects file note {note.id}; the original is kept unchanged.")

    def save_notes_pdf(self) -> None:
        from mapping_tool.services import referrals
        from mapping_tool.ui.forms import html_to_pdf

        target = choose_save_path(self, "Save the file notes", "file-notes.pdf", "PDF (*.pdf)")
        if target is None:
            return
        path = target.path
        try:
            count = referrals.export_file_notes(self.session, path, fmt="pdf", pdf_renderer=html_to_pdf, force=target.replace,
                                                agency=self.note_agency.currentData())
        except KnownError as exc:
            show_error(self, exc)
            return
        self.message.setText(f"Saved {count} file notes to {path.name}.")

    def export_notes(self) -> None:
        from mapping_tool.services import referrals

        target = choose_save_path(self, "Export the file notes", "file-notes.xlsx", "Excel (*.xlsx);;CSV (*.csv)")
        if target is None:
            return
        path = target.path
        try:
            count = referrals.export_file_notes(self.session, path, force=target.replace, agency=self.note_agency.currentData())
        except KnownError as exc:
            show_error(self, exc)
            return
        self.message.setText(f"Exported {count} file notes to {path.name}.")


class StudentReferralsSection(QWidget):
    """The student panel's Referrals section: this student's referrals, consents and file notes,
    and "Refer this student…". A home group teacher sees only whether a referral is active."""

    changed = Signal()

    def __init__(self, session: Any, student_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.key = student_key
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.layout_.setSpacing(4)
        self.wizard: ReferralWizard | None = None
        self.load()

    def _clear(self) -> None:
        while self.layout_.count():
            item = self.layout_.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
            elif item.layout() is not None:
                sub = item.layout()
                while sub.count():
                    w = sub.takeAt(0).widget()
                    if w is not None:
                        w.deleteLater()

    def _text(self, html: str) -> QLabel:
        label = QLabel(html)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.layout_.addWidget(label)
        return label

    def load(self) -> None:
        from mapping_tool.services import referrals

        self._clear()
        try:
            if self.session.role is Role.HOME_GROUP_TEACHER:
                active = referrals.has_active_referral(self.session, self.key)
                self._text("<b>This student has an active referral.</b> Ask the welfare team if you need to know more."
                           if active else "No active referral.")
                return
            rows = referrals.list_referrals(self.session, student=self.key)
            consents = referrals.list_consents(self.session, student=self.key)
            notes = referrals.list_file_notes(self.session, student=self.key)
        except KnownError as exc:
            self._text(escape(exc.message))
            return
        if not rows and not consents:
            self._text("No referrals or consents for this student.")
        if rows:
            self._text("<b>Referrals to agencies</b>")
        for r in rows:
            self._text(f"Referral {r.id} to {escape(r.agency)} · {escape(r.status_title)} · "
                       f"{escape(_cats(r.categories))} · {SHORT_BASIS.get(r.basis, r.basis)} · updated {_local(r.status_at)}")
        if consents:
            self._text("<b>Consents</b>")
        for c in consents:
            self._text(f"Consent {c.id} for {escape(c.agency)} by {escape(c.given_by)} ({escape(c.giver_name)}): "
                       f"{escape(_cats(c.categories))} · until {_day(c.expires)} · <b>{escape(c.state)}</b>")
        if notes:
            self._text("<b>File notes of disclosures</b>")
        for n in notes:
            what = f"corrects note {n.corrects}: {escape(n.text)}" if n.corrects else (
                f"{escape(n.agency)}: {escape(_cats(n.categories))} by {escape(n.disclosed_by)} ({n.document_kind.upper()})")
            self._text(f"File note {n.id}, {_local(n.created_at)}: {what}")
        row = QHBoxLayout()
        self.refer_button = QPushButton("Refer this student…")
        self.refer_button.clicked.connect(self.refer)
        self.consent_button = QPushButton("Record consent…")
        self.consent_button.clicked.connect(self.record_consent)
        self.notes_button = QPushButton("Save file notes as PDF…")
        self.notes_button.setEnabled(bool(notes))
        self.notes_button.clicked.connect(self.save_notes)
        for b in (self.refer_button, self.consent_button, self.notes_button):
            row.addWidget(b)
        row.addStretch(1)
        self.layout_.addLayout(row)
        self.layout_.addStretch(1)

    def refer(self) -> ReferralWizard:
        self.wizard = ReferralWizard(self.session, self.key, self)
        self.wizard.created.connect(lambda _rid: (self.load(), self.changed.emit()))
        self.wizard.open()
        return self.wizard

    def record_consent(self) -> None:
        from mapping_tool.services import referrals

        values = ConsentDialog.ask(self, [a.name for a in referrals.list_agencies(self.session)], self.key, self.session)
        if values is None:
            return
        key = values.pop("student_key")
        try:
            referrals.record_consent(self.session, key, **values)
        except KnownError as exc:
            show_error(self, exc)
            return
        self.load()
        self.changed.emit()

    def save_notes(self) -> None:
        from mapping_tool.services import referrals
        from mapping_tool.ui.forms import html_to_pdf

        target = choose_save_path(self, "Save this student's file notes", f"file-notes-{self.key}.pdf", "PDF (*.pdf)")
        if target is None:
            return
        path = target.path
        try:
            referrals.export_file_notes(self.session, path, fmt="pdf", student=self.key, pdf_renderer=html_to_pdf,
                                        force=target.replace)
        except KnownError as exc:
            show_error(self, exc)
