"""A command starts the key derivation on another thread while the store's modules load: the
result is the same key, taken once, only for the same inputs; a wrong password is still wrong,
counted and locked out like any other."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from mapping_tool import cli
from mapping_tool.cli import _common as cli_common
from mapping_tool.security import keyslots
from mapping_tool.security.signin_state import SignInState
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, HGT, HGT_PASSWORD

SALT = bytes(range(16))
N = 2**10  # small: these tests are about which result is taken, not about scrypt


@pytest.fixture(autouse=True)
def _nothing_left_ahead():  # type: ignore[no-untyped-def]
    keyslots._AHEAD.clear()
    yield
    keyslots._AHEAD.clear()


def test_the_derivation_started_ahead_is_the_same_key_and_is_taken_once() -> None:
    direct = keyslots._scrypt("quiet harbour lamp", SALT, N, 8, 1)
    keyslots.derive_ahead("quiet harbour lamp", SALT, N, 8, 1)
    assert len(keyslots._AHEAD) == 1
    assert keyslots.derive_wrapping_key("quiet harbour lamp", SALT, N, 8, 1) == direct
    assert keyslots._AHEAD == {}  # taken: the next derivation computes again
    assert keyslots.derive_wrapping_key("quiet harbour lamp", SALT, N, 8, 1) == direct


def test_other_inputs_never_take_a_derivation_started_ahead() -> None:
    keyslots.derive_ahead("quiet harbour lamp", SALT, N, 8, 1)
    other = keyslots.derive_wrapping_key("quiet harbour lamb", SALT, N, 8, 1)
    assert other == keyslots._scrypt("quiet harbour lamb", SALT, N, 8, 1)
    assert other != keyslots._scrypt("quiet harbour lamp", SALT, N, 8, 1)
    assert keyslots.derive_wrapping_key("quiet harbour lamp", bytes(16), N, 8, 1) == keyslots._scrypt("quiet harbour lamp", bytes(16), N, 8, 1)
    assert len(keyslots._AHEAD) == 1  # still waiting for its own inputs
    assert not any(b"quiet" in ident for ident in keyslots._AHEAD)  # kept under a keyed digest only


def test_a_failed_derivation_reaches_the_one_who_takes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object) -> bytes:
        raise MemoryError("scrypt could not get its memory")

    monkeypatch.setattr(keyslots, "_scrypt", broken)
    keyslots.derive_ahead("quiet harbour lamp", SALT, N, 8, 1)
    with pytest.raises(MemoryError):
        keyslots.derive_wrapping_key("quiet harbour lamp", SALT, N, 8, 1)


def test_sign_in_ahead_starts_the_accounts_own_or_the_dummy_derivation(store_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[tuple[bytes, int]] = []
    monkeypatch.setattr(keyslots, "derive_ahead", lambda secret, salt, n=keyslots.SCRYPT_N, r=8, p=1: started.append((salt, n)))
    keys = store_dir / "smt.keys"
    keyslots.derive_for_sign_in_ahead(keys, CUSTODIAN, "anything")
    slot = keyslots.KeySlotFile.load(keys).user_slot(CUSTODIAN)
    assert slot is not None and started == [(slot.salt, slot.n)]
    keyslots.derive_for_sign_in_ahead(keys, "nobody-here", "anything")  # as long as a real attempt
    assert started[-1] == (keyslots.DUMMY_SALT, keyslots.SCRYPT_N)
    damaged = tmp_path / "smt.keys"
    damaged.write_text("{not json", "utf-8")
    keyslots.derive_for_sign_in_ahead(damaged, CUSTODIAN, "anything")  # the sign-in reports it
    keyslots.derive_for_sign_in_ahead(tmp_path / "missing.keys", CUSTODIAN, "anything")
    assert len(started) == 2


def test_wrong_passwords_through_the_command_line_are_counted_and_locked_out(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", "not-the-password-at-all")
    for attempt in range(1, 6):
        assert cli.run(["--store", str(store_dir), "--user", HGT, "user", "list"]) != 0
        err = capsys.readouterr().err
        assert keyslots._AHEAD == {}  # taken by the attempt, or dropped when it was refused
        if attempt < 5:
            assert "not correct" in err
            assert SignInState.load(store_dir).failures.get(HGT.casefold()) == attempt
    assert "locked" in err
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", HGT_PASSWORD)  # the right one, while locked out
    assert cli.run(["--store", str(store_dir), "--user", HGT, "user", "list"]) != 0
    assert "locked" in capsys.readouterr().err
    assert keyslots._AHEAD == {}  # refused before deriving: the key derived ahead was dropped
    for thread in threading.enumerate():
        if thread.name == "key-derivation":
            thread.join(10)


def test_a_command_inside_another_program_leaves_its_garbage_collector_alone(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    frozen = gc.get_freeze_count()
    assert cli.run(["--store", str(store_dir), "--user", CUSTODIAN, "user", "list"]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_a_command_that_is_its_own_process_pauses_the_collector_only_while_signing_in(store_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    args = argparse.Namespace(own_process=True)
    seen: list[bool] = []
    try:
        with pytest.raises(RuntimeError), cli_common._loading_for_good(args):
            seen.append(gc.isenabled())
            raise RuntimeError("a wrong password, say")
        assert seen == [False] and gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    with cli_common._loading_for_good(argparse.Namespace()):
        assert gc.isenabled()


def test_the_command_as_a_process_signs_in_and_answers(store_dir: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "MAPPING_TOOL_PASSWORD": CUSTODIAN_PASSWORD}
    done = subprocess.run([sys.executable, "-m", "mapping_tool", "--store", str(store_dir), "--user", CUSTODIAN, "user", "list"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert CUSTODIAN in done.stdout and HGT in done.stdout
    env["MAPPING_TOOL_PASSWORD"] = "not-the-password-at-all"
    done = subprocess.run([sys.executable, "-m", "mapping_tool", "--store", str(store_dir), "--user", CUSTODIAN, "user", "list"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "not correct" in done.stderr and done.stderr.count("\n") == 1
