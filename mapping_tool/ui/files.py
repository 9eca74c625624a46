"""Where save dialogs start: the user's Documents folder (not the folder the program runs from)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths


def documents(name: str) -> str:
    """``name`` in the user's Documents folder (their home folder if there is none)."""
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation) or str(Path.home())
    return str(Path(folder) / name)
