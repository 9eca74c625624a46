"""Interventions on a real store: catalogue, mappings, access rules, the evaluation end to end,
meeting mode, the de-identified counts, and the command line (contract names; bad input gives one
sentence, a non-zero exit, and changes nothing)."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import Workbook

from mapping_tool import cli
from mapping_tool.errors import PermissionDenied, UsageError
from mapping_tool.services import auth, deidentified, students
from mapping_tool.services import interventions as iv
from mapping_tool.store.models import Student
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    HGT,
    HGT_PASSWORD,
    WELFARE,
    YLC,
    YLC_PASSWORD,
    imported_school,
)

START = dt.date(2026, 6, 1)


@pytest.fixture(scope="module")
def school(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_school(template_store, tmp_path_factory.mktemp("iv"), students=80, seed=3)


@pytest.fixture
def store(school: Path, tmp_path: Path) -> Path:
    target = tmp_path / "store"
    shutil.copytree(school, target)
    return target


@pytest.fixture
def cust(store: Path):  # type: ignore[no-untyped-def]
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    yield user
    auth.sign_out(user)


def _keys(user, **where) -> list[str]:  # type: ignore[no-untyped-def]
    with user.store.read() as s:
        q = s.query(Student.student_key).filter(Student.in_extract.is_(True))
        for k, v in where.items():
            q = q.filter(getattr(Student, k) == v)
        return [r[0] for r in q.order_by(Student.student_key)]


def _mapping_rows(user) -> list[tuple]:  # type: ignore[no-untyped-def, type-arg]
    with user.store.read() as s:
        conn = s.connection().connection.driver_connection
        return conn.execute("SELECT * FROM intervention_mapping ORDER BY id").fetchall()


def _programme_rows(user) -> list[tuple]:  # type: ignore[no-untyped-def, type-arg]
    with user.store.read() as s:
        conn = s.connection().connection.driver_connection
        return conn.execute("SELECT * FROM intervention_programme ORDER BY id").fetchall()


# -- catalogue ------------------------------------------------------------------------------------


def test_catalogue_is_versioned_and_a_used_programme_is_retired_not_deleted(cust) -> None:  # type: ignore[no-untyped-def]
    assert iv.load_starter_catalogue(cust) == 10
    assert iv.load_starter_catalogue(cust) == 0
    p = iv.add_programme(cust, "Breakfast club", kind="wellbeing", measure="attendance_rate", capacity=15)
    assert p.version == 1 and p.measure_title == "Attendance rate"
    with pytest.raises(UsageError, match="already a programme called"):
        iv.add_programme(cust, "breakfast CLUB", kind="other", measure="flag_count")
    with pytest.raises(UsageError, match="Unknown kind"):
        iv.add_programme(cust, "X", kind="sport", measure="flag_count")
    p = iv.update_programme(cust, "Breakfast club", capacity=20, provider="Local council")
    assert p.version == 2
    history = iv.programme_history(cust, "Breakfast club")
    assert [h.version for h in history] == [1, 2]
    assert history[1].changes == {"capacity": [15, 20], "provider": ["", "Local council"]}
    assert history[1].changed_by == CUSTODIAN
    iv.assign(cust, "Breakfast club", _keys(cust)[:1], start=START)
    assert iv.remove_programme(cust, "Breakfast club") == "retired"
    assert "Breakfast club" not in [q.name for q in iv.list_programmes(cust)]
    assert iv.remove_programme(cust, "Peer mentoring") == "deleted"
    assert iv.restore_programme(cust, "Breakfast club").retired is False


def test_only_custodian_principal_and_welfare_edit_the_catalogue(store: Path) -> None:
    user = auth.sign_in(store, YLC, YLC_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            iv.add_programme(user, "Mine", kind="other", measure="flag_count")
    finally:
        auth.sign_out(user)


# -- access ---------------------------------------------------------------------------------------


def test_a_sensitive_programme_shows_nothing_to_those_outside_it(cust, store: Path) -> None:  # type: ignore[no-untyped-def]
    iv.add_programme(cust, "Counselling", kind="wellbeing", measure="attendance_rate", sensitive=True, responsible=HGT)
    iv.add_programme(cust, "Homework club", kind="engagement", measure="attendance_rate")
    y7 = _keys(cust, home_group="07A")[:2]
    iv.assign(cust, "Counselling", y7, start=START)
    iv.assign(cust, "Homework club", y7[:1], start=START)
    outsider = auth.sign_in(store, YLC, YLC_PASSWORD)  # sees year 7, not inside the programme
    insider = auth.sign_in(store, HGT, HGT_PASSWORD)  # the responsible staff member
    try:
        assert [p.name for p in iv.list_programmes(outsider)] == ["Homework club"]
        assert [e.intervention for e in iv.evaluate(outsider)] == ["Homework club"]
        assert {m.programme for m in iv.list_mappings(outsider)} == {"Homework club"}
        assert [m.programme for m in iv.student_interventions(outsider, y7[0]).mappings] == ["Homework club"]
        assert iv.grid(outsider).programmes == ("Homework club",)
        with pytest.raises(UsageError, match="no programme called 'Counselling'"):
            iv.assign(outsider, "Counselling", y7[:1], start=START)
        assert "Counselling" in [p.name for p in iv.list_programmes(insider)]
        assert {m.programme for m in iv.list_mappings(insider)} == {"Counselling", "Homework club"}
    finally:
        auth.sign_out(outsider)
        auth.sign_out(insider)


def test_staff_map_only_students_they_may_see(cust, store: Path) -> None:  # type: ignore[no-untyped-def]
    iv.add_programme(cust, "Homework club", kind="engagement", measure="attendance_rate")
    year9 = _keys(cust, year_level="09")[0]
    year7 = _keys(cust, year_level="07")[0]
    ylc = auth.sign_in(store, YLC, YLC_PASSWORD)
    try:
        before = _mapping_rows(cust)
        with pytest.raises(students.NotVisible, match=f"There is no student {year9} that you may see"):
            iv.assign(ylc, "Homework club", [year7, year9], start=START)
        assert _mapping_rows(cust) == before  # all or nothing
        assert len(iv.assign(ylc, "Homework club", [year7], start=START)) == 1
    finally:
        auth.sign_out(ylc)


def test_small_programmes_show_counts_only_to_roles_that_cannot_see_every_participant(cust, store: Path) -> None:  # type: ignore[no-untyped-def]
    iv.add_programme(cust, "Small", kind="attendance", measure="attendance_rate")
    keys = _keys(cust, year_level="07", status="ACTV")[:2] + _keys(cust, year_level="09", status="ACTV")[:1]
    iv.assign(cust, "Small", keys, start=START)
    (full,) = iv.evaluate(cust, programme="Small")
    assert 0 < full.measured < 5 and not full.figures_hidden and full.before_mean is not None
    ylc = auth.sign_in(store, YLC, YLC_PASSWORD)
    try:
        (part,) = iv.evaluate(ylc, programme="Small")
        assert part.figures_hidden and part.participants == 3 and part.measured == full.measured
        assert part.before_mean is None and part.difference is None and part.ci_low is None
        assert part.warnings[0].startswith("Fewer than 5 students were measured")
        # the per-student rows: only the students the coordinator may see
        rows = iv.evaluate_students(ylc, programme="Small")
        assert sorted(r.student_key for r in rows) == sorted(keys[:2])
    finally:
        auth.sign_out(ylc)


# -- evaluation end to end -------------------------------------------------------------------------


def _window_rate(user, key: str, first: dt.date, last: dt.date) -> float:  # type: ignore[no-untyped-def]
    """The measures' own attendance rate of ``key`` over [first, last], computed independently
    through compute_measures on the rows of that window."""
    from mapping_tool.services.flags import _frames_from_store
    from risk_factors import compute_measures, load_default_rules

    with user.store.read() as s:
        frames = _frames_from_store(s)
    att = frames.attendance
    att = att[(att["student_key"] == key) & (att["date"] >= pd.Timestamp(first)) & (att["date"] <= pd.Timestamp(last))]
    stud = frames.students[frames.students["student_key"] == key]
    res = compute_measures(stud, att, frames.absence_types, frames.strand_results.iloc[0:0], frames.year_levels,
                           extract_date=last, rules=load_default_rules())
    return float(res.frame.iloc[0]["attendance_rate"])


def test_evaluation_end_to_end_follows_the_definition(cust) -> None:  # type: ignore[no-untyped-def]
    iv.add_programme(cust, "Mentoring", kind="mentoring", measure="attendance_rate")
    keys = _keys(cust, status="ACTV")[:12]
    iv.assign(cust, "Mentoring", keys, start=START, goal_target=90)
    (ev,) = iv.evaluate(cust, programme="Mentoring")
    rows = {r.student_key: r for r in iv.evaluate_students(cust, programme="Mentoring")}
    measured = [r for r in rows.values() if r.difference is not None]
    assert ev.participants == 12 and ev.measured == len(measured) >= 10
    k = measured[0].student_key
    assert rows[k].before == pytest.approx(_window_rate(cust, k, START - dt.timedelta(days=56), START - dt.timedelta(days=1)))
    assert rows[k].after == pytest.approx(_window_rate(cust, k, START, START + dt.timedelta(days=56)))
    assert rows[k].comparisons == 5
    assert ev.difference == pytest.approx(sum(r.difference for r in measured) / len(measured))
    assert ev.change == pytest.approx(sum(r.change for r in measured) / len(measured))
    assert ev.ci_low < ev.difference < ev.ci_high
    assert ev.warnings[-1].startswith("This compares participants with similar students")
    assert rows[k].goal_met == (rows[k].after >= 90)
    # a shorter window gives other figures, and the window is a setting
    iv.set_evaluation_weeks(cust, 4)
    assert iv.evaluation_weeks(cust) == 4
    (ev4,) = iv.evaluate(cust, programme="Mentoring")
    assert ev4.weeks == 4 and ev4.before_mean != ev.before_mean


def test_student_panel_section_and_outcome_note(cust) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import notes

    iv.add_programme(cust, "Mentoring", kind="mentoring", measure="attendance_rate")
    key = _keys(cust)[0]
    (m,) = iv.assign(cust, "Mentoring", [key], start=START, review=dt.date(2026, 7, 1), goal_target=90)
    view = iv.student_interventions(cust, key)
    assert [x.id for x in view.mappings] == [m.id] and view.evaluations[0].mapping_id == m.id
    assert view.mappings[0].goal_text == "Attendance at least 90 % over the 8 weeks after the start"
    iv.add_outcome_note(cust, m.id, "Attending most mornings now.", sensitive=True)
    (note,) = notes.list_notes(cust, key)
    assert note.sensitive and note.text == "Outcome (Mentoring): Attending most mornings now."
    ended = iv.end_mapping(cust, "Mentoring", key, end=dt.date(2026, 7, 20), status="completed")
    assert ended.status == "completed" and ended.end == dt.date(2026, 7, 20)


# -- bulk import -----------------------------------------------------------------------------------


def test_import_long_and_grid_forms(cust, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    iv.add_programme(cust, "Mentoring", kind="mentoring", measure="attendance_rate")
    iv.add_programme(cust, "Homework club", kind="engagement", measure="attendance_rate")
    k = _keys(cust)
    long = tmp_path / "long.csv"
    long.write_text("student_key,programme,start,end,status\n"
                    f"{k[0]},Mentoring,01/03/2026,,active\n{k[1]},Homework club,2026-02-01,30/04/2026,completed\n", "utf-8")
    result = iv.import_mappings(cust, long)
    assert result.form == "long" and result.added == 2
    wb = Workbook()
    ws = wb.active
    ws.append(["Student key", "Mentoring", "Homework club"])
    ws.append([k[2], "x", None])
    ws.append([k[3], dt.datetime(2026, 5, 4), "x"])
    grid_file = tmp_path / "grid.xlsx"
    wb.save(grid_file)
    result = iv.import_mappings(cust, grid_file)
    assert result.form == "grid" and result.added == 3
    mine = {(m.student_key, m.programme): m for m in iv.list_mappings(cust)}
    assert mine[(k[3], "Mentoring")].start == dt.date(2026, 5, 4)
    assert mine[(k[1], "Homework club")].status == "completed"
    assert iv.grid(cust, programmes=["Mentoring"]).rows[0].marks in (("active",), ("",))


# -- meeting mode ----------------------------------------------------------------------------------


def test_meeting_agenda_decisions_and_recap(cust) -> None:  # type: ignore[no-untyped-def]
    iv.add_programme(cust, "Mentoring", kind="mentoring", measure="attendance_rate")
    iv.add_programme(cust, "Homework club", kind="engagement", measure="attendance_rate")
    k = _keys(cust)
    iv.assign(cust, "Mentoring", k[:3], start=START, review=dt.date(2026, 8, 1))
    iv.assign(cust, "Homework club", k[3:4], start=START, review=dt.date(2026, 12, 1))
    meeting = iv.start_meeting(cust, "Year 9 review")
    items = iv.agenda(cust, meeting.id, today=dt.date(2026, 9, 1))
    assert {i.student_key for i in items} >= set(k[:3]) and k[3] not in {i.student_key for i in items}
    order = [iv.TIER_ORDER[i.tier] for i in items]
    assert order == sorted(order)
    due = next(i for i in items if i.student_key == k[0])
    assert "Review due 01/08/2026 (Mentoring)" in due.reasons
    d1 = iv.record_decision(cust, meeting.id, k[0], "no_action", text="Attendance back to normal")
    d2 = iv.record_decision(cust, meeting.id, k[1], "map", programme="Homework club")
    d3 = iv.record_decision(cust, meeting.id, k[2], "note", text="Call the family this week.")
    assert d2.mapping_id is not None and d3.note_id is not None
    with pytest.raises(UsageError, match="Say why no action is needed"):
        iv.record_decision(cust, meeting.id, k[2], "no_action")
    after = iv.agenda(cust, meeting.id, today=dt.date(2026, 9, 1))
    assert {i.student_key for i in after if i.decided} == set(k[:3])
    recap = iv.recap(cust, meeting.id)
    assert [d.id for d in recap.decisions] == [d1.id, d2.id, d3.id]
    assert recap.meeting.title == "Year 9 review"
    assert all(i.student_key not in k[:3] for i in recap.undecided)


def test_deidentified_summary_counts_participants_and_suppresses_small_cells(cust) -> None:  # type: ignore[no-untyped-def]
    iv.add_programme(cust, "Mentoring", kind="mentoring", measure="attendance_rate")
    iv.add_programme(cust, "Secret", kind="wellbeing", measure="flag_count", sensitive=True)
    year7 = _keys(cust, year_level="07", status="ACTV")
    iv.assign(cust, "Mentoring", year7[:6] + _keys(cust, year_level="09", status="ACTV")[:2], start=START)
    iv.assign(cust, "Secret", year7[:6], start=START)
    table = deidentified.build_summary(cust)
    col = table.columns.index("Programme: Mentoring")
    cells = dict(zip(table.row_labels, table.cells, strict=True))
    assert cells["07"][col] == 6
    assert cells["09"][col] is None  # 2: suppressed
    assert "Programme: Secret" not in table.columns


# -- the command line --------------------------------------------------------------------------------


def _csv(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text("utf-8-sig").splitlines()))


def _run(store: Path, user: str, *args: str) -> int:
    return cli.run(["--store", str(store), "--user", user, "interventions", *args])


@pytest.fixture
def as_custodian(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)


def test_cli_contract(store: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch, as_custodian) -> None:  # type: ignore[no-untyped-def]
    assert _run(store, CUSTODIAN, "add", "Mentoring", "--kind", "mentoring", "--measure", "attendance_rate",
                "--provider", "Staff", "--capacity", "20", "--responsible", WELFARE, "--description", "Daily check-in") == 0
    assert _run(store, CUSTODIAN, "add", "Secret", "--kind", "wellbeing", "--measure", "flag_count", "--sensitive") == 0
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    hgt_keys = _keys(user, home_group="07A")
    keys = [k for k in _keys(user) if k not in hgt_keys]
    auth.sign_out(user)
    roster = tmp_path / "keys.txt"
    roster.write_text("\n".join(keys[:10] + hgt_keys[:2]) + "\n", "utf-8")
    assert _run(store, CUSTODIAN, "assign", "Mentoring", "--students-file", str(roster), "--start", "01/06/2026",
                "--review", "01/08/2026", "--goal-target", "90") == 0
    assert _run(store, CUSTODIAN, "end", "Mentoring", "--student", keys[0], "--end", "20/07/2026", "--status",
                "withdrawn", "--reason", "Moved to another program") == 0
    assert _run(store, CUSTODIAN, "list", "--out", str(tmp_path / "cat.csv")) == 0
    assert _csv(tmp_path / "cat.csv")[0][0] == "name"
    out, students_out = tmp_path / "eval.csv", tmp_path / "students.csv"
    assert _run(store, CUSTODIAN, "evaluate", "--out", str(out), "--students-out", str(students_out), "--weeks", "6") == 0
    rows = list(_csv(out))
    assert tuple(rows[0]) == ("intervention", "measure", "participants", "measured", "before_mean", "after_mean", "change",
                              "comparison_change", "difference", "ci_low", "ci_high", "warning")
    assert rows[1][0] == "Mentoring" and rows[1][2] == "12"
    srows = list(_csv(students_out))
    assert tuple(srows[0]) == ("student_key", "intervention", "start", "end", "status", "before", "after", "change",
                               "comparison_change", "difference", "goal_target", "goal_met")
    assert len(srows) == 13
    # an existing file needs --force; xlsx by --format
    assert _run(store, CUSTODIAN, "evaluate", "--out", str(out)) != 0
    assert _run(store, CUSTODIAN, "evaluate", "--out", str(out), "--force") == 0
    assert _run(store, CUSTODIAN, "evaluate", "--out", str(tmp_path / "e.xlsx"), "--format", "xlsx") == 0
    # the home group teacher: only the students they may see
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    mine = tmp_path / "mine.csv"
    assert _run(store, HGT, "evaluate", "--out", str(tmp_path / "h.csv"), "--students-out", str(mine)) == 0
    assert sorted(r[0] for r in list(_csv(mine))[1:]) == sorted(hgt_keys[:2])
    hrows = list(_csv(tmp_path / "h.csv"))
    assert [r[0] for r in hrows[1:]] == ["Mentoring"]  # "Secret" is not for them


BAD = [
    ("unknown student", ["assign", "Mentoring", "--student", "NOPE9999", "--start", "01/06/2026"],
     "There is no student NOPE9999 that you may see."),
    ("unknown programme", ["assign", "Chess", "--student", "{k0}", "--start", "01/06/2026"],
     "There is no programme called 'Chess'."),
    ("end before start", ["end", "Mentoring", "--student", "{k1}", "--end", "01/05/2026", "--status", "completed"],
     "The end date 01/05/2026 is before the start date 01/06/2026."),
    ("date that does not exist", ["assign", "Mentoring", "--student", "{k0}", "--start", "31/02/2026"],
     "31/02/2026 is not a date that exists."),
    ("duplicate active mapping", ["assign", "Mentoring", "--student", "{k1}", "--start", "02/06/2026"],
     "Student {k1} is already in Mentoring."),
    ("review before start", ["assign", "Mentoring", "--student", "{k0}", "--start", "01/06/2026", "--review", "01/05/2026"],
     "The review date is before the start date."),
    ("withdrawn without reason", ["end", "Mentoring", "--student", "{k1}", "--end", "01/07/2026", "--status", "withdrawn"],
     "Say why the student withdrew (--reason)."),
    ("bad kind", ["add", "Chess", "--kind", "sport", "--measure", "flag_count"], "Unknown kind 'sport'."),
    ("bulk file with one bad row", ["import", "{bulk}"], "Nothing was imported: 1 of 2 rows cannot be used (row 3:"),
]


@pytest.fixture(scope="module")
def prepared(school: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A store with Mentoring, one student mapped, a bulk file with one bad row, and its rows."""
    root = tmp_path_factory.mktemp("bad")
    folder = root / "store"
    shutil.copytree(school, folder)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        iv.add_programme(user, "Mentoring", kind="mentoring", measure="attendance_rate")
        k = _keys(user)
        iv.assign(user, "Mentoring", [k[1]], start=START)
        before = (_mapping_rows(user), _programme_rows(user))
    finally:
        auth.sign_out(user)
    bulk = root / "bulk.csv"
    bulk.write_text(f"student_key,programme,start\n{k[2]},Mentoring,01/06/2026\n{k[3]},Mentoring,30/02/2026\n", "utf-8")
    return folder, k, bulk, before


