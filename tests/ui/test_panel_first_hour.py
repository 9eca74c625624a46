"""The student panel without surprises: a relationships concern is confirmed with a note (one key
press never records one), names of people rather than user names, a reason box with room, the
place in the panel kept after saving, and charts that do not mislead."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QPlainTextEdit, QScrollArea, QVBoxLayout, QWidget

from mapping_tool.services import auth, flags, notes, students
from mapping_tool.ui.charts import measure_chart
from mapping_tool.ui.pages.student_panel import ConcernDialog, StudentPanel
from tests.support import WELFARE
from tests.ui.conftest import open_session
from tests.ui.review_school import build_school, copy_school


@pytest.fixture(scope="module")
def school(template_store: Path, store_key: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_school(template_store, store_key, tmp_path_factory)


@pytest.fixture
def welfare(school: Path, tmp_path: Path, store_key: bytes, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    user = open_session(copy_school(school, tmp_path), store_key, WELFARE)
    request.addfinalizer(lambda: auth.sign_out(user))
    return user


def _key(session) -> str:  # type: ignore[no-untyped-def]
    table = students.list_students(session, audit=False)
    rows = [dict(zip(table.columns, r, strict=True)) for r in table.rows]
    return next(r["student_key"] for r in rows if r["tier"] == "monitor" and not r["relationships_concern"])


def _panel(qtbot, session, key: str) -> StudentPanel:  # type: ignore[no-untyped-def]
    panel = StudentPanel(session)
    qtbot.addWidget(panel)
    panel.resize(520, 600)
    panel.show()
    with qtbot.waitSignal(panel.shown, timeout=10000):
        panel.show_student(key)
    return panel


def test_alt_r_asks_first_and_cancelling_records_nothing(qtbot, welfare, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key = _key(welfare)
    panel = _panel(qtbot, welfare, key)
    asked: list[tuple[str, bool]] = []
    monkeypatch.setattr(ConcernDialog, "ask", classmethod(lambda cls, parent, name, concern: asked.append((name, concern))))
    panel.concern.setFocus()
    qtbot.keyClick(panel.concern, Qt.Key.Key_Space)  # as Alt+R toggles it
    assert asked and asked[0][1] is True
    record = panel.data.record
    assert asked[0][0] == f"{record['first_name']} {record['surname']}"
    assert not panel.concern.isChecked()
    assert flags.student_flags(welfare, key).values["relationships_concern"] in (False, None)
    assert notes.list_notes(welfare, key) == []


def test_the_concern_dialog_needs_a_note_to_record(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = ConcernDialog("Mia Alexander", True)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.accept()
    assert dialog.isVisible() and dialog.result() != dialog.DialogCode.Accepted
    assert "Write a short note" in dialog.message.text()
    assert "Mia Alexander" in dialog.findChildren(type(dialog.message))[0].text()
    dialog.note.setPlainText("Withdrawn from friends since term 2")
    dialog.accept()
    assert dialog.result() == dialog.DialogCode.Accepted
    clearing = ConcernDialog("Mia Alexander", False)
    qtbot.addWidget(clearing)
    clearing.show()
    clearing.accept()  # clearing needs no note
    assert clearing.result() == clearing.DialogCode.Accepted


def test_override_reason_has_room_and_the_panel_keeps_its_place(qtbot, welfare) -> None:  # type: ignore[no-untyped-def]
    key = _key(welfare)
    panel = _panel(qtbot, welfare, key)
    assert isinstance(panel.reason, QPlainTextEdit)
    assert panel.reason.height() >= 3 * panel.reason.fontMetrics().lineSpacing()
    assert panel.reason.width() > panel.width() * 0.6
    bar = panel.scroll.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)
    where = bar.value()
    panel.tier_box.setCurrentIndex(panel.tier_box.findData("priority"))
    panel.reason.setPlainText("Attendance plan agreed with the family.\nReview after four weeks.")
    with qtbot.waitSignal(panel.shown, timeout=10000):
        panel.override()
    qtbot.wait(20)
    assert flags.list_overrides(welfare)[0].tier == "priority"
    assert abs(panel.scroll.verticalScrollBar().value() - where) <= 40
    # the person's name, not the user name, beside the override
    assert "Wren Welfare" in panel.tier_label.text()


def _values(chart):  # type: ignore[no-untyped-def]
    return chart.figure.axes[0]


def test_day_counts_have_no_negative_axis_and_titles_fit(qtbot) -> None:  # type: ignore[no-untyped-def]
    dates = [date(2026, 3, 1), date(2026, 6, 1)]
    chart = measure_chart("Unapproved absence days", dates, [0, 0], threshold=10.0, threshold_text="flag at 10")
    qtbot.addWidget(chart)
    ax = _values(chart)
    assert ax.get_ylim()[0] >= 0
    assert list(ax.get_yticklabels()) == []  # no clipped axis numbers; each point is labelled
    chart.resize(190, 175)
    chart.draw()
    renderer = chart.figure.canvas.get_renderer()
    fig_box = chart.figure.bbox
    title_box = ax.title.get_window_extent(renderer)
    assert title_box.x0 >= fig_box.x0 and title_box.x1 <= fig_box.x1 + 1
    labels = [t for t in ax.texts if t.get_text() in ("0",)]
    assert labels and all(t.get_window_extent(renderer).y1 <= ax.bbox.y1 + 1 for t in labels)
    attendance = measure_chart("Attendance", dates, [97.5, 10.0], unit="%")
    qtbot.addWidget(attendance)
    assert {t.get_text() for t in _values(attendance).texts} >= {"97.5%", "10%"}


def test_the_mouse_wheel_over_a_chart_scrolls_the_panel(qtbot) -> None:  # type: ignore[no-untyped-def]
    area = QScrollArea()
    body = QWidget()
    column = QVBoxLayout(body)
    charts = [measure_chart(f"Measure {i}", [date(2026, 3, 1)], [i]) for i in range(6)]
    for c in charts:
        column.addWidget(c)
    area.setWidget(body)
    area.setWidgetResizable(True)
    qtbot.addWidget(area)
    area.resize(300, 250)
    area.show()
    qtbot.waitExposed(area)
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    target = charts[0]
    pos = QPointF(target.width() / 2, target.height() / 2)
    event = QWheelEvent(pos, QPointF(target.mapToGlobal(pos.toPoint())), QPoint(), QPoint(0, -120),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    event.accept()
    QApplication.sendEvent(target, event)
    # left unaccepted, a real wheel event goes on to the scroll area (Qt propagates only
    # spontaneous wheel events, so the test gives it to the viewport as Qt would next)
    assert not event.isAccepted()
    QApplication.sendEvent(area.viewport(), event)
    assert bar.value() > 0


def test_a_value_label_never_runs_into_the_title(qtbot) -> None:  # type: ignore[no-untyped-def]
    chart = measure_chart("Attendance", [date(2026, 9, 1)], [98.4], unit="%", threshold=90.0, threshold_text="flag below 90%")
    qtbot.addWidget(chart)
    chart.resize(190, 175)
    chart.draw()
    renderer = chart.figure.canvas.get_renderer()
    ax = chart.figure.axes[0]
    [label] = [t for t in ax.texts if t.get_text() == "98.4%"]
    assert label.get_window_extent(renderer).y1 <= ax.title.get_window_extent(renderer).y0
