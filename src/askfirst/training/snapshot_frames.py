"""A snapshot's frames: the rows a purpose reads of the members its consent gate admits.

`read_frames` reads one workspace's eligible rows (channel kinds its policies allow, posted at
or before the watermark) and keeps only those whose every member is admitted (`keep_members`):
a reaction needs its reactor and its message's author, anything in a private channel or direct
conversation every member of it. Messages are read in chunks and gated chunk by chunk, through
a purpose's `MessageSieve` when it has one, so memory need not grow with the messages.
`askfirst.training.snapshots` decides who is admitted and records what a snapshot contains.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import polars as pl
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from askfirst.consent import Purpose
from askfirst.engines.partitions import PartitionedRows
from askfirst.store.tables import Channel, ChannelKind, Membership, Message
from askfirst.training.eligible_rows import (
    MEMBERSHIP_SCHEMA,
    MESSAGE_SCHEMA,
    REACTION_READ_SCHEMA,
    TALLY_SCHEMA,
    eligible_channels,
    memberships_query,
    message_chunks,
    messages_query,
    public_channels_query,
    reactions_query,
    read_rows,
    tally_query,
)


class MessageSieve(Protocol):
    """What of a purpose's messages its fit can ever read, kept as they stream by.

    Called with what it kept so far and the next chunk of gated messages, it returns what it
    keeps now; its memory must not grow with the messages read (see
    `askfirst.recommenders.contributions.EmojiMessageSieve`).
    """

    @property
    def text_pattern(self) -> str:
        """A SQL LIKE pattern every message it keeps matches: the database leaves out the rest."""
        ...

    def __call__(self, kept: pl.DataFrame, chunk: pl.DataFrame) -> pl.DataFrame: ...


@dataclass(frozen=True)
class WorkspaceGate:
    """What the consent gate lets through of one workspace: its admitted members' rows in
    channels of `kinds`, outside the `closed` conversations."""

    workspace_id: int
    kinds: frozenset[ChannelKind]
    members: frozenset[int]
    closed: tuple[str, ...]


@dataclass(frozen=True)
class SnapshotFrames:
    """A snapshot's data: only what the purpose reads, only of the snapshot's members."""

    messages: pl.DataFrame
    reactions: pl.DataFrame
    memberships: pl.DataFrame
    # Members of the private channels and direct conversations read (empty once filtered).
    conversation_members: pl.DataFrame
    # The workspace's public, unarchived channels at the watermark, newest first: names every
    # member can see, which the releases' public key domains are built from.
    channels: tuple[str, ...] = ()
    # When a sieve kept only part of the messages: how many gated messages were read, and
    # their authors (the snapshot contains and charges every one of them all the same).
    messages_read: int | None = None
    authors: frozenset[int] = frozenset()
    # Read with `partitioned=True`: how many gated memberships there are and whose, each
    # workspace's gate, and the fitted members' messages and memberships left in the store
    # for the engine (`messages` and `memberships` then hold the held-out members' only).
    memberships_read: int | None = None
    membership_holders: frozenset[int] = frozenset()
    gates: tuple[WorkspaceGate, ...] = ()
    source: PartitionedRows | None = None
    membership_source: PartitionedRows | None = None

    @property
    def message_count(self) -> int:
        """The gated messages read, whether or not a sieve kept them all."""
        return self.messages.height if self.messages_read is None else self.messages_read

    @property
    def membership_count(self) -> int:
        """The gated memberships, whether or not they were read here."""
        return self.memberships.height if self.memberships_read is None else self.memberships_read


def by_unit(frames: SnapshotFrames, units: Mapping[int, int]) -> SnapshotFrames:
    """The frames with each member id replaced by its privacy unit's id."""
    if all(member == unit for member, unit in units.items()):
        return frames
    mapping = pl.DataFrame(
        {"member_id": list(units), "unit_id": list(units.values())},
        schema={"member_id": pl.Int64, "unit_id": pl.Int64},
    )

    def renamed(frame: pl.DataFrame) -> pl.DataFrame:
        columns = frame.columns
        joined = frame.join(mapping, on="member_id", how="left")
        return joined.with_columns(pl.col("unit_id").alias("member_id")).select(columns)

    return replace(
        frames,
        messages=renamed(frames.messages),
        reactions=renamed(frames.reactions),
        memberships=renamed(frames.memberships),
    )


