"""Rows an engine reads itself, in partitions that each hold whole members.

When training runs on an engine that reads (`ASKFIRST_ENGINE=spark`), the snapshot's rows are
not read into the training process: it describes where they are (a query and how to split it
by member), and the engine's tasks read them, turn them into contributions and bound them.
These are plain descriptions; `askfirst.training` makes them from the store and its consent
gate, and `askfirst.engines.spark` runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import polars as pl

Frames = Iterator[pl.DataFrame]


@dataclass(frozen=True)
class JdbcRows:
    """Rows Spark's JDBC source reads: `query` split into `partitions` ranges of `column`.

    Every row of one member has the same `column` value, so each partition holds whole members.
    """

    url: str  # jdbc:postgresql://host:port/database
    query: str  # one SELECT, with every filter the rows need
    column: str
    lower: int
    upper: int
    partitions: int
    properties: Mapping[str, str] = field(default_factory=dict)  # user, password, options
    driver: str = "org.postgresql.Driver"


@dataclass(frozen=True)
class TaskRows:
    """Rows Spark tasks read themselves: one task per (lower, upper) member range, which calls
    `read(lower, upper)` (for a store only the workers' own machine can open, such as SQLite)."""

    ranges: tuple[tuple[int, int], ...]
    read: Callable[[int, int], Frames]


@dataclass(frozen=True)
class PartitionedRows:
    """Rows an engine reads in partitions of whole members, and what each partition's rows
    become before contributions are made of them (`gather`: in the task, chunk by chunk)."""

    source: JdbcRows | TaskRows
    gather: Callable[[Frames], pl.DataFrame]


@dataclass(frozen=True)
class BoundedRead:
    """What comes back of rows read in partitions: bounded rows and the contributing members."""

    rows: pl.DataFrame  # member_id, key, weight
    members: int  # members with any contribution, in the key set or not
