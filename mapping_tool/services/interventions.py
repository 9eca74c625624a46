"""Interventions: the school's catalogue of programmes, students mapped to them, their honest
evaluation beside similar students, the capacity view, and the meeting mode's agenda and
decisions. The one door to the interventions tables: every call checks the access policy and
writes the audit log; the arithmetic lives in the pure ``interventions`` package.

Access (issue 8, section 5):
* the catalogue is edited by the data custodian, principal class and welfare staff;
* a *sensitive* programme (who takes part) is seen only by the custodian, principal class,
  welfare staff and the programme's responsible staff member; to anyone else it does not exist;
* staff map only students they may see (year level coordinators within their year levels);
* every role sees programme evaluations (aggregates), but a programme with fewer than 5
  measured participants shows its counts and not its figures to a user who cannot see all of
  its participants; per-student rows only for students the user may see.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from interventions import bulk, catalogue
from interventions.catalogue import KINDS, MEASURE_FLAGS, MEASURE_TITLES, MEASURES, RATE_MEASURES
from interventions.errors import InterventionError
from interventions.evaluation import (
    WHICH_TO_READ,
    AttendanceDays,
    ComparisonPool,
    MappingRow,
    evaluate_programme,
)
from mapping_tool.errors import KnownError, UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services import students
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.store.models import Account, Setting, Snapshot, StudentNote
from mapping_tool.store.models_interventions import (
    InterventionDecision,
    InterventionMapping,
    InterventionMeeting,
    InterventionProgramme,
    InterventionProgrammeVersion,
)
from mapping_tool.store.models_records import InterventionMappingChange

logger = logging.getLogger(__name__)

KIND_TITLES = {k: k[0].upper() + k[1:] for k in KINDS}
STATUSES = ("planned", "active", "completed", "withdrawn")
DECISION_KINDS = ("map", "note", "no_action")
DEFAULT_WEEKS = 8
MIN_MEASURED_FOR_FIGURES = 5


class MappingImportRefused(KnownError):
    """A bulk file with a bad row: nothing was imported; ``report`` has a line per row."""

    exit_code = 3

    def __init__(self, message: str, report: tuple[ImportRowReport, ...] = ()) -> None:
        super().__init__(message)
        self.report = report


# -- rows and views (frozen: the UI holds them across threads) --------------------------------------


@dataclass(frozen=True)
class ProgrammeView:
    id: int
    name: str
    kind: str  # one of KINDS
    measure: str  # one of MEASURES
    provider: str
    responsible: str  # a username, or ""
    capacity: int | None  # seats; None = not limited
    start_date: date | None  # active dates
    end_date: date | None
    description: str
    sensitive: bool
    retired: bool
    version: int  # 1 at creation, +1 per change
    participants: int  # current mappings (planned or active) the user may know of
    measure_title: str  # the measure in words ("Attendance rate")


@dataclass(frozen=True)
class ProgrammeVersionView:
    """One change to a programme: who, when, what (field -> [old, new])."""

    programme: str
    version: int
    changed_by: str
    changed_at: datetime
    changes: dict[str, list[object]]


@dataclass(frozen=True)
class MappingView:
    id: int
    student_key: str
    student_name: str  # "Surname, First" as the user may see it ("" if the policy hides names)
    year_level: str
    programme: str
    programme_id: int
    measure: str
    start: date
    review: date | None
    end: date | None
    status: str  # one of STATUSES
    reason: str  # why withdrawn
    responsible: str
    goal_target: float | None  # against the programme's measure (e.g. 90 = "at least 90 %")
    goal_text: str  # the goal in words, derived from the measure and target
    created_by: str
    created_at: datetime
    # earlier values (issue 10 s 3: a change keeps the old value visible), oldest first; filled
    # for the student panel and the student's record only
    changes: tuple[MappingChangeView, ...] = ()


@dataclass(frozen=True)
class MappingChangeView:
    field: str  # goal_target | review_date | responsible
    old: str
    new: str
    changed_by: str
    changed_at: datetime
    reason: str

    @property
    def what(self) -> str:
        return CHANGE_FIELDS.get(self.field, self.field.replace("_", " "))


CHANGE_FIELDS = {"goal_target": "goal target", "review_date": "review date", "responsible": "responsible staff member"}


@dataclass(frozen=True)
class ProgrammeEvaluation:
    """One row of ``interventions evaluate``. Numbers unrounded, percentage points for rates.
    ``figures_hidden``: fewer than 5 measured and the user cannot see every participant, so
    only the counts are given (the means, difference and interval are None)."""

    intervention: str
    measure: str
    participants: int
    measured: int
    not_measured: dict[str, int]  # reason in words -> count
    before_mean: float | None
    after_mean: float | None
    change: float | None  # naive: mean(after - before) of the participants
    comparison_before_mean: float | None  # for the chart
    comparison_after_mean: float | None
    comparison_change: float | None
    difference: float | None  # difference in differences: mean of participants' differences
    ci_low: float | None
    ci_high: float | None
    warnings: tuple[str, ...]  # in words, never hidden; the last is always the "does not prove cause" one
    figures_hidden: bool
    weeks: int
    which_to_read: str  # a sentence: read the difference, not the change

    @property
    def warning(self) -> str:
        return " ".join(self.warnings)


@dataclass(frozen=True)
class StudentEvaluation:
    """One row of ``--students-out``: one mapping of a student the user may see."""

    mapping_id: int
    student_key: str
    intervention: str
    measure: str
    start: date
    end: date | None
    status: str
    before: float | None
    after: float | None
    change: float | None
    comparison_change: float | None
    difference: float | None
    comparisons: int  # how many comparison students were used (0-5)
    goal_target: float | None
    goal_met: bool | None  # None when not measured or no target
    note: str  # why not measured, or "" (in words)


@dataclass(frozen=True)
class StudentInterventions:
    """The student panel's section: the student's mappings and each one's evaluation."""

    student_key: str
    mappings: tuple[MappingView, ...]
    evaluations: tuple[StudentEvaluation, ...]  # aligned with mappings by mapping_id
    hidden_sensitive: int  # always 0 to those outside: a sensitive programme is not hinted at


@dataclass(frozen=True)
class GridView:
    """Students x programmes, like the original workbook's right-hand side."""

    programmes: tuple[str, ...]
    rows: tuple[GridRow, ...]


@dataclass(frozen=True)
class GridRow:
    student_key: str
    student_name: str
    year_level: str
    home_group: str
    tier: str | None
    marks: tuple[str, ...]  # aligned with GridView.programmes: "" none, else the status ("active", ...)


@dataclass(frozen=True)
class CapacityRow:
    programme: str
    measure: str
    seats: int | None
    participants: int
    free_seats: int | None
    demand: int  # students in scope flagged for the measure with no intervention for it


@dataclass(frozen=True)
class ImportRowReport:
    row: int  # 1-based row number of the file (header = 1)
    student_key: str
    programme: str
    outcome: str  # "added" | "already mapped" | an error sentence


@dataclass(frozen=True)
class MappingImportResult:
    form: str  # "long" | "grid"
    rows: tuple[ImportRowReport, ...]
    added: int


@dataclass(frozen=True)
class MeetingView:
    id: int
    started_at: datetime
    started_by: str
    title: str
    last_refresh: date | None  # extract date the agenda compares with


@dataclass(frozen=True)
class AgendaItem:
    student_key: str
    student_name: str
    year_level: str
    home_group: str
    tier: str  # "priority" | "monitor" | "none"
    flag_count: int
    reasons: tuple[str, ...]  # in words: "New: low attendance", "Attendance down 6.2 points", "Review due 03/11/2026 (Mentoring)"
    new_flags: tuple[str, ...]
    worsening: tuple[str, ...]
    reviews_due: tuple[int, ...]  # mapping ids whose review date has come
    decided: bool  # a decision is recorded for this student in this meeting


@dataclass(frozen=True)
class DecisionView:
    id: int
    meeting_id: int
    student_key: str
    student_name: str
    kind: str  # one of DECISION_KINDS
    programme: str  # for "map"
    text: str  # the note, or the reason for no action
    sensitive: bool
    decided_by: str
    decided_at: datetime
    mapping_id: int | None
    note_id: int | None


@dataclass(frozen=True)
class MeetingRecap:
    meeting: MeetingView
    decisions: tuple[DecisionView, ...]
    undecided: tuple[AgendaItem, ...]


# -- helpers ----------------------------------------------------------------------------------------

EDITORS = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
SENSITIVE_INSIDERS = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
WHOLE_SCHOOL = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
CURRENT = ("planned", "active")
TIER_ORDER = {"priority": 0, "monitor": 1, "none": 2}
MAX_TEXT = 4000
WEEKS_SETTING = "interventions_weeks"


