"""The bulk discrete Gaussian sampler draws the law OpenDP's map prices, exactly enough."""

from __future__ import annotations

import math
from decimal import Context, Decimal

import numpy as np
import pytest
from scipy import stats

from askfirst.privacy import discrete_gaussian
from askfirst.privacy.discrete_gaussian import inversion_table
from askfirst.privacy.mechanisms import gaussian_noise, opendp_gaussian_noise


def exact_weight(x: int, scale: float) -> int:
    """2^256 · exp(−x²/2σ²), rounded, computed directly (not by the module's recurrence)."""
    context = Context(prec=150)
    variance = context.multiply(Decimal(scale), Decimal(scale))
    exponent = context.divide(Decimal(-x * x), context.multiply(2, variance))
    return int(context.multiply(context.exp(exponent), Decimal(2**256)))


@pytest.mark.parametrize("scale", [0.7, 3.0, 21.54, 117.3])
def test_every_weight_is_within_two_units_of_the_exact_weight(scale: float) -> None:
    table = inversion_table(scale)
    weights = np.diff(np.array([0, *table.bounds], dtype=object))
    reach = -table.lowest
    assert reach == math.ceil(40 * scale)
    for x in sorted({0, 1, 2, reach // 7, reach // 3, reach // 2, reach}):
        for signed in (x, -x):
            assert abs(int(weights[signed - table.lowest]) - exact_weight(signed, scale)) <= 2


def chi_square_pvalue(drawn: np.ndarray, scale: float) -> float:
    """χ² of draws against the exact discrete Gaussian of `scale`, values within ±4σ binned."""
    values = np.arange(-math.ceil(4 * scale), math.ceil(4 * scale) + 1)
    everything = np.arange(-math.ceil(40 * scale), math.ceil(40 * scale) + 1).astype(float)
    norm = np.exp(-(everything**2) / (2 * scale * scale)).sum()
    probabilities = np.exp(-(values.astype(float) ** 2) / (2 * scale * scale)) / norm
    observed = np.array([(drawn == v).sum() for v in values] + [(np.abs(drawn) > values[-1]).sum()])
    expected = np.append(probabilities, 1 - probabilities.sum()) * len(drawn)
    return float(stats.chisquare(observed, expected).pvalue)


@pytest.mark.parametrize("scale", [2.5, 21.54])
def test_draws_follow_the_discrete_gaussian(scale: float) -> None:
    """200,000 draws pass a χ² test against the exact probabilities (false alarm 1 in 10^5)."""
    assert chi_square_pvalue(discrete_gaussian.draws(200_000, scale), scale) > 1e-5


def test_the_test_tells_a_five_percent_wrong_scale_apart() -> None:
    assert chi_square_pvalue(discrete_gaussian.draws(200_000, 21.54), 20.5) < 1e-5


def test_draws_agree_with_opendps_sampler() -> None:
    ours = discrete_gaussian.draws(40_000, 8.0)
    theirs = opendp_gaussian_noise(40_000, 8.0)
    assert stats.ks_2samp(ours, theirs).pvalue > 1e-5
    assert stats.levene(ours, theirs).pvalue > 1e-5


def test_an_undecided_top_word_is_resolved_exactly() -> None:
    """When U's top 64 bits equal a bound's, the other bits decide, as bisect over U does."""
    table = inversion_table(5.0)
    middle = len(table.bounds) // 2
    bound = table.bounds[middle]
    high, low = bound >> table.shift, bound & ((1 << table.shift) - 1)
    assert table.index(high, low) == middle + 1  # U equal to the bound: the next value
    if low > 0:
        assert table.index(high, low - 1) == middle
    total_high = table.total >> table.shift
    assert table.index(total_high, table.total & ((1 << table.shift) - 1)) == len(table.bounds)


def test_the_release_noise_uses_the_bulk_sampler_and_falls_back_for_huge_scales() -> None:
    assert discrete_gaussian.fits(21.54)
    assert discrete_gaussian.fits(2_500.0) and not discrete_gaussian.fits(3_000.0)
    assert not discrete_gaussian.fits(1e6)
    assert not discrete_gaussian.fits(float("nan"))
    drawn = gaussian_noise(1_000, 1e6)  # OpenDP's sampler
    assert drawn.dtype == np.int64 and len(drawn) == 1_000
    assert 0.9e6 < float(np.std(drawn)) < 1.1e6
    with pytest.raises(ValueError, match="too large"):
        inversion_table(1e6)


def test_two_calls_draw_independent_values() -> None:
    first, second = discrete_gaussian.draws(1_000, 21.54), discrete_gaussian.draws(1_000, 21.54)
    assert not np.array_equal(first, second)
    assert abs(stats.pearsonr(first, second).statistic) < 0.15
