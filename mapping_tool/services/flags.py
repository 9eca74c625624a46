"""Early-leaving risk factors in the store: rule versions, flags per snapshot, the staff-recorded
relationships concern, tier overrides, explanations and cohort counts.

The measures and flags themselves are pure functions in ``risk_factors``; this service feeds them
the snapshot's data, stores each student's result (inputs, flags, rule version, snapshot) and
serves it through the students service, which applies the access policy.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from mapping_tool.errors import KnownError, UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services import students
from mapping_tool.services.context import OpenStore, UserSession, utcnow
from mapping_tool.store.models import (
    RelationshipsConcern,
    RuleVersion,
    Snapshot,
    StudentFlags,
    TierOverride,
)

logger = logging.getLogger(__name__)

TIERS = ("none", "monitor", "priority")
# Fields the students service serves from here (each assigned to a data item in the policy file).
FIELDS = (
    "attendance_rate", "unapproved_days", "internal_suspension_days", "external_suspension_days",
    "result_engrea", "result_engwri", "result_matnum", "result_matstr",
    "flag_low_attendance", "flag_unapproved_absences", "flag_suspension", "flag_below_expected_english",
    "flag_below_expected_maths", "flag_parent_not_in_paid_work", "relationships_concern", "flag_count", "tier",
    "tier_override", "new_flags", "attendance_rate_change",
)
FLAG_NAMES = (
    "flag_low_attendance", "flag_unapproved_absences", "flag_suspension", "flag_below_expected_english",
    "flag_below_expected_maths", "flag_parent_not_in_paid_work",
)
FLAG_TITLES = {
    "flag_low_attendance": "Low attendance",
    "flag_unapproved_absences": "Unapproved absences",
    "flag_suspension": "Suspension",
    "flag_below_expected_english": "Below expected: English",
    "flag_below_expected_maths": "Below expected: Maths",
    "flag_parent_not_in_paid_work": "Parents not in paid work",
    "relationships_concern": "Relationships concern",
}
STUDENT_FRAME_COLUMNS = (
    "student_key", "surname", "first_name", "preferred_name", "gender", "birth_date", "status", "entry_date",
    "exit_date", "year_level", "home_group", "house", "family_key", "vsn", "vcaa_number", *students.CHARACTERISTICS,
    "parent_a_occupation_group", "parent_b_occupation_group", "family_occupation_group",
)


class FlagsError(KnownError):
    exit_code = 2


# -- rules ----------------------------------------------------------------------------------


def _rules_from_row(row: RuleVersion):  # type: ignore[no-untyped-def]
    from risk_factors import RiskRules

    return RiskRules.from_dict(json.loads(row.rules_json))


def current_rules(store: OpenStore, session, *, actor: str = "system"):  # type: ignore[no-untyped-def]
    """(version, RiskRules): the newest version, creating version 1 from the defaults."""
    row = session.execute(select(RuleVersion).order_by(RuleVersion.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        from risk_factors import load_default_rules

        rules = load_default_rules()
        row = RuleVersion(created_at=utcnow(), created_by=actor, reason="Default rules", rules_json=rules.to_json())
        session.add(row)
        session.flush()
        store.audit(session, actor, "rules.created", object_type="rules", object_id=str(row.id))
        return row.id, rules
    return row.id, _rules_from_row(row)


@dataclass(frozen=True)
class RulesView:
    version: int
    created_at: datetime
    created_by: str
    reason: str
    settings: dict[str, Any]


def show_rules(user: UserSession) -> RulesView:
    user.check_active()
    with user.store.read() as session:
        row = session.execute(select(RuleVersion).order_by(RuleVersion.id.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        from risk_factors import load_default_rules

        return RulesView(0, utcnow(), "", "Default rules (not yet used)", load_default_rules().settings())
    return RulesView(row.id, row.created_at, row.created_by, row.reason, _rules_from_row(row).settings())


def rule_history(user: UserSession) -> list[RulesView]:
    user.check_active()
    with user.store.read() as session:
        rows = session.execute(select(RuleVersion).order_by(RuleVersion.id.desc())).scalars().all()
        return [RulesView(r.id, r.created_at, r.created_by, r.reason, _rules_from_row(r).settings()) for r in rows]


def set_rule(user: UserSession, name: str, value_text: str, reason: str, *, progress: Any = None) -> int:
    """A new rule version (who, when, why); flags for the latest snapshot are recomputed."""
    from risk_factors import MEASURE_SETTINGS, RuleError

    user.require(Role.CUSTODIAN)
    if not reason.strip():
        raise UsageError("Say why the rule changes (--reason): it is kept with the new rule version.")
    store = user.store
    with store.read() as session:
        version, rules = current_rules(store, session) if _has_rules(session) else (0, None)
    if rules is None:
        from risk_factors import load_default_rules

        rules = load_default_rules()
    try:
        old = rules.setting(name)
        new_rules = rules.with_text_change(name, value_text)
    except RuleError as exc:
        raise UsageError(str(exc)) from exc
    with store.write() as session:
        row = RuleVersion(created_at=utcnow(), created_by=user.username, reason=reason.strip(), rules_json=new_rules.to_json())
        session.add(row)
        session.flush()
        store.audit(
            session, user.username, "rules.changed", object_type="rules", object_id=str(row.id),
            detail={"setting": name, "old": old, "new": new_rules.setting(name), "reason": reason.strip()},
        )
        snapshot_id = _latest_snapshot_id(session)
        if snapshot_id is not None:
            if name in MEASURE_SETTINGS:
                frames = _frames_from_store(session)
                _compute_and_store(store, session, snapshot_id, frames, new_rules, row.id)
            else:
                _reflag_from_stored(store, session, snapshot_id, new_rules, row.id)
        return row.id


def _has_rules(session) -> bool:  # type: ignore[no-untyped-def]
    return session.execute(select(RuleVersion.id).limit(1)).first() is not None


def _latest_snapshot_id(session) -> int | None:  # type: ignore[no-untyped-def]
    return session.execute(
        select(Snapshot.id).where(Snapshot.source == "cases21").order_by(Snapshot.id.desc()).limit(1)
    ).scalar_one_or_none()


# -- computing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Frames:
    students: Any
    attendance: Any
    absence_types: Any
    strand_results: Any
    year_levels: Any
    calendar: Any
    extract_date: date


def _concerns(session) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    return {r.student_key: r.concern for r in session.execute(select(RelationshipsConcern)).scalars()}


def _stored_frame(session, snapshot_id: int, version: int | None = None):  # type: ignore[no-untyped-def]
    """The stored flags frame of a snapshot (its newest rule version unless given)."""
    import pandas as pd

    if version is None:
        version = session.execute(
            select(StudentFlags.rule_version).where(StudentFlags.snapshot_id == snapshot_id)
            .order_by(StudentFlags.rule_version.desc()).limit(1)
        ).scalar_one_or_none()
        if version is None:
            return None, None
    rows = session.execute(
        select(StudentFlags.data).where(StudentFlags.snapshot_id == snapshot_id, StudentFlags.rule_version == version)
    ).scalars().all()
    if not rows:
        return None, version
    return pd.DataFrame([json.loads(r) for r in rows]), version


def _jsonable(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _json_column(series) -> list[Any]:  # type: ignore[no-untyped-def]
    """``_jsonable`` of every value of one column, converted a column at a time: a plain integer
    or boolean column's values are Python ints and bools already, a float column's only change
    is NaN to None; anything else goes value by value."""
    import numpy as np

    values = series.tolist()
    kind = series.dtype.kind if isinstance(series.dtype, np.dtype) else "O"
    if kind in "iub":
        return values  # type: ignore[no-any-return]
    if kind == "f":
        return [None if v != v else v for v in values]
    return [_jsonable(v) for v in values]


def _bump_generation(conn) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        "INSERT INTO setting (key, value) VALUES ('flags_generation', '1') "
        "ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)"
    )


def _store_frame(session, snapshot_id: int, version: int, frame) -> None:  # type: ignore[no-untyped-def]
    conn = session.connection().connection.driver_connection
    _bump_generation(conn)
    conn.execute("DELETE FROM student_flags WHERE snapshot_id = ? AND rule_version = ?", (snapshot_id, version))
    columns = list(frame.columns)
    records = []
    for values in zip(*(_json_column(frame.iloc[:, i]) for i in range(len(columns))), strict=True):
        row = dict(zip(columns, values, strict=True))
        records.append((snapshot_id, version, row["student_key"], str(row.get("tier") or "none"), int(row.get("flag_count") or 0),
                        json.dumps(row, separators=(",", ":"))))
    conn.executemany(
        "INSERT INTO student_flags (snapshot_id, rule_version, student_key, tier, flag_count, data) VALUES (?, ?, ?, ?, ?, ?)",
        records,
    )


def _previous_frame(session, snapshot_id: int):  # type: ignore[no-untyped-def]
    prev_id = session.execute(
        select(Snapshot.id).where(Snapshot.source == "cases21", Snapshot.id < snapshot_id).order_by(Snapshot.id.desc()).limit(1)
    ).scalar_one_or_none()
    if prev_id is None:
        return None
    frame, _ = _stored_frame(session, prev_id)
    return frame


def _compute_and_store(store: OpenStore, session, snapshot_id: int, frames: Frames, rules, version: int) -> int:  # type: ignore[no-untyped-def]
    from risk_factors import compute_flags, compute_measures

    measures = compute_measures(
        frames.students, frames.attendance, frames.absence_types, frames.strand_results, frames.year_levels,
        extract_date=frames.extract_date, rules=rules, calendar=frames.calendar,
    )
    flags = compute_flags(
        measures, frames.students, rules, relationships_concern=_concerns(session), previous=_previous_frame(session, snapshot_id)
    )
    _store_frame(session, snapshot_id, version, flags)
    return len(flags)


def _reflag_from_stored(store: OpenStore, session, snapshot_id: int, rules, version: int, only: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Flags again from the stored measures (thresholds, concern, counting): no attendance reload."""
    from risk_factors import compute_flags, measure_columns

    frame, stored_version = _stored_frame(session, snapshot_id)
    if frame is None:
        return
    if only is not None:
        frame = frame[frame["student_key"] == only]
        if frame.empty:
            return
    measures = frame.loc[:, [c for c in measure_columns(rules) if c in frame.columns]]
    student_frame = _students_frame(session, keys=list(frame["student_key"]))
    previous = _previous_frame(session, snapshot_id)
    flags = compute_flags(measures, student_frame, rules, relationships_concern=_concerns(session), previous=previous)
    if only is not None and stored_version == version:
        conn = session.connection().connection.driver_connection
        row = {c: _jsonable(v) for c, v in zip(flags.columns, next(flags.itertuples(index=False, name=None)), strict=True)}
        _bump_generation(conn)
        conn.execute(
            "DELETE FROM student_flags WHERE snapshot_id = ? AND rule_version = ? AND student_key = ?",
            (snapshot_id, version, only),
        )
        conn.execute(
            "INSERT INTO student_flags (snapshot_id, rule_version, student_key, tier, flag_count, data) VALUES (?, ?, ?, ?, ?, ?)",
            (snapshot_id, version, only, row["tier"], int(row["flag_count"]), json.dumps(row, separators=(",", ":"))),
        )
        return
    _store_frame(session, snapshot_id, version, flags)


