"""Benchmark: the Unusual access tab (the report over 90 days of audit log, shown in the window
when the tab is brought to the front, on the UI thread) and its Excel copy, and the Breaches tab
with a register of 200 entries. Not a test.

    .venv/bin/python benchmarks/breach_screens_bench.py [--entries 100000] [--staff 60] [--keep DIR]

90 days of use are simulated as ``--entries`` audit entries spread over ``--staff`` accounts,
mostly student records opened in school hours, some at night, some refused, some bulk prints.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MAPPING_TOOL_LOG_DIR", tempfile.mkdtemp(prefix="smt-bench-logs-"))

PASSWORD = "tangerine-orbit-lantern-57"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--staff", type=int, default=60)
    parser.add_argument("--keep", help="reuse/keep the store here")
    args = parser.parse_args()
    from importers.demo import generate_demo_extract
    from mapping_tool.services import auth, imports, records_privacy, students
    from mapping_tool.ui.app import make_app

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="smt-breach-bench-"))
    store = work / "store"
    if not (store / "smt.db").exists():
        generate_demo_extract(work / "eduhub", students=200, years=1, extract_date=date(2026, 9, 18))
        auth.init_store(store, auth.InitRequest("8123", "Bench", "P", date(2026, 1, 1), "custodian", PASSWORD,
                                                "velvet harbour quietly juggles seven comets"))
        user = auth.sign_in(store, "custodian", PASSWORD)
        imports.import_cases21(user, work / "eduhub")
        keys = students.list_students(user, audit=False).column("student_key")
        rng = random.Random(7)
        t = time.perf_counter()
        start = datetime.now() - timedelta(days=90)
        with user.store.write() as session:
            for i in range(args.entries):
                at = start + timedelta(seconds=i * 90 * 86400 // args.entries)
                if rng.random() < 0.97:  # school hours, mostly
                    at = at.replace(hour=8 + rng.randrange(10))
                actor = f"staff{rng.randrange(args.staff):03d}"
                roll = rng.random()
                action, detail = "student.viewed", None
                if roll < 0.002:
                    action = "student.view-refused"
                elif roll < 0.003:
                    action, detail = "print.students", {"rows": 120}
                user.store.audit(session, actor, action, object_type="student", object_id=rng.choice(keys),
                                 detail=detail, at=at.astimezone(UTC).replace(tzinfo=None))
        for i in range(200):
            records_privacy.add_breach(user, found_on=date.today() - timedelta(days=i), what=f"Entry {i}: a list left on a bus.",
                                       students=rng.sample(keys, 3), notified="The principal", steps="Recovered.")
        print(f"simulated {args.entries:,} audit entries and 200 breaches in {time.perf_counter() - t:.1f} s")
        auth.sign_out(user)

    app = make_app([])  # noqa: F841 - the widgets need it
    from mapping_tool.ui.pages.breaches import BreachesPanel, UnusualAccessPanel

    user = auth.sign_in(store, "custodian", PASSWORD)
    t = time.perf_counter()
    rows = records_privacy.unusual_access(user)
    print(f"unusual_access over 90 days: {time.perf_counter() - t:.2f} s, {len(rows):,} user-days listed")
    panel = UnusualAccessPanel(user)
    panel.resize(1000, 600)
    from PySide6.QtCore import QEventLoop

    loop = QEventLoop()
    panel.loaded.connect(loop.quit)
    t = time.perf_counter()
    panel.refresh()
    blocked = time.perf_counter() - t
    loop.exec()
    print(f"Unusual access tab refresh (report and table, off the UI thread): {time.perf_counter() - t:.2f} s "
          f"to the table; the window waited {blocked * 1000:.0f} ms")
    out = work / "unusual.xlsx"
    out.unlink(missing_ok=True)
    t = time.perf_counter()
    count = records_privacy.export_unusual_access(user, out)
    print(f"Save as Excel: {time.perf_counter() - t:.2f} s, {count:,} rows")
    breaches = BreachesPanel(user)
    breaches.resize(1000, 600)
    t = time.perf_counter()
    breaches.refresh()
    print(f"Breaches tab refresh (200 entries, names as the policy allows): {time.perf_counter() - t:.2f} s")
    auth.sign_out(user)


if __name__ == "__main__":
    main()
