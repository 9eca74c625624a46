"""Staff notes about a student, with sensitive labels (the attendance-service statement's rule):
a sensitive note's text is seen only by its author, the data custodian, principal class and
careers/welfare staff; everyone else who may see the student sees that a sensitive note exists
(so they know to ask), never its text.

Corrections (issue 10 s 3, IPP 6): a note is never edited in place. ``correct_note`` keeps the
text it replaces as an earlier version (``student_note_version``: who wrote it and when, who
replaced it, when and why) and makes the new text the note's current text. Only the note's
author, the data custodian and principal class may correct a note; its versions are read by
whoever may read the note (a sensitive note's versions stay sensitive)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from mapping_tool.errors import PermissionDenied, UsageError
from mapping_tool.security.roles import Role
from mapping_tool.services import students
from mapping_tool.services.context import UserSession, utcnow
from mapping_tool.store.models import StudentNote
from mapping_tool.store.models_records import StudentNoteVersion

SENSITIVE_READERS = (Role.CUSTODIAN, Role.PRINCIPAL, Role.WELFARE)
HIDDEN_TEXT = "A sensitive note exists. Ask its author or the welfare team if you need to know."
MAX_NOTE = 4000
CORRECTORS = (Role.CUSTODIAN, Role.PRINCIPAL)  # besides the note's author
MAX_REASON = 500


@dataclass(frozen=True)
class NoteView:
    id: int
    student_key: str
    author: str
    created_at: datetime
    sensitive: bool
    text: str | None  # None when the reader may not see a sensitive note's text
    # the newest correction (None when the note was never corrected) and how many versions it has
    corrected_at: datetime | None = None
    corrected_by: str = ""
    versions: int = 1

    @property
    def display_text(self) -> str:
        return self.text if self.text is not None else HIDDEN_TEXT


@dataclass(frozen=True)
class NoteVersionView:
    """One version of a note: ``current`` is the note's text now; an earlier version says who
    replaced it, when and why."""

    note_id: int
    version: int
    written_by: str
    written_at: datetime
    text: str
    current: bool
    replaced_by: str = ""
    replaced_at: datetime | None = None
    reason: str = ""


def _may_read(user: UserSession, note: StudentNote) -> bool:
    return not note.sensitive or note.author == user.username or user.role in SENSITIVE_READERS


def may_correct(user: UserSession, author: str) -> bool:
    """The note's author, the data custodian and principal class (one rule for the UI and the service)."""
    return author == user.username or user.role in CORRECTORS


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _digest(text: str) -> dict[str, object]:
    return {"chars": len(text), "text_sha256": _sha(text)}


def _corrections(session: object, note_ids: list[int]) -> dict[int, tuple[int, datetime, str]]:
    """For each corrected note: (versions, newest correction's time, who made it)."""
    if not note_ids:
        return {}
    out: dict[int, tuple[int, datetime, str]] = {}
    rows = session.execute(  # type: ignore[attr-defined]
        select(StudentNoteVersion.note_id, StudentNoteVersion.version, StudentNoteVersion.replaced_at,
               StudentNoteVersion.replaced_by)
        .where(StudentNoteVersion.note_id.in_(note_ids)).order_by(StudentNoteVersion.note_id, StudentNoteVersion.version)
    ).all()
    for r in rows:
        out[r.note_id] = (r.version + 1, r.replaced_at, r.replaced_by)
    return out


def _view(user: UserSession, n: StudentNote, corrected: dict[int, tuple[int, datetime, str]]) -> NoteView:
    versions, at, by = corrected.get(n.id, (1, None, ""))
    return NoteView(n.id, n.student_key, n.author, n.created_at, n.sensitive, n.text if _may_read(user, n) else None,
                    at, by, versions)


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
        corrected = _corrections(session, [n.id for n in notes])
        views = [_view(user, n, corrected) for n in notes]
    with user.store.write() as session:
        user.store.audit(
            session, user.username, "notes.viewed", object_type="student", object_id=key,
            detail={"notes": [v.id for v in views], "withheld": [v.id for v in views if v.text is None]},
        )
    return views


def _note(user: UserSession, session: object, note_id: int) -> StudentNote:
    note = session.get(StudentNote, note_id)  # type: ignore[attr-defined]
    if note is None:
        raise UsageError(f"There is no note {note_id} that you may see.")
    return note


