"""Benchmark: the whole CASES21 import of a large school against a bare-SQLCipher baseline.

    .venv/bin/python benchmarks/import_bench.py [--students 3400] [--years 2] [--keep DIR]

Generates a school (3,400 students over two school years gives about 1.2 million SXAB rows),
then, each in its own process so that peak memory is its own:
  1. baseline: pandas reads SXAB_<school>.csv and its rows go as tuples into a bare SQLCipher
     table with executemany, the index built afterwards;
  2. the whole import (read, validate, data-quality checks, one transaction) into a new store;
  3. the same extract imported again (recognised by its hashes).
Prints wall times, peak RSS and the ratio for the README. Not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

BASELINE = r"""
import json, resource, sys, time
import pandas as pd
import sqlcipher3.dbapi2 as sqlcipher
folder, db = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
frame = pd.read_csv(f"{folder}/SXAB_8123.csv", dtype=str, keep_default_na=False, encoding="cp1252")
rows = list(zip(*(frame[c].to_numpy(dtype=object) for c in ("STKEY", "ABSENCE_DATE", "AM_ACT_TYPE", "AM_APPROVED", "PM_ACT_TYPE", "PM_APPROVED", "ST_YEAR_LEVEL"))))
conn = sqlcipher.connect(db, isolation_level=None)
conn.execute("PRAGMA key = \"x'" + "ab" * 32 + "'\"")
conn.execute("PRAGMA journal_mode = WAL")
conn.execute("CREATE TABLE attendance (student_key TEXT, date TEXT, am_code TEXT, am_approved TEXT, pm_code TEXT, pm_approved TEXT, year_level TEXT)")
conn.execute("BEGIN")
conn.executemany("INSERT INTO attendance VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
conn.execute("CREATE INDEX ix ON attendance (student_key, date, am_code, am_approved, pm_code, pm_approved, year_level)")
conn.execute("COMMIT")
seconds = time.perf_counter() - t0
print(json.dumps({"seconds": seconds, "rows": len(rows), "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

IMPORT = r"""
import json, resource, sys, time
from datetime import date
from pathlib import Path
from mapping_tool.services import auth, imports
folder, store, password = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
if not (store / "smt.db").exists():
    auth.init_store(store, auth.InitRequest("8123", "Bench", "P", date(2026, 1, 1), "custodian", password, "velvet harbour quietly juggles seven comets"))
user = auth.sign_in(store, "custodian", password)
t0 = time.perf_counter()
result = imports.import_cases21(user, folder)
seconds = time.perf_counter() - t0
auth.sign_out(user)
print(json.dumps({"seconds": seconds, "unchanged": result.unchanged, "attendance": result.row_counts["attendance"],
                  "students": result.students_in_extract, "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(code: str, *args: str) -> dict:  # type: ignore[type-arg]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MAPPING_TOOL_LOG_DIR": tempfile.mkdtemp(prefix="smt-bench-logs-")}
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=3400)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--keep", help="reuse/keep the generated extract in this folder")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="smt-import-bench-"))
    folder = work / "eduhub"
    if not (folder / "SXAB_8123.csv").exists():
        sys.path.insert(0, str(ROOT))
        from importers.demo import generate_demo_extract

        t0 = time.perf_counter()
        summary = generate_demo_extract(folder, students=args.students, years=args.years)
        print(f"generated {summary.row_counts['SXAB']:,} SXAB rows for {args.students} students in {time.perf_counter() - t0:.1f} s")
    baseline = run(BASELINE, str(folder), str(work / f"baseline-{time.time_ns()}.db"))
    store = work / f"store-{time.time_ns()}"
    first = run(IMPORT, str(folder), str(store), "tangerine-orbit-lantern-57")
    again = run(IMPORT, str(folder), str(store), "tangerine-orbit-lantern-57")
    print(f"baseline (pandas read SXAB + executemany tuples into bare SQLCipher + index after): "
          f"{baseline['seconds']:.2f} s for {baseline['rows']:,} rows, peak {baseline['peak_mib']:.0f} MiB")
    print(f"whole import ({first['students']:,} students, {first['attendance']:,} attendance days, all tables, "
          f"validation and data-quality checks): {first['seconds']:.2f} s, peak {first['peak_mib']:.0f} MiB")
    print(f"ratio import / baseline: {first['seconds'] / baseline['seconds']:.2f}x (aim <= 1.5x)")
    print(f"re-import of the unchanged extract: {again['seconds']:.2f} s (unchanged={again['unchanged']}), peak {again['peak_mib']:.0f} MiB")


if __name__ == "__main__":
    main()
