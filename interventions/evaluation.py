"""Evaluating a programme beside similar students: the definition of issue 8, section 3 (a
contract, implemented exactly).

For a programme whose measure is ``attendance_rate``, ``unapproved_rate`` or ``suspension_days``,
with S a mapping's start date and W weeks the window:

* **before** = the measure over the marked half-days of the days d with S - 7W days <= d < S;
  **after** = over S <= d <= min(S + 7W days, the mapping's end date, the latest extract date).
  Half-days are classified by the measures' own definition (``risk_factors.half_day_counts``).
  A participant with no marked half-day in either window is not measured (counted, and why).
* **comparison students**: same year level, in the measures' population, in no intervention
  mapping overlapping [S - 7W days, S + 7W days], measured in both of the participant's windows;
  the 5 whose before-value is nearest the participant's (ties by student key, ascending). Fewer
  than 5: those there are; none: the participant is not measured.
* participant's **difference** = (after - before) - mean(after - before) of the comparisons;
  the programme's **difference in differences** = the mean of the differences, with a 95 %
  interval mean +- t(0.975, n - 1) x sd / sqrt(n).

For ``english`` and ``maths``: the latest semester result before S against the first after S; for
``flag_count``: the snapshot before S against the latest. These have no comparison students.

Rates are in percentage points; suspension in days. An after window is "fewer than 4 weeks" when
it ends less than 28 days after S.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from interventions.catalogue import RATE_MEASURES, goal_met
from interventions.stats import mean_interval

__all__ = [
    "COMPARISONS",
    "AttendanceDays",
    "ComparisonPool",
    "MappingRow",
    "ProgrammeResult",
    "StudentResult",
    "evaluate_programme",
    "programme_warnings",
]

COMPARISONS = 5
TOO_FEW = 10
SHORT_AFTER_DAYS = 28
CAUSE = ("This compares participants with similar students who were in no programme at the time; "
         "it does not prove that the programme caused the difference.")
NO_COMPARISON = ("There are no comparison students for this measure, so the change alone cannot "
                 "separate the programme's effect from chance.")
WHICH_TO_READ = ("Read the difference (the change beside similar students), not the change alone: "
                 "students chosen for a low figure tend to improve a little by chance.")

REASON_NOT_STARTED = "starts after the latest extract"
REASON_NO_BEFORE = "no attendance marked in the weeks before the start"
REASON_NO_AFTER = "no attendance marked after the start"
REASON_NO_COMPARISON = "no similar students to compare with"
REASON_NO_RESULTS = "not enough results yet"
REASON_NOT_IN_EXTRACT = "not in the latest extract"

_EPOCH = dt.date(1970, 1, 1)
_NS_PER_DAY = 86_400_000_000_000


def _day(d: dt.date) -> int:
    return (d - _EPOCH).days


@dataclass(frozen=True)
class MappingRow:
    id: int
    student_key: str
    programme: str
    start: dt.date
    end: dt.date | None
    status: str = "active"
    goal_target: float | None = None


@dataclass(frozen=True)
class StudentResult:
    mapping_id: int
    student_key: str
    programme: str
    before: float | None
    after: float | None
    change: float | None
    comparison_change: float | None
    difference: float | None
    comparisons: tuple[str, ...]
    after_days: int | None  # days from S to the after window's end
    reason: str  # why not measured ("" when measured)
    goal_met: bool | None
    comparison_before: float | None = None
    comparison_after: float | None = None

    @property
    def measured(self) -> bool:
        return self.reason == ""


@dataclass(frozen=True)
class ProgrammeResult:
    programme: str
    measure: str
    participants: int
    measured: int
    not_measured: dict[str, int]
    before_mean: float | None
    after_mean: float | None
    change: float | None
    comparison_before_mean: float | None
    comparison_after_mean: float | None
    comparison_change: float | None
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    warnings: tuple[str, ...]
    students: tuple[StudentResult, ...] = field(default=())


class AttendanceDays:
    """Cumulative half-day counts per (student, day), so that any window of any student is two
    binary searches. Built once per evaluation from the attendance rows and their half-day counts."""

    def __init__(
        self, student_keys: pd.Series | Sequence[str], dates: pd.Series | Sequence[dt.date],
        marked: np.ndarray, absent: np.ndarray, unapproved: np.ndarray, suspension: np.ndarray,
    ) -> None:
        codes, uniques = pd.factorize(pd.Series(student_keys))
        self.index = pd.Index(np.asarray(uniques, dtype=object).astype(str), dtype=object)
        sid = codes.astype(np.int64)
        d = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[ns]").view(np.int64) // _NS_PER_DAY
        self._span = 1 << 32
        composite = sid * self._span + (d.astype(np.int64) + (1 << 30))
        order = np.argsort(composite, kind="stable")
        self._key = composite[order]

        def cum(values: np.ndarray) -> np.ndarray:
            out = np.zeros(len(order) + 1, dtype=np.int64)
            np.cumsum(np.asarray(values, dtype=np.int64)[order], out=out[1:])
            return out

        self._marked, self._absent = cum(marked), cum(absent)
        self._unapproved, self._suspension = cum(unapproved), cum(suspension)
        self._positions: dict[str, int] | None = None
        self._school_days: np.ndarray | None = None
        self._outside: np.ndarray | None = None
        self._entry = self._exit = np.zeros(0, dtype=np.int64)
        self._day_sorted = (self._key % self._span) - (1 << 30)
        self._marked_rows = np.asarray(marked, dtype=np.int64)[order]

    def use_school_days(self, school_days: np.ndarray, entry: dict[str, int | None], exit_: dict[str, int | None]) -> None:
        """The attendance holds absence rows only (nothing present): as the measures do, the
        half-days marked are two for each school day (sorted day numbers) between the student's
        entry and exit dates, plus any marked half-day recorded on another day."""
        self._school_days = np.asarray(school_days, dtype=np.int64)
        keys = list(self.index)
        lo, hi = np.iinfo(np.int64).min // 4, np.iinfo(np.int64).max // 4
        self._entry = np.array([entry.get(k) if entry.get(k) is not None else lo for k in keys], dtype=np.int64)
        self._exit = np.array([exit_.get(k) if exit_.get(k) is not None else hi for k in keys], dtype=np.int64)
        sid = self._key // self._span
        on_school = np.isin(self._day_sorted, self._school_days)
        inside = (self._day_sorted >= self._entry[sid]) & (self._day_sorted <= self._exit[sid]) if len(sid) else on_school
        outside = np.where(on_school & inside, 0, self._marked_rows)
        self._outside = np.zeros(len(outside) + 1, dtype=np.int64)
        np.cumsum(outside, out=self._outside[1:])

    def sid(self, keys: Sequence[str]) -> np.ndarray:
        if self._positions is None:
            self._positions = {k: i for i, k in enumerate(self.index)}
        get = self._positions.get
        return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))

    def window(self, sid: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, ...]:
        """Half-days (marked, absent, unapproved, suspension) of students ``sid`` over the days
        lo <= d <= hi (day numbers since 1970); students not in the attendance count nothing."""
        sid = np.asarray(sid, dtype=np.int64)
        base = np.where(sid >= 0, sid, 0) * self._span
        a = np.searchsorted(self._key, base + np.asarray(lo, dtype=np.int64) + (1 << 30), side="left")
        b = np.searchsorted(self._key, base + np.asarray(hi, dtype=np.int64) + (1 << 30), side="right")
        valid = (sid >= 0) & (b > a)
        out = []
        for cum in (self._marked, self._absent, self._unapproved, self._suspension):
            out.append(np.where(valid, cum[b] - cum[a], 0))
        if self._school_days is not None and self._outside is not None:
            safe = np.where(sid >= 0, sid, 0)
            first = np.maximum(np.asarray(lo, dtype=np.int64), self._entry[safe] if len(self._entry) else lo)
            last = np.minimum(np.asarray(hi, dtype=np.int64), self._exit[safe] if len(self._exit) else hi)
            possible = np.clip(np.searchsorted(self._school_days, last, side="right")
                               - np.searchsorted(self._school_days, first, side="left"), 0, None)
            extra = np.where(valid, self._outside[b] - self._outside[a], 0)
            out[0] = np.where(sid >= 0, 2 * possible + extra, 0)
        return tuple(out)


def _value(measure: str, marked: np.ndarray, absent: np.ndarray, unapproved: np.ndarray,
           suspension: np.ndarray) -> np.ndarray:
    """The measure over a window; NaN when no half-day is marked (not measured)."""
    m = marked.astype(float)
    safe = np.where(m > 0, m, 1.0)
    if measure == "attendance_rate":
        v = (m - absent) / safe * 100.0
    elif measure == "unapproved_rate":
        v = unapproved / safe * 100.0
    elif measure == "suspension_days":
        v = suspension * 0.5
    else:  # pragma: no cover - callers pass a rate measure
        raise ValueError(measure)
    return np.where(m > 0, v, np.nan)


def _mean(values: Sequence[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def _windows(start: dt.date, end: dt.date | None, latest: dt.date, weeks: int) -> tuple[int, int, int, int]:
    s = _day(start)
    after_end = min(s + 7 * weeks, _day(end) if end else s + 7 * weeks, _day(latest))
    return s - 7 * weeks, s - 1, s, after_end


class ComparisonPool:
    """What every programme's comparison search shares (build once per evaluation): the
    population by year level in key order, and every mapping's student and dates."""

    def __init__(self, all_mappings: Sequence[MappingRow], days: AttendanceDays, year_level: Mapping[str, str],
                 population: Sequence[str]) -> None:
        # every student as an integer code in key order (so a stable sort keeps ties in key order)
        everyone = sorted(set(population) | {m.student_key for m in all_mappings})
        code = {k: i for i, k in enumerate(everyone)}
        self.by_year: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        groups: dict[str, list[str]] = {}
        for key in sorted(set(population)):
            groups.setdefault(year_level.get(key, ""), []).append(key)
        for yl, keys in groups.items():
            self.by_year[yl] = (np.array(keys, dtype=object), np.array([code[k] for k in keys], dtype=np.int64),
                                days.sid(keys))
        self.m_codes = np.array([code[m.student_key] for m in all_mappings], dtype=np.int64)
        self.m_start = np.array([_day(m.start) for m in all_mappings], dtype=np.int64)
        self.m_end = np.array([_day(m.end) if m.end else np.iinfo(np.int64).max for m in all_mappings], dtype=np.int64)
        self.empty = (np.array([], dtype=object), np.array([], dtype=np.int64), np.array([], dtype=np.int64))
        # comparison students measured in both windows, with their values, per (measure, weeks,
        # year level, start, end of the after window): participants who share these share them
        self.candidates: dict[tuple[str, int, str, int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _evaluate_rates(
    measure: str, mappings: Sequence[MappingRow], all_mappings: Sequence[MappingRow], days: AttendanceDays,
    year_level: Mapping[str, str], population: Sequence[str], latest: dt.date, weeks: int,
    pool: ComparisonPool | None = None,
) -> list[StudentResult]:
    pool = pool or ComparisonPool(all_mappings, days, year_level, population)
    by_year, m_codes, m_start, m_end, empty = pool.by_year, pool.m_codes, pool.m_start, pool.m_end, pool.empty

    # every started participant's own windows at once (the same sums, element by element)
    started = [m for m in mappings if m.start <= latest]
    spans = np.array([_windows(m.start, m.end, latest, weeks) for m in started], dtype=np.int64).reshape(-1, 4)
    psid = days.sid([m.student_key for m in started])
    own_before = _value(measure, *days.window(psid, spans[:, 0], spans[:, 1]))
    own_after = _value(measure, *days.window(psid, spans[:, 2], spans[:, 3]))

    results: list[StudentResult] = []
    i = -1
    for m in mappings:
        def not_measured(reason: str, before: float | None = None, after: float | None = None,
                         after_days: int | None = None, m: MappingRow = m) -> StudentResult:
            return StudentResult(m.id, m.student_key, m.programme, before, after,
                                 None if before is None or after is None else after - before,
                                 None, None, (), after_days, reason, None)

        if m.start > latest:
            results.append(not_measured(REASON_NOT_STARTED))
            continue
        i += 1  # the position in ``started``
        b_lo, b_hi, a_lo, a_hi = (int(x) for x in spans[i])
        before = float(own_before[i])
        after = float(own_after[i])
        after_days = a_hi - a_lo
        if math.isnan(before):
            results.append(not_measured(REASON_NO_BEFORE, None, None if math.isnan(after) else after, after_days))
            continue
        if math.isnan(after):
            results.append(not_measured(REASON_NO_AFTER, before, None, after_days))
            continue
        # comparison students: same year level, in the population, in no overlapping mapping
        yl = year_level.get(m.student_key, "")
        found = pool.candidates.get((measure, weeks, yl, a_lo, a_hi))
        if found is None:
            cand_keys, cand_codes, cand_sid = by_year.get(yl, empty)
            lo, hi = a_lo - 7 * weeks, a_lo + 7 * weeks
            busy = m_codes[(m_start <= hi) & (m_end >= lo)]
            keep = ~np.isin(cand_codes, busy)
            c_keys, c_sid = cand_keys[keep], cand_sid[keep]
            n = len(c_sid)
            c_before = _value(measure, *days.window(c_sid, np.full(n, b_lo), np.full(n, b_hi)))
            c_after = _value(measure, *days.window(c_sid, np.full(n, a_lo), np.full(n, a_hi)))
            ok = ~np.isnan(c_before) & ~np.isnan(c_after)
            found = pool.candidates[(measure, weeks, yl, a_lo, a_hi)] = (c_keys[ok], c_before[ok], c_after[ok])
        c_keys, c_before, c_after = found
        if len(c_keys) == 0:
            results.append(not_measured(REASON_NO_COMPARISON, before, after, after_days))
            continue
        # nearest before-values; candidates are in key order, so a stable sort breaks ties by key
        # (distances rounded to 1e-9 so that equal distances from float rates tie exactly)
        pick = np.argsort(np.round(np.abs(c_before - before), 9), kind="stable")[:COMPARISONS]
        comp_change = float(np.mean(c_after[pick] - c_before[pick]))
        change = after - before
        results.append(StudentResult(
            m.id, m.student_key, m.programme, before, after, change, comp_change, change - comp_change,
            tuple(str(k) for k in c_keys[pick]), after_days, "", goal_met(measure, m.goal_target, after),
            float(np.mean(c_before[pick])), float(np.mean(c_after[pick])),
        ))
    return results


def _evaluate_series(
    measure: str, mappings: Sequence[MappingRow], series: Mapping[str, Sequence[tuple[dt.date, float]]],
    latest: dt.date,
) -> list[StudentResult]:
    """english / maths: ``series[key]`` = (semester end date, result) sorted by date; the latest
    before S against the first on or after S. flag_count: (extract date, flag count); the
    snapshot before S against the latest."""
    out: list[StudentResult] = []
    for m in mappings:
        points = list(series.get(m.student_key, ()))
        before_pts = [v for d, v in points if d < m.start]
        if measure == "flag_count":
            after_pts = [points[-1][1]] if points and points[-1][0] >= m.start else []
        else:
            after_pts = [v for d, v in points if d >= m.start]
        before = before_pts[-1] if before_pts else None
        after = after_pts[0] if after_pts else None
        if m.start > latest:
            reason = REASON_NOT_STARTED
        elif not points:
            reason = REASON_NOT_IN_EXTRACT if measure == "flag_count" else REASON_NO_RESULTS
        elif before is None or after is None:
            reason = REASON_NO_RESULTS
        else:
            reason = ""
        change = None if before is None or after is None else after - before
        out.append(StudentResult(m.id, m.student_key, m.programme, before, after, change, None, None, (),
                                 None, reason, goal_met(measure, m.goal_target, after) if not reason else None))
    return out


def programme_warnings(
    measure: str, measured: int, short_after: int, ci: tuple[float | None, float | None], *, comparison: bool,
) -> tuple[str, ...]:
    """The warnings in words, beside the figure; the last is always the sentence on cause."""
    words: list[str] = []
    if measured < TOO_FEW:
        words.append(f"Too few students to judge: {measured} measured (at least {TOO_FEW} are needed).")
    if short_after:
        words.append(f"Too early to judge: {short_after} of the {measured} measured have fewer than 4 weeks "
                     "since their start.")
    low, high = ci
    if comparison and low is not None and high is not None and low <= 0 <= high:
        unit = "days" if measure == "suspension_days" else "percentage points"
        words.append(f"No clear difference from similar students: the 95 % interval runs from {low:.1f} to "
                     f"{high:.1f} {unit}.")
    if not comparison:
        words.append(NO_COMPARISON)
    words.append(CAUSE)
    return tuple(words)


def evaluate_programme(
    programme: str, measure: str, mappings: Sequence[MappingRow], *, latest: dt.date, weeks: int = 8,
    all_mappings: Sequence[MappingRow] = (), days: AttendanceDays | None = None,
    year_level: Mapping[str, str] | None = None, population: Sequence[str] = (),
    series: Mapping[str, Sequence[tuple[dt.date, float]]] | None = None, pool: ComparisonPool | None = None,
) -> ProgrammeResult:
    """One programme's evaluation (see the module docstring). ``all_mappings``: every mapping of
    every programme (for excluding comparison students); ``days``: the attendance; ``series``:
    results or flag counts for the other measures; ``pool``: a :class:`ComparisonPool` of the same
    ``all_mappings``, ``days``, ``year_level`` and ``population`` shared by several programmes."""
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    if measure in RATE_MEASURES:
        if days is None:
            raise ValueError("the rate measures need the attendance days")
        rows = _evaluate_rates(measure, mappings, all_mappings or mappings, days, year_level or {},
                               population, latest, weeks, pool)
    else:
        rows = _evaluate_series(measure, mappings, series or {}, latest)
    measured = [r for r in rows if r.measured]
    not_measured: dict[str, int] = {}
    for r in rows:
        if not r.measured:
            not_measured[r.reason] = not_measured.get(r.reason, 0) + 1
    comparison = measure in RATE_MEASURES
    diffs = [r.difference for r in measured if r.difference is not None]
    interval = mean_interval(diffs) if comparison else None
    ci_low = ci_high = None
    difference = None
    if interval is not None:
        difference = interval[0]
        if not math.isnan(interval[1]):
            ci_low, ci_high = interval[1], interval[2]
    short = sum(1 for r in measured if r.after_days is not None and r.after_days < SHORT_AFTER_DAYS)
    warnings = programme_warnings(measure, len(measured), short, (ci_low, ci_high), comparison=comparison)
    return ProgrammeResult(
        programme=programme, measure=measure, participants=len(rows), measured=len(measured),
        not_measured=not_measured,
        before_mean=_mean([r.before for r in measured if r.before is not None]),
        after_mean=_mean([r.after for r in measured if r.after is not None]),
        change=_mean([r.change for r in measured if r.change is not None]),
        comparison_before_mean=_mean([r.comparison_before for r in measured if r.comparison_before is not None]),
        comparison_after_mean=_mean([r.comparison_after for r in measured if r.comparison_after is not None]),
        comparison_change=_mean([r.comparison_change for r in measured if r.comparison_change is not None]),
        difference=difference, ci_low=ci_low, ci_high=ci_high, warnings=warnings, students=tuple(rows),
    )
