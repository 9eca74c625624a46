"""Openness and breaches (issue 10 s 5): the privacy statement with the school's own policy
text and each user's acknowledgement, the breach register, and the unusual-access report."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from mapping_tool.errors import UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.services.outputs import atomic_output
from mapping_tool.store.models import AuditEntry, Setting
from mapping_tool.store.models_records import Breach, BreachStudent, PrivacyAcknowledgement

POLICY_SETTING = "privacy_policy_text"
MAX_POLICY_CHARS = 20_000

STATEMENT = """\
What this tool holds
The Student Mapping Tool holds a copy of some CASES21 and VASS data about our students (name, \
year level and home group, attendance, results, and yes/no status characteristics), the early \
school leaving risk flags worked out from it, and the welfare records staff create here: notes, \
interventions and their outcomes, consents, referrals and file notes.

Why
To find students at risk of leaving school early and to plan, record and review the support \
the school gives them.

Who sees what
Each role sees only the data items the privacy impact assessment allows it (home group \
teachers their home group, year level coordinators their year levels, principal class and \
welfare staff the school). Every view, change, export and print is recorded in the audit log.

How long it is kept
The tool's copy of CASES21 data is destroyed one year after a student leaves (CASES21 keeps the \
original). Welfare records are first transferred to the student's official file, which the \
school keeps for at least 75 years, and then destroyed here. Records needed for legal \
proceedings are kept (legal holds). Disposal needs the principal's approval and is registered.

How to ask for access or a correction
A student or parent may ask the principal for the information the tool holds; the data \
custodian produces it. CASES21 data is corrected in CASES21; records made in this tool are \
corrected as a new version that keeps the old one visible. You can see and correct your own \
profile on the Profile page.

Breaches
Report any loss or misuse of this information to the principal at once."""


def policy_text(user: UserSession) -> str:
    user.check_active()
    with user.store.read() as session:
        row = session.get(Setting, POLICY_SETTING)
    return json.loads(row.value) if row else ""


def set_policy_text(user: UserSession, text: str) -> None:
    """The school's own Information Privacy Policy text, shown under the statement (custodian)."""
    user.require(Role.CUSTODIAN)
    text = (text or "").strip()
    if len(text) > MAX_POLICY_CHARS:
        raise UsageError(f"The policy text is longer than {MAX_POLICY_CHARS:,} characters; shorten it or link to it.")
    store = user.store
    with store.write() as session:
        row = session.get(Setting, POLICY_SETTING)
        if row is None:
            session.add(Setting(key=POLICY_SETTING, value=json.dumps(text)))
        else:
            row.value = json.dumps(text)
        store.audit(session, user.username, "privacy.policy-changed", object_type="setting", object_id=POLICY_SETTING,
                    detail={"sha256": hashlib.sha256(text.encode()).hexdigest(), "chars": len(text)})


def statement(user: UserSession) -> str:
    own = policy_text(user)
    if not own:
        return STATEMENT
    return f"{STATEMENT}\n\nThe school's Information Privacy Policy\n{own}"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def needs_acknowledgement(user: UserSession) -> bool:
    """True until this user has acknowledged the current text (a changed text asks again)."""
    digest = _digest(statement(user))
    with user.store.read() as session:
        found = session.execute(
            select(PrivacyAcknowledgement.id).where(PrivacyAcknowledgement.username == user.username,
                                                    PrivacyAcknowledgement.statement_sha256 == digest)
        ).first()
    return found is None


def acknowledge(user: UserSession) -> None:
    digest = _digest(statement(user))
    store = user.store
    with store.write() as session:
        session.add(PrivacyAcknowledgement(username=user.username, statement_sha256=digest, acknowledged_at=utcnow()))
        store.audit(session, user.username, "privacy.acknowledged", object_type="account", object_id=user.username,
                    detail={"sha256": digest})


# -- the breach register ---------------------------------------------------------------------


@dataclass(frozen=True)
class BreachView:
    id: int
    found_on: date
    what: str
    students_affected: int
    student_keys: tuple[str, ...]
    notified: str
    notified_on: date | None
    steps: str
    recorded_by: str
    recorded_at: datetime
    follows: int | None = None  # a follow-up: the entry it follows


def add_breach(user: UserSession, *, found_on: date, what: str, students: list[str] | None = None,
               notified: str = "", notified_on: date | None = None, steps: str = "") -> BreachView:
    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    what = (what or "").strip()
    if not what:
        raise UsageError("Say what happened (--what).")
    if found_on > date.today():
        raise UsageError("The date the breach was found cannot be in the future.")
    if notified_on is not None and notified_on < found_on:
        raise UsageError("The notification date is before the breach was found.")
    keys = sorted({k.strip().upper() for k in (students or []) if k.strip()})
    store = user.store
    with store.write() as session:
        breach = Breach(found_on=found_on, what=what, notified=(notified or "").strip(), notified_on=notified_on,
                        steps=(steps or "").strip(), students_affected=len(keys), recorded_by=user.username,
                        recorded_at=utcnow())
        session.add(breach)
        session.flush()
        session.add_all(BreachStudent(breach_id=breach.id, student_key=k) for k in keys)
        store.audit(session, user.username, "breach.recorded", object_type="breach", object_id=str(breach.id),
                    detail={"student_keys": keys})
        return BreachView(breach.id, found_on, what, len(keys), tuple(keys), breach.notified, notified_on,
                          breach.steps, user.username, breach.recorded_at)


