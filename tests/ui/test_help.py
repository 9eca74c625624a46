"""Help opens the user guide for the signed-in role, with its pictures (made from the demo
school by scripts/screenshots.py --guides)."""

from __future__ import annotations

import re

import pytest

from mapping_tool.security.roles import Role
from mapping_tool.ui.help import GUIDES, GuideDialog, guide_for
from mapping_tool.ui.main_window import MainWindow


@pytest.mark.parametrize("role", list(Role))
def test_every_role_has_a_guide_whose_pictures_exist(role: Role) -> None:
    path = guide_for(role.value)
    assert path.exists(), path
    text = path.read_text(encoding="utf-8")
    pictures = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert pictures, f"{path.name} shows no screen"
    for picture in pictures:
        assert (GUIDES / picture).exists(), picture
    assert "_" not in re.sub(r"`[^`]*`|\([^)]*\)", "", text), "a code where words belong"


def test_help_opens_the_guide_for_the_role(qtbot, teacher) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(teacher)
    qtbot.addWidget(window)
    window.show()
    window.guide_action.trigger()
    dialog = window.guide
    assert isinstance(dialog, GuideDialog) and dialog.isVisible()
    text = dialog.browser.toPlainText()
    assert "home group teachers" in text and "relationships concern" in text.lower()
    assert "Administration" not in text  # not the custodian's guide
