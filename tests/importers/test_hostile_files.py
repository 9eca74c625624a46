"""Hostile or damaged eduHub files: each is an error (or a warning) naming file, line, column.

Each test writes the hostile file itself from the minimal school and checks one clear finding.
An error blocks the import (``extract.ok`` is False), so nothing of it reaches the store.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from eduhub_fixture import School, _csv_cell, line_of, read, with_code

from importers import _files


def _only(extract: object, code: str) -> object:
    found = with_code(extract, code)
    assert len(found) == 1, [f.message for f in extract.findings]  # type: ignore[attr-defined]
    return found[0]


def test_a_value_longer_than_eduhub_allows_is_an_error(school: School, folder: Path) -> None:
    school.student("ABC0004")["SURNAME"] = "X" * 1_000_000  # eduHub allows 30
    path = school.write(folder) / "ST_8123.csv"
    extract = read(folder)

    finding = _only(extract, "value_too_long")
    assert not extract.ok
    assert (finding.level, finding.file, finding.column) == ("error", "ST_8123.csv", "SURNAME")
    assert finding.row == line_of(path, "ABC0004")
    assert finding.message == (
        f"Line {finding.row} of ST_8123.csv: the SURNAME is 1,000,000 characters long; "
        "eduHub allows at most 30 in SURNAME."
    )


def test_a_too_long_code_in_the_attendance_table_is_an_error(school: School, folder: Path) -> None:
    school.rows("SXAB")[5]["AM_APPROVED"] = "YES PLEASE"  # a 1-character flag
    school.write(folder)
    extract = read(folder)

    finding = _only(extract, "value_too_long")
    assert (finding.file, finding.row, finding.column) == ("SXAB_8123.csv", 7, "AM_APPROVED")


def test_a_byte_windows_1252_cannot_read_is_a_warning_naming_the_line(
    school: School, folder: Path
) -> None:
    path = school.write(folder) / "ST_8123.csv"
    line = line_of(path, "ABC0004")
    path.write_bytes(path.read_bytes().replace(b"NGUYEN", b"NGU\x81YEN"))
    extract = read(folder)

    finding = _only(extract, "undecodable_text")
    assert extract.ok  # a warning: the import goes ahead and says so
    assert (finding.level, finding.file, finding.column) == ("warning", "ST_8123.csv", "SURNAME")
    assert finding.row == line
    assert finding.message.startswith(
        f"Line {finding.row} of ST_8123.csv: the SURNAME holds a byte"
    )
    surname = extract.students.set_index("student_key").loc["ABC0004", "surname"]
    assert surname == "NGU\ufffdYEN"


def test_valid_utf8_with_the_replacement_mark_is_not_reported(school: School, folder: Path) -> None:
    school.student("ABC0004")["SURNAME"] = "NGU\ufffdYEN"
    school.write(folder, encoding="utf-8")
    extract = read(folder)

    assert with_code(extract, "undecodable_text") == []


@pytest.mark.parametrize("code", ["-100", "-1"])
def test_negative_absence_codes_are_errors(school: School, folder: Path, code: str) -> None:
    school.rows("SXAB")[12]["PM_ACT_TYPE"] = code
    school.write(folder)
    extract = read(folder)

    finding = _only(extract, "negative_absence_code")
    assert not extract.ok
    assert (finding.file, finding.row, finding.column) == ("SXAB_8123.csv", 14, "PM_ACT_TYPE")
    assert finding.message == (
        f"Line 14 of SXAB_8123.csv: the afternoon absence code '{code}' is not an eduHub "
        "absence code (codes are whole numbers from 0 to 32,767)."
    )


def test_a_header_naming_a_column_twice_is_an_error(school: School, folder: Path) -> None:
    school.write(folder, skip=["ST"])
    school.write_csv(folder, "ST", extra={"SURNAME": "OTHER"})
    extract = read(folder)

    finding = _only(extract, "duplicate_column")
    assert not extract.ok
    assert (finding.file, finding.row, finding.column) == ("ST_8123.csv", 1, "SURNAME")
    assert "names the column 'SURNAME' more than once" in finding.message


def _write_rows(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_csv_cell(v, "eduhub") for v in row])
    path.write_bytes(buf.getvalue().encode("cp1252"))


def test_a_row_with_extra_fields_is_an_error(school: School, folder: Path) -> None:
    school.write(folder)
    header, rows = school.cells("ST")
    rows[2] += ["x"] * 50  # ABC0003
    path = folder / "ST_8123.csv"
    _write_rows(path, header, rows)
    line = line_of(path, "ABC0003")
    extract = read(folder)

    finding = _only(extract, "wrong_field_count")
    assert not extract.ok
    width = len(header)
    assert (finding.file, finding.row, finding.column) == ("ST_8123.csv", line, header[-1])
    assert finding.message == (
        f"Line {line} of ST_8123.csv: the row has {width + 50:,} fields, more than the "
        f"{width:,} columns of the header (after column '{header[-1]}')."
    )


def test_a_row_with_fewer_fields_is_an_error(school: School, folder: Path) -> None:
    path = school.write(folder) / "KCY_8123.csv"
    lines = path.read_bytes().split(b"\r\n")
    header = lines[0].decode().split(",")
    lines[2] = b",".join(lines[2].split(b",")[:3])
    path.write_bytes(b"\r\n".join(lines))
    extract = read(folder)

    finding = _only(extract, "wrong_field_count")
    assert (finding.file, finding.row, finding.column) == ("KCY_8123.csv", 3, header[3])
    assert f"the row has 3 fields, fewer than the {len(header)} columns" in finding.message


def test_quoted_commas_and_line_breaks_are_not_extra_fields(school: School, folder: Path) -> None:
    # the fixture's memo fields hold commas, quotes and CRLF line breaks inside quotes
    school.write(folder)
    assert b'"' in (folder / "SF_8123.csv").read_bytes()
    extract = read(folder)

    assert with_code(extract, "wrong_field_count") == []
    assert extract.findings == ()


def test_a_workbook_row_wider_than_its_header_is_an_error(school: School, folder: Path) -> None:
    school.write(folder, skip=["KGC"])
    path = school.write_xlsx(folder, "KGC", typed=False)
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    ws.cell(row=3, column=ws.max_column + 40, value="surprise")
    wb.save(path)
    extract = read(folder)

    finding = _only(extract, "wrong_field_count")
    assert (finding.file, finding.row) == ("KGC_8123.xlsx", 3)
    assert "more than the" in finding.message


def _set_dimension(path: Path, ref: str | None) -> None:
    """Rewrite the sheet's declared dimension (or drop it), as a hostile file would."""
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    xml = parts[sheet].decode()
    new = "" if ref is None else f'<dimension ref="{ref}"/>'
    xml, count = re.subn(r"<dimension ref=\"[^\"]*\"\s*/>", new, xml)
    assert count == 1
    parts[sheet] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)


