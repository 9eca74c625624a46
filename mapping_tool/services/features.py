"""What each feature adds to the views other services build, listed in one place.

The students table gets extra per-student fields from the risk factors; the de-identified summary
gets extra counts from the risk factors and the interventions. Listing them here, rather than
having each feature register itself when its module happens to be imported, keeps the
composition explicit: a new feature adds one line below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

# loader(user, keys) -> {field: [value per key, aligned with keys]}
StudentFieldLoader = Callable[[Any, Sequence[str]], dict[str, list[Any]]]
# counter(user) -> {feature title: {year level: count}}
SummaryCounter = Callable[[Any], dict[str, dict[str, int]]]


def student_fields() -> tuple[tuple[tuple[str, ...], StudentFieldLoader], ...]:
    """(field names, loader) for every feature that adds fields to the students table."""
    from mapping_tool.services import flags

    return ((flags.FIELDS, flags.load_fields),)


def summary_counters() -> tuple[SummaryCounter, ...]:
    """Every feature's extra counts in the de-identified summary (suppressed like the rest)."""
    from mapping_tool.services import flags, interventions

    return (flags.count_by_year, interventions.participant_counts)
