"""Correcting a consent recorded wrongly (issue 10 s 3): never edited; a new record with the
corrected details replaces it, both stay, an unsent referral follows the new record and a sent
one keeps the record it relied on; refused with one sentence and nothing changed otherwise."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from mapping_tool import cli
from mapping_tool.errors import KnownError, PermissionDenied, UsageError
from mapping_tool.services import audit, auth, referrals
from mapping_tool.services.consent_corrections import correct_consent
from mapping_tool.ui.forms import html_to_pdf
from tests.referral_support import current_school, table_counts
from tests.services.test_referrals import a_student, add_agency
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    WELFARE,
    WELFARE_PASSWORD,
    YLC,
    YLC_PASSWORD,
)

TODAY = date.today()
PASSWORDS = {CUSTODIAN: CUSTODIAN_PASSWORD, PRINCIPAL: PRINCIPAL_PASSWORD, WELFARE: WELFARE_PASSWORD, YLC: YLC_PASSWORD}


@pytest.fixture(scope="module")
def imported(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = current_school(template_store, tmp_path_factory.mktemp("consent-corrections"), students=20, seed=5)
    custodian = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
    finally:
        auth.sign_out(custodian)
    return folder


@pytest.fixture
def school(imported: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "school"
    shutil.copytree(imported, folder)
    return folder


def _as(folder: Path, name: str):  # type: ignore[no-untyped-def]
    return auth.sign_in(folder, name, PASSWORDS[name])


def _consent(folder: Path, key: str, scan: Path | None = None) -> int:
    welfare = _as(folder, WELFARE)
    try:
        return referrals.record_consent(
            welfare, key, agency="Youth Connect", purpose="Mentoring", categories="student_name,year_level",
            given_by="parent", giver_name="Jo Smith", relationship="mother", date_given=TODAY - timedelta(days=5),
            evidence=scan,
        )
    finally:
        auth.sign_out(welfare)


def test_a_wrong_giver_name_is_corrected_by_a_new_record_and_both_stay(school: Path, tmp_path: Path) -> None:
    key = a_student(school)
    scan = tmp_path / "signed.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned consent")
    old = _consent(school, key, scan)
    welfare = _as(school, WELFARE)
    try:
        unsent = referrals.create_referral(welfare, key, agency="Youth Connect", categories="student_name,year_level",
                                           purpose="Mentoring", consent_id=old)
        done = correct_consent(welfare, old, "The mother's name is Joanne, not Jo", giver_name="Joanne Smith")
        assert done.changed == ("giver_name",) and done.referrals == (unsent,)
        views = {v.id: v for v in referrals.list_consents(welfare, student=key)}
        assert views[done.new_id].giver_name == "Joanne Smith" and views[done.new_id].state == "current"
        assert views[done.new_id].relationship == "mother" and views[done.new_id].date_given == TODAY - timedelta(days=5)
        assert views[old].giver_name == "Jo Smith" and views[old].state == "withdrawn"  # kept, visible, closed
        assert views[old].withdrawn_how == (f"Recorded in error: replaced by consent {done.new_id}. "
                                            "Reason: The mother's name is Joanne, not Jo")
        assert referrals.consent_evidence(welfare, done.new_id) == ("signed.pdf", scan.read_bytes())  # the same form
    finally:
        auth.sign_out(welfare)
    principal = _as(school, PRINCIPAL)
    try:  # the unsent referral now relies on the corrected record, and is sent with it
        referrals.authorise_referral(principal, unsent, PRINCIPAL_PASSWORD)
        sent = referrals.send_referral(principal, unsent, tmp_path / "ref.pdf", pdf_renderer=html_to_pdf)
        (note,) = [n for n in referrals.list_file_notes(principal, student=key, audit=False) if n.id == sent.note_id]
        assert note.consent_id == done.new_id
    finally:
        auth.sign_out(principal)
    custodian = _as(school, CUSTODIAN)
    try:
        (entry,) = audit.entries(custodian, action="consent.corrected")
        assert "Joanne" not in entry.detail and "Jo Smith" not in entry.detail
    finally:
        auth.sign_out(custodian)


def test_a_sent_referral_keeps_the_consent_it_relied_on(school: Path, tmp_path: Path) -> None:
    key = a_student(school)
    old = _consent(school, key)
    custodian = _as(school, CUSTODIAN)
    principal = _as(school, PRINCIPAL)
    try:
        rid = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name",
                                        purpose="Mentoring", consent_id=old)
        referrals.authorise_referral(principal, rid, PRINCIPAL_PASSWORD)
        referrals.send_referral(custodian, rid, tmp_path / "ref.pdf", pdf_renderer=html_to_pdf)
        done = correct_consent(custodian, old, "Witness was the assistant principal", witness="A. Principal")
        assert done.referrals == ()
        notes = referrals.list_file_notes(custodian, student=key, audit=False)
        assert [n.consent_id for n in notes] == [old]
    finally:
        auth.sign_out(principal)
        auth.sign_out(custodian)


@pytest.mark.parametrize(("who", "reason", "changes", "error", "message"), [
    (YLC, "Wrong name", {"giver_name": "Joanne Smith"}, PermissionDenied,
     "Only the staff member who recorded the consent, the data custodian or principal class may correct it."),
    (WELFARE, "  ", {"giver_name": "Joanne Smith"}, UsageError, "Say why the consent record is being corrected"),
    (WELFARE, "Wrong name", {"giver_name": "Jo Smith"}, UsageError, "Nothing is corrected"),
    (WELFARE, "Wrong name", {"giver_name": "  "}, KnownError, "Record the name of the person who gave consent"),
    (WELFARE, "Wrong way", {"method": "by pigeon"}, KnownError, "The way consent was given"),
])
def test_bad_corrections_are_refused_with_one_sentence_and_change_nothing(
    school: Path, store_key: bytes, who: str, reason: str, changes: dict[str, str], error: type, message: str
) -> None:
    key = a_student(school, "07")  # in the coordinator's year levels: the refusal is about the role
    old = _consent(school, key)
    before = table_counts(school, store_key)
    user = _as(school, who)
    try:
        with pytest.raises(error) as refused:
            correct_consent(user, old, reason, **changes)
        assert str(refused.value).startswith(message)
        assert "\n" not in str(refused.value)
        (view,) = [v for v in referrals.list_consents(user, student=key) if v.id == old]
        assert view.state == "current" and view.giver_name == "Jo Smith"
    finally:
        auth.sign_out(user)
    assert table_counts(school, store_key) == before


def test_a_withdrawn_consent_is_not_corrected(school: Path) -> None:
    key = a_student(school)
    old = _consent(school, key)
    welfare = _as(school, WELFARE)
    try:
        referrals.withdraw_consent(welfare, old, on=TODAY, reason="Mother rang")
        with pytest.raises(UsageError, match=f"Consent {old} was withdrawn on {TODAY:%d/%m/%Y}: it cannot be corrected"):
            correct_consent(welfare, old, "Wrong name", giver_name="Joanne Smith")
    finally:
        auth.sign_out(welfare)


def test_the_command_line_corrects_a_consent(school: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    key = a_student(school)
    old = _consent(school, key)
    base = ["--store", str(school), "--user", WELFARE, "consent", "correct", str(old)]
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", WELFARE_PASSWORD)
    assert cli.run([*base, "--reason", "Wrong relationship", "--relationship", "grandmother"]) == 0
    out = capsys.readouterr().out
    assert f"replaces consent {old} (recorded in error); both stay on the record" in out
    assert cli.run([*base, "--reason", "Again", "--relationship", "aunt"]) != 0  # now closed
    assert "cannot be corrected" in capsys.readouterr().err
