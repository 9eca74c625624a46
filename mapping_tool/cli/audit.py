"""Commands: the audit log: verify the chain, export it."""

from __future__ import annotations

import argparse
from pathlib import Path

from mapping_tool.cli._common import (
    _out,
    _Parser,
    _with_user,
)


def cmd_audit_verify(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import audit

    result = audit.verify(user, backups=[Path(b) for b in args.backup or ()])
    if result.intact:
        _out(f"intact ({result.entries} entries)")
        return 0
    _out(f"broken: {result.problem}")
    return 1


def cmd_audit_export(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import audit

    count = audit.export_entries(user, Path(args.out), student=args.student, replace=args.force)
    _out(f"Wrote {count} audit entries to {args.out}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    audit_p = sub.add_parser("audit", help="the audit log")
    asub = audit_p.add_subparsers(dest="audit_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = asub.add_parser(
        "verify",
        help='check the hash chain, its anchor and its witnesses (this PC, backups): prints "intact" or the first problem',
    )
    p.add_argument("--backup", action="append", metavar="FILE",
                   help="also compare with the audit anchor a backup carries (repeatable)")
    p.set_defaults(handler=_with_user(cmd_audit_verify))
    p = asub.add_parser("export", help="the audit log, or who accessed one student's record (--student), to Excel or CSV")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--student", metavar="KEY")
    p.add_argument("--force", action="store_true", help="replace FILE if it already exists")
    p.set_defaults(handler=_with_user(cmd_audit_export, output="out"))
