"""Reading and verifying the audit log (writing is ``OpenStore.audit``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from mapping_tool.security import audit_chain
from mapping_tool.security.roles import Role
from mapping_tool.services import audit_upgrade
from mapping_tool.services.context import PSEUDONYM_PREFIX, UserSession, audit_fields
from mapping_tool.store.models import AuditEntry
from mapping_tool.store.models_records import AuditLogStart, AuditPseudonym


@dataclass(frozen=True)
class VerifyResult:
    intact: bool
    entries: int
    problem: str = ""
    entry_id: int | None = None


def verify(user: UserSession, *, backups: Sequence[Path] = ()) -> VerifyResult:
    """Walk the chain; then compare its end with the anchor kept outside the database, with the
    witnesses kept in this PC's local settings (the highest entry each account has seen) and
    with the anchor each given backup carries. A log shorter than any of them is reported.
    Last, check each file note of a disclosure against the digest the chain recorded."""
    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    store = user.store
    from mapping_tool.services import witness
    from mapping_tool.services.backup import backup_anchor

    carried = [backup_anchor(store, Path(b)) for b in backups]  # a bad backup file stops here
    with store.read() as session:
        rows = session.execute(
            select(
                AuditEntry.id, AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.object_type,
                AuditEntry.object_id, AuditEntry.detail, AuditEntry.prev_hash, AuditEntry.hash,
            ).order_by(AuditEntry.id)
        ).all()
        count = session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
        start = session.get(AuditLogStart, 1)  # entries past their retention period were disposed of
    entries = (
        (r.id, r.prev_hash, r.hash, audit_fields(r.id, r.at, r.actor, r.action, r.object_type, r.object_id, r.detail))
        for r in rows
    )
    first_id = start.first_id if start else 1
    if rows and rows[0].id != first_id:
        if rows[0].id > first_id:
            return VerifyResult(False, count, f"entries {first_id} to {rows[0].id - 1} are missing from the start", first_id)
        return VerifyResult(False, count, f"entry {rows[0].id} is before the recorded start of the log", rows[0].id)
    problem = audit_chain.verify(store.audit_key(), entries, start.prev_hash if start else audit_chain.GENESIS)
    if problem is not None:
        return VerifyResult(False, count, problem.message, problem.entry_id)
    by_id = {r.id: r.hash for r in rows}
    store_id = store.school.store_id if store.school else ""
    last = rows[-1].id if rows else first_id - 1
    witnesses = [*carried, *witness.local_witnesses(store_id)]
    anchor = store.read_anchor()
    with store.read() as session:  # hashes from before an upgrade rewrote older entries
        marks = sorted({w.last_id for w in witnesses} | ({int(anchor["last_id"])} if anchor and not anchor.get("invalid") else set()))
        old = audit_upgrade.old_hashes(session.connection(), marks)
    found = witness.check(by_id, witnesses, last, first_id, old)
    if found is not None:
        return VerifyResult(False, count, found[0], found[1])
    if anchor is None:
        return VerifyResult(False, count, "the anchor file outside the database is missing or unreadable")
    if anchor.get("invalid"):
        return VerifyResult(False, count, "the anchor file outside the database was altered")
    last_id = int(anchor["last_id"])
    if last_id not in by_id:
        return VerifyResult(
            False, count, f"entries after {rows[-1].id if rows else 0} are missing: the log ends before entry {last_id}",
            rows[-1].id + 1 if rows else 1,
        )
    if by_id[last_id] != anchor["last_hash"] and old.get(last_id) != anchor["last_hash"]:
        return VerifyResult(False, count, f"entry {last_id} does not match the anchor kept outside the database", last_id)
    if rows:
        witness.record(store_id, user.username, rows[-1].id, rows[-1].hash)
    from mapping_tool.services.referrals import check_file_notes

    with store.read() as session:
        note_problem = check_file_notes(session)  # each file note against the digest the chain holds
    if note_problem is not None:
        return VerifyResult(False, count, note_problem[1])
    return VerifyResult(True, count)


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: str
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: str


AUDIT_HEADERS = ("entry", "when (UTC)", "user", "action", "object type", "object", "detail")


def entries(
    user: UserSession,
    *,
    actor: str | None = None,
    student: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
    limit: int | None = None,
) -> list[AuditRow]:
    """Filtered entries, newest first (data custodian and principal class)."""
    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if actor:
        query = query.where(AuditEntry.actor == actor)
    with user.store.read() as session:
        names = {r[0]: r[1] for r in session.execute(select(AuditPseudonym.pseudonym, AuditPseudonym.student_key))}
    if student:
        key = student.strip().upper()
        # Entries name a student by pseudonym (entries written before issue 10 by key).
        wanted = [key, *(p for p, k in names.items() if k == key)]
        condition = AuditEntry.object_id.in_(wanted)
        for token in wanted:
            condition = condition | AuditEntry.detail.like(f'%"{token}"%')
        query = query.where(condition)
    if action:
        query = query.where(AuditEntry.action.like(f"{action}%"))
    if since:
        query = query.where(AuditEntry.at >= since)
    if until:
        query = query.where(AuditEntry.at < until + "~")
    if limit:
        query = query.limit(limit)
    with user.store.read() as session:
        return [
            AuditRow(e.id, e.at, e.actor, e.action, e.object_type, names.get(e.object_id, e.object_id),
                     _named(e.detail, names))
            for e in session.execute(query).scalars()
        ]


_PSEUDONYM = re.compile(r'"(' + PSEUDONYM_PREFIX + r'[0-9a-f]{12})"')


def _named(detail: str, names: dict[str, str]) -> str:
    """Shown to the custodian: pseudonyms of current students read as their keys again (a
    disposed student's pseudonym has no link any more and stays as it is)."""
    if PSEUDONYM_PREFIX not in detail:
        return detail
    return _PSEUDONYM.sub(lambda m: f'"{names.get(m.group(1), m.group(1))}"', detail)


def export_entries(  # type: ignore[no-untyped-def]
    user: UserSession,
    out,
    *,
    student: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
    fmt: str | None = None,
    replace: bool = False,
) -> int:
    """The audit log as filtered (or, for one student, who accessed the record, when and what
    they did) to Excel or CSV; the export itself is recorded."""
    from mapping_tool.services.export import write_table

    rows = entries(user, student=student, actor=actor, action=action, since=since, until=until)
    count = write_table(
        out, AUDIT_HEADERS,
        ((r.id, r.at, r.actor, r.action, r.object_type, r.object_id, r.detail) for r in reversed(rows)),
        store_folder=user.store.files.folder, replace=replace,
        fmt=fmt, title="Audit log" if not student else f"Access to {student.upper()}",
    )
    with user.store.write() as session:
        user.store.audit(
            session, user.username, "export.audit", object_type="student" if student else "audit",
            object_id=(student or "").upper(),
            detail={"path": str(out), "rows": count, "filters": {"actor": actor, "action": action, "since": since, "until": until}},
        )
    return count


def record_print(user: UserSession, what: str, *, object_type: str = "", object_id: str = "", detail: dict | None = None) -> None:  # type: ignore[type-arg]
    """Record a print (or a PDF) with what it contained."""
    user.check_active()
    with user.store.write() as session:
        user.store.audit(session, user.username, f"print.{what}", object_type=object_type, object_id=object_id, detail=detail)
