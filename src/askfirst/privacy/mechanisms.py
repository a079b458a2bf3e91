"""The one place a release's mechanism is declared and its (ε, δ) computed, with OpenDP.

A release is a noisy threshold over a map {key: bounded count}: OpenDP adds noise to every
candidate key's count and keeps a key only if its noisy count passes the threshold, so keys
are selected privately (a word few members used never appears). The input sensitivity is the
bounding's: one member changes at most `l0` keys, each by at most `linf`.

Gaussian noise (the default) is calibrated in zero-concentrated DP and converted to (ε, δ),
with δ split between the threshold (keys that appear or vanish) and the conversion; Laplace
spends all of ε on noise and all of δ on the threshold. Calibration searches scale and
threshold with OpenDP's own privacy maps, and the (ε, δ) a `Mechanism` reports is always the
map of the measurement built from it, never a formula of ours. Noise comes from OpenDP's
exact samplers, or for the counts of a key domain from `discrete_gaussian`, which draws the
same discrete Gaussian in bulk by exact inversion.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import opendp.prelude as dp

from askfirst.privacy import discrete_gaussian

Kind = Literal["gaussian", "laplace"]
KINDS: tuple[Kind, ...] = ("gaussian", "laplace")
# Shares of δ tried for the threshold (the rest pays the zCDP → (ε, δ) conversion).
THRESHOLD_DELTA_SHARES = (0.25, 0.5, 0.75)
LARGEST_THRESHOLD = 2**31 - 1
SCALE_SEARCH_STEPS = 14
# Below this many draws a second thread costs more than it saves.
NOISE_DRAWS_PER_THREAD = 20_000


@dataclass(frozen=True)
class Mechanism:
    """A threshold mechanism and the (ε, δ) OpenDP's privacy map gives for its sensitivity."""

    kind: Kind
    l0: int
    linf: int
    scale: float
    threshold: int
    epsilon: float
    delta: float

    def as_dict(self) -> dict[str, Any]:
        """The JSON-safe description a release records."""
        return {
            "kind": self.kind,
            "l0": self.l0,
            "linf": self.linf,
            "scale": self.scale,
            "threshold": self.threshold,
            "epsilon": self.epsilon,
            "delta": self.delta,
        }


def measurement(kind: Kind, scale: float, threshold: int, delta: float) -> dp.Measurement:
    """The OpenDP measurement: a noisy threshold over {key: count}, output in (ε, δ)-DP."""
    noisy_threshold = threshold_measurement(kind, scale, threshold)
    if kind == "laplace":
        return noisy_threshold
    return dp.c.make_fix_delta(dp.c.make_zCDP_to_approxDP(noisy_threshold), delta)


def threshold_measurement(kind: Kind, scale: float, threshold: int) -> dp.Measurement:
    """The noisy threshold alone: (ε, δ) for Laplace, (rho, δ) in zCDP for Gaussian."""
    dp.enable_features("contrib")
    domain = dp.map_domain(dp.atom_domain(T=str), dp.atom_domain(T=int))
    if kind == "laplace":
        metric = dp.l01inf_distance(dp.absolute_distance(T=int))
        return dp.m.make_laplace_threshold(domain, metric, scale=scale, threshold=threshold)
    metric = dp.l02inf_distance(dp.absolute_distance(T=int))
    return dp.m.make_gaussian_threshold(domain, metric, scale=scale, threshold=threshold)


def privacy_loss(built: dp.Measurement, l0: int, linf: int) -> tuple[float, float]:
    """(ε, δ) from the measurement's map, for members changing ≤ l0 keys by ≤ linf each."""
    # OpenDP's l0,p,inf distance: (keys changed, Lp-norm bound, largest change); it takes the
    # tighter of the Lp bound given and l0^(1/p)·linf, so l0·linf is a safe Lp bound.
    epsilon, delta = built.map((l0, l0 * linf, linf))  # type: ignore[no-untyped-call]
    return float(epsilon), float(delta)


def calibrate(
    epsilon: float, delta: float, l0: int, kind: Kind = "gaussian", linf: int = 1
) -> Mechanism:
    """The mechanism with the lowest threshold whose (ε, δ) is at most the targets."""
    _check_targets(epsilon, delta, l0, kind, linf)
    return _calibrate(float(epsilon), float(delta), l0, kind, linf)


def release(counts: Mapping[str, int], mechanism: Mechanism) -> dict[str, float]:
    """Noisy counts of the keys that pass the noisy threshold; all candidate keys go in."""
    built = measurement(mechanism.kind, mechanism.scale, mechanism.threshold, mechanism.delta)
    noisy = built({key: int(count) for key, count in counts.items()})
    return {key: float(value) for key, value in noisy.items()}


def verify(mechanism: Mechanism) -> tuple[float, float]:
    """(ε, δ) recomputed from a freshly built measurement, to check a recorded mechanism."""
    built = measurement(mechanism.kind, mechanism.scale, mechanism.threshold, mechanism.delta)
    return privacy_loss(built, mechanism.l0, mechanism.linf)


