"""Benchmark: cold start to the sign-in window, and sign-in (scrypt + opening the store) to the
main window. Not a test; prints figures for the README.

    .venv/bin/python benchmarks/startup.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import sys, time
from pathlib import Path
from mapping_tool.ui.app import make_app
from mapping_tool.ui.signin import SignInDialog
from PySide6.QtCore import QTimer
app = make_app()
dialog = SignInDialog(Path(sys.argv[1]))
dialog.show()
def shown():
    print(repr(time.time()), flush=True)
    app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""


def cold_start(store: Path, runs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    out = []
    for _ in range(runs):
        t0 = time.time()
        result = subprocess.run([sys.executable, "-c", CHILD, str(store)], env=env, capture_output=True, text=True, check=True)
        out.append(float(result.stdout.strip().splitlines()[-1]) - t0)
    return out


def sign_in_to_window(store: Path, password: str, runs: int) -> tuple[list[float], list[float]]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from mapping_tool.services import auth
    from mapping_tool.ui.app import make_app

    app = make_app()
    kdf, window_times = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        session = auth.sign_in(store, "custodian", password)
        t1 = time.perf_counter()
        from mapping_tool.ui.main_window import MainWindow

        window = MainWindow(session)
        window.show()
        app.processEvents()
        t2 = time.perf_counter()
        kdf.append(t1 - t0)
        window_times.append(t2 - t1)
        window.close()
    return kdf, window_times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--store", help="an existing store (default: a new demo store)")
    args = parser.parse_args()
    os.environ.setdefault("MAPPING_TOOL_LOG_DIR", tempfile.mkdtemp(prefix="smt-bench-logs-"))
    from mapping_tool.security.passwords import generate_password
    from mapping_tool.services import auth

    password = generate_password()
    if args.store:
        store = Path(args.store)
        password = os.environ["MAPPING_TOOL_PASSWORD"]
    else:
        store = Path(tempfile.mkdtemp(prefix="smt-bench-")) / "store"
        auth.init_store(store, auth.InitRequest("8123", "Bench School", "P", date.today(), "custodian", password, generate_password(6)))
    starts = cold_start(store, args.runs)
    kdf, window = sign_in_to_window(store, password, args.runs)
    med = statistics.median
    print(f"cold start to sign-in window: median {med(starts):.2f} s (min {min(starts):.2f}, max {max(starts):.2f}) over {args.runs} runs")
    print(f"sign-in (scrypt n=2^17 + open + checks): median {med(kdf):.2f} s")
    print(f"signed in to main window shown: median {med(window):.3f} s (first run {window[0]:.3f} s, imports included)")


if __name__ == "__main__":
    main()
