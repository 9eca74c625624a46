"""Sign-in and change-password dialogs against the real encrypted store (no mocks of the store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox

from mapping_tool.security.roles import Role
from mapping_tool.services import auth
from mapping_tool.ui.signin import ChangePasswordDialog, SignInDialog
from tests.support import WELFARE, WELFARE_PASSWORD, file_hashes

WRONG = "The user name or password is not correct."


@pytest.fixture
def dialog(qtbot, store_dir: Path, sync_runner) -> SignInDialog:  # type: ignore[no-untyped-def]
    d = SignInDialog(store_dir, school_label="Example Secondary College")
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def _sign_in_button(d: SignInDialog):  # type: ignore[no-untyped-def]
    return d.buttons.button(QDialogButtonBox.StandardButton.Ok)


def _attempt(qtbot, d: SignInDialog, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    d.username.setText(username)
    d.password.setText(password)
    qtbot.mouseClick(_sign_in_button(d), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: d.username.isEnabled())  # the job came back


def test_wrong_password_shows_the_message_and_clears_the_field(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    _attempt(qtbot, dialog, WELFARE, "not-the-right-password-1")
    assert dialog.message.isVisible()
    assert dialog.message.text() == WRONG
    assert dialog.password.text() == ""
    assert dialog.session is None
    assert dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_unknown_user_gets_the_same_message(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    _attempt(qtbot, dialog, "nobody-here", "not-the-right-password-1")
    assert dialog.message.text() == WRONG


@pytest.mark.parametrize(
    ("username", "password"), [("", ""), (WELFARE, ""), ("", WELFARE_PASSWORD), ("   ", "x")]
)
def test_empty_fields_prompt_without_trying(
    qtbot, dialog: SignInDialog, store_dir: Path, username: str, password: str
) -> None:  # type: ignore[no-untyped-def]
    before = file_hashes(store_dir)
    dialog.username.setText(username)
    dialog.password.setText(password)
    qtbot.mouseClick(_sign_in_button(dialog), Qt.MouseButton.LeftButton)
    assert dialog.message.isVisible()
    assert dialog.message.text() == "Enter your user name and password."
    assert dialog.username.isEnabled()
    assert file_hashes(store_dir) == before


def test_right_password_emits_signed_in_and_accepts(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    dialog.username.setText(WELFARE)
    dialog.password.setText(WELFARE_PASSWORD)
    with qtbot.waitSignal(dialog.signed_in, timeout=10_000) as blocker:
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    session = blocker.args[0]
    try:
        assert session is dialog.session
        assert session.role is Role.WELFARE
        assert session.username == WELFARE
        assert dialog.result() == QDialog.DialogCode.Accepted
        assert not dialog.isVisible()
    finally:
        auth.sign_out(session)


def test_account_locked_after_five_failures_shows_the_lock_message(
    qtbot, dialog: SignInDialog
) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        _attempt(qtbot, dialog, WELFARE, "wrong-guess-wrong-guess")
        assert dialog.message.text() == WRONG
    _attempt(qtbot, dialog, WELFARE, "wrong-guess-wrong-guess")
    assert "locked for 15 minutes" in dialog.message.text()
    # Even the right password is refused now, with the lock explained.
    _attempt(qtbot, dialog, WELFARE, WELFARE_PASSWORD)
    assert dialog.session is None
    assert "locked" in dialog.message.text()
    assert dialog.isVisible()


def test_busy_while_signing_in(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    dialog.username.setText(WELFARE)
    dialog.password.setText("wrong-guess-wrong-guess")
    qtbot.mouseClick(_sign_in_button(dialog), Qt.MouseButton.LeftButton)
    assert not dialog.username.isEnabled()
    assert not dialog.busy.isHidden()
    qtbot.waitUntil(lambda: dialog.username.isEnabled())
    assert dialog.busy.isHidden()


# -- change password ----------------------------------------------------------------------------
NEW_USER = "tnewstaff"
FIRST_PASSWORD = "orchid-lantern-basalt-42"
CHOSEN = "meadow-cobalt-ferry-lantern-19"


@pytest.fixture(scope="module")
def must_change_template(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template store plus an account the custodian made (so it must change its password);
    made once per module, copied per test."""
    import shutil

    from mapping_tool.services import accounts
    from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD

    folder = tmp_path_factory.mktemp("must-change") / "store"
    shutil.copytree(template_store, folder)
    custodian = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        accounts.add_user(
            custodian, NEW_USER, Role.WELFARE, FIRST_PASSWORD, display_name="Toni Newstaff"
        )
    finally:
        auth.sign_out(custodian)
    return folder


