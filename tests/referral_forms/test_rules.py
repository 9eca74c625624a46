"""The disclosure rules of the privacy assessment and the information sharing schemes, as pure data."""

from __future__ import annotations

from datetime import date

import pytest

from referral_forms import (
    CATEGORIES,
    AgencyInfo,
    Agreement,
    ConsentInfo,
    ConsentInput,
    DisclosureRefused,
    DisclosureRequest,
    ReferralFormError,
    check_consent,
    check_disclosure,
    parse_categories,
)
from referral_forms.status import check_transition, parse_status

TODAY = date(2026, 12, 1)
AGENCY = AgencyInfo("Youth Connect", "yes", Agreement("MoU-7", date(2026, 1, 1), date(2027, 6, 30), frozenset(CATEGORIES)))
CONSENT = ConsentInfo(3, "ABC0001", "Youth Connect", frozenset({"student_name", "year_level", "literacy"}),
                      date(2026, 11, 1), date(2027, 11, 1))


def request(**kw) -> DisclosureRequest:  # type: ignore[no-untyped-def]
    base = dict(student_key="ABC0001", agency=AGENCY, categories=("student_name", "year_level"), basis="consent",
                on=TODAY, consent=CONSENT)
    base.update(kw)
    return DisclosureRequest(**base)  # type: ignore[arg-type]


def test_categories_are_the_templates_list_in_order() -> None:
    assert CATEGORIES == ("student_name", "year_level", "unapproved_absences", "attendance_rate", "suspensions",
                          "school_report", "literacy", "numeracy", "disability_status", "risk_alert", "medical_alert", "other")
    assert parse_categories("numeracy, Student-Name,numeracy") == ("student_name", "numeracy")


@pytest.mark.parametrize("text, words", [
    ("home_group", "Home group is never"), ("parents_occupation", "Parents' occupation is never"),
    ("all", "not specific"), ("shoe_size", "Unknown category"), (" , ", "at least one"),
])
def test_bad_categories_are_refused_in_one_sentence(text: str, words: str) -> None:
    with pytest.raises(ReferralFormError, match=words):
        parse_categories(text)


def test_a_current_covering_consent_allows_the_disclosure() -> None:
    check_disclosure(request())


@pytest.mark.parametrize("kw, words", [
    ({"categories": ("student_name", "numeracy")}, "does not cover: Numeracy"),
    ({"consent": ConsentInfo(3, "ZZZ0009", "Youth Connect", CONSENT.categories, CONSENT.date_given, CONSENT.expires)}, "another student"),
    ({"consent": ConsentInfo(3, "ABC0001", "Other Agency", CONSENT.categories, CONSENT.date_given, CONSENT.expires)}, "another agency"),
    ({"consent": ConsentInfo(3, "ABC0001", "Youth Connect", CONSENT.categories, date(2025, 1, 1), date(2025, 12, 31))}, "expired on 31/12/2025"),
    ({"consent": ConsentInfo(3, "ABC0001", "Youth Connect", CONSENT.categories, CONSENT.date_given, CONSENT.expires, date(2026, 11, 20))}, "withdrawn on 20/11/2026"),
    ({"consent": None}, "consent record"),
    ({"categories": ("attendance_rate",), "consent": ConsentInfo(3, "ABC0001", "Youth Connect", frozenset({"attendance_rate"}), CONSENT.date_given, CONSENT.expires)}, "only when the agency asked"),
    ({"basis": "serious-threat"}, "needs its grounds"),
    ({"basis": "ciss", "grounds": "risk to the child"}, "designated"),
    ({"basis": "ciss", "grounds": "risk", "designated": True}, "views of the child and family were sought"),
    ({"basis": "fviss", "grounds": "risk", "designated": True, "views_sought": False}, "why the views"),
    ({"basis": "ciss", "grounds": "risk", "designated": True, "views_sought": True, "agency": AgencyInfo("Club", "no")}, "not a prescribed"),
    ({"categories": ("other",), "consent": ConsentInfo(3, "ABC0001", "Youth Connect", frozenset({"other"}), CONSENT.date_given, CONSENT.expires)}, "Describe the other"),
])
def test_refusals(kw: dict, words: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ReferralFormError, match=words):
        check_disclosure(request(**kw))


def test_agreement_must_be_current_and_covering_unless_an_exception() -> None:
    narrow = AgencyInfo("Youth Connect", "yes", Agreement("MoU-7", None, date(2027, 6, 30), frozenset({"student_name"})))
    with pytest.raises(DisclosureRefused, match="agreement with Youth Connect does not cover: Year Level"):
        check_disclosure(request(agency=narrow))
    ended = AgencyInfo("Youth Connect", "yes", Agreement("MoU-7", None, date(2026, 6, 30), frozenset(CATEGORIES)))
    with pytest.raises(DisclosureRefused, match="ended on 30/06/2026"):
        check_disclosure(request(agency=ended))
    check_disclosure(request(agency=ended, basis="serious-threat", grounds="Threat of self-harm disclosed today", consent=None))
    check_disclosure(request(agency=ended, basis="ciss", grounds="Wellbeing of the child", consent=None, designated=True,
                             views_sought=False, views_note="Unsafe to contact the family"))


def test_consent_tests() -> None:
    ok = ConsentInput("ABC0001", "Youth Connect", "Mentoring", ("student_name",), "student", "Sam Student",
                      date(2026, 11, 1), date(2027, 11, 1), True, "written")
    check_consent(ok, today=TODAY)
    import dataclasses

    for change, words in (
        ({"capacity": None}, "capacity"), ({"capacity": False}, "parent or guardian must"),
        ({"date_given": date(2027, 1, 1)}, "future"), ({"expires": date(2026, 10, 1)}, "after the date"),
        ({"purpose": " "}, "what the consent is for"), ({"giver_name": ""}, "name of the person"),
    ):
        with pytest.raises(ReferralFormError, match=words):
            check_consent(dataclasses.replace(ok, **change), today=TODAY)
    check_consent(dataclasses.replace(ok, given_by="parent", capacity=None), today=TODAY)


def test_status_transitions() -> None:
    check_transition("sent", "acknowledged", "")
    with pytest.raises(ReferralFormError, match="only through 'referral send'"):
        check_transition("authorised", "sent", "")
    with pytest.raises(ReferralFormError, match="the reason it was declined"):
        check_transition("sent", "declined", " ")
    with pytest.raises(ReferralFormError, match="closed cannot become"):
        check_transition("closed", "accepted", "")
    assert parse_status("Awaiting-Authorisation") == "awaiting_authorisation"
    with pytest.raises(ReferralFormError, match="Unknown status"):
        parse_status("lost")
