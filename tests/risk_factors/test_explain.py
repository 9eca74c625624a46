"""explain: one clear sentence per flag that is yes, with the rule version and extract date."""

from __future__ import annotations

import pandas as pd

from risk_factors import RiskRules, compute_flags, explain, load_default_rules
from tests.risk_factors.frames import EXTRACT, measures, students

RULES = load_default_rules()
BASIS = "(rule v3, extract 18/09/2026)"


def flagged(
    row: dict, *, rules: RiskRules = RULES, st: pd.DataFrame | None = None, **kwargs: object
) -> pd.Series:  # type: ignore[type-arg]
    m = measures(row, rules=rules)
    st = students({"student_key": "S1"}) if st is None else st
    return compute_flags(m, st, rules, **kwargs).iloc[0]  # type: ignore[arg-type]


def sentences(row: pd.Series, rules: RiskRules = RULES) -> list[str]:
    return explain(row, rules, rule_version=3, extract_date=EXTRACT)


def test_no_flag_no_sentence() -> None:
    assert sentences(flagged({})) == []


def test_low_attendance_sentence_is_the_issues_example() -> None:
    assert sentences(flagged({"attendance_rate": 84.5})) == [
        f"Attendance 84.5% is below the 90% threshold {BASIS}."
    ]


def test_a_rate_just_under_the_threshold_is_not_shown_as_the_threshold() -> None:
    assert sentences(flagged({"attendance_rate": 89.96})) == [
        f"Attendance 89.96% is below the 90% threshold {BASIS}."
    ]


def test_unapproved_absences_sentence() -> None:
    assert sentences(flagged({"unapproved_days": 12.5})) == [
        f"Unapproved absences total 12.5 days this year, at or above the threshold of 10 days {BASIS}."
    ]


def test_suspension_sentence() -> None:
    row = flagged({"internal_suspension_days": 0.5, "external_suspension_days": 1.0})
    assert sentences(row) == [
        "Suspended for 1.5 days this year (0.5 days internal, 1 day external), more than the "
        f"threshold of 0 days {BASIS}."
    ]


def test_below_expected_sentences_name_each_strand_that_is_below() -> None:
    row = flagged(
        {
            "result_engrea": "7.5",
            "expected_engrea": 8.5,
            "semester_engrea": "2026.1",
            "result_engwri": "8.0",  # only 0.5 below: not named
            "result_matnum": "6.0",
            "expected_matnum": 8.0,
            "semester_matnum": "2025.2",
            "result_matstr": "5.75",
            "expected_matstr": 7.5,
            "semester_matstr": "2025.2",
        }
    )
    assert sentences(row) == [
        "English is 1.0 level or more below the expected level: Reading 7.5 against an expected "
        f"8.5 in semester 1 of 2026 {BASIS}.",
        "Mathematics is 1.0 level or more below the expected level: Number 6.0 against an "
        "expected 8.0 in semester 2 of 2025; Structure 5.75 against an expected 7.5 in semester 2 "
        f"of 2025 {BASIS}.",
    ]


def test_parent_and_relationships_sentences() -> None:
    row = flagged({"parent_occupation_group": "N"}, relationships_concern={"S1": True})
    assert sentences(row) == [
        f"The family occupation group is N: not in paid work in the last 12 months {BASIS}.",
        f"Staff have recorded a concern about relationships {BASIS}.",
    ]


def test_a_status_characteristic_is_explained_only_when_it_counts() -> None:
    st = students({"student_key": "S1", "koorie": True, "medical_alert": True})
    assert sentences(flagged({}, st=st)) == []
    rules = RULES.with_change("count_koorie", True)
    assert sentences(flagged({}, st=st, rules=rules), rules) == [
        f"Koorie: yes, counted in the flag count by the school's rules {BASIS}."
    ]


def test_sentences_follow_the_rules_wording_and_thresholds() -> None:
    data = RULES.to_dict()
    data["attendance_rate_below"] = 92.5
    data["explanations"]["flag_low_attendance"] = "Rate {attendance_rate} < {threshold} [{basis}]"
    rules = RiskRules.from_dict(data)
    assert sentences(flagged({"attendance_rate": 91.0}, rules=rules), rules) == [
        "Rate 91.0% < 92.5% [rule v3, extract 18/09/2026]"
    ]


def test_a_plain_mapping_works_and_several_flags_come_in_order() -> None:
    row = flagged(
        {"attendance_rate": 70.0, "unapproved_days": 20.0, "parent_occupation_group": "N"}
    )
    out = explain(dict(row), RULES, rule_version=1, extract_date=EXTRACT)
    assert [s.split(" ")[0] for s in out] == ["Attendance", "Unapproved", "The"]
    assert all(s.endswith("(rule v1, extract 18/09/2026).") for s in out)
