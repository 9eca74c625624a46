"""Rendering the referral form (Attachment 3), its "Information provided" page, consent forms and
file notes from the Jinja2 templates in ``resources/``. Data in, HTML (or a digest) out; the caller
turns HTML into a PDF or a printout."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from referral_forms.categories import CATEGORIES, TITLES
from referral_forms.rules import CONSENT, SCHEMES, basis_title


@lru_cache(maxsize=8)
def _template(name: str):  # type: ignore[no-untyped-def]
    from jinja2 import Environment, StrictUndefined

    env = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=False, lstrip_blocks=False)
    return env.from_string(resources.files("resources").joinpath(name).read_text("utf-8"))


@dataclass(frozen=True)
class AgencyBlock:
    name: str
    email: str = ""
    phone: str = ""
    fax: str = ""
    address: str = ""
    postcode: str = ""
    contact: str = ""


@dataclass(frozen=True)
class PersonBlock:
    name: str
    position: str = ""
    on: date | None = None
    confirmed: bool = False  # confirmed with their own password in the tool


@dataclass(frozen=True)
class ConsentBlock:
    id: int
    giver: str  # "parent (Sam Smith)"
    date_given: date
    expires: date
    method: str
    purpose: str


@dataclass(frozen=True)
class FormData:
    """Everything the form and its information page show."""

    referral_number: str
    school_name: str
    agency: AgencyBlock
    categories: tuple[str, ...]
    other_text: str
    basis: str
    grounds: str
    purpose: str
    authoriser: PersonBlock
    requester: PersonBlock
    values: tuple[tuple[str, str], ...]  # (category title, value), only the categories disclosed
    extract_date: date | None
    generated_by: str
    generated_at: datetime
    consent: ConsentBlock | None = None
    views_sought: bool | None = None
    views_note: str = ""
    risk_assessment: str = ""  # FVISS: any risk assessment or safety plan
    stale_reason: str = ""
    preview: bool = False
    sent_on: date | None = None  # a copy of the form as sent on this day (read later; nothing is sent again)
    sent_note: int | None = None  # the file note of that disclosure
    times_sent: int = 1  # how many times the referral was sent (the copy is of one of them)
    sent_index: int = 1  # which of them (1 the first)


def _category_rows(on: Sequence[str]) -> list[list[dict[str, Any]]]:
    cells = [{"title": TITLES[c], "on": c in on} for c in CATEGORIES if c != "other"]
    return [cells[i:i + 4] for i in range(0, len(cells), 4)]


def views_line(basis: str, views_sought: bool | None, views_note: str) -> str:
    if views_sought is None:
        return ""
    if views_sought:
        return "The views of the child and family were sought." + (f" {views_note}" if views_note else "")
    return f"The views of the child and family were not sought: {views_note}"


def form_html(data: FormData) -> str:
    """The Attachment 3 form followed by the "Information provided" page."""
    return str(_template("referral_form.html").render(
        preview=data.preview,
        sent_on=data.sent_on,
        sent_note=data.sent_note,
        times_sent=data.times_sent,
        sent_index=data.sent_index,
        school_name=data.school_name,
        referral_number=data.referral_number,
        agency=data.agency,
        authoriser=data.authoriser,
        requester=data.requester,
        category_rows=_category_rows(data.categories),
        other_on="other" in data.categories,
        other_text=data.other_text,
        basis=data.basis,
        basis_title=basis_title(data.basis),
        grounds=data.grounds,
        consent=data.consent,
        views_line=views_line(data.basis, data.views_sought, data.views_note) if (data.basis in SCHEMES or data.views_sought is not None) else "",
        risk_assessment=data.risk_assessment,
        purpose=data.purpose,
        values=data.values,
        extract_date=data.extract_date,
        generated_by=data.generated_by,
        generated_at=data.generated_at,
        stale_reason=data.stale_reason,
    ))


@dataclass(frozen=True)
class ConsentFormData:
    school_name: str
    student_name: str
    agency_name: str
    purpose: str
    categories: tuple[str, ...]
    expires: date
    giver_name: str = ""
    relationship: str = ""


def consent_form_html(data: ConsentFormData) -> str:
    """The consent form and privacy notice, pre-filled, for the student or family to sign."""
    return str(_template("consent_form.html").render(
        school_name=data.school_name, student_name=data.student_name, agency_name=data.agency_name,
        purpose=data.purpose, category_rows=_category_rows(data.categories), expires=data.expires,
        giver_name=data.giver_name, relationship=data.relationship,
    ))


# -- file notes -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileNoteData:
    """One disclosure, as recorded: what the note says and what its digest covers."""

    id: int
    created_at: datetime
    student_key: str
    agency: str
    disclosed_by: str
    authorised_by: str
    basis: str
    consent_id: int | None
    grounds: str
    categories: tuple[str, ...]
    values: tuple[tuple[str, str], ...]
    document_sha256: str
    document_kind: str
    referral_id: int | None
    views_sought: bool | None
    views_note: str
    extract_date: date | None
    corrects: int | None = None
    text: str = ""
    risk_assessment: str = ""
    agency_details: tuple[tuple[str, str], ...] = ()  # (field, value) as the form gave them; () before 0011
    agency_id: int | None = None  # the agency in the register (its name may have changed since; not in the digest)
    form_details: tuple[tuple[str, str], ...] = ()  # (field, value): the school and staff as the form named them; () before 0012
    # For reading only (not in the digest): the staff's names, as the form named them or else as
    # their accounts read; the note itself records who by their user names.
    disclosed_by_name: str = ""
    authorised_by_name: str = ""

    @property
    def disclosed_by_shown(self) -> str:
        return _who(self.disclosed_by, self.disclosed_by_name)

    @property
    def authorised_by_shown(self) -> str:
        return _who(self.authorised_by, self.authorised_by_name)

    def canonical(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "created_at": self.created_at.isoformat(timespec="seconds"),
            "student_key": self.student_key,
            "agency": self.agency,
            "disclosed_by": self.disclosed_by,
            "authorised_by": self.authorised_by,
            "basis": self.basis,
            "consent_id": self.consent_id,
            "grounds": self.grounds,
            "categories": list(self.categories),
            "values": [list(v) for v in self.values],
            "document_sha256": self.document_sha256,
            "document_kind": self.document_kind,
            "referral_id": self.referral_id,
            "views_sought": self.views_sought,
            "views_note": self.views_note,
            "extract_date": self.extract_date.isoformat() if self.extract_date else None,
            "corrects": self.corrects,
            "text": self.text,
            "risk_assessment": self.risk_assessment,
        }
        if self.agency_details:  # only then: a note written before they were kept hashes as it did
            out["agency_details"] = [list(v) for v in self.agency_details]
        if self.form_details:  # likewise
            out["form_details"] = [list(v) for v in self.form_details]
        return out

    def digest(self) -> str:
        """SHA-256 of the note's content: kept in the audit chain, so an edited note is found."""
        text = json.dumps(self.canonical(), sort_keys=True, ensure_ascii=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def values_text(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.values)

    def rows(self) -> list[tuple[str, str]]:
        yes_no = {True: "yes", False: "no", None: "not recorded"}
        basis = basis_title(self.basis) if self.basis else ""
        if self.basis == CONSENT and self.consent_id:
            basis += f" (consent record {self.consent_id})"
        elif self.grounds:
            basis += f". Grounds: {self.grounds}"
        local = self.created_at.replace(tzinfo=UTC).astimezone()  # stored in UTC, read in local time
        out = [
            ("When", local.strftime("%d/%m/%Y %H:%M")),
            ("Student", self.student_key),
        ]
        if self.corrects:
            out += [("Correction", self.text)]
        else:
            out += [
                ("Agency", self.agency),
                ("Disclosed by", self.disclosed_by_shown),
                ("Authorised by", self.authorised_by_shown),
                ("Referral", str(self.referral_id or "")),
                ("Basis", basis),
                ("Categories", ", ".join(TITLES.get(c, c) for c in self.categories)),
                ("Information disclosed", self.values_text()),
                ("Views of child and family sought", yes_no[self.views_sought] + (f": {self.views_note}" if self.views_note else "")),
                *([("Risk assessment or safety plan", self.risk_assessment)] if self.risk_assessment else []),
                ("Extract date", self.extract_date.strftime("%d/%m/%Y") if self.extract_date else ""),
                ("Document", f"{self.document_kind.upper()}, SHA-256 {self.document_sha256}"),
            ]
        return out


def _who(username: str, name: str) -> str:
    """A member of staff as a file note names them: "Casey Custodian (custodian)", or the user name."""
    return f"{name} ({username})" if name and username and name != username else username


def file_notes_html(
    notes: Sequence[FileNoteData], *, title: str, school_name: str, printed_by: str, printed_at: datetime
) -> str:
    view = [{"id": n.id, "corrects": n.corrects, "rows": n.rows()} for n in notes]
    return str(_template("referral_file_notes.html").render(
        title=title, school_name=school_name, printed_by=printed_by, printed_at=printed_at, notes=view,
    ))
