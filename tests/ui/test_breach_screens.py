"""Administration > Records > Breaches and Unusual access, on a real store: a breach recorded from
the dialog (students chosen by searching) lands in the register and the audit log; a refused entry
stores nothing; only the roles the service allows reach the screens; the unusual-access table
shows an out-of-hours day and a bulk export in words; its Excel copy is a finished workbook."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QDate
from sqlalchemy import func, select

from mapping_tool.errors import PermissionDenied, UsageError
from mapping_tool.services import audit, auth, records_privacy, students
from mapping_tool.store.models import AuditEntry
from mapping_tool.store.models_records import Breach, BreachStudent
from mapping_tool.ui.pages.breaches import BreachDialog, BreachesPanel, UnusualAccessPanel
from mapping_tool.ui.pages.records import RecordsPanel
from mapping_tool.ui.save_dialog import SaveTarget
from tests.support import CUSTODIAN, HGT, PRINCIPAL, WELFARE, imported_school
from tests.ui.conftest import open_session


@pytest.fixture(scope="module")
def breach_school(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_school(template_store, tmp_path_factory.mktemp("breach-ui"), students=12, seed=11)


@pytest.fixture
def school(breach_school: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    shutil.copytree(breach_school, folder)
    (folder / "smt.signin").unlink(missing_ok=True)
    return folder


@pytest.fixture
def custodian(school: Path, store_key: bytes):  # type: ignore[no-untyped-def]
    user = open_session(school, store_key, CUSTODIAN)
    yield user
    if not user.signed_out:
        auth.sign_out(user)


def _counts(user) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with user.store.read() as session:
        return (session.scalar(select(func.count()).select_from(Breach)),
                session.scalar(select(func.count()).select_from(BreachStudent)),
                session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "breach.recorded")))


def _a_student(user) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """A student's key and surname, to search by."""
    table = students.list_students(user, fields=("student_key", "surname"), audit=False)
    return table.rows[0][0], table.rows[0][1]


def _dialog(qtbot, user) -> BreachDialog:  # type: ignore[no-untyped-def]
    dialog = BreachDialog(user)
    qtbot.addWidget(dialog)
    return dialog


def _submit(qtbot, dialog: BreachDialog) -> list[object]:  # type: ignore[no-untyped-def]
    done: list[object] = []
    dialog.done_with.connect(done.append)
    dialog.ok.click()
    qtbot.waitUntil(lambda: bool(done) or dialog.message.isVisibleTo(dialog) and dialog.message.text() != "Saving…",
                    timeout=10000)
    return done


