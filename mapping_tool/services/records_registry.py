"""Every table that holds rows about one student, in one place: what disposal deletes, what the
transfer to the official file and a subject-access request export, and which rows make a
student's welfare record "awaiting transfer".

A feature that adds a table keyed by a student adds ONE ``StudentTable`` line to ``REGISTRY``
below (nothing else: disposal, transfer, subject access, backup manifests, the import's
re-keying of a replaced student and the tests that search a decrypted dump for a disposed
student all read this list). A table without a student_key whose rows belong to a row of such a
table (consent evidence, a referral's status history) is listed with ``parent``. Tests fail when
a table with a ``student_key`` column, or one with a foreign key to a listed table, is missing
(tests/services/test_records.py, tests/services/test_records_integration.py).

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
    column: str = "student_key"  # the student's key; for a child table, the link to its parent's id
    # newest value (a column or an SQL expression) newer than the last transfer: transfer again
    changed_column: str | None = None
    order_by: str = "rowid"
    hidden_columns: tuple[str, ...] = ()  # not shown in the export (internal ids)
    # Free-text columns that may name the student by key in rows keyed to no one (an import
    # finding "student ABC0001 has no ..."): such rows go too.
    text_columns: tuple[str, ...] = ()
    # A child table has no student_key: its rows belong to the student of the ``parent`` row
    # its ``column`` points at (``parent.id``). They are counted, exported, re-keyed and
    # disposed of with the parent (children first: the foreign keys hold throughout).
    parent: str | None = None
    # Shown first in the export: (heading, SQL expression over the table's row), e.g. a
    # programme's name instead of its id.
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def source(self) -> str:
        """The FROM clause: the table, joined to its parent for a child table."""
        if self.parent is None:
            return self.table
        return f"{self.table} JOIN {self.parent} ON {self.parent}.id = {self.table}.{self.column}"

    @property
    def key(self) -> str:
        """The student's key, as an SQL expression over ``source``."""
        return f"{self.parent}.student_key" if self.parent else f"{self.table}.{self.column}"

    def delete_sql(self, marks: str) -> str:
        """Deletes the rows of the students whose keys fill ``marks`` (a child's before its parent's)."""
        if self.parent is None:
            return f"DELETE FROM {self.table} WHERE {self.column} IN ({marks})"
        return f"DELETE FROM {self.table} WHERE {self.column} IN (SELECT id FROM {self.parent} WHERE student_key IN ({marks}))"

    def record_sql(self) -> str:
        """One student's rows (one parameter: the key), extra headings first, in order."""
        extra = "".join(f'{expr} AS "{name}", ' for name, expr in self.extra)
        order = ", ".join(f"{self.table}.{c.strip()}" for c in self.order_by.split(","))
        return f"SELECT {extra}{self.table}.* FROM {self.source} WHERE {self.key} = ? ORDER BY {order}"


