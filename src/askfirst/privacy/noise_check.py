"""A statistical test of a release's noise, and of its bounds, against what the release records.

A release's state (`NoisyCounts`) holds every key's noisy count and each counted member's
bounded contribution, so its noise is known exactly: values − Σ contributions, one draw per key
of the domain. Under the recorded mechanism those draws are discrete Gaussian of the recorded
scale σ, so n·mean(Z²)/σ² is about χ² with n degrees of freedom; a release with less noise than
recorded gives a ratio mean(Z²)/σ² well below 1. The test flags a ratio below
1 − z·√(2/n), with z the normal quantile of the false-alarm rate `ALPHA` (one-sided: more noise
than recorded costs utility, not privacy).

The same state shows the bounds applied: the most keys one member moved and the most one key
moved by one member. If they exceed the mechanism's l0 and linf (a mechanism calibrated for one
key while bounding allows many), the release's true ρ is OpenDP's map at the bounds applied.

Unlike the canary attack, this needs no luck: counts of 1 hidden under any cut do not hide the
noise. Its power is measured, not assumed: the test is run on `POWER_TRIALS` fresh noise
vectors of the same length at the recorded scale (the false-alarm rate) and at fractions of it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from askfirst.privacy.accountant import epsilon_for_rho
from askfirst.privacy.mechanisms import counts_rho, l2_sensitivity
from askfirst.privacy.noisy_counts import Ints, NoisyCounts

ALPHA = 0.001  # the false-alarm rate the test is set to
POWER_TRIALS = 200
# Fractions of the recorded noise scale at which the test's power is measured and reported.
POWER_FRACTIONS = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class NoiseCheck:
    """What the release's own state says about its noise and bounds, and whether it is flagged."""

    keys: int  # draws of noise the test saw: one per key of the domain
    recorded_scale: float
    measured_scale: float  # √mean(Z²)
    variance_ratio: float  # mean(Z²) / σ², about 1 for the recorded noise
    critical_ratio: float  # below this the noise is flagged as smaller than recorded
    too_little_noise: bool
    recorded_l0: int
    recorded_linf: int
    applied_l0: int  # the most keys any one member moved
    applied_linf: int  # the most any one member moved one key
    bounds_exceeded: bool
    effective_epsilon: float  # from the measured scale and the bounds applied, at δ
    # fraction of trials flagged: at each fraction of the recorded scale, and at 1 (false alarms)
    power: dict[str, float]
    false_alarm_rate: float

    @property
    def flagged(self) -> bool:
        return self.too_little_noise or self.bounds_exceeded

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "flagged": self.flagged}


def check_noise(
    state: NoisyCounts,
    *,
    scale: float,
    l0: int,
    linf: int,
    delta: float,
    rng: np.random.Generator,
) -> NoiseCheck:
    """Test the state's noise against the recorded `scale`, its bounds against l0 and linf."""
    noise = released_noise(state)
    keys = len(noise)
    ratio = float(np.mean(noise.astype(np.float64) ** 2)) / scale**2 if keys else 1.0
    critical = critical_ratio(keys)
    applied_l0, applied_linf = applied_bounds(state)
    measured = scale * math.sqrt(ratio)
    sensitivity = l2_sensitivity(max(applied_l0, l0), max(applied_linf, linf))
    rho = counts_rho(max(measured, 1e-3), sensitivity)
    return NoiseCheck(
        keys=keys,
        recorded_scale=scale,
        measured_scale=measured,
        variance_ratio=ratio,
        critical_ratio=critical,
        too_little_noise=ratio < critical,
        recorded_l0=l0,
        recorded_linf=linf,
        applied_l0=applied_l0,
        applied_linf=applied_linf,
        bounds_exceeded=applied_l0 > l0 or applied_linf > linf,
        effective_epsilon=epsilon_for_rho(rho, delta),
        power={f"{f:g}": flagged_fraction(keys, f, rng) for f in POWER_FRACTIONS},
        false_alarm_rate=flagged_fraction(keys, 1.0, rng),
    )


def released_noise(state: NoisyCounts) -> Ints:
    """The noise the release added to each key: its noisy count less its members' contributions."""
    exact = np.bincount(state.indices, weights=state.weights, minlength=len(state.values))
    return state.values - exact.astype(np.int64)


def applied_bounds(state: NoisyCounts) -> tuple[int, int]:
    """(most keys one member moved, most one member moved one key), from the contributions."""
    if len(state.indices) == 0:
        return 0, 0
    lengths = np.diff(state.offsets)
    owners = np.repeat(np.arange(len(lengths)), lengths)
    pairs = owners * len(state.values) + state.indices
    unique_pairs, inverse = np.unique(pairs, return_inverse=True)
    moved = np.bincount(inverse, weights=np.abs(state.weights))
    keys_per_member = np.bincount(unique_pairs // len(state.values))
    return int(keys_per_member.max()), int(moved.max())


def critical_ratio(keys: int) -> float:
    """The variance ratio below which n draws are flagged, at the false-alarm rate `ALPHA`."""
    if keys == 0:
        return 0.0
    return 1.0 - NormalDist().inv_cdf(1.0 - ALPHA) * math.sqrt(2.0 / keys)


def flagged_fraction(keys: int, fraction: float, rng: np.random.Generator) -> float:
    """How often the test flags `keys` draws of noise at `fraction` of the recorded scale.

    Each of `POWER_TRIALS` trials draws the statistic from its law: mean(Z²)/σ² of n normal
    draws at fraction·σ is fraction²·χ²ₙ/n (at the scales askfirst calibrates, the discrete
    Gaussian's variance is σ² to within 1e-9).
    """
    if keys == 0:
        return 0.0
    ratios = fraction**2 * rng.chisquare(keys, size=POWER_TRIALS) / keys
    return float(np.mean(ratios < critical_ratio(keys)))
