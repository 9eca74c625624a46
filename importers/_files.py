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
    "XLSX_MAX_CELLS",
    "XLSX_MAX_ROWS",
    "SheetRead",
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
    #: fields in the header record (0 when the widths were not counted)
    header_fields: int = 0
    #: (line, fields) of the first records whose field count differs from the header's
    bad_widths: tuple[tuple[int, int], ...] = ()
    #: how many records differ from the header's field count
    bad_width_count: int = 0


def _counts_before(mask: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``before(p)``: how many of ``mask``'s bytes before each position ``p`` (0..len) are set.

    The mask is packed to bits (64 bytes a word), the words' bit counts summed once; a position
    adds the bits of its word below it. Unlike listing every delimiter's position (about 30 a
    line), this costs little more than one pass over the chunk.
    """
    bits = np.packbits(mask, bitorder="little")
    padded = np.zeros(((len(bits) >> 3) + 1) * 8, dtype=np.uint8)
    padded[: len(bits)] = bits
    words = padded.view("<u8")
    cum = np.zeros(len(words) + 1, dtype=np.int64)
    np.cumsum(np.bitwise_count(words), dtype=np.int64, out=cum[1:])

    def before(positions: np.ndarray) -> np.ndarray:
        p = np.asarray(positions, dtype=np.int64)
        w = p >> 6
        below = (np.uint64(1) << (p & 63).astype(np.uint64)) - np.uint64(1)
        return cum[w] + np.bitwise_count(words[w] & below).astype(np.int64)

    return before


class FieldCounter:
    """Counts the fields of every CSV record as the file's bytes stream past.

    A delimiter or newline counts only outside quotes (where the number of quote bytes before
    it is even; an escaped ``""`` adds two). Blank lines are skipped, as pandas skips them.
    Vectorised per chunk with numpy, so it can run in the hashing thread beside the parse.
    """

    LISTED = 50

    def __init__(self, sep: str, newline: bytes | None = None) -> None:
        """``newline``: b"\\n" or b"\\r"; by default decided by the first chunk fed."""
        self._sep = ord(sep)
        self._nl: int | None = None if newline is None else newline[0]
        self._odd = False  # inside a quoted field at the chunk boundary
        self._line0 = 1  # physical line at the start of the next chunk
        self._rec_line = 1  # physical line where the unfinished record starts
        self._rec_fields = 1
        self._rec_len = 0
        self._last = -1  # the last byte of the previous chunk
        self.header = 0
        self.bad: list[tuple[int, int]] = []
        self.bad_count = 0

    def _records(self, lines: np.ndarray, fields: np.ndarray, blank: np.ndarray) -> None:
        keep = ~blank
        if not keep.any():
            return
        lines, fields = lines[keep], fields[keep]
        if self.header == 0:
            self.header = int(fields[0])
            lines, fields = lines[1:], fields[1:]
        wrong = np.flatnonzero(fields != self.header)
        if len(wrong):
            self.bad_count += len(wrong)
            room = self.LISTED - len(self.bad)
            self.bad.extend((int(lines[i]), int(fields[i])) for i in wrong[:room])

    def feed(self, chunk: bytes) -> None:
        if not chunk:
            return
        if self._nl is None:
            self._nl = 10 if b"\n" in chunk else 13
        buf = np.frombuffer(chunk, dtype=np.uint8)
        nl = np.flatnonzero(buf == self._nl)
        seps_before = _counts_before(buf == self._sep)
        ends = nl
        inside = np.zeros(0, dtype=np.int64)  # delimiters inside each quoted stretch
        owner = np.zeros(0, dtype=np.int64)  # ... and the record holding it
        if self._odd or b'"' in chunk:
            q = np.flatnonzero(buf == 34)
            base = 1 if self._odd else 0
            ends = nl[((np.searchsorted(q, nl) + base) & 1) == 0]
            # quoted stretches (open, close) in this chunk; a stretch still open runs to its end
            bounds = np.concatenate(([-1], q)) if base else q
            opens, closes = bounds[0::2], bounds[1::2]
            if len(closes) < len(opens):
                closes = np.append(closes, len(buf))
            inside = seps_before(closes) - seps_before(np.maximum(opens, 0))
            owner = np.searchsorted(ends, np.maximum(opens, 0))
            self._odd = bool(len(bounds) & 1)
        taken = np.bincount(owner, weights=inside, minlength=len(ends) + 1).astype(np.int64)
        if len(ends):
            cuts = seps_before(ends)
            seps = np.diff(cuts, prepend=0) - taken[: len(ends)]
            seps[0] += self._rec_fields - 1
            starts = np.concatenate(([0], ends[:-1] + 1))
            lens = ends - starts
            lens[0] += self._rec_len
            before = np.where(ends > 0, buf[np.maximum(ends - 1, 0)].astype(np.int16), self._last)
            blank = (lens == 0) | ((lens == 1) & (before == 13) & (self._nl == 10))
            lines = np.empty(len(ends), dtype=np.int64)
            lines[0] = self._rec_line
            if ends is nl:  # no quotes: every newline ends a record
                lines[1:] = np.arange(self._line0 + 1, self._line0 + len(ends))
            else:
                lines[1:] = self._line0 + np.searchsorted(nl, ends[:-1], side="right")
            self._records(lines, seps + 1, blank)
            self._rec_line = self._line0 + int(np.searchsorted(nl, ends[-1], side="right"))
            total = int(seps_before(np.array([len(buf)]))[0])
            self._rec_fields = 1 + total - int(cuts[-1]) - int(taken[-1])
            self._rec_len = len(buf) - int(ends[-1]) - 1
        else:
            total = int(seps_before(np.array([len(buf)]))[0])
            self._rec_fields += total - int(taken[-1])
            self._rec_len += len(buf)
        self._line0 += len(nl)
        self._last = int(buf[-1])

    def finish(self) -> None:
        blank = self._rec_len == 0 or (self._rec_len == 1 and self._last == 13)
        self._records(np.array([self._rec_line]), np.array([self._rec_fields]), np.array([blank]))
        self._rec_len = 0


def scan_file(path: Path, sep: str | None = None) -> FileFacts:
    """Hash the file and note NUL bytes, pure ASCII and UTF-8 validity in one streaming pass.

    Runs in a worker thread beside the pandas parse (hashlib and the C tokenizer both
    release the GIL), so hashing a 150 MB attendance file costs almost no wall time.
    """
    digest = hashlib.sha256()
    has_nul = False
    is_ascii = True
    valid_utf8 = True
    decoder = codecs.getincrementaldecoder("utf-8")()
    counter = FieldCounter(sep) if sep is not None and len(sep) == 1 and sep.isascii() else None
    st = path.stat()
    with path.open("rb") as fh:
        while chunk := fh.read(_HASH_CHUNK):
            digest.update(chunk)
            if counter is not None:
                counter.feed(chunk)
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
    if counter is None or has_nul:
        return FileFacts(st.st_size, digest.hexdigest(), st.st_mtime, has_nul, is_ascii, valid_utf8)
    counter.finish()
    return FileFacts(
        st.st_size,
        digest.hexdigest(),
        st.st_mtime,
        has_nul,
        is_ascii,
        valid_utf8,
        header_fields=counter.header,
        bad_widths=tuple(counter.bad),
        bad_width_count=counter.bad_count,
    )


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
    #: fields (cells) in the header; rows with a different count: (line, count), and how many
    header_width: int = 0
    bad_widths: tuple[tuple[int, int], ...] = ()
    bad_width_count: int = 0
    #: workbook date columns read month-first by a spreadsheet application: repaired, or not
    repaired_dates: tuple[str, ...] = ()
    mixed_dates: tuple[str, ...] = ()
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
    # Field counts are only meaningful for 8-bit text: in UTF-16 a delimiter is two bytes.
    width_sep = sep if bom != "utf-16" else None
    future = executor.submit(scan_file, path, width_sep) if executor is not None else None
    positions = sorted(positions)
    cats = set(categories) & set(positions)

    def parse(encoding: str, errors: str = "strict") -> pd.DataFrame:
        if not positions:
            return pd.DataFrame(index=pd.RangeIndex(0))
        def read(dtype: Any) -> pd.DataFrame:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", pd.errors.ParserWarning)
                return pd.read_csv(
                    path,
                    sep=sep,
                    header=0 if header else None,
                    usecols=positions,
                    dtype=dtype,
                    keep_default_na=False,
                    na_filter=False,
                    index_col=False,
                    encoding="utf-8" if encoding == "utf-8-sig" else encoding,
                    encoding_errors=errors,
                    engine="c",
                    skip_blank_lines=True,
                )

        # Every cell stays the exact text of the file: object holds the same Python strings as
        # dtype=str (no inference, and with na_filter off no NA at all: "NA" and "Null" are
        # names) without pandas 3's extra pass over every string (0.5 s per million rows).
        # "category" only where inference is harmless.
        if not cats:
            return read(object)
        try:
            return read({p: ("category" if p in cats else np.dtype(object)) for p in positions})
        except IndexError:
            # pandas 3.1 fails on categorical columns of a file with a header and no rows (a
            # school without SXABCONV records): read as text, and only an empty table that way
            frame = read(object)
            if len(frame):
                raise
            return frame.astype({frame.columns[i]: "category" for i, p in enumerate(positions) if p in cats})

    def facts_now() -> FileFacts:
        return future.result() if future is not None else scan_file(path, width_sep)

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
        header_width=got.facts.header_fields or len(header),
        bad_widths=got.facts.bad_widths,
        bad_width_count=got.facts.bad_width_count,
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


#: Workbooks are refused from their declared size (the sheet's dimension tag) before any row
#: is read, and while streaming when a sheet declares none: beyond this the CSV files are
#: the way (a million-row workbook took minutes and a gigabyte to read).
XLSX_MAX_ROWS = 300_000
XLSX_MAX_CELLS = 10_000_000

_DAY_FIRST_TEXT = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})(?:\s|$)")


@dataclass
class SheetDates:
    """What a workbook's date column looked like: which rows were real date cells, and
    whether the rest (text) can only be day-first. Decides a month-first conversion."""

    column: str
    from_cells: list[int] = field(default_factory=list)
    max_cell_day: int = 0
    day_first_text: int = 0  # text dates whose first number is above 12
    ambiguous_text: int = 0  # text dates whose first two numbers are both 12 or less


@dataclass
class SheetRead:
    frame: pd.DataFrame
    header: tuple[str, ...]
    rows: np.ndarray
    #: (sheet row, cells) of rows with values beyond the header's last column
    bad_widths: list[tuple[int, int]] = field(default_factory=list)
    bad_width_count: int = 0
    header_width: int = 0
    #: date columns read in the wrong (month-first) order and repaired
    repaired_dates: list[str] = field(default_factory=list)
    #: date columns mixing month-first date cells with day-first text that cannot be repaired
    mixed_dates: list[str] = field(default_factory=list)


def sheet_size(ws: Any, name: str, table: str) -> None:
    """Refuse a sheet whose declared dimension is beyond the limits (no row is read)."""
    from openpyxl.utils.cell import range_boundaries

    try:
        dimension = ws.calculate_dimension()
        _, min_row, max_col, max_row = range_boundaries(dimension)
    except (ValueError, TypeError):
        return  # unsized: the row count is checked while streaming
    if max_row is None or max_col is None:
        return
    rows = max_row - (min_row or 1) + 1
    if rows > XLSX_MAX_ROWS or rows * max_col > XLSX_MAX_CELLS:
        raise _too_big(name, table, rows, max_col)


def _too_big(name: str, table: str, rows: int, cols: int | None) -> FileRefused:
    if cols is None:  # found while streaming a sheet that declared no size
        return FileRefused(
            "workbook_too_large",
            f"{name} was refused: its {table} sheet holds more than the {XLSX_MAX_ROWS:,} rows "
            "a workbook may hold here. Import the CSV files from eduHub instead.",
        )
    return FileRefused(
        "workbook_too_large",
        f"{name} was refused: its {table} sheet declares {rows:,} rows by {cols:,} columns, "
        f"more than a workbook may hold here ({XLSX_MAX_ROWS:,} rows, {XLSX_MAX_CELLS:,} "
        "cells). Import the CSV files from eduHub instead.",
    )


def _swap_day_month(iso: str) -> str:
    """'2026-05-02' read month-first from 5/02/2026 -> '2026-02-05' (the day is 12 or less)."""
    return f"{iso[:4]}-{iso[8:10]}-{iso[5:7]}{iso[10:]}"


def read_sheet(
    ws: Any,
    *,
    name: str,
    table: str,
    wanted: Sequence[str],
    kinds: Mapping[str, str],
    categorical: bool,
    check: Callable[[], None] | None = None,
) -> SheetRead:
    """Read the wanted columns of one worksheet, streaming; refuses an oversized sheet.

    Date columns are watched for a month-first conversion by a spreadsheet application (see
    ``SheetDates``): repaired when provable, otherwise reported in ``mixed_dates``.
    """
    sheet_size(ws, name, table)
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
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    wanted_set = set(wanted)
    picks: list[tuple[int, str]] = []
    for pos, col in enumerate(header):
        if col in wanted_set and col not in [c for _, c in picks]:
            picks.append((pos, col))
    columns: dict[str, list[str]] = {col: [] for _, col in picks}
    dates = {col: SheetDates(col) for _, col in picks if kinds[col] == "date"}
    out = SheetRead(pd.DataFrame(), tuple(header), np.zeros(0, np.int64), header_width=width)
    row_numbers: list[int] = []
    for values in rows:
        row_no += 1
        if row_no % 5000 == 0 and check is not None:
            check()
        if row_no > XLSX_MAX_ROWS + 1:
            raise _too_big(name, table, row_no - 1, None)
        if not values or all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        n = len(values)
        if n > width and any(v is not None and v != "" for v in values[width:]):
            last = max(i for i in range(width, n) if values[i] is not None and values[i] != "")
            out.bad_width_count += 1
            if len(out.bad_widths) < FieldCounter.LISTED:
                out.bad_widths.append((row_no, last + 1))
        index = len(row_numbers)
        row_numbers.append(row_no)
        for pos, col in picks:
            value = values[pos] if pos < n else None
            watch = dates.get(col)
            if watch is not None:
                if isinstance(value, (dt.datetime, dt.date)):
                    watch.from_cells.append(index)
                    watch.max_cell_day = max(watch.max_cell_day, value.day)
                elif isinstance(value, str):
                    m = _DAY_FIRST_TEXT.match(value)
                    if m and int(m.group(1)) > 12:
                        watch.day_first_text += 1
                    elif m and int(m.group(2)) <= 12:
                        watch.ambiguous_text += 1
            columns[col].append(cell_text(value, kinds[col]))
    # Text that can only be day-first beside real dates: the application read the dates
    # month-first and converted those it could (day 12 or less). When every date cell fits
    # that (its day, the original month, is 12 or less) and no text could have been
    # converted, swapping day and month gives back exactly what the file held. The same
    # application saved the whole sheet, so its other date columns are swapped too.
    month_first = any(w.from_cells and w.day_first_text for w in dates.values())
    for col, watch in dates.items():
        if not watch.from_cells or not month_first:
            continue
        if watch.max_cell_day <= 12 and watch.ambiguous_text == 0:
            texts = columns[col]
            for i in watch.from_cells:
                texts[i] = _swap_day_month(texts[i])
            out.repaired_dates.append(col)
        else:
            out.mixed_dates.append(col)
    out.frame = pd.DataFrame(
        {col: pd.Series(vals, dtype=object) for col, vals in columns.items()},
        index=pd.RangeIndex(len(row_numbers)),
    )
    out.rows = np.asarray(row_numbers, dtype=np.int64)
    return out
