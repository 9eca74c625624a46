"""A demo school imported twice (two refreshes, so that measures have a history and flags can be
new), built once per test session from the template store; each test gets its own copy."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from tests.support import CUSTODIAN

FIRST_EXTRACT = date(2026, 6, 19)
EXTRACT_DATE = date(2026, 9, 18)
_built: dict[str, Path] = {}


def build_school(template_store: Path, store_key: bytes, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Imported once per session (about a second); the sign-in skips key derivation."""
    if "school" in _built:
        return _built["school"]
    from importers.demo import generate_demo_extract
    from mapping_tool.services import auth, imports
    from tests.ui.conftest import open_session

    base = tmp_path_factory.mktemp("review-school")
    folder = base / "store"
    shutil.copytree(template_store, folder)
    (folder / "smt.signin").unlink(missing_ok=True)
    user = open_session(folder, store_key, CUSTODIAN)
    try:
        for extract_date in (FIRST_EXTRACT, EXTRACT_DATE):
            extract = base / f"eduhub-{extract_date}"
            generate_demo_extract(extract, students=90, extract_date=extract_date, years=1, seed=3)
            imports.import_cases21(user, extract, accept_warnings=True)  # two demo extracts: students leave between
    finally:
        auth.sign_out(user)
    _built["school"] = folder
    return folder


def copy_school(school: Path, tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(school, target)
    (target / "smt.signin").unlink(missing_ok=True)
    return target


def audit_details(store_dir: Path, key: bytes, action: str) -> list[dict]:  # type: ignore[type-arg]
    """The detail of each audit entry with ``action``, read with the raw key; the log names
    students by pseudonym, so ``student_keys`` are read back through the pseudonym table."""
    import json

    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(store_dir).db, key)
    try:
        names = dict(conn.execute("SELECT pseudonym, student_key FROM audit_pseudonym").fetchall())
        out = [json.loads(r[0]) for r in conn.execute("SELECT detail FROM audit_entry WHERE action = ? ORDER BY id", (action,))]
    finally:
        conn.close()
    for detail in out:
        if isinstance(detail.get("student_keys"), list):
            detail["student_keys"] = [names.get(k, k) for k in detail["student_keys"]]
    return out


def set_surname(store_dir: Path, key: bytes, student_key: str, surname: str) -> None:
    """Test data that a CASES21 extract could carry (a name starting with '=')."""
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(store_dir).db, key)
    try:
        conn.execute("UPDATE student SET surname = ? WHERE student_key = ?", (surname, student_key))
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
