"""The form, its information page and file notes rendered from the templates."""

from __future__ import annotations

import io
from datetime import date, datetime

from referral_forms.docx_form import form_docx
from referral_forms.render import AgencyBlock, FileNoteData, FormData, PersonBlock, form_html


def data(**kw) -> FormData:  # type: ignore[no-untyped-def]
    base = dict(
        referral_number="7", school_name="Example Secondary College",
        agency=AgencyBlock("Youth <Connect>", "intake@yc.org.au", "03 9000 0000", "", "1 Main St", "3000"),
        categories=("student_name", "year_level", "other"), other_text="Careers interest", basis="consent", grounds="",
        purpose="Mentoring", authoriser=PersonBlock("Pat Principal", "Principal", date(2026, 12, 1), True),
        requester=PersonBlock("Wren Welfare", "Welfare", date(2026, 11, 30)),
        values=(("Student Name", "Ava O'Brien"), ("Year Level", "09"), ("Other", "Careers interest")),
        extract_date=date(2026, 11, 28), generated_by="Wren Welfare", generated_at=datetime(2026, 12, 1, 9, 30),
    )
    base.update(kw)
    return FormData(**base)  # type: ignore[arg-type]


def test_form_marks_exactly_the_disclosed_categories_and_escapes_text() -> None:
    html = form_html(data())
    assert html.count("☒</span>") == 4  # student name, year level, other, and "consent obtained"
    assert "☒</span> Student Name" in html and "☐</span> Literacy" in html
    assert "Youth &lt;Connect&gt;" in html and "<Connect>" not in html
    assert "Information provided" in html and "Original files are to stay in the school" in html
    assert "01 / 12 / 2026" in html and "PREVIEW" not in html
    assert "Ava O&#39;Brien" in html
    assert "Attendance Rate</td><td>" not in html  # no value of a category not disclosed


def test_preview_is_marked() -> None:
    assert "PREVIEW: not sent" in form_html(data(preview=True))


def test_exception_basis_shows_grounds_and_views() -> None:
    html = form_html(data(basis="ciss", grounds="Risk to the child's safety", views_sought=False, views_note="Unsafe to ask"))
    assert "Child Information Sharing Scheme" in html and "were not sought: Unsafe to ask" in html


def test_docx_has_the_same_content() -> None:
    from docx import Document

    doc = Document(io.BytesIO(form_docx(data())))
    text = "\n".join(p.text for p in doc.paragraphs) + "\n".join(c.text for t in doc.tables for r in t.rows for c in r.cells)
    assert "☒ Student Name" in text and "☐ Literacy" in text and "Ava O'Brien" in text and "Information provided" in text


def test_file_note_digest_changes_with_any_field() -> None:
    note = FileNoteData(1, datetime(2026, 12, 1, 9, 30), "ABC0001", "Youth Connect", "welfare", "principal", "consent", 3, "",
                        ("student_name",), (("Student Name", "Ava"),), "ab" * 32, "pdf", 7, None, "", date(2026, 11, 28))
    import dataclasses

    assert note.digest() == dataclasses.replace(note).digest()
    assert note.digest() != dataclasses.replace(note, values=(("Student Name", "Eve"),)).digest()


def test_a_copy_of_a_sent_form_says_when_it_was_sent_and_is_no_preview() -> None:
    html = form_html(data(sent_on=date(2026, 12, 1), sent_note=12))
    assert "Copy of the form sent on 01/12/2026 (file note 12). It shows the agency's details" in html
    assert "PREVIEW" not in html and html.count("Copy of the form sent on 01/12/2026") == 2  # both pages
    again = form_html(data(sent_on=date(2026, 12, 1), sent_note=14, times_sent=2, sent_index=2))
    assert "(file note 14; sending 2 of 2, the latest)" in again
    earlier = form_html(data(sent_on=date(2026, 11, 2), sent_note=9, times_sent=2, sent_index=1))
    assert "(file note 9; sending 1 of 2)" in earlier and "latest" not in earlier
    assert "Copy of the form" not in form_html(data()) and "Copy of the form" not in form_html(data(preview=True))


def test_the_agency_details_a_note_keeps_are_in_its_digest_and_an_older_note_hashes_as_before() -> None:
    import dataclasses

    note = FileNoteData(1, datetime(2026, 12, 1, 9, 30), "ABC0001", "Youth Connect", "welfare", "principal", "consent", 3, "",
                        ("student_name",), (("Student Name", "Ava"),), "ab" * 32, "pdf", 7, None, "", date(2026, 11, 28))
    assert "agency_details" not in note.canonical()  # a note written before they were kept: its digest is unchanged
    kept = dataclasses.replace(note, agency_details=(("phone", "03 9000 0000"),))
    assert kept.canonical()["agency_details"] == [["phone", "03 9000 0000"]]
    assert kept.digest() != note.digest()
    assert kept.digest() != dataclasses.replace(kept, agency_details=(("phone", "03 9111 2222"),)).digest()


def test_the_staff_a_note_keeps_are_in_its_digest_and_their_names_to_read_are_not() -> None:
    import dataclasses

    note = FileNoteData(1, datetime(2026, 12, 1, 9, 30), "ABC0001", "Youth Connect", "welfare", "principal", "consent", 3, "",
                        ("student_name",), (("Student Name", "Ava"),), "ab" * 32, "pdf", 7, None, "", date(2026, 11, 28))
    assert "form_details" not in note.canonical()  # a note written before 0012 hashes as it did
    kept = dataclasses.replace(note, form_details=(("authoriser_name", "Pat Principal"),))
    assert kept.digest() != note.digest()
    assert kept.digest() != dataclasses.replace(kept, form_details=(("authoriser_name", "Someone Else"),)).digest()
    named = dataclasses.replace(note, disclosed_by_name="Wren Welfare", authorised_by_name="Pat Principal")
    assert named.digest() == note.digest()  # names to read: the note records user names
    rows = dict(named.rows())
    assert rows["Disclosed by"] == "Wren Welfare (welfare)" and rows["Authorised by"] == "Pat Principal (principal)"
    assert dict(note.rows())["Disclosed by"] == "welfare"  # no name known: the user name