def _known(fn):  # type: ignore[no-untyped-def]
    """The domain's errors reach the user as one-sentence UsageErrors."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InterventionError as exc:
            raise UsageError(exc.message) from None

    return wrapper


def _may_know(user: UserSession, prog: InterventionProgramme) -> bool:
    """A sensitive programme exists only for those inside it."""
    return not prog.sensitive or user.role in SENSITIVE_INSIDERS or prog.responsible == user.username


def _programme_row(session: Session, user: UserSession, name: str, *, include_retired: bool = True) -> InterventionProgramme:
    wanted = " ".join(str(name).split())
    prog = session.execute(
        select(InterventionProgramme).where(func.lower(InterventionProgramme.name) == wanted.lower())
    ).scalar_one_or_none()
    if prog is None or not _may_know(user, prog):
        raise UsageError(f"There is no programme called '{wanted}'.")
    if prog.retired and not include_retired:
        raise UsageError(f"The programme '{prog.name}' is retired; restore it before mapping students to it.")
    return prog


def _counts(session: Session) -> dict[int, int]:
    rows = session.execute(
        select(InterventionMapping.programme_id, func.count()).where(InterventionMapping.status.in_(CURRENT))
        .group_by(InterventionMapping.programme_id)
    ).all()
    return {int(pid): int(n) for pid, n in rows}


def _view(prog: InterventionProgramme, participants: int) -> ProgrammeView:
    return ProgrammeView(
        prog.id, prog.name, prog.kind, prog.measure, prog.provider, prog.responsible, prog.capacity,
        prog.start_date, prog.end_date, prog.description, prog.sensitive, prog.retired, prog.version,
        participants, MEASURE_TITLES.get(prog.measure, prog.measure),
    )


def _check_account(session: Session, username: str) -> str:
    name = username.strip()
    if not name:
        return ""
    if session.execute(select(Account.id).where(Account.username == name)).first() is None:
        raise UsageError(f"There is no account called '{name}' to be the responsible staff member.")
    return name


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Roster:
    """The students the user may see: key -> (name, year level, home group)."""

    def __init__(self, user: UserSession) -> None:
        fields = students.visible_fields(user, ("student_key", "surname", "first_name", "year_level", "home_group"))
        rows = students._fetch(user, fields)  # noqa: SLF001 - the students service's own scoped read
        idx = {f: i for i, f in enumerate(fields)}
        self.info: dict[str, tuple[str, str, str]] = {}
        for r in rows:
            surname = r[idx["surname"]] if "surname" in idx else ""
            first = r[idx["first_name"]] if "first_name" in idx else ""
            name = f"{surname}, {first}" if surname and first else (surname or first or "")
            self.info[r[0]] = (name, r[idx["year_level"]] if "year_level" in idx else "",
                               r[idx["home_group"]] if "home_group" in idx else "")

    def __contains__(self, key: object) -> bool:
        return key in self.info

    def name(self, key: str) -> str:
        return self.info.get(key, ("", "", ""))[0]

    def year(self, key: str) -> str:
        return self.info.get(key, ("", "", ""))[1]


def _require_student(user: UserSession, roster: _Roster, key: str) -> str:
    k = key.strip().upper()
    if not k:
        raise UsageError("A student key is blank.")
    if k not in roster:
        with user.store.write() as session:
            user.store.audit(session, user.username, "student.view-refused", object_type="student", object_id=k)
        raise students.NotVisible(f"There is no student {k} that you may see.")
    return k


def _weeks_now(user: UserSession) -> int:
    with user.store.read() as session:
        row = session.get(Setting, WEEKS_SETTING)
    try:
        return int(row.value) if row is not None else DEFAULT_WEEKS
    except ValueError:
        return DEFAULT_WEEKS


def _status(status: str, start: date) -> str:
    """A planned mapping is active from its start date (shown so; stored as recorded)."""
    return "active" if status == "planned" and start <= date.today() else status


def _mapping_view(m: InterventionMapping, prog: InterventionProgramme, roster: _Roster | None, weeks: int) -> MappingView:
    return MappingView(
        m.id, m.student_key, roster.name(m.student_key) if roster else "", roster.year(m.student_key) if roster else "",
        prog.name, prog.id, prog.measure, m.start_date, m.review_date, m.end_date, _status(m.status, m.start_date), m.reason,
        m.responsible, m.goal_target, catalogue.goal_text(prog.measure, m.goal_target, weeks), m.created_by, m.created_at,
    )


# -- catalogue --------------------------------------------------------------------------------------


def list_programmes(user: UserSession, *, include_retired: bool = False) -> list[ProgrammeView]:
    """The programmes the user may know of (sensitive ones only to those inside them)."""
    user.check_active()
    with user.store.read() as session:
        q = select(InterventionProgramme).order_by(InterventionProgramme.name)
        if not include_retired:
            q = q.where(InterventionProgramme.retired.is_(False))
        progs = [p for p in session.execute(q).scalars() if _may_know(user, p)]
        counts = _counts(session)
        return [_view(p, counts.get(p.id, 0)) for p in progs]


def get_programme(user: UserSession, name: str) -> ProgrammeView:
    """One programme by name (case-insensitive); unknown or hidden: UsageError."""
    user.check_active()
    with user.store.read() as session:
        prog = _programme_row(session, user, name)
        return _view(prog, _counts(session).get(prog.id, 0))


@_known
def add_programme(
    user: UserSession, name: str, *, kind: str, measure: str, provider: str = "", capacity: int | None = None,
    responsible: str = "", description: str = "", sensitive: bool = False,
    start_date: date | None = None, end_date: date | None = None,
) -> ProgrammeView:
    """Custodian, principal class, welfare. Name unique (case-insensitive). Version 1 recorded."""
    user.require(*EDITORS)
    spec = catalogue.check_programme(catalogue.ProgrammeSpec(
        name=name, kind=kind, measure=measure, provider=provider, responsible=responsible, capacity=capacity,
        start_date=start_date, end_date=end_date, description=description, sensitive=sensitive,
    ))
    if len(spec.description) > MAX_TEXT:
        raise UsageError(f"A description is at most {MAX_TEXT} characters.")
    with user.store.write() as session:
        clash = session.execute(
            select(InterventionProgramme.id).where(func.lower(InterventionProgramme.name) == spec.name.lower())
        ).first()
        if clash is not None:
            raise UsageError(f"There is already a programme called '{spec.name}'.")
        resp = _check_account(session, spec.responsible)
        now = utcnow()
        prog = InterventionProgramme(
            name=spec.name, kind=spec.kind, measure=spec.measure, provider=spec.provider, responsible=resp,
            capacity=spec.capacity, start_date=spec.start_date, end_date=spec.end_date, description=spec.description,
            sensitive=spec.sensitive, retired=False, version=1, created_at=now, created_by=user.username,
        )
        session.add(prog)
        session.flush()
        fields = {f: [None, _json(getattr(prog, f))] for f in _EDITABLE}
        session.add(InterventionProgrammeVersion(programme_id=prog.id, version=1, changed_at=now,
                                                 changed_by=user.username, changes=json.dumps(fields)))
        user.store.audit(session, user.username, "intervention.added", object_type="intervention",
                         object_id=str(prog.id), detail={"name": prog.name, "new": {k: v[1] for k, v in fields.items()}})
        return _view(prog, 0)


_EDITABLE = ("name", "kind", "measure", "provider", "responsible", "capacity", "start_date", "end_date",
             "description", "sensitive")


@_known
def update_programme(user: UserSession, name: str, **changes: object) -> ProgrammeView:
    """Change fields (name, kind, measure, provider, capacity, responsible, description,
    sensitive, start_date, end_date). A new version records who, when and what."""
    user.require(*EDITORS)
    unknown = [k for k in changes if k not in _EDITABLE]
    if unknown:
        raise UsageError(f"A programme has no field '{unknown[0]}'.")
    with user.store.write() as session:
        prog = _programme_row(session, user, name)
        current = {f: getattr(prog, f) for f in _EDITABLE}
        merged = {**current, **changes}
        spec = catalogue.check_programme(catalogue.ProgrammeSpec(**merged))  # type: ignore[arg-type]
        if spec.name.lower() != prog.name.lower():
            clash = session.execute(
                select(InterventionProgramme.id).where(func.lower(InterventionProgramme.name) == spec.name.lower())
            ).first()
            if clash is not None:
                raise UsageError(f"There is already a programme called '{spec.name}'.")
        if spec.measure != prog.measure and session.execute(
            select(InterventionMapping.id).where(InterventionMapping.programme_id == prog.id).limit(1)
        ).first() is not None:
            raise UsageError("The measure of a programme with participants cannot change; add a new programme instead.")
        new = {f: getattr(spec, f) for f in _EDITABLE}
        new["responsible"] = _check_account(session, str(new["responsible"]))
        diff = {f: [_json(current[f]), _json(new[f])] for f in _EDITABLE if current[f] != new[f]}
        if not diff:
            return _view(prog, _counts(session).get(prog.id, 0))
        for f, v in new.items():
            setattr(prog, f, v)
        prog.version += 1
        session.add(InterventionProgrammeVersion(programme_id=prog.id, version=prog.version, changed_at=utcnow(),
                                                 changed_by=user.username, changes=json.dumps(diff)))
        user.store.audit(session, user.username, "intervention.changed", object_type="intervention",
                         object_id=str(prog.id), detail={"name": prog.name, "changes": diff})
        return _view(prog, _counts(session).get(prog.id, 0))


def remove_programme(user: UserSession, name: str) -> str:
    """Delete a programme nobody was ever mapped to; one with participants is retired instead.
    Returns "deleted" or "retired"."""
    user.require(*EDITORS)
    with user.store.write() as session:
        prog = _programme_row(session, user, name)
        used = session.execute(
            select(InterventionMapping.id).where(InterventionMapping.programme_id == prog.id).limit(1)
        ).first() is not None
        if used:
            if not prog.retired:
                prog.retired = True
                prog.version += 1
                session.add(InterventionProgrammeVersion(programme_id=prog.id, version=prog.version,
                                                         changed_at=utcnow(), changed_by=user.username,
                                                         changes=json.dumps({"retired": [False, True]})))
            user.store.audit(session, user.username, "intervention.retired", object_type="intervention",
                             object_id=str(prog.id), detail={"name": prog.name})
            return "retired"
        user.store.audit(session, user.username, "intervention.deleted", object_type="intervention",
                         object_id=str(prog.id), detail={"name": prog.name})
        session.delete(prog)
        return "deleted"


def restore_programme(user: UserSession, name: str) -> ProgrammeView:
    """Bring a retired programme back."""
    user.require(*EDITORS)
    with user.store.write() as session:
        prog = _programme_row(session, user, name)
        if prog.retired:
            prog.retired = False
            prog.version += 1
            session.add(InterventionProgrammeVersion(programme_id=prog.id, version=prog.version, changed_at=utcnow(),
                                                     changed_by=user.username, changes=json.dumps({"retired": [True, False]})))
            user.store.audit(session, user.username, "intervention.restored", object_type="intervention",
                             object_id=str(prog.id), detail={"name": prog.name})
        return _view(prog, _counts(session).get(prog.id, 0))


def programme_history(user: UserSession, name: str) -> list[ProgrammeVersionView]:
    user.check_active()
    with user.store.read() as session:
        prog = _programme_row(session, user, name)
        rows = session.execute(
            select(InterventionProgrammeVersion).where(InterventionProgrammeVersion.programme_id == prog.id)
            .order_by(InterventionProgrammeVersion.version)
        ).scalars().all()
        return [ProgrammeVersionView(prog.name, r.version, r.changed_by, r.changed_at, json.loads(r.changes)) for r in rows]


def load_starter_catalogue(user: UserSession) -> int:
    """Add the starter programmes of resources/interventions_starter.json that the school does not
    have yet (by name); returns how many were added."""
    user.require(*EDITORS)
    with user.store.read() as session:
        have = {n.lower() for n in session.execute(select(InterventionProgramme.name)).scalars()}
    added = 0
    for spec in catalogue.starter_catalogue():
        if spec.name.lower() in have:
            continue
        add_programme(user, spec.name, kind=spec.kind, measure=spec.measure, provider=spec.provider,
                      capacity=spec.capacity, description=spec.description, sensitive=spec.sensitive)
        added += 1
    return added


# -- mappings ---------------------------------------------------------------------------------------


def list_mappings(
    user: UserSession, *, programme: str | None = None, student_key: str | None = None, current_only: bool = False,
) -> list[MappingView]:
    """Mappings of students the user may see, in programmes the user may know of."""
    user.check_active()
    roster = _Roster(user)
    key = _require_student(user, roster, student_key) if student_key else None
    weeks = _weeks_now(user)
    with user.store.read() as session:
        q = select(InterventionMapping, InterventionProgramme).join(
            InterventionProgramme, InterventionProgramme.id == InterventionMapping.programme_id)
        if programme:
            prog = _programme_row(session, user, programme)
            q = q.where(InterventionMapping.programme_id == prog.id)
        if key:
            q = q.where(InterventionMapping.student_key == key)
        if current_only:
            q = q.where(InterventionMapping.status.in_(CURRENT))
        q = q.order_by(InterventionProgramme.name, InterventionMapping.start_date, InterventionMapping.student_key)
        views = [_mapping_view(m, p, roster, weeks) for m, p in session.execute(q).all()
                 if m.student_key in roster and _may_know(user, p)]
    with user.store.write() as session:
        user.store.audit(session, user.username, "mappings.viewed", object_type="interventions",
                         detail={"rows": len(views), "student_keys": sorted({v.student_key for v in views})})
    return views


def _check_dates(start: date, review: date | None, end: date | None = None) -> None:
    if review is not None and review < start:
        raise UsageError("The review date is before the start date.")
    if end is not None and end < start:
        raise UsageError("The end date is before the start date.")


def _add_mappings(
    user: UserSession, session: Session, prog: InterventionProgramme, keys: Sequence[str], *, start: date,
    review: date | None, goal_target: float | None, responsible: str, status: str | None,
    end: date | None = None, reason: str = "", source: str = "assign",
) -> list[InterventionMapping]:
    """Inside the caller's write transaction: refuse a duplicate current mapping, else add."""
    if goal_target is not None and (math.isnan(goal_target) or math.isinf(goal_target)):
        raise UsageError("The goal target must be a number.")
    status = status or ("active" if start <= date.today() else "planned")
    if status not in STATUSES:
        raise UsageError(f"Unknown status '{status}'. Choose one of: {', '.join(STATUSES)}.")
    if status == "withdrawn" and not reason.strip():
        raise UsageError("Say why the student withdrew (--reason).")
    if status in CURRENT:
        existing = set(session.execute(
            select(InterventionMapping.student_key).where(
                InterventionMapping.programme_id == prog.id, InterventionMapping.status.in_(CURRENT),
                InterventionMapping.student_key.in_(list(keys)))
        ).scalars())
        if existing:
            raise UsageError(f"Student {sorted(existing)[0]} is already in {prog.name}.")
    now = utcnow()
    rows = []
    for k in keys:
        m = InterventionMapping(student_key=k, programme_id=prog.id, start_date=start, review_date=review, end_date=end,
                                status=status, reason=reason.strip(), responsible=responsible, goal_target=goal_target,
                                created_at=now, created_by=user.username, updated_by="")
        session.add(m)
        rows.append(m)
    session.flush()
    user.store.audit(session, user.username, "mapping.added", object_type="intervention", object_id=str(prog.id),
                     detail={"programme": prog.name, "student_keys": list(keys), "start": start.isoformat(),
                             "status": status, "source": source, "mappings": [m.id for m in rows]})
    return rows


