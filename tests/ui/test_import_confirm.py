"""The import wizard asks for confirmation before an implausible refresh (issue 11, item 12)."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from importers.demo import generate_demo_extract
from mapping_tool.services import imports
from mapping_tool.ui.pages.imports import ImportWizard
from tests.services.test_imports import edit_table

SHOTS = os.environ.get("SMT_SHOT_IMPORT_CONFIRM", "")  # a PNG path to look at the page


@pytest.fixture(scope="module")
def eduhub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("ui-confirm") / "eduhub"
    generate_demo_extract(folder, students=30, extract_date=date(2026, 9, 18), years=1, seed=7)
    return folder


def test_an_implausible_refresh_needs_the_tick_box(qtbot, custodian, sync_runner, eduhub: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    imports.import_cases21(custodian, eduhub)
    later = tmp_path / "later"
    shutil.copytree(eduhub, later)
    keys: list[str] = []
    edit_table(later, "ST_8123.csv", lambda rows: keys.extend(r["STKEY"] for r in rows) or rows)

    def another_child(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        for r in rows:
            if r["STKEY"] == keys[3]:
                r["FIRST_NAME"], r["BIRTHDATE"] = "Quinlan", "3/03/2011 12:00:00 AM"
        return rows

    for name in ("ST_8123.csv", "ST_8123_D.csv"):
        if (later / name).exists():
            edit_table(later, name, another_child)
    wizard = ImportWizard(custodian)
    qtbot.addWidget(wizard)
    wizard.resize(1024, 768)
    wizard.folder.setText(str(later))
    wizard.next_button.click()
    qtbot.waitUntil(lambda: wizard.pages.currentIndex() == ImportWizard.PAGE_CHECK, timeout=30000)

    assert "This refresh looks implausible" in wizard.found.text()
    assert f"({keys[3]}) now belongs to a different child" in wizard.found.text()
    assert not wizard.confirm.isHidden() and not wizard.confirm.isChecked()
    if SHOTS:
        wizard.show()
        wizard.grab().save(SHOTS)
    assert not wizard.next_button.isEnabled()
    wizard.confirm.setChecked(True)
    assert wizard.next_button.isEnabled()
    with qtbot.waitSignal(wizard.imported, timeout=60000):
        wizard.next_button.click()
    assert wizard.result.replaced == ((keys[3], f"{keys[3]}~1"),)