def _students_frame(session, keys: list[str] | None = None):  # type: ignore[no-untyped-def]
    import pandas as pd

    conn = session.connection().connection.driver_connection
    sql = f"SELECT {', '.join(STUDENT_FRAME_COLUMNS)} FROM student"
    rows = conn.execute(sql).fetchall()
    frame = pd.DataFrame(rows, columns=list(STUDENT_FRAME_COLUMNS))
    if keys is not None:
        frame = frame[frame["student_key"].isin(keys)]
    for col in ("birth_date", "entry_date", "exit_date"):
        frame[col] = pd.to_datetime(frame[col], errors="coerce")
    for col in students.CHARACTERISTICS:
        frame[col] = frame[col].astype(bool)
    return frame.reset_index(drop=True)


def _frames_from_store(session) -> Frames:  # type: ignore[no-untyped-def]
    import pandas as pd

    conn = session.connection().connection.driver_connection
    snap = session.execute(select(Snapshot).where(Snapshot.source == "cases21").order_by(Snapshot.id.desc()).limit(1)).scalar_one()
    stud = _students_frame(session)
    stud = stud[stud["student_key"].isin([r[0] for r in conn.execute("SELECT student_key FROM student WHERE in_extract = 1")])]

    def frame(sql: str, cols: list[str]):  # type: ignore[no-untyped-def]
        return pd.DataFrame(conn.execute(sql).fetchall(), columns=cols)

    att = frame("SELECT student_key, date, year_level, am_code, am_approved, am_source, pm_code, pm_approved, pm_source FROM attendance",
                ["student_key", "date", "year_level", "am_code", "am_approved", "am_source", "pm_code", "pm_approved", "pm_source"])
    att["date"] = pd.to_datetime(att["date"])
    kct = frame("SELECT code, description, abbreviation, curriculum, pre_approved FROM absence_type",
                ["code", "description", "abbreviation", "curriculum", "pre_approved"])
    kct["curriculum"] = kct["curriculum"].astype(bool)
    kct["pre_approved"] = kct["pre_approved"].astype(bool)
    strands = frame("SELECT student_key, year_semester, domain, dimension, score, year_level FROM strand_result",
                    ["student_key", "year_semester", "domain", "dimension", "score", "year_level"])
    years = frame("SELECT code, description, numeric, coordinator_name, coordinator_b_name FROM year_level",
                  ["year_level", "description", "numeric", "coordinator_name", "coordinator_b_name"])
    return Frames(stud.reset_index(drop=True), att, kct, strands, years, None, snap.extract_date)


