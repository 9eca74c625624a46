"""A finished Excel list for staff: a title and a confidentiality line above the table, the
header row bold, frozen and filterable, columns as wide as their text, numbers to the right."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def finish_workbook(path: Path, title: str, lines: Sequence[str]) -> None:
    """Rework the first sheet of ``path`` (as ``export.write_table`` wrote it: a header row, then
    rows) in place. ``lines`` are shown under the title (what it is, who made it, Confidential)."""
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = load_workbook(path)
    ws = wb.worksheets[0]
    top = 1 + len(lines)  # the title, then the lines
    ws.insert_rows(1, top + 1)  # and a blank row before the header
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    for i, line in enumerate(lines, start=2):
        cell = ws.cell(row=i, column=1, value=line)
        cell.data_type = "s"
        cell.font = Font(italic=True, bold=line.startswith("Confidential"))
    header_row = top + 2
    last_col = ws.max_column
    last_row = ws.max_row
    for col in range(1, last_col + 1):
        ws.cell(row=header_row, column=col).font = Font(bold=True)
        ws.cell(row=header_row, column=col).alignment = Alignment(wrap_text=True, vertical="top")
    widths = [len(str(ws.cell(row=header_row, column=c).value or "")) for c in range(1, last_col + 1)]
    right = Alignment(horizontal="right")
    for row in ws.iter_rows(min_row=header_row + 1, max_row=last_row):
        for cell in row:
            value = cell.value
            if isinstance(value, int | float) and not isinstance(value, bool):
                cell.alignment = right
            width = len(str(value)) if value is not None else 0
            if width > widths[cell.column - 1]:
                widths[cell.column - 1] = width
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = max(6, min(width + 2, 45))
    ws.freeze_panes = ws.cell(row=header_row + 1, column=1)
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(last_col)}{max(last_row, header_row)}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.oddFooter.center.text = "Page &P of &N"
    ws.oddHeader.center.text = f"{title} – Confidential"
    wb.save(path)
