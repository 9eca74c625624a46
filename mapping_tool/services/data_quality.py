"""The data-quality report in a custodian's words: findings grouped by kind, each kind with a
count, a plain sentence, and the students it concerns (name and home group), instead of one
coded row per student."""

from __future__ import annotations

import re
from dataclasses import dataclass

from mapping_tool.security.roles import Role
from mapping_tool.services import imports, students
from mapping_tool.services.context import UserSession

KIND_WORDS = {
    "no_home_group": "Current students with no home group",
    "unknown_home_group": "Home groups CASES21 does not list",
    "former_student_unknown_home_group": "Former students with a home group CASES21 no longer lists",
    "no_year_level": "Students with no year level",
    "unknown_year_level": "Year levels the tool does not recognise",
    "former_student_unknown_year_level": "Former students with a year level the tool does not recognise",
    "occupation_unknown": "Parents' occupation group unknown or not stated",
    "invalid_occupation_group": "Parents' occupation group that is not A, B, C, D, N or U",
    "unknown_family": "Students whose family is not in the family file",
    "missing_strand_results": "Students missing English or Maths results",
    "no_attendance": "Students with no attendance recorded",
    "no_birth_date": "Students with no birth date",
    "unknown_house": "Houses CASES21 does not list",
    "unknown_status": "Enrolment statuses the tool does not recognise",
    "unknown_student": "Rows for students who are not in the student file",
    "unmatched_student": "VASS results for students the tool cannot match",
    "duplicate_key": "The same student key twice",
    "missing_key": "Rows without a student key",
    "future_date": "Dates in the future",
    "bad_year_semester": "Result periods that cannot be read",
    "invalid_rating": "Results that are not a level",
    "malformed_vcaa_number": "VCAA student numbers that cannot be read",
    "bad_absence_code": "Absence codes CASES21 does not list",
    "bad_number": "Numbers that cannot be read",
    "workbook_ignored": "Files that were not read",
    "unreadable_file": "Files that cannot be read",
}
# CASES21 and VCAA codes that appear in messages, in words
CODE_WORDS = {
    "HOME_GROUP": "home group", "ENGREA": "English reading", "ENGWRI": "English writing",
    "MATNUM": "Maths number", "MATSTR": "Maths structure", "VDIMENSION": "result area",
    "FAMILY": "family", "SCHOOL_YEAR": "year level", "ACTV": "current", "LEFT": "left",
    "INAC": "inactive", "LVNG": "leaving", "FUT": "future", "DEL": "deleted",
}
_KEY = re.compile(r"\b[A-Z]{3}\d{4}\b")


@dataclass(frozen=True)
class FindingGroup:
    kind: str  # in words
    must_fix: bool
    count: int
    detail: str  # one sentence (the first summary message), in words
    students: tuple[str, ...]  # "SURNAME, First (home group 09A)"


def words(message: str) -> str:
    for code, text in CODE_WORDS.items():
        message = re.sub(rf"\b{code}\b", text, message)
    return message


def kind_words(code: str) -> str:
    return KIND_WORDS.get(code, code.replace("_", " ").capitalize())


def grouped_findings(user: UserSession, snapshot_id: int) -> list[FindingGroup]:
    """Custodian and principal (as the report itself). Problems first, then the largest groups."""
    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    rows = imports.snapshot_findings(user, snapshot_id)
    by_code: dict[tuple[str, str], list[tuple]] = {}  # type: ignore[type-arg]
    for row in rows:
        by_code.setdefault((row[0], row[1]), []).append(row)
    names = _names(user)
    groups = []
    for (level, code), items in by_code.items():
        keys = sorted({k for item in items for k in _KEY.findall(str(item[5]))})
        people = tuple(names.get(k, k) for k in keys)
        summaries = [str(i[5]) for i in items if not _KEY.search(str(i[5]))]
        count = len(keys) or len(items)
        example = re.sub(r"\b[Ss]tudent\s+[A-Z]{3}\d{4}\b", "a student", str(items[0][5]))
        detail = words(summaries[0]) if summaries else words(_KEY.sub("a student", example))
        if summaries:  # "27 of 289 students …" counts more than the students listed
            match = re.match(r"\s*([\d,]+)\b", summaries[0])
            if match:
                count = max(count, int(match.group(1).replace(",", "")))
        detail = re.sub(r"^Line \d+ of [^:]+: ", "", detail)
        detail = detail[:1].upper() + detail[1:]
        groups.append(FindingGroup(kind_words(code), level == "error", count, detail, people))
    groups.sort(key=lambda g: (not g.must_fix, -g.count, g.kind))
    listed = sorted({k for row in rows for k in _KEY.findall(str(row[5]))})
    with user.store.write() as session:  # names were shown: recorded like any list of students
        user.store.audit(session, user.username, "data-quality.viewed", object_type="snapshot", object_id=str(snapshot_id),
                         detail={"groups": len(groups), "student_keys": listed})
    return groups


def _names(user: UserSession) -> dict[str, str]:
    table = students.list_students(user, fields=("student_key", "surname", "first_name", "home_group"), audit=False)
    cols = table.columns
    out = {}
    for r in table.rows:
        row = dict(zip(cols, r, strict=True))
        name = ", ".join(p for p in (str(row.get("surname") or ""), str(row.get("first_name") or "")) if p) or row["student_key"]
        group = row.get("home_group")
        out[row["student_key"]] = f"{name} (home group {group})" if group else f"{name} (no home group)"
    return out
