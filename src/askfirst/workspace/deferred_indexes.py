"""On SQLite, a large import's secondary indexes built once at its end rather than row by row.

Keeping five secondary indexes of `messages`, `reactions` and `files` up to date row by row is
a large share of a SQLite import's CPU; sorting every row into them once at the end is cheaper
when the import brings many rows compared with what the tables hold. So, inside the import's
own transaction, once the import has written more messages than the table held when it began
(a first import: at once), their definitions are read from `sqlite_master`, the indexes are
dropped, and at the end each is created again from its own SQL, so an index a later migration
adds is rebuilt too. Readers on the WAL keep seeing the last committed state, indexes included;
a failure rolls the drop back with the rows. Unique indexes stay: the import's `ON CONFLICT`
needs them. PostgreSQL: nothing happens (dropping an index there locks the table for readers).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection

# The tables an import fills in bulk.
BULK_TABLES = ("messages", "reactions", "files")
# The indexes SQLite keeps for constraints ("u", "pk") are not in sqlite_master's SQL, and unique
# ones serve ON CONFLICT: only plain CREATE INDEX ones ("c", not unique) are deferred.
SECONDARY_INDEXES = (
    "SELECT m.name, m.tbl_name, m.sql FROM sqlite_master AS m"
    " JOIN pragma_index_list(m.tbl_name) AS l ON l.name = m.name"
    " WHERE m.type = 'index' AND l.origin = 'c' AND NOT l.\"unique\""
    f" AND m.tbl_name IN ({', '.join(repr(table) for table in BULK_TABLES)})"
    " ORDER BY m.tbl_name, m.name"
)


@dataclass(frozen=True)
class SecondaryIndex:
    """An index as SQLite holds it: its name, its table and the SQL that created it."""

    name: str
    table: str
    sql: str


def secondary_indexes(connection: Connection) -> list[SecondaryIndex]:
    """The plain (not unique) indexes of the bulk tables, in a stable order."""
    return [SecondaryIndex(*row) for row in connection.exec_driver_sql(SECONDARY_INDEXES)]


@dataclass
class DeferredIndexes:
    """Drops the bulk tables' secondary indexes once an import is large, recreates them at end.

    `written(messages)` is told how many messages the import has written so far; the indexes
    go once that is at least the number the table held before (`stored`).
    """

    connection: Connection
    stored: int
    dropped: list[SecondaryIndex] = field(default_factory=list)
    _done: bool = False

    def written(self, messages: int) -> None:
        if self._done or messages < self.stored:
            return
        self._done = True
        self.dropped = secondary_indexes(self.connection)
        for index in self.dropped:
            self.connection.exec_driver_sql(f'DROP INDEX "{index.name}"')

    def rebuild(self) -> None:
        """Create every dropped index again, from the SQL that created it."""
        for index in self.dropped:
            self.connection.exec_driver_sql(index.sql)
        self.dropped = []


class _Kept(DeferredIndexes):
    """PostgreSQL: the indexes stay."""

    def written(self, messages: int) -> None:
        pass


@contextmanager
def deferred_indexes(connection: Connection) -> Iterator[DeferredIndexes]:
    """A `DeferredIndexes` for an import's transaction; on leaving without an error the
    dropped indexes are created again. On an error they are not: the rollback restores them."""
    if connection.dialect.name != "sqlite":
        yield _Kept(connection, 0)
        return
    # The largest id, not a count: instant, and never less than the rows (ids can have gaps).
    stored = int(connection.exec_driver_sql("SELECT max(id) FROM messages").scalar() or 0)
    deferral = DeferredIndexes(connection, stored)
    deferral.written(0)
    yield deferral
    deferral.rebuild()
