"""Keeping the agencies register: the data custodian changes an agency's details (a renewed
agreement above all), every earlier value is kept with who, when and why, and a refusal changes
nothing."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from mapping_tool.errors import KnownError, PermissionDenied
from mapping_tool.services import audit, auth, referrals
from tests.services import test_referrals as base
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    WELFARE,
    WELFARE_PASSWORD,
)

TODAY = date.today()
imported, school = base.imported, base.school  # the referral tests' school, copied fresh for each test
a_student, add_agency, signed = base.a_student, base.add_agency, base.signed
CATS = "student_name,year_level,attendance_rate"


def _expired(custodian) -> None:  # type: ignore[no-untyped-def]
    add_agency(custodian, agreement_ref="MoU-2024", agreement_start=TODAY - timedelta(days=500),
               agreement_until=TODAY - timedelta(days=1))


def test_renewing_an_ended_agreement_lets_a_referral_be_made_again(school: Path) -> None:
    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        _expired(custodian)
    finally:
        auth.sign_out(custodian)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        consent = referrals.record_consent(
            welfare, key, agency="Youth Connect", purpose="Mentoring", categories=CATS, given_by="parent",
            giver_name="Sam Parent", date_given=TODAY)
        with pytest.raises(KnownError, match="ended on .*renew it or record an exception"):
            referrals.create_referral(welfare, key, agency="Youth Connect", categories=CATS, purpose="Mentoring",
                                      consent_id=consent, requested_by_agency="attendance_rate")
    finally:
        auth.sign_out(welfare)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        until = TODAY + timedelta(days=365)
        view = referrals.update_agency(custodian, "youth connect", reason="Agreement renewed for 2027",
                                       agreement_ref="MoU-2027", agreement_start=TODAY, agreement_until=until,
                                       phone="03 9111 2222")
        assert view.agreement_ref == "MoU-2027" and view.agreement_end == until and view.phone == "03 9111 2222"
        assert view.agreement_state() == f"current until {until:%d/%m/%Y}"
        history = referrals.agency_history(custodian, "Youth Connect")
        assert [(c.field, c.old_value, c.new_value) for c in history] == [
            ("phone", "03 9000 0000", "03 9111 2222"),
            ("agreement reference", "MoU-2024", "MoU-2027"),
            ("agreement start", f"{TODAY - timedelta(days=500):%d/%m/%Y}", f"{TODAY:%d/%m/%Y}"),
            ("agreement end", f"{TODAY - timedelta(days=1):%d/%m/%Y}", f"{until:%d/%m/%Y}"),
        ]
        assert {(c.changed_by, c.reason) for c in history} == {(f"Casey Custodian ({CUSTODIAN})", "Agreement renewed for 2027")}
        entries = [e for e in audit.entries(custodian) if e.action == "agency.changed"]
        assert len(entries) == 1
        assert json.loads(entries[0].detail)["fields"] == ["phone", "agreement_ref", "agreement_start", "agreement_end"]
        assert audit.verify(custodian).intact
    finally:
        auth.sign_out(custodian)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        rid = referrals.create_referral(welfare, key, agency="Youth Connect", categories=CATS, purpose="Mentoring",
                                        consent_id=consent, requested_by_agency="attendance_rate")
        assert referrals.list_referrals(welfare, student=key)[0].id == rid
    finally:
        auth.sign_out(welfare)


def _state(folder: Path) -> tuple[object, ...]:
    user = signed(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        with user.store.read() as session:
            conn = session.connection().connection.driver_connection
            changes = conn.execute("SELECT count(*) FROM agency_change").fetchone()[0]
            logged = conn.execute("SELECT count(*) FROM audit_entry WHERE action = 'agency.changed'").fetchone()[0]
        return tuple(referrals.list_agencies(user)), changes, logged
    finally:
        auth.sign_out(user)


@pytest.mark.parametrize(("change", "message"), [
    ({"phone": "0399998888", "reason": ""}, "a reason is required"),
    ({"phone": "0399998888", "reason": "   "}, "a reason is required"),
    ({"email": "not an email"}, "is not an email address"),
    ({"phone": " "}, "needs a phone number"),
    ({"address": ""}, "needs an address"),
    ({"postcode": "30"}, "is not a postcode"),
    ({"ise": "perhaps"}, "prescribed information sharing entity"),
    ({"agreement_categories": "home_group"}, "never disclosed to an agency"),
    ({"agreement_ref": ""}, "reference, end date and categories together"),
    ({"agreement_start": TODAY + timedelta(days=900)}, "end date is before its start"),
    ({"phone": "03 9000 0000"}, "Nothing to change"),
    ({"name": "No Such Agency", "phone": "0399998888"}, "There is no agency 'No Such Agency'"),
    ({"clear_agreement": True, "agreement_ref": "MoU-9"}, "Either remove the agreement or give its new details"),
])
def test_each_refused_change_changes_nothing(school: Path, change: dict[str, object], message: str) -> None:
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
    finally:
        auth.sign_out(custodian)
    before = _state(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        kw = {"reason": "Phone number changed", **change}
        name = str(kw.pop("name", "Youth Connect"))
        with pytest.raises(KnownError, match=message) as caught:
            referrals.update_agency(custodian, name, **kw)  # type: ignore[arg-type]
        assert caught.value.message.count(".") <= 2 and "\n" not in caught.value.message
    finally:
        auth.sign_out(custodian)
    assert _state(school) == before


def test_only_the_data_custodian_changes_an_agency(school: Path) -> None:
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
    finally:
        auth.sign_out(custodian)
    before = _state(school)
    for name, password in ((PRINCIPAL, PRINCIPAL_PASSWORD), (WELFARE, WELFARE_PASSWORD)):
        user = signed(school, name, password)
        try:
            with pytest.raises(PermissionDenied):
                referrals.update_agency(user, "Youth Connect", reason="New phone", phone="0399998888")
            assert referrals.agency_history(user, "Youth Connect") == []
        finally:
            auth.sign_out(user)
    assert _state(school) == before


def test_an_agreement_that_was_not_renewed_is_removed_and_kept_in_the_history(school: Path) -> None:
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian, agreement_ref="MoU-1", agreement_until=TODAY + timedelta(days=30), agreement_categories=CATS)
        view = referrals.update_agency(custodian, "Youth Connect", reason="Not renewed", clear_agreement=True)
        shown = {c.field: (c.old_value, c.new_value) for c in referrals.agency_history(custodian, "Youth Connect")}
    finally:
        auth.sign_out(custodian)
    assert view.agreement_ref == "" and view.agreement_end is None and view.agreement_categories == ()
    assert view.agreement_state() == "none recorded"
    assert shown["agreement reference"] == ("MoU-1", "")
    assert shown["agreement end"] == (f"{TODAY + timedelta(days=30):%d/%m/%Y}", "")


def test_the_history_is_in_words(school: Path) -> None:
    from referral_forms import categories as cats

    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian, ise="unknown", agreement_categories=CATS)
        referrals.update_agency(custodian, "Youth Connect", reason="Agreement widened", ise="yes",
                                agreement_categories=CATS + ",literacy")
        shown = {c.field: (c.old_value, c.new_value) for c in referrals.agency_history(custodian, "Youth Connect")}
    finally:
        auth.sign_out(custodian)
    old, new = cats.split(CATS), cats.split(CATS + ",literacy")
    assert shown["agreement categories"] == (cats.titles(old), cats.titles(new))
    assert "attendance_rate" not in shown["agreement categories"][1]  # titles, not codes
    assert shown["prescribed information sharing entity"] == (
        "not known whether a prescribed CISS/FVISS information sharing entity", "a prescribed CISS/FVISS information sharing entity")


def test_a_sent_referral_keeps_what_it_recorded(school: Path, tmp_path: Path) -> None:
    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
    finally:
        auth.sign_out(custodian)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        consent = referrals.record_consent(
            welfare, key, agency="Youth Connect", purpose="Mentoring", categories=CATS, given_by="parent",
            giver_name="Sam Parent", date_given=TODAY)
        rid = referrals.create_referral(welfare, key, agency="Youth Connect", categories=CATS, purpose="Mentoring",
                                        consent_id=consent, requested_by_agency="attendance_rate")
    finally:
        auth.sign_out(welfare)
    principal = signed(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        referrals.authorise_referral(principal, rid, PRINCIPAL_PASSWORD)
    finally:
        auth.sign_out(principal)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        out = tmp_path / "referral.docx"
        referrals.send_referral(welfare, rid, out, fmt="docx")
        sent = out.read_bytes()
        note_before = referrals.list_file_notes(welfare, student=key)
    finally:
        auth.sign_out(welfare)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        referrals.update_agency(custodian, "Youth Connect", reason="New intake line", phone="03 9111 2222",
                                contact_person="Jo Bloggs")
        assert referrals.list_file_notes(custodian, student=key) == note_before
        assert note_before[0].agency == "Youth Connect"
        assert audit.verify(custodian).intact  # each note's digest still matches
    finally:
        auth.sign_out(custodian)
    assert out.read_bytes() == sent


def _sent(school: Path, tmp_path: Path, name: str = "first.docx") -> tuple[int, int]:  # (referral, file note)
    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian, contact_person="Alex Intake")
        rid = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name",
                                        purpose="Urgent support", basis="serious-threat", grounds="Threat to safety disclosed")
        referrals.authorise_referral(custodian, rid, CUSTODIAN_PASSWORD)
        return rid, referrals.send_referral(custodian, rid, tmp_path / name, fmt="docx").note_id
    finally:
        auth.sign_out(custodian)


def _edit_store(school: Path, store_key: bytes, sql: str) -> None:
    """Change the store behind the tool's back, as someone with the key and a SQLite tool could."""
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(school).db, store_key)
    try:
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def _new_details(custodian) -> None:  # type: ignore[no-untyped-def]
    referrals.update_agency(custodian, "Youth Connect", reason="New intake line", phone="03 9111 2222",
                            email="new-intake@yc.org.au", contact_person="Jo Bloggs")


