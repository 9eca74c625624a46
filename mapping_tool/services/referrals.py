"""Referrals to outside agencies: the agencies register, consent records, referrals with custodian
authorisation, and the file note of every disclosure (privacy assessment, section 6 and
Attachments 1 to 3; the Victorian information sharing schemes).

Producing the form (PDF, Word or a printout) *is* the disclosure: the file note is written in the
same transaction as the document, so there is never a document without its note nor a note
without its document. A preview writes none. The disclosure rules themselves are pure functions
in ``referral_forms``; this service feeds them the store's data, applies who may do what, and
writes the audit log. Each file note's digest goes into the audit chain, so ``audit verify``
finds a note edited after it was written (``check_file_notes``).

Qt stays in ``mapping_tool/ui``: the PDF and the printout are made by a function the caller passes
(``mapping_tool.ui.forms.html_to_pdf`` from the window and the command line).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

import referral_forms as rf
from mapping_tool.errors import AuthenticationError, KnownError, PermissionDenied, UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services import students
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.services.notes import SENSITIVE_READERS
from mapping_tool.services.outputs import atomic_output
from mapping_tool.store.models import Account, AuditEntry, Setting, Snapshot, Student, YearLevel
from mapping_tool.store.models_referrals import (
    Agency,
    AgencyChange,
    ConsentEvidence,
    ConsentRecord,
    FileNote,
    Referral,
    ReferralStatusChange,
)
from referral_forms import categories as cats
from referral_forms import status as st
from referral_forms.render import (
    AgencyBlock,
    ConsentBlock,
    ConsentFormData,
    FileNoteData,
    FormData,
    PersonBlock,
    consent_form_html,
    file_notes_html,
    form_html,
)
from referral_forms.rules import CONSENT, EXCEPTIONS, ISE_SENTENCES, ISE_VALUES, add_months

logger = logging.getLogger(__name__)

DRAFTERS = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE, Role.YEAR_LEVEL_COORDINATOR)
AUTHORISERS = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
MAX_EVIDENCE = 20 * 1024 * 1024
FILENOTE_COLUMNS = (
    "note_id", "created_at", "student_key", "agency", "disclosed_by", "authorised_by", "basis", "consent_id",
    "categories", "values", "document_sha256", "referral_id", "views_sought", "corrects",
)
PdfRenderer = Callable[[str, Path], Any]  # (html, path): writes a PDF of the html to path
Printer = Callable[[str], Any]  # (html): prints it (raises to cancel)


class ReferralError(KnownError):
    exit_code = 2


def _domain(fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
    """Call a domain function, turning its refusal into the tool's one-sentence error."""
    try:
        return fn(*args, **kw)
    except rf.ReferralFormError as exc:
        raise ReferralError(exc.message) from None


def _today() -> date:
    return date.today()


def _local(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)


# -- settings ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralSettings:
    stale_extract_days: int = 30
    consent_months: int = 12
    designated: frozenset[str] = frozenset()  # staff the principal designated for CISS/FVISS


_SETTING_KEY = "referrals"
SETTING_LIMITS = {
    "stale_extract_days": (1, 365, "days after which an extract is too old for a referral"),
    "consent_months": (1, 36, "months a consent lasts unless it says otherwise"),
}


def referral_settings(user: UserSession) -> ReferralSettings:
    user.check_active()
    with user.store.read() as session:
        return _settings(session)


def _settings(session: Any) -> ReferralSettings:
    row = session.get(Setting, _SETTING_KEY)
    if row is None:
        return ReferralSettings()
    data = json.loads(row.value)
    return ReferralSettings(
        stale_extract_days=int(data.get("stale_extract_days", 30)),
        consent_months=int(data.get("consent_months", 12)),
        designated=frozenset(data.get("designated", [])),
    )


def _save_settings(session: Any, settings: ReferralSettings) -> None:
    payload = json.dumps({
        "version": 1, "stale_extract_days": settings.stale_extract_days,
        "consent_months": settings.consent_months, "designated": sorted(settings.designated),
    })
    row = session.get(Setting, _SETTING_KEY)
    if row is None:
        session.add(Setting(key=_SETTING_KEY, value=payload))
    else:
        row.value = payload


def set_referral_setting(user: UserSession, name: str, value: int) -> ReferralSettings:
    user.require(Role.CUSTODIAN)
    key = name.replace("-", "_")
    if key not in SETTING_LIMITS:
        raise UsageError(f"Unknown referral setting '{name}'. Settings: {', '.join(SETTING_LIMITS)}.")
    low, high, what = SETTING_LIMITS[key]
    if not low <= int(value) <= high:
        raise UsageError(f"The number of {what} must be between {low} and {high}.")
    with user.store.write() as session:
        current = _settings(session)
        updated = ReferralSettings(**{**current.__dict__, key: int(value)})
        _save_settings(session, updated)
        user.store.audit(session, user.username, "setting.changed", object_type="setting", object_id=key,
                         detail={"old": getattr(current, key), "new": int(value)})
    return updated


def set_designated(user: UserSession, username: str, designated: bool) -> ReferralSettings:
    """The data custodian records the staff the principal designated to share under CISS/FVISS."""
    user.require(Role.CUSTODIAN)
    with user.store.write() as session:
        account = session.execute(select(Account).where(Account.username == username.strip())).scalar_one_or_none()
        if account is None:
            raise UsageError(f"There is no account '{username.strip()}'.")
        current = _settings(session)
        names = set(current.designated)
        (names.add if designated else names.discard)(account.username)
        updated = ReferralSettings(current.stale_extract_days, current.consent_months, frozenset(names))
        _save_settings(session, updated)
        user.store.audit(session, user.username, "referrals.designation", object_type="account",
                         object_id=account.username, detail={"designated": designated})
    return updated


# -- agencies -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgencyView:
    id: int
    name: str
    email: str
    phone: str
    fax: str
    address: str
    postcode: str
    contact_person: str
    ise: str
    agreement_ref: str
    agreement_start: date | None
    agreement_end: date | None
    agreement_categories: tuple[str, ...]

    def agreement_state(self, on: date | None = None) -> str:
        if not self.agreement_ref:
            return "none recorded"
        day = on or _today()
        if self.agreement_end and self.agreement_end < day:
            return f"ended {self.agreement_end:%d/%m/%Y}"
        if self.agreement_start and self.agreement_start > day:
            return f"from {self.agreement_start:%d/%m/%Y}"
        return f"current until {self.agreement_end:%d/%m/%Y}" if self.agreement_end else "current"

    def info(self) -> rf.AgencyInfo:
        agreement = None
        if self.agreement_ref:
            agreement = rf.Agreement(self.agreement_ref, self.agreement_start, self.agreement_end,
                                     frozenset(self.agreement_categories))
        return rf.AgencyInfo(self.name, self.ise, agreement)


def _agency_view(a: Agency) -> AgencyView:
    return AgencyView(a.id, a.name, a.email, a.phone, a.fax, a.address, a.postcode, a.contact_person, a.ise,
                      a.agreement_ref, a.agreement_start, a.agreement_end, cats.split(a.agreement_categories))


def _agency_fields(
    *, name: str, email: str, phone: str, address: str, postcode: str, fax: str, ise: str, contact_person: str,
    agreement_ref: str, agreement_start: date | None, agreement_until: date | None,
    agreement_categories: str | Sequence[str] | None,
) -> dict[str, Any]:
    """The checks an agency's details pass, whether added or changed: returns the values to store
    (the Agency columns), or raises one clear sentence."""
    name = name.strip()
    if not name:
        raise UsageError("An agency needs a name.")
    if len(name) > 120:
        raise UsageError("An agency's name is at most 120 characters.")
    email = email.strip()
    if "@" not in email or email.startswith("@") or email.endswith("@") or " " in email:
        raise UsageError(f"'{email}' is not an email address.")
    if not phone.strip():
        raise UsageError("An agency needs a phone number.")
    if not address.strip():
        raise UsageError("An agency needs an address.")
    postcode = postcode.strip()
    if not (len(postcode) == 4 and postcode.isdigit()):
        raise UsageError(f"'{postcode}' is not a postcode: write four digits.")
    ise_value = _domain(rf.rules.parse_choice, ise, ISE_VALUES, "Whether the agency is a prescribed information sharing entity")
    any_agreement = bool(agreement_ref.strip() or agreement_until or agreement_categories)
    agreement_cats: tuple[str, ...] = ()
    if any_agreement:
        if not (agreement_ref.strip() and agreement_until and agreement_categories):
            raise UsageError("A data sharing agreement needs its reference, end date and categories together.")
        agreement_cats = _domain(cats.parse_categories, agreement_categories, what="categories the agreement covers")
        if agreement_start and agreement_until and agreement_until < agreement_start:
            raise UsageError("The agreement's end date is before its start.")
    return {
        "name": name, "email": email, "phone": phone.strip(), "fax": fax.strip(), "address": address.strip(),
        "postcode": postcode, "contact_person": contact_person.strip(), "ise": ise_value,
        "agreement_ref": agreement_ref.strip(), "agreement_start": agreement_start,
        "agreement_end": agreement_until, "agreement_categories": cats.join(agreement_cats),
    }


