"""Benchmark: every measure and flag of one snapshot for a large school (issue 5: under 1 s).

    /work/venv/bin/python benchmarks/measures_bench.py [--students 3400] [--years 2] [--keep DIR]
                                                       [--repeat 5]

Generates a demo school with importers.demo (3,400 students over two school years gives about
1.2 million SXAB rows; reused when --keep DIR already holds it), reads it with
importers.read_cases21 (not timed), then times compute_measures, compute_flags (with a
previous snapshot, so new-flag marking and trends are included) and the two together,
printing the median and the range of --repeat runs. Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from importers import read_cases21  # noqa: E402
from importers.demo import generate_demo_extract  # noqa: E402
from risk_factors import compute_flags, compute_measures, load_default_rules  # noqa: E402

EXTRACT_DATE = dt.date(2026, 9, 18)


def _median(times: list[float]) -> str:
    return f"median {statistics.median(times):.3f} s (min {min(times):.3f}, max {max(times):.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=3400)
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", help="reuse/keep the generated extract in this folder")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="smt-measures-bench-"))
    folder = work / "eduhub"
    if not (folder / "ST_8123.csv").exists():
        t0 = time.perf_counter()
        generate_demo_extract(
            folder, students=args.students, years=args.years, extract_date=EXTRACT_DATE
        )
        print(
            f"generated {args.students} students, {args.years} years in {time.perf_counter() - t0:.1f} s"
        )
    else:
        print(f"reusing {folder}")
    t0 = time.perf_counter()
    extract = read_cases21(folder)
    print(f"read_cases21 (not part of the figure): {time.perf_counter() - t0:.1f} s")
    print(
        f"{len(extract.students):,} students, {len(extract.attendance):,} attendance rows, "
        f"{len(extract.strand_results):,} strand results, extract date {extract.extract_date:%d/%m/%Y}"
    )
    rules = load_default_rules()

    def measures():  # type: ignore[no-untyped-def]
        return compute_measures(
            extract.students,
            extract.attendance,
            extract.absence_types,
            extract.strand_results,
            extract.year_levels,
            extract_date=extract.extract_date,
            rules=rules,
            calendar=extract.calendar,
        )

    warm = measures()
    previous = compute_flags(warm, extract.students, rules.with_change("attendance_rate_below", 85))
    t_measures, t_flags, t_total = [], [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = measures()
        t1 = time.perf_counter()
        flags = compute_flags(result, extract.students, rules, previous=previous)
        t2 = time.perf_counter()
        t_measures.append(t1 - t0)
        t_flags.append(t2 - t1)
        t_total.append(t2 - t0)

    print(f"population: {len(flags):,} students; tiers {flags['tier'].value_counts().to_dict()}")
    print(f"compute_measures: {_median(t_measures)}")
    print(f"compute_flags:    {_median(t_flags)}")
    print(f"together:         {_median(t_total)}  (target < 1 s)")


if __name__ == "__main__":
    main()
