"""Softmax regression trained by full-batch DP gradient descent, with the member as the unit.

Each member gives at most `examples_per_member` (L) examples, drawn at random when they have
more; each example's gradient of the cross-entropy is clipped to C/L in L2, so a member's
summed gradient has norm at most C, whatever they wrote. Every step adds Gaussian noise
N(0, σ²C²) to each coordinate of the summed gradient: with full batches (no subsampling) one
step is the Gaussian mechanism at sensitivity C, so T steps cost T/(2σ²) in zCDP, added up
like every other charge (`askfirst.privacy.accountant`). The step size is divided by a noisy
count of members (a share of ρ), so nothing released depends on the exact member count, or by
`reference_members` when there are fewer (a small team takes smaller steps, not noisier ones).
Momentum and the average of the later iterates only read noisy gradients: post-processing.

For softmax regression the gradient of example i is xᵢ ⊗ (pᵢ − yᵢ), whose L2 norm is
‖xᵢ‖·‖pᵢ − yᵢ‖: clipping is exact and costs one matrix product per step, never a per-example
gradient in memory. Rows may be sparse (hashed words) or dense (sentence vectors): the same
arithmetic, the same bound.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any, TypeAlias

import numpy as np
import scipy.sparse as sparse

Floats = np.ndarray[Any, np.dtype[np.float64]]
Ints = np.ndarray[Any, np.dtype[np.int64]]
# One row per example: sparse (hashed words) or a dense array (sentence vectors).
Features: TypeAlias = sparse.csr_matrix | Floats
# (how many draws, scale) -> Gaussian noise of that standard deviation.
VectorNoise = Callable[[int, float], Floats]
# A share of ρ spent on the noisy member count the step size is divided by.
COUNT_SHARE = 0.01


@dataclass(frozen=True)
class DescentSettings:
    """How a descent runs: chosen on training data only (bench/emoji_utility.py --tune-dpgd)."""

    steps: int = 20  # T
    clip: float = 1.0  # C: the L2 bound of one member's summed gradient
    learning_rate: float = 32.0  # per member: the step is lr · (noisy gradient sum) / n̂
    examples_per_member: int = 1  # L
    momentum: float = 0.9
    average_from: float = 0.5  # the iterates averaged: those after this share of the steps
    bias_rate: float = 0.8  # the bias's step as a share of the weights' (it sees every example)
    bias_feature: float = 0.25  # the constant feature the bias multiplies (its share of the clip)
    # The step divides the noisy sum by max(n̂, this): with fewer members than it, the step's
    # noise on the weights (lr·σC/n̂) stays where it was tuned instead of growing as 1/n̂.
    reference_members: int = 0

    def __post_init__(self) -> None:
        if self.steps < 1 or self.examples_per_member < 1:
            raise ValueError(
                f"steps={self.steps} and examples_per_member={self.examples_per_member} must "
                "be at least 1"
            )
        if not (self.clip > 0 and self.learning_rate > 0 and 0 <= self.momentum < 1):
            raise ValueError("clip and learning_rate must be positive, momentum in [0, 1)")


@dataclass(frozen=True)
class DescentNoise:
    """The noise a descent at ρ adds: σ per step (in units of C) and the member count's."""

    rho: float
    steps: int
    multiplier: float  # σ: each step's noise has standard deviation σ·C per coordinate
    count_scale: float  # standard deviation of the noisy member count

    @property
    def rho_steps(self) -> float:
        """What the T steps cost in zCDP: T/(2σ²)."""
        return self.steps / (2.0 * self.multiplier**2)

    @property
    def rho_count(self) -> float:
        """What the noisy member count costs (sensitivity 1)."""
        return 1.0 / (2.0 * self.count_scale**2)

    @property
    def rho_spent(self) -> float:
        return self.rho_steps + self.rho_count

    def as_dict(self) -> dict[str, float]:
        return {**asdict(self), "rho_steps": self.rho_steps, "rho_count": self.rho_count}

    def opendp_rho(self) -> float:
        """ρ from OpenDP's own privacy maps: T Gaussian steps at sensitivity C and scale σC
        (unit C), and the count at sensitivity 1; zCDP adds them up."""
        import opendp.prelude as dp

        dp.enable_features("contrib")

        def gaussian_rho(scale: float) -> float:
            domain = dp.atom_domain(T=float, nan=False)
            built = dp.m.make_gaussian(domain, dp.absolute_distance(T=float), scale=scale)
            return float(built.map(1.0))  # type: ignore[no-untyped-call]

        return self.steps * gaussian_rho(self.multiplier) + gaussian_rho(self.count_scale)


