"""The store's tables for records management (issue 10): retention settings, legal holds,
transfers to the student's official file, disposal runs and their register, audit pseudonyms,
the breach register, privacy acknowledgements and backup manifests; and the earlier versions
of corrected student notes and the earlier values of changed intervention goals (issue 10 s 3).

Tables keyed by a student (``student_key``) are listed in ``services/records_registry.py`` so
that disposal removes them; the disposal register and the breach register hold counts only.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mapping_tool.store.models import Base


class RetentionSetting(Base):
    """A custodian's value for a retention class (the classes and their defaults are in code)."""

    __tablename__ = "retention_setting"

    class_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class LegalHold(Base):
    """A hold on one student (``student_key``) or on all students (NULL). Always wins."""

    __tablename__ = "legal_hold"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_key: Mapped[str | None] = mapped_column(String(10), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    placed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    placed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    released_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    released_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    release_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")


class RecordTransfer(Base):
    """The student's record produced for the official file: who, when, the files' checksums."""

    __tablename__ = "record_transfer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    transferred_by: Mapped[str] = mapped_column(String(64), nullable=False)
    transferred_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    pdf_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    xlsx_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")


class DisposalRun(Base):
    """prepared -> approved (another principal-class or custodian account) -> done."""

    __tablename__ = "disposal_run"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    prepared_by: Mapped[str] = mapped_column(String(64), nullable=False)
    prepared_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    approved_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    run_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    run_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    counts_json: Mapped[str] = mapped_column(Text, nullable=False, default="{}")


class DisposalRunItem(Base):
    """A student in a prepared run (deleted when the run executes or the student is disposed of)."""

    __tablename__ = "disposal_run_item"

    run_id: Mapped[int] = mapped_column(ForeignKey("disposal_run.id", ondelete="CASCADE"), primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    trigger_date: Mapped[date] = mapped_column(Date, nullable=False)


class DisposalRegisterEntry(Base):
    """What was destroyed and when: run, class, counts, who prepared and approved. No student data."""

    __tablename__ = "disposal_register"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(Integer, nullable=False)
    class_code: Mapped[str] = mapped_column(String(32), nullable=False)
    prepared_by: Mapped[str] = mapped_column(String(64), nullable=False)
    approved_by: Mapped[str] = mapped_column(String(64), nullable=False)
    run_by: Mapped[str] = mapped_column(String(64), nullable=False)
    disposed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    students: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    records: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    backups_expire_by: Mapped[date | None] = mapped_column(Date, nullable=True)


class AuditPseudonym(Base):
    """The only link from a student to the audit log's entries; deleted at disposal."""

    __tablename__ = "audit_pseudonym"

    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(20), nullable=False, unique=True)


class AuditResealed(Base):
    """The hash each audit entry had before entries written by release 0.1.0 were rewritten to
    name students by pseudonym (once, at the upgrade): a witness or backup anchor taken before
    that still matches. Hashes only (HMACs): nothing of any student."""

    __tablename__ = "audit_resealed"

    entry_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    old_hash: Mapped[str] = mapped_column(String(64), nullable=False)


class Breach(Base):
    """The breach register (which students: ``breach_student``, removed at their disposal)."""

    __tablename__ = "breach"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    found_on: Mapped[date] = mapped_column(Date, nullable=False)
    what: Mapped[str] = mapped_column(Text, nullable=False)
    notified: Mapped[str] = mapped_column(Text, nullable=False, default="")
    notified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    steps: Mapped[str] = mapped_column(Text, nullable=False, default="")
    students_affected: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    follows_id: Mapped[int | None] = mapped_column(ForeignKey("breach.id"), nullable=True)  # a follow-up's first entry


class BreachStudent(Base):
    __tablename__ = "breach_student"

    breach_id: Mapped[int] = mapped_column(ForeignKey("breach.id", ondelete="CASCADE"), primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)


class PrivacyAcknowledgement(Base):
    """A user acknowledged this version (SHA-256 of the text) of the privacy statement."""

    __tablename__ = "privacy_acknowledgement"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    statement_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class BackupManifest(Base):
    """One backup the tool wrote: where, when, checked, and (``backup_manifest_student``) whose
    records it holds, for judging a lost backup."""

    __tablename__ = "backup_manifest"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    folder: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False, default="auto")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    checked: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    students: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class BackupManifestStudent(Base):
    __tablename__ = "backup_manifest_student"

    backup_id: Mapped[int] = mapped_column(ForeignKey("backup_manifest.id", ondelete="CASCADE"), primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), primary_key=True)


class AuditLogStart(Base):
    """Where the audit log starts after entries older than its retention period were disposed
    of: the first kept entry and the hash it follows, so ``audit verify`` still checks the chain."""

    __tablename__ = "audit_log_start"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    first_id: Mapped[int] = mapped_column(Integer, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    run_id: Mapped[int] = mapped_column(Integer, nullable=False)
    removed: Mapped[int] = mapped_column(Integer, nullable=False)
    removed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class StudentNoteVersion(Base):
    """An earlier version of a corrected student note (issue 10 s 3: tool-owned data is corrected
    as a new version that keeps the old one visible). ``student_note`` holds the current text;
    each correction moves the text it replaces here, with who wrote that version and when, and
    who replaced it, when and why. Version 1 is the note as first written. A version is read by
    those who may read its note (a sensitive note's versions stay sensitive) and goes with the
    note at disposal (a child of ``student_note`` in services/records_registry.py)."""

    __tablename__ = "student_note_version"
    __table_args__ = (UniqueConstraint("note_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    note_id: Mapped[int] = mapped_column(ForeignKey("student_note.id", ondelete="CASCADE"), nullable=False, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    written_by: Mapped[str] = mapped_column(String(64), nullable=False)
    written_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    replaced_by: Mapped[str] = mapped_column(String(64), nullable=False)
    replaced_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)


class InterventionMappingChange(Base):
    """An earlier value of a student's participation in a programme (goal target, review date,
    responsible staff member): ``intervention_mapping`` holds the current value; each change
    keeps the value it replaced, who changed it, when and (when given) why. A child of
    ``intervention_mapping`` in services/records_registry.py (goes with it at disposal)."""

    __tablename__ = "intervention_mapping_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mapping_id: Mapped[int] = mapped_column(
        ForeignKey("intervention_mapping.id", ondelete="CASCADE"), nullable=False, index=True
    )
    field: Mapped[str] = mapped_column(String(24), nullable=False)  # goal_target | review_date | responsible
    old_value: Mapped[str] = mapped_column(Text, nullable=False, default="")
    new_value: Mapped[str] = mapped_column(Text, nullable=False, default="")
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
