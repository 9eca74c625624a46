"""Profile: each user sees and corrects what the tool holds about them (name, position, contacts)."""

from __future__ import annotations

from PySide6.QtCore import Signal
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

_ERROR_STYLE = "color: #1f1f1f; background: #fdecea; border: 1px solid #e0b4b4; padding: 6px;"


class ProfilePage(QWidget):
    """``saved`` is emitted after a successful save (the window shows the corrected name)."""

    saved = Signal()

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
            ("Ph&one:", self.phone, "Phone"),
        ):
            w.setAccessibleName(name)
            label = QLabel(text)
            label.setBuddy(w)
            form.addRow(label, w)
        # Fields as wide as a name or an address needs, not the whole window.
        holder = QWidget()
        holder.setMaximumWidth(640)
        holder.setLayout(form)
        form.setContentsMargins(0, 8, 0, 8)
        layout.addWidget(holder)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setMaximumWidth(640)
        self.status.setAccessibleName("Profile message")
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        self.save = QPushButton("&Save changes")
        self.save.clicked.connect(self.save_changes)
        self.change_password = QPushButton("Change pass&word…")
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
            (("Home group " if len(view.home_groups) == 1 else "Home groups ") + ", ".join(view.home_groups))
            if view.home_groups
            else (("Year " if len(view.year_levels) == 1 else "Years ")
                  + ", ".join(str(int(y)) if str(y).isdigit() else str(y) for y in view.year_levels))
            if view.year_levels
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
            self._say(exc.message, error=True)
            return
        self._say("Saved.")
        self.refresh()
        self.saved.emit()

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet(_ERROR_STYLE if error else "")
        self.status.setText(text)

    def _change_password(self) -> None:
        from mapping_tool.ui.signin import ChangePasswordDialog

        try:
            dialog = ChangePasswordDialog(self.session, forced=False, parent=self)
            if dialog.exec():
                self._say("Your password was changed.")
        except KnownError as exc:
            show_error(self, exc)
