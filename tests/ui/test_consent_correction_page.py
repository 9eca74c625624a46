"""Correcting a consent recorded wrongly from the Referrals page (issue 10 s 3): "Correct a
mistake…" replaces the record with a corrected one; both are listed; the unsent referral follows."""

from __future__ import annotations

import os
from pathlib import Path

from mapping_tool.services import referrals
from mapping_tool.ui.pages.correction_widgets import CorrectConsentDialog
from tests.support import PRINCIPAL, WELFARE
from tests.ui.test_referrals_page import _page, login, prepared, school  # noqa: F401 (fixtures)

SHOTS = os.environ.get("SMT_SCREENSHOTS")


def test_correct_a_mistake_replaces_the_consent_and_keeps_both(qtbot, login, school, store_key, monkeypatch) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from tests.referral_support import table_counts

    page = _page(qtbot, login(PRINCIPAL))
    page.tabs.setCurrentIndex([page.tabs.tabText(i) for i in range(page.tabs.count())].index("Consent records"))
    page.consent_view.selectRow(0)
    # the dialog as a welfare coordinator fills it in: the name was misspelt
    dialog = CorrectConsentDialog(page.consent_model.row_at(0), page)
    qtbot.addWidget(dialog)
    dialog.giver_name.setText("Sam Parente")
    dialog.accept()  # no reason: refused in the dialog
    assert dialog.message.text().startswith("Say why the consent record is being corrected")
    dialog.reason.setText("Surname misspelt")
    assert dialog.changes() == {"giver_name": "Sam Parente"}
    if SHOTS:
        dialog.show()
        dialog.grab().save(str(Path(SHOTS) / "records_consent_correct_dialog.png"))
    before = table_counts(school["folder"], store_key)
    monkeypatch.setattr(CorrectConsentDialog, "ask", classmethod(lambda cls, parent, row: ({"giver_name": "Sam Parente"},
                                                                                          "Surname misspelt")))
    page.correct_consent_button.click()
    assert "replaces consent" in page.message.text() and f"Referral {school['referral']} now relies on it" in page.message.text()
    after = table_counts(school["folder"], store_key)
    assert after["consent_record"] == before["consent_record"] + 1
    rows = [page.consent_model.row_at(i) for i in range(page.consent_model.rowCount())]
    assert sorted((r.giver_name, r.state) for r in rows) == [("Sam Parent", "withdrawn"), ("Sam Parente", "current")]
    if SHOTS:
        page.resize(1024, 768)
        page.grab().save(str(Path(SHOTS) / "records_consent_corrected.png"))


def test_nothing_selected_says_so(qtbot, login) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page = _page(qtbot, login(WELFARE))
    page.correct_consent_button.click()
    assert page.message.text() == "Select the consent record to correct."
    assert [v.state for v in referrals.list_consents(login(WELFARE))] == ["current"]
