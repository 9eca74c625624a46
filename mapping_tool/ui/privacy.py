"""The privacy statement (issue 10 s 5): what the tool holds, why, who sees what, how long it is
kept and how to ask for access, with the school's own policy text; each user acknowledges it at
first sign-in (and again when its text changes). The acknowledgement is recorded."""

from __future__ import annotations

from html import escape

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget


def statement_html(text: str) -> str:
    """Paragraphs; a one-line paragraph followed by text is a heading."""
    out = []
    for block in text.split("\n\n"):
        lines = block.split("\n", 1)
        if len(lines) == 2 and len(lines[0]) < 60:
            out.append(f"<h3>{escape(lines[0])}</h3><p>{escape(lines[1]).replace(chr(10), '<br>')}</p>")
        else:
            out.append(f"<p>{escape(block).replace(chr(10), '<br>')}</p>")
    return "\n".join(out)


class PrivacyStatementDialog(QDialog):
    def __init__(self, session, parent: QWidget | None = None) -> None:  # type: ignore[no-untyped-def]
        from mapping_tool.services import records_privacy

        super().__init__(parent)
        self.session = session
        self.setWindowTitle("Privacy statement")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Before you start, please read how the tool handles students' information.</b>"))
        self.text = QTextBrowser()
        self.text.setHtml(statement_html(records_privacy.statement(session)))
        self.text.setAccessibleName("Privacy statement")
        layout.addWidget(self.text, 1)
        self.buttons = QDialogButtonBox()
        self.accept_button = self.buttons.addButton("I have read the privacy statement", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton("Sign out", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self._acknowledge)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.resize(720, 620)

    def _acknowledge(self) -> None:
        from mapping_tool.services import records_privacy

        records_privacy.acknowledge(self.session)
        self.accept()

    @classmethod
    def acknowledged(cls, session, parent: QWidget | None = None) -> bool:  # type: ignore[no-untyped-def]
        """True when the user has acknowledged the current statement (asking now if needed)."""
        from mapping_tool.services import records_privacy

        if not records_privacy.needs_acknowledgement(session):
            return True
        return bool(cls(session, parent).exec())
