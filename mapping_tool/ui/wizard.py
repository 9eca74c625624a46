"""First-run wizard: the school, the principal's authorisation (the seed's first step), the data
custodian's account and the recovery passphrase. The same as ``mapping-tool init``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QApplication,
    QDateEdit,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from mapping_tool.errors import KnownError
from mapping_tool.security import passwords


def _field(name: str, *, secret: bool = False, placeholder: str = "") -> QLineEdit:
    edit = QLineEdit()
    edit.setAccessibleName(name)
    if secret:
        edit.setEchoMode(QLineEdit.EchoMode.Password)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    return edit


def _row(form: QFormLayout, text: str, widget: QWidget) -> None:
    label = QLabel(text)
    label.setBuddy(widget)
    form.addRow(label, widget)


class _Page(QWizardPage):
    def __init__(self, title: str, subtitle: str) -> None:
        super().__init__()
        self.setTitle(title)
        self.setSubTitle(subtitle)
        # Take the wizard's whole page area: otherwise the page keeps the height it had before
        # a message appeared and the message is clipped.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #1f1f1f; background: #fdecea; border: 1px solid #e0b4b4; padding: 6px;")
        self.error.setAccessibleName("Message")
        self.error.hide()

    def fail(self, text: str) -> bool:
        self.error.setText(text)
        self.error.show()
        return False

    def ok(self) -> bool:
        self.error.hide()
        return True


class WelcomePage(_Page):
    def __init__(self) -> None:
        super().__init__(
            "Welcome to the Student Mapping Tool",
            "This sets up the tool for your school. It takes a few minutes.",
        )
        layout = QVBoxLayout(self)
        text = QLabel(
            "<p>The tool helps authorised staff identify students at risk of early school leaving, "
            "map them to interventions, evaluate those interventions and prepare consent-backed "
            "referrals.</p>"
            "<p>Before you start you need:</p><ul>"
            "<li>the school's CASES21 number and name;</li>"
            "<li>the name of the principal who <b>authorised use of the tool</b>, and the date;</li>"
            "<li>a user name and password for you, the school's <b>data custodian</b>;</li>"
            "<li>a <b>recovery passphrase</b> that you will keep away from this PC (for example "
            "sealed with the business manager). Without it, a lost key file means lost data.</li></ul>"
            "<p>Student data is kept encrypted on this PC only.</p>"
        )
        text.setWordWrap(True)
        layout.addWidget(text)


class SchoolPage(_Page):
    def __init__(self) -> None:
        super().__init__("Your school", "As recorded in CASES21.")
        form = QFormLayout(self)
        self.number = _field("School number", placeholder="e.g. 8123")
        self.name = _field("School name", placeholder="e.g. Example Secondary College")
        _row(form, "School n&umber:", self.number)
        _row(form, "&School name:", self.name)
        form.addRow(self.error)

    def validatePage(self) -> bool:  # noqa: N802 - Qt override
        from mapping_tool.services.auth import validate_school_number

        try:
            validate_school_number(self.number.text())
        except KnownError as exc:
            return self.fail(exc.message)
        if not self.name.text().strip():
            return self.fail("Enter the school's name.")
        return self.ok()


class AuthorisationPage(_Page):
    def __init__(self) -> None:
        super().__init__(
            "Principal's authorisation",
            "The principal authorises use of the tool before any data is extracted.",
        )
        form = QFormLayout(self)
        self.principal = _field("Principal's name")
        self.on = QDateEdit(QDate.currentDate())
        self.on.setDisplayFormat("dd/MM/yyyy")
        self.on.setCalendarPopup(True)
        self.on.setMaximumDate(QDate.currentDate())
        self.on.setAccessibleName("Date authorised")
        _row(form, "&Principal:", self.principal)
        _row(form, "&Date authorised:", self.on)
        form.addRow(self.error)

    def validatePage(self) -> bool:  # noqa: N802
        if not self.principal.text().strip():
            return self.fail("Enter the name of the principal who authorised use of the tool.")
        return self.ok()


class CustodianPage(_Page):
    def __init__(self) -> None:
        super().__init__(
            "Your account: data custodian",
            "The data custodian imports the CASES21 extracts, manages staff accounts and decides who "
            "needs to know.",
        )
        form = QFormLayout(self)
        self.username = _field("User name", placeholder="e.g. jsmith")
        self.display_name = _field("Your name")
        self.position = _field("Position", placeholder="e.g. Assistant Principal")
        self.email = _field("Email")
        self.phone = _field("Phone")
        self.password = _field("Password", secret=True)
        self.again = _field("Password again", secret=True)
        for text, w in (
            ("&User name:", self.username),
            ("&Your name:", self.display_name),
            ("P&osition:", self.position),
            ("&Email:", self.email),
            ("P&hone:", self.phone),
            ("&Password:", self.password),
            ("Password &again:", self.again),
        ):
            _row(form, text, w)
        hint = QLabel("At least 12 characters; a phrase of several unrelated words works well.")
        hint.setWordWrap(True)
        form.addRow(hint)
        form.addRow(self.error)

    def validatePage(self) -> bool:  # noqa: N802
        from mapping_tool.services.auth import validate_username

        try:
            validate_username(self.username.text())
            if not self.display_name.text().strip():
                return self.fail("Enter your name.")
            email = self.email.text().strip()
            if email and ("@" not in email or " " in email):
                # the same rule as My profile, so the profile saved here can be saved there again
                return self.fail("Enter an email address like name@education.vic.gov.au.")
            if self.password.text() != self.again.text():
                return self.fail("The two passwords do not match.")
            passwords.check_password(self.password.text(), context=[self.username.text()])
        except KnownError as exc:
            return self.fail(exc.message)
        return self.ok()


class RecoveryPage(_Page):
    def __init__(self) -> None:
        super().__init__(
            "Recovery passphrase",
            "If this PC's key file is lost or every password forgotten, the recovery passphrase is "
            "the only way back into the data.",
        )
        form = QFormLayout(self)
        self.passphrase = _field("Recovery passphrase", secret=True)
        self.again = _field("Recovery passphrase again", secret=True)
        _row(form, "Recovery &passphrase:", self.passphrase)
        _row(form, "Passphrase &again:", self.again)
        hint = QLabel(
            "At least 16 characters and hard to guess: five or six unrelated words. Write it down "
            "and keep it sealed away from this PC. Nobody can reset it for you."
        )
        hint.setWordWrap(True)
        form.addRow(hint)
        form.addRow(self.error)

    def validatePage(self) -> bool:  # noqa: N802
        if self.passphrase.text() != self.again.text():
            return self.fail("The two passphrases do not match.")
        try:
            passwords.check_passphrase(self.passphrase.text())
        except KnownError as exc:
            return self.fail(exc.message)
        return self.ok()


class FirstRunWizard(QWizard):
    """Creates the store when finished; ``created`` tells the caller the custodian's name."""

    def __init__(self, store_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store_dir = store_dir
        self.created_username = ""
        self.setWindowTitle("Set up the Student Mapping Tool")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setMinimumSize(620, 480)
        self.welcome = WelcomePage()
        self.school = SchoolPage()
        self.authorisation = AuthorisationPage()
        self.custodian = CustodianPage()
        self.recovery = RecoveryPage()
        for page in (self.welcome, self.school, self.authorisation, self.custodian, self.recovery):
            self.addPage(page)
        self.setButtonText(QWizard.WizardButton.FinishButton, "Create the store")

    def request(self):  # type: ignore[no-untyped-def]
        from mapping_tool.services.auth import InitRequest

        qd = self.authorisation.on.date()
        return InitRequest(
            school_number=self.school.number.text(),
            school_name=self.school.name.text(),
            principal_name=self.authorisation.principal.text(),
            authorised_on=date(qd.year(), qd.month(), qd.day()),
            custodian_username=self.custodian.username.text().strip(),
            custodian_password=self.custodian.password.text(),
            recovery_passphrase=self.recovery.passphrase.text(),
            custodian_display_name=self.custodian.display_name.text(),
            custodian_position=self.custodian.position.text(),
            custodian_email=self.custodian.email.text(),
            custodian_phone=self.custodian.phone.text(),
        )

    def accept(self) -> None:
        from mapping_tool.services import auth

        if not self.recovery.validatePage():
            return
        # Two key derivations (about a second): show that something is happening.
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            auth.init_store(self.store_dir, self.request())
        except KnownError as exc:
            self.recovery.fail(exc.message)
            return
        finally:
            QApplication.restoreOverrideCursor()
        self.created_username = self.custodian.username.text().strip()
        super().accept()
