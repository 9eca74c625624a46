"""The headless surface: names and options are a contract; bad input is one line, non-zero, no change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mapping_tool import __version__, cli
from mapping_tool.cli import _common as cli_common
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    HGT,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    RECOVERY,
    file_hashes,
)

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        code = cli.run(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_init_then_sign_in_commands(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    store = tmp_path / "store"
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    monkeypatch.setenv("MAPPING_TOOL_RECOVERY_PASSPHRASE", RECOVERY)
    code, out, err = run(
        capsys, "--store", str(store), "init", "--school-number", "8123", "--school-name", "Example SC",
        "--principal", "Pat Principal", "--custodian", "cust", "--authorised-on", "30/01/2026",
    )
    assert code == 0, err
    assert "Created the store" in out
    monkeypatch.setenv("MAPPING_TOOL_NEW_PASSWORD", "harbour-pencil-orchid-77")
    code, out, err = run(capsys, "--store", str(store), "--user", "cust", "user", "add", "hg1",
                         "--role", "home-group-teacher", "--home-group", "07A", "--home-group", "07b")
    assert code == 0, err
    assert "07A, 07B" in out
    code, out, _ = run(capsys, "--store", str(store), "--user", "cust", "user", "list")
    assert code == 0 and "hg1" in out and "home-group-teacher" in out and "new pw" in out
    # the new user must change the password before anything else
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", "harbour-pencil-orchid-77")
    code, _, err = run(capsys, "--store", str(store), "--user", "hg1", "backup", "--out", str(tmp_path / "x"))
    assert code != 0 and "must set a new password" in err
    monkeypatch.setenv("MAPPING_TOOL_NEW_PASSWORD", "meadow-sparrow-tulip-52")
    code, out, err = run(capsys, "--store", str(store), "--user", "hg1", "password")
    assert code == 0 and "Password changed" in out, err


def test_user_disable_and_reset_password(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code, out, _ = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "user", "disable", HGT)
    assert code == 0 and "Disabled" in out
    monkeypatch.setenv("MAPPING_TOOL_NEW_PASSWORD", "harbour-pencil-orchid-77")
    code, _, err = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "user", "reset-password", HGT)
    assert code != 0 and "disabled" in err
    code, out, err = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "user", "reset-password", PRINCIPAL)
    assert code == 0, err
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", PRINCIPAL_PASSWORD)
    code, _, err = run(capsys, "--store", str(store_dir), "--user", PRINCIPAL, "user", "list")
    assert code != 0 and "not correct" in err


def test_backup_restore_and_key_commands(store_dir: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    out_file = tmp_path / "b.smtbackup"
    code, out, err = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "backup", "--out", str(out_file))
    assert code == 0 and out_file.exists(), err
    code, out, err = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "key", "show")
    assert code == 0 and len(out.strip()) == 64 and "audit log" in err
    code, out, err = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "key", "save-recovery", "--out", str(tmp_path / "r.smtkey"))
    assert code == 0 and (tmp_path / "r.smtkey").exists(), err
    code, out, err = run(capsys, "--store", str(tmp_path / "fresh"), "--user", CUSTODIAN, "restore", str(out_file))
    assert code == 0 and "Restored" in out, err
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", PRINCIPAL_PASSWORD)
    code, _, err = run(capsys, "--store", str(store_dir), "--user", PRINCIPAL, "key", "show")
    assert code == 4 and "custodian" in err


def test_keyring_absent_is_said_once_and_passwords_still_work(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.security import keyring_store

    monkeypatch.setattr(keyring_store, "_warned", False)
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "key", "remember")
    assert code != 0 and "No system keyring" in err
    monkeypatch.delenv("MAPPING_TOOL_PASSWORD")
    monkeypatch.setattr(cli_common, "_secret", lambda env, prompt, **kw: CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "settings", "show")
    assert code == 0 and "idle-lock-minutes: 15" in out
    assert err.count("No system keyring") == 1


@pytest.mark.parametrize(
    "argv, message",
    [
        (["init", "--school-number", "81a3", "--school-name", "S", "--principal", "P", "--custodian", "c"], "digits only"),
        (["--user", CUSTODIAN, "user", "add", "x", "--role", "janitor"], "Unknown role"),
        (["--user", CUSTODIAN, "user", "add", "x", "--role", "home-group-teacher"], "at least one home group"),
        (["--user", CUSTODIAN, "user", "disable", "nobody"], "no account called"),
        (["--user", CUSTODIAN, "settings", "set", "idle-lock-minutes", "0"], "between 1 and 60"),
        (["--user", CUSTODIAN, "restore", "/no/such/file.smtbackup"], "no backup file"),
        (["user", "list"], "--user NAME"),
        (["--user", CUSTODIAN, "backup"], "required"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_nonzero_and_changes_nothing(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch, argv, message) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    monkeypatch.setenv("MAPPING_TOOL_NEW_PASSWORD", "harbour-pencil-orchid-77")
    monkeypatch.setenv("MAPPING_TOOL_RECOVERY_PASSPHRASE", RECOVERY)
    before = file_hashes(store_dir)
    # audit entries are changes too: compare the database only for commands that never sign in
    code, out, err = run(capsys, "--store", str(store_dir), *argv)
    assert code != 0
    assert message in err
    assert len(err.strip().splitlines()) == 1
    after = file_hashes(store_dir)
    assert after.get("smt.keys") == before.get("smt.keys")


def test_no_password_and_no_terminal_is_a_clear_error(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115
    code, _, err = run(capsys, "--store", str(store_dir), "--user", CUSTODIAN, "user", "list")
    sys.stdin.close()
    assert code == 2 and "MAPPING_TOOL_PASSWORD" in err


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["init", "--help"], ["user", "add", "--help"], ["user", "list", "--help"], ["user", "disable", "--help"],
     ["user", "reset-password", "--help"], ["password", "--help"], ["backup", "--help"], ["restore", "--help"],
     ["key", "show", "--help"], ["key", "recover", "--help"], ["self-test", "--help"]],
)
def test_every_command_has_help(capsys, argv) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "usage: mapping-tool" in out


def test_python_dash_m_and_self_test_run_headless(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run([sys.executable, "-m", "mapping_tool", "self-test"], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("SELFTEST OK")
    result = subprocess.run([sys.executable, "-m", "mapping_tool", "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and f"mapping-tool {__version__}" in result.stdout
