"""Backups a school can rely on (issue 10 s 4): automatic encrypted backups into the folder the
custodian chose, each checked after writing, N generations and a maximum age with older ones
removed, a manifest per backup (kept in the store) of whose records it holds, and a restore
drill that restores the newest backup into a temporary folder, opens it and reports, changing
nothing.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from mapping_tool.errors import StoreError, UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services import backup as backup_service
from mapping_tool.services import records
from mapping_tool.services import records_registry as registry
from mapping_tool.services.context import OpenStore, UserSession, utcnow
from mapping_tool.store import db
from mapping_tool.store.models_records import BackupManifest, BackupManifestStudent

logger = logging.getLogger(__name__)

AUTO_PREFIX = "smt-auto-"
AUTO_SUFFIX = ".smtbackup"


def _students_held(session) -> list[str]:  # type: ignore[no-untyped-def]
    conn = session.connection()
    keys: set[str] = set()
    for t in registry.REGISTRY:
        if t.kind == registry.ADMIN:
            continue
        keys.update(r[0] for r in conn.exec_driver_sql(f"SELECT DISTINCT {t.key} FROM {t.source}") if r[0])
    return sorted(keys)


def record_manifest(user: UserSession, result: backup_service.BackupResult, *, kind: str, checked: bool) -> int:
    """The manifest of one backup (called inside no transaction; writes its own)."""
    return _manifest(user.store, user.username, result.path, result.size, result.sha256, kind=kind, checked=checked)


def _manifest(store: OpenStore, actor: str, path: Path, size: int, sha256: str, *, kind: str, checked: bool) -> int:
    with store.write() as session:
        keys = _students_held(session)
        manifest = BackupManifest(file_name=path.name, folder=str(path.parent), kind=kind,
                                  created_at=utcnow(), created_by=actor, size=size,
                                  sha256=sha256, checked=checked, students=len(keys))
        session.add(manifest)
        session.flush()
        session.add_all(BackupManifestStudent(backup_id=manifest.id, student_key=k) for k in keys)
        store.audit(session, actor, "backup.manifest", object_type="backup", object_id=str(manifest.id),
                    detail={"kind": kind, "students": len(keys), "sha256": sha256, "checked": checked})
        return manifest.id


# -- copies the tool keeps in the store's own backups folder ------------------------------------
# Before a schema upgrade the tool keeps a copy of the store, and a restore keeps the files it
# replaced; both hold every student of their time. They are recorded like any backup (the
# disposal register counts them when it says when the last copy holding a disposed student
# expires) and removed once older than the backups' maximum age, at the custodian's sign-out.
PRE_UPGRADE = "pre-upgrade"
REPLACED_PREFIX = "replaced-"


def record_pre_upgrade_copy(store: OpenStore, actor: str, path: Path) -> int:
    """The manifest of the copy taken before an upgrade (recorded once the store is upgraded)."""
    return _manifest(store, actor, path, path.stat().st_size, _sha256(path), kind=PRE_UPGRADE, checked=True)


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _replaced_at(folder: Path) -> datetime | None:
    try:
        return datetime.strptime(folder.name[len(REPLACED_PREFIX):], "%Y%m%dT%H%M%SZ")
    except ValueError:
        return None


def age_out_local_copies(user: UserSession, *, now: datetime | None = None) -> list[str]:
    """Remove the store folder's own copies (before an upgrade, replaced by a restore) that are
    older than the backups' maximum age; audited. Returns the names removed."""
    user.require(Role.CUSTODIAN)
    max_age = timedelta(weeks=int(records.retention_value(user, "backup-max-age")))
    now = now or utcnow()
    store = user.store
    removed: list[str] = []
    with store.write() as session:
        copies = session.execute(
            select(BackupManifest).where(BackupManifest.kind == PRE_UPGRADE, BackupManifest.removed_at.is_(None))
        ).scalars().all()
        for manifest in copies:
            if now - manifest.created_at <= max_age:
                continue
            try:
                (Path(manifest.folder) / manifest.file_name).unlink(missing_ok=True)
            except OSError:
                logger.warning("a copy taken before an upgrade could not be removed")
                continue
            manifest.removed_at = now
            session.execute(BackupManifestStudent.__table__.delete().where(BackupManifestStudent.backup_id == manifest.id))
            removed.append(manifest.file_name)
        folder = store.files.backups
        for replaced in sorted(folder.glob(REPLACED_PREFIX + "*")) if folder.is_dir() else []:
            at = _replaced_at(replaced)
            if not replaced.is_dir() or replaced.is_symlink() or at is None or now - at <= max_age:
                continue
            shutil.rmtree(replaced, ignore_errors=True)
            if not replaced.exists():
                removed.append(replaced.name)
        if removed:
            store.audit(session, user.username, "backup.aged-out", object_type="backup",
                        detail={"removed": removed, "max_age_weeks": max_age.days // 7})
    return removed


def _verify_written(user: UserSession, path: Path) -> None:
    """Read the backup back: the zip, its checksum, and the copy opened with the key."""
    work = Path(tempfile.mkdtemp(prefix=".smt-check-", dir=path.parent))
    try:
        _manifest, _keyfile, copy = backup_service._read_backup(path, work)
        backup_service._check_copy(copy, user.store.master_key_for_custodian(user))
    finally:
        shutil.rmtree(work, ignore_errors=True)


@dataclass(frozen=True)
class AutoBackupResult:
    path: Path
    size: int
    students: int
    removed: tuple[str, ...]
    kept: int


def backup_now(user: UserSession, folder: Path | None = None) -> AutoBackupResult:
    """One automatic backup now (``backup --auto-now``), then the rotation."""
    user.require(Role.CUSTODIAN)
    if folder is not None:
        records.set_retention(user, "backup-folder", str(folder))
    configured = str(records.retention_value(user, "backup-folder"))
    if not configured:
        raise UsageError("No backup folder is set: give one with --folder DIR (it is remembered).")
    target_dir = Path(configured)
    if not target_dir.is_dir():
        raise UsageError(f"The backup folder {target_dir} does not exist (is the drive connected?).")
    stamp = datetime.now().strftime("%Y%m%dT%H%M%S")
    path = target_dir / f"{AUTO_PREFIX}{stamp}{AUTO_SUFFIX}"
    n = 2
    while path.exists():
        # a second backup in the same second: "~" sorts after "." so names stay in time order
        path = target_dir / f"{AUTO_PREFIX}{stamp}~{n}{AUTO_SUFFIX}"
        n += 1
    result = backup_service.backup(user, path, manifest=False)
    try:
        _verify_written(user, result.path)
    except (StoreError, UsageError):
        result.path.unlink(missing_ok=True)
        raise StoreError("The backup did not read back correctly after writing, so it was removed. Try again.") from None
    manifest_id = record_manifest(user, result, kind="auto", checked=True)
    removed = rotate(user, keep_id=manifest_id)
    with user.store.read() as session:
        kept = len(session.execute(select(BackupManifest.id).where(BackupManifest.kind == "auto",
                                                                    BackupManifest.removed_at.is_(None))).all())
        students = session.get(BackupManifest, manifest_id).students  # type: ignore[union-attr]
    return AutoBackupResult(result.path, result.size, students, tuple(removed), kept)


def rotate(user: UserSession, *, keep_id: int | None = None) -> list[str]:
    """Remove automatic backups beyond the generations or older than the maximum age."""
    user.require(Role.CUSTODIAN)
    generations = int(records.retention_value(user, "backup-generations"))
    max_age = timedelta(weeks=int(records.retention_value(user, "backup-max-age")))
    now = utcnow()
    removed: list[str] = []
    store = user.store
    with store.write() as session:
        live = session.execute(
            select(BackupManifest).where(BackupManifest.kind == "auto", BackupManifest.removed_at.is_(None))
            .order_by(BackupManifest.created_at.desc(), BackupManifest.id.desc())
        ).scalars().all()
        for position, manifest in enumerate(live):
            if manifest.id == keep_id:
                continue
            if position < generations and now - manifest.created_at <= max_age:
                continue
            path = Path(manifest.folder) / manifest.file_name
            try:
                path.unlink(missing_ok=True)
            except OSError:
                logger.warning("an old automatic backup could not be removed")
                continue
            manifest.removed_at = now
            session.execute(BackupManifestStudent.__table__.delete().where(BackupManifestStudent.backup_id == manifest.id))
            removed.append(manifest.file_name)
        if removed:
            store.audit(session, user.username, "backup.rotated", object_type="backup",
                        detail={"removed": removed, "generations": generations, "max_age_weeks": max_age.days // 7})
    return removed


def auto_backup_if_due(user: UserSession) -> AutoBackupResult | None:
    """At the custodian's sign-out: at most once a day, only when a folder is set."""
    if user.role is not Role.CUSTODIAN or not records.retention_value(user, "backup-folder"):
        return None
    with user.store.read() as session:
        last = session.execute(select(BackupManifest.created_at).where(BackupManifest.kind == "auto")
                               .order_by(BackupManifest.created_at.desc()).limit(1)).scalar()
    if last is not None and utcnow() - last < timedelta(days=1):
        return None
    return backup_now(user)


@dataclass(frozen=True)
class DrillReport:
    backup: Path
    created: str
    schema: str
    students: int
    snapshots: int
    audit_entries: int
    integrity: str


def restore_drill(user: UserSession, backup_file: Path | None = None) -> DrillReport:
    """Restore the newest backup (or ``backup_file``) into a temporary folder, open it, report,
    and remove the folder: the store and the backups are not changed."""
    user.require(Role.CUSTODIAN)
    if backup_file is None:
        with user.store.read() as session:
            live = session.execute(select(BackupManifest).where(BackupManifest.removed_at.is_(None))
                                   .order_by(BackupManifest.created_at.desc(), BackupManifest.id.desc())).scalars().all()
        candidates = [Path(m.folder) / m.file_name for m in live]
        backup_file = next((p for p in candidates if p.is_file()), None)
        if backup_file is None:
            raise UsageError("There is no backup to try: make one first (backup --auto-now).")
    work = Path(tempfile.mkdtemp(prefix="smt-drill-"))
    try:
        manifest, _keyfile, copy = backup_service._read_backup(Path(backup_file), work)
        key = user.store.master_key_for_custodian(user)
        conn = db.connect_raw(copy, key)
        try:
            problems = db.integrity_problems(conn)
            students = conn.execute("SELECT count(*) FROM student").fetchone()[0]
            snapshots = conn.execute("SELECT count(*) FROM snapshot").fetchone()[0]
            entries = conn.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
        finally:
            conn.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return DrillReport(Path(backup_file), str(manifest.get("created", "")), str(manifest.get("schema", "")),
                       int(students), int(snapshots), int(entries), "intact" if not problems else "; ".join(problems[:3]))
