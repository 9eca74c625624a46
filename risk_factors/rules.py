"""The flag rules as data: thresholds, absence codes, strands, population, tier domains, wording.

The defaults live in ``resources/risk_rules.json``; a :class:`RiskRules` is an immutable,
validated copy. The data custodian changes one setting at a time (:meth:`RiskRules.with_change`,
or :meth:`RiskRules.with_text_change` for text typed on a command line); each change gives a
new, validated ``RiskRules`` that the store saves as a new rule version. The store numbers the
versions; ``version`` in the file is the format of the file itself.
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources as importlib_resources
from typing import Any, Final

from risk_factors.errors import RuleError

__all__ = [
    "CHARACTERISTICS",
    "COUNTABLE",
    "DOMAIN_MEMBERS",
    "EXPLANATION_PLACEHOLDERS",
    "FLAG_COLUMNS",
    "FORMAT_VERSION",
    "KNOWN_STATUSES",
    "MEASURE_SETTINGS",
    "OCCUPATION_GROUPS",
    "RiskRules",
    "SETTING_LABELS",
    "SETTING_NAMES",
    "load_default_rules",
    "parse_setting",
]

logger = logging.getLogger(__name__)

#: The format of risk_rules.json that this code reads and writes.
FORMAT_VERSION: Final = 1

#: The six computed yes/no flags, in display order.
FLAG_COLUMNS: Final = (
    "flag_low_attendance",
    "flag_unapproved_absences",
    "flag_suspension",
    "flag_below_expected_english",
    "flag_below_expected_maths",
    "flag_parent_not_in_paid_work",
)
#: The status characteristics: yes/no context columns copied from the students table.
CHARACTERISTICS: Final = (
    "koorie",
    "refugee_background",
    "disability",
    "integration",
    "youth_allowance",
    "access_alert",
    "risk_alert",
    "medical_alert",
    "ema",
)
#: What may count toward flag_count besides the six flags (each a setting).
COUNTABLE: Final = ("relationships_concern", *CHARACTERISTICS)
#: What a tier domain may be made of.
DOMAIN_MEMBERS: Final = (*FLAG_COLUMNS, "relationships_concern")
KNOWN_STATUSES: Final = ("ACTV", "INAC", "FUT", "LVNG", "LEFT", "DEL")
OCCUPATION_GROUPS: Final = ("A", "B", "C", "D", "N", "U")

_COMMON = ("basis", "threshold")
#: The placeholders each explanation template may use.
EXPLANATION_PLACEHOLDERS: Final[Mapping[str, tuple[str, ...]]] = {
    "flag_low_attendance": (*_COMMON, "attendance_rate", "marked_days", "absent_days"),
    "flag_unapproved_absences": (*_COMMON, "unapproved_days"),
    "flag_suspension": (
        *_COMMON,
        "suspension_days",
        "internal_suspension_days",
        "external_suspension_days",
    ),
    "flag_below_expected_english": (*_COMMON, "area", "details"),
    "flag_below_expected_maths": (*_COMMON, "area", "details"),
    "flag_parent_not_in_paid_work": (*_COMMON, "group"),
    "relationships_concern": ("basis",),
    "characteristic": ("basis", "characteristic"),
}

#: Human names of the settings, for messages and the rules screen.
SETTING_LABELS: Final[Mapping[str, str]] = {
    "attendance_rate_below": "Low attendance: attendance rate below (%)",
    "unapproved_days_at_least": "Unapproved absences: days at least",
    "suspension_days_above": "Suspension: suspension days above",
    "internal_suspension_code": "Absence code of an internal suspension",
    "external_suspension_code": "Absence code of an external suspension",
    "below_expected_levels": "Below expected level: levels below at least",
    "english_dimensions": "English strands",
    "maths_dimensions": "Mathematics strands",
    "strand_dimensions": "Strands whose latest result is shown",
    "parent_not_in_paid_work_group": "Family occupation group meaning not in paid work",
    "population_statuses": "Student statuses included",
    "calendar_school_day_types": "Calendar day types that are school days",
    "domains": "Tier domains",
    "priority_domains_at_least": "Priority tier: domains with a flag at least",
    **{f"count_{name}": f"Count {name.replace('_', ' ')} in the flag count" for name in COUNTABLE},
}

_SCALARS = (
    "attendance_rate_below",
    "unapproved_days_at_least",
    "suspension_days_above",
    "internal_suspension_code",
    "external_suspension_code",
    "below_expected_levels",
    "english_dimensions",
    "maths_dimensions",
    "strand_dimensions",
    "parent_not_in_paid_work_group",
    "population_statuses",
    "calendar_school_day_types",
)
#: The names :meth:`RiskRules.with_change` accepts.
SETTING_NAMES: Final = (
    *_SCALARS,
    *(f"count_{name}" for name in COUNTABLE),
    "domains",
    "priority_domains_at_least",
)
#: Settings that change the measures themselves: after changing one of these, run
#: compute_measures again (the others only need compute_flags).
MEASURE_SETTINGS: Final = frozenset(
    {
        "internal_suspension_code",
        "external_suspension_code",
        "strand_dimensions",
        "population_statuses",
        "calendar_school_day_types",
    }
)
_FILE_KEYS = frozenset(
    {
        "version",
        *_SCALARS,
        "count_in_flag_count",
        "domains",
        "priority_domains_at_least",
        "dimension_names",
        "explanations",
    }
)

# (low, low_inclusive, high, unit) for the numeric thresholds
_RANGES: dict[str, tuple[float, bool, float, str]] = {
    "attendance_rate_below": (0.0, True, 100.0, "a percentage from 0 to 100"),
    "unapproved_days_at_least": (0.0, False, 366.0, "a number of days above 0 and at most 366"),
    "suspension_days_above": (0.0, True, 366.0, "a number of days from 0 to 366"),
    "below_expected_levels": (0.0, False, 12.0, "a number of levels above 0 and at most 12"),
}
_DIMENSION = re.compile(r"^[A-Z0-9]{1,10}$")
_DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9_]{0,29}$")
_YES = frozenset({"yes", "y", "true", "1", "on"})
_NO = frozenset({"no", "n", "false", "0", "off"})


def _label(name: str) -> str:
    label = SETTING_LABELS.get(name)
    return f"{label} ({name})" if label else name


def _show(value: object) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(name: str, message: str) -> RuleError:
    return RuleError(f"{_label(name)} {message}", setting=name)


def _number(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(name, f"must be a number, not {_show(value)}.")
    number = float(value)
    low, low_inclusive, high, wording = _RANGES[name]
    if (
        not math.isfinite(number)
        or number > high
        or number < low
        or (number == low and not low_inclusive)
    ):
        raise _fail(name, f"must be {wording}; {_show(value)} is out of range.")
    return number


def _code(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise _fail(name, f"must be a whole-number absence code, not {_show(value)}.")
    if not 1 <= value <= 32767:
        raise _fail(name, f"must be an absence code from 1 to 32767; {value} is out of range.")
    return value


def _codes_list(
    name: str,
    value: object,
    *,
    allowed: tuple[str, ...] | None = None,
    pattern: re.Pattern[str] | None = None,
    what: str,
    non_empty: bool,
) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise _fail(name, f"must be a list of {what}, not {_show(value)}.")
    out: list[str] = []
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise _fail(name, f"must be a list of {what}; {_show(item)} is not one.")
        code = item.strip().upper()
        if allowed is not None and code not in allowed:
            raise _fail(name, f"lists {_show(item)}, which is not one of {', '.join(allowed)}.")
        if pattern is not None and not pattern.match(code):
            raise _fail(
                name, f"lists {_show(item)}, which is not a code of 1 to 10 letters or digits."
            )
        if code in out:
            raise _fail(name, f"lists {code} twice.")
        out.append(code)
    if non_empty and not out:
        raise _fail(name, f"must list at least one of the {what}.")
    return tuple(out)


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise _fail(name, f"must be yes or no (true or false), not {_show(value)}.")
    return value


def _mapping(name: str, value: object) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(name, f"must be a table of names and values, not {_show(value)}.")
    return value


def _sample(placeholders: tuple[str, ...]) -> dict[str, str]:
    return {p: "x" for p in placeholders}


def _check_template(key: str, template: object) -> str:
    name = f"explanations.{key}"
    if not isinstance(template, str) or not template.strip():
        raise _fail(name, "must be a sentence of text.")
    allowed = EXPLANATION_PLACEHOLDERS[key]
    try:
        fields = [
            f for _lit, f, _spec, _conv in string.Formatter().parse(template) if f is not None
        ]
    except ValueError as exc:
        raise _fail(name, f"has unbalanced braces {{ }}: {exc}.") from None
    for field_name in fields:
        if field_name not in allowed:
            raise _fail(
                name,
                f"uses {{{field_name}}}, which is not available here; use "
                + ", ".join("{" + p + "}" for p in allowed)
                + ".",
            )
    try:
        template.format_map(_sample(allowed))
    except (ValueError, IndexError, KeyError) as exc:
        raise _fail(name, f"cannot be filled in: {exc}.") from None
    return template


@functools.cache
def _default_text() -> str:
    path = importlib_resources.files("resources") / "risk_rules.json"
    return path.read_text(encoding="utf-8")


def _default_dict() -> dict[str, Any]:
    data = json.loads(_default_text())
    if not isinstance(data, dict):  # pragma: no cover - the packaged file is a table
        raise RuleError("The default rules file is damaged: reinstall the tool.")
    return data


@dataclass(frozen=True)
class RiskRules:
    """One validated set of flag rules. Build with :func:`load_default_rules` or
    :meth:`from_dict`; never edit, use :meth:`with_change`."""

    attendance_rate_below: float
    unapproved_days_at_least: float
    suspension_days_above: float
    internal_suspension_code: int
    external_suspension_code: int
    below_expected_levels: float
    english_dimensions: tuple[str, ...]
    maths_dimensions: tuple[str, ...]
    strand_dimensions: tuple[str, ...]
    parent_not_in_paid_work_group: str
    population_statuses: tuple[str, ...]
    calendar_school_day_types: tuple[str, ...]
    #: the COUNTABLE names whose yes counts toward flag_count
    counted: frozenset[str]
    #: (domain name, its members) in order
    domains: tuple[tuple[str, tuple[str, ...]], ...]
    priority_domains_at_least: int
    #: (strand code, human name)
    dimension_names: tuple[tuple[str, str], ...]
    #: (flag or "characteristic", sentence template)
    explanations: tuple[tuple[str, str], ...]

    # ------------------------------------------------------------------------------------
    # building

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RiskRules:
        """Validate a rules table (the JSON file's shape). Settings it leaves out take the
        packaged defaults, so rules saved before a setting existed still load."""
        if not isinstance(data, Mapping):
            raise RuleError("The rules must be a table of settings.")
        unknown = sorted(str(k) for k in data if k not in _FILE_KEYS)
        if unknown:
            raise RuleError(
                f"Unknown rule setting {unknown[0]!r}. The settings are: {', '.join(SETTING_NAMES)}.",
                setting=unknown[0],
            )
        version = data.get("version", FORMAT_VERSION)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise RuleError(
                f"The rules' format version must be a whole number, not {_show(version)}."
            )
        if version > FORMAT_VERSION:
            raise RuleError(
                f"These rules were saved by a newer version of the tool (format {version}); "
                "update the tool to use them."
            )
        merged = _default_dict()
        for key, value in data.items():
            if key in {"count_in_flag_count", "dimension_names", "explanations"} and isinstance(
                value, Mapping
            ):
                base = dict(_mapping(key, merged.get(key, {})))
                base.update(value)
                merged[key] = base
            else:
                merged[key] = copy.deepcopy(value)
        return cls._validate(merged)

    @classmethod
    def _validate(cls, d: Mapping[str, Any]) -> RiskRules:
        strands = _codes_list(
            "strand_dimensions",
            d["strand_dimensions"],
            pattern=_DIMENSION,
            what="strand codes (e.g. ENGREA)",
            non_empty=True,
        )
        english = _codes_list(
            "english_dimensions",
            d["english_dimensions"],
            pattern=_DIMENSION,
            what="strand codes (e.g. ENGREA)",
            non_empty=False,
        )
        maths = _codes_list(
            "maths_dimensions",
            d["maths_dimensions"],
            pattern=_DIMENSION,
            what="strand codes (e.g. MATNUM)",
            non_empty=False,
        )
        for name, dims in (("english_dimensions", english), ("maths_dimensions", maths)):
            missing = [x for x in dims if x not in strands]
            if missing:
                raise _fail(
                    name,
                    f"lists {', '.join(missing)}, which is not among the strands whose results are "
                    "read (strand_dimensions); add it there first.",
                )
        internal = _code("internal_suspension_code", d["internal_suspension_code"])
        external = _code("external_suspension_code", d["external_suspension_code"])
        if internal == external:
            raise _fail(
                "external_suspension_code",
                f"must differ from the internal suspension code (both are {internal}).",
            )
        group = d["parent_not_in_paid_work_group"]
        if not isinstance(group, str) or group.strip().upper() not in OCCUPATION_GROUPS:
            raise _fail(
                "parent_not_in_paid_work_group",
                f"must be one of the occupation groups {', '.join(OCCUPATION_GROUPS)}, not {_show(group)}.",
            )
        statuses = _codes_list(
            "population_statuses",
            d["population_statuses"],
            allowed=KNOWN_STATUSES,
            what="student statuses",
            non_empty=True,
        )
        day_types = _codes_list(
            "calendar_school_day_types",
            d["calendar_school_day_types"],
            what="calendar day types",
            non_empty=True,
        )

        counts = _mapping("count_in_flag_count", d["count_in_flag_count"])
        for key in counts:
            if key not in COUNTABLE:
                raise RuleError(
                    f"Unknown rule setting 'count_{key}': only {', '.join(COUNTABLE)} can be "
                    "counted in the flag count besides the six flags.",
                    setting=f"count_{key}",
                )
        counted = frozenset(
            name for name in COUNTABLE if _flag(f"count_{name}", counts.get(name, False))
        )

        raw_domains = _mapping("domains", d["domains"])
        if not raw_domains:
            raise _fail("domains", "must name at least one domain.")
        seen: dict[str, str] = {}
        domains: list[tuple[str, tuple[str, ...]]] = []
        for dname, members in raw_domains.items():
            if not isinstance(dname, str) or not _DOMAIN_NAME.match(dname):
                raise _fail(
                    "domains", f"has a domain named {_show(dname)}; use lower-case letters."
                )
            if isinstance(members, str) or not isinstance(members, (list, tuple)) or not members:
                raise _fail("domains", f"must list at least one flag in the {dname} domain.")
            for m in members:
                if m not in DOMAIN_MEMBERS:
                    raise _fail(
                        "domains",
                        f"lists {_show(m)} in the {dname} domain; use one of {', '.join(DOMAIN_MEMBERS)}.",
                    )
                if m in seen:
                    raise _fail("domains", f"lists {m} in both the {seen[m]} and {dname} domains.")
                seen[m] = dname
            domains.append((dname, tuple(members)))
        priority = d["priority_domains_at_least"]
        if isinstance(priority, bool) or not isinstance(priority, int):
            raise _fail(
                "priority_domains_at_least", f"must be a whole number, not {_show(priority)}."
            )
        if not 1 <= priority <= len(domains):
            raise _fail(
                "priority_domains_at_least",
                f"must be from 1 to the number of domains ({len(domains)}); {priority} is out of range.",
            )

        names = _mapping("dimension_names", d["dimension_names"])
        dimension_names: list[tuple[str, str]] = []
        for code, label in names.items():
            if not isinstance(label, str) or not label.strip():
                raise _fail(f"dimension_names.{code}", "must be a name in words.")
            dimension_names.append((str(code).strip().upper(), label.strip()))

        templates = _mapping("explanations", d["explanations"])
        for key in templates:
            if key not in EXPLANATION_PLACEHOLDERS:
                raise RuleError(
                    f"Unknown explanation {key!r}; the explanations are "
                    f"{', '.join(EXPLANATION_PLACEHOLDERS)}.",
                    setting=f"explanations.{key}",
                )
        explanations = []
        for key in EXPLANATION_PLACEHOLDERS:
            if key not in templates:
                raise _fail(f"explanations.{key}", "is missing.")
            explanations.append((key, _check_template(key, templates[key])))

        return cls(
            attendance_rate_below=_number("attendance_rate_below", d["attendance_rate_below"]),
            unapproved_days_at_least=_number(
                "unapproved_days_at_least", d["unapproved_days_at_least"]
            ),
            suspension_days_above=_number("suspension_days_above", d["suspension_days_above"]),
            internal_suspension_code=internal,
            external_suspension_code=external,
            below_expected_levels=_number("below_expected_levels", d["below_expected_levels"]),
            english_dimensions=english,
            maths_dimensions=maths,
            strand_dimensions=strands,
            parent_not_in_paid_work_group=group.strip().upper(),
            population_statuses=statuses,
            calendar_school_day_types=day_types,
            counted=counted,
            domains=tuple(domains),
            priority_domains_at_least=priority,
            dimension_names=tuple(dimension_names),
            explanations=tuple(explanations),
        )

    def to_dict(self) -> dict[str, Any]:
        """The rules as plain JSON values, in the file's shape (``from_dict(to_dict())`` round-trips)."""
        return {
            "version": FORMAT_VERSION,
            "attendance_rate_below": self.attendance_rate_below,
            "unapproved_days_at_least": self.unapproved_days_at_least,
            "suspension_days_above": self.suspension_days_above,
            "internal_suspension_code": self.internal_suspension_code,
            "external_suspension_code": self.external_suspension_code,
            "below_expected_levels": self.below_expected_levels,
            "english_dimensions": list(self.english_dimensions),
            "maths_dimensions": list(self.maths_dimensions),
            "strand_dimensions": list(self.strand_dimensions),
            "parent_not_in_paid_work_group": self.parent_not_in_paid_work_group,
            "population_statuses": list(self.population_statuses),
            "calendar_school_day_types": list(self.calendar_school_day_types),
            "count_in_flag_count": {name: name in self.counted for name in COUNTABLE},
            "domains": {name: list(members) for name, members in self.domains},
            "priority_domains_at_least": self.priority_domains_at_least,
            "dimension_names": dict(self.dimension_names),
            "explanations": dict(self.explanations),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)

    # ------------------------------------------------------------------------------------
    # changing one setting

    def with_change(self, name: str, value: Any) -> RiskRules:
        """A new, validated RiskRules with one setting changed (names in SETTING_NAMES;
        ``count_<name>`` for what counts toward flag_count). Raises RuleError."""
        if name not in SETTING_NAMES:
            raise RuleError(
                f"Unknown rule setting {name!r}. The settings are: {', '.join(SETTING_NAMES)}.",
                setting=name,
            )
        data = self.to_dict()
        if name.startswith("count_"):
            data["count_in_flag_count"][name.removeprefix("count_")] = _flag(name, value)
        else:
            data[name] = copy.deepcopy(value)
        changed = RiskRules._validate({**_default_dict(), **data})
        logger.info("Rule setting %s changed", name)
        return changed

    def with_text_change(self, name: str, text: str) -> RiskRules:
        """:meth:`with_change` from text typed by a user: numbers, yes/no, comma-separated
        lists, and JSON for ``domains``."""
        return self.with_change(name, parse_setting(name, text))

    # ------------------------------------------------------------------------------------
    # reading

    def setting(self, name: str) -> Any:
        """The current value of one setting (plain JSON value)."""
        if name not in SETTING_NAMES:
            raise RuleError(f"Unknown rule setting {name!r}.", setting=name)
        if name.startswith("count_"):
            return name.removeprefix("count_") in self.counted
        return self.to_dict()[name]

    def settings(self) -> dict[str, Any]:
        """Every changeable setting and its value, in display order (for ``rules show``)."""
        return {name: self.setting(name) for name in SETTING_NAMES}

    def counts(self, name: str) -> bool:
        """Whether a COUNTABLE yes/no counts toward flag_count."""
        return name in self.counted

    @property
    def domain_map(self) -> dict[str, tuple[str, ...]]:
        return dict(self.domains)

    def dimension_name(self, code: str) -> str:
        return dict(self.dimension_names).get(code, code)

    def explanation(self, key: str) -> str:
        return dict(self.explanations)[key]


def parse_setting(name: str, text: str) -> Any:
    """Turn a user's text into the JSON value of setting ``name``; RuleError when it cannot."""
    if name not in SETTING_NAMES:
        raise RuleError(
            f"Unknown rule setting {name!r}. The settings are: {', '.join(SETTING_NAMES)}.",
            setting=name,
        )
    raw = text.strip()
    if name.startswith("count_"):
        if raw.lower() in _YES:
            return True
        if raw.lower() in _NO:
            return False
        raise _fail(name, f"must be yes or no, not {raw!r}.")
    if name in _RANGES:
        try:
            return float(raw.rstrip("%").strip())
        except ValueError:
            raise _fail(name, f"must be a number, not {raw!r}.") from None
    if name in {
        "internal_suspension_code",
        "external_suspension_code",
        "priority_domains_at_least",
    }:
        try:
            return int(raw)
        except ValueError:
            raise _fail(name, f"must be a whole number, not {raw!r}.") from None
    if name == "domains":
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            raise _fail(
                name,
                'must be written as JSON, e.g. {"attendance": ["flag_low_attendance"]}.',
            ) from None
    if name == "parent_not_in_paid_work_group":
        return raw
    return [part.strip() for part in raw.split(",") if part.strip()]


@functools.cache
def load_default_rules() -> RiskRules:
    """The packaged default rules (resources/risk_rules.json), validated."""
    data = _default_dict()
    missing = sorted(_FILE_KEYS - set(data))
    if missing:
        raise RuleError(f"The default rules file lacks {', '.join(missing)}: reinstall the tool.")
    return RiskRules.from_dict(data)
