"""Refreshing the store from a CASES21 eduHub extract (and optionally a VASS file).

All or nothing: the files are read and validated first (``importers``), then one write
transaction replaces the mirrored tables and records the snapshot; any error, a full disk or
Cancel rolls everything back. What the tool owns (interventions, notes, consents, referrals,
file notes) is keyed by the CASES21 student key and never touched. A student missing from a new
extract is kept and marked as no longer in the extract. Identical files (same SHA-256) add no
snapshot and no copy, only an audit entry. Another school's extract is refused.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.store.models import ImportFinding, Snapshot

logger = logging.getLogger(__name__)


class ImportRefused(KnownError):
    """The extract cannot be imported (validation errors, another school's data)."""

    exit_code = 2

    def __init__(self, message: str, findings: Sequence[Any] = ()) -> None:
        super().__init__(message)
        self.findings = tuple(findings)


class ImportCancelledError(KnownError):
    exit_code = 3


class ImportNeedsConfirmation(ImportRefused):
    """The refresh looks implausible (many students vanish, a key now names another child):
    nothing is imported until the custodian confirms (the window's tick box, the CLI's
    ``--accept-warnings``)."""

    def __init__(self, notices: Sequence[str]) -> None:
        # the message names no student (messages can reach error dialogs); the window and the
        # command line list the notices themselves, with the keys, to the data custodian
        super().__init__(
            "This refresh looks implausible and was not imported: " + " ".join(_unnamed(n) for n in notices)
            + " Check the extract; if it is right, confirm to import it anyway."
        )
        self.notices = tuple(notices)


#: More than this share of the current students vanishing at once needs confirmation.
VANISH_LIMIT = 0.10


@dataclass(frozen=True)
class ImportResult:
    snapshot_id: int | None
    extract_date: date
    school_number: str
    students_in_extract: int
    added: int
    changed: int
    gone: int
    unchanged: bool
    dry_run: bool
    files: tuple[Any, ...]
    warnings: tuple[Any, ...]
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    vass_unmatched: int = 0
    #: implausible-refresh warnings the custodian confirmed (or, in a dry run, would have to)
    notices: tuple[str, ...] = ()
    #: keys that now belong to another child: (key, retired key of the earlier child)
    replaced: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SnapshotView:
    id: int
    extract_date: date
    imported_at: Any
    imported_by: str
    files: tuple[dict[str, Any], ...]
    row_counts: dict[str, int]
    added: int
    changed: int
    gone: int
    warning_count: int


STUDENT_COLUMNS = (
    "student_key", "surname", "first_name", "preferred_name", "gender", "birth_date", "status",
    "entry_date", "exit_date", "year_level", "home_group", "house", "family_key", "vsn", "vcaa_number",
    "koorie", "refugee_background", "disability", "integration", "youth_allowance", "access_alert",
    "risk_alert", "medical_alert", "ema", "parent_a_occupation_group", "parent_b_occupation_group",
    "family_occupation_group",
)
ATTENDANCE_COLUMNS = (
    "student_key", "date", "year_level", "am_code", "am_approved", "am_source", "pm_code", "pm_approved", "pm_source",
)


class _Progress:
    """Scales a caller's progress into a sub-range and honours Cancel."""

    def __init__(self, outer: Any, start: float, end: float) -> None:
        self.outer, self.start, self.end = outer, start, end

    def report(self, fraction: float, text: str) -> None:
        if self.outer is not None:
            self.outer.report(self.start + (self.end - self.start) * fraction, text)

    def cancelled(self) -> bool:
        return bool(self.outer is not None and self.outer.cancelled())


def _check_cancel(progress: Any) -> None:
    if progress is not None and progress.cancelled():
        from importers import ImportCancelled

        raise ImportCancelled("The import was cancelled; nothing was changed.")


class AlreadyImported(KnownError):
    """Another import of the same files finished first (checked inside the write transaction,
    so two imports of one extract at once record it once)."""

    exit_code = 2


def _refuse_if_imported(conn, digest: str) -> None:  # type: ignore[no-untyped-def]
    """Inside the import's write transaction (BEGIN IMMEDIATE: imports run one after another)."""
    row = conn.execute("SELECT id FROM snapshot WHERE content_hash = ? LIMIT 1", (digest,)).fetchone()
    if row is not None:
        raise AlreadyImported(
            f"These files were imported by another import while this one ran (snapshot {row[0]}); nothing new was added."
        )


def content_hash(files: Sequence[Any]) -> str:
    digest = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.name):
        digest.update(f"{f.name}\0{f.sha256}\n".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class PreparedImport:
    """A read and validated extract, ready to apply (or refused, with its findings)."""

    extract: Any
    vass_results: Any
    files: tuple[Any, ...]
    findings: tuple[Any, ...]
    digest: str
    row_counts: dict[str, int]
    already_snapshot: int | None
    added: int
    changed: int
    gone: int
    vass_unmatched: int
    seconds: float
    #: implausible-refresh warnings that need confirmation before the import is applied
    notices: tuple[str, ...] = ()
    #: keys whose birth date and name both changed: another child under the same key
    replaced: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[Any, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> tuple[Any, ...]:
        return tuple(f for f in self.findings if f.level == "warning")

    @property
    def school_number(self) -> str:
        return str(self.extract.school_number)

    @property
    def extract_date(self) -> date:
        return self.extract.extract_date  # type: ignore[no-any-return]


def prepare_cases21(
    user: UserSession, folder: Path, *, vass: Path | None = None, vass_mapping: Any = None, progress: Any = None
) -> PreparedImport:
    """Read and validate; changes nothing. Raises ImportRefused for another school's extract or
    a folder that cannot be read; validation errors are returned in ``findings``."""
    import importers

    user.require(Role.CUSTODIAN)
    started = time.perf_counter()
    store = user.store
    school = store.school
    assert school is not None
    try:
        extract = importers.read_cases21(folder, progress=_Progress(progress, 0.0, 0.9))
    except importers.ImportCancelled:
        raise ImportCancelledError("The import was cancelled; nothing was changed.") from None
    except importers.ExtractError as exc:
        raise ImportRefused(str(exc)) from exc
    if extract.school_number != school.school_number:
        raise ImportRefused(
            f"This extract is for school {extract.school_number}, but this store belongs to school "
            f"{school.school_number} ({school.school_name}). It is another school's data and was not imported."
        )
    findings = list(extract.findings)
    vass_results = None
    vass_unmatched = 0
    files = tuple(extract.files)
    if vass is not None:
        if vass_mapping is None:
            from mapping_tool.services.vass_settings import get_mapping

            vass_mapping = get_mapping(user)
        try:
            vx = importers.read_vass(vass, mapping=vass_mapping, students=extract.students)
        except importers.ExtractError as exc:
            raise ImportRefused(str(exc)) from exc
        findings += list(vx.findings)
        vass_results = vx.results
        vass_unmatched = sum(1 for f in vx.findings if "unmatched" in f.code)
        files += (vx.file,)
    row_counts = {
        "students": len(extract.students), "attendance": len(extract.attendance),
        "strand_results": len(extract.strand_results), "domain_results": len(extract.domain_results),
        "year_levels": len(extract.year_levels), "home_groups": len(extract.home_groups),
        "absence_types": len(extract.absence_types),
    }
    if vass_results is not None:
        row_counts["vass_results"] = len(vass_results)
    digest = content_hash(files)
    with store.read() as session:
        same = session.execute(select(Snapshot.id).where(Snapshot.content_hash == digest)).scalar()
    added, changed, gone = _diff(store, extract.students) if not any(f.level == "error" for f in findings) else (0, 0, 0)
    notices: tuple[str, ...] = ()
    replaced: tuple[str, ...] = ()
    if not any(f.level == "error" for f in findings) and same is None:
        current, replaced = _plausibility(store, extract.students)
        notices = _notices(current, gone, replaced)
    if progress is not None:
        progress.report(1.0, "Checked")
    return PreparedImport(
        extract=extract, vass_results=vass_results, files=files, findings=tuple(findings), digest=digest,
        row_counts=row_counts, already_snapshot=same, added=added, changed=changed, gone=gone,
        vass_unmatched=vass_unmatched, seconds=time.perf_counter() - started, notices=notices, replaced=replaced,
    )


def _norm(value: Any) -> str:
    return " ".join(str(value or "").split()).upper()


def _plausibility(store, students) -> tuple[int, tuple[str, ...]]:  # type: ignore[no-untyped-def]
    """(students now in the store's latest extract, keys that now name a different child).

    A different child: the birth date AND the name (surname or first name) both changed. One
    of them alone is a correction, and the record is updated as usual."""
    new_rows = {r[0]: r for r in _student_rows(students)}
    with store.read() as session:
        conn = session.connection().connection.driver_connection
        current = conn.execute("SELECT COUNT(*) FROM student WHERE in_extract = 1").fetchone()[0]
        old = conn.execute("SELECT student_key, surname, first_name, birth_date FROM student").fetchall()
    replaced = []
    for key, surname, first_name, birth in old:
        new = new_rows.get(key)
        if new is None or not birth or not new[5] or str(birth)[:10] == str(new[5])[:10]:
            continue
        if _norm(surname) != _norm(new[1]) or _norm(first_name) != _norm(new[2]):
            replaced.append(key)
    return int(current), tuple(sorted(replaced))


def _unnamed(notice: str) -> str:
    """A notice as the audit log keeps it: without the keys it lists (entries outlive students)."""
    import re

    return re.sub(r" \([^()]*\) now belong", " now belong", notice)


def _notices(current: int, gone: int, replaced: Sequence[str]) -> tuple[str, ...]:
    out = []
    if current and gone > VANISH_LIMIT * current:
        out.append(
            f"{gone:,} of the {current:,} current students ({100 * gone / current:.0f}%) are not in this extract; "
            f"more than {VANISH_LIMIT:.0%} vanishing at once usually means a partial or wrong extract."
        )
    if replaced:
        shown = ", ".join(replaced[:10]) + (f" and {len(replaced) - 10:,} more" if len(replaced) > 10 else "")
        one = len(replaced) == 1
        out.append(
            f"{len(replaced):,} student key{'' if one else 's'} ({shown}) now belong{'s' if one else ''} to a different "
            "child (another birth date and name). If imported, each is treated as a new student: the earlier child "
            "is kept, marked as replaced, with everything recorded about them, and nothing is merged."
        )
    return tuple(out)


def apply_import(
    user: UserSession, prepared: PreparedImport, *, accept_warnings: bool = False, progress: Any = None
) -> ImportResult:
    """Apply a prepared import in one transaction; refused (and audited) when it has errors."""
    import importers

    user.require(Role.CUSTODIAN)
    store = user.store
    started = time.perf_counter()
    extract = prepared.extract
    common = dict(
        extract_date=extract.extract_date, school_number=extract.school_number,
        students_in_extract=len(extract.students), files=prepared.files, warnings=prepared.warnings,
        row_counts=prepared.row_counts, vass_unmatched=prepared.vass_unmatched,
    )
    if prepared.errors:
        with store.write() as session:
            store.audit(
                session, user.username, "import.refused", object_type="extract", object_id=extract.school_number,
                detail={"files": [f.name for f in prepared.files], "errors": len(prepared.errors)},
            )
        n = len(prepared.errors)
        raise ImportRefused(
            f"The extract has {n} problem{'s' if n != 1 else ''} that must be fixed in CASES21 first; nothing was imported.",
            prepared.findings,
        )
    with store.read() as session:
        same = session.execute(select(Snapshot.id).where(Snapshot.content_hash == prepared.digest)).scalar()
    if same is not None:
        with store.write() as session:
            store.audit(
                session, user.username, "import.unchanged", object_type="snapshot", object_id=str(same),
                detail={"files": [f.name for f in prepared.files], "content_sha256": prepared.digest},
            )
        return ImportResult(snapshot_id=same, added=0, changed=0, gone=0, unchanged=True, dry_run=False,
                            seconds=prepared.seconds + time.perf_counter() - started, **common)  # type: ignore[arg-type]
    if prepared.notices and not accept_warnings:
        with store.write() as session:
            store.audit(
                session, user.username, "import.unconfirmed", object_type="extract", object_id=extract.school_number,
                detail={"files": [f.name for f in prepared.files], "notices": [_unnamed(n) for n in prepared.notices],
                        "student_keys": list(prepared.replaced)},  # keys only where the log pseudonymises them
            )
        raise ImportNeedsConfirmation(prepared.notices)
    try:
        snapshot_id, added, changed, gone, replaced = _write(
            user, extract, prepared.vass_results, prepared.files, prepared.warnings, prepared.digest,
            prepared.row_counts, _Progress(progress, 0.0, 1.0),
            notices=prepared.notices, confirmed_replaced=prepared.replaced,
        )
    except importers.ImportCancelled:
        raise ImportCancelledError("The import was cancelled; nothing was changed.") from None
    logger.info("import done: %d students, %d attendance rows", len(extract.students), len(extract.attendance))
    return ImportResult(snapshot_id=snapshot_id, added=added, changed=changed, gone=gone, unchanged=False,
                        dry_run=False, seconds=prepared.seconds + time.perf_counter() - started,
                        notices=prepared.notices, replaced=replaced, **common)  # type: ignore[arg-type]


def import_cases21(
    user: UserSession,
    folder: Path,
    *,
    vass: Path | None = None,
    vass_mapping: Any = None,
    dry_run: bool = False,
    accept_warnings: bool = False,
    progress: Any = None,
) -> ImportResult:
    """Validate and import; raises ImportRefused (nothing changed) when validation fails, and
    ImportNeedsConfirmation for an implausible refresh unless ``accept_warnings``."""
    prepared = prepare_cases21(user, folder, vass=vass, vass_mapping=vass_mapping, progress=_Progress(progress, 0.0, 0.55))
    if dry_run:
        if prepared.errors:
            n = len(prepared.errors)
            raise ImportRefused(f"The extract has {n} problem{'s' if n != 1 else ''} that must be fixed in CASES21 first.", prepared.findings)
        extract = prepared.extract
        return ImportResult(
            snapshot_id=prepared.already_snapshot, extract_date=extract.extract_date, school_number=extract.school_number,
            students_in_extract=len(extract.students), added=prepared.added, changed=prepared.changed, gone=prepared.gone,
            unchanged=prepared.already_snapshot is not None, dry_run=True, files=prepared.files, warnings=prepared.warnings,
            row_counts=prepared.row_counts, seconds=prepared.seconds, vass_unmatched=prepared.vass_unmatched,
            notices=prepared.notices, replaced=tuple((k, "") for k in prepared.replaced),
        )
    return apply_import(user, prepared, accept_warnings=accept_warnings, progress=_Progress(progress, 0.55, 1.0))


#: The last students frame turned into rows (checking and writing an import need them five
#: times): id -> (weak reference to the frame, its rows). Callers never change the rows.
_STUDENT_ROWS: dict[int, tuple[Any, list[tuple[Any, ...]]]] = {}


def _student_rows(frame) -> list[tuple[Any, ...]]:  # type: ignore[no-untyped-def]
    import weakref

    hit = _STUDENT_ROWS.get(id(frame))
    if hit is not None and hit[0]() is frame:
        return hit[1]
    rows = list(_rows(frame, STUDENT_COLUMNS))
    _STUDENT_ROWS.clear()
    _STUDENT_ROWS[id(frame)] = (weakref.ref(frame), rows)
    weakref.finalize(frame, _STUDENT_ROWS.pop, id(frame), None)  # the rows go with the frame
    return rows


def _diff(store, students) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Students added, changed and gone compared with the current mirror."""
    new_rows = {r[0]: r for r in _student_rows(students)}
    with store.read() as session:
        conn = session.connection().connection.driver_connection
        cols = ", ".join(STUDENT_COLUMNS)
        old_rows = {r[0]: tuple(r) for r in conn.execute(f"SELECT {cols} FROM student").fetchall()}
        in_extract = {r[0] for r in conn.execute("SELECT student_key FROM student WHERE in_extract = 1")}
    added = sum(1 for k in new_rows if k not in old_rows)
    changed = sum(1 for k, r in new_rows.items() if k in old_rows and tuple(old_rows[k]) != r)
    gone = sum(1 for k in in_extract if k not in new_rows)
    return added, changed, gone


#: Tables the import replaces wholesale, or that do not hold a student's own records.
_NOT_RETIRED = frozenset({
    "student", "attendance", "strand_result", "domain_result", "vass_result", "import_finding", "replaced_students",
})


def retired_tables() -> tuple[tuple[str, str], ...]:
    """(table, key column) of every table whose rows follow an earlier child to the retired key:
    the records registry's tables with a student key (a child table, e.g. consent evidence,
    follows its parent row), less those the import replaces wholesale."""
    from mapping_tool.services import records_registry as registry

    return tuple((t.table, t.column) for t in registry.REGISTRY if t.parent is None and t.table not in _NOT_RETIRED)


def _retired_key(conn, key: str) -> str:  # type: ignore[no-untyped-def]
    """``KEY~n`` with the smallest n not in use (a retired child disposed of frees its n)."""
    n = 1
    while conn.execute(
        "SELECT 1 FROM student WHERE student_key = ?1 UNION ALL SELECT 1 FROM replaced_students WHERE retired_key = ?1",
        (f"{key}~{n}",),
    ).fetchone():
        n += 1
    return f"{key}~{n}"


def _retire(session, conn, keys: Sequence[str], sid: int, now: Any) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Move each earlier child to a retired key: their student row (no longer in the extract)
    and every row the tool holds about them, in every table of the records registry (so notes,
    overrides, interventions, consents, referrals, file notes, holds and the audit pseudonym
    stay with the right child)."""
    from mapping_tool.store.models import ReplacedStudent

    tables = retired_tables()
    columns = [r[1] for r in conn.execute("PRAGMA table_info(student)").fetchall()]
    rest = ", ".join(c for c in columns if c not in ("student_key", "in_extract"))
    out = []
    for key in keys:
        retired = _retired_key(conn, key)
        for name, column in tables:
            conn.execute(f'UPDATE "{name}" SET "{column}" = ? WHERE "{column}" = ?', (retired, key))
        conn.execute(
            f"INSERT INTO student (student_key, in_extract, {rest}) SELECT ?, 0, {rest} FROM student WHERE student_key = ?",
            (retired, key),
        )
        # No longer at the school under this key: last seen in the previous extract. Without an
        # exit date the retention class (counted from the exit date) would never reach them.
        conn.execute(
            "UPDATE student SET exit_date = (SELECT date(extract_date) FROM snapshot WHERE id = student.last_snapshot_id) "
            "WHERE student_key = ? AND exit_date IS NULL", (retired,),
        )
        conn.execute("DELETE FROM student WHERE student_key = ?", (key,))
        session.add(ReplacedStudent(retired_key=retired, student_key=key, snapshot_id=sid, replaced_at=now))
        out.append((key, retired))
    session.flush()
    return out


def _write(user, extract, vass_results, files, warnings, digest, row_counts, progress, *, notices=(), confirmed_replaced=()):  # type: ignore[no-untyped-def]
    store = user.store
    student_rows = _student_rows(extract.students)
    added, changed, gone = _diff(store, extract.students)  # again: the store may have moved on
    _, replaced_keys = _plausibility(store, extract.students)
    if set(replaced_keys) - set(confirmed_replaced):
        raise ImportNeedsConfirmation(_notices(0, 0, replaced_keys))
    progress.report(0.05, "Saving students")
    with store.write() as session:
        conn = session.connection().connection.driver_connection
        now = utcnow()
        _refuse_if_imported(conn, digest)
        snap = Snapshot(
            source="cases21", extract_date=extract.extract_date, imported_at=now, imported_by=user.username,
            school_number=extract.school_number, content_hash=digest,
            files_json=json.dumps([
                {"name": f.name, "size": f.size, "sha256": f.sha256, "rows": f.rows, "table": f.table, "encoding": f.encoding}
                for f in files
            ]),
            row_counts_json=json.dumps(row_counts), students_added=added, students_changed=changed,
            students_gone=gone, warning_count=len(warnings),
        )
        session.add(snap)
        session.flush()
        sid = snap.id
        replaced = _retire(session, conn, replaced_keys, sid, now)
        if replaced:
            from mapping_tool.services import referrals  # only then: loading it costs ~0.1 s
        for key, retired in replaced:
            # both children by pseudonym: the earlier one's link goes when they are disposed of
            store.audit(
                session, user.username, "import.student_replaced", object_type="student", object_id=key,
                detail={"student_key": retired, "snapshot": sid},
            )
            referrals.rekey_file_notes(store, session, user.username, retired)
        keys = [r[0] for r in student_rows]
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS import_keys (student_key TEXT PRIMARY KEY)")
        conn.execute("DELETE FROM import_keys")
        conn.executemany("INSERT INTO import_keys VALUES (?)", [(k,) for k in keys])
        conn.execute("UPDATE student SET in_extract = 0 WHERE student_key NOT IN (SELECT student_key FROM import_keys)")
        placeholders = ", ".join("?" for _ in STUDENT_COLUMNS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in STUDENT_COLUMNS[1:])
        conn.executemany(
            f"INSERT INTO student ({', '.join(STUDENT_COLUMNS)}, in_extract, first_snapshot_id, last_snapshot_id) "
            f"VALUES ({placeholders}, 1, {sid}, {sid}) "
            f"ON CONFLICT(student_key) DO UPDATE SET {updates}, in_extract = 1, last_snapshot_id = {sid}",
            student_rows,
        )
        conn.executemany(
            "INSERT INTO snapshot_student (snapshot_id, student_key, status, year_level, home_group) VALUES (?, ?, ?, ?, ?)",
            [(sid, r[0], r[6], r[9], r[10]) for r in student_rows],
        )
        conn.execute("DROP TABLE import_keys")
        _check_cancel(progress)

        progress.report(0.15, "Saving year levels, home groups and absence types")
        _replace(conn, "year_level", ("code", "description", "numeric", "coordinator_name", "coordinator_b_name"),
                 extract.year_levels, ("year_level", "description", "numeric", "coordinator_name", "coordinator_b_name"))
        _replace(conn, "home_group", ("code", "description", "year_level", "teacher_name", "teacher_b_name", "active"),
                 extract.home_groups, ("home_group", "description", "year_level", "teacher_name", "teacher_b_name", "active"))
        _replace(conn, "house", ("code", "description"), extract.houses, ("house", "description"))
        _replace(conn, "absence_type", ("code", "description", "abbreviation", "curriculum", "pre_approved"),
                 extract.absence_types, ("code", "description", "abbreviation", "curriculum", "pre_approved"))
        _check_cancel(progress)

        progress.report(0.25, "Saving attendance")
        _load_attendance(conn, extract.attendance, progress)
        _check_cancel(progress)

        progress.report(0.8, "Saving results")
        _replace(conn, "strand_result", ("student_key", "year_semester", "dimension", "domain", "score", "year_level"),
                 extract.strand_results, ("student_key", "year_semester", "dimension", "domain", "score", "year_level"))
        _replace(conn, "domain_result", ("student_key", "year_semester", "domain", "rating", "year_level"),
                 extract.domain_results, ("student_key", "year_semester", "domain", "rating", "year_level"))
        if vass_results is not None:
            _replace(conn, "vass_result", ("student_key", "vcaa_number", "unit_code", "result", "year"),
                     vass_results, ("student_key", "vcaa_number", "unit_code", "result", "year"))
        progress.report(0.85, "Computing risk factors")
        from mapping_tool.services import flags

        flags.on_import(user, session, extract, sid)
        _check_cancel(progress)
        conn.executemany(
            "INSERT INTO import_finding (snapshot_id, level, code, file, row, \"column\", student_key, message) "
            "VALUES (?, ?, ?, ?, ?, ?, '', ?)",
            [(sid, f.level, f.code, f.file or "", f.row, f.column or "", f.message) for f in warnings],
        )
        store.audit(
            session, user.username, "import", object_type="snapshot", object_id=str(sid),
            detail={
                "extract_date": extract.extract_date.isoformat(),
                "files": [{"name": f.name, "size": f.size, "sha256": f.sha256, "rows": f.rows} for f in files],
                "added": added, "changed": changed, "gone": gone, "warnings": len(warnings),
                "confirmed": [_unnamed(n) for n in notices], "student_keys": [k for k, _ in replaced],  # replaced keys, by pseudonym
            },
        )
        progress.report(0.95, "Committing")
        _check_cancel(progress)  # the last moment Cancel can still undo everything
    progress.report(1.0, "Done")
    return sid, added, changed, gone, tuple(replaced)


def _column_array(series):  # type: ignore[no-untyped-def]
    """One frame column as an object array of values sqlite3 binds directly: dates as ISO text,
    NA as None, numbers as Python numbers."""
    import numpy as np
    import pandas as pd

    if pd.api.types.is_datetime64_any_dtype(series):
        # a few hundred distinct days for a million rows: format each day once
        codes, days = pd.factorize(series.to_numpy(dtype="datetime64[D]"), use_na_sentinel=True)
        texts = np.append(np.asarray(days, dtype="datetime64[D]").astype(str).astype(object), None)
        return texts[codes]  # code -1 takes the None
    if pd.api.types.is_bool_dtype(series) or (pd.api.types.is_integer_dtype(series) and not series.isna().any()):
        return series.to_numpy(dtype="int64").astype(object)  # Python ints
    values = series.to_numpy(dtype=object)
    mask = series.isna().to_numpy()
    if mask.any():
        values = values.copy()
        values[mask] = None
    first = next((v for v in values if v is not None), None)
    if isinstance(first, np.generic):
        plain = np.empty(len(values), dtype=object)
        plain[:] = [v.item() if isinstance(v, np.generic) else v for v in values]
        values = plain
    return values


def _column_values(series) -> list[Any]:  # type: ignore[no-untyped-def]
    """One frame column as a list sqlite3 binds directly (see ``_column_array``)."""
    return _column_array(series).tolist()  # type: ignore[no-any-return]


def _rows(frame, columns: Sequence[str]):  # type: ignore[no-untyped-def]
    return zip(*(_column_values(frame[c]) for c in columns), strict=True)


#: Rows that go to SQLite in one INSERT. A multi-row VALUES binds the same values but runs the
#: statement once for every 64 rows, not once for each row: 400,000 attendance rows go in about
#: a third faster (benchmarks/import_bench.py). Far below SQLite's limit of 32,766 values.
ROWS_PER_INSERT = 64


def _insert_rows(conn, head: str, row: str, frame, frame_columns: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    """``head`` VALUES ``row``, ``row``, ... for every row of ``frame`` (its ``frame_columns``, in
    the order of ``row``'s ``?``), ``ROWS_PER_INSERT`` rows to a statement, the rest one by one."""
    import numpy as np

    width = len(frame_columns)
    cells = np.empty((len(frame), width), dtype=object)
    for i, column in enumerate(frame_columns):
        cells[:, i] = _column_array(frame[column])
    whole = len(cells) - len(cells) % ROWS_PER_INSERT
    if whole:
        many = ", ".join([row] * ROWS_PER_INSERT)
        conn.executemany(f"{head} VALUES {many}", cells[:whole].reshape(-1, width * ROWS_PER_INSERT).tolist())
    if whole < len(cells):
        conn.executemany(f"{head} VALUES {row}", cells[whole:].tolist())


def _replace(conn, table: str, columns: Sequence[str], frame, frame_columns: Sequence[str]) -> None:  # type: ignore[no-untyped-def]
    conn.execute(f"DELETE FROM {table}")
    if frame is None or len(frame) == 0:
        return
    marks = ", ".join("?" for _ in columns)
    _insert_rows(conn, f"INSERT INTO {table} ({', '.join(columns)})", f"({marks})", frame, frame_columns)


#: The records an attendance row can come from (a constant written into SQL must be one of them).
_SOURCES = frozenset({"SXAB", "SXABCONV"})


def _single_source(series) -> str | None:  # type: ignore[no-untyped-def]
    """The one source record a whole column names, or None when it varies (or is anything else)."""
    import pandas as pd

    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        if len(codes) and codes.min() == codes.max() >= 0:
            value = series.cat.categories[codes[0]]
            return value if value in _SOURCES else None
        return None
    distinct = pd.unique(series.to_numpy(dtype=object))
    return distinct[0] if len(distinct) == 1 and distinct[0] in _SOURCES else None


def _load_attendance(conn, frame, progress) -> None:  # type: ignore[no-untyped-def]
    """Bulk load in (student, date) order into the WITHOUT ROWID table, in chunks so that
    Cancel is honoured and progress moves. Inside the import's transaction."""
    import pandas as pd
    conn.execute("DELETE FROM attendance")
    total = len(frame)
    if not total:
        return
    keys = frame["student_key"]
    if isinstance(keys.dtype, pd.CategoricalDtype):  # sort by the key's text, the table's order
        frame = frame.assign(student_key=keys.cat.reorder_categories(sorted(keys.cat.categories)))
    frame = frame.sort_values(["student_key", "date"], kind="stable")
    # A source column holding one record name throughout (SXAB when no SXABCONV row was used, the
    # usual case) goes into the statement as a constant: two values fewer to bind for each row.
    values = {c: "?" for c in ATTENDANCE_COLUMNS}
    for column in ("am_source", "pm_source"):
        single = _single_source(frame[column])
        if single is not None:
            values[column] = f"'{single}'"
    bound = [c for c in ATTENDANCE_COLUMNS if values[c] == "?"]
    head = f"INSERT INTO attendance ({', '.join(ATTENDANCE_COLUMNS)})"
    row = f"({', '.join(values.values())})"
    chunk = 200_000
    for start in range(0, total, chunk):
        _insert_rows(conn, head, row, frame.iloc[start:start + chunk], bound)
        end = min(total, start + chunk)
        progress.report(0.25 + 0.5 * end / total, f"Saving attendance ({end:,} of {total:,} rows)")
        _check_cancel(progress)


# -- reading back ---------------------------------------------------------------------------


def latest_snapshot(user: UserSession) -> SnapshotView | None:
    views = list_snapshots(user, limit=1)
    return views[0] if views else None


def list_snapshots(user: UserSession, *, limit: int | None = None) -> list[SnapshotView]:
    user.check_active()
    with user.store.read() as session:
        query = select(Snapshot).where(Snapshot.source == "cases21").order_by(Snapshot.id.desc())
        if limit:
            query = query.limit(limit)
        return [
            SnapshotView(
                id=s.id, extract_date=s.extract_date, imported_at=s.imported_at, imported_by=s.imported_by,
                files=tuple(json.loads(s.files_json)), row_counts=json.loads(s.row_counts_json),
                added=s.students_added, changed=s.students_changed, gone=s.students_gone, warning_count=s.warning_count,
            )
            for s in session.execute(query).scalars()
        ]


REPORT_HEADERS = ("level", "code", "file", "line", "column", "message")


def snapshot_findings(user: UserSession, snapshot_id: int) -> list[tuple[Any, ...]]:
    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    with user.store.read() as session:
        rows = session.execute(
            select(ImportFinding).where(ImportFinding.snapshot_id == snapshot_id).order_by(ImportFinding.id)
        ).scalars()
        return [(f.level, f.code, f.file, f.row, f.column, f.message) for f in rows]


def write_report(
    path: Path, findings: Sequence[Any], *, store_folder: Path | None, replace: bool = False, fmt: str | None = None
) -> int:
    """The data-quality report (errors and warnings) as CSV or Excel."""
    from mapping_tool.services.export import write_table

    rows = []
    for f in findings:
        if isinstance(f, tuple):
            rows.append(f)
        else:
            rows.append((f.level, f.code, f.file, f.row, f.column, f.message))
    return write_table(path, REPORT_HEADERS, rows, store_folder=store_folder, replace=replace, fmt=fmt, title="Data quality")


def export_snapshot_report(user: UserSession, snapshot_id: int, path: Path, *, replace: bool = False) -> int:
    rows = snapshot_findings(user, snapshot_id)
    count = write_report(path, rows, store_folder=user.store.files.folder, replace=replace)
    with user.store.write() as session:
        user.store.audit(
            session, user.username, "export.data-quality-report", object_type="snapshot", object_id=str(snapshot_id),
            detail={"path": str(path), "rows": count, "contains": list(REPORT_HEADERS)},
        )
    return count
