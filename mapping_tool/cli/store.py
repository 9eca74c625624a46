"""Commands: where the store lives, and moving an earlier release's per-user store to the PC's."""

from __future__ import annotations

import argparse

from mapping_tool.cli._common import ENV_PASSWORD, _out, _Parser, _secret


def cmd_store_where(args: argparse.Namespace) -> int:
    from mapping_tool.errors import UsageError
    from mapping_tool.paths import check_store_location, machine_settings_file, store_choice
    from mapping_tool.services.store_move import user_store_to_move
    from mapping_tool.store.files import StoreFiles

    choice = store_choice(args.store)
    reasons = {
        "command line": "given with --store",
        "environment": "from MAPPING_TOOL_STORE",
        "machine setting": f"the PC's setting ({machine_settings_file()} or the installer's StoreFolder)",
        "machine default": "the PC's usual store folder",
    }
    _out(f"Store folder: {choice.folder} ({reasons[choice.source]})")
    _out(f"A store is there: {'yes' if StoreFiles(choice.folder).exists() else 'no'}")
    try:
        check_store_location(choice.folder)
    except UsageError as exc:
        _out(f"Problem: {exc.message}")
        return 1
    old = user_store_to_move(choice.folder)
    if old is not None:
        _out(f"An earlier version kept a store in this Windows user's own folder: {old}")
        _out("Move it to the store folder with: mapping-tool --user NAME store move-user-store")
    return 0


def cmd_store_move(args: argparse.Namespace) -> int:
    from mapping_tool.errors import UsageError
    from mapping_tool.paths import store_choice, user_store_dir
    from mapping_tool.services import store_move

    if not args.user:
        raise UsageError("Sign in with --user NAME (the data custodian of the store being moved).")
    target = store_choice(args.store).folder
    source = user_store_dir()
    password = _secret(ENV_PASSWORD, f"Password for {args.user}: ")
    result = store_move.move_user_store(source, target, args.user, password)
    _out(f"Moved the store from {result.source} to {result.target}; the move is in the audit log.")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    store_p = sub.add_parser("store", help="where the store lives on this PC")
    ssub = store_p.add_subparsers(dest="store_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = ssub.add_parser("where", help="print the store folder in use, why, and any per-user store of an earlier version")
    p.set_defaults(handler=cmd_store_where)
    p = ssub.add_parser(
        "move-user-store",
        help="move the store an earlier version kept in this Windows user's folder to the PC's store folder "
        f"(--user: its data custodian; password from ${ENV_PASSWORD} or a prompt)",
    )
    p.set_defaults(handler=cmd_store_move)
