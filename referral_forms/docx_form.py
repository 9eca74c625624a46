"""The referral form and its information page as a Word document (python-docx), laid out as the
template of Attachment 3: numbered sections, ☒ / ☐ for the categories, signature lines."""

from __future__ import annotations

import io
from datetime import date

from referral_forms.categories import CATEGORIES, TITLES
from referral_forms.render import FormData, views_line
from referral_forms.rules import CONSENT, SCHEMES, basis_title

_LINE = "_" * 34


def _sig_date(day: date | None) -> str:
    return f"{day.day:02d} / {day.month:02d} / {day.year}" if day else "___ / ___ / ______"


def form_docx(data: FormData) -> bytes:
    """The same content as :func:`referral_forms.render.form_html`, as .docx bytes."""
    from docx import Document
    from docx.enum.text import WD_BREAK
    from docx.shared import Pt, RGBColor

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10)
    doc.core_properties.title = f"Referral {data.referral_number}"
    doc.core_properties.author = "Student Mapping Tool"

    def para(text: str = "", *, bold: bool = False, size: float | None = None, italic: bool = False):  # type: ignore[no-untyped-def]
        p = doc.add_paragraph()
        run = p.add_run(text)
        run.bold = bold
        run.italic = italic
        if size:
            run.font.size = Pt(size)
        p.paragraph_format.space_after = Pt(2)
        return p

    def fields(rows: list[tuple[str, str]]) -> None:
        table = doc.add_table(rows=0, cols=2)
        for label, value in rows:
            cells = table.add_row().cells
            cells[0].text = label
            cells[1].text = value or _LINE
            cells[0].width = Pt(120)

    if data.preview:
        p = para("PREVIEW: not sent. Nothing has been disclosed and no file note was written.", bold=True)
        p.runs[0].font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
    doc.add_heading("Referring a student to an agency", level=1)
    para(f"{data.school_name} · Referral {data.referral_number} · Privacy assessment, Attachment 3", size=8)

    doc.add_heading("1. Name of AGENCY to which student information is referred", level=3)
    a = data.agency
    fields([("Agency Name:", a.name), ("Email:", a.email), ("Phone:", a.phone), ("Fax:", a.fax),
            ("Address:", a.address), ("Postcode:", a.postcode)] + ([("Contact person:", a.contact)] if a.contact else []))

    doc.add_heading("2. Authorisation by school based Data Custodian", level=3)
    para("(Principal/Assistant Principal, MIPs Coordinator, Student Welfare Officer, Careers Teacher)", size=8)
    au = data.authoriser
    fields([("Name:", au.name), ("Position/Title:", au.position), ("Signature:", _LINE), ("Date:", _sig_date(au.on))])
    if au.confirmed and au.on:
        para(f"Authorised in the Student Mapping Tool by {au.name} with their own password on {au.on:%d/%m/%Y}.", size=8)

    doc.add_heading("3. Information provided", level=3)
    para("On consent of the student, the school based data custodian will only disclose the information that is "
         "required for the referral. Types of information which may be provided could include:")
    para("(The information categories disclosed to the agency are marked ☒.)", size=8)
    cells = [c for c in CATEGORIES if c != "other"]
    table = doc.add_table(rows=0, cols=4)
    for i in range(0, len(cells), 4):
        row = table.add_row().cells
        for j, cat in enumerate(cells[i:i + 4]):
            row[j].text = f"{'☒' if cat in data.categories else '☐'} {TITLES[cat]}"
    para(f"{'☒' if 'other' in data.categories else '☐'} Other (please list): {data.other_text}")
    para("Note: Original files are to stay in the school; relevant information will need to be photocopied.", italic=True, size=8)

    doc.add_heading("4. Supporting consent documentation attached", level=3)
    para("(Note: The consent of the individual should be obtained and documented and a copy also to the holder of "
         "the information wherever appropriate.)", size=8)
    consent_text = f"{'☒' if data.basis == CONSENT else '☐'} Consent obtained: Attached (refer to consent template)"
    if data.consent:
        c = data.consent
        consent_text += (f". Consent record {c.id}: given by {c.giver} on {c.date_given:%d/%m/%Y} ({c.method}), "
                         f"current until {c.expires:%d/%m/%Y}; purpose: {c.purpose}")
    para(consent_text)
    exception_text = (f"{'☒' if data.basis != CONSENT else '☐'} Consent not sought: Information was disclosed under an "
                      "Information Privacy Act or Health Records Act exception (refer to Attachment 2).")
    if data.basis != CONSENT:
        exception_text += f" Exception relied on: {basis_title(data.basis)}. Grounds: {data.grounds}"
    para(exception_text)
    line = views_line(data.basis, data.views_sought, data.views_note) if (data.basis in SCHEMES or data.views_sought is not None) else ""
    if line:
        para(line)
    if data.risk_assessment:
        para(f"Risk assessment or safety plan: {data.risk_assessment}")

    doc.add_heading("5. Request authorised by", level=3)
    r = data.requester
    fields([("Name of employee:", r.name), ("Signature:", _LINE), ("School:", data.school_name),
            ("Title/Position:", r.position), ("Date:", _sig_date(r.on))])
    para(f"Purpose of the referral: {data.purpose}", size=8)

    doc.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)
    doc.add_heading("Information provided", level=1)
    if data.preview:
        para("PREVIEW: not sent.", bold=True)
    para(f"Referral {data.referral_number} to {a.name}. Only the categories marked on the form are given below, "
         "with their values from the school's records.")
    table = doc.add_table(rows=1, cols=2)
    table.style = "Table Grid"
    table.rows[0].cells[0].text = "Information"
    table.rows[0].cells[1].text = "Value"
    for title, value in data.values:
        row = table.add_row().cells
        row[0].text = title
        row[1].text = value
    extract = data.extract_date.strftime("%d/%m/%Y") if data.extract_date else "(no extract)"
    para()
    text = f"Values as at the extract of {extract} from the school's administration system (CASES21)."
    if data.stale_reason:
        text += f" The extract is older than the school's limit; reason recorded: {data.stale_reason}"
    para(text)
    para(f"Generated by {data.generated_by} on {data.generated_at:%d/%m/%Y at %H:%M}; a file note of this "
         "disclosure is kept in the school's Student Mapping Tool.")
    para("Original files are to stay in the school. This is a copy of the relevant information only; please keep it "
         "securely and use it only for the purpose of this referral.", bold=True)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
