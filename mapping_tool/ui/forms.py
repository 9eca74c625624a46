"""Printed forms of referrals (the Attachment 3 form, its information page, file notes): HTML in a
QTextDocument to a PDF or a printer. The referrals service takes these functions as arguments, so
Qt stays in ``mapping_tool/ui``; the command line imports this module lazily, as it does for the
self-test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mapping_tool.ui import printing


def ensure_app() -> None:
    """A headless command needs a Qt application for fonts; the window already has one."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is not None:
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from mapping_tool.ui.app import make_app

    make_app()


def html_to_pdf(html: str, path: Path) -> Path:
    """A4 portrait PDF of ``html`` (the form and its information page, or file notes), written to
    the temp path the referrals service's checked ``atomic_output`` gives it."""
    ensure_app()
    # the referrals service passes the temp path of its own atomic_output (checked there). Each
    # page is headed as the printout and the preview head it (the document's own heading); the
    # file's title, which file browsers show, stays general (a form or file notes alike).
    return printing.write_pdf(html, Path(path), title="Student Mapping Tool: referrals", heading=printing.running_title(html))


def print_form(html: str, printer) -> None:  # type: ignore[no-untyped-def]
    printing.print_html(html, printer, landscape=False)
