"""Snapshots: only consenting people, only eligible data, only up to the watermark."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select
from training_chat import Chat

from askfirst.consent import set_policy
from askfirst.journal import entries
from askfirst.store import Store
from askfirst.store.tables import ChannelKind, SnapshotMember
from askfirst.training.snapshot_frames import SnapshotFrames
from askfirst.training.snapshots import Snapshot, read_snapshot, take_snapshot

EMOJI = "emoji_suggestions"
CHANNELS = "channel_recommendations"


def snapshot_of(chat: Chat, purpose_key: str = EMOJI) -> tuple[Snapshot, SnapshotFrames]:
    with chat.store.reading() as session:
        return read_snapshot(
            session,
            workspace_id=chat.workspace_id,
            purpose_key=purpose_key,
            at=chat.clock.now(),
            purposes=chat.purposes,
        )


def test_only_members_who_granted_are_in(chat: Chat) -> None:
    a, b, c = chat.members
    chat.channel("general", ChannelKind.PUBLIC, a, b, c)
    for member in (a, b, c):
        chat.post(member, "general", "hello :tada:")
    chat.grant(a, EMOJI)
    chat.grant(b, CHANNELS)
    snapshot, frames = snapshot_of(chat)
    assert snapshot.members == {a}
    assert set(frames.messages["member_id"]) == {a}


def test_emoji_snapshots_read_no_reactions(chat: Chat) -> None:
    a, b, _ = chat.members
    chat.channel("general", ChannelKind.PUBLIC)
    by_a = chat.post(a, "general", "ship it")
    chat.react(b, by_a, "rocket")
    chat.grant(a, EMOJI)
    chat.grant(b, EMOJI)
    snapshot, frames = snapshot_of(chat)
    assert frames.reactions.is_empty()
    assert snapshot.members == {a}


def test_a_reaction_needs_both_reactor_and_author(chat: Chat) -> None:
    # A purpose configured to read reactions (none built in does) keeps one only when both
    # the reactor and the message's author consent.
    chat.purposes = {
        key: replace(p, reads=(*p.reads, "public_reactions")) if key == EMOJI else p
        for key, p in chat.purposes.items()
    }
    a, b, c = chat.members
    chat.channel("general", ChannelKind.PUBLIC)
    by_a = chat.post(a, "general", "ship it")
    by_c = chat.post(c, "general", "done")
    chat.react(b, by_a, "rocket")
    chat.react(b, by_c, "tada")
    chat.react(c, by_a, "eyes")
    chat.grant(a, EMOJI)
    chat.grant(b, EMOJI)
    snapshot, frames = snapshot_of(chat)
    assert frames.reactions.select("message_id", "member_id", "emoji").rows() == [
        (by_a, b, "rocket")
    ]
    assert snapshot.members == {a, b}


def test_only_data_posted_at_or_before_the_watermark(chat: Chat) -> None:
    a = chat.members[0]
    chat.channel("general")
    chat.grant(a, EMOJI)
    chat.post(a, "general", "before", ago=timedelta(seconds=1))
    chat.post(a, "general", "at")
    chat.clock.advance(timedelta(seconds=5))
    later = chat.post(a, "general", "after")
    with chat.store.reading() as session:
        _snapshot, frames = read_snapshot(
            session,
            workspace_id=chat.workspace_id,
            purpose_key=EMOJI,
            at=chat.clock.now() - timedelta(seconds=5),
            purposes=chat.purposes,
        )
    assert sorted(frames.messages["text"]) == ["at", "before"]
    assert later not in set(frames.messages["message_id"])


def test_no_bots_deleted_members_or_placeholders(chat: Chat) -> None:
    bot, gone, ghost = (
        chat.member(bot=True),
        chat.member(deleted=True),
        chat.member(placeholder=True),
    )
    chat.channel("general", ChannelKind.PUBLIC, bot, gone, ghost)
    for member in (bot, gone, ghost):
        chat.post(member, "general", "beep")
        chat.grant(member, EMOJI)
        chat.grant(member, CHANNELS)
    assert snapshot_of(chat)[0].members == frozenset()
    assert snapshot_of(chat, CHANNELS)[0].members == frozenset()


def test_private_channels_are_left_out_by_default(chat: Chat) -> None:
    a, b, _c = chat.members
    chat.channel("secret", ChannelKind.PRIVATE, a, b)
    chat.post(a, "secret", "psst")
    chat.grant(a, EMOJI)
    chat.grant(b, EMOJI)
    snapshot, frames = snapshot_of(chat)
    assert frames.messages.height == 0
    assert snapshot.channel_kinds == {ChannelKind.PUBLIC}


def test_a_private_conversation_needs_every_member_of_it(chat: Chat) -> None:
    a, b, c = chat.members
    with chat.store.transaction() as session:
        for org_id, workspace_id in ((_org_of(chat), None), (None, chat.workspace_id)):
            set_policy(
                session,
                purpose_key=EMOJI,
                purposes=chat.purposes,
                clock=chat.clock,
                org_id=org_id,
                workspace_id=workspace_id,
                include_private=True,
            )
    chat.channel("pair", ChannelKind.DIRECT, a, b)
    chat.channel("trio", ChannelKind.PRIVATE, a, b, c)
    chat.post(a, "pair", "just us")
    chat.post(a, "trio", "all three")
    chat.grant(a, EMOJI)
    chat.grant(b, EMOJI)
    _snapshot, frames = snapshot_of(chat)
    assert list(frames.messages["text"]) == ["just us"]


def test_mentions_of_other_members_are_replaced(chat: Chat) -> None:
    a = chat.members[0]
    chat.channel("general")
    chat.post(a, "general", "thanks <@U123ABC> and <@W9|bob>!")
    chat.grant(a, EMOJI)
    assert list(snapshot_of(chat)[1].messages["text"]) == ["thanks @member and @member!"]


def test_channel_snapshot_reads_memberships_of_consenting_members(chat: Chat) -> None:
    a, b, c = chat.members
    chat.channel("general", ChannelKind.PUBLIC, a, b, c)
    chat.channel("random", ChannelKind.PUBLIC, a, c)
    chat.grant(a, CHANNELS)
    chat.grant(b, CHANNELS)
    snapshot, frames = snapshot_of(chat, CHANNELS)
    assert sorted(frames.memberships.rows()) == [(a, "general"), (a, "random"), (b, "general")]
    assert snapshot.members == {a, b}
    assert frames.messages.height == 0


def test_take_snapshot_records_members_and_journals_counts(store: Store, chat: Chat) -> None:
    a, b, _c = chat.members
    chat.channel("general", ChannelKind.PUBLIC, a, b)
    chat.post(a, "general", "hi")
    chat.grant(a, EMOJI)
    with store.transaction() as session:
        snapshot = take_snapshot(
            session,
            workspace_id=chat.workspace_id,
            purpose_key=EMOJI,
            at=chat.clock.now(),
            purposes=chat.purposes,
        )
    with store.reading() as session:
        recorded = set(
            session.scalars(
                select(SnapshotMember.member_id).where(SnapshotMember.snapshot_id == snapshot.id)
            )
        )
        journal = entries(session, kind="snapshot.taken")
    assert recorded == {a}
    assert journal[-1].payload["members"] == 1
    assert journal[-1].payload["messages"] == 1
    assert journal[-1].payload["snapshot_id"] == snapshot.id


def _org_of(chat: Chat) -> int:
    from askfirst.store.tables import Workspace

    with chat.store.reading() as session:
        return session.get_one(Workspace, chat.workspace_id).org_id
