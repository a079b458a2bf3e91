"""The discrete Gaussian by exact inversion over integer weights: a release's noise, vectorized.

OpenDP's sampler is exact but draws one value at a time (about 8 µs each), which made the noise
on a large key domain most of a release's time. This one draws the same distribution in bulk:

- The weights are integers: w(x) = ⌊2^256 · exp(−x² / 2σ²)⌉ for |x| ≤ 40σ, computed in
  fixed point with 64 guard bits (each weight is within 2 units of the exact value). Beyond
  40σ the mass is below e^−800.
- A uniform integer U below 2^B (B the bit length of the weights' sum W) comes from the
  operating system's CSPRNG; U ≥ W is drawn again (exact rejection), and otherwise the value is
  the x whose interval of cumulative weights holds U. So the sampled law is exactly w(x) / W.
- Only U's top 64 bits are drawn first: they decide the interval unless they equal the top
  64 bits of an interval's bound (probability about one in 2^64 / table size per draw); then the
  remaining bits are drawn and compared exactly.

So no floating point touches a draw, and the law's total variation distance from the exact
discrete Gaussian is below 2^−240 (rounding of the weights and the cut tail): a release's δ
grows by at most that. Scales whose table would exceed `MAX_VALUES` fall back to OpenDP.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import os
import secrets
from dataclasses import dataclass
from decimal import Context, Decimal
from typing import Any

import numpy as np

Ints = np.ndarray[Any, np.dtype[np.int64]]

WEIGHT_BITS = 256
GUARD_BITS = 64
TAIL_SIGMAS = 40
# Values in a table (up to σ = 2,500): about 20 MB of Python integers at the most, and a few
# tables are kept per process. Larger scales (tiny ρ) are rare: OpenDP's sampler draws them.
MAX_VALUES = 200_001
WORD_BITS = 64


@dataclass(frozen=True)
class InversionTable:
    """Cumulative integer weights of the values lowest … −lowest, and their top 64-bit words."""

    lowest: int
    bounds: tuple[int, ...]  # bounds[j] = w(lowest) + … + w(lowest + j); the last is W
    top: np.ndarray[Any, np.dtype[np.uint64]]  # bounds[j] >> shift
    shift: int  # bits of U below its top word

    @property
    def total(self) -> int:
        return self.bounds[-1]

    def index(self, high: int, low: int) -> int:
        """The value index of U = high·2^shift + low, exactly; len(bounds) means U ≥ W."""
        return bisect.bisect_right(self.bounds, (high << self.shift) | low)


def fits(scale: float) -> bool:
    """Whether a table for `scale` stays within `MAX_VALUES` values."""
    return math.isfinite(scale) and scale > 0 and 2 * _reach(scale) + 1 <= MAX_VALUES


def draws(size: int, scale: float) -> Ints:
    """`size` independent draws of the discrete Gaussian of `scale` (σ)."""
    table = inversion_table(scale)
    values = np.empty(size, dtype=np.int64)
    filled = 0
    while filled < size:
        indices = _indices(table, size - filled)
        kept = indices[indices < len(table.bounds)]  # U ≥ W: drawn again
        values[filled : filled + len(kept)] = kept + table.lowest
        filled += len(kept)
    return values


@functools.lru_cache(maxsize=8)
def inversion_table(scale: float) -> InversionTable:
    """The table for `scale` (built once per process and scale; well under a second)."""
    if not fits(scale):
        raise ValueError(f"a discrete Gaussian table for scale {scale!r} is too large or invalid")
    half = _half_weights(scale, _reach(scale))
    weights = [*reversed(half[1:]), *half]
    bounds = tuple(itertools.accumulate(weights))
    shift = bounds[-1].bit_length() - WORD_BITS
    top = np.array([bound >> shift for bound in bounds], dtype=np.uint64)
    return InversionTable(lowest=-(len(half) - 1), bounds=bounds, top=top, shift=shift)


def _reach(scale: float) -> int:
    return math.ceil(TAIL_SIGMAS * scale)


def _half_weights(scale: float, reach: int) -> list[int]:
    """w(0), w(1), …, w(reach): exp(−x²/2σ²) · 2^256, by an exact fixed-point recurrence.

    w(x + 1) = w(x) · t(x) with t(x) = exp(−(2x + 1)/2σ²) = t(x − 1) · exp(−1/σ²). Each product
    is rounded down at 2^−320; after n steps a weight is off by at most n² such units, under
    2^40 for n ≤ 10^6, so by less than one unit of 2^−256 once the guard bits are dropped.
    """
    bits = WEIGHT_BITS + GUARD_BITS
    context = Context(prec=120)
    variance = context.multiply(Decimal(scale), Decimal(scale))  # exact at 120 digits
    one = 1 << bits

    def fixed(exponent: Decimal) -> int:
        return int(context.multiply(context.exp(exponent), Decimal(one)))

    step = fixed(context.divide(Decimal(-1), variance))  # exp(−1/σ²)
    factor = fixed(context.divide(Decimal(-1), context.multiply(2, variance)))  # t(0) = exp(−1/2σ²)
    weight = one
    weights = [weight >> GUARD_BITS]
    for _ in range(reach):
        weight = (weight * factor) >> bits
        factor = (factor * step) >> bits
        weights.append(weight >> GUARD_BITS)
    return weights


def _indices(table: InversionTable, count: int) -> Ints:
    """Value indices of `count` uniform U's (len(bounds) where U ≥ W)."""
    high = np.frombuffer(os.urandom(8 * count), dtype=np.uint64)
    indices = np.searchsorted(table.top, high, side="left").astype(np.int64)
    # Where U's top word equals a bound's, that word does not decide: draw U's other bits.
    clipped = np.minimum(indices, len(table.top) - 1)
    for position in np.flatnonzero(table.top[clipped] == high).tolist():
        low = secrets.randbits(table.shift)
        indices[position] = table.index(int(high[position]), low)
    return indices