def test_a_sent_referral_shows_the_agency_details_it_was_sent_with(school: Path, tmp_path: Path) -> None:
    rid, note_id = _sent(school, tmp_path)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        _new_details(custodian)
        html = referrals.preview_html(custodian, rid)
        (note,) = referrals.list_file_notes(custodian, audit=False)
        assert audit.verify(custodian).intact
    finally:
        auth.sign_out(custodian)
    assert f"Copy of the form sent on {TODAY:%d/%m/%Y} (file note {note_id})" in html and "PREVIEW" not in html
    assert "03 9000 0000" in html and "intake@yc.org.au" in html and "Alex Intake" in html
    assert "03 9111 2222" not in html and "new-intake@yc.org.au" not in html and "Jo Bloggs" not in html
    assert dict(note.agency_details) == {"email": "intake@yc.org.au", "phone": "03 9000 0000", "fax": "",
                                         "address": "1 Main St, Melbourne", "postcode": "3000", "contact": "Alex Intake"}


def test_an_unsent_referral_still_previews_the_agency_details_of_today(school: Path) -> None:
    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
        draft = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name",
                                          purpose="Urgent support", basis="serious-threat", grounds="Safety", draft=True)
        authorised = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name",
                                               purpose="Urgent support", basis="serious-threat", grounds="Safety")
        referrals.authorise_referral(custodian, authorised, CUSTODIAN_PASSWORD)
        _new_details(custodian)
        for rid in (draft, authorised):
            view = referrals.form_view(custodian, rid)
            assert not view.is_copy and view.sent_at is None
            assert "PREVIEW: not sent" in view.html and "Copy of the form" not in view.html
            assert "03 9111 2222" in view.html and "new-intake@yc.org.au" in view.html and "Jo Bloggs" in view.html
            assert "03 9000 0000" not in view.html
        assert not any(r.was_sent for r in referrals.list_referrals(custodian, student=key))
        read = [json.loads(e.detail) for e in audit.entries(custodian, action="referral.previewed")]
        assert sorted(d["referral"] for d in read) == [draft, authorised] and not any("copy_of_note" in d for d in read)
    finally:
        auth.sign_out(custodian)


