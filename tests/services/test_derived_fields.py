"""Issue 11, items 2 and 3: narrowing reaches what is derived from an item, and every school role
gets de-identified counts of its own students.

The cases are generated from the policy: for every school role, every item the seed's table
gives it, and every derived field, the role with that one item narrowed away sees a derived
field exactly when it sees the field's own item and every input; the flag count and tier then
count only the flags it sees, and say so; explanations, history, cohort counts and the
de-identified summary follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from mapping_tool.security.policy import ITEMS, SEED_TABLE, TABLE_ROLES, load_policy
from mapping_tool.security.roles import Role
from mapping_tool.services import auth, deidentified, flags, students
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    HGT,
    HGT_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    WELFARE,
    WELFARE_PASSWORD,
    YLC,
    YLC_PASSWORD,
    imported_school,
)

ACCOUNTS = {
    Role.CUSTODIAN: (CUSTODIAN, CUSTODIAN_PASSWORD),
    Role.PRINCIPAL: (PRINCIPAL, PRINCIPAL_PASSWORD),
    Role.WELFARE: (WELFARE, WELFARE_PASSWORD),
    Role.YEAR_LEVEL_COORDINATOR: (YLC, YLC_PASSWORD),
    Role.HOME_GROUP_TEACHER: (HGT, HGT_PASSWORD),
}
SCHOOL_ROLES = (Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR, Role.HOME_GROUP_TEACHER)
POLICY = load_policy()
CASES = [
    (role, item)
    for role in SCHOOL_ROLES
    for item in ITEMS
    if SEED_TABLE[item][TABLE_ROLES.index(role.value)] == "Y" and item != "deidentified_data"
]


@pytest.fixture(scope="module")
def sessions(template_store: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    folder = imported_school(template_store, tmp_path_factory.mktemp("derived"), students=120, seed=11)
    opened = {role: auth.sign_in(folder, *ACCOUNTS[role]) for role in ACCOUNTS}
    yield opened
    for s in opened.values():
        auth.sign_out(s)


def _expected_visible(role: Role, narrowed: str, field: str) -> bool:
    """From the seed's table and the policy file's field and derived lists, not Policy's methods."""
    item = POLICY.fields[field]
    if item in ("custodian_only", "sensitive_label"):
        return False
    own = SEED_TABLE[item][TABLE_ROLES.index(role.value)] == "Y" and item != narrowed
    return own and narrowed not in POLICY.derived.get(field, ())


def _yes(value) -> bool:  # type: ignore[no-untyped-def]
    return bool(value) and value not in ("false", "0")


@pytest.mark.parametrize(("role", "item"), CASES, ids=[f"{r.value}-{i}" for r, i in CASES])
def test_narrowing_an_item_hides_what_is_derived_from_it(sessions, role: Role, item: str) -> None:  # type: ignore[no-untyped-def]
    custodian, user = sessions[Role.CUSTODIAN], sessions[role]
    full = students.list_students(custodian, audit=False)
    by_key = {r[0]: dict(zip(full.columns, r, strict=True)) for r in full.rows}
    students.set_narrowing(custodian, role, item, allowed=False)
    try:
        table = students.list_students(user, audit=False)
        assert table.rows
        for field in students.all_fields():
            assert (field in table.columns) == _expected_visible(role, item, field), (role, item, field)
        hidden = tuple(f for f in flags.FLAG_NAMES if item in POLICY.derived.get(f, ()))
        assert flags.hidden_flags(user) == (hidden if "flag_count" in table.columns else ())
        if "flag_count" not in table.columns or "student_key" not in table.columns:
            return
        assert bool(flags.partial_note(user)) == bool(hidden)
        for row in table.rows:
            mine = dict(zip(table.columns, row, strict=True))
            theirs = by_key[mine["student_key"]]
            if theirs["flag_count"] is None:
                continue
            left_out = sum(1 for h in hidden if theirs[h])
            assert mine["flag_count"] == theirs["flag_count"] - left_out
            assert not set(str(mine["new_flags"] or "").split(",")) & set(hidden)
            seen = [mine[f] for f in flags.FLAG_NAMES if f in mine] + [mine.get("relationships_concern")]
            if not any(_yes(v) for v in seen):
                assert mine["tier"] == "none", mine
            if not hidden:
                assert mine["tier"] == theirs["tier"]
        cohort = flags.cohort(user)
        assert not set(cohort.flag_counts) & set(hidden)
        summary = deidentified.build_summary(user)
        assert not set(summary.columns) & {flags.FLAG_TITLES[h] for h in hidden}
        # explanations and history of a student with a hidden flag
        for key, theirs in by_key.items():
            if key in {r[0] for r in table.rows} and any(theirs[h] for h in hidden):
                mine_view = flags.student_flags(user, key, audit=False)
                full_view = flags.student_flags(custodian, key, audit=False)
                assert len(mine_view.explanations) == len(full_view.explanations) - sum(1 for h in hidden if theirs[h])
                assert not set(mine_view.values) & set(hidden)
                assert mine_view.partial_note
                for past in flags.history(user, key, audit=False):
                    assert not set(past) & set(hidden)
                break
    finally:
        students.set_narrowing(custodian, role, item, allowed=True)