def assign(
    user: UserSession, programme: str, student_keys: Sequence[str], *, start: date, review: date | None = None,
    goal_target: float | None = None, responsible: str | None = None, status: str | None = None,
) -> list[MappingView]:
    """Map students to a programme (all or nothing). Status "active" when start <= today, else
    "planned" unless given. Refused: unknown student/programme, a student outside scope,
    a duplicate current mapping, a review before the start."""
    user.check_active()
    if not student_keys:
        raise UsageError("Name at least one student to map.")
    roster = _Roster(user)
    with user.store.read() as session:
        _programme_row(session, user, programme, include_retired=False)
    keys = []
    for k in student_keys:
        key = _require_student(user, roster, k)
        if key in keys:
            raise UsageError(f"Student {key} is listed twice.")
        keys.append(key)
    _check_dates(start, review)
    weeks = _weeks_now(user)
    with user.store.write() as session:
        prog = _programme_row(session, user, programme, include_retired=False)
        resp = _check_account(session, responsible) if responsible else (prog.responsible or user.username)
        rows = _add_mappings(user, session, prog, keys, start=start, review=review, goal_target=goal_target,
                             responsible=resp, status=status)
        return [_mapping_view(m, prog, roster, weeks) for m in rows]


def end_mapping(
    user: UserSession, programme: str, student_key: str, *, end: date, status: str, reason: str = "",
) -> MappingView:
    """End the student's current mapping: status "completed" or "withdrawn" (a reason is
    required for withdrawn). Refused: end before start, no current mapping."""
    user.check_active()
    if status not in ("completed", "withdrawn"):
        raise UsageError("A mapping ends as completed or withdrawn.")
    if status == "withdrawn" and not reason.strip():
        raise UsageError("Say why the student withdrew (--reason).")
    roster = _Roster(user)
    key = _require_student(user, roster, student_key)
    weeks = _weeks_now(user)
    with user.store.write() as session:
        prog = _programme_row(session, user, programme)
        m = session.execute(
            select(InterventionMapping).where(InterventionMapping.programme_id == prog.id,
                                              InterventionMapping.student_key == key,
                                              InterventionMapping.status.in_(CURRENT))
        ).scalar_one_or_none()
        if m is None:
            raise UsageError(f"Student {key} is not currently in {prog.name}.")
        if end < m.start_date:
            raise UsageError(f"The end date {end:%d/%m/%Y} is before the start date {m.start_date:%d/%m/%Y}.")
        old = {"status": m.status, "end": _json(m.end_date)}
        m.end_date, m.status, m.reason = end, status, reason.strip()
        m.updated_at, m.updated_by = utcnow(), user.username
        user.store.audit(session, user.username, "mapping.ended", object_type="student", object_id=key,
                         detail={"mapping": m.id, "programme": prog.name, "old": old,
                                 "new": {"status": status, "end": end.isoformat(),
                                         **({"reason": _text_digest(m.reason)} if m.reason else {})}})
        return _mapping_view(m, prog, roster, weeks)


def _mapping_in_scope(user: UserSession, session: Session, mapping_id: int, roster: _Roster) -> tuple[InterventionMapping, InterventionProgramme]:
    m = session.get(InterventionMapping, mapping_id)
    prog = session.get(InterventionProgramme, m.programme_id) if m is not None else None
    if m is None or prog is None or m.student_key not in roster or not _may_know(user, prog):
        raise UsageError(f"There is no mapping {mapping_id} that you may see.")
    return m, prog


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def update_mapping(
    user: UserSession, mapping_id: int, *, review: date | None = None, goal_target: float | None = None,
    responsible: str | None = None, reason: str = "",
) -> MappingView:
    """Change a mapping's review date, goal target or responsible staff member (audited). Each
    change keeps the value it replaces (``intervention_mapping_change``: who, when, and the
    reason when given), so a corrected goal leaves the earlier one visible."""
    user.check_active()
    why = (reason or "").strip()
    if len(why) > MAX_TEXT:
        raise UsageError(f"The reason is at most {MAX_TEXT} characters.")
    roster = _Roster(user)
    weeks = _weeks_now(user)
    with user.store.write() as session:
        m, prog = _mapping_in_scope(user, session, mapping_id, roster)
        changes: dict[str, list[Any]] = {}
        if review is not None and review != m.review_date:
            _check_dates(m.start_date, review)
            changes["review"] = [_json(m.review_date), review.isoformat()]
            m.review_date = review
        if goal_target is not None and goal_target != m.goal_target:
            changes["goal_target"] = [m.goal_target, goal_target]
            m.goal_target = goal_target
        if responsible is not None and responsible.strip() != m.responsible:
            resp = _check_account(session, responsible)
            changes["responsible"] = [m.responsible, resp]
            m.responsible = resp
        if changes:
            m.updated_at, m.updated_by = utcnow(), user.username
            columns = {"review": "review_date", "goal_target": "goal_target", "responsible": "responsible"}
            for name, (old, new) in changes.items():
                session.add(InterventionMappingChange(
                    mapping_id=m.id, field=columns[name], old_value=_value_text(old), new_value=_value_text(new),
                    changed_by=user.username, changed_at=m.updated_at, reason=why))
            user.store.audit(session, user.username, "mapping.changed", object_type="student", object_id=m.student_key,
                             detail={"mapping": m.id, "programme": prog.name, "changes": changes,
                                     **({"reason": _text_digest(why)} if why else {})})
        return _mapping_view(m, prog, roster, weeks)


