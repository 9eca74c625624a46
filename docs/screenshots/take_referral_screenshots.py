"""Take screenshots of referrals (issue 9): the Referrals page, the wizard, a consent record, the
file notes, the student panel's Referrals section, and the printed form with its information page
(PDF rendered with pdftoppm).

    QT_QPA_PLATFORM=offscreen python docs/screenshots/take_referral_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
TEMP = Path(tempfile.mkdtemp(prefix="smt-referral-screens-"))
for name, sub in (("MAPPING_TOOL_LOG_DIR", "logs"), ("MAPPING_TOOL_SETTINGS_DIR", "settings")):
    os.environ[name] = str(TEMP / sub)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from importers.demo import generate_demo_extract  # noqa: E402
from mapping_tool.security.roles import Role  # noqa: E402
from mapping_tool.services import accounts, auth, imports, referrals, students  # noqa: E402
from mapping_tool.ui.app import make_app  # noqa: E402

CUSTODIAN, CUSTODIAN_PW = "jnguyen", "harbour-tulip-engine-73"
RECOVERY = "purple kettles argue softly beneath nine lanterns"
WELFARE, WELFARE_PW = "aroberts", "saffron-glacier-piano-64"
PRINCIPAL, PRINCIPAL_PW = "pmorris", "copper-meadow-violin-31"
TODAY = date.today()


def settle(app: QApplication, ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def main() -> None:
    app = make_app()
    store = TEMP / "store"
    auth.init_store(store, auth.InitRequest("8123", "Riverbend Secondary College", "Dana Okafor", date(2026, 1, 30),
                                            CUSTODIAN, CUSTODIAN_PW, RECOVERY, custodian_display_name="Jamie Nguyen",
                                            custodian_position="Assistant Principal"))
    generate_demo_extract(TEMP / "eduhub", students=300, extract_date=TODAY - timedelta(days=2), years=1)
    custodian = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PW)
    imports.import_cases21(custodian, TEMP / "eduhub")
    accounts.add_user(custodian, WELFARE, Role.WELFARE, WELFARE_PW, display_name="Alex Roberts",
                      position="Student Wellbeing Coordinator")
    accounts.add_user(custodian, PRINCIPAL, Role.PRINCIPAL, PRINCIPAL_PW, display_name="Dana Okafor", position="Principal")
    referrals.add_agency(custodian, "Youth Connect Geelong", email="intake@youthconnect.org.au", phone="03 5222 1000",
                         fax="03 5222 1001", address="12 Moorabool St, Geelong VIC", postcode="3220", ise="yes",
                         contact_person="Jo Bloggs (intake)", agreement_ref="MoU 2026-03",
                         agreement_until=TODAY + timedelta(days=240),
                         agreement_categories="student_name,year_level,attendance_rate,unapproved_absences,literacy,numeracy,school_report,other")
    referrals.add_agency(custodian, "Barwon Careers Hub", email="hello@barwoncareers.org.au", phone="03 5222 2000",
                         address="3 Ryrie St, Geelong VIC", postcode="3220", ise="no")
    referrals.set_designated(custodian, WELFARE, True)
    keys = [r[0] for r in students.list_students(custodian, audit=False).rows]
    with custodian.store.write() as session:
        conn = session.connection()
        for user in (WELFARE, PRINCIPAL):
            conn.exec_driver_sql("UPDATE account SET must_change_password = 0 WHERE username = ?", (user,))
    auth.sign_out(custodian)

    welfare = auth.sign_in(store, WELFARE, WELFARE_PW)
    key = keys[3]
    scan = TEMP / "signed-consent.pdf"
    scan.write_bytes(b"%PDF-1.4 scanned")
    consent = referrals.record_consent(welfare, key, agency="Youth Connect Geelong", purpose="Mentoring and careers support",
                                       categories="student_name,year_level,attendance_rate,literacy,other", given_by="parent",
                                       giver_name="Sam Taylor", relationship="mother", date_given=TODAY - timedelta(days=4),
                                       evidence=scan)
    rid = referrals.create_referral(welfare, key, agency="Youth Connect Geelong",
                                    categories="student_name,year_level,attendance_rate,literacy,other",
                                    requested_by_agency="attendance_rate", other="Interested in music and mentoring",
                                    purpose="Mentoring and careers support", consent_id=consent)
    referrals.create_referral(welfare, keys[7], agency="Youth Connect Geelong", categories="student_name,year_level",
                              purpose="Wellbeing check-in", basis="ciss", grounds="Concern for the child's wellbeing",
                              views_sought=False, views_note="Contacting the family may increase the risk", sensitive=True)
    referrals.record_consent(welfare, keys[9], agency="Barwon Careers Hub", purpose="Work experience",
                             categories="student_name,year_level", given_by="student", giver_name="the student",
                             capacity=True, date_given=TODAY - timedelta(days=30))
    auth.sign_out(welfare)
    principal = auth.sign_in(store, PRINCIPAL, PRINCIPAL_PW)
    referrals.authorise_referral(principal, rid, PRINCIPAL_PW)
    auth.sign_out(principal)

    from mapping_tool.ui.forms import html_to_pdf
    from mapping_tool.ui.pages.referrals import (
        ReferralsPage,
        ReferralWizard,
        StudentReferralsSection,
    )

    welfare = auth.sign_in(store, WELFARE, WELFARE_PW)
    pdf = TEMP / "referral.pdf"
    referrals.send_referral(welfare, rid, pdf, pdf_renderer=html_to_pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(TEMP / "form")], check=True)
        shutil.copy(TEMP / "form-1.png", OUT / "referral_1_printed_form.png")
        shutil.copy(TEMP / "form-2.png", OUT / "referral_2_information_page.png")

    page = ReferralsPage(welfare)
    page.resize(1280, 720)
    page.show()
    page.referral_view.selectRow(0)
    settle(app)
    page.grab().save(str(OUT / "referral_3_page.png"))
    page.tabs.setCurrentIndex(2)
    settle(app)
    page.grab().save(str(OUT / "referral_4_consent_records.png"))
    page.tabs.setCurrentIndex(3)
    page.note_view.selectRow(0)
    settle(app)
    page.grab().save(str(OUT / "referral_5_file_notes.png"))
    wizard = ReferralWizard(welfare, keys[3])
    wizard.resize(760, 560)
    wizard.show()
    wizard.purpose.setText("Literacy support")
    wizard.agency.setCurrentIndex(wizard.agency.findData("Youth Connect Geelong"))
    settle(app)
    wizard.next()
    settle(app)
    wizard.grab().save(str(OUT / "referral_6_wizard_basis.png"))
    wizard.next()
    wizard.categories["student_name"].setChecked(True)
    wizard.categories["numeracy"].setChecked(True)
    wizard.submit()
    settle(app)
    wizard.grab().save(str(OUT / "referral_7_wizard_refused.png"))
    wizard.close()
    section = StudentReferralsSection(welfare, key)
    section.show()
    settle(app)
    section.resize(560, section.sizeHint().height() + 8)
    settle(app)
    section.grab().save(str(OUT / "referral_8_student_panel_section.png"))
    if os.environ.get("SMT_MORE_SIZES"):  # checking only: the page at 1024x768 and 1920x1080, the whole panel
        page.tabs.setCurrentIndex(0)
        for size in ((1024, 768), (1920, 1080)):
            page.resize(*size)
            settle(app)
            page.grab().save(str(OUT / f"check_page_{size[0]}.png"))
        from mapping_tool.ui.pages.student_panel import StudentPanel

        panel = StudentPanel(welfare)
        panel.resize(560, 1000)
        panel.show()
        panel.show_student(key)
        for _ in range(100):
            settle(app, 100)
            if panel.data is not None:
                break
        panel.scroll.verticalScrollBar().setValue(panel.scroll.verticalScrollBar().maximum())
        settle(app)
        panel.grab().save(str(OUT / "check_panel.png"))
        panel.close()
        panel.deleteLater()
    for widget in (section, page, wizard):
        widget.close()
        widget.deleteLater()
    settle(app)
    auth.sign_out(welfare)
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TEMP, ignore_errors=True)
