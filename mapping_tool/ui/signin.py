"""Sign-in, change-password and unlock dialogs.

Key derivation (scrypt, about half a second) runs on the thread pool so the dialog never
freezes; the heavy modules the main window needs are imported meanwhile.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from mapping_tool import APP_NAME
from mapping_tool.errors import KnownError
from mapping_tool.ui import worker
from mapping_tool.ui.errors import show_error

logger = logging.getLogger(__name__)


def _heading(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont(label.font())
    font.setPointSizeF(font.pointSizeF() * 1.35)
    font.setBold(True)
    label.setFont(font)
    return label


def _message_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #1f1f1f; background: #fdecea; border: 1px solid #e0b4b4; padding: 6px;")
    label.setAccessibleName("Sign-in message")
    label.hide()
    return label


def _show_message(dialog: QDialog, label: QLabel, text: str) -> None:
    """Show the message and grow the dialog by the room it takes, so nothing else is squeezed."""
    layout = dialog.layout()
    margins = layout.contentsMargins() if layout is not None else None
    width = dialog.width() - (margins.left() + margins.right() if margins is not None else 0)
    spacing = max(layout.spacing(), 0) if layout is not None else 0
    before = label.heightForWidth(width) + spacing if label.isVisible() else 0
    label.setText(text)
    label.show()
    grow = label.heightForWidth(width) + spacing - before
    if grow > 0 and dialog.isVisible():
        dialog.resize(dialog.width(), dialog.height() + grow)


class SignInDialog(QDialog):
    """Asks for user name and password; on success ``session`` holds the UserSession."""

    signed_in = Signal(object)

    def __init__(self, store_dir: Path, *, school_label: str = "", username: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store_dir = store_dir
        self.session = None
        self.setWindowTitle(f"Sign in – {APP_NAME}")
        self.setMinimumWidth(420)

        layout = QVBoxLayout(self)
        layout.addWidget(_heading(APP_NAME))
        sub = QLabel(school_label or "Sign in with your staff account.")
        sub.setWordWrap(True)
        layout.addWidget(sub)

        form = QFormLayout()
        self.username = QLineEdit(username)
        self.username.setAccessibleName("User name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        user_label = QLabel("&User name:")
        user_label.setBuddy(self.username)
        pw_label = QLabel("&Password:")
        pw_label.setBuddy(self.password)
        form.addRow(user_label, self.username)
        form.addRow(pw_label, self.password)
        layout.addLayout(form)

        self.message = _message_label()
        layout.addWidget(self.message)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        self.busy.hide()
        layout.addWidget(self.busy)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Quit")
        self.buttons.accepted.connect(self.attempt)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        note = QLabel(
            "Every view, change, export and print is recorded. Only use this tool for the purposes "
            "your principal authorised."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")
        layout.addWidget(note)
        (self.password if username else self.username).setFocus()

    def attempt(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            self.show_message("Enter your user name and password.")
            return
        self._set_busy(True)
        folder = self.store_dir

        def work(_progress: worker.Progress) -> object:
            from mapping_tool.services import auth

            return auth.sign_in(folder, username, password)

        self._job = worker.runner.start(work, self)
        self._job.finished.connect(self._done)
        self._job.failed.connect(self._failed)
        _preload_in_background()

    def _done(self, session: object) -> None:
        self._set_busy(False)
        self.session = session
        self.signed_in.emit(session)
        self.accept()

    def _failed(self, exc: object) -> None:
        self._set_busy(False)
        self.password.clear()
        self.password.setFocus()
        if isinstance(exc, KnownError):
            self.show_message(exc.message)
        else:
            show_error(self, exc)  # type: ignore[arg-type]

    def show_message(self, text: str) -> None:
        _show_message(self, self.message, text)

    def reject(self) -> None:
        # Escape or the close button while the key is being derived would leave the store
        # opened by the worker with nobody to close it: wait for the (sub-second) answer.
        if self.busy.isVisible() or not self.username.isEnabled():
            return
        super().reject()

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for w in (self.username, self.password, self.buttons):
            w.setEnabled(not busy)


def _preload_in_background() -> None:
    """Import what the main window needs while scrypt runs on another thread."""
    import threading

    def load() -> None:
        try:
            import mapping_tool.ui.main_window  # noqa: F401
        except Exception:  # noqa: BLE001 - the real import later reports problems
            logger.debug("preload failed")

    threading.Thread(target=load, daemon=True).start()


class ChangePasswordDialog(QDialog):
    """The first-sign-in (or voluntary) password change."""

    def __init__(self, session, *, forced: bool, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Choose a new password")
        self.setMinimumWidth(440)
        layout = QVBoxLayout(self)
        intro = QLabel(
            ("Your password was set by the data custodian. Choose your own before you continue. " if forced else "")
            + "Use at least 12 characters: a phrase of several unrelated words is easy to remember and hard to guess."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.current = self._pw("Current password")
        self.new = self._pw("New password")
        self.again = self._pw("New password again")
        for text, field in (("&Current password:", self.current), ("&New password:", self.new), ("New password &again:", self.again)):
            label = QLabel(text)
            label.setBuddy(field)
            form.addRow(label, field)
        layout.addLayout(form)
        self.message = _message_label()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Change password")
        buttons.accepted.connect(self.attempt)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _pw(self, name: str) -> QLineEdit:
        field = QLineEdit()
        field.setEchoMode(QLineEdit.EchoMode.Password)
        field.setAccessibleName(name)
        return field

    def attempt(self) -> None:
        from mapping_tool.services import auth

        if self.new.text() != self.again.text():
            _show_message(self, self.message, "The two new passwords do not match.")
            return
        try:
            auth.change_password(self.session, self.current.text(), self.new.text())
        except KnownError as exc:
            _show_message(self, self.message, exc.message)
            return
        self.accept()


class UnlockDialog(QDialog):
    """Shown when the window locks after idle time: only the same user's password unlocks."""

    def __init__(self, session, parent: QWidget | None = None, *, idle: bool = True) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent, Qt.WindowType.Dialog)
        self.session = session
        self.signed_out = False
        self.setWindowTitle("Locked – Student Mapping Tool")
        self.setModal(True)
        self.setMinimumWidth(420)
        layout = QVBoxLayout(self)
        layout.addWidget(_heading("This window is locked"))
        text = QLabel(
            f"{'It locked after a period without use.' if idle else 'It was locked from the File menu.'} "
            f"{session.display_name} ({session.username}) "
            "can unlock it with their password; anyone else should sign out."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        label = QLabel("&Password:")
        label.setBuddy(self.password)
        form.addRow(label, self.password)
        layout.addLayout(form)
        self.message = _message_label()
        layout.addWidget(self.message)
        buttons = QDialogButtonBox()
        self.unlock_button = buttons.addButton("Unlock", QDialogButtonBox.ButtonRole.AcceptRole)
        self.sign_out_button = buttons.addButton("Sign out", QDialogButtonBox.ButtonRole.DestructiveRole)
        buttons.accepted.connect(self.attempt)
        self.sign_out_button.clicked.connect(self._sign_out)
        layout.addWidget(buttons)
        self.password.setFocus()

    def attempt(self) -> None:
        from mapping_tool.services import auth

        ok = auth.verify_password(self.session, self.password.text())
        auth.record_unlock(self.session, ok)
        if ok:
            self.accept()
        else:
            self.password.clear()
            _show_message(self, self.message, "That password is not correct.")

    def _sign_out(self) -> None:
        self.signed_out = True
        self.reject()

    def reject(self) -> None:
        # Escape must not unlock: only Unlock (with the password) or Sign out closes this dialog.
        if self.signed_out:
            super().reject()
