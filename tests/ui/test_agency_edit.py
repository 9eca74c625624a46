"""The Agencies tab: the data custodian changes an agency's details in the add dialog, filled in,
with a reason; the earlier details are listed; a refusal keeps the dialog open and changes nothing."""

from __future__ import annotations

import os
from datetime import date, timedelta

from PySide6.QtCore import QDate, QItemSelectionModel
from PySide6.QtWidgets import QDialog

from mapping_tool.services import referrals
from mapping_tool.ui.pages import referrals as page_module
from tests.support import CUSTODIAN, PRINCIPAL, PRINCIPAL_PASSWORD, WELFARE
from tests.ui import test_referrals_page as base

TODAY = date.today()
prepared, school, login, _page = base.prepared, base.school, base.login, base._page


def _drive_edit(qtbot, monkeypatch, act) -> None:  # type: ignore[no-untyped-def]
    """The change dialog, built as the page builds it, shown (not exec'd) and driven by ``act``."""
    def ask(cls, parent, agency, save):  # type: ignore[no-untyped-def]
        dialog = cls(agency, parent, save)
        qtbot.addWidget(dialog)
        dialog.show()
        act(dialog)
        return dialog.result() == QDialog.DialogCode.Accepted

    monkeypatch.setattr(page_module.AgencyEditDialog, "ask", classmethod(ask))


def _select_agency(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.tabs.setCurrentIndex(1)
    model = page.agency_model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).name == name)
    page.agency_view.selectionModel().select(
        model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)


