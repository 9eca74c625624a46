"""Writing tables to CSV and Excel safely: text that a spreadsheet would run as a formula
(starting with = + - @, tab, CR or LF) is written as text, never as a formula; numbers stay
numbers. Files are written to a temp name and renamed, so a failed export leaves nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from mapping_tool.errors import UsageError
from mapping_tool.services.outputs import atomic_output

DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith(DANGEROUS_START):
        return "'" + text
    return text


def export_format(path: Path, requested: str | None = None) -> str:
    fmt = (requested or path.suffix.lstrip(".") or "csv").lower()
    if fmt not in ("csv", "xlsx"):
        raise UsageError(f"Unknown export format '{fmt}': use csv or xlsx.")
    return fmt


def write_table(
    path: Path,
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    store_folder: Path | None,
    replace: bool = False,
    fmt: str | None = None,
    title: str = "Export",
) -> int:
    """Write ``rows`` under ``headers``; returns the number of rows written. The path is checked
    by :mod:`mapping_tool.services.outputs` (never inside ``store_folder``, never through a link,
    an existing file only when ``replace``) and written to a temp file that is renamed."""
    path = Path(path).expanduser()
    fmt = export_format(path, fmt)
    with atomic_output(path, store_folder=store_folder, replace=replace) as tmp:
        return write_rows(tmp, headers, rows, fmt=fmt, title=title)


def write_rows(tmp: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, fmt: str, title: str = "Export") -> int:
    """Write the table to ``tmp``, a temp file that :func:`outputs.atomic_output` already checked
    and will rename into place (for services that write several parts under one check)."""
    return _write_csv(tmp, headers, rows) if fmt == "csv" else _write_xlsx(tmp, headers, rows, title)


def _write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    # utf-8-sig: Excel opens it with the right characters (Zoë, O’Brien).
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        writer.writerow([_csv_cell(h) for h in headers])
        for row in rows:
            writer.writerow([_csv_cell(v) for v in row])
            count += 1
    return count


def _write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[Sequence[Any]], title: str) -> int:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31] or "Export")
    rows = list(rows)
    # Finished without moving the header off row 1 (scripts read it there): widths from the
    # header and the first rows, the header frozen and filtered, numbers right-aligned (as
    # numbers), and "Confidential" with page X of Y in the printed header and footer.
    for i, h in enumerate(headers, start=1):
        sample = [len(str(h))] + [len(str(r[i - 1])) for r in rows[:200] if i - 1 < len(r) and r[i - 1] is not None]
        ws.column_dimensions[get_column_letter(i)].width = min(max(sample) + 2, 60)
    ws.freeze_panes = "A2"
    if headers:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1}"
    ws.oddHeader.center.text = f"{title}: Confidential student information"
    ws.oddFooter.center.text = "Page &P of &N"
    wb.properties.title = title
    wb.properties.keywords = "Confidential"
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=str(h))
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    count = 0
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, bool):
                value = "yes" if value else "no"
            if isinstance(value, int | float) and not isinstance(value, bool):
                out.append(value)
                continue
            if isinstance(value, datetime):
                value = value.strftime("%d/%m/%Y %H:%M")
            elif isinstance(value, date):
                value = value.strftime("%d/%m/%Y")
            cell = WriteOnlyCell(ws, value="" if value is None else str(value))
            cell.data_type = "s"  # literal text: never a formula, whatever it starts with
            out.append(cell)
        ws.append(out)
        count += 1
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(buffer.getvalue())
    return count
