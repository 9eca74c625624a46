"""Errors of the risk_factors package, worded for a school data custodian.

Data-quality problems in an extract are not raised: they come back as findings of
:func:`risk_factors.compute_measures`. These exceptions are for rules that cannot be used and
for inputs that do not have the columns the calculation needs.
"""

from __future__ import annotations

__all__ = ["InputError", "RiskFactorError", "RuleError"]


class RiskFactorError(Exception):
    """Base class: the message is one or two sentences a school user can read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RuleError(RiskFactorError):
    """A rule setting is unknown, of the wrong kind, or out of range."""

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        #: the setting the message is about (None for the rules as a whole)
        self.setting = setting


class InputError(RiskFactorError):
    """A table handed to the calculation lacks a column it needs (a programming error upstream,
    reported readably rather than as a KeyError)."""
