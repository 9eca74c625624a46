"""Errors of the interventions package, worded for school staff (one sentence each)."""

from __future__ import annotations

__all__ = ["CatalogueError", "InterventionError", "MappingFileError"]


class InterventionError(Exception):
    """Base class: the message is one sentence a school user can read."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class CatalogueError(InterventionError):
    """A programme's field is missing, unknown or out of range."""


class MappingFileError(InterventionError):
    """A bulk mappings file cannot be read as long or grid form."""
