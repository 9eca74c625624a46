"""Keeping and disposing of records (issue 10): real stores are disposed of, then a decrypted
dump, the WAL and a backup made afterwards are searched for what must be gone."""

from __future__ import annotations

import shutil
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from mapping_tool import cli
from mapping_tool.errors import AuthenticationError, PermissionDenied, UsageError
from mapping_tool.services import (
    audit,
    auth,
    backup,
    notes,
    records,
    records_backup,
    records_privacy,
)
from mapping_tool.services import records_registry as registry
from mapping_tool.store import db, schema
from mapping_tool.store.files import StoreFiles
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
    imported_school,
)

LEFT_ON = date.today() - timedelta(days=800)


@pytest.fixture(scope="module")
def school_template(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return imported_school(template_store, tmp_path_factory.mktemp("records"), students=30, seed=21)


@pytest.fixture
def school(school_template: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    shutil.copytree(school_template, folder)
    return folder


def _render(html: str, path: Path, title: str) -> Path:
    from mapping_tool.ui.records_pdf import render_pdf

    return render_pdf(html, path, title)


def _leave(user, keys: list[str], names: list[str], left_on: date = LEFT_ON) -> None:  # type: ignore[no-untyped-def]
    """Test data: these students left long ago (and get unmistakable names to search for)."""
    with user.store.write() as session:
        for key, name in zip(keys, names, strict=True):
            session.execute(update(Student).where(Student.student_key == key)
                            .values(status="LEFT", exit_date=left_on, surname=name, first_name=name.lower()))


def _dump(folder_db: Path, key: bytes) -> str:
    """A full decrypted dump (sqlite3's iterdump over the keyed sqlcipher3 connection)."""
    from sqlite3.dump import _iterdump

    conn = db.connect_raw(folder_db, key)
    try:
        return "\n".join(_iterdump(conn))
    finally:
        conn.close()


def _keys(user, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    """Students whose key is not also some family's key (CASES21 family keys share the format,
    and a family key is the family's, not the student's), so a key found in a dump is theirs."""
    with user.store.read() as session:
        return list(session.execute(
            select(Student.student_key).where(Student.student_key.not_in(select(Student.family_key)))
            .order_by(Student.student_key).limit(n)).scalars())


def test_every_table_keyed_by_a_student_is_in_the_registry() -> None:
    keyed = {t.name for t in schema.metadata.sorted_tables if "student_key" in t.c}
    listed = {t.table for t in registry.REGISTRY}
    assert keyed - listed - registry.NOT_STUDENT_DATA == set()
    assert listed <= {t.name for t in schema.metadata.sorted_tables}


def test_audit_entries_name_students_only_by_pseudonym(school: Path, store_key: bytes) -> None:
    user = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        key = _keys(user, 1)[0]
        notes.add_note(user, key, "Met with the student about attendance.")
        assert any(e.object_id == key for e in audit.entries(user, student=key))  # read back as the key
    finally:
        auth.sign_out(user)
    conn = db.connect_raw(StoreFiles(school).db, store_key)
    try:
        objects = [r[0] for r in conn.execute("SELECT object_id FROM audit_entry WHERE object_type = 'student'")]
        listed = [r[0] for r in conn.execute("SELECT detail FROM audit_entry WHERE detail LIKE '%student_keys%'")]
    finally:
        conn.close()
    assert objects and all(o.startswith("p-") for o in objects)
    assert all(f'"{key}"' not in d for d in listed)


def test_disposal_leaves_nothing_of_the_students_in_the_dump_the_wal_or_later_backups(
    school: Path, store_key: bytes, tmp_path: Path
) -> None:
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    principal = auth.sign_in(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        gone_plain, gone_welfare, kept_held, kept_current = _keys(custodian, 4)
        _leave(custodian, [gone_plain, gone_welfare, kept_held], ["Zqxplainovic", "Zqxwelfarenko", "Zqxheldsworth"])
        notes.add_note(custodian, gone_welfare, "Zqxnotetext: referred to the wellbeing team.")
        records.add_hold(principal, kept_held, "Subpoena received for Family Court matter", "legal proceedings")
        for key in (gone_plain, gone_welfare, kept_held, kept_current):
            records.subject_access(custodian, key, tmp_path / f"sa-{key}.xlsx", None)  # puts each in the audit log
        before = tmp_path / "before"
        before.mkdir()
        backup.backup(custodian, before / "before.smtbackup")

        review = records.disposal_review(custodian)
        assert {i.student_key: i.status for i in review.items} == {
            gone_plain: records.DUE, gone_welfare: records.AWAITING, kept_held: records.HELD}
        with pytest.raises(UsageError):  # nothing is prepared for a student awaiting transfer...
            records.transfer(custodian, gone_welfare, tmp_path / "nope", _render)
        official = tmp_path / "official"
        official.mkdir()
        done = records.transfer_all_due(custodian, official, _render)
        assert [d.student_key for d in done] == [gone_welfare]
        assert done[0].pdf.read_bytes()[:4] == b"%PDF"
        sheets = load_workbook(done[0].xlsx).sheetnames
        assert "Notes" in sheets

        run = records.prepare_run(custodian)
        assert run.students == 2 and run.status == "prepared"
        approved = records.approve_run(principal, run.id, PRINCIPAL_PASSWORD)
        assert approved.approved_by == PRINCIPAL
        result = records.execute_run(custodian, run.id)
        wal = StoreFiles(school).db.with_name("smt.db-wal")
        assert not wal.exists() or wal.stat().st_size == 0  # every later frame is written after the purge
        assert result.counts["students"] == 2 and result.counts["welfare_rows"] >= 1
        assert result.counts["backups_expire_by"] == (date.today() + timedelta(weeks=8)).isoformat()

        assert audit.verify(custodian).intact
        assert audit.entries(custodian, student=gone_plain) == []
        assert any(e.action == "records.subject-access" for e in audit.entries(custodian, student=kept_current))
        assert any(e.action == "hold.placed" for e in audit.entries(custodian, student=kept_held))
        reg = records.register(custodian)
        assert [r[7] for r in reg] == [2, 1]

        after = tmp_path / "after"
        after.mkdir()
        backup.backup(custodian, after / "after.smtbackup")
        dump = _dump(StoreFiles(school).db, store_key)  # read through the WAL as it is now
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)

    with zipfile.ZipFile(after / "after.smtbackup") as zf:
        zf.extract("smt.db", tmp_path / "unzipped")
    backup_dump = _dump(tmp_path / "unzipped" / "smt.db", store_key)
    for text in (dump, backup_dump):
        for gone in (gone_plain, gone_welfare, "Zqxplainovic", "zqxplainovic", "Zqxwelfarenko", "Zqxnotetext"):
            assert gone not in text
        assert "Zqxheldsworth" in text and kept_held in text and kept_current in text
    assert "Zqxwelfarenko" in _dump_of_backup(before / "before.smtbackup", store_key, tmp_path / "b")  # ages out


def _dump_of_backup(path: Path, key: bytes, work: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        zf.extract("smt.db", work)
    return _dump(work / "smt.db", key)


def test_the_register_holds_no_student_data(school: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        keys = _keys(custodian, 2)
        _leave(custodian, keys, ["Zqxalpha", "Zqxbeta"])
    finally:
        auth.sign_out(custodian)
    base = ["--store", str(school)]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    assert cli.run([*base, "--user", CUSTODIAN, "disposal", "review"]) == 0
    assert keys[0] in capsys.readouterr().out
    assert cli.run([*base, "--user", CUSTODIAN, "disposal", "prepare"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("disposal run 1\n")
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", PRINCIPAL_PASSWORD)
    assert cli.run([*base, "--user", PRINCIPAL, "disposal", "approve", "1"]) == 0
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    assert cli.run([*base, "--user", CUSTODIAN, "disposal", "run", "1"]) == 0
    reg = tmp_path / "register.xlsx"
    assert cli.run([*base, "--user", CUSTODIAN, "disposal", "register", "--out", str(reg)]) == 0
    assert cli.run([*base, "--user", CUSTODIAN, "audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    rows = list(load_workbook(reg).active.iter_rows(values_only=True))
    assert rows[0] == records.REGISTER_HEADERS and len(rows) == 2  # no welfare records went
    text = repr(rows)
    assert CUSTODIAN in text and PRINCIPAL in text
    for k in (*keys, "Zqxalpha", "Zqxbeta"):
        assert k not in text


def _state(user) -> tuple:  # type: ignore[no-untyped-def,type-arg]
    with user.store.read() as session:
        conn = session.connection()
        return tuple(
            conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("student", "student_note", "legal_hold", "disposal_run", "disposal_register", "retention_setting",
                      "record_transfer", "breach")
        ) + tuple(conn.exec_driver_sql("SELECT status FROM disposal_run ORDER BY id").scalars())


@pytest.mark.parametrize(
    ("actor", "action", "error", "message"),
    [
        ("custodian", lambda u, run, tmp: records.approve_run(u, run, CUSTODIAN_PASSWORD), PermissionDenied, "prepared by you"),
        ("principal", lambda u, run, tmp: records.approve_run(u, run, "wrong-password-123"), AuthenticationError, "password is not correct"),
        ("welfare", lambda u, run, tmp: records.approve_run(u, run, WELFARE_PASSWORD), PermissionDenied, "Only the"),
        ("custodian", lambda u, run, tmp: records.execute_run(u, run), UsageError, "has not been approved"),
        ("custodian", lambda u, run, tmp: records.execute_run(u, 99), UsageError, "no disposal run 99"),
        ("welfare", lambda u, run, tmp: records.release_hold(u, 1, "done"), PermissionDenied, "Only the"),
        ("principal", lambda u, run, tmp: records.release_hold(u, 1, "  "), UsageError, "reason"),
        ("custodian", lambda u, run, tmp: records.set_retention(u, "welfare-records", "10"), UsageError, "at least 75 years"),
        ("custodian", lambda u, run, tmp: records.set_retention(u, "shredding", "1"), UsageError, "Unknown retention class"),
        ("custodian", lambda u, run, tmp: records.set_retention(u, "cases21-copy", "soon"), UsageError, "not a whole number"),
        ("principal", lambda u, run, tmp: records.set_retention(u, "cases21-copy", "24"), PermissionDenied, "Only the"),
        ("welfare", lambda u, run, tmp: records.add_hold(u, "NOPE0001", "inquiry"), UsageError, "no student NOPE0001"),
        ("custodian", lambda u, run, tmp: records.subject_access(u, "NOPE0001", tmp / "x.xlsx", None), UsageError, "no student"),
        ("custodian", lambda u, run, tmp: records.subject_access(u, "ANY", tmp / "x.txt", None), UsageError, ".pdf or .xlsx"),
        ("welfare", lambda u, run, tmp: records.subject_access(u, "ANY", tmp / "x.xlsx", None), PermissionDenied, "Only the"),
        ("custodian", lambda u, run, tmp: records.transfer(u, "ANY", tmp / "missing", _render), UsageError, "does not exist"),
        ("custodian", lambda u, run, tmp: records_privacy.add_breach(u, found_on=date.today() + timedelta(days=2), what="x"), UsageError, "future"),
        ("custodian", lambda u, run, tmp: records_backup.backup_now(u), UsageError, "No backup folder"),
        ("custodian", lambda u, run, tmp: records_backup.restore_drill(u), UsageError, "no backup to try"),
    ],
)
def test_bad_input_is_one_sentence_and_changes_nothing(school: Path, tmp_path: Path, actor, action, error, message) -> None:  # type: ignore[no-untyped-def]
    passwords = {"custodian": CUSTODIAN_PASSWORD, "principal": PRINCIPAL_PASSWORD, "welfare": WELFARE_PASSWORD}
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    other = auth.sign_in(school, actor, passwords[actor]) if actor != CUSTODIAN else custodian
    try:
        keys = _keys(custodian, 2)
        _leave(custodian, keys[:1], ["Zqxbad"])
        records.add_hold(custodian, keys[1], "Complaint under investigation")
        run = records.prepare_run(custodian).id
        before = _state(custodian)
        with pytest.raises(error) as caught:
            action(other, run, tmp_path)
        assert message in caught.value.message
        assert caught.value.message.count(". ") == 0 and caught.value.message.endswith(".")
        assert _state(custodian) == before
    finally:
        if other is not custodian:
            auth.sign_out(other)
        auth.sign_out(custodian)


def test_cli_bad_input_exits_non_zero_with_one_line(school: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    base = ["--store", str(school), "--user", CUSTODIAN]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    for argv, words in (
        (["disposal", "prepare"], "Nothing is due"),
        (["hold", "add", "--reason", "x"], "--student KEY, or --all-students"),
        (["hold", "release", "7", "--reason", "over"], "no hold 7"),
        (["retention", "set", "audit-log", "3"], "between 7 and 99"),
        (["subject-access", "--student", "NOPE0001", "--out", "x.docx"], ".pdf or .xlsx"),
        (["breach", "add", "--found", "31/02/2026", "--what", "lost laptop"], "not a date"),
        (["restore", "--drill"], "no backup to try"),
    ):
        code = cli.run([*base, *argv])
        err = capsys.readouterr().err.strip()
        assert code != 0 and len(err.splitlines()) == 1 and words in err, (argv, err)


def test_holds_win_and_are_released_only_with_a_reason(school: Path) -> None:
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    welfare = auth.sign_in(school, WELFARE, WELFARE_PASSWORD)
    try:
        keys = _keys(custodian, 2)
        _leave(custodian, keys, ["Zqxone", "Zqxtwo"])
        everyone = records.add_hold(welfare, None, "Department direction: keep all records during review", "Department direction")
        assert everyone.who == "all students"
        review = records.disposal_review(custodian)
        assert {i.status for i in review.items} == {records.HELD}
        with pytest.raises(UsageError, match="Nothing is due"):
            records.prepare_run(custodian)
        run_hold = records.release_hold(custodian, everyone.id, "Review finished")
        assert not run_hold.active and run_hold.release_reason == "Review finished"
        run = records.prepare_run(custodian)
        principal = auth.sign_in(school, PRINCIPAL, PRINCIPAL_PASSWORD)
        records.approve_run(principal, run.id, PRINCIPAL_PASSWORD)
        auth.sign_out(principal)
        records.add_hold(welfare, keys[0], "Child safety matter reported", "child safety matter")  # after approval
        done = records.execute_run(custodian, run.id)
        assert done.counts["students"] == 1 and done.counts["skipped"] == 1  # the hold was checked again
        assert records.disposal_review(custodian).of(records.HELD)[0].student_key == keys[0]
    finally:
        auth.sign_out(welfare)
        auth.sign_out(custodian)


def test_retention_show_and_set(school: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    base = ["--store", str(school), "--user", CUSTODIAN]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    assert cli.run([*base, "retention", "set", "cases21-copy", "2 years"]) == 0
    assert cli.run([*base, "retention", "show"]) == 0
    out = capsys.readouterr().out
    assert "cases21-copy: 24 months" in out and "welfare-records: 75 years" in out and "audit-log: 7 years" in out
    assert "PROS 19/08" in out


def test_subject_access_pdf_and_workbook_hold_everything(school: Path, tmp_path: Path) -> None:
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    teacher = auth.sign_in(school, HGT, HGT_PASSWORD)
    try:
        from mapping_tool.services import students

        key = students.list_students(teacher, audit=False).rows[0][0]
        students.get_student(teacher, key)
        notes.add_note(custodian, key, "=HYPERLINK(\"http://x\") sensitive", sensitive=True)
        xlsx = records.subject_access(custodian, key, tmp_path / "sa.xlsx", None)
        pdf = records.subject_access(custodian, key, tmp_path / "sa.pdf", _render)
    finally:
        auth.sign_out(teacher)
        auth.sign_out(custodian)
    wb = load_workbook(xlsx)
    for sheet in ("Attendance (each day)", "Notes", "Who accessed the record", "Measures and flags at each extra"):
        assert any(s.startswith(sheet[:28]) for s in wb.sheetnames), sheet
    access = list(wb["Who accessed the record"].iter_rows(values_only=True))
    assert any(r[1] == HGT and r[2] == "student.viewed" for r in access)
    note_cells = [c for r in wb["Notes"].iter_rows() for c in r if str(c.value).startswith("=HYPERLINK")]
    assert note_cells and all(c.data_type == "s" for c in note_cells)
    assert pdf.read_bytes()[:4] == b"%PDF"


def test_automatic_backups_rotate_and_the_drill_changes_nothing(school: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "backups"
    folder.mkdir()
    base = ["--store", str(school), "--user", CUSTODIAN]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    assert cli.run([*base, "retention", "set", "backup-generations", "2"]) == 0
    for _ in range(3):
        assert cli.run([*base, "backup", "--auto-now", "--folder", str(folder)]) == 0
    assert "checked after writing" in capsys.readouterr().out
    kept = sorted(p.name for p in folder.iterdir())
    assert len(kept) == 2 and all(p.startswith("smt-auto-") for p in kept)
    user = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        with user.store.read() as session:
            conn = session.connection()
            manifests = conn.exec_driver_sql("SELECT file_name, removed_at, students FROM backup_manifest ORDER BY id").all()
            linked = conn.exec_driver_sql("SELECT count(DISTINCT backup_id) FROM backup_manifest_student").scalar()
            in_store = conn.exec_driver_sql("SELECT count(*) FROM student").scalar()
        assert len(manifests) == 3 and manifests[0][1] is not None and manifests[0][2] == in_store
        assert linked == 2  # a removed backup's student list is dropped with it
        listing = sorted(p.name for p in folder.iterdir())
        before = _state(user)
        report = records_backup.restore_drill(user)
        assert report.integrity == "intact" and report.students == in_store
        assert report.backup.name == kept[-1]
        assert _state(user) == before and sorted(p.name for p in folder.iterdir()) == listing
    finally:
        auth.sign_out(user)
    assert cli.run([*base, "restore", "--drill"]) == 0
    assert "nothing was changed" in capsys.readouterr().out


def test_unusual_access_breaches_and_the_privacy_statement(school: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    teacher = auth.sign_in(school, HGT, HGT_PASSWORD)
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        from mapping_tool.services import students

        outsider = next(k for k in _keys(custodian, 30) if k not in set(students.list_students(teacher, audit=False).column("student_key")))
        with pytest.raises(Exception, match="that you may see"):
            students.get_student(teacher, outsider)
        rows = records_privacy.unusual_access(custodian)
        assert any(r[1] == HGT and r[2] == 1 and "refused reads" in r[7] for r in rows)

        assert records_privacy.needs_acknowledgement(teacher)
        records_privacy.acknowledge(teacher)
        assert not records_privacy.needs_acknowledgement(teacher)
        records_privacy.set_policy_text(custodian, "Our school's Information Privacy Policy: ask the principal.")
        assert "Our school's Information Privacy Policy" in records_privacy.statement(teacher)
        assert records_privacy.needs_acknowledgement(teacher)  # a changed statement is acknowledged again
    finally:
        auth.sign_out(teacher)
        auth.sign_out(custodian)
    base = ["--store", str(school), "--user", CUSTODIAN]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    out = tmp_path / "unusual.xlsx"
    assert cli.run([*base, "report", "unusual-access", "--out", str(out)]) == 0
    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[0] == records_privacy.UNUSUAL_HEADERS and any(r[1] == HGT for r in rows[1:])
    assert cli.run([*base, "breach", "add", "--found", "01/11/2026", "--what", "USB stick lost on the bus",
                    "--students", f"{outsider},{outsider.lower()}", "--notified", "Principal; OVIC",
                    "--notified-on", "02/11/2026", "--steps", "Staff reminded; passwords reset"]) == 0
    assert cli.run([*base, "breach", "list"]) == 0
    listed = capsys.readouterr().out
    assert "USB stick lost on the bus" in listed and "1 students" in listed and "02/11/2026" in listed


def test_the_custodian_signing_out_makes_the_days_automatic_backup_once(school: Path, tmp_path: Path) -> None:
    folder = tmp_path / "auto"
    folder.mkdir()
    user = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    records.set_retention(user, "backup-folder", str(folder))
    auth.sign_out(user)  # the first sign-out of the day writes one
    assert len(list(folder.iterdir())) == 1
    user = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    auth.sign_out(user)  # at most once a day
    teacher = auth.sign_in(school, HGT, HGT_PASSWORD)
    auth.sign_out(teacher)  # only the custodian's sign-out
    assert len(list(folder.iterdir())) == 1


def test_audit_entries_past_their_period_go_and_the_chain_still_verifies(school: Path, store_key: bytes) -> None:
    later = date.today() + timedelta(days=366 * 8)  # eight years on, everything logged today is past 7 years
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    principal = auth.sign_in(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        assert records.disposal_review(custodian).audit_entries_due == 0
        due = records.disposal_review(custodian, as_of=later).audit_entries_due
        assert due > 10
        run = records.prepare_run(custodian, as_of=later)
        records.approve_run(principal, run.id, PRINCIPAL_PASSWORD)
        done = records.execute_run(custodian, run.id, as_of=later)
        assert done.counts["audit_entries"] >= due
        result = audit.verify(custodian)
        assert result.intact, result.problem
        assert any(r[2] == "The audit log" and r[8] == done.counts["audit_entries"] for r in records.register(custodian))
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)
    conn = db.connect_raw(StoreFiles(school).db, store_key)
    try:
        first = conn.execute("SELECT min(id) FROM audit_entry").fetchone()[0]
    finally:
        conn.close()
    assert first > due
    user = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert audit.verify(user).intact  # and after signing in again, with new entries
    finally:
        auth.sign_out(user)
    # the START moved lawfully; cutting the END off is still caught by this PC's witnesses
    conn = db.connect_raw(StoreFiles(school).db, store_key)
    try:
        last = conn.execute("SELECT max(id) FROM audit_entry").fetchone()[0]
        conn.execute("DELETE FROM audit_entry WHERE id > ?", (last - 3,))
        conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_entry'", (last - 3,))
    finally:
        conn.close()
    user = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert any("entries were cut off" in n for n in user.notices), user.notices
        result = audit.verify(user)
        # the new sign-in's entries took the cut ones' numbers, with other hashes
        assert not result.intact and "the user custodian saw on this PC" in result.problem, result.problem
    finally:
        auth.sign_out(user)


def test_cli_transfer_subject_access_and_holds(school: Path, tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    user = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        key = _keys(user, 1)[0]
    finally:
        auth.sign_out(user)
    base = ["--store", str(school), "--user", CUSTODIAN]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    out = tmp_path / "file"
    out.mkdir()
    assert cli.run([*base, "records", "transfer", "--student", key, "--out", str(out)]) == 0
    assert sorted(p.suffix for p in out.iterdir()) == [".pdf", ".xlsx"]
    assert cli.run([*base, "records", "transfer", "--student", key, "--out", str(out)]) != 0  # exists: --force
    assert "--force" in capsys.readouterr().err
    assert cli.run([*base, "subject-access", "--student", key.lower(), "--out", str(tmp_path / "sa.pdf")]) == 0
    assert (tmp_path / "sa.pdf").read_bytes()[:4] == b"%PDF"
    assert cli.run([*base, "hold", "add", "--student", key, "--reason", "Inquiry by the Department", "--kind", "inquiry"]) == 0
    assert cli.run([*base, "hold", "list"]) == 0
    assert f"1\t{key}\tplaced" in capsys.readouterr().out
    assert cli.run([*base, "hold", "release", "1", "--reason", "Inquiry closed"]) == 0
    assert cli.run([*base, "hold", "list"]) == 0
    assert "released" in capsys.readouterr().out
