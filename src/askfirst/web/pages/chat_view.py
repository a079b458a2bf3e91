"""What the chat page shows: a member's channels, one channel's messages with their threads
and reactions, read in one consistent view of the store."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session

from askfirst.consent import Purpose, consent_status
from askfirst.recommenders.prior import emoji_prior
from askfirst.store import Store
from askfirst.store.tables import Channel, ChannelKind, Member, Membership, Message, Reaction
from askfirst.training.serving import EMOJI, served_artifact
from askfirst.training.snapshots import in_snapshot
from askfirst.web.errors import NotFound

# Top-level messages shown per channel (their thread replies come with them).
PAGE_MESSAGES = 50
# What a shown message needs, read as plain rows: loading ORM objects cost more than the query.
SHOWN = (
    Message.id,
    Message.ts,
    Message.thread_ts,
    Message.author_id,
    Message.posted_at,
    Message.text,
)
SHORTCODE = re.compile(r":([a-z0-9_+\-']{1,100}):")
# Slack's mentions: <@U024BE7LH>, or <@U024BE7LH|ada> in older exports.
MENTION = re.compile(r"<@([A-Z0-9][A-Za-z0-9_-]{0,63})(?:\|[^>]*)?>")
# A few reactions offered on every message, as Slack offers a short list.
QUICK_REACTIONS = ("+1", "heart", "joy", "tada", "eyes", "pray")
DIRECT_KINDS = (ChannelKind.DIRECT, ChannelKind.MULTI_DIRECT)
KIND_ORDER = {
    ChannelKind.PUBLIC: 0,
    ChannelKind.PRIVATE: 1,
    ChannelKind.MULTI_DIRECT: 2,
    ChannelKind.DIRECT: 3,
}


@dataclass(frozen=True)
class ChannelLink:
    """A conversation as the sidebar names it."""

    id: int
    name: str  # the channel's own name (what the emoji suggester knows it by)
    label: str  # "#deploys", "🔒 design-leads", "ada, bob"
    kind: ChannelKind

    @property
    def direct(self) -> bool:
        return self.kind in DIRECT_KINDS


@dataclass(frozen=True)
class ReactionView:
    emoji: str
    char: str
    count: int
    mine: bool

    @property
    def label(self) -> str:
        """What a screen reader says for the reaction's button."""
        counted = f"{self.emoji}: {self.count} {'reaction' if self.count == 1 else 'reactions'}"
        if self.mine:
            return f"{counted}, including yours; press to take yours back"
        return f"{counted}; press to add yours"


@dataclass
class MessageView:
    """A message as shown: author, time, text with :shortcodes: as emoji, reactions, replies."""

    id: int
    ts: str
    author: str
    posted_at: datetime
    text: str
    reactions: list[ReactionView] = field(default_factory=list)
    replies: list[MessageView] = field(default_factory=list)


def emoji_char(name: str) -> str:
    """The character of a Slack short name, or the name in colons when it is unknown."""
    prior = emoji_prior()
    canonical = prior.canonical_name(name)
    return prior.chars.get(canonical, f":{name}:") if canonical else f":{name}:"


def with_emoji(text: str) -> str:
    """Slack text with known `:shortcodes:` shown as their emoji."""
    return SHORTCODE.sub(lambda found: emoji_char(found.group(1)), text)


def my_channels(session: Session, member: Member) -> list[ChannelLink]:
    """The conversations the member belongs to: channels first, then direct messages."""
    query = (
        select(Channel)
        .join(Membership, Membership.channel_id == Channel.id)
        .where(Membership.member_id == member.id, Channel.is_archived.is_(False))
    )
    channels = list(session.scalars(query))
    others = _other_members(session, [c.id for c in channels if c.kind in DIRECT_KINDS], member)
    links = [ChannelLink(c.id, c.name, _label(c, others.get(c.id, [])), c.kind) for c in channels]
    return sorted(links, key=lambda link: (KIND_ORDER[link.kind], link.label.lower()))


@dataclass(frozen=True)
class Shortlist:
    """Conversations the sidebar shows at once, and the rest it keeps behind a toggle."""

    short: list[ChannelLink]
    rest: list[ChannelLink]


