"""Screenshots of Administration > Records (review, a run awaiting approval, the register) and a
subject-access PDF, from a throwaway demo school. Not a test.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots/take_records_screenshots.py OUT_DIR
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("MAPPING_TOOL_LOG_DIR", tempfile.mkdtemp(prefix="smt-shots-logs-"))

PASSWORD = "tangerine-orbit-lantern-57"
PRINCIPAL_PASSWORD = "copper-meadow-violin-31"


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots")
    out.mkdir(parents=True, exist_ok=True)
    from sqlalchemy import select, update

    from importers.demo import generate_demo_extract
    from mapping_tool.security.roles import Role
    from mapping_tool.services import accounts, auth, imports, notes, records
    from mapping_tool.store.models import Student
    from mapping_tool.ui.app import make_app
    from mapping_tool.ui.pages.records import RecordsPanel
    from mapping_tool.ui.records_pdf import render_pdf

    app = make_app()
    work = Path(tempfile.mkdtemp(prefix="smt-records-shots-"))
    generate_demo_extract(work / "eduhub", students=60, years=1, extract_date=date(2026, 9, 18), seed=11)
    store = work / "store"
    auth.init_store(store, auth.InitRequest("8123", "Example Secondary College", "Pat Principal", date(2026, 1, 30),
                                            "custodian", PASSWORD, "velvet harbour quietly juggles seven comets"))
    user = auth.sign_in(store, "custodian", PASSWORD)
    imports.import_cases21(user, work / "eduhub")
    accounts.add_user(user, "principal", Role.PRINCIPAL, PRINCIPAL_PASSWORD, display_name="Pat Principal")
    with user.store.read() as session:
        keys = list(session.execute(select(Student.student_key).order_by(Student.student_key)).scalars())
    first, second = keys[:4], keys[10:16]
    notes.add_note(user, second[0], "Weekly check-in with the wellbeing team; attendance improving.")
    notes.add_note(user, second[1], "Referred to the school nurse (consent on file).")
    with user.store.write() as session:
        session.execute(update(Student).where(Student.student_key.in_(first + second))
                        .values(status="LEFT", exit_date=date(2024, 12, 13)))
    principal = auth.sign_in(store, "principal", PRINCIPAL_PASSWORD)
    principal.must_change_password = False
    with user.store.write() as session:  # the first run: only the first four had left
        session.execute(update(Student).where(Student.student_key.in_(second)).values(status="ACTV", exit_date=None))
    run = records.prepare_run(user)
    records.approve_run(principal, run.id, PRINCIPAL_PASSWORD)
    records.execute_run(user, run.id)
    with user.store.write() as session:
        session.execute(update(Student).where(Student.student_key.in_(second))
                        .values(status="LEFT", exit_date=date(2024, 12, 13)))
    records.add_hold(principal, second[2], "Subpoena received 04/11/2026 (County Court); keep until the matter closes",
                     "legal proceedings")
    records.transfer(user, second[1], work, render_pdf)
    records.prepare_run(user)

    panel = RecordsPanel(user)
    for size, tab, name in (((1024, 768), 0, "records_review"), ((1024, 768), 1, "records_runs_register"),
                            ((1920, 1080), 2, "records_classes_holds")):
        panel.resize(*size)
        panel.tabs.setCurrentIndex(tab)
        panel.show()
        app.processEvents()
        panel.grab().save(str(out / f"{name}.png"))
    sa = work / "subject-access.pdf"
    records.subject_access(user, second[0], sa, render_pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(sa), str(out / "records_subject_access")], check=True)
    auth.sign_out(principal)
    auth.sign_out(user)
    print(f"screenshots in {out}; store in {work}")


if __name__ == "__main__":
    main()
