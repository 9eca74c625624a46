"""Synthetic CASES21 eduHub extract ("demo school") for demos, tests and benchmarks.

The files are written the way eduHub writes them (see ``cases21_formats.md``): one
``<TABLE>_<school>.csv`` per table with a header of every schema column in schema order,
Windows-1252, CRLF, comma-delimited with RFC-4180 quoting, ``d/MM/yyyy h:mm:ss tt`` dates,
codes as text with leading zeros, and the quirks a real extract has (names with cp1252
characters, a first name ``NA``, a surname ``NULL``, multi-line memo fields, unmarked
half-days that only the converted SXABCONV table fills, a newer ``ST_<school>_D.csv`` delta).

Everything is synthetic: no real person, address or number. Contact details are obviously
fake (``example.com`` e-mail, ``0491 570 ...`` mobiles, ``03 5550 ....`` landlines).

Pure module: numpy, pandas (only to accept a DataFrame in ``generate_vass_file``) and the
standard library. The big SXAB table is built column-wise with numpy and written as
pre-encoded bytes, so 3,000 students over two years (about 1.2 million rows) take seconds.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import logging
import math
import os
import time
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

logger = logging.getLogger(__name__)

__all__ = [
    "DEMO_TABLES",
    "DemoGenerationCancelled",
    "DemoSummary",
    "eduhub_columns",
    "format_eduhub_datetime",
    "generate_demo_extract",
    "generate_vass_file",
    "victorian_school_days",
]

#: Tables written by :func:`generate_demo_extract`, in writing order.
DEMO_TABLES: tuple[str, ...] = (
    "KCY",
    "KGH",
    "SF",
    "KGC",
    "KCT",
    "DF",
    "ST",
    "SXAB",
    "SXABCONV",
    "STVDI",
    "STVDO",
)

_XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit minus the header row
_SXAB_CHUNK = 100_000

# KGH is not in eduhub_columns.json; these are its CASES21 v67 columns in schema order
# (garysharp/EduHub.Data, "src/EduHub.Data/CASES21 Schema.xml" @0082aff, entity KGH).
_KGH_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("KGHKEY", "string", 10),
    ("DESCRIPTION", "string", 30),
    ("CAMPUS", "int", 0),
    ("ACTIVE", "string", 1),
    ("HOUSE_SIZE", "short", 0),
    ("MALES", "short", 0),
    ("FEMALES", "short", 0),
    *((f"AGE_F{i:02d}", "short", 0) for i in range(1, 21)),
    *((f"AGE_M{i:02d}", "short", 0) for i in range(1, 21)),
    ("SELF_DESCRIBED", "short", 0),
    *((f"AGE_S{i:02d}", "short", 0) for i in range(1, 21)),
    ("LW_DATE", "DateTime", 0),
    ("LW_TIME", "short", 0),
    ("LW_USER", "string", 128),
)


class DemoGenerationCancelled(Exception):
    """The caller cancelled generation; the files written so far were removed."""


class _ProgressLike(Protocol):
    def report(self, fraction: float, text: str) -> None: ...

    def cancelled(self) -> bool: ...


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate_demo_extract` wrote."""

    out_dir: Path
    school_number: str
    extract_date: dt.date
    #: table name -> file name; the delta file is under the key ``"ST_D"``.
    files: dict[str, str]
    #: table name -> data rows (header excluded); the delta under ``"ST_D"``.
    row_counts: dict[str, int]
    students: int
    years: int
    seed: int
    #: table name -> .xlsx file name (relative to ``out_dir``), empty unless ``xlsx=True``.
    xlsx_files: dict[str, str] = field(default_factory=dict)

    @property
    def paths(self) -> dict[str, Path]:
        return {table: self.out_dir / name for table, name in self.files.items()}


# --------------------------------------------------------------------------------------
# Schema and resources
# --------------------------------------------------------------------------------------


@functools.cache
def _schema() -> dict[str, tuple[tuple[str, str, int], ...]]:
    path = importlib_resources.files("resources") / "eduhub_columns.json"
    with path.open("r", encoding="utf-8") as handle:
        raw = json.load(handle)
    schema = {
        table: tuple((str(c[0]), str(c[1]), int(c[2])) for c in cols)
        for table, cols in raw.items()
        if isinstance(cols, list)
    }
    schema.setdefault("KGH", _KGH_COLUMNS)
    return schema


def eduhub_columns(table: str) -> tuple[str, ...]:
    """Every column of an eduHub table in CASES21 schema order."""
    return tuple(c[0] for c in _schema()[table])


def _datetime_columns(table: str) -> frozenset[str]:
    return frozenset(c[0] for c in _schema()[table] if c[1] == "DateTime")


@functools.cache
def _names() -> dict[str, Any]:
    path = importlib_resources.files("resources") / "demo_names.json"
    with path.open("r", encoding="utf-8") as handle:
        data: dict[str, Any] = json.load(handle)
    return data


# --------------------------------------------------------------------------------------
# Dates and the Victorian school calendar
# --------------------------------------------------------------------------------------


def format_eduhub_datetime(value: dt.date | dt.datetime | None) -> str:
    """Format as eduHub does: ``d/MM/yyyy h:mm:ss tt`` (``5/02/2019 12:00:00 AM``)."""
    if value is None:
        return ""
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    hour = value.hour % 12 or 12
    half = "AM" if value.hour < 12 else "PM"
    return (
        f"{value.day}/{value.month:02d}/{value.year} "
        f"{hour}:{value.minute:02d}:{value.second:02d} {half}"
    )


def _easter_sunday(year: int) -> dt.date:
    # Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ell = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ell) // 451
    month, day = divmod(h + ell - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _friday_on_or_before(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=(day.weekday() - 4) % 7)


def _term_dates(year: int) -> list[tuple[dt.date, dt.date]]:
    """Approximate Victorian government school terms (within a day or two of the real ones)."""
    jan27 = dt.date(year, 1, 27)
    t1_start = jan27 + dt.timedelta(days=(1 - jan27.weekday()) % 7)  # first Tuesday >= 27 Jan
    t1_end = _friday_on_or_before(dt.date(year, 4, 4))
    t2_start = t1_end + dt.timedelta(days=17)
    t2_end = _friday_on_or_before(dt.date(year, 6, 30))
    t3_start = t2_end + dt.timedelta(days=17)
    t3_end = _friday_on_or_before(dt.date(year, 9, 20))
    t4_start = t3_end + dt.timedelta(days=17)
    t4_end = _friday_on_or_before(dt.date(year, 12, 20))
    return [(t1_start, t1_end), (t2_start, t2_end), (t3_start, t3_end), (t4_start, t4_end)]


def _public_holidays(year: int) -> set[dt.date]:
    easter = _easter_sunday(year)
    return {
        _nth_weekday(year, 3, 0, 2),  # Labour Day
        easter - dt.timedelta(days=2),  # Good Friday
        easter + dt.timedelta(days=1),  # Easter Monday
        dt.date(year, 4, 25),  # Anzac Day
        _nth_weekday(year, 6, 0, 2),  # King's Birthday
        _nth_weekday(year, 11, 1, 1),  # Melbourne Cup
    }


def victorian_school_days(year: int) -> list[dt.date]:
    """School days of a year: weekdays in the four terms, minus public holidays (approximate)."""
    holidays = _public_holidays(year)
    days: list[dt.date] = []
    for start, end in _term_dates(year):
        day = start
        while day <= end:
            if day.weekday() < 5 and day not in holidays:
                days.append(day)
            day += dt.timedelta(days=1)
    return days


# --------------------------------------------------------------------------------------
# Absence types (KCT)
# --------------------------------------------------------------------------------------

# code, description, abbreviation, CURRICULUM, PRE_APPROVED, ENABLED
_KCT_ROWS: tuple[tuple[int, str, str, str, str, str], ...] = (
    (100, "Present", "PRESENT", "Y", "", "Y"),
    (111, "Late arrival \u2013 approved", "LATE", "Y", "", "Y"),
    (112, "Early departure \u2013 approved", "EARLY", "Y", "", "Y"),
    (200, "Medical or illness", "MEDICAL", "N", "N", "Y"),
    (201, "Illness", "ILLNESS", "N", "N", "Y"),
    (205, "Health appointment \u2013 offsite", "HEALTH", "N", "N", "Y"),
    (208, "School refusal", "REFUSAL", "N", "N", "Y"),
    (211, "Bereavement", "BEREAVE", "N", "N", "Y"),
    (300, "Truancy", "TRUANT", "N", "N", "Y"),
    (400, "Suspension \u2013 internal", "INT SUSP", "N", "N", "Y"),
    (401, "Suspension \u2013 external", "EXT SUSP", "N", "N", "Y"),
    (500, "Unexplained", "UNEXPL", "N", "N", "Y"),
    (501, "Unexplained and unjustified", "UNJUST", "N", "N", "Y"),
    (604, "Excursion", "EXCURS", "Y", "Y", "Y"),
    (606, "School camp", "CAMP", "Y", "Y", "Y"),
    (608, "Off-site / TAFE / VET", "TAFE", "Y", "Y", "Y"),
    (609, "Work experience", "WORK EXP", "Y", "Y", "Y"),
    (611, "Sports (school organised)", "SPORT", "Y", "Y", "Y"),
    (800, "Parent choice", "PARENT", "N", "N", "Y"),
    (802, "Exempt", "EXEMPT", "N", "Y", "Y"),
    (803, "Extended family holiday", "HOLIDAY", "N", "N", "Y"),
    (804, "Religious/cultural observance", "RELIG", "N", "N", "Y"),
    (806, "Sorry business", "SORRY", "N", "Y", "Y"),
    (900, "School choice (discontinued)", "SCHOOL", "N", "N", "N"),
)
_CURRICULUM_CODES = frozenset(c for c, _d, _a, cur, _p, _e in _KCT_ROWS if cur == "Y" and c >= 200)
_UNAPPROVED_CODES = (300, 500, 501)
_INAC_ABS_CODE = 803

# Episode models: code -> (weight, probability the absence continues the next school day)
_APPROVED_EPISODES: dict[int, tuple[float, float]] = {
    200: (0.56, 0.45),
    201: (0.03, 0.50),
    205: (0.11, 0.00),
    211: (0.01, 0.55),
    800: (0.10, 0.30),
    802: (0.01, 0.80),
    803: (0.05, 0.80),
    804: (0.03, 0.20),
    806: (0.005, 0.50),
}
_UNAPPROVED_EPISODES: dict[int, tuple[float, float]] = {
    500: (0.62, 0.35),
    300: (0.20, 0.30),
    501: (0.13, 0.30),
    208: (0.05, 0.70),
}

_LATE_TIMES = ("", "905", "912", "918", "925", "934", "941", "950", "1002", "1015", "1030")
_EARLY_TIMES = ("", "1320", "1345", "1400", "1415", "1430", "1445", "1500")
_MARK_TIMES = tuple(str(t) for t in (1331, 1334, 1338, 1342, 1345, 1349, 1352, 1356, 1403, 1410))
_AM_MARK_TIMES = tuple(str(t) for t in (905, 908, 912, 915, 918, 921, 925, 930))
_OFFICE_TIMES = tuple(str(t) for t in (1004, 1032, 1115, 1148, 1226, 1307, 1421, 1539, 1602))

_FAKE_MOBILES = (
    "0491 570 006",
    "0491 570 156",
    "0491 570 157",
    "0491 570 158",
    "0491 570 159",
    "0491 570 110",
    "0491 570 313",
    "0491 570 737",
    "0491 571 266",
    "0491 571 491",
    "0491 571 804",
    "0491 572 549",
    "0491 572 665",
    "0491 572 983",
    "0491 573 770",
)


# --------------------------------------------------------------------------------------
# CSV / XLSX writing
# --------------------------------------------------------------------------------------


def _csv_field(value: str) -> str:
    """RFC-4180 minimal quoting, identical to the csv module's excel dialect."""
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _table_rows(table: str, data: Mapping[str, Sequence[str]], nrows: int) -> list[list[str]]:
    columns = eduhub_columns(table)
    unknown = set(data) - set(columns)
    if unknown:
        raise KeyError(f"{table}: not schema columns: {sorted(unknown)}")
    blank = [""] * nrows
    seqs: list[Sequence[str]] = []
    for name in columns:
        seq = data.get(name, blank)
        if len(seq) != nrows:
            raise ValueError(f"{table}.{name}: {len(seq)} values for {nrows} rows")
        seqs.append(seq)
    return [list(row) for row in zip(*seqs, strict=True)] if nrows else []


def _write_csv(path: Path, table: str, rows: Iterable[Sequence[str]]) -> int:
    count = 0
    with open(path, "w", encoding="cp1252", newline="") as handle:
        writer = csv.writer(handle, dialect="excel", lineterminator="\r\n")
        writer.writerow(eduhub_columns(table))
        for row in rows:
            writer.writerow(row)
            count += 1
    return count


def _write_xlsx(path: Path, table: str, rows: Sequence[Sequence[str]]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    if len(rows) > _XLSX_MAX_ROWS:
        raise ValueError(
            f"{table} has {len(rows):,} rows, more than an Excel sheet holds; "
            "use xlsx=True only for small schools"
        )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=table)
    sheet.append(list(eduhub_columns(table)))
    for row in rows:
        out: list[Any] = []
        for value in row:
            # A line break inside a cell is LF alone in a workbook, as Excel saves it (the CSV's
            # CRLF would be kept as a character reference by lxml and read back with its CR).
            value = value.replace("\r\n", "\n")
            if not value:
                out.append(None)  # an empty cell, as Excel leaves a blank field
            elif value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text, never a formula
                out.append(cell)
            else:
                out.append(value)
        sheet.append(out)
    workbook.save(path)


def _read_csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="cp1252", newline="") as handle:
        return [row for row in csv.reader(handle)]


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------