def add_agency(
    user: UserSession, name: str, *, email: str, phone: str, address: str, postcode: str, fax: str = "",
    ise: str = "unknown", contact_person: str = "", agreement_ref: str = "", agreement_start: date | None = None,
    agreement_until: date | None = None, agreement_categories: str | Sequence[str] | None = None,
) -> AgencyView:
    """Add an agency to the register the data custodian keeps."""
    user.require(Role.CUSTODIAN)
    values = _agency_fields(
        name=name, email=email, phone=phone, address=address, postcode=postcode, fax=fax, ise=ise,
        contact_person=contact_person, agreement_ref=agreement_ref, agreement_start=agreement_start,
        agreement_until=agreement_until, agreement_categories=agreement_categories,
    )
    name = values["name"]
    with user.store.write() as session:
        if session.execute(select(Agency.id).where(Agency.name_key == name.casefold())).first():
            raise UsageError(f"The agency {name} is already in the register.")
        agency = Agency(**values, name_key=name.casefold(), created_at=utcnow(), created_by=user.username)
        session.add(agency)
        session.flush()
        user.store.audit(session, user.username, "agency.added", object_type="agency", object_id=str(agency.id),
                         detail={"name": name, "ise": values["ise"], "agreement": agency.agreement_ref,
                                 "agreement_until": agency.agreement_end,
                                 "categories": list(cats.split(agency.agreement_categories))})
        return _agency_view(agency)


# The fields of an agency a change may touch, in the order they are shown, with the words a school uses.
AGENCY_FIELDS = {
    "name": "name", "email": "email", "phone": "phone", "fax": "fax", "address": "address", "postcode": "postcode",
    "contact_person": "contact person", "ise": "prescribed information sharing entity",
    "agreement_ref": "agreement reference", "agreement_start": "agreement start",
    "agreement_end": "agreement end", "agreement_categories": "agreement categories",
}


def _stored_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def update_agency(
    user: UserSession, name: str, *, reason: str, email: str | None = None, phone: str | None = None,
    fax: str | None = None, address: str | None = None, postcode: str | None = None,
    contact_person: str | None = None, ise: str | None = None, agreement_ref: str | None = None,
    agreement_start: date | None = None, agreement_until: date | None = None,
    agreement_categories: str | Sequence[str] | None = None, clear_agreement: bool = False,
    new_name: str | None = None,
) -> AgencyView:
    """The data custodian changes an agency's details (a new name, a new phone number, a renewed
    agreement). Each changed field keeps its earlier value, with who, when and why; None leaves a
    field as it is, an empty text clears it; ``clear_agreement`` removes the agreement as a whole
    (it ended and was not renewed). Referrals and consents follow a renamed agency (they hold it by
    its number); file notes keep the name the form went out under. A refusal changes nothing."""
    user.require(Role.CUSTODIAN)
    reason = reason.strip()
    if not reason:
        raise UsageError("Say why the agency's details change (a reason is required).")
    if clear_agreement and any(v is not None for v in (agreement_ref, agreement_start, agreement_until, agreement_categories)):
        raise UsageError("Either remove the agreement or give its new details, not both.")
    with user.store.write() as session:
        agency = _agency_by_name(session, name)

        def pick(new: Any, old: Any) -> Any:
            return old if new is None else new

        values = _agency_fields(
            name=pick(new_name, agency.name), email=pick(email, agency.email), phone=pick(phone, agency.phone),
            address=pick(address, agency.address), postcode=pick(postcode, agency.postcode),
            fax=pick(fax, agency.fax), ise=pick(ise, agency.ise),
            contact_person=pick(contact_person, agency.contact_person),
            agreement_ref="" if clear_agreement else pick(agreement_ref, agency.agreement_ref),
            agreement_start=None if clear_agreement else pick(agreement_start, agency.agreement_start),
            agreement_until=None if clear_agreement else pick(agreement_until, agency.agreement_end),
            agreement_categories=None if clear_agreement else (
                pick(agreement_categories, cats.split(agency.agreement_categories)) or None),
        )
        changed = [f for f in AGENCY_FIELDS if getattr(agency, f) != values[f]]
        if not changed:
            raise UsageError(f"Nothing to change: the details given are those {agency.name} already has.")
        earlier_name = agency.name
        name_key = values["name"].casefold()
        if name_key != agency.name_key:
            if session.execute(select(Agency.id).where(Agency.name_key == name_key)).first():
                raise UsageError(f"Another agency is already called {values['name']}: choose another name.")
            agency.name_key = name_key
        now = utcnow()
        for field in changed:
            session.add(AgencyChange(
                agency_id=agency.id, field=field, old_value=_stored_text(getattr(agency, field)),
                new_value=_stored_text(values[field]), changed_by=user.username, changed_at=now, reason=reason,
            ))
            setattr(agency, field, values[field])
        session.flush()
        detail: dict[str, Any] = {"name": agency.name, "fields": changed}
        if agency.name != earlier_name:
            detail["earlier_name"] = earlier_name
        user.store.audit(session, user.username, "agency.changed", object_type="agency", object_id=str(agency.id),
                         detail=detail)
        return _agency_view(agency)


@dataclass(frozen=True)
class AgencyChangeView:
    changed_at: datetime  # local time
    changed_by: str
    field: str  # the words a school uses
    old_value: str  # as shown (dates dd/mm/yyyy)
    new_value: str
    reason: str


def _shown(field: str, value: str) -> str:
    """A stored value in words (dates dd/mm/yyyy, categories by their titles)."""
    if field in ("agreement_start", "agreement_end") and value:
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    if field == "agreement_categories":
        return cats.titles(cats.split(value))
    if field == "ise":
        return ISE_SENTENCES.get(value, value)
    return value


def agency_history(user: UserSession, name: str) -> list[AgencyChangeView]:
    """Every change made to an agency's details, oldest first, with the earlier values."""
    user.check_active()
    with user.store.read() as session:
        agency = _agency_by_name(session, name)
        rows = session.execute(
            select(AgencyChange).where(AgencyChange.agency_id == agency.id).order_by(AgencyChange.id)).scalars()
        names = {a.username: f"{a.display_name} ({a.username})" if a.display_name and a.display_name != a.username
                 else a.username for a in session.execute(select(Account)).scalars()}
        return [AgencyChangeView(_local(c.changed_at), names.get(c.changed_by, c.changed_by),
                                 AGENCY_FIELDS.get(c.field, c.field),
                                 _shown(c.field, c.old_value), _shown(c.field, c.new_value), c.reason) for c in rows]


def list_agencies(user: UserSession) -> list[AgencyView]:
    user.check_active()
    with user.store.read() as session:
        return [_agency_view(a) for a in session.execute(select(Agency).order_by(Agency.name_key)).scalars()]


def _agency_by_name(session: Any, name: str) -> Agency:
    agency = session.execute(select(Agency).where(Agency.name_key == name.strip().casefold())).scalar_one_or_none()
    if agency is None:
        wanted = name.strip().casefold()  # as the register compares names (SQLite's lower() is ASCII only)
        renamed = next((found for found in session.execute(
            select(AgencyChange, Agency.name).join(Agency, Agency.id == AgencyChange.agency_id)
            .where(AgencyChange.field == "name").order_by(AgencyChange.id.desc())
        ) if found[0].old_value.casefold() == wanted), None)
        if renamed is not None:
            change, now_called = renamed
            raise UsageError(f"There is no agency '{name.strip()}' in the register: it was renamed {now_called} on "
                             f"{_local(change.changed_at):%d/%m/%Y}.")
        raise UsageError(f"There is no agency '{name.strip()}' in the register (agencies list).")
    return agency  # type: ignore[no-any-return]


AGENCY_COLUMNS = ("agency", "email", "phone", "fax", "address", "postcode", "contact_person", "ise",
                  "agreement_ref", "agreement_start", "agreement_until", "agreement_categories", "agreement")


def export_agencies(user: UserSession, out: Path, *, fmt: str | None = None, force: bool = False) -> int:
    from mapping_tool.services.export import export_format, write_rows

    rows = [(a.name, a.email, a.phone, a.fax, a.address, a.postcode, a.contact_person, a.ise, a.agreement_ref,
             a.agreement_start, a.agreement_end, ",".join(a.agreement_categories), a.agreement_state())
            for a in list_agencies(user)]
    kind = export_format(Path(out), fmt)
    with atomic_output(Path(out), store_folder=user.store.files.folder, replace=force) as tmp:
        write_rows(tmp, AGENCY_COLUMNS, rows, fmt=kind, title="Agencies")
    with user.store.write() as session:
        user.store.audit(session, user.username, "export.agencies", object_type="export", object_id=Path(out).name,
                         detail={"rows": len(rows)})
    return len(rows)


# -- consent ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentView:
    id: int
    student_key: str
    agency: str
    purpose: str
    categories: tuple[str, ...]
    given_by: str
    giver_name: str
    relationship: str
    capacity: bool | None
    capacity_assessed_by: str
    method: str
    witness: str
    date_given: date
    expires: date
    evidence: str  # "attached (file name)" or the note where it is kept
    recorded_by: str
    recorded_at: datetime
    withdrawn_on: date | None
    withdrawn_how: str
    withdrawn_by: str
    state: str  # current, expired, withdrawn


def _consent_info(c: ConsentRecord, agency_name: str) -> rf.ConsentInfo:
    return rf.ConsentInfo(c.id, c.student_key, agency_name, frozenset(cats.split(c.categories)), c.date_given,
                          c.expires, c.withdrawn_on)


