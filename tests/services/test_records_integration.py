"""Records (issue 10) with interventions (issue 8), referrals (issue 9) and replaced students
(issue 11 item 12) on real stores: a student with every kind of welfare record is exported,
transferred, disposed of, and then searched for in a decrypted dump; file notes disposed of
lawfully keep ``audit verify`` intact; a replaced key's welfare records follow the earlier child."""

from __future__ import annotations

import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from importers.demo import generate_demo_extract
from mapping_tool.services import audit, auth, imports, interventions, notes, records, referrals
from mapping_tool.services import records_registry as registry
from mapping_tool.store import db, schema
from mapping_tool.store.files import StoreFiles
from mapping_tool.store.models import Student
from tests.services.test_imports import edit_table
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, PRINCIPAL, PRINCIPAL_PASSWORD

TODAY = date.today()
LEFT_ON = TODAY - timedelta(days=800)
PROGRAMME = "Check and Connect"
AGENCY = "Youth Connect"
WELFARE_SHEETS = ("Interventions", "Student review meeting decisions", "Consents to share information",
                  "Consent evidence (signed forms", "Referrals to agencies", "Referral status history",
                  "File notes of disclosures", "Notes", "Earlier goals, review dates and responsible staff")
WELFARE_ACTIONS = {"mapping.added", "mapping.ended", "note.added", "note.corrected", "mapping.changed", "meeting.decision", "consent.recorded",
                   "referral.created", "referral.authorised", "referral.sent", "referral.status", "filenote.written"}


@pytest.fixture(scope="module")
def eduhub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("integrate") / "eduhub"
    generate_demo_extract(folder, students=30, extract_date=TODAY, years=1, seed=31)  # current: referrals allowed
    return folder


