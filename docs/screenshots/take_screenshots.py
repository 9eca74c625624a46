"""Take screenshots of the foundation screens, as a school's staff would see them.

Run under a virtual X server (or fall back to the offscreen platform, which renders the same
widgets without window decorations):

    xvfb-run -s "-screen 0 1366x768x24" python docs/screenshots/take_screenshots.py
    QT_QPA_PLATFORM=offscreen python docs/screenshots/take_screenshots.py

Everything happens in a throw-away store in a temp folder; the PNGs are written beside this
script (or into the folder given as the first argument).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
TEMP = Path(tempfile.mkdtemp(prefix="smt-screens-"))
for name, sub in (("MAPPING_TOOL_LOG_DIR", "logs"), ("MAPPING_TOOL_SETTINGS_DIR", "settings")):
    os.environ[name] = str(TEMP / sub)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import QDate, QEventLoop, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from mapping_tool.security.roles import Role  # noqa: E402
from mapping_tool.services import accounts, auth  # noqa: E402
from mapping_tool.ui.app import make_app  # noqa: E402

CUSTODIAN, CUSTODIAN_PW = "jnguyen", "harbour-tulip-engine-73"
RECOVERY = "purple kettles argue softly beneath nine lanterns"
WELFARE, WELFARE_PW = "aroberts", "saffron-glacier-piano-64"


def settle(app: QApplication, ms: int = 150) -> None:
    """Let layouts, paints and queued signals run (a script, not a test: waiting is fine here)."""
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def save(app: QApplication, widget: QWidget, name: str) -> None:
    settle(app)
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {widget.width()}x{widget.height()}"
    )


def save_screen(app: QApplication, name: str) -> None:
    """The whole (virtual) screen: shows a dialog over its window."""
    settle(app)
    screen = QGuiApplication.primaryScreen()
    pixmap = screen.grabWindow(0)
    if pixmap.isNull() or pixmap.width() == 0:
        return
    path = OUT / f"{name}.png"
    pixmap.save(str(path))
    print(f"{path.relative_to(ROOT)}  (screen {pixmap.width()}x{pixmap.height()})")


def make_store(folder: Path) -> None:
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
            custodian_email="jo.nguyen@education.vic.gov.au",
            custodian_phone="03 9555 0101",
        ),
    )
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PW)
    try:
        accounts.add_user(
            user,
            "sokafor",
            Role.PRINCIPAL,
            "copper-meadow-violin-31",
            display_name="Dr Sam Okafor",
            position="Principal",
        )
        accounts.add_user(
            user,
            WELFARE,
            Role.WELFARE,
            WELFARE_PW,
            display_name="Alex Roberts",
            position="Wellbeing Coordinator",
            email="alex.roberts@education.vic.gov.au",
        )
        accounts.add_user(
            user,
            "pkaur",
            Role.YEAR_LEVEL_COORDINATOR,
            "lilac-thunder-kettle-29",
            display_name="Priya Kaur",
            position="Year 9 Coordinator",
            year_levels=["09"],
        )
        accounts.add_user(
            user,
            "mlee",
            Role.HOME_GROUP_TEACHER,
            "marble-canyon-whistle-88",
            display_name="Morgan Lee",
            position="Teacher",
            home_groups=["09B", "09C"],
        )
        accounts.disable_user(user, "mlee")
    finally:
        auth.sign_out(user)
    # The welfare coordinator has chosen their password already.
    welfare = auth.sign_in(folder, WELFARE, WELFARE_PW)
    try:
        auth.change_password(welfare, WELFARE_PW, "quiet-orchard-bicycle-58")
    finally:
        auth.sign_out(welfare)


def wizard_shots(app: QApplication) -> None:
    from mapping_tool.ui.wizard import FirstRunWizard

    wizard = FirstRunWizard(TEMP / "wizard-store")
    wizard.show()
    save(app, wizard, "01-wizard-welcome")
    wizard.next()
    wizard.school.number.setText("87A5")  # a typo: refused with a message
    wizard.school.name.setText("Riverbend Secondary College")
    wizard.next()
    save(app, wizard, "02b-wizard-school-error")
    wizard.school.number.setText("8765")
    save(app, wizard, "02-wizard-school")
    wizard.next()
    wizard.authorisation.principal.setText("Dr Sam Okafor")
    wizard.authorisation.on.setDate(QDate(2026, 2, 3))
    save(app, wizard, "03-wizard-authorisation")
    wizard.next()
    c = wizard.custodian
    c.username.setText(CUSTODIAN)
    c.display_name.setText("Jo Nguyen")
    c.position.setText("Assistant Principal")
    c.email.setText("jo.nguyen@education.vic.gov.au")
    c.phone.setText("03 9555 0101")
    c.password.setText("password123")
    c.again.setText("password123")
    wizard.next()
    save(app, wizard, "04b-wizard-custodian-weak-password")
    c.password.setText(CUSTODIAN_PW)
    c.again.setText(CUSTODIAN_PW)
    save(app, wizard, "04-wizard-custodian")
    wizard.next()
    wizard.recovery.passphrase.setText(RECOVERY)
    wizard.recovery.again.setText(RECOVERY)
    save(app, wizard, "05-wizard-recovery")
    wizard.close()


def sign_in_shots(app: QApplication, store: Path) -> None:
    from mapping_tool.ui.app import _school_label
    from mapping_tool.ui.signin import SignInDialog

    dialog = SignInDialog(store, school_label=_school_label(store), username="")
    dialog.show()
    dialog.username.setText(WELFARE)
    save(app, dialog, "06-sign-in")
    dialog.password.setText("not-my-password")
    dialog.attempt()
    while not dialog.username.isEnabled():
        settle(app, 50)
    save(app, dialog, "07-sign-in-wrong-password")
    dialog.close()


def main_window_shots(app: QApplication, store: Path) -> None:
    from mapping_tool.ui.main_window import MainWindow
    from mapping_tool.ui.signin import ChangePasswordDialog

    session = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PW)
    window = MainWindow(session)
    window.show()
    for number, name in (
        ("08", "Students"),
        ("09", "Interventions"),
        ("10", "Imports"),
        ("11", "Administration"),
        ("12", "My profile"),
    ):
        window.show_page(name)
        save(app, window, f"{number}-main-{name.lower().replace(' ', '-')}")
    admin = window.show_page("Administration")
    for row in range(admin.model.rowCount()):
        if admin.model.row_at(row).username == CUSTODIAN:
            admin.table.selectRow(row)
    admin.disable_button.click()
    save(app, window, "11b-main-administration-refusal")
    from mapping_tool.ui.pages.admin import AccountDialog

    dialog = AccountDialog(window)
    dialog.username.setText("tbrown")
    dialog.role.setCurrentIndex(dialog.role.findData(Role.HOME_GROUP_TEACHER))
    dialog.display_name.setText("Taylor Brown")
    dialog.position.setText("Teacher")
    dialog.scope.setText("10A")
    dialog.show()
    save(app, dialog, "11c-add-account-dialog")
    dialog.close()
    profile = window.show_page("My profile")
    profile.email.setText("jo at riverbend")
    profile.save.click()
    save(app, window, "12b-main-my-profile-bad-email")
    profile.refresh()
    window.show_page("Administration")
    window.lock()
    settle(app, 300)
    save(app, window, "13-locked-window")
    save(app, window.lock_dialog, "14-unlock-dialog")
    save_screen(app, "15-locked-screen")
    window.lock_dialog.password.setText("wrong-password-here")
    window.lock_dialog.attempt()
    save(app, window.lock_dialog, "14b-unlock-dialog-wrong-password")
    window.lock_dialog.password.setText(CUSTODIAN_PW)
    window.lock_dialog.attempt()
    settle(app)

    change = ChangePasswordDialog(session, forced=True, parent=window)
    change.show()
    save(app, change, "16-change-password")
    change.current.setText(CUSTODIAN_PW)
    change.new.setText("password1234")
    change.again.setText("password1234")
    change.attempt()
    save(app, change, "16b-change-password-weak")
    change.close()
    window.close()

    teacher = auth.sign_in(store, WELFARE, "quiet-orchard-bicycle-58")
    window = MainWindow(teacher)
    window.show()
    window.show_page("Administration")
    save(app, window, "17-main-administration-not-custodian")
    window.show_page("My profile")
    save(app, window, "18-main-profile-welfare")
    window.close()


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    app = make_app()
    print(
        f"platform: {QGuiApplication.platformName()}, screen "
        f"{QGuiApplication.primaryScreen().availableGeometry().width()}x"
        f"{QGuiApplication.primaryScreen().availableGeometry().height()}"
    )
    store = TEMP / "store"
    try:
        make_store(store)
        wizard_shots(app)
        sign_in_shots(app, store)
        main_window_shots(app, store)
    finally:
        shutil.rmtree(TEMP, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