def _consent_view(c: ConsentRecord, agency_name: str, evidence_name: str | None) -> ConsentView:
    evidence = f"attached ({evidence_name})" if evidence_name else (c.evidence_note or "not recorded")
    return ConsentView(
        c.id, c.student_key, agency_name, c.purpose, cats.split(c.categories), c.given_by, c.giver_name,
        c.giver_relationship, c.capacity, c.capacity_assessed_by, c.method, c.witness, c.date_given, c.expires,
        evidence, c.recorded_by, c.recorded_at, c.withdrawn_on, c.withdrawn_how, c.withdrawn_by,
        _consent_info(c, agency_name).state_on(_today()),
    )


def record_consent(
    user: UserSession, student_key: str, *, agency: str, purpose: str, categories: str | Sequence[str],
    given_by: str, giver_name: str, date_given: date, expires: date | None = None, capacity: bool | None = None,
    method: str = "written", evidence: Path | None = None, evidence_note: str = "", relationship: str = "",
    witness: str = "", informed: bool = True, freely_given: bool = True,
) -> int:
    """Record a consent (specific categories, one agency, one purpose, an expiry); returns its number."""
    user.require(*DRAFTERS)
    chosen = _domain(cats.parse_categories, categories)
    giver = _domain(rf.rules.parse_choice, given_by, rf.rules.GIVERS, "Consent is given by")
    how = _domain(rf.rules.parse_choice, method, rf.rules.METHODS, "The way consent was given")
    content: bytes | None = None
    if evidence is not None:
        evidence = Path(evidence).expanduser()
        if not evidence.is_file():
            raise UsageError(f"The evidence file {evidence.name} does not exist.")
        if evidence.stat().st_size > MAX_EVIDENCE:
            raise UsageError("The evidence file is larger than 20 MB; scan it at a lower resolution.")
        try:
            content = evidence.read_bytes()
        except OSError as exc:
            raise UsageError(f"The evidence file {evidence.name} could not be read: {exc.strerror or exc}.") from None
    with user.store.read() as session:
        settings = _settings(session)
        agency_row = _agency_by_name(session, agency)
        agency_name, agency_id = agency_row.name, agency_row.id
    until = expires or add_months(date_given, settings.consent_months)
    key = student_key.strip().upper()
    _domain(rf.check_consent, rf.ConsentInput(
        key, agency_name, purpose.strip(), chosen, giver, giver_name.strip(), date_given, until, capacity, how,
        informed, freely_given, relationship.strip(), witness.strip(),
    ), today=_today())
    students.get_student(user, key, audit=False)  # scope: out of scope looks like not existing
    with user.store.write() as session:
        now = utcnow()
        record = ConsentRecord(
            student_key=key, agency_id=agency_id, purpose=purpose.strip(), categories=cats.join(chosen),
            given_by=giver, giver_name=giver_name.strip(),
            giver_relationship=relationship.strip() or ("student" if giver == "student" else giver),
            capacity=capacity if giver == "student" else None,
            capacity_assessed_by=user.username if giver == "student" else "",
            capacity_assessed_on=date_given if giver == "student" else None,
            informed=informed, freely_given=freely_given, method=how, witness=witness.strip(),
            date_given=date_given, expires=until, evidence_note=evidence_note.strip(),
            recorded_by=user.username, recorded_at=now,
        )
        session.add(record)
        session.flush()
        evidence_detail = None
        if content is not None and evidence is not None:
            digest = hashlib.sha256(content).hexdigest()
            session.add(ConsentEvidence(consent_id=record.id, file_name=evidence.name[:255], sha256=digest,
                                        size=len(content), content=content, added_by=user.username, added_at=now))
            evidence_detail = {"sha256": digest, "size": len(content)}
        user.store.audit(
            session, user.username, "consent.recorded", object_type="student", object_id=key,
            detail={"consent": record.id, "agency": agency_id, "categories": list(chosen), "given_by": giver,
                    "method": how, "date_given": date_given, "expires": until, "capacity": record.capacity,
                    "evidence": evidence_detail},
        )
        return record.id


def _visible_keys(user: UserSession) -> set[str] | None:
    """None for the whole school; else the keys of the students in the user's scope."""
    if user.role not in (Role.YEAR_LEVEL_COORDINATOR, Role.HOME_GROUP_TEACHER):
        return None
    return {r[0] for r in students._fetch(user, ["student_key"])}


def _consent_for_user(session: Any, user: UserSession, consent_id: int) -> ConsentRecord:
    record = session.get(ConsentRecord, consent_id)
    visible = _visible_keys(user)
    if record is None or (visible is not None and record.student_key not in visible):
        raise UsageError(f"There is no consent record {consent_id} that you may see.")
    return record  # type: ignore[no-any-return]


def withdraw_consent(user: UserSession, consent_id: int, *, on: date, reason: str = "") -> None:
    """A withdrawn consent authorises nothing from its withdrawal date on."""
    user.require(*DRAFTERS)
    with user.store.write() as session:
        record = _consent_for_user(session, user, consent_id)
        if record.withdrawn_on is not None:
            raise UsageError(f"Consent {consent_id} was already withdrawn on {record.withdrawn_on:%d/%m/%Y}.")
        if on < record.date_given:
            raise UsageError("A consent cannot be withdrawn before the date it was given.")
        if on > _today():
            raise UsageError("A withdrawal cannot be dated in the future.")
        record.withdrawn_on = on
        record.withdrawn_how = reason.strip()
        record.withdrawn_by = user.username
        record.withdrawn_at = utcnow()
        user.store.audit(session, user.username, "consent.withdrawn", object_type="student",
                         object_id=record.student_key, detail={"consent": consent_id, "on": on})


def list_consents(user: UserSession, *, student: str | None = None) -> list[ConsentView]:
    user.require(*DRAFTERS)
    key = student.strip().upper() if student else None
    if key:
        students.get_student(user, key, audit=False)
    visible = _visible_keys(user)
    with user.store.read() as session:
        query = select(ConsentRecord, Agency.name).join(Agency, Agency.id == ConsentRecord.agency_id).order_by(ConsentRecord.id)
        if key:
            query = query.where(ConsentRecord.student_key == key)
        evidence = dict(session.execute(select(ConsentEvidence.consent_id, ConsentEvidence.file_name)).all())
        views = [_consent_view(c, name, evidence.get(c.id)) for c, name in session.execute(query).all()
                 if visible is None or c.student_key in visible]
    with user.store.write() as session:
        user.store.audit(session, user.username, "consents.listed", object_type="student" if key else "consents",
                         object_id=key or "", detail={"consents": [v.id for v in views]})
    return views


CONSENT_COLUMNS = ("consent_id", "student_key", "agency", "purpose", "categories", "given_by", "giver_name",
                   "relationship", "capacity", "method", "date_given", "expires", "evidence", "withdrawn_on", "state")


def export_consents(user: UserSession, out: Path, *, student: str | None = None, fmt: str | None = None, force: bool = False) -> int:
    from mapping_tool.services.export import export_format, write_rows

    views = list_consents(user, student=student)
    rows = [(v.id, v.student_key, v.agency, v.purpose, ",".join(v.categories), v.given_by, v.giver_name, v.relationship,
             None if v.capacity is None else v.capacity, v.method, v.date_given, v.expires, v.evidence, v.withdrawn_on,
             v.state) for v in views]
    kind = export_format(Path(out), fmt)
    with atomic_output(Path(out), store_folder=user.store.files.folder, replace=force) as tmp:
        write_rows(tmp, CONSENT_COLUMNS, rows, fmt=kind, title="Consent records")
    with user.store.write() as session:
        user.store.audit(session, user.username, "export.consents", object_type="export", object_id=Path(out).suffix,
                         detail={"rows": len(rows), "student_keys": sorted({v.student_key for v in views})})
    return len(rows)


def consent_evidence(user: UserSession, consent_id: int) -> tuple[str, bytes] | None:
    """The scanned consent form kept in the store (file name, content), or None."""
    user.require(*DRAFTERS)
    with user.store.read() as session:
        record = _consent_for_user(session, user, consent_id)
        row = session.execute(select(ConsentEvidence).where(ConsentEvidence.consent_id == consent_id)).scalars().first()
        found = (row.file_name, bytes(row.content)) if row else None
        key = record.student_key
    with user.store.write() as session:
        user.store.audit(session, user.username, "consent.evidence-viewed", object_type="student", object_id=key,
                         detail={"consent": consent_id})
    return found


def consent_form(user: UserSession, student_key: str, *, agency: str, purpose: str, categories: str | Sequence[str],
                 giver_name: str = "", relationship: str = "") -> str:
    """A pre-filled consent form and privacy notice (HTML) for the student or family to sign."""
    user.require(*DRAFTERS)
    chosen = _domain(cats.parse_categories, categories)
    record = students.get_student(user, student_key, audit=False)
    with user.store.read() as session:
        agency_row = _agency_by_name(session, agency)
        settings = _settings(session)
    name = f"{record.get('first_name', '')} {record.get('surname', '')}".strip() or "the student"
    with user.store.write() as session:
        user.store.audit(session, user.username, "print.consent-form", object_type="student",
                         object_id=student_key.strip().upper(), detail={"agency": agency_row.id, "categories": list(chosen)})
    return consent_form_html(ConsentFormData(
        user.store.school.school_name if user.store.school else "", name, agency_row.name, purpose.strip() or "support",
        chosen, add_months(_today(), settings.consent_months), giver_name, relationship,
    ))


