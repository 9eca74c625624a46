"""Correcting a consent recorded wrongly (issue 10 s 3; a wrong name of who gave consent, a
wrong relationship or witness): a consent record is never edited. The wrong record is closed as
"recorded in error" (its withdrawal fields say so, from today, and name the record that replaces
it) and a new record with the corrected details replaces it; both stay on the student's record.

Only details of how the consent was recorded can be corrected (who gave it, their relationship,
the witness, the way it was given, where the signed form is kept). What was consented to (the
agency, purpose, categories, dates) is the family's decision: a consent that says the wrong thing
is withdrawn and a new consent is sought.

Referrals not yet sent that rely on the wrong record now rely on its replacement (each notes it
in its status history); a referral already sent keeps the record it relied on when it was sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select

import referral_forms as rf
from mapping_tool.errors import PermissionDenied, UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services import referrals, students
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.store.models_referrals import (
    Agency,
    ConsentEvidence,
    ConsentRecord,
    Referral,
    ReferralStatusChange,
)
from referral_forms import status as st

CORRECTORS = (Role.CUSTODIAN, Role.PRINCIPAL)  # besides the staff member who recorded the consent
FIELDS = ("giver_name", "relationship", "witness", "method", "evidence_note")
MAX_REASON = 500
UNSENT = (st.DRAFT, st.AWAITING, st.AUTHORISED)


@dataclass(frozen=True)
class ConsentCorrection:
    old_id: int
    new_id: int
    changed: tuple[str, ...]  # the fields corrected
    referrals: tuple[int, ...]  # unsent referrals that now rely on the new record


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def correct_consent(
    user: UserSession, consent_id: int, reason: str, *, giver_name: str | None = None, relationship: str | None = None,
    witness: str | None = None, method: str | None = None, evidence_note: str | None = None,
) -> ConsentCorrection:
    """Replace consent ``consent_id`` by a record with the corrected details (see the module's
    docstring). Refused with one sentence, changing nothing: anyone but the staff member who
    recorded it, the data custodian or principal class; no reason; nothing changed; a consent
    already withdrawn."""
    user.require(*referrals.DRAFTERS)
    why = (reason or "").strip()
    with user.store.read() as session:
        old = referrals._consent_for_user(session, user, consent_id)
        key, recorded_by = old.student_key, old.recorded_by
    students.get_student(user, key, audit=False)  # scope: out of scope looks like not existing
    if recorded_by != user.username and user.role not in CORRECTORS:
        with user.store.write() as session:
            user.store.audit(session, user.username, "consent.correction-refused", object_type="student",
                             object_id=key, detail={"consent": consent_id})
        raise PermissionDenied("Only the staff member who recorded the consent, the data custodian or principal "
                               "class may correct it.")
    if not why:
        raise UsageError("Say why the consent record is being corrected (the reason is kept with it).")
    if len(why) > MAX_REASON:
        raise UsageError(f"A reason is at most {MAX_REASON} characters.")
    wanted = {"giver_name": giver_name, "relationship": relationship, "witness": witness, "method": method,
              "evidence_note": evidence_note}
    with user.store.write() as session:
        old = referrals._consent_for_user(session, user, consent_id)
        if old.withdrawn_on is not None:
            raise UsageError(f"Consent {consent_id} was withdrawn on {old.withdrawn_on:%d/%m/%Y}: it cannot be "
                             "corrected. Record the consent again if it is given again.")
        current = {"giver_name": old.giver_name, "relationship": old.giver_relationship, "witness": old.witness,
                   "method": old.method, "evidence_note": old.evidence_note}
        new = dict(current)
        for name, value in wanted.items():
            if value is not None:
                new[name] = value.strip()
        if new["method"] != old.method:
            new["method"] = referrals._domain(rf.rules.parse_choice, new["method"], rf.rules.METHODS,
                                              "The way consent was given")
        changed = tuple(f for f in FIELDS if new[f] != current[f])
        if not changed:
            raise UsageError("Nothing is corrected: give the corrected details (e.g. --giver-name).")
        agency_name = session.get(Agency, old.agency_id).name  # type: ignore[union-attr]
        referrals._domain(rf.check_consent, rf.ConsentInput(
            key, agency_name, old.purpose, tuple(old.categories.split(",")) if old.categories else (), old.given_by,
            new["giver_name"], old.date_given, old.expires, old.capacity, new["method"], old.informed,
            old.freely_given, new["relationship"], new["witness"],
        ), today=old.date_given)  # the record as it was given; its date was checked when first recorded
        now = utcnow()
        replacement = ConsentRecord(
            student_key=key, agency_id=old.agency_id, purpose=old.purpose, categories=old.categories,
            given_by=old.given_by, giver_name=new["giver_name"],
            giver_relationship=new["relationship"] or ("student" if old.given_by == "student" else old.given_by),
            capacity=old.capacity, capacity_assessed_by=old.capacity_assessed_by,
            capacity_assessed_on=old.capacity_assessed_on, informed=old.informed, freely_given=old.freely_given,
            method=new["method"], witness=new["witness"], date_given=old.date_given, expires=old.expires,
            evidence_note=new["evidence_note"], recorded_by=user.username, recorded_at=now,
        )
        session.add(replacement)
        session.flush()
        for ev in session.execute(select(ConsentEvidence).where(ConsentEvidence.consent_id == old.id)).scalars().all():
            session.add(ConsentEvidence(consent_id=replacement.id, file_name=ev.file_name, sha256=ev.sha256, size=ev.size,
                                        content=ev.content, added_by=ev.added_by, added_at=ev.added_at))
        old.withdrawn_on = max(referrals._today(), old.date_given)  # the school's day, not UTC's
        old.withdrawn_how = f"Recorded in error: replaced by consent {replacement.id}. Reason: {why}"
        old.withdrawn_by = user.username
        old.withdrawn_at = now
        moved = []
        for ref in session.execute(
            select(Referral).where(Referral.consent_id == old.id, Referral.status.in_(UNSENT)).order_by(Referral.id)
        ).scalars():
            ref.consent_id = replacement.id
            session.add(ReferralStatusChange(
                referral_id=ref.id, status=ref.status, changed_by=user.username, changed_at=now,
                note=f"consent {old.id} was recorded in error; this referral now relies on consent {replacement.id}"))
            moved.append(ref.id)
        user.store.audit(
            session, user.username, "consent.corrected", object_type="student", object_id=key,
            detail={"consent": old.id, "replaced_by": replacement.id, "fields": list(changed), "referrals": moved,
                    "reason_chars": len(why), "reason_sha256": _sha(why)},
        )
        return ConsentCorrection(old.id, replacement.id, changed, tuple(moved))