@pytest.fixture
def new_user(must_change_template: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Signed in as that account, in this test's own copy of the store."""
    import shutil

    folder = tmp_path / "store"
    shutil.copytree(must_change_template, folder)
    user = auth.sign_in(folder, NEW_USER, FIRST_PASSWORD)
    assert user.must_change_password
    yield user
    auth.sign_out(user)


@pytest.fixture
def change_dialog(qtbot, new_user) -> ChangePasswordDialog:  # type: ignore[no-untyped-def]
    d = ChangePasswordDialog(new_user, forced=True)
    qtbot.addWidget(d)
    d.show()
    qtbot.waitExposed(d)
    return d


def _change(d: ChangePasswordDialog, current: str, new: str, again: str) -> None:
    d.current.setText(current)
    d.new.setText(new)
    d.again.setText(again)
    d.attempt()


@pytest.mark.parametrize(
    ("current", "new", "again", "expected"),
    [
        (FIRST_PASSWORD, CHOSEN, CHOSEN + "x", "The two new passwords do not match."),
        (FIRST_PASSWORD, "password1234", "password1234", "too easy to guess"),
        (FIRST_PASSWORD, "short-1", "short-1", "at least 12 characters"),
        (FIRST_PASSWORD, FIRST_PASSWORD, FIRST_PASSWORD, "must differ"),
        ("not-my-password-at-all", CHOSEN, CHOSEN, "The current password is not correct."),
    ],
    ids=["mismatch", "weak", "short", "unchanged", "wrong-current"],
)
def test_bad_change_shows_a_message_and_changes_nothing(  # type: ignore[no-untyped-def]
    change_dialog: ChangePasswordDialog, new_user, current: str, new: str, again: str, expected: str
) -> None:
    from mapping_tool.services import accounts

    keyfile = new_user.store.files.keys
    before = keyfile.read_bytes()
    _change(change_dialog, current, new, again)
    assert change_dialog.message.isVisible()
    assert expected in change_dialog.message.text()
    assert change_dialog.isVisible()
    assert change_dialog.result() != QDialog.DialogCode.Accepted
    assert keyfile.read_bytes() == before
    assert accounts.my_profile(new_user).must_change_password
    assert new_user.must_change_password


def test_valid_change_lets_the_user_in_with_the_new_password_only(
    change_dialog: ChangePasswordDialog, new_user
) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.errors import AuthenticationError
    from mapping_tool.services import accounts

    _change(change_dialog, FIRST_PASSWORD, CHOSEN, CHOSEN)
    assert change_dialog.result() == QDialog.DialogCode.Accepted
    assert not change_dialog.isVisible()
    assert not new_user.must_change_password
    assert not accounts.my_profile(new_user).must_change_password
    auth.sign_out(new_user)

    store_dir = new_user.store.files.folder
    with pytest.raises(AuthenticationError):
        auth.sign_in(store_dir, NEW_USER, FIRST_PASSWORD)
    again = auth.sign_in(store_dir, NEW_USER, CHOSEN)
    try:
        assert again.username == NEW_USER
        assert not again.must_change_password
    finally:
        auth.sign_out(again)


def test_forced_change_says_why(change_dialog: ChangePasswordDialog) -> None:
    from PySide6.QtWidgets import QLabel

    texts = " ".join(w.text() for w in change_dialog.findChildren(QLabel))
    assert "set by the data custodian" in texts
    assert "at least 12 characters" in texts


def test_the_dialog_grows_to_show_the_message(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    before = dialog.height()
    _attempt(qtbot, dialog, WELFARE, "not-the-right-password-1")
    message = dialog.message
    assert dialog.height() >= before + message.heightForWidth(message.width())
    for label in dialog.findChildren(QLabel):  # nothing squeezed to make room for it
        if label.isVisible() and label.wordWrap():
            assert label.height() >= label.heightForWidth(label.width()), label.text()


def test_sign_in_names_the_store_folder_only_when_it_is_not_the_usual_one(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.app import _school_label

    monkeypatch.setenv("MAPPING_TOOL_STORE", str(tmp_path / "usual"))
    assert _school_label(tmp_path / "usual") == "Sign in with your staff account."
    other = _school_label(tmp_path / "elsewhere")
    assert other.startswith("Sign in with your staff account.")
    assert str(tmp_path / "elsewhere") in other


def test_escape_while_signing_in_waits_for_the_answer(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    dialog.username.setText(WELFARE)
    dialog.password.setText(WELFARE_PASSWORD)
    with qtbot.waitSignal(dialog.signed_in, timeout=10_000) as blocker:
        dialog.attempt()
        dialog.reject()  # Escape / close while the key is being derived
        assert dialog.isVisible()
    try:
        assert dialog.result() == QDialog.DialogCode.Accepted
    finally:
        auth.sign_out(blocker.args[0])


def test_quit_when_idle_closes_the_dialog(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    dialog.reject()
    assert not dialog.isVisible()
    assert dialog.result() == QDialog.DialogCode.Rejected
