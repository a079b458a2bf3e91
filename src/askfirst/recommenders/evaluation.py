"""Utility on held-out members: how much a release learned, next to the prior alone.

Held-out members are left out of fitting; their data only measures the fitted artifact.
Emoji: for each of their messages with inline emoji, the text without the emoji goes to the
suggester and a hit is the emoji among the top 3. Channels: one of each member's channels is
hidden and a hit is that channel among the top 5 recommendations from the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import polars as pl

from askfirst.recommenders.channels import ChannelRecommender
from askfirst.recommenders.contributions import message_emoji
from askfirst.recommenders.emoji import EmojiSuggester
from askfirst.recommenders.features import without_emoji

MAX_EXAMPLES = 2000
EMOJI_TOP = 3
CHANNEL_TOP = 5


def choose_holdout(
    member_ids: Iterable[int], rng: np.random.Generator, *, share: float = 0.1
) -> frozenset[int]:
    """A random `share` of the members, to hold out of fitting and measure utility on."""
    members = np.unique(np.fromiter(member_ids, dtype=np.int64))
    count = round(share * len(members))
    return frozenset(int(m) for m in rng.choice(members, size=count, replace=False))


def emoji_utility(
    artifact: Mapping[str, Any], messages: pl.DataFrame, rng: np.random.Generator
) -> dict[str, float]:
    """Top-3 accuracy on held-out members' inline emoji, learned and prior-only."""
    examples = _sample(
        message_emoji(messages)
        .group_by("message_id", "channel_name", "text")
        .agg(pl.col("emoji"))
        .sort("message_id"),
        rng,
    )
    suggesters = {
        "top3_accuracy_holdout": EmojiSuggester.from_artifact(artifact),
        "top3_accuracy_prior_only": EmojiSuggester.from_artifact(None),
    }
    hits = dict.fromkeys(suggesters, 0)
    total = 0
    for text, channel, emoji in examples.select("text", "channel_name", "emoji").iter_rows():
        draft = without_emoji(text)
        total += len(emoji)
        for label, suggester in suggesters.items():
            top = {s.name for s in suggester.suggest(draft, channel=channel, k=EMOJI_TOP)}
            hits[label] += len(top.intersection(emoji))
    return _rates(hits, total)


def channel_utility(
    artifact: Mapping[str, Any],
    memberships: pl.DataFrame,
    holdout_members: frozenset[int],
    rng: np.random.Generator,
) -> dict[str, float]:
    """Hit rate at 5 for one hidden channel per held-out member, learned and popularity-only."""
    joinable = set(memberships["channel_name"].unique().to_list())
    held_out = _sample(
        memberships.filter(pl.col("member_id").is_in(list(holdout_members)))
        .group_by("member_id")
        .agg(pl.col("channel_name").unique().sort())
        .filter(pl.col("channel_name").list.len() >= 2)
        .sort("member_id"),
        rng,
    )
    learned = ChannelRecommender.from_artifact(artifact)
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
    return _rates(hits, held_out.height)


def _sample(frame: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    if frame.height <= MAX_EXAMPLES:
        return frame
    return frame[np.sort(rng.choice(frame.height, size=MAX_EXAMPLES, replace=False))]


def _rates(hits: Mapping[str, int], total: int) -> dict[str, float]:
    rates = {label: count / total for label, count in hits.items()} if total else {}
    return {**rates, "holdout_examples": float(total)}
