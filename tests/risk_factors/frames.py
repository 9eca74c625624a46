"""Small hand-built canonical frames (the importer's shapes) for the risk-factor tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from risk_factors.measures import measure_columns
from risk_factors.rules import CHARACTERISTICS, RiskRules, load_default_rules

EXTRACT = dt.date(2026, 9, 18)

#: code, curriculum, pre_approved (a slice of a real KCT)
KCT: tuple[tuple[int, bool, bool], ...] = (
    (100, True, False),
    (111, True, False),
    (200, False, False),
    (208, False, False),
    (300, False, False),
    (400, False, False),
    (401, False, False),
    (500, False, False),
    (604, True, True),
    (802, False, True),
)


def students(*rows: dict[str, Any]) -> pd.DataFrame:
    """One row per dict; unspecified columns take harmless defaults (ACTV, year 09, group A)."""
    records = []
    for row in rows:
        rec: dict[str, Any] = {
            "status": "ACTV",
            "entry_date": pd.Timestamp("2020-01-28"),
            "exit_date": pd.NaT,
            "year_level": "09",
            "home_group": "09A",
            "family_occupation_group": "A",
            **{c: False for c in CHARACTERISTICS},
        }
        rec.update(row)
        records.append(rec)
    frame = pd.DataFrame(records)
    for col in ("entry_date", "exit_date"):
        frame[col] = pd.to_datetime(frame[col])
    for col in ("student_key", "status", "year_level", "home_group", "family_occupation_group"):
        frame[col] = frame[col].astype("str")
    for col in CHARACTERISTICS:
        frame[col] = frame[col].astype(bool)
    return frame


def attendance(
    rows: Iterable[Sequence[Any]], *, categorical: bool = False, keys: Sequence[str] = ()
) -> pd.DataFrame:
    """rows of (student_key, "yyyy-mm-dd", am_code, am_approved, pm_code, pm_approved)."""
    rows = list(rows)
    frame = pd.DataFrame(
        {
            "student_key": [r[0] for r in rows],
            "date": pd.to_datetime([r[1] for r in rows]) if rows else pd.to_datetime([]),
            "year_level": ["09"] * len(rows),
            "am_code": np.array([r[2] for r in rows], dtype=np.int32),
            "am_approved": [r[3] for r in rows],
            "am_source": ["SXAB"] * len(rows),
            "pm_code": np.array([r[4] for r in rows], dtype=np.int32),
            "pm_approved": [r[5] for r in rows],
            "pm_source": ["SXAB"] * len(rows),
        }
    )
    if categorical:  # as importers.eduhub.merge_attendance builds it
        cats = list(dict.fromkeys([*keys, *frame["student_key"]]))
        frame["student_key"] = pd.Categorical(frame["student_key"], categories=cats)
        approval = pd.CategoricalDtype(["", "N", "Y"])
        frame["am_approved"] = frame["am_approved"].astype(approval)
        frame["pm_approved"] = frame["pm_approved"].astype(approval)
    else:
        for col in ("student_key", "am_approved", "pm_approved"):
            frame[col] = frame[col].astype("str")
    return frame


def present_days(key: str, dates: Iterable[str]) -> list[tuple[Any, ...]]:
    return [(key, d, 100, "", 100, "") for d in dates]


def weekdays(start: str, count: int) -> list[str]:
    return [d.strftime("%Y-%m-%d") for d in pd.bdate_range(start, periods=count)]


def absence_types(rows: Iterable[tuple[int, bool, bool]] = KCT) -> pd.DataFrame:
    rows = list(rows)
    return pd.DataFrame(
        {
            "code": np.array([r[0] for r in rows], dtype=np.int64),
            "description": pd.Series([f"type {r[0]}" for r in rows], dtype="str"),
            "abbreviation": pd.Series([""] * len(rows), dtype="str"),
            "curriculum": np.array([r[1] for r in rows], dtype=bool),
            "pre_approved": np.array([r[2] for r in rows], dtype=bool),
        }
    )


def year_levels() -> pd.DataFrame:
    levels = ["07", "08", "09", "10", "11", "12", "UG"]
    numeric: list[object] = [7, 8, 9, 10, 11, 12, None]
    return pd.DataFrame(
        {
            "year_level": pd.Series(levels, dtype="str"),
            "description": pd.Series([f"Year {x}" for x in levels], dtype="str"),
            "numeric": pd.Series(numeric, dtype=object),
            "coordinator_name": pd.Series([""] * len(levels), dtype="str"),
            "coordinator_b_name": pd.Series([""] * len(levels), dtype="str"),
        }
    )


def strand(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    """rows of (student_key, year_semester, dimension, score, year_level)."""
    return pd.DataFrame(
        {
            "student_key": [r[0] for r in rows],
            "year_semester": [r[1] for r in rows],
            "domain": [r[2][:3] for r in rows],
            "dimension": [r[2] for r in rows],
            "score": [r[3] for r in rows],
            "year_level": [r[4] for r in rows],
        },
        columns=["student_key", "year_semester", "domain", "dimension", "score", "year_level"],
    ).astype("str")


def calendar(rows: Iterable[tuple[str, str]] = ()) -> pd.DataFrame:
    rows = list(rows)
    return pd.DataFrame(
        {
            "date": pd.to_datetime([r[0] for r in rows]) if rows else pd.to_datetime([]),
            "day_type": pd.Series([r[1] for r in rows], dtype="str"),
            "term": pd.Series(["1"] * len(rows), dtype="str"),
        }
    )


def measures(*rows: dict[str, Any], rules: RiskRules | None = None) -> pd.DataFrame:
    """A measures frame: one dict per student, unspecified measures harmless."""
    rules = rules or load_default_rules()
    records = []
    for i, row in enumerate(rows):
        rec: dict[str, Any] = {
            "student_key": f"S{i + 1}",
            "attendance_rate": 100.0,
            "marked_days": 100.0,
            "absent_days": 0.0,
            "unapproved_days": 0.0,
            "internal_suspension_days": 0.0,
            "external_suspension_days": 0.0,
            "parent_occupation_group": "A",
            "unknown_code_half_days": 0,
            "results_missing": 0,
            "results_not_compared": 0,
        }
        for dim in rules.strand_dimensions:
            d = dim.lower()
            rec[f"result_{d}"] = "9.0"
            rec[f"semester_{d}"] = "2026.1"
            rec[f"expected_{d}"] = 8.5
        rec.update(row)
        records.append(rec)
    return pd.DataFrame(records)[list(measure_columns(rules))]
