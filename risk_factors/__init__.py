"""risk_factors domain package: pure Python and pandas (no Qt, no SQLAlchemy, no mapping_tool).

Issue 5's measures and yes/no flags as pure functions over the importer's canonical frames:

* :func:`load_default_rules` / :class:`RiskRules`: the flag rules as validated, immutable data
  (``resources/risk_rules.json``); ``with_change`` gives a new validated set per change.
* :func:`compute_measures` -> :class:`MeasureResult` (``.frame`` one row per student in the
  population, ``.unknown_codes``, ``.findings``, ``.marked_from_calendar``).
* :func:`compute_flags`: the six flags, the status characteristics as context, the staff-recorded
  relationships concern, ``flag_count``, ``tier`` (none / monitor / priority), ``new_flags`` and
  the change of each measure since the previous snapshot.
* :func:`explain`: one sentence per flag that is yes.

Nothing here stores data, logs student data, or returns status-characteristic detail beyond
yes/no.
"""

from typing import TYPE_CHECKING, Any

from risk_factors.errors import InputError, RiskFactorError, RuleError
from risk_factors.rules import (
    CHARACTERISTICS,
    COUNTABLE,
    FLAG_COLUMNS,
    MEASURE_SETTINGS,
    SETTING_LABELS,
    SETTING_NAMES,
    RiskRules,
    load_default_rules,
    parse_setting,
)

if TYPE_CHECKING:
    from risk_factors.flags import (
        CHARACTERISTIC_LABELS,
        TIERS,
        TREND_MEASURES,
        compute_flags,
        explain,
        flag_frame_columns,
    )
    from risk_factors.measures import (
        MeasureFinding,
        MeasureResult,
        compute_measures,
        measure_columns,
    )

#: The parts that need pandas load on first use, so a command that only reads or changes the
#: rules (``mapping-tool rules show``) does not pay for importing pandas.
_LAZY = {
    "CHARACTERISTIC_LABELS": "risk_factors.flags",
    "TIERS": "risk_factors.flags",
    "TREND_MEASURES": "risk_factors.flags",
    "compute_flags": "risk_factors.flags",
    "explain": "risk_factors.flags",
    "flag_frame_columns": "risk_factors.flags",
    "MeasureFinding": "risk_factors.measures",
    "MeasureResult": "risk_factors.measures",
    "compute_measures": "risk_factors.measures",
    "measure_columns": "risk_factors.measures",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'risk_factors' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "CHARACTERISTICS",
    "CHARACTERISTIC_LABELS",
    "COUNTABLE",
    "FLAG_COLUMNS",
    "InputError",
    "MEASURE_SETTINGS",
    "MeasureFinding",
    "MeasureResult",
    "RiskFactorError",
    "RiskRules",
    "RuleError",
    "SETTING_LABELS",
    "SETTING_NAMES",
    "TIERS",
    "TREND_MEASURES",
    "compute_flags",
    "compute_measures",
    "explain",
    "flag_frame_columns",
    "load_default_rules",
    "measure_columns",
    "parse_setting",
]
