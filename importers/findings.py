"""Findings: the errors (blocking) and warnings (data-quality report) of an import.

A finding names the file, the line (header = line 1; for a workbook, the sheet row) and
the column, and says what is wrong in one sentence. It never carries a student's name or
any value of a column outside the whitelist; short code values (a year level, an
unreadable date, a student key) are allowed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

__all__ = ["Finding", "FindingCollector", "Level", "MAX_LISTED"]

Level = Literal["error", "warning"]

#: How many findings of one code are listed per file before they are summarised.
MAX_LISTED: dict[Level, int] = {"error": 50, "warning": 500}


@dataclass(frozen=True)
class Finding:
    level: Level
    code: str
    file: str
    row: int | None
    column: str | None
    message: str

    @property
    def is_error(self) -> bool:
        return self.level == "error"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def where(file: str, row: int | None) -> str:
    """'Line 17 of ST_8123.csv' or 'ST_8123.csv'."""
    if not file:
        return "The extract"
    if row is None:
        return file
    return f"Line {row} of {file}"


class FindingCollector:
    """Collects findings, listing at most MAX_LISTED of one (code, file) and summarising the rest."""

    def __init__(self) -> None:
        self._findings: list[Finding] = []
        self._listed: Counter[tuple[str, str]] = Counter()
        self._suppressed: Counter[tuple[str, str]] = Counter()
        self._levels: dict[tuple[str, str], Level] = {}

    def add(
        self,
        level: Level,
        code: str,
        file: str,
        row: int | None,
        column: str | None,
        message: str,
        *,
        capped: bool = True,
    ) -> None:
        key = (code, file)
        self._levels[key] = level
        if capped and self._listed[key] >= MAX_LISTED[level]:
            self._suppressed[key] += 1
            return
        self._listed[key] += 1
        self._findings.append(Finding(level, code, file, row, column, message))

    def add_rows(
        self,
        level: Level,
        code: str,
        file: str,
        lines: Sequence[int | None] | np.ndarray,
        column: str | None,
        messages: Callable[[int], str],
        total: int | None = None,
    ) -> None:
        """Add one finding per listed row; ``messages(i)`` builds the sentence of row i.

        ``lines`` holds the line numbers of the rows to list (already cut to the cap by the
        caller when that saves work); ``total`` is how many rows have the problem in all.
        """
        n = len(lines)
        for i in range(n):
            line = lines[i]
            self.add(level, code, file, None if line is None else int(line), column, messages(i))
        extra = (total if total is not None else n) - n
        if extra > 0:
            key = (code, file)
            self._levels[key] = level
            self._suppressed[key] += extra

    def room(self, level: Level, code: str, file: str) -> int:
        """How many more findings of this (code, file) would still be listed."""
        return max(0, MAX_LISTED[level] - self._listed[(code, file)])

    def extend(self, findings: Iterable[Finding]) -> None:
        for f in findings:
            self.add(f.level, f.code, f.file, f.row, f.column, f.message)

    def result(self) -> tuple[Finding, ...]:
        """Errors first, then warnings; rows of one (code, file) together, their summary last."""
        group: dict[tuple[str, str], int] = {}
        keyed: list[tuple[int, int, int, Finding]] = []
        for f in self._findings:
            g = group.setdefault((f.code, f.file), len(group))
            keyed.append((0 if f.level == "error" else 1, g, 0, f))
        for (code, file), count in self._suppressed.items():
            level = self._levels[(code, file)]
            g = group.setdefault((code, file), len(group))
            place = f" in {file}" if file else ""
            summary = Finding(
                level,
                code,
                file,
                None,
                None,
                f"… and {_plural(count, 'more row')} like this{place}.",
            )
            keyed.append((0 if level == "error" else 1, g, 1, summary))
        keyed.sort(key=lambda k: k[:3])
        return tuple(k[3] for k in keyed)

    @property
    def has_errors(self) -> bool:
        return any(f.level == "error" for f in self._findings) or any(
            self._levels[k] == "error" for k in self._suppressed
        )
