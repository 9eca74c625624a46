"""The student panel: identity, flags with explanations, measures across refreshes as charts,
the relationships concern, tier overrides and notes with sensitive labels, for several roles,
over a real store with an imported demo school."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from mapping_tool.services import auth, flags, notes, students
from mapping_tool.services.notes import HIDDEN_TEXT
from mapping_tool.ui.pages.student_panel import StudentPanel
from mapping_tool.ui.pages.students import StudentsPage
from tests.support import CUSTODIAN, HGT, PRINCIPAL, WELFARE
from tests.ui.conftest import open_session
from tests.ui.helpers import audit_actions
from tests.ui.review_school import FIRST_EXTRACT, build_school, copy_school


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


def _rows(session) -> list[dict]:  # type: ignore[no-untyped-def, type-arg]
    table = students.list_students(session, audit=False)
    return [dict(zip(table.columns, r, strict=True)) for r in table.rows]


def _panel(qtbot, session, key: str) -> StudentPanel:  # type: ignore[no-untyped-def]
    panel = StudentPanel(session)
    qtbot.addWidget(panel)
    panel.resize(560, 900)
    panel.show()
    with qtbot.waitSignal(panel.shown, timeout=10000):
        panel.show_student(key)
    return panel


def _reshown(qtbot, panel: StudentPanel, action) -> None:  # type: ignore[no-untyped-def]
    """Run ``action`` and wait until the panel shows the student again (after saving)."""
    with qtbot.waitSignal(panel.shown, timeout=10000):
        action()


def test_panel_shows_identity_flags_with_explanations_and_charts(qtbot, login, school_dir: Path, store_key: bytes) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    in_both = [r for r in _rows(welfare) if r["tier"] and len(flags.history(welfare, r["student_key"])) == 2]
    row = max(in_both, key=lambda r: r["flag_count"])
    panel = _panel(qtbot, welfare, row["student_key"])
    assert row["surname"] in panel.title.text() and row["first_name"] in panel.title.text()
    view = flags.student_flags(welfare, row["student_key"])
    assert len(view.explanations) >= 2
    # the service's sentences name the rule and extract; the panel names them once, in the title
    assert all("/" in s and "rule v" in s for s in view.explanations)  # "(rule v1, extract 18/09/2026)"
    shown = [lab.text() for lab in panel.explanation_labels]
    assert len(shown) == len(view.explanations) and not any("rule v" in t for t in shown)
    import re
    from html import escape

    assert shown == [f"• {escape(re.sub(r'[ ]*[(]rule v[0-9]+, extract [^)]*[)]', '', s))}" for s in view.explanations]
    for flag in flags.FLAG_NAMES:
        assert panel.flag_labels[flag].accessibleName().endswith(": yes" if row[flag] else ": no")
    # each measure the role may see, across both refreshes, dates dd/mm/yyyy
    assert {"attendance_rate", "unapproved_days", "internal_suspension_days", "external_suspension_days"} <= set(panel.charts)
    description = panel.charts["attendance_rate"].accessibleDescription()
    assert FIRST_EXTRACT.strftime("%d/%m/%Y") in description and "18/09/2026" in description
    assert f"{row['attendance_rate']:.1f}".rstrip("0").rstrip(".") in description
    # opening the panel is recorded as a view of the record
    assert (WELFARE, "student.viewed", row["student_key"]) in audit_actions(school_dir, store_key)


def test_panel_shows_no_interventions_yet_and_what_referrals_will_hold(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    panel = _panel(qtbot, welfare, _rows(welfare)[0]["student_key"])
    text = " ".join(lab.text() for lab in panel.body.findChildren(type(panel.title)))
    assert "Not in any programme yet." in text and panel.assign_button is not None
    assert "No referrals or consents for this student." in text  # the Referrals section has arrived


def test_the_relationships_concern_persists_and_raises_the_tier(qtbot, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.student_panel import ConcernDialog

    asked: list[tuple[str, bool]] = []
    monkeypatch.setattr(ConcernDialog, "ask", classmethod(lambda cls, parent, name, concern: asked.append((name, concern)) or "Isolated at lunch"))
    welfare = login(WELFARE)
    # flagged in one domain that is not engagement: a concern adds the engagement domain
    row = next(r for r in _rows(welfare) if r["tier"] == "monitor" and not r["flag_suspension"] and not r["relationships_concern"])
    key = row["student_key"]
    panel = _panel(qtbot, welfare, key)
    assert not panel.concern.isChecked()
    assert "Not recorded" in panel.concern_note.text()
    _reshown(qtbot, panel, lambda: panel.concern.setChecked(True))
    view = flags.student_flags(welfare, key)
    assert view.values["relationships_concern"] is True
    assert view.values["tier"] == "priority"
    assert view.values["flag_count"] == row["flag_count"] + 1
    assert panel.concern.isChecked()
    assert "Recorded by Wren Welfare" in panel.concern_note.text() and WELFARE + " on" not in panel.concern_note.text()
    assert asked[0][1] is True and asked[0][0]  # asked first, with the student's name
    assert any("Relationships concern recorded: Isolated at lunch" in (n.text or "") for n in notes.list_notes(welfare, key))
    assert "Computed tier: <b>Priority</b>" in panel.tier_label.text()
    # and it is kept: a fresh sign-in sees it
    again = _panel(qtbot, login(CUSTODIAN), key)
    assert again.concern.isChecked()
    _reshown(qtbot, again, lambda: again.concern.setChecked(False))
    assert flags.student_flags(welfare, key).values["tier"] == "monitor"


def test_an_override_needs_a_reason_and_shows_beside_the_computed_tier(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    page = StudentsPage(welfare)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.show()
    row = next(r for r in _rows(welfare) if r["tier"] == "monitor")
    key = row["student_key"]
    with qtbot.waitSignal(page.panel.shown, timeout=10000):
        page.open_student(key)
    panel = page.panel
    panel.tier_box.setCurrentIndex(panel.tier_box.findData("priority"))
    qtbot.mouseClick(panel.override_button, Qt.MouseButton.LeftButton)  # no reason given
    assert panel.tier_message.isVisibleTo(panel)
    assert "Give a reason" in panel.tier_message.text()
    assert flags.list_overrides(welfare) == []
    panel.reason.setPlainText("Attendance plan agreed with family")
    with qtbot.waitSignal(page.loaded, timeout=10000):  # the table reloads with the new tier
        qtbot.mouseClick(panel.override_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.tier_label is not None and "Override" in panel.tier_label.text(), timeout=10000)
    [override] = flags.list_overrides(welfare)
    assert (override.student_key, override.tier, override.computed_now) == (key, "priority", "monitor")
    assert "Computed tier: <b>Monitor</b>" in panel.tier_label.text()
    assert "Override: <b>Priority</b>" in panel.tier_label.text()
    assert "Attendance plan agreed with family" in panel.tier_label.text()
    cell = page.model.data(page.model.index(page.model.row_of_key(key), page.model.column_index("tier")))
    assert cell == "Monitor → Priority (override)"
    _reshown(qtbot, panel, lambda: qtbot.mouseClick(panel.clear_override_button, Qt.MouseButton.LeftButton))
    assert flags.list_overrides(welfare) == []


def test_a_home_group_teacher_records_a_concern_but_cannot_override(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    teacher = login(HGT)
    key = _rows(teacher)[0]["student_key"]
    panel = _panel(qtbot, teacher, key)
    assert panel.tier_box is None and panel.override_button is None
    assert panel.concern.isEnabled()


def test_a_student_outside_the_scope_shows_nothing(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    teacher = login(HGT)
    outside = next(r["student_key"] for r in _rows(login(WELFARE)) if r["home_group"] != "07A")
    panel = StudentPanel(teacher)
    qtbot.addWidget(panel)
    with qtbot.waitSignal(panel.failed, timeout=10000):
        panel.show_student(outside)
    assert panel.status.text() == f"There is no student {outside} that you may see."
    assert panel.data is None and not panel.charts


def test_a_sensitive_note_is_withheld_from_the_teacher(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    custodian = login(CUSTODIAN)
    key = _rows(login(HGT))[0]["student_key"]  # a student the teacher may see too
    panel = _panel(qtbot, custodian, key)
    panel.note_text.setPlainText("Child protection report made on Tuesday.")
    panel.note_sensitive.setChecked(True)
    _reshown(qtbot, panel, lambda: qtbot.mouseClick(panel.note_button, Qt.MouseButton.LeftButton))
    notes.add_note(custodian, key, "Lives with grandmother during the week.")
    texts = [lab.text() for lab in panel.note_labels]
    assert len(texts) == 1 and "[Sensitive]" in texts[0] and "Child protection" in texts[0]
    assert panel.note_text.toPlainText() == "" and not panel.note_sensitive.isChecked()

    teacher_panel = _panel(qtbot, login(HGT), key)
    teacher_texts = " ".join(lab.text() for lab in teacher_panel.note_labels)
    assert "Child protection" not in teacher_texts
    assert HIDDEN_TEXT in teacher_texts and "[Sensitive]" in teacher_texts
    assert "Lives with grandmother" in teacher_texts

    for reader in (WELFARE, PRINCIPAL):
        texts = " ".join(lab.text() for lab in _panel(qtbot, login(reader), key).note_labels)
        assert "Child protection" in texts and HIDDEN_TEXT not in texts


def test_panel_inputs_are_named(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.test_accessibility import unnamed_inputs

    welfare = login(WELFARE)
    panel = _panel(qtbot, welfare, next(r for r in _rows(welfare) if r["tier"])["student_key"])
    assert unnamed_inputs(panel) == []


def test_a_change_of_responsible_staff_names_the_people_and_dates_read_as_a_school_writes_them() -> None:
    from datetime import datetime as _dt
    from types import SimpleNamespace

    from mapping_tool.ui.pages.student_panel import _change_text

    names = {"pat": "Pat Principal", "wren": "Wren Welfare"}
    staff = SimpleNamespace(what="responsible staff member", field="responsible", old="pat", new="wren",
                            changed_at=_dt(2026, 11, 30, 1, 0), reason="")
    assert "was Pat Principal, changed to Wren Welfare" in _change_text(staff, "Casey Custodian", names.get)
    review = SimpleNamespace(what="review date", field="review_date", old="", new="2027-02-14",
                             changed_at=_dt(2026, 11, 30, 1, 0), reason="Term 1")
    assert "was not set, changed to 14/02/2027" in _change_text(review, "Casey Custodian", names.get)
    assert _change_text(review, "Casey Custodian").endswith("(reason: Term 1)")
