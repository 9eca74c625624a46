"""Yes/no flags, flag count, review tier, what is new since the last snapshot, and one
sentence per flag that says why.

Decisions where issue 5 is silent (also in the package docstring):

* ``relationships_concern`` is one of "the flags above" in the issue's list, so it counts
  toward ``flag_count`` (setting ``count_relationships_concern``, on by default) and sets the
  monitor tier like any flag; it is in the engagement domain for priority.
* The status characteristics are context: they count toward ``flag_count`` only when their
  ``count_<name>`` setting is on, and they never set a tier by themselves (the research's
  guardrail: context flags are never the sole trigger for a tier).
* ``flag_parent_not_in_paid_work`` is a flag (counts, sets monitor) but is in no domain by
  default, so it never makes a priority on its own.
* ``new_flags`` lists the six computed flags that are yes now and were not yes in the previous
  frame (a student missing from it has every current flag new). With no previous frame it is
  empty and the change columns are NaN.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from risk_factors.errors import InputError
from risk_factors.measures import ATTENDANCE_COLUMNS, MeasureResult
from risk_factors.rules import CHARACTERISTICS, FLAG_COLUMNS, RiskRules

__all__ = [
    "CHARACTERISTIC_LABELS",
    "TIERS",
    "TREND_MEASURES",
    "compute_flags",
    "explain",
    "flag_frame_columns",
]

logger = logging.getLogger(__name__)

TIERS: Final = ("none", "monitor", "priority")
#: Measures compared with the previous snapshot (``<name>_change``), besides the strand levels.
TREND_MEASURES: Final = (
    "attendance_rate",
    "absent_days",
    "unapproved_days",
    "internal_suspension_days",
    "external_suspension_days",
)
CHARACTERISTIC_LABELS: Final[Mapping[str, str]] = {
    "koorie": "Koorie",
    "refugee_background": "Refugee background",
    "disability": "Disability",
    "integration": "Integration aide",
    "youth_allowance": "Youth Allowance",
    "access_alert": "Access alert",
    "risk_alert": "Risk alert",
    "medical_alert": "Medical alert",
    "ema": "EMA/CSEF",
}
_AREAS = {"flag_below_expected_english": "English", "flag_below_expected_maths": "Mathematics"}
_EPSILON = 1e-9
_TRUE_TEXT = ("true", "yes", "y", "1")


def _change_columns(rules: RiskRules) -> tuple[str, ...]:
    return (
        *(f"{m}_change" for m in TREND_MEASURES),
        *(f"result_{d.lower()}_change" for d in rules.strand_dimensions),
        "flag_count_change",
    )


def flag_frame_columns(
    measure_cols: tuple[str, ...] | list[str], rules: RiskRules
) -> tuple[str, ...]:
    """The columns of compute_flags' frame, in order, given the measures' columns."""
    return (
        "student_key",
        *(c for c in measure_cols if c != "student_key"),
        *CHARACTERISTICS,
        "relationships_concern",
        *FLAG_COLUMNS,
        "flag_count",
        "tier_domains",
        "tier",
        "new_flags",
        *_change_columns(rules),
    )


def _as_bool(values: pd.Series) -> np.ndarray:
    """bool array from a bool, numeric or text column; missing is False."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return (values.fillna(0) != 0).to_numpy(dtype=bool)
    text = values.astype(str).str.strip().str.lower()
    return text.isin(_TRUE_TEXT).to_numpy(dtype=bool)


def _float(frame: pd.DataFrame, column: str) -> np.ndarray:
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)


def _below(frame: pd.DataFrame, dims: tuple[str, ...], rules: RiskRules) -> np.ndarray:
    out = np.zeros(len(frame), dtype=bool)
    for dim in dims:
        level = _float(frame, f"result_{dim.lower()}")
        expected = _float(frame, f"expected_{dim.lower()}")
        with np.errstate(invalid="ignore"):
            out |= (expected - level) >= rules.below_expected_levels - _EPSILON
    return out


def _names_where(hits: list[tuple[str, np.ndarray]], n: int) -> np.ndarray:
    """Comma-joined names of the true columns, per row (vectorised over rows)."""
    out = np.full(n, "", dtype=object)
    for name, hit in hits:
        joined = np.where(out == "", name, out + "," + name)
        out = np.where(hit, joined, out)
    return out


