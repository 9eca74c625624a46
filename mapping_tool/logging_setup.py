"""Rotating log files in the platformdirs log folder; hard crashes recorded by faulthandler.

Log lines carry counts, ids of staff accounts and file names, never student data.
"""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
import platform
import sys

from mapping_tool import __version__
from mapping_tool.paths import log_dir

LOG_NAME = "mapping-tool.log"
_configured = False
_fault_file = None


def setup_logging(*, console: bool = False, level: int = logging.INFO) -> None:
    global _configured, _fault_file
    if _configured:
        return
    root = logging.getLogger()
    root.setLevel(level)
    folder = log_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            folder / LOG_NAME, maxBytes=1_000_000, backupCount=5, encoding="utf-8"
        )
        _fault_file = open(folder / "crash-trace.log", "a", encoding="utf-8")  # noqa: SIM115 - lives for the process
        faulthandler.enable(file=_fault_file)
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    if console and sys.stderr is not None:
        stream = logging.StreamHandler()
        stream.setLevel(logging.WARNING)
        root.addHandler(stream)
    for noisy in ("sqlalchemy", "alembic", "matplotlib", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True
    logging.getLogger("mapping_tool").info(
        "Student Mapping Tool %s on Python %s (%s), frozen=%s",
        __version__,
        platform.python_version(),
        platform.system(),
        getattr(sys, "frozen", False),
    )


def safe_traceback(exc: BaseException) -> str:
    """Where an unexpected error happened, without its message (which may quote data)."""
    import traceback

    frames = "".join(traceback.format_tb(exc.__traceback__))
    chain = []
    cause = exc.__cause__ or exc.__context__
    while cause is not None and len(chain) < 5:
        chain.append(type(cause).__name__)
        cause = cause.__cause__ or cause.__context__
    caused = f" (caused by {', '.join(chain)})" if chain else ""
    return f"{frames}{type(exc).__module__}.{type(exc).__name__}{caused}"
