"""A student-like record with a unique marker name never appears in clear anywhere on disk:
the store folder (db, WAL, key files), a backup, the log folder or the temp folder."""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from pathlib import Path

from mapping_tool.services import backup
from mapping_tool.store.models import Student


def _files_with(marker: bytes, roots: list[Path], since: float) -> list[str]:
    hits = []
    for root in roots:
        if not root.exists():
            continue
        for path in root.rglob("*"):
            try:
                if not path.is_file() or path.stat().st_mtime < since or path.stat().st_size > 300_000_000:
                    continue
                if marker in path.read_bytes():
                    hits.append(str(path))
            except OSError:
                continue
    return hits


def test_marker_student_is_never_on_disk_in_clear(custodian, store_dir: Path, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    started = time.time() - 1
    marker = f"ZQX{uuid.uuid4().hex[:12].upper()}"
    with custodian.store.write() as session:
        session.add(
            Student(student_key="MRK0001", surname=marker, first_name=marker.lower(), year_level="07", home_group="07A")
        )
    # While the store is open the change may sit in the WAL: check it there too.
    open_hits = _files_with(marker.encode(), [store_dir], started)

    from mapping_tool.ui.main_window import MainWindow

    window = MainWindow(custodian)
    qtbot.addWidget(window)
    window.show()
    for i in range(window.nav.count()):
        window.nav.setCurrentRow(i)
    out = tmp_path / "backup-out" / "term.smtbackup"
    out.parent.mkdir()
    backup.backup(custodian, out)
    window.close()

    roots = [store_dir, out.parent, Path(os.environ["MAPPING_TOOL_LOG_DIR"]), Path(tempfile.gettempdir())]
    hits = open_hits + _files_with(marker.encode(), roots, started)
    hits += _files_with(marker.lower().encode(), roots, started)
    hits += _files_with(marker.encode("utf-16-le"), roots, started)
    assert hits == []
    assert any(p.name == "smt.db" for p in store_dir.iterdir())
