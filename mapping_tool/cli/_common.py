"""What every command group shares: the one-line parser, output, secrets and signing in."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from mapping_tool.errors import AuthenticationError, UsageError

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
    from mapping_tool.paths import store_choice

    return store_choice(args.store).folder


def _check_moved(args: argparse.Namespace, folder: Path) -> None:
    """Before signing in to the PC's store: an earlier release's per-user store is not used silently."""
    from mapping_tool.errors import StoreNotInitialised
    from mapping_tool.services.store_move import user_store_to_move

    if args.store:
        return
    old = user_store_to_move(folder)
    if old is not None:
        raise StoreNotInitialised(
            f"There is no store in {folder} yet, but an earlier version kept one in this Windows user's "
            f"own folder ({old}). Move it with: mapping-tool --user NAME store move-user-store"
        )


def _sign_in(args: argparse.Namespace, *, allow_must_change: bool = False):  # type: ignore[no-untyped-def]
    from mapping_tool.services import auth

    if not args.user:
        raise UsageError("Sign in with --user NAME (before the command), e.g. mapping-tool --user jsmith backup ...")
    folder = _store_dir(args)
    _check_moved(args, folder)
    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        password = _remembered_password(folder, args.user)
    if password is None:
        password = _secret(ENV_PASSWORD, f"Password for {args.user}: ")
    user = auth.sign_in(folder, args.user, password)
    for notice in user.notices:  # the data custodian's: what happened to the store meanwhile
        _err(f"please check: {notice}")
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


def _check_output(args: argparse.Namespace, option: str) -> None:
    """Refuse a bad output path (inside the store folder, a link, an existing file without
    ``--force``) before signing in, so a refused command leaves every store file as it was. The
    service checks again when it writes."""
    from mapping_tool.services.outputs import check_output_path

    value = getattr(args, option, None)
    if value:
        check_output_path(Path(value), store_folder=_store_dir(args), replace=bool(getattr(args, "force", False)))


def _with_user(fn: Callable[[argparse.Namespace, object], int], *, output: str | None = None, **sign_in_kw: bool) -> Handler:
    """Run ``fn(args, user)`` signed in; ``output`` names the option holding a file to write."""

    def run(args: argparse.Namespace) -> int:
        from mapping_tool.services import auth

        if output is not None:
            _check_output(args, output)
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

