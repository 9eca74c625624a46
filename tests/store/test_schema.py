"""The migrations and the models describe the same schema: a store upgraded to the head revision
has exactly the tables, columns and indexes the models declare."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from mapping_tool.store import migrate, schema


def test_migrations_to_head_match_the_models(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'plain.db'}")
    with engine.begin() as conn:
        from alembic import command

        command.upgrade(migrate.alembic_config(conn), "head")
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), schema.metadata)
    engine.dispose()
    assert diffs == []
