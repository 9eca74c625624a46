"""The import wizard and the Imports page, driven through their own widgets with a real store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from importers.demo import generate_demo_extract
from mapping_tool.ui.pages.imports import ImportsPage, ImportWizard

EXTRACT_DATE = date(2026, 9, 18)


@pytest.fixture(scope="module")
def eduhub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ui-eduhub") / "eduhub"
    generate_demo_extract(folder, students=40, extract_date=EXTRACT_DATE, years=1, seed=5)
    return folder


def _check(qtbot, wizard: ImportWizard, folder: Path) -> None:  # type: ignore[no-untyped-def]
    wizard.folder.setText(str(folder))
    wizard.next_button.click()
    qtbot.waitUntil(lambda: wizard.pages.currentIndex() == ImportWizard.PAGE_CHECK, timeout=30000)


def test_wizard_checks_imports_and_summarises(qtbot, custodian, sync_runner, eduhub: Path) -> None:  # type: ignore[no-untyped-def]
    page = ImportsPage(custodian)
    qtbot.addWidget(page)
    assert page.model.rowCount() == 0 and not page.empty.isHidden()
    wizard = ImportWizard(custodian, page)
    qtbot.addWidget(wizard)
    wizard.imported.connect(page._imported)
    _check(qtbot, wizard, eduhub)
    found = wizard.found.text()
    assert "8123" in found and "18/09/2026" in found and "Ready to import" in found
    assert "SXAB_8123.csv" in found
    assert wizard.next_button.isEnabled()
    with qtbot.waitSignal(wizard.imported, timeout=60000):
        wizard.next_button.click()
    assert wizard.pages.currentIndex() == ImportWizard.PAGE_DONE
    assert "students in the extract" in wizard.summary.text()
    assert page.model.rowCount() == 1
    assert page.model.index(0, 0).data() == "18/09/2026"


def test_snapshot_model_passes_the_model_tester(qtbot, qtmodeltester, custodian, eduhub: Path) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import imports

    imports.import_cases21(custodian, eduhub)
    page = ImportsPage(custodian)
    qtbot.addWidget(page)
    qtmodeltester.check(page.model)
    assert page.model.rowCount() == 1


def test_cancel_during_the_import_saves_nothing(qtbot, custodian, sync_runner, eduhub: Path) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import imports

    wizard = ImportWizard(custodian)
    qtbot.addWidget(wizard)
    _check(qtbot, wizard, eduhub)

    def cancel_on_attendance(fraction: float, text: str) -> None:
        if "attendance" in text.lower():
            wizard.cancel_button.click()

    wizard.next_button.click()
    assert wizard.job is not None
    wizard.job.progress.connect(cancel_on_attendance)
    qtbot.waitUntil(lambda: wizard.pages.currentIndex() == ImportWizard.PAGE_CHECK, timeout=60000)
    assert "nothing was changed" in wizard.found.text()
    assert imports.list_snapshots(custodian) == []


def test_a_folder_that_is_not_an_extract_says_so(qtbot, custodian, sync_runner, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    wizard = ImportWizard(custodian)
    qtbot.addWidget(wizard)
    (tmp_path / "notes.txt").write_text("hello")
    wizard.folder.setText(str(tmp_path))
    wizard.next_button.click()
    qtbot.waitUntil(lambda: bool(wizard.choose_message.text()) and "Checking" not in wizard.choose_message.text(), timeout=30000)
    assert wizard.pages.currentIndex() == ImportWizard.PAGE_CHOOSE
    assert "eduHub" in wizard.choose_message.text() or "no" in wizard.choose_message.text().lower()


def test_only_the_custodian_can_start_an_import(qtbot, teacher) -> None:  # type: ignore[no-untyped-def]
    page = ImportsPage(teacher)
    qtbot.addWidget(page)
    assert not page.import_button.isEnabled()


def test_back_after_a_failed_check_and_a_new_folder_can_check_again(qtbot, custodian, sync_runner, eduhub: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(eduhub, broken)
    for st in broken.glob("ST_*"):
        st.write_text("nonsense\n", encoding="utf-8")
    wizard = ImportWizard(custodian)
    qtbot.addWidget(wizard)
    wizard.folder.setText(str(broken))
    wizard.next_button.click()
    qtbot.waitUntil(lambda: "Checking" not in wizard.choose_message.text(), timeout=30000)
    if wizard.pages.currentIndex() == ImportWizard.PAGE_CHECK:  # problems listed: Import is greyed
        assert not wizard.next_button.isEnabled()
        wizard.back_button.click()
    assert wizard.pages.currentIndex() == ImportWizard.PAGE_CHOOSE
    assert wizard.next_button.isEnabled() and wizard.next_button.text() == "&Check the files"
    _check(qtbot, wizard, eduhub)
    assert wizard.next_button.isEnabled() and "Ready to import" in wizard.found.text()


def test_cancel_is_usable_again_after_a_cancelled_import(qtbot, custodian, sync_runner, eduhub: Path) -> None:  # type: ignore[no-untyped-def]
    wizard = ImportWizard(custodian)
    qtbot.addWidget(wizard)
    _check(qtbot, wizard, eduhub)
    wizard.next_button.click()
    wizard.job.progress.connect(lambda f, t: wizard.cancel_button.click() if "attendance" in t.lower() else None)
    qtbot.waitUntil(lambda: wizard.pages.currentIndex() == ImportWizard.PAGE_CHECK, timeout=60000)
    assert wizard.cancel_button.isEnabled() and not wizard.cancel_button.isHidden()
    assert wizard.next_button.isEnabled()  # the import can be tried again


def test_the_wizard_remembers_the_last_folder_and_is_compact(qtbot, custodian, sync_runner, eduhub: Path) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.paths import settings_dir

    first = ImportWizard(custodian)
    qtbot.addWidget(first)
    assert first.folder.text() == ""
    assert first.minimumWidth() <= 560 and first.height() <= 400
    _check(qtbot, first, eduhub)
    again = ImportWizard(custodian)
    qtbot.addWidget(again)
    assert again.folder.text() == str(eduhub.resolve())
    saved = (settings_dir() / "imports.ini").read_text(encoding="utf-8")
    assert "last_eduhub_folder" in saved
    # only the folder: nothing from the extract (no school number, names or keys)
    assert saved.count("\n") <= 3 and "8123" not in saved.replace(str(eduhub.resolve()), "")


def test_the_data_quality_report_is_grouped_in_words_on_the_page(qtbot, custodian, eduhub: Path) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import data_quality, imports

    imports.import_cases21(custodian, eduhub)
    snap = imports.list_snapshots(custodian)[0]
    raw = imports.snapshot_findings(custodian, snap.id)
    groups = data_quality.grouped_findings(custodian, snap.id)
    assert raw and groups
    assert len(groups) == len({(r[0], r[1]) for r in raw})  # one group per kind, not one per student
    page = ImportsPage(custodian)
    qtbot.addWidget(page)
    page.show()
    page.show_report()
    text = page.report.toPlainText()
    assert "Data quality of the extract of 18/09/2026" in text
    for group in groups:
        assert group.kind in text
    for code in ("no_home_group", "occupation_unknown", "HOME_GROUP", "ENGREA", "VDIMENSION", "missing_strand_results"):
        assert code not in text
    named = [g for g in groups if g.students]
    if named:  # students by name and home group, not by key alone
        assert "home group" in named[0].students[0] or "no home group" in named[0].students[0]
        assert named[0].students[0] in text


def test_scoped_roles_do_not_see_the_school_wide_report(qtbot, teacher) -> None:  # type: ignore[no-untyped-def]
    page = ImportsPage(teacher)
    qtbot.addWidget(page)
    assert page.report.isHidden()


def test_a_finding_about_one_student_reads_as_a_sentence() -> None:
    from mapping_tool.services.data_quality import words

    assert words("Line 3 of ST_8123.csv: the HOME_GROUP is blank; ENGREA missing") == "Line 3 of ST_8123.csv: the home group is blank; English reading missing"
