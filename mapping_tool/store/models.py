"""The store's tables as typed SQLAlchemy 2 models. Schema changes go through Alembic
(``migrations/versions``); ``SCHEMA_HEAD`` must name the newest revision (a test checks)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class School(Base):
    """One row: the school this store belongs to and who authorised the tool's use."""

    __tablename__ = "school"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    store_id: Mapped[str] = mapped_column(String(36), nullable=False)
    school_number: Mapped[str] = mapped_column(String(8), nullable=False)
    school_name: Mapped[str] = mapped_column(String(120), nullable=False)
    principal_name: Mapped[str] = mapped_column(String(120), nullable=False)
    authorised_on: Mapped[date] = mapped_column(Date, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class Account(Base):
    """A staff account. What the tool holds about its users: name, role, position, contacts."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    display_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    position: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    scopes: Mapped[list[AccountScope]] = relationship(
        back_populates="account", cascade="all, delete-orphan", order_by="AccountScope.id"
    )


class AccountScope(Base):
    """A home group or year level an account is limited to (home group teacher, coordinator)."""

    __tablename__ = "account_scope"
    __table_args__ = (UniqueConstraint("account_id", "kind", "code", name="uq_account_scope_entry"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # "home_group" | "year_level"
    code: Mapped[str] = mapped_column(String(10), nullable=False)

    account: Mapped[Account] = relationship(back_populates="scopes")


class AuditEntry(Base):
    """Append-only, hash-chained record of who did what. Payloads hold ids, never names."""

    __tablename__ = "audit_entry"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(32), nullable=False)  # UTC ISO 8601
    actor: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(48), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(String(32), nullable=False, default="")
    object_id: Mapped[str] = mapped_column(String(64), nullable=False, default="", index=True)
    detail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Setting(Base):
    """Application settings as JSON values (lockout, idle lock, rule thresholds later)."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text, nullable=False)


# --- Mirrored CASES21 / VASS data (replaced by each import; keyed by the CASES21 student key) ----
# Only what importers/whitelist.py names is stored. Status characteristics are yes/no only.


class Snapshot(Base):
    """One successful import: the dated extract, who ran it, the files and their hashes."""

    __tablename__ = "snapshot"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16), nullable=False)  # "cases21" | "vass"
    extract_date: Mapped[date] = mapped_column(Date, nullable=False)
    imported_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    imported_by: Mapped[str] = mapped_column(String(64), nullable=False)
    school_number: Mapped[str] = mapped_column(String(8), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    files_json: Mapped[str] = mapped_column(Text, nullable=False)  # name, size, sha256, rows, table
    row_counts_json: Mapped[str] = mapped_column(Text, nullable=False)
    students_added: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    students_changed: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    students_gone: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    warning_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ImportFinding(Base):
    """A data-quality warning kept with its snapshot (the seed's data-quality report)."""

    __tablename__ = "import_finding"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshot.id", ondelete="CASCADE"), nullable=False, index=True)
    level: Mapped[str] = mapped_column(String(8), nullable=False)
    code: Mapped[str] = mapped_column(String(48), nullable=False)
    file: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    row: Mapped[int | None] = mapped_column(Integer, nullable=True)
    column: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    message: Mapped[str] = mapped_column(Text, nullable=False)


class Student(Base):
    """The current mirror of one CASES21 student. Kept (in_extract False) when a later extract
    no longer has the student: never silently deleted."""

    __tablename__ = "student"

    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    surname: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    first_name: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    preferred_name: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    gender: Mapped[str] = mapped_column(String(4), nullable=False, default="")
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(4), nullable=False, default="")
    entry_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    exit_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    year_level: Mapped[str] = mapped_column(String(4), nullable=False, default="", index=True)
    home_group: Mapped[str] = mapped_column(String(4), nullable=False, default="", index=True)
    house: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    family_key: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    vsn: Mapped[str] = mapped_column(String(12), nullable=False, default="")
    vcaa_number: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    koorie: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    refugee_background: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    disability: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    integration: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    youth_allowance: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    access_alert: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    risk_alert: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    medical_alert: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    ema: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    parent_a_occupation_group: Mapped[str] = mapped_column(String(1), nullable=False, default="")
    parent_b_occupation_group: Mapped[str] = mapped_column(String(1), nullable=False, default="")
    family_occupation_group: Mapped[str] = mapped_column(String(1), nullable=False, default="U")
    in_extract: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    first_snapshot_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_snapshot_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SnapshotStudent(Base):
    """Where each student stood at each snapshot, so trends and evaluations can look back."""

    __tablename__ = "snapshot_student"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshot.id", ondelete="CASCADE"), primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    status: Mapped[str] = mapped_column(String(4), nullable=False, default="")
    year_level: Mapped[str] = mapped_column(String(4), nullable=False, default="")
    home_group: Mapped[str] = mapped_column(String(4), nullable=False, default="")


class YearLevel(Base):
    __tablename__ = "year_level"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    description: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    numeric: Mapped[int | None] = mapped_column(Integer, nullable=True)
    coordinator_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    coordinator_b_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")