def on_import(user: UserSession, session, extract, snapshot_id: int) -> None:  # type: ignore[no-untyped-def]
    """Inside the import's transaction: flags for the new snapshot under the current rules."""
    store = user.store
    version, rules = current_rules(store, session, actor=user.username)
    frames = Frames(
        extract.students, extract.attendance, extract.absence_types, extract.strand_results, extract.year_levels,
        getattr(extract, "calendar", None), extract.extract_date,
    )
    count = _compute_and_store(store, session, snapshot_id, frames, rules, version)
    logger.info("flags computed for %d students (rule v%d)", count, version)


# -- reading back through the students service ---------------------------------------------------


# Parsed flag rows of a snapshot, keyed by a fingerprint that every write changes: each write to
# student_flags also bumps a generation counter in the same transaction.
def _cache_of(store: OpenStore) -> dict[tuple[int, int, int], dict[str, dict[str, Any]]]:
    """One cache per open store (a restored or copied store is a different OpenStore)."""
    cache = getattr(store, "_flags_cache", None)
    if cache is None:
        cache = {}
        store._flags_cache = cache  # type: ignore[attr-defined]
    return cache  # type: ignore[no-any-return]


def _latest_rows(session, keys, store: OpenStore | None = None) -> tuple[dict[str, dict[str, Any]], int | None, int | None]:  # type: ignore[no-untyped-def]
    snapshot_id = _latest_snapshot_id(session)
    if snapshot_id is None:
        return {}, None, None
    conn = session.connection().connection.driver_connection
    found = conn.execute(
        "SELECT max(rule_version) FROM student_flags WHERE snapshot_id = ?", (snapshot_id,)
    ).fetchone()
    if found is None or found[0] is None:
        return {}, snapshot_id, None
    version = int(found[0])
    generation = conn.execute("SELECT value FROM setting WHERE key = 'flags_generation'").fetchone()
    fingerprint = (snapshot_id, version, int(generation[0]) if generation else 0)
    cache = _cache_of(store) if store is not None else {}
    parsed = cache.get(fingerprint)
    if parsed is None:
        parsed = {
            key: json.loads(data)
            for key, data in conn.execute(
                "SELECT student_key, data FROM student_flags WHERE snapshot_id = ? AND rule_version = ?", (snapshot_id, version)
            )
        }
        cache.clear()
        cache[fingerprint] = parsed
    wanted = set(keys)
    return {k: v for k, v in parsed.items() if k in wanted}, snapshot_id, version


