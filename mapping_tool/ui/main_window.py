"""The main window: navigation to the pages, a status bar, the idle lock."""

from __future__ import annotations

import logging
from collections.abc import Callable
from html import escape

import shiboken6
from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mapping_tool import APP_NAME, __version__
from mapping_tool.ui import worker
from mapping_tool.ui.pages.placeholder import PlaceholderPage

logger = logging.getLogger(__name__)

PAGE_STUDENTS = "Students"
PAGE_INTERVENTIONS = "Interventions"
PAGE_REFERRALS = "Referrals"
PAGE_IMPORTS = "Imports"
PAGE_REPORTS = "Reports"
PAGE_ADMIN = "Administration"
PAGE_PROFILE = "My profile"


class IdleWatcher(QObject):
    """Counts user input anywhere in the app; ``idle`` fires after the set minutes without any."""

    idle = Signal()
    _INPUT = {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }

    def __init__(self, minutes: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle)
        self.set_minutes(minutes)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_minutes(self, minutes: int) -> None:
        self.timer.setInterval(int(minutes * 60_000))
        self.timer.start()

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in self._INPUT and self.timer.isActive():
            self.timer.start()
        return False

    def pause(self) -> None:
        self.timer.stop()

    def resume(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


class MainWindow(QMainWindow):
    signed_out = Signal()

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.locked = False
        self._covered: list[QDialog] = []
        school = session.store.school
        self.setWindowTitle(f"{APP_NAME} – {school.school_name}" if school else APP_NAME)
        self._size_to_screen()

        self.nav = QListWidget()
        self.nav.setAccessibleName("Sections")
        self.nav.setIconSize(QSize(18, 18))
        self.nav.setFixedWidth(170)
        self.nav.setStyleSheet("QListWidget { font-size: 11pt; } QListWidget::item { padding: 8px 10px; }")
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        self._factories: dict[str, Callable[[], QWidget]] = {}
        self.section_actions: list[QAction] = []
        self._change_timer = QTimer(self)  # several signals from one save: one refresh
        self._change_timer.setSingleShot(True)
        self._change_timer.setInterval(0)
        self._change_timer.timeout.connect(self.store_changed)
        usable = {n: f for n, f in self._page_factories().items() if self._usable(n)}
        self.hidden_sections = [n for n in self._page_factories() if n not in usable]
        for number, (name, factory) in enumerate(usable.items(), start=1):
            self._factories[name] = factory
            item = QListWidgetItem(name, self.nav)
            if number <= 9:  # Ctrl+1 … Ctrl+7 go to the sections
                item.setToolTip(f"{name} (Ctrl+{number})")
                go = QAction(self)
                go.setShortcut(QKeySequence(f"Ctrl+{number}"))
                go.triggered.connect(lambda _checked=False, row=number - 1: self.go_to_section(row))
                self.addAction(go)
                self.section_actions.append(go)
            holder = QWidget()
            self.stack.addWidget(holder)
        self.nav.currentRowChanged.connect(self.show_page_index)

        # A fixed-width section list beside the page (a splitter left a gap the list could not fill).
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        side = QVBoxLayout()
        side.setContentsMargins(0, 0, 0, 0)
        side.addWidget(self.nav, 1)
        self.sections_note = QLabel()
        self.sections_note.setWordWrap(True)
        self.sections_note.setFixedWidth(170)
        self.sections_note.setContentsMargins(8, 6, 8, 8)
        if self.hidden_sections:
            self.sections_note.setText(
                f"{' and '.join(self.hidden_sections)} are for the data custodian and the principal, "
                "so they are not shown for your role."
            )
        self.sections_note.setVisible(bool(self.hidden_sections))
        side.addWidget(self.sections_note)
        row.addLayout(side)
        row.addWidget(self.stack, 1)
        notices = list(getattr(session, "notices", []) or [])
        self.notice_label: QLabel | None = None
        if notices:  # for the data custodian: what happened to the store while they were away
            outer = QWidget()
            column = QVBoxLayout(outer)
            column.setContentsMargins(0, 0, 0, 0)
            column.setSpacing(0)
            self.notice_label = QLabel("<b>Please check:</b> " + "<br>".join(escape(n) for n in notices))
            self.notice_label.setWordWrap(True)
            self.notice_label.setStyleSheet("QLabel { background: #fff4ce; color: #3b2f00; padding: 8px 12px; }")
            self.notice_label.setAccessibleName("Notices for the data custodian")
            column.addWidget(self.notice_label)
            column.addWidget(central, 1)
            central = outer
        self.setCentralWidget(central)
        self._build_menu()
        self._build_status_bar()

        from mapping_tool.services import settings

        minutes = settings.get_settings(session).idle_lock_minutes
        self.idle = IdleWatcher(minutes, self)
        self.idle.idle.connect(self.lock)
        self.nav.setCurrentRow(0)

    # -- pages -------------------------------------------------------------------------------
    def _page_factories(self) -> dict[str, Callable[[], QWidget]]:
        s = self.session
        return {
            PAGE_STUDENTS: lambda: _students_page(s),
            PAGE_INTERVENTIONS: lambda: _interventions_page(s),
            PAGE_REFERRALS: lambda: _referrals_page(s),
            PAGE_IMPORTS: lambda: _imports_page(s),
            # the cohort page: flag and tier counts with charts, and the de-identified summary
            PAGE_REPORTS: lambda: __import__("mapping_tool.ui.pages.cohort", fromlist=["CohortPage"]).CohortPage(s),
            PAGE_ADMIN: lambda: _admin_page(s),
            PAGE_PROFILE: lambda: _profile_page(s),
        }

    # Sections a role can use; the others are left out of the list (and the list says why).
    # Mirrors the services' checks (imports and administration: custodian; principal reads).
    RESTRICTED = {PAGE_IMPORTS: ("custodian", "principal"), PAGE_ADMIN: ("custodian", "principal")}

    def _usable(self, name: str) -> bool:
        roles = self.RESTRICTED.get(name)
        return roles is None or self.session.role.value in roles

    def show_page_index(self, index: int) -> None:
        if index < 0:
            return
        name = self.nav.item(index).text()
        if name not in self.pages:
            page = self._factories[name]()
            old = self.stack.widget(index)
            self.stack.removeWidget(old)
            old.deleteLater()
            self.stack.insertWidget(index, page)
            self.pages[name] = page
            saved = getattr(page, "saved", None)
            if saved is not None:
                saved.connect(self.refresh_user)
            self._watch(page)
        self.stack.setCurrentIndex(index)

    # -- one refresh for every page ----------------------------------------------------------
    CHANGE_SIGNALS = ("imported", "changed")

    def _watch(self, page: QWidget) -> None:
        """A page (or a panel in it) that changes the store says so with an ``imported`` or
        ``changed`` signal; every page that shows store data then refreshes (``store_changed``)."""
        for obj in (page, *page.findChildren(QObject)):
            for name in self.CHANGE_SIGNALS:
                if isinstance(getattr(type(obj), name, None), Signal):
                    getattr(obj, name).connect(self._store_changed_soon)

    def _store_changed_soon(self, *_args: object) -> None:
        self._change_timer.start()

    def store_changed(self) -> None:
        """A refresh, a rule change, an override or a concern landed: show it everywhere."""
        for page in list(self.pages.values()):
            refresh = getattr(page, "store_changed", None)
            if callable(refresh):
                refresh()
        self.refresh_status()

    def go_to_section(self, row: int) -> None:
        """Show a section and put the keyboard focus on its first control."""
        if self.locked or not 0 <= row < self.nav.count():
            return
        self.nav.setCurrentRow(row)
        page = self.stack.currentWidget()
        child = page.nextInFocusChain()
        for _ in range(500):  # the focus chain in Tab order
            if child is page or child is None:
                break
            if (
                page.isAncestorOf(child) and child.isVisible() and child.isEnabled()
                and child.focusPolicy() & Qt.FocusPolicy.TabFocus
            ):
                child.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return
            child = child.nextInFocusChain()
        page.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_page(self, name: str) -> QWidget:
        names = [self.nav.item(i).text() for i in range(self.nav.count())]
        self.nav.setCurrentRow(names.index(name))
        return self.pages[name]

    # -- chrome ------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.lock_action = QAction("&Lock window", self)
        self.lock_action.setShortcut(QKeySequence("Ctrl+L"))
        self.lock_action.triggered.connect(lambda: self.lock(idle=False))
        self.sign_out_action = QAction("Sign &out", self)
        self.sign_out_action.triggered.connect(self.sign_out)
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        for a in (self.lock_action, self.sign_out_action, quit_action):
            file_menu.addAction(a)
        help_menu = self.menuBar().addMenu("&Help")
        self.guide_action = QAction("&User guide for your role", self)
        self.guide_action.setShortcut(QKeySequence.StandardKey.HelpContents)
        self.guide_action.triggered.connect(self.show_guide)
        help_menu.addAction(self.guide_action)
        about = QAction("&About", self)
        about.triggered.connect(self._about)
        help_menu.addAction(about)

    def _size_to_screen(self) -> None:
        """Use the screen that is there: nearly all of a small laptop screen, most of a large one."""
        screen = self.screen()
        if screen is None:
            self.resize(1180, 760)
            return
        available = screen.availableGeometry()
        size = window_size_for(available.size())
        self.resize(size)
        frame = self.frameGeometry()
        frame.moveCenter(available.center())
        self.move(frame.topLeft())

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        school = self.session.store.school
        self.school_label = QLabel(f"{school.school_name}, school {school.school_number}" if school else "")
        self.user_label = QLabel()
        self.extract_label = QLabel()
        for w in (self.school_label, self.user_label, self.extract_label):
            w.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(w)
        self.refresh_user()
        self.refresh_status()

    def refresh_user(self) -> None:
        """The signed-in user's name and role (again after they correct their name in My profile)."""
        self.user_label.setText(f"Signed in: {self.session.display_name} – {self.session.role.title}")

    def refresh_status(self) -> None:
        latest = _latest_extract(self.session)
        self.extract_label.setText(f"Latest extract: {latest}" if latest else "No CASES21 extract imported yet")

    def apply_idle_setting(self) -> None:
        from mapping_tool.services import settings

        self.idle.set_minutes(settings.get_settings(self.session).idle_lock_minutes)

    def show_guide(self) -> None:
        from mapping_tool.ui.help import GuideDialog

        old = getattr(self, "guide", None)
        if old is not None:
            old.deleteLater()
        self.guide = GuideDialog(self.session.role.value, self)
        self.guide.show()

    def _about(self) -> None:
        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<b>{APP_NAME}</b> {__version__}<p>Identify students at risk of early leaving, map and "
            "evaluate interventions, and make consent-backed referrals. Data stays encrypted on this PC.</p>",
        )

    # -- lock and sign-out -----------------------------------------------------------------
    def lock(self, idle: bool = True) -> None:
        """Hide every student detail until the same user's password is given."""
        if self.locked or self.session.signed_out:
            return
        from mapping_tool.ui.signin import UnlockDialog

        self.locked = True
        self.idle.pause()
        self._cover_dialogs(UnlockDialog)
        self.centralWidget().hide()
        old = getattr(self, "lock_dialog", None)
        if old is not None:
            old.deleteLater()
        self.lock_dialog = UnlockDialog(self.session, self, idle=idle)
        self.lock_dialog.finished.connect(self._lock_finished)
        self.lock_dialog.open()

    def _lock_finished(self, result: int) -> None:
        dialog = self.lock_dialog
        if dialog.signed_out:
            self.sign_out()
            return
        if result:
            self.locked = False
            self.centralWidget().show()
            for covered in self._covered:
                if shiboken6.isValid(covered):
                    covered.show()
            self._covered = []
            self.idle.resume()

    def _cover_dialogs(self, keep: type) -> None:
        """Nothing stays readable behind the lock. A message box or a dialog run with exec()
        (application-modal) is rejected: its task ends as if cancelled. A dialog opened with
        open() or show() (for example an import with its job still running) is hidden and shown
        again after unlocking, so the lock never cancels work in progress."""
        self._covered: list[QDialog] = []
        for dialog in self.findChildren(QDialog):
            if not dialog.isVisible() or isinstance(dialog, keep):
                continue
            if isinstance(dialog, QMessageBox) or dialog.windowModality() == Qt.WindowModality.ApplicationModal:
                dialog.reject()
            else:
                dialog.hide()
                self._covered.append(dialog)

    def sign_out(self) -> None:
        from mapping_tool.services import auth

        self.idle.stop()
        worker.finish_all()  # no task is left reading the store it closes
        try:
            auth.sign_out(self.session)
        finally:
            self.signed_out.emit()
            self.close()

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]  # noqa: N802
        from mapping_tool.services import auth

        self.idle.stop()
        if not self.session.signed_out:
            worker.finish_all()
            try:
                auth.sign_out(self.session)
            except Exception:  # noqa: BLE001 - closing must not fail
                logger.warning("sign-out at close failed")
        super().closeEvent(event)


