"""Referrals on a real store: agencies, consent, authorisation with the authoriser's own password,
the disclosure and its file note in one transaction, who may do what, and audit verify finding an
edited file note."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from mapping_tool.errors import AuthenticationError, KnownError, PermissionDenied
from mapping_tool.services import audit, auth, referrals, students
from mapping_tool.ui.forms import html_to_pdf
from tests.referral_support import current_school
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    HGT,
    HGT_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    WELFARE,
    WELFARE_PASSWORD,
    YLC,
    YLC_PASSWORD,
)

TODAY = date.today()


@pytest.fixture(scope="module")
def imported(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return current_school(template_store, tmp_path_factory.mktemp("referrals"))


@pytest.fixture
def school(imported: Path, tmp_path: Path) -> Path:
    """A fresh copy of the imported school for each test."""
    folder = tmp_path / "school"
    shutil.copytree(imported, folder)
    return folder


def signed(folder: Path, name: str, password: str):  # type: ignore[no-untyped-def]
    return auth.sign_in(folder, name, password)


def add_agency(custodian, name: str = "Youth Connect", **kw):  # type: ignore[no-untyped-def]
    base = dict(email="intake@yc.org.au", phone="03 9000 0000", address="1 Main St, Melbourne", postcode="3000",
                ise="yes", agreement_ref="MoU-2026", agreement_until=TODAY + timedelta(days=200),
                agreement_categories="student_name,year_level,attendance_rate,literacy,numeracy,other")
    base.update(kw)
    return referrals.add_agency(custodian, name, **base)


def counts(folder: Path) -> dict[str, int]:
    user = signed(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        with user.store.read() as session:
            conn = session.connection().connection.driver_connection
            return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                    for t in ("agency", "consent_record", "consent_evidence", "referral", "referral_status_change", "file_note")}
    finally:
        auth.sign_out(user)


def a_student(folder: Path, year_level: str | None = None) -> str:
    user = signed(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        table = students.list_students(user, fields=("student_key", "year_level"), audit=False)
        return next(k for k, y in table.rows if year_level is None or y == year_level)
    finally:
        auth.sign_out(user)


def test_consented_referral_end_to_end(school: Path, tmp_path: Path) -> None:
    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
        referrals.set_designated(custodian, WELFARE, True)
    finally:
        auth.sign_out(custodian)
    scan = tmp_path / "signed-consent.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned consent form")
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        consent = referrals.record_consent(
            welfare, key, agency="youth connect", purpose="Mentoring and careers support",
            categories="student_name,year_level,attendance_rate,literacy", given_by="parent", giver_name="Sam Parent",
            date_given=TODAY - timedelta(days=3), evidence=scan,
        )
        view = referrals.list_consents(welfare, student=key)[0]
        assert view.state == "current" and view.expires.year == (TODAY - timedelta(days=3)).year + 1
        assert view.evidence == "attached (signed-consent.pdf)"
        assert referrals.consent_evidence(welfare, consent) == ("signed-consent.pdf", scan.read_bytes())
        rid = referrals.create_referral(
            welfare, key, agency="Youth Connect", categories="student_name,year_level,attendance_rate",
            requested_by_agency="attendance_rate", purpose="Mentoring", consent_id=consent,
        )
        with pytest.raises(PermissionDenied, match="your own request"):
            referrals.authorise_referral(welfare, rid, WELFARE_PASSWORD)
        with pytest.raises(KnownError, match="not been authorised"):
            referrals.send_referral(welfare, rid, tmp_path / "early.pdf", pdf_renderer=html_to_pdf)
        assert not (tmp_path / "early.pdf").exists()
        preview = referrals.preview_html(welfare, rid)
        assert "PREVIEW" in preview
    finally:
        auth.sign_out(welfare)
    assert counts(school)["file_note"] == 0  # a preview writes none
    principal = signed(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        with pytest.raises(AuthenticationError):
            referrals.authorise_referral(principal, rid, "not-my-password-at-all")
        referrals.authorise_referral(principal, rid, PRINCIPAL_PASSWORD)
    finally:
        auth.sign_out(principal)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        out = tmp_path / "referral.pdf"
        sent = referrals.send_referral(welfare, rid, out, pdf_renderer=html_to_pdf)
        assert out.read_bytes().startswith(b"%PDF")
        assert sent.document_sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
        docx = referrals.send_referral(welfare, rid, tmp_path / "referral.docx", fmt="docx")
        notes = referrals.list_file_notes(welfare, student=key)
        assert [n.id for n in notes] == [sent.note_id, docx.note_id]
        note = notes[0]
        assert note.agency == "Youth Connect" and note.disclosed_by == WELFARE and note.authorised_by == PRINCIPAL
        assert note.basis == "consent" and note.consent_id == consent and note.referral_id == rid
        assert note.categories == ("student_name", "year_level", "attendance_rate")
        assert [t for t, _ in note.values] == ["Student Name", "Year Level", "Attendance Rate"]
        assert note.document_sha256 == sent.document_sha256
        assert referrals.list_referrals(welfare, student=key)[0].status == "sent"
        fixed = referrals.correct_file_note(welfare, note.id, "The agency's intake officer was Jo Bloggs, not Jo Blogs.")
        assert referrals.list_file_notes(welfare, student=key)[-1].corrects == note.id
        assert fixed > note.id
        referrals.set_status(welfare, rid, "acknowledged")
        with pytest.raises(KnownError, match="reason it was declined"):
            referrals.set_status(welfare, rid, "declined")
        referrals.set_status(welfare, rid, "declined", "No places this term")
        # withdrawing the consent stops further disclosures
        referrals.withdraw_consent(welfare, consent, on=TODAY, reason="Parent phoned")
        assert referrals.list_consents(welfare, student=key)[0].state == "withdrawn"
    finally:
        auth.sign_out(welfare)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert audit.verify(custodian).intact
        report = audit.entries(custodian, student=key)
        assert {"filenote.written", "referral.sent", "consent.recorded"} <= {e.action for e in report}
        details = [json.loads(e.detail) for e in report if e.action == "filenote.written"]
        assert all("note_sha256" in d for d in details)
        assert "Sam Parent" not in "".join(e.detail for e in report)  # names stay out of the log
    finally:
        auth.sign_out(custodian)


def _without_marks(html: str) -> str:
    """The form without the mark a copy or a preview carries, nor the minute it was generated."""
    html = re.sub(r'<p class="(copy|preview)">.*?</p>', "", html)
    html = re.sub(r"\n\s*\n", "\n", html)  # the lines the marks stood on
    return re.sub(r"Generated by (.*?) on \d\d/\d\d/\d{4} at \d\d:\d\d", r"Generated by \1", html)


def test_a_sent_referral_shows_the_form_as_it_was_sent_not_as_it_would_be_today(
    school: Path, tmp_path: Path, store_key: bytes
) -> None:
    """After the agency's details change and the student's record changes, reading a sent
    referral shows the agency's details and the values that went, on the day they went."""
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian, contact_person="Alex Intake")
        rid = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name,year_level",
                                        purpose="Urgent support", basis="serious-threat", grounds="Threat to safety disclosed")
        referrals.authorise_referral(custodian, rid, CUSTODIAN_PASSWORD)
        printed: list[str] = []
        sent = referrals.print_referral(custodian, rid, printed.append)  # the printout is exactly what went
        (name,) = [v for t, v in referrals.list_file_notes(custodian, student=key, audit=False)[0].values if t == "Student Name"]
        referrals.update_agency(custodian, "Youth Connect", reason="The agency moved", email="new-intake@yc.org.au",
                                phone="03 9111 2222", address="9 New Rd, Geelong", postcode="3220", contact_person="Jo Bloggs")
    finally:
        auth.sign_out(custodian)
    conn = db.connect_raw(StoreFiles(school).db, store_key)  # the next refresh brings a corrected name
    conn.execute("UPDATE student SET first_name = 'Zebedee', preferred_name = '' WHERE student_key = ?", (key,))
    conn.commit()
    conn.close()
    before = counts(school)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        html = referrals.preview_html(welfare, rid)
    finally:
        auth.sign_out(welfare)
    for today in ("new-intake@yc.org.au", "03 9111 2222", "9 New Rd", "3220", "Jo Bloggs", "Zebedee"):
        assert today not in html
    for detail in ("intake@yc.org.au", "03 9000 0000", "1 Main St, Melbourne", "3000", "Alex Intake", name):
        assert detail in html
    assert f"Copy of the form sent on {TODAY:%d/%m/%Y} (file note {sent.note_id})" in html
    assert "PREVIEW" not in html
    assert _without_marks(html) == _without_marks(printed[0])  # the form that went, word for word
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        view = referrals.form_view(welfare, rid)
        row = referrals.list_referrals(welfare, student=key)[0]
    finally:
        auth.sign_out(welfare)
    assert view.html == html and view.is_copy and view.note_id == sent.note_id and view.sent_at is not None and view.sent_at.date() == TODAY
    assert row.was_sent and row.sent_at is not None
    assert counts(school) == before  # reading the copy writes no file note
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        read = [json.loads(e.detail) for e in audit.entries(custodian, action="referral.previewed")]
        assert read and all(d == {"referral": rid, "copy_of_note": sent.note_id} for d in read)
        assert audit.verify(custodian).intact
    finally:
        auth.sign_out(custodian)


