"""A table whose first columns (the student's name) stay in place while the others scroll.

Qt's frozen-column pattern: a second view over the same model and selection model, laid over the
left edge of the main view, showing only the frozen columns and following its vertical scrolling.
The frozen columns must be the leftmost ones on screen (the Students page puts the name first).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHeaderView, QTableView, QWidget


class FrozenColumnsTableView(QTableView):
    def __init__(self, frozen: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.frozen_names = tuple(frozen)
        self.frozen = QTableView(self)
        self.frozen.setObjectName("frozenColumns")
        self.frozen.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.frozen.verticalHeader().hide()
        self.frozen.setFrameShape(QFrame.Shape.NoFrame)
        self.frozen.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.frozen.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.frozen.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.frozen.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.frozen.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.frozen.setWordWrap(False)
        self.frozen.setTabKeyNavigation(False)
        self.frozen.setStyleSheet("QTableView#frozenColumns { border-right: 1px solid palette(mid); }")
        fh = self.frozen.horizontalHeader()
        fh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        fh.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        fh.setHighlightSections(False)
        fh.setSortIndicatorShown(True)
        fh.sectionClicked.connect(self._frozen_header_clicked)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.viewport().stackUnder(self.frozen)
        self.horizontalHeader().sectionResized.connect(self._section_resized)
        self.horizontalHeader().sortIndicatorChanged.connect(lambda section, order: fh.setSortIndicator(section, order))
        self.horizontalHeader().geometriesChanged.connect(self._update_geometry)
        self.frozen.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.verticalScrollBar().valueChanged.connect(self.frozen.verticalScrollBar().setValue)
        self.frozen.activated.connect(self.activated)
        self.frozen.doubleClicked.connect(self.doubleClicked)
        self.frozen.clicked.connect(lambda _i: self.setFocus(Qt.FocusReason.MouseFocusReason))

    # -- keeping the overlay in step ---------------------------------------------------------
    def setModel(self, model: QAbstractItemModel | None) -> None:  # noqa: N802
        super().setModel(model)
        self.frozen.setModel(model)
        self.frozen.setSelectionModel(self.selectionModel())
        if model is not None:
            model.modelReset.connect(self.sync_columns)
            model.layoutChanged.connect(self.sync_columns)
        self.sync_columns()

    def setColumnHidden(self, column: int, hide: bool) -> None:  # noqa: N802
        super().setColumnHidden(column, hide)
        self.sync_columns()

    def _frozen_columns(self) -> list[int]:
        """The leading columns on screen that are frozen (in screen order)."""
        model = self.model()
        if model is None:
            return []
        names = [model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.UserRole) for c in range(model.columnCount())]
        header = self.horizontalHeader()
        leading: list[int] = []
        for visual in range(header.count()):
            logical = header.logicalIndex(visual)
            if self.isColumnHidden(logical):
                continue
            if names[logical] not in self.frozen_names:
                break
            leading.append(logical)
        return leading

    def sync_columns(self) -> None:
        model = self.model()
        if model is None:
            return
        leading = set(self._frozen_columns())
        for c in range(model.columnCount()):
            self.frozen.setColumnHidden(c, c not in leading)
            if c in leading:
                self.frozen.setColumnWidth(c, self.columnWidth(c))
        self.frozen.verticalHeader().setDefaultSectionSize(self.verticalHeader().defaultSectionSize())
        self.frozen.setAlternatingRowColors(self.alternatingRowColors())
        self.frozen.setVisible(bool(leading))
        self._update_geometry()

    def frozen_width(self) -> int:
        return sum(self.columnWidth(c) for c in self._frozen_columns())

    def _section_resized(self, logical: int, _old: int, new: int) -> None:
        if logical in self._frozen_columns():
            self.frozen.setColumnWidth(logical, new)
        self._update_geometry()

    def _update_geometry(self) -> None:
        self.frozen.horizontalHeader().setFixedHeight(self.horizontalHeader().height())
        left = self.frameWidth() + (self.verticalHeader().width() if self.verticalHeader().isVisible() else 0)
        self.frozen.setGeometry(left, self.frameWidth(), self.frozen_width(),
                                self.viewport().height() + self.horizontalHeader().height())

    def _frozen_header_clicked(self, logical: int) -> None:
        header = self.horizontalHeader()
        order = Qt.SortOrder.AscendingOrder
        if header.sortIndicatorSection() == logical and header.sortIndicatorOrder() == order:
            order = Qt.SortOrder.DescendingOrder
        self.sortByColumn(logical, order)

    # -- Qt overrides ------------------------------------------------------------------------
    def resizeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        super().resizeEvent(event)
        self._update_geometry()

    def moveCursor(self, action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier) -> QModelIndex:  # noqa: N802
        current = super().moveCursor(action, modifiers)
        width = self.frozen_width()
        if current.isValid() and current.column() not in self._frozen_columns():
            x = self.visualRect(current).topLeft().x()
            if x < width:
                bar = self.horizontalScrollBar()
                bar.setValue(bar.value() + x - width)
        return current

    def scrollTo(self, index: QModelIndex, hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible) -> None:  # noqa: N802
        if index.isValid() and index.column() in self._frozen_columns():
            # keep the horizontal position: the frozen columns are always in view
            bar = self.horizontalScrollBar()
            value = bar.value()
            super().scrollTo(index, hint)
            bar.setValue(value)
            return
        super().scrollTo(index, hint)
