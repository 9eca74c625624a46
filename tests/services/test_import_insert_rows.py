"""The import's bulk insert: many rows to a statement, the same rows as one at a time."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlcipher3.dbapi2 as sqlcipher

from mapping_tool.services import imports

COLUMNS = ("student_key", "date", "am_code", "approved", "score")


def _frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(n)
    return pd.DataFrame({
        "student_key": pd.Categorical([f"KEY{i % 37:04d}" for i in range(n)]),
        "date": pd.to_datetime("2026-02-02") + pd.to_timedelta(np.arange(n) // 37, unit="D"),
        "am_code": rng.choice([0, 100, 111, 200], n),
        "approved": pd.array([None if i % 11 == 0 else "Y" for i in range(n)], dtype="str"),
        "score": [None if i % 7 == 0 else float(i) / 4 for i in range(n)],
    })


def _expected(n: int) -> list[tuple]:  # type: ignore[type-arg]
    """What each row of ``_frame(n)`` must be stored as, written out from how it was made."""
    rng = np.random.default_rng(n)
    codes = rng.choice([0, 100, 111, 200], n)
    return sorted(
        (f"KEY{i % 37:04d}", (date(2026, 2, 2) + timedelta(days=i // 37)).isoformat(), int(codes[i]),
         None if i % 11 == 0 else "Y", "SXAB", None if i % 7 == 0 else float(i) / 4)
        for i in range(n)
    )


def _table(conn) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    return conn.execute("SELECT * FROM t ORDER BY student_key, date").fetchall()


def _types(conn) -> set[tuple]:  # type: ignore[no-untyped-def,type-arg]
    return set(conn.execute("SELECT typeof(student_key), typeof(date), typeof(am_code), typeof(approved), typeof(score) FROM t"))


def _conn():  # type: ignore[no-untyped-def]
    conn = sqlcipher.connect(":memory:")
    conn.execute("PRAGMA key = \"x'" + "cd" * 32 + "'\"")
    # no column types: SQLite keeps each value as it was bound (an integer stays an integer, text stays text)
    conn.execute("CREATE TABLE t (student_key, date, am_code, approved, source, score, PRIMARY KEY (student_key, date)) WITHOUT ROWID")
    return conn


@pytest.mark.parametrize("n", [0, 1, imports.ROWS_PER_INSERT - 1, imports.ROWS_PER_INSERT,
                               3 * imports.ROWS_PER_INSERT + 5])
def test_many_rows_to_a_statement_store_what_one_at_a_time_stores(n: int) -> None:
    frame = _frame(n)
    one, many = _conn(), _conn()
    one.executemany("INSERT INTO t VALUES (?, ?, ?, ?, 'SXAB', ?)", list(imports._rows(frame, COLUMNS)))
    imports._insert_rows(many, "INSERT INTO t (student_key, date, am_code, approved, source, score)",
                         "(?, ?, ?, ?, 'SXAB', ?)", frame, COLUMNS)
    rows = _table(many)
    assert rows == _expected(n)  # ISO dates, whole numbers as integers, NULL for what is missing
    assert rows == _table(one)
    bound = {("text", "text", "integer", t, s) for t in ("text", "null") for s in ("real", "null")}
    assert _types(many) <= bound and _types(many) == _types(one)


def test_a_duplicate_inside_a_statement_is_refused_as_one_at_a_time() -> None:
    frame = _frame(imports.ROWS_PER_INSERT)
    frame.loc[5, "date"] = frame.loc[4, "date"]
    frame.loc[5, "student_key"] = frame.loc[4, "student_key"]
    conn = _conn()
    with pytest.raises(sqlcipher.IntegrityError):
        imports._insert_rows(conn, "INSERT INTO t (student_key, date, am_code, approved, source, score)",
                             "(?, ?, ?, ?, 'SXAB', ?)", frame, COLUMNS)
