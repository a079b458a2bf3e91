"""A snapshot's rows left in the store for an engine that reads them itself (Spark).

`read_snapshot(partitioned=True)` decides the gate as always (who consents and can pay, which
channel kinds, which conversations hold an outsider) and counts the gated rows, but reads only
the held-out members' messages and memberships. For the fitted members', each workspace's gate
becomes the WHERE clause of one SQL query (the union over a pool's workspaces) that carries each
row's privacy unit, and the engine reads it in partitions of whole units (`store_partitions`).
Every task then does what `read_snapshot` does to the rows it read: `gathered_messages` replaces
mentions, keeps what the sieve keeps per member and names each row by its unit;
`gathered_memberships` names each by its unit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import Select, case, select, union_all
from sqlalchemy.orm import Session

from askfirst.store.tables import Channel, Membership, Message
from askfirst.training.eligible_rows import (
    CHUNK_ROWS,
    MEMBERSHIP_SCHEMA,
    MESSAGE_SCHEMA,
    eligible_channels,
    eligible_messages,
    memberships_query,
    mentions_replaced,
    messages_query,
    read_rows,
)
from askfirst.training.snapshot_frames import (
    MessageSieve,
    SnapshotFrames,
    WorkspaceGate,
    gated,
    kept_messages,
)
from askfirst.training.store_partitions import partitioned_rows

# Rows as an engine reads them: with the member's privacy unit, which partitions them.
MESSAGES_READ = pl.Schema({**MESSAGE_SCHEMA, "unit_id": pl.Int64})
MEMBERSHIPS_READ = pl.Schema({**MEMBERSHIP_SCHEMA, "unit_id": pl.Int64})


def left_in_store(
    session: Session,
    frames: SnapshotFrames,
    *,
    at: datetime,
    held_out: frozenset[int],
    units: Mapping[int, int],
    sieve: MessageSieve | None,
) -> SnapshotFrames:
    """The frames with the held-out members' rows read here, and the fitted members' messages
    and memberships (those the purpose reads) left in the store as queries for the engine."""
    url = session.connection().engine.url
    fitted = [units.get(m, m) for gate in frames.gates for m in gate.members - held_out]
    span = range(min(fitted, default=0), max(fitted, default=0) + 1)
    if frames.messages_read is not None:
        held = [_held_out_messages(session, gate, at, held_out, sieve) for gate in frames.gates]
        selects = [_messages_select(gate, at, held_out, units, sieve) for gate in frames.gates]
        frames = replace(
            frames,
            messages=pl.concat([pl.DataFrame(schema=MESSAGE_SCHEMA), *held]),
            source=partitioned_rows(
                url,
                selects[0] if len(selects) == 1 else union_all(*selects),
                column="unit_id",
                members=span,
                rows=frames.message_count,
                gather=functools.partial(gathered_messages, sieve=sieve),
            ),
        )
    if frames.memberships_read is not None:
        held = [_held_out_memberships(session, gate, at, held_out) for gate in frames.gates]
        selects = [_memberships_select(gate, at, held_out, units) for gate in frames.gates]
        frames = replace(
            frames,
            memberships=pl.concat([pl.DataFrame(schema=MEMBERSHIP_SCHEMA), *held]),
            membership_source=partitioned_rows(
                url,
                selects[0] if len(selects) == 1 else union_all(*selects),
                column="unit_id",
                members=span,
                rows=frames.membership_count,
                gather=gathered_memberships,
            ),
        )
    return frames


def gathered_messages(
    chunks: Iterator[pl.DataFrame], *, sieve: MessageSieve | None
) -> pl.DataFrame:
    """What a Spark task makes of the gated messages it reads, as `read_snapshot` would:
    mentions replaced, kept by the `sieve` per author, then each owned by its privacy unit."""
    kept = pl.DataFrame(schema=MESSAGES_READ)
    typed = (chunk.select(MESSAGES_READ.names()).cast(MESSAGES_READ) for chunk in chunks)
    for rows in _rechunked(typed, CHUNK_ROWS):
        rows = mentions_replaced(rows)
        kept = sieve(kept, rows) if sieve is not None else pl.concat([kept, rows])
    return _by_unit(kept)


def gathered_memberships(chunks: Iterator[pl.DataFrame]) -> pl.DataFrame:
    """What a Spark task makes of the gated memberships it reads: each owned by its unit."""
    typed = (chunk.select(MEMBERSHIPS_READ.names()).cast(MEMBERSHIPS_READ) for chunk in chunks)
    return _by_unit(pl.concat([pl.DataFrame(schema=MEMBERSHIPS_READ), *typed]))


def _by_unit(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(member_id=pl.col("unit_id")).drop("unit_id")


def _rechunked(frames: Iterator[pl.DataFrame], rows: int) -> Iterator[pl.DataFrame]:
    """The frames joined into chunks of about `rows` rows (Spark hands over 10,000 at a time;
    the sieve's work per chunk grows with what it keeps, not with the chunk)."""
    pending: list[pl.DataFrame] = []
    for frame in frames:
        pending.append(frame)
        if sum(p.height for p in pending) >= rows:
            yield pl.concat(pending)
            pending = []
    if pending:
        yield pl.concat(pending)


def _held_out_messages(
    session: Session,
    gate: WorkspaceGate,
    at: datetime,
    held_out: frozenset[int],
    sieve: MessageSieve | None,
) -> pl.DataFrame:
    members = gate.members & held_out
    query = messages_query(gate.workspace_id, gate.kinds, at)
    query = query.where(Message.author_id.in_(sorted(members)))
    return kept_messages(session, query, members, list(gate.closed), sieve)


def _held_out_memberships(
    session: Session, gate: WorkspaceGate, at: datetime, held_out: frozenset[int]
) -> pl.DataFrame:
    members = gate.members & held_out
    query = memberships_query(gate.workspace_id, gate.kinds, at)
    query = query.where(Membership.member_id.in_(sorted(members)))
    return gated(read_rows(session, query, MEMBERSHIP_SCHEMA), set(members), list(gate.closed))


def _messages_select(
    gate: WorkspaceGate,
    at: datetime,
    held_out: frozenset[int],
    units: Mapping[int, int],
    sieve: MessageSieve | None,
) -> Select[Any]:
    """The gate of one workspace as SQL: its fitted members' messages, with their units."""
    query = (
        select(
            Message.id.label("message_id"),
            Message.author_id.label("member_id"),
            Channel.name.label("channel_name"),
            Message.text.label("text"),
            _unit_of(Message.author_id, units).label("unit_id"),
        )
        .join(Channel, Channel.id == Message.channel_id)
        .where(
            eligible_messages(gate.workspace_id, gate.kinds, at),
            Message.author_id.in_(sorted(gate.members - held_out)),
        )
    )
    if gate.closed:
        query = query.where(Channel.name.not_in(gate.closed))
    if sieve is not None:
        query = query.where(Message.text.like(sieve.text_pattern))
    return query


def _memberships_select(
    gate: WorkspaceGate, at: datetime, held_out: frozenset[int], units: Mapping[int, int]
) -> Select[Any]:
    """The gate of one workspace as SQL: its fitted members' memberships, with their units."""
    query = (
        select(
            Membership.member_id.label("member_id"),
            Channel.name.label("channel_name"),
            _unit_of(Membership.member_id, units).label("unit_id"),
        )
        .join(Channel, Channel.id == Membership.channel_id)
        .where(
            eligible_channels(gate.workspace_id, gate.kinds, at),
            Membership.member_id.in_(sorted(gate.members - held_out)),
        )
    )
    if gate.closed:
        query = query.where(Channel.name.not_in(gate.closed))
    return query


def _unit_of(member: Any, units: Mapping[int, int]) -> Any:
    """SQL for a member column's privacy unit (its own id unless a pool names another)."""
    renamed = {m: unit for m, unit in units.items() if m != unit}
    return case(renamed, value=member, else_=member) if renamed else member