def recent_first(session: Session, links: list[ChannelLink], keep: int, current: int) -> Shortlist:
    """The `keep` conversations with the newest messages (and the open one) for the sidebar's
    short list; the rest behind it. Both keep the sidebar's order."""
    ids = [link.id for link in links]
    newest: dict[int, datetime] = {}
    if ids:
        # One indexed lookup per channel (ix_messages_channel_posted), not a scan of them all.
        latest = (
            select(func.max(Message.posted_at))
            .where(Message.channel_id == Channel.id)
            .scalar_subquery()
        )
        query = select(Channel.id, latest).where(Channel.id.in_(ids))
        newest = {channel_id: at for channel_id, at in session.execute(query) if at is not None}
    ranked = sorted(links, key=lambda link: (link.id in newest, newest.get(link.id)), reverse=True)
    short = {link.id for link in ranked[:keep]} | {current}
    return Shortlist(
        [link for link in links if link.id in short],
        [link for link in links if link.id not in short],
    )


def open_channel(
    session: Session, member: Member, channel_id: str | None, mine: list[ChannelLink]
) -> Channel:
    """The channel the page shows: the one asked for if the member may read it, else a default."""
    if channel_id is None or channel_id == "":
        return _default_channel(session, member, mine)
    return readable_channel(session, member, channel_id)


def readable_channel(session: Session, member: Member, channel_id: str) -> Channel:
    """The channel `channel_id` names, if the member may read it: a public channel of their
    workspace, or an open conversation they belong to. Any other id, whether a channel has it
    or not, raises the same NotFound."""
    channel = session.get(Channel, int(channel_id)) if is_row_id(channel_id) else None
    if (
        channel is None
        or channel.workspace_id != member.workspace_id
        or (
            channel.kind is not ChannelKind.PUBLIC
            and (channel.is_archived or not is_member_of(session, channel.id, member.id))
        )
    ):
        raise NotFound(
            f"channel {channel_id!r} is not a conversation you can read; "
            "pick one from the list of channels on the chat page"
        )
    return channel


def is_row_id(value: str) -> bool:
    """Whether `value` can name a row: digits only, small enough for any database's integer."""
    return value.isascii() and value.isdigit() and len(value) <= 9


def is_member_of(session: Session, channel_id: int, member_id: int) -> bool:
    return session.get(Membership, (channel_id, member_id)) is not None


def channel_messages(
    session: Session, channel: Channel, member_id: int, limit: int = PAGE_MESSAGES
) -> list[MessageView]:
    """The channel's newest `limit` top-level messages, oldest first, each with its replies."""
    top_level = or_(Message.thread_ts.is_(None), Message.thread_ts == Message.ts)
    newest: list[Row[Any]] = list(
        session.execute(
            select(*SHOWN)
            .where(Message.channel_id == channel.id, top_level)
            .order_by(Message.posted_at.desc(), Message.id.desc())
            .limit(limit)
        )
    )
    parents = list(reversed(newest))
    replies = _replies(session, channel.id, [m.ts for m in parents])
    every = parents + replies
    names = _author_names(session, {m.author_id for m in every if m.author_id is not None})
    mentioned = _mentioned(session, channel.workspace_id, [m.text for m in every])
    reactions = _reactions(session, [m.id for m in every], member_id)
    views = {m.id: _view(m, names, mentioned, reactions) for m in every}
    by_ts = {m.ts: views[m.id] for m in parents}
    for reply in replies:
        if reply.thread_ts in by_ts:
            by_ts[reply.thread_ts].replies.append(views[reply.id])
    return [views[m.id] for m in parents]


def with_parents(messages: list[MessageView]) -> list[tuple[MessageView, MessageView | None]]:
    """Every message shown, each with the message whose thread it replies in (None: top level)."""
    return [
        (shown, parent)
        for top in messages
        for shown, parent in [(top, None), *((reply, top) for reply in top.replies)]
    ]


def channel_id_by_name(session: Session, workspace_id: int, names: Iterable[str]) -> dict[str, int]:
    """Public, open channels of a workspace by name (names recommendations point at)."""
    wanted = list(names)
    if not wanted:
        return {}
    query = select(Channel.name, Channel.id).where(
        Channel.workspace_id == workspace_id,
        Channel.kind == ChannelKind.PUBLIC,
        Channel.is_archived.is_(False),
        Channel.name.in_(wanted),
    )
    return {row.name: row.id for row in session.execute(query)}


def _default_channel(session: Session, member: Member, mine: list[ChannelLink]) -> Channel:
    public = [link for link in mine if link.kind is ChannelKind.PUBLIC]
    preferred = next((link for link in public if link.name == "general"), None)
    chosen = preferred or (public[0] if public else (mine[0] if mine else None))
    if chosen is None:
        raise NotFound(
            "you are not in any conversation yet; ask a member of a channel to invite you"
        )
    return session.get_one(Channel, chosen.id)


