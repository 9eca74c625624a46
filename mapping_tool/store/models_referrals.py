"""The store's tables for referrals (tool-owned data: a refresh never touches them).

Agencies with their data sharing agreements, consent records (with their evidence, a scanned form
kept inside the encrypted store), referrals with their status history, and the file notes of
disclosures. File notes are never updated or deleted by the tool: a correction is a new note that
points at the note it corrects, and each note's digest is kept in the audit chain."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from mapping_tool.store.models import Base


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    name_key: Mapped[str] = mapped_column(String(120), nullable=False, unique=True)  # casefolded name
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    phone: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    fax: Mapped[str] = mapped_column(String(40), nullable=False, default="")
    address: Mapped[str] = mapped_column(Text, nullable=False, default="")
    postcode: Mapped[str] = mapped_column(String(4), nullable=False, default="")
    contact_person: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    ise: Mapped[str] = mapped_column(String(8), nullable=False, default="unknown")  # CISS/FVISS entity
    agreement_ref: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    agreement_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    agreement_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    agreement_categories: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str] = mapped_column(String(64), nullable=False)


class ConsentRecord(Base):
    __tablename__ = "consent_record"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    categories: Mapped[str] = mapped_column(Text, nullable=False)
    given_by: Mapped[str] = mapped_column(String(16), nullable=False)  # student | parent | guardian
    giver_name: Mapped[str] = mapped_column(String(120), nullable=False)
    giver_relationship: Mapped[str] = mapped_column(String(60), nullable=False, default="")
    capacity: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    capacity_assessed_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    capacity_assessed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    informed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    freely_given: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    method: Mapped[str] = mapped_column(String(16), nullable=False, default="written")
    witness: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    date_given: Mapped[date] = mapped_column(Date, nullable=False)
    expires: Mapped[date] = mapped_column(Date, nullable=False)
    evidence_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    withdrawn_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    withdrawn_how: Mapped[str] = mapped_column(Text, nullable=False, default="")
    withdrawn_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class ConsentEvidence(Base):
    """The signed consent form, scanned: kept inside the encrypted store, never as a loose file."""

    __tablename__ = "consent_evidence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_id: Mapped[int] = mapped_column(ForeignKey("consent_record.id"), nullable=False, index=True)
    file_name: Mapped[str] = mapped_column(String(255), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    content: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    added_by: Mapped[str] = mapped_column(String(64), nullable=False)
    added_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class Referral(Base):
    __tablename__ = "referral"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    categories: Mapped[str] = mapped_column(Text, nullable=False)
    requested_by_agency: Mapped[str] = mapped_column(Text, nullable=False, default="")
    other_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    purpose: Mapped[str] = mapped_column(Text, nullable=False)
    basis: Mapped[str] = mapped_column(String(20), nullable=False)
    consent_id: Mapped[int | None] = mapped_column(ForeignKey("consent_record.id"), nullable=True)
    grounds: Mapped[str] = mapped_column(Text, nullable=False, default="")
    views_sought: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    views_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    risk_assessment: Mapped[str] = mapped_column(Text, nullable=False, default="")  # FVISS: assessment or safety plan
    sensitive: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    stale_reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    status: Mapped[str] = mapped_column(String(24), nullable=False, index=True)
    requested_by: Mapped[str] = mapped_column(String(64), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    authorised_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    authorised_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class ReferralStatusChange(Base):
    __tablename__ = "referral_status_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referral.id"), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class FileNote(Base):
    """One disclosure (or a correction of an earlier note). Written once, never changed."""

    __tablename__ = "file_note"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    student_key: Mapped[str] = mapped_column(String(10), nullable=False, index=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"), nullable=True, index=True)
    agency_name: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referral.id"), nullable=True, index=True)
    disclosed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    authorised_by: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    basis: Mapped[str] = mapped_column(String(20), nullable=False, default="")
    consent_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    grounds: Mapped[str] = mapped_column(Text, nullable=False, default="")
    categories: Mapped[str] = mapped_column(Text, nullable=False, default="")
    values_json: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    views_sought: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    views_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    risk_assessment: Mapped[str] = mapped_column(Text, nullable=False, default="")
    extract_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    document_kind: Mapped[str] = mapped_column(String(8), nullable=False, default="")
    document_sha256: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    corrects: Mapped[int | None] = mapped_column(ForeignKey("file_note.id"), nullable=True)
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    note_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    # The agency's details as the form gave them ([field, value] pairs), so a copy of a sent form
    # shows where it went even after the agency's details change; "" in notes written before 0011.
    agency_details: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")
    # The school's name and the staff's names and positions as the form gave them ([field, value]
    # pairs), so a copy of a sent form shows who it named even after an account changes; "" before 0012.
    form_details: Mapped[str] = mapped_column(Text, nullable=False, default="", server_default="")


class AgencyChange(Base):
    """One field of an agency changed by the data custodian: the earlier value is kept, with who,
    when and why. Rows are only ever added."""

    __tablename__ = "agency_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"), nullable=False, index=True)
    field: Mapped[str] = mapped_column(String(32), nullable=False)
    old_value: Mapped[str] = mapped_column(Text, nullable=False)
    new_value: Mapped[str] = mapped_column(Text, nullable=False)
    changed_by: Mapped[str] = mapped_column(String(64), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
