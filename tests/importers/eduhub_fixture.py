"""Build small eduHub extract folders the way eduHub writes them, for the importer tests.

Every table is written with every schema column of ``eduhub_columns.json`` in schema order
(a copy of the shared reference), Windows-1252, CRLF line ends, ``d/MM/yyyy h:mm:ss tt``
dates and quoted memo fields holding commas, quotes and line breaks. A test starts from
``minimal_school()`` (10 students, no findings at all), changes rows or cells, and writes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent

with (HERE / "eduhub_columns.json").open(encoding="utf-8") as _fh:
    SCHEMA: dict[str, list[tuple[str, str, int]]] = {
        table: [tuple(c) for c in cols] for table, cols in json.load(_fh).items()
    }
# KGH and KCC are not in the reference file: their v67 columns, in schema order.
SCHEMA["KGH"] = [
    ("KGHKEY", "string", 10),
    ("DESCRIPTION", "string", 30),
    ("CAMPUS", "int", 0),
    ("ACTIVE", "string", 1),
    ("LW_DATE", "DateTime", 0),
    ("LW_TIME", "short", 0),
    ("LW_USER", "string", 128),
]
SCHEMA["KCC"] = [
    ("KCCKEY", "DateTime", 0),
    ("DAYTODAY", "string", 10),
    ("DAY_TYPE", "string", 1),
    ("SEMESTER", "short", 0),
    ("TERM", "short", 0),
    ("WEEK", "short", 0),
    ("DAY_CYCLE", "short", 0),
    ("HALF_DAY_GENERATED", "string", 1),
    ("PERIOD_GENERATED", "string", 1),
    ("LW_DATE", "DateTime", 0),
    ("LW_TIME", "short", 0),
    ("LW_USER", "string", 128),
]

EXTRACT_DATE = dt.date(2026, 3, 2)
SITE = "8123"

Filler = Callable[[str, str, str, int], Any]


def columns(table: str) -> list[str]:
    return [c[0] for c in SCHEMA[table]]


def column_type(table: str, column: str) -> str:
    for name, kind, _ in SCHEMA[table]:
        if name == column:
            return kind
    return "string"


def eduhub_date(day: dt.date | dt.datetime, style: str = "eduhub") -> str:
    if style == "eduhub":
        if isinstance(day, dt.datetime):
            hour = day.hour % 12 or 12
            ampm = "AM" if day.hour < 12 else "PM"
            return f"{day.day}/{day.month:02d}/{day.year} {hour}:{day.minute:02d}:{day.second:02d} {ampm}"
        return f"{day.day}/{day.month:02d}/{day.year} 12:00:00 AM"
    if style == "dmy":
        return f"{day.day:02d}/{day.month:02d}/{day.year}"
    if style == "dmy_short":
        return f"{day.day}/{day.month}/{day.year}"
    if style == "iso":
        return f"{day.year:04d}-{day.month:02d}-{day.day:02d}"
    raise ValueError(style)


def default_filler(table: str, column: str, kind: str, index: int) -> Any:
    """Realistic values for columns a test does not set (memos with commas, quotes, newlines)."""
    if column in ("NOTES", "ACCESS", "RISK_MEMO", "ATTENDANCE_MEMO", "BILLING_MEMO"):
        return f'Memo {index}, with "quotes", commas\r\nand a second line'
    if column == "ABSENCE_COMMENT":
        return 'Sick, "flu"' if index % 3 == 0 else ""
    if column == "LW_DATE":
        return dt.datetime(2026, 2, 27, 15, 45, 12)
    if column == "LW_USER":
        return "SYSTEM"
    if column == "LW_TIME":
        return 1545
    return None


def _csv_cell(value: Any, date_style: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, (dt.date, dt.datetime)):
        return eduhub_date(value, date_style)
    return str(value)


class School:
    """Rows per table; unspecified cells come from a filler."""

    def __init__(self, site: str = SITE) -> None:
        self.site = site
        self.tables: dict[str, list[dict[str, Any]]] = {t: [] for t in SCHEMA}

    # -- editing ---------------------------------------------------------------------------
    def add(self, table: str, **values: Any) -> dict[str, Any]:
        self.tables[table].append(values)
        return values

    def rows(self, table: str) -> list[dict[str, Any]]:
        return self.tables[table]

    def find(self, table: str, **match: Any) -> dict[str, Any]:
        hits = [r for r in self.tables[table] if all(r.get(k) == v for k, v in match.items())]
        assert len(hits) == 1, (table, match, len(hits))
        return hits[0]

    def remove(self, table: str, **match: Any) -> None:
        self.tables[table] = [
            r for r in self.tables[table] if not all(r.get(k) == v for k, v in match.items())
        ]

    def student(self, key: str) -> dict[str, Any]:
        return self.find("ST", STKEY=key)

    # -- writing ---------------------------------------------------------------------------
    def file_name(self, table: str, *, delta: bool = False, ext: str = "csv") -> str:
        return f"{table}_{self.site}{'_D' if delta else ''}.{ext}"

    def cells(
        self,
        table: str,
        rows: list[dict[str, Any]] | None = None,
        *,
        fill: Filler = default_filler,
        drop: Iterable[str] = (),
        extra: dict[str, Any] | None = None,
    ) -> tuple[list[str], list[list[Any]]]:
        dropped = set(drop)
        cols = [c for c in columns(table) if c not in dropped] + list(extra or {})
        out = []
        for i, row in enumerate(self.tables[table] if rows is None else rows):
            line = []
            for c in cols:
                if c in row:
                    line.append(row[c])
                elif extra and c in extra:
                    line.append(extra[c])
                else:
                    line.append(fill(table, c, column_type(table, c), i))
            out.append(line)
        return cols, out

    def write_csv(
        self,
        folder: Path,
        table: str,
        *,
        name: str | None = None,
        rows: list[dict[str, Any]] | None = None,
        encoding: str = "cp1252",
        date_style: str = "eduhub",
        fill: Filler = default_filler,
        drop: Iterable[str] = (),
        extra: dict[str, Any] | None = None,
        header_case: Callable[[str], str] = str,
        delimiter: str = ",",
    ) -> Path:
        cols, data = self.cells(table, rows, fill=fill, drop=drop, extra=extra)
        buf = io.StringIO(newline="")
        writer = csv.writer(
            buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL, delimiter=delimiter
        )
        writer.writerow([header_case(c) for c in cols])
        for line in data:
            writer.writerow([_csv_cell(v, date_style) for v in line])
        path = folder / (name or self.file_name(table))
        path.write_bytes(buf.getvalue().encode(encoding))
        return path

    def write(
        self,
        folder: Path,
        *,
        tables: Iterable[str] | None = None,
        skip: Iterable[str] = (),
        encoding: str = "cp1252",
        date_style: str = "eduhub",
        fill: Filler = default_filler,
    ) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        skipped = set(skip)
        for table in tables if tables is not None else self.tables:
            if table in skipped or (tables is None and not self.tables[table]):
                continue
            self.write_csv(folder, table, encoding=encoding, date_style=date_style, fill=fill)
        return folder

    def _sheet(self, ws: Any, table: str, typed: bool, fill: Filler) -> None:
        cols, data = self.cells(table, fill=fill)
        ws.append(cols)
        for line in data:
            row = []
            for c, v in zip(cols, line, strict=True):
                kind = column_type(table, c)
                if (
                    typed
                    and isinstance(v, str)
                    and kind in ("short", "int")
                    and v.lstrip("-").isdigit()
                ):
                    v = int(v)
                elif (
                    typed
                    and isinstance(v, str)
                    and c in ("SCHOOL_YEAR", "ST_YEAR_LEVEL", "KCYKEY", "MIN_AC_YR")
                    and v.isdigit()
                ):
                    v = int(v)  # Excel turns "07" into the number 7
                elif isinstance(v, dt.date) and not isinstance(v, dt.datetime):
                    v = dt.datetime(v.year, v.month, v.day)
                elif isinstance(v, bool):
                    v = "Y" if v else "N"
                row.append(v)
            ws.append(row)

    def write_xlsx(
        self,
        folder: Path,
        table: str,
        *,
        name: str | None = None,
        typed: bool = True,
        fill: Filler = default_filler,
    ) -> Path:
        import openpyxl

        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = table
        self._sheet(ws, table, typed, fill)
        path = folder / (name or self.file_name(table, ext="xlsx"))
        wb.save(path)
        return path

    def write_workbook(
        self,
        folder: Path,
        name: str,
        *,
        tables: Iterable[str] | None = None,
        typed: bool = True,
        fill: Filler = default_filler,
    ) -> Path:
        import openpyxl

        folder.mkdir(parents=True, exist_ok=True)
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for table in tables if tables is not None else [t for t in self.tables if self.tables[t]]:
            ws = wb.create_sheet(table)
            self._sheet(ws, table, typed, fill)
        path = folder / name
        wb.save(path)
        return path


def school_days(end: dt.date, count: int) -> list[dt.date]:
    days: list[dt.date] = []
    day = end
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day -= dt.timedelta(days=1)
    return sorted(days)


#: (key, surname, first name, year level, home group, family, occupation A, B, gender)
STUDENTS = [
    ("ABC0001", "SMITH", "Alice", "07", "07A", "FAM01", "A", "B", "F"),
    ("ABC0002", "O’BRIEN", "Zoë", "07", "07A", "FAM02", "C", "D", "F"),
    ("ABC0003", "NULL", "NA", "07", "07A", "FAM03", "B", "B", "M"),
    ("ABC0004", "NGUYEN", "Minh", "08", "08B", "FAM04", "D", "N", "M"),
    ("ABC0005", "KELLY", "Null", "08", "08B", "FAM05", "A", "A", "F"),
    ("ABC0006", "JONES", "Sam", "08", "08B", "FAM06", "C", "C", "M"),
    ("ABC0007", "BROWN", "Ava", "11", "11C", "FAM07", "B", "C", "F"),
    ("ABC0008", "TAYLOR", "Noah", "11", "11C", "FAM08", "N", "D", "M"),
    ("ABC0009", "WILSON", "Mia", "11", "11C", "FAM09", "A", "N", "F"),
    ("ABC0010", "MARTIN", "Leo", "07", "07A", "FAM10", "D", "D", "M"),
]

#: The school days in the SXAB file of the minimal school (the last on Friday 27/02/2026).
DAYS = school_days(dt.date(2026, 2, 27), 10)


def minimal_school(site: str = SITE) -> School:
    """A valid school: 10 students; read with ``extract_date=EXTRACT_DATE`` it has no findings."""
    s = School(site)
    s.add("SF", SFKEY="ABC", SURNAME="TEACHER", FIRST_NAME="Jane", STAFF_STATUS="ACTV")
    s.add("SF", SFKEY="DEF", SURNAME="COORD", FIRST_NAME="John", STAFF_STATUS="ACTV")
    for key, desc, num, teacher in (
        ("07", "Year 7", "7", "DEF"),
        ("08", "Year 8", "8", ""),
        ("11", "Year 11", "11", "ABC"),
        ("UG", "Ungraded", "", ""),
    ):
        s.add("KCY", KCYKEY=key, DESCRIPTION=desc, NUM_EQVT=num, TEACHER=teacher, TEACHER_B="")
    for key, year, teacher, teacher_b in (
        ("07A", "07", "ABC", "DEF"),
        ("08B", "08", "DEF", ""),
        ("11C", "11", "", ""),
    ):
        s.add(
            "KGC",
            KGCKEY=key,
            DESCRIPTION=f"Home group {key}",
            TEACHER=teacher,
            TEACHER_B=teacher_b,
            ACTIVE="Y",
            MIN_AC_YR=year,
            MAX_AC_YR=year,
        )
    s.add("KGH", KGHKEY="RED", DESCRIPTION="Red house", ACTIVE="Y")
    s.add("KGH", KGHKEY="BLUE", DESCRIPTION="Blue house", ACTIVE="Y")
    for code, desc, abbrev, curriculum, pre in (
        (100, "Present", "PRES", "Y", "N"),
        (200, "Medical", "MED", "N", "Y"),
        (201, "Illness", "ILL", "N", "N"),
        (300, "Truancy", "TRU", "N", "N"),
        (500, "Unexplained", "UNEX", "N", "N"),
        (604, "Excursion", "EXC", "Y", "Y"),
    ):
        s.add(
            "KCT",
            KCTKEY=str(code),
            DESCRIPTION=desc,
            ABBREV_DESC=abbrev,
            CURRICULUM=curriculum,
            PRE_APPROVED=pre,
            ENABLED="Y",
        )
    for i, (key, surname, first, year, group, family, occ_a, occ_b, gender) in enumerate(STUDENTS):
        s.add(
            "DF",
            DFKEY=family,
            NAME_A="Parent",
            SURNAME_A=surname,
            OCCUP_STATUS_A=occ_a,
            OCCUP_STATUS_B=occ_b,
            OCCUPATION_A="Nurse",
            EMPLOYER_A="Hospital, Inc.",
        )
        s.add(
            "ST",
            STKEY=key,
            SURNAME=surname,
            FIRST_NAME=first,
            PREF_NAME=first if i != 0 else "Ali",
            GENDER=gender,
            BIRTHDATE=dt.date(2013 - (int(year) - 7), 1 + i, 5 + i),
            STATUS="ACTV",
            ENTRY=dt.date(2025, 1, 28),
            SCHOOL_YEAR=year,
            HOME_GROUP=group,
            HOUSE="RED" if i % 2 == 0 else "BLUE",
            FAMILY=family,
            RELATION_A01="Mother",
            VSN=f"98256701{i}",
            VCE_ID=f"2512345{i}A" if year == "11" else "",
            KOORIE="N",
            REFUGEE_BACKGROUND="N",
            DISABILITY="N",
            INTEGRATION="N",
            YOUTH_ALLOW="N",
            ACCESS_ALERT="N",
            RISK_ALERT="N",
            MEDICAL_ALERT="N",
            ED_ALLOW="N",
        )
        for j, day in enumerate(DAYS):
            am = 100
            pm = 100
            approved = "N"
            if key == "ABC0002" and j == 3:
                am, pm, approved = 201, 201, "Y"
            s.add(
                "SXAB",
                SXAB_ID=str(i * 100 + j),
                TXHG_TID=str(j),
                STKEY=key,
                ST_YEAR_LEVEL=year,
                ABSENCE_DATE=day,
                AM_ATTENDED="P" if am == 100 else "A",
                AM_ACT_TYPE=str(am),
                AM_APPROVED=approved,
                PM_ATTENDED="P" if pm == 100 else "A",
                PM_ACT_TYPE=str(pm),
                PM_APPROVED=approved,
                AM_EXP_TYPE="0",
                PM_EXP_TYPE="0",
            )
        if year in ("07", "08"):
            for dim, domain, score in (
                ("ENGREA", "ENG", "6.5"),
                ("ENGWRI", "ENG", "6.0"),
                ("MATNUM", "MAT", "NA" if key == "ABC0003" else "5.5"),
                ("MATSTR", "MAT", "6"),
                ("MATNUM", "MAT", "5.5") if key == "ABC0003" else ("SCISCI", "SCI", "PT"),
            ):
                semester = (
                    "2025.1"
                    if key == "ABC0003" and dim == "MATNUM" and score == "5.5"
                    else "2025.2"
                )
                s.add(
                    "STVDI",
                    TID=str(len(s.rows("STVDI")) + 1),
                    SKEY=key,
                    SCHOOL_YEAR=year,
                    CAMPUS="1",
                    YEAR_SEMESTER=semester,
                    VDOMAIN=domain,
                    VDIMENSION=dim,
                    SCORE=score,
                    ORIGINAL_SCHOOL=site,
                )
            s.add(
                "STVDO",
                TID=str(len(s.rows("STVDO")) + 1),
                SKEY=key,
                SCHOOL_YEAR=year,
                CAMPUS="1",
                YEAR_SEMESTER="2025.2",
                VDOMAIN="ENG",
                VDIMENSION="",
                SCORE="C",
                ORIGINAL_SCHOOL=site,
            )
    # one converted (third-party roll) record: a day SXAB also has, and one it lacks
    s.add(
        "SXABCONV",
        SXABCONV_ID="1",
        STKEY="ABC0004",
        ST_YEAR_LEVEL="08",
        ABSENCE_DATE=DAYS[-1],
        AM_TYPE="604",
        AM_APPROVED="Y",
        PM_TYPE="604",
        PM_APPROVED="Y",
        RECORD_SOURCE="Compass",
    )
    return s


# -- reading helpers -------------------------------------------------------------------------


def read(folder: Path, **kwargs: Any) -> Any:
    """read_cases21 with the fixture's extract date unless one is given."""
    from importers import read_cases21

    kwargs.setdefault("extract_date", EXTRACT_DATE)
    return read_cases21(folder, **kwargs)


def with_code(extract: Any, code: str) -> list[Any]:
    return [f for f in extract.findings if f.code == code]


def codes(extract: Any) -> set[str]:
    return {f.code for f in extract.findings}


def line_of(path: Path, startswith: str, encoding: str = "cp1252") -> int:
    """The physical line (1-based) on which the record starting with ``startswith`` begins."""
    text = path.read_bytes().decode(encoding)
    for number, line in enumerate(text.split("\n"), start=1):
        if line.startswith(startswith):
            return number
    raise AssertionError(f"{startswith!r} not found in {path.name}")
