"""The headless surface: ``mapping-tool [--store DIR] [--user NAME] COMMAND ...``.

Every command has ``--help``; bad input prints one line to stderr, exits non-zero and changes
nothing. Secrets come from environment variables (for scripts) or a prompt, never arguments.
Each command group is one module with a ``register(sub)``; ``COMMAND_GROUPS`` lists them all,
in the order ``--help`` shows them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mapping_tool import __version__
from mapping_tool.cli import (
    accounts,
    audit,
    data,
    interventions,
    keys,
    policy,
    records,
    referrals,
    review,
    store,
)
from mapping_tool.cli._common import ENV_PASSWORD, ENV_STORE, _err, _Parser, logger
from mapping_tool.errors import KnownError

COMMAND_GROUPS = (accounts, keys, audit, policy, review, data, interventions, referrals, records, store)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mapping-tool",
        description="Student Mapping Tool. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--store", metavar="DIR", help=f"the store folder (default: ${ENV_STORE}, the PC's machine setting, or the PC's shared store folder)")
    parser.add_argument("--user", metavar="NAME", help=f"sign in as NAME; the password comes from ${ENV_PASSWORD} or a prompt")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for group in COMMAND_GROUPS:
        group.register(sub)
    return parser


def run(argv: Sequence[str], *, parser: argparse.ArgumentParser | None = None, own_process: bool = False) -> int:
    """Run one command. ``own_process``: the command is the whole process (``mapping-tool ...``),
    so what it loads lives until it exits (see ``_common._loading_for_good``)."""
    from mapping_tool.logging_setup import setup_logging

    parser = parser or build_parser()
    args = parser.parse_args(list(argv))
    args.own_process = own_process
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
