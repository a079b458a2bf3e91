"""An import's exclusive bulk mode on PostgreSQL: foreign keys checked and indexes built once,
at the end.

PostgreSQL checks a foreign key row by row (one `SELECT ... FOR KEY SHARE` per row and key),
about 60% of the server's CPU in a large import (docs/importing.md, "Exclusive bulk mode").
Its own advice for populating a database is to drop the foreign keys and add them back
afterwards, which checks every row with one query per key. Here that happens inside the
import's one transaction: the keys of the tables an import fills in bulk are read from the
catalog, dropped, and added back under the same names with the definitions PostgreSQL gave,
so a failed import rolls the keys back with the rows. The tables being locked anyway, their
plain secondary indexes are dropped too and built again at the end (from `pg_get_indexdef`),
sorted once, and by parallel workers where the server allows them, rather than row by row by the
one backend that sets an import's pace (docs/importing.md, "A reader process"); unique and
primary-key indexes stay, for the COPY's duplicate check and `ON CONFLICT`. The price is an
ACCESS EXCLUSIVE lock on those tables and the tables their keys reference until the import
ends. SQLite's import holds the database's write lock already; there the mode changes nothing
(its own import builds its indexes at the end: `askfirst.workspace.deferred_indexes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass

from psycopg import errors
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from askfirst.workspace.export_archive import ExportError

# The tables an import fills in bulk (COPY or INSERT ... SELECT of thousands of rows).
BULK_TABLES = ("messages", "reactions", "files")
# How long to wait for readers and writers of those tables to finish before giving up.
LOCK_WAIT = "30s"
FOREIGN_KEYS = text(
    "SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid),"
    " confrelid::regclass::text FROM pg_constraint"
    " WHERE contype = 'f' AND conrelid = ANY(CAST(:tables AS regclass[]))"
    " ORDER BY conrelid::regclass::text, conname"
)

# Indexes that back no constraint: neither unique nor a primary key nor an exclusion constraint.
SECONDARY_INDEXES = text(
    "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
    " WHERE indrelid = ANY(CAST(:tables AS regclass[]))"
    " AND NOT indisunique AND NOT indisprimary AND NOT indisexclusion"
    " ORDER BY indrelid::regclass::text, indexrelid::regclass::text"
)


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key as the catalog holds it: its table, quoted name, definition, target."""

    table: str
    name: str
    definition: str  # as pg_get_constraintdef gives it: "FOREIGN KEY (x) REFERENCES t(id)"
    referenced: str


class TablesBusy(ExportError):
    """The tables an exclusive import must lock stayed in use for longer than `LOCK_WAIT`."""


def secondary_indexes(
    connection: Connection, tables: tuple[str, ...] = BULK_TABLES
) -> list[tuple[str, str]]:
    """The name and definition of each index of `tables` that backs no constraint."""
    rows = connection.execute(SECONDARY_INDEXES, {"tables": list(tables)})
    return [(str(name), str(definition)) for name, definition in rows]


def foreign_keys(connection: Connection, tables: tuple[str, ...] = BULK_TABLES) -> list[ForeignKey]:
    """The foreign keys declared on `tables`, in a stable order."""
    rows = connection.execute(FOREIGN_KEYS, {"tables": list(tables)})
    return [ForeignKey(*row) for row in rows]


def locked_tables(keys: list[ForeignKey], tables: tuple[str, ...] = BULK_TABLES) -> list[str]:
    """The tables whose ACCESS EXCLUSIVE lock dropping `keys` takes: theirs and their targets."""
    return sorted({*tables, *(key.referenced for key in keys)})


@contextmanager
def checked_and_indexed_at_the_end(
    connection: Connection, source: str, lock_wait: str = LOCK_WAIT
) -> Iterator[None]:
    """On PostgreSQL, lock the bulk tables and drop their foreign keys and secondary indexes;
    build the indexes again and add the keys back after.

    Meant as the first and last thing of an import's transaction: the body writes freely, and
    on leaving without an error every index is built from its definition and every key added
    back, validating each row against it. A row that violates one raises `ExportError` naming
    `source` (the export); the caller's transaction then rolls back, keys and indexes included.
    On an error in the body nothing is rebuilt here: the rollback restores it all. If the
    tables stay in use for `lock_wait` (a PostgreSQL interval), raises `TablesBusy` before
    anything is written. SQLite: nothing happens.
    """
    if connection.dialect.name != "postgresql":
        yield
        return
    keys = foreign_keys(connection)
    _lock(connection, locked_tables(keys), source, lock_wait)
    for key in keys:
        connection.exec_driver_sql(f"ALTER TABLE {key.table} DROP CONSTRAINT {key.name}")
    indexes = secondary_indexes(connection)
    for name, _definition in indexes:
        connection.exec_driver_sql(f"DROP INDEX {name}")
    yield
    for _name, definition in indexes:
        connection.exec_driver_sql(definition)
    for key in keys:
        _add_back(connection, key, source)


def exclusive_if(
    exclusive: bool, connection: Connection, source: str
) -> AbstractContextManager[None]:
    """`checked_and_indexed_at_the_end` when the import asked for the exclusive mode."""
    if not exclusive:
        return nullcontext()
    return checked_and_indexed_at_the_end(connection, source)


def _lock(connection: Connection, tables: list[str], source: str, wait: str) -> None:
    """All of `tables` at once, so the import never waits holding some of them."""
    previous = connection.execute(text("SELECT current_setting('lock_timeout')")).scalar_one()
    connection.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": wait})
    try:
        connection.exec_driver_sql(f"LOCK TABLE {', '.join(tables)} IN ACCESS EXCLUSIVE MODE")
    except DBAPIError as error:
        if not isinstance(error.orig, errors.LockNotAvailable):
            raise
        raise TablesBusy(
            source,
            f"the tables {', '.join(tables)} stayed in use for {wait}, so the exclusive "
            "import could not lock them",
            "Import again when the service is idle (a maintenance window), or without "
            "--exclusive, which shares the tables with the service",
        ) from None
    connection.execute(text("SELECT set_config('lock_timeout', :wait, true)"), {"wait": previous})


def _add_back(connection: Connection, key: ForeignKey, source: str) -> None:
    try:
        add = f"ALTER TABLE {key.table} ADD CONSTRAINT {key.name} {key.definition}"
        connection.exec_driver_sql(add)
    except DBAPIError as error:
        if not isinstance(error.orig, errors.ForeignKeyViolation):
            raise
        detail = (error.orig.diag.message_detail or str(error.orig)).rstrip(".")
        raise ExportError(
            source,
            f"a row written to {key.table} breaks its foreign key {key.name} ({key.definition}):"
            f" {detail}",
            "Nothing was imported and the store, its keys included, is as it was; please report"
            " this with the export",
        ) from None
