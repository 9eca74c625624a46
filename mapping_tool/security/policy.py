"""The access policy: the privacy assessment's table "Levels of Access to data", as data.

The table lives in ``resources/access_policy.json``; every stored field is assigned there to one
of its data items or to a stricter rule. The seed's table is also written below, in code, as the
ceiling: a policy file edited to give any role more than the table allows is refused at start.
The data custodian may narrow a role (need to know) but never widen it past the table.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role

Y, NO, WHEN_REQUESTED = "Y", "", "when requested"
_RANK = {NO: 0, WHEN_REQUESTED: 1, Y: 2}

TABLE_ROLES = ("welfare", "home-group-teacher", "year-level-coordinator", "principal", "agency", "regional-office", "central-office")
ITEMS = (
    "deidentified_data", "student_name", "year_level", "home_group", "unapproved_absences",
    "attendance_rate", "vels_achievement", "occupation_of_parents", "flagged_factors",
)
STRICTER = ("custodian_only", "sensitive_label")

# Derived fields and the data items they are computed from: a role that may not see an input may
# not see what is computed from it. The policy file lists them ("derived"); these are the least
# it must list (a file that drops one is refused like a widened table).
REQUIRED_DERIVED: dict[str, tuple[str, ...]] = {
    "flag_low_attendance": ("attendance_rate",),
    "flag_unapproved_absences": ("unapproved_absences",),
    "flag_suspension": ("unapproved_absences",),
    "flag_below_expected_english": ("vels_achievement",),
    "flag_below_expected_maths": ("vels_achievement",),
    "flag_parent_not_in_paid_work": ("occupation_of_parents",),
    "attendance_rate_change": ("attendance_rate",),
}
# Computed from the flags themselves: shown to a role that may see flagged factors, but counting
# only the flags that role may see (and saying so).
FROM_FLAGS = ("flag_count", "tier", "new_flags")

# The seed's table, transcribed once: (welfare, HG teacher, YL coordinator, principal class,
# agency, regional office, central office).
SEED_TABLE: dict[str, tuple[str, ...]] = {
    "deidentified_data": (Y, Y, Y, Y, Y, Y, Y),
    "student_name": (Y, Y, Y, Y, Y, NO, NO),
    "year_level": (Y, Y, Y, Y, Y, NO, NO),
    "home_group": (Y, Y, Y, Y, NO, NO, NO),
    "unapproved_absences": (Y, Y, Y, Y, WHEN_REQUESTED, NO, NO),
    "attendance_rate": (Y, Y, Y, Y, WHEN_REQUESTED, NO, NO),
    "vels_achievement": (Y, Y, Y, Y, Y, NO, NO),
    "occupation_of_parents": (Y, Y, Y, Y, NO, NO, NO),
    "flagged_factors": (Y, Y, Y, Y, Y, NO, NO),
}


class PolicyError(KnownError):
    exit_code = 6


@dataclass(frozen=True)
class Policy:
    items: dict[str, dict[str, str]]  # item -> role -> value
    titles: dict[str, str]
    fields: dict[str, str]  # field -> item or stricter rule
    role_titles: dict[str, str]
    narrowing: dict[str, frozenset[str]] = field(default_factory=dict)  # role -> items removed
    derived: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(REQUIRED_DERIVED))  # field -> input items

    def ceiling(self, role: str, item: str) -> str:
        return self.items[item].get(role, NO)

    def allows_item(self, role: Role | str, item: str) -> bool:
        role_name = role.value if isinstance(role, Role) else role
        if role_name == Role.CUSTODIAN.value:
            return True
        if item == "custodian_only":
            return False
        if item == "sensitive_label":
            return role_name in (Role.PRINCIPAL.value, Role.WELFARE.value)
        if item in self.narrowing.get(role_name, frozenset()):
            return False
        return self.items[item].get(role_name, NO) == Y

    def allows_field(self, role: Role | str, field_name: str) -> bool:
        """The field's own item, and every item a derived field is computed from."""
        item = self.fields.get(field_name)
        if item is None or not self.allows_item(role, item):
            return False
        return all(self.allows_item(role, i) for i in self.derived.get(field_name, ()))

    def allowed_fields(self, role: Role | str) -> frozenset[str]:
        return frozenset(f for f in self.fields if self.allows_field(role, f))

    def hidden_by_inputs(self, role: Role | str) -> tuple[str, ...]:
        """Derived fields whose own item the role may see but one of whose inputs it may not."""
        return tuple(
            f for f in self.derived
            if f in self.fields and self.allows_item(role, self.fields[f]) and not self.allows_field(role, f)
        )

    def item_of(self, field_name: str) -> str:
        return self.fields[field_name]

    def with_narrowing(self, narrowing: dict[str, frozenset[str]]) -> Policy:
        return Policy(self.items, self.titles, self.fields, self.role_titles, dict(narrowing), dict(self.derived))


def _validate(data: Any, source: str) -> Policy:
    def fail(why: str) -> PolicyError:
        return PolicyError(f"The access policy file {source} {why}. The tool will not start until it is restored.")

    if not isinstance(data, dict) or data.get("format") != "student-mapping-tool/access-policy":
        raise fail("is not an access policy")
    items_in = data.get("items")
    if not isinstance(items_in, dict) or set(items_in) != set(ITEMS):
        raise fail("does not list exactly the data items of the privacy assessment's table")
    items: dict[str, dict[str, str]] = {}
    titles: dict[str, str] = {}
    for item in ITEMS:
        access = items_in[item].get("access", {})
        if set(access) != set(TABLE_ROLES):
            raise fail(f"does not give every role a value for '{item}'")
        for role, ceiling in zip(TABLE_ROLES, SEED_TABLE[item], strict=True):
            value = access[role]
            if value not in _RANK:
                raise fail(f"has an unknown value '{value}' for '{item}'")
            if _RANK[value] > _RANK[ceiling]:
                raise fail(f"gives the role '{role}' more access to '{item}' than the privacy assessment allows")
        items[item] = dict(access)
        titles[item] = str(items_in[item].get("title", item))
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        raise fail("assigns no stored fields to data items")
    for name, item in fields.items():
        if item not in ITEMS and item not in STRICTER:
            raise fail(f"assigns the field '{name}' to an unknown item '{item}'")
    derived_in = data.get("derived")
    if not isinstance(derived_in, dict):
        raise fail("does not say which data items the derived fields (flags, counts) are computed from")
    derived: dict[str, tuple[str, ...]] = {}
    for name, inputs in derived_in.items():
        if name not in fields or not isinstance(inputs, list) or any(i not in ITEMS for i in inputs):
            raise fail(f"lists the derived field '{name}' with unknown inputs")
        derived[name] = tuple(inputs)
    for name, inputs in REQUIRED_DERIVED.items():
        if not set(inputs) <= set(derived.get(name, ())):
            raise fail(f"lets '{name}' be seen without its inputs ({', '.join(inputs)})")
    return Policy(
        items=items, titles=titles, fields=dict(fields), role_titles=dict(data.get("roles", {})), derived=derived
    )


def parse_policy(text: str, source: str = "access_policy.json") -> Policy:
    try:
        data = json.loads(text)
    except ValueError:
        raise PolicyError(f"The access policy file {source} is damaged. The tool will not start until it is restored.") from None
    return _validate(data, source)


@lru_cache(maxsize=1)
def load_policy() -> Policy:
    """The shipped policy, checked against the seed's table (cached; raises PolicyError)."""
    text = resources.files("resources").joinpath("access_policy.json").read_text("utf-8")
    return parse_policy(text)
