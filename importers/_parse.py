"""Vectorised interpretation of text columns: dates, numbers, codes, flags.

Everything works on the distinct values of a column (the categories of a categorical column,
or the uniques of ``pd.factorize``) and maps the answers back by code, so a 1.2 million row
attendance column with 400 distinct dates costs 400 date parses, not 1.2 million.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "DATE_FORMATS",
    "Parsed",
    "codes_and_values",
    "parse_absence",
    "parse_dates",
    "parse_int",
    "text",
    "text_categorical",
]

#: Tried in turn on the values not yet parsed, after a trailing AM/PM is removed (the time is
#: dropped, so the 12-hour clock does not matter and no locale is ever consulted). Each format
#: has a cheap shape test, so pandas is only asked to parse the values that can match it.
DATE_FORMATS: tuple[str, ...] = (
    "%d/%m/%Y %H:%M:%S",  # eduHub: d/MM/yyyy h:mm:ss tt
    "%d/%m/%Y",  # dd/mm/yyyy and d/m/yyyy (CASES21 reports, Excel re-saves)
    "%d/%m/%Y %H:%M",  # Excel re-save with a short time
    "%Y-%m-%d",  # ISO
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
)
_SHAPES: dict[str, re.Pattern[str]] = {
    "%d/%m/%Y %H:%M:%S": re.compile(r"^\d{1,2}/\d{1,2}/\d{4} +\d{1,2}:\d{1,2}:\d{1,2}$"),
    "%d/%m/%Y": re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$"),
    "%d/%m/%Y %H:%M": re.compile(r"^\d{1,2}/\d{1,2}/\d{4} +\d{1,2}:\d{1,2}$"),
    "%Y-%m-%d": re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$"),
    "%Y-%m-%d %H:%M:%S": re.compile(r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}$"),
    "%Y-%m-%dT%H:%M:%S": re.compile(r"^\d{4}-\d{1,2}-\d{1,2}T\d{1,2}:\d{1,2}:\d{1,2}$"),
    "%Y-%m-%d %H:%M:%S.%f": re.compile(r"^\d{4}-\d{1,2}-\d{1,2} \d{1,2}:\d{1,2}:\d{1,2}\.\d{1,9}$"),
    "%Y-%m-%dT%H:%M:%S.%f": re.compile(r"^\d{4}-\d{1,2}-\d{1,2}T\d{1,2}:\d{1,2}:\d{1,2}\.\d{1,9}$"),
}
_AM_PM_RE = re.compile(r"\s*[AaPp]\.?\s*[Mm]\.?$")
_MIN_YEAR = 1900
_MAX_YEAR = 2100


type Column = np.ndarray | pd.Series


def codes_and_values(series: Column) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes per row and the distinct values (object array of str)."""
    if isinstance(series, pd.Series) and isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        values = np.asarray(series.cat.categories.astype(object), dtype=object)
        if (codes < 0).any():  # a missing value: read as blank text
            values = np.append(values, "")
            codes = np.where(codes < 0, len(values) - 1, codes)
        return codes, values
    array = series if isinstance(series, np.ndarray) else series.to_numpy(dtype=object)
    codes, uniques = pd.factorize(array)
    return codes, np.asarray(uniques, dtype=object)


def _stripped(values: np.ndarray, upper: bool = False) -> np.ndarray:
    """Distinct values trimmed (and upper-cased): plain Python on the few distinct values."""
    if upper:
        return np.array([str(v).strip().upper() for v in values], dtype=object)
    return np.array([str(v).strip() for v in values], dtype=object)


def _trimmed(series: Column, upper: bool) -> tuple[np.ndarray, np.ndarray]:
    codes, values = codes_and_values(series)
    if len(values) == 0:
        return np.zeros(len(series), dtype=np.int64), np.array([""], dtype=object)
    new_codes, new_values = pd.factorize(_stripped(values, upper))
    return new_codes[codes], np.asarray(new_values, dtype=object)


def text(series: Column, *, upper: bool = False) -> np.ndarray:
    """Trimmed (optionally upper-cased) text as an object array of str."""
    row_codes, values = _trimmed(series, upper)
    return values[row_codes]


def text_categorical(series: Column, *, upper: bool = False) -> pd.Categorical:
    """Trimmed (optionally upper-cased) text as a categorical (for the big tables)."""
    row_codes, values = _trimmed(series, upper)
    return pd.Categorical.from_codes(
        row_codes, dtype=pd.CategoricalDtype(pd.Index(values, dtype=object))
    )


_DECIMAL = re.compile(r"^(\d+)(?:\.(\d*))?$")


def canonical_score(value: str) -> str:
    """A numeric result in one form, whatever re-formatted it: '6', '6.0' and '6.00' are all
    '6.0'; '2.50' is '2.5'. Text results ('NA', 'PT', 'B') stay as written."""
    m = _DECIMAL.match(value)
    if m is None:
        return value
    whole, decimals = m.group(1), (m.group(2) or "").rstrip("0")
    return f"{int(whole)}.{decimals or '0'}"


