"""Alembic environment: always run on the app's own open connection (never an ini file)."""

from alembic import context

from mapping_tool.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