def _text_digest(text: str) -> dict[str, Any]:
    """Free text as the audit log keeps it: its length and SHA-256, never the words (they may
    name the student, and an entry cannot be removed from the chain at disposal)."""
    return {"chars": len(text), "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest()}


def _insert_note(user: UserSession, session: Session, key: str, text: str, sensitive: bool) -> int:
    from mapping_tool.services.notes import MAX_NOTE

    body = text.strip()
    if not body:
        raise UsageError("A note cannot be empty.")
    if len(body) > MAX_NOTE:
        raise UsageError(f"A note is at most {MAX_NOTE} characters.")
    note = StudentNote(student_key=key, author=user.username, created_at=utcnow(), text=body, sensitive=sensitive)
    session.add(note)
    session.flush()
    # As services/notes.py: the text stays in the note (disposed of with the student); the log,
    # whose entries outlive the student, keeps its length and checksum.
    user.store.audit(session, user.username, "note.added", object_type="student", object_id=key,
                     detail={"note": note.id, "sensitive": sensitive, **_text_digest(body)})
    return note.id


def add_outcome_note(user: UserSession, mapping_id: int, text: str, *, sensitive: bool = False) -> int:
    """An outcome note on the student's file (the student-note mechanism, with its sensitive
    label), prefixed with the programme's name. Returns the note id."""
    user.check_active()
    roster = _Roster(user)
    if not text.strip():
        raise UsageError("A note cannot be empty.")
    with user.store.write() as session:
        m, prog = _mapping_in_scope(user, session, mapping_id, roster)
        # a note about a sensitive programme is itself sensitive
        return _insert_note(user, session, m.student_key, f"Outcome ({prog.name}): {text.strip()}",
                            sensitive or prog.sensitive)


def _read_sheet(path: Path) -> tuple[list[str], list[list[object]]]:
    path = Path(path).expanduser()
    if not path.is_file():
        raise UsageError(f"There is no file {path.name}.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True, data_only=True)
            try:
                ws = wb.worksheets[0]
                rows = [list(r) for r in ws.iter_rows(values_only=True)]
            finally:
                wb.close()
        elif suffix in (".csv", ".txt"):
            import csv

            raw = path.read_bytes()
            text = raw.decode("utf-8-sig") if raw.startswith(b"\xef\xbb\xbf") else raw.decode("cp1252")
            rows = [list(r) for r in csv.reader(text.splitlines())]
        else:
            raise UsageError(f"{path.name} is not a csv or xlsx file.")
    except (OSError, ValueError, KeyError) as exc:
        if isinstance(exc, UsageError):
            raise
        raise UsageError(f"{path.name} could not be read as a spreadsheet.") from None
    if not rows:
        raise UsageError(f"{path.name} is empty.")
    return [str(h) if h is not None else "" for h in rows[0]], rows[1:]


def import_mappings(user: UserSession, path: Path, *, dry_run: bool = False) -> MappingImportResult:
    """A spreadsheet of existing mappings (csv or xlsx), long form (student key, programme,
    start, end, status) or the old workbook's grid form (one column per programme, a mark for
    participants). All or nothing: one bad row refuses the file with a report by row
    (``MappingImportRefused.report``)."""
    user.check_active()
    header, rows = _read_sheet(path)
    try:
        form, parsed = bulk.parse_mapping_rows(header, rows, today=date.today())
    except InterventionError as exc:
        raise UsageError(exc.message) from None
    if not parsed:
        raise UsageError(f"{Path(path).name} holds no mappings.")
    roster = _Roster(user)
    report: list[ImportRowReport] = []
    bad = 0
    with user.store.read() as session:
        progs = {p.name.lower(): p for p in session.execute(select(InterventionProgramme)).scalars() if _may_know(user, p)}
        current = {(k, pid) for k, pid in session.execute(
            select(InterventionMapping.student_key, InterventionMapping.programme_id)
            .where(InterventionMapping.status.in_(CURRENT))).all()}
    seen: set[tuple[str, int]] = set()
    for p in parsed:
        error = p.error
        prog = progs.get(p.programme.lower())
        if not error and prog is None:
            error = f"there is no programme called '{p.programme}'"
        elif not error and prog is not None and prog.retired:
            error = f"the programme '{prog.name}' is retired"
        if not error and p.student_key not in roster:
            error = f"there is no student {p.student_key} that you may see"
        if not error and p.start and p.end and p.end < p.start:
            error = "the end date is before the start date"
        if not error and prog is not None and p.status in CURRENT:
            if (p.student_key, prog.id) in current or (p.student_key, prog.id) in seen:
                error = f"student {p.student_key} is already in {prog.name}"
            seen.add((p.student_key, prog.id))
        if not error and p.status == "withdrawn" and not p.reason:
            error = "a withdrawn mapping needs a reason"
        bad += bool(error)
        report.append(ImportRowReport(p.row, p.student_key, p.programme, error or "added"))
    if bad:
        first = next(r for r in report if r.outcome != "added")
        with user.store.write() as session:
            user.store.audit(session, user.username, "mappings.import-refused", object_type="interventions",
                             object_id=Path(path).suffix, detail={"rows": len(report), "bad_rows": bad})
        raise MappingImportRefused(
            f"Nothing was imported: {bad} of {len(report)} rows cannot be used (row {first.row}: {first.outcome}).",
            tuple(report),
        )
    if dry_run:
        return MappingImportResult(form, tuple(report), 0)
    with user.store.write() as session:
        for p in parsed:
            prog = session.get(InterventionProgramme, progs[p.programme.lower()].id)
            assert prog is not None and p.start is not None
            _add_mappings(user, session, prog, [p.student_key], start=p.start, review=None, goal_target=None,
                          responsible=prog.responsible, status=p.status, end=p.end, reason=p.reason, source="import")
        user.store.audit(session, user.username, "mappings.imported", object_type="interventions",
                         object_id=Path(path).suffix, detail={"form": form, "rows": len(parsed)})
    return MappingImportResult(form, tuple(report), len(parsed))


def grid(user: UserSession, *, year_level: str | None = None, programmes: Sequence[str] | None = None,
         current_only: bool = True) -> GridView:
    """Students in scope x programmes the user may know of (audited as a list view)."""
    from mapping_tool.services import flags

    user.check_active()
    roster = _Roster(user)
    with user.store.read() as session:
        progs = [p for p in session.execute(
            select(InterventionProgramme).where(InterventionProgramme.retired.is_(False)).order_by(InterventionProgramme.name)
        ).scalars() if _may_know(user, p)]
        if programmes:
            wanted = {n.strip().lower() for n in programmes}
            progs = [p for p in progs if p.name.lower() in wanted]
        q = select(InterventionMapping.student_key, InterventionMapping.programme_id, InterventionMapping.status,
                   InterventionMapping.start_date)
        if current_only:
            q = q.where(InterventionMapping.status.in_(CURRENT))
        marks: dict[tuple[str, int], str] = {}
        for key, pid, status, start in session.execute(q.order_by(InterventionMapping.id)).all():
            marks[(key, pid)] = _status(status, start)
        keys = [k for k in roster.info if not year_level or roster.year(k) == year_level]
        tiers, _, _ = flags._latest_rows(session, keys, user.store)  # noqa: SLF001 - same service layer
    show_tier = students.effective_policy(user).allows_item(user.role, "flagged_factors")
    rows = tuple(
        GridRow(k, roster.name(k), roster.year(k), roster.info[k][2],
                (tiers.get(k) or {}).get("tier") if show_tier else None,
                tuple(marks.get((k, p.id), "") for p in progs))
        for k in sorted(keys, key=lambda k: (roster.year(k), roster.name(k), k))
    )
    view = GridView(tuple(p.name for p in progs), rows)
    students.record_list_view(user, students.StudentTable(("student_key",), tuple((r.student_key,) for r in rows)),
                              view="interventions-grid")
    return view


# -- evaluation -------------------------------------------------------------------------------------


def evaluation_weeks(user: UserSession) -> int:
    """The window W in weeks (a setting, default 8)."""
    user.check_active()
    return _weeks_now(user)


def set_evaluation_weeks(user: UserSession, weeks: int) -> None:
    """Custodian or principal class; 1 to 52."""
    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    _check_weeks(weeks)
    with user.store.write() as session:
        row = session.get(Setting, WEEKS_SETTING)
        old = row.value if row else str(DEFAULT_WEEKS)
        if row is None:
            session.add(Setting(key=WEEKS_SETTING, value=str(weeks)))
        else:
            row.value = str(weeks)
        user.store.audit(session, user.username, "setting.changed", object_type="setting", object_id=WEEKS_SETTING,
                         detail={"old": old, "new": str(weeks)})


def _check_weeks(weeks: int) -> None:
    if not isinstance(weeks, int) or weeks < 1 or weeks > 52:
        raise UsageError("The evaluation window is a whole number of weeks from 1 to 52.")


@dataclass(frozen=True)
class _EvalData:
    latest: date | None
    rules: Any
    population: tuple[str, ...]
    year_level: dict[str, str]
    all_mappings: tuple[MappingRow, ...]
    programmes: tuple[Any, ...]  # (id, name, measure, sensitive, responsible, retired)
    by_programme: dict[int, list[MappingRow]]


def _rules(session: Session) -> Any:
    from mapping_tool.services.flags import _rules_from_row
    from mapping_tool.store.models import RuleVersion
    from risk_factors import load_default_rules

    row = session.execute(select(RuleVersion).order_by(RuleVersion.id.desc()).limit(1)).scalar_one_or_none()
    return (row.id if row else 0), (_rules_from_row(row) if row else load_default_rules())


_APPROVAL_SQL = "CASE WHEN {0} IN ('N', 'n') THEN 1 WHEN {0} IN ('Y', 'y') THEN 2 ELSE 0 END"


def _day_numbers(text: str) -> Any:
    """Days since 1970 of the concatenated 'YYYY-MM-DD' dates in ``text`` (numpy's own date
    parsing, vectorised: no per-date Python; civil-from-days arithmetic for text it refuses)."""
    import numpy as np

    data = text.encode("ascii")
    try:
        return np.frombuffer(data, dtype="S10").astype("datetime64[D]").astype(np.int64)
    except ValueError:  # pragma: no cover - a date numpy does not read; the arithmetic below reads any digits
        pass
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, 10).astype(np.int64) - 48
    y = raw[:, 0] * 1000 + raw[:, 1] * 100 + raw[:, 2] * 10 + raw[:, 3]
    m = raw[:, 5] * 10 + raw[:, 6]
    d = raw[:, 8] * 10 + raw[:, 9]
    y = y - (m <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + np.where(m > 2, -3, 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_PACKED_COLUMNS = (
    "count(*), group_concat(date, ''), "
    f"group_concat(am_code * 4 + {_APPROVAL_SQL.format('am_approved')}), "
    f"group_concat(pm_code * 4 + {_APPROVAL_SQL.format('pm_approved')})"
)
_PRESENT_SQL = ("SELECT EXISTS (SELECT 1 FROM attendance WHERE (am_code > 0 AND am_code < 200) "
                "OR (pm_code > 0 AND pm_code < 200))")


def _attendance_frame(conn: Any, span: tuple[date, date] | None = None, keys: Sequence[str] = ()) -> Any:
    """The attendance rows as the measures' frame (day numbers for dates, approvals as
    categories). Read one row per student with the columns packed as text, which SQLCipher hands
    over several times faster than a million rows (decoded with numpy). With ``span`` (first,
    last day), only the rows of students ``keys`` on those days: each student's rows are one
    range of the (student, date) key, so the other days' pages are not read at all."""
    import numpy as np
    import pandas as pd

    if span is None:
        rows = conn.execute(f"SELECT student_key, {_PACKED_COLUMNS} FROM attendance GROUP BY student_key").fetchall()
    else:
        query = f"SELECT {_PACKED_COLUMNS} FROM attendance WHERE student_key = ? AND date BETWEEN ? AND ?"
        first, last = span[0].isoformat(), span[1].isoformat()
        run = conn.execute
        rows = []
        for key in sorted(set(keys)) if span[0] <= span[1] else ():
            n, *packed = run(query, (key, first, last)).fetchone()
            if n:
                rows.append((key, n, *packed))

    def ints(i: int) -> Any:
        if not rows:
            return np.zeros(0, dtype=np.int64)
        return np.fromstring(",".join(r[i] for r in rows), dtype=np.int64, sep=",")

    keys = pd.Categorical.from_codes(np.repeat(np.arange(len(rows)), [r[1] for r in rows]),
                                     categories=[r[0] for r in rows])
    dates = "".join(r[2] for r in rows)
    if len(dates) != 10 * len(keys):  # pragma: no cover - a damaged store
        raise UsageError("The attendance in the store could not be read; import the extract again.")
    day, am, pm = _day_numbers(dates), ints(3), ints(4)
    if not (len(day) == len(am) == len(pm) == len(keys)):  # pragma: no cover - a damaged store
        raise UsageError("The attendance in the store could not be read; import the extract again.")
    approval = ["", "N", "Y"]
    return pd.DataFrame({
        "student_key": keys, "date": day,
        "am_code": am // 4, "am_approved": pd.Categorical.from_codes(am % 4, categories=approval),
        "pm_code": pm // 4, "pm_approved": pd.Categorical.from_codes(pm % 4, categories=approval),
    })


def _evaluation_reach(data: _EvalData, weeks: int) -> tuple[tuple[date, date] | None, frozenset[str]]:
    """What any evaluation of the rate measures over ``weeks`` can look at: the days from the
    earliest before-window to the latest after-window of every started mapping of every rate
    programme (None when there is none), and the students: the measures' population (the
    comparison students are drawn from it) and every mapped student."""
    rate = {p.id for p in data.programmes if p.measure in RATE_MEASURES}
    latest = data.latest
    first = last = None
    for pid in rate:
        for m in data.by_programme.get(pid, ()):
            if latest is None or m.start > latest:
                continue  # not started: not measured, no window
            lo = m.start - timedelta(days=7 * weeks)
            hi = min(m.start + timedelta(days=7 * weeks), m.end or latest, latest)
            first = lo if first is None else min(first, lo)
            last = hi if last is None else max(last, hi)
    span = (first, last) if first is not None and last is not None and first <= last else None
    return span, frozenset(data.population) | {m.student_key for m in data.all_mappings}


def _attendance_days(user: UserSession, session: Session, snapshot_id: int | None, rule_id: int, rules: Any,
                     reach: tuple[tuple[date, date] | None, frozenset[str]] | None = None) -> AttendanceDays:
    """The attendance as cumulative half-day counts, cached per open store until the next import
    or rule change (loading 1.2 million rows takes longer than evaluating them).

    With ``reach`` (see :func:`_evaluation_reach`), only the rows of those students on those days
    are read: every window the evaluation rates lies in them, and a student or day outside counts
    nothing either way, so the figures are the same as from the whole table. A store whose
    attendance holds absence rows only is read whole (the marked half-days then come from the
    school days, as the measures count them)."""
    import numpy as np
    import pandas as pd

    from risk_factors.measures import half_day_counts

    fingerprint = (snapshot_id, rule_id)
    cached = getattr(user.store, "_iv_days", None)
    if cached is not None and cached[0] == fingerprint:
        held = cached[2]
        if held is None or (reach is not None and _covers(held, reach)):
            return cached[1]  # type: ignore[no-any-return]
    conn = session.connection().connection.driver_connection
    if reach is not None and not conn.execute(_PRESENT_SQL).fetchone()[0]:
        reach = None  # absence rows only: read the whole table
    if reach is None:
        att = _attendance_frame(conn)
    else:  # (no span: no rate mapping has started, so there is nothing to read)
        att = _attendance_frame(conn, reach[0] or (date.max, date.min), reach[1])
    kct = pd.DataFrame(conn.execute("SELECT code, curriculum, pre_approved FROM absence_type").fetchall(),
                       columns=["code", "curriculum", "pre_approved"])
    kct["curriculum"] = kct["curriculum"].astype(bool)
    kct["pre_approved"] = kct["pre_approved"].astype(bool)
    counts = half_day_counts(att, kct, rules)
    dates = pd.to_datetime(att["date"].to_numpy(dtype=np.int64), unit="D")
    days = AttendanceDays(att["student_key"], dates,
                          counts.marked, counts.absent, counts.unapproved, counts.suspension)
    am, pm = att["am_code"].to_numpy(), att["pm_code"].to_numpy()
    # a present half-day anywhere in the table (when only part of it was read, the query above
    # found one), else the absence-rows-only rule applies
    present = reach is not None or bool((((am > 0) & (am < 200)) | ((pm > 0) & (pm < 200))).any())
    if len(att) and counts.marked.any() and not present:
        # absence rows only: the marked half-days are the school days, as the measures count them
        from risk_factors.measures import school_day_numbers

        first = dates.min().date()
        last = session.execute(select(func.max(Snapshot.extract_date))).scalar_one() or dates.max().date()
        rows = conn.execute("SELECT student_key, entry_date, exit_date FROM student").fetchall()
        epoch = date(1970, 1, 1)

        def num(text: str | None) -> int | None:
            return (date.fromisoformat(text) - epoch).days if text else None

        days.use_school_days(school_day_numbers(None, rules, first, last),
                             {k: num(e) for k, e, _ in rows}, {k: num(x) for k, _, x in rows})
    user.store._iv_days = (fingerprint, days, reach)  # type: ignore[attr-defined]
    return days


def _covers(held: tuple[tuple[date, date] | None, frozenset[str]],
            reach: tuple[tuple[date, date] | None, frozenset[str]]) -> bool:
    """Whether attendance read for ``held`` serves an evaluation that needs ``reach``."""
    if not reach[1] <= held[1]:
        return False
    if reach[0] is None:
        return True
    return held[0] is not None and held[0][0] <= reach[0][0] and reach[0][1] <= held[0][1]


def _load(user: UserSession, session: Session) -> tuple[_EvalData, Any]:
    conn = session.connection().connection.driver_connection
    snap = session.execute(select(Snapshot).where(Snapshot.source == "cases21").order_by(Snapshot.id.desc()).limit(1)).scalar_one_or_none()
    rule_id, rules = _rules(session)
    year_level = dict(conn.execute("SELECT student_key, year_level FROM student").fetchall())
    population: tuple[str, ...] = ()
    if snap is not None:
        population = tuple(r[0] for r in conn.execute(
            "SELECT student_key FROM student_flags WHERE snapshot_id = ? AND rule_version = "
            "(SELECT max(rule_version) FROM student_flags WHERE snapshot_id = ?)", (snap.id, snap.id)))
        if not population:
            statuses = list(rules.population_statuses)
            population = tuple(r[0] for r in conn.execute(
                f"SELECT student_key FROM student WHERE in_extract = 1 AND status IN ({', '.join('?' for _ in statuses)})",
                statuses))
    progs = tuple(session.execute(select(
        InterventionProgramme.id, InterventionProgramme.name, InterventionProgramme.measure,
        InterventionProgramme.sensitive, InterventionProgramme.responsible, InterventionProgramme.retired,
    ).order_by(InterventionProgramme.name)).all())
    names = {p.id: p.name for p in progs}
    all_maps: list[MappingRow] = []
    by_prog: dict[int, list[MappingRow]] = {}
    for mid, key, pid, start, end, status, target in conn.execute(
        "SELECT id, student_key, programme_id, start_date, end_date, status, goal_target FROM intervention_mapping ORDER BY id"
    ):
        row = MappingRow(int(mid), key, names.get(pid, ""), date.fromisoformat(start),
                         date.fromisoformat(end) if end else None, status, target)
        all_maps.append(row)
        by_prog.setdefault(int(pid), []).append(row)
    data = _EvalData(snap.extract_date if snap else None, rules, population, year_level, tuple(all_maps), progs, by_prog)
    return data, (snap.id if snap else None, rule_id)


def _series(session: Session, measure: str, rules: Any, keys: set[str]) -> dict[str, list[tuple[date, float]]]:
    conn = session.connection().connection.driver_connection
    out: dict[str, list[tuple[date, float]]] = {}
    wanted = sorted(keys)
    if not wanted:
        return out
    marks = ", ".join("?" for _ in wanted)
    if measure == "flag_count":
        rows = []
        for snap_id, day, version in conn.execute(
            "SELECT s.id, s.extract_date, (SELECT max(rule_version) FROM student_flags g WHERE g.snapshot_id = s.id) "
            "FROM snapshot s WHERE s.source = 'cases21' ORDER BY s.extract_date, s.id"
        ).fetchall():
            if version is None:
                continue
            rows += [(k, day, n) for k, n in conn.execute(
                f"SELECT student_key, flag_count FROM student_flags WHERE snapshot_id = ? AND rule_version = ? "
                f"AND student_key IN ({marks})", [snap_id, version, *wanted])]
        for key, day, count in rows:
            if key in keys:
                out.setdefault(key, []).append((date.fromisoformat(day), float(count)))
        return out
    dims = [d.upper() for d in (rules.english_dimensions if measure == "english" else rules.maths_dimensions)]
    if not dims:
        return out
    rows = conn.execute(
        f"SELECT student_key, year_semester, score FROM strand_result WHERE student_key IN ({marks}) "
        f"AND upper(dimension) IN ({', '.join('?' for _ in dims)})",
        [*wanted, *dims],
    ).fetchall()
    per: dict[tuple[str, str], list[float]] = {}
    for key, ys, score in rows:
        if key not in keys:
            continue
        try:
            value = float(score)
        except (TypeError, ValueError):
            continue
        if len(ys) == 6 and ys[4] == "." and ys[5] in "12" and ys[:4].isdigit():
            per.setdefault((key, ys), []).append(value)
    for (key, ys), values in sorted(per.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        end = date(int(ys[:4]), 6, 30) if ys[5] == "1" else date(int(ys[:4]), 12, 31)
        out.setdefault(key, []).append((end, sum(values) / len(values)))
    return out


def _compute(user: UserSession, weeks: int, programme: str | None,
             only_keys: set[str] | None = None) -> tuple[list[Any], _EvalData]:
    """(programme results, data) for the programmes the user may know of; with ``only_keys``,
    only those students' mappings are evaluated (the per-student rows; the programme figures
    of such a result are not used)."""
    with user.store.read() as session:
        if programme:
            wanted = _programme_row(session, user, programme).id
        data, (snap_id, rule_id) = _load(user, session)
        visible = [p for p in data.programmes if (programme is None or p.id == wanted)
                   and (not p.sensitive or user.role in SENSITIVE_INSIDERS or p.responsible == user.username)
                   and (not p.retired or data.by_programme.get(p.id))]
        days = None
        if data.latest is not None and any(p.measure in RATE_MEASURES for p in visible):
            days = _attendance_days(user, session, snap_id, rule_id, data.rules, _evaluation_reach(data, weeks))
        pool = ComparisonPool(data.all_mappings, days, data.year_level, data.population) if days is not None else None
        results = []
        for p in visible:
            maps = data.by_programme.get(p.id, [])
            if only_keys is not None:
                maps = [m for m in maps if m.student_key in only_keys]
                if not maps:
                    continue
            if data.latest is None:
                results.append((p, None))
                continue
            series = None
            if p.measure not in RATE_MEASURES:
                series = _series(session, p.measure, data.rules, {m.student_key for m in maps})
            res = evaluate_programme(p.name, p.measure, maps, latest=data.latest, weeks=weeks,
                                     all_mappings=data.all_mappings, days=days, year_level=data.year_level,
                                     population=data.population, series=series, pool=pool)
            results.append((p, res))
    return results, data


def prepare_evaluation(user: UserSession) -> None:
    """Load the attendance for evaluating (a few seconds on a large school, once per open store
    until the next import): a screen may call it on the worker before the first evaluation."""
    user.check_active()
    weeks = _weeks_now(user)
    with user.store.read() as session:
        data, (snap_id, rule_id) = _load(user, session)
        if data.latest is not None:
            _attendance_days(user, session, snap_id, rule_id, data.rules, _evaluation_reach(data, weeks))


def _sees_all(user: UserSession, keys: set[str], roster: _Roster | None) -> bool:
    if user.role in WHOLE_SCHOOL:
        return True
    return roster is not None and all(k in roster for k in keys)


def evaluate(user: UserSession, *, weeks: int | None = None, programme: str | None = None) -> list[ProgrammeEvaluation]:
    """One evaluation per programme the user may know of (the definition of issue 8 section 3)."""
    user.check_active()
    w = _weeks_now(user) if weeks is None else weeks
    _check_weeks(w)
    results, data = _compute(user, w, programme)
    roster = None if user.role in WHOLE_SCHOOL else _Roster(user)
    out: list[ProgrammeEvaluation] = []
    for p, res in results:
        if res is None:
            out.append(ProgrammeEvaluation(p.name, p.measure, len(data.by_programme.get(p.id, [])), 0,
                                           {"no extract imported yet": len(data.by_programme.get(p.id, []))},
                                           None, None, None, None, None, None, None, None, None,
                                           ("No extract has been imported yet, so nothing can be measured.",), False, w,
                                           WHICH_TO_READ))
            continue
        keys = {m.student_key for m in data.by_programme.get(p.id, [])}
        hidden = res.measured < MIN_MEASURED_FOR_FIGURES and not _sees_all(user, keys, roster)
        warnings = res.warnings
        if hidden:
            warnings = (f"Fewer than {MIN_MEASURED_FOR_FIGURES} students were measured, so only the counts are "
                        "shown to staff who cannot see every participant.", *warnings)
        ev = ProgrammeEvaluation(
            p.name, p.measure, res.participants, res.measured, dict(res.not_measured),
            res.before_mean, res.after_mean, res.change, res.comparison_before_mean, res.comparison_after_mean,
            res.comparison_change, res.difference, res.ci_low, res.ci_high, warnings, hidden, w, WHICH_TO_READ,
        )
        if hidden:
            ev = replace(ev, before_mean=None, after_mean=None, change=None, comparison_before_mean=None,
                         comparison_after_mean=None, comparison_change=None, difference=None, ci_low=None, ci_high=None)
        out.append(ev)
    with user.store.write() as session:
        user.store.audit(session, user.username, "evaluation.viewed", object_type="interventions",
                         detail={"programmes": [e.intervention for e in out], "weeks": w,
                                 "figures_hidden": [e.intervention for e in out if e.figures_hidden]})
    return out


def _student_rows(user: UserSession, weeks: int, programme: str | None, key: str | None,
                  roster: _Roster) -> list[StudentEvaluation]:
    only = {key} if key else (None if user.role in WHOLE_SCHOOL else set(roster.info))
    results, data = _compute(user, weeks, programme, only)
    maps = {m.id: m for m in data.all_mappings}
    out = []
    for p, res in results:
        rows = res.students if res is not None else ()
        by_id = {r.mapping_id: r for r in rows}
        for m in data.by_programme.get(p.id, []):
            if m.student_key not in roster or (key and m.student_key != key):
                continue
            r = by_id.get(m.id)
            mm = maps[m.id]
            out.append(StudentEvaluation(
                m.id, m.student_key, p.name, p.measure, mm.start, mm.end, _status(mm.status, mm.start),
                r.before if r else None, r.after if r else None, r.change if r else None,
                r.comparison_change if r else None, r.difference if r else None,
                len(r.comparisons) if r else 0, mm.goal_target, r.goal_met if r else None,
                (r.reason if r else "no extract imported yet") + (
                    "" if r is None or not r.measured or r.after_days is None or r.after_days >= 28
                    else "too early to judge: fewer than 4 weeks since the start"),
            ))
    return out


def evaluate_students(
    user: UserSession, *, weeks: int | None = None, programme: str | None = None, student_key: str | None = None,
) -> list[StudentEvaluation]:
    """Per mapping, for students the user may see."""
    user.check_active()
    w = _weeks_now(user) if weeks is None else weeks
    _check_weeks(w)
    roster = _Roster(user)
    key = _require_student(user, roster, student_key) if student_key else None
    rows = _student_rows(user, w, programme, key, roster)
    with user.store.write() as session:
        user.store.audit(session, user.username, "evaluation.students-viewed", object_type="interventions",
                         detail={"rows": len(rows), "student_keys": sorted({r.student_key for r in rows}), "weeks": w})
    return rows


def student_interventions(user: UserSession, student_key: str, *, audit: bool = True) -> StudentInterventions:
    """The student panel's section (scope-checked; the view is audited)."""
    user.check_active()
    roster = _Roster(user)
    key = _require_student(user, roster, student_key)
    weeks = _weeks_now(user)
    with user.store.read() as session:
        pairs = session.execute(
            select(InterventionMapping, InterventionProgramme)
            .join(InterventionProgramme, InterventionProgramme.id == InterventionMapping.programme_id)
            .where(InterventionMapping.student_key == key).order_by(InterventionMapping.start_date.desc())
        ).all()
        mappings = tuple(_mapping_view(m, p, roster, weeks) for m, p in pairs if _may_know(user, p))
        changes: dict[int, list[MappingChangeView]] = {}
        if mappings:
            for c in session.execute(
                select(InterventionMappingChange)
                .where(InterventionMappingChange.mapping_id.in_([m.id for m in mappings]))
                .order_by(InterventionMappingChange.id)
            ).scalars():
                changes.setdefault(c.mapping_id, []).append(
                    MappingChangeView(c.field, c.old_value, c.new_value, c.changed_by, c.changed_at, c.reason))
            mappings = tuple(replace(m, changes=tuple(changes.get(m.id, ()))) for m in mappings)
    evaluations: tuple[StudentEvaluation, ...] = ()
    if mappings:
        wanted = {m.id for m in mappings}
        evaluations = tuple(r for r in _student_rows(user, weeks, None, key, roster) if r.mapping_id in wanted)
    if audit:
        with user.store.write() as session:
            user.store.audit(session, user.username, "interventions.student-viewed", object_type="student", object_id=key,
                             detail={"mappings": [m.id for m in mappings]})
    return StudentInterventions(key, mappings, evaluations, 0)


PROGRAMME_COLUMNS = ("intervention", "measure", "participants", "measured", "before_mean", "after_mean", "change",
                     "comparison_change", "difference", "ci_low", "ci_high", "warning")
STUDENT_COLUMNS = ("student_key", "intervention", "start", "end", "status", "before", "after", "change",
                   "comparison_change", "difference", "goal_target", "goal_met")


def export_evaluation(
    user: UserSession, out: Path, *, fmt: str | None = None, students_out: Path | None = None,
    weeks: int | None = None, force: bool = False,
) -> tuple[int, int]:
    """Write the programme rows (and, if asked, the per-mapping rows); returns the row counts."""
    from mapping_tool.services.export import export_format, write_rows
    from mapping_tool.services.outputs import atomic_output, check_output_path

    user.check_active()
    w = _weeks_now(user) if weeks is None else weeks
    _check_weeks(w)
    fmt_main = export_format(Path(out), fmt)
    folder = user.store.files.folder
    check_output_path(Path(out), store_folder=folder, replace=force)
    if students_out is not None:
        if "student_key" not in students.visible_fields(user, ("student_key",)):
            raise students.NotVisible("Your role may not export identifying student data.")
        if Path(students_out).expanduser().resolve() == Path(out).expanduser().resolve():
            raise UsageError("The programme file and the students file must be different files.")
        check_output_path(Path(students_out), store_folder=folder, replace=force)
    evaluations = evaluate(user, weeks=w)
    rows = [(e.intervention, e.measure, e.participants, e.measured, e.before_mean, e.after_mean, e.change,
             e.comparison_change, e.difference, e.ci_low, e.ci_high, e.warning) for e in evaluations]
    student_rows: list[tuple[Any, ...]] = []
    if students_out is not None:
        per = evaluate_students(user, weeks=w)
        student_rows = [(r.student_key, r.intervention, r.start, r.end, r.status, r.before, r.after, r.change,
                         r.comparison_change, r.difference, r.goal_target, r.goal_met) for r in per]
    with atomic_output(Path(out), store_folder=folder, replace=force) as tmp:
        n = write_rows(tmp, PROGRAMME_COLUMNS, rows, fmt=fmt_main, title="Evaluation")
    m = 0
    if students_out is not None:
        fmt_students = export_format(Path(students_out), fmt if fmt and not Path(students_out).suffix else None)
        with atomic_output(Path(students_out), store_folder=folder, replace=force) as tmp:
            m = write_rows(tmp, STUDENT_COLUMNS, student_rows, fmt=fmt_students, title="Students")
    with user.store.write() as session:
        # the file's type, not its name: a name a user chose may name a student, and the entry outlives them
        user.store.audit(session, user.username, "export.evaluation", object_type="export", object_id=Path(out).suffix,
                         detail={"rows": n, "students_file": Path(students_out).suffix if students_out else "",
                                 "student_keys": sorted({r[0] for r in student_rows}), "weeks": w})
    return n, m


# -- capacity ---------------------------------------------------------------------------------------


def capacity(user: UserSession) -> list[CapacityRow]:
    """Seats against flagged demand in the user's scope, per programme the user may know of."""
    from mapping_tool.services import flags

    user.check_active()
    roster = _Roster(user)
    progs = list_programmes(user)
    keys = list(roster.info)
    with user.store.read() as session:
        rows, _, _ = flags._latest_rows(session, keys, user.store)  # noqa: SLF001
        current = session.execute(
            select(InterventionMapping.student_key, InterventionProgramme.measure)
            .join(InterventionProgramme, InterventionProgramme.id == InterventionMapping.programme_id)
            .where(InterventionMapping.status.in_(CURRENT))
        ).all()
    covered: dict[str, set[str]] = {}
    for key, measure in current:
        covered.setdefault(measure, set()).add(key)
    show = students.effective_policy(user).allows_item(user.role, "flagged_factors")
    demand: dict[str, int] = {}
    if show:
        for measure in {p.measure for p in progs}:
            names = MEASURE_FLAGS.get(measure, ())
            taken = covered.get(measure, set())
            if names:
                demand[measure] = sum(1 for k, r in rows.items() if k not in taken and any(r.get(n) for n in names))
            else:
                demand[measure] = sum(1 for k, r in rows.items() if k not in taken and (r.get("flag_count") or 0) > 0)
    out = []
    for p in progs:
        free = None if p.capacity is None else max(p.capacity - p.participants, 0)
        out.append(CapacityRow(p.name, p.measure, p.capacity, p.participants, free, demand.get(p.measure, 0)))
    return out


# -- meeting mode -----------------------------------------------------------------------------------


def _meeting_view(m: InterventionMeeting, latest: date | None) -> MeetingView:
    return MeetingView(m.id, m.started_at, m.started_by, m.title, latest)


def _latest_extract(session: Session) -> date | None:
    return session.execute(
        select(Snapshot.extract_date).where(Snapshot.source == "cases21").order_by(Snapshot.id.desc()).limit(1)
    ).scalar_one_or_none()


def start_meeting(user: UserSession, title: str = "") -> MeetingView:
    user.check_active()
    text = " ".join(title.split())[:120] or f"Student review meeting {date.today():%d/%m/%Y}"
    with user.store.write() as session:
        m = InterventionMeeting(started_at=utcnow(), started_by=user.username, title=text)
        session.add(m)
        session.flush()
        user.store.audit(session, user.username, "meeting.started", object_type="meeting", object_id=str(m.id),
                         detail=_text_digest(text))  # a typed title may name a student
        return _meeting_view(m, _latest_extract(session))


def list_meetings(user: UserSession, *, limit: int = 20) -> list[MeetingView]:
    user.check_active()
    with user.store.read() as session:
        latest = _latest_extract(session)
        rows = session.execute(select(InterventionMeeting).order_by(InterventionMeeting.id.desc()).limit(limit)).scalars()
        return [_meeting_view(m, latest) for m in rows]


def _meeting(session: Session, meeting_id: int) -> InterventionMeeting:
    m = session.get(InterventionMeeting, meeting_id)
    if m is None:
        raise UsageError(f"There is no meeting {meeting_id}.")
    return m


def _worsening(row: dict[str, Any]) -> list[str]:
    out = []
    att = row.get("attendance_rate_change")
    if row.get("flag_low_attendance") and isinstance(att, int | float) and att < 0:
        out.append(f"Attendance down {abs(att):.1f} points")
    un = row.get("unapproved_days_change")
    if row.get("flag_unapproved_absences") and isinstance(un, int | float) and un > 0:
        out.append(f"Unapproved absences up {un:g} days")
    sus = sum(v for v in (row.get("internal_suspension_days_change"), row.get("external_suspension_days_change"))
              if isinstance(v, int | float) and not math.isnan(v))
    if row.get("flag_suspension") and sus > 0:
        out.append(f"Suspension up {sus:g} days")
    return out


def _agenda(user: UserSession, session: Session, roster: _Roster, meeting_id: int | None, today: date) -> list[AgendaItem]:
    from mapping_tool.services import flags
    from mapping_tool.store.models import TierOverride

    keys = list(roster.info)
    show_flags = students.effective_policy(user).allows_item(user.role, "flagged_factors")
    rows, _, _ = flags._latest_rows(session, keys, user.store) if show_flags else ({}, None, None)  # noqa: SLF001
    overrides = {o.student_key: o.tier for o in session.execute(select(TierOverride).where(TierOverride.active)).scalars()}
    due: dict[str, list[tuple[int, str, date]]] = {}
    for m, p in session.execute(
        select(InterventionMapping, InterventionProgramme)
        .join(InterventionProgramme, InterventionProgramme.id == InterventionMapping.programme_id)
        .where(InterventionMapping.status.in_(CURRENT), InterventionMapping.review_date.is_not(None),
               InterventionMapping.review_date <= today)
    ).all():
        if m.student_key in roster and _may_know(user, p):
            due.setdefault(m.student_key, []).append((m.id, p.name, m.review_date))
    decided: set[str] = set()
    if meeting_id is not None:
        decided = set(session.execute(
            select(InterventionDecision.student_key).where(InterventionDecision.meeting_id == meeting_id)).scalars())
    items = []
    for k in keys:
        row = rows.get(k) or {}
        new = tuple(n for n in str(row.get("new_flags") or "").split(",") if n)
        worse = tuple(_worsening(row)) if row else ()
        reviews = due.get(k, [])
        if not (new or worse or reviews):
            continue
        reasons = ["New: " + ", ".join(flags.FLAG_TITLES.get(n, n) for n in new)] if new else []
        reasons += list(worse)
        reasons += [f"Review due {d:%d/%m/%Y} ({name})" for _, name, d in sorted(reviews, key=lambda r: r[2])]
        tier = overrides.get(k) or str(row.get("tier") or "none")
        items.append(AgendaItem(
            k, roster.name(k), roster.year(k), roster.info[k][2], tier, int(row.get("flag_count") or 0),
            tuple(reasons), new, worse, tuple(r[0] for r in reviews), k in decided,
        ))
    items.sort(key=lambda a: (TIER_ORDER.get(a.tier, 3), -a.flag_count, a.year_level, a.student_name, a.student_key))
    return items


def agenda(user: UserSession, meeting_id: int | None = None, *, today: date | None = None) -> list[AgendaItem]:
    """Students in scope with new or worsening flags since the last refresh, or a mapping whose
    review date has come (<= today), ordered by tier (priority, monitor, none), then flag count
    (most first), then year level and name."""
    user.check_active()
    roster = _Roster(user)
    with user.store.read() as session:
        if meeting_id is not None:
            _meeting(session, meeting_id)
        items = _agenda(user, session, roster, meeting_id, today or date.today())
    with user.store.write() as session:
        user.store.audit(session, user.username, "meeting.agenda-viewed", object_type="meeting",
                         object_id=str(meeting_id or ""), detail={"student_keys": [i.student_key for i in items]})
    return items


def record_decision(
    user: UserSession, meeting_id: int, student_key: str, kind: str, *, programme: str | None = None,
    start: date | None = None, text: str = "", sensitive: bool = False,
) -> DecisionView:
    """"map" (programme required; maps from ``start`` or today), "note" (text required; a student
    note), "no_action" (text = the reason, required). One transaction; audited."""
    user.check_active()
    if kind not in DECISION_KINDS:
        raise UsageError(f"Unknown decision '{kind}'. Choose one of: map, note, no_action.")
    roster = _Roster(user)
    key = _require_student(user, roster, student_key)
    body = text.strip()
    if kind == "no_action" and not body:
        raise UsageError("Say why no action is needed.")
    if kind == "note" and not body:
        raise UsageError("A note cannot be empty.")
    if kind == "map" and not programme:
        raise UsageError("Choose the programme to map the student to.")
    if len(body) > MAX_TEXT:
        raise UsageError(f"The text is at most {MAX_TEXT} characters.")
    with user.store.write() as session:
        _meeting(session, meeting_id)
        mapping_id = note_id = prog_id = None
        prog_name = ""
        if kind == "map":
            prog = _programme_row(session, user, str(programme), include_retired=False)
            (m,) = _add_mappings(user, session, prog, [key], start=start or date.today(), review=None, goal_target=None,
                                 responsible=prog.responsible or user.username, status=None, source="meeting")
            mapping_id, prog_id, prog_name = m.id, prog.id, prog.name
            sensitive = sensitive or prog.sensitive
            if body:
                note_id = _insert_note(user, session, key, f"Meeting decision ({prog.name}): {body}", sensitive)
        elif kind == "note":
            note_id = _insert_note(user, session, key, body, sensitive)
        d = InterventionDecision(meeting_id=meeting_id, student_key=key, kind=kind, programme_id=prog_id, text=body,
                                 sensitive=sensitive, decided_by=user.username, decided_at=utcnow(),
                                 mapping_id=mapping_id, note_id=note_id)
        session.add(d)
        session.flush()
        user.store.audit(session, user.username, "meeting.decision", object_type="student", object_id=key,
                         detail={"meeting": meeting_id, "decision": d.id, "kind": kind, "programme": prog_name,
                                 "sensitive": sensitive, **(_text_digest(body) if body else {})})
        return DecisionView(d.id, meeting_id, key, roster.name(key), kind, prog_name, body, sensitive,
                            d.decided_by, d.decided_at, mapping_id, note_id)


def recap(user: UserSession, meeting_id: int) -> MeetingRecap:
    """The decisions of a meeting (students the user may see) for the printable recap."""
    from mapping_tool.services.notes import HIDDEN_TEXT, SENSITIVE_READERS

    user.check_active()
    roster = _Roster(user)
    with user.store.read() as session:
        meeting = _meeting(session, meeting_id)
        view = _meeting_view(meeting, _latest_extract(session))
        progs = {p.id: p for p in session.execute(select(InterventionProgramme)).scalars()}
        decisions = []
        for d in session.execute(select(InterventionDecision).where(InterventionDecision.meeting_id == meeting_id)
                                 .order_by(InterventionDecision.id)).scalars():
            prog = progs.get(d.programme_id) if d.programme_id else None
            if d.student_key not in roster or (prog is not None and not _may_know(user, prog)):
                continue
            readable = not d.sensitive or d.decided_by == user.username or user.role in SENSITIVE_READERS
            decisions.append(DecisionView(d.id, d.meeting_id, d.student_key, roster.name(d.student_key), d.kind,
                                          prog.name if prog else "", d.text if readable else HIDDEN_TEXT, d.sensitive,
                                          d.decided_by, d.decided_at, d.mapping_id, d.note_id))
        undecided = tuple(i for i in _agenda(user, session, roster, meeting_id, date.today()) if not i.decided)
    with user.store.write() as session:
        user.store.audit(session, user.username, "meeting.recap-viewed", object_type="meeting", object_id=str(meeting_id),
                         detail={"student_keys": sorted({d.student_key for d in decisions})})
    return MeetingRecap(view, tuple(decisions), undecided)


# -- de-identified summary ----------------------------------------------------------------------------


def participant_counts(user: UserSession) -> dict[str, dict[str, int]]:
    """{"Programme: NAME": {year_level: current participants}} for the de-identified summary
    (suppressed there like every other count). Sensitive programmes are left out: who takes part
    in them is seen by those inside only."""
    user.check_active()
    with user.store.read() as session:
        conn = session.connection().connection.driver_connection
        rows = conn.execute(
            "SELECT p.name, s.year_level, COUNT(DISTINCT m.student_key) FROM intervention_mapping m "
            "JOIN intervention_programme p ON p.id = m.programme_id JOIN student s ON s.student_key = m.student_key "
            "WHERE m.status IN ('planned', 'active') AND p.sensitive = 0 AND p.retired = 0 "
            "AND s.in_extract = 1 AND s.status IN ('ACTV', 'LVNG', 'INAC') GROUP BY p.name, s.year_level ORDER BY p.name"
        ).fetchall()
        names = [n for (n,) in conn.execute(
            "SELECT name FROM intervention_programme WHERE sensitive = 0 AND retired = 0 ORDER BY name")]
    out: dict[str, dict[str, int]] = {f"Programme: {n}": {} for n in names}
    for name, yl, count in rows:
        out[f"Programme: {name}"][yl or "(none)"] = int(count)
    return out



__all__ = [
    "DECISION_KINDS", "KINDS", "KIND_TITLES", "MEASURES", "MEASURE_TITLES", "STATUSES", "AgendaItem", "CapacityRow",
    "DecisionView", "GridRow", "GridView", "ImportRowReport", "MappingImportRefused", "MappingImportResult",
    "MappingView", "MeetingRecap", "MeetingView", "ProgrammeEvaluation", "ProgrammeVersionView", "ProgrammeView",
    "StudentEvaluation", "StudentInterventions", "add_outcome_note", "add_programme", "agenda", "assign", "capacity",
    "end_mapping", "evaluate", "evaluate_students", "evaluation_weeks", "export_evaluation", "get_programme", "grid",
    "import_mappings", "list_mappings", "list_meetings", "list_programmes", "load_starter_catalogue",
    "participant_counts", "prepare_evaluation", "programme_history", "recap", "record_decision", "remove_programme", "restore_programme",
    "set_evaluation_weeks", "start_meeting", "student_interventions", "update_mapping", "update_programme",
]
