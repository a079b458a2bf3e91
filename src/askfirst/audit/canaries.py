"""Canary members for the privacy audit: synthetic people, each holding one unique secret.

An audit plants m canaries in a scratch workspace. Each is included (consents) independently
with probability ½; the others exist with the same data but never consent, so the consent gate
must keep them out. Each canary's secret has a public context and a random secret part, as in
the Secret Sharer (Carlini et al. 2019):

- emoji suggestions: a phrase of made-up words (the context) posted with one emoji from a
  fixed pool (the secret), a few times;
- channel recommendations: a unique combination of three channels from a pool of audit
  channels; two are the context, the third the secret.

A background of ordinary, consenting members gives the release something to learn.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import combinations

import numpy as np
from sqlalchemy import insert
from sqlalchemy.orm import Session

from askfirst.recommenders.features import STOPWORDS, pair_key, word_key
from askfirst.recommenders.prior import POPULAR, emoji_prior
from askfirst.store.tables import (
    Channel,
    ChannelKind,
    Member,
    Membership,
    Message,
    Org,
    Workspace,
)

EMOJI_POOL_SIZE = 256
PHRASE_WORDS = 3
SECRET_COPIES = 3  # a canary posts its secret this often; L∞ bounding must count it once
COMBINATION_SIZE = 3
CANARY_CHANNEL = "audit-canaries"
BACKGROUND_CHANNELS = ("general", "random", "engineering", "design", "support", "social")
BACKGROUND_WORDS = (
    "deploy", "release", "shipped", "review", "merged", "thanks", "coffee", "lunch",
    "meeting", "standup", "design", "bug", "fix", "launch", "party", "welcome", "morning",
    "weekend", "great", "idea", "question", "docs", "test", "build",
)  # fmt: skip
BACKGROUND_EMOJI = ("tada", "rocket", "eyes", "white_check_mark")
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
EMOJI_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Canary:
    """One canary member: whether it consents, its secret, and the keys that would reveal it."""

    member_id: int
    included: bool
    context: tuple[str, ...]
    secret: str
    keys: tuple[str, ...]
    # strings that must never appear in an artifact (the made-up words; none for channels)
    markers: tuple[str, ...] = ()


@functools.cache
def emoji_pool() -> tuple[str, ...]:
    """A fixed pool of emoji names the prior knows, from which emoji secrets are drawn.

    Emoji the prior or the background favours are left out: a secret must rank like any other
    candidate under a release that knows nothing about it, or exposure measures popularity.
    """
    prior = emoji_prior()
    favoured = {prior.canonical.get(name, name) for name in (*POPULAR, *BACKGROUND_EMOJI)}
    names = sorted(
        name
        for name in prior.chars
        if prior.canonical.get(name) == name and EMOJI_NAME.fullmatch(name) and name not in favoured
    )
    chosen = np.random.default_rng(0).choice(len(names), size=EMOJI_POOL_SIZE, replace=False)
    return tuple(sorted(names[index] for index in chosen))


def channel_pool_size(canaries: int) -> int:
    """Audit channels enough that a pair's expected count stays near ½, far below a threshold."""
    return max(12, math.ceil(math.sqrt(6 * canaries)) + 1)


@dataclass
class ScratchWorkspace:
    """A workspace being filled with members, channels and messages at one instant."""

    session: Session
    workspace_id: int
    at: datetime
    members: int = 0
    messages: int = 0

    @classmethod
    def create(cls, session: Session, at: datetime) -> ScratchWorkspace:
        org = Org(name="audit", created_at=at)
        session.add(org)
        session.flush()
        workspace = Workspace(org_id=org.id, name="audit", slack_team_id=None, created_at=at)
        session.add(workspace)
        session.flush()
        return cls(session, workspace.id, at)

    def add_member(self, name: str) -> int:
        self.members += 1
        member = Member(
            workspace_id=self.workspace_id,
            slack_id=f"U{self.members:09d}",
            name=name,
            real_name=None,
            is_bot=False,
            is_deleted=False,
            is_placeholder=False,
        )
        self.session.add(member)
        self.session.flush()
        return member.id

    def add_channels(self, names: Sequence[str]) -> dict[str, int]:
        ids = {}
        for index, name in enumerate(names):
            channel = Channel(
                workspace_id=self.workspace_id,
                slack_id=f"C{name}-{index}",
                name=name,
                kind=ChannelKind.PUBLIC,
                topic=None,
                purpose=None,
                is_archived=False,
                created_at=self.at,
            )
            self.session.add(channel)
            self.session.flush()
            ids[name] = channel.id
        return ids

    def join(self, member_id: int, channel_ids: Sequence[int]) -> None:
        rows = [{"channel_id": c, "member_id": member_id} for c in channel_ids]
        self.session.execute(insert(Membership), rows)

    def post(self, member_id: int, channel_id: int, texts: Sequence[str]) -> None:
        rows = []
        for text in texts:
            self.messages += 1
            posted = self.at - timedelta(seconds=self.messages)
            rows.append(
                {
                    "channel_id": channel_id,
                    "author_id": member_id,
                    "ts": f"{posted.timestamp():.6f}",
                    "posted_at": posted,
                    "thread_ts": None,
                    "subtype": None,
                    "text": text,
                    "edited_ts": None,
                }
            )
        self.session.execute(insert(Message), rows)


