"""Fitting the two recommenders from a snapshot's frames: bound, count, release, measure.

The training pipeline hands over plain data frames of consenting members' data and gets back
a `FitResult`: a JSON artifact holding only DP outputs (released keys with noisy counts, the
mechanism and the bounds), the mechanism with its (ε, δ), and utility on held-out members.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import polars as pl

from askfirst.privacy.bounding import Bounds, draw_seed
from askfirst.privacy.mechanisms import Kind, Mechanism, calibrate, release
from askfirst.recommenders.contributions import (
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    channel_contributions,
    emoji_contributions,
)
from askfirst.recommenders.evaluation import channel_utility, emoji_utility
from askfirst.training.engines import Engine, LocalEngine

__all__ = [
    "CHANNEL_BOUNDS",
    "EMOJI_BOUNDS",
    "ChannelSnapshotFrames",
    "EmojiSnapshotFrames",
    "FitResult",
    "fit_channels",
    "fit_emoji",
]

ARTIFACT_FORMAT = 1
EMOJI_PURPOSE = "emoji_suggestions"
CHANNEL_PURPOSE = "channel_recommendations"
EMOJI_BOUNDS = Bounds(l0=32, records_per_member=200, words_per_message=8, emoji_per_message=3)
CHANNEL_BOUNDS = Bounds(l0=32, records_per_member=32)


@dataclass
class FitResult:
    """A fitted release: the artifact (DP outputs only) and what to record about it.

    `candidate_keys` and `members_contributing` are exact, not DP: benchmarks read them; the
    release registry never records them (`utility` is DP, see `evaluation`).
    """

    artifact: dict[str, Any]
    mechanism: Mechanism
    keys_released: int
    candidate_keys: int
    members_contributing: int
    utility: dict[str, float]


def fit_emoji(
    frames: EmojiSnapshotFrames,
    *,
    epsilon: float,
    delta: float,
    rng: np.random.Generator,
    engine: Engine | None = None,
    bounds: Bounds | None = None,
    holdout_members: frozenset[int] = frozenset(),
    kind: Kind = "gaussian",
) -> FitResult:
    """The emoji suggester's release from the messages of consenting members."""
    bounds = bounds or EMOJI_BOUNDS
    mechanism = calibrate(epsilon, delta, bounds.l0, kind, bounds.linf)
    training = EmojiSnapshotFrames(messages=_without(frames.messages, holdout_members))
    contributions = emoji_contributions(training, bounds, draw_seed(rng))
    result = _fit(EMOJI_PURPOSE, contributions, mechanism, bounds, engine, rng)
    held_out = frames.messages.filter(pl.col("member_id").is_in(list(holdout_members)))
    result.utility = emoji_utility(result.artifact, held_out, epsilon=epsilon, rng=rng)
    return result


def fit_channels(
    frames: ChannelSnapshotFrames,
    *,
    epsilon: float,
    delta: float,
    rng: np.random.Generator,
    engine: Engine | None = None,
    bounds: Bounds | None = None,
    holdout_members: frozenset[int] = frozenset(),
    kind: Kind = "gaussian",
) -> FitResult:
    """The channel recommender's release from channel memberships of consenting members."""
    bounds = bounds or CHANNEL_BOUNDS
    mechanism = calibrate(epsilon, delta, bounds.l0, kind, bounds.linf)
    training = ChannelSnapshotFrames(_without(frames.memberships, holdout_members))
    contributions = channel_contributions(training, bounds, draw_seed(rng))
    result = _fit(CHANNEL_PURPOSE, contributions, mechanism, bounds, engine, rng)
    result.utility = channel_utility(
        result.artifact, frames.memberships, holdout_members, epsilon=epsilon, rng=rng
    )
    return result


def _fit(
    purpose: str,
    contributions: pl.DataFrame,
    mechanism: Mechanism,
    bounds: Bounds,
    engine: Engine | None,
    rng: np.random.Generator,
) -> FitResult:
    counts = (engine or LocalEngine()).bound_and_count(contributions, bounds, rng)
    released = release(counts, mechanism)
    artifact = {
        "format": ARTIFACT_FORMAT,
        "purpose": purpose,
        "mechanism": mechanism.as_dict(),
        "bounds": asdict(bounds),
        "counts": dict(sorted(released.items())),
    }
    return FitResult(
        artifact=artifact,
        mechanism=mechanism,
        keys_released=len(released),
        candidate_keys=len(counts),
        members_contributing=contributions["member_id"].n_unique(),
        utility={},
    )


def _without(frame: pl.DataFrame, members: frozenset[int]) -> pl.DataFrame:
    return frame.filter(~pl.col("member_id").is_in(list(members))) if members else frame
