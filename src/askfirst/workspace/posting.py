"""Posting into a workspace: messages, reactions, joining and leaving channels.

Plain functions over a Session, so the web API, the CLI and tests share them. Each refuses what
Slack would refuse with a `PostingError` that names the input, says what was wrong and what to
do; the caller's transaction decides whether anything is kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from askfirst.clock import Clock, as_utc
from askfirst.store.tables.workspace import (
    Channel,
    ChannelKind,
    Member,
    Membership,
    Message,
    Reaction,
)

MAX_TEXT = 40_000  # Slack's limit for one message
EMOJI_NAME = re.compile(r"[a-z0-9_+\-']{1,100}")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FIXED_MEMBERS = (ChannelKind.DIRECT, ChannelKind.MULTI_DIRECT)
# Without the id: a refusal must read the same for every channel the member cannot see.
NO_SUCH_CHANNEL = "channel_id: no such channel among those you can see; pick one from your list"
NO_SUCH_MESSAGE = "message_id: no such message among those you can see; reload the page"


class PostingError(ValueError):
    """An input the workspace refuses; `field` names it (the web API maps this to a 422)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class UnknownTarget(PostingError):
    """A channel, member or message id that the store does not hold (a 404)."""


class NotPermitted(PostingError):
    """A member acting where they may not: outside their channels, uninvited (a 403)."""


def post_message(
    session: Session,
    *,
    channel_id: int,
    author_id: int,
    text: str,
    clock: Clock,
    thread_ts: str | None = None,
) -> Message:
    """Post `text` as `author_id` in a channel they belong to, as a reply when `thread_ts` is set.

    The message's ts is the clock's instant in Slack's form, moved on by a microsecond while
    another message of the channel already has it.
    """
    author = _member(session, author_id, "author_id")
    channel = _readable_channel(session, channel_id, author)
    _active_member(session, author_id, channel, field="author_id")
    _check_text(text)
    _require_membership(session, channel, author, "post in")
    if thread_ts is not None:
        _check_thread(session, channel, thread_ts)
    ts = _free_ts(session, channel.id, clock.now())
    message = Message(
        channel_id=channel.id,
        author_id=author.id,
        ts=ts,
        posted_at=ts_instant(ts),
        thread_ts=thread_ts,
        text=text,
    )
    session.add(message)
    session.flush()
    return message


def add_reaction(session: Session, *, message_id: int, member_id: int, emoji: str) -> Reaction:
    """React to a message in a channel the member belongs to; reacting twice keeps one reaction."""
    _check_emoji(emoji)
    message = _message(session, message_id)
    member = _member(session, member_id)
    channel = _readable_channel(session, message.channel_id, member, message_id=message.id)
    _active_member(session, member_id, channel)
    _require_membership(session, channel, member, "react in")
    reaction = session.get(Reaction, (message.id, member.id, emoji))
    if reaction is None:
        reaction = Reaction(message_id=message.id, member_id=member.id, emoji=emoji)
        session.add(reaction)
        session.flush()
    return reaction


def remove_reaction(session: Session, *, message_id: int, member_id: int, emoji: str) -> bool:
    """Take a reaction back; True when there was one. Allowed even after leaving the channel."""
    _check_emoji(emoji)
    message = _message(session, message_id)
    member = _member(session, member_id)
    removed = session.execute(
        delete(Reaction).where(
            Reaction.message_id == message.id,
            Reaction.member_id == member.id,
            Reaction.emoji == emoji,
        )
    )
    return bool(removed.rowcount)  # type: ignore[attr-defined]


def join_channel(
    session: Session, *, channel_id: int, member_id: int, invited_by: int | None = None
) -> bool:
    """Join a public channel, or a private one when a member of it invites; False if already in.

    A channel the member cannot read (another workspace's, a private one without an invitation
    from a member of it, a direct conversation of others) is refused exactly as an id that
    does not exist, so joining tells nothing about channels the member may not see.
    """
    member = _member(session, member_id)
    channel = _readable_channel(session, channel_id, member, invited_by=invited_by)
    _active_member(session, member_id, channel)
    if _is_member(session, channel.id, member.id):
        return False  # direct conversations are seen only by their fixed members: never joined
    session.add(Membership(channel_id=channel.id, member_id=member.id))
    session.flush()
    return True


def leave_channel(session: Session, *, channel_id: int, member_id: int) -> bool:
    """Leave a channel; False if the member was not in it. Direct conversations cannot be left."""
    channel = _channel(session, channel_id)
    member = _member(session, member_id)
    if channel.kind in FIXED_MEMBERS:
        raise NotPermitted(
            "channel_id", f"channel {channel.id} is a direct conversation; it cannot be left"
        )
    left = session.execute(
        delete(Membership).where(
            Membership.channel_id == channel.id, Membership.member_id == member.id
        )
    )
    return bool(left.rowcount)  # type: ignore[attr-defined]


