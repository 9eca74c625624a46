"""Staff roles. The access issue adds each role's data items and scopes from resources/."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    CUSTODIAN = "custodian"
    PRINCIPAL = "principal"
    WELFARE = "welfare"
    YEAR_LEVEL_COORDINATOR = "year-level-coordinator"
    HOME_GROUP_TEACHER = "home-group-teacher"

    @property
    def title(self) -> str:
        return ROLE_TITLES[self]

    @classmethod
    def parse(cls, text: str) -> Role:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(r.value for r in cls)
            from mapping_tool.errors import UsageError

            raise UsageError(f"Unknown role '{text}'. Choose one of: {choices}.") from None


ROLE_TITLES = {
    Role.CUSTODIAN: "Data custodian",
    Role.PRINCIPAL: "Principal class",
    Role.WELFARE: "Careers and transition / welfare",
    Role.YEAR_LEVEL_COORDINATOR: "Year level coordinator",
    Role.HOME_GROUP_TEACHER: "Home group teacher",
}
