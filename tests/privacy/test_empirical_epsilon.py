"""The one-run ε lower bound and Secret Sharer exposure, checked against known figures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from askfirst.privacy.empirical_epsilon import (
    epsilon_lower_bound,
    exposure,
    guess_membership,
    largest_checkable_epsilon,
    p_value,
)


def test_a_perfect_hundred_guesses_out_of_a_thousand_canaries_proves_epsilon_3_49() -> None:
    # The figure quoted from Steinke, Nasr and Jagielski (2023) for m = 1,000, r = v = 100.
    assert epsilon_lower_bound(1000, 100, 100) == pytest.approx(3.49, abs=0.01)


def test_delta_weakens_the_bound() -> None:
    assert epsilon_lower_bound(1000, 100, 95, delta=1e-3) < epsilon_lower_bound(1000, 100, 95)


def test_coin_flip_accuracy_proves_nothing() -> None:
    assert epsilon_lower_bound(1000, 1000, 500) == 0.0


def test_an_audit_of_a_thousand_canaries_cannot_prove_more_than_about_5_or_6() -> None:
    assert 4.0 < largest_checkable_epsilon(1000) < 6.0
    assert largest_checkable_epsilon(200) < largest_checkable_epsilon(1000)


def test_p_value_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="correct ≤ guesses ≤ m"):
        p_value(10, 20, 5, 1.0)


def _randomized_response(
    epsilon: float, m: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scores from an exactly ε-DP mechanism: each canary's bit, flipped w.p. 1/(1+e^ε)."""
    included = rng.random(m) < 0.5
    flipped = rng.random(m) < 1.0 / (1.0 + math.exp(epsilon))
    scores = (included ^ flipped).astype(float)
    return scores, included, rng.random(m)


def test_the_bound_stays_below_the_true_epsilon_at_95_percent() -> None:
    # Randomized response is exactly ε-DP and the score is the optimal attack: the bound must
    # exceed ε in at most 5% of runs (here 200 runs; 20 allows for chance, P ≈ 0.001).
    rng = np.random.default_rng(7)
    above = sum(
        guess_membership(*_randomized_response(1.0, 500, rng)).epsilon_lower_bound > 1.0
        for _ in range(200)
    )
    assert above <= 20


def test_the_bound_finds_a_weak_mechanism() -> None:
    rng = np.random.default_rng(8)
    guess = guess_membership(*_randomized_response(6.0, 1000, rng))
    assert guess.epsilon_lower_bound > 3.0
    assert guess.correct <= guess.guesses


def test_ties_give_nothing_away() -> None:
    rng = np.random.default_rng(9)
    included = rng.random(1000) < 0.5
    guess = guess_membership(np.zeros(1000), included, rng.random(1000))
    assert guess.epsilon_lower_bound < 0.5


def test_an_unknown_secret_has_about_log2_e_bits_of_exposure() -> None:
    rng = np.random.default_rng(10)
    mean = np.mean([exposure(rng.random(), rng.random(999)) for _ in range(3000)])
    assert mean == pytest.approx(math.log2(math.e), abs=0.08)
    assert exposure(0.0, [0.0] * 999) == pytest.approx(math.log2(math.e), abs=0.01)


def test_a_memorized_secret_has_full_exposure() -> None:
    assert exposure(1.0, [0.0] * 1023) == pytest.approx(10.0)