# -- referrals -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferralRow:
    """One row of the Referrals page. ``restricted``: a home group teacher sees only that a
    referral exists (not to whom or why); the other fields are then blank."""

    id: int
    student_key: str
    student_name: str
    year_level: str
    agency: str
    categories: tuple[str, ...]
    basis: str
    status: str
    requested_by: str
    requested_at: datetime
    authorised_by: str
    status_at: datetime
    sensitive: bool
    purpose: str | None  # None when a sensitive referral's purpose is withheld from this reader
    restricted: bool = False
    sent_at: datetime | None = None  # UTC, when its form was last sent (its latest file note); None if never

    @property
    def was_sent(self) -> bool:
        return self.sent_at is not None

    @property
    def status_title(self) -> str:
        return st.TITLES.get(self.status, self.status)

    @property
    def active(self) -> bool:
        return st.is_active(self.status)


def _latest_extract(session: Any) -> tuple[int | None, date | None]:
    row = session.execute(
        select(Snapshot.id, Snapshot.extract_date).where(Snapshot.source == "cases21").order_by(Snapshot.id.desc()).limit(1)
    ).first()
    return (row.id, row.extract_date) if row else (None, None)


def _check_fresh(session: Any, stale_reason: str) -> date:
    _, extract_date = _latest_extract(session)
    if extract_date is None:
        raise ReferralError("There is no extract yet: import one from CASES21 before making a referral.")
    limit = _settings(session).stale_extract_days
    if (_today() - extract_date).days > limit and not stale_reason.strip():
        raise ReferralError(
            f"The latest extract is from {extract_date:%d/%m/%Y}, more than {limit} days ago: import a current "
            "extract, or record why this one is used (--stale-reason)."
        )
    return extract_date


def _is_designated(session: Any, username: str) -> bool:
    return username in _settings(session).designated


def _request_for(session: Any, ref: Referral, agency: Agency, username: str, on: date) -> rf.DisclosureRequest:
    consent = None
    if ref.consent_id is not None:
        record = session.get(ConsentRecord, ref.consent_id)
        if record is not None:
            consent_agency = session.get(Agency, record.agency_id)
            consent = _consent_info(record, consent_agency.name if consent_agency else "")
    return rf.DisclosureRequest(
        student_key=ref.student_key, agency=_agency_view(agency).info(), categories=cats.split(ref.categories),
        basis=ref.basis, on=on, consent=consent, grounds=ref.grounds,
        requested_by_agency=frozenset(cats.split(ref.requested_by_agency)), other_text=ref.other_text,
        views_sought=ref.views_sought, views_note=ref.views_note, designated=_is_designated(session, username),
    )


def create_referral(
    user: UserSession, student_key: str, *, agency: str, categories: str | Sequence[str], purpose: str,
    consent_id: int | None = None, basis: str | None = None, grounds: str = "",
    requested_by_agency: str | Sequence[str] = "", other: str = "", views_sought: bool | None = None,
    views_note: str = "", sensitive: bool = False, stale_reason: str = "", draft: bool = False,
    risk_assessment: str = "",
) -> int:
    """Draft a referral (a request awaiting the custodian's authorisation, or a draft); returns its number."""
    if user.role is Role.HOME_GROUP_TEACHER:
        user.check_active()
        raise PermissionDenied("Home group teachers may not draft a referral; ask the welfare team.")
    user.require(*DRAFTERS)
    chosen = _domain(cats.parse_categories, categories)
    asked: tuple[str, ...] = ()
    if (requested_by_agency if isinstance(requested_by_agency, str) else ",".join(requested_by_agency)).strip():
        asked = _domain(cats.parse_categories, requested_by_agency, what="categories the agency asked for")
    if consent_id is not None and basis:
        raise UsageError("A referral rests on a consent (--consent) or an exception (--basis), not both.")
    if consent_id is None and not basis:
        raise UsageError("A referral needs a consent record (--consent N) or an exception (--basis ... --grounds).")
    basis_word = CONSENT if consent_id is not None else _domain(rf.rules.parse_basis, basis or "")
    if not purpose.strip():
        raise UsageError("Say what the referral is for (--purpose).")
    if risk_assessment.strip() and basis_word not in rf.rules.SCHEMES:
        raise UsageError("A risk assessment or safety plan is recorded with a CISS or FVISS disclosure.")
    if len(purpose) > rf.rules.MAX_TEXT or len(grounds) > rf.rules.MAX_TEXT or len(other) > rf.rules.MAX_TEXT:
        raise UsageError(f"The purpose, grounds and other information are at most {rf.rules.MAX_TEXT} characters each.")
    key = student_key.strip().upper()
    with user.store.read() as session:
        agency_row = _agency_by_name(session, agency)
        if consent_id is not None:
            record = session.get(ConsentRecord, consent_id)
            if record is None:
                raise UsageError(f"There is no consent record {consent_id}.")
        draft_ref = Referral(
            student_key=key, agency_id=agency_row.id, categories=cats.join(chosen), requested_by_agency=cats.join(asked),
            other_text=other.strip(), purpose=purpose.strip(), basis=basis_word, consent_id=consent_id,
            grounds=grounds.strip(), views_sought=views_sought, views_note=views_note.strip(), sensitive=sensitive,
            stale_reason=stale_reason.strip(), risk_assessment=risk_assessment.strip(),
        )
        _domain(rf.check_disclosure, _request_for(session, draft_ref, agency_row, user.username, _today()))
        _check_fresh(session, stale_reason)
    students.get_student(user, key, audit=False)  # scope (a refused look-up is recorded)
    with user.store.write() as session:
        now = utcnow()
        draft_ref.status = st.DRAFT if draft else st.AWAITING
        draft_ref.requested_by = user.username
        draft_ref.requested_at = now
        draft_ref.status_at = now
        session.add(draft_ref)
        session.flush()
        session.add(ReferralStatusChange(referral_id=draft_ref.id, status=draft_ref.status, note="created",
                                         changed_by=user.username, changed_at=now))
        user.store.audit(
            session, user.username, "referral.created", object_type="student", object_id=key,
            detail={"referral": draft_ref.id, "agency": agency_row.id, "categories": list(chosen), "basis": basis_word,
                    "consent": consent_id, "requested_by_agency": list(asked), "sensitive": sensitive,
                    "status": draft_ref.status, "stale_reason": bool(stale_reason.strip())},
        )
        return draft_ref.id


def _referral_for_user(session: Any, user: UserSession, referral_id: int) -> Referral:
    ref = session.get(Referral, referral_id)
    visible = _visible_keys(user)
    if ref is None or (visible is not None and ref.student_key not in visible):
        raise UsageError(f"There is no referral {referral_id} that you may see.")
    return ref  # type: ignore[no-any-return]


def authorise_referral(user: UserSession, referral_id: int, password: str) -> None:
    """The school-based data custodian's authorisation (custodian, principal class or welfare),
    confirmed with the authoriser's own password; never the requester's own request (unless the
    requester is the data custodian)."""
    user.require(*AUTHORISERS)
    from mapping_tool.services import auth

    with user.store.read() as session:
        ref = _referral_for_user(session, user, referral_id)
        if ref.status != st.AWAITING:
            raise ReferralError(f"Referral {referral_id} is {st.TITLES[ref.status].lower()}, not awaiting authorisation.")
        if ref.requested_by == user.username and user.role is not Role.CUSTODIAN:
            raise PermissionDenied("You cannot authorise your own request; another authoriser must.")
        agency = session.get(Agency, ref.agency_id)
        _domain(rf.check_disclosure, _request_for(session, ref, agency, ref.requested_by, _today()))
    if not auth.verify_password(user, password):
        raise AuthenticationError("Your password is not correct; the referral was not authorised.")
    with user.store.write() as session:
        ref = session.get(Referral, referral_id)
        if ref is None or ref.status != st.AWAITING:
            raise ReferralError(f"Referral {referral_id} is no longer awaiting authorisation.")
        now = utcnow()
        ref.status, ref.authorised_by, ref.authorised_at, ref.status_at = st.AUTHORISED, user.username, now, now
        session.add(ReferralStatusChange(referral_id=ref.id, status=st.AUTHORISED, note="authorised with password",
                                         changed_by=user.username, changed_at=now))
        user.store.audit(session, user.username, "referral.authorised", object_type="student", object_id=ref.student_key,
                         detail={"referral": ref.id, "password_confirmed": True})


def set_status(user: UserSession, referral_id: int, status: str, note: str = "") -> str:
    user.require(*DRAFTERS)
    new = _domain(st.parse_status, status)
    with user.store.write() as session:
        ref = _referral_for_user(session, user, referral_id)
        _domain(st.check_transition, ref.status, new, note)
        now = utcnow()
        old, ref.status, ref.status_at = ref.status, new, now
        session.add(ReferralStatusChange(referral_id=ref.id, status=new, note=note.strip(), changed_by=user.username,
                                         changed_at=now))
        user.store.audit(session, user.username, "referral.status", object_type="student", object_id=ref.student_key,
                         detail={"referral": ref.id, "old": old, "new": new, "note": bool(note.strip())})
    return new