_BOOLEAN_FIELDS = frozenset((*FLAG_NAMES, "relationships_concern"))
_FLAG_INPUTS = {
    "flag_low_attendance": ("attendance_rate", "marked_days", "absent_days", "attendance_rate_change"),
    "flag_unapproved_absences": ("unapproved_days", "unapproved_days_change"),
    "flag_suspension": ("internal_suspension_days", "external_suspension_days"),
    "flag_below_expected_english": (),
    "flag_below_expected_maths": (),
    "flag_parent_not_in_paid_work": ("parent_occupation_group",),
}


def hidden_flags(user: UserSession) -> tuple[str, ...]:
    """The flags this user's role may not see because it may not see what they are computed from
    (the access policy's derived fields, with the custodian's narrowing)."""
    policy = students.effective_policy(user)
    return tuple(f for f in FLAG_NAMES if f in policy.hidden_by_inputs(user.role))


def partial_note(user: UserSession) -> str:
    """What to say beside a flag count or tier that leaves flags out (empty when none are)."""
    hidden = hidden_flags(user)
    if not hidden:
        return ""
    names = ", ".join(FLAG_TITLES[f].lower() for f in hidden)
    return f"Flag counts and tiers count only the flags your role may see (left out: {names})."


def _truthy(value: Any) -> bool:
    return bool(value) and str(value).strip().lower() not in ("false", "0", "no", "nan", "none")