@functools.lru_cache(maxsize=64)
def _calibrate(epsilon: float, delta: float, l0: int, kind: Kind, linf: int) -> Mechanism:
    if kind == "laplace":
        candidates = [_calibrate_share(epsilon, delta, l0, linf, kind, 1.0)]
    else:
        candidates = [
            _calibrate_share(epsilon, delta, l0, linf, kind, share)
            for share in THRESHOLD_DELTA_SHARES
        ]
    return min(candidates, key=lambda m: (m.threshold, m.scale))


def _calibrate_share(
    epsilon: float, delta: float, l0: int, linf: int, kind: Kind, share: float
) -> Mechanism:
    """Smallest scale meeting ε with (1 - share)·δ for noise, then the lowest threshold."""
    noise_delta = max((1.0 - share) * delta, delta * 1e-9)

    def noise_fits(scale: float) -> bool:
        built = measurement(kind, scale, LARGEST_THRESHOLD, noise_delta)
        return _loss_or_infinite(built, l0, linf)[0] <= epsilon

    scale = _smallest_scale(noise_fits)

    def threshold_fits(threshold: int) -> bool:
        # The threshold's δ alone: the inner measurement, before any conversion.
        built = threshold_measurement(kind, scale, threshold)
        return _loss_or_infinite(built, l0, linf)[1] <= share * delta

    threshold = _smallest_int(threshold_fits, linf)
    built = measurement(kind, scale, threshold, delta)
    final_epsilon, final_delta = privacy_loss(built, l0, linf)
    return Mechanism(kind, l0, linf, scale, threshold, final_epsilon, final_delta)


def _loss_or_infinite(built: dp.Measurement, l0: int, linf: int) -> tuple[float, float]:
    """The privacy loss, or infinite loss where OpenDP's map overflows (far too little noise)."""
    try:
        return privacy_loss(built, l0, linf)
    except dp.OpenDPException:
        return math.inf, math.inf


def _smallest_scale(fits: Callable[[float], bool]) -> float:
    """The smallest scale (to ~1e-4 relative) for which `fits` holds; fits is monotone."""
    low, high = 0.25, 1.0
    while fits(low) and low > 1e-9:
        low, high = low / 4.0, low
    while not fits(high):
        low, high = high, high * 4.0
        if high > 1e12:
            raise ValueError("no noise scale reaches the privacy target; raise ε or δ")
    for _ in range(SCALE_SEARCH_STEPS):
        middle = math.sqrt(low * high)
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def _smallest_int(fits: Callable[[int], bool], low: int) -> int:
    """The smallest integer ≥ low for which `fits` holds; fits is monotone."""
    if fits(low):
        return low
    high = LARGEST_THRESHOLD
    if not fits(high):
        raise ValueError("no threshold reaches the privacy target; raise δ")
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(middle) else (middle, high)
    return high


def _check_targets(epsilon: float, delta: float, l0: int, kind: str, linf: int) -> None:
    if kind not in KINDS:
        raise ValueError(f"mechanism kind {kind!r} is unknown; choose one of {KINDS}")
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"ε={epsilon!r} must be a positive finite number")
    if not (0 < delta < 1):
        raise ValueError(f"δ={delta!r} must be strictly between 0 and 1 (e.g. 1e-6)")
    if l0 < 1 or linf < 1:
        raise ValueError(f"bounds l0={l0}, linf={linf} must both be at least 1")


@dataclass(frozen=True)
class SumsMechanism:
    """Laplace noise on a vector of integer sums that one member changes by ≤ `l1` in all."""

    l1: int
    scale: float
    epsilon: float

    def as_dict(self) -> dict[str, Any]:
        return {"kind": "laplace", "l1": self.l1, "scale": self.scale, "epsilon": self.epsilon}


def sums_measurement(scale: float) -> dp.Measurement:
    """OpenDP's Laplace mechanism on a vector of integers (pure ε, δ = 0)."""
    dp.enable_features("contrib")
    domain = dp.vector_domain(dp.atom_domain(T=int))
    return dp.m.make_laplace(domain, dp.l1_distance(T=int), scale=scale)


@functools.cache
def calibrate_sums(epsilon: float, l1: int) -> SumsMechanism:
    """The least Laplace noise whose ε, from OpenDP's privacy map at sensitivity `l1`, fits."""
    if not (math.isfinite(epsilon) and epsilon > 0):
        raise ValueError(f"ε={epsilon!r} must be a positive finite number")
    if l1 < 1:
        raise ValueError(f"sensitivity l1={l1} must be at least 1")

    def fits(scale: float) -> bool:
        return float(sums_measurement(scale).map(l1)) <= epsilon  # type: ignore[no-untyped-call]

    scale = _smallest_scale(fits)
    spent = float(sums_measurement(scale).map(l1))  # type: ignore[no-untyped-call]
    return SumsMechanism(l1=l1, scale=scale, epsilon=spent)


