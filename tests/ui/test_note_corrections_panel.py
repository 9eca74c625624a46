"""Correcting a note from the student panel (issue 10 s 3): "Correct…" with a reason, the current
text with "corrected dd/mm/yyyy by X", and the earlier versions one click away; offered only to
the note's author, the data custodian and principal class."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from mapping_tool.services import auth, notes, students
from mapping_tool.ui.pages.correction_widgets import CorrectNoteDialog, NoteVersionsDialog
from mapping_tool.ui.pages.student_panel import StudentPanel
from tests.support import CUSTODIAN, HGT, PRINCIPAL, WELFARE
from tests.ui.conftest import open_session
from tests.ui.review_school import build_school, copy_school

SHOTS = os.environ.get("SMT_SCREENSHOTS")  # a folder: also save the panel as the README shows it


@pytest.fixture(scope="module")
def school(template_store: Path, store_key: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_school(template_store, store_key, tmp_path_factory)


@pytest.fixture
def login(school: Path, store_key: bytes, tmp_path: Path, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    folder = copy_school(school, tmp_path)

    def sign_in(username: str):  # type: ignore[no-untyped-def]
        user = open_session(folder, store_key, username)
        request.addfinalizer(lambda: auth.sign_out(user))
        return user

    return sign_in


def _panel(qtbot, session, key: str, size: tuple[int, int] = (560, 900)) -> StudentPanel:  # type: ignore[no-untyped-def]
    panel = StudentPanel(session)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    with qtbot.waitSignal(panel.shown, timeout=10000):
        panel.show_student(key)
    return panel


def _buttons(panel: StudentPanel, note_id: int) -> dict[str, object]:
    return {b.text(): b for b in panel.note_buttons.get(note_id, [])}


def test_the_author_corrects_a_note_from_the_panel_and_sees_the_earlier_version(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    teacher = login(HGT)
    key = students.list_students(teacher, audit=False).rows[0][0]
    note = notes.add_note(teacher, key, "Mum rang: Jordan away Tuesday for a medical appointment.")
    panel = _panel(qtbot, teacher, key)
    assert set(_buttons(panel, note.id)) == {"Correct…"}  # not corrected yet: no earlier versions
    qtbot.mouseClick(_buttons(panel, note.id)["Correct…"], Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert isinstance(dialog, CorrectNoteDialog) and dialog.text.toPlainText() == note.text
    # a reason is required: the dialog says so and nothing is saved
    dialog.text.setPlainText("Dad rang: Jordan away Wednesday for a medical appointment.")
    qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    assert dialog.message.text().startswith("Say why the note is being corrected")
    assert notes.note_versions(teacher, note.id)[-1].version == 1
    dialog.reason.setText("It was the father who rang, about Wednesday")
    with qtbot.waitSignal(panel.shown, timeout=10000):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    today = datetime.now().strftime("%d/%m/%Y")
    (label,) = [lab.text() for lab in panel.note_labels if "Dad rang" in lab.text()]
    assert f"corrected {today} by Harper Teacher" in label and "Mum rang" not in label
    assert set(_buttons(panel, note.id)) == {"Earlier versions (1)…", "Correct…"}
    qtbot.mouseClick(_buttons(panel, note.id)["Earlier versions (1)…"], Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: isinstance(panel.dialog, NoteVersionsDialog), timeout=10000)
    shown = [lab.text() for lab in panel.dialog.version_labels]
    assert "Version 1" in shown[0] and "Mum rang" in shown[0] and "It was the father who rang" in shown[0]
    assert f"Replaced {today}" in shown[0]
    assert "Version 2 (current)" in shown[1] and "Dad rang" in shown[1]
    if SHOTS:
        panel.dialog.close()
        panel.resize(1024, 768)
        target = next(lab for lab in panel.note_labels if "Dad rang" in lab.text())
        panel.scroll.ensureWidgetVisible(target, 0, 200)
        qtbot.wait(50)
        panel.grab().save(str(Path(SHOTS) / "records_note_corrected_panel.png"))
        panel.show_versions(notes.list_notes(teacher, key)[-1])
        qtbot.waitUntil(lambda: isinstance(panel.dialog, NoteVersionsDialog) and panel.dialog.isVisible(), timeout=10000)
        panel.dialog.grab().save(str(Path(SHOTS) / "records_note_versions.png"))
        qtbot.mouseClick(_buttons(panel, note.id)["Correct…"], Qt.MouseButton.LeftButton)
        panel.dialog.reason.setText("Typing error")
        panel.dialog.grab().save(str(Path(SHOTS) / "records_note_correct_dialog.png"))
        panel.dialog.reject()


def test_correct_is_offered_only_to_the_author_custodian_and_principal_class(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    teacher = login(HGT)
    key = students.list_students(teacher, audit=False).rows[0][0]
    note = notes.add_note(teacher, key, "Plays in the under 14s.")
    for name, offered in ((HGT, True), (CUSTODIAN, True), (PRINCIPAL, True), (WELFARE, False)):
        panel = _panel(qtbot, login(name) if name != HGT else teacher, key)
        assert ("Correct…" in _buttons(panel, note.id)) == offered, name


def test_a_sensitive_note_corrected_shows_no_versions_to_those_who_may_not_read_it(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    custodian = login(CUSTODIAN)
    teacher = login(HGT)
    key = students.list_students(teacher, audit=False).rows[0][0]
    note = notes.add_note(custodian, key, "QZXOLD disclosure", sensitive=True)
    notes.correct_note(custodian, note.id, "QZXNEW disclosure", "Wrong word")
    panel = _panel(qtbot, teacher, key)
    text = " ".join(lab.text() for lab in panel.note_labels)
    assert "QZX" not in text and "[Sensitive]" in text and "corrected" in text  # knows it changed, not what
    assert _buttons(panel, note.id) == {}
    welfare_panel = _panel(qtbot, login(WELFARE), key)
    assert set(_buttons(welfare_panel, note.id)) == {"Earlier versions (1)…"}  # reads, may not correct


def test_a_changed_goal_shows_its_earlier_value_in_the_panel(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    from datetime import date, timedelta

    from mapping_tool.services import interventions
    from mapping_tool.ui.pages.intervention_widgets import MappingDialog

    custodian = login(CUSTODIAN)
    interventions.add_programme(custodian, "Breakfast club", kind="attendance", measure="attendance_rate")
    key = students.list_students(custodian, audit=False).rows[0][0]
    (mapping,) = interventions.assign(custodian, "Breakfast club", [key], start=date.today() - timedelta(days=20),
                                      goal_target=85)
    panel = _panel(qtbot, custodian, key)
    qtbot.mouseClick(panel.change_buttons[0], Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert isinstance(dialog, MappingDialog)
    dialog.goal.setValue(90)
    dialog.reason.setText("Entered 85 by mistake")
    with qtbot.waitSignal(panel.shown, timeout=10000):
        qtbot.mouseClick(dialog.ok, Qt.MouseButton.LeftButton)
    today = datetime.now().strftime("%d/%m/%Y")
    text = " ".join(lab.text() for lab in panel.intervention_labels)
    assert f"Goal target was 85, changed to 90 on {today} by Casey Custodian" in text
    assert "(reason: Entered 85 by mistake)" in text and "Goal: Attendance at least 90 %" in text
