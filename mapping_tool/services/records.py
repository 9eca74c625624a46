"""Keeping and disposing of records lawfully (issue 10): retention classes, legal holds, the
disposal review, approved disposal runs and their register, transfer of a student's record to
the official file, and subject-access requests.

Which tables hold a student's rows is decided in one place, ``records_registry.REGISTRY``.
The tool never disposes of anything on its own initiative: a run is prepared, approved by a
different principal-class or custodian account with their own password, and then run.
"""

from __future__ import annotations

import calendar
import hashlib
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, select

from mapping_tool.errors import AuthenticationError, PermissionDenied, UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services import records_registry as registry
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.services.outputs import atomic_output
from mapping_tool.store import db
from mapping_tool.store.models import School, Student
from mapping_tool.store.models_records import (
    AuditLogStart,
    DisposalRegisterEntry,
    DisposalRun,
    DisposalRunItem,
    LegalHold,
    RecordTransfer,
    RetentionSetting,
)

logger = logging.getLogger(__name__)

PdfRenderer = Callable[[str, Path, str], Any]  # (html, path, title): the UI's html_to_pdf

OVERSEERS = (Role.CUSTODIAN, Role.PRINCIPAL)
HOLD_PLACERS = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
TRANSFERRERS = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
HOLD_KINDS = ("legal proceedings", "inquiry", "complaint", "child safety matter", "Department direction")
LEFT_STATUSES = ("LEFT", "DEL", "INAC")


# -- retention classes -----------------------------------------------------------------------


@dataclass(frozen=True)
class ClassSpec:
    code: str
    title: str
    default: int | str
    unit: str
    authority: str
    low: int = 0
    high: int = 0


CLASSES: tuple[ClassSpec, ...] = (
    ClassSpec(
        "cases21-copy", "The tool's copy of CASES21 data (identity, placement, attendance, results, flags)", 12,
        "months after the student left (counted from the exit date)",
        "Privacy impact assessment s 8: destroyed one year after the student leaves; CASES21 keeps the "
        "original (PROS 22/06 school records authority)", 1, 120,
    ),
    ClassSpec(
        "welfare-records", "Welfare records the tool creates (notes, overrides, interventions, consents, referrals)", 75,
        "years on the student's official file (the tool's copy goes with the CASES21 copy, after transfer)",
        "Department policy: student safety and wellbeing records kept at least 75 years; sexual abuse "
        "incident records at least 99 years (PROS 19/08)", 75, 150,
    ),
    ClassSpec(
        "audit-log", "The audit log (who viewed, changed, exported and printed)", 7, "years",
        "Case-management statement: records kept seven years after the last case", 7, 99,
    ),
    ClassSpec(
        "backup-generations", "Automatic backups: how many are kept", 14, "backups",
        "School's backup practice (newest kept; older ones removed)", 2, 100,
    ),
    ClassSpec(
        "backup-max-age", "Automatic backups: the oldest kept", 8, "weeks",
        "School's backup practice; a disposed student leaves the last backup by this age", 1, 52,
    ),
    ClassSpec(
        "backup-folder", "Automatic backups: the folder they go to", "", "(a folder away from the store)",
        "Chosen by the data custodian (another drive if possible)",
    ),
)
CLASS_BY_CODE = {c.code: c for c in CLASSES}


@dataclass(frozen=True)
class RetentionView:
    code: str
    title: str
    value: int | str
    unit: str
    authority: str
    changed_by: str = ""
    changed_at: datetime | None = None

    @property
    def shown(self) -> str:
        if self.value == "":
            return "(not set)"
        return f"{self.value} {self.unit}"


def retention(user: UserSession) -> list[RetentionView]:
    user.check_active()
    with user.store.read() as session:
        rows = {r.class_code: r for r in session.execute(select(RetentionSetting)).scalars()}
    out = []
    for spec in CLASSES:
        row = rows.get(spec.code)
        value: int | str = spec.default
        if row is not None:
            value = int(row.value) if isinstance(spec.default, int) else row.value
        out.append(RetentionView(spec.code, spec.title, value, spec.unit, spec.authority,
                                 row.changed_by if row else "", row.changed_at if row else None))
    return out


def retention_value(user: UserSession, code: str) -> int | str:
    return next(r.value for r in retention(user) if r.code == code)


def _parse_period(spec: ClassSpec, text: str) -> int:
    words = text.strip().lower().replace(",", " ").split()
    if not words:
        raise UsageError(f"Give a value for {spec.code}.")
    try:
        number = int(words[0].rstrip("ymw"))
    except ValueError:
        raise UsageError(f"'{text}' is not a whole number of {spec.unit.split()[0]}.") from None
    unit = (words[1] if len(words) > 1 else words[0].lstrip("0123456789")) or ""
    if spec.code == "cases21-copy" and unit.startswith("y"):
        number *= 12
    if not spec.low <= number <= spec.high:
        first = spec.unit.split()[0]
        if spec.code == "welfare-records" and number < spec.low:
            raise UsageError("Welfare records must be kept at least 75 years (Department policy); the value cannot be lower.")
        raise UsageError(f"{spec.code} must be between {spec.low} and {spec.high} {first}.")
    return number


def set_retention(user: UserSession, code: str, value: str) -> RetentionView:
    """The custodian sets a class's value (each change is audit-logged with old and new)."""
    user.require(Role.CUSTODIAN)
    spec = CLASS_BY_CODE.get(code.strip().lower())
    if spec is None:
        raise UsageError(f"Unknown retention class '{code}' (the classes are {', '.join(CLASS_BY_CODE)}).")
    if isinstance(spec.default, int):
        stored = str(_parse_period(spec, value))
    else:
        folder = Path(value).expanduser()
        if not folder.is_dir():
            raise UsageError(f"The folder {folder} does not exist.")
        folder = folder.resolve()
        if folder == user.store.files.folder.resolve() or user.store.files.folder.resolve() in folder.parents:
            raise UsageError("Keep backups outside the store folder (use another drive if you can).")
        stored = str(folder)
    old = retention_value(user, spec.code)
    store = user.store
    with store.write() as session:
        row = session.get(RetentionSetting, spec.code)
        if row is None:
            session.add(RetentionSetting(class_code=spec.code, value=stored, changed_by=user.username, changed_at=utcnow()))
        else:
            row.value, row.changed_by, row.changed_at = stored, user.username, utcnow()
        store.audit(session, user.username, "retention.changed", object_type="retention", object_id=spec.code,
                    detail={"old": old, "new": stored})
    return next(r for r in retention(user) if r.code == spec.code)