def _may_read_sensitive(user: UserSession, ref: Referral) -> bool:
    return not ref.sensitive or ref.requested_by == user.username or user.role in SENSITIVE_READERS


def list_referrals(user: UserSession, *, student: str | None = None, audit: bool = True) -> list[ReferralRow]:
    """The Referrals page's rows (one query). A home group teacher sees only that a student in
    their home group has an active referral."""
    user.check_active()
    key = student.strip().upper() if student else None
    if key:
        students.get_student(user, key, audit=False)
    visible = _visible_keys(user)
    restricted = user.role is Role.HOME_GROUP_TEACHER
    last_sent = (
        select(FileNote.referral_id.label("referral_id"), func.max(FileNote.created_at).label("sent_at"))
        .where(FileNote.referral_id.is_not(None), FileNote.corrects.is_(None))
        .group_by(FileNote.referral_id)
        .subquery()
    )
    with user.store.read() as session:
        query = (
            select(Referral, Agency.name, Student.first_name, Student.surname, Student.year_level, last_sent.c.sent_at)
            .join(Agency, Agency.id == Referral.agency_id)
            .outerjoin(Student, Student.student_key == Referral.student_key)
            .outerjoin(last_sent, last_sent.c.referral_id == Referral.id)
            .order_by(Referral.id.desc())
        )
        if key:
            query = query.where(Referral.student_key == key)
        rows = []
        for ref, agency_name, first, surname, year, sent_at in session.execute(query).all():
            if visible is not None and ref.student_key not in visible:
                continue
            name = f"{first or ''} {surname or ''}".strip()
            if restricted:
                if not st.is_active(ref.status):
                    continue
                rows.append(ReferralRow(ref.id, ref.student_key, name, year or "", "", (), "", "active", "",
                                        ref.requested_at, "", ref.status_at, False, None, True))
                continue
            rows.append(ReferralRow(
                ref.id, ref.student_key, name, year or "", agency_name, cats.split(ref.categories), ref.basis,
                ref.status, ref.requested_by, ref.requested_at, ref.authorised_by, ref.status_at, ref.sensitive,
                ref.purpose if _may_read_sensitive(user, ref) else None, sent_at=sent_at,
            ))
    if audit:
        with user.store.write() as session:
            user.store.audit(session, user.username, "referrals.listed", object_type="student" if key else "referrals",
                             object_id=key or "", detail={"referrals": [r.id for r in rows], "restricted": restricted,
                                                          "student_keys": sorted({r.student_key for r in rows})})
    return rows


def has_active_referral(user: UserSession, student_key: str) -> bool:
    """What a home group teacher may know: that the student has an active referral."""
    return any(r.active for r in list_referrals(user, student=student_key, audit=False))


REFERRAL_COLUMNS = ("referral_id", "student_key", "student_name", "year_level", "agency", "categories", "basis",
                    "status", "requested_by", "requested_at", "authorised_by", "status_changed_at")


def export_referrals(user: UserSession, out: Path, *, student: str | None = None, fmt: str | None = None, force: bool = False) -> int:
    from mapping_tool.services.export import export_format, write_rows

    rows = list_referrals(user, student=student)
    data = [(r.id, r.student_key, r.student_name, r.year_level, r.agency, ",".join(r.categories), r.basis,
             r.status, r.requested_by, _local(r.requested_at), r.authorised_by, _local(r.status_at)) for r in rows]
    kind = export_format(Path(out), fmt)
    with atomic_output(Path(out), store_folder=user.store.files.folder, replace=force) as tmp:
        write_rows(tmp, REFERRAL_COLUMNS, data, fmt=kind, title="Referrals")
    with user.store.write() as session:
        user.store.audit(session, user.username, "export.referrals", object_type="export", object_id=Path(out).suffix,
                         detail={"rows": len(rows), "student_keys": sorted({r.student_key for r in rows})})
    return len(rows)


@dataclass(frozen=True)
class ReferralDetail:
    row: ReferralRow
    other_text: str
    grounds: str | None
    consent_id: int | None
    requested_by_agency: tuple[str, ...]
    views_sought: bool | None
    views_note: str
    history: tuple[tuple[datetime, str, str, str], ...]  # (when, status, by, note)
    notes: tuple[int, ...]


def referral_detail(user: UserSession, referral_id: int) -> ReferralDetail:
    if user.role is Role.HOME_GROUP_TEACHER:
        user.check_active()
        raise PermissionDenied("Home group teachers see only that a student has an active referral.")
    user.require(*DRAFTERS)
    with user.store.read() as session:
        ref = _referral_for_user(session, user, referral_id)
        key = ref.student_key
    rows = [r for r in list_referrals(user, student=key, audit=False) if r.id == referral_id]
    with user.store.read() as session:
        ref = session.get(Referral, referral_id)
        history = tuple((c.changed_at, c.status, c.changed_by, c.note) for c in session.execute(
            select(ReferralStatusChange).where(ReferralStatusChange.referral_id == referral_id).order_by(ReferralStatusChange.id)
        ).scalars())
        notes = tuple(session.execute(select(FileNote.id).where(FileNote.referral_id == referral_id).order_by(FileNote.id)).scalars())
        readable = _may_read_sensitive(user, ref)
        detail = ReferralDetail(rows[0], ref.other_text if readable else "", ref.grounds if readable else None, ref.consent_id,
                                cats.split(ref.requested_by_agency), ref.views_sought, ref.views_note if readable else "",
                                history, notes)
    with user.store.write() as session:
        user.store.audit(session, user.username, "referral.viewed", object_type="student", object_id=key,
                         detail={"referral": referral_id})
    return detail


# -- the form and the disclosure ----------------------------------------------------------------------


def _fmt_days(value: Any) -> str:
    if value is None:
        return "not recorded"
    return f"{float(value):g} day{'s' if float(value) != 1 else ''}"


def _values(session: Any, user: UserSession, key: str, categories: Sequence[str], other_text: str) -> tuple[tuple[str, str], ...]:
    """The value of each category disclosed, from the latest extract (and its flags)."""
    from mapping_tool.services import flags

    student = session.get(Student, key)
    measures = flags._latest_rows(session, [key], user.store)[0].get(key, {}) if student else {}
    out: list[tuple[str, str]] = []
    for cat in categories:
        title = cats.TITLES[cat]
        if student is None:
            out.append((title, "not in the latest extract"))
            continue
        if cat == "student_name":
            name = f"{student.first_name} {student.surname}".strip()
            if student.preferred_name and student.preferred_name != student.first_name:
                name += f" (known as {student.preferred_name})"
            value = name
        elif cat == "year_level":
            level = session.get(YearLevel, student.year_level)
            value = level.description if level and level.description else f"Year {student.year_level}"
        elif cat == "unapproved_absences":
            value = f"{_fmt_days(measures.get('unapproved_days'))} this year"
        elif cat == "attendance_rate":
            rate = measures.get("attendance_rate")
            value = "not recorded" if rate is None or rate != rate else f"{float(rate):.1f}% this year"
        elif cat == "suspensions":
            value = (f"Internal suspension {_fmt_days(measures.get('internal_suspension_days'))}, external suspension "
                     f"{_fmt_days(measures.get('external_suspension_days'))} this year")
        elif cat in ("literacy", "numeracy"):
            dims = ("engrea", "engwri") if cat == "literacy" else ("matnum", "matstr")
            names = {"engrea": "Reading", "engwri": "Writing", "matnum": "Number", "matstr": "Statistics"}
            parts = []
            for d in dims:
                result = measures.get(f"result_{d}")
                if result:
                    semester = measures.get(f"semester_{d}") or ""
                    parts.append(f"{names[d]} {result}" + (f" ({semester.replace('.', ' semester ')})" if semester else ""))
            value = "; ".join(parts) or "no result recorded"
        elif cat == "school_report":
            conn = session.connection().connection.driver_connection
            latest = conn.execute("SELECT max(year_semester) FROM domain_result WHERE student_key = ?", (key,)).fetchone()[0]
            if latest:
                ratings = conn.execute(
                    "SELECT domain, rating FROM domain_result WHERE student_key = ? AND year_semester = ? ORDER BY domain",
                    (key, latest)).fetchall()
                value = f"{latest.replace('.', ' semester ')}: " + "; ".join(
                    f"{CURRICULUM_AREAS.get(d, d)} {r}" for d, r in ratings if r)
            else:
                value = "no report results in the extract"
        elif cat == "disability_status":
            value = "Yes" if student.disability else "No"
        elif cat == "risk_alert":
            value = "Yes" if student.risk_alert else "No"
        elif cat == "medical_alert":
            value = "Yes" if student.medical_alert else "No"
        else:  # other
            value = other_text
        out.append((title, value))
    return tuple(out)


# Curriculum areas (CASES21 KDO) by the names a report uses; an area not listed keeps its code.
CURRICULUM_AREAS = {
    "ENG": "English", "MAT": "Mathematics", "SCI": "Science", "HPE": "Health and Physical Education",
    "HAS": "Humanities", "HUM": "Humanities", "ART": "The Arts", "TEC": "Technologies", "LAN": "Languages",
}


def _person(session: Any, username: str, on: datetime | None, confirmed: bool = False) -> PersonBlock:
    account = session.execute(select(Account).where(Account.username == username)).scalar_one_or_none()
    name = (account.display_name or account.username) if account else username
    return PersonBlock(name, account.position if account else "", _local(on).date() if on else None, confirmed)


