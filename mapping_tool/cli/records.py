"""Commands: keeping and disposing of records (retention, holds, transfer, disposal, access
requests, breaches, unusual access). ``backup --auto-now`` and ``restore --drill`` live with
the other backup commands in ``cli/keys.py``."""

from __future__ import annotations

import argparse
from pathlib import Path

from mapping_tool.cli._common import ENV_PASSWORD, _out, _parse_date, _Parser, _secret, _with_user
from mapping_tool.errors import UsageError


def _renderer():  # type: ignore[no-untyped-def]
    from mapping_tool.ui.records_pdf import render_pdf

    return render_pdf


def _date(value: object) -> str:
    from datetime import date, datetime

    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


# -- retention ---------------------------------------------------------------------------------


def cmd_retention_show(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    for r in records.retention(user):
        changed = f" (set by {r.changed_by} on {r.changed_at:%d/%m/%Y})" if r.changed_at else " (default)"
        _out(f"{r.code}: {r.shown}{changed}")
        _out(f"    {r.title}. Authority: {r.authority}.")
    return 0


def cmd_retention_set(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    view = records.set_retention(user, args.class_code, args.value)
    _out(f"{view.code} is now {view.shown}.")
    return 0


# -- holds -------------------------------------------------------------------------------------


def cmd_hold_add(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    if bool(args.student) == bool(args.all_students):
        raise UsageError("Give --student KEY, or --all-students for a hold on every student.")
    hold = records.add_hold(user, None if args.all_students else args.student, args.reason, args.kind or "")
    _out(f"Hold {hold.id} placed on {hold.who}: nothing of {'them' if hold.student_key is None else 'this student'} will be disposed of until it is released.")
    return 0


def cmd_hold_release(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    hold = records.release_hold(user, args.hold, args.reason)
    _out(f"Hold {hold.id} on {hold.who} released.")
    return 0


def cmd_hold_list(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    holds = records.list_holds(user)
    if not holds:
        _out("No legal holds.")
    for h in holds:
        state = "active" if h.active else f"released {_date(h.released_at)} by {h.released_by}: {h.release_reason}"
        kind = f" [{h.kind}]" if h.kind else ""
        _out(f"{h.id}\t{h.who}\tplaced {_date(h.placed_at)} by {h.placed_by}{kind}: {h.reason}\t{state}")
    return 0


# -- transfer and access requests ----------------------------------------------------------------


def cmd_records_transfer(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    if bool(args.student) == bool(args.all_due):
        raise UsageError("Give --student KEY, or --all-due for every student awaiting transfer.")
    if args.all_due:
        done = records.transfer_all_due(user, Path(args.out), _renderer(), force=args.force)
        _out(f"Transferred {len(done)} student record{'s' if len(done) != 1 else ''} to {args.out} (PDF and Excel each).")
        return 0
    result = records.transfer(user, args.student, Path(args.out), _renderer(), force=args.force)
    _out(f"Wrote {result.pdf.name} and {result.xlsx.name} to {args.out}; the transfer is recorded.")
    return 0


def cmd_records_correct_note(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    """Correct a student note (issue 10 s 3): the earlier text is kept as an earlier version."""
    from mapping_tool.services import notes

    view = notes.correct_note(user, args.note, args.text, args.reason)
    _out(f"Corrected note {view.id} (now version {view.versions}); the earlier text is kept with who replaced it, "
         "when and why.")
    return 0


def cmd_records_note_versions(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import notes

    for v in notes.note_versions(user, args.note):
        state = "current" if v.current else f"replaced {_date(v.replaced_at)} by {v.replaced_by}: {v.reason}"
        _out(f"version {v.version} | written {_date(v.written_at)} by {v.written_by} | {state}")
        _out(f"    {v.text}")
    return 0


def cmd_subject_access(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    out = Path(args.out)
    renderer = _renderer() if out.suffix.lower() == ".pdf" else None
    records.subject_access(user, args.student, out, renderer, force=args.force)
    _out(f"Wrote everything the tool holds about {args.student.strip().upper()} to {out} (recorded in the audit log).")
    return 0


# -- disposal ------------------------------------------------------------------------------------


def cmd_disposal_review(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    if args.out:
        count = records.export_review(user, Path(args.out), force=args.force)
        _out(f"Wrote the disposal review ({count} students) to {args.out}.")
        return 0
    review = records.disposal_review(user)
    _out(f"Disposal review on {review.as_of:%d/%m/%Y}: {len(review.of(records.DUE))} due, "
         f"{len(review.of(records.AWAITING))} awaiting transfer, {len(review.of(records.HELD))} held; "
         f"{review.audit_entries_due} audit log entries past their period.")
    for row in records.review_rows(review):
        _out("\t".join(_date(v) for v in row))
    return 0


def cmd_disposal_prepare(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    run = records.prepare_run(user)
    _out(f"disposal run {run.id}")
    _out(f"{run.students} student{'s' if run.students != 1 else ''}. Another principal-class or custodian account "
         f"approves it: mapping-tool --user NAME disposal approve {run.id}")
    return 0


def cmd_disposal_approve(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    password = _secret(ENV_PASSWORD, f"Your password, to approve disposal run {args.run}: ")
    run = records.approve_run(user, args.run, password)
    _out(f"Disposal run {run.id} approved by {run.approved_by}. Run it with: disposal run {run.id}")
    return 0


def cmd_disposal_run(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    run = records.execute_run(user, args.run)
    c = run.counts
    expires = c.get("backups_expire_by")
    _out(f"Disposal run {run.id} done: {c.get('students', 0)} students disposed of "
         f"({c.get('mirrored_rows', 0)} CASES21 rows, {c.get('welfare_rows', 0)} welfare rows); "
         f"{c.get('audit_entries', 0)} audit log entries past their period; "
         f"{c.get('skipped', 0)} skipped (held or changed since). The store was vacuumed.")
    if expires:
        from datetime import date

        _out(f"Backups made before today still hold them; the last expires by {date.fromisoformat(expires):%d/%m/%Y}.")
    return 0


def cmd_disposal_register(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records

    count = records.export_register(user, Path(args.out), force=args.force)
    _out(f"Wrote the disposal register ({count} entries) to {args.out}.")
    return 0


# -- breaches and unusual access ------------------------------------------------------------------


def cmd_breach_add(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records_privacy

    breach = records_privacy.add_breach(
        user, found_on=_parse_date(args.found), what=args.what,
        students=[k for k in (args.students or "").split(",") if k.strip()], notified=args.notified or "",
        notified_on=_parse_date(args.notified_on) if args.notified_on else None, steps=args.steps or "",
    )
    _out(f"Breach {breach.id} recorded ({breach.students_affected} students affected).")
    return 0


def cmd_breach_follow_up(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records_privacy

    breach = records_privacy.add_breach_follow_up(
        user, args.breach, what=args.what or "", notified=args.notified or "",
        notified_on=_parse_date(args.notified_on) if args.notified_on else None, steps=args.steps or "",
    )
    _out(f"Follow-up to breach {args.breach} recorded as breach {breach.id}.")
    return 0


def cmd_breach_list(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records_privacy

    breaches = records_privacy.list_breaches(user)
    if not breaches:
        _out("No breaches recorded.")
    for b in breaches:
        notified = f"notified {b.notified} on {_date(b.notified_on)}" if b.notified else "no one notified yet"
        _out(f"{b.id}\tfound {_date(b.found_on)}\t{b.what}\t{b.students_affected} students\t{notified}\tsteps: {b.steps or '-'}")
    return 0


def cmd_report_unusual(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import records_privacy

    count = records_privacy.export_unusual_access(
        user, Path(args.out), force=args.force, since=_parse_date(args.since) if args.since else None
    )
    _out(f"Wrote the unusual access report ({count} user-days) to {args.out}.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    ret = sub.add_parser("retention", help="retention classes and their authority (the data custodian sets them)")
    rsub = ret.add_subparsers(dest="retention_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = rsub.add_parser("show", help="every class, its value and the authority it rests on")
    p.set_defaults(handler=_with_user(cmd_retention_show))
    p = rsub.add_parser("set", help="e.g. cases21-copy 12, audit-log 7, backup-generations 14, backup-folder DIR")
    p.add_argument("class_code", metavar="CLASS")
    p.add_argument("value", metavar="VALUE")
    p.set_defaults(handler=_with_user(cmd_retention_set))

    hold = sub.add_parser("hold", help="legal holds: nothing held is disposed of")
    hsub = hold.add_subparsers(dest="hold_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = hsub.add_parser("add", help="place a hold on a student (or --all-students)")
    p.add_argument("--student", metavar="KEY")
    p.add_argument("--all-students", action="store_true", help="hold every student's records")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.add_argument("--kind", metavar="KIND", help="legal proceedings, inquiry, complaint, child safety matter, Department direction")
    p.set_defaults(handler=_with_user(cmd_hold_add))
    p = hsub.add_parser("release", help="lift hold N (data custodian or principal class), with a reason")
    p.add_argument("hold", type=int, metavar="N")
    p.add_argument("--reason", required=True, metavar="TEXT")
    p.set_defaults(handler=_with_user(cmd_hold_release))
    p = hsub.add_parser("list", help="every hold, active and released")
    p.set_defaults(handler=_with_user(cmd_hold_list))

    rec = sub.add_parser("records", help="the student's record for the official file")
    recsub = rec.add_subparsers(dest="records_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = recsub.add_parser("transfer", help="write the student's record (PDF and Excel) for the official file; recorded")
    p.add_argument("--student", metavar="KEY")
    p.add_argument("--all-due", action="store_true", help="every student whose disposal awaits transfer")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--force", action="store_true", help="replace files of the same name")
    p.set_defaults(handler=_with_user(cmd_records_transfer))
    p = recsub.add_parser("correct-note", help="correct student note N (its author, the data custodian or principal "
                          "class); the earlier text stays visible as an earlier version")
    p.add_argument("note", type=int, metavar="N", help="the note's number (as 'records note-versions' and the record show it)")
    p.add_argument("--text", required=True, metavar="TEXT", help="the corrected text, in full")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why it is corrected (kept with the earlier version)")
    p.set_defaults(handler=_with_user(cmd_records_correct_note))
    p = recsub.add_parser("note-versions", help="every version of student note N, the first first")
    p.add_argument("note", type=int, metavar="N")
    p.set_defaults(handler=_with_user(cmd_records_note_versions))

    disp = sub.add_parser("disposal", help="the disposal review, runs (prepare, approve, run) and the register")
    dsub = disp.add_subparsers(dest="disposal_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = dsub.add_parser("review", help="what is due, held and awaiting transfer (changes nothing)")
    p.add_argument("--out", metavar="FILE", help="write it to Excel or CSV")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_with_user(cmd_disposal_review))
    p = dsub.add_parser("prepare", help="prepare a run of everything due; prints 'disposal run N'")
    p.set_defaults(handler=_with_user(cmd_disposal_prepare))
    p = dsub.add_parser("approve", help="approve run N (another principal-class or custodian account; password again)")
    p.add_argument("run", type=int, metavar="N")
    p.set_defaults(handler=_with_user(cmd_disposal_approve))
    p = dsub.add_parser("run", help="execute approved run N: holds checked again, one transaction, then vacuum")
    p.add_argument("run", type=int, metavar="N")
    p.set_defaults(handler=_with_user(cmd_disposal_run))
    p = dsub.add_parser("register", help="the disposal register (no student data) to Excel or CSV")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_with_user(cmd_disposal_register))

    p = sub.add_parser("subject-access", help="everything the tool holds about a student (.pdf or .xlsx by the name)")
    p.add_argument("--student", required=True, metavar="KEY")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_with_user(cmd_subject_access))

    br = sub.add_parser("breach", help="the breach register")
    bsub = br.add_subparsers(dest="breach_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = bsub.add_parser("add", help="record a breach")
    p.add_argument("--found", required=True, metavar="DATE", help="when it was found (dd/mm/yyyy)")
    p.add_argument("--what", required=True, metavar="TEXT", help="what happened")
    p.add_argument("--students", metavar="KEYS", help="the students affected, comma-separated keys")
    p.add_argument("--notified", metavar="TEXT", help="who was notified")
    p.add_argument("--notified-on", metavar="DATE")
    p.add_argument("--steps", metavar="TEXT", help="steps taken")
    p.set_defaults(handler=_with_user(cmd_breach_add))
    p = bsub.add_parser("follow-up", help="what followed a breach (a later notification, further steps), as a new "
                        "entry that names it")
    p.add_argument("breach", type=int, metavar="N", help="the breach's number in the register")
    p.add_argument("--what", metavar="TEXT", help="what happened since")
    p.add_argument("--notified", metavar="TEXT", help="who was notified")
    p.add_argument("--notified-on", metavar="DATE")
    p.add_argument("--steps", metavar="TEXT", help="steps taken")
    p.set_defaults(handler=_with_user(cmd_breach_follow_up))
    p = bsub.add_parser("list", help="every breach recorded")
    p.set_defaults(handler=_with_user(cmd_breach_list))

    rep = sub.add_parser("report", help="reports for the data custodian")
    repsub = rep.add_subparsers(dest="report_command", metavar="REPORT", required=True, parser_class=_Parser)
    p = repsub.add_parser("unusual-access", help="refused reads, bulk exports, many records in an hour, out of hours; by user and day")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--since", metavar="DATE", help="from this date (default: the last 90 days)")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_with_user(cmd_report_unusual))
