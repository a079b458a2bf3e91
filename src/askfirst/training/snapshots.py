"""Snapshots: the consent gate the trainer reads the store through.

A snapshot for a purpose holds the eligible data (channel kinds the policies allow; public only
by default) of members whose effective consent was granted at its watermark and whose budget
can pay one more release. Data that involves two members (B's reaction on A's message) is kept
only if both are in; only data posted at or before the watermark; never bots, deleted members
or placeholders. Reading (`read_snapshot`, inside `store.reading_at()`) and recording
(`record_snapshot`, inside `store.transaction()`) are separate so that a training run that fails
between them leaves no rows behind.

For an engine that reads the store itself (Spark), `read_snapshot(partitioned=True)` leaves the
fitted members' messages and memberships in the store (`partitioned_snapshots`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import polars as pl
from sqlalchemy import Select, func, insert, select
from sqlalchemy.orm import Session

from askfirst.consent import Purpose, eligible_channel_kinds, members_for_training
from askfirst.consent.pools import persons, pool_of
from askfirst.engines.partitions import PartitionedRows
from askfirst.journal import append
from askfirst.recommenders.evaluation import choose_holdout
from askfirst.store.tables import (
    Channel,
    ChannelKind,
    Member,
    Membership,
    Message,
    SnapshotMember,
)
from askfirst.store.tables import Snapshot as SnapshotRow
from askfirst.training.budgets import members_who_can_pay, spent_by_member
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


@dataclass(frozen=True)
class Snapshot:
    """Who and what one snapshot contains; `id` is None until it is recorded."""

    workspace_id: int
    purpose_key: str
    watermark: datetime
    channel_kinds: frozenset[ChannelKind]
    members: frozenset[int]
    holdout_members: frozenset[int]
    message_count: int
    reaction_count: int
    membership_count: int
    left_out_for_budget: int
    id: int | None = None
    # The other workspaces of the org a pooled snapshot reads (and its release serves).
    pooled_workspaces: tuple[int, ...] = ()

    @property
    def training_members(self) -> frozenset[int]:
        return self.members - self.holdout_members


def read_snapshot(
    session: Session,
    *,
    workspace_id: int,
    purpose_key: str,
    at: datetime,
    purposes: Mapping[str, Purpose],
    rng: np.random.Generator | None = None,
    sieve: MessageSieve | None = None,
    partitioned: bool = False,
) -> tuple[Snapshot, SnapshotFrames]:
    """Select a snapshot at watermark `at` and read its data; writes nothing.

    Call it inside `store.reading_at(clock)` with its watermark as `at`: the gate and the data
    then come from one consistent state that holds every answer given at or before `at`.

    When the workspace's org pools the purpose (`askfirst.consent.pools`), the snapshot is the
    pool's: recorded in its home workspace, it reads every workspace of the pool, each through
    its own consent gate and policies. The frames returned for fitting name each member by their
    person (`unit_ids`), so a person writing in several workspaces is bounded once.

    With a `sieve`, messages stream through it and the frames hold only what it keeps (what
    the purpose's fit can read), so memory does not grow with the messages; the snapshot's
    members and counts are those of every gated message all the same.

    With `partitioned`, only the held-out members' messages and memberships are read here;
    the fitted members' are left to an engine that reads the store itself
    (`SnapshotFrames.source`, `membership_source`; see `partitioned_snapshots`).
    """
    purpose = purposes[purpose_key]
    pool = pool_of(session, workspace_id=workspace_id, purpose_key=purpose_key, at=at)
    spent = spent_by_member(session, workspace_id=pool[0], purpose=purpose, at=at)
    parts: list[SnapshotFrames] = []
    kinds: set[ChannelKind] = set()
    consenting: set[int] = set()
    admitted: set[int] = set()
    for member_of in pool:
        kinds_here = eligible_channel_kinds(
            session, workspace_id=member_of, purpose_key=purpose_key, at=at
        )
        consenting_here = members_for_training(
            session, workspace_id=member_of, purpose_key=purpose_key, at=at, purposes=purposes
        ) & people(session, member_of)
        admitted_here = members_who_can_pay(consenting_here, spent, purpose=purpose)
        frames_here = read_frames(
            session,
            purpose,
            workspace_id=member_of,
            kinds=kinds_here,
            at=at,
            members=admitted_here,
            sieve=sieve,
            defer=partitioned,
        )
        parts.append(frames_here)
        kinds |= kinds_here
        consenting |= consenting_here
        admitted |= admitted_here
    frames = concat_frames(parts)
    members = contained_members(frames)
    units = unit_ids(persons(session, members), members)
    held_out_units = choose_holdout(set(units.values()), rng or np.random.default_rng())
    snapshot = Snapshot(
        workspace_id=pool[0],
        purpose_key=purpose_key,
        watermark=at,
        channel_kinds=frozenset(kinds),
        members=members,
        holdout_members=frozenset(m for m in members if units[m] in held_out_units),
        message_count=frames.message_count,
        reaction_count=frames.reactions.height,
        membership_count=frames.membership_count,
        left_out_for_budget=len(consenting - admitted),
        pooled_workspaces=pool[1:],
    )
    if frames.gates:
        # That module builds on this one's queries, so it is imported only when used.
        from askfirst.training.partitioned_snapshots import left_in_store

        frames = left_in_store(
            session, frames, at=at, held_out=snapshot.holdout_members, units=units, sieve=sieve
        )
    return snapshot, by_unit(frames, units)


def unit_ids(person_of: Mapping[int, int], members: Collection[int]) -> dict[int, int]:
    """Each member's privacy unit in a snapshot: the smallest of their person's member ids
    among `members` (a member's own id unless they write in several workspaces of a pool).

    Computed from the snapshot's member list alone, so a release derived later takes the same
    units out."""
    smallest: dict[int, int] = {}
    for member in members:
        person = person_of.get(member, member)
        smallest[person] = min(smallest.get(person, member), member)
    return {member: smallest[person_of.get(member, member)] for member in members}


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


def record_snapshot(session: Session, snapshot: Snapshot, *, at: datetime) -> Snapshot:
    """Write the snapshot, its member list and its journal entry; returns it with its id."""
    row = SnapshotRow(
        workspace_id=snapshot.workspace_id,
        purpose_key=snapshot.purpose_key,
        watermark=snapshot.watermark,
        taken_at=at,
        channel_kinds=",".join(sorted(snapshot.channel_kinds)),
        member_count=len(snapshot.members),
        message_count=snapshot.message_count,
        reaction_count=snapshot.reaction_count,
        membership_count=snapshot.membership_count,
        left_out_for_budget=snapshot.left_out_for_budget,
        pooled_workspaces=",".join(str(w) for w in snapshot.pooled_workspaces),
    )
    session.add(row)
    session.flush()
    if snapshot.members:
        session.execute(
            insert(SnapshotMember),
            [
                {"snapshot_id": row.id, "member_id": m, "is_holdout": m in snapshot.holdout_members}
                for m in sorted(snapshot.members)
            ],
        )
    recorded = replace(snapshot, id=row.id)
    append(
        session, "snapshot.taken", snapshot_payload(recorded), at=at, workspace_id=row.workspace_id
    )
    return recorded


def take_snapshot(
    session: Session,
    *,
    workspace_id: int,
    purpose_key: str,
    at: datetime,
    purposes: Mapping[str, Purpose],
) -> Snapshot:
    """Select and record a snapshot at watermark `at` in one (writing) session."""
    snapshot, _frames = read_snapshot(
        session, workspace_id=workspace_id, purpose_key=purpose_key, at=at, purposes=purposes
    )
    return record_snapshot(session, snapshot, at=at)


def snapshot_members(session: Session, snapshot_id: int) -> frozenset[int]:
    """The members a recorded snapshot contains."""
    query = select(SnapshotMember.member_id).where(SnapshotMember.snapshot_id == snapshot_id)
    return frozenset(session.scalars(query))


def in_snapshot(session: Session, snapshot_id: int, member_id: int) -> bool:
    """Whether a recorded snapshot contains the member (one indexed lookup)."""
    return session.get(SnapshotMember, (snapshot_id, member_id)) is not None


def snapshot_payload(snapshot: Snapshot) -> dict[str, object]:
    """What the journal says about a snapshot: counts, never member data."""
    payload: dict[str, object] = {
        "snapshot_id": snapshot.id,
        "purpose": snapshot.purpose_key,
        "watermark": snapshot.watermark.isoformat(),
        "channel_kinds": sorted(snapshot.channel_kinds),
        "members": len(snapshot.members),
        "holdout_members": len(snapshot.holdout_members),
        "messages": snapshot.message_count,
        "reactions": snapshot.reaction_count,
        "memberships": snapshot.membership_count,
        "left_out_for_budget": snapshot.left_out_for_budget,
    }
    if snapshot.pooled_workspaces:
        payload["pooled_workspaces"] = list(snapshot.pooled_workspaces)
    return payload


def people(session: Session, workspace_id: int) -> set[int]:
    """Members of the workspace who are people: no bots, deleted accounts or placeholders."""
    query = select(Member.id).where(
        Member.workspace_id == workspace_id,
        Member.is_bot.is_(False),
        Member.is_deleted.is_(False),
        Member.is_placeholder.is_(False),
    )
    return set(session.scalars(query))


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
    if defer and ("_messages" in reads or "_memberships" in reads):
        gate = WorkspaceGate(workspace_id, kinds, frozenset(members), tuple(closed))
        frames = replace(frames, gates=(gate,))
    if "_messages" in reads:
        place = (session, workspace_id, kinds, at, members, closed)
        found = _tally(*place) if defer else _read_messages(*place, sieve)
        frames = replace(frames, **found)
    if "_reactions" in reads:
        query = reactions_query(workspace_id, kinds, at)
        frames = replace(frames, reactions=read_rows(session, query, REACTION_READ_SCHEMA))
    if "_memberships" in reads and defer:
        tally = _membership_tally(session, workspace_id, kinds, at, members, closed)
        frames = replace(frames, **tally)
    elif "_memberships" in reads:
        query = memberships_query(workspace_id, kinds, at)
        frames = replace(frames, memberships=read_rows(session, query, MEMBERSHIP_SCHEMA))
    return keep_members(frames, members)


def _read_messages(
    session: Session,
    workspace_id: int,
    kinds: frozenset[ChannelKind],
    at: datetime,
    members: set[int],
    closed: list[str],
    sieve: MessageSieve | None,
) -> dict[str, Any]:
    """The gated messages (all, or what `sieve` keeps, with the count and authors of all)."""
    query = messages_query(workspace_id, kinds, at)
    kept = kept_messages(session, query, members, closed, sieve)
    if sieve is None:
        return {"messages": kept}
    return {"messages": kept, **_tally(session, workspace_id, kinds, at, members, closed)}


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


def _tally(
    session: Session,
    workspace_id: int,
    kinds: frozenset[ChannelKind],
    at: datetime,
    members: set[int],
    closed: list[str],
) -> dict[str, Any]:
    """How many gated messages there are, and their authors: counted and named by the
    database, per author and channel, so no message need come here."""
    query = tally_query(workspace_id, kinds, at)
    tally = gated(read_rows(session, query, TALLY_SCHEMA), members, closed)
    return {
        "messages_read": int(tally["messages"].sum()),
        "authors": frozenset(tally["member_id"].unique().to_list()),
    }


def _membership_tally(
    session: Session,
    workspace_id: int,
    kinds: frozenset[ChannelKind],
    at: datetime,
    members: set[int],
    closed: list[str],
) -> dict[str, Any]:
    """How many gated memberships there are, and whose: counted per member by the database."""
    query = (
        select(Membership.member_id, func.count())
        .join(Channel, Channel.id == Membership.channel_id)
        .where(eligible_channels(workspace_id, kinds, at))
        .group_by(Membership.member_id)
    )
    if closed:
        query = query.where(Channel.name.not_in(closed))
    schema = {"member_id": pl.Int64, "memberships": pl.Int64}
    tally = read_rows(session, query, schema).filter(pl.col("member_id").is_in(sorted(members)))
    return {
        "memberships_read": int(tally["memberships"].sum()),
        "membership_holders": frozenset(tally["member_id"].to_list()),
    }
