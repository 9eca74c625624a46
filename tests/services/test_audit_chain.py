"""The audit log is chained: an entry edited, inserted or deleted with the raw key, or entries cut
off the end, are detected and named."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher

from mapping_tool import cli
from mapping_tool.services import audit, auth
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD


def _raw(store_dir: Path, key: bytes):  # type: ignore[no-untyped-def]
    conn = sqlcipher.connect(str(store_dir / "smt.db"), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    return conn


def _verify(store_dir: Path) -> audit.VerifyResult:
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        # sign-in itself appends an entry; verify what was there before plus that one
        return audit.verify(user)
    finally:
        auth.sign_out(user)


def test_untouched_log_is_intact(store_dir: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    assert _verify(store_dir).intact
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    assert cli.run(["--store", str(store_dir), "--user", CUSTODIAN, "audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("intact")


@pytest.mark.parametrize(
    "tamper, entry",
    [
        ("UPDATE audit_entry SET actor = 'someone-else' WHERE id = 3", 3),
        ("UPDATE audit_entry SET detail = '{\"role\": 1}' WHERE id = 2", 2),
        ("DELETE FROM audit_entry WHERE id = 4", 4),
        ("UPDATE audit_entry SET id = 1000 WHERE id = 3", 3),
    ],
)
def test_edits_and_deletions_are_named(store_dir: Path, store_key: bytes, tamper: str, entry: int, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    conn = _raw(store_dir, store_key)
    conn.execute(tamper)
    conn.close()
    result = _verify(store_dir)
    assert not result.intact and result.entry_id == entry
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    assert cli.run(["--store", str(store_dir), "--user", CUSTODIAN, "audit", "verify"]) == 1
    assert f"entry {entry}" in capsys.readouterr().out


def test_an_inserted_entry_is_detected(store_dir: Path, store_key: bytes) -> None:
    conn = _raw(store_dir, store_key)
    row = conn.execute("SELECT at, prev_hash, hash FROM audit_entry WHERE id = 2").fetchone()
    conn.execute("UPDATE audit_entry SET id = id + 100 WHERE id >= 3")
    conn.execute(
        "INSERT INTO audit_entry (id, at, actor, action, object_type, object_id, detail, prev_hash, hash) "
        "VALUES (3, ?, 'intruder', 'sign-in', '', '', '{}', ?, ?)",
        (row[0], row[2], "f" * 64),
    )
    conn.close()
    result = _verify(store_dir)
    assert not result.intact and result.entry_id == 3


def test_truncation_is_detected_by_the_anchor_outside_the_database(store_dir: Path, store_key: bytes) -> None:
    conn = _raw(store_dir, store_key)
    last = conn.execute("SELECT max(id) FROM audit_entry").fetchone()[0]
    conn.execute("DELETE FROM audit_entry WHERE id > ?", (last - 2,))
    conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_entry'", (last - 2,))
    conn.close()
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        # sign-in appended entry (last - 1) again, re-chained; the anchor still names the old end
        result = audit.verify(user)
    finally:
        auth.sign_out(user)
    assert not result.intact