def visible_row(row: dict[str, Any], hidden: tuple[str, ...], rules) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """``row`` as a role that may not see the ``hidden`` flags sees it: those flags and their
    inputs gone, the flag count, new flags and tier computed from the flags that remain."""
    if not hidden or not row:
        return row
    out = {k: v for k, v in row.items() if k not in hidden}
    for flag in hidden:
        for name in _FLAG_INPUTS.get(flag, ()):
            out.pop(name, None)
    if out.get("flag_count") is not None:
        out["flag_count"] = max(0, int(row.get("flag_count") or 0) - sum(1 for f in hidden if _truthy(row.get(f))))
    if "new_flags" in row:
        out["new_flags"] = ",".join(n for n in str(row.get("new_flags") or "").split(",") if n and n not in hidden)
    if row.get("tier") and rules is not None:
        members = {m: _truthy(row.get(m)) for m in (*FLAG_NAMES, "relationships_concern") if m not in hidden}
        hits = [name for name, group in rules.domains if any(members.get(m, False) for m in group)]
        if len(hits) >= rules.priority_domains_at_least:
            out["tier"] = "priority"
        else:
            out["tier"] = "monitor" if any(members.values()) else "none"
        out["tier_domains"] = ",".join(hits)
    return out


def _rules_of_version(session, version: int | None):  # type: ignore[no-untyped-def]
    row = session.get(RuleVersion, version) if version else None
    return _rules_from_row(row) if row is not None else None


