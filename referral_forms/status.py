"""The status of a referral, as requests for support are tracked."""

from __future__ import annotations

from referral_forms.errors import ReferralFormError

DRAFT, AWAITING, AUTHORISED, SENT = "draft", "awaiting_authorisation", "authorised", "sent"
ACKNOWLEDGED, ACCEPTED, DECLINED, CLOSED, WITHDRAWN = "acknowledged", "accepted", "declined", "closed", "withdrawn"
STATUSES = (DRAFT, AWAITING, AUTHORISED, SENT, ACKNOWLEDGED, ACCEPTED, DECLINED, CLOSED, WITHDRAWN)
TITLES = {
    DRAFT: "Draft", AWAITING: "Awaiting authorisation", AUTHORISED: "Authorised", SENT: "Sent",
    ACKNOWLEDGED: "Acknowledged", ACCEPTED: "Accepted", DECLINED: "Declined", CLOSED: "Closed",
    WITHDRAWN: "Withdrawn",
}
# Authorising and sending have their own commands (a password, a document and a file note).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    DRAFT: (AWAITING, WITHDRAWN),
    AWAITING: (DRAFT, AUTHORISED, WITHDRAWN),
    AUTHORISED: (SENT, WITHDRAWN),
    SENT: (ACKNOWLEDGED, ACCEPTED, DECLINED, CLOSED, WITHDRAWN),
    ACKNOWLEDGED: (ACCEPTED, DECLINED, CLOSED, WITHDRAWN),
    ACCEPTED: (CLOSED, WITHDRAWN),
    DECLINED: (CLOSED,),
    CLOSED: (),
    WITHDRAWN: (),
}
SET_BY_COMMAND = {AUTHORISED: "referral authorise", SENT: "referral send"}
NEEDS_NOTE = {DECLINED: "the reason it was declined", CLOSED: "the outcome"}
INACTIVE = frozenset((DECLINED, CLOSED, WITHDRAWN))


def parse_status(text: str) -> str:
    word = text.strip().lower().replace("-", "_").replace(" ", "_")
    if word == "awaiting":
        word = AWAITING
    if word not in STATUSES:
        raise ReferralFormError(
            f"Unknown status '{text}'. Use one of: {', '.join(s.replace('_', '-') for s in STATUSES)}."
        )
    return word


def check_transition(current: str, new: str, note: str, *, by_command: bool = False) -> None:
    """Raise unless ``current`` may move to ``new`` (``by_command``: authorise or send itself)."""
    if new in SET_BY_COMMAND and not by_command:
        raise ReferralFormError(f"A referral becomes {TITLES[new].lower()} only through '{SET_BY_COMMAND[new]}'.")
    if new not in TRANSITIONS.get(current, ()):
        raise ReferralFormError(f"A referral that is {TITLES[current].lower()} cannot become {TITLES[new].lower()}.")
    if new in NEEDS_NOTE and not note.strip():
        raise ReferralFormError(f"Record {NEEDS_NOTE[new]} (--note).")


def is_active(status: str) -> bool:
    return status not in INACTIVE
