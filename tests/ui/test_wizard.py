"""The first-run wizard: each page refuses bad input with a visible message; a valid run creates
a store that the custodian's password opens, with the school and the principal's authorisation."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QDate

from mapping_tool.ui.wizard import FirstRunWizard

PASSWORD = "harbour-tulip-engine-73"
PASSPHRASE = "purple kettles argue softly beneath nine lanterns"


@pytest.fixture
def wizard(qtbot, tmp_path: Path) -> FirstRunWizard:
    w = FirstRunWizard(tmp_path / "new-store")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _fill_school(
    w: FirstRunWizard, number: str = "8765", name: str = "Riverbend Secondary College"
) -> None:
    w.school.number.setText(number)
    w.school.name.setText(name)


def _fill_custodian(w: FirstRunWizard, password: str = PASSWORD, again: str | None = None) -> None:
    page = w.custodian
    page.username.setText("jnguyen")
    page.display_name.setText("Jo Nguyen")
    page.position.setText("Assistant Principal")
    page.email.setText("jo.nguyen@education.vic.gov.au")
    page.phone.setText("03 9555 0101")
    page.password.setText(password)
    page.again.setText(password if again is None else again)


def _advance_to(w: FirstRunWizard, page) -> None:  # type: ignore[no-untyped-def]
    """Fill every page before ``page`` validly and move there with the wizard's own Next."""
    order = [w.welcome, w.school, w.authorisation, w.custodian, w.recovery]
    fillers = {
        w.school: lambda: _fill_school(w),
        w.authorisation: lambda: w.authorisation.principal.setText("Dr Sam Okafor"),
        w.custodian: lambda: _fill_custodian(w),
    }
    for p in order[: order.index(page)]:
        assert w.currentPage() is p
        fillers.get(p, lambda: None)()
        w.next()
    assert w.currentPage() is page


def _refused(w: FirstRunWizard, page, expected: str) -> None:  # type: ignore[no-untyped-def]
    w.next()
    assert w.currentPage() is page, "the wizard moved on past bad input"
    assert page.error.isVisible()
    assert expected in page.error.text()


@pytest.mark.parametrize(
    ("number", "expected"),
    [("", "digits only"), ("81x3", "digits only"), ("123456789", "digits only")],
)
def test_school_page_refuses_a_bad_school_number(
    wizard: FirstRunWizard, number: str, expected: str
) -> None:
    _advance_to(wizard, wizard.school)
    _fill_school(wizard, number=number)
    _refused(wizard, wizard.school, expected)


def test_school_page_refuses_an_empty_school_name(wizard: FirstRunWizard) -> None:
    _advance_to(wizard, wizard.school)
    _fill_school(wizard, name="   ")
    _refused(wizard, wizard.school, "Enter the school's name.")


def test_school_page_message_goes_once_input_is_fixed(wizard: FirstRunWizard) -> None:
    _advance_to(wizard, wizard.school)
    _fill_school(wizard, number="abc")
    _refused(wizard, wizard.school, "digits only")
    _fill_school(wizard)
    wizard.next()
    assert wizard.currentPage() is wizard.authorisation
    assert wizard.school.error.isHidden()


def test_authorisation_page_refuses_an_empty_principal(wizard: FirstRunWizard) -> None:
    _advance_to(wizard, wizard.authorisation)
    wizard.authorisation.principal.setText("  ")
    _refused(wizard, wizard.authorisation, "principal who authorised")


def test_authorisation_date_cannot_be_in_the_future(wizard: FirstRunWizard) -> None:
    edit = wizard.authorisation.on
    edit.setDate(QDate.currentDate().addDays(10))
    assert edit.date() == QDate.currentDate()
    assert edit.displayFormat() == "dd/MM/yyyy"


def test_custodian_page_refuses_mismatched_passwords(wizard: FirstRunWizard) -> None:
    _advance_to(wizard, wizard.custodian)
    _fill_custodian(wizard, again=PASSWORD + "x")
    _refused(wizard, wizard.custodian, "The two passwords do not match.")


@pytest.mark.parametrize(
    ("password", "expected"),
    [("short-pw1", "at least 12 characters"), ("password1234", "too easy to guess")],
)
def test_custodian_page_refuses_a_weak_password(
    wizard: FirstRunWizard, password: str, expected: str
) -> None:
    _advance_to(wizard, wizard.custodian)
    _fill_custodian(wizard, password=password)
    _refused(wizard, wizard.custodian, expected)


