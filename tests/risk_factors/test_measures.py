"""compute_measures on hand-built frames with exact expected numbers for every rule."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from risk_factors import InputError, compute_measures, load_default_rules, measure_columns
from tests.risk_factors.frames import (
    EXTRACT,
    absence_types,
    attendance,
    calendar,
    present_days,
    strand,
    students,
    weekdays,
    year_levels,
)

RULES = load_default_rules()


def run(st, att, results=None, *, cal=None, rules=RULES, kct=None):  # type: ignore[no-untyped-def]
    return compute_measures(
        st,
        att,
        absence_types() if kct is None else kct,
        strand() if results is None else results,
        year_levels(),
        extract_date=EXTRACT,
        rules=rules,
        calendar=cal,
    )


def row(result, key: str) -> pd.Series:  # type: ignore[no-untyped-def]
    frame = result.frame
    found = frame.loc[frame["student_key"] == key]
    assert len(found) == 1, f"{key} not in the population"
    return found.iloc[0]


# --- attendance ---------------------------------------------------------------------------


def test_half_days_count_half_a_day_and_the_rate_uses_marked_half_days() -> None:
    days = weekdays("2026-03-02", 10)
    rows = present_days("S1", days[1:]) + [("S1", days[0], 200, "Y", 100, "")]
    m = run(students({"student_key": "S1"}), attendance(rows))
    r = row(m, "S1")
    assert r["marked_days"] == 10.0
    assert r["absent_days"] == 0.5
    assert r["unapproved_days"] == 0.0
    assert r["attendance_rate"] == pytest.approx(95.0)  # (20 - 1) / 20 half-days
    assert list(m.frame.columns) == list(measure_columns(RULES))


def test_curriculum_codes_are_attendance_not_absence() -> None:
    days = weekdays("2026-03-02", 4)
    rows = present_days("S1", days[:2]) + [
        ("S1", days[2], 604, "", 604, ""),  # excursion: CURRICULUM=Y
        ("S1", days[3], 111, "", 100, ""),  # late arrival (< 200)
    ]
    r = row(run(students({"student_key": "S1"}), attendance(rows)), "S1")
    assert (r["marked_days"], r["absent_days"], r["attendance_rate"]) == (4.0, 0.0, 100.0)


def test_unknown_codes_count_as_absent_and_are_reported() -> None:
    days = weekdays("2026-03-02", 4)
    rows = present_days("S1", days[:2]) + [
        ("S1", days[2], 777, "", 777, "Y"),  # unknown, >= 200: absent (AM unapproved, PM approved)
        ("S1", days[3], 150, "", 100, ""),  # unknown, < 200: marked, not absent, still reported
    ]
    m = run(students({"student_key": "S1"}), attendance(rows))
    r = row(m, "S1")
    assert r["absent_days"] == 1.0
    assert r["unapproved_days"] == 0.5
    assert r["attendance_rate"] == pytest.approx(75.0)
    assert r["unknown_code_half_days"] == 3
    assert m.unknown_codes == frozenset({150, 777})
    finding = next(f for f in m.findings if f.code == "unknown_absence_code")
    assert finding.level == "warning"
    assert "150, 777" in finding.message and "3 half-days" in finding.message
    assert "S1" not in finding.message


@pytest.mark.parametrize(
    ("code", "approved", "unapproved"),
    [
        (500, "N", 0.5),  # flag N: unapproved
        (500, "Y", 0.0),  # flag Y: approved
        (200, "", 0.5),  # blank flag, type not pre-approved: unapproved
        (802, "", 0.0),  # blank flag, type PRE_APPROVED=Y: approved
        (802, "N", 0.5),  # the record's N wins over the type's pre-approval
        (300, "Y", 0.0),  # truancy approved on the roll counts as approved (flags first)
    ],
)
def test_unapproved_uses_the_record_flag_then_pre_approved(
    code: int, approved: str, unapproved: float
) -> None:
    rows = [("S1", "2026-03-02", code, approved, 100, "")]
    r = row(run(students({"student_key": "S1"}), attendance(rows)), "S1")
    assert r["absent_days"] == 0.5
    assert r["unapproved_days"] == unapproved


def test_suspension_days_from_codes_400_and_401() -> None:
    days = weekdays("2026-05-04", 4)
    rows = present_days("S1", days[:2]) + [
        ("S1", days[2], 400, "", 100, ""),
        ("S1", days[3], 401, "", 401, ""),
    ]
    r = row(run(students({"student_key": "S1"}), attendance(rows)), "S1")
    assert r["internal_suspension_days"] == 0.5
    assert r["external_suspension_days"] == 1.0
    assert r["absent_days"] == 1.5
    assert r["attendance_rate"] == pytest.approx(62.5)


def test_suspension_codes_are_settings() -> None:
    rules = RULES.with_change("internal_suspension_code", 208).with_change(
        "external_suspension_code", 300
    )
    rows = [("S1", "2026-03-02", 208, "", 400, "")]
    r = row(run(students({"student_key": "S1"}), attendance(rows), rules=rules), "S1")
    assert (r["internal_suspension_days"], r["external_suspension_days"]) == (0.5, 0.0)


def test_rate_is_empty_when_nothing_is_marked() -> None:
    rows = [("S1", "2026-03-02", 0, "", 0, "")]
    m = run(students({"student_key": "S1"}, {"student_key": "S2"}), attendance(rows))
    for key in ("S1", "S2"):
        r = row(m, key)
        assert math.isnan(r["attendance_rate"])
        assert r["marked_days"] == 0.0


def test_only_this_calendar_year_up_to_the_extract_date_counts() -> None:
    rows = [
        ("S1", "2025-12-15", 500, "N", 500, "N"),  # last year
        ("S1", "2026-01-28", 100, "", 100, ""),
        ("S1", EXTRACT.isoformat(), 200, "N", 200, "N"),  # the extract date itself counts
        ("S1", "2026-09-21", 500, "N", 500, "N"),  # after the extract date
    ]
    r = row(run(students({"student_key": "S1"}), attendance(rows)), "S1")
    assert (r["marked_days"], r["absent_days"], r["unapproved_days"]) == (2.0, 1.0, 1.0)


def test_population_by_status_and_exit_year() -> None:
    st = students(
        {"student_key": "ACT", "status": "ACTV"},
        {"student_key": "INA", "status": "INAC"},
        {"student_key": "LVN", "status": "LVNG", "exit_date": pd.Timestamp("2026-12-18")},
        {"student_key": "LEFT26", "status": "LEFT", "exit_date": pd.Timestamp("2026-04-01")},
        {"student_key": "LEFT25", "status": "LEFT", "exit_date": pd.Timestamp("2025-12-19")},
        {"student_key": "FUT", "status": "FUT", "entry_date": pd.Timestamp("2027-01-28")},
        {"student_key": "DEL", "status": "DEL"},
    )
    rows = [(k, "2026-03-02", 100, "", 100, "") for k in st["student_key"]]
    m = run(st, attendance(rows))
    assert list(m.frame["student_key"]) == ["ACT", "INA", "LVN", "LEFT26"]


def test_population_statuses_are_a_setting() -> None:
    st = students({"student_key": "A"}, {"student_key": "F", "status": "FUT"})
    rules = RULES.with_change("population_statuses", ["ACTV", "FUT"])
    m = run(st, attendance([]), rules=rules)
    assert list(m.frame["student_key"]) == ["A", "F"]


def test_merged_sxabconv_half_days_count_like_sxab_ones() -> None:
    # the importer has already applied SXAB precedence; a half-day taken from SXABCONV is
    # just a row of the attendance frame (its source column is not used)
    att = attendance(
        [("S1", "2026-03-02", 500, "N", 100, ""), ("S1", "2026-03-03", 100, "", 100, "")]
    )
    att.loc[0, "am_source"] = "SXABCONV"
    r = row(run(students({"student_key": "S1"}), att), "S1")
    assert (r["unapproved_days"], r["attendance_rate"]) == (0.5, 75.0)


def test_categorical_frames_as_the_importer_builds_them_give_the_same_result() -> None:
    st = students(
        {"student_key": "S1"}, {"student_key": "S2"}, {"student_key": "GONE", "status": "LEFT"}
    )
    rows = [
        ("S1", "2026-03-02", 500, "N", 100, ""),
        ("S2", "2026-03-02", 802, "", 401, ""),
        ("GONE", "2026-03-02", 500, "N", 500, "N"),
        ("S1", "2026-03-03", 100, "", 208, ""),
    ]
    plain = run(st, attendance(rows)).frame
    cat = run(st, attendance(rows, categorical=True, keys=["X0", *st["student_key"]])).frame
    pd.testing.assert_frame_equal(plain, cat)


def test_students_without_rows_are_in_the_frame_and_others_rows_are_ignored() -> None:
    st = students({"student_key": "S1"}, {"student_key": "S2"})
    rows = present_days("S1", ["2026-03-02"]) + [("NOBODY", "2026-03-02", 500, "N", 500, "N")]
    m = run(st, attendance(rows))
    assert m.frame["marked_days"].tolist() == [1.0, 0.0]


def test_parent_occupation_group_is_the_family_group() -> None:
    st = students({"student_key": "S1", "family_occupation_group": "N"}, {"student_key": "S2"})
    assert run(st, attendance([])).frame["parent_occupation_group"].tolist() == ["N", "A"]


# --- absence rows only ----------------------------------------------------------------------


def test_absence_rows_only_counts_marked_half_days_from_the_calendar() -> None:
    cal = calendar(
        [
            ("2026-03-02", "S"),
            ("2026-03-03", "S"),
            ("2026-03-04", "H"),
            ("2026-03-05", "S"),
            ("2026-03-06", "S"),
            ("2025-12-01", "S"),
            ("2026-09-21", "S"),
        ]
    )
    st = students(
        {"student_key": "S1"},
        {"student_key": "S2", "entry_date": pd.Timestamp("2026-03-05")},
        {"student_key": "S3", "status": "LEFT", "exit_date": pd.Timestamp("2026-03-03")},
    )
    rows = [("S1", "2026-03-02", 500, "N", 500, "N"), ("S2", "2026-03-06", 200, "Y", 0, "")]
    m = run(st, attendance(rows), cal=cal)
    assert m.marked_from_calendar
    assert m.frame["marked_days"].tolist() == [4.0, 2.0, 2.0]
    assert m.frame["absent_days"].tolist() == [1.0, 0.5, 0.0]
    assert m.frame["attendance_rate"].tolist() == pytest.approx([75.0, 75.0, 100.0])
    finding = next(f for f in m.findings if f.code == "marked_from_calendar")
    assert "calendar (KCC)" in finding.message


def test_absence_rows_only_without_a_calendar_uses_weekdays() -> None:
    rows = [("S1", "2026-09-14", 500, "N", 0, "")]  # a Monday; extract date is Friday 18th
    st = students({"student_key": "S1", "entry_date": pd.Timestamp("2026-09-12")})
    m = run(st, attendance(rows), cal=calendar())
    assert m.marked_from_calendar
    assert row(m, "S1")["marked_days"] == 5.0
    assert "weekdays" in next(f for f in m.findings if f.code == "marked_from_calendar").message


def test_absence_on_a_day_outside_the_calendar_still_counts_as_marked() -> None:
    cal = calendar([("2026-03-02", "S")])
    rows = [("S1", "2026-03-07", 500, "N", 500, "N")]  # a Saturday: not a school day
    m = run(students({"student_key": "S1"}), attendance(rows), cal=cal)
    r = row(m, "S1")
    assert (r["marked_days"], r["absent_days"], r["attendance_rate"]) == (2.0, 1.0, 50.0)


def test_present_rows_mean_no_calendar_fallback() -> None:
    cal = calendar([("2026-03-02", "S"), ("2026-03-03", "S")])
    m = run(
        students({"student_key": "S1"}), attendance(present_days("S1", ["2026-03-02"])), cal=cal
    )
    assert not m.marked_from_calendar
    assert row(m, "S1")["marked_days"] == 1.0
    assert all(f.code != "marked_from_calendar" for f in m.findings)


def test_no_attendance_this_year_is_a_finding() -> None:
    m = run(students({"student_key": "S1"}), attendance([("S1", "2025-06-02", 100, "", 100, "")]))
    assert [f.code for f in m.findings] == ["no_attendance_this_year"]
    assert math.isnan(row(m, "S1")["attendance_rate"])


# --- strand results ---------------------------------------------------------------------------


def test_latest_result_skips_na_and_semester_one_expects_half_a_level_less() -> None:
    results = strand(
        ("S1", "2025.2", "ENGREA", "8.0", "08"),
        ("S1", "2026.1", "ENGREA", "NA", "09"),  # NA: skipped
        ("S1", "2026.1", "ENGWRI", "7.5", "09"),  # semester 1 of Year 9: expected 8.5
        ("S1", "2025.2", "ENGWRI", "9.0", "08"),
        ("S1", "2025.2", "MATNUM", "DNP", "08"),  # not a level: kept as text, not compared
        ("S1", "2024.2", "MATNUM", "7.0", "07"),
        ("S1", "2026.1", "HPEPA", "9.0", "09"),  # not a strand of the rules
        ("OTHER", "2026.1", "ENGREA", "1.0", "09"),  # not in the population
    )
    m = run(students({"student_key": "S1"}), attendance([]), results)
    r = row(m, "S1")
    assert (r["result_engrea"], r["semester_engrea"], r["expected_engrea"]) == (
        "8.0",
        "2025.2",
        8.0,
    )
    assert (r["result_engwri"], r["semester_engwri"], r["expected_engwri"]) == (
        "7.5",
        "2026.1",
        8.5,
    )
    assert r["result_matnum"] == "DNP" and math.isnan(r["expected_matnum"])
    assert r["result_matstr"] == "" and math.isnan(r["expected_matstr"])
    assert (r["results_missing"], r["results_not_compared"]) == (1, 1)
    assert "result_hpepa" not in m.frame.columns
    assert any(f.code == "results_not_compared" for f in m.findings)


def test_year_level_without_a_numeric_equivalent_is_not_compared() -> None:
    results = strand(("S1", "2026.1", "ENGREA", "5.0", "UG"), ("S1", "2026.1", "ENGWRI", "5.0", ""))
    r = row(run(students({"student_key": "S1"}), attendance([]), results), "S1")
    assert r["result_engrea"] == "5.0" and math.isnan(r["expected_engrea"])
    assert r["result_engwri"] == "5.0" and math.isnan(r["expected_engwri"])
    assert r["results_not_compared"] == 2


def test_a_numeric_year_level_missing_from_kcy_is_its_own_number() -> None:
    # a secondary school's KCY lists 07-12: a Year 7 student's latest result is from Year 6
    results = strand(
        ("S1", "2025.2", "ENGREA", "5.0", "06"),
        ("S1", "2026.1", "ENGWRI", "NA", "07"),
        ("S1", "2025.2", "ENGWRI", "4.5", "06"),
        ("S2", "2025.1", "ENGREA", "0.5", "P"),
        ("S3", "2025.2", "ENGREA", "1.0", "00"),
        ("S4", "2025.2", "ENGREA", "0.5", "F"),
    )
    m = run(
        students(
            {"student_key": "S1"},
            {"student_key": "S2"},
            {"student_key": "S3"},
            {"student_key": "S4"},
        ),
        attendance([]),
        results,
    )
    r = row(m, "S1")
    assert (r["result_engrea"], r["expected_engrea"]) == ("5.0", 6.0)
    assert (r["result_engwri"], r["expected_engwri"]) == ("4.5", 6.0)
    assert r["results_not_compared"] == 0
    assert row(m, "S2")["expected_engrea"] == -0.5  # Prep, first semester
    assert row(m, "S3")["expected_engrea"] == 0.0
    assert row(m, "S4")["expected_engrea"] == 0.0
    (note,) = [f for f in m.findings if f.code == "year_level_not_in_kcy"]
    assert note.level == "warning"
    assert note.message == (
        "5 latest strand results are from a year level the year levels file (KCY) does not "
        "list (00, 06, F, P); each was compared using the year level's own number "
        "(Prep/Foundation as 0)."
    )


def test_unreadable_year_semester_is_left_out_and_reported() -> None:
    results = strand(("S1", "2026", "ENGREA", "1.0", "09"), ("S1", "2025.2", "ENGREA", "9.0", "09"))
    m = run(students({"student_key": "S1"}), attendance([]), results)
    assert row(m, "S1")["result_engrea"] == "9.0"
    assert any(f.code == "unreadable_year_semester" for f in m.findings)


def test_strand_dimensions_are_a_setting() -> None:
    rules = RULES.with_change(
        "strand_dimensions", ["ENGREA", "ENGWRI", "MATNUM", "MATSTR", "ENGSPL"]
    )
    results = strand(("S1", "2026.1", "ENGSPL", "8.0", "09"))
    m = run(students({"student_key": "S1"}), attendance([]), results, rules=rules)
    assert row(m, "S1")["result_engspl"] == "8.0"
    assert row(m, "S1")["expected_engspl"] == 8.5


# --- inputs ---------------------------------------------------------------------------------


def test_a_missing_column_is_a_readable_error() -> None:
    st = students({"student_key": "S1"}).drop(columns=["status"])
    with pytest.raises(InputError, match="students table .* no status column"):
        run(st, attendance([]))


def test_an_empty_school_gives_an_empty_frame() -> None:
    m = run(students({"student_key": "F", "status": "FUT"}), attendance([]))
    assert len(m.frame) == 0
    assert list(m.frame.columns) == list(measure_columns(RULES))
    assert m.frame["attendance_rate"].dtype == np.float64
