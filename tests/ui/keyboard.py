"""Walk a window for Alt+letter mnemonics and report letters used twice among what is visible
together (a menu bar and the page below it, one dialog, one tab, one wizard page)."""

from __future__ import annotations

import re
from collections import defaultdict

from PySide6.QtWidgets import (
    QAbstractButton,
    QGroupBox,
    QLabel,
    QMainWindow,
    QTabBar,
    QTabWidget,
    QWidget,
)

_MNEMONIC = re.compile(r"(?<!&)&([^&\s])")


def mnemonic(text: str) -> str | None:
    match = _MNEMONIC.search(text.replace("&&", ""))
    return match.group(1).casefold() if match else None


def mnemonics(window: QWidget, extra: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """letter -> the texts that use it, over the widgets visible in ``window`` now (and
    ``extra`` texts shown with it, such as a wizard's buttons beside one of its pages)."""
    found: dict[str, list[str]] = defaultdict(list)

    def add(text: str) -> None:
        letter = mnemonic(text)
        if letter:
            found[letter].append(text)

    for text in extra:
        add(text)
    if isinstance(window, QMainWindow):
        for action in window.menuBar().actions():
            if action.isVisible():
                add(action.text())
    for w in window.findChildren(QWidget):
        if not w.isVisibleTo(window):
            continue
        if isinstance(w, QAbstractButton):
            add(w.text())
        elif isinstance(w, QLabel) and w.buddy() is not None and w.buddy().isVisibleTo(window):
            add(w.text())
        elif isinstance(w, QGroupBox):
            add(w.title())
        elif isinstance(w, QTabBar):
            for i in range(w.count()):
                if w.isTabVisible(i):
                    add(w.tabText(i))
    return dict(found)


def clashes(window: QWidget, extra: tuple[str, ...] = ()) -> dict[str, list[str]]:
    return {k: v for k, v in mnemonics(window, extra).items() if len(v) > 1}


def each_tab(window: QWidget):  # type: ignore[no-untyped-def]
    """Yield once per combination of visible tab pages (each tab widget's tabs in turn)."""
    yield "(as opened)"
    for tabs in window.findChildren(QTabWidget):
        if not tabs.isVisibleTo(window):
            continue
        before = tabs.currentIndex()
        for i in range(tabs.count()):
            if tabs.isTabEnabled(i):
                tabs.setCurrentIndex(i)
                yield f"tab {tabs.tabText(i)!r}"
        tabs.setCurrentIndex(before)
