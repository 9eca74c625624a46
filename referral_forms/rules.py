"""What may be disclosed to an agency, and on what basis: the privacy assessment's rules
(Attachment 2: prior consent, exceptions apply; the access table's Agency column; data sharing
agreements) and the Victorian information sharing schemes (CISS/FVISS: designated staff only, the
views of the child and family sought or the reason why not).

Plain data in, a refusal (one sentence) or nothing out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from referral_forms.categories import ON_REQUEST, TITLES, titles
from referral_forms.errors import DisclosureRefused, ReferralFormError

CONSENT = "consent"
# Legal bases other than consent (IPP 2 / HPP 2 exceptions; the Child Wellbeing and Safety Act).
EXCEPTIONS: dict[str, str] = {
    "serious-threat": "Serious threat to an individual's life, health, safety or welfare",
    "required-by-law": "Required or authorised by law",
    "law-enforcement": "Law enforcement",
    "ciss": "Child Information Sharing Scheme",
    "fviss": "Family Violence Information Sharing Scheme",
}
SCHEMES = ("ciss", "fviss")
BASES = (CONSENT, *EXCEPTIONS)
#: An agency's standing under CISS/FVISS, one wording everywhere: in a sentence ("the agency
#: is ...", an agency's history) and as a choice in a list; the values kept are their keys.
ISE_SENTENCES = {
    "yes": "a prescribed CISS/FVISS information sharing entity",
    "no": "not a prescribed CISS/FVISS information sharing entity",
    "unknown": "not known whether a prescribed CISS/FVISS information sharing entity",
}
ISE_VALUES = tuple(ISE_SENTENCES)
ISE_CHOICES = {"unknown": "Not known", "yes": "Yes: a prescribed CISS/FVISS entity", "no": "No"}
GIVERS = ("student", "parent", "guardian")
METHODS = ("written", "verbal")
MAX_TEXT = 2000


def basis_title(basis: str) -> str:
    return "Consent" if basis == CONSENT else EXCEPTIONS.get(basis, basis)


def parse_basis(text: str) -> str:
    word = text.strip().lower().replace("_", "-").replace(" ", "-")
    if word not in EXCEPTIONS:
        raise ReferralFormError(f"Unknown basis '{text}'. Use one of: {', '.join(EXCEPTIONS)}.")
    return word


def parse_choice(text: str, choices: tuple[str, ...], what: str) -> str:
    word = text.strip().lower()
    if word not in choices:
        raise ReferralFormError(f"{what} must be one of: {', '.join(choices)}.")
    return word


def parse_yes_no(text: str, what: str) -> bool:
    return parse_choice(text, ("yes", "no"), what) == "yes"


@dataclass(frozen=True)
class Agreement:
    """A data sharing agreement or memorandum of understanding with an agency."""

    reference: str
    start: date | None
    end: date | None
    categories: frozenset[str]

    def current_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class AgencyInfo:
    name: str
    ise: str = "unknown"  # a prescribed CISS/FVISS information sharing entity: yes, no, unknown
    agreement: Agreement | None = None


@dataclass(frozen=True)
class ConsentInfo:
    id: int
    student_key: str
    agency_name: str
    categories: frozenset[str]
    date_given: date
    expires: date
    withdrawn_on: date | None = None

    def state_on(self, day: date) -> str:
        if self.withdrawn_on is not None and self.withdrawn_on <= day:
            return "withdrawn"
        if day > self.expires:
            return "expired"
        if day < self.date_given:
            return "not yet given"
        return "current"


@dataclass(frozen=True)
class DisclosureRequest:
    student_key: str
    agency: AgencyInfo
    categories: tuple[str, ...]
    basis: str
    on: date
    consent: ConsentInfo | None = None
    grounds: str = ""
    requested_by_agency: frozenset[str] = field(default_factory=frozenset)
    other_text: str = ""
    views_sought: bool | None = None
    views_note: str = ""
    designated: bool = False  # the discloser is designated by the principal for CISS/FVISS


def check_disclosure(req: DisclosureRequest) -> None:
    """Raise DisclosureRefused (one sentence) unless the disclosure is allowed."""
    if not req.categories:
        raise ReferralFormError("Name at least one category of information to disclose.")
    if "other" in req.categories and not req.other_text.strip():
        raise ReferralFormError("Describe the other information disclosed (--other TEXT).")
    if req.other_text.strip() and "other" not in req.categories:
        raise ReferralFormError("A description of other information needs the category 'other'.")
    for cat in ON_REQUEST:
        if cat in req.categories and cat not in req.requested_by_agency:
            raise DisclosureRefused(
                f"{TITLES[cat]} is disclosed to an agency only when the agency asked for it "
                "(record it with --requested-by-agency)."
            )
    exception = req.basis != CONSENT
    if req.basis not in BASES:
        raise ReferralFormError(f"Unknown basis '{req.basis}'.")
    if exception:
        if not req.grounds.strip():
            raise DisclosureRefused(
                f"A disclosure without consent ({basis_title(req.basis).lower()}) needs its grounds in words (--grounds)."
            )
    elif req.grounds.strip():
        raise ReferralFormError("Grounds are recorded for an exception; a consented referral has none.")
    if req.basis in SCHEMES:
        scheme = req.basis.upper()
        if not req.designated:
            raise DisclosureRefused(
                f"Only staff the principal has designated may share under {scheme}; ask the data custodian."
            )
        if req.agency.ise == "no":
            raise DisclosureRefused(
                f"{req.agency.name} is not a prescribed information sharing entity, so {scheme} does not apply."
            )
        if req.views_sought is None:
            raise DisclosureRefused(
                f"Under {scheme}, record whether the views of the child and family were sought (--views-sought yes|no)."
            )
        if req.views_sought is False and not req.views_note.strip():
            raise DisclosureRefused(
                "Record why the views of the child and family were not sought (--views-note)."
            )
    if not exception:
        _check_consent(req)
        _check_agreement(req)


def _check_consent(req: DisclosureRequest) -> None:
    consent = req.consent
    if consent is None:
        raise DisclosureRefused("A referral needs a consent record (--consent N) or an exception (--basis).")
    if consent.student_key != req.student_key:
        raise DisclosureRefused(f"Consent {consent.id} was given for another student.")
    if consent.agency_name.casefold() != req.agency.name.casefold():
        raise DisclosureRefused(f"Consent {consent.id} was given for another agency, {consent.agency_name}.")
    state = consent.state_on(req.on)
    if state == "withdrawn":
        raise DisclosureRefused(f"Consent {consent.id} was withdrawn on {consent.withdrawn_on:%d/%m/%Y}; it authorises nothing.")  # type: ignore[union-attr]
    if state == "expired":
        raise DisclosureRefused(f"Consent {consent.id} expired on {consent.expires:%d/%m/%Y}; record a current consent.")
    if state == "not yet given":
        raise DisclosureRefused(f"Consent {consent.id} is dated {consent.date_given:%d/%m/%Y}, after the referral.")
    missing = [c for c in req.categories if c not in consent.categories]
    if missing:
        raise DisclosureRefused(f"Consent {consent.id} does not cover: {titles(missing)}.")


def _check_agreement(req: DisclosureRequest) -> None:
    agreement = req.agency.agreement
    if agreement is None:
        return
    if not agreement.current_on(req.on):
        when = f"ended on {agreement.end:%d/%m/%Y}" if agreement.end and agreement.end < req.on else "is not yet in force"
        raise DisclosureRefused(
            f"The data sharing agreement with {req.agency.name} {when}; renew it or record an exception."
        )
    missing = [c for c in req.categories if c not in agreement.categories]
    if missing:
        raise DisclosureRefused(
            f"The data sharing agreement with {req.agency.name} does not cover: {titles(missing)}."
        )


@dataclass(frozen=True)
class ConsentInput:
    student_key: str
    agency_name: str
    purpose: str
    categories: tuple[str, ...]
    given_by: str
    giver_name: str
    date_given: date
    expires: date
    capacity: bool | None  # the capacity judgement, when the student gave consent
    method: str
    informed: bool = True
    freely_given: bool = True
    relationship: str = ""
    witness: str = ""


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    import calendar

    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def check_consent(c: ConsentInput, *, today: date) -> None:
    """Consent must be informed, specific, freely given and current, by someone with capacity."""
    if not c.purpose.strip():
        raise ReferralFormError("Say what the consent is for (--purpose).")
    if len(c.purpose) > MAX_TEXT:
        raise ReferralFormError(f"The purpose is at most {MAX_TEXT} characters.")
    if c.given_by not in GIVERS:
        raise ReferralFormError(f"Consent is given by one of: {', '.join(GIVERS)}.")
    if not c.giver_name.strip():
        raise ReferralFormError("Record the name of the person who gave consent (--giver-name).")
    if c.method not in METHODS:
        raise ReferralFormError(f"Consent is given in one of these ways: {', '.join(METHODS)}.")
    if c.date_given > today:
        raise ReferralFormError("Consent cannot be dated in the future.")
    if c.expires <= c.date_given:
        raise ReferralFormError("The consent's expiry must be after the date it was given.")
    if c.given_by == "student":
        if c.capacity is None:
            raise DisclosureRefused(
                "When the student consents, record the judgement of their capacity (--capacity yes|no)."
            )
        if c.capacity is False:
            raise DisclosureRefused(
                "A student judged not to have capacity cannot consent; a parent or guardian must."
            )
    if not c.informed:
        raise DisclosureRefused("Consent counts only when the person was told what will be shared, with whom and why.")
    if not c.freely_given:
        raise DisclosureRefused("Consent counts only when it was freely given.")
