"""Helpers shared by the GUI tests."""

from __future__ import annotations

from pathlib import Path


def audit_actions(store_dir: Path, key: bytes) -> list[tuple[str, str, str]]:
    """(actor, action, object_id) of every audit entry, read with the raw key (works after sign-out)."""
    from mapping_tool.store import db
    from mapping_tool.store.files import StoreFiles

    conn = db.connect_raw(StoreFiles(store_dir).db, key)
    try:
        return [
            tuple(r)
            for r in conn.execute("SELECT actor, action, object_id FROM audit_entry ORDER BY id")
        ]
    finally:
        conn.close()
