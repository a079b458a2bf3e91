"""A store query as rows an engine reads itself, split by member (`ASKFIRST_ENGINE=spark`).

The training process builds the query (every filter of the consent gate in its WHERE clause)
and a member column to split it on; the engine's tasks run it, one member range each, so only
gated rows leave the database and none pass through the training process.

- PostgreSQL: Spark's JDBC source with Debian's PostgreSQL JDBC driver (`JdbcRows`). The
  database must be reachable from every executor by the URL's host and port.
- SQLite: each Spark task opens the database file read-only with Python's `sqlite3` and reads
  its member range (`TaskRows`). Debian ships a SQLite JDBC driver (`libxerial-sqlite-jdbc-java`),
  but Spark has no SQLite dialect to map SQLite's per-value types, and the file is on this
  machine anyway: SQLite works with a `local[...]` master only.
"""

from __future__ import annotations

import functools
import math
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import URL, CompoundSelect, Select

from askfirst.engines.partitions import Frames, JdbcRows, PartitionedRows, TaskRows

# At least this many partitions (two per core of the default `local[2]` master) ...
MIN_PARTITIONS = 4
# ... and about this many rows each at most, so a task's rows fit a worker's memory.
ROWS_PER_PARTITION = 500_000
# A task reads its range this many rows at a time.
CHUNK_ROWS = 100_000


def partitioned_rows(
    url: URL,
    query: Select[Any] | CompoundSelect[Any],
    *,
    column: str,
    members: range,
    rows: int,
    gather: Callable[[Frames], pl.DataFrame],
) -> PartitionedRows:
    """`query`'s rows, split into ranges of `column` (a member id) over `members`.

    `rows` (about how many the query returns) sets how many partitions there are.
    """
    partitions = max(MIN_PARTITIONS, math.ceil(rows / ROWS_PER_PARTITION))
    backend = url.get_backend_name()
    if backend == "postgresql":
        sql = _literal_sql(query, url)
        source: JdbcRows | TaskRows = JdbcRows(
            url=jdbc_url(url),
            query=sql,
            column=column,
            lower=members.start,
            upper=members.stop,
            partitions=partitions,
            properties=jdbc_properties(url),
        )
    elif backend == "sqlite" and url.database not in (None, "", ":memory:"):
        sql = _literal_sql(query, url)
        read = functools.partial(read_sqlite_range, str(url.database), sql, column)
        source = TaskRows(member_ranges(members, partitions), read)
    else:
        raise ValueError(
            f"the spark engine cannot read a snapshot from {url.render_as_string()}: it reads "
            "PostgreSQL (JDBC) and SQLite files; use ASKFIRST_ENGINE=local for this store"
        )
    return PartitionedRows(source, gather)


def jdbc_url(url: URL) -> str:
    """The JDBC URL of a PostgreSQL SQLAlchemy URL (user, password and options apart)."""
    host = url.host or "localhost"
    return f"jdbc:postgresql://{host}:{url.port or 5432}/{url.database or ''}"


def jdbc_properties(url: URL) -> dict[str, str]:
    """User, password and the URL's query parameters (`options=-csearch_path=…`, `sslmode`)."""
    properties = {name: str(value) for name, value in url.query.items() if isinstance(value, str)}
    if url.username:
        properties["user"] = url.username
    if url.password:
        properties["password"] = str(url.password)
    return properties


def member_ranges(members: range, partitions: int) -> tuple[tuple[int, int], ...]:
    """`members` cut into at most `partitions` (lower, upper) ranges of about equal width."""
    width = max(1, math.ceil(len(members) / partitions))
    return tuple(
        (start, min(start + width, members.stop))
        for start in range(members.start, members.stop, width)
    )


def read_sqlite_range(path: str, sql: str, column: str, lower: int, upper: int) -> Frames:
    """What a Spark task runs on SQLite: `sql`'s rows with `column` in [lower, upper), read
    through a read-only connection, `CHUNK_ROWS` at a time."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    ranged = f"SELECT * FROM ({sql}) AS partitioned_rows WHERE {column} >= ? AND {column} < ?"
    connection = sqlite3.connect(uri, uri=True)
    try:
        cursor = connection.execute(ranged, (lower, upper))
        names = [description[0] for description in cursor.description]
        while chunk := cursor.fetchmany(CHUNK_ROWS):
            yield pl.DataFrame(chunk, schema=names, orient="row")
    finally:
        connection.close()


def _literal_sql(query: Select[Any] | CompoundSelect[Any], url: URL) -> str:
    # The values are the gate's own (ids, channel kinds and names, the watermark): SQLAlchemy
    # renders each as a quoted literal of the store's dialect, so the SQL stands alone.
    # Named parameters (none are left): psycopg's "pyformat" would double every `%` of the SQL.
    dialect_class: Any = url.get_dialect()
    dialect = dialect_class(paramstyle="named")
    return str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
