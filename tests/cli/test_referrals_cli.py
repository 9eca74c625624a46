"""The referral commands (issue 9, section 8): the whole path from the command line, and every bad
input of section 7: one sentence, a non-zero exit, nothing changed and no file note written."""

from __future__ import annotations

import csv
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from mapping_tool import cli
from mapping_tool.services import auth, referrals, students
from tests.referral_support import current_school, referral_rows, table_counts
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    WELFARE,
    WELFARE_PASSWORD,
)

TODAY = date.today()
D = "%d/%m/%Y"
AGREED = "student_name,year_level,attendance_rate,unapproved_absences,literacy,numeracy,medical_alert,other"


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        code = cli.run(list(argv))
    except SystemExit as exc:  # argparse usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def prepared(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    """An imported school with an agency, consents in every state and referrals at each step."""
    root = tmp_path_factory.mktemp("referrals-cli")
    folder = current_school(template_store, root)
    custodian = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        keys = [r[0] for r in students.list_students(custodian, audit=False).rows]
        a, b = keys[0], keys[1]
        referrals.add_agency(custodian, "Youth Connect", email="intake@yc.org.au", phone="03 9000 0000",
                             address="1 Main St", postcode="3000", ise="yes", agreement_ref="MoU-1",
                             agreement_until=TODAY + timedelta(days=300), agreement_categories=AGREED)
        referrals.add_agency(custodian, "Old Partner", email="x@old.org.au", phone="03 9000 0001", address="2 Side St",
                             postcode="3001", agreement_ref="MoU-0", agreement_until=TODAY - timedelta(days=10),
                             agreement_categories="student_name")
    finally:
        auth.sign_out(custodian)
    welfare = auth.sign_in(folder, WELFARE, WELFARE_PASSWORD)
    try:
        def consent(key: str, **kw) -> int:  # type: ignore[no-untyped-def]
            base = dict(agency="Youth Connect", purpose="Mentoring", categories="student_name,year_level,literacy,school_report",
                        given_by="parent", giver_name="Sam Parent", date_given=TODAY - timedelta(days=5))
            base.update(kw)
            return referrals.record_consent(welfare, key, **base)  # type: ignore[arg-type]

        ids = {
            "current": consent(a),
            "withdrawn": consent(a),
            "expired": consent(a, date_given=TODAY - timedelta(days=800), expires=TODAY - timedelta(days=400)),
            "other_student": consent(b),
            "old_partner": consent(a, agency="Old Partner", categories="student_name"),
            "wider": consent(a, categories="student_name,numeracy,disability_status"),
        }
        referrals.withdraw_consent(welfare, ids["withdrawn"], on=TODAY)
        awaiting = referrals.create_referral(welfare, a, agency="Youth Connect", categories="student_name", purpose="Mentoring",
                                             consent_id=ids["current"])
    finally:
        auth.sign_out(welfare)
    return {"folder": folder, "a": a, "b": b, "consents": ids, "awaiting": awaiting}


