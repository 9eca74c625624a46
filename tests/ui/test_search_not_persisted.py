"""Issue 11, item 8: a name or key typed into the student search never leaves the encrypted store.

Only the non-identifying filter (year level, home group, flags, tier) is remembered, keyed by
store and user; every file the tool wrote outside the store (settings, logs, the audit witness)
is searched for the name and the key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mapping_tool.paths import log_dir, settings_dir
from mapping_tool.services import auth, students
from mapping_tool.ui.pages.students import StudentsPage, review_settings
from tests.support import WELFARE
from tests.ui.conftest import open_session
from tests.ui.review_school import build_school, copy_school


@pytest.fixture(scope="module")
def school(template_store: Path, store_key: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_school(template_store, store_key, tmp_path_factory)


def _opened(qtbot, session) -> StudentsPage:  # type: ignore[no-untyped-def]
    page = StudentsPage(session)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.resize(1200, 700)
        page.show()
    return page


def _files_outside_the_store(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_a_typed_name_and_key_are_never_written_outside_the_store(qtbot, school: Path, store_key: bytes, tmp_path: Path, _isolated_env: Path) -> None:  # type: ignore[no-untyped-def]
    folder = copy_school(school, tmp_path)
    welfare = open_session(folder, store_key, WELFARE)
    try:
        table = students.list_students(welfare, audit=False)
        row = dict(zip(table.columns, table.rows[0], strict=True))
        surname, key = row["surname"], row["student_key"]
        page = _opened(qtbot, welfare)
        page.year.setCurrentIndex(page.year.findData(row["year_level"]))
        qtbot.keyClicks(page.search, surname)
        qtbot.waitUntil(lambda: page.state.search == surname, timeout=5000)
        page.search.clear()
        qtbot.keyClicks(page.search, key)
        qtbot.waitUntil(lambda: page.state.search == key, timeout=5000)
        assert page.model.rowCount() >= 1
        page.close()
        page.deleteLater()
        again = _opened(qtbot, welfare)
        assert again.current_filter().search == ""  # the search is not brought back
        assert again.current_filter().year_level == row["year_level"]  # the rest is
        again.close()
    finally:
        auth.sign_out(welfare)
    files = _files_outside_the_store(settings_dir(), log_dir(), _isolated_env)
    assert any(p.name == "review.ini" for p in files)
    for path in files:
        data = path.read_bytes().lower()
        for secret in (surname, key):
            assert secret.lower().encode() not in data, f"{secret!r} found in {path}"
            assert secret.lower().encode("utf-16-le") not in data, f"{secret!r} found in {path}"


def test_an_older_saved_search_is_removed(qtbot, school: Path, store_key: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = review_settings()
    settings.setValue("users/0123456789abcdef/filter", '{"search": "Zanzibar-Oyelaran", "year_level": "09"}')
    settings.sync()
    assert b"Zanzibar-Oyelaran" in (settings_dir() / "review.ini").read_bytes()
    folder = copy_school(school, tmp_path)
    welfare = open_session(folder, store_key, WELFARE)
    try:
        _opened(qtbot, welfare).close()
    finally:
        auth.sign_out(welfare)
    assert b"Zanzibar-Oyelaran" not in (settings_dir() / "review.ini").read_bytes()


def test_the_saved_filter_stays_with_its_store(qtbot, school: Path, store_key: bytes, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = copy_school(school, tmp_path)
    welfare = open_session(folder, store_key, WELFARE)
    try:
        page = _opened(qtbot, welfare)
        page.year.setCurrentIndex(page.year.findData("09"))
        page.new_only.setChecked(True)
        page.close()
        # the same user name in another store of the same school (another store id)
        assert welfare.store.school is not None
        welfare.store.school = dataclasses.replace(welfare.store.school, store_id="another-store")
        other = _opened(qtbot, welfare)
        assert other.current_filter().year_level is None and not other.current_filter().new_only
        other.close()
    finally:
        auth.sign_out(welfare)
