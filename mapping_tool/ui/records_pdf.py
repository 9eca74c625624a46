"""The student's record as a PDF (transfer to the official file, access requests): the records
service builds escaped HTML; this writes it with QTextDocument and QPdfWriter. The command line
imports this lazily and gets an offscreen QApplication when none is running."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPdfWriter
from PySide6.QtWidgets import QApplication

from mapping_tool.ui import printing

RECORD_STYLE = printing.TABLE_STYLE + """
h3 { font-size: 9pt; margin-top: 10px; margin-bottom: 2px; }
"""

_app: QApplication | None = None


def _ensure_app() -> None:
    """A full QApplication (not a QGuiApplication), so that a window opened later in the same
    process still works."""
    global _app
    if QGuiApplication.instance() is None:
        _app = QApplication(["mapping-tool", "-platform", "offscreen"])


def render_pdf(html: str, path: Path, title: str) -> Path:
    """A4 landscape (attendance and access tables are wide), 12 mm margins."""
    _ensure_app()
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Landscape)
    writer.setPageMargins(QMarginsF(12, 12, 12, 12), QPageLayout.Unit.Millimeter)
    writer.setTitle(title)
    writer.setCreator("Student Mapping Tool")
    writer.setResolution(300)
    printing.document(html, RECORD_STYLE).print_(writer)
    del writer
    return path
