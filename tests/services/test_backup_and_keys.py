"""Backups carry the key file; restore checks before it replaces; the key is a standard SQLCipher
4 raw key; the recovery slot rebuilds a lost key file; older stores are upgraded after a backup."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import select

from mapping_tool.errors import (
    AuthenticationError,
    PermissionDenied,
    StoreError,
    StoreLocked,
    UsageError,
)
from mapping_tool.security.roles import Role
from mapping_tool.services import accounts, auth, backup
from mapping_tool.store import migrate
from mapping_tool.store.files import InstanceLock, StoreFiles
from mapping_tool.store.models import Account, AuditEntry
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    RECOVERY,
    file_hashes,
)


def _audit(user) -> list[str]:  # type: ignore[no-untyped-def]
    with user.store.read() as s:
        return [e.action for e in s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_raw_key_opens_the_file_with_plain_sqlcipher(custodian, store_dir: Path) -> None:  # type: ignore[no-untyped-def]
    key_hex = backup.show_key(custodian, CUSTODIAN_PASSWORD)
    assert len(key_hex) == 64
    assert "key.shown" in _audit(custodian)
    conn = sqlcipher.connect(str(store_dir / "smt.db"))
    conn.execute(f"PRAGMA key = \"x'{key_hex}'\"")
    assert conn.execute("SELECT school_name FROM school").fetchone()[0] == "Example Secondary College"
    conn.close()
    assert not (store_dir / "smt.db").read_bytes().startswith(b"SQLite format 3")


def test_key_show_needs_the_password_and_the_custodian(custodian, store_dir: Path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(AuthenticationError):
        backup.show_key(custodian, "wrong-password-here-1")
    principal = auth.sign_in(store_dir, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            backup.show_key(principal, PRINCIPAL_PASSWORD)
    finally:
        auth.sign_out(principal)


def test_backup_while_open_then_restore_round_trip(custodian, store_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "term3.smtbackup"
    result = backup.backup(custodian, out)
    assert result.path == out and out.exists()
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["manifest.json", "smt.db", "smt.keys"]
    assert "backup.created" in _audit(custodian)
    accounts.add_user(custodian, "after", Role.WELFARE, "harbour-pencil-orchid-77")
    auth.sign_out(custodian)

    actor = backup.restore(store_dir, out, backup.RestoreCredentials(CUSTODIAN, CUSTODIAN_PASSWORD))
    assert actor == CUSTODIAN
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        with user.store.read() as s:
            names = set(s.execute(select(Account.username)).scalars())
        assert "after" not in names  # the restored store is the one backed up
        assert "backup.restored" in _audit(user)
    finally:
        auth.sign_out(user)
    assert list((store_dir / "backups").glob("replaced-*/smt.db"))


def test_restore_with_the_recovery_passphrase_into_an_empty_folder(custodian, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "b.smtbackup"
    backup.backup(custodian, out)
    target = tmp_path / "new-pc"
    backup.restore(target, out, backup.RestoreCredentials(recovery_passphrase=RECOVERY))
    user = auth.sign_in(target, CUSTODIAN, CUSTODIAN_PASSWORD)
    auth.sign_out(user)


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04garbage"])
def test_restoring_garbage_is_refused_and_changes_nothing(store_dir: Path, tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.smtbackup"
    bad.write_bytes(content)
    before = file_hashes(store_dir)
    with pytest.raises(UsageError, match="not a Student Mapping Tool backup"):
        backup.restore(store_dir, bad, backup.RestoreCredentials(CUSTODIAN, CUSTODIAN_PASSWORD))
    assert file_hashes(store_dir) == before


def test_restoring_a_tampered_or_truncated_backup_is_refused(custodian, store_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = tmp_path / "good.smtbackup"
    backup.backup(custodian, good)
    auth.sign_out(custodian)
    truncated = tmp_path / "truncated.smtbackup"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    tampered = tmp_path / "tampered.smtbackup"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(tampered, "w") as dst:
        for name in src.namelist():
            data = bytearray(src.read(name))
            if name == "smt.db":
                data[5000:5010] = b"\x00" * 10
            dst.writestr(name, bytes(data))
    before = file_hashes(store_dir)
    for bad in (truncated, tampered):
        with pytest.raises(UsageError):
            backup.restore(store_dir, bad, backup.RestoreCredentials(CUSTODIAN, CUSTODIAN_PASSWORD))
    assert file_hashes(store_dir) == before


def test_restore_refuses_a_wrong_password_a_non_custodian_and_an_open_app(custodian, store_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "b.smtbackup"
    backup.backup(custodian, out)
    auth.sign_out(custodian)
    before = file_hashes(store_dir)
    with pytest.raises(AuthenticationError):
        backup.restore(store_dir, out, backup.RestoreCredentials(CUSTODIAN, "wrong-password-here-1"))
    with pytest.raises(AuthenticationError, match="custodian"):
        backup.restore(store_dir, out, backup.RestoreCredentials(PRINCIPAL, PRINCIPAL_PASSWORD))
    lock = InstanceLock(StoreFiles(store_dir))
    lock.acquire()
    try:
        with pytest.raises(StoreLocked, match="already open"):
            backup.restore(store_dir, out, backup.RestoreCredentials(CUSTODIAN, CUSTODIAN_PASSWORD))
    finally:
        lock.release()
    assert file_hashes(store_dir) == before


def test_lost_key_file_is_rebuilt_from_the_saved_recovery_slot(custodian, store_dir: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    saved = backup.save_recovery_slot(custodian, tmp_path / "recovery.smtkey")
    data = json.loads(saved.read_text())
    assert [s["kind"] for s in data["slots"]] == ["recovery"]
    auth.sign_out(custodian)
    (store_dir / "smt.keys").unlink()
    with pytest.raises(AuthenticationError):
        backup.recover_key_file(store_dir, saved, "wrong passphrase entirely here", CUSTODIAN, "new-custodian-pass-42")
    assert not (store_dir / "smt.keys").exists()
    backup.recover_key_file(store_dir, saved, RECOVERY, CUSTODIAN, "meadow-sparrow-tulip-52")
    user = auth.sign_in(store_dir, CUSTODIAN, "meadow-sparrow-tulip-52")
    assert "key.recovered" in _audit(user)
    auth.sign_out(user)
    with pytest.raises(AuthenticationError):  # other staff need a reset
        auth.sign_in(store_dir, PRINCIPAL, PRINCIPAL_PASSWORD)


def test_an_older_store_is_backed_up_then_upgraded(store_dir: Path, store_key: bytes) -> None:
    from alembic import command

    from mapping_tool.store import db

    engine = db.create_store_engine(store_dir / "smt.db", store_key)
    with engine.connect() as conn:
        command.downgrade(migrate.alembic_config(conn), "0001")
        conn.commit()
    db.run_outside_transaction(engine, "PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert migrate.current_revision(user.store.engine) == migrate.SCHEMA_HEAD
        assert "store.upgraded" in _audit(user)
    finally:
        auth.sign_out(user)
    backups = list((store_dir / "backups").glob("pre-upgrade-0001-*.smtbackup"))
    assert len(backups) == 1
    with zipfile.ZipFile(backups[0]) as zf:
        assert not zf.read("smt.db").startswith(b"SQLite format 3")


def test_a_store_from_a_newer_version_is_refused(store_dir: Path, store_key: bytes) -> None:
    conn = sqlcipher.connect(str(store_dir / "smt.db"))
    conn.execute(f"PRAGMA key = \"x'{store_key.hex()}'\"")
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.commit()
    conn.close()
    before = file_hashes(store_dir)
    with pytest.raises(StoreError, match="newer version"):
        auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert file_hashes(store_dir) == before


def test_schema_head_matches_alembic() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    assert script.get_current_head() == migrate.SCHEMA_HEAD
    assert {r.revision for r in script.walk_revisions()} == set(migrate.KNOWN_REVISIONS)
