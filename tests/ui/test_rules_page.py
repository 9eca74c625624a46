"""The Risk rules and Tier overrides tabs on a real encrypted store with an imported demo school:
a threshold changed with a reason becomes a new rule version and the flags are recomputed under
it; an empty reason or an out-of-range value is refused in the page and changes nothing; an
override is listed with the computed tier then and now, and cleared after a confirmation."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from mapping_tool.services import auth, flags, imports, students
from mapping_tool.ui.pages.admin import AdminPage
from mapping_tool.ui.pages.rules import (
    HistoryColumn,
    OverrideColumn,
    RuleChangeDialog,
    RuleHistoryModel,
    RuleSettingsModel,
    RulesPage,
    SettingColumn,
    TierOverrideModel,
    TierOverridesPanel,
    edit_text,
    history_rows,
    value_text,
)
from risk_factors import SETTING_LABELS, SETTING_NAMES
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, WELFARE
from tests.ui.conftest import open_session
from tests.ui.helpers import audit_actions


@pytest.fixture(scope="module")
def school_template(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from importers.demo import generate_demo_extract

    folder = tmp_path_factory.mktemp("rules-school") / "store"
    shutil.copytree(template_store, folder)
    extract = folder.parent / "eduhub"
    generate_demo_extract(extract, students=80, extract_date=date(2026, 9, 18), years=1, seed=3)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        imports.import_cases21(user, extract)
    finally:
        auth.sign_out(user)
    return folder


@pytest.fixture
def school(school_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(school_template, target)
    (target / "smt.signin").unlink(missing_ok=True)
    return target


@pytest.fixture
def admin(school: Path, store_key: bytes):  # type: ignore[no-untyped-def]
    user = open_session(school, store_key, CUSTODIAN)
    yield user
    auth.sign_out(user)


@pytest.fixture
def rules_page(qtbot, admin, sync_runner) -> RulesPage:  # type: ignore[no-untyped-def]
    page = RulesPage(admin)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitExposed(page)
    return page


def _answer(
    monkeypatch: pytest.MonkeyPatch, answer: tuple[str, str] | None
) -> list[tuple[str, str, str]]:
    """RuleChangeDialog.ask replaced: returns ``answer``; records (label, current, hint)."""
    asked: list[tuple[str, str, str]] = []

    def ask(parent, label, current, hint):  # type: ignore[no-untyped-def]
        asked.append((label, current, hint))
        return answer

    monkeypatch.setattr(RuleChangeDialog, "ask", classmethod(lambda cls, *a: ask(*a)))
    return asked


def _change(qtbot, page: RulesPage, name: str) -> None:  # type: ignore[no-untyped-def]
    page.select_setting(name)
    assert page.selected_setting() == name
    page.change_button.click()
    assert page.busy.isVisible() and not page.change_button.isEnabled()  # working off the UI thread
    qtbot.waitUntil(lambda: not page.busy.isVisible(), timeout=10_000)


# -- models ----------------------------------------------------------------------------------------


def test_rule_models_pass_the_model_tester(qtmodeltester, admin) -> None:  # type: ignore[no-untyped-def]
    settings = RuleSettingsModel()
    qtmodeltester.check(settings)
    current = flags.show_rules(admin)
    from mapping_tool.ui.pages.rules import SettingRow

    settings.set_rows([SettingRow(n, SETTING_LABELS[n], v) for n, v in current.settings.items()])
    qtmodeltester.check(settings)
    assert settings.headerData(0, Qt.Orientation.Horizontal) == "Setting"
    assert settings.headerData(0, Qt.Orientation.Vertical) is None
    history = RuleHistoryModel()
    history.set_rows(history_rows(flags.rule_history(admin)))
    assert history.rowCount() == 1
    qtmodeltester.check(history)
    overrides = TierOverrideModel()
    qtmodeltester.check(overrides)


def test_values_are_shown_in_words() -> None:
    assert value_text("attendance_rate_below", 90.0) == "90"
    assert value_text("count_koorie", False) == "no"
    assert value_text("english_dimensions", ["ENGREA", "ENGWRI"]) == "English reading (ENGREA), English writing (ENGWRI)"
    assert value_text("population_statuses", ["ACTV", "INAC", "LVNG"]) == "current (ACTV), inactive (INAC), leaving (LVNG)"
    domains = {
        "attendance": ["flag_low_attendance", "flag_unapproved_absences"],
        "engagement": ["flag_suspension"],
    }
    assert (
        value_text("domains", domains)
        == "attendance: low attendance, unapproved absences; engagement: suspension"
    )
    assert edit_text("domains", domains).startswith('{"attendance": ["flag_low_attendance"')
    assert edit_text("english_dimensions", []) == ""


# -- the rules tab ------------------------------------------------------------------------------------


def test_rules_tab_shows_the_version_and_every_setting(rules_page: RulesPage) -> None:
    assert "Rule version 1" in rules_page.version_label.text()
    assert "Default rules" in rules_page.version_label.text()
    model = rules_page.settings_model
    assert model.rowCount() == len(SETTING_NAMES)
    labels = [model.index(r, SettingColumn.SETTING).data() for r in range(model.rowCount())]
    assert labels == [SETTING_LABELS[n] for n in SETTING_NAMES]
    assert rules_page.value_of("attendance_rate_below") == "90"
    assert rules_page.value_of("unapproved_days_at_least") == "10"
    assert rules_page.history_model.rowCount() == 1
    assert (
        rules_page.change_button.isVisible() and not rules_page.change_button.isEnabled()
    )  # nothing selected


def test_changing_the_attendance_threshold_makes_a_new_version(
    qtbot, rules_page: RulesPage, admin, monkeypatch, school: Path, store_key: bytes
) -> None:  # type: ignore[no-untyped-def]
    asked = _answer(monkeypatch, ("85", "Agreed by the wellbeing team on 12/08"))
    with qtbot.waitSignal(rules_page.changed, timeout=10_000) as signal:
        _change(qtbot, rules_page, "attendance_rate_below")
    assert signal.args == [2]
    assert asked == [(SETTING_LABELS["attendance_rate_below"], "90", "a number")]
    # the page: the new version, the setting updated, the history with who, why and what changed
    assert "Rule version 2" in rules_page.version_label.text()
    assert "Agreed by the wellbeing team" in rules_page.version_label.text()
    assert rules_page.value_of("attendance_rate_below") == "85"
    assert rules_page.selected_setting() == "attendance_rate_below"
    assert "Saved as rule version 2" in rules_page.message.text()
    top = [rules_page.history_model.index(0, c).data() for c in HistoryColumn]
    assert top[HistoryColumn.VERSION] == "v2" and top[HistoryColumn.WHO] == CUSTODIAN
    assert top[HistoryColumn.WHY] == "Agreed by the wellbeing team on 12/08"
    assert top[HistoryColumn.CHANGED] == f"{SETTING_LABELS['attendance_rate_below']}: 90 → 85"
    assert rules_page.history_model.rowCount() == 2
    # the store: the new version, and the flags recomputed under it
    assert flags.show_rules(admin).settings["attendance_rate_below"] == 85.0
    key = students.list_students(admin, fields=("student_key",), audit=False).column("student_key")[
        0
    ]
    assert flags.student_flags(admin, key).rule_version == 2
    assert (CUSTODIAN, "rules.changed", "2") in audit_actions(school, store_key)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (("85", "   "), "Say why the rule changes"),
        (("150", "A typing slip"), "must be a percentage from 0 to 100; 150.0 is out of range"),
        (("ninety", "Trying words"), "must be a number, not 'ninety'"),
    ],
    ids=["empty-reason", "out-of-range", "not-a-number"],
)
def test_a_refused_change_is_shown_and_changes_nothing(
    qtbot, rules_page: RulesPage, admin, monkeypatch, answer: tuple[str, str], expected: str
) -> None:  # type: ignore[no-untyped-def]
    _answer(monkeypatch, answer)
    _change(qtbot, rules_page, "attendance_rate_below")
    message = rules_page.message.text()
    assert message.startswith("Not changed:") and expected in message
    assert rules_page.message.isVisible()
    assert "Rule version 1" in rules_page.version_label.text()
    assert rules_page.value_of("attendance_rate_below") == "90"
    assert [v.version for v in flags.rule_history(admin)] == [1]
    assert rules_page.change_button.isEnabled()  # ready to try again


def test_a_cancelled_change_does_nothing(rules_page: RulesPage, admin, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    asked = _answer(monkeypatch, None)
    rules_page.select_setting("suspension_days_above")
    rules_page.change_button.click()
    assert len(asked) == 1
    assert not rules_page.busy.isVisible() and rules_page.job is None
    assert [v.version for v in flags.rule_history(admin)] == [1]


def test_the_change_dialog_needs_a_value_and_a_reason(qtbot) -> None:  # type: ignore[no-untyped-def]
    dialog = RuleChangeDialog("Low attendance: attendance rate below (%)", "90", "a number")
    qtbot.addWidget(dialog)
    assert dialog.value.text() == "90"
    assert not dialog.ok_button.isEnabled()
    dialog.reason.setPlainText("Agreed at the wellbeing meeting")
    assert dialog.ok_button.isEnabled()
    dialog.value.clear()
    assert not dialog.ok_button.isEnabled()


def test_only_the_custodian_changes_rules(qtbot, school: Path, store_key: bytes) -> None:  # type: ignore[no-untyped-def]
    welfare = open_session(school, store_key, WELFARE)
    try:
        page = RulesPage(welfare)
        qtbot.addWidget(page)
        page.show()
        assert not page.change_button.isVisible()
        assert page.settings_model.rowCount() == len(SETTING_NAMES)  # the rules are still readable
        page.select_setting("attendance_rate_below")
        page.change_selected()  # a stray double-click: nothing happens
        assert page.job is None
    finally:
        auth.sign_out(welfare)


# -- the overrides tab --------------------------------------------------------------------------------


def _override(admin) -> str:  # type: ignore[no-untyped-def]
    table = students.list_students(admin, fields=("student_key", "tier"), audit=False)
    key, tier = table.rows[0]
    target = "priority" if tier != "priority" else "monitor"
    flags.override_tier(admin, key, target, "Family asked the school for support")
    return key


def test_overrides_are_listed_and_cleared(
    qtbot, admin, monkeypatch, school: Path, store_key: bytes
) -> None:  # type: ignore[no-untyped-def]
    key = _override(admin)
    view = flags.list_overrides(admin)[0]
    panel = TierOverridesPanel(admin)
    qtbot.addWidget(panel)
    panel.show()
    model = panel.model
    assert model.rowCount() == 1
    cells = [model.index(0, c).data() for c in OverrideColumn]
    assert (
        cells[OverrideColumn.STUDENT].endswith(f"({key})") and "," in cells[OverrideColumn.STUDENT]
    )
    assert cells[OverrideColumn.TIER] == view.tier
    assert cells[OverrideColumn.THEN] == (view.computed_then or "–")
    assert cells[OverrideColumn.NOW] == (view.computed_now or "–")
    assert cells[OverrideColumn.REASON] == "Family asked the school for support"
    assert cells[OverrideColumn.BY] == CUSTODIAN
    assert cells[OverrideColumn.AT][2] == "/" and cells[OverrideColumn.AT][5] == "/"
    assert not panel.clear_button.isEnabled()

    panel.select_key(key)
    questions: list[str] = []

    def answer(reply):  # type: ignore[no-untyped-def]
        def question(_parent, _title, text, *a, **k):  # type: ignore[no-untyped-def]
            questions.append(text)
            return reply

        return staticmethod(question)

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    panel.clear_button.click()
    assert model.rowCount() == 1 and len(flags.list_overrides(admin)) == 1
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    panel.clear_button.click()
    assert key in questions[-1] and view.tier in questions[-1]
    assert model.rowCount() == 0
    assert flags.list_overrides(admin) == []
    assert "was cleared" in panel.status.text()
    assert (CUSTODIAN, "tier.override-cleared", key) in audit_actions(school, store_key)


def test_an_override_whose_computed_tier_moved_is_marked(qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from mapping_tool.ui.pages.rules import OverrideRow

    model = TierOverrideModel()
    model.set_rows(
        [
            OverrideRow(
                "ABC0001",
                "SMITH, Jo",
                "09",
                "09A",
                "priority",
                "monitor",
                "none",
                "Reason",
                "welfare",
                datetime(2026, 9, 1, 3, 0),
            ),
            OverrideRow(
                "ABC0002",
                "",
                "10",
                "10B",
                "monitor",
                "priority",
                "priority",
                "Reason",
                "welfare",
                datetime(2026, 9, 1, 3, 0),
            ),
        ]
    )
    qtmodeltester.check(model)
    assert model.index(0, OverrideColumn.NOW).data() == "none (changed)"
    assert model.index(0, OverrideColumn.NOW).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(1, OverrideColumn.NOW).data() == "priority"
    assert model.index(1, OverrideColumn.STUDENT).data() == "ABC0002"


def test_admin_page_tabs_for_the_custodian(qtbot, admin, monkeypatch, sync_runner) -> None:  # type: ignore[no-untyped-def]
    key = _override(admin)
    page = AdminPage(admin)
    qtbot.addWidget(page)
    page.show()
    assert page.tabs is not None
    assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
        "Accounts",
        "Who may see what",
        "Audit log",
        "Risk rules",
        "Tier overrides",
        "Records",
    ]
    overrides = page.show_tab(AdminPage.TAB_OVERRIDES)
    assert overrides is page.overrides and page.overrides.model.row_at(0).student_key == key  # type: ignore[union-attr]
    # a rule change refreshes the overrides' computed tier; the audit tab shows it when opened
    _answer(
        monkeypatch, ("0.5", "Flag only students a full level or more below... half a level now")
    )
    rules = page.show_tab(AdminPage.TAB_RULES)
    assert rules is page.rules_page
    with qtbot.waitSignal(page.rules_page.changed, timeout=10_000):  # type: ignore[union-attr]
        _change(qtbot, page.rules_page, "below_expected_levels")
    viewer = page.show_tab(AdminPage.TAB_AUDIT)
    assert viewer.model.row_at(0).action == "rules.changed"  # type: ignore[attr-defined]


def test_the_change_runs_off_the_ui_thread(qtbot, admin, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """With the real runner (no sync_runner): the service runs on the thread pool, the page
    stays responsive and shows the result when the job ends."""
    import threading

    threads: list[int] = []
    real_set_rule = flags.set_rule

    def spy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.get_ident())
        return real_set_rule(*args, **kwargs)

    monkeypatch.setattr(flags, "set_rule", spy)
    _answer(monkeypatch, ("12", "Regional attendance strategy"))
    page = RulesPage(admin)
    qtbot.addWidget(page)
    page.show()
    with qtbot.waitSignal(page.changed, timeout=10_000):
        _change(qtbot, page, "unapproved_days_at_least")
    assert threads and threads[0] != threading.get_ident()
    assert page.value_of("unapproved_days_at_least") == "12"
    assert flags.show_rules(admin).version == 2
