"""The same tables as workbooks, and hostile workbooks refused before any XML is parsed."""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import openpyxl.xml
import pandas as pd
import pytest
from eduhub_fixture import School, minimal_school, read, with_code

from importers import ExtractError, _files

TABLES = ("ST", "DF", "SF", "KCY", "KGC", "KGH", "KCT", "SXAB", "SXABCONV", "STVDI", "STVDO")


def _same_students(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_defusedxml_is_active() -> None:
    assert openpyxl.xml.DEFUSEDXML is True


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The minimal school once as CSV, as untyped and typed workbooks per table, and as one
    workbook with a sheet per table (writing workbooks is the slow part of these tests)."""
    school = minimal_school()
    root = tmp_path_factory.mktemp("made")
    out = {kind: root / kind for kind in ("csv", "untyped", "typed", "sheets")}
    school.write(out["csv"])
    out["untyped"].mkdir()
    out["typed"].mkdir()
    for table in TABLES:
        school.write_xlsx(out["untyped"], table, typed=False)
        school.write_xlsx(out["typed"], table, typed=True)
    school.write_workbook(out["sheets"], "eduHub_8123.xlsx", typed=False)
    return out


@pytest.fixture(scope="module")
def from_csv(made: dict[str, Path]) -> Any:
    return read(made["csv"])


def _copy(src: Path, dst: Path, names: list[str] | None = None) -> Path:
    dst.mkdir(exist_ok=True)
    for path in src.iterdir():
        if names is None or path.name in names:
            shutil.copy2(path, dst / (path.name if names is None else path.name))
    return dst


def test_one_workbook_per_table_untyped_matches_csv(
    made: dict[str, Path], from_csv: Any, folder: Path
) -> None:
    extract = read(_copy(made["untyped"], folder))

    assert extract.findings == ()
    _same_students(extract.students, from_csv.students)
    assert {f.encoding for f in extract.files} == {"xlsx"}
    assert {f.name for f in extract.files} == {f"{t}_8123.xlsx" for t in TABLES}
    assert len(extract.attendance) == 100


def test_typed_cells_are_converted_by_column_rule(made: dict[str, Path], folder: Path) -> None:
    # KCY stays CSV with 2-digit codes; the others come from Excel with 7 instead of "07",
    # real dates and numbers: year levels are zero-padded back, dates read from the cells.
    _copy(made["typed"], folder, [f"{t}_8123.xlsx" for t in TABLES if t != "KCY"])
    _copy(made["csv"], folder, ["KCY_8123.csv"])
    extract = read(folder)

    assert extract.ok, extract.findings
    s = extract.students.set_index("student_key")
    assert s.loc["ABC0001", "year_level"] == "07"
    assert s.loc["ABC0001", "birth_date"] == pd.Timestamp(2013, 1, 5)
    assert s.loc["ABC0001", "vsn"] == "982567010"
    assert set(extract.attendance["year_level"].astype(str)) == {"07", "08", "11"}
    assert set(extract.home_groups["year_level"]) == {"07", "08", "11"}
    assert set(extract.absence_types["code"]) == {100, 200, 201, 300, 500, 604}


def test_typed_year_levels_get_their_two_digits_back_when_kcy_went_through_excel_too(
    made: dict[str, Path], folder: Path
) -> None:
    # KCY itself came from Excel (7 instead of "07"): CASES21 writes year levels with two
    # digits, so a coordinator scoped to 07 still sees the Year 7 students (issue 11).
    extract = read(_copy(made["typed"], folder))

    assert extract.ok, extract.findings
    assert set(extract.year_levels["year_level"]) == {"07", "08", "11", "UG"}
    assert set(extract.students["year_level"]) == {"07", "08", "11"}
    assert set(extract.attendance["year_level"].astype(str)) == {"07", "08", "11"}


def test_one_workbook_with_a_sheet_per_table(
    made: dict[str, Path], from_csv: Any, folder: Path
) -> None:
    extract = read(_copy(made["sheets"], folder))

    assert extract.findings == ()
    assert extract.school_number == "8123"
    _same_students(extract.students, from_csv.students)
    assert {f.table for f in extract.files} == set(TABLES)
    assert {f.name for f in extract.files} == {"eduHub_8123.xlsx"}


def test_workbook_without_a_school_number_needs_one(made: dict[str, Path], folder: Path) -> None:
    shutil.copy2(made["sheets"] / "eduHub_8123.xlsx", folder / "extract.xlsx")

    with pytest.raises(ExtractError, match="which school"):
        read(folder)
    assert read(folder, school_number="8123").ok


def test_workbook_rows_are_named_in_findings(school: School, folder: Path) -> None:
    # ST comes from a sheet of eduHub_8123.xlsx, the other tables from their CSV files
    school.student("ABC0004")["HOME_GROUP"] = "99Z"
    school.write(folder, skip=["ST"])
    school.write_workbook(folder, "eduHub_8123.xlsx", tables=["ST"], typed=False)
    extract = read(folder)

    (finding,) = with_code(extract, "unknown_home_group")
    assert finding.file == "eduHub_8123.xlsx"
    assert finding.row == 5  # header on row 1, ABC0004 is the fourth student
    assert finding.message.startswith("Row 5 of sheet ST in eduHub_8123.xlsx: student ABC0004")
    assert {f.name for f in extract.files if f.table == "ST"} == {"eduHub_8123.xlsx"}


def _zip(path: Path, entries: dict[str, bytes], *, compress: bool = True) -> Path:
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", method) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


_WORKBOOK_PARTS = {
    "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
    "xl/workbook.xml": b'<?xml version="1.0"?><workbook/>',
}


@pytest.fixture
def no_parsing(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Fail if openpyxl is ever asked to parse a workbook."""
    calls: list[str] = []

    def refuse(*args: object, **kwargs: object) -> None:
        calls.append(str(args[0]))
        raise AssertionError("a refused workbook was parsed")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)
    return calls


