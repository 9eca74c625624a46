"""A table of rows read with the keyboard: Tab leaves it, arrows move in it, and reaching it with
Tab selects the row it is on, so Enter and the page's buttons act on what the focus shows."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QAbstractItemView, QTableView

_KEYBOARD = (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason, Qt.FocusReason.ShortcutFocusReason)


class RowTableView(QTableView):
    """One row selected at a time, not edited in place. Without this, the first row only has a
    focus frame when Tab arrives: Down skips to the second row and Enter acts on nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        super().focusInEvent(event)
        model, chosen = self.model(), self.selectionModel()
        if event.reason() not in _KEYBOARD or model is None or chosen is None or chosen.hasSelection():
            return
        if model.rowCount() > 0:
            current = self.currentIndex()
            self.selectRow(current.row() if current.isValid() else 0)