def _ascii_letters(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in folded.upper() if "A" <= ch <= "Z")


def _key_prefix(surname: str, first_name: str) -> str:
    letters = _ascii_letters(surname)
    if len(letters) < 3:
        letters = (letters + _ascii_letters(first_name) + "XXX")[:3]
    return letters[:3]


def _split_counts(total: int, weights: Sequence[float]) -> list[int]:
    """Largest-remainder split of ``total`` by ``weights``."""
    raw = [total * w / sum(weights) for w in weights]
    counts = [int(math.floor(r)) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


def _yn(rng: np.random.Generator, yes: np.ndarray, blank_rate: float = 0.3) -> list[str]:
    """Y where ``yes``; otherwise N, or blank for ``blank_rate`` of rows (eduHub leaves many flags blank)."""
    blank = rng.random(len(yes)) < blank_rate
    return [
        "Y" if y else ("" if b else "N") for y, b in zip(yes.tolist(), blank.tolist(), strict=True)
    ]


class _Progress:
    def __init__(self, progress: Any) -> None:
        self._progress = progress

    def __call__(self, fraction: float, text: str) -> None:
        progress = self._progress
        if progress is None:
            return
        cancelled = getattr(progress, "cancelled", None)
        if callable(cancelled) and cancelled():
            raise DemoGenerationCancelled("Demo data generation was cancelled.")
        report = getattr(progress, "report", None)
        if callable(report):
            report(min(max(fraction, 0.0), 1.0), text)
        elif callable(progress):
            progress(min(max(fraction, 0.0), 1.0), text)


# --------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------


@dataclass
class _Staff:
    key: list[str]
    surname: list[str]
    first: list[str]
    title: list[str]
    gender: list[str]
    teacher: list[bool]


class _DemoSchool:
    """Builds every table of one synthetic school in memory (SXAB is streamed to disk)."""

    def __init__(
        self, students: int, school_number: str, extract_date: dt.date, seed: int, years: int
    ) -> None:
        self.n = students
        self.school = school_number
        self.extract = extract_date
        self.cur_year = extract_date.year
        self.years = years
        self.rng = np.random.default_rng(seed)
        self.names = _names()
        self._build_calendar()

    # ---------------------------------------------------------------- calendar
    def _build_calendar(self) -> None:
        first_year = self.cur_year - self.years + 1
        days: list[dt.date] = []
        for year in range(first_year, self.cur_year + 1):
            days.extend(d for d in victorian_school_days(year) if d <= self.extract)
        self.days = days
        self.n_days = len(days)
        self.day_ord = np.array([d.toordinal() for d in days], dtype=np.int64)
        self.day_year = np.array([d.year for d in days], dtype=np.int64)
        self.day_weekday = np.array([d.weekday() for d in days], dtype=np.int64)
        self.window_years = list(range(first_year, self.cur_year + 1))
        self.cal_start = dt.date(first_year, 1, 1)
        # A calendar (every date) for LW_DATE values, as pre-formatted bytes.
        span = (self.extract - self.cal_start).days + 1
        self.cal_bytes = np.array(
            [
                format_eduhub_datetime(self.cal_start + dt.timedelta(days=i)).encode("ascii")
                for i in range(span)
            ],
            dtype=object,
        )
        self.day_cal_index = (self.day_ord - self.cal_start.toordinal()).astype(np.int64)

    def _first_school_day(self, year: int) -> dt.date:
        return _term_dates(year)[0][0]

    def _rand_date(self, start: dt.date, end: dt.date) -> dt.date:
        span = max((end - start).days, 0)
        return start + dt.timedelta(days=int(self.rng.integers(0, span + 1)))

    def _lw(self, n: int, back_days: int = 200) -> tuple[list[str], list[str]]:
        offsets = self.rng.integers(0, back_days, size=n)
        times = self.rng.integers(800, 1700, size=n)
        dates = [format_eduhub_datetime(self.extract - dt.timedelta(days=int(o))) for o in offsets]
        return dates, [str(int(t)) if int(t) % 100 < 60 else str(int(t) - 40) for t in times]

    # ---------------------------------------------------------------- staff
    def build_staff(self) -> None:
        rng = self.rng
        n_groups_est = sum(max(1, math.ceil(c / 26)) for c in _split_counts(self.n, _LEVEL_WEIGHTS))
        n_teachers = max(n_groups_est + 12, self.n // 13)
        n_other = max(3, n_teachers // 8)
        total = n_teachers + n_other
        surnames = self.names["staff_surnames"]
        keys: list[str] = []
        seen: set[str] = set()
        st = _Staff([], [], [], [], [], [])
        for i in range(total):
            female = bool(rng.random() < 0.62)
            first = str(rng.choice(self.names["staff_female" if female else "staff_male"]))
            surname = str(rng.choice(surnames))
            base = (_ascii_letters(first)[:1] + _ascii_letters(surname)[:3]).ljust(4, "X")
            key = base
            bump = 0
            while key in seen:
                bump += 1
                key = base[:3] + "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"[bump % 34]
                if bump > 34:
                    key = base[:2] + f"{bump:02d}"
            seen.add(key)
            keys.append(key)
            st.key.append(key)
            st.surname.append(surname)
            st.first.append(first)
            st.gender.append("F" if female else "M")
            st.title.append(
                str(rng.choice(["Ms", "Mrs", "Dr"] if female else ["Mr", "Dr"], p=None))
            )
            st.teacher.append(i < n_teachers)
        self.staff = st
        self.teacher_keys = [k for k, t in zip(st.key, st.teacher, strict=True) if t]
        self.office_key = next(k for k, t in zip(st.key, st.teacher, strict=True) if not t)

    def sf_table(self) -> tuple[dict[str, list[str]], int]:
        rng = self.rng
        st = self.staff
        n = len(st.key)
        faculties = self.names["faculties"]
        houses = [h[0] for h in self.names["houses"]]
        lw_date, lw_time = self._lw(n, 400)
        status = ["ACTV"] * n
        finish = [""] * n
        staff_type = ["T" if t else "N" for t in st.teacher]
        # two staff who have left (not referenced by home groups or year levels)
        for i in (n - 1, n - 2):
            if i >= 0 and st.key[i] not in self._referenced_staff():
                status[i] = "LEFT"
                staff_type[i] = "L"
                finish[i] = format_eduhub_datetime(
                    self._rand_date(dt.date(self.cur_year - 1, 2, 1), self.extract)
                )
        notes = self.names["memos"]["SF_NOTES"]
        data = {
            "SFKEY": st.key,
            "SURNAME": st.surname,
            "TITLE": st.title,
            "FIRST_NAME": st.first,
            "PREF_NAME": [""] * n,
            "GENDER": st.gender,
            "BIRTHDATE": [
                format_eduhub_datetime(self._rand_date(dt.date(1962, 1, 1), dt.date(2000, 12, 31)))
                for _ in range(n)
            ],
            "HOMEKEY": [str(9000 + i) for i in range(n)],
            "MOBILE": [_FAKE_MOBILES[i % len(_FAKE_MOBILES)] for i in range(n)],
            "WORK_PHONE": ["03 5550 " + f"{1000 + i % 9000:04d}" for i in range(n)],
            "E_MAIL": [
                f"{_ascii_letters(f).lower()}.{_ascii_letters(s).lower()}{i}@example.com"
                for i, (f, s) in enumerate(zip(st.first, st.surname, strict=True))
            ],
            "VIT_NO": [str(100000 + i * 7) if t else "" for i, t in enumerate(st.teacher)],
            "START": [
                format_eduhub_datetime(
                    self._rand_date(dt.date(1995, 1, 27), dt.date(self.cur_year, 1, 27))
                )
                for _ in range(n)
            ],
            "FINISH": finish,
            "FACULTY01": [str(rng.choice(faculties)) if t else "" for t in st.teacher],
            "FTE": [("1" if rng.random() < 0.8 else "0.6") for _ in range(n)],
            "CAMPUS": ["1"] * n,
            "HOUSE": [
                str(rng.choice(houses)) if t and rng.random() < 0.5 else "" for t in st.teacher
            ],
            "STAFF_TYPE": staff_type,
            "STAFF_STATUS": status,
            "PAYROLL_REC_NO": [f"{10000000 + i * 37:09d}" for i in range(n)],
            "NOTES": [notes[i % len(notes)] if i % 17 == 3 else "" for i in range(n)],
            "WWCC_NUMBER": [f"{9000000 + i:08d}-01" for i in range(n)],
            "OK_TO_PUBLISH": _yn(rng, rng.random(n) < 0.7),
            "LW_DATE": lw_date,
            "LW_TIME": lw_time,
            "LW_USER": ["CASES21"] * n,
        }
        return data, n

    def _referenced_staff(self) -> set[str]:
        refs = set(getattr(self, "hg_teacher", [])) | set(getattr(self, "hg_teacher_b", []))
        refs |= set(getattr(self, "year_coordinators", []))
        refs.add(self.office_key)
        return refs - {""}

    # ---------------------------------------------------------------- students
    def build_students(self) -> None:
        rng = self.rng
        n = self.n
        names = self.names
        backgrounds = names["backgrounds"]
        bg_weights = np.array([b["weight"] for b in backgrounds], dtype=float)
        bg_weights /= bg_weights.sum()

        # Year levels (current), balanced by largest remainder then shuffled.
        level_counts = _split_counts(n, _LEVEL_WEIGHTS)
        levels = np.repeat(np.arange(7, 13), level_counts)
        rng.shuffle(levels)

        # Families: the specials are singletons; otherwise 1-3 siblings.
        n_special = min(len(_SPECIALS), n)
        family_of = np.empty(n, dtype=np.int64)
        fam = 0
        i = 0
        while i < n:
            size = 1 if i < n_special else int(rng.choice([1, 2, 3], p=[0.84, 0.13, 0.03]))
            if i < n_special:
                size = 1
            elif i + size > n:
                size = n - i
            family_of[i : i + size] = fam
            fam += 1
            i += size
        n_fam = fam
        fam_bg = rng.choice(len(backgrounds), size=n_fam, p=bg_weights)
        fam_surname = [str(rng.choice(backgrounds[b]["surnames"])) for b in fam_bg]

        gender = np.where(rng.random(n) < 0.5, "F", "M").astype(object)
        surname: list[str] = []
        first: list[str] = []
        second: list[str] = []
        sibling_names: dict[int, set[str]] = {}
        for s in range(n):
            bg = backgrounds[fam_bg[family_of[s]]]
            sur = fam_surname[family_of[s]]
            if rng.random() < 0.08:  # blended family: different surname
                sur = str(rng.choice(bg["surnames"]))
            pool = bg["female" if gender[s] == "F" else "male"]
            fn = str(rng.choice(pool))
            siblings = sibling_names.setdefault(int(family_of[s]), set())
            for _retry in range(5):
                if fn not in siblings:
                    break
                fn = str(rng.choice(pool))
            siblings.add(fn)
            sn = str(rng.choice(pool)) if rng.random() < 0.6 else ""
            if sn == fn:
                sn = ""
            surname.append(sur)
            first.append(fn)
            second.append(sn)
        bg_of = [int(fam_bg[family_of[s]]) for s in range(n)]
        for s, (sur, fn, g, bg_id) in enumerate(_SPECIALS[:n_special]):
            surname[s] = sur
            first[s] = fn
            second[s] = ""
            gender[s] = g
            bg_index = next(k for k, b in enumerate(backgrounds) if b["id"] == bg_id)
            bg_of[s] = bg_index
            fam_bg[family_of[s]] = bg_index
            fam_surname[family_of[s]] = sur
        # A few self-described gender students.
        n_x = int(n * 0.004)
        if n_x:
            x_idx = rng.choice(np.arange(n_special, n), size=n_x, replace=False)
            gender[x_idx] = "X"

        self.level = levels.astype(np.int64)
        self.family_of = family_of
        self.n_fam = n_fam
        self.fam_bg = fam_bg
        self.fam_surname = fam_surname
        self.gender = gender.tolist()
        self.surname = surname
        self.first = first
        self.second = second
        self.bg_of = bg_of

        # Status: the specials stay active.
        status = np.array(["ACTV"] * n, dtype=object)
        pool = rng.permutation(np.arange(n_special, n))
        quotas = [
            ("LEFT", max(1, round(0.02 * n))),
            ("INAC", max(1, round(0.007 * n))),
            ("LVNG", max(1, round(0.007 * n))),
            ("FUT", max(1, round(0.01 * n))),
        ]
        pos = 0
        for code, q in quotas:
            take = pool[pos : pos + q]
            status[take] = code
            pos += q
        self.status = status.tolist()

        # Attendance profiles: 0 good, 1 moderate, 2 high risk (stratified quotas).
        profile = np.zeros(n, dtype=np.int64)
        perm = rng.permutation(n)
        n_high = max(1, round(0.05 * n)) if n >= 10 else 1
        n_mod = max(1, round(0.09 * n)) if n >= 10 else 1
        profile[perm[:n_high]] = 2
        profile[perm[n_high : n_high + n_mod]] = 1
        # Students leaving this year are more often disengaged.
        for s in range(n):
            if self.status[s] == "LEFT" and profile[s] == 0 and rng.random() < 0.5:
                profile[s] = 1
        self.profile = profile

        self._enrolment_dates()
        self._graduates()
        self._assign_keys()
        self._assign_groups()

    def _enrolment_dates(self) -> None:
        rng = self.rng
        n = self.n
        cur = self.cur_year
        entry: list[dt.date] = []
        exit_: list[dt.date | None] = []
        birth: list[dt.date] = []
        older = rng.random(n) < 0.04
        self_rel = np.zeros(n, dtype=bool)
        cur_days = [d for d in victorian_school_days(cur) if d <= self.extract]
        for s in range(n):
            lvl = int(self.level[s])
            y7 = cur - (lvl - 7)
            start = self._first_school_day(y7)
            status = self.status[s]
            if status == "FUT":
                nxt = self.extract + dt.timedelta(days=int(rng.integers(5, 40)))
                t4_end = _term_dates(cur)[3][1]
                entry_d = nxt if nxt <= t4_end else self._first_school_day(cur + 1)
            elif rng.random() < 0.10 and y7 < cur + 1:
                # transferred in after the start of year 7
                lo = start
                hi = min(self.extract, _term_dates(cur)[3][1])
                entry_d = self._rand_date(lo, hi) if hi > lo else start
                while entry_d.weekday() >= 5:
                    entry_d += dt.timedelta(days=1)
            else:
                entry_d = start
            ex: dt.date | None = None
            if status == "LEFT":
                if len(cur_days) >= 20:
                    ex = cur_days[int(rng.integers(10, len(cur_days) - 5))]
                else:
                    ex = dt.date(cur, 1, 20)
                if entry_d >= ex:
                    entry_d = (
                        self._first_school_day(y7)
                        if self._first_school_day(y7) < ex
                        else dt.date(cur - 1, 2, 1)
                    )
            elif status == "LVNG":
                ex = self.extract + dt.timedelta(days=int(rng.integers(7, 22)))
            by = cur - lvl - 6  # born 1 May (cur-lvl-6) .. 30 Apr (cur-lvl-5)
            if older[s] or (lvl >= 11 and rng.random() < 0.08):
                by -= 1
                if lvl >= 11 and rng.random() < 0.5:
                    self_rel[s] = True
            b = self._rand_date(dt.date(by, 5, 1), dt.date(by + 1, 4, 30))
            entry.append(entry_d)
            exit_.append(ex)
            birth.append(b)
        # Make sure at least one independent ("Self") student exists among seniors.
        seniors = [s for s in range(len(_SPECIALS), n) if self.level[s] >= 11]
        if seniors and not self_rel.any():
            self_rel[seniors[0]] = True
        self.entry = entry
        self.exit = exit_
        self.birth = birth
        self.self_rel = self_rel.tolist()

    def _graduates(self) -> None:
        """Last year's year 12 (STATUS LEFT) when the window reaches last year."""
        rng = self.rng
        self.n_grad = 0
        if self.years < 2:
            return
        g = max(1, round(0.12 * self.n))
        backgrounds = self.names["backgrounds"]
        bg_weights = np.array([b["weight"] for b in backgrounds], dtype=float)
        bg_weights /= bg_weights.sum()
        prev = self.cur_year - 1
        for _ in range(g):
            bg_i = int(rng.choice(len(backgrounds), p=bg_weights))
            bg = backgrounds[bg_i]
            female = bool(rng.random() < 0.5)
            self.surname.append(str(rng.choice(bg["surnames"])))
            self.first.append(str(rng.choice(bg["female" if female else "male"])))
            self.second.append("")
            self.gender.append("F" if female else "M")
            self.bg_of.append(bg_i)
            self.family_of = np.append(self.family_of, self.n_fam)
            self.fam_bg = np.append(self.fam_bg, bg_i)
            self.fam_surname.append(self.surname[-1])
            self.n_fam += 1
            self.level = np.append(self.level, 12)
            self.status.append("LEFT")
            self.profile = np.append(self.profile, int(rng.choice([0, 1, 2], p=[0.85, 0.11, 0.04])))
            self.entry.append(self._first_school_day(prev - 5))
            self.exit.append(_term_dates(prev)[3][1])
            by = prev - 12 - 6
            self.birth.append(self._rand_date(dt.date(by, 5, 1), dt.date(by + 1, 4, 30)))
            self.self_rel.append(False)
        self.n_grad = g

    @property
    def n_all(self) -> int:
        return self.n + self.n_grad

    def ref_year(self, s: int) -> int:
        return self.cur_year - 1 if s >= self.n else self.cur_year

    def _assign_keys(self) -> None:
        rng = self.rng
        order = sorted(range(self.n_all), key=lambda s: (self.entry[s], s))
        counters: dict[str, int] = {}
        keys = [""] * self.n_all
        for s in order:
            prefix = _key_prefix(self.surname[s], self.first[s])
            step = int(rng.integers(1, 4))
            nxt = counters.get(prefix, int(rng.integers(0, 12))) + step
            counters[prefix] = nxt
            keys[s] = f"{prefix}{nxt:04d}"
        self.stkey = keys
        self.registration = [0] * self.n_all
        for rank, s in enumerate(order):
            self.registration[s] = 1001 + rank * 3 + int(rng.integers(0, 3))
        fam_keys = [""] * self.n_fam
        fam_counters: dict[str, int] = {}
        for f in range(self.n_fam):
            prefix = _key_prefix(self.fam_surname[f], "")
            nxt = fam_counters.get(prefix, int(rng.integers(0, 20))) + int(rng.integers(1, 3))
            fam_counters[prefix] = nxt
            fam_keys[f] = f"{prefix}{nxt:04d}"
        self.dfkey = fam_keys

    def _assign_groups(self) -> None:
        rng = self.rng
        houses = [h[0] for h in self.names["houses"]]
        self.groups: list[str] = []
        self.group_level: list[int] = []
        groups_per_level: dict[int, int] = {}
        for lvl in range(7, 13):
            members = [s for s in range(self.n) if self.level[s] == lvl]
            count = max(1, math.ceil(len(members) / 26))
            groups_per_level[lvl] = count
            for g in range(count):
                self.groups.append(f"{lvl:02d}{chr(ord('A') + g)}")
                self.group_level.append(lvl)
        self.groups_per_level = groups_per_level
        group_index = {g: i for i, g in enumerate(self.groups)}
        home_group = [""] * self.n_all
        letter = np.zeros(self.n_all, dtype=np.int64)
        for lvl in range(7, 13):
            members = [s for s in range(self.n) if self.level[s] == lvl]
            members = [members[i] for i in rng.permutation(len(members))]
            for k, s in enumerate(members):
                letter[s] = k % groups_per_level[lvl]
                home_group[s] = f"{lvl:02d}{chr(ord('A') + int(letter[s]))}"
        for s in range(self.n, self.n_all):
            letter[s] = int(rng.integers(0, groups_per_level[12]))
        # FUT students starting next year have no home group yet; one active student lacks one.
        for s in range(self.n):
            if self.status[s] == "FUT" and self.entry[s].year > self.cur_year:
                home_group[s] = ""
        if self.n >= 50:
            cand = [s for s in range(len(_SPECIALS), self.n) if self.status[s] == "ACTV"]
            home_group[cand[len(cand) // 2]] = ""
        self.home_group = home_group
        self.letter = letter
        # Home-group index per student per window year (for TXHG_TID and the roll teacher).
        hg_by_year = np.full((self.n_all, len(self.window_years)), -1, dtype=np.int64)
        for yi, year in enumerate(self.window_years):
            for s in range(self.n_all):
                lvl = int(self.level[s]) - (self.ref_year(s) - year)
                if 7 <= lvl <= 12:
                    let = int(letter[s]) % groups_per_level[lvl]
                    hg_by_year[s, yi] = group_index[f"{lvl:02d}{chr(ord('A') + let)}"]
        self.hg_by_year = hg_by_year
        self.house = [str(rng.choice(houses)) for _ in range(self.n_all)]

        teachers = list(self.teacher_keys)
        order = rng.permutation(len(teachers))
        shuffled = [teachers[i] for i in order]
        self.hg_teacher = shuffled[: len(self.groups)]
        rest = shuffled[len(self.groups) :]
        self.hg_teacher_b = [
            (rest[i % len(rest)] if rest and rng.random() < 0.2 else "")
            for i in range(len(self.groups))
        ]
        self.year_coordinators = [rest[(2 * i) % len(rest)] if rest else "" for i in range(6)]

    # ---------------------------------------------------------------- lookup tables
    def kcy_table(self) -> tuple[dict[str, list[str]], int]:
        cur = self.cur_year
        keys = [f"{lvl:02d}" for lvl in range(7, 13)]
        lw_date, lw_time = self._lw(6, 900)
        data = {
            "KCYKEY": keys,
            "DESCRIPTION": [f"Year {lvl}" for lvl in range(7, 13)],
            "NUM_EQVT": [str(lvl) for lvl in range(7, 13)],
            "SHORT_DESC": [f"Yr {lvl}" for lvl in range(7, 13)],
            "TEACHER": self.year_coordinators,
            "TEACHER_B": ["" for _ in range(6)],
            "NEXT_YR": [f"{lvl + 1:02d}" if lvl < 12 else "" for lvl in range(7, 13)],
            "FINAL_YR": ["Y" if lvl == 12 else "N" for lvl in range(7, 13)],
            "CSF_REQUIRED": ["Y" if lvl <= 10 else "N" for lvl in range(7, 13)],
            "HALF_DAY_ABS": ["Y"] * 6,
            "PERIOD_ABS": ["Y"] * 6,
            "BIRTHDATE_FROM": [
                format_eduhub_datetime(dt.date(cur - lvl - 6, 5, 1)) for lvl in range(7, 13)
            ],
            "BIRTHDATE_TO": [
                format_eduhub_datetime(dt.date(cur - lvl - 5, 4, 30)) for lvl in range(7, 13)
            ],
            "LW_DATE": lw_date,
            "LW_TIME": lw_time,
            "LW_USER": ["CASES21"] * 6,
        }
        return data, 6

    def kgh_table(self) -> tuple[dict[str, list[str]], int]:
        houses = self.names["houses"]
        n = len(houses)
        current = [s for s in range(self.n) if self.status[s] in ("ACTV", "LVNG", "INAC")]
        size = [sum(1 for s in current if self.house[s] == h[0]) for h in houses]
        males = [
            sum(1 for s in current if self.house[s] == h[0] and self.gender[s] == "M")
            for h in houses
        ]
        females = [
            sum(1 for s in current if self.house[s] == h[0] and self.gender[s] == "F")
            for h in houses
        ]
        lw_date, lw_time = self._lw(n, 300)
        data = {
            "KGHKEY": [h[0] for h in houses],
            "DESCRIPTION": [h[1] for h in houses],
            "CAMPUS": ["1"] * n,
            "ACTIVE": ["Y"] * n,
            "HOUSE_SIZE": [str(v) for v in size],
            "MALES": [str(v) for v in males],
            "FEMALES": [str(v) for v in females],
            "SELF_DESCRIBED": [
                str(a - b - c) for a, b, c in zip(size, males, females, strict=True)
            ],
            "LW_DATE": lw_date,
            "LW_TIME": lw_time,
            "LW_USER": ["CASES21"] * n,
        }
        return data, n

    def kgc_table(self) -> tuple[dict[str, list[str]], int]:
        n = len(self.groups)
        current = [s for s in range(self.n) if self.status[s] in ("ACTV", "LVNG", "INAC")]
        size = [sum(1 for s in current if self.home_group[s] == g) for g in self.groups]
        males = [
            sum(1 for s in current if self.home_group[s] == g and self.gender[s] == "M")
            for g in self.groups
        ]
        females = [
            sum(1 for s in current if self.home_group[s] == g and self.gender[s] == "F")
            for g in self.groups
        ]
        lw_date, lw_time = self._lw(n, 300)
        data = {
            "KGCKEY": self.groups,
            "DESCRIPTION": [
                f"Year {lvl} {g[-1]}" for g, lvl in zip(self.groups, self.group_level, strict=True)
            ],
            "CAMPUS": ["1"] * n,
            "TEACHER": self.hg_teacher,
            "TEACHER_B": self.hg_teacher_b,
            "ACTIVE": ["Y"] * n,
            "ROOM": [f"{'ABCDEF'[lvl - 7]}{10 + i % 20}" for i, lvl in enumerate(self.group_level)],
            "HG_SIZE": [str(v) for v in size],
            "MALES": [str(v) for v in males],
            "FEMALES": [str(v) for v in females],
            "MIN_AC_YR": [f"{lvl:02d}" for lvl in self.group_level],
            "MAX_AC_YR": [f"{lvl:02d}" for lvl in self.group_level],
            "NEXT_HG": [
                f"{lvl + 1:02d}{g[-1]}"
                if lvl < 12 and f"{lvl + 1:02d}{g[-1]}" in self.groups
                else ""
                for g, lvl in zip(self.groups, self.group_level, strict=True)
            ],
            "SELF_DESCRIBED": [
                str(a - b - c) for a, b, c in zip(size, males, females, strict=True)
            ],
            "LW_DATE": lw_date,
            "LW_TIME": lw_time,
            "LW_USER": ["CASES21"] * n,
        }
        return data, n

    def kct_table(self) -> tuple[dict[str, list[str]], int]:
        n = len(_KCT_ROWS)
        lw_date, lw_time = self._lw(n, 900)
        data = {
            "KCTKEY": [str(r[0]) for r in _KCT_ROWS],
            "DESCRIPTION": [r[1] for r in _KCT_ROWS],
            "ABBREV_DESC": [r[2] for r in _KCT_ROWS],
            "CURRICULUM": [r[3] for r in _KCT_ROWS],
            "ENABLED": [r[5] for r in _KCT_ROWS],
            "PRE_APPROVED": [r[4] for r in _KCT_ROWS],
            "ABS_RATE": ["" for _ in _KCT_ROWS],
            "SMS": ["Y" if r[0] in (300, 500, 501) else "" for r in _KCT_ROWS],
            "SMS_MESSAGE": [
                'Your child was absent today, please contact the school, "reply" with a reason.'
                if r[0] in (300, 500, 501)
                else ""
                for r in _KCT_ROWS
            ],
            "LW_DATE": lw_date,
            "LW_TIME": lw_time,
            "LW_USER": ["CASES21"] * n,
        }
        return data, n

    # ---------------------------------------------------------------- families
    def df_table(self) -> tuple[dict[str, list[str]], int]:
        rng = self.rng
        names = self.names
        backgrounds = names["backgrounds"]
        occ = names["occupations"]
        employers = names["employers"]
        memos = names["memos"]["DF_CONTACT_MEMO"]
        n = self.n_fam
        groups = np.array(["A", "B", "C", "D", "N", "U", ""], dtype=object)
        probs = np.array([0.13, 0.20, 0.24, 0.15, 0.10, 0.08, 0.10])
        occ_a = rng.choice(groups, size=n, p=probs)
        occ_b = rng.choice(groups, size=n, p=probs)
        has_b = rng.random(n) < 0.72
        lote_a: list[str] = []
        lote_b: list[str] = []
        home_lang: list[str] = []
        self.fam_lote = []
        for f in range(n):
            bg = backgrounds[int(self.fam_bg[f])]
            speaks = rng.random() < bg["lote_rate"]
            code = bg["lote"] if speaks else "1201"
            self.fam_lote.append(code)
            lote_a.append(code)
            lote_b.append((code if rng.random() < 0.85 else "1201") if has_b[f] else "")
            home_lang.append(code)
        # Independent students: adult A of their family is themselves.
        self_family = {int(self.family_of[s]): s for s in range(self.n_all) if self.self_rel[s]}
        name_a, surname_a, title_a, gender_a = [], [], [], []
        name_b, surname_b, title_b, gender_b = [], [], [], []
        for f in range(n):
            sur = self.fam_surname[f]
            if f in self_family:
                s = self_family[f]
                name_a.append(self.first[s])
                surname_a.append(self.surname[s])
                title_a.append("")
                gender_a.append(self.gender[s] if self.gender[s] in ("M", "F") else "")
                has_b[f] = False
            else:
                ga = "F" if rng.random() < 0.7 else "M"
                name_a.append(f"Demoparent{'A'}{f + 1}")
                surname_a.append(sur)
                title_a.append("Ms" if ga == "F" else "Mr")
                gender_a.append(ga)
            if has_b[f]:
                gb = "M" if gender_a[-1] == "F" else "F"
                name_b.append(f"Demoparent{'B'}{f + 1}")
                surname_b.append(
                    sur
                    if rng.random() < 0.8
                    else str(rng.choice(backgrounds[int(self.fam_bg[f])]["surnames"]))
                )
                title_b.append("Mr" if gb == "M" else "Ms")
                gender_b.append(gb)
            else:
                name_b.append("")
                surname_b.append("")
                title_b.append("")
                gender_b.append("")
        occ_b = np.where(has_b, occ_b, "")

        def occupation(codes: np.ndarray) -> list[str]:
            out = []
            for c in codes.tolist():
                pool = occ.get(c or "U", [""])
                out.append(str(rng.choice(pool)) if pool else "")
            return out

        def employer(codes: np.ndarray) -> list[str]:
            return [
                str(rng.choice(employers)) if c in ("A", "B", "C", "D") else ""
                for c in codes.tolist()
            ]

        def lu_dates(codes: np.ndarray) -> list[str]:
            out = []
            for c in codes.tolist():
                if not c:
                    out.append("")
                    continue
                day = self._rand_date(dt.date(self.cur_year - 6, 1, 1), self.extract)
                secs = int(rng.integers(7 * 3600, 19 * 3600))
                out.append(
                    format_eduhub_datetime(
                        dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=secs)
                    )
                )
            return out

        lw_date, lw_time = self._lw(n, 300)
        data: dict[str, list[str]] = {
            "DFKEY": self.dfkey,
            "NAME_A": name_a,
            "SURNAME_A": surname_a,
            "TITLE_A": title_a,
            "WORK_CONT_A": _yn(rng, rng.random(n) < 0.6),
            "OCCUPATION_A": occupation(occ_a),
            "EMPLOYER_A": employer(occ_a),
            "NATIVE_LANG_A": lote_a,
            "INTERPRETER_A": ["Y" if c != "1201" and rng.random() < 0.2 else "N" for c in lote_a],
            "BIRTH_COUNTRY_A": [
                str(rng.choice(backgrounds[int(self.fam_bg[f])]["countries"]))
                if lote_a[f] != "1201"
                else "1101"
                for f in range(n)
            ],
            "BH_AT_HOME_A": _yn(rng, rng.random(n) < 0.3),
            "BH_CONTACT_A": [f"03 5550 {int(rng.integers(0, 10000)):04d}" for _ in range(n)],
            "BH_CONTACT_A_MEMO": [memos[f % len(memos)] if f % 11 == 2 else "" for f in range(n)],
            "AH_CONTACT_A": [f"03 5550 {int(rng.integers(0, 10000)):04d}" for _ in range(n)],
            "E_MAIL_A": [f"parent.a.{f + 1}@example.com" for f in range(n)],
            "PREF_MAIL_MECH_A": ["E"] * n,
            "GENDER_A": gender_a,
            "SCH_ED_A": [
                str(int(rng.integers(0, 5))) if rng.random() < 0.8 else "" for _ in range(n)
            ],
            "NON_SCH_ED_A": [
                str(int(rng.choice([0, 5, 6, 7, 8]))) if rng.random() < 0.8 else ""
                for _ in range(n)
            ],
            "OCCUP_STATUS_A": occ_a.tolist(),
            "LOTE_HOME_CODE_A": lote_a,
            "MOBILE_A": [_FAKE_MOBILES[f % len(_FAKE_MOBILES)] for f in range(n)],
            "SMS_NOTIFY_A": _yn(rng, rng.random(n) < 0.8),
            "E_MAIL_NOTIFY_A": _yn(rng, rng.random(n) < 0.7),
            "NAME_B": name_b,
            "SURNAME_B": surname_b,
            "TITLE_B": title_b,
            "OCCUPATION_B": [
                o if h else "" for o, h in zip(occupation(occ_b), has_b.tolist(), strict=True)
            ],
            "EMPLOYER_B": employer(occ_b),
            "NATIVE_LANG_B": lote_b,
            "GENDER_B": gender_b,
            "OCCUP_STATUS_B": occ_b.tolist(),
            "LOTE_HOME_CODE_B": lote_b,
            "MOBILE_B": [
                _FAKE_MOBILES[(f + 7) % len(_FAKE_MOBILES)] if has_b[f] else "" for f in range(n)
            ],
            "E_MAIL_B": [f"parent.b.{f + 1}@example.com" if has_b[f] else "" for f in range(n)],
            "AH_CONTACT_B_MEMO": [
                memos[(f + 1) % len(memos)] if has_b[f] and f % 13 == 5 else "" for f in range(n)
            ],
            "HOMETITLE": [f"The {s.title()} family"[:30] for s in self.fam_surname],
            "HOMEKEY": [str(20000 + f) for f in range(n)],
            "MAILTITLE": [f"Parents of {s.title()}"[:30] for s in self.fam_surname],
            "MAILKEY": [str(20000 + f) for f in range(n)],
            "BILLINGKEY": [str(20000 + f) for f in range(n)],
            "EMERG_NAME01": [f"Demo Contact {f + 1}" for f in range(n)],
            "EMERG_CONTACT01": [_FAKE_MOBILES[(f + 3) % len(_FAKE_MOBILES)] for f in range(n)],
            "HOME_LANG": home_lang,
            "OCCUP_STATUS_A_LU": lu_dates(occ_a),
            "OCCUP_STATUS_B_LU": lu_dates(occ_b),
            "LW_DATE": lw_date,
            "LW_TIME": lw_time,
            "LW_USER": [self.office_key] * n,
        }
        self.occ_a = occ_a
        self.occ_b = occ_b
        self.has_b = has_b
        self.fam_gender_a = gender_a
        return data, n

    # ---------------------------------------------------------------- ST
    def st_table(self) -> tuple[dict[str, list[str]], int]:
        rng = self.rng
        names = self.names
        memos = names["memos"]
        backgrounds = names["backgrounds"]
        n = self.n_all
        cur = self.cur_year
        fmt = format_eduhub_datetime
        level_now = [int(lv) for lv in self.level]
        # Language and migration.
        lote = [self.fam_lote[int(self.family_of[s])] for s in range(n)]
        overseas = np.zeros(n, dtype=bool)
        country = ["1101"] * n
        refugee = np.zeros(n, dtype=bool)
        visa = [""] * n
        arrival = [""] * n
        aussie_school = [""] * n
        for s in range(n):
            bg = backgrounds[self.bg_of[s]]
            if rng.random() < bg["overseas_rate"]:
                overseas[s] = True
                country[s] = str(rng.choice(bg["countries"]))
                arr = self._rand_date(
                    self.birth[s] + dt.timedelta(days=365 * 3), min(self.entry[s], self.extract)
                )
                arrival[s] = fmt(arr)
                aussie_school[s] = fmt(max(arr, self.birth[s] + dt.timedelta(days=365 * 5)))
                if rng.random() < bg["refugee_rate"]:
                    refugee[s] = True
                    visa[s] = str(rng.choice(["200", "202", "866"]))
            else:
                aussie_school[s] = (
                    fmt(dt.date(self.birth[s].year + 5, 1, 30)) if rng.random() < 0.5 else ""
                )
        koorie_codes = rng.choice(
            np.array(["N", "K", "T", "B", "U", ""], dtype=object),
            size=n,
            p=[0.925, 0.03, 0.004, 0.005, 0.026, 0.01],
        )
        for s in range(n):
            if self.bg_of[s] != 0 and koorie_codes[s] in ("K", "T", "B"):
                koorie_codes[s] = "N"
        disability = rng.random(n) < 0.06
        integration = disability & (rng.random(n) < 0.5)
        youth_allow = np.array([level_now[s] >= 11 for s in range(n)]) & (rng.random(n) < 0.12)
        ema = rng.random(n) < 0.25
        access = rng.random(n) < 0.03
        risk = (rng.random(n) < 0.02) | ((self.profile_all() == 2) & (rng.random(n) < 0.25))
        medical = rng.random(n) < 0.10
        attendance_concern = (self.profile_all() == 2) & (rng.random(n) < 0.6)
        child_protection = rng.random(n) < 0.01
        living = rng.choice(
            np.array(["T", "O", "S", "H", "I", ""], dtype=object),
            size=n,
            p=[0.62, 0.25, 0.015, 0.005, 0.01, 0.1],
        )
        for s in range(n):
            if self.self_rel[s]:
                living[s] = "I"
        # Names and relations.
        relation_a = []
        relation_b = []
        fam_gender_a = self.fam_gender_a
        for s in range(n):
            f = int(self.family_of[s])
            if self.self_rel[s]:
                relation_a.append("Self")
                relation_b.append("")
            else:
                relation_a.append(
                    "Mother"
                    if fam_gender_a[f] == "F"
                    else str(
                        rng.choice(
                            ["Father", "Step-Father", "Grandfather", "Guardian"],
                            p=[0.85, 0.06, 0.04, 0.05],
                        )
                    )
                )
                relation_b.append(
                    ("Father" if fam_gender_a[f] == "F" else "Mother") if self.has_b[f] else ""
                )
        famb = ["" for _ in range(n)]
        for s in range(n):
            if not self.self_rel[s] and rng.random() < 0.07:
                famb[s] = self.dfkey[int(rng.integers(0, self.n_fam))]
                if famb[s] == self.dfkey[int(self.family_of[s])]:
                    famb[s] = ""
        pref = [
            names["preferred_names"].get(self.first[s], "") if rng.random() < 0.7 else ""
            for s in range(n)
        ]
        # VSN, VCE_ID, USI
        vsn: list[str] = []
        seen_vsn: set[int] = set()
        while len(vsn) < n:
            v = int(rng.integers(100_000_000, 1_000_000_000))
            if v not in seen_vsn:
                seen_vsn.add(v)
                vsn.append(str(v))
        for s in range(n):
            if self.status[s] == "FUT" and rng.random() < 0.5:
                vsn[s] = ""
        if n >= 100:
            vsn[len(_SPECIALS) + 7] = "UNKNOWN"
        vce = [""] * n
        used_vce: set[str] = set()
        blank_done = False
        for s in range(n):
            lvl = level_now[s]
            if lvl < 11:
                continue
            if lvl == 11 and not blank_done and s >= len(_SPECIALS) and self.status[s] == "ACTV":
                blank_done = True  # VASS will be matched by STKEY for this one
                continue
            first_year = self.ref_year(s) - (lvl - 11) - (1 if rng.random() < 0.15 else 0)
            while True:
                cand = f"{first_year % 100:02d}{int(rng.integers(0, 1_000_000)):06d}{chr(ord('A') + int(rng.integers(0, 26)))}"
                if cand not in used_vce:
                    used_vce.add(cand)
                    break
            vce[s] = cand
        self.vce_id = vce
        usi = [
            "".join(rng.choice(list("23456789ABCDEFGHJKLMNPQRSTUVWXYZ"), size=10))
            if level_now[s] >= 11 and rng.random() < 0.4
            else ""
            for s in range(n)
        ]
        # Dates.
        exit_date = [fmt(e) if e else "" for e in self.exit]
        lw_date, lw_time = self._lw(n, 250)
        inac_code = [str(_INAC_ABS_CODE) if st == "INAC" else "" for st in self.status]

        # Memos with commas, quotes and line breaks.
        def memo(kind: str, mask: np.ndarray) -> list[str]:
            pool = memos[kind]
            return [pool[i % len(pool)] if m else "" for i, m in enumerate(mask.tolist())]

        notes_mask = rng.random(n) < 0.12
        if n > 4:
            notes_mask[0] = True  # O'BRIEN always has a multi-line note
        data: dict[str, list[str]] = {
            "STKEY": self.stkey,
            "SURNAME": self.surname,
            "FIRST_NAME": self.first,
            "SECOND_NAME": self.second,
            "PREF_NAME": pref,
            "FAMILY": [self.dfkey[int(self.family_of[s])] for s in range(n)],
            "ACADEMIC_A": _yn(rng, np.ones(n, dtype=bool), 0.2),
            "LIVING_A": _yn(rng, np.ones(n, dtype=bool), 0.2),
            "RELATION_A01": relation_a,
            "RELATION_A02": relation_b,
            "CONTACT_A": _yn(rng, np.ones(n, dtype=bool), 0.1),
            "FAMB": famb,
            "LIVING_ARR": living.tolist(),
            "E_MAIL": [f"{self.stkey[s].lower()}@students.example.com" for s in range(n)],
            "MOBILE": [
                _FAKE_MOBILES[s % len(_FAKE_MOBILES)]
                if level_now[s] >= 10 and rng.random() < 0.4
                else ""
                for s in range(n)
            ],
            "REGISTRATION": [str(r) for r in self.registration],
            "FIRST_REG_NO": [f"{self.school}{r:06d}" for r in self.registration],
            "GENDER": self.gender,
            "BIRTHDATE": [fmt(b) for b in self.birth],
            "PROOF_DOB": _yn(rng, rng.random(n) < 0.9),
            # permanent, or temporary for some overseas-born students who are not refugees
            "RESIDENT_STATUS": [
                str(rng.choice(["P", "T"])) if overseas[s] and not refugee[s] else "P"
                for s in range(n)
            ],
            "ENTRY": [fmt(e) for e in self.entry],
            "EXIT_DATE": exit_date,
            "ARRIVAL": arrival,
            "AUSSIE_SCHOOL": aussie_school,
            "INTEGRATION": _yn(rng, integration),
            "DATELEFT": [exit_date[s] if self.status[s] == "LEFT" else "" for s in range(n)],
            "PREVIOUS_SCHOOL": [
                f"{int(rng.integers(1000, 9000)):04d}" if rng.random() < 0.9 else ""
                for _ in range(n)
            ],
            "NOTES": memo("NOTES", notes_mask),
            "SGB_FUNDED": ["Y"] * n,
            "ED_ALLOW": _yn(rng, ema),
            "STATUS": self.status,
            "TAG": ["LEFT" if st == "LEFT" else "" for st in self.status],
            "ENROLMENT_YEAR": [str(self.ref_year(s)) for s in range(n)],
            "HOME_GROUP": self.home_group,
            "SCHOOL_YEAR": [f"{lv:02d}" for lv in level_now],
            "HOUSE": self.house,
            "CAMPUS": ["1"] * n,
            "LOCKER_NUM": [
                f"L{int(rng.integers(1, 999)):03d}" if rng.random() < 0.5 else "" for _ in range(n)
            ],
            "VCE_ID": vce,
            "VISA_SUBCLASS": visa,
            "BIRTH_COUNTRY": country,
            "ENG_SPEAK": [
                "Y" if lote[s] == "1201" or rng.random() < 0.8 else "N" for s in range(n)
            ],
            "HOME_LANG": lote,
            "OVERSEAS": _yn(rng, overseas, 0.15),
            "KOORIE": koorie_codes.tolist(),
            "YOUTH_ALLOW": _yn(rng, youth_allow),
            "AB_STUDY": _yn(rng, np.isin(koorie_codes, ["K", "T", "B"]) & (rng.random(n) < 0.4)),
            "ACCESS": memo("ACCESS", access),
            "ACCESS_TYPE": ["Court order" if a else "" for a in access.tolist()],
            "ACCESS_ALERT": _yn(rng, access),
            "RISK_ALERT": _yn(rng, risk),
            "RISK_MEMO": memo("RISK_MEMO", risk),
            "DOCTOR": [
                f"DR{int(rng.integers(1, 40)):03d}" if rng.random() < 0.4 else "" for _ in range(n)
            ],
            "EMERG_NAME01": [f"Demo Emergency {s + 1}" for s in range(n)],
            "EMERG_RELATION01": [
                str(rng.choice(["Aunt", "Uncle", "Grandmother", "Neighbour"])) for _ in range(n)
            ],
            "EMERG_CONTACT01": [_FAKE_MOBILES[(s + 5) % len(_FAKE_MOBILES)] for s in range(n)],
            "EMERG_CONTACT_MEMO01": memo("EMERG_CONTACT_MEMO", rng.random(n) < 0.05),
            "MEDICARE_NO": [f"0000 {s + 1:05d} 1" for s in range(n)],
            "DISABILITY": _yn(rng, disability),
            "DISABILITY_ID": [f"P{s:05d}" if d else "" for s, d in enumerate(disability.tolist())],
            "PSDREQ": _yn(rng, disability),
            "HEARING_IMPAIR": _yn(rng, disability & (rng.random(n) < 0.1)),
            "VISUAL_IMPAIR": _yn(rng, disability & (rng.random(n) < 0.1)),
            "SPEECH_IMPAIR": _yn(rng, disability & (rng.random(n) < 0.2)),
            "PHYSICAL_IMPAIR": _yn(rng, disability & (rng.random(n) < 0.2)),
            "MEDICAL_ALERT": _yn(rng, medical),
            "MEDICAL_CONDITION": _yn(rng, medical),
            "ACTIVITY_RESTRICTION": memo("ACTIVITY_RESTRICTION", medical & (rng.random(n) < 0.6)),
            "IMMUNISE_CERT_STATUS": [str(rng.choice(["C", "I", ""])) for _ in range(n)],
            "DISABILITY_ADJUSTMENT": _yn(rng, disability | (rng.random(n) < 0.05)),
            "DISABILITY_TYPE": [
                str(rng.choice(["C", "P", "S", "SE"])) if d else "" for d in disability.tolist()
            ],
            "DISABILITY_ADJUSTMENT_LEVEL": [
                str(int(rng.integers(1, 5))) if d else "" for d in disability.tolist()
            ],
            "DISABILITY_ADJUSTMENT_LW_DATE": [
                fmt(
                    dt.datetime.combine(
                        self._rand_date(dt.date(cur - 1, 2, 1), self.extract),
                        dt.time(
                            int(rng.integers(8, 18)),
                            int(rng.integers(0, 60)),
                            int(rng.integers(0, 60)),
                        ),
                    )
                )
                if d
                else ""
                for d in disability.tolist()
            ],
            "OK_TO_PUBLISH": _yn(rng, rng.random(n) < 0.85),
            "PUBLISH_PHOTO_MEDIA": _yn(rng, rng.random(n) < 0.8),
            "NEXT_SCHOOL": [
                f"{int(rng.integers(1000, 9000)):04d}"
                if st == "LEFT" and rng.random() < 0.6
                else ""
                for st in self.status
            ],
            "FULLTIME": ["Y"] * n,
            "SGB_TIME_FRACTION": ["1"] * n,
            "ACTUAL_TIME_FRACTION": ["1" if rng.random() < 0.97 else "0.6" for _ in range(n)],
            "PARENTAL_APPROVAL_NOTE": [
                memos["PARENTAL_APPROVAL_NOTE"][0] if st == "LEFT" and rng.random() < 0.5 else ""
                for st in self.status
            ],
            "ATTENDANCE_MEMO": memo("ATTENDANCE_MEMO", attendance_concern | (rng.random(n) < 0.02)),
            "ABS_HDAY_PERIOD": ["H"] * n,
            "INAC_ABS_CODE": inac_code,
            "LOTE_HOME_CODE": lote,
            "VSN": vsn,
            "LEGAL_LIMITATION": memo("LEGAL_LIMITATION", access & (rng.random(n) < 0.5)),
            "LISTED_IN_SOCS": _yn(rng, rng.random(n) < 0.01),
            "SUPPORT_GROUP": _yn(rng, disability | (self.profile_all() == 2)),
            "CHILD_PROTECTION": _yn(rng, child_protection),
            "ATTENDANCE_CONCERNS": _yn(rng, attendance_concern),
            "LEARNING_SUPPORT": _yn(rng, rng.random(n) < 0.08),
            "NEW_ARRIVALS_PROGRAM": _yn(rng, refugee & (rng.random(n) < 0.3)),
            "REFUGEE_BACKGROUND": _yn(rng, refugee),
            "VET": _yn(rng, np.array([u != "" for u in usi])),
            "USI": usi,
            "YOUNG_CARER": ["Y" if rng.random() < 0.02 else "" for _ in range(n)],
            "GENDER_DESC": ["Non-binary" if g == "X" else "" for g in self.gender],
            "FLO": _yn(rng, rng.random(n) < 0.005),
            "LW_DATE": lw_date,
            "LW_TIME": lw_time,
            "LW_USER": [self.office_key] * n,
        }
        order = sorted(range(n), key=lambda s: self.stkey[s])
        self.st_order = order
        sorted_data = {k: [v[s] for s in order] for k, v in data.items()}
        self.st_data = sorted_data
        return sorted_data, n

    def profile_all(self) -> np.ndarray:
        return np.asarray(self.profile)

    def delta_rows(self) -> list[list[str]]:
        """A few students changed since the full file (and one enrolled today)."""
        rng = self.rng
        data = self.st_data
        n = len(data["STKEY"])
        columns = eduhub_columns("ST")
        idx = {c: i for i, c in enumerate(columns)}
        rows = _table_rows("ST", data, n)
        candidates = [
            i
            for i in range(n)
            if data["STATUS"][i] == "ACTV"
            and data["HOME_GROUP"][i]
            and data["SURNAME"][i] not in {s[0] for s in _SPECIALS}
        ]
        pick = (
            [
                candidates[int(j)]
                for j in rng.choice(len(candidates), size=min(3, len(candidates)), replace=False)
            ]
            if candidates
            else []
        )
        out: list[list[str]] = []
        lw = format_eduhub_datetime(self.extract)
        for k, i in enumerate(pick):
            row = list(rows[i])
            if k == 0:  # moved to another home group of the same year level
                lvl = int(row[idx["SCHOOL_YEAR"]])
                others = [
                    g
                    for g in self.groups
                    if g.startswith(f"{lvl:02d}") and g != row[idx["HOME_GROUP"]]
                ]
                if others:
                    row[idx["HOME_GROUP"]] = others[0]
                else:
                    row[idx["ED_ALLOW"]] = "Y"
            elif k == 1:  # now leaving
                row[idx["STATUS"]] = "LVNG"
                row[idx["EXIT_DATE"]] = format_eduhub_datetime(self.extract + dt.timedelta(days=14))
            else:  # a status characteristic changed
                row[idx["MEDICAL_ALERT"]] = "Y"
                row[idx["MEDICAL_CONDITION"]] = "Y"
            row[idx["LW_DATE"]] = lw
            row[idx["LW_TIME"]] = str(1300 + 5 * k)
            row[idx["LW_USER"]] = self.office_key
            out.append(row)
        # A student enrolled after the full file was written (future start, no attendance yet).
        new = [""] * len(columns)
        existing = set(data["STKEY"])
        num = 1
        while f"NEW{num:04d}" in existing:
            num += 1
        entry = self.extract + dt.timedelta(days=7)
        values = {
            "STKEY": f"NEW{num:04d}",
            "SURNAME": "NEWMAN",
            "FIRST_NAME": "Harper",
            "GENDER": "F",
            "BIRTHDATE": format_eduhub_datetime(dt.date(self.cur_year - 13, 8, 9)),
            "ENTRY": format_eduhub_datetime(entry),
            "STATUS": "FUT",
            "SCHOOL_YEAR": "07",
            "FAMILY": data["FAMILY"][0],
            "RELATION_A01": "Mother",
            "KOORIE": "N",
            "CAMPUS": "1",
            "REGISTRATION": str(max(int(r) for r in data["REGISTRATION"]) + 5),
            "LW_DATE": lw,
            "LW_TIME": "1315",
            "LW_USER": self.office_key,
        }
        for k2, v in values.items():
            new[idx[k2]] = v
        out.append(new)
        return out

    # ---------------------------------------------------------------- attendance
    def simulate_attendance(self) -> None:
        """AM/PM codes for every student x school day (dense), with flags and extras."""
        rng = self.rng
        S = self.n_all
        D = self.n_days
        prof = self.profile_all()
        cur = self.cur_year

        # Enrolment mask.
        start_ord = np.array([e.toordinal() for e in self.entry], dtype=np.int64)
        end_ord = np.array([(e.toordinal() if e else 10**9) for e in self.exit], dtype=np.int64)
        level_ref = np.asarray(self.level, dtype=np.int64)
        ref_year = np.array([self.ref_year(s) for s in range(S)], dtype=np.int64)
        fut = np.array([st == "FUT" for st in self.status])
        lvl_at = level_ref[:, None] - (ref_year[:, None] - self.day_year[None, :])
        enrolled = (
            (self.day_ord[None, :] >= start_ord[:, None])
            & (self.day_ord[None, :] <= end_ord[:, None])
            & (lvl_at >= 7)
            & (lvl_at <= 12)
            & ~fut[:, None]
        )
        self.enrolled = enrolled
        self.lvl_at = lvl_at.astype(np.int8)

        # Per-student parameters.
        rate = np.where(
            prof == 0,
            np.clip(rng.normal(0.05, 0.012, size=S), 0.01, 0.085),
            np.where(prof == 1, rng.uniform(0.11, 0.19, size=S), rng.uniform(0.19, 0.34, size=S)),
        )
        # Well-attending students have shorter absences (fewer long runs), so their rates vary less.
        stay_scale = np.where(prof == 0, 0.6, np.where(prof == 1, 1.0, 1.1))
        unapp_share = np.where(
            prof == 0,
            rng.beta(1.2, 8.0, size=S),
            np.where(prof == 1, rng.uniform(0.25, 0.55, size=S), rng.uniform(0.45, 0.8, size=S)),
        )
        refuser = (prof == 2) & (rng.random(S) < 0.3)

        a_codes = np.array(list(_APPROVED_EPISODES), dtype=np.int64)
        a_w = np.array([v[0] for v in _APPROVED_EPISODES.values()])
        a_cum = np.cumsum(a_w / a_w.sum())
        u_codes = np.array(list(_UNAPPROVED_EPISODES), dtype=np.int64)
        u_w = np.array([v[0] for v in _UNAPPROVED_EPISODES.values()])
        u_cum = np.cumsum(u_w / u_w.sum())
        stay = np.zeros(1000)
        for episode_code, (_w, p) in {**_APPROVED_EPISODES, **_UNAPPROVED_EPISODES}.items():
            stay[episode_code] = p
        len_a = np.sum(
            (a_w / a_w.sum())[None, :]
            / (1 - np.minimum(stay[a_codes][None, :] * stay_scale[:, None], 0.95)),
            axis=1,
        )
        len_u = np.sum(
            (u_w / u_w.sum())[None, :]
            / (1 - np.minimum(stay[u_codes][None, :] * stay_scale[:, None], 0.95)),
            axis=1,
        )
        mean_len = (1 - unapp_share) * len_a + unapp_share * len_u
        p_start = rate / (mean_len * (1 - rate))

        code = np.zeros((S, D), dtype=np.int16)
        prev = np.zeros(S, dtype=np.int64)
        for d in range(D):
            r1 = rng.random(S)
            r2 = rng.random(S)
            r3 = rng.random(S)
            r4 = rng.random(S)
            cont = (prev > 0) & (r1 < stay[prev] * stay_scale)
            start = ~cont & (r2 < p_start)
            unapp = r3 < unapp_share
            new = np.where(
                unapp,
                u_codes[np.minimum(np.searchsorted(u_cum, r4), len(u_codes) - 1)],
                a_codes[np.minimum(np.searchsorted(a_cum, r4), len(a_codes) - 1)],
            )
            new = np.where(unapp & refuser & (r4 < 0.7), 208, new)
            today = np.where(cont, prev, np.where(start, new, 0))
            code[:, d] = today
            prev = today

        am = code.copy()
        pm = code.copy()
        # Partial days: one half absent, the other present.
        absent = code > 0
        half_p = np.where(
            code == 205, 0.6, np.where(np.isin(code, [200, 201, 300, 500, 501, 800]), 0.08, 0.0)
        )
        half = absent & (rng.random((S, D)) < half_p)
        am_only = half & (rng.random((S, D)) < 0.5)
        pm[am_only] = 0
        am[half & ~am_only] = 0
        expected = np.zeros((S, D), dtype=bool)

        # School events (curriculum codes: not absences).
        day_index = {d: i for i, d in enumerate(self.days)}
        for year in self.window_years:
            ydays = [d for d in victorian_school_days(year)]
            if not ydays:
                continue
            terms = _term_dates(year)

            def days_in(
                term: int,
                week: int,
                length: int,
                weekday: int = 0,
                terms: list[tuple[dt.date, dt.date]] = terms,
            ) -> list[int]:
                t0 = terms[term][0]
                first = t0 + dt.timedelta(days=7 * week + (weekday - t0.weekday()) % 7)
                out: list[int] = []
                day = first
                while len(out) < length and day <= terms[term][1]:
                    if day in day_index:
                        out.append(day_index[day])
                    if day.weekday() < 5 and day not in day_index and day > self.extract:
                        break
                    day += dt.timedelta(days=1)
                return out

            events: list[tuple[int, int, list[int], float]] = [
                (606, 7, days_in(0, 4, 3, 2), 0.92),  # year 7 camp
                (606, 9, days_in(1, 3, 3, 0), 0.88),  # year 9 camp
                (609, 10, days_in(1, 8, 5, 0), 0.85),  # year 10 work experience
                (611, 0, days_in(0, 6, 1, 3), 0.75),  # athletics carnival, all levels
            ]
            for lvl in range(7, 13):
                events.append((604, lvl, days_in(1 + lvl % 3, 2 + lvl % 4, 1, lvl % 5), 0.95))
                events.append((604, lvl, days_in(3, 1 + lvl % 3, 1, (lvl + 2) % 5), 0.95))
            for ev_code, lvl, didx, part in events:
                if not didx:
                    continue
                cols = np.array(didx, dtype=np.int64)
                sub_lvl = lvl_at[:, cols]
                mask = (sub_lvl == lvl) if lvl else np.ones_like(sub_lvl, dtype=bool)
                going = rng.random(S) < part
                mask &= going[:, None] & (code[:, cols] == 0)
                block_am = am[:, cols]
                block_pm = pm[:, cols]
                block_am[mask] = ev_code
                block_pm[mask] = ev_code
                am[:, cols] = block_am
                pm[:, cols] = block_pm
                block_exp = expected[:, cols]
                block_exp[mask] = True
                expected[:, cols] = block_exp
        # VET / TAFE one day a week for some senior students.
        vet = rng.random(S) < 0.15
        vet_day = (self.day_weekday == 2)[None, :] & (lvl_at >= 11) & vet[:, None] & (code == 0)
        am[vet_day] = 608
        pm[vet_day] = 608
        expected |= vet_day

        # Suspensions.
        n_cur = self.n
        weights = np.where(prof[:n_cur] == 0, 1.0, np.where(prof[:n_cur] == 1, 5.0, 8.0))
        n_susp = max(1, round(0.03 * n_cur))
        susp_students = rng.choice(
            n_cur, size=min(n_susp, n_cur), replace=False, p=weights / weights.sum()
        )
        for s in susp_students.tolist():
            days_s = np.flatnonzero(enrolled[s] & (self.day_year == cur))
            if days_s.size == 0:
                days_s = np.flatnonzero(enrolled[s])
            if days_s.size == 0:
                continue
            for _ in range(int(rng.integers(1, 3))):
                first = int(rng.integers(0, days_s.size))
                ext = rng.random() < 0.6
                length = int(rng.integers(1, 6)) if ext else 1
                sel = days_s[first : first + length]
                am[s, sel] = 401 if ext else 400
                pm[s, sel] = 401 if ext else 400
        self.suspended = susp_students

        # Inactive students: the last school days filled with INAC_ABS_CODE.
        for s in range(S):
            if self.status[s] == "INAC":
                days_s = np.flatnonzero(enrolled[s])
                k = int(rng.integers(5, 16))
                sel = days_s[-k:]
                am[s, sel] = _INAC_ABS_CODE
                pm[s, sel] = _INAC_ABS_CODE
                expected[s, sel] = True

        # Present = 100; late arrivals and early departures on present days.
        am[am == 0] = 100
        pm[pm == 0] = 100
        late_rate = np.where(prof == 0, 0.02, np.where(prof == 1, 0.04, 0.06))
        late = (am == 100) & (rng.random((S, D)) < late_rate[:, None])
        am[late] = 111
        early = (pm == 100) & (rng.random((S, D)) < 0.008)
        pm[early] = 112

        # Approval flags: 0 blank, 1 Y, 2 N.
        def approval(c: np.ndarray, u: np.ndarray) -> np.ndarray:
            flag = np.zeros(c.shape, dtype=np.int8)
            approved_type = np.isin(c, [200, 201, 205, 211, 800, 802, 803, 804, 806])
            flag[approved_type & (u < 0.92)] = 1
            flag[approved_type & (u >= 0.92) & (u < 0.95)] = 2
            unapproved = np.isin(c, _UNAPPROVED_CODES)
            flag[unapproved & (u < 0.85)] = 2
            refusal = c == 208
            flag[refusal & (u < 0.5)] = 1
            flag[refusal & (u >= 0.5)] = 2
            flag[np.isin(c, list(_CURRICULUM_CODES))] = 1
            return flag

        u_am = rng.random((S, D))
        u_pm = np.where(pm == am, u_am, rng.random((S, D)))
        am_f = approval(am, u_am)
        pm_f = approval(pm, u_pm)

        self.am, self.pm, self.am_f, self.pm_f = am, pm, am_f, pm_f
        self.expected = expected
        self.late = late
        self.early = early
        self.vet = vet

        # Third-party roll marking (SXABCONV): a block of days per window year for years 11-12.
        conv = np.zeros((S, D), dtype=bool)
        self.conv_conflict = np.zeros((S, D), dtype=bool)
        year_days = {y: np.flatnonzero(self.day_year == y) for y in self.window_years}
        self.conv_blocks: list[np.ndarray] = []
        for year, idxs in year_days.items():
            if idxs.size < 30:
                continue
            if year < cur:
                t3 = _term_dates(year)[2][0]
                first = int(np.searchsorted(self.day_ord, (t3 + dt.timedelta(days=7)).toordinal()))
            else:
                first = int(idxs[-1]) - 25
            block = np.arange(first, min(first + 15, int(idxs[-1]) + 1))
            block = block[self.day_year[block] == year]
            if block.size == 0:
                continue
            self.conv_blocks.append(block)
            conv[:, block] = enrolled[:, block] & (lvl_at[:, block] >= 11)
            after = int(block[-1]) + 1
            if after < D and self.day_year[after] == year:
                conflicted = enrolled[:, after] & (lvl_at[:, after] >= 11) & (rng.random(S) < 0.05)
                self.conv_conflict[:, after] = conflicted
        self.conv = conv & enrolled

        # Marked in SXAB? 0 = not marked (AM and PM separately).
        hg_cell = np.full((S, D), -1, dtype=np.int64)
        for yi, year in enumerate(self.window_years):
            cols = year_days[year]
            hg_cell[:, cols] = self.hg_by_year[:, yi][:, None]
        self.hg_cell = hg_cell
        n_groups = len(self.groups)
        unmarked_pair = rng.random((n_groups, D)) < 0.0015
        unmarked = unmarked_pair[np.clip(hg_cell, 0, None), np.arange(D)[None, :]] & (hg_cell >= 0)
        sx_am = np.where(self.conv | unmarked, 0, am).astype(np.int16)
        sx_pm = np.where(self.conv | unmarked, 0, pm).astype(np.int16)
        if D and self.days[-1] == self.extract:
            sx_pm[:, D - 1] = 0  # the extract ran at noon: PM roll not marked yet
        # Stale third-party rows only where SXAB is marked, so SXAB precedence decides them.
        self.conv_conflict &= (sx_am > 0) & (sx_pm > 0) & enrolled
        self.sx_am, self.sx_pm = sx_am, sx_pm

        # Comments on some absences; SMS notifications for unexplained ones.
        absent_any = ((sx_am >= 200) | (sx_pm >= 200)) & ~np.isin(sx_am, list(_CURRICULUM_CODES))
        n_comments = len(self.names["absence_comments"])
        has_comment = absent_any & (rng.random((S, D)) < 0.04)
        comment_idx = np.zeros((S, D), dtype=np.int16)
        chosen = np.flatnonzero(has_comment)  # cycle through the texts so each one appears
        comment_idx.flat[chosen] = (np.arange(chosen.size) % n_comments + 1).astype(np.int16)
        self.comment_idx = comment_idx
        unexpl = np.isin(sx_am, _UNAPPROVED_CODES)
        self.sms_am = unexpl & (rng.random((S, D)) < 0.8)
        self.sms_pm = np.isin(sx_pm, _UNAPPROVED_CODES) & ~unexpl & (rng.random((S, D)) < 0.8)
        self.contact = absent_any & (rng.random((S, D)) < 0.4)
        self.sickbay = (sx_pm == 112) & (rng.random((S, D)) < 0.3)
        explained_later = absent_any & (am_f == 1) & ~expected
        self.lw_offset = np.where(explained_later, rng.integers(1, 5, size=(S, D)), 0).astype(
            np.int16
        )
        self.late_idx = np.where(late, rng.integers(1, len(_LATE_TIMES), size=(S, D)), 0).astype(
            np.int8
        )
        self.early_idx = np.where(early, rng.integers(1, len(_EARLY_TIMES), size=(S, D)), 0).astype(
            np.int8
        )
        self.mark_time_idx = rng.integers(0, len(_MARK_TIMES), size=(S, D)).astype(np.int8)
        self.office_time_idx = rng.integers(0, len(_OFFICE_TIMES), size=(S, D)).astype(np.int8)

    # ---------------------------------------------------------------- SXAB writer
    def write_sxab(
        self, path: Path, report: Callable[[float, str], None], base_fraction: float, span: float
    ) -> int:
        S = self.n_all
        order = np.array(sorted(range(S), key=lambda s: self.stkey[s]), dtype=np.int64)
        mask_t = self.enrolled[order].T  # days x students (sorted by STKEY)
        d_idx, s_pos = np.nonzero(mask_t)
        s_idx = order[s_pos]
        n_rows = int(d_idx.size)

        am = self.sx_am[s_idx, d_idx].astype(np.int64)
        pm = self.sx_pm[s_idx, d_idx].astype(np.int64)
        am_f = np.where(am > 0, self.am_f[s_idx, d_idx], 0).astype(np.int64)
        pm_f = np.where(pm > 0, self.pm_f[s_idx, d_idx], 0).astype(np.int64)
        exp = self.expected[s_idx, d_idx] & (am > 0)
        late_i = np.where(am == 111, self.late_idx[s_idx, d_idx], 0).astype(np.int64)
        early_i = np.where(pm == 112, self.early_idx[s_idx, d_idx], 0).astype(np.int64)
        contact = self.contact[s_idx, d_idx].astype(np.int64)
        sickbay = self.sickbay[s_idx, d_idx].astype(np.int64)
        key = (
            am
            | (pm << 10)
            | (am_f << 20)
            | (pm_f << 22)
            | (exp.astype(np.int64) << 24)
            | ((exp & (pm > 0)).astype(np.int64) << 25)
            | (late_i << 26)
            | (early_i << 30)
            | (contact << 34)
            | (sickbay << 35)
        )
        uniq, inverse = np.unique(key, return_inverse=True)
        blocks = np.array([_sxab_block(int(k)) for k in uniq.tolist()], dtype=object)
        block_col = blocks[inverse]

        # Other columns as bytes (vocabularies taken by index).
        stkey_b = np.array([k.encode("ascii") for k in self.stkey], dtype=object)
        lvl_b = np.array(
            [f"{v:02d}".encode("ascii") if v >= 0 else b"" for v in range(13)], dtype=object
        )
        date_b = self.cal_bytes[self.day_cal_index]
        comments = [""] + list(self.names["absence_comments"])
        comment_b = np.array([_csv_field(c).encode("cp1252") for c in comments], dtype=object)
        teacher_b = np.array(
            [t.encode("ascii") for t in self.hg_teacher] + [self.office_key.encode("ascii")],
            dtype=object,
        )
        mark_b = np.array([t.encode("ascii") for t in _MARK_TIMES], dtype=object)
        am_mark_b = np.array([t.encode("ascii") for t in _AM_MARK_TIMES], dtype=object)
        office_b = np.array([t.encode("ascii") for t in _OFFICE_TIMES], dtype=object)

        lvl = self.lvl_at[s_idx, d_idx].astype(np.int64)
        hg = self.hg_cell[s_idx, d_idx]
        n_groups = len(self.groups)
        tid = 500_000 + d_idx.astype(np.int64) * n_groups + hg
        comment = self.comment_idx[s_idx, d_idx].astype(np.int64)
        offset = self.lw_offset[s_idx, d_idx].astype(np.int64)
        # Explained later: written on a following school day (never after the extract).
        lw_cal = self.day_cal_index[np.minimum(d_idx + offset, max(self.n_days - 1, 0))]
        amended = offset > 0
        lw_user = np.where(amended, n_groups, hg)
        mark_t = self.mark_time_idx[s_idx, d_idx].astype(np.int64)
        office_t = self.office_time_idx[s_idx, d_idx].astype(np.int64)
        pm_unmarked = pm == 0

        sms_am = self.sms_am[s_idx, d_idx]
        sms_pm = self.sms_pm[s_idx, d_idx]
        sms_rows = np.flatnonzero(sms_am | sms_pm)
        sms_col = np.full(n_rows, b",,,", dtype=object)
        next_key = 70_001
        for r in sms_rows.tolist():
            a = str(next_key) if sms_am[r] else ""
            next_key += 1 if sms_am[r] else 0
            p = str(next_key) if sms_pm[r] else ""
            next_key += 1 if sms_pm[r] else 0
            sms_col[r] = f"{a},{p},,".encode("ascii")

        columns = eduhub_columns("SXAB")
        assert len(columns) == 29 and columns[5] == "ABSENCE_COMMENT"
        with open(path, "wb") as handle:
            handle.write(",".join(columns).encode("ascii") + b"\r\n")
            for lo in range(0, n_rows, _SXAB_CHUNK):
                hi = min(lo + _SXAB_CHUNK, n_rows)
                sl = slice(lo, hi)
                lw_time = np.where(
                    amended[sl],
                    office_b[office_t[sl]],
                    np.where(
                        pm_unmarked[sl], am_mark_b[mark_t[sl] % len(am_mark_b)], mark_b[mark_t[sl]]
                    ),
                )
                cols = (
                    np.arange(1_000_001 + lo, 1_000_001 + hi).astype("S").tolist(),
                    tid[sl].astype("S").tolist(),
                    stkey_b[s_idx[sl]].tolist(),
                    lvl_b[lvl[sl]].tolist(),
                    date_b[d_idx[sl]].tolist(),
                    comment_b[comment[sl]].tolist(),
                    block_col[sl].tolist(),
                    sms_col[sl].tolist(),
                    self.cal_bytes[lw_cal[sl]].tolist(),
                    lw_time.tolist(),
                    teacher_b[lw_user[sl]].tolist(),
                )
                handle.write(b"\r\n".join(map(b",".join, zip(*cols, strict=True))))
                handle.write(b"\r\n")
                report(
                    base_fraction + span * hi / max(n_rows, 1), f"SXAB: {hi:,} of {n_rows:,} rows"
                )
        self.sxab_rows = n_rows
        return n_rows

    def sxabconv_rows(self) -> list[list[str]]:
        S = self.n_all
        order = np.array(sorted(range(S), key=lambda s: self.stkey[s]), dtype=np.int64)
        rows: list[list[str]] = []
        att = {0: "", 1: "P", 2: "A"}
        flag = {0: "", 1: "Y", 2: "N"}
        which = (self.conv | self.conv_conflict)[order].T
        d_idx, s_pos = np.nonzero(which)
        conv_id = 1
        for d, sp in zip(d_idx.tolist(), s_pos.tolist(), strict=True):
            s = int(order[sp])
            if self.conv_conflict[s, d]:
                am, pm, amf, pmf = 500, 500, 2, 2  # stale third-party value; SXAB (marked) wins
            else:
                am, pm = int(self.am[s, d]), int(self.pm[s, d])
                amf, pmf = int(self.am_f[s, d]), int(self.pm_f[s, d])
            day = self.days[d]
            lw_day = min(
                day + dt.timedelta(days=1 if not self.conv_conflict[s, d] else 0), self.extract
            )
            rows.append(
                [
                    str(900_000 + conv_id),
                    self.stkey[s],
                    f"{int(self.lvl_at[s, d]):02d}",
                    format_eduhub_datetime(day),
                    str(am),
                    att[_attended(am)],
                    flag[amf],
                    str(pm),
                    att[_attended(pm)],
                    flag[pmf],
                    format_eduhub_datetime(lw_day),
                    "1642",
                    "3rd party product",
                ]
            )
            conv_id += 1
        return rows

    # ---------------------------------------------------------------- achievement
    def stvdi_stvdo(self) -> tuple[list[list[str]], list[list[str]]]:
        rng = self.rng
        S = self.n_all
        prof = self.profile_all()
        ability = np.where(
            prof == 0,
            rng.normal(0.15, 0.5, size=S),
            np.where(prof == 1, rng.normal(-0.35, 0.55, size=S), rng.normal(-0.8, 0.6, size=S)),
        )
        strands = (
            ("ENG", "ENGREA", 0.03),
            ("ENG", "ENGWRI", 0.03),
            ("ENG", "ENGSPL", 0.08),
            ("MAT", "MATNUM", 0.03),
            ("MAT", "MATSTR", 0.04),
            ("HPE", "HPEPA", 0.05),
            ("HPE", "HPEKP", 0.05),
        )
        semesters: list[tuple[int, int, dt.date]] = []
        for year in range(self.cur_year - max(self.years, 1), self.cur_year + 1):
            for sem, report_day in ((1, dt.date(year, 6, 20)), (2, dt.date(year, 12, 1))):
                if report_day <= self.extract:
                    semesters.append((year, sem, report_day))
        order = sorted(range(S), key=lambda s: self.stkey[s])
        vdi: list[list[str]] = []
        vdo: list[list[str]] = []
        tid = 1
        tid_o = 1
        dnp_rate = np.where(prof == 2, 0.05, 0.006)
        for year, sem, report_day in semesters:
            lw = format_eduhub_datetime(report_day + dt.timedelta(days=int(rng.integers(0, 8))))
            teacher = self.teacher_keys[int(rng.integers(0, len(self.teacher_keys)))]
            for s in order:
                lvl = int(self.level[s]) - (self.ref_year(s) - year)
                if not 7 <= lvl <= 10:
                    continue
                if self.status[s] == "FUT" or self.entry[s] > report_day - dt.timedelta(days=40):
                    continue
                ex = self.exit[s]
                if ex is not None and ex < report_day:
                    continue
                expected = lvl - (0.5 if sem == 1 else 0.0)
                by_domain: dict[str, list[float]] = {}
                for domain, strand, na_rate in strands:
                    u = rng.random()
                    if u < na_rate:
                        score = "NA"
                    elif u < na_rate + dnp_rate[s]:
                        score = "DNP"
                    else:
                        value = expected + ability[s] + rng.normal(0.0, 0.3)
                        value = min(max(round(value * 2) / 2, 3.0), 11.0)
                        score = f"{value:.1f}"
                        by_domain.setdefault(domain, []).append(value - expected)
                    vdi.append(
                        [
                            str(tid),
                            self.stkey[s],
                            f"{lvl:02d}",
                            "1",
                            f"{year}.{sem}",
                            domain,
                            strand,
                            score,
                            self.school,
                            lw,
                            "1530",
                            teacher,
                        ]
                    )
                    tid += 1
                for domain, diffs in by_domain.items():
                    mean = sum(diffs) / len(diffs)
                    grade = (
                        "A"
                        if mean >= 1.0
                        else "B"
                        if mean >= 0.5
                        else "C"
                        if mean >= -0.25
                        else "D"
                        if mean >= -0.75
                        else "E"
                    )
                    vdo.append(
                        [
                            str(tid_o),
                            self.stkey[s],
                            f"{lvl:02d}",
                            "1",
                            f"{year}.{sem}",
                            domain,
                            "",
                            grade,
                            self.school,
                            lw,
                            "1530",
                            teacher,
                        ]
                    )
                    tid_o += 1
        return vdi, vdo


_LEVEL_WEIGHTS = (0.18, 0.18, 0.17, 0.17, 0.16, 0.14)

# Students always present (quirks): surname, first name, gender, background id.
_SPECIALS: tuple[tuple[str, str, str, str], ...] = (
    ("O\u2019BRIEN", "Zo\u00eb", "F", "anglo"),
    ("GARC\u00cdA", "Jos\u00e9", "M", "european"),
    ("KIM", "NA", "F", "chinese"),
    ("NULL", "Oliver", "M", "anglo"),
    ("D\u2019ANGELO", "Ren\u00e9e", "F", "greek_italian"),
)


def _attended(code: int) -> int:
    if code <= 0:
        return 0
    if code < 200 or code in _CURRICULUM_CODES:
        return 1
    return 2


_ATT = ("", "P", "A")
_FLAG = ("", "Y", "N")


def _sxab_block(key: int) -> bytes:
    """Fields AM_EXP_TYPE .. LAST_ACTION (16 columns) for one packed combination."""
    am = key & 0x3FF
    pm = (key >> 10) & 0x3FF
    am_f = (key >> 20) & 0x3
    pm_f = (key >> 22) & 0x3
    am_exp = (key >> 24) & 1
    pm_exp = (key >> 25) & 1
    late = (key >> 26) & 0xF
    early = (key >> 30) & 0xF
    contact = (key >> 34) & 1
    sickbay = (key >> 35) & 1
    fields = (
        str(am) if am_exp else "",
        _ATT[_attended(am)],
        str(am),
        _FLAG[am_f],
        _LATE_TIMES[late],
        "",
        str(pm) if pm_exp else "",
        _ATT[_attended(pm)],
        str(pm),
        _FLAG[pm_f],
        "",
        _EARLY_TIMES[early],
        "Y" if contact else "",
        "",
        "Y" if sickbay else "",
        "",
    )
    return ",".join(fields).encode("ascii")


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _noon_timestamp(day: dt.date, minutes: int = 0) -> float:
    return time.mktime((day.year, day.month, day.day, 12, minutes, 0, 0, 0, -1))


def generate_demo_extract(
    out_dir: str | os.PathLike[str],
    *,
    students: int = 600,
    school_number: str = "8123",
    extract_date: dt.date | None = None,
    seed: int = 2026,
    years: int = 1,
    xlsx: bool = False,
    progress: _ProgressLike | Callable[[float, str], None] | None = None,
) -> DemoSummary:
    """Write a synthetic eduHub folder for a secondary school (years 7-12).

    ``years=1`` gives attendance for this calendar year up to ``extract_date``; ``years=2``
    adds the previous full year (and last year's year 12 leavers). The same arguments give
    byte-identical files. ``progress`` is the project's progress protocol
    (``report(fraction, text)`` and ``cancelled()``) or a plain ``callable(fraction, text)``;
    on cancel the files written so far are removed and :class:`DemoGenerationCancelled` raised.
    """
    if students < 1:
        raise ValueError("students must be at least 1")
    if years < 1:
        raise ValueError("years must be at least 1")
    school_number = str(school_number).strip()
    if not school_number or not school_number.isalnum():
        raise ValueError("school_number must be letters or digits, e.g. '8123'")
    extract = extract_date or dt.date.today()
    if isinstance(extract, dt.datetime):
        extract = extract.date()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    report = _Progress(progress)
    try:
        return _generate(out, students, school_number, extract, seed, years, xlsx, report, written)
    except BaseException:
        for path in written:
            try:
                path.unlink()
            except OSError:
                logger.warning("Could not remove partial demo file %s", path.name)
        raise


def _generate(
    out: Path,
    students: int,
    school: str,
    extract: dt.date,
    seed: int,
    years: int,
    xlsx: bool,
    report: _Progress,
    written: list[Path],
) -> DemoSummary:
    report(0.0, "Building the demo school")
    demo = _DemoSchool(students, school, extract, seed, years)
    demo.build_staff()
    demo.build_students()
    files: dict[str, str] = {}
    counts: dict[str, int] = {}
    xlsx_files: dict[str, str] = {}
    xlsx_dir = out / "xlsx"
    small: dict[str, list[list[str]]] = {}

    def emit(table: str, rows: list[list[str]], key: str | None = None) -> None:
        key = key or table
        name = f"{table}_{school}.csv" if key == table else f"{table}_{school}_D.csv"
        path = out / name
        written.append(path)
        counts[key] = _write_csv(path, table, rows)
        files[key] = name
        if xlsx:
            small[key] = rows

    # Lookups first (SF needs the home-group teachers, DF/ST need each other).
    kcy, n = demo.kcy_table()
    emit("KCY", _table_rows("KCY", kcy, n))
    kgh, n = demo.kgh_table()
    emit("KGH", _table_rows("KGH", kgh, n))
    kgc, n = demo.kgc_table()
    sf, n_sf = demo.sf_table()
    emit("SF", _table_rows("SF", sf, n_sf))
    emit("KGC", _table_rows("KGC", kgc, n))
    kct, n = demo.kct_table()
    emit("KCT", _table_rows("KCT", kct, n))
    report(0.05, "Families and students")
    df, n = demo.df_table()
    emit("DF", _table_rows("DF", df, n))
    st, n = demo.st_table()
    emit("ST", _table_rows("ST", st, n))
    report(0.10, "Simulating attendance")
    demo.simulate_attendance()
    report(0.25, "Writing SXAB")
    sxab_path = out / f"SXAB_{school}.csv"
    written.append(sxab_path)
    counts["SXAB"] = demo.write_sxab(sxab_path, report, 0.25, 0.55)
    files["SXAB"] = sxab_path.name
    report(0.82, "Writing SXABCONV")
    emit("SXABCONV", demo.sxabconv_rows())
    report(0.88, "Writing strand results")
    vdi, vdo = demo.stvdi_stvdo()
    emit("STVDI", vdi)
    emit("STVDO", vdo)
    delta = demo.delta_rows()
    emit("ST", delta, key="ST_D")

    if xlsx:
        report(0.92, "Writing XLSX copies")
        xlsx_dir.mkdir(exist_ok=True)
        if counts["SXAB"] > _XLSX_MAX_ROWS:
            raise ValueError(
                f"SXAB has {counts['SXAB']:,} rows, too many for one sheet; use xlsx=True only for small schools"
            )
        small["SXAB"] = _read_csv_rows(sxab_path)[1:]
        for key in [*DEMO_TABLES, "ST_D"]:
            table = "ST" if key == "ST_D" else key
            name = files[key].removesuffix(".csv") + ".xlsx"
            path = xlsx_dir / name
            written.append(path)
            _write_xlsx(path, table, small[key])
            xlsx_files[key] = f"xlsx/{name}"

    # eduHub writes the extract at one time; the delta a little later.
    base_ts = _noon_timestamp(extract)
    for key, name in files.items():
        ts = _noon_timestamp(extract, 15) if key == "ST_D" else base_ts
        os.utime(out / name, (ts, ts))
    for key, name in xlsx_files.items():
        ts = _noon_timestamp(extract, 15) if key == "ST_D" else base_ts
        os.utime(out / name, (ts, ts))
    report(1.0, "Demo extract written")
    ordered = {k: files[k] for k in [*DEMO_TABLES, "ST_D"]}
    return DemoSummary(
        out_dir=out,
        school_number=school,
        extract_date=extract,
        files=ordered,
        row_counts={k: counts[k] for k in ordered},
        students=students,
        years=years,
        seed=seed,
        xlsx_files=xlsx_files,
    )


# --------------------------------------------------------------------------------------
# VASS
# --------------------------------------------------------------------------------------

_VASS_HEADER = (
    "VCAA Student Number",
    "External Student ID",
    "Family Name",
    "First Name",
    "Unit Code",
    "Result",
    "Year",
)
_VASS_STUDIES = ("EN", "MM", "GM", "BI", "CH", "PH", "PY", "LS", "BM", "HH", "PE", "VC", "HI", "LI")


def _students_from(source: Any) -> list[dict[str, str]]:
    wanted = ("STKEY", "SURNAME", "FIRST_NAME", "SCHOOL_YEAR", "VCE_ID", "STATUS", "EXIT_DATE")
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a project dependency
        pd = None
    if pd is not None and isinstance(source, pd.DataFrame):
        frame = source
        cols = {
            k: (
                frame[k].astype(object).where(frame[k].notna(), "").astype(str).tolist()
                if k in frame.columns
                else [""] * len(frame)
            )
            for k in wanted
        }
        return [{k: cols[k][i] for k in wanted} for i in range(len(frame))]
    path = Path(source)
    if path.is_dir():
        candidates = sorted(p for p in path.glob("ST_*.csv") if not p.stem.endswith("_D"))
        if not candidates:
            raise FileNotFoundError(f"No ST_<school>.csv in {path}")
        path = candidates[0]
    rows = _read_csv_rows(path)
    header = rows[0]
    pos = {name: i for i, name in enumerate(header)}
    return [{k: (row[pos[k]] if k in pos else "") for k in wanted} for row in rows[1:]]


def generate_vass_file(
    path: str | os.PathLike[str],
    students_frame_or_extract_dir: Any,
    *,
    header: bool = True,
    delimiter: str = "|",
    year: int | None = None,
    seed: int = 2026,
    encoding: str = "cp1252",
) -> int:
    """Write a VASS-style unit-results file (S/N) for the year 11-12 students; return its row count.

    Columns: VCAA student number, external student id (= STKEY), family name, first name,
    unit code (e.g. ``EN031`` = English unit 3), result ``S``/``N``, year. Year 11 students get
    units 1-2, year 12 students units 3-4 this year and units 1-2 last year. A student without
    a VCE_ID in ST gets a VCAA number here, so only the STKEY matches; two rows belong to a
    student who is not in ST at all (unmatched). The layout is a reasoned guess: real VASS result
    files were not available (see ``cases21_formats.md`` section 9).
    """
    records = _students_from(students_frame_or_extract_dir)
    this_year = year or dt.date.today().year
    rng = np.random.default_rng(seed)
    out_rows: list[list[str]] = []
    used = {r["VCE_ID"] for r in records if r["VCE_ID"]}

    def new_vcaa(yy: int) -> str:
        while True:
            cand = f"{yy % 100:02d}{int(rng.integers(0, 1_000_000)):06d}{chr(ord('A') + int(rng.integers(0, 26)))}"
            if cand not in used:
                used.add(cand)
                return cand

    for rec in sorted(records, key=lambda r: r["STKEY"]):
        if rec["SCHOOL_YEAR"] not in ("11", "12"):
            continue
        if rec["STATUS"] not in ("ACTV", "LVNG", "INAC", "LEFT"):
            continue
        if rec["STATUS"] == "LEFT" and not rec["EXIT_DATE"].split(" ")[0].endswith(str(this_year)):
            continue
        vcaa = rec["VCE_ID"] or new_vcaa(this_year)
        struggling = rng.random() < 0.08
        studies = rng.choice(_VASS_STUDIES[1:], size=5, replace=False).tolist()
        studies = ["EN", *studies]
        units: list[tuple[str, int]] = []
        if rec["SCHOOL_YEAR"] == "11":
            units += [(f"{st}0{u}1", this_year) for st in studies for u in (1, 2)]
        else:
            units += [(f"{st}0{u}1", this_year - 1) for st in studies for u in (1, 2)]
            units += [(f"{st}0{u}1", this_year) for st in studies for u in (3, 4)]
        for unit, unit_year in units:
            fail = rng.random() < (0.25 if struggling else 0.03)
            out_rows.append(
                [
                    vcaa,
                    rec["STKEY"],
                    rec["SURNAME"],
                    rec["FIRST_NAME"],
                    unit,
                    "N" if fail else "S",
                    str(unit_year),
                ]
            )
    # A student enrolled elsewhere who takes a unit here: not in ST, so unmatched.
    stranger = new_vcaa(this_year - 1)
    for unit in ("EN011", "EN021"):
        out_rows.append([stranger, "", "NOTINST", "Visiting", unit, "S", str(this_year)])

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if header:
        writer.writerow(_VASS_HEADER)
    writer.writerows(out_rows)
    Path(path).write_bytes(buffer.getvalue().encode(encoding))
    return len(out_rows)


# --------------------------------------------------------------------------------------
# Command line (for measuring; the app's own command is ``mapping-tool demo-data``)
# --------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="Write a synthetic CASES21 eduHub extract.")
    parser.add_argument("--out", required=True)
    parser.add_argument("--students", type=int, default=600)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--school", default="8123")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--extract-date", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--xlsx", action="store_true")
    parser.add_argument("--vass", default=None, help="also write a VASS results file here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    summary = generate_demo_extract(
        args.out,
        students=args.students,
        school_number=args.school,
        extract_date=args.extract_date,
        seed=args.seed,
        years=args.years,
        xlsx=args.xlsx,
    )
    elapsed = time.perf_counter() - started
    for key, name in summary.files.items():
        size = (summary.out_dir / name).stat().st_size
        print(f"{name:24} {summary.row_counts[key]:>10,} rows {size / 1e6:>9.1f} MB")
    print(f"generated in {elapsed:.1f} s")
    if args.vass:
        rows = generate_vass_file(
            args.vass, summary.out_dir, year=summary.extract_date.year, seed=args.seed
        )
        print(f"VASS file: {rows} rows")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
