"""The same extract through CSV and through a spreadsheet application gives the same students.

A custodian opens the eduHub CSV files in a spreadsheet application set to US date order and
saves them as .xlsx: numbers become numbers (07 -> 7, 6.0 -> 6), day-first dates whose day is
12 or less become month-first real dates, and the others stay text. The import must give the
identical ``students`` export either way (issue 11, item 10).
"""

from __future__ import annotations

import csv
import datetime as dt
import os
import re
import shutil
from pathlib import Path

import openpyxl
import pytest

from importers.demo import generate_demo_extract
from mapping_tool.services import auth, imports
from mapping_tool.services.students import export_students
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD

_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: (\d{1,2}):(\d{2}):(\d{2}) ([AP]M))?$")


def as_us_spreadsheet(text: str) -> object:
    """What a spreadsheet application set to US order makes of one CSV cell."""
    if text == "":
        return None
    m = _DATE.match(text)
    if m:
        first, second, year = int(m.group(1)), int(m.group(2)), int(m.group(3))
        try:
            return dt.datetime(year, first, second)  # read month-first
        except ValueError:
            return text  # 13/02/2026 cannot be month-first: it stays text
    if _NUMBER.match(text):
        return float(text) if "." in text else int(text)
    return text


def save_as_xlsx(csv_folder: Path, out: Path) -> None:
    out.mkdir()
    for path in sorted(csv_folder.glob("*.csv")):
        with path.open(encoding="cp1252", newline="") as fh:
            rows = list(csv.reader(fh))
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = path.stem.split("_")[0]
        for r, row in enumerate(rows, start=1):
            for c, text in enumerate(row, start=1):
                value = text if r == 1 else as_us_spreadsheet(text)
                if value is None:
                    continue
                cell = ws.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
        target = out / (path.stem + ".xlsx")
        wb.save(target)
        stat = path.stat()
        os.utime(target, (stat.st_atime, stat.st_mtime))  # the extract date comes from file times


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("routes")
    csv_folder = root / "csv"
    generate_demo_extract(
        csv_folder, students=24, extract_date=dt.date(2026, 9, 18), years=1, seed=5
    )
    save_as_xlsx(csv_folder, root / "xlsx")
    return csv_folder, root / "xlsx"


def _import_and_export(template_store: Path, root: Path, folder: Path) -> tuple[bytes, object]:
    store = root / "store"
    shutil.copytree(template_store, store)
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = imports.import_cases21(user, folder)
        out = root / "students.csv"
        export_students(user, out, fmt="csv")
        return out.read_bytes(), result
    finally:
        auth.sign_out(user)


def test_the_workbook_really_went_through_a_us_spreadsheet(routes: tuple[Path, Path]) -> None:
    _, xlsx = routes
    wb = openpyxl.load_workbook(xlsx / "ST_8123.xlsx", read_only=True)
    try:
        rows = list(wb.active.iter_rows(values_only=True))
    finally:
        wb.close()
    header = rows[0]
    births = [row[header.index("BIRTHDATE")] for row in rows[1:]]
    years = {row[header.index("SCHOOL_YEAR")] for row in rows[1:]}
    assert any(isinstance(b, dt.datetime) for b in births)
    assert any(isinstance(b, str) for b in births)
    assert 7 in years and "07" not in years


def test_csv_and_spreadsheet_routes_give_the_identical_students_export(
    routes: tuple[Path, Path], template_store: Path, tmp_path: Path
) -> None:
    csv_folder, xlsx_folder = routes
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    from_csv, _ = _import_and_export(template_store, tmp_path / "a", csv_folder)
    from_xlsx, result = _import_and_export(template_store, tmp_path / "b", xlsx_folder)

    assert from_xlsx == from_csv
    text = from_csv.decode("utf-8-sig")
    assert ",07," in text  # year levels in their canonical form
    repaired = [w for w in result.warnings if w.code == "dates_repaired"]
    assert {w.column for w in repaired} >= {"BIRTHDATE", "ABSENCE_DATE"}
