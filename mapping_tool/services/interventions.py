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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from mapping_tool.errors import KnownError
from mapping_tool.services.context import UserSession

KINDS = (
    "attendance", "engagement", "literacy", "numeracy", "wellbeing", "careers/MIPs", "mentoring",
    "external agency", "other",
)
MEASURES = ("attendance_rate", "unapproved_rate", "suspension_days", "english", "maths", "flag_count")
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


# -- catalogue --------------------------------------------------------------------------------------


def list_programmes(user: UserSession, *, include_retired: bool = False) -> list[ProgrammeView]:
    """The programmes the user may know of (sensitive ones only to those inside them)."""
    raise NotImplementedError


def get_programme(user: UserSession, name: str) -> ProgrammeView:
    """One programme by name (case-insensitive); unknown or hidden: UsageError."""
    raise NotImplementedError


def add_programme(
    user: UserSession, name: str, *, kind: str, measure: str, provider: str = "", capacity: int | None = None,
    responsible: str = "", description: str = "", sensitive: bool = False,
    start_date: date | None = None, end_date: date | None = None,
) -> ProgrammeView:
    """Custodian, principal class, welfare. Name unique (case-insensitive). Version 1 recorded."""
    raise NotImplementedError


def update_programme(user: UserSession, name: str, **changes: object) -> ProgrammeView:
    """Change fields (name, kind, measure, provider, capacity, responsible, description,
    sensitive, start_date, end_date). A new version records who, when and what."""
    raise NotImplementedError


def remove_programme(user: UserSession, name: str) -> str:
    """Delete a programme nobody was ever mapped to; one with participants is retired instead.
    Returns "deleted" or "retired"."""
    raise NotImplementedError


def restore_programme(user: UserSession, name: str) -> ProgrammeView:
    """Bring a retired programme back."""
    raise NotImplementedError


def programme_history(user: UserSession, name: str) -> list[ProgrammeVersionView]:
    raise NotImplementedError


def load_starter_catalogue(user: UserSession) -> int:
    """Add the starter programmes of resources/interventions_starter.json that the school does not
    have yet (by name); returns how many were added."""
    raise NotImplementedError


# -- mappings ---------------------------------------------------------------------------------------


def list_mappings(
    user: UserSession, *, programme: str | None = None, student_key: str | None = None, current_only: bool = False,
) -> list[MappingView]:
    """Mappings of students the user may see, in programmes the user may know of."""
    raise NotImplementedError


def assign(
    user: UserSession, programme: str, student_keys: Sequence[str], *, start: date, review: date | None = None,
    goal_target: float | None = None, responsible: str | None = None, status: str | None = None,
) -> list[MappingView]:
    """Map students to a programme (all or nothing). Status "active" when start <= today, else
    "planned" unless given. Refused: unknown student/programme, a student outside scope,
    a duplicate current mapping, a review before the start."""
    raise NotImplementedError


def end_mapping(
    user: UserSession, programme: str, student_key: str, *, end: date, status: str, reason: str = "",
) -> MappingView:
    """End the student's current mapping: status "completed" or "withdrawn" (a reason is
    required for withdrawn). Refused: end before start, no current mapping."""
    raise NotImplementedError


def update_mapping(
    user: UserSession, mapping_id: int, *, review: date | None = None, goal_target: float | None = None,
    responsible: str | None = None,
) -> MappingView:
    """Change a mapping's review date, goal target or responsible staff member (audited)."""
    raise NotImplementedError


def add_outcome_note(user: UserSession, mapping_id: int, text: str, *, sensitive: bool = False) -> int:
    """An outcome note on the student's file (the student-note mechanism, with its sensitive
    label), prefixed with the programme's name. Returns the note id."""
    raise NotImplementedError


def import_mappings(user: UserSession, path: Path, *, dry_run: bool = False) -> MappingImportResult:
    """A spreadsheet of existing mappings (csv or xlsx), long form (student key, programme,
    start, end, status) or the old workbook's grid form (one column per programme, a mark for
    participants). All or nothing: one bad row refuses the file with a report by row
    (``MappingImportRefused.report``)."""
    raise NotImplementedError


def grid(user: UserSession, *, year_level: str | None = None, programmes: Sequence[str] | None = None,
         current_only: bool = True) -> GridView:
    """Students in scope x programmes the user may know of (audited as a list view)."""
    raise NotImplementedError


# -- evaluation -------------------------------------------------------------------------------------


def evaluation_weeks(user: UserSession) -> int:
    """The window W in weeks (a setting, default 8)."""
    raise NotImplementedError


def set_evaluation_weeks(user: UserSession, weeks: int) -> None:
    """Custodian or principal class; 1 to 52."""
    raise NotImplementedError


def evaluate(user: UserSession, *, weeks: int | None = None, programme: str | None = None) -> list[ProgrammeEvaluation]:
    """One evaluation per programme the user may know of (the definition of issue 8 section 3)."""
    raise NotImplementedError


def evaluate_students(
    user: UserSession, *, weeks: int | None = None, programme: str | None = None, student_key: str | None = None,
) -> list[StudentEvaluation]:
    """Per mapping, for students the user may see."""
    raise NotImplementedError


def student_interventions(user: UserSession, student_key: str, *, audit: bool = True) -> StudentInterventions:
    """The student panel's section (scope-checked; the view is audited)."""
    raise NotImplementedError


def export_evaluation(
    user: UserSession, out: Path, *, fmt: str | None = None, students_out: Path | None = None,
    weeks: int | None = None, force: bool = False,
) -> tuple[int, int]:
    """Write the programme rows (and, if asked, the per-mapping rows); returns the row counts."""
    raise NotImplementedError


# -- capacity ---------------------------------------------------------------------------------------


def capacity(user: UserSession) -> list[CapacityRow]:
    """Seats against flagged demand in the user's scope, per programme the user may know of."""
    raise NotImplementedError


# -- meeting mode -----------------------------------------------------------------------------------


def start_meeting(user: UserSession, title: str = "") -> MeetingView:
    raise NotImplementedError


def list_meetings(user: UserSession, *, limit: int = 20) -> list[MeetingView]:
    raise NotImplementedError


def agenda(user: UserSession, meeting_id: int | None = None, *, today: date | None = None) -> list[AgendaItem]:
    """Students in scope with new or worsening flags since the last refresh, or a mapping whose
    review date has come (<= today), ordered by tier (priority, monitor, none), then flag count
    (most first), then year level and name."""
    raise NotImplementedError


def record_decision(
    user: UserSession, meeting_id: int, student_key: str, kind: str, *, programme: str | None = None,
    start: date | None = None, text: str = "", sensitive: bool = False,
) -> DecisionView:
    """"map" (programme required; maps from ``start`` or today), "note" (text required; a student
    note), "no_action" (text = the reason, required). One transaction; audited."""
    raise NotImplementedError


def recap(user: UserSession, meeting_id: int) -> MeetingRecap:
    """The decisions of a meeting (students the user may see) for the printable recap."""
    raise NotImplementedError


# -- de-identified summary ----------------------------------------------------------------------------


def participant_counts(user: UserSession) -> dict[str, dict[str, int]]:
    """{"Programme: NAME": {year_level: current participants}} for the de-identified summary
    (suppressed there like every other count; sensitive programmes included only as counts)."""
    raise NotImplementedError
