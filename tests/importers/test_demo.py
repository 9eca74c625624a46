"""The demo extract is written exactly as eduHub writes it.

Checked with the csv module and raw bytes only (never with the project's importer), so these
tests pin the file format itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from importers import demo

SCHOOL = "8123"
EXTRACT = dt.date(2026, 8, 14)  # a Friday in term 3
EDUHUB_DATETIME = re.compile(r"^\d{1,2}/\d{2}/\d{4} \d{1,2}:\d{2}:\d{2} (AM|PM)$")
TABLES = ("ST", "DF", "SF", "KGC", "KCY", "KGH", "KCT", "SXAB", "SXABCONV", "STVDI", "STVDO")


def _schema() -> dict[str, list[list]]:
    path = resources.files("resources") / "eduhub_columns.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _read(
    folder: Path, table: str, *, delta: bool = False
) -> tuple[list[str], list[dict[str, str]]]:
    name = f"{table}_{SCHOOL}_D.csv" if delta else f"{table}_{SCHOOL}.csv"
    with open(folder / name, encoding="cp1252", newline="") as handle:
        rows = list(csv.reader(handle))
    header, body = rows[0], rows[1:]
    assert all(len(row) == len(header) for row in body), f"{name}: ragged rows"
    return header, [dict(zip(header, row, strict=True)) for row in body]


def _noon(day: dt.date, minute: int = 0) -> float:
    return time.mktime((day.year, day.month, day.day, 12, minute, 0, 0, 0, -1))


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> demo.DemoSummary:
    out = tmp_path_factory.mktemp("eduhub")
    return demo.generate_demo_extract(out, students=40, extract_date=EXTRACT, years=2, seed=7)


@pytest.fixture(scope="module")
def tables(school: demo.DemoSummary) -> dict[str, list[dict[str, str]]]:
    out = {t: _read(school.out_dir, t)[1] for t in TABLES}
    out["ST_D"] = _read(school.out_dir, "ST", delta=True)[1]
    return out


def test_writes_each_table_under_its_eduhub_file_name(school: demo.DemoSummary) -> None:
    expected = {f"{t}_{SCHOOL}.csv" for t in TABLES} | {f"ST_{SCHOOL}_D.csv"}
    assert {p.name for p in school.out_dir.iterdir() if p.is_file()} == expected
    assert set(school.files.values()) == expected
    assert school.files["ST_D"] == f"ST_{SCHOOL}_D.csv"
    assert school.row_counts["SXAB"] > 0 and school.row_counts["ST"] >= 40


def test_every_header_is_every_schema_column_in_schema_order(school: demo.DemoSummary) -> None:
    schema = _schema()
    for table in TABLES:
        header, _rows = _read(school.out_dir, table)
        if table in schema:
            assert header == [c[0] for c in schema[table]], table
        else:  # KGH is not in eduhub_columns.json: the CASES21 v67 column list
            assert table == "KGH"
            assert header[:7] == [
                "KGHKEY",
                "DESCRIPTION",
                "CAMPUS",
                "ACTIVE",
                "HOUSE_SIZE",
                "MALES",
                "FEMALES",
            ]
            assert header[-3:] == ["LW_DATE", "LW_TIME", "LW_USER"]
            assert len(header) == 71
    assert len(_read(school.out_dir, "ST")[0]) == 211
    assert _read(school.out_dir, "ST", delta=True)[0] == [c[0] for c in schema["ST"]]


def test_files_are_windows_1252_with_crlf_and_no_bom(school: demo.DemoSummary) -> None:
    for name in school.files.values():
        raw = (school.out_dir / name).read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf"), name
        assert raw.endswith(b"\r\n"), name
        assert re.search(rb"\r(?!\n)|(?<!\r)\n", raw) is None, (
            f"{name}: a line break that is not CRLF"
        )
        raw.decode("cp1252")
    st = (school.out_dir / f"ST_{SCHOOL}.csv").read_bytes()
    assert b"O\x92BRIEN" in st  # the curly apostrophe, one byte in Windows-1252
    assert "Zoë".encode("cp1252") in st and "José".encode("cp1252") in st
    with pytest.raises(UnicodeDecodeError):
        st.decode("utf-8")


def test_datetime_columns_use_the_eduhub_format(school: demo.DemoSummary, tables: dict) -> None:
    schema = _schema()
    checked = 0
    seen_pm = seen_short_day = False
    for table in TABLES:
        date_columns = (
            [c[0] for c in schema[table] if c[1] == "DateTime"] if table in schema else ["LW_DATE"]
        )
        for row in tables[table]:
            for column in date_columns:
                value = row[column]
                if value:
                    assert EDUHUB_DATETIME.match(value), (table, column, value)
                    checked += 1
                    seen_pm |= value.endswith("PM")
                    seen_short_day |= bool(re.match(r"^\d/", value))
    assert checked > 1000
    assert seen_pm and seen_short_day
    assert demo.format_eduhub_datetime(dt.date(2019, 2, 5)) == "5/02/2019 12:00:00 AM"
    assert (
        demo.format_eduhub_datetime(dt.datetime(2026, 8, 14, 13, 5, 9)) == "14/08/2026 1:05:09 PM"
    )
    assert demo.format_eduhub_datetime(dt.datetime(2026, 8, 14, 12, 30)) == "14/08/2026 12:30:00 PM"
    assert demo.format_eduhub_datetime(None) == ""


def test_codes_keep_their_leading_zeros(tables: dict) -> None:
    levels = [f"{n:02d}" for n in range(7, 13)]
    assert [r["KCYKEY"] for r in tables["KCY"]] == levels
    assert [r["NUM_EQVT"] for r in tables["KCY"]] == [str(n) for n in range(7, 13)]
    assert [r["DESCRIPTION"] for r in tables["KCY"]][0] == "Year 7"
    assert {r["SCHOOL_YEAR"] for r in tables["ST"]} <= set(levels)
    assert "07" in {r["SCHOOL_YEAR"] for r in tables["ST"]}
    assert all(re.fullmatch(r"(0[7-9]|1[0-2])[A-Z]", r["KGCKEY"]) for r in tables["KGC"])
    assert {r["ST_YEAR_LEVEL"] for r in tables["SXAB"]} <= set(levels)
    assert {r["SCHOOL_YEAR"] for r in tables["STVDI"]} <= {"07", "08", "09", "10"}


def test_students_look_like_cases21_students(tables: dict) -> None:
    st = tables["ST"]
    keys = [r["STKEY"] for r in st]
    assert len(keys) == len(set(keys))
    assert all(re.fullmatch(r"[A-Z]{3}\d{4}", k) for k in keys)
    assert all(r["SURNAME"] == r["SURNAME"].upper() for r in st)
    statuses = Counter(r["STATUS"] for r in st)
    assert {"ACTV", "LEFT", "INAC", "LVNG", "FUT"} <= set(statuses)
    assert statuses["ACTV"] > len(st) / 2
    assert all(r["EXIT_DATE"] for r in st if r["STATUS"] in ("LEFT", "LVNG"))
    assert {r["KOORIE"] for r in st} <= {"N", "K", "T", "B", "U", ""}
    assert any(r["RELATION_A01"] == "Self" for r in st)
    assert all(re.fullmatch(r"\d{9}", r["VSN"]) or r["VSN"] in ("", "UNKNOWN") for r in st)
    seniors = [r for r in st if r["SCHOOL_YEAR"] in ("11", "12")]
    assert seniors and all(re.fullmatch(r"\d{8}[A-Z]", r["VCE_ID"]) for r in seniors if r["VCE_ID"])
    assert not any(r["VCE_ID"] for r in st if r["SCHOOL_YEAR"] not in ("11", "12"))
    flags = Counter(r["DISABILITY"] for r in st) + Counter(r["ED_ALLOW"] for r in st)
    assert flags[""] > 0 and flags["N"] > 0  # Y/N flags are often blank
    assert {r["OCCUP_STATUS_A"] for r in tables["DF"]} <= {"A", "B", "C", "D", "N", "U", ""}


def test_quirky_names_are_kept_verbatim(tables: dict) -> None:
    names = {(r["SURNAME"], r["FIRST_NAME"]) for r in tables["ST"]}
    assert ("KIM", "NA") in names
    assert any(s == "NULL" for s, _f in names)
    assert ("O\u2019BRIEN", "Zoë") in names
    assert ("GARCÍA", "José") in names


def test_references_between_tables_resolve(tables: dict) -> None:
    st_keys = {r["STKEY"] for r in tables["ST"]}
    kgc = {r["KGCKEY"] for r in tables["KGC"]}
    kcy = {r["KCYKEY"] for r in tables["KCY"]}
    kgh = {r["KGHKEY"] for r in tables["KGH"]}
    df = {r["DFKEY"] for r in tables["DF"]}
    sf = {r["SFKEY"] for r in tables["SF"]}
    kct = {r["KCTKEY"] for r in tables["KCT"]}
    assert all(len(k) == 4 for k in sf)
    for row in tables["ST"] + tables["ST_D"]:
        assert row["HOME_GROUP"] in kgc | {""}
        assert row["SCHOOL_YEAR"] in kcy
        assert row["HOUSE"] in kgh | {""}
        assert row["FAMILY"] in df
        assert row["FAMB"] in df | {""}
    assert {r["TEACHER"] for r in tables["KGC"]} <= sf
    assert {r["TEACHER_B"] for r in tables["KGC"]} <= sf | {""}
    assert {r["TEACHER"] for r in tables["KCY"]} <= sf | {""}
    assert {r["STKEY"] for r in tables["SXAB"]} <= st_keys
    assert {r["STKEY"] for r in tables["SXABCONV"]} <= st_keys
    assert {r["SKEY"] for r in tables["STVDI"]} <= st_keys
    assert {r["SKEY"] for r in tables["STVDO"]} <= st_keys
    used = {r[c] for r in tables["SXAB"] for c in ("AM_ACT_TYPE", "PM_ACT_TYPE")}
    used |= {r[c] for r in tables["SXABCONV"] for c in ("AM_TYPE", "PM_TYPE")}
    assert used - {"0"} <= kct


def test_sxab_has_at_most_one_row_per_student_and_day(tables: dict) -> None:
    sxab = tables["SXAB"]
    curriculum = {int(r["KCTKEY"]) for r in tables["KCT"] if r["CURRICULUM"] == "Y"}
    pairs = [(r["STKEY"], r["ABSENCE_DATE"]) for r in sxab]
    assert len(pairs) == len(set(pairs))
    assert len({r["SXAB_ID"] for r in sxab}) == len(sxab)
    assert all(r["TXHG_TID"].isdigit() for r in sxab)
    dates = {dt.datetime.strptime(r["ABSENCE_DATE"], "%d/%m/%Y %I:%M:%S %p").date() for r in sxab}
    assert all(d.weekday() < 5 for d in dates)
    assert max(dates) <= EXTRACT and min(dates).year == EXTRACT.year - 1  # years=2
    assert dt.date(2026, 4, 10) not in dates  # school holidays are skipped
    for row in sxab:
        for half in ("AM", "PM"):
            code = int(row[f"{half}_ACT_TYPE"])
            expected = "" if code == 0 else "P" if code < 200 or code in curriculum else "A"
            assert row[f"{half}_ATTENDED"] == expected, row
            assert row[f"{half}_APPROVED"] in ("", "Y", "N")


def test_sxabconv_fills_days_sxab_left_unmarked(tables: dict) -> None:
    conv = tables["SXABCONV"]
    assert conv and {r["RECORD_SOURCE"] for r in conv} == {"3rd party product"}
    pairs = [(r["STKEY"], r["ABSENCE_DATE"]) for r in conv]
    assert len(pairs) == len(set(pairs))
    sxab = {(r["STKEY"], r["ABSENCE_DATE"]): r for r in tables["SXAB"]}
    unmarked = [p for p in pairs if sxab[p]["AM_ACT_TYPE"] == "0" and sxab[p]["PM_ACT_TYPE"] == "0"]
    assert len(unmarked) >= len(conv) * 0.8
    assert all(int(r["AM_TYPE"]) > 0 for r in conv)


def _attendance_this_year(tables: dict) -> dict[str, float]:
    """The V_RISK rule: half-days marked (code > 0), absences = code >= 200 and not curriculum."""
    curriculum = {r["KCTKEY"] for r in tables["KCT"] if r["CURRICULUM"] == "Y"}
    conv = {
        (r["STKEY"], r["ABSENCE_DATE"]): (r["AM_TYPE"], r["PM_TYPE"]) for r in tables["SXABCONV"]
    }
    marked: dict[str, float] = {}
    absent: dict[str, float] = {}
    for row in tables["SXAB"]:
        if not row["ABSENCE_DATE"].split(" ")[0].endswith(str(EXTRACT.year)):
            continue
        fallback = conv.get((row["STKEY"], row["ABSENCE_DATE"]), ("0", "0"))
        for code, other in ((row["AM_ACT_TYPE"], fallback[0]), (row["PM_ACT_TYPE"], fallback[1])):
            code = code if int(code) > 0 else other
            if int(code) > 0:
                marked[row["STKEY"]] = marked.get(row["STKEY"], 0.0) + 0.5
                if int(code) >= 200 and code not in curriculum:
                    absent[row["STKEY"]] = absent.get(row["STKEY"], 0.0) + 0.5
    return {
        k: 100 * (marked[k] - absent.get(k, 0.0)) / marked[k] for k in marked if marked[k] >= 20
    }


def test_attendance_gives_students_differing_risk(tables: dict) -> None:
    percent = sorted(_attendance_this_year(tables).values())
    assert len(percent) >= 30
    assert percent[len(percent) // 2] >= 90  # most students attend well
    assert any(p < 90 for p in percent)
    codes = Counter(r[c] for r in tables["SXAB"] for c in ("AM_ACT_TYPE", "PM_ACT_TYPE"))
    assert codes["100"] > sum(codes.values()) * 0.8
    assert codes["500"] + codes["300"] > 0
    assert codes["400"] + codes["401"] > 0
    assert any(r["AM_ACT_TYPE"] != r["PM_ACT_TYPE"] for r in tables["SXAB"])  # half days
    assert any(r["AM_APPROVED"] == "N" for r in tables["SXAB"])


def test_absence_types_have_realistic_codes_and_flags(tables: dict) -> None:
    kct = {r["KCTKEY"]: r for r in tables["KCT"]}
    for code in (
        "100",
        "111",
        "112",
        "200",
        "205",
        "208",
        "211",
        "300",
        "400",
        "401",
        "500",
        "604",
        "606",
        "609",
        "800",
        "803",
    ):
        assert code in kct
    assert kct["604"]["CURRICULUM"] == kct["606"]["CURRICULUM"] == kct["609"]["CURRICULUM"] == "Y"
    assert kct["200"]["CURRICULUM"] == kct["300"]["CURRICULUM"] == kct["500"]["CURRICULUM"] == "N"


def test_strand_results_are_levels_around_the_year_level(tables: dict) -> None:
    vdi = tables["STVDI"]
    assert {r["VDIMENSION"] for r in vdi} >= {"ENGREA", "ENGWRI", "ENGSPL", "MATNUM", "MATSTR"}
    assert all(re.fullmatch(r"\d{4}\.[12]", r["YEAR_SEMESTER"]) for r in vdi)
    scores = Counter(r["SCORE"] for r in vdi)
    assert scores["NA"] > 0
    numeric = [r for r in vdi if re.fullmatch(r"\d{1,2}\.[05]", r["SCORE"])]
    assert len(numeric) + scores["NA"] + scores["DNP"] == len(vdi)
    below = [r for r in numeric if float(r["SCORE"]) <= int(r["SCHOOL_YEAR"]) - 1.5]
    assert 0 < len(below) < len(numeric) / 3
    assert {r["SCORE"] for r in tables["STVDO"]} <= set("ABCDE")


def test_memo_fields_with_line_breaks_round_trip(school: demo.DemoSummary, tables: dict) -> None:
    obrien = next(r for r in tables["ST"] if r["SURNAME"] == "O\u2019BRIEN")
    assert "\r\n" in obrien["NOTES"] and '"' in obrien["NOTES"] and "," in obrien["NOTES"]
    raw = (school.out_dir / f"ST_{SCHOOL}.csv").read_bytes()
    assert b'"Enrolled from ""Demo Primary School"", transition meeting held.\r\n' in raw
    memos = [
        r[c]
        for r in tables["ST"]
        for c in ("NOTES", "ACCESS", "RISK_MEMO", "ATTENDANCE_MEMO", "ACTIVITY_RESTRICTION")
    ]
    assert sum(1 for m in memos if "\r\n" in m) >= 2
    comments = [r["ABSENCE_COMMENT"] for r in tables["SXAB"] if r["ABSENCE_COMMENT"]]
    assert comments and all(len(c) <= 30 for c in comments)
    assert any("," in c for c in comments) and any('"' in c for c in comments)
    assert any("\r\n" in c for c in comments) and any("\u2019" in c for c in comments)


def test_text_fits_the_schema_lengths(tables: dict) -> None:
    schema = _schema()
    for table in TABLES:
        if table not in schema:
            continue
        limits = {c[0]: c[2] for c in schema[table] if c[1] == "string" and c[2] > 0}
        for row in tables[table]:
            for column, limit in limits.items():
                assert len(row[column]) <= limit, (table, column, row[column])


def test_same_seed_gives_identical_bytes(school: demo.DemoSummary, tmp_path: Path) -> None:
    again = demo.generate_demo_extract(
        tmp_path / "again", students=40, extract_date=EXTRACT, years=2, seed=7
    )
    for name in school.files.values():
        assert (again.out_dir / name).read_bytes() == (school.out_dir / name).read_bytes(), name
    other = demo.generate_demo_extract(
        tmp_path / "other", students=40, extract_date=EXTRACT, years=2, seed=8
    )
    assert (other.out_dir / f"ST_{SCHOOL}.csv").read_bytes() != (
        school.out_dir / f"ST_{SCHOOL}.csv"
    ).read_bytes()


def test_files_carry_the_extract_time_and_the_delta_is_newer(
    school: demo.DemoSummary, tables: dict
) -> None:
    base = school.out_dir / f"ST_{SCHOOL}.csv"
    delta = school.out_dir / f"ST_{SCHOOL}_D.csv"
    assert os.stat(delta).st_mtime > os.stat(base).st_mtime
    for table in TABLES:
        assert os.stat(school.out_dir / f"{table}_{SCHOOL}.csv").st_mtime == _noon(EXTRACT)
    keys = {r["STKEY"] for r in tables["ST"]}
    changed = [r for r in tables["ST_D"] if r["STKEY"] in keys]
    new = [r for r in tables["ST_D"] if r["STKEY"] not in keys]
    assert 1 <= len(changed) <= 5 and len(new) == 1 and new[0]["STATUS"] == "FUT"
    originals = {r["STKEY"]: r for r in tables["ST"]}
    assert all(r != originals[r["STKEY"]] for r in changed)


def test_one_year_covers_this_year_only(tmp_path: Path) -> None:
    summary = demo.generate_demo_extract(
        tmp_path, students=15, extract_date=dt.date(2026, 3, 13), years=1
    )
    _header, sxab = _read(tmp_path, "SXAB")
    assert {r["ABSENCE_DATE"].split(" ")[0][-4:] for r in sxab} == {"2026"}
    assert summary.row_counts["ST"] == 15
    assert summary.extract_date == dt.date(2026, 3, 13) and summary.years == 1


def test_school_calendar_is_four_terms_of_weekdays() -> None:
    days = demo.victorian_school_days(2026)
    assert 185 <= len(days) <= 200
    assert days[0] == dt.date(2026, 1, 27)
    assert all(d.weekday() < 5 for d in days)
    assert dt.date(2026, 11, 3) not in days  # Melbourne Cup
    assert dt.date(2026, 7, 1) not in days  # winter holidays


def test_xlsx_copies_have_the_same_tables(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    summary = demo.generate_demo_extract(
        tmp_path, students=12, extract_date=dt.date(2026, 3, 6), xlsx=True
    )
    assert set(summary.xlsx_files) == set(summary.files)
    for key, name in summary.xlsx_files.items():
        table = "ST" if key == "ST_D" else key
        workbook = openpyxl.load_workbook(tmp_path / name, read_only=True)
        try:
            rows = [
                ["" if v is None else v for v in row]
                for row in workbook.active.iter_rows(values_only=True)
            ]
        finally:
            workbook.close()
        csv_header, csv_rows = _read(tmp_path, table, delta=key == "ST_D")
        assert rows[0] == csv_header
        # XML stores a cell's line break as LF (as Excel does); everything else is identical.
        expected = [[v.replace("\r\n", "\n") for v in r.values()] for r in csv_rows]
        assert rows[1:] == expected, key


def test_xlsx_refuses_a_school_too_big_for_a_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(demo, "_XLSX_MAX_ROWS", 100)
    with pytest.raises(ValueError, match="too many"):
        demo.generate_demo_extract(
            tmp_path, students=12, extract_date=dt.date(2026, 3, 6), xlsx=True
        )
    assert not list(tmp_path.glob("*.csv"))  # a failed run leaves nothing behind


class _Recorder:
    def __init__(self, cancel_after: int | None = None) -> None:
        self.reports: list[tuple[float, str]] = []
        self.cancel_after = cancel_after

    def report(self, fraction: float, text: str) -> None:
        self.reports.append((fraction, text))

    def cancelled(self) -> bool:
        return self.cancel_after is not None and len(self.reports) >= self.cancel_after


def test_progress_is_reported(tmp_path: Path) -> None:
    recorder = _Recorder()
    demo.generate_demo_extract(tmp_path, students=10, extract_date=EXTRACT, progress=recorder)
    fractions = [f for f, _t in recorder.reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0 and len(fractions) >= 5
    calls: list[float] = []
    demo.generate_demo_extract(
        tmp_path / "fn", students=10, extract_date=EXTRACT, progress=lambda f, _t: calls.append(f)
    )
    assert calls[-1] == 1.0


def test_cancel_removes_the_files_written(tmp_path: Path) -> None:
    with pytest.raises(demo.DemoGenerationCancelled):
        demo.generate_demo_extract(
            tmp_path, students=10, extract_date=EXTRACT, progress=_Recorder(cancel_after=4)
        )
    assert not [p for p in tmp_path.iterdir() if p.is_file()]


@pytest.mark.parametrize("kwargs", [{"students": 0}, {"years": 0}, {"school_number": "81 23"}])
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict) -> None:
    with pytest.raises(ValueError):
        demo.generate_demo_extract(tmp_path, extract_date=EXTRACT, **kwargs)


def test_vass_file_lists_senior_results(
    school: demo.DemoSummary, tables: dict, tmp_path: Path
) -> None:
    path = tmp_path / "vass.txt"
    count = demo.generate_vass_file(path, school.out_dir, year=EXTRACT.year)
    raw = path.read_bytes()
    assert raw.endswith(b"\r\n")
    lines = raw.decode("cp1252").split("\r\n")[:-1]
    assert lines[0].split("|") == [
        "VCAA Student Number",
        "External Student ID",
        "Family Name",
        "First Name",
        "Unit Code",
        "Result",
        "Year",
    ]
    rows = [line.split("|") for line in lines[1:]]
    assert len(rows) == count and all(len(r) == 7 for r in rows)
    assert all(re.fullmatch(r"\d{8}[A-Z]", r[0]) for r in rows)
    assert all(re.fullmatch(r"[A-Z]{2}0[1-4]1", r[4]) for r in rows)
    assert {r[5] for r in rows} <= {"S", "N"}
    st = {r["STKEY"]: r for r in tables["ST"]}
    matched = [r for r in rows if r[1]]
    assert all(st[r[1]]["SCHOOL_YEAR"] in ("11", "12") for r in matched)
    assert any(not st[r[1]]["VCE_ID"] for r in matched)  # matched by STKEY only
    assert any(r[0] == st[r[1]]["VCE_ID"] for r in matched)
    assert any(not r[1] for r in rows)  # a student not in ST
    frame_path = tmp_path / "vass_no_header.csv"
    pandas = pytest.importorskip("pandas")
    frame = pandas.read_csv(
        school.out_dir / f"ST_{SCHOOL}.csv", dtype=str, keep_default_na=False, encoding="cp1252"
    )
    assert (
        demo.generate_vass_file(frame_path, frame, header=False, delimiter=",", year=EXTRACT.year)
        == count
    )
    assert frame_path.read_bytes() == raw.replace(b"|", b",").split(b"\r\n", 1)[1]


def test_module_imports_neither_qt_nor_the_database() -> None:
    code = (
        "import sys, importers.demo; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'sqlalchemy', 'mapping_tool')]; "
        "assert not bad, bad"
    )
    root = Path(demo.__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