# -- legal holds -----------------------------------------------------------------------------


@dataclass(frozen=True)
class HoldView:
    id: int
    student_key: str | None
    kind: str
    reason: str
    placed_by: str
    placed_at: datetime
    released_by: str
    released_at: datetime | None
    release_reason: str

    @property
    def active(self) -> bool:
        return self.released_at is None

    @property
    def who(self) -> str:
        return self.student_key or "all students"


def _hold_view(h: LegalHold) -> HoldView:
    return HoldView(h.id, h.student_key, h.kind, h.reason, h.placed_by, h.placed_at, h.released_by,
                    h.released_at, h.release_reason)


def _known_student(session: Any, key: str) -> bool:
    if session.get(Student, key) is not None:
        return True
    conn = session.connection()
    return any(
        conn.exec_driver_sql(f"SELECT 1 FROM {t.source} WHERE {t.key} = ? LIMIT 1", (key,)).first()
        for t in registry.tables(registry.WELFARE)
    )


def add_hold(user: UserSession, student_key: str | None, reason: str, kind: str = "") -> HoldView:
    """A hold on one student (or all, ``student_key`` None): always wins over every class."""
    user.require(*HOLD_PLACERS)
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("Give the reason for the hold (--reason).")
    kind = (kind or "").strip()
    if kind and kind.lower() not in {k.lower() for k in HOLD_KINDS}:
        raise UsageError(f"Unknown kind of hold '{kind}' (the kinds are {', '.join(HOLD_KINDS)}).")
    key = student_key.strip().upper() if student_key else None
    store = user.store
    with store.write() as session:
        if key is not None and not _known_student(session, key):
            raise UsageError(f"There is no student {key} in the store.")
        hold = LegalHold(student_key=key, kind=kind, reason=reason, placed_by=user.username, placed_at=utcnow())
        session.add(hold)
        session.flush()
        store.audit(session, user.username, "hold.placed", object_type="student" if key else "hold",
                    object_id=key or "all", detail={"hold": hold.id, "kind": kind})
        return _hold_view(hold)


def release_hold(user: UserSession, hold_id: int, reason: str) -> HoldView:
    """Lifted only by the data custodian or principal class, with a reason."""
    user.require(*OVERSEERS)
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("Give the reason for releasing the hold (--reason).")
    store = user.store
    with store.write() as session:
        hold = session.get(LegalHold, hold_id)
        if hold is None:
            raise UsageError(f"There is no hold {hold_id}.")
        if hold.released_at is not None:
            raise UsageError(f"Hold {hold_id} was already released on {hold.released_at:%d/%m/%Y}.")
        hold.released_by, hold.released_at, hold.release_reason = user.username, utcnow(), reason
        store.audit(session, user.username, "hold.released", object_type="student" if hold.student_key else "hold",
                    object_id=hold.student_key or "all", detail={"hold": hold.id})
        return _hold_view(hold)


def list_holds(user: UserSession, *, active_only: bool = False) -> list[HoldView]:
    user.require(*HOLD_PLACERS)
    query = select(LegalHold).order_by(LegalHold.id)
    if active_only:
        query = query.where(LegalHold.released_at.is_(None))
    with user.store.read() as session:
        return [_hold_view(h) for h in session.execute(query).scalars()]


# -- the disposal review ---------------------------------------------------------------------

DUE, HELD, AWAITING = "due", "held", "awaiting transfer"


@dataclass(frozen=True)
class ReviewItem:
    student_key: str
    name: str
    status: str  # due | held | awaiting transfer
    exit_date: date
    trigger_date: date
    mirrored_rows: int
    welfare_rows: int
    note: str = ""

    @property
    def what(self) -> str:
        parts = [f"CASES21 copy ({_rows(self.mirrored_rows)})"]
        if self.welfare_rows:
            parts.append(f"welfare records ({_rows(self.welfare_rows)}, transferred first)")
        return "; ".join(parts)


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


