"""Reading a valid eduHub folder: canonical frames, encodings, dates, deltas, tolerance."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from eduhub_fixture import (
    DAYS,
    EXTRACT_DATE,
    STUDENTS,
    School,
    codes,
    line_of,
    minimal_school,
    read,
    with_code,
)

from importers import ExtractError, ImportCancelled, read_cases21
from importers.whitelist import OUTPUT_COLUMNS

FRAMES = (
    "students",
    "year_levels",
    "home_groups",
    "houses",
    "absence_types",
    "attendance",
    "strand_results",
    "domain_results",
    "calendar",
)


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """The minimal school, written and read once for the tests that only look."""
    folder = tmp_path_factory.mktemp("valid")
    minimal_school().write(folder)
    return folder, read(folder)


def test_valid_folder_has_exact_columns_and_no_findings(valid: tuple[Path, Any]) -> None:
    _, extract = valid

    assert extract.findings == ()
    assert extract.ok
    assert extract.school_number == "8123"
    assert extract.extract_date == EXTRACT_DATE
    for frame in FRAMES:
        assert list(getattr(extract, frame).columns) == list(OUTPUT_COLUMNS[frame]), frame
    assert len(extract.students) == len(STUDENTS)
    assert len(extract.attendance) == len(STUDENTS) * len(DAYS) + 0  # the SXABCONV day is in SXAB
    assert len(extract.year_levels) == 4
    assert len(extract.home_groups) == 3
    assert len(extract.absence_types) == 6
    assert len(extract.strand_results) == 35
    assert len(extract.domain_results) == 7


def test_source_files_are_described(valid: tuple[Path, Any]) -> None:
    folder, extract = valid

    by_table = {f.table: f for f in extract.files}
    assert set(by_table) == {
        "ST",
        "DF",
        "SF",
        "KCY",
        "KGC",
        "KGH",
        "KCT",
        "SXAB",
        "SXABCONV",
        "STVDI",
        "STVDO",
    }
    st = by_table["ST"]
    data = (folder / "ST_8123.csv").read_bytes()
    assert st.name == "ST_8123.csv"
    assert st.size == len(data)
    assert st.sha256 == hashlib.sha256(data).hexdigest()
    assert st.rows == 10
    assert st.encoding == "cp1252"
    assert by_table["SXAB"].rows == 100


def test_student_values(valid: tuple[Path, Any]) -> None:
    folder, extract = valid
    s = extract.students.set_index("student_key")

    alice = s.loc["ABC0001"]
    assert alice["surname"] == "SMITH"
    assert alice["first_name"] == "Alice"
    assert alice["preferred_name"] == "Ali"
    assert alice["gender"] == "F"
    assert alice["birth_date"] == pd.Timestamp(2013, 1, 5)
    assert alice["status"] == "ACTV"
    assert alice["entry_date"] == pd.Timestamp(2025, 1, 28)
    assert pd.isna(alice["exit_date"])
    assert alice["year_level"] == "07"
    assert alice["home_group"] == "07A"
    assert alice["house"] == "RED"
    assert alice["family_key"] == "FAM01"
    assert alice["vsn"] == "982567010"
    assert alice["vcaa_number"] == ""
    assert (alice["parent_a_occupation_group"], alice["parent_b_occupation_group"]) == ("A", "B")
    assert alice["family_occupation_group"] == "A"
    assert s.loc["ABC0007", "vcaa_number"] == "25123456A"
    flags = [
        "koorie",
        "refugee_background",
        "disability",
        "integration",
        "youth_allowance",
        "access_alert",
        "risk_alert",
        "medical_alert",
        "ema",
    ]
    for flag in flags:
        assert s[flag].dtype == np.bool_, flag
        assert not s[flag].any(), flag


def test_dtypes_of_output_frames(valid: tuple[Path, Any]) -> None:
    folder, extract = valid

    for col in ("birth_date", "entry_date", "exit_date"):
        assert pd.api.types.is_datetime64_any_dtype(extract.students[col])
    assert pd.api.types.is_datetime64_any_dtype(extract.attendance["date"])
    assert pd.api.types.is_integer_dtype(extract.attendance["am_code"])
    assert pd.api.types.is_integer_dtype(extract.absence_types["code"])
    assert extract.year_levels.set_index("year_level")["numeric"].to_dict() == {
        "07": 7,
        "08": 8,
        "11": 11,
        "UG": None,
    }


def test_lookup_frames(valid: tuple[Path, Any]) -> None:
    folder, extract = valid

    years = extract.year_levels.set_index("year_level")
    assert years.loc["07", "description"] == "Year 7"
    assert years.loc["07", "coordinator_name"] == "John COORD"
    assert years.loc["08", "coordinator_name"] == ""
    assert years.loc["11", "coordinator_name"] == "Jane TEACHER"
    groups = extract.home_groups.set_index("home_group")
    assert groups.loc["07A"].to_dict() == {
        "description": "Home group 07A",
        "year_level": "07",
        "teacher_name": "Jane TEACHER",
        "teacher_b_name": "John COORD",
        "active": True,
    }
    assert extract.houses.to_dict("list") == {
        "house": ["RED", "BLUE"],
        "description": ["Red house", "Blue house"],
    }
    kct = extract.absence_types.set_index("code")
    assert kct.loc[100].to_dict() == {
        "description": "Present",
        "abbreviation": "PRES",
        "curriculum": True,
        "pre_approved": False,
    }
    assert bool(kct.loc[200, "pre_approved"]) is True
    strands = extract.strand_results
    row = strands[(strands.student_key == "ABC0001") & (strands.dimension == "ENGREA")].iloc[0]
    assert row.to_dict() == {
        "student_key": "ABC0001",
        "year_semester": "2025.2",
        "domain": "ENG",
        "dimension": "ENGREA",
        "score": "6.5",
        "year_level": "07",
    }
    # text results as written; numeric ones in one form ("6" is "6.0", as a workbook re-save
    # would otherwise make the two routes differ)
    assert set(strands["score"]) >= {"NA", "PT", "6.0"}
    assert "6" not in set(strands["score"])
    assert extract.domain_results.iloc[0].to_dict() == {
        "student_key": "ABC0001",
        "year_semester": "2025.2",
        "domain": "ENG",
        "rating": "C",
        "year_level": "07",
    }


def test_houses_come_from_students_without_kgh(school: School, folder: Path) -> None:
    school.write(folder, skip=["KGH"])
    extract = read(folder)

    assert extract.houses.to_dict("list") == {"house": ["BLUE", "RED"], "description": ["", ""]}


def test_codes_stay_text(valid: tuple[Path, Any]) -> None:
    folder, extract = valid

    assert set(extract.students["year_level"]) == {"07", "08", "11"}
    assert set(extract.students["home_group"]) == {"07A", "08B", "11C"}
    assert set(extract.attendance["year_level"].astype(str)) == {"07", "08", "11"}
    assert set(extract.strand_results["year_level"]) == {"07", "08"}
    assert extract.students["vsn"].iloc[0] == "982567010"


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8-sig", "utf-8", "utf-16"])
def test_names_survive_each_encoding(school: School, folder: Path, encoding: str) -> None:
    school.write(folder, encoding=encoding)
    extract = read(folder)

    assert extract.ok, extract.findings
    s = extract.students.set_index("student_key")
    assert s.loc["ABC0002", "surname"] == "O’BRIEN"
    assert s.loc["ABC0002", "first_name"] == "Zoë"
    assert (s.loc["ABC0003", "surname"], s.loc["ABC0003", "first_name"]) == ("NULL", "NA")
    assert s.loc["ABC0005", "first_name"] == "Null"
    st = next(f for f in extract.files if f.table == "ST")
    assert st.encoding == encoding


@pytest.mark.parametrize("style", ["eduhub", "dmy", "dmy_short", "iso"])
def test_each_date_format(school: School, folder: Path, style: str) -> None:
    school.write(folder, date_style=style)
    extract = read(folder)

    assert extract.ok, extract.findings
    s = extract.students.set_index("student_key")
    assert s.loc["ABC0001", "birth_date"] == pd.Timestamp(2013, 1, 5)
    assert s.loc["ABC0010", "birth_date"] == pd.Timestamp(2013, 10, 14)
    assert sorted(extract.attendance["date"].unique()) == [pd.Timestamp(d) for d in DAYS]


def test_mixed_date_formats_in_one_column(school: School, folder: Path) -> None:
    values = [
        "5/02/2013 12:00:00 AM",
        "5/02/2013 3:04:05 PM",
        "05/02/2013",
        "5/2/2013",
        "2013-02-05",
        "2013-02-05 00:00:00",
        "5/02/2013 0:00",
    ]
    for row, value in zip(school.rows("ST"), values, strict=False):
        row["BIRTHDATE"] = value
    school.write(folder)
    extract = read(folder)

    assert extract.ok, extract.findings
    assert list(extract.students["birth_date"][: len(values)]) == [pd.Timestamp(2013, 2, 5)] * len(
        values
    )


def _set_mtime(path: Path, when: dt.datetime) -> None:
    stamp = when.timestamp()
    os.utime(path, (stamp, stamp))


def test_newer_delta_overlays_by_key(school: School, folder: Path) -> None:
    school.write(folder)
    changed = dict(school.student("ABC0001"), SURNAME="SMITH-JONES")
    new = dict(school.student("ABC0002"), STKEY="ABC0011", FIRST_NAME="Newt", STATUS="FUT")
    school.write_csv(folder, "ST", name="ST_8123_D.csv", rows=[changed, new])
    sx_changed = dict(school.find("SXAB", STKEY="ABC0001", ABSENCE_DATE=DAYS[0]), AM_ACT_TYPE="500")
    school.write_csv(folder, "SXAB", name="SXAB_8123_D.csv", rows=[sx_changed])
    base = dt.datetime(2026, 3, 1, 8, 0)
    for name in ("ST_8123.csv", "SXAB_8123.csv"):
        _set_mtime(folder / name, base)
    for name in ("ST_8123_D.csv", "SXAB_8123_D.csv"):
        _set_mtime(folder / name, base + dt.timedelta(hours=2))
    extract = read(folder)

    assert extract.ok, extract.findings
    s = extract.students.set_index("student_key")
    assert len(s) == 11
    assert s.loc["ABC0001", "surname"] == "SMITH-JONES"
    assert s.loc["ABC0011", "first_name"] == "Newt"
    att = extract.attendance
    day0 = att[(att.student_key == "ABC0001") & (att.date == pd.Timestamp(DAYS[0]))]
    assert len(day0) == 1 and int(day0.am_code.iloc[0]) == 500
    assert len(att) == 100
    names = [f.name for f in extract.files]
    assert "ST_8123_D.csv" in names and "SXAB_8123_D.csv" in names
    assert {f.rows for f in extract.files if f.name == "ST_8123_D.csv"} == {2}


def test_older_delta_is_ignored(school: School, folder: Path) -> None:
    school.write(folder)
    changed = dict(school.student("ABC0001"), SURNAME="SMITH-JONES")
    school.write_csv(folder, "ST", name="ST_8123_D.csv", rows=[changed])
    base = dt.datetime(2026, 3, 1, 8, 0)
    _set_mtime(folder / "ST_8123.csv", base)
    _set_mtime(folder / "ST_8123_D.csv", base - dt.timedelta(days=1))
    extract = read(folder)

    assert extract.students.set_index("student_key").loc["ABC0001", "surname"] == "SMITH"
    assert "ST_8123_D.csv" not in [f.name for f in extract.files]


def test_extract_date_defaults_to_newest_file(school: School, folder: Path) -> None:
    school.write(folder)
    for i, path in enumerate(sorted(folder.iterdir())):
        _set_mtime(path, dt.datetime(2026, 2, 20 + i % 5, 9, 0))
    extract = read_cases21(folder)

    assert extract.extract_date == dt.date(2026, 2, 24)


def test_extra_unknown_columns_are_tolerated(school: School, folder: Path) -> None:
    school.write(folder)
    school.write_csv(folder, "ST", extra={"NEW_V68_FIELD": "whatever, really", "ZZZ": ""})
    school.write_csv(folder, "SXAB", extra={"SOMETHING_NEW": "x"})
    extract = read(folder)

    assert extract.findings == ()
    assert len(extract.students) == 10
    assert "NEW_V68_FIELD" not in extract.students.columns


def test_missing_optional_columns_are_tolerated(school: School, folder: Path) -> None:
    school.write(folder)
    school.write_csv(folder, "ST", drop=["PREF_NAME", "REFUGEE_BACKGROUND", "VCE_ID", "HOUSE"])
    school.write_csv(folder, "SXAB", drop=["AM_APPROVED", "PM_APPROVED", "ST_YEAR_LEVEL"])
    extract = read(folder)

    assert extract.ok, extract.findings
    assert set(extract.students["preferred_name"]) == {""}
    assert not extract.students["refugee_background"].any()
    assert set(extract.attendance["am_approved"].astype(str)) == {""}
    assert set(extract.attendance["year_level"].astype(str)) == {""}


def test_header_names_are_matched_trimmed_and_case_blind(school: School, folder: Path) -> None:
    school.write(folder)
    school.write_csv(folder, "ST", header_case=lambda c: f" {c.lower()} ")
    extract = read(folder)

    assert extract.ok, extract.findings
    assert extract.students["surname"].iloc[0] == "SMITH"


def test_columns_in_another_order(school: School, folder: Path) -> None:
    from eduhub_fixture import columns

    school.write(folder)
    order = list(reversed(columns("SXAB")))
    school.write_csv(folder, "SXAB", drop=order, extra={c: "" for c in order})
    extract = read(folder)
    assert extract.ok, extract.findings
    assert len(extract.attendance) == 100


def test_two_schools_in_one_folder_are_refused(school: School, folder: Path) -> None:
    school.write(folder)
    minimal_school("8124").write(folder)

    with pytest.raises(ExtractError) as err:
        read(folder)
    assert "8123" in str(err.value) and "8124" in str(err.value)
    picked = read(folder, school_number="8124")
    assert picked.school_number == "8124"
    assert all(f.name.endswith("_8124.csv") for f in picked.files)
    with pytest.raises(ExtractError, match="9999"):
        read(folder, school_number="9999")


def test_missing_and_empty_folders_raise(tmp_path: Path) -> None:
    with pytest.raises(ExtractError, match="does not exist"):
        read(tmp_path / "nope")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ExtractError, match="No CASES21 eduHub files"):
        read(tmp_path)


def test_line_numbers_count_multiline_memos(school: School, folder: Path) -> None:
    school.student("ABC0005")["SCHOOL_YEAR"] = "09"
    school.write(folder)
    extract = read(folder)

    (finding,) = with_code(extract, "unknown_year_level")
    expected = line_of(folder / "ST_8123.csv", "ABC0005,")
    assert expected > 6  # memos with line breaks push the record down
    assert finding.row == expected
    assert finding.file == "ST_8123.csv"
    assert finding.column == "SCHOOL_YEAR"
    assert finding.message.startswith(f"Line {expected} of ST_8123.csv: student ABC0005")


class Recorder:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.calls: list[tuple[float, str]] = []
        self.cancel_after = cancel_after

    def report(self, fraction: float, text: str) -> None:
        self.calls.append((fraction, text))

    def cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.calls) >= self.cancel_after


def test_progress_is_reported(school: School, folder: Path) -> None:
    school.write(folder)
    progress = Recorder()
    read(folder, progress=progress)

    fractions = [f for f, _ in progress.calls]
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any("SXAB_8123.csv" in text for _, text in progress.calls)
    assert not any("SMITH" in text for _, text in progress.calls)


def test_cancel_raises_import_cancelled(school: School, folder: Path) -> None:
    school.write(folder)
    with pytest.raises(ImportCancelled):
        read(folder, progress=Recorder(cancel_after=3))


def test_not_a_csv_file_is_refused_clearly(school: School, folder: Path) -> None:
    school.write(folder)
    (folder / "DF_8123.csv").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (folder / "KGH_8123.csv").write_bytes(b"STKEY,SURNAME\r\nAB\x00C,\x00\x01\x02\r\n" * 50)
    (folder / "SF_8123.csv").write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    extract = read(folder)

    refused = {f.file: f for f in with_code(extract, "not_a_table_file")}
    assert set(refused) == {"DF_8123.csv", "KGH_8123.csv", "SF_8123.csv"}
    assert all(f.level == "error" for f in refused.values())
    assert "PDF document" in refused["DF_8123.csv"].message
    assert "binary data" in refused["KGH_8123.csv"].message
    assert "zip archive" in refused["SF_8123.csv"].message
    assert "missing_file" not in codes(extract)  # the file is there; it is refused instead


def test_broken_csv_is_an_error_with_a_line(school: School, folder: Path) -> None:
    school.write(folder)
    (folder / "KCT_8123.csv").write_bytes(b'KCTKEY,DESCRIPTION,CURRICULUM\r\n100,"Present,Y\r\n')
    (folder / "KGH_8123.csv").write_bytes(b"")
    extract = read(folder)

    unreadable = {f.file: f for f in with_code(extract, "unreadable_file")}
    assert "never closed" in unreadable["KCT_8123.csv"].message
    assert "empty" in unreadable["KGH_8123.csv"].message
    assert not extract.ok


def test_files_with_a_bom_header_and_blank_lines(school: School, folder: Path) -> None:
    school.write(folder)
    path = folder / "KCY_8123.csv"
    text = path.read_bytes().decode("cp1252")
    head, rest = text.split("\r\n", 1)
    path.write_bytes(("\ufeff" + head + "\r\n\r\n" + rest + "\r\n\r\n").encode("utf-8"))
    extract = read(folder)

    assert extract.ok, extract.findings
    assert len(extract.year_levels) == 4


def test_excel_unicode_text_export_is_read(school: School, folder: Path) -> None:
    """Excel's "Unicode Text" save: UTF-16 with a BOM, tab-delimited."""
    school.write(folder)
    school.write_csv(folder, "ST", encoding="utf-16", delimiter="\t")
    extract = read(folder)

    assert extract.ok, extract.findings
    s = extract.students.set_index("student_key")
    assert s.loc["ABC0002", "first_name"] == "Zoë"
    assert s.loc["ABC0001", "year_level"] == "07"


