"""Goodness-of-fit tests for integer noise: does it follow the declared law, and never repeat?

Two tests, each returning a p-value:
- `chi_square_p_value`: the samples' histogram against the declared probability mass
  function (bins merged in the tails until each expects at least MIN_EXPECTED samples);
- `repeated_windows_p_value`: a birthday test. Windows of L consecutive samples collide by
  chance with probability (sum_k p_k^2)^L; L is chosen so that about one collision is expected
  over the whole stream. A stream that reuses samples (a re-seeded generator, a cached draw)
  collides thousands of times, whatever its marginal law.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from scipy import stats

MIN_EXPECTED = 20.0
Pmf = Callable[[np.ndarray], np.ndarray]


def discrete_laplace_pmf(scale: float) -> Pmf:
    """P(k) ∝ exp(-|k| / scale) on the integers (OpenDP's integer Laplace)."""
    ratio = math.exp(-1.0 / scale)

    def pmf(values: np.ndarray) -> np.ndarray:
        return (1.0 - ratio) / (1.0 + ratio) * ratio ** np.abs(values)

    return pmf


def discrete_gaussian_pmf(sigma: float) -> Pmf:
    """P(k) ∝ exp(-k² / 2 sigma²) on the integers (OpenDP's integer Gaussian), normalized here."""
    support = np.arange(-int(40 * sigma) - 40, int(40 * sigma) + 41)
    total = float(np.sum(np.exp(-(support.astype(float) ** 2) / (2.0 * sigma**2))))

    def pmf(values: np.ndarray) -> np.ndarray:
        return np.exp(-(values.astype(float) ** 2) / (2.0 * sigma**2)) / total

    return pmf


def _central_run(pmf: Pmf, count: int) -> np.ndarray:
    """The run of integers around 0 each expecting at least MIN_EXPECTED of `count` samples."""
    low = high = 0
    while count * float(pmf(np.array([low - 1]))[0]) >= MIN_EXPECTED:
        low -= 1
    while count * float(pmf(np.array([high + 1]))[0]) >= MIN_EXPECTED:
        high += 1
    return np.arange(low, high + 1)


def chi_square_p_value(samples: np.ndarray, pmf: Pmf) -> float:
    """Pearson's χ² p-value of integer `samples` against `pmf`, each tail merged into one bin."""
    samples = np.asarray(samples, dtype=np.int64)
    count = len(samples)
    inner = _central_run(pmf, count)
    low, high = int(inner[0]), int(inner[-1])
    clipped = np.clip(samples, low - 1, high + 1) - (low - 1)
    observed = np.bincount(clipped, minlength=len(inner) + 2).astype(float)
    far = 100_000
    masses = np.concatenate(
        [
            [pmf(np.arange(low - far, low)).sum()],
            pmf(inner),
            [pmf(np.arange(high + 1, high + 1 + far)).sum()],
        ]
    )
    expected = count * masses
    statistic = float(np.sum((observed - expected) ** 2 / expected))
    return float(stats.chi2.sf(statistic, len(expected) - 1))


def repeated_windows_p_value(samples: np.ndarray, pmf: Pmf) -> float:
    """The chance of at least the observed number of repeated windows, if samples are i.i.d."""
    samples = np.asarray(samples, dtype=np.int64)
    support = np.arange(-100_000, 100_001)
    collision = float(np.sum(pmf(support) ** 2))  # P[two independent samples are equal]
    windows_count = len(samples)
    length = max(2, math.ceil(math.log(windows_count**2 / 2.0) / -math.log(collision)))
    windows = np.lib.stride_tricks.sliding_window_view(samples, length)
    rows = np.ascontiguousarray(windows).view(np.dtype((np.void, 8 * length))).ravel()
    _, inverse, counts = np.unique(rows, return_inverse=True, return_counts=True)
    repeated = _repeated_pairs(inverse, counts, length)
    pairs = len(rows) * (len(rows) - 1) / 2.0
    expected = pairs * collision**length
    return float(stats.poisson.sf(repeated - 1, expected)) if repeated else 1.0


def _repeated_pairs(inverse: np.ndarray, counts: np.ndarray, length: int) -> int:
    """Pairs of equal windows that do not overlap (overlapping ones are not independent)."""
    positions = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    repeated = 0
    for group in np.flatnonzero(counts > 1):
        where = positions[starts[group] : starts[group] + counts[group]]
        gaps = np.abs(where[:, None] - where[None, :])
        repeated += int(np.count_nonzero(np.triu(gaps >= length, k=1)))
    return repeated