def test_each_sending_keeps_the_agency_details_it_went_with(school: Path, tmp_path: Path) -> None:
    rid, first = _sent(school, tmp_path)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        _new_details(custodian)
        second = referrals.send_referral(custodian, rid, tmp_path / "again.docx", fmt="docx").note_id
        latest = referrals.form_view(custodian, rid)
        earlier = referrals.form_view(custodian, rid, note_id=first)
        with pytest.raises(KnownError, match=f"File note 999 is not a disclosure of referral {rid}"):
            referrals.form_view(custodian, rid, note_id=999)
        fixed = referrals.correct_file_note(custodian, first, "Sent by email, not post.")
        with pytest.raises(KnownError, match="is not a disclosure"):  # a correction is not a sending
            referrals.form_view(custodian, rid, note_id=fixed)
        assert referrals.form_view(custodian, rid).note_id == second
        assert audit.verify(custodian).intact
    finally:
        auth.sign_out(custodian)
    assert latest.note_id == second and "03 9111 2222" in latest.html and "03 9000 0000" not in latest.html
    assert f"(file note {second}; sending 2 of 2, the latest)" in latest.html
    assert earlier.note_id == first and "03 9000 0000" in earlier.html and "03 9111 2222" not in earlier.html
    assert f"(file note {first}; sending 1 of 2)" in earlier.html and "latest" not in earlier.html


