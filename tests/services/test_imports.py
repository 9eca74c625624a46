"""Refresh from CASES21: all or nothing, snapshots, identical files recognised, another school's
data refused, students never silently deleted, only whitelisted data stored."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from importers.demo import generate_demo_extract
from mapping_tool import cli
from mapping_tool.errors import StoreError
from mapping_tool.services import imports
from mapping_tool.store.models import AuditEntry, Snapshot, Student
from tests.services.conftest import EXTRACT_DATE
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT, HGT_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
MIRROR_TABLES = ("student", "attendance", "year_level", "home_group", "house", "absence_type", "strand_result",
                 "domain_result", "snapshot", "snapshot_student", "import_finding", "vass_result")


def edit_table(folder: Path, name: str, change: Callable[[list[dict[str, str]]], list[dict[str, str]]]) -> None:
    """Rewrite one eduHub CSV the way eduHub writes it (cp1252, CRLF), keeping the file time."""
    path = folder / name
    stat = path.stat()
    with path.open(encoding="cp1252", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = change(list(reader))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode("cp1252"))
    os.utime(path, (stat.st_atime, stat.st_mtime))


def mirror_state(user) -> str:  # type: ignore[no-untyped-def]
    """A digest of every mirrored table's rows (the store's data apart from the audit log)."""
    digest = hashlib.sha256()
    with user.store.read() as session:
        conn = session.connection().connection.driver_connection
        for table in MIRROR_TABLES:
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def count(user, model) -> int:  # type: ignore[no-untyped-def]
    with user.store.read() as s:
        return int(s.execute(select(func.count()).select_from(model)).scalar_one())


def actions(user) -> list[str]:  # type: ignore[no-untyped-def]
    with user.store.read() as s:
        return list(s.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars())


def test_import_makes_a_snapshot_with_files_hashes_and_counts(custodian, extract: Path) -> None:  # type: ignore[no-untyped-def]
    result = imports.import_cases21(custodian, extract)
    assert not result.unchanged and result.snapshot_id is not None
    assert result.extract_date == EXTRACT_DATE
    assert result.added == result.students_in_extract > 60
    snap = imports.latest_snapshot(custodian)
    assert snap is not None and snap.id == result.snapshot_id and snap.imported_by == CUSTODIAN
    names = {f["name"] for f in snap.files}
    assert {"ST_8123.csv", "SXAB_8123.csv", "DF_8123.csv"} <= names
    st = next(f for f in snap.files if f["name"] == "ST_8123.csv")
    assert st["sha256"] == hashlib.sha256((extract / "ST_8123.csv").read_bytes()).hexdigest()
    assert snap.row_counts["attendance"] == result.row_counts["attendance"] > 1000
    assert count(custodian, Student) == result.students_in_extract
    assert "import" in actions(custodian)
    with custodian.store.read() as s:
        student = s.execute(select(Student).where(Student.surname == "O’BRIEN", Student.first_name == "Zoë")).scalars().first()
        assert student is not None
        assert student.year_level.isdigit() and len(student.year_level) == 2  # leading zero kept


def test_identical_files_add_no_snapshot_only_an_audit_entry(custodian, extract: Path) -> None:  # type: ignore[no-untyped-def]
    first = imports.import_cases21(custodian, extract)
    before = mirror_state(custodian)
    again = imports.import_cases21(custodian, extract)
    assert again.unchanged and again.snapshot_id == first.snapshot_id
    assert count(custodian, Snapshot) == 1
    assert mirror_state(custodian) == before
    assert actions(custodian)[-1] == "import.unchanged"


def test_another_schools_extract_is_refused_and_changes_nothing(custodian, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    other = tmp_path / "other"
    generate_demo_extract(other, students=20, school_number="9999", extract_date=EXTRACT_DATE, years=1)
    before = mirror_state(custodian)
    with pytest.raises(imports.ImportRefused, match="another school's data"):
        imports.import_cases21(custodian, other)
    assert mirror_state(custodian) == before


@pytest.mark.parametrize(
    "breakage, code",
    [
        (lambda rows: rows + [dict(rows[0])], "duplicate"),
        (lambda rows: [{**r, "SCHOOL_YEAR": "13"} if i == 0 else r for i, r in enumerate(rows)], "year"),
        (lambda rows: [{**r, "BIRTHDATE": "31/02/2010"} if i == 1 else r for i, r in enumerate(rows)], "date"),
    ],
)
def test_validation_errors_block_the_import_and_change_nothing(custodian, extract: Path, breakage, code: str) -> None:  # type: ignore[no-untyped-def]
    imports.import_cases21(custodian, extract)  # a good first snapshot
    before = mirror_state(custodian)
    edit_table(extract, "ST_8123.csv", breakage)
    (extract / "ST_8123_D.csv").unlink()
    with pytest.raises(imports.ImportRefused) as info:
        imports.import_cases21(custodian, extract)
    errors = [f for f in info.value.findings if f.level == "error"]
    assert errors and any(code in (f.code + f.message).lower() for f in errors)
    assert all(f.file == "ST_8123.csv" for f in errors if f.code.startswith("duplicate"))
    assert mirror_state(custodian) == before
    assert actions(custodian)[-1] == "import.refused"


def test_attendance_for_an_unknown_student_is_an_error(custodian, extract: Path) -> None:  # type: ignore[no-untyped-def]
    edit_table(extract, "SXAB_8123.csv", lambda rows: rows + [{**rows[0], "STKEY": "ZZZ9999", "SXAB_ID": "99999999"}])
    with pytest.raises(imports.ImportRefused) as info:
        imports.import_cases21(custodian, extract)
    bad = [f for f in info.value.findings if f.level == "error"]
    assert any(f.file == "SXAB_8123.csv" and f.row is not None for f in bad)
    assert count(custodian, Student) == 0


@pytest.mark.parametrize("cancel_at", ["Reading", "Saving students", "Saving attendance", "Saving results", "Committing"])
def test_cancel_at_any_point_leaves_the_store_as_it_was(custodian, extract: Path, cancel_at: str) -> None:  # type: ignore[no-untyped-def]
    before = mirror_state(custodian)

    class CancelAt:
        flag = False

        def report(self, fraction: float, text: str) -> None:
            if cancel_at.lower() in text.lower():
                self.flag = True

        def cancelled(self) -> bool:
            return self.flag

    progress = CancelAt()
    with pytest.raises(imports.ImportCancelledError, match="nothing was changed"):
        imports.import_cases21(custodian, extract, progress=progress)
    assert progress.flag
    assert mirror_state(custodian) == before


def test_a_student_missing_from_a_new_extract_is_kept_and_marked(custodian, extract: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imports.import_cases21(custodian, extract)
    with custodian.store.read() as s:
        victim = s.execute(select(Student.student_key).where(Student.status == "ACTV").order_by(Student.student_key)).scalars().first()
    later = tmp_path / "later"
    shutil.copytree(extract, later)
    edit_table(later, "ST_8123.csv", lambda rows: [r for r in rows if r["STKEY"] != victim])
    edit_table(later, "ST_8123_D.csv", lambda rows: [r for r in rows if r["STKEY"] != victim])
    for table in ("SXAB_8123.csv", "SXABCONV_8123.csv"):
        edit_table(later, table, lambda rows: [r for r in rows if r["STKEY"] != victim])
    for table in ("STVDI_8123.csv", "STVDO_8123.csv"):
        edit_table(later, table, lambda rows: [r for r in rows if r["SKEY"] != victim])
    result = imports.import_cases21(custodian, later)
    assert result.gone == 1 and not result.unchanged
    with custodian.store.read() as s:
        kept = s.get(Student, victim)
        assert kept is not None and kept.in_extract is False
    assert count(custodian, Snapshot) == 2


def test_only_the_custodian_imports(store_dir: Path, extract: Path) -> None:
    from mapping_tool.errors import PermissionDenied
    from mapping_tool.services import auth

    teacher = auth.sign_in(store_dir, HGT, HGT_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            imports.import_cases21(teacher, extract)
    finally:
        auth.sign_out(teacher)


def test_cli_import_exit_codes_report_and_dry_run(store_dir: Path, extract: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    base = ["--store", str(store_dir), "--user", CUSTODIAN, "import", "--cases21", str(extract)]
    assert cli.run([*base, "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out
    report = tmp_path / "report.xlsx"
    assert cli.run([*base, "--report", str(report)]) == 0
    out = capsys.readouterr().out
    assert "Imported the extract of 18/09/2026" in out
    from openpyxl import load_workbook

    book = load_workbook(report, read_only=True)
    header = next(book.active.iter_rows(values_only=True))
    book.close()  # a read-only workbook keeps its file open until closed
    assert header == imports.REPORT_HEADERS

    broken = tmp_path / "broken"
    shutil.copytree(extract, broken)
    (broken / "KCY_8123.csv").unlink()
    bad_report = tmp_path / "bad.csv"
    code = cli.run(["--store", str(store_dir), "--user", CUSTODIAN, "import", "--cases21", str(broken), "--report", str(bad_report)])
    err = capsys.readouterr().err
    assert code == 2 and "nothing was imported" in err
    assert "KCY" in bad_report.read_text("utf-8-sig")


def test_demo_data_command_writes_an_eduhub_folder(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "demo"
    assert cli.run(["demo-data", "--students", "25", "--out", str(out)]) == 0
    assert (out / "ST_8123.csv").exists() and (out / "SXAB_8123.csv").exists()
    assert cli.run(["demo-data", "--students", "25", "--out", str(out)]) == 2  # not empty: refused
    assert "not empty" in capsys.readouterr().err


KILLER = """
import sys
from pathlib import Path
from mapping_tool.services import auth, imports
user = auth.sign_in(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
class Stall:
    def report(self, fraction, text):
        if "Saving results" in text:
            print("MIDWAY", flush=True)
            import time; time.sleep(60)
    def cancelled(self):
        return False
imports.import_cases21(user, Path(sys.argv[4]), progress=Stall())
"""


@pytest.mark.slow
def test_killed_during_an_import_leaves_the_store_as_it_was(store_dir: Path, extract: Path) -> None:
    from mapping_tool.services import auth

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLER), str(store_dir), CUSTODIAN, CUSTODIAN_PASSWORD, str(extract)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "MIDWAY"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert count(user, Student) == 0 and count(user, Snapshot) == 0
        with user.store.read() as s:
            conn = s.connection().connection.driver_connection
            assert conn.execute("SELECT count(*) FROM attendance").fetchone()[0] == 0
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        auth.sign_out(user)


def test_full_disk_during_an_import_changes_nothing(tmp_path: Path, store_dir: Path, extract: Path) -> None:
    from mapping_tool.services import auth

    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        target = mnt / "store"
        shutil.copytree(store_dir, target)
        user = auth.sign_in(target, CUSTODIAN, CUSTODIAN_PASSWORD)
        try:
            before = mirror_state(user)
            stat = os.statvfs(mnt)
            filler = mnt / "filler.bin"
            filler.write_bytes(b"\0" * max(0, stat.f_bavail * stat.f_frsize - 150_000))
            with pytest.raises(StoreError, match="full|cannot be written"):
                imports.import_cases21(user, extract)
            filler.unlink()
            assert mirror_state(user) == before
        finally:
            auth.sign_out(user)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_no_value_outside_the_whitelist_reaches_the_database_logs_or_report(custodian, extract: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A marker in every string column the whitelist does not name, of every table the tool
    reads, is nowhere in the decrypted database, the log folder or the data-quality report."""
    import json

    from importers.whitelist import source_columns

    schema = json.loads((ROOT / "resources" / "eduhub_columns.json").read_text())
    marker = "QZXMARK"
    for table in ("ST", "DF", "SF", "KGC", "KCY", "SXAB", "SXABCONV", "STVDI", "STVDO", "KCT"):
        keep = source_columns(table)
        strings = {name for name, kind, _ in schema[table] if kind == "string" and name not in keep}

        def plant(rows, strings=strings):  # type: ignore[no-untyped-def]
            return [{**r, **{c: f"{marker}{c}" for c in strings if c in r}} for r in rows]

        for name in (f"{table}_8123.csv", f"{table}_8123_D.csv"):
            if (extract / name).exists():
                edit_table(extract, name, plant)
    report = tmp_path / "report.csv"
    try:
        result = imports.import_cases21(custodian, extract)
        warnings = result.warnings
    except imports.ImportRefused as exc:  # a planted value may be invalid; the report still must not quote it
        warnings = exc.findings
    imports.write_report(report, warnings, store_folder=None)
    with custodian.store.read() as session:
        conn = session.connection().connection.driver_connection
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        dump = "\n".join(repr(row) for t in tables for row in conn.execute(f'SELECT * FROM "{t}"'))
    assert "O’BRIEN" in dump  # the dump really holds the imported data
    assert marker not in dump
    assert marker not in report.read_text("utf-8-sig")
    for log in Path(os.environ["MAPPING_TOOL_LOG_DIR"]).rglob("*"):
        if log.is_file():
            assert marker.encode() not in log.read_bytes()


def test_a_vass_file_is_imported_with_the_extract_and_unmatched_rows_listed(custodian, extract: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from importers.demo import generate_vass_file

    vass = tmp_path / "vass.txt"
    written = generate_vass_file(vass, extract, header=True)
    assert written > 0
    result = imports.import_cases21(custodian, extract, vass=vass)
    assert result.row_counts.get("vass_results", 0) > 0
    assert any(f["name"] == "vass.txt" for f in imports.latest_snapshot(custodian).files)
    with custodian.store.read() as session:
        conn = session.connection().connection.driver_connection
        stored = conn.execute("SELECT count(*) FROM vass_result").fetchone()[0]
    assert stored == result.row_counts["vass_results"]
    assert result.vass_unmatched >= 1 or any("unmatched" in f.code for f in result.warnings)


def test_the_vass_column_mapping_is_set_saved_and_used(store_dir: Path, custodian, extract: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from importers.demo import generate_vass_file

    vass = tmp_path / "vass-semicolon.txt"
    generate_vass_file(vass, extract, header=False, delimiter=";")
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    base = ["--store", str(store_dir), "--user", CUSTODIAN, "vass-mapping"]
    assert cli.run([*base, "set", "--delimiter", ";", "--header", "no", "--vcaa-number", "1", "--student-key", "2",
                    "--unit-code", "5", "--result", "6", "--year", "7"]) == 0
    assert cli.run([*base, "show"]) == 0
    out = capsys.readouterr().out
    assert "separator: ;" in out and "unit_code: column 5" in out
    assert cli.run([*base, "set", "--delimiter", ";;"]) == 2
    result = imports.import_cases21(custodian, extract, vass=vass)
    assert result.row_counts.get("vass_results", 0) > 0