def made_up_words(rng: np.random.Generator, count: int, taken: set[str]) -> tuple[str, ...]:
    """`count` new pronounceable nonsense words (three syllables), none of them in `taken`."""
    words: list[str] = []
    while len(words) < count:
        word = "".join(SYLLABLES[i] for i in rng.integers(len(SYLLABLES), size=3))
        if word not in taken and word not in STOPWORDS:
            taken.add(word)
            words.append(word)
    return tuple(words)


def plant_background(space: ScratchWorkspace, members: int, rng: np.random.Generator) -> list[int]:
    """Ordinary members chatting in a few channels with popular emoji; all of them consent."""
    channels = space.add_channels(BACKGROUND_CHANNELS)
    names = list(channels)
    planted = []
    for index in range(members):
        member_id = space.add_member(f"member-{index}")
        joined = rng.choice(len(names), size=int(rng.integers(1, 4)), replace=False)
        space.join(member_id, [channels[names[i]] for i in joined])
        texts = [
            " ".join(rng.choice(BACKGROUND_WORDS, size=4)) + f" :{rng.choice(BACKGROUND_EMOJI)}:"
            for _ in range(3)
        ]
        space.post(member_id, channels[names[joined[0]]], texts)
        planted.append(member_id)
    return planted


def plant_emoji_canaries(
    space: ScratchWorkspace, count: int, rng: np.random.Generator
) -> list[Canary]:
    """Canaries that each post a phrase of made-up words with one emoji from the pool."""
    channel_id = space.add_channels([CANARY_CHANNEL])[CANARY_CHANNEL]
    pool = emoji_pool()
    taken: set[str] = set(BACKGROUND_WORDS)
    canaries = []
    for index in range(count):
        member_id = space.add_member(f"canary-{index}")
        words = made_up_words(rng, PHRASE_WORDS, taken)
        secret = str(pool[int(rng.integers(len(pool)))])
        space.join(member_id, [channel_id])
        space.post(member_id, channel_id, [f"{' '.join(words)} :{secret}:"] * SECRET_COPIES)
        keys = tuple(word_key(word, secret) for word in words)
        canaries.append(Canary(member_id, bool(rng.random() < 0.5), words, secret, keys, words))
    return canaries


def plant_channel_canaries(
    space: ScratchWorkspace, count: int, rng: np.random.Generator
) -> list[Canary]:
    """Canaries that each join a unique combination of three audit channels."""
    pool = [f"audit-{index:03d}" for index in range(channel_pool_size(count))]
    channels = space.add_channels(pool)
    canaries = []
    for index, combination in enumerate(_unique_combinations(pool, count, rng)):
        member_id = space.add_member(f"canary-{index}")
        space.join(member_id, [channels[name] for name in combination])
        *context, secret = combination
        keys = tuple(pair_key(a, b) for a, b in combinations(combination, 2))
        canaries.append(Canary(member_id, bool(rng.random() < 0.5), tuple(context), secret, keys))
    return canaries


def _unique_combinations(
    pool: Sequence[str], count: int, rng: np.random.Generator
) -> Iterator[tuple[str, ...]]:
    seen: set[frozenset[str]] = set()
    while len(seen) < count:
        chosen = rng.choice(len(pool), size=COMBINATION_SIZE, replace=False)
        combination = tuple(pool[i] for i in chosen)
        if frozenset(combination) not in seen:
            seen.add(frozenset(combination))
            yield combination
