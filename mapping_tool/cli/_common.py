"""What every command group shares: the one-line parser, output, secrets and signing in."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    import getpass  # only when asking: loading it costs more than most of this module

    value = getpass.getpass(prompt)
    if confirm and getpass.getpass("Type it again: ") != value:
        raise UsageError("The two entries do not match.")
    return value


def _store_dir(args: argparse.Namespace) -> Path:
    from mapping_tool.paths import store_choice

    return store_choice(args.store).folder


def _check_moved(args: argparse.Namespace, folder: Path) -> None:
    """Before signing in to the PC's store: an earlier release's per-user store is not used silently."""
    if args.store:
        return
    from mapping_tool.errors import StoreNotInitialised
    from mapping_tool.services.store_move import user_store_to_move

    old = user_store_to_move(folder)
    if old is not None:
        raise StoreNotInitialised(
            f"There is no store in {folder} yet, but an earlier version kept one in this Windows user's "
            f"own folder ({old}). Move it with: mapping-tool --user NAME store move-user-store"
        )


def _sign_in(args: argparse.Namespace, *, allow_must_change: bool = False):  # type: ignore[no-untyped-def]
    if not args.user:
        raise UsageError("Sign in with --user NAME (before the command), e.g. mapping-tool --user jsmith backup ...")
    folder = _store_dir(args)
    _check_moved(args, folder)
    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        password = _remembered_password(folder, args.user)
    if password is None:
        password = _secret(ENV_PASSWORD, f"Password for {args.user}: ")
    from mapping_tool.security.keyslots import derive_for_sign_in_ahead, forget_ahead
    from mapping_tool.store.files import StoreFiles

    with _loading_for_good(args):
        # the key derivation runs while the store's modules load (SQLAlchemy and the models, ~0.5 s)
        derive_for_sign_in_ahead(StoreFiles(folder).keys, args.user, password)
        try:
            from mapping_tool.services import auth

            user = auth.sign_in(folder, args.user, password)
        finally:
            forget_ahead()  # a refused sign-in (locked account) never took it
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


@contextmanager
def _loading_for_good(args: argparse.Namespace) -> Iterator[None]:
    """Signing in loads the store's modules (SQLAlchemy, the models), which then stay until the
    process ends. For a command that is its own process (``args.own_process``; never inside a
    test run or a window) the garbage collector is paused meanwhile, as everything made is kept,
    and afterwards told to leave it out of its passes (``gc.freeze``): otherwise every full pass
    walks SQLAlchemy's, pandas' and the store's objects again while an import makes millions of
    short-lived rows (0.2 s of a 400,000-row import). Garbage made afterwards is collected as
    before."""
    if not getattr(args, "own_process", False):
        yield
        return
    import gc

    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def spare_the_last_collection() -> None:
    """A command that is its own process is done and its store closed (sign-out closes every
    connection): garbage is collected once now, so anything that cleans up when collected does,
    and the rest is frozen. The interpreter's exit then skips the full collection over every
    loaded module (0.2 s after an import), memory the operating system takes back anyway. Exit
    handlers (logging, temporary folders) still run as usual. Called by ``__main__.main`` only
    for its own command line: a program calling ``main(argv)`` keeps its collector as it was."""
    import gc

    gc.collect()
    gc.freeze()


def _with_user(fn: Callable[[argparse.Namespace, object], int], *, output: str | None = None, **sign_in_kw: bool) -> Handler:
    """Run ``fn(args, user)`` signed in; ``output`` names the option holding a file to write."""

    def run(args: argparse.Namespace) -> int:
        if output is not None:
            _check_output(args, output)
        user = _sign_in(args, **sign_in_kw)
        try:
            return fn(args, user)
        finally:
            from mapping_tool.services import auth

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

