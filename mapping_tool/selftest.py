"""``mapping-tool self-test``: prove a build works end to end without a display.

Opens a temp encrypted store, signs in, builds the main window offscreen, renders a PDF through
QPdfWriter (proving the print support is present) and exits 0. The frozen build runs this before
the installer is made.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path


def run_self_test(say: Callable[[str], None]) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="smt-selftest-"))
    try:
        from mapping_tool.security.passwords import generate_password
        from mapping_tool.services import auth

        password, passphrase = generate_password(), generate_password(6)
        auth.init_store(
            work / "store",
            auth.InitRequest("8123", "Self-test School", "Self Test", date.today(), "selftest", password, passphrase),
        )
        session = auth.sign_in(work / "store", "selftest", password)
        try:
            import openpyxl.xml

            if not openpyxl.xml.DEFUSEDXML:
                say("SELFTEST FAILED: defusedxml is not active for openpyxl")
                return 1
            from PySide6 import __version__ as pyside_version
            from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument

            from mapping_tool.ui.app import make_app
            from mapping_tool.ui.main_window import MainWindow

            app = make_app()
            window = MainWindow(session)
            window.show()
            for i in range(window.nav.count()):
                window.nav.setCurrentRow(i)
            app.processEvents()
            pdf = work / "selftest.pdf"
            writer = QPdfWriter(str(pdf))
            writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
            doc = QTextDocument()
            doc.setHtml("<h1>Student Mapping Tool</h1><p>Self-test page ☐ ☒</p>")
            doc.print_(writer)
            del writer
            if not pdf.exists() or pdf.stat().st_size < 500:
                say("SELFTEST FAILED: the PDF was not written")
                return 1
            window.close()
        finally:
            auth.sign_out(session)
        import sqlcipher3

        backend = _keyring_backend()
        if backend is None:
            say("SELFTEST FAILED: no keyring backend (Windows Credential Manager) was found")
            return 1
        from mapping_tool import __version__

        say(
            f"SELFTEST OK {__version__}: PySide6 {pyside_version}, SQLCipher (SQLite {sqlcipher3.sqlite_version}), "
            f"keyring {backend}, {time.perf_counter() - started:.1f} s"
        )
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _keyring_backend() -> str | None:
    """The keyring backend's name. On Windows the Credential Manager backend must be bundled (the
    custodian's "remember" uses it); elsewhere a PC without a keyring service is reported, not failed."""
    import sys

    import keyring

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if sys.platform == "win32" and "fail" in name.lower():
        return None
    return name.removeprefix("keyring.backends.")