def _label(channel: Channel, others: list[str]) -> str:
    if channel.kind is ChannelKind.PUBLIC:
        return f"#{channel.name}"
    if channel.kind is ChannelKind.PRIVATE:
        return f"🔒 {channel.name}"
    return ", ".join(sorted(others)) or "just you"


def _other_members(
    session: Session, channel_ids: list[int], member: Member
) -> dict[int, list[str]]:
    if not channel_ids:
        return {}
    query = (
        select(Membership.channel_id, Member.name, Member.real_name)
        .join(Member, Member.id == Membership.member_id)
        .where(Membership.channel_id.in_(channel_ids), Member.id != member.id)
    )
    others: dict[int, list[str]] = defaultdict(list)
    for row in session.execute(query):
        others[row.channel_id].append(row.real_name or row.name)
    return dict(others)


def _replies(session: Session, channel_id: int, parent_ts: list[str]) -> list[Row[Any]]:
    if not parent_ts:
        return []
    query = (
        select(*SHOWN)
        .where(
            Message.channel_id == channel_id,
            and_(Message.thread_ts.in_(parent_ts), Message.thread_ts != Message.ts),
        )
        .order_by(Message.posted_at, Message.id)
    )
    return list(session.execute(query))


def _author_names(session: Session, author_ids: set[int]) -> dict[int, str]:
    if not author_ids:
        return {}
    query = select(Member.id, Member.name, Member.real_name).where(Member.id.in_(author_ids))
    return {row.id: row.real_name or row.name for row in session.execute(query)}


def _reactions(
    session: Session, message_ids: list[int], member_id: int
) -> dict[int, list[ReactionView]]:
    if not message_ids:
        return {}
    query = select(Reaction.message_id, Reaction.emoji, Reaction.member_id).where(
        Reaction.message_id.in_(message_ids)
    )
    counts: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in session.execute(query):
        counts[row.message_id][row.emoji].append(row.member_id)
    return {
        message_id: [
            ReactionView(name, emoji_char(name), len(who), member_id in who)
            for name, who in sorted(by_emoji.items(), key=lambda item: (-len(item[1]), item[0]))
        ]
        for message_id, by_emoji in counts.items()
    }


def _mentioned(session: Session, workspace_id: int, texts: list[str]) -> dict[str, str]:
    """Names of the members the texts mention, by Slack id."""
    ids = {found for text in texts for found in MENTION.findall(text)}
    if not ids:
        return {}
    query = select(Member.slack_id, Member.name, Member.real_name).where(
        Member.workspace_id == workspace_id, Member.slack_id.in_(ids)
    )
    return {row.slack_id: row.real_name or row.name for row in session.execute(query)}


def _view(
    message: Row[Any],
    names: dict[int, str],
    mentioned: dict[str, str],
    reactions: dict[int, list[ReactionView]],
) -> MessageView:
    author = names.get(message.author_id, "someone") if message.author_id else "a bot"
    text = MENTION.sub(lambda found: f"@{mentioned.get(found.group(1), 'someone')}", message.text)
    return MessageView(
        id=message.id,
        ts=message.ts,
        author=author,
        posted_at=message.posted_at,
        text=with_emoji(text),
        reactions=reactions.get(message.id, []),
    )


@dataclass(frozen=True)
class TrainingNote:
    """Whether a member's own data helps train a purpose now, and what is served to them."""

    purpose_key: str
    effective: bool
    reason: str
    release_id: int | None  # the served release; None: the public prior alone
    in_served_release: bool  # the served release was trained with this member's data


def training_note(
    store: Store,
    session: Session,
    member: Member,
    purposes: Mapping[str, Purpose],
    at: datetime,
) -> TrainingNote:
    """The note next to the suggestions: effective consent for emoji suggestions, and the source
    (the release the suggestions are served from, as serving remembers it)."""
    status = consent_status(session, member_id=member.id, purpose_key=EMOJI, purposes=purposes)
    served = served_artifact(
        store, session, workspace_id=member.workspace_id, purpose_key=EMOJI, at=at
    )
    if served is None:
        return TrainingNote(EMOJI, status.effective, status.reason, None, False)
    contains = in_snapshot(session, served.snapshot_id, member.id)
    return TrainingNote(EMOJI, status.effective, status.reason, served.release_id, contains)
