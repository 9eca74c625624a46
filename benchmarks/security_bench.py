"""Issue 11 hardening figures: what the sign-in lock costs, what 20 parallel wrong passwords
achieve, and how fast a key file with absurd KDF parameters is refused.

    PYTHONPATH=. python benchmarks/security_bench.py

Makes a throwaway store in a temp folder (its own settings and log folders); prints one line per
figure.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    base = Path(tempfile.mkdtemp(prefix="smt-security-bench-"))
    os.environ["MAPPING_TOOL_SETTINGS_DIR"] = str(base / "settings")
    os.environ["MAPPING_TOOL_LOG_DIR"] = str(base / "logs")
    from mapping_tool.errors import AuthenticationError, KnownError
    from mapping_tool.security.roles import Role
    from mapping_tool.services import accounts, auth

    try:
        folder = base / "store"
        password, teacher_pw = "tangerine-orbit-lantern-57", "marble-canyon-whistle-88"
        auth.init_store(folder, auth.InitRequest(
            school_number="8123", school_name="Bench SC", principal_name="P", authorised_on=date(2026, 1, 30),
            custodian_username="custodian", custodian_password=password,
            recovery_passphrase="velvet harbour quietly juggles seven comets",
        ))
        user = auth.sign_in(folder, "custodian", password)
        accounts.add_user(user, "teacher", Role.HOME_GROUP_TEACHER, teacher_pw, home_groups=["07A"])
        auth.sign_out(user)

        times = []
        for _ in range(5):
            started = time.perf_counter()
            auth.sign_out(auth.sign_in(folder, "custodian", password))
            times.append(time.perf_counter() - started)
        print(f"sign-in + sign-out (scrypt n=2^17 and the sign-in lock), median of 5: {statistics.median(times):.2f} s")

        results: list[str] = []
        start = threading.Event()

        def guess() -> None:
            start.wait()
            try:
                auth.sign_in(folder, "teacher", "wrong-guess-000")
            except AuthenticationError as exc:
                results.append(exc.message.split(":")[0].split(".")[0])

        threads = [threading.Thread(target=guess) for _ in range(20)]
        for t in threads:
            t.start()
        started = time.perf_counter()
        start.set()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        counts = {m: results.count(m) for m in sorted(set(results))}
        print(f"20 parallel wrong passwords in {wall:.1f} s: {counts}")

        keys = folder / "smt.keys"
        saved = keys.read_bytes()
        data = json.loads(saved)
        slot = next(s for s in data["slots"] if s["label"] == "custodian")
        slot["kdf"].update(n=2**40, r=2**20)
        keys.write_text(json.dumps(data))
        started = time.perf_counter()
        try:
            auth.sign_in(folder, "custodian", password)
        except KnownError as exc:
            message = exc.message
        print(f"key slot with n=2^40, r=2^20 refused in {1000 * (time.perf_counter() - started):.1f} ms: {message[:60]}…")
        keys.write_bytes(saved)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