def test_audit_verify_finds_an_edited_or_deleted_file_note(school: Path, tmp_path: Path, store_key: bytes) -> None:
    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
        rid = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name",
                                        purpose="Urgent support", basis="serious-threat", grounds="Threat to safety disclosed")
        referrals.authorise_referral(custodian, rid, CUSTODIAN_PASSWORD)  # the custodian may authorise their own
        referrals.send_referral(custodian, rid, tmp_path / "r.docx", fmt="docx")
        assert audit.verify(custodian).intact
    finally:
        auth.sign_out(custodian)
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(school).db, store_key)
    conn.execute("UPDATE file_note SET values_json = '[[\"Student Name\", \"Someone Else\"]]' WHERE id = 1")
    conn.commit()
    conn.close()
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = audit.verify(custodian)
        assert not result.intact and "file note 1 was changed" in result.problem
    finally:
        auth.sign_out(custodian)
    conn = db.connect_raw(StoreFiles(school).db, store_key)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM file_note WHERE id = 1")
    conn.commit()
    conn.close()
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = audit.verify(custodian)
        assert not result.intact and "file note 1 is missing" in result.problem
    finally:
        auth.sign_out(custodian)


def test_who_may_do_what(school: Path, tmp_path: Path) -> None:
    in_07 = a_student(school, "07")
    other = a_student(school, "09")
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
        rid = referrals.create_referral(custodian, in_07, agency="Youth Connect", categories="student_name",
                                        purpose="QZXPURPOSE", basis="serious-threat", grounds="Safety", sensitive=True)
    finally:
        auth.sign_out(custodian)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        with pytest.raises(PermissionDenied):
            add_agency(welfare, "Other Agency")  # the register is the custodian's
    finally:
        auth.sign_out(welfare)
    coordinator = signed(school, YLC, YLC_PASSWORD)
    try:
        rows = referrals.list_referrals(coordinator)
        assert [r.id for r in rows] == [rid] and rows[0].purpose is None  # sensitive: purpose withheld
        with pytest.raises(students.NotVisible):
            referrals.create_referral(coordinator, other, agency="Youth Connect", categories="student_name",
                                      purpose="x", basis="serious-threat", grounds="Safety")
        with pytest.raises(PermissionDenied):
            referrals.authorise_referral(coordinator, rid, YLC_PASSWORD)
    finally:
        auth.sign_out(coordinator)
    teacher = signed(school, HGT, HGT_PASSWORD)
    try:
        mine = {r[0] for r in students.list_students(teacher, audit=False).rows}
        with pytest.raises(PermissionDenied, match="may not draft"):
            referrals.create_referral(teacher, next(iter(mine)), agency="Youth Connect", categories="student_name",
                                      purpose="x", basis="serious-threat", grounds="Safety")
        rows = referrals.list_referrals(teacher)
        assert all(r.restricted and r.agency == "" and r.purpose is None for r in rows)
        assert {r.student_key for r in rows} <= mine
        if in_07 in mine:
            assert referrals.has_active_referral(teacher, in_07)
        with pytest.raises(PermissionDenied):
            referrals.list_file_notes(teacher)
    finally:
        auth.sign_out(teacher)


