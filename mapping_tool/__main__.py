"""Entry points: ``mapping-tool`` (the window with no command; headless commands otherwise),
``mapping-tool-gui`` (the window, no console on Windows) and ``python -m mapping_tool``."""

from __future__ import annotations

import sys


def _wants_gui(argv: list[str]) -> bool:
    from mapping_tool.cli import build_parser

    if any(a in ("-h", "--help", "--version") for a in argv):
        return False
    args, _ = build_parser().parse_known_args(argv)
    return getattr(args, "command", None) is None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if _wants_gui(argv):
        return gui_main(argv)
    from mapping_tool.cli import run

    return run(argv)


def gui_main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from mapping_tool.ui.app import run_app

    return run_app(argv)


if __name__ == "__main__":
    sys.exit(main())
