"""Backups, restore, the recovery slot and the raw key.

A backup is one file (a zip, stored uncompressed) holding a consistent encrypted copy of the
database made with ``VACUUM INTO`` while the app may be open, the key-slot file, and a manifest.
The copy is written to a temp name, fsynced, reopened and checked (integrity_check and
cipher_integrity_check) before it is renamed into place, so an interrupted backup never replaces
a good one. Restore checks the same things before it replaces anything, and keeps the replaced
store in ``backups/``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from mapping_tool import __version__
from mapping_tool.errors import AuthenticationError, KeyFileError, StoreError, UsageError
from mapping_tool.security.keyslots import KeySlotFile
from mapping_tool.security.roles import Role
from mapping_tool.services.context import OpenStore, UserSession
from mapping_tool.services.outputs import atomic_output, check_output_path
from mapping_tool.store import db, migrate
from mapping_tool.store.files import DB_NAME, KEYS_NAME, InstanceLock, StoreFiles

logger = logging.getLogger(__name__)

MANIFEST = "manifest.json"
BACKUP_FORMAT = "student-mapping-tool/backup"
MAX_BACKUP_BYTES = 20 * 1024**3


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size: int
    sha256: str


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _vacuum_copy(engine: Engine, target: Path) -> None:
    db.run_outside_transaction(engine, "VACUUM INTO ?", (str(target),))
    db.fsync_file(target)


def _check_copy(path: Path, key: bytes) -> None:
    conn = db.connect_raw(path, key)
    try:
        problems = db.integrity_problems(conn)
        conn.execute("PRAGMA journal_mode = DELETE")
    finally:
        conn.close()
    if problems:
        raise StoreError("The backup copy failed its integrity check, so it was not kept. Try again.")


def _last_entry(copy: Path, key: bytes) -> tuple[int, str] | None:
    conn = db.connect_raw(copy, key)
    try:
        row = conn.execute("SELECT id, hash FROM audit_entry ORDER BY id DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    return (int(row[0]), str(row[1])) if row else None


def _write_backup(
    engine: Engine, key: bytes, files: StoreFiles, out: Path, *, replace: bool = False, anchor_for=None  # type: ignore[no-untyped-def]
) -> BackupResult:
    out = check_output_path(out, store_folder=files.folder, replace=replace)
    work = Path(tempfile.mkdtemp(prefix=".smt-backup-", dir=out.parent))
    try:
        copy = work / DB_NAME
        _vacuum_copy(engine, copy)
        last = _last_entry(copy, key)
        _check_copy(copy, key)
        for sidecar in (work / (DB_NAME + "-wal"), work / (DB_NAME + "-shm")):
            sidecar.unlink(missing_ok=True)
        keyfile = KeySlotFile.load(files.keys)
        manifest = {
            "format": BACKUP_FORMAT,
            "version": 1,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "store_id": keyfile.store_id,
            "schema": migrate.SCHEMA_HEAD,
            "app_version": __version__,
            "db_sha256": _sha256(copy),
            "db_size": copy.stat().st_size,
        }
        if anchor_for is not None and last is not None:
            manifest["anchor"] = anchor_for(*last)  # a witness of the audit log's end at this time
        tmp_zip = work / "backup.zip"
        with zipfile.ZipFile(tmp_zip, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1))
            zf.writestr(KEYS_NAME, json.dumps(keyfile.to_json(), indent=1))
            zf.write(copy, DB_NAME)
        db.fsync_file(tmp_zip)
        with atomic_output(out, store_folder=files.folder, replace=replace) as tmp_out:
            os.replace(tmp_zip, tmp_out)
    except OSError as exc:
        raise StoreError(f"The backup could not be written to {out.parent}: {exc.strerror or exc}.") from exc
    except Exception as exc:
        if db.is_database_error(exc):
            raise db.translate_error(exc, out) from exc
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupResult(out, out.stat().st_size, _sha256(out))


def backup(user: UserSession, out: Path, *, replace: bool = False, manifest: bool = True) -> BackupResult:
    """A consistent encrypted copy, with the key file, while the app may be open. Its manifest
    (whose records it holds) is kept in the store (``manifest=False``: the caller records it)."""
    user.require(Role.CUSTODIAN)
    store = user.store
    result = _write_backup(
        store.engine, store.master_key_for_custodian(user), store.files, out, replace=replace, anchor_for=store.anchor_for
    )
    with store.write() as session:
        store.audit(
            session,
            user.username,
            "backup.created",
            object_type="backup",
            object_id=result.path.name,
            detail={"path": str(result.path), "size": result.size, "sha256": result.sha256},
        )
    if manifest:
        from mapping_tool.services.records_backup import record_manifest

        record_manifest(user, result, kind="manual", checked=True)
    logger.info("backup written (%d bytes)", result.size)
    return result


def pre_upgrade_backup(files: StoreFiles, engine: Engine, key: bytes, revision: str) -> Path:
    """Before a schema upgrade: an encrypted copy with the key file in backups/."""
    files.backups.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = files.backups / f"pre-upgrade-{revision}-{stamp}.smtbackup"
    work = Path(tempfile.mkdtemp(prefix=".smt-upgrade-", dir=files.backups))
    try:
        copy = work / DB_NAME
        _vacuum_copy(engine, copy)
        _check_copy(copy, key)
        with zipfile.ZipFile(work / "b.zip", "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(MANIFEST, json.dumps({"format": BACKUP_FORMAT, "version": 1, "schema": revision}))
            zf.write(files.keys, KEYS_NAME)
            zf.write(copy, DB_NAME)
        db.fsync_file(work / "b.zip")
        os.replace(work / "b.zip", target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    logger.info("pre-upgrade backup written for schema %s", revision)
    return target


def backup_anchor(store: OpenStore, path: Path):  # type: ignore[no-untyped-def]
    """The audit anchor a backup of this store carries, as a witness for ``audit verify``."""
    from mapping_tool.services.witness import Witness

    if not path.is_file() or not zipfile.is_zipfile(path):
        raise UsageError(f"{path.name} is not a Student Mapping Tool backup.")
    try:
        with zipfile.ZipFile(path) as zf:
            manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path.name} is not a Student Mapping Tool backup.") from exc
    if manifest.get("format") != BACKUP_FORMAT:
        raise UsageError(f"{path.name} is not a Student Mapping Tool backup.")
    if store.school is None or manifest.get("store_id") != store.school.store_id:
        raise UsageError(f"{path.name} is a backup of another store.")
    anchor = manifest.get("anchor")
    if anchor is None:
        raise UsageError(f"{path.name} carries no audit anchor (it was made by an older version).")
    if not store.anchor_valid(anchor):
        raise UsageError(f"The audit anchor in {path.name} was altered.")
    return Witness(f"the backup {path.name} recorded", int(anchor["last_id"]), str(anchor["last_hash"]))


def _check_backup_anchor(manifest: dict, keyfile: KeySlotFile, copy: Path, key: bytes, name: str) -> None:  # type: ignore[type-arg]
    """A backup's audit log must reach the anchor it was saved with (older backups have none)."""
    from mapping_tool.security import audit_chain
    from mapping_tool.services.context import anchor_mac

    anchor = manifest.get("anchor")
    if anchor is None:
        return
    import hmac

    altered = f"{name} is damaged: its audit log does not reach the anchor it was saved with."
    try:
        last_id, last_hash = int(anchor["last_id"]), str(anchor["last_hash"])
        expected = anchor_mac(audit_chain.derive_audit_key(key, b"audit-anchor-v1"), keyfile.store_id, last_id, last_hash)
        ok = hmac.compare_digest(str(anchor["mac"]), expected)
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise UsageError(altered)
    conn = db.connect_raw(copy, key)
    try:
        row = conn.execute("SELECT hash FROM audit_entry WHERE id = ?", (last_id,)).fetchone()
    finally:
        conn.close()
    if row is None or row[0] != last_hash:
        raise UsageError(altered)


