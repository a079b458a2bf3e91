"""Fast inserts of many rows: one statement compiled once, rows given as plain tuples.

On SQLite the tuples go straight to the driver's `executemany`: SQLAlchemy's per-row parameter
work would otherwise take as long as SQLite's own. Column types still convert their values (a
UTC timestamp becomes SQLite's text form) exactly as SQLAlchemy would. On PostgreSQL,
SQLAlchemy's "insertmanyvalues" already sends one multi-row VALUES per thousand rows, so the rows
take that path.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

Row = tuple[Any, ...]


def dialect_insert(connection: Connection, table: Table) -> Any:
    """An INSERT that can say ON CONFLICT, in the connection's dialect."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


class BulkInsert:
    """An INSERT (or upsert) into `columns`, run with lists of tuples in that order."""

    def __init__(self, connection: Connection, statement: Insert, columns: Sequence[str]):
        self.connection = connection
        self.statement = statement
        self.columns = tuple(columns)
        compiled = statement.compile(dialect=connection.dialect, column_keys=list(columns))
        self.sql = str(compiled)
        # Straight to the driver only when its placeholders are exactly our columns, in order.
        self.direct = connection.dialect.name == "sqlite" and compiled.positiontup == list(columns)
        table = statement.table
        self.conversions: list[tuple[int, Callable[[Any], Any]]] = []
        for index, column in enumerate(self.columns):
            convert = table.c[column].type.bind_processor(connection.dialect)
            if convert is not None:
                self.conversions.append((index, convert))

    def run(self, rows: list[Row]) -> None:
        if not rows:
            return
        if not self.direct:
            self.connection.execute(
                self.statement, [dict(zip(self.columns, row, strict=True)) for row in rows]
            )
            return
        self.connection.exec_driver_sql(self.sql, self._converted(rows))

    def _converted(self, rows: list[Row]) -> list[Row]:
        """The rows with each value in the form the driver takes (e.g. a timestamp as text)."""
        if len(self.conversions) == 1:  # the common case (messages' posted_at), kept quick
            [(at, convert)] = self.conversions
            return [(*row[:at], convert(row[at]), *row[at + 1 :]) for row in rows]
        converted = []
        for row in rows:
            values = list(row)
            for index, convert in self.conversions:
                values[index] = convert(values[index])
            converted.append(tuple(values))
        return converted
