"""Upgrades keep the data: a store made by the previous release (0.1.0, schema 0004) opens in this
version after a backup, every table keeps its rows and the audit chain holds; each migration
upgrades a store made at the revision before it; a store newer than the program is refused."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from mapping_tool import cli
from mapping_tool.errors import StoreError
from mapping_tool.services import audit, auth
from mapping_tool.store import db, migrate, schema
from mapping_tool.store.files import StoreFiles
from tests.support import file_hashes

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release-0.1.0"
# Test-only secrets of the fixture store (tests/fixtures/release-0.1.0/README.md).
CUSTODIAN, CUSTODIAN_PASSWORD = "custodian", "tangerine-orbit-lantern-57"
WELFARE, WELFARE_PASSWORD = "welfare", "saffron-glacier-piano-64"
RECOVERY = "velvet harbour quietly juggles seven comets"
FIXTURE_REVISION = "0004"
CHANGED_BY_SIGN_IN = {"account"}  # last sign-in time; its rows must still be there
# Entries that named students are rewritten at the upgrade (pseudonyms, checksums of typed text)
# and the chain is linked again from the first of them: these columns stay as they were.
AUDIT_KEPT = ("id", "at", "actor", "action", "object_type")


def _copy_fixture(tmp_path: Path) -> Path:
    folder = tmp_path / "store"
    shutil.copytree(FIXTURE / "store", folder)
    return folder


def _key(folder: Path) -> bytes:
    from mapping_tool.security.keyslots import KeySlotFile

    keyfile = KeySlotFile.load(StoreFiles(folder).keys)
    key = keyfile.user_slot(CUSTODIAN).unwrap(CUSTODIAN_PASSWORD, keyfile.store_id)  # type: ignore[union-attr]
    assert key is not None
    return key


def _counts(conn) -> dict[str, int]:  # type: ignore[no-untyped-def]
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    ).fetchall()]
    return {n: int(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0]) for n in names}


def _rows(conn, columns: dict[str, list[str]] | None = None) -> dict[str, set[tuple]]:  # type: ignore[no-untyped-def,type-arg]
    """Every row of every table (of the given columns, default all), to prove old rows survive."""
    if columns is None:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
        ).fetchall()]
        columns = {n: [c[1] for c in conn.execute(f'PRAGMA table_info("{n}")').fetchall()] for n in names}
    out = {}
    for table, cols in columns.items():
        select = ", ".join(f'"{c}"' for c in cols)
        out[table] = set(conn.execute(f'SELECT {select} FROM "{table}"').fetchall())
    return out


def _columns(conn) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'"
    ).fetchall()]
    return {n: [c[1] for c in conn.execute(f'PRAGMA table_info("{n}")').fetchall()] for n in names}


def _raw(folder: Path):  # type: ignore[no-untyped-def]
    return db.connect_raw(StoreFiles(folder).db, _key(folder))


def _revisions() -> list[tuple[str, str | None]]:
    """(revision, the revision before it), oldest first, as Alembic reads them."""
    script = ScriptDirectory(str(migrate.MIGRATIONS_DIR))
    revs = [(r.revision, r.down_revision) for r in script.walk_revisions()]
    return list(reversed(revs))  # type: ignore[arg-type]


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    try:
        code = cli.run(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_fixture_is_a_store_of_the_previous_release(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path)
    conn = _raw(folder)
    try:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == FIXTURE_REVISION
        assert _counts(conn) == json.loads((FIXTURE / "row_counts.json").read_text())
    finally:
        conn.close()


def test_a_store_of_the_previous_release_opens_after_a_backup_and_keeps_every_row(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path)
    before = json.loads((FIXTURE / "row_counts.json").read_text())
    conn = _raw(folder)
    try:
        old_columns = _columns(conn)
        old_rows = _rows(conn, old_columns)
    finally:
        conn.close()
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = audit.verify(user)
        assert result.intact, result.problem
        with user.store.read() as session:
            after = {n: session.execute(text(f'SELECT count(*) FROM "{n}"')).scalar_one() for n in before}
            version = session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            upgraded = session.execute(
                text("SELECT detail FROM audit_entry WHERE action = 'store.upgraded'")
            ).scalars().all()
            moved = session.execute(
                text("SELECT count(*) FROM audit_entry WHERE action = 'sign-in.failed' AND actor = 'welfare'")
            ).scalar_one()
    finally:
        auth.sign_out(user)
    assert version == migrate.SCHEMA_HEAD
    for table, count in before.items():
        if table == "audit_entry":
            assert after[table] > count  # the old chain plus the upgrade, the moved failure, the sign-in
        else:
            assert after[table] >= count, table  # a migration may add rows (defaults), never lose one
    # every row the old release wrote is still there, column for column
    conn = _raw(folder)
    try:
        new_rows = _rows(conn, old_columns)
    finally:
        conn.close()
    for table, rows in old_rows.items():
        if table == "audit_entry":
            cols = [old_columns[table].index(c) for c in AUDIT_KEPT]
            assert {tuple(r[i] for i in cols) for r in rows} <= {tuple(r[i] for i in cols) for r in new_rows[table]}
        elif table in CHANGED_BY_SIGN_IN:
            pk = [i for i, c in enumerate(old_columns[table]) if c == "id"]
            assert {tuple(r[i] for i in pk) for r in rows} <= {tuple(r[i] for i in pk) for r in new_rows[table]}
        else:
            assert rows <= new_rows[table], f"rows of {table} changed or were lost"
    assert len(upgraded) == 1 and json.loads(upgraded[0]) == {"from": FIXTURE_REVISION, "to": migrate.SCHEMA_HEAD}
    assert moved == 1  # the failed sign-in the old release kept in its sign-in state file
    # the backup taken before the upgrade holds the old schema and the key file
    backups = list(StoreFiles(folder).backups.glob(f"pre-upgrade-{FIXTURE_REVISION}-*.smtbackup"))
    assert len(backups) == 1
    with zipfile.ZipFile(backups[0]) as zf:
        assert {"manifest.json", "smt.keys", "smt.db"} <= set(zf.namelist())
        assert json.loads(zf.read("manifest.json"))["schema"] == FIXTURE_REVISION


def test_the_upgraded_store_passes_audit_verify_on_the_command_line(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = _copy_fixture(tmp_path)
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--store", str(folder), "--user", CUSTODIAN, "audit", "verify")
    assert code == 0, err
    assert out.startswith("intact (")
    # and the staff account made by the old release still opens the store (it must change its password)
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", WELFARE_PASSWORD)
    monkeypatch.setenv("MAPPING_TOOL_NEW_PASSWORD", "harbour-pencil-orchid-77")
    code, out, err = run(capsys, "--store", str(folder), "--user", WELFARE, "password")
    assert code == 0, err
    # the recovery passphrase of the old release still opens it
    store, _ = auth.open_with_recovery(folder, RECOVERY)
    store.close()


def test_a_store_newer_than_the_program_is_refused_with_a_sentence(tmp_path: Path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    folder = _copy_fixture(tmp_path)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)  # upgrade to head first
    auth.sign_out(user)
    conn = _raw(folder)
    conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = file_hashes(folder)
    with pytest.raises(StoreError, match="newer version of the Student Mapping Tool"):
        auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    monkeypatch.setenv("MAPPING_TOOL_PASSWORD", CUSTODIAN_PASSWORD)
    code, out, err = run(capsys, "--store", str(folder), "--user", CUSTODIAN, "audit", "verify")
    assert code == StoreError.exit_code
    assert out == ""
    assert err.count("\n") == 1 and "written by a newer version" in err and "Traceback" not in err
    assert file_hashes(folder) == before


def test_the_revision_list_agrees_with_alembic() -> None:
    revs = [r for r, _ in _revisions()]
    assert tuple(revs) == migrate.KNOWN_REVISIONS
    assert revs[-1] == migrate.SCHEMA_HEAD


def _plain_engine(path: Path):  # type: ignore[no-untyped-def]
    return create_engine(f"sqlite:///{path}")


def _upgrade_plain(engine, target: str) -> None:  # type: ignore[no-untyped-def]
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), target)


@pytest.mark.parametrize("revision,previous", _revisions(), ids=[r for r, _ in _revisions()])
def test_each_migration_upgrades_a_store_made_at_the_revision_before_it(
    tmp_path: Path, revision: str, previous: str | None
) -> None:
    """Schema step by step: a store at ``previous`` upgrades to ``revision`` and then to head, and
    the result is the models' schema. From 0004 on, the store is the previous release's, with data,
    and no row is lost at any step."""
    if previous is not None and previous >= FIXTURE_REVISION:
        folder = _copy_fixture(tmp_path)
        key = _key(folder)
        engine = db.create_store_engine(StoreFiles(folder).db, key)
        try:
            migrate.upgrade(engine, previous)
            with engine.connect() as c:
                columns = _columns(c.connection.driver_connection)
                before = _rows(c.connection.driver_connection, columns)
            migrate.upgrade(engine, revision)
            assert migrate.current_revision(engine) == revision
            with engine.connect() as c:
                after = _rows(c.connection.driver_connection, {
                    t: cols for t, cols in columns.items()
                    if t in _columns(c.connection.driver_connection)
                })
            for table, rows in before.items():
                if rows:  # a migration may replace an empty table, never lose a row
                    assert table in after and rows <= after[table], f"rows of {table} lost in {revision}"
            migrate.upgrade(engine)
            with engine.connect() as c:
                diffs = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), schema.metadata)
        finally:
            db.run_outside_transaction(engine, "PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
    else:
        engine = _plain_engine(tmp_path / "plain.db")
        try:
            if previous is not None:
                _upgrade_plain(engine, previous)
            _upgrade_plain(engine, revision)
            with engine.connect() as c:
                assert c.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == revision
            _upgrade_plain(engine, "head")
            with engine.connect() as c:
                diffs = compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), schema.metadata)
        finally:
            engine.dispose()
    assert diffs == []


# -- entries of the older release name students by pseudonym after the upgrade (issue 10) --------

NOTE_TEXT = "Met with the student about attendance"  # what 0.1.0 put in its note.added entry
OVERRIDE_REASON = "Known to welfare; watch closely this term."


def _fixture_audit(folder: Path) -> tuple[set[str], list[tuple]]:  # type: ignore[type-arg]
    conn = _raw(folder)
    try:
        keys = {r[0] for r in conn.execute("SELECT student_key FROM student")}
        entries = conn.execute("SELECT id, object_id, detail, hash FROM audit_entry ORDER BY id").fetchall()
    finally:
        conn.close()
    return keys, entries


def test_the_entries_of_the_older_release_no_longer_name_a_student(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path)
    keys, before = _fixture_audit(folder)
    naming = [e[0] for e in before if any(k in f"{e[1]} {e[2]}" for k in keys)]
    assert naming and any(NOTE_TEXT in e[2] for e in before)  # the old release did name them
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert audit.verify(user).intact
        # a current student's own access report still finds the old entries about them
        key = "ALI0002"
        old_about = {e[0] for e in before if key in f"{e[1]} {e[2]}"}
        found = {e.id for e in audit.entries(user, student=key)}
        assert old_about <= found
        with user.store.read() as session:
            pseudonym = session.execute(
                text("SELECT pseudonym FROM audit_pseudonym WHERE student_key = :k"), {"k": key}).scalar_one()
            rows = session.execute(text("SELECT id, object_id, detail FROM audit_entry ORDER BY id")).all()
            sealed = session.execute(text("SELECT action, detail FROM audit_entry WHERE action = 'audit.pseudonymised'")).all()
    finally:
        auth.sign_out(user)
    for entry_id, object_id, detail in rows:
        whole = f"{object_id} {detail}"
        assert not any(k in whole for k in keys), f"entry {entry_id} still names a student"
        assert NOTE_TEXT not in whole and OVERRIDE_REASON not in whole
    by_id = {r[0]: r for r in rows}
    assert by_id[10][1] == pseudonym and by_id[11][1] == pseudonym  # viewed, then a note added
    note = json.loads(by_id[11][2])
    assert note["chars"] > 0 and len(note["text_sha256"]) == 64 and "new" not in note
    assert len(sealed) == 1
    recorded = json.loads(sealed[0][1])
    assert recorded["rewritten"] == len(naming) and recorded["from_entry"] == naming[0]
    assert recorded["previous_last_hash"] == before[-1][3]


def test_a_witness_taken_before_the_upgrade_still_matches(tmp_path: Path) -> None:
    from mapping_tool.security.keyslots import KeySlotFile
    from mapping_tool.services import witness

    folder = _copy_fixture(tmp_path)
    _keys, before = _fixture_audit(folder)
    store_id = KeySlotFile.load(StoreFiles(folder).keys).store_id
    witness.record(store_id, "welfare", before[-1][0], before[-1][3])  # the old last hash
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = audit.verify(user)
        assert result.intact, result.problem
        with user.store.read() as session:
            problems = session.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'audit.end-problem'")).scalar_one()
            new_hash = session.execute(text("SELECT hash FROM audit_entry WHERE id = :i"), {"i": before[-1][0]}).scalar_one()
    finally:
        auth.sign_out(user)
    assert problems == 0 and new_hash != before[-1][3]  # re-linked, and the old witness accepted
    # a witness that matches neither the old nor the new chain is still caught
    witness.record(store_id, "principal", before[-1][0] + 1, "0" * 64)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = audit.verify(user)
    finally:
        auth.sign_out(user)
    assert not result.intact and "rewritten" in result.problem


def test_a_broken_old_chain_is_left_as_it_was(tmp_path: Path) -> None:
    folder = _copy_fixture(tmp_path)
    conn = _raw(folder)
    try:
        conn.execute("UPDATE audit_entry SET detail = replace(detail, 'follow up', 'FOLLOW UP') WHERE id = 11")
        conn.commit()
    finally:
        conn.close()
    _keys, before = _fixture_audit(folder)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        result = audit.verify(user)
        with user.store.read() as session:
            rows = session.execute(text("SELECT id, object_id, detail, hash FROM audit_entry WHERE id <= :n ORDER BY id"),
                                   {"n": before[-1][0]}).all()
            sealed = session.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'audit.pseudonymised'")).scalar_one()
    finally:
        auth.sign_out(user)
    assert [tuple(r) for r in rows] == [tuple(e) for e in before]  # not laundered by a re-link
    assert sealed == 0
    assert not result.intact and result.entry_id == 11
    conn = _raw(folder)
    try:  # still waiting, and left alone again at the next opening
        assert conn.execute("SELECT value FROM setting WHERE key = 'audit_pseudonyms_pending'").fetchone() is not None
    finally:
        conn.close()
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    auth.sign_out(user)
    _keys, again = _fixture_audit(folder)
    assert again[: len(before)] == before


def test_a_rewrite_that_failed_is_tried_again_at_the_next_opening(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from mapping_tool.services import audit_upgrade

    folder = _copy_fixture(tmp_path)
    keys, before = _fixture_audit(folder)
    real = audit_upgrade.pseudonymise_old_entries

    def fails(store, actor):  # type: ignore[no-untyped-def]
        raise OSError("the disk was full")

    monkeypatch.setattr(audit_upgrade, "pseudonymise_old_entries", fails)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)  # the opening goes on
    auth.sign_out(user)
    _keys, after_first = _fixture_audit(folder)
    assert any(k in f"{e[1]} {e[2]}" for e in after_first for k in keys)  # not yet rewritten
    monkeypatch.setattr(audit_upgrade, "pseudonymise_old_entries", real)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        assert audit.verify(user).intact
    finally:
        auth.sign_out(user)
    _keys, after = _fixture_audit(folder)
    assert not any(k in f"{e[1]} {e[2]}" for e in after for k in keys)
    conn = _raw(folder)
    try:
        assert conn.execute("SELECT value FROM setting WHERE key = 'audit_pseudonyms_pending'").fetchone() is None
    finally:
        conn.close()


def test_the_copy_taken_before_the_upgrade_is_recorded_and_ages_out(tmp_path: Path) -> None:
    from datetime import timedelta

    from mapping_tool.services import records_backup
    from mapping_tool.services.context import utcnow

    folder = _copy_fixture(tmp_path)
    user = auth.sign_in(folder, CUSTODIAN, CUSTODIAN_PASSWORD)
    try:
        with user.store.read() as session:
            kind, name, students, held = session.execute(text(
                "SELECT kind, file_name, students, (SELECT count(*) FROM backup_manifest_student s WHERE s.backup_id = m.id) "
                "FROM backup_manifest m")).one()
        copy = StoreFiles(folder).backups / name
        assert kind == "pre-upgrade" and name.startswith(f"pre-upgrade-{FIXTURE_REVISION}-") and copy.is_file()
        assert students == held == 31  # whose records it holds, for the disposal register
        # a restore's replaced files: one old enough to go, one recent
        old = StoreFiles(folder).backups / f"replaced-{(utcnow() - timedelta(weeks=9)):%Y%m%dT%H%M%SZ}"
        recent = StoreFiles(folder).backups / f"replaced-{utcnow():%Y%m%dT%H%M%SZ}"
        for d in (old, recent):
            d.mkdir()
            (d / "smt.db").write_bytes(b"x")
        assert records_backup.age_out_local_copies(user) == [old.name]  # the upgrade copy is new
        assert copy.is_file() and not old.exists() and recent.is_dir()
        later = utcnow() + timedelta(weeks=8, days=1)  # past the default maximum age of 8 weeks
        assert records_backup.age_out_local_copies(user, now=later) == [name, recent.name]
        assert not copy.exists() and not recent.exists()
        with user.store.read() as session:
            removed_at = session.execute(text("SELECT removed_at FROM backup_manifest")).scalar_one()
            left = session.execute(text("SELECT count(*) FROM backup_manifest_student")).scalar_one()
            aged = session.execute(text("SELECT count(*) FROM audit_entry WHERE action = 'backup.aged-out'")).scalar_one()
        assert removed_at is not None and left == 0 and aged == 2
        # and the custodian's sign-out does it by itself
        (StoreFiles(folder).backups / old.name).mkdir()
    finally:
        auth.sign_out(user)
    assert not old.exists()