def load_fields(user: UserSession, keys) -> dict[str, list[Any]]:  # type: ignore[no-untyped-def]
    """Columns of FIELDS aligned with ``keys`` (None where a student has no flags). A role that
    may not see some flags' inputs gets the flag count, new flags and tier without them."""
    hidden = hidden_flags(user)
    with user.store.read() as session:
        found, _, version = _latest_rows(session, keys, user.store)
        overrides = {
            o.student_key: o.tier
            for o in session.execute(select(TierOverride).where(TierOverride.active)).scalars()
        }
        rules = _rules_of_version(session, version) if hidden else None
    rows = [found.get(k) for k in keys]
    if hidden:
        rows = [visible_row(r, hidden, rules) if r is not None else None for r in rows]
    columns: dict[str, list[Any]] = {}
    for name in FIELDS:
        if name == "tier_override":
            columns[name] = [overrides.get(k, "" if r is not None else None) if k in overrides or r is not None else None
                             for k, r in zip(keys, rows, strict=True)]
        elif name == "new_flags":
            columns[name] = [None if r is None else (r.get("new_flags") or "") for r in rows]
        elif name in _BOOLEAN_FIELDS:
            columns[name] = [None if r is None or r.get(name) is None else bool(r[name]) for r in rows]
        else:
            columns[name] = [None if r is None else r.get(name) for r in rows]
    return columns




# -- explanations, history, concern, overrides ------------------------------------------------------


@dataclass(frozen=True)
class StudentFlagsView:
    student_key: str
    snapshot_id: int | None
    extract_date: date | None
    rule_version: int | None
    values: dict[str, Any]
    explanations: tuple[str, ...]
    override: dict[str, Any] | None
    concern_recorded_by: str
    concern_recorded_at: datetime | None
    partial_note: str = ""  # said when the flag count and tier leave out flags the role may not see


def student_flags(user: UserSession, student_key: str, *, audit: bool = True) -> StudentFlagsView:
    """The flags panel for one student, as permitted (a flagged-factors item). ``audit=False``
    when the caller has just recorded the view of this record (the student panel)."""
    from risk_factors import explain

    record = students.get_student(user, student_key, audit=audit)  # scope and policy (and the view entry)
    key = student_key.strip().upper()
    policy = students.effective_policy(user)
    if not policy.allows_item(user.role, "flagged_factors"):
        return StudentFlagsView(key, None, None, None, {}, (), None, "", None)
    with user.store.read() as session:
        rows, snapshot_id, version = _latest_rows(session, [key], user.store)
        snap = session.get(Snapshot, snapshot_id) if snapshot_id else None
        rule_row = session.get(RuleVersion, version) if version else None
        concern = session.get(RelationshipsConcern, key)
        override = session.execute(
            select(TierOverride).where(TierOverride.student_key == key, TierOverride.active)
        ).scalar_one_or_none()
    row = rows.get(key, {})
    hidden = hidden_flags(user)
    if hidden and row:
        row = visible_row(row, hidden, _rules_from_row(rule_row) if rule_row is not None else None)
        if not policy.allows_item(user.role, "vels_achievement"):
            row = {k: v for k, v in row.items() if not k.startswith(("result_", "semester_", "expected_"))}
    sentences: tuple[str, ...] = ()
    if row and rule_row is not None and snap is not None:
        import pandas as pd

        visible = {k: v for k, v in row.items()}
        sentences = tuple(explain(pd.Series(visible), _rules_from_row(rule_row), rule_version=version, extract_date=snap.extract_date))  # type: ignore[arg-type]
        allowed = policy.allowed_fields(user.role)
        sentences = tuple(s for s in sentences if _sentence_allowed(s, allowed))
    values = {
        k: v for k, v in row.items()
        if k in policy.allowed_fields(user.role)
        or (k.startswith(("semester_", "expected_")) and policy.allows_item(user.role, "vels_achievement"))
    }
    ov = None
    if override is not None:
        ov = {"tier": override.tier, "reason": override.reason, "by": override.created_by, "at": override.created_at,
              "computed_then": override.computed_tier_then}
    del record
    return StudentFlagsView(
        key, snapshot_id, snap.extract_date if snap else None, version, values, sentences, ov,
        concern.recorded_by if concern else "", concern.recorded_at if concern else None,
        partial_note(user) if hidden else "",
    )


