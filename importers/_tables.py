"""One eduHub table, loaded: its file (and delta), normalised by the whitelist, with provenance.

Every row remembers the file it came from (``_src``, an index into ``reads``) and its record
number there (``_rec``), so a finding can name the file and the line.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from importers import _parse
from importers._files import TableRead
from importers.findings import FindingCollector, Level
from importers.whitelist import TableSpec, column_limit

__all__ = ["LoadedTable", "emit_rows", "key_ids", "place"]

logger = logging.getLogger(__name__)

_TRUE_KOORIE = frozenset({"K", "T", "B"})


def place(read: TableRead, line: int | None) -> str:
    """'Line 17 of ST_8123.csv' / 'Row 17 of sheet ST in Extract_8123.xlsx'."""
    if read.source_kind == "csv":
        return f"Line {line} of {read.name}" if line else read.name
    where = f"sheet {read.sheet} in {read.name}" if read.sheet else read.name
    return f"Row {line} of {where}" if line else where


@dataclass
class LoadedTable:
    spec: TableSpec
    #: the files the rows came from; index = ``_src``; the base file first
    reads: list[TableRead] = field(default_factory=list)
    #: normalised columns named by target, plus ``_src`` and ``_rec``
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    #: parsed date/number columns (target -> Parsed), aligned with ``data``
    parsed: dict[str, _parse.Parsed] = field(default_factory=dict)
    #: source columns missing from at least one file
    missing: set[str] = field(default_factory=set)
    #: source column -> (row positions, their lengths) of values longer than eduHub allows
    too_long: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    #: source column -> row positions of values holding U+FFFD (a byte that could not be read)
    undecodable: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return bool(self.reads)

    @property
    def code(self) -> str:
        return self.spec.code

    def has(self, source: str) -> bool:
        """The column was present in the files (so blank values are real blanks)."""
        return self.loaded and source not in self.missing

    def src(self) -> np.ndarray:
        return self.data["_src"].to_numpy()

    def rec(self) -> np.ndarray:
        return self.data["_rec"].to_numpy()

    def take(self, positions: np.ndarray) -> None:
        """Keep only the rows at ``positions`` (and their parsed values)."""
        n_old = len(self.data)
        self.data = self.data.iloc[positions].reset_index(drop=True)
        self.parsed = {
            k: _parse.Parsed(
                p.values[positions], p.bad[positions], p.codes[positions], p.raw_values
            )
            for k, p in self.parsed.items()
        }
        if self.too_long or self.undecodable:
            new_pos = np.full(n_old, -1, dtype=np.int64)
            new_pos[positions] = np.arange(len(positions))
            for k, (pos, lens) in list(self.too_long.items()):
                keep = new_pos[pos] >= 0 if len(pos) else np.zeros(0, bool)
                self.too_long[k] = (new_pos[pos][keep], lens[keep])
            for k, pos in list(self.undecodable.items()):
                self.undecodable[k] = new_pos[pos][new_pos[pos] >= 0] if len(pos) else pos


def _distinct(column: object) -> tuple[np.ndarray, np.ndarray]:
    """(codes per row, distinct values) of a column, a categorical or a Parsed column."""
    if isinstance(column, _parse.Parsed):
        return column.codes, column.raw_values
    if isinstance(column, pd.Categorical):
        return _parse.codes_and_values(pd.Series(column, copy=False))
    return _parse.codes_and_values(column)  # type: ignore[arg-type]


def _check_text(table: LoadedTable, source: str, column: object, max_len: int) -> None:
    """Note values longer than eduHub allows and values holding U+FFFD, per distinct value."""
    codes, values = _distinct(column)
    if len(values) == 0:
        return
    lengths = np.fromiter((len(str(v)) for v in values), dtype=np.int64, count=len(values))
    if max_len > 0 and (lengths > max_len).any():
        rows = np.flatnonzero((lengths > max_len)[codes])
        table.too_long[source] = (rows, lengths[codes[rows]])
    fffd = np.fromiter(("\ufffd" in str(v) for v in values), dtype=bool, count=len(values))
    if fffd.any():
        table.undecodable[source] = np.flatnonzero(fffd[codes])


def _joined(parts: list[np.ndarray | pd.Series]) -> np.ndarray | pd.Series:
    """One column from the base file and its delta (a categorical stays categorical alone)."""
    if len(parts) == 1:
        return parts[0]
    if not parts:
        return np.zeros(0, dtype=object)
    return np.concatenate(
        [p.astype(str).to_numpy(dtype=object) if isinstance(p, pd.Series) else p for p in parts]
    )


def normalise(spec: TableSpec, reads: list[TableRead]) -> LoadedTable:
    """Concatenate the files' columns and interpret every whitelisted column by its kind.

    The raw text is freed as soon as it is interpreted (1.2 million attendance rows of
    Python strings would otherwise stay in memory for the whole import).
    """
    table = LoadedTable(spec, reads)
    parts: dict[str, list[np.ndarray | pd.Series]] = {src: [] for src in spec.sources}
    lengths: list[int] = []
    for read in reads:
        frame = read.frame
        lengths.append(len(frame))
        for src in spec.sources:
            if src not in frame.columns:
                table.missing.add(src)
                parts[src].append(np.full(len(frame), "", dtype=object))
            elif isinstance(frame[src].dtype, pd.CategoricalDtype):
                parts[src].append(frame[src])  # interpreted per category, not per row
            else:
                parts[src].append(frame[src].to_numpy(dtype=object))
        read.frame = frame.iloc[:0]
    raw = {src: _joined(arrays) for src, arrays in parts.items()}
    del parts
    cols: dict[str, object] = {}
    for f in spec.fields:
        s = raw.pop(f.source)
        kind, max_len = column_limit(spec.code, f.source)
        limit = max_len if kind == "string" else 0
        if f.kind == "score":
            # checked as written; stored in one form ('6' from a workbook is '6.0')
            _check_text(table, f.source, _parse.text_categorical(s), limit)
            cols[f.target] = _parse.scores(s, categorical=spec.large)
        elif f.kind in ("key", "text", "year_level", "code", "vcaa"):
            upper = f.kind in ("code", "vcaa")
            cols[f.target] = (
                _parse.text_categorical(s, upper=upper)
                if spec.large
                else _parse.text(s, upper=upper)
            )
            _check_text(table, f.source, cols[f.target], limit)
        elif f.kind == "approval":
            t = _parse.text_categorical(s, upper=True)
            _check_text(table, f.source, t, limit)
            t = t.set_categories(["", "N", "Y"]).fillna("")
            cols[f.target] = t if spec.large else np.asarray(t, dtype=object)
        elif f.kind in ("flag", "koorie", "active"):
            _check_text(table, f.source, _parse.text(s), limit)
            if f.kind == "flag":
                cols[f.target] = _parse.flags(s, frozenset({"Y"}))
            elif f.kind == "koorie":
                cols[f.target] = _parse.flags(s, _TRUE_KOORIE)
            else:
                cols[f.target] = _parse.not_flags(s, frozenset({"N"}))
        elif f.kind == "date":
            p = _parse.parse_dates(s)
            table.parsed[f.target] = p
            cols[f.target] = p.values
            _check_text(table, f.source, p, 0)
        elif f.kind == "int":
            p = _parse.parse_int(s)
            table.parsed[f.target] = p
            cols[f.target] = p.values
            _check_text(table, f.source, p, 0)
        elif f.kind == "absence":
            p = _parse.parse_absence(s)
            table.parsed[f.target] = p
            cols[f.target] = p.values
            _check_text(table, f.source, p, 0)
        else:  # pragma: no cover - the Kind literal is exhaustive
            raise ValueError(f.kind)
    n = sum(lengths)
    cols["_src"] = np.repeat(np.arange(len(lengths), dtype=np.int16), lengths)
    cols["_rec"] = (
        np.concatenate([np.arange(k, dtype=np.int64) for k in lengths])
        if lengths
        else np.zeros(0, dtype=np.int64)
    )
    table.data = pd.DataFrame(cols, index=pd.RangeIndex(n))
    return table


def key_ids(data: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """One int64 per row identifying the combination of ``columns`` (equal rows, equal ids)."""
    acc: np.ndarray | None = None
    bound = 1
    for col in columns:
        s = data[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes = s.cat.codes.to_numpy().astype(np.int64) + 1
            size = len(s.cat.categories) + 1
        elif pd.api.types.is_datetime64_any_dtype(s.dtype):
            days = s.to_numpy(dtype="datetime64[D]")
            nat = np.isnat(days)
            as_int = days.astype(np.int64)
            base = as_int[~nat].min() if (~nat).any() else 0
            codes = np.where(nat, 0, as_int - base + 1)
            size = int(codes.max()) + 1 if len(codes) else 1
        else:
            codes, uniques = pd.factorize(s.to_numpy(dtype=object))
            codes = codes.astype(np.int64) + 1
            size = len(uniques) + 1
        if acc is None:
            acc, bound = codes, size
        else:
            if bound * size >= 2**62:  # keep the combined ids small enough to multiply
                acc, uniques = pd.factorize(acc)
                acc, bound = acc.astype(np.int64), len(uniques)
            acc, bound = acc * size + codes, bound * size
    return acc if acc is not None else np.zeros(len(data), dtype=np.int64)


def overlay(table: LoadedTable, delta_src: int) -> int:
    """Rows of the delta file replace the base rows with the same key. Returns rows replaced."""
    targets = [table.spec.target(k) for k in table.spec.key]
    ids = key_ids(table.data, targets)
    src = table.src()
    in_delta = src == delta_src
    delta_ids = np.unique(ids[in_delta])
    replaced = ~in_delta & np.isin(ids, delta_ids)
    count = int(replaced.sum())
    if count:
        table.take(np.flatnonzero(~replaced))
    return count


def _bind(
    message: Callable[[str, int], str], read: TableRead, shown: np.ndarray, lines: np.ndarray
) -> Callable[[int], str]:
    def build(i: int) -> str:
        return message(place(read, int(lines[i])), int(shown[i]))

    return build


def emit_rows(
    collector: FindingCollector,
    table: LoadedTable,
    mask: np.ndarray,
    *,
    level: Level,
    code: str,
    column: str | None,
    message: Callable[[str, int], str],
) -> int:
    """One finding per masked row (capped per file): ``message(place, row_position)``.

    Returns how many rows had the problem.
    """
    positions_all = np.flatnonzero(mask)
    if len(positions_all) == 0:
        return 0
    src = table.src()[positions_all]
    rec = table.rec()[positions_all]
    for s in np.unique(src):
        read = table.reads[int(s)]
        mine = src == s
        positions = positions_all[mine]
        room = collector.room(level, code, read.name)
        shown = positions[:room]
        lines = read.lines.lines(rec[mine][:room]) if len(shown) else np.zeros(0, np.int64)
        collector.add_rows(
            level,
            code,
            read.name,
            [int(x) for x in lines],
            column,
            _bind(message, read, shown, lines),
            total=len(positions),
        )
    return len(positions_all)
