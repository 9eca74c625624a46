"""The store's tables for records (tool-owned data: a refresh never touches them)."""

from __future__ import annotations

from mapping_tool.store.models import Base  # noqa: F401
