"""The files of one store folder, and the one-instance lock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock, Timeout

from mapping_tool.errors import StoreLocked

DB_NAME = "smt.db"
KEYS_NAME = "smt.keys"
ANCHOR_NAME = "smt.anchor"
LOCK_NAME = "smt.lock"
BACKUP_DIR = "backups"


@dataclass(frozen=True)
class StoreFiles:
    folder: Path

    @property
    def db(self) -> Path:
        return self.folder / DB_NAME

    @property
    def keys(self) -> Path:
        return self.folder / KEYS_NAME

    @property
    def anchor(self) -> Path:
        return self.folder / ANCHOR_NAME

    @property
    def lock(self) -> Path:
        return self.folder / LOCK_NAME

    @property
    def backups(self) -> Path:
        return self.folder / BACKUP_DIR

    def exists(self) -> bool:
        return self.db.exists() or self.keys.exists()

    def sidecars(self) -> list[Path]:
        return [self.folder / (DB_NAME + "-wal"), self.folder / (DB_NAME + "-shm")]


class InstanceLock:
    """Held by the window for as long as it has the store open; a second window is refused.
    The OS releases it when the process dies, so a crash leaves no stale lock."""

    def __init__(self, files: StoreFiles) -> None:
        self._lock = FileLock(str(files.lock), timeout=0)

    def acquire(self) -> None:
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            raise StoreLocked(
                "The Student Mapping Tool is already open on this store (in another window or by "
                "another user of this PC). Close it there first."
            ) from None

    def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()

    @property
    def held(self) -> bool:
        return self._lock.is_locked
