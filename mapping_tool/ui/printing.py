"""Printing: HTML in a QTextDocument to a QPrinter or PDF (print preview first in the UI).

QTextDocument is reentrant, so a PDF can be written on a worker thread (``html_to_pdf``); the
print preview paints on the UI thread. Text is escaped here: a student called ``O'Brien <b>``
prints as typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QPageLayout, QPageSize, QPainter, QPdfWriter, QTextDocument

CONFIDENTIAL = "Confidential: student information"

STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 9pt; }
h2 { font-size: 14pt; }
th { background: #e8e8e8; text-align: left; }
"""

# A list of students: small type, ruled cells with one border colour (QTextDocument draws edges
# inconsistently when tables differ), the header row repeated on each page (thead).
TABLE_STYLE = """
body { font-family: 'DejaVu Sans', Arial, sans-serif; font-size: 7pt; }
h2 { font-size: 12pt; margin-bottom: 2px; }
p.meta { margin: 0px; color: #333333; font-size: 8pt; }
table.list { border-collapse: collapse; border-color: #999999; margin-top: 6px; }
table.list th { background: #e8e8e8; font-weight: bold; text-align: left; padding: 2px; border: 1px solid #999999; font-size: 7pt; }
table.list td { padding: 2px; border: 1px solid #999999; font-size: 7pt; }
"""


def document(html: str, style: str = STYLE) -> QTextDocument:
    doc = QTextDocument()
    doc.setDefaultStyleSheet(style)
    doc.setHtml(html)
    return doc


def set_landscape(printer) -> None:  # type: ignore[no-untyped-def]
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageOrientation(QPageLayout.Orientation.Landscape)


def print_html(html: str, printer, *, landscape: bool | None = None) -> None:  # type: ignore[no-untyped-def]
    """Paint ``html`` on ``printer`` (A4, 15 mm margins); ``landscape`` None keeps its orientation."""
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    if landscape is not None:
        printer.setPageOrientation(QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait)
    margin = 12 if landscape else 15
    printer.setPageMargins(QMarginsF(margin, margin, margin, margin), QPageLayout.Unit.Millimeter)
    paint_pages(document(html), printer, running_title(html))


def html_to_pdf(
    html: str,
    path: Path,
    *,
    store_folder: Path | None,
    replace: bool = False,
    title: str = "Student Mapping Tool",
    landscape: bool = False,
) -> Path:
    """Write ``html`` as a PDF through :func:`mapping_tool.services.outputs.atomic_output`: never
    inside the store folder, never through a link, an existing file only when ``replace``."""
    from mapping_tool.services.outputs import atomic_output

    with atomic_output(path, store_folder=store_folder, replace=replace) as tmp:
        write_pdf(html, tmp, title=title, landscape=landscape)
    return path


def write_pdf(
    html: str, path: Path, *, title: str = "Student Mapping Tool", landscape: bool = False, heading: str | None = None
) -> Path:
    """Write ``html`` as a PDF to ``path`` as given: for a service that already holds the temp
    path of its own ``atomic_output`` (the referral form and its file note in one transaction).
    ``heading``: the line at the top of every page, when it is not ``title`` (the file's own
    title, which PDF readers and file browsers show)."""
    _write_pdf(html, Path(path), title=title, landscape=landscape, heading=heading)
    return Path(path)


def _write_pdf(html: str, path: Path, *, title: str, landscape: bool, heading: str | None = None) -> None:
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setPageOrientation(QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait)
    margin = 12 if landscape else 15
    writer.setPageMargins(QMarginsF(margin, margin, margin, margin), QPageLayout.Unit.Millimeter)
    writer.setTitle(title)
    writer.setCreator("Student Mapping Tool")
    writer.setResolution(300)
    if heading is None:
        heading = title if title != "Student Mapping Tool" else running_title(html)
    paint_pages(document(html), writer, heading)
    del writer


def running_title(html: str) -> str:
    """The document's first heading, repeated at the top of every page."""
    import re

    match = re.search(r"<h[12][^>]*>(.*?)</h[12]>", html, re.S)
    text = re.sub(r"<[^>]+>", "", match.group(1)) if match else "Student Mapping Tool"
    from html import unescape

    return unescape(text).strip() or "Student Mapping Tool"


