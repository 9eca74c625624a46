"""Fixtures the service tests share: a small demo eduHub extract, and a fresh copy per test."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from importers.demo import generate_demo_extract

EXTRACT_DATE = date(2026, 9, 18)


@pytest.fixture(scope="module")
def demo_extract(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 students, one school year, made once per test module."""
    folder = tmp_path_factory.mktemp("eduhub") / "eduhub"
    generate_demo_extract(folder, students=60, school_number="8123", extract_date=EXTRACT_DATE, years=1, seed=11)
    return folder


@pytest.fixture
def extract(demo_extract: Path, tmp_path: Path) -> Path:
    """This test's own copy of the demo extract, to edit freely."""
    target = tmp_path / "eduhub"
    shutil.copytree(demo_extract, target)
    return target
