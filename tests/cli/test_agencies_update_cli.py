"""`agencies update` and `agencies history`: the data custodian keeps the register from the command
line (a renewed agreement above all); each bad input is one sentence, a non-zero exit and nothing
changed."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from mapping_tool.store import db
from mapping_tool.store.files import StoreFiles
from tests.cli import test_referrals_cli as base
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, WELFARE, WELFARE_PASSWORD

TODAY = date.today()
D = "%d/%m/%Y"
prepared, school = base.prepared, base.school  # the referral commands' school, copied fresh for each test
run, as_user = base.run, base.as_user


def register(folder: Path, key: bytes) -> tuple[tuple[object, ...], ...]:
    conn = db.connect_raw(StoreFiles(folder).db, key)
    try:
        agencies = tuple(conn.execute("SELECT * FROM agency ORDER BY id").fetchall())
        changes = tuple(conn.execute("SELECT * FROM agency_change ORDER BY id").fetchall())
        audit = conn.execute("SELECT count(*) FROM audit_entry").fetchone()[0]
        return agencies, changes, (audit,)
    finally:
        conn.close()


def test_renewing_an_agreement_from_the_command_line(school: dict, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg, no-untyped-def]
    a, consent = school["a"], str(school["consents"]["old_partner"])
    create = ("referral", "create", "--student", a, "--agency", "Old Partner", "--categories", "student_name",
              "--purpose", "Mentoring", "--consent", consent)
    as_user(monkeypatch, WELFARE_PASSWORD)
    code, out, err = run(capsys, "--user", WELFARE, *create)
    assert code != 0 and "agreement with Old Partner ended" in err
    as_user(monkeypatch, CUSTODIAN_PASSWORD)
    until = TODAY + timedelta(days=365)
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "update", "old partner", "--reason", "MoU renewed",
                         "--agreement-ref", "MoU-2027", "--agreement-start", TODAY.strftime(D),
                         "--agreement-until", until.strftime(D), "--contact", "Jo Bloggs", "--phone", "03 9222 3333")
    assert code == 0, err
    assert f"Old Partner changed (data sharing agreement: current until {until:{D}})" in out
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "history", "Old Partner")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 5 and all(f"| Casey Custodian ({CUSTODIAN}) |" in line and line.endswith("| MoU renewed") for line in lines)
    assert "phone: 03 9000 0001 -> 03 9222 3333" in out
    assert "contact person: (none) -> Jo Bloggs" in out
    assert "agreement reference: MoU-0 -> MoU-2027" in out
    assert f"agreement end: {TODAY - timedelta(days=10):{D}} -> {until:{D}}" in out
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "list")
    assert "Old Partner | x@old.org.au | 03 9222 3333" in out and "MoU-2027" in out
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "history", "Youth Connect")
    assert code == 0 and out.strip() == "No changes to Youth Connect since it was added."
    as_user(monkeypatch, WELFARE_PASSWORD)
    code, out, err = run(capsys, "--user", WELFARE, *create)
    assert code == 0, err


@pytest.mark.parametrize(("who", "password", "words", "extra"), [
    (CUSTODIAN, CUSTODIAN_PASSWORD, "a reason is required", ("--reason", " ", "--phone", "1")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "is not an email address", ("--reason", "r", "--email", "nope")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "is not a postcode", ("--reason", "r", "--postcode", "ABCD")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "needs a phone number", ("--reason", "r", "--phone", "")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "prescribed information sharing entity", ("--reason", "r", "--ise", "maybe")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "Unknown category 'shoe_size'", ("--reason", "r", "--agreement-categories", "shoe_size")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "end date is before its start", ("--reason", "r", "--agreement-start", "01/01/2099")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "dd/mm/yyyy", ("--reason", "r", "--agreement-until", "31/02/2027")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "Nothing to change", ("--reason", "r", "--phone", "03 9000 0000")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "Another agency is already called old partner", ("--reason", "r", "--new-name", "old partner")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "An agency needs a name.", ("--reason", "r", "--new-name", " ")),
    (CUSTODIAN, CUSTODIAN_PASSWORD, "the following arguments are required: --reason", ("--phone", "1")),
    (WELFARE, WELFARE_PASSWORD, "data custodian", ("--reason", "r", "--phone", "1")),
])
def test_bad_update_is_one_sentence_and_changes_nothing(
    school: dict, store_key: bytes, capsys, monkeypatch: pytest.MonkeyPatch,  # type: ignore[type-arg, no-untyped-def]
    who: str, password: str, words: str, extra: tuple[str, ...],
) -> None:
    before = register(school["folder"], store_key)
    as_user(monkeypatch, password)
    code, out, err = run(capsys, "--user", who, "agencies", "update", "Youth Connect", *extra)
    assert code != 0 and out == ""
    assert words.lower() in err.lower(), err
    assert "Traceback" not in err
    assert register(school["folder"], store_key)[:2] == before[:2]


def test_history_of_an_unknown_agency(school: dict, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg, no-untyped-def]
    as_user(monkeypatch, CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "history", "Nowhere")
    assert code != 0 and out == "" and "There is no agency 'Nowhere'" in err


def test_renaming_an_agency_from_the_command_line(school: dict, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[type-arg, no-untyped-def]
    as_user(monkeypatch, CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "update", "Youth Connect", "--new-name",
                         "Youth Connect North", "--reason", "Merged into the regional service")
    assert code == 0, err
    assert "agency 1: Youth Connect North changed" in out and "'agencies history Youth Connect North'" in out
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "history", "Youth Connect North")
    assert code == 0 and "| name: Youth Connect -> Youth Connect North | Merged into the regional service" in out
    code, out, err = run(capsys, "--user", CUSTODIAN, "agencies", "history", "Youth Connect")
    assert code != 0 and out == ""
    assert f"There is no agency 'Youth Connect' in the register: it was renamed Youth Connect North on {TODAY:{D}}." in err
