"""Screenshots of every page for each role, from a fresh demo school (so they never go stale).

    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py OUT_DIR [--size 1024x768] [--students 120]
    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py --guides   # the user guides' pictures

Writes OUT_DIR/<role>-<page>.png and prints each page's minimum width (the window must fit
1024x768). Used for docs/guides (the user guides) and to look at the screens at both sizes.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser()
    parser.add_argument("out", nargs="?", default=str(ROOT / "docs" / "guides" / "images"))
    parser.add_argument("--guides", action="store_true", help="only the pictures the user guides show, 800 px wide")
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--students", type=int, default=120)
    parser.add_argument("--roles", default="custodian,welfare,coordinator,teacher,principal")
    parser.add_argument("--panel", action="store_true", help="also open a student on the Students page")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    keep = None
    if args.guides:
        args.panel = True
        args.roles = "custodian,welfare,teacher"
        keep = set(GUIDE_PICTURES)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from mapping_tool.demo import create_demo_store
    from mapping_tool.services import auth
    from mapping_tool.ui.app import make_app
    from mapping_tool.ui.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="smt-shots-"))
    try:
        demo = create_demo_store(work / "store", students=args.students, say=lambda _t: None)
        app = make_app()
        passwords = {a.username: a.password for a in demo.accounts}
        for role in args.roles.split(","):
            session = auth.sign_in(demo.folder, role, passwords[role])
            window = MainWindow(session)
            window.resize(width, height)
            window.show()
            app.processEvents()
            for row in range(window.nav.count()):
                name = window.nav.item(row).text()
                window.nav.setCurrentRow(row)
                _settle(app)
                page = window.stack.currentWidget()
                slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
                _save(window, out / f"{role}-{slug}.png", keep)
                print(f"{role:12} {name:16} page min width {page.minimumSizeHint().width():5}  window min {window.minimumSizeHint().width()}x{window.minimumSizeHint().height()}")
                if args.panel and name == "Students" and getattr(page, "model", None) is not None and page.model.rowCount():
                    flagged = [r for r in range(page.model.rowCount()) if (page.model.row_values(r).get("flag_count") or 0) >= 2]
                    row = flagged[0] if flagged else 0
                    page.select_key(page.model.key_at(row))
                    page.open_student(page.model.key_at(row))
                    _settle(app)
                    _save(window, out / f"{role}-{slug}-student.png", keep)
                    print(f"{role:12} {'(student open)':16} page min width {page.minimumSizeHint().width():5}")
            window.close()
            app.processEvents()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


GUIDE_PICTURES = (
    "custodian-imports.png", "custodian-administration.png",
    "welfare-students.png", "welfare-students-student.png", "welfare-reports.png", "teacher-students.png",
)


def _save(window, path: Path, keep: set[str] | None) -> None:  # type: ignore[no-untyped-def]
    if keep is not None and path.name not in keep:
        return
    image = window.grab()
    if keep is not None:  # small enough for the repository, sharp enough to read
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QImage

        small = image.scaledToWidth(800, Qt.TransformationMode.SmoothTransformation).toImage()
        small.convertToFormat(QImage.Format.Format_Indexed8).save(str(path))
        return
    image.save(str(path))


def _settle(app) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QThreadPool

    for _ in range(40):
        app.processEvents()
        QThreadPool.globalInstance().waitForDone(50)
    app.processEvents()


if __name__ == "__main__":
    raise SystemExit(main())