def _form_data(session: Any, user: UserSession, ref: Referral, *, preview: bool, stale_reason: str) -> tuple[FormData, tuple[tuple[str, str], ...], date | None]:
    agency = session.get(Agency, ref.agency_id)
    categories = cats.split(ref.categories)
    values = _values(session, user, ref.student_key, categories, ref.other_text)
    _, extract_date = _latest_extract(session)
    consent = None
    if ref.consent_id is not None:
        c = session.get(ConsentRecord, ref.consent_id)
        consent = ConsentBlock(c.id, f"{c.given_by} ({c.giver_name})", c.date_given, c.expires, c.method, c.purpose)
    data = FormData(
        referral_number=str(ref.id),
        school_name=user.store.school.school_name if user.store.school else "",
        agency=AgencyBlock(agency.name, agency.email, agency.phone, agency.fax, agency.address, agency.postcode,
                           agency.contact_person),
        categories=categories, other_text=ref.other_text, basis=ref.basis, grounds=ref.grounds, purpose=ref.purpose,
        authoriser=_person(session, ref.authorised_by, ref.authorised_at, True) if ref.authorised_by else PersonBlock(""),
        requester=_person(session, ref.requested_by, ref.requested_at),
        values=values, extract_date=extract_date,
        generated_by=user.display_name or user.username, generated_at=_local(utcnow()), consent=consent,
        views_sought=ref.views_sought, views_note=ref.views_note, risk_assessment=ref.risk_assessment,
        stale_reason=stale_reason, preview=preview,
    )
    return data, values, extract_date


# The agency's details on the form: each AgencyBlock field with the Agency column it is read from.
_BLOCK_FIELDS = (("email", "email"), ("phone", "phone"), ("fax", "fax"), ("address", "address"),
                 ("postcode", "postcode"), ("contact", "contact_person"))


#: The words for them (a student's record shows a file note's agency details with these).
AGENCY_DETAIL_WORDS = {field: AGENCY_FIELDS[column].capitalize() for field, column in _BLOCK_FIELDS}


#: What a file note keeps of the school and the staff the form named, and the words a student's
#: record shows them in: a copy of a sent form names them as it did, not as the accounts read now.
FORM_DETAIL_WORDS = {
    "school_name": "School", "requester_name": "Requested by", "requester_position": "Requester's position",
    "authoriser_name": "Authorised by", "authoriser_position": "Authoriser's position",
    "generated_by": "Produced by", "stale_reason": "Reason for sending on an older extract",
}


def _form_details(data: FormData) -> tuple[tuple[str, str], ...]:
    shown = {
        "school_name": data.school_name, "requester_name": data.requester.name,
        "requester_position": data.requester.position, "authoriser_name": data.authoriser.name,
        "authoriser_position": data.authoriser.position, "generated_by": data.generated_by,
        "stale_reason": data.stale_reason,
    }
    return tuple((field, str(shown[field] or "")) for field in FORM_DETAIL_WORDS)


def _block_details(block: AgencyBlock) -> tuple[tuple[str, str], ...]:
    """What a file note keeps of the agency's details: exactly those the form gave."""
    return tuple((field, str(getattr(block, field))) for field, _ in _BLOCK_FIELDS)


def _agency_as_sent(session: Any, note: FileNote, kept_details: Sequence[tuple[str, str]]) -> AgencyBlock:
    """The agency's details as the form of this disclosure gave them. A note keeps them (since
    0011); for an earlier note they are today's details with every change made after the note
    undone, from the agency's history (to the second: a change in the very second of the sending
    counts as after it)."""
    if kept_details:
        kept = _kept_pairs(kept_details)
        return AgencyBlock(note.agency_name, **{field: kept.get(field, "") for field, _ in _BLOCK_FIELDS})
    agency = session.get(Agency, note.agency_id) if note.agency_id is not None else None
    if agency is None:
        return AgencyBlock(note.agency_name)
    values = {column: _stored_text(getattr(agency, column)) for _, column in _BLOCK_FIELDS}
    later = session.execute(
        select(AgencyChange).where(AgencyChange.agency_id == agency.id, AgencyChange.changed_at > note.created_at)
        .order_by(AgencyChange.id.desc())
    ).scalars()
    for change in later:  # newest first: each field ends at its value before the first change after the note
        if change.field in values:
            values[change.field] = change.old_value
    return AgencyBlock(note.agency_name, **{field: values[column] for field, column in _BLOCK_FIELDS})


def _sent_form_data(session: Any, user: UserSession, ref: Referral, note: FileNote, times_sent: int,
                    sent_index: int) -> FormData:
    """The form of one disclosure as it was sent: from its file note (categories, values, basis,
    views, extract date, the agency's details, who sent it and when) and from the referral, which
    does not change once authorised. Nothing is read from the student's record or the agency's
    details as they are today."""
    recorded = _note_data(note)
    consent = None
    if note.consent_id is not None:
        c = session.get(ConsentRecord, note.consent_id)
        if c is not None:
            consent = ConsentBlock(c.id, f"{c.given_by} ({c.giver_name})", c.date_given, c.expires, c.method, c.purpose)
    sent_at = _local(note.created_at)
    authoriser = _person(session, note.authorised_by, ref.authorised_at, True) if note.authorised_by else PersonBlock("")
    requester = _person(session, ref.requested_by, ref.requested_at)
    school_name = user.store.school.school_name if user.store.school else ""
    generated_by = _person(session, note.disclosed_by, None).name
    stale_reason = ref.stale_reason
    if recorded.form_details:  # the school and staff as the form named them (before 0012: as they are now)
        kept = _kept_pairs(recorded.form_details)  # a detail missing (an edited note: audit verify says so) reads as now
        school_name = kept.get("school_name", school_name)
        generated_by = kept.get("generated_by", generated_by)
        stale_reason = kept.get("stale_reason", stale_reason)
        requester = replace(requester, name=kept.get("requester_name", requester.name),
                            position=kept.get("requester_position", requester.position))
        if note.authorised_by:
            authoriser = replace(authoriser, name=kept.get("authoriser_name", authoriser.name),
                                 position=kept.get("authoriser_position", authoriser.position))
    return FormData(
        referral_number=str(ref.id),
        school_name=school_name,
        agency=_agency_as_sent(session, note, recorded.agency_details),
        categories=recorded.categories, other_text=ref.other_text, basis=note.basis, grounds=note.grounds,
        purpose=ref.purpose, authoriser=authoriser, requester=requester,
        values=recorded.values, extract_date=note.extract_date,
        generated_by=generated_by, generated_at=sent_at, consent=consent,
        views_sought=note.views_sought, views_note=note.views_note, risk_assessment=note.risk_assessment,
        stale_reason=stale_reason, sent_on=sent_at.date(), sent_note=note.id, times_sent=times_sent,
        sent_index=sent_index,
    )


@dataclass(frozen=True)
class ReferralForm:
    """A referral's form to read. Once the referral was sent: a copy of the form as sent
    (``sent_at`` and ``note_id`` say which disclosure); before: a preview of the form as it would
    be sent now. Neither writes a file note."""

    html: str
    sent_at: datetime | None = None  # local time of the disclosure the copy shows
    note_id: int | None = None
    agency: str = ""  # the agency's name on the form (a copy: the name it was sent under)

    @property
    def is_copy(self) -> bool:
        return self.note_id is not None


def form_view(user: UserSession, referral_id: int, *, note_id: int | None = None) -> ReferralForm:
    """A sent referral's form as it was sent (the latest disclosure, or the one of ``note_id``),
    else the preview of today's form. Reading it is recorded in the audit log."""
    user.require(*DRAFTERS)
    with user.store.read() as session:
        ref = _referral_for_user(session, user, referral_id)
        if not _may_read_sensitive(user, ref):
            raise PermissionDenied("This referral is labelled sensitive; ask its author or the welfare team.")
        sent = list(session.execute(
            select(FileNote).where(FileNote.referral_id == ref.id, FileNote.corrects.is_(None)).order_by(FileNote.id)
        ).scalars())
        if note_id is None:
            note = sent[-1] if sent else None
        else:
            note = next((n for n in sent if n.id == note_id), None)
            if note is None:
                raise UsageError(f"File note {note_id} is not a disclosure of referral {referral_id}.")
        if note is None:
            data, _, _ = _form_data(session, user, ref, preview=True, stale_reason=ref.stale_reason)
            view = ReferralForm(form_html(data), agency=data.agency.name)
        else:
            data = _sent_form_data(session, user, ref, note, len(sent), sent.index(note) + 1)
            view = ReferralForm(form_html(data), data.generated_at, note.id, data.agency.name)
        key = ref.student_key
    detail: dict[str, Any] = {"referral": referral_id}
    if view.note_id is not None:
        detail["copy_of_note"] = view.note_id
    with user.store.write() as session:
        user.store.audit(session, user.username, "referral.previewed", object_type="student", object_id=key, detail=detail)
    return view


def preview_html(user: UserSession, referral_id: int) -> str:
    """The form to read: a preview marked as such before the referral is sent, a copy of the form
    as sent once it was (``form_view``). Writes no file note (nothing leaves the school)."""
    return form_view(user, referral_id).html


@dataclass(frozen=True)
class Disclosure:
    note_id: int
    document_sha256: str
    path: Path | None