def test_an_oversized_workbook_is_refused_from_its_declared_size(
    school: School, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    school.write(folder, skip=["SXAB"])
    path = school.write_xlsx(folder, "SXAB", typed=False)
    _set_dimension(path, "A1:AC1000001")  # a million rows declared
    streamed: list[int] = []
    real = _files.cell_text

    def counting(value: object, kind: str) -> str:
        streamed.append(1)
        return real(value, kind)

    monkeypatch.setattr(_files, "cell_text", counting)
    extract = read(folder)

    finding = _only(extract, "workbook_too_large")
    assert not extract.ok
    assert finding.file == "SXAB_8123.xlsx"
    assert finding.message == (
        "SXAB_8123.xlsx was refused: its SXAB sheet declares 1,000,001 rows by 29 columns, "
        "more than a workbook may hold here (300,000 rows, 10,000,000 cells). "
        "Import the CSV files from eduHub instead."
    )
    assert streamed == []  # refused before a single row was read


def test_a_workbook_without_a_declared_size_is_stopped_while_streaming(
    school: School, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    school.write(folder, skip=["SXAB"])
    path = school.write_xlsx(folder, "SXAB", typed=False)
    _set_dimension(path, None)
    monkeypatch.setattr(_files, "XLSX_MAX_ROWS", 40)
    extract = read(folder)

    finding = _only(extract, "workbook_too_large")
    assert finding.file == "SXAB_8123.xlsx"
    assert finding.message == (
        "SXAB_8123.xlsx was refused: its SXAB sheet holds more than the 40 rows a workbook "
        "may hold here. Import the CSV files from eduHub instead."
    )


def _dates_as(path: Path, convert: object, only: str | None = None) -> None:
    """Rewrite the sheet's date cells (or those of one column) with ``convert``."""
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, dt.datetime) and (
                only is None or header[cell.column - 1] == only
            ):
                cell.value = convert(cell.value)  # type: ignore[operator]
    wb.save(path)


def _us_order(value: dt.datetime) -> object:
    """A US-order application reading day-first text: month-first when it can, else text."""
    if value.day <= 12:
        return dt.datetime(value.year, value.day, value.month)
    return f"{value.day}/{value.month:02d}/{value.year} 12:00:00 AM"


def test_dates_read_month_first_by_a_spreadsheet_are_repaired_exactly(
    school: School, folder: Path
) -> None:
    expected = read(school.write(folder)).students.set_index("student_key")["birth_date"]
    (folder / "ST_8123.csv").unlink()
    path = school.write_xlsx(folder, "ST", typed=True)
    _dates_as(path, _us_order)  # the whole sheet went through the application
    extract = read(folder)

    finding = _only(extract, "dates_repaired")
    assert extract.ok
    assert (finding.level, finding.file, finding.column) == ("warning", "ST_8123.xlsx", "BIRTHDATE")
    got = extract.students.set_index("student_key")["birth_date"]
    assert (got == expected).all()


def test_dates_mixing_real_dates_and_day_first_text_that_cannot_be_repaired_are_refused(
    school: School, folder: Path
) -> None:
    school.write(folder, skip=["ST"])
    path = school.write_xlsx(folder, "ST", typed=True)
    # real dates with days up to 14 beside day-first text: no month-first reading explains it
    _dates_as(path, lambda v: "25/01/2013 12:00:00 AM" if v.day == 5 else v, "BIRTHDATE")
    extract = read(folder)

    (finding,) = [f for f in with_code(extract, "dates_wrong_order") if f.column == "BIRTHDATE"]
    assert not extract.ok
    assert (finding.file, finding.column) == ("ST_8123.xlsx", "BIRTHDATE")
    assert finding.message == (
        "ST_8123.xlsx: the birth date column mixes real dates with day-first text dates "
        "(such as 25/02/2026), so a spreadsheet application read these dates month-first and "
        "some are wrong; import the CSV files from eduHub instead."
    )


def _records_by_csv_reader(data: bytes) -> list[tuple[int, int]]:
    reader = csv.reader(io.StringIO(data.decode(), newline=""))
    records, previous = [], 0
    for row in reader:
        start, previous = previous + 1, reader.line_num
        if row:
            records.append((start, len(row)))
    return records


def test_the_field_counter_agrees_with_pythons_csv_reader_over_long_chunks() -> None:
    """Records and quoted stretches that cross the counter's 64-byte words and the chunks fed."""
    rng = random.Random(23)
    for _ in range(60):
        rows = []
        for _ in range(rng.randint(50, 400)):
            cells = [
                rng.choice(["a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbb", '"x,y,z"', '"q""\nz,"', "", "1234567"])
                for _ in range(rng.choice([7, 7, 7, 7, 6, 8, 30]))
            ]
            rows.append(",".join(cells))
            if rng.random() < 0.05:
                rows.append("")
        newline = rng.choice(["\n", "\r\n"])
        data = (newline.join(rows) + rng.choice(["", newline])).encode()
        counter = _files.FieldCounter(",", b"\n")
        step = rng.choice([63, 64, 65, 500, 4096, len(data)])
        for i in range(0, len(data), step):
            counter.feed(data[i : i + step])
        counter.finish()
        records = _records_by_csv_reader(data)
        header = records[0][1]
        wrong = [(line, n) for line, n in records[1:] if n != header]
        assert counter.header == header
        assert counter.bad == wrong[: counter.LISTED]
        assert counter.bad_count == len(wrong)


def test_the_field_counter_agrees_with_pythons_csv_reader_in_any_chunking() -> None:
    rng = random.Random(11)
    for _ in range(200):
        rows = []
        for _ in range(rng.randint(1, 25)):
            cells = [
                rng.choice(["a", '"x,y"', '"q""\nz"', "", "bb"])
                for _ in range(rng.choice([3, 3, 3, 2, 5]))
            ]
            rows.append(",".join(cells))
            if rng.random() < 0.1:
                rows.append("")
        newline = rng.choice(["\n", "\r\n"])
        data = (newline.join(rows) + rng.choice(["", newline])).encode()
        counter = _files.FieldCounter(",", b"\n")
        step = rng.randint(1, 20)
        for i in range(0, len(data), step):
            counter.feed(data[i : i + step])
        counter.finish()
        reader = csv.reader(io.StringIO(data.decode(), newline=""))
        records, previous = [], 0
        for row in reader:
            start, previous = previous + 1, reader.line_num
            if row:
                records.append((start, len(row)))
        header = records[0][1]
        assert counter.header == header
        assert counter.bad == [(line, n) for line, n in records[1:] if n != header]
