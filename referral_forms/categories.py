"""The categories of information of the referral template (privacy assessment, Attachment 3,
section 3), written as the command line writes them, with the words the form prints."""

from __future__ import annotations

from collections.abc import Iterable

from referral_forms.errors import DisclosureRefused, ReferralFormError

CATEGORIES: tuple[str, ...] = (
    "student_name", "year_level", "unapproved_absences", "attendance_rate", "suspensions",
    "school_report", "literacy", "numeracy", "disability_status", "risk_alert", "medical_alert", "other",
)
# As the template prints them (Attachment 3, section 3).
TITLES: dict[str, str] = {
    "student_name": "Student Name",
    "year_level": "Year Level",
    "unapproved_absences": "Unapproved absences",
    "attendance_rate": "Attendance Rate",
    "suspensions": "Number of Suspensions",
    "school_report": "School Report",
    "literacy": "Literacy",
    "numeracy": "Numeracy",
    "disability_status": "Disability status",
    "risk_alert": "Risk Alert",
    "medical_alert": "Medical Alert",
    "other": "Other",
}
# The access table's Agency column: only "when requested" (the request is recorded).
ON_REQUEST: tuple[str, ...] = ("unapproved_absences", "attendance_rate")
# The access table's Agency column: never (whatever the consent says).
NEVER: dict[str, str] = {
    "home_group": "Home group",
    "occupation_of_parents": "Parents' occupation",
}
_NEVER_ALIASES = {
    "home_group": "home_group", "homegroup": "home_group", "house": "home_group",
    "occupation_of_parents": "occupation_of_parents", "parents_occupation": "occupation_of_parents",
    "parent_occupation": "occupation_of_parents", "parent_occupation_group": "occupation_of_parents",
    "parents_occupation_group": "occupation_of_parents", "family_occupation": "occupation_of_parents",
}
_BLANKET = {"all", "everything", "any", "*"}


def _normal(word: str) -> str:
    return word.strip().lower().replace("-", "_").replace(" ", "_").replace("'", "")


def parse_categories(text: str | Iterable[str], *, what: str = "categories") -> tuple[str, ...]:
    """Categories from a comma-separated list (or an iterable), in the template's order.

    Refuses an empty list, an unknown word, a blanket word ("all"), and home group or parents'
    occupation (never disclosed to an agency)."""
    words = text.split(",") if isinstance(text, str) else list(text)
    found: set[str] = set()
    for raw in words:
        word = _normal(raw)
        if not word:
            continue
        if word in _BLANKET:
            raise DisclosureRefused(
                f"Consent and referrals name each category of information; '{raw.strip()}' is not specific."
            )
        if word in _NEVER_ALIASES:
            title = NEVER[_NEVER_ALIASES[word]]
            raise DisclosureRefused(
                f"{title} is never disclosed to an agency (privacy assessment, levels of access)."
            )
        if word not in CATEGORIES:
            raise ReferralFormError(
                f"Unknown category '{raw.strip()}'. Use: {', '.join(CATEGORIES)}."
            )
        found.add(word)
    if not found:
        raise ReferralFormError(f"Name at least one of the {what}: {', '.join(CATEGORIES)}.")
    return tuple(c for c in CATEGORIES if c in found)


def join(categories: Iterable[str]) -> str:
    """The stored and exported form: comma-separated, in the template's order."""
    wanted = set(categories)
    return ",".join(c for c in CATEGORIES if c in wanted)


def split(text: str) -> tuple[str, ...]:
    """Stored text back to a tuple (no checks: stored values were checked when written)."""
    return tuple(c for c in (w.strip() for w in text.split(",")) if c)


def titles(categories: Iterable[str]) -> str:
    return ", ".join(TITLES[c] for c in categories)
