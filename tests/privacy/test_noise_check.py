"""The noise test reads a release's state: too little noise, or bounds past its mechanism's.

Every release here draws OpenDP's exact discrete Gaussian, as production does.
"""

from __future__ import annotations

import numpy as np
import pytest

from askfirst.privacy.mechanisms import calibrate_domain_gaussian, gaussian_noise
from askfirst.privacy.noise_check import ALPHA, NoiseCheck, applied_bounds, check_noise
from askfirst.privacy.noisy_counts import Ints, NoisyCounts

KEYS = 5_000
RHO = 0.05
DELTA = 1e-6
MECHANISM = calibrate_domain_gaussian(RHO, 25, 1)


def release(keys_per_member: int, scale: float, members: int = 300) -> NoisyCounts:
    """A release over KEYS keys where each member moves `keys_per_member` distinct keys by 1."""
    rng = np.random.default_rng(7)
    member_ids = np.repeat(np.arange(members, dtype=np.int64), keys_per_member)
    key_indices = np.concatenate(
        [rng.choice(KEYS, size=keys_per_member, replace=False) for _ in range(members)]
    ).astype(np.int64)
    weights: Ints = np.ones(len(key_indices), dtype=np.int64)
    return NoisyCounts.release(KEYS, member_ids, key_indices, weights, scale=scale)


def checked(state: NoisyCounts, l0: int = 25, seed: int = 0) -> NoiseCheck:
    return check_noise(
        state,
        scale=MECHANISM.scale,
        l0=l0,
        linf=1,
        delta=DELTA,
        rng=np.random.default_rng(seed),
    )


def test_a_release_with_the_recorded_noise_passes() -> None:
    found = checked(release(25, MECHANISM.scale))
    assert not found.flagged
    assert abs(found.variance_ratio - 1.0) < 0.1
    assert (found.applied_l0, found.applied_linf) == (25, 1)
    assert found.keys == KEYS


def test_a_release_with_a_tenth_of_the_recorded_noise_is_flagged() -> None:
    found = checked(release(25, MECHANISM.scale / 10))
    assert found.too_little_noise and found.flagged
    assert found.variance_ratio < 0.02
    assert found.effective_epsilon > 10  # recorded about 1.0 at this ρ and δ


def test_a_mechanism_calibrated_for_one_key_is_flagged_by_the_bounds_applied() -> None:
    one_key = calibrate_domain_gaussian(RHO, 1, 1)
    state = release(25, one_key.scale)
    found = check_noise(
        state, scale=one_key.scale, l0=1, linf=1, delta=DELTA, rng=np.random.default_rng(0)
    )
    assert not found.too_little_noise  # the noise is what it records ...
    assert found.bounds_exceeded and found.flagged  # ... for a sensitivity 5 times too small
    assert found.effective_epsilon > 3 * checked(release(25, MECHANISM.scale)).effective_epsilon


def test_applied_bounds_count_keys_and_weight_per_member_once_each() -> None:
    members = np.array([1, 1, 1, 2, 2], dtype=np.int64)
    keys = np.array([0, 3, 3, 4, 5], dtype=np.int64)  # member 1 moves key 3 twice
    weights = np.array([1, 1, 1, 2, 1], dtype=np.int64)
    state = NoisyCounts.release(6, members, keys, weights, scale=1.0)
    assert applied_bounds(state) == (2, 2)


@pytest.mark.slow  # 200,000 exact draws: seconds on a busy machine
def test_false_alarms_on_honest_releases_are_as_rare_as_the_test_is_set_to() -> None:
    # 40 honest releases of 5,000 keys: at ALPHA = 0.001 a false alarm is expected 0.04 times.
    counts = NoisyCounts.release(
        KEYS, np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), scale=1.0
    )
    flagged = 0
    for trial in range(40):
        noise = gaussian_noise(KEYS, MECHANISM.scale)
        state = NoisyCounts(noise, counts.members, counts.offsets, counts.indices, counts.weights)
        flagged += checked(state, seed=trial).flagged
    assert flagged <= 1
    found = checked(release(25, MECHANISM.scale))
    assert found.false_alarm_rate <= 10 * ALPHA
    assert found.power["0.1"] == 1.0 and found.power["0.5"] == 1.0
