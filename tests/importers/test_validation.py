"""Each validation error and data-quality warning: right code, level, file, line and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from eduhub_fixture import DAYS, EXTRACT_DATE, School, codes, line_of, read, with_code

from importers import ValidationFailed
from importers.findings import MAX_LISTED, FindingCollector
from importers.validation import ERROR_CODES, WARNING_CODES


def only(extract: object, code: str) -> object:
    found = with_code(extract, code)
    assert len(found) == 1, (code, found, extract.findings)  # type: ignore[attr-defined]
    return found[0]


# -- errors ------------------------------------------------------------------------------------


REQUIRED = ("ST", "DF", "KGC", "KCY", "KCT", "SXAB", "STVDI")


def test_missing_required_files(school: School, folder: Path) -> None:
    school.write(folder, skip=REQUIRED)
    extract = read(folder)

    found = {f.file: f for f in with_code(extract, "missing_file")}
    assert set(found) == {f"{t}_8123.csv" for t in REQUIRED}
    for table in REQUIRED:
        f = found[f"{table}_8123.csv"]
        assert (f.level, f.row, f.column) == ("error", None, None)
        assert f.message.startswith(f"{table}_8123.csv (")
    assert not extract.ok
    with pytest.raises(ValidationFailed) as err:
        extract.raise_for_errors()
    assert err.value.findings == extract.findings
    assert "7 problems" in str(err.value)


def test_missing_expected_files_are_warnings(school: School, folder: Path) -> None:
    school.write(folder, skip=["SXABCONV", "STVDO"])
    extract = read(folder)

    found = with_code(extract, "missing_optional_file")
    assert {(f.level, f.file) for f in found} == {
        ("warning", "SXABCONV_8123.csv"),
        ("warning", "STVDO_8123.csv"),
    }
    assert extract.ok


@pytest.mark.parametrize(
    "dropped",
    [
        {
            "ST": "BIRTHDATE",
            "SXAB": "AM_ACT_TYPE",
            "KCT": "CURRICULUM",
            "DF": "OCCUP_STATUS_A",
            "STVDI": "SCORE",
            "KGC": "KGCKEY",
        },
        {"ST": "STKEY", "SXAB": "ABSENCE_DATE", "KCY": "KCYKEY", "STVDO": "VDOMAIN"},
        {"ST": "HOME_GROUP", "SXABCONV": "PM_TYPE"},
    ],
)
def test_missing_required_columns(school: School, folder: Path, dropped: dict[str, str]) -> None:
    school.write(folder)
    for table, column in dropped.items():
        school.write_csv(folder, table, drop=[column])
    extract = read(folder)

    found = {(f.file, f.column): f for f in with_code(extract, "missing_column")}
    assert set(found) == {(f"{t}_8123.csv", c) for t, c in dropped.items()}
    for (_, column), f in found.items():
        assert (f.level, f.row) == ("error", 1)
        assert f"has no {column} column" in f.message


DUPLICATES = {
    "ST": ({"STKEY": "ABC0003"}, "STKEY"),
    "KCY": ({"KCYKEY": "08"}, "KCYKEY"),
    "KGC": ({"KGCKEY": "08B"}, "KGCKEY"),
    "KCT": ({"KCTKEY": "300"}, "KCTKEY"),
    "DF": ({"DFKEY": "FAM04"}, "DFKEY"),
    "SXAB": ({"STKEY": "ABC0006", "ABSENCE_DATE": DAYS[2]}, "STKEY"),
}


def test_duplicate_keys_are_errors(school: School, folder: Path) -> None:
    for table, (match, _) in DUPLICATES.items():
        school.add(table, **dict(school.find(table, **match)))
    school.write(folder)
    extract = read(folder)

    found = with_code(extract, "duplicate_key")
    for table, (match, column) in DUPLICATES.items():
        mine = [f for f in found if f.file == f"{table}_8123.csv"]
        assert [f.level for f in mine] == ["error", "error"], table
        assert {f.column for f in mine} == {column}
        key = str(next(iter(match.values())))
        assert all(key in f.message and "more than one row" in f.message for f in mine)
        rows = [f.row for f in mine]
        assert None not in rows and rows[0] < rows[1]
    assert not extract.ok
    assert len(extract.year_levels) == 4 and len(extract.attendance) == 100  # the last one kept


def test_duplicate_student_lines_are_exact(school: School, folder: Path) -> None:
    school.add("ST", **dict(school.student("ABC0003")))
    school.write(folder)
    extract = read(folder)

    rows = sorted(f.row for f in with_code(extract, "duplicate_key"))
    text = (folder / "ST_8123.csv").read_bytes().decode("cp1252").split("\n")
    expected = [i + 1 for i, line in enumerate(text) if line.startswith("ABC0003,")]
    assert rows == expected and len(expected) == 2
    assert len(extract.students) == 10  # the last one is kept


def test_unreadable_birth_date(school: School, folder: Path) -> None:
    school.student("ABC0004")["BIRTHDATE"] = "31/02/2010"
    school.write(folder)
    extract = read(folder)

    f = only(extract, "bad_date")
    line = line_of(folder / "ST_8123.csv", "ABC0004,")
    assert (f.level, f.file, f.row, f.column) == ("error", "ST_8123.csv", line, "BIRTHDATE")
    assert f.message == f"Line {line} of ST_8123.csv: the birth date '31/02/2010' is not a date."


def test_unreadable_absence_date(school: School, folder: Path) -> None:
    school.find("SXAB", STKEY="ABC0002", ABSENCE_DATE=DAYS[1])["ABSENCE_DATE"] = "13/13/2026"
    school.write(folder)
    extract = read(folder)

    f = only(extract, "bad_date")
    assert (f.file, f.column) == ("SXAB_8123.csv", "ABSENCE_DATE")
    assert "'13/13/2026'" in f.message
    assert len(extract.attendance) == 99


def test_unreadable_optional_date_is_a_warning(school: School, folder: Path) -> None:
    school.student("ABC0004")["ENTRY"] = "someday"
    school.write(folder)
    extract = read(folder)

    f = only(extract, "bad_optional_date")
    assert (f.level, f.column) == ("warning", "ENTRY")
    assert "someday" not in f.message  # text that is not date-like is never echoed
    assert extract.ok


def test_blank_key_is_an_error(school: School, folder: Path) -> None:
    school.student("ABC0010")["STKEY"] = ""
    school.write(folder)
    extract = read(folder)

    f = only(extract, "missing_key")
    assert (f.level, f.file, f.column) == ("error", "ST_8123.csv", "STKEY")
    assert "no student key" in f.message


def test_attendance_for_a_student_not_in_st(school: School, folder: Path) -> None:
    school.find("SXAB", STKEY="ABC0009", ABSENCE_DATE=DAYS[5])["STKEY"] = "ZZZ0001"
    school.find("SXABCONV", STKEY="ABC0004")["STKEY"] = "ZZZ0002"
    school.write(folder)
    extract = read(folder)

    found = {f.file: f for f in with_code(extract, "unknown_student")}
    assert set(found) == {"SXAB_8123.csv", "SXABCONV_8123.csv"}
    sx = found["SXAB_8123.csv"]
    assert (sx.level, sx.column) == ("error", "STKEY")
    assert sx.row == line_of(folder / "SXAB_8123.csv", "805,")  # ABC0009 is student index 8
    assert "ZZZ0001" in sx.message and "ST_8123.csv" in sx.message
    assert len(extract.attendance) == 99


def test_result_for_a_student_not_in_st(school: School, folder: Path) -> None:
    school.find("STVDI", SKEY="ABC0001", VDIMENSION="ENGREA")["SKEY"] = "GONE001"
    school.find("STVDO", SKEY="ABC0002")["SKEY"] = "GONE002"
    school.write(folder)
    extract = read(folder)

    found = {f.file: f for f in with_code(extract, "unknown_student")}
    assert set(found) == {"STVDI_8123.csv", "STVDO_8123.csv"}
    assert found["STVDI_8123.csv"].column == "SKEY"
    assert "result row" in found["STVDI_8123.csv"].message
    assert "GONE001" not in set(extract.strand_results["student_key"])


def test_unknown_year_level_and_home_group(school: School, folder: Path) -> None:
    school.student("ABC0001")["SCHOOL_YEAR"] = "7"
    school.student("ABC0002")["HOME_GROUP"] = "07Z"
    school.write(folder)
    extract = read(folder)

    year = only(extract, "unknown_year_level")
    assert (year.level, year.column, year.row) == (
        "error",
        "SCHOOL_YEAR",
        line_of(folder / "ST_8123.csv", "ABC0001,"),
    )
    assert "year level '7'" in year.message and "leading zero" in year.message
    group = only(extract, "unknown_home_group")
    assert (group.level, group.column) == ("error", "HOME_GROUP")
    assert "'07Z'" in group.message and "KGC_8123.csv" in group.message


def test_former_students_with_stale_codes_only_warn(school: School, folder: Path) -> None:
    st = school.student("ABC0001")
    st.update(SCHOOL_YEAR="05", HOME_GROUP="05A", STATUS="LEFT", EXIT_DATE=dt.date(2025, 12, 19))
    school.remove("SXAB", STKEY="ABC0001")
    school.remove("STVDI", SKEY="ABC0001")
    school.write(folder)
    extract = read(folder)

    assert extract.ok, extract.errors
    assert only(extract, "former_student_unknown_year_level").level == "warning"
    assert only(extract, "former_student_unknown_home_group").level == "warning"


BAD_VCAA = ("1234567A", "123456789", "12345678AB", "ABCDEFGHI", "1234-5678A")


def test_malformed_vcaa_numbers(school: School, folder: Path) -> None:
    keys = [f"ABC{i:04d}" for i in range(1, 6)]
    for key, value in zip(keys, BAD_VCAA, strict=True):
        school.student(key)["VCE_ID"] = value
    school.write(folder)
    extract = read(folder)

    found = with_code(extract, "malformed_vcaa_number")
    assert [f.row for f in found] == [line_of(folder / "ST_8123.csv", f"{k},") for k in keys]
    for f in found:
        assert (f.level, f.column) == ("error", "VCE_ID")
        assert "8 digits followed by a check letter" in f.message


def test_lower_case_check_letter_is_accepted(school: School, folder: Path) -> None:
    school.student("ABC0008")["VCE_ID"] = "25123457a"
    school.write(folder)
    extract = read(folder)

    assert extract.ok
    assert extract.students.set_index("student_key").loc["ABC0008", "vcaa_number"] == "25123457A"


def test_non_numeric_absence_code(school: School, folder: Path) -> None:
    school.find("SXAB", STKEY="ABC0003", ABSENCE_DATE=DAYS[4])["PM_ACT_TYPE"] = "2O1"
    school.write(folder)
    extract = read(folder)

    f = only(extract, "bad_absence_code")
    assert (f.level, f.file, f.column) == ("error", "SXAB_8123.csv", "PM_ACT_TYPE")
    assert f.row == line_of(folder / "SXAB_8123.csv", f"{2 * 100 + 4},")
    assert "afternoon absence code" in f.message


def test_errors_are_capped_per_code_and_file(school: School, folder: Path) -> None:
    for row in school.rows("SXAB")[:60]:
        row["STKEY"] = "ZZZ" + str(row["SXAB_ID"])
    school.write(folder)
    extract = read(folder)

    found = with_code(extract, "unknown_student")
    assert len(found) == MAX_LISTED["error"] + 1
    assert found[-1].row is None
    assert found[-1].message == "… and 10 more rows like this in SXAB_8123.csv."


def test_every_code_is_documented() -> None:
    assert not ({"missing_file", "unknown_student", "bad_date"} - ERROR_CODES)
    assert {"occupation_unknown", "attendance_stale", "absence_rows_only"} <= WARNING_CODES


# -- warnings ----------------------------------------------------------------------------------


def test_active_student_without_home_group(school: School, folder: Path) -> None:
    school.student("ABC0006")["HOME_GROUP"] = ""
    school.write(folder)
    extract = read(folder)

    f = only(extract, "no_home_group")
    assert (f.level, f.column, f.row) == (
        "warning",
        "HOME_GROUP",
        line_of(folder / "ST_8123.csv", "ABC0006,"),
    )
    assert extract.ok


def test_occupation_group_unknown_summary_and_rows(school: School, folder: Path) -> None:
    school.find("DF", DFKEY="FAM02").update(OCCUP_STATUS_A="", OCCUP_STATUS_B="U")
    school.find("DF", DFKEY="FAM05").update(OCCUP_STATUS_A="", OCCUP_STATUS_B="")
    school.student("ABC0009")["FAMILY"] = ""
    school.write(folder)
    extract = read(folder)

    found = with_code(extract, "occupation_unknown")
    summary = [f for f in found if f.row is None]
    rows = [f for f in found if f.row is not None]
    assert len(summary) == 1
    assert summary[0].message.startswith("3 of 10 active students have family occupation group U")
    assert {f.row for f in rows} == {
        line_of(folder / "ST_8123.csv", f"{k},") for k in ("ABC0002", "ABC0005", "ABC0009")
    }
    assert all(f.level == "warning" for f in found)
    assert any("no family is recorded" in f.message for f in rows)


def test_active_student_without_attendance(school: School, folder: Path) -> None:
    school.remove("SXAB", STKEY="ABC0007")
    school.write(folder)
    extract = read(folder)

    f = only(extract, "no_attendance")
    assert (f.level, f.file, f.row) == (
        "warning",
        "ST_8123.csv",
        line_of(folder / "ST_8123.csv", "ABC0007,"),
    )


def test_new_student_after_the_last_roll_is_not_flagged(school: School, folder: Path) -> None:
    school.remove("SXAB", STKEY="ABC0007")
    school.student("ABC0007")["ENTRY"] = dt.date(2026, 3, 2)
    school.write(folder)
    assert "no_attendance" not in codes(read(folder))


def test_stale_attendance(school: School, folder: Path) -> None:
    school.write(folder)
    extract = read(folder, extract_date=DAYS[-1] + dt.timedelta(days=15))

    f = only(extract, "attendance_stale")
    assert f.level == "warning"
    assert "27/02/2026" in f.message and "upload them into CASES21" in f.message
    assert "attendance_stale" not in codes(
        read(folder, extract_date=DAYS[-1] + dt.timedelta(days=14))
    )


def test_absence_codes_missing_from_kct(school: School, folder: Path) -> None:
    for day in DAYS[:3]:
        school.find("SXAB", STKEY="ABC0001", ABSENCE_DATE=day)["AM_ACT_TYPE"] = "777"
    school.find("SXABCONV", STKEY="ABC0004").update(AM_TYPE="888", ABSENCE_DATE=dt.date(2026, 2, 2))
    school.write(folder)
    extract = read(folder)

    found = {f.file: f for f in with_code(extract, "unknown_absence_code")}
    assert set(found) == {"SXAB_8123.csv", "SXABCONV_8123.csv"}
    sx = found["SXAB_8123.csv"]
    assert sx.level == "warning"
    assert "777 on 3 half-days" in sx.message and "KCT_8123.csv" in sx.message
    assert sx.row == line_of(folder / "SXAB_8123.csv", "0,")


def test_missing_strand_results(school: School, folder: Path) -> None:
    school.remove("STVDI", SKEY="ABC0004", VDIMENSION="ENGWRI")
    school.find("STVDI", SKEY="ABC0005", VDIMENSION="MATSTR")["YEAR_SEMESTER"] = "2023.2"
    school.find("STVDI", SKEY="ABC0006", VDIMENSION="MATNUM")["SCORE"] = "NA"
    school.write(folder)
    extract = read(folder)

    found = with_code(extract, "missing_strand_results")
    summary = [f for f in found if f.row is None]
    assert len(summary) == 1 and summary[0].message.startswith("3 active students in years 1 to 10")
    per_student = {f.message.split(": ", 1)[1] for f in found if f.row is not None}
    assert per_student == {
        "student ABC0004 has no ENGWRI result in 2025 or 2026.",
        "student ABC0005 has no MATSTR result in 2025 or 2026.",
        "student ABC0006 has no MATNUM result in 2025 or 2026.",
    }


def test_year_11_needs_no_strand_results(school: School, folder: Path) -> None:
    school.write(folder)
    extract = read(folder)
    assert "missing_strand_results" not in codes(extract)
    assert not any(s == "ABC0007" for s in extract.strand_results["student_key"])


def test_absence_rows_only(school: School, folder: Path) -> None:
    school.tables["SXAB"] = [r for r in school.rows("SXAB") if r["AM_ACT_TYPE"] != "100"]
    school.write(folder)
    extract = read(folder)

    f = only(extract, "absence_rows_only")
    assert f.level == "warning"
    assert "cannot be counted from SXAB alone" in f.message
    assert "school calendar (KCC)" in f.message


def test_unknown_status(school: School, folder: Path) -> None:
    for key, status in (("ABC0002", "ZZZ"), ("ABC0003", "ACTIVE"), ("ABC0004", "")):
        school.student(key)["STATUS"] = status
    school.write(folder)
    extract = read(folder)

    found = with_code(extract, "unknown_status")
    assert [f.row for f in found] == [
        line_of(folder / "ST_8123.csv", f"{k},") for k in ("ABC0002", "ABC0003", "ABC0004")
    ]
    assert {(f.level, f.column) for f in found} == {("warning", "STATUS")}
    assert "'ZZZ'" in found[0].message and "(blank)" in found[2].message


def test_future_dates(school: School, folder: Path) -> None:
    school.student("ABC0003")["BIRTHDATE"] = dt.date(2027, 1, 1)
    school.add(
        "SXAB",
        **dict(
            school.find("SXAB", STKEY="ABC0001", ABSENCE_DATE=DAYS[0]),
            SXAB_ID="9999",
            ABSENCE_DATE=dt.date(2026, 3, 20),
        ),
    )
    school.write(folder)
    extract = read(folder)

    found = {f.file: f for f in with_code(extract, "future_date")}
    assert found["ST_8123.csv"].column == "BIRTHDATE"
    assert "after the extract date (02/03/2026)" in found["ST_8123.csv"].message
    assert found["SXAB_8123.csv"].row == line_of(folder / "SXAB_8123.csv", "9999,")
    assert "1 marked row dated" in found["SXAB_8123.csv"].message
    assert extract.ok


def test_other_data_quality_warnings(school: School, folder: Path) -> None:
    school.student("ABC0001")["FAMILY"] = "NOPE"
    school.find("DF", DFKEY="FAM03")["OCCUP_STATUS_B"] = "X"
    school.find("KCY", KCYKEY="08")["NUM_EQVT"] = "eight"
    school.student("ABC0002")["HOUSE"] = "GREEN"
    school.student("ABC0003")["BIRTHDATE"] = ""
    school.find("STVDI", SKEY="ABC0001", VDIMENSION="ENGREA")["YEAR_SEMESTER"] = "2025S2"
    school.find("STVDO", SKEY="ABC0001")["SCORE"] = "Z"
    school.write(folder)
    extract = read(folder)

    assert extract.ok, extract.errors
    for code in (
        "unknown_family",
        "invalid_occupation_group",
        "bad_number",
        "unknown_house",
        "no_birth_date",
        "bad_year_semester",
        "invalid_rating",
    ):
        f = only(extract, code)
        assert f.level == "warning", code
    assert only(extract, "invalid_occupation_group").column == "OCCUP_STATUS_B"
    assert extract.year_levels.set_index("year_level").loc["08", "numeric"] is None
    assert (
        extract.students.set_index("student_key").loc["ABC0003", "parent_b_occupation_group"] == ""
    )
    assert "GREEN" in set(extract.houses["house"])


def test_warnings_never_block(school: School, folder: Path) -> None:
    school.student("ABC0006")["HOME_GROUP"] = ""
    school.write(folder)
    extract = read(folder, extract_date=EXTRACT_DATE + dt.timedelta(days=60))

    assert extract.warnings and not extract.errors
    extract.raise_for_errors()  # does not raise


def test_collector_orders_errors_first_and_summarises() -> None:
    c = FindingCollector()
    c.add("warning", "w", "a.csv", 2, None, "w1")
    c.add("error", "e", "a.csv", 3, None, "e1")
    for i in range(MAX_LISTED["error"] + 2):
        c.add("error", "e2", "b.csv", i, None, f"e2-{i}")
    out = c.result()

    assert out[0].message == "e1"
    assert out[-1].message == "w1"
    summary = [f for f in out if f.message.startswith("…")]
    assert len(summary) == 1 and summary[0].message == "… and 2 more rows like this in b.csv."
    assert c.has_errors


def test_repeated_results_and_staff_only_warn(school: School, folder: Path) -> None:
    row = school.find("STVDI", SKEY="ABC0001", VDIMENSION="ENGREA")
    school.add("STVDI", **dict(row, TID="999", SCORE="7.0"))
    school.add("SF", **dict(school.find("SF", SFKEY="ABC"), FIRST_NAME="Janet"))
    school.write(folder)
    extract = read(folder)

    assert extract.ok, extract.errors
    found = {(f.file, f.row) for f in with_code(extract, "duplicate_key")}
    assert {file for file, _ in found} == {"STVDI_8123.csv", "SF_8123.csv"}
    assert all(f.level == "warning" for f in with_code(extract, "duplicate_key"))
    strands = extract.strand_results
    engrea = strands[(strands.student_key == "ABC0001") & (strands.dimension == "ENGREA")]
    assert list(engrea["score"]) == ["7.0"]  # the last one is kept
    assert extract.home_groups.set_index("home_group").loc["07A", "teacher_name"] == "Janet TEACHER"


def test_results_from_a_year_level_kcy_does_not_list_are_in_the_report(
    school: School, folder: Path
) -> None:
    row = next(r for r in school.rows("STVDI") if r.get("SKEY") == "ABC0001")
    row["SCHOOL_YEAR"] = "06"
    school.write(folder)
    extract = read(folder)

    (finding,) = with_code(extract, "result_year_level_not_in_kcy")
    assert extract.ok
    assert (finding.level, finding.file, finding.column) == (
        "warning",
        "STVDI_8123.csv",
        "SCHOOL_YEAR",
    )
    assert finding.message == (
        "STVDI_8123.csv: 1 result is from a year level the year levels file (KCY) does not "
        "list ('06'); it is compared using the year level's own number (Prep/Foundation as 0)."
    )
