"""The headless surface: ``mapping-tool [--store DIR] [--user NAME] COMMAND ...``.

Every command has ``--help``; bad input prints one line to stderr, exits non-zero and changes
nothing. Secrets come from environment variables (for scripts) or a prompt, never arguments.
Each command group is one module with a ``register(sub)``; ``COMMAND_GROUPS`` lists them all,
in the order ``--help`` shows them, with the commands each adds.
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

#: Every command group with the commands it adds (a test keeps the two the same). A command line
#: naming a command builds only its group's parsers: all ten groups' ninety-odd parsers took
#: ~60 ms, which every command paid before it started.
COMMAND_GROUPS = (
    (accounts, ("init", "user", "password", "settings")),
    (keys, ("backup", "restore", "key")),
    (audit, ("audit",)),
    (policy, ("policy",)),
    (review, ("students", "rules", "deidentified")),
    (data, ("import", "vass-mapping", "demo-data", "demo", "self-test")),
    (interventions, ("interventions",)),
    (referrals, ("agencies", "consent", "referral", "filenotes")),
    (records, ("retention", "hold", "records", "disposal", "subject-access", "breach", "report")),
    (store, ("store",)),
)

#: The options before the command that take a value (argparse also takes a unique prefix).
_VALUE_OPTIONS = ("--store", "--user")


def _command_named(argv: Sequence[str]) -> str | None:
    """The command ``argv`` names: its first word after the options ``--store``/``--user`` (and
    their values) and ``--version``. None for anything else before it (``-h``/``--help``, which
    asks for every command, ``--``, a stray option), so that the parser of every group reads it."""
    words = iter(argv)
    for word in words:
        if not word.startswith("-"):
            return word
        name, has_value, _ = word.partition("=")
        if len(name) > 2 and any(o.startswith(name) for o in _VALUE_OPTIONS):
            if not has_value:
                next(words, None)  # its value
            continue
        if len(word) > 2 and "--version".startswith(word):
            continue
        return None
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The command line's parser. With ``argv``, when it names a command, only that command's
    group registers (its ``--help`` is the same); otherwise, and for ``mapping-tool --help``,
    every group does."""
    command = _command_named(argv) if argv is not None else None
    groups = [g for g, commands in COMMAND_GROUPS if command in commands] or [g for g, _ in COMMAND_GROUPS]
    parser = _Parser(
        prog="mapping-tool",
        description="Student Mapping Tool. With no command, opens the window.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--store", metavar="DIR", help=f"the store folder (default: ${ENV_STORE}, the PC's machine setting, or the PC's shared store folder)")
    parser.add_argument("--user", metavar="NAME", help=f"sign in as NAME; the password comes from ${ENV_PASSWORD} or a prompt")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for group in groups:
        group.register(sub)
    return parser


def run(argv: Sequence[str], *, parser: argparse.ArgumentParser | None = None, own_process: bool = False) -> int:
    """Run one command. ``own_process``: the command is the whole process (``mapping-tool ...``),
    so what it loads lives until it exits (see ``_common._loading_for_good``)."""
    from mapping_tool.logging_setup import setup_logging

    parser = parser or build_parser(argv)
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
