"""compute_flags: each flag's threshold, the count, the tier, context columns and what is new."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from risk_factors import (
    CHARACTERISTICS,
    FLAG_COLUMNS,
    InputError,
    compute_flags,
    compute_measures,
    flag_frame_columns,
    load_default_rules,
    measure_columns,
)
from tests.risk_factors.frames import (
    EXTRACT,
    absence_types,
    attendance,
    measures,
    strand,
    students,
    year_levels,
)

RULES = load_default_rules()


def flags_of(m: pd.DataFrame, st: pd.DataFrame | None = None, **kwargs: Any) -> pd.DataFrame:
    if st is None:
        st = students(*({"student_key": k} for k in m["student_key"]))
    return compute_flags(m, st, kwargs.pop("rules", RULES), **kwargs)


def only(frame: pd.DataFrame, i: int = 0) -> dict[str, bool]:
    return {f: bool(frame.loc[i, f]) for f in FLAG_COLUMNS if frame.loc[i, f]}


@pytest.mark.parametrize(
    ("rate", "flag"),
    [(89.9, True), (90.0, False), (float("nan"), False), (0.0, True)],
)
def test_low_attendance_is_a_rate_below_90(rate: float, flag: bool) -> None:
    f = flags_of(measures({"attendance_rate": rate}))
    assert bool(f.loc[0, "flag_low_attendance"]) is flag


@pytest.mark.parametrize(("days", "flag"), [(10.0, True), (9.5, False), (25.5, True)])
def test_unapproved_absences_are_10_days_or_more(days: float, flag: bool) -> None:
    f = flags_of(measures({"unapproved_days": days}))
    assert bool(f.loc[0, "flag_unapproved_absences"]) is flag


@pytest.mark.parametrize(
    ("internal", "external", "flag"), [(0.0, 0.0, False), (0.5, 0.0, True), (0.0, 1.0, True)]
)
def test_suspension_is_any_suspension_day(internal: float, external: float, flag: bool) -> None:
    f = flags_of(
        measures({"internal_suspension_days": internal, "external_suspension_days": external})
    )
    assert bool(f.loc[0, "flag_suspension"]) is flag


def test_below_expected_is_one_level_or_more_below() -> None:
    m = measures(
        {"result_engrea": "7.5", "expected_engrea": 8.5},  # exactly 1.0 below: yes
        {"result_engwri": "7.75", "expected_engwri": 8.5},  # 0.75 below: no
        {"result_matstr": "6.0", "expected_matstr": 8.0},  # maths, 2.0 below: yes
        {"result_engrea": "DNP", "expected_engrea": float("nan")},  # not a level: no
        {"result_matnum": "", "expected_matnum": float("nan")},  # no result: no
    )
    f = flags_of(m)
    assert f["flag_below_expected_english"].tolist() == [True, False, False, False, False]
    assert f["flag_below_expected_maths"].tolist() == [False, False, True, False, False]


def test_below_expected_levels_is_a_setting() -> None:
    m = measures({"result_engwri": "7.75", "expected_engwri": 8.5})
    f = flags_of(m, rules=RULES.with_change("below_expected_levels", 0.75))
    assert bool(f.loc[0, "flag_below_expected_english"])


def test_parent_not_in_paid_work_is_occupation_group_n() -> None:
    f = flags_of(measures({"parent_occupation_group": "N"}, {"parent_occupation_group": "U"}))
    assert f["flag_parent_not_in_paid_work"].tolist() == [True, False]


def test_a_student_with_nothing_wrong_has_no_flags() -> None:
    f = flags_of(measures({}))
    assert only(f) == {}
    assert (f.loc[0, "flag_count"], f.loc[0, "tier"], f.loc[0, "tier_domains"]) == (0, "none", "")


def test_tier_none_monitor_priority_across_domains() -> None:
    m = measures(
        {},  # none
        {"attendance_rate": 80.0},  # attendance only: monitor
        {"attendance_rate": 80.0, "unapproved_days": 12.0},  # two flags, one domain: monitor
        {"attendance_rate": 80.0, "result_engrea": "5.0"},  # attendance + achievement: priority
        {"internal_suspension_days": 1.0, "result_matnum": "5.0"},  # engagement + achievement
        {"parent_occupation_group": "N"},  # a flag in no domain: monitor
        {"parent_occupation_group": "N", "attendance_rate": 50.0},  # still one domain: monitor
    )
    f = flags_of(m)
    assert f["tier"].tolist() == [
        "none",
        "monitor",
        "monitor",
        "priority",
        "priority",
        "monitor",
        "monitor",
    ]
    assert f["flag_count"].tolist() == [0, 1, 2, 2, 2, 1, 2]
    assert f["tier_domains"].tolist() == [
        "",
        "attendance",
        "attendance",
        "attendance,achievement",
        "engagement,achievement",
        "",
        "attendance",
    ]


def test_relationships_concern_counts_and_is_in_the_engagement_domain() -> None:
    m = measures({}, {"attendance_rate": 70.0}, {})
    f = flags_of(m, relationships_concern={"S1": True, "S2": True, "S3": False, "ELSEWHERE": True})
    assert f["relationships_concern"].tolist() == [True, True, False]
    assert f["flag_count"].tolist() == [1, 2, 0]
    assert f["tier"].tolist() == ["monitor", "priority", "none"]
    not_counted = flags_of(
        m,
        relationships_concern={"S1": True},
        rules=RULES.with_change("count_relationships_concern", False),
    )
    assert not_counted["flag_count"].tolist() == [0, 1, 0]
    assert not_counted["tier"].tolist() == ["monitor", "monitor", "none"]


def test_status_characteristics_are_context_and_count_only_when_set() -> None:
    m = measures({}, {"attendance_rate": 70.0})
    st = students(
        {"student_key": "S1", "koorie": True, "disability": True},
        {"student_key": "S2", "koorie": True, "ema": True},
    )
    f = flags_of(m, st)
    assert f["koorie"].tolist() == [True, True]
    assert f["disability"].tolist() == [True, False]
    assert f["ema"].tolist() == [False, True]
    assert f["flag_count"].tolist() == [0, 1]
    counted = flags_of(
        m, st, rules=RULES.with_change("count_koorie", True).with_change("count_ema", True)
    )
    assert counted["flag_count"].tolist() == [1, 3]
    # context never sets a tier by itself
    assert counted["tier"].tolist() == ["none", "monitor"]
    for name in CHARACTERISTICS:
        assert f[name].dtype == bool


def test_a_student_missing_from_the_students_table_has_no_characteristics() -> None:
    f = flags_of(measures({}), students({"student_key": "ELSE", "koorie": True}))
    assert not f.loc[0, list(CHARACTERISTICS)].any()


def test_priority_domains_at_least_is_a_setting() -> None:
    m = measures({"attendance_rate": 80.0, "result_engrea": "5.0"})
    f = flags_of(m, rules=RULES.with_change("priority_domains_at_least", 3))
    assert f.loc[0, "tier"] == "monitor"


def test_new_flags_against_the_previous_snapshot() -> None:
    before = flags_of(measures({"attendance_rate": 85.0}, {}, {"unapproved_days": 11.0}))
    now_m = measures(
        {"attendance_rate": 84.5, "internal_suspension_days": 1.0},  # suspension is new
        {"attendance_rate": 88.0},  # low attendance is new
        {},  # flag gone: nothing new
        {"unapproved_days": 10.0},  # not in the previous snapshot: every flag is new
    )
    f = flags_of(now_m, previous=before)
    assert f["new_flags"].tolist() == [
        "flag_suspension",
        "flag_low_attendance",
        "",
        "flag_unapproved_absences",
    ]
    assert f.loc[0, "attendance_rate_change"] == pytest.approx(-0.5)
    assert f.loc[1, "attendance_rate_change"] == pytest.approx(-12.0)
    assert f.loc[2, "unapproved_days_change"] == pytest.approx(-11.0)
    assert math.isnan(f.loc[3, "attendance_rate_change"])
    assert f.loc[0, "internal_suspension_days_change"] == 1.0
    assert f["flag_count_change"].tolist()[:3] == [1.0, 1.0, -1.0]
    assert f.loc[0, "result_engrea_change"] == 0.0


def test_without_a_previous_snapshot_nothing_is_new_and_changes_are_empty() -> None:
    f = flags_of(measures({"attendance_rate": 50.0}))
    assert f.loc[0, "new_flags"] == ""
    assert math.isnan(f.loc[0, "attendance_rate_change"])
    assert list(f.columns) == list(flag_frame_columns(list(measure_columns(RULES)), RULES))


def test_a_previous_frame_with_yes_no_text_is_understood() -> None:
    prev = pd.DataFrame(
        {"student_key": ["S1"], "flag_low_attendance": ["yes"], "attendance_rate": [80.0]}
    )
    f = flags_of(measures({"attendance_rate": 70.0, "unapproved_days": 10.0}), previous=prev)
    # low attendance was yes; unapproved absences is not in the old frame: cannot tell, not new
    assert f.loc[0, "new_flags"] == ""
    assert f.loc[0, "attendance_rate_change"] == -10.0


def test_measure_result_is_accepted_and_the_output_carries_the_inputs() -> None:
    st = students({"student_key": "S1"})
    att = attendance(
        [("S1", "2026-03-02", 500, "N", 500, "N"), ("S1", "2026-03-03", 100, "", 100, "")]
    )
    result = compute_measures(
        st, att, absence_types(), strand(), year_levels(), extract_date=EXTRACT, rules=RULES
    )
    f = compute_flags(result, st, RULES)
    assert f.loc[0, "attendance_rate"] == 50.0
    assert bool(f.loc[0, "flag_low_attendance"])
    assert f["flag_count"].dtype == np.int64
    assert f["tier"].dtype == "str"


def test_measures_computed_with_other_strands_are_refused() -> None:
    m = measures({}).drop(columns=["result_matstr"])
    with pytest.raises(InputError, match="Compute the measures again"):
        flags_of(m)
