"""Administration (data custodian): staff accounts, sign-in and lock settings, backups and keys."""

from __future__ import annotations

from datetime import UTC, date
from enum import IntEnum

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.security.roles import Role
from mapping_tool.ui.errors import show_error
from mapping_tool.ui.table_models import RowsTableModel

_Index = QModelIndex | QPersistentModelIndex
_ERROR_STYLE = "color: #1f1f1f; background: #fdecea; border: 1px solid #e0b4b4; padding: 6px;"


class AccountColumn(IntEnum):
    USERNAME = 0
    NAME = 1
    ROLE = 2
    SCOPE = 3
    STATUS = 4
    LAST_SIGN_IN = 5


HEADERS = {
    AccountColumn.USERNAME: "User name",
    AccountColumn.NAME: "Name",
    AccountColumn.ROLE: "Role",
    AccountColumn.SCOPE: "Students they see",
    AccountColumn.STATUS: "Status",
    AccountColumn.LAST_SIGN_IN: "Last sign-in",
}


class AccountTableModel(RowsTableModel):
    """Immutable AccountView rows."""

    HEADERS = tuple(HEADERS[c] for c in AccountColumn)

    def cell(self, a, column: int, role: int):  # type: ignore[no-untyped-def]
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        col = AccountColumn(column)
        if col is AccountColumn.USERNAME:
            return a.username
        if col is AccountColumn.NAME:
            return a.display_name
        if col is AccountColumn.ROLE:
            return a.role.title
        if col is AccountColumn.SCOPE:
            if a.home_groups:
                return "Home group " + ", ".join(a.home_groups)
            if a.year_levels:
                years = [str(int(y)) if y.isdigit() else y for y in a.year_levels]  # "Year 9", not "Year 09"
                return ("Years " if len(years) > 1 else "Year ") + ", ".join(years)
            return "Whole school"
        if col is AccountColumn.STATUS:
            if not a.active:
                return "Disabled"
            return "Must set a new password" if a.must_change_password else "Active"
        if col is AccountColumn.LAST_SIGN_IN:
            if not a.last_sign_in_at:
                return "Never"
            # Stored in UTC; shown in this PC's local time.
            return a.last_sign_in_at.replace(tzinfo=UTC).astimezone().strftime("%d/%m/%Y %H:%M")
        return None