def paint_pages(doc: QTextDocument, device, title: str) -> int:  # type: ignore[no-untyped-def]
    """Lay ``doc`` out page by page with the title and the confidentiality line at the top of
    every page and "Page X of Y" at the foot (QTextDocument.print_ puts them on none)."""
    painter = QPainter(device)
    try:
        doc.documentLayout().setPaintDevice(device)
        width, height = device.width(), device.height()
        dpi = device.logicalDpiY()
        band = int(dpi * 0.32)  # about 8 mm for the running head and the foot
        body = QSizeF(width, max(height - 2 * band, 1))
        doc.setPageSize(body)
        pages = max(doc.pageCount(), 1)
        small = QFont("DejaVu Sans")
        small.setPointSizeF(7)
        for page in range(pages):
            if page:
                device.newPage()
            painter.save()
            painter.translate(0, band - page * body.height())
            doc.drawContents(painter, QRectF(0, page * body.height(), body.width(), body.height()))
            painter.restore()
            painter.setFont(small)
            head = QRectF(0, 0, width, band * 0.7)
            painter.drawText(head, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop), title)
            painter.drawText(head, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop), CONFIDENTIAL)
            foot = QRectF(0, height - band * 0.7, width, band * 0.7)
            painter.drawText(foot, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignBottom), f"Page {page + 1} of {pages}")
        return pages
    finally:
        painter.end()


def column_widths(headers: Sequence[str], rows: Sequence[Sequence[str]], wraps: Sequence[bool]) -> list[float]:
    """Percent widths from the measured text each column holds: QTextDocument's own table layout
    squeezes short columns until their words break mid-word. A header may wrap between words; a
    wrapping column (a name, a tier with its override) is given room for about 14 characters."""
    from PySide6.QtGui import QFont, QFontMetricsF

    font = QFont("DejaVu Sans")
    font.setPointSizeF(7)
    plain = QFontMetricsF(font)
    font.setBold(True)
    bold = QFontMetricsF(font)
    unit = plain.horizontalAdvance("n")
    need = []
    for i, header in enumerate(headers):
        texts = {r[i] for r in rows}
        longest = max((plain.horizontalAdvance(t) for t in texts), default=0.0)
        if wraps[i]:
            longest = min(longest, unit * 14)
        word = max((bold.horizontalAdvance(w) for w in header.split()), default=unit)
        need.append(max(longest, word, unit * 2) + unit * 1.6)  # cell padding and border
    total = sum(need) or 1.0
    return [100.0 * n / total for n in need]


_NUMBER = __import__("re").compile(r"^[+-]?[\d,]+(\.\d+)?\s?%?$")


def _cell(text: str) -> str:
    """A cell; numbers right-aligned so that they line up."""
    align = " align='right'" if _NUMBER.match(text.strip()) else ""
    return f"<td{align}>{escape(text)}</td>"


def table_html(
    title: str, lines: Sequence[str], headers: Sequence[str], rows: Sequence[Sequence[str]], *, wrap: Sequence[bool] | None = None
) -> str:
    """A printable list: a heading, a few lines saying what it is, and a ruled table of text cells.
    Columns get widths from their text (``column_widths``); ``wrap`` marks those that may wrap."""
    wraps = list(wrap) if wrap is not None else [False] * len(headers)
    widths = column_widths(headers, rows, wraps)
    head = "".join(f"<th width='{w:.1f}%'>{escape(h)}</th>" for h, w in zip(headers, widths, strict=True))
    body = "".join("<tr>" + "".join(_cell(c) for c in r) + "</tr>" for r in rows)
    meta = "".join(f"<p class='meta'>{escape(line)}</p>" for line in lines)
    return (
        f"<html><head><style type='text/css'>{TABLE_STYLE}</style></head><body><h2>{escape(title)}</h2>{meta}"
        f"<table class='list' width='100%' cellspacing='0' cellpadding='2'><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table></body></html>"
    )
