"""The main window: navigation, status bar, idle lock and sign-out, for a custodian and a teacher."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from mapping_tool.ui.main_window import MainWindow
from mapping_tool.ui.pages.placeholder import PlaceholderPage
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT
from tests.ui.helpers import audit_actions

SECTIONS = [
    "Students",
    "Interventions",
    "Referrals",
    "Imports",
    "Reports",
    "Administration",
    "My profile",
]


def _window(qtbot, session) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _label_text(widget: QWidget) -> str:
    return " ".join(label.text() for label in widget.findChildren(QLabel))


@pytest.mark.parametrize("who", ["custodian", "teacher"])
def test_every_navigation_entry_builds_its_page(qtbot, request, who: str) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, request.getfixturevalue(who))
    # a teacher is not offered the sections their role cannot use (tests/ui/test_keyboard.py)
    sections = SECTIONS if who == "custodian" else [s for s in SECTIONS if s not in ("Imports", "Administration")]
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == sections
    for row, name in enumerate(sections):
        window.nav.setCurrentRow(row)
        page = window.pages[name]
        assert window.stack.currentWidget() is page
        assert page.isVisible()
        assert name.lower() in _label_text(page).lower(), f"{name} page has no heading"
        if isinstance(page, PlaceholderPage):
            text = _label_text(page)
            assert text.count("<li") >= 1, f"{name} placeholder lists nothing"
            assert "coming update" in text
            assert len(re.sub("<[^>]+>", "", text)) > 150, f"{name} placeholder says too little"
    # show_page returns the built page without building it twice
    assert window.show_page("Students") is window.pages["Students"]


def test_every_section_is_a_real_page_not_a_placeholder(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    """Interventions and Referrals have arrived: no section of the window is a placeholder now."""
    window = _window(qtbot, custodian)
    for row in range(window.nav.count()):
        name = window.nav.item(row).text()
        assert not isinstance(window.show_page(name), PlaceholderPage), f"{name} is still a placeholder"


def test_status_bar_shows_school_user_role_and_extract(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, custodian)
    assert window.school_label.text() == "Example Secondary College, school 8123"
    assert "Casey Custodian" in window.user_label.text()
    assert "Data custodian" in window.user_label.text()
    extract = window.extract_label.text()
    assert extract == "No CASES21 extract imported yet" or re.fullmatch(
        r"Latest extract: \d\d/\d\d/\d{4}", extract
    )
    for label in (window.school_label, window.user_label, window.extract_label):
        assert label.isVisible()
    assert "Example Secondary College" in window.windowTitle()


def test_teacher_sees_their_role_and_no_administration(qtbot, teacher) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, teacher)
    assert "Harper Teacher" in window.user_label.text()
    assert "Home group teacher" in window.user_label.text()
    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert "Administration" not in names and "Imports" not in names
    assert "are for the data custodian and the principal" in window.sections_note.text()
    assert window.sections_note.isVisible()
    profile = window.show_page("My profile")
    assert profile.username.text() == HGT  # type: ignore[attr-defined]
    assert "07A" in profile.scope.text()  # type: ignore[attr-defined]


# -- idle lock ----------------------------------------------------------------------------------
def _lock_by_idling(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.idle.timer.setInterval(50)
    window.idle.timer.start()
    qtbot.waitUntil(lambda: window.locked, timeout=3000)
    qtbot.waitUntil(lambda: window.lock_dialog.isVisible())


def test_idle_lock_hides_the_page_and_only_the_password_unlocks(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.store.models import AuditEntry

    window = _window(qtbot, custodian)
    window.show_page("My profile")
    _lock_by_idling(qtbot, window)
    dialog = window.lock_dialog
    assert window.centralWidget().isHidden()
    assert not window.idle.timer.isActive()
    assert "Casey Custodian" in _label_text(dialog)

    dialog.password.setText("not-the-password-at-all")
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    assert dialog.message.isVisible()
    assert dialog.message.text() == "That password is not correct."
    assert dialog.password.text() == ""
    assert window.locked and window.centralWidget().isHidden() and dialog.isVisible()

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert dialog.isVisible() and window.locked
    dialog.close()  # the title bar's close button
    assert dialog.isVisible() and window.locked

    dialog.password.setText(CUSTODIAN_PASSWORD)
    qtbot.mouseClick(dialog.unlock_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.locked)
    assert not dialog.isVisible()
    assert window.centralWidget().isVisible()
    assert window.pages["My profile"].isVisible()
    assert window.idle.timer.isActive()

    with custodian.store.read() as s:
        actions = [a for (a,) in s.query(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions[-2:] == ["unlock.failed", "unlock"]


def test_sign_out_from_the_lock_signs_the_session_out(
    qtbot, custodian, store_dir: Path, store_key: bytes
) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, custodian)
    _lock_by_idling(qtbot, window)
    with qtbot.waitSignal(window.signed_out):
        qtbot.mouseClick(window.lock_dialog.sign_out_button, Qt.MouseButton.LeftButton)
    assert custodian.signed_out
    assert not window.isVisible()
    assert not window.idle.timer.isActive()
    last = audit_actions(store_dir, store_key)[-1]
    assert last == (CUSTODIAN, "sign-out", CUSTODIAN)


def test_lock_closes_message_boxes_and_modal_dialogs(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.admin import AccountDialog

    window = _window(qtbot, custodian)
    box = QMessageBox(QMessageBox.Icon.Information, "Note", "Something on screen", parent=window)
    box.open()
    account = AccountDialog(window)
    account.setWindowModality(Qt.WindowModality.ApplicationModal)  # as exec() runs it
    account.show()
    qtbot.waitUntil(lambda: box.isVisible() and account.isVisible())
    with qtbot.waitSignal(account.rejected):
        window.lock()
    assert not box.isVisible() and not account.isVisible()
    assert window.lock_dialog.isVisible()


def test_lock_hides_work_in_progress_and_brings_it_back(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDialog

    window = _window(qtbot, custodian)
    running = QDialog(window)  # like the import wizard: opened with open(), a job running
    running.open()
    qtbot.waitUntil(running.isVisible)
    with qtbot.assertNotEmitted(running.rejected):
        window.lock()
    assert not running.isVisible()
    window.lock_dialog.password.setText(CUSTODIAN_PASSWORD)
    window.lock_dialog.attempt()
    qtbot.waitUntil(lambda: not window.locked)
    assert running.isVisible()


def test_locking_twice_keeps_one_unlock_dialog(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.signin import UnlockDialog

    window = _window(qtbot, custodian)
    window.lock()
    first = window.lock_dialog
    window.lock()  # already locked: nothing new
    assert window.lock_dialog is first
    first.password.setText(CUSTODIAN_PASSWORD)
    first.attempt()
    window.lock()
    qtbot.waitUntil(lambda: len(window.findChildren(UnlockDialog)) == 1)
    assert window.lock_dialog is not first


def test_status_bar_follows_a_corrected_name(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, custodian)
    profile = window.show_page("My profile")
    profile.display_name.setText("Casey Reyes")  # type: ignore[attr-defined]
    profile.save.click()  # type: ignore[attr-defined]
    assert "Casey Reyes" in window.user_label.text()


def test_window_fits_a_small_screen(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, custodian)
    available = window.screen().availableGeometry()
    assert window.width() <= max(1180, available.width())
    assert window.height() <= available.height()


def test_input_resets_the_idle_timer(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, custodian)
    timer = window.idle.timer
    # A coarse 60 s timer reports its remaining time in whole seconds; be precise for the test.
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(60_000)
    timer.start()
    qtbot.waitUntil(lambda: timer.remainingTime() < 59_950, timeout=2000)
    qtbot.keyClick(window.nav, Qt.Key.Key_Down)
    assert timer.remainingTime() > 59_950
    qtbot.waitUntil(lambda: timer.remainingTime() < 59_950, timeout=2000)
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(10, 10))
    assert timer.remainingTime() > 59_950
    assert not window.locked


def test_idle_minutes_come_from_the_settings(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import settings

    settings.set_setting(custodian, "idle_lock_minutes", "7")
    window = _window(qtbot, custodian)
    assert window.idle.timer.interval() == 7 * 60_000


def test_sign_out_from_the_menu(qtbot, custodian, store_dir: Path, store_key: bytes) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, custodian)
    with qtbot.waitSignal(window.signed_out):
        window.sign_out_action.trigger()
    assert custodian.signed_out
    assert not window.isVisible()
    assert audit_actions(store_dir, store_key)[-1][1] == "sign-out"


def test_closing_the_window_signs_out(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, custodian)
    window.close()
    assert custodian.signed_out
    assert not window.idle.timer.isActive()


def test_no_button_flashes_up_as_a_window_of_its_own_while_the_pages_are_built(qtbot, custodian) -> None:  # type: ignore[no-untyped-def]
    """A button shown before it has a parent becomes a window of its own for a moment: it flashes
    on the screen and takes the focus from the main window, whose Alt+letter keys then do nothing.
    Building every page (and the Administration tabs) shows no button that way."""
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QAbstractButton, QApplication, QTabWidget

    shown: list[str] = []

    class Watch(QObject):
        def eventFilter(self, obj, event) -> bool:  # type: ignore[no-untyped-def]
            if event.type() == QEvent.Type.Show and isinstance(obj, QAbstractButton) and obj.isWindow():
                shown.append(obj.text())
            return False

    watch = Watch()
    QApplication.instance().installEventFilter(watch)
    try:
        window = _window(qtbot, custodian)
        for row in range(window.nav.count()):
            window.nav.setCurrentRow(row)
            for tabs in window.stack.currentWidget().findChildren(QTabWidget):
                for index in range(tabs.count()):
                    tabs.setCurrentIndex(index)
    finally:
        QApplication.instance().removeEventFilter(watch)
    assert shown == []