def test_a_note_written_before_the_details_were_kept_reads_them_from_the_agency_history(
    school: Path, tmp_path: Path, store_key: bytes
) -> None:
    """Notes written before schema 0011 have no agency details: the copy takes today's details and
    undoes each change made after the note (the history keeps every earlier value)."""
    rid, _ = _sent(school, tmp_path)
    _edit_store(school, store_key, "UPDATE file_note SET agency_details = ''")  # as an older note is (audit verify is not the point here)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        _new_details(custodian)
        referrals.update_agency(custodian, "Youth Connect", reason="Another new line", phone="03 9222 3333")
        html = referrals.preview_html(custodian, rid)
    finally:
        auth.sign_out(custodian)
    assert "03 9000 0000" in html and "intake@yc.org.au" in html and "Alex Intake" in html
    assert not any(new in html for new in ("03 9111 2222", "03 9222 3333", "new-intake@yc.org.au", "Jo Bloggs"))


def test_audit_verify_finds_the_agency_details_of_a_note_edited(school: Path, tmp_path: Path, store_key: bytes) -> None:
    _, note_id = _sent(school, tmp_path)
    _edit_store(school, store_key, "UPDATE file_note SET agency_details = replace(agency_details, '03 9000 0000', '03 9111 2222')")
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = audit.verify(custodian)
    finally:
        auth.sign_out(custodian)
    assert not result.intact and f"file note {note_id} was changed" in result.problem


