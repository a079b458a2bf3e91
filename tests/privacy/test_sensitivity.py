"""Removing every record one member owns moves the bounded counts by at most the sensitivity.

Random small workspaces go through the whole path the release takes (key building with its
per-record caps, then the engine's L0/L∞ bounding) twice with the same seed: once whole, once
without one member's messages, reactions and memberships. At most l0 keys may differ, each by
at most linf, which is exactly what the mechanism is calibrated for.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from askfirst.engines import LocalEngine
from askfirst.privacy.bounding import Bounds
from askfirst.recommenders.contributions import (
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    channel_contributions,
    emoji_contributions,
)

WORDS = ["deploy", "coffee", "lunch", "review", "bug", "fix", "ship", "release", "standup"]
EMOJI = [":rocket:", ":coffee:", ":+1:", ":thumbsup:", ":tada:", ":partyparrot:", ":eyes:"]
CHANNELS = ["general", "random", "dev", "ops", "food", "design"]
MEMBERS = st.integers(0, 7)

message_rows = st.lists(
    st.tuples(
        MEMBERS,
        st.sampled_from(CHANNELS),
        st.lists(st.sampled_from(WORDS + EMOJI), max_size=12).map(" ".join),
    ),
    max_size=40,
)
membership_rows = st.lists(st.tuples(MEMBERS, st.sampled_from(CHANNELS)), max_size=40)
bounds_strategy = st.builds(
    Bounds,
    l0=st.integers(1, 6),
    linf=st.integers(1, 2),
    records_per_member=st.integers(1, 4),
    words_per_message=st.integers(1, 3),
    emoji_per_message=st.integers(1, 2),
)


def emoji_frames(messages: list[tuple[int, str, str]]) -> EmojiSnapshotFrames:
    return EmojiSnapshotFrames(
        messages=pl.DataFrame(
            [(i, *row) for i, row in enumerate(messages)],
            schema={
                "message_id": pl.Int64,
                "member_id": pl.Int64,
                "channel_name": pl.Utf8,
                "text": pl.Utf8,
            },
            orient="row",
        ),
    )


def bounded_counts(contributions: pl.DataFrame, bounds: Bounds, seed: int) -> dict[str, int]:
    return LocalEngine().bound_and_count(contributions, bounds, np.random.default_rng(seed))


def assert_within_sensitivity(
    whole: dict[str, int], without: dict[str, int], bounds: Bounds
) -> None:
    changes = {key: whole.get(key, 0) - without.get(key, 0) for key in whole.keys() | without}
    changed = {key: change for key, change in changes.items() if change}
    assert len(changed) <= bounds.l0, changed
    assert all(0 < change <= bounds.linf for change in changed.values()), changed


@settings(max_examples=80, deadline=None)
@given(
    messages=message_rows,
    bounds=bounds_strategy,
    removed=MEMBERS,
    seed=st.integers(0, 2**32),
)
def test_removing_one_member_changes_emoji_counts_by_at_most_the_sensitivity(
    messages: list[tuple[int, str, str]],
    bounds: Bounds,
    removed: int,
    seed: int,
) -> None:
    whole = emoji_frames(messages)
    without = EmojiSnapshotFrames(
        messages=whole.messages.filter(pl.col("member_id") != removed),
    )
    assert_within_sensitivity(
        bounded_counts(emoji_contributions(whole, bounds, seed), bounds, seed),
        bounded_counts(emoji_contributions(without, bounds, seed), bounds, seed),
        bounds,
    )


@settings(max_examples=80, deadline=None)
@given(
    memberships=membership_rows,
    bounds=bounds_strategy,
    removed=MEMBERS,
    seed=st.integers(0, 2**32),
)
def test_removing_one_member_changes_channel_counts_by_at_most_the_sensitivity(
    memberships: list[tuple[int, str]], bounds: Bounds, removed: int, seed: int
) -> None:
    frame = pl.DataFrame(
        memberships, schema={"member_id": pl.Int64, "channel_name": pl.Utf8}, orient="row"
    )
    assert_within_sensitivity(
        bounded_counts(
            channel_contributions(ChannelSnapshotFrames(frame), bounds, seed), bounds, seed
        ),
        bounded_counts(
            channel_contributions(
                ChannelSnapshotFrames(frame.filter(pl.col("member_id") != removed)), bounds, seed
            ),
            bounds,
            seed,
        ),
        bounds,
    )


def test_an_adversarial_member_with_many_messages_is_bounded_before_key_building() -> None:
    bounds = Bounds(l0=32, records_per_member=200, words_per_message=8, emoji_per_message=3)
    spam = " ".join(f"w{i}x" for i in range(100)) + " :rocket: :tada: :eyes: :fire: :coffee:"
    frames = emoji_frames([(1, "general", spam)] * 20_000)
    contributions = emoji_contributions(frames, bounds, seed=4)
    # At most 200 messages * (8 words * 3 emoji + 3 emoji + 3 channel keys) before L0.
    assert contributions.height <= 200 * (8 * 3 + 3 + 3)
    counts = bounded_counts(contributions, bounds, seed=4)
    assert sum(counts.values()) <= bounds.l0