@pytest.mark.parametrize(("case", "argv", "message"), BAD, ids=[b[0] for b in BAD])
def test_cli_bad_input_one_sentence_non_zero_nothing_changed(  # type: ignore[no-untyped-def]
    prepared, tmp_path: Path, capsys, as_custodian, case: str, argv: list[str], message: str
) -> None:
    source, k, bulk, before = prepared
    store = tmp_path / "store"
    shutil.copytree(source, store)
    capsys.readouterr()
    fill = {"k0": k[0], "k1": k[1], "bulk": str(bulk)}
    code = _run(store, CUSTODIAN, *[a.format(**fill) for a in argv])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert err[-1].startswith("mapping-tool: " + message.format(**fill).split(" {")[0])
    if case == "bulk file with one bad row":
        assert err[0] == "mapping-tool: row 3: the start date '30/02/2026' is not a date (write dd/mm/yyyy)"
    else:
        assert len(err) == 1
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert (_mapping_rows(user), _programme_rows(user)) == before
    finally:
        auth.sign_out(user)


def test_cli_student_outside_scope_is_refused(store: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    iv.add_programme(user, "Mentoring", kind="mentoring", measure="attendance_rate")
    year9 = _keys(user, year_level="09")[0]
    before = _mapping_rows(user)
    auth.sign_out(user)
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", YLC_PASSWORD)
    capsys.readouterr()
    assert _run(store, YLC, "assign", "Mentoring", "--student", year9, "--start", "01/06/2026") == 4
    assert capsys.readouterr().err.strip() == f"mapping-tool: There is no student {year9} that you may see."
    user = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert _mapping_rows(user) == before
    finally:
        auth.sign_out(user)


def test_packed_dates_decode_to_day_numbers() -> None:
    days = [dt.date(1970, 1, 1), dt.date(2024, 2, 29), dt.date(2026, 3, 1), dt.date(1999, 12, 31)]
    decoded = iv._day_numbers("".join(d.isoformat() for d in days))  # noqa: SLF001
    assert decoded.tolist() == [(d - dt.date(1970, 1, 1)).days for d in days]


def test_capacity_is_seats_against_flagged_students_with_no_intervention_for_the_measure(cust) -> None:  # type: ignore[no-untyped-def]
    iv.add_programme(cust, "Mentoring", kind="mentoring", measure="attendance_rate", capacity=5)
    iv.add_programme(cust, "Breakfast club", kind="wellbeing", measure="attendance_rate")
    table = students.list_students(cust, fields=("student_key", "flag_low_attendance"), audit=False)
    flagged = [k for k, f in table.rows if f]
    assert len(flagged) >= 3
    iv.assign(cust, "Mentoring", flagged[:2], start=START)
    rows = {r.programme: r for r in iv.capacity(cust)}
    assert (rows["Mentoring"].seats, rows["Mentoring"].participants, rows["Mentoring"].free_seats) == (5, 2, 3)
    assert rows["Mentoring"].demand == rows["Breakfast club"].demand == len(flagged) - 2
    assert rows["Breakfast club"].seats is None and rows["Breakfast club"].free_seats is None


def test_a_refresh_never_touches_mappings_and_the_evaluation_follows_the_new_extract(cust, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from importers.demo import generate_demo_extract
    from mapping_tool.services import imports

    iv.add_programme(cust, "Mentoring", kind="mentoring", measure="attendance_rate")
    iv.assign(cust, "Mentoring", _keys(cust, status="ACTV")[:3], start=START)
    before_rows = _mapping_rows(cust)
    (first,) = iv.evaluate(cust, programme="Mentoring")
    first_snapshot = cust.store._iv_days[0][0]  # noqa: SLF001
    generate_demo_extract(tmp_path / "later", students=80, extract_date=dt.date(2026, 10, 16), years=1, seed=3)
    imports.import_cases21(cust, tmp_path / "later")
    assert _mapping_rows(cust) == before_rows
    iv.prepare_evaluation(cust)
    assert cust.store._iv_days[0][0] != first_snapshot  # noqa: SLF001 - the new extract's attendance
    (second,) = iv.evaluate(cust, programme="Mentoring")
    assert second.participants == first.participants == 3
