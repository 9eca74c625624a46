"""Faults: the app killed mid-write, a read-only store folder, a full disk, a second instance.
Each leaves the store as it was and gives a clear message."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mapping_tool.errors import StoreError, StoreLocked
from mapping_tool.services import auth, backup
from mapping_tool.store import db
from mapping_tool.store.files import InstanceLock, StoreFiles
from mapping_tool.store.models import Student
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, file_hashes

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *args: str, **kw) -> subprocess.Popen:  # type: ignore[type-arg, no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw
    )


def _integrity(store_dir: Path, key: bytes) -> list[str]:
    conn = db.connect_raw(store_dir / "smt.db", key)
    try:
        return db.integrity_problems(conn)
    finally:
        conn.close()


WRITER = """
import sys, time
from pathlib import Path
from mapping_tool.services import auth
from mapping_tool.store.models import Student
user = auth.sign_in(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
with user.store.write() as session:
    for i in range(5000):
        session.add(Student(student_key=f"KIL{i:04d}", surname="HALFWRITTEN", first_name="Row"))
        if i % 500 == 0:
            session.flush()
    session.flush()
    print("WRITING", flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
def test_killed_in_the_middle_of_a_write_leaves_no_half_change(store_dir: Path, store_key: bytes) -> None:
    proc = _python(WRITER, str(store_dir), CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "WRITING"
        assert (store_dir / "smt.db-wal").stat().st_size > 0  # the half-written change is on disk
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        with user.store.read() as s:
            assert s.execute(select(func.count()).select_from(Student)).scalar_one() == 0
    finally:
        auth.sign_out(user)
    assert _integrity(store_dir, store_key) == []


def test_a_second_window_on_the_same_store_is_refused(store_dir: Path) -> None:
    holder = _python(
        """
        import sys, time
        from pathlib import Path
        from mapping_tool.store.files import InstanceLock, StoreFiles
        lock = InstanceLock(StoreFiles(Path(sys.argv[1]))); lock.acquire()
        print("HELD", flush=True); time.sleep(60)
        """,
        str(store_dir),
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "HELD"
        with pytest.raises(StoreLocked, match="already open"):
            InstanceLock(StoreFiles(store_dir)).acquire()
    finally:
        holder.kill()
        holder.communicate(timeout=30)
    lock = InstanceLock(StoreFiles(store_dir))  # the OS released it when the holder died
    lock.acquire()
    lock.release()


# -- read-only folder and full disk: real small file systems (tmpfs), which needs root ----------


def _can_mount() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("mount") is not None


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    if not _can_mount():
        pytest.skip("needs root to mount a small tmpfs (CI runs as root)")
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mnt)], capture_output=True)
    if result.returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_read_only_store_folder_gives_a_clear_message(tmpfs: Path, store_dir: Path) -> None:
    target = tmpfs / "store"
    shutil.copytree(store_dir, target)
    before = file_hashes(target)
    subprocess.run(["mount", "-o", "remount,ro", str(tmpfs)], check=True)
    with pytest.raises(StoreError) as info:
        auth.sign_in(target, CUSTODIAN, CUSTODIAN_PASSWORD)
    assert "cannot be written" in info.value.message or "read-only" in info.value.message
    assert file_hashes(target) == before


def _fill(folder: Path, leave: int) -> Path:
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    filler = folder / "filler.bin"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, free - leave))
    return filler


def test_full_disk_during_a_write_changes_nothing_and_says_so(tmpfs: Path, store_dir: Path, store_key: bytes) -> None:
    target = tmpfs / "store"
    shutil.copytree(store_dir, target)
    user = auth.sign_in(target, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        filler = _fill(tmpfs, 64 * 1024)
        before = file_hashes(target)
        with pytest.raises(StoreError) as info:
            with user.store.write() as session:
                for i in range(20000):
                    session.add(Student(student_key=f"FUL{i:05d}", surname="X" * 40, first_name="Y" * 30))
                session.flush()
        assert "full" in info.value.message or "cannot be written" in info.value.message
        filler.unlink()
        with user.store.read() as s:
            assert s.execute(select(func.count()).select_from(Student)).scalar_one() == 0
        after = file_hashes(target)
        assert after["smt.db"] == before["smt.db"] and after["smt.keys"] == before["smt.keys"]
    finally:
        auth.sign_out(user)
    assert _integrity(target, store_key) == []


def test_backup_to_a_full_disk_fails_cleanly_and_leaves_no_partial_file(tmpfs: Path, custodian) -> None:  # type: ignore[no-untyped-def]
    filler = _fill(tmpfs, 16 * 1024)
    try:
        with pytest.raises(StoreError, match="could not be written|full|cannot be written"):
            backup.backup(custodian, tmpfs / "b.smtbackup")
        assert sorted(p.name for p in tmpfs.iterdir()) == ["filler.bin"]
    finally:
        filler.unlink()
