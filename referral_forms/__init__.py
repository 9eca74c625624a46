"""The referral domain: the categories of the template (privacy assessment, Attachment 3), the rules
that decide what may be disclosed to an agency and on what basis, referral status, and rendering
of the form, its information page, consent forms and file notes.

Pure Python (no Qt, no SQLAlchemy, no mapping_tool): plain data in, plain data out."""

from referral_forms.categories import CATEGORIES, NEVER, ON_REQUEST, TITLES, parse_categories
from referral_forms.errors import DisclosureRefused, ReferralFormError
from referral_forms.render import FileNoteData, FormData, form_html
from referral_forms.rules import (
    BASES,
    CONSENT,
    EXCEPTIONS,
    AgencyInfo,
    Agreement,
    ConsentInfo,
    ConsentInput,
    DisclosureRequest,
    check_consent,
    check_disclosure,
)

__all__ = [
    "BASES", "CATEGORIES", "CONSENT", "EXCEPTIONS", "NEVER", "ON_REQUEST", "TITLES", "AgencyInfo", "Agreement",
    "ConsentInfo", "ConsentInput", "DisclosureRefused", "DisclosureRequest", "FileNoteData", "FormData",
    "ReferralFormError", "check_consent", "check_disclosure", "form_html", "parse_categories",
]
