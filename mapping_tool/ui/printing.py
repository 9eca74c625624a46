"""Printing: HTML in a QTextDocument to a QPrinter or PDF (print preview first in the UI)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMarginsF
from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 9pt; }
h2 { font-size: 14pt; }
th { background: #e8e8e8; text-align: left; }
"""


def document(html: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setDefaultStyleSheet(STYLE)
    doc.setHtml(html)
    return doc


def print_html(html: str, printer) -> None:  # type: ignore[no-untyped-def]
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    document(html).print_(printer)


def html_to_pdf(html: str, path: Path, *, title: str = "Student Mapping Tool", landscape: bool = False) -> Path:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait)
    writer.setPageMargins(QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter)
    writer.setTitle(title)
    writer.setResolution(300)
    document(html).print_(writer)
    del writer
    return path