@pytest.fixture
def school(prepared: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:  # type: ignore[type-arg]
    folder = tmp_path / "store"
    shutil.copytree(prepared["folder"], folder)
    monkeypatch.setenv("MAPPING_TOOL_STORE", str(folder))
    return {**prepared, "folder": folder}


def as_user(monkeypatch: pytest.MonkeyPatch, password: str) -> None:
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", password)


def test_the_whole_path_from_the_command_line(school: dict, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg, no-untyped-def]
    a = school["a"]
    as_user(monkeypatch, CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "add", "Headspace Example", "--email", "hs@example.org.au",
                         "--phone", "03 9111 2222", "--address", "5 High St, Example", "--postcode", "3999", "--fax", "03 9111 2223",
                         "--ise", "yes", "--agreement-ref", "DSA-2026-4", "--agreement-until", (TODAY + timedelta(days=90)).strftime(D),
                         "--agreement-categories", "student_name,year_level,attendance_rate,other")
    assert code == 0, err
    assert "Headspace Example" in out and "current until" in out
    code, out, _ = run(capsys, "--user", CUSTODIAN, "agencies", "list")
    assert code == 0 and "Headspace Example" in out and "DSA-2026-4" in out
    code, _, err = run(capsys, "--user", CUSTODIAN, "agencies", "list", "--out", str(tmp_path / "agencies.csv"))
    assert code == 0, err
    as_user(monkeypatch, WELFARE_PASSWORD)
    scan = tmp_path / "consent-scan.png"
    scan.write_bytes(b"\x89PNG scanned")
    code, out, err = run(capsys, "--user", WELFARE, "consent", "record", "--student", a, "--agency", "Headspace Example",
                         "--purpose", "Counselling referral", "--categories", "student_name,year_level,attendance_rate,other",
                         "--given-by", "student", "--giver-name", "The student", "--date", TODAY.strftime(D),
                         "--capacity", "yes", "--method", "written", "--evidence", str(scan))
    assert code == 0, err
    assert out.strip().startswith("consent ")
    consent_id = out.split()[1]
    code, out, err = run(capsys, "--user", WELFARE, "consent", "list", "--student", a)
    assert code == 0 and f"consent {consent_id}" in out and "current" in out, err
    code, out, err = run(capsys, "--user", WELFARE, "referral", "create", "--student", a, "--agency", "Headspace Example",
                         "--categories", "student_name,year_level,attendance_rate,other", "--purpose", "Counselling",
                         "--consent", consent_id, "--requested-by-agency", "attendance_rate", "--other", "Interested in music")
    assert code == 0, err
    rid = out.split()[1]
    assert out.strip() == f"referral {rid}"
    as_user(monkeypatch, PRINCIPAL_PASSWORD)
    code, out, err = run(capsys, "--user", PRINCIPAL, "referral", "authorise", rid)
    assert code == 0 and "authorised" in out, err
    as_user(monkeypatch, WELFARE_PASSWORD)
    pdf = tmp_path / "referral.pdf"
    code, out, err = run(capsys, "--user", WELFARE, "referral", "send", rid, "--out", str(pdf))
    assert code == 0, err
    assert pdf.read_bytes().startswith(b"%PDF") and "file note" in out
    code, _, err = run(capsys, "--user", WELFARE, "referral", "send", rid, "--out", str(tmp_path / "referral.docx"), "--format", "docx")
    assert code == 0, err
    code, out, err = run(capsys, "--user", WELFARE, "referral", "status", rid, "--set", "accepted")
    assert code == 0 and "accepted" in out, err
    code, out, _ = run(capsys, "--user", WELFARE, "referral", "list", "--student", a)
    assert f"referral {rid}" in out and "Accepted" in out
    notes_csv = tmp_path / "notes.csv"
    code, out, err = run(capsys, "--user", WELFARE, "filenotes", "export", "--out", str(notes_csv), "--student", a)
    assert code == 0, err
    with notes_csv.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["note_id", "created_at", "student_key", "agency", "disclosed_by", "authorised_by", "basis", "consent_id",
                       "categories", "values", "document_sha256", "referral_id", "views_sought", "corrects"]
    assert len(rows) == 3 and rows[1][3] == "Headspace Example" and rows[1][5] == PRINCIPAL
    assert rows[1][8] == "student_name,year_level,attendance_rate,other" and "Interested in music" in rows[1][9]
    import hashlib

    assert rows[1][10] == hashlib.sha256(pdf.read_bytes()).hexdigest()
    for fmt in ("xlsx", "pdf"):
        out_file = tmp_path / f"notes.{fmt}"
        code, _, err = run(capsys, "--user", WELFARE, "filenotes", "export", "--out", str(out_file), "--format", fmt,
                           "--agency", "Headspace Example")
        assert code == 0 and out_file.stat().st_size > 500, err
    as_user(monkeypatch, CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--user", CUSTODIAN, "audit", "verify")
    assert code == 0 and "intact" in out, err


BAD: list[tuple[str, str, str, tuple[str, ...]]] = [
    # (who, password, words in the message, command) ; {a} {b} {cur} {wd} {exp} {oth} {old} {wider} {await} {tmp} {store}
    ("welfare", WELFARE_PASSWORD, "There is no student NOPE0001",
     ("referral", "create", "--student", "NOPE0001", "--agency", "Youth Connect", "--categories", "student_name",
      "--purpose", "x", "--basis", "serious-threat", "--grounds", "Safety")),
    ("welfare", WELFARE_PASSWORD, "no agency 'Nowhere'",
     ("referral", "create", "--student", "{a}", "--agency", "Nowhere", "--categories", "student_name", "--purpose", "x",
      "--consent", "{cur}")),
    ("welfare", WELFARE_PASSWORD, "Unknown category 'shoe_size'",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name,shoe_size",
      "--purpose", "x", "--consent", "{cur}")),
    ("welfare", WELFARE_PASSWORD, "does not cover: Numeracy",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name,numeracy",
      "--purpose", "x", "--consent", "{cur}")),
    ("welfare", WELFARE_PASSWORD, "agreement with Youth Connect does not cover: Disability status",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name,disability_status",
      "--purpose", "x", "--consent", "{wider}")),
    ("welfare", WELFARE_PASSWORD, "agreement with Old Partner ended",
     ("referral", "create", "--student", "{a}", "--agency", "Old Partner", "--categories", "student_name",
      "--purpose", "x", "--consent", "{old}")),
    ("welfare", WELFARE_PASSWORD, "Home group is never disclosed",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name,home_group",
      "--purpose", "x", "--consent", "{cur}")),
    ("welfare", WELFARE_PASSWORD, "Parents' occupation is never disclosed",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "parents_occupation",
      "--purpose", "x", "--basis", "serious-threat", "--grounds", "Safety")),
    ("welfare", WELFARE_PASSWORD, "only when the agency asked for it",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "attendance_rate",
      "--purpose", "x", "--basis", "serious-threat", "--grounds", "Safety")),
    ("welfare", WELFARE_PASSWORD, "was withdrawn on",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name",
      "--purpose", "x", "--consent", "{wd}")),
    ("welfare", WELFARE_PASSWORD, "expired on",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name",
      "--purpose", "x", "--consent", "{exp}")),
    ("welfare", WELFARE_PASSWORD, "was given for another student",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name",
      "--purpose", "x", "--consent", "{oth}")),
    ("welfare", WELFARE_PASSWORD, "needs its grounds in words",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name",
      "--purpose", "x", "--basis", "required-by-law")),
    ("welfare", WELFARE_PASSWORD, "Only staff the principal has designated may share under CISS",
     ("referral", "create", "--student", "{a}", "--agency", "Youth Connect", "--categories", "student_name",
      "--purpose", "x", "--basis", "ciss", "--grounds", "Wellbeing of the child", "--views-sought", "yes")),
    ("welfare", WELFARE_PASSWORD, "cannot authorise your own request",
     ("referral", "authorise", "{await}")),
    ("principal", PRINCIPAL_PASSWORD, "has not been authorised",
     ("referral", "send", "{await}", "--out", "{tmp}/unauthorised.pdf")),
    ("welfare", WELFARE_PASSWORD, "not specific",
     ("consent", "record", "--student", "{a}", "--agency", "Youth Connect", "--purpose", "x", "--categories", "all",
      "--given-by", "parent", "--giver-name", "Sam", "--date", TODAY.strftime(D))),
    ("welfare", WELFARE_PASSWORD, "parent or guardian must",
     ("consent", "record", "--student", "{a}", "--agency", "Youth Connect", "--purpose", "x", "--categories", "student_name",
      "--given-by", "student", "--giver-name", "Sam", "--date", TODAY.strftime(D), "--capacity", "no")),
    ("custodian", CUSTODIAN_PASSWORD, "is not a postcode",
     ("agencies", "add", "Bad Postcode", "--email", "a@b.org.au", "--phone", "1", "--address", "x", "--postcode", "30")),
    ("welfare", WELFARE_PASSWORD, "Unknown status 'lost'",
     ("referral", "status", "{await}", "--set", "lost")),
    ("custodian", CUSTODIAN_PASSWORD, "does not exist",
     ("filenotes", "export", "--out", "{tmp}/no/such/folder/notes.csv")),
]


