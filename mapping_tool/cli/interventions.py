"""Commands: the interventions catalogue, mapping students, bulk import and the evaluation
(issue 8, section 6: these command, option and column names are a contract)."""

from __future__ import annotations

import argparse
import re
from datetime import date
from pathlib import Path

from mapping_tool.cli._common import _out, _Parser, _with_user
from mapping_tool.errors import UsageError

_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})|(\d{4})-(\d{2})-(\d{2})")


def _date(text: str) -> date:
    m = _DATE.fullmatch(text.strip())
    if not m:
        raise UsageError(f"'{text}' is not a date: write it as dd/mm/yyyy.")
    d, mo, y = (m.group(1), m.group(2), m.group(3)) if m.group(1) else (m.group(6), m.group(5), m.group(4))
    try:
        return date(int(y), int(mo), int(d))
    except ValueError:
        raise UsageError(f"{text.strip()} is not a date that exists.") from None


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise UsageError(f"The goal target '{text}' is not a number.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise UsageError(f"The goal target '{text}' is not a number.")
    return value


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def cmd_add(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import interventions as iv

    view = iv.add_programme(
        user, args.name, kind=args.kind, measure=args.measure, provider=args.provider or "",
        capacity=args.capacity, responsible=args.responsible or "", description=args.description or "",
        sensitive=args.sensitive,
    )
    extra = " (sensitive: only the custodian, principal class, welfare staff and the responsible staff member see who takes part)" if view.sensitive else ""
    _out(f"Added the programme {view.name} ({view.kind}, measured by {view.measure_title.lower()}){extra}.")
    return 0


LIST_COLUMNS = ("name", "kind", "measure", "provider", "responsible", "capacity", "participants", "sensitive",
                "start_date", "end_date", "version", "description")


def cmd_list(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import interventions as iv
    from mapping_tool.services.export import export_format, write_rows
    from mapping_tool.services.outputs import atomic_output

    progs = iv.list_programmes(user)
    rows = [(p.name, p.kind, p.measure, p.provider, p.responsible, p.capacity, p.participants, p.sensitive,
             p.start_date, p.end_date, p.version, p.description) for p in progs]
    if args.out:
        out = Path(args.out)
        fmt = export_format(out, None)
        with atomic_output(out, store_folder=user.store.files.folder, replace=args.force) as tmp:
            write_rows(tmp, LIST_COLUMNS, rows, fmt=fmt, title="Interventions")
        _out(f"Wrote {_plural(len(rows), 'programme')} to {args.out}.")
        return 0
    if not progs:
        _out("No programmes yet: add one with 'interventions add NAME --kind KIND --measure MEASURE'.")
        return 0
    for p in progs:
        seats = f"{p.participants}/{p.capacity} seats" if p.capacity else f"{p.participants} taking part"
        flag = ", sensitive" if p.sensitive else ""
        _out(f"{p.name}  [{p.kind}; {p.measure}; {seats}{flag}]")
    return 0


def _keys(args: argparse.Namespace) -> list[str]:
    if args.students_file:
        path = Path(args.students_file).expanduser()
        if not path.is_file():
            raise UsageError(f"There is no file {path.name}.")
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("cp1252")
        keys = [line.strip() for line in text.splitlines() if line.strip()]
        if not keys:
            raise UsageError(f"{path.name} lists no students (one key a line).")
        return keys
    return list(args.student)


def cmd_assign(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import interventions as iv

    start = _date(args.start)
    review = _date(args.review) if args.review else None
    target = _number(args.goal_target) if args.goal_target is not None else None
    views = iv.assign(user, args.name, _keys(args), start=start, review=review, goal_target=target,
                      responsible=args.responsible)
    _out(f"Mapped {_plural(len(views), 'student')} to {views[0].programme} from {start:%d/%m/%Y}.")
    return 0


def cmd_end(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import interventions as iv

    view = iv.end_mapping(user, args.name, args.student, end=_date(args.end), status=args.status, reason=args.reason or "")
    _out(f"{view.student_key} {view.status} {view.programme} on {view.end:%d/%m/%Y}.")
    return 0


def cmd_import(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.cli._common import _err
    from mapping_tool.services import interventions as iv

    try:
        result = iv.import_mappings(user, Path(args.file))
    except iv.MappingImportRefused as exc:
        for r in exc.report:
            if r.outcome != "added":
                _err(f"row {r.row}: {r.outcome}")
        raise
    for r in result.rows:
        _out(f"row {r.row}: {r.student_key} in {r.programme}: {r.outcome}")
    _out(f"Imported {_plural(result.added, 'mapping')} ({result.form} form) from {Path(args.file).name}.")
    return 0


def cmd_evaluate(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import interventions as iv

    n, m = iv.export_evaluation(
        user, Path(args.out), fmt=args.format, students_out=Path(args.students_out) if args.students_out else None,
        weeks=args.weeks, force=args.force,
    )
    tail = f" and {_plural(m, 'student row')} to {args.students_out}" if args.students_out else ""
    _out(f"Wrote {_plural(n, 'programme')} to {args.out}{tail} (recorded in the audit log).")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    from interventions.catalogue import KINDS, MEASURES

    top = sub.add_parser("interventions", help="the school's programmes, students mapped to them, and their evaluation")
    isub = top.add_subparsers(dest="interventions_command", metavar="ACTION", required=True, parser_class=_Parser)

    p = isub.add_parser("add", help="add a programme to the catalogue (custodian, principal class, welfare)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--kind", required=True, help="one of: " + ", ".join(KINDS))
    p.add_argument("--measure", required=True, help="one of: " + ", ".join(MEASURES))
    p.add_argument("--provider", metavar="TEXT")
    p.add_argument("--capacity", type=int, metavar="N", help="seats")
    p.add_argument("--responsible", metavar="USER", help="the responsible staff member's user name")
    p.add_argument("--description", metavar="TEXT")
    p.add_argument("--sensitive", action="store_true", help="who takes part is seen only by those inside the programme")
    p.set_defaults(handler=_with_user(cmd_add))

    p = isub.add_parser("list", help="the programmes you may see, with participants and seats")
    p.add_argument("--out", metavar="FILE", help="write the catalogue to csv or xlsx")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(handler=_with_user(cmd_list))

    p = isub.add_parser("assign", help="map students to a programme from a start date")
    p.add_argument("name", metavar="NAME")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--student", nargs="+", action="extend", metavar="KEY")
    who.add_argument("--students-file", metavar="FILE", help="one student key a line")
    p.add_argument("--start", required=True, metavar="DD/MM/YYYY")
    p.add_argument("--review", metavar="DD/MM/YYYY")
    p.add_argument("--goal-target", metavar="NUMBER", help="the target on the programme's measure, e.g. 90")
    p.add_argument("--responsible", metavar="USER")
    p.set_defaults(handler=_with_user(cmd_assign))

    p = isub.add_parser("end", help="end a student's mapping (completed or withdrawn)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--student", required=True, metavar="KEY")
    p.add_argument("--end", required=True, metavar="DD/MM/YYYY")
    p.add_argument("--status", required=True, choices=("completed", "withdrawn"))
    p.add_argument("--reason", metavar="TEXT", help="required when withdrawn")
    p.set_defaults(handler=_with_user(cmd_end))

    p = isub.add_parser("import", help="existing mappings from csv or xlsx (long or grid form); all or nothing")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(handler=_with_user(cmd_import))

    p = isub.add_parser("evaluate", help="each programme beside similar students (csv or xlsx)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--format", choices=("csv", "xlsx"))
    p.add_argument("--students-out", metavar="FILE", help="one row per mapping of the students you may see")
    p.add_argument("--weeks", type=int, metavar="N", help="the window in weeks (default: the setting, 8)")
    p.add_argument("--force", action="store_true", help="replace the files if they exist")
    p.set_defaults(handler=_with_user(cmd_evaluate))
