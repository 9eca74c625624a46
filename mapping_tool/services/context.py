"""An open store and a signed-in user: what every service takes.

``OpenStore`` holds the engine (the key lives only inside the engine's connection factory and
here, in memory) and writes the audit log. ``UserSession`` is the signed-in user; every service
call checks it is still active (a disabled account's stale session is refused).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from mapping_tool.errors import AuthenticationError, PermissionDenied, StoreError
from mapping_tool.security import audit_chain
from mapping_tool.security.roles import Role
from mapping_tool.store import db
from mapping_tool.store.files import StoreFiles
from mapping_tool.store.models import Account, AuditEntry, School

logger = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class SchoolInfo:
    store_id: str
    school_number: str
    school_name: str
    principal_name: str
    authorised_on: date


@dataclass
class OpenStore:
    files: StoreFiles
    engine: Engine
    _master_key: bytes = field(repr=False)
    school: SchoolInfo | None = None

    def __post_init__(self) -> None:
        self._audit_key = audit_chain.derive_audit_key(self._master_key)
        self._anchor_key = audit_chain.derive_audit_key(self._master_key, b"audit-anchor-v1")

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction (BEGIN IMMEDIATE); the audit anchor follows the commit."""
        try:
            with db.write_session(self.engine) as session:
                yield session
        except StoreError:
            raise
        except Exception as exc:
            if _is_db_error(exc):
                raise db.translate_error(exc, self.files.db) from exc
            raise
        self.update_anchor()

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with db.read_session(self.engine) as session:
                yield session
        except StoreError:
            raise
        except Exception as exc:
            if _is_db_error(exc):
                raise db.translate_error(exc, self.files.db) from exc
            raise

    # -- audit ----------------------------------------------------------------------------
    def audit(
        self,
        session: Session,
        actor: str,
        action: str,
        *,
        object_type: str = "",
        object_id: str = "",
        detail: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> int:
        """Append one chained entry inside the caller's write transaction; returns its id."""
        last = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
        seq = session.execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'audit_entry'")).scalar()
        prev_hash = last.hash if last else audit_chain.GENESIS
        entry_id = max(int(seq or 0), last.id if last else 0) + 1
        when = (at or utcnow()).isoformat(timespec="milliseconds") + "Z"
        detail_text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=True, default=str)
        fields = audit_fields(entry_id, when, actor, action, object_type, object_id, detail_text)
        digest = audit_chain.link(self._audit_key, prev_hash, fields)
        session.add(
            AuditEntry(
                id=entry_id,
                at=when,
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                detail=detail_text,
                prev_hash=prev_hash,
                hash=digest,
            )
        )
        session.flush()
        return entry_id

    def audit_key(self) -> bytes:
        return self._audit_key

    # -- anchor outside the database --------------------------------------------------------
    def _anchor_mac(self, count: int, last_id: int, last_hash: str) -> str:
        msg = f"{self.school.store_id if self.school else ''}|{count}|{last_id}|{last_hash}".encode()
        return hmac.new(self._anchor_key, msg, hashlib.sha256).hexdigest()

    def update_anchor(self) -> None:
        with db.read_session(self.engine) as session:
            row = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
            count = session.execute(text("SELECT count(*) FROM audit_entry")).scalar_one()
        if row is None:
            return
        previous = self.read_anchor()
        if previous is not None and not self._anchor_consistent(previous):
            # The log no longer reaches the recorded end (cut off, or an older file put back):
            # keep the evidence; `audit verify` reports it until a restore resets the anchor.
            logger.warning("the audit log does not reach its anchor; the anchor is kept as evidence")
            return
        data = {"count": count, "last_id": row.id, "last_hash": row.hash, "mac": self._anchor_mac(count, row.id, row.hash)}
        from mapping_tool.security.keyslots import write_atomic

        try:
            write_atomic(self.files.anchor, json.dumps(data).encode())
        except OSError:
            logger.warning("could not write the audit anchor file")

    def _anchor_consistent(self, anchor: dict[str, Any]) -> bool:
        if anchor.get("invalid"):
            return False
        with db.read_session(self.engine) as session:
            stored = session.execute(select(AuditEntry.hash).where(AuditEntry.id == int(anchor["last_id"]))).scalar()
        return stored == anchor["last_hash"]

    def read_anchor(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.files.anchor.read_text("utf-8"))
            ok = hmac.compare_digest(
                str(data["mac"]), self._anchor_mac(int(data["count"]), int(data["last_id"]), str(data["last_hash"]))
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return data if ok else {"invalid": True}

    # -- key material ------------------------------------------------------------------------
    def master_key_for_custodian(self, user: UserSession) -> bytes:
        user.require(Role.CUSTODIAN)
        return self._master_key

    def close(self) -> None:
        try:
            db.run_outside_transaction(self.engine, "PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception:  # noqa: BLE001 - closing must not raise; the WAL is replayed at next open
            logger.warning("checkpoint at close failed")
        self.engine.dispose()


def audit_fields(
    entry_id: int, at: str, actor: str, action: str, object_type: str, object_id: str, detail: str
) -> dict[str, Any]:
    return {
        "id": entry_id,
        "at": at,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "detail": detail,
    }


def _is_db_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError)


@dataclass
class UserSession:
    """The signed-in user. Services call ``require`` / ``check_active`` before acting."""

    store: OpenStore
    account_id: int
    username: str
    role: Role
    display_name: str
    must_change_password: bool = False
    signed_out: bool = False

    def check_active(self) -> None:
        if self.signed_out:
            raise AuthenticationError("You have signed out. Sign in again to continue.")
        with self.store.read() as session:
            account = session.get(Account, self.account_id)
            active = bool(account and account.active)
        if not active:
            raise AuthenticationError("This account has been disabled by the data custodian.")

    def require(self, *roles: Role) -> None:
        self.check_active()
        if roles and self.role not in roles:
            allowed = ", ".join(r.title.lower() for r in roles)
            raise PermissionDenied(f"Only the {allowed} may do this.")

    @property
    def is_custodian(self) -> bool:
        return self.role is Role.CUSTODIAN


def load_school(session: Session) -> SchoolInfo | None:
    school = session.execute(select(School)).scalars().first()
    if school is None:
        return None
    return SchoolInfo(
        store_id=school.store_id,
        school_number=school.school_number,
        school_name=school.school_name,
        principal_name=school.principal_name,
        authorised_on=school.authorised_on,
    )
