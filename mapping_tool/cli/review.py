"""Commands: the students export, the de-identified summary and the risk rules."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mapping_tool.cli._common import (
    _out,
    _Parser,
    _with_user,
)


def cmd_students(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import students

    fmt = args.format or (Path(args.out).suffix.lstrip(".").lower() if Path(args.out).suffix else "csv")
    count = students.export_students(user, Path(args.out), fmt=fmt, student=args.student, replace=args.force)
    _out(f"Wrote {count} student{'s' if count != 1 else ''} to {args.out} (only what your role may see; recorded in the audit log).")
    from mapping_tool.services import flags

    note = flags.partial_note(user)
    if note:
        _out(note)
    return 0


def cmd_deidentified(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import deidentified

    deidentified.export_summary(user, Path(args.out), replace=args.force)
    _out(f"Wrote the de-identified summary to {args.out} (counts under 5 suppressed).")
    return 0


def cmd_rules_show(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import flags

    view = flags.show_rules(user)
    if view.version:
        _out(f"Rule version {view.version}, {view.created_at:%d/%m/%Y %H:%M} UTC by {view.created_by}: {view.reason}")
    else:
        _out(view.reason)
    for name, value in view.settings.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list | tuple) else json.dumps(value) if isinstance(value, dict) else value
        _out(f"  {name}: {shown}")
    return 0


def cmd_rules_set(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import flags

    version = flags.set_rule(user, args.name, args.value, args.reason)
    _out(f"{args.name} is now {args.value} (rule version {version}); the flags of the latest extract were recomputed.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("students", help="export the students you may see, one row each, masked by your role")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--format", choices=("csv", "xlsx"))
    p.add_argument("--student", metavar="KEY", help="one student only (non-zero exit when outside your scope)")
    p.add_argument("--force", action="store_true", help="replace FILE if it already exists")
    p.set_defaults(handler=_with_user(cmd_students, output="out"))

    rules_p = sub.add_parser("rules", help="the early-leaving risk rules (data custodian sets; each change is a new version)")
    rsub = rules_p.add_subparsers(dest="rules_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = rsub.add_parser("show", help="the current rule version and every threshold")
    p.set_defaults(handler=_with_user(cmd_rules_show))
    p = rsub.add_parser("set", help="change one threshold or setting; flags are recomputed")
    p.add_argument("name", help="e.g. attendance_rate_below, unapproved_days_at_least, count_koorie")
    p.add_argument("value")
    p.add_argument("--reason", required=True, help="why (kept with the new rule version)")
    p.set_defaults(handler=_with_user(cmd_rules_set))

    p = sub.add_parser("deidentified", help="de-identified summary counts for regional and central office (Excel)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="replace FILE if it already exists")
    p.set_defaults(handler=_with_user(cmd_deidentified, output="out"))