def test_ciss_needs_designated_staff_and_views(school: Path, tmp_path: Path) -> None:
    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
    finally:
        auth.sign_out(custodian)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        with pytest.raises(KnownError, match="designated"):
            referrals.create_referral(welfare, key, agency="Youth Connect", categories="student_name", purpose="x",
                                      basis="ciss", grounds="Wellbeing of the child", views_sought=True)
    finally:
        auth.sign_out(welfare)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        referrals.set_designated(custodian, WELFARE, True)
    finally:
        auth.sign_out(custodian)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        rid = referrals.create_referral(welfare, key, agency="Youth Connect", categories="student_name,medical_alert",
                                        purpose="x", basis="fviss", grounds="Family violence risk to the child", views_sought=False,
                                        views_note="Contacting the family would put the child at risk",
                                        risk_assessment="MARAM assessment of 02/11, held by the welfare team")
    finally:
        auth.sign_out(welfare)
    principal = signed(school, PRINCIPAL, PRINCIPAL_PASSWORD)
    try:
        referrals.authorise_referral(principal, rid, PRINCIPAL_PASSWORD)
        with pytest.raises(PermissionDenied, match="designated"):  # the discloser must be designated too
            referrals.send_referral(principal, rid, tmp_path / "p.docx", fmt="docx")
    finally:
        auth.sign_out(principal)
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        referrals.send_referral(welfare, rid, tmp_path / "fviss.docx", fmt="docx")
        note = referrals.list_file_notes(welfare, student=key)[-1]
        assert note.basis == "fviss" and note.views_sought is False and "MARAM" in note.risk_assessment
        assert ("Risk assessment or safety plan", note.risk_assessment) in note.rows()
        assert [t for t, _ in note.values] == ["Student Name", "Medical Alert"]
    finally:
        auth.sign_out(welfare)


