"""The Referrals page, the referral wizard and the student panel's Referrals section, on a real
store with real widgets: what each role sees, and that saving the form writes its file note."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox

from mapping_tool.services import auth, referrals, students
from mapping_tool.ui.files import documents
from mapping_tool.ui.pages import referrals as page_module
from mapping_tool.ui.pages.referrals import ReferralsPage, ReferralWizard, StudentReferralsSection
from mapping_tool.ui.save_dialog import SaveTarget
from tests.referral_support import current_school, table_counts
from tests.support import CUSTODIAN, HGT, PRINCIPAL, PRINCIPAL_PASSWORD, WELFARE
from tests.ui.conftest import open_session

TODAY = date.today()


@pytest.fixture(scope="module")
def prepared(template_store: Path, tmp_path_factory: pytest.TempPathFactory, store_key: bytes) -> dict:  # type: ignore[type-arg]
    folder = current_school(template_store, tmp_path_factory.mktemp("referrals-ui"), students=60)
    custodian = open_session(folder, store_key, CUSTODIAN)
    try:
        teacher_keys = {r[0] for r in students._fetch(open_session(folder, store_key, HGT), ["student_key"])}
        key = sorted(teacher_keys)[0]
        referrals.add_agency(custodian, "Youth Connect", email="intake@yc.org.au", phone="03 9000 0000", address="1 Main St",
                             postcode="3000", ise="yes", agreement_ref="MoU-1", agreement_until=TODAY + timedelta(days=300),
                             agreement_categories="student_name,year_level,literacy,numeracy,other")
        consent = referrals.record_consent(custodian, key, agency="Youth Connect", purpose="Mentoring",
                                           categories="student_name,year_level,literacy", given_by="parent",
                                           giver_name="Sam Parent", date_given=TODAY - timedelta(days=2))
        rid = referrals.create_referral(custodian, key, agency="Youth Connect", categories="student_name,year_level",
                                        purpose="Mentoring", consent_id=consent)
    finally:
        auth.sign_out(custodian)
    return {"folder": folder, "key": key, "consent": consent, "referral": rid}


@pytest.fixture
def school(prepared: dict, tmp_path: Path) -> dict:  # type: ignore[type-arg]
    folder = tmp_path / "store"
    shutil.copytree(prepared["folder"], folder)
    return {**prepared, "folder": folder}


@pytest.fixture
def login(school: dict, store_key: bytes, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def, type-arg]
    def sign_in(username: str):  # type: ignore[no-untyped-def]
        user = open_session(school["folder"], store_key, username)
        request.addfinalizer(lambda: auth.sign_out(user))
        return user

    return sign_in


def _page(qtbot, session) -> ReferralsPage:  # type: ignore[no-untyped-def]
    page = ReferralsPage(session)
    qtbot.addWidget(page)
    page.resize(1024, 700)
    page.show()
    return page


def test_models_pass_the_model_tester(qtbot, qtmodeltester, login) -> None:  # type: ignore[no-untyped-def]
    page = _page(qtbot, login(WELFARE))
    for model in (page.referral_model, page.agency_model, page.consent_model, page.note_model):
        qtmodeltester.check(model)
    assert page.referral_model.rowCount() == 1 and page.agency_model.rowCount() == 1 and page.consent_model.rowCount() == 1


def _read_only_with_the_student_named(dialog, row) -> None:  # type: ignore[no-untyped-def]
    """The preview or copy is to read: its own Print and Page setup are gone (printing goes
    through Print…, which writes the file note), the student and agency are named in the dialog
    (not its title), and it fits the screen it opens on."""
    from PySide6.QtWidgets import QLabel, QToolBar

    actions = [a.text() for bar in dialog.findChildren(QToolBar) for a in bar.actions()]
    assert "Print" not in actions and "Page setup" not in actions and "Zoom in" in actions
    assert row.student_name and row.student_name not in dialog.windowTitle()
    assert any(row.student_name in label.text() and row.agency in label.text() for label in dialog.findChildren(QLabel))
    screen = dialog.screen().availableGeometry()
    assert dialog.width() <= screen.width() and dialog.height() <= screen.height()


def test_authorise_then_save_the_pdf_writes_the_file_note(qtbot, login, school, store_key, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    page = _page(qtbot, login(PRINCIPAL))
    page.referral_view.selectRow(0)
    assert page.authorise_button.isEnabled() and not page.pdf_button.isEnabled()
    # before it is sent, the form is a preview of today's form, marked and writing no file note
    assert page.preview_button.text() == "Pre&view"
    page.preview()
    assert page.preview_dialog.windowTitle() == f"Preview of referral {school['referral']} (not sent; no file note)"
    _read_only_with_the_student_named(page.preview_dialog, page.referral_model.row_at(0))
    page.preview_dialog.close()
    monkeypatch.setattr(page_module.PasswordDialog, "ask", classmethod(lambda cls, parent, rid: PRINCIPAL_PASSWORD))
    page.authorise()
    assert "is authorised" in page.message.text()
    page.referral_view.selectRow(0)
    assert page.pdf_button.isEnabled()
    out = tmp_path / "referral.pdf"
    monkeypatch.setattr(page_module, "choose_save_path", lambda *a: SaveTarget(out, False))
    before = table_counts(school["folder"], store_key)["file_note"]
    page.save("pdf")
    assert out.read_bytes().startswith(b"%PDF")
    assert table_counts(school["folder"], store_key)["file_note"] == before + 1
    assert page.note_model.rowCount() == 1 and "file note" in page.message.text()
    assert page.referral_model.row_at(0).status == "sent"
    page.note_view.selectRow(0)
    assert "Information disclosed" in page.note_detail.text()
    page.note_agency.setCurrentIndex(page.note_agency.findData("Youth Connect"))
    assert page.note_model.rowCount() == 1
    # once sent, the same button shows a copy of the form as sent, marked with the day, and writes no file note
    page.referral_view.selectRow(0)
    assert page.preview_button.text() == "&View sent form" and "Last sent" in page.detail.text()
    page.preview()
    note_id = page.note_model.row_at(0).id
    assert page.preview_dialog.windowTitle() == (
        f"Copy of referral {school['referral']} as sent on {TODAY:%d/%m/%Y} (file note {note_id}; nothing is sent again)")
    _read_only_with_the_student_named(page.preview_dialog, page.referral_model.row_at(0))
    page.preview_dialog.close()
    assert table_counts(school["folder"], store_key)["file_note"] == before + 1
    # a correction is a new note pointing at the old one
    page.note_agency.setCurrentIndex(0)
    page.note_view.selectRow(0)
    monkeypatch.setattr(page_module.CorrectionDialog, "ask", classmethod(lambda cls, parent, nid: "Sent by email, not post."))
    page.correct_note()
    assert page.note_model.rowCount() == 2 and page.note_model.row_at(1).corrects == page.note_model.row_at(0).id


def test_the_wizard_creates_a_referral_or_says_why_not(qtbot, login, school, store_key) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    wizard = ReferralWizard(welfare, school["key"])
    qtbot.addWidget(wizard)
    assert wizard.consent.currentData() == school["consent"]
    wizard.purpose.setText("Literacy support")
    wizard.categories["student_name"].setChecked(True)
    wizard.categories["numeracy"].setChecked(True)  # not in the consent
    before = table_counts(school["folder"], store_key)
    assert not wizard.submit()
    assert "does not cover: Numeracy" in wizard.error.text()
    assert table_counts(school["folder"], store_key) == before
    wizard.categories["numeracy"].setChecked(False)
    wizard.categories["literacy"].setChecked(True)
    with qtbot.waitSignal(wizard.created):
        assert wizard.submit()
    assert table_counts(school["folder"], store_key)["referral"] == before["referral"] + 1


def test_a_home_group_teacher_sees_only_that_a_referral_is_active(qtbot, login, school) -> None:  # type: ignore[no-untyped-def]
    teacher = login(HGT)
    page = _page(qtbot, teacher)
    assert page.tabs.count() == 1 and not page.new_button.isVisible()
    row = page.referral_model.row_at(0)
    assert row.restricted and row.agency == ""
    shown = [page.referral_model.index(0, c).data() for c in range(page.referral_model.columnCount())]
    assert "Active referral" in shown and "Youth Connect" not in shown
    section = StudentReferralsSection(teacher, school["key"])
    qtbot.addWidget(section)
    text = " ".join(label.text() for label in section.findChildren(QLabel))
    assert "active referral" in text and "Youth Connect" not in text


def test_the_student_panel_section_lists_and_refers(qtbot, login, school) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    section = StudentReferralsSection(welfare, school["key"])
    qtbot.addWidget(section)
    section.show()
    text = " ".join(label.text() for label in section.findChildren(QLabel))
    assert "Referral" in text and "Youth Connect" in text and "Consent" in text
    wizard = section.refer()
    assert wizard.student.text() == school["key"]
    wizard.reject()


def test_the_custodian_designates_staff_for_ciss(qtbot, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    custodian = login(CUSTODIAN)
    page = _page(qtbot, custodian)
    assert not page.designate_button.isHidden()
    offered: list[tuple[str, str]] = []

    def ask(cls, parent, staff, designated):  # type: ignore[no-untyped-def]
        offered.extend(staff)
        return designated | {WELFARE}

    monkeypatch.setattr(page_module.DesignationDialog, "ask", classmethod(ask))
    page.designate()
    assert WELFARE in {u for u, _ in offered}
    assert referrals.referral_settings(custodian).designated == frozenset({WELFARE})
    assert "1 staff are designated" in page.message.text()


def test_a_pre_filled_consent_form_to_sign(qtbot, login, school, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    out = tmp_path / "consent-form.pdf"
    monkeypatch.setattr(page_module, "choose_save_path", lambda *a: SaveTarget(out, False))
    dialog = page_module.ConsentDialog(["Youth Connect"], school["key"])
    qtbot.addWidget(dialog)
    dialog.session = welfare
    dialog.purpose.setText("Mentoring")
    dialog.giver_name.setText("Sam Parent")
    dialog.categories["student_name"].setChecked(True)
    dialog.save_form()
    assert out.read_bytes().startswith(b"%PDF")
    html = referrals.consent_form(welfare, school["key"], agency="Youth Connect", purpose="Mentoring", categories="student_name")
    assert "☒" in html and "withdraw this consent" in html


def test_the_custodian_sets_the_referral_settings(qtbot, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    custodian = login(CUSTODIAN)
    page = _page(qtbot, custodian)
    monkeypatch.setattr(page_module.ReferralSettingsDialog, "ask", classmethod(lambda cls, parent, d, m: (14, 6)))
    page.edit_settings()
    settings = referrals.referral_settings(custodian)
    assert (settings.stale_extract_days, settings.consent_months) == (14, 6)


def test_saving_over_a_file_asks_and_no_keeps_it(qtbot, login, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The save dialog starts in Documents; a file that is there is replaced only after Yes."""
    page = _page(qtbot, login(PRINCIPAL))
    out = tmp_path / "file-notes.xlsx"
    out.write_bytes(b"keep me")
    asked: list[str] = []
    started: list[str] = []

    def choose(parent, title, start, *a, **k):  # type: ignore[no-untyped-def]
        started.append(start)
        return str(tmp_path / "file-notes"), ""  # no ending: the tool adds .xlsx, which is there

    def answer(reply):  # type: ignore[no-untyped-def]
        def question(parent, title, text, *a, **k):  # type: ignore[no-untyped-def]
            asked.append(text)
            return reply

        return question

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(choose))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(answer(QMessageBox.StandardButton.No)))
    page.export_notes()
    assert started == [documents("file-notes.xlsx")]  # the user's Documents folder
    assert asked == [f"file-notes.xlsx already exists in {tmp_path}. Replace it?"]
    assert out.read_bytes() == b"keep me" and "Exported" not in page.message.text()
    monkeypatch.setattr(QMessageBox, "question", staticmethod(answer(QMessageBox.StandardButton.Yes)))
    page.export_notes()
    assert len(asked) == 2 and out.read_bytes()[:2] == b"PK" and "Exported" in page.message.text()


