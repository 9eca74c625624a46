"""The one place that turns errors into dialogs.

Known errors get their plain sentence and the log folder's path; anything unexpected gets the
crash dialog and the app keeps running. No student data is ever put in a dialog by this module:
known errors' messages are written without it, and crash dialogs show only the exception type.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from mapping_tool.errors import KnownError
from mapping_tool.logging_setup import safe_traceback
from mapping_tool.paths import log_dir

logger = logging.getLogger(__name__)


def _open_logs() -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(log_dir())))


class ErrorDialogs:
    """Replaceable in tests (no test calls exec())."""

    @staticmethod
    def show(parent: QWidget | None, title: str, text: str, *, critical: bool = False) -> None:
        box = QMessageBox(parent)
        box.setIcon(QMessageBox.Icon.Critical if critical else QMessageBox.Icon.Warning)
        box.setWindowTitle(title)
        box.setText(text)
        box.setInformativeText(f"The log files are in {log_dir()}.")
        logs = box.addButton("Open log folder", QMessageBox.ButtonRole.HelpRole)
        box.addButton(QMessageBox.StandardButton.Ok)
        box.exec()
        if box.clickedButton() is logs:
            _open_logs()


def show_error(parent: QWidget | None, exc: BaseException, *, title: str = "Student Mapping Tool") -> None:
    if isinstance(exc, KnownError):
        logger.info("known error shown: %s", type(exc).__name__)
        ErrorDialogs.show(parent, title, exc.message)
    else:
        report_crash(type(exc), exc, exc.__traceback__)


def report_crash(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    logger.error("unexpected error\n%s", safe_traceback(exc.with_traceback(tb)))
    if QApplication.instance() is None:
        return
    ErrorDialogs.show(
        QApplication.activeWindow(),
        "Something went wrong",
        "The Student Mapping Tool met an unexpected problem and stopped that task. Your data is "
        f"safe; nothing half-done was saved. ({exc_type.__name__})",
        critical=True,
    )


def install_excepthook() -> None:
    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        if isinstance(exc, KnownError):
            show_error(QApplication.activeWindow(), exc)
            return
        report_crash(exc_type, exc, tb)

    sys.excepthook = hook
