"""Privacy: nothing outside the whitelist reaches an output frame, a finding or a log line.

A unique marker is written into every string column of every table in eduhub_columns.json
that the whitelist does not name (memos, comments, medical and disability detail, addresses,
phones, emails, parents' names, occupations, employers, birth country, visa...). The extract
is then read (with problems planted so that findings are produced) and every cell, category,
finding and log record is searched for the marker.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from eduhub_fixture import DAYS, SCHEMA, School, default_filler, read

from importers import read_vass
from importers.whitelist import TABLES, source_columns

MARKER = "QZXPRIVATE"
#: the tables of eduhub_columns.json (all of them: ST, DF, SF, KGC, KCY, KCT, SXAB, SXABCONV,
#: STVDI, STVDO)
PRIVACY_TABLES = ("ST", "DF", "SF", "KGC", "KCY", "KCT", "SXAB", "SXABCONV", "STVDI", "STVDO")


def marker_fill(table: str, column: str, kind: str, index: int) -> Any:
    if kind == "string" and column not in source_columns(table):
        return f"{MARKER}{table}.{column}#{index}"
    return default_filler(table, column, kind, index)


def _marked_columns() -> dict[str, list[str]]:
    return {
        t: [c for c, kind, _ in SCHEMA[t] if kind == "string" and c not in source_columns(t)]
        for t in PRIVACY_TABLES
    }


def _plant_problems(school: School) -> None:
    """Problems in whitelisted data, so that errors and warnings are produced too."""
    school.student("ABC0001")["SCHOOL_YEAR"] = "09"
    school.student("ABC0002")["HOME_GROUP"] = ""
    school.student("ABC0003")["VCE_ID"] = "123"
    school.student("ABC0004")["BIRTHDATE"] = "31/02/2010"
    school.find("DF", DFKEY="FAM05").update(OCCUP_STATUS_A="", OCCUP_STATUS_B="")
    school.find("SXAB", STKEY="ABC0006", ABSENCE_DATE=DAYS[0])["STKEY"] = "ZZZ0001"
    school.find("SXAB", STKEY="ABC0007", ABSENCE_DATE=DAYS[1])["AM_ACT_TYPE"] = "777"
    school.find("SXAB", STKEY="ABC0008", ABSENCE_DATE=DAYS[2])["PM_ACT_TYPE"] = "X"
    school.remove("STVDI", SKEY="ABC0010")
    school.add("ST", **dict(school.student("ABC0005")))


def _everything(extract: Any) -> list[str]:
    texts: list[str] = []
    for name in (
        "students",
        "year_levels",
        "home_groups",
        "houses",
        "absence_types",
        "attendance",
        "strand_results",
        "domain_results",
        "calendar",
    ):
        frame: pd.DataFrame = getattr(extract, name)
        texts.append(frame.to_csv())
        for col in frame.columns:
            if isinstance(frame[col].dtype, pd.CategoricalDtype):
                texts.extend(str(c) for c in frame[col].cat.categories)
        texts.extend(str(c) for c in frame.columns)
    texts.extend(f"{f.file} {f.column} {f.message}" for f in extract.findings)
    texts.extend(f"{f.name} {f.table} {f.encoding}" for f in extract.files)
    return texts


def test_every_non_whitelisted_string_column_gets_a_marker() -> None:
    marked = _marked_columns()
    assert "NOTES" in marked["ST"] and "RISK_MEMO" in marked["ST"] and "ACCESS" in marked["ST"]
    assert "ABSENCE_COMMENT" in marked["SXAB"] and "OCCUPATION_A" in marked["DF"]
    assert "E_MAIL" in marked["SF"] and "BIRTH_COUNTRY" in marked["ST"]
    assert sum(len(v) for v in marked.values()) > 300
    for table, cols in marked.items():
        assert not set(cols) & source_columns(table)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_markers_never_reach_outputs_findings_or_logs(
    school: School, folder: Path, caplog: pytest.LogCaptureFixture, fmt: str
) -> None:
    _plant_problems(school)
    if fmt == "csv":
        school.write(folder, fill=marker_fill)
        raw = (folder / "ST_8123.csv").read_bytes().decode("cp1252")
    else:
        import openpyxl

        path = school.write_workbook(folder, "eduHub_8123.xlsx", typed=False, fill=marker_fill)
        wb = openpyxl.load_workbook(path, read_only=True)
        raw = " ".join(str(v) for row in wb["ST"].iter_rows(values_only=True) for v in row)
        wb.close()
    assert MARKER in raw  # the markers really are in the files

    with caplog.at_level(logging.DEBUG):
        extract = read(folder)

    assert extract.errors and extract.warnings  # findings were produced
    codes = {f.code for f in extract.findings}
    assert {
        "unknown_year_level",
        "malformed_vcaa_number",
        "bad_date",
        "unknown_student",
        "duplicate_key",
        "occupation_unknown",
        "bad_absence_code",
    } <= codes
    from importers.validation import ERROR_CODES, WARNING_CODES

    for f in extract.findings:  # every code is a documented one, at its documented level
        assert f.code in (ERROR_CODES if f.level == "error" else WARNING_CODES), f
    leaks = [t for t in _everything(extract) if MARKER in t]
    assert leaks == []
    logged = [r.getMessage() for r in caplog.records]
    assert logged  # the importer does log
    assert not [m for m in logged if MARKER in m]
    assert not [r for r in caplog.records if MARKER in str(r.args)]


def test_whitelisted_names_do_not_reach_findings_or_logs(
    school: School, folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _plant_problems(school)
    school.write(folder)
    with caplog.at_level(logging.DEBUG):
        extract = read(folder)

    names = {r["SURNAME"] for r in school.rows("ST")} | {r["FIRST_NAME"] for r in school.rows("ST")}
    names -= {"NA", "NULL", "Null"}  # too short to search for without false hits
    texts = [f.message for f in extract.findings] + [r.getMessage() for r in caplog.records]
    assert not [t for t in texts for n in names if n in t]


def test_vass_names_stay_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "vass.txt"
    path.write_bytes(
        (
            "VCAA Student Number|External Student Number|Family Name|First Name|Unit Code|Result\r\n"
            f"25123456A|ABC0001|{MARKER}SURNAME|{MARKER}FIRST|EN011|S\r\n"
            f"2512|ABC0009|{MARKER}SURNAME|{MARKER}FIRST|EN011|S\r\n"
            f"25123457B|ABC0009|{MARKER}SURNAME|{MARKER}FIRST|EN011|S\r\n"
        ).encode("cp1252")
    )
    students = pd.DataFrame({"student_key": ["ABC0001"], "vcaa_number": ["25123456A"]}, dtype="str")
    with caplog.at_level(logging.DEBUG):
        vx = read_vass(path, students=students)

    assert vx.findings  # one malformed, one unmatched
    texts = (
        [vx.results.to_csv()]
        + [f.message for f in vx.findings]
        + [r.getMessage() for r in caplog.records]
    )
    assert not [t for t in texts if MARKER in t]


def test_whitelist_is_one_place_and_reads_only_named_columns() -> None:
    st = TABLES["ST"]
    assert "NOTES" not in st.sources and "RISK_MEMO" not in st.sources
    assert {f.target for f in st.fields if not f.target.startswith("_")} <= set(
        __import__("importers.whitelist", fromlist=["OUTPUT_COLUMNS"]).OUTPUT_COLUMNS["students"]
    )
