"""Who may see what: tests generated from the policy file, row scope, narrowing, exports."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from mapping_tool import cli
from mapping_tool.security import policy as policy_mod
from mapping_tool.security.policy import (
    ITEMS,
    SEED_TABLE,
    TABLE_ROLES,
    PolicyError,
    load_policy,
    parse_policy,
)
from mapping_tool.security.roles import Role
from mapping_tool.services import audit, auth, deidentified, imports, students
from mapping_tool.store.models import Student
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

ROOT = Path(__file__).resolve().parents[2]
ACCOUNTS = {
    Role.CUSTODIAN: (CUSTODIAN, CUSTODIAN_PASSWORD),
    Role.PRINCIPAL: (PRINCIPAL, PRINCIPAL_PASSWORD),
    Role.WELFARE: (WELFARE, WELFARE_PASSWORD),
    Role.YEAR_LEVEL_COORDINATOR: (YLC, YLC_PASSWORD),
    Role.HOME_GROUP_TEACHER: (HGT, HGT_PASSWORD),
}


@pytest.fixture(scope="module")
def school(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with an imported demo school (module scope: imported once)."""
    return imported_school(template_store, tmp_path_factory.mktemp("access"), students=80, seed=3)


@pytest.fixture(scope="module")
def sessions(school: Path):  # type: ignore[no-untyped-def]
    opened = {role: auth.sign_in(school, *ACCOUNTS[role]) for role in ACCOUNTS}
    yield opened
    for s in opened.values():
        auth.sign_out(s)


def _student_in(user, **where):  # type: ignore[no-untyped-def]
    with user.store.read() as s:
        q = s.query(Student)
        for k, v in where.items():
            q = q.filter(getattr(Student, k) == v)
        return q.order_by(Student.student_key).first()


# -- the policy file ------------------------------------------------------------------------


def test_policy_file_reproduces_the_seed_table_exactly() -> None:
    data = json.loads((ROOT / "resources" / "access_policy.json").read_text())
    for item in ITEMS:
        assert tuple(data["items"][item]["access"][r] for r in TABLE_ROLES) == SEED_TABLE[item]
    assert data["items"]["unapproved_absences"]["access"]["agency"] == "when requested"


def test_every_stored_student_field_is_assigned() -> None:
    policy = load_policy()
    internal = {"first_snapshot_id", "last_snapshot_id", "family_occupation_group"}
    stored = {c.name for c in Student.__table__.columns} - internal
    assert stored <= set(policy.fields), stored - set(policy.fields)
    assert set(students.BASE_FIELDS) <= set(policy.fields)


NOT_Y = [(item, role) for item in ITEMS for role, v in zip(TABLE_ROLES, SEED_TABLE[item], strict=True) if v != "Y"]


@pytest.mark.parametrize(("item", "role"), NOT_Y)
def test_a_policy_file_widened_beyond_the_table_is_refused(item: str, role: str) -> None:
    data = json.loads((ROOT / "resources" / "access_policy.json").read_text())
    data["items"][item]["access"][role] = "Y"
    with pytest.raises(PolicyError, match="more access"):
        parse_policy(json.dumps(data))


def test_the_tool_refuses_to_start_with_a_widened_policy_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:  # type: ignore[no-untyped-def]
    data = json.loads((ROOT / "resources" / "access_policy.json").read_text())
    data["items"]["home_group"]["access"]["regional-office"] = "Y"
    (tmp_path / "access_policy.json").write_text(json.dumps(data))
    monkeypatch.setattr(policy_mod.resources, "files", lambda package: tmp_path)
    policy_mod.load_policy.cache_clear()
    try:
        code = cli.run(["--user", CUSTODIAN, "user", "list"])
    finally:
        policy_mod.load_policy.cache_clear()
    assert code == 6
    assert "more access" in capsys.readouterr().err


# -- generated from the policy: every role x every field ----------------------------------------


def _expected(role: Role, field: str) -> bool:
    policy = load_policy()
    if role is Role.CUSTODIAN:
        return True
    item = policy.fields[field]
    if item in ("custodian_only", "sensitive_label"):
        return False
    return policy.items[item][role.value] == "Y"


@pytest.mark.parametrize("role", list(Role))
def test_each_role_gets_each_field_exactly_when_the_table_says_y(sessions, role: Role) -> None:  # type: ignore[no-untyped-def]
    user = sessions[role]
    visible = students.list_students(user, audit=False)
    assert visible.rows, "the role should see some students"
    key = visible.rows[0][visible.columns.index("student_key")]
    record = students.get_student(user, key)
    for field in students.all_fields():
        assert (field in record) == _expected(role, field), (role, field)
        assert (field in visible.columns) == _expected(role, field), (role, field)


# -- row scope ----------------------------------------------------------------------------------