# -- restore ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestoreCredentials:
    username: str | None = None
    password: str | None = None
    recovery_passphrase: str | None = None


def _read_backup(path: Path, work: Path) -> tuple[dict, KeySlotFile, Path]:  # type: ignore[type-arg]
    bad = f"{path.name} is not a Student Mapping Tool backup, or it is damaged."
    if not path.is_file():
        raise UsageError(f"There is no backup file at {path}.")
    if not zipfile.is_zipfile(path):
        raise UsageError(bad)
    try:
        with zipfile.ZipFile(path) as zf:
            names = sorted(zf.namelist())
            if names != sorted([MANIFEST, KEYS_NAME, DB_NAME]):
                raise UsageError(bad)
            infos = {i.filename: i for i in zf.infolist()}
            if sum(i.file_size for i in infos.values()) > MAX_BACKUP_BYTES:
                raise UsageError(bad)
            manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
            if manifest.get("format") != BACKUP_FORMAT:
                raise UsageError(bad)
            keyfile = KeySlotFile.from_json(json.loads(zf.read(KEYS_NAME).decode("utf-8")), source=path.name)
            target = work / DB_NAME
            with zf.open(DB_NAME) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(bad) from exc
    if manifest.get("db_sha256") and _sha256(target) != manifest["db_sha256"]:
        raise UsageError(f"{path.name} is damaged: its database does not match its checksum.")
    return manifest, keyfile, target


