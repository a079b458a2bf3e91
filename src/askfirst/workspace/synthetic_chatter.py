"""What is said in one conversation on one day of a synthetic workspace, as Slack messages.

A message draws words from one topic plus filler words; its inline emoji and its reactions are
mostly the emoji tied to its topical words, so reactions carry a signal a learner can find.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import Any, TypeVar

import numpy as np

from askfirst.store.tables.workspace import ChannelKind
from askfirst.workspace.synthetic_roster import Conversation, Roster, slack_id
from askfirst.workspace.synthetic_timeline import DayLayout
from askfirst.workspace.vocabulary import FILLER_WORDS, GENERIC_EMOJI, TOPICS, Topic

OFF_TOPIC = 0.15
JOIN_SHARE = 0.01
MENTION_SHARE = 0.04
INLINE_EMOJI_SHARE = 0.15
INLINE_EMOJI_FROM_WORDS = 0.85
REACTED_SHARE = {"opener": 0.3, "reply": 0.2, "bot": 0.15}
FIRST_REACTION_FROM_WORDS = 0.7
FIRST_REACTION_FROM_TOPIC = 0.85  # else a generic emoji
LATER_REACTION_FROM_WORDS = 0.45
OUTSIDE_REACTOR_SHARE = 0.1
EDIT_SHARE = 0.03
FILE_SHARE = 0.015
REPLY_BY_OPENER = 0.3
ENDINGS = ("", "", ".", "!", "?", "...")
TOPICAL_COUNTS = (1, 1, 2, 2, 2, 3, 3, 4)
REACTION_COUNTS = (1, 1, 1, 1, 2, 2, 3)  # distinct emoji on a reacted message
REACTOR_COUNTS = (1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 7)
FIRST_BLOCK, LAST_BLOCK = 1 << 8, 1 << 16  # blocks of draws grow, so small workspaces stay quick

Message = dict[str, Any]
T = TypeVar("T")


class Dice:
    """Single random draws for Python loops, taken from the seeded generator in blocks."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._block = FIRST_BLOCK
        self._next: Callable[[], float] = iter(()).__next__

    def random(self) -> float:
        try:
            return self._next()
        except StopIteration:
            self._next = iter(self._rng.random(self._block).tolist()).__next__
            self._block = min(2 * self._block, LAST_BLOCK)
            return self._next()

    def below(self, bound: int) -> int:
        return int(self.random() * bound)

    def pick(self, items: Sequence[T]) -> T:
        return items[int(self.random() * len(items))]

    def weighted(self, items: Sequence[T], totals: Sequence[float]) -> T:
        """An item drawn with the weights whose running totals are `totals`."""
        index = bisect_right(totals, self.random() * totals[-1])
        return items[min(index, len(items) - 1)]


class Stream:
    """Indices drawn with fixed weights, taken from the seeded generator in blocks."""

    def __init__(self, rng: np.random.Generator, weights: Sequence[float]) -> None:
        self._rng = rng
        self._p = np.asarray(weights) / sum(weights)
        self._block = FIRST_BLOCK
        self._next: Callable[[], int] = iter(()).__next__

    def __call__(self) -> int:
        try:
            return self._next()
        except StopIteration:
            drawn = self._rng.choice(len(self._p), size=self._block, p=self._p)
            self._next = iter(drawn.tolist()).__next__
            self._block = min(2 * self._block, LAST_BLOCK)
            return self._next()


@dataclass
class Tally:
    """What a generator wrote, counted as it goes."""

    messages: int = 0
    thread_replies: int = 0
    reactions: int = 0
    files: int = 0
    edits: int = 0
    bot_messages: int = 0
    joins: int = 0


