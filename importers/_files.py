"""Reading one table file safely: sniffing, encodings, CSV and workbook input, line numbers.

Only the columns asked for are kept: the CSV reader hands pandas ``usecols`` and the
workbook reader drops other cells as it goes. Nothing here knows about eduHub semantics.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import logging
import re
import warnings
import zipfile
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from importers.errors import ExtractError, FileRefused

__all__ = [
    "FileFacts",
    "LineMap",
    "TableRead",
    "XLSX_MAX_BYTES",
    "XLSX_MAX_ENTRIES",
    "XLSX_MAX_RATIO",
    "XLSX_MAX_UNCOMPRESSED",
    "CsvColumns",
    "check_workbook_zip",
    "first_record",
    "normalise_header",
    "open_workbook",
    "read_csv_columns",
    "read_csv_table",
    "read_sheet",
    "scan_file",
    "sniff",
]

logger = logging.getLogger(__name__)

XLSX_MAX_BYTES = 50 * 1024 * 1024
XLSX_MAX_UNCOMPRESSED = 500 * 1024 * 1024
XLSX_MAX_RATIO = 100
XLSX_MAX_ENTRIES = 1000
#: Entries smaller than this cannot be a bomb whatever their ratio (a few KiB of repeated
#: style XML easily compresses 100:1); the ratio rule applies above it.
XLSX_RATIO_MIN_SIZE = 1024 * 1024

_CHUNK = 1 << 20
#: Hashing reads this much at a time: big enough that the worker thread seldom waits to get
#: the GIL back from the pandas parse (every wait can cost a 5 ms switch interval).
_HASH_CHUNK = 8 << 20
_HEAD = 1 << 16

_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"PK\x03\x04", "a zip archive or Excel workbook"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old-format (.xls) or password-protected Excel file"),
    (b"\x1f\x8b", "a compressed (gzip) file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
)


@dataclass(frozen=True)
class FileFacts:
    size: int
    sha256: str
    mtime: float
    has_nul: bool
    is_ascii: bool
    valid_utf8: bool


def scan_file(path: Path) -> FileFacts:
    """Hash the file and note NUL bytes, pure ASCII and UTF-8 validity in one streaming pass.

    Runs in a worker thread beside the pandas parse (hashlib and the C tokenizer both
    release the GIL), so hashing a 150 MB attendance file costs almost no wall time.
    """
    digest = hashlib.sha256()
    has_nul = False
    is_ascii = True
    valid_utf8 = True
    decoder = codecs.getincrementaldecoder("utf-8")()
    st = path.stat()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
            if not has_nul and b"\x00" in chunk:
                has_nul = True
            chunk_ascii = chunk.isascii()
            if not chunk_ascii:
                is_ascii = False
            if valid_utf8 and (not chunk_ascii or decoder.getstate()[0]):
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    valid_utf8 = False
        if valid_utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                valid_utf8 = False
    return FileFacts(st.st_size, digest.hexdigest(), st.st_mtime, has_nul, is_ascii, valid_utf8)


def _looks_like(head: bytes) -> str | None:
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return what
    return None


def sniff(head: bytes, name: str) -> str | None:
    """Refuse what is clearly not a text table; return the encoding a BOM names, if any."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    what = _looks_like(head)
    if what is not None:
        raise FileRefused(
            "not_a_table_file",
            f"{name} is not a CSV file: it is {what}. Export the table from CASES21 again "
            "(or save it as .xlsx if it is a workbook).",
        )
    if b"\x00" in head:
        raise FileRefused(
            "not_a_table_file",
            f"{name} is not a CSV file: it holds binary data. Export the table from CASES21 again.",
        )
    return None


def normalise_header(name: object) -> str:
    """Header names are matched trimmed and upper-cased (a BOM or quotes around them are dropped)."""
    return str(name).replace("\ufeff", "").strip().strip('"').strip().upper()


class LineMap(Protocol):
    def lines(self, records: np.ndarray) -> np.ndarray:
        """Line numbers (header = line 1) of the given 0-based data records."""
        ...


class RowLineMap:
    """Workbook rows: the sheet row number of every data record, known as the sheet is read."""

    def __init__(self, rows: np.ndarray) -> None:
        self._rows = rows

    def lines(self, records: np.ndarray) -> np.ndarray:
        return self._rows[np.asarray(records, dtype=np.int64)]


