"""Reading existing mappings from a spreadsheet, in long form (student key, programme, start,
end, status) or in the old workbook's grid form (a student key column, then one column per
programme with a mark for participants). Pure: rows of text in, parsed rows (with a sentence
per bad row) out; the service checks students, programmes and scope."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from interventions.errors import MappingFileError

__all__ = ["ParsedMapping", "parse_date", "parse_mapping_rows"]

_KEY = ("student_key", "student key", "key", "student", "stkey")
_PROGRAMME = ("programme", "program", "intervention", "programme name", "program name")
_START = ("start", "start date", "start_date")
_END = ("end", "end date", "end_date")
_STATUS = ("status",)
_REASON = ("reason",)
_STATUSES = ("planned", "active", "completed", "withdrawn")
_NO_MARK = ("", "0", "n", "no", "false", "-")
_ISO = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[ T].*)?")
_AU = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


@dataclass(frozen=True)
class ParsedMapping:
    row: int  # the row of the file (the header is row 1)
    student_key: str
    programme: str
    start: dt.date | None
    end: dt.date | None
    status: str
    reason: str
    error: str  # "" when the row reads well


def parse_date(value: object) -> dt.date | None:
    """dd/mm/yyyy or yyyy-mm-dd (or a spreadsheet date); None when blank; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not text:
        return None
    m = _AU.fullmatch(text)
    if m:
        return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = _ISO.fullmatch(text)
    if m:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    raise ValueError(text)


def _find(header: Sequence[str], names: Sequence[str]) -> int | None:
    for i, h in enumerate(header):
        if h.strip().lower().replace("_", " ") in {n.replace("_", " ") for n in names}:
            return i
    return None


def _text(row: Sequence[object], i: int | None) -> str:
    if i is None or i >= len(row) or row[i] is None:
        return ""
    return str(row[i]).strip()


def _date_cell(row: Sequence[object], i: int | None, what: str) -> tuple[dt.date | None, str]:
    value = row[i] if i is not None and i < len(row) else None
    try:
        return parse_date(value), ""
    except ValueError:
        return None, f"the {what} date '{_text(row, i)}' is not a date (write dd/mm/yyyy)"


def parse_mapping_rows(header: Sequence[str], rows: Sequence[Sequence[object]], *, today: dt.date) -> tuple[str, list[ParsedMapping]]:
    """("long" | "grid", parsed rows). Blank rows are skipped. In grid form a cell holding a
    date maps the student from that date; any other mark from ``today``."""
    header = [str(h or "").strip() for h in header]
    key_col = _find(header, _KEY)
    if key_col is None:
        raise MappingFileError("The file has no student key column (a column headed 'student_key').")
    prog_col = _find(header, _PROGRAMME)
    out: list[ParsedMapping] = []
    if prog_col is not None:
        start_col, end_col = _find(header, _START), _find(header, _END)
        status_col, reason_col = _find(header, _STATUS), _find(header, _REASON)
        if start_col is None:
            raise MappingFileError("The file has a programme column but no start column.")
        for n, row in enumerate(rows, start=2):
            if not any(_text(row, i) for i in range(len(row))):
                continue
            key, programme = _text(row, key_col).upper(), " ".join(_text(row, prog_col).split())
            start, e1 = _date_cell(row, start_col, "start")
            end, e2 = _date_cell(row, end_col, "end")
            status = _text(row, status_col).lower() or ("completed" if end else "active")
            errors = [e for e in (e1, e2) if e]
            if not key:
                errors.append("the student key is blank")
            if not programme:
                errors.append("the programme is blank")
            if start is None and not e1:
                errors.append("the start date is blank")
            if status not in _STATUSES:
                errors.append(f"the status '{status}' is not one of {', '.join(_STATUSES)}")
            out.append(ParsedMapping(n, key, programme, start, end, status, _text(row, reason_col),
                                     "; ".join(errors)))
        return "long", out
    programmes = [(i, " ".join(h.split())) for i, h in enumerate(header) if i != key_col and h.strip()]
    if not programmes:
        raise MappingFileError("The file has neither a programme column (long form) nor programme columns (grid form).")
    for n, row in enumerate(rows, start=2):
        key = _text(row, key_col).upper()
        for i, programme in programmes:
            mark = _text(row, i)
            if mark.lower() in _NO_MARK:
                continue
            error = "" if key else "the student key is blank"
            try:
                start = parse_date(row[i]) or today
            except ValueError:
                start = today
                if _AU.fullmatch(mark) or _ISO.fullmatch(mark):
                    error = f"the start date '{mark}' does not exist"
            out.append(ParsedMapping(n, key, programme, start, None, "active", "", error))
    return "grid", out