@dataclass(frozen=True)
class Review:
    as_of: date
    items: tuple[ReviewItem, ...]
    audit_entries_due: int = 0  # audit-log entries older than the audit-log class

    def of(self, status: str) -> list[ReviewItem]:
        return [i for i in self.items if i.status == status]


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _counts(conn: Any, tables: Iterable[registry.StudentTable], keys: Sequence[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for start in range(0, len(keys), 400):
        chunk = list(keys[start : start + 400])
        marks = ",".join("?" * len(chunk))
        for t in tables:
            for key, n in conn.exec_driver_sql(
                f"SELECT {t.key}, count(*) FROM {t.source} WHERE {t.key} IN ({marks}) GROUP BY {t.key}",
                tuple(chunk),
            ):
                out[key] = out.get(key, 0) + int(n)
    return out


def _untransferred(conn: Any, keys: Sequence[str]) -> set[str]:
    """Students with welfare rows and no transfer made after the newest of them."""
    newest: dict[str, str] = {}
    has_rows: set[str] = set()
    for start in range(0, len(keys), 400):
        chunk = list(keys[start : start + 400])
        marks = ",".join("?" * len(chunk))
        for t in registry.tables(registry.WELFARE):
            latest = f"max({t.changed_column})" if t.changed_column else "''"
            for key, when in conn.exec_driver_sql(
                f"SELECT {t.key}, {latest} FROM {t.source} WHERE {t.key} IN ({marks}) GROUP BY {t.key}",
                tuple(chunk),
            ):
                has_rows.add(key)
                if when and str(when) > newest.get(key, ""):
                    newest[key] = str(when)
    transferred: dict[str, str] = {}
    if has_rows:
        marks = ",".join("?" * len(has_rows))
        for key, when in conn.exec_driver_sql(
            f"SELECT student_key, max(transferred_at) FROM record_transfer WHERE student_key IN ({marks}) GROUP BY student_key",
            tuple(sorted(has_rows)),
        ):
            transferred[key] = str(when)
    return {k for k in has_rows if k not in transferred or newest.get(k, "") > transferred[k]}


def _audit_due(session: Any, years: int, as_of: date) -> tuple[int, int]:
    """(entries due, the last id due): the oldest entries, a prefix of the chain, made before
    ``as_of`` less the audit-log period. The newest entry is always kept (the chain goes on from it)."""
    cutoff = add_months(as_of, -12 * years).isoformat()
    conn = session.connection()
    first_kept = conn.exec_driver_sql("SELECT min(id) FROM audit_entry WHERE at >= ?", (cutoff,)).scalar()
    newest = conn.exec_driver_sql("SELECT max(id) FROM audit_entry").scalar()
    if newest is None:
        return 0, 0
    last_due = min(int(first_kept if first_kept is not None else newest), int(newest)) - 1
    count = conn.exec_driver_sql("SELECT count(*) FROM audit_entry WHERE id <= ?", (last_due,)).scalar()
    return int(count or 0), last_due


def _review(session: Any, months: int, as_of: date, audit_years: int = 7) -> Review:
    students = session.execute(
        select(Student.student_key, Student.first_name, Student.surname, Student.exit_date, Student.status,
               Student.in_extract).where(Student.exit_date.is_not(None)).order_by(Student.student_key)
    ).all()
    left = [s for s in students if (s.status in LEFT_STATUSES or not s.in_extract)
            and add_months(s.exit_date, months) <= as_of]
    keys = [s.student_key for s in left]
    audit_due = _audit_due(session, audit_years, as_of)[0]
    if not keys:
        return Review(as_of, (), audit_due)
    conn = session.connection()
    holds = session.execute(select(LegalHold).where(LegalHold.released_at.is_(None))).scalars().all()
    everyone_held = next((h for h in holds if h.student_key is None), None)
    held = {h.student_key: h for h in holds if h.student_key}
    mirrored = _counts(conn, registry.tables(registry.MIRRORED), keys)
    welfare = _counts(conn, registry.tables(registry.WELFARE), keys)
    untransferred = _untransferred(conn, keys)
    items = []
    for s in left:
        hold = held.get(s.student_key) or everyone_held
        if hold is not None:
            status, note = HELD, f"hold {hold.id} ({hold.kind or 'reason recorded'}) placed {hold.placed_at:%d/%m/%Y} by {hold.placed_by}"
        elif s.student_key in untransferred:
            status, note = AWAITING, "welfare records not yet transferred to the student's official file"
        else:
            status, note = DUE, ""
        items.append(ReviewItem(s.student_key, f"{s.first_name} {s.surname}".strip(), status, s.exit_date,
                                add_months(s.exit_date, months), mirrored.get(s.student_key, 0),
                                welfare.get(s.student_key, 0), note))
    return Review(as_of, tuple(items), audit_due)


def disposal_review(user: UserSession, *, as_of: date | None = None) -> Review:
    """What is due, what is held and what awaits transfer (nothing is changed)."""
    user.require(*OVERSEERS)
    months = int(retention_value(user, "cases21-copy"))
    years = int(retention_value(user, "audit-log"))
    with user.store.read() as session:
        return _review(session, months, as_of or date.today(), years)


REVIEW_HEADERS = ("Status", "Student key", "Name", "Exit date", "Due from", "What will go", "Note")


def review_rows(review: Review) -> list[tuple[Any, ...]]:
    order = {DUE: 0, AWAITING: 1, HELD: 2}
    return [(i.status.capitalize(), i.student_key, i.name, i.exit_date, i.trigger_date, i.what, i.note)
            for i in sorted(review.items, key=lambda i: (order[i.status], i.student_key))]


def export_review(user: UserSession, out: Path, *, force: bool = False, as_of: date | None = None) -> int:
    from mapping_tool.services.export import export_format, write_rows

    review = disposal_review(user, as_of=as_of)
    fmt = export_format(out)
    with atomic_output(out, store_folder=user.store.files.folder, replace=force) as tmp:
        count = write_rows(tmp, REVIEW_HEADERS, review_rows(review), fmt=fmt, title="Disposal review")
    with user.store.write() as session:
        user.store.audit(session, user.username, "export.disposal-review", object_type="export", object_id=out.suffix,
                         detail={"rows": count, "student_keys": [i.student_key for i in review.items]})
    return count


# -- disposal runs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunView:
    id: int
    status: str
    prepared_by: str
    prepared_at: datetime
    approved_by: str
    approved_at: datetime | None
    run_by: str
    run_at: datetime | None
    students: int
    counts: dict[str, Any] = field(default_factory=dict)


def _run_view(session: Any, run: DisposalRun) -> RunView:
    n = session.execute(select(DisposalRunItem).where(DisposalRunItem.run_id == run.id)).scalars().all()
    counts = json.loads(run.counts_json or "{}")
    return RunView(run.id, run.status, run.prepared_by, run.prepared_at, run.approved_by, run.approved_at,
                   run.run_by, run.run_at, len(n) if run.status != "done" else int(counts.get("students", 0)), counts)


def list_runs(user: UserSession) -> list[RunView]:
    user.require(*OVERSEERS)
    with user.store.read() as session:
        return [_run_view(session, r) for r in session.execute(select(DisposalRun).order_by(DisposalRun.id.desc())).scalars()]


def prepare_run(user: UserSession, *, as_of: date | None = None) -> RunView:
    """A run of every student due now (not held, welfare records transferred)."""
    user.require(*OVERSEERS)
    months = int(retention_value(user, "cases21-copy"))
    years = int(retention_value(user, "audit-log"))
    store = user.store
    with store.write() as session:
        review = _review(session, months, as_of or date.today(), years)
        due = review.of(DUE)
        if not due and not review.audit_entries_due:
            raise UsageError(
                f"Nothing is due for disposal ({len(review.of(HELD))} held, {len(review.of(AWAITING))} awaiting transfer)."
            )
        run = DisposalRun(status="prepared", prepared_by=user.username, prepared_at=utcnow(),
                          counts_json=json.dumps({"students": len(due), "audit_entries": review.audit_entries_due,
                                                  "as_of": review.as_of.isoformat()}))
        session.add(run)
        session.flush()
        session.add_all(DisposalRunItem(run_id=run.id, student_key=i.student_key, trigger_date=i.trigger_date) for i in due)
        session.flush()
        store.audit(session, user.username, "disposal.prepared", object_type="disposal-run", object_id=str(run.id),
                    detail={"students": len(due)})
        return _run_view(session, run)


def approve_run(user: UserSession, run_id: int, password: str) -> RunView:
    """The principal's approval: another principal-class or custodian account, re-entering
    their own password."""
    from mapping_tool.services.auth import verify_password

    user.require(*OVERSEERS)
    store = user.store
    with store.read() as session:
        run = session.get(DisposalRun, run_id)
        if run is None:
            raise UsageError(f"There is no disposal run {run_id}.")
        if run.status != "prepared":
            raise UsageError(f"Disposal run {run_id} is {run.status}, not awaiting approval.")
        if run.prepared_by == user.username:
            raise PermissionDenied(f"Disposal run {run_id} was prepared by you; another principal-class or custodian account must approve it.")
    if not verify_password(user, password):
        raise AuthenticationError("The password is not correct; the run was not approved.")
    with store.write() as session:
        run = session.get(DisposalRun, run_id)
        assert run is not None
        if run.status != "prepared":
            raise UsageError(f"Disposal run {run_id} is {run.status}, not awaiting approval.")
        run.status, run.approved_by, run.approved_at = "approved", user.username, utcnow()
        store.audit(session, user.username, "disposal.approved", object_type="disposal-run", object_id=str(run_id))
        return _run_view(session, run)


def _mentions(conn: Any, t: registry.StudentTable, keys: Sequence[str]) -> list[int]:
    """rowids of rows whose free text names one of ``keys`` as a whole word."""
    import re

    if not t.text_columns or not keys:
        return []
    pattern = re.compile(r"(?<![A-Za-z0-9])(" + "|".join(re.escape(k) for k in keys) + r")(?![A-Za-z0-9])")
    hits = []
    for row in conn.exec_driver_sql(f"SELECT rowid, {', '.join(t.text_columns)} FROM {t.table}"):
        if any(v and pattern.search(str(v)) for v in row[1:]):
            hits.append(int(row[0]))
    return hits


def _delete_students(conn: Any, keys: Sequence[str]) -> dict[str, int]:
    deleted: dict[str, int] = {}
    for t in registry.REGISTRY:
        for start in range(0, len(mentioned := _mentions(conn, t, keys)), 400):
            chunk_ids = mentioned[start : start + 400]
            result = conn.exec_driver_sql(
                f"DELETE FROM {t.table} WHERE rowid IN ({','.join('?' * len(chunk_ids))})", tuple(chunk_ids)
            )
            deleted[t.kind] = deleted.get(t.kind, 0) + max(result.rowcount or 0, 0)
    for start in range(0, len(keys), 400):
        chunk = list(keys[start : start + 400])
        marks = ",".join("?" * len(chunk))
        for t in registry.deletion_order():
            result = conn.exec_driver_sql(t.delete_sql(marks), tuple(chunk))
            deleted[t.kind] = deleted.get(t.kind, 0) + max(result.rowcount or 0, 0)
    return deleted


def _backups_expire_by(session: Any, keys: Sequence[str], max_age_weeks: int) -> date | None:
    if not keys:
        return None
    newest = None
    conn = session.connection()
    for start in range(0, len(keys), 400):
        chunk = list(keys[start : start + 400])
        marks = ",".join("?" * len(chunk))
        row = conn.exec_driver_sql(
            "SELECT max(m.created_at) FROM backup_manifest m JOIN backup_manifest_student s ON s.backup_id = m.id "
            f"WHERE m.removed_at IS NULL AND s.student_key IN ({marks})", tuple(chunk),
        ).first()
        if row and row[0] and (newest is None or str(row[0]) > newest):
            newest = str(row[0])
    if newest is None:
        return None
    return (datetime.fromisoformat(newest) + timedelta(weeks=max_age_weeks)).date()


def execute_run(user: UserSession, run_id: int, *, as_of: date | None = None) -> RunView:
    """Holds and transfers are checked again; everything due goes in one transaction; then the
    WAL is checkpointed and truncated and the file vacuumed (secure_delete is always on)."""
    from mapping_tool.services import flags

    user.require(*OVERSEERS)
    months = int(retention_value(user, "cases21-copy"))
    years = int(retention_value(user, "audit-log"))
    max_age = int(retention_value(user, "backup-max-age"))
    store = user.store
    with store.write() as session:
        run = session.get(DisposalRun, run_id)
        if run is None:
            raise UsageError(f"There is no disposal run {run_id}.")
        if run.status == "prepared":
            raise UsageError(f"Disposal run {run_id} has not been approved yet (disposal approve {run_id}, by another account).")
        if run.status != "approved":
            raise UsageError(f"Disposal run {run_id} is {run.status}; it cannot be run again.")
        planned = [i.student_key for i in session.execute(select(DisposalRunItem).where(DisposalRunItem.run_id == run_id)).scalars()]
        review = _review(session, months, as_of or date.today(), years)
        still_due = {i.student_key: i for i in review.of(DUE)}
        keys = [k for k in planned if k in still_due]
        skipped = len(planned) - len(keys)
        welfare_students = sum(1 for k in keys if still_due[k].welfare_rows)
        expire_by = _backups_expire_by(session, keys, max_age)
        conn = session.connection()
        conn.exec_driver_sql("PRAGMA secure_delete = ON")
        from mapping_tool.services import referrals

        disposed_notes = referrals.file_note_ids(conn, keys)  # listed in the chain by id
        deleted = _delete_students(conn, keys)
        referrals.record_disposed_file_notes(store, session, user.username, run_id, disposed_notes)
        conn.exec_driver_sql("DELETE FROM disposal_run_item WHERE run_id = ?", (run_id,))
        flags._bump_generation(conn.connection.driver_connection)
        now = utcnow()
        audit_removed = _dispose_of_old_audit_entries(store, session, user.username, years, review.as_of, run_id, now)
        if audit_removed:
            session.add(DisposalRegisterEntry(run_id=run_id, class_code="audit-log", prepared_by=run.prepared_by,
                                              approved_by=run.approved_by, run_by=user.username, disposed_at=now,
                                              students=0, records=audit_removed, backups_expire_by=None))
        for code, students, rows in (("cases21-copy", len(keys), deleted.get(registry.MIRRORED, 0)),
                                     ("welfare-records", welfare_students, deleted.get(registry.WELFARE, 0))):
            if code == "welfare-records" and not students:
                continue  # nothing of this class went
            session.add(DisposalRegisterEntry(run_id=run_id, class_code=code, prepared_by=run.prepared_by,
                                              approved_by=run.approved_by, run_by=user.username, disposed_at=now,
                                              students=students, records=rows, backups_expire_by=expire_by))
        counts = {"students": len(keys), "skipped": skipped, "mirrored_rows": deleted.get(registry.MIRRORED, 0),
                  "welfare_rows": deleted.get(registry.WELFARE, 0), "admin_rows": deleted.get(registry.ADMIN, 0),
                  "audit_entries": audit_removed,
                  "backups_expire_by": expire_by.isoformat() if expire_by else None}
        run.status, run.run_by, run.run_at, run.counts_json = "done", user.username, now, json.dumps(counts)
        store.audit(session, user.username, "disposal.run", object_type="disposal-run", object_id=str(run_id), detail=counts)
        view = _run_view(session, run)
    getattr(store, "_flags_cache", {}).clear()
    wipe_free_space(user)
    logger.info("disposal run %d: %d students disposed of", run_id, len(keys))
    return view


def _dispose_of_old_audit_entries(
    store: Any, session: Any, actor: str, years: int, as_of: date, run_id: int, now: datetime
) -> int:
    """Entries past the audit-log period go; the log then starts at the first kept entry and
    the hash it follows (kept in audit_log_start), so ``audit verify`` still checks the chain.
    The file notes' digests those entries hold are restated first, so every note still in the
    store stays checked."""
    count, last_due = _audit_due(session, years, as_of)
    if not count:
        return 0
    from mapping_tool.services import referrals

    referrals.restate_file_note_digests(store, session, actor, run_id)
    session.flush()
    conn = session.connection()
    last_hash = conn.exec_driver_sql("SELECT hash FROM audit_entry WHERE id = ?", (last_due,)).scalar()
    conn.exec_driver_sql("DELETE FROM audit_entry WHERE id <= ?", (last_due,))
    start = session.get(AuditLogStart, 1)
    if start is None:
        session.add(AuditLogStart(id=1, first_id=last_due + 1, prev_hash=last_hash, run_id=run_id, removed=count,
                                  removed_at=now))
    else:
        start.first_id, start.prev_hash, start.run_id = last_due + 1, last_hash, run_id
        start.removed, start.removed_at = start.removed + count, now
    session.flush()
    return count


def wipe_free_space(user: UserSession) -> None:
    """After a deletion: WAL checkpointed and truncated, the file rebuilt (VACUUM), and the WAL
    that VACUUM wrote checkpointed and truncated again, so no freed page keeps old content."""
    engine = user.store.engine
    engine.dispose()  # idle pooled connections must not pin old WAL frames
    db.run_outside_transaction(engine, "PRAGMA wal_checkpoint(TRUNCATE)")
    db.run_outside_transaction(engine, "VACUUM")
    busy = db.run_outside_transaction(engine, "PRAGMA wal_checkpoint(TRUNCATE)")
    if busy and busy[0][0]:
        logger.warning("the WAL could not be truncated after disposal (another reader); it is at the next close")


REGISTER_HEADERS = ("Entry", "Disposal run", "Class", "Disposed of on", "Prepared by", "Approved by", "Run by",
                    "Students", "Records", "Backups holding them expire by")


def register(user: UserSession) -> list[tuple[Any, ...]]:
    user.require(*OVERSEERS)
    with user.store.read() as session:
        rows = session.execute(select(DisposalRegisterEntry).order_by(DisposalRegisterEntry.id)).scalars().all()
    titles = {c.code: c.title.split(" (")[0] for c in CLASSES}
    return [(r.id, r.run_id, titles.get(r.class_code, r.class_code), r.disposed_at, r.prepared_by, r.approved_by,
             r.run_by, r.students, r.records, r.backups_expire_by or "no backup holds them") for r in rows]


def export_register(user: UserSession, out: Path, *, force: bool = False) -> int:
    from mapping_tool.services.export import export_format, write_rows

    rows = register(user)
    fmt = export_format(out)
    with atomic_output(out, store_folder=user.store.files.folder, replace=force) as tmp:
        count = write_rows(tmp, REGISTER_HEADERS, rows, fmt=fmt, title="Disposal register")
    with user.store.write() as session:
        user.store.audit(session, user.username, "export.disposal-register", object_type="export", object_id=out.suffix,
                         detail={"rows": count})
    return count


# -- the student's record: transfer and subject access ----------------------------------------


@dataclass(frozen=True)
class Section:
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    note: str = ""


@dataclass(frozen=True)
class StudentRecord:
    student_key: str
    name: str
    school: str
    produced_by: str
    produced_at: datetime
    purpose: str
    sections: tuple[Section, ...]


TITLES = {"am_code": "AM", "pm_code": "PM", "am_approved": "AM approved", "pm_approved": "PM approved",
          "am_source": "AM source", "pm_source": "PM source", "snapshot_id": "Extract", "vsn": "VSN",
          "vcaa_number": "VCAA number", "ema": "EMA/CSEF", "koorie": "Koorie", "in_extract": "In latest extract",
          "year_semester": "Year and semester", "rule_version": "Rule version",
          "earlier_value": "Old value", "changed_to": "New value",
          "values_json": "Information disclosed", "agency_details": "Agency's details as sent",
          "form_details": "School and staff as named on the form"}

#: Columns kept as JSON lists of [name, value] pairs (a file note's disclosed information, the
#: agency's details it went to, the school and staff the form named), one "name: value" per line.
_PAIR_COLUMNS = frozenset({"values_json", "agency_details", "form_details"})


def _pairs(column: str, value: Any) -> Any:
    from mapping_tool.services.referrals import AGENCY_DETAIL_WORDS, FORM_DETAIL_WORDS

    try:
        pairs = json.loads(value) if value else []
        words = {"agency_details": AGENCY_DETAIL_WORDS, "form_details": FORM_DETAIL_WORDS}.get(column)
        if words is not None:  # a detail the form did not have (blank) was not on it
            pairs = [(words.get(name, name), shown) for name, shown in pairs if shown]
        return "\n".join(f"{name}: {shown}" for name, shown in pairs)
    except (TypeError, ValueError):
        return value


def _title(column: str) -> str:
    return TITLES.get(column) or column.replace("_", " ").capitalize()


def _shown_value(table: str, conn: Any) -> Callable[[str, Any], Any]:
    """Words a school uses: yes/no for flags, absence codes with their description, extracts
    by their date."""
    from mapping_tool.store import schema

    columns = schema.metadata.tables[table].c
    booleans = {c.name for c in columns if isinstance(c.type, Boolean)}
    absences: dict[Any, str] = {}
    extracts: dict[Any, Any] = {}
    if table == "attendance":
        absences = {code: f"{code} {desc}".strip() for code, desc in conn.exec_driver_sql("SELECT code, description FROM absence_type")}
    if "snapshot_id" in columns:
        extracts = {sid: _cell(d) for sid, d in conn.exec_driver_sql("SELECT id, extract_date FROM snapshot")}

    def shown(column: str, value: Any) -> Any:
        if column in booleans and value is not None:
            return "yes" if value else "no"
        if column in ("am_code", "pm_code"):
            return absences.get(value, value)
        if column == "snapshot_id":
            return extracts.get(value, value)
        if column in _PAIR_COLUMNS:
            return _pairs(column, value)
        return _cell(value)

    return shown


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, str) and len(value) >= 10 and value[4] == "-" and value[7] == "-":
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        return parsed.strftime("%d/%m/%Y %H:%M") if len(value) > 10 else parsed.strftime("%d/%m/%Y")
    return value


def _flags_section(conn: Any, key: str) -> Section:
    dates = {sid: d for sid, d in conn.exec_driver_sql("SELECT id, extract_date FROM snapshot")}
    rows = []
    for sid, version, tier, count, data in conn.exec_driver_sql(
        "SELECT snapshot_id, rule_version, tier, flag_count, data FROM student_flags WHERE student_key = ? "
        "ORDER BY snapshot_id, rule_version", (key,),
    ):
        values = json.loads(data)
        flagged = [k.removeprefix("flag_") for k, v in values.items() if v is True and k.startswith("flag_")]
        measures = "; ".join(f"{_title(k)}: {round(v, 1) if isinstance(v, float) else v}" for k, v in values.items()
                             if k not in ("student_key", "tier", "flag_count") and v not in (None, "", True, False))
        rows.append((_cell(dates.get(sid)), version, tier, count, ", ".join(_title(f) for f in flagged) or "none", measures))
    return Section("Measures and flags at each extract",
                   ("Extract", "Rule version", "Tier", "Flags", "Flags raised", "Measures"), tuple(rows))


def _explanations(user: UserSession, key: str) -> Section | None:
    from mapping_tool.services import flags

    try:
        view = flags.student_flags(user, key, audit=False)
    except Exception:  # noqa: BLE001 - a student no longer in the student table has no current flags
        return None
    if not view.explanations:
        return None
    when = view.extract_date.strftime("%d/%m/%Y") if view.extract_date else ""
    return Section(f"Why the latest flags were raised (extract of {when}, rule version {view.rule_version})",
                   ("Explanation",), tuple((s,) for s in view.explanations))


def _evaluations(user: UserSession, key: str) -> Section | None:
    """Each intervention's evaluation for this student (issue 8 s 3: before, after, change beside
    similar students), as the student panel shows it; none when there is nothing to evaluate."""
    from mapping_tool.errors import KnownError
    from mapping_tool.services import interventions

    try:
        view = interventions.student_interventions(user, key, audit=False)
    except KnownError:  # a student no longer in the extract is not evaluated
        return None
    if not view.evaluations:
        return None

    def num(value: float | None) -> Any:
        return None if value is None else round(value, 1)

    rows = tuple((e.intervention, e.measure.replace("_", " "), _cell(e.start), _cell(e.end), e.status, num(e.before),
                  num(e.after), num(e.change), num(e.comparison_change), num(e.difference), e.comparisons,
                  e.goal_target, None if e.goal_met is None else ("yes" if e.goal_met else "no"))
                 for e in view.evaluations)
    return Section("Intervention evaluations", ("Programme", "Measure", "Start", "End", "Status", "Before", "After",
                                                "Change", "Similar students' change", "Difference",
                                                "Similar students", "Goal target", "Goal met"), rows,
                   "Compared with similar students of the same year level; this does not prove cause.")


MIRRORED_NOTE = ("Mirrored from CASES21: corrections are made in CASES21 by the school office, and the next "
                 "refresh of the tool carries them.")
WELFARE_NOTE = "Created in this tool: a correction is recorded as a new version that keeps the old one visible."
# How each kind of tool-owned record is corrected, said where it is true (the default above otherwise)
SECTION_NOTES = {
    "intervention_mapping": ("Created in this tool. A changed goal, review date or responsible staff member keeps its "
                             "earlier value (see the earlier goals, review dates and responsible staff)."),
    "intervention_mapping_change": "Each earlier value, with who changed it, when and why.",
    "consent_record": ("Created in this tool. A consent is never edited: one recorded wrongly is replaced by a "
                       "corrected record, and the wrong one stays here, marked as recorded in error with the reason."),
    "file_note": ("Created in this tool. A file note is never changed: a correction is a separate note that points at "
                  "the note it corrects."),
    "intervention_decision": ("Created in this tool: the meeting's decisions as made. A note made from a decision is "
                              "corrected in the notes, which show every version."),
}
NOTES_NOTE = ("Created in this tool. A corrected note shows every version: the current text and each earlier "
              "text, with who replaced it, when and why.")


def _notes_section(conn: Any, key: str) -> Section:
    """The student's notes, each with every version (issue 10 s 3): the earlier texts of a
    corrected note first, then its current text."""
    earlier: dict[int, list[tuple[Any, ...]]] = {}
    for note_id, version, text, written_by, written_at, replaced_by, replaced_at, reason in conn.exec_driver_sql(
        "SELECT v.note_id, v.version, v.text, v.written_by, v.written_at, v.replaced_by, v.replaced_at, v.reason "
        "FROM student_note_version v JOIN student_note n ON n.id = v.note_id WHERE n.student_key = ? "
        "ORDER BY v.note_id, v.version", (key,),
    ):
        earlier.setdefault(note_id, []).append((version, text, written_by, written_at, replaced_by, replaced_at, reason))
    rows: list[tuple[Any, ...]] = []
    for note_id, author, created_at, text, sensitive in conn.exec_driver_sql(
        "SELECT id, author, created_at, text, sensitive FROM student_note WHERE student_key = ? ORDER BY created_at, id",
        (key,),
    ):
        label = "yes" if sensitive else "no"
        versions = earlier.get(note_id, [])
        for version, old, written_by, written_at, replaced_by, replaced_at, reason in versions:
            rows.append((note_id, f"{version} (replaced)", _cell(written_at), written_by, label, old,
                         f"replaced {_cell(replaced_at)} by {replaced_by}: {reason}"))
        if versions:
            last = versions[-1]
            rows.append((note_id, f"{len(versions) + 1} (current)", _cell(last[5]), last[4], label, text,
                         f"corrected {_cell(last[5])} by {last[4]}"))
        else:
            rows.append((note_id, "1 (current)", _cell(created_at), author, label, text, ""))
    return Section("Notes", ("Note", "Version", "Written", "Written by", "Sensitive", "Text", "Correction"),
                   tuple(rows), NOTES_NOTE)


def build_record(user: UserSession, student_key: str, *, purpose: str, with_access: bool) -> StudentRecord:
    """Everything the tool holds about one student, section by section (from the registry)."""
    from mapping_tool.services import audit

    key = (student_key or "").strip().upper()
    if not key:
        raise UsageError("Give the student's key (--student KEY).")
    sections: list[Section] = []
    with user.store.read() as session:
        if not _known_student(session, key):
            raise UsageError(f"There is no student {key} in the store.")
        student = session.get(Student, key)
        school = session.execute(select(School)).scalars().first()
        conn = session.connection()
        for t in registry.REGISTRY:
            if t.kind == registry.ADMIN:
                continue
            if t.table == "student_flags":
                sections.append(_flags_section(conn, key))
                continue
            if t.table == "student_note":
                sections.append(_notes_section(conn, key))
                continue
            if t.table == "student_note_version":  # shown with their notes, above
                continue
            result = conn.exec_driver_sql(t.record_sql(), (key,))
            cols = [c for c in result.keys() if c not in t.hidden_columns and (c != t.column or t.table == "student")]
            idx = [list(result.keys()).index(c) for c in cols]
            shown = _shown_value(t.table, conn)
            rows = tuple(tuple(shown(c, r[i]) for c, i in zip(cols, idx, strict=True)) for r in result)
            if t.table == "student" and rows:  # one record: show it as field / value
                sections.append(Section(t.title, ("Field", "Value"), tuple((_title(c), v) for c, v in zip(cols, rows[0], strict=True)),
                                        MIRRORED_NOTE))
                continue
            note = MIRRORED_NOTE if t.kind == registry.MIRRORED else SECTION_NOTES.get(t.table, WELFARE_NOTE)
            sections.append(Section(t.title, tuple(_title(c) for c in cols), rows, note))
    evaluated = _evaluations(user, key)
    if evaluated is not None:
        sections.insert(next(i for i, s in enumerate(sections) if s.title == "Interventions") + 1, evaluated)
    explained = _explanations(user, key)
    if explained is not None:
        sections.insert(next(i for i, s in enumerate(sections) if s.title.startswith("Measures")) + 1, explained)
    if with_access:
        entries = audit.entries(user, student=key)
        sections.append(Section("Who accessed the record", ("When (UTC)", "User", "Action", "Detail"),
                                _access_rows(reversed(entries)),
                                "Lists of students that included this student are counted per user and day."))
    name = f"{student.first_name} {student.surname}".strip() if student else ""
    return StudentRecord(key, name, school.school_name if school else "", user.username, utcnow(), purpose, tuple(sections))


def _access_rows(entries: Iterable[Any]) -> tuple[tuple[Any, ...], ...]:
    """Every entry, except that lists the student appeared in are one row per user and day
    (a year of class lists would otherwise be thousands of rows)."""
    rows: list[list[Any]] = []
    lists: dict[tuple[str, str], list[Any]] = {}
    for e in entries:
        when = e.at[:16].replace("T", " ")
        if e.action == "students.listed":
            day = (e.at[:10], e.actor)
            if day in lists:
                lists[day][3] += 1
                continue
            lists[day] = [when, e.actor, e.action, 1]
            rows.append(lists[day])
            continue
        rows.append([when, e.actor, e.action, _access_detail(e.detail)])
    for row in lists.values():
        n = row[3]
        row[3] = "shown in a list of students" + (f" {n} times that day (the first at this time)" if n > 1 else "")
    return tuple(tuple(r) for r in rows)


def _access_detail(detail: str) -> str:
    """An audit entry's detail, readable: a list of students shown becomes its size (the other
    students' keys are not this student's information)."""
    try:
        data = json.loads(detail)
    except ValueError:
        return detail
    if not isinstance(data, dict):
        return detail
    parts = []
    for k, v in data.items():
        if k in ("student_keys",) and isinstance(v, list):
            parts.append(f"in a list of {len(v)} students")
        elif k.endswith("sha256") or v in (None, "", [], {}):
            continue
        elif isinstance(v, list):
            parts.append(f"{k.replace('_', ' ')}: {', '.join(map(str, v))}")
        else:
            parts.append(f"{k.replace('_', ' ')}: {v}")
    return "; ".join(parts)


RECORD_STYLE_NOTE = "Dates are dd/mm/yyyy. Times are UTC."


WIDE_SECTION = 14  # more columns than fit across an A4 page: each record as field / value lines


def record_html(record: StudentRecord) -> str:
    """The record as HTML for the UI's PDF writer (QTextDocument): escaped, ruled tables."""
    out = [
        f"<h2>{escape(record.purpose)}: {escape(record.name or record.student_key)}</h2>",
        f"<p class='meta'>Student key {escape(record.student_key)} &middot; {escape(record.school)} &middot; "
        f"produced by {escape(record.produced_by)} on {record.produced_at:%d/%m/%Y %H:%M} UTC. {RECORD_STYLE_NOTE}</p>",
    ]
    for s in record.sections:
        out.append(f"<h3>{escape(s.title)}</h3>")
        if s.note:
            out.append(f"<p class='meta'><i>{escape(s.note)}</i></p>")
        if not s.rows:
            out.append("<p class='meta'>None held.</p>")
            continue
        if len(s.headers) > WIDE_SECTION:  # consents, referrals, file notes: one field a line per record
            for row in s.rows:
                out.append("<table class='list' width='100%' cellspacing='0' cellpadding='2'><tbody>")
                out.extend(f"<tr><th width='28%' align='left'>{escape(h)}</th><td>{escape('' if v is None else _yes_no(v))}</td></tr>"
                           for h, v in zip(s.headers, row, strict=True))
                out.append("</tbody></table><p></p>")
            continue
        out.append("<table class='list' width='100%' cellspacing='0' cellpadding='2'><thead><tr>")
        out.extend(f"<th>{escape(h)}</th>" for h in s.headers)
        out.append("</tr></thead><tbody>")
        for row in s.rows:
            out.append("<tr>" + "".join(f"<td>{escape('' if v is None else _yes_no(v))}</td>" for v in row) + "</tr>")
        out.append("</tbody></table>")
    return "\n".join(out)


def _yes_no(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def write_record_xlsx(record: StudentRecord, path: Path) -> None:
    """One sheet per section; every text cell written as text (never a formula)."""
    import io

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    cover = wb.create_sheet("Record")
    for line in ((record.purpose,), ("Student key", record.student_key), ("Name", record.name), ("School", record.school),
                 ("Produced by", record.produced_by), ("Produced on (UTC)", record.produced_at.strftime("%d/%m/%Y %H:%M"))):
        cover.append([_text_cell(cover, v) for v in line])
    used: set[str] = {"Record"}
    for s in record.sections:
        title = "".join(ch for ch in s.title if ch not in "[]:*?/\\")[:28]
        base, n = title, 2
        while title in used:
            title, n = f"{base[:25]} {n}", n + 1
        used.add(title)
        ws = wb.create_sheet(title)
        head = []
        for h in s.headers:
            c = WriteOnlyCell(ws, value=h)
            c.font = bold
            head.append(c)
        ws.append(head)
        for row in s.rows:
            ws.append([_text_cell(ws, v) for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    path.write_bytes(buffer.getvalue())


def _text_cell(ws: Any, value: Any) -> Any:
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    cell = WriteOnlyCell(ws, value="" if value is None else _yes_no(value))
    cell.data_type = "s"
    return cell


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class TransferResult:
    student_key: str
    pdf: Path
    xlsx: Path


def transfer(user: UserSession, student_key: str, out_dir: Path, render_pdf: PdfRenderer, *, force: bool = False) -> TransferResult:
    """The student's record for the official file (PDF, and Excel of the same), recorded."""
    user.require(*TRANSFERRERS)
    out_dir = Path(out_dir).expanduser()
    if not out_dir.is_dir():
        raise UsageError(f"The folder {out_dir} does not exist.")
    record = build_record(user, student_key, purpose="Student record for the official file", with_access=False)
    key = record.student_key
    pdf_path, xlsx_path = out_dir / f"{key} student record.pdf", out_dir / f"{key} student record.xlsx"
    folder = user.store.files.folder
    with atomic_output(pdf_path, store_folder=folder, replace=force) as pdf_tmp, \
            atomic_output(xlsx_path, store_folder=folder, replace=force) as xlsx_tmp:
        render_pdf(record_html(record), pdf_tmp, f"Student record {key}")
        write_record_xlsx(record, xlsx_tmp)
        pdf_hash, xlsx_hash = _sha256(pdf_tmp), _sha256(xlsx_tmp)
    with user.store.write() as session:
        session.add(RecordTransfer(student_key=key, transferred_by=user.username, transferred_at=utcnow(),
                                   pdf_sha256=pdf_hash, xlsx_sha256=xlsx_hash))
        user.store.audit(session, user.username, "records.transferred", object_type="student", object_id=key,
                         detail={"pdf_sha256": pdf_hash, "xlsx_sha256": xlsx_hash})
    return TransferResult(key, pdf_path, xlsx_path)


def transfer_all_due(user: UserSession, out_dir: Path, render_pdf: PdfRenderer, *, force: bool = False,
                     as_of: date | None = None) -> list[TransferResult]:
    user.require(*OVERSEERS)
    waiting = disposal_review(user, as_of=as_of).of(AWAITING)
    return [transfer(user, i.student_key, out_dir, render_pdf, force=force) for i in waiting]


def subject_access(user: UserSession, student_key: str, out: Path, render_pdf: PdfRenderer | None, *, force: bool = False) -> Path:
    """Everything the tool holds about one student, with who accessed it (IPP 6)."""
    user.require(*OVERSEERS)
    out = Path(out).expanduser()
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "xlsx"):
        raise UsageError(f"Name the file .pdf or .xlsx (not '{out.suffix or out.name}').")
    if fmt == "pdf" and render_pdf is None:
        raise UsageError("A PDF cannot be made here; name the file .xlsx.")
    record = build_record(user, student_key, purpose="Access request: everything the tool holds", with_access=True)
    with atomic_output(out, store_folder=user.store.files.folder, replace=force) as tmp:
        if fmt == "pdf":
            assert render_pdf is not None
            render_pdf(record_html(record), tmp, f"Access request {record.student_key}")
        else:
            write_record_xlsx(record, tmp)
        digest = _sha256(tmp)
    with user.store.write() as session:
        user.store.audit(session, user.username, "records.subject-access", object_type="student", object_id=record.student_key,
                         detail={"format": fmt, "sha256": digest, "sections": len(record.sections)})
    return out
