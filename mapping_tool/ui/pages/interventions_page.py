"""The Interventions page's frame: a heading and four tabs (catalogue and capacity, evaluation,
grid, meeting mode), in a module small enough that choosing the page in the navigation answers
at once; the tabs (``interventions.py``, ``meeting.py``) are imported and built just after the
page shows, and their data is fetched off the UI thread once the page has stayed on screen.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout, QWidget

# the first fetch waits this long after the tabs are built, so that passing over the page in
# the navigation (arrow keys through the sections) starts no work
FIRST_LOAD_DELAY_MS = 60


class InterventionsPage(QWidget):
    """Catalogue, evaluation, grid and meeting mode in tabs; each reloads when the data changed."""

    built = Signal()

    def __init__(self, session: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(QLabel("<h2>Interventions</h2>"))
        self.tabs = QTabWidget()
        layout.addWidget(self.tabs, 1)
        self.tabs_list: tuple[Any, ...] = ()
        QTimer.singleShot(0, self, self._build)  # never after the page is gone

    def _build(self) -> None:
        if self.tabs_list:
            return
        from mapping_tool.ui.pages.interventions import CatalogueTab, EvaluationTab, GridTab
        from mapping_tool.ui.pages.meeting import MeetingTab

        session = self.session
        self.catalogue = CatalogueTab(session)
        self.evaluation = EvaluationTab(session)
        self.grid = GridTab(session)
        self.meeting = MeetingTab(session)
        for tab, title in ((self.catalogue, "&Catalogue and capacity"), (self.evaluation, "&Evaluation"),
                           (self.grid, "&Grid"), (self.meeting, "&Meeting mode")):
            self.tabs.addTab(tab, title)
            tab.changed.connect(self.data_changed)
        self.tabs.currentChanged.connect(lambda _i: self._load_current())
        self.tabs_list = (self.catalogue, self.evaluation, self.grid, self.meeting)
        QTimer.singleShot(FIRST_LOAD_DELAY_MS, self, self._first_load)
        self.built.emit()

    def _first_load(self) -> None:
        if self.isVisible():
            self._load_current()  # hidden meanwhile: the next showEvent loads

    def data_changed(self) -> None:
        for tab in self.tabs_list:
            tab.stale = True
        self._load_current()

    def _load_current(self) -> None:
        tab = self.tabs.currentWidget()
        if getattr(tab, "stale", False):
            tab.load()  # type: ignore[attr-defined]

    def showEvent(self, event: Any) -> None:  # noqa: N802
        """Shown again: another page may have mapped students meanwhile."""
        super().showEvent(event)
        for tab in self.tabs_list:
            tab.stale = True
        if self.tabs_list:
            self._load_current()