class AccountDialog(QDialog):
    """Add an account. The initial password is generated (the custodian never chooses it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a staff account")
        self.setMinimumWidth(460)
        form = QFormLayout(self)
        intro = QLabel(
            "The tool makes an initial password for the new account and shows it once, for you to "
            "give the person. They choose their own password when they first sign in."
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.username = QLineEdit()
        self.username.setPlaceholderText("e.g. tbrown")
        self.role = QComboBox()
        for role in Role:
            self.role.addItem(role.title, role)
        self.display_name = QLineEdit()
        self.position = QLineEdit()
        self.email = QLineEdit()
        self.phone = QLineEdit()
        self.scope = QLineEdit()
        self.scope_label = QLabel()
        for text, w in (
            ("&User name:", self.username),
            ("&Role:", self.role),
            ("&Name:", self.display_name),
            ("&Position:", self.position),
            ("&Email:", self.email),
            ("P&hone:", self.phone),
            ("", self.scope),
        ):
            if w is self.scope:
                label = self.scope_label  # its text follows the role
            else:
                w.setAccessibleName(text.replace("&", "").rstrip(":"))
                label = QLabel(text)
            label.setBuddy(w)
            form.addRow(label, w)
        self.role.currentIndexChanged.connect(self._role_changed)
        self._role_changed()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Add account")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def selected_role(self) -> Role:
        # Qt stores the StrEnum as a plain str in the item data: turn it back into a Role.
        return Role(self.role.currentData())

    def _role_changed(self) -> None:
        role = self.selected_role()
        scoped = role in (Role.HOME_GROUP_TEACHER, Role.YEAR_LEVEL_COORDINATOR)
        if role is Role.HOME_GROUP_TEACHER:
            text, hint = "Home &groups:", "e.g. 07A, 07B"
        elif role is Role.YEAR_LEVEL_COORDINATOR:
            text, hint = "Year &levels:", "e.g. 07, 08"
        else:
            text, hint = "Students:", "the whole school"
        self.scope_label.setText(text)
        self.scope.setAccessibleName(text.replace("&", "").rstrip(":"))
        self.scope.setPlaceholderText(hint)
        self.scope.setEnabled(scoped)
        if not scoped:
            self.scope.clear()

    def codes(self) -> list[str]:
        return [c.strip() for c in self.scope.text().replace(";", ",").split(",") if c.strip()]


class AdminPage(QWidget):
    """Tabs: accounts, who may see what, the audit log, the risk rules and the tier overrides (the
    data custodian); principal class reads the audit log, the policy and the rules; others see why
    there is nothing here for them."""

    TAB_ACCOUNTS = "Accounts"
    TAB_POLICY = "Who may see what"
    TAB_AUDIT = "Audit log"
    TAB_RULES = "Risk rules"
    TAB_OVERRIDES = "Tier overrides"
    TAB_RECORDS = "Records"

    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        self.model: AccountTableModel | None = None
        self.tabs: QTabWidget | None = None
        self.policy_grid = self.audit_viewer = self.rules_page = self.overrides = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(QLabel("<h2>Administration</h2>"))
        if session.role is Role.PRINCIPAL:
            self._build_principal(layout)
            return
        if not session.is_custodian:
            note = QLabel("Only the data custodian administers accounts, settings and backups.")
            layout.addWidget(note)
            layout.addStretch(1)
            return

        from mapping_tool.ui.pages.governance import AuditViewer, PolicyGrid
        from mapping_tool.ui.pages.rules import RulesPage, TierOverridesPanel

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)
        accounts_tab = QWidget()
        self.tabs.addTab(accounts_tab, self.TAB_ACCOUNTS)
        self._build_accounts(accounts_tab)
        self.policy_grid = PolicyGrid(session)
        self.tabs.addTab(self.policy_grid, self.TAB_POLICY)
        self.audit_viewer = AuditViewer(session)
        self.tabs.addTab(self.audit_viewer, self.TAB_AUDIT)
        self.rules_page = RulesPage(session)
        self.tabs.addTab(self.rules_page, self.TAB_RULES)
        self.overrides = TierOverridesPanel(session)
        self.tabs.addTab(self.overrides, self.TAB_OVERRIDES)
        self.rules_page.changed.connect(lambda _v: self.overrides.refresh())  # type: ignore[union-attr]
        self._add_records_tab()
        self.tabs.currentChanged.connect(self._tab_shown)
        self.refresh()

    def _build_principal(self, layout: QVBoxLayout) -> None:
        from mapping_tool.ui.pages.governance import AuditViewer, PolicyGrid
        from mapping_tool.ui.pages.rules import RulesPage

        note = QLabel(
            "As principal class you can read the audit log and see who may see what and the risk rules. "
            "Only the data custodian administers accounts, settings and backups, and changes the policy and the rules."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)
        self.audit_viewer = AuditViewer(self.session)
        self.tabs.addTab(self.audit_viewer, self.TAB_AUDIT)
        self.policy_grid = PolicyGrid(self.session)
        self.tabs.addTab(self.policy_grid, self.TAB_POLICY)
        self.rules_page = RulesPage(self.session)
        self.tabs.addTab(self.rules_page, self.TAB_RULES)
        self._add_records_tab()
        self.tabs.currentChanged.connect(self._tab_shown)

    def _add_records_tab(self) -> None:
        """Retention, holds, disposal and its register (issue 10: ui/pages/records.py)."""
        from mapping_tool.ui.pages.records import RecordsPanel

        assert self.tabs is not None
        self.records_panel = RecordsPanel(self.session)
        self.tabs.addTab(self.records_panel, self.TAB_RECORDS)
        if self.records_panel.unusual_panel is not None and self.audit_viewer is not None:
            from mapping_tool.ui.pages.breaches import connect_to_log

            connect_to_log(self.records_panel.unusual_panel, self.show_day_in_log)

    def show_day_in_log(self, username: str, day: date) -> None:
        """The Audit log tab filtered to one user's entries on one day (from Unusual access)."""
        from PySide6.QtCore import QDate

        viewer = self.show_tab(self.TAB_AUDIT)
        when = QDate(day.year, day.month, day.day)
        viewer.set_filters(user=username, student="", action="", since=when, until=when)  # type: ignore[attr-defined]

    def show_tab(self, title: str) -> QWidget:
        """Bring a tab to the front by its title and return its widget."""
        assert self.tabs is not None
        for i in range(self.tabs.count()):
            widget = self.tabs.widget(i)
            if self.tabs.tabText(i).replace("&", "") == title and widget is not None:
                self.tabs.setCurrentIndex(i)
                return widget
        raise KeyError(title)

    def _tab_shown(self, index: int) -> None:
        """What other tabs (or other users) changed since: the log, the overrides, the policy."""
        assert self.tabs is not None
        widget = self.tabs.widget(index)
        if widget is self.audit_viewer or widget is self.overrides or widget is self.policy_grid:
            widget.refresh()  # type: ignore[union-attr]
        elif widget is getattr(self, "records_panel", None):
            widget.refresh()  # type: ignore[union-attr]
        elif self.tabs.tabText(index) == self.TAB_ACCOUNTS:
            self.refresh()

    def _build_accounts(self, tab: QWidget) -> None:
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 12, 0, 0)
        accounts_box = QGroupBox("Staff accounts")
        box_layout = QVBoxLayout(accounts_box)
        self.model = AccountTableModel(self)
        self.table = QTableView()
        self.table.setTabKeyNavigation(False)  # Tab leaves the table; arrows move in it
        self.table.setModel(self.model)
        self.table.setAccessibleName("Staff accounts")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(AccountColumn.NAME, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        box_layout.addWidget(self.table)
        row = QHBoxLayout()
        self.add_button = QPushButton("&Add account…")
        self.reset_button = QPushButton("&Reset password…")
        self.disable_button = QPushButton("&Disable")
        self.enable_button = QPushButton("&Enable…")
        for b in (self.add_button, self.reset_button, self.disable_button, self.enable_button):
            row.addWidget(b)
        row.addStretch(1)
        box_layout.addLayout(row)
        self.add_button.clicked.connect(self.add_account)
        self.reset_button.clicked.connect(lambda: self._with_selected(self.reset_password))
        self.disable_button.clicked.connect(lambda: self._with_selected(self.disable_account))
        self.enable_button.clicked.connect(lambda: self._with_selected(self.enable_account))
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        layout.addWidget(accounts_box, 1)

        lower = QHBoxLayout()
        settings_box = QGroupBox("Sign-in and screen lock")
        sform = QFormLayout(settings_box)
        self.attempts = QSpinBox()
        self.attempts.setRange(3, 20)
        self.lock_minutes = QSpinBox()
        self.lock_minutes.setRange(1, 1440)
        self.idle_minutes = QSpinBox()
        self.idle_minutes.setRange(1, 60)
        for text, w in (
            ("Failed sign-ins before lock:", self.attempts),
            ("Minutes an account stays locked:", self.lock_minutes),
            ("Lock the window after idle minutes:", self.idle_minutes),
        ):
            w.setAccessibleName(text.rstrip(":"))
            w.setMinimumWidth(90)
            sform.addRow(text, w)
        self.save_settings_button = QPushButton("&Save settings")
        self.save_settings_button.clicked.connect(self.save_settings)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_settings_button)
        sform.addRow(save_row)
        lower.addWidget(settings_box, 1)

        keys_box = QGroupBox("Backups and keys")
        kl = QVBoxLayout(keys_box)
        self.backup_button = QPushButton("&Back up now…")
        self.recovery_button = QPushButton("Save the recovery &key file…")
        self.show_key_button = QPushButton("Show the store key for escrow…")
        for b in (self.backup_button, self.recovery_button, self.show_key_button):
            kl.addWidget(b)
        hint = QLabel("Keep backups and the recovery key file away from this PC.")
        hint.setWordWrap(True)
        kl.addWidget(hint)
        kl.addStretch(1)
        self.backup_button.clicked.connect(self.backup_now)
        self.recovery_button.clicked.connect(self.save_recovery)
        self.show_key_button.clicked.connect(self.show_key)
        lower.addWidget(keys_box, 1)
        layout.addLayout(lower)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setAccessibleName("Administration message")
        layout.addWidget(self.status)

    # -- data --------------------------------------------------------------------------------
    def refresh(self) -> None:
        from mapping_tool.services import accounts, settings

        if self.model is None:
            return
        selected = self.selected_username()
        self.model.set_rows(accounts.list_users(self.session))
        for row in range(self.model.rowCount()):
            if self.model.row_at(row).username == selected:
                self.table.selectRow(row)
        self._update_buttons()
        current = settings.get_settings(self.session)
        self.attempts.setValue(current.lockout_attempts)
        self.lock_minutes.setValue(current.lockout_minutes)
        self.idle_minutes.setValue(current.idle_lock_minutes)

    def selected_username(self) -> str:
        if self.model is None:
            return ""
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()).username if rows else ""

    def _update_buttons(self) -> None:
        """Offer only what makes sense for the selected account."""
        rows = self.table.selectionModel().selectedRows()
        account = self.model.row_at(rows[0].row()) if rows and self.model is not None else None
        active = account is not None and account.active
        self.reset_button.setEnabled(active)
        self.disable_button.setEnabled(active)  # also for yourself: the refusal says why
        self.enable_button.setEnabled(account is not None and not account.active)

    def _with_selected(self, action) -> None:  # type: ignore[no-untyped-def]
        username = self.selected_username()
        if not username:
            self._say("Select an account first.", error=True)
            return
        action(username)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setText(text)

    def _run(self, fn, done_text: str) -> bool:  # type: ignore[no-untyped-def]
        try:
            fn()
        except KnownError as exc:
            self._say(exc.message, error=True)
            return False
        except Exception as exc:  # noqa: BLE001
            show_error(self, exc)
            return False
        self._say(done_text)
        self.refresh()
        return True

    # -- actions -----------------------------------------------------------------------------
    def add_account(self) -> None:
        from mapping_tool.security.passwords import generate_password
        from mapping_tool.services import accounts

        dialog = AccountDialog(self)
        if not dialog.exec():
            return
        role = dialog.selected_role()
        password = generate_password()
        codes = dialog.codes()
        ok = self._run(
            lambda: accounts.add_user(
                self.session,
                dialog.username.text(),
                role,
                password,
                display_name=dialog.display_name.text(),
                position=dialog.position.text(),
                email=dialog.email.text(),
                phone=dialog.phone.text(),
                home_groups=codes if role is Role.HOME_GROUP_TEACHER else (),
                year_levels=codes if role is Role.YEAR_LEVEL_COORDINATOR else (),
            ),
            f"Added {dialog.username.text().strip()}.",
        )
        if ok:
            self._show_initial_password(dialog.username.text().strip(), password)

    def _show_initial_password(self, username: str, password: str) -> None:
        QMessageBox.information(
            self,
            "Initial password",
            f"Give {username} this initial password in person:\n\n    {password}\n\n"
            "They must choose their own at first sign-in. It is not shown again.",
        )

    def reset_password(self, username: str) -> None:
        from mapping_tool.security.passwords import generate_password
        from mapping_tool.services import accounts

        password = generate_password()
        if self._run(lambda: accounts.reset_password(self.session, username, password), f"Reset {username}'s password."):
            self._show_initial_password(username, password)

    def disable_account(self, username: str) -> None:
        from mapping_tool.services import accounts

        self._run(lambda: accounts.disable_user(self.session, username), f"Disabled {username}.")

    def enable_account(self, username: str) -> None:
        from mapping_tool.security.passwords import generate_password
        from mapping_tool.services import accounts

        password = generate_password()
        if self._run(lambda: accounts.enable_user(self.session, username, password), f"Enabled {username}."):
            self._show_initial_password(username, password)

    def save_settings(self) -> None:
        from mapping_tool.services import settings

        def apply() -> None:
            settings.set_setting(self.session, "lockout_attempts", str(self.attempts.value()))
            settings.set_setting(self.session, "lockout_minutes", str(self.lock_minutes.value()))
            settings.set_setting(self.session, "idle_lock_minutes", str(self.idle_minutes.value()))

        if self._run(apply, "Settings saved."):
            window = self.window()
            if hasattr(window, "apply_idle_setting"):
                window.apply_idle_setting()

    def backup_now(self) -> None:
        from mapping_tool.services import backup
        from mapping_tool.ui.save_dialog import ask_save_path

        target = ask_save_path(
            self, "Save a backup", "student-mapping-tool.smtbackup", "Backups (*.smtbackup)", (".smtbackup",)
        )
        if target is None:
            return
        from mapping_tool.ui import worker

        path = str(target.path)
        session = self.session
        self.backup_button.setEnabled(False)
        self._say("Writing the backup… (it is checked before it is kept)")
        self._backup_job = worker.runner.start(
            lambda _progress: backup.backup(session, target.path, replace=target.replace), self
        )

        def done(_result: object) -> None:
            self.backup_button.setEnabled(True)
            self._say(f"Backup written to {path}.")
            self.refresh()

        def failed(exc: object) -> None:
            self.backup_button.setEnabled(True)
            if isinstance(exc, KnownError):
                self._say(exc.message, error=True)
            else:
                show_error(self, exc)  # type: ignore[arg-type]

        self._backup_job.finished.connect(done)
        self._backup_job.failed.connect(failed)

    def save_recovery(self) -> None:
        from mapping_tool.services import backup
        from mapping_tool.ui.save_dialog import ask_save_path

        target = ask_save_path(self, "Save the recovery key file", "recovery.smtkey", "Recovery key (*.smtkey)", (".smtkey",))
        if target is not None:
            self._run(
                lambda: backup.save_recovery_slot(self.session, target.path, replace=target.replace),
                f"Recovery key file saved to {target.path}.",
            )

    def show_key(self) -> None:
        from mapping_tool.services import backup

        password, ok = QInputDialog.getText(self, "Confirm your password", "Your password:", QLineEdit.EchoMode.Password)
        if not ok:
            return
        try:
            key = backup.show_key(self.session, password)
        except KnownError as exc:
            self._say(exc.message, error=True)
            return
        QMessageBox.information(
            self,
            "Store key",
            "The store's raw key (SQLCipher 4). Give it to the business manager sealed; this display "
            f"was recorded in the audit log.\n\n{key[:32]}\n{key[32:]}",
        )
