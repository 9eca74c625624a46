"""What was read: one row per file (and table) for the import snapshot."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SourceFile"]


@dataclass(frozen=True)
class SourceFile:
    #: file name only (no folder), e.g. "ST_8123.csv"
    name: str
    #: bytes
    size: int
    #: hex SHA-256 of the whole file
    sha256: str
    #: data rows read (header excluded)
    rows: int
    #: eduHub table code ("ST"), or "VASS"
    table: str
    #: "cp1252", "utf-8", "utf-8-sig", "utf-16" or "xlsx"
    encoding: str
