"""The rules as data: the packaged defaults, round trips, changes and every validation error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from risk_factors import (
    MEASURE_SETTINGS,
    SETTING_NAMES,
    RiskFactorError,
    RiskRules,
    RuleError,
    load_default_rules,
    parse_setting,
)

ROOT = Path(__file__).resolve().parents[2]


def test_the_defaults_are_issue_5s() -> None:
    r = load_default_rules()
    assert r.attendance_rate_below == 90.0
    assert r.unapproved_days_at_least == 10.0
    assert r.suspension_days_above == 0.0
    assert (r.internal_suspension_code, r.external_suspension_code) == (400, 401)
    assert r.below_expected_levels == 1.0
    assert r.english_dimensions == ("ENGREA", "ENGWRI")
    assert r.maths_dimensions == ("MATNUM", "MATSTR")
    assert r.strand_dimensions == ("ENGREA", "ENGWRI", "MATNUM", "MATSTR")
    assert r.parent_not_in_paid_work_group == "N"
    assert r.population_statuses == ("ACTV", "INAC", "LVNG")
    assert r.counted == frozenset({"relationships_concern"})  # no status characteristic counts
    assert r.domain_map == {
        "attendance": ("flag_low_attendance", "flag_unapproved_absences"),
        "engagement": ("flag_suspension", "relationships_concern"),
        "achievement": ("flag_below_expected_english", "flag_below_expected_maths"),
    }
    assert r.priority_domains_at_least == 2


def test_the_file_is_plain_json_with_format_version_1() -> None:
    data = json.loads((ROOT / "resources" / "risk_rules.json").read_text("utf-8"))
    assert data["version"] == 1
    assert RiskRules.from_dict(data) == load_default_rules()


def test_round_trip_and_immutability() -> None:
    r = load_default_rules()
    assert RiskRules.from_dict(r.to_dict()) == r
    assert RiskRules.from_dict(json.loads(r.to_json())) == r
    assert hash(r) == hash(RiskRules.from_dict(r.to_dict()))
    with pytest.raises(AttributeError):
        r.attendance_rate_below = 50  # type: ignore[misc]


def test_with_change_returns_a_new_validated_set() -> None:
    r = load_default_rules()
    changed = r.with_change("attendance_rate_below", 85)
    assert changed.attendance_rate_below == 85.0
    assert r.attendance_rate_below == 90.0
    assert changed.with_change("attendance_rate_below", 90) == r
    assert r.with_change("count_koorie", True).counts("koorie")
    assert r.with_change("english_dimensions", ["engrea"]).english_dimensions == ("ENGREA",)


def test_missing_settings_take_the_defaults() -> None:
    r = RiskRules.from_dict(
        {"version": 1, "attendance_rate_below": 80, "count_in_flag_count": {"ema": True}}
    )
    assert r.attendance_rate_below == 80.0
    assert r.unapproved_days_at_least == 10.0
    assert r.counted == frozenset({"relationships_concern", "ema"})


def test_settings_lists_every_changeable_setting() -> None:
    s = load_default_rules().settings()
    assert list(s) == list(SETTING_NAMES)
    assert s["count_koorie"] is False and s["attendance_rate_below"] == 90.0
    assert (
        "strand_dimensions" in MEASURE_SETTINGS and "attendance_rate_below" not in MEASURE_SETTINGS
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("attendance_rate", 85, "Unknown rule setting 'attendance_rate'"),
        ("attendance_rate_below", "85", "must be a number, not '85'"),
        ("attendance_rate_below", True, "must be a number"),
        ("attendance_rate_below", 120, "percentage from 0 to 100; 120 is out of range"),
        ("attendance_rate_below", -1, "percentage from 0 to 100"),
        ("attendance_rate_below", float("nan"), "out of range"),
        ("unapproved_days_at_least", -2, "above 0 and at most 366"),
        ("unapproved_days_at_least", 0, "above 0"),
        ("suspension_days_above", -0.5, "from 0 to 366"),
        ("below_expected_levels", 0, "above 0"),
        ("internal_suspension_code", 0, "from 1 to 32767"),
        ("internal_suspension_code", "400", "whole-number absence code"),
        ("external_suspension_code", 400, "must differ from the internal suspension code"),
        ("english_dimensions", "ENGREA", "must be a list"),
        ("english_dimensions", ["ENGSPL"], "not among the strands"),
        ("strand_dimensions", [], "at least one"),
        ("strand_dimensions", ["ENGREA", "ENGREA"], "twice"),
        ("strand_dimensions", ["ENG REA"], "1 to 10 letters or digits"),
        ("parent_not_in_paid_work_group", "X", "occupation groups A, B, C, D, N, U"),
        ("population_statuses", ["ACTV", "GONE"], "not one of ACTV"),
        ("calendar_school_day_types", [], "at least one"),
        ("count_koorie", "yes", "must be yes or no"),
        ("domains", {"attendance": ["flag_low_attendance", "flag_low_attendance_2"]}, "use one of"),
        (
            "domains",
            {"a": ["flag_suspension"], "b": ["flag_suspension"]},
            "both the a and b domains",
        ),
        ("domains", {}, "at least one domain"),
        ("domains", {"Attendance!": ["flag_suspension"]}, "lower-case"),
        ("priority_domains_at_least", 4, "from 1 to the number of domains (3)"),
        ("priority_domains_at_least", 1.5, "whole number"),
    ],
)
def test_bad_changes_raise_readable_rule_errors(name: str, value: Any, message: str) -> None:
    rules = load_default_rules()
    with pytest.raises(RuleError) as info:
        rules.with_change(name, value)
    assert message in str(info.value)
    assert isinstance(info.value, RiskFactorError)
    assert "Traceback" not in str(info.value)


def test_a_rule_error_names_the_setting_in_words() -> None:
    with pytest.raises(RuleError) as info:
        load_default_rules().with_change("attendance_rate_below", 120)
    assert info.value.setting == "attendance_rate_below"
    assert str(info.value).startswith(
        "Low attendance: attendance rate below (%) (attendance_rate_below)"
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"thresholds": {}}, "Unknown rule setting 'thresholds'"),
        ({"version": 2}, "newer version of the tool"),
        ({"version": "one"}, "format version must be a whole number"),
        ({"count_in_flag_count": {"gender": True}}, "Unknown rule setting 'count_gender'"),
        ({"explanations": {"flag_low_attendance": "Rate {rate} is low"}}, "uses {rate}"),
        ({"explanations": {"flag_low_attendance": "Rate {attendance_rate is low"}}, "braces"),
        ({"explanations": {"flag_truancy": "x"}}, "Unknown explanation 'flag_truancy'"),
        ({"dimension_names": {"ENGREA": ""}}, "a name in words"),
    ],
)
def test_bad_rule_tables_raise_rule_errors(data: dict[str, Any], message: str) -> None:
    with pytest.raises(RuleError) as info:
        RiskRules.from_dict(data)
    assert message in str(info.value)


def test_text_changes_as_typed_on_the_command_line() -> None:
    r = load_default_rules()
    assert r.with_text_change("attendance_rate_below", "85").attendance_rate_below == 85.0
    assert r.with_text_change("attendance_rate_below", "87.5%").attendance_rate_below == 87.5
    assert r.with_text_change("internal_suspension_code", "402").internal_suspension_code == 402
    assert r.with_text_change("count_disability", "yes").counts("disability")
    assert not r.with_text_change("count_relationships_concern", "no").counts(
        "relationships_concern"
    )
    assert r.with_text_change("maths_dimensions", "MATNUM").maths_dimensions == ("MATNUM",)
    assert r.with_text_change("population_statuses", "ACTV, LVNG").population_statuses == (
        "ACTV",
        "LVNG",
    )
    domains = r.with_text_change(
        "domains", '{"attendance": ["flag_low_attendance"], "other": ["flag_suspension"]}'
    )
    assert domains.domain_map == {
        "attendance": ("flag_low_attendance",),
        "other": ("flag_suspension",),
    }


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("attendance_rate_below", "eighty", "must be a number, not 'eighty'"),
        ("internal_suspension_code", "4OO", "whole number"),
        ("count_koorie", "maybe", "yes or no"),
        ("domains", "attendance=flag_low_attendance", "JSON"),
        ("nonsense", "1", "Unknown rule setting"),
    ],
)
def test_bad_text_is_a_rule_error(name: str, text: str, message: str) -> None:
    with pytest.raises(RuleError) as info:
        parse_setting(name, text)
    assert message in str(info.value)


def test_fewer_domains_than_priority_needs_is_refused() -> None:
    with pytest.raises(RuleError, match="from 1 to the number of domains"):
        load_default_rules().with_change("domains", {"attendance": ["flag_low_attendance"]})