def test_zip_bomb_is_refused_before_parsing(
    school: School, folder: Path, no_parsing: list[str]
) -> None:
    school.write(folder, skip=["KGC"])
    bomb = (
        b'<?xml version="1.0"?><worksheet><sheetData>'
        + b" " * (8 << 20)
        + b"</sheetData></worksheet>"
    )
    path = _zip(folder / "KGC_8123.xlsx", {**_WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": bomb})
    assert path.stat().st_size < 100_000
    extract = read(folder)

    (finding,) = with_code(extract, "unsafe_workbook")
    assert finding.level == "error"
    assert finding.file == "KGC_8123.xlsx"
    assert "zip bomb" in finding.message
    assert no_parsing == []


def test_too_many_parts_and_unsafe_paths_are_refused(
    school: School, folder: Path, no_parsing: list[str]
) -> None:
    school.write(folder, skip=["KGC", "KGH"])
    many = {f"xl/media/p{i}.bin": b"x" for i in range(1001)}
    _zip(folder / "KGC_8123.xlsx", {**_WORKBOOK_PARTS, **many})
    _zip(folder / "KGH_8123.xlsx", {**_WORKBOOK_PARTS, "../../evil.xml": b"<x/>"})
    extract = read(folder)

    refused = {f.file: f.message for f in with_code(extract, "unsafe_workbook")}
    assert "1,003 parts" in refused["KGC_8123.xlsx"]
    assert "unsafe path" in refused["KGH_8123.xlsx"]
    assert no_parsing == []


def test_size_limits_are_checked(
    school: School, folder: Path, monkeypatch: pytest.MonkeyPatch, no_parsing: list[str]
) -> None:
    school.write(folder, skip=["KGC", "KGH"])
    _zip(
        folder / "KGC_8123.xlsx",
        {**_WORKBOOK_PARTS, "xl/a.bin": bytes(range(256)) * 400},
        compress=False,
    )
    _zip(
        folder / "KGH_8123.xlsx",
        {**_WORKBOOK_PARTS, "xl/b.bin": bytes(range(256)) * 40},
        compress=False,
    )
    monkeypatch.setattr(_files, "XLSX_MAX_BYTES", 50_000)
    monkeypatch.setattr(_files, "XLSX_MAX_UNCOMPRESSED", 5_000)
    extract = read(folder)

    refused = {f.file: f.message for f in with_code(extract, "unsafe_workbook")}
    assert "MB allowed for a workbook" in refused["KGC_8123.xlsx"]
    assert "would unpack to" in refused["KGH_8123.xlsx"]
    assert no_parsing == []


def test_zip_that_is_not_a_workbook(school: School, folder: Path, no_parsing: list[str]) -> None:
    school.write(folder, skip=["KGC"])
    _zip(folder / "KGC_8123.xlsx", {"readme.txt": b"hello", "data/a.csv": b"a,b\n"})
    extract = read(folder)

    (finding,) = with_code(extract, "not_a_table_file")
    assert finding.file == "KGC_8123.xlsx"
    assert "not an Excel (.xlsx) workbook" in finding.message
    assert no_parsing == []


def test_text_or_pdf_named_xlsx_is_refused(school: School, folder: Path) -> None:
    school.write(folder, skip=["KGC", "KGH"])
    (folder / "KGC_8123.xlsx").write_text("KGCKEY,DESCRIPTION\r\n07A,Home\r\n")
    (folder / "KGH_8123.xlsx").write_bytes(b"%PDF-1.4 binary")
    extract = read(folder)

    refused = {f.file: f.message for f in with_code(extract, "not_a_table_file")}
    assert "is a text file" in refused["KGC_8123.xlsx"]
    assert "PDF document" in refused["KGH_8123.xlsx"]


def test_damaged_workbook_is_refused(school: School, folder: Path) -> None:
    school.write(folder, skip=["KGH"])
    _zip(folder / "KGH_8123.xlsx", {**_WORKBOOK_PARTS, "xl/worksheets/sheet1.xml": b"<not xml"})
    extract = read(folder)

    (finding,) = with_code(extract, "not_a_table_file")
    assert finding.file == "KGH_8123.xlsx"
    assert "damaged" in finding.message


def test_missing_defusedxml_refuses_workbooks(
    school: School, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    school.write(folder, skip=["KGH"])
    school.write_xlsx(folder, "KGH", typed=False)
    monkeypatch.setattr(openpyxl.xml, "DEFUSEDXML", False)

    with pytest.raises(ExtractError, match="defusedxml"):
        read(folder)


def test_csv_wins_over_a_workbook_of_the_same_table(school: School, folder: Path) -> None:
    school.write(folder)
    school.write_xlsx(folder, "KGH", typed=False)
    extract = read(folder)

    (finding,) = with_code(extract, "duplicate_source")
    assert finding.level == "warning"
    assert finding.file == "KGH_8123.xlsx"
    assert "KGH_8123.csv" in finding.message
    assert "KGH_8123.xlsx" not in [f.name for f in extract.files]


def test_check_workbook_zip_accepts_a_real_workbook(tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["A", "B"])
    buf = io.BytesIO()
    wb.save(buf)
    path = tmp_path / "real.xlsx"
    path.write_bytes(buf.getvalue())

    _files.check_workbook_zip(path, path.name)  # no exception
    assert zipfile.is_zipfile(path)
