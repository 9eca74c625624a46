"""Errors of the importers package, worded for a school data custodian.

Validation problems in the data itself are not raised: they come back as findings
(see :mod:`importers.findings`). These exceptions are for the cases where nothing
sensible can be read at all, for cancellation, and for callers that want to stop on
blocking findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importers.findings import Finding

__all__ = ["ExtractError", "ImportCancelled", "ValidationFailed", "FileRefused"]


class ExtractError(Exception):
    """Base class: the message is one or two sentences a school user can read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ImportCancelled(ExtractError):
    """The user pressed Cancel; nothing was imported."""

    def __init__(self, message: str = "The import was cancelled. Nothing was changed.") -> None:
        super().__init__(message)


class ValidationFailed(ExtractError):
    """The extract has blocking problems (findings of level "error")."""

    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings: tuple[Finding, ...] = tuple(findings)
        errors = [f for f in self.findings if f.level == "error"]
        count = len(errors)
        noun = "problem" if count == 1 else "problems"
        first = f" The first: {errors[0].message}" if errors else ""
        super().__init__(
            f"The extract cannot be imported: {count} {noun} must be fixed in CASES21 first.{first}"
        )


class FileRefused(ExtractError):
    """One file cannot be read (not a table file, an unsafe workbook, a broken CSV).

    Reported as an error finding for that file rather than raised to the caller.
    """

    def __init__(self, code: str, message: str, *, row: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.row = row