def _check_sendable(session: Any, user: UserSession, ref: Referral, stale_reason: str) -> str:
    if ref.status not in (st.AUTHORISED, st.SENT, st.ACKNOWLEDGED, st.ACCEPTED):
        if ref.status in (st.DRAFT, st.AWAITING):
            raise ReferralError(f"Referral {ref.id} has not been authorised by a data custodian; it cannot be sent.")
        raise ReferralError(f"Referral {ref.id} is {st.TITLES[ref.status].lower()}; it cannot be sent.")
    agency = session.get(Agency, ref.agency_id)
    _domain(rf.check_disclosure, _request_for(session, ref, agency, user.username, _today()))
    reason = stale_reason.strip() or ref.stale_reason
    _check_fresh(session, reason)
    return reason


def _disclose(
    user: UserSession, referral_id: int, kind: str, produce: Callable[[str, FormData], str], stale_reason: str
) -> int:
    """Inside one write transaction: check, render, produce the document (``produce`` returns its
    SHA-256), write the file note and move the referral to sent. Any failure rolls it all back."""
    store = user.store
    with store.write() as session:
        ref = _referral_for_user(session, user, referral_id)
        if ref.basis in rf.rules.SCHEMES and not _is_designated(session, user.username):
            raise PermissionDenied(f"Only staff the principal has designated may share under {ref.basis.upper()}.")
        reason = _check_sendable(session, user, ref, stale_reason)
        data, values, extract_date = _form_data(session, user, ref, preview=False, stale_reason=reason)
        digest = produce(form_html(data), data)
        agency = session.get(Agency, ref.agency_id)
        note_id = _write_note(
            session, user, student_key=ref.student_key, agency=agency, referral_id=ref.id,
            authorised_by=ref.authorised_by, basis=ref.basis, consent_id=ref.consent_id, grounds=ref.grounds,
            categories=cats.split(ref.categories), values=values, views_sought=ref.views_sought,
            views_note=ref.views_note, extract_date=extract_date, kind=kind, document_sha256=digest,
            risk_assessment=ref.risk_assessment, agency_details=_block_details(data.agency),
            form_details=_form_details(data),
        )
        now = utcnow()
        if ref.status == st.AUTHORISED:
            ref.status, ref.status_at = st.SENT, now
        if reason and not ref.stale_reason:
            ref.stale_reason = reason
        session.add(ReferralStatusChange(referral_id=ref.id, status=ref.status, note=f"{kind} produced: file note {note_id}",
                                         changed_by=user.username, changed_at=now))
        store.audit(session, user.username, "referral.sent", object_type="student", object_id=ref.student_key,
                    detail={"referral": ref.id, "note": note_id, "kind": kind, "document_sha256": digest})
        return note_id


def send_referral(
    user: UserSession, referral_id: int, out: Path, *, fmt: str = "pdf", pdf_renderer: PdfRenderer | None = None,
    force: bool = False, stale_reason: str = "",
) -> Disclosure:
    """Write the form and its information page (PDF or Word) and, in the same transaction, the file
    note of the disclosure. A bad path, a refusal or a failed write leaves nothing behind."""
    user.require(*DRAFTERS)
    kind = fmt.strip().lower()
    if kind not in ("pdf", "docx"):
        raise UsageError(f"Unknown format '{fmt}': use pdf or docx.")
    if kind == "pdf" and pdf_renderer is None:
        raise UsageError("PDF output is not available here.")
    out = Path(out).expanduser()
    target: list[Path] = []

    def produce(html: str, data: FormData) -> str:
        with atomic_output(out, store_folder=user.store.files.folder, replace=force) as tmp:
            if kind == "pdf":
                assert pdf_renderer is not None
                pdf_renderer(html, tmp)
            else:
                from referral_forms.docx_form import form_docx

                tmp.write_bytes(form_docx(data))
            digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
        target.append(out)
        return digest

    try:
        note_id = _disclose(user, referral_id, kind, produce, stale_reason)
    except BaseException:
        for path in target:  # written, but the transaction did not commit: no document without its note
            path.unlink(missing_ok=True)
        raise
    with user.store.read() as session:
        digest = session.get(FileNote, note_id).document_sha256
    return Disclosure(note_id, digest, out)


def print_referral(user: UserSession, referral_id: int, printer: Printer, *, stale_reason: str = "") -> Disclosure:
    """Print the form; the printout is the disclosure (its file note records the HTML's SHA-256)."""
    user.require(*DRAFTERS)

    def produce(html: str, data: FormData) -> str:
        printer(html)
        return hashlib.sha256(html.encode("utf-8")).hexdigest()

    note_id = _disclose(user, referral_id, "print", produce, stale_reason)
    with user.store.read() as session:
        digest = session.get(FileNote, note_id).document_sha256
    return Disclosure(note_id, digest, None)


# -- file notes -----------------------------------------------------------------------------------------


def _note_data(n: FileNote) -> FileNoteData:
    return FileNoteData(
        id=n.id, created_at=n.created_at, student_key=n.student_key, agency=n.agency_name, agency_id=n.agency_id,
        disclosed_by=n.disclosed_by,
        authorised_by=n.authorised_by, basis=n.basis, consent_id=n.consent_id, grounds=n.grounds,
        categories=cats.split(n.categories), values=tuple(tuple(v) for v in json.loads(n.values_json)),  # type: ignore[misc]
        document_sha256=n.document_sha256, document_kind=n.document_kind, referral_id=n.referral_id,
        views_sought=n.views_sought, views_note=n.views_note, extract_date=n.extract_date, corrects=n.corrects, text=n.text,
        risk_assessment=n.risk_assessment,
        agency_details=_pairs_read(n.agency_details), form_details=_pairs_read(n.form_details),
    )


def _write_note(session: Any, user: UserSession, *, student_key: str, agency: Agency | None, referral_id: int | None,
                authorised_by: str, basis: str, consent_id: int | None, grounds: str, categories: Sequence[str],
                values: Sequence[tuple[str, str]], views_sought: bool | None, views_note: str,
                extract_date: date | None, kind: str, document_sha256: str, corrects: int | None = None,
                text: str = "", risk_assessment: str = "", agency_details: Sequence[tuple[str, str]] = (),
                form_details: Sequence[tuple[str, str]] = ()) -> int:
    note = FileNote(
        created_at=utcnow().replace(microsecond=0), student_key=student_key, agency_id=agency.id if agency else None,
        agency_name=agency.name if agency else "", referral_id=referral_id, disclosed_by=user.username,
        authorised_by=authorised_by, basis=basis, consent_id=consent_id, grounds=grounds,
        categories=cats.join(categories), values_json=json.dumps([list(v) for v in values], ensure_ascii=False),
        views_sought=views_sought, views_note=views_note, extract_date=extract_date, document_kind=kind,
        document_sha256=document_sha256, corrects=corrects, text=text, risk_assessment=risk_assessment, note_sha256="",
        agency_details=_pairs_kept(agency_details), form_details=_pairs_kept(form_details),
    )
    session.add(note)
    session.flush()
    note.note_sha256 = _note_data(note).digest()
    session.flush()
    user.store.audit(
        session, user.username, "filenote.written", object_type="student", object_id=student_key,
        detail={"note": note.id, "note_sha256": note.note_sha256, "document_sha256": document_sha256,
                "referral": referral_id, "agency": agency.id if agency else None, "categories": list(categories),
                "kind": kind, "corrects": corrects},
    )
    return int(note.id)


def correct_file_note(user: UserSession, note_id: int, text: str) -> int:
    """A correction is a new note pointing at the note it corrects; the old note is never changed."""
    user.require(*DRAFTERS)
    if not text.strip():
        raise UsageError("Say what the correction is.")
    with user.store.write() as session:
        old = session.get(FileNote, note_id)
        visible = _visible_keys(user)
        if old is None or (visible is not None and old.student_key not in visible):
            raise UsageError(f"There is no file note {note_id} that you may see.")
        agency = session.get(Agency, old.agency_id) if old.agency_id else None
        return _write_note(session, user, student_key=old.student_key, agency=agency, referral_id=old.referral_id,
                           authorised_by="", basis="", consent_id=None, grounds="", categories=(), values=(),
                           views_sought=None, views_note="", extract_date=None, kind="", document_sha256="",
                           corrects=note_id, text=text.strip())


def _pairs_kept(pairs: Sequence[tuple[str, str]]) -> str:
    """[field, value] pairs as a file note column keeps them: "" when there are none, so a note
    that kept none hashes as one written before the column existed."""
    return json.dumps([list(v) for v in pairs], ensure_ascii=False) if pairs else ""


def _pairs_read(text: str) -> tuple[tuple[str, str], ...]:
    return tuple(tuple(v) for v in json.loads(text)) if text else ()  # type: ignore[misc]


def _kept_pairs(pairs: Any) -> dict[str, str]:
    """A note's kept [field, value] pairs as a dict; anything not a pair of texts (a note edited
    outside the tool, which audit verify reports) is left out."""
    return {str(p[0]): str(p[1]) for p in pairs if isinstance(p, list | tuple) and len(p) == 2}