def compute_flags(
    measures: pd.DataFrame | MeasureResult,
    students: pd.DataFrame,
    rules: RiskRules,
    *,
    relationships_concern: Mapping[str, bool] | None = None,
    previous: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Flags, flag count and tier per student of ``measures``.

    The result carries the measures too (they are the flag's inputs) so that it can be
    stored as the snapshot and passed back as ``previous`` next time; columns as
    :func:`flag_frame_columns`. ``relationships_concern`` maps student keys to the
    staff-recorded yes/no (missing = no).
    """
    frame = measures.frame if isinstance(measures, MeasureResult) else measures
    strand_cols = [
        f"{kind}_{d.lower()}"
        for d in (*rules.english_dimensions, *rules.maths_dimensions)
        for kind in ("result", "expected")
    ]
    missing = [
        c
        for c in ("student_key", *ATTENDANCE_COLUMNS, "parent_occupation_group", *strand_cols)
        if c not in frame.columns
    ]
    if missing:
        raise InputError(
            f"The measures have no {', '.join(missing)} column: they were computed with other "
            "rules. Compute the measures again with the current rules."
        )
    if "student_key" not in students.columns:
        raise InputError("The students table handed to the flags has no student_key column.")
    n = len(frame)
    keys = frame["student_key"].astype(str).reset_index(drop=True)
    key_index = pd.Index(keys)
    out = frame.reset_index(drop=True).copy()
    out["student_key"] = keys

    rate = _float(out, "attendance_rate")
    with np.errstate(invalid="ignore"):
        flags: dict[str, np.ndarray] = {
            "flag_low_attendance": rate < rules.attendance_rate_below,
            "flag_unapproved_absences": _float(out, "unapproved_days")
            >= rules.unapproved_days_at_least - _EPSILON,
            "flag_suspension": (
                np.nan_to_num(_float(out, "internal_suspension_days"))
                + np.nan_to_num(_float(out, "external_suspension_days"))
            )
            > rules.suspension_days_above + _EPSILON,
            "flag_below_expected_english": _below(out, rules.english_dimensions, rules),
            "flag_below_expected_maths": _below(out, rules.maths_dimensions, rules),
            "flag_parent_not_in_paid_work": (
                out["parent_occupation_group"].astype(str).str.strip().str.upper()
                == rules.parent_not_in_paid_work_group
            ).to_numpy(dtype=bool),
        }

    st = students.loc[~students["student_key"].astype(str).duplicated()]
    st = st.set_index(st["student_key"].astype(str))
    aligned = st.reindex(key_index)
    context: dict[str, np.ndarray] = {}
    for name in CHARACTERISTICS:
        context[name] = (
            _as_bool(aligned[name].reset_index(drop=True))
            if name in aligned.columns
            else np.zeros(n, dtype=bool)
        )
    if relationships_concern:
        concern_map = pd.Series(
            {str(k): bool(v) for k, v in relationships_concern.items()}, dtype=bool
        )
        concern = _as_bool(concern_map.reindex(key_index).reset_index(drop=True))
    else:
        concern = np.zeros(n, dtype=bool)
    context["relationships_concern"] = concern

    count = np.zeros(n, dtype=np.int64)
    for name in FLAG_COLUMNS:
        count += flags[name]
    for name in sorted(rules.counted):
        count += context[name]

    members = {**flags, "relationships_concern": concern}
    hits = [
        (dname, np.logical_or.reduce([members[m] for m in dmembers]))
        for dname, dmembers in rules.domains
    ]
    domain_count = np.sum([h for _d, h in hits], axis=0) if hits else np.zeros(n, dtype=np.int64)
    any_flag = np.logical_or.reduce([*flags.values(), concern]) if n else np.zeros(0, dtype=bool)
    tier = np.where(
        domain_count >= rules.priority_domains_at_least,
        "priority",
        np.where(any_flag, "monitor", "none"),
    )

    for name in CHARACTERISTICS:
        out[name] = context[name]
    out["relationships_concern"] = concern
    for name in FLAG_COLUMNS:
        out[name] = flags[name]
    out["flag_count"] = count
    out["tier_domains"] = pd.Series(_names_where(hits, n), dtype="str")
    out["tier"] = pd.Series(tier.astype(object), dtype="str")

    changes = _change_columns(rules)
    if previous is None:
        out["new_flags"] = pd.Series([""] * n, dtype="str")
        for col in changes:
            out[col] = np.full(n, np.nan)
    else:
        if "student_key" not in previous.columns:
            raise InputError("The previous snapshot's flags have no student_key column.")
        prev_keys = previous["student_key"].astype(str)
        prev = previous.loc[~prev_keys.duplicated(keep="last")]
        prev = (
            prev.set_index(prev["student_key"].astype(str))
            .reindex(key_index)
            .reset_index(drop=True)
        )
        in_previous = np.zeros(n, dtype=bool)
        if len(previous):
            in_previous = key_index.isin(prev_keys)
        new_hits = []
        for name in FLAG_COLUMNS:
            if name in prev.columns:
                was = _as_bool(prev[name]) & in_previous
            elif len(previous):
                was = flags[name] & in_previous  # not in the old frame: cannot tell, not new
            else:
                was = np.zeros(n, dtype=bool)
            new_hits.append((name, flags[name] & ~was))
        out["new_flags"] = pd.Series(_names_where(new_hits, n), dtype="str")
        for m in TREND_MEASURES:
            out[f"{m}_change"] = (
                _float(out, m) - _float(prev, m) if m in prev.columns else np.full(n, np.nan)
            )
        for d in rules.strand_dimensions:
            col = f"result_{d.lower()}"
            out[f"{col}_change"] = (
                _float(out, col) - _float(prev, col)
                if col in prev.columns and col in out.columns
                else np.full(n, np.nan)
            )
        out["flag_count_change"] = (
            count - _float(prev, "flag_count")
            if "flag_count" in prev.columns
            else np.full(n, np.nan)
        )

    columns = flag_frame_columns(list(frame.columns), rules)
    result = out[[c for c in columns if c in out.columns]]
    logger.info(
        "Flags computed for %d students: %d monitor, %d priority",
        n,
        int((tier == "monitor").sum()),
        int((tier == "priority").sum()),
    )
    return result


# ---------------------------------------------------------------------------------------------
# Explanations


def _get(row: Any, key: str, default: Any = None) -> Any:
    try:
        value = row[key]
    except (KeyError, IndexError):
        return default
    return value


def _yes(value: Any) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, str):
        return value.strip().lower() in _TRUE_TEXT
    if isinstance(value, (int, np.integer)):
        return value != 0
    return False


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _num_text(x: float) -> str:
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return text or "0"


def _days_text(x: float) -> str:
    if np.isnan(x):
        return "no days"
    return f"{_num_text(x)} {'day' if x == 1 else 'days'}"


def _level_text(x: float) -> str:
    text = f"{x:.2f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _rate_text(rate: float, threshold: float) -> str:
    """One decimal, or more when one decimal would round up to the threshold."""
    for decimals in (1, 2, 3, 4):
        text = f"{rate:.{decimals}f}"
        if float(text) < threshold:
            return text + "%"
    return f"{rate}%"


def _semester_text(year_semester: Any) -> str:
    text = str(year_semester or "").strip()
    if len(text) == 6 and text[4] == "." and text[:4].isdigit():
        return f" in semester {text[5]} of {text[:4]}"
    return ""


def _details(row: Any, dims: tuple[str, ...], rules: RiskRules) -> str:
    parts = []
    for dim in dims:
        d = dim.lower()
        score = str(_get(row, f"result_{d}", "") or "")
        level = _number(score)
        expected = _number(_get(row, f"expected_{d}"))
        if np.isnan(level) or np.isnan(expected):
            continue
        if expected - level >= rules.below_expected_levels - _EPSILON:
            parts.append(
                f"{rules.dimension_name(dim)} {score} against an expected {_level_text(expected)}"
                f"{_semester_text(_get(row, f'semester_{d}'))}"
            )
    return "; ".join(parts) if parts else "a latest result"


def explain(
    row: Any,
    rules: RiskRules,
    *,
    rule_version: int,
    extract_date: dt.date,
) -> list[str]:
    """One sentence per flag that is yes in ``row`` (a row of compute_flags' frame, as a
    Series or mapping), then one per status characteristic that is yes and counted. Dates
    are dd/mm/yyyy."""
    basis = f"rule v{rule_version}, extract {extract_date:%d/%m/%Y}"
    sentences: list[str] = []

    def say(key: str, **values: str) -> None:
        sentences.append(rules.explanation(key).format_map({"basis": basis, **values}))

    if _yes(_get(row, "flag_low_attendance")):
        say(
            "flag_low_attendance",
            attendance_rate=_rate_text(
                _number(_get(row, "attendance_rate")), rules.attendance_rate_below
            ),
            threshold=f"{_num_text(rules.attendance_rate_below)}%",
            marked_days=_days_text(_number(_get(row, "marked_days"))),
            absent_days=_days_text(_number(_get(row, "absent_days"))),
        )
    if _yes(_get(row, "flag_unapproved_absences")):
        say(
            "flag_unapproved_absences",
            unapproved_days=_days_text(_number(_get(row, "unapproved_days"))),
            threshold=_days_text(rules.unapproved_days_at_least),
        )
    if _yes(_get(row, "flag_suspension")):
        internal = np.nan_to_num(_number(_get(row, "internal_suspension_days")))
        external = np.nan_to_num(_number(_get(row, "external_suspension_days")))
        say(
            "flag_suspension",
            suspension_days=_days_text(internal + external),
            internal_suspension_days=_days_text(internal),
            external_suspension_days=_days_text(external),
            threshold=_days_text(rules.suspension_days_above),
        )
    for flag, dims in (
        ("flag_below_expected_english", rules.english_dimensions),
        ("flag_below_expected_maths", rules.maths_dimensions),
    ):
        if _yes(_get(row, flag)):
            levels = rules.below_expected_levels
            say(
                flag,
                area=_AREAS[flag],
                details=_details(row, dims, rules),
                threshold=f"{_level_text(levels)} {'level' if levels == 1 else 'levels'}",
            )
    if _yes(_get(row, "flag_parent_not_in_paid_work")):
        say(
            "flag_parent_not_in_paid_work",
            group=str(_get(row, "parent_occupation_group", "")),
            threshold="",
        )
    if _yes(_get(row, "relationships_concern")):
        say("relationships_concern")
    for name in CHARACTERISTICS:
        if rules.counts(name) and _yes(_get(row, name)):
            say("characteristic", characteristic=CHARACTERISTIC_LABELS[name])
    return sentences
