"""The evaluation definition (issue 8, section 3) on hand-built frames with answers worked by hand."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from interventions.evaluation import (
    CAUSE,
    REASON_NO_AFTER,
    REASON_NO_BEFORE,
    REASON_NO_COMPARISON,
    REASON_NO_RESULTS,
    REASON_NOT_STARTED,
    AttendanceDays,
    MappingRow,
    evaluate_programme,
)
from interventions.stats import mean_interval, t_quantile
from risk_factors.measures import compute_measures, half_day_counts
from risk_factors.rules import load_default_rules
from tests.risk_factors import frames as rf

S = dt.date(2026, 3, 9)  # a Monday; with W = 1: before 02/03-08/03, after 09/03-16/03
LATEST = dt.date(2026, 3, 31)
BEFORE_DAYS = [dt.date(2026, 3, d) for d in (2, 3, 4, 5, 6)]  # 10 half-days
AFTER_DAYS = [dt.date(2026, 3, d) for d in (9, 10, 11, 12, 13, 16)]  # 12 half-days


def _rows(key: str, days: list[dt.date], absent_halves: int) -> list[tuple[str, dt.date, int, int]]:
    """Two marked half-days a day; the first ``absent_halves`` half-days absent."""
    out = []
    left = absent_halves
    for d in days:
        a = min(2, left)
        left -= a
        out.append((key, d, 2, a))
    return out


def _days(spec: dict[str, tuple[int | None, int | None]]) -> AttendanceDays:
    """key -> (absent half-days of 10 before, absent half-days of 12 after); None = not marked."""
    rows: list[tuple[str, dt.date, int, int]] = []
    for key, (before, after) in spec.items():
        if before is not None:
            rows += _rows(key, BEFORE_DAYS, before)
        if after is not None:
            rows += _rows(key, AFTER_DAYS, after)
        rows.append((key, dt.date(2026, 2, 2), 2, 2))  # outside both windows: never counted
    frame = pd.DataFrame(rows, columns=["key", "date", "marked", "absent"])
    zeros = np.zeros(len(frame), dtype=np.int64)
    return AttendanceDays(frame["key"], frame["date"], frame["marked"].to_numpy(), frame["absent"].to_numpy(),
                          zeros, zeros)


SPEC = {
    "P": (5, 3),     # before 50, after 75: change +25
    "Q": (6, 6),     # before 40, after 50: change +10
    "A": (5, 6),     # 50 -> 50: 0
    "B": (4, 3),     # 60 -> 75: +15
    "C": (6, 6),     # 40 -> 50: +10
    "D": (5, 0),     # 50 -> 100: +50 (ties A on before; key D after A)
    "E": (0, 0),     # 100 -> 100: far away
    "F": (7, 12),    # 30 -> 0: -30
    "G": (5, 6),     # in an overlapping mapping of another programme: excluded
    "H": (5, 6),     # year 10: excluded
    "I": (5, 6),     # not in the population: excluded
    "J": (5, None),  # not measured after: excluded
}
YEAR = {k: "09" for k in SPEC} | {"H": "10"}
POPULATION = [k for k in SPEC if k != "I"]


def _programme(mappings: list[MappingRow], *, weeks: int = 1, others: list[MappingRow] | None = None,
               days: AttendanceDays | None = None, year: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return evaluate_programme(
        "Mentoring", "attendance_rate", mappings, latest=LATEST, weeks=weeks,
        all_mappings=mappings + (others or []), days=days or _days(SPEC), year_level=year or YEAR,
        population=POPULATION,
    )


OTHER = [MappingRow(99, "G", "Other", S + dt.timedelta(days=5), None), MappingRow(98, "Q", "Other", S, None)]


def test_participant_difference_against_the_five_nearest_similar_students() -> None:
    result = _programme([MappingRow(1, "P", "Mentoring", S, None, goal_target=70)], others=OTHER)
    (p,) = result.students
    assert p.before == pytest.approx(50) and p.after == pytest.approx(75) and p.change == pytest.approx(25)
    # nearest to 50: A 0, D 0 (tie: key order), B 10, C 10, F 20; E (50 away) is the sixth
    assert p.comparisons == ("A", "D", "B", "C", "F")
    assert p.comparison_change == pytest.approx((0 + 50 + 15 + 10 - 30) / 5)
    assert p.difference == pytest.approx(25 - 9)
    assert p.goal_met is True
    assert p.after_days == 7


def test_programme_difference_in_differences_and_t_interval() -> None:
    maps = [MappingRow(1, "P", "Mentoring", S, None), MappingRow(2, "Q", "Mentoring", S, None)]
    result = _programme(maps, others=OTHER)
    q = result.students[1]
    # nearest to 40: C 0, then A, D, F at 10 (key order), then B at 20
    assert q.comparisons == ("C", "A", "D", "F", "B")
    assert q.difference == pytest.approx(10 - 9)
    assert result.measured == 2 and result.participants == 2
    assert result.before_mean == pytest.approx(45) and result.after_mean == pytest.approx(62.5)
    assert result.change == pytest.approx(17.5) and result.comparison_change == pytest.approx(9)
    assert result.difference == pytest.approx(8.5)
    half = 12.706204736 * 7.5  # t(0.975, 1) x sd (10.607) / sqrt(2)
    assert result.ci_low == pytest.approx(8.5 - half, rel=1e-8)
    assert result.ci_high == pytest.approx(8.5 + half, rel=1e-8)
    assert result.warnings[0].startswith("Too few students to judge: 2 measured")
    assert any(w.startswith("No clear difference from similar students") for w in result.warnings)
    assert any(w.startswith("Too early to judge: 2 of the 2") for w in result.warnings)
    assert result.warnings[-1] == CAUSE


def test_mapping_overlap_window_is_s_minus_w_to_s_plus_w_weeks() -> None:
    # G's mapping starting 8 days after S does not overlap [S - 7, S + 7]: G is a candidate again
    q = MappingRow(98, "Q", "Other", S, None)
    late = [MappingRow(99, "G", "Other", S + dt.timedelta(days=8), None), q]
    (p,) = _programme([MappingRow(1, "P", "Mentoring", S, None)], others=late).students
    assert p.comparisons == ("A", "D", "G", "B", "C")
    # one that ended the day before S - 7 does not overlap either
    ended = [MappingRow(99, "G", "Other", S - dt.timedelta(days=30), S - dt.timedelta(days=8)), q]
    (p,) = _programme([MappingRow(1, "P", "Mentoring", S, None)], others=ended).students
    assert "G" in p.comparisons
    # ending on S - 7 overlaps
    touching = [MappingRow(99, "G", "Other", S - dt.timedelta(days=30), S - dt.timedelta(days=7)), q]
    (p,) = _programme([MappingRow(1, "P", "Mentoring", S, None)], others=touching).students
    assert "G" not in p.comparisons


def test_fewer_than_five_comparisons_and_none() -> None:
    year = {k: "11" for k in SPEC} | {"P": "09", "A": "09", "B": "09"}
    (p,) = _programme([MappingRow(1, "P", "Mentoring", S, None)], year=year, others=OTHER).students
    assert p.comparisons == ("A", "B")
    assert p.comparison_change == pytest.approx((0 + 15) / 2)
    alone = {k: "11" for k in SPEC} | {"P": "07"}
    result = _programme([MappingRow(1, "P", "Mentoring", S, None)], year=alone)
    assert result.students[0].reason == REASON_NO_COMPARISON
    assert result.measured == 0 and result.not_measured == {REASON_NO_COMPARISON: 1}
    assert result.difference is None and result.ci_low is None


def test_not_measured_reasons_are_counted() -> None:
    spec = SPEC | {"K": (None, 3), "L": (5, None)}
    maps = [
        MappingRow(1, "K", "Mentoring", S, None),
        MappingRow(2, "L", "Mentoring", S, None),
        MappingRow(3, "P", "Mentoring", LATEST + dt.timedelta(days=1), None),
    ]
    result = _programme(maps, days=_days(spec), year=YEAR | {"K": "09", "L": "09"})
    assert [r.reason for r in result.students] == [REASON_NO_BEFORE, REASON_NO_AFTER, REASON_NOT_STARTED]
    assert result.measured == 0 and sum(result.not_measured.values()) == 3


def test_after_window_stops_at_the_end_date_and_the_latest_extract() -> None:
    # ended 10/03: after = 09/03-10/03 (4 half-days, the first 3 absent -> 25 %)
    (p,) = _programme([MappingRow(1, "P", "Mentoring", S, S + dt.timedelta(days=1))]).students
    assert p.after == pytest.approx(25) and p.after_days == 1
    # the latest extract on 12/03 cuts the window too
    result = evaluate_programme("Mentoring", "attendance_rate", [MappingRow(1, "P", "Mentoring", S, None)],
                                latest=dt.date(2026, 3, 12), weeks=8, days=_days(SPEC), year_level=YEAR,
                                population=POPULATION)
    assert result.students[0].after_days == 3
    assert any(w.startswith("Too early to judge") for w in result.warnings)


def test_results_and_flag_count_have_no_comparison() -> None:
    series = {"P": [(dt.date(2025, 12, 31), 7.0), (dt.date(2026, 6, 30), 7.5)], "Q": [(dt.date(2025, 12, 31), 6.0)]}
    maps = [MappingRow(1, "P", "Lit", S, None, goal_target=7.5), MappingRow(2, "Q", "Lit", S, None)]
    result = evaluate_programme("Lit", "english", maps, latest=dt.date(2026, 9, 1), series=series)
    assert result.students[0].change == pytest.approx(0.5) and result.students[0].goal_met is True
    assert result.students[1].reason == REASON_NO_RESULTS
    assert result.difference is None and result.comparison_change is None
    assert any("no comparison students" in w for w in result.warnings)
    flags = {"P": [(dt.date(2026, 2, 1), 3.0), (dt.date(2026, 3, 1), 2.0), (dt.date(2026, 9, 1), 1.0)]}
    res = evaluate_programme("Peer", "flag_count", [MappingRow(1, "P", "Peer", S, None)], latest=dt.date(2026, 9, 1),
                             series=flags)
    assert (res.students[0].before, res.students[0].after) == (2.0, 1.0)


@pytest.mark.parametrize(
    ("df", "expected"),
    [(1, 12.706204736), (2, 4.302652730), (4, 2.776445105), (9, 2.262157163), (29, 2.045229642),
     (100, 1.983971519)],
)
def test_t_quantile_matches_the_tables(df: int, expected: float) -> None:
    assert t_quantile(0.975, df) == pytest.approx(expected, abs=1e-8)


def test_mean_interval() -> None:
    assert mean_interval([]) is None
    m, lo, hi = mean_interval([3.0])  # type: ignore[misc]
    assert m == 3.0 and math.isnan(lo) and math.isnan(hi)
    m, lo, hi = mean_interval([1.0, 2.0, 3.0, 4.0])  # type: ignore[misc]
    half = 3.182446305 * math.sqrt(5 / 3) / 2
    assert (m, lo, hi) == (pytest.approx(2.5), pytest.approx(2.5 - half), pytest.approx(2.5 + half))


def test_half_day_counts_rate_the_year_as_the_measures_do() -> None:
    """The evaluation re-uses the measures' half-day definition: rated over the whole year, a
    window gives the measures' own attendance rate."""
    rules = load_default_rules()
    stud = rf.students({"student_key": "S1"}, {"student_key": "S2"})
    att = rf.attendance([
        ("S1", "2026-02-02", 100, "", 200, "N"), ("S1", "2026-02-03", 111, "", 604, "Y"),
        ("S1", "2026-02-04", 401, "", 802, ""), ("S2", "2026-02-02", 208, "Y", 300, ""),
    ])
    measures = compute_measures(stud, att, rf.absence_types(), rf.strand(), rf.year_levels(), extract_date=rf.EXTRACT,
                                rules=rules).frame.set_index("student_key")
    counts = half_day_counts(att, rf.absence_types(), rules)
    days = AttendanceDays(att["student_key"], att["date"], counts.marked, counts.absent, counts.unapproved,
                          counts.suspension)
    for key in ("S1", "S2"):
        result = evaluate_programme("X", "attendance_rate", [MappingRow(1, key, "X", dt.date(2026, 2, 2), None)],
                                    latest=rf.EXTRACT, weeks=1, days=days, year_level={}, population=[])
        assert result.students[0].after == pytest.approx(measures.loc[key, "attendance_rate"])
    assert counts.suspension.tolist() == [0, 0, 1, 0]
    assert counts.unapproved.tolist() == [1, 0, 1, 1]


