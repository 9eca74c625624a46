"""The headless surface: ``mapping-tool [--store DIR] [--user NAME] COMMAND ...``.

Every command has ``--help``; bad input prints one line to stderr, exits non-zero and changes
nothing. Secrets come from environment variables (for scripts) or a prompt, never arguments.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

from mapping_tool import __version__
from mapping_tool.errors import AuthenticationError, KnownError, UsageError

logger = logging.getLogger(__name__)

ENV_PASSWORD = "MAPPING_TOOL_PASSWORD"
ENV_NEW_PASSWORD = "MAPPING_TOOL_NEW_PASSWORD"
ENV_RECOVERY = "MAPPING_TOOL_RECOVERY_PASSPHRASE"
ENV_STORE = "MAPPING_TOOL_STORE"

Handler = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line and exits 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(f"mapping-tool: {text}", file=sys.stderr, flush=True)


# -- secrets ---------------------------------------------------------------------------------


def _secret(env: str, prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value is not None:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"No terminal to ask on: set {env} or run the command in a terminal.")
    value = getpass.getpass(prompt)
    if confirm and getpass.getpass("Type it again: ") != value:
        raise UsageError("The two entries do not match.")
    return value


def _store_dir(args: argparse.Namespace) -> Path:
    from mapping_tool.paths import default_store_dir

    return Path(args.store).expanduser() if args.store else default_store_dir()


def _sign_in(args: argparse.Namespace, *, allow_must_change: bool = False):  # type: ignore[no-untyped-def]
    from mapping_tool.services import auth

    if not args.user:
        raise UsageError("Sign in with --user NAME (before the command), e.g. mapping-tool --user jsmith backup ...")
    folder = _store_dir(args)
    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        password = _remembered_password(folder, args.user)
    if password is None:
        password = _secret(ENV_PASSWORD, f"Password for {args.user}: ")
    user = auth.sign_in(folder, args.user, password)
    if user.must_change_password and not allow_must_change:
        auth.sign_out(user)
        raise AuthenticationError(
            f"{args.user} must set a new password before anything else: mapping-tool --user {args.user} password"
        )
    return user


def _remembered_password(folder: Path, username: str) -> str | None:
    from mapping_tool.errors import KeyFileError
    from mapping_tool.security import keyring_store
    from mapping_tool.security.keyslots import KeySlotFile
    from mapping_tool.store.files import StoreFiles

    try:
        keyfile = KeySlotFile.load(StoreFiles(folder).keys)
    except KeyFileError:
        return None
    try:
        return keyring_store.recall(keyfile.store_id, username)
    except keyring_store.KeyringUnavailable:
        keyring_store.note_unavailable_once(lambda text: print(text, file=sys.stderr))
        return None


def _with_user(fn: Callable[[argparse.Namespace, object], int], **sign_in_kw: bool) -> Handler:
    def run(args: argparse.Namespace) -> int:
        from mapping_tool.services import auth

        user = _sign_in(args, **sign_in_kw)
        try:
            return fn(args, user)
        finally:
            auth.sign_out(user)

    return run


# -- commands --------------------------------------------------------------------------------


def _parse_date(text: str) -> date:
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise UsageError(f"'{text}' is not a date: write it as dd/mm/yyyy.")


def cmd_init(args: argparse.Namespace) -> int:
    from mapping_tool.services import auth

    password = _secret(ENV_PASSWORD, f"New password for the data custodian {args.custodian}: ", confirm=True)
    passphrase = _secret(ENV_RECOVERY, "Recovery passphrase (keep it away from this PC): ", confirm=True)
    request = auth.InitRequest(
        school_number=args.school_number,
        school_name=args.school_name,
        principal_name=args.principal,
        authorised_on=_parse_date(args.authorised_on) if args.authorised_on else date.today(),
        custodian_username=args.custodian,
        custodian_password=password,
        recovery_passphrase=passphrase,
        custodian_display_name=args.custodian_name or "",
        custodian_position=args.custodian_position or "",
        custodian_email=args.custodian_email or "",
    )
    folder = _store_dir(args)
    auth.init_store(folder, request)
    _out(f"Created the store for {request.school_name.strip()} ({request.school_number}) in {folder}.")
    _out(f"The data custodian '{args.custodian}' can now sign in.")
    _out("Next: save the recovery key file away from this PC (mapping-tool --user NAME key save-recovery --out FILE).")
    return 0


def cmd_user_add(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.security.roles import Role
    from mapping_tool.services import accounts

    role = Role.parse(args.role)
    password = _secret(ENV_NEW_PASSWORD, f"Initial password for {args.username}: ", confirm=True)
    view = accounts.add_user(
        user,
        args.username,
        role,
        password,
        display_name=args.name or "",
        position=args.position or "",
        email=args.email or "",
        phone=args.phone or "",
        home_groups=args.home_group or (),
        year_levels=args.year_level or (),
    )
    scope = ", ".join(view.home_groups or view.year_levels) or "whole school"
    _out(f"Added {view.username} ({view.role.title}; {scope}). They must change the password at first sign-in.")
    return 0


def cmd_user_list(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import accounts

    rows = accounts.list_users(user)
    _out(f"{'user':<20} {'role':<24} {'scope':<16} {'status':<10} name")
    for a in rows:
        scope = ",".join(a.home_groups or a.year_levels) or "school"
        status = "active" if a.active else "disabled"
        if a.active and a.must_change_password:
            status = "new pw"
        _out(f"{a.username:<20} {a.role.value:<24} {scope:<16} {status:<10} {a.display_name}")
    return 0


def cmd_user_disable(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import accounts

    accounts.disable_user(user, args.username)
    _out(f"Disabled {args.username}: their password no longer opens the store.")
    return 0


def cmd_user_enable(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import accounts

    password = _secret(ENV_NEW_PASSWORD, f"New initial password for {args.username}: ", confirm=True)
    accounts.enable_user(user, args.username, password)
    _out(f"Enabled {args.username}. They must change the password at first sign-in.")
    return 0


def cmd_user_reset(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import accounts

    password = _secret(ENV_NEW_PASSWORD, f"New initial password for {args.username}: ", confirm=True)
    accounts.reset_password(user, args.username, password)
    _out(f"Reset the password of {args.username}. They must change it at first sign-in.")
    return 0


def cmd_password(args: argparse.Namespace) -> int:
    from mapping_tool.services import auth

    user = _sign_in(args, allow_must_change=True)
    try:
        current = os.environ.get(ENV_PASSWORD) or _secret(ENV_PASSWORD, "Current password: ")
        new = _secret(ENV_NEW_PASSWORD, "New password: ", confirm=True)
        auth.change_password(user, current, new)
    finally:
        auth.sign_out(user)
    _out("Password changed.")
    return 0


def cmd_backup(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import backup

    result = backup.backup(user, Path(args.out))
    _out(f"Backup written to {result.path} ({result.size:,} bytes, SHA-256 {result.sha256[:16]}…).")
    _out("It is encrypted and carries the key file: keep it somewhere safe, away from this PC.")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from mapping_tool.services import backup

    folder = _store_dir(args)
    if args.recovery:
        creds = backup.RestoreCredentials(recovery_passphrase=_secret(ENV_RECOVERY, "Recovery passphrase: "))
    else:
        if not args.user:
            raise UsageError("Give --user NAME (a data custodian in the backup), or use --recovery.")
        creds = backup.RestoreCredentials(
            username=args.user, password=_secret(ENV_PASSWORD, f"Password for {args.user}: ")
        )
    backup.restore(folder, Path(args.file), creds)
    _out(f"Restored {Path(args.file).name} into {folder}. The replaced files are kept in {folder / 'backups'}.")
    return 0


def cmd_key_show(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import backup

    password = os.environ.get(ENV_PASSWORD) or _secret(ENV_PASSWORD, "Confirm your password: ")
    key = backup.show_key(user, password)
    _out(key)
    print(
        "This is the store's raw key (SQLCipher 4, PRAGMA key = \"x'<key>'\"). Give it to the business "
        "manager in a sealed envelope; this display was recorded in the audit log.",
        file=sys.stderr,
    )
    return 0


def cmd_key_save_recovery(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import backup

    path = backup.save_recovery_slot(user, Path(args.out))
    _out(f"Saved the recovery key file to {path}. It is useless without the recovery passphrase.")
    return 0


def cmd_key_set_recovery(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import backup

    passphrase = _secret(ENV_RECOVERY, "New recovery passphrase: ", confirm=True)
    backup.set_recovery_passphrase(user, passphrase)
    _out("Recovery passphrase changed. Save the recovery key file again (key save-recovery).")
    return 0


def cmd_key_recover(args: argparse.Namespace) -> int:
    from mapping_tool.services import backup

    if not args.user:
        raise UsageError("Name the data custodian who will sign in afterwards with --user NAME.")
    passphrase = _secret(ENV_RECOVERY, "Recovery passphrase: ")
    new_password = _secret(ENV_NEW_PASSWORD, f"New password for {args.user}: ", confirm=True)
    backup.recover_key_file(_store_dir(args), Path(args.recovery_file), passphrase, args.user, new_password)
    _out(f"The key file was rebuilt. {args.user} can sign in; reset other staff's passwords (user reset-password).")
    return 0


def cmd_key_remember(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.security import keyring_store
    from mapping_tool.security.roles import Role

    user.require(Role.CUSTODIAN)
    password = os.environ.get(ENV_PASSWORD) or _secret(ENV_PASSWORD, "Confirm your password: ")
    from mapping_tool.services import auth

    if not auth.verify_password(user, password):
        raise AuthenticationError("The password is not correct.")
    try:
        keyring_store.remember(user.store.school.store_id, user.username, password)
    except keyring_store.KeyringUnavailable:
        raise KnownError("No system keyring is available on this computer, so the password cannot be remembered.") from None
    with user.store.write() as session:
        user.store.audit(session, user.username, "key.remembered", object_type="account", object_id=user.username)
    _out("Your password is remembered for this Windows account, for scheduled refreshes.")
    return 0


def cmd_key_forget(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.security import keyring_store

    try:
        keyring_store.forget(user.store.school.store_id, user.username)
    except keyring_store.KeyringUnavailable:
        keyring_store.note_unavailable_once(_out)
        return 0
    with user.store.write() as session:
        user.store.audit(session, user.username, "key.forgotten", object_type="account", object_id=user.username)
    _out("The remembered password was removed.")
    return 0


def cmd_settings_show(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from dataclasses import asdict

    from mapping_tool.services import settings

    for name, value in asdict(settings.get_settings(user)).items():
        _out(f"{name.replace('_', '-')}: {value}")
    return 0


def cmd_settings_set(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import settings

    settings.set_setting(user, args.name, args.value)
    _out(f"{args.name} set to {args.value}.")
    return 0


def cmd_audit_verify(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import audit

    result = audit.verify(user)
    if result.intact:
        _out(f"intact ({result.entries} entries)")
        return 0
    _out(f"broken: {result.problem}")
    return 1


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
            user, Path(args.cases21), vass=Path(args.vass) if args.vass else None, dry_run=args.dry_run, progress=progress
        )
    except imports.ImportRefused as exc:
        if progress.tty:
            print(file=sys.stderr)
        if report is not None and exc.findings:
            imports.write_report(report, exc.findings)
        errors = [f for f in exc.findings if f.level == "error"]
        for f in errors[:20]:
            print(f"  {f.message}", file=sys.stderr)
        if len(errors) > 20:
            print(f"  … and {len(errors) - 20} more" + (f" (all in {report})" if report else " (use --report FILE)"), file=sys.stderr)
        raise
    if report is not None:
        imports.write_report(report, result.warnings)
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
    if result.warnings:
        _out(f"{len(result.warnings)} data-quality warnings" + (f": see {report}" if report else " (--report FILE lists them)"))
    return 0


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

    folder = Path(args.store_folder).expanduser() if args.store_folder else None
    demo = create_demo_store(folder, students=args.students, say=_out)
    print_accounts(demo, _out)
    if args.no_window:
        return 0
    from mapping_tool.ui.app import run_app

    return run_app(["--store", str(demo.folder), "--user", "custodian"])


def cmd_students(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import students

    fmt = args.format or (Path(args.out).suffix.lstrip(".").lower() if Path(args.out).suffix else "csv")
    count = students.export_students(user, Path(args.out), fmt=fmt, student=args.student)
    _out(f"Wrote {count} student{'s' if count != 1 else ''} to {args.out} (only what your role may see; recorded in the audit log).")
    return 0


def cmd_deidentified(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import deidentified

    deidentified.export_summary(user, Path(args.out))
    _out(f"Wrote the de-identified summary to {args.out} (counts under 5 suppressed).")
    return 0


def cmd_audit_export(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import audit

    count = audit.export_entries(user, Path(args.out), student=args.student)
    _out(f"Wrote {count} audit entries to {args.out}.")
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


def cmd_self_test(args: argparse.Namespace) -> int:
    from mapping_tool.selftest import run_self_test

    return run_self_test(_out)


# -- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mapping-tool",
        description="Student Mapping Tool. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--store", metavar="DIR", help=f"the store folder (default: ${ENV_STORE} or the local data folder)")
    parser.add_argument("--user", metavar="NAME", help=f"sign in as NAME; the password comes from ${ENV_PASSWORD} or a prompt")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("init", help="create the store: school, principal's authorisation, custodian, recovery passphrase")
    p.add_argument("--school-number", required=True, help="the school's CASES21 number, e.g. 8123")
    p.add_argument("--school-name", required=True)
    p.add_argument("--principal", required=True, metavar="NAME", help="the principal who authorised use of the tool")
    p.add_argument("--authorised-on", metavar="DD/MM/YYYY", help="the date of the authorisation (default today)")
    p.add_argument("--custodian", required=True, metavar="USER", help="the data custodian's user name")
    p.add_argument("--custodian-name", metavar="TEXT")
    p.add_argument("--custodian-position", metavar="TEXT")
    p.add_argument("--custodian-email", metavar="TEXT")
    p.set_defaults(handler=cmd_init)

    users = sub.add_parser("user", help="staff accounts (data custodian)")
    usub = users.add_subparsers(dest="user_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = usub.add_parser("add", help=f"add an account; the initial password comes from ${ENV_NEW_PASSWORD} or a prompt")
    p.add_argument("username", metavar="USER")
    p.add_argument("--role", required=True, help="custodian, principal, welfare, year-level-coordinator or home-group-teacher")
    p.add_argument("--home-group", action="append", metavar="HG", help="a home group (home group teachers; repeatable)")
    p.add_argument("--year-level", action="append", metavar="YL", help="a year level (coordinators; repeatable)")
    p.add_argument("--name", metavar="TEXT", help="display name")
    p.add_argument("--position", metavar="TEXT")
    p.add_argument("--email", metavar="TEXT")
    p.add_argument("--phone", metavar="TEXT")
    p.set_defaults(handler=_with_user(cmd_user_add))
    p = usub.add_parser("list", help="list accounts")
    p.set_defaults(handler=_with_user(cmd_user_list))
    p = usub.add_parser("disable", help="disable an account (its password stops opening the store)")
    p.add_argument("username", metavar="USER")
    p.set_defaults(handler=_with_user(cmd_user_disable))
    p = usub.add_parser("enable", help=f"re-enable an account with a new initial password (${ENV_NEW_PASSWORD})")
    p.add_argument("username", metavar="USER")
    p.set_defaults(handler=_with_user(cmd_user_enable))
    p = usub.add_parser("reset-password", help=f"give an account a new initial password (${ENV_NEW_PASSWORD} or a prompt)")
    p.add_argument("username", metavar="USER")
    p.set_defaults(handler=_with_user(cmd_user_reset))

    p = sub.add_parser("password", help=f"set a new password for --user (from ${ENV_NEW_PASSWORD} or a prompt)")
    p.set_defaults(handler=cmd_password)

    p = sub.add_parser("backup", help="write a consistent encrypted backup (works while the app is open)")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(handler=_with_user(cmd_backup))

    p = sub.add_parser("restore", help="replace the store with a backup (the app must be closed)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--recovery", action="store_true", help=f"open the backup with the recovery passphrase (${ENV_RECOVERY})")
    p.set_defaults(handler=cmd_restore)

    keys = sub.add_parser("key", help="the store key: escrow, recovery slot, keyring (data custodian)")
    ksub = keys.add_subparsers(dest="key_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = ksub.add_parser("show", help="print the raw store key as hex for escrow (audit-logged)")
    p.set_defaults(handler=_with_user(cmd_key_show))
    p = ksub.add_parser("save-recovery", help="save the recovery slot alone, to keep away from this PC")
    p.add_argument("--out", required=True, metavar="FILE")
    p.set_defaults(handler=_with_user(cmd_key_save_recovery))
    p = ksub.add_parser("set-recovery", help=f"change the recovery passphrase (${ENV_RECOVERY} or a prompt)")
    p.set_defaults(handler=_with_user(cmd_key_set_recovery))
    p = ksub.add_parser("recover", help="rebuild a lost key file from the saved recovery file and passphrase")
    p.add_argument("--recovery-file", required=True, metavar="FILE")
    p.set_defaults(handler=cmd_key_recover)
    p = ksub.add_parser("remember", help="remember your password in this Windows account's keyring (scheduled refresh)")
    p.set_defaults(handler=_with_user(cmd_key_remember))
    p = ksub.add_parser("forget", help="remove the remembered password")
    p.set_defaults(handler=_with_user(cmd_key_forget))

    settings = sub.add_parser("settings", help="lockout and idle-lock settings (data custodian sets)")
    ssub = settings.add_subparsers(dest="settings_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = ssub.add_parser("show")
    p.set_defaults(handler=_with_user(cmd_settings_show))
    p = ssub.add_parser("set")
    p.add_argument("name", help="lockout-attempts, lockout-minutes or idle-lock-minutes")
    p.add_argument("value")
    p.set_defaults(handler=_with_user(cmd_settings_set))

    audit_p = sub.add_parser("audit", help="the audit log")
    asub = audit_p.add_subparsers(dest="audit_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = asub.add_parser("verify", help='check the hash chain and its anchor: prints "intact" or the first broken entry')
    p.set_defaults(handler=_with_user(cmd_audit_verify))
    p = asub.add_parser("export", help="the audit log, or who accessed one student's record (--student), to Excel or CSV")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--student", metavar="KEY")
    p.set_defaults(handler=_with_user(cmd_audit_export))

    p = sub.add_parser("students", help="export the students you may see, one row each, masked by your role")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--format", choices=("csv", "xlsx"))
    p.add_argument("--student", metavar="KEY", help="one student only (non-zero exit when outside your scope)")
    p.set_defaults(handler=_with_user(cmd_students))

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
    p.set_defaults(handler=_with_user(cmd_deidentified))

    p = sub.add_parser("import", help="refresh from a CASES21 eduHub folder (and a VASS file): all or nothing")
    p.add_argument("--cases21", required=True, metavar="DIR", help="the eduHub folder (ST_<school>.csv, SXAB_<school>.csv, ...)")
    p.add_argument("--vass", metavar="FILE", help="a VASS results file (pipe-delimited)")
    p.add_argument("--dry-run", action="store_true", help="validate and report only; change nothing")
    p.add_argument("--report", metavar="FILE", help="write the data-quality report (errors and warnings) to FILE (.xlsx or .csv)")
    p.set_defaults(handler=_with_user(cmd_import))

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

    for extra in _EXTRA_COMMANDS:
        extra(sub)
    return parser


# Later features register their commands here (import, demo-data, students, audit ...).
_EXTRA_COMMANDS: list[Callable[[argparse._SubParsersAction], None]] = []


def run(argv: Sequence[str]) -> int:
    from mapping_tool.logging_setup import setup_logging

    parser = build_parser()
    args = parser.parse_args(list(argv))
    setup_logging(console=False)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        from mapping_tool.security.policy import load_policy

        load_policy()  # a policy file widened beyond the seed's table stops everything here
        return int(args.handler(args))
    except KnownError as exc:
        _err(exc.message)
        return exc.exit_code
    except KeyboardInterrupt:
        _err("Cancelled; nothing was changed.")
        return 130
    except Exception as exc:
        from mapping_tool.logging_setup import safe_traceback
        from mapping_tool.paths import log_dir

        logger.error("unexpected error in command %s\n%s", getattr(args, "command", "?"), safe_traceback(exc))
        _err(f"An unexpected error stopped the command. Details are in the log folder {log_dir()}.")
        return 70
