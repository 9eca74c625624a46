"""The one error handler: known errors show their sentence; anything else gets the crash dialog,
and neither the dialog nor the log repeats the exception's message (it may quote student data)."""

from __future__ import annotations

import faulthandler
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mapping_tool.errors import StoreError, UsageError
from mapping_tool.ui.errors import install_excepthook, show_error

MARKER = (
    "ZQX" + "SECRETMARKER"
)  # never written literally on a raising line (tracebacks quote source)


@pytest.fixture
def log_file(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The app's real log set-up, writing into this test's MAPPING_TOOL_LOG_DIR."""
    from mapping_tool import logging_setup
    from mapping_tool.paths import log_dir

    monkeypatch.setattr(logging_setup, "_configured", False)
    monkeypatch.setattr(logging_setup, "_fault_file", None)
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    fault_was_enabled = faulthandler.is_enabled()
    logging_setup.setup_logging()
    yield log_dir() / logging_setup.LOG_NAME
    for handler in root.handlers[:]:
        if handler not in before:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    # setup_logging points faulthandler at a file for the process's life; give it back.
    if fault_was_enabled:
        faulthandler.enable(file=sys.__stderr__)
    else:
        faulthandler.disable()
    if logging_setup._fault_file is not None:
        logging_setup._fault_file.close()


def _raise_unexpected(detail: str) -> ValueError:
    try:
        raise ValueError(f"could not parse student {detail}")
    except ValueError as exc:
        return exc


def test_known_error_shows_its_sentence(error_dialogs) -> None:  # type: ignore[no-untyped-def]
    show_error(None, UsageError("Enter the school's name."))
    assert error_dialogs == [("Student Mapping Tool", "Enter the school's name.", False)]


def test_known_error_keeps_the_callers_title(error_dialogs) -> None:  # type: ignore[no-untyped-def]
    show_error(None, StoreError("The store folder cannot be written."), title="Backup")
    assert error_dialogs == [("Backup", "The store folder cannot be written.", False)]


def test_unexpected_error_shows_the_crash_text_without_its_message(
    error_dialogs, log_file: Path
) -> None:  # type: ignore[no-untyped-def]
    show_error(None, _raise_unexpected(MARKER))
    assert len(error_dialogs) == 1
    title, text, critical = error_dialogs[0]
    assert critical
    assert title == "Something went wrong"
    assert "unexpected problem" in text and "ValueError" in text
    assert MARKER not in title + text
    for handler in logging.getLogger().handlers:
        handler.flush()
    logged = log_file.read_text("utf-8")
    assert "unexpected error" in logged and "ValueError" in logged
    assert MARKER not in logged
    for path in log_file.parent.iterdir():
        assert MARKER.encode() not in path.read_bytes(), path.name


def test_excepthook_routes_uncaught_errors_to_the_dialogs(
    error_dialogs, log_file: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_excepthook()
    exc = _raise_unexpected(MARKER)
    sys.excepthook(type(exc), exc, exc.__traceback__)
    known = UsageError("That file is not a CASES21 extract.")
    sys.excepthook(type(known), known, None)
    assert [(t, critical) for t, _text, critical in error_dialogs] == [
        ("Something went wrong", True),
        ("Student Mapping Tool", False),
    ]
    assert error_dialogs[1][1] == "That file is not a CASES21 extract."
    assert MARKER not in log_file.read_text("utf-8")


def test_sign_in_failure_that_is_a_bug_reaches_the_crash_dialog(
    qtbot, store_dir: Path, sync_runner, error_dialogs, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import auth
    from mapping_tool.ui.signin import SignInDialog

    def broken(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk driver said " + MARKER)

    monkeypatch.setattr(auth, "sign_in", broken)
    dialog = SignInDialog(store_dir)
    qtbot.addWidget(dialog)
    dialog.username.setText("custodian")
    dialog.password.setText("whatever-it-is-here")
    dialog.attempt()
    qtbot.waitUntil(lambda: bool(error_dialogs))
    assert error_dialogs[0][0] == "Something went wrong"
    assert MARKER not in error_dialogs[0][1]
    assert dialog.username.isEnabled()
    assert dialog.message.isHidden()
