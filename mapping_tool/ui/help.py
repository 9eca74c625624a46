"""Help: the user guide for the signed-in role (docs/guides/*.md, with pictures made from the demo
school by scripts/screenshots.py --guides), shown in the app."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

GUIDES = Path(__file__).resolve().parents[2] / "docs" / "guides"
GUIDE_FOR_ROLE = {
    "custodian": "custodian.md",
    "principal": "welfare-and-coordinators.md",
    "welfare": "welfare-and-coordinators.md",
    "year-level-coordinator": "welfare-and-coordinators.md",
    "home-group-teacher": "teachers.md",
}


def guide_for(role_value: str) -> Path:
    return GUIDES / GUIDE_FOR_ROLE.get(role_value, "welfare-and-coordinators.md")


class GuideDialog(QDialog):
    def __init__(self, role_value: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("User guide – Student Mapping Tool")
        layout = QVBoxLayout(self)
        self.browser = QTextBrowser()
        self.browser.setAccessibleName("User guide")
        self.browser.setOpenExternalLinks(False)
        path = guide_for(role_value)
        if path.exists():
            self.browser.setSearchPaths([str(path.parent)])
            self.browser.setSource(QUrl.fromLocalFile(str(path)), QTextDocument.ResourceType.MarkdownResource)
        else:
            self.browser.setPlainText(
                "The user guide is not installed with this copy of the tool. Ask the data custodian for the guides "
                "(docs/guides in the tool's folder)."
            )
        layout.addWidget(self.browser, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        screen = self.screen().availableGeometry() if self.screen() else None
        self.resize(min(860, screen.width() - 40) if screen else 860, min(700, screen.height() - 60) if screen else 700)