def concat_frames(parts: list[SnapshotFrames]) -> SnapshotFrames:
    """One snapshot's frames from its workspaces' (public channel names once, in order)."""
    if len(parts) == 1:
        return parts[0]
    channels = tuple(dict.fromkeys(name for part in parts for name in part.channels))
    sieved = any(p.messages_read is not None for p in parts)
    counted = any(p.memberships_read is not None for p in parts)
    return SnapshotFrames(
        pl.concat([p.messages for p in parts]),
        pl.concat([p.reactions for p in parts]),
        pl.concat([p.memberships for p in parts]),
        pl.concat([p.conversation_members for p in parts]),
        channels,
        messages_read=sum(p.message_count for p in parts) if sieved else None,
        authors=frozenset().union(*(p.authors for p in parts)),
        memberships_read=sum(p.membership_count for p in parts) if counted else None,
        membership_holders=frozenset().union(*(p.membership_holders for p in parts)),
        gates=tuple(gate for part in parts for gate in part.gates),
    )


def keep_members(frames: SnapshotFrames, members: set[int]) -> SnapshotFrames:
    """Only rows whose every member is in `members`.

    A reaction needs its reactor and its message's author; anything in a private channel or
    direct conversation needs every member of that conversation.
    """
    ids = sorted(members)
    open_to_all = ~pl.col("channel_name").is_in(closed_channels(frames, members))
    messages = frames.messages.filter(pl.col("member_id").is_in(ids) & open_to_all)
    reactions = frames.reactions.filter(
        pl.col("member_id").is_in(ids) & pl.col("author_id").is_in(ids) & open_to_all
    ).drop("author_id")
    memberships = frames.memberships.filter(pl.col("member_id").is_in(ids) & open_to_all)
    return replace(
        frames,
        messages=messages,
        reactions=reactions,
        memberships=memberships,
        conversation_members=frames.conversation_members.clear(),
    )


def closed_channels(frames: SnapshotFrames, members: set[int]) -> list[str]:
    """The private channels and direct conversations with a member outside `members`."""
    outsiders = frames.conversation_members.filter(~pl.col("member_id").is_in(sorted(members)))
    return outsiders["channel_name"].unique().to_list()


def gated(frame: pl.DataFrame, members: set[int], closed: list[str]) -> pl.DataFrame:
    """The rows of `members` outside the `closed` conversations (as `keep_members` keeps)."""
    kept = pl.col("member_id").is_in(sorted(members)) & ~pl.col("channel_name").is_in(closed)
    return frame.filter(kept)


def contained_members(frames: SnapshotFrames) -> frozenset[int]:
    """Every member some row of the frames is about, in any role."""
    ids: set[int] = set(frames.authors | frames.membership_holders)
    for frame in (frames.messages, frames.reactions, frames.memberships):
        ids.update(frame["member_id"].to_list())
    return frozenset(ids)