def _named(note: FileNoteData, names: dict[str, str]) -> FileNoteData:
    """The note with its staff's names to read: as its form named them (kept since 0012), else as
    their accounts read now."""
    kept = _kept_pairs(note.form_details)
    return replace(
        note,
        disclosed_by_name=kept.get("generated_by") or names.get(note.disclosed_by, ""),
        authorised_by_name=(kept.get("authoriser_name") or names.get(note.authorised_by, "")) if note.authorised_by else "",
    )


def list_file_notes(user: UserSession, *, student: str | None = None, agency: str | None = None, audit: bool = True) -> list[FileNoteData]:
    if user.role is Role.HOME_GROUP_TEACHER:
        user.check_active()
        raise PermissionDenied("Home group teachers see only that a student has an active referral.")
    user.require(*DRAFTERS)
    key = student.strip().upper() if student else None
    if key:
        students.get_student(user, key, audit=False)
    visible = _visible_keys(user)
    with user.store.read() as session:
        query = select(FileNote).order_by(FileNote.id)
        if key:
            query = query.where(FileNote.student_key == key)
        if agency:
            query = query.where(FileNote.agency_id == _agency_by_name(session, agency).id)
        notes = [_note_data(n) for n in session.execute(query).scalars() if visible is None or n.student_key in visible]
        names = {username: name for username, name in session.execute(select(Account.username, Account.display_name))}
    notes = [_named(n, names) for n in notes]
    if audit:
        with user.store.write() as session:
            user.store.audit(session, user.username, "filenotes.viewed", object_type="student" if key else "filenotes",
                             object_id=key or "", detail={"notes": [n.id for n in notes],
                                                          "student_keys": sorted({n.student_key for n in notes})})
    return notes


def file_notes_document(user: UserSession, notes: Sequence[FileNoteData], *, title: str) -> str:
    return file_notes_html(notes, title=title, school_name=user.store.school.school_name if user.store.school else "",
                           printed_by=user.display_name or user.username, printed_at=_local(utcnow()))


def export_file_notes(
    user: UserSession, out: Path, *, fmt: str | None = None, student: str | None = None, agency: str | None = None,
    pdf_renderer: PdfRenderer | None = None, force: bool = False,
) -> int:
    """The file notes (all, one student's or one agency's) as CSV, Excel or a printable PDF."""
    from mapping_tool.services.export import write_rows

    out = Path(out).expanduser()
    kind = (fmt or out.suffix.lstrip(".") or "csv").lower()
    if kind not in ("csv", "xlsx", "pdf"):
        raise UsageError(f"Unknown format '{kind}': use csv, xlsx or pdf.")
    if kind == "pdf" and pdf_renderer is None:
        raise UsageError("PDF output is not available here.")
    from mapping_tool.services.outputs import check_output_path

    check_output_path(out, store_folder=user.store.files.folder, replace=force)
    notes = list_file_notes(user, student=student, agency=agency, audit=False)
    with atomic_output(out, store_folder=user.store.files.folder, replace=force) as tmp:
        if kind == "pdf":
            assert pdf_renderer is not None
            title = f"File notes: {student.strip().upper()}" if student else "File notes of disclosures"
            pdf_renderer(file_notes_document(user, notes, title=title), tmp)
        else:
            rows = [(n.id, _local(n.created_at), n.student_key, n.agency, n.disclosed_by, n.authorised_by, n.basis,
                     n.consent_id, ",".join(n.categories), n.values_text() if not n.corrects else n.text,
                     n.document_sha256, n.referral_id, "" if n.views_sought is None else n.views_sought, n.corrects)
                    for n in notes]
            write_rows(tmp, FILENOTE_COLUMNS, rows, fmt=kind, title="File notes")
    with user.store.write() as session:
        user.store.audit(session, user.username, "export.filenotes", object_type="export", object_id=out.suffix,  # not the name: it may name a student
                         detail={"rows": len(notes), "format": kind, "notes": [n.id for n in notes],
                                 "student_keys": sorted({n.student_key for n in notes})})
    return len(notes)


# -- audit verify --------------------------------------------------------------------------------------


FILE_NOTES_DISPOSED = "filenotes.disposed"
FILE_NOTE_REKEYED = "filenote.rekeyed"


def file_note_ids(conn: Any, keys: Sequence[str]) -> list[int]:
    """The ids of the file notes of these students (before an approved disposal run removes them)."""
    ids: list[int] = []
    for start in range(0, len(keys), 400):
        chunk = tuple(keys[start : start + 400])
        marks = ",".join("?" * len(chunk))
        ids.extend(int(r[0]) for r in conn.exec_driver_sql(
            f"SELECT id FROM file_note WHERE student_key IN ({marks})", chunk))
    return sorted(ids)


def record_disposed_file_notes(store: Any, session: Any, actor: str, run_id: int, note_ids: Sequence[int]) -> None:
    """An approved disposal run removed these notes (transferred to the official file first):
    the chain lists them by id only, so ``audit verify`` tells them from a note deleted any other way."""
    if note_ids:
        store.audit(session, actor, FILE_NOTES_DISPOSED, object_type="disposal-run", object_id=str(run_id),
                    detail={"notes": [int(i) for i in note_ids]})


def rekey_file_notes(store: Any, session: Any, actor: str, retired_key: str) -> None:
    """After the import moved an earlier child's rows to a retired key (issue 11 item 12): each
    of their file notes now hashes differently (the key is part of the note), so the chain
    records the new digest; the note's content is otherwise unchanged."""
    for note in session.execute(select(FileNote).where(FileNote.student_key == retired_key).order_by(FileNote.id)).scalars():
        store.audit(session, actor, FILE_NOTE_REKEYED, object_type="student", object_id=retired_key,
                    detail={"note": note.id, "note_sha256": _note_data(note).digest()})


FILE_NOTE_DIGESTS_RESTATED = "filenotes.restated"


def restate_file_note_digests(store: Any, session: Any, actor: str, run_id: int) -> None:
    """For disposal of audit entries past their period (issue 10): before the entries that hold
    the notes' digests go, one new entry restates the digests the chain holds (never digests
    recomputed from the notes, which would accept an edited note), so ``audit verify`` keeps
    checking every note that is still in the store."""
    digests = {str(i): d for i, d in _recorded_digests(session)[0].items()}
    present = {str(i) for i in session.execute(select(FileNote.id)).scalars()}
    kept = {i: d for i, d in digests.items() if i in present}
    if kept:
        store.audit(session, actor, FILE_NOTE_DIGESTS_RESTATED, object_type="disposal-run", object_id=str(run_id),
                    detail={"digests": kept})


def _recorded_digests(session: Any) -> tuple[dict[int, str], set[int]]:
    """(note id -> the latest digest the chain holds, ids an approved disposal run removed)."""
    recorded: dict[int, str] = {}
    disposed: set[int] = set()
    actions = ("filenote.written", FILE_NOTE_REKEYED, FILE_NOTES_DISPOSED, FILE_NOTE_DIGESTS_RESTATED)
    for action, detail in session.execute(
        select(AuditEntry.action, AuditEntry.detail).where(AuditEntry.action.in_(actions)).order_by(AuditEntry.id)
    ):
        data = json.loads(detail)
        if action == FILE_NOTES_DISPOSED:
            disposed.update(int(i) for i in data["notes"])
        elif action == FILE_NOTE_DIGESTS_RESTATED:
            recorded.update({int(i): str(d) for i, d in data["digests"].items()})
        else:
            recorded[int(data["note"])] = str(data["note_sha256"])  # the latest digest counts
    return recorded, disposed


def check_file_notes(session: Any) -> tuple[int, str] | None:
    """Each file note must still hash to the digest the audit chain recorded when it was written
    (or when an import moved it to a replaced student's retired key). A note missing from the
    store is reported, unless an approved disposal run recorded it as disposed of.
    Returns (note id, problem) for the first that does not hold, else None."""
    recorded, disposed = _recorded_digests(session)
    seen = set()
    for note in session.execute(select(FileNote).order_by(FileNote.id)).scalars():
        seen.add(note.id)
        expected = recorded.get(note.id)
        if expected is None:
            return note.id, f"file note {note.id} has no entry in the audit log: it was not written by the tool"
        if note.id in disposed:
            return note.id, f"file note {note.id} was disposed of and is back: it was restored or copied in"
        try:
            digest = _note_data(note).digest()
        except (TypeError, ValueError):  # a JSON column no longer JSON (or not pairs): edited outside the tool
            digest = None
        if digest != expected:
            return note.id, f"file note {note.id} was changed after it was written"
    missing = sorted(set(recorded) - seen - disposed)
    if missing:
        return missing[0], f"file note {missing[0]} is missing: it was deleted"
    return None


def file_note_count(session: Any) -> int:
    return int(session.execute(select(func.count()).select_from(FileNote)).scalar_one())


__all__ = [
    "AUTHORISERS", "DRAFTERS", "EXCEPTIONS", "FILENOTE_COLUMNS", "AgencyView", "ConsentView", "Disclosure",
    "AgencyChangeView", "ReferralError", "ReferralRow", "add_agency", "agency_history", "update_agency", "authorise_referral", "check_file_notes", "correct_file_note",
    "file_note_ids", "record_disposed_file_notes", "rekey_file_notes", "restate_file_note_digests",
    "create_referral", "export_file_notes", "list_agencies", "list_consents", "list_file_notes", "list_referrals",
    "ReferralForm", "form_view", "preview_html", "print_referral", "record_consent", "send_referral", "set_designated", "set_status",
    "withdraw_consent",
]
