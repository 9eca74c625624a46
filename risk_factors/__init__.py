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

from risk_factors.errors import InputError, RiskFactorError, RuleError
from risk_factors.flags import (
    CHARACTERISTIC_LABELS,
    TIERS,
    TREND_MEASURES,
    compute_flags,
    explain,
    flag_frame_columns,
)
from risk_factors.measures import MeasureFinding, MeasureResult, compute_measures, measure_columns
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
