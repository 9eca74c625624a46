"""Reading a VASS results file (senior secondary): delimited text keyed on the VCAA number.

VASS text exports are pipe-delimited; whether a header row is present varies, and the
result-file layouts are not public, so the columns are set by a :class:`VassMapping` that the
data custodian can save (``to_dict`` / ``from_dict``). Only the mapped columns are read.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from importers._files import first_record, normalise_header, read_csv_columns, scan_file
from importers.errors import ExtractError, FileRefused
from importers.findings import Finding, FindingCollector
from importers.sources import SourceFile
from importers.validation import is_vcaa_number

__all__ = ["VassExtract", "VassMapping", "read_vass"]

logger = logging.getLogger(__name__)

Column = str | int | None

_FIELDS = ("vcaa_number", "student_key", "unit_code", "result", "year")
#: Header names recognised when no mapping is given (compared trimmed and upper-cased).
_ALIASES: dict[str, tuple[str, ...]] = {
    "vcaa_number": (
        "VCAA STUDENT NUMBER",
        "VCAA NUMBER",
        "STUDENT NUMBER",
        "VCAA_NUMBER",
        "VCE_ID",
    ),
    "student_key": (
        "EXTERNAL STUDENT NUMBER",
        "EXTERNAL STUDENT IDENTIFIER",
        "EXTERNAL ID",
        "STUDENT KEY",
        "STKEY",
    ),
    "unit_code": ("UNIT CODE", "UNIT", "UNIT/VET/VCAL CODE", "STUDY CODE", "CODE"),
    "result": ("RESULT", "UNIT RESULT", "GRADE"),
    "year": ("YEAR", "RESULT YEAR", "ACADEMIC YEAR"),
}
_VCAA_LIKE = re.compile(r"^\s*\d{8}[A-Za-z]\s*$")
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,12}$")


@dataclass(frozen=True)
class VassMapping:
    """Where each field is in a VASS file: a header name or a 0-based column index.

    ``has_header``: True, False, or None to detect (a first row whose VCAA-number cell does
    not look like a VCAA number is a header).
    """

    vcaa_number: str | int = 0
    student_key: Column = None
    unit_code: Column = None
    result: Column = None
    year: Column = None
    delimiter: str = "|"
    has_header: bool | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.delimiter, str) or len(self.delimiter) != 1:
            raise ExtractError(
                "The VASS column separator must be exactly one character, such as |."
            )
        if self.delimiter in ('"', "\n", "\r"):
            raise ExtractError("The VASS column separator cannot be a quote or a line break.")
        if self.has_header is not None and not isinstance(self.has_header, bool):
            raise ExtractError("The VASS 'has header' setting must be yes, no or detect.")
        for name in _FIELDS:
            value = getattr(self, name)
            if value is None and name != "vcaa_number":
                continue
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                raise ExtractError(f"The VASS column for {name} must be a column name or number.")
            if isinstance(value, int) and value < 0:
                raise ExtractError(f"The VASS column number for {name} cannot be negative.")
            if isinstance(value, str) and not value.strip():
                raise ExtractError(f"The VASS column name for {name} is empty.")

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> VassMapping:
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ExtractError(
                "The saved VASS column settings are not recognised: " + ", ".join(sorted(unknown))
            )
        if "vcaa_number" not in data:
            raise ExtractError(
                "The saved VASS column settings do not say where the VCAA number is."
            )
        return cls(**data)  # type: ignore[arg-type]

    @property
    def by_name(self) -> bool:
        return any(isinstance(getattr(self, f), str) for f in _FIELDS)


@dataclass(frozen=True, eq=False)
class VassExtract:
    #: student_key (matched ST key, or the file's own id when no students were given),
    #: vcaa_number, unit_code, result, year: all text
    results: pd.DataFrame
    file: SourceFile
    #: the mapping used, with has_header resolved to True or False
    mapping: VassMapping
    findings: tuple[Finding, ...] = field(default=())

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "error")

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.level == "warning")

    @property
    def ok(self) -> bool:
        return not self.errors


_RESULT_COLUMNS = ("student_key", "vcaa_number", "unit_code", "result", "year")


def _empty_results() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype="str") for c in _RESULT_COLUMNS})


def _auto_mapping(first: list[str], delimiter: str, has_header: bool | None) -> VassMapping:
    """No mapping given: find columns by their header names, else the VCAA-looking column."""
    header = [normalise_header(c) for c in first]
    looks = [bool(_VCAA_LIKE.match(c)) for c in first]
    header_row = has_header if has_header is not None else not any(looks)
    if header_row:
        picks: dict[str, Column] = {}
        for name in _FIELDS:
            for alias in _ALIASES[name]:
                if alias in header:
                    picks[name] = header.index(alias)
                    break
        if "vcaa_number" not in picks:
            raise ExtractError(
                "The VASS file's header has no VCAA student number column. Set the columns "
                "(the mapping) for this file."
            )
        return VassMapping(delimiter=delimiter, has_header=True, **picks)  # type: ignore[arg-type]
    vcaa = looks.index(True) if any(looks) else 0
    return VassMapping(vcaa_number=vcaa, delimiter=delimiter, has_header=False)


def read_vass(
    path: str | Path,
    *,
    mapping: VassMapping | None = None,
    students: pd.DataFrame | None = None,
) -> VassExtract:
    """Read a VASS results file; match rows to ``students`` (the extract's students frame).

    Rows match by VCAA number to ``students.vcaa_number``, else by the school's own id to
    ``students.student_key``; unmatched rows are listed as warnings (by line, never by
    name) and left out. A malformed VCAA number is an error. Raises ExtractError when the
    file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise ExtractError(f"The VASS file {path} does not exist or cannot be opened.")
    name = path.name
    collector = FindingCollector()
    delimiter = mapping.delimiter if mapping is not None else "|"
    try:
        first, _, bom = first_record(path, name, delimiter)
    except FileRefused as exc:
        collector.add("error", exc.code, name, exc.row, None, exc.message)
        return _failed(path, name, mapping, collector)
    if not first:
        collector.add("error", "unreadable_file", name, None, None, f"{name} is empty.")
        return _failed(path, name, mapping, collector)

    if mapping is None:
        mapping = _auto_mapping(first, delimiter, None)
    header = [normalise_header(c) for c in first]
    if mapping.has_header is None:
        if isinstance(mapping.vcaa_number, str):
            has_header = True
        else:
            idx = mapping.vcaa_number
            cell = first[idx] if idx < len(first) else ""
            has_header = not _VCAA_LIKE.match(cell)
        mapping = replace(mapping, has_header=has_header)
    if not mapping.has_header and mapping.by_name:
        raise ExtractError(
            "The VASS columns are set by name, but the file has no header row: set them by "
            "column number instead."
        )
    positions: dict[str, int] = {}
    for fname in _FIELDS:
        where = getattr(mapping, fname)
        if where is None:
            continue
        if isinstance(where, str):
            wanted = normalise_header(where)
            if wanted not in header:
                collector.add(
                    "error",
                    "missing_column",
                    name,
                    1,
                    where,
                    f"{name} has no column named '{where}' (set for the {fname.replace('_', ' ')}).",
                )
                continue
            positions[fname] = header.index(wanted)
        else:
            if where >= len(first):
                collector.add(
                    "error",
                    "missing_column",
                    name,
                    1,
                    str(where),
                    f"{name} has only {len(first)} columns, so column {where + 1} "
                    f"(set for the {fname.replace('_', ' ')}) does not exist.",
                )
                continue
            positions[fname] = where
    if "vcaa_number" not in positions:
        return _failed(path, name, mapping, collector)

    unique_positions = sorted(set(positions.values()))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="vass-scan") as executor:
        try:
            got = read_csv_columns(
                path,
                name,
                unique_positions,
                sep=mapping.delimiter,
                bom=bom,
                header=bool(mapping.has_header),
                executor=executor,
            )
        except FileRefused as exc:
            collector.add("error", exc.code, name, exc.row, None, exc.message)
            return _failed(path, name, mapping, collector)
    frame = got.frame
    frame.columns = list(range(len(frame.columns)))
    column_of = {p: i for i, p in enumerate(unique_positions)}

    def col(fname: str) -> np.ndarray:
        if fname not in positions:
            return np.full(len(frame), "", dtype=object)
        return frame[column_of[positions[fname]]].astype(str).str.strip().to_numpy(dtype=object)

    vcaa = np.array([v.upper() for v in col("vcaa_number")], dtype=object)
    own = col("student_key")
    lines = got.lines

    def line_of(positions_: np.ndarray) -> np.ndarray:
        return lines.lines(positions_)

    def show_key(value: str) -> str:
        return f"'{value}'" if _SAFE_KEY.match(value) else "(not a valid id)"

    blank_vcaa = vcaa == ""
    well_formed = np.array([is_vcaa_number(v) for v in vcaa], dtype=bool)
    malformed = ~blank_vcaa & ~well_formed
    no_id = blank_vcaa & (own == "")
    column_name = str(mapping.vcaa_number)
    for mask, code, text in (
        (
            malformed,
            "malformed_vcaa_number",
            "the VCAA student number {v} is not 8 digits followed by a check letter (like 12345678A).",
        ),
        (
            no_id,
            "missing_key",
            "the row has neither a VCAA student number nor a school student id.",
        ),
    ):
        pos = np.flatnonzero(mask)
        shown = pos[: collector.room("error", code, name)]
        ls = line_of(shown)
        collector.add_rows(
            "error",
            code,
            name,
            [int(x) for x in ls],
            column_name,
            _row_message(name, text, ls, [show_key(vcaa[p]) for p in shown]),
            total=len(pos),
        )

    usable = ~malformed & ~no_id
    if students is not None:
        st_keys = students["student_key"].astype(str).to_numpy(dtype=object)
        st_vcaa = students["vcaa_number"].astype(str).str.strip().str.upper().to_numpy(dtype=object)
        vcaa_keys = (
            pd.Series(st_keys[st_vcaa != ""], index=st_vcaa[st_vcaa != ""]).groupby(level=0).first()
        )
        hit_v = pd.Index(vcaa_keys.index).get_indexer(vcaa)
        hit_v = np.where(well_formed, hit_v, -1)
        key_index = pd.Index(st_keys)
        hit_k = key_index.get_indexer(own)
        hit_k_upper = key_index.get_indexer(np.array([k.upper() for k in own], dtype=object))
        hit_k = np.where(hit_k >= 0, hit_k, hit_k_upper)
        hit_k = np.where(own != "", hit_k, -1)
        matched_key = np.where(
            hit_v >= 0,
            vcaa_keys.to_numpy(dtype=object)[np.maximum(hit_v, 0)] if len(vcaa_keys) else "",
            np.where(hit_k >= 0, st_keys[np.maximum(hit_k, 0)] if len(st_keys) else "", ""),
        )
        unmatched = usable & (matched_key == "")
        pos = np.flatnonzero(unmatched)
        shown = pos[: collector.room("warning", "unmatched_student", name)]
        ls = line_of(shown)

        def unmatched_message(i: int) -> str:
            p = shown[i]
            ids = []
            if vcaa[p]:
                ids.append(f"VCAA student number {show_key(vcaa[p])}")
            if own[p]:
                ids.append(f"school id {show_key(own[p])}")
            return (
                f"Line {int(ls[i])} of {name}: no student in the extract has the "
                + " or the ".join(ids)
                + "; the row is left out."
            )

        collector.add_rows(
            "warning",
            "unmatched_student",
            name,
            [int(x) for x in ls],
            column_name,
            unmatched_message,
            total=len(pos),
        )
        keep = usable & ~unmatched
    else:
        matched_key = own
        keep = usable
    results = pd.DataFrame(
        {
            "student_key": matched_key[keep],
            "vcaa_number": vcaa[keep],
            "unit_code": col("unit_code")[keep],
            "result": col("result")[keep],
            "year": col("year")[keep],
        }
    ).astype("str")
    findings = collector.result()
    logger.info(
        "VASS file %s: %d rows, %d kept, %d findings", name, len(frame), len(results), len(findings)
    )
    return VassExtract(
        results=results,
        file=SourceFile(
            name=name,
            size=got.facts.size,
            sha256=got.facts.sha256,
            rows=len(frame),
            table="VASS",
            encoding=got.encoding,
        ),
        mapping=mapping,
        findings=findings,
    )


def _row_message(name: str, text: str, lines: np.ndarray, shown: list[str]) -> Callable[[int], str]:
    def message(i: int) -> str:
        return f"Line {int(lines[i])} of {name}: " + text.format(v=shown[i])

    return message


def _failed(
    path: Path, name: str, mapping: VassMapping | None, collector: FindingCollector
) -> VassExtract:
    facts = scan_file(path)
    return VassExtract(
        results=_empty_results(),
        file=SourceFile(name, facts.size, facts.sha256, 0, "VASS", ""),
        mapping=mapping or VassMapping(),
        findings=collector.result(),
    )
