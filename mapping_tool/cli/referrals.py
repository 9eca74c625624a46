"""Commands: the agencies register, consent records, referrals and the file notes of disclosures
(issue 9, section 8: these names and options are a contract)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from mapping_tool.cli._common import ENV_PASSWORD, _out, _parse_date, _Parser, _secret, _with_user
from mapping_tool.errors import UsageError


def _pdf_renderer():  # type: ignore[no-untyped-def]
    """The PDF maker lives with Qt in mapping_tool/ui; imported only when a PDF is asked for."""
    from mapping_tool.ui.forms import html_to_pdf

    return html_to_pdf


def _yes_no(text: str | None, what: str) -> bool | None:
    if text is None:
        return None
    from mapping_tool.services.referrals import _domain
    from referral_forms.rules import parse_yes_no

    return bool(_domain(parse_yes_no, text, what))


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- agencies -----------------------------------------------------------------------------------------


def cmd_agencies_add(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    agency = referrals.add_agency(
        user, args.name, email=args.email, phone=args.phone, address=args.address, postcode=args.postcode,
        fax=args.fax or "", ise=args.ise, contact_person=args.contact or "", agreement_ref=args.agreement_ref or "",
        agreement_start=_parse_date(args.agreement_start) if args.agreement_start else None,
        agreement_until=_parse_date(args.agreement_until) if args.agreement_until else None,
        agreement_categories=args.agreement_categories,
    )
    _out(f"agency {agency.id}: {agency.name} (data sharing agreement: {agency.agreement_state()})")
    return 0


def cmd_agencies_update(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    start = _parse_date(args.agreement_start) if args.agreement_start else None
    until = _parse_date(args.agreement_until) if args.agreement_until else None
    agency = referrals.update_agency(
        user, args.name, reason=args.reason, email=args.email, phone=args.phone, fax=args.fax, address=args.address,
        postcode=args.postcode, contact_person=args.contact, ise=args.ise, agreement_ref=args.agreement_ref,
        agreement_start=start, agreement_until=until, agreement_categories=args.agreement_categories,
        clear_agreement=args.clear_agreement, new_name=args.new_name,
    )
    _out(f"agency {agency.id}: {agency.name} changed (data sharing agreement: {agency.agreement_state()}); "
         f"earlier details: 'agencies history {agency.name}'")
    return 0


def cmd_agencies_history(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    changes = referrals.agency_history(user, args.name)
    if not changes:
        _out(f"No changes to {args.name.strip()} since it was added.")
    for c in changes:
        _out(f"{c.changed_at:%d/%m/%Y %H:%M} | {c.changed_by} | {c.field}: {c.old_value or '(none)'} -> "
             f"{c.new_value or '(none)'} | {c.reason}")
    return 0


def cmd_agencies_list(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    if args.out:
        count = referrals.export_agencies(user, Path(args.out), force=args.force)
        _out(f"Wrote {_count(count, 'agency').replace('agencys', 'agencies')} to {args.out}.")
        return 0
    agencies = referrals.list_agencies(user)
    if not agencies:
        _out("No agencies yet: the data custodian adds them with 'agencies add'.")
    for a in agencies:
        _out(f"{a.name} | {a.email} | {a.phone} | {a.postcode} | information sharing entity: {a.ise} | "
             f"agreement: {a.agreement_ref or '-'} ({a.agreement_state()}) {','.join(a.agreement_categories)}")
    return 0


# -- consent ------------------------------------------------------------------------------------------


def cmd_consent_record(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    consent_id = referrals.record_consent(
        user, args.student, agency=args.agency, purpose=args.purpose, categories=args.categories,
        given_by=args.given_by, giver_name=args.giver_name, date_given=_parse_date(args.date),
        expires=_parse_date(args.expires) if args.expires else None, capacity=_yes_no(args.capacity, "--capacity"),
        method=args.method, evidence=Path(args.evidence) if args.evidence else None,
        evidence_note=args.evidence_note or "", relationship=args.relationship or "", witness=args.witness or "",
    )
    _out(f"consent {consent_id}")
    return 0


def cmd_consent_withdraw(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    referrals.withdraw_consent(user, args.id, on=_parse_date(args.date), reason=args.reason or "")
    _out(f"Consent {args.id} is withdrawn from {_parse_date(args.date):%d/%m/%Y}; it authorises nothing from then on.")
    return 0


def cmd_consent_correct(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import consent_corrections

    done = consent_corrections.correct_consent(
        user, args.id, args.reason or "", giver_name=args.giver_name, relationship=args.relationship,
        witness=args.witness, method=args.method, evidence_note=args.evidence_note,
    )
    moved = f"; referral {', '.join(map(str, done.referrals))} now relies on it" if done.referrals else ""
    _out(f"consent {done.new_id} replaces consent {done.old_id} (recorded in error); both stay on the record{moved}.")
    return 0


def cmd_consent_list(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    if args.out:
        count = referrals.export_consents(user, Path(args.out), student=args.student, force=args.force)
        _out(f"Wrote {_count(count, 'consent record')} to {args.out}.")
        return 0
    views = referrals.list_consents(user, student=args.student)
    if not views:
        _out("No consent records.")
    for v in views:
        _out(f"consent {v.id} | {v.student_key} | {v.agency} | {','.join(v.categories)} | given by {v.given_by} "
             f"on {v.date_given:%d/%m/%Y} | expires {v.expires:%d/%m/%Y} | {v.state}")
    return 0


# -- referrals ----------------------------------------------------------------------------------------


def cmd_referral_create(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    if args.consent is None and args.basis is None:
        raise UsageError("A referral needs a consent record (--consent N) or an exception (--basis ... --grounds).")
    rid = referrals.create_referral(
        user, args.student, agency=args.agency, categories=args.categories, purpose=args.purpose,
        consent_id=args.consent, basis=args.basis, grounds=args.grounds or "",
        requested_by_agency=args.requested_by_agency or "", other=args.other or "",
        views_sought=_yes_no(args.views_sought, "--views-sought"), views_note=args.views_note or "",
        sensitive=args.sensitive, stale_reason=args.stale_reason or "", risk_assessment=args.risk_assessment or "",
    )
    _out(f"referral {rid}")
    return 0


def cmd_referral_authorise(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    password = os.environ.get(ENV_PASSWORD)
    if password is None:
        password = _secret(ENV_PASSWORD, f"Confirm your password to authorise referral {args.id}: ")
    referrals.authorise_referral(user, args.id, password)
    _out(f"Referral {args.id} is authorised by {user.display_name or user.username}.")
    return 0


def cmd_referral_send(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    out = Path(args.out)
    fmt = args.format or ("docx" if out.suffix.lower() == ".docx" else "pdf")
    renderer = _pdf_renderer() if fmt == "pdf" else None
    sent = referrals.send_referral(user, args.id, out, fmt=fmt, pdf_renderer=renderer, force=args.force,
                                   stale_reason=args.stale_reason or "")
    _out(f"Wrote referral {args.id} to {out} and file note {sent.note_id} (SHA-256 {sent.document_sha256}).")
    return 0


def cmd_referral_status(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals
    from referral_forms.status import TITLES

    new = referrals.set_status(user, args.id, args.set, args.note or "")
    _out(f"Referral {args.id} is now {TITLES[new].lower()}.")
    return 0


def cmd_referral_list(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    if args.out:
        count = referrals.export_referrals(user, Path(args.out), student=args.student, force=args.force)
        _out(f"Wrote {_count(count, 'referral')} to {args.out}.")
        return 0
    rows = referrals.list_referrals(user, student=args.student)
    if not rows:
        _out("No referrals.")
    for r in rows:
        if r.restricted:
            _out(f"{r.student_key} has an active referral")
            continue
        _out(f"referral {r.id} | {r.student_key} | {r.agency} | {','.join(r.categories)} | {r.basis} | "
             f"{r.status_title} | requested by {r.requested_by}")
    return 0


def cmd_filenotes_export(args: argparse.Namespace, user) -> int:  # type: ignore[no-untyped-def]
    from mapping_tool.services import referrals

    out = Path(args.out)
    fmt = args.format or (out.suffix.lstrip(".").lower() or "csv")
    renderer = _pdf_renderer() if fmt == "pdf" else None
    count = referrals.export_file_notes(user, out, fmt=fmt, student=args.student, agency=args.agency,
                                        pdf_renderer=renderer, force=args.force)
    _out(f"Wrote {_count(count, 'file note')} to {out}.")
    return 0


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a record number")
    return value


def register(sub: argparse._SubParsersAction) -> None:
    agencies = sub.add_parser("agencies", help="the register of agencies the school refers to (data custodian keeps)")
    asub = agencies.add_subparsers(dest="agencies_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = asub.add_parser("add", help="add an agency with its contacts and its data sharing agreement")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--email", required=True)
    p.add_argument("--phone", required=True)
    p.add_argument("--address", required=True, metavar="TEXT")
    p.add_argument("--postcode", required=True, metavar="NNNN")
    p.add_argument("--fax")
    p.add_argument("--contact", metavar="NAME", help="contact person at the agency")
    p.add_argument("--ise", default="unknown", metavar="yes|no|unknown",
                   help="a prescribed information sharing entity under CISS/FVISS")
    p.add_argument("--agreement-ref", metavar="TEXT", help="the data sharing agreement or MoU")
    p.add_argument("--agreement-start", metavar="DD/MM/YYYY")
    p.add_argument("--agreement-until", metavar="DD/MM/YYYY")
    p.add_argument("--agreement-categories", metavar="LIST", help="the categories the agreement covers")
    p.set_defaults(handler=_with_user(cmd_agencies_add))
    p = asub.add_parser("update", help="change an agency's details or renew its agreement (earlier values are kept)")
    p.add_argument("name", metavar="NAME")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why the details change")
    p.add_argument("--new-name", metavar="TEXT",
                   help="the agency's new name (referrals and consents follow it; file notes keep the name they were sent under)")
    p.add_argument("--email")
    p.add_argument("--phone")
    p.add_argument("--fax", help="an empty value clears it")
    p.add_argument("--address", metavar="TEXT")
    p.add_argument("--postcode", metavar="NNNN")
    p.add_argument("--contact", metavar="NAME", help="contact person at the agency (an empty value clears it)")
    p.add_argument("--ise", metavar="yes|no|unknown", help="a prescribed information sharing entity under CISS/FVISS")
    p.add_argument("--agreement-ref", metavar="TEXT", help="the data sharing agreement or MoU")
    p.add_argument("--agreement-start", metavar="DD/MM/YYYY")
    p.add_argument("--agreement-until", metavar="DD/MM/YYYY")
    p.add_argument("--agreement-categories", metavar="LIST", help="the categories the agreement covers")
    p.add_argument("--clear-agreement", action="store_true",
                   help="remove the agreement (it ended and was not renewed); its details stay in the history")
    p.set_defaults(handler=_with_user(cmd_agencies_update))
    p = asub.add_parser("history", help="the earlier details of an agency: what changed, when, who and why")
    p.add_argument("name", metavar="NAME")
    p.set_defaults(handler=_with_user(cmd_agencies_history))
    p = asub.add_parser("list", help="the agencies and their agreements")
    p.add_argument("--out", metavar="FILE", help="write CSV or Excel instead")
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.set_defaults(handler=_with_user(cmd_agencies_list))

    consent = sub.add_parser("consent", help="consent records: specific, current, withdrawable")
    csub = consent.add_subparsers(dest="consent_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = csub.add_parser("record", help='record a consent; prints "consent N"')
    p.add_argument("--student", required=True, metavar="KEY")
    p.add_argument("--agency", required=True, metavar="NAME")
    p.add_argument("--purpose", required=True, metavar="TEXT")
    p.add_argument("--categories", required=True, metavar="LIST")
    p.add_argument("--given-by", required=True, metavar="student|parent|guardian")
    p.add_argument("--giver-name", required=True, metavar="TEXT")
    p.add_argument("--relationship", metavar="TEXT", help="the giver's relationship to the student")
    p.add_argument("--date", required=True, metavar="DD/MM/YYYY")
    p.add_argument("--expires", metavar="DD/MM/YYYY", help="default: 12 months after --date (a setting)")
    p.add_argument("--capacity", metavar="yes|no", help="when the student consents: your judgement of their capacity")
    p.add_argument("--method", default="written", metavar="written|verbal")
    p.add_argument("--witness", metavar="NAME", help="the witness of a verbal consent")
    p.add_argument("--evidence", metavar="FILE", help="the signed form, scanned: kept encrypted in the store")
    p.add_argument("--evidence-note", metavar="TEXT", help="where the signed form is kept, if not attached")
    p.set_defaults(handler=_with_user(cmd_consent_record))
    p = csub.add_parser("withdraw", help="record that a consent was withdrawn")
    p.add_argument("id", type=_positive, metavar="N")
    p.add_argument("--date", required=True, metavar="DD/MM/YYYY")
    p.add_argument("--reason", metavar="TEXT", help="how it was withdrawn")
    p.set_defaults(handler=_with_user(cmd_consent_withdraw))
    p = csub.add_parser("correct", help="correct how consent N was recorded (who gave it, relationship, witness): "
                        'a new record replaces it, both are kept; prints "consent M replaces consent N"')
    p.add_argument("id", type=_positive, metavar="N")
    p.add_argument("--reason", required=True, metavar="TEXT", help="why the record is corrected (kept with it)")
    p.add_argument("--giver-name", metavar="TEXT")
    p.add_argument("--relationship", metavar="TEXT")
    p.add_argument("--witness", metavar="NAME")
    p.add_argument("--method", metavar="written|verbal")
    p.add_argument("--evidence-note", metavar="TEXT")
    p.set_defaults(handler=_with_user(cmd_consent_correct))
    p = csub.add_parser("list", help="consent records (all you may see, or one student's)")
    p.add_argument("--student", metavar="KEY")
    p.add_argument("--out", metavar="FILE")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_with_user(cmd_consent_list))

    referral = sub.add_parser("referral", help="referrals to agencies: draft, authorise, send (writes the file note)")
    rsub = referral.add_subparsers(dest="referral_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = rsub.add_parser("create", help='draft a referral for authorisation; prints "referral N"')
    p.add_argument("--student", required=True, metavar="KEY")
    p.add_argument("--agency", required=True, metavar="NAME")
    p.add_argument("--categories", required=True, metavar="LIST")
    p.add_argument("--purpose", required=True, metavar="TEXT")
    p.add_argument("--consent", type=_positive, metavar="N")
    p.add_argument("--basis", metavar="serious-threat|required-by-law|law-enforcement|ciss|fviss")
    p.add_argument("--grounds", metavar="TEXT")
    p.add_argument("--requested-by-agency", metavar="LIST", help="the categories the agency asked for")
    p.add_argument("--other", metavar="TEXT", help="the other information disclosed")
    p.add_argument("--views-sought", metavar="yes|no", help="were the child's and family's views sought")
    p.add_argument("--views-note", metavar="TEXT")
    p.add_argument("--risk-assessment", metavar="TEXT", help="FVISS: any risk assessment or safety plan (a reference)")
    p.add_argument("--sensitive", action="store_true", help="label it sensitive (purpose and grounds hidden as for notes)")
    p.add_argument("--stale-reason", metavar="TEXT", help="why an extract older than the limit is used")
    p.set_defaults(handler=_with_user(cmd_referral_create))
    p = rsub.add_parser("authorise", help="authorise a referral (custodian, principal class, welfare) with your password")
    p.add_argument("id", type=_positive, metavar="N")
    p.set_defaults(handler=_with_user(cmd_referral_authorise))
    p = rsub.add_parser("send", help="write the form and its information page, and the file note of the disclosure")
    p.add_argument("id", type=_positive, metavar="N")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--format", choices=("pdf", "docx"))
    p.add_argument("--force", action="store_true", help="replace FILE if it exists")
    p.add_argument("--stale-reason", metavar="TEXT", help="why an extract older than the limit is used")
    p.set_defaults(handler=_with_user(cmd_referral_send))
    p = rsub.add_parser("status", help="record a referral's progress (acknowledged, accepted, declined, closed, withdrawn)")
    p.add_argument("id", type=_positive, metavar="N")
    p.add_argument("--set", required=True, metavar="STATUS")
    p.add_argument("--note", metavar="TEXT", help="the reason (declined) or the outcome (closed)")
    p.set_defaults(handler=_with_user(cmd_referral_status))
    p = rsub.add_parser("list", help="referrals (all you may see, or one student's)")
    p.add_argument("--student", metavar="KEY")
    p.add_argument("--out", metavar="FILE")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_with_user(cmd_referral_list))

    filenotes = sub.add_parser("filenotes", help="file notes of disclosures to agencies")
    fsub = filenotes.add_subparsers(dest="filenotes_command", metavar="ACTION", required=True, parser_class=_Parser)
    p = fsub.add_parser("export", help="the file notes as CSV, Excel or a printable PDF")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--format", choices=("csv", "xlsx", "pdf"))
    p.add_argument("--student", metavar="KEY")
    p.add_argument("--agency", metavar="NAME")
    p.add_argument("--force", action="store_true")
    p.set_defaults(handler=_with_user(cmd_filenotes_export))