def test_a_renamed_agency_keeps_its_referrals_and_its_file_notes_keep_the_name_they_went_under(
    school: Path, tmp_path: Path
) -> None:
    rid, note_id = _sent(school, tmp_path)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        view = referrals.update_agency(custodian, "youth connect", reason="Merged into the regional service",
                                       new_name="  Youth Connect North  ")
        assert view.name == "Youth Connect North" and [a.name for a in referrals.list_agencies(custodian)] == [view.name]
        assert [r.agency for r in referrals.list_referrals(custodian) if r.id == rid] == ["Youth Connect North"]
        (note,) = [n for n in referrals.list_file_notes(custodian, agency="Youth Connect North") if n.id == note_id]
        assert note.agency == "Youth Connect"  # the name the form went out under
        copy = referrals.form_view(custodian, rid)
        assert copy.is_copy and "Youth Connect North" not in copy.html and "Youth Connect" in copy.html
        (change,) = referrals.agency_history(custodian, "Youth Connect North")
        assert (change.field, change.old_value, change.new_value) == ("name", "Youth Connect", "Youth Connect North")
        with pytest.raises(KnownError, match=f"no agency 'Youth Connect' in the register: it was renamed Youth Connect North "
                                              f"on {TODAY:%d/%m/%Y}"):
            referrals.update_agency(custodian, "Youth Connect", reason="x", phone="03 9222 3333")
        # a new referral names the agency by its new name
        key = a_student(school)
        referrals.create_referral(custodian, key, agency="Youth Connect North", categories="student_name",
                                  purpose="Mentoring", basis="serious-threat", grounds="Threat to safety disclosed")
        entry = next(e for e in audit.entries(custodian) if e.action == "agency.changed")
        detail = json.loads(entry.detail)
        assert detail["earlier_name"] == "Youth Connect" and detail["fields"] == ["name"]
        assert audit.verify(custodian).intact
    finally:
        auth.sign_out(custodian)


def test_renaming_to_another_agencys_name_is_refused_and_a_change_of_case_is_not(school: Path) -> None:
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
        add_agency(custodian, "Orange Door")
        before = referrals.list_agencies(custodian)
        with pytest.raises(KnownError, match="Another agency is already called ORANGE DOOR: choose another name."):
            referrals.update_agency(custodian, "Youth Connect", reason="Merged", new_name="ORANGE DOOR", phone="03 9111 2222")
        assert referrals.list_agencies(custodian) == before  # the phone number was not changed either
        assert referrals.agency_history(custodian, "Youth Connect") == []
        with pytest.raises(KnownError, match="An agency needs a name."):
            referrals.update_agency(custodian, "Youth Connect", reason="Typo", new_name="   ")
        referrals.update_agency(custodian, "Orange Door", reason="Their own name", new_name="Ōtautahi Youth Service")
        with pytest.raises(KnownError, match="Another agency is already called ōtautahi youth service"):
            referrals.update_agency(custodian, "Youth Connect", reason="Merged", new_name="ōtautahi youth service")
        referrals.update_agency(custodian, "ŌTAUTAHI youth service", reason="Renamed again", new_name="Orange Door")
        with pytest.raises(KnownError, match="it was renamed Orange Door on"):  # an earlier name not in ASCII is found
            referrals.agency_history(custodian, "ōtautahi YOUTH service")
        view = referrals.update_agency(custodian, "Youth Connect", reason="Their own spelling", new_name="YOUTH Connect")
        assert view.name == "YOUTH Connect"
        assert [c.field for c in referrals.agency_history(custodian, "youth connect")] == ["name"]
    finally:
        auth.sign_out(custodian)


def test_a_copy_names_the_staff_as_the_form_did_after_they_change_their_profile(school: Path, tmp_path: Path) -> None:
    """The form names who asked for and authorised the disclosure, with their positions: the copy
    keeps those names (schema 0012), whatever the accounts say later."""
    rid, note_id = _sent(school, tmp_path)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        before = referrals.form_view(custodian, rid).html
        from mapping_tool.services import accounts

        accounts.update_profile(custodian, display_name="Robin Renamed", position="Business Manager")
        after = referrals.form_view(custodian, rid)
        (note,) = referrals.list_file_notes(custodian, audit=False)
        result = audit.verify(custodian)
    finally:
        auth.sign_out(custodian)
    assert after.note_id == note_id and after.html == before
    assert "Robin Renamed" not in after.html and "Business Manager" not in after.html
    kept = dict(note.form_details)
    assert kept["requester_name"] and kept["requester_name"] in before and kept["authoriser_name"] in before
    assert kept["school_name"] and kept["school_name"] in before
    assert result.intact, result.problem