def test_unapproved_rate_and_suspension_days_windows() -> None:
    """unapproved_rate = unapproved half-days as a % of marked half-days; suspension_days =
    suspension half-days x 0.5; both in the same windows as the attendance rate."""
    rows = [("P", d, 2, 1, 1, 0) for d in BEFORE_DAYS] + [("P", d, 2, 2, 0, 2) for d in AFTER_DAYS]
    for key in ("A", "B"):
        rows += [(key, d, 2, 0, 0, 0) for d in BEFORE_DAYS + AFTER_DAYS]
    frame = pd.DataFrame(rows, columns=["key", "date", "marked", "absent", "unapproved", "suspension"])
    days = AttendanceDays(frame["key"], frame["date"], *(frame[c].to_numpy() for c in
                                                         ("marked", "absent", "unapproved", "suspension")))
    maps = [MappingRow(1, "P", "X", S, None)]
    year = {"P": "09", "A": "09", "B": "09"}
    un = evaluate_programme("X", "unapproved_rate", maps, latest=LATEST, weeks=1, days=days, year_level=year,
                            population=["A", "B"])
    assert (un.students[0].before, un.students[0].after) == (pytest.approx(50.0), pytest.approx(0.0))
    assert un.students[0].comparisons == ("A", "B") and un.difference == pytest.approx(-50.0)
    sus = evaluate_programme("X", "suspension_days", maps, latest=LATEST, weeks=1, days=days, year_level=year,
                             population=["A", "B"])
    assert (sus.students[0].before, sus.students[0].after) == (0.0, 6.0)
    assert sus.difference == pytest.approx(6.0)


