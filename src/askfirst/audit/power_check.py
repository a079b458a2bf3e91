"""Broken releases an audit's power checks attack, to show the audit catches them.

`fit_without_privacy` fits a snapshot exactly as the purpose's fitter does — the same
contributions, the same per-member bounding and counting by the engine — but skips the OpenDP
mechanism: every candidate key is released with its exact bounded count. `under_noised` adds a
fraction of the noise the release records, and `calibrated_for_one_key` calibrates the noise
for members moving one key while bounding allows many. They exist only so an audit can show it
would catch such a release; askfirst never serves one (the audit trains them in a scratch store
of synthetic members).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np
import polars as pl

from askfirst.consent.purposes import Purpose
from askfirst.engines import LocalEngine
from askfirst.privacy.bounding import Bounds, draw_seed
from askfirst.privacy.mechanisms import calibrate_domain_gaussian, gaussian_noise
from askfirst.privacy.noisy_counts import Ints, Noise
from askfirst.recommenders.contributions import (
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    channel_contributions,
    emoji_contributions,
)
from askfirst.recommenders.fitting import CHANNEL_BOUNDS, EMOJI_BOUNDS, fit_channels, fit_emoji
from askfirst.training.fitters import Fitter, trained_model
from askfirst.training.releases import TrainedModel
from askfirst.training.snapshot_frames import SnapshotFrames
from askfirst.training.snapshots import Snapshot

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


def under_noised(fraction: float) -> Fitter:
    """The purpose's fitter adding `fraction` of the noise its release records: a broken sampler.

    The recorded mechanism is the honest one; only the noise drawn is smaller.
    """

    def smaller(size: int, scale: float) -> Ints:
        return gaussian_noise(size, scale * fraction)

    return _broken_fitter(noise=smaller)


def calibrated_for_one_key() -> Fitter:
    """The purpose's fitter with a mechanism calibrated for members moving one key, while
    bounding lets each move as many as the purpose's bounds allow (25)."""
    return _broken_fitter(one_key=True)


def _broken_fitter(*, noise: Noise = gaussian_noise, one_key: bool = False) -> Fitter:
    def fit(
        frames: SnapshotFrames, snapshot: Snapshot, purpose: Purpose, rng: np.random.Generator
    ) -> TrainedModel:
        rho = purpose.plan.rho_release
        mechanism = calibrate_domain_gaussian(rho, 1, 1) if one_key else None
        held_out = snapshot.holdout_members
        if purpose.key == "emoji_suggestions":
            emoji = EmojiSnapshotFrames(messages=frames.messages, channels=frames.channels)
            result = fit_emoji(
                emoji, rho=rho, rng=rng, holdout_members=held_out, noise=noise, mechanism=mechanism
            )
        else:
            channels = ChannelSnapshotFrames(
                memberships=frames.memberships, channels=frames.channels
            )
            result = fit_channels(
                channels,
                rho=rho,
                rng=rng,
                holdout_members=held_out,
                noise=noise,
                mechanism=mechanism,
            )
        return trained_model(result, purpose)

    return fit
