"""The review screen (Students page) over a real encrypted store with an imported demo school:
the table model, each filter, filters remembered per user, what a home group teacher sees, and
print/PDF/Excel of exactly the filtered view, audit-logged."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QFileDialog

from mapping_tool.security.roles import Role
from mapping_tool.services import auth, flags, students
from mapping_tool.ui.pages.students import (
    DEFAULT_COLUMNS,
    NO,
    YES,
    ReviewFilter,
    StudentsPage,
    effective_tier,
)
from tests.support import CUSTODIAN, HGT, WELFARE
from tests.ui.conftest import open_session
from tests.ui.review_school import audit_details, build_school, copy_school, set_surname


@pytest.fixture(scope="module")
def school(template_store: Path, store_key: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_school(template_store, store_key, tmp_path_factory)


@pytest.fixture
def school_dir(school: Path, tmp_path: Path) -> Path:
    return copy_school(school, tmp_path)


def _session(store_dir: Path, key: bytes, username: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    user = open_session(store_dir, key, username)
    request.addfinalizer(lambda: auth.sign_out(user))
    return user


@pytest.fixture
def welfare(school_dir: Path, store_key: bytes, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return _session(school_dir, store_key, WELFARE, request)


def _opened(qtbot, session) -> StudentsPage:  # type: ignore[no-untyped-def]
    page = StudentsPage(session)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.resize(1300, 700)
        page.show()
    return page


def _reference(session) -> tuple[tuple[str, ...], list[tuple]]:  # type: ignore[no-untyped-def, type-arg]
    """The current students (the page's default; those who have left: tests/ui/test_one_count.py)."""
    table = students.list_students(session, audit=False)
    tier = table.columns.index("tier")
    return table.columns, [r for r in table.rows if r[tier] is not None]


def _keys(page: StudentsPage) -> set[str]:
    return {page.model.key_at(r) for r in range(page.model.rowCount())}  # type: ignore[misc]


# -- the model --------------------------------------------------------------------------------


def test_model_passes_the_model_tester_loaded_filtered_and_sorted(qtbot, qtmodeltester, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    assert page.model.rowCount() == len(_reference(welfare)[1]) > 50
    qtmodeltester.check(page.model)
    page.set_filter_state(ReviewFilter(tier="flagged"))
    page.table.sortByColumn(page.model.column_index("attendance_rate"), Qt.SortOrder.AscendingOrder)
    qtmodeltester.check(page.model)
    rates = [page.model.row_values(r)["attendance_rate"] for r in range(page.model.rowCount())]
    numbers = [r for r in rates if r is not None]
    assert numbers == sorted(numbers)


def test_table_loads_off_the_ui_thread(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = StudentsPage(welfare)
    qtbot.addWidget(page)
    assert page.model.total() == 0  # the constructor returned before the service answered
    assert page.count.text() == "Loading students…"
    with qtbot.waitSignal(page.loaded, timeout=10000):
        pass
    assert page.model.total() == len(students.list_students(welfare, audit=False).rows)


def test_usual_columns_are_shown_and_the_columns_menu_offers_the_rest(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    shown = page.shown_columns()
    assert set(shown) == DEFAULT_COLUMNS & set(page.model.columns)
    assert shown[:2] == ["surname", "first_name"]
    assert "birth_date" not in page.model.columns  # welfare may not see it: absent, not hidden
    offered = {a.text() for a in page.columns_menu.actions()}
    assert "Attendance change" in offered and "Preferred name" in offered
    page.column_actions["house"].setChecked(True)
    assert "house" in page.shown_columns()
    page.column_actions["student_key"].setChecked(False)
    assert "student_key" not in page.shown_columns()
    page.reset_columns()
    assert set(page.shown_columns()) == DEFAULT_COLUMNS & set(page.model.columns)


def test_flag_cells_show_a_mark_and_the_word(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    page.include_left.setChecked(True)
    col = page.model.column_index("flag_low_attendance")
    # students outside the latest extract's population (left last year) have no flags: blank
    assessed = [r for r in range(page.model.rowCount()) if page.model.row_values(r)["tier"] is not None]
    assert 0 < len(assessed) < page.model.rowCount()
    texts = {page.model.data(page.model.index(r, col)) for r in assessed}
    assert {YES, NO} <= {t.replace(" ★", "") for t in texts}
    assert texts <= {YES, NO, f"{YES} ★"}
    for r in assessed:
        text = page.model.data(page.model.index(r, col), Qt.ItemDataRole.AccessibleTextRole)
        assert text in ("yes", "no", "yes, new since the last refresh")
    assert page.model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == "Low attendance"


# -- filters ----------------------------------------------------------------------------------


def test_filter_by_year_level(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    cols, rows = _reference(welfare)
    page.year.setCurrentIndex(page.year.findData("08"))
    expected = {r[cols.index("student_key")] for r in rows if r[cols.index("year_level")] == "08"}
    assert expected and _keys(page) == expected
    assert page.count.text() == f"{len(expected)} of {len(rows)} current students"


def test_filter_by_home_group(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    cols, rows = _reference(welfare)
    page.group.setCurrentIndex(page.group.findData("07A"))
    expected = {r[cols.index("student_key")] for r in rows if r[cols.index("home_group")] == "07A"}
    assert expected and _keys(page) == expected


def test_filter_by_any_chosen_flag(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    cols, rows = _reference(welfare)
    page.flag_actions["flag_suspension"].setChecked(True)
    susp = {r[0] for r in rows if r[cols.index("flag_suspension")]}
    assert susp and _keys(page) == susp
    assert page.flags_button.text() == "F&lags: Suspension"
    page.flag_actions["flag_below_expected_maths"].trigger()  # the menu's own action, as a click does
    either = {r[0] for r in rows if r[cols.index("flag_suspension")] or r[cols.index("flag_below_expected_maths")]}
    assert _keys(page) == either and len(either) > len(susp)
    assert page.flags_button.text() == "F&lags: any of 2"


def test_filter_by_minimum_flag_count(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    cols, rows = _reference(welfare)
    page.min_flags.setValue(2)
    expected = {r[0] for r in rows if (r[cols.index("flag_count")] or 0) >= 2}
    assert expected and _keys(page) == expected
    page.min_flags.setValue(0)
    assert page.model.rowCount() == len(rows)
    assert page.min_flags.text() == "any"


def test_filter_by_tier_counts_an_override(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    cols, rows = _reference(welfare)
    monitor = next(r[0] for r in rows if r[cols.index("tier")] == "monitor")
    flags.override_tier(welfare, monitor, "priority", "Discussed at the wellbeing meeting")
    page = _opened(qtbot, welfare)
    page.tier.setCurrentIndex(page.tier.findData("priority"))
    expected = {r[0] for r in rows if r[cols.index("tier")] == "priority"} | {monitor}
    assert _keys(page) == expected
    page.tier.setCurrentIndex(page.tier.findData("flagged"))
    assert _keys(page) == {r[0] for r in rows if r[cols.index("tier")] in ("monitor", "priority")}
    page.tier.setCurrentIndex(page.tier.findData("none"))
    assert _keys(page) == {r[0] for r in rows if r[cols.index("tier")] == "none"}


def test_filter_new_since_last_refresh(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    cols, rows = _reference(welfare)
    page.new_only.setChecked(True)
    expected = {r[0] for r in rows if r[cols.index("new_flags")]}
    assert expected and _keys(page) == expected
    col = page.model.column_index("new_flags")
    assert all(page.model.data(page.model.index(r, col)).startswith("★") for r in range(page.model.rowCount()))


def test_filter_by_name_search_is_debounced(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    cols, rows = _reference(welfare)
    surname = rows[3][cols.index("surname")]
    qtbot.keyClicks(page.search, surname.lower()[:4])
    assert page.model.rowCount() == len(rows)  # not yet: the search waits for typing to pause
    qtbot.waitUntil(lambda: page.model.rowCount() < len(rows), timeout=2000)
    expected = {r[0] for r in rows if surname.lower()[:4] in " ".join(str(r[cols.index(c)]) for c in ("student_key", "surname", "first_name", "preferred_name")).lower()}
    assert _keys(page) == expected


def test_filters_combine_and_clear(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    cols, rows = _reference(welfare)
    page.set_filter_state(ReviewFilter(year_level="09", min_flags=1))
    expected = {r[0] for r in rows if r[cols.index("year_level")] == "09" and (r[cols.index("flag_count")] or 0) >= 1}
    assert _keys(page) == expected
    qtbot.mouseClick(page.clear_button, Qt.MouseButton.LeftButton)
    assert page.model.rowCount() == len(rows)
    assert page.current_filter() == ReviewFilter()


def test_filters_are_remembered_per_user(qtbot, school_dir: Path, store_key: bytes, request) -> None:  # type: ignore[no-untyped-def]
    welfare = _session(school_dir, store_key, WELFARE, request)
    page = _opened(qtbot, welfare)
    page.year.setCurrentIndex(page.year.findData("07"))
    page.flag_actions["flag_low_attendance"].setChecked(True)
    page.new_only.setChecked(True)
    page.column_actions["house"].setChecked(True)
    wanted = page.current_filter()
    shown = page.model.rowCount()
    page.close()
    page.deleteLater()

    again = _opened(qtbot, welfare)  # the same user opens the page again
    assert again.current_filter() == wanted
    assert again.model.rowCount() == shown
    assert "house" in again.shown_columns()

    other = _session(school_dir, store_key, CUSTODIAN, request)
    theirs = _opened(qtbot, other)
    assert theirs.current_filter() == ReviewFilter()  # not shared with another user
    assert "house" not in theirs.shown_columns()


def test_a_damaged_saved_filter_gives_the_defaults() -> None:
    assert ReviewFilter.from_json("{not json") == ReviewFilter()
    assert ReviewFilter.from_json('{"flags": ["flag_bogus", "flag_suspension"], "min_flags": "x", "tier": "gold"}') == ReviewFilter(
        flags=("flag_suspension",)
    )


# -- what each role sees -----------------------------------------------------------------------


def test_home_group_teacher_sees_only_their_home_group_and_no_hidden_columns(qtbot, school_dir: Path, store_key: bytes, request) -> None:  # type: ignore[no-untyped-def]
    custodian = _session(school_dir, store_key, CUSTODIAN, request)
    # the custodian narrows the teacher's access (need to know): these items must vanish
    students.set_narrowing(custodian, Role.HOME_GROUP_TEACHER, "occupation_of_parents", False)
    students.set_narrowing(custodian, Role.HOME_GROUP_TEACHER, "attendance_rate", False)
    teacher = _session(school_dir, store_key, HGT, request)
    page = _opened(qtbot, teacher)
    page.include_left.setChecked(True)  # the scope holds those who have left too
    assert page.model.columns == students.visible_fields(teacher, page.model.columns)
    for hidden in ("parent_occupation_group", "attendance_rate", "attendance_rate_change", "birth_date", "vsn"):
        assert hidden not in page.model.columns
        assert hidden not in page.column_actions
    groups = {page.model.row_values(r)["home_group"] for r in range(page.model.rowCount())}
    assert groups == {"07A"}
    with teacher.store.read() as s:  # the scope, checked straight against the store
        in_07a = {r[0] for r in s.connection().connection.driver_connection.execute(
            "SELECT student_key FROM student WHERE home_group = '07A'")}
    assert _keys(page) == in_07a
    assert page.group.count() == 2  # "All home groups" and 07A: no hint of other groups
    for hidden in ("attendance_rate", "parent_occupation_group"):  # nor in a printout, whatever is shown
        page.set_column_shown(hidden, True)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", page.print_html())
    assert "Attend. %" not in headers and "Parent occupation" not in headers
    assert "Low attend." not in headers  # the flag goes with its input (issue 11, item 2)


def test_tier_cell_shows_the_override_beside_the_computed_tier(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    cols, rows = _reference(welfare)
    monitor = next(r[0] for r in rows if r[cols.index("tier")] == "monitor")
    flags.override_tier(welfare, monitor, "priority", "Known to the welfare team")
    page = _opened(qtbot, welfare)
    row = page.model.row_of_key(monitor)
    text = page.model.data(page.model.index(row, page.model.column_index("tier")))
    assert text == "Monitor → Priority (override)"
    assert effective_tier("monitor", "priority") == "priority"
    page.table.sortByColumn(page.model.column_index("tier"), Qt.SortOrder.DescendingOrder)
    tiers = [effective_tier(page.model.row_values(r)["tier"], page.model.row_values(r)["tier_override"]) for r in range(page.model.rowCount())]
    ranks = [{"priority": 2, "monitor": 1, "none": 0}.get(t, -1) for t in tiers]
    assert ranks == sorted(ranks, reverse=True)


def test_enter_on_a_row_opens_the_student_panel(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    key = page.model.key_at(5)
    page.table.setFocus()
    page.table.setCurrentIndex(page.model.index(5, 0))
    with qtbot.waitSignal(page.panel.shown, timeout=10000) as shown:
        qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert shown.args == [key]
    assert page.panel.isVisible()
    qtbot.keyClick(page.panel.scroll, Qt.Key.Key_Escape)
    assert not page.panel.isVisible()


# -- print and export ---------------------------------------------------------------------------


def _save_to(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))


def test_excel_export_holds_only_the_filtered_rows_and_shown_columns(qtbot, monkeypatch, school_dir: Path, store_key: bytes, request, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    welfare = _session(school_dir, store_key, WELFARE, request)
    cols, rows = _reference(welfare)
    victim = next(r for r in rows if r[cols.index("year_level")] == "09" and r[cols.index("flag_count")])
    set_surname(school_dir, store_key, victim[0], "=HYPERLINK(\"http://x\",\"y\")")
    page = _opened(qtbot, welfare)
    page.set_filter_state(ReviewFilter(year_level="09", min_flags=1))
    page.column_actions["student_key"].setChecked(False)
    page.column_actions["house"].setChecked(True)
    out = tmp_path / "view.xlsx"
    _save_to(monkeypatch, out)
    with qtbot.waitSignal(page.exported, timeout=10000):
        qtbot.mouseClick(page.excel_button, Qt.MouseButton.LeftButton)
    sheet = load_workbook(out).active
    data = [[c.value for c in row] for row in sheet.iter_rows()]
    # a title and what the list is, Confidential, a blank row, then the frozen, filtered header
    assert data[0][0] == "Students for review"
    assert any(str(r[0] or "").startswith("Confidential") for r in data[1:4])
    header_at = next(i for i, r in enumerate(data) if r[0] in ("Surname", "First name"))
    assert sheet.freeze_panes == f"A{header_at + 2}"
    assert sheet.auto_filter.ref.startswith(f"A{header_at + 1}:")
    header, body = data[header_at], data[header_at + 1:]
    shown = page.shown_columns()
    expected_cols = shown[: shown.index("tier") + 1] + ["tier_override"] + shown[shown.index("tier") + 1 :]
    assert header == [page.model.titles[c].replace("\n", " ") for c in expected_cols]
    assert "Key" not in header and "House" in header
    assert len(body) == page.model.rowCount() == len([r for r in rows if r[cols.index("year_level")] == "09" and (r[cols.index("flag_count")] or 0) >= 1])
    low = header.index("Low attendance")
    assert {r[low] for r in body} <= {"yes", "no"}
    cell = next(c for row in sheet.iter_rows() for c in row if c.value == "=HYPERLINK(\"http://x\",\"y\")")
    assert cell.data_type == "s"  # text, never a formula
    detail = audit_details(school_dir, store_key, "export.students-view")[-1]
    assert detail["columns"] == expected_cols
    assert detail["rows"] == len(body)
    assert set(detail["student_keys"]) == _keys(page)
    assert detail["format"] == "xlsx"
    assert "=HYPERLINK" not in str(detail)  # ids only in the audit log, no names


def test_save_as_pdf_writes_the_list_and_records_it(qtbot, monkeypatch, school_dir: Path, store_key: bytes, request, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    welfare = _session(school_dir, store_key, WELFARE, request)
    page = _opened(qtbot, welfare)
    page.set_filter_state(ReviewFilter(tier="flagged"))
    out = tmp_path / "list.pdf"
    _save_to(monkeypatch, out)
    with qtbot.waitSignal(page.exported, timeout=20000):
        qtbot.mouseClick(page.pdf_button, Qt.MouseButton.LeftButton)
    assert out.read_bytes()[:5] == b"%PDF-"
    detail = audit_details(school_dir, store_key, "print.students")[-1]
    assert detail["to"] == "pdf" and detail["rows"] == page.model.rowCount()
    assert set(detail["student_keys"]) == _keys(page)
    assert detail["filter"] == "current students; tier monitor or priority"
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(out), str(tmp_path / "page1")], check=True)
        assert (tmp_path / "page1.png").stat().st_size > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-l", "1", str(out), "-"], capture_output=True, text=True, check=True).stdout
        first = page.model.row_values(0)
        assert "Students for review" in text and first["student_key"] in text
        assert "Showing: current students; tier monitor or priority" in text


def test_print_goes_through_the_preview_and_is_recorded_only_when_printed(qtbot, monkeypatch, school_dir: Path, store_key: bytes, request, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog

    welfare = _session(school_dir, store_key, WELFARE, request)
    page = _opened(qtbot, welfare)
    page.set_filter_state(ReviewFilter(year_level="10"))
    painted: list[Path] = []

    def preview(accept: bool):  # type: ignore[no-untyped-def]
        def run(dialog) -> int:  # type: ignore[no-untyped-def]
            printer = QPrinter(QPrinter.PrinterMode.HighResolution)
            printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
            path = tmp_path / f"preview-{len(painted)}.pdf"
            printer.setOutputFileName(str(path))
            dialog.paintRequested.emit(printer)  # what the preview does to draw its pages
            painted.append(path)
            return QDialog.DialogCode.Accepted if accept else QDialog.DialogCode.Rejected

        return run

    monkeypatch.setattr(QPrintPreviewDialog, "exec", preview(False))
    page.print_list()
    assert painted and painted[0].stat().st_size > 1000
    assert audit_details(school_dir, store_key, "print.students") == []  # closed without printing
    monkeypatch.setattr(QPrintPreviewDialog, "exec", preview(True))
    with qtbot.waitSignal(page.printed, timeout=5000):
        page.print_list()
    detail = audit_details(school_dir, store_key, "print.students")[-1]
    assert detail["to"] == "printer" and detail["rows"] == page.model.rowCount()
    assert set(detail["student_keys"]) == _keys(page)


def test_nothing_to_print_or_export_says_so(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    page = _opened(qtbot, welfare)
    page.search.setText("no such student anywhere")
    page.apply_filter()
    assert page.model.rowCount() == 0
    page.export_excel()  # no file dialog: it would fail the test (conftest)
    assert "no students" in page.message.text()


def test_review_inputs_are_named(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.test_accessibility import unnamed_inputs

    page = _opened(qtbot, welfare)
    assert unnamed_inputs(page) == []
    assert page.table.accessibleName() == "Students"


def test_an_empty_store_says_where_the_students_come_from(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    page = StudentsPage(custodian)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.show()
    assert page.model.rowCount() == 0
    assert page.message.isVisibleTo(page) and "Imports page" in page.message.text()
