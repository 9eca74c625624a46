"""The policy grid and the audit viewer on a real encrypted store with an imported demo school:
narrowing a role by unticking (and only within the table), the viewer's filters, the chain
check after tampering, and the "who accessed this record" report printed, saved and exported."""

from __future__ import annotations

import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QDate, Qt
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QFileDialog

from mapping_tool.security.policy import ITEMS, TABLE_ROLES, Y, load_policy
from mapping_tool.security.roles import Role
from mapping_tool.services import audit, auth, imports, students
from mapping_tool.ui.pages.admin import AdminPage
from mapping_tool.ui.pages.governance import (
    ACTION_FILTERS,
    AuditColumn,
    AuditTableModel,
    AuditViewer,
    PolicyGrid,
    PolicyGridModel,
    describe_detail,
    local_time,
)
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT, PRINCIPAL
from tests.ui.conftest import open_session
from tests.ui.helpers import audit_actions

SCHOOL_ROLES = ("welfare", "home-group-teacher", "year-level-coordinator", "principal")
REFERENCE_ROLES = ("agency", "regional-office", "central-office")


# -- a store with an imported school (imported once per module, copied per test) ------------------


@pytest.fixture(scope="module")
def school_template(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from importers.demo import generate_demo_extract

    folder = tmp_path_factory.mktemp("governance-school") / "store"
    shutil.copytree(template_store, folder)
    extract = folder.parent / "eduhub"
    generate_demo_extract(extract, students=80, extract_date=date(2026, 9, 18), years=1, seed=3)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        imports.import_cases21(user, extract)
    finally:
        auth.sign_out(user)
    return folder


@pytest.fixture
def school(school_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(school_template, target)
    (target / "smt.signin").unlink(missing_ok=True)
    return target


@pytest.fixture
def admin(school: Path, store_key: bytes):  # type: ignore[no-untyped-def]
    user = open_session(school, store_key, CUSTODIAN)
    yield user
    auth.sign_out(user)


@pytest.fixture
def hg_teacher(school: Path, store_key: bytes):  # type: ignore[no-untyped-def]
    user = open_session(school, store_key, HGT)
    yield user
    auth.sign_out(user)


@pytest.fixture
def principal(school: Path, store_key: bytes):  # type: ignore[no-untyped-def]
    user = open_session(school, store_key, PRINCIPAL)
    yield user
    auth.sign_out(user)


@pytest.fixture
def grid(qtbot, admin) -> PolicyGrid:  # type: ignore[no-untyped-def]
    g = PolicyGrid(admin)
    qtbot.addWidget(g)
    g.show()
    qtbot.waitExposed(g)
    return g


@pytest.fixture
def viewer(qtbot, admin) -> AuditViewer:  # type: ignore[no-untyped-def]
    v = AuditViewer(admin)
    qtbot.addWidget(v)
    v.show()
    qtbot.waitExposed(v)
    return v


@pytest.fixture
def melbourne_time() -> Iterator[None]:
    import os
    import time

    old = os.environ.get("TZ")
    os.environ["TZ"] = "Australia/Melbourne"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def _viewed_key(teacher) -> str:  # type: ignore[no-untyped-def]
    """A student of the teacher's home group, viewed by the teacher (one audit entry)."""
    key = students.list_students(teacher, fields=("student_key",), audit=False).column(
        "student_key"
    )[0]
    students.get_student(teacher, key)
    return key


# -- the policy grid ---------------------------------------------------------------------------


def test_policy_grid_model_passes_the_model_tester(qtmodeltester, admin, principal) -> None:  # type: ignore[no-untyped-def]
    model = PolicyGridModel()
    assert model.rowCount() == 0
    qtmodeltester.check(model)
    model.set_policy(students.effective_policy(admin), editable=True)
    assert (model.rowCount(), model.columnCount()) == (len(ITEMS), len(TABLE_ROLES))
    qtmodeltester.check(model)
    model.set_policy(students.effective_policy(principal), editable=False)
    qtmodeltester.check(model)
    assert model.headerData(0, Qt.Orientation.Vertical) == "De-identified data"
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Home group\nteacher"
    assert model.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.DecorationRole) is None


def test_every_cell_shows_the_table_ceiling(grid: PolicyGrid) -> None:
    policy = load_policy()
    words = {Y: "Y", "when requested": "when requested", "": "no"}
    for item in ITEMS:
        for role in TABLE_ROLES:
            text = grid.model.index_of(role, item).data()
            assert text.startswith(words[policy.ceiling(role, item)]), (role, item, text)
    assert grid.model.index_of("agency", "attendance_rate").data() == "when requested"
    assert grid.model.index_of("regional-office", "student_name").data() == "no"


def test_unticking_a_box_narrows_the_role_and_is_audited(
    qtbot, grid: PolicyGrid, hg_teacher, school: Path, store_key: bytes
) -> None:  # type: ignore[no-untyped-def]
    item_fields = {f for f, i in load_policy().fields.items() if i == "home_group"}
    before = set(students.visible_fields(hg_teacher))
    assert item_fields & before == item_fields
    index = grid.model.index_of("home-group-teacher", "home_group")
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    # as a keyboard user would: the cell, then Space
    grid.view.setFocus()
    grid.view.setCurrentIndex(index)
    qtbot.keyClick(grid.view.viewport(), Qt.Key.Key_Space)
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Unchecked
    assert index.data() == "Y · narrowed"
    assert "Home group teacher no longer sees Home Group" in grid.status.text()
    # the teacher's next screen lacks the item's fields, and nothing else changed
    after = set(students.visible_fields(hg_teacher))
    assert after == before - item_fields
    assert "home_group" not in students.get_student(hg_teacher, _viewed_key(hg_teacher))
    assert (CUSTODIAN, "policy.changed", "home-group-teacher") in audit_actions(school, store_key)
    # what the selected item covers is spelled out under the grid
    assert "Home Group" in grid.covers_label.text() and "house" in grid.covers_label.text()


def test_ticking_again_restores_the_role(
    grid: PolicyGrid, hg_teacher, school: Path, store_key: bytes
) -> None:  # type: ignore[no-untyped-def]
    before = set(students.visible_fields(hg_teacher))
    assert grid.set_allowed("home-group-teacher", "occupation_of_parents", False)
    assert "parent_occupation_group" not in students.visible_fields(hg_teacher)
    assert grid.set_allowed("home-group-teacher", "occupation_of_parents", True)
    assert set(students.visible_fields(hg_teacher)) == before
    index = grid.model.index_of("home-group-teacher", "occupation_of_parents")
    assert (
        index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked and index.data() == "Y"
    )
    assert "may again see Occupation of Parents" in grid.status.text()
    changes = [a for a in audit_actions(school, store_key) if a[1] == "policy.changed"]
    assert len(changes) == 2


def test_cells_the_table_does_not_allow_are_not_editable(grid: PolicyGrid, admin) -> None:  # type: ignore[no-untyped-def]
    policy = load_policy()
    before = students.effective_policy(admin).narrowing
    for item in ITEMS:
        for role in TABLE_ROLES:
            index = grid.model.index_of(role, item)
            checkable = bool(grid.model.flags(index) & Qt.ItemFlag.ItemIsUserCheckable)
            assert checkable == (role in SCHOOL_ROLES and policy.ceiling(role, item) == Y), (
                role,
                item,
            )
            if role in REFERENCE_ROLES:
                assert index.data(Qt.ItemDataRole.CheckStateRole) is None
                assert not grid.set_allowed(role, item, True)
                assert not grid.set_allowed(role, item, False)
    assert students.effective_policy(admin).narrowing == before


def test_the_grid_is_read_only_for_the_principal(qtbot, principal, admin) -> None:  # type: ignore[no-untyped-def]
    students.set_narrowing(admin, Role.HOME_GROUP_TEACHER, "attendance_rate", allowed=False)
    g = PolicyGrid(principal)
    qtbot.addWidget(g)
    assert not g.editable
    for item in ITEMS:
        for role in TABLE_ROLES:
            assert not g.model.flags(g.model.index_of(role, item)) & Qt.ItemFlag.ItemIsUserCheckable
    assert not g.set_allowed("welfare", "student_name", False)
    assert students.effective_policy(admin).allows_item("welfare", "student_name")
    # what the role sees is still readable: a glyph, not a box that looks clickable
    assert g.model.index_of("home-group-teacher", "attendance_rate").data() == "☐ Y · narrowed"
    assert g.model.index_of("welfare", "attendance_rate").data() == "☑ Y"
    assert any("read-only" in label.text() for label in g.findChildren(type(g.status)))


def test_a_refused_change_is_shown_and_the_grid_shows_the_store(
    grid: PolicyGrid, admin, school: Path, store_key: bytes
) -> None:  # type: ignore[no-untyped-def]
    """The custodian's account disabled behind the open window (raw key): the service refuses,
    the page says why, and the box shows what is stored."""
    conn = _raw(school, store_key)
    conn.execute("UPDATE account SET active = 0 WHERE username = ?", (CUSTODIAN,))
    conn.close()
    grid.set_allowed("welfare", "student_name", False)
    assert grid.status.text() == "This account has been disabled by the data custodian."
    index = grid.model.index_of("welfare", "student_name")
    assert index.data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert students.effective_policy(admin).allows_item("welfare", "student_name")


# -- the audit viewer ----------------------------------------------------------------------------


def test_audit_model_passes_the_model_tester(qtmodeltester, admin) -> None:  # type: ignore[no-untyped-def]
    model = AuditTableModel()
    qtmodeltester.check(model)
    model.set_rows(audit.entries(admin), students.effective_policy(admin))
    assert model.rowCount() > 3
    qtmodeltester.check(model)
    assert [model.headerData(c, Qt.Orientation.Horizontal) for c in AuditColumn] == [
        "Entry",
        "When",
        "User",
        "What they did",
        "Record",
        "Details",
    ]
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    model.set_rows([])
    qtmodeltester.check(model)


def test_times_are_local_and_dd_mm_yyyy(melbourne_time, viewer: AuditViewer) -> None:  # type: ignore[no-untyped-def]
    viewer.refresh()
    row = viewer.model.row_at(0)
    stored = datetime.fromisoformat(row.at.rstrip("Z")).replace(tzinfo=UTC)
    shown = viewer.model.index(0, AuditColumn.AT).data()
    assert shown == stored.astimezone().strftime("%d/%m/%Y %H:%M:%S")
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", shown)
    assert stored.astimezone().utcoffset().total_seconds() >= 10 * 3600  # type: ignore[union-attr]
    assert viewer.model.index(0, AuditColumn.AT).data(Qt.ItemDataRole.ToolTipRole).endswith("(UTC)")
    assert local_time("2026-06-30T14:30:00.000Z") == "01/07/2026 00:30:00"


def _all_rows(viewer: AuditViewer) -> list:  # type: ignore[type-arg]
    return [viewer.model.row_at(i) for i in range(viewer.model.rowCount())]


def test_filter_by_user_changes_the_rows(viewer: AuditViewer, hg_teacher) -> None:  # type: ignore[no-untyped-def]
    _viewed_key(hg_teacher)
    viewer.refresh()
    everyone = _all_rows(viewer)
    assert {r.actor for r in everyone} >= {CUSTODIAN, HGT}
    viewer.user.setEditText(HGT)
    viewer.apply_button.click()
    rows = _all_rows(viewer)
    assert rows and len(rows) < len(everyone) and {r.actor for r in rows} == {HGT}
    assert viewer.user.findText(HGT) >= 0  # the custodian picks from the accounts


def test_filter_by_student_changes_the_rows(viewer: AuditViewer, hg_teacher) -> None:  # type: ignore[no-untyped-def]
    key = _viewed_key(hg_teacher)
    viewer.refresh()
    everyone = _all_rows(viewer)
    viewer.student.setText(key.lower())
    viewer.apply_button.click()
    rows = _all_rows(viewer)
    assert rows and len(rows) < len(everyone)
    assert all(r.object_id == key or f'"{key}"' in r.detail for r in rows)
    assert any(r.action == "student.viewed" and r.actor == HGT for r in rows)


def test_filter_by_action_changes_the_rows(viewer: AuditViewer, hg_teacher) -> None:  # type: ignore[no-untyped-def]
    _viewed_key(hg_teacher)
    viewer.refresh()
    everyone = _all_rows(viewer)
    viewer.action.setCurrentIndex(viewer.action.findData("student."))  # applies at once
    rows = _all_rows(viewer)
    assert rows and len(rows) < len(everyone)
    assert all(r.action.startswith("student.") for r in rows)
    assert viewer.model.index(0, AuditColumn.ACTION).data() == "Viewed the student's record"
    assert [label for label, _ in ACTION_FILTERS][0] == "All actions"


def test_filter_by_date_changes_the_rows(viewer: AuditViewer, admin) -> None:  # type: ignore[no-untyped-def]
    with (
        admin.store.write() as session
    ):  # an entry from last summer holidays, written as the services do
        admin.store.audit(
            session, CUSTODIAN, "backup.created", object_type="store", at=datetime(2026, 1, 5, 1, 0)
        )
    viewer.refresh()
    everyone = _all_rows(viewer)
    viewer.set_filters(since=QDate(2026, 1, 5), until=QDate(2026, 1, 5))
    rows = _all_rows(viewer)
    assert [r.action for r in rows] == ["backup.created"]
    viewer.set_filters(since=QDate.currentDate(), until=QDate.currentDate())
    today = _all_rows(viewer)
    assert "backup.created" not in {r.action for r in today} and len(today) == len(everyone) - 1
    viewer.reset_button.click()
    assert len(_all_rows(viewer)) == len(everyone)


def test_check_shows_intact_then_the_tampered_entry(
    viewer: AuditViewer, school: Path, store_key: bytes
) -> None:
    viewer.verify_button.click()
    assert "The audit log is intact" in viewer.status.text()
    assert viewer.broken_entry is None
    conn = _raw(school, store_key)
    conn.execute("UPDATE audit_entry SET actor = 'someone-else' WHERE id = 3")
    conn.close()
    viewer.refresh()
    viewer.verify_button.click()
    assert "NOT intact" in viewer.status.text()
    assert "entry 3 was changed after it was written" in viewer.status.text()
    assert viewer.broken_entry == 3
    selected = viewer.table.selectionModel().selectedRows()
    assert selected and viewer.model.row_at(selected[0].row()).id == 3


def _raw(store_dir: Path, key: bytes) -> sqlite3.Connection:
    import sqlcipher3.dbapi2 as sqlcipher

    conn = sqlcipher.connect(str(store_dir / "smt.db"), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn  # type: ignore[no-any-return]


def test_student_report_lists_who_viewed_the_record(viewer: AuditViewer, hg_teacher) -> None:  # type: ignore[no-untyped-def]
    key = _viewed_key(hg_teacher)
    page = viewer.student_report_html(key)
    assert "Who accessed this student's record" in page
    assert key in page
    assert "Harper Teacher" in page and HGT in page and "Home group teacher" in page
    assert "Viewed the student's record" in page
    assert "Student name" in page  # the items seen, in the table's words
    assert re.search(r"\d\d/\d\d/\d{4}<br/>\d\d:\d\d:\d\d", page)
    assert "intact" in page
    assert "No entry in the audit log" in viewer.student_report_html("NOBODY1")


def test_printing_the_report_is_audited_only_after_the_preview_is_accepted(
    viewer: AuditViewer, hg_teacher, monkeypatch, tmp_path: Path, school: Path, store_key: bytes
) -> None:  # type: ignore[no-untyped-def]
    key = _viewed_key(hg_teacher)
    viewer.student.setText(key)
    assert viewer.report_button.isEnabled()
    monkeypatch.setattr(QPrintPreviewDialog, "exec", lambda self: 0)
    viewer.report_button.click()
    assert (CUSTODIAN, "print.audit-report", key) not in audit_actions(school, store_key)

    pdf = tmp_path / "printed.pdf"

    def print_it(self: QPrintPreviewDialog) -> int:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(pdf))
        self.paintRequested.emit(printer)
        return 1

    monkeypatch.setattr(QPrintPreviewDialog, "exec", print_it)
    viewer.report_button.click()
    assert pdf.read_bytes()[:4] == b"%PDF"
    assert (CUSTODIAN, "print.audit-report", key) in audit_actions(school, store_key)
    assert "sent to the printer" in viewer.status.text()
    # the print itself is now part of the student's access history
    assert "Printed the access report" in viewer.student_report_html(key)


def test_report_saved_as_pdf(
    viewer: AuditViewer, hg_teacher, monkeypatch, tmp_path: Path, school: Path, store_key: bytes
) -> None:  # type: ignore[no-untyped-def]
    key = _viewed_key(hg_teacher)
    out = tmp_path / "access.pdf"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), ""))
    )
    viewer.student.setText(key)
    viewer.pdf_button.click()
    assert out.read_bytes()[:4] == b"%PDF" and out.stat().st_size > 2000
    assert (CUSTODIAN, "print.audit-report", key) in audit_actions(school, store_key)
    assert str(out) in viewer.status.text()


