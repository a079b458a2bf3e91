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

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from askfirst.consent import Purpose, eligible_channel_kinds, members_for_training
from askfirst.consent.pools import persons, pool_of
from askfirst.journal import append
from askfirst.recommenders.evaluation import choose_holdout
from askfirst.store.tables import ChannelKind, Member, SnapshotMember
from askfirst.store.tables import Snapshot as SnapshotRow
from askfirst.training.budgets import members_who_can_pay, spent_by_member
from askfirst.training.partitioned_snapshots import left_in_store
from askfirst.training.snapshot_frames import (
    MessageSieve,
    SnapshotFrames,
    by_unit,
    concat_frames,
    contained_members,
    read_frames,
)


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
