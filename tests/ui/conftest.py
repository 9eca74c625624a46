"""Fixtures for the GUI tests: signed-in sessions of other roles, an audit reader, and a check
that no test leaves thread-pool work running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import CUSTODIAN, HGT

_HERE = Path(__file__).parent

# The offscreen platform plugin (used headless) cannot resize native windows and says so whenever
# a shown dialog's size hint changes (a message label appearing); on a real desktop this is silent.
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints\(\)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


@pytest.fixture(autouse=True)
def _no_leftover_pool_work(qapp, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QThreadPool

    from mapping_tool.services import auth
    from mapping_tool.ui import worker

    pool = QThreadPool.globalInstance()
    sign_out = auth.sign_out

    def sign_out_after_the_tasks(user):  # type: ignore[no-untyped-def]
        # As the window does (MainWindow.sign_out): no task is left reading the store it closes
        # (the fixtures that sign out are torn down before this one).
        worker.finish_all()
        sign_out(user)

    monkeypatch.setattr(auth, "sign_out", sign_out_after_the_tasks)
    yield
    leftover = pool.activeThreadCount()
    pool.waitForDone(5000)  # never leave it running into the next test, even when failing
    assert leftover == 0, f"the test left {leftover} thread-pool task(s) running"


def open_session(store_dir: Path, key: bytes, username: str):  # type: ignore[no-untyped-def]
    """Sign ``username`` in with the store's key instead of deriving it from the password.

    Everything after the key derivation is the real sign-in (the store opened, the account
    checked, the audit entry written, a real UserSession); only the ~0.5 s of scrypt is skipped,
    so that page tests do not pay for it. The sign-in itself is tested through SignInDialog
    (test_signin.py) and the unlock dialog, with real passwords.
    """
    from mapping_tool.security.keyslots import KeySlotFile
    from mapping_tool.security.signin_state import SignInState
    from mapping_tool.services import auth
    from mapping_tool.store.files import StoreFiles

    files = StoreFiles(store_dir)
    keyfile = KeySlotFile.load(files.keys)
    slot = keyfile.user_slot(username)
    assert slot is not None
    store = auth.open_with_key(files, key, keyfile, actor=username)
    return auth._finish_sign_in(store, SignInState.load(store_dir), slot)


@pytest.fixture
def custodian(store_dir: Path, store_key: bytes):  # type: ignore[no-untyped-def]
    """A signed-in custodian (overrides the top-level fixture: no key derivation, see open_session)."""
    from mapping_tool.services import auth

    user = open_session(store_dir, store_key, CUSTODIAN)
    yield user
    auth.sign_out(user)


@pytest.fixture
def teacher(store_dir: Path, store_key: bytes):  # type: ignore[no-untyped-def]
    """A signed-in home group teacher (07A), opened like ``custodian``."""
    from mapping_tool.services import auth

    user = open_session(store_dir, store_key, HGT)
    yield user
    auth.sign_out(user)


class ErrorDialogCalls(list):  # type: ignore[type-arg]
    """(title, text, critical) of each error dialog the code under test asked for."""


@pytest.fixture(autouse=True)
def _no_modal_dialogs(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[ErrorDialogCalls]:
    """No test may block in a modal loop: error dialogs are recorded, and a QMessageBox static
    call or a dialog's exec() that a test did not replace fails the test instead of hanging it.
    A test that expects an error dialog asks for the ``error_dialogs`` fixture; otherwise any
    error dialog fails the test (it would have been an unexpected crash or a missed message)."""
    from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox

    from mapping_tool.ui import errors

    calls = ErrorDialogCalls()

    def record(parent, title, text, *, critical=False):  # type: ignore[no-untyped-def]
        calls.append((title, text, critical))

    monkeypatch.setattr(errors.ErrorDialogs, "show", staticmethod(record))

    def refuse(name: str):  # type: ignore[no-untyped-def]
        def blocked(*_a, **_k):  # type: ignore[no-untyped-def]
            raise AssertionError(
                f"{name} would block the test in a modal loop; replace it in the test"
            )

        return blocked

    for name in ("information", "warning", "critical", "question", "about"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(refuse(f"QMessageBox.{name}")))
    for name in ("getSaveFileName", "getOpenFileName", "getOpenFileNames", "getExistingDirectory"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(refuse(f"QFileDialog.{name}")))
    for name in ("getText", "getInt", "getItem", "getMultiLineText"):
        monkeypatch.setattr(QInputDialog, name, staticmethod(refuse(f"QInputDialog.{name}")))
    monkeypatch.setattr(QDialog, "exec", refuse("QDialog.exec()"))
    yield calls
    if "error_dialogs" not in request.fixturenames:
        assert not calls, f"unexpected error dialog(s): {calls}"


@pytest.fixture
def error_dialogs(_no_modal_dialogs: ErrorDialogCalls) -> ErrorDialogCalls:
    return _no_modal_dialogs
