"""Staff notes about a student, with sensitive labels (the attendance-service statement's rule):
a sensitive note's text is seen only by its author, the data custodian, principal class and
careers/welfare staff; everyone else who may see the student sees that a sensitive note exists
(so they know to ask), never its text."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from mapping_tool.errors import UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services import students
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.store.models import StudentNote

SENSITIVE_READERS = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
HIDDEN_TEXT = "A sensitive note exists. Ask its author or the welfare team if you need to know."
MAX_NOTE = 4000


@dataclass(frozen=True)
class NoteView:
    id: int
    student_key: str
    author: str
    created_at: datetime
    sensitive: bool
    text: str | None  # None when the reader may not see a sensitive note's text

    @property
    def display_text(self) -> str:
        return self.text if self.text is not None else HIDDEN_TEXT


def _may_read(user: UserSession, note: StudentNote) -> bool:
    return not note.sensitive or note.author == user.username or user.role in SENSITIVE_READERS


def add_note(user: UserSession, student_key: str, text: str, *, sensitive: bool = False) -> NoteView:
    students.get_student(user, student_key)  # scope check (and the view is audited)
    body = text.strip()
    if not body:
        raise UsageError("A note cannot be empty.")
    if len(body) > MAX_NOTE:
        raise UsageError(f"A note is at most {MAX_NOTE} characters.")
    key = student_key.strip().upper()
    with user.store.write() as session:
        note = StudentNote(student_key=key, author=user.username, created_at=utcnow(), text=body, sensitive=sensitive)
        session.add(note)
        session.flush()
        user.store.audit(
            session, user.username, "note.added", object_type="student", object_id=key,
            # The text stays in the note (disposed of with the student); the log keeps a checksum,
            # because an entry cannot be removed from the chain at disposal.
            detail={"note": note.id, "sensitive": sensitive, "chars": len(body),
                    "text_sha256": hashlib.sha256(body.encode("utf-8")).hexdigest()},
        )
        return NoteView(note.id, key, note.author, note.created_at, sensitive, body)


def list_notes(user: UserSession, student_key: str) -> list[NoteView]:
    students.get_student(user, student_key, audit=False)  # scope; the notes view is recorded below
    key = student_key.strip().upper()
    with user.store.read() as session:
        notes = session.execute(
            select(StudentNote).where(StudentNote.student_key == key).order_by(StudentNote.created_at)
        ).scalars().all()
        views = [
            NoteView(n.id, n.student_key, n.author, n.created_at, n.sensitive, n.text if _may_read(user, n) else None)
            for n in notes
        ]
    with user.store.write() as session:
        user.store.audit(
            session, user.username, "notes.viewed", object_type="student", object_id=key,
            detail={"notes": [v.id for v in views], "withheld": [v.id for v in views if v.text is None]},
        )
    return views