def _sentence_allowed(sentence: str, allowed: frozenset[str]) -> bool:
    text = sentence.lower()
    if text.startswith("attendance") and "attendance_rate" not in allowed:
        return False
    if "unapproved" in text and "unapproved_days" not in allowed:
        return False
    return True


def history(user: UserSession, student_key: str, *, audit: bool = True) -> list[dict[str, Any]]:
    """The student's measures across snapshots (newest rule version per snapshot), oldest first."""
    students.get_student(user, student_key, audit=audit)
    key = student_key.strip().upper()
    allowed = students.effective_policy(user).allowed_fields(user.role)
    hidden = hidden_flags(user)
    out = []
    with user.store.read() as session:
        snaps = session.execute(select(Snapshot).where(Snapshot.source == "cases21").order_by(Snapshot.id)).scalars().all()
        conn = session.connection().connection.driver_connection
        for snap in snaps:
            row = conn.execute(
                "SELECT data, rule_version FROM student_flags WHERE snapshot_id = ? AND student_key = ? "
                "ORDER BY rule_version DESC LIMIT 1",
                (snap.id, key),
            ).fetchone()
            if row:
                data = json.loads(row[0])
                if hidden:
                    data = visible_row(data, hidden, _rules_of_version(session, int(row[1])))
                out.append({"extract_date": snap.extract_date, **{k: v for k, v in data.items() if k in allowed}})
    return out


def set_relationships_concern(user: UserSession, student_key: str, concern: bool) -> None:
    user.require(Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR, Role.HOME_GROUP_TEACHER)
    students.get_student(user, student_key)
    if not students.effective_policy(user).allows_item(user.role, "flagged_factors"):
        raise UsageError("Your role may not record risk factors.")
    key = student_key.strip().upper()
    store = user.store
    with store.write() as session:
        row = session.get(RelationshipsConcern, key)
        old = row.concern if row else None
        if row is None:
            session.add(RelationshipsConcern(student_key=key, concern=concern, recorded_by=user.username, recorded_at=utcnow()))
        else:
            row.concern, row.recorded_by, row.recorded_at = concern, user.username, utcnow()
        session.flush()
        store.audit(session, user.username, "concern.recorded", object_type="student", object_id=key,
                    detail={"item": "relationships_concern", "old": old, "new": concern})
        snapshot_id = _latest_snapshot_id(session)
        if snapshot_id is not None and _has_rules(session):
            version, rules = current_rules(store, session)
            _reflag_from_stored(store, session, snapshot_id, rules, version, only=key)


def override_tier(user: UserSession, student_key: str, tier: str, reason: str) -> None:
    user.require(Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR)
    if tier not in TIERS:
        raise UsageError(f"The tier must be one of: {', '.join(TIERS)}.")
    if not reason.strip():
        raise UsageError("Give a reason for the override; it is kept and shown beside the computed tier.")
    view = student_flags(user, student_key)
    key = view.student_key
    store = user.store
    with store.write() as session:
        for old in session.execute(select(TierOverride).where(TierOverride.student_key == key, TierOverride.active)).scalars():
            old.active, old.cleared_by, old.cleared_at = False, user.username, utcnow()
        session.add(TierOverride(
            student_key=key, tier=tier, reason=reason.strip(), created_by=user.username, created_at=utcnow(),
            snapshot_id=view.snapshot_id, computed_tier_then=str(view.values.get("tier", "")), active=True,
        ))
        store.audit(session, user.username, "tier.overridden", object_type="student", object_id=key,
                    detail={"old": view.values.get("tier"), "new": tier,  # the reason stays with the override
                            "reason_sha256": hashlib.sha256(reason.strip().encode("utf-8")).hexdigest()})


