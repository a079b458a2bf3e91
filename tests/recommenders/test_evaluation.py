"""Held-out utility keeps the release's privacy: a member-by-member split, bounded examples,
and OpenDP noise at the sensitivity one member can cause."""

from __future__ import annotations

import numpy as np
import polars as pl

from askfirst.privacy.mechanisms import calibrate_sums, sums_measurement
from askfirst.recommenders.evaluation import (
    EMOJI_EXAMPLES_PER_MEMBER,
    HOLDOUT_SHARE,
    MIN_EXAMPLES_FOR_RATES,
    channel_utility,
    choose_holdout,
    emoji_utility,
    per_member,
    private_rates,
)


def test_each_member_is_held_out_with_the_same_chance_whoever_else_is_in() -> None:
    # A fixed-size draw would hold out nobody of three members and a tenth of thirty: then
    # whether one member is held out would depend on how many others there are.
    rng = np.random.default_rng(1)
    for size in (3, 30):
        draws = 4000
        held = sum(len(choose_holdout(range(size), rng)) for _ in range(draws))
        share = held / (draws * size)
        assert abs(share - HOLDOUT_SHARE) < 0.01, (size, share)


def test_a_prolific_member_gives_at_most_their_share_of_examples() -> None:
    rows = [(1, f"text {i}") for i in range(1000)] + [(2, "one"), (3, "a"), (3, "b")]
    frame = pl.DataFrame(rows, schema={"member_id": pl.Int64, "text": pl.String}, orient="row")
    chosen = per_member(frame, 4, np.random.default_rng(2))
    counts = dict(chosen.group_by("member_id").len().iter_rows())
    assert counts == {1: 4, 2: 1, 3: 2}


def test_the_noise_has_the_scale_that_the_sensitivity_and_epsilon_ask_for() -> None:
    # Three sums (two hit counts and the examples), each moved ≤ 4 by one member: l1 = 12.
    mechanism = calibrate_sums(1.0, 3 * EMOJI_EXAMPLES_PER_MEMBER)
    assert mechanism.epsilon <= 1.0
    assert abs(mechanism.scale - 12.0) < 0.05
    measured = sums_measurement(mechanism.scale)
    samples = np.array([measured([0])[0] for _ in range(4000)])
    # Laplace(b): standard deviation b·√2 ≈ 17; a 30% smaller scale is far outside this band.
    assert 0.9 * 12 * np.sqrt(2) < samples.std() < 1.1 * 12 * np.sqrt(2)


def test_figures_are_noisy_and_rates_wait_for_enough_examples() -> None:
    hits = {"learned": 300, "baseline": 100}
    seen = {
        private_rates(hits, 500, per_member=4, epsilon=1.0)["holdout_examples"] for _ in range(20)
    }
    assert len(seen) > 1  # exact figures would all be 500.0
    assert all(abs(value - 500) < 200 for value in seen)
    few = private_rates({"learned": 0, "baseline": 0}, 0, per_member=1, epsilon=8.0)
    assert few["holdout_examples"] < MIN_EXAMPLES_FOR_RATES
    assert "learned" not in few


def test_emoji_utility_counts_a_message_once_however_many_emoji_it_has() -> None:
    rows = [
        (i, member, "general", "ship it :rocket: :tada: :fire: :100: :eyes:")
        for i, member in enumerate(range(400))
    ]
    messages = pl.DataFrame(
        rows,
        schema={"message_id": pl.Int64, "member_id": pl.Int64, "channel_name": pl.String,
                "text": pl.String},
        orient="row",
    )  # fmt: skip
    utility = emoji_utility(None, messages, epsilon=8.0, rng=np.random.default_rng(3))
    # 400 messages, one example each (not 2,000 emoji); noise at ε = 8 is about ±1.5.
    assert abs(utility["holdout_examples"] - 400) < 30


def test_channel_utility_reads_only_the_release_and_held_out_members() -> None:
    # A fitted member's data reaches the figures only through the (DP) release: here a member
    # who is not held out, and the only one in six popular channels, must change nothing.
    popular = {f"n:big{i}": 1000.0 for i in range(6)}
    artifact = {"counts": {**popular, "n:general": 50.0, "n:team": 30.0, "p:general|team": 20.0}}
    held_out = [(member, channel) for member in range(40) for channel in ("general", "team")]
    fitted = [(99, f"big{i}") for i in range(6)]
    schema = {"member_id": pl.Int64, "channel_name": pl.String}
    figures = [
        channel_utility(
            artifact,
            pl.DataFrame(rows, schema=schema, orient="row"),
            frozenset(range(40)),
            epsilon=None,
            rng=np.random.default_rng(5),
        )
        for rows in (held_out, [*held_out, *fitted])
    ]
    assert figures[0] == figures[1]
    assert figures[0]["holdout_examples"] == 40
