"""The database: engine, sessions and migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

from askfirst.store.engine import Store, StoreBusyError, create_store_engine, migrate, open_store

__all__ = ["Store", "StoreBusyError", "create_store_engine", "migrate", "open_store"]
