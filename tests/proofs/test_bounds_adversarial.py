"""Contribution bounds hold against adversarial members, in every role.

An adversary writes a million messages with every word and every emoji, reacts to everything
with everything, and joins every channel. Removing them must change at most `l0` key counts,
each by at most `linf` — the sensitivity the mechanism is calibrated to. Both fits use the
same seeds, so the only difference is the adversary (the bounding's hash priorities depend on
a member's own rows, never on anyone else's).
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest
from sqlalchemy import insert, select

from askfirst.audit.canaries import ScratchWorkspace, emoji_pool
from askfirst.clock import ManualClock
from askfirst.consent import BUILT_IN_PURPOSES, AnswerMethod, grant, withdraw
from askfirst.engines import LocalEngine
from askfirst.privacy.bounding import Bounds
from askfirst.recommenders.contributions import (
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    channel_contributions,
    emoji_contributions,
)
from askfirst.recommenders.fitting import CHANNEL_BOUNDS, EMOJI_BOUNDS
from askfirst.store import Store
from askfirst.store.tables import Message, Reaction
from askfirst.training.snapshot_frames import SnapshotFrames
from askfirst.training.snapshots import read_snapshot

pytestmark = pytest.mark.slow

ADVERSARY = 999_999
MILLION = 1_000_000
VOCABULARY = [f"word{index}" for index in range(3000)]
EMOJI = list(emoji_pool()[:60])
CHANNELS = [f"channel-{index}" for index in range(2000)]


def bounded_counts(contributions: pl.DataFrame, bounds: Bounds, seed: int) -> dict[str, int]:
    return LocalEngine().bound_and_count(contributions, bounds, np.random.default_rng(seed))


def assert_within_sensitivity(
    with_member: dict[str, int], without: dict[str, int], bounds: Bounds
) -> None:
    changed = {
        key: with_member.get(key, 0) - without.get(key, 0)
        for key in with_member.keys() | without.keys()
        if with_member.get(key, 0) != without.get(key, 0)
    }
    assert len(changed) <= bounds.l0, f"{len(changed)} keys changed; l0 is {bounds.l0}"
    assert all(0 <= change <= bounds.linf for change in changed.values()), changed


def ordinary_messages(rng: np.random.Generator, members: int = 300) -> pl.DataFrame:
    rows = [
        (
            index * 100 + n,
            index,
            CHANNELS[int(rng.integers(20))],
            " ".join(rng.choice(VOCABULARY[:200], size=5)) + f" :{rng.choice(EMOJI[:10])}:",
        )
        for index in range(members)
        for n in range(20)
    ]
    schema = {
        "message_id": pl.Int64,
        "member_id": pl.Int64,
        "channel_name": pl.Utf8,
        "text": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def adversary_messages(rng: np.random.Generator) -> pl.DataFrame:
    """A million messages, each 12 random words of 3,000 and 4 of 60 emoji (100k distinct)."""
    distinct = 100_000
    words = np.array(VOCABULARY)[rng.integers(len(VOCABULARY), size=(distinct, 12))]
    codes = np.array([f":{name}:" for name in EMOJI])[rng.integers(len(EMOJI), size=(distinct, 4))]
    sentences = pl.DataFrame({"words": words, "codes": codes}).select(
        text=pl.concat_list(pl.col("words").arr.to_list(), pl.col("codes").arr.to_list()).list.join(
            " "
        )
    )["text"]
    return pl.DataFrame(
        {
            "message_id": np.arange(10**8, 10**8 + MILLION, dtype=np.int64),
            "member_id": np.full(MILLION, ADVERSARY, dtype=np.int64),
            "channel_name": np.array(CHANNELS)[rng.integers(len(CHANNELS), size=MILLION)],
            "text": sentences.gather(rng.integers(distinct, size=MILLION)),
        }
    )


def adversary_reactions(messages: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The adversary reacts to every message, its own and everyone's, with a random emoji."""
    return messages.select(
        "message_id",
        member_id=pl.lit(ADVERSARY, dtype=pl.Int64),
        channel_name="channel_name",
        emoji=pl.Series(np.array(EMOJI)[rng.integers(len(EMOJI), size=messages.height)]),
    )