def test_scoped_roles_see_only_their_students(sessions) -> None:  # type: ignore[no-untyped-def]
    everyone = students.list_students(sessions[Role.CUSTODIAN], audit=False)
    hg = everyone.column("home_group")
    yl = everyone.column("year_level")
    teacher = students.list_students(sessions[Role.HOME_GROUP_TEACHER], audit=False)
    coordinator = students.list_students(sessions[Role.YEAR_LEVEL_COORDINATOR], audit=False)
    assert set(teacher.column("home_group")) == {"07A"} and len(teacher.rows) == hg.count("07A")
    assert set(coordinator.column("year_level")) == {"07"} and len(coordinator.rows) == yl.count("07")
    assert len(students.list_students(sessions[Role.WELFARE], audit=False).rows) == len(everyone.rows)


def test_out_of_scope_key_looks_like_no_such_student(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    teacher = sessions[Role.HOME_GROUP_TEACHER]
    outsider = _student_in(sessions[Role.CUSTODIAN], home_group="08A")
    with pytest.raises(students.NotVisible) as hidden:
        students.get_student(teacher, outsider.student_key)
    with pytest.raises(students.NotVisible) as missing:
        students.get_student(teacher, "NOPE9999")
    assert hidden.value.message.replace(outsider.student_key, "X") == missing.value.message.replace("NOPE9999", "X")
    with pytest.raises(students.NotVisible):
        students.export_students(teacher, tmp_path / "one.csv", student=outsider.student_key)
    assert not (tmp_path / "one.csv").exists()


def test_search_does_not_reveal_hidden_students(sessions) -> None:  # type: ignore[no-untyped-def]
    outsider = _student_in(sessions[Role.CUSTODIAN], home_group="09A")
    teacher = sessions[Role.HOME_GROUP_TEACHER]
    assert students.list_students(teacher, search=outsider.surname, audit=False).rows == tuple(
        r for r in students.list_students(teacher, search=outsider.surname, audit=False).rows
    )
    found = students.list_students(teacher, search=outsider.student_key, audit=False)
    assert found.rows == ()


def test_scope_follows_students_between_home_groups_and_an_emptied_group_shows_nothing(school: Path, store_dir: Path, tmp_path: Path) -> None:
    from tests.services.test_imports import edit_table

    extract = school.parent / "eduhub"
    custodian = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        imports.import_cases21(custodian, extract)
        mover = _student_in(custodian, home_group="08A", status="ACTV").student_key

        def refresh(name: str, change) -> None:  # type: ignore[no-untyped-def]
            later = tmp_path / name
            shutil.copytree(extract, later)
            for table in ("ST_8123.csv", "ST_8123_D.csv"):
                edit_table(later, table, lambda rows: [change(r) for r in rows])
            imports.import_cases21(custodian, later)

        refresh("moved", lambda r: {**r, "HOME_GROUP": "07A"} if r["STKEY"] == mover
                else ({**r, "HOME_GROUP": "08A"} if r["HOME_GROUP"] == "07A" else r))
        teacher = auth.sign_in(store_dir, HGT, HGT_PASSWORD)
        try:
            assert students.list_students(teacher, audit=False).column("student_key") == [mover]
            refresh("emptied", lambda r: {**r, "HOME_GROUP": "08A"} if r["HOME_GROUP"] == "07A" or r["STKEY"] == mover else r)
            assert students.list_students(teacher, audit=False).rows == ()
            with pytest.raises(students.NotVisible):
                students.get_student(teacher, mover)
        finally:
            auth.sign_out(teacher)
    finally:
        auth.sign_out(custodian)


# -- narrowing ----------------------------------------------------------------------------------


def test_custodian_narrows_a_role_and_can_undo_it(store_dir: Path, custodian) -> None:  # type: ignore[no-untyped-def]
    students.set_narrowing(custodian, Role.HOME_GROUP_TEACHER, "occupation_of_parents", allowed=False)
    teacher = auth.sign_in(store_dir, HGT, HGT_PASSWORD)
    try:
        assert "parent_occupation_group" not in students.visible_fields(teacher)
        assert "surname" in students.visible_fields(teacher)
        students.set_narrowing(custodian, Role.HOME_GROUP_TEACHER, "occupation_of_parents", allowed=True)
        assert "parent_occupation_group" in students.visible_fields(teacher)
    finally:
        auth.sign_out(teacher)
    changes = audit.entries(custodian, action="policy.changed")
    assert [json.loads(e.detail)["new"] for e in reversed(changes)] == ["narrowed", "allowed"]


def test_narrowing_refuses_widening_past_the_ceiling(store_dir: Path, custodian, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.errors import UsageError

    base = load_policy()
    narrowed_items = {**base.items, "home_group": {**base.items["home_group"], "home-group-teacher": ""}}
    monkeypatch.setattr(students, "load_policy", lambda: policy_mod.Policy(narrowed_items, base.titles, base.fields, base.role_titles))
    with pytest.raises(UsageError, match="cannot be widened"):
        students.set_narrowing(custodian, Role.HOME_GROUP_TEACHER, "home_group", allowed=True)


# -- exports and audit --------------------------------------------------------------------------


def test_export_columns_follow_the_contract_and_the_role(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "s.csv"
    students.export_students(sessions[Role.HOME_GROUP_TEACHER], out)
    with out.open(encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh))
    assert header[:6] == ["student_key", "surname", "first_name", "year_level", "home_group", "status"]
    assert "birth_date" not in header and "vsn" not in header
    assert [e.action for e in audit.entries(sessions[Role.CUSTODIAN], action="export.students", limit=1)] == ["export.students"]


@pytest.mark.parametrize("payload", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(1)", "\t=1", "=HYPERLINK(\"x\")"])
def test_formula_injection_is_written_as_text(store_dir: Path, custodian, tmp_path: Path, payload: str) -> None:  # type: ignore[no-untyped-def]
    with custodian.store.write() as session:
        session.add(Student(student_key="INJ0001", surname=payload, first_name=payload, year_level="07", home_group="07A"))
    csv_out, xlsx_out = tmp_path / "s.csv", tmp_path / "s.xlsx"
    students.export_students(custodian, csv_out)
    students.export_students(custodian, xlsx_out)
    with csv_out.open(encoding="utf-8-sig") as fh:
        row = next(r for r in csv.DictReader(fh) if r["student_key"] == "INJ0001")
    assert row["surname"] == "'" + payload
    ws = load_workbook(xlsx_out).active
    cells = [c for r in ws.iter_rows() for c in r if c.value == payload]
    assert cells and all(c.data_type == "s" for c in cells)
    assert not any(c.data_type == "f" for r in ws.iter_rows() for c in r)


def test_views_are_audited_and_the_student_access_report_lists_them(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    teacher = sessions[Role.HOME_GROUP_TEACHER]
    key = students.list_students(teacher, audit=False).rows[0][0]
    students.get_student(teacher, key)
    report = tmp_path / "who.xlsx"
    count = audit.export_entries(sessions[Role.CUSTODIAN], report, student=key)
    rows = list(load_workbook(report).active.iter_rows(values_only=True))
    assert count >= 1 and rows[0] == audit.AUDIT_HEADERS
    assert any(r[2] == HGT and r[3] == "student.viewed" for r in rows[1:])


def test_cli_students_and_audit_export(school: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    out = tmp_path / "mine.xlsx"
    assert cli.run(["--store", str(school), "--user", HGT, "students", "--out", str(out), "--format", "xlsx"]) == 0
    header = next(load_workbook(out).active.iter_rows(values_only=True))
    assert header[0] == "student_key"
    assert cli.run(["--store", str(school), "--user", HGT, "students", "--out", str(tmp_path / "x.csv"), "--student", "NOPE0001"]) == 4
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    assert cli.run(["--store", str(school), "--user", CUSTODIAN, "audit", "export", "--out", str(tmp_path / "a.csv")]) == 0
    assert cli.run(["--store", str(school), "--user", CUSTODIAN, "deidentified", "--out", str(tmp_path / "d.xlsx")]) == 0


# -- de-identified summary ----------------------------------------------------------------------


def test_suppression_hides_small_cells_and_their_complements() -> None:
    totals = {"07": 30, "08": 28, "09": 3}
    counts = {"07": {"A": 2, "B": 27, "C": 10}, "08": {"A": 9, "B": 20, "C": 12}, "09": {"A": 1, "B": 1, "C": 0}}
    table = deidentified.suppress(counts, totals, ["A", "B", "C"])
    cells = dict(zip(table.row_labels, table.cells, strict=True))
    assert cells["07"][1] is None  # 2 < 5
    assert cells["07"][2] is None  # 30 - 27 = 3 < 5: the complement would reveal it
    assert cells["09"][0] is None  # a year level of 3 students
    for col in range(len(table.columns)):  # no column has a single suppressed cell
        hidden = [r for r in ("07", "08", "09") if cells[r][col] is None]
        assert len(hidden) != 1
    for row in table.cells:
        assert all(v is None or v >= 5 for v in row)


def test_deidentified_export_has_no_identifiers_and_no_small_numbers(sessions, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "summary.xlsx"
    deidentified.export_summary(sessions[Role.PRINCIPAL], out)
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    text = json.dumps(rows)
    everyone = students.list_students(sessions[Role.CUSTODIAN], audit=False)
    for key, surname in zip(everyone.column("student_key"), everyone.column("surname"), strict=True):
        assert key not in text and f'"{surname}"' not in text
    assert "07A" not in text
    numbers = [v for r in rows[1:] for v in r[1:] if isinstance(v, int)]
    assert numbers and all(v >= 5 for v in numbers)
    assert any(v == "<5" for r in rows for v in r)


def test_a_list_view_shows_in_the_student_access_report(sessions) -> None:  # type: ignore[no-untyped-def]
    teacher = sessions[Role.HOME_GROUP_TEACHER]
    table = students.list_students(teacher)  # audited with the keys shown
    key = table.rows[0][0]
    outsider = next(k for k in students.list_students(sessions[Role.CUSTODIAN], audit=False).column("student_key")
                    if k not in set(table.column("student_key")))
    mine = audit.entries(sessions[Role.CUSTODIAN], student=key, action="students.listed")
    assert any(e.actor == HGT for e in mine)
    theirs = audit.entries(sessions[Role.CUSTODIAN], student=outsider, action="students.listed")
    assert not any(e.actor == HGT for e in theirs)
