"""The attendance rows keep the record each half-day came from (SXAB or SXABCONV) when the load
writes a source that is the same throughout as a constant in its statement."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import importers
from mapping_tool.services import imports
from tests.services.test_imports import edit_table


def _stored(user) -> dict[tuple[str, str], tuple[str, str]]:  # type: ignore[no-untyped-def]
    with user.store.read() as session:
        conn = session.connection().connection.driver_connection
        return {(k, d): (a, p) for k, d, a, p in conn.execute("SELECT student_key, date, am_source, pm_source FROM attendance")}


def _read(folder: Path) -> dict[tuple[str, str], tuple[str, str]]:
    frame = importers.read_cases21(folder).attendance
    return {
        (str(k), pd.Timestamp(d).date().isoformat()): (str(a), str(p))
        for k, d, a, p in zip(frame["student_key"], frame["date"], frame["am_source"], frame["pm_source"], strict=True)
    }


def test_mixed_sources_are_stored_row_by_row(custodian, extract: Path) -> None:  # type: ignore[no-untyped-def]
    expected = _read(extract)
    assert {a for a, _ in expected.values()} | {p for _, p in expected.values()} == {"SXAB", "SXABCONV"}
    imports.import_cases21(custodian, extract)
    assert _stored(custodian) == expected


def test_a_single_source_is_stored_for_every_row(custodian, extract: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    plain = tmp_path / "no-conv"
    shutil.copytree(extract, plain)
    edit_table(plain, "SXABCONV_8123.csv", lambda rows: [])  # the header only: every half-day from SXAB
    expected = _read(plain)
    assert {v for pair in expected.values() for v in pair} == {"SXAB"}
    imports.import_cases21(custodian, plain)
    stored = _stored(custodian)
    assert stored == expected and len(stored) > 1000


@pytest.mark.parametrize(
    ("values", "categorical", "single"),
    [
        (["SXAB"] * 5, True, "SXAB"),
        (["SXABCONV"] * 3, False, "SXABCONV"),
        (["SXAB", "SXABCONV", "SXAB"], True, None),
        (["SXAB", "SXABCONV"], False, None),
        (["x'); DROP TABLE attendance; --"] * 4, False, None),  # never written into SQL
        (["x'); DROP TABLE attendance; --"] * 4, True, None),
        ([], True, None),
    ],
)
def test_only_a_known_record_name_throughout_is_a_constant(values: list[str], categorical: bool, single: str | None) -> None:
    series = pd.Series(values, dtype="category" if categorical else object)
    assert imports._single_source(series) == single
