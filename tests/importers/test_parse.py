"""Low-level parsing: dates, codes, line numbers, and the package's import boundary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from importers import _files, _parse


def _dates(values: list[str]) -> tuple[list[object], list[bool]]:
    parsed = _parse.parse_dates(pd.Series(values, dtype=object))
    return [
        None if pd.isna(v) else pd.Timestamp(v).date().isoformat() for v in parsed.values
    ], list(parsed.bad)


def test_date_formats_and_bad_values() -> None:
    values, bad = _dates(
        [
            "5/02/2019 12:00:00 AM",
            "15/12/2019 11:59:59 PM",
            "05/02/2019",
            "5/2/2019",
            "2019-02-05",
            "2019-02-05T10:00:00",
            "",
            "  ",
            "31/02/2010",
            "02/31/2010",
            "1/01/0001 12:00:00 AM",
            "tomorrow",
        ]
    )
    assert values[:6] == [
        "2019-02-05",
        "2019-12-15",
        "2019-02-05",
        "2019-02-05",
        "2019-02-05",
        "2019-02-05",
    ]
    assert values[6:] == [None] * 6
    assert bad == [False] * 8 + [True] * 4


def test_dates_are_parsed_once_per_distinct_value() -> None:
    series = pd.Series(["5/02/2019 12:00:00 AM", "6/02/2019 12:00:00 AM"] * 50_000, dtype=object)
    parsed = _parse.parse_dates(series)
    assert parsed.values.dtype == np.dtype("datetime64[ns]")
    assert len(parsed.raw_values) == 2
    assert parsed.values[1] == np.datetime64("2019-02-06")


def test_absence_codes() -> None:
    p = _parse.parse_absence(
        pd.Series(["100", " 200 ", "", "0", "201.0", "2O1", "1e99"], dtype=object)
    )
    assert list(p.values) == [100, 200, 0, 0, 201, 0, 0]
    assert list(p.bad) == [False, False, False, False, False, True, True]
    assert p.raw(5) == "2O1"


def test_whole_numbers() -> None:
    p = _parse.parse_int(pd.Series(["7", "", "10", "x", "7.5"], dtype=object))
    assert list(p.values) == [7, None, 10, None, None]
    assert list(p.bad) == [False, False, False, True, True]


def test_text_keeps_codes_and_trims() -> None:
    s = _parse.text(pd.Series([" 07 ", "07A", "NA", "Null", ""], dtype=object))
    assert list(s) == ["07", "07A", "NA", "Null", ""]
    assert all(isinstance(v, str) for v in s)
    c = _parse.text_categorical(pd.Series(["07", "07", "08"], dtype=object))
    assert list(c.categories) == ["07", "08"]


def test_csv_line_map_counts_quoted_newlines_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(
        b'A,B\r\n1,"two\r\nlines"\r\n\r\n2,"say ""hi"", ok"\r\n3,"x\r\ny\r\nz"\r\n4,last'
    )
    lines = _files.CsvLineMap(path.read_bytes).lines(np.arange(4))
    assert list(lines) == [2, 5, 6, 9]
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert list(frame["A"]) == ["1", "2", "3", "4"]  # pandas agrees on the record count


def test_sniff_recognises_file_kinds() -> None:
    assert _files.sniff(b"\xef\xbb\xbfA,B", "x.csv") == "utf-8-sig"
    assert _files.sniff(b"\xff\xfeA\x00", "x.csv") == "utf-16"
    assert _files.sniff(b"A,B\r\n", "x.csv") is None
    for head, words in (
        (b"%PDF-1.4", "PDF"),
        (b"PK\x03\x04rest", "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", ".xls"),
        (b"\x89PNG\r\n", "PNG"),
        (b"A,B\x00\x00", "binary"),
    ):
        with pytest.raises(_files.FileRefused, match=words):
            _files.sniff(head, "x.csv")


def test_package_imports_no_gui_or_database_modules() -> None:
    code = (
        "import sys, importers, importers.eduhub, importers.vass, importers.validation;"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'sqlalchemy', 'alembic', 'sqlcipher3', 'mapping_tool')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
