"""Open the SQLCipher 4 store through SQLAlchemy 2.

The engine uses a ``creator`` that keys each new connection with the raw 32-byte key before
anything else runs (the built-in pysqlcipher dialect splices the key into SQL text), checks the
key with a first read, and sets the pragmas: WAL, synchronous FULL, foreign keys, busy timeout,
trusted_schema off, secure_delete on, temp files in memory. Transactions are emitted by us
(``isolation_level=None`` on the driver): plain ``BEGIN`` for reads, ``BEGIN IMMEDIATE`` for
writes (``write_session``), so a write never fails half-way on a lock upgrade.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool

from mapping_tool.errors import StoreError

logger = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


def key_pragma(key: bytes) -> str:
    if len(key) != 32:
        raise ValueError("the store key must be 32 bytes")
    return f"PRAGMA key = \"x'{key.hex()}'\""


def connect_raw(path: Path, key: bytes, *, check_same_thread: bool = False) -> Any:
    """A keyed, checked sqlcipher3 connection with the store's pragmas; raises StoreError."""
    if not path.exists():
        raise StoreError(f"The store file {path.name} is missing from {path.parent}.")
    try:
        conn = sqlcipher.connect(str(path), isolation_level=None, check_same_thread=check_same_thread)
    except sqlcipher.Error as exc:
        raise StoreError(f"The store in {path.parent} cannot be opened: {_reason(exc)}.") from exc
    try:
        conn.execute(key_pragma(key))
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _check_size(conn, path)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA trusted_schema = OFF")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA cell_size_check = ON")
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"The store in {path.parent} cannot switch to WAL mode; is the folder writable?")
        conn.execute("PRAGMA synchronous = FULL")
    except sqlcipher.Error as exc:
        conn.close()
        raise _translate(exc, path) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _check_size(conn: Any, path: Path) -> None:
    """A file cut short is caught before use. While another connection has pages in the WAL the
    main file may legitimately be shorter than the database, so the check needs an empty WAL."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    page_count = int(conn.execute("PRAGMA page_count").fetchone()[0])
    actual = path.stat().st_size
    if actual < page_size * page_count or actual % page_size:
        raise StoreError(
            f"The store file {path.name} in {path.parent} is damaged (it is shorter than it should be). "
            "Restore it from a backup (mapping-tool restore FILE)."
        )


def _reason(exc: BaseException) -> str:
    return str(exc).split("\n")[0].rstrip(".")


def _translate(exc: BaseException, path: Path) -> StoreError:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "hmac" in text:
        return StoreError(
            f"The store file {path.name} in {path.parent} is damaged or does not match its key file. "
            "Restore it from a backup (mapping-tool restore FILE)."
        )
    if "readonly" in text or "read-only" in text or "unable to open" in text or "disk i/o" in text:
        return StoreError(
            f"The store folder {path.parent} cannot be written. Check that the folder is not read-only "
            "and that the disk has space."
        )
    if "full" in text:
        return StoreError(f"The disk holding {path.parent} is full. Free some space and try again.")
    if "locked" in text or "busy" in text:
        return StoreError("The store is busy with another task. Try again in a moment.")
    return StoreError(f"The store in {path.parent} cannot be used: {_reason(exc)}.")


def is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError | sqlcipher.Error)


def translate_error(exc: BaseException, path: Path) -> StoreError:
    """Turn a driver/SQLAlchemy error into a user sentence (public for services)."""
    orig = getattr(exc, "orig", None) or exc
    return _translate(orig, path)


def create_store_engine(path: Path, key: bytes) -> Engine:
    """An engine over the keyed file. The key lives only in this closure, never in a URL."""

    def creator() -> Any:
        return connect_raw(path, key)

    engine = create_engine(
        "sqlite+pysqlite://", module=sqlcipher, creator=creator, poolclass=QueuePool, pool_size=4, max_overflow=8
    )

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        if conn.get_execution_options().get("smt_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """One transaction that changes data: BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any error."""
    with engine.connect() as conn:
        conn = conn.execution_options(smt_write=True)
        with Session(bind=conn, expire_on_commit=False) as session, session.begin():
            yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session, session.begin():
        yield session


def run_outside_transaction(engine: Engine, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """VACUUM and checkpoints cannot run inside BEGIN: use a pooled driver connection directly."""
    raw = engine.raw_connection()
    try:
        return list(raw.driver_connection.execute(sql, params).fetchall())
    finally:
        raw.close()


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def page_problems(engine: Engine, path: Path) -> None:
    """Verify every page's HMAC (SQLCipher) before the store is used; raises StoreError.

    Checkpoint first: cipher_integrity_check reads only the main file, not WAL frames.
    """
    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.execute("PRAGMA cipher_integrity_check").fetchall()
    except sqlcipher.Error as exc:
        raise _translate(exc, path) from exc
    finally:
        raw.close()
    if rows:
        raise StoreError(
            f"The store file {path.name} in {path.parent} is damaged ({len(rows)} damaged pages). "
            "Restore it from a backup (mapping-tool restore FILE)."
        )


def integrity_problems(conn: Any) -> list[str]:
    """Both checks: SQLite's integrity_check ('ok') and SQLCipher's page HMACs (no rows)."""
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
    problems = [] if rows == ["ok"] else rows
    problems += [str(r[0]) for r in conn.execute("PRAGMA cipher_integrity_check").fetchall()]
    problems += [f"foreign key problem in {r[0]}" for r in conn.execute("PRAGMA foreign_key_check").fetchall()]
    return problems
