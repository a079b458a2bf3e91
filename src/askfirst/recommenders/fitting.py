"""Fitting the two recommenders from a snapshot's frames: bound, count, release, measure.

The training pipeline hands over plain data frames of consenting members' data and gets back
a `FitResult`: noisy counts of every key of the purpose's public domain (`domains`), with
Gaussian noise at the ρ the plan gives one release; a JSON artifact of the keys that stand out
of the noise (DP outputs only: keys with noisy counts, the mechanism, the bounds); and utility
on held-out members.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import numpy as np
import polars as pl

from askfirst.engines import Engine, LocalEngine, ReadingEngine
from askfirst.engines.partitions import BoundedRead, PartitionedRows
from askfirst.privacy.bounding import Bounds, draw_seed
from askfirst.privacy.mechanisms import (
    DomainGaussian,
    calibrate_domain_gaussian,
    gaussian_noise,
)
from askfirst.privacy.noisy_counts import Noise, NoisyCounts
from askfirst.recommenders.contributions import (
    ChannelSnapshotFrames,
    EmojiSnapshotFrames,
    channel_contributions,
    emoji_contributions,
    membership_contributions,
    message_contributions,
)
from askfirst.recommenders.domains import KeyDomain, channel_domain, emoji_domain
from askfirst.recommenders.evaluation import channel_utility, emoji_utility

__all__ = [
    "CHANNEL_BOUNDS",
    "EMOJI_BOUNDS",
    "ChannelSnapshotFrames",
    "EmojiSnapshotFrames",
    "FitResult",
    "artifact_of",
    "fit_channels",
    "fit_emoji",
]

ARTIFACT_FORMAT = 2
EMOJI_PURPOSE = "emoji_suggestions"
CHANNEL_PURPOSE = "channel_recommendations"
# l0 is a perfect square, so √l0 (the L2 sensitivity OpenDP's integer metric takes) is exact.
EMOJI_BOUNDS = Bounds(l0=25, records_per_member=200, words_per_message=8, emoji_per_message=3)
CHANNEL_BOUNDS = Bounds(l0=25, records_per_member=32)
# A key is written into the artifact when its noisy count passes the point that pure noise
# passes on a fiftieth of a key of its family (post-processing of the noisy counts: free).
NOISE_KEYS_PER_FAMILY = 0.02


@dataclass
class FitResult:
    """A fitted release: the artifact (DP outputs only), its noisy counts, what to record.

    `state` holds every key's noisy count and each counted member's bounded contribution, so a
    withdrawal can be taken out exactly (`NoisyCounts.without`); it is kept beside the release,
    never served. `candidate_keys` (keys anyone contributed) and `members_contributing` are
    exact, not DP: benchmarks read them; the release registry never records them.
    """

    artifact: dict[str, Any]
    mechanism: DomainGaussian
    keys_released: int
    candidate_keys: int
    members_contributing: int
    utility: dict[str, float]
    domain: KeyDomain
    state: NoisyCounts


def fit_emoji(
    frames: EmojiSnapshotFrames,
    *,
    rho: float,
    rng: np.random.Generator,
    engine: Engine | None = None,
    bounds: Bounds | None = None,
    holdout_members: frozenset[int] = frozenset(),
    domain: KeyDomain | None = None,
    noise: Noise = gaussian_noise,
    mechanism: DomainGaussian | None = None,
) -> FitResult:
    """The emoji suggester's release from the messages of consenting members, at ρ-zCDP.

    `noise` and `mechanism` (default: calibrated to ρ at the bounds) are given otherwise only
    by the audit's power checks, to show that the audit catches a release they break.
    """
    bounds = bounds or EMOJI_BOUNDS
    mechanism = mechanism or calibrate_domain_gaussian(rho, bounds.l0, bounds.linf)
    domain = domain or emoji_domain(frames.channels)
    training = EmojiSnapshotFrames(_without(frames.messages, holdout_members), frames.channels)
    seed = draw_seed(rng)
    if frames.source is None:
        contributions = emoji_contributions(training, bounds, seed)
        bounded = _bounded(contributions, bounds, domain, engine, rng)
    else:
        contribute = functools.partial(message_contributions, bounds=bounds, seed=seed)
        bounded = _bounded_read(frames.source, contribute, bounds, domain, engine, rng)
    result = _fit(EMOJI_PURPOSE, bounded, mechanism, bounds, domain, noise)
    held_out = frames.messages.filter(pl.col("member_id").is_in(list(holdout_members)))
    # Held-out members are charged the mechanism's ρ (at most the plan's): the utility spends it.
    epsilon = utility_epsilon(mechanism.rho)
    result.utility = emoji_utility(result.artifact, held_out, epsilon=epsilon, rng=rng)
    return result


def fit_channels(
    frames: ChannelSnapshotFrames,
    *,
    rho: float,
    rng: np.random.Generator,
    engine: Engine | None = None,
    bounds: Bounds | None = None,
    holdout_members: frozenset[int] = frozenset(),
    domain: KeyDomain | None = None,
    noise: Noise = gaussian_noise,
    mechanism: DomainGaussian | None = None,
) -> FitResult:
    """The channel recommender's release from channel memberships (see `fit_emoji`)."""
    bounds = bounds or CHANNEL_BOUNDS
    mechanism = mechanism or calibrate_domain_gaussian(rho, bounds.l0, bounds.linf)
    domain = domain or channel_domain(frames.channels)
    training = ChannelSnapshotFrames(_without(frames.memberships, holdout_members), frames.channels)
    seed = draw_seed(rng)
    if frames.source is None:
        contributions = channel_contributions(training, bounds, seed)
        bounded = _bounded(contributions, bounds, domain, engine, rng)
    else:
        contribute = functools.partial(membership_contributions, bounds=bounds, seed=seed)
        bounded = _bounded_read(frames.source, contribute, bounds, domain, engine, rng)
    result = _fit(CHANNEL_PURPOSE, bounded, mechanism, bounds, domain, noise)
    result.utility = channel_utility(
        result.artifact,
        frames.memberships,
        holdout_members,
        epsilon=utility_epsilon(mechanism.rho),  # the ρ held-out members are charged
        rng=rng,
    )
    return result


