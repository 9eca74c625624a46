"""Commands: refresh from CASES21/VASS, the VASS column settings, demo data and the self-test."""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from mapping_tool.cli._common import (
    _err,
    _out,
    _Parser,
    _with_user,
)
from mapping_tool.errors import UsageError


class TerminalProgress:
    """Progress for a terminal: a live line on a TTY, a line per tenth otherwise. Ctrl+C cancels."""

    def __init__(self) -> None:
        self.tty = bool(sys.stderr and sys.stderr.isatty())
        self.last_tenth = -1
        self.cancel = False

    def report(self, fraction: float, text: str) -> None:
        percent = int(fraction * 100)
        if self.tty:
            bar = "#" * (percent // 4)
            print(f"\r[{bar:<25}] {percent:3d}% {text[:60]:<60}", end="", file=sys.stderr, flush=True)
            if fraction >= 1:
                print(file=sys.stderr)
        elif percent // 10 != self.last_tenth:
            self.last_tenth = percent // 10
            print(f"{percent:3d}% {text}", file=sys.stderr, flush=True)

    def cancelled(self) -> bool:
        return self.cancel


def cmd_import(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import imports

    progress = TerminalProgress()
    report = Path(args.report) if args.report else None
    try:
        result = imports.import_cases21(
            user, Path(args.cases21), vass=Path(args.vass) if args.vass else None, dry_run=args.dry_run,
            accept_warnings=args.accept_warnings, progress=progress,
        )
    except imports.ImportNeedsConfirmation as exc:
        if progress.tty:
            print(file=sys.stderr)
        for notice in exc.notices:
            print(f"  {notice}", file=sys.stderr)
        raise UsageError(
            "This refresh looks implausible and was not imported; check the extract, and if it is right run the "
            "command again with --accept-warnings."
        ) from None
    except imports.ImportRefused as exc:
        if progress.tty:
            print(file=sys.stderr)
        if report is not None and exc.findings:
            imports.write_report(report, exc.findings, store_folder=user.store.files.folder, replace=args.force)
        errors = [f for f in exc.findings if f.level == "error"]
        for f in errors[:20]:
            print(f"  {f.message}", file=sys.stderr)
        if len(errors) > 20:
            print(f"  … and {len(errors) - 20} more" + (f" (all in {report})" if report else " (use --report FILE)"), file=sys.stderr)
        raise
    if report is not None:
        imports.write_report(report, result.warnings, store_folder=user.store.files.folder, replace=args.force)
    what = "Checked (dry run, nothing saved)" if result.dry_run else "Imported"
    if result.unchanged:
        _out(f"These files were already imported (snapshot {result.snapshot_id}); nothing new was added.")
    else:
        _out(
            f"{what} the extract of {result.extract_date:%d/%m/%Y} for school {result.school_number}: "
            f"{result.students_in_extract} students ({result.added} added, {result.changed} changed, "
            f"{result.gone} no longer in the extract), {result.row_counts.get('attendance', 0):,} attendance days, "
            f"in {result.seconds:.1f} s."
        )
    for notice in result.notices:
        _out(("Needs --accept-warnings: " if result.dry_run else "Confirmed: ") + notice)
    for key, retired in result.replaced:
        if retired:
            _out(f"Student key {key} now belongs to a different child; the earlier child is kept as {retired}.")
    if result.warnings:
        _out(f"{len(result.warnings)} data-quality warnings" + (f": see {report}" if report else " (--report FILE lists them)"))
    return 0


def _warm_up() -> threading.Thread:
    """Load the reading modules (pandas, the importers) while sign-in derives the key: scrypt
    leaves the interpreter free, so the two overlap instead of adding up."""

    def load() -> None:
        with contextlib.suppress(Exception):  # the command imports them again and reports it
            import importers  # noqa: F401
            import mapping_tool.services.imports  # noqa: F401

    thread = threading.Thread(target=load, name="import-warm-up", daemon=True)
    thread.start()
    return thread


def _import_handler(args: argparse.Namespace) -> int:
    thread = _warm_up()
    try:
        return _with_user(cmd_import, output="report")(args)
    finally:
        thread.join()  # never leave an import half done at exit


def cmd_vass_show(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import vass_settings

    for line in vass_settings.describe(vass_settings.get_mapping(user)):
        _out(line)
    return 0


def cmd_vass_set(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from importers import ExtractError, VassMapping
    from mapping_tool.services import vass_settings

    header = {"yes": True, "no": False, "detect": None}[args.header]
    try:
        mapping = VassMapping(
            vcaa_number=vass_settings.parse_column(args.vcaa_number) if args.vcaa_number else 0,
            student_key=vass_settings.parse_column(args.student_key),
            unit_code=vass_settings.parse_column(args.unit_code),
            result=vass_settings.parse_column(args.result),
            year=vass_settings.parse_column(args.year),
            delimiter=args.delimiter,
            has_header=header,
        )
    except ExtractError as exc:
        raise UsageError(str(exc)) from exc
    vass_settings.save_mapping(user, mapping)
    _out("Saved the VASS column settings; later imports with --vass use them:")
    for line in vass_settings.describe(mapping):
        _out(f"  {line}")
    return 0


def cmd_vass_clear(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import vass_settings

    vass_settings.clear_mapping(user)
    _out("Cleared the VASS column settings: columns are found by their header names.")
    return 0


def cmd_demo_data(args: argparse.Namespace) -> int:
    from importers.demo import generate_demo_extract

    if args.students < 1 or args.students > 20000:
        raise UsageError("--students must be between 1 and 20000.")
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        raise UsageError(f"{out} is not empty: choose a new folder for the demo extract.")
    summary = generate_demo_extract(
        out, students=args.students, school_number=args.school_number, years=args.years, progress=TerminalProgress()
    )
    rows = sum(summary.row_counts.values())
    _out(f"Wrote a demo CASES21 extract for school {summary.school_number} ({args.students} students, {rows:,} rows) to {out}.")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from mapping_tool.demo import create_demo_store, print_accounts

    if not args.no_window:
        # Before any store exists: a Qt that cannot open a window aborts the process, which
        # would leave the throwaway store behind.
        from mapping_tool.qt_check import start_problem

        problem = start_problem()
        if problem:
            raise UsageError(problem)
    folder = Path(args.store_folder).expanduser() if args.store_folder else None
    made_here = folder is None
    work = Path(tempfile.mkdtemp(prefix="smt-demo-")) if made_here else None
    ok = False
    try:
        demo = create_demo_store(work / "store" if work else folder, students=args.students, say=_out)
        print_accounts(demo, _out)
        if args.no_window:
            ok = True
            return 0
        from mapping_tool.ui.app import run_app

        rc = run_app(["--store", str(demo.folder), "--user", "custodian"])
        ok = rc == 0
        return rc
    finally:
        if made_here and work is not None and not ok:
            shutil.rmtree(work, ignore_errors=True)
            _err("The demo did not start: its throwaway store was removed.")


def cmd_self_test(args: argparse.Namespace) -> int:
    from mapping_tool.selftest import run_self_test

    return run_self_test(_out)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="refresh from a CASES21 eduHub folder (and a VASS file): all or nothing")
    p.add_argument("--cases21", required=True, metavar="DIR", help="the eduHub folder (ST_<school>.csv, SXAB_<school>.csv, ...)")
    p.add_argument("--vass", metavar="FILE", help="a VASS results file (pipe-delimited)")
    p.add_argument("--dry-run", action="store_true", help="validate and report only; change nothing")
    p.add_argument(
        "--accept-warnings", action="store_true",
        help="import an implausible refresh (over 10%% of students vanish, a key now names another child) anyway",
    )
    p.add_argument("--report", metavar="FILE", help="write the data-quality report (errors and warnings) to FILE (.xlsx or .csv)")
    p.add_argument("--force", action="store_true", help="replace the --report FILE if it already exists")
    p.set_defaults(handler=_import_handler)

    vass_p = sub.add_parser("vass-mapping", help="the saved VASS file column settings (data custodian)")
    vsub = vass_p.add_subparsers(dest="vass_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = vsub.add_parser("show")
    p.set_defaults(handler=_with_user(cmd_vass_show))
    p = vsub.add_parser("set", help="COL is a header name or a column number counted from 1")
    p.add_argument("--delimiter", default="|", help="the column separator (default |)")
    p.add_argument("--header", choices=("yes", "no", "detect"), default="detect")
    p.add_argument("--vcaa-number", metavar="COL", help="the VCAA student number column (default: the first)")
    p.add_argument("--student-key", metavar="COL", help="the school's own student id (CASES21 key), if present")
    p.add_argument("--unit-code", metavar="COL")
    p.add_argument("--result", metavar="COL")
    p.add_argument("--year", metavar="COL")
    p.set_defaults(handler=_with_user(cmd_vass_set))
    p = vsub.add_parser("clear")
    p.set_defaults(handler=_with_user(cmd_vass_clear))

    p = sub.add_parser("demo-data", help="write a realistic synthetic eduHub extract (for trying the tool)")
    p.add_argument("--students", type=int, required=True)
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--years", type=int, default=2, help="calendar years of daily attendance (default 2)")
    p.add_argument("--school-number", default="8123")
    p.set_defaults(handler=cmd_demo_data)

    p = sub.add_parser("demo", help="open the app on a throwaway demo school (accounts per role, generated data)")
    p.add_argument("--students", type=int, default=600, help="how many demo students (default 600)")
    p.add_argument("--store-folder", metavar="DIR", help="where to put the demo store (default: a new temp folder)")
    p.add_argument("--no-window", action="store_true", help="set up and print the accounts, but do not open the window")
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("self-test", help="open a temp store, build the main window offscreen, exit 0")
    p.set_defaults(handler=cmd_self_test)