def test_absence_rows_only_count_the_school_days_as_marked() -> None:
    """When nothing present is recorded, the half-days marked are the school days (as the measures
    count them): two a weekday between entry and exit, plus marked rows on other days."""
    from risk_factors.measures import school_day_numbers

    rows = [("P", BEFORE_DAYS[0], 2, 2), ("P", BEFORE_DAYS[1], 2, 2), ("P", AFTER_DAYS[0], 1, 1),
            ("P", dt.date(2026, 3, 8), 2, 2)]  # a Sunday: marked on a day that is not a school day
    frame = pd.DataFrame(rows, columns=["key", "date", "marked", "absent"])
    zeros = np.zeros(len(frame), dtype=np.int64)
    days = AttendanceDays(frame["key"], frame["date"], frame["marked"].to_numpy(), frame["absent"].to_numpy(),
                          zeros, zeros)
    epoch = dt.date(1970, 1, 1)
    days.use_school_days(school_day_numbers(None, load_default_rules(), dt.date(2026, 1, 1), LATEST),
                         {"P": None}, {"P": (dt.date(2026, 3, 13) - epoch).days})
    result = evaluate_programme("X", "attendance_rate", [MappingRow(1, "P", "X", S, None)], latest=LATEST, weeks=1,
                                days=days, year_level={}, population=[])
    p = result.students[0]
    # before 02/03-08/03: 5 weekdays (10 half-days) + the Sunday's 2; 6 absent -> 50 %
    assert p.before == pytest.approx((12 - 6) / 12 * 100)
    # after 09/03-16/03 but the student left on 13/03: 5 weekdays (10 half-days), 1 absent -> 90 %
    assert p.after == pytest.approx(90.0)


