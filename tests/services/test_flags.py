"""Risk factors in the store: flags computed at import with their rule version and snapshot,
rule changes as new versions, the relationships concern, tier overrides across refreshes, the
export contract and the rules command."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from importers.demo import generate_demo_extract
from mapping_tool import cli
from mapping_tool.errors import UsageError
from mapping_tool.services import audit, auth, flags, imports, students
from mapping_tool.store.models import RuleVersion, StudentFlags
from tests.services.test_imports import edit_table
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT, HGT_PASSWORD

EXTRACT_DATE = date(2026, 9, 18)
CONTRACT = [
    "student_key", "surname", "first_name", "year_level", "home_group", "status", "attendance_rate", "unapproved_days",
    "internal_suspension_days", "external_suspension_days", "parent_occupation_group", "koorie", "refugee_background",
    "disability", "integration", "youth_allowance", "access_alert", "risk_alert", "medical_alert", "ema",
    "flag_low_attendance", "flag_unapproved_absences", "flag_suspension", "flag_below_expected_english",
    "flag_below_expected_maths", "flag_parent_not_in_paid_work", "flag_count", "tier", "result_engrea",
    "result_engwri", "result_matnum", "result_matstr",
]


@pytest.fixture(scope="module")
def extract_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("flags") / "eduhub"
    generate_demo_extract(folder, students=120, extract_date=EXTRACT_DATE, years=1, seed=21)
    return folder


@pytest.fixture
def school(custodian, extract_dir: Path):  # type: ignore[no-untyped-def]
    imports.import_cases21(custodian, extract_dir)
    return custodian


def _flag_rows(user) -> int:  # type: ignore[no-untyped-def]
    with user.store.read() as s:
        return int(s.execute(select(func.count()).select_from(StudentFlags)).scalar_one())


def test_import_stores_flags_with_rule_version_inputs_and_snapshot(school) -> None:  # type: ignore[no-untyped-def]
    with school.store.read() as s:
        row = s.execute(select(StudentFlags).limit(1)).scalar_one()
        assert row.rule_version == 1 and row.snapshot_id == imports.latest_snapshot(school).id
        data = json.loads(row.data)
        assert {"attendance_rate", "unapproved_days", "flag_low_attendance", "tier", "marked_days"} <= set(data)
        assert s.execute(select(func.count()).select_from(RuleVersion)).scalar_one() == 1
    table = students.list_students(school, audit=False)
    tiers = set(table.column("tier")) - {None}
    assert tiers <= set(flags.TIERS) and "monitor" in tiers
    rates = [r for r in table.column("attendance_rate") if r is not None]
    assert rates and all(0 <= r <= 100 for r in rates)


def test_export_carries_the_contract_columns_in_order_with_yes_no(school, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "all.csv"
    students.export_students(school, out, fmt="csv")
    with out.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][: len(CONTRACT)] == CONTRACT
    flag_col = rows[0].index("flag_low_attendance")
    assert {r[flag_col] for r in rows[1:]} <= {"yes", "no", ""}
    assert "yes" in {r[rows[0].index("koorie")] for r in rows[1:]} | {"yes"}


def test_a_teacher_export_has_the_contract_order_masked(store_dir: Path, school, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    out = tmp_path / "teacher.csv"
    assert cli.run(["--store", str(store_dir), "--user", HGT, "students", "--out", str(out), "--format", "csv"]) == 0
    with out.open(encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
        body = list(csv.reader(fh))
    teacher = auth.sign_in(store_dir, HGT, HGT_PASSWORD)
    try:
        allowed = set(students.visible_fields(teacher))
    finally:
        auth.sign_out(teacher)
    assert header[: len([c for c in CONTRACT if c in allowed])] == [c for c in CONTRACT if c in allowed]
    assert {r[header.index("home_group")] for r in body} <= {"07A"}


def test_a_rule_change_is_a_new_version_and_recomputes(school) -> None:  # type: ignore[no-untyped-def]
    before = flags.cohort(school).flag_counts["flag_low_attendance"]
    version = flags.set_rule(school, "attendance_rate_below", "97", "Term 4 focus on attendance")
    assert version == 2
    after = flags.cohort(school).flag_counts["flag_low_attendance"]
    assert after > before
    view = flags.show_rules(school)
    assert view.version == 2 and view.settings["attendance_rate_below"] == 97 and view.reason == "Term 4 focus on attendance"
    changed = audit.entries(school, action="rules.changed")[0]
    assert json.loads(changed.detail)["new"] == 97
    key = next(k for k, f in zip(students.list_students(school, audit=False).column("student_key"),
                                 students.list_students(school, audit=False).column("flag_low_attendance"), strict=True) if f)
    sentences = flags.student_flags(school, key).explanations
    assert any("97% threshold (rule v2, extract 18/09/2026)" in s for s in sentences)


def test_a_measure_setting_change_recomputes_from_the_stored_extract(school) -> None:  # type: ignore[no-untyped-def]
    def suspended() -> int:
        return sum(1 for v in students.list_students(school, audit=False).column("internal_suspension_days") if v)

    before = suspended()
    flags.set_rule(school, "internal_suspension_code", "300", "count truancy as internal suspension (test)")
    assert flags.show_rules(school).settings["internal_suspension_code"] == 300
    assert suspended() > before  # recomputed from the stored attendance, not just re-flagged


@pytest.mark.parametrize("name, value", [("attendance_rate_below", "150"), ("no_such_rule", "1"), ("unapproved_days_at_least", "lots")])
def test_bad_rule_changes_are_refused_and_change_nothing(school, name: str, value: str) -> None:  # type: ignore[no-untyped-def]
    rows = _flag_rows(school)
    with pytest.raises(UsageError):
        flags.set_rule(school, name, value, "reason")
    with pytest.raises(UsageError, match="why"):
        flags.set_rule(school, "attendance_rate_below", "85", "   ")
    assert flags.show_rules(school).version == 1 and _flag_rows(school) == rows


def test_relationships_concern_is_recorded_and_moves_the_tier(school) -> None:  # type: ignore[no-untyped-def]
    table = students.list_students(school, audit=False)
    cols = table.columns
    # a student flagged only for attendance: a concern adds the engagement domain -> priority
    row = next(r for r in table.rows if r[cols.index("tier")] == "monitor" and r[cols.index("flag_low_attendance")]
               and not r[cols.index("flag_suspension")] and not r[cols.index("flag_below_expected_english")]
               and not r[cols.index("flag_below_expected_maths")])
    key = row[cols.index("student_key")]
    flags.set_relationships_concern(school, key, True)
    view = flags.student_flags(school, key)
    assert view.values["relationships_concern"] is True and view.values["tier"] == "priority"
    assert view.concern_recorded_by == CUSTODIAN and view.concern_recorded_at is not None
    assert audit.entries(school, action="concern.recorded")[0].object_id == key


def test_tier_override_needs_a_reason_and_survives_a_refresh_beside_the_computed_tier(school, extract_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    key = students.list_students(school, audit=False).rows[0][0]
    with pytest.raises(UsageError, match="reason"):
        flags.override_tier(school, key, "priority", "")
    flags.override_tier(school, key, "priority", "Family circumstances known to the welfare team")
    later = tmp_path / "later"
    shutil.copytree(extract_dir, later)
    edit_table(later, "SXAB_8123.csv", lambda rows: [{**r, "AM_ACT_TYPE": "300", "PM_ACT_TYPE": "300", "AM_APPROVED": "N", "PM_APPROVED": "N"}
                                                     if r["STKEY"] == key else r for r in rows])
    imports.import_cases21(school, later)
    overrides = flags.list_overrides(school)
    assert [o.student_key for o in overrides] == [key]
    assert overrides[0].tier == "priority" and overrides[0].computed_now in flags.TIERS
    record = students.get_student(school, key)
    assert record["tier_override"] == "priority" and record["tier"] in flags.TIERS
    assert "flag_low_attendance" in (record["new_flags"] or "") or record["flag_low_attendance"]
    flags.clear_override(school, key)
    assert flags.list_overrides(school) == []


def test_rules_command_shows_and_sets(store_dir: Path, school, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    base = ["--store", str(store_dir), "--user", CUSTODIAN, "rules"]
    assert cli.run([*base, "show"]) == 0
    assert "attendance_rate_below: 90" in capsys.readouterr().out
    assert cli.run([*base, "set", "unapproved_days_at_least", "8", "--reason", "Earlier follow-up"]) == 0
    assert "rule version 2" in capsys.readouterr().out
    assert cli.run([*base, "set", "attendance_rate_below", "150", "--reason", "x"]) == 2
    assert "0 to 100" in capsys.readouterr().err
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    assert cli.run(["--store", str(store_dir), "--user", HGT, "rules", "set", "attendance_rate_below", "80", "--reason", "x"]) == 4