_CHANGE_VALUE = (
    "CASE intervention_mapping_change.field "
    "WHEN 'review_date' THEN CASE WHEN {v} = '' THEN '' ELSE strftime('%d/%m/%Y', {v}) END "
    "WHEN 'responsible' THEN coalesce((SELECT a.display_name FROM account a WHERE a.username = {v}), {v}) "
    "ELSE {v} END"
)

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
    # issue 10 s 3: a corrected note's earlier versions (shown with their note in the record)
    StudentTable("student_note_version", WELFARE, "Earlier versions of corrected notes", column="note_id",
                 parent="student_note", changed_column="student_note_version.replaced_at", order_by="note_id, version",
                 hidden_columns=("id",), extra=(("note", "student_note_version.note_id"),)),
    StudentTable("relationships_concern", WELFARE, "Relationships concern", changed_column="recorded_at"),
    StudentTable("tier_override", WELFARE, "Review tier overrides", changed_column="created_at",
                 order_by="created_at", hidden_columns=("id",)),
    # issue 8: interventions (an outcome note is a student_note)
    StudentTable("intervention_mapping", WELFARE, "Interventions",
                 changed_column="coalesce(intervention_mapping.updated_at, intervention_mapping.created_at)",
                 order_by="start_date, id", hidden_columns=("programme_id",),
                 extra=(("programme", "(SELECT name FROM intervention_programme p WHERE p.id = intervention_mapping.programme_id)"),)),
    # issue 10 s 3: a changed goal, review date or responsible staff member keeps its earlier value
    StudentTable("intervention_mapping_change", WELFARE, "Earlier goals, review dates and responsible staff",
                 column="mapping_id", parent="intervention_mapping",
                 changed_column="intervention_mapping_change.changed_at", order_by="mapping_id, id",
                 hidden_columns=("id", "field", "old_value", "new_value"),
                 extra=(("programme", "(SELECT name FROM intervention_programme p WHERE p.id = intervention_mapping.programme_id)"),
                        ("changed", "CASE intervention_mapping_change.field WHEN 'goal_target' THEN 'goal target' "
                                    "WHEN 'review_date' THEN 'review date' WHEN 'responsible' THEN 'responsible staff member' "
                                    "ELSE intervention_mapping_change.field END"),
                        # review dates as dd/mm/yyyy, staff by name, like the rest of the record
                        ("earlier_value", _CHANGE_VALUE.format(v="intervention_mapping_change.old_value")),
                        ("changed_to", _CHANGE_VALUE.format(v="intervention_mapping_change.new_value")))),
    StudentTable("intervention_decision", WELFARE, "Student review meeting decisions", changed_column="decided_at",
                 order_by="decided_at, id", hidden_columns=("programme_id",),
                 extra=(("meeting", "(SELECT m.title FROM intervention_meeting m WHERE m.id = intervention_decision.meeting_id)"),
                        ("programme", "(SELECT name FROM intervention_programme p WHERE p.id = intervention_decision.programme_id)"))),
    # issue 9: consents (with the scanned form), referrals (with their status history), file notes
    StudentTable("consent_record", WELFARE, "Consents to share information",
                 changed_column="coalesce(consent_record.withdrawn_at, consent_record.recorded_at)", order_by="id",
                 hidden_columns=("agency_id",),
                 extra=(("agency", "(SELECT a.name FROM agency a WHERE a.id = consent_record.agency_id)"),)),
    StudentTable("consent_evidence", WELFARE, "Consent evidence (signed forms kept in the tool)", column="consent_id",
                 parent="consent_record", changed_column="consent_evidence.added_at", order_by="id",
                 hidden_columns=("content",), extra=(("consent", "consent_evidence.consent_id"),)),
    StudentTable("referral", WELFARE, "Referrals to agencies", changed_column="referral.status_at", order_by="id",
                 hidden_columns=("agency_id",),
                 extra=(("agency", "(SELECT a.name FROM agency a WHERE a.id = referral.agency_id)"),)),
    StudentTable("referral_status_change", WELFARE, "Referral status history", column="referral_id", parent="referral",
                 changed_column="referral_status_change.changed_at", order_by="id",
                 extra=(("referral", "referral_status_change.referral_id"),)),
    StudentTable("file_note", WELFARE, "File notes of disclosures", changed_column="file_note.created_at", order_by="id",
                 hidden_columns=("agency_id",)),
    # -- the tool's administration about the student ----------------------------------------------
    StudentTable("legal_hold", ADMIN, "Legal holds"),
    StudentTable("record_transfer", ADMIN, "Transfers to the official file"),
    StudentTable("disposal_run_item", ADMIN, "Prepared disposal runs"),
    StudentTable("breach_student", ADMIN, "Breach register links"),
    StudentTable("backup_manifest_student", ADMIN, "Backup manifests"),
    StudentTable("audit_pseudonym", ADMIN, "Audit log pseudonym"),
    # issue 11 item 12: a key that came to name another child; the earlier child is kept under
    # ``retired_key`` (in every table above), so this row goes when that child is disposed of.
    StudentTable("replaced_students", ADMIN, "Key replaced by another child's", column="retired_key"),
)

# Tables with a student_key column that are deliberately not per-student data (none yet).
NOT_STUDENT_DATA: frozenset[str] = frozenset()


def tables(kind: str | None = None) -> tuple[StudentTable, ...]:
    return tuple(t for t in REGISTRY if kind is None or t.kind == kind)


def deletion_order() -> tuple[StudentTable, ...]:
    """The registry with every table after the tables whose foreign keys point at it (a child
    before its parent, a referral before its consent, a file note before its referral)."""
    from mapping_tool.store import schema

    rank = {t.name: i for i, t in enumerate(schema.metadata.sorted_tables)}  # parents first
    return tuple(sorted(REGISTRY, key=lambda t: -rank[t.table]))