def test_report_needs_a_student_key(viewer: AuditViewer) -> None:
    viewer.student.clear()
    assert not viewer.report_button.isEnabled() and not viewer.pdf_button.isEnabled()
    viewer.print_student_report()  # a stray shortcut: says what to do, opens nothing
    assert "Type the student's key" in viewer.status.text()


def test_excel_export_writes_the_rows(
    viewer: AuditViewer, hg_teacher, admin, monkeypatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    key = _viewed_key(hg_teacher)
    out = tmp_path / "access.xlsx"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), ""))
    )
    viewer.student.setText(key)
    expected = audit.entries(admin, student=key)
    viewer.excel_button.click()
    book = load_workbook(out, read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    book.close()  # a read-only workbook keeps its file open until closed
    assert rows[0][:4] == ("entry", "when (UTC)", "user", "action")
    assert len(rows) - 1 == len(expected)
    assert any(r[2] == HGT and r[3] == "student.viewed" and r[5] == key for r in rows[1:])
    assert f"Saved who accessed {key} ({len(expected)} entries)" in viewer.status.text()
    # the export itself is logged and shown
    assert viewer.model.row_at(0).action == "export.audit"


def test_detail_is_described_in_words() -> None:
    policy = load_policy()
    assert describe_detail(
        '{"item": "home_group", "new": "narrowed", "old": "allowed"}', policy
    ) == ("Home Group; allowed → narrowed")
    text = describe_detail(
        '{"new": 85.0, "old": 90.0, "reason": "Agreed", "setting": "attendance_rate_below"}', policy
    )
    assert text == "Low attendance: attendance rate below (%); 90 → 85; why: “Agreed”"
    assert (
        describe_detail('{"fields": ["student_key", "surname", "home_group"]}', policy)
        == "items: Student name, Home Group"
    )
    assert (
        describe_detail('{"keys_sha256": "ab", "rows": 3, "student_keys": ["A", "B", "C"]}', policy)
        == "3 rows; 3 students"
    )
    assert describe_detail("{}", policy) == ""


# -- the Administration page for principal class ---------------------------------------------------


def test_principal_reads_the_log_policy_and_rules_but_changes_nothing(qtbot, principal) -> None:  # type: ignore[no-untyped-def]
    page = AdminPage(principal)
    qtbot.addWidget(page)
    assert page.model is None and not hasattr(page, "table")
    assert page.tabs is not None
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "Audit log",
        "Who may see what",
        "Risk rules",
        "Records",
    ]
    assert page.overrides is None
    assert not page.policy_grid.editable  # type: ignore[union-attr]
    assert page.rules_page.change_button.isHidden()  # type: ignore[union-attr]
    assert page.audit_viewer.model.rowCount() > 0  # type: ignore[union-attr]
    page.audit_viewer.verify_button.click()  # type: ignore[union-attr]
    assert "intact" in page.audit_viewer.status.text()  # type: ignore[union-attr]
    assert page.audit_viewer.user.count() == 0  # type: ignore[union-attr]  # no account list: types a name
