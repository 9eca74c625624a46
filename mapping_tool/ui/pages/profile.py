"""Profile: each user sees and corrects what the tool holds about them (name, position, contacts)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.errors import KnownError
from mapping_tool.ui.errors import show_error


class ProfilePage(QWidget):
    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.session = session
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.addWidget(QLabel("<h2>My profile</h2>"))
        intro = QLabel(
            "This is everything the tool holds about you as a user. Correct anything that is wrong; "
            "changes are recorded in the audit log."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.username = QLabel()
        self.role = QLabel()
        self.display_name = QLineEdit()
        self.position = QLineEdit()
        self.email = QLineEdit()
        self.phone = QLineEdit()
        form.addRow("User name:", self.username)
        form.addRow("Role:", self.role)
        self.scope = QLabel()
        form.addRow("Students you can see:", self.scope)
        for text, w, name in (
            ("&Name:", self.display_name, "Name"),
            ("&Position:", self.position, "Position"),
            ("&Email:", self.email, "Email"),
            ("P&hone:", self.phone, "Phone"),
        ):
            w.setAccessibleName(name)
            label = QLabel(text)
            label.setBuddy(w)
            form.addRow(label, w)
        layout.addLayout(form)
        self.status = QLabel()
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.save = QPushButton("&Save changes")
        self.save.clicked.connect(self.save_changes)
        self.change_password = QPushButton("Change &password…")
        self.change_password.clicked.connect(self._change_password)
        buttons.addWidget(self.save)
        buttons.addWidget(self.change_password)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        from mapping_tool.services import accounts

        view = accounts.my_profile(self.session)
        self.username.setText(view.username)
        self.role.setText(view.role.title)
        self.scope.setText(
            ("Home groups " + ", ".join(view.home_groups)) if view.home_groups
            else ("Year levels " + ", ".join(view.year_levels)) if view.year_levels
            else "The whole school"
        )
        self.display_name.setText(view.display_name)
        self.position.setText(view.position)
        self.email.setText(view.email)
        self.phone.setText(view.phone)

    def save_changes(self) -> None:
        from mapping_tool.services import accounts

        try:
            accounts.update_profile(
                self.session,
                display_name=self.display_name.text(),
                position=self.position.text(),
                email=self.email.text(),
                phone=self.phone.text(),
            )
        except KnownError as exc:
            self.status.setText(exc.message)
            return
        self.status.setText("Saved.")
        self.refresh()

    def _change_password(self) -> None:
        from mapping_tool.ui.signin import ChangePasswordDialog

        try:
            dialog = ChangePasswordDialog(self.session, forced=False, parent=self)
            if dialog.exec():
                self.status.setText("Your password was changed.")
        except KnownError as exc:
            show_error(self, exc)
