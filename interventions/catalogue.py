"""The school's programmes: the kinds, the measures a programme targets, checking a programme's
fields, the starter catalogue, and a goal in words."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any

from interventions.errors import CatalogueError

__all__ = [
    "KINDS",
    "MEASURES",
    "MEASURE_TITLES",
    "RATE_MEASURES",
    "ProgrammeSpec",
    "check_programme",
    "goal_met",
    "goal_text",
    "higher_is_better",
    "parse_kind",
    "parse_measure",
    "starter_catalogue",
]

KINDS = (
    "attendance", "engagement", "literacy", "numeracy", "wellbeing", "careers/MIPs", "mentoring",
    "external agency", "other",
)
MEASURES = ("attendance_rate", "unapproved_rate", "suspension_days", "english", "maths", "flag_count")
#: measures evaluated by windows of attendance beside comparison students
RATE_MEASURES = ("attendance_rate", "unapproved_rate", "suspension_days")
MEASURE_TITLES = {
    "attendance_rate": "Attendance rate",
    "unapproved_rate": "Unapproved absences (% of half-days marked)",
    "suspension_days": "Days of suspension",
    "english": "English results",
    "maths": "Mathematics results",
    "flag_count": "Number of risk factors",
}
#: the flags that show demand for a programme targeting each measure (capacity view)
MEASURE_FLAGS = {
    "attendance_rate": ("flag_low_attendance",),
    "unapproved_rate": ("flag_unapproved_absences",),
    "suspension_days": ("flag_suspension",),
    "english": ("flag_below_expected_english",),
    "maths": ("flag_below_expected_maths",),
    "flag_count": (),  # any flag: flag_count > 0
}
MAX_NAME = 80


def higher_is_better(measure: str) -> bool:
    return measure in ("attendance_rate", "english", "maths")


def parse_kind(text: str) -> str:
    wanted = text.strip().lower()
    for kind in KINDS:
        if kind.lower() == wanted or kind.lower().replace("/", " ") == wanted.replace("/", " "):
            return kind
    if wanted in ("careers", "mips", "careers and mips"):
        return "careers/MIPs"
    raise CatalogueError(f"Unknown kind '{text.strip()}'. Choose one of: {', '.join(KINDS)}.")


def parse_measure(text: str) -> str:
    wanted = text.strip().lower()
    if wanted in MEASURES:
        return wanted
    raise CatalogueError(f"Unknown measure '{text.strip()}'. Choose one of: {', '.join(MEASURES)}.")


@dataclass(frozen=True)
class ProgrammeSpec:
    name: str
    kind: str
    measure: str
    provider: str = ""
    responsible: str = ""
    capacity: int | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    description: str = ""
    sensitive: bool = False


def check_programme(spec: ProgrammeSpec) -> ProgrammeSpec:
    """The spec with its text trimmed and its kind and measure in their canonical spelling;
    CatalogueError (one sentence) for anything wrong."""
    name = " ".join(spec.name.split())
    if not name:
        raise CatalogueError("A programme needs a name.")
    if len(name) > MAX_NAME:
        raise CatalogueError(f"A programme's name is at most {MAX_NAME} characters.")
    if spec.capacity is not None and (spec.capacity < 1 or spec.capacity > 10000):
        raise CatalogueError("The capacity (seats) must be a whole number from 1 to 10000.")
    if spec.start_date and spec.end_date and spec.end_date < spec.start_date:
        raise CatalogueError("The programme's end date is before its start date.")
    return ProgrammeSpec(
        name=name,
        kind=parse_kind(spec.kind),
        measure=parse_measure(spec.measure),
        provider=spec.provider.strip(),
        responsible=spec.responsible.strip(),
        capacity=spec.capacity,
        start_date=spec.start_date,
        end_date=spec.end_date,
        description=spec.description.strip(),
        sensitive=bool(spec.sensitive),
    )


def starter_catalogue(text: str | None = None) -> list[ProgrammeSpec]:
    """The starter programmes (resources/interventions_starter.json unless ``text`` is given)."""
    if text is None:
        text = (importlib_resources.files("resources") / "interventions_starter.json").read_text("utf-8")
    data = json.loads(text)
    out: list[ProgrammeSpec] = []
    for item in data["programmes"]:
        out.append(check_programme(_spec(item)))
    return out


def _spec(item: Mapping[str, Any]) -> ProgrammeSpec:
    return ProgrammeSpec(
        name=str(item["name"]), kind=str(item["kind"]), measure=str(item["measure"]),
        provider=str(item.get("provider", "")), capacity=item.get("capacity"),
        description=str(item.get("description", "")), sensitive=bool(item.get("sensitive", False)),
    )


def goal_text(measure: str, target: float | None, weeks: int) -> str:
    """The goal in words, against the programme's measure."""
    if target is None:
        return ""
    t = f"{target:g}"
    return {
        "attendance_rate": f"Attendance at least {t} % over the {weeks} weeks after the start",
        "unapproved_rate": f"Unapproved absences at most {t} % of half-days over the {weeks} weeks after the start",
        "suspension_days": f"At most {t} days of suspension over the {weeks} weeks after the start",
        "english": f"An English result of at least {t} at the next report",
        "maths": f"A mathematics result of at least {t} at the next report",
        "flag_count": f"At most {t} risk factors at the latest refresh",
    }[measure]


def goal_met(measure: str, target: float | None, after: float | None) -> bool | None:
    if target is None or after is None:
        return None
    return after >= target if higher_is_better(measure) else after <= target