class CsvLineMap:
    """Physical line where each CSV record starts, found lazily (only when a finding needs it).

    A newline ends a record only outside quotes, i.e. where the number of quote bytes before
    it is even (an escaped ``""`` adds two). Blank lines are skipped, as pandas skips them.
    """

    def __init__(self, load: Callable[[], bytes], *, header: bool = True) -> None:
        self._load = load
        self._header = header
        self._data_lines: np.ndarray | None = None

    def _compute(self) -> np.ndarray:
        data = self._load()
        n = len(data)
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        newline = 10 if b"\n" in data else 13
        nl_parts: list[np.ndarray] = []
        q_parts: list[np.ndarray] = []
        buf = np.frombuffer(data, dtype=np.uint8)
        step = 16 * _CHUNK
        for start in range(0, n, step):
            part = buf[start : start + step]
            nl_parts.append(np.flatnonzero(part == newline) + start)
            q_parts.append(np.flatnonzero(part == 34) + start)
        nl = np.concatenate(nl_parts)
        quotes = np.concatenate(q_parts)
        before = np.searchsorted(quotes, nl)  # quotes strictly before each newline
        ends = nl[(before & 1) == 0]
        starts = np.concatenate(([0], ends + 1))
        starts = starts[starts < n]
        first = buf[starts]
        blank = first == newline
        if newline == 10:
            cr = first == 13
            nxt = np.minimum(starts + 1, n - 1)
            blank |= cr & ((starts + 1 >= n) | (buf[nxt] == 10))
        starts = starts[~blank]
        lines = np.searchsorted(nl, starts) + 1  # newlines before the start, plus one
        if self._header:
            lines = lines[1:]  # the first non-blank record is the header
        return lines.astype(np.int64)

    def lines(self, records: np.ndarray) -> np.ndarray:
        if self._data_lines is None:
            self._data_lines = self._compute()
        records = np.asarray(records, dtype=np.int64)
        out = np.zeros(len(records), dtype=np.int64)
        ok = records < len(self._data_lines)
        out[ok] = self._data_lines[records[ok]]
        return out


@dataclass
class TableRead:
    """One table as read from one file: the wanted columns only, as text."""

    name: str
    path: Path
    table: str
    #: wanted columns present in the file, named by their normalised header; str (object for
    #: the large tables)
    frame: pd.DataFrame
    #: normalised names of every column in the file's header (names only, no values)
    header: tuple[str, ...]
    encoding: str
    facts: FileFacts
    lines: LineMap
    source_kind: Literal["csv", "xlsx"]
    sheet: str | None = None
    #: data rows read (kept when ``frame`` is freed after normalising)
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.rows = len(self.frame)


