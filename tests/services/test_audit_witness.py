"""Issue 11, item 5: the end of the audit log cannot be cut off unnoticed.

A missing anchor is reported and never silently recreated; an older anchor put back is caught by
the witnesses the store folder cannot roll back (this PC's local settings, backups)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlcipher3.dbapi2 as sqlcipher

from mapping_tool import cli
from mapping_tool.paths import settings_dir
from mapping_tool.services import audit, auth, backup, witness
from tests.support import CUSTODIAN, CUSTODIAN_PASSWORD, RECOVERY


def _cut(store_dir: Path, key: bytes, keep: int) -> None:
    """What someone with the raw key could do: delete the last entries."""
    conn = sqlcipher.connect(str(store_dir / "smt.db"), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    conn.execute("DELETE FROM audit_entry WHERE id > ?", (keep,))
    conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'audit_entry'", (keep,))
    conn.close()


def _last_id(store_dir: Path, key: bytes) -> int:
    conn = sqlcipher.connect(str(store_dir / "smt.db"), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
    try:
        return int(conn.execute("SELECT max(id) FROM audit_entry").fetchone()[0])
    finally:
        conn.close()


def _verify(store_dir: Path, **kw) -> audit.VerifyResult:  # type: ignore[no-untyped-def]
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        return audit.verify(user, **kw)
    finally:
        auth.sign_out(user)


def test_a_deleted_anchor_is_reported_and_not_recreated(store_dir: Path, store_key: bytes) -> None:
    assert _verify(store_dir).intact
    keep = _last_id(store_dir, store_key) - 3
    _cut(store_dir, store_key, keep)
    (store_dir / "smt.anchor").unlink()
    shutil.rmtree(settings_dir(), ignore_errors=True)  # and on a PC that never saw the store
    result = _verify(store_dir)
    assert not result.intact and "anchor" in result.problem and "missing" in result.problem
    assert not (store_dir / "smt.anchor").exists()  # sign-in and sign-out did not write a new one
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert any("anchor file outside the database is missing" in n for n in user.notices)
    finally:
        auth.sign_out(user)


def test_an_older_anchor_put_back_is_caught_by_this_pcs_witness(store_dir: Path, store_key: bytes) -> None:
    assert _verify(store_dir).intact
    older = (store_dir / "smt.anchor").read_bytes()
    keep = _last_id(store_dir, store_key)
    for _ in range(3):  # more work, more entries, each seen by the custodian on this PC
        auth.sign_out(auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD))
    _cut(store_dir, store_key, keep)
    (store_dir / "smt.anchor").write_bytes(older)
    result = _verify(store_dir)
    assert not result.intact
    assert "cut off" in result.problem and "custodian saw on this PC" in result.problem, result.problem


def test_a_backup_is_a_witness_another_pc_can_use(store_dir: Path, store_key: bytes, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    older = (store_dir / "smt.anchor").read_bytes()
    keep = _last_id(store_dir, store_key)
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    saved = tmp_path / "b.smtbackup"
    backup.backup(user, saved)
    auth.sign_out(user)
    _cut(store_dir, store_key, keep)
    (store_dir / "smt.anchor").write_bytes(older)
    shutil.rmtree(settings_dir(), ignore_errors=True)  # this PC's witness gone too
    result = _verify(store_dir, backups=[saved])
    assert not result.intact and "the backup b.smtbackup" in result.problem
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code = cli.run(["--store", str(store_dir), "--user", CUSTODIAN, "audit", "verify", "--backup", str(saved)])
    out = capsys.readouterr().out
    assert code == 1 and out.startswith("broken:") and "b.smtbackup" in out


def test_a_restore_writes_a_fresh_anchor_and_is_audited(store_dir: Path, store_key: bytes, tmp_path: Path) -> None:
    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    saved = tmp_path / "b.smtbackup"
    backup.backup(user, saved)
    auth.sign_out(user)
    for _ in range(2):  # the log moves on after the backup; this PC's witness with it
        auth.sign_out(auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD))
    backup.restore(store_dir, saved, backup.RestoreCredentials(recovery_passphrase=RECOVERY))
    assert (store_dir / "smt.anchor").exists()
    assert _verify(store_dir, backups=[saved]).intact  # the roll-back was deliberate and recorded
    conn = sqlcipher.connect(str(store_dir / "smt.db"), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{store_key.hex()}'\"")
    detail = conn.execute("SELECT detail FROM audit_entry WHERE action = 'backup.restored'").fetchone()[0]
    conn.close()
    assert "witnesses_before" in detail


def test_a_backup_whose_log_was_cut_is_refused_at_restore(store_dir: Path, store_key: bytes, tmp_path: Path) -> None:
    import json
    import zipfile

    user = auth.sign_in(store_dir, CUSTODIAN, CUSTODIAN_PASSWORD)
    saved = tmp_path / "b.smtbackup"
    backup.backup(user, saved)
    auth.sign_out(user)
    with zipfile.ZipFile(saved) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    manifest = json.loads(parts["manifest.json"])
    manifest["anchor"]["last_id"] += 5  # an anchor the log does not reach (its MAC no longer fits)
    parts["manifest.json"] = json.dumps(manifest).encode()
    bad = tmp_path / "bad.smtbackup"
    with zipfile.ZipFile(bad, "w") as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    from mapping_tool.errors import UsageError
    from tests.support import file_hashes

    before = file_hashes(store_dir)
    with pytest.raises(UsageError, match="audit log does not reach the anchor"):
        backup.restore(store_dir, bad, backup.RestoreCredentials(recovery_passphrase=RECOVERY))
    assert {k: v for k, v in file_hashes(store_dir).items() if not k.endswith("-shm")} == {
        k: v for k, v in before.items() if not k.endswith("-shm")}


def test_a_witness_guards_the_end_of_the_log_not_its_start() -> None:
    """After entries past their retention period were disposed of, the log starts at 20: a
    witness of a disposed entry cannot be hash-checked and is accepted while the log reaches past
    it; a witness past the log's end, or of a kept entry with another hash, is reported."""
    kept = {i: f"h{i}" for i in range(20, 31)}
    seen = witness.Witness("the user principal saw on this PC", 13, "old")
    assert witness.check(kept, [seen], 30, 20) is None
    assert witness.check(kept, [witness.Witness("the user principal saw on this PC", 25, "h25")], 30, 20) is None
    cut = witness.check(kept, [seen, witness.Witness("the user custodian saw on this PC", 33, "h33")], 30, 20)
    assert cut == ("the log ends at entry 30, before entry 33, which the user custodian saw on this PC: "
                   "entries were cut off", 31)
    rewritten = witness.check(kept, [witness.Witness("the backup b.smtbackup recorded", 25, "other")], 30, 20)
    assert rewritten == ("entry 25 differs from the one the backup b.smtbackup recorded: the log was rewritten", 25)
    assert witness.check({}, [seen], 0, 20) is not None  # nothing left at all: cut off
