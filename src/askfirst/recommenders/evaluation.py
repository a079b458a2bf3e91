"""Utility on held-out members, measured with member-level differential privacy.

Each member of a snapshot is held out of fitting independently with probability 1/10; held-out
members' data only measures the fitted artifact. Emoji: up to four of each held-out member's
messages with inline emoji, chosen at random; the text without its emoji goes to the suggester
and a hit is any of the message's emoji among the top 3. Channels: one of each held-out
member's channels is hidden and a hit is that channel among the top 5 recommendations.

The figures are differentially private, not exact: the sums (hits of the learned model, hits
of the baseline, examples) get Laplace noise from OpenDP, calibrated with its privacy map to
the release's own ε at the sensitivity one member can cause (their examples, in each sum).
A member is either fitted on or held out, never both, and the split is drawn member by member,
so whether one member is held out never depends on who else is in the snapshot: the model and
its utility together keep the release's (ε, δ) for every member (docs/privacy-model.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import polars as pl

from askfirst.privacy.mechanisms import calibrate_sums, noisy_sums
from askfirst.recommenders.channels import ChannelRecommender
from askfirst.recommenders.contributions import message_emoji
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.features import without_emoji

HOLDOUT_SHARE = 0.1
EMOJI_EXAMPLES_PER_MEMBER = 4
EMOJI_TOP = 3
CHANNEL_TOP = 5
# Rates are shown only when the noisy number of examples reaches this; below it they are noise.
MIN_EXAMPLES_FOR_RATES = 20


def choose_holdout(
    member_ids: Iterable[int], rng: np.random.Generator, *, share: float = HOLDOUT_SHARE
) -> frozenset[int]:
    """Each member held out of fitting independently with probability `share`."""
    members = np.unique(np.fromiter(member_ids, dtype=np.int64))
    return frozenset(int(m) for m in members[rng.random(len(members)) < share])


def emoji_utility(
    artifact: Mapping[str, Any] | None,
    messages: pl.DataFrame,
    *,
    epsilon: float | None,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Top-3 accuracy on held-out members' inline emoji, learned and prior-only, with DP."""
    examples = per_member(
        message_emoji(messages)
        .group_by("message_id", "member_id", "channel_name", "text", maintain_order=True)
        .agg(pl.col("emoji")),
        EMOJI_EXAMPLES_PER_MEMBER,
        rng,
    )
    suggesters = {
        "top3_accuracy_holdout": EmojiSuggester.from_artifact(artifact),
        "top3_accuracy_prior_only": EmojiSuggester.from_artifact(None),
    }
    hits = dict.fromkeys(suggesters, 0)
    for text, channel, emoji in examples.select("text", "channel_name", "emoji").iter_rows():
        draft = without_emoji(text)
        for label, suggester in suggesters.items():
            top = {s.name for s in suggester.suggest(draft, channel=channel, k=EMOJI_TOP)}
            hits[label] += not top.isdisjoint(emoji)
    return private_rates(
        hits, examples.height, per_member=EMOJI_EXAMPLES_PER_MEMBER, epsilon=epsilon
    )


def channel_utility(
    artifact: Mapping[str, Any],
    memberships: pl.DataFrame,
    holdout_members: frozenset[int],
    *,
    epsilon: float | None,
    rng: np.random.Generator,
) -> dict[str, float]:
    """Hit rate at 5 for one hidden channel per held-out member, learned and popularity-only."""
    held_out = (
        memberships.filter(pl.col("member_id").is_in(list(holdout_members)))
        .group_by("member_id")
        .agg(pl.col("channel_name").unique().sort())
        .filter(pl.col("channel_name").list.len() >= 2)
        .sort("member_id")
    )
    learned = ChannelRecommender.from_artifact(artifact)
    # Every channel the release knows: taken from the other members' memberships instead, the
    # figures would depend on fitted members' data other than through the DP release.
    joinable = set(learned.popularity) | set(learned.together)
    recommenders = {
        "hit_rate_at5_holdout": learned,
        "hit_rate_at5_popularity_only": ChannelRecommender(popularity=learned.popularity),
    }
    hits = dict.fromkeys(recommenders, 0)
    for channels in held_out["channel_name"].to_list():
        hidden = channels[int(rng.integers(len(channels)))]
        rest = set(channels) - {hidden}
        for label, recommender in recommenders.items():
            top = recommender.recommend(rest, joinable, k=CHANNEL_TOP)
            hits[label] += any(s.name == hidden for s in top)
    return private_rates(hits, held_out.height, per_member=1, epsilon=epsilon)


def per_member(frame: pl.DataFrame, limit: int, rng: np.random.Generator) -> pl.DataFrame:
    """At most `limit` rows of each member, chosen at random (from that member's rows alone)."""
    draw = pl.Series("draw", rng.random(frame.height))
    chosen = pl.col("draw").rank("ordinal").over("member_id") <= limit
    return frame.with_columns(draw).filter(chosen).drop("draw")


def private_rates(
    hits: Mapping[str, int], examples: int, *, per_member: int, epsilon: float | None
) -> dict[str, float]:
    """Noisy hit counts and example count, as rates; one member moves each sum ≤ per_member.

    Noise is added even when there are no examples at all: whether there are depends on who
    is held out, which depends on the members in the snapshot. `epsilon=None` gives the exact
    figures, for benchmarks only: never record them with a release.
    """
    if epsilon is None:
        exact = {label: count / examples for label, count in hits.items()} if examples else {}
        return {**exact, "holdout_examples": float(examples)}
    labels = sorted(hits)
    mechanism = calibrate_sums(float(epsilon), per_member * (len(labels) + 1))
    *noisy_hits, noisy_examples = noisy_sums(
        [*(hits[label] for label in labels), examples], mechanism
    )
    figures = {
        "holdout_examples": float(max(noisy_examples, 0)),
        "utility_noise_scale": mechanism.scale,
    }
    if noisy_examples >= MIN_EXAMPLES_FOR_RATES:
        for label, count in zip(labels, noisy_hits, strict=True):
            figures[label] = min(max(count / noisy_examples, 0.0), 1.0)
    return figures