def test_equal_distances_from_float_rates_tie_by_key() -> None:
    """Candidates 33.3 points above and below (float rates, whose distances need not be exactly
    equal in floating point) are the same distance: the tie goes by key."""
    spec_rows: list[tuple[str, dt.date, int, int]] = []
    # P: 3 marked, 2 absent before (33.3 %); Z: 3 marked, 1 absent (66.7 %); Y: 3 marked, 3 absent (0 %)
    for key, absent in (("P", 2), ("Z", 1), ("Y", 3)):
        spec_rows += [(key, BEFORE_DAYS[0], 2, min(absent, 2)), (key, BEFORE_DAYS[1], 1, max(absent - 2, 0))]
        spec_rows += [(key, AFTER_DAYS[0], 2, 0)]
    frame = pd.DataFrame(spec_rows, columns=["key", "date", "marked", "absent"])
    zeros = np.zeros(len(frame), dtype=np.int64)
    days = AttendanceDays(frame["key"], frame["date"], frame["marked"].to_numpy(), frame["absent"].to_numpy(),
                          zeros, zeros)
    result = evaluate_programme("X", "attendance_rate", [MappingRow(1, "P", "X", S, None)], latest=LATEST, weeks=1,
                                days=days, year_level={"P": "09", "Y": "09", "Z": "09"}, population=["Y", "Z"])
    assert result.students[0].before == pytest.approx(100 / 3)
    assert result.students[0].comparisons == ("Y", "Z")
