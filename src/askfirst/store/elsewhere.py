"""Noticing that a command is about to use an empty store while another holds data: the
usual slip after `askfirst demo`, whose store is in `.askfirst/demo`, not `.askfirst`."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path

from askfirst.settings import Settings, sqlite_url

SQLITE_PREFIX = "sqlite:///"


def holds_data(database_file: Path) -> bool:
    """Whether a SQLite store exists there with a workspace in it (read-only: never creates)."""
    if not database_file.is_file():
        return False
    try:
        with closing(
            sqlite3.connect(f"{database_file.resolve().as_uri()}?mode=ro", uri=True)
        ) as db:
            return bool(db.execute("SELECT EXISTS (SELECT 1 FROM workspaces)").fetchone()[0])
    except sqlite3.Error:  # not a store, or one whose tables are not made yet
        return False


def database_file(settings: Settings) -> Path | None:
    """The SQLite file the settings name, or None for another database."""
    if not settings.database_url.startswith(SQLITE_PREFIX):
        return None
    return Path(settings.database_url.removeprefix(SQLITE_PREFIX))


def empty_store_warning(settings: Settings, others: Iterable[Path]) -> str | None:
    """A warning when the configured SQLite store is new or empty while one of the `others`
    data folders holds a store with data; None otherwise."""
    here = database_file(settings)
    if here is None or holds_data(here):
        return None
    for folder in others:
        elsewhere = Path(sqlite_url(folder).removeprefix(SQLITE_PREFIX))
        if elsewhere.resolve() != here.resolve() and holds_data(elsewhere):
            state = "empty" if here.exists() else "new"
            return (
                f"warning: the store in {settings.data_dir} is {state}, but {folder} holds one "
                f"with data (the demo's?); to use that one: "
                f"export ASKFIRST_DATA_DIR={folder.resolve()}"
            )
    return None