@pytest.fixture(scope="module")
def imported(template_store: Path, eduhub: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("integrate-store") / "store"
    shutil.copytree(template_store, folder)
    (folder / "smt.signin").unlink(missing_ok=True)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        imports.import_cases21(user, eduhub)
        interventions.add_programme(user, PROGRAMME, kind="attendance", measure="attendance_rate")
        referrals.add_agency(user, AGENCY, email="intake@yc.org.au", phone="03 9000 0000", address="1 Main St, Melbourne",
                             postcode="3000", ise="yes", agreement_ref="MoU-2026",
                             agreement_until=TODAY + timedelta(days=200),
                             agreement_categories="student_name,year_level,attendance_rate")
    finally:
        auth.sign_out(user)
    return folder


@pytest.fixture
def school(imported: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    shutil.copytree(imported, folder)
    return folder


def _render(html: str, path: Path, title: str) -> Path:
    from mapping_tool.ui.records_pdf import render_pdf

    return render_pdf(html, path, title)


def _dump(folder_db: Path, key: bytes) -> str:
    from sqlite3.dump import _iterdump

    conn = db.connect_raw(folder_db, key)
    try:
        return "\n".join(_iterdump(conn))
    finally:
        conn.close()


def _raw(folder: Path, key: bytes, sql: str, params: tuple = ()) -> list[tuple]:  # type: ignore[type-arg]
    conn = db.connect_raw(StoreFiles(folder).db, key)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _two_students(user) -> list[str]:  # type: ignore[no-untyped-def]
    """Current students with no exit date whose key is not also some family's key (so a key
    found in a dump is theirs)."""
    from sqlalchemy import select

    with user.store.read() as session:
        return list(session.execute(
            select(Student.student_key).where(Student.student_key.not_in(select(Student.family_key)), Student.in_extract,
                                              Student.exit_date.is_(None))
            .order_by(Student.student_key).limit(2)).scalars())


def _rename(user, key: str, name: str) -> None:  # type: ignore[no-untyped-def]
    with user.store.write() as session:
        session.execute(update(Student).where(Student.student_key == key).values(surname=name, first_name=name.lower()))


def _leave(user, key: str) -> None:  # type: ignore[no-untyped-def]
    with user.store.write() as session:
        session.execute(update(Student).where(Student.student_key == key).values(status="LEFT", exit_date=LEFT_ON))


def _welfare_records(custodian, principal, key: str, tag: str, work: Path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Every kind of welfare record for one student; each free text carries ``tag``."""
    (mapping,) = interventions.assign(custodian, PROGRAMME, [key], start=TODAY - timedelta(days=30), goal_target=90)
    outcome = interventions.add_outcome_note(custodian, mapping.id, f"{tag} outcome: comes in for mornings now")
    # a corrected goal: the earlier target stays visible (issue 10 s 3)
    interventions.update_mapping(custodian, mapping.id, goal_target=95, reason=f"{tag} goal: agreed at review")
    # a corrected outcome note: its earlier text is kept as an earlier version (issue 10 s 3)
    notes.correct_note(custodian, outcome, f"{tag} outcome: comes in for mornings most days",
                       f"{tag} reason: not every morning")
    interventions.end_mapping(custodian, PROGRAMME, key, end=TODAY, status="withdrawn", reason=f"{tag} family moved")
    meeting = interventions.start_meeting(custodian, "Term review")
    interventions.record_decision(custodian, meeting.id, key, "note", text=f"{tag} decision: ring the family")
    scan = work / f"{tag}-consent.pdf"
    scan.write_bytes(f"%PDF-1.4 scanned form {tag}scan".encode())
    consent = referrals.record_consent(
        custodian, key, agency=AGENCY, purpose=f"{tag} mentoring support", categories="student_name,year_level",
        given_by="parent", giver_name=f"{tag} Parentname", date_given=TODAY - timedelta(days=2), evidence=scan,
    )
    rid = referrals.create_referral(custodian, key, agency=AGENCY, categories="student_name,year_level",
                                    purpose=f"{tag} referral purpose", consent_id=consent)
    referrals.authorise_referral(principal, rid, PRINCIPAL_PASSWORD)
    sent = referrals.send_referral(custodian, rid, work / f"{tag}-referral.docx", fmt="docx")
    referrals.set_status(custodian, rid, "acknowledged", f"{tag} status note")
    correction = referrals.correct_file_note(custodian, sent.note_id, f"{tag} correction: intake officer Jo")
    return {"mapping": mapping.id, "consent": consent, "referral": rid, "note": sent.note_id, "correction": correction}


def test_every_table_belonging_to_a_student_is_in_the_registry() -> None:
    """A table with a student_key column, or with a foreign key to such a table, is listed; a
    child is listed with its parent and the link column, and goes before its parent."""
    listed = {t.table: t for t in registry.REGISTRY}
    keyed = {t.name for t in schema.metadata.sorted_tables if "student_key" in t.c}
    assert keyed - set(listed) - registry.NOT_STUDENT_DATA == set()
    order = [t.table for t in registry.deletion_order()]
    for table in schema.metadata.sorted_tables:
        for fk in table.foreign_keys:
            parent = fk.column.table.name
            if parent not in listed or parent == table.name:
                continue
            assert table.name in listed, f"{table.name} belongs to {parent} rows but is not in the registry"
            entry = listed[table.name]
            if "student_key" not in table.c:
                assert (entry.parent, entry.column) == (parent, fk.parent.name)
            assert order.index(table.name) < order.index(parent), f"{table.name} must be deleted before {parent}"
    replaced = listed["replaced_students"]
    assert (replaced.kind, replaced.column) == (registry.ADMIN, "retired_key")
    welfare = {t.table for t in registry.tables(registry.WELFARE)}
    assert {"intervention_mapping", "intervention_decision", "consent_record", "consent_evidence", "referral",
            "referral_status_change", "file_note"} <= welfare
    assert all(t.changed_column for t in registry.tables(registry.WELFARE))


def test_a_student_with_every_welfare_record_is_exported_transferred_and_disposed_of(
    school: Path, store_key: bytes, tmp_path: Path, qapp  # a QApplication for the PDF (and the window's tests)
) -> None:
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    principal = auth.sign_in(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        gone, kept = _two_students(custodian)
        _rename(custodian, gone, "Zqxgonewelfare")
        ids = _welfare_records(custodian, principal, gone, "Zqxgone", tmp_path)
        kept_ids = _welfare_records(custodian, principal, kept, "Zqxkept", tmp_path)
        _leave(custodian, gone)
        (pseudonym,) = _raw(school, store_key, "SELECT pseudonym FROM audit_pseudonym WHERE student_key = ?", (gone,))[0]

        # the access report (who accessed the record) shows the welfare work, by the student's key
        report = audit.entries(custodian, student=gone)
        assert WELFARE_ACTIONS <= {e.action for e in report}
        assert all(e.object_id != kept for e in report)

        # subject access: every welfare section, with its rows, and the access sheet
        xlsx = records.subject_access(custodian, gone, tmp_path / "sa.xlsx", None)
        wb = load_workbook(xlsx)
        for sheet in WELFARE_SHEETS:
            found = [s for s in wb.sheetnames if s.startswith(sheet[:28].rstrip())]
            assert found, sheet
            rows = list(wb[found[0]].iter_rows(values_only=True))
            assert len(rows) >= 2, f"{sheet} has no rows"
        cells = {str(c) for s in wb.worksheets for r in s.iter_rows(values_only=True) for c in r}
        assert PROGRAMME in cells and AGENCY in cells  # names, not ids
        assert "Zqxgone Parentname" in cells and "Zqxgone status note" in cells
        assert not any("scanned form" in c for c in cells)  # the scan's bytes stay in the store
        assert not any("Zqxkept" in c for c in cells)  # nothing of another student
        # the corrected note shows both versions, the replaced one with who, when and why
        note_rows = list(wb["Notes"].iter_rows(values_only=True))
        assert note_rows[0] == ("Note", "Version", "Written", "Written by", "Sensitive", "Text", "Correction")
        assert any(r[1] == "1 (replaced)" and "mornings now" in r[5] and "Zqxgone reason" in r[6] for r in note_rows)
        assert any(r[1] == "2 (current)" and "mornings most days" in r[5] and r[6].startswith("corrected ") for r in note_rows)
        assert "Earlier versions of corrected notes" not in wb.sheetnames  # shown with their notes
        evaluation = list(wb["Intervention evaluations"].iter_rows(values_only=True))
        assert evaluation[0][0] == "Programme" and evaluation[1][0] == PROGRAMME
        access = {r[2] for r in wb["Who accessed the record"].iter_rows(values_only=True)}
        assert WELFARE_ACTIONS <= access

        # not transferred: awaiting; transferred: due; a later change awaits transfer again
        review = {i.student_key: i for i in records.disposal_review(custodian).items}
        assert review[gone].status == records.AWAITING and review[gone].welfare_rows >= 10
        official = tmp_path / "official"
        official.mkdir()
        transferred = records.transfer(custodian, gone, official, _render)
        sheets = load_workbook(transferred.xlsx).sheetnames
        assert "Interventions" in sheets and "Referrals to agencies" in sheets
        assert {i.student_key: i.status for i in records.disposal_review(custodian).items}[gone] == records.DUE
        referrals.set_status(custodian, ids["referral"], "closed", "Zqxgone closed after support")
        assert {i.student_key: i.status for i in records.disposal_review(custodian).items}[gone] == records.AWAITING
        records.transfer(custodian, gone, official, _render, force=True)

        run = records.prepare_run(custodian)
        records.approve_run(principal, run.id, PRINCIPAL_PASSWORD)
        result = records.execute_run(custodian, run.id)
        assert result.counts["students"] == 1 and result.counts["welfare_rows"] >= 10
        wal = StoreFiles(school).db.with_name("smt.db-wal")
        assert not wal.exists() or wal.stat().st_size == 0
        check = audit.verify(custodian)
        assert check.intact, check.problem  # the disposed file notes are accounted for
        assert audit.entries(custodian, student=gone) == []
        assert referrals.list_file_notes(custodian, student=kept, audit=False)  # the other student's stay
        dump = _dump(StoreFiles(school).db, store_key)
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)

    for text in (gone, "Zqxgone", "zqxgone"):
        assert text not in dump, text
    assert kept in dump and "Zqxkept Parentname" in dump and "Zqxkept status note" in dump
    assert "Zqxkept goal: agreed at review" in dump and "Zqxkept reason: not every morning" in dump and "Zqxkept outcome: comes in for mornings now" in dump
    assert _raw(school, store_key, "SELECT count(*) FROM audit_pseudonym WHERE pseudonym = ?", (pseudonym,)) == [(0,)]
    disposed = _raw(school, store_key, "SELECT detail FROM audit_entry WHERE action = 'filenotes.disposed'")
    assert [json.loads(d)["notes"] for (d,) in disposed] == [sorted([ids["note"], ids["correction"]])]
    for table in ("intervention_mapping", "intervention_decision", "consent_record", "consent_evidence", "referral",
                  "referral_status_change", "file_note", "student_note", "student_note_version", "intervention_mapping_change"):
        assert _raw(school, store_key, f"SELECT count(*) FROM {table}")[0][0] >= 1, table  # the kept student's

    # a file note deleted any other way is still reported
    conn = db.connect_raw(StoreFiles(school).db, store_key)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM file_note WHERE id = ?", (kept_ids["note"],))
    conn.commit()
    conn.close()
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        check = audit.verify(custodian)
        assert not check.intact and f"file note {kept_ids['note']} is missing" in check.problem
    finally:
        auth.sign_out(custodian)


def test_a_replaced_keys_welfare_records_follow_the_earlier_child_and_go_with_them(
    imported: Path, eduhub: Path, store_key: bytes, tmp_path: Path, qapp
) -> None:
    school = tmp_path / "school"
    shutil.copytree(imported, school)
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    principal = auth.sign_in(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        key = _two_students(custodian)[0]
        ids = _welfare_records(custodian, principal, key, "Zqxearlier", tmp_path)
        later = tmp_path / "later"
        shutil.copytree(eduhub, later)

        def another_child(rows: list[dict[str, str]]) -> list[dict[str, str]]:
            for r in rows:
                if r["STKEY"] == key:
                    r["FIRST_NAME"] = r["PREF_NAME"] = "Quinlan"
                    r["BIRTHDATE"] = "3/03/2011 12:00:00 AM"
            return rows

        for name in ("ST_8123.csv", "ST_8123_D.csv"):
            if (later / name).exists():
                edit_table(later, name, another_child)
        result = imports.import_cases21(custodian, later, accept_warnings=True)
        retired = f"{key}~1"
        assert result.replaced == ((key, retired),)

        moved = {name: column for name, column in imports.retired_tables()}
        assert {"intervention_mapping", "intervention_decision", "consent_record", "referral", "file_note",
                "student_note", "audit_pseudonym"} <= set(moved)
        for table in ("intervention_mapping", "intervention_decision", "consent_record", "referral", "file_note",
                      "student_note"):
            rows = _raw(school, store_key, f"SELECT student_key, count(*) FROM {table} GROUP BY student_key")
            assert dict(rows).get(key, 0) == 0 and dict(rows)[retired] >= 1, table
        # the children follow their parents (no key of their own)
        assert referrals.list_consents(custodian, student=retired)[0].id == ids["consent"]
        assert referrals.consent_evidence(custodian, ids["consent"]) is not None
        assert [n.id for n in referrals.list_file_notes(custodian, student=retired, audit=False)] == [
            ids["note"], ids["correction"]]
        assert referrals.list_file_notes(custodian, student=key, audit=False) == []
        # the re-keyed file notes hash differently: the chain recorded it, so the log is intact
        check = audit.verify(custodian)
        assert check.intact, check.problem
        # the log names neither child in plain words
        entries = _raw(school, store_key, "SELECT object_id, detail FROM audit_entry WHERE action LIKE 'import%'")
        assert entries and not any(key in o or key in d for o, d in entries)
        assert any(a.action == "import.student_replaced" for a in audit.entries(custodian, student=retired))

        # the earlier child was last seen in the previous extract: the CASES21-copy class counts from
        # then; transferred and disposed of, the replaced mark goes too
        with custodian.store.read() as session:
            assert session.get(Student, retired).exit_date == TODAY
        later_on = TODAY + timedelta(days=400)
        waiting = {i.student_key: i.status for i in records.disposal_review(custodian, as_of=later_on).items}
        assert waiting[retired] == records.AWAITING
        official = tmp_path / "official"
        official.mkdir()
        records.transfer(custodian, retired, official, _render)
        run = records.prepare_run(custodian, as_of=later_on)
        assert run.students == sum(1 for s in waiting.values() if s == records.DUE) + 1
        records.approve_run(principal, run.id, PRINCIPAL_PASSWORD)
        records.execute_run(custodian, run.id, as_of=later_on)
        check = audit.verify(custodian)
        assert check.intact, check.problem
        dump = _dump(StoreFiles(school).db, store_key)
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)
    assert f"{key}~" not in dump and "Zqxearlier" not in dump
    assert _raw(school, store_key, "SELECT count(*) FROM replaced_students") == [(0,)]
    assert _raw(school, store_key, "SELECT first_name FROM student WHERE student_key = ?", (key,)) == [("Quinlan",)]


def test_the_access_report_shows_the_welfare_work_in_words(school: Path, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.governance import AuditViewer, action_title

    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    principal = auth.sign_in(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        key = _two_students(custodian)[0]
        _welfare_records(custodian, principal, key, "Zqxreport", tmp_path)
        viewer = AuditViewer(custodian)
        qtbot.addWidget(viewer)
        page = viewer.student_report_html(key)
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)
    for action in sorted(WELFARE_ACTIONS):
        assert action_title(action) != action, action  # plain words, not the code
        assert action_title(action) in page, action
    assert "intact" in page and "Zqxreport" not in page  # the log holds no free text about the student


def test_file_note_digests_restated_before_old_audit_entries_go_keep_the_notes_checked(
    school: Path, store_key: bytes, tmp_path: Path
) -> None:
    """For the audit-log class: the entries holding the notes' digests may be disposed of once
    one new entry restates the digests the chain held; an edited note is still found."""
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    principal = auth.sign_in(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        ids = _welfare_records(custodian, principal, _two_students(custodian)[0], "Zqxold", tmp_path)
        with custodian.store.write() as session:
            referrals.restate_file_note_digests(custodian.store, session, custodian.username, 1)
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)
    conn = db.connect_raw(StoreFiles(school).db, store_key)
    conn.execute("DELETE FROM audit_entry WHERE action = 'filenote.written'")  # as the audit-log class would
    conn.commit()
    conn.close()
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        with custodian.store.read() as session:
            assert referrals.check_file_notes(session) is None
        conn = db.connect_raw(StoreFiles(school).db, store_key)
        conn.execute("UPDATE file_note SET text = 'Someone else' WHERE id = ?", (ids["correction"],))
        conn.commit()
        conn.close()
        with custodian.store.read() as session:
            assert referrals.check_file_notes(session) == (ids["correction"], f"file note {ids['correction']} was changed after it was written")
    finally:
        auth.sign_out(custodian)


def test_a_file_note_in_the_students_record_reads_as_words_not_json(school: Path, tmp_path: Path) -> None:
    """The information a file note says was given, and the agency's details it went to, read one
    "name: value" per line in the student's record (access requests, transfers), never as JSON."""
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    principal = auth.sign_in(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        key = _two_students(custodian)[0]
        _welfare_records(custodian, principal, key, "Zqxwords", tmp_path)
        record = records.build_record(custodian, key, purpose="Access request", with_access=False)
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)
    section = next(s for s in record.sections if s.title == "File notes of disclosures")
    given = section.headers.index("Information disclosed")
    sent_to = section.headers.index("Agency's details as sent")
    sent = next(row for row in section.rows if row[given])  # the disclosure (its correction gives nothing)
    assert "[" not in sent[given] and '"' not in sent[given]
    assert sent[given].splitlines()[1].startswith("Year Level: Year ")
    assert sent[given].splitlines()[0].startswith("Student Name: ")
    assert sent[sent_to].splitlines() == ["Email: intake@yc.org.au", "Phone: 03 9000 0000", "Address: 1 Main St, Melbourne",
                                          "Postcode: 3000"]
    named = section.headers.index("School and staff as named on the form")
    lines = sent[named].splitlines()
    assert lines[0].startswith("School: ") and any(line.startswith("Authorised by: ") for line in lines)
    assert "[" not in sent[named] and not any(line.startswith("Reason for sending") for line in lines)  # blank: left out
