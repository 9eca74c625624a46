"""The demo school: a throwaway encrypted store in a temp folder with one account per role
(passwords printed), filled from generated CASES21 data when the importer is available."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from mapping_tool.security.roles import Role

logger = logging.getLogger(__name__)

DEMO_SCHOOL_NUMBER = "8123"
DEMO_SCHOOL_NAME = "Riverbend Secondary College (demo)"


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: Role
    password: str
    display_name: str
    scope: str


@dataclass(frozen=True)
class DemoStore:
    folder: Path
    accounts: tuple[DemoAccount, ...]
    recovery_passphrase: str
    students: int


def create_demo_store(
    folder: Path | None = None, *, students: int = 600, say: Callable[[str], None] = print
) -> DemoStore:
    from mapping_tool.security.passwords import generate_password
    from mapping_tool.services import accounts, auth

    folder = folder or Path(tempfile.mkdtemp(prefix="smt-demo-")) / "store"
    plan = [
        ("custodian", Role.CUSTODIAN, "Casey Custodian", "Assistant Principal", (), ()),
        ("principal", Role.PRINCIPAL, "Pat Principal", "Principal", (), ()),
        ("welfare", Role.WELFARE, "Wren Welfare", "Student Wellbeing Coordinator", (), ()),
        ("coordinator", Role.YEAR_LEVEL_COORDINATOR, "Yael Coordinator", "Year 9 Coordinator", (), ("09",)),
        ("teacher", Role.HOME_GROUP_TEACHER, "Harper Teacher", "Home group teacher 09A", ("09A",), ()),
    ]
    passwords = {name: generate_password() for name, *_ in plan}
    recovery = generate_password(6)
    say(f"Creating the demo store in {folder} …")
    auth.init_store(
        folder,
        auth.InitRequest(
            school_number=DEMO_SCHOOL_NUMBER,
            school_name=DEMO_SCHOOL_NAME,
            principal_name="Pat Principal",
            authorised_on=date.today(),
            custodian_username="custodian",
            custodian_password=passwords["custodian"],
            recovery_passphrase=recovery,
            custodian_display_name="Casey Custodian",
            custodian_position="Assistant Principal",
        ),
    )
    user = auth.sign_in(folder, "custodian", passwords["custodian"])
    made: list[DemoAccount] = [DemoAccount("custodian", Role.CUSTODIAN, passwords["custodian"], "Casey Custodian", "whole school")]
    imported = 0
    try:
        for name, role, display, position, hgs, yls in plan[1:]:
            accounts.add_user(
                user, name, role, passwords[name], display_name=display, position=position, home_groups=hgs, year_levels=yls
            )
            made.append(DemoAccount(name, role, passwords[name], display, ", ".join(hgs or yls) or "whole school"))
        imported = _import_demo_data(user, folder.parent, students, say)
        if imported:
            _seed_welfare_records(user, say)
    finally:
        auth.sign_out(user)
    _clear_forced_change(folder, passwords["custodian"])
    return DemoStore(folder, tuple(made), recovery, imported)


def _import_demo_data(user, work: Path, students: int, say: Callable[[str], None]) -> int:  # type: ignore[no-untyped-def]
    try:
        from importers.demo import generate_demo_extract
        from mapping_tool.services import imports
    except ImportError:
        say("(The CASES21 importer is not available in this build: the demo store has accounts only.)")
        return 0
    extract_dir = work / "eduhub"
    say(f"Generating a demo CASES21 extract for {students} students …")
    generate_demo_extract(extract_dir, students=students, school_number=DEMO_SCHOOL_NUMBER, years=2)
    say("Importing it into the encrypted store …")
    result = imports.import_cases21(user, extract_dir)
    return result.students_in_extract


def _seed_welfare_records(user, say: Callable[[str], None]) -> None:  # type: ignore[no-untyped-def]
    """A school that has used the tool for a term: the starter catalogue, flagged students in two
    attendance programmes that started ten weeks before the extract (so that the evaluation has
    figures to show), and one agency with a current data sharing agreement."""
    from datetime import timedelta

    from mapping_tool.services import interventions, referrals

    say("Adding the starter catalogue of programmes, some participants and an agency …")
    interventions.load_starter_catalogue(user)
    rows = interventions.grid(user).rows
    flagged = sorted(r.student_key for r in rows if r.tier in ("priority", "monitor"))
    latest = date.today()  # the demo extract is dated today
    start = latest - timedelta(weeks=10)
    for programme, keys in (("Attendance mentoring", flagged[0::3][:20]), ("Attendance plan with family", flagged[1::3][:12])):
        if keys:
            interventions.assign(user, programme, keys, start=start, review=latest + timedelta(days=14))
    referrals.add_agency(
        user, "Riverbend Youth Services (demo)", email="intake@example.org", phone="03 5550 2000",
        address="12 River Street, Riverbend", postcode="3999", ise="yes", contact_person="Intake worker",
        agreement_ref="DSA-DEMO-1", agreement_start=latest - timedelta(days=180),
        agreement_until=latest + timedelta(days=365),
        agreement_categories="student_name,year_level,attendance_rate,unapproved_absences,school_report,literacy,numeracy",
    )


def _clear_forced_change(folder: Path, custodian_password: str) -> None:
    """Demo accounts sign in straight away: their printed passwords are final."""
    from mapping_tool.security.keyslots import KeySlotFile
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    files = StoreFiles(folder)
    keyfile = KeySlotFile.load(files.keys)
    slot = keyfile.user_slot("custodian")
    key = slot.unwrap(custodian_password, keyfile.store_id) if slot else None
    if key is None:
        return
    conn = db.connect_raw(files.db, key)
    try:
        conn.execute("UPDATE account SET must_change_password = 0")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def print_accounts(demo: DemoStore, say: Callable[[str], None] = print) -> None:
    say("")
    say(f"Demo school: {DEMO_SCHOOL_NAME}, {demo.students} students. Store: {demo.folder}")
    say("Sign in with any of these demo accounts (one per role):")
    for a in demo.accounts:
        say(f"  {a.username:<12} {a.password:<28} {a.role.title} ({a.scope})")
    say("The store is a throwaway copy in a temp folder; delete it when you are done.")