def without_adversary(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(pl.col("member_id") != ADVERSARY)


def test_a_million_messages_and_reactions_move_at_most_l0_emoji_keys() -> None:
    seed = 1
    rng = np.random.default_rng(seed)
    ordinary = ordinary_messages(rng)
    messages = pl.concat([ordinary, adversary_messages(rng)])
    reactions = adversary_reactions(messages, rng)
    # The reactions are part of the adversary's data, but feed no release.
    assert reactions.height > 0
    with_adversary = EmojiSnapshotFrames(messages=messages)
    without = EmojiSnapshotFrames(messages=without_adversary(messages))
    counts = [
        bounded_counts(emoji_contributions(frames, EMOJI_BOUNDS, seed), EMOJI_BOUNDS, seed)
        for frames in (with_adversary, without)
    ]
    assert_within_sensitivity(*counts, EMOJI_BOUNDS)
    assert counts[0] != counts[1], "the adversary should still count, within its bounds"


@pytest.mark.parametrize("seed", [1, 2])
def test_joining_every_channel_moves_at_most_l0_channel_keys(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ordinary = [(m, CHANNELS[int(c)]) for m in range(500) for c in rng.integers(30, size=4)]
    rows = ordinary + [(ADVERSARY, channel) for channel in CHANNELS]
    memberships = pl.DataFrame(
        rows, schema={"member_id": pl.Int64, "channel_name": pl.Utf8}, orient="row"
    ).unique()
    counts = [
        bounded_counts(
            channel_contributions(ChannelSnapshotFrames(frame), CHANNEL_BOUNDS, seed),
            CHANNEL_BOUNDS,
            seed,
        )
        for frame in (memberships, without_adversary(memberships))
    ]
    assert_within_sensitivity(*counts, CHANNEL_BOUNDS)


class Workspace:
    """A small workspace in the real store, with a member X in every role."""

    def __init__(self, store: Store, clock: ManualClock) -> None:
        self.store, self.clock = store, clock
        with store.transaction() as session:
            space = ScratchWorkspace.create(session, clock.now())
            self.workspace_id = space.workspace_id
            channels = space.add_channels(["general", "random", "launches"])
            self.x = space.add_member("x")
            self.others = [space.add_member(f"m{i}") for i in range(40)]
            space.join(self.x, list(channels.values()))
            for index, member in enumerate(self.others):
                space.join(member, [channels["general"], channels["random"]])
                space.post(member, channels["general"], [f"standup notes {index} :memo:"])
            space.post(self.x, channels["launches"], ["we shipped the launch :rocket:"] * 50)
            space.post(self.x, channels["general"], [f"idea {i} :bulb:" for i in range(50)])
        self.channels = channels

    def messages_by(self, members: list[int]) -> list[int]:
        with self.store.reading() as session:
            query = select(Message.id).where(Message.author_id.in_(members))
            return list(session.scalars(query))

    def react(self, reactor: int, message_ids: list[int], emoji: str) -> None:
        with self.store.transaction() as session:
            rows = [{"message_id": m, "member_id": reactor, "emoji": emoji} for m in message_ids]
            session.execute(insert(Reaction), rows)

    def answer(self, members: list[int], *, yes: bool) -> None:
        with self.store.transaction() as session:
            for member_id in members:
                (grant if yes else withdraw)(
                    session,
                    member_id=member_id,
                    purpose_key="emoji_suggestions",
                    method=AnswerMethod.API,
                    clock=self.clock,
                    purposes=BUILT_IN_PURPOSES,
                )

    def counts(self, seed: int) -> dict[str, int]:
        self.clock.advance(timedelta(minutes=1))
        with self.store.reading() as session:
            _, frames = read_snapshot(
                session,
                workspace_id=self.workspace_id,
                purpose_key="emoji_suggestions",
                at=self.clock.now(),
                purposes=BUILT_IN_PURPOSES,
            )
        return bounded_counts(
            emoji_contributions(emoji_frames(frames), EMOJI_BOUNDS, seed), EMOJI_BOUNDS, seed
        )


def emoji_frames(frames: SnapshotFrames) -> EmojiSnapshotFrames:
    return EmojiSnapshotFrames(messages=frames.messages)


def test_a_member_in_every_role_leaves_within_the_bounds(store: Store) -> None:
    chat = Workspace(store, ManualClock())
    chat.react(chat.x, chat.messages_by([*chat.others, chat.x]), "tada")  # X reacts to everything
    chat.answer([chat.x, *chat.others], yes=True)
    with_x = chat.counts(seed=5)
    chat.answer([chat.x], yes=False)
    assert_within_sensitivity(with_x, chat.counts(seed=5), EMOJI_BOUNDS)


def test_reactions_others_gave_a_member_leave_within_the_bounds(store: Store) -> None:
    chat = Workspace(store, ManualClock())
    for reactor in chat.others:  # everyone reacts to X's launch, and to nothing else
        chat.react(reactor, chat.messages_by([chat.x])[:1], "rocket")
    chat.answer([chat.x, *chat.others], yes=True)
    with_x = chat.counts(seed=5)
    chat.answer([chat.x], yes=False)
    assert_within_sensitivity(with_x, chat.counts(seed=5), EMOJI_BOUNDS)
