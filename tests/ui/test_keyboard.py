"""Keyboard use without traps: no Alt+letter used twice on any window, dialog, page or tab (the
walk finds pages and dialogs added later by itself), and the window fits a 1024x768 screen."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QWizard

import mapping_tool.ui
from mapping_tool.services import auth
from mapping_tool.ui.main_window import MainWindow
from tests.support import CUSTODIAN, HGT, WELFARE, YLC
from tests.ui.conftest import open_session
from tests.ui.keyboard import clashes, each_tab
from tests.ui.review_school import build_school, copy_school


@pytest.fixture(scope="module")
def school(template_store: Path, store_key: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_school(template_store, store_key, tmp_path_factory)


@pytest.fixture
def school_dir(school: Path, tmp_path: Path) -> Path:
    return copy_school(school, tmp_path)


def _session(store_dir: Path, key: bytes, username: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    user = open_session(store_dir, key, username)
    request.addfinalizer(lambda: auth.sign_out(user) if not user.signed_out else None)
    return user


def _settle(qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QThreadPool

    QThreadPool.globalInstance().waitForDone(10000)
    qtbot.wait(20)
    QApplication.processEvents()


def _window(qtbot, session, size: tuple[int, int] = (1024, 768)) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(session)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def _open_first_student(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    page = window.show_page("Students")
    _settle(qtbot)
    if page.model.rowCount():
        page.open_student(page.model.key_at(0))
        _settle(qtbot)


@pytest.mark.parametrize("who", [CUSTODIAN, WELFARE, YLC, HGT])
def test_no_mnemonic_is_used_twice_on_any_page(qtbot, school_dir: Path, store_key: bytes, request, who: str) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, _session(school_dir, store_key, who, request))
    problems: list[str] = []
    walked = 0
    for row in range(window.nav.count()):
        name = window.nav.item(row).text()
        window.nav.setCurrentRow(row)
        _settle(qtbot)
        for where in each_tab(window):
            walked += 1
            problems += [f"{name} {where}: Alt+{k.upper()} {v}" for k, v in clashes(window).items()]
    _open_first_student(qtbot, window)
    problems += [f"Students with a student open: Alt+{k.upper()} {v}" for k, v in clashes(window).items()]
    assert walked >= window.nav.count()
    assert problems == [], "\n".join(problems)


def _dialog_classes() -> list[type]:
    found: dict[str, type] = {}
    for info in pkgutil.walk_packages(mapping_tool.ui.__path__, "mapping_tool.ui."):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, QDialog) and cls.__module__ == module.__name__:
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return [found[k] for k in sorted(found)]


def _a_mapping(session):  # type: ignore[no-untyped-def]
    """A real participation in the school store (made once), for the dialogs that edit one."""
    from datetime import date

    from mapping_tool.services import interventions

    found = interventions.list_mappings(session)
    if found:
        return found[0]
    if not any(p.name == "Homework club" for p in interventions.list_programmes(session, include_retired=True)):
        interventions.add_programme(session, "Homework club", kind="engagement", measure="attendance_rate")
    key = interventions.grid(session).rows[0].student_key
    return interventions.assign(session, "Homework club", [key], start=date(2026, 8, 3))[0]


def _a_breach(session):  # type: ignore[no-untyped-def]
    """A breach as the register lists it (only shown by the follow-up dialog)."""
    from datetime import date, datetime

    from mapping_tool.services.records_privacy import BreachView

    return BreachView(1, date(2026, 8, 3), "A printed list was left on the bus.", 0, (), "", None, "", "custodian",
                      datetime(2026, 8, 3, 9, 0))


# Sample values for constructor parameters that are neither a session, a folder nor text.
SAMPLES = {
    "students": lambda s: [("ABC0001", "Sample Student")],
    "mapping": _a_mapping,
    "agencies": lambda s: ["Sample Agency"],
    "staff": lambda s: [("wwelfare", "Wren Welfare")],
    "designated": lambda s: set(),
    "stale_days": lambda s: 30,
    "consent_months": lambda s: 12,
    "source": lambda s: Path("/nonexistent/old-store"),
    "target": lambda s: Path("/nonexistent/new-store"),
    # issue 10 s 3: the correction dialogs (ui/pages/correction_widgets.py)
    "note": lambda s: _sample_note(),
    "versions": lambda s: _sample_versions(),
    "names": lambda s: {},
    "row": lambda s: SimpleNamespace(id=1, giver_name="Sam Parent", relationship="parent", method="written", witness=""),
    "breach": _a_breach,
    # agencies kept by the data custodian: the change dialog and the earlier details
    "agency": lambda s: _sample_agency(),
    "changes": lambda s: _sample_agency_changes(),
}


def _sample_agency():  # type: ignore[no-untyped-def]
    from mapping_tool.services.referrals import AgencyView

    return AgencyView(1, "Sample Agency", "intake@example.org.au", "03 9000 0000", "", "1 Main St", "3000", "Jo Bloggs",
                      "yes", "MoU-1", None, date(2027, 6, 30), ("student_name", "year_level"))


def _sample_agency_changes():  # type: ignore[no-untyped-def]
    from mapping_tool.services.referrals import AgencyChangeView

    return [AgencyChangeView(datetime(2026, 8, 3, 9, 0), "custodian", "phone", "03 9000 0000", "03 9111 2222",
                             "New intake line")]


def _sample_note():  # type: ignore[no-untyped-def]
    from mapping_tool.services.notes import NoteView

    return NoteView(1, "ABC0001", "custodian", datetime(2026, 8, 3, 9, 0), False, "Sample note")


def _sample_versions():  # type: ignore[no-untyped-def]
    from mapping_tool.services.notes import NoteVersionView

    first = NoteVersionView(1, 1, "custodian", datetime(2026, 8, 3, 9, 0), "Sample note", False, "custodian",
                            datetime(2026, 8, 4, 9, 0), "Typing error")
    return [first, NoteVersionView(1, 2, "custodian", datetime(2026, 8, 4, 9, 0), "Sample note, corrected", True)]


def _build(cls: type, session, store_dir: Path):  # type: ignore[no-untyped-def]
    """A dialog from what its constructor asks for: a session, a store folder, sample values, text."""
    kwargs = {}
    for name, param in inspect.signature(cls).parameters.items():
        if name == "parent" or param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        if param.default is not inspect.Parameter.empty:
            continue
        if name == "session":
            kwargs[name] = session
        elif name in ("store_dir", "folder"):
            kwargs[name] = store_dir
        elif name in SAMPLES:
            kwargs[name] = SAMPLES[name](session)
        elif param.annotation in (bool, "bool"):
            kwargs[name] = False
        else:
            kwargs[name] = "text"
    return cls(**kwargs)


def test_no_mnemonic_is_used_twice_in_any_dialog(qtbot, school_dir: Path, store_key: bytes, request, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    session = _session(school_dir, store_key, CUSTODIAN, request)
    classes = _dialog_classes()
    assert len(classes) >= 5
    problems: list[str] = []
    for cls in classes:
        dialog = _build(cls, session, tmp_path / "new-store" if cls.__name__ == "FirstRunWizard" else school_dir)
        qtbot.addWidget(dialog)
        dialog.show()
        _settle(qtbot)
        if isinstance(dialog, QWizard):
            # each page beside the wizard's buttons (Back, Next, Finish, Cancel)
            buttons = tuple(
                dialog.buttonText(b)
                for b in (QWizard.WizardButton.BackButton, QWizard.WizardButton.NextButton,
                          QWizard.WizardButton.CommitButton, QWizard.WizardButton.FinishButton,
                          QWizard.WizardButton.CancelButton)
            )
            for page_id in dialog.pageIds():
                page = dialog.page(page_id)
                page.show()
                problems += [f"{cls.__name__} page {page.title()!r}: Alt+{k.upper()} {v}" for k, v in clashes(page, buttons).items()]
        else:
            for where in each_tab(dialog):
                problems += [f"{cls.__name__} {where}: Alt+{k.upper()} {v}" for k, v in clashes(dialog).items()]
        dialog.hide()
        dialog.deleteLater()
    assert problems == [], "\n".join(problems)


# -- fits a school laptop -----------------------------------------------------------------------

# A 1024x768 screen less the window frame and a taskbar.
FITS = (1000, 700)


@pytest.mark.parametrize("who", [CUSTODIAN, WELFARE, HGT])
def test_every_page_fits_a_1024_by_768_screen(qtbot, school_dir: Path, store_key: bytes, request, who: str) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, _session(school_dir, store_key, who, request))
    too_big: list[str] = []

    def check(where: str) -> None:
        hint = window.minimumSizeHint().expandedTo(window.minimumSize())
        if hint.width() > FITS[0] or hint.height() > FITS[1]:
            too_big.append(f"{where}: {hint.width()}x{hint.height()}")

    for row in range(window.nav.count()):
        name = window.nav.item(row).text()
        window.nav.setCurrentRow(row)
        _settle(qtbot)
        for where in each_tab(window):
            check(f"{name} {where}")
    _open_first_student(qtbot, window)
    check("Students with a student open")
    assert too_big == [], "\n".join(too_big)


@pytest.mark.parametrize(
    ("available", "expected"),
    [((1024, 728), (1000, 688)), ((1366, 728), (1342, 688)), ((1920, 1040), (1536, 884))],
)
def test_the_window_uses_the_screen_that_is_there(available: tuple[int, int], expected: tuple[int, int]) -> None:
    from PySide6.QtCore import QSize

    from mapping_tool.ui.main_window import window_size_for

    size = window_size_for(QSize(*available))
    assert (size.width(), size.height()) == expected


# -- the keyboard on the Students page ------------------------------------------------------------


def _students(qtbot, session):  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.students import StudentsPage

    page = StudentsPage(session)
    qtbot.addWidget(page)
    with qtbot.waitSignal(page.loaded, timeout=10000):
        page.resize(1000, 700)
        page.show()
    return page


def test_tab_leaves_the_student_table_and_arrows_move_in_it(qtbot, school_dir: Path, store_key: bytes, request) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    page = _students(qtbot, _session(school_dir, store_key, WELFARE, request))
    page.table.setFocus()
    page.table.setCurrentIndex(page.model.index(0, 0))
    qtbot.keyClick(page.table, Qt.Key.Key_Down)
    assert page.table.currentIndex().row() == 1
    qtbot.keyClick(page.table, Qt.Key.Key_Right)
    assert page.table.currentIndex().column() > 0
    qtbot.keyClick(page.table, Qt.Key.Key_Tab)
    assert not page.table.hasFocus()
    assert not page.table.tabKeyNavigation()


def test_sorting_has_a_keyboard_path(qtbot, school_dir: Path, store_key: bytes, request) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    page = _students(qtbot, _session(school_dir, store_key, WELFARE, request))
    col = page.model.column_index("flag_count")
    page.table.setFocus()
    page.table.setCurrentIndex(page.model.index(0, col))
    qtbot.keyClick(page.table, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    counts = [page.model.row_values(r)["flag_count"] for r in range(page.model.rowCount())]
    counts = [c for c in counts if c is not None]
    assert counts == sorted(counts)
    qtbot.keyClick(page.table, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    counts = [c for c in (page.model.row_values(r)["flag_count"] for r in range(page.model.rowCount())) if c is not None]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    assert "Sorted by Flags, descending" == page.table.toolTip()
    assert page.sort_action in page.columns_menu.actions()


def test_flag_cells_read_yes_or_no_to_a_screen_reader(qtbot, school_dir: Path, store_key: bytes, request) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    page = _students(qtbot, _session(school_dir, store_key, WELFARE, request))
    col = page.model.column_index("flag_low_attendance")
    heard = {page.model.data(page.model.index(r, col), Qt.ItemDataRole.AccessibleTextRole) for r in range(page.model.rowCount())}
    heard.discard("")
    assert heard and heard <= {"yes", "no", "yes, new since the last refresh"}
    assert "no" in heard


def test_enter_in_the_search_opens_the_only_match(qtbot, school_dir: Path, store_key: bytes, request) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    page = _students(qtbot, _session(school_dir, store_key, WELFARE, request))
    key = page.model.key_at(3)
    page.search.setFocus()
    qtbot.keyClicks(page.search, key)
    with qtbot.waitSignal(page.panel.shown, timeout=10000) as shown:
        qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert shown.args == [key]
    # with several matches Enter only filters
    page.panel.hide()
    page.search.setText("a")
    qtbot.keyClick(page.search, Qt.Key.Key_Return)
    assert page.model.rowCount() > 1 and not page.panel.isVisible()


def test_ctrl_and_a_number_goes_to_each_section(qtbot, school_dir: Path, store_key: bytes, request) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QKeySequence
    from PySide6.QtTest import QTest

    window = _window(qtbot, _session(school_dir, store_key, CUSTODIAN, request))
    assert window.nav.count() <= len(window.section_actions) <= 9
    window.activateWindow()
    qtbot.waitActive(window)
    for row in reversed(range(window.nav.count())):
        # through the active window (as a key press arrives), so that the shortcut map sees it;
        # offscreen, building a page with combo boxes can leave no window active
        window.activateWindow()
        qtbot.waitActive(window)
        QTest.keySequence(window.windowHandle(), QKeySequence(f"Ctrl+{row + 1}"))
        _settle(qtbot)
        assert window.nav.currentRow() == row
        assert window.stack.currentWidget().isAncestorOf(window.focusWidget())


def test_the_name_stays_in_view_while_the_flag_columns_scroll(qtbot, school_dir: Path, store_key: bytes, request) -> None:  # type: ignore[no-untyped-def]
    page = _students(qtbot, _session(school_dir, store_key, WELFARE, request))
    page.resize(1000 - 170, 700)
    page.open_student(page.model.key_at(0))
    _settle(qtbot)
    table = page.table
    surname, first = page.model.column_index("surname"), page.model.column_index("first_name")
    flag = page.model.column_index("flag_low_attendance")
    table.scrollTo(page.model.index(0, flag))
    _settle(qtbot)
    assert table.horizontalScrollBar().value() > 0  # the flag columns scrolled into view
    frozen = table.frozen
    assert frozen.isVisible()
    assert not frozen.isColumnHidden(surname) and not frozen.isColumnHidden(first) and frozen.isColumnHidden(flag)
    assert frozen.width() == table.columnWidth(surname) + table.columnWidth(first)
    # the name of the first row is drawn in the frozen part, over the scrolled table
    assert frozen.visualRect(page.model.index(0, surname)).isValid()
    assert frozen.model().data(page.model.index(0, surname)) == page.model.row_values(0)["surname"]
    # the flag cell is right of the frozen names, not under them
    assert table.visualRect(page.model.index(0, flag)).left() >= frozen.width()
    # one selection in both parts
    assert frozen.selectionModel() is table.selectionModel()


@pytest.mark.parametrize(("who", "shown"), [(CUSTODIAN, True), (WELFARE, False), (YLC, False), (HGT, False)])
def test_sections_a_role_cannot_use_are_left_out_and_explained(qtbot, school_dir: Path, store_key: bytes, request, who: str, shown: bool) -> None:  # type: ignore[no-untyped-def]
    window = _window(qtbot, _session(school_dir, store_key, who, request))
    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert ("Imports" in names) is shown and ("Administration" in names) is shown
    assert window.sections_note.isVisible() is not shown
    if not shown:
        assert "Imports and Administration" in window.sections_note.text()


@pytest.mark.parametrize("who", [CUSTODIAN, WELFARE])
def test_tab_is_never_trapped_in_any_table(qtbot, school_dir: Path, store_key: bytes, request, who: str) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QTableView

    window = _window(qtbot, _session(school_dir, store_key, who, request))
    trapped: list[str] = []
    for row in range(window.nav.count()):
        name = window.nav.item(row).text()
        window.nav.setCurrentRow(row)
        _settle(qtbot)
        for where in each_tab(window):
            trapped += [f"{name} {where}: {t.accessibleName() or type(t.model()).__name__}"
                        for t in window.findChildren(QTableView) if t.isVisible() and t.tabKeyNavigation()]
    assert trapped == [], "\n".join(sorted(set(trapped)))
