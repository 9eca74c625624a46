"""The import's bulk insert: many rows to a statement, the same rows as one at a time."""

from __future__ import annotations

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


def _table(conn) -> list[tuple]:  # type: ignore[no-untyped-def,type-arg]
    return conn.execute("SELECT * FROM t ORDER BY student_key, date").fetchall()


def _conn():  # type: ignore[no-untyped-def]
    conn = sqlcipher.connect(":memory:")
    conn.execute("PRAGMA key = \"x'" + "cd" * 32 + "'\"")
    conn.execute("CREATE TABLE t (student_key TEXT, date TEXT, am_code INTEGER, approved TEXT, source TEXT, score REAL,"
                 " PRIMARY KEY (student_key, date)) WITHOUT ROWID")
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
    assert len(rows) == n
    assert rows == _table(one)
    if n:  # the values as SQLite holds them: ISO dates, Python numbers, NULL for missing
        first = rows[0]
        assert first[1] == "2026-02-02" and isinstance(first[2], int) and first[4] == "SXAB"
        assert sum(r[3] is None for r in rows) == sum(i % 11 == 0 for i in range(n))
        assert [type(r[5]) for r in rows if r[5] is not None] == [float] * sum(i % 7 != 0 for i in range(n))


def test_a_duplicate_inside_a_statement_is_refused_as_one_at_a_time() -> None:
    frame = _frame(imports.ROWS_PER_INSERT)
    frame.loc[5, "date"] = frame.loc[4, "date"]
    frame.loc[5, "student_key"] = frame.loc[4, "student_key"]
    conn = _conn()
    with pytest.raises(sqlcipher.IntegrityError):
        imports._insert_rows(conn, "INSERT INTO t (student_key, date, am_code, approved, source, score)",
                             "(?, ?, ?, ?, 'SXAB', ?)", frame, COLUMNS)
