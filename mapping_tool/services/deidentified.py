"""De-identified summary data for regional and central office: counts by year level of students,
each status characteristic, flag and intervention; no names, keys, birth dates or home groups.

Every count under 5 is suppressed, and complementary suppression stops a suppressed cell being
recovered: from its year level's total (a "yes" count whose "no" complement is under 5 is
suppressed too) and from the school total of its column (a column with one suppressed cell has
a second one suppressed). The counting and suppression here are pure functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mapping_tool.security.roles import Role
from mapping_tool.services.context import UserSession

THRESHOLD = 5
SUPPRESSED = "<5"


@dataclass(frozen=True)
class SummaryTable:
    row_labels: tuple[str, ...]  # year levels, then "All students"
    columns: tuple[str, ...]  # "Students", then features
    cells: tuple[tuple[int | None, ...], ...]  # None = suppressed


def suppress(counts: dict[str, dict[str, int]], totals: dict[str, int], features: Sequence[str]) -> SummaryTable:
    """``counts[row][feature]`` are "yes" counts of ``totals[row]`` students."""
    rows = list(totals)
    hidden: set[tuple[str, str]] = set()
    for r in rows:
        if totals[r] < THRESHOLD:
            hidden.add((r, "Students"))
        for f in features:
            yes = counts[r].get(f, 0)
            if yes < THRESHOLD or (totals[r] - yes) < THRESHOLD:
                hidden.add((r, f))
    # complementary suppression against the school totals, column by column, until stable
    changed = True
    while changed:
        changed = False
        for col in ("Students", *features):
            values = {r: (totals[r] if col == "Students" else counts[r].get(col, 0)) for r in rows}
            in_col = [r for r in rows if (r, col) in hidden]
            if len(in_col) == 1:
                others = sorted((v, r) for r, v in values.items() if (r, col) not in hidden)
                if others:
                    hidden.add((others[0][1], col))
                    changed = True
    school_total = sum(totals.values())
    cells = []
    for r in rows:
        cells.append(tuple(None if (r, c) in hidden else (totals[r] if c == "Students" else counts[r].get(c, 0))
                           for c in ("Students", *features)))
    all_row = [school_total if school_total >= THRESHOLD else None]
    for f in features:
        yes = sum(counts[r].get(f, 0) for r in rows)
        all_row.append(None if yes < THRESHOLD or school_total - yes < THRESHOLD else yes)
    cells.append(tuple(all_row))
    return SummaryTable(tuple(rows) + ("All students",), ("Students", *features), tuple(cells))


# The features' extra counts (flags, tiers, programmes) are listed in services/features.py.


CHARACTERISTIC_TITLES = {
    "koorie": "Koorie", "refugee_background": "Refugee background", "disability": "Disability",
    "integration": "Integration aide", "youth_allowance": "Youth allowance", "access_alert": "Access alert",
    "risk_alert": "Risk alert", "medical_alert": "Medical alert", "ema": "EMA/CSEF",
}


def build_summary(user: UserSession) -> SummaryTable:
    """Every school role may have de-identified data (the privacy assessment's table); each
    counts only the students in its own row scope (a home group teacher's groups, a coordinator's
    year levels), with the same suppression. A count derived from an item the role may not see
    (its flags' inputs, or flagged factors altogether) is left out."""
    from mapping_tool.services import students

    user.require(Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR, Role.HOME_GROUP_TEACHER)
    policy = students.effective_policy(user)
    if not policy.allows_item(user.role, "deidentified_data"):
        raise students.NotVisible("The data custodian has not given your role de-identified summaries.")
    chars = list(CHARACTERISTIC_TITLES) if policy.allows_item(user.role, "flagged_factors") else []
    sums = "".join(f", SUM({c})" for c in chars)
    where, params = students.scope_where(user)
    with user.store.read() as session:
        conn = session.connection().connection.driver_connection
        raw = conn.execute(
            f"SELECT year_level, COUNT(*){sums} FROM student WHERE in_extract = 1 AND status IN ('ACTV', 'LVNG', 'INAC') "
            f"AND {where} GROUP BY year_level ORDER BY year_level",
            params,
        ).fetchall()
    totals = {r[0] or "(none)": int(r[1]) for r in raw}
    counts: dict[str, dict[str, int]] = {
        r[0] or "(none)": {CHARACTERISTIC_TITLES[c]: int(v or 0) for c, v in zip(chars, r[2:], strict=True)} for r in raw
    }
    features = [CHARACTERISTIC_TITLES[c] for c in chars]
    from mapping_tool.services import features as composed

    for counter in composed.summary_counters():
        extra = counter(user)
        for feature, by_year in extra.items():
            features.append(feature)
            for yl in counts:
                counts[yl][feature] = by_year.get(yl, 0)
    return suppress(counts, totals, features)


def export_summary(user: UserSession, out: Path, *, fmt: str | None = None, replace: bool = False) -> int:
    from mapping_tool.services.export import write_table

    table = build_summary(user)
    headers = ("Year level", *table.columns)
    rows: list[list[Any]] = [[label, *(SUPPRESSED if v is None else v for v in cells)]
                             for label, cells in zip(table.row_labels, table.cells, strict=True)]
    count = write_table(
        out, headers, rows, store_folder=user.store.files.folder, replace=replace, fmt=fmt or "xlsx",
        title="De-identified summary",
    )
    suppressed = sum(1 for cells in table.cells for v in cells if v is None)
    with user.store.write() as session:
        user.store.audit(
            session, user.username, "export.deidentified", object_type="export", object_id=out.name,
            detail={"path": str(out), "rows": [list(map(str, r)) for r in rows], "suppressed_cells": suppressed},
        )
    return count