def test_a_note_written_before_the_staff_were_kept_verifies_and_names_them_as_they_are_now(
    school: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note written before schema 0012 keeps no school or staff: written here as that code wrote it
    (nothing kept), it hashes as such a note did, audit verify holds, and its copy names the staff
    as their accounts read now."""
    monkeypatch.setattr(referrals, "_form_details", lambda data: ())
    rid, _ = _sent(school, tmp_path)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        from mapping_tool.services import accounts

        (note,) = referrals.list_file_notes(custodian, audit=False)
        accounts.update_profile(custodian, display_name="Robin Renamed", position="Business Manager")
        html = referrals.form_view(custodian, rid).html
        result = audit.verify(custodian)
    finally:
        auth.sign_out(custodian)
    assert note.form_details == () and "form_details" not in note.canonical()
    assert "Robin Renamed" in html and "Business Manager" in html
    assert result.intact, result.problem


def test_the_form_keeps_who_asked_and_who_authorised_each_as_they_were(school: Path, tmp_path: Path) -> None:
    """Requested by one account, authorised and sent by another: each keeps its own name and position."""
    from mapping_tool.services import accounts

    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    principal = signed(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        add_agency(custodian)
        accounts.update_profile(welfare, display_name="Wren Welfare", position="Wellbeing Leader")
        accounts.update_profile(principal, display_name="Pat Principal", position="Principal")
        rid = referrals.create_referral(welfare, key, agency="Youth Connect", categories="student_name",
                                        purpose="Urgent support", basis="serious-threat", grounds="Threat to safety disclosed")
        referrals.authorise_referral(principal, rid, PRINCIPAL_PASSWORD)
        referrals.send_referral(principal, rid, tmp_path / "sent.docx", fmt="docx")
        before = referrals.form_view(custodian, rid).html
        accounts.update_profile(welfare, display_name="Wren Moved", position="Librarian")
        accounts.update_profile(principal, display_name="Pat Moved", position="Acting Principal")
        after = referrals.form_view(custodian, rid).html
        (note,) = referrals.list_file_notes(custodian, audit=False)
    finally:
        for user in (principal, welfare, custodian):
            auth.sign_out(user)
    kept = dict(note.form_details)
    assert (kept["requester_name"], kept["requester_position"]) == ("Wren Welfare", "Wellbeing Leader")
    assert (kept["authoriser_name"], kept["authoriser_position"]) == ("Pat Principal", "Principal")
    assert kept["generated_by"] == "Pat Principal"
    assert after == before and "Wren Welfare" in after and "Wellbeing Leader" in after
    assert not any(moved in after for moved in ("Wren Moved", "Librarian", "Pat Moved", "Acting Principal"))
    # the file note names them as the form did, by name and user name
    assert note.disclosed_by_shown == f"Pat Principal ({PRINCIPAL})" and note.authorised_by_shown == f"Pat Principal ({PRINCIPAL})"


def test_a_note_with_a_kept_detail_edited_away_still_opens_and_verify_says_it_changed(
    school: Path, tmp_path: Path, store_key: bytes
) -> None:
    rid, note_id = _sent(school, tmp_path)
    _edit_store(school, store_key, "UPDATE file_note SET form_details = replace(form_details, 'authoriser_position', 'x')")
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        view = referrals.form_view(custodian, rid)  # opens (the position as the account reads now)
        notes = referrals.list_file_notes(custodian, audit=False)
        result = audit.verify(custodian)
    finally:
        auth.sign_out(custodian)
    assert view.note_id == note_id and len(notes) == 1
    assert not result.intact and f"file note {note_id} was changed" in result.problem


def test_a_note_whose_kept_details_are_no_longer_json_is_reported_not_a_crash(
    school: Path, tmp_path: Path, store_key: bytes
) -> None:
    _, note_id = _sent(school, tmp_path)
    _edit_store(school, store_key, "UPDATE file_note SET form_details = '[[\"school_name\"'")
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = audit.verify(custodian)
    finally:
        auth.sign_out(custodian)
    assert not result.intact and f"file note {note_id} was changed" in result.problem