def test_enter_on_a_referral_opens_its_form(qtbot, login, school) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    page = _page(qtbot, login(WELFARE))
    page.show()
    page.referral_view.setFocus()
    page.referral_view.selectRow(0)
    assert not hasattr(page, "preview_dialog")
    qtbot.keyClick(page.referral_view, Qt.Key.Key_Return)
    assert page.preview_dialog.windowTitle() == f"Preview of referral {school['referral']} (not sent; no file note)"
    page.preview_dialog.close()


def test_a_referrals_status_is_in_view_at_1024_by_768(qtbot, login) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.referrals import ReferralColumn

    page = _page(qtbot, login(WELFARE))
    page.resize(1024 - 170, 700)  # beside the main window's list of sections
    view = page.referral_view
    qtbot.waitUntil(lambda: page.referral_model.rowCount() > 0)
    qtbot.wait(50)
    assert page.referral_model.headerData(ReferralColumn.STATUS, Qt.Orientation.Horizontal) == "Status"
    status = page.referral_model.index(0, ReferralColumn.STATUS).data()
    assert status and status == page.referral_model.row_at(0).status_title
    right = view.columnViewportPosition(ReferralColumn.STATUS) + view.columnWidth(ReferralColumn.STATUS)
    assert 0 < right <= view.viewport().width()