def descent_noise(rho: float, steps: int) -> DescentNoise:
    """The noise of `steps` full-batch steps and a member count that together cost `rho`."""
    if not (math.isfinite(rho) and rho > 0):
        raise ValueError(f"ρ={rho!r} must be a positive finite number")
    if steps < 1:
        raise ValueError(f"steps={steps} must be at least 1")
    rho_count = COUNT_SHARE * rho
    return DescentNoise(
        rho=rho,
        steps=steps,
        multiplier=math.sqrt(steps / (2.0 * (rho - rho_count))),
        count_scale=math.sqrt(1.0 / (2.0 * rho_count)),
    )


@dataclass(frozen=True)
class SoftmaxWeights:
    """A trained softmax regression: scores = features · weights + bias, one column a class."""

    weights: Floats  # features by classes
    bias: Floats  # classes

    def scores(self, features: Features) -> Floats:
        scores: Floats = np.asarray(features @ self.weights) + self.bias
        return scores


def seeded_gaussian(rng: np.random.Generator) -> VectorNoise:
    """Gaussian noise from a seeded generator: runs repeat exactly (tests, benchmarks)."""
    return lambda size, scale: rng.normal(0.0, scale, size)


def opendp_gaussian(size: int, scale: float) -> Floats:
    """OpenDP's Gaussian sampler on floats (≈ 80 µs a draw; the vetted choice), in chunks on
    one thread per CPU (OpenDP's library runs outside Python's lock)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    domain = dp.vector_domain(dp.atom_domain(T=float, nan=False))
    measurement = dp.m.make_gaussian(domain, dp.l2_distance(T=float), scale=scale)
    chunks = np.array_split(np.zeros(size), max(1, min(os.cpu_count() or 1, size // 10_000)))
    with ThreadPoolExecutor(len(chunks), thread_name_prefix="askfirst-descent") as pool:
        drawn = list(pool.map(measurement, chunks))
    return np.concatenate([np.asarray(part, dtype=np.float64) for part in drawn])


def bounded_examples(members: Ints, limit: int, rng: np.random.Generator) -> Ints:
    """Row indices keeping at most `limit` examples per member, drawn at random."""
    shuffled = rng.permutation(len(members))
    order = shuffled[np.argsort(members[shuffled], kind="stable")]
    sorted_members = members[order]
    starts = np.searchsorted(sorted_members, sorted_members, side="left")
    rank = np.arange(len(order)) - starts
    return np.sort(order[rank < limit])


def float_rows(features: Features, rows: Ints) -> Features:
    """The chosen rows as float64, sparse rows kept sparse (CSR) and dense rows dense."""
    if sparse.issparse(features):
        return sparse.csr_matrix(features[rows], dtype=np.float64)
    dense = np.asarray(features, dtype=np.float64)
    if dense.ndim != 2:
        raise ValueError(f"features of shape {dense.shape} must be 2-D: one row per example")
    chosen: Floats = dense[rows]
    return chosen


def squared_row_norms(features: Features) -> Floats:
    """‖xᵢ‖² of each row, sparse or dense."""
    if sparse.issparse(features):
        return np.asarray(sparse.csr_matrix(features).power(2).sum(axis=1)).ravel()
    squares: Floats = np.einsum("ij,ij->i", features, features)
    return squares


def clipped_gradient_sum(
    features: Features,
    targets: Floats,
    probabilities: Floats,
    example_clip: float,
    bias_feature: float = 1.0,
) -> tuple[Floats, Floats]:
    """Σᵢ clip(xᵢ ⊗ (pᵢ − yᵢ), example_clip) over weights and bias, the bias being the weight
    of a constant feature `bias_feature` that every example has."""
    residual = probabilities - targets
    squares = squared_row_norms(features)
    norms = np.sqrt(squares + bias_feature**2) * np.linalg.norm(residual, axis=1)
    factors = np.minimum(1.0, example_clip / np.maximum(norms, 1e-12))
    scaled = residual * factors[:, None]
    return np.asarray(features.T @ scaled), bias_feature * scaled.sum(axis=0)


def with_noise(
    gradient_w: Floats, gradient_b: Floats, noise: VectorNoise, scale: float
) -> tuple[Floats, Floats]:
    """The summed gradient with one Gaussian draw of `scale` on each coordinate."""
    drawn = noise(gradient_w.size + gradient_b.size, scale)
    noisy_w = gradient_w + drawn[: gradient_w.size].reshape(gradient_w.shape)
    return noisy_w, gradient_b + drawn[gradient_w.size :]


def softmax(scores: Floats) -> Floats:
    """Each row's scores as probabilities."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    probabilities: Floats = shifted / shifted.sum(axis=1, keepdims=True)
    return probabilities


