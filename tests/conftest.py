"""Shared fixtures: every test gets its own temp data, log and settings folders, no keyring, and
(when it asks) a fresh copy of a template store made once per session with real key derivation.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"

from tests.support import (  # noqa: E402
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    HGT,
    HGT_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    RECOVERY,
    SCHOOL_NUMBER,
    WELFARE,
    WELFARE_PASSWORD,
    YLC,
    YLC_PASSWORD,
)


def _point_env_at(base: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name, sub in (
        ("MAPPING_TOOL_LOG_DIR", "logs"),
        ("MAPPING_TOOL_SETTINGS_DIR", "settings"),
        ("MAPPING_TOOL_STORE", "default-store"),
        ("MAPPING_TOOL_MACHINE_DIR", "machine"),
        ("MAPPING_TOOL_USER_DATA_DIR", "user-data"),
    ):
        monkeypatch.setenv(name, str(base / sub))
    for name in ("MAPPING_TOOL_PASSWORD", "MAPPING_TOOL_NEW_PASSWORD", "MAPPING_TOOL_RECOVERY_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)
    return base


@pytest.fixture(autouse=True, scope="session")
def _session_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Session fixtures (the template store, a school built once) never touch the real profile."""
    with pytest.MonkeyPatch.context() as mp:
        yield _point_env_at(tmp_path_factory.mktemp("session-env"), mp)


@pytest.fixture(autouse=True, scope="module")
def _module_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A module's own fixtures (a school prepared once per module) get their own settings, so
    that the audit witness one module's copy of the template leaves is never compared with
    another module's copy (the copies share a store id, and diverge)."""
    with pytest.MonkeyPatch.context() as mp:
        yield _point_env_at(tmp_path_factory.mktemp("module-env"), mp)


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    return _point_env_at(tmp_path_factory.mktemp("env"), monkeypatch)


def _make_template(folder: Path) -> None:
    from mapping_tool.security.roles import Role
    from mapping_tool.services import accounts, auth

    auth.init_store(
        folder,
        auth.InitRequest(
            school_number=SCHOOL_NUMBER,
            school_name="Example Secondary College",
            principal_name="Pat Principal",
            authorised_on=date(2026, 1, 30),
            custodian_username=CUSTODIAN,
            custodian_password=CUSTODIAN_PASSWORD,
            recovery_passphrase=RECOVERY,
            custodian_display_name="Casey Custodian",
            custodian_position="Assistant Principal",
        ),
    )
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        accounts.add_user(user, PRINCIPAL, Role.PRINCIPAL, PRINCIPAL_PASSWORD, display_name="Pat Principal")
        accounts.add_user(user, WELFARE, Role.WELFARE, WELFARE_PASSWORD, display_name="Wren Welfare")
        accounts.add_user(
            user, HGT, Role.HOME_GROUP_TEACHER, HGT_PASSWORD, display_name="Harper Teacher", home_groups=["07A"]
        )
        accounts.add_user(
            user, YLC, Role.YEAR_LEVEL_COORDINATOR, YLC_PASSWORD, display_name="Yael Coordinator", year_levels=["07"]
        )
    finally:
        auth.sign_out(user)
    # The template's accounts have chosen their passwords already (tests of the forced change
    # make their own accounts).
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    files = StoreFiles(folder)
    key = _key_of(folder)
    conn = db.connect_raw(files.db, key)
    conn.execute("UPDATE account SET must_change_password = 0")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def _key_of(folder: Path) -> bytes:
    from mapping_tool.security.keyslots import KeySlotFile
    from mapping_tool.store.files import StoreFiles

    keyfile = KeySlotFile.load(StoreFiles(folder).keys)
    key = keyfile.user_slot(CUSTODIAN).unwrap(CUSTODIAN_PASSWORD, keyfile.store_id)  # type: ignore[union-attr]
    assert key is not None
    return key


@pytest.fixture(scope="session")
def template_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("template") / "store"
    old = {k: os.environ.get(k) for k in ("MAPPING_TOOL_LOG_DIR", "MAPPING_TOOL_SETTINGS_DIR")}
    os.environ["MAPPING_TOOL_LOG_DIR"] = str(tmp_path_factory.mktemp("template-logs"))
    os.environ["MAPPING_TOOL_SETTINGS_DIR"] = str(tmp_path_factory.mktemp("template-settings"))
    try:
        _make_template(folder)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return folder


@pytest.fixture(scope="session")
def store_key(template_store: Path) -> bytes:
    return _key_of(template_store)


@pytest.fixture
def store_dir(template_store: Path, tmp_path: Path) -> Path:
    """A fresh copy of the template store for this test."""
    target = tmp_path / "store"
    shutil.copytree(template_store, target)
    return target


@pytest.fixture
def custodian(store_dir: Path):  # type: ignore[no-untyped-def]
    from mapping_tool.services import auth

    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    yield user
    auth.sign_out(user)


@pytest.fixture
def sync_runner(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Run UI background jobs inline (delivered on the next event-loop turn)."""
    from mapping_tool.ui import worker

    runner = worker.SyncRunner()
    monkeypatch.setattr(worker, "runner", runner)
    return runner
