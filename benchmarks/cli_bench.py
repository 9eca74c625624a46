"""Benchmark: a small command that signs in (``mapping-tool --user NAME user list``), timed from
the outside as a whole process, as a script or a technician runs it. Not a test.

    .venv/bin/python benchmarks/cli_bench.py [--runs 7] [--other-tree DIR]

``--other-tree`` names another checkout of the tool (an earlier commit, e.g. made with
``git worktree add DIR COMMIT``): its runs alternate with this tree's, so that both see the same
machine load, and both medians are printed. The store is made once, by this tree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# the same store set-up, password, bytecode folder and CPU count as the import benchmark
from import_bench import INIT, PASSWORD, PYCACHE, _children_cpu

ROOT = Path(__file__).resolve().parents[1]


def _env(tree: Path, logs: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONPYCACHEPREFIX": str(PYCACHE),
           "MAPPING_TOOL_PASSWORD": PASSWORD, "MAPPING_TOOL_LOG_DIR": logs}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(tree: Path, store: Path, logs: str, work: Path) -> tuple[float, float]:
    cpu0, t0 = _children_cpu(), time.perf_counter()
    # run from a neutral folder: ``-m`` puts the current folder first on the path
    done = subprocess.run([sys.executable, "-m", "mapping_tool", "--store", str(store), "--user", "custodian", "user", "list"],
                          env=_env(tree, logs), cwd=work, capture_output=True, text=True)
    seconds, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if done.returncode or "custodian" not in done.stdout:
        raise SystemExit(done.stderr or done.stdout)
    return seconds, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--other-tree", help="another checkout to alternate with (an earlier commit)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="smt-cli-bench-"))
    logs = str(work / "logs")
    store = work / "store"
    subprocess.run([sys.executable, "-c", INIT, str(store), PASSWORD], env=_env(ROOT, logs), cwd=work, check=True)
    trees = {"this tree": ROOT}
    if args.other_tree:
        trees["other tree"] = Path(args.other_tree).resolve()
    for tree in trees.values():
        timed(tree, store, logs, work)  # compiles the bytecode once, like installing the app
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in trees.items():
            results[name].append(timed(tree, store, logs, work))
    print(f"machine: {os.cpu_count()} CPUs, load average now {os.getloadavg()[0]:.2f}")
    for name, runs in results.items():
        walls = sorted(w for w, _ in runs)
        print(f"  {name} ({trees[name]}): `user list` wall {statistics.median(walls):.2f} s median of {args.runs} "
              f"({', '.join(f'{w:.2f}' for w in walls)}), CPU {statistics.median(c for _, c in runs):.2f} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
