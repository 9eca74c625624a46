"""Fixtures for the importer tests: a minimal valid eduHub school written to a temp folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # --import-mode=importlib: make the fixture builder importable
    sys.path.insert(0, str(HERE))

from eduhub_fixture import School, minimal_school  # noqa: E402


@pytest.fixture
def school() -> School:
    return minimal_school()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "eduhub"
    path.mkdir()
    return path