def train_softmax(
    features: Features,
    labels: Ints,
    members: Ints,
    classes: int,
    *,
    settings: DescentSettings,
    rho: float | None,
    rng: np.random.Generator,
    noise: VectorNoise = opendp_gaussian,
    offsets: Floats | None = None,
) -> SoftmaxWeights:
    """Softmax regression over `classes` labels by DP gradient descent at ρ-zCDP per member.

    Rows are examples (sparse or dense); `members[i]` owns row i. `offsets` (examples by
    classes), if given, are fixed scores the weights are learned on top of: another release's
    log-probabilities, say, computed from DP outputs and the example's own features only (so
    clipping still bounds each example). `rho` None trains without noise (benchmarks' "no
    privacy" row only).
    """
    if features.shape[0] != len(labels) or len(labels) != len(members):
        raise ValueError("features, labels and members must have one row per example")
    kept = bounded_examples(members, settings.examples_per_member, rng)
    x = float_rows(features, kept)
    targets = np.eye(classes)[labels[kept]]
    fixed = np.zeros((len(kept), classes)) if offsets is None else offsets[kept]
    member_count = float(len(np.unique(members[kept])))
    planned = None if rho is None else descent_noise(rho, settings.steps)
    if planned is not None:
        member_count += float(noise(1, planned.count_scale)[0])
    step = settings.learning_rate / max(member_count, settings.reference_members, 1.0)
    example_clip = settings.clip / settings.examples_per_member
    weights, bias = np.zeros((x.shape[1], classes)), np.zeros(classes)
    velocity_w, velocity_b = np.zeros_like(weights), np.zeros_like(bias)
    average_w, average_b, averaged = np.zeros_like(weights), np.zeros_like(bias), 0
    first_averaged = int(settings.steps * settings.average_from)
    for t in range(settings.steps):
        scores = np.asarray(x @ weights) + settings.bias_feature * bias + fixed
        gradient_w, gradient_b = clipped_gradient_sum(
            x, targets, softmax(scores), example_clip, settings.bias_feature
        )
        if planned is not None:
            scale = planned.multiplier * settings.clip
            gradient_w, gradient_b = with_noise(gradient_w, gradient_b, noise, scale)
        velocity_w = settings.momentum * velocity_w + gradient_w
        velocity_b = settings.momentum * velocity_b + gradient_b
        weights = weights - step * velocity_w
        bias = bias - step * settings.bias_rate * velocity_b
        if t >= first_averaged:
            average_w, average_b, averaged = average_w + weights, average_b + bias, averaged + 1
    return SoftmaxWeights(average_w / averaged, settings.bias_feature * average_b / averaged)
