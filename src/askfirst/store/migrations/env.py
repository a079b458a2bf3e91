"""Alembic environment: migrations run on the connection that `askfirst.store.migrate` passes."""

from __future__ import annotations

from alembic import context

from askfirst.store.tables import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through askfirst.store.migrate(engine)")
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
