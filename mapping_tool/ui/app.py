"""Start the window: first-run wizard when there is no store, then sign-in, then the main window.

A second window on the same store is refused with a clear message (an OS file lock held for as
long as the window runs, released by the OS if the process dies).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mapping_tool import APP_ID, APP_NAME, ORG_NAME, __version__

logger = logging.getLogger(__name__)


def _args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mapping-tool", add_help=False)
    parser.add_argument("--store")
    parser.add_argument("--user")
    args, _ = parser.parse_known_args(argv)
    return args


def make_app(argv: list[str] | None = None):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_ID)
    return app


def run_app(argv: list[str]) -> int:
    from mapping_tool.logging_setup import setup_logging
    from mapping_tool.paths import check_store_location, store_choice

    setup_logging()
    args = _args(argv)
    app = make_app()

    from mapping_tool.errors import KnownError
    from mapping_tool.store.files import InstanceLock, StoreFiles
    from mapping_tool.ui.errors import ErrorDialogs, install_excepthook

    install_excepthook()
    try:
        from mapping_tool.security.policy import load_policy

        load_policy()
    except KnownError as exc:
        ErrorDialogs.show(None, APP_NAME, exc.message)
        return 1
    try:
        store_dir = store_choice(args.store).folder
        check_store_location(store_dir)
    except KnownError as exc:
        ErrorDialogs.show(None, APP_NAME, exc.message)
        return 1
    if not args.store:
        from mapping_tool.services.store_move import user_store_to_move
        from mapping_tool.ui.move_store import MoveStoreDialog

        old = user_store_to_move(store_dir)
        if old is not None:
            chosen = MoveStoreDialog.ask(old, store_dir)
            if chosen is None:
                return 0
            store_dir = chosen
    files = StoreFiles(store_dir)
    try:
        store_dir.mkdir(parents=True, exist_ok=True)
        lock = InstanceLock(files)
        lock.acquire()
    except KnownError as exc:
        ErrorDialogs.show(None, APP_NAME, exc.message)
        return 1
    except OSError as exc:
        ErrorDialogs.show(None, APP_NAME, f"The store folder {store_dir} cannot be used: {exc.strerror}.")
        return 1
    try:
        return Controller(store_dir, username=args.user or "").start(app)
    finally:
        lock.release()


class Controller:
    """Wizard → sign-in → main window, and back to sign-in after signing out."""

    def __init__(self, store_dir: Path, *, username: str = "") -> None:
        self.store_dir = store_dir
        self.username = username
        self.window = None

    def start(self, app) -> int:  # type: ignore[no-untyped-def]
        from mapping_tool.store.files import StoreFiles
        from mapping_tool.ui.wizard import FirstRunWizard

        if not StoreFiles(self.store_dir).exists():
            wizard = FirstRunWizard(self.store_dir)
            if not wizard.exec():
                return 0
            self.username = wizard.created_username
        while True:
            session = self.sign_in()
            if session is None:
                return 0
            from mapping_tool.ui.main_window import MainWindow

            self.window = MainWindow(session)
            self._signed_out = False
            self.window.signed_out.connect(self._note_sign_out)
            self.window.show()
            app.exec()
            if not self._signed_out:
                return 0

    def _note_sign_out(self) -> None:
        self._signed_out = True

    def sign_in(self):  # type: ignore[no-untyped-def]
        from mapping_tool.ui.signin import ChangePasswordDialog, SignInDialog

        dialog = SignInDialog(self.store_dir, school_label=_school_label(self.store_dir), username=self.username)
        if not dialog.exec():
            return None
        session = dialog.session
        if session.must_change_password:
            change = ChangePasswordDialog(session, forced=True)
            if not change.exec():
                from mapping_tool.services import auth

                auth.sign_out(session)
                return None
        from mapping_tool.ui.privacy import PrivacyStatementDialog

        if not PrivacyStatementDialog.acknowledged(session):  # first sign-in (or a changed statement)
            from mapping_tool.services import auth

            auth.sign_out(session)
            return None
        return session


def _school_label(store_dir: Path) -> str:
    """The school's name is inside the encrypted store, so before sign-in the dialog can only say
    which folder it opens, and only when that is not the usual one (staff need not see paths)."""
    from mapping_tool.paths import default_store_dir

    text = "Sign in with your staff account."
    try:
        usual = store_dir.expanduser().resolve() == default_store_dir().expanduser().resolve()
    except OSError:
        usual = False
    return text if usual else f"{text}\nStore folder: {store_dir}"
