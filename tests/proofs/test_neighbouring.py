"""Neighbouring workspaces: removing one whole member moves the release by at most (ε, δ).

Two snapshots differ by one member X and everything X owns. Each trial runs the real fit path
— contributions, per-member bounding by the engine (a fresh seed every time), the OpenDP
threshold release — and records whether a key X contributed to was released. For the event
S = "released" and its complement, DP requires in both directions

    P[M(D) ∈ S] ≤ e^ε · P[M(D') ∈ S] + δ.

The check uses Clopper-Pearson intervals at confidence 1 - 1e-6: it fails only if even the
most favourable ends of the intervals break the inequality. With Laplace noise and one key
per member the inequality is tight (the measured ratio is e^ε), so the same check catches a
noise scale half the declared one; for Gaussian noise it catches a scale a tenth of it.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from askfirst.engines import LocalEngine
from askfirst.privacy.bounding import Bounds
from askfirst.privacy.mechanisms import Kind, Mechanism, calibrate, release
from askfirst.recommenders.contributions import ChannelSnapshotFrames, channel_contributions

pytestmark = pytest.mark.slow

EPSILON, DELTA = 1.0, 1e-6
TRIALS = 1500
CONFIDENCE_TAIL = 1e-6
ONE_KEY = Bounds(l0=1, linf=1, records_per_member=1)
X = 1_000_000  # the member who is there in D and not in D'


def memberships(
    count: int, *, with_x: bool, x_channels: tuple[str, ...] = ("general",)
) -> ChannelSnapshotFrames:
    """`count` members in #general (X too, in `x_channels`, when `with_x`)."""
    rows = [(member, "general") for member in range(count)]
    if with_x:
        rows += [(X, channel) for channel in x_channels]
    frame = pl.DataFrame(
        rows, schema={"member_id": pl.Int64, "channel_name": pl.Utf8}, orient="row"
    )
    return ChannelSnapshotFrames(memberships=frame)


def released_count(
    frames: ChannelSnapshotFrames,
    mechanism: Mechanism,
    bounds: Bounds,
    key: str,
    rng: np.random.Generator,
) -> int:
    """In how many of TRIALS independent fits `key` was released.

    The frames stay within the per-record caps, so their contributions are the same every
    time; the engine's L0 choice and the noise are drawn afresh in every trial.
    """
    contributions = channel_contributions(frames, bounds, int(rng.integers(2**62)))
    engine = LocalEngine()
    hits = 0
    for _ in range(TRIALS):
        counts = engine.bound_and_count(contributions, bounds, rng)
        hits += key in release(counts, mechanism)
    return hits


def interval(hits: int) -> tuple[float, float]:
    """Clopper-Pearson interval of a release probability, at confidence 1 - CONFIDENCE_TAIL."""
    half = CONFIDENCE_TAIL / 2
    low = 0.0 if hits == 0 else float(stats.beta.ppf(half, hits, TRIALS - hits + 1))
    high = 1.0 if hits == TRIALS else float(stats.beta.ppf(1 - half, hits + 1, TRIALS - hits))
    return low, high


def worst_violation(hits_d: int, hits_neighbour: int, epsilon: float, delta: float) -> float:
    """How far the data prove P[M(D)∈S] > e^ε P[M(D')∈S] + δ, over S, its complement, both
    directions; ≤ 0 means the data are consistent with (ε, δ)-DP."""
    worst = -math.inf
    for first, second in ((hits_d, hits_neighbour), (hits_neighbour, hits_d)):
        for event in (lambda h: h, lambda h: TRIALS - h):
            low, _ = interval(event(first))
            _, high = interval(event(second))
            worst = max(worst, low - (math.exp(epsilon) * high + delta))
    return worst


def neighbouring_hits(mechanism: Mechanism, seed: int) -> tuple[int, int]:
    """Release counts of #general with X in it (count = threshold) and without (one less)."""
    rng = np.random.default_rng(seed)
    others = mechanism.threshold - 1
    with_x = released_count(memberships(others, with_x=True), mechanism, ONE_KEY, "n:general", rng)
    without = released_count(
        memberships(others, with_x=False), mechanism, ONE_KEY, "n:general", rng
    )
    return with_x, without


def declared(kind: Kind) -> Mechanism:
    return calibrate(EPSILON, DELTA, l0=ONE_KEY.l0, kind=kind, linf=ONE_KEY.linf)


@functools.cache
def declared_hits(kind: Kind) -> tuple[int, int]:
    """Release counts with and without X under the declared mechanism (shared by two tests)."""
    return neighbouring_hits(declared(kind), seed=11)


@pytest.mark.parametrize("kind", ["laplace", "gaussian"])
def test_removing_one_member_moves_the_release_by_at_most_epsilon_delta(kind: Kind) -> None:
    mechanism = declared(kind)
    assert worst_violation(*declared_hits(kind), mechanism.epsilon, mechanism.delta) <= 0


def test_with_laplace_noise_the_bound_is_tight() -> None:
    # P[Z ≥ 0] / P[Z ≥ 1] = e^(1/scale) = e^ε for the discrete Laplace: nothing is wasted.
    with_x, without = declared_hits("laplace")
    assert with_x / without == pytest.approx(math.exp(declared("laplace").epsilon), rel=0.25)


@pytest.mark.parametrize(("kind", "factor"), [("laplace", 0.5), ("gaussian", 0.1)])
def test_the_same_check_catches_too_little_noise(kind: Kind, factor: float) -> None:
    mechanism = declared(kind)
    weak = dataclasses.replace(mechanism, scale=mechanism.scale * factor)
    with_x, without = neighbouring_hits(weak, seed=13)
    assert worst_violation(with_x, without, mechanism.epsilon, mechanism.delta) > 0


def test_a_key_only_the_removed_member_has_is_never_released() -> None:
    # X is in #general with many others and alone in #x-only; δ = 1e-6 makes a release of
    # n:x-only (or a pair with it) vanishingly rare: none in TRIALS fits.
    bounds = Bounds(l0=32, linf=1, records_per_member=32)
    mechanism = calibrate(EPSILON, DELTA, l0=bounds.l0, kind="gaussian", linf=bounds.linf)
    frames = memberships(500, with_x=True, x_channels=("general", "x-only"))
    rng = np.random.default_rng(14)
    assert released_count(frames, mechanism, bounds, "n:x-only", rng) == 0
