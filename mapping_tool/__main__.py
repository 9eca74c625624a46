"""Entry points: ``mapping-tool`` (the window with no command; headless commands otherwise),
``mapping-tool-gui`` (the window, no console on Windows) and ``python -m mapping_tool``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def _wants_gui(argv: list[str], parser: argparse.ArgumentParser) -> bool:
    if any(a in ("-h", "--help", "--version") for a in argv):
        return False
    args, _ = parser.parse_known_args(argv)
    return getattr(args, "command", None) is None


def main(argv: list[str] | None = None) -> int:
    from mapping_tool.cli import build_parser, run

    own_process = argv is None  # the command line of this process, not a caller in another program
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)  # once: the named command's group (or every group) registers
    if _wants_gui(argv, parser):
        return gui_main(argv)
    code = run(argv, parser=parser, own_process=own_process)
    if own_process:
        from mapping_tool.cli._common import spare_the_last_collection

        spare_the_last_collection()
    return code


def gui_main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from mapping_tool.ui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
