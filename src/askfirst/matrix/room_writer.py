"""Writing one sync's rooms and timeline events into the store, inside the caller's transaction.

A room is a channel and its joined users are members (by Matrix user id), written through the
same `WorkspaceWriter` as an export. Each message and reaction is remembered by its event id
(`MatrixEvent`), so an event delivered twice is written once. A member's direct room with the
bot is not chat data: its messages are consent commands, answered and not stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from askfirst.clock import Clock
from askfirst.journal import append
from askfirst.matrix.events import Edited, Posted, Reacted, Redacted, read_event
from askfirst.store.tables import (
    ChannelKind,
    MatrixEvent,
    Membership,
    Message,
    Reaction,
)
from askfirst.workspace.removal import remove_messages
from askfirst.workspace.slack_records import (
    SlackConversation,
    SlackFile,
    SlackMessage,
    SlackUser,
)
from askfirst.workspace.workspace_writer import WorkspaceWriter

# Answers a consent command: (session, member id, text) -> the reply to send.
CommandAnswerer = Callable[[Session, int, str], str]


@dataclass(frozen=True)
class Room:
    """A room as the bot sees it after a sync: its name, who is in it, whether it is public."""

    room_id: str
    name: str
    topic: str | None
    public: bool
    members: dict[str, str]  # joined user id -> display name
    named: bool = True  # it has a name or an alias of its own (a direct room has neither)


@dataclass(frozen=True)
class Reply:
    """A message the bot sends once the transaction that decided it has committed."""

    room_id: str
    text: str


@dataclass
class Written:
    """What one sync wrote: counts by kind, and the replies to send."""

    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ["messages", "edits", "reactions", "redactions", "commands", "left_out"], 0
        )
    )
    replies: list[Reply] = field(default_factory=list)

    def total(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "left_out")


class RoomWriter:
    """Writes rooms and their events for one workspace; one per transaction."""

    def __init__(
        self, session: Session, workspace_id: int, bot: str, answer: CommandAnswerer, clock: Clock
    ) -> None:
        self.session = session
        self.clock = clock
        self.workspace_id = workspace_id
        self.bot = bot
        self.answer = answer
        self.writer = WorkspaceWriter(session.connection(), workspace_id)
        self.written = Written()

    def write(self, room: Room, events: Sequence[dict[str, Any]]) -> None:
        """Write the room, its members and the changes its timeline `events` make, in order."""
        direct = is_direct_with_bot(room, self.bot)
        channel_id = self._channel(room, direct)
        changes = [change for change in map(read_event, events) if change is not None]
        self.written.counts["left_out"] += len(events) - len(changes)
        known = self._known(channel_id, [change.event_id for change in changes])
        new = []
        for change in changes:
            # A timeline and the history paged in before it may both hold an event: once.
            if change.event_id not in known:
                known.add(change.event_id)
                new.append(change)
        if direct:
            self._answer(channel_id, room, new)
            return
        self._post(channel_id, [change for change in new if isinstance(change, Posted)])
        for change in new:
            if isinstance(change, Edited):
                self._edit(channel_id, change)
            elif isinstance(change, Reacted):
                self._react(channel_id, change)
            elif isinstance(change, Redacted):
                self._redact(channel_id, change)

    def _channel(self, room: Room, direct: bool) -> int:
        users = [
            SlackUser(user_id, (name or user_id)[:200], None, user_id == self.bot, False)
            for user_id, name in room.members.items()
        ]
        self.writer.write_users(users)
        kind = (
            ChannelKind.DIRECT
            if direct
            else ChannelKind.PUBLIC
            if room.public
            else ChannelKind.PRIVATE
        )
        conversation = SlackConversation(
            room.room_id, room.name[:200], kind, tuple(room.members), room.topic, None, False, None
        )
        self.writer.write_conversations([conversation])
        channel_id = self.writer.channels[room.room_id]
        joined = [self.writer.members[user_id] for user_id in room.members]
        self.session.execute(
            delete(Membership).where(
                Membership.channel_id == channel_id, Membership.member_id.not_in(joined)
            )
        )
        return channel_id

    def _known(self, channel_id: int, event_ids: list[str]) -> set[str]:
        if not event_ids:
            return set()
        query = select(MatrixEvent.event_id).where(
            MatrixEvent.channel_id == channel_id, MatrixEvent.event_id.in_(event_ids)
        )
        return set(self.session.scalars(query))

    def _post(self, channel_id: int, posted: list[Posted]) -> None:
        if not posted:
            return
        stamps = self._free_stamps(channel_id, posted)
        thread_stamps = self._thread_stamps(channel_id, posted, stamps)
        messages = [
            SlackMessage(
                ts=stamps[p.event_id],
                author_id=p.sender,
                author_name=None,
                author_is_bot=p.sender == self.bot,
                thread_ts=thread_stamps.get(p.event_id),
                subtype=p.subtype,
                text=p.text,
                edited_ts=None,
                files=_files(p),
            )
            for p in posted
        ]
        self.writer.add_messages(channel_id, messages)
        self.writer.flush()
        self._open_threads(channel_id, set(thread_stamps.values()))
        ids = self._ids_of(channel_id, list(stamps.values()))
        for p in posted:
            message_id = ids.get(stamps[p.event_id])
            self._remember(channel_id, p.event_id, "message", message_id=message_id)
            self.written.counts["messages" if message_id else "left_out"] += 1

    def _free_stamps(self, channel_id: int, posted: list[Posted]) -> dict[str, str]:
        """A ts for each new message from its server time, unique in the channel: the
        millisecond's first free microsecond (Matrix times are in milliseconds)."""
        low, high = min(p.millis for p in posted), max(p.millis for p in posted)
        query = select(Message.ts).where(
            Message.channel_id == channel_id,
            Message.ts >= _stamp(low, 0),
            Message.ts <= _stamp(high, 999),
        )
        taken = set(self.session.scalars(query))
        stamps: dict[str, str] = {}
        for p in posted:
            ts = next(
                (s for n in range(1000) if (s := _stamp(p.millis, n)) not in taken),
                _stamp(p.millis, 999),
            )
            taken.add(ts)
            stamps[p.event_id] = ts
        return stamps

    def _thread_stamps(
        self, channel_id: int, posted: list[Posted], stamps: dict[str, str]
    ) -> dict[str, str]:
        """The thread_ts of each reply: its root's ts, whether the root is stored or new."""
        roots = {p.thread_root for p in posted if p.thread_root}
        stored = self._message_ids(channel_id, [root for root in roots if root not in stamps])
        stored_ts = self._stamps_of(stored.values())
        root_ts = {root: stored_ts[message_id] for root, message_id in stored.items()}
        root_ts |= {root: stamps[root] for root in roots if root in stamps}
        return {
            p.event_id: root_ts[p.thread_root]
            for p in posted
            if p.thread_root is not None and p.thread_root in root_ts
        }

    def _open_threads(self, channel_id: int, root_stamps: set[str]) -> None:
        """A thread's first message carries its own ts as thread_ts, as in Slack's exports."""
        if root_stamps:
            self.session.execute(
                update(Message)
                .where(
                    Message.channel_id == channel_id,
                    Message.ts.in_(root_stamps),
                    Message.thread_ts.is_(None),
                )
                .values(thread_ts=Message.ts)
            )

    def _edit(self, channel_id: int, edit: Edited) -> None:
        message = self._message(channel_id, edit.target)
        author = self.writer.members.get(edit.sender)
        # Matrix clients show an edit only by the original sender; askfirst applies only those.
        if message is None or author is None or message.author_id != author:
            self.written.counts["left_out"] += 1
            return
        edited_ts = _stamp(edit.millis, 0)
        if message.edited_ts is None or message.edited_ts < edited_ts:
            message.text = edit.text
            message.edited_ts = edited_ts
        self.written.counts["edits"] += 1

    def _react(self, channel_id: int, reaction: Reacted) -> None:
        message = self._message(channel_id, reaction.target)
        if message is None or self._erased_before(reaction.sender, reaction.millis):
            self.written.counts["left_out"] += 1
            return
        if reaction.sender not in self.writer.members:  # reacted, then left the room
            self.writer.write_users(
                [SlackUser(reaction.sender, reaction.sender, None, False, False)]
            )
        member_id = self.writer.members[reaction.sender]
        if self.session.get(Reaction, (message.id, member_id, reaction.emoji)) is None:
            self.session.add(
                Reaction(message_id=message.id, member_id=member_id, emoji=reaction.emoji)
            )
        self._remember(
            channel_id,
            reaction.event_id,
            "reaction",
            message_id=message.id,
            member_id=member_id,
            emoji=reaction.emoji,
        )
        self.written.counts["reactions"] += 1

    def _redact(self, channel_id: int, redaction: Redacted) -> None:
        target = self.session.get(MatrixEvent, (channel_id, redaction.target))
        if target is None or target.message_id is None:
            return  # never written, or gone already
        if target.kind == "reaction":
            gone_reaction = self.session.execute(
                delete(Reaction).where(
                    Reaction.message_id == target.message_id,
                    Reaction.member_id == target.member_id,
                    Reaction.emoji == target.emoji,
                )
            )
            removed = {"reactions": gone_reaction.rowcount}  # type: ignore[attr-defined]
            member_id = target.member_id
        else:
            message_id = target.message_id
            message = self.session.get(Message, message_id)
            member_id = None if message is None else message.author_id
            self.session.execute(
                update(MatrixEvent)
                .where(MatrixEvent.message_id == message_id)
                .values(message_id=None)
            )
            self.session.flush()
            if message is not None:  # its row leaves behind the session's back
                self.session.expunge(message)
            gone = remove_messages(self.session.connection(), [message_id])
            removed = {"messages": gone.messages, "reactions": gone.reactions, "files": gone.files}
        self.session.execute(
            update(MatrixEvent)
            .where(MatrixEvent.channel_id == channel_id, MatrixEvent.event_id == redaction.target)
            .values(message_id=None)
        )
        payload = {"channel_id": channel_id, "event_id": redaction.target, "removed": removed}
        append(
            self.session,
            "matrix.redacted",
            payload,
            at=self.clock.now(),
            workspace_id=self.workspace_id,
            member_id=member_id,
        )
        self.written.counts["redactions"] += 1

    def _answer(self, channel_id: int, room: Room, changes: list[Any]) -> None:
        for change in changes:
            if not isinstance(change, Posted) or change.sender == self.bot:
                continue
            member_id = self.writer.members.get(change.sender)
            if member_id is None:
                continue
            reply = self.answer(self.session, member_id, change.text)
            self._remember(channel_id, change.event_id, "command", member_id=member_id)
            self.written.replies.append(Reply(room.room_id, reply))
            self.written.counts["commands"] += 1

    def _remember(
        self,
        channel_id: int,
        event_id: str,
        kind: str,
        *,
        message_id: int | None = None,
        member_id: int | None = None,
        emoji: str | None = None,
    ) -> None:
        self.session.add(
            MatrixEvent(
                channel_id=channel_id,
                event_id=event_id,
                kind=kind,
                message_id=message_id,
                member_id=member_id,
                emoji=emoji,
            )
        )
        self.session.flush()

    def _message(self, channel_id: int, event_id: str) -> Message | None:
        message_id = self._message_ids(channel_id, [event_id]).get(event_id)
        return None if message_id is None else self.session.get(Message, message_id)

    def _message_ids(self, channel_id: int, event_ids: list[str]) -> dict[str, int]:
        if not event_ids:
            return {}
        query = select(MatrixEvent.event_id, MatrixEvent.message_id).where(
            MatrixEvent.channel_id == channel_id,
            MatrixEvent.event_id.in_(event_ids),
            MatrixEvent.kind == "message",
            MatrixEvent.message_id.is_not(None),
        )
        return {
            event_id: message_id
            for event_id, message_id in self.session.execute(query)
            if message_id is not None
        }

    def _stamps_of(self, message_ids: Iterable[int]) -> dict[int, str]:
        wanted = list(set(message_ids))
        if not wanted:
            return {}
        query = select(Message.id, Message.ts).where(Message.id.in_(wanted))
        return {message_id: ts for message_id, ts in self.session.execute(query)}

    def _ids_of(self, channel_id: int, stamps: list[str]) -> dict[str, int]:
        query = select(Message.ts, Message.id).where(
            Message.channel_id == channel_id, Message.ts.in_(stamps)
        )
        return {ts: message_id for ts, message_id in self.session.execute(query)}

    def _erased_before(self, sender: str, millis: int) -> bool:
        erased = self.writer.erased.get(sender)
        return erased is not None and millis * 1000 <= erased


def is_direct_with_bot(room: Room, bot: str) -> bool:
    """A room without a name of one member and the bot: where that member answers consent.

    A named room is a channel even while only one member and the bot are in it."""
    return len(room.members) == 2 and bot in room.members and not room.named


def _files(posted: Posted) -> tuple[SlackFile, ...]:
    if posted.file is None:
        return ()
    file = posted.file
    return (SlackFile(posted.event_id, file.name, None, file.mimetype, file.size),)


def _stamp(millis: int, micros: int) -> str:
    """A Slack-style ts for a Matrix server time in milliseconds, plus `micros` (0 to 999)."""
    return f"{millis // 1000}.{millis % 1000:03d}{micros:03d}"