def clear_override(user: UserSession, student_key: str) -> None:
    user.require(Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR)
    students.get_student(user, student_key)
    key = student_key.strip().upper()
    with user.store.write() as session:
        rows = session.execute(select(TierOverride).where(TierOverride.student_key == key, TierOverride.active)).scalars().all()
        for row in rows:
            row.active, row.cleared_by, row.cleared_at = False, user.username, utcnow()
        user.store.audit(session, user.username, "tier.override-cleared", object_type="student", object_id=key)


@dataclass(frozen=True)
class OverrideView:
    student_key: str
    tier: str
    computed_then: str
    computed_now: str
    reason: str
    by: str
    at: datetime


def list_overrides(user: UserSession) -> list[OverrideView]:
    """Active overrides of students the user may see, with the computed tier then and now."""
    visible = set(students.list_students(user, fields=("student_key",), audit=False).column("student_key"))
    with user.store.read() as session:
        rows, _, _ = _latest_rows(session, visible, user.store)
        overrides = session.execute(select(TierOverride).where(TierOverride.active).order_by(TierOverride.created_at)).scalars().all()
        return [
            OverrideView(o.student_key, o.tier, o.computed_tier_then, str(rows.get(o.student_key, {}).get("tier", "")), o.reason, o.created_by, o.created_at)
            for o in overrides if o.student_key in visible
        ]


# -- cohort --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    students: int
    flag_counts: dict[str, int]
    tier_counts: dict[str, int]  # the effective tier: staff's override where there is one
    computed_tier_counts: dict[str, int] = field(default_factory=dict)  # the rules' tier alone

    def share(self, count: int) -> float:
        return 100.0 * count / self.students if self.students else 0.0


def cohort(user: UserSession, *, year_level: str | None = None) -> Cohort:
    """Counts of each flag and tier among the students the user may see (optionally one year)."""
    table = students.list_students(
        user, fields=("student_key", "year_level", *FLAG_NAMES, "relationships_concern", "tier", "tier_override"), audit=False
    )
    cols = table.columns
    rows = [r for r in table.rows if year_level is None or ("year_level" in cols and r[cols.index("year_level")] == year_level)]
    if "tier" in cols:  # the population: students with flags in the latest snapshot
        rows = [r for r in rows if r[cols.index("tier")] is not None]
    flag_counts = {f: sum(1 for r in rows if r[cols.index(f)]) for f in (*FLAG_NAMES, "relationships_concern") if f in cols}
    computed = [r[cols.index("tier")] for r in rows] if "tier" in cols else []
    effective = [_effective(r, cols) for r in rows] if "tier" in cols else []
    tiers = {t: effective.count(t) for t in TIERS}
    return Cohort(len(rows), flag_counts, tiers, {t: computed.count(t) for t in TIERS})


def _effective(row: tuple[Any, ...], cols: tuple[str, ...]) -> Any:
    """The tier staff work from: an active override, else the computed tier."""
    override = row[cols.index("tier_override")] if "tier_override" in cols else None
    return override or row[cols.index("tier")]


def count_by_year(user: UserSession) -> dict[str, dict[str, int]]:
    """For the de-identified summary: flags and tiers by year level."""
    table = students.list_students(user, fields=("year_level", *FLAG_NAMES, "tier", "tier_override"), audit=False)
    cols = table.columns
    out: dict[str, dict[str, int]] = {}
    if "year_level" not in cols:
        return out
    for flag in FLAG_NAMES:
        if flag in cols:
            by: dict[str, int] = {}
            for r in table.rows:
                if r[cols.index(flag)]:
                    by[r[cols.index("year_level")]] = by.get(r[cols.index("year_level")], 0) + 1
            out[FLAG_TITLES[flag]] = by
    if "tier" in cols:
        for tier in ("monitor", "priority"):
            by = {}
            for r in table.rows:
                if r[cols.index("tier")] is not None and _effective(r, cols) == tier:
                    by[r[cols.index("year_level")]] = by.get(r[cols.index("year_level")], 0) + 1
            out[f"Tier: {tier}"] = by
    return out


