"""What the tool keeps from a CASES21 eduHub extract: the whitelist, as data, in one place.

For each eduHub table: the source columns read (nothing else is read from the file), the
canonical column each one becomes, how its text is interpreted, and whether it is required.
A target starting with ``_`` is read only to derive something and never reaches an output
frame. ``DERIVED`` lists the output columns that are computed rather than copied, and
``OUTPUT_COLUMNS`` is the contract with the store: the exact columns of each frame.

Everything not named here (memos, comments, medical and disability-type detail, child
protection, addresses, phones, emails, parents' names, free-text occupations and employers,
birth country, visa...) is never read: the CSV reader passes only these columns to pandas
(``usecols``), and the workbook reader drops other cells as each row is read.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Literal

__all__ = [
    "ACTIVE_STATUSES",
    "DERIVED",
    "Field",
    "FORMER_STATUSES",
    "FileNeed",
    "KNOWN_STATUSES",
    "Kind",
    "OCCUPATION_GROUPS",
    "OUTPUT_COLUMNS",
    "SHORT_RANGE",
    "STRAND_DIMENSIONS",
    "TABLES",
    "TABLE_ORDER",
    "TableSpec",
    "column_limit",
    "source_columns",
]

#: How a source column's text is interpreted.
#: key        identifier, kept as text, whitespace trimmed (STKEY, KGCKEY, FAMILY...)
#: text       free text that is allowed (names, descriptions), trimmed
#: code       short code, trimmed and upper-cased (STATUS, GENDER, occupation group...)
#: year_level year-level code, kept as text ("07"); zero-padded only for workbook input
#: flag       Y/N -> bool; blank or anything else is False
#: koorie     KOORIE code -> bool: True for K, T and B
#: active     KGC.ACTIVE -> bool: False only for N (blank counts as active)
#: approval   Y/N flag kept as "Y", "N" or ""
#: vcaa       VCAA student number, trimmed and upper-cased
#: date       date (eduHub d/MM/yyyy h:mm:ss tt, dd/mm/yyyy, d/m/yyyy, ISO)
#: int        whole number, None when blank
#: absence    absence-type code: whole number, blank = 0
#: score      result text kept as written ("4.5", "NA", "PT"); numbers in one form ("6" -> "6.0")
Kind = Literal[
    "key",
    "text",
    "code",
    "year_level",
    "flag",
    "koorie",
    "active",
    "approval",
    "vcaa",
    "date",
    "int",
    "absence",
    "score",
]

#: required: the import is blocked without it; expected: a warning when absent;
#: optional: read when present.
FileNeed = Literal["required", "expected", "optional"]


@dataclass(frozen=True)
class Field:
    source: str
    target: str
    kind: Kind
    required: bool = False


@dataclass(frozen=True)
class TableSpec:
    code: str
    #: what the table holds, for messages ("students", "absence types")
    title: str
    fields: tuple[Field, ...]
    #: source columns that identify a row: delta files replace rows by this key
    key: tuple[str, ...]
    need: FileNeed
    #: level of a finding for a repeated key
    duplicate_level: Literal["error", "warning"] = "error"
    #: read as categorical columns (large, repetitive tables)
    large: bool = False

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(f.source for f in self.fields)

    @property
    def required_sources(self) -> tuple[str, ...]:
        return tuple(f.source for f in self.fields if f.required)

    def field(self, source: str) -> Field:
        for f in self.fields:
            if f.source == source:
                return f
        raise KeyError(source)

    def target(self, source: str) -> str:
        return self.field(source).target


def _f(source: str, target: str, kind: Kind, required: bool = False) -> Field:
    return Field(source, target, kind, required)


TABLES: dict[str, TableSpec] = {
    "ST": TableSpec(
        "ST",
        "students",
        (
            _f("STKEY", "student_key", "key", True),
            _f("SURNAME", "surname", "text", True),
            _f("FIRST_NAME", "first_name", "text", True),
            _f("PREF_NAME", "preferred_name", "text"),
            _f("GENDER", "gender", "code"),
            _f("BIRTHDATE", "birth_date", "date", True),
            _f("STATUS", "status", "code", True),
            _f("ENTRY", "entry_date", "date"),
            _f("EXIT_DATE", "exit_date", "date"),
            _f("SCHOOL_YEAR", "year_level", "year_level", True),
            _f("HOME_GROUP", "home_group", "key", True),
            _f("HOUSE", "house", "key"),
            _f("FAMILY", "family_key", "key"),
            _f("VSN", "vsn", "key"),
            _f("VCE_ID", "vcaa_number", "vcaa"),
            _f("KOORIE", "koorie", "koorie"),
            _f("REFUGEE_BACKGROUND", "refugee_background", "flag"),
            _f("DISABILITY", "disability", "flag"),
            _f("INTEGRATION", "integration", "flag"),
            _f("YOUTH_ALLOW", "youth_allowance", "flag"),
            _f("ACCESS_ALERT", "access_alert", "flag"),
            _f("RISK_ALERT", "risk_alert", "flag"),
            _f("MEDICAL_ALERT", "medical_alert", "flag"),
            _f("ED_ALLOW", "ema", "flag"),
            # read only to derive family_occupation_group ("Self" = independent student)
            _f("RELATION_A01", "_relation_a01", "text"),
        ),
        key=("STKEY",),
        need="required",
    ),
    "DF": TableSpec(
        "DF",
        "families",
        (
            _f("DFKEY", "_family_key", "key", True),
            _f("OCCUP_STATUS_A", "_occupation_a", "code", True),
            _f("OCCUP_STATUS_B", "_occupation_b", "code", True),
        ),
        key=("DFKEY",),
        need="required",
    ),
    "SF": TableSpec(
        "SF",
        "staff",
        (
            _f("SFKEY", "_staff_key", "key", True),
            _f("FIRST_NAME", "_first_name", "text"),
            _f("SURNAME", "_surname", "text"),
        ),
        key=("SFKEY",),
        need="optional",
        duplicate_level="warning",
    ),
    "KCY": TableSpec(
        "KCY",
        "year levels",
        (
            _f("KCYKEY", "year_level", "year_level", True),
            _f("DESCRIPTION", "description", "text"),
            _f("NUM_EQVT", "numeric", "int"),
            _f("TEACHER", "_teacher", "key"),
            _f("TEACHER_B", "_teacher_b", "key"),
        ),
        key=("KCYKEY",),
        need="required",
    ),
    "KGC": TableSpec(
        "KGC",
        "home groups",
        (
            _f("KGCKEY", "home_group", "key", True),
            _f("DESCRIPTION", "description", "text"),
            _f("MIN_AC_YR", "year_level", "year_level"),
            _f("TEACHER", "_teacher", "key"),
            _f("TEACHER_B", "_teacher_b", "key"),
            _f("ACTIVE", "active", "active"),
        ),
        key=("KGCKEY",),
        need="required",
    ),
    "KGH": TableSpec(
        "KGH",
        "houses",
        (
            _f("KGHKEY", "house", "key", True),
            _f("DESCRIPTION", "description", "text"),
        ),
        key=("KGHKEY",),
        need="optional",
        duplicate_level="warning",
    ),
    "KCT": TableSpec(
        "KCT",
        "absence types",
        (
            _f("KCTKEY", "code", "absence", True),
            _f("DESCRIPTION", "description", "text", True),
            _f("ABBREV_DESC", "abbreviation", "text"),
            _f("CURRICULUM", "curriculum", "flag", True),
            _f("PRE_APPROVED", "pre_approved", "flag"),
        ),
        key=("KCTKEY",),
        need="required",
    ),
    "KCC": TableSpec(
        "KCC",
        "calendar days",
        (
            _f("KCCKEY", "date", "date", True),
            _f("DAY_TYPE", "day_type", "code"),
            _f("TERM", "term", "key"),
        ),
        key=("KCCKEY",),
        need="optional",
        duplicate_level="warning",
    ),
    "SXAB": TableSpec(
        "SXAB",
        "half-day attendance",
        (
            _f("STKEY", "student_key", "key", True),
            _f("ST_YEAR_LEVEL", "year_level", "year_level"),
            _f("ABSENCE_DATE", "date", "date", True),
            _f("AM_ACT_TYPE", "am_code", "absence", True),
            _f("AM_APPROVED", "am_approved", "approval"),
            _f("PM_ACT_TYPE", "pm_code", "absence", True),
            _f("PM_APPROVED", "pm_approved", "approval"),
        ),
        key=("STKEY", "ABSENCE_DATE"),
        need="required",
        large=True,
    ),
    "SXABCONV": TableSpec(
        "SXABCONV",
        "converted half-day attendance",
        (
            _f("STKEY", "student_key", "key", True),
            _f("ST_YEAR_LEVEL", "year_level", "year_level"),
            _f("ABSENCE_DATE", "date", "date", True),
            _f("AM_TYPE", "am_code", "absence", True),
            _f("AM_APPROVED", "am_approved", "approval"),
            _f("PM_TYPE", "pm_code", "absence", True),
            _f("PM_APPROVED", "pm_approved", "approval"),
        ),
        key=("STKEY", "ABSENCE_DATE"),
        need="expected",
        large=True,
    ),
    "STVDI": TableSpec(
        "STVDI",
        "strand results",
        (
            _f("SKEY", "student_key", "key", True),
            _f("YEAR_SEMESTER", "year_semester", "key", True),
            _f("VDOMAIN", "domain", "key"),
            _f("VDIMENSION", "dimension", "key", True),
            _f("SCORE", "score", "score", True),
            _f("SCHOOL_YEAR", "year_level", "year_level"),
        ),
        key=("SKEY", "YEAR_SEMESTER", "VDOMAIN", "VDIMENSION"),
        need="required",
        duplicate_level="warning",
        large=True,
    ),
    "STVDO": TableSpec(
        "STVDO",
        "curriculum area ratings",
        (
            _f("SKEY", "student_key", "key", True),
            _f("YEAR_SEMESTER", "year_semester", "key", True),
            _f("VDOMAIN", "domain", "key", True),
            _f("SCORE", "rating", "score", True),
            _f("SCHOOL_YEAR", "year_level", "year_level"),
        ),
        key=("SKEY", "YEAR_SEMESTER", "VDOMAIN"),
        need="expected",
        duplicate_level="warning",
        large=True,
    ),
}

#: The order tables are read in (lookups first, the big attendance tables last).
TABLE_ORDER: tuple[str, ...] = (
    "KCY",
    "KGC",
    "KGH",
    "KCT",
    "KCC",
    "SF",
    "DF",
    "ST",
    "STVDI",
    "STVDO",
    "SXABCONV",
    "SXAB",
)

#: The output frames and their columns, in order: the contract with the store.
OUTPUT_COLUMNS: dict[str, tuple[str, ...]] = {
    "students": (
        "student_key",
        "surname",
        "first_name",
        "preferred_name",
        "gender",
        "birth_date",
        "status",
        "entry_date",
        "exit_date",
        "year_level",
        "home_group",
        "house",
        "family_key",
        "vsn",
        "vcaa_number",
        "koorie",
        "refugee_background",
        "disability",
        "integration",
        "youth_allowance",
        "access_alert",
        "risk_alert",
        "medical_alert",
        "ema",
        "parent_a_occupation_group",
        "parent_b_occupation_group",
        "family_occupation_group",
    ),
    "year_levels": (
        "year_level",
        "description",
        "numeric",
        "coordinator_name",
        "coordinator_b_name",
    ),
    "home_groups": (
        "home_group",
        "description",
        "year_level",
        "teacher_name",
        "teacher_b_name",
        "active",
    ),
    "houses": ("house", "description"),
    "absence_types": ("code", "description", "abbreviation", "curriculum", "pre_approved"),
    "attendance": (
        "student_key",
        "date",
        "year_level",
        "am_code",
        "am_approved",
        "am_source",
        "pm_code",
        "pm_approved",
        "pm_source",
    ),
    "strand_results": (
        "student_key",
        "year_semester",
        "domain",
        "dimension",
        "score",
        "year_level",
    ),
    "domain_results": ("student_key", "year_semester", "domain", "rating", "year_level"),
    "calendar": ("date", "day_type", "term"),
}

#: Output columns that are computed rather than copied from one source column.
DERIVED: dict[str, dict[str, str]] = {
    "students": {
        "koorie": "ST.KOORIE is K (Aboriginal), T (Torres Strait Islander) or B (both)",
        "parent_a_occupation_group": "DF.OCCUP_STATUS_A of the prime family ST.FAMILY (A B C D N U, blank -> '')",
        "parent_b_occupation_group": "DF.OCCUP_STATUS_B of the prime family ST.FAMILY (A B C D N U, blank -> '')",
        "family_occupation_group": (
            "N when ST.RELATION_A01 is 'Self' (independent student); otherwise the alphabetically "
            "lowest of the two parent groups, a blank counting as U; U when there is no family"
        ),
    },
    "year_levels": {
        "coordinator_name": "KCY.TEACHER -> SF.FIRST_NAME + ' ' + SF.SURNAME ('' if unknown)",
        "coordinator_b_name": "KCY.TEACHER_B -> SF.FIRST_NAME + ' ' + SF.SURNAME ('' if unknown)",
    },
    "home_groups": {
        "teacher_name": "KGC.TEACHER -> SF.FIRST_NAME + ' ' + SF.SURNAME ('' if unknown)",
        "teacher_b_name": "KGC.TEACHER_B -> SF.FIRST_NAME + ' ' + SF.SURNAME ('' if unknown)",
    },
    "houses": {
        "house": "KGH.KGHKEY when KGH is present, else the distinct ST.HOUSE codes",
    },
    "attendance": {
        "am_code": "SXAB.AM_ACT_TYPE when above 0, otherwise SXABCONV.AM_TYPE of the same student and day",
        "am_approved": "the approval flag of the record the code came from",
        "am_source": "SXAB or SXABCONV: the record the AM code came from",
        "pm_code": "SXAB.PM_ACT_TYPE when above 0, otherwise SXABCONV.PM_TYPE of the same student and day",
        "pm_approved": "the approval flag of the record the code came from",
        "pm_source": "SXAB or SXABCONV: the record the PM code came from",
    },
}

OCCUPATION_GROUPS: frozenset[str] = frozenset({"A", "B", "C", "D", "N", "U"})
KNOWN_STATUSES: frozenset[str] = frozenset({"ACTV", "INAC", "FUT", "LVNG", "LEFT", "DEL"})
#: Students currently at the school.
ACTIVE_STATUSES: frozenset[str] = frozenset({"ACTV", "LVNG"})
#: Former students: a stale year level or home group is only a warning for them.
FORMER_STATUSES: frozenset[str] = frozenset({"LEFT", "DEL"})
#: Strands whose results the data-quality report looks for (year levels 1 to 10).
STRAND_DIMENSIONS: tuple[str, ...] = ("ENGREA", "ENGWRI", "MATNUM", "MATSTR")


def source_columns(table: str) -> frozenset[str]:
    """The eduHub columns of ``table`` that the importer reads (everything else is ignored)."""
    return frozenset(TABLES[table].sources)


#: eduHub columns the reference schema (resources/eduhub_columns.json) does not list: their
#: CASES21 v67 type and length.
_EXTRA_LIMITS: dict[str, dict[str, tuple[str, int]]] = {
    "KGH": {"KGHKEY": ("string", 10), "DESCRIPTION": ("string", 30)},
    "KCC": {"KCCKEY": ("DateTime", 0), "DAY_TYPE": ("string", 1), "TERM": ("short", 0)},
}


@functools.cache
def _limits() -> dict[str, dict[str, tuple[str, int]]]:
    path = importlib_resources.files("resources") / "eduhub_columns.json"
    with path.open("r", encoding="utf-8") as handle:
        raw = json.load(handle)
    limits = {
        table: {str(c[0]): (str(c[1]), int(c[2])) for c in cols}
        for table, cols in raw.items()
        if isinstance(cols, list)
    }
    for table, extra in _EXTRA_LIMITS.items():
        limits.setdefault(table, {}).update(extra)
    return limits


#: The range of a CASES21 ``short`` column (a 16-bit integer).
SHORT_RANGE = (-32768, 32767)


def column_limit(table: str, source: str) -> tuple[str, int]:
    """(CASES21 type, maximum length) of a whitelisted column; length 0 or less = no limit.

    The type is ``string``, ``DateTime``, ``short``, ``int``... as in the eduHub schema.
    """
    return _limits().get(table, {}).get(source, ("string", 0))
