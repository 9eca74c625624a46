"""Benchmark: a subject-access request (PDF and Excel) for one student with a full year of data
in a school whose audit log holds a year of use, and a disposal run. Not a test.

    .venv/bin/python benchmarks/records_bench.py [--students 1000] [--list-views 400] [--keep DIR]

A year of use is simulated as ``--list-views`` student lists (each recording every student's
pseudonym, as the Students page does), plus views and notes of the measured student.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MAPPING_TOOL_LOG_DIR", tempfile.mkdtemp(prefix="smt-bench-logs-"))

PASSWORD = "tangerine-orbit-lantern-57"
PRINCIPAL_PASSWORD = "copper-meadow-violin-31"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--list-views", type=int, default=400)
    parser.add_argument("--keep", help="reuse/keep the store and extract here")
    args = parser.parse_args()
    from sqlalchemy import select, update

    from importers.demo import generate_demo_extract
    from mapping_tool.security.roles import Role
    from mapping_tool.services import accounts, auth, imports, notes, records, students
    from mapping_tool.store.models import Student
    from mapping_tool.ui.records_pdf import render_pdf

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="smt-records-bench-"))
    store = work / "store"
    if not (store / "smt.db").exists():
        generate_demo_extract(work / "eduhub", students=args.students, years=1, extract_date=date(2026, 9, 18))
        auth.init_store(store, auth.InitRequest("8123", "Bench", "P", date(2026, 1, 1), "custodian", PASSWORD,
                                                "velvet harbour quietly juggles seven comets"))
        user = auth.sign_in(store, "custodian", PASSWORD)
        imports.import_cases21(user, work / "eduhub")
        accounts.add_user(user, "principal", Role.PRINCIPAL, PRINCIPAL_PASSWORD)
        key = students.list_students(user, audit=False).rows[0][0]
        t = time.perf_counter()
        for _ in range(args.list_views):
            students.list_students(user)  # audited with every key shown
        for _ in range(200):
            students.get_student(user, key)
        for i in range(30):
            notes.add_note(user, key, f"Term {i % 4 + 1} check-in: attendance discussed with the family.")
        print(f"simulated a year of use in {time.perf_counter() - t:.1f} s")
        auth.sign_out(user)
    user = auth.sign_in(store, "custodian", PASSWORD)
    key = students.list_students(user, audit=False).rows[0][0]
    with user.store.read() as session:
        conn = session.connection()
        days = conn.exec_driver_sql("SELECT count(*) FROM attendance WHERE student_key = ?", (key,)).scalar()
        entries = conn.exec_driver_sql("SELECT count(*) FROM audit_entry").scalar()
    print(f"student {key}: {days} attendance days; audit log {entries:,} entries")
    out = Path(tempfile.mkdtemp(prefix="smt-sa-"))
    for name, renderer in (("sa.xlsx", None), ("sa.pdf", render_pdf)):
        t = time.perf_counter()
        records.subject_access(user, key, out / name, renderer)
        print(f"subject access {name}: {time.perf_counter() - t:.2f} s ({(out / name).stat().st_size:,} bytes)")

    with user.store.write() as session:
        left = list(session.execute(select(Student.student_key).order_by(Student.student_key.desc()).limit(50)).scalars())
        session.execute(update(Student).where(Student.student_key.in_(left))
                        .values(status="LEFT", exit_date=date.today() - timedelta(days=800)))
    run = records.prepare_run(user)
    principal = auth.sign_in(store, "principal", PRINCIPAL_PASSWORD)
    records.approve_run(principal, run.id, PRINCIPAL_PASSWORD)
    auth.sign_out(principal)
    t = time.perf_counter()
    done = records.execute_run(user, run.id)
    print(f"disposal run of {done.counts['students']} students (incl. VACUUM): {time.perf_counter() - t:.2f} s; "
          f"store {(store / 'smt.db').stat().st_size / 1e6:.1f} MB")
    auth.sign_out(user)


if __name__ == "__main__":
    main()