class HomeGroup(Base):
    __tablename__ = "home_group"

    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    description: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    year_level: Mapped[str] = mapped_column(String(4), nullable=False, default="")
    teacher_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    teacher_b_name: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class House(Base):
    __tablename__ = "house"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    description: Mapped[str] = mapped_column(String(30), nullable=False, default="")


class AbsenceType(Base):
    __tablename__ = "absence_type"

    code: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    description: Mapped[str] = mapped_column(String(30), nullable=False, default="")
    abbreviation: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    curriculum: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    pre_approved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Attendance(Base):
    """One row per student per day: AM and PM codes, approval flags and their source.
    Bulk-loaded by the refresh service in key order."""

    __tablename__ = "attendance"
    # WITHOUT ROWID: the table is its own (student, date) index, so a bulk load in key order
    # needs no separate index build and the per-student aggregates read one contiguous range.
    __table_args__ = {"sqlite_with_rowid": False}

    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    date: Mapped[date] = mapped_column(Date, primary_key=True)
    year_level: Mapped[str] = mapped_column(String(4), nullable=False, default="")
    am_code: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    am_approved: Mapped[str] = mapped_column(String(1), nullable=False, default="")
    am_source: Mapped[str] = mapped_column(String(8), nullable=False, default="SXAB")
    pm_code: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    pm_approved: Mapped[str] = mapped_column(String(1), nullable=False, default="")
    pm_source: Mapped[str] = mapped_column(String(8), nullable=False, default="SXAB")


class StrandResult(Base):
    """VELS / Victorian Curriculum strand (dimension) results, the score kept as text."""

    __tablename__ = "strand_result"

    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    year_semester: Mapped[str] = mapped_column(String(6), primary_key=True)
    dimension: Mapped[str] = mapped_column(String(10), primary_key=True)
    domain: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    score: Mapped[str] = mapped_column(String(6), nullable=False, default="")
    year_level: Mapped[str] = mapped_column(String(4), nullable=False, default="")


class DomainResult(Base):
    """A–E ratings per curriculum area (STVDO)."""

    __tablename__ = "domain_result"

    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    year_semester: Mapped[str] = mapped_column(String(6), primary_key=True)
    domain: Mapped[str] = mapped_column(String(10), primary_key=True)
    rating: Mapped[str] = mapped_column(String(6), nullable=False, default="")
    year_level: Mapped[str] = mapped_column(String(4), nullable=False, default="")


class VassResult(Base):
    """Senior secondary results from a VASS file, matched to a student."""

    __tablename__ = "vass_result"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    vcaa_number: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    unit_code: Mapped[str] = mapped_column(String(16), nullable=False, default="")
    result: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    year: Mapped[str] = mapped_column(String(4), nullable=False, default="")


# --- What the tool owns (never touched by a refresh; keyed by the CASES21 student key) ----------


class StudentNote(Base):
    """A staff note about a student. Its author may label it sensitive: then only the author,
    the data custodian, principal class and careers/welfare staff see its text."""

    __tablename__ = "student_note"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    sensitive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


# --- Risk factors (issue 5) -----------------------------------------------------------------------


class RuleVersion(Base):
    """Each change of the flag rules is a new version: who, when, why, and the whole rule set."""

    __tablename__ = "rule_version"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    rules_json: Mapped[str] = mapped_column(Text, nullable=False)


class StudentFlags(Base):
    """A student's measures and yes/no flags for one snapshot under one rule version: the
    inputs (measures) are stored with the flags, as JSON, with the tier and count as columns."""

    __tablename__ = "student_flags"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshot.id", ondelete="CASCADE"), primary_key=True)
    rule_version: Mapped[int] = mapped_column(ForeignKey("rule_version.id"), primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    tier: Mapped[str] = mapped_column(String(10), nullable=False, default="none")
    flag_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    data: Mapped[str] = mapped_column(Text, nullable=False)


class RelationshipsConcern(Base):
    """The yes/no that authorised staff record (relationships are among the characteristics
    interventions address), with who and when."""

    __tablename__ = "relationships_concern"

    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    concern: Mapped[bool] = mapped_column(Boolean, nullable=False)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class TierOverride(Base):
    """A staff override of a student's review tier, with the reason; kept across refreshes and
    shown beside the computed tier."""

    __tablename__ = "tier_override"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    tier: Mapped[str] = mapped_column(String(10), nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    snapshot_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    computed_tier_then: Mapped[str] = mapped_column(String(10), nullable=False, default="")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    cleared_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


# --- h11-import: replaced students (issue 11, item 12) -----------------------------------------
class ReplacedStudent(Base):
    """A CASES21 key that came back belonging to another child (birth date and name both
    changed). The earlier child's record and everything the tool holds about them now live
    under ``retired_key`` (never merged with the new child's)."""

    __tablename__ = "replaced_students"

    retired_key: Mapped[str] = mapped_column(String(12), primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshot.id", ondelete="CASCADE"), nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
