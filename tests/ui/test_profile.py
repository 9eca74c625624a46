"""My profile: each user corrects their own name, position and contacts; changes are audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mapping_tool.services import accounts
from mapping_tool.store.models import AuditEntry
from mapping_tool.ui.pages.profile import ProfilePage


@pytest.fixture
def page(qtbot, custodian) -> ProfilePage:  # type: ignore[no-untyped-def]
    p = ProfilePage(custodian)
    qtbot.addWidget(p)
    p.show()
    qtbot.waitExposed(p)
    return p


def _profile_audits(session) -> list[AuditEntry]:  # type: ignore[no-untyped-def]
    with session.store.read() as s:
        rows = (
            s.execute(
                select(AuditEntry)
                .where(AuditEntry.action == "profile.updated")
                .order_by(AuditEntry.id)
            )
            .scalars()
            .all()
        )
        s.expunge_all()
        return list(rows)


def test_page_shows_what_the_tool_holds(page: ProfilePage) -> None:
    assert page.username.text() == "custodian"
    assert page.role.text() == "Data custodian"
    assert page.scope.text() == "The whole school"
    assert page.display_name.text() == "Casey Custodian"
    assert page.position.text() == "Assistant Principal"


def test_saving_edits_persists_them_and_audits_the_change(page: ProfilePage, custodian) -> None:  # type: ignore[no-untyped-def]
    page.display_name.setText("Casey Custodian-Reyes")
    page.position.setText("Deputy Principal")
    page.email.setText("casey.reyes@education.vic.gov.au")
    page.phone.setText("03 9555 0199")
    page.save.click()

    assert page.status.text() == "Saved."
    me = accounts.my_profile(custodian)
    assert (me.display_name, me.position, me.email, me.phone) == (
        "Casey Custodian-Reyes",
        "Deputy Principal",
        "casey.reyes@education.vic.gov.au",
        "03 9555 0199",
    )
    assert custodian.display_name == "Casey Custodian-Reyes"
    audits = _profile_audits(custodian)
    assert len(audits) == 1
    entry = audits[0]
    assert (entry.actor, entry.object_type, entry.object_id) == (
        "custodian",
        "account",
        "custodian",
    )
    detail = json.loads(entry.detail)
    assert set(detail) == {"display_name", "position", "email", "phone"}
    assert detail["position"] == {"old": "Assistant Principal", "new": "Deputy Principal"}


def test_saving_without_changes_writes_no_audit(page: ProfilePage, custodian) -> None:  # type: ignore[no-untyped-def]
    page.save.click()
    assert page.status.text() == "Saved."
    assert _profile_audits(custodian) == []


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("email", "casey at school", "Enter an email address like"),
        ("email", "casey@school vic", "Enter an email address like"),
        ("display_name", "   ", "Your name cannot be empty."),
    ],
)
def test_bad_input_shows_a_message_and_changes_nothing(
    page: ProfilePage, custodian, field: str, value: str, expected: str
) -> None:  # type: ignore[no-untyped-def]
    before = accounts.my_profile(custodian)
    page.position.setText("Changed Position")  # a valid edit in the same save must not slip through
    getattr(page, field).setText(value)
    page.save.click()
    assert expected in page.status.text()
    assert page.status.isVisible()
    assert accounts.my_profile(custodian) == before
    assert _profile_audits(custodian) == []


def test_change_password_button_opens_the_dialog(page: ProfilePage, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.signin import ChangePasswordDialog

    opened = []

    def fake_exec(self: ChangePasswordDialog) -> bool:
        opened.append(self)
        return True

    monkeypatch.setattr(ChangePasswordDialog, "exec", fake_exec)
    page.change_password.click()
    assert len(opened) == 1
    assert "Your password was changed." in page.status.text()


def test_teacher_sees_their_scope(qtbot, teacher) -> None:  # type: ignore[no-untyped-def]
    p = ProfilePage(teacher)
    qtbot.addWidget(p)
    assert p.role.text() == "Home group teacher"
    assert "07A" in p.scope.text()
