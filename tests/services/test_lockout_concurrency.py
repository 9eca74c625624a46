"""Issue 11, item 4: parallel wrong passwords cannot beat the lockout, each failure is audited,
and a deleted sign-in state after the first sign-in is reported to the data custodian."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path

import pytest

from mapping_tool.errors import AuthenticationError
from mapping_tool.services import auth
from mapping_tool.store import db
from mapping_tool.store.files import StoreFiles
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT, HGT_PASSWORD

GUESSES = 20  # threads; processes: fewer (each is a new interpreter), still more than the limit
PROCESSES = 9


def _guess(folder: str, start, results) -> None:  # type: ignore[no-untyped-def]
    start.wait(30)
    try:
        auth.sign_in(Path(folder), HGT, "wrong-password-guess-00")
    except AuthenticationError as exc:
        results.put(exc.message)
    except Exception as exc:  # noqa: BLE001 - reported to the parent test
        results.put(f"unexpected: {exc!r}")
    else:
        results.put("signed in")


def _audit_actions(folder: Path, key: bytes, actor: str) -> list[str]:
    conn = db.connect_raw(StoreFiles(folder).db, key)
    try:
        return [r[0] for r in conn.execute("SELECT action FROM audit_entry WHERE actor = ? ORDER BY id", (actor,))]
    finally:
        conn.close()


def _check(messages: list[str], folder: Path, store_key: bytes) -> None:
    guesses = len(messages)
    wrong = [m for m in messages if m == auth.WRONG_CREDENTIALS]
    locking = [m for m in messages if m.startswith("Too many failed sign-ins")]
    locked = [m for m in messages if m.startswith("This account is locked")]
    assert (len(wrong), len(locking), len(locked)) == (4, 1, guesses - 5), messages
    # the right password is refused too while the lockout lasts
    with pytest.raises(AuthenticationError, match="locked"):
        auth.sign_in(folder, HGT, HGT_PASSWORD)
    # every attempt reaches the audit log at the next sign-in (the custodian's)
    auth.sign_out(auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD))
    actions = _audit_actions(folder, store_key, HGT)
    assert actions.count("sign-in.failed") == 5
    assert actions.count("sign-in.locked-out") == 1
    assert actions.count("sign-in.refused-locked") == guesses - 5 + 1


def test_parallel_processes_cannot_beat_the_lockout(store_dir: Path, store_key: bytes) -> None:
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_guess, args=(str(store_dir), start, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    messages = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
    _check(messages, store_dir, store_key)


def test_parallel_threads_cannot_beat_the_lockout(store_dir: Path, store_key: bytes) -> None:
    import queue

    start, results = threading.Event(), queue.Queue()  # type: ignore[var-annotated]
    threads = [threading.Thread(target=_guess, args=(str(store_dir), start, results)) for _ in range(GUESSES)]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(120)
    _check([results.get_nowait() for _ in threads], store_dir, store_key)


def test_a_deleted_sign_in_state_is_reported_to_the_custodian(store_dir: Path, store_key: bytes) -> None:
    state = store_dir / "smt.signin"
    auth.sign_out(auth.sign_in(store_dir, HGT, HGT_PASSWORD))
    assert json.loads(state.read_text("utf-8"))["id"]
    # someone with write access to the folder deletes it (to reset a lockout): noticed next time
    state.unlink()
    teacher = auth.sign_in(store_dir, HGT, HGT_PASSWORD)
    assert teacher.notices == []  # the teacher is not told; the custodian is
    auth.sign_out(teacher)
    assert "sign-in.state-missing" in _audit_actions(store_dir, store_key, HGT)
    custodian = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert len(custodian.notices) == 1 and "smt.signin" in custodian.notices[0] and "deleted" in custodian.notices[0]
    auth.sign_out(custodian)
    again = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)  # told once
    assert again.notices == []
    auth.sign_out(again)
    # a file put back from elsewhere (another id) is reported as replaced
    state.write_text(json.dumps({"id": "0" * 32, "failures": {}, "locked_until": {}, "events": []}), "utf-8")
    auth.sign_out(auth.sign_in(store_dir, HGT, HGT_PASSWORD))
    custodian = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert len(custodian.notices) == 1 and "replaced" in custodian.notices[0]
    auth.sign_out(custodian)


def test_the_cli_tells_the_custodian(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool import cli

    auth.sign_out(auth.sign_in(store_dir, HGT, HGT_PASSWORD))
    (store_dir / "smt.signin").unlink()
    auth.sign_out(auth.sign_in(store_dir, HGT, HGT_PASSWORD))
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    assert cli.run(["--store", str(store_dir), "--user", CUSTODIAN, "user", "list"]) == 0
    err = capsys.readouterr().err
    assert "please check: The sign-in state file (smt.signin) was deleted" in err
