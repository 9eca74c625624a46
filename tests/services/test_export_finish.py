"""Every Excel file the tool writes looks finished (issue 12, point 16) while its header stays on
row 1, where scripts read the export contracts."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from mapping_tool.services.export import write_table


def test_excel_exports_are_finished_and_keep_the_header_on_row_1(tmp_path: Path) -> None:
    out = tmp_path / "list.xlsx"
    rows = [["ABC0001", 91.5, "=HYPERLINK(\"x\")"], ["ABC0002", 80, "A rather longer piece of text in this column"]]
    assert write_table(out, ["student_key", "attendance_rate", "note"], rows, store_folder=None, title="Students") == 2
    ws = load_workbook(out).active
    assert [c.value for c in ws[1]] == ["student_key", "attendance_rate", "note"]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:C3"
    assert ws.column_dimensions["C"].width > ws.column_dimensions["A"].width >= len("student_key")
    assert "Confidential" in ws.oddHeader.center.text and ws.oddFooter.center.text == "Page &P of &N"
    assert ws["B2"].value == 91.5 and ws["B3"].value == 80  # numbers stay numbers (right-aligned)
    assert ws["C2"].value.startswith("=") and ws["C2"].data_type == "s"  # text, never a formula