def noisy_sums(sums: list[int], mechanism: SumsMechanism) -> list[int]:
    """The sums with OpenDP's Laplace noise: what one member adds is hidden to ε."""
    noisy = sums_measurement(mechanism.scale)([int(value) for value in sums])
    return [int(value) for value in noisy]


@dataclass(frozen=True)
class DomainGaussian:
    """Discrete Gaussian noise on the count of every key of a fixed, public key domain.

    No key is selected and none is dropped, so nothing about which keys exist depends on
    anyone's data; one member changes at most `l0` counts by at most `linf`, an L2 change of at
    most `sensitivity` (√l0·linf rounded up to a whole number, as OpenDP's integer metric
    takes). `rho` is OpenDP's zCDP map of the measurement at that sensitivity.
    """

    l0: int
    linf: int
    scale: float
    rho: float

    @property
    def sensitivity(self) -> int:
        return l2_sensitivity(self.l0, self.linf)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "gaussian",
            "domain": "public",
            "l0": self.l0,
            "linf": self.linf,
            "scale": self.scale,
            "rho": self.rho,
        }


def l2_sensitivity(l0: int, linf: int) -> int:
    """The whole-number L2 bound of a change of ≤ l0 counts by ≤ linf each."""
    return math.ceil(math.sqrt(l0) * linf - 1e-12)


def counts_measurement(scale: float) -> dp.Measurement:
    """OpenDP's discrete Gaussian on a vector of integer counts (ρ-zCDP)."""
    dp.enable_features("contrib")
    domain = dp.vector_domain(dp.atom_domain(T="i64"))
    return dp.m.make_gaussian(domain, dp.l2_distance(T="i64"), scale=scale)


def counts_rho(scale: float, sensitivity: int) -> float:
    """ρ from OpenDP's map, for a member who moves the counts by `sensitivity` in L2."""
    return float(counts_measurement(scale).map(sensitivity))  # type: ignore[no-untyped-call]


@functools.lru_cache(maxsize=256)
def calibrate_domain_gaussian(rho: float, l0: int, linf: int = 1) -> DomainGaussian:
    """The least noise whose ρ (OpenDP's map at the bounds' sensitivity) is at most `rho`."""
    if not (math.isfinite(rho) and rho > 0):
        raise ValueError(f"ρ={rho!r} must be a positive finite number")
    if l0 < 1 or linf < 1:
        raise ValueError(f"bounds l0={l0}, linf={linf} must both be at least 1")
    sensitivity = l2_sensitivity(l0, linf)
    scale = _smallest_scale(lambda s: counts_rho(s, sensitivity) <= rho)
    return DomainGaussian(l0=l0, linf=linf, scale=scale, rho=counts_rho(scale, sensitivity))


def verify_domain_gaussian(mechanism: DomainGaussian) -> float:
    """ρ recomputed from a freshly built measurement, to check a recorded mechanism."""
    return counts_rho(mechanism.scale, mechanism.sensitivity)


def gaussian_noise(size: int, scale: float) -> np.ndarray[Any, np.dtype[np.int64]]:
    """`size` draws of the discrete Gaussian of `scale` (σ) that OpenDP's map prices.

    Drawn in bulk by exact inversion (`discrete_gaussian`: the same law, to within 2^−240 in
    total variation, about a hundred times faster); scales too large for its table are drawn
    by OpenDP's own exact sampler.
    """
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    if discrete_gaussian.fits(scale):
        return discrete_gaussian.draws(size, scale)
    return opendp_gaussian_noise(size, scale)


def opendp_gaussian_noise(size: int, scale: float) -> np.ndarray[Any, np.dtype[np.int64]]:
    """`size` draws of OpenDP's exact discrete Gaussian of `scale`, one at a time (~8 µs each).

    Draws are independent, so chunks of them are drawn on several threads at once (OpenDP's
    library runs outside Python's lock), each by OpenDP from the operating system's CSPRNG.
    """
    if size == 0:
        return np.zeros(0, dtype=np.int64)
    measurement = counts_measurement(scale)
    chunks = np.array_split(np.zeros(size, dtype=np.int64), _noise_threads(size))
    if len(chunks) == 1:
        return np.asarray(measurement(chunks[0]), dtype=np.int64)
    with ThreadPoolExecutor(len(chunks), thread_name_prefix="askfirst-noise") as pool:
        drawn = list(pool.map(measurement, chunks))
    return np.concatenate([np.asarray(part, dtype=np.int64) for part in drawn])


def _noise_threads(size: int) -> int:
    """One thread per `NOISE_DRAWS_PER_THREAD` draws, at most one per CPU."""
    return max(1, min(os.cpu_count() or 1, size // NOISE_DRAWS_PER_THREAD))