def scores(series: Column, *, categorical: bool) -> np.ndarray | pd.Categorical:
    """Trimmed result text with numeric results in their canonical form (see canonical_score)."""
    row_codes, values = _trimmed(series, False)
    new_codes, new_values = pd.factorize(
        np.array([canonical_score(str(v)) for v in values], dtype=object)
    )
    codes = new_codes[row_codes] if len(values) else row_codes
    uniques = np.asarray(new_values, dtype=object) if len(values) else values
    if categorical:
        return pd.Categorical.from_codes(
            codes, dtype=pd.CategoricalDtype(pd.Index(uniques, dtype=object))
        )
    return uniques[codes]


def flags(series: Column, true_values: frozenset[str]) -> np.ndarray:
    """bool per row: True when the trimmed, upper-cased value is one of ``true_values``."""
    codes, values = codes_and_values(series)
    if len(values) == 0:
        return np.zeros(len(series), dtype=bool)
    hits = np.array([v in true_values for v in _stripped(values, upper=True)], dtype=bool)
    return hits[codes]


def not_flags(series: Column, false_values: frozenset[str]) -> np.ndarray:
    """bool per row: False only when the trimmed, upper-cased value is one of ``false_values``."""
    codes, values = codes_and_values(series)
    if len(values) == 0:
        return np.ones(len(series), dtype=bool)
    hits = np.array([v not in false_values for v in _stripped(values, upper=True)], dtype=bool)
    return hits[codes]


@dataclass(frozen=True)
class Parsed:
    """A parsed column: values per row, a mask of values that could not be read, and the
    trimmed text per distinct value (for messages about the bad ones)."""

    values: np.ndarray
    bad: np.ndarray
    codes: np.ndarray
    raw_values: np.ndarray

    def raw(self, row: int) -> str:
        return str(self.raw_values[self.codes[row]])


def parse_date_values(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct date strings -> (datetime64[ns] at midnight, bad mask). Blank is NaT, not bad."""
    stripped = _stripped(values)
    cleaned = np.array([_AM_PM_RE.sub("", v) for v in stripped], dtype=object)
    out = np.full(len(stripped), np.datetime64("NaT", "ns"), dtype="datetime64[ns]")
    todo = stripped != ""
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        shape = _SHAPES[fmt]
        idx = np.array([i for i in np.flatnonzero(todo) if shape.match(cleaned[i])], dtype=np.int64)
        if len(idx) == 0:
            continue
        parsed = pd.to_datetime(cleaned[idx], format=fmt, errors="coerce")  # a DatetimeIndex
        years = np.asarray(parsed.year, dtype=np.float64)  # NaN where not parsed
        ok = ~np.isnan(years) & (years >= _MIN_YEAR) & (years <= _MAX_YEAR)
        if ok.any():
            out[idx[ok]] = parsed[ok].normalize().to_numpy(dtype="datetime64[ns]")
            todo[idx[ok]] = False
    return out, todo  # what is still to do after every format is unreadable


def parse_dates(series: Column) -> Parsed:
    codes, values = codes_and_values(series)
    parsed, bad = parse_date_values(values)
    if len(values) == 0:
        n = len(series)
        return Parsed(
            np.full(n, np.datetime64("NaT", "ns"), dtype="datetime64[ns]"),
            np.zeros(n, dtype=bool),
            codes,
            values,
        )
    return Parsed(parsed[codes], bad[codes], codes, _stripped(values))


def _numbers(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = _stripped(values)
    blank = s == ""
    num = pd.to_numeric(
        pd.Series([None if b else v for v, b in zip(s, blank, strict=True)], dtype=object),
        errors="coerce",
    )
    arr = num.to_numpy(dtype="float64", na_value=np.nan)
    integral = np.isfinite(arr) & (np.floor(arr) == arr) & (np.abs(arr) < 2**31)
    bad = ~blank & ~integral
    return s, arr, blank | bad


def parse_int(series: Column) -> Parsed:
    """Whole numbers as Python ints (object array), None when blank or unreadable."""
    codes, values = codes_and_values(series)
    n = len(series)
    if len(values) == 0:
        return Parsed(np.full(n, None, dtype=object), np.zeros(n, dtype=bool), codes, values)
    s, arr, missing = _numbers(values)
    blank = s == ""
    per_value = np.array(
        [None if m else int(v) for v, m in zip(arr, missing, strict=True)], dtype=object
    )
    bad = missing & ~blank
    return Parsed(per_value[codes], bad[codes], codes, s)


def parse_absence(series: Column) -> Parsed:
    """Absence-type codes as int32; blank is 0 (not marked); unreadable ones are 0 and bad."""
    codes, values = codes_and_values(series)
    n = len(series)
    if len(values) == 0:
        return Parsed(np.zeros(n, dtype=np.int32), np.zeros(n, dtype=bool), codes, values)
    s, arr, missing = _numbers(values)
    blank = s == ""
    per_value = np.where(missing, 0, np.nan_to_num(arr)).astype(np.int32)
    bad = missing & ~blank
    return Parsed(per_value[codes], bad[codes], codes, s)