def list_breaches(user: UserSession) -> list[BreachView]:
    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    with user.store.read() as session:
        links: dict[int, list[str]] = defaultdict(list)
        for link in session.execute(select(BreachStudent).order_by(BreachStudent.student_key)).scalars():
            links[link.breach_id].append(link.student_key)
        return [BreachView(b.id, b.found_on, b.what, b.students_affected, tuple(links[b.id]), b.notified,
                           b.notified_on, b.steps, b.recorded_by, b.recorded_at, b.follows_id)
                for b in session.execute(select(Breach).order_by(Breach.id)).scalars()]


FOLLOW_UP = "Follow-up to breach {id} (found on {found:%d/%m/%Y})"


def add_breach_follow_up(user: UserSession, breach_id: int, *, what: str = "", notified: str = "",
                         notified_on: date | None = None, steps: str = "") -> BreachView:
    """What followed a breach (a later notification, further steps) as a new entry in the register
    that names the first; the first entry stays as it was recorded. Same students, same date found."""
    user.require(Role.CUSTODIAN, Role.PRINCIPAL)
    what, notified, steps = ((v or "").strip() for v in (what, notified, steps))
    store = user.store
    with store.write() as session:
        first = session.get(Breach, breach_id)
        if first is None:
            raise UsageError(f"There is no breach {breach_id} in the register.")
        if not (what or notified or notified_on or steps):
            raise UsageError("Say what followed: whom you notified and when, or the steps taken.")
        if notified_on is not None and notified_on < first.found_on:
            raise UsageError("The notification date is before the breach was found.")
        if notified_on is not None and notified_on > date.today():
            raise UsageError("The notification date cannot be in the future.")
        keys = sorted(session.execute(select(BreachStudent.student_key)
                                      .where(BreachStudent.breach_id == breach_id)).scalars())
        text = FOLLOW_UP.format(id=breach_id, found=first.found_on) + (f": {what}" if what else "")
        breach = Breach(found_on=first.found_on, what=text, notified=notified, notified_on=notified_on, steps=steps,
                        students_affected=first.students_affected, recorded_by=user.username, recorded_at=utcnow(),
                        follows_id=first.id)
        session.add(breach)
        session.flush()
        session.add_all(BreachStudent(breach_id=breach.id, student_key=k) for k in keys)
        store.audit(session, user.username, "breach.recorded", object_type="breach", object_id=str(breach.id),
                    detail={"student_keys": keys, "follow_up_to": breach_id})
        return BreachView(breach.id, first.found_on, text, first.students_affected, tuple(keys), notified, notified_on,
                          steps, user.username, breach.recorded_at, first.id)


# -- unusual access ----------------------------------------------------------------------------

BULK_EXPORT_ROWS = 50
MANY_OPENED_PER_HOUR = 30
WORK_HOURS = (7, 19)  # local time; outside these, or on a weekend, is out of hours

UNUSUAL_HEADERS = ("Day", "User", "Refused reads", "Bulk exports", "Records opened", "Most opened in one hour",
                   "Actions out of hours", "Why it is listed")


def _local(at: str) -> datetime:
    return datetime.fromisoformat(at.rstrip("Z")).replace(tzinfo=UTC).astimezone().replace(tzinfo=None)


def unusual_access(user: UserSession, *, since: date | None = None) -> list[tuple[Any, ...]]:
    """By user and day: refused reads, bulk exports, many records opened within an hour, use out
    of hours. Only days with something unusual are listed."""
    user.require(Role.CUSTODIAN)
    start = since or (date.today() - timedelta(days=90))
    with user.store.read() as session:
        rows = session.execute(
            select(AuditEntry.at, AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
            .where(AuditEntry.at >= (start - timedelta(days=1)).isoformat()).order_by(AuditEntry.id)
        ).all()
    days: dict[tuple[date, str], dict[str, Any]] = {}
    for at, actor, action, detail in rows:
        when = _local(at)
        if when.date() < start:
            continue
        day = days.setdefault((when.date(), actor), {"refused": 0, "bulk": 0, "opened": [], "out": 0})
        if "refused" in action or action.endswith(".failed"):
            day["refused"] += 1
        if action.startswith(("export.", "print.")):
            try:
                count = json.loads(detail).get("rows", 0)
            except ValueError:
                count = 0
            if isinstance(count, int) and count >= BULK_EXPORT_ROWS:
                day["bulk"] += 1
        if action in ("student.viewed", "notes.viewed"):
            day["opened"].append(when)
        if action not in ("sign-out",) and (when.weekday() >= 5 or not WORK_HOURS[0] <= when.hour < WORK_HOURS[1]):
            day["out"] += 1
    out = []
    for (day, actor), d in sorted(days.items()):
        times = d["opened"]
        peak, j = 0, 0
        for i, t in enumerate(times):
            while times[j] < t - timedelta(hours=1):
                j += 1
            peak = max(peak, i - j + 1)
        why = []
        if d["refused"]:
            why.append("refused reads")
        if d["bulk"]:
            why.append(f"exports of {BULK_EXPORT_ROWS} or more rows")
        if peak >= MANY_OPENED_PER_HOUR:
            why.append(f"{MANY_OPENED_PER_HOUR} or more records opened within an hour")
        if d["out"]:
            why.append("use out of hours")
        if why:
            out.append((day, actor, d["refused"], d["bulk"], len(times), peak, d["out"], "; ".join(why)))
    return out


def export_unusual_access(user: UserSession, out: Path, *, force: bool = False, since: date | None = None) -> int:
    from mapping_tool.services.export import export_format, write_rows

    rows = unusual_access(user, since=since)
    fmt = export_format(out)
    with atomic_output(out, store_folder=user.store.files.folder, replace=force) as tmp:
        count = write_rows(tmp, UNUSUAL_HEADERS, rows, fmt=fmt, title="Unusual access")
    with user.store.write() as session:
        user.store.audit(session, user.username, "export.unusual-access", object_type="export", object_id=out.suffix,
                         detail={"rows": count})
    return count