def read_frames(
    session: Session,
    purpose: Purpose,
    *,
    workspace_id: int,
    kinds: frozenset[ChannelKind],
    at: datetime,
    members: set[int],
    sieve: MessageSieve | None = None,
    defer: bool = False,
) -> SnapshotFrames:
    """The eligible rows the purpose reads of `members` (see `keep_members`).

    Messages are read in chunks and gated chunk by chunk; with a `sieve`, only what it keeps
    stays in memory. With `defer`, no message or membership is read: they are counted, and the
    gate that admits them is kept (`SnapshotFrames.gates`) for whoever reads them later.
    """
    reads = " ".join(purpose.reads)
    reactions = pl.DataFrame(schema=REACTION_READ_SCHEMA)
    memberships = pl.DataFrame(schema=MEMBERSHIP_SCHEMA)
    closed_kinds = kinds - {ChannelKind.PUBLIC}
    conversation_members = read_rows(
        session, memberships_query(workspace_id, closed_kinds, at), MEMBERSHIP_SCHEMA
    )
    names = session.scalars(public_channels_query(workspace_id, at))
    frames = SnapshotFrames(
        pl.DataFrame(schema=MESSAGE_SCHEMA),
        reactions,
        memberships,
        conversation_members,
        tuple(str(name) for name in names),
    )
    closed = closed_channels(frames, members)
    gate = WorkspaceGate(workspace_id, kinds, frozenset(members), tuple(closed))
    if defer and ("_messages" in reads or "_memberships" in reads):
        frames = replace(frames, gates=(gate,))
    if "_messages" in reads:
        found = _tally(session, gate, at) if defer else _read_messages(session, gate, at, sieve)
        frames = replace(frames, **found)
    if "_reactions" in reads:
        query = reactions_query(workspace_id, kinds, at)
        frames = replace(frames, reactions=read_rows(session, query, REACTION_READ_SCHEMA))
    if "_memberships" in reads and defer:
        frames = replace(frames, **_membership_tally(session, gate, at))
    elif "_memberships" in reads:
        query = memberships_query(workspace_id, kinds, at)
        frames = replace(frames, memberships=read_rows(session, query, MEMBERSHIP_SCHEMA))
    return keep_members(frames, members)


def _read_messages(
    session: Session, gate: WorkspaceGate, at: datetime, sieve: MessageSieve | None
) -> dict[str, Any]:
    """The gated messages (all, or what `sieve` keeps, with the count and authors of all)."""
    query = messages_query(gate.workspace_id, gate.kinds, at)
    kept = kept_messages(session, query, gate.members, list(gate.closed), sieve)
    if sieve is None:
        return {"messages": kept}
    return {"messages": kept, **_tally(session, gate, at)}


def kept_messages(
    session: Session,
    query: Select[*tuple[Any, ...]],
    members: Collection[int],
    closed: list[str],
    sieve: MessageSieve | None,
) -> pl.DataFrame:
    """The gated messages of `query`, all of them or what `sieve` keeps."""
    kept = pl.DataFrame(schema=MESSAGE_SCHEMA)
    if sieve is not None:
        query = query.where(Message.text.like(sieve.text_pattern))
    chunks = (gated(chunk, set(members), closed) for chunk in message_chunks(session, query))
    if sieve is None:
        return pl.concat([kept, *chunks])
    for chunk in chunks:
        kept = sieve(kept, chunk)
    return kept


def _tally(session: Session, gate: WorkspaceGate, at: datetime) -> dict[str, Any]:
    """How many gated messages there are, and their authors: counted and named by the
    database, per author and channel, so no message need come here."""
    query = tally_query(gate.workspace_id, gate.kinds, at)
    rows = read_rows(session, query, TALLY_SCHEMA)
    tally = gated(rows, set(gate.members), list(gate.closed))
    return {
        "messages_read": int(tally["messages"].sum()),
        "authors": frozenset(tally["member_id"].unique().to_list()),
    }


def _membership_tally(session: Session, gate: WorkspaceGate, at: datetime) -> dict[str, Any]:
    """How many gated memberships there are, and whose: counted per member by the database."""
    query = (
        select(Membership.member_id, func.count())
        .join(Channel, Channel.id == Membership.channel_id)
        .where(eligible_channels(gate.workspace_id, gate.kinds, at))
        .group_by(Membership.member_id)
    )
    if gate.closed:
        query = query.where(Channel.name.not_in(gate.closed))
    schema = {"member_id": pl.Int64, "memberships": pl.Int64}
    held = pl.col("member_id").is_in(sorted(gate.members))
    tally = read_rows(session, query, schema).filter(held)
    return {
        "memberships_read": int(tally["memberships"].sum()),
        "membership_holders": frozenset(tally["member_id"].to_list()),
    }