def _delimiter(first_line: str) -> str:
    if "," in first_line:
        return ","
    counts = {d: first_line.count(d) for d in ("\t", ";", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


_PANDAS_LINE = re.compile(r"line (\d+)|row (\d+)")


def _values_ascii(frame: pd.DataFrame) -> bool:
    for col in frame.columns:
        s = frame[col]
        values = s.cat.categories if isinstance(s.dtype, pd.CategoricalDtype) else s.unique()
        if not "".join(str(v) for v in values).isascii():
            return False
    return True


def first_record(
    path: Path, name: str, sep: str | None = None
) -> tuple[list[str], str, str | None]:
    """(first non-blank record, delimiter, BOM encoding): sniffs the file and refuses non-text."""
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    bom = sniff(head, name)
    text = head.decode("utf-8" if bom in (None, "utf-8-sig") else bom, errors="replace")
    text = text.lstrip("\ufeff")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return [], sep or ",", bom
    delim = sep or _delimiter(lines[0])
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delim):
        if row and any(cell.strip() for cell in row):
            return row, delim, bom
    return [], delim, bom


@dataclass
class CsvColumns:
    frame: pd.DataFrame
    encoding: str
    facts: FileFacts
    lines: CsvLineMap


def _binary(name: str) -> FileRefused:
    return FileRefused(
        "not_a_table_file",
        f"{name} is not a CSV file: it holds binary data. Export the table from CASES21 again.",
    )


def read_csv_columns(
    path: Path,
    name: str,
    positions: Sequence[int],
    *,
    sep: str,
    bom: str | None,
    header: bool,
    categories: Collection[int] = (),
    executor: Executor | None = None,
) -> CsvColumns:
    """Read the columns at ``positions`` as text (``keep_default_na=False``), nothing else.

    Columns at ``categories`` are read as pandas categoricals: far cheaper for repetitive
    columns (no Python string per cell), but pandas 3 infers the categories' type ("100" ->
    100), so this is only for columns whose text is re-read by value (dates, absence codes,
    Y/N flags), never for keys, year levels or scores.

    The file is hashed in ``executor`` while pandas parses it. Without a BOM the parse
    first tries UTF-8 (the fast path; plain ASCII is the same in Windows-1252) and falls back
    to Windows-1252 when the kept columns are not UTF-8. Raises FileRefused.
    """
    future = executor.submit(scan_file, path) if executor is not None else None
    positions = sorted(positions)
    cats = set(categories) & set(positions)

    def parse(encoding: str, errors: str = "strict") -> pd.DataFrame:
        if not positions:
            return pd.DataFrame(index=pd.RangeIndex(0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pd.errors.ParserWarning)
            return pd.read_csv(
                path,
                sep=sep,
                header=0 if header else None,
                usecols=positions,
                # Every cell stays the exact text of the file: object holds the same Python
                # strings as dtype=str (no inference, and with na_filter off no NA at all:
                # "NA" and "Null" are names) without pandas 3's extra pass over every string
                # (0.5 s per million rows). "category" only where inference is harmless.
                dtype=(
                    {p: ("category" if p in cats else np.dtype(object)) for p in positions}
                    if cats
                    else object
                ),
                keep_default_na=False,
                na_filter=False,
                index_col=False,
                encoding="utf-8" if encoding == "utf-8-sig" else encoding,
                encoding_errors=errors,
                engine="c",
                skip_blank_lines=True,
            )

    def facts_now() -> FileFacts:
        return future.result() if future is not None else scan_file(path)

    used = bom or "utf-8"
    try:
        try:
            frame = parse(used)
        except UnicodeDecodeError:
            if bom is not None:
                raise FileRefused(
                    "unreadable_file",
                    f"{name} starts with a {bom} byte-order mark but is not valid {bom} text.",
                ) from None
            used = "cp1252"
            frame = parse(used, "replace")
    except pd.errors.EmptyDataError:
        facts_now()
        raise FileRefused("unreadable_file", f"{name} is empty: it has no header row.") from None
    except pd.errors.ParserError as exc:
        if facts_now().has_nul and bom != "utf-16":
            raise _binary(name) from None
        found = _PANDAS_LINE.search(str(exc))
        line = int(next(g for g in found.groups() if g)) if found else None
        detail = "a quoted field is never closed" if "EOF" in str(exc) else "a row is malformed"
        raise FileRefused(
            "unreadable_file",
            f"{name} cannot be read as CSV: {detail}"
            + (f" (near line {line})." if line else ".")
            + " Export the table from CASES21 again.",
            row=line,
        ) from None
    facts = facts_now()
    if facts.has_nul and bom != "utf-16":
        raise _binary(name)
    if bom is not None:
        label = bom
    elif used == "cp1252" or facts.is_ascii:
        label = "cp1252"  # plain ASCII reads the same either way; Windows-1252 is the default
    elif facts.valid_utf8:
        label = "utf-8"  # UTF-8 without a BOM: valid UTF-8 with accents is not Windows-1252 text
    else:
        label = "cp1252"
        if not _values_ascii(frame):
            frame = parse("cp1252", "replace")
    if bom == "utf-16":

        def load() -> bytes:
            return path.read_bytes().decode("utf-16").encode("utf-8")

    else:

        def load() -> bytes:
            return path.read_bytes()

    return CsvColumns(frame, label, facts, CsvLineMap(load, header=header))


def read_csv_table(
    path: Path,
    table: str,
    wanted: Sequence[str],
    *,
    categorical: Collection[str] = (),
    executor: Executor | None = None,
    sep: str | None = None,
    name: str | None = None,
) -> TableRead:
    """Read the wanted columns (by header name) of one CSV table file. Raises FileRefused."""
    name = name or path.name
    first, delim, bom = first_record(path, name, sep)
    header = [normalise_header(c) for c in first]
    if not header:
        raise FileRefused("unreadable_file", f"{name} is empty: it has no header row.")
    wanted_set = set(wanted)
    positions: list[int] = []
    names: list[str] = []
    for pos, col in enumerate(header):
        if col in wanted_set and col not in names:
            positions.append(pos)
            names.append(col)
    got = read_csv_columns(
        path,
        name,
        positions,
        sep=delim,
        bom=bom,
        header=True,
        categories=[p for p in positions if header[p] in set(categorical)],
        executor=executor,
    )
    frame = got.frame
    frame.columns = [header[p] for p in sorted(positions)]
    logger.debug(
        "Read %s: %d rows, %d of %d columns kept", name, len(frame), len(names), len(header)
    )
    return TableRead(
        name=name,
        path=path,
        table=table,
        frame=frame,
        header=tuple(header),
        encoding=got.encoding,
        facts=got.facts,
        lines=got.lines,
        source_kind="csv",
    )


# ---------------------------------------------------------------------------------------------
# Workbooks


def check_workbook_zip(path: Path, name: str) -> None:
    """Refuse a workbook before any XML is parsed: size, entry count, ratios, entry paths."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(8)
    if not head.startswith(b"PK"):
        what = _looks_like(head)
        if what is None:
            what = "a text file" if b"\x00" not in head else "binary data"
        raise FileRefused("not_a_table_file", f"{name} is not an Excel workbook: it is {what}.")
    if size > XLSX_MAX_BYTES:
        raise FileRefused(
            "unsafe_workbook",
            f"{name} was refused: it is {size / 1048576:.0f} MB, more than the "
            f"{XLSX_MAX_BYTES // 1048576} MB allowed for a workbook. Use the CSV files instead.",
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(
            "not_a_table_file", f"{name} is not a readable Excel workbook: the file is damaged."
        ) from None
    if len(infos) > XLSX_MAX_ENTRIES:
        raise FileRefused(
            "unsafe_workbook",
            f"{name} was refused: it holds {len(infos):,} parts, more than the {XLSX_MAX_ENTRIES:,} "
            "a workbook may have.",
        )
    total = 0
    names = set()
    for info in infos:
        entry = info.filename.replace("\\", "/")
        names.add(entry.lower())
        parts = PurePosixPath(entry).parts
        if entry.startswith("/") or re.match(r"^[A-Za-z]:", entry) or ".." in parts:
            raise FileRefused(
                "unsafe_workbook",
                f"{name} was refused: it holds a part with an unsafe path.",
            )
        if info.flag_bits & 0x1:
            raise FileRefused(
                "unsafe_workbook",
                f"{name} was refused: it is encrypted. Save it without a password.",
            )
        total += info.file_size
        if info.file_size > XLSX_RATIO_MIN_SIZE and info.file_size > XLSX_MAX_RATIO * max(
            info.compress_size, 1
        ):
            raise FileRefused(
                "unsafe_workbook",
                f"{name} was refused: one of its parts expands more than {XLSX_MAX_RATIO} times "
                "when unpacked (a 'zip bomb').",
            )
    if total > XLSX_MAX_UNCOMPRESSED:
        raise FileRefused(
            "unsafe_workbook",
            f"{name} was refused: it would unpack to {total / 1048576:,.0f} MB, more than the "
            f"{XLSX_MAX_UNCOMPRESSED // 1048576} MB allowed.",
        )
    if "xl/workbook.xml" not in names or "[content_types].xml" not in names:
        raise FileRefused(
            "not_a_table_file", f"{name} is a zip archive but not an Excel (.xlsx) workbook."
        )


def open_workbook(path: Path, name: str) -> Any:
    """Open a workbook read-only after the zip pre-check; defusedxml must be active."""
    import openpyxl
    import openpyxl.xml

    if not openpyxl.xml.DEFUSEDXML:  # a plain check, not assert: it must hold under -O too
        raise ExtractError(
            "Workbooks cannot be read safely on this computer (the defusedxml package is missing)."
        )
    check_workbook_zip(path, name)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for damaged files
        logger.info("Workbook %s could not be opened: %s", name, type(exc).__name__)
        raise FileRefused(
            "not_a_table_file", f"{name} is not a readable Excel workbook: the file is damaged."
        ) from None


_EXCEL_EPOCH = dt.date(1899, 12, 30)


def cell_text(value: object, kind: str) -> str:
    """A typed workbook cell as the text the CSV would hold, by the column's rule."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if kind == "date" else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, (int, float)) and kind == "date":
        number = float(value)
        if 1 <= number < 2958466:  # an Excel serial day number left unformatted
            return (_EXCEL_EPOCH + dt.timedelta(days=int(number))).isoformat()
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    return str(value)


def read_sheet(
    ws: Any,
    *,
    name: str,
    table: str,
    wanted: Sequence[str],
    kinds: Mapping[str, str],
    categorical: bool,
    check: Callable[[], None] | None = None,
) -> tuple[pd.DataFrame, tuple[str, ...], np.ndarray]:
    """Read the wanted columns of one worksheet; returns (frame, header, sheet row numbers)."""
    rows = ws.iter_rows(values_only=True)
    header: list[str] = []
    row_no = 0
    for values in rows:
        row_no += 1
        if values and any(v is not None and str(v).strip() for v in values):
            header = [normalise_header(v) if v is not None else "" for v in values]
            break
    if not header:
        raise FileRefused("unreadable_file", f"{name}: the {table} sheet is empty (no header row).")
    wanted_set = set(wanted)
    picks: list[tuple[int, str]] = []
    for pos, col in enumerate(header):
        if col in wanted_set and col not in [c for _, c in picks]:
            picks.append((pos, col))
    columns: dict[str, list[str]] = {col: [] for _, col in picks}
    row_numbers: list[int] = []
    for values in rows:
        row_no += 1
        if row_no % 5000 == 0 and check is not None:
            check()
        if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        row_numbers.append(row_no)
        width = len(values)
        for pos, col in picks:
            columns[col].append(cell_text(values[pos] if pos < width else None, kinds[col]))
    frame = pd.DataFrame(
        {col: pd.Series(vals, dtype=object) for col, vals in columns.items()},
        index=pd.RangeIndex(len(row_numbers)),
    )
    return frame, tuple(header), np.asarray(row_numbers, dtype=np.int64)
