"""Corrections (issue 10 s 3, IPP 6): the "Correct…" dialog of a student note and the list of a
note's versions, and the dialog that corrects a consent recorded wrongly. Nothing is edited in
place: a note keeps the text it replaces as an earlier version, with who replaced it, when and
why; a consent recorded wrongly is replaced by a new record and both are kept."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from mapping_tool.ui.pages.intervention_widgets import ServiceDialog, say

CORRECT_INTRO = ("Write the note as it should read. The text it replaces is kept as an earlier version, with "
                 "your name, the date and your reason, and stays visible to everyone who may read the note.")


def _notes():  # type: ignore[no-untyped-def]
    from mapping_tool.services import notes

    return notes


class CorrectNoteDialog(ServiceDialog):
    """Correct one note: its full new text and a reason (both required). ``done_with`` carries
    the student's notes as they now read."""

    def __init__(self, session: Any, note: Any, author_name: str, parent: QWidget | None = None) -> None:
        super().__init__(session, "Correct a note", parent)
        from mapping_tool.ui.pages.student_panel import local_time

        self.note = note
        intro = QLabel(CORRECT_INTRO)
        intro.setWordWrap(True)
        self.form.addRow(intro)
        written = QLabel(f"<small>Written {escape(local_time(note.created_at))} by {escape(author_name)}"
                         + (" &nbsp;<b>[Sensitive]</b>: the correction stays sensitive" if note.sensitive else "")
                         + "</small>")
        written.setTextFormat(Qt.TextFormat.RichText)
        written.setWordWrap(True)
        self.form.addRow(written)
        self.text = QPlainTextEdit(note.text or "")
        self.text.setTabChangesFocus(True)
        self.text.setAccessibleName("Corrected note")
        self.text.setFixedHeight(self.fontMetrics().height() * 6)
        self.form.addRow("&Note:", self.text)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason for the correction")
        self.reason.setPlaceholderText("e.g. wrong day; it was the father who rang; typing error")
        self.reason.setMaxLength(_notes().MAX_REASON)
        self.form.addRow("&Reason:", self.reason)
        self.ok.setText("Save the correction")
        self.setMinimumWidth(520)
        self.finish_layout()

    def call(self) -> Callable[[], object] | None:
        text = self.text.toPlainText().strip()
        reason = self.reason.text().strip()
        if not text:
            say(self.message, "A corrected note cannot be empty.")
            self.text.setFocus()
            return None
        if text == (self.note.text or "").strip():
            say(self.message, "Change the text first: it is the same as the note's current text.")
            self.text.setFocus()
            return None
        if not reason:
            say(self.message, "Say why the note is being corrected: the reason is kept with the earlier version.")
            self.reason.setFocus()
            return None
        session, note_id, key = self.session, self.note.id, self.note.student_key
        notes = _notes()

        def work() -> object:
            notes.correct_note(session, note_id, text, reason)
            return notes.list_notes(session, key)

        return work


def versions_html(versions: Sequence[Any], names: dict[str, str]) -> list[str]:
    """One block a version, the current text last: who wrote it and when; for an earlier
    version, who replaced it, when and why."""
    from mapping_tool.ui.pages.student_panel import local_time

    blocks = []
    for v in versions:
        who = escape(names.get(v.written_by, v.written_by))
        head = f"<b>Version {v.version}{' (current)' if v.current else ''}</b> · written {local_time(v.written_at)} by {who}"
        body = escape(v.text).replace("\n", "<br>")
        tail = ""
        if not v.current:
            by = escape(names.get(v.replaced_by, v.replaced_by))
            tail = f"<br><small>Replaced {local_time(v.replaced_at)} by {by}. Reason: {escape(v.reason)}</small>"
        blocks.append(f"{head}<br>{body}{tail}")
    return blocks


class NoteVersionsDialog(QDialog):
    """Every version of one note (read-only), oldest first."""

    def __init__(self, versions: Sequence[Any], names: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Earlier versions of a note")
        layout = QVBoxLayout(self)
        intro = QLabel("A corrected note keeps every earlier text, with who replaced it, when and why.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        self.version_labels: list[QLabel] = []
        for html in versions_html(versions, names):
            label = QLabel(html)
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                          | Qt.TextInteractionFlag.TextSelectableByKeyboard)
            label.setFrameShape(QFrame.Shape.StyledPanel)
            label.setContentsMargins(6, 4, 6, 4)
            self.version_labels.append(label)
            inner_layout.addWidget(label)
        inner_layout.addStretch(1)
        scroll.setWidget(inner)
        layout.addWidget(scroll, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(560, 340)


CONSENT_INTRO = ("Correct how this consent was recorded. A consent is never edited: a new record with the "
                 "corrected details replaces it, the wrong one is kept and marked as recorded in error, and a "
                 "referral not yet sent follows the new record. If the family consented to something different "
                 "(agency, purpose, information), record a withdrawal and a new consent instead.")


class CorrectConsentDialog(QDialog):
    """Who gave consent, their relationship, the witness and the way it was given, with a reason.
    ``ask`` returns the changes and the reason, or None when cancelled (tests replace it)."""

    def __init__(self, row: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Correct consent {row.id}")
        self.row = row
        form = QFormLayout(self)
        intro = QLabel(CONSENT_INTRO)
        intro.setWordWrap(True)
        form.addRow(intro)
        self.giver_name = QLineEdit(row.giver_name)
        self.giver_name.setAccessibleName("Name of the person who gave consent")
        self.relationship = QLineEdit(row.relationship)
        self.relationship.setAccessibleName("Their relationship to the student")
        self.method = QComboBox()
        self.method.setAccessibleName("How consent was given")
        for m in ("written", "verbal"):
            self.method.addItem(m.capitalize(), m)
        self.method.setCurrentIndex(max(0, self.method.findData(row.method)))
        self.witness = QLineEdit(row.witness)
        self.witness.setAccessibleName("Witness of a verbal consent")
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Reason for the correction")
        self.reason.setPlaceholderText("e.g. the mother's name was misspelt")
        form.addRow("&Given by (name):", self.giver_name)
        form.addRow("&Relationship:", self.relationship)
        form.addRow("&Way given:", self.method)
        form.addRow("Wi&tness:", self.witness)
        form.addRow("Rea&son:", self.reason)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.hide()
        form.addRow(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Replace with the corrected record")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setMinimumWidth(520)

    def changes(self) -> dict[str, str]:
        new = {"giver_name": self.giver_name.text().strip(), "relationship": self.relationship.text().strip(),
               "method": str(self.method.currentData()), "witness": self.witness.text().strip()}
        old = {"giver_name": self.row.giver_name, "relationship": self.row.relationship, "method": self.row.method,
               "witness": self.row.witness}
        return {k: v for k, v in new.items() if v != old[k]}

    def accept(self) -> None:
        if not self.changes():
            say(self.message, "Change the details that were recorded wrongly first.")
            return
        if not self.reason.text().strip():
            say(self.message, "Say why the consent record is being corrected: the reason is kept with it.")
            self.reason.setFocus()
            return
        super().accept()

    @classmethod
    def ask(cls, parent: QWidget | None, row: Any) -> tuple[dict[str, str], str] | None:
        dialog = cls(row, parent)
        try:
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            return dialog.changes(), dialog.reason.text().strip()
        finally:
            dialog.deleteLater()