def test_a_refresh_never_touches_referrals_consents_or_file_notes(school: Path, tmp_path: Path) -> None:
    from importers.demo import generate_demo_extract
    from mapping_tool.services import imports

    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
        consent = referrals.record_consent(custodian, key, agency="Youth Connect", purpose="Mentoring",
                                           categories="student_name", given_by="parent", giver_name="Sam Parent",
                                           date_given=TODAY)
        rid = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name",
                                        purpose="Mentoring", consent_id=consent)
        referrals.authorise_referral(custodian, rid, CUSTODIAN_PASSWORD)
        referrals.send_referral(custodian, rid, tmp_path / "r.docx", fmt="docx")
        before = counts(school)
        generate_demo_extract(tmp_path / "next", students=30, extract_date=TODAY, years=1, seed=99)
        imports.import_cases21(custodian, tmp_path / "next", accept_warnings=True)  # another school's demo: confirmed
        assert counts(school) == before
        assert audit.verify(custodian).intact
    finally:
        auth.sign_out(custodian)


def test_stale_extract_is_refused_unless_a_reason(template_store: Path, tmp_path: Path) -> None:
    folder = current_school(template_store, tmp_path, extract_date=TODAY - timedelta(days=45), students=20)
    key = a_student(folder)
    custodian = signed(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
        before = counts(folder)
        with pytest.raises(KnownError, match="more than 30 days ago"):
            referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name", purpose="x",
                                      basis="serious-threat", grounds="Safety")
        assert counts(folder) == before
        rid = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name", purpose="x",
                                        basis="serious-threat", grounds="Safety", stale_reason="CASES21 is down this week")
        referrals.authorise_referral(custodian, rid, CUSTODIAN_PASSWORD)
        out = tmp_path / "stale.docx"
        referrals.send_referral(custodian, rid, out, fmt="docx")
        assert out.exists()
    finally:
        auth.sign_out(custodian)


def test_a_failed_write_leaves_no_file_note(school: Path, tmp_path: Path) -> None:
    key = a_student(school)
    custodian = signed(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        add_agency(custodian)
        rid = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name", purpose="x",
                                        basis="serious-threat", grounds="Safety")
        referrals.authorise_referral(custodian, rid, CUSTODIAN_PASSWORD)

        def broken(html: str, path: Path) -> None:
            raise OSError(28, "No space left on device")

        before = counts(school)
        with pytest.raises(KnownError, match="could not be written"):
            referrals.send_referral(custodian, rid, tmp_path / "full.pdf", pdf_renderer=broken)
        with pytest.raises(KnownError, match="store folder"):
            referrals.send_referral(custodian, rid, school / "in-store.docx", fmt="docx")
        assert counts(school) == before and not (tmp_path / "full.pdf").exists()
        assert referrals.list_referrals(custodian, student=key)[0].status == "authorised"

        def cancelled(html: str) -> None:
            raise KnownError("Printing was cancelled.")

        with pytest.raises(KnownError, match="cancelled"):
            referrals.print_referral(custodian, rid, cancelled)
        assert counts(school) == before
        printed: list[str] = []
        referrals.print_referral(custodian, rid, printed.append)
        assert counts(school)["file_note"] == before["file_note"] + 1 and "Information provided" in printed[0]
    finally:
        auth.sign_out(custodian)


def test_the_school_report_names_curriculum_areas_in_words(school: Path) -> None:
    welfare = signed(school, WELFARE, WELFARE_PASSWORD)
    try:
        with welfare.store.read() as session:
            keys = [r[0] for r in session.connection().exec_driver_sql("SELECT DISTINCT student_key FROM domain_result")]
            assert keys, "the demo extract has report results"
            ((title, value),) = referrals._values(session, welfare, keys[0], ["school_report"], "")
    finally:
        auth.sign_out(welfare)
    assert title and value
    assert "ENG " not in value and "MAT " not in value
    assert "English" in value or "no report results" in value
