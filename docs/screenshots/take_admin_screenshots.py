"""Take screenshots of the Administration tabs as a school's data custodian sees them, and of the
printed "who accessed this record" report (PDF, then PNG with pdftoppm).

    QT_QPA_PLATFORM=offscreen python docs/screenshots/take_admin_screenshots.py
    xvfb-run -s "-screen 0 1366x768x24" python docs/screenshots/take_admin_screenshots.py

A throw-away store in a temp folder: a few accounts, an imported demo school, some staff activity
(views, a list, an export, a failed sign-in), a narrowed item, a changed rule and an override.
The PNGs are written beside this script as admin_*.png (or into the folder given as argument).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
TEMP = Path(tempfile.mkdtemp(prefix="smt-admin-screens-"))
for name, sub in (("MAPPING_TOOL_LOG_DIR", "logs"), ("MAPPING_TOOL_SETTINGS_DIR", "settings")):
    os.environ[name] = str(TEMP / sub)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ.setdefault("TZ", "Australia/Melbourne")
if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from mapping_tool.security.roles import Role  # noqa: E402
from mapping_tool.services import accounts, auth, flags, imports, students  # noqa: E402
from mapping_tool.ui.app import make_app  # noqa: E402

CUSTODIAN, CUSTODIAN_PW = "jnguyen", "harbour-tulip-engine-73"
RECOVERY = "purple kettles argue softly beneath nine lanterns"
PEOPLE = {
    "sokafor": (Role.PRINCIPAL, "copper-meadow-violin-31", "Dr Sam Okafor", {}),
    "aroberts": (Role.WELFARE, "saffron-glacier-piano-64", "Alex Roberts", {}),
    "pkaur": (
        Role.YEAR_LEVEL_COORDINATOR,
        "lilac-thunder-kettle-29",
        "Priya Kaur",
        {"year_levels": ["09"]},
    ),
    "mlee": (
        Role.HOME_GROUP_TEACHER,
        "marble-canyon-whistle-88",
        "Morgan Lee",
        {"home_groups": ["09B"]},
    ),
}
SIZE = (1000, 700)  # about the page area of the main window at its usual 1180×760


def settle(app: QApplication, ms: int = 150) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def save(app: QApplication, widget: QWidget, name: str) -> Path:
    settle(app)
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {widget.width()}x{widget.height()}"
    )
    return path


def make_school(folder: Path) -> None:
    from importers.demo import generate_demo_extract

    auth.init_store(
        folder,
        auth.InitRequest(
            school_number="8765",
            school_name="Riverbend Secondary College",
            principal_name="Dr Sam Okafor",
            authorised_on=date(2026, 2, 3),
            custodian_username=CUSTODIAN,
            custodian_password=CUSTODIAN_PW,
            recovery_passphrase=RECOVERY,
            custodian_display_name="Jo Nguyen",
            custodian_position="Assistant Principal",
        ),
    )
    extract = TEMP / "eduhub"
    generate_demo_extract(
        extract, students=400, school_number="8765", extract_date=date(2026, 9, 18), seed=11
    )
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PW)
    try:
        for username, (role, password, display, scope) in PEOPLE.items():
            accounts.add_user(user, username, role, password, display_name=display, **scope)
        imports.import_cases21(user, extract)
    finally:
        auth.sign_out(user)


def staff_activity(folder: Path) -> str:
    """Views, a list, an export, a failed sign-in, an override; returns a student key to report on."""
    try:
        auth.sign_in(folder, "pkaur", "not-her-password")
    except Exception:  # noqa: BLE001 - a failed sign-in is the point
        pass
    teacher = auth.sign_in(folder, "mlee", PEOPLE["mlee"][1])
    try:
        table = students.list_students(teacher)
        keys = table.column("student_key")
        key = keys[0]
        students.get_student(teacher, key)
        students.get_student(teacher, keys[1])
        try:
            students.get_student(teacher, "ZZZ9999")  # not theirs to see: a refused view in the log
        except students.NotVisible:
            pass
    finally:
        auth.sign_out(teacher)
    welfare = auth.sign_in(folder, "aroberts", PEOPLE["aroberts"][1])
    try:
        students.list_students(welfare)
        students.get_student(welfare, key)
        students.export_students(welfare, TEMP / "welfare-list.xlsx")
        # A priority student, held at monitor after a meeting with the family; another raised.
        listed = students.list_students(welfare, fields=("student_key", "tier"), audit=False)
        by_tier: dict[str, list[str]] = {}
        for k, tier in listed.rows:
            by_tier.setdefault(str(tier), []).append(k)
        flags.override_tier(
            welfare, key, "priority", "Family contacted the school about bullying; review weekly"
        )
        # One whose only flag is attendance between 85 and 90 %: the custodian's new 85 % line
        # (custodian_changes) moves its computed tier, which the overrides tab then marks.
        measured = students.list_students(
            welfare, fields=("student_key", "attendance_rate", "flag_count", "tier"), audit=False
        )
        near = [
            k
            for k, rate, count, tier in measured.rows
            if tier == "monitor" and count == 1 and rate is not None and 85 <= rate < 90
        ]
        if near:
            flags.override_tier(
                welfare,
                near[0],
                "priority",
                "Older sibling left school early this year; keep close watch",
            )
        if by_tier.get("priority"):
            flags.override_tier(
                welfare,
                by_tier["priority"][0],
                "monitor",
                "Attendance plan agreed with parents on 02/09",
            )
        if by_tier.get("none"):
            flags.override_tier(
                welfare,
                by_tier["none"][3],
                "monitor",
                "Student asked for support after a family move",
            )
    finally:
        auth.sign_out(welfare)
    return key


def custodian_changes(folder: Path) -> None:
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PW)
    try:
        students.set_narrowing(
            user, Role.HOME_GROUP_TEACHER, "occupation_of_parents", allowed=False
        )
        flags.set_rule(
            user,
            "attendance_rate_below",
            "85",
            "Wellbeing team agreed 85% as the review line for 2026",
        )
        flags.set_rule(
            user,
            "unapproved_days_at_least",
            "8",
            "Regional attendance strategy: act at 8 unapproved days",
        )
    finally:
        auth.sign_out(user)


def main() -> None:
    store = TEMP / "store"
    make_school(store)
    key = staff_activity(store)
    custodian_changes(store)
    app = make_app([])
    from mapping_tool.ui.pages.admin import AdminPage

    session = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PW)
    page = AdminPage(session)
    page.resize(*SIZE)
    page.show()
    save(app, page, "admin_1_accounts")
    grid = page.show_tab(AdminPage.TAB_POLICY)
    grid.view.setCurrentIndex(grid.model.index_of("welfare", "occupation_of_parents"))  # type: ignore[attr-defined]
    save(app, page, "admin_2_policy")
    viewer = page.show_tab(AdminPage.TAB_AUDIT)
    viewer.verify()  # type: ignore[attr-defined]
    save(app, page, "admin_3_audit")
    viewer.set_filters(student=key)  # type: ignore[attr-defined]
    save(app, page, "admin_3b_audit_student")
    rules = page.show_tab(AdminPage.TAB_RULES)
    rules.select_setting("attendance_rate_below")  # type: ignore[attr-defined]
    save(app, page, "admin_4_rules")
    from mapping_tool.ui import worker
    from mapping_tool.ui.pages.rules import RuleChangeDialog

    dialog = RuleChangeDialog("Low attendance: attendance rate below (%)", "85", "a number", page)
    dialog.value.setText("80")
    dialog.reason.setPlainText("Wellbeing team: too many students flagged for the team to follow up")
    dialog.show()
    save(app, dialog, "admin_4b_rule_dialog")
    dialog.close()
    worker.runner = worker.SyncRunner()  # a refused change: the message is shown in the tab
    rules.apply_change("attendance_rate_below", "150", "Typing slip")  # type: ignore[attr-defined]
    settle(app, 300)
    save(app, page, "admin_4c_rules_refused")
    overrides = page.show_tab(AdminPage.TAB_OVERRIDES)
    overrides.table.selectRow(0)  # type: ignore[attr-defined]
    save(app, page, "admin_5_overrides")

    # The printed report, as the PDF the custodian would save.
    from mapping_tool.ui.printing import html_to_pdf

    pdf = TEMP / f"access-{key}.pdf"
    html_to_pdf(viewer.student_report_html(key), pdf, title=f"Who accessed {key}")  # type: ignore[attr-defined]
    if shutil.which("pdftoppm"):
        stem = TEMP / "report"
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "80",
                "-f",
                "1",
                "-l",
                "1",
                "-singlefile",
                str(pdf),
                str(stem),
            ],
            check=True,
        )
        shutil.move(str(stem.with_suffix(".png")), OUT / "admin_6_access_report.png")
        print(f"{(OUT / 'admin_6_access_report.png').relative_to(ROOT)}  (page 1 of the PDF)")
    else:
        print("pdftoppm not found: the report PDF is at", pdf)

    # Principal class: the audit log, and the policy and rules read-only.
    principal = auth.sign_in(store, "sokafor", PEOPLE["sokafor"][1])
    ppage = AdminPage(principal)
    ppage.resize(*SIZE)
    ppage.show()
    ppage.show_tab(AdminPage.TAB_POLICY)
    save(app, ppage, "admin_7_principal_policy")
    ppage.close()
    auth.sign_out(principal)
    page.close()
    auth.sign_out(session)
    shutil.rmtree(TEMP, ignore_errors=True)


if __name__ == "__main__":
    main()