def correct_note(user: UserSession, note_id: int, new_text: str, reason: str) -> NoteView:
    """Correct a note: the text it replaces is kept as an earlier version (who wrote it, when;
    who replaced it, when and why). Refused with one sentence, changing nothing, for anyone but
    the note's author, the data custodian and principal class, without a reason, or without a
    change."""
    user.check_active()
    with user.store.read() as session:
        note = _note(user, session, note_id)
        key, author = note.student_key, note.author
    try:
        students.get_student(user, key, audit=False)  # row scope: out of scope looks like not existing
    except students.NotVisible:
        raise UsageError(f"There is no note {note_id} that you may see.") from None
    if not may_correct(user, author):
        with user.store.write() as session:
            user.store.audit(session, user.username, "note.correction-refused", object_type="student", object_id=key,
                             detail={"note": note_id})
        raise PermissionDenied("Only the note's author, the data custodian or principal class may correct a note.")
    body = (new_text or "").strip()
    why = (reason or "").strip()
    if not why:
        raise UsageError("Say why the note is being corrected (a reason is kept with the earlier version).")
    if len(why) > MAX_REASON:
        raise UsageError(f"A reason is at most {MAX_REASON} characters.")
    if not body:
        raise UsageError("A corrected note cannot be empty.")
    if len(body) > MAX_NOTE:
        raise UsageError(f"A note is at most {MAX_NOTE} characters.")
    with user.store.write() as session:
        note = _note(user, session, note_id)
        if body == note.text:
            raise UsageError("The corrected text is the same as the note's current text.")
        last = session.execute(
            select(StudentNoteVersion).where(StudentNoteVersion.note_id == note_id)
            .order_by(StudentNoteVersion.version.desc()).limit(1)
        ).scalars().first()
        # the text being replaced was written by the note's author, or by the last correction
        written_by, written_at = (last.replaced_by, last.replaced_at) if last else (note.author, note.created_at)
        version = (last.version + 1) if last else 1
        now = utcnow()
        old = note.text
        session.add(StudentNoteVersion(note_id=note_id, version=version, text=old, written_by=written_by,
                                       written_at=written_at, replaced_by=user.username, replaced_at=now, reason=why))
        note.text = body
        session.flush()
        # As add_note: the log outlives the student, so it keeps lengths and checksums, never words
        user.store.audit(
            session, user.username, "note.corrected", object_type="student", object_id=key,
            detail={"note": note_id, "sensitive": note.sensitive, "version": version + 1,
                    **_digest(body), "replaced_chars": len(old), "replaced_sha256": _sha(old),
                    "reason_chars": len(why), "reason_sha256": _sha(why)},
        )
        corrected = _corrections(session, [note_id])
        return _view(user, note, corrected)


def note_versions(user: UserSession, note_id: int) -> list[NoteVersionView]:
    """Every version of a note, the first first and the current last. A note outside the user's
    scope looks like no note; a sensitive note's versions are refused (and the refusal recorded)
    to anyone who may not read its text."""
    user.check_active()
    with user.store.read() as session:
        note = _note(user, session, note_id)
        key = note.student_key
    try:
        students.get_student(user, key, audit=False)
    except students.NotVisible:
        raise UsageError(f"There is no note {note_id} that you may see.") from None
    with user.store.read() as session:
        note = _note(user, session, note_id)
        if not _may_read(user, note):
            refused = True
        else:
            refused = False
            earlier = session.execute(
                select(StudentNoteVersion).where(StudentNoteVersion.note_id == note_id).order_by(StudentNoteVersion.version)
            ).scalars().all()
            views = [NoteVersionView(note_id, v.version, v.written_by, v.written_at, v.text, False, v.replaced_by,
                                     v.replaced_at, v.reason) for v in earlier]
            written_by, written_at = (earlier[-1].replaced_by, earlier[-1].replaced_at) if earlier else (note.author, note.created_at)
            views.append(NoteVersionView(note_id, len(earlier) + 1, written_by, written_at, note.text, True))
    with user.store.write() as session:
        user.store.audit(session, user.username, "note.versions-refused" if refused else "note.versions-viewed",
                         object_type="student", object_id=key, detail={"note": note_id})
    if refused:
        raise PermissionDenied("This note is sensitive: only its author, the welfare team, the data custodian and "
                               "principal class may read it and its earlier versions.")
    return views

