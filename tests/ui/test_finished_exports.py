"""Printed and PDF lists look finished: the title and a confidentiality line on every page,
"Page X of Y" at every foot, numbers right-aligned; save dialogs start in Documents."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mapping_tool.ui import printing


def _pdf(tmp_path: Path) -> Path:
    rows = [[f"STUDENT{i:03d}, Name", "09", f"{80 + i % 20:.1f}", "✔ yes"] for i in range(260)]
    html = printing.table_html("Students for review", ["Riverbend: 260 students"], ["Name", "Year", "Attendance %", "Low attendance"], rows)
    store_folder = tmp_path / "store"  # every PDF goes through services/outputs (issue 11)
    store_folder.mkdir()
    out = tmp_path / "list.pdf"
    assert printing.html_to_pdf(html, out, store_folder=store_folder, title="Students for review", landscape=True) == out
    return out


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_every_pdf_page_has_the_title_confidential_and_page_x_of_y(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = _pdf(tmp_path)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    import unicodedata

    pages = [unicodedata.normalize("NFKC", p) for p in text.split("\f") if p.strip()]  # "ﬁ" ligatures
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert "Students for review" in page
        assert "Confidential" in page
        assert f"Page {number} of {len(pages)}" in page


def test_page_count_without_poppler(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = _pdf(tmp_path)
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type/Page") >= 1


def test_numbers_are_right_aligned_in_printed_lists() -> None:
    html = printing.table_html("T", [], ["Name", "Attendance %", "Days"], [["SMITH, Jo", "91.5", "12"]])
    assert "<td align='right'>91.5</td>" in html and "<td align='right'>12</td>" in html
    assert "<td>SMITH, Jo</td>" in html


def test_save_dialogs_start_in_documents(qtbot, monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QStandardPaths

    from mapping_tool.ui.files import documents

    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    assert documents("list.xlsx") == str(Path(docs or Path.home()) / "list.xlsx")
    assert Path(documents("x.pdf")).parent != Path.cwd() or Path.cwd() == Path(docs)


def test_a_referral_pdf_is_headed_as_its_printout_and_its_file_title_names_no_one(qtbot, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtPrintSupport import QPrinter

    from mapping_tool.ui import forms

    headings: list[str] = []
    paint = printing.paint_pages
    monkeypatch.setattr(printing, "paint_pages", lambda doc, device, title: headings.append(title) or paint(doc, device, title))
    html = "<h1>File notes: COL0009</h1><p>Sarah COLLINS</p>"
    out = forms.html_to_pdf(html, tmp_path / "notes.pdf")
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "printed.pdf"))
    forms.print_form(html, printer)
    assert headings == ["File notes: COL0009", "File notes: COL0009"]  # saved and printed, the same heading
    data = out.read_bytes()
    assert "Student Mapping Tool: referrals".encode("utf-16-be") in data  # the file's title, as a file browser shows it
    assert "COL0009".encode("utf-16-be") not in data and b"COL0009" not in data
