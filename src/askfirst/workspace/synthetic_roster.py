"""Who is in a synthetic workspace and where they talk: members, bots, conversations.

Members have one or two home topics and join mostly channels of those topics (community
structure); their activity follows a Zipf law, so a few members write most messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

from askfirst.store.tables.workspace import ChannelKind
from askfirst.workspace.vocabulary import BOTS, FIRST_NAMES, LAST_NAMES, TOPICS, BotSpec

ZIPF_EXPONENT = 1.05
SECOND_HOME_TOPIC = 0.4
JOIN_HOME_CHANNEL = 0.6
JOIN_OTHER_CHANNEL = 0.03
JOIN_RANDOM = 0.6
DELETED_SHARE = 0.02
ARCHIVED_SHARE = 0.04
TIMEZONES = (
    ("Europe/Berlin", "Central European Time", 3600),
    ("America/New_York", "Eastern Standard Time", -18000),
    ("Europe/London", "Greenwich Mean Time", 0),
    ("Asia/Tokyo", "Japan Standard Time", 32400),
    ("America/Los_Angeles", "Pacific Standard Time", -28800),
)


def slack_id(prefix: str, index: int, salt: int) -> str:
    """A Slack-looking id, unique per (prefix, index): odd multipliers are bijections mod 2**32."""
    return f"{prefix}{(index * 0x9E3779B1 + salt + ord(prefix[0]) * 0x85EBCA6B) & 0xFFFFFFFF:08X}"


@dataclass(frozen=True)
class Person:
    """A human member of the synthetic workspace."""

    slack_id: str
    name: str
    real_name: str
    home_topics: tuple[int, ...]
    activity: float
    deleted: bool
    timezone: int  # index into TIMEZONES


@dataclass(frozen=True)
class BotAccount:
    slack_id: str
    bot_id: str
    spec: BotSpec


@dataclass
class Conversation:
    """A channel, private channel, direct message or group direct message, with its members."""

    slack_id: str
    name: str
    kind: ChannelKind
    topic: int | None  # None: each member talks about their own home topics
    members: list[int]  # indices into the people
    created: int
    is_general: bool = False
    is_archived: bool = False
    bot: int | None = None  # index into the bots
    bot_share: float = 0.0
    weight: float = 1.0  # share of the workspace's messages, before normalising
    member_ids: list[str] = field(default_factory=list)
    activity_totals: list[float] = field(default_factory=list)

    @property
    def folder(self) -> str:
        """The export folder: direct messages are filed by id, everything else by name."""
        return self.slack_id if self.kind is ChannelKind.DIRECT else self.name


@dataclass(frozen=True)
class Roster:
    people: list[Person]
    bots: list[BotAccount]
    conversations: list[Conversation]
    team_id: str
    salt: int  # makes ids differ between seeds


def plan_roster(rng: np.random.Generator, members: int, created: int) -> Roster:
    """People, bots and conversations for a workspace of `members` humans."""
    salt = int(rng.integers(2**32))
    people = _plan_people(rng, members, salt)
    bots = [
        BotAccount(slack_id("U", members + index, salt), slack_id("B", index, salt), spec)
        for index, spec in enumerate(BOTS)
    ]
    conversations = [
        *_topic_channels(rng, people),
        *_general_channels(rng, people),
        *_private_channels(rng, people),
        *_direct_messages(rng, people),
        *_group_messages(rng, people),
    ]
    for index, conversation in enumerate(conversations):
        prefix = {ChannelKind.DIRECT: "D", ChannelKind.MULTI_DIRECT: "G"}.get(
            conversation.kind, "C"
        )
        conversation.slack_id = slack_id(prefix, index, salt)
        conversation.created = created - int(rng.integers(1, 400)) * 86_400
        conversation.members.sort()
        conversation.member_ids = [people[m].slack_id for m in conversation.members]
        conversation.activity_totals = list(
            accumulate(people[m].activity for m in conversation.members)
        )
    _assign_bots(conversations)
    return Roster(people, bots, conversations, team_id=slack_id("T", 0, salt), salt=salt)


def _plan_people(rng: np.random.Generator, count: int, salt: int) -> list[Person]:
    activity = (rng.permutation(count) + 1.0) ** -ZIPF_EXPONENT
    popularity = np.array([topic.popularity for topic in TOPICS])
    first_topic = rng.choice(len(TOPICS), size=count, p=popularity / popularity.sum())
    other_topic = rng.choice(len(TOPICS), size=count, p=popularity / popularity.sum())
    two_homes = rng.random(count) < SECOND_HOME_TOPIC
    first = rng.integers(len(FIRST_NAMES), size=count)
    last = rng.integers(len(LAST_NAMES), size=count)
    deleted = rng.random(count) < DELETED_SHARE
    timezone = rng.integers(len(TIMEZONES), size=count)
    taken: dict[str, int] = {}
    people = []
    for index in range(count):
        given, family = FIRST_NAMES[first[index]], LAST_NAMES[last[index]]
        handle = f"{given}.{family}"
        taken[handle] = taken.get(handle, 0) + 1
        if taken[handle] > 1:
            handle = f"{handle}{taken[handle]}"
        homes: tuple[int, ...] = (int(first_topic[index]),)
        if two_homes[index] and other_topic[index] != first_topic[index]:
            homes += (int(other_topic[index]),)
        people.append(
            Person(
                slack_id=slack_id("U", index, salt),
                name=handle,
                real_name=f"{given.title()} {family.title()}",
                home_topics=homes,
                activity=float(activity[index]),
                deleted=bool(deleted[index]),
                timezone=int(timezone[index]),
            )
        )
    return people


def channels_per_topic(members: int) -> int:
    return max(1, min(len(TOPICS[0].channels), members // 25))


def _topic_channels(rng: np.random.Generator, people: list[Person]) -> list[Conversation]:
    per_topic = channels_per_topic(len(people))
    topic_of = np.repeat(np.arange(len(TOPICS)), per_topic)
    home = np.zeros((len(people), len(TOPICS)), dtype=bool)
    for index, person in enumerate(people):
        home[index, list(person.home_topics)] = True
    chance = np.where(home[:, topic_of], JOIN_HOME_CHANNEL, JOIN_OTHER_CHANNEL)
    joined = rng.random(chance.shape) < chance
    # Everyone is in at least one channel of each home topic.
    anchor = rng.integers(per_topic, size=(len(people), len(TOPICS)))
    for person, topic in zip(*np.nonzero(home), strict=True):
        joined[person, topic * per_topic + anchor[person, topic]] = True
    popularity = (rng.permutation(len(topic_of)) + 1.0) ** -0.8
    archived = rng.random(len(topic_of)) < ARCHIVED_SHARE
    channels = []
    for column, topic in enumerate(topic_of.tolist()):
        members = _at_least(rng, np.flatnonzero(joined[:, column]).tolist(), len(people), 2)
        channels.append(
            Conversation(
                slack_id="",
                name=TOPICS[topic].channels[column % per_topic],
                kind=ChannelKind.PUBLIC,
                topic=topic,
                members=members,
                created=0,
                is_archived=bool(archived[column]),
                weight=float(popularity[column]) * len(members) ** 0.5,
            )
        )
    return _normalised(channels, 0.72)


def _general_channels(rng: np.random.Generator, people: list[Person]) -> list[Conversation]:
    everyone = list(range(len(people)))
    chatty = np.flatnonzero(rng.random(len(people)) < JOIN_RANDOM).tolist()
    return [
        Conversation("", "general", ChannelKind.PUBLIC, None, everyone, 0, True, weight=0.08),
        Conversation(
            "",
            "random",
            ChannelKind.PUBLIC,
            None,
            _at_least(rng, chatty, len(people), 2),
            0,
            weight=0.05,
        ),
    ]


def _private_channels(rng: np.random.Generator, people: list[Person]) -> list[Conversation]:
    count = max(1, min(len(TOPICS), len(people) // 20))
    popularity = np.array([topic.popularity for topic in TOPICS])
    topics = rng.choice(len(TOPICS), size=count, replace=False, p=popularity / popularity.sum())
    channels = []
    for topic in topics.tolist():
        insiders = [i for i, person in enumerate(people) if topic in person.home_topics]
        size = int(rng.integers(3, 9))
        chosen = rng.permutation(insiders)[:size].tolist() if insiders else []
        members = _at_least(rng, chosen, len(people), min(3, len(people)))
        channels.append(
            Conversation("", TOPICS[topic].private_channel, ChannelKind.PRIVATE, topic, members, 0)
        )
    return _normalised(channels, 0.06)


def _direct_messages(rng: np.random.Generator, people: list[Person]) -> list[Conversation]:
    pairs = _distinct_groups(rng, people, max(1, min(200, len(people) // 4)), 2)
    conversations = [Conversation("", "", ChannelKind.DIRECT, None, pair, 0) for pair in pairs]
    for conversation in conversations:
        conversation.weight = float(rng.gamma(1.0))
    return _normalised(conversations, 0.07)


def _group_messages(rng: np.random.Generator, people: list[Person]) -> list[Conversation]:
    if len(people) < 3:
        return []
    count = max(1, min(30, len(people) // 20))
    groups = _distinct_groups(rng, people, count, 3 + int(rng.random() < 0.5))
    conversations = []
    for group in groups:
        handles = "--".join(people[m].name for m in sorted(group))
        conversations.append(
            Conversation("", f"mpdm-{handles}-1", ChannelKind.MULTI_DIRECT, None, group, 0)
        )
    return _normalised(conversations, 0.02)


def _distinct_groups(
    rng: np.random.Generator, people: list[Person], count: int, size: int
) -> list[list[int]]:
    """Up to `count` distinct groups of `size` members, active members more likely."""
    size = min(size, len(people))
    activity = np.array([person.activity for person in people])
    seen: set[tuple[int, ...]] = set()
    groups = []
    for _ in range(count * 3):
        group = tuple(
            sorted(
                rng.choice(len(people), size, replace=False, p=activity / activity.sum()).tolist()
            )
        )
        if group not in seen:
            seen.add(group)
            groups.append(list(group))
        if len(groups) == count:
            break
    return groups


def _at_least(
    rng: np.random.Generator, members: list[int], population: int, floor: int
) -> list[int]:
    """`members`, topped up with random people so a conversation has at least `floor` members."""
    chosen = set(members)
    for candidate in rng.permutation(population).tolist():
        if len(chosen) >= floor:
            break
        chosen.add(candidate)
    return sorted(chosen)


def _normalised(conversations: list[Conversation], share: float) -> list[Conversation]:
    total = sum(conversation.weight for conversation in conversations)
    for conversation in conversations:
        conversation.weight = share * conversation.weight / total
    return conversations


def _assign_bots(conversations: list[Conversation]) -> None:
    """Each bot posts in the channels of its topic (or #general), taking turns between bots."""
    for conversation in conversations:
        if conversation.kind is not ChannelKind.PUBLIC:
            continue
        topic_key = TOPICS[conversation.topic].key if conversation.topic is not None else None
        candidates = [
            index
            for index, spec in enumerate(BOTS)
            if (spec.topic == topic_key and topic_key is not None)
            or (spec.topic is None and conversation.is_general)
        ]
        if candidates:
            conversation.bot = candidates[len(conversation.name) % len(candidates)]
            conversation.bot_share = 0.08 if conversation.topic is not None else 0.04
