"""The Qt-free progress protocol that long domain work reports through."""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from importers.errors import ImportCancelled

__all__ = ["Progress", "Stepper"]

logger = logging.getLogger(__name__)


@runtime_checkable
class Progress(Protocol):
    def report(self, fraction: float, text: str) -> None: ...

    def cancelled(self) -> bool: ...


class Stepper:
    """Wraps an optional Progress: reports monotonic fractions and raises ImportCancelled."""

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._last = 0.0

    def check(self) -> None:
        if self._progress is not None and self._progress.cancelled():
            logger.info("Import cancelled by the user")
            raise ImportCancelled()

    def report(self, fraction: float, text: str) -> None:
        self.check()
        fraction = min(1.0, max(self._last, fraction))
        self._last = fraction
        if self._progress is not None:
            self._progress.report(fraction, text)
