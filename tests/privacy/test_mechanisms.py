"""The threshold mechanism: calibrated (ε, δ) from OpenDP's maps, private key selection, noise."""

from __future__ import annotations

import statistics

import numpy as np
import pytest

from askfirst.privacy.mechanisms import (
    NOISE_DRAWS_PER_THREAD,
    Mechanism,
    calibrate,
    gaussian_noise,
    release,
    verify,
)


@pytest.mark.parametrize("kind", ["gaussian", "laplace"])
@pytest.mark.parametrize(("epsilon", "l0"), [(0.5, 32), (1.0, 32), (4.0, 8), (8.0, 1)])
def test_calibrated_loss_is_within_and_close_to_the_targets(
    kind: str, epsilon: float, l0: int
) -> None:
    mechanism = calibrate(epsilon, 1e-6, l0, kind)  # type: ignore[arg-type]
    assert mechanism.epsilon <= epsilon
    assert mechanism.epsilon >= 0.97 * epsilon
    assert mechanism.delta <= 1e-6
    assert verify(mechanism) == (mechanism.epsilon, mechanism.delta)


def test_laplace_calibration_matches_the_measured_figures() -> None:
    # docs/privacy-mechanisms.md and the engineering notes: scale 32, threshold 532.
    mechanism = calibrate(1.0, 1e-6, 32, "laplace")
    assert (mechanism.scale, mechanism.threshold) == (pytest.approx(32.0, rel=1e-4), 532)


def test_gaussian_needs_a_far_lower_threshold_than_laplace() -> None:
    gaussian, laplace = calibrate(1.0, 1e-6, 32), calibrate(1.0, 1e-6, 32, "laplace")
    assert gaussian.threshold < laplace.threshold / 3


def test_a_recorded_mechanism_that_claims_too_little_loss_is_caught() -> None:
    honest = calibrate(1.0, 1e-6, 32)
    claimed = Mechanism(**{**honest.as_dict(), "scale": honest.scale / 2})
    assert verify(claimed)[0] > honest.epsilon


@pytest.mark.parametrize("kind", ["gaussian", "laplace"])
def test_rare_keys_are_not_released_and_common_ones_are(kind: str) -> None:
    mechanism = calibrate(4.0, 1e-6, 1, kind)  # type: ignore[arg-type]
    common = mechanism.threshold * 3
    released = [
        release({"rare-1": 1, "rare-2": 2, "common": common}, mechanism) for _ in range(300)
    ]
    assert sum("rare-1" in r or "rare-2" in r for r in released) <= 3
    assert all("common" in r for r in released)


@pytest.mark.parametrize(("kind", "spread"), [("gaussian", 1.0), ("laplace", 2**0.5)])
def test_noise_is_centred_with_the_declared_scale(kind: str, spread: float) -> None:
    mechanism = calibrate(1.0, 1e-6, 4, kind)  # type: ignore[arg-type]
    true_count = 100 * mechanism.threshold
    noisy = release({f"k{i}": true_count for i in range(4000)}, mechanism)
    noise = [value - true_count for value in noisy.values()]
    assert len(noise) == 4000
    assert abs(statistics.fmean(noise)) < 0.1 * mechanism.scale
    assert statistics.stdev(noise) == pytest.approx(spread * mechanism.scale, rel=0.08)
    # Fresh noise per key, not one draw reused: one value repeated would leave a single value;
    # about 50 distinct integers are typical at this scale, so 20 leaves room for chance.
    assert len(set(noise)) > 20


def test_nothing_in_nothing_out() -> None:
    assert release({}, calibrate(1.0, 1e-6, 32)) == {}


@pytest.mark.parametrize(
    ("epsilon", "delta", "kind", "message"),
    [
        (0.0, 1e-6, "gaussian", "must be a positive finite number"),
        (1.0, 0.0, "gaussian", "strictly between 0 and 1"),
        (1.0, 1e-6, "exponential", "choose one of"),
    ],
)
def test_impossible_targets_are_refused_with_what_to_do(
    epsilon: float, delta: float, kind: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        calibrate(epsilon, delta, 32, kind)  # type: ignore[arg-type]


def test_noise_drawn_on_several_threads_is_fresh_and_has_the_declared_scale() -> None:
    size = 3 * NOISE_DRAWS_PER_THREAD  # as many threads as the machine has CPUs, up to 3
    noise = gaussian_noise(size, 8.0)
    assert noise.shape == (size,) and noise.dtype == np.int64
    assert statistics.stdev(noise.tolist()) == pytest.approx(8.0, rel=0.05)
    parts = np.array_split(noise, 3)
    assert not np.array_equal(parts[0], parts[1]) and not np.array_equal(parts[1], parts[2])
