"""The noise a release draws follows the declared law, and never repeats — with power checks.

Noise is read off real releases: keys whose bounded count sits far above the threshold are
always released, and released minus true count is the noise OpenDP drew for them, through
`askfirst.privacy.mechanisms.release` exactly as training calls it. Each test rejects at
SIGNIFICANCE = 1e-6, so a correct sampler fails about once in a million runs, and each has a
twin showing the same test rejects a wrong scale or a repeating stream.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from noise_fit import (
    Pmf,
    chi_square_p_value,
    discrete_gaussian_pmf,
    discrete_laplace_pmf,
    repeated_windows_p_value,
)

from askfirst.privacy.mechanisms import Kind, Mechanism, calibrate, release

pytestmark = pytest.mark.slow

SIGNIFICANCE = 1e-6
SAMPLES = 200_000
POWER_SAMPLES = 50_000
HEADROOM = 60  # counts this many scales above the threshold are released for sure (e^-60)


def declared(kind: Kind) -> Mechanism:
    return calibrate(epsilon=1.0, delta=1e-6, l0=4, kind=kind)


def declared_pmf(mechanism: Mechanism) -> Pmf:
    if mechanism.kind == "laplace":
        return discrete_laplace_pmf(mechanism.scale)
    return discrete_gaussian_pmf(mechanism.scale)


def noise_of_one_release(mechanism: Mechanism, keys: int) -> np.ndarray:
    """Released minus true count for `keys` keys, all far above the threshold, in key order."""
    count = mechanism.threshold + int(HEADROOM * mechanism.scale)
    released = release({f"key{index:07d}": count for index in range(keys)}, mechanism)
    assert len(released) == keys, "a key far above the threshold was not released"
    return np.array([released[f"key{index:07d}"] - count for index in range(keys)])


def noise_of_many_releases(mechanism: Mechanism, releases: int, keys: int) -> np.ndarray:
    """The noise of `releases` separate releases of the same counts, concatenated in order."""
    return np.concatenate([noise_of_one_release(mechanism, keys) for _ in range(releases)])


@pytest.fixture(scope="module", params=["laplace", "gaussian"])
def mechanism(request: pytest.FixtureRequest) -> Mechanism:
    return declared(request.param)


@pytest.fixture(scope="module")
def noise(mechanism: Mechanism) -> np.ndarray:
    return noise_of_one_release(mechanism, SAMPLES)


def test_noise_is_integer(noise: np.ndarray) -> None:
    assert np.array_equal(noise, np.round(noise))


def test_noise_follows_the_declared_distribution(mechanism: Mechanism, noise: np.ndarray) -> None:
    assert chi_square_p_value(noise, declared_pmf(mechanism)) > SIGNIFICANCE


@pytest.mark.parametrize("factor", [0.7, 1.3])
def test_the_same_test_rejects_a_scale_30_percent_off(mechanism: Mechanism, factor: float) -> None:
    wrong = dataclasses.replace(mechanism, scale=mechanism.scale * factor)
    noise = noise_of_one_release(wrong, POWER_SAMPLES)
    assert chi_square_p_value(noise, declared_pmf(mechanism)) < SIGNIFICANCE


def test_noise_never_repeats_within_a_release(mechanism: Mechanism, noise: np.ndarray) -> None:
    assert repeated_windows_p_value(noise, declared_pmf(mechanism)) > SIGNIFICANCE


def test_noise_never_repeats_across_releases(mechanism: Mechanism) -> None:
    # A generator re-seeded per release would draw the same noise every time.
    noise = noise_of_many_releases(mechanism, releases=400, keys=50)
    assert repeated_windows_p_value(noise, declared_pmf(mechanism)) > SIGNIFICANCE
    assert chi_square_p_value(noise, declared_pmf(mechanism)) > SIGNIFICANCE


def test_the_same_tests_reject_a_stream_that_reuses_samples(
    mechanism: Mechanism, noise: np.ndarray
) -> None:
    pmf = declared_pmf(mechanism)
    # Replayed noise has the right marginal law, so only the repeat test can see it.
    replayed = np.concatenate([noise[: SAMPLES // 2], noise[: SAMPLES // 2]])
    assert repeated_windows_p_value(replayed, pmf) < SIGNIFICANCE
    one_release = noise[:50]
    cached = np.tile(one_release, 400)  # a release served from a cache, 400 times
    assert repeated_windows_p_value(cached, pmf) < SIGNIFICANCE
    shifted = np.concatenate([noise[:100_007], noise[:99_993]])  # replay not on a window edge
    assert repeated_windows_p_value(shifted, pmf) < SIGNIFICANCE


def test_noise_is_centred_and_has_the_declared_spread(
    mechanism: Mechanism, noise: np.ndarray
) -> None:
    # A plain moment check as a second opinion: variance within 2% of the declared law's.
    pmf = declared_pmf(mechanism)
    support = np.arange(-100_000, 100_001)
    variance = float(np.sum(support.astype(float) ** 2 * pmf(support)))
    assert abs(noise.mean()) < 6 * np.sqrt(variance / len(noise))
    assert noise.var() == pytest.approx(variance, rel=0.02)
