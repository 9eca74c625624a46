"""Schema upgrades with Alembic, run on the app's open connection at sign-in.

Before an older store is upgraded, an encrypted copy is written to ``backups/`` (with the key
file). A store newer than this program is refused rather than opened.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from mapping_tool.errors import StoreError

logger = logging.getLogger(__name__)

# The newest revision in migrations/versions (a test checks that Alembic agrees).
SCHEMA_HEAD = "0012"
KNOWN_REVISIONS = ("0001", "0002", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0011", "0012")
MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        has_table = conn.execute(
            text("SELECT count(*) FROM sqlite_master WHERE type='table' AND name='alembic_version'")
        ).scalar_one()
        if not has_table:
            conn.rollback()
            return None
        rev = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
        conn.rollback()
        return rev


def upgrade(engine: Engine, target: str = "head") -> None:
    from alembic import command

    with engine.connect() as conn:
        cfg = alembic_config(conn)
        command.upgrade(cfg, target)
        conn.commit()


def needs_upgrade(engine: Engine) -> str | None:
    """The store's revision when it is older than this program; raises when it is newer."""
    rev = current_revision(engine)
    if rev == SCHEMA_HEAD:
        return None
    if rev is not None and rev not in KNOWN_REVISIONS:
        raise StoreError(
            "This store was written by a newer version of the Student Mapping Tool. "
            "Install the newer version to open it."
        )
    return rev or "empty"