def test_a_breach_recorded_from_the_dialog_lands_in_the_register_and_the_log(qtbot, custodian, sync_runner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key, surname = _a_student(custodian)
    panel = BreachesPanel(custodian)
    qtbot.addWidget(panel)
    panel.refresh()
    assert panel.model.rowCount() == 0 and "No breach" in panel.detail.text()

    def fill_and_save(cls, parent, session):  # type: ignore[no-untyped-def]
        dialog = _dialog(qtbot, session)
        dialog.found_on.setDate(dialog.found_on.date().addDays(-3))
        dialog.what.setPlainText("A printed attendance list was left on the bus.")
        dialog.students.search.setText(surname[:4])
        dialog.students.run_search()  # Enter, without waiting for the pause after typing
        found = [dialog.students.found.item(i).data(256) for i in range(dialog.students.found.count())]
        assert key in found
        dialog.students.found.setCurrentRow(found.index(key))
        dialog.students.add_button.click()
        assert dialog.students.keys() == [key] and "1 student affected" in dialog.students.chosen_label.text()
        dialog.notified.setText("The principal; the family")
        dialog.has_notified_on.setChecked(True)
        dialog.notified_on.setDate(dialog.found_on.date().addDays(1))
        dialog.steps.setPlainText("The list was recovered from the bus company.")
        done = _submit(qtbot, dialog)
        return done[0] if done else None

    monkeypatch.setattr(BreachDialog, "ask", classmethod(fill_and_save))
    panel.add_button.click()
    assert "Breach 1 recorded" in panel.status.text()
    assert _counts(custodian) == (1, 1, 1)
    row = panel.model.row_at(0)
    assert row[0] == 1 and row[1] == date.today() - timedelta(days=3)
    assert row[2] == "A printed attendance list was left on the bus."
    assert row[3].startswith("1 student: ") and surname in row[3]
    assert f"({key})" in panel.detail.text()  # the key with the entry in full
    assert row[4] == f"The principal; the family, on {(date.today() - timedelta(days=2)):%d/%m/%Y}"
    assert row[5] == "The list was recovered from the bus company." and row[6].startswith(CUSTODIAN)
    assert panel.model.data(panel.model.index(0, 1)) == f"{(date.today() - timedelta(days=3)):%d/%m/%Y}"
    assert "Steps taken:" in panel.detail.text() and surname in panel.detail.text()
    [view] = records_privacy.list_breaches(custodian)
    assert view.student_keys == (key,) and view.notified_on == date.today() - timedelta(days=2)
    entries = audit.entries(custodian, action="breach.recorded")
    assert len(entries) == 1 and entries[0].actor == CUSTODIAN
    # the student search and the register's names were recorded as lists of students shown
    views = [json.loads(e.detail).get("view") for e in audit.entries(custodian, action="students.listed")]
    assert "breach student search" in views and "breach register" in views


@pytest.mark.parametrize(("fill", "message"), [
    ({}, "Say what happened."),
    ({"what": "   "}, "Say what happened."),
    ({"what": "Lost laptop", "notified_on": 1}, "Say whom you notified on that date."),
    ({"what": "Lost laptop", "notified": "The principal", "notified_on": -1},
     "The date notified is before the date the breach was found."),
    ({"what": "x" * 4001}, "Keep what happened and the steps taken to 4,000 characters each."),
])
def test_a_refused_entry_says_why_in_the_dialog_and_stores_nothing(qtbot, custodian, sync_runner, fill, message) -> None:  # type: ignore[no-untyped-def]
    before = _counts(custodian)
    log_before = len(audit.entries(custodian))
    dialog = _dialog(qtbot, custodian)
    dialog.show()
    dialog.found_on.setDate(dialog.found_on.date().addDays(-5))
    dialog.what.setPlainText(fill.get("what", ""))
    dialog.notified.setText(fill.get("notified", ""))
    if "notified_on" in fill:
        dialog.has_notified_on.setChecked(True)
        dialog.notified_on.setDate(dialog.found_on.date().addDays(fill["notified_on"]))
    done = _submit(qtbot, dialog)
    assert done == [] and dialog.message.text() == message and dialog.message.isVisible()
    assert dialog.isVisible()  # the dialog stays open with what was typed
    assert _counts(custodian) == before and len(audit.entries(custodian)) == log_before


def test_a_refusal_from_the_service_stays_in_the_dialog(qtbot, custodian, sync_runner) -> None:  # type: ignore[no-untyped-def]
    """The date box stops a future date; the service's own check still says so in the dialog."""
    before = _counts(custodian)
    dialog = _dialog(qtbot, custodian)
    dialog.show()
    dialog.found_on.setMaximumDate(dialog.found_on.date().addDays(10))
    dialog.found_on.setDate(dialog.found_on.date().addDays(2))
    dialog.what.setPlainText("Found in the future")
    done = _submit(qtbot, dialog)
    assert done == [] and dialog.message.text() == "The date the breach was found cannot be in the future."
    assert _counts(custodian) == before


def test_only_the_roles_the_service_allows_reach_the_screens(qtbot, school: Path, store_key: bytes) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.admin import AdminPage

    def records_tabs(username: str) -> list[str]:
        user = open_session(school, store_key, username)
        try:
            page = AdminPage(user)
            qtbot.addWidget(page)
            panel = getattr(page, "records_panel", None)
            if panel is None:
                return []
            return [panel.tabs.tabText(i) for i in range(panel.tabs.count())]
        finally:
            auth.sign_out(user)

    assert {"Breaches", "Unusual access"} <= set(records_tabs(CUSTODIAN))
    principal_tabs = records_tabs(PRINCIPAL)
    assert "Breaches" in principal_tabs and "Unusual access" not in principal_tabs
    assert records_tabs(WELFARE) == [] and records_tabs(HGT) == []
    # and the service refuses them whatever the window shows
    welfare = open_session(school, store_key, WELFARE)
    try:
        with pytest.raises(PermissionDenied, match="Only the"):
            records_privacy.list_breaches(welfare)
        with pytest.raises(PermissionDenied, match="Only the"):
            records_privacy.unusual_access(welfare)
    finally:
        auth.sign_out(welfare)


def _late_last_night() -> datetime:
    """22:30 local time yesterday, as the audit log stores it (UTC, naive)."""
    local = datetime.combine(date.today() - timedelta(days=1), time(22, 30)).astimezone()
    return local.astimezone(UTC).replace(tzinfo=None)


def test_the_unusual_access_table_shows_out_of_hours_use_and_a_bulk_export_in_words(qtbot, school: Path, store_key: bytes, custodian, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    welfare = open_session(school, store_key, WELFARE)
    try:
        with welfare.store.write() as session:  # a record opened late last night, as the log records one
            welfare.store.audit(session, WELFARE, "student.viewed", at=_late_last_night())
        audit.record_print(welfare, "students", detail={"rows": 120, "to": "pdf"})  # a bulk print today
    finally:
        auth.sign_out(welfare)
    panel = UnusualAccessPanel(custodian)
    qtbot.addWidget(panel)
    assert panel.model.rowCount() == 0  # loads when shown, not when built
    with qtbot.waitSignal(panel.loaded, timeout=20000):  # read off the UI thread
        panel.show()
    rows = {(panel.model.row_at(i)[0], panel.model.row_at(i)[1]): panel.model.row_at(i) for i in range(panel.model.rowCount())}
    yesterday = rows[(date.today() - timedelta(days=1), "Wren Welfare (welfare)")]  # the name and the account
    assert yesterday[6] >= 1 and "use out of hours" in yesterday[7]
    today = rows[(date.today(), "Wren Welfare (welfare)")]
    assert today[3] == 1 and "exports of 50 or more rows" in today[7]
    shown = [panel.model.data(panel.model.index(r, c)) for r in range(panel.model.rowCount()) for c in range(8)]
    assert not any("print." in s or "student.viewed" in s or "export." in s for s in shown)  # words, not codes
    assert "Out of hours" in panel.model.HEADERS
    assert "to look into" in panel.summary.text()

    # since today: yesterday's night goes from the table
    with qtbot.waitSignal(panel.loaded, timeout=20000):
        panel.since.setDate(QDate.currentDate())
    assert panel.model.rowCount() >= 1
    assert all(panel.model.row_at(i)[0] == date.today() for i in range(panel.model.rowCount()))

    out = tmp_path / "unusual.xlsx"
    monkeypatch.setattr(UnusualAccessPanel, "ask_path", classmethod(lambda cls, parent: SaveTarget(out, False)))
    with qtbot.waitSignal(panel.saved, timeout=20000):
        panel.save_button.click()
    assert f"to {out}" in panel.status.text() and "recorded in the audit log" in panel.status.text()
    sheet = load_workbook(out).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0] == records_privacy.UNUSUAL_HEADERS
    assert any(r[1] == WELFARE and r[3] == 1 for r in table[1:])
    assert not list(tmp_path.glob("*.tmp*")) and [p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx"] == ["unusual.xlsx"]
    [entry] = audit.entries(custodian, action="export.unusual-access")
    assert json.loads(entry.detail)["rows"] == len(table) - 1

    # an existing file is not replaced unless the user agreed
    with qtbot.waitSignal(panel.saved, timeout=20000):
        panel.save_button.click()
    assert "unusual.xlsx already exists" in panel.status.text()
    assert len(audit.entries(custodian, action="export.unusual-access")) == 1


def test_the_screens_refresh_when_shown_and_after_a_breach(qtbot, school: Path, store_key: bytes, custodian, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    panel = RecordsPanel(custodian)
    qtbot.addWidget(panel)
    panel.resize(1000, 650)
    panel.show()
    panel.tabs.setCurrentWidget(panel.breaches_panel)
    assert panel.breaches_panel.model.rowCount() == 0
    principal = open_session(school, store_key, PRINCIPAL)  # another account records one meanwhile
    try:
        records_privacy.add_breach(principal, found_on=date.today(), what="Email sent to the wrong parent")
    finally:
        auth.sign_out(principal)
    panel.tabs.setCurrentIndex(0)
    panel.tabs.setCurrentWidget(panel.breaches_panel)
    assert panel.breaches_panel.model.row_at(0)[2] == "Email sent to the wrong parent"
    assert panel.breaches_panel.model.row_at(0)[3] == "none"
    assert panel.breaches_panel.model.row_at(0)[4] == "not yet notified"
    # a breach recorded here reloads the unusual-access report too (its changed signal)
    seen: list[int] = []
    monkeypatch.setattr(UnusualAccessPanel, "refresh", lambda self: seen.append(1))
    panel.breaches_panel.changed.emit()
    assert seen == [1]


def test_the_new_tabs_keep_tab_out_of_tables_and_name_every_input(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.test_accessibility import unnamed_inputs

    panel = RecordsPanel(custodian)
    qtbot.addWidget(panel)
    for table in (panel.breaches_panel.view, panel.unusual_panel.view):
        assert not table.tabKeyNavigation()
    dialog = BreachDialog(custodian)
    qtbot.addWidget(dialog)
    assert unnamed_inputs(dialog) == [] and unnamed_inputs(panel.unusual_panel) == []
    assert dialog.what.tabChangesFocus() and dialog.steps.tabChangesFocus()


def test_a_day_in_the_report_opens_in_the_audit_log(qtbot, school: Path, store_key: bytes, custodian) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.admin import AdminPage

    welfare = open_session(school, store_key, WELFARE)
    try:
        with welfare.store.write() as session:
            welfare.store.audit(session, WELFARE, "student.viewed", at=_late_last_night())
    finally:
        auth.sign_out(welfare)
    page = AdminPage(custodian)
    qtbot.addWidget(page)
    page.resize(1000, 700)
    page.show()
    page.show_tab(AdminPage.TAB_RECORDS)
    unusual = page.records_panel.unusual_panel
    with qtbot.waitSignal(unusual.loaded, timeout=20000):
        page.records_panel.tabs.setCurrentWidget(unusual)
    row = next(i for i in range(unusual.model.rowCount())
               if unusual.rows[i][1] == WELFARE and unusual.rows[i][0] == date.today() - timedelta(days=1))
    assert unusual.log_button.isVisible() and not unusual.log_button.isEnabled()  # nothing selected yet
    unusual.view.selectRow(row)
    unusual.log_button.click()
    assert page.tabs.tabText(page.tabs.currentIndex()) == AdminPage.TAB_AUDIT
    viewer = page.audit_viewer
    shown = [viewer.model.index(r, 0) for r in range(viewer.model.rowCount())]
    assert shown and viewer.user.currentText() == WELFARE
    yesterday = f"{date.today() - timedelta(days=1):%d/%m/%Y}"
    assert viewer.since.date() == viewer.until.date() == QDate.currentDate().addDays(-1)
    texts = [viewer.model.data(viewer.model.index(r, 1)) for r in range(viewer.model.rowCount())]
    assert all(t.startswith(yesterday) for t in texts)


def test_a_refresh_asked_for_while_one_runs_runs_after_it(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    panel = UnusualAccessPanel(custodian)
    qtbot.addWidget(panel)
    panel.refresh()
    panel.since.setDate(QDate.currentDate())  # asks again while the first is running
    assert panel._again or not panel._job.running
    qtbot.waitUntil(lambda: not panel._job.running and "since" in panel.summary.text(), timeout=20000)
    assert f"since {date.today():%d/%m/%Y}" in panel.summary.text()


def test_the_report_model_passes_the_model_tester(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    from mapping_tool.ui.pages.breaches import HeaderTipsModel

    model = HeaderTipsModel(("Day", "Opened"), ("Day", "Records opened"))
    model.set_rows([(date(2026, 3, 1), 3), (date(2026, 3, 2), 0)])
    qtmodeltester.check(model)
    assert model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) == "Records opened"
    assert model.headerData(1, Qt.Orientation.Horizontal) == "Opened"


def test_a_follow_up_is_a_new_entry_and_the_first_stays_as_recorded(qtbot, custodian, sync_runner, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.breaches import FollowUpDialog

    key, _surname = _a_student(custodian)
    first = records_privacy.add_breach(custodian, found_on=date.today() - timedelta(days=10),
                                       what="A USB stick with a class list was lost.", students=[key])
    panel = BreachesPanel(custodian)
    qtbot.addWidget(panel)
    panel.refresh()
    assert not panel.follow_up_button.isEnabled() or panel.view.currentIndex().isValid()
    panel.view.selectRow(0)
    assert panel.follow_up_button.isEnabled()

    def follow_up(cls, parent, session, breach):  # type: ignore[no-untyped-def]
        assert breach.id == first.id
        dialog = FollowUpDialog(session, breach)
        qtbot.addWidget(dialog)
        dialog.notified.setText("The family; OVIC")
        dialog.has_notified_on.setChecked(True)
        dialog.notified_on.setDate(QDate.currentDate().addDays(-1))
        dialog.steps.setPlainText("Encrypted USB sticks only from now on.")
        done = _submit(qtbot, dialog)
        return done[0] if done else None

    monkeypatch.setattr(FollowUpDialog, "ask", classmethod(follow_up))
    panel.follow_up_button.click()
    assert f"recorded as breach {first.id + 1}" in panel.status.text()
    listed = {b.id: b for b in records_privacy.list_breaches(custodian)}
    assert listed[first.id] == first  # the first entry is as it was recorded
    later = listed[first.id + 1]
    assert later.what == f"Follow-up to breach {first.id} (found on {first.found_on:%d/%m/%Y})"
    assert later.student_keys == (key,) and later.found_on == first.found_on and later.follows == first.id
    assert later.notified == "The family; OVIC" and later.notified_on == date.today() - timedelta(days=1)
    assert panel.model.row_at(0)[0] == later.id and panel.model.row_at(1)[0] == first.id
    panel.view.selectRow(1)
    assert f"Follow-ups:</b> breach {later.id}" in panel.detail.text()
    [entry] = [e for e in audit.entries(custodian, action="breach.recorded") if e.object_id == str(later.id)]
    assert json.loads(entry.detail)["follow_up_to"] == first.id


def test_a_follow_up_that_says_nothing_is_refused_and_stores_nothing(qtbot, custodian, sync_runner) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.breaches import FollowUpDialog

    first = records_privacy.add_breach(custodian, found_on=date.today(), what="Wrong email")
    before = _counts(custodian)
    dialog = FollowUpDialog(custodian, first)
    qtbot.addWidget(dialog)
    dialog.show()
    assert _submit(qtbot, dialog) == []
    assert dialog.message.text() == "Say what followed: whom you notified and when, or the steps taken."
    assert _counts(custodian) == before
    with pytest.raises(UsageError, match="There is no breach 99 in the register."):
        records_privacy.add_breach_follow_up(custodian, 99, steps="x")
    with pytest.raises(UsageError, match="before the breach was found"):
        records_privacy.add_breach_follow_up(custodian, first.id, notified="x", notified_on=date.today() - timedelta(days=1))
    with pytest.raises(UsageError, match="cannot be in the future"):
        records_privacy.add_breach_follow_up(custodian, first.id, notified="x", notified_on=date.today() + timedelta(days=1))
    assert _counts(custodian) == before


def test_a_follow_up_is_refused_to_roles_the_register_is_not_for(school: Path, store_key: bytes, custodian) -> None:  # type: ignore[no-untyped-def]
    first = records_privacy.add_breach(custodian, found_on=date.today(), what="Wrong email")
    welfare = open_session(school, store_key, WELFARE)
    try:
        with pytest.raises(PermissionDenied, match="Only the"):
            records_privacy.add_breach_follow_up(welfare, first.id, steps="x")
    finally:
        auth.sign_out(welfare)
    assert len(records_privacy.list_breaches(custodian)) == 1


def test_students_are_chosen_with_the_keyboard_and_enter_never_saves_early(qtbot, custodian, sync_runner) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    key, surname = _a_student(custodian)
    before = _counts(custodian)
    dialog = _dialog(qtbot, custodian)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.what.setPlainText("A list was lost.")
    chooser = dialog.students
    chooser.search.setFocus()
    chooser.search.setText(surname)  # typed (keyClicks cannot type every letter of a name)
    qtbot.keyClick(chooser.search, Qt.Key.Key_Return)  # searches; the dialog stays open
    assert chooser.found.count() >= 1 and dialog.focusWidget() is chooser.found and dialog.isVisible()
    row = next(i for i in range(chooser.found.count()) if chooser.found.item(i).data(256) == key)
    chooser.found.setCurrentRow(row)
    qtbot.keyClick(chooser.found, Qt.Key.Key_Return)  # adds the student
    assert chooser.keys() == [key] and dialog.isVisible()
    chooser.chosen_list.setFocus()
    chooser.chosen_list.setCurrentRow(0)
    qtbot.keyClick(chooser.chosen_list, Qt.Key.Key_Return)  # removes again
    assert chooser.keys() == [] and dialog.isVisible()
    qtbot.wait(20)
    assert _counts(custodian) == before  # nothing was saved by an Enter meant for the list
    chooser.search.clear()
    qtbot.keyClicks(chooser.search, "x")
    qtbot.keyClick(chooser.search, Qt.Key.Key_Return)
    assert "at least two letters" in chooser.hint.text()
