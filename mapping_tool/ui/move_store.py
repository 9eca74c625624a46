"""First start after upgrading: offer to move the store an earlier release kept in this Windows
user's own folder to the PC's shared store folder. Nothing moves without the data custodian's
user name and password (their consent); "Not now" opens the old store where it is."""

from __future__ import annotations

import logging
from pathlib import Path

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
from mapping_tool.ui.signin import _heading, _message_label, _show_message

logger = logging.getLogger(__name__)


class MoveStoreDialog(QDialog):
    """``ask`` returns the folder to open: the PC's store folder after a move, the old folder for
    "Not now", or None when the person quits."""

    NOT_NOW = 2

    def __init__(self, source: Path, target: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.source, self.target = source, target
        self.moved = False
        self.setWindowTitle(f"Move the store – {APP_NAME}")
        self.setMinimumWidth(520)
        layout = QVBoxLayout(self)
        layout.addWidget(_heading("Move the store to this PC's shared folder"))
        text = QLabel(
            "This version keeps one store for everyone who uses the tool on this PC, in\n"
            f"{target}\n\n"
            "An earlier version kept the school's store in your own Windows folder:\n"
            f"{source}\n\n"
            "Move it now so that other staff with an account can sign in on this PC? "
            "The data custodian signs in to agree; the move is recorded in the audit log and the copy "
            "in your own folder is removed once the moved store has been checked."
        )
        text.setWordWrap(True)
        layout.addWidget(text)
        form = QFormLayout()
        self.username = QLineEdit()
        self.username.setAccessibleName("Data custodian's user name")
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        form.addRow("Data custodian's &user name:", self.username)
        form.addRow("&Password:", self.password)
        layout.addLayout(form)
        self.message = _message_label()
        layout.addWidget(self.message)
        self.busy = QProgressBar()
        self.busy.setRange(0, 0)
        self.busy.setTextVisible(False)
        self.busy.setMaximumHeight(6)
        self.busy.hide()
        layout.addWidget(self.busy)
        self.buttons = QDialogButtonBox()
        self.move_button = self.buttons.addButton("&Move the store", QDialogButtonBox.ButtonRole.AcceptRole)
        self.not_now_button = self.buttons.addButton("&Not now", QDialogButtonBox.ButtonRole.ActionRole)
        self.quit_button = self.buttons.addButton("&Quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.move_button.clicked.connect(self.attempt)
        self.not_now_button.clicked.connect(lambda: self.done(self.NOT_NOW))
        self.quit_button.clicked.connect(self.reject)
        layout.addWidget(self.buttons)
        note = QLabel("“Not now” opens the store where it is; you will be asked again next time.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #555555;")
        layout.addWidget(note)
        self.username.setFocus()

    @classmethod
    def ask(cls, source: Path, target: Path, parent: QWidget | None = None) -> Path | None:
        dialog = cls(source, target, parent)
        result = dialog.exec()
        if dialog.moved:
            return target
        return source if result == cls.NOT_NOW else None

    def attempt(self) -> None:
        username, password = self.username.text().strip(), self.password.text()
        if not username or not password:
            _show_message(self, self.message, "Enter the data custodian's user name and password.")
            return
        self._set_busy(True)
        source, target = self.source, self.target

        def work(_progress: worker.Progress) -> object:
            from mapping_tool.services import store_move

            return store_move.move_user_store(source, target, username, password)

        self._job = worker.runner.start(work, self)
        self._job.finished.connect(self._done)
        self._job.failed.connect(self._failed)

    def _done(self, _result: object) -> None:
        self._set_busy(False)
        self.moved = True
        self.accept()

    def _failed(self, exc: object) -> None:
        self._set_busy(False)
        self.password.clear()
        if isinstance(exc, KnownError):
            _show_message(self, self.message, exc.message)
        else:
            show_error(self, exc)  # type: ignore[arg-type]

    def _set_busy(self, busy: bool) -> None:
        self.busy.setVisible(busy)
        for w in (self.username, self.password, self.move_button, self.not_now_button, self.quit_button):
            w.setEnabled(not busy)
