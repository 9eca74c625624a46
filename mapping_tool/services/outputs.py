"""The one way the tool writes a file a user named: an export, a report, a form, a backup.

A path inside the store folder (after resolving links) is refused, so an export can never
overwrite the store, its key file, its anchor or its sign-in state. A symlink at the target is
refused (the tool never writes through a link it did not create). The content goes to a new temp
file in the target folder and is renamed into place, so a failed write leaves nothing behind and
the old file intact. An existing file is replaced only when the caller says so: the window after
asking, the command line with ``--force``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mapping_tool.errors import StoreError, UsageError


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def check_output_path(path: Path, *, store_folder: Path | None, replace: bool = False) -> Path:
    """The checked target for ``path``; raises a one-sentence UsageError when it may not be written."""
    path = Path(path).expanduser()
    parent = path.parent
    if not parent.exists() or not parent.is_dir():
        raise UsageError(f"The folder {parent} does not exist.")
    if path.is_symlink():
        raise UsageError(f"{path.name} is a link to another file; choose a plain file name.")
    target = parent.resolve() / path.name
    if store_folder is not None:
        store = Path(store_folder).resolve()
        if _inside(target, store):
            raise UsageError(
                "Files cannot be saved inside the store folder; choose another folder, such as Documents."
            )
    if target.exists():
        if target.is_dir():
            raise UsageError(f"{path.name} is a folder; choose a file name.")
        if not replace:
            raise UsageError(f"{path.name} already exists; choose another name, or add --force to replace it.")
    return target


@contextmanager
def atomic_output(path: Path, *, store_folder: Path | None, replace: bool = False) -> Iterator[Path]:
    """Yield a temp path in the target folder; when the block succeeds it is renamed onto the
    target (checked first with :func:`check_output_path`). On failure nothing is left behind."""
    target = check_output_path(path, store_folder=store_folder, replace=replace)
    # the temp name ends like the target, so that a library that checks the suffix (openpyxl) takes it
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{target.suffix}", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        if target.is_symlink():  # appeared while writing
            raise UsageError(f"{target.name} became a link while it was being written; nothing was saved.")
        os.replace(tmp, target)
    except OSError as exc:
        raise StoreError(f"The file {target.name} could not be written: {exc.strerror or exc}.") from exc
    finally:
        tmp.unlink(missing_ok=True)
