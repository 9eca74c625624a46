"""Reading a CASES21 eduHub extract folder into the tool's canonical frames.

``read_cases21`` finds the school's table files (``<TABLE>_<school>.csv``, their ``_D`` delta
files, or the same tables as workbooks), reads only the whitelisted columns, overlays newer
deltas by key, validates, and returns a frozen :class:`Cases21Extract`. Validation problems
come back as findings; only a folder with nothing readable raises :class:`ExtractError`.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from importers import validation
from importers._files import (
    FileFacts,
    RowLineMap,
    TableRead,
    open_workbook,
    read_csv_table,
    read_sheet,
    scan_file,
)
from importers._tables import LoadedTable, normalise, overlay
from importers.errors import ExtractError, FileRefused, ValidationFailed
from importers.findings import Finding, FindingCollector
from importers.progress import Progress, Stepper
from importers.sources import SourceFile
from importers.whitelist import (
    OCCUPATION_GROUPS,
    OUTPUT_COLUMNS,
    TABLE_ORDER,
    TABLES,
    TableSpec,
)

__all__ = ["Cases21Extract", "EDUHUB_TABLES", "read_cases21"]

logger = logging.getLogger(__name__)

#: Every table eduHub supplies (2023 list): used to recognise a school's files in a folder.
EDUHUB_TABLES: frozenset[str] = frozenset(
    """AKC AR CR CRF DF DFF DFVT DR GL GLBUDG GLF KAB KAD KCC KCD KCI KCM KCT KCV KCY KDI KDO KGC
    KGD KGG KGH KGL KGLINIT KGLPROG KGLSUB KGLT KGO KGR KGST KGT KNATT KSA KSC KSF PPD SA SAM SC
    SCI SCL SF SG SKGS SM SMC ST STAR STMA STNAT STPO STPS STSUP STVDI STVDO SU SXAB SXABCONV SXAS
    TC TCAT TCTB TCTD TCTQ TCTR TE TEC TH THTN THTQ TT TTTG TXAS TXHG UM""".split()
)

_TABLE_FILE = re.compile(
    r"^(?P<table>[A-Za-z0-9]+)_(?P<site>[A-Za-z0-9]+?)(?P<delta>_[Dd])?\.(?P<ext>csv|xlsx)$"
)
_SITE_IN_NAME = re.compile(r"(\d{3,})\D*$")
_SHEET_NAME = re.compile(r"^(?P<table>[A-Za-z0-9]+)(?:_(?P<site>[A-Za-z0-9]+))?$")


@dataclass(frozen=True, eq=False)
class Cases21Extract:
    """A validated CASES21 extract, reduced to the whitelist (see importers.whitelist)."""

    school_number: str
    extract_date: dt.date
    students: pd.DataFrame
    year_levels: pd.DataFrame
    home_groups: pd.DataFrame
    houses: pd.DataFrame
    absence_types: pd.DataFrame
    attendance: pd.DataFrame
    strand_results: pd.DataFrame
    domain_results: pd.DataFrame
    files: tuple[SourceFile, ...]
    findings: tuple[Finding, ...]
    #: KCC school calendar (date, day_type, term); empty when KCC is not in the folder
    calendar: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=list(OUTPUT_COLUMNS["calendar"]))
    )

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")

    @property
    def ok(self) -> bool:
        """True when nothing blocks the import (warnings allowed)."""
        return not self.errors

    def raise_for_errors(self) -> None:
        if self.errors:
            raise ValidationFailed(self.findings)


# ---------------------------------------------------------------------------------------------
# Finding the files


@dataclass(frozen=True)
class _Source:
    path: Path
    kind: Literal["csv", "xlsx", "sheet"]
    sheet: str | None = None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def mtime(self) -> float:
        return self.path.stat().st_mtime


@dataclass
class _Plan:
    site: str
    base: dict[str, _Source] = field(default_factory=dict)
    delta: dict[str, _Source] = field(default_factory=dict)


def _scan(folder: Path) -> tuple[dict[str, dict[tuple[str, bool], list[Path]]], list[Path]]:
    """Named table files by site -> (table, is_delta) -> paths; and other workbooks."""
    by_site: dict[str, dict[tuple[str, bool], list[Path]]] = {}
    other_workbooks: list[Path] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith(("~$", ".")):
            continue
        m = _TABLE_FILE.match(path.name)
        table = m.group("table").upper() if m else ""
        if m and table in EDUHUB_TABLES:
            site = m.group("site").upper()
            key = (table, m.group("delta") is not None)
            by_site.setdefault(site, {}).setdefault(key, []).append(path)
        elif path.suffix.lower() == ".xlsx":
            other_workbooks.append(path)
    return by_site, other_workbooks


def _workbook_sheets(path: Path, collector: FindingCollector) -> dict[str, str]:
    """Table code -> sheet name, for a workbook holding one sheet per table."""
    try:
        wb = open_workbook(path, path.name)
    except FileRefused as exc:
        collector.add("warning", "workbook_ignored", path.name, None, None, exc.message)
        return {}
    try:
        sheets: dict[str, str] = {}
        for title in wb.sheetnames:
            m = _SHEET_NAME.match(title.strip())
            if m and m.group("table").upper() in TABLES and m.group("table").upper() not in sheets:
                sheets[m.group("table").upper()] = title
        return sheets
    finally:
        wb.close()


def _plan(folder: Path, school_number: str | None, collector: FindingCollector) -> _Plan:
    by_site, workbooks = _scan(folder)
    wanted = str(school_number).strip().upper() if school_number is not None else None
    if wanted is not None:
        site = wanted
        if by_site and site not in by_site:
            found = ", ".join(sorted(by_site))
            raise ExtractError(
                f"The folder {folder} has no eduHub files for school {site}; it holds files for {found}."
            )
    elif len(by_site) > 1:
        found = ", ".join(sorted(by_site))
        raise ExtractError(
            f"The folder {folder} holds eduHub files of more than one school ({found}). "
            "Choose the school number to import."
        )
    elif len(by_site) == 1:
        site = next(iter(by_site))
    else:
        site = ""
    plan = _Plan(site)
    named = by_site.get(site, {})
    for (table, is_delta), paths in named.items():
        if table not in TABLES:
            continue
        csvs = [p for p in paths if p.suffix.lower() == ".csv"]
        xlsxs = [p for p in paths if p.suffix.lower() == ".xlsx"]
        chosen = _Source(csvs[0], "csv") if csvs else _Source(xlsxs[0], "xlsx")
        for p in paths:
            if p != chosen.path:
                collector.add(
                    "warning",
                    "duplicate_source",
                    p.name,
                    None,
                    None,
                    f"{p.name} was not read: {chosen.name} holds the same table.",
                )
        (plan.delta if is_delta else plan.base)[table] = chosen
    missing = [t for t in TABLES if t not in plan.base]
    if missing and workbooks:
        candidates: list[tuple[Path, str, dict[str, str]]] = []
        for path in workbooks:
            m = _SITE_IN_NAME.search(path.stem)
            wb_site = m.group(1).upper() if m else ""
            if plan.site and wb_site and wb_site != plan.site:
                continue
            sheets = _workbook_sheets(path, collector)
            if sheets:
                candidates.append((path, wb_site, sheets))
        if not plan.site and candidates:
            sites = {wb_site for _, wb_site, _ in candidates}
            if "" in sites:
                unnamed = next(p for p, wb_site, _ in candidates if not wb_site)
                raise ExtractError(
                    f"The workbook {unnamed.name} does not say which school it belongs to. "
                    "Name it with the school number (for example eduHub_8123.xlsx) or "
                    "choose the school number."
                )
            if len(sites) > 1:
                raise ExtractError(
                    f"The folder {folder} holds eduHub workbooks of more than one school "
                    f"({', '.join(sorted(sites))}). Choose the school number to import."
                )
            plan.site = sites.pop()
        for path, _, sheets in candidates:
            for table, sheet in sheets.items():
                if table not in plan.base:
                    plan.base[table] = _Source(path, "sheet", sheet)
    if not plan.base:
        if not plan.site:
            raise ExtractError(
                f"No CASES21 eduHub files were found in {folder}. The folder should hold files "
                "such as ST_8123.csv and SXAB_8123.csv."
            )
        raise ExtractError(
            f"No eduHub tables the tool uses were found in {folder} for school {plan.site}."
        )
    return plan


# ---------------------------------------------------------------------------------------------
# Reading


#: Columns of the big tables whose text is re-read by value (dates, codes, Y/N), so they can
#: be read as categoricals; keys, year levels and scores always stay exact text.
_BY_VALUE: dict[str, frozenset[str]] = {
    code: frozenset(
        f.source for f in spec.fields if spec.large and f.kind in ("date", "absence", "approval")
    )
    for code, spec in TABLES.items()
}


class _Reader:
    def __init__(self, executor: ThreadPoolExecutor, stepper: Stepper) -> None:
        self._executor = executor
        self._stepper = stepper
        self._workbooks: dict[Path, Any] = {}
        self._facts: dict[Path, FileFacts] = {}

    def close(self) -> None:
        for wb in self._workbooks.values():
            wb.close()
        self._workbooks.clear()

    def read(self, source: _Source, spec: TableSpec) -> TableRead:
        if source.kind == "csv":
            return read_csv_table(
                source.path,
                spec.code,
                spec.sources,
                categorical=_BY_VALUE[spec.code],
                executor=self._executor,
            )
        path = source.path
        if path not in self._workbooks:
            self._workbooks[path] = open_workbook(path, path.name)  # zip pre-check first
            self._facts[path] = scan_file(path)
        wb = self._workbooks[path]
        if source.sheet is not None:
            ws = wb[source.sheet]
        else:
            titles = {t.strip().upper(): t for t in wb.sheetnames}
            ws = wb[titles[spec.code]] if spec.code in titles else wb.worksheets[0]
        kinds = {f.source: f.kind for f in spec.fields}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # openpyxl's notes on unknown parts
            got = read_sheet(
                ws,
                name=path.name,
                table=spec.code,
                wanted=spec.sources,
                kinds=kinds,
                categorical=spec.large,
                check=self._stepper.check,
            )
        return TableRead(
            name=path.name,
            path=path,
            table=spec.code,
            frame=got.frame,
            header=got.header,
            encoding="xlsx",
            facts=self._facts[path],
            lines=RowLineMap(got.rows),
            source_kind="xlsx",
            sheet=source.sheet,
            header_width=got.header_width,
            bad_widths=tuple(got.bad_widths),
            bad_width_count=got.bad_width_count,
            repaired_dates=tuple(got.repaired_dates),
            mixed_dates=tuple(got.mixed_dates),
        )


def _expected_name(table: str, site: str) -> str:
    return f"{table}_{site}.csv" if site else f"{table}_<school>.csv"


def _from_xlsx(table: LoadedTable) -> np.ndarray | None:
    """Rows of ``table`` read from a workbook (None when none were)."""
    xlsx_src = [i for i, r in enumerate(table.reads) if r.source_kind == "xlsx"]
    if not xlsx_src:
        return None
    return np.isin(table.src(), xlsx_src)


def _set_column(table: LoadedTable, target: str, values: np.ndarray) -> None:
    new = pd.Series(values, dtype="str")
    table.data[target] = new.astype("category") if table.spec.large else new


def _canonical(values: np.ndarray, rows: np.ndarray, fix: dict[str, str]) -> np.ndarray | None:
    """``values`` with ``fix`` applied to the rows in ``rows``; None when nothing changes."""
    if not fix:
        return None
    hits = rows & pd.Series(values, dtype=object).isin(list(fix)).to_numpy(dtype=bool)
    if not hits.any():
        return None
    out = values.copy()
    out[hits] = np.array([fix[v] for v in out[hits]], dtype=object)
    return out


def _digit_codes(known: Iterable[str]) -> dict[int, list[str]]:
    by_number: dict[int, list[str]] = {}
    for code in known:
        if code.isdigit():
            by_number.setdefault(int(code), []).append(code)
    return by_number


def _canonical_codes(tables: dict[str, LoadedTable]) -> None:
    """Codes a spreadsheet application turned into numbers get their canonical text back.

    Workbook cells lose leading zeros (year level 07 becomes 7, a home group 010 becomes 10).
    A year level is matched to the extract's own KCY codes by its number, otherwise written
    with two digits as CASES21 writes year levels (KCY's own codes from a workbook too); a home
    group is matched to KGC's codes. Only rows read from a workbook are touched.
    """
    kcy = tables.get("KCY")
    if kcy is not None and kcy.loaded:
        rows = _from_xlsx(kcy)
        if rows is not None:
            values = kcy.data["year_level"].astype(str).to_numpy(dtype=object)
            short = {v: v.zfill(2) for v in set(values[rows]) if v.isdigit() and len(v) < 2}
            fixed = _canonical(values, rows, short)
            if fixed is not None:
                _set_column(kcy, "year_level", fixed)
    year_codes = (
        set(kcy.data["year_level"].astype(str)) if kcy is not None and kcy.loaded else set()
    )
    by_number = _digit_codes(year_codes)
    kgc = tables.get("KGC")
    group_codes = (
        set(kgc.data["home_group"].astype(str)) if kgc is not None and kgc.loaded else set()
    )
    groups_by_number = _digit_codes(group_codes)
    for table in tables.values():
        rows = _from_xlsx(table)
        if rows is None or not len(table.data):
            continue
        for f in table.spec.fields:
            if f.kind == "year_level" and table.code != "KCY":
                known, numbers, pad = year_codes, by_number, True
            elif f.target == "home_group" and table.code != "KGC":
                known, numbers, pad = group_codes, groups_by_number, False
            else:
                continue
            values = table.data[f.target].astype(str).to_numpy(dtype=object)
            fix: dict[str, str] = {}
            for v in set(values[rows]):
                if not v.isdigit() or v in known:
                    continue
                matches = numbers.get(int(v), [])
                if len(matches) == 1:
                    fix[v] = matches[0]
                elif pad and len(v) < 2:
                    fix[v] = v.zfill(2)
            fixed = _canonical(values, rows, fix)
            if fixed is not None:
                _set_column(table, f.target, fixed)


def _load_table(
    spec: TableSpec,
    plan: _Plan,
    reader: _Reader,
    collector: FindingCollector,
) -> LoadedTable:
    base = plan.base.get(spec.code)
    if base is None:
        if spec.need == "required":
            collector.add(
                "error",
                "missing_file",
                _expected_name(spec.code, plan.site),
                None,
                None,
                f"{_expected_name(spec.code, plan.site)} ({spec.title}) is not in the folder; "
                "the import needs it. Export it from CASES21 eduHub again.",
            )
        elif spec.need == "expected":
            collector.add(
                "warning",
                "missing_optional_file",
                _expected_name(spec.code, plan.site),
                None,
                None,
                f"{_expected_name(spec.code, plan.site)} ({spec.title}) is not in the folder; "
                "the import goes ahead without it.",
            )
        return normalise(spec, [])
    reads: list[TableRead] = []
    try:
        reads.append(reader.read(base, spec))
    except FileRefused as exc:
        collector.add("error", exc.code, base.name, exc.row, None, exc.message)
        return normalise(spec, [])
    delta = plan.delta.get(spec.code)
    if delta is not None:
        if delta.mtime > base.mtime:
            try:
                reads.append(reader.read(delta, spec))
            except FileRefused as exc:
                collector.add("error", exc.code, delta.name, exc.row, None, exc.message)
        else:
            logger.info("Delta file %s ignored: it is not newer than %s", delta.name, base.name)
    table = normalise(spec, reads)
    if len(reads) > 1:
        replaced = overlay(table, 1)
        logger.info(
            "Delta %s applied to %s: %d rows replaced, %d rows added",
            reads[1].name,
            reads[0].name,
            replaced,
            reads[1].rows - replaced,
        )
    return table


# ---------------------------------------------------------------------------------------------
# Canonical frames


def _str(values: Iterable[object] | np.ndarray | pd.Series) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=object), dtype="str")


def _staff_names(tables: dict[str, LoadedTable], keys: pd.Series) -> pd.Series:
    """SF key -> "First Surname" ("" when blank or unknown)."""
    sf = tables["SF"].data
    names = {
        str(k): f"{first} {surname}".strip()
        for k, first, surname in zip(
            sf["_staff_key"], sf["_first_name"], sf["_surname"], strict=True
        )
    }
    return _str([names.get(str(k), "") if str(k) else "" for k in keys])


def _occupation(values: pd.Series) -> np.ndarray:
    v = values.astype(str).to_numpy(dtype=object)
    return np.where(np.isin(v, list(OCCUPATION_GROUPS)), v, "")


def _students(tables: dict[str, LoadedTable]) -> pd.DataFrame:
    st = tables["ST"].data
    df = tables["DF"].data
    family = st["family_key"].astype(str)
    idx = pd.Index(df["_family_key"].astype(str)).get_indexer(family)
    idx = np.where(family.to_numpy(dtype=object) == "", -1, idx)
    has_family = idx >= 0
    occ_a = _occupation(df["_occupation_a"])
    occ_b = _occupation(df["_occupation_b"])
    a = np.where(has_family, occ_a[np.maximum(idx, 0)] if len(df) else "", "")
    b = np.where(has_family, occ_b[np.maximum(idx, 0)] if len(df) else "", "")
    a_u = np.where(a == "", "U", a)
    b_u = np.where(b == "", "U", b)
    lowest = np.where(a_u <= b_u, a_u, b_u)
    independent = (st["_relation_a01"].astype(str).str.strip().str.upper() == "SELF").to_numpy()
    group = np.where(independent, "N", np.where(has_family, lowest, "U"))
    out = pd.DataFrame(index=pd.RangeIndex(len(st)))
    for col in OUTPUT_COLUMNS["students"]:
        if col == "parent_a_occupation_group":
            out[col] = _str(a)
        elif col == "parent_b_occupation_group":
            out[col] = _str(b)
        elif col == "family_occupation_group":
            out[col] = _str(group)
        else:
            s = st[col]
            if pd.api.types.is_bool_dtype(s.dtype) or pd.api.types.is_datetime64_any_dtype(s.dtype):
                out[col] = s.to_numpy()
            else:
                out[col] = s.astype("str").to_numpy()
    return out


def _year_levels(tables: dict[str, LoadedTable]) -> pd.DataFrame:
    kcy = tables["KCY"].data
    return pd.DataFrame(
        {
            "year_level": kcy["year_level"].astype("str"),
            "description": kcy["description"].astype("str"),
            "numeric": pd.Series(kcy["numeric"].to_numpy(dtype=object), dtype=object),
            "coordinator_name": _staff_names(tables, kcy["_teacher"]),
            "coordinator_b_name": _staff_names(tables, kcy["_teacher_b"]),
        }
    )


def _home_groups(tables: dict[str, LoadedTable]) -> pd.DataFrame:
    kgc = tables["KGC"].data
    return pd.DataFrame(
        {
            "home_group": kgc["home_group"].astype("str"),
            "description": kgc["description"].astype("str"),
            "year_level": kgc["year_level"].astype("str"),
            "teacher_name": _staff_names(tables, kgc["_teacher"]),
            "teacher_b_name": _staff_names(tables, kgc["_teacher_b"]),
            "active": kgc["active"].to_numpy(dtype=bool),
        }
    )


def _houses(tables: dict[str, LoadedTable], students: pd.DataFrame) -> pd.DataFrame:
    kgh = tables["KGH"]
    used = [h for h in pd.unique(students["house"].astype(str)) if h]
    if kgh.loaded:
        codes = kgh.data["house"].astype(str).tolist()
        descriptions = kgh.data["description"].astype(str).tolist()
        known = set(codes)
        extra = sorted(h for h in used if h not in known)
        codes += extra
        descriptions += [""] * len(extra)
    else:
        codes = sorted(used)
        descriptions = [""] * len(codes)
    return pd.DataFrame({"house": _str(codes), "description": _str(descriptions)})


def _absence_types(tables: dict[str, LoadedTable]) -> pd.DataFrame:
    kct = tables["KCT"].data
    return pd.DataFrame(
        {
            "code": kct["code"].to_numpy(dtype=np.int64),
            "description": kct["description"].astype("str"),
            "abbreviation": kct["abbreviation"].astype("str"),
            "curriculum": kct["curriculum"].to_numpy(dtype=bool),
            "pre_approved": kct["pre_approved"].to_numpy(dtype=bool),
        }
    )


_APPROVAL = pd.CategoricalDtype(["", "N", "Y"])
_SOURCE = pd.CategoricalDtype(["SXAB", "SXABCONV"])
_DAY = np.int64(86_400_000_000_000)


@dataclass(frozen=True)
class _Part:
    """The usable rows of SXAB or SXABCONV as plain arrays."""

    sid: np.ndarray
    day: np.ndarray
    date: np.ndarray
    year_codes: np.ndarray
    years: pd.Index
    codes: dict[str, np.ndarray]
    approved: dict[str, np.ndarray]


def _categorical(series: pd.Series) -> tuple[np.ndarray, pd.Index]:
    if not isinstance(series.dtype, pd.CategoricalDtype):
        series = series.astype("category")
    return series.cat.codes.to_numpy(), pd.Index(series.cat.categories.astype(str))


def _attendance_part(table: LoadedTable, student_index: pd.Index) -> _Part:
    d = table.data
    codes, categories = _categorical(d["student_key"])
    cat_idx = student_index.get_indexer(categories)
    sid = (
        np.where(codes >= 0, cat_idx[np.maximum(codes, 0)], -1)
        if len(cat_idx)
        else np.full(len(codes), -1, dtype=np.int64)
    )
    dates = d["date"].to_numpy(dtype="datetime64[ns]")
    keep = (sid >= 0) & ~np.isnat(dates)
    year_codes, years = _categorical(d["year_level"])
    return _Part(
        sid=sid[keep],
        day=dates[keep].view(np.int64) // _DAY,
        date=dates[keep],
        year_codes=year_codes[keep],
        years=years,
        codes={h: d[f"{h}_code"].to_numpy()[keep].astype(np.int32) for h in ("am", "pm")},
        approved={
            h: d[f"{h}_approved"].astype(_APPROVAL).cat.codes.to_numpy()[keep].astype(np.int8)
            for h in ("am", "pm")
        },
    )


def merge_attendance(sxab: LoadedTable, conv: LoadedTable, student_keys: pd.Series) -> pd.DataFrame:
    """One row per (student, date): SXAB's code for a half-day when above 0, else SXABCONV's.

    Vectorised: the SXAB rows are looked up in an integer-key index of SXABCONV.
    """
    index = pd.Index(student_keys.astype(str))
    a = _attendance_part(sxab, index)
    c = _attendance_part(conv, index)
    day0 = min([int(x.day.min()) for x in (a, c) if len(x.day)], default=0)
    ka = a.sid.astype(np.int64) * (1 << 22) + (a.day - day0)
    kc = c.sid.astype(np.int64) * (1 << 22) + (c.day - day0)
    n_a = len(ka)
    # locate SXAB rows in SXABCONV (usually far smaller): hash the small side only
    in_conv = pd.Index(kc).get_indexer(ka) if len(kc) and n_a else np.full(n_a, -1, dtype=np.int64)
    has_conv = in_conv >= 0
    m_pos = np.flatnonzero(has_conv)  # SXAB rows with a SXABCONV record
    m_conv = in_conv[has_conv]  # ... and that record
    unmatched = np.ones(len(kc), dtype=bool)
    unmatched[m_conv] = False
    n_extra = int(unmatched.sum())

    columns: dict[str, Any] = {}
    for half in ("am", "pm"):
        code = a.codes[half].copy()
        appr = a.approved[half].copy()
        source = np.zeros(n_a, dtype=np.int8)
        take_conv = code[m_pos] <= 0
        targets = m_pos[take_conv]
        code[targets] = c.codes[half][m_conv[take_conv]]
        appr[targets] = c.approved[half][m_conv[take_conv]]
        source[targets] = 1
        columns[f"{half}_code"] = np.concatenate([code, c.codes[half][unmatched]])
        columns[f"{half}_approved"] = pd.Categorical.from_codes(
            np.concatenate([appr, c.approved[half][unmatched]]), dtype=_APPROVAL
        )
        columns[f"{half}_source"] = pd.Categorical.from_codes(
            np.concatenate([source, np.ones(n_extra, dtype=np.int8)]), dtype=_SOURCE
        )
    years = a.years.append(c.years).unique()
    a_map = years.get_indexer(a.years)
    c_map = years.get_indexer(c.years)
    year_codes = np.concatenate(
        [
            a_map[a.year_codes] if len(a_map) else a.year_codes,
            c_map[c.year_codes[unmatched]] if len(c_map) else c.year_codes[unmatched],
        ]
    )
    return pd.DataFrame(
        {
            "student_key": pd.Categorical.from_codes(
                np.concatenate([a.sid, c.sid[unmatched]]), categories=pd.Index(index, dtype="str")
            ),
            "date": np.concatenate([a.date, c.date[unmatched]]),
            "year_level": pd.Categorical.from_codes(
                year_codes, categories=pd.Index(years, dtype="str")
            ),
            "am_code": columns["am_code"],
            "am_approved": columns["am_approved"],
            "am_source": columns["am_source"],
            "pm_code": columns["pm_code"],
            "pm_approved": columns["pm_approved"],
            "pm_source": columns["pm_source"],
        }
    )


def _results(table: LoadedTable, students: pd.Series, columns: tuple[str, ...]) -> pd.DataFrame:
    d = table.data
    keys = np.asarray(d["student_key"], dtype=object)
    keep = (
        pd.Index(students.astype(str)).get_indexer(keys) >= 0 if len(d) else np.zeros(0, dtype=bool)
    )
    return pd.DataFrame(
        {c: pd.Series(np.asarray(d[c], dtype=object)[keep], dtype="str") for c in columns},
        columns=list(columns),
    )


def _calendar(tables: dict[str, LoadedTable]) -> pd.DataFrame:
    kcc = tables["KCC"].data
    keep = ~np.isnat(kcc["date"].to_numpy(dtype="datetime64[ns]"))
    return pd.DataFrame(
        {
            "date": kcc["date"].to_numpy(dtype="datetime64[ns]")[keep],
            "day_type": kcc["day_type"].astype("str").to_numpy()[keep],
            "term": kcc["term"].astype("str").to_numpy()[keep],
        }
    ).astype({"day_type": "str", "term": "str"})


# ---------------------------------------------------------------------------------------------
# The entry point


def read_cases21(
    folder: str | Path,
    *,
    school_number: str | int | None = None,
    extract_date: dt.date | None = None,
    progress: Progress | None = None,
) -> Cases21Extract:
    """Read a CASES21 eduHub extract folder; see the module docstring.

    Raises ExtractError only when nothing sensible can be read (no such folder, no eduHub
    files, two schools' files without ``school_number``) and ImportCancelled on Cancel.
    """
    stepper = Stepper(progress)
    stepper.report(0.0, "Looking for eduHub files")
    folder = Path(folder)
    if not folder.is_dir():
        raise ExtractError(f"The folder {folder} does not exist or cannot be opened.")
    collector = FindingCollector()
    plan = _plan(folder, None if school_number is None else str(school_number), collector)
    logger.info(
        "eduHub folder: school %s, %d tables found, %d delta files",
        plan.site,
        len(plan.base),
        len(plan.delta),
    )

    sizes = {}
    for table in TABLE_ORDER:
        for src in (plan.base.get(table), plan.delta.get(table)):
            if src is not None:
                sizes[(table, src.path, src.sheet)] = src.path.stat().st_size
    total = max(1, sum(sizes.values()))
    done = 0

    started = time.perf_counter()
    tables: dict[str, LoadedTable] = {}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="eduhub-scan") as executor:
        reader = _Reader(executor, stepper)
        try:
            for code in TABLE_ORDER:
                spec = TABLES[code]
                base = plan.base.get(code)
                if base is not None:
                    stepper.report(0.8 * done / total, f"Reading {base.name}")
                tables[code] = _load_table(spec, plan, reader, collector)
                for src in (plan.base.get(code), plan.delta.get(code)):
                    if src is not None:
                        done += sizes.get((code, src.path, src.sheet), 0)
        finally:
            reader.close()

    read_done = time.perf_counter()
    stepper.report(0.8, "Checking the extract")
    _canonical_codes(tables)

    mtimes = [r.facts.mtime for t in tables.values() for r in t.reads]
    if extract_date is None:
        extract_date = dt.datetime.fromtimestamp(max(mtimes)).date() if mtimes else dt.date.today()
    elif isinstance(extract_date, dt.datetime):
        extract_date = extract_date.date()

    for code in TABLE_ORDER:
        validation.check_table(tables[code], collector)
    stepper.report(0.85, "Checking the extract")

    students = _students(tables)
    attendance = merge_attendance(tables["SXAB"], tables["SXABCONV"], students["student_key"])
    stepper.report(0.9, "Checking the extract")
    validation.check_extract(
        validation.ExtractContext(
            tables=tables,
            students=students,
            attendance=attendance,
            extract_date=extract_date,
        ),
        collector,
    )
    stepper.report(0.95, "Preparing the import")

    extract = Cases21Extract(
        school_number=plan.site,
        extract_date=extract_date,
        students=students,
        year_levels=_year_levels(tables),
        home_groups=_home_groups(tables),
        houses=_houses(tables, students),
        absence_types=_absence_types(tables),
        attendance=attendance,
        strand_results=_results(
            tables["STVDI"], students["student_key"], OUTPUT_COLUMNS["strand_results"]
        ),
        domain_results=_results(
            tables["STVDO"], students["student_key"], OUTPUT_COLUMNS["domain_results"]
        ),
        files=tuple(
            SourceFile(
                name=r.name,
                size=r.facts.size,
                sha256=r.facts.sha256,
                rows=r.rows,
                table=t.code,
                encoding=r.encoding,
            )
            for code in TABLE_ORDER
            for t in [tables[code]]
            for r in t.reads
        ),
        findings=collector.result(),
        calendar=_calendar(tables),
    )
    logger.info(
        "eduHub extract read: %d students, %d attendance rows, %d errors, %d warnings "
        "(%.2f s reading, %.2f s checking)",
        len(extract.students),
        len(extract.attendance),
        len(extract.errors),
        len(extract.warnings),
        read_done - started,
        time.perf_counter() - read_done,
    )
    stepper.report(1.0, "Extract read")
    return extract