class Chatter:
    """Writes the messages of a conversation's day; remembers who has joined which channel."""

    def __init__(self, rng: np.random.Generator, roster: Roster) -> None:
        self.dice = Dice(rng)
        self.roster = roster
        self.tally = Tally()
        self._word = [Stream(rng, _zipf_weights(topic)) for topic in TOPICS]
        self._filler = Stream(rng, [1 / (rank + 4) for rank in range(len(FILLER_WORDS))])
        self._everyone = list(range(len(roster.people)))
        self._everyone_totals = list(accumulate(person.activity for person in roster.people))
        self._person_of = {person.slack_id: index for index, person in enumerate(roster.people)}
        self._joiners: dict[str, list[int]] = {}

    def day(self, conversation: Conversation, day_start: int, layout: DayLayout) -> list[Message]:
        """The day's messages in posting order, threads linked the way Slack exports them."""
        messages: list[Message] = []
        topics: list[int | None] = []
        for offset, parent in zip(layout.times, layout.parents, strict=True):
            seconds = day_start + offset // 1_000_000
            ts = f"{seconds}.{offset % 1_000_000:06d}"
            if parent < 0:
                message, topic = self._opener(conversation, ts, seconds)
            else:
                author = self._replier(conversation, messages[parent])
                topic = topics[parent]
                if topic is None:
                    topic = self._topic_for(conversation, author)
                message = self._said(conversation, author, topic, ts, seconds, "reply")
                self.tally.thread_replies += 1
            messages.append(message)
            topics.append(topic)
        _link_threads(messages, layout.parents)
        self.tally.messages += len(messages)
        return messages

    def _opener(
        self, conversation: Conversation, ts: str, seconds: int
    ) -> tuple[Message, int | None]:
        draw = self.dice.random()
        if conversation.bot is not None and draw < conversation.bot_share:
            return self._bot_message(conversation, ts), None
        if draw > 1 - JOIN_SHARE and (joiner := self._next_joiner(conversation)) is not None:
            self.tally.joins += 1
            user = self.roster.people[joiner].slack_id
            text = f"<@{user}> has joined the channel"
            join = {"type": "message", "subtype": "channel_join", "user": user, "text": text}
            return {**join, "ts": ts}, None
        author = self._speaker(conversation)
        topic = self._topic_for(conversation, author)
        return self._said(conversation, author, topic, ts, seconds, "opener"), topic

    def _said(
        self, conversation: Conversation, author: int, topic: int, ts: str, seconds: int, role: str
    ) -> Message:
        """A member's message on `topic`, with its reactions, maybe an edit and a file."""
        dice = self.dice
        user = self.roster.people[author].slack_id
        topical, text = self._text(topic)
        if dice.random() < MENTION_SHARE:
            text = f"<@{dice.pick(conversation.member_ids)}> {text}"
        message: Message = {"type": "message", "user": user, "text": text, "ts": ts}
        if dice.random() < EDIT_SHARE:
            message["edited"] = {"user": user, "ts": f"{seconds + 5 + dice.below(900)}.000000"}
            self.tally.edits += 1
        if role == "opener" and dice.random() < FILE_SHARE:
            message["files"] = [self._file(TOPICS[topic], user, seconds, conversation.kind)]
        if dice.random() < REACTED_SHARE[role]:
            message["reactions"] = self._reactions(conversation, TOPICS[topic], topical)
        return message

    def _text(self, topic: int) -> tuple[list[str], str]:
        """Topical words scattered among filler words, sometimes with an inline emoji."""
        dice = self.dice
        vocabulary, draw_word = TOPICS[topic], self._word[topic]
        topical = [vocabulary.words[draw_word()] for _ in range(dice.pick(TOPICAL_COUNTS))]
        words = [FILLER_WORDS[self._filler()] for _ in range(2 + dice.below(7))]
        for word in topical:
            words.insert(dice.below(len(words) + 1), word)
        text = " ".join(words)
        text = text[0].upper() + text[1:] + dice.pick(ENDINGS)
        if dice.random() < INLINE_EMOJI_SHARE:
            if dice.random() < INLINE_EMOJI_FROM_WORDS:
                emoji = vocabulary.emoji_of_word[dice.pick(topical)]
            else:
                emoji = dice.pick(GENERIC_EMOJI)
            text = f"{text} :{emoji}:"
        return topical, text

    def _reactions(
        self, conversation: Conversation, topic: Topic, topical: list[str]
    ) -> list[Message]:
        """Reactions whose emoji follow the message's words; reactors mostly channel members."""
        dice = self.dice
        names = [self._reaction_emoji(topic, topical, first=True)]
        names += [
            self._reaction_emoji(topic, topical) for _ in range(dice.pick(REACTION_COUNTS) - 1)
        ]
        reactions = []
        for name in dict.fromkeys(names):
            reactors = [
                dice.weighted(conversation.members, conversation.activity_totals)
                for _ in range(dice.pick(REACTOR_COUNTS))
            ]
            if conversation.kind is ChannelKind.PUBLIC and dice.random() < OUTSIDE_REACTOR_SHARE:
                reactors.append(dice.weighted(self._everyone, self._everyone_totals))
            users = [self.roster.people[m].slack_id for m in dict.fromkeys(reactors)]
            reactions.append({"name": name, "users": users, "count": len(users)})
            self.tally.reactions += len(users)
        return reactions

    def _reaction_emoji(self, topic: Topic, topical: list[str], first: bool = False) -> str:
        draw = self.dice.random()
        if topical and draw < (FIRST_REACTION_FROM_WORDS if first else LATER_REACTION_FROM_WORDS):
            return topic.emoji_of_word[self.dice.pick(topical)]
        if first and draw < FIRST_REACTION_FROM_TOPIC:
            return self.dice.pick(topic.emoji)
        return self.dice.pick(GENERIC_EMOJI)

    def _file(self, topic: Topic, user: str, seconds: int, kind: ChannelKind) -> Message:
        name, mimetype = self.dice.pick(topic.files)
        self.tally.files += 1
        filetype = name.rsplit(".", 1)[-1]
        return {
            "id": slack_id("F", self.tally.files, self.roster.salt),
            "created": seconds,
            "timestamp": seconds,
            "name": name,
            "title": name.rsplit(".", 1)[0].replace("-", " "),
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": filetype.upper(),
            "user": user,
            "size": 1_000 + self.dice.below(4_000_000),
            "mode": "hosted",
            "is_external": False,
            "is_public": kind is ChannelKind.PUBLIC,
        }

    def _bot_message(self, conversation: Conversation, ts: str) -> Message:
        dice = self.dice
        assert conversation.bot is not None
        bot = self.roster.bots[conversation.bot]
        topic_index = conversation.topic
        if topic_index is None:
            topic_index = dice.below(len(TOPICS))
        topic = TOPICS[topic_index]
        pieces = dice.pick(bot.spec.templates).split("{word}")
        topical = [topic.words[self._word[topic_index]()] for _ in pieces[1:]]
        text = "".join(piece + word for piece, word in zip(pieces, [*topical, ""], strict=True))
        message: Message = {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": bot.bot_id,
            "username": bot.spec.name,
            "user": bot.slack_id,
            "text": text.replace("{number}", str(100 + dice.below(9_900))),
            "ts": ts,
        }
        if dice.random() < REACTED_SHARE["bot"]:
            message["reactions"] = self._reactions(conversation, topic, topical)
        self.tally.bot_messages += 1
        return message

    def _speaker(self, conversation: Conversation) -> int:
        return self.dice.weighted(conversation.members, conversation.activity_totals)

    def _replier(self, conversation: Conversation, parent: Message) -> int:
        if parent.get("subtype") is None and self.dice.random() < REPLY_BY_OPENER:
            return self._person_of[parent["user"]]
        return self._speaker(conversation)

    def _topic_for(self, conversation: Conversation, author: int) -> int:
        if conversation.topic is not None and self.dice.random() >= OFF_TOPIC:
            return conversation.topic
        return self.dice.pick(self.roster.people[author].home_topics)

    def _next_joiner(self, conversation: Conversation) -> int | None:
        """The next member to announce joining; creators and direct messages announce none."""
        if conversation.kind not in (ChannelKind.PUBLIC, ChannelKind.PRIVATE):
            return None
        if conversation.slack_id not in self._joiners:
            joiners = conversation.members[1:]
            order = [self.dice.random() for _ in joiners]
            self._joiners[conversation.slack_id] = [
                m for _, m in sorted(zip(order, joiners, strict=True))
            ]
        pending = self._joiners[conversation.slack_id]
        return pending.pop() if pending else None


def _zipf_weights(topic: Topic) -> list[float]:
    """Word weights: within each emoji's words, earlier words are more frequent."""
    groups = topic.emoji_words.values()
    return [1 / (1 + rank) ** 0.9 for group in groups for rank in range(len(group))]


def _link_threads(messages: list[Message], parents: list[int]) -> None:
    """Slack's thread fields: replies name their parent, the parent lists its replies."""
    replies: dict[int, list[int]] = {}
    for position, parent in enumerate(parents):
        if parent >= 0:
            replies.setdefault(parent, []).append(position)
    for parent, children in replies.items():
        head = messages[parent]
        reply_users = list(dict.fromkeys(messages[child]["user"] for child in children))
        head["thread_ts"] = head["ts"]
        head["reply_count"] = len(children)
        head["reply_users_count"] = len(reply_users)
        head["latest_reply"] = messages[children[-1]]["ts"]
        head["reply_users"] = reply_users
        head["replies"] = [{"user": messages[c]["user"], "ts": messages[c]["ts"]} for c in children]
        for child in children:
            messages[child]["thread_ts"] = head["ts"]
            messages[child]["parent_user_id"] = head["user"]