def test_the_custodian_renews_an_agreement_and_sees_the_earlier_details(qtbot, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    custodian = login(CUSTODIAN)
    page = _page(qtbot, custodian)
    page.resize(1024, 768)
    assert not page.edit_agency_button.isHidden() and not page.agency_history_button.isHidden()
    _select_agency(page, "Youth Connect")
    seen: dict[str, object] = {}
    until = TODAY + timedelta(days=700)

    def fill(dialog) -> None:  # type: ignore[no-untyped-def]
        assert dialog.name.text() == "Youth Connect" and not dialog.name.isReadOnly()
        assert dialog.phone.text() == "03 9000 0000" and dialog.agreement_ref.text() == "MoU-1"
        assert dialog.categories["literacy"].isChecked() and not dialog.categories["medical_alert"].isChecked()
        dialog.agreement_ref.setText("MoU-2")
        dialog.agreement_until.setDate(QDate(until))
        dialog.phone.setText("03 9111 2222")
        dialog.accept()  # no reason: refused in the dialog, which stays open
        seen["refused"] = dialog.error.text()
        assert dialog.isVisible()
        dialog.reason.setText("Agreement renewed")
        dialog.postcode.setText("30")
        dialog.accept()  # a bad postcode: the service's sentence, still open, nothing saved
        seen["bad postcode"] = dialog.error.text()
        seen["unchanged"] = referrals.list_agencies(custodian)[0].phone
        qtbot.keyClick(dialog.postcode, "0")
        qtbot.keyClick(dialog.postcode, "0")  # typing clears the refusal
        assert dialog.postcode.text() == "3000" and dialog.error.text() == ""
        dialog.resize(dialog.sizeHint())
        if os.environ.get("SCREENSHOTS"):
            dialog.grab().save(os.environ["SCREENSHOTS"] + "/agency-change.png")
        seen["size"] = (dialog.width(), dialog.height())
        dialog.accept()

    _drive_edit(qtbot, monkeypatch, fill)
    page.edit_agency()
    assert seen["refused"] == "Say why the details change: a reason is required."
    assert seen["bad postcode"] == "'30' is not a postcode: write four digits."
    assert seen["unchanged"] == "03 9000 0000"
    width, height = seen["size"]  # type: ignore[misc]
    assert width <= 1024 and height <= 768
    agency = referrals.list_agencies(custodian)[0]
    assert (agency.phone, agency.agreement_ref, agency.agreement_end) == ("03 9111 2222", "MoU-2", until)
    assert "Changed the details of Youth Connect" in page.message.text()
    assert page.agency_model.row_at(0).agreement_ref == "MoU-2"  # the tab refreshed

    def look(cls, parent, name, changes) -> None:  # type: ignore[no-untyped-def]
        dialog = cls(name, changes, parent)
        qtbot.addWidget(dialog)
        dialog.show()
        table = dialog.table
        rows = [[table.item(r, c).text() for c in range(table.columnCount())] for r in range(table.rowCount())]
        seen["rows"] = rows
        if os.environ.get("SCREENSHOTS"):
            dialog.grab().save(os.environ["SCREENSHOTS"] + "/agency-earlier-details.png")
        dialog.reject()

    monkeypatch.setattr(page_module.AgencyHistoryDialog, "show_for", classmethod(look))
    _select_agency(page, "Youth Connect")
    page.agency_history()
    rows = seen["rows"]
    assert [r[2:5] for r in rows] == [  # type: ignore[index]
        ["Phone", "03 9000 0000", "03 9111 2222"],
        ["Agreement reference", "MoU-1", "MoU-2"],
        ["Agreement end", f"{TODAY + timedelta(days=300):%d/%m/%Y}", f"{until:%d/%m/%Y}"],
    ]
    assert all(r[0] == f"{TODAY:%d/%m/%Y}" and r[1] == f"Casey Custodian ({CUSTODIAN})" and r[5] == "Agreement renewed" for r in rows)  # type: ignore[union-attr]


def test_the_custodian_renames_an_agency_and_the_tab_shows_the_new_name(qtbot, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    custodian = login(CUSTODIAN)
    page = _page(qtbot, custodian)
    _select_agency(page, "Youth Connect")
    seen: dict[str, object] = {}

    def rename(dialog) -> None:  # type: ignore[no-untyped-def]
        dialog.name.setFocus()
        dialog.name.selectAll()
        qtbot.keyClicks(dialog.name, "Youth Connect North")
        dialog.reason.setText("Merged into the regional service")
        seen["changes"] = dialog.changes()
        dialog.accept()

    _drive_edit(qtbot, monkeypatch, rename)
    page.edit_agency()
    assert seen["changes"] == {"reason": "Merged into the regional service", "new_name": "Youth Connect North"}
    assert page.message.text() == ("Changed the details of Youth Connect (now called Youth Connect North); "
                                   "the earlier details are kept.")
    names = [page.agency_model.row_at(r).name for r in range(page.agency_model.rowCount())]
    assert "Youth Connect North" in names and "Youth Connect" not in names  # the tab refreshed
    (change,) = referrals.agency_history(custodian, "Youth Connect North")
    assert (change.field, change.old_value, change.new_value) == ("name", "Youth Connect", "Youth Connect North")


def test_cancelling_changes_nothing_and_others_only_read_the_history(qtbot, login, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    custodian = login(CUSTODIAN)
    page = _page(qtbot, custodian)
    before = referrals.list_agencies(custodian)
    page.edit_agency()  # nothing selected: says so, opens nothing
    assert page.message.text() == "Select an agency on the Agencies tab first."
    _select_agency(page, "Youth Connect")

    def cancel(dialog) -> None:  # type: ignore[no-untyped-def]
        dialog.phone.setText("0")
        dialog.reason.setText("Testing")
        dialog.reject()

    _drive_edit(qtbot, monkeypatch, cancel)
    page.edit_agency()
    assert referrals.list_agencies(custodian) == before
    assert referrals.agency_history(custodian, "Youth Connect") == []
    welfare = login(WELFARE)
    page = _page(qtbot, welfare)
    assert page.edit_agency_button.isHidden() and not page.agency_history_button.isHidden()
    _select_agency(page, "Youth Connect")
    shown: list[int] = []
    monkeypatch.setattr(page_module.AgencyHistoryDialog, "show_for", classmethod(lambda cls, p, n, c: shown.append(len(c))))
    page.agency_history()
    assert shown == [0]


def test_tab_leaves_the_earlier_details_table_for_close(qtbot) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    change = SimpleNamespace(changed_at=date(2026, 12, 1), changed_by="Casey Custodian (custodian)", field="phone",
                             old_value="03 5441 0000", new_value="03 5441 1234", reason="New number")
    dialog = page_module.AgencyHistoryDialog("Headspace Bendigo", [change, change])
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert not dialog.table.tabKeyNavigation()
    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Tab)
    assert not dialog.table.hasFocus()
    focused = dialog.focusWidget()
    assert isinstance(focused, QPushButton) and focused.text() == "Close"


def test_a_renamed_agencys_file_notes_stay_with_it_on_the_file_notes_tab(qtbot, login, school, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A file note keeps the name it was sent under; choosing the agency by its new name still
    lists it, as the saved PDF and Excel copies of that choice do."""
    referrals.authorise_referral(login(PRINCIPAL), school["referral"], PRINCIPAL_PASSWORD)
    custodian = login(CUSTODIAN)
    referrals.send_referral(custodian, school["referral"], tmp_path / "sent.docx", fmt="docx")
    referrals.update_agency(custodian, "Youth Connect", reason="Merged", new_name="Youth Connect North")
    page = _page(qtbot, custodian)
    choice = page.note_agency.findData("Youth Connect North")
    assert choice > 0 and page.note_agency.findData("Youth Connect") == -1
    page.note_agency.setCurrentIndex(choice)
    assert page.note_model.rowCount() == 1
    assert page.note_model.row_at(0).agency == "Youth Connect"  # the name it was sent under
