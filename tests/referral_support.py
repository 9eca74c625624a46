"""Helpers for the referral tests: a demo school whose extract is dated today (so it is not
stale), and row counts of the referral tables read straight from the encrypted file."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD

TABLES = ("agency", "consent_record", "consent_evidence", "referral", "referral_status_change", "file_note")


def current_school(template_store: Path, root: Path, *, students: int = 40, seed: int = 21, extract_date: date | None = None) -> Path:
    from importers.demo import generate_demo_extract
    from mapping_tool.services import auth, imports

    folder = root / "store"
    shutil.copytree(template_store, folder)
    (folder / "smt.signin").unlink(missing_ok=True)
    generate_demo_extract(root / "eduhub", students=students, extract_date=extract_date or date.today(), years=1, seed=seed)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        imports.import_cases21(user, root / "eduhub")
    finally:
        auth.sign_out(user)
    return folder


def table_counts(folder: Path, key: bytes) -> dict[str, int]:
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(folder).db, key)
    try:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        conn.close()


def referral_rows(folder: Path, key: bytes) -> list[tuple]:  # type: ignore[type-arg]
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(folder).db, key)
    try:
        return conn.execute("SELECT id, status, authorised_by FROM referral ORDER BY id").fetchall()
    finally:
        conn.close()
