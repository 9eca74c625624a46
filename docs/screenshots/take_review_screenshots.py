"""Take screenshots of the review screen (issue 5): the student table with filters set, the
student panel of a flagged student with its charts, the cohort page, and page 1 of the printed
list (PDF rendered with pdftoppm when it is installed).

    xvfb-run -s "-screen 0 1600x1000x24" python docs/screenshots/take_review_screenshots.py
    QT_QPA_PLATFORM=offscreen python docs/screenshots/take_review_screenshots.py

A throw-away store in a temp folder gets a demo school (two refreshes, so that the charts have a
history); the PNGs are written beside this script (or into the folder given as the first argument).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent
TEMP = Path(tempfile.mkdtemp(prefix="smt-review-screens-"))
for name, sub in (("MAPPING_TOOL_LOG_DIR", "logs"), ("MAPPING_TOOL_SETTINGS_DIR", "settings")):
    os.environ[name] = str(TEMP / sub)
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
if not os.environ.get("DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from importers.demo import generate_demo_extract  # noqa: E402
from mapping_tool.security.roles import Role  # noqa: E402
from mapping_tool.services import accounts, auth, flags, imports, notes  # noqa: E402
from mapping_tool.ui.app import make_app  # noqa: E402

CUSTODIAN, CUSTODIAN_PW = "jnguyen", "harbour-tulip-engine-73"
RECOVERY = "purple kettles argue softly beneath nine lanterns"
WELFARE, WELFARE_PW = "aroberts", "saffron-glacier-piano-64"
SIZE = (1440, 880)


def settle(app: QApplication, ms: int = 200) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    app.processEvents()


def wait_for(app: QApplication, condition, timeout_ms: int = 20000) -> None:  # type: ignore[no-untyped-def]
    waited = 0
    while not condition() and waited < timeout_ms:
        settle(app, 50)
        waited += 50
    if not condition():
        raise SystemExit("timed out waiting for the window")


def save(app: QApplication, widget: QWidget, name: str) -> Path:
    settle(app, 300)
    path = OUT / f"{name}.png"
    widget.grab().save(str(path))
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}  {widget.width()}x{widget.height()}")
    return path


def make_school(folder: Path) -> None:
    auth.init_store(
        folder,
        auth.InitRequest(
            school_number="8765",
            school_name="Riverbend Secondary College",
            principal_name="Dr Sam Okafor",
            authorised_on=date(2026, 2, 3),
            custodian_username=CUSTODIAN,
            custodian_password=CUSTODIAN_PW,
            recovery_passphrase=RECOVERY,
            custodian_display_name="Jo Nguyen",
            custodian_position="Assistant Principal",
        ),
    )
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PW)
    try:
        accounts.add_user(user, WELFARE, Role.WELFARE, WELFARE_PW, display_name="Alex Roberts", position="Wellbeing Coordinator")
        for extract_date in (date(2026, 6, 19), date(2026, 9, 18)):
            extract = TEMP / f"eduhub-{extract_date}"
            generate_demo_extract(extract, students=600, school_number="8765", extract_date=extract_date, years=1, seed=11)
            imports.import_cases21(user, extract)
    finally:
        auth.sign_out(user)
    welfare = auth.sign_in(folder, WELFARE, WELFARE_PW)
    try:
        auth.change_password(welfare, WELFARE_PW, "quiet-orchard-bicycle-58")
    finally:
        auth.sign_out(welfare)


def pick_student(session) -> str:  # type: ignore[no-untyped-def]
    """A year 9 student flagged in two domains whose attendance fell: the panel has a story to tell."""
    from mapping_tool.services import students

    table = students.list_students(session, audit=False)
    c = {name: i for i, name in enumerate(table.columns)}
    best = sorted(
        (r for r in table.rows if r[c["tier"]] == "priority" and r[c["year_level"]] == "09"),
        key=lambda r: (-(r[c["flag_count"]] or 0), r[c["attendance_rate_change"]] or 0),
    )
    return best[0][c["student_key"]]


def main() -> None:
    from mapping_tool.ui.main_window import MainWindow
    from mapping_tool.ui.pages.students import ReviewFilter

    store = TEMP / "store"
    make_school(store)
    app = make_app()
    session = auth.sign_in(store, WELFARE, "quiet-orchard-bicycle-58")
    key = pick_student(session)
    from mapping_tool.services import students

    table = students.list_students(session, audit=False)
    c = {name: i for i, name in enumerate(table.columns)}
    raised = next(r[c["student_key"]] for r in table.rows if r[c["tier"]] == "monitor" and r[c["year_level"]] == "09")
    flags.override_tier(session, raised, "priority", "Family circumstances discussed at the wellbeing meeting")
    notes.add_note(session, key, "Met with parent on Tuesday; agreed a weekly check-in with the year level coordinator.")
    custodian = auth.sign_in(store, CUSTODIAN, CUSTODIAN_PW)
    notes.add_note(custodian, key, "Child protection report made (see the welfare file).", sensitive=True)
    auth.sign_out(custodian)

    window = MainWindow(session)
    window.resize(*SIZE)
    window.show()
    page = window.show_page("Students")
    wait_for(app, lambda: page.model.total() > 0)
    page.set_filter_state(ReviewFilter(year_level="09", tier="flagged"))
    page.table.sortByColumn(page.model.column_index("flag_count"), page.table.horizontalHeader().sortIndicatorOrder().DescendingOrder)
    settle(app)
    save(app, window, "review_01_students_filtered")

    page.select_key(key)
    page.open_selected()
    wait_for(app, lambda: page.panel.data is not None and page.panel.data.key == key)
    save(app, window, "review_02_student_panel")
    page.panel.scroll.verticalScrollBar().setValue(page.panel.scroll.verticalScrollBar().maximum())
    save(app, window, "review_03_student_panel_notes")

    cohort = window.show_page("Reports")
    wait_for(app, lambda: cohort.cohort is not None)
    save(app, window, "review_04_cohort")

    from mapping_tool.ui import printing

    pdf = TEMP / "students.pdf"
    page.panel.closed.emit()
    printing.html_to_pdf(page.print_html(), pdf, title="Students for review", landscape=True)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(OUT / "review_05_printed_list")], check=True)
        print(f"{(OUT / 'review_05_printed_list.png')}  (page 1 of the PDF)")
    else:
        print("pdftoppm is not installed: no PNG of the PDF (apt-get install poppler-utils)")
    window.close()
    settle(app)


if __name__ == "__main__":
    try:
        main()
    finally:
        shutil.rmtree(TEMP, ignore_errors=True)