def restore(folder: Path, backup_file: Path, creds: RestoreCredentials) -> str:
    """Replace the store in ``folder`` with the backup, after checking the backup opens and is
    intact. The replaced files are kept in backups/. Returns the user who restored."""
    from mapping_tool.paths import check_store_location

    check_store_location(folder)
    files = StoreFiles(folder)
    lock = InstanceLock(files) if folder.exists() else None
    if lock is not None:
        lock.acquire()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".smt-restore-", dir=folder))
        try:
            manifest, keyfile, copy = _read_backup(backup_file, work)
            if creds.recovery_passphrase is not None:
                slot, actor = keyfile.recovery_slot(), "recovery"
                secret = creds.recovery_passphrase
                failure = "The recovery passphrase does not open this backup."
            else:
                slot, actor = keyfile.user_slot(creds.username or ""), (creds.username or "")
                secret = creds.password or ""
                failure = "The user name or password does not open this backup."
            key = slot.unwrap(secret, keyfile.store_id) if slot else None
            if key is None:
                raise AuthenticationError(failure)
            if creds.recovery_passphrase is None and actor and not _is_custodian(copy, key, actor):
                raise AuthenticationError("Only the data custodian may restore a backup.")
            _check_copy(copy, key)
            _check_backup_anchor(manifest, keyfile, copy, key, backup_file.name)
            if files.keys.exists():
                try:
                    current = KeySlotFile.load(files.keys)
                except KeyFileError:
                    current = None
                if current is not None and current.store_id != keyfile.store_id:
                    raise UsageError(
                        "This backup belongs to a different store (another school or set-up). "
                        "Restore it into an empty folder with --store."
                    )
            _swap_in(files, copy, keyfile)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    finally:
        if lock is not None:
            lock.release()
    from mapping_tool.services import witness

    # A restore rolls the audit log back on purpose: this PC's witnesses of the later log are
    # kept in the restore's own entry, then start again from the restored log.
    replaced_witnesses = witness.reset(keyfile.store_id)
    store = OpenStore(files, db.create_store_engine(files.db, key), key)
    try:
        with store.write() as session:
            from mapping_tool.services.context import load_school

            store.school = load_school(session)
            store.audit(
                session,
                actor,
                "backup.restored",
                object_type="backup",
                object_id=backup_file.name,
                detail={"backup_created": manifest.get("created", ""), "schema": manifest.get("schema", ""),
                        "witnesses_before": replaced_witnesses},
            )
    finally:
        store.close()
    logger.info("backup restored")
    return actor


def _is_custodian(copy: Path, key: bytes, username: str) -> bool:
    conn = db.connect_raw(copy, key)
    try:
        row = conn.execute("SELECT role, active FROM account WHERE username = ?", (username,)).fetchone()
    finally:
        conn.close()
    return bool(row and row[0] == Role.CUSTODIAN.value and row[1])


