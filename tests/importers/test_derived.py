"""Derived values: the SXAB/SXABCONV merge, family occupation group, Koorie and other flags."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from eduhub_fixture import DAYS, School, read


def _day(extract: object, key: str, day: dt.date) -> dict[str, object]:
    att = extract.attendance  # type: ignore[attr-defined]
    rows = att[(att.student_key == key) & (att.date == pd.Timestamp(day))]
    assert len(rows) == 1, rows
    return {
        k: (v if not hasattr(v, "item") else v.item()) for k, v in rows.iloc[0].to_dict().items()
    }


def test_sxab_and_sxabconv_merge_precedence(school: School, folder: Path) -> None:
    school.tables["SXABCONV"] = []
    # day 0: SXAB marked (100) on both halves, SXABCONV says excursion -> SXAB wins
    # day 1: SXAB not marked (0) in the morning -> the SXABCONV morning code and approval
    # day 2: SXAB has no row -> the SXABCONV record on both halves
    sx1 = school.find("SXAB", STKEY="ABC0004", ABSENCE_DATE=DAYS[1])
    sx1.update(AM_ACT_TYPE="0", AM_APPROVED="")
    school.remove("SXAB", STKEY="ABC0004", ABSENCE_DATE=DAYS[2])
    for day, am, pm in ((DAYS[0], "604", "604"), (DAYS[1], "200", "201"), (DAYS[2], "300", "500")):
        school.add(
            "SXABCONV",
            SXABCONV_ID=str(day.day),
            STKEY="ABC0004",
            ST_YEAR_LEVEL="08",
            ABSENCE_DATE=day,
            AM_TYPE=am,
            AM_APPROVED="Y",
            PM_TYPE=pm,
            PM_APPROVED="N",
            RECORD_SOURCE="Compass",
        )
    school.write(folder)
    extract = read(folder)

    assert extract.ok, extract.findings
    assert len(extract.attendance) == 100  # one row per student and day
    assert not extract.attendance.duplicated(["student_key", "date"]).any()
    day0 = _day(extract, "ABC0004", DAYS[0])
    assert (day0["am_code"], day0["am_source"], day0["pm_code"], day0["pm_source"]) == (
        100,
        "SXAB",
        100,
        "SXAB",
    )
    day1 = _day(extract, "ABC0004", DAYS[1])
    assert (day1["am_code"], day1["am_approved"], day1["am_source"]) == (200, "Y", "SXABCONV")
    assert (day1["pm_code"], day1["pm_approved"], day1["pm_source"]) == (100, "N", "SXAB")
    day2 = _day(extract, "ABC0004", DAYS[2])
    assert day2 == {
        "student_key": "ABC0004",
        "date": pd.Timestamp(DAYS[2]),
        "year_level": "08",
        "am_code": 300,
        "am_approved": "Y",
        "am_source": "SXABCONV",
        "pm_code": 500,
        "pm_approved": "N",
        "pm_source": "SXABCONV",
    }
    other = _day(extract, "ABC0002", DAYS[3])
    assert (other["am_code"], other["am_approved"], other["am_source"]) == (201, "Y", "SXAB")


def test_sxabconv_alone_when_sxab_has_no_rows_for_a_student(school: School, folder: Path) -> None:
    school.remove("SXAB", STKEY="ABC0009")
    for i, day in enumerate(DAYS):
        school.add(
            "SXABCONV",
            SXABCONV_ID=str(100 + i),
            STKEY="ABC0009",
            ST_YEAR_LEVEL="11",
            ABSENCE_DATE=day,
            AM_TYPE="100",
            AM_APPROVED="",
            PM_TYPE="100",
            PM_APPROVED="",
        )
    school.write(folder)
    extract = read(folder)

    assert extract.ok, extract.findings
    rows = extract.attendance[extract.attendance.student_key == "ABC0009"]
    assert len(rows) == len(DAYS)
    assert set(rows.am_source.astype(str)) == {"SXABCONV"}


FAMILY_CASES = [
    # (relation A01, OCCUP_STATUS_A, OCCUP_STATUS_B, family group, parents' groups)
    ("Self", "A", "B", "N", ("A", "B")),
    ("SELF", "", "", "N", ("", "")),
    ("Mother", "A", "U", "A", ("A", "U")),
    ("Mother", "", "", "U", ("", "")),
    ("Mother", "C", "N", "C", ("C", "N")),
    ("Father", "N", "", "N", ("N", "")),
    ("Mother", "u", "d", "D", ("U", "D")),
    ("Mother", " B ", "A", "A", ("B", "A")),
]


def test_family_occupation_group(school: School, folder: Path) -> None:
    keys = [f"ABC{i:04d}" for i in range(1, len(FAMILY_CASES) + 1)]
    for key, (relation, occ_a, occ_b, _, _) in zip(keys, FAMILY_CASES, strict=True):
        student = school.student(key)
        student["RELATION_A01"] = relation
        school.find("DF", DFKEY=student["FAMILY"]).update(
            OCCUP_STATUS_A=occ_a, OCCUP_STATUS_B=occ_b
        )
    school.write(folder)
    s = read(folder).students.set_index("student_key")

    for key, (_, _, _, expected, parents) in zip(keys, FAMILY_CASES, strict=True):
        assert s.loc[key, "family_occupation_group"] == expected, key
        assert (
            s.loc[key, "parent_a_occupation_group"],
            s.loc[key, "parent_b_occupation_group"],
        ) == parents


def test_no_family_is_group_u(school: School, folder: Path) -> None:
    school.student("ABC0001")["FAMILY"] = ""
    school.student("ABC0002")["FAMILY"] = "MISSING"
    school.write(folder)
    s = read(folder).students.set_index("student_key")

    for key in ("ABC0001", "ABC0002"):
        assert s.loc[key, "family_occupation_group"] == "U"
        assert s.loc[key, "parent_a_occupation_group"] == ""


KOORIE = {
    "ABC0001": "K",
    "ABC0002": "T",
    "ABC0003": "B",
    "ABC0004": "k",
    "ABC0005": "U",
    "ABC0006": "N",
    "ABC0007": "",
}


def test_koorie(school: School, folder: Path) -> None:
    for key, value in KOORIE.items():
        school.student(key)["KOORIE"] = value
    school.write(folder)
    s = read(folder).students.set_index("student_key")["koorie"]

    assert {k: bool(s[k]) for k in KOORIE} == {
        "ABC0001": True,
        "ABC0002": True,
        "ABC0003": True,
        "ABC0004": True,
        "ABC0005": False,
        "ABC0006": False,
        "ABC0007": False,
    }


FLAGS = {
    "REFUGEE_BACKGROUND": "refugee_background",
    "DISABILITY": "disability",
    "INTEGRATION": "integration",
    "YOUTH_ALLOW": "youth_allowance",
    "ACCESS_ALERT": "access_alert",
    "RISK_ALERT": "risk_alert",
    "MEDICAL_ALERT": "medical_alert",
    "ED_ALLOW": "ema",
}


def test_yes_no_flags(school: School, folder: Path) -> None:
    # student n (1..8) has only flag n set; ABC0009 has "y " everywhere, ABC0010 blanks
    for n, column in enumerate(FLAGS, start=1):
        school.student(f"ABC{n:04d}")[column] = "Y"
        school.student("ABC0009")[column] = "y "
        school.student("ABC0010")[column] = ""
    school.write(folder)
    s = read(folder).students.set_index("student_key")

    for n, flag in enumerate(FLAGS.values(), start=1):
        expected = {f"ABC{i:04d}": i in (n, 9) for i in range(1, 11)}
        assert s[flag].to_dict() == expected, flag


def test_inactive_home_group(school: School, folder: Path) -> None:
    school.find("KGC", KGCKEY="11C")["ACTIVE"] = "N"
    school.find("KGC", KGCKEY="08B")["ACTIVE"] = ""
    school.write(folder)
    groups = read(folder).home_groups.set_index("home_group")["active"].to_dict()

    assert groups == {"07A": True, "08B": True, "11C": False}


def test_attendance_values_are_read_by_value(school: School, folder: Path) -> None:
    """Codes, dates and flags of the big tables are read per distinct value: odd spellings
    of the same value (100.0, ISO dates, a lower-case y, blanks) all come out right."""
    rows = [r for r in school.rows("SXAB") if r["STKEY"] == "ABC0001"]
    rows[0].update(AM_ACT_TYPE="100.0", PM_ACT_TYPE="")
    rows[1].update(ABSENCE_DATE=DAYS[1].isoformat(), AM_APPROVED="y", AM_ACT_TYPE="200")
    rows[2].update(ABSENCE_DATE=f"{DAYS[2]:%d/%m/%Y}", PM_APPROVED=" ")
    school.write(folder)
    extract = read(folder)

    assert extract.ok, extract.findings
    first = _day(extract, "ABC0001", DAYS[0])
    assert (first["am_code"], first["pm_code"]) == (100, 0)
    second = _day(extract, "ABC0001", DAYS[1])
    assert (second["am_code"], second["am_approved"]) == (200, "Y")
    third = _day(extract, "ABC0001", DAYS[2])
    assert third["pm_approved"] == ""
    assert len(extract.attendance) == 100