def utility_epsilon(rho: float) -> float:
    """The pure ε of the held-out utility's Laplace noise that costs ρ: ε-DP is ε²/2-zCDP."""
    return math.sqrt(2.0 * rho)


def artifact_of(
    purpose: str,
    domain: KeyDomain,
    state: NoisyCounts,
    mechanism: DomainGaussian,
    bounds: Bounds,
) -> dict[str, Any]:
    """What a release serves: the keys whose noisy counts pass their family's cut.

    Only the noisy counts are read, so this is post-processing at no privacy cost. A family is
    the keys of one kind ("w", "e", "c", "n", "p"); its cut is the count that noise alone passes
    on about `NOISE_KEYS_PER_FAMILY` of its keys.
    """
    values = state.values
    kinds = np.array([key.partition(":")[0] for key in domain.keys])
    counts: dict[str, float] = {}
    cuts: dict[str, float] = {}
    for kind in sorted(set(kinds.tolist())):
        positions = np.flatnonzero(kinds == kind)
        cut = mechanism.scale * noise_quantile(len(positions))
        cuts[kind] = cut
        for position in positions[values[positions] > cut].tolist():
            counts[domain.keys[position]] = float(values[position])
    return {
        "format": ARTIFACT_FORMAT,
        "purpose": purpose,
        "mechanism": {**mechanism.as_dict(), "threshold": max(cuts.values(), default=0.0)},
        "cuts": cuts,
        "domain_keys": len(domain),
        "bounds": asdict(bounds),
        "counts": dict(sorted(counts.items())),
    }


def noise_quantile(keys: int) -> float:
    """How many standard deviations pure noise passes on `NOISE_KEYS_PER_FAMILY` of `keys`."""
    if keys <= NOISE_KEYS_PER_FAMILY:
        return 0.0
    return NormalDist().inv_cdf(1.0 - NOISE_KEYS_PER_FAMILY / keys)


def _bounded(
    contributions: pl.DataFrame,
    bounds: Bounds,
    domain: KeyDomain,
    engine: Engine | None,
    rng: np.random.Generator,
) -> BoundedRead:
    # Keys outside the public domain are dropped before bounding, so that no member spends a
    # bounded slot on a key that can never be released; that depends on each record alone.
    in_domain = contributions.join(domain.frame(), on="key", how="semi")
    bounded = (engine or LocalEngine()).bound(in_domain, bounds, rng)
    return BoundedRead(bounded, contributions["member_id"].n_unique())


def _bounded_read(
    rows: PartitionedRows,
    contribute: Callable[[pl.DataFrame], pl.DataFrame],
    bounds: Bounds,
    domain: KeyDomain,
    engine: Engine | None,
    rng: np.random.Generator,
) -> BoundedRead:
    """As `_bounded`, on rows the engine reads: each of its tasks runs `contribute`."""
    if not isinstance(engine, ReadingEngine):
        name = engine.name if engine is not None else "local"
        raise ValueError(
            f"the snapshot's rows are left in the store for an engine that reads them, but "
            f"the {name} engine does not; read the snapshot without partitions for it"
        )
    return engine.bound_read(rows, contribute, bounds, rng, keys=domain.frame().select("key"))


def _fit(
    purpose: str,
    bounded: BoundedRead,
    mechanism: DomainGaussian,
    bounds: Bounds,
    domain: KeyDomain,
    noise: Noise,
) -> FitResult:
    rows = bounded.rows.join(domain.frame(), on="key")
    state = NoisyCounts.release(
        len(domain),
        rows["member_id"].to_numpy().astype(np.int64),
        rows["key_index"].to_numpy().astype(np.int64),
        rows["weight"].to_numpy().astype(np.int64),
        scale=mechanism.scale,
        noise=noise,
    )
    artifact = artifact_of(purpose, domain, state, mechanism, bounds)
    return FitResult(
        artifact=artifact,
        mechanism=mechanism,
        keys_released=len(artifact["counts"]),
        candidate_keys=rows["key"].n_unique(),
        members_contributing=bounded.members,
        utility={},
        domain=domain,
        state=state,
    )


def _without(frame: pl.DataFrame, members: frozenset[int]) -> pl.DataFrame:
    return frame.filter(~pl.col("member_id").is_in(list(members))) if members else frame
