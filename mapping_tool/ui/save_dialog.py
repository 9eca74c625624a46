"""Asking where to save a file: the one place the window chooses a path a user names.

The file dialog's own overwrite question is turned off so that the question is always ours and
always asked, also when the tool adds the file's ending after the dialog closed (``list`` ->
``list.xlsx``, which may exist). What comes back says whether the user agreed to replace an
existing file; the service then writes through ``mapping_tool.services.outputs`` with that answer,
which still refuses the store folder and links whatever the answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget


@dataclass(frozen=True)
class SaveTarget:
    path: Path
    replace: bool  # the user agreed to replace the file that is there


def ask_save_path(
    parent: QWidget, title: str, name: str, filters: str, suffixes: Sequence[str] = ()
) -> SaveTarget | None:
    """The chosen path (with the first of ``suffixes`` added when it has none of them), or None
    when the user cancelled or would not replace an existing file."""
    from mapping_tool.ui.files import documents

    start = name if Path(name).parent != Path(".") else documents(name)  # a bare name starts in Documents
    text, _ = QFileDialog.getSaveFileName(
        parent, title, start, filters, options=QFileDialog.Option.DontConfirmOverwrite
    )
    if not text:
        return None
    path = Path(text)
    if suffixes and path.suffix.lower() not in suffixes:
        path = path.with_suffix(suffixes[0])
    if not (path.exists() or path.is_symlink()):
        return SaveTarget(path, False)
    if path.is_dir():
        return SaveTarget(path, False)  # the service says it is a folder
    answer = QMessageBox.question(
        parent,
        "Replace the file?",
        f"{path.name} already exists in {path.parent}. Replace it?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    if answer != QMessageBox.StandardButton.Yes:
        return None
    return SaveTarget(path, True)