def _swap_in(files: StoreFiles, copy: Path, keyfile: KeySlotFile) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    keep = files.backups / f"replaced-{stamp}"
    existing = [p for p in (files.db, files.keys, files.anchor, *files.sidecars()) if p.exists()]
    if existing:
        keep.mkdir(parents=True, exist_ok=True)
        for path in existing:
            os.replace(path, keep / path.name)
    os.replace(copy, files.db)
    keyfile.save(files.keys)


# -- keys ------------------------------------------------------------------------------------


def show_key(user: UserSession, password: str) -> str:
    """The raw key as hex, for escrow. Re-authenticates and is audit-logged."""
    user.require(Role.CUSTODIAN)
    from mapping_tool.services.auth import verify_password

    if not verify_password(user, password):
        raise AuthenticationError("The password is not correct.")
    store = user.store
    with store.write() as session:
        store.audit(session, user.username, "key.shown", object_type="store", object_id=store.school.store_id if store.school else "")
    return store.master_key_for_custodian(user).hex()


def save_recovery_slot(user: UserSession, out: Path, *, replace: bool = False) -> Path:
    """The recovery slot alone, to keep away from the PC: useless without the passphrase."""
    user.require(Role.CUSTODIAN)
    store = user.store
    keyfile = KeySlotFile.load(store.files.keys)
    if keyfile.recovery_slot() is None:
        raise KeyFileError("This store has no recovery slot; set a recovery passphrase first.")
    out = check_output_path(out, store_folder=store.files.folder, replace=replace)
    with atomic_output(out, store_folder=store.files.folder, replace=replace) as tmp:
        tmp.write_bytes(json.dumps(keyfile.to_json(only_recovery=True), indent=1).encode("utf-8"))
        db.fsync_file(tmp)
    with store.write() as session:
        store.audit(session, user.username, "key.recovery-saved", object_type="store", detail={"path": str(out)})
    return out


def set_recovery_passphrase(user: UserSession, passphrase: str) -> None:
    user.require(Role.CUSTODIAN)
    from mapping_tool.security import passwords

    passwords.check_passphrase(passphrase, context=[user.username])
    store = user.store
    keyfile = KeySlotFile.load(store.files.keys)
    keyfile.set_recovery_slot(store.master_key_for_custodian(user), passphrase)
    with store.write() as session:
        store.audit(session, user.username, "key.recovery-changed", object_type="store")
        keyfile.save(store.files.keys)


def recover_key_file(folder: Path, recovery_file: Path, passphrase: str, custodian: str, new_password: str) -> None:
    """Rebuild a lost or damaged key file from the saved recovery slot and the passphrase.
    The named custodian gets a new slot; other staff need a password reset afterwards."""
    from mapping_tool.security import passwords
    from mapping_tool.services.auth import open_with_key

    files = StoreFiles(folder)
    if not files.db.exists():
        raise StoreError(f"There is no store file in {folder} to recover.")
    lock = InstanceLock(files)
    lock.acquire()
    try:
        try:
            data = json.loads(recovery_file.read_text("utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{recovery_file.name} is not a saved recovery key file.") from exc
        saved = KeySlotFile.from_json(data, source=recovery_file.name)
        slot = saved.recovery_slot()
        key = slot.unwrap(passphrase, saved.store_id) if slot else None
        if key is None:
            raise AuthenticationError("The recovery passphrase is not correct.")
        passwords.check_password(new_password, context=[custodian])
        store = open_with_key(files, key, saved, actor="recovery")
        try:
            with store.write() as session:
                from sqlalchemy import select

                from mapping_tool.store.models import Account

                account = session.execute(select(Account).where(Account.username == custodian)).scalar_one_or_none()
                if account is None or account.role != Role.CUSTODIAN.value or not account.active:
                    raise UsageError(f"'{custodian}' is not an active data custodian account in this store.")
                rebuilt = KeySlotFile(store_id=saved.store_id, slots=[slot])  # type: ignore[list-item]
                rebuilt.set_user_slot(key, account.username, new_password)
                if files.keys.exists():
                    files.backups.mkdir(exist_ok=True)
                    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
                    shutil.copy2(files.keys, files.backups / f"damaged-{stamp}.keys")
                store.audit(session, "recovery", "key.recovered", object_type="account", object_id=account.username)
                rebuilt.save(files.keys)
        finally:
            store.close()
    finally:
        lock.release()
