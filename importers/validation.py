"""Validation of an eduHub extract: blocking errors and the data-quality report (warnings).

Every check is vectorised over the whole table; only the findings that are listed (at most
``MAX_LISTED`` per code and file) are turned into sentences. Messages carry file, line,
column, student key and short code values only: never a name or any non-whitelisted value.

Error codes (block the import):
  missing_file, missing_column, not_a_table_file, unsafe_workbook, unreadable_file,
  missing_key, duplicate_key (ST, DF, KCY, KGC, KCT, SXAB, SXABCONV), bad_date,
  bad_absence_code, unknown_student, unknown_year_level, unknown_home_group,
  malformed_vcaa_number; hostile or damaged files: workbook_too_large, duplicate_column,
  wrong_field_count, value_too_long, negative_absence_code, dates_wrong_order.
Warning codes (data-quality report):
  undecodable_text, dates_repaired, result_year_level_not_in_kcy, missing_optional_file, duplicate_source, workbook_ignored, duplicate_key (SF, KGH, KCC,
  STVDI, STVDO), bad_optional_date, bad_number, no_home_group, no_year_level,
  former_student_unknown_year_level, former_student_unknown_home_group, unknown_house,
  unknown_family, invalid_occupation_group, occupation_unknown, no_birth_date,
  unknown_status, future_date, no_attendance_data, no_attendance, attendance_stale,
  unknown_absence_code, absence_rows_only, missing_strand_results, bad_year_semester,
  invalid_rating.
VASS files (importers.vass) add: malformed_vcaa_number, missing_key, missing_column (errors)
and unmatched_student (warning).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from importers._files import TableRead
from importers._tables import LoadedTable, emit_rows, key_ids, place
from importers.findings import Finding, FindingCollector, Level
from importers.whitelist import (
    ACTIVE_STATUSES,
    FORMER_STATUSES,
    KNOWN_STATUSES,
    OCCUPATION_GROUPS,
    SHORT_RANGE,
    STRAND_DIMENSIONS,
    Field,
    column_limit,
)

__all__ = [
    "ERROR_CODES",
    "ExtractContext",
    "Finding",
    "STALE_ATTENDANCE_DAYS",
    "WARNING_CODES",
    "check_extract",
    "check_table",
    "is_vcaa_number",
]

ERROR_CODES: frozenset[str] = frozenset(
    {
        "missing_file",
        "missing_column",
        "not_a_table_file",
        "workbook_too_large",
        "duplicate_column",
        "wrong_field_count",
        "value_too_long",
        "negative_absence_code",
        "dates_wrong_order",
        "unsafe_workbook",
        "unreadable_file",
        "missing_key",
        "duplicate_key",
        "bad_date",
        "bad_absence_code",
        "unknown_student",
        "unknown_year_level",
        "unknown_home_group",
        "malformed_vcaa_number",
    }
)
WARNING_CODES: frozenset[str] = frozenset(
    {
        "missing_optional_file",
        "undecodable_text",
        "dates_repaired",
        "result_year_level_not_in_kcy",
        "duplicate_source",
        "workbook_ignored",
        "duplicate_key",
        "missing_key",
        "bad_optional_date",
        "bad_number",
        "no_home_group",
        "no_year_level",
        "former_student_unknown_year_level",
        "former_student_unknown_home_group",
        "unknown_house",
        "unknown_family",
        "invalid_occupation_group",
        "occupation_unknown",
        "no_birth_date",
        "unknown_status",
        "future_date",
        "no_attendance_data",
        "no_attendance",
        "attendance_stale",
        "unknown_absence_code",
        "absence_rows_only",
        "missing_strand_results",
        "bad_year_semester",
        "invalid_rating",
        "unmatched_student",
    }
)

#: Attendance that ends more than this many days before the extract date is stale.
STALE_ATTENDANCE_DAYS = 14

_VCAA = re.compile(r"^\d{8}[A-Z]$")
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_.\-/]{1,12}$")
_SAFE_DATE = re.compile(r"^[0-9/\-:. T]{1,25}(?:[AaPp]\.?[Mm]\.?)?$")
_SAFE_NUMBER = re.compile(r"^(?:[0-9.,\-+ ]{1,12}|[0-9A-Za-z.+\-]{1,4})$")
_YEAR_SEMESTER = re.compile(r"^\d{4}\.[12]$")

_LABELS: dict[str, str] = {
    "STKEY": "student key",
    "SKEY": "student key",
    "DFKEY": "family key",
    "SFKEY": "staff key",
    "KCYKEY": "year level code",
    "KGCKEY": "home group code",
    "KGHKEY": "house code",
    "KCTKEY": "absence type code",
    "KCCKEY": "calendar date",
    "BIRTHDATE": "birth date",
    "ENTRY": "entry date",
    "EXIT_DATE": "exit date",
    "ABSENCE_DATE": "absence date",
    "NUM_EQVT": "numeric year level (NUM_EQVT)",
    "AM_ACT_TYPE": "morning absence code",
    "PM_ACT_TYPE": "afternoon absence code",
    "AM_TYPE": "morning absence code",
    "PM_TYPE": "afternoon absence code",
    "YEAR_SEMESTER": "year and semester",
    "VDOMAIN": "curriculum area",
    "VDIMENSION": "strand",
}


def is_vcaa_number(value: str) -> bool:
    """8 digits and a check letter, e.g. 12345678A."""
    return bool(_VCAA.match(value))


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _label(source: str) -> str:
    return _LABELS.get(source, source)


def _code(value: object) -> str:
    """A short code fit for a message, or a neutral phrase when it does not look like one."""
    text = str(value)
    return f"'{text}'" if _SAFE_CODE.match(text) else "(a value that is not a code)"


def _shown(value: str, pattern: re.Pattern[str]) -> str:
    return f" '{value}'" if pattern.match(value) else ""


def _present_mask(table: LoadedTable, source: str) -> np.ndarray:
    """Rows whose file has the column (findings about a missing column are made once)."""
    ok = np.array([source in r.header for r in table.reads], dtype=bool)
    if ok.all():
        return np.ones(len(table.data), dtype=bool)
    return ok[table.src()]


def _blank(values: pd.Series) -> np.ndarray:
    """Empty text per row; for a categorical column, decided once per category."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        empty = np.asarray(values.cat.categories.astype(str) == "", dtype=bool)
        codes = values.cat.codes.to_numpy()
        return np.where(codes >= 0, empty[np.maximum(codes, 0)] if len(empty) else False, True)
    return np.asarray(values, dtype=object) == ""


