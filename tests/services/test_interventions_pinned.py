"""Every figure the evaluation gives on a demo school, pinned to the values the straightforward
implementation gave (tests/services/data/interventions_pinned.json), so that a faster way of
reading the attendance is shown to give identical results: each programme's counts, reasons,
means, change, comparison figures, difference, interval and warnings, and each mapping's row
(before, after, change, comparison change, difference, comparisons, goal met, note), for several
windows, for a role that sees every student and one that does not, and for a store whose
attendance holds absence rows only (the marked half-days then come from the school days).

Floats are compared exactly (JSON keeps a float's every bit). To write the file again after a
deliberate change of the definition: ``python -m tests.services.test_interventions_pinned``."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from mapping_tool.services import auth
from mapping_tool.services import interventions as iv
from mapping_tool.store.models import Student
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, YLC, YLC_PASSWORD

PINNED = Path(__file__).parent / "data" / "interventions_pinned.json"
WINDOWS = (8, 3, 52)  # 8 is the default; 52 reaches back before the attendance starts


def build_school(template_store: Path, root: Path) -> Path:
    """150 students, two years of attendance to 18/09/2026, and mappings of every measure with
    starts before the attendance, in it, near the extract date and after it; ended, withdrawn
    and overlapping mappings (so that comparison students are excluded)."""
    from importers.demo import generate_demo_extract
    from mapping_tool.services import imports

    folder = root / "store"
    shutil.copytree(template_store, folder)
    generate_demo_extract(root / "eduhub", students=150, extract_date=dt.date(2026, 9, 18), years=2, seed=11)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    user.must_change_password = False
    try:
        imports.import_cases21(user, root / "eduhub", accept_warnings=True)
        with user.store.read() as s:
            keys = [r[0] for r in s.query(Student.student_key).order_by(Student.student_key)]
        plan = [  # (programme, measure, first student, how many, start)
            ("Attendance mentoring", "attendance_rate", 0, 24, dt.date(2026, 5, 4)),
            ("Breakfast club", "attendance_rate", 20, 14, dt.date(2026, 8, 31)),  # a short after window
            ("Next term", "attendance_rate", 46, 4, dt.date(2026, 10, 12)),  # after the extract
            ("Unapproved absences", "unapproved_rate", 50, 20, dt.date(2026, 3, 2)),
            ("Return to school", "suspension_days", 70, 6, dt.date(2025, 11, 3)),
            ("Reading recovery", "english", 86, 8, dt.date(2026, 2, 2)),
            ("Numeracy boost", "maths", 94, 8, dt.date(2026, 2, 2)),
            ("Check and connect", "flag_count", 102, 8, dt.date(2026, 7, 20)),
            ("Small group", "attendance_rate", 110, 3, dt.date(2026, 6, 1)),  # fewer than 5 measured
        ]
        for name, measure, first, n, start in plan:
            kind = {"english": "literacy", "maths": "numeracy", "flag_count": "wellbeing"}.get(measure, "attendance")
            iv.add_programme(user, name, kind=kind, measure=measure, capacity=30)
            iv.assign(user, name, keys[first:first + n], start=start, goal_target=90 if "rate" in measure else None)
        # students suspended at some time, each starting two weeks after their first suspension
        from risk_factors import load_default_rules

        rules = load_default_rules()
        with user.store.read() as s:
            conn = s.connection().connection.driver_connection
            suspended = conn.execute(
                "SELECT student_key, min(date) FROM attendance WHERE (am_code IN (?, ?) OR pm_code IN (?, ?)) "
                "AND date >= '2026-01-01' GROUP BY student_key ORDER BY student_key LIMIT 10",
                [rules.internal_suspension_code, rules.external_suspension_code] * 2).fetchall()
        for key, first_day in suspended:
            iv.assign(user, "Return to school", [key], start=dt.date.fromisoformat(first_day) + dt.timedelta(days=14))
        iv.end_mapping(user, "Attendance mentoring", keys[0], end=dt.date(2026, 6, 12), status="completed")
        iv.end_mapping(user, "Attendance mentoring", keys[1], end=dt.date(2026, 5, 8), status="withdrawn",
                       reason="Moved to another programme")
        iv.end_mapping(user, "Unapproved absences", keys[50], end=dt.date(2026, 4, 1), status="completed")
    finally:
        auth.sign_out(user)
    return folder


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def figures(store: Path, accounts: tuple[tuple[str, str], ...] = ((CUSTODIAN, CUSTODIAN_PASSWORD), (YLC, YLC_PASSWORD)),
            ) -> dict[str, Any]:
    """Everything the evaluation gives, as plain JSON values (one session per account: the
    windows one after another, so later ones may reuse the attendance read for earlier ones)."""
    out: dict[str, Any] = {}
    for username, password in accounts:
        user = auth.sign_in(store, username, password)
        user.must_change_password = False
        try:
            for weeks in WINDOWS:
                out[f"{username} programmes {weeks}"] = [
                    _plain(dataclasses.asdict(e)) for e in iv.evaluate(user, weeks=weeks)]
                out[f"{username} students {weeks}"] = [
                    _plain(dataclasses.asdict(r)) for r in iv.evaluate_students(user, weeks=weeks)]
            out[f"{username} one programme"] = [
                _plain(dataclasses.asdict(e)) for e in iv.evaluate(user, programme="Attendance mentoring")]
            keys = sorted({r.student_key for r in iv.evaluate_students(user, programme="Attendance mentoring")})
            if keys:
                panel = iv.student_interventions(user, keys[2])
                out[f"{username} panel"] = [_plain(dataclasses.asdict(r)) for r in panel.evaluations]
        finally:
            auth.sign_out(user)
    return out


def absence_rows_only(store: Path, since: str = "") -> None:
    """Take out every row with a present half-day (``since`` that day), as a school that exports
    absences only."""
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        with user.store.write() as s:
            conn = s.connection().connection.driver_connection
            conn.execute("DELETE FROM attendance WHERE ((am_code > 0 AND am_code < 200) OR (pm_code > 0 AND pm_code < 200)) "
                         "AND date >= ?", (since,))
    finally:
        auth.sign_out(user)


def early_starters(store: Path) -> None:
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_early_starters(user)
    finally:
        auth.sign_out(user)


def add_early_starters(user) -> None:  # type: ignore[no-untyped-def]
    """A programme started on the first day of the attendance (its before-window holds no day)
    and one started a week later."""
    with user.store.read() as s:
        keys = [r[0] for r in s.query(Student.student_key).order_by(Student.student_key)]
        conn = s.connection().connection.driver_connection
        first = dt.date.fromisoformat(conn.execute("SELECT min(date) FROM attendance").fetchone()[0])
    iv.add_programme(user, "Early starters", kind="attendance", measure="attendance_rate")
    iv.assign(user, "Early starters", keys[40:46], start=first, goal_target=90)
    iv.add_programme(user, "Second week", kind="attendance", measure="unapproved_rate")
    iv.assign(user, "Second week", keys[46:52], start=first + dt.timedelta(days=7))


def all_figures(school: Path, root: Path) -> dict[str, Any]:
    """The figures of the school (its programmes start from 11/2025, so a window of a few weeks
    reaches only part of the attendance), of the same school with a programme started before
    the attendance, of the school with absence rows only, and of the school with present
    half-days recorded only before 07/2025 (outside the short windows' reach: the table as a
    whole is not absence rows only, so its marked half-days are the rows')."""
    full = root / "full"
    shutil.copytree(school, full)
    early = root / "early"
    shutil.copytree(school, early)
    early_starters(early)
    absences = root / "absences"
    shutil.copytree(school, absences)
    absence_rows_only(absences)
    mixed = root / "mixed"
    shutil.copytree(school, mixed)
    absence_rows_only(mixed, since="2025-07-01")
    custodian = ((CUSTODIAN, CUSTODIAN_PASSWORD),)
    return {"full attendance": figures(full), "with early starters": figures(early, custodian),
            "absence rows only": figures(absences), "present half-days before 07/2025 only": figures(mixed, custodian)}


@pytest.fixture(scope="module")
def school(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_school(template_store, tmp_path_factory.mktemp("pinned"))


def test_every_evaluation_figure_is_as_pinned(school: Path, tmp_path: Path) -> None:
    got = all_figures(school, tmp_path)
    want = json.loads(PINNED.read_text(encoding="utf-8"))
    assert got.keys() == want.keys()
    for case in want:
        assert got[case].keys() == want[case].keys()
        for what in want[case]:
            assert got[case][what] == want[case][what], f"{case}: {what}"
    # the pinned figures are not empty: they cover measured rows of every rate measure and the warnings
    rows = want["full attendance"]["custodian students 8"]
    for measure in ("attendance_rate", "unapproved_rate", "suspension_days", "english", "maths"):
        assert any(r["measure"] == measure and r["note"] == "" for r in rows), measure
    assert any(r["note"] and r["before"] is None for r in rows)
    early = want["with early starters"]["custodian students 8"]
    assert any(r["intervention"] == "Second week" and r["note"] == "" for r in early)
    assert any(r["intervention"] == "Early starters" and r["before"] is None for r in early)
    assert any(e["figures_hidden"] for e in want["full attendance"]["coordinator programmes 8"])
    assert any(r["comparisons"] == 5 for r in want["absence rows only"]["custodian students 8"])
    assert any(r["measure"] == "suspension_days" and r["before"] for r in rows)


def test_a_mapping_reaching_further_back_reads_the_attendance_again(school: Path, tmp_path: Path) -> None:
    """The attendance read for one evaluation is kept; a mapping whose windows reach days (or a
    student) it does not hold makes the next evaluation read again, with the pinned figures."""
    store = tmp_path / "store"
    shutil.copytree(school, store)
    want = json.loads(PINNED.read_text(encoding="utf-8"))["with early starters"]
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        iv.evaluate(user)  # reads the days the school's programmes reach
        add_early_starters(user)
        got = [_plain(dataclasses.asdict(r)) for r in iv.evaluate_students(user)]
        assert got == want["custodian students 8"]
        assert [_plain(dataclasses.asdict(e)) for e in iv.evaluate(user)] == want["custodian programmes 8"]
    finally:
        auth.sign_out(user)


def _write() -> None:  # pragma: no cover - run by hand after a deliberate change of the definition
    import os
    import tempfile

    from tests.conftest import _make_template

    root = Path(tempfile.mkdtemp(prefix="smt-pinned-"))
    os.environ.setdefault("MAPPING_TOOL_LOG_DIR", str(root / "logs"))
    os.environ.setdefault("MAPPING_TOOL_SETTINGS_DIR", str(root / "settings"))
    _make_template(root / "template")
    school = build_school(root / "template", root / "school")
    PINNED.parent.mkdir(exist_ok=True)
    PINNED.write_text(json.dumps(all_figures(school, root), indent=0, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    shutil.rmtree(root)
    print(f"wrote {PINNED}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    _write()