def window_size_for(available: QSize) -> QSize:
    """The window's first size on a screen with ``available`` room (taskbar excluded): all of a
    1024x768 or 1366x768 screen less the frame; 80–85 % of a larger one (1536x880 on 1920x1080)."""
    aw, ah = available.width(), available.height()
    width = aw - 24 if aw <= 1400 else max(1180, int(aw * 0.8))
    height = ah - 40 if ah <= 820 else max(760, int(ah * 0.85))
    return QSize(min(width, aw), min(height, ah))


def _latest_extract(session) -> str:  # type: ignore[no-untyped-def]
    try:
        from mapping_tool.services import imports
    except ImportError:
        return ""
    latest = imports.latest_snapshot(session)
    return latest.extract_date.strftime("%d/%m/%Y") if latest else ""


def _students_page(session) -> QWidget:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.students import StudentsPage

    return StudentsPage(session)


def _interventions_page(session) -> QWidget:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.interventions_page import InterventionsPage

    return InterventionsPage(session)


def _imports_page(session) -> QWidget:  # type: ignore[no-untyped-def]
    try:
        from mapping_tool.ui.pages.imports import ImportsPage
    except ImportError:
        return PlaceholderPage(
            "Imports",
            "Refresh the tool from the CASES21 eduHub extract and VASS files.",
            ["Validate the files, import all or nothing, and keep a dated snapshot of each refresh"],
        )
    return ImportsPage(session)


def _referrals_page(session) -> QWidget:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.referrals import ReferralsPage

    return ReferralsPage(session)


def _admin_page(session) -> QWidget:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.admin import AdminPage

    return AdminPage(session)


def _profile_page(session) -> QWidget:  # type: ignore[no-untyped-def]
    from mapping_tool.ui.pages.profile import ProfilePage

    return ProfilePage(session)