def _per_value(values: object, fn: Callable[[str], object], dtype: object = object) -> np.ndarray:
    """``fn`` of each row's text, computed once per distinct value (a results table repeats a
    few semesters, scores and dimensions over every row)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=False)
    mapped = np.array([fn(v if isinstance(v, str) else str(v)) for v in uniques], dtype=dtype)
    return mapped[codes] if len(mapped) else np.zeros(len(codes), dtype=dtype)


def _isin(values: np.ndarray, known: Iterable[str]) -> np.ndarray:
    """Hash-based membership for text (numpy's isin sorts object arrays)."""
    return pd.Series(values, dtype=object).isin(list(known)).to_numpy(dtype=bool)


# ---------------------------------------------------------------------------------------------
# One table at a time


def check_table(table: LoadedTable, collector: FindingCollector) -> None:
    """Columns, keys and values of one table; drops rows that cannot be used.

    Rows without their key, with an unreadable key date, and all but the last of repeated
    keys are removed from ``table`` after being reported.
    """
    if not table.loaded:
        return
    spec = table.spec
    for read in table.reads:
        header = set(read.header)
        for f in spec.fields:
            if f.required and f.source not in header:
                collector.add(
                    "error",
                    "missing_column",
                    read.name,
                    1,
                    f.source,
                    f"{read.name} has no {f.source} column ({_label(f.source)}), which the import needs.",
                )
    for read in table.reads:
        _check_shape(read, spec.sources, collector)
    for f in spec.fields:
        _check_values(table, f, collector)
        _check_text(table, f, collector)
    _check_keys(table, collector)


def _check_shape(read: TableRead, wanted: Iterable[str], collector: FindingCollector) -> None:
    """Repeated header names, rows wider or narrower than the header, date order."""
    seen: set[str] = set()
    for name in read.header:
        if name and name in seen:
            collector.add(
                "error",
                "duplicate_column",
                read.name,
                1,
                name,
                f"{place(read, 1)}: the header names the column {_code(name)} more than once, "
                "so it is not clear which one holds the data.",
            )
        seen.add(name)
    if read.bad_widths:
        width = read.header_width
        column_names = list(read.header)

        def message(line: int, fields: int) -> tuple[str | None, str]:
            if fields > width:
                after = column_names[width - 1] if width else None
                return after, (
                    f"{place(read, line)}: the row has {fields:,} "
                    f"{'fields' if read.source_kind == 'csv' else 'cells'}, more than the "
                    f"{width:,} columns of the header (after column {_code(after)})."
                )
            missing = column_names[fields] if fields < len(column_names) else None
            return missing, (
                f"{place(read, line)}: the row has {fields:,} fields, fewer than the {width:,} "
                f"columns of the header (column {_code(missing)} and those after it are "
                "missing)."
            )

        for line, fields in read.bad_widths:
            column, text = message(line, fields)
            collector.add("error", "wrong_field_count", read.name, line, column, text)
        extra = read.bad_width_count - len(read.bad_widths)
        if extra > 0:
            collector.add_rows(
                "error", "wrong_field_count", read.name, [], None, lambda i: "", total=extra
            )
    for column in read.mixed_dates:
        collector.add(
            "error",
            "dates_wrong_order",
            read.name,
            None,
            column,
            f"{place(read, None)}: the {_label(column)} column mixes real dates with "
            "day-first text dates (such as 25/02/2026), so a spreadsheet application read "
            "these dates month-first and some are wrong; import the CSV files from eduHub "
            "instead.",
        )
    for column in read.repaired_dates:
        collector.add(
            "warning",
            "dates_repaired",
            read.name,
            None,
            column,
            f"{place(read, None)}: a spreadsheet application had read the {_label(column)} "
            "column month-first (5/02/2026 became 2 May); day and month were swapped back, "
            "which restores the dates exactly. Importing the CSV files avoids this.",
        )


def _check_text(table: LoadedTable, f: Field, collector: FindingCollector) -> None:
    """Values longer than eduHub allows (error); bytes Windows-1252 cannot read (warning)."""
    long = table.too_long.get(f.source)
    if long is not None and len(long[0]):
        positions, lengths = long
        mask = np.zeros(len(table.data), dtype=bool)
        mask[positions] = True
        by_pos = dict(zip(positions.tolist(), lengths.tolist(), strict=True))
        limit = column_limit(table.code, f.source)[1]

        def long_message(where: str, pos: int) -> str:
            return (
                f"{where}: the {_label(f.source)} is {by_pos[pos]:,} characters long; eduHub "
                f"allows at most {limit:,} in {f.source}."
            )

        emit_rows(
            collector,
            table,
            mask,
            level="error",
            code="value_too_long",
            column=f.source,
            message=long_message,
        )
    bad = table.undecodable.get(f.source)
    if bad is not None and len(bad):
        cp1252 = np.array([r.encoding == "cp1252" for r in table.reads], dtype=bool)
        mask = np.zeros(len(table.data), dtype=bool)
        mask[bad] = True
        mask &= cp1252[table.src()]
        emit_rows(
            collector,
            table,
            mask,
            level="warning",
            code="undecodable_text",
            column=f.source,
            message=lambda where, pos: (
                f"{where}: the {_label(f.source)} holds a byte that means nothing in "
                "Windows-1252; it was kept as the replacement mark \ufffd. Check the value in "
                "CASES21."
            ),
        )


def _check_values(table: LoadedTable, f: Field, collector: FindingCollector) -> None:
    parsed = table.parsed.get(f.target)
    if parsed is None:
        return
    if f.kind == "absence":
        high = SHORT_RANGE[1]
        values = np.asarray(parsed.values, dtype=np.int64)
        wrong = ((values < 0) | (values > high)) & ~parsed.bad & _present_mask(table, f.source)
        label = _label(f.source)
        emit_rows(
            collector,
            table,
            wrong,
            level="error",
            code="negative_absence_code",
            column=f.source,
            message=lambda where, pos: (
                f"{where}: the {label} {_code(parsed.raw(pos))} is not an eduHub absence code "
                f"(codes are whole numbers from 0 to {high:,})."
            ),
        )
    mask = parsed.bad & _present_mask(table, f.source)
    if not mask.any():
        return
    label = _label(f.source)
    if f.kind == "date":
        level: Level = "error" if f.required else "warning"
        code = "bad_date" if f.required else "bad_optional_date"
        tail = "" if f.required else " It is left blank."

        def message(where: str, pos: int) -> str:
            shown = _shown(parsed.raw(pos), _SAFE_DATE)
            return f"{where}: the {label}{shown} is not a date.{tail}"

    elif f.kind == "absence":
        level, code = "error", "bad_absence_code"

        def message(where: str, pos: int) -> str:
            shown = _shown(parsed.raw(pos), _SAFE_NUMBER)
            return f"{where}: the {label}{shown} is not a number."

    else:
        level, code = "warning", "bad_number"

        def message(where: str, pos: int) -> str:
            shown = _shown(parsed.raw(pos), _SAFE_NUMBER)
            return f"{where}: the {label}{shown} is not a whole number; it is left blank."

    emit_rows(collector, table, mask, level=level, code=code, column=f.source, message=message)


def _no_key_message(label: str) -> Callable[[str, int], str]:
    def message(where: str, pos: int) -> str:
        return f"{where}: the row has no {label}; it is left out."

    return message


def _value_message(template: str, values: np.ndarray) -> Callable[[str, int], str]:
    """``template`` with {where} and {value} (a short code, or a neutral phrase)."""

    def message(where: str, pos: int) -> str:
        return template.format(where=where, value=_code(values[pos]))

    return message


def _check_keys(table: LoadedTable, collector: FindingCollector) -> None:
    spec = table.spec
    level: Level = spec.duplicate_level
    drop = np.zeros(len(table.data), dtype=bool)
    for source in spec.key:
        f = spec.field(source)
        if not f.required:
            continue
        values = table.data[f.target]
        if f.kind == "date":
            blank = np.isnat(values.to_numpy(dtype="datetime64[ns]"))
            parsed = table.parsed[f.target]
            drop |= blank
            blank = blank & ~parsed.bad  # unreadable ones are reported as bad dates
        else:
            blank = _blank(values)
            drop |= blank
        blank = blank & _present_mask(table, source)
        emit_rows(
            collector,
            table,
            blank,
            level=level,
            code="missing_key",
            column=source,
            message=_no_key_message(_label(source)),
        )
    if drop.any():
        table.take(np.flatnonzero(~drop))
    if len(table.data) == 0:
        return
    targets = [spec.target(k) for k in spec.key]
    ids = key_ids(table.data, targets)
    dup = pd.Series(ids).duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    data = table.data

    def describe(pos: int) -> str:
        parts = []
        for source, target in zip(spec.key, targets, strict=True):
            value = data[target].iat[pos]
            if isinstance(value, (pd.Timestamp, np.datetime64)):
                text = pd.Timestamp(value).strftime("%d/%m/%Y") if not pd.isna(value) else "no date"
            else:
                text = _code(value) if str(value) else "(blank)"
            parts.append(f"{_label(source)} {text}")
        return parts[0] + (" with " + " and ".join(parts[1:]) if len(parts) > 1 else "")

    tail = "; the last one is used." if level == "warning" else "."
    emit_rows(
        collector,
        table,
        dup,
        level=level,
        code="duplicate_key",
        column=spec.key[0],
        message=lambda where, pos: (
            f"{where}: the {describe(pos)} appears on more than one row of the {spec.title} file{tail}"
        ),
    )
    keep_last = ~pd.Series(ids).duplicated(keep="last").to_numpy()
    table.take(np.flatnonzero(keep_last))


# ---------------------------------------------------------------------------------------------
# Across tables


@dataclass(frozen=True, eq=False)
class ExtractContext:
    tables: dict[str, LoadedTable]
    students: pd.DataFrame
    attendance: pd.DataFrame
    extract_date: dt.date


def check_extract(ctx: ExtractContext, collector: FindingCollector) -> None:
    """Cross-table errors and the data-quality warnings."""
    _check_students(ctx, collector)
    _check_families(ctx, collector)
    for code in ("SXAB", "SXABCONV", "STVDI", "STVDO"):
        _check_unknown_students(ctx, code, collector)
    _check_attendance(ctx, collector)
    _check_results(ctx, collector)
    _check_result_year_levels(ctx, collector)


def _check_result_year_levels(ctx: ExtractContext, collector: FindingCollector) -> None:
    """Results from a year level KCY does not list: compared using the level's own number."""
    kcy = ctx.tables["KCY"]
    if not kcy.loaded:
        return
    known = set(kcy.data["year_level"].astype(str))
    for code in ("STVDI",):
        table = ctx.tables[code]
        if not table.loaded or len(table.data) == 0:
            continue
        years = table.data["year_level"].astype(str)
        unlisted = ~years.isin(known) & (years != "")
        count = int(unlisted.sum())
        if not count:
            continue
        codes = sorted(set(years[unlisted]))
        numeric = [c for c in codes if c.isdigit() or c.upper() in ("P", "F")]
        how = (
            "compared using the year level's own number (Prep/Foundation as 0)"
            if numeric == codes
            else "compared using the year level's own number where it is one, otherwise not "
            "compared"
        )
        shown = ", ".join(_code(c) for c in codes[:10])
        collector.add(
            "warning",
            "result_year_level_not_in_kcy",
            table.reads[0].name,
            None,
            "SCHOOL_YEAR",
            f"{table.reads[0].name}: {_count(count, 'result')} "
            f"{'is' if count == 1 else 'are'} from a year level the year levels file "
            f"(KCY) does not list ({shown}); {'it is' if count == 1 else 'they are'} {how}.",
        )


def _st(ctx: ExtractContext) -> LoadedTable:
    return ctx.tables["ST"]


def _active(ctx: ExtractContext) -> np.ndarray:
    return ctx.students["status"].isin(ACTIVE_STATUSES).to_numpy()


def _student(ctx: ExtractContext, pos: int) -> str:
    key = str(ctx.students["student_key"].iat[pos])
    return f"student {key}" if _SAFE_CODE.match(key) else "a student with an unusual key"


def _check_students(ctx: ExtractContext, collector: FindingCollector) -> None:
    st = _st(ctx)
    if not st.loaded or len(ctx.students) == 0:
        return
    s = ctx.students
    active = _active(ctx)
    status = s["status"].astype(str).to_numpy(dtype=object)
    former = _isin(status, FORMER_STATUSES)
    year = s["year_level"].astype(str).to_numpy(dtype=object)
    group = s["home_group"].astype(str).to_numpy(dtype=object)

    kcy = ctx.tables["KCY"]
    if kcy.loaded:
        known_years = set(kcy.data["year_level"].astype(str))
        unknown = (year != "") & ~_isin(year, known_years)

        def year_message(where: str, pos: int) -> str:
            value = year[pos]
            hint = ""
            if value.isdigit() and "0" + value in known_years:
                hint = f" (Excel may have dropped a leading zero: KCY has '0{value}')"
            return (
                f"{where}: {_student(ctx, pos)} is in year level {_code(value)}, which is not in "
                f"the year-level table ({kcy.reads[0].name}){hint}."
            )

        emit_rows(
            collector,
            st,
            unknown & ~former,
            level="error",
            code="unknown_year_level",
            column="SCHOOL_YEAR",
            message=year_message,
        )
        emit_rows(
            collector,
            st,
            unknown & former,
            level="warning",
            code="former_student_unknown_year_level",
            column="SCHOOL_YEAR",
            message=year_message,
        )
    kgc = ctx.tables["KGC"]
    if kgc.loaded:
        known_groups = set(kgc.data["home_group"].astype(str))
        unknown = (group != "") & ~_isin(group, known_groups)

        def group_message(where: str, pos: int) -> str:
            return (
                f"{where}: {_student(ctx, pos)} is in home group {_code(group[pos])}, which is not "
                f"in the home-group table ({kgc.reads[0].name})."
            )

        emit_rows(
            collector,
            st,
            unknown & ~former,
            level="error",
            code="unknown_home_group",
            column="HOME_GROUP",
            message=group_message,
        )
        emit_rows(
            collector,
            st,
            unknown & former,
            level="warning",
            code="former_student_unknown_home_group",
            column="HOME_GROUP",
            message=group_message,
        )
    if st.has("HOME_GROUP"):
        emit_rows(
            collector,
            st,
            active & (group == ""),
            level="warning",
            code="no_home_group",
            column="HOME_GROUP",
            message=lambda where, pos: (
                f"{where}: {_student(ctx, pos)} is active but has no home group."
            ),
        )
    if st.has("SCHOOL_YEAR"):
        emit_rows(
            collector,
            st,
            active & (year == ""),
            level="warning",
            code="no_year_level",
            column="SCHOOL_YEAR",
            message=lambda where, pos: (
                f"{where}: {_student(ctx, pos)} is active but has no year level."
            ),
        )
    if st.has("STATUS"):
        emit_rows(
            collector,
            st,
            ~_isin(status, KNOWN_STATUSES),
            level="warning",
            code="unknown_status",
            column="STATUS",
            message=lambda where, pos: (
                f"{where}: {_student(ctx, pos)} has the status {_code(status[pos]) if status[pos] else '(blank)'}, "
                "which is not one of ACTV, INAC, FUT, LVNG, LEFT or DEL."
            ),
        )
    vcaa = s["vcaa_number"].astype(str).to_numpy(dtype=object)
    bad_vcaa = (vcaa != "") & ~s["vcaa_number"].astype(str).str.match(_VCAA.pattern).to_numpy(
        dtype=bool
    )
    emit_rows(
        collector,
        st,
        bad_vcaa,
        level="error",
        code="malformed_vcaa_number",
        column="VCE_ID",
        message=lambda where, pos: (
            f"{where}: {_student(ctx, pos)}'s VCAA student number {_code(vcaa[pos])} is not "
            "8 digits followed by a check letter (like 12345678A)."
        ),
    )
    birth = s["birth_date"].to_numpy(dtype="datetime64[ns]")
    today = np.datetime64(ctx.extract_date, "ns")
    if st.has("BIRTHDATE"):
        no_birth = active & np.isnat(birth) & ~st.parsed["birth_date"].bad
        emit_rows(
            collector,
            st,
            no_birth,
            level="warning",
            code="no_birth_date",
            column="BIRTHDATE",
            message=lambda where, pos: (
                f"{where}: {_student(ctx, pos)} is active but has no birth date."
            ),
        )
    future = ~np.isnat(birth) & (birth > today)
    emit_rows(
        collector,
        st,
        future,
        level="warning",
        code="future_date",
        column="BIRTHDATE",
        message=lambda where, pos: (
            f"{where}: {_student(ctx, pos)}'s birth date is after the extract date "
            f"({ctx.extract_date:%d/%m/%Y})."
        ),
    )
    kgh = ctx.tables["KGH"]
    if kgh.loaded:
        house = s["house"].astype(str).to_numpy(dtype=object)
        unknown_house = (house != "") & ~_isin(house, set(kgh.data["house"].astype(str)))
        emit_rows(
            collector,
            st,
            unknown_house & active,
            level="warning",
            code="unknown_house",
            column="HOUSE",
            message=lambda where, pos: (
                f"{where}: {_student(ctx, pos)}'s house {_code(house[pos])} is not in "
                f"{kgh.reads[0].name}."
            ),
        )


def _check_families(ctx: ExtractContext, collector: FindingCollector) -> None:
    st = _st(ctx)
    df = ctx.tables["DF"]
    s = ctx.students
    if not st.loaded or len(s) == 0:
        return
    active = _active(ctx)
    family = s["family_key"].astype(str).to_numpy(dtype=object)
    if df.loaded:
        known = set(df.data["_family_key"].astype(str))
        unknown = (family != "") & ~_isin(family, known)
        emit_rows(
            collector,
            st,
            unknown & active,
            level="warning",
            code="unknown_family",
            column="FAMILY",
            message=lambda where, pos: (
                f"{where}: {_student(ctx, pos)}'s family {_code(family[pos])} is not in "
                f"{df.reads[0].name}, so the family occupation group is U."
            ),
        )
        for target, source in (
            ("_occupation_a", "OCCUP_STATUS_A"),
            ("_occupation_b", "OCCUP_STATUS_B"),
        ):
            values = df.data[target].astype(str).to_numpy(dtype=object)
            invalid = (values != "") & ~_isin(values, OCCUPATION_GROUPS)
            emit_rows(
                collector,
                df,
                invalid & _present_mask(df, source),
                level="warning",
                code="invalid_occupation_group",
                column=source,
                message=_value_message(
                    "{where}: the occupation group {value} is not one of A, B, C, D, N or U; "
                    "it is treated as unknown.",
                    values,
                ),
            )
    group = s["family_occupation_group"].astype(str).to_numpy(dtype=object)
    unknown_group = active & ((group == "U") | (group == ""))
    count = int(unknown_group.sum())
    if count:
        collector.add(
            "warning",
            "occupation_unknown",
            st.reads[0].name,
            None,
            "FAMILY",
            f"{count:,} of {_count(int(active.sum()), 'active student')} "
            f"{'has' if count == 1 else 'have'} family occupation group U (unknown or not "
            "stated). U counts as group A for funding: enter the parents' occupation groups "
            "in CASES21.",
            capped=False,
        )

        def reason(pos: int) -> str:
            if family[pos] == "":
                return "no family is recorded"
            if df.loaded and family[pos] not in set_df:
                return "the family is not in the family table"
            return "both parents' occupation groups are blank or U"

        set_df = set(df.data["_family_key"].astype(str)) if df.loaded else set()
        emit_rows(
            collector,
            st,
            unknown_group,
            level="warning",
            code="occupation_unknown",
            column="FAMILY",
            message=lambda where, pos: (
                f"{where}: {_student(ctx, pos)}'s family occupation group is U: {reason(pos)}."
            ),
        )


def _student_ids(table: LoadedTable, students: pd.Series) -> np.ndarray:
    """Index into ``students`` per row of ``table`` (-1 when the student is unknown)."""
    sk = table.data["student_key"]
    if not isinstance(sk.dtype, pd.CategoricalDtype):
        sk = sk.astype("category")
    lookup = pd.Index(students.astype(str)).get_indexer(sk.cat.categories.astype(str))
    codes = sk.cat.codes.to_numpy()
    if len(lookup) == 0:
        return np.full(len(codes), -1, dtype=np.int64)
    return np.where(codes >= 0, lookup[np.maximum(codes, 0)], -1)


def _check_unknown_students(ctx: ExtractContext, code: str, collector: FindingCollector) -> None:
    table = ctx.tables[code]
    st = _st(ctx)
    if not table.loaded or not st.loaded or len(table.data) == 0:
        return
    sid = _student_ids(table, ctx.students["student_key"])
    unknown = sid < 0
    if not unknown.any():
        return
    keys = table.data["student_key"]
    what = "attendance" if code.startswith("SXAB") else "result"
    emit_rows(
        collector,
        table,
        unknown,
        level="error",
        code="unknown_student",
        column=table.spec.key[0],
        message=lambda where, pos: (
            f"{where}: this {what} row is for student {_code(keys.iat[pos])}, who is not in "
            f"{st.reads[0].name}."
        ),
    )


def _first_line(table: LoadedTable, mask: np.ndarray) -> tuple[str, int | None]:
    pos = np.flatnonzero(mask)
    if len(pos) == 0:
        return table.reads[0].name, None
    first = int(pos[0])
    read = table.reads[int(table.src()[first])]
    return read.name, int(read.lines.lines(np.array([table.rec()[first]]))[0])


def _check_attendance(ctx: ExtractContext, collector: FindingCollector) -> None:
    sxab, conv, kct = ctx.tables["SXAB"], ctx.tables["SXABCONV"], ctx.tables["KCT"]
    att = ctx.attendance
    today = np.datetime64(ctx.extract_date, "ns")
    date_text = f"{ctx.extract_date:%d/%m/%Y}"

    # absence codes the absence-type table lacks, per file and code
    if kct.loaded:
        known = set(int(c) for c in kct.data["code"].to_numpy())
        for table in (sxab, conv):
            if not table.loaded or len(table.data) == 0:
                continue
            am = table.data["am_code"].to_numpy()
            pm = table.data["pm_code"].to_numpy()
            used = pd.unique(np.concatenate([am, pm]))
            for value in sorted(int(v) for v in used if v > 0 and int(v) not in known):
                mask = (am == value) | (pm == value)
                half_days = int((am == value).sum() + (pm == value).sum())
                name, line = _first_line(table, mask)
                first = f", first on line {line}" if line else ""
                collector.add(
                    "warning",
                    "unknown_absence_code",
                    name,
                    line,
                    table.spec.fields[3].source,
                    f"{name} uses absence code {value} on {_count(half_days, 'half-day')}{first}, "
                    f"but the absence-type table ({kct.reads[0].name}) has no such code.",
                )

    # dates after the extract date
    for table in (sxab, conv):
        if not table.loaded or len(table.data) == 0:
            continue
        dates = table.data["date"].to_numpy(dtype="datetime64[ns]")
        marked = (table.data["am_code"].to_numpy() > 0) | (table.data["pm_code"].to_numpy() > 0)
        future = ~np.isnat(dates) & (dates > today) & marked
        count = int(future.sum())
        if count:
            name, line = _first_line(table, future)
            collector.add(
                "warning",
                "future_date",
                name,
                line,
                "ABSENCE_DATE",
                f"{name} has {_count(count, 'marked row')} dated after the extract date "
                f"({date_text}), the first on line {line}.",
            )

    if not sxab.loaded:
        return
    if len(att) == 0:
        collector.add(
            "warning",
            "no_attendance_data",
            sxab.reads[0].name,
            None,
            None,
            "The extract holds no attendance rows at all: attendance cannot be shown.",
        )
        return
    am = att["am_code"].to_numpy()
    pm = att["pm_code"].to_numpy()
    marked = (am > 0) | (pm > 0)
    dates = att["date"].to_numpy(dtype="datetime64[ns]")
    last = dates[marked].max() if marked.any() else None
    if last is not None and (today - last) > np.timedelta64(STALE_ATTENDANCE_DAYS, "D"):
        last_text = pd.Timestamp(last).strftime("%d/%m/%Y")
        collector.add(
            "warning",
            "attendance_stale",
            sxab.reads[0].name,
            None,
            "ABSENCE_DATE",
            f"The attendance data ends on {last_text}, more than {STALE_ATTENDANCE_DAYS} days "
            f"before the extract date ({date_text}). If rolls are marked in another program, "
            "upload them into CASES21 before exporting the extract again.",
        )
    present = ((am > 0) & (am < 200)) | ((pm > 0) & (pm < 200))
    if not present.any():
        collector.add(
            "warning",
            "absence_rows_only",
            sxab.reads[0].name,
            None,
            None,
            "The attendance files hold absence rows only (no present half-days, codes 1 to 199), "
            "so marked half-days cannot be counted from SXAB alone: they are taken from the "
            "school calendar (KCC), or from school weekdays when there is no calendar.",
        )

    # active students with no attendance rows (skipping those who started after the last row)
    st = _st(ctx)
    s = ctx.students
    codes = att["student_key"].cat.codes.to_numpy()
    counts = np.bincount(codes[codes >= 0], minlength=len(s))
    entry = s["entry_date"].to_numpy(dtype="datetime64[ns]")
    started = np.isnat(entry) | (entry <= (last if last is not None else dates.max()))
    missing = _active(ctx) & (counts[: len(s)] == 0) & started
    emit_rows(
        collector,
        st,
        missing,
        level="warning",
        code="no_attendance",
        column="STKEY",
        message=lambda where, pos: (
            f"{where}: {_student(ctx, pos)} is active but has no attendance rows."
        ),
    )


def _check_results(ctx: ExtractContext, collector: FindingCollector) -> None:
    stvdi, stvdo = ctx.tables["STVDI"], ctx.tables["STVDO"]
    for table in (stvdi, stvdo):
        if not table.loaded or len(table.data) == 0:
            continue
        values = table.data["year_semester"].astype(str).to_numpy(dtype=object)
        bad = ~_per_value(values, lambda v: _YEAR_SEMESTER.match(v) is not None, bool)
        emit_rows(
            collector,
            table,
            bad,
            level="warning",
            code="bad_year_semester",
            column="YEAR_SEMESTER",
            message=_value_message(
                "{where}: the year and semester {value} is not like 2026.1.", values
            ),
        )
    if stvdo.loaded and len(stvdo.data):
        rating = _per_value(stvdo.data["rating"].astype(str), str.upper)
        invalid = ~_isin(rating, ["A", "B", "C", "D", "E", "", "NA"])
        emit_rows(
            collector,
            stvdo,
            invalid,
            level="warning",
            code="invalid_rating",
            column="SCORE",
            message=lambda where, pos: (
                f"{where}: the rating {_code(rating[pos])} is not one of A to E."
            ),
        )

    st, kcy = _st(ctx), ctx.tables["KCY"]
    s = ctx.students
    if not (st.loaded and stvdi.loaded and kcy.loaded) or len(s) == 0:
        return
    numeric = dict(
        zip(
            kcy.data["year_level"].astype(str),
            kcy.data["numeric"].to_numpy(dtype=object),
            strict=True,
        )
    )
    levels = np.array([numeric.get(y) for y in s["year_level"].astype(str)], dtype=object)
    in_range = np.array([v is not None and 1 <= v <= 10 for v in levels], dtype=bool)
    expected = _active(ctx) & in_range
    if not expected.any():
        return
    year = ctx.extract_date.year
    d = stvdi.data
    this_year, last_year = str(year), str(year - 1)
    recent = _per_value(
        d["year_semester"].astype(str), lambda v: v.startswith(this_year) or v.startswith(last_year), bool
    )
    scored = _per_value(d["score"].astype(str), lambda v: v.upper() not in ("", "NA"), bool)
    dims = _per_value(d["dimension"].astype(str), str.upper)
    usable = recent & scored & _isin(dims, STRAND_DIMENSIONS)
    sid = _student_ids(stvdi, s["student_key"])
    have = np.zeros((len(s), len(STRAND_DIMENSIONS)), dtype=bool)
    dim_index = pd.Index(STRAND_DIMENSIONS).get_indexer(dims)
    ok = usable & (sid >= 0) & (dim_index >= 0)
    have[sid[ok], dim_index[ok]] = True
    missing = expected & ~have.all(axis=1)
    count = int(missing.sum())
    if not count:
        return
    collector.add(
        "warning",
        "missing_strand_results",
        stvdi.reads[0].name,
        None,
        "VDIMENSION",
        f"{_count(count, 'active student')} in years 1 to 10 "
        f"{'has' if count == 1 else 'have'} no {', '.join(STRAND_DIMENSIONS)} result (or only "
        f"NA) in {year - 1} or {year}.",
        capped=False,
    )

    def message(where: str, pos: int) -> str:
        lacking = [dim for j, dim in enumerate(STRAND_DIMENSIONS) if not have[pos, j]]
        return (
            f"{where}: {_student(ctx, pos)} has no {', '.join(lacking)} result in "
            f"{year - 1} or {year}."
        )

    emit_rows(
        collector,
        st,
        missing,
        level="warning",
        code="missing_strand_results",
        column="VDIMENSION",
        message=message,
    )
