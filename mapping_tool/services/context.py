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
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
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
        self._local = threading.local()  # each thread's pending anchor (writes may run on workers)
        self.anchor_broken = False
        self.anchor_problem = ""  # why the anchor is kept as it is (missing, or not reached)
        self.witness_held = False  # the log does not reach a witness: keep the witness as evidence

    @property
    def _appended(self) -> tuple[int, str] | None:
        return getattr(self._local, "appended", None)

    @_appended.setter
    def _appended(self, value: tuple[int, str] | None) -> None:
        self._local.appended = value

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction (BEGIN IMMEDIATE); the audit anchor follows the commit."""
        self._appended = None
        try:
            with db.write_session(self.engine) as session:
                yield session
        except StoreError:
            self._appended = None
            raise
        except Exception as exc:
            self._appended = None
            if db.is_database_error(exc):
                raise db.translate_error(exc, self.files.db) from exc
            raise
        if self._appended is not None:
            self._write_anchor(*self._appended)
            self._appended = None

    @contextmanager
    def read(self) -> Iterator[Session]:
        try:
            with db.read_session(self.engine) as session:
                yield session
        except StoreError:
            raise
        except Exception as exc:
            if db.is_database_error(exc):
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
        conn = session.connection()
        last_id, last_hash, seq = conn.exec_driver_sql(
            "SELECT (SELECT id FROM audit_entry ORDER BY id DESC LIMIT 1), "
            "(SELECT hash FROM audit_entry ORDER BY id DESC LIMIT 1), "
            "(SELECT seq FROM sqlite_sequence WHERE name = 'audit_entry')"
        ).one()
        prev_hash = last_hash or audit_chain.GENESIS
        entry_id = max(int(seq or 0), int(last_id or 0)) + 1
        object_id, detail = pseudonymise(conn, object_type, object_id, detail)
        when = (at or utcnow()).isoformat(timespec="milliseconds") + "Z"
        detail_text = json.dumps(detail or {}, sort_keys=True, ensure_ascii=True, default=str)
        fields = audit_fields(entry_id, when, actor, action, object_type, object_id, detail_text)
        digest = audit_chain.link(self._audit_key, prev_hash, fields)
        conn.exec_driver_sql(
            "INSERT INTO audit_entry (id, at, actor, action, object_type, object_id, detail, prev_hash, hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (entry_id, when, actor, action, object_type, object_id, detail_text, prev_hash, digest),
        )
        self._appended = (entry_id, digest)
        return entry_id

    def audit_key(self) -> bytes:
        return self._audit_key

    # -- anchor outside the database --------------------------------------------------------
    def _anchor_mac(self, last_id: int, last_hash: str) -> str:
        return anchor_mac(self._anchor_key, self.school.store_id if self.school else "", last_id, last_hash)

    def anchor_for(self, last_id: int, last_hash: str) -> dict[str, Any]:
        """An anchor (as written to smt.anchor) for this entry: what a backup carries."""
        return {"last_id": last_id, "last_hash": last_hash, "mac": self._anchor_mac(last_id, last_hash)}

    def anchor_valid(self, data: Any) -> bool:
        try:
            return hmac.compare_digest(str(data["mac"]), self._anchor_mac(int(data["last_id"]), str(data["last_hash"])))
        except (KeyError, TypeError, ValueError):
            return False

    def last_entry(self) -> tuple[int, str] | None:
        with db.read_session(self.engine) as session:
            row = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
        return (int(row.id), str(row.hash)) if row is not None else None

    def _write_anchor(self, last_id: int, last_hash: str) -> None:
        """Record the chain's end outside the database. Not fsynced: after a crash the anchor
        may be behind the log (a prefix, accepted), never ahead of it."""
        if self.anchor_broken:
            logger.warning("the audit log does not reach its anchor; the anchor is kept as evidence")
            return
        data = {"last_id": last_id, "last_hash": last_hash, "mac": self._anchor_mac(last_id, last_hash)}
        tmp = self.files.anchor.with_name(self.files.anchor.name + ".tmp")
        try:
            tmp.write_text(json.dumps(data), "utf-8")
            tmp.replace(self.files.anchor)
        except OSError:
            logger.warning("could not write the audit anchor file")

    def update_anchor(self) -> None:
        with db.read_session(self.engine) as session:
            row = session.execute(select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).first()
        if row is not None:
            self._write_anchor(row.id, row.hash)

    def check_anchor(self) -> None:
        """At opening: an anchor the log no longer reaches (entries cut off, or an older file put
        back) is kept as evidence and never overwritten in this session. A missing or unreadable
        anchor is not silently recreated either (only ``init`` and a restore write a first one):
        it stays missing, and is reported, until the data custodian restores a backup."""
        anchor = self.read_anchor()
        if anchor is None:
            self.anchor_broken = True
            self.anchor_problem = "the anchor file outside the database is missing or unreadable"
            logger.warning("the audit anchor file is missing")
        elif not self._anchor_consistent(anchor):
            self.anchor_broken = True
            self.anchor_problem = "the audit log does not reach the anchor kept outside the database"
            logger.warning("the audit log does not reach its anchor")

    def _anchor_consistent(self, anchor: dict[str, Any]) -> bool:
        if anchor.get("invalid"):
            return False
        with db.read_session(self.engine) as session:
            stored = session.execute(select(AuditEntry.hash).where(AuditEntry.id == int(anchor["last_id"]))).scalar()
            if stored == anchor["last_hash"]:
                return True
            # an anchor written before the entries of an older release were rewritten (see
            # services/audit_upgrade.py), when the program stopped before writing the new one;
            # the records models load only then (35 ms a command would otherwise pay)
            from mapping_tool.store.models_records import AuditResealed

            old = session.execute(
                select(AuditResealed.old_hash).where(AuditResealed.entry_id == int(anchor["last_id"]))
            ).scalar()
        return old is not None and old == anchor["last_hash"]

    def read_anchor(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.files.anchor.read_text("utf-8"))
            ok = hmac.compare_digest(str(data["mac"]), self._anchor_mac(int(data["last_id"]), str(data["last_hash"])))
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


def anchor_mac(anchor_key: bytes, store_id: str, last_id: int, last_hash: str) -> str:
    msg = f"{store_id}|{last_id}|{last_hash}".encode()
    return hmac.new(anchor_key, msg, hashlib.sha256).hexdigest()


# -- audit pseudonyms (issue 10) ---------------------------------------------------------------
# The audit log never names a student: an entry refers to a student through a random pseudonym
# whose link (table audit_pseudonym) is deleted when the student is disposed of, so the entries
# (and their hash chain) stay while nothing in them leads back to the student. Student keys are
# recognised in exactly three places of an entry: the object of an entry whose object_type is
# "student", and the detail fields "student_key" (one key) and "student_keys" (a list).
PSEUDONYM_PREFIX = "p-"
STUDENT_DETAIL_KEY = "student_key"
STUDENT_DETAIL_KEYS = "student_keys"


def pseudonyms_for(conn: Any, keys: list[str]) -> dict[str, str]:
    """The pseudonym of each key, created (inside the caller's transaction) when missing."""
    wanted = sorted({k for k in keys if k})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.exec_driver_sql(
            f"SELECT student_key, pseudonym FROM audit_pseudonym WHERE student_key IN ({marks})", tuple(chunk)
        ).all()
        found.update({r[0]: r[1] for r in rows})
    for key in wanted:
        if key not in found:
            pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(6)
            conn.exec_driver_sql(
                "INSERT INTO audit_pseudonym (student_key, pseudonym) VALUES (?, ?)", (key, pseudonym)
            )
            found[key] = pseudonym
    return found


def pseudonymise(conn: Any, object_type: str, object_id: str, detail: dict[str, Any] | None) -> tuple[str, dict[str, Any] | None]:
    keys: list[str] = []
    if object_type == "student" and object_id:
        keys.append(object_id)
    if detail:
        single = detail.get(STUDENT_DETAIL_KEY)
        if isinstance(single, str):
            keys.append(single)
        many = detail.get(STUDENT_DETAIL_KEYS)
        if isinstance(many, list | tuple):
            keys.extend(str(k) for k in many)
    if not keys:
        return object_id, detail
    names = pseudonyms_for(conn, keys)
    if object_type == "student" and object_id:
        object_id = names[object_id]
    if detail:
        detail = dict(detail)
        if isinstance(detail.get(STUDENT_DETAIL_KEY), str) and detail[STUDENT_DETAIL_KEY]:
            detail[STUDENT_DETAIL_KEY] = names[detail[STUDENT_DETAIL_KEY]]
        if isinstance(detail.get(STUDENT_DETAIL_KEYS), list | tuple):
            listed = [names[str(k)] if k else k for k in detail[STUDENT_DETAIL_KEYS]]
            detail[STUDENT_DETAIL_KEYS] = listed
            if "keys_sha256" in detail:  # a hash of real keys could be reversed by guessing them
                detail["keys_sha256"] = hashlib.sha256("\n".join(listed).encode()).hexdigest()
    return object_id, detail


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
    notices: list[str] = field(default_factory=list)  # for the data custodian, shown once after sign-in

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
