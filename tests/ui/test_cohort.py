"""The Reports page: cohort counts of each flag and tier equal the service's, for the school and a
year level, for each role's scope; the capacity rule of thumb; the de-identified summary."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from mapping_tool.services import auth, flags
from mapping_tool.services.flags import Cohort
from mapping_tool.ui.main_window import MainWindow
from mapping_tool.ui.pages.cohort import CohortPage, capacity_text
from tests.support import HGT, WELFARE
from tests.ui.conftest import open_session
from tests.ui.review_school import audit_details, build_school, copy_school


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


def _page(qtbot, session) -> CohortPage:  # type: ignore[no-untyped-def]
    page = CohortPage(session)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.resize(1200, 800)
        page.show()
    return page


def _shown_figures(page: CohortPage) -> str:
    return page.figures.text()


def test_whole_school_counts_equal_the_service(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    page = _page(qtbot, welfare)
    expected = flags.cohort(welfare)
    assert page.cohort == expected and expected.students > 50
    assert f"{expected.students:,} current students" in page.total_label.text()
    figures = _shown_figures(page)
    for name, title in (("flag_low_attendance", "Low attendance"), ("flag_below_expected_maths", "Below expected Maths")):
        count = expected.flag_counts[name]
        assert f"<td>{title}</td><td align='right'>{count:,}</td><td align='right'>{expected.share(count):.1f} %</td>" in figures
        assert f"{title}: {count:,} ({expected.share(count):.1f} %)" in page.charts["flags"].accessibleDescription()
    for tier, title in (("priority", "Priority"), ("monitor", "Monitor"), ("none", "None")):
        count = expected.tier_counts[tier]
        assert f"{title}: {count:,} ({expected.share(count):.1f} %)" in page.charts["tiers"].accessibleDescription()
    assert sum(expected.tier_counts.values()) == expected.students


def test_a_year_level_counts_equal_the_service(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    page = _page(qtbot, welfare)
    assert [page.year.itemData(i) for i in range(page.year.count())] == [None, "07", "08", "09", "10", "11", "12"]
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.set_year_level("09")
    assert page.cohort == flags.cohort(welfare, year_level="09")
    assert page.year_level == "09"
    assert "(Year 9)" in page.total_label.text()
    assert page.cohort.students < flags.cohort(welfare).students


def test_a_home_group_teacher_counts_only_their_students(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    teacher = login(HGT)
    page = _page(qtbot, teacher)
    assert page.cohort == flags.cohort(teacher)
    assert page.cohort.students < flags.cohort(login(WELFARE)).students
    assert page.year.itemText(0) == "All my students"
    assert page.summary_button.isVisible()  # de-identified data for every school role (issue 11, item 3)


def test_capacity_is_set_beside_the_rule_of_thumb() -> None:
    text = capacity_text(Cohort(200, {}, {"none": 150, "monitor": 30, "priority": 20}))
    assert "Priority: 20 students (10.0 %)</b> — above the usual rule of thumb of about 5 % (about 10 of 200)" in text
    assert "Monitor: 30 students (15.0 %)</b> — about at the usual rule of thumb of about 15 % (about 30 of 200)" in text
    assert "below" in capacity_text(Cohort(200, {}, {"none": 196, "monitor": 2, "priority": 2}))
    assert "no students" in capacity_text(Cohort(0, {}, {}))


def test_the_deidentified_summary_is_saved_and_recorded(qtbot, login, monkeypatch, school_dir: Path, store_key: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    page = _page(qtbot, welfare)
    assert page.summary_button.isVisible()
    out = tmp_path / "summary"  # no extension: saved as .xlsx
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "")))
    with qtbot.waitSignal(page.exported, timeout=10000) as saved:
        qtbot.mouseClick(page.summary_button, Qt.MouseButton.LeftButton)
    path = Path(saved.args[0])
    assert path.suffix == ".xlsx"
    rows = [[c.value for c in r] for r in load_workbook(path).active.iter_rows()]
    assert rows[0][0] == "Year level" and rows[-1][0] == "All students"
    names = {str(v) for r in rows for v in r}
    assert not any(v.isalpha() and v.isupper() and len(v) > 3 for v in names - {"EMA/CSEF"})  # no surnames
    assert audit_details(school_dir, store_key, "export.deidentified")
    assert "Counts under 5" in page.message.text()


def test_reports_in_the_main_window_is_the_cohort_page(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(login(WELFARE))
    qtbot.addWidget(window)
    window.show()
    page = window.show_page("Reports")
    assert isinstance(page, CohortPage)
    qtbot.waitUntil(lambda: page.cohort is not None, timeout=10000)
    students_page = window.show_page("Students")
    qtbot.waitUntil(lambda: students_page.model.total() > 0, timeout=10000)
