"""The release an audit's power check attacks: the same bounding, with noise and selection off.

`fit_without_privacy` fits a snapshot exactly as the purpose's fitter does — the same
contributions, the same per-member bounding and counting by the engine — but skips the OpenDP
mechanism: every candidate key is released with its exact bounded count. It exists only so an
audit can show it would catch such a release; askfirst never serves one (the audit trains it
in a scratch store of synthetic members).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import polars as pl

from askfirst.consent.purposes import Purpose
from askfirst.engines import LocalEngine
from askfirst.privacy.bounding import Bounds, draw_seed
from askfirst.recommenders.contributions import (
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    channel_contributions,
    emoji_contributions,
)
from askfirst.recommenders.fitting import CHANNEL_BOUNDS, EMOJI_BOUNDS
from askfirst.training.releases import TrainedModel
from askfirst.training.snapshots import Snapshot, SnapshotFrames

# What a release with no privacy at all claims: no finite ε holds for exact counts.
NO_PRIVACY_EPSILON = 1e9


def fit_without_privacy(
    frames: SnapshotFrames, snapshot: Snapshot, purpose: Purpose, rng: np.random.Generator
) -> TrainedModel:
    """Exact bounded counts of every key of the training members: no noise, no threshold."""
    contributions, bounds = _contributions(frames, snapshot, purpose, draw_seed(rng))
    counts = LocalEngine().bound_and_count(contributions, bounds, rng)
    mechanism: dict[str, Any] = {
        "kind": "none",
        "l0": bounds.l0,
        "linf": bounds.linf,
        "scale": 0.0,
        "threshold": 1,
        "epsilon": NO_PRIVACY_EPSILON,
        "delta": 1.0,
    }
    artifact = {
        "format": 1,
        "purpose": purpose.key,
        "mechanism": mechanism,
        "bounds": asdict(bounds),
        "counts": {key: float(count) for key, count in sorted(counts.items())},
    }
    return TrainedModel(
        artifact=artifact,
        epsilon=NO_PRIVACY_EPSILON,
        delta=1.0,
        mechanism={**mechanism, "bounds": asdict(bounds)},
        utility={"keys_released": len(counts)},
    )


def _contributions(
    frames: SnapshotFrames, snapshot: Snapshot, purpose: Purpose, seed: int
) -> tuple[pl.DataFrame, Bounds]:
    training = snapshot.training_members

    def only_training(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.filter(pl.col("member_id").is_in(list(training)))

    if purpose.key == "emoji_suggestions":
        emoji = EmojiSnapshotFrames(messages=only_training(frames.messages))
        return emoji_contributions(emoji, EMOJI_BOUNDS, seed), EMOJI_BOUNDS
    channels = ChannelSnapshotFrames(memberships=only_training(frames.memberships))
    return channel_contributions(channels, CHANNEL_BOUNDS, seed), CHANNEL_BOUNDS
