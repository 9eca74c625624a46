"""Corrections of student notes (issue 10 s 3, IPP 6): a correction is a new version that keeps
the earlier text visible to those who may read the note; only the note's author, the data
custodian and principal class may correct; a refusal changes nothing; the log keeps no words."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mapping_tool import cli
from mapping_tool.errors import PermissionDenied, UsageError
from mapping_tool.services import audit, auth, notes, students
from mapping_tool.store import db
from mapping_tool.store.files import StoreFiles
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

PASSWORDS = {CUSTODIAN: CUSTODIAN_PASSWORD, PRINCIPAL: PRINCIPAL_PASSWORD, WELFARE: WELFARE_PASSWORD,
             HGT: HGT_PASSWORD, YLC: YLC_PASSWORD}


@pytest.fixture(scope="module")
def school_template(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_school(template_store, tmp_path_factory.mktemp("corrections"), students=40, seed=9)


@pytest.fixture
def school(school_template: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    shutil.copytree(school_template, folder)
    return folder


class As:
    """Signed in as NAME for the block."""

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name

    def __enter__(self):  # type: ignore[no-untyped-def]
        self.user = auth.sign_in(self.folder, self.name, PASSWORDS[self.name])
        return self.user

    def __exit__(self, *exc: object) -> None:
        auth.sign_out(self.user)


def _raw(folder: Path, key: bytes, sql: str, params: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
    conn = db.connect_raw(StoreFiles(folder).db, key)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _teacher_note(folder: Path, text: str, *, sensitive: bool = False) -> tuple[str, int]:
    with As(folder, HGT) as teacher:
        key = students.list_students(teacher, audit=False).rows[0][0]
        return key, notes.add_note(teacher, key, text, sensitive=sensitive).id


def test_the_author_corrects_a_note_and_the_earlier_text_stays_visible(school: Path, store_key: bytes) -> None:
    key, note_id = _teacher_note(school, "Mum rang about the bus on Tuesday")
    with As(school, HGT) as teacher:
        view = notes.correct_note(teacher, note_id, "Dad rang about the bus on Tuesday", "It was the father who rang")
        assert (view.text, view.versions, view.corrected_by) == ("Dad rang about the bus on Tuesday", 2, HGT)
        assert view.corrected_at is not None
    with As(school, PRINCIPAL) as principal:  # the principal class corrects it again
        notes.correct_note(principal, note_id, "Dad rang about the bus on Wednesday", "Wrong day")
    with As(school, YLC) as coordinator:  # anyone who may read the note reads every version
        (shown,) = [n for n in notes.list_notes(coordinator, key) if n.id == note_id]
        assert (shown.text, shown.versions, shown.corrected_by) == ("Dad rang about the bus on Wednesday", 3, PRINCIPAL)
        versions = notes.note_versions(coordinator, note_id)
    assert [(v.version, v.text, v.written_by, v.current) for v in versions] == [
        (1, "Mum rang about the bus on Tuesday", HGT, False),
        (2, "Dad rang about the bus on Tuesday", HGT, False),
        (3, "Dad rang about the bus on Wednesday", PRINCIPAL, True),
    ]
    assert [(v.replaced_by, v.reason) for v in versions[:2]] == [(HGT, "It was the father who rang"), (PRINCIPAL, "Wrong day")]
    # the log: who corrected which note, never the words, and the student only by pseudonym
    with As(school, CUSTODIAN) as custodian:
        entries = audit.entries(custodian, action="note.corrected")
        assert sorted(e.actor for e in entries) == sorted([HGT, PRINCIPAL])
        assert all(e.object_id == key for e in entries)  # read back as the key, for the custodian
    details = _raw(school, store_key, "SELECT object_id, detail FROM audit_entry WHERE action = 'note.corrected'")
    assert len(details) == 2
    for object_id, detail in details:
        assert object_id.startswith("p-") and key not in detail
        for words in ("Mum", "Dad", "bus", "father", "Wrong day"):
            assert words not in detail


def test_a_correction_of_a_sensitive_note_stays_sensitive(school: Path) -> None:
    key, note_id = _teacher_note(school, "QZXOLD disclosure at lunch", sensitive=True)
    with As(school, CUSTODIAN) as custodian:
        view = notes.correct_note(custodian, note_id, "QZXNEW disclosure at recess", "It was at recess")
        assert view.sensitive and view.text == "QZXNEW disclosure at recess"
    for name in (WELFARE, PRINCIPAL, HGT):  # the sensitive readers and the author read every version
        with As(school, name) as user:
            assert [v.text for v in notes.note_versions(user, note_id)] == [
                "QZXOLD disclosure at lunch", "QZXNEW disclosure at recess"], name
    with As(school, YLC) as coordinator:
        (shown,) = [n for n in notes.list_notes(coordinator, key) if n.id == note_id]
        assert shown.sensitive and shown.text is None and shown.versions == 2  # knows it was corrected, not what
        with pytest.raises(PermissionDenied, match="This note is sensitive"):
            notes.note_versions(coordinator, note_id)
    with As(school, CUSTODIAN) as custodian:
        refused = audit.entries(custodian, action="note.versions-refused")
        assert [e.actor for e in refused] == [YLC]


@pytest.mark.parametrize("who", [YLC, WELFARE])
def test_anyone_but_the_author_custodian_or_principal_class_is_refused_and_nothing_changes(
    school: Path, store_key: bytes, who: str
) -> None:
    key, note_id = _teacher_note(school, "Arrived late three days")
    before = _raw(school, store_key, "SELECT text FROM student_note WHERE id = ?", (note_id,))
    with As(school, who) as user, pytest.raises(PermissionDenied) as refused:
        notes.correct_note(user, note_id, "Arrived late two days", "Miscounted")
    assert str(refused.value) == "Only the note's author, the data custodian or principal class may correct a note."
    assert _raw(school, store_key, "SELECT text FROM student_note WHERE id = ?", (note_id,)) == before
    assert _raw(school, store_key, "SELECT count(*) FROM student_note_version") == [(0,)]
    with As(school, CUSTODIAN) as custodian:
        assert [e.actor for e in audit.entries(custodian, action="note.correction-refused")] == [who]


@pytest.mark.parametrize(("text", "reason", "message"), [
    ("Arrived late two days", "   ", "Say why the note is being corrected"),
    ("Arrived late two days", "", "Say why the note is being corrected"),
    ("  ", "Miscounted", "A corrected note cannot be empty."),
    ("x" * (notes.MAX_NOTE + 1), "Miscounted", f"A note is at most {notes.MAX_NOTE} characters."),
    ("Arrived late three days", "Miscounted", "The corrected text is the same as the note's current text."),
    ("Arrived late two days", "y" * (notes.MAX_REASON + 1), f"A reason is at most {notes.MAX_REASON} characters."),
])
def test_bad_corrections_are_refused_with_one_sentence_and_change_nothing(
    school: Path, store_key: bytes, text: str, reason: str, message: str
) -> None:
    _key, note_id = _teacher_note(school, "Arrived late three days")
    with As(school, HGT) as teacher, pytest.raises(UsageError) as refused:
        notes.correct_note(teacher, note_id, text, reason)
    assert str(refused.value).startswith(message)
    assert _raw(school, store_key, "SELECT text FROM student_note WHERE id = ?", (note_id,)) == [("Arrived late three days",)]
    assert _raw(school, store_key, "SELECT count(*) FROM student_note_version") == [(0,)]


def test_a_note_out_of_scope_or_missing_looks_like_no_note(school: Path) -> None:
    with As(school, CUSTODIAN) as custodian:
        table = students.list_students(custodian, audit=False)
        others = [k for k, group in zip(table.column("student_key"), table.column("home_group"), strict=True)
                  if group != "07A"]
        note_id = notes.add_note(custodian, others[0], "Outside the teacher's home group").id
    with As(school, HGT) as teacher:
        for missing in (note_id, 999_999):
            with pytest.raises(UsageError, match=f"There is no note {missing} that you may see."):
                notes.correct_note(teacher, missing, "Changed", "Because")
            with pytest.raises(UsageError, match=f"There is no note {missing} that you may see."):
                notes.note_versions(teacher, missing)


def test_the_command_line_corrects_a_note_and_lists_its_versions(school: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _key, note_id = _teacher_note(school, "Plays in the under 14s")
    base = ["--store", str(school), "--user", HGT]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)
    assert cli.run([*base, "records", "correct-note", str(note_id), "--text", "Plays in the under 15s",
                    "--reason", "Wrong team"]) == 0
    assert f"Corrected note {note_id} (now version 2)" in capsys.readouterr().out
    assert cli.run([*base, "records", "note-versions", str(note_id)]) == 0
    out = capsys.readouterr().out
    assert "Plays in the under 14s" in out and "Plays in the under 15s" in out and "Wrong team" in out
    # a bad one: one line, non-zero, nothing changed
    assert cli.run([*base, "records", "correct-note", str(note_id), "--text", "Plays netball", "--reason", " "]) != 0
    captured = capsys.readouterr()
    assert captured.err.strip().count("\n") == 0 and "Say why" in captured.err
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", YLC_PASSWORD)
    assert cli.run(["--store", str(school), "--user", YLC, "records", "correct-note", str(note_id), "--text", "Plays netball",
                    "--reason", "Wrong sport"]) != 0
    assert "Only the note's author" in capsys.readouterr().err
    with As(school, HGT) as teacher:
        assert [v.text for v in notes.note_versions(teacher, note_id)] == ["Plays in the under 14s", "Plays in the under 15s"]


def test_a_changed_goal_keeps_its_earlier_value_on_the_panel_and_the_record(school: Path, store_key: bytes) -> None:
    from datetime import date, timedelta

    from mapping_tool.services import interventions, records

    with As(school, CUSTODIAN) as custodian:
        interventions.add_programme(custodian, "Breakfast club", kind="attendance", measure="attendance_rate")
        key = students.list_students(custodian, audit=False).rows[0][0]
        (mapping,) = interventions.assign(custodian, "Breakfast club", [key], start=date.today() - timedelta(days=20),
                                          goal_target=85)
        interventions.update_mapping(custodian, mapping.id, goal_target=90, reason="Entered 85 by mistake")
        interventions.update_mapping(custodian, mapping.id, review=date.today() + timedelta(days=30))
        (shown,) = interventions.student_interventions(custodian, key, audit=False).mappings
        assert shown.goal_target == 90
        assert [(c.field, c.old, c.new, c.changed_by, c.reason) for c in shown.changes] == [
            ("goal_target", "85", "90", CUSTODIAN, "Entered 85 by mistake"),
            ("review_date", "", (date.today() + timedelta(days=30)).isoformat(), CUSTODIAN, ""),
        ]
        record = records.build_record(custodian, key, purpose="Access request", with_access=False)
        (section,) = [s for s in record.sections if s.title == "Earlier goals, review dates and responsible staff"]
        row = dict(zip(section.headers, section.rows[0], strict=True))
        assert (row["Programme"], row["Changed"], row["Old value"], row["New value"], row["Reason"]) == (
            "Breakfast club", "goal target", "85", "90", "Entered 85 by mistake")
        later = dict(zip(section.headers, section.rows[1], strict=True))  # dates as a school writes them
        assert (later["Changed"], later["Old value"], later["New value"]) == (
            "review date", "", f"{date.today() + timedelta(days=30):%d/%m/%Y}")
        assert section.note == records.SECTION_NOTES["intervention_mapping_change"]
        mirrored = [s for s in record.sections if s.title.startswith(("Identity", "Attendance"))]
        assert mirrored and all("corrections are made in CASES21" in s.note and "next refresh" in s.note for s in mirrored)
    # the reason reaches the log as a length and checksum only
    details = _raw(school, store_key, "SELECT detail FROM audit_entry WHERE action = 'mapping.changed'")
    assert details and not any("mistake" in d for (d,) in details)


def test_a_correction_after_transfer_awaits_transfer_again(school: Path, tmp_path: Path, qapp) -> None:  # type: ignore[no-untyped-def]
    """The official file must carry the corrected note: a correction made after the transfer puts
    the student back among those awaiting transfer before disposal."""
    from datetime import date, timedelta

    from sqlalchemy import update

    from mapping_tool.services import records
    from mapping_tool.store.models import Student
    from mapping_tool.ui.records_pdf import render_pdf

    key, note_id = _teacher_note(school, "Left for a school in Geelong")
    with As(school, CUSTODIAN) as custodian:
        with custodian.store.write() as session:
            session.execute(update(Student).where(Student.student_key == key)
                            .values(status="LEFT", exit_date=date.today() - timedelta(days=800)))
        records.transfer(custodian, key, tmp_path, render_pdf)
        assert {i.student_key: i.status for i in records.disposal_review(custodian).items}[key] == records.DUE
        notes.correct_note(custodian, note_id, "Left for a school in Ballarat", "Wrong town")
        assert {i.student_key: i.status for i in records.disposal_review(custodian).items}[key] == records.AWAITING
