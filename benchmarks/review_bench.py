"""Benchmark: the review screen (issue 5). A 3,000-student demo school (two years of attendance)
imported into a store; times opening the student table, a filter change and a sort change
(each followed by the repaint it causes, in one turn of the event loop), then the same on a 30,000-row model
(the rows ten times over). Not a test.

    .venv/bin/python benchmarks/review_bench.py [--students 3000] [--keep DIR]

Aims (issue 5): the table opens in under 0.3 s; a filter or sort change redraws in under 50 ms
on 3,000 rows and under 150 ms on 30,000.
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
os.environ.setdefault("MAPPING_TOOL_SETTINGS_DIR", tempfile.mkdtemp(prefix="smt-bench-settings-"))

PASSWORD = "tangerine-orbit-lantern-57"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=3000)
    parser.add_argument("--keep", help="reuse/keep the store and extract here")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from importers.demo import generate_demo_extract
    from mapping_tool.services import auth, imports, students
    from mapping_tool.ui.app import make_app

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="smt-review-bench-"))
    store = work / "store"
    if not (store / "smt.db").exists():
        t0 = time.perf_counter()
        generate_demo_extract(work / "eduhub", students=args.students, years=2, extract_date=date(2026, 9, 18))
        auth.init_store(store, auth.InitRequest("8123", "Bench", "P", date(2026, 1, 1), "custodian", PASSWORD, "velvet harbour quietly juggles seven comets"))
        user = auth.sign_in(store, "custodian", PASSWORD)
        imports.import_cases21(user, work / "eduhub")
        auth.sign_out(user)
        print(f"built the store in {time.perf_counter() - t0:.1f} s ({work})")
    app = make_app()
    from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt

    from mapping_tool.ui.pages.students import ReviewFilter, StudentsPage

    session = auth.sign_in(store, "custodian", PASSWORD)
    session.must_change_password = False

    t0 = time.perf_counter()
    service = [students.list_students(session, audit=False) for _ in range(3)]
    service_time = (time.perf_counter() - t0) / 3
    rows = len(service[0].rows)

    def open_page() -> tuple[StudentsPage, float, float, float]:
        """(page, whole open until rows are painted, UI-thread time in the constructor, UI-thread time when rows arrive)."""
        loop = QEventLoop()
        t0 = time.perf_counter()
        page = StudentsPage(session)
        page.resize(1400, 800)
        page.show()
        constructed = time.perf_counter() - t0
        handled: list[float] = []
        original = page._loaded

        def timed(result, generation):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            original(result, generation)
            page.table.viewport().repaint()
            handled.append(time.perf_counter() - t)

        page._loaded = timed  # type: ignore[method-assign]
        page.loaded.connect(loop.quit)
        loop.exec()
        return page, time.perf_counter() - t0, constructed, handled[0]

    opens = [open_page() for _ in range(args.repeat)]
    page = opens[-1][0]
    for p, *_ in opens[:-1]:
        p.close()
        p.deleteLater()
    total_open = statistics.median(o[1] for o in opens)
    ui_open = statistics.median(o[2] + o[3] for o in opens)

    painted: list[int] = []

    class PaintCounter(QObject):
        def eventFilter(self, obj, event):  # type: ignore[no-untyped-def]  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                painted.append(1)
            return False

    counter = PaintCounter()
    page.table.viewport().installEventFilter(counter)

    def redraw(action) -> float:  # type: ignore[no-untyped-def]
        """The change, then turns of the event loop until the table has painted what it
        invalidated, as the running app would."""
        app.processEvents()
        painted.clear()
        t = time.perf_counter()
        action()
        for _ in range(50):  # a sort lays the view out on a zero-time timer, then paints
            app.processEvents()
            if painted:
                break
        elapsed = time.perf_counter() - t
        assert painted, "the table was not repainted"
        return elapsed

    filters = [
        ReviewFilter(year_level="09"),
        ReviewFilter(tier="priority"),
        ReviewFilter(flags=("flag_low_attendance", "flag_suspension")),
        ReviewFilter(min_flags=2, new_only=True),
        ReviewFilter(search="smi"),
        ReviewFilter(home_group="10A", tier="flagged"),
        ReviewFilter(),
    ]

    slowest: dict[str, tuple[float, str]] = {}

    def filter_times(label: str = "") -> list[float]:
        times = []
        for f in filters:
            each = [redraw(lambda f=f: page.set_filter_state(f)) for _ in range(args.repeat)]
            times += each
            if label and statistics.median(each) > slowest.get(label, (0.0, ""))[0]:
                slowest[label] = (statistics.median(each), f.describe())
        return times

    sort_columns = ["surname", "attendance_rate", "tier", "flag_count", "new_flags", "flag_low_attendance"]

    def sort_times() -> tuple[list[float], list[float]]:
        first, again = [], []
        for name in sort_columns:
            col = page.model.column_index(name)
            first.append(redraw(lambda c=col: page.table.sortByColumn(c, Qt.SortOrder.DescendingOrder)))
            again.append(redraw(lambda c=col: page.table.sortByColumn(c, Qt.SortOrder.AscendingOrder)))
        return first, again

    paint3 = [redraw(page.table.viewport().update) for _ in range(args.repeat)]
    f3 = filter_times("3k")
    s3_first, s3_again = sort_times()

    # 30,000 rows: the same model with the rows ten times over
    page.set_filter_state(ReviewFilter())
    base_rows = list(page.model.all_rows())
    big = [r for _ in range(10) for r in base_rows]
    t = time.perf_counter()
    page.model.set_rows(page.model.columns, big, page.model.titles)
    page.table.viewport().repaint()
    big_load = time.perf_counter() - t
    paint30 = [redraw(page.table.viewport().update) for _ in range(args.repeat)]
    f30 = filter_times("30k")
    s30_first, s30_again = sort_times()

    print(f"Students: {rows:,} rows, {len(service[0].columns)} permitted columns (custodian)")
    print(f"  service list_students (off the UI thread): {ms(service_time)}")
    print(f"  open the table until rows are painted: median {ms(total_open)}  (UI thread busy: {ms(ui_open)})")
    print(f"  a repaint of the table alone: median {ms(statistics.median(paint3))}")
    print(f"  filter change + repaint: median {ms(statistics.median(f3))}, max {ms(max(f3))}  ({len(f3)} changes)")
    print(f"    slowest filter: {slowest['3k'][1]} (median {ms(slowest['3k'][0])})")
    print(f"  sort change + repaint: first sort of a column median {ms(statistics.median(s3_first))}, max {ms(max(s3_first))}; "
          f"again median {ms(statistics.median(s3_again))}, max {ms(max(s3_again))}")
    print(f"30,000-row model ({len(big):,} rows): set_rows + repaint {ms(big_load)}")
    print(f"  a repaint of the table alone: median {ms(statistics.median(paint30))}")
    print(f"  filter change + repaint: median {ms(statistics.median(f30))}, max {ms(max(f30))}")
    print(f"    slowest filter: {slowest['30k'][1]} (median {ms(slowest['30k'][0])})")
    print(f"  sort change + repaint: first sort of a column median {ms(statistics.median(s30_first))}, max {ms(max(s30_first))}; "
          f"again median {ms(statistics.median(s30_again))}, max {ms(max(s30_again))}")
    page.close()
    auth.sign_out(session)


if __name__ == "__main__":
    main()