def test_each_file_note_opens_the_form_its_sending_gave(qtbot, login, school, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A referral sent twice has two file notes; each opens the form as that sending gave it (the
    referral's own button opens the latest), and a correction has no form to open."""
    principal = login(PRINCIPAL)
    referrals.authorise_referral(principal, school["referral"], PRINCIPAL_PASSWORD)
    first = referrals.send_referral(principal, school["referral"], tmp_path / "first.docx", fmt="docx").note_id
    custodian = login(CUSTODIAN)
    referrals.update_agency(custodian, "Youth Connect", reason="New intake line", phone="03 9111 2222")
    second = referrals.send_referral(principal, school["referral"], tmp_path / "second.docx", fmt="docx").note_id
    referrals.correct_file_note(principal, second, "Posted, not emailed.")
    page = _page(qtbot, login(WELFARE))
    page.tabs.setCurrentIndex(page.tabs.count() - 1)
    notes = {page.note_model.row_at(r).id: r for r in range(page.note_model.rowCount())}
    assert len(notes) == 3 and not page.note_form_button.isEnabled()
    page.note_view.setFocus()
    page.note_view.selectRow(notes[first])
    assert page.note_form_button.isEnabled()
    qtbot.keyClick(page.note_view, Qt.Key.Key_Return)
    dialog = page.preview_dialog
    assert f"(file note {first}; nothing is sent again)" in dialog.windowTitle()
    label = " ".join(w.text() for w in dialog.findChildren(QLabel))
    assert f"Referral {school['referral']} · " in label and "Youth Connect" in label
    dialog.close()
    page.note_view.selectRow(notes[second])
    page.view_note_form()
    assert f"(file note {second}; nothing is sent again)" in page.preview_dialog.windowTitle()
    page.preview_dialog.close()
    shown = page.preview_dialog
    correction = next(r for r in range(page.note_model.rowCount()) if page.note_model.row_at(r).corrects)
    page.note_view.selectRow(correction)
    assert not page.note_form_button.isEnabled()
    page.view_note_form()
    assert page.preview_dialog is shown and "a correction has no form" in page.message.text()


def test_file_notes_name_the_student_and_the_staff(qtbot, login, school, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import accounts

    principal = login(PRINCIPAL)
    referrals.authorise_referral(principal, school["referral"], PRINCIPAL_PASSWORD)
    referrals.send_referral(principal, school["referral"], tmp_path / "sent.docx", fmt="docx")
    name = accounts.my_profile(principal).display_name
    accounts.update_profile(principal, display_name="Pat Renamed")  # after sending: the note names them as the form did
    page = _page(qtbot, login(WELFARE))
    student = page.referral_model.row_at(0).student_name
    assert name and student and name != "Pat Renamed"
    shown = [page.note_model.index(0, c).data() for c in range(page.note_model.columnCount())]
    assert shown[2] == f"{student} ({school['key']})"
    assert shown[4] == shown[5] == f"{name} ({PRINCIPAL})"
    page.tabs.setCurrentIndex(page.tabs.count() - 1)
    page.note_view.selectRow(0)
    assert f"{student} ({school['key']})" in page.note_detail.text() and "Pat Renamed" not in page.note_detail.text()
    # a refresh resets the list and its selection: the button and the detail follow
    page.refresh()
    assert not page.note_form_button.isEnabled() and "Select a file note" in page.note_detail.text()


def test_reaching_a_table_with_tab_selects_its_row_so_enter_and_down_act_on_what_is_shown(qtbot, login, school) -> None:  # type: ignore[no-untyped-def]
    welfare = login(WELFARE)
    referrals.create_referral(welfare, school["key"], agency="Youth Connect", categories="student_name",
                              purpose="Second", consent_id=school["consent"])
    page = _page(qtbot, welfare)
    view = page.referral_view
    assert page.referral_model.rowCount() == 2 and not view.selectionModel().hasSelection()
    page.activateWindow()
    qtbot.waitUntil(page.isActiveWindow)
    page.new_button.setFocus()
    qtbot.keyClick(page.new_button, Qt.Key.Key_Tab)  # on through the buttons to the table, as a user would
    for _ in range(8):
        if view.hasFocus():
            break
        qtbot.keyClick(page.focusWidget(), Qt.Key.Key_Tab)
    assert view.hasFocus()
    assert [i.row() for i in view.selectionModel().selectedRows()] == [0]  # the row the focus frame is on
    qtbot.keyClick(view, Qt.Key.Key_Down)
    assert [i.row() for i in view.selectionModel().selectedRows()] == [1]  # the next one, not one further
    qtbot.keyClick(view, Qt.Key.Key_Up)
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert f"referral {page.referral_model.row_at(0).id} " in page.preview_dialog.windowTitle()
    page.preview_dialog.close()
    # a click is left alone: the row clicked is the row chosen
    page.consent_view.clearSelection()
    page.consent_view.setFocus(Qt.FocusReason.MouseFocusReason)
    assert not page.consent_view.selectionModel().hasSelection()


def test_set_status_names_the_referral_it_changes(qtbot, login, school, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QInputDialog

    page = _page(qtbot, login(WELFARE))
    page.referral_view.selectRow(0)
    row = page.referral_model.row_at(0)
    asked = []
    monkeypatch.setattr(QInputDialog, "getItem", lambda parent, title, label, choices, *a: asked.append((title, label)) or ("Withdrawn", True))
    monkeypatch.setattr(QInputDialog, "getText", lambda parent, title, label, *a: asked.append((title, label)) or ("Family moved", True))
    page.set_status()
    (title, label), (again, _) = asked
    assert title == again == f"Status of referral {row.id}" and row.student_name not in title
    assert label.startswith(f"Referral {row.id} · {row.student_name} to Youth Connect is now ") and label.endswith("New status:")
    assert page.referral_model.row_at(0).status == "withdrawn"
