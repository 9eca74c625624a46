"""Moving a store that an earlier release kept in one Windows user's own folder into the PC's
shared store folder (on first start after upgrading, with that user's consent).

The copy is checked (opened with the key, integrity and page checks) before it is put in place,
the move is written to the store's audit log at its new place, and only then is the per-user copy
removed: an interrupted move leaves the old store where it was and nothing at the new place.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mapping_tool.errors import AuthenticationError, StoreError, UsageError
from mapping_tool.paths import check_store_location, user_store_dir
from mapping_tool.security.keyslots import KeySlotFile
from mapping_tool.security.roles import Role
from mapping_tool.store import db
from mapping_tool.store.files import BACKUP_DIR, InstanceLock, StoreFiles

logger = logging.getLogger(__name__)

def _store_files(folder: Path) -> list[Path]:
    """The store's own files to carry over: smt.db, smt.keys, smt.anchor, the sign-in state and
    any other ``smt.*`` file a later version adds, but not lock files or SQLite's WAL sidecars."""
    found = [p for p in folder.glob("smt.*") if p.is_file()]
    return sorted(p for p in found if not p.name.endswith((".lock", "-wal", "-shm")))


@dataclass(frozen=True)
class MoveResult:
    source: Path
    target: Path
    username: str


def user_store_to_move(target: Path) -> Path | None:
    """The per-user store of an earlier release, when it exists and ``target`` has no store yet."""
    source = user_store_dir()
    try:
        if not StoreFiles(source).exists() or StoreFiles(target).exists():
            return None
        if source.resolve() == target.resolve():
            return None
    except OSError:
        return None
    return source


def _copy_checked(source: StoreFiles, work: Path, key: bytes) -> None:
    for src in _store_files(source.folder):
        shutil.copy2(src, work / src.name)
        db.fsync_file(work / src.name)
    if (source.folder / BACKUP_DIR).is_dir():
        shutil.copytree(source.folder / BACKUP_DIR, work / BACKUP_DIR)
    conn = db.connect_raw(work / "smt.db", key)
    try:
        problems = db.integrity_problems(conn)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    for sidecar in ("smt.db-wal", "smt.db-shm"):
        (work / sidecar).unlink(missing_ok=True)
    if problems:
        raise StoreError("The copy of the store failed its integrity check, so nothing was moved.")


def move_user_store(source: Path, target: Path, username: str, password: str) -> MoveResult:
    """Move the store in ``source`` to ``target``; the data custodian of that store consents by
    signing in. Raises a KnownError and changes nothing when anything is wrong."""
    from mapping_tool.services import auth

    src, dst = StoreFiles(source), StoreFiles(target)
    check_store_location(target)
    if not src.exists():
        raise UsageError(f"There is no store in {source} to move.")
    if dst.exists():
        raise UsageError(
            f"There is already a store in {target}; the store in {source} was left where it is. "
            "Ask the PC's technician which one the school uses."
        )
    keyfile = KeySlotFile.load(src.keys)
    slot = keyfile.user_slot(username.strip())
    key = slot.unwrap(password, keyfile.store_id) if slot else None
    if slot is None or key is None:
        raise AuthenticationError(auth.WRONG_CREDENTIALS)

    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"The store folder {target} cannot be created: {exc.strerror}.") from exc
    src_lock, dst_lock = InstanceLock(src), InstanceLock(dst)
    src_lock.acquire()
    try:
        dst_lock.acquire()
        try:
            # the custodian of the store consents; a checkpoint first so the main file is whole
            user = auth.sign_in(source, username, password)
            try:
                user.require(Role.CUSTODIAN)
                db.run_outside_transaction(user.store.engine, "PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                auth.sign_out(user)
            work = Path(tempfile.mkdtemp(prefix=".smt-move-", dir=target))
            placed: list[Path] = []
            try:
                _copy_checked(src, work, key)
                for item in sorted(work.iterdir()):
                    os.replace(item, target / item.name)
                    placed.append(target / item.name)
                user = auth.sign_in(target, username, password)
                try:
                    with user.store.write() as session:
                        user.store.audit(
                            session, user.username, "store.moved", object_type="store", object_id="",
                            detail={"from": "this Windows user's own folder", "to": str(target)},
                        )
                finally:
                    auth.sign_out(user)
            except OSError as exc:
                _undo(placed, dst)
                raise StoreError(
                    f"The store could not be copied to {target} ({exc.strerror or exc}); it was left in {source}."
                ) from exc
            except BaseException:
                _undo(placed, dst)
                raise
            finally:
                shutil.rmtree(work, ignore_errors=True)
        finally:
            dst_lock.release()
    finally:
        src_lock.release()
    _remove_old(src)
    logger.info("per-user store moved to the machine store folder")
    return MoveResult(source, target, username)


def _undo(placed: list[Path], dst: StoreFiles) -> None:
    for path in placed:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    for sidecar in dst.sidecars():
        sidecar.unlink(missing_ok=True)


def _remove_old(src: StoreFiles) -> None:
    """The per-user copy is removed once the moved store opened and recorded the move, so no
    second copy of the school's data stays in a user profile."""
    for path in [p for p in src.folder.glob("smt.*") if p.is_file()]:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            logger.warning("could not remove a file of the old per-user store")
    shutil.rmtree(src.folder / BACKUP_DIR, ignore_errors=True)
    try:
        src.folder.rmdir()
    except OSError:
        pass