@pytest.mark.parametrize("who, password, words, command", BAD, ids=[b[2][:40] for b in BAD])
def test_bad_input_is_one_sentence_non_zero_and_changes_nothing(
    school: dict, tmp_path: Path, store_key: bytes, capsys, monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg, no-untyped-def]
    who: str, password: str, words: str, command: tuple[str, ...],
) -> None:
    c = school["consents"]
    fill = {"a": school["a"], "b": school["b"], "cur": c["current"], "wd": c["withdrawn"], "exp": c["expired"],
            "oth": c["other_student"], "old": c["old_partner"], "wider": c["wider"], "await": school["awaiting"],
            "tmp": str(tmp_path), "store": str(school["folder"])}
    argv = [part.format(**fill) for part in command]
    before = table_counts(school["folder"], store_key)
    rows_before = referral_rows(school["folder"], store_key)
    as_user(monkeypatch, password)
    code, out, err = run(capsys, "--user", who, *argv)
    assert code != 0
    assert words in err, err
    assert len(err.strip().splitlines()) == 1 and out == ""
    assert table_counts(school["folder"], store_key) == before
    assert referral_rows(school["folder"], store_key) == rows_before
    assert not list(tmp_path.glob("*.pdf"))


def test_unwritable_output_and_stale_extract_write_no_file_note(
    school: dict, tmp_path: Path, store_key: bytes, capsys, monkeypatch: pytest.MonkeyPatch  # type: ignore[type-arg, no-untyped-def]
) -> None:
    as_user(monkeypatch, PRINCIPAL_PASSWORD)
    code, _, err = run(capsys, "--user", PRINCIPAL, "referral", "authorise", str(school["awaiting"]))
    assert code == 0, err
    before = table_counts(school["folder"], store_key)
    for out, words in ((tmp_path / "missing" / "r.pdf", "does not exist"), (school["folder"] / "r.pdf", "store folder")):
        code, stdout, err = run(capsys, "--user", PRINCIPAL, "referral", "send", str(school["awaiting"]), "--out", str(out))
        assert code != 0 and words in err and stdout == "", err
        assert table_counts(school["folder"], store_key) == before and not out.exists()
    existing = tmp_path / "exists.pdf"
    existing.write_bytes(b"keep me")
    code, _, err = run(capsys, "--user", PRINCIPAL, "referral", "send", str(school["awaiting"]), "--out", str(existing))
    assert code != 0 and "already exists" in err and existing.read_bytes() == b"keep me"
    assert table_counts(school["folder"], store_key) == before
    # the extract goes stale: refused until a reason is recorded
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(school["folder"]).db, store_key)
    conn.execute("UPDATE snapshot SET extract_date = ?", ((TODAY - timedelta(days=60)).isoformat(),))
    conn.commit()
    conn.close()
    code, _, err = run(capsys, "--user", PRINCIPAL, "referral", "send", str(school["awaiting"]), "--out", str(tmp_path / "s.pdf"))
    assert code != 0 and "more than 30 days ago" in err
    assert table_counts(school["folder"], store_key) == before and not (tmp_path / "s.pdf").exists()
    code, _, err = run(capsys, "--user", PRINCIPAL, "referral", "send", str(school["awaiting"]), "--out", str(tmp_path / "s.pdf"),
                       "--stale-reason", "Roll marking not uploaded yet; values checked by hand")
    assert code == 0, err
    assert table_counts(school["folder"], store_key)["file_note"] == before["file_note"] + 1