def test_the_case_of_the_issue_changes_counts_and_tiers(sessions) -> None:  # type: ignore[no-untyped-def]
    """Occupation of parents narrowed for the principal: the flag is gone and the counts of the
    students who had it drop by one; nobody is left in a tier by that flag alone."""
    custodian, principal = sessions[Role.CUSTODIAN], sessions[Role.PRINCIPAL]
    full = students.list_students(custodian, audit=False)
    col = full.columns.index
    had = [r for r in full.rows if r[col("flag_parent_not_in_paid_work")]]
    assert had, "the demo school should have parents not in paid work"
    students.set_narrowing(custodian, Role.PRINCIPAL, "occupation_of_parents", allowed=False)
    try:
        mine = {r[0]: r for r in students.list_students(principal, audit=False).rows}
        cols = students.list_students(principal, audit=False).columns
        assert "flag_parent_not_in_paid_work" not in cols
        for r in had:
            assert mine[r[0]][cols.index("flag_count")] == r[col("flag_count")] - 1
        only = [r for r in had if r[col("flag_count")] == 1 and not r[col("relationships_concern")]]
        for r in only:
            assert mine[r[0]][cols.index("tier")] == "none"
        assert "(left out: parents not in paid work)" in flags.partial_note(principal)
    finally:
        students.set_narrowing(custodian, Role.PRINCIPAL, "occupation_of_parents", allowed=True)


@pytest.mark.parametrize("role", [Role.HOME_GROUP_TEACHER, Role.YEAR_LEVEL_COORDINATOR])
def test_scoped_roles_get_a_deidentified_summary_of_their_own_students(sessions, role: Role, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    user = sessions[role]
    mine = students.list_students(user, fields=("student_key", "year_level", "status", "in_extract"), audit=False)
    counted = [r for r in mine.rows if r[3] and r[2] in ("ACTV", "LVNG", "INAC")]
    school = deidentified.build_summary(sessions[Role.PRINCIPAL])
    summary = deidentified.build_summary(user)
    total = summary.cells[-1][0]
    assert total is None or total == len(counted)
    assert set(summary.row_labels[:-1]) <= {r[1] for r in counted}
    assert school.cells[-1][0] is not None and (total is None or total < school.cells[-1][0])
    for cells in summary.cells:  # the same suppression: no count under 5
        assert all(v is None or v == 0 or v >= deidentified.THRESHOLD for v in cells)
    out = tmp_path / "summary.csv"
    deidentified.export_summary(user, out, fmt="csv")
    text = out.read_text("utf-8-sig")
    for key, *_ in mine.rows:
        assert key not in text
