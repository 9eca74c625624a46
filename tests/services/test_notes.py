"""Sensitive labels: only the author, custodian, principal class and welfare read the text;
others see that a sensitive note exists, never its text."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mapping_tool.errors import UsageError
from mapping_tool.services import audit, auth, notes, students
from tests.support import (
    CUSTODIAN,
    CUSTODIAN_PASSWORD,
    HGT,
    HGT_PASSWORD,
    PRINCIPAL,
    PRINCIPAL_PASSWORD,
    WELFARE,
    WELFARE_PASSWORD,
    YLC,
    YLC_PASSWORD,
    imported_school,
)


@pytest.fixture(scope="module")
def school(template_store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with an imported demo school (module scope: imported once)."""
    return imported_school(template_store, tmp_path_factory.mktemp("notes"), students=40, seed=9)


def test_sensitive_note_text_reaches_only_its_readers(school: Path) -> None:
    teacher = auth.sign_in(school, HGT, HGT_PASSWORD)
    try:
        key = students.list_students(teacher, audit=False).rows[0][0]
        notes.add_note(teacher, key, "Spoke with family about transport", sensitive=False)
        secret = notes.add_note(teacher, key, "QZXSENSITIVE disclosure details", sensitive=True)
        mine = notes.list_notes(teacher, key)
        assert [n.text for n in mine][-1] == "QZXSENSITIVE disclosure details"  # the author reads it
    finally:
        auth.sign_out(teacher)
    for name, password, may_read in (
        (CUSTODIAN, CUSTODIAN_PASSWORD, True), (PRINCIPAL, PRINCIPAL_PASSWORD, True),
        (WELFARE, WELFARE_PASSWORD, True), (YLC, YLC_PASSWORD, False),
    ):
        user = auth.sign_in(school, name, password)
        try:
            seen = {n.id: n for n in notes.list_notes(user, key)}
            assert secret.id in seen and seen[secret.id].sensitive
            assert (seen[secret.id].text is not None) == may_read, name
            if not may_read:
                assert "sensitive note exists" in seen[secret.id].display_text
            assert any(n.text == "Spoke with family about transport" for n in seen.values())
        finally:
            auth.sign_out(user)
    custodian = auth.sign_in(school, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        added = [e for e in audit.entries(custodian, action="note.added") if json.loads(e.detail)["sensitive"]]
        assert added and "QZXSENSITIVE" not in added[0].detail  # sensitive text is not copied into the log
    finally:
        auth.sign_out(custodian)


def test_notes_respect_row_scope_and_reject_empty_text(school: Path) -> None:
    teacher = auth.sign_in(school, HGT, HGT_PASSWORD)
    try:
        with pytest.raises(students.NotVisible):
            notes.add_note(teacher, "NOPE0001", "x")
        key = students.list_students(teacher, audit=False).rows[0][0]
        with pytest.raises(UsageError):
            notes.add_note(teacher, key, "   ")
    finally:
        auth.sign_out(teacher)
