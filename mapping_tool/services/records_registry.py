"""Every table that holds rows about one student, in one place: what disposal deletes, what the
transfer to the official file and a subject-access request export, and which rows make a
student's welfare record "awaiting transfer".

A feature that adds a table keyed by a student adds ONE ``StudentTable`` line to ``REGISTRY``
below (nothing else: disposal, transfer, subject access and the tests that search a decrypted
dump for a disposed student all read this list). A test fails when a table with a
``student_key`` column is missing from it (tests/services/test_records.py).

Kinds:
- ``mirrored``: the tool's copy of CASES21/VASS data; disposed of one year (a setting) after the
  student left. CASES21 keeps the original.
- ``welfare``: records the tool itself creates; transferred to the student's official file
  before disposal (a student whose welfare records are not transferred is not disposed of).
- ``admin``: the tool's own administration about a student (holds, transfers, run items,
  manifests, breach links, the audit pseudonym); deleted with the student, never exported.
"""

from __future__ import annotations

from dataclasses import dataclass

MIRRORED = "mirrored"
WELFARE = "welfare"
ADMIN = "admin"


@dataclass(frozen=True)
class StudentTable:
    table: str
    kind: str
    title: str  # the section heading in the exported record
    column: str = "student_key"
    changed_column: str | None = None  # newest value newer than the last transfer: transfer again
    order_by: str = "rowid"
    hidden_columns: tuple[str, ...] = ()  # not shown in the export (internal ids)
    # Free-text columns that may name the student by key in rows keyed to no one (an import
    # finding "student ABC0001 has no ..."): such rows go too.
    text_columns: tuple[str, ...] = ()


REGISTRY: tuple[StudentTable, ...] = (
    # -- mirrored CASES21 / VASS data -------------------------------------------------------------
    StudentTable("student", MIRRORED, "Identity and placement (as mirrored from CASES21)", order_by="student_key",
                 hidden_columns=("first_snapshot_id", "last_snapshot_id")),
    StudentTable("snapshot_student", MIRRORED, "Placement at each extract", order_by="snapshot_id"),
    StudentTable("attendance", MIRRORED, "Attendance (each day)", order_by="date"),
    StudentTable("strand_result", MIRRORED, "Curriculum strand results", order_by="year_semester, dimension"),
    StudentTable("domain_result", MIRRORED, "Curriculum area ratings", order_by="year_semester, domain"),
    StudentTable("vass_result", MIRRORED, "Senior secondary results (VASS)", order_by="year, unit_code",
                 hidden_columns=("id",)),
    StudentTable("student_flags", MIRRORED, "Measures and flags at each extract", order_by="snapshot_id, rule_version"),
    StudentTable("import_finding", MIRRORED, "Data-quality findings", order_by="id", hidden_columns=("id",),
                 text_columns=("message",)),
    # -- tool-owned welfare records (transferred to the official file first) ----------------------
    StudentTable("student_note", WELFARE, "Notes", changed_column="created_at", order_by="created_at",
                 hidden_columns=("id",)),
    StudentTable("relationships_concern", WELFARE, "Relationships concern", changed_column="recorded_at"),
    StudentTable("tier_override", WELFARE, "Review tier overrides", changed_column="created_at",
                 order_by="created_at", hidden_columns=("id",)),
    # issue 8 (interventions) and issue 9 (referrals) add their tables here, e.g.
    # StudentTable("intervention_mapping", WELFARE, "Interventions", changed_column="updated_at"),
    # -- the tool's administration about the student ----------------------------------------------
    StudentTable("legal_hold", ADMIN, "Legal holds"),
    StudentTable("record_transfer", ADMIN, "Transfers to the official file"),
    StudentTable("disposal_run_item", ADMIN, "Prepared disposal runs"),
    StudentTable("breach_student", ADMIN, "Breach register links"),
    StudentTable("backup_manifest_student", ADMIN, "Backup manifests"),
    StudentTable("audit_pseudonym", ADMIN, "Audit log pseudonym"),
)

# Tables with a student_key column that are deliberately not per-student data (none yet).
NOT_STUDENT_DATA: frozenset[str] = frozenset()


def tables(kind: str | None = None) -> tuple[StudentTable, ...]:
    return tuple(t for t in REGISTRY if kind is None or t.kind == kind)
