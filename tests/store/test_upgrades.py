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
        if table in CHANGED_BY_SIGN_IN:
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
