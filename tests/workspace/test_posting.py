"""Posting: messages, reactions, joining and leaving, with Slack's refusals, on both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from askfirst.clock import ManualClock
from askfirst.store import Store
from askfirst.store.tables.workspace import (
    Channel,
    ChannelKind,
    Member,
    Membership,
    Message,
    Org,
    Reaction,
    Workspace,
)
from askfirst.workspace.posting import (
    NO_SUCH_CHANNEL,
    NotPermitted,
    PostingError,
    UnknownTarget,
    add_reaction,
    join_channel,
    leave_channel,
    post_message,
    remove_reaction,
)

NEW_YEAR = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class Place:
    """A tiny workspace: ada and ben, a few channels of every kind, and a clock."""

    ada: int
    ben: int
    cy: int  # in no channel yet
    gone: int  # a deactivated member
    general: int  # public, ada and ben
    random: int  # public, ada only
    secret: int  # private, ada only
    direct: int  # ada and ben
    archived: int  # public, ada
    clock: ManualClock


@pytest.fixture
def place(store: Store) -> Place:
    with store.transaction() as session:
        org = Org(name="acme", created_at=NEW_YEAR)
        session.add(org)
        session.flush()
        workspace = Workspace(org_id=org.id, name="main", created_at=NEW_YEAR)
        session.add(workspace)
        session.flush()
        ada, ben, cy, gone = (
            _add(session, Member(workspace_id=workspace.id, slack_id=f"U{n}", name=name))
            for n, name in enumerate(("ada", "ben", "cy", "gone"))
        )
        session.get_one(Member, gone).is_deleted = True
        channels = {}
        for name, kind, members in [
            ("general", ChannelKind.PUBLIC, (ada, ben, gone)),
            ("random", ChannelKind.PUBLIC, (ada,)),
            ("secret", ChannelKind.PRIVATE, (ada,)),
            ("direct", ChannelKind.DIRECT, (ada, ben)),
            ("archived", ChannelKind.PUBLIC, (ada,)),
        ]:
            channel = Channel(
                workspace_id=workspace.id,
                slack_id=f"C{name}",
                name=name,
                kind=kind,
                is_archived=name == "archived",
            )
            channels[name] = _add(session, channel)
            session.add_all(Membership(channel_id=channels[name], member_id=m) for m in members)
    return Place(ada=ada, ben=ben, cy=cy, gone=gone, clock=ManualClock(NEW_YEAR), **channels)


def _add(session: Session, row: Member | Channel) -> int:
    session.add(row)
    session.flush()
    return row.id


def test_a_message_gets_its_ts_and_time_from_the_clock(store: Store, place: Place) -> None:
    with store.transaction() as session:
        message = post_message(
            session, channel_id=place.general, author_id=place.ada, text="hello", clock=place.clock
        )
    with store.reading() as session:
        stored = session.get_one(Message, message.id)
        assert (stored.ts, stored.posted_at, stored.text) == (
            "1767225600.000000",
            NEW_YEAR,
            "hello",
        )
        assert (stored.author_id, stored.thread_ts, stored.subtype) == (place.ada, None, None)


def test_messages_at_the_same_instant_get_distinct_ts(store: Store, place: Place) -> None:
    with store.transaction() as session:
        stamps = [
            post_message(
                session, channel_id=place.general, author_id=who, text="hi", clock=place.clock
            ).ts
            for who in (place.ada, place.ben, place.ada)
        ]
        elsewhere = post_message(
            session, channel_id=place.random, author_id=place.ada, text="hi", clock=place.clock
        )
    assert stamps == ["1767225600.000000", "1767225600.000001", "1767225600.000002"]
    assert elsewhere.ts == "1767225600.000000"  # unique per channel, not per workspace
    assert elsewhere.posted_at == NEW_YEAR


def test_a_reply_joins_the_thread_of_a_first_message(store: Store, place: Place) -> None:
    def reply(session: Session, thread_ts: str) -> Message:
        return post_message(
            session,
            channel_id=place.general,
            author_id=place.ben,
            text="an answer",
            clock=place.clock,
            thread_ts=thread_ts,
        )

    with store.transaction() as session:
        first = post_message(
            session, channel_id=place.general, author_id=place.ada, text="q", clock=place.clock
        )
        place.clock.advance(timedelta(seconds=30))
        answer = reply(session, first.ts)
        assert (answer.thread_ts, answer.ts) == (first.ts, "1767225630.000000")
        with pytest.raises(PostingError, match=r"thread_ts '1767225630.000000' is itself a reply"):
            reply(session, answer.ts)
        with pytest.raises(UnknownTarget, match=r"thread_ts '1.000000': no message") as error:
            reply(session, "1.000000")
        assert error.value.field == "thread_ts"


@pytest.mark.parametrize(
    ("text", "problem"), [("", "empty"), ("  \n", "empty"), ("x" * 40_001, "40,001 characters")]
)
def test_empty_or_oversized_text_is_refused(
    store: Store, place: Place, text: str, problem: str
) -> None:
    with store.transaction() as session, pytest.raises(PostingError, match=problem) as error:
        post_message(
            session, channel_id=place.general, author_id=place.ada, text=text, clock=place.clock
        )
    assert error.value.field == "text"
    assert _count(store, Message) == 0


def test_text_of_exactly_the_limit_is_posted(store: Store, place: Place) -> None:
    with store.transaction() as session:
        post_message(
            session,
            channel_id=place.general,
            author_id=place.ada,
            text="x" * 40_000,
            clock=place.clock,
        )
    assert _count(store, Message) == 1


@pytest.mark.parametrize(
    ("channel", "author", "error", "field"),
    [
        ("missing", "ada", UnknownTarget, "channel_id"),
        ("general", "missing", UnknownTarget, "author_id"),
        ("random", "ben", NotPermitted, "channel_id"),  # public, but ben has not joined
        ("secret", "ben", UnknownTarget, "channel_id"),  # private: as if it did not exist
        ("archived", "ada", NotPermitted, "channel_id"),
        ("general", "gone", NotPermitted, "author_id"),
    ],
)
def test_posting_is_refused_outside_ones_channels(
    store: Store, place: Place, channel: str, author: str, error: type[PostingError], field: str
) -> None:
    ids = {**vars(place), "missing": 999_999}
    with store.transaction() as session, pytest.raises(error) as refused:
        post_message(
            session, channel_id=ids[channel], author_id=ids[author], text="hi", clock=place.clock
        )
    assert refused.value.field == field
    if error is UnknownTarget and field == "channel_id":
        assert str(refused.value) == NO_SUCH_CHANNEL  # the same words for every unseen channel
    else:
        assert str(ids[channel] if field == "channel_id" else ids[author]) in str(refused.value)


def test_joining_a_public_channel_lets_a_member_post_and_leaving_stops_it(
    store: Store, place: Place
) -> None:
    with store.transaction() as session:
        assert join_channel(session, channel_id=place.random, member_id=place.ben) is True
        assert join_channel(session, channel_id=place.random, member_id=place.ben) is False
        post_message(
            session, channel_id=place.random, author_id=place.ben, text="hi", clock=place.clock
        )
        assert leave_channel(session, channel_id=place.random, member_id=place.ben) is True
        assert leave_channel(session, channel_id=place.random, member_id=place.ben) is False
        with pytest.raises(NotPermitted, match="join it first"):
            post_message(
                session, channel_id=place.random, author_id=place.ben, text="hi", clock=place.clock
            )


def test_a_private_channel_is_joined_only_by_invitation_from_a_member(
    store: Store, place: Place
) -> None:
    with store.transaction() as session:
        with pytest.raises(UnknownTarget, match="no such channel"):
            join_channel(session, channel_id=place.secret, member_id=place.ben)
        with pytest.raises(UnknownTarget, match="no such channel"):
            join_channel(
                session, channel_id=place.secret, member_id=place.ben, invited_by=place.ben
            )
        assert join_channel(
            session, channel_id=place.secret, member_id=place.ben, invited_by=place.ada
        )
        post_message(
            session, channel_id=place.secret, author_id=place.ben, text="hi", clock=place.clock
        )


def test_direct_conversations_keep_their_members(store: Store, place: Place) -> None:
    with store.transaction() as session:
        assert not join_channel(session, channel_id=place.direct, member_id=place.ben)
        with pytest.raises(UnknownTarget, match="no such channel"):
            join_channel(session, channel_id=place.direct, member_id=place.cy, invited_by=place.ada)
        with pytest.raises(NotPermitted, match="cannot be left"):
            leave_channel(session, channel_id=place.direct, member_id=place.ada)


def test_reactions_are_added_once_and_removed(store: Store, place: Place) -> None:
    with store.transaction() as session:
        message = post_message(
            session, channel_id=place.general, author_id=place.ada, text="ship", clock=place.clock
        )
        for emoji in ("rocket", "rocket", "+1"):
            add_reaction(session, message_id=message.id, member_id=place.ben, emoji=emoji)
    assert _count(store, Reaction) == 2
    with store.transaction() as session:
        assert remove_reaction(session, message_id=message.id, member_id=place.ben, emoji="rocket")
        assert not remove_reaction(
            session, message_id=message.id, member_id=place.ben, emoji="rocket"
        )
    with store.reading() as session:
        left = session.scalars(select(Reaction.emoji)).all()
    assert left == ["+1"]


@pytest.mark.parametrize("emoji", [":rocket:", "Rocket", "", "x" * 101, "two words", "émoji"])
def test_emoji_that_are_not_names_are_refused(store: Store, place: Place, emoji: str) -> None:
    with store.transaction() as session:
        message = post_message(
            session, channel_id=place.general, author_id=place.ada, text="hi", clock=place.clock
        )
        with pytest.raises(PostingError, match="is not an emoji name") as error:
            add_reaction(session, message_id=message.id, member_id=place.ada, emoji=emoji)
    assert error.value.field == "emoji"


@pytest.mark.parametrize("emoji", ["+1", "-1", "e-mail", "man's_shoe", "100", "x" * 100])
def test_emoji_names_slack_uses_are_accepted(store: Store, place: Place, emoji: str) -> None:
    with store.transaction() as session:
        message = post_message(
            session, channel_id=place.general, author_id=place.ada, text="hi", clock=place.clock
        )
        add_reaction(session, message_id=message.id, member_id=place.ada, emoji=emoji)
    assert _count(store, Reaction) == 1


def test_reacting_needs_membership_but_taking_a_reaction_back_does_not(
    store: Store, place: Place
) -> None:
    with store.transaction() as session:
        message = post_message(
            session, channel_id=place.random, author_id=place.ada, text="hi", clock=place.clock
        )
        with pytest.raises(NotPermitted, match=f"member {place.ben} is not in channel"):
            add_reaction(session, message_id=message.id, member_id=place.ben, emoji="wave")
        join_channel(session, channel_id=place.random, member_id=place.ben)
        add_reaction(session, message_id=message.id, member_id=place.ben, emoji="wave")
        leave_channel(session, channel_id=place.random, member_id=place.ben)
        assert remove_reaction(session, message_id=message.id, member_id=place.ben, emoji="wave")
        with pytest.raises(UnknownTarget, match="message_id 424242: no such message"):
            add_reaction(session, message_id=424_242, member_id=place.ben, emoji="wave")


def test_a_refused_post_inside_a_transaction_leaves_the_store_as_it_was(
    store: Store, place: Place
) -> None:
    with pytest.raises(PostingError), store.transaction() as session:
        post_message(
            session, channel_id=place.general, author_id=place.ada, text="one", clock=place.clock
        )
        post_message(
            session, channel_id=place.general, author_id=place.ada, text="", clock=place.clock
        )
    assert _count(store, Message) == 0


def _count(store: Store, table: type[Message] | type[Reaction]) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)