def slack_ts(instant: datetime) -> str:
    """Slack's message id for an instant: seconds, a dot, six digits of microseconds."""
    micros = (as_utc(instant) - EPOCH) // timedelta(microseconds=1)
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def ts_instant(ts: str) -> datetime:
    seconds, _, micros = ts.partition(".")
    return EPOCH + timedelta(seconds=int(seconds), microseconds=int(micros.ljust(6, "0")))


def _free_ts(session: Session, channel_id: int, now: datetime) -> str:
    instant = as_utc(now)
    while True:
        ts = slack_ts(instant)
        taken = select(Message.id).where(Message.channel_id == channel_id, Message.ts == ts)
        if session.scalar(taken) is None:
            return ts
        instant += timedelta(microseconds=1)


def _check_text(text: str) -> None:
    if not text.strip():
        raise PostingError("text", "text is empty; write something to post")
    if len(text) > MAX_TEXT:
        raise PostingError(
            "text",
            f"text is {len(text):,} characters, over the limit of {MAX_TEXT:,}; "
            "split it into several messages",
        )


def _check_emoji(emoji: str) -> None:
    if not EMOJI_NAME.fullmatch(emoji):
        raise PostingError(
            "emoji",
            f"emoji {emoji!r} is not an emoji name; use a short name like 'rocket' or '+1' "
            "(lowercase letters, digits, _ + - ', at most 100, without colons)",
        )


def _check_thread(session: Session, channel: Channel, thread_ts: str) -> None:
    parent = session.scalar(
        select(Message).where(Message.channel_id == channel.id, Message.ts == thread_ts)
    )
    if parent is None:
        raise UnknownTarget(
            "thread_ts", f"thread_ts {thread_ts!r}: no message with that ts in channel {channel.id}"
        )
    if parent.thread_ts not in (None, parent.ts):
        raise PostingError(
            "thread_ts",
            f"thread_ts {thread_ts!r} is itself a reply; reply to the thread's first message "
            f"{parent.thread_ts!r}",
        )


def _visible_to(session: Session, channel: Channel, member: Member, invited_by: int | None) -> bool:
    """Whether the member may know the channel exists: their workspace's, and public, or one
    they are in, or private with an invitation from a member of it."""
    if channel.workspace_id != member.workspace_id:
        return False
    if channel.kind is ChannelKind.PUBLIC or _is_member(session, channel.id, member.id):
        return True
    invited = invited_by is not None and _is_member(session, channel.id, invited_by)
    return channel.kind is ChannelKind.PRIVATE and invited


def _require_membership(session: Session, channel: Channel, member: Member, action: str) -> None:
    if not _is_member(session, channel.id, member.id):
        hint = "join it first" if channel.kind is ChannelKind.PUBLIC else "ask to be invited"
        raise NotPermitted(
            "channel_id",
            f"member {member.id} is not in channel {channel.id} and cannot {action} it; {hint}",
        )


def _is_member(session: Session, channel_id: int, member_id: int) -> bool:
    return session.get(Membership, (channel_id, member_id)) is not None


def _channel(session: Session, channel_id: int) -> Channel:
    channel = session.get(Channel, channel_id)
    if channel is None:
        raise UnknownTarget("channel_id", f"channel_id {channel_id}: no such channel")
    return channel


def _readable_channel(
    session: Session,
    channel_id: int,
    member: Member,
    *,
    invited_by: int | None = None,
    message_id: int | None = None,
) -> Channel:
    """The channel, open for changes, if the member may know it exists; one they may not is
    refused as if it did not exist (as its message, when reached through `message_id`)."""
    channel = session.get(Channel, channel_id)
    if channel is None or not _visible_to(session, channel, member, invited_by):
        if message_id is not None:
            raise UnknownTarget("message_id", NO_SUCH_MESSAGE)
        raise UnknownTarget("channel_id", NO_SUCH_CHANNEL)
    if channel.is_archived:
        raise NotPermitted(
            "channel_id", f"channel {channel.id} (#{channel.name}) is archived; nothing can change"
        )
    return channel


def _member(session: Session, member_id: int, field: str = "member_id") -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise UnknownTarget(field, f"{field} {member_id}: no such member")
    return member


def _active_member(
    session: Session, member_id: int, channel: Channel, field: str = "member_id"
) -> Member:
    """A member of the channel's workspace who can still act (not deactivated)."""
    member = _member(session, member_id, field)
    if member.workspace_id != channel.workspace_id:
        raise UnknownTarget(
            field,
            f"{field} {member_id}: that member is in another workspace than channel {channel.id}",
        )
    if member.is_deleted:
        raise NotPermitted(field, f"{field} {member_id}: member {member.name} is deactivated")
    return member


def _message(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise UnknownTarget("message_id", f"message_id {message_id}: no such message")
    return message
