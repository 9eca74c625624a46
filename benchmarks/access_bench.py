"""Benchmark: opening the Students page for a large school under the most restricted role
(home group teacher... and the year level coordinator, whose scope is larger) against the
custodian, and the cost of logging one student view. Not a test.

    .venv/bin/python benchmarks/access_bench.py [--students 3000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MAPPING_TOOL_LOG_DIR", tempfile.mkdtemp(prefix="smt-bench-logs-"))

PASSWORD = "tangerine-orbit-lantern-57"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--keep", help="reuse/keep the store and extract here")
    args = parser.parse_args()
    from importers.demo import generate_demo_extract
    from mapping_tool.security.roles import Role
    from mapping_tool.services import accounts, auth, imports, students
    from mapping_tool.ui.app import make_app

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="smt-access-bench-"))
    store = work / "store"
    if not (store / "smt.db").exists():
        generate_demo_extract(work / "eduhub", students=args.students, years=1, extract_date=date(2026, 9, 18))
        auth.init_store(store, auth.InitRequest("8123", "Bench", "P", date(2026, 1, 1), "custodian", PASSWORD, "velvet harbour quietly juggles seven comets"))
        user = auth.sign_in(store, "custodian", PASSWORD)
        imports.import_cases21(user, work / "eduhub")
        accounts.add_user(user, "teacher", Role.HOME_GROUP_TEACHER, PASSWORD, home_groups=["07A"])
        accounts.add_user(user, "coord", Role.YEAR_LEVEL_COORDINATOR, PASSWORD, year_levels=["09"])
        auth.sign_out(user)
    make_app()
    from mapping_tool.ui.pages.students import StudentTableModel

    def page_time(name: str) -> tuple[float, int]:
        """The page's data path: the policy-enforcing service call (scope, fields, audit entry)
        and filling the table model (the page may run the first part on a worker thread)."""
        session = auth.sign_in(store, name, PASSWORD)
        session.must_change_password = False
        times = []
        rows = 0
        for _ in range(7):
            t0 = time.perf_counter()
            table = students.list_students(session)
            model = StudentTableModel()
            model.set_rows(table.columns, table.rows, students.field_titles())
            times.append(time.perf_counter() - t0)
            rows = model.rowCount()
        auth.sign_out(session)
        return statistics.median(times), rows

    custodian_t, custodian_rows = page_time("custodian")
    teacher_t, teacher_rows = page_time("teacher")
    coord_t, coord_rows = page_time("coord")
    print(f"Students page, custodian ({custodian_rows} rows): median {custodian_t * 1000:.0f} ms")
    print(f"Students page, home group teacher ({teacher_rows} rows): median {teacher_t * 1000:.0f} ms ({teacher_t / custodian_t:.2f}x the custodian)")
    print(f"Students page, year level coordinator ({coord_rows} rows): median {coord_t * 1000:.0f} ms ({coord_t / custodian_t:.2f}x)")

    session = auth.sign_in(store, "custodian", PASSWORD)
    keys = [r[0] for r in students.list_students(session, audit=False).rows[:200]]
    t0 = time.perf_counter()
    for key in keys:
        students.get_student(session, key)
    per_view = (time.perf_counter() - t0) / len(keys)
    t0 = time.perf_counter()
    for key in keys:
        with session.store.write() as s:
            session.store.audit(s, "custodian", "student.viewed", object_type="student", object_id=key)
    per_log = (time.perf_counter() - t0) / len(keys)
    auth.sign_out(session)
    print(f"opening one student record (policy + scope + audit entry, committed): {per_view * 1000:.1f} ms")
    print(f"logging one view alone (chained HMAC entry, one committed transaction, synchronous=FULL): {per_log * 1000:.2f} ms")


if __name__ == "__main__":
    main()
