"""The Interventions screens over a real store with an imported demo school: the catalogue and
capacity view, "Add to intervention" from the Students page, a programme's evaluation (both
figures, the chart, every warning, PDF and Excel), the grid, the student panel's interventions,
and meeting mode (keyboard, decisions, the recap)."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QThreadPool
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from mapping_tool.services import auth, students
from mapping_tool.services import interventions as iv
from mapping_tool.ui.pages.intervention_widgets import (
    AssignDialog,
    EndDialog,
    ProgrammeDialog,
    change,
)
from mapping_tool.ui.pages.interventions import InterventionsPage
from tests.support import HGT, WELFARE
from tests.ui.conftest import open_session
from tests.ui.helpers import audit_actions
from tests.ui.review_school import build_school, copy_school
from tests.ui.test_accessibility import unnamed_inputs

START = date(2026, 7, 20)
MENTORING = "Attendance mentoring"


@pytest.fixture(scope="module")
def school(template_store: Path, store_key: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_school(template_store, store_key, tmp_path_factory)


@pytest.fixture
def school_dir(school: Path, tmp_path: Path) -> Path:
    return copy_school(school, tmp_path)


@pytest.fixture
def login(school_dir: Path, store_key: bytes, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    def sign_in(username: str):  # type: ignore[no-untyped-def]
        user = open_session(school_dir, store_key, username)
        request.addfinalizer(lambda: auth.sign_out(user))
        return user

    return sign_in


def settle(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Until the worker jobs and the jobs they start have delivered."""
    pool = QThreadPool.globalInstance()
    for _ in range(6):
        qtbot.waitUntil(lambda: pool.activeThreadCount() == 0, timeout=20000)
        qtbot.wait(15)


