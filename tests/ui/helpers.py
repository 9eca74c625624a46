"""Helpers shared by the GUI tests."""

from __future__ import annotations

from pathlib import Path


def audit_actions(store_dir: Path, key: bytes) -> list[tuple[str, str, str]]:
    """(actor, action, object_id) of every audit entry, read with the raw key (works after sign-out).
    The log names a student by pseudonym; a current student's pseudonym is read back as the key."""
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(store_dir).db, key)
    try:
        names = dict(conn.execute("SELECT pseudonym, student_key FROM audit_pseudonym").fetchall())
        return [
            (r[0], r[1], names.get(r[2], r[2]))
            for r in conn.execute("SELECT actor, action, object_id FROM audit_entry ORDER BY id")
        ]
    finally:
        conn.close()
