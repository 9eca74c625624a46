"""Issue 11, items 1 and 3 in the window: saving asks before replacing a file, never writes into
the store folder, and a home group teacher saves a de-identified summary of their own students."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox

from mapping_tool.services import auth
from mapping_tool.ui.pages.cohort import CohortPage
from tests.support import HGT, file_hashes
from tests.ui.conftest import open_session
from tests.ui.review_school import build_school, copy_school


@pytest.fixture(scope="module")
def school(template_store: Path, store_key: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_school(template_store, store_key, tmp_path_factory)


@pytest.fixture
def teacher_page(qtbot, school: Path, store_key: bytes, tmp_path: Path, request):  # type: ignore[no-untyped-def]
    folder = copy_school(school, tmp_path)
    user = open_session(folder, store_key, HGT)
    request.addfinalizer(lambda: auth.sign_out(user))
    page = CohortPage(user)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.resize(1024, 768)
        page.show()
    return page


def _choose(monkeypatch: pytest.MonkeyPatch, path: Path, answer=None) -> list[str]:  # type: ignore[no-untyped-def]
    asked: list[str] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))

    def question(parent, title, text, *a, **k):  # type: ignore[no-untyped-def]
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


def test_replacing_a_file_is_asked_first(qtbot, teacher_page: CohortPage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    page = teacher_page
    assert page.summary_button.isVisible()  # item 3: a teacher may save de-identified counts
    out = tmp_path / "summary.xlsx"
    out.write_bytes(b"keep me")
    asked = _choose(monkeypatch, out, QMessageBox.StandardButton.No)
    qtbot.mouseClick(page.summary_button, Qt.MouseButton.LeftButton)
    assert asked == [f"summary.xlsx already exists in {tmp_path}. Replace it?"]
    assert out.read_bytes() == b"keep me"
    asked = _choose(monkeypatch, out, QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(page.exported, timeout=10000):
        qtbot.mouseClick(page.summary_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and out.read_bytes()[:2] == b"PK"  # the summary workbook


def test_the_store_folder_is_refused_in_the_window(qtbot, teacher_page: CohortPage, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    page = teacher_page
    folder = page.session.store.files.folder
    before = {k: v for k, v in file_hashes(folder).items() if not k.endswith("-shm")}
    _choose(monkeypatch, folder / "smt.keys", QMessageBox.StandardButton.Yes)  # even when the user says yes
    qtbot.mouseClick(page.summary_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "store folder" in page.message.text(), timeout=10000)
    assert page.summary_button.isEnabled()
    after = {k: v for k, v in file_hashes(folder).items() if not k.endswith("-shm")}
    assert after == before