def test_calendar_is_read_when_present(school: School, folder: Path) -> None:
    for day in DAYS:
        school.add("KCC", KCCKEY=day, DAYTODAY=day.strftime("%A"), DAY_TYPE="S", TERM="1")
    school.add("KCC", KCCKEY=dt.date(2026, 2, 28), DAY_TYPE="W", TERM="1")
    school.write(folder)
    extract = read(folder)

    assert extract.ok, extract.findings
    cal = extract.calendar
    assert list(cal.columns) == ["date", "day_type", "term"]
    assert len(cal) == len(DAYS) + 1
    assert cal.iloc[-1].to_dict() == {
        "date": pd.Timestamp(2026, 2, 28),
        "day_type": "W",
        "term": "1",
    }
    assert "KCC_8123.csv" in [f.name for f in extract.files]


def test_a_table_with_a_header_and_no_rows_reads_as_empty(tmp_path: Path) -> None:
    """pandas 3.1 fails on categorical columns of a header-only file (a school with no SXABCONV
    records): the table reads as empty, its categorical columns kept as categories."""
    from importers._files import read_csv_table

    path = tmp_path / "SXABCONV_8123.csv"
    path.write_bytes(b"SXABCONV_ID,STKEY,ABSENCE_DATE,AM_TYPE,PM_TYPE\r\n")
    got = read_csv_table(path, "SXABCONV", ["STKEY", "ABSENCE_DATE", "AM_TYPE"], categorical=["ABSENCE_DATE", "AM_TYPE"])
    assert list(got.frame.columns) == ["STKEY", "ABSENCE_DATE", "AM_TYPE"]
    assert len(got.frame) == 0
    assert str(got.frame["AM_TYPE"].dtype) == "category" and got.frame["STKEY"].dtype == object