def test_custodian_page_refuses_a_bad_user_name_and_an_empty_name(wizard: FirstRunWizard) -> None:
    _advance_to(wizard, wizard.custodian)
    _fill_custodian(wizard)
    wizard.custodian.username.setText("jo nguyen")
    _refused(wizard, wizard.custodian, "A user name is")
    wizard.custodian.username.setText("jnguyen")
    wizard.custodian.display_name.setText("")
    _refused(wizard, wizard.custodian, "Enter your name.")


def test_recovery_page_refuses_mismatched_passphrases(wizard: FirstRunWizard) -> None:
    _advance_to(wizard, wizard.recovery)
    wizard.recovery.passphrase.setText(PASSPHRASE)
    wizard.recovery.again.setText(PASSPHRASE + " too")
    wizard.accept()
    assert wizard.isVisible()
    assert wizard.recovery.error.isVisible()
    assert "do not match" in wizard.recovery.error.text()


@pytest.mark.parametrize(
    ("passphrase", "expected"),
    [("sunny day today", "at least 16 characters"), ("passwordpassword", "too easy to guess")],
)
def test_recovery_page_refuses_a_weak_passphrase(
    wizard: FirstRunWizard, tmp_path: Path, passphrase: str, expected: str
) -> None:
    _advance_to(wizard, wizard.recovery)
    wizard.recovery.passphrase.setText(passphrase)
    wizard.recovery.again.setText(passphrase)
    wizard.accept()
    assert wizard.isVisible()
    assert wizard.recovery.error.isVisible()
    assert expected in wizard.recovery.error.text()
    assert not (tmp_path / "new-store").exists() or not any((tmp_path / "new-store").iterdir())


def test_recovery_passphrase_equal_to_the_password_is_refused_without_a_store(
    wizard: FirstRunWizard, tmp_path: Path
) -> None:
    same = "quietly juggling seven comets over harbour"
    _advance_to(wizard, wizard.recovery)
    _fill_custodian(wizard, password=same)
    wizard.recovery.passphrase.setText(same)
    wizard.recovery.again.setText(same)
    wizard.accept()
    assert wizard.isVisible()
    assert "must differ" in wizard.recovery.error.text()
    folder = tmp_path / "new-store"
    assert not folder.exists() or not any(folder.iterdir())


def test_a_valid_run_creates_a_store_the_custodian_opens(
    wizard: FirstRunWizard, tmp_path: Path
) -> None:
    from mapping_tool.security.roles import Role
    from mapping_tool.services import accounts, auth

    _advance_to(wizard, wizard.recovery)
    wizard.authorisation.on.setDate(QDate(2026, 2, 3))
    wizard.recovery.passphrase.setText(PASSPHRASE)
    wizard.recovery.again.setText(PASSPHRASE)
    wizard.accept()

    assert not wizard.isVisible()
    assert wizard.result() == FirstRunWizard.DialogCode.Accepted
    assert wizard.created_username == "jnguyen"
    user = auth.sign_in(tmp_path / "new-store", "jnguyen", PASSWORD)
    try:
        school = user.store.school
        assert school is not None
        assert school.school_number == "8765"
        assert school.school_name == "Riverbend Secondary College"
        assert school.principal_name == "Dr Sam Okafor"
        assert school.authorised_on == date(2026, 2, 3)
        assert user.role is Role.CUSTODIAN
        assert not user.must_change_password
        me = accounts.my_profile(user)
        assert (me.display_name, me.position, me.email, me.phone) == (
            "Jo Nguyen",
            "Assistant Principal",
            "jo.nguyen@education.vic.gov.au",
            "03 9555 0101",
        )
    finally:
        auth.sign_out(user)


def test_custodian_page_refuses_a_malformed_email(wizard: FirstRunWizard) -> None:
    _advance_to(wizard, wizard.custodian)
    _fill_custodian(wizard)
    wizard.custodian.email.setText("jo at school")
    _refused(wizard, wizard.custodian, "Enter an email address like")


def test_a_long_message_is_not_clipped(wizard: FirstRunWizard) -> None:
    _advance_to(wizard, wizard.custodian)
    _fill_custodian(wizard, password="password1234")
    _refused(wizard, wizard.custodian, "too easy to guess")
    error = wizard.custodian.error
    assert error.height() >= error.heightForWidth(error.width())