def _lowest_attendance(user, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    table = students.list_students(user, audit=False)
    rows = [dict(zip(table.columns, r, strict=True)) for r in table.rows]
    rows = [r for r in rows if r.get("attendance_rate") is not None]
    return [r["student_key"] for r in sorted(rows, key=lambda r: (r["attendance_rate"], r["student_key"]))[:n]]


@pytest.fixture
def mapped(login):  # type: ignore[no-untyped-def]
    """Welfare signed in; the starter catalogue; 12 low-attendance students in attendance mentoring."""
    welfare = login(WELFARE)
    iv.load_starter_catalogue(welfare)
    keys = _lowest_attendance(welfare, 12)
    iv.assign(welfare, MENTORING, keys, start=START, review=date(2026, 9, 14), goal_target=90)
    return welfare, keys


def _page(qtbot, user, tab: int = 0) -> InterventionsPage:  # type: ignore[no-untyped-def]
    page = InterventionsPage(user)
    qtbot.addWidget(page)
    page.resize(1024 - 200, 700)
    page.show()
    qtbot.waitUntil(lambda: bool(page.tabs_list), timeout=5000)  # the tabs are built just after showing
    qtbot.waitUntil(lambda: page.catalogue.job is not None, timeout=5000)  # and fetch once it stayed shown
    page.tabs.setCurrentIndex(tab)
    settle(qtbot)
    return page


def _texts(model) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return [list(r) for r in model.text_rows()]


def test_catalogue_starter_set_add_edit_and_retire_with_capacity(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    page = _page(qtbot, welfare)
    cat = page.catalogue
    assert "No programmes yet" in cat.message.text()
    cat.add_starter()
    settle(qtbot)
    names = [p.name for p in iv.list_programmes(welfare)]
    assert [r[0] for r in _texts(cat.model)] == names and len(names) >= 5
    # the capacity view: seats, taking part, free seats and flagged demand as the service counts them
    capacity = {c.programme: c for c in iv.capacity(welfare)}
    for row in _texts(cat.model):
        c = capacity[row[0]]
        assert row[2] == str(c.participants) and row[4] == str(c.demand)
        assert row[3] == ("" if c.free_seats is None else str(c.free_seats))
    # add a programme through its dialog
    cat.add_programme()
    dialog = cat.dialog
    assert isinstance(dialog, ProgrammeDialog) and dialog.isVisible()
    dialog.name.setText("Breakfast club")
    dialog.measure.setCurrentIndex(dialog.measure.findData("attendance_rate"))
    dialog.capacity.setValue(12)
    dialog.submit()
    settle(qtbot)
    assert not dialog.isVisible()
    row = next(r for r in _texts(cat.model) if r[0] == "Breakfast club")
    assert row[1] == "12"
    # a duplicate name: the service's sentence in the dialog, which stays open; nothing added
    before = len(iv.list_programmes(welfare))
    cat.add_programme()
    dup = cat.dialog
    dup.name.setText("breakfast CLUB")
    dup.submit()
    settle(qtbot)
    assert dup.isVisible() and dup.message.isVisible() and dup.message.text().strip()
    assert len(iv.list_programmes(welfare)) == before
    dup.reject()
    # change it: a new version
    cat.table.setCurrentIndex(cat.model.index([r[0] for r in _texts(cat.model)].index("Breakfast club"), 0))
    cat.edit_programme()
    edit = cat.dialog
    assert edit.name.text() == "Breakfast club" and edit.capacity.value() == 12
    edit.capacity.setValue(15)
    edit.submit()
    settle(qtbot)
    assert next(r for r in _texts(cat.model) if r[0] == "Breakfast club")[1] == "15"
    assert iv.get_programme(welfare, "Breakfast club").version == 2
    # a programme with participants is retired, not deleted; "Show retired" shows it
    iv.assign(welfare, "Breakfast club", _lowest_attendance(welfare, 1), start=START)
    page.data_changed()
    settle(qtbot)
    cat.table.setCurrentIndex(cat.model.index([r[0] for r in _texts(cat.model)].index("Breakfast club"), 0))
    settle(qtbot)
    assert len(cat.participants) == 1 and cat.part_model.rowCount() == 1
    cat.retire()
    settle(qtbot)
    assert "retired" in cat.message.text()
    assert "Breakfast club" not in [r[0] for r in _texts(cat.model)]
    cat.show_retired.setChecked(True)
    settle(qtbot)
    assert next(r for r in _texts(cat.model) if r[0] == "Breakfast club")[-1] == "Retired"


def test_a_teacher_sees_the_catalogue_without_editing_controls(qtbot, mapped, login) -> None:  # type: ignore[no-untyped-def]
    teacher = login(HGT)
    page = _page(qtbot, teacher)
    cat = page.catalogue
    assert cat.model.rowCount() == len(iv.list_programmes(teacher)) > 0
    for b in (cat.add_button, cat.edit_button, cat.retire_button, cat.starter_button):
        assert not b.isVisible()


def test_add_to_intervention_from_a_filtered_list(qtbot, mapped) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.students import StudentsPage

    welfare, taken = mapped
    page = StudentsPage(welfare)
    qtbot.addWidget(page)
    page.show()
    settle(qtbot)
    # nothing selected: a sentence, no dialog
    page.table.clearSelection()
    page.add_to_intervention()
    assert "Select the students first" in page.message.text()
    free = [r for r in range(page.model.rowCount()) if page.model.key_at(r) not in taken][:3]
    selection = page.table.selectionModel()
    for r in free:
        selection.select(page.model.index(r, 0), QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    keys = [page.model.key_at(r) for r in free]
    assert [k for k, _ in page.selected_students()] == keys
    page.add_to_intervention()
    dialog = page.assign_dialog
    settle(qtbot)
    assert isinstance(dialog, AssignDialog) and dialog.ok.isEnabled()
    dialog.choose("Peer mentoring")
    dialog.submit()
    settle(qtbot)
    assert not dialog.isVisible()
    assert {m.student_key for m in iv.list_mappings(welfare, programme="Peer mentoring")} == set(keys)
    assert page.message.text() == "Added 3 students to Peer mentoring."
    # again: a duplicate current mapping is refused in the dialog and nothing changes (all or nothing)
    page.add_to_intervention()
    again = page.assign_dialog
    settle(qtbot)
    again.choose("Peer mentoring")
    again.submit()
    settle(qtbot)
    assert again.isVisible() and again.message.text().strip() and again.message.text() != "Saving…"
    assert len(iv.list_mappings(welfare, programme="Peer mentoring")) == 3
    again.reject()


def test_evaluation_shows_change_beside_difference_chart_warnings_and_saves(qtbot, mapped, school_dir: Path,
                                                                             store_key: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    welfare, _keys = mapped
    page = _page(qtbot, welfare, tab=1)
    ev = page.evaluation
    names = [ev.list.item(i).text() for i in range(ev.list.count())]
    expected = {e.intervention: e for e in iv.evaluate(welfare)}
    assert names == list(expected)
    ev.list.setCurrentRow(names.index(MENTORING))
    settle(qtbot)
    e = expected[MENTORING]
    assert e.measured > 0 and not e.figures_hidden
    # the naive change and the difference side by side; the difference is the one to read
    assert change(e.change, e.measure) in ev.figure_labels["change"].text()
    assert change(e.difference, e.measure) in ev.figure_labels["difference"].text()
    labels = " ".join(lab.text() for lab in ev.body.findChildren(QLabel))
    assert "read this one" in labels
    # every warning in words beside the chart, never hidden; the chart says its figures
    assert [lab.text() for lab in ev.warning_labels] == [f"⚠ {w}" for w in e.warnings]
    assert any("does not prove" in w for w in e.warnings)
    assert all(lab.isVisible() for lab in ev.warning_labels)
    assert f"{e.before_mean:.1f}" in ev.chart.accessibleDescription()
    # each student the user may see, with "yes"/"no" for the goal for screen readers
    assert ev.student_model.rowCount() == len(iv.evaluate_students(welfare, programme=MENTORING))
    met = [r for r in ev.students if r.goal_met is not None]
    if met:
        row = ev.students.index(met[0])
        spoken = ev.student_model.data(ev.student_model.index(row, 9), Qt.ItemDataRole.AccessibleTextRole)
        assert spoken in ("yes", "no")
    # PDF and Excel of the evaluation
    pdf = tmp_path / "evaluation.pdf"
    with qtbot.waitSignal(ev.exported, timeout=20000):
        ev.save_pdf(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")
    assert (WELFARE, "print.interventions-evaluation", "evaluation.pdf") in audit_actions(school_dir, store_key)
    xlsx = tmp_path / "evaluation.xlsx"
    with qtbot.waitSignal(ev.exported, timeout=20000):
        ev.export_excel(xlsx)
    assert xlsx.exists() and (tmp_path / "evaluation-students.xlsx").exists()
    # an existing file is not replaced silently by a second save with no dialog: it asks (the
    # save dialog), and a path inside the store folder is refused with one sentence
    inside = school_dir / "evaluation.pdf"
    ev.save_pdf(inside)
    settle(qtbot)
    assert "store folder" in ev.message.text() and not inside.exists()


def test_the_grid_marks_filters_and_prints(qtbot, mapped, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    welfare, keys = mapped
    page = _page(qtbot, welfare, tab=2)
    grid = page.grid
    assert not grid.table.tabKeyNavigation()
    view = iv.grid(welfare)
    column = 4 + list(view.programmes).index(MENTORING)
    shown = {r.student_key for r in grid.rows}
    assert set(keys) <= shown
    model = grid.model
    row = [r.student_key for r in grid.rows].index(keys[0])
    assert model.data(model.index(row, column), Qt.ItemDataRole.AccessibleTextRole) == "yes, active"
    other = column + 1 if column + 1 < model.columnCount() else column - 1
    assert model.data(model.index(row, other), Qt.ItemDataRole.AccessibleTextRole) == "no"
    # filter by programme, then by year level
    grid.programme.setCurrentIndex(grid.programme.findData(MENTORING))
    assert {r.student_key for r in grid.rows} == set(keys)
    year = grid.rows[0].year_level
    grid.year.setCurrentIndex(grid.year.findData(year))
    assert all(r.year_level == year for r in grid.rows) and grid.rows
    assert f"year {year}" in grid.describe()
    # map from the grid: everyone in scope, two selected rows, the filtered programme preselected
    grid.year.setCurrentIndex(0)
    grid.only_in.setChecked(False)
    grid.programme.setCurrentIndex(0)
    free = [i for i, r in enumerate(grid.rows) if r.student_key not in keys][:2]
    for i in free:
        grid.table.selectionModel().select(model.index(i, 0), QItemSelectionModel.SelectionFlag.Select
                                           | QItemSelectionModel.SelectionFlag.Rows)
    chosen = [grid.rows[i].student_key for i in free]
    grid.add_selected()
    settle(qtbot)
    grid.dialog.choose("Navigator referral")
    grid.dialog.submit()
    settle(qtbot)
    assert grid.message.text() == "Added 2 students to Navigator referral."
    assert {m.student_key for m in iv.list_mappings(welfare, programme="Navigator referral")} == set(chosen)
    navigator = 4 + list(grid.view.programmes).index("Navigator referral")
    marks = {r.student_key: r.marks[navigator - 4] for r in grid.view.rows}
    assert all(marks[k] for k in chosen)  # the grid reloaded with the new marks
    grid.programme.setCurrentIndex(grid.programme.findData(MENTORING))
    grid.year.setCurrentIndex(grid.year.findData(year))
    html = grid.print_html()
    assert MENTORING in html and "✔ active" in html
    pdf = tmp_path / "grid.pdf"
    with qtbot.waitSignal(grid.exported, timeout=20000):
        grid.save_pdf(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_student_panel_lists_interventions_and_ends_one(qtbot, mapped) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.student_panel import StudentPanel

    welfare, keys = mapped
    panel = StudentPanel(welfare)
    qtbot.addWidget(panel)
    panel.resize(560, 900)
    panel.show()
    with qtbot.waitSignal(panel.shown, timeout=10000):
        panel.show_student(keys[0])
    text = " ".join(lab.text() for lab in panel.intervention_labels)
    assert MENTORING in text and "Active since 20/07/2026" in text and "review 14/09/2026" in text
    assert "Goal: " in text
    assert len(panel.end_buttons) == 1
    panel.end_buttons[0].click()
    dialog = panel.dialog
    assert isinstance(dialog, EndDialog)
    dialog.status.setCurrentIndex(dialog.status.findData("withdrawn"))
    dialog.submit()  # no reason: refused in the dialog, before the service
    assert dialog.message.text() == "Give the reason the student was withdrawn."
    dialog.reason.setText("Moved to a TAFE course")
    with qtbot.waitSignal(panel.shown, timeout=10000):
        dialog.submit()
    mapping = iv.list_mappings(welfare, student_key=keys[0])[0]
    assert mapping.status == "withdrawn" and mapping.reason == "Moved to a TAFE course"
    text = " ".join(lab.text() for lab in panel.intervention_labels)
    assert "Withdrawn" in text and "Moved to a TAFE course" in text
    assert panel.end_buttons == []


def test_meeting_mode_is_keyboard_first_and_prints_a_recap(qtbot, mapped, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    welfare, _keys = mapped
    page = _page(qtbot, welfare, tab=3)
    meeting = page.meeting
    assert meeting.items == iv.agenda(welfare) and meeting.items
    assert meeting.table.currentIndex().row() == 0 and not meeting.table.tabKeyNavigation()
    first = meeting.current()
    assert first.student_name in meeting.who.text()
    # "no action" needs a reason: one sentence, nothing recorded
    meeting.none_radio.setChecked(True)
    meeting.record()
    assert meeting.message.text() == "Give the reason for no action."
    assert iv.list_meetings(welfare) == []
    # Ctrl+Enter from the words field records and moves to the next student without a decision
    meeting.text.setText("Family already working with the wellbeing team")
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow, timeout=5000)  # shortcuts work in the active window
    meeting.table.setFocus()
    qtbot.keyClick(meeting.table, Qt.Key.Key_Return)  # Enter: to the decision
    assert meeting.none_radio.hasFocus()
    meeting.table.setFocus()
    qtbot.keyClick(meeting.table, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot)
    meetings = iv.list_meetings(welfare)
    assert len(meetings) == 1 and meeting.meeting_id == meetings[0].id
    recap = iv.recap(welfare, meeting.meeting_id)
    assert [(d.student_key, d.kind) for d in recap.decisions] == [(first.student_key, "no_action")]
    decided_row = [a.student_key for a in meeting.items].index(first.student_key)
    assert _texts(meeting.model)[decided_row][4] == "✔ yes"
    assert meeting.model.data(meeting.model.index(decided_row, 4), Qt.ItemDataRole.AccessibleTextRole) == "yes"
    assert meeting.current().student_key != first.student_key and not meeting.current().decided
    assert meeting.table.hasFocus()
    # map the next student to a programme without leaving the agenda
    second = meeting.current()
    meeting.map_radio.setChecked(True)
    meeting.programme.setCurrentIndex(meeting.programme.findData("Peer mentoring"))
    meeting.record()
    settle(qtbot)
    assert second.student_key in {m.student_key for m in iv.list_mappings(welfare, programme="Peer mentoring")}
    assert meeting.count.text() == f"2 of {len(meeting.items)} decided"
    # the recap: decisions and those still to decide
    html = meeting.recap_html()
    assert "No action" in html and "Peer mentoring" in html and "Still to decide" in html
    pdf = tmp_path / "recap.pdf"
    with qtbot.waitSignal(meeting.exported, timeout=20000):
        meeting.save_pdf(pdf)
    assert pdf.read_bytes().startswith(b"%PDF")


def _mnemonics(root: QWidget) -> list[str]:
    letters = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root):
            continue
        text = w.text() if isinstance(w, (QAbstractButton, QLabel)) else ""
        m = re.search(r"&([^&\s])", text.replace("&&", ""))
        if m:
            letters.append(m.group(1).lower())
    return letters


def test_inputs_are_named_and_mnemonics_unique(qtbot, mapped) -> None:  # type: ignore[no-untyped-def]
    welfare, keys = mapped
    page = _page(qtbot, welfare)
    tab_letters = [re.search(r"&(\w)", page.tabs.tabText(i)).group(1).lower() for i in range(page.tabs.count())]  # type: ignore[union-attr]
    for i in range(page.tabs.count()):
        page.tabs.setCurrentIndex(i)
        settle(qtbot)
        tab = page.tabs.widget(i)
        if tab is not page.catalogue:  # the catalogue has buttons and tables only
            assert unnamed_inputs(tab) == [], page.tabs.tabText(i)
        letters = _mnemonics(tab) + tab_letters + ["f", "h"]  # the File and Help menus
        assert len(letters) == len(set(letters)), (page.tabs.tabText(i), sorted(letters))
    from mapping_tool.ui.pages.intervention_widgets import MappingDialog, OutcomeDialog

    mapping = iv.list_mappings(welfare)[0]
    for dialog in (ProgrammeDialog(welfare), AssignDialog(welfare, [(keys[0], "A student")]), EndDialog(welfare, mapping),
                   MappingDialog(welfare, mapping), OutcomeDialog(welfare, mapping)):
        qtbot.addWidget(dialog)
        if isinstance(dialog, OutcomeDialog):  # one text box, named
            assert dialog.text.accessibleName() == "Outcome note"
        else:
            assert unnamed_inputs(dialog) == [], type(dialog).__name__
        letters = _mnemonics(dialog)
        assert len(letters) == len(set(letters)), type(dialog).__name__
    settle(qtbot)


def test_history_and_import_from_the_catalogue(qtbot, mapped, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    welfare, keys = mapped
    iv.update_programme(welfare, "Peer mentoring", capacity=12)
    page = _page(qtbot, welfare)
    cat = page.catalogue
    cat.table.setCurrentIndex(cat.model.index([r[0] for r in _texts(cat.model)].index("Peer mentoring"), 0))
    settle(qtbot)
    cat.show_history()
    settle(qtbot)
    assert cat.history.isVisible()
    assert "Version 1" in cat.history.text() and "Version 2" in cat.history.text() and "12" in cat.history.text()
    free = [k for k in _lowest_attendance(welfare, 20) if k not in keys][:2]
    # one bad row (an unknown programme): nothing imported, the report says which row and why
    bad = tmp_path / "bad.csv"
    bad.write_text(f"student key,programme,start,end,status\n{free[0]},Peer mentoring,03/08/2026,,active\n"
                   f"{free[1]},Chess club,03/08/2026,,active\n", encoding="utf-8")
    cat.import_mappings(bad)
    settle(qtbot)
    assert cat.message.text().startswith("Nothing was imported")
    assert cat.report_dialog is not None and cat.report_dialog.isVisible()
    assert "Row 3" in cat.report_text.toPlainText() and "Chess club" in cat.report_text.toPlainText()
    assert iv.list_mappings(welfare, programme="Peer mentoring") == []
    cat.report_dialog.reject()
    good = tmp_path / "good.csv"
    good.write_text(f"student key,programme,start,end,status\n{free[0]},Peer mentoring,03/08/2026,,active\n"
                    f"{free[1]},Peer mentoring,03/08/2026,,active\n", encoding="utf-8")
    cat.import_mappings(good)
    settle(qtbot)
    assert cat.message.text().startswith("Imported 2 mappings from good.csv")
    assert {m.student_key for m in iv.list_mappings(welfare, programme="Peer mentoring")} == set(free)
    assert next(r for r in _texts(cat.model) if r[0] == "Peer mentoring")[2] == "2"  # the catalogue reloaded


def test_an_outcome_note_from_the_student_panel(qtbot, mapped) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QDate

    from mapping_tool.services import notes
    from mapping_tool.ui.pages.intervention_widgets import MappingDialog, OutcomeDialog
    from mapping_tool.ui.pages.student_panel import StudentPanel

    welfare, keys = mapped
    panel = StudentPanel(welfare)
    qtbot.addWidget(panel)
    panel.show()
    with qtbot.waitSignal(panel.shown, timeout=10000):
        panel.show_student(keys[1])
    panel.outcome_buttons[0].click()
    dialog = panel.dialog
    assert isinstance(dialog, OutcomeDialog)
    dialog.submit()
    assert dialog.message.text() == "Write the note first."
    dialog.text.setPlainText("Attending every morning since the mentor started")
    with qtbot.waitSignal(panel.shown, timeout=10000):
        dialog.submit()
    texts = [n.display_text for n in notes.list_notes(welfare, keys[1])]
    assert any(MENTORING in t and "Attending every morning" in t for t in texts)
    assert any("Attending every morning" in lab.text() for lab in panel.note_labels)
    # change the review date and the goal: the panel shows them
    panel.change_buttons[0].click()
    change_dialog = panel.dialog
    assert isinstance(change_dialog, MappingDialog)
    change_dialog.submit()
    assert change_dialog.message.text() == "Nothing was changed."
    change_dialog.review.setDate(QDate(2026, 10, 12))
    change_dialog.goal.setValue(92)
    with qtbot.waitSignal(panel.shown, timeout=10000):
        change_dialog.submit()
    mapping = iv.list_mappings(welfare, student_key=keys[1])[0]
    assert mapping.review == date(2026, 10, 12) and mapping.goal_target == 92
    assert "review 12/10/2026" in " ".join(lab.text() for lab in panel.intervention_labels)


def test_a_teacher_sees_counts_not_figures_and_nothing_of_a_sensitive_programme(qtbot, mapped, login) -> None:  # type: ignore[no-untyped-def]
    welfare, keys = mapped
    table = students.list_students(welfare, audit=False)
    rows = [dict(zip(table.columns, r, strict=True)) for r in table.rows]
    in_07a = [r["student_key"] for r in rows if r.get("home_group") == "07A" and r["student_key"] not in keys]
    others = [r["student_key"] for r in rows if r.get("home_group") != "07A" and r["student_key"] not in keys]
    iv.assign(welfare, "Navigator referral", [in_07a[0], *others[:2]], start=START)
    iv.add_programme(welfare, "Family counselling", kind="wellbeing", measure="flag_count", sensitive=True)
    iv.assign(welfare, "Family counselling", [in_07a[1]], start=START)
    teacher = login(HGT)
    page = _page(qtbot, teacher)
    assert "Family counselling" not in [r[0] for r in _texts(page.catalogue.model)]
    page.tabs.setCurrentIndex(1)
    settle(qtbot)
    ev = page.evaluation
    names = [ev.list.item(i).text() for i in range(ev.list.count())]
    assert "Family counselling" not in names
    ev.list.setCurrentRow(names.index("Navigator referral"))
    settle(qtbot)
    e = next(x for x in iv.evaluate(teacher) if x.intervention == "Navigator referral")
    assert e.figures_hidden
    labels = " ".join(lab.text() for lab in ev.body.findChildren(QLabel))
    assert "figures are not shown to you" in labels and ev.chart is None and ev.figure_labels == {}
    assert [lab.text() for lab in ev.warning_labels] == [f"⚠ {w}" for w in e.warnings]  # warnings still shown
    page.tabs.setCurrentIndex(2)
    settle(qtbot)
    assert "Family counselling" not in page.grid.model.HEADERS


def test_the_custodian_keeps_a_new_window_as_the_school_setting(qtbot, mapped, login) -> None:  # type: ignore[no-untyped-def]
    from tests.support import CUSTODIAN

    custodian = login(CUSTODIAN)
    page = _page(qtbot, custodian, tab=1)
    ev = page.evaluation
    assert ev.weeks.value() == iv.evaluation_weeks(custodian) == 8
    assert ev.save_weeks.isVisible()
    ev.weeks.setValue(6)
    ev.save_weeks.setChecked(True)
    ev.recalculate()
    settle(qtbot)
    assert iv.evaluation_weeks(custodian) == 6
    assert {e.weeks for e in ev.evaluations} == {6}
    welfare, _keys = mapped
    other = _page(qtbot, welfare, tab=1)
    assert not other.evaluation.save_weeks.isVisible() and other.evaluation.weeks.value() == 6


def test_the_window_fits_a_1024_by_768_screen(qtbot, mapped) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.main_window import PAGE_INTERVENTIONS, PAGE_STUDENTS, MainWindow

    welfare, _keys = mapped
    window = MainWindow(welfare)
    qtbot.addWidget(window)
    window.show()
    page = window.show_page(PAGE_INTERVENTIONS)
    qtbot.waitUntil(lambda: bool(page.tabs_list) and page.catalogue.job is not None, timeout=5000)
    for i in range(page.tabs.count()):
        page.tabs.setCurrentIndex(i)
        settle(qtbot)
    window.show_page(PAGE_STUDENTS)
    settle(qtbot)
    hint = window.minimumSizeHint()
    assert hint.width() <= 1024 and hint.height() <= 768, hint
    window.idle.stop()
