"""The Administration page: the account table model, adding, resetting and disabling accounts,
the sign-in and lock settings, backups and the key display (modal dialogs replaced)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from mapping_tool.security.roles import Role
from mapping_tool.services import accounts, auth, settings
from mapping_tool.ui.pages.admin import AccountColumn, AccountDialog, AccountTableModel, AdminPage
from tests.support import CUSTODIAN, WELFARE


@pytest.fixture
def page(qtbot, custodian) -> AdminPage:  # type: ignore[no-untyped-def]
    p = AdminPage(custodian)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitExposed(p)
    return p


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """QMessageBox.information replaced: (title, text) of each call."""
    calls: list[tuple[str, str]] = []
    monkeypatch.setattr(
        QMessageBox,
        "information",
        staticmethod(lambda _parent, title, text, *a, **k: calls.append((title, text))),
    )
    return calls


def _fake_account_dialog(
    monkeypatch: pytest.MonkeyPatch, *, accept: bool = True, **fields: object
) -> None:
    def fake_exec(self: AccountDialog) -> bool:
        role = fields.get("role")
        if role is not None:
            self.role.setCurrentIndex(self.role.findData(role))
        for name in ("username", "display_name", "position", "email", "phone", "scope"):
            if name in fields:
                getattr(self, name).setText(str(fields[name]))
        return accept

    monkeypatch.setattr(AccountDialog, "exec", fake_exec)


def _cell(page: AdminPage, username: str, column: AccountColumn) -> str:
    model = page.model
    assert model is not None
    for row in range(model.rowCount()):
        if model.index(row, AccountColumn.USERNAME).data() == username:
            return model.index(row, column).data()
    raise AssertionError(f"{username} is not in the table")


def _select(page: AdminPage, username: str) -> None:
    model = page.model
    assert model is not None
    for row in range(model.rowCount()):
        if model.row_at(row).username == username:
            page.table.selectionModel().select(
                model.index(row, 0),
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            return
    raise AssertionError(f"{username} is not in the table")


def test_account_model_passes_the_model_tester(qtmodeltester, custodian) -> None:  # type: ignore[no-untyped-def]
    model = AccountTableModel()
    model.set_rows(accounts.list_users(custodian))
    assert model.rowCount() == 5
    qtmodeltester.check(model)
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in AccountColumn]
    assert headers == ["User name", "Name", "Role", "Students they see", "Status", "Last sign-in"]
    assert model.headerData(0, Qt.Orientation.Horizontal, Qt.ItemDataRole.DecorationRole) is None
    model.set_rows([])
    qtmodeltester.check(model)


def test_table_lists_accounts_with_role_scope_and_status(page: AdminPage) -> None:
    assert _cell(page, "hgteacher", AccountColumn.ROLE) == "Home group teacher"
    assert _cell(page, "hgteacher", AccountColumn.SCOPE) == "Home group 07A"
    assert _cell(page, "coordinator", AccountColumn.SCOPE) == "Year 7"  # words a school uses, not the code 07
    assert _cell(page, WELFARE, AccountColumn.SCOPE) == "Whole school"
    assert _cell(page, WELFARE, AccountColumn.STATUS) == "Active"
    assert _cell(page, WELFARE, AccountColumn.LAST_SIGN_IN) == "Never"
    signed = _cell(page, CUSTODIAN, AccountColumn.LAST_SIGN_IN)
    assert len(signed) == len("dd/mm/yyyy hh:mm") and signed[2] == "/" and signed[5] == "/"


@pytest.fixture
def melbourne_time() -> Iterator[None]:
    import os
    import time

    old = os.environ.get("TZ")
    os.environ["TZ"] = "Australia/Melbourne"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def test_last_sign_in_is_shown_in_local_time(page: AdminPage, custodian, melbourne_time) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC

    page.refresh()
    me = next(a for a in accounts.list_users(custodian) if a.username == CUSTODIAN)
    assert me.last_sign_in_at is not None
    local = me.last_sign_in_at.replace(tzinfo=UTC).astimezone()
    offset = local.utcoffset()
    assert offset is not None and offset.total_seconds() >= 10 * 3600
    assert _cell(page, CUSTODIAN, AccountColumn.LAST_SIGN_IN) == local.strftime("%d/%m/%Y %H:%M")


def test_adding_an_account_shows_it_with_role_and_scope(
    page: AdminPage, shown, monkeypatch, store_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    _fake_account_dialog(
        monkeypatch,
        username="lchen",
        role=Role.HOME_GROUP_TEACHER,
        display_name="Lee Chen",
        position="Teacher",
        email="lee.chen@education.vic.gov.au",
        scope="07b, 08C",
    )
    page.add_button.click()
    assert page.status.text() == "Added lchen."
    assert _cell(page, "lchen", AccountColumn.ROLE) == "Home group teacher"
    assert _cell(page, "lchen", AccountColumn.SCOPE) == "Home group 07B, 08C"
    assert _cell(page, "lchen", AccountColumn.STATUS) == "Must set a new password"
    assert _cell(page, "lchen", AccountColumn.NAME) == "Lee Chen"
    # The initial password was shown once, and it is the one that opens the account.
    assert len(shown) == 1
    title, text = shown[0]
    assert title == "Initial password"
    password = text.split("\n\n")[1].strip()
    user = auth.sign_in(store_dir, "lchen", password)
    try:
        assert user.must_change_password
        assert user.role is Role.HOME_GROUP_TEACHER
    finally:
        auth.sign_out(user)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"username": "bad name", "role": Role.WELFARE}, "A user name is"),
        (
            {"username": "kpatel", "role": Role.HOME_GROUP_TEACHER, "scope": ""},
            "needs at least one home group",
        ),
        (
            {"username": "kpatel", "role": Role.YEAR_LEVEL_COORDINATOR, "scope": "year seven"},
            "is not a home group or year level code",
        ),
        ({"username": WELFARE, "role": Role.WELFARE}, "already an account"),
    ],
    ids=["bad-user-name", "teacher-without-home-group", "bad-year-level", "duplicate"],
)
def test_adding_a_bad_account_shows_why_and_adds_nothing(
    page: AdminPage, shown, monkeypatch, fields, expected: str
) -> None:  # type: ignore[no-untyped-def]
    before = page.model.rowCount()  # type: ignore[union-attr]
    _fake_account_dialog(monkeypatch, **fields)
    page.add_button.click()
    assert expected in page.status.text()
    assert page.model.rowCount() == before  # type: ignore[union-attr]
    assert shown == []


def test_cancelled_dialog_adds_nothing(page: AdminPage, shown, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _fake_account_dialog(monkeypatch, accept=False, username="ghost", role=Role.WELFARE)
    page.add_button.click()
    assert page.model.rowCount() == 5  # type: ignore[union-attr]
    assert shown == []


def test_account_dialog_scope_follows_the_role(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = AccountDialog()
    qtbot.addWidget(dialog)
    dialog.role.setCurrentIndex(dialog.role.findData(Role.WELFARE))
    assert not dialog.scope.isEnabled()
    assert dialog.selected_role() is Role.WELFARE
    dialog.role.setCurrentIndex(dialog.role.findData(Role.HOME_GROUP_TEACHER))
    assert dialog.scope.isEnabled()
    assert (
        dialog.scope_label.text() == "Home &groups:"
        and dialog.scope.accessibleName() == "Home groups"
    )
    dialog.role.setCurrentIndex(dialog.role.findData(Role.YEAR_LEVEL_COORDINATOR))
    assert dialog.scope.isEnabled()
    assert dialog.scope.accessibleName() == "Year levels"
    dialog.scope.setText("07; 08 ,, 09")
    assert dialog.codes() == ["07", "08", "09"]


def test_disabling_an_account_marks_it_disabled(
    page: AdminPage, custodian, store_dir: Path
) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.security.keyslots import KeySlotFile

    _select(page, WELFARE)
    page.disable_button.click()
    assert page.status.text() == f"Disabled {WELFARE}."
    assert _cell(page, WELFARE, AccountColumn.STATUS) == "Disabled"
    assert KeySlotFile.load(custodian.store.files.keys).user_slot(WELFARE) is None


def test_custodian_cannot_disable_themself(page: AdminPage) -> None:
    _select(page, CUSTODIAN)
    page.disable_button.click()
    assert page.status.text() == "You cannot disable your own account."
    assert page.status.isVisible()
    assert _cell(page, CUSTODIAN, AccountColumn.STATUS) == "Active"


def test_buttons_follow_the_selected_account(page: AdminPage) -> None:
    page.table.clearSelection()
    assert not any(
        b.isEnabled() for b in (page.disable_button, page.reset_button, page.enable_button)
    )
    page._with_selected(page.disable_account)  # a stray shortcut with nothing selected
    assert page.status.text() == "Select an account first."
    _select(page, WELFARE)
    assert page.disable_button.isEnabled() and page.reset_button.isEnabled()
    assert not page.enable_button.isEnabled()
    page.disable_button.click()
    # still selected after the table refreshed, and now it can only be enabled
    assert page.selected_username() == WELFARE
    assert page.enable_button.isEnabled()
    assert not page.disable_button.isEnabled() and not page.reset_button.isEnabled()


def test_enabling_a_disabled_account_gives_it_a_new_password(page: AdminPage, shown) -> None:  # type: ignore[no-untyped-def]
    _select(page, WELFARE)
    page.disable_button.click()
    page.enable_button.click()
    assert page.status.text() == f"Enabled {WELFARE}."
    assert _cell(page, WELFARE, AccountColumn.STATUS) == "Must set a new password"
    assert len(shown) == 1 and shown[0][0] == "Initial password"


def test_reset_password_shows_a_new_initial_password(page: AdminPage, shown) -> None:  # type: ignore[no-untyped-def]
    _select(page, WELFARE)
    page.reset_button.click()
    assert page.status.text() == f"Reset {WELFARE}'s password."
    assert _cell(page, WELFARE, AccountColumn.STATUS) == "Must set a new password"
    assert len(shown) == 1 and WELFARE in shown[0][1]


def test_settings_save_through_the_service(page: AdminPage, custodian) -> None:  # type: ignore[no-untyped-def]
    assert (page.attempts.value(), page.lock_minutes.value(), page.idle_minutes.value()) == (
        5,
        15,
        15,
    )
    page.attempts.setValue(7)
    page.lock_minutes.setValue(30)
    page.idle_minutes.setValue(10)
    page.save_settings_button.click()
    assert page.status.text() == "Settings saved."
    assert settings.get_settings(custodian) == settings.AppSettings(
        lockout_attempts=7, lockout_minutes=30, idle_lock_minutes=10
    )


def test_settings_spin_boxes_keep_to_the_service_limits(page: AdminPage) -> None:
    for box, key in (
        (page.attempts, "lockout_attempts"),
        (page.lock_minutes, "lockout_minutes"),
        (page.idle_minutes, "idle_lock_minutes"),
    ):
        low, high, _ = settings.LIMITS[key]
        assert (box.minimum(), box.maximum()) == (low, high)


def test_backup_now_writes_the_chosen_file_off_the_ui_thread(page: AdminPage, qtbot, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "school.smtbackup"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), ""))
    )
    page.backup_button.click()
    assert not page.backup_button.isEnabled()  # running in the background
    qtbot.waitUntil(lambda: page.backup_button.isEnabled(), timeout=30000)
    assert out.exists() and out.stat().st_size > 0
    assert str(out) in page.status.text()


def test_backup_cancelled_writes_nothing(page: AdminPage, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    page.backup_button.click()
    assert page.status.text() == ""
    assert list(tmp_path.glob("*.smtbackup")) == []


def test_show_key_with_a_wrong_password_shows_nothing(page: AdminPage, shown, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(
        QInputDialog, "getText", staticmethod(lambda *a, **k: ("wrong-password-here", True))
    )
    page.show_key_button.click()
    assert page.status.text() == "The password is not correct."
    assert shown == []


def test_teacher_gets_no_administration(qtbot, teacher) -> None:  # type: ignore[no-untyped-def]
    p = AdminPage(teacher)
    qtbot.addWidget(p)
    assert p.model is None
    assert not hasattr(p, "table")


# -- the tabs ---------------------------------------------------------------------------------------


def test_custodian_page_has_the_administration_tabs(page: AdminPage) -> None:
    assert page.tabs is not None
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "Accounts",
        "Who may see what",
        "Audit log",
        "Risk rules",
        "Tier overrides",
        "Records",
    ]
    assert page.tabs.currentIndex() == 0 and page.table.isVisible()
    assert page.policy_grid is not None and page.policy_grid.editable
    assert page.rules_page is not None and not page.rules_page.change_button.isHidden()
    with pytest.raises(KeyError):
        page.show_tab("Nothing like this")


def test_opening_the_audit_tab_shows_what_was_just_done(page: AdminPage) -> None:
    _select(page, WELFARE)
    page.disable_button.click()
    viewer = page.show_tab(AdminPage.TAB_AUDIT)
    assert viewer is page.audit_viewer
    top = page.audit_viewer.model.row_at(0)  # type: ignore[union-attr]
    assert (top.action, top.object_id) == ("account.disabled", WELFARE)
    assert page.audit_viewer.model.index(0, 3).data() == "Disabled an account"  # type: ignore[union-attr]
    page.show_tab(AdminPage.TAB_ACCOUNTS)
    assert _cell(page, WELFARE, AccountColumn.STATUS) == "Disabled"


def test_narrowing_in_the_policy_tab_is_in_the_audit_tab(page: AdminPage, custodian) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import students

    grid = page.show_tab(AdminPage.TAB_POLICY)
    assert grid is page.policy_grid
    assert page.policy_grid.set_allowed("year-level-coordinator", "vels_achievement", False)  # type: ignore[union-attr]
    assert not students.effective_policy(custodian).allows_item(
        Role.YEAR_LEVEL_COORDINATOR, "vels_achievement"
    )
    page.show_tab(AdminPage.TAB_AUDIT)
    top = page.audit_viewer.model.row_at(0)  # type: ignore[union-attr]
    assert (top.action, top.object_id) == ("policy.changed", "year-level-coordinator")
    assert "Curriculum achievement (Victorian Curriculum, formerly VELS); allowed → narrowed" in page.audit_viewer.model.index(0, 5).data()  # type: ignore[union-attr]


def test_welfare_gets_no_administration(qtbot, store_dir: Path, store_key: bytes) -> None:  # type: ignore[no-untyped-def]
    from tests.ui.conftest import open_session

    welfare = open_session(store_dir, store_key, WELFARE)
    try:
        p = AdminPage(welfare)
        qtbot.addWidget(p)
        assert p.model is None and p.tabs is None and p.audit_viewer is None
        from PySide6.QtWidgets import QLabel

        assert any(
            "Only the data custodian administers" in label.text()
            for label in p.findChildren(QLabel)
        )
    finally:
        auth.sign_out(welfare)
