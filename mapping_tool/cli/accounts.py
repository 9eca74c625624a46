"""Commands: init, staff accounts, passwords and the sign-in settings."""

from __future__ import annotations

import argparse
import os
from datetime import date

from mapping_tool.cli._common import (
    ENV_NEW_PASSWORD,
    ENV_PASSWORD,
    ENV_RECOVERY,
    _out,
    _parse_date,
    _Parser,
    _secret,
    _sign_in,
    _store_dir,
    _with_user,
)


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


def register(sub: argparse._SubParsersAction) -> None:
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
    settings = sub.add_parser("settings", help="lockout and idle-lock settings (data custodian sets)")
    ssub = settings.add_subparsers(dest="settings_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = ssub.add_parser("show")
    p.set_defaults(handler=_with_user(cmd_settings_show))
    p = ssub.add_parser("set")
    p.add_argument("name", help="lockout-attempts, lockout-minutes or idle-lock-minutes")
    p.add_argument("value")
    p.set_defaults(handler=_with_user(cmd_settings_set))
